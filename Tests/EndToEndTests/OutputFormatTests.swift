import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The output formats: quality, transparency, and what an AVIF holds.
final class OutputFormatTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    var root: [String] { ["-r", scratch.path] }

    func render(_ path: String) throws -> Data {
        let outcome = try thumbnail(root + [path])
        #expect(outcome.status == 0, "\(path): \(outcome.error)")
        return outcome.output
    }

    /// Alpha (0-255) of one pixel; an AVIF is decoded by libheif's heif-convert,
    /// since ImageMagick 6.9.11's HEIC coder reads no alpha plane.
    func alpha(_ name: String, _ x: Int, _ y: Int) throws -> String {
        var file = name
        if name.hasSuffix(".avif") {
            file = name + ".png"
            try sh("heif-convert '\(name)' '\(file)' >/dev/null", directory: scratch.path)
        }
        return try sh("convert '\(file)' -format '%[fx:int(255*p{\(x),\(y)}.a+0.5)]' info:", directory: scratch.path)
    }

    @Test(arguments: ["jpeg", "webp", "avif"])
    func bytesGrowWithTheQuality(format: String) throws {
        try sh(
            """
            convert -seed 3 -size 300x200 plasma: plasma.png
            convert -size 200x300 gradient:navy-orange -swirl 90 swirl.png
            convert -size 240x240 pattern:checkerboard -blur 0x1 checks.png
            """, directory: scratch.path)
        for source in ["plasma.png", "swirl.png", "checks.png"] {
            let sizes = try [20, 50, 90].map { try render("/thumbnail/120x120,q\($0)/\(format)/\(source)").count }
            #expect(sizes[0] < sizes[1] && sizes[1] < sizes[2], "\(format) from \(source): \(sizes) bytes at q20, q50, q90")
        }
    }

    /// Left half opaque red, right half transparent (its hidden colour blue), 200x100.
    func makeHalfTransparent() throws {
        try sh(
            """
            convert -size 200x100 xc:'rgba(0,0,255,0)' -fill red -draw 'rectangle 0,0 99,99' half.png
            """, directory: scratch.path)
    }

    @Test(arguments: ["avif", "webp", "png", "gif"])
    func transparencyIsKept(format: String) throws {
        try makeHalfTransparent()
        let name = "kept.\(format)"
        try render("/thumbnail/60x60/\(format)/half.png").write(to: URL(fileURLWithPath: scratch.file(name)))
        #expect(try alpha(name, 50, 15) == "0")
        #expect(try alpha(name, 10, 15) == "255")
    }

    @Test(arguments: [("", "#ffffff"), (",bg00ff00", "#00ff00")])
    func transparencyFlattensOntoTheBackgroundInJPEG(option: String, colour: String) throws {
        try makeHalfTransparent()
        try render("/thumbnail/60x60\(option)/jpeg/half.png").write(to: URL(fileURLWithPath: scratch.file("flat.jpg")))
        let right = try sh("convert flat.jpg -crop 20x20+35+5 -scale 1x1! -format '%[hex:p{0,0}]' info:", directory: scratch.path)
        let expected = UInt32(colour.dropFirst(), radix: 16)!
        let actual = UInt32(right.prefix(6), radix: 16)!
        let channels = [16, 8, 0].map { (Int(actual >> $0 & 0xff), Int(expected >> $0 & 0xff)) }
        #expect(channels.allSatisfy { abs($0 - $1) <= 8 }, "the transparent half came out #\(right), not \(colour)")
    }

    /// `bytes` with an EXIF segment and an XMP packet inserted after the JPEG's SOI.
    func withMetadata(_ jpeg: [UInt8]) -> [UInt8] {
        func segment(_ payload: [UInt8]) -> [UInt8] {
            [0xff, 0xe1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xff)] + payload
        }
        // One IFD entry: Orientation (0x0112), SHORT, 1.
        let exif =
            Array("Exif".utf8) + [0, 0] + Array("MM".utf8) + [0, 42, 0, 0, 0, 8, 0, 1]
            + [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0] + [0, 0, 0, 0]
        let xmp = Array("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'/>".utf8)
        return Array(jpeg.prefix(2)) + segment(exif) + segment(xmp) + Array(jpeg.dropFirst(2))
    }

    @Test func avifIsDeterministicAndHoldsNoMetadata() throws {
        try sh("convert -seed 5 -size 320x240 plasma: plain.jpg", directory: scratch.path)
        let jpeg = withMetadata(try scratch.bytes("plain.jpg"))
        try Data(jpeg).write(to: URL(fileURLWithPath: scratch.file("tagged.jpg")))
        let tags = try sh("identify -verbose tagged.jpg", directory: scratch.path)
        #expect(tags.contains("Profile-exif") && tags.contains("Profile-xmp"), "\(tags)")

        let first = try render("/thumbnail/100x100/avif/tagged.jpg")
        for _ in 0..<3 {
            #expect(try render("/thumbnail/100x100/avif/tagged.jpg") == first)
        }
        #expect(first.count > 32 && String(decoding: first[4..<12], as: UTF8.self) == "ftypavif")
        // Item types: an EXIF item is `Exif`, an XMP one `mime` (application/rdf+xml).
        for marker in ["Exif", "mime", "xmpmeta", "rdf+xml"] {
            #expect(first.range(of: Data(marker.utf8)) == nil, "the AVIF holds \(marker)")
        }
        try first.write(to: URL(fileURLWithPath: scratch.file("out.avif")))
        let info = try sh("heif-info out.avif", directory: scratch.path)
        #expect(info.contains("main brand: avif"))
        #expect(info.contains("metadata:\n  none"), "\(info)")
    }

    /// In process: odd sizes through the wand's pixel export and libheif,
    /// with and without alpha, decoded back by heif-convert.
    @Test(arguments: [(1, 1), (1, 9), (9, 1), (3, 5), (37, 21)])
    func avifEncodesOddSizes(width: Int, height: Int) throws {
        for (name, fill) in [("opaque", "xc:orange"), ("alpha", "xc:'rgba(255,0,0,0.5)'")] {
            try sh("convert -size \(width)x\(height) \(fill) \(name).png", directory: scratch.path)
            var request = ThumbnailRequest(size: BoxSize(width: 100, height: 100), source: try SourcePath(encodedSegments: ["\(name).png"]))
            request.format = .avif
            let (bytes, format, _) = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: try scratch.bytes("\(name).png")), limits: Limits(), threads: 1) }
            #expect(format == .avif)
            try Data(bytes).write(to: URL(fileURLWithPath: scratch.file("\(name).avif")))
            try sh("heif-convert \(name).avif back.png >/dev/null", directory: scratch.path)
            #expect(try dimensions(scratch.file("back.png")) == "\(width)x\(height)")
            let channels = try sh("identify -format '%[channels]' back.png", directory: scratch.path)
            #expect(channels.hasSuffix("a") == (name == "alpha"), "\(name) \(width)x\(height): \(channels)")
        }
    }
}
