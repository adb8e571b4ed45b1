import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// Real-photograph concerns: orientation, colour, alpha, animation, hostile and broken files.
final class RenderingTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    var root: [String] { ["-r", scratch.path] }

    /// `(r, g, b)` of one pixel, by `convert`.
    func pixel(_ path: String, _ x: Int, _ y: Int) throws -> [Int] {
        let text = try sh("convert '\(path)' -colorspace sRGB -format '%[fx:int(255*p{\(x),\(y)}.r)],%[fx:int(255*p{\(x),\(y)}.g)],%[fx:int(255*p{\(x),\(y)}.b)]' info:")
        return text.split(separator: ",").compactMap { Int($0) }
    }

    func close(_ actual: [Int], _ expected: [Int], within tolerance: Int = 40) -> Bool {
        actual.count == expected.count && zip(actual, expected).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test(arguments: [
        (1, ""), (2, "-flop"), (3, "-rotate 180"), (4, "-flip"), (5, "-transpose"), (6, "-rotate 270"),
        (7, "-transverse"), (8, "-rotate 90"),
    ])
    func exifOrientationComesOutUpright(orientation: UInt8, storedAs operation: String) throws {
        // Upright: 40x20, red square top left, blue square top right. Stored: turned
        // the way a camera with this orientation would have stored it.
        try sh(
            """
            convert -size 40x20 xc:white -fill red -draw 'rectangle 0,0 7,7' -fill blue \
              -draw 'rectangle 32,0 39,7' \(operation) -quality 95 stored.jpg
            """, directory: scratch.path)
        let stored = try Data(contentsOf: URL(fileURLWithPath: scratch.file("stored.jpg")))
        try settingOrientation(stored, orientation).write(to: URL(fileURLWithPath: scratch.file("photo.jpg")))
        #expect(try sh("identify -format '%[orientation]' photo.jpg", directory: scratch.path) != "Undefined")

        let png = scratch.file("upright.png")
        let outcome = try runInProcess(root + ["-o", png, "/thumbnail/100x100/png/photo.jpg"])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(try dimensions(png) == "40x20")
        #expect(close(try pixel(png, 3, 3), [255, 0, 0]), "red corner moved")
        #expect(close(try pixel(png, 36, 3), [0, 0, 255]), "blue corner moved")
        #expect(close(try pixel(png, 20, 16), [255, 255, 255]))

        let jpeg = scratch.file("upright.jpg")
        try runInProcess(root + ["-o", jpeg, "/thumbnail/100x100/photo.jpg"])
        #expect(try sh("identify -format '%[orientation]|%[EXIF:*]' '\(jpeg)'") == "Undefined|")
    }

    /// A crop box the source does not cover scales it up, as plain and smart crops alike.
    @Test(arguments: ["x.jpg", "x.png", "x.webp"], ["crop", "crop,smart", "crop,n"])
    func cropScalesASmallSourceUp(source: String, options: String) throws {
        try sh("convert -seed 9 -size 400x240 plasma: \(source)", directory: scratch.path)
        let output = scratch.file("up-\(options)-\(source).png")
        let outcome = try runInProcess(root + ["-o", output, "/thumbnail/251x300,\(options)/png/\(source)"])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(try dimensions(output) == "251x300")
    }

    /// A directory whose name starts with a combining mark is still inside the root.
    @Test func aNameStartingWithACombiningMarkIsInsideTheRoot() throws {
        try sh("mkdir -p '\u{301}dir' && convert -size 20x10 xc:red '\u{301}dir/a.png'", directory: scratch.path)
        let outcome = try runInProcess(root + ["/thumbnail/10x10/%CC%81dir/a.png"])
        #expect(outcome.status == 0, "\(outcome.error)")
    }

    @Test func cmykJPEGComesOutSRGB() throws {
        try sh("convert -size 64x64 xc:red -colorspace CMYK cmyk.jpg", directory: scratch.path)
        #expect(try sh("identify -format '%[colorspace]' cmyk.jpg", directory: scratch.path) == "CMYK")
        for format in ["jpeg", "png", "webp"] {
            let output = scratch.file("cmyk-out.\(format)")
            let outcome = try runInProcess(root + ["-o", output, "/thumbnail/32x32/\(format)/cmyk.jpg"])
            #expect(outcome.status == 0, "\(outcome.error)")
            #expect(try sh("identify -format '%[colorspace]' '\(output)'") == "sRGB")
            #expect(close(try pixel(output, 5, 5), [255, 0, 0]))
        }
    }

    @Test func iccTaggedSourceIsConvertedThenStripped() throws {
        // Green in Adobe RGB (1998) has other numbers than the same green in sRGB.
        let profiles = "/usr/share/color/icc/ghostscript"
        try sh(
            """
            convert -size 64x64 xc:'rgb(0,200,0)' -profile \(profiles)/srgb.icc -profile \(profiles)/a98.icc a98.jpg
            convert a98.jpg -define webp:lossless=true a98.webp
            """, directory: scratch.path)
        #expect(!close(try pixel(scratch.file("a98.jpg"), 5, 5), [0, 200, 0], within: 30))
        for source in ["a98.jpg", "a98.webp"] {
            for format in ["jpeg", "png", "webp"] {
                let output = scratch.file("a98-out.\(format)")
                let outcome = try runInProcess(root + ["-o", output, "/thumbnail/32x32/\(format)/\(source)"])
                #expect(outcome.status == 0, "\(outcome.error)")
                #expect(close(try pixel(output, 5, 5), [0, 200, 0], within: 12), "\(source) as \(format)")
                #expect(try sh("identify -verbose '\(output)' | grep -ci -E 'profile|icc|exif' || true") == "0")
            }
        }
    }

    @Test func sixteenBitAndGraySourcesComeOutEightBit() throws {
        try sh(
            """
            convert -size 64x64 gradient:red-blue -depth 16 deep.png
            convert -size 64x64 gradient:white-black -colorspace gray gray.jpg
            """, directory: scratch.path)
        for (source, format) in [("deep.png", "png"), ("gray.jpg", "jpeg"), ("gray.jpg", "png")] {
            let output = scratch.file("eight-\(source).\(format)")
            let outcome = try runInProcess(root + ["-o", output, "/thumbnail/32x32/\(format)/\(source)"])
            #expect(outcome.status == 0, "\(outcome.error)")
            #expect(try sh("identify -format '%z' '\(output)'") == "8")
        }
        #expect(close(try pixel(scratch.file("eight-gray.jpg.png"), 16, 1), [255, 255, 255], within: 20))
    }

    /// Sources ten times the output: WebP decodes scaled by libwebp, PNG and GIF shrink by box first.
    @Test func transparencyFlattensOntoTheBackgroundForJPEGOnly() throws {
        try sh(
            """
            convert -size 400x400 xc:none -fill red -draw 'rectangle 0,0 199,399' alpha.png
            convert alpha.png alpha.webp
            convert alpha.png alpha.gif
            """, directory: scratch.path)
        for source in ["alpha.png", "alpha.webp", "alpha.gif"] {
            let white = scratch.file("white.jpg")
            #expect(try runInProcess(root + ["-o", white, "/thumbnail/40x40/jpeg/\(source)"]).status == 0)
            #expect(close(try pixel(white, 30, 20), [255, 255, 255]), "\(source): transparent became not white")
            #expect(close(try pixel(white, 5, 20), [255, 0, 0]))
            let green = scratch.file("green.jpg")
            #expect(try runInProcess(root + ["-o", green, "/thumbnail/40x40,bg00ff00/jpeg/\(source)"]).status == 0)
            #expect(close(try pixel(green, 30, 20), [0, 255, 0]))
        }
        for format in ["png", "webp"] {
            let output = scratch.file("kept.\(format)")
            #expect(try runInProcess(root + ["-o", output, "/thumbnail/40x40/\(format)/alpha.png"]).status == 0)
            #expect(try sh("convert '\(output)' -format '%[fx:int(255*p{30,20}.a)]' info:") == "0")
        }
    }

    @Test func animationGivesItsFirstFrame() throws {
        try sh(
            "convert -delay 10 -size 60x30 xc:red xc:lime xc:blue anim.gif && convert anim.gif anim.webp",
            directory: scratch.path)
        for source in ["anim.gif", "anim.webp"] {
            let output = scratch.file("first-\(source).png")
            let outcome = try runInProcess(root + ["-o", output, "/thumbnail/30x30/png/\(source)"])
            #expect(outcome.status == 0, "\(outcome.error)")
            #expect(try sh("identify '\(output)' | wc -l") == "1")
            #expect(close(try pixel(output, 5, 5), [255, 0, 0]))
        }
    }

    @Test func imageMagickPolicyDeniesEveryOtherCoder() {
        // HEIC and AVIF too: libheif decodes those sources itself.
        for coder in ["SVG", "MVG", "MSL", "PS", "EPS", "PDF", "TXT", "URL", "HTTPS", "LABEL", "XC", "MIFF", "EPHEMERAL", "HEIC", "AVIF"] {
            #expect(!Wand.mayRead(coder), "\(coder) is readable")
        }
        for coder in allowedCoders { #expect(Wand.mayRead(coder), "\(coder) is not readable") }
    }

    @Test(arguments: [
        ("svg.jpg", #"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>"#),
        ("mvg.jpg", "push graphic-context\nviewbox 0 0 9 9\nimage over 0,0 0,0 'label:@/etc/passwd'\npop graphic-context\n"),
        ("msl.jpg", #"<?xml version="1.0"?><image><read filename="/etc/passwd"/><write filename="/tmp/x.png"/></image>"#),
        ("image.ps", "%!PS-Adobe-3.0\n/Times findfont 10 scalefont setfont 0 0 moveto (x) show showpage\n"),
        ("notes.jpg", "just some text\n"),
        ("empty.jpg", ""),
        ("url.jpg", "url:http://127.0.0.1:1/x.jpg"),
        ("tricky.jpg", "GIF8"),
    ])
    func hostileFilesAreRefusedBeforeImageMagick(name: String, content: String) throws {
        try content.write(toFile: scratch.file(name), atomically: true, encoding: .utf8)
        let output = scratch.file("never.jpg")
        let outcome = try runInProcess(root + ["-o", output, "-s", "10x10", name])
        #expect(outcome.status == 65, "\(name): \(outcome.error)")
        #expect(outcome.error.contains("not a JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF image"))
        #expect(try scratch.contents() == [name])
    }

    @Test func truncatedAndCorruptFilesExit65() throws {
        try sh(
            """
            convert -seed 3 -size 400x300 plasma: whole.jpg
            head -c $(( $(stat -c %s whole.jpg) / 2 )) whole.jpg > half.jpg
            head -c 20 whole.jpg > header-only.jpg
            convert -seed 3 -size 400x300 plasma: whole.png
            head -c $(( $(stat -c %s whole.png) / 2 )) whole.png > half.png
            convert -seed 3 -size 400x300 plasma: -profile /usr/share/color/icc/ghostscript/srgb.icc whole.webp
            head -c $(( $(stat -c %s whole.webp) / 2 )) whole.webp > half.webp
            """, directory: scratch.path)
        for name in ["whole.jpg", "whole.png", "whole.webp"] {
            #expect(try runInProcess(root + ["-s", "50x50", name]).status == 0)
        }
        for name in ["half.jpg", "header-only.jpg", "half.png", "half.webp"] {
            let output = scratch.file("out-\(name)")
            let outcome = try runInProcess(root + ["-o", output, "-s", "50x50", name])
            #expect(outcome.status == 65, "\(name): \(outcome.error)")
            #expect(outcome.error.split(separator: "\n").count == 1)
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }

    /// jpegtran rewrites the same coefficients as a progressive file, so any
    /// difference between the twins' thumbnails comes from the scans left out
    /// at 1/8 scale (100x100 here; 400x400 decodes at 1/2 and keeps them all).
    @Test(arguments: ["-sampling-factor 2x2", "-sampling-factor 1x1", "-colorspace Gray", "-colorspace CMYK"])
    func progressiveJPEGRendersAsItsBaselineTwin(_ settings: String) throws {
        try sh(
            """
            convert -seed 11 -size 1600x1000 plasma: \(settings) -quality 90 baseline.jpg
            jpegtran -progressive baseline.jpg > progressive.jpg
            head -c $(( $(stat -c %s progressive.jpg) - 2000 )) progressive.jpg > truncated.jpg
            """, directory: scratch.path)
        for arguments in [["-s", "100x100"], ["-s", "120x50", "--crop"], ["-s", "400x400"], ["-s", "x90", "-f", "png"]] {
            let baseline = try runInProcess(root + arguments + ["baseline.jpg"])
            let progressive = try runInProcess(root + arguments + ["progressive.jpg"])
            #expect(baseline.status == 0 && progressive.status == 0, "\(progressive.error)")
            #expect(!baseline.output.isEmpty && baseline.output == progressive.output, "\(settings) \(arguments)")
        }
        let outcome = try runInProcess(root + ["-s", "100x100", "truncated.jpg"])
        #expect(outcome.status == 65, "\(outcome.error)")
    }

    @Test func largeDownscalesStayCloseToLanczosOverEveryPixel() throws {
        // Half plasma, half a one-pixel checkerboard that any sampling shortcut aliases.
        try sh(
            """
            convert -seed 5 -size 1600x1000 plasma: \\( -size 800x1000 pattern:gray50 \\) -geometry +800+0 -composite detail.png
            convert detail.png -filter Lanczos -resize 100x100 lanczos.png
            """, directory: scratch.path)
        let output = scratch.file("small.png")
        #expect(try runInProcess(root + ["-o", output, "/thumbnail/100x100/detail.png"]).status == 0)
        // compare prints the PSNR on stderr and exits 1 when the images differ at all.
        let psnr = try sh("compare -metric PSNR lanczos.png '\(output)' null: 2>&1 || true", directory: scratch.path)
        #expect((Double(psnr) ?? 0) >= 45, "PSNR \(psnr) dB against Lanczos alone")
    }

    /// libwebp scales while it decodes (area averaging, in YUV): the result
    /// must stay close to ImageMagick's full decode followed by Lanczos.
    @Test(arguments: ["-quality 90", "-define webp:lossless=true"])
    func largeWebPDecodedScaledStaysCloseToAFullDecode(_ settings: String) throws {
        try sh(
            """
            convert -seed 5 -size 1600x1000 plasma: \\( -size 800x1000 pattern:gray50 \\) -geometry +800+0 -composite \(settings) big.webp
            convert big.webp -filter Lanczos -resize 100x100 lanczos.png
            """, directory: scratch.path)
        let output = scratch.file("small.png")
        #expect(try runInProcess(root + ["-o", output, "/thumbnail/100x100/png/big.webp"]).status == 0)
        #expect(try dimensions(output) == "100x63")
        let psnr = try sh("compare -metric PSNR lanczos.png '\(output)' null: 2>&1 || true", directory: scratch.path)
        #expect((Double(psnr) ?? 0) >= 40, "PSNR \(psnr) dB against a full decode and Lanczos")
    }

    /// Runs the binary under GNU time: exit status, seconds, peak memory in KiB.
    func measured(_ arguments: [String]) throws -> (status: Int32, seconds: Double, kilobytes: Int, error: String) {
        let report = scratch.file("time.txt")
        let outcome = try runProcess("/usr/bin/time", ["-o", report, "-f", "%e %M", thumbnailBinary] + arguments)
        // GNU time may write "Command exited with non-zero status N" first.
        let fields = try String(contentsOfFile: report, encoding: .utf8).split(whereSeparator: \.isWhitespace)
        let seconds = fields.count >= 2 ? Double(fields[fields.count - 2]) : nil
        let kilobytes = fields.last.flatMap { Int($0) }
        #expect(seconds != nil && kilobytes != nil, "GNU time wrote \(fields)")
        return (outcome.status, seconds ?? .infinity, kilobytes ?? .max, outcome.error)
    }

    @Test func decompressionBombsAreRefusedQuicklyInLittleMemory() throws {
        // PNGs whose headers claim 100000x100000 (beyond ImageMagick's own width
        // limit) and 10000x10000 (within it, beyond ours), and a GIF with 5000 frames.
        try sh(
            """
            python3 - <<'EOF'
            import struct, zlib
            def chunk(kind, data):
                return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
            for side, name in [(100000, 'huge.png'), (10000, 'bomb.png')]:
                ihdr = struct.pack('>IIBBBBB', side, side, 8, 2, 0, 0, 0)
                idat = zlib.compress(b'\\0' * (3 * side + 1), 9)
                open(name, 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat) + chunk(b'IEND', b''))
            frame = b'\\x2c' + struct.pack('<HHHH', 0, 0, 1000, 1000) + b'\\x00' + b'\\x02\\x02\\x4c\\x01\\x00'
            head = b'GIF89a' + struct.pack('<HH', 1000, 1000) + b'\\x80\\x00\\x00' + b'\\x00\\x00\\x00\\xff\\xff\\xff'
            open('frames.gif', 'wb').write(head + frame * 5000 + b'\\x3b')
            EOF
            """, directory: scratch.path)
        for (name, reason) in [
            ("huge.png", "100000x100000 exceeds the limit of 50000000 pixels"),
            ("bomb.png", "10000x10000 exceeds the limit of 50000000 pixels"),
            ("frames.gif", "5000 frames exceeds the limit of 1000"),
        ] {
            let run = try measured(root + ["-s", "100x100", "-o", scratch.file("bomb-out.png"), name])
            #expect(run.status == 65, "\(name): \(run.error)")
            #expect(run.error.contains(reason), "\(name): \(run.error)")
            #expect(run.seconds < 1.0, "\(name) took \(run.seconds) s")
            #expect(run.kilobytes < 100 * 1024, "\(name) peaked at \(run.kilobytes) KiB")
        }
        let small = try measured(root + ["-s", "100x100", "--max-bytes", "100", "-o", scratch.file("x.png"), "bomb.png"])
        #expect(small.status == 65)
        #expect(small.error.contains("exceeds the limit of 100"))
    }

    @Test func everyFormatIsByteIdenticalAcrossRunsAndCarriesNoMetadata() throws {
        try makeFixtures(in: scratch)
        // A source full of metadata: EXIF, a comment, an ICC profile.
        try sh(
            "convert landscape.jpg -set comment 'secret comment' -profile /usr/share/color/icc/ghostscript/srgb.icc meta.jpg",
            directory: scratch.path)
        var first: [String: Data] = [:]
        for format in OutputFormat.allCases.map(\.rawValue) {
            let outcome = try runInProcess(root + ["/thumbnail/120x120/\(format)/meta.jpg"])
            #expect(outcome.status == 0, "\(format): \(outcome.error)")
            #expect(outcome.output.count > 100, "\(format): no image came out")
            first[format] = outcome.output
        }
        sleep(2)  // a second later, so any timestamp would differ
        for format in OutputFormat.allCases.map(\.rawValue) {
            let outcome = try runInProcess(root + ["/thumbnail/120x120/\(format)/meta.jpg"])
            #expect(outcome.status == 0, "\(format): \(outcome.error)")
            let again = outcome.output
            #expect(again == first[format], "\(format) differs between runs")
            let text = String(decoding: again, as: UTF8.self)
            for marker in ["secret comment", "date:", "Thumb::", "ImageMagick", "tIME", "Exif", "ICC_PROFILE", "software"] {
                #expect(!text.contains(marker), "\(format) output carries \(marker)")
            }
        }
    }
}
