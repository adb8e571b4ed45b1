/// Averages a source image down to a smaller size while it is decoded, so
/// that memory follows the output, not the source. Each output pixel is the
/// mean of the source area it covers (fractions of a pixel at its edges), as
/// ImageMagick's box filter and libwebp's scaling compute it; colours are
/// weighted by alpha, as ImageMagick weights them. The same size passes the
/// samples through unchanged.
///
/// Source pixels may come in any order (interlaced passes, tiles), in runs
/// of one row; an output row is written out once `flush` is told that every
/// source row it covers has come. Only the output rows still open are held.
struct BoxReducer {
    let sourceWidth: Int, sourceHeight: Int
    let width: Int, height: Int
    let channels: Int
    let maximum: Float
    let hasAlpha: Bool
    let bitsPerSample: Int
    private let channelNames: String
    private let copiesThrough: Bool

    /// Per source column and row: the first output column or row it falls
    /// in, and its weights there and in the next one (zero when it fits).
    private let columnIndex: [Int], columnWeights: [(Float, Float)]
    private let rowIndex: [Int], rowWeights: [(Float, Float)]
    /// Output rows being summed, a ring indexed by row modulo its count; one
    /// source run summed across, before it is spread over two rows.
    private var open: [Float]
    private let openRows: Int
    private var run: [Float]
    /// Per output column: where the source pixels wholly inside it end (the
    /// one across it and the next, if any, is there).
    private let wholeEnd: [Int]
    private var flushedRows = 0
    private var samples: [UInt8]

    /// `rowsAtOnce`: how many source rows may be in progress together (1 when
    /// rows come in order, the tile height for tiles, the height for interlacing).
    init(
        sourceWidth: Int, sourceHeight: Int, to size: (width: Int, height: Int), channels: String,
        bitsPerSample: Int, rowsAtOnce: Int
    ) {
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        (width, height) = (min(size.width, sourceWidth), min(size.height, sourceHeight))
        channelNames = channels
        self.channels = channels.count
        hasAlpha = channels.hasSuffix("A")
        self.bitsPerSample = bitsPerSample
        maximum = bitsPerSample == 16 ? 65535 : 255
        copiesThrough = width == sourceWidth && height == sourceHeight
        (columnIndex, columnWeights) = Self.spans(from: sourceWidth, to: width)
        (rowIndex, rowWeights) = Self.spans(from: sourceHeight, to: height)
        openRows = min(height, (rowsAtOnce * height + sourceHeight - 1) / sourceHeight + 1) + 1
        open = [Float](repeating: 0, count: copiesThrough ? 0 : openRows * (width + 1) * self.channels)
        run = [Float](repeating: 0, count: copiesThrough ? 0 : (width + 1) * self.channels)
        var wholeEnd = [Int](repeating: -1, count: width + 1)
        for (x, column) in columnIndex.enumerated() {
            if wholeEnd[column] < 0 { wholeEnd[column] = x }
            if columnWeights[x].1 == 0 { wholeEnd[column] = x + 1 }
        }
        self.wholeEnd = wholeEnd
        samples = [UInt8](repeating: 0, count: width * height * self.channels * bitsPerSample / 8)
    }

    /// Source position i covers [i * outputs, (i + 1) * outputs) and output j
    /// covers [j * inputs, (j + 1) * inputs): both have length inputs * outputs.
    private static func spans(from inputs: Int, to outputs: Int) -> ([Int], [(Float, Float)]) {
        var index = [Int](repeating: 0, count: inputs)
        var weights = [(Float, Float)](repeating: (0, 0), count: inputs)
        for i in 0..<inputs {
            let start = i * outputs, j = start / inputs
            let inFirst = min(start + outputs, (j + 1) * inputs) - start
            index[i] = j
            weights[i] = (Float(inFirst) / Float(inputs), Float(outputs - inFirst) / Float(inputs))
        }
        return (index, weights)
    }

    /// Adds `count` pixels of source row `row`, at columns `first`,
    /// `first + step`, ...; `pixels` holds them one after the other.
    mutating func add<Sample: FixedWidthInteger & UnsignedInteger>(
        row: Int, first: Int, step: Int, count: Int, pixels: UnsafePointer<Sample>
    ) {
        guard count > 0, row >= 0, row < sourceHeight, first >= 0, first + (count - 1) * step < sourceWidth else {
            return
        }
        let channels = channels
        if copiesThrough {
            guard MemoryLayout<Sample>.size * 8 == bitsPerSample else { return }
            samples.withUnsafeMutableBytes { bytes in
                let row = bytes.baseAddress!.assumingMemoryBound(to: Sample.self) + row * width * channels
                for k in 0..<count {
                    (row + (first + k * step) * channels).update(from: pixels + k * channels, count: channels)
                }
            }
            return
        }
        let low = columnIndex[first], high = columnIndex[first + (count - 1) * step] + 1
        if hasAlpha {
            sumAcross(first: first, step: step, count: count, pixels: pixels)
        } else {
            sumWholesAcross(first: first, step: step, count: count, pixels: pixels)
        }
        // Spread the run over the output row it falls in and the next.
        let (inFirst, inNext) = rowWeights[row]
        let top = rowIndex[row]
        let rowLength = (width + 1) * channels
        open.withUnsafeMutableBufferPointer { open in
            run.withUnsafeMutableBufferPointer { run in
                let firstRow = (top % openRows) * rowLength, nextRow = ((top + 1) % openRows) * rowLength
                for i in (low * channels)..<(min(high + 1, width + 1) * channels) {
                    open[firstRow + i] += inFirst * run[i]
                    open[nextRow + i] += inNext * run[i]
                    run[i] = 0
                }
            }
        }
    }

    /// Sums a run with alpha (gray or RGB and alpha) into `run`, colours
    /// weighted by opacity. As without alpha, the pixels wholly inside a
    /// column are summed as integers (colour times opacity, and opacity).
    private mutating func sumAcross<Sample: FixedWidthInteger & UnsignedInteger>(
        first: Int, step: Int, count: Int, pixels: UnsafePointer<Sample>
    ) {
        let channels = channels, alpha = channels - 1, scale = 1 / maximum
        let whole = Float(width) / Float(sourceWidth), wholeColour = whole * scale
        columnIndex.withUnsafeBufferPointer { columnIndex in
            columnWeights.withUnsafeBufferPointer { columnWeights in
                wholeEnd.withUnsafeBufferPointer { wholeEnd in
                    run.withUnsafeMutableBufferPointer { run in
                        var k = 0
                        while k < count {
                            let column = columnIndex[first + k * step], target = column * channels
                            let stop = min(count, max(k, (wholeEnd[column] - first + step - 1) / step))
                            var pixel = pixels + k * channels
                            if channels == 4 {
                                var red: UInt64 = 0, green: UInt64 = 0, blue: UInt64 = 0, opacity: UInt64 = 0
                                for _ in k..<stop {
                                    let a = UInt64(pixel[3])
                                    red &+= UInt64(pixel[0]) &* a
                                    green &+= UInt64(pixel[1]) &* a
                                    blue &+= UInt64(pixel[2]) &* a
                                    opacity &+= a
                                    pixel += channels
                                }
                                run[target] += wholeColour * Float(red)
                                run[target + 1] += wholeColour * Float(green)
                                run[target + 2] += wholeColour * Float(blue)
                                run[target + 3] += whole * Float(opacity)
                            } else {
                                var gray: UInt64 = 0, opacity: UInt64 = 0
                                for _ in k..<stop {
                                    let a = UInt64(pixel[1])
                                    gray &+= UInt64(pixel[0]) &* a
                                    opacity &+= a
                                    pixel += channels
                                }
                                run[target] += wholeColour * Float(gray)
                                run[target + 1] += whole * Float(opacity)
                            }
                            k = stop
                            guard k < count else { break }
                            let x = first + k * step
                            let (inFirst, inNext) = columnWeights[x]
                            guard columnIndex[x] == column, inNext != 0 else { continue }
                            let opacity = Float(pixel[alpha])
                            run[target + alpha] += inFirst * opacity
                            run[target + channels + alpha] += inNext * opacity
                            let first = inFirst * opacity * scale, next = inNext * opacity * scale
                            for c in 0..<alpha {
                                let value = Float(pixel[c])
                                run[target + c] += first * value
                                run[target + channels + c] += next * value
                            }
                            k += 1
                        }
                    }
                }
            }
        }
    }

    /// Sums a run without alpha (gray or RGB) into `run`. The source pixels
    /// wholly inside one output column all weigh the same there: they are
    /// added up as integers and weighted once; only a pixel across two
    /// columns is weighted on its own.
    private mutating func sumWholesAcross<Sample: FixedWidthInteger & UnsignedInteger>(
        first: Int, step: Int, count: Int, pixels: UnsafePointer<Sample>
    ) {
        let channels = channels, whole = Float(width) / Float(sourceWidth)
        columnIndex.withUnsafeBufferPointer { columnIndex in
            columnWeights.withUnsafeBufferPointer { columnWeights in
                wholeEnd.withUnsafeBufferPointer { wholeEnd in
                    run.withUnsafeMutableBufferPointer { run in
                        var k = 0
                        while k < count {
                            let column = columnIndex[first + k * step], target = column * channels
                            let stop = min(count, max(k, (wholeEnd[column] - first + step - 1) / step))
                            var pixel = pixels + k * channels
                            if channels == 3 {
                                var red: UInt32 = 0, green: UInt32 = 0, blue: UInt32 = 0
                                for _ in k..<stop {
                                    red &+= UInt32(pixel[0])
                                    green &+= UInt32(pixel[1])
                                    blue &+= UInt32(pixel[2])
                                    pixel += channels
                                }
                                run[target] += whole * Float(red)
                                run[target + 1] += whole * Float(green)
                                run[target + 2] += whole * Float(blue)
                            } else {
                                var gray: UInt32 = 0
                                for _ in k..<stop {
                                    gray &+= UInt32(pixel[0])
                                    pixel += channels
                                }
                                run[target] += whole * Float(gray)
                            }
                            k = stop
                            guard k < count else { break }
                            // Next: the pixel across this column and the next, or one further on.
                            let x = first + k * step
                            let (inFirst, inNext) = columnWeights[x]
                            guard columnIndex[x] == column, inNext != 0 else { continue }
                            for c in 0..<channels {
                                let value = Float(pixel[c])
                                run[target + c] += inFirst * value
                                run[target + channels + c] += inNext * value
                            }
                            k += 1
                        }
                    }
                }
            }
        }
    }

    /// Writes out the output rows whose source rows, all those above
    /// `completeRows`, have come.
    mutating func flush(completeRows: Int) {
        let done = completeRows >= sourceHeight ? height : completeRows * height / sourceHeight
        if copiesThrough { return }
        let channels = channels, alpha = channels - 1, hasAlpha = hasAlpha, maximum = maximum
        let rowLength = (width + 1) * channels
        while flushedRows < done {
            let ring = (flushedRows % openRows) * rowLength
            let out = flushedRows * width * channels
            open.withUnsafeMutableBufferPointer { open in
                samples.withUnsafeMutableBytes { bytes in
                    func store(_ value: Float, at index: Int) {
                        let clamped = min(max(value.rounded(), 0), maximum)
                        if maximum == 255 {
                            bytes[index] = UInt8(clamped)
                        } else {
                            bytes.storeBytes(of: UInt16(clamped), toByteOffset: 2 * index, as: UInt16.self)
                        }
                    }
                    for x in 0..<width {
                        let sum = ring + x * channels
                        // Colours were summed weighted by opacity: divide by the summed opacity.
                        let opacity = hasAlpha ? open[sum + alpha] : maximum
                        let colourScale = opacity > 0 ? maximum / opacity : 0
                        for c in 0..<channels {
                            let value = hasAlpha && c < alpha ? open[sum + c] * colourScale : open[sum + c]
                            store(value, at: out + x * channels + c)
                        }
                    }
                    for i in ring..<(ring + rowLength) { open[i] = 0 }
                }
            }
            flushedRows += 1
        }
    }

    /// The output, once every source row has been flushed.
    consuming func finish() -> Pixels {
        flush(completeRows: sourceHeight)
        return Pixels(
            width: width, height: height, channels: channelNames, bitsPerSample: bitsPerSample, samples: samples)
    }
}
