/// The image types `thumbnail` decodes, told apart by their first bytes and
/// never by a file name. Anything else never reaches ImageMagick, which has
/// coders (MVG, MSL, SVG, PS, TXT...) that must never see user bytes.
package enum SourceFormat: String, Sendable {
    case jpeg, png, gif, webp, avif, heic, tiff

    /// How many first bytes `init(sniffing:)` needs to tell every format apart.
    package static let magicLength = 12

    package init(sniffing bytes: [UInt8]) throws(ThumbnailError) { try self.init(sniffing: bytes[...]) }

    package init(sniffing bytes: ArraySlice<UInt8>) throws(ThumbnailError) {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && bytes.dropFirst(offset).prefix(magic.count).elementsEqual(magic)
        }
        let ascii = { (text: String) in Array(text.utf8) }
        if starts([0xff, 0xd8, 0xff]) {
            self = .jpeg
        } else if starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) {
            self = .png
        } else if starts(ascii("GIF87a")) || starts(ascii("GIF89a")) {
            self = .gif
        } else if starts(ascii("RIFF")) && starts(ascii("WEBP"), at: 8) {
            self = .webp
        } else if starts(ascii("II*\0")) || starts(ascii("MM\0*")) {
            self = .tiff
        } else if starts(ascii("ftyp"), at: 4), bytes.count >= 12 {
            switch String(decoding: bytes.dropFirst(8).prefix(4), as: UTF8.self) {
            case "avif", "avis": self = .avif
            case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1": self = .heic
            default: throw ThumbnailError(.unsupportedMedia, "source", "an ISO media file that is not AVIF or HEIC")
            }
        } else {
            throw ThumbnailError(
                .unsupportedMedia, "source", "not a JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF image")
        }
    }

    /// The ImageMagick coder that alone may read it (HEIC and AVIF sources
    /// never reach ImageMagick: libheif decodes them).
    var coder: String { rawValue.uppercased() }

    /// The output format when the request names none.
    package var defaultOutput: OutputFormat {
        OutputFormat(rawValue: rawValue) ?? .jpeg
    }
}

/// Counts the frames of an animated GIF or WebP by walking its blocks, without
/// decoding anything, so a file with thousands of frames is refused before
/// ImageMagick allocates a single one. Other formats count as one frame
/// (only the first is ever read). A truncated file counts what it has.
func frameCount(_ bytes: [UInt8], format: SourceFormat) -> Int {
    switch format {
    case .gif: gifFrameCount(bytes)
    case .webp: webpFrameCount(bytes)
    default: 1
    }
}

private func gifFrameCount(_ bytes: [UInt8]) -> Int { gifImageDescriptors(bytes).count }

/// Where each image descriptor of a GIF starts, walking its blocks without
/// decoding anything, up to the trailer or the first block that runs past
/// the end (a truncated file gives the descriptors it has whole).
func gifImageDescriptors(_ bytes: [UInt8]) -> [Int] {
    /// Index after a run of data sub-blocks (length byte, data; a zero length ends it).
    func skipSubBlocks(_ index: Int) -> Int {
        var index = index
        while index < bytes.count, bytes[index] != 0 { index += Int(bytes[index]) + 1 }
        return index + 1
    }
    func colourTableSize(_ packed: UInt8) -> Int { packed & 0x80 == 0 ? 0 : 3 << (Int(packed & 0x07) + 1) }
    guard bytes.count >= 13 else { return [] }
    var index = 13 + colourTableSize(bytes[10])
    var descriptors: [Int] = []
    while index < bytes.count {
        switch bytes[index] {
        case 0x2c:  // image descriptor, optional local colour table, LZW code size, data
            guard index + 10 < bytes.count else { return descriptors }
            descriptors.append(index)
            index = skipSubBlocks(index + 10 + colourTableSize(bytes[index + 9]) + 1)
        case 0x21:  // extension: label, then sub-blocks
            index = skipSubBlocks(index + 2)
        default:  // trailer, or garbage: stop
            return descriptors
        }
    }
    return descriptors
}

private func webpFrameCount(_ bytes: [UInt8]) -> Int {
    max(webpChunks(bytes).filter { $0.name == "ANMF" }.count, 1)
}

/// The top-level chunks of a WebP (RIFF) file, up to the first that runs past its end.
func webpChunks(_ bytes: [UInt8]) -> [(name: String, body: ArraySlice<UInt8>)] {
    var chunks: [(name: String, body: ArraySlice<UInt8>)] = []
    var index = 12
    while index + 8 <= bytes.count {
        let length = (0..<4).reduce(0) { $0 | Int(bytes[index + 4 + $1]) << (8 * $1) }
        let body = index + 8
        guard body + length <= bytes.count else { break }
        chunks.append((String(decoding: bytes[index..<body - 4], as: UTF8.self), bytes[body..<body + length]))
        index = body + length + (length & 1)
    }
    return chunks
}
