import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on 127.0.0.1 that nothing listens on, found by binding port 0.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// True once something accepts connections on 127.0.0.1:`port`; tries for at most `seconds`.
func waitForListener(port: Int, seconds: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        close(fd)
        if connected { return true }
        usleep(50_000)
    }
    return false
}

/// A real nginx in the foreground, its `http` block given by the test,
/// everything it writes under `directory`; `stop()` ends it. It ends by
/// itself after `seconds` in any case.
final class Nginx {
    let directory: String
    private let process = Process()

    init(http: String, directory: String, listensOn ports: [Int], seconds: Int = 120) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map { "\($0)_temp_path \(directory)/\($0);" }
        let config = """
            daemon off;
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                \(temporary.joined(separator: "\n    "))
                \(http)
            }

            """
        try config.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        // A bound on a test that never stops it: TERM, then KILL if it lingers.
        process.arguments = [
            "-k", "5", String(seconds), "/usr/sbin/nginx", "-e", directory + "/error.log", "-p", directory, "-c",
            directory + "/nginx.conf",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for port in ports where !waitForListener(port: port) {
            stop()
            let log = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
            throw NginxFailure(message: "nginx does not listen on \(port): \(log)")
        }
    }

    /// TERM to nginx's master by its pid file: Foundation starts children
    /// with the test thread's signal mask, in which TERM is blocked, so
    /// `timeout` would not pass a TERM on; nginx sets its own mask.
    func stop() {
        guard process.isRunning else { return }
        if let text = try? String(contentsOfFile: directory + "/nginx.pid", encoding: .utf8),
            let master = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(master, SIGTERM)
        } else {
            process.terminate()
        }
        process.waitUntilExit()
    }

    deinit { stop() }
}

struct NginxFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
