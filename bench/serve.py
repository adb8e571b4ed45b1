#!/usr/bin/env python3
"""`make bench-serve`: thumbnail as an HTTP origin on loopback.

512x512 fit thumbnails, JPEG at quality 80 and WebP at quality 80, of the 1
to 6 megapixel JPEG photographs of the bench corpus (bench/corpus.sh), by
wrk with two connections, every system started afresh for each measurement
and the systems alternated round by round; medians of the rounds:

- `--listen`, a connection per request, against its own keep-alive (goal:
  0.9x the requests a second or better, CPU per request within 1.1x);
- `--listen` keep-alive against `--inetd` keep-alive under
  systemd-socket-activate (`Accept=yes`, a process per connection);
- against thumbor 7.8 (file loader, one process a core) and a gunicorn +
  Django + Pillow view (bench/django_view.py, one worker a core), from PyPI
  in a venv: requests a second and peak PSS of the process tree as ratios.

Then 200 concurrent distinct requests on the corpus's large sources with
--max-renders 2, under --listen and under the shipped xinetd example: the
replies, and the peak PSS of the process tree against the bound
thumbnail(1) states (SERVER, What it costs).

CPU is that of the whole process tree (reaped children included), from
/proc. The machine's load average is printed beside the figures: other work
on it moves them.

`--listen-only` measures `--listen` alone; `--before BINARY` measures another
build's `--listen` in the same rounds (`make bench-serve SERVE_ARGS="..."`).
"""

import argparse
import grp
import os
import pwd
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1

# thumbnail(1), SERVER, What it costs: MiB of PSS for the server and for a
# connection after a render, of peak RSS for the largest render of the
# corpus (the 18 megapixel progressive JPEG), and of PSS for a waiting
# --inetd process.
STATED = {"server": 6, "connection": 1.2, "render": 110, "inetd process": 1.6}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port} after {seconds} s")


def tree(root):
    """`root` and every process under it."""
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                queue += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass  # it ended meanwhile
    return pids


def tree_cpu(root):
    """CPU seconds of the tree: each live process's own and its reaped children's."""
    total = 0
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(field) for field in fields[11:15])
    return total / TICKS


def tree_pss(root):
    """PSS of the tree, MiB."""
    total = 0
    for pid in tree(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class PeakPSS:
    """Samples the tree's PSS every 50 ms while in a `with` block."""

    def __init__(self, root):
        self.root, self.peak, self.running = root, 0.0, True
        self.thread = threading.Thread(target=self.sample)

    def sample(self):
        while self.running:
            self.peak = max(self.peak, tree_pss(self.root))
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.running = False
        self.thread.join()


class Server:
    """A server run for one measurement, in a process group of its own."""

    def __init__(self, command, port, env=None, cwd=None):
        self.port = port
        self.process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_listening(port)
        except SystemExit:
            self.stop()
            raise

    def stop(self):
        """SIGTERM to the server, then SIGKILL to its whole group after 25 s."""
        try:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def load():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wrk(port, paths, seconds, close, work):
    """requests/s, requests, non-2xx responses."""
    script = work / "paths.lua"
    listed = ", ".join(f'"{path}"' for path in paths)
    script.write_text(
        f"paths = {{{listed}}}\ncounter = 0\n"
        "request = function()\n  counter = counter + 1\n"
        "  return wrk.format(nil, paths[counter % #paths + 1])\nend\n")
    command = ["wrk", "-t2", "-c2", f"-d{seconds}s", "-s", str(script)]
    if close:
        command += ["-H", "Connection: close"]
    output = subprocess.run(command + [f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    count = int(re.search(r"(\d+) requests in", output).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, count, int(failed.group(1)) if failed else 0


def warm(port, paths):
    """Each path once, so every system starts the measurement with its code and sources paged in."""
    for path in paths:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            while connection.recv(65536):
                pass


def measure(start, paths, seconds, close, work):
    server = start()
    try:
        warm(server.port, paths)
        before = tree_cpu(server.process.pid)
        with PeakPSS(server.process.pid) as peak:
            rate, count, failed = wrk(server.port, paths, seconds, close, work)
            time.sleep(1)  # the last connections' processes end and are reaped
        cpu = tree_cpu(server.process.pid) - before
    finally:
        server.stop()
    if failed:
        print(f"  {failed} of {count} replies were not 2xx", file=sys.stderr)
    return {"rate": rate, "cpu_ms": 1000 * cpu / count, "peak_mib": peak.peak}


def photographs(corpus, into):
    """The corpus's JPEG photographs of 1 to 6 megapixels, copied flat into `into`."""
    into.mkdir()
    for source in sorted((corpus / "root/usr/share/backgrounds").rglob("*.jp*g")):
        size = subprocess.run(["identify", "-ping", "-format", "%w %h", str(source)], capture_output=True, text=True)
        width, height = (int(value) for value in size.stdout.split()[:2])
        if 1_000_000 <= width * height <= 6_000_000 and not (into / source.name).exists():
            shutil.copy(source, into / source.name)
    return sorted(path.name for path in into.iterdir())


def server_user(work):
    """`--user nobody` when run as root (the server refuses to serve as root), and a log it can write."""
    log = work / "origin.log"
    log.touch()
    if os.getuid() != 0:
        return [], log
    os.chown(log, pwd.getpwnam("nobody").pw_uid, -1)
    return ["--user", "nobody"], log


def burst(port, root_pid, paths, seconds=180):
    """200 requests at once, a connection each: the status of each reply (None: none whole) and the peak PSS."""
    connections = []
    for path in paths:
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        connections.append(connection)
    with PeakPSS(root_pid) as peak:
        for connection, path in zip(connections, paths):
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        received = {connection: b"" for connection in connections}
        open_ = set(connections)
        deadline = time.monotonic() + seconds
        while open_ and time.monotonic() < deadline:
            ready, _, _ = select.select(list(open_), [], [], 1)
            for connection in ready:
                try:
                    chunk = connection.recv(65536)
                except OSError:
                    chunk = b""
                if chunk:
                    received[connection] += chunk
                else:
                    open_.discard(connection)
    statuses = {}
    for connection, data in received.items():
        connection.close()
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"\r\nContent-Length: (\d+)", head)
        whole = length and len(body) == int(length.group(1))
        status = head.split(b" ")[1].decode() if whole else "no whole reply"
        statuses[status] = statuses.get(status, 0) + 1
    return statuses, peak.peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--thumbnail", default=".build-release/release/thumbnail")
    parser.add_argument("--corpus", default=str(HERE / ".corpus"))
    parser.add_argument("--venv", default=".build-bench/serve-venv")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--part", choices=["all", "throughput", "burst"], default="all")
    parser.add_argument("--listen-only", action="store_true", help="measure --listen alone, with and without keep-alive")
    parser.add_argument("--before", metavar="BINARY", help="also measure this build's --listen, for a before and after")
    arguments = parser.parse_args()
    binary = str(Path(arguments.thumbnail).resolve())
    venv = Path(arguments.venv).resolve()
    corpus = Path(arguments.corpus).resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    work.chmod(0o755)
    try:
        user, log = server_user(work)
        if arguments.part != "burst":
            before = arguments.before and str(Path(arguments.before).resolve())
            throughput(
                binary, venv, corpus, work, user, log, arguments.seconds, arguments.rounds, arguments.listen_only, before)
        if arguments.part != "throughput":
            burst_section(binary, corpus, work, user, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def throughput(binary, venv, corpus, work, user, log, seconds, rounds, listen_only, before):
    photos = work / "photos"
    names = photographs(corpus, photos)
    thumbor_conf = work / "thumbor.conf"
    thumbor_conf.write_text(
        f"LOADER = 'thumbor.loaders.file_loader'\nFILE_LOADER_ROOT_PATH = '{photos}'\n"
        "STORAGE = 'thumbor.storages.no_storage'\nQUALITY = 80\nWEBP_QUALITY = 80\nAUTO_WEBP = False\n")

    def listen(build=binary):
        port = free_port()
        return Server([build, "--listen", f"127.0.0.1:{port}", "-r", str(photos), "--log", str(log)] + user, port)

    def inetd():
        port = free_port()
        return Server(
            ["systemd-socket-activate", "--inetd", "--accept", f"--listen=127.0.0.1:{port}", binary, "--inetd", "-r",
             str(photos), "--log", str(log), "--render-slots", str(work / "slots")], port)

    def thumbor():
        port = free_port()
        return Server(
            [str(venv / "bin/thumbor"), "--port", str(port), "--ip", "127.0.0.1", "--conf", str(thumbor_conf),
             "--processes", str(CORES), "--log-level", "error"], port)

    def django():
        port = free_port()
        return Server(
            [str(venv / "bin/gunicorn"), "--workers", str(CORES), "--bind", f"127.0.0.1:{port}", "--chdir", str(HERE),
             "--log-level", "error", "django_view:application"], port,
            env=dict(os.environ, THUMBNAIL_BENCH_ROOT=str(photos)))

    systems = [
        ("listen, a connection per request", listen, True, "thumbnail"),
        ("listen, keep-alive", listen, False, "thumbnail"),
    ]
    if before:
        systems += [
            ("before: listen, a connection per request", lambda: listen(before), True, "thumbnail"),
            ("before: listen, keep-alive", lambda: listen(before), False, "thumbnail"),
        ]
    if not listen_only:
        systems += [
            ("inetd, keep-alive", inetd, False, "thumbnail"),
            (f"thumbor 7.8, {CORES} processes", thumbor, False, "thumbor"),
            (f"gunicorn + Django + Pillow, {CORES} workers", django, False, "django"),
        ]
    paths = {
        ("jpeg", "thumbnail"): [f"/thumbnail/512x512/{name}" for name in names],
        ("webp", "thumbnail"): [f"/thumbnail/512x512,q80/webp/{name}" for name in names],
        ("jpeg", "thumbor"): [f"/unsafe/fit-in/512x512/filters:quality(80)/{name}" for name in names],
        ("webp", "thumbor"): [f"/unsafe/fit-in/512x512/filters:quality(80):format(webp)/{name}" for name in names],
        ("jpeg", "django"): [f"/jpeg/{name}" for name in names],
        ("webp", "django"): [f"/webp/{name}" for name in names],
    }
    print(f"{len(names)} JPEG photographs of 1 to 6 megapixels; wrk, 2 connections, {seconds} s a measurement, "
          f"{rounds} rounds; {CORES} cores")
    for fmt in ["jpeg", "webp"]:
        print(f"\n512x512 {fmt.upper()}, quality 80 (load average before: {load()})")
        results = {name: [] for name, *_ in systems}
        for round_number in range(rounds):
            turn = round_number % len(systems)
            for name, start, close, kind in systems[turn:] + systems[:turn]:
                results[name].append(measure(start, paths[(fmt, kind)], seconds, close, work))
        medians = {
            name: {key: statistics.median(run[key] for run in runs) for key in runs[0]} for name, runs in results.items()}
        print(f"  {'system':52} {'requests/s':>10} {'CPU ms/request':>15} {'peak PSS MiB':>13}")
        for name, figures in medians.items():
            print(f"  {name:52} {figures['rate']:10.1f} {figures['cpu_ms']:15.1f} {figures['peak_mib']:13.1f}")
        for prefix in ["", "before: "] if before else [""]:
            closing, keeping = (medians[prefix + name] for name in ["listen, a connection per request", "listen, keep-alive"])
            print(f"  {prefix}a connection per request / keep-alive: requests/s {closing['rate'] / keeping['rate']:.2f}x "
                  f"(goal >= 0.9), CPU per request {closing['cpu_ms'] / keeping['cpu_ms']:.2f}x (goal <= 1.1)")
        if not listen_only:
            keeping = medians["listen, keep-alive"]
            inetd_figures, thumbor_figures, django_figures = (medians[systems[i][0]] for i in (-3, -2, -1))
            print(f"  listen / inetd, keep-alive: requests/s {keeping['rate'] / inetd_figures['rate']:.2f}x, "
                  f"CPU per request {keeping['cpu_ms'] / inetd_figures['cpu_ms']:.2f}x")
            for other, figures in [("thumbor", thumbor_figures), ("Django", django_figures)]:
                print(f"  listen / {other}: requests/s {keeping['rate'] / figures['rate']:.2f}x, "
                      f"peak PSS {keeping['peak_mib'] / figures['peak_mib']:.2f}x")
        print(f"  (load average after: {load()})")


def burst_section(binary, corpus, work, user, log):
    large = ["jpeg-5640x3172.jpg", "png-5640x3172.png", "webp-4096x4096.webp", "tiff-3840x2400.tif", "heic-3840x2400.heic"]
    images = corpus / "images"
    paths = [f"/thumbnail/{300 + index}x{300 + index}/{large[index % len(large)]}" for index in range(200)]
    random.Random(1).shuffle(paths)
    print(f"\n200 concurrent distinct requests on {', '.join(large)}, --max-renders 2 (load average before: {load()})")
    port = free_port()
    server = Server(
        [binary, "--listen", f"127.0.0.1:{port}", "-r", str(images), "--log", str(log), "--max-renders", "2"] + user, port)
    try:
        statuses, peak = burst(port, server.process.pid, paths)
    finally:
        server.stop()
    # The 200 connections, and up to twice --max-renders processes that wait.
    bound = STATED["server"] + 2 * STATED["render"] + (200 + 4) * STATED["connection"]
    print(f"  --listen: replies {statuses}; peak PSS {peak:.0f} MiB, bound stated "
          f"{STATED['server']} + 2 x {STATED['render']} + (200 + 4) x {STATED['connection']} = {bound:.0f} MiB")
    port = free_port()
    conf = (HERE.parent / "examples/xinetd/thumbnail").read_text()
    args = f"--inetd -r {images} --log {log} --max-renders 2 --render-slots {work / 'xinetd-slots'}"
    for key, value in [("port", str(port)), ("user", pwd.getpwuid(os.getuid()).pw_name), ("group", grp.getgrgid(os.getgid()).gr_name),
                       ("server", binary), ("server_args", args)]:
        conf = re.sub(rf"^(\s*{key}\s*=).*$", rf"\g<1> {value}", conf, flags=re.M)
    (work / "xinetd.conf").write_text(conf)
    server = Server(["xinetd", "-dontfork", "-f", str(work / "xinetd.conf"), "-filelog", str(work / "xinetd.log")], port)
    try:
        statuses, peak = burst(port, server.process.pid, paths)
    finally:
        server.stop()
    bound = 2 * STATED["render"] + 200 * STATED["inetd process"]
    print(f"  xinetd (examples/xinetd/thumbnail): replies {statuses}; peak PSS {peak:.0f} MiB, bound stated "
          f"2 x {STATED['render']} + 200 x {STATED['inetd process']} = {bound:.0f} MiB (xinetd itself aside)")
    print(f"  (load average after: {load()})")


if __name__ == "__main__":
    main()
