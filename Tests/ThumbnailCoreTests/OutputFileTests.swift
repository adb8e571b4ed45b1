import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ThumbnailCore

/// The files and directories the command line and batches write.
struct OutputFileTests {
    /// 200 files on 8 threads, each in directories made as `--output-dir`
    /// makes them: every one gets 0666 and 0777 less the caller's umask,
    /// and the umask is the caller's afterwards.
    @Test func modesFollowTheUmaskOnManyThreads() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let previous = umask(0o022)
        defer { umask(previous) }
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for index in stride(from: thread, to: 200, by: 8) {
                let directory = scratch.file("out/\(index % 25)/\(index % 5)")
                do {
                    try makeDirectories(directory)
                    try writeAtomically([UInt8(index & 0xff)], to: directory + "/\(index).bin")
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let mask = umask(0o022)
        #expect(mask == 0o022)
        var files = 0
        let walker = FileManager.default.enumerator(atPath: scratch.file("out"))!
        while let name = walker.nextObject() as? String {
            var info = stat()
            #expect(lstat(scratch.file("out/" + name), &info) == 0)
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            if !isDirectory { files += 1 }
            #expect(info.st_mode & 0o7777 == (isDirectory ? 0o755 : 0o644), "\(name)")
        }
        #expect(files == 200)
    }

    /// `-o -` is standard output, refused on a terminal as standard output is; no file named `-` appears.
    @Test func dashIsStandardOutput() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try sh("convert -size 20x10 gradient:red-blue tiny.png", directory: scratch.path)
        let source = scratch.file("tiny.png")
        let plain = try runInProcess(["-s", "8", source])
        let dash = try runInProcess(["-s", "8", "-o", "-", source])
        #expect(dash.status == 0 && !dash.output.isEmpty && dash.output == plain.output, "\(dash.error)")
        let terminal = try runInProcess(["-s", "8", "-o", "-", source], outputIsTerminal: true)
        #expect(terminal.status == 64)
        #expect(terminal.error.hasPrefix("thumbnail: stdout: is a terminal; use -o FILE or redirect the output\n"))
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/-"))
    }

    /// A missing directory for `-o` is one error before anything is rendered, not one per source after.
    @Test func missingOutputDirectoryIsRefusedFirst() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try sh("convert -size 20x10 gradient:red-blue a.png && cp a.png b.png", directory: scratch.path)
        let sources = [scratch.file("a.png"), scratch.file("b.png")]
        let missing = scratch.file("new")
        let expected = "thumbnail: \(missing): No such file or directory; -o creates no directory\n"
        let pattern = try runInProcess(["-s", "8", "-o", missing + "/%s.webp"] + sources)
        #expect(pattern.status == 73 && pattern.error == expected)
        let single = try runInProcess(["-s", "8", "-o", missing + "/a.webp", sources[0]])
        #expect(single.status == 73 && single.error == expected)
        #expect(try scratch.contents() == ["a.png", "b.png"])
    }
}
