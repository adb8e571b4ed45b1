"""{% load thumbnail_tags %}

    {% thumbnail_url photo.image "300x200,crop,q70" "webp" %}
    {% thumbnail_picture photo.image "100x100" alt=photo.title %}

See thumbnail_cdn.render, which writes them."""

from django import template
from django.utils.safestring import mark_safe

from .. import render

register = template.Library()


@register.simple_tag
def thumbnail_url(image, size, format=None, options=""):
    """The URL of one thumbnail: `size` with its options, the format optional."""
    return render.thumbnail_url(image, size, format, options)


@register.simple_tag
def thumbnail_picture(image, size, alt="", formats=None, densities=None, options=""):
    """The <picture> element of `thumbnail --picture`; every value in it is escaped."""
    return mark_safe(render.thumbnail_picture(image, size, alt, formats, densities, options))
