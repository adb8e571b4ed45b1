import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// One mode per run, chosen by the options, with every option checked
/// against it once; the built binary run as a process.
final class InvocationTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try sh("convert -size 40x30 gradient:red-blue jpg:./--inetd", directory: scratch.path)
    }

    deinit { scratch.remove() }

    @Test func doubleDashMakesInetdAFileName() throws {
        let outcome = try thumbnail(["-s", "9x9", "-r", scratch.path, "--", "--inetd"])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(outcome.output.starts(with: [0xff, 0xd8, 0xff]))
    }

    /// The libraries that cost start-up time are loaded by the runs that need them, and only by those.
    @Test func runsLoadOnlyTheLibrariesTheyNeed() throws {
        try sh(
            "convert -size 40x30 gradient:red-blue a.jpg && convert a.jpg a.tif && convert a.jpg PNG24:a.png "
                + "&& heif-enc -q 60 a.png -o a.heic", directory: scratch.path)
        let keys = try writeFile("a-key-0123456789abcdef\n", "keys", in: scratch)
        let loadedLater = ["libcrypto.so.3", "libcurl.so.4", "libheif.so.1", "libtiff.so.6"]
        func loaded(_ arguments: [String]) throws -> [String] {
            var environment = inheritedEnvironment
            environment["LD_DEBUG"] = "files"
            let outcome = try thumbnail(arguments, directory: scratch.path, environment: environment)
            #expect(outcome.status == 0, "\(arguments)")
            return loadedLater.filter { outcome.error.contains("file=\($0) [0];  generating link map") }
        }
        #expect(try loaded(["-s", "9x9", "a.jpg"]) == [])
        #expect(try loaded(["-s", "9x9", "a.tif"]) == ["libtiff.so.6"])
        #expect(try loaded(["-s", "9x9", "a.heic"]) == ["libheif.so.1"])
        #expect(try loaded(["-s", "9x9", "-f", "avif", "a.jpg"]) == ["libheif.so.1"])
        #expect(try loaded(["--key-file", keys, "--sign", "/thumbnail/9x9/a.jpg"]) == ["libcrypto.so.3"])
    }

    @Test func twoModesAreOneUsageError() throws {
        let outcome = try thumbnail(["--inetd", "--batch", "f"], input: Data("GET /healthz HTTP/1.1\r\nHost: o\r\n\r\n".utf8))
        #expect(outcome.status == 64)
        #expect(outcome.output.isEmpty)
        #expect(outcome.error.split(separator: "\n").first == "thumbnail: --inetd: cannot be combined with --batch")
    }

    /// Under inetd the answer is a 503 and the exit status 64; stderr stays silent.
    @Test(arguments: [
        ["-s", "9x9"], ["--size=9x9"], ["-f", "webp"], ["--format", "png"], ["-q", "50"], ["--quality=50"], ["--crop"],
        ["--pad"], ["--background", "000000"], ["-o", "out.jpg"], ["--output", "out.jpg"],
    ])
    func requestShapingOptionsDoNotApplyToInetd(options: [String]) throws {
        let outcome = try thumbnail(["--inetd"] + options, input: Data("GET /healthz HTTP/1.1\r\nHost: o\r\n\r\n".utf8))
        #expect(outcome.status == 64, "\(options)")
        #expect(outcome.error.isEmpty)
        #expect(String(decoding: outcome.output, as: UTF8.self).hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
    }

    /// Peak RSS in KiB (GNU time) and exit status of a shell pipeline into the binary.
    func peak(_ producer: String, _ arguments: String) throws -> (kib: Int, status: Int) {
        let report = scratch.file("time")
        let status = try sh(
            "\(producer) | /usr/bin/time -o '\(report)' -f %M '\(thumbnailBinary)' \(arguments) >/dev/null 2>&1; echo $?")
        let kib = Int(try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").last ?? "") ?? .max
        return (kib, Int(status) ?? -1)
    }

    /// 300 MB of input never becomes 300 MB of memory: standard input and
    /// a `--batch -` list are each read to their limit plus one byte at most.
    @Test func endlessInputIsRefusedWithinItsLimit() throws {
        let zeros = "head -c 300000000 /dev/zero"
        for (producer, arguments) in [
            (zeros, "-s 9x9 -"),
            ("{ printf '\\377\\330\\377\\340'; \(zeros); }", "-s 9x9 --max-bytes 8000000 -"),
            (zeros, "--batch -"),
        ] {
            let (kib, status) = try peak(producer, arguments)
            #expect(status == 65, "\(producer) | thumbnail \(arguments)")
            #expect(kib < 64 * 1024, "\(producer) | thumbnail \(arguments): peak \(kib) KiB")
        }
    }

    /// A GIF thumbnail's 256 colours cost no 128 MiB dithering table: a 64x64
    /// GIF from a 640x480 one peaks near the 20 MiB of any small render.
    @Test func aGIFThumbnailIsQuantizedWithoutDithering() throws {
        try sh("convert -seed 3 -size 640x480 plasma: source.gif", directory: scratch.path)
        let (kib, status) = try peak("true", "-s 64x64 -o '\(scratch.file("thumb.gif"))' '\(scratch.file("source.gif"))'")
        #expect(status == 0)
        #expect(kib < 48 * 1024, "peak \(kib) KiB")
        #expect(try dimensions(scratch.file("thumb.gif")) == "64x48")
    }
}
