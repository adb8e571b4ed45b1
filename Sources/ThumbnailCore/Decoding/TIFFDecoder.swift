internal import CTiff

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The only file that imports libtiff. ImageMagick 6.9.11's TIFF coder holds
// the whole image at 16 bits a sample (Debian's policy then refuses TIFFs
// above about 30 megapixels). The common layouts are read here instead, a
// scanline or a tile at a time, and averaged down by `BoxReducer` as they
// come: 8- or 16-bit gray or RGB, with or without an unassociated alpha, one
// plane, in strips or tiles, uncompressed, LZW, deflate or JPEG. Anything
// else goes to ImageMagick, as before. The first directory is the image, as
// it is ImageMagick's first frame; its Orientation tag was read by the plan.
//
// libtiff reads from the bytes in memory, never a file, and reports to
// handlers of this handle alone: nothing reaches standard error, and the
// first error becomes the ThumbnailError. It is loaded on the first TIFF
// (see CTiff/tiff.c), so no other run pays for loading it.

enum TIFFDecoder {
    /// Decodes the first image of a TIFF averaged down to `size` (its own size
    /// when nil); nil when its layout is not one of those above.
    static func decode(_ tiff: [UInt8], scaledTo size: (width: Int, height: Int)?) throws(ThumbnailError)
        -> (pixels: Pixels, iccProfile: [UInt8]?)?
    {
        // ImageMagick's coder, which reads the other layouts, needs libtiff too.
        if let failure = thumbnail_tiff_load() { throw OptionalLibrary.tiff.missing(String(cString: failure)) }
        return try tiff.withUnsafeBytes { bytes in Result { () throws(ThumbnailError) in
            let source = MemorySource(bytes)
            let handle = Unmanaged.passUnretained(source).toOpaque()
            guard let options = TIFFOpenOptionsAlloc() else {
                throw ThumbnailError(.internalFailure, "libtiff", "cannot allocate options")
            }
            defer { TIFFOpenOptionsFree(options) }
            TIFFOpenOptionsSetErrorHandlerExtR(options, noteError, handle)
            TIFFOpenOptionsSetWarningHandlerExtR(options, ignoreWarning, handle)
            // No single allocation beyond what the largest allowed image needs.
            TIFFOpenOptionsSetMaxSingleMemAlloc(options, 512 << 20)
            // "m": no memory mapping (the read callback serves the bytes).
            guard
                let file = TIFFClientOpenExt(
                    "source", "rm", handle, readSource, writeNothing, seekSource, closeNothing, sourceSize,
                    mapNothing, unmapNothing, options)
            else {
                throw source.failure("cannot open the TIFF")
            }
            defer { TIFFClose(file) }
            return try decode(file, source: source, scaledTo: size)
        } }.get()
    }

    private static func decode(_ file: OpaquePointer, source: MemorySource, scaledTo size: (width: Int, height: Int)?)
        throws(ThumbnailError) -> (pixels: Pixels, iccProfile: [UInt8]?)?
    {
        func field16(_ tag: Int32) -> UInt16? {
            var value: UInt16 = 0
            return thumbnail_tiff_get_uint16(file, UInt32(tag), &value) == 1 ? value : nil
        }
        func field32(_ tag: Int32) -> UInt32? {
            var value: UInt32 = 0
            return thumbnail_tiff_get_uint32(file, UInt32(tag), &value) == 1 ? value : nil
        }
        guard let width = field32(TIFFTAG_IMAGEWIDTH).map(Int.init), let height = field32(TIFFTAG_IMAGELENGTH).map(Int.init),
            width > 0, height > 0,
            let bits = field16(TIFFTAG_BITSPERSAMPLE), bits == 8 || bits == 16,
            field16(TIFFTAG_SAMPLEFORMAT) == UInt16(SAMPLEFORMAT_UINT),
            let samplesPerPixel = field16(TIFFTAG_SAMPLESPERPIXEL).map(Int.init),
            let photometric = field16(TIFFTAG_PHOTOMETRIC).map(Int32.init),
            let compression = field16(TIFFTAG_COMPRESSION).map(Int32.init),
            [COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE, COMPRESSION_DEFLATE, COMPRESSION_JPEG]
                .contains(compression),
            samplesPerPixel == 1 || field16(TIFFTAG_PLANARCONFIG) == UInt16(PLANARCONFIG_CONTIG)
        else { return nil }

        var colours: String
        switch photometric {
        case PHOTOMETRIC_MINISBLACK: colours = "I"
        case PHOTOMETRIC_RGB: colours = "RGB"
        case PHOTOMETRIC_YCBCR where compression == COMPRESSION_JPEG && bits == 8:
            // libjpeg converts to RGB (and upsamples) as it decodes.
            guard thumbnail_tiff_set_int(file, UInt32(TIFFTAG_JPEGCOLORMODE), JPEGCOLORMODE_RGB) == 1 else {
                return nil
            }
            colours = "RGB"
        default: return nil
        }
        // One extra sample at most, and only an unassociated (straight) alpha.
        var extraCount: UInt32 = 0
        var extraTypes: UnsafeRawPointer?
        _ = thumbnail_tiff_get_array(file, UInt32(TIFFTAG_EXTRASAMPLES), &extraCount, &extraTypes)
        switch samplesPerPixel - colours.count {
        case 0: break
        case 1 where extraCount == 1 && extraTypes?.load(as: UInt16.self) == UInt16(EXTRASAMPLE_UNASSALPHA):
            colours += "A"
        default: return nil
        }

        var profileLength: UInt32 = 0
        var profileBytes: UnsafeRawPointer?
        let iccProfile =
            thumbnail_tiff_get_array(file, UInt32(TIFFTAG_ICCPROFILE), &profileLength, &profileBytes) == 1
                && profileBytes != nil
            ? Array(UnsafeRawBufferPointer(start: profileBytes, count: Int(profileLength))) : nil

        let pixelBytes = samplesPerPixel * Int(bits) / 8
        let tiled = TIFFIsTiled(file) != 0
        let tileWidth = tiled ? Int(field32(TIFFTAG_TILEWIDTH) ?? 0) : width
        let tileHeight = tiled ? Int(field32(TIFFTAG_TILELENGTH) ?? 0) : 1
        guard tileWidth > 0, tileHeight > 0 else { return nil }
        var reducer = BoxReducer(
            sourceWidth: width, sourceHeight: height, to: size ?? (width, height), channels: colours,
            bitsPerSample: Int(bits), rowsAtOnce: tileHeight)
        let bufferSize = tiled ? Int(TIFFTileSize(file)) : Int(TIFFScanlineSize(file))
        guard bufferSize >= tileWidth * tileHeight * pixelBytes else {
            throw source.failure("TIFF strips or tiles smaller than the image says")
        }
        var buffer = [UInt8](repeating: 0, count: bufferSize)

        /// Adds `rows` rows of `count` pixels from the buffer, at (`x`, `y`), `stride` bytes apart.
        func add(x: Int, y: Int, count: Int, rows: Int, stride: Int) {
            buffer.withUnsafeBytes { bytes in
                for row in 0..<rows {
                    let start = bytes.baseAddress! + row * stride
                    if bits == 16 {
                        let pixels = start.assumingMemoryBound(to: UInt16.self)
                        reducer.add(row: y + row, first: x, step: 1, count: count, pixels: pixels)
                    } else {
                        let pixels = start.assumingMemoryBound(to: UInt8.self)
                        reducer.add(row: y + row, first: x, step: 1, count: count, pixels: pixels)
                    }
                }
            }
        }
        if tiled {
            for y in stride(from: 0, to: height, by: tileHeight) {
                for x in stride(from: 0, to: width, by: tileWidth) {
                    let read = buffer.withUnsafeMutableBytes {
                        TIFFReadTile(file, $0.baseAddress, UInt32(x), UInt32(y), 0, 0)
                    }
                    guard read >= 0 else { throw source.failure("unreadable TIFF tile") }
                    add(
                        x: x, y: y, count: min(tileWidth, width - x), rows: min(tileHeight, height - y),
                        stride: tileWidth * pixelBytes)
                }
                reducer.flush(completeRows: y + tileHeight)
            }
        } else {
            for y in 0..<height {
                let read = buffer.withUnsafeMutableBytes { TIFFReadScanline(file, $0.baseAddress, UInt32(y), 0) }
                guard read == 1 else { throw source.failure("unreadable TIFF scanline") }
                add(x: 0, y: y, count: width, rows: 1, stride: 0)
                reducer.flush(completeRows: y + 1)
            }
        }
        return (reducer.finish(), iccProfile)
    }
}

/// The bytes libtiff reads through the callbacks below, and the first error it reported.
private final class MemorySource {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    var error: String?

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func failure(_ fallback: String) -> ThumbnailError {
        ThumbnailError(.undecodable, "source", "TIFF: \(error ?? fallback)")
    }

    static func from(_ handle: thandle_t?) -> MemorySource {
        Unmanaged<MemorySource>.fromOpaque(handle!).takeUnretainedValue()
    }
}

private let readSource: TIFFReadWriteProc = { handle, destination, size in
    let source = MemorySource.from(handle)
    let count = max(0, min(Int(size), source.bytes.count - source.offset))
    if count > 0, let destination {
        destination.copyMemory(from: source.bytes.baseAddress! + source.offset, byteCount: count)
    }
    source.offset += count
    return tmsize_t(count)
}

private let seekSource: TIFFSeekProc = { handle, offset, whence in
    let source = MemorySource.from(handle)
    let base: Int
    switch whence {
    case SEEK_SET: base = 0
    case SEEK_CUR: base = source.offset
    case SEEK_END: base = source.bytes.count
    default: return UInt64.max
    }
    // toff_t is unsigned: relative seeks backwards arrive as two's complement.
    let (target, overflow) = base.addingReportingOverflow(Int(truncatingIfNeeded: offset))
    guard !overflow, target >= 0 else { return UInt64.max }
    source.offset = target
    return UInt64(target)
}

private let sourceSize: TIFFSizeProc = { handle in UInt64(MemorySource.from(handle).bytes.count) }
private let writeNothing: TIFFReadWriteProc = { _, _, _ in 0 }
private let closeNothing: TIFFCloseProc = { _ in 0 }
private let mapNothing: TIFFMapFileProc = { _, _, _ in 0 }
private let unmapNothing: TIFFUnmapFileProc = { _, _, _ in }

/// Keeps libtiff's first error message for the ThumbnailError; 1 tells libtiff it was handled.
private let noteError: TIFFErrorHandlerExtR = { _, handle, _, format, arguments in
    let source = MemorySource.from(handle)
    if source.error == nil, let format, let arguments {
        var message = [CChar](repeating: 0, count: 256)
        _ = vsnprintf(&message, message.count, format, arguments)
        source.error = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return 1
}

private let ignoreWarning: TIFFErrorHandlerExtR = { _, _, _, _, _ in 1 }
