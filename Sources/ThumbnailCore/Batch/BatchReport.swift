/// What a batch run tells: on stdout one tab-separated line per path, in
/// input order (status, bytes, milliseconds, path; with `--base` also
/// X-Cache and Age); on stderr one line per failure, a progress bar when
/// stderr is a terminal, and a summary at the end.
struct BatchReport {
    let io: ProcessIO
    let total: Int
    let reportsCache: Bool
    private let start = monotonicNanoseconds()
    private(set) var ok = 0
    private(set) var failed = 0
    /// The first failure in input order: its error and exit status.
    private(set) var firstFailure: (error: ThumbnailError, exitStatus: Int32)? = nil
    private var bytes = 0
    private var hits = 0
    private var barShown = false
    private var lastDrawn: UInt64 = 0

    init(io: ProcessIO, total: Int, reportsCache: Bool) {
        self.io = io
        self.total = total
        self.reportsCache = reportsCache
    }

    /// Reports one path's result; throws only when stdout cannot be written.
    mutating func add(_ path: String, _ result: BatchResult) throws(ThumbnailError) {
        var columns = [threeDigits(result.status), String(result.bytes), String(result.milliseconds), displayed(path)]
        if reportsCache { columns += [result.cache ?? "-", result.age ?? "-"].map(displayed) }
        // stdout and stderr on one terminal: lift the bar off the line first.
        if io.outputIsTerminal { clearBar() }
        try io.writeOutput(Array((columns.joined(separator: "\t") + "\n").utf8))
        if let failure = result.failure {
            failed += 1
            firstFailure = firstFailure ?? failure
            clearBar()
            io.writeError("thumbnail: \(failure.error.line(about: displayed(path)))\n")
        } else {
            ok += 1
            bytes += result.bytes
            if let cache = result.cache, isHit(cache) { hits += 1 }
        }
    }

    /// Redraws the bar, at most ten times a second, when stderr is a terminal.
    mutating func progress(finished: Int) {
        guard io.errorIsTerminal else { return }
        let now = monotonicNanoseconds()
        guard !barShown || now - lastDrawn >= 100_000_000 else { return }
        lastDrawn = now
        barShown = true
        let seconds = Double(now - start) / 1e9
        let rate = seconds > 0 ? Double(finished) / seconds : 0
        let width = 24
        let filled = total == 0 ? width : width * finished / total
        let eta = rate > 0 ? clock(Double(total - finished) / rate) : "--:--"
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        io.writeError(
            "\r\u{1b}[K[\(bar)] \(finished)/\(total) \(total == 0 ? 100 : 100 * finished / total)% "
                + "\(fixed(rate, 1))/s ETA \(eta)")
    }

    /// Takes the bar away and prints the summary.
    mutating func finish() {
        clearBar()
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        var summary = "batch: \(total) path\(total == 1 ? "" : "s"), \(ok) ok, \(failed) failed, \(bytes) bytes, \(fixed(seconds, 2)) s"
        summary += ", \(fixed(seconds > 0 ? Double(total) / seconds : 0, 1)) paths/s"
        if reportsCache {
            summary += "; cache hits \(hits) of \(ok)" + (ok > 0 ? " (\(100 * hits / ok)%)" : "")
        }
        // Sources from an s3:// or https:// root: connections are reused, one a job.
        if HTTPClient.storeConnections > 0 { summary += "; \(HTTPClient.storeConnections) store connections" }
        io.writeError(summary + "\n")
    }

    private mutating func clearBar() {
        guard barShown else { return }
        io.writeError("\r\u{1b}[K")
        barShown = false
    }
}

/// A cache's answer counts as a hit when its last hop's word says so:
/// nginx `HIT`, CloudFront `Hit from cloudfront`, Fastly `MISS, HIT`.
func isHit(_ cache: String) -> Bool {
    let lastHop = Array((cache.split(separator: ",").last ?? "").utf8).map { $0 | 0x20 }  // ASCII lower case
    return lastHop.indices.contains { lastHop[$0...].starts(with: "hit".utf8) }
}

/// `200`, `404`; `000` when no answer came, as curl prints it.
private func threeDigits(_ status: Int) -> String {
    let digits = String(status)
    return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}

/// `value` with `places` decimals, rounded.
func fixed(_ value: Double, _ places: Int) -> String {
    var scale = 1
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    let fraction = String(scaled % scale)
    return places == 0
        ? String(scaled)
        : "\(scaled / scale)." + String(repeating: "0", count: places - fraction.count) + fraction
}

/// `m:ss`, or `h:mm:ss` from an hour on.
private func clock(_ seconds: Double) -> String {
    let whole = Int(seconds.rounded(.up))
    let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
    let twoDigits = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
    return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(rest))" : "\(minutes):\(twoDigits(rest))"
}
