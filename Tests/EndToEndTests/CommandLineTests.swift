import Foundation
import TestSupport
import Testing

/// The built binary, run as a process, on images `convert` made.
final class CommandLineTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
    }

    deinit { scratch.remove() }

    var root: [String] { ["-r", scratch.path] }

    @Test(arguments: [
        (["-s", "100x100"], "/thumbnail/100x100"),
        (["-s", "100x100", "-f", "webp"], "/thumbnail/100x100/webp"),
        (["-s", "300x200", "--crop", "-q", "70", "-f", "jpg"], "/thumbnail/300x200,crop,q70/jpeg"),
        (["-s", "120x120", "--pad", "--background", "ff0000", "-f", "png"], "/thumbnail/120x120,pad,bgff0000/png"),
        (["-s", "x64", "-f", "avif"], "/thumbnail/x64/avif"),
        (["-s", "64x", "-f", "gif"], "/thumbnail/64x/gif"),
    ])
    func flagsAndPathGiveTheSameBytes(flags: [String], path: String) throws {
        for source in ["landscape.jpg", "portrait.png"] {
            let fromFlags = try thumbnail(root + flags + [source])
            let fromPath = try thumbnail(root + [path + "/" + source])
            let fromURL = try thumbnail(root + ["https://cdn.example.com" + path + "/" + source + "?x=1"])
            #expect(fromFlags.status == 0, "\(fromFlags.error)")
            #expect(fromFlags.output.count > 0)
            #expect(fromFlags.output == fromPath.output)
            #expect(fromFlags.output == fromURL.output)
        }
    }

    @Test(arguments: [
        ("100x100", "landscape.jpg", "100x63"), ("100x100", "portrait.png", "60x100"),
        ("100x100", "tiny.png", "20x10"), ("100x100,crop", "landscape.jpg", "100x100"),
        ("100x100,crop", "portrait.png", "100x100"), ("100x100,crop", "tiny.png", "100x100"),
        ("100x100,pad", "landscape.jpg", "100x100"), ("100x100,pad", "portrait.png", "100x100"),
        ("100x100,pad", "tiny.png", "100x100"), ("50x", "portrait.png", "50x83"), ("x50", "landscape.jpg", "80x50"),
        ("2000x2000", "landscape.jpg", "640x400"),
    ])
    func outputDimensions(size: String, source: String, expected: String) throws {
        let output = scratch.file("dims-\(size)-\(source).png")
        let outcome = try thumbnail(root + ["-o", output, "/thumbnail/\(size)/png/\(source)"])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(try dimensions(output) == expected)
    }

    @Test func padIsCentredOnTheBackground() throws {
        let output = scratch.file("pad.png")
        try thumbnail(root + ["-o", output, "/thumbnail/100x100,pad,bg00ff00/png/tiny.png"])
        #expect(try sh("convert '\(output)' -format '%[pixel:p{5,5}]' info:") == "srgb(0,255,0)")
        #expect(try sh("convert '\(output)' -format '%[pixel:p{50,50}]' info:") != "srgb(0,255,0)")
    }

    @Test(arguments: [
        ("jpeg", [0xff, 0xd8, 0xff]), ("png", [0x89, 0x50, 0x4e, 0x47]), ("gif", Array("GIF89a".utf8)),
        ("webp", Array("RIFF".utf8)), ("avif", Array("ftypavif".utf8)),
    ] as [(String, [UInt8])])
    func outputFormatMagicBytes(format: String, magic: [UInt8]) throws {
        let first = try thumbnail(root + ["/thumbnail/80x80/\(format)/landscape.jpg"])
        #expect(first.status == 0, "\(first.error)")
        let bytes = [UInt8](first.output)
        let offset = format == "avif" ? 4 : 0
        #expect(Array(bytes.dropFirst(offset).prefix(magic.count)) == magic)
        let second = try thumbnail(root + ["/thumbnail/80x80/\(format)/landscape.jpg"])
        #expect(second.output == first.output, "a second run gives other bytes")
    }

    @Test func formatDefaultsToTheSource() throws {
        #expect([UInt8](try thumbnail(root + ["/thumbnail/50x50/portrait.png"]).output).starts(with: [0x89, 0x50]))
        #expect([UInt8](try thumbnail(root + ["/thumbnail/50x50/landscape.jpg"]).output).starts(with: [0xff, 0xd8]))
    }

    @Test func standardInput() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.file("landscape.jpg")))
        let piped = try thumbnail(["-s", "100x100", "-"], input: bytes)
        #expect(piped.status == 0, "\(piped.error)")
        #expect(piped.output == (try thumbnail(root + ["-s", "100x100", "landscape.jpg"])).output)
    }

    @Test func outputFileIsWrittenWhole() throws {
        let output = scratch.file("out.webp")
        let outcome = try thumbnail(root + ["-o", output, "/thumbnail/100x100/webp/landscape.jpg"])
        #expect(outcome.status == 0)
        #expect(outcome.output.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == (try thumbnail(root + ["-s", "100x100", "-f", "webp", "landscape.jpg"])).output)
        #expect(try scratch.contents().filter { $0.hasPrefix(".thumbnail-") }.isEmpty)
    }

    @Test func readOnlyDirectoryExits73AndLeavesNothing() throws {
        let locked = scratch.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        chmod(locked, 0o555)
        // root ignores permissions, so drop to nobody as a real user would be.
        let prefix = getuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        let outcome = try runProcess(
            "/usr/bin/env",
            prefix + [thumbnailBinary, "-r", scratch.path, "-o", locked + "/out.jpg", "-s", "10x10", "landscape.jpg"])
        #expect(outcome.status == 73, "\(outcome.error)")
        #expect(outcome.error.hasPrefix("thumbnail: \(locked)/out.jpg: "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: locked).isEmpty)
    }

    @Test func missingOutputDirectoryExits73() throws {
        let outcome = try thumbnail(root + ["-o", scratch.file("no/such/dir/out.jpg"), "-s", "10x10", "landscape.jpg"])
        #expect(outcome.status == 73)
    }

    @Test func neverWritesOverTheSource() throws {
        let source = scratch.file("landscape.jpg")
        let before = try Data(contentsOf: URL(fileURLWithPath: source))
        let outcome = try thumbnail(root + ["-o", source, "-s", "10x10", "landscape.jpg"])
        #expect(outcome.status == 73)
        #expect(outcome.error.contains("is the source file"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == before)
    }

    @Test func refusesToWriteImageBytesToATerminal() throws {
        let command = "'\(thumbnailBinary)' -r '\(scratch.path)' -s 10x10 landscape.jpg"
        let outcome = try runProcess("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(outcome.status == 64)
        #expect(String(decoding: outcome.output, as: UTF8.self).contains("stdout: is a terminal"))
    }

    @Test(arguments: [
        (["--frobnicate", "a.jpg"], Int32(64), "thumbnail: --frobnicate: unknown option; see --help"),
        (["--for", "webp", "a.jpg"], 64, "thumbnail: --for: unknown option; did you mean --format?"),
        (["landscape.jpg"], 64, "thumbnail: -s: a size is required: -s WxH, Wx or xH, or -s N for NxN"),
        (["-s", "10x10"], 64, "thumbnail: arguments: no source given"),
        (["-s", "10x10", "/thumbnail/10x10/landscape.jpg"], 64,
            "thumbnail: /thumbnail/10x10/landscape.jpg: a thumbnail path already says size, format and options"),
        (["-s", "10x10", "missing.jpg"], 66, "thumbnail: missing.jpg: No such file or directory"),
        (["/thumbnail/10x10/missing.jpg"], 66, "thumbnail: missing.jpg: No such file or directory"),
        (["/thumbnail/0x0/landscape.jpg"], 65,
            "thumbnail: 0x0: each side is a whole number from 1, without sign or leading zero"),
        (["/thumbnail/10x10/../landscape.jpg"], 77, "thumbnail: ../landscape.jpg: '..' would leave the storage root"),
        (["-s", "10x10", "/etc/passwd"], 77,
            "thumbnail: /etc/passwd: absolute paths are not allowed; give a path inside the root"),
    ])
    func badInvocations(arguments: [String], status: Int32, message: String) throws {
        let outcome = try thumbnail(root + arguments)
        #expect(outcome.status == status)
        #expect(outcome.error.split(separator: "\n").first.map(String.init) == message)
        #expect(outcome.output.isEmpty)
    }

    @Test func symlinkOutOfTheRootIsRefusedWithoutOpeningIt() throws {
        // The target is a FIFO: opening it would block until the timeout kills the run.
        let storage = scratch.file("storage")
        try FileManager.default.createDirectory(atPath: storage + "/photos", withIntermediateDirectories: true)
        mkfifo(scratch.file("secret.jpg"), 0o644)
        try FileManager.default.createSymbolicLink(atPath: storage + "/photos/link.jpg", withDestinationPath: "../../secret.jpg")
        try FileManager.default.createSymbolicLink(atPath: storage + "/up", withDestinationPath: "..")
        for path in ["/thumbnail/10x10/photos/link.jpg", "/thumbnail/10x10/up/secret.jpg", "/thumbnail/10x10/up/landscape.jpg"] {
            let outcome = try thumbnail(["-r", storage, path])
            #expect(outcome.status == 77, "\(path): \(outcome.error)")
            #expect(outcome.error.hasSuffix("resolves outside the storage root\n"))
        }
    }

    @Test(arguments: [
        "/thumbnail/10x10/../secret.jpg", "/thumbnail/10x10/%2e%2e/secret.jpg", "/thumbnail/10x10/%252e%252e/secret.jpg",
        "/thumbnail/10x10/..%2fsecret.jpg", "/thumbnail/10x10/secret.jpg%00", "/thumbnail/10x10/..\\secret.jpg",
        "/thumbnail/10x10//secret.jpg",
    ])
    func traversalNeverReadsOutsideTheRoot(path: String) throws {
        let storage = scratch.file("jail")
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        mkfifo(scratch.file("secret.jpg"), 0o644)
        let outcome = try thumbnail(["-r", storage, path])
        #expect([65, 66, 77].contains(outcome.status), "\(path): \(outcome.status) \(outcome.error)")
        #expect(outcome.output.isEmpty)
    }

    @Test func explainPrintsThePlanWithoutRendering() throws {
        let outcome = try thumbnail(root + ["--explain", "/thumbnail/100x100,q80,crop/webp/portrait.png"])
        #expect(outcome.status == 0)
        #expect(
            String(decoding: outcome.output, as: UTF8.self) == """
                canonical: /thumbnail/100x100,crop,q80/webp/portrait.png
                signature: not required (no --key-file)
                size: any (no --sizes)
                source: portrait.png (png 300x500, orientation 1)
                mode: crop
                resize: 100x167
                window: 100x100+0+33 of the resized image, 300x300+0+99 of the source
                output: webp 100x100 quality 80

                """)
    }

    @Test func configFileSetsLongOptionsAndTheCommandLineWins() throws {
        let config = scratch.file("thumbnail.conf")
        try "# storage\nroot = \(scratch.path)\n\nformat = png  # inline comment\nsize=40x40\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let fromConfig = try thumbnail(["--config", config, "landscape.jpg"])
        #expect(fromConfig.status == 0, "\(fromConfig.error)")
        #expect([UInt8](fromConfig.output).starts(with: [0x89, 0x50]))
        let overridden = try thumbnail(["--config", config, "-f", "gif", "landscape.jpg"])
        #expect([UInt8](overridden.output).starts(with: Array("GIF".utf8)))
        try "root = \(scratch.path)\nfrobnicate = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try thumbnail(["--config", config, "landscape.jpg"])
        #expect(bad.status == 64)
        #expect(bad.error.hasPrefix("thumbnail: \(config):2: 'frobnicate' is not an option a config file can set"))
    }

    @Test func undecodableSourcesExit65() throws {
        try "not an image at all".write(toFile: scratch.file("text.jpg"), atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: scratch.file("empty.jpg"), contents: Data())
        for name in ["text.jpg", "empty.jpg"] {
            let output = scratch.file("never.jpg")
            let outcome = try thumbnail(root + ["-o", output, "-s", "10x10", name])
            #expect(outcome.status == 65, "\(name): \(outcome.error)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }

    @Test func helpAndVersion() throws {
        let help = try thumbnail(["--help"])
        #expect(help.status == 0)
        #expect(String(decoding: help.output, as: UTF8.self).hasPrefix("usage: thumbnail"))
        let version = String(decoding: try thumbnail(["--version"]).output, as: UTF8.self)
        #expect(version.hasPrefix("thumbnail 0."))
        #expect(version.contains("ImageMagick 6.9"))
        #expect(version.contains("webp"))
    }

    /// A shell loop runs the binary once a file, each writing beside its source.
    @Test func findRunsItOnEachFile() throws {
        try sh("mkdir -p x && cp landscape.jpg x/a.jpg && cp portrait.png x/b.jpg", directory: scratch.path)
        let found = try sh(
            "find x -name '*.jpg' -exec '\(thumbnailBinary)' -s 64x64 -o {}.small.webp {} \\; && head -c 12 x/a.jpg.small.webp | tail -c 4",
            directory: scratch.path)
        #expect(found == "WEBP")
        #expect(try dimensions(scratch.file("x/b.jpg.small.webp")) == "38x64")
    }
}
