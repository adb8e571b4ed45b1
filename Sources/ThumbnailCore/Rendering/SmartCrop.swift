/// Where `smart` puts the crop window, and why.
package struct SmartChoice: Equatable, Sendable {
    /// The window's offset in the scaled image.
    package var x: Int, y: Int
    /// The window's share of the whole image's interest, 0 to 1, and the
    /// share of the centred window, for comparison.
    package var share: Double, centreShare: Double
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
    /// first, which bounds the map's memory and time whatever the box: a
    /// 200x200 window then moves in steps of 2 pixels.
    static let maxCells = 1 << 15

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
        /// `lines` lines of `count` values, `step` apart, each line `stride` after the last.
        func pass(_ input: [Float], count: Int, step: Int, lines: Int, stride: Int) -> [Float] {
            var output = input
            let scale = 1 / Float(2 * radius + 1)
            input.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { output in
                    for line in 0..<lines {
                        let start = line * stride
                        func value(_ i: Int) -> Float { input[start + min(max(i, 0), count - 1) * step] }
                        var sum: Float = 0
                        for i in -radius...radius { sum += value(i) }
                        for i in 0..<count {
                            output[start + i * step] = sum * scale
                            sum += value(i + radius + 1) - value(i - radius)
                        }
                    }
                }
            }
            return output
        }
        let rows = pass(values, count: width, step: 1, lines: height, stride: width)
        return pass(rows, count: height, step: width, lines: width, stride: 1)
    }
}

/// The image's colours, averaged in `block`x`block` cells, composited onto the background.
struct ColourMap {
    let width: Int, height: Int
    /// Red, green and blue of each cell, 0 to 255, interleaved, row by row.
    var colours: [Float]

    init(_ wand: borrowing Wand, block: Int, background: RGB) throws(ThumbnailError) {
        let imageWidth = wand.width, imageHeight = wand.height
        let width = SmartCrop.cells(imageWidth, block), height = SmartCrop.cells(imageHeight, block)
        var colours = [Float](repeating: 0, count: width * height * 3)
        let under = (Int(background.red), Int(background.green), Int(background.blue))
        for row in 0..<height {
            let top = row * block, rows = min(block, imageHeight - top)
            let pixels = try wand.rgbaRows(from: top, count: rows)
            pixels.withUnsafeBufferPointer { pixels in
                colours.withUnsafeMutableBufferPointer { colours in
                    for column in 0..<width {
                        let cell = (row * width + column) * 3, left = column * block
                        let right = min(left + block, imageWidth)
                        // In whole numbers, 255 times the composited colour.
                        var sum = (0, 0, 0)
                        for line in 0..<rows {
                            for x in left..<right {
                                let pixel = (line * imageWidth + x) * 4
                                let alpha = Int(pixels[pixel + 3]), rest = 255 - alpha
                                sum.0 += Int(pixels[pixel]) * alpha + under.0 * rest
                                sum.1 += Int(pixels[pixel + 1]) * alpha + under.1 * rest
                                sum.2 += Int(pixels[pixel + 2]) * alpha + under.2 * rest
                            }
                        }
                        let count = Float(rows * (right - left) * 255)
                        colours[cell] = Float(sum.0) / count
                        colours[cell + 1] = Float(sum.1) / count
                        colours[cell + 2] = Float(sum.2) / count
                    }
                }
            }
        }
        self.width = width
        self.height = height
        self.colours = colours
    }

    /// Each cell's interest: edges, colourfulness and skin, each on a scale of 0 to about 255, weighed.
    func interest() -> [Float] {
        // Luminance with a border of one cell, its edge repeated, so every cell has eight neighbours.
        let stride = width + 2
        var luma = [Float](repeating: 0, count: stride * (height + 2))
        for y in -1...height {
            for x in -1...width {
                let cell = (min(max(y, 0), height - 1) * width + min(max(x, 0), width - 1)) * 3
                luma[(y + 1) * stride + x + 1] =
                    0.2126 * colours[cell] + 0.7152 * colours[cell + 1] + 0.0722 * colours[cell + 2]
            }
        }
        var result = [Float](repeating: 0, count: width * height)
        luma.withUnsafeBufferPointer { luma in
            colours.withUnsafeBufferPointer { colours in
                result.withUnsafeMutableBufferPointer { result in
                    for y in 0..<height {
                        for x in 0..<width {
                            let centre = (y + 1) * stride + x + 1
                            let above = centre - stride, below = centre + stride
                            let gx = luma[above + 1] + 2 * luma[centre + 1] + luma[below + 1] - luma[above - 1]
                                - 2 * luma[centre - 1] - luma[below - 1]
                            let gy = luma[below - 1] + 2 * luma[below] + luma[below + 1] - luma[above - 1]
                                - 2 * luma[above] - luma[above + 1]
                            let cell = y * width + x
                            let r = colours[3 * cell], g = colours[3 * cell + 1], b = colours[3 * cell + 2]
                            // Only strong colour counts: a blue sky or a tinted background is not a subject.
                            let colourfulness = max(0, max(r, g, b) - min(r, g, b) - 60)
                            result[cell] = (abs(gx) + abs(gy)) / 8 + 0.25 * colourfulness + 0.5 * skin(r, g, b)
                        }
                    }
                }
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
        table.withUnsafeMutableBufferPointer { table in
            for y in 0..<height {
                var row: Double = 0
                for x in 0..<width {
                    row += Double(values[y * width + x])
                    table[(y + 1) * (width + 1) + x + 1] = table[y * (width + 1) + x + 1] + row
                }
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
