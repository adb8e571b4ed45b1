"""thumbnail(1)'s URLs and <picture> markup for Django: the template tags
in templatetags/thumbnail_tags.py, the same from views in render.py. The
grammar, the source headers and the markup (grammar.py, header.py,
picture.py) are ports of the origin's own rules and need no Django."""

from .grammar import Refused  # noqa: F401  (the error THUMBNAIL_STRICT raises)
