import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// Every mode through `run(arguments, io)` in this process: what it writes
/// and the exit status the table gives. The built binary's own behaviour (a
/// terminal, signals, real daemons) is EndToEndTests'.
final class ModeTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try sh("convert -size 64x40 gradient:red-blue landscape.jpg && convert -size 30x60 xc:none -fill red -draw 'circle 15,30 15,5' clear.png", directory: scratch.path)
    }

    deinit { scratch.remove() }

    func text(_ outcome: Outcome) -> String { String(decoding: outcome.output, as: UTF8.self) }

    func size(of bytes: Data) throws -> (width: Int, height: Int) {
        let header = try #require(try ImageHeader(Array(bytes), format: try SourceFormat(sniffing: Array(bytes))))
        return (header.width, header.height)
    }

    @Test func renderFlagsAndPathFormsGiveTheSameBytes() throws {
        let flags = try runInProcess(["-r", scratch.path, "-s", "32x32", "-f", "webp", "landscape.jpg"])
        let path = try runInProcess(["-r", scratch.path, "/thumbnail/32x32/webp/landscape.jpg"])
        #expect(flags.status == 0 && path.status == 0, "\(flags.error)\(path.error)")
        #expect(flags.output == path.output)
        #expect(try SourceFormat(sniffing: Array(path.output)) == .webp)
        #expect(try size(of: path.output) == (32, 20))
    }

    @Test func renderToAFileAndAPattern() throws {
        let one = try runInProcess(["-s", "16", "-o", scratch.file("one.png"), scratch.file("landscape.jpg")])
        #expect(one.status == 0 && one.output.isEmpty, "\(one.error)")
        #expect(try size(of: Data(scratch.bytes("one.png"))) == (16, 10))
        let many = try runInProcess(
            ["-s", "8", "-j", "2", "-o", scratch.path + "/%s-8.jpg", scratch.file("landscape.jpg"), scratch.file("clear.png")])
        #expect(many.status == 0, "\(many.error)")
        #expect(try size(of: Data(scratch.bytes("landscape-8.jpg"))) == (8, 5))
        #expect(try size(of: Data(scratch.bytes("clear-8.jpg"))) == (4, 8))
    }

    @Test func explainPrintsTheCanonicalPathAndThePlan() throws {
        let outcome = try runInProcess(["-r", scratch.path, "--explain", "/thumbnail/32x32,q80/jpg/landscape.jpg"])
        #expect(outcome.status == 0, "\(outcome.error)")
        let lines = text(outcome).split(separator: "\n").map(String.init)
        #expect(lines.first == "canonical: /thumbnail/32x32/jpeg/landscape.jpg")
        #expect(lines.contains("source: landscape.jpg (jpeg 64x40, orientation 1)"))
        #expect(lines.last == "output: jpeg 32x20 quality 80")
    }

    @Test func signPrintsASignedPathThatRendersAndNothingElseDoes() throws {
        let keys = try writeFile("0123456789abcdef0123456789abcdef\n", "keys", in: scratch)
        let signed = try runInProcess(["--key-file", keys, "--sign", "/thumbnail/16x16/landscape.jpg"])
        #expect(signed.status == 0, "\(signed.error)")
        let path = text(signed).trimmingCharacters(in: .newlines)
        #expect(path.hasPrefix("/thumbnail/") && path.hasSuffix("/16x16/landscape.jpg") && path.count == 53)
        #expect(try runInProcess(["-r", scratch.path, "--key-file", keys, path]).status == 0)
        let unsigned = try runInProcess(["-r", scratch.path, "--key-file", keys, "/thumbnail/16x16/landscape.jpg"])
        #expect(unsigned.status == 77, "\(unsigned.error)")
    }

    @Test func batchChecksWritesAndReportsEachPath() throws {
        let list = try writeFile(
            "# two paths and a missing one\n/thumbnail/16x16/landscape.jpg\n/thumbnail/8x8/png/clear.png\n/thumbnail/8x8/gone.jpg\n",
            "list", in: scratch)
        let check = try runInProcess(["-r", scratch.path, "--batch", list, "-j", "2"])
        let rows = text(check).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.map { $0.first } == ["200", "200", "404"])
        #expect(rows.map { $0.last } == ["/thumbnail/16x16/landscape.jpg", "/thumbnail/8x8/png/clear.png", "/thumbnail/8x8/gone.jpg"])
        #expect(check.status == 66, "\(check.error)")
        let written = try runInProcess(["-r", scratch.path, "--batch", list, "--output-dir", scratch.file("out")])
        #expect(written.status == 66)
        #expect(try size(of: Data(scratch.bytes("out/thumbnail/16x16/landscape.jpg"))) == (16, 10))
        #expect(try SourceFormat(sniffing: scratch.bytes("out/thumbnail/8x8/png/clear.png")) == .png)
    }

    @Test func pictureWritesRealSizesAndKeepsTransparency() throws {
        let outcome = try runInProcess(
            ["-r", scratch.path, "--picture", "-s", "20x20", "--densities", "1", "clear.png"])
        #expect(outcome.status == 0, "\(outcome.error)")
        let markup = text(outcome)
        #expect(markup.contains("width=\"10\" height=\"20\""), "\(markup)")
        // By default a transparent source falls back to PNG, not JPEG.
        // Every URL carries the source's version: its modification time and size, in hex.
        #expect(markup.contains(try Regex("<img src=\"/thumbnail/20x20,v[0-9a-f]+-[0-9a-f]+/png/clear.png\"")), "\(markup)")
        #expect(!markup.contains("/jpeg/"), "\(markup)")
    }

    @Test func checkConfigNamesEachCheckAndEveryProblem() throws {
        let good = try runInProcess(["--check-config", "-r", scratch.path])
        #expect(good.status == 0, "\(good.error)")
        #expect(text(good).split(separator: "\n").contains("storage: ok (directory \(scratch.path))"))
        let bad = try runInProcess(["--check-config", "-r", scratch.file("missing"), "--key-file", scratch.file("nokeys")])
        #expect(bad.status == 78, "\(bad.error)")
        #expect(bad.error.split(separator: "\n").count == 2, "\(bad.error)")
    }

    @Test func helpAndVersionAnswerWhateverElseIsGiven() throws {
        let help = try runInProcess(["--help", "-s", "10", "--inetd"])
        #expect(help.status == 0 && text(help).hasPrefix("usage: thumbnail"), "\(help.error)")
        let version = try runInProcess(["--version"])
        #expect(version.status == 0 && text(version).hasPrefix("thumbnail \(toolVersion)\n"))
    }

    @Test func twoModesAreAUsageErrorOnStderrEvenWithInetd() throws {
        let outcome = try runInProcess(["--inetd", "--batch", "-"])
        #expect(outcome.status == 64)
        #expect(outcome.error.hasPrefix("thumbnail: --inetd: cannot be combined with --batch\n"), "\(outcome.error)")
    }

    /// A server has no default root, as the command line has: the working
    /// directory of a super-server or a container (often /) is no store.
    @Test func aServerWithoutARootIsMisconfigured() throws {
        let said = "thumbnail: --root: a server needs a storage root: a directory, s3://BUCKET or https://HOST\n"
        let listen = try runInProcess(["--listen", "127.0.0.1:1"], directory: scratch.path)
        #expect(listen.status == 78 && listen.error == said, "\(listen.error)")
        let request = Data("GET /thumbnail/10x10/landscape.jpg HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
        let inetd = try runInProcess(["--inetd", "--log", scratch.file("log")], input: request, directory: scratch.path)
        #expect(text(inetd).hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(text(inetd))")
        let check = try runInProcess(["--check-config"], directory: scratch.path)
        #expect(check.status == 78 && check.error.contains(said), "\(check.error)")
        #expect(text(check).hasPrefix("storage: refused: --root: a server needs a storage root"), "\(text(check))")
        let configured = try runInProcess(["--check-config"], directory: scratch.path, environment: ["THUMBNAIL_ROOT": scratch.path])
        #expect(!configured.error.contains("storage root"), "\(configured.error)")
        #expect(try runInProcess(["-s", "10", "landscape.jpg"], directory: scratch.path).status == 0)
    }
}
