"""A Django view that does what `thumbnail` does for bench/serve.py, the way a
Django site would without it: Pillow's Image.thumbnail (fit inside the box,
aspect kept, never upscaled; JPEG decoded at a reduced scale through
draft()), then save. Served by gunicorn:

    THUMBNAIL_BENCH_ROOT=DIR gunicorn -w 2 django_view:application

GET /jpeg/NAME and /webp/NAME answer NAME under the root fitted in 512x512,
at quality 80.
"""

import io
import os

from django.conf import settings

settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="bench", MIDDLEWARE=[])

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after settings)
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

ROOT = os.environ["THUMBNAIL_BENCH_ROOT"]
FORMATS = {"jpeg": "JPEG", "webp": "WEBP"}


def thumbnail(request, fmt, name):
    with Image.open(os.path.join(ROOT, os.path.basename(name))) as image:
        image.thumbnail((512, 512))
        image = ImageOps.exif_transpose(image).convert("RGB")
        out = io.BytesIO()
        image.save(out, FORMATS[fmt], quality=80)
    return HttpResponse(out.getvalue(), content_type="image/" + fmt)


urlpatterns = [path("<str:fmt>/<str:name>", thumbnail)]
application = get_wsgi_application()
