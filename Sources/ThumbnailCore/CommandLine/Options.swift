/// One command-line option. The table below is the only list of options:
/// `--help` prints it, the parser reads it, `--config` files use its long
/// names, and a test checks the man page and completions against it.
public struct OptionSpec: Sendable {
    public let long: String
    public let short: Character?
    /// The value's placeholder in `--help`; nil for a flag.
    public let value: String?
    public let help: String
    /// Whether a `--config` file may set it.
    public let configurable: Bool
    let apply: @Sendable (inout Settings, String) throws(ThumbnailError) -> Void

    init(
        _ long: String, _ short: Character? = nil, value: String? = nil, configurable: Bool = true, help: String,
        apply: @escaping @Sendable (inout Settings, String) throws(ThumbnailError) -> Void
    ) {
        self.long = long
        self.short = short
        self.value = value
        self.help = help
        self.configurable = configurable
        self.apply = apply
    }

    /// How `--help` names it: `-s, --size WxH`.
    public var synopsis: String {
        (short.map { "-\($0), " } ?? "    ") + "--" + long + (value.map { " " + $0 } ?? "")
    }
}

public let optionTable: [OptionSpec] = [
    OptionSpec("background", value: "RRGGBB", help: "background for pad and JPEG alpha (ffffff)") {
        settings, value throws(ThumbnailError) in
        guard let colour = RGB.parse(Substring(value)) else {
            throw ThumbnailError(.usage, "--background", "'\(value)' is not six hex digits")
        }
        settings.background = colour
    },
    OptionSpec("base", value: "URL", configurable: false, help: "with --batch: GET paths from URL (warm a CDN)") {
        settings, value throws(ThumbnailError) in
        guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
            throw ThumbnailError(.usage, "--base", "'\(value)' is not an http:// or https:// URL")
        }
        settings.base = value
    },
    OptionSpec("batch", value: "FILE", configurable: false, help: "render the paths listed in FILE (- for stdin)") {
        settings, value in settings.batch = value
    },
    OptionSpec("cache-control", value: "TEXT", help: "inetd: Cache-Control of a thumbnail") {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy({ (0x20...0x7e).contains($0) }) else {
            throw ThumbnailError(.usage, "--cache-control", "must be printable ASCII, not empty")
        }
        settings.cacheControl = value
    },
    OptionSpec("config", value: "FILE", configurable: false, help: "read long options from FILE, one a line") {
        settings, value in settings.configFile = value
    },
    OptionSpec("crop", help: "fill the box exactly, cropping the overflow") { settings, _ in
        settings.crop = true
    },
    OptionSpec("error-max-age", value: "SEC", help: "inetd: max-age of an error reply (default 60)") {
        settings, value throws(ThumbnailError) in settings.errorMaxAge = try count(value, "--error-max-age", from: 0)
    },
    OptionSpec("explain", configurable: false, help: "print the canonical path, checks and plan only") {
        settings, _ in settings.explain = true
    },
    OptionSpec("format", "f", value: "FORMAT", help: "jpeg, png, webp, gif or avif (default: source)") {
        settings, value throws(ThumbnailError) in
        guard let format = OutputFormat.named(Substring(value)) else {
            throw ThumbnailError(.usage, "--format", "'\(value)' is not one of jpeg, jpg, png, webp, gif, avif")
        }
        settings.format = format
    },
    OptionSpec("help", "h", configurable: false, help: "print this help and exit") { settings, _ in
        settings.help = true
    },
    OptionSpec("idle-timeout", value: "SEC", help: "inetd: close after SEC idle seconds (15)") {
        settings, value throws(ThumbnailError) in settings.idleTimeout = try count(value, "--idle-timeout")
    },
    // `run` looks for --inetd before parsing, so no error can reach fd 2 in that mode.
    OptionSpec("inetd", configurable: false, help: "serve HTTP on stdin/stdout (inetd, systemd)") { _, _ in },
    OptionSpec("jobs", "j", value: "N", configurable: false, help: "with --batch: paths at once (default: cores)") {
        settings, value throws(ThumbnailError) in settings.jobs = try count(value, "--jobs", to: 1024)
    },
    OptionSpec("key-file", value: "FILE", help: "URL signing keys, one a line; the first signs") {
        settings, value in settings.keyFile = value
    },
    OptionSpec("log", value: "FILE", help: "inetd: append a line per request (or syslog)") {
        settings, value in settings.logFile = value
    },
    OptionSpec("max-bytes", value: "N", help: "largest source file in bytes (52428800)") {
        settings, value throws(ThumbnailError) in settings.limits.maxBytes = try count(value, "--max-bytes")
    },
    OptionSpec("max-frames", value: "N", help: "most frames an animated source may have (1000)") {
        settings, value throws(ThumbnailError) in settings.limits.maxFrames = try count(value, "--max-frames")
    },
    OptionSpec("max-pixels", value: "N", help: "largest source in pixels (default 50000000)") {
        settings, value throws(ThumbnailError) in settings.limits.maxPixels = try count(value, "--max-pixels")
    },
    OptionSpec("max-requests", value: "N", help: "inetd: requests per connection (default 100)") {
        settings, value throws(ThumbnailError) in settings.maxRequests = try count(value, "--max-requests")
    },
    OptionSpec("max-side", value: "N", help: "largest side a path may ask for (4096)") {
        settings, value throws(ThumbnailError) in settings.maxSide = try count(value, "--max-side")
    },
    OptionSpec("max-time", value: "SECONDS", configurable: false, help: "with --base: time limit per request (30)") {
        settings, value throws(ThumbnailError) in settings.maxTime = try count(value, "--max-time", to: 3600)
    },
    OptionSpec("origin-token-file", value: "FILE", help: "HTTP: require the CDN's origin token in FILE") {
        settings, value in settings.originTokenFile = value
    },
    OptionSpec("origin-token-header", value: "NAME", help: "origin token header (default X-Origin-Token)") {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy(isTokenByte) else {
            throw ThumbnailError(.usage, "--origin-token-header", "'\(value)' is not an HTTP header name")
        }
        settings.originTokenHeader = value
    },
    OptionSpec("output", "o", value: "FILE", configurable: false, help: "write to FILE atomically (default: stdout)") {
        settings, value in settings.output = value
    },
    OptionSpec("output-dir", value: "DIR", configurable: false, help: "with --batch: write DIR/<canonical path>") {
        settings, value in settings.outputDirectory = value
    },
    OptionSpec("pad", help: "fit inside the box, then pad to the box") { settings, _ in
        settings.pad = true
    },
    OptionSpec("prefix", value: "PATH", help: "URL path prefix (/thumbnail; \"\" for none)") {
        settings, value throws(ThumbnailError) in
        guard value.isEmpty || (value.hasPrefix("/") && !value.hasSuffix("/")) else {
            throw ThumbnailError(.usage, "--prefix", "'\(value)' must be empty or start, not end, with '/'")
        }
        // It names directories under --output-dir: no segment may climb out.
        let segments = value.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw ThumbnailError(.usage, "--prefix", "'\(value)' has an empty, '.' or '..' segment")
        }
        settings.prefix = value
    },
    OptionSpec("quality", "q", value: "N", help: "encoder quality 1-100 (default: the format's)") {
        settings, value throws(ThumbnailError) in settings.quality = try count(value, "--quality", to: 100)
    },
    OptionSpec("read-timeout", value: "SEC", help: "inetd: seconds to read a request (default 10)") {
        settings, value throws(ThumbnailError) in settings.readTimeout = try count(value, "--read-timeout")
    },
    OptionSpec("root", "r", value: "DIR", help: "storage root for sources (default .)") {
        settings, value in settings.root = value
    },
    OptionSpec("sign", configurable: false, help: "print URL-PATH canonical and signed; no render") {
        settings, _ in settings.sign = true
    },
    OptionSpec("size", "s", value: "WxH", help: "box to fit: WxH, Wx or xH") { settings, value in
        settings.size = value
    },
    OptionSpec("sizes", value: "LIST", help: "allow only these sizes: 100x100,200x200,x64") {
        settings, value throws(ThumbnailError) in
        // Checked against --max-side once every option is read (Access).
        var sizes: [BoxSize] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) {
            do throws(ThumbnailError) {
                sizes.append(try BoxSize.parse(item, maxSide: .max))
            } catch {
                throw ThumbnailError(.usage, "--sizes", "'\(item)': " + error.reason)
            }
        }
        settings.allowedSizes = sizes
    },
    OptionSpec("version", configurable: false, help: "print versions and exit") {
        settings, _ in settings.version = true
    },
]

/// A whole number option value, `minimum` or more.
private func count(
    _ value: String, _ option: String, from minimum: Int = 1, to maximum: Int? = nil
) throws(ThumbnailError) -> Int {
    guard let number = decimal(Substring(value)), number >= minimum, number <= maximum ?? .max else {
        let range = maximum.map { "from \(minimum) to \($0)" } ?? "from \(minimum)"
        throw ThumbnailError(.usage, option, "'\(value)' is not a whole number \(range)")
    }
    return number
}

/// The usage line printed by `--help` and after a usage error.
public let usageLine = """
    usage: thumbnail [-s WxH] [-f FORMAT] [-o FILE] [options] SOURCE | URL-PATH | -
           thumbnail --batch FILE|- [-j N] [--output-dir DIR | --base URL] [options]
    """

/// The command line split into options (in order) and operands, by a flat
/// hand-written loop: `-abc` bundles, `-sVALUE`, `-s VALUE`, `--long=VALUE`,
/// `--long VALUE`, `--` ends options, `-` is an operand (stdin).
struct ParsedArguments {
    var options: [(spec: OptionSpec, value: String)] = []
    var operands: [String] = []

    init(_ arguments: [String], table: [OptionSpec] = optionTable) throws(ThumbnailError) {
        var index = arguments.startIndex
        func nextValue(for spec: OptionSpec) throws(ThumbnailError) -> String {
            guard index < arguments.endIndex else {
                throw ThumbnailError(.usage, "--\(spec.long)", "needs a value (\(spec.value ?? ""))")
            }
            defer { index += 1 }
            return arguments[index]
        }
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                operands += arguments[index...]
                break
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let inline: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
                guard let spec = table.first(where: { $0.long == name }) else {
                    throw unknownOption("--" + name, table: table)
                }
                if spec.value == nil, inline != nil {
                    throw ThumbnailError(.usage, "--\(name)", "takes no value")
                }
                if spec.value == nil {
                    options.append((spec, ""))
                } else if let inline {
                    options.append((spec, inline))
                } else {
                    options.append((spec, try nextValue(for: spec)))
                }
            } else if argument.hasPrefix("-"), argument != "-" {
                var letters = argument.dropFirst()
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    guard let spec = table.first(where: { $0.short == letter }) else {
                        throw unknownOption("-" + String(letter), table: table)
                    }
                    if spec.value == nil {
                        options.append((spec, ""))
                    } else {
                        options.append((spec, letters.isEmpty ? try nextValue(for: spec) : String(letters)))
                        break
                    }
                }
            } else {
                operands.append(argument)
            }
        }
    }
}

/// An unknown option, with the nearest known one as a suggestion.
func unknownOption(_ option: String, table: [OptionSpec]) -> ThumbnailError {
    let name = option.drop { $0 == "-" }
    let nearest = table.min { editDistance(name, $0.long) < editDistance(name, $1.long) }
    let candidates = table.filter { $0.long.hasPrefix(name) && !name.isEmpty }
    let suggestion = candidates.count == 1 ? candidates[0] : nearest.flatMap { editDistance(name, $0.long) <= 2 ? $0 : nil }
    return ThumbnailError(
        .usage, option, "unknown option" + (suggestion.map { "; did you mean --\($0.long)?" } ?? "; see --help"))
}

/// Levenshtein distance, for suggestions.
func editDistance(_ a: some StringProtocol, _ b: some StringProtocol) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}

/// `--help`: the usage line and the option table, within 80 columns.
public func helpText(table: [OptionSpec] = optionTable) -> String {
    let width = table.map(\.synopsis.count).max() ?? 0
    let lines = table.map { spec in
        "  " + spec.synopsis + String(repeating: " ", count: width - spec.synopsis.count + 2) + spec.help
    }
    return usageLine + "\n\nOptions:\n" + lines.joined(separator: "\n") + "\n\n" + batchHelp
}
