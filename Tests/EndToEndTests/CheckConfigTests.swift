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
        #expect(lines.count == 8 && lines.allSatisfy { $0.contains(": ok (") }, "\(lines)")
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
}
