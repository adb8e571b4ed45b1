#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP/1.x request head, checked (RFC 9112). Only GET and HEAD without
/// a body get this far: anything else is an `HTTPRefusal`.
struct HTTPRequest {
    var method: String
    /// The request target as sent: visible ASCII only.
    var target: String
    /// 0 or 1, of HTTP/1.x.
    var minorVersion: Int
    /// Field names lower-cased, values with the surrounding spaces trimmed.
    var fields: [(name: String, value: String)]

    /// The values of every field called `name` (lower case).
    func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 always closes.
    var keepAlive: Bool {
        minorVersion == 1
            && !values("connection").contains { value in
                value.split(separator: ",").contains { $0.trimmingSpaces.lowercased() == "close" }
            }
    }
}

/// A request answered with `status` at the HTTP layer, after which the
/// connection closes: its framing cannot be trusted, or it is gone.
struct HTTPRefusal: Error {
    var status: Int
    var reason: String
    /// The method, when the request line got that far: a HEAD's refusal has no body.
    var method: String? = nil
}

/// Limits applied to every request on a connection.
package struct HTTPLimits: Sendable {
    package static let requestLine = 8192
    package static let headerBlock = 16384
    package static let fieldCount = 100
    /// No method is longer: a request line whose first word runs past it is
    /// refused as an unknown method at once, not read to the line limit.
    package static let method = 32
    package static let defaultReadTimeout = 10
    package static let defaultIdleTimeout = 15
    package static let defaultMaxRequests = 100

    /// Seconds from a request's first byte to its last.
    var readTimeout = defaultReadTimeout
    /// Seconds to wait for the first byte of the next request.
    var idleTimeout = defaultIdleTimeout
    /// Requests on one connection.
    var maxRequests = defaultMaxRequests
}

/// What `RequestReader.next` found.
enum ReadResult {
    case request(HTTPRequest)
    case refused(HTTPRefusal)
    /// The client closed, or stayed idle: close without a reply.
    case closed
}

private let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

/// Reads request heads one after another from a file descriptor, keeping
/// the bytes of a pipelined next request for the next call.
struct RequestReader {
    let fd: Int32
    let limits: HTTPLimits
    private var buffer: [UInt8] = []
    /// Requests read so far.
    private var count = 0

    init(fd: Int32, limits: HTTPLimits) {
        self.fd = fd
        self.limits = limits
    }

    /// The next request head, a refusal, or the end of the connection.
    mutating func next() -> ReadResult {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = 0, scanned = 0, headerBytes = 0
        var deadline = buffer.isEmpty ? nil : monotonicMilliseconds() + limits.readTimeout * 1000
        let idleDeadline = monotonicMilliseconds() + limits.idleTimeout * 1000
        while true {
            if let end = buffer[scanned...].firstIndex(of: lf) {
                let line = buffer[lineStart..<end]
                scanned = end + 1
                lineStart = end + 1
                guard line.last == cr else { return .refused(HTTPRefusal(status: 400, reason: "bare LF")) }
                let content = line.dropLast()
                guard !content.contains(cr) else { return .refused(HTTPRefusal(status: 400, reason: "bare CR")) }
                if lines.isEmpty {
                    // Empty lines before a request line are allowed (RFC 9112 §2.2), within its limit.
                    guard end < HTTPLimits.requestLine else {
                        return .refused(HTTPRefusal(status: 414, reason: "request line too long"))
                    }
                    if !content.isEmpty { lines.append(content) }
                    continue
                }
                if content.isEmpty {
                    // The slices keep their own copy; what follows stays for the next request.
                    buffer.removeFirst(end + 1)
                    do throws(HTTPRefusal) {
                        let request = try HTTPRequest(head: lines)
                        count += 1
                        return .request(request)
                    } catch {
                        return .refused(error)
                    }
                }
                headerBytes += line.count + 1
                guard headerBytes <= HTTPLimits.headerBlock, lines.count <= HTTPLimits.fieldCount else {
                    return .refused(HTTPRefusal(status: 431, reason: "header block too large"))
                }
                lines.append(content)
                continue
            }
            scanned = buffer.count
            if lines.isEmpty {
                // The first word must be a method (RFC 9112 §3): bytes that are no token are
                // no request line (400); a token longer than any method is an unknown one (501).
                let line = buffer[lineStart...].drop { $0 == cr || $0 == lf }
                let method = line.prefix(HTTPLimits.method + 1).prefix { $0 != UInt8(ascii: " ") }
                if !method.allSatisfy(isTokenByte) {
                    return .refused(HTTPRefusal(status: 400, reason: "malformed request line"))
                }
                if method.count > HTTPLimits.method {
                    return .refused(HTTPRefusal(status: 501, reason: "method too long"))
                }
                if buffer.count > HTTPLimits.requestLine {
                    return .refused(HTTPRefusal(status: 414, reason: "request line too long"))
                }
            }
            if headerBytes + buffer.count - lineStart > HTTPLimits.headerBlock {
                return .refused(HTTPRefusal(status: 431, reason: "header block too large"))
            }
            switch readMore(until: deadline ?? idleDeadline, betweenRequests: deadline == nil && count > 0) {
            case .timedOut:
                return deadline == nil ? .closed : .refused(HTTPRefusal(status: 408, reason: "request not read in time"))
            case .endOfInput:
                return buffer.isEmpty ? .closed : .refused(HTTPRefusal(status: 400, reason: "incomplete request"))
            case .read:
                if deadline == nil { deadline = monotonicMilliseconds() + limits.readTimeout * 1000 }
            }
        }
    }

    private enum ReadOutcome { case read, endOfInput, timedOut }

    /// Appends what `fd` has to the buffer, waiting at most until `deadline`.
    /// A process told to finish still reads the first request of its
    /// connection, and a next one already sent, but waits for no other.
    private mutating func readMore(until deadline: Int, betweenRequests: Bool) -> ReadOutcome {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let remaining = deadline - monotonicMilliseconds()
            guard remaining > 0 else { return .timedOut }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready =
                betweenRequests && Drain.isRequested
                ? poll(&poller, 1, 0) : Drain.poll(&poller, timeout: Int32(min(remaining, Int(Int32.max))))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { return .timedOut }
            if ready < 0 { return .endOfInput }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            // A reset or any other read error ends the connection like EOF.
            guard count > 0 else { return .endOfInput }
            buffer += chunk[..<count]
            return .read
        }
    }
}

/// Milliseconds on the monotonic clock, for deadlines.
func monotonicMilliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
}

/// RFC 9110 `tchar`: what methods and header names are made of.
func isTokenByte(_ byte: UInt8) -> Bool {
    isASCIIAlphanumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
}

private let knownMethods: Set<String> = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]

extension HTTPRequest {
    /// Checks the head's lines (without CRLF): the request line, then fields.
    /// Every framing doubt is refused rather than guessed: the bytes after a
    /// doubtful request could be read as a smuggled one.
    init(head: [ArraySlice<UInt8>]) throws(HTTPRefusal) {
        let parts = head[0].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        var parsedMethod: String? = nil
        func refuse(_ status: Int, _ reason: String) -> HTTPRefusal {
            HTTPRefusal(status: status, reason: reason, method: parsedMethod)
        }
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte), !parts[1].isEmpty,
            parts[1].allSatisfy({ (0x21...0x7e).contains($0) })
        else { throw refuse(400, "malformed request line") }
        parsedMethod = String(decoding: parts[0], as: UTF8.self)
        let version = Array(parts[2])
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)), version[6] == UInt8(ascii: "."),
            [version[5], version[7]].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { throw refuse(400, "malformed HTTP version") }
        // A later 1.x minor version is answered as 1.1 (RFC 9112 §2.3); another major is not spoken.
        guard version[5] == UInt8(ascii: "1") else { throw refuse(505, "only HTTP/1.x is spoken") }
        method = parsedMethod!
        target = String(decoding: parts[1], as: UTF8.self)
        minorVersion = min(1, Int(version[7] - UInt8(ascii: "0")))
        guard method == "GET" || method == "HEAD" else {
            throw knownMethods.contains(method) ? refuse(405, "only GET and HEAD are served") : refuse(501, "unknown method")
        }
        guard target.hasPrefix("/") || target.hasPrefix("http://") || target.hasPrefix("https://") else {
            throw refuse(400, "request target is not a path or an absolute URL")
        }
        fields = []
        for line in head.dropFirst() {
            guard let first = line.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else {
                throw refuse(400, "obs-fold")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), line[..<colon].allSatisfy(isTokenByte),
                colon > line.startIndex
            else { throw refuse(400, "malformed field name") }
            let value = line[(colon + 1)...]
            guard value.allSatisfy({ $0 == 0x09 || $0 >= 0x20 && $0 != 0x7f }) else {
                throw refuse(400, "control character in a field value")
            }
            fields.append(
                (
                    String(decoding: line[..<colon], as: UTF8.self).lowercased(),
                    String(decoding: value, as: UTF8.self)[...].trimmingSpaces.description
                ))
        }
        let hosts = values("host")
        guard hosts.count == 1 || (minorVersion == 0 && hosts.isEmpty) else {
            throw refuse(400, "missing or repeated Host")
        }
        if let host = hosts.first, !isHostValue(host) { throw refuse(400, "malformed Host") }
        guard values("transfer-encoding").isEmpty else { throw refuse(400, "Transfer-Encoding on GET or HEAD") }
        let lengths = values("content-length")
        guard lengths.isEmpty || lengths == ["0"] else {
            throw refuse(400, lengths.count == 1 ? "a body on GET or HEAD" : "repeated Content-Length")
        }
    }
}

/// RFC 9112 §3.2: `uri-host [ ":" port ]`, the host a registered name (or
/// IPv4 address) or a bracketed IP literal: no userinfo, path or list.
func isHostValue(_ value: String) -> Bool {
    let bytes = Array(value.utf8)
    var hostEnd: Int
    if bytes.first == UInt8(ascii: "[") {
        guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1,
            bytes[1..<close].allSatisfy({ isHexDigitByte($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
        else { return false }
        hostEnd = close + 1
    } else {
        hostEnd = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
        guard hostEnd > 0, bytes[..<hostEnd].allSatisfy(isRegNameByte) else { return false }
    }
    guard hostEnd < bytes.count else { return true }
    return bytes[hostEnd] == UInt8(ascii: ":")
        && bytes[(hostEnd + 1)...].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
}

/// reg-name's bytes (RFC 3986): unreserved, `%` of pct-encoded, and the
/// sub-delims but for `,`, which would make the value a list.
private func isRegNameByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        true
    default: "-._~%!$&'()*+;=".utf8.contains(byte)
    }
}

private func isHexDigitByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
        UInt8(ascii: "A")...UInt8(ascii: "F"):
        true
    default: false
    }
}

extension HTTPRequest {
    /// Whether a 304 answers it: `If-None-Match` naming `tag`, or without
    /// one, `If-Modified-Since` no earlier than `modified` (RFC 9110 §13.1.3:
    /// the latter is ignored when the former is present, or unparsable).
    func isNotModified(tag: String, modified: Int?) -> Bool {
        let noneMatch = values("if-none-match")
        if !noneMatch.isEmpty { return noneMatch.contains { noneMatchHits($0, tag: tag) } }
        guard let modified, let since = values("if-modified-since").first.flatMap(parseHTTPDate) else { return false }
        return modified <= since
    }
}
