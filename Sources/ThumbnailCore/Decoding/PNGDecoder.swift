internal import CPng

// The only file that imports libpng (through CPng, whose png.c makes every
// call into it under its own setjmp). ImageMagick 6.9.11's PNG coder holds
// the whole image at 16 bits a sample (Debian's policy then refuses PNGs
// above about 30 megapixels) and, as Debian builds it, a process-wide lock
// for the whole read. libpng hands out one row at a time, interlaced passes
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
    /// when libpng finds it malformed, for ImageMagick to judge as before.
    /// A source that cannot be read, or grows past its limit, is an error.
    /// `inflateAside`: the image data inflated on a thread of its own
    /// (`PNGInflater`), for a large PNG when a second core is free.
    static func decode(_ png: SourceBytes, scaledTo size: (width: Int, height: Int)?, inflateAside: Bool = false)
        throws(ThumbnailError) -> (pixels: Pixels, iccProfile: [UInt8]?)?
    {
        let stream: Stream
        let inflater = inflateAside ? PNGInflater(png.reader()) : nil
        if let inflater {
            stream = Stream { buffer throws(ThumbnailError) in try inflater.read(into: buffer) }
        } else {
            var reader = png.reader()
            stream = Stream { buffer throws(ThumbnailError) in try reader.read(into: buffer) }
        }
        // Text and profiles, decompressed, may not outgrow the file by much.
        let chunkLimit = 4 * max(png.count, 1 << 20)
        let decoded = withExtendedLifetime(stream) { () -> Result<(Pixels, [UInt8]?), DecodeFailure> in
            let user = Unmanaged.passUnretained(stream).toOpaque()
            let source: thumbnail_png_source = { user, destination, count in
                Unmanaged<Stream>.fromOpaque(user!).takeUnretainedValue().read(into: destination!, count: count)
            }
            guard let decoder = thumbnail_png_create(source, user, chunkLimit) else { return .failure(.outOfMemory) }
            defer { thumbnail_png_destroy(decoder) }
            return Result { () throws(DecodeFailure) in try decode(decoder, scaledTo: size) }
        }
        if let failure = inflater?.finish() ?? stream.failure { throw failure }
        switch decoded {
        case .success(let decoded): return decoded
        case .failure(.outOfMemory): throw ThumbnailError(.tooLarge, "source", "PNG: out of memory")
        case .failure(.malformed): return nil
        }
    }

    /// The source as libpng reads it: exactly the bytes it asks for, from a
    /// buffer filled a block at a time.
    private final class Stream {
        /// Fills a buffer from the source; 0 at its end.
        private let source: (UnsafeMutableRawBufferPointer) throws(ThumbnailError) -> Int
        private var buffer = [UInt8](repeating: 0, count: 1 << 17)
        private var start = 0, end = 0
        /// Why the source could not be read, if it could not.
        private(set) var failure: ThumbnailError? = nil

        init(_ source: @escaping (UnsafeMutableRawBufferPointer) throws(ThumbnailError) -> Int) { self.source = source }

        /// 0, or 1 when the source ends or fails first.
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
                        return 1
                    }
                    start = 0
                    if end == 0 { return 1 }
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

    private enum DecodeFailure: Error {
        case malformed, outOfMemory
    }

    private static func decode(_ decoder: OpaquePointer, scaledTo size: (width: Int, height: Int)?) throws(DecodeFailure)
        -> (Pixels, [UInt8]?)
    {
        func check(_ status: Int32) throws(DecodeFailure) {
            if status < 0 { throw thumbnail_png_out_of_memory(decoder) != 0 ? .outOfMemory : .malformed }
        }
        var info = thumbnail_png_info()
        try check(thumbnail_png_read_info(decoder, &info))
        let width = Int(info.width), height = Int(info.height)
        let bitsPerSample = Int(info.bits_per_sample)
        // ImageMagick's names of the channels.
        let channels = ["I", "IA", "RGB", "RGBA"][Int(info.channels) - 1]
        let iccProfile = info.icc_profile.map { Array(UnsafeBufferPointer(start: $0, count: Int(info.icc_profile_length))) }
        let interlaced = info.interlaced != 0
        var reducer = BoxReducer(
            sourceWidth: width, sourceHeight: height, to: size ?? (width, height), channels: channels,
            bitsPerSample: bitsPerSample, rowsAtOnce: interlaced ? height : 1)
        var row = [UInt8](repeating: 0, count: info.row_bytes)
        // Adam7: the first column and the column step of each pass.
        let passFirst = [0, 4, 0, 2, 0, 1, 0], passStep = [8, 8, 4, 4, 2, 2, 1]
        while true {
            var line: UInt32 = 0, pass: Int32 = 0
            let status = row.withUnsafeMutableBytes { thumbnail_png_read_row(decoder, $0.baseAddress, &line, &pass) }
            try check(status)
            if status == 0 { break }
            let first = passFirst[Int(pass)], step = passStep[Int(pass)]
            let count = width > first ? (width - first + step - 1) / step : 0
            row.withUnsafeBytes { bytes in
                if bitsPerSample == 16 {
                    reducer.add(row: Int(line), first: first, step: step, count: count, pixels: bytes.bindMemory(to: UInt16.self).baseAddress!)
                } else {
                    reducer.add(row: Int(line), first: first, step: step, count: count, pixels: bytes.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
            if !interlaced { reducer.flush(completeRows: Int(line) + 1) }
        }
        return (reducer.finish(), iccProfile)
    }
}
