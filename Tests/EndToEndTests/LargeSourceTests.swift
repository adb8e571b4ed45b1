import Foundation
import TestSupport
import Testing

/// A source far over what ImageMagick's whole decode may hold, rendered by the built binary.
final class LargeSourceTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    /// 49 megapixels: ImageMagick would need 392 MB of pixel cache, over
    /// Debian's 256 MiB policy; rows averaged as they come need a few. Written
    /// by Python's zlib (convert takes long at this size): a gradient, every row alike.
    @Test func pngOfFortyNineMegapixelsRenders() throws {
        try sh(
            """
            python3 -c '
            import struct, zlib
            def chunk(kind, data):
                body = kind + data
                return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
            row = b"\\0" + bytes(x * 255 // 6999 for x in range(7000)) * 3
            data = zlib.compress(row * 7000, 1)
            header = struct.pack(">IIBBBBB", 7000, 7000, 8, 2, 0, 0, 0)
            open("huge.png", "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
            '
            """, directory: scratch.path)
        let outcome = try thumbnail(["-r", scratch.path, "-o", scratch.file("huge-100.png"), "/thumbnail/100x100/huge.png"])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(try dimensions(scratch.file("huge-100.png")) == "100x100")
    }
}
