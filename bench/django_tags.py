"""The Django tags' cost: a page of 100 {% thumbnail_picture %} against the
same page of 100 plain <img> elements, rendered by Django's template engine
in one process, as a view renders it (bench/README.md).

    make django-venvs
    .build-django/django-5.2/bin/python bench/django_tags.py [--pictures N] [--runs N]

The sources are 100 names of one 1920x1080 JPEG (made by ImageMagick) in a
temporary storage root, the URLs signed with one key. The first render reads
each source's header and signs every URL; the medians are of the renders
after it, which stat each source (its version) and the key file and find
each picture's markup kept."""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pictures", type=int, default=100)
    parser.add_argument("--runs", type=int, default=500)
    arguments = parser.parse_args()
    root = tempfile.mkdtemp(prefix="thumbnail-bench-django-")
    subprocess.run(["convert", "-seed", "1", "-size", "1920x1080", "plasma:", "photo-0.jpg"], cwd=root, check=True)
    names = ["photo-%d.jpg" % number for number in range(arguments.pictures)]
    for name in names[1:]:
        os.link(os.path.join(root, names[0]), os.path.join(root, name))
    keys = os.path.join(root, ".keys")
    with open(keys, "w") as file:
        file.write("bench-key-0123456789abcdef\n")
    os.chmod(keys, 0o600)

    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["thumbnail_cdn"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        MEDIA_ROOT=root, MEDIA_URL="/media/", THUMBNAIL_CDN="https://cdn.example.com", THUMBNAIL_KEY_FILE=keys,
    )
    import django

    django.setup()
    from django.template import Context, Template

    pages = {
        "<img>": Template(
            '{% for name in names %}<img src="{{ MEDIA_URL }}{{ name }}" width="100" height="56" alt="{{ name }}" '
            'loading="lazy" decoding="async">\n{% endfor %}'
        ),
        "{% thumbnail_picture %}": Template(
            '{% load thumbnail_tags %}{% for name in names %}{% thumbnail_picture name "100x100" alt=name %}{% endfor %}'
        ),
    }
    context = {"names": names, "MEDIA_URL": "/media/"}
    def timed(page):
        """Wall and CPU milliseconds of one render."""
        wall, cpu = time.perf_counter(), time.process_time()
        output = page.render(Context(context))
        assert output.count("<img") == len(names), output[:500]
        return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000

    first = {label: timed(page) for label, page in pages.items()}
    times = {label: [] for label in pages}
    # Interleaved, so that both see the same load on the machine.
    for _ in range(arguments.runs):
        for label, page in pages.items():
            times[label].append(timed(page))
    medians = {label: [statistics.median(run[n] for run in values) for n in (0, 1)] for label, values in times.items()}
    print("%d pictures, medians of %d renders (the first render), Django %s, Python %s, load average %.1f" % (
        len(names), arguments.runs, django.get_version(), sys.version.split()[0], os.getloadavg()[0]))
    print("  %-26s %9s %9s %18s" % ("", "wall", "CPU", "first: wall, CPU"))
    for label in pages:
        print("  %-26s %6.2f ms %6.2f ms %7.2f ms %6.2f ms" % ((label,) + tuple(medians[label]) + first[label]))
    extra = [medians["{% thumbnail_picture %}"][n] - medians["<img>"][n] for n in (0, 1)]
    print("  %-26s %6.2f ms %6.2f ms   (%.0f us and %.0f us a picture)" % (
        "difference", extra[0], extra[1], extra[0] * 1000 / len(names), extra[1] * 1000 / len(names)))
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
