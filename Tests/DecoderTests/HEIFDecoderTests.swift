import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// HEIC and AVIF sources decoded by libheif and averaged down as their rows
/// come, against ImageMagick's HEIC coder reading the whole file and resizing
/// it, as every HEIC and AVIF was rendered before: the same pixels within 40
/// dB PSNR. That coder reads neither an alpha plane nor an ICC profile, so
/// for those the whole file is decoded by libheif's heif-convert instead.
/// Then the container's orientation, and the thumbnail items.
final class HEIFDecoderTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    /// The whole file as ImageMagick's HEIC coder decodes it, or as libheif's heif-convert does.
    static let byImageMagick = "convert source PNG48:whole.png"
    static let byLibheif = "heif-convert source whole.png >/dev/null"

    static let cases = [
        ("rgb8.heic", "\(ConvertFixture.plasma) -depth 8 PNG24:in.png && heif-enc -q 90 in.png -o rgb8.heic", byImageMagick),
        // A 16-bit PNG becomes 10-bit HEVC.
        ("rgb10.heic", "\(ConvertFixture.plasma) -depth 16 PNG48:in.png && heif-enc -q 90 in.png -o rgb10.heic", byImageMagick),
        ("convert.heic", "\(ConvertFixture.plasma) -quality 90 convert.heic", byImageMagick),
        // BT.709 in limited range; 4:4:4; gray (monochrome HEVC).
        ("bt709-limited.heic", "\(ConvertFixture.plasma) -depth 8 PNG24:in.png && heif-enc -q 90 --matrix_coefficients=1 --full_range_flag=0 in.png -o bt709-limited.heic", byLibheif),
        ("yuv444.heic", "\(ConvertFixture.plasma) -depth 8 PNG24:in.png && heif-enc -q 90 -p chroma=444 in.png -o yuv444.heic", byImageMagick),
        ("gray.heic", "\(ConvertFixture.plasma) -colorspace Gray -depth 8 -define png:color-type=0 in.png && heif-enc -q 90 in.png -o gray.heic", byLibheif),
        ("rgba.heic", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG32:in.png && heif-enc -q 90 in.png -o rgba.heic", byLibheif),
        ("rgba10.heic", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG64:in.png && heif-enc -q 90 in.png -o rgba10.heic", byLibheif),
        ("icc.heic", "\(ConvertFixture.plasma) -depth 8 \(ConvertFixture.profile) PNG24:in.png && heif-enc -q 90 in.png -o icc.heic", byLibheif),
        ("rgb8.avif", "\(ConvertFixture.plasma) -depth 8 PNG24:in.png && heif-enc -A -q 90 in.png -o rgb8.avif", byImageMagick),
        ("yuv444.avif", "\(ConvertFixture.plasma) -depth 8 PNG24:in.png && heif-enc -A -q 90 -p chroma=444 in.png -o yuv444.avif", byImageMagick),
        ("rgba.avif", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG32:in.png && heif-enc -A -q 90 in.png -o rgba.avif", byLibheif),
        // 10-bit AVIF by libavif's avifenc: heif-enc fails an assertion in Debian's libaom writing one.
        ("rgb10.avif", "\(ConvertFixture.plasma) -depth 16 PNG48:in.png && avifenc -d 10 --min 0 --max 10 in.png rgb10.avif >/dev/null", byLibheif),
        ("rgba10.avif", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG64:in.png && avifenc -d 10 --min 0 --max 10 in.png rgba10.avif >/dev/null", byLibheif),
    ]

    /// `whole.png`, read whole by ImageMagick, resized and converted to sRGB as planned for `request`.
    func wholeFileRender(_ bytes: [UInt8], request: ThumbnailRequest) throws -> [UInt8] {
        let plan = try imageMagickAlone { try Renderer.plan(request, source: try SourceFile(identifying: bytes), limits: Limits()) }
        var wand = try Wand()
        try wand.read(try scratch.bytes("whole.png"), coder: "PNG")
        try Renderer.resize(&wand, to: (plan.layout.resizeWidth, plan.layout.resizeHeight))
        try wand.convertToSRGB()
        return try wand.encode(coder: "PNG", quality: nil)
    }

    /// At each size the source is averaged down while it decodes (it is more than
    /// 1.25 times each). Closer, Lanczos keeps what ImageMagick's HEIC coder and
    /// libheif's planes decode differently: 37.5 dB for yuv444.avif at 560x560.
    @Test(arguments: cases)
    func matchesWholeFileRender(name: String, make: String, whole: String) throws {
        try sh(make, directory: scratch.path)
        try sh(whole.replacingOccurrences(of: "source", with: name), directory: scratch.path)
        let bytes = try scratch.bytes(name)
        for box in [60, 200, 400] {
            var request = ThumbnailRequest(size: BoxSize(width: box, height: box), source: try SourcePath(filePath: name))
            request.format = .png
            let rendered = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }.bytes
            try expectAlike(
                rendered: rendered, whole: try wholeFileRender(bytes, request: request), in: scratch, "\(name) at \(box)",
                alphaExpected: name.hasPrefix("rgba"))
        }
    }

    /// An image marked as holding colours multiplied by alpha renders as
    /// the same image stored straight: libheif hands the colours out as
    /// stored, and they are divided back.
    @Test func premultipliedAlphaIsDividedBack() throws {
        try sh(
            """
            \(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG32:straight.png && convert straight.png -alpha Associate PNG32:prem.png \
              && heif-enc -q 90 straight.png -o straight.heic && heif-enc --premultiplied-alpha -q 90 prem.png -o prem.heic
            """, directory: scratch.path)
        #expect(try sh("heif-info prem.heic", directory: scratch.path).contains("premultiplied"))
        for name in ["straight", "prem"] {
            var request = ThumbnailRequest(size: BoxSize(width: 60, height: 60), source: try SourcePath(filePath: "\(name).heic"))
            request.format = .png
            let bytes = try scratch.bytes("\(name).heic")
            let rendered = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }.bytes
            try Data(rendered).write(to: URL(fileURLWithPath: scratch.file("\(name)-60.png")))
            try sh("convert \(name)-60.png -background white -flatten \(name)-flat.png", directory: scratch.path)
            try sh("convert \(name)-60.png -alpha extract \(name)-alpha.png", directory: scratch.path)
        }
        let colours = try psnr("prem-flat.png", "straight-flat.png", in: scratch.path)
        #expect(colours >= 40, "\(colours) dB")
        let alpha = try psnr("prem-alpha.png", "straight-alpha.png", in: scratch.path)
        #expect(alpha >= 40, "alpha \(alpha) dB")
    }

    /// `bytes` with its first `pixi` property (16 bytes for three channels)
    /// overwritten by `box` of the same length: the item it was associated
    /// with now has that transformation. heif-enc writes no `irot` or `imir`.
    func replacingPixi(_ bytes: [UInt8], with box: String, value: UInt8) throws -> [UInt8] {
        let pixi: [UInt8] = [0, 0, 0, 16] + Array("pixi".utf8)
        let start = try #require((0..<bytes.count - 16).first { bytes[$0..<$0 + 8].elementsEqual(pixi) })
        let property: [UInt8] = [0, 0, 0, 16] + Array(box.utf8) + [value] + [UInt8](repeating: 0, count: 7)
        return Array(bytes[..<start]) + property + Array(bytes[(start + 16)...])
    }

    /// `(r, g, b)` of one pixel, by `convert`.
    func pixel(_ file: String, _ x: Int, _ y: Int) throws -> [Int] {
        try sh("convert \(file) -format '%[fx:int(255*p{\(x),\(y)}.r)],%[fx:int(255*p{\(x),\(y)}.g)],%[fx:int(255*p{\(x),\(y)}.b)]' info:", directory: scratch.path)
            .split(separator: ",").compactMap { Int($0) }
    }

    /// 40x20, red square top left, blue top right, stored from a JPEG whose
    /// EXIF orientation (6, turn 90° clockwise) heif-enc keeps, then given an
    /// `irot` (90° anticlockwise) or an `imir`: the output is as libheif's
    /// heif-convert decodes it, the container's transformation applied and
    /// the EXIF orientation not applied on top.
    @Test(arguments: [("heic", "irot", 20, 40), ("heic", "imir", 40, 20), ("avif", "irot", 20, 40), ("avif", "imir", 40, 20)])
    func containerOrientationWinsOverExif(format: String, box: String, width: Int, height: Int) throws {
        try sh(
            """
            convert -size 40x20 xc:white -fill red -draw 'rectangle 0,0 7,7' -fill blue \
              -draw 'rectangle 32,0 39,7' -quality 95 stored.jpg
            """, directory: scratch.path)
        let stored = try Data(contentsOf: URL(fileURLWithPath: scratch.file("stored.jpg")))
        try settingOrientation(stored, 6).write(to: URL(fileURLWithPath: scratch.file("photo.jpg")))
        try sh("heif-enc \(format == "avif" ? "-A" : "") -q 95 -p chroma=444 photo.jpg -o photo.\(format)", directory: scratch.path)
        #expect(try sh("heif-info photo.\(format)", directory: scratch.path).contains("Exif"))
        let name = "turned.\(format)"
        let bytes = try replacingPixi(try scratch.bytes("photo.\(format)"), with: box, value: 1)
        try Data(bytes).write(to: URL(fileURLWithPath: scratch.file(name)))
        try sh("heif-convert \(name) reference.png >/dev/null", directory: scratch.path)
        #expect(try dimensions(scratch.file("reference.png")) == "\(width)x\(height)")

        var request = ThumbnailRequest(size: BoxSize(width: 100, height: 100), source: try SourcePath(filePath: name))
        request.format = .png
        let plan = try imageMagickAlone { try Renderer.plan(request, source: try SourceFile(identifying: bytes), limits: Limits()) }
        #expect((plan.sourceWidth, plan.sourceHeight, plan.orientation) == (width, height, 1))
        let rendered = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }.bytes
        try Data(rendered).write(to: URL(fileURLWithPath: scratch.file("rendered.png")))
        #expect(try dimensions(scratch.file("rendered.png")) == "\(width)x\(height)")
        for (x, y) in [(3, 3), (width - 4, 3), (3, height - 4), (width - 4, height - 4)] {
            let ours = try pixel("rendered.png", x, y), theirs = try pixel("reference.png", x, y)
            #expect(zip(ours, theirs).allSatisfy { abs($0 - $1) <= 40 }, "\(box) at \(x),\(y): \(ours), not \(theirs)")
        }
    }

    /// Two images with 64x40 thumbnail items, the primary one red, the other
    /// blue, their thumbnails swapped (the `thmb` references' item IDs): a
    /// blue output says the thumbnail item was decoded, a red one the primary.
    @Test func thumbnailItemLargeEnoughIsDecodedInstead() throws {
        try sh(
            """
            convert -size 256x160 xc:red -depth 8 PNG24:red.png && convert -size 256x160 xc:blue -depth 8 PNG24:blue.png \
              && heif-enc -q 80 --thumb 64 red.png blue.png -o two.heic
            """, directory: scratch.path)
        var bytes = try scratch.bytes("two.heic")
        let thmb = Array("thmb".utf8)
        let references = (0..<bytes.count - 6).filter { bytes[$0..<$0 + 4].elementsEqual(thmb) }
        try #require(references.count == 2)
        // After the type: the thumbnail's item ID (2 bytes), a count, the image's ID.
        let (first, second) = (references[0] + 4, references[1] + 4)
        (bytes[first], bytes[first + 1], bytes[second], bytes[second + 1]) =
            (bytes[second], bytes[second + 1], bytes[first], bytes[first + 1])
        try Data(bytes).write(to: URL(fileURLWithPath: scratch.file("swapped.heic")))

        for (box, size, colour) in [(32, "32x20", [0, 0, 255]), (64, "64x40", [0, 0, 255]), (65, "65x41", [255, 0, 0])] {
            var request = ThumbnailRequest(size: BoxSize(width: box, height: box), source: try SourcePath(filePath: "swapped.heic"))
            request.format = .png
            let rendered = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }.bytes
            try Data(rendered).write(to: URL(fileURLWithPath: scratch.file("rendered.png")))
            #expect(try dimensions(scratch.file("rendered.png")) == size)
            let centre = try pixel("rendered.png", 10, 10)
            #expect(zip(centre, colour).allSatisfy { abs($0 - $1) <= 40 }, "at \(box): \(centre), not \(colour)")
        }
        // Crop covers the box: a 64x64 crop needs 102x64 of the source, more than the thumbnail.
        var crop = ThumbnailRequest(size: BoxSize(width: 64, height: 64), source: try SourcePath(filePath: "swapped.heic"))
        crop.mode = .crop
        crop.format = .png
        let rendered = try imageMagickAlone { try Renderer.render(crop, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }.bytes
        try Data(rendered).write(to: URL(fileURLWithPath: scratch.file("crop.png")))
        #expect(zip(try pixel("crop.png", 10, 10), [255, 0, 0]).allSatisfy { abs($0 - $1) <= 40 })
    }

    /// A primary image without its `ispe` property (its size), which libheif
    /// then calls 0x0, is refused before a layout is planned for it: a crop
    /// would scale it by infinity, and trapped.
    @Test func primaryImageWithoutASizeIsUndecodable() throws {
        try sh("\(ConvertFixture.plasma) -depth 8 PNG24:in.png && heif-enc -q 60 in.png -o in.heic", directory: scratch.path)
        var bytes = try scratch.bytes("in.heic")
        // Renamed, the property is one libheif does not know, and ignores.
        let ispe = try #require((0..<bytes.count - 4).first { bytes[$0..<$0 + 4].elementsEqual("ispe".utf8) })
        bytes.replaceSubrange(ispe..<ispe + 4, with: "ispx".utf8)
        var request = ThumbnailRequest(size: BoxSize(width: 60, height: 60), source: try SourcePath(filePath: "in.heic"))
        request.mode = .crop
        let refused = thrown { _ = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) } }
        #expect(refused?.kind == .undecodable, "\(String(describing: refused))")
    }

    /// The header's dimensions are checked against the pixel limit before
    /// anything decodes; libheif's message comes through for a broken file.
    @Test func limitsAndFailures() throws {
        try sh("\(ConvertFixture.plasma) -depth 8 PNG24:in.png && heif-enc -q 60 in.png -o in.heic", directory: scratch.path)
        let bytes = try scratch.bytes("in.heic")
        let request = ThumbnailRequest(size: BoxSize(width: 60, height: 60), source: try SourcePath(filePath: "in.heic"))
        var limits = Limits()
        limits.maxPixels = 640 * 480 - 1
        let tooLarge = thrown { _ = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: limits, threads: 1) } }
        #expect(tooLarge?.kind == .tooLarge && tooLarge?.reason == "640x480 exceeds the limit of 307199 pixels")
        // Under a side of the image, libheif itself refuses it while reading.
        limits.maxPixels = 479
        let refused = thrown { _ = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: limits, threads: 1) } }
        #expect(refused?.kind == .tooLarge && refused?.reason.hasPrefix("libheif: ") == true, "\(String(describing: refused))")

        let truncated = Array(bytes.prefix(bytes.count / 2))
        let broken = thrown { _ = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: truncated), limits: Limits(), threads: 1) } }
        #expect(broken?.kind == .undecodable && broken?.reason.hasPrefix("libheif: ") == true, "\(String(describing: broken))")
    }
}
