"""The thumbnail path grammar of thumbnail(1), "THUMBNAIL PATHS": what a
size segment may say, its one canonical spelling, the source's percent
encoding and the signature. A port of the origin's own rules
(Sources/ThumbnailCore/Grammar and Access), held to them by a differential
test; nothing here needs Django.

    prefix/[signature/]size[,option...]/[format/]source
"""

import binascii
import functools
import hmac
import re
from typing import NamedTuple, Optional, Tuple
from urllib.parse import quote

FORMATS = ("jpeg", "png", "webp", "gif", "avif")
# The quality a request without `q` gets; the lossless formats take none.
DEFAULT_QUALITY = {"jpeg": 80, "webp": 81, "avif": 47}
# The compass points and the centre, `c`, the default.
GRAVITIES = ("c", "n", "ne", "e", "se", "s", "sw", "w", "nw")
MAX_SIDE = 4096
DEFAULT_PREFIX = "/thumbnail"
# Bytes of the signature's MAC: the first 16 of HMAC-SHA256, 22 base64url characters.
SIGNATURE_BYTES = 16
BASE64_URL = bytes.maketrans(b"+/", b"-_")
VERSION_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
MAX_VERSION_LENGTH = 64
# RFC 3986 pchar minus "%" (letters, digits and "-._~" are always kept).
PATH_LITERALS = "!$&'()*+,;=:@"
OPTIONS_HELP = "crop, pad, q1..q100, bgRRGGBB, n ne e se s sw w nw, fpX.Y, smart, vVERSION"


class Refused(ValueError):
    """A request the origin refuses: `subject: reason`, as thumbnail(1) words it."""

    def __init__(self, subject, reason):
        super().__init__("%s: %s" % (subject, reason))
        self.subject, self.reason = subject, reason


def decimal(digits: str) -> Optional[int]:
    """A plain decimal: ASCII digits only, no leading zero, at most 9 digits."""
    if not 1 <= len(digits) <= 9 or (digits[0] == "0" and len(digits) > 1):
        return None
    if not all("0" <= digit <= "9" for digit in digits):
        return None
    return int(digits)


class Box(NamedTuple):
    """`WxH`, `Wx` or `xH`: None for a side left free."""

    width: Optional[int]
    height: Optional[int]

    def __str__(self):
        return "%sx%s" % ("" if self.width is None else self.width, "" if self.height is None else self.height)

    def times(self, density: int) -> "Box":
        return Box(*(None if side is None else side * density for side in (self.width, self.height)))

    @property
    def longest(self) -> int:
        return max(self.width or 0, self.height or 0)


def parse_box(text: str, max_side: int = MAX_SIDE) -> Box:
    """A size as a path spells it; each side from 1 to `max_side`."""
    sides = text.split("x")
    if len(sides) != 2 or sides == ["", ""]:
        raise Refused(text, "size must be WxH, Wx or xH")

    def side(digits):
        if not digits:
            return None
        number = decimal(digits)
        if number is None or number < 1:
            raise Refused(text, "each side is a whole number from 1, without sign or leading zero")
        if number > max_side:
            raise Refused(text, "a side exceeds the maximum of %d" % max_side)
        return number

    return Box(side(sides[0]), side(sides[1]))


def parse_size(text: str, max_side: int = MAX_SIDE) -> Box:
    """A size as `-s` takes it: also `N`, the square NxN."""
    return parse_box("%sx%s" % (text, text) if decimal(text) is not None else text, max_side)


class Request(NamedTuple):
    """One thumbnail, its format aside: the box and the options after it."""

    box: Box
    mode: str = "fit"  # fit, crop or pad
    quality: Optional[int] = None  # None: the output format's default
    background: str = "ffffff"
    placement: str = "c"  # a gravity, "fpX.Y" or "smart"
    version: Optional[str] = None

    def size_segment(self, format: Optional[str]) -> str:
        """The size and options in canonical form: grammar order, defaults left
        out, a quality only where it is not the named format's default."""
        return str(self.box) + self.options_segment(format)

    def options_segment(self, format: Optional[str]) -> str:
        """What follows the size in the canonical size segment, each option after a comma."""
        parts = [""]
        if self.mode != "fit":
            parts.append(self.mode)
        quality = canonical_quality(self.quality, format)
        if quality is not None:
            parts.append("q%d" % quality)
        if self.background != "ffffff":
            parts.append("bg" + self.background)
        if self.placement != "c":
            parts.append(self.placement)
        if self.version is not None:
            parts.append("v" + self.version)
        return ",".join(parts)



def canonical_quality(quality: Optional[int], format: Optional[str]) -> Optional[int]:
    """Left out when it is the default of the format named, or that format is
    lossless; kept as given without a format, whose default is the source's."""
    if quality is None or format is None:
        return quality
    return None if DEFAULT_QUALITY.get(format, quality) == quality else quality


@functools.lru_cache(maxsize=1024)
def parse_segment(segment: str, max_side: int = MAX_SIDE, square: bool = False) -> Request:
    """A size segment, `size[,option...]`, options each at most once, in any
    order. `square`: the size may be `N`, as `-s` reads it."""
    size, *items = segment.split(",")
    box = (parse_size if square else parse_box)(size, max_side)
    return parse_options(items, segment, box)


def parse_options(items, segment: str, box: Box) -> Request:
    mode, quality, background, placement, version = "fit", None, "ffffff", "c", None
    seen = set()
    for item in items:
        gravity = item in GRAVITIES
        name = next((prefix for prefix in ("q", "bg", "fp", "v") if item.startswith(prefix)), item)
        # One mode and one placement: a second one conflicts as a repeat does.
        slot = "crop" if name == "pad" else "placement" if gravity or name in ("fp", "smart") else name
        if slot in seen:
            raise Refused(segment, "option '%s' repeats or conflicts" % item)
        seen.add(slot)
        if name in ("crop", "pad"):
            mode = name
        elif name == "q":
            quality = decimal(item[1:])
            if quality is None or not 1 <= quality <= 100:
                raise Refused(item, "quality is q1 to q100")
        elif name == "bg":
            if len(item) != 8 or not all(digit in "0123456789abcdefABCDEF" for digit in item[2:]):
                raise Refused(item, "background is bg and six hex digits")
            background = item[2:].lower()
        elif name == "fp":
            point = [decimal(part) for part in item[2:].split(".")]
            if len(point) != 2 or any(part is None or part > 100 for part in point):
                raise Refused(item, "focal point is fpX.Y, each 0 to 100 per cent")
            placement = "fp%d.%d" % tuple(point)
        elif name == "v":
            version = item[1:]
            if not 1 <= len(version) <= MAX_VERSION_LENGTH or not set(version) <= VERSION_CHARACTERS:
                raise Refused(item, "version is v and 1 to %d of A-Z a-z 0-9 _ -" % MAX_VERSION_LENGTH)
        elif name == "smart" or gravity:
            placement = item
        else:
            raise Refused(item, "unknown option (%s)" % OPTIONS_HELP)
    # crop and pad make an exact box, so they need both sides.
    if mode != "fit" and (box.width is None or box.height is None):
        raise Refused(str(box), "%s needs both width and height" % mode)
    # A placement (even the default, named) needs crop or pad; a focal point or smart needs crop.
    needs_crop = placement == "smart" or placement.startswith("fp")
    if "placement" in seen and mode == "fit" or needs_crop and mode == "pad":
        raise Refused(mode, "%s needs crop%s" % ("a focal point or smart" if needs_crop else "a gravity", "" if needs_crop else " or pad"))
    # A focal point at the centre is the centred window.
    return Request(box, mode, quality, background, "c" if placement == "fp50.50" else placement, version)


def check_format(format: Optional[str]) -> Optional[str]:
    """A format as the grammar and `-f` take it; `jpg` is `jpeg`."""
    if format is None:
        return None
    format = "jpeg" if format == "jpg" else format
    if format not in FORMATS:
        raise Refused(format, "format is one of %s" % ", ".join(FORMATS))
    return format


# What a source segment may not hold, as the origin checks it.
FORBIDDEN_IN_SEGMENT = re.compile("[\x00-\x1f\x7f\\\\]")


@functools.lru_cache(maxsize=4096)
def source_path(name: str) -> str:
    """A storage name ("photos/a b.jpg") as a canonical path spells it: each
    segment checked as the origin checks it, and percent-encoded only where
    RFC 3986 requires it, with upper case hex digits."""
    segments = name.split("/")
    for segment in segments:
        if segment == "..":
            raise Refused(name, "'..' would leave the storage root")
        if segment in ("", "."):
            raise Refused(name, "empty or '.' path segment")
        if FORBIDDEN_IN_SEGMENT.search(segment):
            raise Refused(name, "control character or backslash in path")
    try:
        return "/".join(quote(segment, safe=PATH_LITERALS, errors="strict") for segment in segments)
    except UnicodeEncodeError:
        raise Refused(name, "not UTF-8") from None


def source_after(format: Optional[str], name: str) -> str:
    """The path after the size segment: the format, if named, and the source.
    Without a format, a first segment spelled like one would be read as the format."""
    if format is None and name.split("/", 1)[0] in FORMATS + ("jpg",):
        raise Refused(name, "a first directory named like a format needs a format named before it")
    return ("/%s/" % format if format else "/") + source_path(name)


def check_sizes(sizes, max_side: int = MAX_SIDE) -> Optional[Tuple[Box, ...]]:
    """The origin's --sizes: a list of `WxH` (or one comma-separated string)
    within `max_side`; None: every size is allowed."""
    if sizes is None:
        return None
    if isinstance(sizes, str):
        sizes = sizes.split(",")
    boxes = tuple(parse_box(size, max_side=2**63) for size in sizes)
    for box in boxes:
        if box.longest > max_side:
            raise Refused("THUMBNAIL_SIZES", "'%s': a side exceeds the maximum of %d" % (box, max_side))
    return boxes


def check_size(box: Box, allowed) -> None:
    if allowed is not None and box not in allowed:
        raise Refused(str(box), "size not allowed (THUMBNAIL_SIZES %s)" % ",".join(map(str, allowed)))


@functools.lru_cache(maxsize=4096)
def signed_path(request: Request, format: Optional[str], name: str, keys=(), prefix: str = DEFAULT_PREFIX) -> str:
    """The canonical path, signed with the first of `keys` when there are any."""
    return sign("/" + request.size_segment(format) + source_after(format, name), keys, prefix)


def sign(signed: str, keys=(), prefix: str = DEFAULT_PREFIX) -> str:
    """`prefix` and `signed`, the path after the signature segment, with the
    signature of the first of `keys` between them: the first 16 bytes of
    HMAC-SHA256 of `signed`, from its slash, in base64url without padding."""
    if not keys:
        return prefix + signed
    mac = hmac.digest(keys[0], signed.encode("ascii"), "sha256")[:SIGNATURE_BYTES]
    # 16 bytes are 22 base64 characters and 2 of padding.
    signature = binascii.b2a_base64(mac, newline=False)[:22].translate(BASE64_URL).decode("ascii")
    return "%s/%s%s" % (prefix, signature, signed)
