#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one in VERSION, which `make deb` uses too; PackageTests checks they agree.
package let toolVersion = "0.1.0"

/// Every mode of `thumbnail`: `arguments` without the program name; returns
/// the exit status. Everything it touches of the process comes through `io`;
/// what it changes of the process is made once here (`ProcessState`) and
/// passed down.
public func run(_ arguments: [String], io: ProcessIO) -> Int32 {
    let parsed = ParsedInvocation(arguments: arguments, environment: io.environment)
    // Under inetd stderr is the socket: that mode reports through its log only,
    // and answers even a configuration it cannot use.
    if parsed.mode == .inetd { io.silenceErrorStream() }
    do throws(ThumbnailError) {
        let invocation = try parsed.result.get()
        let state = try ProcessState(renders: invocation.rendersAtOnce)
        switch invocation {
        case .help: try io.writeOutput(Array(helpText().utf8))
        case .version: try io.writeOutput(Array("thumbnail \(toolVersion)\n\(ImageMagick.version)\n".utf8))
        case .sign(let sign):
            try io.writeOutput(Array((try Access(sign.access).signedPath(sign.path) + "\n").utf8))
        case .render(let render): return try runRender(render, explain: false, state: state, io: io)
        case .explain(let render): return try runRender(render, explain: true, state: state, io: io)
        case .inetd(let server): return serveInetd(server, arguments: arguments, state: state, io: io)
        case .listen(let server):
            return try serveListening(
                server, sockets: nil, arguments: arguments, state: state, io: io,
                events: LogSink { io.writeError($0 + "\n") })
        case .batch(let batch): return try runBatch(batch, state: state, io: io)
        case .picture(let picture): return try runPicture(picture, state: state, io: io)
        case .checkConfig(let server, let problems, let noRoot):
            return runCheckConfig(server, problems: problems, noRoot: noRoot, state: state, io: io)
        }
        return 0
    } catch {
        if parsed.mode == .inetd { return serveMisconfigured(error, settings: parsed.settings, io: io) }
        io.writeError("thumbnail: \(error)\n")
        if error.kind == .usage, !parsed.configurationFailures.contains(error) { io.writeError(usageLine + "\n") }
        return error.exitStatus
    }
}

/// What `thumbnail` sets up of its whole process, once per run, before any
/// work: SIGPIPE ignored (a closed socket or pipe is a write error, not
/// death), and ImageMagick's limits and threads for the renders the run does
/// at once. Nothing reads this state back from a library's globals.
struct ProcessState: Sendable {
    /// Renders at once: the jobs of a batch or an `-o` pattern, else 1.
    let renders: Int
    let magick: ImageMagick

    /// Renders at once share the cores: each image may use its share of them.
    /// Only a lone render can have ImageMagick's time limit, which is the
    /// process's: a restart in one thread, read halfway by another, ends it.
    init(renders: Int, cores: Int = usableCores) throws(ThumbnailError) {
        signal(SIGPIPE, SIG_IGN)
        self.renders = max(1, renders)
        magick = try ImageMagick(
            timeLimit: self.renders > 1 ? .lifted : .perRender, threads: max(1, cores / self.renders))
    }

    /// The one way an engine is made: one for the whole run, so that a
    /// storage keeps its credentials and connections.
    func engine(_ sources: SourceOptions, io: ProcessIO) throws(ThumbnailError) -> Engine {
        Engine(
            storage: try sources.storage(environment: io.environment, now: io.now), limits: sources.limits,
            magick: magick)
    }

    /// What lets renders at once share ImageMagick's one memory budget.
    func gate() -> RenderGate { RenderGate(concurrent: renders > 1) }
}

/// One thumbnail, or one per source with `-o PATTERN`; the exit status is
/// 0 or the first failure's, in the order the sources were given.
private func runRender(
    _ render: RenderInvocation, explain: Bool, state: ProcessState, io: ProcessIO
) throws(ThumbnailError) -> Int32 {
    let access = try Access(render.access)
    let engine = try state.engine(render.sources, io: io)
    guard case .pattern = render.output else {
        if case .file(let output)? = render.output { try checkOutputDirectory(of: output) }
        try renderOne(render.operands[0], render, access: access, engine: engine, explain: explain, io: io)
        return 0
    }
    let outputs = render.operands.map { render.output!.path(for: $0) }
    // Checked before anything is written: two sources must not race for one file.
    var seen: [String: String] = [:]
    for (operand, output) in zip(render.operands, outputs) {
        if let other = seen.updateValue(operand, forKey: output) {
            throw ThumbnailError(.usage, output, "the -o pattern gives \(other) and \(operand) the same output")
        }
    }
    for output in outputs { try checkOutputDirectory(of: output) }
    let gate = state.gate()
    var firstFailure: ThumbnailError? = nil
    try parallelMapInOrder(
        count: render.operands.count, threads: state.renders,
        makeWorker: {
            { index in
                Result { () throws(ThumbnailError) in
                    try gate.render { () throws(ThumbnailError) in
                        var one = render
                        one.output = .file(outputs[index])
                        try renderOne(render.operands[index], one, access: access, engine: engine, explain: false, io: io)
                    }
                }
            }
        },
        progress: { _ in },
        deliver: { index, result in
            if case .failure(let error) = result {
                firstFailure = firstFailure ?? error
                io.writeError("thumbnail: \(error.line(about: render.operands[index]))\n")
            }
        })
    return firstFailure?.exitStatus ?? 0
}

/// Renders (or explains) one operand to the invocation's output; an error
/// about the source's bytes names it as the user gave it.
private func renderOne(
    _ operand: String, _ render: RenderInvocation, access: Access, engine: Engine, explain: Bool, io: ProcessIO
) throws(ThumbnailError) {
    do {
        try renderOperand(operand, render, access: access, engine: engine, explain: explain, io: io)
    } catch {
        throw error.namingSource(operand == "-" ? "stdin" : operand)
    }
}

private func renderOperand(
    _ operand: String, _ render: RenderInvocation, access: Access, engine: Engine, explain: Bool, io: ProcessIO
) throws(ThumbnailError) {
    let report: AccessReport
    if let flags = render.flags {
        // A plain file is named by its base name in the request; its bytes come from the path itself.
        let name = render.plainFiles ? String(operand.split(separator: "/").last ?? "source") : operand
        report = access.check(flags: flags.request(source: try SourcePath(filePath: operand == "-" ? "stdin" : name)))
    } else {
        report = access.check(path: operand)
    }
    if explain {
        // The checks print before the source is read, and a refusal stops there.
        try io.writeOutput(Array(try accessExplanation(report, access: access).utf8))
    }
    let request = try report.checkedRequest()
    let source: SourceFile
    if operand == "-" {
        source = try readImage(io.input, limit: engine.limits.maxBytes, name: "stdin")
    } else if render.flags != nil, render.plainFiles {
        source = try readPlainFile(operand, limit: engine.limits.maxBytes)
    } else {
        source = try engine.load(request.source)
    }
    if explain {
        let store = (source.location.map { ["storage: " + engine.storage.description, "object: " + $0] } ?? []) + source.facts
        let storeLines = store.map { $0 + "\n" }.joined()
        let plan = try explanation(request, source: source, limits: engine.limits, threads: engine.magick.threads)
        return try io.writeOutput(Array((storeLines + plan).utf8))
    }
    switch render.output {
    case .file(let output)?:
        try checkNotSource(output, sourceFile: source.localPath)
        try writeAtomically(try engine.render(request, from: source).bytes, to: output)
    case .pattern?:
        preconditionFailure("runRender gives each source its file")
    case nil:
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

/// What `--explain` prints once the source is read: the plan. A crop names
/// its window in the resized image and in the upright source; smart has to
/// decode and scale the source to choose it, and prints the score that did.
private func explanation(
    _ request: ThumbnailRequest, source: SourceFile, limits: Limits, threads: Int
) throws(ThumbnailError) -> String {
    var plan = try Renderer.plan(request, source: source, limits: limits)
    var smart: SmartChoice? = nil
    if request.placement == .smart {
        (plan, smart) = try Renderer.smartPlan(request, source: source, limits: limits, threads: threads)
    }
    let layout = plan.layout
    var lines = [
        "source: \(request.source) (\(plan.sourceFormat.rawValue) \(plan.sourceWidth)x\(plan.sourceHeight), orientation \(plan.orientation))",
        "mode: \(request.mode.rawValue)",
        "resize: \(layout.resizeWidth)x\(layout.resizeHeight)",
    ]
    if request.mode == .crop {
        let window = layout.sourceWindow(width: plan.sourceWidth, height: plan.sourceHeight)
        lines.append(
            "window: \(layout.canvasWidth)x\(layout.canvasHeight)+\(layout.x)+\(layout.y) of the resized image, "
                + "\(window.width)x\(window.height)+\(window.x)+\(window.y) of the source")
    }
    if request.mode == .pad {
        lines.append("image: \(layout.resizeWidth)x\(layout.resizeHeight)+\(layout.x)+\(layout.y) of the canvas")
    }
    if let smart {
        lines.append("smart: score \(fraction(smart.share)) of the image's interest (centred window \(fraction(smart.centreShare)))")
    }
    lines.append(
        "output: \(plan.output.rawValue) \(layout.canvasWidth)x\(layout.canvasHeight)"
            + (plan.quality.map { " quality \($0)" } ?? ""))
    return lines.map { $0 + "\n" }.joined()
}

/// 0.123: three decimals, the same on every machine.
private func fraction(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let digits = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - digits.count) + digits
}
