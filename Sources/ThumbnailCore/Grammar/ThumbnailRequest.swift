/// One thumbnail to make: what the URL path grammar and the flags both parse to.
package struct ThumbnailRequest: Equatable, Sendable {
    package var size: BoxSize
    package var mode: FitMode = .fit
    /// nil: the output format's default (`OutputFormat.defaultQuality`).
    package var quality: Int? = nil
    package var background: RGB = .white
    /// Where the crop window, or the image on the pad canvas, goes.
    package var placement: Placement = .gravity(.centre)
    /// nil: the source's own format when it can be written, else JPEG.
    package var format: OutputFormat? = nil
    /// The storage path, decoded, relative to the root, checked by `SourcePath`.
    package var source: SourcePath
    /// The source's version (`v…`): part of the URL, so that a replaced source
    /// gets new URLs, and of the signature; rendering ignores it.
    package var version: String? = nil

    /// What a version may hold: 1 to 64 of `A-Z a-z 0-9 _ -`.
    static let versionLength = 1...64

    static func isVersion(_ text: Substring) -> Bool {
        versionLength.contains(text.count)
            && text.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    package init(size: BoxSize, source: SourcePath) {
        self.size = size
        self.source = source
    }

    /// The size-and-options segment in canonical form: options in grammar
    /// order, defaults left out.
    package var canonicalSizeSegment: String {
        var parts = [size.description]
        switch mode {
        case .fit: break
        case .crop: parts.append("crop")
        case .pad: parts.append("pad")
        }
        if let quality = canonicalQuality { parts.append("q\(quality)") }
        if background != .white { parts.append("bg\(background)") }
        switch placement {
        case .gravity(.centre): break
        case .gravity(let gravity): parts.append(gravity.rawValue)
        case .focalPoint(let point): parts.append("fp\(point.x).\(point.y)")
        case .smart: parts.append("smart")
        }
        if let version { parts.append("v" + version) }
        return parts.joined(separator: ",")
    }

    /// The quality as the canonical path spells it: left out when it is the
    /// default of the format named, or the format named is lossless; kept as
    /// given when no format is named, since the output format then depends
    /// on the source.
    var canonicalQuality: Int? {
        guard let quality, let format else { return quality }
        guard let formatDefault = format.defaultQuality, formatDefault != quality else { return nil }
        return quality
    }

    /// The one spelling of this request, with `prefix` in front and no signature.
    package func canonicalPath(prefix: String) -> String {
        var path = prefix + "/" + canonicalSizeSegment
        if let format { path += "/" + format.rawValue }
        return path + "/" + source.percentEncoded
    }
}

/// `{W}x{H}`, `{W}x` or `x{H}`.
package struct BoxSize: Equatable, Hashable, Sendable, CustomStringConvertible {
    package var width: Int?
    package var height: Int?

    package init(width: Int?, height: Int?) {
        precondition(width != nil || height != nil)
        self.width = width
        self.height = height
    }

    package var description: String {
        (width.map(String.init) ?? "") + "x" + (height.map(String.init) ?? "")
    }

    /// Parses one size; `maxSide` bounds each side.
    package static func parse(_ text: Substring, maxSide: Int) throws(ThumbnailError) -> BoxSize {
        let sides = text.split(separator: "x", omittingEmptySubsequences: false)
        guard sides.count == 2, !(sides[0].isEmpty && sides[1].isEmpty) else {
            throw ThumbnailError(.badPath, String(text), "size must be WxH, Wx or xH")
        }
        func side(_ digits: Substring) throws(ThumbnailError) -> Int? {
            if digits.isEmpty { return nil }
            guard let number = decimal(digits), number >= 1 else {
                throw ThumbnailError(
                    .badPath, String(text), "each side is a whole number from 1, without sign or leading zero")
            }
            guard number <= maxSide else {
                throw ThumbnailError(.badPath, String(text), "a side exceeds the maximum of \(maxSide)")
            }
            return number
        }
        return BoxSize(width: try side(sides[0]), height: try side(sides[1]))
    }
}

/// A plain decimal: digits only, no leading zero, at most 9 digits so it never overflows.
func decimal(_ digits: Substring) -> Int? {
    guard !digits.isEmpty, digits.count <= 9, digits.first != "0" || digits.count == 1,
        digits.allSatisfy({ $0.isASCII && $0.isNumber })
    else { return nil }
    return Int(digits)
}

package enum FitMode: String, Sendable {
    /// Inside the box, aspect kept, never upscaled.
    case fit
    /// Exactly the box, overflow cropped around the centre.
    case crop
    /// Fit, then padded to exactly the box with the background.
    case pad
}

/// Where the crop window goes in the scaled image (crop), or the image on the canvas (pad).
package enum Placement: Equatable, Sendable {
    /// Flush with the edges it names; centred on the axes it does not.
    case gravity(Gravity)
    /// The crop window centred on this point as far as the image allows.
    case focalPoint(FocalPoint)
    /// The crop window holding the most visual interest (`SmartCrop`).
    case smart

    /// The same placement, one way: a focal point at the centre is the centred window.
    var canonical: Placement { self == .focalPoint(.centre) ? .gravity(.centre) : self }
}

/// The compass points and the centre, spelled as the grammar spells them.
package enum Gravity: String, CaseIterable, Sendable {
    case centre = "c", north = "n", northEast = "ne", east = "e", southEast = "se"
    case south = "s", southWest = "sw", west = "w", northWest = "nw"

    /// -1 flush left, 0 centred, 1 flush right.
    var horizontal: Int { rawValue.contains("w") ? -1 : rawValue.contains("e") ? 1 : 0 }
    /// -1 flush with the top, 0 centred, 1 flush with the bottom.
    var vertical: Int { rawValue.hasPrefix("n") ? -1 : rawValue.hasPrefix("s") ? 1 : 0 }

    /// The offset along one axis where `free` pixels are left over.
    func offset(free: Int, along direction: Int) -> Int {
        direction < 0 ? 0 : direction > 0 ? free : free / 2
    }
}

/// A point of the upright source, in per cent of its width and height from its top left corner.
package struct FocalPoint: Equatable, Sendable, CustomStringConvertible {
    package var x: Int, y: Int
    /// What a crop without a focal point centres on.
    package static let centre = FocalPoint(x: 50, y: 50)
    /// As `--focal` takes it.
    package var description: String { "\(x),\(y)" }

    package init(x: Int, y: Int) {
        self.x = x
        self.y = y
    }

    /// `X` and `Y`, each 0 to 100, joined by `separator`.
    static func parse(_ text: Substring, separator: Character) -> FocalPoint? {
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == 2, let x = decimal(parts[0]), let y = decimal(parts[1]), x <= 100, y <= 100 else {
            return nil
        }
        return FocalPoint(x: x, y: y)
    }

    /// The window's offset along one axis: centred on `percent` of `image`, within the image.
    static func offset(percent: Int, image: Int, window: Int) -> Int {
        // Whole numbers only: fp50.50 is exactly the centred window.
        min(max(0, (2 * percent * image - 100 * window) / 200), image - window)
    }
}

package enum OutputFormat: String, CaseIterable, Sendable {
    case jpeg, png, webp, gif, avif

    /// The spellings the grammar and `-f` accept; `jpg` is an alias.
    package static func named(_ name: Substring) -> OutputFormat? {
        name == "jpg" ? .jpeg : OutputFormat(rawValue: String(name))
    }

    package var mediaType: String { "image/" + rawValue }
    /// The quality a request without `q` gets; nil for the lossless formats.
    /// Each is chosen so that the formats' outputs look alike (mean SSIM
    /// against a Lanczos reference; `make quality` measures it).
    package var defaultQuality: Int? {
        switch self {
        case .jpeg: 80
        case .webp: 81
        case .avif: 47
        case .png, .gif: nil
        }
    }

    /// The lossy formats' defaults, as `--help` and the man page give them: `jpeg 80, webp 81, avif 47`.
    package static var defaultQualities: String {
        allCases.compactMap { format in format.defaultQuality.map { "\(format.rawValue) \($0)" } }.joined(separator: ", ")
    }
}

extension [OutputFormat] {
    /// As `--formats` takes them: `avif,webp,jpeg`.
    package var list: String { map(\.rawValue).joined(separator: ",") }
}

/// An sRGB colour written as six hex digits.
package struct RGB: Equatable, Sendable, CustomStringConvertible {
    package var red: UInt8, green: UInt8, blue: UInt8
    package static let white = RGB(red: 255, green: 255, blue: 255)

    package static func parse(_ hex: Substring) -> RGB? {
        guard hex.count == 6, hex.allSatisfy(\.isHexDigit), let value = UInt32(hex, radix: 16) else {
            return nil
        }
        return RGB(red: UInt8(value >> 16), green: UInt8((value >> 8) & 0xff), blue: UInt8(value & 0xff))
    }

    package var description: String {
        [red, green, blue].map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}
