/// What the options said, from the config file, the environment, then the
/// command line: the parser's working state. `Invocation` takes from it what the chosen
/// mode needs, and nothing else sees it.
struct Settings: Sendable {
    static let defaultMaxTime = 30
    static let longestMaxTime = 3600
    static let maxJobs = 1024

    var root = StorageRoot.directory(".")
    var remote = RemoteOptions()
    /// Whether `-r` or a config file named the root: without one, the flags
    /// form's operands are the user's own file paths.
    var rootGiven = false
    var prefix = PathGrammar.defaultPrefix
    var maxSide = PathGrammar.defaultMaxSide
    var limits = Limits()
    /// `-s` as given; parsed after every option is read, against the final `maxSide`.
    var size: String? = nil
    var format: OutputFormat? = nil
    var quality: Int? = nil
    var crop = false
    var pad = false
    /// `--gravity`, `--focal` and `--smart`: at most one of them.
    var gravity: Gravity? = nil
    var focalPoint: FocalPoint? = nil
    var smart = false
    var background: RGB? = nil
    var output: String? = nil
    /// nil: every size is allowed.
    var allowedSizes: [BoxSize]? = nil
    var keyFile: String? = nil
    var originTokenFile: String? = nil
    var originTokenHeader = Access.defaultOriginTokenHeader
    /// The mode options given, in order.
    var modes: [Mode] = []
    var batchList: String? = nil
    var base: String? = nil
    var outputDirectory: String? = nil
    /// `--densities`, `--formats` and `--alt`; `--base` joins them for `--picture`.
    var picture = PictureOptions()
    var jobs: Int? = nil
    var maxTime: Int? = nil
    var logFile: String? = nil
    var logFormat = LogFormat.combined
    var clientIPHeader: String? = nil
    var cacheControl = ServerInvocation.defaultCacheControl
    var errorMaxAge = ServerInvocation.defaultErrorMaxAge
    var idleTimeout = HTTPLimits.defaultIdleTimeout
    var readTimeout = HTTPLimits.defaultReadTimeout
    var maxRequests = HTTPLimits.defaultMaxRequests
    var serverTiming = true
    /// `--listen`, in order.
    var listenAddresses: [ListenAddress] = []
    /// `--listen systemd`: the sockets systemd passes (`LISTEN_FDS`).
    var listenFromSystemd = false
    var metricsAddress: ListenAddress? = nil
    var user: String? = nil
    /// nil: one a core.
    var maxRenders: Int? = nil
    var queueTimeout = RenderBound.defaultQueueTimeout
    var maxConnections = ListeningOptions.defaultMaxConnections
    var shutdownTimeout = ListeningOptions.defaultShutdownTimeout
    /// nil: `--listen`'s own, or a file per user in the temporary directory for `--inetd`.
    var renderSlots: String? = nil

    /// Applies `options` on top of these settings: first a `--config` file
    /// among them, then the `THUMBNAIL_*` variables of `environment`, which
    /// replace what the file says of the same options, then the command line,
    /// which wins over both. Every option that can be applied is; the
    /// failures are returned, in order: the file's and the variables', then
    /// the command line's.
    mutating func apply(
        _ options: [(spec: OptionSpec, value: String)], environment: [String: String]
    ) -> (configuration: [ThumbnailError], commandLine: [ThumbnailError]) {
        var failures: [ThumbnailError] = []
        let variables = EnvironmentSettings(environment)
        if let config = options.last(where: { $0.spec.long == "config" }) {
            do throws(ThumbnailError) {
                try applyConfigFile(config.value, except: Set(variables.values.map(\.spec.long)))
            } catch {
                failures.append(error)
            }
        }
        failures += variables.failures
        for (spec, variable, value) in variables.values {
            // A flag turned off only keeps the file's line from applying.
            guard let value else { continue }
            do throws(ThumbnailError) {
                try spec.apply(&self, value)
            } catch {
                failures.append(ThumbnailError(.usage, variable, error.reason))
            }
        }
        var commandLine: [ThumbnailError] = []
        for (spec, value) in options {
            do throws(ThumbnailError) {
                try spec.apply(&self, value)
            } catch {
                commandLine.append(error)
            }
        }
        return (failures, commandLine)
    }

    /// `name = value` or `name` lines of long options, each at most once;
    /// `#` starts a comment. The lines of the options in `overridden` are
    /// checked but not applied: the environment sets those.
    mutating func applyConfigFile(_ path: String, except overridden: Set<String>) throws(ThumbnailError) {
        let bytes = try readConfigFile(path)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var seen: [Substring: Int] = [:]
        for (index, line) in lines.enumerated() {
            let text = line.prefix { $0 != "#" }.trimmingSpaces
            if text.isEmpty { continue }
            let name = text.prefix { $0 != "=" }.trimmingSpaces
            let value = text.contains("=") ? text.drop { $0 != "=" }.dropFirst().trimmingSpaces : nil
            let place = "\(path):\(index + 1)"
            guard !name.isEmpty, name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else {
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
            case _ where overridden.contains(spec.long): continue
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
