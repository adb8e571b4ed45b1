import Foundation
import TestSupport
import Testing

/// `make install` and `make uninstall` into a scratch DESTDIR, and the
/// installed binary run the way a user without Swift would run it.
@Suite(.serialized)
struct InstallTests {
    /// Runs make in the package directory; the release build it may need
    /// has a build directory of its own, so it never waits on `swift test`'s lock.
    func make(_ arguments: [String]) throws -> Outcome {
        try runTool("make", ["--no-print-directory", "-C", packageDirectory] + arguments, seconds: 600)
    }

    /// Every file and symbolic link under `directory`, relative to it.
    func installedFiles(_ directory: String) -> Set<String> {
        var files: Set<String> = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { files.insert(path) }
        }
        return files
    }

    func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test(arguments: [
        (
            [String](),
            [
                "usr/local/bin/thumbnail", "usr/local/share/man/man1/thumbnail.1",
                "usr/local/share/bash-completion/completions/thumbnail",
                "usr/local/share/zsh/site-functions/_thumbnail",
                "usr/local/share/fish/vendor_completions.d/thumbnail.fish",
            ]
        ),
        (
            ["PREFIX=/usr", "BINDIR=/usr/libexec/thumbnail", "MANDIR=/usr/man"],
            [
                "usr/libexec/thumbnail/thumbnail", "usr/man/man1/thumbnail.1",
                "usr/share/bash-completion/completions/thumbnail", "usr/share/zsh/site-functions/_thumbnail",
                "usr/share/fish/vendor_completions.d/thumbnail.fish",
            ]
        ),
        (
            ["BASHCOMPDIR=/b", "ZSHCOMPDIR=/z", "FISHCOMPDIR=/f"],
            [
                "usr/local/bin/thumbnail", "usr/local/share/man/man1/thumbnail.1", "b/thumbnail", "z/_thumbnail",
                "f/thumbnail.fish",
            ]
        ),
    ])
    func installPutsExactlyTheseFilesAndUninstallRemovesThem(variables: [String], expected: [String]) throws {
        let destination = try ScratchDirectory()
        defer { destination.remove() }
        let install = try make(["DESTDIR=" + destination.path] + variables + ["install"])
        #expect(install.status == 0, "make install: \(install.error)")
        #expect(installedFiles(destination.path) == Set(expected))
        #expect(try mode(destination.file(expected[0])) == 0o755)
        for (installed, source) in zip(expected.dropFirst(), ["man/thumbnail.1"] + Shell.allCases.map { "completions/" + $0.file }) {
            #expect(try mode(destination.file(installed)) == 0o644, "\(installed)")
            #expect(FileManager.default.contentsEqual(atPath: destination.file(installed), andPath: packageDirectory + "/" + source))
        }
        let uninstall = try make(["DESTDIR=" + destination.path] + variables + ["uninstall"])
        #expect(uninstall.status == 0, "make uninstall: \(uninstall.error)")
        #expect(installedFiles(destination.path).isEmpty, "make uninstall left \(installedFiles(destination.path))")
    }

    @Test func installedBinaryRunsWithoutTheSwiftToolchain() throws {
        let destination = try ScratchDirectory()
        defer { destination.remove() }
        let install = try make(["DESTDIR=" + destination.path, "install"])
        #expect(install.status == 0, "make install: \(install.error)")
        let binary = destination.file("usr/local/bin/thumbnail")

        let libraries = try runTool("ldd", [binary])
        let text = String(decoding: libraries.output, as: UTF8.self)
        #expect(libraries.status == 0)
        #expect(!text.contains("libswift") && !text.contains("libFoundation") && !text.contains("not found"), "\(text)")

        // No /opt/swift on PATH, nothing from the test's environment.
        try makeFixtures(in: destination)
        let output = destination.file("thumb.webp")
        let run = try runProcess(
            "/usr/bin/env",
            ["-i", "PATH=/usr/local/bin:/usr/bin:/bin", binary, "-r", destination.path, "-o", output,
                "/thumbnail/64x64/webp/landscape.jpg"])
        #expect(run.status == 0, "\(run.error)")
        #expect(try dimensions(output) == "64x40")
        let version = try runProcess("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", binary, "--version"])
        #expect(String(decoding: version.output, as: UTF8.self).hasPrefix("thumbnail "))
    }
}

/// The release build links side by side the functions that
/// Sources/thumbnail/function-order.txt names (the Makefile's LINK_FLAGS).
@Suite(.serialized)
struct LinkOrderTests {
    @Test func theReleaseBinaryLaysOutTheListedFunctionsTogether() throws {
        let build = try runTool("make", ["--no-print-directory", "-C", packageDirectory, "build"], seconds: 600)
        #expect(build.status == 0, "make build: \(build.error)")
        let listed = try String(contentsOfFile: packageDirectory + "/Sources/thumbnail/function-order.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let symbols = try runTool("nm", ["--defined-only", try makeVariable("RELEASE_BIN")])
        #expect(symbols.status == 0)
        var addresses: [String: UInt64] = [:]
        for line in String(decoding: symbols.output, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            if fields.count == 3, "tTW".contains(fields[1]), let address = UInt64(fields[0], radix: 16) {
                addresses[String(fields[2])] = address
            }
        }
        // Names vanish as the code changes; past a tenth, `make function-order` lists them again.
        let found = listed.compactMap { addresses[$0] }
        #expect(listed.count > 500 && found.count * 10 >= listed.count * 9,
            "\(listed.count - found.count) of the \(listed.count) functions listed are gone: run make function-order")
        // lld puts them first, in the list's order; ThumbnailCore's own are each in a section of
        // their own (the Swift library's are not all), so they show it.
        let ours = listed.filter { $0.hasPrefix("$s13ThumbnailCore") }.compactMap { addresses[$0] }
        #expect(ours.count > 100)
        #expect(zip(ours, ours.dropFirst()).allSatisfy { $0 < $1 }, "ThumbnailCore's functions are not in the list's order")
    }
}
