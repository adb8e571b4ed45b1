internal import CSpng

// The only file that imports libspng. ImageMagick 6.9.11's PNG coder holds
// the whole image at 16 bits a sample (Debian's policy then refuses PNGs
// above about 30 megapixels) and, as Debian builds it, a process-wide lock
// for the whole read. libspng hands out one row at a time, interlaced passes
// included, which `BoxReducer` averages down as they come, in the caller's
// thread alone. It reads the source as a stream, a block at a time, so a
// PNG still in its file (see `SourceBytes`) is never held whole.
//
// Like ImageMagick's coder this applies no gamma: a gAMA, cHRM or sRGB chunk
// changes no sample (ImageMagick keeps them as image attributes that the
// output, stripped, never carries). An iCCP profile goes to the sRGB
// conversion. Every other chunk is ignored, as it is stripped on output.
// As vipsthumbnail has libpng do, neither the chunks' CRCs nor zlib's
// Adler-32 are checked: they cost 5% of a large PNG's decode, and a wrong
// one only ever guards bytes that decode all the same.

enum PNGDecoder {
    /// Decodes a PNG averaged down to `size` (its own size when nil); nil
    /// when libspng finds it malformed, for ImageMagick to judge as before.
    /// A source that cannot be read, or grows past its limit, is an error.
    /// `inflateAside`: the image data inflated on a thread of its own
    /// (`PNGInflater`), for a large PNG when a second core is free.
    static func decode(_ png: SourceBytes, scaledTo size: (width: Int, height: Int)?, inflateAside: Bool = false)
        throws(ThumbnailError) -> (pixels: Pixels, iccProfile: [UInt8]?)?
    {
        guard let context = spng_ctx_new(Int32(SPNG_CTX_IGNORE_ADLER32.rawValue)) else {
            throw ThumbnailError(.internalFailure, "libspng", "cannot create a decoder")
        }
        defer { spng_ctx_free(context) }
        let stream: Stream
        let inflater = inflateAside ? PNGInflater(png.reader()) : nil
        if let inflater {
            stream = Stream { buffer throws(ThumbnailError) in try inflater.read(into: buffer) }
        } else {
            var reader = png.reader()
            stream = Stream { buffer throws(ThumbnailError) in try reader.read(into: buffer) }
        }
        let outcome = withExtendedLifetime(stream) {
            Result { () throws(SpngError) in
                let user = Unmanaged.passUnretained(stream).toOpaque()
                try check(spng_set_png_stream(context, { _, user, destination, length in
                    Unmanaged<Stream>.fromOpaque(user!).takeUnretainedValue().read(into: destination!, count: length)
                }, user))
                try check(spng_set_crc_action(context, Int32(SPNG_CRC_USE.rawValue), Int32(SPNG_CRC_USE.rawValue)))
                try check(spng_set_image_limits(context, 65_535, 65_535))
                // Text and profiles, decompressed, may not outgrow the file by much.
                let chunkLimit = max(png.count, 1 << 20)
                try check(spng_set_chunk_limits(context, chunkLimit, 4 * chunkLimit))
                return try decode(context, scaledTo: size)
            }
        }
        if let failure = inflater?.finish() ?? stream.failure { throw failure }
        switch outcome {
        case .success(let decoded): return decoded
        case .failure(let error) where error.code == Int32(SPNG_EMEM.rawValue):
            throw ThumbnailError(.tooLarge, "source", "PNG: \(error.message)")
        case .failure: return nil
        }
    }

    /// The source as libspng reads it: exactly the bytes it asks for, from a
    /// buffer filled a block at a time.
    private final class Stream {
        /// Fills a buffer from the source; 0 at its end.
        private let source: (UnsafeMutableRawBufferPointer) throws(ThumbnailError) -> Int
        private var buffer = [UInt8](repeating: 0, count: 1 << 17)
        private var start = 0, end = 0
        /// Why the source could not be read, if it could not.
        private(set) var failure: ThumbnailError? = nil

        init(_ source: @escaping (UnsafeMutableRawBufferPointer) throws(ThumbnailError) -> Int) { self.source = source }

        func read(into destination: UnsafeMutableRawPointer, count: Int) -> Int32 {
            var copied = 0
            while copied < count {
                if start == end {
                    let read = buffer.withUnsafeMutableBytes { buffer in
                        Result { () throws(ThumbnailError) in try source(buffer) }
                    }
                    switch read {
                    case .success(let count): end = count
                    case .failure(let error):
                        failure = error
                        return SPNG_IO_ERROR.rawValue
                    }
                    start = 0
                    if end == 0 { return SPNG_IO_EOF.rawValue }
                }
                let piece = min(count - copied, end - start)
                buffer.withUnsafeBytes { buffer in
                    (destination + copied).copyMemory(from: buffer.baseAddress! + start, byteCount: piece)
                }
                start += piece
                copied += piece
            }
            return 0
        }
    }

    private static func decode(_ context: OpaquePointer, scaledTo size: (width: Int, height: Int)?) throws(SpngError)
        -> (pixels: Pixels, iccProfile: [UInt8]?)
    {
        var header = spng_ihdr()
        try check(spng_get_ihdr(context, &header))
        var transparency = spng_trns()
        let hasTransparency = spng_get_trns(context, &transparency) == 0
        let (format, channels) = outputFormat(header, hasTransparency: hasTransparency)
        let bitsPerSample = header.bit_depth == 16 ? 16 : 8
        let flags = Int32(SPNG_DECODE_PROGRESSIVE.rawValue) | (hasTransparency ? Int32(SPNG_DECODE_TRNS.rawValue) : 0)
        try check(spng_decode_image(context, nil, 0, Int32(format.rawValue), flags))

        let width = Int(header.width), height = Int(header.height)
        let interlaced = header.interlace_method != 0
        var reducer = BoxReducer(
            sourceWidth: width, sourceHeight: height, to: size ?? (width, height), channels: channels,
            bitsPerSample: bitsPerSample, rowsAtOnce: interlaced ? height : 1)
        let rowBytes = width * channels.count * bitsPerSample / 8
        var row = [UInt8](repeating: 0, count: rowBytes)
        // Adam7: the first column and the column step of each pass.
        let passFirst = [0, 4, 0, 2, 0, 1, 0], passStep = [8, 8, 4, 4, 2, 2, 1]
        var status: Int32 = 0
        while status != Int32(SPNG_EOI.rawValue) {
            var info = spng_row_info()
            try check(spng_get_row_info(context, &info))
            status = row.withUnsafeMutableBytes { spng_decode_scanline(context, $0.baseAddress, rowBytes) }
            if status != Int32(SPNG_EOI.rawValue) { try check(status) }
            let pass = interlaced ? Int(info.pass) : 6
            guard (0..<7).contains(pass) else { throw SpngError(code: Int32(SPNG_EINTERNAL.rawValue)) }
            let first = passFirst[pass], step = passStep[pass]
            let count = width > first ? (width - first + step - 1) / step : 0
            let line = Int(info.row_num)
            row.withUnsafeBytes { bytes in
                if bitsPerSample == 16 {
                    let samples = bytes.bindMemory(to: UInt16.self).baseAddress!
                    reducer.add(row: line, first: first, step: step, count: count, pixels: samples)
                } else {
                    let samples = bytes.bindMemory(to: UInt8.self).baseAddress!
                    reducer.add(row: line, first: first, step: step, count: count, pixels: samples)
                }
            }
            if !interlaced { reducer.flush(completeRows: line + 1) }
        }
        var profile = spng_iccp()
        let iccProfile =
            spng_get_iccp(context, &profile) == 0 && profile.profile != nil
            ? Array(UnsafeRawBufferPointer(start: profile.profile, count: profile.profile_len)) : nil
        return (reducer.finish(), iccProfile)
    }

    /// What libspng converts to, and ImageMagick's names of the channels:
    /// gray stays gray, palettes become RGB, tRNS becomes an alpha channel,
    /// 16 bits stay 16. Samples of 8 or 16 bits come as stored (SPNG_FMT_PNG,
    /// which libspng copies without converting pixel by pixel).
    private static func outputFormat(_ header: spng_ihdr, hasTransparency: Bool) -> (spng_format, String) {
        let sixteen = header.bit_depth == 16, whole = header.bit_depth >= 8
        switch Int(header.color_type) {
        case Int(SPNG_COLOR_TYPE_GRAYSCALE.rawValue):
            if hasTransparency { return (sixteen ? SPNG_FMT_GA16 : SPNG_FMT_GA8, "IA") }
            return (whole ? SPNG_FMT_PNG : SPNG_FMT_G8, "I")
        case Int(SPNG_COLOR_TYPE_GRAYSCALE_ALPHA.rawValue): return (SPNG_FMT_PNG, "IA")
        case Int(SPNG_COLOR_TYPE_TRUECOLOR_ALPHA.rawValue): return (SPNG_FMT_PNG, "RGBA")
        case Int(SPNG_COLOR_TYPE_TRUECOLOR.rawValue) where !hasTransparency: return (SPNG_FMT_PNG, "RGB")
        default:  // palette, or truecolour with tRNS
            if hasTransparency { return (sixteen ? SPNG_FMT_RGBA16 : SPNG_FMT_RGBA8, "RGBA") }
            return (SPNG_FMT_RGB8, "RGB")
        }
    }

    private struct SpngError: Error {
        var code: Int32
        var message: String { String(cString: spng_strerror(code)) }
    }

    private static func check(_ status: Int32) throws(SpngError) {
        if status != 0 { throw SpngError(code: status) }
    }
}
