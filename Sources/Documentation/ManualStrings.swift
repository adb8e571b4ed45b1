import ThumbnailCore

/// The man page's roff strings: the numbers its prose quotes, taken from
/// the code, so that `\*[max-side]` in the text is what the code does.
/// mandoc -T lint warns of a string the page uses and this does not define.
func manualStrings() -> String {
    let optionDefaults = optionTable.compactMap { spec -> (String, String)? in
        guard case .value(let value) = spec.defaultValue else { return nil }
        return (spec.long, value)
    }
    let qualities = OutputFormat.allCases.compactMap { format in
        format.defaultQuality.map { ("\(format.rawValue)-quality", "\($0)") }
    }
    let constants: [(String, String)] = [
        ("qualities", "\(PathGrammar.qualities.lowerBound) to \(PathGrammar.qualities.upperBound)"),
        ("focal-centre", "fp\(FocalPoint.centre.x).\(FocalPoint.centre.y)"),
        ("http-request-line", "\(HTTPLimits.requestLine)"),
        ("http-header-block", "\(HTTPLimits.headerBlock)"),
        ("http-fields", "\(HTTPLimits.fieldCount)"),
        ("http-method", "\(HTTPLimits.method)"),
        ("batch-list", bytes(maxListBytes)),
        ("secret-bytes", "\(Access.minimumSecretBytes)"),
        ("signature-bytes", "\(Access.signatureBytes)"),
        ("signature-characters", "\((Access.signatureBytes * 8 + 5) / 6)"),
        ("magick-memory", bytes(ImageMagick.memoryBytes)),
        ("magick-area", "\(ImageMagick.areaPixels / 1_000_000) megapixels"),
        ("magick-side", "\(ImageMagick.sidePixels)"),
        ("magick-seconds", "\(ImageMagick.secondsPerRender)"),
        ("placeholder-side", "\(Placeholder.side)"),
    ]
    let statuses = ThumbnailError.table.flatMap { kind, statuses in
        let name = kind.rawValue.replacing(/[A-Z]/) { "-" + $0.output.lowercased() }
        return [("\(name)-exit", "\(statuses.exit)"), ("\(name)-http", "\(statuses.http)")]
    }
    return (optionDefaults + qualities + constants + statuses).map { ".ds \($0.0) \($0.1)\n" }.joined()
}

/// `1 GiB`, `16 MiB`, or the number of bytes.
private func bytes(_ count: Int) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where count % (1 << shift) == 0 {
        return "\(count >> shift) \(unit)"
    }
    return "\(count)"
}
