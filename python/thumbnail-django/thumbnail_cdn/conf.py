"""The project's settings, read as the origin reads its own options:

    THUMBNAIL_CDN       put before every path, "https://cdn.example.com" ("" for none)
    THUMBNAIL_KEY_FILE  the origin's --key-file; None: paths are not signed
    THUMBNAIL_SIZES     the origin's --sizes, a list ["100x100", ...]; None: any size
    THUMBNAIL_PREFIX    the origin's --prefix, "/thumbnail" by default
    THUMBNAIL_MAX_SIDE  the origin's --max-side, 4096 by default
    THUMBNAIL_STRICT    True: bad input raises instead of a warning and the original
"""

import os
import stat
import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .grammar import DEFAULT_PREFIX, MAX_SIDE, Refused, check_sizes
from .picture import Origin

# The origin's own bounds on a key file and a key.
KEY_FILE_LIMIT = 1 << 16
MINIMUM_KEY_BYTES = 16


class KeyFile:
    """A key file's keys, read once, and again only when the file changes
    (another inode, size or modification time): rotating keys needs no restart."""

    def __init__(self):
        self.lock = threading.Lock()
        self.read = None  # (path, identity, keys)

    def keys(self, path):
        try:
            info = os.stat(path)
        except OSError as error:
            raise Refused(path, error.strerror) from None
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        read = self.read
        if read is not None and read[:2] == (path, identity):
            return read[2]
        with self.lock:
            keys = read_keys(path)
            self.read = (path, identity, keys)
            return keys


def read_keys(path):
    """One key a line, the line's bytes exactly, empty lines skipped; refused
    as the origin refuses it: not a regular file, readable or writable by
    group or others, over 64 KiB, a key under 16 bytes, or no key."""
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise Refused(path, "not a regular file")
            if info.st_mode & 0o077:
                raise Refused(
                    path, "mode 0%o: group or others may read or change it; chmod go-rwx" % (info.st_mode & 0o777)
                )
            data = file.read(KEY_FILE_LIMIT + 1)
    except OSError as error:
        raise Refused(path, error.strerror) from None
    if len(data) > KEY_FILE_LIMIT:
        raise Refused(path, "over %d bytes" % KEY_FILE_LIMIT)
    keys = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if line and len(line) < MINIMUM_KEY_BYTES:
            raise Refused("%s:%d" % (path, number), "a key needs at least %d bytes" % MINIMUM_KEY_BYTES)
        if line:
            keys.append(line)
    if not keys:
        raise Refused(path, "holds no key")
    return tuple(keys)


key_file = KeyFile()
# The settings as read, until Django says one of them changed (override_settings does).
read = {}


@receiver(setting_changed)
def forget(setting, **_):
    if setting.startswith("THUMBNAIL_"):
        read.clear()


def settings_read():
    """The origin without its keys (or why the settings describe none), the
    key file's path and strictness, read once."""
    if not read:
        max_side = getattr(settings, "THUMBNAIL_MAX_SIDE", MAX_SIDE)
        try:
            origin = Origin(
                getattr(settings, "THUMBNAIL_PREFIX", DEFAULT_PREFIX), (),
                check_sizes(getattr(settings, "THUMBNAIL_SIZES", None), max_side), max_side,
                getattr(settings, "THUMBNAIL_CDN", "").rstrip("/"),
            )
        except Refused as error:
            origin = error
        read.update(
            origin=origin, max_side=max_side, key_file=getattr(settings, "THUMBNAIL_KEY_FILE", None),
            strict=bool(getattr(settings, "THUMBNAIL_STRICT", False)),
        )
    return read


def strict() -> bool:
    return settings_read()["strict"]


def max_side() -> int:
    return settings_read()["max_side"]


def origin() -> Origin:
    """The origin the URLs are for, as the settings describe it, with the key file's keys."""
    found = settings_read()
    if isinstance(found["origin"], Refused):
        raise found["origin"]
    return found["origin"]._replace(keys=key_file.keys(found["key_file"])) if found["key_file"] else found["origin"]
