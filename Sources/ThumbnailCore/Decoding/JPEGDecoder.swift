internal import CJpeg

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The only file that imports libjpeg (through CJpeg). ImageMagick 6.9.11's
// JPEG coder turns each decoded row into 16-bit samples in its pixel cache,
// and its scale, which then averaged the source down, works in floating point
// on every one of them: a third of a 1920x1080 photograph's render to
// 1024x576. Gray and colour JPEGs are decoded here instead, scaled by libjpeg
// as they decode, their rows averaged down by `BoxReducer` as they come, in
// 8 bits. CMYK and YCCK go to ImageMagick, as before.

enum JPEGDecoder {
    /// The JPEG decoded at the smallest scale libjpeg offers that keeps it at
    /// least `target` (its own size when it is not larger), then averaged down
    /// to `preShrinkSize` of that; nil for a colour space decoded elsewhere.
    static func decode(_ jpeg: [UInt8], to target: (width: Int, height: Int)) throws(ThumbnailError)
        -> (pixels: Pixels, iccProfile: [UInt8]?)?
    {
        try jpeg.withUnsafeBufferPointer { bytes in Result { () throws(ThumbnailError) in
            var message = [CChar](repeating: 0, count: Int(THUMBNAIL_JPEG_MESSAGE))
            func failure() -> ThumbnailError {
                ThumbnailError(.undecodable, "source", String(cString: message))
            }
            var width: Int32 = 0, height: Int32 = 0
            guard let decoder = thumbnail_jpeg_open(bytes.baseAddress, bytes.count, &width, &height, &message) else {
                throw failure()
            }
            defer { thumbnail_jpeg_close(decoder) }
            let channels = Int(thumbnail_jpeg_channels(decoder))
            guard channels > 0 else { return nil }
            var length: UInt32 = 0
            let icc = thumbnail_jpeg_icc_profile(decoder, &length)
            defer { free(icc) }
            let iccProfile = icc.map { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
            let eighths = scale(from: (Int(width), Int(height)), to: target)
            guard thumbnail_jpeg_start(decoder, Int32(eighths), &width, &height, &message) == 0 else { throw failure() }
            let scaled = (width: Int(width), height: Int(height)), stride = scaled.width * channels
            let names = channels == 1 ? "I" : "RGB"
            /// Decodes every row, `count` at most at a time, into `rows`, handing each batch to `take`.
            func decodeRows(into rows: UnsafeMutablePointer<UInt8>, count: Int, advancing: Bool, _ take: (Int, Int) -> Void) throws(ThumbnailError) {
                var done = 0
                while done < scaled.height {
                    let into = advancing ? rows + done * stride : rows
                    let read = Int(thumbnail_jpeg_read(decoder, into, stride, Int32(min(count, scaled.height - done)), &message))
                    guard read > 0 else { throw read < 0 ? failure() : ThumbnailError(.undecodable, "source", "no rows decoded") }
                    take(done, read)
                    done += read
                }
            }
            guard let size = Renderer.preShrinkSize(from: scaled, to: target) else {
                // Already the size to resize from: the rows go straight into the pixels.
                var samples = [UInt8](repeating: 0, count: stride * scaled.height)
                try samples.withUnsafeMutableBufferPointer { (buffer) throws(ThumbnailError) in
                    try decodeRows(into: buffer.baseAddress!, count: scaled.height, advancing: true) { _, _ in }
                }
                return (Pixels(width: scaled.width, height: scaled.height, channels: names, bitsPerSample: 8, samples: samples), iccProfile)
            }
            var reducer = BoxReducer(
                sourceWidth: scaled.width, sourceHeight: scaled.height, to: size, channels: names, bitsPerSample: 8,
                rowsAtOnce: 1)
            let batch = 16
            let rows = UnsafeMutablePointer<UInt8>.allocate(capacity: stride * batch)
            defer { rows.deallocate() }
            try decodeRows(into: rows, count: batch, advancing: false) { first, count in
                for row in 0..<count {
                    reducer.add(row: first + row, first: 0, step: 1, count: scaled.width, pixels: UnsafePointer(rows + row * stride))
                }
                reducer.flush(completeRows: first + count)
            }
            return (reducer.finish(), iccProfile)
        }}.get()
    }

    /// The scale to decode at, in eighths, as ImageMagick chose it for its
    /// `jpeg:size` hint: 1/floor(the smaller of the source's sides over the
    /// target's), which libjpeg rounds up to the next eighth, when the source is
    /// larger on both sides. An eighth that leaves fewer pixels (5/8 where this
    /// gives 8/8 from 1.875 times the target) saves averaging them down but
    /// costs 0.001 of SSIM against Lanczos alone (bench/warm.py, JPEG at 1024).
    static func scale(from source: (width: Int, height: Int), to target: (width: Int, height: Int)) -> Int {
        guard target.width < source.width && target.height < source.height else { return 8 }
        let denominator = max(1, min(source.width / target.width, source.height / target.height))
        return (8 + denominator - 1) / denominator
    }
}
