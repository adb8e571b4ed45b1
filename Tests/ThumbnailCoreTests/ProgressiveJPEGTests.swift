import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// Which scans of a progressive JPEG the 1/8-scale decode keeps: the rendering
/// tests show the pixels are unchanged, these that the work is truly left out.
final class ProgressiveJPEGTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    /// (spectral start, component count) of each scan; stuffing keeps 0xFFDA out of entropy-coded data.
    func scans(_ jpeg: [UInt8]) -> [(start: UInt8, components: UInt8)] {
        (0..<jpeg.count - 6).filter { jpeg[$0] == 0xff && jpeg[$0 + 1] == 0xda }.map { index in
            let count = jpeg[index + 4]
            return (jpeg[index + 5 + 2 * Int(count)], count)
        }
    }

    @Test func keepsDCScansAndTheACScansOfSubsampledComponents() throws {
        try sh(
            """
            convert -seed 2 -size 640x400 plasma: -sampling-factor 2x2 s420.jpg
            convert -seed 2 -size 640x400 plasma: -sampling-factor 1x1 s444.jpg
            jpegtran -progressive s420.jpg > p420.jpg
            jpegtran -progressive s444.jpg > p444.jpg
            """, directory: scratch.path)
        // libjpeg's progressive script: DC, then AC by bands and refinements, luma and each chroma apart.
        let whole420 = try scratch.bytes("p420.jpg"), whole444 = try scratch.bytes("p444.jpg")
        #expect(scans(whole420).count == 10 && scans(whole444).count == 10)

        let kept444 = try #require(ProgressiveJPEG.withoutFullResolutionAC(whole444))
        #expect(scans(kept444).map(\.start) == [0, 0])
        #expect(kept444.count * 3 < whole444.count)
        #expect(kept444.suffix(2) == [0xff, 0xd9])

        // Luma's four AC scans go; both chroma components keep their two each.
        let kept420 = try #require(ProgressiveJPEG.withoutFullResolutionAC(whole420))
        #expect(scans(kept420).count == 6)
        #expect(scans(kept420).filter { $0.start > 0 }.count == 4)
    }

    @Test func leavesAnythingElseToImageMagick() throws {
        try sh(
            """
            convert -seed 2 -size 640x400 plasma: baseline.jpg
            jpegtran -progressive baseline.jpg > progressive.jpg
            """, directory: scratch.path)
        let progressive = try scratch.bytes("progressive.jpg")
        #expect(ProgressiveJPEG.withoutFullResolutionAC(progressive) != nil)
        let refused: [[UInt8]] = [
            try scratch.bytes("baseline.jpg"),
            Array(progressive.dropLast(2)),  // no EOI
            Array(progressive.dropLast(500)),  // cut inside a scan
            Array(progressive.prefix(200)),  // headers only
            [0xff, 0xd8, 0xff, 0xd9],
            Array(progressive.dropFirst(2)),
        ]
        for jpeg in refused {
            #expect(ProgressiveJPEG.withoutFullResolutionAC(jpeg) == nil, "\(jpeg.count) bytes")
        }
    }
}
