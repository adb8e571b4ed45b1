import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The byte-walking code paths (progressive JPEG scans, libjpeg's rows, WebP chunks and
/// libwebp, libpng's rows (from memory and streamed from a file), giflib's
/// rows, libtiff's strips and tiles, libheif's boxes, its thumbnail items and
/// codecs, ImageMagick's coder for an animated WebP) against
/// mangled files, in this process: each render either
/// succeeds or refuses the source with a ThumbnailError of bad input (never
/// `internalFailure`); an out-of-bounds index would trap and end the whole test run.
final class MangledSourceTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    /// A deterministic sequence (a 64-bit LCG), so a failure can be replayed.
    struct Sequence {
        var state: UInt64
        mutating func next(below bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Truncations and overwritten bytes, 300 of each kind, biased to the
    /// headers and scan boundaries in the first kilobyte.
    func mangled(_ bytes: [UInt8], seed: UInt64) -> [[UInt8]] {
        var random = Sequence(state: seed)
        var variants: [[UInt8]] = []
        for round in 0..<300 {
            let span = round % 2 == 0 ? min(bytes.count, 1024) : bytes.count
            variants.append(Array(bytes.prefix(random.next(below: bytes.count))))
            var changed = bytes
            for _ in 0..<(1 + random.next(below: 4)) {
                changed[random.next(below: span)] = UInt8(random.next(below: 256))
            }
            variants.append(changed)
        }
        return variants
    }

    @Test(arguments: [
        ("mangled.jpg", "convert -seed 4 -size 96x64 plasma: -sampling-factor 2x2 b.jpg && jpegtran -progressive b.jpg > mangled.jpg"),
        ("mangled-baseline.jpg", "convert -seed 4 -size 40x30 plasma: -sampling-factor 1x1 -profile /usr/share/color/icc/ghostscript/a98.icc mangled-baseline.jpg"),
        ("mangled.webp", "convert -seed 4 -size 96x64 plasma: -alpha set -channel A -evaluate set 60% -profile /usr/share/color/icc/ghostscript/srgb.icc mangled.webp"),
        // Animated: read by ImageMagick's coder.
        ("mangled-animated.webp", "convert -delay 10 -seed 4 -size 96x64 plasma: -size 96x64 gradient:red-blue mangled-animated.webp"),
        ("mangled.png", "convert -seed 4 -size 96x64 plasma: -alpha set -channel A -evaluate set 60% -profile /usr/share/color/icc/ghostscript/a98.icc PNG32:mangled.png"),
        ("mangled-adam7.png", "convert -seed 4 -size 96x64 plasma: -alpha set -channel A -fx 'i<w/2?0:1' +channel -colors 32 -interlace PNG PNG8:mangled-adam7.png"),
        // libpng's transformations: tRNS to alpha at 16 bits, interlaced; grey of 2 bits expanded to 8.
        ("mangled-adam7-rgb16-trns.png", "convert -seed 4 -size 96x64 plasma: -depth 16 -fill white -draw 'rectangle 0,0 30,30' -transparent white -define png:color-type=2 -interlace PNG mangled-adam7-rgb16-trns.png"),
        ("mangled-gray2.png", "convert -seed 4 -size 96x64 plasma: -colorspace Gray -depth 2 -define png:bit-depth=2 -define png:color-type=0 mangled-gray2.png"),
        ("mangled.gif", "convert -seed 4 -size 96x64 plasma: -colors 64 -profile /usr/share/color/icc/ghostscript/a98.icc mangled.gif"),
        ("mangled-interlaced.gif", "convert -seed 4 -size 96x64 plasma: -alpha set -channel A -fx 'i<w/2?0:1' +channel -colors 32 -interlace GIF mangled-interlaced.gif"),
        ("mangled-strips.tif", "convert -seed 4 -size 96x64 plasma: -depth 16 -compress lzw -define tiff:rows-per-strip=8 -profile /usr/share/color/icc/ghostscript/a98.icc mangled-strips.tif"),
        ("mangled-tiles.tif", "convert -seed 4 -size 96x64 plasma: -alpha set -channel A -evaluate set 60% +channel -compress zip -define tiff:tile-geometry=32x32 mangled-tiles.tif"),
        ("mangled.heic", "convert -seed 4 -size 96x64 plasma: -depth 8 -profile /usr/share/color/icc/ghostscript/a98.icc PNG24:s.png && heif-enc -q 50 --thumb 32 s.png -o mangled.heic"),
        ("mangled.avif", "convert -seed 4 -size 96x64 plasma: -alpha set -channel A -evaluate set 60% +channel PNG32:s.png && heif-enc -A -q 50 s.png -o mangled.avif"),
    ])
    func rendersOrRefusesEveryVariant(name: String, make: String) throws {
        try sh(make, directory: scratch.path)
        let original = try scratch.bytes(name)
        // 8x8 from 96x64: the JPEG decodes at 1/8 (scans left out) and averaged down, from 40x30 at 1/4 straight into the pixels,
        // the WebP scaled by libwebp, the PNG, the GIF, the TIFF and the AVIF averaged down as their rows come, the HEIC from its
        // thumbnail item. Every third variant is also cropped to 8x8, which covers it at 12x8: the JPEG at 1/8 straight into the
        // pixels, and a layout that scales by the longer side.
        let fit = ThumbnailRequest(size: BoxSize(width: 8, height: 8), source: try SourcePath(filePath: name))
        var crop = fit
        crop.mode = .crop
        for request in [fit, crop] {
            #expect(throws: Never.self) { _ = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: original), limits: Limits(), threads: 1) } }
        }
        var rendered = 0
        for (index, variant) in mangled(original, seed: 42).enumerated() {
            for request in index % 3 == 0 ? [fit, crop] : [fit] {
                do {
                    _ = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: variant), limits: Limits(), threads: 1) }
                    rendered += 1
                } catch let refusal as ThumbnailError {
                    // A clean refusal, of bad input: not a failure of thumbnail's own.
                    #expect(refusal.kind != .internalFailure, "variant \(index), \(request.mode): \(refusal)")
                }
            }
        }
        // Some overwritten bytes land where they change nothing or only colours.
        #expect(rendered > 0)
    }

    /// An animated WebP goes to ImageMagick's coder, which, when the first
    /// frame does not decode, leaves an image without pixels and reports
    /// nothing: the source is refused as corrupt, not as a failure of thumbnail's own.
    @Test func animatedWebPWhoseFirstFrameDoesNotDecodeIsUndecodable() throws {
        try sh("convert -delay 10 -seed 4 -size 96x64 plasma: -size 96x64 gradient:red-blue animated.webp", directory: scratch.path)
        var bytes = try scratch.bytes("animated.webp")
        // The first frame: its ANMF header (8 bytes) and frame header (16), its VP8 chunk's header (8),
        // then the frame tag (3) and the start code, whose first byte is broken.
        let frame = try #require((0..<bytes.count - 4).first { bytes[$0..<$0 + 4].elementsEqual("ANMF".utf8) })
        #expect(bytes[frame + 24..<frame + 28].elementsEqual("VP8 ".utf8) && bytes[frame + 35] == 0x9d)
        bytes[frame + 35] = 0
        let request = ThumbnailRequest(size: BoxSize(width: 8, height: 8), source: try SourcePath(filePath: "animated.webp"))
        let refusal = thrown {
            _ = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
        }
        #expect(refusal?.kind == .undecodable, "\(String(describing: refusal))")
    }

    /// libpng reading a PNG from its file as it decodes, past the first
    /// bytes read before (a truncated one ends mid-stream): each variant
    /// decodes, or is found malformed (left to ImageMagick), or is refused
    /// with a ThumbnailError.
    /// 320x240, past what is read before the decoder starts: with an ICC
    /// profile, or interlaced.
    func makeStreamedPNG(_ name: String) throws {
        try sh(
            "convert -seed 4 -size 320x240 plasma: -alpha set -channel A -fx 'i<w/2?0:1' +channel "
                + (name == "mangled.png" ? "-profile /usr/share/color/icc/ghostscript/a98.icc PNG32:" : "-interlace PNG PNG32:")
                + name, directory: scratch.path)
    }

    @Test(arguments: ["mangled.png", "mangled-adam7.png"])
    func pngStreamedFromAFileDecodesOrRefusesEveryVariant(name: String) throws {
        try makeStreamedPNG(name)
        let original = try scratch.bytes(name)
        #expect(original.count > 2 * pngFirstBytes)
        var decoded = 0, malformed = 0
        for variant in mangled(original, seed: 7) {
            try Data(variant).write(to: URL(fileURLWithPath: scratch.file("variant.png")))
            do {
                let source = try readImageFile(scratch.file("variant.png"), limit: 1 << 20).content
                if try PNGDecoder.decode(source, scaledTo: (8, 8)) != nil { decoded += 1 } else { malformed += 1 }
            } catch {
                // A clean refusal: the magic bytes mangled, say.
            }
        }
        #expect(decoded > 0 && malformed > 0)
    }

    /// The same variants with their image data inflated on another thread
    /// (`PNGInflater`): each ends as it ends with libpng alone, the same
    /// samples, malformed, or refused with the same kind of error.
    @Test(arguments: ["mangled.png", "mangled-adam7.png"])
    func pngInflatedAsideEndsAsLibpngAloneDoes(name: String) throws {
        try makeStreamedPNG(name)
        enum Ending: Equatable { case decoded([UInt8]), malformed, refused(ThumbnailError.Kind) }
        func ending(_ source: SourceBytes, aside: Bool) -> Ending {
            do {
                let decoded = try PNGDecoder.decode(source, scaledTo: (8, 8), inflateAside: aside)
                return decoded.map { .decoded($0.pixels.samples) } ?? .malformed
            } catch {
                return .refused(error.kind)
            }
        }
        var decoded = 0
        for variant in mangled(try scratch.bytes(name), seed: 7) {
            try Data(variant).write(to: URL(fileURLWithPath: scratch.file("variant.png")))
            guard let source = try? readImageFile(scratch.file("variant.png"), limit: 1 << 20).content
            else { continue }
            let alone = ending(source, aside: false)
            #expect(ending(source, aside: true) == alone)
            if case .decoded = alone { decoded += 1 }
        }
        #expect(decoded > 0)
    }
}
