import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// Gravity, focal point and smart on real renders, each from an upright
/// source and from the same picture stored turned, with EXIF orientation 6
/// (as a camera held on its side writes it): they speak of the upright image.
final class PlacementTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    deinit { scratch.remove() }

    /// A JPEG `convert` draws upright with `drawing`; `turned`: stored rotated
    /// a quarter turn anticlockwise, with orientation 6 to turn it back.
    func source(_ drawing: String, turned: Bool) throws -> [UInt8] {
        try sh("convert \(drawing) \(turned ? "-rotate 270" : "") -quality 95 source.jpg", directory: scratch.path)
        let stored = try Data(contentsOf: URL(fileURLWithPath: scratch.file("source.jpg")))
        return Array(turned ? settingOrientation(stored, 6) : stored)
    }

    func request(_ box: String, _ options: String) throws -> ThumbnailRequest {
        try PathGrammar().parse("/thumbnail/\(box),\(options)/png/source.jpg")
    }

    /// `(r, g, b)` of each point of a PNG, by one `convert`.
    func colours(_ png: [UInt8], at points: [(Int, Int)]) throws -> [[Int]] {
        try Data(png).write(to: URL(fileURLWithPath: scratch.file("out.png")))
        let format = points.map { x, y in
            ["r", "g", "b"].map { "%[fx:int(255*p{\(x),\(y)}.\($0))]" }.joined(separator: ",")
        }.joined(separator: " ")
        return try sh("convert out.png -format '\(format)' info:", directory: scratch.path)
            .split(separator: " ").map { $0.split(separator: ",").compactMap { Int($0) } }
    }

    func close(_ actual: [Int], _ expected: [Int]) -> Bool {
        actual.count == 3 && zip(actual, expected).allSatisfy { abs($0 - $1) <= 60 }
    }

    static let red = [255, 0, 0], blue = [0, 0, 255], green = [0, 255, 0], black = [0, 0, 0], white = [255, 255, 255]

    /// 400x300 upright: red band on the left edge, blue on the right, green
    /// along the top and black along the bottom, white inside.
    static let bands = """
        -size 400x300 xc:white -fill red -draw 'rectangle 0,0 19,299' -fill blue -draw 'rectangle 380,0 399,299' \
        -fill lime -draw 'rectangle 20,0 379,14' -fill black -draw 'rectangle 20,285 379,299'
        """

    @Test(arguments: [
        // The option, and which edges it keeps: -1 left or top, 1 right or bottom, 0 neither.
        ("c", 0, 0), ("n", 0, -1), ("ne", 1, -1), ("e", 1, 0), ("se", 1, 1), ("s", 0, 1), ("sw", -1, 1),
        ("w", -1, 0), ("nw", -1, -1),
        // Focal points near the corners clamp to them.
        ("fp95.5", 1, -1), ("fp98.98", 1, 1), ("fp3.97", -1, 1), ("fp0.0", -1, -1),
    ], [false, true])
    func cropWindowIsFlushWithTheNamedEdges(placement: (String, Int, Int), turned: Bool) throws {
        // 100x100 covers with 133x100: the window slides across. 200x50 covers with 200x150: it slides down.
        try expectCrops(of: try source(Self.bands, turned: turned), across: "100x100", down: "200x50", placement)
    }

    /// A crop that scales the source up scales only what its window keeps:
    /// the whole source, squeezed to 400x200, covering 1024x4096 would be
    /// 8192x4096, more than ImageMagick's memory limit allows. The window is
    /// where it was.
    @Test(arguments: [("c", 0, 0), ("ne", 1, -1), ("sw", -1, 1), ("fp3.97", -1, 1)])
    func cropScalingUpKeepsItsWindowOnly(placement: (String, Int, Int)) throws {
        let bytes = try source(Self.bands + " -resize 400x200!", turned: false)
        try expectCrops(of: bytes, across: "1024x4096", down: "4096x600", placement)
    }

    /// Crops of the bands to `across` (a window sliding across) and `down`:
    /// the edges `placement` names are kept, the others cropped away.
    func expectCrops(of bytes: [UInt8], across: String, down: String, _ placement: (String, Int, Int)) throws {
        let (option, horizontal, vertical) = placement
        func crop(_ box: String) throws -> (bytes: [UInt8], width: Int, height: Int) {
            let sides = box.split(separator: "x").compactMap { Int($0) }
            let rendered = try imageMagickAlone { try Renderer.render(try request(box, "crop,\(option)"), source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
            return (rendered.bytes, sides[0], sides[1])
        }
        let sliding = try crop(across)
        let sides = try colours(sliding.bytes, at: [(0, sliding.height / 2), (sliding.width - 1, sliding.height / 2)])
        #expect(close(sides[0], horizontal < 0 ? Self.red : Self.white), "\(option) left edge \(sides[0])")
        #expect(close(sides[1], horizontal > 0 ? Self.blue : Self.white), "\(option) right edge \(sides[1])")
        let falling = try crop(down)
        let ends = try colours(falling.bytes, at: [(falling.width / 2, 0), (falling.width / 2, falling.height - 1)])
        #expect(close(ends[0], vertical < 0 ? Self.green : Self.white), "\(option) top edge \(ends[0])")
        #expect(close(ends[1], vertical > 0 ? Self.black : Self.white), "\(option) bottom edge \(ends[1])")
    }

    @Test(arguments: [("c", 5, 5), ("nw", 0, 0), ("ne", 10, 0), ("s", 5, 10), ("se", 10, 10)], [false, true])
    func padPlacesTheImageOnTheCanvas(placement: (String, Int, Int), turned: Bool) throws {
        let (option, x, y) = placement
        // 10x20 upright, red on top of blue, on a 20x30 canvas of black: 10 pixels free across, 10 down.
        let bytes = try source("-size 10x10 xc:red -size 10x10 xc:blue -append", turned: turned)
        let padded = try imageMagickAlone { try Renderer.render(try request("20x30", "pad,bg000000,\(option)"), source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
        let found = try colours(padded.bytes, at: [(x + 5, y + 2), (x + 5, y + 17), ((x + 15) % 20, 1)])
        #expect(close(found[0], Self.red), "\(option): \(found)")
        #expect(close(found[1], Self.blue), "\(option): \(found)")
        #expect(close(found[2], Self.black), "\(option): \(found)")
    }

    /// A 60x60 subject, a black square in a red one, centred at `centre` of a
    /// 600x400 grey picture, flat or noisy.
    func subject(at centre: (Int, Int), noisy: Bool) -> String {
        let (x, y) = centre
        return """
            -size 600x400 xc:gray60 \(noisy ? "-seed 3 -attenuate 0.5 +noise Gaussian" : "") \
            -fill red -draw 'rectangle \(x - 30),\(y - 30) \(x + 29),\(y + 29)' \
            -fill black -draw 'rectangle \(x - 15),\(y - 15) \(x + 14),\(y + 14)'
            """
    }

    static let positions = [50, 300, 550].flatMap { x in [50, 200, 350].map { y in (x, y) } }

    @Test(arguments: positions, [(false, false), (true, false), (false, true), (true, true)])
    func smartKeepsTheWholeSubject(at centre: (Int, Int), variant: (noisy: Bool, turned: Bool)) throws {
        let bytes = try source(subject(at: centre, noisy: variant.noisy), turned: variant.turned)
        // 60x200 covers with 300x200, the window sliding across; 200x40 with 200x133, sliding down.
        for box in ["60x200", "200x40"] {
            let smart = try request(box, "crop,smart")
            let (plan, choice) = try imageMagickAlone { try Renderer.smartPlan(smart, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
            #expect(plan.sourceWidth == 600 && plan.sourceHeight == 400)
            let window = plan.layout.sourceWindow(width: 600, height: 400)
            let place = "\(box) subject at \(centre) \(variant): window \(window), \(choice)"
            #expect(window.x <= centre.0 - 30 + 2 && window.x + window.width >= centre.0 + 30 - 2, "\(place)")
            #expect(window.y <= centre.1 - 30 + 2 && window.y + window.height >= centre.1 + 30 - 2, "\(place)")
            // The render crops where the plan says: the subject's black heart is there.
            let heart = (
                centre.0 * plan.layout.resizeWidth / 600 - plan.layout.x,
                centre.1 * plan.layout.resizeHeight / 400 - plan.layout.y
            )
            let rendered = try imageMagickAlone { try Renderer.render(smart, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
            #expect(close(try colours(rendered.bytes, at: [heart])[0], Self.black), "\(place): no subject at \(heart)")
        }
    }

    /// A smart crop that scales the source up chooses its window in the
    /// source, of which scaling shows nothing more, and scales only that
    /// part: the whole 400x200 source covering 2048x4096 would be 8192x4096,
    /// more than ImageMagick's memory limit allows.
    @Test(arguments: [(60, 100), (200, 60), (330, 140)])
    func smartScalingUpKeepsTheSubject(at centre: (Int, Int)) throws {
        let drawing = subject(at: (centre.0 + 100, centre.1 + 100), noisy: true) + " -crop 400x200+100+100 +repage"
        let bytes = try source(drawing, turned: false)
        let smart = try request("2048x4096", "crop,smart")
        let (plan, choice) = try imageMagickAlone { try Renderer.smartPlan(smart, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
        let window = plan.layout.sourceWindow(width: 400, height: 200)
        let place = "subject at \(centre): window \(window), \(String(describing: choice))"
        #expect(window.x <= centre.0 - 30 + 2 && window.x + window.width >= centre.0 + 30 - 2, "\(place)")
        let heart = (centre.0 * plan.layout.resizeWidth / 400 - plan.layout.x, centre.1 * plan.layout.resizeHeight / 200)
        let rendered = try imageMagickAlone { try Renderer.render(smart, source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
        #expect(close(try colours(rendered.bytes, at: [heart])[0], Self.black), "\(place): no subject at \(heart)")
    }

    @Test func smartIsDeterministicAndExplained() throws {
        try Data(try source(subject(at: (550, 200), noisy: true), turned: true))
            .write(to: URL(fileURLWithPath: scratch.file("photo.jpg")))
        let path = "/thumbnail/100x100,crop,smart/png/photo.jpg"
        let first = try runInProcess(["-r", scratch.path, path]), second = try runInProcess(["-r", scratch.path, path])
        #expect(first.status == 0 && !first.output.isEmpty && first.output == second.output, "\(first.error)")
        let explained = try runInProcess(["-r", scratch.path, "--explain", path])
        let lines = String(decoding: explained.output, as: UTF8.self).split(separator: "\n")
        // The subject is at the right: the window there, flush with the edge, in upright source pixels.
        #expect(lines.contains("window: 100x100+50+0 of the resized image, 400x400+200+0 of the source"), "\(lines)")
        let score = try #require(lines.first { $0.hasPrefix("smart: score ") }, "\(lines)")
        #expect(score.hasSuffix(")") && score.contains(" of the image's interest (centred window 0."), "\(score)")
    }

    @Test func largeScaledImageIsAveragedInBlocksAndKeepsTheSubject() throws {
        // 2400x1000 scaled to cover 1200x1000 stays 2400x1000: more pixels than the map's cells.
        #expect(2400 * 1000 > SmartCrop.maxCells)
        let bytes = try source(
            "-size 2400x1000 xc:gray60 -fill red -draw 'rectangle 2200,400 2349,549' -fill black "
                + "-draw 'rectangle 2250,450 2299,499'", turned: false)
        let (plan, choice) = try imageMagickAlone { try Renderer.smartPlan(try request("1200x1000", "crop,smart"), source: try SourceFile(identifying: bytes), limits: Limits(), threads: 1) }
        #expect(plan.layout.x <= 2200 && plan.layout.x + 1200 >= 2350, "\(choice)")
    }
}
