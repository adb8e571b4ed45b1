import os

from django.conf import settings
from django.shortcuts import render


def gallery(request):
    """Every source at the storage root's top, each in a <picture>; with
    ?unsized, as plain <img> elements without a box that load once the page
    is laid out: the page whose layout the browser test expects to shift;
    with ?stalled=URL, with colour placeholders and every thumbnail URL's
    CDN replaced by URL, a server that never answers: the page as it looks
    before its images load."""
    names = sorted(name for name in os.listdir(settings.MEDIA_ROOT) if not name.startswith("."))
    context = {"names": names, "unsized": "unsized" in request.GET, "stalled": request.GET.get("stalled")}
    return render(request, "photos/gallery.html", dict(context, cdn=settings.THUMBNAIL_CDN))
