#!/usr/bin/env python3
"""Warm, one render after another in one process, one thread: CPU time per
render of thumbnail (`--batch --jobs 1`, its start-up subtracted), libvips
(pyvips' `thumbnail`, operation cache off, one thread) and Pillow
(`Image.thumbnail`, the seed's code), for each source format, output format
and box, with each output's bytes and its SSIM against a Lanczos reference
beside the times, so that speed is never bought with quality or size.
A source format Pillow cannot open (HEIC without a plugin) is rendered
without Pillow, its column `-`, and its reference decoded by libvips.

usage: warm.py --thumbnail BINARY [--corpus DIR] [--rounds 3] [--sizes 100,256,512,1024]
       [--sources jpeg,png,...] [--outputs jpeg,webp,avif]

Run by `make bench-warm` (and `make bench`) with the bench venv's python:
pyvips (over Debian's libvips), Pillow with AVIF, scikit-image's SSIM.
Rounds alternate the three systems; each figure is the median of the rounds,
and the machine's load average (1 minute) ends each line.
"""
import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["VIPS_CONCURRENCY"] = "1"
import numpy  # noqa: E402
import pyvips  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

from quality import without_metadata_chunks  # noqa: E402

pyvips.cache_set_max(0)
HERE = os.path.dirname(os.path.abspath(__file__))
# Each lossy output at thumbnail's default quality, the same for every system.
QUALITY = {"jpeg": 80, "webp": 81, "avif": 47}
SUFFIX = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif", "tiff": "tif", "heic": "heic", "avif": "avif"}


def photographs(corpus):
    """1 to 6 megapixel photographs: JPEG wallpapers of the corpus, scaled down
    by `convert` once, then copied into every source format."""
    images = os.path.join(corpus, "images")
    work = os.path.join(corpus, "warm")
    os.makedirs(work, exist_ok=True)
    plans = [
        ("jpeg-3840x2400.jpg", "1280x800"), ("jpeg-1920x1080.jpg", "1920x1080"),
        ("jpeg-5640x3172.jpg", "2560x1440"), ("jpeg-3840x2400.jpg", "3000x1875"),
    ]
    made = {}
    for index, (name, size) in enumerate(plans):
        base = os.path.join(work, "photo%d" % index)
        jpeg = base + ".jpg"
        if not os.path.exists(jpeg):
            subprocess.run(["convert", os.path.join(images, name), "-resize", size + "!", "-quality", "90", jpeg], check=True)
        for format, suffix in SUFFIX.items():
            target = base + "." + suffix
            if not os.path.exists(target):
                if format in ("heic", "avif"):
                    subprocess.run(["heif-enc", "-q", "60"] + (["-A"] if format == "avif" else []) + [jpeg, "-o", target],
                                   check=True, stdout=subprocess.DEVNULL)
                elif format == "webp":
                    subprocess.run(["cwebp", "-quiet", "-q", "80", "-metadata", "none", jpeg, "-o", target], check=True)
                elif format != "jpeg":
                    subprocess.run(["convert", jpeg, "-strip", target], check=True)
            made.setdefault(format, []).append(target)
    return made


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu():
    return time.process_time()


def thumbnail_round(binary, sources, box, output, scratch):
    """CPU seconds per render of one --batch over the sources, less a batch of
    one tiny render (the start-up), and the outputs' bytes by name."""
    root = os.path.dirname(sources[0])
    out = os.path.join(scratch, "thumbnail")

    def batch(paths):
        listing = "".join("/thumbnail/%dx%d/%s/%s\n" % (box, box, output, os.path.basename(p)) for p in paths)
        before = children_cpu()
        subprocess.run([binary, "-r", root, "--batch", "-", "--jobs", "1", "--output-dir", out],
                       input=listing.encode(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return children_cpu() - before

    startup = batch([])
    spent = batch(sources) - startup
    outputs = {}
    for path in sources:
        canonical = "thumbnail/%dx%d/%s/%s" % (box, box, output, os.path.basename(path))
        written = [name for name in os.listdir(os.path.join(out, os.path.dirname(canonical)))
                   if name.startswith(os.path.basename(canonical))]
        with open(os.path.join(out, os.path.dirname(canonical), written[0]), "rb") as file:
            outputs[path] = file.read()
    return spent / len(sources), outputs


def vips_round(sources, box, output):
    outputs = {}
    start = own_cpu()
    for path in sources:
        image = pyvips.Image.thumbnail(path, box, height=box, size="down")
        options = "[Q=%d,strip]" % QUALITY[output] if output in QUALITY else "[strip]"
        written = image.write_to_buffer("." + SUFFIX[output] + options)
        # libvips 8.14 writes the source's EXIF into a WebP despite `strip`: only the image is counted.
        outputs[path] = without_metadata_chunks(written) if output == "webp" else written
    return (own_cpu() - start) / len(sources), outputs


def pillow_round(sources, box, output):
    outputs = {}
    start = own_cpu()
    for path in sources:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((box, box), Image.LANCZOS)
            if output == "jpeg" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            buffer = io.BytesIO()
            image.save(buffer, format=output.upper(), quality=QUALITY.get(output, 80))
            outputs[path] = buffer.getvalue()
    return (own_cpu() - start) / len(sources), outputs


def pillow_opens(path):
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except (OSError, ValueError):
        return False


def decoded_whole(path):
    """The source decoded whole and upright, in RGB: by Pillow, or by libvips where Pillow cannot."""
    if pillow_opens(path):
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    image = pyvips.Image.new_from_file(path).autorot().colourspace("srgb")
    image = image.flatten(background=255) if image.hasalpha() else image
    return Image.fromarray(image.numpy())


def reference(path, size):
    """The source decoded whole and resized with Lanczos to `size`: what each output is compared with."""
    return numpy.asarray(decoded_whole(path).resize(size, Image.LANCZOS), dtype=numpy.float64)


def ssim(outputs):
    scores = []
    for path, data in outputs.items():
        with Image.open(io.BytesIO(data)) as image:
            pixels = numpy.asarray(image.convert("RGB"), dtype=numpy.float64)
        expected = reference(path, (pixels.shape[1], pixels.shape[0]))
        scores.append(structural_similarity(pixels, expected, channel_axis=2, data_range=255))
    return statistics.mean(scores)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--thumbnail", required=True)
    parser.add_argument("--corpus", default=os.path.join(HERE, ".corpus"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="100,256,512,1024")
    parser.add_argument("--sources", default="jpeg,png,webp,gif,tiff,heic,avif")
    parser.add_argument("--outputs", default="jpeg,webp,avif")
    args = parser.parse_args()
    made = photographs(args.corpus)
    sizes = [int(size) for size in args.sizes.split(",")]
    print("CPU ms per render, median of %d alternating rounds; bytes per output; SSIM against Lanczos" % args.rounds)
    print("%-18s %9s %9s %9s %8s %8s %8s %7s %7s %5s" % (
        "class", "thumbnail", "libvips", "Pillow", "t/vips", "bytes t", "bytes/v", "SSIM t", "SSIM v", "load"))
    with tempfile.TemporaryDirectory() as scratch:
        for source in args.sources.split(","):
            with_pillow = all(pillow_opens(path) for path in made[source])
            if not with_pillow:
                print("%s: Pillow cannot open these sources: no Pillow column, the reference decoded by libvips" % source)
            for output in args.outputs.split(","):
                for box in sizes:
                    times = {"thumbnail": [], "vips": [], "pillow": []}
                    outputs = {}
                    for _ in range(args.rounds):
                        spent, outputs["thumbnail"] = thumbnail_round(args.thumbnail, made[source], box, output, scratch)
                        times["thumbnail"].append(spent)
                        spent, outputs["vips"] = vips_round(made[source], box, output)
                        times["vips"].append(spent)
                        if with_pillow:
                            spent, outputs["pillow"] = pillow_round(made[source], box, output)
                            times["pillow"].append(spent)
                    median = {name: statistics.median(values) * 1000 for name, values in times.items() if values}
                    size = {name: sum(len(data) for data in found.values()) / len(found) for name, found in outputs.items()}
                    print("%-18s %9.1f %9.1f %9s %8.2f %8d %8.2f %7.4f %7.4f %5.1f" % (
                        "%s>%s@%d" % (source, output, box), median["thumbnail"], median["vips"],
                        "%.1f" % median["pillow"] if with_pillow else "-",
                        median["thumbnail"] / median["vips"], size["thumbnail"], size["thumbnail"] / size["vips"],
                        ssim(outputs["thumbnail"]), ssim(outputs["vips"]), os.getloadavg()[0]))
                    sys.stdout.flush()


if __name__ == "__main__":
    main()
