/// Where `smart` puts the crop window, and why.
public struct SmartChoice: Equatable, Sendable {
    /// The window's offset in the scaled image.
    public var x: Int, y: Int
    /// The window's share of the whole image's interest, 0 to 1, and the
    /// share of the centred window, for comparison.
    public var share: Double, centreShare: Double
}

/// `smart` crops: the window of the scaled image that holds the most visual
/// interest. A pixel's interest is the edge strength of its luminance
/// (Sobel), plus its colourfulness and how much it looks like skin, the
/// cues of libvips' attention strategy. The map is blurred, so that a window
/// with room around its subject scores higher than one that grazes it, and a
/// summed-area table gives every candidate window's total in four lookups.
/// Deterministic: no threads, no randomness, and a tie goes to the window
/// nearest the centre.
enum SmartCrop {
    /// Beyond this many pixels the image is averaged down in square blocks
    /// first, which bounds the map's memory and time whatever the box.
    static let maxCells = 1 << 20

    /// The best `window` in the wand's image, which is seen composited onto `background`.
    static func choose(
        in wand: borrowing Wand, window: (width: Int, height: Int), background: RGB
    ) throws(ThumbnailError) -> SmartChoice {
        let width = wand.width, height = wand.height
        var block = 1
        while cells(width, block) * cells(height, block) > maxCells { block += 1 }
        let map = try ColourMap(wand, block: block, background: background)
        let cellWindow = (
            width: min(map.width, max(1, (window.width + block / 2) / block)),
            height: min(map.height, max(1, (window.height + block / 2) / block))
        )
        // Two box passes: a subject's interest spreads a tenth of the window's shorter side around it.
        let radius = max(1, min(cellWindow.width, cellWindow.height) / 20)
        let interest = blurred(blurred(map.interest(), map.width, map.height, radius), map.width, map.height, radius)
        let table = SummedArea(interest, width: map.width, height: map.height)
        let free = (x: map.width - cellWindow.width, y: map.height - cellWindow.height)
        func score(_ x: Int, _ y: Int) -> Double { table.sum(x: x, y: y, width: cellWindow.width, height: cellWindow.height) }
        let centre = (x: free.x / 2, y: free.y / 2)
        var best = (x: centre.x, y: centre.y, score: score(centre.x, centre.y), distance: free.x % 2 + free.y % 2)
        let centreScore = best.score
        for y in 0...free.y {
            for x in 0...free.x {
                let candidate = score(x, y)
                let distance = abs(2 * x - free.x) + abs(2 * y - free.y)
                if candidate > best.score || (candidate == best.score && distance < best.distance) {
                    best = (x, y, candidate, distance)
                }
            }
        }
        // From cells back to pixels, the window's centre kept.
        func pixels(_ cell: Int, _ cellSide: Int, _ side: Int, _ image: Int) -> Int {
            min(max(0, cell * block + (cellSide * block - side) / 2), image - side)
        }
        let total = table.sum(x: 0, y: 0, width: map.width, height: map.height)
        return SmartChoice(
            x: pixels(best.x, cellWindow.width, window.width, width),
            y: pixels(best.y, cellWindow.height, window.height, height),
            share: total > 0 ? best.score / total : 0, centreShare: total > 0 ? centreScore / total : 0)
    }

    static func cells(_ pixels: Int, _ block: Int) -> Int { (pixels + block - 1) / block }

    /// A box blur of `radius` along the rows, then along the columns; the edges are extended.
    static func blurred(_ values: [Float], _ width: Int, _ height: Int, _ radius: Int) -> [Float] {
        func pass(_ input: [Float], count: Int, lines: Int, at: (Int, Int) -> Int) -> [Float] {
            var output = input
            let scale = 1 / Float(2 * radius + 1)
            for line in 0..<lines {
                var sum: Float = 0
                for i in -radius...radius { sum += input[at(line, min(max(i, 0), count - 1))] }
                for i in 0..<count {
                    output[at(line, i)] = sum * scale
                    sum += input[at(line, min(i + radius + 1, count - 1))] - input[at(line, max(i - radius, 0))]
                }
            }
            return output
        }
        let rows = pass(values, count: width, lines: height) { $0 * width + $1 }
        return pass(rows, count: height, lines: width) { $1 * width + $0 }
    }
}

/// The image's colours, averaged in `block`x`block` cells, composited onto the background.
struct ColourMap {
    let width: Int, height: Int
    /// Red, green and blue of each cell, 0 to 255, row by row.
    var red: [Float], green: [Float], blue: [Float]

    init(_ wand: borrowing Wand, block: Int, background: RGB) throws(ThumbnailError) {
        let imageWidth = wand.width, imageHeight = wand.height
        width = SmartCrop.cells(imageWidth, block)
        height = SmartCrop.cells(imageHeight, block)
        red = Array(repeating: 0, count: width * height)
        green = red
        blue = red
        let under = (Float(background.red), Float(background.green), Float(background.blue))
        for row in 0..<height {
            let top = row * block, rows = min(block, imageHeight - top)
            let pixels = try wand.rgbaRows(from: top, count: rows)
            for line in 0..<rows {
                for x in 0..<imageWidth {
                    let pixel = (line * imageWidth + x) * 4, cell = row * width + x / block
                    let alpha = Float(pixels[pixel + 3]) / 255
                    red[cell] += Float(pixels[pixel]) * alpha + under.0 * (1 - alpha)
                    green[cell] += Float(pixels[pixel + 1]) * alpha + under.1 * (1 - alpha)
                    blue[cell] += Float(pixels[pixel + 2]) * alpha + under.2 * (1 - alpha)
                }
            }
            for column in 0..<width {
                let cell = row * width + column
                let count = Float(rows * min(block, imageWidth - column * block))
                red[cell] /= count
                green[cell] /= count
                blue[cell] /= count
            }
        }
    }

    /// Each cell's interest: edges, colourfulness and skin, on one scale of 0 to about 255 each.
    func interest() -> [Float] {
        let luma = (0..<red.count).map { 0.2126 * red[$0] + 0.7152 * green[$0] + 0.0722 * blue[$0] }
        func at(_ x: Int, _ y: Int) -> Float { luma[min(max(y, 0), height - 1) * width + min(max(x, 0), width - 1)] }
        var result = [Float](repeating: 0, count: red.count)
        for y in 0..<height {
            for x in 0..<width {
                let gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y)
                    - at(x - 1, y + 1)
                let gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1)
                    - at(x + 1, y - 1)
                let cell = y * width + x
                let r = red[cell], g = green[cell], b = blue[cell]
                let chroma = max(r, g, b) - min(r, g, b)
                result[cell] = (abs(gx) + abs(gy)) / 8 + 0.25 * chroma + 0.5 * skin(r, g, b)
            }
        }
        return result
    }

    /// 255 for a typical skin tone, falling to 0 away from it: the red and
    /// green shares of the colour near those of skin, whatever its
    /// brightness, neither very dark nor very light, red above green above blue.
    func skin(_ r: Float, _ g: Float, _ b: Float) -> Float {
        let total = r + g + b
        guard total > 120, total < 700, r > g, g > b else { return 0 }
        let dr = r / total - 0.46, dg = g / total - 0.31
        return 255 * max(0, 1 - (dr * dr + dg * dg).squareRoot() / 0.08)
    }
}

/// Sums over any rectangle of a map in four lookups.
struct SummedArea {
    let width: Int
    /// (width + 1) x (height + 1): entry (x, y) is the sum of every value above and left of it.
    let table: [Double]

    init(_ values: [Float], width: Int, height: Int) {
        self.width = width
        var table = [Double](repeating: 0, count: (width + 1) * (height + 1))
        for y in 0..<height {
            var row: Double = 0
            for x in 0..<width {
                row += Double(values[y * width + x])
                table[(y + 1) * (width + 1) + x + 1] = table[y * (width + 1) + x + 1] + row
            }
        }
        self.table = table
    }

    func sum(x: Int, y: Int, width w: Int, height h: Int) -> Double {
        let stride = width + 1
        return table[(y + h) * stride + x + w] - table[y * stride + x + w] - table[(y + h) * stride + x]
            + table[y * stride + x]
    }
}
