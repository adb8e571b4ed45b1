#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the HTTP mode logs of one request: a line in the format log tools
/// read, `combined` (NCSA, as nginx and Apache write it) or `json`.
struct AccessRecord {
    var time: Int
    var client: String
    /// The request line's parts; nil when it was refused before they could be read.
    var method: String?
    var target: String?
    var version: String?
    var status: Int
    /// Body bytes sent.
    var bytes: Int
    var referer: String?
    var userAgent: String?
    var milliseconds: Int
    /// The render's facts, for a thumbnail.
    var sourceBytes: Int?
    var format: OutputFormat?
    /// Why it failed, or that the client went away.
    var note: String?
    /// What the render cost, for a thumbnail.
    var cost: RenderCost? = nil
}

package enum LogFormat: String, CaseIterable, Sendable {
    /// `client - - [time] "request" status bytes "referer" "user-agent"`, then
    /// as nginx users append `$request_time`: seconds, source bytes, output
    /// format and the note, then the render's milliseconds waiting for a
    /// slot, fetching, decoding, resizing and encoding, its CPU milliseconds
    /// and its peak memory in KiB, `-` for each one missing.
    case combined
    /// One object a line, with the same fields.
    case json

    func line(_ record: AccessRecord) -> String {
        switch self {
        case .combined:
            let request = record.method.map { [$0, record.target ?? "-", record.version ?? "-"].joined(separator: " ") }
            let bare = [escaped(record.client, quoted: false), "-", "-", "[" + commonLogTime(record.time) + "]"]
            let middle = [quoted(request), String(record.status), String(record.bytes)]
            let agents = [quoted(record.referer), quoted(record.userAgent)]
            let facts = [
                seconds(record.milliseconds), record.sourceBytes.map(String.init) ?? "-",
                record.format?.rawValue ?? "-", quoted(record.note),
            ]
            let cost = costFigures(record.cost).map { $0.value ?? "-" }
            return (bare + middle + agents + facts + cost).joined(separator: " ")
        case .json:
            let members: [(String, String)] = [
                ("time", jsonString(isoTime(record.time))), ("client", jsonString(record.client)),
                ("method", jsonString(record.method)), ("target", jsonString(record.target)),
                ("protocol", jsonString(record.version)), ("status", String(record.status)),
                ("bytes", String(record.bytes)), ("referer", jsonString(record.referer)),
                ("user_agent", jsonString(record.userAgent)), ("request_time", seconds(record.milliseconds)),
                ("source_bytes", record.sourceBytes.map(String.init) ?? "null"),
                ("format", jsonString(record.format?.rawValue)), ("note", jsonString(record.note)),
            ] + costFigures(record.cost).map { ($0.name, $0.value ?? "null") }
            return "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        }
    }
}

/// The render's figures, named as the JSON lines name them; nil without a render.
private func costFigures(_ cost: RenderCost?) -> [(name: String, value: String?)] {
    let milliseconds: [(String, (RenderCost) -> Double)] = [
        ("queue_ms", \.queue), ("fetch_ms", \.phases.fetch), ("decode_ms", \.phases.decode),
        ("resize_ms", \.phases.resize), ("encode_ms", \.phases.encode), ("cpu_ms", \.cpu),
    ]
    return milliseconds.map { name, figure in (name, cost.map { tenths(figure($0)) }) }
        + [("peak_rss_kib", cost?.peakKiB.map(String.init))]
}

/// `0.026`: seconds with milliseconds, as nginx's `$request_time`.
private func seconds(_ milliseconds: Int) -> String {
    let rest = String(milliseconds % 1000)
    return "\(milliseconds / 1000)." + String(repeating: "0", count: 3 - rest.count) + rest
}

/// A field in double quotes, `-` when absent, as nginx writes `"-"`.
private func quoted(_ value: String?) -> String { "\"" + escaped(value ?? "-", quoted: true) + "\"" }

/// nginx's escaping of logged values: `"`, `\` and bytes outside printable
/// ASCII as `\xHH`, and outside quotes a space too, so that no request can
/// forge a field or a line.
private func escaped(_ value: String, quoted: Bool) -> String {
    var out = ""
    for byte in value.utf8 {
        let plain = (0x21...0x7e).contains(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
        out += plain || (quoted && byte == 0x20) ? String(UnicodeScalar(byte)) : "\\x" + hexByte(byte)
    }
    return out
}

private func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
}

/// A JSON string, or `null`.
private func jsonString(_ value: String?) -> String {
    guard let value else { return "null" }
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7f:
            out += "\\u00" + hexByte(UInt8(scalar.value))
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/// `01/Dec/2026:18:34:17 +0000`, the common log format's time, in UTC.
private func commonLogTime(_ seconds: Int) -> String {
    var time = time_t(seconds)
    var t = tm()
    gmtime_r(&time, &t)
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(two(t.tm_mday))/\(monthNames[Int(t.tm_mon)])/\(t.tm_year + 1900):"
        + "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) +0000"
}

/// The CDNs' headers that name the client, as `--client-ip-header` takes them.
let clientAddressHeaders = [cloudFrontViewerAddress, "X-Forwarded-For"]
private let cloudFrontViewerAddress = "CloudFront-Viewer-Address"

/// The client's address: the socket's other end, or with `--client-ip-header`
/// what that header of the trusted CDN says: `CloudFront-Viewer-Address`
/// is `address:port`, `X-Forwarded-For` a list whose last entry is the
/// address the CDN saw.
func clientAddress(peer: String, header: String?, in request: HTTPRequest?) -> String {
    guard let header, let value = request?.values(header.lowercased()).last else { return peer }
    let last = value.split(separator: ",").last.map { $0.trimmingSpaces } ?? ""
    guard header.lowercased() == cloudFrontViewerAddress.lowercased() else { return last.isEmpty ? peer : String(last) }
    // The port follows the last colon, IPv6 or not.
    guard let colon = last.lastIndex(of: ":"), colon != last.startIndex else { return peer }
    return String(last[..<colon])
}
