/// The URL-path grammar, shared by the command line, the HTTP
/// mode and the batch mode:
///
///     {prefix}/[{signature}/]{size}[,{option}...]/[{format}/]{source}
package struct PathGrammar: Sendable {
    package static let defaultPrefix = "/thumbnail"
    package static let defaultMaxSide = 4096
    /// What `q` and `--quality` take.
    package static let qualities = 1...100

    package var prefix: String
    package var maxSide: Int

    package init(prefix: String = defaultPrefix, maxSide: Int = defaultMaxSide) {
        self.prefix = prefix
        self.maxSide = maxSide
    }

    /// True when `argument` is meant as a thumbnail path or URL rather than a file.
    package func isThumbnailPath(_ argument: String) -> Bool {
        argument.hasPrefix("http://") || argument.hasPrefix("https://") || argument.hasPrefix(prefix + "/")
    }

    /// The path part of a full URL or of a request target; the query is ignored.
    package static func pathPart(of target: String) -> Substring {
        var rest = Substring(target)
        for scheme in ["http://", "https://"] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        return rest
    }

    /// Splits a thumbnail path (or full URL) after its prefix: the signature
    /// segment if there is one, and the rest, from its `/`, which is what a
    /// signature covers.
    package func splitSignature(_ target: String) throws(ThumbnailError) -> (signature: Substring?, signed: Substring) {
        let path = Self.pathPart(of: target)
        // Outside the prefix there is no thumbnail: an origin answers 404 to what else a CDN forwards.
        guard path.hasPrefix(prefix + "/") else {
            throw ThumbnailError(.notFound, String(path), "not a thumbnail path: it does not start with '\(prefix)/'")
        }
        let rest = path.dropFirst(prefix.count)
        let first = rest.dropFirst().prefix { $0 != "/" }
        guard isSignatureShaped(first) else { return (nil, rest) }
        return (first, rest[first.endIndex...])
    }

    /// Parses an unsigned thumbnail path (or full URL) into a request.
    package func parse(_ target: String) throws(ThumbnailError) -> ThumbnailRequest {
        let (signature, signed) = try splitSignature(target)
        if let signature { throw Self.unexpectedSignature(signature) }
        return try parse(signed: signed)
    }

    static func unexpectedSignature(_ signature: Substring) -> ThumbnailError {
        ThumbnailError(.badPath, String(signature), "a signature segment, but no --key-file is configured")
    }

    /// Parses what follows the prefix and signature: `/{size}[,{option}...]/[{format}/]{source}`.
    package func parse(signed path: Substring) throws(ThumbnailError) -> ThumbnailRequest {
        var segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard path.hasPrefix("/"), segments.count >= 2 else {
            throw ThumbnailError(.badPath, prefix + path, "expected SIZE/[FORMAT/]SOURCE after '\(prefix)/'")
        }
        let sizeSegment = segments.removeFirst()
        var items = sizeSegment.split(separator: ",", omittingEmptySubsequences: false)
        let size = try BoxSize.parse(items.removeFirst(), maxSide: maxSide)
        var format: OutputFormat? = nil
        // A first source segment spelled like a format is always the format.
        if let named = OutputFormat.named(segments[0]) {
            format = named
            segments.removeFirst()
        }
        var request = ThumbnailRequest(size: size, source: try SourcePath(encodedSegments: segments))
        request.format = format
        try parseOptions(items, of: sizeSegment, into: &request)
        // Spellings that mean the same give the same request.
        request.quality = request.canonicalQuality
        return request
    }

    /// The options after the size: each at most once, in any order.
    func parseOptions(
        _ items: [Substring], of segment: Substring, into request: inout ThumbnailRequest
    ) throws(ThumbnailError) {
        var seen: Set<String> = []
        for item in items {
            let gravity = Gravity(rawValue: String(item))
            let name =
                item.hasPrefix("q") ? "q" : item.hasPrefix("bg") ? "bg" : item.hasPrefix("fp") ? "fp"
                : item.hasPrefix("v") ? "v" : String(item)
            // One mode and one placement: a second one conflicts as a repeat does.
            let slot = name == "pad" ? "crop" : gravity != nil || name == "fp" || name == "smart" ? "placement" : name
            guard seen.insert(slot).inserted else {
                throw ThumbnailError(.badPath, String(segment), "option '\(item)' repeats or conflicts")
            }
            switch name {
            case "crop": request.mode = .crop
            case "pad": request.mode = .pad
            case "q":
                guard let quality = decimal(item.dropFirst()), Self.qualities.contains(quality) else {
                    throw ThumbnailError(
                        .badPath, String(item), "quality is q\(Self.qualities.lowerBound) to q\(Self.qualities.upperBound)")
                }
                request.quality = quality
            case "bg":
                guard let colour = RGB.parse(item.dropFirst(2)) else {
                    throw ThumbnailError(.badPath, String(item), "background is bg and six hex digits")
                }
                request.background = colour
            case "fp":
                guard let point = FocalPoint.parse(item.dropFirst(2), separator: ".") else {
                    throw ThumbnailError(.badPath, String(item), "focal point is fpX.Y, each 0 to 100 per cent")
                }
                request.placement = .focalPoint(point)
            case "smart": request.placement = .smart
            case "v":
                guard ThumbnailRequest.isVersion(item.dropFirst()) else {
                    throw ThumbnailError(.badPath, String(item), "a version is v and 1 to 64 of A-Z a-z 0-9 _ -")
                }
                request.version = String(item.dropFirst())
            default:
                guard let gravity else {
                    throw ThumbnailError(
                        .badPath, String(item),
                        "unknown option (crop, pad, q1..q100, bgRRGGBB, n ne e se s sw w nw, fpX.Y, smart, vVERSION)")
                }
                request.placement = .gravity(gravity)
            }
        }
        try Self.checkMode(request.mode, size: request.size)
        do throws(ThumbnailError) {
            try Self.checkPlacement(request.placement, mode: request.mode, placed: seen.contains("placement"))
        } catch {
            throw ThumbnailError(error.kind, request.canonicalSizeSegment, error.reason)
        }
        request.placement = request.placement.canonical
    }

    /// crop and pad make an exact box, so they need both sides.
    static func checkMode(_ mode: FitMode, size: BoxSize) throws(ThumbnailError) {
        if mode != .fit, size.width == nil || size.height == nil {
            throw ThumbnailError(.badPath, size.description, "\(mode) needs both width and height")
        }
    }

    /// A placement (`placed`: one was given, even the default) needs crop or
    /// pad, and a focal point or smart needs crop: pad has no window to place.
    static func checkPlacement(_ placement: Placement, mode: FitMode, placed: Bool) throws(ThumbnailError) {
        let needsCrop: Bool
        switch placement {
        case .gravity: needsCrop = false
        case .focalPoint, .smart: needsCrop = true
        }
        if placed && mode == .fit || needsCrop && mode == .pad {
            let what = needsCrop ? "a focal point or smart" : "a gravity"
            throw ThumbnailError(.badPath, "\(mode)", "\(what) needs crop\(needsCrop ? "" : " or pad")")
        }
    }
}
