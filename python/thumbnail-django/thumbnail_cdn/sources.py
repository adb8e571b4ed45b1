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
    """`MTIME-SIZE` in lower case hex, the modification time in whole seconds
    and the size in bytes, as `thumbnail --picture` writes a file's; None
    when the storage knows neither. A storage of local files is asked once
    (one stat), any other through the storage API."""
    try:
        try:
            info = os.stat(storage.path(name))
        except NotImplementedError:
            try:
                modified = storage.get_modified_time(name).timestamp()
            except NotImplementedError:
                return None
            return "%x-%x" % (math.floor(modified), storage.size(name))
    except OSError as error:
        raise Refused(name, error.strerror or "not in the storage") from None
    return "%x-%x" % (info.st_mtime_ns // 1_000_000_000, info.st_size)


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
