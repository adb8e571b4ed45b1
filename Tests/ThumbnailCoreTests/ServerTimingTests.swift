import Foundation
import TestSupport
import Testing

/// What a render cost, in the reply and in the log.
final class ServerTimingTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try sh("convert -size 64x40 gradient:red-blue landscape.jpg && touch -d @1600000000 landscape.jpg", directory: scratch.path)
    }

    deinit { scratch.remove() }

    nonisolated(unsafe) static let timing = #/queue;dur=\d+\.\d, fetch;dur=\d+\.\d, decode;dur=\d+\.\d, resize;dur=\d+\.\d, encode;dur=\d+\.\d, total;dur=\d+\.\d, cpu;dur=\d+\.\d/#

    func serve(_ targets: [(String, String)], _ options: [String] = []) throws -> [HTTPResponse] {
        let raw = targets.map { "GET \($0.0) HTTP/1.1\r\nHost: o\r\n\($0.1)\r\n" }.joined()
        let outcome = try runInProcess(["--inetd", "-r", scratch.path, "--log", scratch.file("log")] + options, input: Data(raw.utf8))
        return readResponses(outcome.output).responses
    }

    /// A thumbnail, and a 304 that took a render, say what it cost; nothing else does.
    @Test func thumbnailsCarryServerTiming() throws {
        let path = "/thumbnail/32x32/landscape.jpg"
        let targets = [
            (path, ""), (path, "If-Modified-Since: Sun, 13 Sep 2020 12:26:40 GMT\r\n"), ("/healthz", ""),
            ("/thumbnail/32x32/missing.jpg", ""),
        ]
        let timings = try serve(targets).map { $0.field("server-timing") }
        #expect(timings.map { $0?.wholeMatch(of: Self.timing) != nil } == [true, true, false, false], "\(timings)")
        #expect(try serve(targets, ["--no-server-timing"]).allSatisfy { $0.field("server-timing") == nil })
    }
}
