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
        return serveMisconfigured(error, settings: parsed.settings, io: io)
    }
    do throws(ThumbnailError) {
        switch try parsed.result.get() {
        case .help: try io.writeOutput(Array(helpText().utf8))
        case .version: try io.writeOutput(Array("thumbnail \(toolVersion)\n\(ImageMagick.version)\n".utf8))
        case .sign(let sign):
            try io.writeOutput(Array((try Access(sign.access).signedPath(sign.path) + "\n").utf8))
        case .render(let render): return try runRender(render, explain: false, io: io)
        case .explain(let render): return try runRender(render, explain: true, io: io)
        case .inetd(let server):
            io.silenceErrorStream()
            return serveInetd(server, arguments: arguments, io: io)
        case .listen(let server):
            return try serveListening(
                server, sockets: nil, arguments: arguments, io: io, events: LogSink { io.writeError($0 + "\n") })
        case .batch(let batch): return try runBatch(batch, io: io)
        case .picture(let picture): return try runPicture(picture, io: io)
        case .checkConfig(let server, let problems): return runCheckConfig(server, problems: problems, io: io)
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

/// One thumbnail, or one per source with `-o PATTERN`; the exit status is
/// 0 or the first failure's, in the order the sources were given.
private func runRender(_ render: RenderInvocation, explain: Bool, io: ProcessIO) throws(ThumbnailError) -> Int32 {
    let access = try Access(render.access)
    guard case .pattern = render.output else {
        let state = try ProcessState.oneAtATime()
        try renderOne(render.operands[0], render, access: access, engine: makeEngine(render, state, io), explain: explain, io: io)
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
    let jobs = min(render.jobs ?? onlineCores, render.operands.count)
    let state = try ProcessState(
        timeLimit: jobs > 1 ? .lifted : .perRender(seconds: 60), threads: max(1, onlineCores / jobs))
    let gate = RenderGate(concurrent: jobs > 1)
    let engine = makeEngine(render, state, io)
    var firstFailure: ThumbnailError? = nil
    try parallelMapInOrder(
        count: render.operands.count, threads: jobs,
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
                io.writeError("thumbnail: \(subjectNaming(render.operands[index], error))\n")
            }
        })
    return firstFailure?.exitStatus ?? 0
}

/// `error` as a line that names `source`, once.
private func subjectNaming(_ source: String, _ error: ThumbnailError) -> String {
    error.subject == source ? error.description : "\(source): \(error)"
}

/// Renders (or explains) one operand to the invocation's output.
/// One engine for every source of the run: a storage keeps its credentials and connections.
private func makeEngine(_ render: RenderInvocation, _ state: ProcessState, _ io: ProcessIO) -> Engine {
    Engine(storage: render.sources.storage(environment: io.environment), limits: render.sources.limits, magick: state.magick)
}

private func renderOne(
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
        source = SourceFile(bytes: try readAll(io.input, limit: engine.limits.maxBytes, name: "stdin", sniff: .imageMagic))
    } else if render.flags != nil, render.plainFiles {
        source = try readPlainFile(operand, limit: engine.limits.maxBytes)
    } else {
        source = try engine.load(request.source)
    }
    if explain {
        let store = (source.location.map { ["storage: " + engine.storage.description, "object: " + $0] } ?? []) + source.facts
        let storeLines = store.map { $0 + "\n" }.joined()
        return try io.writeOutput(Array((storeLines + (try explanation(request, source: source.bytes, limits: engine.limits))).utf8))
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
private func explanation(_ request: ThumbnailRequest, source: [UInt8], limits: Limits) throws(ThumbnailError)
    -> String
{
    var plan = try Renderer.plan(request, source: source, limits: limits)
    var smart: SmartChoice? = nil
    if request.placement == .smart { (plan, smart) = try Renderer.smartPlan(request, source: source, limits: limits) }
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
