/// A storage path relative to the root, every segment checked: no empty,
/// `.` or `..` segment, no NUL, backslash, control character or slash inside
/// a segment. Holding one means the grammar allowed it; `StorageRoot` still
/// checks where symlinks lead.
package struct SourcePath: Equatable, Hashable, Sendable, CustomStringConvertible {
    package let segments: [String]

    /// From the URL form: raw segments, each percent-decoded exactly once.
    package init(encodedSegments: [Substring]) throws(ThumbnailError) {
        var decoded: [String] = []
        for raw in encodedSegments {
            guard let segment = percentDecoded(raw) else {
                throw ThumbnailError(.badPath, String(raw), "bad percent-encoding or not UTF-8")
            }
            decoded.append(segment)
        }
        try self.init(checking: decoded)
    }

    /// From the flags form: a literal relative file path.
    package init(filePath: String) throws(ThumbnailError) {
        if filePath.hasPrefix("/") {
            throw ThumbnailError(.forbidden, filePath, "absolute paths are not allowed; give a path inside the root")
        }
        try self.init(checking: filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init))
    }

    private init(checking segments: [String]) throws(ThumbnailError) {
        let whole = segments.joined(separator: "/")
        guard !segments.isEmpty, segments != [""] else {
            throw ThumbnailError(.badPath, whole, "no source path")
        }
        for segment in segments {
            if segment == ".." {
                throw ThumbnailError(.forbidden, whole, "'..' would leave the storage root")
            }
            if segment.isEmpty || segment == "." {
                throw ThumbnailError(.badPath, whole, "empty or '.' path segment")
            }
            if segment.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || $0 == "\\" }) {
                throw ThumbnailError(.badPath, whole, "control character or backslash in path")
            }
            if segment.contains("/") {
                throw ThumbnailError(.badPath, whole, "encoded slash in path segment")
            }
        }
        self.segments = segments
    }

    package var description: String { segments.joined(separator: "/") }

    /// The path as it appears in a canonical URL: only what must be escaped is.
    package var percentEncoded: String {
        segments.map { percentEncode($0) }.joined(separator: "/")
    }
}

private let hexDigits = Array("0123456789ABCDEF".utf8)

/// RFC 3986 `pchar` minus `%`: left literal in a canonical path.
func isLiteralInPath(_ byte: UInt8) -> Bool {
    isASCIIAlphanumeric(byte) || "-._~!$&'()*+,;=:@".utf8.contains(byte)
}

/// A-Z, a-z, 0-9.
func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        true
    default: false
    }
}

/// `%XX` for every byte of `text` that `isLiteral` does not keep.
func percentEncode(_ text: some StringProtocol, keeping isLiteral: (UInt8) -> Bool = isLiteralInPath) -> String {
    var bytes: [UInt8] = []
    for byte in text.utf8 {
        if isLiteral(byte) {
            bytes.append(byte)
        } else {
            bytes += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xf)]]
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Decodes `%XX` escapes once; nil for a broken escape or bytes that are not UTF-8.
func percentDecoded(_ text: Substring) -> String? {
    var bytes: [UInt8] = []
    var input = text.utf8.makeIterator()
    while let byte = input.next() {
        guard byte == UInt8(ascii: "%") else {
            bytes.append(byte)
            continue
        }
        guard let high = input.next().flatMap(hexValue), let low = input.next().flatMap(hexValue) else {
            return nil
        }
        bytes.append(high << 4 | low)
    }
    return String(validating: bytes, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
