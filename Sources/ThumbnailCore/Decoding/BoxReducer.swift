/// Averages a source image down to a smaller size while it is decoded, so
/// that memory follows the output, not the source. Each output pixel is the
/// mean of the source area it covers, each source pixel weighted by the part
/// of it inside (fractions of a pixel at its edges), as libwebp's scaling
/// computes it; colours are weighted by alpha, as ImageMagick weights them.
/// The same size passes the samples through unchanged.
///
/// In integers: a weight is in 1/2^14ths of an output pixel's side, and an
/// output pixel's weights along each side add up to exactly 2^14, so its
/// mean is its sum of weights times samples shifted down (without alpha) or
/// divided by its sum of weights times opacity (with alpha).
///
/// Source pixels may come in any order (interlaced passes, tiles), in runs
/// of one row; an output row is written out once `flush` is told that every
/// source row it covers has come. Only the output rows still open are held.
struct BoxReducer {
    let sourceWidth: Int, sourceHeight: Int
    let width: Int, height: Int
    let channels: Int
    let hasAlpha: Bool
    let bitsPerSample: Int
    private let channelNames: String
    private let copiesThrough: Bool

    /// An output pixel's side is 2^unitBits. 16-bit colour times 16-bit
    /// opacity times both sides' weights stays within 64 bits.
    private static let unitBits = 14

    /// Where a source column or row falls: the first output column or row
    /// it is in, and its weights there and in the next one (zero when it fits).
    private struct Span {
        var index: Int
        var first: UInt64, next: UInt64
    }

    private let columns: Memory<Span>
    /// Per output column: where the source columns wholly inside it end (the
    /// one across it and the next, if any, is there).
    private let wholeEnd: Memory<Int>
    /// Whether runs of consecutive pixels go through `sumInOrder` rather
    /// than `sum`: from four source columns an output
    /// column on, where it costs less (callgrind, a 3840x2400 TIFF to 100x100:
    /// 538 M instructions against 685 M).
    private let inOrder: Bool
    private let rows: [Span]
    /// Output rows being summed, a ring indexed by row modulo its count; a
    /// source run summed across by `sumInOrder`, before it is added to one or two of them.
    private let open: Memory<UInt64>, across: Memory<UInt64>
    private let openRows: Int
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
        copiesThrough = width == sourceWidth && height == sourceHeight
        let columns = Self.spans(from: sourceWidth, to: width)
        var wholeEnd = [Int](repeating: 0, count: width + 1)
        for (x, column) in columns.enumerated().reversed() where column.next == 0 && wholeEnd[column.index] == 0 {
            wholeEnd[column.index] = x + 1
        }
        self.columns = Memory(columns)
        self.wholeEnd = Memory(wholeEnd)
        inOrder = sourceWidth >= 4 * width
        rows = Self.spans(from: sourceHeight, to: height)
        openRows = min(height, (rowsAtOnce * height + sourceHeight - 1) / sourceHeight + 1) + 1
        open = Memory(repeating: 0, count: copiesThrough ? 0 : openRows * (width + 1) * self.channels)
        across = Memory(repeating: 0, count: inOrder ? (width + 1) * self.channels : 0)
        samples = [UInt8](repeating: 0, count: width * height * self.channels * bitsPerSample / 8)
    }

    /// Source position i covers [i * outputs, (i + 1) * outputs) and output j
    /// covers [j * inputs, (j + 1) * inputs), both of length inputs * outputs.
    /// A weight is the difference of two boundaries, each rounded to 2^unitBits
    /// per output: an output's own boundaries fall on whole outputs, so its
    /// weights add up to exactly 2^unitBits.
    private static func spans(from inputs: Int, to outputs: Int) -> [Span] {
        func position(_ boundary: Int) -> UInt64 { UInt64((boundary << unitBits + inputs / 2) / inputs) }
        return (0..<inputs).map { i in
            let start = i * outputs, end = start + outputs, j = start / inputs, split = (j + 1) * inputs
            return end > split
                ? Span(index: j, first: position(split) - position(start), next: position(end) - position(split))
                : Span(index: j, first: position(end) - position(start), next: 0)
        }
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
        let span = rows[row]
        guard inOrder && step == 1 else {
            // Into the output row the source row falls in and, if it spans two, the next, in one pass.
            sum(into: span, first: first, step: step, count: count, pixels: pixels)
            return
        }
        // Summed across once, with the column weights; then into the output row the
        // source row falls in and, if it spans two, the next, with the row weights.
        sumInOrder(first: first, count: count, pixels: pixels)
        let low = columns.start[first].index * channels
        let high = min(columns.start[first + count - 1].index + 2, width + 1) * channels
        let rowLength = (width + 1) * channels, across = across.start
        func spread(into row: Int, weight: UInt64) {
            let sums = open.start + (row % openRows) * rowLength
            for i in low..<high { sums[i] &+= weight &* across[i] }
        }
        spread(into: span.index, weight: span.first)
        if span.next > 0 { spread(into: span.index + 1, weight: span.next) }
        (across + low).update(repeating: 0, count: high - low)
    }

    /// Adds a run to the output row `span` names and, when the source row
    /// spans two, the next: each sample times the source row's weight there
    /// and its column weights, into the output column it falls in and the
    /// next; with alpha, colours times opacity too.
    private func sum<Sample: FixedWidthInteger & UnsignedInteger>(
        into span: Span, first: Int, step: Int, count: Int, pixels: UnsafePointer<Sample>
    ) {
        let channels = channels, hasAlpha = hasAlpha, columns = columns.start, rowLength = (width + 1) * channels
        let sums = open.start + (span.index % openRows) * rowLength
        let nextSums = open.start + ((span.index + 1) % openRows) * rowLength
        let (weight, nextWeight) = (span.first, span.next)
        /// The loop for `colours` colours and one or two output rows, constants
        /// once inlined, so the compiler unrolls it.
        @inline(__always) func sum(colours: Int, twoRows: Bool) {
            var pixel = pixels, x = first
            for _ in 0..<count {
                let column = columns[x]
                var inFirst = weight &* column.first, inNext = weight &* column.next
                var belowFirst = nextWeight &* column.first, belowNext = nextWeight &* column.next
                let offset = column.index &* channels
                let here = sums + offset, next = here + channels
                let below = nextSums + offset, belowAfter = below + channels
                if hasAlpha {
                    let opacity = UInt64(pixel[colours])
                    inFirst &*= opacity
                    inNext &*= opacity
                    here[colours] &+= inFirst
                    next[colours] &+= inNext
                    if twoRows {
                        belowFirst &*= opacity
                        belowNext &*= opacity
                        below[colours] &+= belowFirst
                        belowAfter[colours] &+= belowNext
                    }
                }
                for c in 0..<colours {
                    let value = UInt64(pixel[c])
                    here[c] &+= inFirst &* value
                    next[c] &+= inNext &* value
                    if twoRows {
                        below[c] &+= belowFirst &* value
                        belowAfter[c] &+= belowNext &* value
                    }
                }
                pixel += channels
                x &+= step
            }
        }
        switch (channels - (hasAlpha ? 1 : 0) == 3, nextWeight > 0) {
        case (true, false): sum(colours: 3, twoRows: false)
        case (true, true): sum(colours: 3, twoRows: true)
        case (false, false): sum(colours: 1, twoRows: false)
        case (false, true): sum(colours: 1, twoRows: true)
        }
    }

    /// Adds a run of consecutive pixels, most often a whole row, to `across`,
    /// each sample times its column weight (colours times opacity too, with
    /// alpha): the pixels wholly inside an output column are summed in
    /// registers and added to it once; only the one across two columns is
    /// added to both on its own.
    private func sumInOrder<Sample: FixedWidthInteger & UnsignedInteger>(
        first: Int, count: Int, pixels: UnsafePointer<Sample>
    ) {
        let channels = channels, columns = columns.start, wholeEnd = wholeEnd.start, across = across.start
        /// The loop for `colours` colours, with or without alpha: constants once
        /// inlined, so that the compiler unrolls it.
        @inline(__always) func sum(colours: Int, alpha hasAlpha: Bool) {
            var pixel = pixels, x = first
            let end = first + count
            while x < end {
                let column = columns[x].index, stop = min(end, max(x, wholeEnd[column]))
                var sum0: UInt64 = 0, sum1: UInt64 = 0, sum2: UInt64 = 0, opacities: UInt64 = 0
                while x < stop {
                    var weight = columns[x].first
                    if hasAlpha {
                        weight &*= UInt64(pixel[colours])
                        opacities &+= weight
                    }
                    sum0 &+= weight &* UInt64(pixel[0])
                    if colours == 3 {
                        sum1 &+= weight &* UInt64(pixel[1])
                        sum2 &+= weight &* UInt64(pixel[2])
                    }
                    pixel += channels
                    x &+= 1
                }
                let here = across + column &* channels
                here[0] &+= sum0
                if colours == 3 {
                    here[1] &+= sum1
                    here[2] &+= sum2
                }
                if hasAlpha { here[colours] &+= opacities }
                // The pixel across this column and the next, if the run goes that far.
                if x < end && columns[x].index == column {
                    let span = columns[x], next = here + channels
                    var inFirst = span.first, inNext = span.next
                    if hasAlpha {
                        let opacity = UInt64(pixel[colours])
                        inFirst &*= opacity
                        inNext &*= opacity
                        here[colours] &+= inFirst
                        next[colours] &+= inNext
                    }
                    for c in 0..<colours {
                        here[c] &+= inFirst &* UInt64(pixel[c])
                        next[c] &+= inNext &* UInt64(pixel[c])
                    }
                    pixel += channels
                    x &+= 1
                }
            }
        }
        switch (channels - (hasAlpha ? 1 : 0), hasAlpha) {
        case (3, false): sum(colours: 3, alpha: false)
        case (3, true): sum(colours: 3, alpha: true)
        case (_, false): sum(colours: 1, alpha: false)
        case (_, true): sum(colours: 1, alpha: true)
        }
    }

    /// Writes out the output rows whose source rows, all those above
    /// `completeRows`, have come.
    mutating func flush(completeRows: Int) {
        let done = completeRows >= sourceHeight ? height : completeRows * height / sourceHeight
        if copiesThrough { return }
        let channels = channels, hasAlpha = hasAlpha, colours = hasAlpha ? channels - 1 : channels
        let width = width, rowLength = (width + 1) * channels, wide = bitsPerSample == 16
        // An output pixel's weights add up to 2^unitBits along each side: its sum shifted down by both is its mean.
        let shift = UInt64(2 * Self.unitBits), half = UInt64(1) << (shift - 1)
        while flushedRows < done {
            let first = flushedRows * width * channels
            let sums = open.start + (flushedRows % openRows) * rowLength
            samples.withUnsafeMutableBytes { bytes in
                /// Each mean, `Stored` the samples' type, `colours` and `hasAlpha` constants once
                /// inlined, so that the compiler unrolls the loop.
                @inline(__always) func store<Stored: FixedWidthInteger>(as: Stored.Type, colours: Int, alpha hasAlpha: Bool) {
                    let channels = hasAlpha ? colours + 1 : colours
                    let out = bytes.baseAddress!.assumingMemoryBound(to: Stored.self) + first
                    for x in 0..<width {
                        let sum = sums + x &* channels, pixel = out + x &* channels
                        if hasAlpha {
                            // Colours were summed times opacity: divided by the summed opacity.
                            let opacity = sum[colours]
                            for c in 0..<colours {
                                pixel[c] = Stored(truncatingIfNeeded: opacity > 0 ? (sum[c] &+ opacity / 2) / opacity : 0)
                            }
                            pixel[colours] = Stored(truncatingIfNeeded: (opacity &+ half) >> shift)
                        } else {
                            for c in 0..<colours { pixel[c] = Stored(truncatingIfNeeded: (sum[c] &+ half) >> shift) }
                        }
                    }
                }
                @inline(__always) func store<Stored: FixedWidthInteger>(as type: Stored.Type) {
                    switch (colours, hasAlpha) {
                    case (3, false): store(as: type, colours: 3, alpha: false)
                    case (3, true): store(as: type, colours: 3, alpha: true)
                    case (_, false): store(as: type, colours: 1, alpha: false)
                    case (_, true): store(as: type, colours: 1, alpha: true)
                    }
                }
                if wide { store(as: UInt16.self) } else { store(as: UInt8.self) }
            }
            sums.update(repeating: 0, count: rowLength)
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

/// Memory the reducer's loops address without a closure, freed with it. In
/// a `withUnsafeMutableBufferPointer` body that ended in a call to memset,
/// Swift 6.3's optimizer left the error register clobbered: the closure
/// seemed to throw, and a throwing caller (the TIFF decoder's) failed.
private final class Memory<Element> {
    let start: UnsafeMutablePointer<Element>
    private let count: Int

    init(repeating value: Element, count: Int) {
        self.count = count
        start = .allocate(capacity: max(count, 1))
        start.initialize(repeating: value, count: count)
    }

    init(_ elements: [Element]) {
        count = elements.count
        start = .allocate(capacity: max(count, 1))
        for (index, element) in elements.enumerated() { (start + index).initialize(to: element) }
    }

    deinit {
        start.deinitialize(count: count)
        start.deallocate()
    }
}
