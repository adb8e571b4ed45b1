#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `thumbnail --inetd`: one connection on `io.input` and `io.output`,
/// started by xinetd or systemd (`Accept=yes`). Nothing goes to stderr in
/// this mode (it is the socket too); one line per request goes to the log.
func serveInetd(_ server: ServerInvocation, io: ProcessIO) -> Int32 {
    let connection = HTTPConnection(
        io: io, log: io.openLog(server.logFile), limits: HTTPLimits(server), errorMaxAge: server.errorMaxAge)
    do throws(ThumbnailError) {
        let access = try Access(server.access)
        let storage = server.sources.storage(environment: io.environment)
        try storage.checkAvailable()
        let engine = Engine(storage: storage, limits: server.sources.limits, magick: try ProcessState.oneAtATime().magick)
        return connection.serve(ThumbnailResponder(server: server, access: access, engine: engine), failure: nil)
    } catch {
        return connection.serve(MisconfiguredResponder(error: error), failure: error)
    }
}

/// `--inetd` with options it cannot use: every request on the connection is
/// answered 503, never cached, and logged with the error; then the process
/// exits with the error's status.
func serveMisconfigured(_ error: ThumbnailError, logFile: String?, io: ProcessIO) -> Int32 {
    HTTPConnection(io: io, log: io.openLog(logFile), limits: HTTPLimits(), errorMaxAge: 0)
        .serve(MisconfiguredResponder(error: error), failure: error)
}

/// Answers one checked GET or HEAD, with a note for the log.
protocol Responder {
    func respond(to request: HTTPRequest) -> (HTTPReply, note: String?)
}

/// Answers every request with the configuration error, as the origin's own failure.
struct MisconfiguredResponder: Responder {
    let error: ThumbnailError

    func respond(to request: HTTPRequest) -> (HTTPReply, note: String?) {
        (HTTPReply.text(503, cacheControl: "no-store"), "misconfigured: \(error)")
    }
}

/// The keep-alive loop: read a request, answer it, until the client closes,
/// stays idle, asks to close, sends a request it refuses, or reaches the cap.
struct HTTPConnection {
    let io: ProcessIO
    let log: LogSink
    let limits: HTTPLimits
    let errorMaxAge: Int

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
                _ = send(
                    reply, method: refusal.method ?? "-", target: "-", close: true, started: started,
                    note: refusal.reason, peer: peer)
                return status
            case .request(let request):
                let (reply, note) = responder.respond(to: request)
                let close = !request.keepAlive || count == limits.maxRequests
                guard
                    send(
                        reply, method: request.method, target: request.target, close: close, started: started,
                        note: note, peer: peer),
                    !close
                else { return status }
            }
        }
        return status
    }

    /// Writes the reply and its log line; false when the client is gone.
    private func send(
        _ reply: HTTPReply, method: String, target: String, close: Bool, started: Int, note: String?, peer: String
    ) -> Bool {
        let withBody = method != "HEAD"
        let bytes = reply.serialized(date: io.now(), withBody: withBody, close: close)
        var sent = true
        do throws(ThumbnailError) {
            try writeAll(io.output, bytes, name: "stdout")
        } catch {
            sent = false
        }
        let body = withBody && reply.status != 304 ? reply.body.count : 0
        log.write(
            "\(isoTime(io.now())) \(peer) \(method) \(target) \(reply.status) \(sent ? body : 0) "
                + "\(monotonicMilliseconds() - started)" + (note.map { " " + $0 } ?? "") + (sent ? "" : " client gone"))
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

    func respond(to request: HTTPRequest) -> (HTTPReply, note: String?) {
        let path = PathGrammar.pathPart(of: request.target)
        // A load balancer's health check carries no origin token.
        if path == "/healthz" { return (HTTPReply.text(200, "ok\n", cacheControl: "no-store"), nil) }
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
                return (reply, nil)
            }
            let thumbnail = try engine.thumbnail(for: thumbnailRequest)
            let tag = entityTag(thumbnail.bytes)
            var fields = [("Cache-Control", server.cacheControl), ("ETag", tag)]
            if let modified = thumbnail.sourceModified { fields.append(("Last-Modified", httpDate(modified))) }
            if request.isNotModified(tag: tag, modified: thumbnail.sourceModified) {
                return (HTTPReply(status: 304, fields: fields), nil)
            }
            let body = HTTPReply(
                status: 200, fields: [("Content-Type", thumbnail.format.mediaType)] + fields, body: thumbnail.bytes)
            return (body, nil)
        } catch {
            let statuses = error.statuses
            // The origin's own failures must never be kept by the CDN.
            let cacheControl = statuses.originFailure ? "no-store" : errorCacheControl
            return (HTTPReply.text(statuses.http, cacheControl: cacheControl), error.description)
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
