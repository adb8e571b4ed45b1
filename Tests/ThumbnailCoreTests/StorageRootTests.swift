import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// What `--root` accepts, and the keys and URLs a source path becomes.
struct StorageRootTests {
    @Test func theThreeKinds() throws {
        #expect(try StorageRoot(parsing: "/srv/images") == .directory("/srv/images"))
        #expect(try StorageRoot(parsing: "s3://images") == .s3(bucket: "images", prefix: []))
        #expect(try StorageRoot(parsing: "s3://my.images-1/a/b/") == .s3(bucket: "my.images-1", prefix: ["a", "b"]))
        #expect(try StorageRoot(parsing: "https://Media.Example:8443/o") == .web(origin: "https://media.example:8443", prefix: ["o"]))
        #expect(try StorageRoot(parsing: "http://[::1]:8080") == .web(origin: "http://[::1]:8080", prefix: []))
        // A prefix is taken literally, never decoded: `%00` is three characters.
        #expect(try StorageRoot(parsing: "https://host/a%00") == .web(origin: "https://host", prefix: ["a%00"]))
    }

    @Test(arguments: [
        "s3://", "s3://ab", "s3://Images", "s3://im_ages", "s3://-images", "s3://images/../x", "s3://images//x",
        "s3://images/a/./b", "https://", "https://user@host", "https://host?x=1", "https://host/p#f",
        "https://host:0", "https://host:99999", "https://ho st", "https://host/..", "http://[::1", "http://[::1]x",
        "http://[]", "https://host/a\u{1}b",
    ])
    func refused(root: String) {
        let error = thrown { _ = try StorageRoot(parsing: root) }
        #expect(error?.kind == .usage, "\(root)")
    }

    @Test func keysAreEncodedTheS3Way() throws {
        #expect(s3Encoded("a b+c%25&d~e_f-g.h") == "a%20b%2Bc%2525%26d~e_f-g.h")
        #expect(s3Encoded("ü名") == "%C3%BC%E5%90%8D")
        #expect(s3Encoded("(x)!*'=:@,;$") == "%28x%29%21%2A%27%3D%3A%40%2C%3B%24")
        let path = try SourcePath(filePath: "cats/tom cat+.jpg")
        let aws = try s3(bucket: "images", ["orig"], environment: ["AWS_REGION": "eu-west-1"])
        #expect(aws.url(path) == "https://images.s3.eu-west-1.amazonaws.com/orig/cats/tom%20cat%2B.jpg")
        let dotted = try s3(bucket: "my.images", environment: [:])
        #expect(dotted.url(path) == "https://s3.us-east-1.amazonaws.com/my.images/cats/tom%20cat%2B.jpg")
        var options = RemoteOptions()
        options.endpoint = try RemoteOptions.endpoint("http://127.0.0.1:9000/")
        options.region = "auto"
        let minio = try s3(bucket: "images", options: options, environment: ["AWS_REGION": "eu-west-1"])
        #expect(minio.url(path) == "http://127.0.0.1:9000/images/cats/tom%20cat%2B.jpg")
        #expect(minio.region == "auto")
        let web = WebStorage(origin: "https://media.example", prefix: ["a b"], options: RemoteOptions())
        #expect(web.url(path) == "https://media.example/a%20b/cats/tom%20cat%2B.jpg")
    }

    /// In the SDKs' order: the option, AWS_REGION, AWS_DEFAULT_REGION, the profile's in the config file.
    @Test func theRegionComesFromTheOptionThenTheEnvironmentThenTheConfigFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let config = try writeFile(
            "[default]\nregion = eu-north-1\n\n[profile reader]\n# the reader's\nregion = ap-east-1\ns3 =\n  addressing_style = path\n",
            "config", in: scratch, mode: 0o644)
        let regions: [([String: String], String, String)] = [
            ([:], "us-east-1", "the default"), (["AWS_DEFAULT_REGION": "ap-south-1"], "ap-south-1", "AWS_DEFAULT_REGION"),
            (["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"], "eu-west-1", "AWS_REGION"),
            (["AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"], "ap-south-1", "AWS_DEFAULT_REGION"),
            (["AWS_CONFIG_FILE": config], "eu-north-1", "[default] of \(config)"),
            (["AWS_CONFIG_FILE": config, "AWS_PROFILE": "reader"], "ap-east-1", "[profile reader] of \(config)"),
            (["AWS_CONFIG_FILE": config, "AWS_PROFILE": "other"], "us-east-1", "the default"),
            (["AWS_CONFIG_FILE": config, "AWS_DEFAULT_REGION": "ap-south-1"], "ap-south-1", "AWS_DEFAULT_REGION"),
            (["HOME": scratch.path], "us-east-1", "the default"),
        ]
        for (environment, region, source) in regions {
            let storage = try s3(environment: environment)
            #expect(storage.region == region, "\(environment)")
            #expect(storage.description == "S3 bucket abc in \(region) (\(source)) at AWS", "\(environment)")
        }
        try FileManager.default.createDirectory(atPath: scratch.file(".aws"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.file(".aws/config"), withDestinationPath: config)
        #expect(try s3(environment: ["HOME": scratch.path]).region == "eu-north-1", "~/.aws/config, through a link")
        var options = RemoteOptions()
        options.region = "sa-east-1"
        #expect(try s3(options: options, environment: ["AWS_REGION": "eu-west-1"]).region == "sa-east-1")
        let bad = try writeFile("[default]\nregion = a:b\n", "bad", in: scratch, mode: 0o644)
        #expect(
            thrown { _ = try s3(environment: ["AWS_CONFIG_FILE": bad]) }
                == ThumbnailError(.misconfigured, bad, "[default] region 'a:b' is not a region name"))
    }

    func s3(
        bucket: String = "abc", _ prefix: [String] = [], options: RemoteOptions = RemoteOptions(),
        environment: [String: String]
    ) throws -> S3Storage {
        try S3Storage(bucket: bucket, prefix: prefix, options: options, environment: environment, now: { 0 })
    }

    @Test func anEndpointIsSchemeHostAndPortOnly() {
        #expect(thrown { _ = try RemoteOptions.endpoint("http://host:9000/path") }?.kind == .usage)
        #expect(thrown { _ = try RemoteOptions.endpoint("ftp://host") }?.kind == .usage)
    }

    @Test func credentialsFilesAndInstanceDocuments() {
        let ini = "[default]\naws_access_key_id = A\n# comment\n[ reader ]\naws_access_key_id=B\naws_secret_access_key = s=x\n"
        #expect(iniSection("reader", in: ini) == ["aws_access_key_id": "B", "aws_secret_access_key": "s=x"])
        #expect(iniSection("default", in: ini) == ["aws_access_key_id": "A"])
        #expect(iniSection("other", in: ini) == nil)
        let document = #"{ "Code" : "Success", "AccessKeyId" : "ASIA1", "SecretAccessKey" : "a\/b\"c", "Token" : "t" }"#
        #expect(jsonString("AccessKeyId", in: document) == "ASIA1")
        #expect(jsonString("SecretAccessKey", in: document) == "a/b\"c")
        #expect(jsonString("Expiration", in: document) == nil)
        #expect(jsonString("Token", in: #"{"Token": 5}"#) == nil)
        #expect(jsonString("Token", in: #"{"Token": "unterminated"#) == nil)
    }

    @Test func storeErrorCodes() {
        let body = Array("<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message></Error>".utf8)
        #expect(xmlElement("Code", in: body) == "NoSuchKey")
        #expect(xmlElement("Message", in: body) == "gone")
        #expect(xmlElement("RequestId", in: body) == nil)
    }

    @Test func credentialsAreLookedForOnlyWhereTheyMayBe() throws {
        let chain = CredentialChain(
            environment: ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"], region: "us-east-1",
            caFile: nil, now: { 0 })
        #expect(
            thrown { _ = try chain.current() }
                == ThumbnailError(
                    .misconfigured, "S3 credentials",
                    "none found in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not both set), "
                        + "from a web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not both set), "
                        + "in the credentials file /nonexistent/.aws/credentials (No such file or directory), "
                        + "from a container role (neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                        + "AWS_CONTAINER_CREDENTIALS_FULL_URI set) "
                        + "or from the instance metadata service (turned off: AWS_EC2_METADATA_DISABLED=true)"))
        let fromEnvironment = CredentialChain(
            environment: ["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"],
            region: "us-east-1", caFile: nil, now: { 0 })
        let found = try fromEnvironment.current()
        #expect(found.accessKeyID == "AKIA" && found.sessionToken == "t" && found.source == "environment (AWS_ACCESS_KEY_ID)")
        let named = CredentialChain(
            environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_PROFILE": "x",
                          "AWS_EC2_METADATA_DISABLED": "TRUE"], region: "us-east-1", caFile: nil, now: { 0 })
        #expect(thrown { _ = try named.current() }?.kind == .misconfigured)
    }

    /// Fetched keys are fetched again five minutes before they expire, or at
    /// half their time left when that is shorter; five minutes after they
    /// came when they do not say.
    @Test func fetchedKeysAreRefreshedBeforeTheyExpire() {
        let now = 1_000_000
        #expect(CredentialChain.refreshTime(expiration: nil, now: now) == now + 300)
        #expect(CredentialChain.refreshTime(expiration: now + 3600, now: now) == now + 3300)
        #expect(CredentialChain.refreshTime(expiration: now + 600, now: now) == now + 300)
        #expect(CredentialChain.refreshTime(expiration: now + 4, now: now) == now + 2)
        #expect(CredentialChain.refreshTime(expiration: now - 10, now: now) == now - 10, "expired: fetched at once")
    }

    @Test func expirationTimes() {
        #expect(parseISO8601("2026-12-06T15:04:05Z") == 1_796_569_445)
        #expect(parseISO8601("2026-12-06T15:04:05.341569Z") == 1_796_569_445)
        #expect(parseISO8601("2026-12-06T16:04:05+01:00") == 1_796_569_445)
        for text in ["2026-12-06 15:04:05Z", "2026-12-06T15:04:05", "2026-13-06T15:04:05Z", "2026-12-06T15:04:05Zx", ""] {
            #expect(parseISO8601(text) == nil, "\(text)")
        }
    }

    /// Over http the container's token goes to the host itself or ECS's and EKS's addresses only.
    @Test func containerCredentialsURLs() {
        for url in [
            "http://127.0.0.1:8080/creds", "http://127.1.2.3/x", "http://localhost/x", "http://[::1]:80/x",
            "http://169.254.170.2/v2/credentials", "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1",
            "https://creds.example.com/x",
        ] {
            #expect(isContainerCredentialsURL(url), "\(url)")
        }
        for url in [
            "http://10.0.0.1/creds", "http://127.0.0.1.evil.com/x", "http://127.0.0.1@evil.com/x", "http://169.254.169.254/",
            "ftp://127.0.0.1/x", "http://1270.0.0.1/",
        ] {
            #expect(!isContainerCredentialsURL(url), "\(url)")
        }
    }

    @Test func anS3RootOverHTTPWithoutCredentialsIsMisconfigured() throws {
        let outcome = try runInProcess(
            ["--inetd", "-r", "s3://images", "--s3-endpoint", "http://127.0.0.1:9"],
            input: Data("GET /thumbnail/10x10/a.jpg HTTP/1.1\r\nHost: t\r\n\r\n".utf8),
            environment: ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"])
        let response = try #require(readResponses(outcome.output).responses.first)
        #expect(response.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(response.field("cache-control") == "no-store")
        #expect(outcome.status == 78)
    }
}
