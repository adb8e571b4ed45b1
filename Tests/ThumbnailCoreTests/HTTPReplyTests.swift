import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The HTTP mode through `run(arguments, io)` in this process, on a fixed
/// clock: the exact status lines and header blocks it writes.
final class HTTPReplyTests {
    let scratch: ScratchDirectory
    let log: String
    /// Tue, 14 Nov 2023 22:13:20 GMT.
    static let now = 1_700_000_000
    static let date = "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"

    init() throws {
        scratch = try ScratchDirectory()
        log = scratch.file("access.log")
        try sh("convert -size 64x40 gradient:red-blue landscape.jpg && touch -d @1600000000 landscape.jpg", directory: scratch.path)
    }

    deinit { scratch.remove() }

    func serve(_ raw: String, _ options: [String] = [], inputStaysOpen: Bool = false) throws -> Outcome {
        let outcome = try runInProcess(
            ["--inetd", "-r", scratch.path, "--log", log] + options, input: Data(raw.utf8), now: Self.now,
            inputStaysOpen: inputStaysOpen)
        #expect(outcome.error.isEmpty, "fd 2 was written: \(outcome.error)")
        return outcome
    }

    func text(_ outcome: Outcome) -> String { String(decoding: outcome.output, as: UTF8.self) }

    func logLines() throws -> [String] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// An error reply's exact bytes: the body is the status line, then `: reason` when there is one.
    static func errorReply(
        _ status: String, reason: String? = nil, cacheControl: String = "public, max-age=60", close: Bool = false,
        extra: String = "", body: Bool = true
    ) -> String {
        let text = status + (reason.map { ": " + $0 } ?? "") + "\n"
        return "HTTP/1.1 \(status)\r\n" + date + "Content-Type: text/plain; charset=utf-8\r\nCache-Control: \(cacheControl)\r\n"
            + extra + "Content-Length: \(text.utf8.count)\r\nX-Content-Type-Options: nosniff\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n" + (body ? text : "")
    }

    static func get(_ target: String, _ fields: String = "", method: String = "GET") -> String {
        "\(method) \(target) HTTP/1.1\r\nHost: origin.test\r\n\(fields)\r\n"
    }

    @Test func getHeadAnd304() throws {
        let path = "/thumbnail/32x32/landscape.jpg"
        let image = try runInProcess(["-r", scratch.path, path]).output
        let tag = entityTag(Array(image))
        let head =
            "HTTP/1.1 200 OK\r\n" + Self.date + "Content-Type: image/jpeg\r\n"
            + "Cache-Control: public, max-age=31536000, immutable\r\nETag: \(tag)\r\n"
            + "Last-Modified: Sun, 13 Sep 2020 12:26:40 GMT\r\nContent-Length: \(image.count)\r\n"
            + "X-Content-Type-Options: nosniff\r\n\r\n"
        let notModified =
            "HTTP/1.1 304 Not Modified\r\n" + Self.date
            + "Cache-Control: public, max-age=31536000, immutable\r\nETag: \(tag)\r\n"
            + "Last-Modified: Sun, 13 Sep 2020 12:26:40 GMT\r\nX-Content-Type-Options: nosniff\r\n\r\n"
        let outcome = try serve(
            Self.get(path) + Self.get(path, method: "HEAD") + Self.get(path, "If-None-Match: \(tag)\r\n")
                + Self.get(path, "If-Modified-Since: Sun, 13 Sep 2020 12:26:40 GMT\r\n"), ["--no-server-timing"])
        #expect(outcome.status == 0)
        #expect(outcome.output == Data(head.utf8) + image + Data((head + notModified + notModified).utf8))
    }

    @Test func ifModifiedSince() throws {
        let path = "/thumbnail/32x32/landscape.jpg"
        // The three date forms a recipient must read, at and after the source's time; then earlier, malformed, and with If-None-Match.
        let conditions = [
            "If-Modified-Since: Sun, 13 Sep 2020 12:26:40 GMT", "If-Modified-Since: Sunday, 13-Sep-20 12:26:40 GMT",
            "If-Modified-Since: Sun Sep 13 12:26:40 2020", "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT",
            "If-Modified-Since: Sun, 13 Sep 2020 12:26:39 GMT", "If-Modified-Since: yesterday",
            "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT\r\nIf-None-Match: \"other\"",
        ]
        let outcome = try serve(conditions.map { Self.get(path, $0 + "\r\n") }.joined())
        let statuses = readResponses(outcome.output).responses.map(\.statusLine)
        #expect(statuses == Array(repeating: "HTTP/1.1 304 Not Modified", count: 4) + Array(repeating: "HTTP/1.1 200 OK", count: 3))
    }

    @Test func redirectAndErrorsAreExact() throws {
        let outcome = try serve(
            Self.get("/thumbnail/32x32/jpg/landscape.jpg") + Self.get("/thumbnail/32x32/missing.jpg")
                + Self.get("/thumbnail/32x32/landscape.jpg", method: "DELETE"))
        let redirect =
            "HTTP/1.1 301 Moved Permanently\r\n" + Self.date + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Cache-Control: public, max-age=60\r\nLocation: /thumbnail/32x32/jpeg/landscape.jpg\r\n"
            + "Content-Length: 22\r\nX-Content-Type-Options: nosniff\r\n\r\n301 Moved Permanently\n"
        #expect(
            text(outcome)
                == redirect + Self.errorReply("404 Not Found", reason: "missing.jpg: No such file or directory")
                + Self.errorReply(
                    "405 Method Not Allowed", reason: "only GET and HEAD are served", close: true,
                    extra: "Allow: GET, HEAD\r\n"))
    }

    /// A request's own failure says why after its status line; an error
    /// about something the path does not name (here the root's directory,
    /// which a file path would reveal) and a token's refusal say nothing more.
    @Test func errorBodiesGiveTheRequestsOwnReason() throws {
        try sh("head -c 300 landscape.jpg > cut.jpg && mkdir folder.jpg", directory: scratch.path)
        let outcome = try serve(
            Self.get("/thumbnail/0x10/landscape.jpg") + Self.get("/thumbnail/32x32/cut.jpg")
                + Self.get("/thumbnail/32x32/folder.jpg") + Self.get("/thumbnail/32x32/caf%C3%A9.jpg")
                + Self.get("/thumbnail/32x32/../etc/passwd"))
        #expect(
            text(outcome)
                == Self.errorReply("400 Bad Request", reason: "0x10: each side is a whole number from 1, without sign or leading zero")
                + Self.errorReply("422 Unprocessable Content", reason: "cut.jpg: Premature end of JPEG file")
                + Self.errorReply("404 Not Found")
                + Self.errorReply("404 Not Found", reason: "café.jpg: No such file or directory")
                + Self.errorReply("403 Forbidden", reason: "../etc/passwd: '..' would leave the storage root"))
        let token = scratch.file("token")
        try "token-0123456789abcdef\n".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o600)
        let refused = try serve(Self.get("/thumbnail/32x32/X-Origin-Token"), ["--origin-token-file", token])
        #expect(text(refused) == Self.errorReply("403 Forbidden"))
    }

    @Test func limitsAreExact() throws {
        let longLine = try serve("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: o\r\n\r\n")
        #expect(text(longLine) == Self.errorReply("414 URI Too Long", reason: "request line too long", close: true))
        let manyFields = try serve(Self.get("/healthz", String(repeating: "X-A: 1\r\n", count: 101)))
        #expect(text(manyFields) == Self.errorReply("431 Request Header Fields Too Large", reason: "header block too large", close: true))
        let slow = try serve("GET /healthz HTTP/1.1\r\nHost: o\r\n", ["--read-timeout", "1"], inputStaysOpen: true)
        #expect(text(slow) == Self.errorReply("408 Request Timeout", reason: "request not read in time", close: true))
    }

    /// A 100 KB first word is no method: refused as soon as it is longer than any.
    @Test func overLongMethodIs501() throws {
        let outcome = try serve(String(repeating: "G", count: 100_000) + " / HTTP/1.1\r\nHost: o\r\n\r\n")
        #expect(text(outcome) == Self.errorReply("501 Not Implemented", reason: "method too long", close: true))
    }

    /// Bytes that are no request line are a 400 (RFC 9112 §3), whatever
    /// they are: 100 runs of 256 random bytes, from a fixed seed.
    @Test func randomBytesAre400() throws {
        var random = SeededRandom(seed: 9112)
        for run in 0..<100 {
            let bytes = (0..<256).map { _ in UInt8.random(in: 0...255, using: &random) }
            let outcome = try runInProcess(["--inetd", "-r", scratch.path, "--log", log], input: Data(bytes), now: Self.now)
            let responses = readResponses(outcome.output).responses
            #expect(responses.count == 1 && responses[0].statusLine == "HTTP/1.1 400 Bad Request", "run \(run)")
            #expect(responses.first?.field("connection") == "close", "run \(run)")
        }
    }

    @Test func laterMinorVersionIsAnsweredAs11() throws {
        let outcome = try serve("GET /healthz HTTP/1.2\r\nHost: o\r\n\r\n" + Self.get("/healthz"))
        #expect(readResponses(outcome.output).responses.map(\.statusLine) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
    }

    @Test(arguments: ["", "o/path", "user@o", "a, b", "o:80x", "[::1", "o o"])
    func malformedHostIs400(host: String) throws {
        let outcome = try serve("GET /healthz HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(text(outcome) == Self.errorReply("400 Bad Request", reason: "malformed Host", close: true))
    }

    @Test(arguments: ["o", "origin.test:8080", "127.0.0.1", "[::1]:80", "xn--bcher-kva.example"])
    func wellFormedHostIsServed(host: String) throws {
        let outcome = try serve("GET /healthz HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(readResponses(outcome.output).responses.map(\.statusLine) == ["HTTP/1.1 200 OK"])
    }

    /// A HEAD refused on the closing path still gets no body.
    @Test func refusedHeadHasNoBody() throws {
        let outcome = try serve("HEAD /healthz HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(text(outcome) == Self.errorReply("400 Bad Request", reason: "Transfer-Encoding on GET or HEAD", close: true, body: false))
    }

    /// Misconfigured, it answers every request 503, never cached, with one
    /// log line per request naming the problem; nothing on stderr.
    @Test(arguments: [
        (["--origin-token-file", "short"], "holds no token", 64),
        (["--origin-token-file", "exposed"], "mode 0644: group or others may read or change it; chmod go-rwx", 64),
        (["--origin-token-header", "X:Token"], "--origin-token-header: 'X:Token' is not an HTTP header name", 64),
        (["--max-side", "abc"], "--max-side: 'abc' is not a whole number from 1", 64),
        (["-r", "/nonexistent"], "/nonexistent: storage root: No such file or directory", 78),
    ] as [([String], String, Int32)])
    func misconfigurationIs503NoStore(options: [String], problem: String, status: Int32) throws {
        try "".write(toFile: scratch.file("short"), atomically: true, encoding: .utf8)
        chmod(scratch.file("short"), 0o600)
        try "token-0123456789abcdef\n".write(toFile: scratch.file("exposed"), atomically: true, encoding: .utf8)
        chmod(scratch.file("exposed"), 0o644)
        let arguments = options.map { ["short", "exposed"].contains($0) ? scratch.file($0) : $0 }
        let outcome = try serve(Self.get("/thumbnail/32x32/landscape.jpg") + Self.get("/healthz"), arguments)
        let reply = Self.errorReply("503 Service Unavailable", cacheControl: "no-store")
        #expect(text(outcome) == reply + reply)
        let lines = try logLines()
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.contains(" 503 ") && $0.contains(problem) }, "\(lines)")
        #expect(outcome.status == status)
    }
}
