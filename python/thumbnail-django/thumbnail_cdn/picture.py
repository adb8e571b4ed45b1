"""The `<picture>` element `thumbnail --picture` prints, decided the same
way (Sources/ThumbnailCore/Picture/Picture.swift): the same formats, the same
densities left out, the 1x thumbnail's real width and height, the same bytes.
Nothing here needs Django."""

import functools
from typing import NamedTuple, Optional, Tuple

from . import grammar
from .grammar import Box, Refused, Request

DEFAULT_DENSITIES = (1, 2)
MAX_DENSITY = 8


class Origin(NamedTuple):
    """What the URLs are for: the origin's --prefix, --key-file's keys (the
    first signs), --sizes (None: any), --max-side, and the CDN put before
    each path (--base, without a final slash)."""

    prefix: str = grammar.DEFAULT_PREFIX
    keys: Tuple[bytes, ...] = ()
    sizes: Optional[Tuple[Box, ...]] = None
    max_side: int = grammar.MAX_SIDE
    base: str = ""

    def url(self, request: Request, format: Optional[str], name: str) -> str:
        return self.base + grammar.signed_path(request, format, name, self.keys, self.prefix)

    def allows(self, box: Box) -> bool:
        return box.longest <= self.max_side and (self.sizes is None or box in self.sizes)


def default_formats(transparent: bool):
    """AVIF and WebP for the browsers that take them; the fallback is JPEG,
    or PNG when the source may be transparent, since JPEG would flatten it."""
    return ("avif", "webp", "png" if transparent else "jpeg")


def parse_densities(text: str) -> Tuple[int, ...]:
    """--densities: new whole numbers from 1 to 8, comma-separated, that include 1."""
    densities = []
    for item in text.split(","):
        density = grammar.decimal(item.strip(" \t\r"))
        if density is None or not 1 <= density <= MAX_DENSITY or density in densities:
            raise Refused("densities", "'%s' is not a new whole number from 1 to %d" % (item, MAX_DENSITY))
        densities.append(density)
    if 1 not in densities:
        raise Refused("densities", "must hold 1: the img's src is the 1x thumbnail")
    return tuple(sorted(densities))


def parse_formats(text: str) -> Tuple[str, ...]:
    """--formats: new formats, comma-separated, the preferred first."""
    formats = []
    for item in text.split(","):
        format = grammar.check_format(item.strip(" \t\r"))
        if format in formats:
            raise Refused("formats", "'%s' is not a new one of %s" % (item, ", ".join(grammar.FORMATS)))
        formats.append(format)
    return tuple(formats)


def rounded(value: float) -> int:
    """Half away from zero, as Swift's rounded() (value is never negative)."""
    whole = int(value)
    return whole + (value - whole >= 0.5)


def thumbnail_size(source: Tuple[int, int], box: Box, mode: str) -> Tuple[int, int]:
    """The width and height the origin renders `source` (upright) to: fit
    never scales up and rounds each side, at least 1; crop and pad give the box."""
    if mode != "fit":
        return box.width, box.height
    width, height = source
    scale = min(side / whole for side, whole in ((box.width, width), (box.height, height), (1, 1)) if side is not None)
    return max(1, rounded(width * scale)), max(1, rounded(height * scale))


def density_box(request: Request, density: int, source: Tuple[int, int], origin: Origin) -> Optional[Box]:
    """The box at `density`, or None when it is left out: 1x always stays; a
    higher density only when the origin allows its box and the source has
    the pixels for it, so that nothing is scaled up."""
    if density == 1:
        return request.box
    box = request.box.times(density)
    if not origin.allows(box):
        return None
    # Fit and pad are bound by one side: the source must reach it. Crop covers both.
    reached = [side <= whole for side, whole in zip((box.width, box.height), source) if side is not None]
    return box if (all(reached) if request.mode == "crop" else any(reached)) else None


def escaped(text: str) -> str:
    """Safe in a double-quoted attribute value, with the origin's entities."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")
    )


# A page renders the same pictures again and again: each is kept, by all it depends on.
@functools.lru_cache(maxsize=1024)
def markup(request: Request, name: str, facts, origin: Origin, formats=None, densities=None, alt: str = "") -> str:
    """The element for `request`'s box at 1x, over several lines, each ended by a newline."""
    grammar.check_size(request.box, origin.sizes)
    source = (facts.width, facts.height)
    formats = formats or default_formats(facts.transparent)
    boxes = [
        (density, box)
        for density in densities or DEFAULT_DENSITIES
        for box in [density_box(request, density, source, origin)]
        if box is not None
    ]

    def urls(format):
        # The request at each box: the same options and source after the size.
        after = request.options_segment(format) + grammar.source_after(format, name)
        found = [(origin.base + grammar.sign("/%s%s" % (box, after), origin.keys, origin.prefix), density) for density, box in boxes]
        # srcset strips a URL's trailing commas: it would name another path.
        if any(url.endswith(",") for url, _ in found):
            raise Refused(name, "a name ending in ',' cannot stand in a srcset")
        return found

    def srcset(candidates):
        return ", ".join("%s %dx" % candidate for candidate in candidates)

    lines = ["<picture>"]
    for format in formats[:-1]:
        lines.append('  <source type="image/%s" srcset="%s">' % (format, escaped(srcset(urls(format)))))
    fallback = urls(formats[-1])
    width, height = thumbnail_size(source, request.box, request.mode)
    attributes = [
        ("src", fallback[0][0]), ("srcset", srcset(fallback)), ("width", str(width)), ("height", str(height)),
        ("alt", alt), ("loading", "lazy"), ("decoding", "async"),
    ]
    lines.append("  <img " + " ".join('%s="%s"' % (name, escaped(value)) for name, value in attributes) + ">")
    lines.append("</picture>")
    return "".join(line + "\n" for line in lines)
