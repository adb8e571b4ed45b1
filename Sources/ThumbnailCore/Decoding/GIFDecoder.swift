internal import CGif

// The only file that imports giflib. ImageMagick 6.9.11's GIF coder holds
// the whole first frame at 16 bits a sample (three times what vipsthumbnail
// holds) before the resize. giflib hands out one row of palette indices at a
// time, interlaced passes included, which `BoxReducer` averages down as they
// come. The first frame is the image, as ImageMagick's first frame is: its
// own rectangle (`ImageHeader` read its size), not the logical screen it is
// placed on; the transparent colour of the graphic control extension before
// it becomes an alpha channel, and an ICC profile before it (an application
// extension, as ImageMagick writes and reads it) the colours' profile.

enum GIFDecoder {
    /// Decodes the first frame of a GIF, `frameSize` as `ImageHeader` read
    /// it, averaged down to `size` (its own size when nil), with its ICC
    /// profile; nil when giflib finds it malformed or another size, or a pixel
    /// names a colour its palette lacks, for ImageMagick to judge as before.
    static func decode(
        _ gif: [UInt8], frameSize: (width: Int, height: Int), scaledTo size: (width: Int, height: Int)?
    ) -> (pixels: Pixels, iccProfile: [UInt8]?)? {
        gif.withUnsafeBytes { bytes in
            let source = Source(bytes)
            return withExtendedLifetime(source) { () -> (pixels: Pixels, iccProfile: [UInt8]?)? in
                var error: Int32 = 0
                guard let file = DGifOpen(Unmanaged.passUnretained(source).toOpaque(), readSource, &error) else {
                    return nil
                }
                defer { DGifCloseFile(file, &error) }
                return decodeFirstFrame(file, frameSize: frameSize, scaledTo: size)
            }
        }
    }

    /// The application extension an ICC profile travels in: its name and
    /// version, the profile in the sub-blocks after them.
    private static let iccApplication = Array("ICCRGBG1012".utf8)

    /// Walks the records to the first image descriptor, keeping the
    /// transparent colour of the last graphic control extension and the ICC
    /// profile on the way.
    private static func decodeFirstFrame(
        _ file: UnsafeMutablePointer<GifFileType>, frameSize: (width: Int, height: Int),
        scaledTo size: (width: Int, height: Int)?
    ) -> (pixels: Pixels, iccProfile: [UInt8]?)? {
        var transparent = -1
        var iccProfile: [UInt8]? = nil
        while true {
            var record = UNDEFINED_RECORD_TYPE
            guard DGifGetRecordType(file, &record) == GIF_OK else { return nil }
            switch record {
            case EXTENSION_RECORD_TYPE:
                var code: Int32 = 0
                var block: UnsafeMutablePointer<GifByteType>?
                guard DGifGetExtension(file, &code, &block) == GIF_OK else { return nil }
                var control = GraphicsControlBlock()
                if code == GRAPHICS_EXT_FUNC_CODE, let block, DGifExtensionToGCB(Int(block[0]), block + 1, &control) == GIF_OK {
                    transparent = Int(control.TransparentColor)
                }
                // A sub-block's first byte is its length.
                func body(_ block: UnsafeMutablePointer<GifByteType>) -> UnsafeBufferPointer<GifByteType> {
                    UnsafeBufferPointer(start: block + 1, count: Int(block[0]))
                }
                let isProfile = code == APPLICATION_EXT_FUNC_CODE && block.map { body($0).elementsEqual(iccApplication) } == true
                if isProfile { iccProfile = [] }
                while block != nil {
                    guard DGifGetExtensionNext(file, &block) == GIF_OK else { return nil }
                    if isProfile, let block { iccProfile?.append(contentsOf: body(block)) }
                }
            case IMAGE_DESC_RECORD_TYPE:
                guard DGifGetImageDesc(file) == GIF_OK else { return nil }
                // What the limits were checked against, and no more.
                guard Int(file.pointee.Image.Width) == frameSize.width, Int(file.pointee.Image.Height) == frameSize.height
                else { return nil }
                return decodeFrame(file, transparent: transparent, scaledTo: size).map { ($0, iccProfile) }
            default:  // the trailer before any image
                return nil
            }
        }
    }

    private static func decodeFrame(
        _ file: UnsafeMutablePointer<GifFileType>, transparent: Int, scaledTo size: (width: Int, height: Int)?
    ) -> Pixels? {
        let frame = file.pointee.Image
        let width = Int(frame.Width), height = Int(frame.Height)
        guard width > 0, height > 0, let map = frame.ColorMap ?? file.pointee.SColorMap else { return nil }
        let colours = Int(map.pointee.ColorCount)
        guard (1...256).contains(colours) else { return nil }
        let hasAlpha = (0..<colours).contains(transparent)
        let channels = hasAlpha ? 4 : 3
        // The palette as the pixels the reducer takes: RGB, or RGBA with the transparent colour clear.
        var palette = [UInt8](repeating: 0, count: 256 * channels)
        for index in 0..<colours {
            let colour = map.pointee.Colors[index]
            palette[index * channels..<index * channels + 3] = [colour.Red, colour.Green, colour.Blue]
            if hasAlpha { palette[index * channels + 3] = index == transparent ? 0 : 255 }
        }
        var reducer = BoxReducer(
            sourceWidth: width, sourceHeight: height, to: size ?? (width, height), channels: hasAlpha ? "RGBA" : "RGB",
            bitsPerSample: 8, rowsAtOnce: frame.Interlace ? height : 1)
        var indices = [GifPixelType](repeating: 0, count: width)
        var row = [UInt8](repeating: 0, count: width * channels)
        for line in 0..<height {
            guard indices.withUnsafeMutableBufferPointer({ DGifGetLine(file, $0.baseAddress, Int32(width)) }) == GIF_OK,
                colours == 256 || !indices.contains(where: { Int($0) >= colours })
            else { return nil }
            indices.withUnsafeBufferPointer { indices in
                row.withUnsafeMutableBufferPointer { row in
                    palette.withUnsafeBufferPointer { palette in
                        /// Each pixel's colour, `channels` a constant once inlined, so the copy unrolls.
                        @inline(__always) func look(up channels: Int) {
                            var to = row.baseAddress!
                            for index in indices {
                                let from = palette.baseAddress! + Int(index) &* channels
                                for c in 0..<channels { to[c] = from[c] }
                                to += channels
                            }
                        }
                        if hasAlpha { look(up: 4) } else { look(up: 3) }
                    }
                }
            }
            let y = frame.Interlace ? interlacedRow(line, height: height) : line
            row.withUnsafeBufferPointer { reducer.add(row: y, first: 0, step: 1, count: width, pixels: $0.baseAddress!) }
            if !frame.Interlace { reducer.flush(completeRows: line + 1) }
        }
        return reducer.finish()
    }

    /// The row the `line`th row read of an interlaced frame is: every eighth
    /// from 0, every eighth from 4, every fourth from 2, every second from 1.
    private static func interlacedRow(_ line: Int, height: Int) -> Int {
        var line = line
        for (start, step) in [(0, 8), (4, 8), (2, 4), (1, 2)] {
            let rows = height > start ? (height - start + step - 1) / step : 0
            if line < rows { return start + line * step }
            line -= rows
        }
        return height - 1
    }

    /// The GIF in memory, as giflib reads it through `readSource`.
    private final class Source {
        let bytes: UnsafeRawBufferPointer
        var offset = 0
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    }

    /// Copies up to `count` bytes from the source; fewer at its end.
    private static let readSource: InputFunc = { file, destination, count in
        let source = Unmanaged<Source>.fromOpaque(file!.pointee.UserData).takeUnretainedValue()
        let copied = max(0, min(Int(count), source.bytes.count - source.offset))
        if copied > 0, let destination {
            UnsafeMutableRawPointer(destination).copyMemory(from: source.bytes.baseAddress! + source.offset, byteCount: copied)
        }
        source.offset += copied
        return Int32(copied)
    }
}
