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

    @Test(arguments: [
        // source, box, mode, placement -> offset; crop 640x400 to 100x100 scales to 160x100, 300x500 to 100x167.
        ((640, 400), box, FitMode.crop, Placement.gravity(.west), (0, 0)),
        ((640, 400), box, .crop, .gravity(.east), (60, 0)),
        ((640, 400), box, .crop, .gravity(.northEast), (60, 0)),
        ((640, 400), box, .crop, .gravity(.north), (30, 0)),
        ((300, 500), box, .crop, .gravity(.north), (0, 0)),
        ((300, 500), box, .crop, .gravity(.south), (0, 67)),
        ((300, 500), box, .crop, .gravity(.southWest), (0, 67)),
        ((300, 500), box, .crop, .gravity(.east), (0, 33)),
        ((640, 400), box, .crop, .focalPoint(FocalPoint(x: 60, y: 50)), (46, 0)),
        ((640, 400), box, .crop, .focalPoint(FocalPoint(x: 50, y: 50)), (30, 0)),
        ((640, 400), box, .crop, .focalPoint(FocalPoint(x: 90, y: 10)), (60, 0)),
        ((640, 400), box, .crop, .focalPoint(FocalPoint(x: 0, y: 100)), (0, 0)),
        ((300, 500), box, .crop, .focalPoint(FocalPoint(x: 5, y: 95)), (0, 67)),
        ((300, 500), box, .crop, .focalPoint(FocalPoint(x: 100, y: 40)), (0, 16)),
        ((300, 500), box, .crop, .focalPoint(FocalPoint(x: 50, y: 50)), (0, 33)),
        ((300, 500), box, .crop, .smart, (0, 33)),
        // pad: 640x400 fits as 100x63, 300x500 as 60x100, 20x10 stays.
        ((640, 400), box, .pad, .gravity(.north), (0, 0)),
        ((640, 400), box, .pad, .gravity(.southEast), (0, 37)),
        ((300, 500), box, .pad, .gravity(.west), (0, 0)),
        ((300, 500), box, .pad, .gravity(.northEast), (40, 0)),
        ((20, 10), box, .pad, .gravity(.southEast), (80, 90)),
        ((20, 10), box, .pad, .gravity(.northWest), (0, 0)),
        ((20, 10), box, .pad, .gravity(.south), (40, 90)),
        ((20, 10), box, .pad, .gravity(.centre), (40, 45)),
    ])
    func placement(source: (Int, Int), box: BoxSize, mode: FitMode, placement: Placement, offset: (Int, Int)) {
        let layout = Layout.plan(width: source.0, height: source.1, box: box, mode: mode, placement: placement)
        #expect((layout.x, layout.y) == offset, "\(placement)")
        #expect(layout.canvasWidth == 100 && layout.canvasHeight == 100)
    }
}
