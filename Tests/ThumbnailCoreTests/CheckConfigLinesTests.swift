import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The lines `--check-config` prints, through `run` in this process.
struct CheckConfigLinesTests {
    @Test(arguments: [(1, "1 key"), (2, "2 keys")])
    func keysAreCountedInWords(count: Int, said: String) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let keys = (0..<count).map { "key-\($0)-0123456789abcdef\n" }.joined()
        let file = try writeFile(keys, "keys", in: scratch)
        let outcome = try runInProcess(["--check-config", "-r", scratch.path, "--key-file", file])
        let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        #expect(lines.contains("key-file: ok (\(said))"), "\(lines)")
    }
}
