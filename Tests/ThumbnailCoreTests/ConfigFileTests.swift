import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// `--config FILE`, read in-process.
final class ConfigFileTests {
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory() }
    deinit { scratch.remove() }

    func settings(_ text: String, mode: mode_t = 0o644, then arguments: [String] = []) throws -> Settings {
        let config = try writeFile(text, "thumbnail.conf", in: scratch, mode: mode)
        return try parseSettings(["--config", config] + arguments).0
    }

    @Test func everyOptionACommentAndABlankLine() throws {
        let text = """
            # thumbnail origin
            background = 102030
            ca-file = /etc/thumbnail/ca.pem
            cache-control = public, max-age=600
            client-ip-header = CloudFront-Viewer-Address
            crop
            error-max-age = 0
            focal = 10,20
              format=webp   # spaces and inline comments
            gravity = ne
            idle-timeout = 30
            key-file = /etc/thumbnail/keys
            log = /var/log/thumbnail.log
            log-format = json
            max-bytes = 1000000
            max-connections = 64
            max-frames = 10
            max-pixels = 2000000
            max-renders = 3
            max-requests = 7
            max-side = 2000
            no-server-timing
            origin-token-file = /etc/thumbnail/token

            origin-token-header = X-From-CDN
            pad
            prefix =
            quality = 70
            queue-timeout = 0
            read-timeout = 5
            render-slots = /run/thumbnail/slots
            root = /srv/images
            s3-endpoint = https://minio.internal:9000
            s3-region = eu-west-1
            shutdown-timeout = 25
            size = 300x200
            sizes = 100x100, 200x200 ,x64
            smart
            source-timeout = 12
            """
        let settings = try settings(text)
        let configurable = optionTable.filter(\.configurable).map(\.long)
        let names = text.split(separator: "\n").compactMap { line -> String? in
            let name = line.prefix { $0 != "=" && $0 != "#" }.trimmingSpaces
            return name.isEmpty ? nil : String(name)
        }
        #expect(names == configurable, "the file above sets every option a config file can set, in table order")
        #expect(settings.background == RGB(red: 0x10, green: 0x20, blue: 0x30))
        #expect(settings.cacheControl == "public, max-age=600" && settings.errorMaxAge == 0)
        #expect(settings.idleTimeout == 30 && settings.readTimeout == 5 && settings.maxRequests == 7)
        #expect(settings.logFile == "/var/log/thumbnail.log")
        #expect(settings.maxConnections == 64 && settings.maxRenders == 3 && settings.queueTimeout == 0)
        #expect(settings.renderSlots == "/run/thumbnail/slots" && settings.shutdownTimeout == 25 && !settings.serverTiming)
        #expect(settings.logFormat == .json && settings.clientIPHeader == "CloudFront-Viewer-Address")
        #expect(settings.remote.caFile == "/etc/thumbnail/ca.pem" && settings.remote.timeout == 12)
        #expect(settings.remote.endpoint == "https://minio.internal:9000" && settings.remote.region == "eu-west-1")
        #expect(settings.crop && settings.pad)
        #expect(settings.format == .webp)
        #expect(settings.focalPoint == FocalPoint(x: 10, y: 20) && settings.gravity == .northEast && settings.smart)
        #expect(settings.keyFile == "/etc/thumbnail/keys")
        #expect(settings.originTokenFile == "/etc/thumbnail/token")
        #expect(settings.originTokenHeader == "X-From-CDN")
        #expect(settings.prefix == "")
        #expect(settings.quality == 70)
        #expect(settings.root == .directory("/srv/images"))
        #expect(settings.limits.maxBytes == 1_000_000 && settings.limits.maxFrames == 10)
        #expect(settings.limits.maxPixels == 2_000_000 && settings.maxSide == 2000)
        #expect(settings.size == "300x200")
        #expect(
            settings.allowedSizes == [
                BoxSize(width: 100, height: 100), BoxSize(width: 200, height: 200), BoxSize(width: nil, height: 64),
            ])
    }

    @Test func theCommandLineWins() throws {
        let settings = try settings("root = /srv\nsizes = 10x10\n", then: ["--sizes", "20x20", "-r", "/tmp"])
        #expect(settings.root == .directory("/tmp"))
        #expect(settings.allowedSizes == [BoxSize(width: 20, height: 20)])
    }

    @Test(arguments: [
        ("root = /srv\nroot /srv/images\n", 2, "expected 'name = value' or 'name', not 'root /srv/images'"),
        ("= /srv\n", 1, "expected 'name = value' or 'name', not '= /srv'"),
        ("\n\n  Root = /srv\n", 3, "expected 'name = value' or 'name', not 'Root = /srv'"),
        ("--root = /srv\n", 1, "'--root' is not an option a config file can set"),
        ("frobnicate = 1\n", 1, "'frobnicate' is not an option a config file can set"),
        ("output = /tmp/x.jpg\n", 1, "'output' is not an option a config file can set"),
        ("config = other.conf\n", 1, "'config' is not an option a config file can set"),
        ("sign\n", 1, "'sign' is not an option a config file can set"),
        ("crop = yes\n", 1, "'crop' takes no value"),
        ("root\n", 1, "'root' needs '= value'"),
        ("# a\nquality = 0\n", 2, "--quality: '0' is not a whole number from 1 to 100"),
        ("sizes = 100x100,,x64\n", 1, "--sizes: '': size must be WxH, Wx or xH"),
        ("sizes = 100x100, 1 00x5\n", 1, "--sizes: '1 00x5': each side is a whole number from 1, without sign or leading zero"),
        ("sizes = 100x100,0x5\n", 1, "--sizes: '0x5': each side is a whole number from 1, without sign or leading zero"),
        ("origin-token-header = X Token\n", 1, "--origin-token-header: 'X Token' is not an HTTP header name"),
        ("root = /a\nquality = 70\nroot = /b\n", 3, "'root' was already set on line 1"),
    ])
    func badLinesNameTheFileAndLine(text: String, line: Int, reason: String) {
        let error = thrown { _ = try settings(text) }
        #expect(error == ThumbnailError(.usage, scratch.file("thumbnail.conf") + ":\(line)", reason))
    }

    /// A config file's mistake is one line: the command line's usage says nothing of it,
    /// while the command line's own mistake is followed by it.
    @Test func aBadLineIsOneLineWithoutTheUsage() throws {
        let file = try writeFile("quality = 0\n", "thumbnail.conf", in: scratch, mode: 0o644)
        let outcome = try runInProcess(["--config", file, "-s", "10", "landscape.jpg"], directory: scratch.path)
        #expect(outcome.status == 64)
        #expect(outcome.error == "thumbnail: \(file):1: --quality: '0' is not a whole number from 1 to 100\n")
        let commandLine = try runInProcess(["-q", "0", "-s", "10", "landscape.jpg"], directory: scratch.path)
        #expect(commandLine.status == 64)
        #expect(commandLine.error.contains("\nusage: thumbnail "), "\(commandLine.error)")
    }

    @Test(arguments: [0o664, 0o646, 0o666, 0o622] as [mode_t])
    func aConfigFileOthersMayChangeIsRefused(mode: mode_t) {
        let error = thrown { _ = try settings("root = /srv\n", mode: mode) }
        #expect(
            error
                == ThumbnailError(
                    .usage, scratch.file("thumbnail.conf"),
                    "mode 0\(String(mode, radix: 8)): group or others may change it; chmod go-w"))
    }

    /// Request options from the file or the environment are the flags form's
    /// defaults: a thumbnail path says its own and takes none of them; the
    /// same options on the command line are still refused beside a path.
    @Test func requestOptionsAreDefaultsOfTheFlagsFormOnly() throws {
        try sh("convert -size 64x48 gradient:red-blue a.jpg", directory: scratch.path)
        let config = try writeFile("root = \(scratch.path)\nquality = 20\nsize = 16x16\n", "thumbnail.conf", in: scratch)
        let path = try runInProcess(["--config", config, "/thumbnail/32x32/a.jpg"])
        #expect(path.status == 0, "\(path.error)")
        #expect(path.output == (try runInProcess(["-r", scratch.path, "/thumbnail/32x32/a.jpg"])).output)
        let fromEnvironment = try runInProcess(
            ["-r", scratch.path, "/thumbnail/32x32/a.jpg"], environment: ["THUMBNAIL_QUALITY": "20", "THUMBNAIL_CROP": "1"])
        #expect(fromEnvironment.status == 0 && fromEnvironment.output == path.output, "\(fromEnvironment.error)")
        let flags = try runInProcess(["--config", config, "a.jpg"])
        #expect(flags.output == (try runInProcess(["-r", scratch.path, "-s", "16x16", "-q", "20", "a.jpg"])).output)
        #expect(flags.output != path.output)
        let given = try runInProcess(["--config", config, "-q", "30", "/thumbnail/32x32/a.jpg"])
        #expect(given.status == 64 && given.error.hasPrefix("thumbnail: /thumbnail/32x32/a.jpg: a thumbnail path already says"))
    }

    /// A link, as Kubernetes mounts a ConfigMap's files: the file it leads to is read, and checked.
    @Test func aLinkIsFollowedToTheFileChecked() throws {
        let config = try writeFile("root = /srv/images\n", "real.conf", in: scratch, mode: 0o644)
        try FileManager.default.createSymbolicLink(atPath: scratch.file("link.conf"), withDestinationPath: config)
        #expect(try parseSettings(["--config", scratch.file("link.conf")]).0.root == .directory("/srv/images"))
        chmod(config, 0o664)
        #expect(thrown { _ = try parseSettings(["--config", scratch.file("link.conf")]) }?.reason.hasPrefix("mode 0664") == true)
        // But not from a directory others may write to, where anyone could have made the link.
        chmod(config, 0o644)
        chmod(scratch.path, 0o777)
        defer { chmod(scratch.path, 0o755) }
        #expect(thrown { _ = try parseSettings(["--config", scratch.file("link.conf")]) }?.reason
            == "group or others may write to directory \(scratch.path) (mode 0777)")
    }

    @Test func aMissingConfigFileIsNotFound() {
        #expect(thrown { _ = try parseSettings(["--config", scratch.file("none.conf")]) }?.kind == .notFound)
    }
}
