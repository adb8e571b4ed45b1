import Foundation
import TestSupport
import Testing

/// The Django package, python/thumbnail-django, as its users get it: the
/// wheel PyPI's `build` makes, installed with pip into venvs of Django 4.2
/// LTS, 5.2 and Debian's python3-django (`make django-venvs`), where the
/// Python side (Tests/Django) checks its tags, markup and grammar against
/// this binary. One at a time: they share the venvs and the wheel.
@Suite(.serialized)
struct DjangoPackageTests {
    /// The venvs of `make django-venvs`, under its DJANGO_DIR.
    static let venvs = ["django-4.2", "django-5.2", "debian"]

    /// `make django-venvs` (the wheel built again when the package changed,
    /// and put in each venv); the path of venv `name`.
    func venv(_ name: String) throws -> String {
        let make = try runTool("make", ["-s", "--no-print-directory", "-C", packageDirectory, "django-venvs"], seconds: 900)
        try #require(make.status == 0, "make django-venvs: \(make.error)")
        let path = try makeVariable("DJANGO_DIR") + "/" + name
        try #require(FileManager.default.isExecutableFile(atPath: path + "/bin/python"), "make django-venvs made no \(path)")
        return path
    }

    /// Python of `venv` in Tests/Django, with THUMBNAIL_BIN naming this binary.
    func python(_ venv: String, _ arguments: [String], seconds: Int = 60, environment: [String: String] = [:])
        throws -> Outcome
    {
        let inherited = ProcessInfo.processInfo.environment.merging(
            ["THUMBNAIL_BIN": thumbnailBinary, "PYTHONDONTWRITEBYTECODE": "1"]) { $1 }
        return try runProcess(
            venv + "/bin/python", arguments, directory: packageDirectory + "/Tests/Django", seconds: seconds,
            environment: inherited.merging(environment) { $1 })
    }

    @Test(.serialized, arguments: venvs) func tagsAndMarkupAgreeWithTheBinary(venv name: String) throws {
        let venv = try venv(name)
        // The venv imports the wheel's package, at VERSION's version, and its own Django.
        let installed = try python(
            venv,
            ["-c", "import django, thumbnail_cdn, importlib.metadata as m; print(m.version('thumbnail-django'), thumbnail_cdn.__file__, django.__file__)"])
        let words = String(decoding: installed.output, as: UTF8.self).split(separator: " ").map(String.init)
        try #require(words.count == 3, "\(installed.error)")
        #expect(words[0] == packageVersion)
        #expect(words[1].hasPrefix(venv + "/lib/"))
        #expect(words[2].hasPrefix(name == "debian" ? "/usr/lib/python3/dist-packages/" : venv + "/lib/"))
        let outcome = try python(venv, ["-m", "unittest", "-v", "test_tags", "test_markup"], seconds: 600)
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(outcome.error.contains("\nOK"), "\(outcome.error)")
    }

    @Test func differentialRequestsAgreeWithTheBinary() throws {
        let outcome = try python(try venv("django-5.2"), ["-m", "unittest", "-v", "test_differential"], seconds: 600)
        #expect(outcome.status == 0, "\(outcome.error)")
        let summary = outcome.error.components(separatedBy: "differential: ").dropFirst().first?
            .components(separatedBy: "\n").first.map { "differential: " + $0 } ?? "no summary"
        #expect(summary.hasSuffix(", 0 disagreements"), "\(outcome.error)")
        print(summary)
    }

    /// django-storages' S3 storage over moto's server, against --picture on the same bucket.
    @Test func s3StorageAgreesWithTheBinaryOnTheSameBucket() throws {
        let venv = try venv("django-5.2")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let objects = try Self.gallerySources(in: scratch)
        let moto = try MotoStore(objects: objects, directory: scratch.path, checksSignatures: false)
        defer { moto.daemon.stop() }
        let outcome = try python(
            venv, ["-m", "unittest", "-v", "test_s3"], seconds: 300,
            environment: moto.environment().merging(
                ["S3_ENDPOINT": moto.endpoint, "S3_BUCKET": moto.bucket, "S3_OBJECTS": objects]) { $1 })
        #expect(outcome.status == 0, "\(outcome.error)")
        #expect(outcome.error.contains("Ran 3 tests"), "\(outcome.error)")
    }

    /// The install commands of the package's README, run as written from a
    /// copy of the repository's package directory, in a fresh venv.
    @Test func readmeCommandsInstallTheWheelInAFreshVenv() throws {
        let readme = try String(contentsOfFile: packageDirectory + "/python/thumbnail-django/README.md", encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try sh(
            "mkdir python && cp -rL '\(packageDirectory)/python/thumbnail-django' python/ && rm -rf python/thumbnail-django/*.egg-info"
                + " && /usr/bin/python3 -m venv venv", directory: scratch.path)
        let run = try runProcess(
            "/bin/sh", ["-ec", block], directory: scratch.path, seconds: 600,
            environment: ProcessInfo.processInfo.environment.merging(
                ["PATH": scratch.file("venv/bin") + ":/usr/bin:/bin", "VIRTUAL_ENV": scratch.file("venv")]) { $1 })
        try #require(run.status == 0, "the README's commands: \(run.error)")
        let installed = try runProcess(
            scratch.file("venv/bin/python"),
            ["-c", "import importlib.metadata as m; print(m.version('thumbnail-django'))"])
        #expect(String(decoding: installed.output, as: UTF8.self) == packageVersion + "\n", "\(installed.error)")
        let wheel = try sh("ls python/thumbnail-django/dist/*.whl", directory: scratch.path)
        #expect(wheel == "python/thumbnail-django/dist/thumbnail_django-\(packageVersion)-py3-none-any.whl")
    }
}
