import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// `--picture` from the built binary: the markup for each kind of source,
/// parsed as HTML, and every URL in it asked of `thumbnail` itself.
final class PictureTests {
    let scratch: ScratchDirectory
    static let key = "example-key-0123456789"

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        try sh(
            """
            convert -size 200x100 xc:none -fill red -draw 'circle 100,50 100,10' alpha.png
            convert -seed 9 -size 400x240 plasma: stored.jpg
            mkdir 'dir one' && cp landscape.jpg 'dir one/a b+c%d é.jpg'
            cp tiny.png 'comma,'
            """, directory: scratch.path)
        let stored = try Data(contentsOf: URL(fileURLWithPath: scratch.file("stored.jpg")))
        try withOrientation6(stored).write(to: URL(fileURLWithPath: scratch.file("rotated.jpg")))
        try writeFile(Self.key + "\n", "keys", in: scratch)
        // The URLs carry each source's version, its modification time and size: fixed here.
        try sh("find . -type f -exec touch -d @1700000000 {} +", directory: scratch.path)
    }

    deinit { scratch.remove() }

    /// A JPEG with an EXIF segment saying orientation 6 (stored turned left: upright is 90° clockwise).
    func withOrientation6(_ jpeg: Data) -> Data {
        let tiff: [UInt8] =
            Array("MM".utf8) + [0, 42, 0, 0, 0, 8] + [0, 1] + [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0] + [0, 0, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let segment: [UInt8] = [0xff, 0xe1, 0, UInt8(payload.count + 2)] + payload
        return Data(jpeg.prefix(2)) + Data(segment) + Data(jpeg.dropFirst(2))
    }

    func picture(_ arguments: [String]) throws -> String {
        let outcome = try thumbnail(["--picture", "-r", scratch.path] + arguments, directory: scratch.path)
        #expect(outcome.status == 0, "\(arguments): \(outcome.error)")
        return String(decoding: outcome.output, as: UTF8.self)
    }

    // MARK: Golden markup

    static let goldens: [(arguments: [String], markup: String)] = [
        (
            ["-s", "100x100", "landscape.jpg"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/100x100,v6553f100-1cb8b/avif/landscape.jpg 1x, /thumbnail/200x200,v6553f100-1cb8b/avif/landscape.jpg 2x">
              <source type="image/webp" srcset="/thumbnail/100x100,v6553f100-1cb8b/webp/landscape.jpg 1x, /thumbnail/200x200,v6553f100-1cb8b/webp/landscape.jpg 2x">
              <img src="/thumbnail/100x100,v6553f100-1cb8b/jpeg/landscape.jpg" srcset="/thumbnail/100x100,v6553f100-1cb8b/jpeg/landscape.jpg 1x, /thumbnail/200x200,v6553f100-1cb8b/jpeg/landscape.jpg 2x" width="100" height="63" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        (
            ["-s", "100x100", "portrait.png"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/100x100,v6553f100-c4669/avif/portrait.png 1x, /thumbnail/200x200,v6553f100-c4669/avif/portrait.png 2x">
              <source type="image/webp" srcset="/thumbnail/100x100,v6553f100-c4669/webp/portrait.png 1x, /thumbnail/200x200,v6553f100-c4669/webp/portrait.png 2x">
              <img src="/thumbnail/100x100,v6553f100-c4669/jpeg/portrait.png" srcset="/thumbnail/100x100,v6553f100-c4669/jpeg/portrait.png 1x, /thumbnail/200x200,v6553f100-c4669/jpeg/portrait.png 2x" width="60" height="100" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        // 20x10: the 2x box would scale it up.
        (
            ["-s", "100x100", "tiny.png"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/100x100,v6553f100-147/avif/tiny.png 1x">
              <source type="image/webp" srcset="/thumbnail/100x100,v6553f100-147/webp/tiny.png 1x">
              <img src="/thumbnail/100x100,v6553f100-147/jpeg/tiny.png" srcset="/thumbnail/100x100,v6553f100-147/jpeg/tiny.png 1x" width="20" height="10" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        // Stored 400x240, upright 240x400.
        (
            ["-s", "64x64", "rotated.jpg"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/64x64,v6553f100-c09b/avif/rotated.jpg 1x, /thumbnail/128x128,v6553f100-c09b/avif/rotated.jpg 2x">
              <source type="image/webp" srcset="/thumbnail/64x64,v6553f100-c09b/webp/rotated.jpg 1x, /thumbnail/128x128,v6553f100-c09b/webp/rotated.jpg 2x">
              <img src="/thumbnail/64x64,v6553f100-c09b/jpeg/rotated.jpg" srcset="/thumbnail/64x64,v6553f100-c09b/jpeg/rotated.jpg 1x, /thumbnail/128x128,v6553f100-c09b/jpeg/rotated.jpg 2x" width="38" height="64" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        // Transparent: PNG, not JPEG, for the browsers that take neither AVIF nor WebP.
        (
            ["-s", "100x100", "alpha.png"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/100x100,v6553f100-35a/avif/alpha.png 1x, /thumbnail/200x200,v6553f100-35a/avif/alpha.png 2x">
              <source type="image/webp" srcset="/thumbnail/100x100,v6553f100-35a/webp/alpha.png 1x, /thumbnail/200x200,v6553f100-35a/webp/alpha.png 2x">
              <img src="/thumbnail/100x100,v6553f100-35a/png/alpha.png" srcset="/thumbnail/100x100,v6553f100-35a/png/alpha.png 1x, /thumbnail/200x200,v6553f100-35a/png/alpha.png 2x" width="100" height="50" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        (
            ["-s", "120x80", "--crop", "-q", "70", "landscape.jpg"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/120x80,crop,q70,v6553f100-1cb8b/avif/landscape.jpg 1x, /thumbnail/240x160,crop,q70,v6553f100-1cb8b/avif/landscape.jpg 2x">
              <source type="image/webp" srcset="/thumbnail/120x80,crop,q70,v6553f100-1cb8b/webp/landscape.jpg 1x, /thumbnail/240x160,crop,q70,v6553f100-1cb8b/webp/landscape.jpg 2x">
              <img src="/thumbnail/120x80,crop,q70,v6553f100-1cb8b/jpeg/landscape.jpg" srcset="/thumbnail/120x80,crop,q70,v6553f100-1cb8b/jpeg/landscape.jpg 1x, /thumbnail/240x160,crop,q70,v6553f100-1cb8b/jpeg/landscape.jpg 2x" width="120" height="80" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        // A path's options carry over; its format gives way to the list.
        (
            ["/thumbnail/100x100,bg000000,pad/webp/portrait.png"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/100x100,pad,bg000000,v6553f100-c4669/avif/portrait.png 1x, /thumbnail/200x200,pad,bg000000,v6553f100-c4669/avif/portrait.png 2x">
              <source type="image/webp" srcset="/thumbnail/100x100,pad,bg000000,v6553f100-c4669/webp/portrait.png 1x, /thumbnail/200x200,pad,bg000000,v6553f100-c4669/webp/portrait.png 2x">
              <img src="/thumbnail/100x100,pad,bg000000,v6553f100-c4669/jpeg/portrait.png" srcset="/thumbnail/100x100,pad,bg000000,v6553f100-c4669/jpeg/portrait.png 1x, /thumbnail/200x200,pad,bg000000,v6553f100-c4669/jpeg/portrait.png 2x" width="100" height="100" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        (
            ["--key-file", "keys", "-s", "100x100", "landscape.jpg"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/wrPRvpmSRqDyFh0QI8YnSA/100x100,v6553f100-1cb8b/avif/landscape.jpg 1x, /thumbnail/oy-Yh1gnTxvPAZDmGiWeMA/200x200,v6553f100-1cb8b/avif/landscape.jpg 2x">
              <source type="image/webp" srcset="/thumbnail/LN-2eNsdpB56gydmuDX8EQ/100x100,v6553f100-1cb8b/webp/landscape.jpg 1x, /thumbnail/G4n_S-G5njbHWTN2VETYQA/200x200,v6553f100-1cb8b/webp/landscape.jpg 2x">
              <img src="/thumbnail/aVlDdyj4V0ziVKPi50C-Jw/100x100,v6553f100-1cb8b/jpeg/landscape.jpg" srcset="/thumbnail/aVlDdyj4V0ziVKPi50C-Jw/100x100,v6553f100-1cb8b/jpeg/landscape.jpg 1x, /thumbnail/D37LObO7bTA0L0KyEBTDjQ/200x200,v6553f100-1cb8b/jpeg/landscape.jpg 2x" width="100" height="63" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        (
            ["--sizes", "100x100,64x64", "-s", "100x100", "landscape.jpg"],
            """
            <picture>
              <source type="image/avif" srcset="/thumbnail/100x100,v6553f100-1cb8b/avif/landscape.jpg 1x">
              <source type="image/webp" srcset="/thumbnail/100x100,v6553f100-1cb8b/webp/landscape.jpg 1x">
              <img src="/thumbnail/100x100,v6553f100-1cb8b/jpeg/landscape.jpg" srcset="/thumbnail/100x100,v6553f100-1cb8b/jpeg/landscape.jpg 1x" width="100" height="63" alt="" loading="lazy" decoding="async">
            </picture>

            """
        ),
        (
            [
                "--key-file", "keys", "--sizes", "100x100", "--formats", "webp,png", "--base", "https://cdn.example.com/",
                "--alt", "a \"<b>\" & 'c'", "-s", "100x100", "alpha.png",
            ],
            """
            <picture>
              <source type="image/webp" srcset="https://cdn.example.com/thumbnail/SZwIYz5cAWWC-K8gvcQ0Qg/100x100,v6553f100-35a/webp/alpha.png 1x">
              <img src="https://cdn.example.com/thumbnail/u_oSAXccUh-qrWGdMp-zwg/100x100,v6553f100-35a/png/alpha.png" srcset="https://cdn.example.com/thumbnail/u_oSAXccUh-qrWGdMp-zwg/100x100,v6553f100-35a/png/alpha.png 1x" width="100" height="50" alt="a &quot;&lt;b&gt;&quot; &amp; &#39;c&#39;" loading="lazy" decoding="async">
            </picture>

            """
        ),
    ]

    @Test(arguments: goldens.indices)
    func markupIsAsWritten(index: Int) throws {
        let (arguments, markup) = Self.goldens[index]
        #expect(try picture(arguments) == markup)
    }

    /// The signatures in the golden markup are those openssl computes.
    @Test func signaturesAreOpenssl() throws {
        let markup = Self.goldens.first { $0.arguments.contains("keys") }!.markup
        let paths = markup.split(whereSeparator: { $0 == "\"" || $0 == " " }).filter { $0.hasPrefix("/thumbnail/") }
        #expect(paths.count == 7)
        for path in paths {
            let segments = path.split(separator: "/", maxSplits: 2)
            let signed = "/" + segments[2]
            #expect(String(segments[1]) == (try opensslSignature(signed, key: Array(Self.key.utf8), scratch: scratch)), "\(path)")
        }
    }

    // MARK: The markup as HTML

    /// Python's html.parser: each start tag and its attributes, unescaped, as JSON.
    func parsed(_ markup: String) throws -> [(tag: String, attributes: [String: String])] {
        let script = """
            import html.parser, json, sys
            class Tags(html.parser.HTMLParser):
                tags = []
                def handle_starttag(self, tag, attrs): self.tags.append([tag, dict(attrs)])
            parser = Tags(convert_charrefs=True)
            parser.feed(sys.stdin.read())
            parser.close()
            print(json.dumps(parser.tags))
            """
        let outcome = try runProcess("/usr/bin/python3", ["-c", script], input: Data(markup.utf8))
        #expect(outcome.status == 0, "\(outcome.error)")
        let tags = try #require(try JSONSerialization.jsonObject(with: outcome.output) as? [[Any]])
        return tags.map { ($0[0] as! String, $0[1] as! [String: String]) }
    }

    @Test(arguments: goldens.indices)
    func markupParsesAsOnePictureWithItsSourcesAndOneImg(index: Int) throws {
        let (arguments, markup) = Self.goldens[index]
        let tags = try parsed(markup)
        let formats = arguments.firstIndex(of: "--formats").map { arguments[$0 + 1].split(separator: ",").map(String.init) }
            ?? ["avif", "webp", arguments.contains("alpha.png") ? "png" : "jpeg"]
        #expect(tags.map(\.tag) == ["picture"] + Array(repeating: "source", count: formats.count - 1) + ["img"])
        #expect(tags.dropFirst().dropLast().map { $0.attributes["type"] } == formats.dropLast().map { "image/" + $0 })
        let img = try #require(tags.last?.attributes)
        #expect(Set(img.keys) == ["src", "srcset", "width", "height", "alt", "loading", "decoding"])
        #expect(img["loading"] == "lazy" && img["decoding"] == "async")
        let alt = arguments.firstIndex(of: "--alt").map { arguments[$0 + 1] } ?? ""
        #expect(img["alt"] == alt)
    }

    // MARK: Every URL, asked of thumbnail itself

    /// 50 seeded requests over the test images, with and without keys and
    /// sizes: every URL of the markup is canonical (`--explain` prints it
    /// back), renders, and at 1x has the img's width and height; at 2x
    /// twice that, give or take the rounding of each side.
    @Test func everyURLRendersAtTheSizeTheMarkupSays() throws {
        var random = SeededRandom(seed: 20_261_201)
        let sources = ["landscape.jpg", "portrait.png", "tiny.png", "rotated.jpg", "alpha.png", "dir one/a b+c%d é.jpg"]
        let formatLists = ["webp,jpeg", "avif,webp,jpeg", "png", "webp,png", "gif,jpeg"]
        // Renders per configuration of the origin: [key file?, sizes] -> (path, expected size or nil, density)
        var checks: [[String]: [(url: String, width: Int, height: Int, density: Int)]] = [:]
        for _ in 0..<50 {
            let mode = ["fit", "crop", "pad"].randomElement(using: &random)!
            var width: Int? = Int.random(in: 8...300, using: &random)
            var height: Int? = Int.random(in: 8...300, using: &random)
            if mode == "fit", Bool.random(using: &random) { if Bool.random(using: &random) { width = nil } else { height = nil } }
            let box = BoxSize(width: width, height: height)
            var origin: [String] = []
            if Bool.random(using: &random) { origin += ["--key-file", scratch.file("keys")] }
            if Bool.random(using: &random) {
                // Sometimes the doubled box is allowed, sometimes not.
                let double = BoxSize(width: width.map { 2 * $0 }, height: height.map { 2 * $0 })
                origin += ["--sizes", Bool.random(using: &random) ? "\(box),\(double)" : "\(box)"]
            }
            var arguments = origin + ["-s", box.description]
            if mode != "fit" { arguments.append("--" + mode) }
            if Bool.random(using: &random) { arguments += ["-q", String(Int.random(in: 1...100, using: &random))] }
            arguments += ["--formats", formatLists.randomElement(using: &random)!]
            arguments += ["--densities", Bool.random(using: &random) ? "1,2" : "1,2,3"]
            arguments.append(sources.randomElement(using: &random)!)
            let tags = try parsed(try picture(arguments))
            let img = try #require(tags.last?.attributes, "\(arguments)")
            let (imgWidth, imgHeight) = (Int(img["width"] ?? "") ?? 0, Int(img["height"] ?? "") ?? 0)
            #expect(img["src"] == img["srcset"]?.split(separator: " ").first.map(String.init), "\(arguments)")
            for srcset in tags.compactMap({ $0.attributes["srcset"] }) {
                for candidate in srcset.components(separatedBy: ", ") {
                    let parts = candidate.split(separator: " ")
                    let density = Int(parts[1].dropLast()) ?? 0
                    checks[origin, default: []].append((String(parts[0]), imgWidth, imgHeight, density))
                }
            }
        }
        for (origin, urls) in checks {
            for url in urls {
                let explained = try runInProcess(["-r", scratch.path, "--explain", url.url] + origin)
                let first = String(decoding: explained.output, as: UTF8.self).split(separator: "\n").first
                #expect(first.map(String.init) == "canonical: " + url.url, "\(url.url) \(origin): \(explained.error)")
            }
            // One process renders them all, each written at its canonical path.
            let output = scratch.file("rendered-\(UUID().uuidString)")
            let list = Set(urls.map(\.url)).sorted().joined(separator: "\n") + "\n"
            let batch = try thumbnail(["--batch", "-", "-j", "2", "-r", scratch.path, "--output-dir", output] + origin, input: Data(list.utf8))
            #expect(batch.status == 0, "\(origin): \(batch.error)")
            let sizes = try sh("cd '\(output)' && find . -type f -print0 | xargs -0 identify -format '%i|%w|%h\\n'")
            var rendered: [String: (Int, Int)] = [:]
            for line in sizes.split(separator: "\n") {
                let columns = line.split(separator: "|")
                rendered[String(columns[0].dropFirst())] = (Int(columns[1]) ?? 0, Int(columns[2]) ?? 0)
            }
            for url in urls {
                let files = OutputFormat.allCases.map { outputPath(canonical: url.url, format: $0) }
                let size = try #require(files.lazy.compactMap { rendered[$0] }.first, "\(url.url) was not rendered")
                // Each side is rounded on its own: at 2x it may be a pixel off twice the 1x side.
                #expect(abs(size.0 - url.density * url.width) <= url.density - 1, "\(url.url): \(size) for \(url.width)x\(url.height)")
                #expect(abs(size.1 - url.density * url.height) <= url.density - 1, "\(url.url): \(size) for \(url.width)x\(url.height)")
            }
        }
    }

    /// Spaces, `%` and UTF-8 escaped once, as the origin decodes them; `+` stays, as RFC 3986 allows.
    @Test func namesArePercentEncodedAsTheOriginExpects() throws {
        let markup = try picture(["--formats", "jpeg", "--densities", "1", "-s", "64", "dir one/a b+c%d é.jpg"])
        #expect(markup.contains(" src=\"/thumbnail/64x64,v6553f100-1cb8b/jpeg/dir%20one/a%20b+c%25d%20%C3%A9.jpg\" "), "\(markup)")
    }

    // MARK: The batch and bad input

    @Test func batchPrintsOneElementPerPathAndReportsFailures() throws {
        let list = "/thumbnail/100x100/landscape.jpg\n# a comment\n/thumbnail/100x100/missing.jpg\n/thumbnail/100x100,crop/tiny.png\n"
        let outcome = try thumbnail(["--batch", "-", "--picture", "-r", scratch.path, "--formats", "jpeg"], input: Data(list.utf8))
        #expect(outcome.status == 66)
        let single = try picture(["--formats", "jpeg", "/thumbnail/100x100/landscape.jpg"])
        let tiny = try picture(["--formats", "jpeg", "/thumbnail/100x100,crop/tiny.png"])
        #expect(String(decoding: outcome.output, as: UTF8.self) == single + tiny)
        #expect(outcome.error.contains("thumbnail: /thumbnail/100x100/missing.jpg: missing.jpg: "))
        #expect(outcome.error.hasSuffix("thumbnail: stdin: 1 of 3 paths failed\n"))
    }

    @Test(arguments: [
        (["-s", "100x100", "-f", "webp", "landscape.jpg"], "thumbnail: --format: does not apply to --picture; it goes with rendering (flags or a thumbnail path) or --explain", 64),
        (["-s", "100x100", "--densities", "2,3", "landscape.jpg"], "thumbnail: --densities: must hold 1: the img's src is the 1x thumbnail", 64),
        (["-s", "100x100", "--densities", "1,1", "landscape.jpg"], "thumbnail: --densities: '1' is not a new whole number from 1 to 8", 64),
        (["-s", "100x100", "--formats", "webp,bmp", "landscape.jpg"], "thumbnail: --formats: 'bmp' is not a new one of jpeg, png, webp, gif, avif", 64),
        (["-s", "100x100", "-"], "thumbnail: -: --picture takes one source under the root or one thumbnail path", 64),
        (["-s", "100x100", "/thumbnail/100x100/landscape.jpg"], "thumbnail: /thumbnail/100x100/landscape.jpg: a thumbnail path already says size and options", 64),
        (["--sizes", "64x64", "-s", "100x100", "landscape.jpg"], "thumbnail: 100x100: size not allowed (--sizes 64x64)", 77),
        (["-s", "100x100", "../landscape.jpg"], "thumbnail: ../landscape.jpg: '..' would leave the storage root", 77),
        (["-s", "100x100", "comma,"], "thumbnail: comma,: a name ending in ',' cannot stand in a srcset", 65),
    ] as [([String], String, Int32)])
    func badRequestsAreRefused(arguments: [String], message: String, status: Int32) throws {
        let outcome = try thumbnail(["--picture", "-r", scratch.path] + arguments)
        #expect(outcome.status == status, "\(message)")
        #expect(outcome.output.isEmpty)
        #expect(outcome.error.split(separator: "\n").first.map(String.init) == message)
    }

    @Test func pictureOptionsNeedPicture() throws {
        let outcome = try thumbnail(["--batch", "-", "--alt", "x"])
        #expect(outcome.status == 64)
        #expect(outcome.error.hasPrefix("thumbnail: --alt: only applies with --picture\n"))
        let render = try thumbnail(["-s", "10x10", "--formats", "webp", "landscape.jpg"], directory: scratch.path)
        #expect(render.status == 64)
        #expect(render.error.hasPrefix("thumbnail: --formats: does not apply to rendering"))
    }
}
