import Foundation
import TestSupport
import Testing

func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

/// A loopback port nothing listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(fd) }
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    try #require(bound, "no free port: \(String(cString: strerror(errno)))")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts connections on the loopback `port`, waiting up to five seconds.
func waitUntilListening(_ port: Int) -> Bool {
    for _ in 0..<100 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        close(fd)
        if connected { return true }
        usleep(50_000)
    }
    return false
}

/// A server run in the foreground for one test, stopped by `stop()`.
/// Started with posix_spawn, not Foundation's Process: that one takes a
/// child closing its descriptors (as daemons do) for its exit, and hands on
/// the signal mask of its threads, which leaves xinetd deaf to SIGCHLD.
final class Daemon {
    let pid: pid_t

    init(_ executable: String, _ arguments: [String], output: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: executable), "\(executable) is not installed")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        try #require(status == 0, "\(executable): \(String(cString: strerror(status)))")
        pid = child
    }

    /// SIGTERM, then SIGKILL if it is still there after five seconds.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }
}

/// Rewrites `key = value` lines of an example config, and drops those of
/// the keys `removing` names; every key must be found.
func adapt(_ example: String, _ values: [String: String], removing: Set<String> = []) throws -> String {
    var found: Set<String> = []
    let lines = try String(contentsOfFile: packageDirectory + "/examples/" + example, encoding: .utf8)
        .components(separatedBy: "\n").compactMap { line -> String? in
            let key = line.split(separator: "=").first?.trimmingCharacters(in: .whitespaces) ?? ""
            if removing.contains(key) {
                found.insert(key)
                return nil
            }
            guard let value = values[key] else { return line }
            found.insert(key)
            return "\t\(key) = \(value)"
        }
    let expected = Set(values.keys).union(removing)
    #expect(found == expected, "\(example) lacks \(expected.subtracting(found))")
    return lines.joined(separator: "\n")
}

/// A real xinetd on a free loopback port, configured from `examples/` with
/// the paths adapted (the `example` config), running the built binary under `--inetd` on `root`;
/// its request log at `log`; `extraConfig` lines are added to its config,
/// `environment` is what xinetd's `env` gives the server, `service` replaces
/// lines of the service's own and `removing` drops some. Files go in `directory`.
struct XinetdOrigin {
    let port: Int
    let log: String
    let daemon: Daemon

    init(
        root: String, directory: String, example: String = "thumbnail.conf", extraConfig: String = "",
        environment: [String: String] = [:], service: [String: String] = [:], removing: Set<String> = []
    ) throws {
        log = directory + "/origin.log"
        let config = directory + "/thumbnail.conf"
        try (adapt(example, ["root": root, "log": log]) + "\n" + extraConfig)
            .write(toFile: config, atomically: true, encoding: .utf8)
        // A config file others may write is refused, whatever the umask.
        chmod(config, 0o644)
        port = try freePort()
        let env = environment.isEmpty ? [:] : ["env": environment.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")]
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let group = String(cString: getgrgid(getgid()).pointee.gr_name)
        try adapt(
            "xinetd/thumbnail",
            [
                "port": String(port), "user": user, "group": group, "server": thumbnailBinary,
                "server_args": "--inetd --config \(directory)/thumbnail.conf",
            ].merging(env) { $1 }.merging(service) { $1 }, removing: removing
        ).write(toFile: directory + "/xinetd.conf", atomically: true, encoding: .utf8)
        daemon = try Daemon(
            "/usr/sbin/xinetd",
            ["-dontfork", "-f", directory + "/xinetd.conf", "-filelog", directory + "/xinetd.log"],
            output: directory + "/xinetd.out")
        let xinetdLog = (try? String(contentsOfFile: directory + "/xinetd.log", encoding: .utf8)) ?? ""
        try #require(waitUntilListening(port), "xinetd did not listen: \(xinetdLog)")
    }

    func requests(atLeast expected: Int) throws -> Int { try loggedRequests(log, atLeast: expected) }
}

/// How many requests an origin logged in `log`, once `expected` are or five
/// seconds have passed: the log line follows the reply, so the client may
/// read the log before it is written.
func loggedRequests(_ log: String, atLeast expected: Int) throws -> Int {
    func logged() throws -> Int {
        guard FileManager.default.fileExists(atPath: log) else { return 0 }
        return try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count
    }
    var waits = 0
    while try logged() < expected, waits < 100 {
        usleep(50_000)
        waits += 1
    }
    return try logged()
}

/// nginx from examples/nginx/thumbnail-cache.conf, adapted, in front of the
/// origin on `originPort`: the CDN of the tests. Files go in `prefix`.
func startCachingProxy(originPort: Int, prefix: String) throws -> (nginx: Daemon, port: Int) {
    let proxyPort = try freePort()
    for directory in ["cache", "temp"] {
        try FileManager.default.createDirectory(atPath: prefix + "/" + directory, withIntermediateDirectories: true)
    }
    let example = try String(contentsOfFile: packageDirectory + "/examples/nginx/thumbnail-cache.conf", encoding: .utf8)
    let replacements = [
        "/var/cache/nginx/thumbnail": prefix + "/cache", "server 127.0.0.1:8080;": "server 127.0.0.1:\(originPort);",
        "listen 80;": "listen 127.0.0.1:\(proxyPort);",
    ]
    var site = example
    for (from, to) in replacements {
        #expect(site.contains(from), "the nginx example lacks \(from)")
        site = site.replacingOccurrences(of: from, with: to)
    }
    try site.write(toFile: prefix + "/site.conf", atomically: true, encoding: .utf8)
    let nginx = try startNginx(prefix: prefix, http: "access_log off;\ninclude \(prefix)/site.conf;", ports: [proxyPort])
    return (nginx, proxyPort)
}

/// nginx in the foreground with everything it writes under `prefix`, `http`
/// the body of its http block, once it listens on every one of `ports`.
func startNginx(prefix: String, http: String, ports: [Int]) throws -> Daemon {
    try FileManager.default.createDirectory(atPath: prefix + "/temp", withIntermediateDirectories: true)
    let temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map { "\($0)_temp_path \(prefix)/temp/\($0);" }
    try """
        daemon off;
        \(getuid() == 0 ? "user root;" : "")
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/error.log;
        events { worker_connections 64; }
        http {
        \((temp + [http]).joined(separator: "\n"))
        }
        """.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
    let nginx = try Daemon(
        "/usr/sbin/nginx", ["-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"],
        output: prefix + "/nginx.out")
    let listening = ports.allSatisfy(waitUntilListening)
    if !listening { nginx.stop() }
    let log = (try? String(contentsOfFile: prefix + "/error.log", encoding: .utf8)) ?? ""
    try #require(listening, "nginx did not listen: \(log)")
    return nginx
}

/// xinetd running the built binary, curl as the client, nginx with
/// proxy_cache in front as the CDN.
final class OriginTests {
    let scratch: ScratchDirectory
    let port: Int
    let origin: XinetdOrigin

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        origin = try XinetdOrigin(root: scratch.path, directory: scratch.path)
        port = origin.port
    }

    deinit {
        origin.daemon.stop()
        scratch.remove()
    }

    func originRequests(_ expected: Int) throws -> Int { try origin.requests(atLeast: expected) }

    /// curl's status code for `url`, the body saved in `file`.
    func curl(_ url: String, to file: String, headers: String? = nil) throws -> String {
        let dump = headers.map { " -D '\($0)'" } ?? ""
        return try sh("curl -sS --max-time 20\(dump) -o '\(file)' -w '%{http_code}' '\(url)'")
    }

    @Test(arguments: ["/thumbnail/100x100/webp/landscape.jpg", "/thumbnail/64x64,crop/png/portrait.png"])
    func curlGetsTheCommandLineBytes(path: String) throws {
        let body = scratch.file("body")
        #expect(try curl("http://127.0.0.1:\(port)\(path)", to: body) == "200")
        let cli = try thumbnail(["-r", scratch.path, path])
        #expect(cli.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: body)) == cli.output)
        #expect(try originRequests(1) == 1)
    }

    @Test func concurrentCurlsAllSucceed() throws {
        try expectConcurrentCurls(port: port, root: scratch.path, in: scratch)
        #expect(try originRequests(8) == 8)
    }

    @Test func curlReusesTheConnection() throws {
        let base = "http://127.0.0.1:\(port)"
        let connects = try sh(
            "curl -sS --max-time 20 -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}%{http_code} '"
                + " \(base)/healthz \(base)/thumbnail/20x20/landscape.jpg \(base)/thumbnail/20x20/jpg/landscape.jpg")
        // One connection for three requests: 200, 200, and the 301 for `jpg`.
        #expect(connects == "1200 0200 0301")
    }

    @Test func nginxCacheAnswersRepeatsWithoutTheOrigin() throws {
        let (nginx, proxyPort) = try startCachingProxy(originPort: port, prefix: scratch.file("nginx"))
        defer { nginx.stop() }

        let url = "http://127.0.0.1:\(proxyPort)/thumbnail/100x100/webp/landscape.jpg"
        let headers = scratch.file("headers")
        func cacheStatus() throws -> String? {
            try String(contentsOfFile: headers, encoding: .utf8).components(separatedBy: "\r\n")
                .first { $0.lowercased().hasPrefix("x-cache:") }?.dropFirst(8).trimmingCharacters(in: .whitespaces)
        }
        #expect(try curl(url, to: scratch.file("first"), headers: headers) == "200")
        #expect(try cacheStatus() == "MISS")
        #expect(try originRequests(1) == 1)
        #expect(try curl(url, to: scratch.file("second"), headers: headers) == "200")
        #expect(try cacheStatus() == "HIT")
        // The cache key is the path alone: a query string is the same copy.
        #expect(try curl(url + "?v=2", to: scratch.file("third"), headers: headers) == "200")
        #expect(try cacheStatus() == "HIT")
        #expect(try originRequests(1) == 1, "a cached thumbnail reached the origin")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.file("first")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("second"))) == bytes)
        #expect(bytes == (try thumbnail(["-r", scratch.path, "/thumbnail/100x100/webp/landscape.jpg"])).output)
    }
}

/// Eight curls at once against the origin on `port`: each gets 200 and the
/// command line's bytes for the same path under `root`.
func expectConcurrentCurls(port: Int, root: String, in scratch: ScratchDirectory) throws {
    let path = "/thumbnail/120x120/landscape.jpg"
    let script = (1...8).map { index in
        "curl -sS --max-time 30 -o '\(scratch.file("c\(index)"))' -w '%{http_code}\\n' 'http://127.0.0.1:\(port)\(path)' > '\(scratch.file("code\(index)"))' &"
    }.joined(separator: "\n") + "\nwait"
    try sh(script)
    let expected = try thumbnail(["-r", root, path]).output
    for index in 1...8 {
        #expect(try String(contentsOfFile: scratch.file("code\(index)"), encoding: .utf8) == "200\n", "curl \(index)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("c\(index)"))) == expected, "curl \(index)")
    }
}
