import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// `THUMBNAIL_*` variables through `run(arguments, io)`: between a
/// `--config` file and the command line, one for each option the file may set.
final class EnvironmentTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try sh("convert -size 64x40 gradient:red-blue landscape.jpg", directory: scratch.path)
    }

    deinit { scratch.remove() }

    func text(_ outcome: Outcome) -> String { String(decoding: outcome.output, as: UTF8.self) }

    func config(_ text: String) throws -> String { try writeFile(text, "thumbnail.conf", in: scratch, mode: 0o644) }

    /// The command line beats the environment, which beats the file.
    @Test func theCommandLineThenTheEnvironmentThenTheFile() throws {
        let file = try config("root = /nonexistent\nsizes = 10x10\nmax-bytes = 50000\n")
        let environment = ["THUMBNAIL_ROOT": scratch.path, "THUMBNAIL_SIZES": "20x20,32x32"]
        let explain = ["--config", file, "--explain", "/thumbnail/32x32/landscape.jpg"]
        let fromEnvironment = try runInProcess(explain, environment: environment)
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.error)")
        #expect(text(fromEnvironment).contains("size: ok (in --sizes)\n"), "\(text(fromEnvironment))")
        let commandLine = try runInProcess(explain + ["--sizes", "64x64"], environment: environment)
        #expect(commandLine.status == 77 && text(commandLine).contains("size: refused"), "\(commandLine.error)")
        // The file's own values still apply where no variable says otherwise.
        let settings = try parseSettings(["--config", file], environment: environment).0
        #expect(settings.root == .directory(scratch.path) && settings.limits.maxBytes == 50000)
        #expect(settings.allowedSizes == [BoxSize(width: 20, height: 20), BoxSize(width: 32, height: 32)])
    }

    /// A number, a word, a path, a list, a colour and a flag, as the option takes them.
    @Test func eachKindOfValue() throws {
        let environment = [
            "THUMBNAIL_MAX_BYTES": "1000", "THUMBNAIL_LOG_FORMAT": "json", "THUMBNAIL_KEY_FILE": "/etc/keys",
            "THUMBNAIL_SIZES": "100x100, x64", "THUMBNAIL_BACKGROUND": "102030", "THUMBNAIL_PAD": "Yes",
            "THUMBNAIL_PREFIX": "",
        ]
        let settings = try parseSettings([], environment: environment).0
        #expect(settings.limits.maxBytes == 1000 && settings.logFormat == .json && settings.keyFile == "/etc/keys")
        #expect(settings.allowedSizes == [BoxSize(width: 100, height: 100), BoxSize(width: nil, height: 64)])
        #expect(settings.background == RGB(red: 0x10, green: 0x20, blue: 0x30) && settings.pad)
        #expect(settings.prefix == "")
    }

    /// A flag's variable turns it on or off; off, it overrides the file's line.
    @Test(arguments: [("1", true), ("true", true), ("YES", true), ("0", false), ("False", false), ("no", false)])
    func aFlag(value: String, on: Bool) throws {
        #expect(try parseSettings([], environment: ["THUMBNAIL_CROP": value]).0.crop == on)
        let file = try config("crop\n")
        #expect(try parseSettings(["--config", file], environment: ["THUMBNAIL_CROP": value]).0.crop == on)
        let rendered = try runInProcess(
            ["-r", scratch.path, "-s", "20x20", "landscape.jpg"], environment: ["THUMBNAIL_CROP": value])
        #expect(rendered.status == 0, "\(rendered.error)")
        let header = try #require(try ImageHeader(Array(rendered.output), format: .jpeg))
        #expect((header.width, header.height) == (on ? (20, 20) : (20, 13)))
    }

    @Test(arguments: [
        ("THUMBNAIL_MAX_BYTES", "abc", "'abc' is not a whole number from 1"),
        ("THUMBNAIL_QUALITY", "0", "'0' is not a whole number from 1 to 100"),
        ("THUMBNAIL_ROOT", "s3://A", "'s3://A': not an S3 bucket name (3-63 of a-z 0-9 . -)"),
        ("THUMBNAIL_SMART", "on", "'on' is not one of '1', 'true', 'yes', '0', 'false', 'no'"),
        ("THUMBNAIL_ROOOT", "/srv", "no such variable; did you mean THUMBNAIL_ROOT?"),
        ("THUMBNAIL_max_side", "10", "no such variable; did you mean THUMBNAIL_MAX_SIDE?"),
        ("THUMBNAIL_OUTPUT", "/tmp/a.jpg", "--output is given on the command line only"),
        ("THUMBNAIL_CONFIG", "/etc/thumbnail.conf", "--config is given on the command line only"),
        ("THUMBNAIL_DIRECTORY", "/srv", "no such variable; see ENVIRONMENT in thumbnail(1)"),
    ])
    func aBadVariableIsNamedWithTheUsageStatus(variable: String, value: String, reason: String) throws {
        let outcome = try runInProcess(["-r", scratch.path, "-s", "10", "landscape.jpg"], environment: [variable: value])
        #expect(outcome.status == 64)
        // One line: the command line's usage says nothing of a variable.
        #expect(outcome.error == "thumbnail: \(variable): \(reason)\n", "\(outcome.error)")
        #expect(outcome.output.isEmpty)
    }

    /// A variable that would hold a key or a token is refused, its value never repeated.
    @Test(arguments: ["THUMBNAIL_KEY", "THUMBNAIL_ORIGIN_TOKEN", "THUMBNAIL_SIGNING_SECRET", "THUMBNAIL_KEYS"])
    func aSecretIsNeverTakenFromTheEnvironment(variable: String) throws {
        let outcome = try runInProcess(
            ["-r", scratch.path, "-s", "10", "landscape.jpg"], environment: [variable: "hunter2-0123456789abcdef"])
        #expect(outcome.status == 64)
        #expect(
            outcome.error.hasPrefix(
                "thumbnail: \(variable): secrets are never read from the environment, which other processes can see; "
                    + "write it to a file and name the file in THUMBNAIL_KEY_FILE or THUMBNAIL_ORIGIN_TOKEN_FILE\n"),
            "\(outcome.error)")
        #expect(!outcome.error.contains("hunter2"))
    }

    /// No option takes a secret as its value, so no variable holds one.
    @Test func noVariableHoldsASecret() {
        for name in optionTable.compactMap(\.environmentName) {
            #expect(!soundsSecret(name), "\(name) would put a secret in the environment")
        }
        #expect(soundsSecret("THUMBNAIL_KEYS") && soundsSecret("THUMBNAIL_ORIGIN_TOKEN") && !soundsSecret("THUMBNAIL_KEY_FILE"))
    }

    /// Kubernetes' service links for a Service named thumbnail are not thumbnail's.
    @Test func serviceLinksAreLeftAlone() throws {
        let environment = [
            "THUMBNAIL_PORT": "tcp://10.0.0.7:80", "THUMBNAIL_PORT_80_TCP_ADDR": "10.0.0.7",
            "THUMBNAIL_SERVICE_HOST": "10.0.0.7", "THUMBNAIL_SERVICE_PORT": "80",
        ]
        let outcome = try runInProcess(["-r", scratch.path, "-s", "10", "landscape.jpg"], environment: environment)
        #expect(outcome.status == 0, "\(outcome.error)")
    }

    /// Under inetd a bad variable is a configuration the origin cannot use:
    /// 503, never cached, logged, nothing on stderr.
    @Test func underInetdABadVariableIs503AndLogged() throws {
        let log = scratch.file("access.log")
        let outcome = try runInProcess(
            ["--inetd", "-r", scratch.path],
            input: Data("GET /thumbnail/10x10/landscape.jpg HTTP/1.1\r\nHost: t\r\n\r\n".utf8),
            environment: ["THUMBNAIL_LOG": log, "THUMBNAIL_MAX_BYTES": "abc"])
        #expect(outcome.error.isEmpty)
        let response = try #require(readResponses(outcome.output).responses.first)
        #expect(response.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(response.field("cache-control") == "no-store")
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains(" 503 ") && logged.contains("THUMBNAIL_MAX_BYTES: 'abc' is not a whole number from 1"), "\(logged)")
        #expect(outcome.status == 64)
    }

    /// --check-config names every bad variable with the other problems.
    @Test func checkConfigNamesEveryBadVariable() throws {
        let outcome = try runInProcess(
            ["--check-config", "-r", scratch.path],
            environment: ["THUMBNAIL_MAX_BYTES": "abc", "THUMBNAIL_ROOOT": "/srv"])
        #expect(outcome.status == 64)
        #expect(outcome.error.contains("thumbnail: THUMBNAIL_MAX_BYTES: 'abc' is not a whole number from 1\n"))
        #expect(outcome.error.contains("thumbnail: THUMBNAIL_ROOOT: no such variable; did you mean THUMBNAIL_ROOT?\n"))
    }
}
