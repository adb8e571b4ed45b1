from django.db import models


class Photo(models.Model):
    """The dimensions are stored beside the file, as a site would at upload."""

    image = models.ImageField(width_field="image_width", height_field="image_height")
    image_width = models.PositiveIntegerField()
    image_height = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
