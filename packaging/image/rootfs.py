#!/usr/bin/python3
"""Prunes a root file system that mmdebstrap made down to what thumbnail
runs with, as mmdebstrap's customize hook:

    rootfs.py ROOT PACKAGE...

Kept: every file of the PACKAGEs that ship a shared library and of the
packages that those libraries depend on, again and again (of alternatives,
the one installed), but their documentation, manuals and translations; the
copyright files; the CA certificates that ca-certificates generated; the
dynamic loader's configuration; empty mount points; dpkg's record of the
kept packages, for scanners. Not followed: the dependencies of a package
that ships no library (fontconfig-config's on fonts and debconf serve
programs and install scripts that never run here), and those on essential
packages (dpkg, tar), which only install scripts need. Everything else
goes: the shell, dpkg, apt, coreutils. Then the loader's cache is made
again, for what is left.
"""
import os
import re
import shutil
import subprocess
import sys

root, named = sys.argv[1], sys.argv[2:]

# Kept whatever package they come from: made by ca-certificates' and libc-bin's scripts.
EXTRA = ["/etc/ssl/certs", "/usr/share/ca-certificates", "/etc/ld.so.conf", "/etc/ld.so.conf.d"]
# Paths no run needs.
DROPPED = re.compile(r"^/usr/share/(doc|man|info|locale|lintian|bug|doc-base|bash-completion)/")
KEPT_DOCUMENTS = re.compile(r"^/usr/share/doc/[^/]+/copyright$")
MOUNT_POINTS = {"/proc": 0o555, "/sys": 0o555, "/dev": 0o755, "/tmp": 0o1777, "/run": 0o755}
# mmdebstrap has the host's mounted there while the hooks run.
MOUNTED = {"/proc", "/sys", "/dev"}


def installed_packages():
    """Each installed package's Depends (with Pre-Depends), what it Provides, and its stanza."""
    packages = {}
    with open(os.path.join(root, "var/lib/dpkg/status")) as status:
        for stanza in status.read().split("\n\n"):
            fields = dict(re.findall(r"^([\w-]+): ?(.*(?:\n .*)*)", stanza, re.M))
            if "ok installed" not in fields.get("Status", ""):
                continue
            depends = ", ".join(filter(None, [fields.get("Pre-Depends"), fields.get("Depends")]))
            packages[fields["Package"]] = {
                "depends": [[name_of(alternative) for alternative in group.split("|")]
                            for group in depends.split(",") if group.strip()],
                "provides": [name_of(item) for item in fields.get("Provides", "").split(",") if item.strip()],
                "architecture": fields.get("Architecture"),
                "essential": fields.get("Essential") == "yes",
                "stanza": stanza.strip("\n"),
            }
    return packages


def name_of(relation):
    """`libc6 (>= 2.36)` and `libc6:any` are libc6."""
    return relation.strip().split(" ")[0].split(":")[0]


def files_of(package, architecture):
    for name in (f"{package}:{architecture}.list", f"{package}.list"):
        path = os.path.join(root, "var/lib/dpkg/info", name)
        if os.path.exists(path):
            with open(path) as listing:
                return [line.rstrip("\n") for line in listing if line.strip() and line.strip() != "/."]
    return []


def ships_library(packages, name):
    return any(re.search(r"\.so(\.|$)", path) for path in files_of(name, packages[name]["architecture"]))


def closure(packages, roots):
    providers = {}
    for name, package in packages.items():
        for virtual in [name] + package["provides"]:
            providers.setdefault(virtual, []).append(name)
    seen, pending = set(), list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if not ships_library(packages, name):
            continue
        for group in packages[name]["depends"]:
            chosen = next((providers[alternative][0] for alternative in group if alternative in providers), None)
            if chosen is None:
                sys.exit(f"rootfs.py: {name} depends on {' | '.join(group)}, which is not installed")
            if not packages[chosen]["essential"]:
                pending.append(chosen)
    return seen


def kept_paths(packages):
    libraries = [name for name in named if name in packages and ships_library(packages, name)]
    kept = set()
    kept_packages = closure(packages, libraries)
    for name in kept_packages:
        for path in files_of(name, packages[name]["architecture"]):
            if DROPPED.match(path) and not KEPT_DOCUMENTS.match(path):
                continue
            kept.add(path)
    for path in EXTRA:
        for top, directories, files in os.walk(root + path):
            kept.update(os.path.join(top, item)[len(root):] for item in directories + files)
        kept.add(path)
    return kept, libraries, kept_packages


def record(packages, kept_packages):
    """dpkg's status file, of the kept packages only: what scanners read to know what the image holds."""
    status = os.path.join(root, "var/lib/dpkg/status")
    with open(status, "w") as file:
        file.write("".join(packages[name]["stanza"] + "\n\n" for name in sorted(kept_packages)))
    return "/var/lib/dpkg/status"


def real(path):
    """`path` with the symbolic links among its directories followed, inside the root
    (`/lib/x86_64-linux-gnu/libc.so.6` is in `/usr/lib`, where `/lib` leads)."""
    resolved = "/"
    parts = [part for part in path.split("/") if part]
    for index, part in enumerate(parts):
        candidate = os.path.join(resolved, part)
        if index < len(parts) - 1 and os.path.islink(root + candidate):
            target = os.readlink(root + candidate)
            candidate = real(target if target.startswith("/") else os.path.join(resolved, target))
        resolved = os.path.normpath(candidate)
    return resolved


def with_parents_and_links(kept):
    """Each kept path where it really is, and as named; the directories and
    symbolic links on its way; and what each link leads to."""
    result = set()
    pending = list(kept)
    while pending:
        named = pending.pop()
        for path in {named, real(named)}:
            while path not in ("", "/") and path not in result:
                result.add(path)
                if os.path.islink(root + path):
                    target = os.readlink(root + path)
                    pending.append(os.path.normpath(target if target.startswith("/") else os.path.join(os.path.dirname(path), target)))
                path = os.path.dirname(path)
    return result


def prune(kept):
    """Removes what is not kept, deepest first; a directory goes once empty."""
    found = []
    for top, directories, files in os.walk(root):
        directories[:] = [name for name in directories if os.path.join(top, name)[len(root):] not in MOUNTED]
        found += [os.path.join(top, name) for name in directories + files]
    for full in reversed(found):
        path = full[len(root):]
        if path in kept or path in MOUNT_POINTS:
            continue
        if os.path.isdir(full) and not os.path.islink(full):
            if not os.listdir(full):
                os.rmdir(full)
        else:
            os.remove(full)


def main():
    packages = installed_packages()
    kept, libraries, kept_packages = kept_paths(packages)
    kept.add(record(packages, kept_packages))
    kept = with_parents_and_links(kept)
    # The cache lists what was there: it is made again below.
    kept.discard("/etc/ld.so.cache")
    prune(kept)
    for path, mode in MOUNT_POINTS.items():
        if path not in MOUNTED:
            os.makedirs(root + path, exist_ok=True)
            os.chmod(root + path, mode)
    subprocess.run(["ldconfig", "-r", root], check=True)
    print("rootfs.py: kept the libraries of " + " ".join(sorted(libraries)))


main()
