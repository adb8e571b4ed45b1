import Foundation
import TestSupport
import Testing

/// deploy/kubernetes, checked by Tests/kubernetes/check-manifests.py (PyYAML):
/// each file one object of its kind with the fields it requires, the
/// objects fitting together, and what running thumbnail asks of them.
final class DeploymentTests {
    let scratch: ScratchDirectory
    let manifests = packageDirectory + "/deploy/kubernetes"

    init() throws { scratch = try ScratchDirectory() }
    deinit { scratch.remove() }

    /// The checker's problems with `directory`, a line each.
    func problems(_ directory: String) throws -> [String] {
        let outcome = try runProcess(
            "/usr/bin/python3", [packageDirectory + "/Tests/kubernetes/check-manifests.py", directory])
        #expect(outcome.error.isEmpty, "\(outcome.error)")
        let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect((outcome.status == 0) == lines.isEmpty)
        return lines
    }

    @Test func everyManifestIsTheKindItClaims() throws {
        #expect(try problems(manifests) == [])
    }

    /// The checker finds what it looks for: each change below breaks one thing.
    @Test(arguments: [
        ("deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false",
         "deployment.yaml: container thumbnail: the root file system is writable"),
        ("deployment.yaml", "path: /readyz", "path: /ready",
         "deployment.yaml: container thumbnail: the readiness probe is not GET /readyz"),
        ("deployment.yaml", "terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 20",
         "deployment.yaml: container thumbnail: terminationGracePeriodSeconds 20 is not past the pause and THUMBNAIL_SHUTDOWN_TIMEOUT"),
        ("deployment.yaml", "runAsNonRoot: true", "runAsNonRoot: false", "deployment.yaml: the pod may run as root"),
        ("hpa.yaml", "autoscaling/v2", "autoscaling/v1", "hpa.yaml: a HorizontalPodAutoscaler is apiVersion autoscaling/v2, not 'autoscaling/v1'"),
        ("service.yaml", "targetPort: http", "targetPort: web", "service.yaml: port http leads to no container port"),
        ("deployment.yaml", "mountPath: /etc/thumbnail/secrets", "mountPath: /etc/secrets",
         "deployment.yaml: container thumbnail: THUMBNAIL_KEY_FILE names no file of a mounted volume"),
        ("pdb.yaml", "minAvailable: 1", "minAvailable: 2", "pdb.yaml: minAvailable leaves no pod to evict at the fewest replicas"),
        ("configmap.yaml", "THUMBNAIL_SHUTDOWN_TIMEOUT: \"20\"", "THUMBNAIL_SHUTDOWN_TIMEOUT: 20",
         "configmap.yaml: a value that is not a string"),
        ("secret.yaml", "kind: Secret", "kind: Secrets", "secret.yaml: kind 'Secrets' is not one of Deployment, Service, "
            + "ConfigMap, Secret, ServiceAccount, HorizontalPodAutoscaler, PodDisruptionBudget, Kustomization"),
    ])
    func aBrokenManifestIsFound(file: String, original: String, replacement: String, problem: String) throws {
        let copy = scratch.file("kubernetes")
        try FileManager.default.copyItem(atPath: manifests, toPath: copy)
        let text = try String(contentsOfFile: copy + "/" + file, encoding: .utf8)
        try #require(text.contains(original), "\(file) no longer has '\(original)'")
        try text.replacing(original, with: replacement).write(toFile: copy + "/" + file, atomically: true, encoding: .utf8)
        let found = try problems(copy)
        #expect(found.contains(problem), "\(found)")
    }

    /// A Secret's and a ConfigMap's files as Kubernetes mounts them: links to
    /// links on a tmpfs that anyone may write to (the Secret's sticky, 1777;
    /// the ConfigMap's 0777), read-only in the container. thumbnail, in a
    /// mount namespace of its own, reads its config and keys through them; the
    /// ConfigMap's directory left writable is refused, as anyone could have
    /// swapped its links.
    @Test(arguments: [(true, ""), (false, "group or others may write to directory CONFIG (mode 0777)")])
    func readsTheFilesKubernetesMounts(readOnly: Bool, refusal: String) throws {
        try #require(getuid() == 0, "mounting a tmpfs takes root")
        let secret = scratch.file("secret"), config = scratch.file("config")
        for directory in [secret, config] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false) }
        let key = "key-0123456789abcdef"
        let mount = """
            set -e
            volume() {  # directory, mode, file, text, ro or rw: as the kubelet lays out a volume
                mount -t tmpfs -o mode=$2 tmpfs "$1"
                mkdir -m 0755 "$1/..2026_12_06_17_00_00.1"
                printf '%s\n' "$4" >"$1/..2026_12_06_17_00_00.1/$3"
                chmod 0440 "$1/..2026_12_06_17_00_00.1/$3"
                ln -s ..2026_12_06_17_00_00.1 "$1/..data"
                ln -s "..data/$3" "$1/$3"
                mount -o "remount,$5" "$1"
            }
            volume "$1" 1777 keys "$3" ro
            volume "$2" 0777 thumbnail.conf "key-file = $1/keys" "$4"
            exec "$5" --config "$2/thumbnail.conf" --sign /thumbnail/100x100/a.jpg
            """
        let outcome = try runProcess(
            "/usr/bin/unshare",
            ["--mount", "/bin/sh", "-c", mount, "sh", secret, config, key, readOnly ? "ro" : "rw", thumbnailBinary])
        let expected = try thumbnail(["--key-file", try writeFile(key + "\n", "keys", in: scratch), "--sign", "/thumbnail/100x100/a.jpg"])
        if refusal.isEmpty {
            #expect(outcome.status == 0, "\(outcome.error)")
            #expect(outcome.output == expected.output)
        } else {
            #expect(outcome.status == 64)
            #expect(outcome.error.prefix { $0 != "\n" } == "thumbnail: \(config)/thumbnail.conf: \(refusal.replacing("CONFIG", with: config))")
        }
    }
}
