"""Bytes and SSIM of the lossy formats at thumbnail sizes: thumbnail at its
default qualities, vipsthumbnail and Pillow at Q=80, then, for each format,
the quality at which thumbnail and vipsthumbnail reach the mean SSIM of
thumbnail's JPEG default, and their bytes there. Figures, never a pass/fail:
the exit status only says the commands ran.

Reference: the whole source decoded by Pillow (EXIF orientation applied),
flattened on white, Lanczos-resized to the output's size. Score: scikit-image's
SSIM over R, G and B (8-bit range, 7x7 windows), outputs flattened on white
too. Means are over every source and both sizes, so that one default per
format serves both.

usage: quality.py --thumbnail BIN --corpus DIR [--sizes 100 400] [--jobs N]
Run by `make quality` with the venv's python (scikit-image, Pillow with AVIF).
"""
import argparse
import concurrent.futures
import io
import os
import statistics
import subprocess
import tempfile

import numpy
from PIL import Image, ImageOps
from skimage.metrics import structural_similarity

FORMATS = ("jpeg", "webp", "avif")
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}
# The coarse sweep; the crossing is then refined quality by quality.
SWEEP = tuple(range(30, 100, 10))
# Pixel twins of other corpus files (the same picture, rescanned or with metadata added).
TWINS = ("-progressive", "-metadata")
# Targets, reported as met or MISSED: SSIM within this of thumbnail's JPEG
# default; bytes at equal SSIM as a fraction of thumbnail's JPEG, and of vips'.
SSIM_TOLERANCE = 0.01
BYTES_AGAINST_JPEG = {"avif": 0.7, "webp": 0.8}


def flattened(image):
    """RGB pixels, any transparency composited on white."""
    image = image.convert("RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return numpy.asarray(Image.alpha_composite(white, image).convert("RGB"))


class Source:
    """One corpus file, decoded once, with its references by size."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.image = ImageOps.exif_transpose(Image.open(path)).convert("RGBA")
        self.references = {}

    def reference(self, width, height):
        if (width, height) not in self.references:
            white = Image.new("RGBA", self.image.size, (255, 255, 255, 255))
            flat = Image.alpha_composite(white, self.image).convert("RGB")
            self.references[(width, height)] = numpy.asarray(flat.resize((width, height), Image.LANCZOS))
        return self.references[(width, height)]

    def score(self, output):
        pixels = flattened(Image.open(io.BytesIO(output)))
        height, width = pixels.shape[:2]
        return structural_similarity(self.reference(width, height), pixels, channel_axis=2, data_range=255)


def thumbnail(args, source, box, form, quality):
    """thumbnail's output; quality None: the path has no q, so the format's default."""
    options = f",q{quality}" if quality is not None else ""
    path = f"/thumbnail/{box}x{box}{options}/{form}/{source.name}"
    return subprocess.run([args.thumbnail, "-r", args.corpus, path], check=True, capture_output=True).stdout


def without_metadata_chunks(webp):
    """A WebP without its EXIF, XMP and ICCP chunks (the VP8X flags left as they are)."""
    chunks, offset = [], 12
    while offset + 8 <= len(webp):
        length = int.from_bytes(webp[offset + 4:offset + 8], "little")
        end = offset + 8 + length + (length & 1)
        if webp[offset:offset + 4] not in (b"EXIF", b"XMP ", b"ICCP"):
            chunks.append(webp[offset:end])
        offset = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def vips(args, source, box, form, quality):
    """vipsthumbnail's output; its WebP keeps the source's EXIF despite `strip`,
    which is dropped here so that only the image is counted."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "out." + EXTENSIONS[form])
        subprocess.run(["vipsthumbnail", source.path, "-s", f"{box}x{box}", "-o", f"{out}[Q={quality},strip]"],
                       check=True, capture_output=True)
        with open(out, "rb") as file:
            output = file.read()
    return without_metadata_chunks(output) if form == "webp" else output


def pillow(args, source, box, form, quality):
    """Pillow's thumbnail() then save(quality=...), in process."""
    with Image.open(source.path) as image:
        image.thumbnail((box, box), Image.LANCZOS)
        if form == "jpeg" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format=form.upper(), quality=quality)
        return out.getvalue()


TOOLS = {"thumbnail": thumbnail, "vips": vips, "pillow": pillow}


class Measurements:
    """(tool, format, quality, box) -> [(bytes, ssim)], one per source; quality None is thumbnail's default."""

    def __init__(self, args, sources):
        self.args, self.sources, self.results = args, sources, {}
        self.pool = concurrent.futures.ThreadPoolExecutor(args.jobs)

    def measure(self, keys):
        keys = [key for key in keys if key not in self.results]
        for key in keys:
            self.results[key] = []
        for source in self.sources:
            runs = {key: self.pool.submit(TOOLS[key[0]], self.args, source, key[3], key[1], key[2]) for key in keys}
            for key, run in runs.items():
                output = run.result()
                self.results[key].append((len(output), source.score(output)))

    def mean(self, tool, form, quality, boxes):
        """(total bytes, mean SSIM) over every source and the given boxes."""
        self.measure([(tool, form, quality, box) for box in boxes])
        pairs = [pair for box in boxes for pair in self.results[(tool, form, quality, box)]]
        return sum(size for size, _ in pairs), statistics.mean(ssim for _, ssim in pairs)


def crossing(measurements, tool, form, target, boxes):
    """The lowest quality whose mean SSIM reaches `target`: the coarse sweep,
    then a bisection between the last grid point below and the first at or
    above it (SSIM grows with the quality)."""
    below = 0
    for reached in SWEEP:
        if measurements.mean(tool, form, reached, boxes)[1] >= target:
            break
        below = reached
    else:
        return None
    while reached - below > 1:
        middle = (below + reached) // 2
        if measurements.mean(tool, form, middle, boxes)[1] >= target:
            reached = middle
        else:
            below = middle
    return reached


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--thumbnail", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    names = sorted(n for n in os.listdir(args.corpus) if not n.startswith(".") and not any(t in n for t in TWINS))
    sources = [Source(os.path.join(args.corpus, name)) for name in names]
    boxes = args.sizes
    measurements = Measurements(args, sources)
    print(f"sources: {', '.join(names)}; fits in {', '.join(f'{b}x{b}' for b in boxes)}")
    print(f"SSIM (scikit-image) against a Lanczos resize of the full decode; means over {len(sources)} sources x {len(boxes)} sizes")

    print("\nat the defaults: thumbnail's own, vipsthumbnail and Pillow at Q=80")
    print(f"{'format':6} {'tool':10} {'q':>4} " + " ".join(f"{f'{b}: KB':>9} {'SSIM':>7}" for b in boxes)
          + f" {'all: KB':>9} {'SSIM':>7}")
    for form in FORMATS:
        for tool, quality in (("thumbnail", None), ("vips", 80), ("pillow", 80)):
            cells = [measurements.mean(tool, form, quality, [box]) for box in boxes]
            size, ssim = measurements.mean(tool, form, quality, boxes)
            label = "def" if quality is None else str(quality)
            print(f"{form:6} {tool:10} {label:>4} " + " ".join(f"{s / 1000:9.1f} {m:7.4f}" for s, m in cells)
                  + f" {size / 1000:9.1f} {ssim:7.4f}")

    target_bytes, target = measurements.mean("thumbnail", "jpeg", None, boxes)
    print(f"\ntarget: thumbnail's JPEG default, mean SSIM {target:.4f}, {target_bytes / 1000:.1f} KB")
    print("\nsweep: total KB / mean SSIM")
    for tool in ("thumbnail", "vips"):
        for form in FORMATS:
            crossing(measurements, tool, form, target, boxes)
            qualities = sorted(q for (t, f, q, b) in measurements.results if t == tool and f == form and q is not None)
            row = "  ".join(f"q{q}: {measurements.mean(tool, form, q, boxes)[0] / 1000:.1f}/"
                            f"{measurements.mean(tool, form, q, boxes)[1]:.4f}" for q in sorted(set(qualities)))
            print(f"{tool:10} {form:5} {row}")

    print("\nat the target's SSIM")
    print(f"{'format':6} {'thumbnail q':>11} {'KB':>8} {'vips q':>7} {'KB':>8} {'thumbnail/vips':>15} {'thumbnail/jpeg':>15}")
    equal = {}
    for form in FORMATS:
        ours, theirs = (crossing(measurements, tool, form, target, boxes) for tool in ("thumbnail", "vips"))
        ours_bytes = measurements.mean("thumbnail", form, ours, boxes)[0] if ours else None
        vips_bytes = measurements.mean("vips", form, theirs, boxes)[0] if theirs else None
        equal[form] = (ours, ours_bytes, vips_bytes)
        ratio = f"{ours_bytes / vips_bytes:15.2f}" if ours_bytes and vips_bytes else f"{'-':>15}"
        print(f"{form:6} {ours or '-':>11} {(ours_bytes or 0) / 1000:8.1f} {theirs or '-':>7} "
              f"{(vips_bytes or 0) / 1000:8.1f} {ratio} "
              f"{(ours_bytes or 0) / equal['jpeg'][1] if equal['jpeg'][1] else 0:15.2f}")

    print("\ntargets (information, not a failure)")
    verdict = lambda ok: "met" if ok else "MISSED"
    for form in FORMATS:
        ssim = measurements.mean("thumbnail", form, None, boxes)[1]
        print(f"  {form} default SSIM {ssim:.4f}, within {SSIM_TOLERANCE} of {target:.4f}: "
              f"{verdict(abs(ssim - target) <= SSIM_TOLERANCE)}")
    for form, limit in BYTES_AGAINST_JPEG.items():
        ours_bytes, jpeg_bytes = equal[form][1], equal["jpeg"][1]
        if ours_bytes and jpeg_bytes:
            print(f"  {form} at equal SSIM {ours_bytes / jpeg_bytes:.2f}x JPEG's bytes, at most {limit}: "
                  f"{verdict(ours_bytes <= limit * jpeg_bytes)}")
    for form in FORMATS:
        _, ours_bytes, vips_bytes = equal[form]
        if ours_bytes and vips_bytes:
            print(f"  {form} at equal SSIM {ours_bytes / vips_bytes:.2f}x vips' bytes, at most 1: "
                  f"{verdict(ours_bytes <= vips_bytes)}")


if __name__ == "__main__":
    main()
