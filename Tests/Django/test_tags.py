"""examples/django's template tags under Debian's Django, checked against the
thumbnail binary itself: its --picture, --explain, --sign and renders.

Run by Tests/EndToEndTests/DjangoTagTests.swift, which sets THUMBNAIL_BIN,
THUMBNAIL_ROOT (the test images), THUMBNAIL_KEY_FILE and THUMBNAIL_SIZES."""

import os
import random
import subprocess
import tempfile
import unittest
from html.parser import HTMLParser

import django
from django.conf import settings
from django.template import Context, Template
from django.test.utils import override_settings

django.setup()

from photos.models import Photo  # noqa: E402  (needs django.setup())
from thumbnail_cdn.templatetags.thumbnail_tags import thumbnail_path  # noqa: E402

BINARY = os.environ["THUMBNAIL_BIN"]
ROOT = os.environ["THUMBNAIL_ROOT"]
CDN = "https://cdn.example.com"


def origin_options():
    """The options the origin runs with: the same key file and sizes as the settings."""
    return ["-r", ROOT, "--key-file", settings.THUMBNAIL_KEY_FILE, "--sizes", ",".join(settings.THUMBNAIL_SIZES)]


# This test's THUMBNAIL_* variables are its own: the binary would read them as options.
BINARY_ENVIRONMENT = {name: value for name, value in os.environ.items() if not name.startswith("THUMBNAIL_")}


def thumbnail(*arguments):
    run = subprocess.run([BINARY, *arguments], capture_output=True, timeout=60, env=BINARY_ENVIRONMENT)
    if run.returncode != 0:
        raise AssertionError("thumbnail %s: exit %d: %s" % (" ".join(arguments), run.returncode, run.stderr.decode()))
    return run.stdout


class Markup(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def candidates(srcset):
    """(url, density) of each candidate of a srcset."""
    return [(url, int(density.rstrip("x"))) for url, density in (item.split(" ") for item in srcset.split(", "))]


def render(template, **context):
    return Template("{% load thumbnail_tags %}" + template).render(Context(context))


def photo(name, width, height, title=""):
    """A model instance as a view has it, its stored dimensions beside the file (never saved)."""
    return Photo(image=name, image_width=width, image_height=height, title=title)


class TagTests(unittest.TestCase):
    def check_url(self, url):
        """The origin renders `url` as it is (canonical: --explain says the
        same path); returns the rendered width and height."""
        self.assertTrue(url.startswith(CDN + "/"), url)
        path = url[len(CDN):]
        explained = thumbnail("--explain", path, *origin_options()).decode().split("\n")
        self.assertEqual(explained[0], "canonical: " + path)
        with tempfile.TemporaryDirectory() as scratch:
            output = os.path.join(scratch, "out")
            thumbnail("-o", output, path, *origin_options())
            size = subprocess.run(["identify", "-format", "%w %h", output], capture_output=True, check=True).stdout
        return tuple(map(int, size.split()))

    def check_picture(self, markup):
        """One picture, its sources and one img with every attribute; each URL
        renders at the img's size times its density."""
        tags = Markup(markup).tags
        self.assertEqual([tag for tag, _ in tags], ["picture", "source", "source", "img"], markup)
        img = tags[-1][1]
        self.assertEqual(set(img), {"src", "srcset", "width", "height", "alt", "loading", "decoding"})
        width, height = int(img["width"]), int(img["height"])
        self.assertEqual(self.check_url(img["src"]), (width, height))
        for _, attributes in tags[1:]:
            for url, density in candidates(attributes["srcset"]):
                rendered = self.check_url(url)
                # Each side is rounded on its own: at 2x it may be a pixel off twice the 1x side.
                self.assertLessEqual(abs(rendered[0] - density * width), density - 1, url)
                self.assertLessEqual(abs(rendered[1] - density * height), density - 1, url)
        return img

    def test_picture_is_what_the_binary_prints_and_every_url_renders(self):
        # name, stored size, the upright size when EXIF orientation turns it, the box.
        cases = [
            ("landscape.jpg", (640, 400), None, "100x100"),
            ("portrait.png", (300, 500), None, "100x100"),
            ("tiny.png", (20, 10), None, "100x100"),
            ("rotated.jpg", (400, 240), (240, 400), "64x64"),
        ]
        for name, stored, upright, box in cases:
            with self.subTest(name=name):
                double = "x".join(str(2 * int(side)) for side in box.split("x"))
                if upright:
                    template = '{% thumbnail_picture p.image sizes alt=p.title width=w height=h %}'
                else:
                    template = "{% thumbnail_picture p.image sizes alt=p.title %}"
                markup = render(
                    template, p=photo(name, *stored, title='Cat & "<dog>"'), sizes=box + "," + double,
                    w=(upright or stored)[0], h=(upright or stored)[1])
                img = self.check_picture(markup)
                self.assertEqual(img["alt"], 'Cat & "<dog>"')
                printed = thumbnail(
                    "--picture", "-s", box, "--formats", "avif,webp,jpeg", "--alt", 'Cat & "<dog>"', "--base", CDN,
                    name, *origin_options())
                self.assertEqual(markup + "\n", printed.decode())

    def test_url_tag_names_a_canonical_signed_path(self):
        url = render('{% thumbnail_url p.image "120x80,q80,crop" "jpg" %}', p=photo("landscape.jpg", 640, 400))
        self.assertEqual(url, CDN + thumbnail("--sign", "/thumbnail/120x80,crop/jpeg/landscape.jpg", *origin_options()[2:]).decode().strip())
        self.assertEqual(self.check_url(url), (120, 80))

    def test_name_with_spaces_plus_percent_and_utf8_round_trips(self):
        url = render('{% thumbnail_url p.image "64x64" "webp" %}', p=photo("dir one/a b+c%d é.jpg", 640, 400))
        self.assertIn("/webp/dir%20one/a%20b+c%25d%20%C3%A9.jpg", url)
        self.assertEqual(self.check_url(url), (64, 40))

    @override_settings(THUMBNAIL_SIZES=None)
    def test_signatures_are_those_of_sign(self):
        generator = random.Random(20261201)
        letters = "abcxyz019 +%&é-_.~,;=@!$'()*"
        for _ in range(50):
            width, height = generator.choice([(generator.randint(1, 4096), None), (None, generator.randint(1, 4096)),
                                              (generator.randint(1, 4096), generator.randint(1, 4096))])
            options = generator.sample(["q%d" % generator.randint(1, 100), "bg%06X" % generator.getrandbits(24)],
                                       generator.randint(0, 2))
            if width and height and generator.random() < 0.5:
                options.append(generator.choice(["crop", "pad"]))
            format = generator.choice([None, "jpeg", "jpg", "png", "webp", "gif", "avif"])
            name = "/".join("".join(generator.choice(letters) for _ in range(generator.randint(1, 8))).strip(".") or "x"
                            for _ in range(generator.randint(1, 3)))
            with self.subTest(name=name, options=options):
                signed = thumbnail_path(name, (width, height), options, format)
                unsigned = "/thumbnail" + signed[len("/thumbnail/") + 22:]
                self.assertEqual(signed, thumbnail("--key-file", settings.THUMBNAIL_KEY_FILE, "--sign", unsigned).decode().strip())


if __name__ == "__main__":
    unittest.main()
