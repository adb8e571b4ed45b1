/// One run of `thumbnail`: the mode the options chose and that mode's
/// configuration, nothing more. Made once by `init(arguments:)`, after the
/// option loop, which is the only place option combinations are checked.
package enum Invocation: Sendable {
    case render(RenderInvocation)
    case explain(RenderInvocation)
    case sign(SignInvocation)
    case inetd(ServerInvocation)
    case listen(ServerInvocation)
    /// `--check-config`: the HTTP mode's configuration, and the problems the
    /// options themselves already had, to be reported with the others; and
    /// why the storage cannot be checked when no root is given.
    case checkConfig(ServerInvocation, problems: [ThumbnailError], noRoot: ThumbnailError?)
    case batch(BatchInvocation)
    case picture(PictureInvocation)
    case help
    case version

    /// How many renders the run does at once: the jobs of a batch or of an
    /// `-o` pattern (never more than its sources), else one.
    var rendersAtOnce: Int {
        switch self {
        case .render(let render) where render.operands.count > 1:
            min(render.jobs ?? usableCores, render.operands.count)
        case .batch(let batch): batch.jobs ?? usableCores
        default: 1
        }
    }
}

/// What the grammar, size list, signatures and origin token need; `Access` is made from it.
package struct AccessOptions: Sendable {
    package var grammar = PathGrammar()
    /// nil: every size is allowed.
    package var allowedSizes: [BoxSize]? = nil
    package var keyFile: String? = nil
    package var originTokenFile: String? = nil
    package var originTokenHeader = Access.defaultOriginTokenHeader
}

/// Where sources come from and what they may be.
package struct SourceOptions: Sendable {
    package var root = StorageRoot.directory(".")
    package var limits = Limits()
    package var remote = RemoteOptions()

    /// The storage `root` names; S3 finds its region and credentials in
    /// `environment`, and `now` tells when fetched credentials expire.
    package func storage(
        environment: [String: String], now: @escaping @Sendable () -> Int
    ) throws(ThumbnailError) -> any Storage {
        switch root {
        case .directory(let path): DirectoryStorage(root: path)
        case .s3(let bucket, let prefix):
            try S3Storage(bucket: bucket, prefix: prefix, options: remote, environment: environment, now: now)
        case .web(let origin, let prefix): WebStorage(origin: origin, prefix: prefix, options: remote)
        }
    }
}

/// Thumbnails on the command line (or the explanation of one).
package struct RenderInvocation: Sendable {
    /// One thumbnail path or URL; or sources: files, or `-` for standard input.
    package var operands: [String]
    /// The request the flags describe; nil when the operand is a thumbnail path.
    package var flags: RequestFlags?
    /// No storage root configured: the flags form's sources are the user's
    /// own file paths, read as any shell tool reads them.
    package var plainFiles: Bool
    /// `-o`: a file, or a pattern naming one per source; nil: standard output.
    package var output: OutputTarget?
    /// Sources rendered at once; nil: one a core.
    package var jobs: Int?
    package var access: AccessOptions
    package var sources: SourceOptions
}

/// Where `-o` writes.
package enum OutputTarget: Sendable, Equatable {
    case file(String)
    /// `%s`: a source's base name without its extension; `%d`: its directory as given.
    case pattern(String)

    init(_ text: String) { self = text.contains("%s") || text.contains("%d") ? .pattern(text) : .file(text) }

    /// The file that `source` goes to.
    func path(for source: String) -> String {
        switch self {
        case .file(let path): return path
        case .pattern(let pattern):
            let slash = source.lastIndex(of: "/")
            let directory = slash.map { String(source[..<$0]) } ?? "."
            let name = slash.map { String(source[source.index(after: $0)...]) } ?? source
            let base = name.lastIndex(of: ".").map { $0 == name.startIndex ? name : String(name[..<$0]) } ?? name
            return pattern.replacing("%d", with: directory.isEmpty ? "/" : directory).replacing("%s", with: base)
        }
    }

    /// The format its extension names: nil without one; a usage error for an unknown one.
    var format: OutputFormat? {
        get throws(ThumbnailError) {
            let text = switch self { case .file(let path), .pattern(let path): path }
            let name = text.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
            guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
            let suffix = name[name.index(after: dot)...].lowercased()
            guard let format = OutputFormat.named(Substring(suffix)) else {
                throw ThumbnailError(
                    .usage, text, "'.\(suffix)' names no output format: .jpg, .jpeg, .png, .webp, .gif or .avif (or give -f)")
            }
            return format
        }
    }
}

/// `--sign`: a thumbnail path to print canonical and signed.
package struct SignInvocation: Sendable {
    package var path: String
    package var access: AccessOptions
}

/// `--inetd` and `--listen`: the HTTP modes' configuration.
package struct ServerInvocation: Sendable {
    /// The same path always gives the same bytes: a CDN may keep them a year.
    package static let defaultCacheControl = "public, max-age=31536000, immutable"
    package static let defaultErrorMaxAge = 60

    package var access: AccessOptions
    package var sources: SourceOptions
    package var logFile: String?
    package var logFormat: LogFormat
    package var clientIPHeader: String?
    package var cacheControl: String
    package var errorMaxAge: Int
    package var idleTimeout: Int
    package var readTimeout: Int
    package var maxRequests: Int
    /// Whether a thumbnail's reply says what it cost (`Server-Timing`).
    package var serverTiming: Bool
    package var renders: RenderBound
    package var listening: ListeningOptions
}

/// How many renders run at once, across processes, and how long a request
/// waits for one.
package struct RenderBound: Sendable {
    package var maxRenders: Int
    package var queueTimeout: Int
    package static let defaultQueueTimeout = 5
    /// `--render-slots`; nil: the mode's own.
    package var slotFile: String?
}

/// The listening server's own: where it listens, whom it serves as, and
/// how many connection processes it keeps.
package struct ListeningOptions: Sendable {
    /// Empty under `--inetd`, which is handed its socket.
    package var addresses: [ListenAddress]
    /// `--listen systemd`: the sockets systemd passes, besides `addresses`.
    package var fromSystemd: Bool
    /// `--metrics-listen`: where `/metrics` is served, apart from the thumbnails.
    package var metricsAddress: ListenAddress?
    package var user: String?
    package var maxConnections: Int
    package var shutdownTimeout: Int

    package static let defaultMaxConnections = 512
    /// Under Kubernetes' default grace period of 30 s.
    package static let defaultShutdownTimeout = 20
}

/// `--batch`: the list and what to do with each path.
package struct BatchInvocation: Sendable {
    package var list: String
    package var action: BatchAction
    /// nil: one a core.
    package var jobs: Int?
    package var access: AccessOptions
    package var sources: SourceOptions
}

/// What the flags form's flags say, checked.
package struct RequestFlags: Sendable, Equatable {
    package var size: BoxSize
    package var mode: FitMode = .fit
    package var placement: Placement = .gravity(.centre)
    package var format: OutputFormat? = nil
    package var quality: Int? = nil
    package var background: RGB? = nil

    /// The request for `source`.
    package func request(source: SourcePath) -> ThumbnailRequest {
        var request = ThumbnailRequest(size: size, source: source)
        request.mode = mode
        request.placement = placement
        request.format = format
        request.quality = quality
        request.background = background ?? .white
        return request
    }
}

extension Mode {
    /// How an error message names it.
    var spelled: String {
        switch self {
        case .render: "rendering (flags or a thumbnail path)"
        default: "--" + rawValue
        }
    }
}

/// Where parsing got: the mode the arguments ask for (the HTTP mode must
/// know it is one before it reports anything), the settings as far as they
/// applied, and the invocation or the first error.
struct ParsedInvocation {
    /// The one mode the options name (`Settings.modes`, their only record),
    /// known even when something else is wrong; nil when they name several:
    /// two modes are no mode, and that error goes to stderr, even with --inetd among them.
    let mode: Mode?
    let settings: Settings
    /// What a config file or a `THUMBNAIL_*` variable got wrong: the command
    /// line's usage says nothing about those.
    let configurationFailures: [ThumbnailError]
    let result: Result<Invocation, ThumbnailError>

    /// `environment`: the process's, whose `THUMBNAIL_*` variables set options too.
    init(arguments: [String], environment: [String: String]) {
        let parsed = ParsedArguments(arguments)
        var settings = Settings()
        // Every option is applied, so a broken HTTP mode still finds its --log.
        let applied = settings.apply(parsed.options, environment: environment)
        // With --batch, --picture is what the batch does, not a mode of its own.
        let named = settings.modes.contains(.batch) ? settings.modes.filter { $0 != .picture } : settings.modes
        let given = named.reduce(into: [Mode]()) { given, mode in if !given.contains(mode) { given.append(mode) } }
        let mode: Mode? =
            given.contains(.help) ? .help : given.contains(.version) ? .version : given.count > 1 ? nil : given.first ?? .render
        self.mode = mode
        self.settings = settings
        configurationFailures = applied.configuration
        let failures = applied.configuration + applied.commandLine
        result = Result { () throws(ThumbnailError) in
            if let error = parsed.error { throw error }
            // --check-config names every problem: the options' own go on with it.
            if mode != .checkConfig, let error = failures.first { throw error }
            guard let mode else { throw ThumbnailError(.usage, "--\(given[0])", "cannot be combined with --\(given[1])") }
            return try Self.invocation(mode, parsed: parsed, settings: settings, problems: failures)
        }
    }

    private static func invocation(
        _ mode: Mode, parsed: ParsedArguments, settings: Settings, problems: [ThumbnailError]
    ) throws(ThumbnailError) -> Invocation {
        // Only the command line is checked: a config file is shared by the modes.
        // --help and --version answer whatever else it holds.
        if mode != .help, mode != .version, let misplaced = parsed.options.first(where: { !$0.spec.modes.contains(mode) }) {
            let option = "--" + misplaced.spec.long
            let homes = Mode.allCases.filter(misplaced.spec.modes.contains).map(\.spelled)
            throw ThumbnailError(
                .usage, option, "does not apply to \(mode.spelled); it goes with \(homes.joined(separator: " or "))")
        }
        let access = settings.accessOptions()
        // --check-config reports it among the other problems.
        if mode != .checkConfig { try access.checkSizes() }
        let sources = SourceOptions(root: settings.root, limits: settings.limits, remote: settings.remote)
        let operands = parsed.operands
        switch mode {
        case .help: return .help
        case .version: return .version
        case .render, .explain:
            guard let operand = operands.first else { throw ThumbnailError(.usage, "arguments", "no source given") }
            // `-o -` is standard output, as curl and convert read it.
            let output = settings.output.flatMap { $0 == "-" ? nil : OutputTarget($0) }
            if let path = operands.first(where: { $0 != "-" && access.grammar.isThumbnailPath($0) }) {
                guard operands.count == 1 else {
                    throw ThumbnailError(.usage, path, "one thumbnail path at a time; --batch renders a list of them")
                }
                if parsed.hasRequestFlags {
                    throw ThumbnailError(.usage, operand, "a thumbnail path already says size, format and options")
                }
            }
            let isPath = operand != "-" && access.grammar.isThumbnailPath(operand)
            if operands.count > 1 {
                if mode == .explain { throw ThumbnailError(.usage, "--explain", "explains one source at a time") }
                guard case .pattern = output else {
                    throw ThumbnailError(.usage, "arguments", "several sources need -o PATTERN, with %s for each base name")
                }
                if operands.contains("-") { throw ThumbnailError(.usage, "-", "standard input is a source of its own") }
            }
            var flags = isPath ? nil : try settings.requestFlags()
            // `-o cat.webp` asks for WebP, as convert and vipsthumbnail read it.
            if flags != nil, let named = try output?.format {
                if let format = flags?.format, format != named {
                    throw ThumbnailError(.usage, "--format", "\(format) disagrees with the -o file's extension")
                }
                flags?.format = named
            }
            let render = RenderInvocation(
                operands: operands, flags: flags, plainFiles: !settings.rootGiven, output: output, jobs: settings.jobs,
                access: access, sources: sources)
            return mode == .render ? .render(render) : .explain(render)
        case .sign:
            guard operands.count == 1, let operand = operands.first, access.grammar.isThumbnailPath(operand) else {
                throw ThumbnailError(.usage, operands.first ?? "--sign", "--sign takes one thumbnail path or URL")
            }
            guard access.keyFile != nil else { throw ThumbnailError(.usage, "--sign", "needs --key-file") }
            return .sign(SignInvocation(path: operand, access: access))
        case .inetd, .listen, .checkConfig:
            if let operand = operands.first {
                throw ThumbnailError(.usage, operand, "\(mode.spelled) reads its options only; no operand")
            }
            if mode == .inetd && settings.logFile == LogSink.standardOutput {
                throw ThumbnailError(.usage, "--log", "- is standard output, the connection under --inetd; name a file")
            }
            // No default: a super-server's or a container's working directory (often /) is no store to serve.
            let noRoot =
                settings.rootGiven
                ? nil
                : ThumbnailError(
                    .misconfigured, "--root", "a server needs a storage root: a directory, s3://BUCKET or https://HOST")
            if let noRoot, mode != .checkConfig { throw noRoot }
            let server = ServerInvocation(
                access: access, sources: sources, logFile: settings.logFile, logFormat: settings.logFormat,
                clientIPHeader: settings.clientIPHeader, cacheControl: settings.cacheControl,
                errorMaxAge: settings.errorMaxAge, idleTimeout: settings.idleTimeout,
                readTimeout: settings.readTimeout, maxRequests: settings.maxRequests, serverTiming: settings.serverTiming,
                renders: RenderBound(
                    maxRenders: settings.maxRenders ?? usableCores, queueTimeout: settings.queueTimeout,
                    slotFile: settings.renderSlots),
                listening: ListeningOptions(
                    addresses: settings.listenAddresses, fromSystemd: settings.listenFromSystemd,
                    metricsAddress: settings.metricsAddress, user: settings.user,
                    maxConnections: settings.maxConnections, shutdownTimeout: settings.shutdownTimeout))
            switch mode {
            case .inetd: return .inetd(server)
            case .listen: return .listen(server)
            default: return .checkConfig(server, problems: problems, noRoot: noRoot)
            }
        case .batch:
            if let operand = operands.first {
                throw ThumbnailError(.usage, operand, "--batch reads its paths from the list; no other operand")
            }
            return .batch(
                BatchInvocation(
                    list: settings.batchList!, action: try settings.batchAction(markup: settings.modes.contains(.picture)),
                    jobs: settings.jobs,
                    access: access, sources: sources))
        case .picture:
            guard operands.count == 1, let operand = operands.first, operand != "-" else {
                throw ThumbnailError(.usage, operands.first ?? "--picture", "--picture takes one source under the root or one thumbnail path")
            }
            let isPath = access.grammar.isThumbnailPath(operand)
            if isPath, parsed.hasRequestFlags {
                throw ThumbnailError(.usage, operand, "a thumbnail path already says size and options")
            }
            return .picture(
                PictureInvocation(
                    operand: operand, flags: isPath ? nil : try settings.requestFlags(), picture: settings.pictureOptions,
                    access: access, sources: sources))
        }
    }
}

extension ParsedArguments {
    /// True when the command line itself shapes the thumbnail: the same
    /// options from a config file or the environment are defaults of the
    /// flags form, which a thumbnail path, saying its own, never takes.
    var hasRequestFlags: Bool {
        var given = Settings()
        for (spec, value) in options { try? spec.apply(&given, value) }
        return given.hasRequestFlags
    }
}

extension Settings {
    /// True when a flag that shapes the thumbnail was given.
    var hasRequestFlags: Bool {
        size != nil || format != nil || quality != nil || crop || pad || background != nil || gravity != nil
            || focalPoint != nil || smart
    }

    func accessOptions() -> AccessOptions {
        AccessOptions(
            grammar: PathGrammar(prefix: prefix, maxSide: maxSide), allowedSizes: allowedSizes, keyFile: keyFile,
            originTokenFile: originTokenFile, originTokenHeader: originTokenHeader)
    }

    /// The flags form's request flags, checked as the path grammar checks
    /// the same things, but reported against the flags.
    func requestFlags() throws(ThumbnailError) -> RequestFlags {
        guard var size else { throw ThumbnailError(.usage, "-s", "a size is required: -s WxH, Wx or xH, or -s N for NxN") }
        // `-s 128` is a square box, as vipsthumbnail reads it.
        if decimal(Substring(size)) != nil { size = "\(size)x\(size)" }
        guard !(crop && pad) else { throw ThumbnailError(.usage, "--crop", "cannot be combined with --pad") }
        let box: BoxSize
        do throws(ThumbnailError) {
            box = try BoxSize.parse(Substring(size), maxSide: maxSide)
        } catch {
            // The same status as the path form gives the same size.
            throw ThumbnailError(error.kind, "--size", error.reason)
        }
        var flags = RequestFlags(
            size: box, mode: crop ? .crop : pad ? .pad : .fit, format: format, quality: quality,
            background: background)
        do throws(ThumbnailError) {
            try PathGrammar.checkMode(flags.mode, size: box)
        } catch {
            throw ThumbnailError(error.kind, "--\(flags.mode)", error.reason)
        }
        let placements: [(flag: String, placement: Placement)] = [
            gravity.map { ("--gravity", .gravity($0)) }, focalPoint.map { ("--focal", .focalPoint($0)) },
            smart ? ("--smart", .smart) : nil,
        ].compactMap { $0 }
        guard placements.count <= 1 else {
            throw ThumbnailError(.usage, placements[1].flag, "cannot be combined with \(placements[0].flag)")
        }
        if let (flag, placement) = placements.first {
            do throws(ThumbnailError) {
                try PathGrammar.checkPlacement(placement, mode: flags.mode, placed: true)
            } catch {
                throw ThumbnailError(.usage, flag, error.reason)
            }
            flags.placement = placement.canonical
        }
        return flags
    }

    /// What `--batch` does, once its options are known to go together.
    /// `markup`: --picture was given, for each path.
    func batchAction(markup: Bool) throws(ThumbnailError) -> BatchAction {
        if markup {
            if outputDirectory != nil { throw ThumbnailError(.usage, "--output-dir", "cannot be combined with --picture") }
            if maxTime != nil { throw ThumbnailError(.usage, "--max-time", "only applies with --base, without --picture") }
            return .picture(pictureOptions)
        }
        if let option = picture.optionGiven {
            throw ThumbnailError(.usage, option, "only applies with --picture")
        }
        if maxTime != nil && base == nil { throw ThumbnailError(.usage, "--max-time", "only applies with --base") }
        switch (base, outputDirectory) {
        case (_?, _?): throw ThumbnailError(.usage, "--base", "cannot be combined with --output-dir")
        case (let base?, nil):
            return .fetch(base: String(base.reversed().drop { $0 == "/" }.reversed()), maxTime: maxTime ?? Settings.defaultMaxTime)
        case (nil, let directory?): return .write(directory: directory == "/" ? "" : directory)
        case (nil, nil): return .check
        }
    }
}
