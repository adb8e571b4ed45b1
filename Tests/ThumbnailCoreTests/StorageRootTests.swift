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
        let aws = S3Storage(bucket: "images", prefix: ["orig"], options: RemoteOptions(), environment: ["AWS_REGION": "eu-west-1"])
        #expect(aws.url(path) == "https://images.s3.eu-west-1.amazonaws.com/orig/cats/tom%20cat%2B.jpg")
        let dotted = S3Storage(bucket: "my.images", prefix: [], options: RemoteOptions(), environment: [:])
        #expect(dotted.url(path) == "https://s3.us-east-1.amazonaws.com/my.images/cats/tom%20cat%2B.jpg")
        var options = RemoteOptions()
        options.endpoint = try RemoteOptions.endpoint("http://127.0.0.1:9000/")
        options.region = "auto"
        let minio = S3Storage(bucket: "images", prefix: [], options: options, environment: ["AWS_REGION": "eu-west-1"])
        #expect(minio.url(path) == "http://127.0.0.1:9000/images/cats/tom%20cat%2B.jpg")
        #expect(minio.region == "auto")
        let web = WebStorage(origin: "https://media.example", prefix: ["a b"], options: RemoteOptions())
        #expect(web.url(path) == "https://media.example/a%20b/cats/tom%20cat%2B.jpg")
    }

    @Test func theRegionComesFromTheOptionThenTheEnvironment() {
        let regions = [
            ([:], "us-east-1"), (["AWS_DEFAULT_REGION": "ap-south-1"], "ap-south-1"),
            (["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"], "eu-west-1"),
            (["AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"], "ap-south-1"),
        ]
        for (environment, region) in regions {
            #expect(S3Storage(bucket: "abc", prefix: [], options: RemoteOptions(), environment: environment).region == region)
        }
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
            environment: ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"], caFile: nil)
        #expect(thrown { _ = try chain.current() }?.kind == .misconfigured)
        let fromEnvironment = CredentialChain(
            environment: ["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"],
            caFile: nil)
        let found = try fromEnvironment.current()
        #expect(found.accessKeyID == "AKIA" && found.sessionToken == "t" && found.source == "environment (AWS_ACCESS_KEY_ID)")
        let named = CredentialChain(
            environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_PROFILE": "x",
                          "AWS_EC2_METADATA_DISABLED": "TRUE"], caFile: nil)
        #expect(thrown { _ = try named.current() }?.kind == .misconfigured)
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
