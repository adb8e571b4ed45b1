"""Checks the manifests of a directory (deploy/kubernetes) the way the API
server would take them, without one: each file holds one object of a kind
this knows, under its API version, with the fields that kind requires, and
the objects fit together (the names they refer to exist, the Service and
the PodDisruptionBudget select the Deployment's pods, the HPA scales it on
the CPU its containers request). Then what running thumbnail asks of them:
its probes, a read-only root as a user that is not root, no privilege, a
pause before SIGTERM and a grace period past the shutdown timeout.

usage: check-manifests.py DIRECTORY
Prints each problem, a line each, and exits 1 if there is any.
"""
import os
import sys

import yaml

API_VERSIONS = {
    "Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1", "ServiceAccount": "v1",
    "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}
REQUIRED = {
    "Deployment": ["metadata.name", "spec.selector.matchLabels", "spec.template.metadata.labels",
                   "spec.template.spec.containers"],
    "Service": ["metadata.name", "spec.selector", "spec.ports"],
    "ConfigMap": ["metadata.name", "data"],
    "Secret": ["metadata.name", "stringData"],
    "ServiceAccount": ["metadata.name"],
    "HorizontalPodAutoscaler": ["metadata.name", "spec.scaleTargetRef.kind", "spec.scaleTargetRef.name",
                                "spec.minReplicas", "spec.maxReplicas", "spec.metrics"],
    "PodDisruptionBudget": ["metadata.name", "spec.selector.matchLabels", "spec.minAvailable"],
    "Kustomization": ["resources"],
}

directory = sys.argv[1]
problems = []


def field(document, path):
    for key in path.split("."):
        if not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    return document


def check(condition, problem):
    if not condition:
        problems.append(problem)


objects = {}
files = sorted(name for name in os.listdir(directory) if name.endswith(".yaml"))
for name in files:
    with open(os.path.join(directory, name)) as file:
        documents = [document for document in yaml.safe_load_all(file) if document is not None]
    if len(documents) != 1 or not isinstance(documents[0], dict):
        problems.append(f"{name}: not one object")
        continue
    document = documents[0]
    kind = document.get("kind")
    if kind not in API_VERSIONS:
        problems.append(f"{name}: kind {kind!r} is not one of {', '.join(API_VERSIONS)}")
        continue
    check(document.get("apiVersion") == API_VERSIONS[kind],
          f"{name}: a {kind} is apiVersion {API_VERSIONS[kind]}, not {document.get('apiVersion')!r}")
    for path in REQUIRED[kind]:
        check(field(document, path) is not None, f"{name}: a {kind} needs {path}")
    check(kind not in objects, f"{name}: a second {kind}")
    objects[kind] = (name, document)

missing = [kind for kind in API_VERSIONS if kind not in objects]
if missing:
    for problem in problems + [f"{directory}: no {kind}" for kind in missing]:
        print(problem)
    sys.exit(1)

kustomization = objects["Kustomization"][1]
check(sorted(kustomization["resources"]) == sorted(name for name in files if name != objects["Kustomization"][0]),
      "kustomization.yaml: its resources are not the other files")

deployment = objects["Deployment"][1]
pod = deployment["spec"]["template"]["spec"]
labels = deployment["spec"]["template"]["metadata"]["labels"]
config = objects["ConfigMap"][1]["data"]
check(all(isinstance(value, str) for value in config.values()), "configmap.yaml: a value that is not a string")
check(all(key.startswith("THUMBNAIL_") for key in config), "configmap.yaml: a variable thumbnail does not read")
check(deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(),
      "deployment.yaml: the selector does not select the template's pods")
check(pod.get("serviceAccountName") == objects["ServiceAccount"][1]["metadata"]["name"],
      "deployment.yaml: serviceAccountName is not serviceaccount.yaml's")
pod_security = pod.get("securityContext", {})
check(pod_security.get("runAsNonRoot") is True and pod_security.get("runAsUser", 0) != 0,
      "deployment.yaml: the pod may run as root")
volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
secret_volumes = [volume for volume in volumes.values() if "secret" in volume]
check(all(volume["secret"]["secretName"] == objects["Secret"][1]["metadata"]["name"] for volume in secret_volumes),
      "deployment.yaml: a secret volume names another Secret")
grace = pod.get("terminationGracePeriodSeconds", 30)
for container in pod["containers"]:
    where = f"deployment.yaml: container {container.get('name')}"
    check(container.get("image"), f"{where}: no image")
    ports = {port.get("name"): port.get("containerPort") for port in container.get("ports", [])}
    check(field(container, "livenessProbe.httpGet.path") == "/healthz", f"{where}: the liveness probe is not GET /healthz")
    check(field(container, "readinessProbe.httpGet.path") == "/readyz", f"{where}: the readiness probe is not GET /readyz")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        port = field(container, f"{probe}.httpGet.port")
        check(port is None or port in ports or port in ports.values(), f"{where}: {probe} asks a port it does not open")
    security = container.get("securityContext", {})
    check(security.get("readOnlyRootFilesystem") is True, f"{where}: the root file system is writable")
    check(security.get("allowPrivilegeEscalation") is False, f"{where}: privilege escalation is allowed")
    check("ALL" in (field(security, "capabilities.drop") or []), f"{where}: capabilities are not all dropped")
    check(field(container, "resources.requests.cpu") and field(container, "resources.requests.memory")
          and field(container, "resources.limits.memory"), f"{where}: no CPU and memory requests, or no memory limit")
    pause = field(container, "lifecycle.preStop.sleep.seconds")
    check(pause, f"{where}: no preStop pause")
    shutdown = int(config.get("THUMBNAIL_SHUTDOWN_TIMEOUT", "0"))
    check(grace > (pause or 0) + shutdown,
          f"{where}: terminationGracePeriodSeconds {grace} is not past the pause and THUMBNAIL_SHUTDOWN_TIMEOUT")
    check(all(reference["configMapRef"]["name"] == objects["ConfigMap"][1]["metadata"]["name"]
              for reference in container.get("envFrom", []) if "configMapRef" in reference),
          f"{where}: envFrom names another ConfigMap")
    mounts = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
    check(all(mount["name"] in volumes for mount in mounts.values()), f"{where}: a mount of a volume the pod lacks")
    for variable in container.get("env", []):
        if variable["name"].endswith("_FILE"):
            check(variable.get("value") in mounts, f"{where}: {variable['name']} names no mounted file")

service = objects["Service"][1]
check(service["spec"]["selector"].items() <= labels.items(), "service.yaml: it does not select the Deployment's pods")
container_ports = [port for container in pod["containers"] for port in container.get("ports", [])]
for port in service["spec"]["ports"]:
    check(any(port.get("targetPort") in (container_port.get("name"), container_port.get("containerPort"))
              for container_port in container_ports), f"service.yaml: port {port.get('name')} leads to no container port")

hpa = objects["HorizontalPodAutoscaler"][1]["spec"]
check(hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]},
      "hpa.yaml: it does not scale the Deployment")
check(1 <= hpa["minReplicas"] <= hpa["maxReplicas"], "hpa.yaml: minReplicas is not from 1 to maxReplicas")
check(any(field(metric, "resource.name") == "cpu" for metric in hpa["metrics"]), "hpa.yaml: not scaled on CPU")

pdb = objects["PodDisruptionBudget"][1]["spec"]
check(pdb["selector"]["matchLabels"].items() <= labels.items(), "pdb.yaml: it does not select the Deployment's pods")
check(pdb["minAvailable"] < hpa["minReplicas"], "pdb.yaml: minAvailable leaves no pod to evict at the fewest replicas")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
