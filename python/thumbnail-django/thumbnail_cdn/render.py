"""The URL of a thumbnail and the `<picture>` element, for an image of a
Django storage: what the template tags write, callable from views too.

Bad input (a source the storage does not have, a size the origin would
refuse, an unreadable key file) gives the original's URL instead, and a
warning on the `thumbnail_cdn` logger; with THUMBNAIL_STRICT it raises
`Refused`."""

import logging

from django.core.files.storage import default_storage

from . import conf, grammar, picture, sources
from .grammar import Refused

logger = logging.getLogger("thumbnail_cdn")


def source(image):
    """(storage, name) of an ImageField's file, or of a name in the default storage."""
    if isinstance(image, str):
        return default_storage, image
    name = getattr(image, "name", None)
    if not name:
        raise Refused(repr(image), "no image")
    return image.storage, name


def request(size, options, version):
    """The request of a size and its options, as `-s` reads a size (`N` is
    NxN; `options` may start or end with a comma), with the source's
    `version` in place of any the options name, as `--picture` has it."""
    segment = ",".join([str(size)] + [option for option in options.split(",") if option]) if options else str(size)
    parsed = grammar.parse_segment(segment, max_side=conf.max_side(), square=True)
    return parsed._replace(version=version or parsed.version)


def fallback(image, error, written):
    """Strict: the error; else a warning and `written(url)`, the original's
    URL ("" when even that is unknown)."""
    if conf.strict():
        raise error
    logger.warning("thumbnail: %s; the original instead", error)
    try:
        storage, name = source(image)
        url = storage.url(name)
    except Exception:  # the original's URL is the last resort: whatever fails, an empty one
        url = ""
    return written(url)


def thumbnail_url(image, size, format=None, options=""):
    """The URL of one thumbnail of `image`: `size` is `WxH`, `Wx`, `xH` or
    `N`, with options after commas in any order; without `format` the
    origin keeps the source's own."""
    try:
        storage, name = source(image)
        format = grammar.check_format(format)
        grammar.source_after(format, name)
        origin = conf.origin()
        wanted = request(size, options, sources.version(storage, name))
        grammar.check_size(wanted.box, origin.sizes)
        return origin.url(wanted, format, name)
    except Refused as error:
        return fallback(image, error, lambda url: url)


def thumbnail_picture(image, size, alt="", formats=None, densities=None, options=""):
    """The `<picture>` element `thumbnail --picture` prints for `image` at
    `size`: `formats` and `densities` as its --formats and --densities
    (comma-separated), `alt` as --alt."""
    try:
        storage, name = source(image)
        chosen = picture.parse_formats(formats) if formats else None
        grammar.source_path(name)
        origin = conf.origin()
        version = sources.version(storage, name)
        wanted = request(size, options, version)
        facts = sources.facts_cache.facts(storage, name, version)
        return picture.markup(
            wanted, name, facts, origin, chosen, picture.parse_densities(densities) if densities else None, str(alt)
        )
    except Refused as error:
        return fallback(
            image, error,
            lambda url: '<img src="%s" alt="%s" loading="lazy" decoding="async">\n' % tuple(map(picture.escaped, (url, str(alt)))),
        )
