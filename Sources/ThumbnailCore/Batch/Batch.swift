#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// `--batch FILE|-`: many paths in one process, on `--jobs` threads. Each
// path goes through the same grammar and Engine as the command line.

/// The end of `--help`: what a batch prints and how it exits.
let batchHelp = """
    Batch: FILE (- for stdin) lists thumbnail paths or URLs, one a line; blank
    lines and lines starting with # are skipped. Each path is rendered and
    discarded (a check), written to --output-dir, or fetched from --base;
    with --picture, stdout gets each path's <picture> element instead.
    stdout: STATUS, BYTES, MILLISECONDS, PATH, tab-separated, one line per path
    in input order; with --base also X-Cache and Age (- when absent). STATUS is
    HTTP's: 200, a failure's, the server's with --base, 000 when no answer
    came. stderr: one line per failure, a progress bar when it is a terminal,
    a summary. Exit status: 0 when every path succeeded, else that of the
    first failure in input order, as for one path; with --base from the
    server's status (see EXIT STATUS in thumbnail(1)).

    """

/// What `--batch` does with each path.
package enum BatchAction: Sendable {
    /// Render and discard: a check that every path renders.
    case check
    /// Render and write each result at `directory` + its canonical path.
    case write(directory: String)
    /// GET each path from `base`, warming the cache in front of it; render
    /// nothing. Each request gives up after `maxTime` seconds.
    case fetch(base: String, maxTime: Int)
    /// Print each path's `<picture>` element (`--picture`); render nothing.
    case picture(PictureOptions)
}

/// One path's line of the report.
struct BatchResult: Sendable {
    /// 200, the failure's HTTP status, or with `--base` the server's; 0 when no answer came.
    var status: Int
    var bytes = 0
    var milliseconds = 0
    /// With `--base`: the `X-Cache` and `Age` headers.
    var cache: String? = nil
    var age: String? = nil
    /// What failed, and the exit status it gives.
    var failure: (error: ThumbnailError, exitStatus: Int32)? = nil
}

/// A list holds at most this many bytes (about 150,000 paths); split larger ones.
package let maxListBytes = 16 << 20

/// The paths of a list: one a line, surrounding spaces trimmed; blank lines
/// and lines starting with `#` skipped.
func batchPaths(_ list: [UInt8]) -> [String] {
    list.split(separator: UInt8(ascii: "\n")).compactMap { line in
        let path = String(decoding: line, as: UTF8.self)[...].trimmingSpaces
        return path.isEmpty || path.hasPrefix("#") ? nil : String(path)
    }
}

var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

/// Runs the batch and reports it; the exit status is 0, or that of the
/// first path that failed.
func runBatch(_ batch: BatchInvocation, state: ProcessState, io: ProcessIO) throws(ThumbnailError) -> Int32 {
    let listName = batch.list == "-" ? "stdin" : batch.list
    let paths = batchPaths(try readList(batch.list, io: io))
    let makeWorker: @Sendable () -> (Int) -> BatchResult
    switch batch.action {
    case .picture(let options):
        return try runPictureBatch(paths, options: options, batch: batch, listName: listName, state: state, io: io)
    case .fetch(let base, let maxTime):
        _ = try HTTPClient.library.get()
        makeWorker = {
            let client = Swift.Result { () throws(ThumbnailError) in try HTTPClient(timeout: maxTime) }
            return { index in timed { () throws(ThumbnailError) in try fetch(paths[index], base: base, with: client.get()) } }
        }
    case .check, .write:
        let access = try Access(batch.access)
        let engine = try state.engine(batch.sources, io: io)
        let gate = state.gate()
        var directory: String? = nil
        if case .write(let path) = batch.action { directory = path }
        makeWorker = { [directory] in
            { index in
                timed { () throws(ThumbnailError) in
                    try render(paths[index], access: access, engine: engine, gate: gate, into: directory)
                }
            }
        }
    }
    var report = BatchReport(io: io, total: paths.count, reportsCache: { if case .fetch = batch.action { true } else { false } }())
    try parallelMapInOrder(
        count: paths.count, threads: state.renders, makeWorker: makeWorker,
        progress: { finished in report.progress(finished: finished) },
        deliver: { index, result throws(ThumbnailError) in try report.add(paths[index], result) })
    report.finish()
    guard let first = report.firstFailure else { return 0 }
    io.writeError("thumbnail: \(listName): \(report.failed) of \(paths.count) paths failed\n")
    return first.exitStatus
}

/// The list's bytes: `-` is stdin; a file may be any that reads, a pipe
/// such as `<(grep ...)` too (sources, unlike lists, must be regular files).
private func readList(_ list: String, io: ProcessIO) throws(ThumbnailError) -> [UInt8] {
    let name = list == "-" ? "stdin" : list
    let fd = list == "-" ? io.input : open(list, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ThumbnailError(errno == ENOENT ? .notFound : .ioFailure, list, errnoText()) }
    defer { if fd != io.input { close(fd) } }
    do throws(ThumbnailError) {
        return try readAll(fd, limit: maxListBytes, name: name)
    } catch where error.kind == .tooLarge {
        throw ThumbnailError(.tooLarge, name, "more than \(maxListBytes) bytes; split the list")
    }
}

/// Runs `body`, timing it; a failure becomes a result with the error's HTTP status.
private func timed(_ body: () throws(ThumbnailError) -> BatchResult) -> BatchResult {
    let start = monotonicNanoseconds()
    var result: BatchResult
    do {
        result = try body()
    } catch {
        result = BatchResult(status: error.httpStatus, failure: (error, error.exitStatus))
    }
    result.milliseconds = Int((monotonicNanoseconds() - start) / 1_000_000)
    return result
}

/// Checks and renders one path as the command line would; writes it under `directory` if given.
private func render(
    _ path: String, access: Access, engine: Engine, gate: RenderGate, into directory: String?
) throws(ThumbnailError) -> BatchResult {
    let request = try access.check(path: path).checkedRequest()
    let source = try engine.load(request.source)
    let thumbnail = try gate.render { () throws(ThumbnailError) in try engine.render(request, from: source) }
    if let directory {
        let file = directory + outputPath(canonical: try access.canonicalPath(request), format: thumbnail.format)
        try checkNotSource(file, sourceFile: source.localPath)
        try makeDirectories(directoryOf(file))
        try writeAtomically(thumbnail.bytes, to: file)
    }
    return BatchResult(status: 200, bytes: thumbnail.bytes.count)
}

/// ImageMagick's memory and map limits hold for the whole process (and
/// Debian's policy.xml caps them below what Wand asks for), so renders at
/// once share one budget. A render refused as too large while others ran
/// is tried again alone, with the whole budget as on the command line: a
/// path fails in a batch exactly when it fails on its own.
final class RenderGate: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    private let concurrent: Bool

    init(concurrent: Bool) {
        self.concurrent = concurrent
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        // A render waiting to run alone goes before new ones, or it could wait for the whole batch.
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func render<Rendered>(_ body: () throws(ThumbnailError) -> Rendered) throws(ThumbnailError) -> Rendered {
        do {
            pthread_rwlock_rdlock(lock)
            defer { pthread_rwlock_unlock(lock) }
            return try body()
        } catch where concurrent && error.kind == .tooLarge {
            pthread_rwlock_wrlock(lock)
            defer { pthread_rwlock_unlock(lock) }
            return try body()
        }
    }
}

/// The file `--output-dir` writes a thumbnail of `format` to: the canonical
/// path (signed, with keys) with each segment decoded, as a bucket key, and
/// the format's extension added when the last segment's does not name it,
/// since upload tools tell a file's Content-Type by its extension.
func outputPath(canonical: String, format: OutputFormat) -> String {
    // Canonical segments are encoded by `percentEncode`, so each decodes.
    let decoded = canonical.split(separator: "/", omittingEmptySubsequences: false).map { percentDecoded($0) ?? String($0) }
        .joined(separator: "/")
    let name = decoded.split(separator: "/").last ?? ""
    let named = name.lastIndex(of: ".").flatMap { OutputFormat.named(Substring(name[name.index(after: $0)...].lowercased())) }
    return named == format ? decoded : decoded + "." + format.rawValue
}

/// GETs one path (or the path of a full URL) from `base`; any status but 2xx is a failure.
private func fetch(_ line: String, base: String, with client: HTTPClient) throws(ThumbnailError) -> BatchResult {
    let path = PathGrammar.pathPart(of: line)
    guard path.hasPrefix("/") else { throw ThumbnailError(.badPath, line, "a path starts with '/'") }
    let answer: HTTPAnswer
    do {
        answer = try client.get(base + percentEncode(path, keeping: isLiteralInURL))
    } catch {
        let failure = ThumbnailError(error.kind, displayed(line), error.reason)
        return BatchResult(status: 0, failure: (failure, failure.exitStatus))
    }
    var result = BatchResult(status: answer.status, bytes: answer.bytes, cache: answer.cache, age: answer.age)
    if !(200...299).contains(answer.status) {
        // A redirect is not followed: the path it names, the canonical one, is what pages ask for and the CDN keeps.
        let redirect = answer.location.map { " (Location: \(displayed($0))); list that path, since redirects are not followed" }
        let failure = ThumbnailError(
            .ioFailure, displayed(line), "the server answered \(answer.status)" + ((300...399).contains(answer.status) ? redirect ?? "" : ""))
        result.failure = (failure, ThumbnailError.exitStatus(forServerStatus: answer.status))
    }
    return result
}

/// What may stand unescaped in a request's path: a list may hold spaces or
/// raw UTF-8 where a browser would send `%XX`; escapes already there stay.
private func isLiteralInURL(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: "/") || byte == UInt8(ascii: "%") || isLiteralInPath(byte)
}

/// A path as the report shows it: control characters (a tab would break the columns) as `%XX`.
func displayed(_ path: String) -> String {
    percentEncode(path) { $0 >= 0x20 && $0 != 0x7f }
}

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
