#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a connection process tells the listening server of each request it
/// answered: one line of text a request, far under PIPE_BUF, so that the
/// lines of many processes writing to one pipe never mix.
struct RequestFigures {
    var status: Int
    /// Body bytes sent.
    var bytes: Int
    /// The request waited for a render slot in vain.
    var queueTimedOut: Bool
    var cost: RenderCost?

    /// `status bytes timedOut queue fetch decode resize encode total cpu peakKiB`, `-` without a render.
    var line: String {
        let figures =
            cost.map { cost in
                [cost.queue, cost.phases.fetch, cost.phases.decode, cost.phases.resize, cost.phases.encode, cost.total, cost.cpu]
                    .map { String($0) } + [cost.peakKiB.map(String.init) ?? "-"]
            } ?? ["-"]
        return ([String(status), String(bytes), queueTimedOut ? "1" : "0"] + figures).joined(separator: " ")
    }

    init(status: Int, bytes: Int, queueTimedOut: Bool, cost: RenderCost?) {
        (self.status, self.bytes, self.queueTimedOut, self.cost) = (status, bytes, queueTimedOut, cost)
    }

    /// A line read back; nil when it is not one.
    init?(line: String) {
        let words = line.split(separator: " ")
        guard words.count == 4 || words.count == 11, let status = Int(words[0]), let bytes = Int(words[1]) else { return nil }
        (self.status, self.bytes, queueTimedOut, cost) = (status, bytes, words[2] == "1", nil)
        guard words.count == 11 else { return }
        let times = words[3..<10].compactMap { Double($0) }
        guard times.count == 7 else { return nil }
        cost = RenderCost(
            queue: times[0], phases: RenderPhases(fetch: times[1], decode: times[2], resize: times[3], encode: times[4]),
            total: times[5], cpu: times[6], peakKiB: Int(words[10]))
    }
}

/// Sends each request's figures to the listening server through a pipe,
/// never waiting: a line the pipe has no room for (64 KiB, about a
/// thousand lines the server has not read yet) is dropped.
struct MetricsReporter {
    /// The pipe's end, non-blocking.
    let fd: Int32

    func report(_ figures: RequestFigures) {
        let bytes = Array((figures.line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

/// Counts of observations at or under each bound, as Prometheus keeps them.
struct Histogram {
    let bounds: [Double]
    private(set) var counts: [Int]
    private(set) var sum = 0.0
    private(set) var count = 0

    init(_ bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        for (index, bound) in bounds.enumerated() where value <= bound { counts[index] += 1 }
        sum += value
        count += 1
    }
}

/// What the listening server has served since it started, aggregated from
/// its connection processes' reports and its own 503s.
struct Metrics {
    /// Why a request got 503 for want of capacity.
    enum Overload: String, CaseIterable {
        case queue, connections, fork
    }

    private static let seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    private static let mebibytes = [16.0, 32, 64, 128, 256, 512, 1024, 2048].map { $0 * 1_048_576 }

    private var requests: [Int: Int] = [:]
    private var bytesSent = 0
    private var overloads: [Overload: Int] = [:]
    private var renderSeconds = Histogram(seconds)
    private var fetchSeconds = Histogram(seconds)
    private var queueSeconds = Histogram(seconds)
    private var cpuSeconds = Histogram(seconds)
    private var peakBytes = Histogram(mebibytes)
    private(set) var connections = 0
    private(set) var killed = 0

    mutating func record(_ figures: RequestFigures) {
        requests[figures.status, default: 0] += 1
        bytesSent += figures.bytes
        if figures.queueTimedOut { overloads[.queue, default: 0] += 1 }
        guard let cost = figures.cost else { return }
        renderSeconds.observe(cost.total / 1000)
        fetchSeconds.observe(cost.phases.fetch / 1000)
        queueSeconds.observe(cost.queue / 1000)
        cpuSeconds.observe(cost.cpu / 1000)
        if let peak = cost.peakKiB { peakBytes.observe(Double(peak * 1024)) }
    }

    /// A 503 the server wrote itself.
    mutating func recordRefusal(_ reason: Overload, bytes: Int) {
        overloads[reason, default: 0] += 1
        requests[503, default: 0] += 1
        bytesSent += bytes
    }

    mutating func recordConnection() { connections += 1 }

    mutating func recordKilled() { killed += 1 }

    /// The Prometheus text format (0.0.4), with the gauges of this moment.
    func text(open: Int, maxConnections: Int, rendering: Int, maxRenders: Int) -> String {
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"] + samples.map { "\(name)\($0.0) \($0.1)" }
        }
        func histogram(_ name: String, _ help: String, _ histogram: Histogram) {
            let buckets = zip(histogram.bounds, histogram.counts).map { ("_bucket{le=\"\(number($0.0))\"}", String($0.1)) }
            family(
                name, "histogram", help,
                buckets + [
                    ("_bucket{le=\"+Inf\"}", String(histogram.count)), ("_sum", number(histogram.sum)),
                    ("_count", String(histogram.count)),
                ])
        }
        family(
            "thumbnail_http_requests_total", "counter", "Requests answered, by HTTP status.",
            requests.keys.sorted().map { ("{code=\"\($0)\"}", String(requests[$0]!)) })
        family("thumbnail_http_response_body_bytes_total", "counter", "Body bytes sent.", [("", String(bytesSent))])
        family(
            "thumbnail_overload_responses_total", "counter",
            "503s for want of capacity: no render slot in time, too many connections, a failed fork.",
            Overload.allCases.map { ("{reason=\"\($0.rawValue)\"}", String(overloads[$0, default: 0])) })
        histogram("thumbnail_render_duration_seconds", "Renders, from the source's fetch to the encoded bytes.", renderSeconds)
        histogram("thumbnail_source_fetch_duration_seconds", "Fetches of a render's source.", fetchSeconds)
        histogram("thumbnail_render_queue_wait_seconds", "Waits of a render for its slot.", queueSeconds)
        histogram("thumbnail_render_cpu_seconds", "CPU time of a render's process during it.", cpuSeconds)
        histogram("thumbnail_render_peak_resident_bytes", "Peak resident memory of a render's process, as the log gives it.", peakBytes)
        family("thumbnail_renders_in_progress", "gauge", "Render slots held now.", [("", String(rendering))])
        family("thumbnail_render_slots", "gauge", "Renders allowed at once (--max-renders).", [("", String(maxRenders))])
        family("thumbnail_connections_open", "gauge", "Connections being served now.", [("", String(open))])
        family(
            "thumbnail_connections_max", "gauge", "Connections served at once at most (--max-connections).",
            [("", String(maxConnections))])
        family("thumbnail_connections_total", "counter", "Connections accepted.", [("", String(connections))])
        family(
            "thumbnail_connection_processes_killed_total", "counter", "Connection processes ended by a signal.",
            [("", String(killed))])
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A number as Prometheus reads it: `0.005`, `1`, `16777216`.
private func number(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}

/// The metrics port's only page.
struct MetricsResponder: Responder {
    let text: String

    func respond(to request: HTTPRequest) -> Response {
        guard PathGrammar.pathPart(of: request.target) == "/metrics" else {
            return Response(reply: HTTPReply.text(404, cacheControl: "no-store"))
        }
        var reply = HTTPReply.text(200, text, cacheControl: "no-store")
        reply.fields[0].value = "text/plain; version=0.0.4; charset=utf-8"
        return Response(reply: reply)
    }
}
