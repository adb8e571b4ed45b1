import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// `--batch`, run as the built binary on images `convert` made.
final class BatchTests {
    let scratch: ScratchDirectory
    /// The storage root: the fixtures, a link out of it, and `secret.jpg` beside it, outside.
    let root: String

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        root = scratch.file("root")
        try sh(
            """
            mkdir -p root/sub && cp landscape.jpg portrait.png tiny.png root/ && cp portrait.png 'root/sub/café.png'
            cp landscape.jpg secret.jpg && echo 'not an image' > root/text.jpg
            ln -s .. root/up && ln -s ../secret.jpg root/link.jpg
            """, directory: scratch.path)
    }

    deinit { scratch.remove() }

    func writeList(_ lines: [String], name: String = "list.txt") throws -> String {
        let path = scratch.file(name)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The lines of a report, split into columns.
    func rows(_ output: Data) -> [[String]] {
        String(decoding: output, as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// 200 paths of eight kinds in turn, each with the status it must get.
    var mixedList: [(path: String, status: String)] {
        let traversals = [
            ("/thumbnail/10x10/../secret.jpg", "403"), ("/thumbnail/10x10/%2e%2e/secret.jpg", "403"),
            ("/thumbnail/10x10/up/secret.jpg", "403"), ("/thumbnail/10x10/link.jpg", "403"),
            ("/thumbnail/10x10/..%2fsecret.jpg", "400"),
        ]
        let badGrammar = { (i: Int) in
            ["/thumbnail/0x\(i)/landscape.jpg", "/thumbnail/\(i)x\(i),zoom/landscape.jpg", "/thumbnail/\(i)x\(i)",
                "/thumbnail/\(i)x\(i),q0/landscape.jpg"][i / 8 % 4]
        }
        return (0..<200).map { i in
            switch i % 8 {
            case 0: ("/thumbnail/\(16 + i)x\(16 + i)/landscape.jpg", "200")
            case 1: ("/thumbnail/\(16 + i)x/webp/portrait.png", "200")
            case 2: ("/thumbnail/\(1 + i)x\(1 + i)/missing-\(i).jpg", "404")
            case 3: traversals[i / 8 % traversals.count]
            case 4: (badGrammar(i), "400")
            case 5: ("https://cdn.example.com/thumbnail/\(16 + i)x\(16 + i),crop/png/tiny.png?v=\(i)", "200")
            case 6: ("/thumbnail/\(16 + i)x\(16 + i),pad,bg00ff00/jpg/portrait.png", "200")
            default: ("/thumbnail/10x10/text.jpg", "415")
            }
        }
    }

    @Test func mixedListGivesOneLinePerPathInInputOrder() throws {
        let expected = mixedList
        // Comments, blank lines, indentation and CRLF endings are not paths.
        var lines = ["# paths for the test", ""]
        for (index, entry) in expected.enumerated() {
            lines.append(index % 50 == 0 ? "  \(entry.path)\r" : entry.path)
            if index % 40 == 0 { lines += ["", "   # a comment"] }
        }
        let outcome = try thumbnail(["-r", root, "--jobs", "3", "--batch", try writeList(lines)])
        // The first failure is a missing source (line 3), so 66: neither the lowest nor the highest status.
        #expect(outcome.status == 66, "\(outcome.error)")
        let report = rows(outcome.output)
        try #require(report.count == expected.count)
        for (row, entry) in zip(report, expected) {
            #expect(row.count == 4)
            #expect(row[0] == entry.status && row[3] == entry.path, "\(row) for \(entry)")
            #expect(Int(row[2]) != nil)
            #expect((Int(row[1]) ?? 0 > 0) == (entry.status == "200"), "\(row)")
        }
        // The byte counts are the command line's.
        for index in [0, 1, 5, 6] {
            let alone = try thumbnail(["-r", root, expected[index].path])
            #expect(report[index][1] == String(alone.output.count), "\(expected[index].path)")
        }
        let failures = expected.filter { $0.status != "200" }.count
        let errors = outcome.error.split(separator: "\n")
        #expect(!outcome.error.contains("\r"), "a progress bar in a pipe")
        #expect(errors.filter { $0.hasPrefix("thumbnail: ") }.count == failures + 1)
        #expect(errors.contains { $0.hasPrefix("batch: 200 paths, \(200 - failures) ok, \(failures) failed, ") })
        #expect(errors.last == "thumbnail: \(scratch.file("list.txt")): \(failures) of 200 paths failed")
        #expect(errors.contains("thumbnail: /thumbnail/10x10/link.jpg: link.jpg: resolves outside the storage root"))
    }

    @Test func exitStatusIsTheFirstFailures() throws {
        let cases: [([String], Int32)] = [
            (["/thumbnail/20x20/landscape.jpg", "https://cdn.example.com/thumbnail/20x/tiny.png"], 0),
            (["/thumbnail/20x20/landscape.jpg", "/thumbnail/20x20/up/secret.jpg", "/thumbnail/0x0/a.jpg"], 77),
            (["/thumbnail/20x20/text.jpg", "/thumbnail/20x20/missing.jpg"], 65),
        ]
        for (paths, status) in cases {
            let outcome = try thumbnail(["-r", root, "--batch", try writeList(paths)])
            #expect(outcome.status == status, "\(paths): \(outcome.error)")
            #expect(rows(outcome.output).count == paths.count)
        }
    }

    @Test func concurrentRendersEachGetTheLimitsOfOne() throws {
        // 25 megapixels: ImageMagick's pixel cache (Debian's policy.xml: 256 MiB) holds one, not two at once.
        try sh(
            "convert -size 5000x5000 gradient:red-blue -depth 8 root/big0.png && cp root/big0.png root/big1.png"
                + " && cp root/big0.png root/big2.png", directory: scratch.path, seconds: 120)
        let alone = try thumbnail(["-r", root, "/thumbnail/50x50/big0.png"])
        #expect(alone.status == 0, "\(alone.error)")
        let paths = (0..<3).map { "/thumbnail/50x50/big\($0).png" }
        let outcome = try thumbnail(["-r", root, "--jobs", "3", "--batch", try writeList(paths)])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(rows(outcome.output).map { $0[0] } == ["200", "200", "200"])
        #expect(rows(outcome.output).allSatisfy { $0[1] == String(alone.output.count) })
    }

    @Test func listFromStandardInput() throws {
        let list = Data("/thumbnail/20x20/landscape.jpg\n# done\n".utf8)
        let outcome = try thumbnail(["-r", root, "--batch", "-"], input: list)
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(rows(outcome.output).map { $0[0] } == ["200"])
        #expect(outcome.error.hasPrefix("batch: 1 path, 1 ok, 0 failed, "))
    }

    @Test func outputDirectoryHoldsTheCommandLinesBytesAtCanonicalPaths() throws {
        let paths = [
            ("/thumbnail/100x100/landscape.jpg", "thumbnail/100x100/landscape.jpg"),
            ("/thumbnail/100x100,q70,crop/jpg/portrait.png", "thumbnail/100x100,crop,q70/jpeg/portrait.png.jpeg"),
            ("https://cdn.example.com/thumbnail/64x/webp/sub/caf%C3%A9.png?v=1", "thumbnail/64x/webp/sub/café.png.webp"),
            ("/thumbnail/50x50,pad/avif/tiny.png", "thumbnail/50x50,pad/avif/tiny.png.avif"),
            ("/thumbnail/50x50/tiny.png", "thumbnail/50x50/tiny.png"),
            ("/thumbnail/100x100/landscape.jpg", "thumbnail/100x100/landscape.jpg"),
        ]
        let output = scratch.file("out")
        let outcome = try thumbnail(
            ["-r", root, "--output-dir", output, "-j", "2", "--batch", try writeList(paths.map(\.0))])
        #expect(outcome.status == 0, "\(outcome.error)")
        for (path, file) in paths {
            let written = try Data(contentsOf: URL(fileURLWithPath: output + "/" + file))
            #expect(written == (try thumbnail(["-r", root, path])).output, "\(path)")
        }
        let files = FileManager.default.enumerator(atPath: output)?.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: output + "/" + $0, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }
        #expect(Set(files ?? []) == Set(paths.map(\.1)), "temporary files left behind?")
        #expect(files?.count == 5)
    }

    @Test func sizesAndSignaturesApplyAsOnTheCommandLine() throws {
        let keys = try writeFile("batch-key-0123456789abcdef\n", "keys", in: scratch)
        func signed(_ path: String) throws -> String {
            let outcome = try thumbnail(["--key-file", keys, "--sign", path])
            #expect(outcome.status == 0, "\(outcome.error)")
            return String(decoding: outcome.output, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
        let allowed = try signed("/thumbnail/40x40/jpg/landscape.jpg")
        let paths = [allowed, "/thumbnail/40x40/jpeg/landscape.jpg", try signed("/thumbnail/50x50/landscape.jpg")]
        let access = ["--key-file", keys, "--sizes", "40x40"]
        let output = scratch.file("signed-out")
        let outcome = try thumbnail(
            ["-r", root, "--output-dir", output, "-j", "2", "--batch", try writeList(paths)] + access)
        #expect(outcome.status == 77, "\(outcome.error)")
        #expect(rows(outcome.output).map { $0[0] } == ["200", "403", "403"])
        // The file sits where a bucket serves the signed URL the CDN asks for.
        let written = try Data(contentsOf: URL(fileURLWithPath: output + allowed))
        #expect(written == (try thumbnail(["-r", root, allowed] + access)).output)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: output).filter { $0.hasSuffix(".jpg") } == [
            String(allowed.dropFirst())
        ])
    }

    @Test func outputDirectoryThatCannotBeMadeExits73() throws {
        let list = try writeList(["/thumbnail/20x20/landscape.jpg", "/thumbnail/30x30/landscape.jpg"])
        let outcome = try thumbnail(["-r", root, "--output-dir", scratch.file("landscape.jpg"), "--batch", list])
        #expect(outcome.status == 73, "\(outcome.error)")
        #expect(rows(outcome.output).map { $0[0] } == ["500", "500"])
    }

    @Test func outputDirectoryNeverWritesOverASource() throws {
        // With the root at OUT/thumbnail/10x10/jpeg, this path's output file is its own source.
        let storage = scratch.file("out/thumbnail/10x10/jpeg")
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: scratch.file("landscape.jpg"), toPath: storage + "/a.jpg")
        let before = try Data(contentsOf: URL(fileURLWithPath: storage + "/a.jpg"))
        let outcome = try thumbnail([
            "-r", storage, "--output-dir", scratch.file("out"), "--batch",
            try writeList(["/thumbnail/10x10/jpeg/a.jpg"]),
        ])
        #expect(outcome.status == 73, "\(outcome.error)")
        #expect(outcome.error.contains("is the source file"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: storage + "/a.jpg")) == before)
    }

    @Test func progressBarOnlyOnATerminal() throws {
        let list = try writeList((0..<30).map { "/thumbnail/\(40 + $0)x/landscape.jpg" } + ["/thumbnail/9x9/missing.jpg"])
        let command = "'\(thumbnailBinary)' -r '\(root)' -j 2 --batch '\(list)'"
        let terminal = try runProcess("/usr/bin/script", ["-qec", command, "/dev/null"])
        let screen = String(decoding: terminal.output, as: UTF8.self)
        #expect(terminal.status == 66)
        #expect(screen.contains("\r\u{1b}[K["), "no bar: \(screen)")
        #expect(screen.contains("/s ETA "))
        #expect(screen.contains("batch: 31 paths, 30 ok, 1 failed"))
        // Every report line reaches the screen whole, the bar lifted off first.
        for row in 0..<30 { #expect(screen.contains("\t/thumbnail/\(40 + row)x/landscape.jpg\r\n")) }
        let piped = try thumbnail(["-r", root, "-j", "2", "--batch", list])
        #expect(!piped.error.contains("ETA") && !piped.error.contains("\r"))
        #expect(piped.error.split(separator: "\n").count == 3)  // the failure, the summary, the exit reason
    }

    @Test(arguments: [
        (["--batch", "LIST", "-s", "10x10"], "thumbnail: --size: does not apply to --batch; it goes with rendering (flags or a thumbnail path) or --explain or --picture"),
        (["--batch", "LIST", "extra"], "thumbnail: extra: --batch reads its paths from the list; no other operand"),
        (["--batch", "LIST", "-o", "x.jpg"], "thumbnail: --output: does not apply to --batch; it goes with rendering (flags or a thumbnail path)"),
        (["--batch", "LIST", "--base", "http://127.0.0.1:1", "--output-dir", "o"],
            "thumbnail: --base: cannot be combined with --output-dir"),
        (["--batch", "LIST", "--max-time", "5"], "thumbnail: --max-time: only applies with --base"),
        (["--max-time", "2", "/thumbnail/10x10/landscape.jpg"], "thumbnail: --max-time: does not apply to rendering (flags or a thumbnail path); it goes with --batch"),
        (["--output-dir", "o", "/thumbnail/10x10/landscape.jpg"], "thumbnail: --output-dir: does not apply to rendering (flags or a thumbnail path); it goes with --batch"),
        (["--batch", "LIST", "--inetd"], "thumbnail: --batch: cannot be combined with --inetd"),
        (["--batch", "LIST", "--cache-control", "no-store"], "thumbnail: --cache-control: does not apply to --batch; it goes with --inetd or --listen or --check-config"),
        (["--batch", "LIST", "--jobs", "0"], "thumbnail: --jobs: '0' is not a whole number from 1 to 1024"),
        (["--batch", "LIST", "--base", "ftp://host"], "thumbnail: --base: 'ftp://host' is not an http:// or https:// URL"),
        (["--batch", "LIST", "--prefix", "/a/../b"], "thumbnail: --prefix: '/a/../b' has an empty, '.' or '..' segment"),
    ])
    func badCombinationsExit64(arguments: [String], message: String) throws {
        let list = try writeList(["/thumbnail/10x10/landscape.jpg"])
        let outcome = try thumbnail(["-r", root] + arguments.map { $0 == "LIST" ? list : $0 })
        #expect(outcome.status == 64)
        #expect(outcome.error.split(separator: "\n").first.map(String.init) == message)
        #expect(outcome.output.isEmpty)
    }

    @Test func listFromAPipe() throws {
        let command = "'\(thumbnailBinary)' -r '\(root)' --batch <(printf '/thumbnail/20x20/landscape.jpg\\n')"
        let outcome = try runProcess("/bin/bash", ["-c", command])
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(rows(outcome.output).map { $0[0] } == ["200"])
    }

    @Test func missingListExits66() throws {
        let outcome = try thumbnail(["--batch", scratch.file("no-such-list")])
        #expect(outcome.status == 66)
        #expect(outcome.output.isEmpty)
    }

    @Test func baseReportsMissThenHitThroughACachingProxy() throws {
        // The test's CDN: xinetd running `thumbnail --inetd` on the root, nginx caching in front.
        let origin = try XinetdOrigin(root: root, directory: scratch.path)
        defer { origin.daemon.stop() }
        let (nginx, cachePort) = try startCachingProxy(originPort: origin.port, prefix: scratch.file("nginx"))
        defer { nginx.stop() }
        let paths = ["/thumbnail/100x100/landscape.jpg", "/thumbnail/64x/webp/portrait.png", "/thumbnail/32x32,crop/tiny.png"]
        let list = try writeList(paths + ["https://cdn.example.com/thumbnail/9x9/missing.jpg?v=2"])
        let base = "http://127.0.0.1:\(cachePort)/"
        let first = try thumbnail(["--batch", list, "--base", base, "-j", "2"])
        let second = try thumbnail(["--batch", list, "--base", base, "-j", "2"])
        for (pass, cache) in [(first, "MISS"), (second, "HIT")] {
            #expect(pass.status == 66, "\(pass.error)")
            let report = rows(pass.output)
            try #require(report.count == 4)
            for (row, path) in zip(report, paths) {
                let size = try thumbnail(["-r", root, path]).output.count
                #expect(row == ["200", String(size), row[2], path, cache, "-"])
            }
            #expect(report[3][0] == "404" && report[3][4] == cache)
            #expect(pass.error.contains("thumbnail: https://cdn.example.com/thumbnail/9x9/missing.jpg?v=2: the server answered 404"))
        }
        #expect(first.error.contains("; cache hits 0 of 3 (0%)"))
        #expect(second.error.contains("; cache hits 3 of 3 (100%)"))
        #expect(try origin.requests(atLeast: 4) == 4, "a cached path reached the origin again")
    }

    /// A redirect is reported, not followed, with the path it names.
    @Test func baseNamesTheLocationOfARedirect() throws {
        let store = try MisbehavingStore(image: root + "/landscape.jpg", directory: scratch.path)
        defer { store.daemon.stop() }
        let list = try writeList(["/redirect/a.jpg"])
        let outcome = try thumbnail(["--batch", list, "--base", "http://127.0.0.1:\(store.port)"])
        #expect(outcome.status == 74)
        #expect(rows(outcome.output).map { $0[0] } == ["302"])
        #expect(
            outcome.error.hasPrefix(
                "thumbnail: /redirect/a.jpg: the server answered 302 (Location: /big/x.jpg); list that path, "
                    + "since redirects are not followed\n"), "\(outcome.error)")
        #expect(try store.bytesSent("/big/x.jpg") == nil, "the redirect was followed")
    }

    @Test func baseWithNothingListeningReports000AndExits74() throws {
        let port = try freePort()
        let list = try writeList(["/thumbnail/10x10/a.jpg", "/thumbnail/20x20/b.jpg"])
        let outcome = try thumbnail(["--batch", list, "--base", "http://127.0.0.1:\(port)", "--max-time", "5"])
        #expect(outcome.status == 74, "\(outcome.error)")
        #expect(rows(outcome.output).map { Array($0.prefix(2)) + $0.suffix(2) } == [
            ["000", "0", "-", "-"], ["000", "0", "-", "-"],
        ])
        #expect(outcome.error.hasPrefix("thumbnail: /thumbnail/10x10/a.jpg: "))
    }
}

/// The pieces of the batch mode, in process.
struct BatchPartTests {
    @Test func listLines() {
        let list = "# header\n\n/thumbnail/1x1/a.jpg\r\n  https://h/thumbnail/2x2/b.jpg  \n\t#x\n  \n/c\n"
        #expect(batchPaths(Array(list.utf8)) == ["/thumbnail/1x1/a.jpg", "https://h/thumbnail/2x2/b.jpg", "/c"])
        #expect(batchPaths([]) == [])
    }

    @Test(arguments: [
        ("HIT", true), ("MISS", false), ("Hit from cloudfront", true), ("RefreshHit from cloudfront", true),
        ("Miss from cloudfront", false), ("MISS, HIT", true), ("HIT, MISS", false), ("EXPIRED", false), ("", false),
    ])
    func cacheHits(header: String, hit: Bool) {
        #expect(isHit(header) == hit)
    }

    /// The canonical path decoded, with the format's extension when its name's does not name the format.
    @Test func outputPathIsTheCanonicalPathDecoded() throws {
        let access = Access(grammar: PathGrammar(prefix: "/img/t"))
        let request = try access.check(path: "/img/t/10x10,q80,crop/jpg/a%20b/caf%C3%A9.png").checkedRequest()
        let canonical = try access.canonicalPath(request)
        #expect(outputPath(canonical: canonical, format: .jpeg) == "/img/t/10x10,crop/jpeg/a b/café.png.jpeg")
        #expect(outputPath(canonical: "/5x/%25.png", format: .png) == "/5x/%.png")
        #expect(outputPath(canonical: "/5x/webp/a.JPG", format: .webp) == "/5x/webp/a.JPG.webp")
        #expect(outputPath(canonical: "/5x/a.JPG", format: .jpeg) == "/5x/a.JPG")
        #expect(outputPath(canonical: "/5x/jpeg/a.heic", format: .jpeg) == "/5x/jpeg/a.heic.jpeg")
    }

    @Test func displayedPathsKeepTheColumns() {
        #expect(displayed("/a\tb\u{7f}/c d") == "/a%09b%7F/c d")
    }

    @Test func resultsComeInIndexOrderWhateverOrderJobsFinish() throws {
        var delivered: [Int] = []
        var lastFinished = 0
        try parallelMapInOrder(
            count: 40, threads: 4,
            makeWorker: {
                { index in
                    usleep(UInt32((40 - index) % 7 * 2_000))  // later jobs often finish first
                    return index * index
                }
            },
            progress: { lastFinished = $0 },
            deliver: { index, result in
                #expect(result == index * index)
                delivered.append(index)
            })
        #expect(delivered == Array(0..<40))
        #expect(lastFinished == 40)
    }

    @Test func jobsRunAtTheSameTime() throws {
        let start = Date()
        try parallelMapInOrder(
            count: 8, threads: 4, makeWorker: { { _ in usleep(200_000) } }, progress: { _ in }, deliver: { _, _ in })
        // One at a time would take 1.6 s; four at a time 0.4 s.
        #expect(Date().timeIntervalSince(start) < 1.0)
    }

    @Test func aFailingDeliveryStopsNewJobs() {
        let started = Counter()
        let error = thrown {
            try parallelMapInOrder(
                count: 1000, threads: 2,
                makeWorker: {
                    { index in
                        started.increment()
                        usleep(1_000)
                        return index
                    }
                },
                progress: { _ in },
                deliver: { index, _ throws(ThumbnailError) in
                    if index == 3 { throw ThumbnailError(.ioFailure, "stdout", "closed") }
                })
        }
        #expect(error == ThumbnailError(.ioFailure, "stdout", "closed"))
        #expect(started.value < 100)
    }
}

/// A count several threads bump.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
