/// One run of `thumbnail`: the mode the options chose and that mode's
/// configuration, nothing more. Made once by `init(arguments:)`, after the
/// option loop, which is the only place option combinations are checked.
public enum Invocation: Sendable {
    case render(RenderInvocation)
    case explain(RenderInvocation)
    case sign(SignInvocation)
    case inetd(ServerInvocation)
    case batch(BatchInvocation)
    case help
    case version
}

/// What the grammar, size list, signatures and origin token need; `Access` is made from it.
public struct AccessOptions: Sendable {
    public var grammar = PathGrammar()
    /// nil: every size is allowed.
    public var allowedSizes: [BoxSize]? = nil
    public var keyFile: String? = nil
    public var originTokenFile: String? = nil
    public var originTokenHeader = Access.defaultOriginTokenHeader
}

/// Where sources come from and what they may be.
public struct SourceOptions: Sendable {
    public var root = StorageRoot.directory(".")
    public var limits = Limits()
    public var remote = RemoteOptions()

    /// The storage `root` names; S3 finds its region and credentials in `environment`.
    public func storage(environment: [String: String]) -> any Storage {
        switch root {
        case .directory(let path): DirectoryStorage(root: path)
        case .s3(let bucket, let prefix):
            S3Storage(bucket: bucket, prefix: prefix, options: remote, environment: environment)
        case .web(let origin, let prefix): WebStorage(origin: origin, prefix: prefix, options: remote)
        }
    }
}

/// One thumbnail on the command line (or its explanation).
public struct RenderInvocation: Sendable {
    /// A thumbnail path or URL, a file under the root, or `-` for standard input.
    public var operand: String
    /// The request the flags describe; nil when the operand is a thumbnail path.
    public var flags: RequestFlags?
    /// `-o`; nil: standard output.
    public var output: String?
    public var access: AccessOptions
    public var sources: SourceOptions
}

/// `--sign`: a thumbnail path to print canonical and signed.
public struct SignInvocation: Sendable {
    public var path: String
    public var access: AccessOptions
}

/// `--inetd`: the HTTP mode's configuration.
public struct ServerInvocation: Sendable {
    public var access: AccessOptions
    public var sources: SourceOptions
    public var logFile: String?
    public var cacheControl: String
    public var errorMaxAge: Int
    public var idleTimeout: Int
    public var readTimeout: Int
    public var maxRequests: Int
}

/// `--batch`: the list and what to do with each path.
public struct BatchInvocation: Sendable {
    public var list: String
    public var action: BatchAction
    /// nil: one a core.
    public var jobs: Int?
    public var access: AccessOptions
    public var sources: SourceOptions
}

/// What the flags form's flags say, checked.
public struct RequestFlags: Sendable, Equatable {
    public var size: BoxSize
    public var mode: FitMode = .fit
    public var format: OutputFormat? = nil
    public var quality: Int? = nil
    public var background: RGB? = nil

    /// The request for `source`.
    public func request(source: SourcePath) -> ThumbnailRequest {
        var request = ThumbnailRequest(size: size, source: source)
        request.mode = mode
        request.format = format
        request.quality = quality ?? ThumbnailRequest.defaultQuality
        request.background = background ?? .white
        return request
    }
}

extension Mode {
    /// How an error message names it.
    var spelled: String {
        switch self {
        case .render: "rendering one source (flags or a thumbnail path)"
        default: "--" + rawValue
        }
    }
}

/// Where parsing got: the mode as far as the arguments tell it (the HTTP mode
/// must know it is one before it reports anything), the settings as far as
/// they applied, and the invocation or the first error.
struct ParsedInvocation {
    var mode: Mode
    /// More than one mode option was given: a usage error whatever they are.
    var combinesModes: Bool
    var settings = Settings()
    var result: Result<Invocation, ThumbnailError>

    init(arguments: [String]) {
        let parsed = ParsedArguments(arguments)
        let given = parsed.options.compactMap(\.spec.selectedMode)
        mode = given.contains(.help) ? .help : given.contains(.version) ? .version : given.first ?? .render
        // Two modes are no mode: that error goes to stderr, even with --inetd among them.
        combinesModes = Set(given).count > 1
        var settings = Settings()
        // Every option is applied, so a broken HTTP mode still finds its --log.
        let failure = settings.apply(parsed.options)
        do throws(ThumbnailError) {
            if let error = parsed.error ?? failure { throw error }
            result = .success(try Self.invocation(mode, given: given, parsed: parsed, settings: settings))
        } catch {
            result = .failure(error)
        }
        self.settings = settings
    }

    private static func invocation(
        _ mode: Mode, given: [Mode], parsed: ParsedArguments, settings: Settings
    ) throws(ThumbnailError) -> Invocation {
        if mode == .help { return .help }
        if mode == .version { return .version }
        if let second = given.first(where: { $0 != given[0] }) {
            throw ThumbnailError(.usage, "--\(given[0])", "cannot be combined with --\(second)")
        }
        // Only the command line is checked: a config file is shared by the modes.
        if let misplaced = parsed.options.first(where: { !$0.spec.modes.contains(mode) }) {
            let option = "--" + misplaced.spec.long
            let home = misplaced.spec.modes.count == 1 ? "; it goes with " + misplaced.spec.modes.first!.spelled : ""
            throw ThumbnailError(.usage, option, "does not apply to \(mode.spelled)\(home)")
        }
        let access = try settings.accessOptions()
        let sources = SourceOptions(root: settings.root, limits: settings.limits, remote: settings.remote)
        let operands = parsed.operands
        switch mode {
        case .render, .explain:
            guard operands.count == 1, let operand = operands.first else {
                throw ThumbnailError(.usage, "arguments", operands.isEmpty ? "no source given" : "one source at a time")
            }
            let isPath = operand != "-" && access.grammar.isThumbnailPath(operand)
            if isPath, settings.hasRequestFlags {
                throw ThumbnailError(.usage, operand, "a thumbnail path already says size, format and options")
            }
            let render = RenderInvocation(
                operand: operand, flags: isPath ? nil : try settings.requestFlags(), output: settings.output,
                access: access, sources: sources)
            return mode == .render ? .render(render) : .explain(render)
        case .sign:
            guard operands.count == 1, let operand = operands.first, access.grammar.isThumbnailPath(operand) else {
                throw ThumbnailError(.usage, operands.first ?? "--sign", "--sign takes one thumbnail path or URL")
            }
            guard access.keyFile != nil else { throw ThumbnailError(.usage, "--sign", "needs --key-file") }
            return .sign(SignInvocation(path: operand, access: access))
        case .inetd:
            if let operand = operands.first {
                throw ThumbnailError(.usage, operand, "--inetd reads its requests from standard input; no operand")
            }
            return .inetd(
                ServerInvocation(
                    access: access, sources: sources, logFile: settings.logFile, cacheControl: settings.cacheControl,
                    errorMaxAge: settings.errorMaxAge, idleTimeout: settings.idleTimeout,
                    readTimeout: settings.readTimeout, maxRequests: settings.maxRequests))
        case .batch:
            if let operand = operands.first {
                throw ThumbnailError(.usage, operand, "--batch reads its paths from the list; no other operand")
            }
            return .batch(
                BatchInvocation(
                    list: settings.batchList!, action: try settings.batchAction(), jobs: settings.jobs,
                    access: access, sources: sources))
        case .help, .version:
            fatalError("answered above")
        }
    }
}

extension Settings {
    /// True when a flag that shapes the thumbnail was given.
    var hasRequestFlags: Bool {
        size != nil || format != nil || quality != nil || crop || pad || background != nil
    }

    func accessOptions() throws(ThumbnailError) -> AccessOptions {
        for size in allowedSizes ?? [] where max(size.width ?? 0, size.height ?? 0) > maxSide {
            throw ThumbnailError(.usage, "--sizes", "'\(size)': a side exceeds --max-side \(maxSide)")
        }
        return AccessOptions(
            grammar: PathGrammar(prefix: prefix, maxSide: maxSide), allowedSizes: allowedSizes, keyFile: keyFile,
            originTokenFile: originTokenFile, originTokenHeader: originTokenHeader)
    }

    /// The flags form's request flags, checked as the path grammar checks
    /// the same things, but reported against the flags.
    func requestFlags() throws(ThumbnailError) -> RequestFlags {
        guard let size else { throw ThumbnailError(.usage, "-s", "a size is required: -s WxH, Wx or xH") }
        guard !(crop && pad) else { throw ThumbnailError(.usage, "--crop", "cannot be combined with --pad") }
        let box: BoxSize
        do throws(ThumbnailError) {
            box = try BoxSize.parse(Substring(size), maxSide: maxSide)
        } catch {
            // The same status as the path form gives the same size.
            throw ThumbnailError(error.kind, "--size", error.reason)
        }
        let flags = RequestFlags(
            size: box, mode: crop ? .crop : pad ? .pad : .fit, format: format, quality: quality,
            background: background)
        do throws(ThumbnailError) {
            try PathGrammar.checkMode(flags.mode, size: box)
        } catch {
            throw ThumbnailError(error.kind, "--\(flags.mode)", error.reason)
        }
        return flags
    }

    /// What `--batch` does, once its options are known to go together.
    func batchAction() throws(ThumbnailError) -> BatchAction {
        if maxTime != nil && base == nil { throw ThumbnailError(.usage, "--max-time", "only applies with --base") }
        switch (base, outputDirectory) {
        case (_?, _?): throw ThumbnailError(.usage, "--base", "cannot be combined with --output-dir")
        case (let base?, nil):
            return .fetch(base: String(base.reversed().drop { $0 == "/" }.reversed()), maxTime: maxTime ?? 30)
        case (nil, let directory?): return .write(directory: directory == "/" ? "" : directory)
        case (nil, nil): return .check
        }
    }
}
