import Foundation
import TestSupport
import Testing

/// What makes the server drop root, which it must: the tests may run as root.
let serverUser: [String] = getuid() == 0 ? ["--user", "nobody"] : []

/// The user the server runs as, for the files it must write.
let serverUID: uid_t = getuid() == 0 ? 65534 : getuid()

/// `command` run as the serving user from the start: by setpriv when root.
func asServingUser(_ command: [String]) -> [String] {
    getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command : command
}

/// An empty file the server's user owns (its log, its render slots).
func makeServerFile(_ path: String) throws {
    try #require(FileManager.default.createFile(atPath: path, contents: nil), "cannot create \(path)")
    chown(path, serverUID, gid_t(bitPattern: -1))
    chmod(path, 0o644)
}

/// `thumbnail --listen` (`binary`) on `port` of the loopback, else a free
/// one, for one test; its access log and its standard error (`events`) in
/// `scratch`. Started by root, it drops to `--user`, unless
/// `startedAsServingUser`: then it is started as that user.
final class ListeningServer {
    let port: Int
    let log: String
    let output: String
    let daemon: Daemon
    private var stopped = false

    /// `launcher`: a command that runs the server's command line given after it (`taskset -c 0`).
    init(
        root: String, in scratch: ScratchDirectory, options: [String] = [], name: String = "server",
        binary: String = thumbnailBinary, port: Int? = nil, launcher: [String] = [], startedAsServingUser: Bool = false
    ) throws {
        self.port = try port ?? freePort()
        log = scratch.file(name + ".log")
        output = scratch.file(name + ".out")
        try makeServerFile(log)
        let command = [binary, "--listen", "127.0.0.1:\(self.port)", "-r", root, "--log", log]
        let started = launcher + (startedAsServingUser ? asServingUser(command) : command + serverUser)
        daemon = try Daemon(started[0], Array(started.dropFirst()) + options, output: output)
        // Its first line says it listens and serves: no connection is made to find out.
        let listening = eventually(within: 10) { events.first?.hasPrefix("thumbnail: listening on ") == true }
        if !listening { stop() }
        try #require(listening, "thumbnail --listen did not start: \(events)")
    }

    deinit { stop() }

    var pid: pid_t { daemon.pid }

    /// What the server wrote to standard error, a line each.
    var events: [String] {
        ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Its connection processes.
    var children: [pid_t] { childProcesses(of: pid) }

    /// Its connection processes that wait for a connection: blocked in poll(2)
    /// with one socket the server has not, their end of their channel to it,
    /// and no connection.
    var waiting: [pid_t] {
        func sockets(_ process: pid_t) -> Set<String> {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process)/fd")) ?? []
            return Set(
                descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process)/fd/\($0)") }
                    .filter { $0.hasPrefix("socket:") })
        }
        let servers = sockets(pid)
        return children.filter { child in
            let wchan = (try? String(contentsOfFile: "/proc/\(child)/wchan", encoding: .utf8)) ?? ""
            return wchan.contains("poll") && sockets(child).subtracting(servers).count == 1
        }
    }

    /// SIGTERM, then SIGKILL after five seconds; once.
    func stop() {
        guard !stopped else { return }
        stopped = true
        daemon.stop()
    }

    /// Its exit status once it has exited, within `seconds`; nil if it is still running.
    func exitStatus(within seconds: Double) -> Int32? {
        guard !stopped else { return nil }
        let status = waitForExit(pid, seconds: seconds)
        if status != nil { stopped = true }
        return status
    }
}

/// The processes whose parent is `pid`.
func childProcesses(of pid: pid_t) -> [pid_t] {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
    return text.split(separator: " ").compactMap { pid_t($0) }
}

/// Whether `pid` is gone (or only a zombie no one reaps), waiting up to `seconds`.
func processEnds(_ pid: pid_t, within seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The state follows the command name's closing parenthesis.
        if stat.isEmpty || stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") == true {
            return true
        }
        usleep(20_000)
    } while Date() < deadline
    return false
}

/// The exit status (or 128 + the signal) of the child `pid`, reaped within `seconds`; nil if it still runs.
func waitForExit(_ pid: pid_t, seconds: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    var status: Int32 = 0
    repeat {
        if waitpid(pid, &status, WNOHANG) == pid {
            return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
        usleep(20_000)
    } while Date() < deadline
    return nil
}

/// Waits up to `seconds` for `condition`.
func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if condition() { return true }
        usleep(20_000)
    } while Date() < deadline
    return false
}

/// A client connection to a loopback port, for what curl cannot do: hold a
/// connection idle, send half a request, see the server close it.
final class RawConnection {
    let fd: Int32
    private var received = Data()
    private(set) var closedByServer = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        if !connected { close(fd) }
        try #require(connected, "cannot connect to port \(port): \(String(cString: strerror(errno)))")
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads for up to `seconds`, until `done` says enough or the server closes.
    private func read(seconds: Double, until done: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !done(), !closedByServer {
            let remaining = Int32(deadline.timeIntervalSinceNow * 1000)
            guard remaining > 0 else { return }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, remaining) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                closedByServer = true
            } else {
                received.append(contentsOf: chunk[..<count])
            }
        }
    }

    /// The whole responses received once `count` have come, the server
    /// closed, or `seconds` passed.
    func responses(_ count: Int, seconds: Double = 20) -> [HTTPResponse] {
        read(seconds: seconds) { readResponses(received).responses.count >= count }
        return readResponses(received).responses
    }

    /// Whether the server closes the connection within `seconds`.
    func closes(within seconds: Double) -> Bool {
        read(seconds: seconds) { false }
        return closedByServer
    }

    /// Every byte received so far.
    var bytes: Data { received }
}

let healthzRequest = "GET /healthz HTTP/1.1\r\nHost: o\r\n\r\n"

func getRequest(_ path: String) -> String { "GET \(path) HTTP/1.1\r\nHost: o\r\n\r\n" }
