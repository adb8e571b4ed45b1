import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// JPEG, WebP, PNG and GIF headers read without ImageMagick: they must agree
/// with what ImageMagick decodes, and refuse what it could not.
final class ImageHeaderTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xff, marker, UInt8(length >> 8), UInt8(length & 0xff)] + payload
    }

    /// A TIFF structure with one IFD0 entry: Orientation of `type` (3 SHORT, 4 LONG).
    func tiff(orientation: Int, bigEndian: Bool, type: UInt8 = 3) -> [UInt8] {
        func two(_ value: Int) -> [UInt8] {
            bigEndian ? [UInt8(value >> 8), UInt8(value & 0xff)] : [UInt8(value & 0xff), UInt8(value >> 8)]
        }
        func four(_ value: Int) -> [UInt8] { bigEndian ? [0, 0] + two(value) : two(value) + [0, 0] }
        let value = type == 4 ? four(orientation) : two(orientation) + [0, 0]
        return (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + two(42) + four(8) + two(1)
            + two(0x0112) + two(Int(type)) + four(1) + value + four(0)
    }

    /// SOI, the given segments, then a baseline frame header of `width`x`height`.
    func jpegHeader(_ segments: [[UInt8]], width: Int, height: Int) -> [UInt8] {
        let frame: [UInt8] = [8, UInt8(height >> 8), UInt8(height & 0xff), UInt8(width >> 8), UInt8(width & 0xff), 1, 1, 0x11, 0]
        return [0xff, 0xd8] + segments.joined() + segment(0xc0, frame)
    }

    @Test func headersAgreeWithImageMagick() throws {
        try sh(
            """
            convert -seed 1 -size 301x199 plasma: baseline.jpg
            convert baseline.jpg -interlace Plane progressive.jpg
            convert baseline.jpg -colorspace CMYK cmyk.jpg
            convert baseline.jpg -colorspace Gray gray.jpg
            convert baseline.jpg lossy.webp
            convert baseline.jpg -define webp:lossless=true lossless.webp
            convert -size 64x48 xc:none -fill red -draw 'rectangle 0,0 9,9' alpha.webp
            convert -delay 10 -size 60x30 xc:red xc:lime animated.webp
            convert baseline.jpg plain.png
            convert baseline.jpg -depth 16 deep.png
            convert baseline.jpg -colors 16 palette.png
            convert baseline.jpg -interlace PNG interlaced.png
            convert baseline.jpg plain.gif
            convert -delay 10 -size 60x30 xc:red xc:lime animated.gif
            convert -size 50x40 xc:red -page 100x80+10+10 placed.gif
            """, directory: scratch.path)
        for (name, format) in [
            ("baseline.jpg", SourceFormat.jpeg), ("progressive.jpg", .jpeg), ("cmyk.jpg", .jpeg), ("gray.jpg", .jpeg),
            ("lossy.webp", .webp), ("lossless.webp", .webp), ("alpha.webp", .webp), ("animated.webp", .webp),
            ("plain.png", .png), ("deep.png", .png), ("palette.png", .png), ("interlaced.png", .png),
            ("plain.gif", .gif), ("animated.gif", .gif), ("placed.gif", .gif),
        ] {
            let header = try #require(try ImageHeader(try scratch.bytes(name), format: format))
            let identified = try sh("identify -format '%w %h|' '\(scratch.file(name))'").split(separator: "|")[0]
            #expect("\(header.width) \(header.height)" == identified, "\(name)")
            #expect(header.orientation == 1, "\(name)")
        }
        #expect(try ImageHeader(try scratch.bytes("baseline.jpg"), format: .tiff) == nil)
    }

    @Test(arguments: [(6, true, UInt8(3)), (8, false, UInt8(3)), (3, true, UInt8(4)), (5, false, UInt8(4))])
    func jpegOrientationComesFromTheFirstExifSegment(orientation: Int, bigEndian: Bool, type: UInt8) throws {
        let exif = segment(0xe1, Array("Exif\0\0".utf8) + tiff(orientation: orientation, bigEndian: bigEndian, type: type))
        let later = segment(0xe1, Array("Exif\0\0".utf8) + tiff(orientation: 2, bigEndian: true))
        let xmp = segment(0xe1, Array("http://ns.adobe.com/xap/1.0/\0<x/>".utf8))
        let header = try ImageHeader(jpeg: jpegHeader([xmp, exif, later], width: 640, height: 480))
        #expect(header == ImageHeader(width: 640, height: 480, orientation: orientation))
    }

    @Test func unreadableOrientationCountsAsUpright() throws {
        for tiff in [tiff(orientation: 9, bigEndian: true), tiff(orientation: 0, bigEndian: false), Array("XX*\0\0\0\0\u{8}".utf8), [0x4d, 0x4d]] {
            let header = try ImageHeader(jpeg: jpegHeader([segment(0xe1, Array("Exif\0\0".utf8) + tiff)], width: 3, height: 2))
            #expect(header.orientation == 1)
        }
        #expect(exifOrientation(ArraySlice(tiff(orientation: 7, bigEndian: false))) == 7)
    }

    @Test func webpOrientationComesFromItsExifChunk() throws {
        // Stored 40x20 with orientation 6: upright it is 20x40.
        try sh("convert -size 40x20 xc:red -quality 90 stored.webp", directory: scratch.path)
        let stored = try scratch.bytes("stored.webp")
        let image = Array(stored[12...])  // the VP8 chunk
        func chunk(_ kind: String, _ payload: [UInt8]) -> [UInt8] {
            let size = payload.count
            return Array(kind.utf8) + [UInt8(size & 0xff), UInt8(size >> 8 & 0xff), 0, 0] + payload + (size % 2 == 1 ? [0] : [])
        }
        let extended = chunk("VP8X", [0x08, 0, 0, 0, 39, 0, 0, 19, 0, 0])  // EXIF flag, canvas 40x20
        for exif in [tiff(orientation: 6, bigEndian: false), Array("Exif\0\0".utf8) + tiff(orientation: 6, bigEndian: true)] {
            let body = Array("WEBP".utf8) + extended + image + chunk("EXIF", exif)
            let size = body.count
            let file = Array("RIFF".utf8) + [UInt8(size & 0xff), UInt8(size >> 8 & 0xff), UInt8(size >> 16 & 0xff), 0] + body
            #expect(try ImageHeader(webp: file) == ImageHeader(width: 40, height: 20, orientation: 6))
            try Data(file).write(to: URL(fileURLWithPath: scratch.file("turned.webp")))
            let outcome = try runInProcess(["-r", scratch.path, "-o", scratch.file("upright.png"), "/thumbnail/100x100/png/turned.webp"])
            #expect(outcome.status == 0, "\(outcome.error)")
            #expect(try dimensions(scratch.file("upright.png")) == "20x40")
        }
    }

    @Test func brokenHeadersAreUndecodable() throws {
        let app0 = segment(0xe0, Array("JFIF\0".utf8) + [1, 1, 0, 0, 1, 0, 1, 0, 0])
        let jpegs: [[UInt8]] = [
            [0xff, 0xd8] + app0,  // no frame header
            jpegHeader([app0], width: 300, height: 0),  // height left to a DNL marker
            [0xff, 0xd8] + segment(0xda, [0, 0, 0]) + jpegHeader([], width: 3, height: 2),  // scan before frame
            Array(jpegHeader([app0], width: 300, height: 200).dropLast(4)),  // truncated frame header
            [0xff, 0xd8, 0x00, 0x01] + jpegHeader([], width: 3, height: 2),  // garbage between markers
        ]
        for jpeg in jpegs {
            #expect(thrown { _ = try ImageHeader(jpeg: jpeg) }?.kind == .undecodable, "\(jpeg)")
        }
        let riff = Array("RIFF\0\0\0\0WEBP".utf8)
        let webps: [[UInt8]] = [
            riff,
            riff + Array("VP8 ".utf8) + [10, 0, 0, 0] + [0, 0, 0, 0x9d, 0x01, 0x2b, 40, 0, 20, 0],  // bad start code
            riff + Array("VP8L".utf8) + [5, 0, 0, 0] + [0x2e, 0, 0, 0, 0] + [0],  // bad signature
            riff + Array("VP8X".utf8) + [10, 0, 0, 0] + [0, 0, 0, 0, 39, 0],  // truncated
        ]
        for webp in webps {
            #expect(thrown { _ = try ImageHeader(webp: webp) }?.kind == .undecodable, "\(webp)")
        }
        let signature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
        let ihdr = [0, 0, 0, 13] + Array("IHDR".utf8)
        let pngs: [[UInt8]] = [
            signature,
            signature + ihdr + [0, 0, 1, 0x2c, 0, 0],  // truncated
            signature + ihdr + [0, 0, 1, 0x2c, 0, 0, 0, 0] + [8, 2, 0, 0, 0],  // height 0
            signature + [0, 0, 0, 13] + Array("IDAT".utf8) + [0, 0, 1, 0x2c, 0, 0, 0, 0xc8] + [8, 2, 0, 0, 0],  // no IHDR first
        ]
        for png in pngs {
            #expect(thrown { _ = try ImageHeader(png: png) }?.kind == .undecodable, "\(png)")
        }
        let screen = Array("GIF89a".utf8) + [40, 0, 20, 0, 0, 0, 0]
        let gifs: [[UInt8]] = [
            screen + [0x3b],  // no image before the trailer
            screen + [0x2c, 0, 0, 0, 0, 40, 0],  // truncated image descriptor
            screen + [0x2c, 0, 0, 0, 0, 0, 0, 20, 0, 0, 2, 0],  // width 0
        ]
        for gif in gifs {
            #expect(thrown { _ = try ImageHeader(gif: gif) }?.kind == .undecodable, "\(gif)")
        }
    }

    @Test func bombsAreRefusedFromTheirHeaderBeforeAnyDecoding() throws {
        // Headers alone, no image data: only a header read can judge them.
        let request = try PathGrammar().parse("/thumbnail/100x100/a.jpg")
        let jpeg = jpegHeader([], width: 20000, height: 20000)
        let webp = Array("RIFF\u{16}\0\0\0WEBPVP8X\u{a}\0\0\0".utf8) + [0, 0, 0, 0, 0x1f, 0x4e, 0, 0x1f, 0x4e, 0]
        let png: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13] + Array("IHDR".utf8)
            + [0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 2, 0, 0, 0]
        // A logical screen of 1x1 (the frame's size counts) and a 20000x20000 first frame.
        let gif = Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0] + [0x2c, 0, 0, 0, 0, 0x20, 0x4e, 0x20, 0x4e, 0, 8, 0]
        for (source, format) in [(jpeg, "jpeg"), (webp, "webp"), (png, "png"), (gif, "gif")] {
            let error = thrown { _ = try imageMagickAlone { try Renderer.plan(request, source: try SourceFile(identifying: source), limits: Limits()) } }
            #expect(error?.kind == .tooLarge, "\(format)")
            #expect(error?.reason == "20000x20000 exceeds the limit of 50000000 pixels", "\(format)")
        }
    }

    /// A PNG's sides are 32 bits each, so their product can pass Int's range
    /// (a mangled IHDR): the source is refused, not trapped on.
    @Test func sidesWhosePixelsOverflowAreRefused() throws {
        let request = try PathGrammar().parse("/thumbnail/100x100/a.png")
        let png: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13] + Array("IHDR".utf8)
            + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 8, 2, 0, 0, 0]
        let error = thrown { _ = try imageMagickAlone { try Renderer.plan(request, source: try SourceFile(identifying: png), limits: Limits()) } }
        #expect(error?.kind == .tooLarge && error?.reason == "4294967295x4294967295 exceeds the limit of 50000000 pixels", "\(String(describing: error))")
    }
}
