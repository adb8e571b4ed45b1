/// The image types `thumbnail` decodes, told apart by their first bytes and
/// never by a file name. Anything else never reaches ImageMagick, which has
/// coders (MVG, MSL, SVG, PS, TXT...) that must never see user bytes.
public enum SourceFormat: String, Sendable {
    case jpeg, png, gif, webp, avif, heic, tiff

    public init(sniffing bytes: [UInt8]) throws(ThumbnailError) {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && Array(bytes[offset..<offset + magic.count]) == magic
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
            switch String(decoding: bytes[8..<12], as: UTF8.self) {
            case "avif", "avis": self = .avif
            case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1": self = .heic
            default: throw ThumbnailError(.unsupportedMedia, "source", "an ISO media file that is not AVIF or HEIC")
            }
        } else {
            throw ThumbnailError(
                .unsupportedMedia, "source", "not a JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF image")
        }
    }

    /// The ImageMagick coder that alone may read it.
    var coder: String {
        switch self {
        case .avif, .heic: "HEIC"
        default: rawValue.uppercased()
        }
    }

    /// The output format when the request names none.
    public var defaultOutput: OutputFormat {
        OutputFormat(rawValue: rawValue) ?? .jpeg
    }
}
