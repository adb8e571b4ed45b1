import os

from django.conf import settings
from django.shortcuts import render


def gallery(request):
    """Every source at the storage root's top, each in a <picture>; with
    ?unsized, as plain <img> elements without a box that load once the page
    is laid out: the page whose layout the browser test expects to shift."""
    names = sorted(name for name in os.listdir(settings.MEDIA_ROOT) if not name.startswith("."))
    return render(request, "photos/gallery.html", {"names": names, "unsized": "unsized" in request.GET})
