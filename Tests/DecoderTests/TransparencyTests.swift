import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// `--picture` reads from a source's header whether it may be transparent:
/// right for real files, and never out of bounds on mangled ones.
final class TransparencyTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try sh(
            """
            convert -size 40x20 xc:none -fill red -draw 'circle 20,10 20,2' rgba.png
            convert -size 40x20 xc:none -fill red -draw 'circle 20,10 20,2' -type PaletteAlpha palette.png
            convert -size 40x20 gradient:red-blue opaque.png
            convert -size 40x20 xc:none -fill red -draw 'circle 20,10 20,2' clear.gif
            convert -size 40x20 gradient:red-blue opaque.gif
            convert -size 40x20 xc:none -fill red -draw 'circle 20,10 20,2' clear.webp
            convert -size 40x20 xc:none -fill red -draw 'circle 20,10 20,2' -define webp:lossless=true lossless.webp
            convert -size 40x20 gradient:red-blue opaque.webp
            convert -size 40x20 gradient:red-blue opaque.jpg
            convert rgba.png PNG32:rgba32.png && heif-enc -q 90 rgba32.png -o clear.heic
            heif-enc -q 90 opaque.png -o opaque.heic
            avifenc rgba.png clear.avif >/dev/null && avifenc opaque.png opaque.avif >/dev/null
            """, directory: scratch.path)
    }

    deinit { scratch.remove() }

    func transparent(_ name: String) throws -> Bool {
        let bytes = try scratch.bytes(name)
        return try mayBeTransparent(bytes, try SourceFormat(sniffing: bytes), limits: Limits())
    }

    @Test func headersSayWhetherASourceMayBeTransparent() throws {
        for name in ["rgba.png", "palette.png", "clear.gif", "clear.webp", "lossless.webp", "clear.heic", "clear.avif"] {
            #expect(try transparent(name), "\(name)")
        }
        for name in ["opaque.png", "opaque.gif", "opaque.webp", "opaque.jpg", "opaque.heic", "opaque.avif"] {
            #expect(try !transparent(name), "\(name)")
        }
    }

    /// Every prefix of each: a header cut short may lose the sign of
    /// transparency, never invent it, and once the sign is in, the answer is
    /// the whole file's.
    @Test(arguments: ["palette.png", "clear.gif", "lossless.webp", "opaque.png", "opaque.gif", "opaque.webp"])
    func truncatedHeadersNeverInventTransparency(name: String) throws {
        let original = try scratch.bytes(name)
        let format = try SourceFormat(sniffing: original)
        let whole = try mayBeTransparent(original, format, limits: Limits())
        let answers = try (0...original.count).map { count in
            try mayBeTransparent(Array(original.prefix(count)), format, limits: Limits())
        }
        let firstYes = answers.firstIndex(of: true) ?? answers.endIndex
        #expect(answers[..<firstYes].allSatisfy { !$0 } && answers[firstYes...].allSatisfy { $0 }, "\(name)")
        #expect(answers.last == whole, "\(name)")
    }

    /// 300 copies of each with bytes of the header overwritten: an answer, never a trap.
    @Test(arguments: ["palette.png", "clear.gif", "lossless.webp"])
    func overwrittenHeadersStayInBounds(name: String) throws {
        let original = try scratch.bytes(name)
        let format = try SourceFormat(sniffing: original)
        var random = SeededRandom(seed: 17)
        for _ in 0..<300 {
            var changed = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                changed[Int.random(in: 0..<min(changed.count, 256), using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            _ = try mayBeTransparent(changed, format, limits: Limits())
        }
    }
}
