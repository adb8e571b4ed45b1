"""What a Django storage says of a source: its version, from what the
storage already knows (for a file, its modification time and size: the
origin's `--picture` writes the same), and its header's facts, read once
per process for each version of the source."""

import math
import os
import threading
from collections import OrderedDict

from . import header
from .grammar import Refused

# Sources whose facts a process keeps: about 200 bytes each.
FACTS_KEPT = 10000


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


class FactsCache:
    """The facts of recently used sources, by storage, name and version: a
    replaced source has another version, so its facts are read again."""

    def __init__(self, kept=FACTS_KEPT):
        self.kept = kept
        self.lock = threading.Lock()
        self.entries = OrderedDict()

    def facts(self, storage, name, version):
        # The entry holds the storage, so its id is not reused while the entry lives.
        key = (id(storage), name, version)
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
                return entry[1]
        try:
            found = header.facts(lambda: storage.open(name, "rb"))
        except OSError as error:
            raise Refused(name, error.strerror or "not in the storage") from None
        with self.lock:
            self.entries[key] = (storage, found)
            while len(self.entries) > self.kept:
                self.entries.popitem(last=False)
        return found


facts_cache = FactsCache()
