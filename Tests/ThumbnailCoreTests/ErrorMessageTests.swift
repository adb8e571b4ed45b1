import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The one line an error gets: what failed, as the user named it, and why.
struct ErrorMessageTests {
    /// A truncated JPEG named by the operand the user gave, with libjpeg's
    /// reason and nothing of ImageMagick's own file name or source code.
    @Test func aSourceErrorNamesTheOperand() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try sh("convert -size 200x100 plasma: whole.jpg && head -c 3000 whole.jpg > cut.jpg", directory: scratch.path)
        let operand = scratch.file("cut.jpg")
        let outcome = try runInProcess(["-s", "50", operand])
        #expect(outcome.status == 65)
        #expect(outcome.error == "thumbnail: \(operand): Premature end of JPEG file\n")
        let piped = try runInProcess(["-s", "50", "-"], input: try Data(contentsOf: URL(fileURLWithPath: operand)))
        #expect(piped.error == "thumbnail: stdin: Premature end of JPEG file\n")
        let path = try runInProcess(["-r", scratch.path, "/thumbnail/50x50/cut.jpg"])
        #expect(path.error == "thumbnail: /thumbnail/50x50/cut.jpg: Premature end of JPEG file\n")
    }

    @Test func imageMagicksCoordinatesAreDropped() {
        #expect(plainReason("Premature end of JPEG file `source' @ warning/jpeg.c/JPEGWarningHandler/389") == "Premature end of JPEG file")
        #expect(plainReason("improper image header `source[0]' @ error/png.c/ReadPNGImage/4295") == "improper image header")
        #expect(plainReason("cache resources exhausted `' @ error/cache.c/OpenPixelCache/4095") == "cache resources exhausted")
        // An at sign that is no code location stays.
        #expect(plainReason("user @ host") == "user @ host")
    }

    /// A library loaded at run time that is not there: one error, one shape, for each of the four.
    @Test func aMissingLibraryIsOneError() {
        let absent = "libheif.so.1: cannot open shared object file: No such file or directory"
        let error = OptionalLibrary.heif.missing(absent)
        #expect(error.kind == .encoderMissing && error.exitStatus == 69 && error.httpStatus == 503 && error.statuses.originFailure)
        #expect(error.description == "libheif.so.1: not installed (Debian package libheif1); needed for HEIC and AVIF")
        let old = OptionalLibrary.curl.missing("/usr/lib/x86_64-linux-gnu/libcurl.so.4: undefined symbol: curl_easy_init")
        #expect(
            old.description
                == "libcurl.so.4: unusable: /usr/lib/x86_64-linux-gnu/libcurl.so.4: undefined symbol: curl_easy_init "
                + "(Debian package libcurl4); needed for s3:// and https:// roots and --batch --base")
        #expect(OptionalLibrary.tiff.missing(absent).description.hasSuffix("(Debian package libtiff6); needed for TIFF sources"))
        #expect(OptionalLibrary.crypto.missing(absent).kind == .encoderMissing)
    }
}
