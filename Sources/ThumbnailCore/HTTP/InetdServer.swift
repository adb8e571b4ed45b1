#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `thumbnail --inetd`: one connection on `io.input` and `io.output`,
/// started by xinetd or systemd (`Accept=yes`). Nothing goes to stderr in
/// this mode (it is the socket too); one line per request goes to the log.
/// Handed a listening socket instead (`wait = yes`, `Accept=no`), it is
/// the listening server, whose own messages go to syslog.
func serveInetd(_ server: ServerInvocation, arguments: [String], state: ProcessState, io: ProcessIO) -> Int32 {
    if isListeningSocket(io.input) {
        let events = io.openLog(nil)
        do throws(ThumbnailError) {
            // Standard output is the same socket: the connection processes write to their own.
            if isListeningSocket(io.output) { closeDescriptor(io.output) }
            return try serveListening(
                server, sockets: [io.input], arguments: arguments, state: state, io: io, events: events)
        } catch {
            events.write("thumbnail: \(error)")
            return error.exitStatus
        }
    }
    prepareAllocatorForRenders()
    return serveConnection(server, io: io) { () throws(ThumbnailError) in
        // The super-server chooses the user; --user, when given, still applies.
        if server.listening.user != nil { _ = try dropPrivileges(to: server.listening.user) }
        return try Site(server, state: state, io: io).responder(
            slots: try RenderSlots(server.renders, environment: io.environment))
    }.status
}

/// Serves the connection on `io.input` and `io.output` with the responder
/// `makeResponder` makes; when it cannot, answers every request 503 and
/// exits with the error's status.
func serveConnection(
    _ server: ServerInvocation, io: ProcessIO, reporter: MetricsReporter? = nil,
    makeResponder: () throws(ThumbnailError) -> any Responder
) -> HTTPConnection.Served {
    let connection = HTTPConnection(
        io: io, log: io.openLog(server.logFile), limits: HTTPLimits(server), errorMaxAge: server.errorMaxAge,
        logFormat: server.logFormat, clientIPHeader: server.clientIPHeader, reporter: reporter)
    defer { connection.log.close() }
    do throws(ThumbnailError) {
        return connection.serve(try makeResponder(), failure: nil)
    } catch {
        return connection.serve(MisconfiguredResponder(error: error), failure: error)
    }
}

/// What the HTTP modes read of their configuration before serving: the
/// access checks, with their key and token files, and the storage.
struct Site {
    let server: ServerInvocation
    let access: Access
    let engine: Engine

    init(_ server: ServerInvocation, state: ProcessState, io: ProcessIO) throws(ThumbnailError) {
        self.server = server
        access = try Access(server.access)
        engine = try state.engine(server.sources, io: io)
    }

    /// A connection's responder, once the storage can serve.
    func responder(slots: RenderSlots) throws(ThumbnailError) -> ThumbnailResponder {
        try engine.storage.checkAvailable()
        return ThumbnailResponder(server: server, access: access, engine: engine, slots: slots)
    }
}

/// `--inetd` with options it cannot use: every request on the connection is
/// answered 503, never cached, and logged with the error; then the process
/// exits with the error's status. A listening socket has no connection to
/// answer: the error is logged, and the status is the exit status.
func serveMisconfigured(_ error: ThumbnailError, settings: Settings, io: ProcessIO) -> Int32 {
    // Standard output is the connection here: `--log -` goes to syslog, as a file that cannot be opened does.
    let log = io.openLog(settings.logFile == LogSink.standardOutput ? nil : settings.logFile)
    if isListeningSocket(io.input) {
        log.write("thumbnail: \(error)")
        return error.exitStatus
    }
    return HTTPConnection(
        io: io, log: log,
        limits: HTTPLimits(readTimeout: settings.readTimeout, idleTimeout: settings.idleTimeout, maxRequests: settings.maxRequests),
        errorMaxAge: 0, logFormat: settings.logFormat,
        clientIPHeader: settings.clientIPHeader
    ).serve(MisconfiguredResponder(error: error), failure: error).status
}

/// What a responder answers, with what the log says of it.
struct Response {
    var reply: HTTPReply
    var note: String? = nil
    /// For a thumbnail: the source's size and the output's format.
    var sourceBytes: Int? = nil
    var format: OutputFormat? = nil
    var cost: RenderCost? = nil
    /// A 503 for want of a render slot.
    var queueTimedOut = false
}

/// Answers one checked GET or HEAD.
protocol Responder {
    func respond(to request: HTTPRequest) -> Response
}

/// Answers every request with the configuration error, as the origin's own failure.
struct MisconfiguredResponder: Responder {
    let error: ThumbnailError

    func respond(to request: HTTPRequest) -> Response {
        Response(reply: HTTPReply.text(503, cacheControl: "no-store"), note: "misconfigured: \(error)")
    }
}

/// The keep-alive loop: read a request, answer it, until the client closes,
/// stays idle, asks to close, sends a request it refuses, or reaches the cap.
struct HTTPConnection {
    let io: ProcessIO
    let log: LogSink
    let limits: HTTPLimits
    let errorMaxAge: Int
    let logFormat: LogFormat
    /// The trusted CDN's header that names the client; nil: the socket's peer.
    let clientIPHeader: String?
    /// Under `--listen`, where each request's figures go.
    var reporter: MetricsReporter? = nil

    /// The status to exit with: 0, or `failure`'s when misconfigured; and
    /// how many requests the connection carried.
    typealias Served = (status: Int32, requests: Int)

    /// Serves the connection.
    func serve(_ responder: some Responder, failure: ThumbnailError?) -> Served {
        let peer = peerAddress(of: io.input)
        var reader = RequestReader(fd: io.input, limits: limits)
        // A client that stops reading must not hold the process forever.
        var sendTimeout = timeval(tv_sec: limits.readTimeout, tv_usec: 0)
        setsockopt(io.output, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        let status = failure?.exitStatus ?? 0
        for count in 1...limits.maxRequests {
            let next = reader.next()
            // The log's milliseconds count from a whole request head, not from the idle wait before it.
            let started = monotonicMilliseconds()
            switch next {
            case .closed:
                return (status, count - 1)
            case .refused(let refusal):
                var reply = HTTPReply.text(
                    refusal.status, reason: refusal.reason, cacheControl: "public, max-age=\(errorMaxAge)")
                if refusal.status == 405 { reply.fields.append(("Allow", "GET, HEAD")) }
                let record = AccessRecord(
                    time: io.now(), client: peer, method: refusal.method, status: reply.status, bytes: 0,
                    milliseconds: 0, note: refusal.reason)
                _ = send(Response(reply: reply), record, close: true, started: started)
                return (status, count)
            case .request(let request):
                let response = responder.respond(to: request)
                // A connection process told to finish answers this request and reads no other.
                let close = !request.keepAlive || count == limits.maxRequests || Drain.isRequested
                let record = AccessRecord(
                    time: io.now(), client: clientAddress(peer: peer, header: clientIPHeader, in: request),
                    method: request.method, target: request.target, version: "HTTP/1.\(request.minorVersion)",
                    status: response.reply.status, bytes: 0, referer: request.values("referer").first,
                    userAgent: request.values("user-agent").first, milliseconds: 0, sourceBytes: response.sourceBytes,
                    format: response.format, note: response.note, cost: response.cost)
                guard send(response, record, close: close, started: started), !close else { return (status, count) }
                if response.cost != nil { releaseRenderMemory() }
            }
        }
        return (status, limits.maxRequests)
    }

    /// Writes the reply and its log line; false when the client is gone.
    private func send(_ response: Response, _ record: AccessRecord, close: Bool, started: Int) -> Bool {
        let reply = response.reply
        let withBody = record.method != "HEAD"
        let bytes = reply.serialized(date: io.now(), withBody: withBody, close: close)
        var sent = true
        do throws(ThumbnailError) {
            try writeAll(io.output, bytes, name: "stdout")
        } catch {
            sent = false
        }
        var record = record
        record.bytes = sent && withBody && reply.status != 304 ? reply.body.count : 0
        record.milliseconds = monotonicMilliseconds() - started
        if !sent { record.note = [record.note, "client gone"].compactMap { $0 }.joined(separator: "; ") }
        log.write(logFormat.line(record))
        reporter?.report(
            RequestFigures(status: reply.status, bytes: record.bytes, queueTimedOut: response.queueTimedOut, cost: response.cost))
        return sent
    }
}

extension HTTPLimits {
    init(_ server: ServerInvocation) {
        self.init(readTimeout: server.readTimeout, idleTimeout: server.idleTimeout, maxRequests: server.maxRequests)
    }
}

/// The origin: thumbnails, redirects to canonical paths, the health check.
struct ThumbnailResponder: Responder {
    let server: ServerInvocation
    let access: Access
    let engine: Engine
    let slots: RenderSlots

    var errorCacheControl: String { "public, max-age=\(server.errorMaxAge)" }

    func respond(to request: HTTPRequest) -> Response {
        let path = PathGrammar.pathPart(of: request.target)
        // A load balancer's health check carries no origin token.
        if path == "/healthz" { return Response(reply: HTTPReply.text(200, "ok\n", cacheControl: "no-store")) }
        // An orchestrator's readiness probe: whether this server takes new work, whatever the store says.
        if path == "/readyz" {
            let draining = Drain.isRequested
            return Response(reply: HTTPReply.text(draining ? 503 : 200, draining ? nil : "ready\n", cacheControl: "no-store"))
        }
        do throws(ThumbnailError) {
            try access.checkOriginToken(request.values(access.originTokenHeader.lowercased()))
        } catch {
            // Without the token nothing is revealed, not even which header it goes in.
            return Response(reply: HTTPReply.text(error.httpStatus, cacheControl: errorCacheControl), note: error.description)
        }
        do throws(ThumbnailError) {
            // Prefix, signature and sizes before the redirect: a redirect must not sign what nobody signed.
            let report = access.check(path: request.target)
            let thumbnailRequest = try report.checkedRequest()
            // One spelling per image, so the CDN keeps one copy of it.
            guard report.spelledCanonically else {
                var reply = HTTPReply.text(301, cacheControl: errorCacheControl)
                reply.fields.append(("Location", try access.canonicalPath(thumbnailRequest)))
                return Response(reply: reply)
            }
            var queue = PhaseClock()
            let rendered = try slots.withSlot { () throws(ThumbnailError) in
                let waited = queue.lap()
                var meter = CostMeter()
                let thumbnail = try engine.thumbnail(for: thumbnailRequest)
                return (thumbnail, meter.cost(queue: waited, phases: thumbnail.phases))
            }
            guard let (thumbnail, cost) = rendered else {
                return Response(
                    reply: .overloaded, note: "no render slot free within --queue-timeout \(slots.queueTimeout) s",
                    queueTimedOut: true)
            }
            let tag = entityTag(thumbnail.bytes)
            var fields = [("Cache-Control", server.cacheControl), ("ETag", tag)]
            if let modified = thumbnail.sourceModified { fields.append(("Last-Modified", httpDate(modified))) }
            if server.serverTiming { fields.append(("Server-Timing", cost.serverTiming)) }
            let facts = Response(
                reply: HTTPReply(status: 304, fields: fields), sourceBytes: thumbnail.sourceBytes, format: thumbnail.format,
                cost: cost)
            if request.isNotModified(tag: tag, modified: thumbnail.sourceModified) { return facts }
            var response = facts
            response.reply = HTTPReply(
                status: 200, fields: [("Content-Type", thumbnail.format.mediaType)] + fields, body: thumbnail.bytes)
            return response
        } catch {
            let statuses = error.statuses
            // The origin's own failures must never be kept by the CDN.
            let cacheControl = statuses.originFailure ? "no-store" : errorCacheControl
            let reason = publicReason(error, path: path)
            return Response(reply: HTTPReply.text(statuses.http, reason: reason, cacheControl: cacheControl), note: error.description)
        }
    }
}

/// What an error reply may tell anyone of `error`: its subject and reason
/// when the failure is the request's own and its subject is part of the
/// request's path (a size, a signature, the source's path). Nothing of the
/// origin's own failures, nor of an error about something the path does
/// not name, since those may name the origin's files, its store or its bucket.
/// A control character the path decodes to is shown `%XX`, as the batch report shows it.
func publicReason(_ error: ThumbnailError, path: Substring) -> String? {
    guard !error.statuses.originFailure, !error.subject.isEmpty else { return nil }
    let spellings = [String(path), percentDecoded(path)].compactMap { $0 }
    return spellings.contains { $0.contains(error.subject) } ? displayed(error.description) : nil
}

/// The numeric address of the socket's other end, or `-` when `fd` is not a socket.
func peerAddress(of fd: Int32) -> String {
    var address = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    guard status == 0 else { return "-" }
    return numericHost(address) ?? "-"
}

/// The numeric IPv4 or IPv6 address of a socket address.
func numericHost(_ address: sockaddr_storage) -> String? {
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    var converted: UnsafePointer<CChar>? = nil
    switch Int32(address.ss_family) {
    case AF_INET:
        var inet = withUnsafeBytes(of: address) { $0.load(as: sockaddr_in.self) }
        converted = inet_ntop(AF_INET, &inet.sin_addr, &text, socklen_t(text.count))
    case AF_INET6:
        var inet6 = withUnsafeBytes(of: address) { $0.load(as: sockaddr_in6.self) }
        converted = inet_ntop(AF_INET6, &inet6.sin6_addr, &text, socklen_t(text.count))
    default: break
    }
    guard converted != nil else { return nil }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
