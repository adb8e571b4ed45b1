"""The least a Django project needs to render templates with thumbnail_tags.

The origin's key file and sizes come from the environment the test sets."""

import os

SECRET_KEY = "tests only"
INSTALLED_APPS = ["thumbnail_cdn", "photos"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates"}]
DATABASES = {}
USE_TZ = True

THUMBNAIL_CDN = "https://cdn.example.com"
THUMBNAIL_KEY_FILE = os.environ.get("THUMBNAIL_KEY_FILE") or None
THUMBNAIL_SIZES = os.environ["THUMBNAIL_SIZES"].split(",") if os.environ.get("THUMBNAIL_SIZES") else None
THUMBNAIL_PREFIX = "/thumbnail"
# The tags read each source's modification time and size from its storage.
MEDIA_ROOT = os.environ.get("THUMBNAIL_ROOT", "")
