import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The flags form as shell users use it: any file path without a root, the
/// format from `-o`, many sources with a pattern; through `run` in this process.
final class ShellHabitsTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        try sh(
            """
            mkdir -p x in out
            convert -seed 3 -size 320x200 plasma: x/a.jpg
            convert -seed 4 -size 200x300 plasma: in/b.png
            convert -seed 5 -size 120x120 plasma: in/c.gif
            cp x/a.jpg in/a.jpg
            """, directory: scratch.path)
    }

    deinit { scratch.remove() }

    func run(_ arguments: [String], in directory: String? = nil) throws -> Outcome {
        try runInProcess(arguments, directory: directory ?? scratch.path)
    }

    @Test func anyFilePathRendersWithoutARoot() throws {
        let expected = try run(["-s", "64x64", "x/a.jpg"])
        #expect(expected.status == 0, "\(expected.error)")
        #expect(expected.output.starts(with: [0xff, 0xd8, 0xff]))
        #expect(try run(["-s", "64x64", scratch.file("x/a.jpg")]).output == expected.output)
        #expect(try run(["-s", "64x64", "../x/a.jpg"], in: scratch.file("in")).output == expected.output)
        try FileManager.default.createSymbolicLink(atPath: scratch.file("link.jpg"), withDestinationPath: "x/a.jpg")
        #expect(try run(["-s", "64x64", "link.jpg"]).output == expected.output)
    }

    /// With a root, the old confinement holds: the path outside it is never opened (a FIFO would block).
    @Test func withARootAnAbsolutePathOutsideIsRefusedUnopened() throws {
        mkfifo(scratch.file("secret.jpg"), 0o644)
        let outcome = try run(["-r", scratch.file("in"), "-s", "9x9", scratch.file("secret.jpg")])
        #expect(outcome.status == 77, "\(outcome.error)")
        #expect(outcome.output.isEmpty)
    }

    @Test func outputExtensionNamesTheFormat() throws {
        #expect(try run(["-s", "50", "-o", "out/x.webp", "x/a.jpg"]).status == 0)
        let webp = try scratch.bytes("out/x.webp")
        #expect(webp.prefix(4) == Array("RIFF".utf8)[...] && webp[8..<12] == Array("WEBP".utf8)[...])
        #expect(try run(["-s", "50", "-o", "out/x.PNG", "x/a.jpg"]).status == 0)
        #expect(try scratch.bytes("out/x.PNG").prefix(4) == [0x89, 0x50, 0x4e, 0x47])
        for arguments in [["-o", "out/x.tiff"], ["-f", "png", "-o", "out/x.jpg"]] {
            let outcome = try run(["-s", "50"] + arguments + ["x/a.jpg"])
            #expect(outcome.status == 64, "\(arguments)")
            // One line of error, then the usage.
            #expect(outcome.error.split(separator: "\n").count == 1 + usageLine.split(separator: "\n").count, "\(outcome.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out/x.tiff")))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out/x.jpg")))
    }

    @Test func manySourcesWithAPattern() throws {
        let outcome = try run(["-s", "50x50", "-o", "out/%s.webp", "in/a.jpg", "in/b.png", "in/c.gif"])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(try scratch.contents().contains("out"))
        for name in ["a.jpg", "b.png", "c.gif"] {
            let single = try run(["-s", "50x50", "-f", "webp", "in/" + name]).output
            let base = String(name.prefix { $0 != "." })
            #expect(Data(try scratch.bytes("out/\(base).webp")) == single, "\(name)")
        }
        let oneJob = try run(["-s", "50x50", "-j", "1", "-o", "out/one-%s.png", "in/a.jpg", "in/b.png", "in/c.gif"])
        let twoJobs = try run(["-s", "50x50", "-j", "2", "-o", "out/two-%s.png", "in/a.jpg", "in/b.png", "in/c.gif"])
        #expect(oneJob.status == 0 && twoJobs.status == 0)
        for base in ["a", "b", "c"] {
            #expect(try scratch.bytes("out/one-\(base).png") == (try scratch.bytes("out/two-\(base).png")), "\(base)")
        }
        // %d is the directory as given.
        #expect(try run(["-s", "20", "-o", "%d/%s-small.jpg", "in/b.png"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: scratch.file("in/b-small.jpg")))
    }

    @Test func aMissingMiddleSourceFailsAlone() throws {
        let outcome = try run(["-s", "30", "-o", "out/%s.jpg", "in/a.jpg", "in/missing.jpg", "in/c.gif"])
        #expect(outcome.status == 66)
        #expect(outcome.error == "thumbnail: in/missing.jpg: No such file or directory\n")
        #expect(try scratch.contents().contains("out"))
        #expect(FileManager.default.fileExists(atPath: scratch.file("out/a.jpg")))
        #expect(FileManager.default.fileExists(atPath: scratch.file("out/c.jpg")))
    }

    @Test func patternsThatCollideOrAreMissingWriteNothing() throws {
        for arguments in [["-o", "out/same.jpg", "in/a.jpg", "x/a.jpg"], ["-o", "out/%s.jpg", "in/a.jpg", "x/a.jpg"], ["in/a.jpg", "in/b.png"]] {
            let outcome = try run(["-s", "30"] + arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome.error)")
            #expect(outcome.output.isEmpty)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("out")).isEmpty)
    }

    @Test func neverOverTheSource() throws {
        let outcome = try run(["-s", "30", "-o", "in/%s.jpg", "in/a.jpg"])
        #expect(outcome.status == 73)
        #expect(try scratch.bytes("in/a.jpg") == (try scratch.bytes("x/a.jpg")))
    }

    @Test func aNumberIsASquareBox() throws {
        let square = try run(["-s", "100", "x/a.jpg"])
        #expect(square.status == 0)
        #expect(square.output == (try run(["-s", "100x100", "x/a.jpg"])).output)
        // URL paths keep their strict grammar.
        #expect(try run(["-r", "x", "/thumbnail/100/a.jpg"]).status == 65)
    }

    /// Nothing of the source's density: JFIF says 1:1 with no units.
    @Test func jpegCarriesANeutralJFIFHeader() throws {
        try sh("convert x/a.jpg -density 350 -units PixelsPerInch dense.jpg", directory: scratch.path)
        let jpeg = Array(try run(["-s", "64", "dense.jpg"]).output)
        let jfif = try #require(jpeg.indices.first { jpeg[$0...].starts(with: Array("JFIF\0".utf8)) })
        // version 1.01, units 0, density 1x1
        #expect(Array(jpeg[(jfif + 5)..<(jfif + 12)]) == [1, 1, 0, 0, 1, 0, 1])
    }
}
