import Foundation
import TestSupport
import Testing

/// moto's S3 (and IAM, STS, instance metadata) on a free loopback port, from
/// the venv `make test-deps` makes, seeded by Tests/stores/seed-moto.py with
/// every file under `objects`; with `checksSignatures`, it refuses any
/// request whose signature or key is wrong. Its request log is `log`.
final class MotoStore {
    /// The venv's, whose directory the Makefile names.
    static let venv = (try? makeVariable("MOTO_VENV")) ?? ""
    static let python = venv + "/bin/python"
    let port: Int
    let log: String
    let daemon: Daemon
    let bucket = "images"
    /// The IAM user's key, allowed s3:GetObject on the bucket.
    let keyID: String
    let secret: String
    /// An assumed role's temporary key, allowed the same.
    let session: (keyID: String, secret: String, token: String)
    /// A user allowed what examples/s3-read-policy.json allows, for the prefix deep/.
    let lister: (keyID: String, secret: String)
    /// That role's ARN, which a web identity may assume too.
    let roleARN: String

    var endpoint: String { "http://127.0.0.1:\(port)" }
    var root: [String] { ["-r", "s3://\(bucket)", "--s3-endpoint", endpoint] }

    init(objects: String, directory: String, checksSignatures: Bool = true) throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "no moto venv: run make test-deps")
        port = try freePort()
        log = directory + "/moto.log"
        daemon = try Daemon(
            Self.venv + "/bin/moto_server", ["-H", "127.0.0.1", "-p", String(port)], output: log)
        do {
            try #require(waitUntilListening(port, seconds: 30), "moto did not listen")
            let seeded = try runProcess(
                Self.python,
                [packageDirectory + "/Tests/stores/seed-moto.py", "http://127.0.0.1:\(port)", bucket, objects]
                    + (checksSignatures ? [] : ["--no-auth"]), seconds: 60)
            try #require(seeded.status == 0, "seeding moto: \(seeded.error)")
            let lines = String(decoding: seeded.output, as: UTF8.self).split(separator: "\n").map {
                $0.split(separator: " ").map(String.init)
            }
            try #require(
                lines.count == 4 && lines[0].count == 2 && lines[1].count == 3 && lines[2].count == 2 && lines[3].count == 1,
                "seed printed \(lines)")
            (keyID, secret) = (lines[0][0], lines[0][1])
            session = (lines[1][0], lines[1][1], lines[1][2])
            lister = (lines[2][0], lines[2][1])
            roleARN = lines[3][0]
        } catch {
            daemon.stop()
            throw error
        }
    }

    /// The environment of a process that signs with `keyID` and `secret`, and nothing else of AWS.
    func environment(keyID: String? = nil, secret: String? = nil, token: String? = nil) -> [String: String] {
        var environment = baseEnvironment
        environment["AWS_ACCESS_KEY_ID"] = keyID ?? self.keyID
        environment["AWS_SECRET_ACCESS_KEY"] = secret ?? self.secret
        environment["AWS_SESSION_TOKEN"] = token
        return environment
    }

    /// Lets the next `count` requests through unsigned. moto wants a
    /// signature on every STS call, but AWS takes AssumeRoleWithWebIdentity
    /// unsigned, as the web identity token is what proves who asks.
    func allowUnsignedRequests(_ count: Int) throws {
        try sh("curl -sf -X POST --data-binary \(count) -H 'Content-Type: text/plain' \(endpoint)/moto-api/reset-auth")
    }

    /// The object GETs moto has logged so far, as their request lines' targets.
    func objectRequests() throws -> [String] {
        let text = try String(contentsOfFile: log, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let start = line.range(of: "\"GET /\(bucket)/") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != " " })
        }
    }
}

/// This process's environment without any AWS setting, HOME pointed at
/// nothing, the instance metadata service turned off: a clean start.
var baseEnvironment: [String: String] {
    var environment = inheritedEnvironment.filter { !$0.key.hasPrefix("AWS_") }
    environment["HOME"] = "/nonexistent"
    environment["AWS_EC2_METADATA_DISABLED"] = "true"
    return environment
}

/// Whether something accepts connections on `port`, waiting up to `seconds`.
func waitUntilListening(_ port: Int, seconds: Int) -> Bool {
    // Each try waits five seconds.
    for _ in 0..<max(1, seconds / 5) {
        if waitUntilListening(port) { return true }
    }
    return false
}

/// nginx serving `directory` on loopback, plain on `port` and over TLS on
/// `tlsPort` with a certificate for 127.0.0.1 from a CA made here by
/// openssl (`caFile`). Its access log has one line a request: the path,
/// then nginx's connection serial number.
final class WebStore {
    let port: Int
    let tlsPort: Int
    let caFile: String
    let log: String
    let nginx: Daemon

    init(serving directory: String, files prefix: String) throws {
        caFile = try makeTestCertificate(in: prefix)
        port = try freePort()
        tlsPort = try freePort()
        log = prefix + "/access.log"
        nginx = try startNginx(
            prefix: prefix,
            http: """
                log_format store '$uri $connection';
                access_log \(log) store;
                server {
                    listen 127.0.0.1:\(port);
                    listen 127.0.0.1:\(tlsPort) ssl;
                    \(testCertificateConfig(prefix))
                    root \(directory);
                }
                """, ports: [port, tlsPort])
    }

    /// The logged requests: path and connection number.
    func requests(atLeast expected: Int) throws -> [(path: String, connection: String)] {
        _ = try loggedRequests(log, atLeast: expected)
        return try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            let words = $0.split(separator: " ").map(String.init)
            return (words[0], words.count > 1 ? words[1] : "")
        }
    }
}

/// Tests/stores/misbehaving-store.py on a free loopback port: each path's
/// first segment picks a way to fail (see the script). Its log has a line
/// per request: the path and the body bytes it sent.
final class MisbehavingStore {
    let port: Int
    let log: String
    let daemon: Daemon

    init(image: String, directory: String) throws {
        log = directory + "/misbehaving.log"
        (port, daemon) = try startPythonServer("misbehaving-store.py", [image, log], directory: directory)
    }

    /// Body bytes sent for `path`, once it is logged (within five seconds).
    func bytesSent(_ path: String) throws -> Int? {
        for _ in 0..<100 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(path + " ") }) {
                return Int(line.split(separator: " ")[1])
            }
            usleep(50_000)
        }
        return nil
    }
}

/// One GET on a fresh `--inetd` process with `arguments`: the reply's head and the log.
func inetdGet(
    _ path: String, _ arguments: [String], environment: [String: String], scratch: ScratchDirectory
) throws -> (response: HTTPResponse?, log: String) {
    let log = scratch.file("inetd-\(UUID().uuidString).log")
    let request = Data("GET \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".utf8)
    let outcome = try thumbnail(["--inetd", "--log", log] + arguments, input: request, environment: environment)
    let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return (readResponses(outcome.output).responses.first, logged)
}

/// nginx on a free loopback port passing every request to `port` with its
/// Host header as sent (so S3 signatures still verify), keeping its own
/// clients' connections open: moto's server closes each one after a reply.
/// Its access log has a line per request: the path and the client
/// connection's serial number. With `tls`, it listens over TLS with a
/// certificate from the CA in `caFile`.
func keepAliveProxy(to port: Int, prefix: String, tls: Bool = false) throws -> (
    nginx: Daemon, port: Int, log: String, caFile: String?
) {
    let caFile = tls ? try makeTestCertificate(in: prefix) : nil
    let proxyPort = try freePort()
    let log = prefix + "/access.log"
    let nginx = try startNginx(
        prefix: prefix,
        http: """
            log_format store '$uri $connection';
            access_log \(log) store;
            server {
                listen 127.0.0.1:\(proxyPort)\(tls ? " ssl" : "");
                \(tls ? testCertificateConfig(prefix) : "")
                keepalive_requests 10000;
                location / {
                    proxy_pass http://127.0.0.1:\(port);
                    proxy_set_header Host $http_host;
                }
            }
            """, ports: [proxyPort])
    return (nginx, proxyPort, log, caFile)
}

/// A CA made here by openssl and a certificate it signed for 127.0.0.1
/// (server.pem, server.key), in `directory`; returns the CA's file.
func makeTestCertificate(in directory: String) throws -> String {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try sh(
        """
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
          -days 2 -subj /CN=thumbnail-test-ca 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
          -subj /CN=127.0.0.1 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
          -extfile server.ext 2>/dev/null
        """, directory: directory)
    return directory + "/ca.pem"
}

/// nginx's lines for the certificate `makeTestCertificate(in: directory)` made.
func testCertificateConfig(_ directory: String) -> String {
    "ssl_certificate \(directory)/server.pem; ssl_certificate_key \(directory)/server.key;"
}

/// Tests/stores/container-credentials.py on a free loopback port, handing
/// out `keys` to whoever brings `token`; `url(lifetime:)` is the address
/// whose keys expire `lifetime` seconds after each request (nil: no
/// Expiration), and with `once`, that answers 503 after the first. Its log
/// has a line a request.
final class ContainerCredentialsServer {
    let port: Int
    let log: String
    let daemon: Daemon

    init(token: String, keys: (keyID: String, secret: String, token: String), directory: String) throws {
        log = directory + "/container-credentials.log"
        (port, daemon) = try startPythonServer(
            "container-credentials.py", [token, keys.keyID, keys.secret, keys.token, log], directory: directory)
    }

    func url(lifetime: Int?, once: Bool = false) -> String {
        "http://127.0.0.1:\(port)/creds/" + (lifetime.map(String.init) ?? "none") + (once ? "/once" : "")
    }

    /// The requests logged so far: path and whether the token matched.
    func requests() -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

/// One of the Python servers of Tests/stores on a free loopback port (its
/// first argument), its output in `directory`, once it listens.
func startPythonServer(_ script: String, _ arguments: [String], directory: String) throws -> (port: Int, daemon: Daemon) {
    let port = try freePort()
    let daemon = try Daemon(
        "/usr/bin/python3", [packageDirectory + "/Tests/stores/" + script, String(port)] + arguments,
        output: directory + "/" + script + ".out")
    guard waitUntilListening(port) else {
        daemon.stop()
        throw StoreDidNotListen(script: script)
    }
    return (port, daemon)
}

struct StoreDidNotListen: Error {
    let script: String
}
