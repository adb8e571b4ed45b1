#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `thumbnail --inetd`: one connection on `io.input` and `io.output`,
/// started by xinetd or systemd (`Accept=yes`). Nothing goes to stderr in
/// this mode (it is the socket too); one line per request goes to the log.
/// A configuration it cannot use is thrown, and `run` serves it misconfigured.
func serveInetd(_ server: ServerInvocation, state: ProcessState, io: ProcessIO) throws(ThumbnailError) -> Int32 {
    let access = try Access(server.access)
    let engine = try state.engine(server.sources, io: io)
    try engine.storage.checkAvailable()
    let connection = HTTPConnection(
        io: io, log: io.openLog(server.logFile), limits: HTTPLimits(server), errorMaxAge: server.errorMaxAge,
        logFormat: server.logFormat, clientIPHeader: server.clientIPHeader)
    return connection.serve(ThumbnailResponder(server: server, access: access, engine: engine), failure: nil)
}

/// `--inetd` with options it cannot use: every request on the connection is
/// answered 503, never cached, and logged with the error; then the process
/// exits with the error's status.
func serveMisconfigured(_ error: ThumbnailError, settings: Settings, io: ProcessIO) -> Int32 {
    HTTPConnection(
        io: io, log: io.openLog(settings.logFile),
        limits: HTTPLimits(readTimeout: settings.readTimeout, idleTimeout: settings.idleTimeout, maxRequests: settings.maxRequests),
        errorMaxAge: 0, logFormat: settings.logFormat,
        clientIPHeader: settings.clientIPHeader
    ).serve(MisconfiguredResponder(error: error), failure: error)
}

/// What a responder answers, with what the log says of it.
struct Response {
    var reply: HTTPReply
    var note: String? = nil
    /// For a thumbnail: the source's size and the output's format.
    var sourceBytes: Int? = nil
    var format: OutputFormat? = nil
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

    /// Serves the connection; exits 0, or with `failure`'s status when misconfigured.
    func serve(_ responder: some Responder, failure: ThumbnailError?) -> Int32 {
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
                return status
            case .refused(let refusal):
                var reply = HTTPReply.text(refusal.status, cacheControl: "public, max-age=\(errorMaxAge)")
                if refusal.status == 405 { reply.fields.append(("Allow", "GET, HEAD")) }
                let record = AccessRecord(
                    time: io.now(), client: peer, method: refusal.method, status: reply.status, bytes: 0,
                    milliseconds: 0, note: refusal.reason)
                _ = send(Response(reply: reply), record, close: true, started: started)
                return status
            case .request(let request):
                let response = responder.respond(to: request)
                let close = !request.keepAlive || count == limits.maxRequests
                let record = AccessRecord(
                    time: io.now(), client: clientAddress(peer: peer, header: clientIPHeader, in: request),
                    method: request.method, target: request.target, version: "HTTP/1.\(request.minorVersion)",
                    status: response.reply.status, bytes: 0, referer: request.values("referer").first,
                    userAgent: request.values("user-agent").first, milliseconds: 0, sourceBytes: response.sourceBytes,
                    format: response.format, note: response.note)
                guard send(response, record, close: close, started: started), !close else { return status }
            }
        }
        return status
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

    var errorCacheControl: String { "public, max-age=\(server.errorMaxAge)" }

    func respond(to request: HTTPRequest) -> Response {
        let path = PathGrammar.pathPart(of: request.target)
        // A load balancer's health check carries no origin token.
        if path == "/healthz" { return Response(reply: HTTPReply.text(200, "ok\n", cacheControl: "no-store")) }
        do throws(ThumbnailError) {
            try access.checkOriginToken(request.values(access.originTokenHeader.lowercased()))
            guard path.hasPrefix(access.grammar.prefix + "/") else {
                throw ThumbnailError(.notFound, String(path), "not a thumbnail path")
            }
            // Signature and sizes before the redirect: a redirect must not sign what nobody signed.
            let report = access.check(path: request.target)
            let thumbnailRequest = try report.checkedRequest()
            // One spelling per image, so the CDN keeps one copy of it.
            guard report.spelledCanonically else {
                var reply = HTTPReply.text(301, cacheControl: errorCacheControl)
                reply.fields.append(("Location", try access.canonicalPath(thumbnailRequest)))
                return Response(reply: reply)
            }
            let thumbnail = try engine.thumbnail(for: thumbnailRequest)
            let tag = entityTag(thumbnail.bytes)
            var fields = [("Cache-Control", server.cacheControl), ("ETag", tag)]
            if let modified = thumbnail.sourceModified { fields.append(("Last-Modified", httpDate(modified))) }
            let facts = Response(reply: HTTPReply(status: 304, fields: fields), sourceBytes: thumbnail.sourceBytes, format: thumbnail.format)
            if request.isNotModified(tag: tag, modified: thumbnail.sourceModified) { return facts }
            var response = facts
            response.reply = HTTPReply(
                status: 200, fields: [("Content-Type", thumbnail.format.mediaType)] + fields, body: thumbnail.bytes)
            return response
        } catch {
            let statuses = error.statuses
            // The origin's own failures must never be kept by the CDN.
            let cacheControl = statuses.originFailure ? "no-store" : errorCacheControl
            return Response(reply: HTTPReply.text(statuses.http, cacheControl: cacheControl), note: error.description)
        }
    }
}

/// The numeric address of the socket's other end, or `-` when `fd` is not a socket.
func peerAddress(of fd: Int32) -> String {
    var address = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    guard status == 0 else { return "-" }
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
    guard converted != nil else { return "-" }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
