#!/usr/bin/python3
"""The Pillow approach of the original idea: Image.thumbnail, then save
(Debian's python3-pil, hence /usr/bin/python3).
usage: pillow_thumbnail.py IN OUT WIDTH HEIGHT (OUT's extension picks the format)."""
import sys

from PIL import Image

source, target, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with Image.open(source) as image:
    image.thumbnail((width, height), Image.LANCZOS)
    image.save(target, quality=80)
