"""{% thumbnail_picture %} against `thumbnail --picture`, byte for byte,
for the same sources: photographs at each EXIF orientation, transparent
and opaque PNG, WebP, AVIF (one turned by irot) and HEIC, a GIF, a TIFF
turned by its tag, tiny ones, a name with spaces, % and UTF-8; at several
boxes, modes, densities, formats and allowed sizes; and the placeholders,
whose pixels Pillow and ImageMagick each decode and scale their own way:
compared within a tolerance, the rest of the markup byte for byte."""

import base64
import io
import re
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from PIL import Image

from django.test.utils import override_settings

from support import CDN, make_sources, origin_options, render, thumbnail

# (the tag's size, its keyword arguments, the binary's options for the same).
CASES = [
    ("100x100", {}, []),
    ("64x64", {"options": "crop"}, []),
    ("120x80,q70,crop", {"alt": "Cat & \"<dog>\" 'x'"}, ["--alt", "Cat & \"<dog>\" 'x'"]),
    ("100", {"densities": "1,2,3"}, ["--densities", "1,2,3"]),
    ("x50", {"formats": "webp,jpeg"}, ["--formats", "webp,jpeg"]),
    ("200x", {"formats": "avif,png", "densities": "3,1"}, ["--formats", "avif,png", "--densities", "3,1"]),
    ("150x150", {"options": "bg000000,pad,se"}, []),
    ("90x60", {"options": ",crop,fp30.40"}, []),
    ("100x100,crop,smart", {}, []),
    ("40x40,crop,q90", {"formats": "jpg"}, ["--formats", "jpeg"]),
]
# Opaque (JPEG, PNG, WebP, AVIF), turned by EXIF, tiny, and transparent (which get none).
PLACEHOLDER_SOURCES = [
    "stored.jpg", "portrait.png", "opaque.webp", "opaque.avif", "orientation-6.jpg", "orientation-7.jpg",
    "orientation-3.jpg", "tiny.jpg", "tiny.png", "alpha.png", "alpha.webp",
]
PLACEHOLDER_CASES = [("100x100", ""), ("64x64,crop", "")]
# How far the two sides' placeholders may be apart, in 8-bit levels: the
# colour on each channel; the blur's pixels, decoded, on average and at worst.
COLOUR_TOLERANCE = 2
BLUR_MEAN_TOLERANCE = 8
BLUR_WORST_TOLERANCE = 48
STYLE = re.compile(r' style="([^"]*)"')
SIZES = ["100x100", "64x64", "120x80", "x50", "40x40", "90x60", "150x150", "200x", "300x"]


def binary_picture(name, size, options, extra, sizes):
    """What --picture prints for the same source and request."""
    segment = ",".join([size] + [option for option in options.split(",") if option])
    if "x" in size:
        request = ["/thumbnail/%s/%s" % (segment, quote(name))]
    else:  # `N` is a size of -s, not of a path
        request = ["-s", size, name]
    return thumbnail("--picture", "--base", CDN, *origin_options(sizes), *extra, *request)


class MarkupTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sources = make_sources()

    def compare(self, sizes):
        cases = [(name, case) for name in self.sources for case in CASES]
        with ThreadPoolExecutor(max_workers=2) as pool:
            printed = list(
                pool.map(lambda item: binary_picture(item[0], item[1][0], item[1][1].get("options", ""), item[1][2], sizes), cases)
            )
        for (name, (size, arguments, _)), expected in zip(cases, printed):
            with self.subTest(name=name, size=size, arguments=arguments):
                keywords = " ".join("%s=%s" % (key, key) for key in arguments)
                self.assertEqual(render("{%% thumbnail_picture name size %s %%}" % keywords, name=name, size=size, **arguments), expected)

    def test_the_same_markup_as_the_binary(self):
        self.compare(None)

    def test_the_same_densities_left_out_for_the_allowed_sizes(self):
        with override_settings(THUMBNAIL_SIZES=SIZES):
            self.compare(SIZES)

    def test_the_sources_cover_every_decision(self):
        """The set holds what the rules tell apart: turned sources, transparent ones, too small for 2x."""
        self.assertEqual(len([name for name in self.sources if name.startswith("orientation-")]), 8)
        fallbacks = [render('{% thumbnail_picture name "100x100" %}', name=name).split("\n")[-3] for name in self.sources]
        self.assertEqual(sum("/png/" in line for line in fallbacks), 4, fallbacks)
        self.assertTrue(any(" 2x" not in line for line in fallbacks))

    def test_the_same_placeholders_as_the_binary(self):
        cases = [(name, kind, size) for name in PLACEHOLDER_SOURCES for kind in ("colour", "blur") for size, _ in PLACEHOLDER_CASES]
        with ThreadPoolExecutor(max_workers=2) as pool:
            printed = list(pool.map(lambda case: binary_picture(case[0], case[2], "", ["--placeholder", case[1]], None), cases))
        self.apart = {"colour": [], "blur": []}
        Image.init()
        for (name, kind, size), expected in zip(cases, printed):
            with self.subTest(name=name, kind=kind, size=size):
                template = "{% thumbnail_picture name size placeholder=kind %}"
                if name.endswith(".avif") and "AVIF" not in Image.OPEN:
                    # Pillow before 11.3 reads no AVIF: the picture goes without, and says why.
                    with self.assertLogs("thumbnail_cdn", "WARNING") as logs:
                        markup = render(template, name=name, size=size, kind=kind)
                    self.assertIn("Pillow cannot decode it", logs.output[0])
                    self.assertEqual(markup, STYLE.sub("", expected))
                    continue
                markup = render(template, name=name, size=size, kind=kind)
                self.assertEqual(STYLE.sub("", markup), STYLE.sub("", expected))
                styles = [STYLE.findall(markup), STYLE.findall(expected)]
                if name.startswith("alpha."):
                    self.assertEqual(styles, [[], []])
                    continue
                self.assertEqual([len(found) for found in styles], [1, 1], markup)
                self.assertWithinTolerance(kind, styles[0][0], styles[1][0])
        colours, blurs = self.apart["colour"], self.apart["blur"]
        print(
            "placeholders: %d colours, %d the binary's, at most %d apart; %d blurs, pixels at most %.1f apart on average, %d at worst"
            % (len(colours), colours.count(0), max(colours), len(blurs), max(mean for mean, _ in blurs), max(worst for _, worst in blurs)),
            file=sys.stderr,
        )

    def assertWithinTolerance(self, kind, style, expected):
        if kind == "colour":
            colours = [bytes.fromhex(re.fullmatch(r"background-color:#([0-9a-f]{6})", text).group(1)) for text in (style, expected)]
            self.apart["colour"].append(max(abs(a - b) for a, b in zip(*colours)))
            self.assertLessEqual(self.apart["colour"][-1], COLOUR_TOLERANCE, (style, expected))
            return
        images = []
        for text in (style, expected):
            found = re.fullmatch(
                r"background-image:url\(data:image/webp;base64,([A-Za-z0-9+/=]+)\);background-size:cover;background-position:center", text)
            self.assertIsNotNone(found, text)
            data = base64.b64decode(found.group(1))
            self.assertLess(len(data), 400)
            images.append(Image.open(io.BytesIO(data)).convert("RGB"))
        self.assertEqual(images[0].size, images[1].size)
        self.assertLessEqual(max(images[0].size), 16)
        differences = [abs(a - b) for pixel, other in zip(images[0].getdata(), images[1].getdata()) for a, b in zip(pixel, other)]
        self.apart["blur"].append((sum(differences) / len(differences), max(differences)))
        self.assertLessEqual(self.apart["blur"][-1][0], BLUR_MEAN_TOLERANCE)
        self.assertLessEqual(self.apart["blur"][-1][1], BLUR_WORST_TOLERANCE)


if __name__ == "__main__":
    unittest.main()
