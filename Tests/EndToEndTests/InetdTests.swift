import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// `thumbnail --inetd` fed raw request bytes on stdin, as xinetd would hand
/// it a connection; its stdout is the connection's other direction.
final class InetdTests {
    let scratch: ScratchDirectory
    let log: String

    init() throws {
        scratch = try ScratchDirectory()
        log = scratch.file("access.log")
        try "not an image".write(toFile: scratch.file("text.jpg"), atomically: true, encoding: .utf8)
        try Data([0xff, 0xd8, 0xff, 0xe0] + Array("truncated".utf8)).write(to: URL(fileURLWithPath: scratch.file("broken.jpg")))
        try FileManager.default.createSymbolicLink(atPath: scratch.file("loop.jpg"), withDestinationPath: "loop.jpg")
    }

    deinit { scratch.remove() }

    /// Serves `raw` as one connection, in this process through `run`, or
    /// as a process when it needs an `environment` of its own; fd 2 must
    /// stay silent whatever happens.
    func serve(
        _ raw: String, _ options: [String] = [], environment: [String] = [], heads: Set<Int> = []
    ) throws -> [HTTPResponse] {
        let arguments = ["--inetd", "-r", scratch.path, "--log", log] + options
        let outcome =
            environment.isEmpty
            ? try runInProcess(arguments, input: Data(raw.utf8))
            : try runProcess("/usr/bin/env", environment + [thumbnailBinary] + arguments, input: Data(raw.utf8))
        #expect(outcome.status == 0)
        #expect(outcome.error.isEmpty, "fd 2 was written: \(outcome.error)")
        let (responses, rest) = readResponses(outcome.output, heads: heads)
        #expect(rest.isEmpty, "bytes after the last whole response")
        return responses
    }

    func logLines() throws -> [String] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static let healthz = "GET /healthz HTTP/1.1\r\nHost: origin.test\r\n\r\n"

    /// Every reply has these, whatever its status.
    func expectCommonFields(_ response: HTTPResponse) {
        let date = response.field("date").flatMap(imfFixdate.date(from:))
        #expect(date.map { abs($0.timeIntervalSinceNow) < 30 } == true, "Date: \(response.field("date") ?? "none")")
        #expect(response.field("x-content-type-options") == "nosniff")
        if !response.statusLine.contains(" 304 ") {
            #expect(response.field("content-length") == String(response.body.count))
        }
    }

    /// What every error reply carries: its status, the common fields, a plain-text body.
    func expectErrorReply(_ response: HTTPResponse, _ status: String) {
        #expect(response.statusLine == "HTTP/1.1 " + status)
        expectCommonFields(response)
        #expect(response.field("content-type") == "text/plain; charset=utf-8")
    }

    @Test func thumbnailMatchesTheCommandLine() throws {
        try makeFixtures(in: scratch)
        let path = "/thumbnail/100x100/webp/landscape.jpg"
        let responses = try serve("GET \(path) HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        try #require(responses.count == 1)
        let response = responses[0]
        #expect(response.statusLine == "HTTP/1.1 200 OK")
        expectCommonFields(response)
        #expect(response.field("content-type") == "image/webp")
        #expect(response.field("cache-control") == "public, max-age=31536000, immutable")
        #expect(response.field("etag")?.wholeMatch(of: /"[0-9a-f]+-[0-9a-f]{16}"/) != nil)
        let modified = try FileManager.default.attributesOfItem(atPath: scratch.file("landscape.jpg"))[.modificationDate]
        #expect(response.field("last-modified") == imfFixdate.string(from: modified as! Date))
        #expect(response.field("connection") == nil)
        #expect(response.body == (try thumbnail(["-r", scratch.path, path])).output)
    }

    /// Replies to a request the server understood keep the connection: the
    /// pipelined /healthz after it is served.
    /// The body is the status line, then the reason when the failure is the
    /// request's own (control characters shown `%XX`); the origin's own says nothing more.
    @Test(arguments: [
        ("/thumbnail/100x100/missing.jpg", "404 Not Found", ": missing.jpg: No such file or directory"),
        ("/favicon.ico", "404 Not Found", ": /favicon.ico: not a thumbnail path: it does not start with '/thumbnail/'"),
        ("/thumbnail/0x0/landscape.jpg", "400 Bad Request", ": 0x0: each side is a whole number from 1, without sign or leading zero"),
        ("/thumbnail/10x10/%0d%0aSet-Cookie:%20a=b", "400 Bad Request", ": %0D%0ASet-Cookie: a=b: control character or backslash in path"),
        ("/thumbnail/10x10/../landscape.jpg", "403 Forbidden", ": ../landscape.jpg: '..' would leave the storage root"),
        ("/thumbnail/10x10/text.jpg", "415 Unsupported Media Type", ": text.jpg: not a JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF image"),
        ("/thumbnail/10x10/broken.jpg", "422 Unprocessable Content", ": broken.jpg: truncated or corrupt JPEG header"),
        ("/thumbnail/10x10/loop.jpg", "500 Internal Server Error", ""),
    ])
    func errorsFromTheErrorTable(path: String, status: String, reason: String) throws {
        let responses = try serve("GET \(path) HTTP/1.1\r\nHost: origin.test\r\n\r\n" + Self.healthz)
        try #require(responses.count == 2)
        let error = responses[0]
        expectErrorReply(error, status)
        // The origin's own failures (500) are never kept; the request's are, briefly.
        #expect(error.field("cache-control") == (status.hasPrefix("500") ? "no-store" : "public, max-age=60"))
        #expect(String(decoding: error.body, as: UTF8.self) == status + reason + "\n")
        #expect(error.field("connection") == nil)
        #expect(error.field("set-cookie") == nil)
        #expect(responses[1].statusLine == "HTTP/1.1 200 OK")
        #expect(String(decoding: responses[1].body, as: UTF8.self) == "ok\n")
    }

    @Test func missingEncoderIs503() throws {
        try makeFixtures(in: scratch)
        // Only the JPEG coder can be loaded, so a WebP output has no encoder.
        let coders = try onlyTheJPEGCoder(in: scratch)
        let responses = try serve(
            "GET /thumbnail/10x10/webp/landscape.jpg HTTP/1.1\r\nHost: origin.test\r\n\r\n",
            environment: ["MAGICK_CODER_MODULE_PATH=" + coders])
        try #require(responses.count == 1)
        #expect(responses[0].statusLine == "HTTP/1.1 503 Service Unavailable")
        // The origin's own failure: a CDN must ask again, not keep it.
        #expect(responses[0].field("cache-control") == "no-store")
        expectCommonFields(responses[0])
    }

    /// Refused at the HTTP layer: answered, then the connection closes and
    /// the pipelined /healthz is never served.
    @Test(arguments: [
        ("POST /thumbnail/10x10/landscape.jpg HTTP/1.1\r\nHost: o\r\nContent-Length: 3\r\n\r\nabc", "405 Method Not Allowed"),
        ("DELETE / HTTP/1.1\r\nHost: o\r\n\r\n", "405 Method Not Allowed"),
        ("BREW /pot HTTP/1.1\r\nHost: o\r\n\r\n", "501 Not Implemented"),
        ("GET /healthz HTTP/2.0\r\nHost: o\r\n\r\n", "505 HTTP Version Not Supported"),
        ("GET /healthz HTTP/1.1x\r\nHost: o\r\n\r\n", "400 Bad Request"),
        ("GET /healthz\r\n\r\n", "400 Bad Request"),
        ("GET  /healthz HTTP/1.1\r\nHost: o\r\n\r\n", "400 Bad Request"),
        ("GET * HTTP/1.1\r\nHost: o\r\n\r\n", "400 Bad Request"),
    ])
    func refusalsCloseTheConnection(request: String, status: String) throws {
        try expectRefusal(request, status)
    }

    @Test func limitsAreRefused() throws {
        try expectRefusal("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: o\r\n\r\n", "414 URI Too Long")
        try expectRefusal(
            "\r\n" + String(repeating: "\r\n", count: 4100) + Self.healthz, "414 URI Too Long")
        try expectRefusal(
            "GET /healthz HTTP/1.1\r\nHost: o\r\n" + String(repeating: "X-A: 1\r\n", count: 100) + "\r\n",
            "431 Request Header Fields Too Large")
        try expectRefusal(
            "GET /healthz HTTP/1.1\r\nHost: o\r\nX-A: " + String(repeating: "a", count: 17000) + "\r\n\r\n",
            "431 Request Header Fields Too Large")
        // Just within the limits: served.
        let fields = String(repeating: "X-A: 1\r\n", count: 99)
        let target = "/healthz?" + String(repeating: "a", count: 8150)
        let served = try serve("GET \(target) HTTP/1.1\r\nHost: o\r\n\(fields)\r\n")
        #expect(served.map(\.statusLine) == ["HTTP/1.1 200 OK"])
    }

    func expectRefusal(_ request: String, _ status: String) throws {
        let responses = try serve(request + Self.healthz)
        try #require(responses.count == 1)
        let refusal = responses[0]
        expectErrorReply(refusal, status)
        #expect(refusal.field("connection") == "close")
        #expect(refusal.field("allow") == (status.hasPrefix("405") ? "GET, HEAD" : nil))
        #expect(try logLines().last?.contains("\" \(status.prefix(3)) ") == true)
    }

    /// Request smuggling shapes: every one refused with 400, the connection
    /// closed, and the request hidden after it never served.
    @Test(arguments: [
        "Host: o\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "Host: o\r\nContent-Length: \(InetdTests.healthz.utf8.count)\r\n\r\n",
        "Host: o\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        "Host: o\r\nContent-Length: 0, 0\r\n\r\n",
        "Host: o\r\nContent-Length: +0\r\n\r\n",
        "Host: o\r\nX-A: 1\r\n folded\r\n\r\n",
        "Host: o\r\nX-A: 1\rX-B: 2\r\n\r\n",
        "Host: o\r\nX-A: 1\nX-B: 2\r\n\r\n",
        "Host : o\r\n\r\n",
        "Host: o\r\nX-A\t: 1\r\n\r\n",
        "X-A: 1\r\n\r\n",
        "Host: o\r\nHost: p\r\n\r\n",
        "Host: o\r\nX-A: a\u{0}b\r\n\r\n",
    ])
    func smugglingShapesAreRefused(fields: String) throws {
        let raw = "GET /healthz HTTP/1.1\r\n" + fields + Self.healthz
        let outcome = try runInProcess(["--inetd", "-r", scratch.path, "--log", log], input: Data(raw.utf8))
        #expect(outcome.error.isEmpty)
        let text = String(decoding: outcome.output, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "more than one response")
        #expect(text.contains("Connection: close\r\n"))
        #expect(!text.contains("ok\n"))
        #expect(try logLines().count == 1)
    }

    @Test func headHasTheHeadersOfGetAndNoBody() throws {
        try makeFixtures(in: scratch)
        let path = "/thumbnail/50x50/portrait.png"
        let responses = try serve(
            "GET \(path) HTTP/1.1\r\nHost: o\r\n\r\nHEAD \(path) HTTP/1.1\r\nHost: o\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: o\r\n\r\n",
            heads: [1, 2])
        try #require(responses.count == 3)
        let (get, head) = (responses[0], responses[1])
        #expect(head.statusLine == "HTTP/1.1 200 OK")
        #expect(head.body.isEmpty)
        #expect(head.field("content-length") == String(get.body.count))
        for name in ["content-type", "cache-control", "etag", "last-modified", "x-content-type-options"] {
            #expect(head.field(name) == get.field(name), "\(name)")
        }
        #expect(responses[2].field("content-length") == "3")
        #expect(try logLines()[1].contains(" \"HEAD \(path) HTTP/1.1\" 200 0 "))
    }

    @Test func ifNoneMatchGives304() throws {
        try makeFixtures(in: scratch)
        let request = { (condition: String) in
            "GET /thumbnail/40x40/landscape.jpg HTTP/1.1\r\nHost: o\r\n\(condition)\r\n"
        }
        let first = try serve(request(""))
        let tag = try #require(first.first?.field("etag"))
        let responses = try serve(
            request("If-None-Match: \(tag)\r\n") + request("If-None-Match: \"x\", W/\(tag)\r\n")
                + request("If-None-Match: *\r\n") + request("If-None-Match: \"other\"\r\n"))
        try #require(responses.count == 4)
        for notModified in responses.prefix(3) {
            #expect(notModified.statusLine == "HTTP/1.1 304 Not Modified")
            #expect(notModified.field("etag") == tag)
            #expect(notModified.field("cache-control") == "public, max-age=31536000, immutable")
            #expect(notModified.field("content-length") == nil)
            #expect(notModified.body.isEmpty)
            expectCommonFields(notModified)
        }
        #expect(responses[3].statusLine == "HTTP/1.1 200 OK")
        #expect(responses[3].body == first[0].body)
    }

    @Test(arguments: [
        ("/thumbnail/100x100/jpg/landscape.jpg", "/thumbnail/100x100/jpeg/landscape.jpg"),
        ("/thumbnail/100x100,q80/jpeg/landscape.jpg", "/thumbnail/100x100/jpeg/landscape.jpg"),
        ("/thumbnail/100x100,bgffffff,crop/landscape.jpg", "/thumbnail/100x100,crop/landscape.jpg"),
        ("/thumbnail/100x100/%6Candscape.jpg?x=1", "/thumbnail/100x100/landscape.jpg"),
        ("http://origin.test/thumbnail/100x100/jpg/landscape.jpg", "/thumbnail/100x100/jpeg/landscape.jpg"),
        ("/thumbnail/100x100,crop,c/landscape.jpg", "/thumbnail/100x100,crop/landscape.jpg"),
        ("/thumbnail/100x100,crop,fp50.50/landscape.jpg", "/thumbnail/100x100,crop/landscape.jpg"),
        ("/thumbnail/100x100,smart,crop/landscape.jpg", "/thumbnail/100x100,crop,smart/landscape.jpg"),
        ("/thumbnail/100x100,ne,q70,crop/landscape.jpg", "/thumbnail/100x100,crop,q70,ne/landscape.jpg"),
    ])
    func nonCanonicalSpellingsRedirect(path: String, canonical: String) throws {
        try makeFixtures(in: scratch)
        let responses = try serve("GET \(path) HTTP/1.1\r\nHost: origin.test\r\n\r\nGET \(canonical) HTTP/1.1\r\nHost: o\r\n\r\n")
        try #require(responses.count == 2)
        #expect(responses[0].statusLine == "HTTP/1.1 301 Moved Permanently")
        #expect(responses[0].field("location") == canonical)
        expectCommonFields(responses[0])
        #expect(responses[1].statusLine == "HTTP/1.1 200 OK")
    }

    @Test func canonicalPathWithAQueryOrAsAnAbsoluteURLIsServed() throws {
        try makeFixtures(in: scratch)
        let responses = try serve(
            "GET /thumbnail/30x30/landscape.jpg?v=2 HTTP/1.1\r\nHost: o\r\n\r\n"
                + "GET http://origin.test/thumbnail/30x30/landscape.jpg HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        #expect(responses.map(\.statusLine) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
    }

    @Test func keepAliveEndsAtTheCapOnCloseAndForHTTP10() throws {
        let capped = try serve(String(repeating: Self.healthz, count: 3), ["--max-requests", "2"])
        #expect(capped.map { $0.field("connection") } == [nil, "close"])
        let closed = try serve("GET /healthz HTTP/1.1\r\nHost: o\r\nConnection: keep-alive, Close\r\n\r\n" + Self.healthz)
        #expect(closed.map { $0.field("connection") } == ["close"])
        let old = try serve("GET /healthz HTTP/1.0\r\n\r\n" + Self.healthz)
        #expect(old.map(\.statusLine) == ["HTTP/1.1 200 OK"])
        #expect(old.map { $0.field("connection") } == ["close"])
        let leadingEmptyLine = try serve("\r\n" + Self.healthz)
        #expect(leadingEmptyLine.map(\.statusLine) == ["HTTP/1.1 200 OK"])
    }

    @Test func healthzAnswersWithoutTheEngine() throws {
        let outcome = try runInProcess(["--inetd", "-r", scratch.path, "--log", log], input: Data(Self.healthz.utf8))
        let response = try #require(readResponses(outcome.output).responses.first)
        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.field("cache-control") == "no-store")
        #expect(String(decoding: response.body, as: UTF8.self) == "ok\n")
        // A storage root that does not exist fails the health check, so a load balancer stops sending requests.
        let missing = try runInProcess(["--inetd", "-r", scratch.file("none")], input: Data(Self.healthz.utf8))
        #expect(readResponses(missing.output).responses.map(\.statusLine) == ["HTTP/1.1 503 Service Unavailable"])
    }

    @Test func slowRequestGets408() throws {
        // The shell keeps stdin open, half a request sent, past the deadline.
        let output = scratch.file("out")
        try sh(
            "{ printf 'GET /healthz HTTP/1.1\\r\\nHost: o\\r\\n'; sleep 3; } | '\(thumbnailBinary)' --inetd --read-timeout 1 --log '\(log)' >'\(output)'"
        )
        let responses = readResponses(try Data(contentsOf: URL(fileURLWithPath: output))).responses
        try #require(responses.count == 1)
        #expect(responses[0].statusLine == "HTTP/1.1 408 Request Timeout")
        #expect(responses[0].field("connection") == "close")
        expectCommonFields(responses[0])
        #expect(try logLines().first?.contains(" \"-\" 408 ") == true)
    }

    @Test func idleConnectionClosesSilently() throws {
        // The server must exit after about a second, long before its input ends.
        let script = """
            start=$(date +%s%N)
            { printf 'GET /healthz HTTP/1.1\\r\\nHost: o\\r\\n\\r\\n'; sleep 4; } | {
              '\(thumbnailBinary)' --inetd --idle-timeout 1 --log '\(log)' >/dev/null
              echo $(( ($(date +%s%N) - start) / 1000000 ))
            }
            """
        let elapsed = try #require(Int(try sh(script)))
        #expect(elapsed >= 900 && elapsed < 3000, "served for \(elapsed) ms")
        #expect(try logLines().count == 1)
    }

    @Test func clientGoneMidResponseExitsCleanly() throws {
        try makeFixtures(in: scratch)
        // `head` leaves after 10 bytes of a large PNG; the server meets EPIPE.
        let script = """
            printf 'GET /thumbnail/640x400/png/landscape.jpg HTTP/1.1\\r\\nHost: o\\r\\n\\r\\n' |
              { '\(thumbnailBinary)' --inetd -r '\(scratch.path)' --log '\(log)'; echo "status $?" >&3; } 3>'\(scratch.file("status"))' |
              head -c 10 >/dev/null
            cat '\(scratch.file("status"))'
            """
        #expect(try sh(script) == "status 0")
        #expect(try logLines().first?.contains(" \"client gone\" ") == true)
    }

    @Test func logLinesAreCombinedWithTheRenderFactsAppended() throws {
        try makeFixtures(in: scratch)
        _ = try serve(
            Self.healthz + "GET /thumbnail/10x10/missing.jpg HTTP/1.1\r\nHost: o\r\nUser-Agent: a \"quoted\" \\ agent\r\n\r\n"
                + "GET /thumbnail/10x10/webp/landscape.jpg HTTP/1.1\r\nHost: o\r\nReferer: http://site.test/\r\n\r\n")
        let lines = try logLines()
        try #require(lines.count == 3)
        let time = #"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\]"#
        #expect(lines[0].wholeMatch(of: try Regex(#"- - - "# + time + #" "GET /healthz HTTP/1.1" 200 3 "-" "-" \d+\.\d{3} - - "-""# + noRender)) != nil, "\(lines[0])")
        #expect(lines[1].contains(#" "GET /thumbnail/10x10/missing.jpg HTTP/1.1" 404 54 "-" "a \x22quoted\x22 \x5C agent" "#))
        #expect(lines[1].hasSuffix(#" - - "missing.jpg: No such file or directory""# + noRender))
        let size = try FileManager.default.attributesOfItem(atPath: scratch.file("landscape.jpg"))[.size] as! Int
        #expect(lines[2].contains(#" 200 "#) && lines[2].contains(#" "http://site.test/" "-" "#))
        // Then the render's milliseconds (queue, fetch, decode, resize, encode, CPU) and its peak KiB.
        #expect(lines[2].wholeMatch(of: try Regex(#".* \#(size) webp "-"( \d+\.\d){6} \d+"#)) != nil, "\(lines[2])")
    }

    /// Every JSON line parses with Python's json module and has every field.
    @Test func jsonLogLinesParse() throws {
        try makeFixtures(in: scratch)
        _ = try serve(
            Self.healthz + "GET /thumbnail/10x10/webp/landscape.jpg HTTP/1.1\r\nHost: o\r\nUser-Agent: \"q\" \\ \u{e9}\r\n\r\n"
                + "GET /x HTTP/1.1\r\nHost: o\r\nX-Forwarded-For: 192.0.2.1, 198.51.100.7\r\n\r\n",
            ["--log-format", "json", "--client-ip-header", "X-Forwarded-For"])
        let check = """
            import json, sys
            fields = {"time", "client", "method", "target", "protocol", "status", "bytes", "referer", "user_agent",
                      "request_time", "source_bytes", "format", "note", "queue_ms", "fetch_ms", "decode_ms", "resize_ms",
                      "encode_ms", "cpu_ms", "peak_rss_kib"}
            lines = [json.loads(line) for line in open(sys.argv[1])]
            assert all(set(line) == fields for line in lines), lines
            assert lines[0]["decode_ms"] is None and lines[1]["decode_ms"] > 0 and lines[1]["peak_rss_kib"] > 0, lines
            print(len(lines), lines[1]["user_agent"], lines[1]["format"], lines[1]["status"], lines[2]["client"], lines[2]["status"])
            """
        try check.write(toFile: scratch.file("check.py"), atomically: true, encoding: .utf8)
        #expect(try sh("python3 '\(scratch.file("check.py"))' '\(log)'") == "3 \"q\" \\ \u{e9} webp 200 198.51.100.7 404")
    }

    @Test func withoutALogFileItServesAndStaysSilent() throws {
        for options in [["--log", scratch.file("no/such/dir/log")], []] {
            let outcome = try thumbnail(["--inetd"] + options, input: Data(Self.healthz.utf8))
            #expect(outcome.status == 0)
            #expect(outcome.error.isEmpty)
            #expect(readResponses(outcome.output).responses.map(\.statusLine) == ["HTTP/1.1 200 OK"])
        }
    }

    @Test func badOptionsAnswer503AndWriteNothingToStderr() throws {
        for arguments in [["--inetd", "--frobnicate"], ["--inetd", "source.jpg"], ["--inetd", "--read-timeout", "0"]] {
            let outcome = try thumbnail(arguments + ["--log", log], input: Data(Self.healthz.utf8))
            #expect(outcome.status == 64, "\(arguments)")
            #expect(readResponses(outcome.output).responses.map(\.statusLine) == ["HTTP/1.1 503 Service Unavailable"])
            #expect(outcome.error.isEmpty, "\(arguments)")
        }
        #expect(try logLines().count == 3)
    }

    @Test func errorMaxAgeAndCacheControlAreConfigurable() throws {
        try makeFixtures(in: scratch)
        let responses = try serve(
            "GET /thumbnail/10x10/landscape.jpg HTTP/1.1\r\nHost: o\r\n\r\nGET /nothing HTTP/1.1\r\nHost: o\r\n\r\n",
            ["--cache-control", "public, max-age=600", "--error-max-age", "5"])
        #expect(responses.map { $0.field("cache-control") } == ["public, max-age=600", "public, max-age=5"])
    }
}
