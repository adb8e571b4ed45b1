import Foundation
import TestSupport
import Testing

/// Keys a URL must carry encoded the S3 way, each holding the same image.
let awkwardNames = ["with space.jpg", "plus+sign.jpg", "per%25cent.jpg", "and&amp.jpg", "ütf-8 名前.jpg"]

/// Sources in S3 (moto, signatures checked) and behind HTTP (nginx, plain
/// and TLS), against the same files on disk.
final class StorageTests {
    let scratch: ScratchDirectory
    let images: String

    init() throws {
        scratch = try ScratchDirectory()
        images = scratch.file("images")
        try FileManager.default.createDirectory(atPath: images + "/deep/er", withIntermediateDirectories: true)
        try sh("convert -seed 7 -size 640x400 plasma: landscape.jpg && cp landscape.jpg deep/er/same.jpg", directory: images)
        for name in awkwardNames { try sh("cp landscape.jpg '\(name)'", directory: images) }
        try sh("head -c 5000 /dev/urandom > noise.jpg", directory: images)
    }

    deinit { if ProcessInfo.processInfo.environment["KEEP_SCRATCH"] == nil { scratch.remove() } }

    /// The CLI's thumbnail of `path` from the local copy.
    func local(_ path: String) throws -> Data {
        let outcome = try thumbnail(["-r", images, path])
        #expect(outcome.status == 0, "\(outcome.error)")
        return outcome.output
    }

    @Test func signaturesAreChecked() throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let path = "/thumbnail/100x100/webp/landscape.jpg"
        // First that a wrong secret is refused: otherwise nothing below means anything.
        let wrong = try thumbnail(moto.root + [path], environment: moto.environment(secret: "wrong" + moto.secret))
        #expect(wrong.status == 69)
        #expect(wrong.error.contains("403 SignatureDoesNotMatch"), "\(wrong.error)")
        #expect(wrong.output.isEmpty)
        let unknown = try thumbnail(moto.root + [path], environment: moto.environment(keyID: "AKIAUNKNOWNKEY000000"))
        #expect(unknown.status == 69)
        #expect(unknown.error.contains("403 InvalidAccessKeyId"), "\(unknown.error)")
        // The right key: the same bytes as from disk.
        let right = try thumbnail(moto.root + [path], environment: moto.environment())
        #expect(right.status == 0, "\(right.error)")
        #expect(right.output == (try local(path)))
        // A session token, signed along.
        let session = moto.environment(keyID: moto.session.keyID, secret: moto.session.secret, token: moto.session.token)
        #expect(try thumbnail(moto.root + [path], environment: session).output == (try local(path)))
        var badToken = session
        badToken["AWS_SESSION_TOKEN"] = "x" + moto.session.token
        let refusedToken = try thumbnail(moto.root + [path], environment: badToken)
        #expect(refusedToken.status == 69 && refusedToken.error.contains("InvalidToken"), "\(refusedToken.error)")

        // Over HTTP: no-store and a log line naming the store's code.
        let (reply, log) = try inetdGet(
            path, moto.root, environment: moto.environment(secret: "wrong" + moto.secret), scratch: scratch)
        #expect(reply?.statusLine == "HTTP/1.1 502 Bad Gateway")
        #expect(reply?.field("cache-control") == "no-store")
        #expect(log.contains(" 502 ") && log.contains("SignatureDoesNotMatch"), "\(log)")
        #expect(!log.contains(moto.secret))
        let (unknownReply, unknownLog) = try inetdGet(
            path, moto.root, environment: moto.environment(keyID: "AKIAUNKNOWNKEY000000"), scratch: scratch)
        #expect(unknownReply?.statusLine == "HTTP/1.1 502 Bad Gateway")
        #expect(unknownReply?.field("cache-control") == "no-store")
        #expect(unknownReply?.body == Data("502 Bad Gateway\n".utf8))
        #expect(unknownLog.contains("InvalidAccessKeyId"), "\(unknownLog)")
        let (good, _) = try inetdGet(path, moto.root, environment: moto.environment(), scratch: scratch)
        #expect(good?.statusLine == "HTTP/1.1 200 OK")
        #expect(good?.body == (try local(path)))
        let lastModified = try #require(good?.field("last-modified"))
        #expect(imfFixdate.date(from: lastModified) != nil)

        // A missing key is a missing source.
        let missing = try thumbnail(moto.root + ["/thumbnail/10x10/nothere.jpg"], environment: moto.environment())
        #expect(missing.status == 66 && missing.error.contains("NoSuchKey"), "\(missing.error)")
        let (missingReply, _) = try inetdGet(
            "/thumbnail/10x10/nothere.jpg", moto.root, environment: moto.environment(), scratch: scratch)
        #expect(missingReply?.statusLine == "HTTP/1.1 404 Not Found")
        #expect(missingReply?.field("cache-control") == "public, max-age=60")
        // The store's answer names its bucket: the body says the status alone.
        #expect(missingReply?.body == Data("404 Not Found\n".utf8))

        // The limits hold for objects too: the length on the headers, the magic on the first bytes.
        let large = try thumbnail(moto.root + ["--max-bytes", "1000", path], environment: moto.environment())
        #expect(large.status == 65 && large.error.contains("exceeds the limit of 1000"), "\(large.error)")
        let (noise, _) = try inetdGet(
            "/thumbnail/10x10/noise.jpg", moto.root, environment: moto.environment(), scratch: scratch)
        #expect(noise?.statusLine == "HTTP/1.1 415 Unsupported Media Type")
    }

    @Test func credentialsFileAndProfile() throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let file = try writeFile(
            "[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n[reader]\n"
                + "aws_access_key_id = \(moto.keyID)\naws_secret_access_key = \(moto.secret)\n", "credentials",
            in: scratch, mode: 0o600)
        var environment = baseEnvironment
        environment["AWS_SHARED_CREDENTIALS_FILE"] = file
        environment["AWS_PROFILE"] = "reader"
        let path = "/thumbnail/50x50/png/landscape.jpg"
        let read = try thumbnail(moto.root + [path], environment: environment)
        #expect(read.status == 0, "\(read.error)")
        #expect(read.output == (try local(path)))
        // --explain says where the keys came from, never what they are.
        let explained = try thumbnail(moto.root + ["--explain", path], environment: environment)
        let text = String(decoding: explained.output, as: UTF8.self)
        #expect(text.contains("object: \(moto.endpoint)/images/landscape.jpg\n"), "\(text)")
        #expect(text.contains("credentials: from the credentials file \(file), profile reader\n"), "\(text)")
        #expect(text.contains("object-header: content-length: "))
        #expect(!text.contains(moto.secret) && !text.contains(moto.keyID))
        // Readable by others: refused before any request.
        chmod(file, 0o644)
        let before = try moto.objectRequests().count
        let open = try thumbnail(moto.root + [path], environment: environment)
        #expect(open.status == 78)
        #expect(open.error.contains("mode 0644"), "\(open.error)")
        let (reply, _) = try inetdGet(path, moto.root, environment: environment, scratch: scratch)
        #expect(reply?.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(reply?.field("cache-control") == "no-store")
        #expect(try moto.objectRequests().count == before)
        // No credentials anywhere: a configuration error, not a request.
        let none = try thumbnail(moto.root + [path], environment: baseEnvironment)
        #expect(none.status == 78 && none.error.contains("S3 credentials"), "\(none.error)")
    }

    @Test func awkwardKeysAndTraversal() throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        for name in awkwardNames {
            let outcome = try thumbnail(moto.root + ["-s", "40x40", name], environment: moto.environment())
            #expect(outcome.status == 0, "\(name): \(outcome.error)")
            #expect(outcome.output == (try thumbnail(["-r", images, "-s", "40x40", name])).output, "\(name)")
        }
        #expect(try moto.objectRequests().count == awkwardNames.count)
        // Under a prefix, and in a path: the key is prefix/path.
        let prefixed = ["-r", "s3://images/deep", "--s3-endpoint", moto.endpoint]
        let nested = try thumbnail(prefixed + ["-s", "40x40", "er/same.jpg"], environment: moto.environment())
        #expect(nested.status == 0, "\(nested.error)")
        let attempts = [
            "/thumbnail/10x10/..%2Flandscape.jpg", "/thumbnail/10x10/er/../../landscape.jpg",
            "/thumbnail/10x10/er/%2e%2e/%2e%2e/landscape.jpg", "/thumbnail/10x10/er%5C..%5Clandscape.jpg",
            "/thumbnail/10x10/er//same.jpg", "/thumbnail/10x10/er/%00same.jpg",
        ]
        let before = try moto.objectRequests()
        for attempt in attempts {
            let outcome = try thumbnail(prefixed + [attempt], environment: moto.environment())
            #expect([65, 77].contains(outcome.status), "\(attempt): \(outcome.status) \(outcome.error)")
            let (reply, _) = try inetdGet(attempt, prefixed, environment: moto.environment(), scratch: scratch)
            #expect(reply?.statusLine.hasPrefix("HTTP/1.1 4") == true, "\(attempt): \(reply?.statusLine ?? "none")")
        }
        let flags = try thumbnail(prefixed + ["-s", "10x10", "../landscape.jpg"], environment: moto.environment())
        #expect(flags.status == 77)
        #expect(try moto.objectRequests() == before, "a traversal attempt reached the store")
    }

    @Test func instanceRoleThroughIMDSv2() throws {
        // moto's instance metadata hands out fixed keys it does not itself
        // accept: its signature checks stay off here.
        let moto = try MotoStore(objects: images, directory: scratch.path, checksSignatures: false)
        defer { moto.daemon.stop() }
        var environment = baseEnvironment
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = moto.endpoint
        let path = "/thumbnail/30x30/landscape.jpg"
        let explained = try thumbnail(moto.root + ["--explain", path], environment: environment)
        let text = String(decoding: explained.output, as: UTF8.self)
        #expect(text.contains("credentials: from the instance role default-role (IMDSv2 at \(moto.endpoint))"), "\(text) \(explained.error)")
        let log = try String(contentsOfFile: moto.log, encoding: .utf8)
        let token = try #require(log.range(of: "\"PUT /latest/api/token"))
        let role = try #require(log.range(of: "\"GET /latest/meta-data/iam/security-credentials/default-role"))
        #expect(token.lowerBound < role.lowerBound)
        #expect(try thumbnail(moto.root + [path], environment: environment).output == (try local(path)))
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        #expect(try thumbnail(moto.root + [path], environment: environment).status == 78)
    }

    @Test func sameBytesFromEveryRoot() throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let web = try WebStore(serving: images, files: scratch.file("web"))
        defer { web.nginx.stop() }
        let https = ["-r", "https://127.0.0.1:\(web.tlsPort)", "--ca-file", web.caFile]
        let http = ["-r", "http://127.0.0.1:\(web.port)/"]
        let paths = ["/thumbnail/100x100/webp/landscape.jpg", "/thumbnail/64x64,crop/png/landscape.jpg"]
        for path in paths {
            let expected = try local(path)
            for root in [moto.root, https, http] {
                let outcome = try thumbnail(root + [path], environment: moto.environment())
                #expect(outcome.status == 0, "\(root): \(outcome.error)")
                #expect(outcome.output == expected, "\(root) \(path)")
            }
        }
        // The test CA is not the system's: without --ca-file, TLS fails, as the store's failure.
        let untrusted = try thumbnail(["-r", "https://127.0.0.1:\(web.tlsPort)", paths[0]])
        #expect(untrusted.status == 69, "\(untrusted.error)")

        // Batch: the same files under --output-dir.
        let list = try writeFile(paths.joined(separator: "\n") + "\n", "list", in: scratch)
        for (name, root) in [("disk", ["-r", images]), ("s3", moto.root), ("https", https)] {
            let out = scratch.file("out-" + name)
            let batch = try thumbnail(
                root + ["--batch", list, "--output-dir", out, "-j", "2"], environment: moto.environment())
            #expect(batch.status == 0, "\(name): \(batch.error)")
            // Each file named with its format's extension, which the source's name lacks.
            for (path, format) in zip(paths, ["webp", "png"]) {
                let written = try Data(contentsOf: URL(fileURLWithPath: out + path + "." + format))
                #expect(written == (try local(path)), "\(name) \(path)")
            }
        }

        // xinetd and curl, with the credentials from a file named in xinetd's env.
        let credentials = try writeFile(
            "[default]\naws_access_key_id = \(moto.keyID)\naws_secret_access_key = \(moto.secret)\n",
            "aws-credentials", in: scratch)
        let originDirectory = scratch.file("origin")
        try FileManager.default.createDirectory(atPath: originDirectory, withIntermediateDirectories: true)
        let origin = try XinetdOrigin(
            root: "s3://images", directory: originDirectory, example: "thumbnail-s3.conf",
            extraConfig: "s3-endpoint = \(moto.endpoint)\n",
            environment: ["AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_REGION": "us-east-1", "HOME": "/nonexistent"])
        defer { origin.daemon.stop() }
        let webDirectory = scratch.file("origin-https")
        try FileManager.default.createDirectory(atPath: webDirectory, withIntermediateDirectories: true)
        let webOrigin = try XinetdOrigin(
            root: "https://127.0.0.1:\(web.tlsPort)", directory: webDirectory, extraConfig: "ca-file = \(web.caFile)\n")
        defer { webOrigin.daemon.stop() }
        let localDirectory = scratch.file("origin-disk")
        try FileManager.default.createDirectory(atPath: localDirectory, withIntermediateDirectories: true)
        let localOrigin = try XinetdOrigin(root: images, directory: localDirectory)
        defer { localOrigin.daemon.stop() }
        for (name, port) in [("s3", origin.port), ("https", webOrigin.port), ("disk", localOrigin.port)] {
            for path in paths {
                let body = scratch.file("curl-body")
                let code = try sh("curl -sS --max-time 20 -o '\(body)' -w '%{http_code}' 'http://127.0.0.1:\(port)\(path)'")
                #expect(code == "200", "\(name) \(path)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: body)) == (try local(path)), "xinetd \(name) \(path)")
            }
        }
    }
}

/// The system's CAs, for a store without `--ca-file`: through the hashed
/// directory, where OpenSSL reads the certificates a chain needs, never the
/// bundle of all of them (which OpenSSL 3 takes some 50 ms to parse).
@Test func systemTrustLooksUpTheIssuerInsteadOfParsingTheBundle() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    try sh("convert -size 64x48 xc:orange photo.jpg", directory: scratch.path)
    let web = try WebStore(serving: scratch.path, files: scratch.file("web"))
    defer { web.nginx.stop() }
    let trace = scratch.file("trace")
    let outcome = try runProcess(
        "/usr/bin/strace",
        ["-f", "-e", "trace=%file", "-o", trace, thumbnailBinary, "-r", "https://127.0.0.1:\(web.tlsPort)",
         "/thumbnail/32x32/photo.jpg"])
    // The test CA is not the system's: refused, after looking for its issuer.
    #expect(outcome.status == 69, "\(outcome.error)")
    let opened = try String(contentsOfFile: trace, encoding: .utf8)
    #expect(opened.contains("\"/etc/ssl/certs/"), "\(opened.suffix(2000))")
    #expect(!opened.contains("ca-certificates.crt"))
}

/// A store that misbehaves: limits hold before the bytes, failures are the
/// store's (502, never kept), never a thumbnail of part of an image.
final class StoreFailureTests {
    let scratch: ScratchDirectory
    let store: MisbehavingStore

    init() throws {
        scratch = try ScratchDirectory()
        try sh("convert -seed 7 -size 640x400 plasma: landscape.jpg", directory: scratch.path)
        store = try MisbehavingStore(image: scratch.file("landscape.jpg"), directory: scratch.path)
    }

    deinit {
        store.daemon.stop()
        scratch.remove()
    }

    func root(_ kind: String) -> [String] { ["-r", "http://127.0.0.1:\(store.port)/\(kind)"] }

    /// No S3 credentials anywhere: one line that says where it looked and
    /// what each place said, here an instance metadata service that refuses
    /// the token (as one that is turned off does) and one that is not there.
    @Test func noCredentialsSaysWhereItLooked() throws {
        var environment = baseEnvironment
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        let root = ["-r", "s3://images", "--s3-endpoint", "http://127.0.0.1:\(try freePort())", "-s", "10", "a.jpg"]
        let looked =
            "thumbnail: S3 credentials: none found in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            + "not both set), from a web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not both set), "
            + "in the credentials file /nonexistent/.aws/credentials (No such file or directory), from a container role "
            + "(neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI set) or from "
        for (service, said) in [
            ("http://127.0.0.1:\(store.port)/403", "it answered 403 to the token request"),
            ("http://127.0.0.1:\(try freePort())", "no answer: not on EC2"),
        ] {
            environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = service
            let outcome = try thumbnail(root, environment: environment)
            #expect(outcome.status == 78)
            #expect(outcome.error == looked + "the instance metadata service at \(service) (\(said))\n")
        }
    }

    @Test func aDeclaredLengthOverTheLimitIsRefusedOnTheHeaders() throws {
        let outcome = try thumbnail(root("big") + ["--max-bytes", "200000", "-s", "10x10", "a.jpg"])
        #expect(outcome.status == 65 && outcome.error.contains("exceeds the limit of 200000"), "\(outcome.error)")
        #expect(try #require(try store.bytesSent("/big/a.jpg")) < 64 << 10)
    }

    @Test func aBodyWithoutALengthIsCutAtTheLimit() throws {
        let outcome = try thumbnail(root("chunked") + ["--max-bytes", "200000", "-s", "10x10", "a.jpg"])
        #expect(outcome.status == 65 && outcome.error.contains("more than 200000 bytes"), "\(outcome.error)")
        #expect(try #require(try store.bytesSent("/chunked/a.jpg")) < 200000 + (64 << 10))
    }

    @Test func aNonImageIsRefusedOnItsFirstBytes() throws {
        let outcome = try thumbnail(root("text") + ["-s", "10x10", "a.jpg"])
        #expect(outcome.status == 65, "\(outcome.error)")
        #expect(try #require(try store.bytesSent("/text/a.jpg")) < 64 << 10)
    }

    @Test func aHangingStoreIsCutAtTheSourceTimeout() throws {
        let start = Date()
        let outcome = try thumbnail(root("hang") + ["--source-timeout", "2", "-s", "10x10", "a.jpg"])
        let seconds = Date().timeIntervalSince(start)
        #expect(outcome.status == 69 && outcome.error.contains("timed out"), "\(outcome.error)")
        #expect(seconds >= 1.9 && seconds < 8, "\(seconds) s")
    }

    @Test(arguments: ["cut", "redirect", "nolength"])
    func aBrokenAnswerIsTheStoresFailure(kind: String) throws {
        let outcome = try thumbnail(root(kind) + ["-s", "10x10", "a.jpg"])
        #expect(outcome.status == 69, "\(kind): \(outcome.error)")
        #expect(outcome.output.isEmpty)
        let (reply, log) = try inetdGet("/thumbnail/10x10/a.jpg", root(kind), environment: baseEnvironment, scratch: scratch)
        #expect(reply?.statusLine == "HTTP/1.1 502 Bad Gateway", "\(kind)")
        #expect(reply?.field("cache-control") == "no-store")
        #expect(reply?.field("content-type")?.hasPrefix("text/plain") == true)
        #expect(log.contains(" 502 "), "\(log)")
        // The redirect's target was never asked for.
        if kind == "redirect" { #expect(try store.bytesSent("/big/x.jpg") == nil) }
    }
}

/// Origins on an s3:// root: a cache in front, connections kept, two hosts
/// behind one load balancer.
final class S3OriginTests {
    let scratch: ScratchDirectory
    let images: String
    let moto: MotoStore

    init() throws {
        scratch = try ScratchDirectory()
        images = scratch.file("images")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try sh("convert -seed 7 -size 160x100 plasma: small.jpg", directory: images)
        moto = try MotoStore(objects: images, directory: scratch.path)
    }

    deinit {
        moto.daemon.stop()
        scratch.remove()
    }

    /// An xinetd origin on the bucket, credentials from a file named in xinetd's env.
    func origin(_ name: String) throws -> XinetdOrigin {
        let credentials = try writeFile(
            "[default]\naws_access_key_id = \(moto.keyID)\naws_secret_access_key = \(moto.secret)\n",
            "aws-credentials", in: scratch)
        let directory = scratch.file(name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try XinetdOrigin(
            root: "s3://images", directory: directory, example: "thumbnail-s3.conf",
            extraConfig: "s3-endpoint = \(moto.endpoint)\n",
            environment: ["AWS_SHARED_CREDENTIALS_FILE": credentials, "HOME": "/nonexistent"])
    }

    func local(_ path: String) throws -> Data { try thumbnail(["-r", images, path]).output }

    @Test func aCacheInFrontAsksTheOriginAndTheStoreOnce() throws {
        let origin = try origin("origin")
        defer { origin.daemon.stop() }
        let (nginx, proxyPort) = try startCachingProxy(originPort: origin.port, prefix: scratch.file("nginx"))
        defer { nginx.stop() }
        let url = "http://127.0.0.1:\(proxyPort)/thumbnail/100x100/webp/small.jpg"
        let headers = scratch.file("headers")
        var statuses: [String] = []
        for name in ["first", "second"] {
            #expect(try sh("curl -sS --max-time 20 -D '\(headers)' -o '\(scratch.file(name))' -w '%{http_code}' '\(url)'") == "200")
            let cache = try String(contentsOfFile: headers, encoding: .utf8).components(separatedBy: "\r\n")
                .first { $0.lowercased().hasPrefix("x-cache:") }
            statuses.append(cache?.dropFirst(8).trimmingCharacters(in: .whitespaces) ?? "-")
        }
        #expect(statuses == ["MISS", "HIT"])
        #expect(try origin.requests(atLeast: 1) == 1)
        #expect(try moto.objectRequests() == ["small.jpg"])
        let first = try Data(contentsOf: URL(fileURLWithPath: scratch.file("first")))
        #expect(first == (try local("/thumbnail/100x100/webp/small.jpg")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("second"))) == first)
    }

    @Test func aBatchKeepsOneConnectionAJob() throws {
        let paths = (0..<200).map { "/thumbnail/\(10 + $0)x\(10 + $0 % 7)/small.jpg" }
        let list = try writeFile(paths.joined(separator: "\n") + "\n", "list", in: scratch)
        let proxy = try keepAliveProxy(to: moto.port, prefix: scratch.file("proxy"))
        defer { proxy.nginx.stop() }
        let root = ["-r", "s3://images", "--s3-endpoint", "http://127.0.0.1:\(proxy.port)"]
        let outcome = try thumbnail(root + ["--batch", list, "-j", "2"], environment: moto.environment())
        #expect(outcome.status == 0, "\(outcome.error)")
        let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 200)
        #expect(lines.map { $0.split(separator: "\t").last.map(String.init) ?? "" } == paths)
        #expect(lines.allSatisfy { $0.hasPrefix("200\t") })
        let summary = try #require(outcome.error.split(separator: "\n").last { $0.hasPrefix("batch:") })
        let connections = try #require(
            summary.split(separator: ";").last { $0.hasSuffix("store connections") }?
                .split(separator: " ").first.flatMap { Int($0) }, "\(summary)")
        #expect(connections >= 1 && connections <= 3, "\(summary)")
        #expect(try moto.objectRequests().count == 200)
        // What the proxy saw agrees: at most three client connections.
        let logged = try String(contentsOfFile: proxy.log, encoding: .utf8).split(separator: "\n")
        #expect(logged.count == 200)
        #expect(Set(logged.map { $0.split(separator: " ").last ?? "" }).count <= 3)
    }

    @Test func anS3EndpointOverTLSTrustsTheCAFile() throws {
        let proxy = try keepAliveProxy(to: moto.port, prefix: scratch.file("tls-proxy"), tls: true)
        defer { proxy.nginx.stop() }
        let root = ["-r", "s3://images", "--s3-endpoint", "https://127.0.0.1:\(proxy.port)"]
        let path = "/thumbnail/100x100/webp/small.jpg"
        let trusted = try thumbnail(root + ["--ca-file", proxy.caFile!, path], environment: moto.environment())
        #expect(trusted.status == 0, "\(trusted.error)")
        #expect(trusted.output == (try local(path)))
        // The system's CAs do not know the test CA: the store's failure, and no request got through.
        let untrusted = try thumbnail(root + [path], environment: moto.environment())
        #expect(untrusted.status == 69, "\(untrusted.error)")
        #expect(untrusted.error.contains("certificate"), "\(untrusted.error)")
        #expect(try moto.objectRequests() == ["small.jpg"])
    }

    @Test func aKeepAliveConnectionMakesOneToTheStore() throws {
        let web = try WebStore(serving: images, files: scratch.file("web"))
        defer { web.nginx.stop() }
        let paths = ["/thumbnail/20x20/small.jpg", "/thumbnail/30x30/small.jpg", "/thumbnail/40x40/small.jpg"]
        let requests = paths.map { "GET \($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined()
        let outcome = try thumbnail(
            ["--inetd", "--log", scratch.file("keepalive.log"), "-r", "http://127.0.0.1:\(web.port)"],
            input: Data(requests.utf8))
        let responses = readResponses(outcome.output).responses
        #expect(responses.map(\.statusLine) == Array(repeating: "HTTP/1.1 200 OK", count: 3))
        let logged = try web.requests(atLeast: 3)
        #expect(logged.map(\.path) == ["/small.jpg", "/small.jpg", "/small.jpg"])
        #expect(Set(logged.map(\.connection)).count == 1, "\(logged)")
    }

    @Test func twoHostsBehindALoadBalancerAnswerAlike() throws {
        let first = try origin("first")
        defer { first.daemon.stop() }
        let second = try origin("second")
        defer { second.daemon.stop() }
        let prefix = scratch.file("balancer")
        let port = try freePort()
        let nginx = try startNginx(
            prefix: prefix,
            http: """
                access_log off;
                upstream origins {
                    server 127.0.0.1:\(first.port);
                    server 127.0.0.1:\(second.port);
                }
                server {
                    listen 127.0.0.1:\(port);
                    location / { proxy_pass http://origins; }
                }
                """, ports: [port])
        defer { nginx.stop() }
        let path = "/thumbnail/100x100/webp/small.jpg"
        let expected = try local(path)
        var tags: Set<String> = []
        for index in 0..<6 {
            let headers = scratch.file("headers\(index)"), body = scratch.file("body\(index)")
            #expect(try sh("curl -sS --max-time 20 -D '\(headers)' -o '\(body)' -w '%{http_code}' 'http://127.0.0.1:\(port)\(path)'") == "200")
            #expect(try Data(contentsOf: URL(fileURLWithPath: body)) == expected, "response \(index)")
            let tag = try String(contentsOfFile: headers, encoding: .utf8).components(separatedBy: "\r\n")
                .first { $0.lowercased().hasPrefix("etag:") }
            tags.insert(tag ?? "none")
        }
        #expect(tags.count == 1 && !tags.contains("none"), "\(tags)")
        let (a, b) = (try first.requests(atLeast: 3), try second.requests(atLeast: 3))
        #expect(a + b == 6 && a > 0 && b > 0, "\(a) and \(b)")
    }
}
