"""What a Django storage says of a source: its version, from what the
storage already knows (for a file, its modification time and size: the
origin's `--picture` writes the same), its header's facts and its
placeholders, each read once per process for each version of the source."""

import math
import os
import threading
from collections import OrderedDict
from typing import NamedTuple

from . import header, placeholder
from .grammar import Refused

# Sources whose facts a process keeps: about 200 bytes each.
FACTS_KEPT = 10000
# Placeholders a process keeps: up to about 300 bytes each.
PLACEHOLDERS_KEPT = 10000
# The origin's defaults of --max-pixels and --max-bytes (Limits in Renderer.swift).
MAX_PIXELS = 50_000_000
MAX_BYTES = 50 << 20


class Limits(NamedTuple):
    """What a source may be before it is decoded: the origin's --max-pixels and --max-bytes."""

    max_pixels: int = MAX_PIXELS
    max_bytes: int = MAX_BYTES

    def check_pixels(self, facts):
        """Refused as the origin refuses a source whose header says it is too large."""
        if facts.width * facts.height > self.max_pixels:
            # Named as stored, before the orientation turns it, as the origin names it.
            stored = (facts.height, facts.width) if facts.orientation >= 5 else (facts.width, facts.height)
            raise Refused("source", "%dx%d exceeds the limit of %d pixels" % (stored + (self.max_pixels,)))


def version(storage, name):
    """The source's version as `thumbnail --picture` writes it, from what the
    storage knows without reading the image: the first 16 letters and
    digits of an S3 object's ETag, else `MTIME-SIZE` in lower case hex (the
    modification time in whole seconds, the size in bytes); None when the
    storage knows none of these. A storage of local files is asked once (one
    stat), any other through the storage API."""
    try:
        try:
            info = os.stat(storage.path(name))
        except NotImplementedError:
            return remote_version(storage, name)
    except OSError as error:
        raise Refused(name, error.strerror or "not in the storage") from None
    return "%x-%x" % (info.st_mtime_ns // 1_000_000_000, info.st_size)


def remote_version(storage, name):
    tag = entity_tag(storage, name)
    # A weak tag's W/ and the quotes go, and an S3 multipart upload's -N.
    letters = "".join(c for c in tag.lstrip('W/"').split("-")[0] if c.isascii() and c.isalnum())[:16] if tag else ""
    if letters:
        return letters
    try:
        modified = storage.get_modified_time(name).timestamp()
    except NotImplementedError:
        return None
    return "%x-%x" % (math.floor(modified), storage.size(name))


def entity_tag(storage, name):
    """The ETag of a django-storages S3 object (one HEAD request, as its
    size() makes); None for any other storage."""
    bucket, normalized = getattr(storage, "bucket", None), getattr(storage, "_normalize_name", None)
    if bucket is None or normalized is None:
        return None
    from botocore.exceptions import ClientError
    from storages.utils import clean_name

    try:
        return bucket.Object(normalized(clean_name(name))).e_tag
    except ClientError as error:  # a missing object is a 404
        raise OSError(str(error)) from None


class SourceCache:
    """What `read(storage, name, *arguments)` gave for recently used sources,
    by storage, name, version and arguments: a replaced source has another
    version, so it is read again."""

    def __init__(self, read, kept):
        self.read, self.kept = read, kept
        self.lock = threading.Lock()
        self.entries = OrderedDict()

    def get(self, storage, name, version, *arguments):
        # The entry holds the storage, so its id is not reused while the entry lives.
        key = (id(storage), name, version) + arguments
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
                return entry[1]
        try:
            found = self.read(storage, name, *arguments)
        except OSError as error:
            raise Refused(name, error.strerror or "not in the storage") from None
        with self.lock:
            self.entries[key] = (storage, found)
            while len(self.entries) > self.kept:
                self.entries.popitem(last=False)
        return found


def read_facts(storage, name, max_bytes):
    """The header's facts; refused first, as the origin refuses it, when the
    source is over `max_bytes` (its size from the storage: a stat, or S3's HEAD)."""
    size = storage.size(name)
    if size > max_bytes:
        raise Refused("source", "%d bytes exceeds the limit of %d" % (size, max_bytes))
    return header.facts(lambda: storage.open(name, "rb"))


def read_placeholder(storage, name, kind, facts, max_bytes):
    """The placeholder's style, from the whole source read as the origin reads
    it: refused over `max_bytes`."""
    with storage.open(name, "rb") as source:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Refused("source", "over the limit of %d bytes" % max_bytes)
    return placeholder.style(kind, data, facts)


facts_cache = SourceCache(read_facts, FACTS_KEPT)
placeholder_cache = SourceCache(read_placeholder, PLACEHOLDERS_KEPT)
