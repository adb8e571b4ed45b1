#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP reply. `serialized` is the only writer of response bytes, so
/// every reply carries the same framing fields.
struct HTTPReply {
    var status: Int
    /// Fields besides Date, Content-Length, Connection and X-Content-Type-Options.
    var fields: [(name: String, value: String)] = []
    var body: [UInt8] = []

    /// A short plain-text reply: `200 ok`, or an error's status line as its
    /// body, followed by `reason` when there is one: `400 Bad Request: malformed Host`.
    static func text(_ status: Int, _ body: String? = nil, reason: String? = nil, cacheControl: String) -> HTTPReply {
        HTTPReply(
            status: status,
            fields: [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", cacheControl)],
            body: Array((body ?? "\(status) \(reasonPhrase(status))" + (reason.map { ": " + $0 } ?? "") + "\n").utf8))
    }

    /// The bytes on the wire. HEAD and 304 send no body; HEAD still says
    /// GET's Content-Length (RFC 9110 §9.3.2).
    func serialized(date: Int, withBody: Bool, close: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\nDate: \(httpDate(date))\r\n"
        for field in fields { head += "\(field.name): \(field.value)\r\n" }
        if status != 304 { head += "Content-Length: \(body.count)\r\n" }
        head += "X-Content-Type-Options: nosniff\r\n"
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (withBody && status != 304 ? body : [])
    }
}

func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 200: "OK"
    case 301: "Moved Permanently"
    case 304: "Not Modified"
    case 400: "Bad Request"
    case 403: "Forbidden"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 408: "Request Timeout"
    case 414: "URI Too Long"
    case 415: "Unsupported Media Type"
    case 422: "Unprocessable Content"
    case 431: "Request Header Fields Too Large"
    case 501: "Not Implemented"
    case 502: "Bad Gateway"
    case 503: "Service Unavailable"
    case 505: "HTTP Version Not Supported"
    default: "Internal Server Error"
    }
}

/// A strong entity tag from the bytes themselves (64-bit FNV-1a and the
/// length): the same output always has the same tag, whichever host made it.
func entityTag(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return "\"\(String(bytes.count, radix: 16))-\(hex(hash, digits: 16))\""
}

private func hex(_ value: UInt64, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

/// Whether an If-None-Match value names `tag`: `*`, or a list compared
/// weakly (RFC 9110 §13.1.2).
func noneMatchHits(_ value: String, tag: String) -> Bool {
    value.split(separator: ",").contains { item in
        let candidate = item.trimmingSpaces
        return candidate == "*" || (candidate.hasPrefix("W/") ? candidate.dropFirst(2) : candidate) == tag
    }
}

private let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
private let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/// Broken-down UTC time of `seconds` since the epoch.
private func utc(_ seconds: Int) -> tm {
    var time = time_t(seconds)
    var fields = tm()
    gmtime_r(&time, &fields)
    return fields
}

private func twoDigits(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }

/// IMF-fixdate (RFC 9110 §5.6.7), spelled out here so no locale can change it.
func httpDate(_ seconds: Int) -> String {
    let t = utc(seconds)
    return "\(weekdays[Int(t.tm_wday)]), \(twoDigits(t.tm_mday)) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) "
        + "\(twoDigits(t.tm_hour)):\(twoDigits(t.tm_min)):\(twoDigits(t.tm_sec)) GMT"
}

/// Seconds since the epoch of an HTTP date in any of the three forms a
/// recipient must accept (RFC 9110 §5.6.7): IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime (`Sun Nov  6 08:49:37 1994`); nil for anything else.
func parseHTTPDate(_ text: String) -> Int? {
    let words = text.split(separator: " ")
    var day: Int?, month: Int?, year: Int?, clock: Substring?
    switch words.count {
    case 6 where words[0].hasSuffix(",") && words[5] == "GMT":
        (day, month, year, clock) = (Int(words[1]), months.firstIndex(of: String(words[2])), Int(words[3]), words[4])
    case 4 where words[0].hasSuffix(",") && words[3] == "GMT":
        let parts = words[1].split(separator: "-")
        guard parts.count == 3, let short = Int(parts[2]) else { return nil }
        // Two-digit years (RFC 9110 §5.6.7): taken as the nearest past, within 50 years.
        (day, month, year, clock) = (Int(parts[0]), months.firstIndex(of: String(parts[1])), short < 70 ? 2000 + short : 1900 + short, words[2])
    case 5:
        (day, month, year, clock) = (Int(words[2]), months.firstIndex(of: String(words[1])), Int(words[4]), words[3])
    default:
        return nil
    }
    let hms = clock?.split(separator: ":").map { Int($0) } ?? []
    guard let day, let month, let year, hms.count == 3, let hour = hms[0], let minute = hms[1], let second = hms[2],
        (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
    else { return nil }
    var fields = tm()
    (fields.tm_year, fields.tm_mon, fields.tm_mday) = (Int32(year - 1900), Int32(month), Int32(day))
    (fields.tm_hour, fields.tm_min, fields.tm_sec) = (Int32(hour), Int32(minute), Int32(second))
    return timegm(&fields)
}

/// `2024-05-01T12:00:00Z`, for log lines.
func isoTime(_ seconds: Int) -> String {
    let t = utc(seconds)
    return "\(t.tm_year + 1900)-\(twoDigits(t.tm_mon + 1))-\(twoDigits(t.tm_mday))T"
        + "\(twoDigits(t.tm_hour)):\(twoDigits(t.tm_min)):\(twoDigits(t.tm_sec))Z"
}
