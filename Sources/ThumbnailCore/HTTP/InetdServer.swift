#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `thumbnail --inetd` (SPEC §4): one connection on stdin/stdout, started by
/// xinetd or systemd (`Accept=yes`). Under inetd fd 2 is the socket too, so
/// it is pointed at /dev/null before anything could be written to it, and
/// failures go to the log, never to stderr.
func runInetd(_ arguments: [String]) -> Int32 {
    let null = open("/dev/null", O_WRONLY)
    if null >= 0 {
        dup2(null, 2)
        if null != 2 { close(null) }
    }
    var settings = Settings()
    let access: Access
    do throws(ThumbnailError) {
        let operands = try settings.apply(arguments: arguments)
        guard operands.isEmpty, settings.output == nil, !settings.explain, !settings.sign else {
            throw ThumbnailError(.usage, "--inetd", "takes no source, -o, --explain or --sign")
        }
        access = try Access(settings: settings)
    } catch {
        AccessLog(path: nil).write("thumbnail: \(error)")
        return error.exitStatus
    }
    var server = InetdServer(settings: settings, access: access)
    return server.serve()
}

/// The keep-alive loop: read a request, answer it, until the client closes,
/// stays idle, asks to close, sends a request it refuses, or reaches the cap.
struct InetdServer {
    let settings: Settings
    let access: Access
    let engine: Engine
    let log: AccessLog
    let peer = peerAddress(of: 0)
    var reader: RequestReader

    init(settings: Settings, access: Access) {
        self.settings = settings
        self.access = access
        engine = Engine(settings: settings)
        log = AccessLog(path: settings.logFile)
        reader = RequestReader(
            fd: 0,
            limits: HTTPLimits(readTimeout: settings.readTimeout, idleTimeout: settings.idleTimeout))
    }

    var errorCacheControl: String { "public, max-age=\(settings.errorMaxAge)" }

    mutating func serve() -> Int32 {
        // A client that stops reading must not hold the process forever.
        var sendTimeout = timeval(tv_sec: settings.readTimeout, tv_usec: 0)
        setsockopt(1, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        for count in 1...settings.maxRequests {
            let next = reader.next()
            // The log's milliseconds count from a whole request head, not from the idle wait before it.
            let started = monotonicMilliseconds()
            switch next {
            case .closed:
                return 0
            case .refused(let refusal):
                var reply = HTTPReply.text(refusal.status, cacheControl: errorCacheControl)
                if refusal.status == 405 { reply.fields.append(("Allow", "GET, HEAD")) }
                _ = send(reply, method: "-", target: "-", close: true, started: started, note: refusal.reason)
                return 0
            case .request(let request):
                let (reply, note) = respond(to: request)
                let close = !request.keepAlive || count == settings.maxRequests
                guard send(reply, method: request.method, target: request.target, close: close, started: started, note: note),
                    !close
                else { return 0 }
            }
        }
        return 0
    }

    /// Writes the reply and its log line; false when the client is gone.
    private func send(
        _ reply: HTTPReply, method: String, target: String, close: Bool, started: Int, note: String?
    ) -> Bool {
        let withBody = method != "HEAD"
        let bytes = reply.serialized(date: time(nil), withBody: withBody, close: close)
        var sent = true
        do throws(ThumbnailError) {
            try writeAll(1, bytes, name: "stdout")
        } catch {
            sent = false
        }
        let body = withBody && reply.status != 304 ? reply.body.count : 0
        log.write(
            "\(isoTime(time(nil))) \(peer) \(method) \(target) \(reply.status) \(sent ? body : 0) "
                + "\(monotonicMilliseconds() - started)" + (note.map { " " + $0 } ?? "") + (sent ? "" : " client gone"))
        return sent
    }

    /// The reply to a checked GET or HEAD, with a note for the log.
    func respond(to request: HTTPRequest) -> (HTTPReply, String?) {
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
            var fields = [("Cache-Control", settings.cacheControl), ("ETag", tag)]
            if let modified = thumbnail.sourceModified { fields.append(("Last-Modified", httpDate(modified))) }
            if request.values("if-none-match").contains(where: { noneMatchHits($0, tag: tag) }) {
                return (HTTPReply(status: 304, fields: fields), nil)
            }
            return (HTTPReply(status: 200, fields: [("Content-Type", thumbnail.format.mediaType)] + fields, body: thumbnail.bytes), nil)
        } catch {
            return (HTTPReply.text(error.httpStatus, cacheControl: errorCacheControl), error.description)
        }
    }
}

/// One line per request, appended to `--log FILE`, or to syslog without one
/// (or when the file cannot be opened, which syslog is then told).
struct AccessLog {
    private let fd: Int32?

    init(path: String?) {
        let opened = path.map { open($0, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) } ?? -1
        let failure = errnoText()
        fd = opened >= 0 ? opened : nil
        guard fd == nil else { return }
        openlog(nil, LOG_PID, LOG_DAEMON)
        if let path { write("thumbnail: \(path): \(failure); logging to syslog") }
    }

    /// Writes `line` in one call, control characters replaced: a request
    /// must not be able to forge log lines.
    func write(_ line: String) {
        let clean = String(decoding: line.utf8.map { $0 < 0x20 || $0 == 0x7f ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
        if let fd {
            _ = try? writeAll(fd, Array((clean + "\n").utf8), name: "log")
        } else {
            clean.withCString { text in withVaList([text]) { vsyslog(LOG_INFO, "%s", $0) } }
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
