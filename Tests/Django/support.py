"""What the Django tests share: a storage root with a signing key, Django
set up over it, the thumbnail binary as a process, and sources made by
ImageMagick, avifenc and heif-enc, never by the code under test.

Tests/EndToEndTests/DjangoPackageTests.swift runs them in venvs that have
the package's wheel installed, with THUMBNAIL_BIN naming the binary."""

import atexit
import os
import shutil
import subprocess
import tempfile

BINARY = os.environ["THUMBNAIL_BIN"]
ROOT = tempfile.mkdtemp(prefix="thumbnail-django-")
atexit.register(shutil.rmtree, ROOT, True)
KEY_FILE = os.path.join(ROOT, ".keys")
with open(KEY_FILE, "w") as keys:
    keys.write("django-test-key-0123456789\nan-older-key-0123456789\n")
os.chmod(KEY_FILE, 0o600)
CDN = "https://cdn.example.com"
os.environ.update(THUMBNAIL_ROOT=ROOT, THUMBNAIL_KEY_FILE=KEY_FILE, DJANGO_SETTINGS_MODULE="settings")

import django  # noqa: E402

django.setup()

from django.template import Context, Template  # noqa: E402


# The binary reads THUMBNAIL_* variables as its options: this test's own are not for it.
BINARY_ENVIRONMENT = {name: value for name, value in os.environ.items() if not name.startswith("THUMBNAIL_")}


def thumbnail(*arguments, check=True):
    """The binary's stdout; with `check`, a failure fails the test."""
    run = subprocess.run([BINARY, *arguments], capture_output=True, timeout=60, env=BINARY_ENVIRONMENT)
    if check and run.returncode != 0:
        raise AssertionError("thumbnail %s: exit %d: %s" % (" ".join(arguments), run.returncode, run.stderr.decode()))
    return run.stdout.decode() if check else run


def origin_options(sizes=None):
    """The options of the origin the settings describe."""
    return ["-r", ROOT, "--key-file", KEY_FILE] + (["--sizes", ",".join(sizes)] if sizes else [])


def render(template, **context):
    return Template("{% load thumbnail_tags %}" + template).render(Context(context))


def sh(command):
    subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, check=True, timeout=60, capture_output=True)


def with_orientation(jpeg: bytes, value: int) -> bytes:
    """The JPEG with an EXIF APP1 segment holding only Orientation = value, after SOI."""
    tiff = b"MM\0\x2a\0\0\0\x08\0\x01" + b"\x01\x12\0\x03\0\0\0\x01" + bytes([0, value, 0, 0]) + b"\0\0\0\0"
    payload = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def make_sources():
    """A set of sources under ROOT, by name: photographs at each EXIF
    orientation, transparent and opaque PNG, WebP, AVIF and HEIC, a GIF, a
    TIFF turned by its tag, tiny ones, and names with spaces, % and UTF-8."""
    sh(
        """
        convert -seed 3 -size 400x240 plasma: stored.jpg
        convert -seed 4 -size 300x500 plasma: portrait.png
        convert -size 20x10 gradient:red-blue tiny.png
        convert -size 3x2 xc:green tiny.jpg
        convert -size 240x120 xc:none -fill red -draw 'circle 120,60 120,10' alpha.png
        convert -size 180x90 xc:blue opaque.png
        convert alpha.png alpha.webp
        convert -seed 5 -size 300x180 plasma: opaque.webp
        avifenc alpha.png alpha.avif
        convert -seed 6 -size 160x320 plasma: tall.png && avifenc tall.png opaque.avif && avifenc --irot 1 tall.png turned.avif
        heif-enc -o opaque.heic tall.png
        convert -size 64x40 xc:red -page 200x100+10+10 -transparent red framed.gif
        convert -seed 7 -size 60x40 plasma: -orient RightTop turned.tif
        mkdir -p 'dir one' && cp stored.jpg 'dir one/a b+c%d é.jpg'
        """
    )
    with open(os.path.join(ROOT, "stored.jpg"), "rb") as stored:
        jpeg = stored.read()
    for value in range(1, 9):
        with open(os.path.join(ROOT, "orientation-%d.jpg" % value), "wb") as turned:
            turned.write(with_orientation(jpeg, value))
    return sorted(
        os.path.relpath(os.path.join(directory, name), ROOT)
        for directory, _, names in os.walk(ROOT)
        for name in names
        if not name.startswith(".")
    )
