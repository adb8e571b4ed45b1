import Foundation
import TestSupport
import Testing

/// Sizes, signatures, `--sign`, `--explain` and key files through the built binary.
final class AccessCommandLineTests {
    let scratch: ScratchDirectory
    let keys: String
    let newKey = "new-key-0123456789abcdef"
    let oldKey = "old key with ' and \" and $HOME"

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        keys = try writeFile("\(newKey)\n\(oldKey)\n", "keys", in: scratch)
    }

    deinit { scratch.remove() }

    var root: [String] { ["-r", scratch.path] }

    func text(_ outcome: Outcome) -> String { String(decoding: outcome.output, as: UTF8.self) }

    @Test func signedPathsRenderTheSameBytesAsUnsignedOnes() throws {
        let sign = try runInProcess(["--key-file", keys, "--sign", "/thumbnail/100x100,q80/jpg/landscape.jpg"])
        #expect(sign.status == 0, "\(sign.error)")
        let signature = try opensslSignature("/100x100/jpeg/landscape.jpg", key: Array(newKey.utf8), scratch: scratch)
        let signed = "/thumbnail/\(signature)/100x100/jpeg/landscape.jpg"
        #expect(text(sign) == signed + "\n")
        let rendered = try runInProcess(root + ["--key-file", keys, signed])
        #expect(rendered.status == 0, "\(rendered.error)")
        #expect(rendered.output == (try runInProcess(root + ["/thumbnail/100x100/jpeg/landscape.jpg"])).output)
        #expect(rendered.output.count > 0)
    }

    @Test func theOldKeyStillVerifies() throws {
        let oldOnly = try writeFile(oldKey + "\n", "old-keys", in: scratch)
        let oldPath = text(try runInProcess(["--key-file", oldOnly, "--sign", "/thumbnail/50x50/portrait.png"]))
            .trimmingCharacters(in: .newlines)
        #expect(oldPath.hasPrefix("/thumbnail/"))
        #expect(try runInProcess(root + ["--key-file", keys, oldPath]).status == 0)
        let newPath = text(try runInProcess(["--key-file", keys, "--sign", oldPath])).trimmingCharacters(in: .newlines)
        #expect(newPath != oldPath)
        #expect(try runInProcess(root + ["--key-file", keys, newPath]).status == 0)
        let newOnly = try writeFile(newKey + "\n", "new-keys", in: scratch)
        let retired = try runInProcess(root + ["--key-file", newOnly, oldPath])
        #expect(retired.status == 77)
        #expect(retired.error.contains(": wrong signature for /50x50/portrait.png"))
    }

    @Test func aChangedCharacterIsRefused() throws {
        let signed = text(try runInProcess(["--key-file", keys, "--sign", "/thumbnail/100x100/landscape.jpg"]))
            .trimmingCharacters(in: .newlines)
        var signature = Array(signed.dropFirst("/thumbnail/".count).prefix(22))
        signature[0] = signature[0] == "A" ? "B" : "A"
        for changed in [
            signed.replacingOccurrences(of: "100x100", with: "100x101"),
            signed.replacingOccurrences(of: "landscape", with: "landscapf"),
            "/thumbnail/" + String(signature) + signed.dropFirst("/thumbnail/".count + 22),
            signed + "x",
        ] {
            #expect(changed != signed)
            let outcome = try runInProcess(root + ["--key-file", keys, changed])
            #expect(outcome.status == 77, "\(changed): \(outcome.error)")
            #expect(outcome.output.isEmpty)
        }
    }

    @Test(arguments: [
        (["/thumbnail/100x100/landscape.jpg"], "thumbnail: /100x100/landscape.jpg: no signature segment; --key-file requires one"),
        (["-s", "100x100", "landscape.jpg"], "thumbnail: flags: with --key-file only signed thumbnail paths are served (see --sign)"),
        (["-s", "100x100", "-"], "thumbnail: flags: with --key-file only signed thumbnail paths are served (see --sign)"),
    ])
    func unsignedRequestsAreRefusedWhenKeysAreConfigured(arguments: [String], message: String) throws {
        let outcome = try runInProcess(root + ["--key-file", keys] + arguments)
        #expect(outcome.status == 77)
        #expect(outcome.error == message + "\n")
        #expect(outcome.output.isEmpty)
    }

    @Test func refusedBeforeTheSourceIsOpened() throws {
        // A FIFO blocks whoever opens it until the timeout kills the run; a missing file would exit 66.
        mkfifo(scratch.file("fifo.jpg"), 0o644)
        let signedFIFO = text(try runInProcess(["--key-file", keys, "--sign", "/thumbnail/100x100/fifo.jpg"]))
            .trimmingCharacters(in: .newlines)
        for (arguments, reason) in [
            (["--sizes", "50x50", "/thumbnail/100x100/fifo.jpg"], "size not allowed (--sizes 50x50)"),
            (["--sizes", "50x50", "/thumbnail/100x100/missing.jpg"], "size not allowed (--sizes 50x50)"),
            (["--sizes", "50x50", "-s", "100x100", "fifo.jpg"], "size not allowed (--sizes 50x50)"),
            (["--sizes", "50x50", "--explain", "/thumbnail/100x100/fifo.jpg"], "size not allowed (--sizes 50x50)"),
            (["--sizes", "50x50", "--key-file", keys, signedFIFO], "size not allowed (--sizes 50x50)"),
            (["--key-file", keys, "/thumbnail/100x100/fifo.jpg"], "no signature segment; --key-file requires one"),
            (["--key-file", keys, signedFIFO.replacingOccurrences(of: "100x100", with: "100x99")], "wrong signature for /100x99/fifo.jpg"),
            (["--key-file", keys, "/thumbnail/100x100/missing.jpg"], "no signature segment; --key-file requires one"),
        ] {
            let started = Date()
            let outcome = try runInProcess(root + arguments)
            #expect(outcome.status == 77, "\(arguments): \(outcome.status) \(outcome.error)")
            #expect(outcome.error.hasSuffix(": " + reason + "\n"), "\(arguments): \(outcome.error)")
            #expect(Date().timeIntervalSince(started) < 10)
        }
    }

    @Test func explainShowsEachCheck() throws {
        let signed = text(try runInProcess(["--key-file", keys, "--sign", "/thumbnail/100x100/portrait.png"]))
            .trimmingCharacters(in: .newlines)
        let passing = try runInProcess(root + ["--key-file", keys, "--sizes", "100x100,x64", "--explain", signed])
        #expect(passing.status == 0, "\(passing.error)")
        #expect(
            text(passing) == """
                canonical: \(signed)
                signature: ok (key 1 of 2)
                size: ok (in --sizes)
                source: portrait.png (png 300x500, orientation 1)
                mode: fit
                resize: 60x100
                output: png 60x100

                """)
        let failing = try runInProcess(root + ["--key-file", keys, "--sizes", "x64", "--explain", "/thumbnail/100x100/portrait.png"])
        #expect(failing.status == 77)
        #expect(
            text(failing) == """
                canonical: \(signed)
                signature: refused: no signature segment; --key-file requires one
                size: refused: size not allowed (--sizes x64)

                """)
        #expect(failing.error == "thumbnail: /100x100/portrait.png: no signature segment; --key-file requires one\n")
        let open = try runInProcess(root + ["--explain", "-s", "100x100", "portrait.png"])
        #expect(text(open).hasPrefix("canonical: /thumbnail/100x100/portrait.png\nsignature: not required (no --key-file)\nsize: any (no --sizes)\nsource: "))
    }

    @Test(arguments: [
        (["--sign", "/thumbnail/100x100/a.jpg"], Int32(64), "thumbnail: --sign: needs --key-file"),
        (["--sign", "-s", "100x100", "a.jpg"], 64, "thumbnail: --size: does not apply to --sign; it goes with rendering (flags or a thumbnail path) or --explain or --picture"),
        (["--sign", "a.jpg"], 64, "thumbnail: a.jpg: --sign takes one thumbnail path or URL"),
        (["--key-file", "KEYS", "--sign", "/thumbnail/0x0/a.jpg"], 65, "thumbnail: 0x0: each side is a whole number from 1, without sign or leading zero"),
        (["--key-file", "KEYS", "--sizes", "50x50", "--sign", "/thumbnail/100x100/a.jpg"], 77, "thumbnail: 100x100: size not allowed (--sizes 50x50)"),
        (["--sizes", "50x50,5O", "a.jpg"], 64, "thumbnail: --sizes: '5O': size must be WxH, Wx or xH"),
        (["--sizes", "100x100,5000x10", "a.jpg"], 64, "thumbnail: --sizes: '5000x10': a side exceeds --max-side 4096"),
        (["--sizes", "5000x10", "--max-side", "5000", "-s", "5000x10", "a.jpg"], 66, "thumbnail: a.jpg: No such file or directory"),
    ])
    func badSigningAndSizeArguments(arguments: [String], status: Int32, message: String) throws {
        // --sign reads no source, so a storage root does not apply to it.
        let outcome = try runInProcess((arguments.contains("--sign") ? [] : root) + arguments.map { $0 == "KEYS" ? keys : $0 })
        #expect(outcome.status == status)
        #expect(outcome.error.split(separator: "\n").first.map(String.init) == message)
        #expect(outcome.output.isEmpty)
    }

    @Test func aSignatureWithoutKeysIsABadPath() throws {
        let signed = text(try runInProcess(["--key-file", keys, "--sign", "/thumbnail/100x100/landscape.jpg"]))
            .trimmingCharacters(in: .newlines)
        let outcome = try runInProcess(root + [signed])
        #expect(outcome.status == 65)
        #expect(outcome.error.hasSuffix(": a signature segment, but no --key-file is configured\n"))
    }

    @Test func keyAndTokenFilesOthersCanReadAreRefused() throws {
        let exposed = try writeFile(newKey + "\n", "exposed-keys", in: scratch, mode: 0o644)
        let empty = try writeFile("", "empty-keys", in: scratch)
        for (arguments, message) in [
            (["--key-file", exposed], "thumbnail: \(exposed): mode 0644: group or others may read or change it; chmod go-rwx"),
            (["--key-file", empty], "thumbnail: \(empty): holds no key"),
        ] {
            let outcome = try runInProcess(root + arguments + ["-s", "10x10", "landscape.jpg"])
            #expect(outcome.status == 64, "\(arguments)")
            #expect(outcome.error.split(separator: "\n").first.map(String.init) == message)
            #expect(outcome.output.isEmpty)
        }
    }

    @Test func aConfigFileCarriesTheAccessOptions() throws {
        let config = try writeFile(
            """
            # origin behind the CDN
            root = \(scratch.path)
            key-file = \(keys)   # newest key first
            sizes = 100x100, x64   # spaces around the commas are allowed
            """, "thumbnail.conf", in: scratch, mode: 0o644)
        #expect(try runInProcess(["--config", config, "--sign", "/thumbnail/100x100/landscape.jpg"]).status == 0)
        let signed = text(try runInProcess(["--config", config, "--sign", "/thumbnail/x64/landscape.jpg"]))
            .trimmingCharacters(in: .newlines)
        #expect(try runInProcess(["--config", config, signed]).status == 0)
        #expect(try runInProcess(["--config", config, "/thumbnail/x64/landscape.jpg"]).status == 77)
        let sized = try runInProcess(["--config", config, "--sign", "/thumbnail/64x/landscape.jpg"])
        #expect(sized.status == 77)
        // The command line wins over the file.
        #expect(try runInProcess(["--config", config, "--sizes", "64x", "--sign", "/thumbnail/64x/landscape.jpg"]).status == 0)
        let twice = try writeFile(
            "root = \(scratch.path)\nkey-file = \(keys)\nsizes = 100x100,x64\nsizes = 5x5\n", "twice.conf", in: scratch)
        let refused = try runInProcess(["--config", twice, "--sign", "/thumbnail/100x100/landscape.jpg"])
        #expect(refused.status == 64)
        #expect(refused.error.hasPrefix("thumbnail: \(twice):4: 'sizes' was already set on line 3\n"))
    }
}
