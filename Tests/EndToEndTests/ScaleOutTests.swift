import Foundation
import TestSupport
import Testing

/// Replicas behind a load balancer that checks /readyz, as an ALB target
/// group or a Kubernetes Service runs them: HAProxy in front of three
/// `thumbnail --listen` processes of the release build, wrk the clients,
/// over a fixed set of thumbnails of a local root. A rolling restart, a
/// replica killed and a replica added, each under load. Processes, not
/// containers: the image's start and its user are ImageTests' to check,
/// and three or four containers would cost this suite's time on a two-core
/// box; what is tested here is how the server drains, answers readiness and
/// comes back.
@Suite(.serialized)
final class ScaleOutTests {
    let scratch: ScratchDirectory
    let binary: String
    let balancer: Balancer
    var replicas: [String: ListeningServer] = [:]

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        let build = try runProcess("/usr/bin/make", ["--no-print-directory", "-C", packageDirectory, "build"], seconds: 900)
        try #require(build.status == 0, "make build: \(build.error)")
        binary = try makeVariable("RELEASE_BIN")
        let ports = try (1...3).map { _ in try freePort() }
        balancer = try Balancer(replicaPorts: ports, in: scratch)
        for (index, port) in ports.enumerated() { try start("r\(index + 1)", port: port) }
        for name in replicas.keys { try balancer.waitUntilUp(name) }
    }

    deinit {
        balancer.stop()
        for replica in replicas.values { replica.stop() }
        scratch.remove()
    }

    /// Starts (or starts again) replica `name` on `port`, with a log of its own each time.
    func start(_ name: String, port: Int) throws {
        let incarnation = (1...).first { !FileManager.default.fileExists(atPath: scratch.file("\(name)-\($0).log")) }!
        replicas[name] = try ListeningServer(
            root: scratch.path, in: scratch, options: ["--shutdown-timeout", "10"], name: "\(name)-\(incarnation)",
            binary: binary, port: port)
    }

    /// The thumbnail requests in every log replica `name` has written.
    func served(by name: String) -> Int {
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []
        return logs.filter { $0.hasPrefix(name + "-") && $0.hasSuffix(".log") }.map { log in
            let text = (try? String(contentsOfFile: scratch.file(log), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("\"GET /thumbnail/") }.count
        }.reduce(0, +)
    }

    /// SIGTERM, its exit within the drain, the same port again, /readyz 200
    /// and the balancer's health check passing; one replica after the other,
    /// under load: not one request fails.
    @Test func aRollingRestartLosesNoRequest() throws {
        let load = try Load(port: balancer.port, seconds: 10, in: scratch)
        usleep(1_000_000)
        let began = Date()
        for name in ["r1", "r2", "r3"] {
            let replica = try #require(replicas[name])
            kill(replica.pid, SIGTERM)
            #expect(replica.exitStatus(within: 10) == 0, "\(name) did not drain and exit 0")
            try start(name, port: replica.port)
            #expect(eventually(within: 5) { (try? statusCode("http://127.0.0.1:\(replica.port)/readyz")) == "200" })
            try balancer.waitUntilUp(name)
        }
        let restarted = Date().timeIntervalSince(began)
        let report = try load.report()
        print("scale-out: rolling restart of 3 replicas in \(String(format: "%.1f", restarted)) s under load: \(report)")
        #expect(restarted < 9, "the restarts outlasted the load: \(restarted) s")
        #expect(report.requests > 0)
        #expect(report.failedResponses == 0 && report.socketErrors == 0, "\(report)")
    }

    /// A replica killed outright, its connection processes too, as a crashed
    /// container is: the balancer sends its requests again to another one. At
    /// most the requests it held could fail, one a wrk connection.
    @Test func aKilledReplicaCostsAtMostTheRequestsItHeld() throws {
        let load = try Load(port: balancer.port, seconds: 8, in: scratch)
        usleep(2_000_000)
        let replica = try #require(replicas["r2"])
        kill(replica.pid, SIGSTOP)
        for process in childProcesses(of: replica.pid) + [replica.pid] { kill(process, SIGKILL) }
        #expect(replica.exitStatus(within: 5) == 128 + SIGKILL)
        let report = try load.report()
        print("scale-out: one of 3 replicas killed under load: \(report)")
        #expect(report.requests > 0)
        #expect(report.failures <= Load.connections, "\(report)")
    }

    /// A fourth replica added to the balancer under load (its runtime API,
    /// as an autoscaler registers a target) takes its share of what follows,
    /// about a quarter; the rates with three and with four are printed.
    @Test func aFourthReplicaTakesAShare() throws {
        let three = try Load(port: balancer.port, seconds: 6, in: scratch).report()
        let load = try Load(port: balancer.port, seconds: 8, in: scratch)
        usleep(2_000_000)
        let port = try freePort()
        try start("r4", port: port)
        let added = try balancer.add("r4", port: port)
        try balancer.waitUntilUp("r4", added)
        let joining = try load.report()
        #expect(joining.failedResponses == 0 && joining.socketErrors == 0, "\(joining)")
        #expect(served(by: "r4") > 0, "the fourth replica served nothing")
        let before = served(by: "r4")
        let four = try Load(port: balancer.port, seconds: 6, in: scratch).report()
        var share = 0.0
        _ = eventually(within: 2) {
            share = Double(served(by: "r4") - before) / Double(max(four.requests, 1))
            return share >= 0.2
        }
        print("scale-out: 3 replicas \(three); 4 replicas \(four); the fourth served \(Int(share * 100))% of them; while it joined \(joining)")
        #expect(four.failedResponses == 0 && four.socketErrors == 0, "\(four)")
        #expect(share > 0.15 && share < 0.35, "the fourth replica's share: \(share)")
    }
}

/// HAProxy on a free loopback port in front of the replicas r1, r2, ...:
/// round robin, a health check of /readyz every quarter of a second, and a
/// request that fails on one replica (refused, reset, no answer, a 503) sent
/// again to another.
final class Balancer {
    let port: Int
    let socket: String
    let daemon: Daemon
    private var stopped = false

    init(replicaPorts: [Int], in scratch: ScratchDirectory) throws {
        port = try freePort()
        socket = scratch.file("haproxy.sock")
        let servers = replicaPorts.enumerated().map { index, port in
            "    server r\(index + 1) 127.0.0.1:\(port) \(Balancer.check)\n"
        }.joined()
        let config = """
            global
                stats socket \(socket) mode 600 level admin
            defaults
                mode http
                timeout connect 1s
                timeout client 30s
                timeout server 30s
                retries 3
                option redispatch 1
                retry-on all-retryable-errors
                option httpchk GET /readyz
            frontend thumbnails
                bind 127.0.0.1:\(port)
                default_backend replicas
            backend replicas
                balance roundrobin

            """ + servers
        let file = try writeFile(config, "haproxy.cfg", in: scratch)
        daemon = try Daemon("/usr/sbin/haproxy", ["-db", "-f", file], output: scratch.file("haproxy.out"))
        let listening = waitUntilListening(port)
        if !listening { stop() }
        try #require(listening, "haproxy did not start: \((try? String(contentsOfFile: scratch.file("haproxy.out"), encoding: .utf8)) ?? "")")
    }

    deinit { stop() }

    static let check = "check inter 250ms fall 1 rise 1"

    func stop() {
        guard !stopped else { return }
        stopped = true
        daemon.stop()
    }

    /// A command to its runtime API, and its answer.
    func ask(_ command: String) throws -> String {
        let client = """
            import socket, sys
            connection = socket.socket(socket.AF_UNIX)
            connection.connect(sys.argv[1])
            connection.sendall(sys.argv[2].encode() + b"\\n")
            print(connection.makefile().read(), end="")
            """
        let outcome = try runProcess("/usr/bin/python3", ["-c", client, socket, command])
        try #require(outcome.status == 0, "haproxy \(command): \(outcome.error)")
        return String(decoding: outcome.output, as: UTF8.self)
    }

    /// Replica `name`'s state as the health checks left it: UP, DOWN, MAINT...
    func state(_ name: String) throws -> String {
        let rows = try ask("show stat").split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = try #require(rows.first?.firstIndex(of: "status"))
        return rows.first { $0.count > header && $0[0] == "replicas" && $0[1] == name }.map { String($0[header]) } ?? "none"
    }

    func waitUntilUp(_ name: String, _ context: String = "") throws {
        var last = ""
        let up = eventually(within: 10) {
            last = (try? state(name)) ?? ""
            return last == "UP"
        }
        try #require(up, "haproxy never saw \(name) up: \(last) \(context)")
    }

    /// A replica added to the backend, checked, and in use once its check
    /// passes; the API's answers.
    func add(_ name: String, port: Int) throws -> String {
        try ["add server replicas/\(name) 127.0.0.1:\(port) \(Balancer.check)", "enable health replicas/\(name)",
             "enable server replicas/\(name)"].map { try ask($0) }.joined()
    }
}

/// wrk against the balancer for `seconds`, in the background: eight
/// connections over the same twelve thumbnail paths again and again.
final class Load {
    static let connections = 8
    static let paths = ["64x64", "100x100", "160x120", "200x200"].flatMap { size in
        ["landscape.jpg", "portrait.png", "tiny.png"].map { "/thumbnail/\(size)/\($0)" }
    }
    let daemon: Daemon
    let output: String
    let seconds: Int
    private var finished = false

    init(port: Int, seconds: Int, in scratch: ScratchDirectory) throws {
        let script = """
            local paths = {\(Load.paths.map { "\"\($0)\"" }.joined(separator: ", "))}
            local next = 0
            request = function()
              next = next % #paths + 1
              return wrk.format("GET", paths[next])
            end
            """
        let name = "wrk-\(UUID().uuidString)"
        let file = try writeFile(script, name + ".lua", in: scratch)
        output = scratch.file(name + ".out")
        self.seconds = seconds
        daemon = try Daemon(
            "/usr/bin/wrk",
            ["-t", "2", "-c", String(Load.connections), "-d", "\(seconds)s", "--timeout", "5s", "-s", file, "http://127.0.0.1:\(port)"],
            output: output)
    }

    deinit {
        if !finished { daemon.stop() }
    }

    /// What wrk reports once it has run its time.
    func report() throws -> LoadReport {
        let status = waitForExit(daemon.pid, seconds: Double(seconds + 15))
        finished = status != nil
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try #require(status == 0, "wrk: \(text)")
        return try LoadReport(text)
    }
}

/// wrk's summary: requests, the rate, non-2xx responses and socket errors.
struct LoadReport: CustomStringConvertible {
    var requests = 0
    var rate = 0.0
    var failedResponses = 0
    var socketErrors = 0
    var failures: Int { failedResponses + socketErrors }

    init(_ text: String) throws {
        let numbers = { (line: Substring) in
            line.split { !$0.isNumber && $0 != "." }.compactMap { Double($0) }
        }
        var found = false
        for line in text.split(separator: "\n") {
            if line.contains(" requests in ") {
                requests = Int(numbers(line).first ?? 0)
                found = true
            } else if line.hasPrefix("Requests/sec:") {
                rate = numbers(line).first ?? 0
            } else if line.contains("Non-2xx or 3xx responses:") {
                failedResponses = Int(numbers(line).last ?? 0)
            } else if line.contains("Socket errors:") {
                socketErrors = Int(numbers(line).reduce(0, +))
            }
        }
        try #require(found, "no summary from wrk: \(text)")
    }

    var description: String {
        "\(requests) requests, \(String(format: "%.0f", rate))/s, \(failedResponses) not 2xx, \(socketErrors) socket errors"
    }
}

/// curl's status code for `url` ("000" without an answer).
func statusCode(_ url: String) throws -> String {
    let outcome = try runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code}", url])
    return String(decoding: outcome.output, as: UTF8.self)
}
