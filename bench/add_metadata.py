#!/usr/bin/env python3
"""Copies a JPEG with megabytes of metadata added the way Photoshop leaves it:
an sRGB ICC profile (APP2) and an XMP packet whose photoshop:DocumentAncestors
list has grown to MEGABYTES, split into standard and extended XMP (APP1).

usage: add_metadata.py IN.jpg ICC_PROFILE MEGABYTES OUT.jpg
Deterministic: the same arguments give the same bytes."""
import hashlib
import struct
import sys

source, icc_path, megabytes, target = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
jpeg = open(source, "rb").read()
icc = open(icc_path, "rb").read()
assert jpeg[:2] == b"\xff\xd8", "not a JPEG"


def segment(marker, payload):
    assert len(payload) + 2 <= 0xFFFF
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


count = int(megabytes * (1 << 20) / 55)
ancestors = "".join(
    f"<rdf:li>xmp.did:{hashlib.md5(str(i).encode()).hexdigest()}</rdf:li>\n" for i in range(count))
extended = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
    f"<photoshop:DocumentAncestors><rdf:Bag>\n{ancestors}</rdf:Bag></photoshop:DocumentAncestors>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()
guid = hashlib.md5(extended).hexdigest().upper().encode()
standard = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
    f'xmpNote:HasExtendedXMP="{guid.decode()}"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()

segments = [segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + standard)]
chunk = 65000
for offset in range(0, len(extended), chunk):
    header = b"http://ns.adobe.com/xmp/extension/\0" + guid + struct.pack(">II", len(extended), offset)
    segments.append(segment(0xE1, header + extended[offset:offset + chunk]))
icc_chunks = [icc[i:i + 65000] for i in range(0, len(icc), 65000)]
for number, part in enumerate(icc_chunks, 1):
    segments.append(segment(0xE2, b"ICC_PROFILE\0" + bytes([number, len(icc_chunks)]) + part))

# After SOI and any APP0/APP1 (JFIF, EXIF) already there, before the rest.
index = 2
while jpeg[index] == 0xFF and jpeg[index + 1] in (0xE0, 0xE1):
    index += 2 + struct.unpack(">H", jpeg[index + 2:index + 4])[0]
open(target, "wb").write(jpeg[:index] + b"".join(segments) + jpeg[index:])
