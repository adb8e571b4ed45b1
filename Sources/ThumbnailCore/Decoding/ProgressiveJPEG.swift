/// A progressive JPEG decoded at 1/8 scale needs only the DC coefficient of
/// each block of its full-resolution components: libjpeg's 1x1 inverse DCT
/// reads nothing else. Their AC scans are most of the file and of the
/// decoding time (libjpeg decodes every scan whatever the scale), so they are
/// left out before libjpeg (or ImageMagick, for CMYK) reads the file. A subsampled component (the
/// chroma of 4:2:0) is scaled by a 2x2 inverse DCT that reads AC
/// coefficients: its scans stay. With block smoothing off (which otherwise
/// invents AC coefficients where scans are missing) the pixels are exactly
/// those of the whole file.
enum ProgressiveJPEG {
    /// `bytes` without the AC scans of its full-resolution components; nil for
    /// anything but a complete progressive Huffman JPEG of the expected
    /// structure, which is then read whole (and judged).
    static func withoutFullResolutionAC(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.starts(with: [0xff, 0xd8]) else { return nil }
        // Ranges, copied only at the end: most JPEGs turn out not progressive at their frame header.
        var kept: [Range<Int>] = [0..<2]
        var fullResolution: [UInt8]?  // component identifiers, from the frame header
        var index = 2
        while index + 2 <= bytes.count {
            guard bytes[index] == 0xff else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xff {  // fill byte
                index += 1
                continue
            }
            if marker == 0xd9 {  // EOI
                guard fullResolution != nil else { return nil }
                kept.append(index..<index + 2)
                var stream: [UInt8] = []
                stream.reserveCapacity(kept.reduce(0) { $0 + $1.count })
                for range in kept { stream += bytes[range] }
                return stream
            }
            guard index + 4 <= bytes.count else { return nil }
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            let end = index + 2 + length
            guard length >= 2, end <= bytes.count else { return nil }
            switch marker {
            case 0xc2:  // SOF2: progressive, Huffman
                guard fullResolution == nil, let components = fullResolutionComponents(bytes[index + 4..<end]) else {
                    return nil
                }
                fullResolution = components
            case 0xc0...0xcf where marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
                return nil  // any other frame type
            case 0xda:  // SOS: the header, then entropy-coded data up to the next marker
                guard let fullResolution, length >= 6 else { return nil }
                let count = Int(bytes[index + 4])
                guard length == 6 + 2 * count, let scanEnd = entropyCodedEnd(bytes, from: end) else { return nil }
                let spectralStart = bytes[index + 5 + 2 * count]
                let isFullResolutionAC = spectralStart > 0 && count == 1 && fullResolution.contains(bytes[index + 5])
                if !isFullResolutionAC { kept.append(index..<scanEnd) }
                index = scanEnd
                continue
            case 0xdc:  // DNL: the height comes after the first scan
                return nil
            default: break
            }
            kept.append(index..<end)
            index = end
        }
        return nil
    }

    /// Identifiers of the components whose sampling factors are the largest
    /// of the frame, from a frame header's body.
    private static func fullResolutionComponents(_ body: ArraySlice<UInt8>) -> [UInt8]? {
        let body = Array(body)
        guard body.count >= 6, body[5] > 0, body.count == 6 + 3 * Int(body[5]) else { return nil }
        let count = Int(body[5])
        let ids = (0..<count).map { body[6 + 3 * $0] }
        let samplings = (0..<count).map { body[7 + 3 * $0] }
        let largest = samplings.map { $0 & 0xf0 }.max()! | samplings.map { $0 & 0x0f }.max()!
        return (0..<count).filter { samplings[$0] == largest }.map { ids[$0] }
    }

    /// Where entropy-coded data starting at `start` ends: the first 0xFF that
    /// is neither a stuffed 0xFF00 nor a restart marker.
    private static func entropyCodedEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while let found = bytes[index...].firstIndex(of: 0xff), found + 1 < bytes.count {
            let next = bytes[found + 1]
            guard next == 0 || (0xd0...0xd7).contains(next) else { return found }
            index = found + 2
        }
        return nil
    }
}
