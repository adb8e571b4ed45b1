"""Thumbnail URLs and <picture> markup for Django templates.

    {% load thumbnail_tags %}
    {% thumbnail_url photo.image "100x100" "webp" %}
    {% thumbnail_picture photo.image "100x100,200x200" alt=photo.title %}

The paths are those thumbnail(1) serves: canonical (options in the origin's
order, defaults left out, each source segment percent-encoded only where
RFC 3986 requires it) and, with a key file, signed as the origin checks:
the first 16 bytes of HMAC-SHA256 under the first key of everything after
the signature segment, from its slash, in base64url without padding.

Settings:
    THUMBNAIL_CDN       "https://cdn.example.com": put before every path ("" for none)
    THUMBNAIL_KEY_FILE  the origin's --key-file; None: paths are not signed
    THUMBNAIL_SIZES     the origin's --sizes, as a list; None: any size
    THUMBNAIL_PREFIX    the origin's --prefix (default "/thumbnail")
"""

import base64
import hashlib
import hmac
import math
import re
from urllib.parse import quote

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

FORMATS = ("jpeg", "png", "webp", "gif", "avif")
MEDIA_TYPES = {name: "image/" + name for name in FORMATS}
SIZE = re.compile(r"^([1-9][0-9]{0,8})?x([1-9][0-9]{0,8})?$")
# RFC 3986 pchar without "%": what a canonical path leaves unescaped.
PATH_SAFE = "!$&'()*+,;=:@"


def _setting(name, default):
    return getattr(settings, name, default)


def _keys():
    """The key file's keys, one a line as the origin reads them; the first signs."""
    path = _setting("THUMBNAIL_KEY_FILE", None)
    if not path:
        return []
    with open(path, "rb") as keys:
        return [line for line in keys.read().split(b"\n") if line]


def sign(signed):
    """The signature segment for `signed`, the path after the signature from its slash."""
    mac = hmac.new(_keys()[0], signed.encode("utf-8"), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def parse_box(text):
    """(width, height) of "WxH", "Wx" or "xH"; None for a missing side."""
    match = SIZE.match(text)
    if not match or match.group(0) == "x":
        raise template.TemplateSyntaxError("thumbnail: %r is not WxH, Wx or xH" % text)
    return tuple(int(side) if side else None for side in match.groups())


# Each lossy format's default quality, as the origin has them; PNG and GIF take none.
DEFAULT_QUALITY = {"jpeg": 80, "webp": 81, "avif": 47, "png": None, "gif": None}


def size_segment(box, options, format=None):
    """The size and its options in the origin's canonical spelling: a quality
    is left out when it is the named format's default, or the format takes
    none; without a format it stays, as it is the source's format's."""
    mode, quality, background = "fit", None, "ffffff"
    for option in options:
        if option in ("crop", "pad"):
            mode = option
        elif re.match(r"^q([1-9][0-9]?|100)$", option):
            quality = int(option[1:])
        elif re.match(r"^bg[0-9a-fA-F]{6}$", option):
            background = option[2:].lower()
        else:
            raise template.TemplateSyntaxError("thumbnail: unknown option %r" % option)
    parts = ["%sx%s" % tuple("" if side is None else side for side in box)]
    if mode != "fit":
        parts.append(mode)
    if quality is not None and (format is None or DEFAULT_QUALITY[format] not in (None, quality)):
        parts.append("q%d" % quality)
    if background != "ffffff":
        parts.append("bg" + background)
    return ",".join(parts)


def source_path(name):
    """A storage name ("photos/a b.jpg") as the origin's canonical path spells it."""
    segments = name.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError("thumbnail: %r has an empty, '.' or '..' segment" % name)
    return "/".join(quote(segment, safe=PATH_SAFE) for segment in segments)


def thumbnail_path(name, box, options=(), format=None, version=None):
    """The canonical path of a thumbnail, signed when a key file is set; a
    version, last among the options, changes it when the source changes."""
    allowed = _setting("THUMBNAIL_SIZES", None)
    format = "jpeg" if format == "jpg" else format
    if format is not None and format not in FORMATS:
        raise template.TemplateSyntaxError("thumbnail: %r is not one of %s" % (format, ", ".join(FORMATS)))
    size = size_segment(box, options, format)
    if allowed is not None and size.split(",")[0] not in allowed:
        raise ValueError("thumbnail: size %s is not in THUMBNAIL_SIZES" % size.split(",")[0])
    if version:
        size += ",v" + version
    signed = "/" + size + ("/" + format if format else "") + "/" + source_path(name)
    prefix = _setting("THUMBNAIL_PREFIX", "/thumbnail")
    return prefix + ("/" + sign(signed) if _keys() else "") + signed


def _name(image):
    """The storage name of an ImageField's file, or a name given as text."""
    return image if isinstance(image, str) else image.name


def _url(image, box, options, format, version=None):
    return _setting("THUMBNAIL_CDN", "").rstrip("/") + thumbnail_path(_name(image), box, options, format, version)


def _version(image):
    """The source's version as thumbnail --picture writes it, from what its
    storage knows: its modification time and its size, in hex."""
    storage = getattr(image, "storage", None)
    if storage is None:
        return None
    name = _name(image)
    return "%x-%x" % (int(storage.get_modified_time(name).timestamp()), storage.size(name))


def _stored_size(image):
    """Width and height as the model stores them: its width_field and
    height_field when the ImageField has them, else what Django reads from
    the file (Pillow). Both are the stored size, not the upright one."""
    field = getattr(image, "field", None)
    instance = getattr(image, "instance", None)
    if field is not None and field.width_field and field.height_field:
        return getattr(instance, field.width_field), getattr(instance, field.height_field)
    return image.width, image.height


def _round(value):
    """Half away from zero, as the origin rounds."""
    return int(math.floor(value + 0.5))


def rendered_size(source, box, mode):
    """The thumbnail's width and height, as the origin plans them: fit never
    scales up and rounds each side, at least 1; crop and pad give the box."""
    if mode in ("crop", "pad"):
        return box
    width, height = source
    scale = min([1.0] + [side / whole for side, whole in zip(box, source) if side is not None])
    return max(1, _round(width * scale)), max(1, _round(height * scale))


def _covered(source, box, mode):
    """Whether the source has the pixels for `box` without scaling up: one
    side reached for fit and pad, both for crop."""
    reached = [side <= whole for side, whole in zip(box, source) if side is not None]
    return all(reached) if mode == "crop" else any(reached)


@register.simple_tag
def thumbnail_url(image, size, format=None):
    """{% thumbnail_url image "100x100,crop" "webp" %}: the thumbnail's URL."""
    size, *options = size.split(",")
    return _url(image, parse_box(size), options, format)


@register.simple_tag
def thumbnail_picture(image, sizes, alt="", formats="avif,webp,jpeg", options="", width=None, height=None):
    """{% thumbnail_picture image "100x100,200x200" alt="..." %}: a <picture>
    element. The first size is the 1x box; each other size is a density of
    it (200x200 is 2x) and is left out where the source is too small for it
    or THUMBNAIL_SIZES lacks it. The last format is the <img>'s. width and
    height: the source's upright size, for a photograph whose EXIF
    orientation (5 to 8) turns it; by default the model's stored size."""
    boxes = [parse_box(size) for size in sizes.split(",")]
    options = [option for option in options.split(",") if option]
    mode = "crop" if "crop" in options else "pad" if "pad" in options else "fit"
    source = (int(width), int(height)) if width and height else _stored_size(image)
    first = boxes[0]
    candidates = [(first, 1)]
    allowed = _setting("THUMBNAIL_SIZES", None)
    for box in boxes[1:]:
        side = 0 if first[0] is not None else 1
        density = box[side] / first[side]
        if _covered(source, box, mode) and (allowed is None or size_segment(box, ()) in allowed):
            candidates.append((box, density))
    formats = formats.split(",")
    version = _version(image)

    def srcset(format):
        return ", ".join(
            "%s %sx" % (_url(image, box, options, format, version), "%g" % density) for box, density in candidates)

    lines = [
        format_html('  <source type="{}" srcset="{}">', MEDIA_TYPES[format], srcset(format)) for format in formats[:-1]
    ]
    rendered_width, rendered_height = rendered_size(source, first, mode)
    lines.append(
        format_html(
            '  <img src="{}" srcset="{}" width="{}" height="{}" alt="{}" loading="lazy" decoding="async">',
            _url(image, first, options, formats[-1], version), srcset(formats[-1]), rendered_width, rendered_height, alt,
        )
    )
    # Every line was escaped by format_html: joining them adds no markup of the caller's.
    return mark_safe("<picture>\n" + "\n".join(lines) + "\n</picture>")
