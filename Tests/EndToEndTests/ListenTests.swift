import Foundation
import TestSupport
import Testing

/// The built binary as `thumbnail --listen` on a loopback port: curl and
/// raw sockets as clients, signals as an orchestrator sends them.
final class ListenTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
    }

    deinit { scratch.remove() }

    func start(_ options: [String] = []) throws -> ListeningServer {
        try ListeningServer(root: scratch.path, in: scratch, options: options)
    }

    @Test(arguments: ["/thumbnail/100x100/webp/landscape.jpg", "/thumbnail/64x64,crop/png/portrait.png"])
    func curlGetsTheCommandLineBytes(path: String) throws {
        let server = try start()
        let body = scratch.file("body")
        let status = try sh("curl -sS --max-time 20 -o '\(body)' -w '%{http_code}' 'http://127.0.0.1:\(server.port)\(path)'")
        #expect(status == "200")
        #expect(try Data(contentsOf: URL(fileURLWithPath: body)) == (try thumbnail(["-r", scratch.path, path])).output)
        #expect(try loggedRequests(server.log, atLeast: 1) == 1)
    }

    @Test func curlReusesTheConnectionAndConcurrentCurlsSucceed() throws {
        let server = try start()
        let base = "http://127.0.0.1:\(server.port)"
        let connects = try sh(
            "curl -sS --max-time 20 -o /dev/null -o /dev/null -w '%{num_connects}%{http_code} '"
                + " \(base)/thumbnail/20x20/landscape.jpg \(base)/thumbnail/30x30/png/portrait.png")
        #expect(connects == "1200 0200")
        try expectConcurrentCurls(port: server.port, root: scratch.path, in: scratch)
        #expect(try loggedRequests(server.log, atLeast: 10) == 10)
    }

    /// The parent renders nothing and runs one thread; each connection is
    /// a process of its own, never root.
    @Test func eachConnectionIsAProcessOfItsOwn() throws {
        let server = try start()
        let first = try RawConnection(port: server.port)
        let second = try RawConnection(port: server.port)
        for connection in [first, second] {
            connection.send(getRequest("/thumbnail/50x50/landscape.jpg"))
            #expect(connection.responses(1).map(\.statusLine) == ["HTTP/1.1 200 OK"])
        }
        #expect(eventually(within: 5) { server.children.count == 2 }, "children: \(server.children)")
        let status = try String(contentsOfFile: "/proc/\(server.pid)/status", encoding: .utf8)
        #expect(status.contains("\nThreads:\t1\n"), "the parent runs more than one thread")
        for pid in [server.pid] + server.children {
            let uid = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8).split(separator: "\n")
                .first { $0.hasPrefix("Uid:") }
            #expect(uid == "Uid:\t\(serverUID)\t\(serverUID)\t\(serverUID)\t\(serverUID)", "process \(pid)")
        }
        #expect(server.events.first?.hasPrefix("thumbnail: listening on 127.0.0.1:\(server.port) as ") == true, "\(server.events)")
    }

    /// A connection process serves connections one after another, each
    /// connection a request here, with no fork between them.
    @Test func sequentialConnectionsAreServedByOneProcess() throws {
        let server = try start()
        var processes: [[pid_t]] = []
        for size in 20..<25 {
            #expect(try status(server, "/thumbnail/\(size)x\(size)/landscape.jpg") == "200")
            // Once it says it waits, the next connection is handed to it.
            #expect(eventually(within: 5) { server.waiting.count == 1 }, "\(server.children)")
            processes.append(server.children)
        }
        #expect(Set(processes).count == 1 && processes[0].count == 1, "connection processes: \(processes)")
    }

    /// `--max-requests` bounds what one process answers: past it, the next
    /// connection gets a process of its own.
    @Test func aProcessTakesNoConnectionOnceItAnsweredMaxRequests() throws {
        let server = try start(["--max-requests", "2"])
        var processes: [[pid_t]] = []
        for size in 20..<23 {
            #expect(try status(server, "/thumbnail/\(size)x\(size)/landscape.jpg") == "200")
            // After its second request the process ends; after its first it waits for the next connection.
            #expect(eventually(within: 5) { size == 21 ? server.children.isEmpty : server.waiting.count == 1 }, "\(server.children)")
            processes.append(server.children)
        }
        #expect(processes[0].count == 1 && processes[1].isEmpty && processes[2].count == 1, "\(processes)")
        #expect(processes[0] != processes[2], "\(processes)")
    }

    /// No more processes wait than twice the renders that may run at once.
    @Test func atMostTwiceMaxRendersProcessesWait() throws {
        let server = try start(["--max-renders", "1"])
        let connections = try (0..<4).map { _ in try RawConnection(port: server.port) }
        #expect(eventually(within: 5) { server.children.count == 4 }, "\(server.children)")
        for connection in connections { connection.send("GET /healthz HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n") }
        for connection in connections { #expect(connection.responses(1).map(\.statusLine) == ["HTTP/1.1 200 OK"]) }
        #expect(eventually(within: 5) { server.children.count == 2 }, "\(server.children)")
        #expect(server.waiting.count == 2)
    }

    /// A waiting process killed is forgotten: the next connection is served.
    @Test func aProcessKilledWhileWaitingIsReplacedWithoutAFailedRequest() throws {
        let server = try start()
        #expect(try status(server, "/healthz") == "200")
        try #require(eventually(within: 5) { server.waiting.count == 1 }, "\(server.children)")
        let killed = server.children[0]
        kill(killed, SIGKILL)
        #expect(processEnds(killed, within: 5))
        #expect(try status(server, "/thumbnail/20x20/landscape.jpg") == "200")
        #expect(
            eventually(within: 5) { server.events.contains("thumbnail: connection process \(killed): killed by signal 9 (Killed)") },
            "\(server.events)")
        #expect(eventually(within: 5) { server.children.count == 1 && !server.children.contains(killed) })
    }

    /// SIGTERM closes the waiting processes at once: the server stops without waiting for any timeout.
    @Test func sigtermWithWaitingProcessesExitsPromptly() throws {
        let server = try start()
        let first = try RawConnection(port: server.port)
        let second = try RawConnection(port: server.port)
        for connection in [first, second] { connection.send("GET /healthz HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n") }
        for connection in [first, second] { #expect(connection.closes(within: 5)) }
        try #require(eventually(within: 5) { server.waiting.count == 2 }, "\(server.children)")
        let processes = server.children
        kill(server.pid, SIGTERM)
        #expect(server.exitStatus(within: 2) == 0)
        for process in processes { #expect(processEnds(process, within: 2), "process \(process)") }
    }

    func status(_ server: ListeningServer, _ path: String) throws -> String {
        try sh("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' 'http://127.0.0.1:\(server.port)\(path)'")
    }

    @Test func sigtermAnswersEveryRequestInFlight() throws {
        let server = try start(["--queue-timeout", "60"])
        let connections = try (0..<50).map { _ in try RawConnection(port: server.port) }
        for (index, connection) in connections.enumerated() {
            connection.send(getRequest("/thumbnail/\(100 + index)x\(100 + index)/landscape.jpg"))
        }
        kill(server.pid, SIGTERM)
        for (index, connection) in connections.enumerated() {
            #expect(connection.responses(1, seconds: 30).map(\.statusLine) == ["HTTP/1.1 200 OK"], "request \(index)")
            #expect(connection.closes(within: 5), "connection \(index) stays open")
        }
        #expect(server.exitStatus(within: 10) == 0)
        #expect(try loggedRequests(server.log, atLeast: 50) == 50)
    }

    /// On SIGTERM an idle kept-alive connection closes at once; a request
    /// begun is answered, `/readyz` with 503, and the connection closed.
    @Test func sigtermClosesIdleConnectionsAndReadyzTurns503() throws {
        let server = try start()
        let idle = try RawConnection(port: server.port)
        idle.send(getRequest("/readyz"))
        let ready = idle.responses(1)
        #expect(ready.map(\.statusLine) == ["HTTP/1.1 200 OK"])
        #expect(ready.first.map { String(decoding: $0.body, as: UTF8.self) } == "ready\n")
        let begun = try RawConnection(port: server.port)
        begun.send("GET /readyz HTTP/1.1\r\n")
        #expect(eventually(within: 5) { server.children.count == 2 })
        kill(server.pid, SIGTERM)
        #expect(idle.closes(within: 3), "an idle connection stays open while draining")
        // The parent signals its processes one after another, and logs once all are: the idle
        // one may close before the other has its signal, which a busy machine showed.
        #expect(eventually(within: 5) { server.events.contains { $0.hasSuffix(": finishing 2 connections") } }, "\(server.events)")
        begun.send("Host: o\r\n\r\n")
        let draining = begun.responses(1)
        #expect(draining.map(\.statusLine) == ["HTTP/1.1 503 Service Unavailable"])
        #expect(draining.first?.field("connection") == "close")
        #expect(draining.first?.field("cache-control") == "no-store")
        #expect(begun.closes(within: 3))
        #expect(server.exitStatus(within: 5) == 0)
        #expect(server.events.last == "thumbnail: stopped", "\(server.events)")
    }

    @Test func parentKilledLeavesNoConnectionServing() throws {
        let server = try start()
        let connection = try RawConnection(port: server.port)
        connection.send(healthzRequest)
        #expect(connection.responses(1).count == 1)
        try #require(eventually(within: 5) { server.children.count == 1 })
        let children = server.children
        kill(server.pid, SIGKILL)
        #expect(connection.closes(within: 5), "the connection outlived the parent")
        #expect(processEnds(children[0], within: 5), "connection process \(children[0]) outlived the parent")
    }

    @Test func silentAndSlowClientsAreTimedOut() throws {
        let server = try start(["--idle-timeout", "1", "--read-timeout", "1"])
        let silent = try RawConnection(port: server.port)
        let slow = try RawConnection(port: server.port)
        slow.send("GET /healthz HTTP/1.1\r\n")
        let other = try sh("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' http://127.0.0.1:\(server.port)/healthz")
        #expect(other == "200", "one client's silence held up another")
        let refused = slow.responses(1, seconds: 5)
        #expect(refused.map(\.statusLine) == ["HTTP/1.1 408 Request Timeout"])
        #expect(refused.first?.field("connection") == "close")
        #expect(silent.closes(within: 5))
        #expect(silent.bytes.isEmpty, "a connection that sent nothing got a reply")
    }

    @Test func badAddressesFailAtStartWithOneLine() throws {
        let taken = try start()
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["--listen", "127.0.0.1:\(taken.port)"], 78, "--listen 127.0.0.1:\(taken.port): Address already in use"),
            (["--listen", "192.0.2.1:8080"], 78, "--listen 192.0.2.1:8080: Cannot assign requested address"),
            (["--listen", "256.0.0.1:8080"], 64, "--listen: '256.0.0.1:8080': not a numeric IPv4 address; an IPv6 one goes in brackets"),
            (["--listen", "::1:8080"], 64, "--listen: '::1:8080': not a numeric IPv4 address; an IPv6 one goes in brackets"),
            (["--listen", "[::1]8080"], 64, "--listen: '[::1]8080': expected [IPv6]:PORT"),
            (["--listen", "127.0.0.1:0"], 64, "--listen: '127.0.0.1:0': the port is not 1 to 65535"),
            (["--listen", "70000"], 64, "--listen: '70000': the port is not 1 to 65535"),
            (["--listen", "127.0.0.1:8080", "--user", "no-such-user"], 64, "--user: 'no-such-user': no such user"),
            (["--listen", "systemd"], 78, "--listen systemd: systemd passed no listening socket (LISTEN_FDS)"),
        ]
        for (arguments, status, message) in cases {
            let outcome = try thumbnail(arguments + ["-r", scratch.path] + (arguments.contains("--user") ? [] : serverUser))
            #expect(outcome.status == status, "\(arguments)")
            #expect(outcome.error.split(separator: "\n").first.map(String.init) == "thumbnail: " + message, "\(arguments)")
        }
    }

    @Test func rootMustNameAUser() throws {
        try #require(getuid() == 0, "only root can start as root")
        let outcome = try thumbnail(["--listen", "127.0.0.1:\(try freePort())", "-r", scratch.path])
        #expect(outcome.status == 64)
        #expect(outcome.error.hasPrefix("thumbnail: --user: started as root: name the user to serve as, --user NAME\n"))
    }

    /// Ports under 1024 are root's (net.ipv4.ip_unprivileged_port_start):
    /// started as another user, the server cannot bind one.
    @Test func privilegedPortWithoutRootIs77() throws {
        let firstUnprivileged = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8)
        try #require(Int(firstUnprivileged.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 81, "any user may bind port 81 here")
        let command = asServingUser([thumbnailBinary, "--listen", "127.0.0.1:81", "-r", "/"])
        let outcome = try runProcess(command[0], Array(command.dropFirst()))
        #expect(outcome.status == 77)
        #expect(outcome.error == "thumbnail: --listen 127.0.0.1:81: Permission denied\n")
    }
}

/// A listening socket handed over, as systemd-socket-activate hands it
/// without `--accept`: on standard input (a super-server's `wait = yes`,
/// for `--inetd`) or as `LISTEN_FDS` (systemd's `Accept=no`, for `--listen
/// systemd`). One process serves every connection.
final class SocketHandoverTests {
    let scratch: ScratchDirectory
    let port: Int
    let log: String

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        port = try freePort()
        log = scratch.file("origin.log")
        try makeServerFile(log)
    }

    deinit { scratch.remove() }

    func activate(_ activation: [String], _ arguments: [String]) throws -> Daemon {
        let activator = try Daemon(
            "/usr/bin/systemd-socket-activate",
            activation + ["--listen=127.0.0.1:\(port)", thumbnailBinary] + arguments + ["-r", scratch.path, "--log", log],
            output: scratch.file("activate.out"))
        let listening = waitUntilListening(port)
        if !listening { activator.stop() }
        try #require(listening, "systemd-socket-activate did not listen")
        return activator
    }

    @Test(arguments: [(["--inetd"], ["--inetd"]), ([], ["--listen", "systemd"])])
    func servesEveryConnectionOfTheHandedSocket(activation: [String], mode: [String]) throws {
        let activator = try activate(activation, mode + serverUser)
        let base = "http://127.0.0.1:\(port)"
        for path in ["/thumbnail/40x40/landscape.jpg", "/healthz", "/thumbnail/30x30/png/portrait.png"] {
            #expect(try sh("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' '\(base)\(path)'") == "200", "\(path)")
        }
        #expect(try loggedRequests(log, atLeast: 3) == 3)
        // systemd-socket-activate became the server: one process, still serving, and stopping on SIGTERM.
        let command = try String(contentsOfFile: "/proc/\(activator.pid)/cmdline", encoding: .utf8)
        #expect(command.hasPrefix(thumbnailBinary + "\0" + mode[0]))
        kill(activator.pid, SIGTERM)
        let status = waitForExit(activator.pid, seconds: 5)
        if status == nil { activator.stop() }
        #expect(status == 0, "the server did not stop on SIGTERM")
    }

    /// xinetd's `wait = yes` hands its listening socket on standard input,
    /// output and error, and starts no other server until this one exits:
    /// the one server serves every connection, kept alive or not. xinetd
    /// sees no connection, so `only_from` cannot apply: with it, xinetd
    /// never starts the server (thumbnail(1) says to leave it out).
    @Test func servesEveryConnectionOfTheSocketXinetdHands() throws {
        let arguments = ["--inetd", "--config", scratch.file("thumbnail.conf")] + serverUser
        let origin = try XinetdOrigin(
            root: scratch.path, directory: scratch.path,
            service: ["wait": "yes", "server_args": arguments.joined(separator: " ")], removing: ["only_from"])
        // xinetd leaves its server running when it stops.
        defer {
            for server in childProcesses(of: origin.daemon.pid) { kill(server, SIGKILL) }
            origin.daemon.stop()
        }
        let base = "http://127.0.0.1:\(origin.port)"
        let kept = try sh(
            "curl -sS --max-time 20 -o /dev/null -o /dev/null -w '%{num_connects}%{http_code} '"
                + " \(base)/thumbnail/40x40/landscape.jpg \(base)/thumbnail/30x30/png/portrait.png")
        #expect(kept == "1200 0200")
        for path in ["/thumbnail/50x50/landscape.jpg", "/healthz", "/thumbnail/20x20/png/portrait.png"] {
            #expect(try sh("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' '\(base)\(path)'") == "200", "\(path)")
        }
        #expect(try origin.requests(atLeast: 5) == 5)
        let servers = childProcesses(of: origin.daemon.pid)
        try #require(servers.count == 1, "xinetd's servers: \(servers)")
        // xinetd names the program by its base name.
        let command = try String(contentsOfFile: "/proc/\(servers[0])/cmdline", encoding: .utf8)
        #expect(command.split(separator: "\0").map(String.init) == ["thumbnail"] + arguments)
        kill(servers[0], SIGTERM)
        #expect(eventually(within: 5) { childProcesses(of: origin.daemon.pid).isEmpty }, "the server did not stop on SIGTERM")
    }

    @Test func misconfiguredInetdLogsAndExitsWithTheStatus() throws {
        let activator = try activate(["--inetd"], ["--inetd", "--frobnicate"])
        let connection = try RawConnection(port: port)
        connection.send(healthzRequest)
        let status = waitForExit(activator.pid, seconds: 10)
        if status == nil { activator.stop() }
        #expect(status == 64)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "thumbnail: --frobnicate: unknown option; see --help\n")
    }
}

/// SIGHUP: the configuration and keys read again while requests go on.
final class ReloadTests {
    let scratch: ScratchDirectory
    let keys: String
    let config: String

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        keys = scratch.file("keys")
        config = scratch.file("thumbnail.conf")
        try writeServerSecret(Self.oldKey + "\n", to: keys)
        try writeFile("key-file = \(keys)\n", "thumbnail.conf", in: scratch, mode: 0o644)
    }

    deinit { scratch.remove() }

    static let oldKey = "old-key-0123456789abcdef0123456789"
    static let newKey = "new-key-0123456789abcdef0123456789"

    func writeServerSecret(_ text: String, to path: String) throws {
        try writeFile(text, "secret", in: scratch)
        chown(scratch.file("secret"), serverUID, gid_t(bitPattern: -1))
        try #require(rename(scratch.file("secret"), path) == 0)
    }

    /// `path` signed with `key` alone.
    func signed(_ path: String, key: String) throws -> String {
        let file = try writeFile(key + "\n", "sign-\(key.prefix(3))", in: scratch)
        return String(decoding: try thumbnail(["--key-file", file, "--sign", path]).output, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func status(_ port: Int, _ path: String) throws -> String {
        try sh("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' 'http://127.0.0.1:\(port)\(path)'")
    }

    @Test func sighupReadsNewKeysWithoutAFailedRequest() throws {
        let server = try ListeningServer(root: scratch.path, in: scratch, options: ["--config", config])
        let old = try signed("/thumbnail/40x40/landscape.jpg", key: Self.oldKey)
        let new = try signed("/thumbnail/40x40/landscape.jpg", key: Self.newKey)
        #expect(try status(server.port, new) == "403")
        let kept = try RawConnection(port: server.port)
        kept.send(getRequest(old))
        #expect(kept.responses(1).map(\.statusLine) == ["HTTP/1.1 200 OK"])
        // A connection a request, 300 of them, the old key's path each time.
        let codes = scratch.file("codes")
        let load = try Daemon(
            "/bin/sh",
            ["-c", "for i in $(seq 300); do curl -sS --max-time 20 -o /dev/null -w '%{http_code}\\n' 'http://127.0.0.1:\(server.port)\(old)'; done"],
            output: codes)
        defer { if waitForExit(load.pid, seconds: 0) == nil { load.stop() } }
        func answered() -> Int { ((try? String(contentsOfFile: codes, encoding: .utf8)) ?? "").split(separator: "\n").count }
        #expect(eventually(within: 30) { answered() >= 20 })
        try writeServerSecret(Self.newKey + "\n" + Self.oldKey + "\n", to: keys)
        kill(server.pid, SIGHUP)
        #expect(eventually(within: 10) { server.events.contains("thumbnail: SIGHUP: configuration read again") }, "\(server.events)")
        #expect(answered() < 300, "the load was over before the reload")
        #expect(try status(server.port, new) == "200")
        // The connection open before the reload keeps the configuration it began with.
        kept.send(getRequest(new))
        #expect(kept.responses(2).last?.statusLine == "HTTP/1.1 403 Forbidden")
        #expect(waitForExit(load.pid, seconds: 60) == 0)
        let statuses = try String(contentsOfFile: codes, encoding: .utf8).split(separator: "\n")
        #expect(statuses.count == 300 && statuses.allSatisfy { $0 == "200" }, "\(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
    }

    /// A process that waits holds the old configuration: a reload ends it,
    /// and the very next connection is served with the new one.
    @Test func sighupEndsTheProcessesThatWait() throws {
        let server = try ListeningServer(root: scratch.path, in: scratch, options: ["--config", config])
        let new = try signed("/thumbnail/40x40/landscape.jpg", key: Self.newKey)
        #expect(try status(server.port, new) == "403")
        try #require(eventually(within: 5) { server.waiting.count == 1 }, "\(server.children)")
        let old = server.waiting[0]
        try writeServerSecret(Self.newKey + "\n", to: keys)
        kill(server.pid, SIGHUP)
        #expect(eventually(within: 10) { server.events.contains("thumbnail: SIGHUP: configuration read again") }, "\(server.events)")
        #expect(try status(server.port, new) == "200")
        #expect(processEnds(old, within: 5), "process \(old) outlived the reload")
    }

    @Test func aConfigurationThatDoesNotCheckIsRefusedAndTheOldOneKept() throws {
        let server = try ListeningServer(root: scratch.path, in: scratch, options: ["--config", config])
        let old = try signed("/thumbnail/40x40/landscape.jpg", key: Self.oldKey)
        for (broken, reason) in [
            ("key-file = \(keys)\nmax-renders = 0\n", "\(config):2: --max-renders: '0' is not a whole number from 1 to 4096"),
            ("key-file = \(scratch.file("missing"))\n", "\(scratch.file("missing")): No such file or directory"),
        ] {
            try writeFile(broken, "thumbnail.conf", in: scratch, mode: 0o644)
            kill(server.pid, SIGHUP)
            let line = "thumbnail: SIGHUP: configuration refused, the old one kept: " + reason
            #expect(eventually(within: 10) { server.events.contains(line) }, "\(server.events)")
            #expect(try status(server.port, old) == "200")
        }
    }
}

/// The peak memory a log line gives is that of its own render, not the
/// highest of the connection's process so far, on its first connection or
/// the next: the server started as the user it serves as resets the
/// kernel's mark before each render.
@Test func eachRenderLogsItsOwnPeakMemory() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    try makeBigAndTinyImages(in: scratch)
    let server = try ListeningServer(
        root: scratch.path, in: scratch, options: ["--log-format", "json"], startedAsServingUser: true)
    let peaks = try loggedPeaks(server, connections: [["big.png", "tiny.png"], ["tiny.png"]])
    #expect(peaks[0] > peaks[1] + 10_000 && peaks[0] > peaks[2] + 10_000, "peaks in KiB: \(peaks)")
    #expect(server.children.count == 1, "\(server.children)")
}

/// Started as root, the server drops to `--user` and its processes stay
/// undumpable: nothing of that user's may trace them or read their memory.
/// They cannot reset the kernel's peak memory mark, so a render logs the
/// peak of its connection's process so far.
@Test(.enabled(if: getuid() == 0, "only root changes user"))
func processesThatChangedUserAreUndumpableAndLogTheirPeakSoFar() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    try makeBigAndTinyImages(in: scratch)
    let server = try ListeningServer(root: scratch.path, in: scratch, options: ["--log-format", "json"])
    let held = try RawConnection(port: server.port)
    #expect(eventually(within: 5) { server.children.count == 1 })
    for pid in [server.pid] + server.children {
        var status = stat()
        #expect(stat("/proc/\(pid)/mem", &status) == 0 && status.st_uid == 0, "process \(pid) is dumpable")
    }
    _ = held
    let peaks = try loggedPeaks(server, connections: [["big.png", "tiny.png"], ["tiny.png"]])
    #expect(peaks[1] >= peaks[0] && peaks[2] >= peaks[0], "peaks in KiB: \(peaks)")
}

/// A 3000x2000 noisy PNG, which takes tens of megabytes to render, and a 20x10 one.
private func makeBigAndTinyImages(in scratch: ScratchDirectory) throws {
    try sh(
        "convert -size 3000x2000 gradient:red-blue -attenuate 0.3 +noise Gaussian big.png && convert -size 20x10 xc:red tiny.png",
        directory: scratch.path, seconds: 120)
}

/// The logged peak memory of each render, in KiB: the `images` of each
/// connection rendered on it in turn, one connection after another, each
/// handed to the process that served the one before.
private func loggedPeaks(_ server: ListeningServer, connections: [[String]]) throws -> [Int] {
    for (index, images) in connections.enumerated() {
        if index > 0 { #expect(eventually(within: 5) { server.waiting.count == 1 }, "\(server.children)") }
        let connection = try RawConnection(port: server.port)
        connection.send(images.map { getRequest("/thumbnail/\($0 == "big.png" ? "2000x2000" : "10x10")/\($0)") }.joined())
        #expect(connection.responses(images.count).map(\.statusLine) == Array(repeating: "HTTP/1.1 200 OK", count: images.count))
    }
    let count = connections.joined().count
    _ = try loggedRequests(server.log, atLeast: count)
    let peaks = try String(contentsOfFile: server.log, encoding: .utf8).split(separator: "\n").map { line in
        line.firstMatch(of: /"peak_rss_kib":(\d+)/).flatMap { Int($0.1) } ?? 0
    }
    try #require(peaks.count == count)
    return peaks
}

/// `/metrics` on its own port, as Prometheus reads it; the main port has none.
@Test func metricsCountWhatWasServedAndPassPromtool() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    try makeFixtures(in: scratch)
    let metricsPort = try freePort()
    let server = try ListeningServer(
        root: scratch.path, in: scratch, options: ["--metrics-listen", "127.0.0.1:\(metricsPort)", "--max-connections", "1"])
    let base = "http://127.0.0.1:\(server.port)"
    for (path, status) in [
        ("/thumbnail/40x40/landscape.jpg", "200"), ("/thumbnail/30x30/png/portrait.png", "200"), ("/nothing", "404"),
        ("/metrics", "404"),
    ] {
        #expect(try sh("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' '\(base)\(path)'") == status, "\(path)")
    }
    // One connection held open, once the others' processes wait for another (a process counts until it says so),
    // handed to one of them: the next is refused by the server itself.
    #expect(eventually(within: 5) { !server.children.isEmpty && server.waiting.count == server.children.count })
    let held = try RawConnection(port: server.port)
    let page = scratch.file("metrics")
    func scrape() throws -> [String: String] {
        try sh("curl -sS --max-time 20 -o '\(page)' http://127.0.0.1:\(metricsPort)/metrics")
        let text = try String(contentsOfFile: page, encoding: .utf8)
        return Dictionary(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
                (String($0.prefix { $0 != " " }), String($0.split(separator: " ").last ?? ""))
            }, uniquingKeysWith: { $1 })
    }
    #expect(eventually(within: 5) { (try? scrape())?["thumbnail_connections_open"] == "1" })
    let refused = try RawConnection(port: server.port)
    refused.send(healthzRequest)
    #expect(refused.responses(1).map(\.statusLine) == ["HTTP/1.1 503 Service Unavailable"])
    // Each connection process reports once its reply is written.
    #expect(eventually(within: 5) { (try? scrape())?["thumbnail_http_requests_total{code=\"404\"}"] == "2" })
    let samples = try scrape()
    #expect(samples["thumbnail_http_requests_total{code=\"200\"}"] == "2")
    #expect(samples["thumbnail_http_requests_total{code=\"503\"}"] == "1")
    #expect(samples["thumbnail_overload_responses_total{reason=\"connections\"}"] == "1")
    #expect(samples["thumbnail_render_duration_seconds_count"] == "2")
    #expect(samples["thumbnail_render_peak_resident_bytes_count"] == "2")
    #expect(samples["thumbnail_connections_open"] == "1")
    #expect(samples["thumbnail_connections_max"] == "1")
    let check = try runProcess("/bin/sh", ["-c", "promtool check metrics < '\(page)'"])
    #expect(check.status == 0 && check.output.isEmpty && check.error.isEmpty, "promtool: \(check.error)")
    _ = held
}

/// examples/systemd/thumbnail-listen.service as systemd starts it (its
/// command line and environment) on the socket systemd-socket-activate
/// passes as thumbnail-listen.socket would (`Accept=no`).
@Test func shippedListenServiceServesThePassedSocket() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    try makeFixtures(in: scratch)
    let log = scratch.file("origin.log")
    try makeServerFile(log)
    let config = scratch.file("thumbnail.conf")
    try adapt("thumbnail.conf", ["root": scratch.path, "log": log]).write(toFile: config, atomically: true, encoding: .utf8)
    chmod(config, 0o644)
    let port = try freePort()
    let unit = "thumbnail-listen.service"
    let activator = try Daemon(
        "/usr/bin/systemd-socket-activate",
        ["--listen=127.0.0.1:\(port)"] + shippedServiceValues("Environment", unit: unit).map { "--setenv=" + $0 }
            + shippedExecStart(config: config, unit: unit) + serverUser,
        output: scratch.file("activate.out"))
    defer { activator.stop() }
    try #require(waitUntilListening(port), "systemd-socket-activate did not listen")
    try expectConcurrentCurls(port: port, root: scratch.path, in: scratch)
    #expect(try loggedRequests(log, atLeast: 8) == 8)
}

/// `--log -`: one line per request on standard output, where a container's
/// runtime collects it; its own messages stay on standard error.
@Test func theLogGoesToStandardOutput() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    try makeFixtures(in: scratch)
    let port = try freePort()
    let server = try Daemon(
        "/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>'\(scratch.file("stderr"))'", thumbnailBinary,
                    "--listen", "127.0.0.1:\(port)", "-r", scratch.path, "--log", "-"] + serverUser,
        output: scratch.file("stdout"))
    defer { server.stop() }
    try #require(waitUntilListening(port))
    #expect(try sh("curl -sS --max-time 20 -o /dev/null -w '%{http_code}' http://127.0.0.1:\(port)/thumbnail/20x20/landscape.jpg") == "200")
    #expect(try loggedRequests(scratch.file("stdout"), atLeast: 1) == 1)
    #expect(try String(contentsOfFile: scratch.file("stdout"), encoding: .utf8).contains("\"GET /thumbnail/20x20/landscape.jpg HTTP/1.1\" 200 "))
    #expect(try String(contentsOfFile: scratch.file("stderr"), encoding: .utf8).hasPrefix("thumbnail: listening on "))
}

/// `--inetd --user`: the process reads its sources as that user.
@Test func inetdWithUserReadsAsThatUser() throws {
    try #require(getuid() == 0, "only root can become another user")
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    try makeFixtures(in: scratch)
    chmod(scratch.file("landscape.jpg"), 0o600)
    func status(_ options: [String]) throws -> String? {
        let outcome = try thumbnail(
            ["--inetd", "-r", scratch.path, "--log", scratch.file("log")] + options,
            input: Data(getRequest("/thumbnail/20x20/landscape.jpg").utf8))
        return readResponses(outcome.output).responses.first?.statusLine
    }
    #expect(try status([]) == "HTTP/1.1 200 OK")
    #expect(try status(["--user", "nobody"]) == "HTTP/1.1 500 Internal Server Error")
}

/// The server goes on answering while the metrics port is scraped, and stops on SIGTERM at once.
@Test func scrapingMetricsNeverHoldsTheServer() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let metricsPort = try freePort()
    let server = try ListeningServer(root: scratch.path, in: scratch, options: ["--metrics-listen", "127.0.0.1:\(metricsPort)"])
    try sh("curl -sS --max-time 20 -o /dev/null http://127.0.0.1:\(metricsPort)/metrics")
    #expect(try sh("curl -sS --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:\(server.port)/healthz") == "200")
    kill(server.pid, SIGTERM)
    #expect(server.exitStatus(within: 5) == 0)
}
