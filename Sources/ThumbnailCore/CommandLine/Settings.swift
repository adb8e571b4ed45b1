/// Everything the options say, after the config file and then the command line.
public struct Settings: Sendable {
    public var root = "."
    public var prefix = "/thumbnail"
    public var maxSide = 4096
    public var limits = Limits()
    /// `-s` as given; parsed after every option is read, against the final `maxSide`.
    public var size: String? = nil
    public var format: OutputFormat? = nil
    public var quality: Int? = nil
    public var crop = false
    public var pad = false
    public var background: RGB? = nil
    public var output: String? = nil
    public var configFile: String? = nil
    /// nil: every size is allowed.
    public var allowedSizes: [BoxSize]? = nil
    public var keyFile: String? = nil
    public var originTokenFile: String? = nil
    public var originTokenHeader = Settings.defaultOriginTokenHeader
    public var explain = false
    public var sign = false
    /// `--batch`: the list of paths, `-` for stdin, and what the batch options say.
    public var batch: String? = nil
    public var base: String? = nil
    public var outputDirectory: String? = nil
    public var jobs: Int? = nil
    public var maxTime: Int? = nil
    public var help = false
    public var version = false
    // The inetd HTTP mode (SPEC §4).
    public var logFile: String? = nil
    public var cacheControl = "public, max-age=31536000, immutable"
    public var errorMaxAge = 60
    public var idleTimeout = 15
    public var readTimeout = 10
    public var maxRequests = 100

    public static let defaultOriginTokenHeader = "X-Origin-Token"

    public init() {}

    public var grammar: PathGrammar { PathGrammar(prefix: prefix, maxSide: maxSide) }

    /// True when a flag that shapes the thumbnail was given.
    var hasRequestFlags: Bool {
        size != nil || format != nil || quality != nil || crop || pad || background != nil
    }

    /// The request the flags form describes, for `source`.
    func flagsRequest(source: SourcePath) throws(ThumbnailError) -> ThumbnailRequest {
        guard let size else { throw ThumbnailError(.usage, "-s", "a size is required: -s WxH, Wx or xH") }
        guard !(crop && pad) else { throw ThumbnailError(.usage, "--crop", "cannot be combined with --pad") }
        let box: BoxSize
        do throws(ThumbnailError) {
            box = try BoxSize.parse(Substring(size), maxSide: maxSide)
        } catch {
            throw ThumbnailError(.usage, "--size", error.reason)
        }
        var request = ThumbnailRequest(size: box, source: source)
        request.mode = crop ? .crop : pad ? .pad : .fit
        request.format = format
        request.quality = quality
        request.background = background ?? .white
        do throws(ThumbnailError) {
            try PathGrammar.checkMode(request)
        } catch {
            throw ThumbnailError(.usage, "--\(request.mode)", error.reason)
        }
        return request
    }

    /// Applies `arguments` on top of these settings; a `--config` among them
    /// is read first, so the command line wins.
    mutating func apply(arguments: [String]) throws(ThumbnailError) -> [String] {
        let parsed = try ParsedArguments(arguments)
        if let config = parsed.options.last(where: { $0.spec.long == "config" }) {
            try applyConfigFile(config.value)
        }
        for (spec, value) in parsed.options { try spec.apply(&self, value) }
        return parsed.operands
    }

    /// `name = value` or `name` lines of long options, each at most once;
    /// `#` starts a comment.
    mutating func applyConfigFile(_ path: String) throws(ThumbnailError) {
        let bytes = try readConfigFile(path)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var seen: [Substring: Int] = [:]
        for (index, line) in lines.enumerated() {
            let text = line.prefix { $0 != "#" }.trimmingSpaces
            if text.isEmpty { continue }
            let name = text.prefix { $0 != "=" }.trimmingSpaces
            let value = text.contains("=") ? text.drop { $0 != "=" }.dropFirst().trimmingSpaces : nil
            let place = "\(path):\(index + 1)"
            guard !name.isEmpty, name.allSatisfy({ ("a"..."z").contains($0) || $0 == "-" }) else {
                throw ThumbnailError(.usage, place, "expected 'name = value' or 'name', not '\(text)'")
            }
            guard let spec = optionTable.first(where: { $0.long == name }), spec.configurable else {
                throw ThumbnailError(.usage, place, "'\(name)' is not an option a config file can set")
            }
            if let earlier = seen.updateValue(index + 1, forKey: name) {
                throw ThumbnailError(.usage, place, "'\(name)' was already set on line \(earlier)")
            }
            switch (spec.value, value) {
            case (nil, _?): throw ThumbnailError(.usage, place, "'\(name)' takes no value")
            case (_?, nil): throw ThumbnailError(.usage, place, "'\(name)' needs '= value'")
            default:
                do throws(ThumbnailError) {
                    try spec.apply(&self, String(value ?? ""))
                } catch {
                    throw ThumbnailError(.usage, place, error.description)
                }
            }
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        let isSpace = { (character: Character) in character == " " || character == "\t" || character == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return self[first...last]
    }
}
