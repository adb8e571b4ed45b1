import Foundation
import TestSupport
import Testing

/// `--check-config`, as an operator runs it after a change: the built binary.
final class CheckConfigTests {
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory() }
    deinit { scratch.remove() }

    @Test func theShippedConfigPointedAtARootPasses() throws {
        let config = scratch.file("thumbnail.conf")
        try adapt("thumbnail.conf", ["root": scratch.path, "log": scratch.file("access.log")])
            .write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        let outcome = try thumbnail(["--check-config", "--config", config])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(outcome.error.isEmpty)
        let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 9 && lines.allSatisfy { $0.contains(": ok (") }, "\(lines)")
    }

    /// Each problem is named, one line each, and none hides another.
    @Test func everyProblemIsNamed() throws {
        let keys = try writeFile("key-0123456789abcdef\n", "keys", in: scratch, mode: 0o644)
        // Only ImageMagick's JPEG coder can be loaded, so PNG, WebP and GIF lack their encoders
        // (AVIF is written by libheif, not by ImageMagick).
        let coders = try onlyTheJPEGCoder(in: scratch)
        let outcome = try runProcess(
            "/usr/bin/env",
            ["MAGICK_CODER_MODULE_PATH=" + coders, thumbnailBinary, "--check-config", "-r", scratch.file("missing"),
             "--key-file", keys, "--sizes", "100x100,5O"])
        // The first problem's status: --sizes is a usage error.
        #expect(outcome.status == 64)
        let problems = outcome.error.split(separator: "\n").map(String.init)
        #expect(problems.contains("thumbnail: --sizes: '5O': size must be WxH, Wx or xH"), "\(problems)")
        #expect(problems.contains("thumbnail: \(scratch.file("missing")): storage root: No such file or directory"))
        #expect(problems.contains("thumbnail: \(keys): mode 0644: group or others may read or change it; chmod go-rwx"))
        for format in ["png", "webp", "gif"] {
            #expect(problems.contains { $0.hasPrefix("thumbnail: \(format): cannot be written") }, "\(format)")
        }
        #expect(!problems.contains { $0.hasPrefix("thumbnail: jpeg:") || $0.hasPrefix("thumbnail: avif:") })
        #expect(problems.count == 6, "\(problems)")
    }

    /// The storage line and the exit status of `--check-config` with `arguments`.
    func storageCheck(_ arguments: [String], environment: [String: String]? = nil) throws -> (line: String, status: Int32, error: String) {
        let outcome = try thumbnail(["--check-config"] + arguments, environment: environment)
        let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").map(String.init)
        return (lines.first { $0.hasPrefix("storage: ") } ?? "none", outcome.status, outcome.error)
    }

    /// An S3 root lists its prefix, one key at most: the example policy
    /// allows it; s3:GetObject alone does not, and the line says so. An
    /// HTTP origin never lists: its start-up asks the store nothing.
    @Test func anS3RootListsItsPrefix() throws {
        let images = scratch.file("images")
        try FileManager.default.createDirectory(atPath: images + "/deep", withIntermediateDirectories: true)
        try sh("convert -size 20x10 xc:orange deep/a.jpg", directory: images)
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let root = ["-r", "s3://\(moto.bucket)/deep", "--s3-endpoint", moto.endpoint]
        let listed = try storageCheck(root, environment: moto.environment(keyID: moto.lister.keyID, secret: moto.lister.secret))
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.line.hasSuffix(", prefix listed with credentials from the environment (AWS_ACCESS_KEY_ID))"), "\(listed.line)")
        let refused = try storageCheck(root, environment: moto.environment())
        #expect(refused.status == 69)
        #expect(
            refused.error.contains(
                "S3 answered 403 AccessDenied to a listing of 'deep/': the credentials from the environment "
                    + "(AWS_ACCESS_KEY_ID) lack s3:ListBucket on arn:aws:s3:::images for that prefix"), "\(refused.error)")
        let (reply, _) = try inetdGet("/healthz", root, environment: moto.environment(), scratch: scratch)
        #expect(reply?.statusLine == "HTTP/1.1 200 OK")
        let log = try String(contentsOfFile: moto.log, encoding: .utf8)
        #expect(log.components(separatedBy: "list-type=2").count == 3, "two listings, both --check-config's")
    }

    /// An http root answers a HEAD of its URL: a 404 is a store that is
    /// there; a 5xx, a 403, a time-out or a refused connection is not.
    @Test func anHTTPRootAnswersAHead() throws {
        try sh("convert -size 20x10 xc:orange landscape.jpg", directory: scratch.path)
        let web = try WebStore(serving: scratch.path, files: scratch.file("web"))
        defer { web.nginx.stop() }
        let there = try storageCheck(["-r", "http://127.0.0.1:\(web.port)/sub"])
        #expect(there.status == 0, "\(there.error)")
        #expect(there.line.hasSuffix(", which answered 404 to HEAD http://127.0.0.1:\(web.port)/sub/)"), "\(there.line)")
        let store = try MisbehavingStore(image: scratch.file("landscape.jpg"), directory: scratch.path)
        defer { store.daemon.stop() }
        for status in [403, 503] {
            let refused = try storageCheck(["-r", "http://127.0.0.1:\(store.port)/\(status)"])
            #expect(refused.status == 69)
            #expect(refused.line == "storage: refused: http://127.0.0.1:\(store.port)/\(status)/: the store answered \(status) to HEAD")
        }
        let silent = try storageCheck(["-r", "http://127.0.0.1:\(store.port)/hang", "--source-timeout", "1"])
        #expect(silent.status == 69 && silent.line.hasPrefix("storage: refused: "), "\(silent.line)")
        let closed = try storageCheck(["-r", "http://127.0.0.1:\(try freePort())"])
        #expect(closed.status == 69 && closed.line.hasPrefix("storage: refused: "), "\(closed.line)")
    }

    /// `--log` opens for appending, or its directory would let it be created; the check creates nothing.
    @Test func theLogIsCheckedWithoutBeingCreated() throws {
        func logLine(_ arguments: [String]) throws -> (line: String, status: Int32) {
            let outcome = try thumbnail(["--check-config", "-r", scratch.path] + arguments)
            let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").map(String.init)
            return (lines.first { $0.hasPrefix("log: ") } ?? "none", outcome.status)
        }
        #expect(try logLine([]) == ("log: ok (to syslog, without --log)", 0))
        let absent = scratch.file("access.log")
        #expect(try logLine(["--log", absent]) == ("log: ok (\(absent) does not exist yet; the first request creates it)", 0))
        #expect(!FileManager.default.fileExists(atPath: absent))
        try Data().write(to: URL(fileURLWithPath: absent))
        #expect(try logLine(["--log", absent]) == ("log: ok (appends to \(absent))", 0))
        let nowhere = scratch.file("no/such/access.log")
        #expect(
            try logLine(["--log", nowhere])
                == ("log: refused: \(nowhere): cannot be appended to: No such file or directory; the HTTP mode would log to syslog", 78))
    }
}
