"""{% thumbnail_picture %} against `thumbnail --picture`, byte for byte,
for the same sources: photographs at each EXIF orientation, transparent
and opaque PNG, WebP, AVIF (one turned by irot) and HEIC, a GIF, a TIFF
turned by its tag, tiny ones, a name with spaces, % and UTF-8; at several
boxes, modes, densities, formats and allowed sizes."""

import unittest
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

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


if __name__ == "__main__":
    unittest.main()
