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
    /// The modes it applies to; given on the command line with any other
    /// mode, it is a usage error. A mode option applies to its own mode only,
    /// but for --picture, which --batch takes as what to do with each path.
    public let modes: Set<Mode>
    let apply: @Sendable (inout Settings, String) throws(ThumbnailError) -> Void

    init(
        _ long: String, _ short: Character? = nil, value: String? = nil, configurable: Bool = true,
        for modes: Set<Mode>, help: String,
        apply: @escaping @Sendable (inout Settings, String) throws(ThumbnailError) -> Void
    ) {
        self.long = long
        self.short = short
        self.value = value
        self.help = help
        self.configurable = configurable
        self.modes = modes
        self.apply = apply
    }

    /// The mode this option selects, if it is one of the mode options.
    public var selectedMode: Mode? { Mode(rawValue: long) }

    /// How `--help` names it: `-s, --size WxH`.
    public var synopsis: String {
        (short.map { "-\($0), " } ?? "    ") + "--" + long + (value.map { " " + $0 } ?? "")
    }
}

/// What `thumbnail` does; each mode has its own configuration (`Invocation`).
public enum Mode: String, CaseIterable, Sendable {
    /// One thumbnail from flags and a source, or from a path.
    case render
    case explain, sign, inetd, listen, batch, picture, help, version
    case checkConfig = "check-config"
}

extension Set where Element == Mode {
    /// The flags form's request: size, mode, quality, background (--format: not with --picture).
    static let request: Set<Mode> = [.render, .explain, .picture]
    /// Where sources come from and what they may be.
    static let sources: Set<Mode> = [.render, .explain, .picture, .inetd, .listen, .checkConfig, .batch]
    /// What paths may say: the grammar, sizes and signatures.
    static let paths: Set<Mode> = [.render, .explain, .picture, .sign, .inetd, .listen, .checkConfig, .batch]
    /// `--picture`'s markup, alone or for each path of a batch.
    static let markup: Set<Mode> = [.picture, .batch]
    /// The HTTP modes' own, which --check-config checks. `--inetd` handed a
    /// listening socket is a listening server, so the listening server's
    /// options apply to it too.
    static let server: Set<Mode> = [.inetd, .listen, .checkConfig]
}

public let optionTable: [OptionSpec] = [
    OptionSpec("alt", value: "TEXT", configurable: false, for: .markup, help: "--picture: the img's alt text (default empty)") {
        settings, value in settings.picture.alt = value
    },
    OptionSpec("background", value: "RRGGBB", for: .request, help: "background for pad and JPEG alpha (ffffff)") {
        settings, value throws(ThumbnailError) in
        guard let colour = RGB.parse(Substring(value)) else {
            throw ThumbnailError(.usage, "--background", "'\(value)' is not six hex digits")
        }
        settings.background = colour
    },
    OptionSpec("base", value: "URL", configurable: false, for: .markup, help: "the CDN: --batch GETs from it, --picture links") {
        settings, value throws(ThumbnailError) in
        guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
            throw ThumbnailError(.usage, "--base", "'\(value)' is not an http:// or https:// URL")
        }
        settings.base = value
    },
    OptionSpec("batch", value: "FILE", configurable: false, for: [.batch], help: "render the paths listed in FILE (- for stdin)") {
        settings, value in
        settings.modes.append(.batch)
        settings.batchList = value
    },
    OptionSpec("ca-file", value: "FILE", for: .sources, help: "URL roots: trust the CAs in FILE") {
        settings, value in settings.remote.caFile = value
    },
    OptionSpec("cache-control", value: "TEXT", for: .server, help: "inetd: Cache-Control of a thumbnail") {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy({ (0x20...0x7e).contains($0) }) else {
            throw ThumbnailError(.usage, "--cache-control", "must be printable ASCII, not empty")
        }
        settings.cacheControl = value
    },
    OptionSpec("client-ip-header", value: "NAME", for: .server, help: "inetd: log the client the CDN names in NAME") {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy(isTokenByte) else {
            throw ThumbnailError(.usage, "--client-ip-header", "'\(value)' is not an HTTP header name")
        }
        settings.clientIPHeader = value
    },
    OptionSpec("check-config", configurable: false, for: [.checkConfig], help: "check the inetd options, name every problem") {
        settings, _ in settings.modes.append(.checkConfig)
    },
    OptionSpec("config", value: "FILE", configurable: false, for: Set(Mode.allCases), help: "read long options from FILE, one a line") {
        // Settings.apply reads the file before every other option.
        _, _ in
    },
    OptionSpec("crop", for: .request, help: "fill the box exactly, cropping the overflow") { settings, _ in
        settings.crop = true
    },
    OptionSpec("densities", value: "LIST", configurable: false, for: .markup, help: "--picture: pixel densities (default 1,2)") {
        settings, value throws(ThumbnailError) in
        var densities: [Int] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) {
            guard let density = decimal(item), (1...PictureOptions.maxDensity).contains(density), !densities.contains(density)
            else {
                throw ThumbnailError(
                    .usage, "--densities", "'\(item)' is not a new whole number from 1 to \(PictureOptions.maxDensity)")
            }
            densities.append(density)
        }
        guard densities.contains(1) else {
            throw ThumbnailError(.usage, "--densities", "must hold 1: the img's src is the 1x thumbnail")
        }
        settings.picture.densities = densities.sorted()
    },
    OptionSpec("error-max-age", value: "SEC", for: .server, help: "inetd: max-age of an error reply (default 60)") {
        settings, value throws(ThumbnailError) in settings.errorMaxAge = try count(value, "--error-max-age", from: 0)
    },
    OptionSpec("explain", configurable: false, for: [.explain], help: "print the canonical path, checks and plan only") {
        settings, _ in settings.modes.append(.explain)
    },
    OptionSpec("focal", value: "X,Y", for: .request, help: "with --crop: centre on X,Y (per cent)") {
        settings, value throws(ThumbnailError) in
        guard let point = FocalPoint.parse(Substring(value), separator: ",") else {
            throw ThumbnailError(.usage, "--focal", "'\(value)' is not X,Y, each a whole number from 0 to 100")
        }
        settings.focalPoint = point
    },
    OptionSpec("format", "f", value: "FORMAT", for: [.render, .explain], help: "jpeg, png, webp, gif or avif (default: source)") {
        settings, value throws(ThumbnailError) in
        guard let format = OutputFormat.named(Substring(value)) else {
            throw ThumbnailError(.usage, "--format", "'\(value)' is not one of jpeg, jpg, png, webp, gif, avif")
        }
        settings.format = format
    },
    OptionSpec("formats", value: "LIST", configurable: false, for: .markup, help: "--picture: formats to offer (avif,webp,jpeg)") {
        settings, value throws(ThumbnailError) in
        var formats: [OutputFormat] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) {
            guard let format = OutputFormat.named(item), !formats.contains(format) else {
                throw ThumbnailError(.usage, "--formats", "'\(item)' is not a new one of jpeg, png, webp, gif, avif")
            }
            formats.append(format)
        }
        settings.picture.formats = formats
    },
    OptionSpec("gravity", value: "NAME", for: .request, help: "where crop or pad goes: n ne e se s sw w nw") {
        settings, value throws(ThumbnailError) in
        guard let gravity = Gravity(rawValue: value) else {
            throw ThumbnailError(.usage, "--gravity", "'\(value)' is not one of n, ne, e, se, s, sw, w, nw, c")
        }
        settings.gravity = gravity
    },
    OptionSpec("help", "h", configurable: false, for: [.help], help: "print this help and exit") {
        settings, _ in settings.modes.append(.help)
    },
    OptionSpec("idle-timeout", value: "SEC", for: .server, help: "inetd: close after SEC idle seconds (15)") {
        settings, value throws(ThumbnailError) in settings.idleTimeout = try count(value, "--idle-timeout")
    },
    OptionSpec("inetd", configurable: false, for: [.inetd], help: "serve HTTP on stdin/stdout (inetd, systemd)") {
        settings, _ in settings.modes.append(.inetd)
    },
    OptionSpec("jobs", "j", value: "N", configurable: false, for: [.batch, .render], help: "paths or sources at once (default: cores)") {
        settings, value throws(ThumbnailError) in settings.jobs = try count(value, "--jobs", to: 1024)
    },
    OptionSpec("key-file", value: "FILE", for: .paths, help: "URL signing keys, one a line; the first signs") {
        settings, value in settings.keyFile = value
    },
    OptionSpec("listen", value: "ADDRESS", configurable: false, for: [.listen], help: "serve HTTP on [HOST:]PORT, or systemd's") {
        settings, value throws(ThumbnailError) in
        settings.modes.append(.listen)
        if value == "systemd" {
            settings.listenFromSystemd = true
        } else {
            settings.listenAddresses.append(try ListenAddress(parsing: value, option: "--listen"))
        }
    },
    OptionSpec("log", value: "FILE", for: .server, help: "inetd: append a line per request (or syslog)") {
        settings, value in settings.logFile = value
    },
    OptionSpec("log-format", value: "FORMAT", for: .server, help: "inetd: combined (default) or json log lines") {
        settings, value throws(ThumbnailError) in
        guard let format = LogFormat(rawValue: value) else {
            throw ThumbnailError(.usage, "--log-format", "'\(value)' is not combined or json")
        }
        settings.logFormat = format
    },
    OptionSpec("max-bytes", value: "N", for: .sources, help: "largest source file in bytes (52428800)") {
        settings, value throws(ThumbnailError) in settings.limits.maxBytes = try count(value, "--max-bytes")
    },
    OptionSpec("max-connections", value: "N", for: .server, help: "listen: connections at once (default 512)") {
        settings, value throws(ThumbnailError) in settings.maxConnections = try count(value, "--max-connections", to: 65536)
    },
    OptionSpec("max-frames", value: "N", for: .sources, help: "most frames an animated source may have (1000)") {
        settings, value throws(ThumbnailError) in settings.limits.maxFrames = try count(value, "--max-frames")
    },
    OptionSpec("max-pixels", value: "N", for: .sources, help: "largest source in pixels (default 50000000)") {
        settings, value throws(ThumbnailError) in settings.limits.maxPixels = try count(value, "--max-pixels")
    },
    OptionSpec("max-renders", value: "N", for: .server, help: "HTTP: renders at once (default: cores)") {
        settings, value throws(ThumbnailError) in settings.maxRenders = try count(value, "--max-renders", to: 4096)
    },
    OptionSpec("max-requests", value: "N", for: .server, help: "inetd: requests per connection (default 100)") {
        settings, value throws(ThumbnailError) in settings.maxRequests = try count(value, "--max-requests")
    },
    OptionSpec("max-side", value: "N", for: .paths, help: "largest side a path may ask for (4096)") {
        settings, value throws(ThumbnailError) in settings.maxSide = try count(value, "--max-side")
    },
    OptionSpec("max-time", value: "SECONDS", configurable: false, for: [.batch], help: "with --base: time limit per request (30)") {
        settings, value throws(ThumbnailError) in settings.maxTime = try count(value, "--max-time", to: 3600)
    },
    OptionSpec("metrics-listen", value: "ADDRESS", configurable: false, for: .server, help: "listen: Prometheus /metrics on [HOST:]PORT") {
        settings, value throws(ThumbnailError) in
        settings.metricsAddress = try ListenAddress(parsing: value, option: "--metrics-listen")
    },
    OptionSpec("no-server-timing", for: .server, help: "HTTP: no Server-Timing header on thumbnails") {
        settings, _ in settings.serverTiming = false
    },
    OptionSpec("origin-token-file", value: "FILE", for: .server, help: "HTTP: require the CDN's origin token in FILE") {
        settings, value in settings.originTokenFile = value
    },
    OptionSpec("origin-token-header", value: "NAME", for: .server, help: "origin token header (default X-Origin-Token)") {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy(isTokenByte) else {
            throw ThumbnailError(.usage, "--origin-token-header", "'\(value)' is not an HTTP header name")
        }
        settings.originTokenHeader = value
    },
    OptionSpec("output", "o", value: "FILE", configurable: false, for: [.render], help: "write to FILE atomically (default: stdout)") {
        settings, value in settings.output = value
    },
    OptionSpec("output-dir", value: "DIR", configurable: false, for: [.batch], help: "with --batch: write DIR/<canonical path>") {
        settings, value in settings.outputDirectory = value
    },
    OptionSpec("pad", for: .request, help: "fit inside the box, then pad to the box") { settings, _ in
        settings.pad = true
    },
    OptionSpec("picture", configurable: false, for: .markup, help: "print the <picture> element for a box") {
        settings, _ in settings.modes.append(.picture)
    },
    OptionSpec("prefix", value: "PATH", for: .paths, help: "URL path prefix (/thumbnail; \"\" for none)") {
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
    OptionSpec("quality", "q", value: "N", for: .request, help: "encoder quality 1-100 (default: the format's)") {
        settings, value throws(ThumbnailError) in settings.quality = try count(value, "--quality", to: 100)
    },
    OptionSpec("queue-timeout", value: "SEC", for: .server, help: "HTTP: seconds a render may wait (default 5)") {
        settings, value throws(ThumbnailError) in settings.queueTimeout = try count(value, "--queue-timeout", from: 0, to: 3600)
    },
    OptionSpec("read-timeout", value: "SEC", for: .server, help: "inetd: seconds to read a request (default 10)") {
        settings, value throws(ThumbnailError) in settings.readTimeout = try count(value, "--read-timeout")
    },
    OptionSpec("render-slots", value: "FILE", for: .server, help: "HTTP: lock file that counts renders at once") {
        settings, value in settings.renderSlots = value
    },
    OptionSpec("root", "r", value: "ROOT", for: .sources, help: "DIR, s3://BUCKET[/P] or https://HOST[/P]") {
        settings, value throws(ThumbnailError) in
        settings.root = try StorageRoot(parsing: value)
        settings.rootGiven = true
    },
    OptionSpec("s3-endpoint", value: "URL", for: .sources, help: "S3-compatible store (default AWS)") {
        settings, value throws(ThumbnailError) in settings.remote.endpoint = try RemoteOptions.endpoint(value)
    },
    OptionSpec("s3-region", value: "REGION", for: .sources, help: "bucket region (AWS_REGION; us-east-1)") {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy({ isTokenByte($0) && $0 != UInt8(ascii: ":") }) else {
            throw ThumbnailError(.usage, "--s3-region", "'\(value)' is not a region name")
        }
        settings.remote.region = value
    },
    OptionSpec("shutdown-timeout", value: "SEC", for: .server, help: "listen: seconds to finish on SIGTERM (20)") {
        settings, value throws(ThumbnailError) in settings.shutdownTimeout = try count(value, "--shutdown-timeout", to: 3600)
    },
    OptionSpec("sign", configurable: false, for: [.sign], help: "print URL-PATH canonical and signed; no render") {
        settings, _ in settings.modes.append(.sign)
    },
    OptionSpec("size", "s", value: "WxH", for: .request, help: "box to fit: WxH, Wx or xH") { settings, value in
        settings.size = value
    },
    OptionSpec("sizes", value: "LIST", for: .paths, help: "allow only these sizes: 100x100,200x200,x64") {
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
    OptionSpec("smart", for: .request, help: "with --crop: keep the most interesting part") { settings, _ in
        settings.smart = true
    },
    OptionSpec("source-timeout", value: "SEC", for: .sources, help: "URL roots: seconds per source (30)") {
        settings, value throws(ThumbnailError) in settings.remote.timeout = try count(value, "--source-timeout", to: 3600)
    },
    OptionSpec("user", value: "NAME", configurable: false, for: .server, help: "HTTP: serve as NAME when started as root") {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty else { throw ThumbnailError(.usage, "--user", "needs a user name") }
        settings.user = value
    },
    OptionSpec("version", configurable: false, for: [.version], help: "print versions and exit") {
        settings, _ in settings.modes.append(.version)
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
           thumbnail -s WxH -o PATTERN [-j N] [options] SOURCE...
           thumbnail --batch FILE|- [-j N] [--output-dir DIR | --base URL] [options]
           thumbnail --inetd | --listen [HOST:]PORT... | --check-config [options]
           thumbnail --sign | --explain | --picture [options] URL-PATH | SOURCE
    """

/// The command line split into options (in order) and operands, by a flat
/// hand-written loop: `-abc` bundles, `-sVALUE`, `-s VALUE`, `--long=VALUE`,
/// `--long VALUE`, `--` ends options, `-` is an operand (stdin). An unknown
/// option is noted and skipped, so the mode options after it are still seen:
/// the HTTP mode must know it is one before it can report anything.
struct ParsedArguments {
    var options: [(spec: OptionSpec, value: String)] = []
    var operands: [String] = []
    /// The first problem found.
    var error: ThumbnailError? = nil

    init(_ arguments: [String], table: [OptionSpec] = optionTable) {
        var index = arguments.startIndex
        func note(_ problem: ThumbnailError) { error = error ?? problem }
        func take(_ spec: OptionSpec, _ value: String?) {
            if let value {
                options.append((spec, value))
            } else if index < arguments.endIndex {
                options.append((spec, arguments[index]))
                index += 1
            } else {
                note(ThumbnailError(.usage, "--\(spec.long)", "needs a value (\(spec.value ?? ""))"))
            }
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
                    note(unknownOption("--" + name, table: table))
                    continue
                }
                if spec.value == nil {
                    if inline != nil { note(ThumbnailError(.usage, "--\(name)", "takes no value")) }
                    options.append((spec, ""))
                } else {
                    take(spec, inline)
                }
            } else if argument.hasPrefix("-"), argument != "-" {
                var letters = argument.dropFirst()
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    guard let spec = table.first(where: { $0.short == letter }) else {
                        note(unknownOption("-" + String(letter), table: table))
                        continue
                    }
                    if spec.value == nil {
                        options.append((spec, ""))
                    } else {
                        take(spec, letters.isEmpty ? nil : String(letters))
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
    // The one candidate that all the others start with: --for is --format, not --formats.
    let shortest = candidates.min { $0.long.count < $1.long.count }
    let unique = shortest.flatMap { first in candidates.allSatisfy { $0.long.hasPrefix(first.long) } ? first : nil }
    let suggestion = unique ?? nearest.flatMap { editDistance(name, $0.long) <= 2 ? $0 : nil }
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
