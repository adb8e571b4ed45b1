import TestSupport
import Testing

@testable import ThumbnailCore

struct LayoutTests {
    static let box = BoxSize(width: 100, height: 100)

    @Test(arguments: [
        // source, box, mode -> resize, canvas, offset
        ((640, 400), box, FitMode.fit, (100, 63), (100, 63), (0, 0)),
        ((300, 500), box, .fit, (60, 100), (60, 100), (0, 0)),
        ((20, 10), box, .fit, (20, 10), (20, 10), (0, 0)),
        ((640, 400), BoxSize(width: 100, height: nil), .fit, (100, 63), (100, 63), (0, 0)),
        ((640, 400), BoxSize(width: nil, height: 50), .fit, (80, 50), (80, 50), (0, 0)),
        ((10000, 10), box, .fit, (100, 1), (100, 1), (0, 0)),
        ((640, 400), box, .crop, (160, 100), (100, 100), (30, 0)),
        ((300, 500), box, .crop, (100, 167), (100, 100), (0, 33)),
        ((20, 10), box, .crop, (200, 100), (100, 100), (50, 0)),
        ((640, 400), box, .pad, (100, 63), (100, 100), (0, 18)),
        ((300, 500), box, .pad, (60, 100), (100, 100), (20, 0)),
        ((20, 10), box, .pad, (20, 10), (100, 100), (40, 45)),
    ])
    func plan(
        source: (Int, Int), box: BoxSize, mode: FitMode, resize: (Int, Int), canvas: (Int, Int), offset: (Int, Int)
    ) {
        let layout = Layout.plan(width: source.0, height: source.1, box: box, mode: mode)
        #expect(
            layout
                == Layout(
                    resizeWidth: resize.0, resizeHeight: resize.1, canvasWidth: canvas.0, canvasHeight: canvas.1,
                    x: offset.0, y: offset.1))
    }
}
