import Foundation
import TestSupport
import Testing

/// The credentials of containers and pods, in the AWS SDKs' chain: an ECS or
/// EKS Pod Identity container endpoint (a stand-in on loopback speaking its
/// JSON), an EKS web identity traded at moto's STS, and the chain's order.
final class CredentialTests {
    let scratch: ScratchDirectory
    let images: String
    let path = "/thumbnail/60x60/webp/landscape.jpg"

    init() throws {
        scratch = try ScratchDirectory()
        images = scratch.file("images")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try sh("convert -seed 7 -size 320x200 plasma: landscape.jpg", directory: images)
    }

    deinit { if ProcessInfo.processInfo.environment["KEEP_SCRATCH"] == nil { scratch.remove() } }

    func local() throws -> Data { try thumbnail(["-r", images, path]).output }

    /// The container's role, from an endpoint on loopback that checks the
    /// authorization token from its file or from the environment; moto checks
    /// the keys it hands out.
    @Test func containerRole() throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let token = "pod-identity-token-0123456789"
        let endpoint = try ContainerCredentialsServer(token: token, keys: moto.session, directory: scratch.path)
        defer { endpoint.daemon.stop() }
        // Written readable and reached through a link, as Kubernetes projects it.
        let tokenFile = try writeFile(token + "\n", "token", in: scratch, mode: 0o644)
        try FileManager.default.createSymbolicLink(atPath: scratch.file("token-link"), withDestinationPath: tokenFile)
        var environment = baseEnvironment
        environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = endpoint.url(lifetime: 3600)
        environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = scratch.file("token-link")
        let rendered = try thumbnail(moto.root + [path], environment: environment)
        #expect(rendered.status == 0, "\(rendered.error)")
        #expect(rendered.output == (try local()))
        let explained = try thumbnail(moto.root + ["--explain", path], environment: environment)
        let text = String(decoding: explained.output, as: UTF8.self)
        #expect(text.contains("credentials: from the container role (\(endpoint.url(lifetime: 3600)))\n"), "\(text)")
        #expect(!text.contains(moto.session.secret) && !text.contains(token))
        // The token from the environment, as ECS sets it.
        environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = nil
        environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
        #expect(try thumbnail(moto.root + [path], environment: environment).output == (try local()))
        #expect(endpoint.requests() == Array(repeating: "/creds/3600 token-ok", count: 3))
        // A wrong token: the endpoint's refusal, a configuration error.
        environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong-token"
        let refused = try thumbnail(moto.root + [path], environment: environment)
        #expect(refused.status == 78 && refused.output.isEmpty)
        #expect(
            refused.error == "thumbnail: \(endpoint.url(lifetime: 3600)): the container credentials endpoint answered 401\n",
            "\(refused.error)")
        // Plain http to another host would hand it the token: refused before any request.
        let before = endpoint.requests().count
        environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.1:\(endpoint.port)/creds/3600"
        let elsewhere = try thumbnail(moto.root + [path], environment: environment)
        #expect(elsewhere.status == 78)
        #expect(elsewhere.error.hasPrefix("thumbnail: AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://192.0.2.1:"), "\(elsewhere.error)")
        #expect(endpoint.requests().count == before)
    }

    /// A long-running process fetches the keys again before their
    /// Expiration: two requests three seconds apart on one kept-alive
    /// connection, the keys lasting four seconds, fetch twice; lasting an
    /// hour, or saying nothing of when they expire, once. When the second
    /// fetch fails, the keys still valid serve.
    @Test(arguments: [(4, false, 2), (3600, false, 1), (nil, false, 1), (4, true, 2)] as [(Int?, Bool, Int)])
    func keysAreFetchedAgainBeforeTheyExpire(lifetime: Int?, once: Bool, fetches: Int) throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let token = "task-role-token-0123456789"
        let endpoint = try ContainerCredentialsServer(token: token, keys: moto.session, directory: scratch.path)
        defer { endpoint.daemon.stop() }
        var environment = baseEnvironment
        environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = endpoint.url(lifetime: lifetime, once: once)
        environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
        let get = "GET \(path) HTTP/1.1\\r\\nHost: t\\r\\n"
        let outcome = try runProcess(
            "/bin/sh",
            ["-c", "(printf '\(get)\\r\\n'; sleep 3; printf '\(get)Connection: close\\r\\n\\r\\n') | \"$0\" --inetd \"$@\"",
             thumbnailBinary, "--log", scratch.file("access.log")] + moto.root,
            environment: environment)
        let replies = readResponses(outcome.output).responses
        #expect(replies.map(\.statusLine) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
        #expect(replies.last?.body == (try local()))
        #expect(endpoint.requests().count == fetches, "\(endpoint.requests())")
    }

    /// EKS IRSA: the service account's token traded for the role's keys at
    /// STS (moto's, through AWS_ENDPOINT_URL_STS), which moto then checks.
    @Test func webIdentity() throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let tokenFile = try writeFile("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJl\n", "token", in: scratch, mode: 0o644)
        var environment = baseEnvironment
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile
        environment["AWS_ROLE_ARN"] = moto.roleARN
        environment["AWS_ROLE_SESSION_NAME"] = "thumbnail-test"
        environment["AWS_ENDPOINT_URL_STS"] = moto.endpoint
        let stsCalls = { try String(contentsOfFile: moto.log, encoding: .utf8).components(separatedBy: "\"POST / HTTP/1.1\" 200").count }
        let seeding = try stsCalls()
        try moto.allowUnsignedRequests(1)
        let explained = try thumbnail(moto.root + ["--explain", path], environment: environment)
        let text = String(decoding: explained.output, as: UTF8.self)
        #expect(
            text.contains("credentials: from the web identity in \(tokenFile), role \(moto.roleARN) (STS at \(moto.endpoint))\n"),
            "\(text) \(explained.error)")
        try moto.allowUnsignedRequests(1)
        let rendered = try thumbnail(moto.root + [path], environment: environment)
        #expect(rendered.status == 0, "\(rendered.error)")
        #expect(rendered.output == (try local()))
        #expect(try stsCalls() == seeding + 2)
        let log = try String(contentsOfFile: moto.log, encoding: .utf8)
        // Without its token file: a configuration error that names it, and no request.
        try FileManager.default.removeItem(atPath: tokenFile)
        let missing = try thumbnail(moto.root + [path], environment: environment)
        #expect(missing.status == 78)
        #expect(missing.error == "thumbnail: \(tokenFile): web identity token: No such file or directory\n", "\(missing.error)")
        #expect(try String(contentsOfFile: moto.log, encoding: .utf8) == log)
    }

    /// The SDKs' order: the environment, a web identity, the credentials
    /// file, the container's role, the instance's; each place left out in
    /// turn, the next is used, and with none the one line names them all.
    @Test func theChainsOrder() throws {
        // moto's instance metadata hands out keys its signature checks refuse: they are off here.
        let moto = try MotoStore(objects: images, directory: scratch.path, checksSignatures: false)
        defer { moto.daemon.stop() }
        let endpoint = try ContainerCredentialsServer(token: "order-token-0123456789", keys: moto.session, directory: scratch.path)
        defer { endpoint.daemon.stop() }
        let credentials = try writeFile(
            "[default]\naws_access_key_id = \(moto.keyID)\naws_secret_access_key = \(moto.secret)\n", "credentials", in: scratch)
        let config = try writeFile("[default]\nregion = eu-central-1\n", "config", in: scratch, mode: 0o644)
        let tokenFile = try writeFile("eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n", "web-token", in: scratch, mode: 0o644)
        var environment = moto.environment()
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile
        environment["AWS_ROLE_ARN"] = moto.roleARN
        environment["AWS_ENDPOINT_URL_STS"] = moto.endpoint
        environment["AWS_SHARED_CREDENTIALS_FILE"] = credentials
        environment["AWS_CONFIG_FILE"] = config
        environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = endpoint.url(lifetime: 3600)
        environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "order-token-0123456789"
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = moto.endpoint
        let steps: [(leaveOut: [String], source: String)] = [
            ([], "environment (AWS_ACCESS_KEY_ID)"),
            (["AWS_ACCESS_KEY_ID"], "web identity in \(tokenFile), role \(moto.roleARN) (STS at \(moto.endpoint))"),
            (["AWS_ROLE_ARN"], "credentials file \(credentials), profile default"),
            (["AWS_SHARED_CREDENTIALS_FILE"], "container role (\(endpoint.url(lifetime: 3600)))"),
            (["AWS_CONTAINER_CREDENTIALS_FULL_URI"], "instance role default-role (IMDSv2 at \(moto.endpoint))"),
        ]
        for (leaveOut, source) in steps {
            for name in leaveOut { environment[name] = nil }
            let explained = try thumbnail(moto.root + ["--explain", path], environment: environment)
            let text = String(decoding: explained.output, as: UTF8.self)
            #expect(text.contains("credentials: from the \(source)\n"), "\(leaveOut): \(text) \(explained.error)")
            // The region from the config file's profile, which the environment does not name.
            #expect(text.contains("storage: S3 bucket images in eu-central-1 ([default] of \(config)) at \(moto.endpoint)\n"))
        }
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        let none = try thumbnail(moto.root + [path], environment: environment)
        #expect(none.status == 78)
        #expect(
            none.error == "thumbnail: S3 credentials: none found "
                + "in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not both set), "
                + "from a web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not both set), "
                + "in the credentials file /nonexistent/.aws/credentials (No such file or directory), "
                + "from a container role (neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI set) "
                + "or from the instance metadata service (turned off: AWS_EC2_METADATA_DISABLED=true)\n", "\(none.error)")
    }
}
