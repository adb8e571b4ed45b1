import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// A PNG whose image data another thread inflates (`PNGInflater`) decodes
/// to the very samples, and profile, that libpng alone decodes; a source
/// that fails or grows past its limit fails the same way.
final class PNGInflaterTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    static let cases = [
        ("rgba8.png", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG32:rgba8.png"),
        ("rgb16.png", "\(ConvertFixture.plasma) -depth 16 PNG48:rgb16.png"),
        ("gray8.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 8 -define png:color-type=0 gray8.png"),
        ("gray-alpha16.png", "\(ConvertFixture.plasma) -colorspace Gray \(ConvertFixture.ramp) -depth 16 -define png:color-type=4 gray-alpha16.png"),
        ("palette-trns.png", "\(ConvertFixture.plasma) -alpha set -channel A -fx 'i<w/2?0:1' +channel -colors 32 PNG8:palette-trns.png"),
        ("adam7.png", "\(ConvertFixture.plasma) -interlace PNG PNG24:adam7.png"),
        ("icc.png", "\(ConvertFixture.plasma) \(ConvertFixture.profile) PNG24:icc.png"),
        // Uncompressed: the data passes through stored twice.
        ("stored.png", "\(ConvertFixture.plasma) -define png:compression-level=0 PNG24:stored.png"),
    ]

    func decode(_ name: String, limit: Int = 1 << 26, aside: Bool) throws -> (pixels: Pixels, iccProfile: [UInt8]?)? {
        let source = try readImageFile(scratch.file(name), limit: limit).content
        return try PNGDecoder.decode(source, scaledTo: (100, 75), inflateAside: aside)
    }

    @Test(arguments: cases)
    func decodesAsLibpngAloneDoes(name: String, make: String) throws {
        try sh(make, directory: scratch.path)
        let alone = try #require(try decode(name, aside: false))
        let aside = try #require(try decode(name, aside: true))
        #expect(aside.pixels.samples == alone.pixels.samples && aside.pixels.channels == alone.pixels.channels)
        #expect(aside.pixels.bitsPerSample == alone.pixels.bitsPerSample)
        #expect(aside.iccProfile == alone.iccProfile)
        if name == "icc.png" { #expect(aside.iccProfile != nil) }
    }

    /// Opened cut short, then grown to its whole length, past the limit: the
    /// inflating thread's refusal is the decode's, as libpng's is alone.
    @Test(arguments: [false, true])
    func sourceGrownPastItsLimitIsTooLarge(aside: Bool) throws {
        try sh("\(ConvertFixture.plasma) -define png:compression-level=0 PNG32:whole.png && head -c 400000 whole.png > plasma.png", directory: scratch.path)
        let source = try readImageFile(scratch.file("plasma.png"), limit: 401_000).content
        try sh("tail -c +400001 whole.png >> plasma.png", directory: scratch.path)
        #expect {
            try PNGDecoder.decode(source, scaledTo: (100, 75), inflateAside: aside)
        } throws: { ($0 as? ThumbnailError)?.kind == .tooLarge }
    }
}
