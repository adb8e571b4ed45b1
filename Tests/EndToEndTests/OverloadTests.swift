import Foundation
import TestSupport
import Testing

/// Renders bounded and connections cheap: what a burst, a full server, a
/// killed render and a failed fork get.
final class OverloadTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
    }

    deinit { scratch.remove() }

    func expectOverloaded(_ response: HTTPResponse, _ context: String) {
        #expect(response.statusLine == "HTTP/1.1 503 Service Unavailable", "\(context)")
        #expect(response.field("retry-after") == "1", "\(context)")
        #expect(response.field("cache-control") == "no-store", "\(context)")
    }

    /// 200 clients at once, two renders at a time and no waiting: every one
    /// gets a whole reply, a thumbnail or a 503 to ask again, and /metrics
    /// counts every one.
    @Test func aBurstGetsEveryReplyWholeWithTwoRenders() throws {
        let metricsPort = try freePort()
        let server = try ListeningServer(
            root: scratch.path, in: scratch,
            options: ["--max-renders", "2", "--queue-timeout", "0", "--metrics-listen", "127.0.0.1:\(metricsPort)"])
        let connections = try (0..<200).map { _ in try RawConnection(port: server.port) }
        for (index, connection) in connections.enumerated() {
            connection.send(getRequest("/thumbnail/\(100 + index)x\(100 + index)/landscape.jpg"))
        }
        var statuses: [String: Int] = [:]
        for (index, connection) in connections.enumerated() {
            let responses = connection.responses(1, seconds: 30)
            #expect(responses.count == 1, "client \(index) got no whole reply")
            guard let response = responses.first else { continue }
            statuses[response.statusLine, default: 0] += 1
            if response.statusLine != "HTTP/1.1 200 OK" { expectOverloaded(response, "client \(index)") }
        }
        #expect(statuses["HTTP/1.1 200 OK", default: 0] >= 2, "\(statuses)")
        #expect(statuses["HTTP/1.1 503 Service Unavailable", default: 0] > 0, "\(statuses)")
        #expect(statuses.values.reduce(0, +) == 200)
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        #expect(log.contains(#" 503 24 "-" "-" "#) && log.contains("no render slot free within --queue-timeout 0 s"))
        let counted = scratch.file("counted")
        let script = "curl -sS --max-time 20 http://127.0.0.1:\(metricsPort)/metrics | awk '/^thumbnail_http_requests_total/ { n += $2 } END { print n }' > '\(counted)'"
        #expect(eventually(within: 5) {
            (try? sh(script)) != nil && (try? String(contentsOfFile: counted, encoding: .utf8)) == "200\n"
        }, "requests counted: \((try? String(contentsOfFile: counted, encoding: .utf8)) ?? "none")")
    }

    @Test func pastMaxConnectionsTheServerAnswers503Itself() throws {
        let server = try ListeningServer(root: scratch.path, in: scratch, options: ["--max-connections", "2"])
        let first = try RawConnection(port: server.port)
        let second = try RawConnection(port: server.port)
        #expect(eventually(within: 5) { server.children.count == 2 })
        let third = try RawConnection(port: server.port)
        third.send(getRequest("/thumbnail/20x20/landscape.jpg"))
        let refused = third.responses(1)
        try #require(refused.count == 1)
        expectOverloaded(refused[0], "third connection")
        #expect(refused[0].field("connection") == "close")
        #expect(third.closes(within: 5))
        _ = try loggedRequests(server.log, atLeast: 1)
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        #expect(log.hasSuffix(#" "-" 503 24 "-" "-" 0.000 - - "2 connections already: --max-connections""# + noRender + "\n"), "\(log)")
        second.send(healthzRequest)
        #expect(second.responses(1).map(\.statusLine) == ["HTTP/1.1 200 OK"])
        _ = first
    }

    /// A render killed mid-way: its client sees the connection close, the
    /// server says so and goes on, and the render's slot is free again.
    @Test func aKilledRenderEndsItsConnectionOnly() throws {
        try sh("convert -size 3000x2000 gradient:red-blue -attenuate 0.3 +noise Gaussian big.png", directory: scratch.path)
        let slots = scratch.file("slots")
        try makeServerFile(slots)
        let server = try ListeningServer(
            root: scratch.path, in: scratch,
            options: ["--max-renders", "1", "--queue-timeout", "3", "--render-slots", slots])
        let victim = try RawConnection(port: server.port)
        victim.send(getRequest("/thumbnail/300x300/big.png"))
        let holder = try #require(slotHolder(slots, within: 10), "no render took the slot")
        kill(holder, SIGKILL)
        #expect(victim.closes(within: 5))
        #expect(victim.responses(1, seconds: 0).isEmpty, "a killed render sent a whole reply")
        #expect(
            eventually(within: 5) { server.events.contains { $0.hasSuffix(": killed by signal 9 (Killed)") } },
            "\(server.events)")
        let next = try sh(
            "curl -sS --max-time 20 -o /dev/null -w '%{http_code}' http://127.0.0.1:\(server.port)/thumbnail/30x30/big.png")
        #expect(next == "200")
    }

    /// Forking fails in a cgroup whose pids.max the server has reached:
    /// the server answers 503 itself and logs why.
    @Test func aFailedForkIsAnswered503() throws {
        let hierarchy = "/sys/fs/cgroup/pids"
        let group = hierarchy + "/thumbnail-test-\(UUID().uuidString)"
        try #require(mkdir(group, 0o755) == 0, "no pids cgroup to create here (needs root and cgroup v1's pids)")
        defer { rmdir(group) }
        let server = try ListeningServer(root: scratch.path, in: scratch)
        try "1".write(toFile: group + "/pids.max", atomically: false, encoding: .utf8)
        try "\(server.pid)".write(toFile: group + "/cgroup.procs", atomically: false, encoding: .utf8)
        let connection = try RawConnection(port: server.port)
        connection.send(healthzRequest)
        let responses = connection.responses(1)
        try "\(server.pid)".write(toFile: hierarchy + "/cgroup.procs", atomically: false, encoding: .utf8)
        try #require(responses.count == 1)
        expectOverloaded(responses[0], "fork failed")
        _ = try loggedRequests(server.log, atLeast: 1)
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        #expect(log.hasSuffix(#" 503 24 "-" "-" 0.000 - - "fork: Resource temporarily unavailable""# + noRender + "\n"), "\(log)")
    }
}

/// The seven render figures a log line ends with, for a request that rendered nothing.
let noRender = " - - - - - - -"

/// The process holding the write lock on byte 0 of `file`, once one does, within `seconds`.
func slotHolder(_ file: String, within seconds: Double) -> pid_t? {
    let fd = open(file, O_RDWR)
    defer { close(fd) }
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 1
        if fcntl(fd, F_GETLK, &lock) == 0, lock.l_type != Int16(F_UNLCK) { return lock.l_pid }
        usleep(1000)
    } while Date() < deadline
    return nil
}

/// `--inetd` processes share their render slots through a lock file.
final class InetdRenderSlotTests {
    let scratch: ScratchDirectory
    let slots: String
    let log: String

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        slots = scratch.file("slots")
        log = scratch.file("origin.log")
        try Data().write(to: URL(fileURLWithPath: slots))
    }

    deinit { scratch.remove() }

    func serve(_ path: String) throws -> HTTPResponse? {
        let outcome = try thumbnail(
            ["--inetd", "-r", scratch.path, "--log", log, "--render-slots", slots, "--max-renders", "1", "--queue-timeout", "1"],
            input: Data(getRequest(path).utf8))
        return readResponses(outcome.output).responses.first
    }

    @Test func aRenderWaitsForTheSlotAnotherProcessHolds() throws {
        let fd = open(slots, O_RDWR)
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_len = 1
        try #require(fcntl(fd, F_SETLK, &lock) == 0)
        let started = Date()
        let waited = try serve("/thumbnail/20x20/landscape.jpg")
        #expect(Date().timeIntervalSince(started) >= 1)
        #expect(waited?.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(waited?.field("retry-after") == "1")
        #expect(waited?.field("cache-control") == "no-store")
        // A health check never waits for a slot.
        #expect(try serve("/healthz")?.statusLine == "HTTP/1.1 200 OK")
        lock.l_type = Int16(F_UNLCK)
        try #require(fcntl(fd, F_SETLK, &lock) == 0)
        #expect(try serve("/thumbnail/20x20/landscape.jpg")?.statusLine == "HTTP/1.1 200 OK")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasSuffix(#" "no render slot free within --queue-timeout 1 s""# + noRender) == true, "\(lines)")
    }

    @Test func aSlotFileOfAnotherUserIsRefused() throws {
        try #require(getuid() == 0, "only root can give a file to another user")
        chown(slots, 65534, 65534)
        #expect(try serve("/healthz")?.statusLine == "HTTP/1.1 503 Service Unavailable")
        let line = try String(contentsOfFile: log, encoding: .utf8)
        #expect(line.hasSuffix(#" "misconfigured: \#(slots): render slots: not a regular file of user 0""# + noRender + "\n"), "\(line)")
    }
}
