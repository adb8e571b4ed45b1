"""The least a Django project needs to render templates with thumbnail_tags,
over the storage root and key file that support.py makes; also the site
the browser test serves (urls.py)."""

import os

SECRET_KEY = "tests only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["thumbnail_cdn", "photos"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {}
USE_TZ = True
ROOT_URLCONF = "urls"
# The origin's root is the site's media: the tags ask the storage for each source's version.
MEDIA_ROOT = os.environ["THUMBNAIL_ROOT"]
MEDIA_URL = "/media/"

THUMBNAIL_CDN = os.environ.get("THUMBNAIL_CDN", "https://cdn.example.com")
THUMBNAIL_KEY_FILE = os.environ["THUMBNAIL_KEY_FILE"]
THUMBNAIL_SIZES = None
THUMBNAIL_PREFIX = "/thumbnail"
