import Foundation
import TestSupport
import Testing

/// The values of `key=` lines in a unit of examples/systemd.
func shippedServiceValues(_ key: String, unit name: String = "thumbnail@.service") throws -> [String] {
    let unit = try String(contentsOfFile: packageDirectory + "/examples/systemd/" + name, encoding: .utf8)
    return unit.split(separator: "\n").filter { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
}

/// The shipped service's command line, with the built binary for
/// /usr/local/bin/thumbnail and `config` for /etc/thumbnail.conf.
func shippedExecStart(config: String, unit: String = "thumbnail@.service") throws -> [String] {
    let line = try #require(try shippedServiceValues("ExecStart", unit: unit).first, "no ExecStart line")
    let words = line.split(separator: " ").map(String.init)
    try #require(words.first == "/usr/local/bin/thumbnail" && words.contains("/etc/thumbnail.conf"), "ExecStart=\(line)")
    return [thumbnailBinary] + words.dropFirst().map { $0 == "/etc/thumbnail.conf" ? config : $0 }
}

/// examples/systemd as systemd itself reads them.
struct SystemdUnitTests {
    @Test func shippedUnitsVerifyClean() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let names = ["thumbnail.socket", "thumbnail@.service", "thumbnail-listen.socket", "thumbnail-listen.service"]
        for name in names {
            let unit = try String(contentsOfFile: packageDirectory + "/examples/systemd/" + name, encoding: .utf8)
            // The binary must exist for verify to pass; this one does.
            try unit.replacingOccurrences(of: "/usr/local/bin/thumbnail", with: thumbnailBinary)
                .write(toFile: scratch.file(name), atomically: true, encoding: .utf8)
        }
        let outcome = try runTool("systemd-analyze", ["verify"] + names.map(scratch.file))
        let output = String(decoding: outcome.output, as: UTF8.self) + outcome.error
        // An unknown key or a bad value is only a message, with status 0.
        #expect(outcome.status == 0 && output.isEmpty, "systemd-analyze verify: \(output)")
    }
}

/// The built binary started as thumbnail@.service starts it (its command
/// line and environment), once per connection, by systemd-socket-activate:
/// systemd's `Accept=yes` without systemd as process 1. curl is the client.
final class SocketActivationTests {
    let scratch: ScratchDirectory
    let port: Int
    let log: String
    let activator: Daemon

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        log = scratch.file("origin.log")
        let config = scratch.file("thumbnail.conf")
        try adapt("thumbnail.conf", ["root": scratch.path, "log": log])
            .write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        port = try freePort()
        activator = try Daemon(
            "/usr/bin/systemd-socket-activate",
            ["--inetd", "--accept", "--listen=127.0.0.1:\(port)"]
                + shippedServiceValues("Environment").map { "--setenv=" + $0 } + shippedExecStart(config: config),
            output: scratch.file("activate.out"))
        let listening = waitUntilListening(port)
        if !listening { activator.stop() }
        let output = (try? String(contentsOfFile: scratch.file("activate.out"), encoding: .utf8)) ?? ""
        try #require(listening, "systemd-socket-activate did not listen: \(output)")
    }

    deinit {
        activator.stop()
        scratch.remove()
    }

    @Test(arguments: ["/thumbnail/100x100/webp/landscape.jpg", "/thumbnail/64x64,crop/png/portrait.png"])
    func curlGetsTheCommandLineBytes(path: String) throws {
        let body = scratch.file("body")
        let status = try sh("curl -sS --max-time 20 -o '\(body)' -w '%{http_code}' 'http://127.0.0.1:\(port)\(path)'")
        #expect(status == "200")
        let cli = try thumbnail(["-r", scratch.path, path])
        #expect(cli.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: body)) == cli.output)
        #expect(try loggedRequests(log, atLeast: 1) == 1)
    }

    @Test func curlReusesTheConnection() throws {
        let base = "http://127.0.0.1:\(port)"
        let connects = try sh(
            "curl -sS --max-time 20 -o /dev/null -o /dev/null -w '%{num_connects}%{http_code} '"
                + " \(base)/thumbnail/20x20/landscape.jpg \(base)/thumbnail/30x30/png/portrait.png")
        // Two requests, one connection: the second made no new one.
        #expect(connects == "1200 0200")
        #expect(try loggedRequests(log, atLeast: 2) == 2)
    }

    @Test func concurrentCurlsAllSucceed() throws {
        try expectConcurrentCurls(port: port, root: scratch.path, in: scratch)
        #expect(try loggedRequests(log, atLeast: 8) == 8)
    }

    /// goaccess, a log tool that knows nginx's format, reads the origin's log
    /// and counts exactly the requests made, every one valid.
    @Test func goaccessReadsTheCombinedLog() throws {
        let base = "http://127.0.0.1:\(port)"
        let paths = ["/thumbnail/20x20/landscape.jpg", "/thumbnail/30x30/png/portrait.png", "/healthz", "/thumbnail/9x9/missing.jpg", "/nothing"]
        for path in paths { try sh("curl -sS --max-time 20 -o /dev/null -A 'agent \"x\"' '\(base)\(path)'") }
        #expect(try loggedRequests(log, atLeast: paths.count) == paths.count)
        try runTool("goaccess", [log, "--log-format=COMBINED", "--no-global-config", "-o", scratch.file("report.json")])
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("report.json"))))
        let general = try #require((report as? [String: Any])?["general"] as? [String: Any])
        #expect(general["total_requests"] as? Int == paths.count)
        #expect(general["valid_requests"] as? Int == paths.count)
        #expect(general["failed_requests"] as? Int == 0)
    }
}
