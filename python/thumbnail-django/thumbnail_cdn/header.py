"""What the markup needs to know of a source, read from its first bytes as
the origin reads them (Sources/ThumbnailCore/Decoding/ImageHeader.swift,
SourceFormat.swift, HEIF.swift through libheif, and `mayBeTransparent` in
Picture/Picture.swift): its format, its upright width and height (EXIF
orientation applied; for HEIC and AVIF the container's rotation and clean
aperture) and whether it may be transparent.

A parser given only the first bytes of a file raises `Truncated` where it
would need more; `facts` then reads the whole file, so the answer is always
the one the origin, which reads every byte, gives."""

from dataclasses import dataclass

from .grammar import Refused

# Enough for nearly every header: EXIF, ICC profiles and HEIF's meta box come first.
FIRST_BYTES = 1 << 16
JPEG, PNG, GIF, WEBP, AVIF, HEIC, TIFF = "jpeg", "png", "gif", "webp", "avif", "heic", "tiff"
HEIF_ALPHA_TYPES = (
    b"urn:mpeg:avc:2015:auxid:1",
    b"urn:mpeg:hevc:2015:auxid:1",
    b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha",
)


@dataclass(frozen=True)
class SourceFacts:
    format: str
    width: int  # upright
    height: int
    transparent: bool


class Truncated(Exception):
    """The bytes given end before the header does."""


class Header:
    """A source's first bytes, or all of them (`complete`)."""

    def __init__(self, data: bytes, complete: bool):
        self.data, self.complete = data, complete

    def has(self, end: int) -> bool:
        """Whether the bytes reach `end`; Truncated when only the file's rest would tell."""
        if end <= len(self.data):
            return True
        if not self.complete:
            raise Truncated()
        return False

    def big(self, offset: int, count: int) -> int:
        return int.from_bytes(self.data[offset:offset + count], "big")

    def little(self, offset: int, count: int) -> int:
        return int.from_bytes(self.data[offset:offset + count], "little")


def facts(open_source) -> SourceFacts:
    """The facts of the source `open_source()` opens (a binary file object),
    reading its first bytes, and every byte only when the header goes on."""
    with open_source() as source:
        data = source.read(FIRST_BYTES)
        try:
            return facts_of(Header(data, len(data) < FIRST_BYTES))
        except Truncated:
            return facts_of(Header(data + source.read(), True))


def facts_of(header: Header) -> SourceFacts:
    format = sniff(header.data)
    try:
        (width, height, orientation), transparent = READERS[format](header)
    except (IndexError, ValueError) as error:
        if isinstance(error, Refused):
            raise
        raise undecodable("corrupt %s header" % format.upper()) from None
    # Orientations 5 to 8 turn the picture on its side.
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return SourceFacts(format, width, height, transparent)


def sniff(data: bytes) -> str:
    """The format by its first bytes, never by a name."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith((b"II*\0", b"MM\0*")):
        return TIFF
    if data[4:8] == b"ftyp" and len(data) >= 12:
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return AVIF
        if brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"):
            return HEIC
        raise Refused("source", "an ISO media file that is not AVIF or HEIC")
    raise Refused("source", "not a JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF image")


def undecodable(what):
    return Refused("source", what)


def png_size(header):
    """IHDR, which must come first; a PNG has no orientation for the origin."""
    if not header.has(24) or header.big(8, 4) != 13 or header.data[12:16] != b"IHDR":
        raise undecodable("truncated or corrupt PNG header")
    width, height = header.big(16, 4), header.big(20, 4)
    if width == 0 or height == 0:
        raise undecodable("PNG header without a width and height")
    return width, height, 1


def jpeg_size(header):
    """The markers from SOI to the first frame header, and the orientation of
    the first EXIF APP1 segment before it."""
    data, orientation, index = header.data, None, 2
    while header.has(index + 4):
        if data[index] != 0xFF:
            break
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        length = header.big(index + 2, 2)
        body = index + 4
        if length < 2 or not header.has(body + length - 2):
            break
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = header.big(body + 1, 2) if length >= 7 else 0
            width = header.big(body + 3, 2) if length >= 7 else 0
            if width == 0 or height == 0:
                raise undecodable("JPEG frame header without a width and height")
            return width, height, orientation or 1
        if marker == 0xE1 and orientation is None and length >= 8 and data[body:body + 6] == b"Exif\0\0":
            orientation = exif_orientation(data[body + 6:body + length - 2])
        elif marker in (0xD8, 0xD9, 0xDA):
            raise undecodable("no JPEG frame header before the image data")
        index = body + length - 2
    raise undecodable("truncated or corrupt JPEG header")


def webp_chunks(header):
    """The top-level chunks, up to the first that runs past the file's end."""
    data, index = header.data, 12
    while header.has(index + 8):
        length = header.little(index + 4, 4)
        body = index + 8
        if not header.has(body + length):
            break
        yield data[index:index + 4], data[body:body + length]
        index = body + length + (length & 1)


def webp_size(header):
    """The first image chunk or the extended header, and an EXIF chunk's orientation."""
    size, orientation = None, 1
    for name, chunk in webp_chunks(header):
        if name == b"VP8X" and len(chunk) >= 10 and size is None:
            size = (int.from_bytes(chunk[4:7], "little") + 1, int.from_bytes(chunk[7:10], "little") + 1)
        elif name == b"VP8 " and len(chunk) >= 10 and size is None and chunk[3:6] == b"\x9d\x01\x2a":
            size = (int.from_bytes(chunk[6:8], "little") & 0x3FFF, int.from_bytes(chunk[8:10], "little") & 0x3FFF)
        elif name == b"VP8L" and len(chunk) >= 5 and size is None and chunk[0] == 0x2F:
            bits = int.from_bytes(chunk[1:5], "little")
            size = ((bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1)
        elif name == b"EXIF":
            orientation = exif_orientation(chunk[6:] if chunk.startswith(b"Exif\0\0") else chunk)
    if size is None or 0 in size:
        raise undecodable("truncated or corrupt WebP header")
    return size + (orientation,)


def exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (0x0112) of IFD0 of a TIFF structure, 1 when absent or unreadable."""
    if len(tiff) < 8 or tiff[:2] not in (b"MM", b"II"):
        return 1
    order = "big" if tiff[:2] == b"MM" else "little"

    def number(offset, count):
        if offset < 0 or offset + count > len(tiff):
            return None
        return int.from_bytes(tiff[offset:offset + count], order)

    ifd = number(4, 4)
    entries = None if ifd is None else number(ifd, 2)
    for entry in range(entries or 0):
        offset = ifd + 2 + 12 * entry
        tag, kind = number(offset, 2), number(offset + 2, 2)
        if tag is None or kind is None:
            return 1
        if tag != 0x0112:
            continue
        # SHORT as the standard says, LONG from some writers.
        value = number(offset + 8, 4 if kind == 4 else 2)
        return value if value in range(1, 9) else 1
    return 1


def tiff_size(header):
    """ImageWidth, ImageLength and Orientation of the first directory, as ImageMagick pings them."""
    order = "big" if header.data[:2] == b"MM" else "little"

    def number(offset, count):
        if not header.has(offset + count):
            raise undecodable("truncated or corrupt TIFF header")
        return int.from_bytes(header.data[offset:offset + count], order)

    ifd = number(4, 4)
    values = {}
    for entry in range(number(ifd, 2)):
        offset = ifd + 2 + 12 * entry
        tag, kind = number(offset, 2), number(offset + 2, 2)
        if tag in (0x0100, 0x0101, 0x0112):
            values[tag] = number(offset + 8, 4 if kind == 4 else 2)
    if not values.get(0x0100) or not values.get(0x0101):
        raise undecodable("TIFF directory without a width and height")
    orientation = values.get(0x0112, 1)
    return values[0x0100], values[0x0101], orientation if orientation in range(1, 9) else 1


def gif_blocks(header):
    """(label, index after it) of each extension before the first image, then (0x2C, index of the descriptor)."""
    data = header.data
    if not header.has(13):
        return
    index = 13 + (3 << ((data[10] & 0x07) + 1) if data[10] & 0x80 else 0)
    while header.has(index + 2) and data[index] == 0x21:
        yield data[index + 1], index + 2
        index += 2
        while header.has(index + 1) and data[index] != 0:
            index += data[index] + 1
        index += 1
    if header.has(index + 10) and data[index] == 0x2C:
        yield 0x2C, index


def gif_size(header):
    """The first image's size, as ImageMagick reads a GIF's first frame."""
    for label, index in gif_blocks(header):
        if label == 0x2C:
            width, height = header.little(index + 5, 2), header.little(index + 7, 2)
            if width and height:
                return width, height, 1
    raise undecodable("GIF without an image")


def gif_transparent(header) -> bool:
    """A graphic control extension before the first image names a transparent colour."""
    for label, index in gif_blocks(header):
        if label == 0xF9 and header.has(index + 2) and header.data[index] == 4:
            return header.data[index + 1] & 0x01 != 0
    return False


def png_transparent(header) -> bool:
    """An alpha channel (colour type 4 or 6), or a tRNS chunk before the image data."""
    data = header.data
    if not header.has(26):
        return False
    if data[25] in (4, 6):
        return True
    index = 8
    while header.has(index + 8):
        name = data[index + 4:index + 8]
        if name == b"tRNS":
            return True
        if name == b"IDAT":
            return False
        index += 12 + header.big(index, 4)
    return False


def webp_transparent(header) -> bool:
    for name, body in webp_chunks(header):
        if name == b"VP8X" and body:
            return body[0] & 0x10 != 0
        if name == b"VP8L" and len(body) >= 5:
            return body[4] & 0x10 != 0
    return False


def boxes(header, start, end):
    """(type, body start, body end) of each ISO BMFF box in [start, end)."""
    index = start
    while index + 8 <= end:
        if not header.has(index + 8):
            raise undecodable("truncated HEIF container")
        size, kind, body = header.big(index, 4), header.data[index + 4:index + 8], index + 8
        if size == 1:
            if not header.has(index + 16):
                raise undecodable("truncated HEIF container")
            size, body = header.big(index + 8, 8), index + 16
        elif size == 0:
            size = end - index
        if size < body - index or index + size > end and header.complete:
            raise undecodable("corrupt HEIF box")
        yield kind, body, index + size
        index += size


class HEIFMeta:
    """The primary item of a HEIF file (HEIC or AVIF), its properties and what refers to it."""

    def __init__(self, header):
        self.header = header
        total = len(header.data) if header.complete else 1 << 62
        meta = next(((body, end) for kind, body, end in boxes(header, 0, total) if kind == b"meta"), None)
        if meta is None:
            raise undecodable("HEIF without a meta box")
        if not header.has(meta[1]):
            raise Truncated()
        self.children = {kind: (body, end) for kind, body, end in boxes(header, meta[0] + 4, meta[1])}
        self.properties, self.associations = self.read_properties()
        self.primary = self.read_primary()

    def full_box(self, kind):
        """The body of a child of meta that is a FullBox, and its version."""
        if kind not in self.children:
            raise undecodable("HEIF without %s" % kind.decode())
        body, end = self.children[kind]
        return self.header.data[body], body + 4, end

    def read_primary(self):
        version, body, _ = self.full_box(b"pitm")
        return self.header.big(body, 2 if version == 0 else 4)

    def read_properties(self):
        if b"iprp" not in self.children:
            raise undecodable("HEIF without item properties")
        header, (start, end) = self.header, self.children[b"iprp"]
        parts = {kind: (body, box_end) for kind, body, box_end in boxes(header, start, end)}
        if b"ipco" not in parts or b"ipma" not in parts:
            raise undecodable("HEIF without item properties")
        properties = [(kind, header.data[body:box_end]) for kind, body, box_end in boxes(header, *parts[b"ipco"])]
        body, _ = parts[b"ipma"]
        version, flags = header.data[body], header.big(body + 1, 3)
        index, associations = body + 8, {}
        for _ in range(header.big(body + 4, 4)):
            width = 2 if version == 0 else 4
            item, count = header.big(index, width), header.data[index + width]
            index += width + 1
            step = 2 if flags & 1 else 1
            mask = 0x7FFF if flags & 1 else 0x7F
            associations[item] = [header.big(index + step * n, step) & mask for n in range(count)]
            index += step * count
        return properties, associations

    def item_properties(self, item):
        """The item's properties in association order; index 0 is none."""
        return [self.properties[index - 1] for index in self.associations.get(item, ()) if 0 < index <= len(self.properties)]

    def size(self):
        """The size libheif reports: ispe, then each clap and irot after it in turn."""
        width = height = None
        for kind, body in self.item_properties(self.primary):
            if kind == b"ispe" and len(body) >= 12:
                width, height = int.from_bytes(body[4:8], "big"), int.from_bytes(body[8:12], "big")
            elif width is None:
                continue
            elif kind == b"clap" and len(body) >= 16:
                n = [int.from_bytes(body[at:at + 4], "big") for at in range(0, 16, 4)]
                if n[1] and n[3]:
                    width, height = (n[0] + n[1] // 2) // n[1], (n[2] + n[3] // 2) // n[3]
            elif kind == b"irot" and body and body[0] & 3 in (1, 3):
                width, height = height, width
        if not width or not height:
            raise undecodable("HEIF primary image without a size")
        return width, height, 1

    def has_alpha(self):
        """An auxiliary image of an alpha type refers to the primary image."""
        if b"iref" not in self.children:
            return False
        version, body, end = self.full_box(b"iref")
        width = 2 if version == 0 else 4
        for kind, start, _ in boxes(self.header, body, end):
            if kind != b"auxl":
                continue
            source, count = self.header.big(start, width), self.header.big(start + width, 2)
            targets = [self.header.big(start + width + 2 + width * n, width) for n in range(count)]
            if self.primary in targets and any(
                kind == b"auxC" and body[4:].split(b"\0")[0] in HEIF_ALPHA_TYPES
                for kind, body in self.item_properties(source)
            ):
                return True
        return False


def heif_facts(header):
    meta = HEIFMeta(header)
    return meta.size(), meta.has_alpha()


# Each format's (width, height, orientation) and whether it may be transparent.
# JPEG has no transparency; TIFF counts as opaque, as for the origin.
READERS = {
    JPEG: lambda header: (jpeg_size(header), False),
    PNG: lambda header: (png_size(header), png_transparent(header)),
    WEBP: lambda header: (webp_size(header), webp_transparent(header)),
    GIF: lambda header: (gif_size(header), gif_transparent(header)),
    TIFF: lambda header: (tiff_size(header), False),
    AVIF: heif_facts,
    HEIC: heif_facts,
}
