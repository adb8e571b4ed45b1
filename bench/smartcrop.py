#!/usr/bin/python3
"""`smart` against `vipsthumbnail --smartcrop attention`, 200x200 crops over the
bench corpus: how much the two windows overlap (IoU in the coordinates of the
upright source; the median, and the worst five), and what `smart` costs against
a plain centred crop on the JPEG classes (hyperfine medians of whole processes,
ratio smart / crop). Information only: the exit status says the commands ran.

thumbnail's window is the `window:` line of `--explain`. vips' window:
vipsthumbnail shrinks the source until it covers the box, then runs
vips_smartcrop on the shrunk image. This script makes the same shrunk image
with `vips thumbnail` (the binding side at the box's size, the other free, so
the scale is the same), runs `vips smartcrop` on it and reads where the window
was from the output's xoffset and yoffset; then it checks that this crop is,
pixel for pixel, the image vipsthumbnail writes, so the window is vips' own.

usage: smartcrop.py --thumbnail BIN --corpus DIR --out DIR [--runs N] [--rounds R] [--class NAME...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

from bench import table

BOX = 200


def run(argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def thumbnail_window(args, image):
    """(x, y, w, h) in the upright source, and the explain lines, from --explain."""
    text = run([args.thumbnail, "-r", args.corpus, "--explain", f"/thumbnail/{BOX}x{BOX},crop,smart/{image}"])
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    source = fields["window"].split(", ")[1].split()[0]
    size, x, y = source.split("+")
    w, h = size.split("x")
    width, height = fields["source"].split("(")[1].split()[1].rstrip(",").split("x")
    return (int(x), int(y), int(w), int(h)), (int(width), int(height)), fields["smart"]


def vips_window(args, image, source_size):
    """(x, y, w, h) in the upright source of vips' attention crop, checked against vipsthumbnail's output."""
    source = os.path.join(args.corpus, image)
    cover = os.path.join(args.out, "cover.v")
    # The .v format keeps the crop's offsets; PNG would not.
    crop = os.path.join(args.out, "vips-window.v")
    crop_png = os.path.join(args.out, "vips-window.png")
    reference = os.path.join(args.out, "vipsthumbnail.png")
    width, height = source_size
    # The side that binds when covering the (square) box is set; the other may be anything.
    wide = width >= height
    run(["vips", "thumbnail", source, cover, str(10_000_000 if wide else BOX), "--height",
         str(BOX if wide else 10_000_000)])
    cover_width = int(run(["vipsheader", "-f", "width", cover]))
    cover_height = int(run(["vipsheader", "-f", "height", cover]))
    run(["vips", "smartcrop", cover, crop, str(BOX), str(BOX), "--interesting", "attention"])
    left = -int(run(["vipsheader", "-f", "xoffset", crop]))
    top = -int(run(["vipsheader", "-f", "yoffset", crop]))
    run(["vips", "copy", crop, crop_png])
    run(["vipsthumbnail", source, "-s", f"{BOX}x{BOX}", "--smartcrop", "attention", "-o", reference])
    differ = subprocess.run(["compare", "-metric", "AE", crop_png, reference, "null:"], capture_output=True, text=True)
    if differ.stderr.strip() != "0":
        sys.exit(f"smartcrop: {image}: the window found is not vipsthumbnail's crop ({differ.stderr.strip()} pixels differ)")
    sx, sy = width / cover_width, height / cover_height
    return (left * sx, top * sy, BOX * sx, BOX * sy)


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap = max(0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0, min(ay + ah, by + bh) - max(ay, by))
    return overlap / (aw * ah + bw * bh - overlap)


def wall_times(args, image):
    """Median wall time in ms of crop and smart, over rounds of hyperfine that each run both."""
    times = {"crop": [], "smart": []}
    export = os.path.join(args.out, "smartcrop.hyperfine.json")
    for _ in range(args.rounds):
        argv = ["hyperfine", "-N", "--style", "none", "--warmup", "1", "--runs", str(args.runs),
                "--export-json", export, "--output", os.path.join(args.out, "smartcrop.out")]
        for name, options in (("crop", "crop"), ("smart", "crop,smart")):
            argv += ["-n", name, f"{args.thumbnail} -r {args.corpus} /thumbnail/{BOX}x{BOX},{options}/{image}"]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(export) as file:
            for result in json.load(file)["results"]:
                times[result["command"]] += result["times"]
    return {name: 1000 * statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--thumbnail", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=10, help="hyperfine runs per command per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--class", dest="classes", action="append", help="image file name(s) to measure")
    args = parser.parse_args()
    # vipsthumbnail reads a relative -o against the source's directory.
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    images = args.classes or sorted(f for f in os.listdir(args.corpus) if not f.startswith("."))

    print(f"smart against vipsthumbnail --smartcrop attention, {BOX}x{BOX} crop, windows in source pixels")
    rows, overlaps = [], []
    for image in images:
        ours, size, score = thumbnail_window(args, image)
        theirs = vips_window(args, image, size)
        overlaps.append((iou(ours, theirs), image))
        rows.append([image, "%dx%d+%d+%d" % (ours[2], ours[3], ours[0], ours[1]),
                     "%.0fx%.0f+%.0f+%.0f" % (theirs[2], theirs[3], theirs[0], theirs[1]),
                     f"{overlaps[-1][0]:.2f}", score.split()[1]])
    table(["class", "thumbnail smart", "vips attention", "IoU", "score"], rows)
    median = statistics.median(value for value, _ in overlaps)
    print(f"median IoU {median:.2f} (target >= 0.7 {'met' if median >= 0.7 else 'MISSED'}); worst five: "
          + ", ".join(f"{name} {value:.2f}" for value, name in sorted(overlaps)[:5]))
    print()

    print(f"Wall time, whole process, medians in ms: {BOX}x{BOX},crop,smart against {BOX}x{BOX},crop")
    rows, ratios = [], []
    for image in (name for name in images if name.startswith("jpeg-")):
        times = wall_times(args, image)
        ratios.append(times["smart"] / times["crop"])
        rows.append([image, f"{times['crop']:.1f}", f"{times['smart']:.1f}", f"{ratios[-1]:.3f}"])
    table(["class", "crop", "smart", "smart/crop"], rows)
    if ratios:
        worst = max(ratios)
        print(f"median ratio {statistics.median(ratios):.3f}, highest {worst:.3f} "
              f"(target <= 1.10 {'met' if worst <= 1.10 else 'MISSED'})")


if __name__ == "__main__":
    main()
