import Foundation
import TestSupport
import Testing

/// podman as the Makefile runs it (its containers.conf, runc), for
/// `arguments`. It is started with no descriptor past standard error: for
/// `kube play` it leaves conmon running the pod with every descriptor it
/// inherited, among them the socket by which Foundation's Process learns
/// that its child ended, which would then never end.
func podman(_ arguments: [String], seconds: Int = 120) throws -> Outcome {
    let command = try makeVariable("PODMAN", isPath: false).split(separator: " ").map(String.init)
    let closingDescriptors = "import os, sys; os.closerange(3, 1 << 16); os.execv(sys.argv[1], sys.argv[1:])"
    return try runProcess("/usr/bin/python3", ["-c", closingDescriptors, "/usr/bin/env"] + command + arguments, seconds: seconds)
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

    /// A configuration that cannot serve ends the container at once, with one
    /// line and the table's status, so that the orchestrator restarts it and
    /// no probe ever finds it ready.
    @Test func aConfigurationThatCannotServeExitsWithOneLine() throws {
        let noRoot = try run([])
        #expect(noRoot.status == 78)
        #expect(noRoot.error == "thumbnail: --root: a server needs a storage root: a directory, s3://BUCKET or https://HOST\n")
        let noConfig = try run(["--listen", "8080", "--config", "/etc/thumbnail/none.conf"])
        #expect(noConfig.status == 66)
        #expect(noConfig.error == "thumbnail: /etc/thumbnail/none.conf: No such file or directory\n")
    }

    /// The image's own command, the server on a port: curl gets the command line's bytes.
    @Test func servesTheCommandLinesBytes() throws {
        let port = try freePort()
        let options =
            ["run", "--detach", "--rm", "--network", "host", "--no-healthcheck", "--read-only", "--cap-drop=all",
             "--security-opt", "no-new-privileges", "-v", images + ":/srv/images:ro", "-e", "THUMBNAIL_ROOT=/srv/images"]
        let started = try podman(options + [image, "--listen", "127.0.0.1:\(port)"])
        try #require(started.status == 0, "\(started.error)")
        let container = String(decoding: started.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? podman(["stop", "--time", "5", container]) }
        try #require(waitUntilListening(port), "the container's server did not listen")
        for path in ["/thumbnail/100x100/photo.jpg", "/thumbnail/64x64,crop/webp/photo.jpg", "/thumbnail/50x50/png/clear.png"] {
            let served = scratch.file("served-\(port)")
            let status = try sh("curl -sS --max-time 20 -o '\(served)' -w '%{http_code}' http://127.0.0.1:\(port)\(path)")
            #expect(status == "200", "\(path)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: served)) == (try thumbnail(["-r", images, path])).output, "\(path)")
        }
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

    /// deploy/kubernetes as podman plays it: the Deployment with its
    /// ConfigMap, one replica on a free port, the root a directory of the
    /// image. It serves as the image's user on a read-only root, and stops on
    /// SIGTERM within the grace period. Without the Secret: podman 4.3 writes
    /// a Secret volume's files 0644 whatever its defaultMode and fsGroup say
    /// (and takes only its data, not its stringData), and thumbnail refuses a
    /// key others may read; Kubernetes writes them 0440, root's and the group's.
    @Test func playsTheKubernetesDeployment() throws {
        let manifests = scratch.file("kubernetes")
        try FileManager.default.copyItem(atPath: packageDirectory + "/deploy/kubernetes", toPath: manifests)
        let port = try freePort()
        let adapt = """
            import sys, yaml
            directory, port = sys.argv[1], int(sys.argv[2])
            with open(directory + "/deployment.yaml") as file:
                deployment = yaml.safe_load(file)
            deployment["spec"]["replicas"] = 1
            pod = deployment["spec"]["template"]["spec"]
            pod["volumes"] = [volume for volume in pod["volumes"] if "secret" not in volume]
            for container in pod["containers"]:
                container["image"] = "localhost/" + container["image"]
                container["args"] = ["--listen", str(port)]
                container["ports"] = [{"name": "http", "containerPort": port}]
                container["env"] = [item for item in container["env"] if not item["name"].endswith("_FILE")]
                container["volumeMounts"] = [mount for mount in container["volumeMounts"] if mount["name"] != "secrets"]
            with open(directory + "/deployment.yaml", "w") as file:
                yaml.safe_dump(deployment, file)
            with open(directory + "/configmap.yaml") as file:
                config = yaml.safe_load(file)
            config["data"]["THUMBNAIL_ROOT"] = "/usr/share/thumbnail"
            with open(directory + "/configmap.yaml", "w") as file:
                yaml.safe_dump(config, file)
            """
        let adapted = try runProcess("/usr/bin/python3", ["-c", adapt, manifests, String(port)])
        try #require(adapted.status == 0, "\(adapted.error)")
        let deployment = manifests + "/deployment.yaml"
        defer { _ = try? podman(["kube", "down", deployment]) }
        let played = try podman(["kube", "play", "--configmap", manifests + "/configmap.yaml", deployment], seconds: 180)
        try #require(played.status == 0, "\(played.error)")
        let status = { (path: String) in
            try sh("curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:\(port)\(path) || true")
        }
        var ready = ""
        for _ in 0..<40 where ready != "200" {
            ready = try status("/readyz")
            if ready != "200" { usleep(500_000) }
        }
        let logs = try podman(["logs", "thumbnail-pod-0-thumbnail"])
        try #require(ready == "200", "/readyz: \(ready); \(String(decoding: logs.output, as: UTF8.self))\(logs.error)")
        #expect(try status("/healthz") == "200")
        // Only the ConfigMap's sizes: one it lists is looked for, another refused.
        #expect(try status("/thumbnail/100x100/none.jpg") == "404")
        #expect(try status("/thumbnail/10x10/none.jpg") == "403")
        // The ConfigMap's access log, JSON lines, is the container's standard output.
        var logged = ""
        for _ in 0..<20 where !logged.contains(#""target":"/thumbnail/10x10/none.jpg","protocol":"HTTP/1.1","status":403"#) {
            usleep(250_000)
            logged = String(decoding: try podman(["logs", "thumbnail-pod-0-thumbnail"]).output, as: UTF8.self)
        }
        #expect(logged.contains(#""target":"/thumbnail/100x100/none.jpg","protocol":"HTTP/1.1","status":404"#), "\(logged)")
        let container = try podman(["inspect", "thumbnail-pod-0-thumbnail", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}"])
        #expect(String(decoding: container.output, as: UTF8.self) == "65532:65532 true\n")
        let started = Date()
        let down = try podman(["kube", "down", deployment], seconds: 60)
        #expect(down.status == 0, "\(down.error)")
        #expect(Date().timeIntervalSince(started) < 40, "podman kube down took the whole grace period")
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
        #expect((config["Env"] as? [String])?.contains("THUMBNAIL_LOG=-") == true, "the access log is not on standard output")
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
