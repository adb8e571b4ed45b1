#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public let toolVersion = "0.1.0"

/// The process's standard streams, swappable so `run` can be tested in-process.
public struct ProcessIO {
    public var readInput: () throws(ThumbnailError) -> [UInt8]
    public var writeOutput: ([UInt8]) throws(ThumbnailError) -> Void
    public var writeError: (String) -> Void
    public var outputIsTerminal: Bool
    /// Whether stderr is a terminal: `--batch` draws its progress bar there.
    public var errorIsTerminal: Bool

    public init(
        readInput: @escaping () throws(ThumbnailError) -> [UInt8],
        writeOutput: @escaping ([UInt8]) throws(ThumbnailError) -> Void,
        writeError: @escaping (String) -> Void,
        outputIsTerminal: Bool,
        errorIsTerminal: Bool = false
    ) {
        self.readInput = readInput
        self.writeOutput = writeOutput
        self.writeError = writeError
        self.outputIsTerminal = outputIsTerminal
        self.errorIsTerminal = errorIsTerminal
    }

    public static var standard: ProcessIO {
        ProcessIO(
            readInput: { () throws(ThumbnailError) in try readAll(0, limit: Int.max, name: "stdin") },
            writeOutput: { bytes throws(ThumbnailError) in try writeAll(1, bytes, name: "stdout") },
            writeError: { text in _ = try? writeAll(2, Array(text.utf8), name: "stderr") },
            outputIsTerminal: isatty(1) == 1, errorIsTerminal: isatty(2) == 1)
    }
}

/// The whole command line: `arguments` without the program name; returns the exit status.
public func run(_ arguments: [String], io: ProcessIO) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    // Under inetd stderr is the socket: that mode reports through its log only.
    if arguments.contains("--inetd") { return runInetd(arguments) }
    do {
        try runCommand(arguments, io: io)
        return 0
    } catch {
        io.writeError("thumbnail: \(error)\n")
        if error.kind == .usage { io.writeError(usageLine + "\n") }
        return error.exitStatus
    }
}

private func runCommand(_ arguments: [String], io: ProcessIO) throws(ThumbnailError) {
    var settings = Settings()
    let operands = try settings.apply(arguments: arguments)
    if settings.help { return try io.writeOutput(Array(helpText().utf8)) }
    if settings.version {
        return try io.writeOutput(Array("thumbnail \(toolVersion)\n\(Wand.version)\n".utf8))
    }
    if let list = settings.batch { return try runBatch(list, operands: operands, settings: settings, io: io) }
    if let option = settings.batchOnlyOption { throw ThumbnailError(.usage, option, "only applies with --batch") }
    guard operands.count == 1, let operand = operands.first else {
        throw ThumbnailError(.usage, "arguments", operands.isEmpty ? "no source given" : "one source at a time")
    }
    let access = try Access(settings: settings)
    let isPath = operand != "-" && access.grammar.isThumbnailPath(operand)
    if settings.sign {
        guard isPath else { throw ThumbnailError(.usage, operand, "--sign takes a thumbnail path or URL") }
        return try io.writeOutput(Array((try access.signedPath(operand) + "\n").utf8))
    }
    let report: AccessReport
    if isPath {
        guard !settings.hasRequestFlags else {
            throw ThumbnailError(.usage, operand, "a thumbnail path already says size, format and options")
        }
        report = access.check(path: operand)
    } else {
        let source = try SourcePath(filePath: operand == "-" ? "stdin" : operand)
        report = access.check(flags: try settings.flagsRequest(source: source))
    }
    if settings.explain {
        // The checks print before the source is read, and a refusal stops there.
        try io.writeOutput(Array(try accessExplanation(report, access: access).utf8))
    }
    let request = try report.checkedRequest()
    let engine = Engine(settings: settings)
    let source = operand == "-" ? try readStandardInput(io, limit: settings.limits.maxBytes) : try engine.load(request.source)
    if settings.explain {
        return try io.writeOutput(Array(try explanation(request, source: source.bytes, limits: settings.limits).utf8))
    }
    if let output = settings.output {
        try checkNotSource(output, sourceFile: source.path)
        try writeAtomically(try engine.render(request, from: source).bytes, to: output)
    } else {
        guard !io.outputIsTerminal else {
            throw ThumbnailError(.usage, "stdout", "is a terminal; use -o FILE or redirect the output")
        }
        try io.writeOutput(try engine.render(request, from: source).bytes)
    }
}

/// The image on standard input, within the size limit.
private func readStandardInput(_ io: ProcessIO, limit: Int) throws(ThumbnailError) -> SourceFile {
    let bytes = try io.readInput()
    guard bytes.count <= limit else {
        throw ThumbnailError(.tooLarge, "stdin", "more than \(limit) bytes")
    }
    return SourceFile(bytes: bytes)
}

/// `-o` and `--output-dir` must never replace the source.
func checkNotSource(_ output: String, sourceFile: String?) throws(ThumbnailError) {
    guard let sourceFile, let real = realPath(output), real == sourceFile else { return }
    throw ThumbnailError(.cannotCreate, output, "is the source file; refusing to overwrite it")
}

/// What `--explain` prints first: the canonical path (signed when there are
/// keys) and each access check, one `name: value` a line.
private func accessExplanation(_ report: AccessReport, access: Access) throws(ThumbnailError) -> String {
    let canonical = try report.request.map { request throws(ThumbnailError) in ["canonical: " + (try access.canonicalPath(request))] } ?? []
    return (canonical + report.notes).map { $0 + "\n" }.joined()
}

/// What `--explain` prints once the source is read: the plan.
private func explanation(_ request: ThumbnailRequest, source: [UInt8], limits: Limits) throws(ThumbnailError)
    -> String
{
    let plan = try Renderer.plan(request, source: source, limits: limits)
    let layout = plan.layout
    return """
        source: \(request.source) (\(plan.sourceFormat.rawValue) \(plan.sourceWidth)x\(plan.sourceHeight), orientation \(plan.orientation))
        mode: \(request.mode.rawValue)
        resize: \(layout.resizeWidth)x\(layout.resizeHeight)
        output: \(plan.output.rawValue) \(layout.canvasWidth)x\(layout.canvasHeight)\(plan.quality.map { " quality \($0)" } ?? "")

        """
}
