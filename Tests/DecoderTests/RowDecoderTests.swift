import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// PNG (libpng), TIFF (libtiff), GIF (giflib) and JPEG (libjpeg) sources
/// decoded row by row and averaged down as they come, against ImageMagick
/// reading the whole file and resizing it, as every PNG, TIFF, GIF and JPEG was
/// rendered before: the same pixels within 40 dB PSNR, and the same alpha.
final class RowDecoderTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    /// Writes the 640x480 samples in `raw` as a PNG of DEPTH and COLOUR_TYPE, row y filtered with filter y % 5.
    static let filtered = """
        python3 -c '
        import struct, sys, zlib
        depth, kind, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
        samples = {0: 1, 2: 3, 4: 2, 6: 4}[kind] * depth // 8
        data, width, height = open("raw", "rb").read(), 640, 480
        size = width * samples
        def paeth(a, b, c):
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            return a if pa <= pb and pa <= pc else b if pb <= pc else c
        out, previous = bytearray(), bytes(size)
        for y in range(height):
            row, kind_of_row = data[y * size:(y + 1) * size], y % 5
            out.append(kind_of_row)
            for i in range(size):
                a = row[i - samples] if i >= samples else 0
                b, c = previous[i], previous[i - samples] if i >= samples else 0
                guess = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind_of_row]
                out.append((row[i] - guess) & 255)
            previous = row
        def chunk(kind, body):
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        header = struct.pack(">IIBBBBB", width, height, depth, kind, 0, 0, 0)
        open(name, "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))
        '
        """

    static let pngCases = [
        ("rgb8.png", "\(ConvertFixture.plasma) -depth 8 PNG24:rgb8.png"),
        ("rgb16.png", "\(ConvertFixture.plasma) -depth 16 PNG48:rgb16.png"),
        ("gray8.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 8 -define png:color-type=0 gray8.png"),
        ("gray16.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 16 -define png:color-type=0 gray16.png"),
        ("gray4.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 4 -define png:bit-depth=4 -define png:color-type=0 gray4.png"),
        ("gray-alpha.png", "\(ConvertFixture.plasma) -colorspace Gray \(ConvertFixture.ramp) -depth 8 -define png:color-type=4 gray-alpha.png"),
        ("palette.png", "\(ConvertFixture.plasma) -colors 200 PNG8:palette.png"),
        ("palette-trns.png", "\(ConvertFixture.plasma) -alpha set -channel A -fx 'i<w/3?0:1' +channel -colors 64 PNG8:palette-trns.png"),
        ("rgb16-trns.png", "\(ConvertFixture.plasma) -depth 16 -fill white -draw 'rectangle 0,0 200,200' -transparent white -define png:color-type=2 rgb16-trns.png"),
        ("gray16-trns.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 16 -fill white -draw 'rectangle 0,0 200,200' -transparent white -define png:color-type=0 gray16-trns.png"),
        ("rgba8.png", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG32:rgba8.png"),
        ("rgba16.png", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG64:rgba16.png"),
        ("adam7.png", "\(ConvertFixture.plasma) -interlace PNG PNG24:adam7.png"),
        ("adam7-rgba16.png", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) -interlace PNG PNG64:adam7-rgba16.png"),
        ("adam7-palette-trns.png", "\(ConvertFixture.plasma) -alpha set -channel A -fx 'j<h/2?0:1' +channel -colors 32 -interlace PNG PNG8:adam7-palette-trns.png"),
        ("iccp.png", "\(ConvertFixture.plasma) \(ConvertFixture.profile) PNG24:iccp.png"),
        ("gama.png", "\(ConvertFixture.plasma) -set gamma 0.7 -define png:include-chunk=gAMA PNG24:gama.png"),
        ("gray1.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 1 -define png:bit-depth=1 -define png:color-type=0 gray1.png"),
        ("gray2.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 2 -define png:bit-depth=2 -define png:color-type=0 gray2.png"),
        ("palette1.png", "\(ConvertFixture.plasma) -colors 2 -define png:bit-depth=1 PNG8:palette1.png"),
        ("palette4.png", "\(ConvertFixture.plasma) -colors 16 -define png:bit-depth=4 PNG8:palette4.png"),
        ("gray8-trns.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 8 -fill white -draw 'rectangle 0,0 200,200' -transparent white -define png:color-type=0 gray8-trns.png"),
        ("rgb8-trns.png", "\(ConvertFixture.plasma) -depth 8 -fill white -draw 'rectangle 0,0 200,200' -transparent white -define png:color-type=2 rgb8-trns.png"),
        // Every filter (row y has filter y % 5), at each distance a filter predicts from (1 to 8 bytes).
        ("filters-rgb8.png", "\(ConvertFixture.plasma) -depth 8 rgb:raw && \(filtered) 8 2 filters-rgb8.png"),
        ("filters-rgba8.png", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) -depth 8 rgba:raw && \(filtered) 8 6 filters-rgba8.png"),
        ("filters-gray8.png", "\(ConvertFixture.plasma) -colorspace Gray -depth 8 gray:raw && \(filtered) 8 0 filters-gray8.png"),
        ("filters-gray-alpha.png", "\(ConvertFixture.plasma) -colorspace Gray \(ConvertFixture.ramp) -depth 8 graya:raw && \(filtered) 8 4 filters-gray-alpha.png"),
        ("filters-rgb16.png", "\(ConvertFixture.plasma) -depth 16 rgb:raw && \(filtered) 16 2 filters-rgb16.png"),
        ("filters-rgba16.png", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) -depth 16 rgba:raw && \(filtered) 16 6 filters-rgba16.png"),
    ]

    static let tiffCases = [
        ("strips-lzw.tif", "\(ConvertFixture.plasma) -depth 8 -compress lzw strips-lzw.tif"),
        ("strips-deflate16.tif", "\(ConvertFixture.plasma) -depth 16 -compress zip strips-deflate16.tif"),
        ("strips-none-gray.tif", "\(ConvertFixture.plasma) -colorspace Gray -depth 8 -compress none strips-none-gray.tif"),
        ("strips-gray16.tif", "\(ConvertFixture.plasma) -colorspace Gray -depth 16 -compress lzw strips-gray16.tif"),
        ("strips-rgba.tif", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) -depth 8 -compress lzw strips-rgba.tif"),
        ("strips-jpeg.tif", "\(ConvertFixture.plasma) -compress jpeg -quality 90 strips-jpeg.tif"),
        ("tiles-lzw.tif", "\(ConvertFixture.plasma) -depth 8 -compress lzw -define tiff:tile-geometry=128x96 tiles-lzw.tif"),
        ("tiles-rgba16.tif", "\(ConvertFixture.plasma) \(ConvertFixture.ramp) -depth 16 -compress zip -define tiff:tile-geometry=256x256 tiles-rgba16.tif"),
        ("tiles-jpeg.tif", "\(ConvertFixture.plasma) -compress jpeg -define tiff:tile-geometry=64x64 tiles-jpeg.tif"),
        ("iccp.tif", "\(ConvertFixture.plasma) \(ConvertFixture.profile) -compress lzw iccp.tif"),
        ("oriented.tif", "\(ConvertFixture.plasma) -orient RightTop -compress lzw oriented.tif"),
        // Left to ImageMagick: separate planes, min-is-white.
        ("planes.tif", "\(ConvertFixture.plasma) -interlace plane -compress lzw planes.tif"),
        ("miniswhite.tif", "\(ConvertFixture.plasma) -colorspace Gray -negate -define quantum:polarity=min-is-white miniswhite.tif"),
    ]

    static let gifCases = [
        ("plain.gif", "\(ConvertFixture.plasma) plain.gif"),
        ("two-colours.gif", "\(ConvertFixture.plasma) -colors 2 two-colours.gif"),
        ("gray.gif", "\(ConvertFixture.plasma) -colorspace Gray -colors 16 gray.gif"),
        ("interlaced.gif", "\(ConvertFixture.plasma) -interlace GIF interlaced.gif"),
        ("transparent.gif", "\(ConvertFixture.plasma) -alpha set -channel A -fx 'i<w/3?0:1' +channel -colors 64 transparent.gif"),
        ("interlaced-transparent.gif", "\(ConvertFixture.plasma) -alpha set -channel A -fx 'j<h/2?0:1' +channel -colors 32 -interlace GIF interlaced-transparent.gif"),
        // The first frame is its own rectangle, wherever it sits on the logical screen.
        ("placed.gif", "\(ConvertFixture.plasma) -repage 800x600+40+30 placed.gif"),
        ("animated.gif", "\(ConvertFixture.plasma) \\( +clone -negate \\) -delay 10 animated.gif"),
        // Colours in ROMM RGB, its profile in an application extension: converted to sRGB.
        ("profile.gif", "\(ConvertFixture.plasma) -profile /usr/share/color/icc/ghostscript/rommrgb.icc profile.gif"),
    ]

    static let jpegCases = [
        ("colour.jpg", "\(ConvertFixture.plasma) -quality 90 -sampling-factor 2x2 colour.jpg"),
        ("full-chroma.jpg", "\(ConvertFixture.plasma) -quality 90 -sampling-factor 1x1 full-chroma.jpg"),
        ("gray.jpg", "\(ConvertFixture.plasma) -colorspace Gray -quality 90 gray.jpg"),
        ("progressive.jpg", "\(ConvertFixture.plasma) -quality 90 -interlace JPEG progressive.jpg"),
        ("iccp.jpg", "\(ConvertFixture.plasma) \(ConvertFixture.profile) -quality 90 iccp.jpg"),
        ("oriented.jpg", "\(ConvertFixture.plasma) -orient RightTop -quality 90 oriented.jpg"),
        ("restarts.jpg", "\(ConvertFixture.plasma) -quality 90 -define jpeg:restart-interval=2 restarts.jpg"),
        // Left to ImageMagick: CMYK.
        ("cmyk.jpg", "\(ConvertFixture.plasma) -colorspace CMYK -quality 90 cmyk.jpg"),
    ]

    /// ImageMagick's full decode, resize and colour conversion: the path every PNG, TIFF, GIF and JPEG took before.
    func wholeFileRender(_ bytes: [UInt8], request: ThumbnailRequest) throws -> [UInt8] {
        let plan = try imageMagickAlone { try Renderer.plan(request, source: try SourceFile(identifying: bytes), limits: Limits()) }
        var wand = try Wand()
        try wand.read(bytes, coder: plan.sourceFormat.coder)
        try wand.setOrientation(plan.orientation)
        try wand.autoOrient()
        try Renderer.resize(&wand, to: (plan.layout.resizeWidth, plan.layout.resizeHeight))
        try wand.convertToSRGB()
        return try wand.encode(coder: "PNG", quality: nil)
    }

    /// At 60x60 (over eight times) and 200x200 (between 1.25 and 4 times) the
    /// source is averaged down while it decodes; at 560x560 (under 1.25 times) it is not.
    func matchesWholeFileRender(name: String, make: String) throws {
        try sh(make, directory: scratch.path)
        let bytes = try scratch.bytes(name)
        for box in [60, 200, 560] {
            var request = ThumbnailRequest(size: BoxSize(width: box, height: box), source: try SourcePath(filePath: name))
            request.format = .png
            let rows = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }.bytes
            try expectAlike(rendered: rows, whole: try wholeFileRender(bytes, request: request), in: scratch, "\(name) at \(box)")
        }
    }

    @Test(arguments: pngCases)
    func pngMatchesImageMagick(name: String, make: String) throws {
        try matchesWholeFileRender(name: name, make: make)
    }

    @Test(arguments: tiffCases)
    func tiffMatchesImageMagick(name: String, make: String) throws {
        try matchesWholeFileRender(name: name, make: make)
    }

    @Test(arguments: gifCases)
    func gifMatchesImageMagick(name: String, make: String) throws {
        try matchesWholeFileRender(name: name, make: make)
        // giflib decoded it, rather than leaving it to ImageMagick.
        let bytes = try scratch.bytes(name), header = try ImageHeader(gif: bytes)
        #expect(GIFDecoder.decode(bytes, frameSize: (header.width, header.height), scaledTo: nil) != nil, "\(name)")
        #expect(GIFDecoder.decode(bytes, frameSize: (header.width + 1, header.height), scaledTo: nil) == nil, "\(name)")
    }

    @Test(arguments: jpegCases)
    func jpegMatchesImageMagick(name: String, make: String) throws {
        try matchesWholeFileRender(name: name, make: make)
        // libjpeg decoded it here, rather than leaving it to ImageMagick, but for CMYK.
        let decoded = try JPEGDecoder.decode(try scratch.bytes(name), to: (200, 150))
        #expect((decoded == nil) == (name == "cmyk.jpg"), "\(name)")
    }

    /// Decoded pixels a row taller than ImageMagick allows a side (Debian's
    /// policy: 16000) are refused as too large: ImageMagick 6.9.11's
    /// ConstituteImage would abort the process. A 100x20000 JPEG or PNG fitted
    /// to a width of 100 decodes to that, its rows straight into the pixels.
    @Test func pixelsTallerThanImageMagickAllowsAreRefused() throws {
        let refused = thrown {
            try imageMagickAlone {
                let height = try ImageMagick(timeLimit: .lifted, threads: 1).effectiveLimits.height + 1
                var wand = try Wand()
                try wand.constitute(
                    Pixels(width: 1, height: height, channels: "I", bitsPerSample: 8, samples: [UInt8](repeating: 0, count: height)),
                    iccProfile: nil)
            }
        }
        #expect(refused?.kind == .tooLarge, "\(String(describing: refused))")
    }
}
