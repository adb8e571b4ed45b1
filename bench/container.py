#!/usr/bin/env python3
"""`make bench-container`: the image (`make image`) as an orchestrator runs it.

- Its size: as podman stores it, and gzip-compressed (`podman save`), about
  what a registry stores and a node pulls.
- Its memory under bench-serve's work (serve.py), in a fresh container:
  wrk with two connections for 10 s over 512x512 JPEG fits at quality 80 of
  the corpus's 1 to 6 megapixel JPEG photographs, every path fetched once
  first: requests a second, the container's memory cgroup's peak (what its
  processes allocated, and the page cache it was first to read: the sources,
  the binary and libraries unless an earlier container read them) and the
  peak PSS of its processes, sampled every 50 ms.
- Its start: from `podman run` (read-only root, no capabilities, host
  network) to the first 200 of /readyz and to the first thumbnail, a
  512x512 JPEG of one of those photographs; medians of five starts.
"""

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from serve import PeakPSS, free_port, load, photographs, warm, wrk

HERE = Path(__file__).resolve().parent
PODMAN = ["env", f"CONTAINERS_CONF={HERE.parent}/packaging/image/containers.conf", "podman", "--runtime", "runc"]


def podman(*arguments):
    return subprocess.run(PODMAN + list(arguments), capture_output=True, text=True, check=True).stdout.strip()


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            reply.read()
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return None


def start(image, photos, port):
    """The container's id: the image's server on `port`, the photographs its root."""
    return podman(
        "run", "--detach", "--rm", "--network", "host", "--no-healthcheck", "--read-only", "--cap-drop=all",
        "--security-opt", "no-new-privileges", "-v", f"{photos}:/srv/images:ro", "-e", "THUMBNAIL_ROOT=/srv/images",
        image, "--listen", f"127.0.0.1:{port}")


def first_replies(image, photos, first):
    """Seconds from `podman run` to the first 200 of /readyz, then of the thumbnail `first`."""
    port = free_port()
    began = time.monotonic()
    container = start(image, photos, port)
    try:
        deadline = began + 30
        while status(f"http://127.0.0.1:{port}/readyz") != 200:
            if time.monotonic() > deadline:
                raise SystemExit(f"{image}: no 200 from /readyz within 30 s: {podman('logs', container)}")
            time.sleep(0.005)
        ready = time.monotonic() - began
        if status(f"http://127.0.0.1:{port}{first}") != 200:
            raise SystemExit(f"{image}: {first} is not 200: {podman('logs', container)}")
        return ready, time.monotonic() - began
    finally:
        podman("rm", "--force", "--time", "0", container)


def memory_peak(pid):
    """The peak of the memory cgroup that process `pid` is in, MiB (cgroup v1 or v2)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "memory":
            return int(Path(f"/sys/fs/cgroup/memory{path}/memory.max_usage_in_bytes").read_text()) / 2**20
        if controllers == "" and Path(f"/sys/fs/cgroup{path}/memory.peak").exists():
            return int(Path(f"/sys/fs/cgroup{path}/memory.peak").read_text()) / 2**20
    raise SystemExit(f"no memory cgroup for process {pid}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--corpus", default=str(HERE / ".corpus"))
    parser.add_argument("--seconds", type=int, default=10)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-container-"))
    work.chmod(0o755)
    try:
        photos = work / "photos"
        names = photographs(Path(arguments.corpus).resolve(), photos)
        if not names:
            raise SystemExit(f"no photographs of 1 to 6 megapixels in {arguments.corpus}: run bench/corpus.sh")
        paths = [f"/thumbnail/512x512/{name}" for name in names]

        size = int(podman("image", "inspect", "--format", "{{.Size}}", arguments.image))
        save = subprocess.Popen(PODMAN + ["save", arguments.image], stdout=subprocess.PIPE)
        compressed = len(subprocess.run(["gzip", "-6"], stdin=save.stdout, capture_output=True, check=True).stdout)
        save.wait()
        print(f"{arguments.image}: {size / 1e6:.0f} MB, {compressed / 1e6:.0f} MB gzip-compressed")

        port = free_port()
        container = start(arguments.image, photos, port)
        try:
            while status(f"http://127.0.0.1:{port}/readyz") != 200:
                time.sleep(0.01)
            pid = int(podman("inspect", "--format", "{{.State.Pid}}", container))
            warm(port, paths)
            with PeakPSS(pid) as peak:
                rate, count, failed = wrk(port, paths, arguments.seconds, False, work)
            print(f"{len(names)} photographs, 512x512 JPEG, wrk -t2 -c2 {arguments.seconds} s "
                  f"(load average after: {load()}):")
            print(f"  {rate:.1f} requests/s ({count}, {failed} not 2xx); memory peak of the container's cgroup "
                  f"{memory_peak(pid):.1f} MiB, peak PSS of its processes {peak.peak:.1f} MiB")
        finally:
            podman("rm", "--force", "--time", "0", container)

        print(f"start (load average before: {load()}):")
        starts = [first_replies(arguments.image, photos, paths[0]) for _ in range(5)]
        print(f"  podman run to the first 200 of /readyz: {1000 * statistics.median(s[0] for s in starts):.0f} ms, "
              f"of a 512x512 thumbnail: {1000 * statistics.median(s[1] for s in starts):.0f} ms (medians of 5)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
