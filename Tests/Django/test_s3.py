"""The tags on django-storages' S3 storage, over moto's server, against
`thumbnail --picture` reading the same bucket: the same markup, each URL's
version the object's ETag as the origin writes it, and a new one when the
object is replaced.

Run by DjangoPackageTests with S3_ENDPOINT, S3_BUCKET and the AWS_ keys of
moto's store, whose objects are those of make_sources() (S3_OBJECTS names
the directory they were put from)."""

import os
import unittest
from types import SimpleNamespace

from support import CDN, KEY_FILE, render, thumbnail
from storages.backends.s3 import S3Storage

ENDPOINT, BUCKET, OBJECTS = os.environ["S3_ENDPOINT"], os.environ["S3_BUCKET"], os.environ["S3_OBJECTS"]
storage = S3Storage(
    bucket_name=BUCKET, endpoint_url=ENDPOINT, region_name="us-east-1", querystring_auth=False,
    access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
)


def image(name):
    """An image field's file as a model has it: a name and its storage."""
    return SimpleNamespace(name=name, storage=storage)


def binary_picture(name):
    return thumbnail(
        "--picture", "-s", "100x100", "--base", CDN, "--key-file", KEY_FILE, "-r", "s3://" + BUCKET,
        "--s3-endpoint", ENDPOINT, name,
    )


class S3Tests(unittest.TestCase):
    def test_the_same_markup_as_the_binary_on_the_same_bucket(self):
        names = sorted(os.listdir(OBJECTS))
        self.assertGreaterEqual(len(names), 3)
        for name in names:
            with self.subTest(name=name):
                markup = render('{% thumbnail_picture image "100x100" %}', image=image(name))
                self.assertEqual(markup, binary_picture(name))
                # The ETag's first 16 hex digits, not a modification time.
                self.assertRegex(markup, r",v[0-9a-f]{16}/avif/")

    def test_a_replaced_object_gets_new_urls(self):
        name = sorted(os.listdir(OBJECTS))[0]
        before = render('{% thumbnail_picture image "100x100" %}', image=image(name))
        with open(os.path.join(OBJECTS, "upright.jpg"), "rb") as other:
            storage.bucket.put_object(Key=name, Body=other.read())
        after = render('{% thumbnail_picture image "100x100" %}', image=image(name))
        self.assertNotEqual(before, after)
        self.assertEqual(after, binary_picture(name))

    def test_a_missing_object_renders_the_original(self):
        with self.assertLogs("thumbnail_cdn", "WARNING") as logs:
            markup = render('{% thumbnail_picture image "100x100" %}', image=image("missing.jpg"))
        self.assertIn("missing.jpg", logs.output[0])
        self.assertTrue(markup.startswith('<img src="%s/%s/missing.jpg"' % (ENDPOINT, BUCKET)), markup)


if __name__ == "__main__":
    unittest.main()
