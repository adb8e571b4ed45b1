#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether an ICC profile describes sRGB, so that converting to sRGB would
/// change nothing but rounding. Most camera and web photographs carry one
/// (often several kilobytes of "sRGB IEC61966-2.1"), and building and running
/// an lcms transform for it costs more than decoding a small thumbnail.
/// Judged by what lcms would compute, not by the profile's name: an RGB
/// matrix/TRC profile (no lookup tables) with sRGB's D50 colorants and the
/// sRGB tone curve on all three channels.
func isSRGB(_ bytes: [UInt8]) -> Bool {
    let profile = ICCBytes(bytes: bytes)
    guard profile.text(16) == "RGB ", profile.text(20) == "XYZ ", let count = profile.number(128, 4), count < 1000
    else { return false }
    var tags: [String: (offset: Int, size: Int)] = [:]
    for index in 0..<count {
        let entry = 132 + 12 * index
        guard let offset = profile.number(entry + 4, 4), let size = profile.number(entry + 8, 4),
            offset + size <= bytes.count
        else { return false }
        tags[profile.text(entry)] = (offset, size)
    }
    // Lookup tables take precedence over the matrix in lcms: then it is not the plain sRGB model.
    if tags.keys.contains(where: { $0.hasPrefix("A2B") || $0.hasPrefix("D2B") }) { return false }

    let colorants: [(String, [Double])] = [
        ("rXYZ", [0.4361, 0.2225, 0.0139]), ("gXYZ", [0.3851, 0.7169, 0.0971]), ("bXYZ", [0.1431, 0.0606, 0.7141]),
    ]
    for (name, expected) in colorants {
        guard let tag = tags[name], tag.size >= 20, profile.text(tag.offset) == "XYZ " else { return false }
        for (index, value) in expected.enumerated() {
            guard let actual = profile.fixed(tag.offset + 8 + 4 * index), abs(actual - value) <= 0.002 else {
                return false
            }
        }
    }
    // Each curve within half an 8-bit step of sRGB's wherever it is sampled.
    let samples = (0...64).map { Double($0) / 64 }
    for name in ["rTRC", "gTRC", "bTRC"] {
        guard let tag = tags[name], let curve = profile.toneCurve(at: tag.offset, size: tag.size),
            samples.allSatisfy({ abs(curve($0) - sRGBDecoded($0)) <= 0.5 / 255 })
        else { return false }
    }
    return true
}

/// The sRGB electro-optical transfer function (IEC 61966-2-1).
private func sRGBDecoded(_ value: Double) -> Double {
    value <= 0.04045 ? value / 12.92 : pow((value + 0.055) / 1.055, 2.4)
}

/// Big-endian fields of an ICC profile; nil beyond its end.
private struct ICCBytes {
    let bytes: [UInt8]

    func text(_ offset: Int) -> String {
        offset + 4 <= bytes.count ? String(decoding: bytes[offset..<offset + 4], as: UTF8.self) : ""
    }

    func number(_ offset: Int, _ count: Int) -> Int? {
        guard offset >= 0, offset + count <= bytes.count else { return nil }
        return (0..<count).reduce(0) { $0 << 8 | Int(bytes[offset + $1]) }
    }

    /// s15Fixed16Number.
    func fixed(_ offset: Int) -> Double? {
        number(offset, 4).map { Double(Int32(truncatingIfNeeded: $0)) / 65536 }
    }

    /// A `curv` (sampled, linearly interpolated) or `para` (parametric) tone curve as a function on 0...1.
    func toneCurve(at offset: Int, size: Int) -> ((Double) -> Double)? {
        switch text(offset) {
        case "curv":
            // A count, then that many UInt16 samples; 0 or 1 samples are gamma curves, never sRGB's.
            guard let count = number(offset + 8, 4), count >= 2, 12 + 2 * count <= size else { return nil }
            let samples = (0..<count).map { Double(number(offset + 12 + 2 * $0, 2) ?? 0) / 65535 }
            return { x in
                let position = x * Double(count - 1)
                let index = min(Int(position), count - 2)
                let fraction = position - Double(index)
                return samples[index] * (1 - fraction) + samples[index + 1] * fraction
            }
        case "para":
            // A function type 0...4, then its parameters g, a, b, c, d, e, f.
            let parameterCounts = [1, 3, 4, 5, 7]
            guard let function = number(offset + 8, 2), function < parameterCounts.count,
                12 + 4 * parameterCounts[function] <= size
            else { return nil }
            let p = (0..<parameterCounts[function]).map { fixed(offset + 12 + 4 * $0) ?? 0 }
            return { x in
                switch function {
                case 0: pow(x, p[0])
                case 1: x >= -p[2] / p[1] ? pow(p[1] * x + p[2], p[0]) : 0
                case 2: x >= -p[2] / p[1] ? pow(p[1] * x + p[2], p[0]) + p[3] : p[3]
                case 3: x >= p[4] ? pow(p[1] * x + p[2], p[0]) : p[3] * x
                default: x >= p[4] ? pow(p[1] * x + p[2], p[0]) + p[5] : p[3] * x + p[6]
                }
            }
        default:
            return nil
        }
    }
}
