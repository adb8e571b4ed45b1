"""The template tags as a site uses them: the README's settings and lines,
every option the origin serves, a model with width_field and height_field,
sources replaced and missing, the key file read once and again when it
changes, and bad input rendered with a warning instead of an error page."""

import builtins
import os
import time
import unittest
from unittest import mock

from django.template import TemplateSyntaxError
from django.test.utils import override_settings

from support import CDN, KEY_FILE, ROOT, make_sources, origin_options, render, sh, thumbnail
from photos.models import Photo
from thumbnail_cdn import Refused, conf


def photo(name, width, height, title=""):
    """A model instance as a view has it, its stored dimensions beside the file (never saved)."""
    return Photo(image=name, image_width=width, image_height=height, title=title)


def signed(path, sizes=None):
    """The binary's signed canonical form of `path`, with the CDN in front."""
    return CDN + thumbnail("--sign", path, *origin_options(sizes)[2:]).strip()


def version(name):
    """The version --picture writes for a file: modification time and size in hex."""
    info = os.stat(os.path.join(ROOT, name))
    return "v%x-%x" % (int(info.st_mtime), info.st_size)


class TagTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        make_sources()

    def test_every_option_the_origin_serves(self):
        v = version("stored.jpg")
        cases = [
            ('"200x200,crop,smart"', "/thumbnail/200x200,crop,smart,%s/webp/stored.jpg" % v),
            ('"200x200" "webp" options=",crop,n"', "/thumbnail/200x200,crop,n,%s/webp/stored.jpg" % v),
            ('"300x200" "webp" options="crop,fp30.40"', "/thumbnail/300x200,crop,fp30.40,%s/webp/stored.jpg" % v),
            ('"100"', "/thumbnail/100x100,%s/webp/stored.jpg" % v),
            ('"x80,q70"', "/thumbnail/x80,q70,%s/webp/stored.jpg" % v),
            ('"50x50,pad,bgFF0000,sw"', "/thumbnail/50x50,pad,bgff0000,sw,%s/webp/stored.jpg" % v),
            ('"50x50,vold-one"', "/thumbnail/50x50,%s/webp/stored.jpg" % v),
        ]
        for arguments, path in cases:
            with self.subTest(arguments=arguments), self.assertNoLogs("thumbnail_cdn"):
                if "webp" not in arguments:
                    arguments += ' "webp"'
                url = render("{%% thumbnail_url p.image %s %%}" % arguments, p=photo("stored.jpg", 400, 240))
                self.assertEqual(url, signed(path))

    def test_without_a_format_the_source_keeps_its_own(self):
        url = render('{% thumbnail_url "stored.jpg" "120x80,q80,crop" %}')
        self.assertEqual(url, signed("/thumbnail/120x80,crop,q80,%s/stored.jpg" % version("stored.jpg")))

    def test_the_readme_settings_and_lines_render(self):
        with override_settings(THUMBNAIL_SIZES=["100x100", "200x200"]):
            with self.assertLogs("thumbnail_cdn", "WARNING") as logs:
                url = render('{% thumbnail_url photo.image "300x200,crop,q70" %}', photo=photo("stored.jpg", 400, 240))
            self.assertEqual(url, "/media/stored.jpg")
            self.assertIn("300x200: size not allowed", logs.output[0])
            markup = render('{% thumbnail_picture photo.image "100x100" alt=photo.title %}', photo=photo("stored.jpg", 400, 240, "A cat"))
            self.assertEqual(markup, thumbnail("--picture", "-s", "100x100", "--alt", "A cat", "--base", CDN, "stored.jpg", *origin_options(["100x100", "200x200"])))
            self.assertIn(" 2x", markup)

    def test_an_upright_photograph_gets_its_upright_box(self):
        """Orientation 6: stored 400x240, the model's width_field and height_field say so; shown 240x400."""
        markup = render('{% thumbnail_picture p.image "100x100" %}', p=photo("orientation-6.jpg", 400, 240))
        self.assertIn('width="60" height="100"', markup)
        self.assertEqual(markup, thumbnail("--picture", "-s", "100x100", "--base", CDN, "orientation-6.jpg", *origin_options()))

    def test_a_transparent_source_falls_back_to_png(self):
        markup = render('{% thumbnail_picture "alpha.png" "100x100" %}')
        self.assertIn('<img src="%s/thumbnail/' % CDN, markup)
        self.assertIn("/png/alpha.png", markup.split("<img")[1])

    def test_the_key_file_is_read_once_and_again_when_it_changes(self):
        reads = []
        real_open = builtins.open

        def counting_open(path, *arguments, **keywords):
            reads.append(path)
            return real_open(path, *arguments, **keywords)

        with mock.patch.object(conf, "open", counting_open, create=True):
            conf.key_file.read = None
            for _ in range(5):
                render('{% thumbnail_picture "stored.jpg" "100x100" %}')
            self.assertEqual(reads, [KEY_FILE])
            with open(KEY_FILE, "rb") as keys:
                before = keys.read()
            try:
                with open(KEY_FILE, "wb") as keys:
                    keys.write(b"a-rotated-key-0123456789\n" + before)
                os.utime(KEY_FILE, (time.time() + 5, time.time() + 5))
                url = render('{% thumbnail_url "stored.jpg" "100x100" "webp" %}')
                self.assertEqual(reads, [KEY_FILE, KEY_FILE])
                self.assertEqual(url, signed("/thumbnail/100x100,%s/webp/stored.jpg" % version("stored.jpg")))
            finally:
                with open(KEY_FILE, "wb") as keys:
                    keys.write(before)

    def test_a_replaced_source_gets_new_urls(self):
        sh("cp stored.jpg replaced.jpg && touch -d @1700000000 replaced.jpg")
        first = render('{% thumbnail_picture "replaced.jpg" "100x100" %}')
        sh("convert -size 500x100 xc:red replaced.jpg && touch -d @1700000100 replaced.jpg")
        second = render('{% thumbnail_picture "replaced.jpg" "100x100" %}')
        self.assertIn(",v6553f100-", first)
        self.assertIn(",v6553f164-", second)
        self.assertIn('width="100" height="20"', second)
        self.assertEqual(second, thumbnail("--picture", "-s", "100x100", "--base", CDN, "replaced.jpg", *origin_options()))

    def test_a_name_with_spaces_percent_and_utf8(self):
        url = render('{% thumbnail_url p.image "64x64" "webp" %}', p=photo("dir one/a b+c%d é.jpg", 400, 240))
        self.assertIn(",%s/webp/dir%%20one/a%%20b+c%%25d%%20%%C3%%A9.jpg" % version("dir one/a b+c%d é.jpg"), url)

    def test_bad_input_renders_the_original_with_a_warning(self):
        cases = [
            ('{% thumbnail_picture "missing.jpg" "100x100" alt="A" %}', '<img src="/media/missing.jpg" alt="A" loading="lazy" decoding="async">\n', "missing.jpg: No such file"),
            ('{% thumbnail_url "stored.jpg" "100x100,bogus" %}', "/media/stored.jpg", "bogus: unknown option"),
            ('{% thumbnail_url "stored.jpg" "5000x10" %}', "/media/stored.jpg", "a side exceeds the maximum of 4096"),
            ('{% thumbnail_url "stored.jpg" "100x100" "tiff" %}', "/media/stored.jpg", "tiff: format is one of"),
            ('{% thumbnail_url "webp/cat.jpg" "100x100" %}', "/media/webp/cat.jpg", "needs a format named before it"),
            ('{% thumbnail_picture "stored.jpg" "100x100" densities="2" %}', '<img src="/media/stored.jpg" alt="" loading="lazy" decoding="async">\n', "must hold 1"),
            ("{% thumbnail_url image \"100x100\" %}", "", "no image"),
        ]
        for template, expected, warning in cases:
            with self.subTest(template=template), self.assertLogs("thumbnail_cdn", "WARNING") as logs:
                self.assertEqual(render(template, image=None), expected)
                self.assertIn(warning, logs.output[0])
            with self.subTest(template=template, strict=True), override_settings(THUMBNAIL_STRICT=True):
                with self.assertRaises(Refused):
                    render(template, image=None)

    def test_a_key_file_missing_or_open_to_others_renders_the_original(self):
        with open(os.path.join(ROOT, ".open-keys"), "w") as keys:
            keys.write("django-test-key-0123456789\n")
        os.chmod(os.path.join(ROOT, ".open-keys"), 0o644)
        for path, warning in [(os.path.join(ROOT, ".no-keys"), "No such file"), (os.path.join(ROOT, ".open-keys"), "mode 0644")]:
            with self.subTest(path=path), override_settings(THUMBNAIL_KEY_FILE=path):
                with self.assertLogs("thumbnail_cdn", "WARNING") as logs:
                    self.assertEqual(render('{% thumbnail_url "stored.jpg" "100x100" %}'), "/media/stored.jpg")
                self.assertIn(warning, logs.output[0])

    def test_a_template_written_wrong_is_a_template_error(self):
        for template in ["{% thumbnail_url %}", '{% thumbnail_url "a.jpg" %}', '{% thumbnail_picture "a.jpg" "1x1" colour="red" %}']:
            with self.subTest(template=template), self.assertRaises(TemplateSyntaxError):
                render(template)


if __name__ == "__main__":
    unittest.main()
