#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one in VERSION, which `make deb` uses too; PackageTests checks they agree.
public let toolVersion = "0.1.0"

/// Every mode of `thumbnail`: `arguments` without the program name; returns
/// the exit status. Everything it touches of the process comes through `io`.
public func run(_ arguments: [String], io: ProcessIO) -> Int32 {
    let parsed = ParsedInvocation(arguments: arguments)
    // Under inetd stderr is the socket: that mode reports through its log only,
    // and answers even a configuration it cannot use.
    if parsed.mode == .inetd, !parsed.combinesModes, case .failure(let error) = parsed.result {
        io.silenceErrorStream()
        return serveMisconfigured(error, logFile: parsed.settings.logFile, io: io)
    }
    do throws(ThumbnailError) {
        switch try parsed.result.get() {
        case .help: try io.writeOutput(Array(helpText().utf8))
        case .version: try io.writeOutput(Array("thumbnail \(toolVersion)\n\(ImageMagick.version)\n".utf8))
        case .sign(let sign):
            try io.writeOutput(Array((try Access(sign.access).signedPath(sign.path) + "\n").utf8))
        case .render(let render): try runRender(render, explain: false, io: io)
        case .explain(let render): try runRender(render, explain: true, io: io)
        case .inetd(let server):
            io.silenceErrorStream()
            return serveInetd(server, io: io)
        case .batch(let batch): return try runBatch(batch, io: io)
        }
        return 0
    } catch {
        io.writeError("thumbnail: \(error)\n")
        if error.kind == .usage { io.writeError(usageLine + "\n") }
        return error.exitStatus
    }
}

/// What `thumbnail` changes about its whole process, made once per run:
/// SIGPIPE ignored (a closed socket or pipe is a write error, not death) and
/// ImageMagick's limits for this mode.
struct ProcessState {
    let magick: ImageMagick

    init(timeLimit: ImageMagick.TimeLimit, threads: Int) throws(ThumbnailError) {
        signal(SIGPIPE, SIG_IGN)
        magick = try ImageMagick(timeLimit: timeLimit, threads: threads)
    }

    /// One render at a time, each within 60 s.
    static func oneAtATime() throws(ThumbnailError) -> ProcessState {
        try ProcessState(timeLimit: .perRender(seconds: 60), threads: onlineCores)
    }
}

private func runRender(_ render: RenderInvocation, explain: Bool, io: ProcessIO) throws(ThumbnailError) {
    let access = try Access(render.access)
    let report: AccessReport
    let operand = render.operand
    if let flags = render.flags {
        let source = try SourcePath(filePath: operand == "-" ? "stdin" : operand)
        report = access.check(flags: flags.request(source: source))
    } else {
        report = access.check(path: operand)
    }
    if explain {
        // The checks print before the source is read, and a refusal stops there.
        try io.writeOutput(Array(try accessExplanation(report, access: access).utf8))
    }
    let request = try report.checkedRequest()
    let engine = Engine(
        storage: render.sources.storage(environment: io.environment), limits: render.sources.limits, magick: try ProcessState.oneAtATime().magick)
    let source =
        operand == "-"
        ? SourceFile(bytes: try readAll(io.input, limit: engine.limits.maxBytes, name: "stdin", sniff: .imageMagic))
        : try engine.load(request.source)
    if explain {
        let store = (source.location.map { ["storage: " + engine.storage.description, "object: " + $0] } ?? []) + source.facts
        let storeLines = store.map { $0 + "\n" }.joined()
        return try io.writeOutput(Array((storeLines + (try explanation(request, source: source.bytes, limits: engine.limits))).utf8))
    }
    if let output = render.output {
        try checkNotSource(output, sourceFile: source.localPath)
        try writeAtomically(try engine.render(request, from: source).bytes, to: output)
    } else {
        guard !io.outputIsTerminal else {
            throw ThumbnailError(.usage, "stdout", "is a terminal; use -o FILE or redirect the output")
        }
        try io.writeOutput(try engine.render(request, from: source).bytes)
    }
}

/// `-o` and `--output-dir` must never replace the source.
func checkNotSource(_ output: String, sourceFile: String?) throws(ThumbnailError) {
    guard let sourceFile, let real = realPath(output), real == sourceFile else { return }
    throw ThumbnailError(.cannotCreate, output, "is the source file; refusing to overwrite it")
}

/// What `--explain` prints first: the canonical path (signed when there are
/// keys) and each access check, one `name: value` a line.
private func accessExplanation(_ report: AccessReport, access: Access) throws(ThumbnailError) -> String {
    var lines = report.notes
    if let request = report.request { lines.insert("canonical: " + (try access.canonicalPath(request)), at: 0) }
    return lines.map { $0 + "\n" }.joined()
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
        output: \(plan.output.rawValue) \(layout.canvasWidth)x\(layout.canvasHeight) quality \(request.quality)

        """
}
