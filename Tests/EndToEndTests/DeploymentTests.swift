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
}
