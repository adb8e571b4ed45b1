"""What `thumbnail --picture --placeholder` puts on the `<img>`
(Sources/ThumbnailCore/Picture/Placeholder.swift), from the source's pixels
as Pillow decodes them: the average colour of the upright source fitted in
a 16-pixel square, or that image as a WebP data URI. Pillow is imported only
when a placeholder is asked for; nothing here needs Django."""

import base64
import io

from . import picture
from .grammar import Box, Refused

KINDS = ("none", "colour", "blur")
# The origin's Placeholder.side and Placeholder.quality.
SIDE = 16
QUALITY = 30


class Undecodable(Refused):
    """Pillow is missing, or cannot decode the source: the markup is still
    right without a placeholder."""


def check(kind) -> str:
    if kind not in KINDS:
        raise Refused("placeholder", "'%s' is not one of %s" % (kind, ", ".join(KINDS)))
    return kind


def shown(kind, facts) -> bool:
    """Whether the `<img>` gets placeholder `kind`: not for a source that may
    be transparent, which would show it through once loaded."""
    return kind != "none" and not facts.transparent


def style(kind, data: bytes, facts) -> str:
    """The `<img>`'s style that shows placeholder `kind` of the source whose bytes are `data`."""
    try:
        from PIL import Image
    except ImportError:
        raise Undecodable("placeholder", "needs Pillow: pip install 'thumbnail-django[placeholders]'") from None
    try:
        image = miniature(Image, data, facts)
    except Exception as error:  # Pillow's decoders raise many kinds on a file they cannot read
        raise Undecodable("source", "Pillow cannot decode it: %s" % (error or type(error).__name__)) from None
    if kind == "colour":
        return "background-color:#%02x%02x%02x" % average_colour(image)
    webp = io.BytesIO()
    image.save(webp, "WEBP", quality=QUALITY)
    return "background-image:url(data:image/webp;base64,%s);background-size:cover;background-position:center" % (
        base64.b64encode(webp.getvalue()).decode()
    )


def miniature(Image, data, facts):
    """The upright source fitted in a SIDE square, in RGB, decoded as small as
    the decoder allows (a JPEG's DCT scaling), as the origin draws it."""
    width, height = picture.thumbnail_size((facts.width, facts.height), Box(SIDE, SIDE), "fit")
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (height, width) if facts.orientation >= 5 else (width, height))
    image = image.convert("RGB")
    # The header's orientation, as the origin reads it (never a PNG's eXIf, which it ignores).
    for turn in TURNS[facts.orientation]:
        image = image.transpose(getattr(Image.Transpose, turn))
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)


# What makes each EXIF orientation upright.
TURNS = {
    1: (), 2: ("FLIP_LEFT_RIGHT",), 3: ("ROTATE_180",), 4: ("FLIP_TOP_BOTTOM",), 5: ("TRANSPOSE",),
    6: ("ROTATE_270",), 7: ("TRANSVERSE",), 8: ("ROTATE_90",),
}


def average_colour(image):
    """Each of red, green and blue averaged over the pixels, rounded half up."""
    count = image.width * image.height
    sums = [sum(value * number for value, number in enumerate(band.histogram())) for band in image.split()]
    return tuple((2 * total + count) // (2 * count) for total in sums)
