import Foundation
import TestSupport
import Testing

/// podman as the Makefile runs it (its containers.conf, runc), for `arguments`.
func podman(_ arguments: [String], seconds: Int = 120) throws -> Outcome {
    let command = try makeVariable("PODMAN", isPath: false).split(separator: " ").map(String.init)
    return try runProcess("/usr/bin/env", command + arguments, seconds: seconds)
}

/// Whether podman can run here. A missing podman is a missing test
/// dependency, which fails; but a machine without what containers need
/// (namespaces, cgroups), where `podman info` fails, cannot run the image.
let podmanCanRun: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/podman") else { return true }
    return (try? podman(["info"]).status) == 0
}()

/// `make image` and the image it builds, run with podman as a cautious
/// orchestrator runs it: not root, its root file system read-only, no
/// capabilities, no privilege to gain, the sources mounted read-only,
/// configured by THUMBNAIL_* variables.
@Suite(.serialized, .enabled(if: podmanCanRun, "podman cannot run containers on this machine: `podman info` fails"))
final class ImageTests {
    let scratch: ScratchDirectory
    let images: String
    let image: String

    init() throws {
        scratch = try ScratchDirectory()
        images = scratch.file("images")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try sh(
            "convert -seed 5 -size 400x300 plasma: photo.jpg && convert -size 120x90 xc:none -fill blue "
                + "-draw 'circle 60,45 60,10' clear.png && chmod 644 photo.jpg clear.png", directory: images)
        let made = try runTool("make", ["--no-print-directory", "-C", packageDirectory, "image"], seconds: 900)
        try #require(made.status == 0, "make image: \(made.error)")
        image = try makeVariable("IMAGE", isPath: false)
    }

    deinit { scratch.remove() }

    /// `podman run` of the image with `arguments`, as the suite describes.
    func run(_ arguments: [String], environment: [String: String] = [:], mounts: [String] = []) throws -> Outcome {
        let options =
            ["run", "--rm", "--network", "host", "--no-healthcheck", "--read-only", "--cap-drop=all",
             "--security-opt", "no-new-privileges", "-v", images + ":/srv/images:ro"]
            + mounts.flatMap { ["-v", $0] } + environment.sorted { $0.key < $1.key }.flatMap { ["-e", "\($0.key)=\($0.value)"] }
        return try podman(options + [image] + arguments)
    }

    @Test func rendersTheSameBytesAsTheCommandLine() throws {
        for path in ["/thumbnail/100x100/photo.jpg", "/thumbnail/64x64,crop/webp/photo.jpg", "/thumbnail/50x50/png/clear.png",
                     "/thumbnail/40x/avif/clear.png"] {
            let expected = try thumbnail(["-r", images, path])
            #expect(expected.status == 0, "\(expected.error)")
            let rendered = try run([path], environment: ["THUMBNAIL_ROOT": "/srv/images", "THUMBNAIL_MAX_BYTES": "1000000"])
            #expect(rendered.status == 0, "\(path): \(rendered.error)")
            #expect(rendered.output == expected.output, "\(path): the image's bytes are not the command line's")
        }
        // Its configuration is the environment's: sizes it does not allow are refused.
        let refused = try run(["/thumbnail/100x100/photo.jpg"], environment: ["THUMBNAIL_ROOT": "/srv/images", "THUMBNAIL_SIZES": "64x64"])
        #expect(refused.status == 77 && refused.error.hasPrefix("thumbnail: 100x100: size not allowed"), "\(refused.error)")
        let typo = try run(["/thumbnail/100x100/photo.jpg"], environment: ["THUMBNAIL_ROOOT": "/srv/images"])
        #expect(typo.status == 64 && typo.error.hasPrefix("thumbnail: THUMBNAIL_ROOOT: no such variable; did you mean THUMBNAIL_ROOT?"))
    }

    /// An S3 root: libcurl and the signing work in the image, with moto checking the keys.
    @Test func readsFromS3() throws {
        let moto = try MotoStore(objects: images, directory: scratch.path)
        defer { moto.daemon.stop() }
        let path = "/thumbnail/80x80/webp/photo.jpg"
        let environment = moto.environment().filter { $0.key.hasPrefix("AWS_") }.merging(
            ["THUMBNAIL_ROOT": "s3://\(moto.bucket)", "THUMBNAIL_S3_ENDPOINT": moto.endpoint]) { $1 }
        let rendered = try run([path], environment: environment)
        #expect(rendered.status == 0, "\(rendered.error)")
        #expect(rendered.output == (try thumbnail(["-r", images, path]).output))
    }

    /// The health check's command, run against a server that answers /healthz, then one that does not.
    @Test func healthCheckFetchesHealthz() throws {
        let served = scratch.file("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try "ok\n".write(toFile: served + "/healthz", atomically: true, encoding: .utf8)
        let port = try freePort()
        let server = try Daemon(
            "/usr/bin/python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", served],
            output: scratch.file("http.out"))
        defer { server.stop() }
        try #require(waitUntilListening(port), "python's http.server did not listen")
        let inspected = try podman(["image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", image])
        let test = try #require(try JSONSerialization.jsonObject(with: inspected.output) as? [String])
        #expect(test.first == "CMD")
        let command = test.dropFirst().map { $0.replacing("127.0.0.1:8080", with: "127.0.0.1:\(port)") }
        let check = {
            try podman(["run", "--rm", "--no-healthcheck", "--network", "host", "--read-only", "--entrypoint", command[0], self.image]
                + command.dropFirst())
        }
        let healthy = try check()
        #expect(healthy.status == 0, "\(healthy.error)")
        try FileManager.default.removeItem(atPath: served + "/healthz")
        #expect(try check().status != 0)
    }

    /// It runs as its own user, and nothing of its root file system can be written.
    @Test func notRootAndReadOnly() throws {
        let output = scratch.file("output")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        chmod(output, 0o1777)
        let environment = ["THUMBNAIL_ROOT": "/srv/images"]
        let written = try run(["-s", "32", "-o", "/out/small.jpg", "photo.jpg"], environment: environment, mounts: [output + ":/out"])
        #expect(written.status == 0, "\(written.error)")
        let owner = try FileManager.default.attributesOfItem(atPath: output + "/small.jpg")[.ownerAccountID] as? Int
        #expect(owner == 65532, "the file was written by uid \(owner ?? -1), not the image's user")
        let onRoot = try run(["-s", "32", "-o", "/small.jpg", "photo.jpg"], environment: environment)
        #expect(onRoot.status == 73 && onRoot.error.contains("Read-only file system"), "\(onRoot.error)")
        let onSources = try run(["-s", "32", "-o", "/srv/images/small.jpg", "photo.jpg"], environment: environment)
        #expect(onSources.status == 73 && onSources.error.contains("Read-only file system"), "\(onSources.error)")
    }

    /// What the image says of itself: its labels, user, command and health check.
    @Test func configuration() throws {
        let inspected = try podman(["image", "inspect", image])
        let document = try #require(
            try JSONSerialization.jsonObject(with: inspected.output) as? [[String: Any]]).first ?? [:]
        let config = try #require(document["Config"] as? [String: Any])
        let labels = try #require(config["Labels"] as? [String: String])
        #expect(labels["org.opencontainers.image.version"] == packageVersion)
        #expect(labels["org.opencontainers.image.licenses"] == "Apache-2.0")
        #expect(labels["org.opencontainers.image.title"] == "thumbnail")
        #expect(config["User"] as? String == "65532:65532")
        #expect(config["Entrypoint"] as? [String] == ["thumbnail"])
        #expect(config["Cmd"] as? [String] == ["--listen", "8080"])
        #expect(config["StopSignal"] as? String == "SIGTERM")
        let check = try #require(document["Healthcheck"] as? [String: Any])
        #expect((check["Test"] as? [String])?.contains("http://127.0.0.1:8080") == true)
        // No shell, no package manager: only what thumbnail runs with.
        for absent in ["/bin/sh", "/usr/bin/dpkg", "/usr/bin/apt-get", "/usr/bin/perl"] {
            let found = try podman(["run", "--rm", "--no-healthcheck", "--network", "host", "--entrypoint", absent, image])
            #expect(found.status != 0, "\(absent) is in the image")
        }
    }
}
