/// Dimensions and EXIF orientation of a JPEG, WebP, PNG or GIF, read from its
/// header without ImageMagick. ImageMagick 6.9.11's ping costs as much as the
/// render here: for JPEG it parses every metadata segment (megabytes of XMP,
/// every EXIF tag printed to text), for WebP it decodes every pixel; for PNG
/// it takes the coder's process-wide lock. Reading the header ourselves
/// checks the limits truly before decoding, and lets the one read that
/// follows skip the metadata it would strip anyway.
struct ImageHeader: Equatable {
    var width: Int, height: Int
    /// EXIF orientation 1...8, 1 when absent or out of range.
    var orientation: Int

    init(width: Int, height: Int, orientation: Int = 1) {
        self.width = width
        self.height = height
        self.orientation = (1...8).contains(orientation) ? orientation : 1
    }

    /// The header of a JPEG, WebP, PNG or GIF source; nil for the other formats (ImageMagick pings those).
    init?(_ bytes: [UInt8], format: SourceFormat) throws(ThumbnailError) {
        switch format {
        case .jpeg: self = try ImageHeader(jpeg: bytes)
        case .webp: self = try ImageHeader(webp: bytes)
        case .png: self = try ImageHeader(png: bytes)
        case .gif: self = try ImageHeader(gif: bytes)
        default: return nil
        }
    }

    /// The first image descriptor's size, as ImageMagick gives the first
    /// frame: its own rectangle, not the logical screen it is placed on.
    init(gif bytes: [UInt8]) throws(ThumbnailError) {
        guard let first = gifImageDescriptors(bytes).first else {
            throw ThumbnailError(.undecodable, "source", "truncated or corrupt GIF: no image")
        }
        let width = readLittleEndian(bytes, at: first + 5, count: 2), height = readLittleEndian(bytes, at: first + 7, count: 2)
        guard width > 0, height > 0 else {
            throw ThumbnailError(.undecodable, "source", "GIF image without a width and height")
        }
        self.init(width: width, height: height)
    }

    /// The IHDR chunk, which must come first. ImageMagick 6.9.11 reads no
    /// orientation from a PNG (not even an eXIf chunk's), so neither does this.
    init(png bytes: [UInt8]) throws(ThumbnailError) {
        guard bytes.count >= 24, readBigEndian(bytes, at: 8, count: 4) == 13, bytes[12..<16].elementsEqual("IHDR".utf8)
        else {
            throw ThumbnailError(.undecodable, "source", "truncated or corrupt PNG header")
        }
        let width = readBigEndian(bytes, at: 16, count: 4), height = readBigEndian(bytes, at: 20, count: 4)
        guard width > 0, height > 0 else {
            throw ThumbnailError(.undecodable, "source", "PNG header without a width and height")
        }
        self.init(width: width, height: height)
    }

    /// Walks the markers from SOI to the first SOF, the frame header libjpeg
    /// decodes, noting the orientation in the first EXIF APP1 segment.
    init(jpeg bytes: [UInt8]) throws(ThumbnailError) {
        var orientation: Int?
        var index = 2
        while index + 4 <= bytes.count {
            guard bytes[index] == 0xff else { break }
            let marker = bytes[index + 1]
            if marker == 0xff {  // fill byte
                index += 1
                continue
            }
            let length = readBigEndian(bytes, at: index + 2, count: 2)
            let body = index + 4
            guard length >= 2, body + length - 2 <= bytes.count else { break }
            switch marker {
            case 0xc0...0xcf where marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
                // SOFn: precision, height, width. libjpeg refuses a zero side (a height left to a DNL marker).
                let height = length >= 7 ? readBigEndian(bytes, at: body + 1, count: 2) : 0
                let width = length >= 7 ? readBigEndian(bytes, at: body + 3, count: 2) : 0
                guard width > 0, height > 0 else {
                    throw ThumbnailError(.undecodable, "source", "JPEG frame header without a width and height")
                }
                self.init(width: width, height: height, orientation: orientation ?? 1)
                return
            case 0xe1 where orientation == nil && length >= 8 && bytes[body..<body + 6].elementsEqual("Exif\0\0".utf8):
                orientation = exifOrientation(bytes[(body + 6)..<(body + length - 2)])
            case 0xd8, 0xd9, 0xda:  // another SOI, EOI or scan data before any frame header
                throw ThumbnailError(.undecodable, "source", "no JPEG frame header before the image data")
            default: break
            }
            index = body + length - 2
        }
        throw ThumbnailError(.undecodable, "source", "truncated or corrupt JPEG header")
    }

    /// Reads the first image chunk (VP8, VP8L) or the extended header (VP8X),
    /// whose canvas size covers every frame, and an EXIF chunk's orientation.
    init(webp bytes: [UInt8]) throws(ThumbnailError) {
        var size: (width: Int, height: Int)?
        var orientation = 1
        for (name, chunk) in webpChunks(bytes) {
            let body = chunk.startIndex
            switch name {
            case "VP8X" where chunk.count >= 10 && size == nil:
                let width = readLittleEndian(bytes, at: body + 4, count: 3) + 1
                size = (width, readLittleEndian(bytes, at: body + 7, count: 3) + 1)
            case "VP8 " where chunk.count >= 10 && size == nil && chunk.dropFirst(3).starts(with: [0x9d, 0x01, 0x2a]):
                let width = readLittleEndian(bytes, at: body + 6, count: 2) & 0x3fff
                size = (width, readLittleEndian(bytes, at: body + 8, count: 2) & 0x3fff)
            case "VP8L" where chunk.count >= 5 && size == nil && bytes[body] == 0x2f:
                let bits = readLittleEndian(bytes, at: body + 1, count: 4)
                size = ((bits & 0x3fff) + 1, (bits >> 14 & 0x3fff) + 1)
            case "EXIF":
                // The chunk holds the TIFF structure; some writers keep JPEG's "Exif\0\0" before it.
                orientation = exifOrientation(chunk.starts(with: "Exif\0\0".utf8) ? chunk.dropFirst(6) : chunk)
            default: break
            }
        }
        guard let size, size.width > 0, size.height > 0 else {
            throw ThumbnailError(.undecodable, "source", "truncated or corrupt WebP header")
        }
        self.init(width: size.width, height: size.height, orientation: orientation)
    }
}

/// The Orientation tag (0x0112) of IFD0 in a TIFF structure (EXIF), 1 when absent or unreadable.
func exifOrientation(_ tiff: ArraySlice<UInt8>) -> Int {
    let bytes = Array(tiff)
    guard bytes.count >= 8 else { return 1 }
    let big: Bool
    switch (bytes[0], bytes[1]) {
    case (0x4d, 0x4d): big = true
    case (0x49, 0x49): big = false
    default: return 1
    }
    func number(at offset: Int, count: Int) -> Int? {
        guard offset >= 0, offset + count <= bytes.count else { return nil }
        return big ? readBigEndian(bytes, at: offset, count: count) : readLittleEndian(bytes, at: offset, count: count)
    }
    guard let ifd = number(at: 4, count: 4), let entries = number(at: ifd, count: 2) else { return 1 }
    for entry in 0..<entries {
        let offset = ifd + 2 + 12 * entry
        guard let tag = number(at: offset, count: 2), let type = number(at: offset + 2, count: 2) else { return 1 }
        guard tag == 0x0112 else { continue }
        // SHORT as the standard says, LONG from some writers; the value sits in the entry itself.
        let value = type == 4 ? number(at: offset + 8, count: 4) : number(at: offset + 8, count: 2)
        return value.flatMap { (1...8).contains($0) ? $0 : nil } ?? 1
    }
    return 1
}

private func readBigEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> Int {
    (0..<count).reduce(0) { $0 << 8 | Int(bytes[offset + $1]) }
}

private func readLittleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> Int {
    (0..<count).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
}
