import Foundation
import TestSupport
import Testing

/// What a browser makes of the tags' markup: headless Chromium loads a
/// Django page served by gunicorn, whose thumbnails come through nginx's
/// cache from `thumbnail --inetd` under xinetd, as a CDN would serve them.
extension DjangoPackageTests {
    /// The page's report (Tests/Django/photos/templates/photos/gallery.html).
    struct PageReport: Decodable {
        struct Image: Decodable {
            var alt: String
            var src: String
            var natural: [Int]
            var box: [String?]
        }
        var cls: Double
        var devicePixelRatio: Double
        var images: [Image]
    }

    /// The site and its CDN, on loopback ports; files in `scratch`.
    final class Site {
        let scratch: ScratchDirectory
        let root: String
        let origin: XinetdOrigin
        let daemons: [Daemon]
        let url: String
        let venv: String
        var loads = 0

        init(venv: String) throws {
            self.venv = venv
            scratch = try ScratchDirectory()
            root = try DjangoPackageTests.gallerySources(in: scratch)
            let keys = try writeFile("browser-test-key-0123456789\n", "keys", in: scratch)
            origin = try XinetdOrigin(root: root, directory: scratch.path, extraConfig: "key-file = \(keys)\n")
            let (nginx, cdnPort) = try startCachingProxy(originPort: origin.port, prefix: scratch.file("nginx"))
            let port = try freePort()
            let gunicorn = try Daemon(
                "/usr/bin/env",
                [
                    "THUMBNAIL_ROOT=\(root)", "THUMBNAIL_KEY_FILE=\(keys)", "THUMBNAIL_CDN=http://127.0.0.1:\(cdnPort)",
                    "PYTHONDONTWRITEBYTECODE=1", venv + "/bin/gunicorn", "--bind", "127.0.0.1:\(port)", "--workers", "1",
                    "--chdir", packageDirectory + "/Tests/Django", "wsgi",
                ], output: scratch.file("gunicorn.log"))
            daemons = [origin.daemon, nginx, gunicorn]
            url = "http://127.0.0.1:\(port)/"
            let log = (try? String(contentsOfFile: scratch.file("gunicorn.log"), encoding: .utf8)) ?? ""
            try #require(waitUntilListening(port), "gunicorn did not listen: \(log)")
        }

        deinit {
            daemons.forEach { $0.stop() }
            scratch.remove()
        }

        /// The page at `query` as headless Chromium reports it (Tests/Django/browser.py,
        /// over the DevTools protocol), at `scale` device pixels a CSS pixel,
        /// and its screenshot, named in any failure about it.
        func load(_ query: String = "", scale: Int = 1) throws -> (report: PageReport, screenshot: String) {
            let directory = packageDirectory + "/.build-django/screenshots"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            loads += 1
            let screenshot = directory + "/page-\(loads).png"
            let run = try runProcess(
                venv + "/bin/python",
                [packageDirectory + "/Tests/Django/browser.py", url + query, "--scale", String(scale), "--screenshot", screenshot],
                seconds: 120)
            let report = try? JSONDecoder().decode(PageReport.self, from: run.output)
            try #require(report != nil, "\(url + query): no report (\(run.error)); screenshot: \(screenshot)")
            return (report!, screenshot)
        }

        /// The paths the origin was asked for since `from` requests, in order.
        func originPaths(from: Int, expecting count: Int) throws -> [String] {
            _ = try origin.requests(atLeast: from + count)
            let lines = try String(contentsOfFile: origin.log, encoding: .utf8).split(separator: "\n")
            return lines.dropFirst(from).compactMap { line in
                line.components(separatedBy: "\"GET ").dropFirst().first?.components(separatedBy: " ").first
            }
        }
    }

    /// A directory `root` in `scratch` of four sources: a landscape JPEG, one
    /// stored 400x240 and turned by EXIF orientation 6, a transparent PNG
    /// and one too small for 2x at 160x160.
    static func gallerySources(in scratch: ScratchDirectory) throws -> String {
        let root = scratch.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try sh(
            """
            convert -seed 7 -size 640x400 plasma: landscape.jpg
            convert -seed 8 -size 400x240 plasma: stored.jpg
            convert -size 400x200 xc:none -fill red -draw 'circle 200,100 200,10' alpha.png
            convert -size 40x30 gradient:red-blue tiny.png
            """, directory: root)
        let stored = try Data(contentsOf: URL(fileURLWithPath: root + "/stored.jpg"))
        try settingOrientation(stored, 6).write(to: URL(fileURLWithPath: root + "/upright.jpg"))
        try FileManager.default.removeItem(atPath: root + "/stored.jpg")
        return root
    }

    @Test func aBrowserLoadsAVIFAtItsDensityWithoutLayoutShift() throws {
        let site = try Site(venv: try venv("django-5.2"))
        /// The page at `scale`: no layout shift, AVIF everywhere, each image the size of its box.
        func load(_ query: String = "", scale: Int = 1) throws -> PageReport {
            let (report, screenshot) = try site.load(query, scale: scale)
            guard query.isEmpty else { return report }
            #expect(report.cls == 0, "the layout shifted: CLS \(report.cls); screenshot: \(screenshot)")
            #expect(report.devicePixelRatio == Double(scale))
            for image in report.images {
                let box = image.box.map { Int($0 ?? "") ?? 0 }
                // In CSS pixels (a 2x candidate's halved): each side is rounded
                // on its own, so a 2x one may be half a pixel off.
                let fits = image.natural.count == 2 && zip(image.natural, box).allSatisfy { abs($0 - $1) < scale }
                #expect(fits && image.src.contains("/avif/"), "\(image.alt): \(image.src) is \(image.natural), its box \(box); screenshot: \(screenshot)")
            }
            return report
        }
        let first = try load()
        // Sorted by name; upright.jpg is stored 400x240 and turned by its EXIF orientation.
        #expect(first.images.map(\.alt) == ["alpha.png", "landscape.jpg", "tiny.png", "upright.jpg"])
        #expect(first.images.map(\.box) == [["160", "80"], ["160", "100"], ["40", "30"], ["96", "160"]])
        #expect(first.images.allSatisfy { $0.src.contains("/160x160,") })
        #expect(try site.originPaths(from: 0, expecting: 4).sorted() == first.images.map { pathOf($0.src) }.sorted())

        let double = try load(scale: 2)
        // The 2x candidate where the source has the pixels for it: all but tiny.png's.
        #expect(double.images.map { $0.src.contains("/320x320,") } == [true, true, false, true])
        #expect(try site.originPaths(from: 4, expecting: 3).sorted() == [0, 1, 3].map { pathOf(double.images[$0].src) }.sorted())

        let unsized = try load("?unsized")
        #expect(unsized.cls > 0, "plain <img> elements without a box did not shift the layout: the measure cannot fail")

        // A replaced source: new URLs on the next render, and the new image shown.
        try sh("convert -size 300x300 xc:blue landscape.jpg && touch -d @1800000000 landscape.jpg", directory: site.root)
        let replaced = try load()
        #expect(replaced.images[1].src != first.images[1].src && replaced.images[1].src.contains(",v6b49d200-"))
        #expect(replaced.images[1].natural == [160, 160])
        #expect(try site.originPaths(from: 7, expecting: 1) == [pathOf(replaced.images[1].src)])
        print(
            "browser: CLS \(first.cls) at 1x, \(double.cls) at 2x, \(replaced.cls) after the replacement,",
            "\(unsized.cls) for <img> without a box; the origin was asked for",
            try site.originPaths(from: 0, expecting: 8).joined(separator: " "))
    }
}

/// The path of a URL, from its first `/thumbnail`.
private func pathOf(_ url: String) -> String {
    url.range(of: "/thumbnail").map { String(url[$0.lowerBound...]) } ?? url
}
