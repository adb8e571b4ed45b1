#!/usr/bin/python3
"""Whole-process wall time (hyperfine, medians) and peak RSS (GNU time %M,
medians) of `thumbnail` and its baselines, 100x100 output, one image class
at a time, all commands measured in the same run. Prints medians and the
ratios thumbnail/baseline pair by pair, with the performance targets beside them.
Never a pass/fail on timing: the exit status only says the commands ran.

A class is a corpus file, or FILE@BOX.FORMAT for another box and output
format (`jpeg-3840x2400.jpg@400.avif`), measured against vipsthumbnail alone.

usage: bench.py --thumbnail BIN --floor BIN --corpus DIR --out DIR [--runs N] [--rounds R] [--class NAME...]
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BOX = 100
# The encoders at a web page's size: thumbnail's AVIF (libheif, libaom) and WebP (ImageMagick, libwebp).
OUTPUT_CLASSES = ["jpeg-3840x2400.jpg@400.avif", "jpeg-3840x2400.jpg@400.webp"]
# vipsthumbnail's options for each output format, at thumbnail's default qualities.
VIPS_OPTIONS = {"jpeg": "[Q=80,strip]", "webp": "[Q=81,strip]", "avif": "[Q=47,strip]"}

# Performance targets: (baseline, class prefix or None for every class, highest ratio).
TIME_TARGETS = [
    ("floor", None, 1.05),
    ("vips", "jpeg-1920x1080", 0.6),
    ("vips", "jpeg-3840x2400", 0.6),
    ("vips", "webp-4096x4096", 1.0),
    ("vips", "jpeg-metadata", 1.0),
    ("vips", "png-", 0.8),
    ("vips", "tiff-", 0.8),
    ("vips", "heic-", 0.9),
]
RSS_TARGET = ("floor", 1.10)
# PNG and TIFF decode row by row: peak RSS at most vipsthumbnail's. HEIC: libheif holds
# the whole decoded image, as in vipsthumbnail.
RSS_VIPS_TARGETS = [("png-", 1.0), ("tiff-", 1.0), ("heic-", 1.1)]


def rss_vips_target(name):
    return next((limit for prefix, limit in RSS_VIPS_TARGETS if name.startswith(prefix)), None)


def target(baseline, name):
    for base, prefix, limit in TIME_TARGETS:
        if base == baseline and (prefix is None or name.startswith(prefix)):
            return limit
    return None


def split_class(name):
    """(corpus file, box, output format or None for the source's default) of a class name."""
    image, _, output = name.partition("@")
    if not output:
        return image, BOX, None
    box, form = output.split(".")
    return image, int(box), form


def label(name):
    """A class as the report names it: the file's stem, or FORMAT@BOX-from-STEM."""
    image, box, form = split_class(name)
    stem = image.rsplit(".", 1)[0]
    return f"{form}@{box}-from-{stem}" if form else stem


def thumbnail_path(name):
    image, box, form = split_class(name)
    return f"/thumbnail/{box}x{box}/" + (f"{form}/" if form else "") + image


def plan(args, name):
    """Output format and size that thumbnail plans, from --explain."""
    text = subprocess.run(
        [args.thumbnail, "-r", args.corpus, "--explain", thumbnail_path(name)],
        check=True, capture_output=True, text=True).stdout
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    output = fields["output"].split()
    width, height = output[1].split("x")
    return output[0], int(width), int(height)


def source_coder(image):
    """The ImageMagick coder of a corpus file, by its extension (the corpus names them)."""
    extension = image.rsplit(".", 1)[1]
    return {"jpg": "JPEG", "tif": "TIFF", "avif": "HEIC"}.get(extension, extension.upper())


def commands(args, name):
    """name -> argv, for every tool that applies to this class."""
    image, box, output_form = split_class(name)
    source = os.path.join(args.corpus, image)
    form, width, height = plan(args, name)
    ext = {"jpeg": "jpg"}.get(form, form)
    out = lambda tool: os.path.join(args.out, f"{tool}.{ext}")
    lossy = form in ("jpeg", "webp")
    vips_options = VIPS_OPTIONS.get(form, "[strip]") if output_form else "[Q=80,strip]" if lossy else "[strip]"
    thumbnail = [args.thumbnail, "-r", args.corpus, thumbnail_path(name)]
    vips = ["vipsthumbnail", source, "-s", f"{box}x{box}", "-o", out("vips") + vips_options]
    if output_form:
        return {"thumbnail": thumbnail, "vips": vips}, (width, height)
    result = {
        # To standard output, as in the HTTP mode: -o would add an fsync the other tools do not do.
        "thumbnail": thumbnail,
        "floor": [args.floor, source_coder(image), form.upper(), source, out("floor"), str(width), str(height)],
        "vips": vips,
        "pillow": [os.path.join(HERE, "pillow_thumbnail.py"), source, out("pillow"), str(BOX), str(BOX)],
        "convert": ["convert", source, "-thumbnail", f"{BOX}x{BOX}"] + (["-quality", "80"] if lossy else [])
        + [out("convert")],
    }
    if form == "jpeg" and image.endswith(".jpg"):
        result["djpeg"] = ["djpeg", "-scale", "1/8", "-outfile", "/dev/null", source]
    return result, (width, height)


def check_outputs(args, tools, size):
    """Each tool runs once; thumbnail and the floor write an image of the planned size
    (vips and Pillow round their own way). A baseline that ImageMagick's policy
    refuses (the whole-file decoders, beyond about 30 megapixels) is left out."""
    for name, argv in list(tools.items()):
        with open(output_file(args, tools, name), "wb") if name == "thumbnail" else open(os.devnull, "wb") as out:
            run = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, text=True)
        if run.returncode != 0 and name in ("floor", "convert", "pillow"):
            print(f"bench: {name} left out: {run.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            del tools[name]
        elif run.returncode != 0:
            sys.exit(f"bench: {name} failed:\n{run.stderr}")
    expected = f"{size[0]}x{size[1]}"
    for name in ("thumbnail", "floor") if "floor" in tools else ("thumbnail",):
        actual = subprocess.run(["identify", "-format", "%wx%h", output_file(args, tools, name)], check=True,
                                capture_output=True, text=True).stdout
        if actual != expected:
            sys.exit(f"bench: {name} wrote {actual}, expected {expected}")


def output_file(args, tools, name):
    """Where thumbnail's standard output goes (beside vips' output), or the floor's OUT argument."""
    vips_output = tools["vips"][5].split("[")[0]
    return vips_output.replace("/vips.", "/thumbnail.") if name == "thumbnail" else tools["floor"][4]


def wall_times(args, image, tools):
    """All wall times in seconds per tool, over `rounds` hyperfine runs that each measure every tool."""
    times = {name: [] for name in tools}
    cpu = {name: [] for name in tools}
    export = os.path.join(args.out, f"{image}.hyperfine.json")
    for _ in range(args.rounds):
        argv = ["hyperfine", "-N", "--style", "none", "--warmup", str(args.warmup), "--runs", str(args.runs),
                "--export-json", export, "--output", output_file(args, tools, "thumbnail")]
        for name, command in tools.items():
            argv += ["-n", name, shlex.join(command)]
        # hyperfine warns about outliers on a busy machine: the medians and the load lines say it already.
        run = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if run.returncode != 0:
            sys.exit(f"bench: hyperfine failed on {image}:\n{run.stderr}")
        with open(export) as file:
            for result in json.load(file)["results"]:
                times[result["command"]] += result["times"]
                cpu[result["command"]].append(result["user"] + result["system"])
    return times, {name: statistics.mean(values) for name, values in cpu.items()}


def peak_rss(args, tools):
    """Median peak resident set size in KiB per tool (GNU time %M)."""
    rss = {}
    for name, command in tools.items():
        samples = []
        for _ in range(args.rss_runs):
            run = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, check=True, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
            samples.append(int(run.stderr.strip().splitlines()[-1]))
        rss[name] = statistics.median(samples)
    return rss


def verdict(ratio, limit):
    if limit is None:
        return ""
    return f" (<={limit:g} {'met' if ratio <= limit else 'MISSED'})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--thumbnail", required=True)
    parser.add_argument("--floor", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=5, help="hyperfine runs per tool per round")
    parser.add_argument("--rounds", type=int, default=3, help="hyperfine rounds, interleaving the tools")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rss-runs", type=int, default=5)
    parser.add_argument("--class", dest="classes", action="append", help="image file name(s) to measure")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    images = args.classes or sorted(f for f in os.listdir(args.corpus) if not f.startswith(".")) + OUTPUT_CLASSES

    results = {}
    for image in images:
        tools, size = commands(args, image)
        check_outputs(args, tools, size)
        times, cpu = wall_times(args, image, tools)
        rss = peak_rss(args, tools)
        results[image] = {
            name: {"median_ms": 1000 * statistics.median(times[name]), "runs": len(times[name]),
                   "stddev_ms": 1000 * statistics.stdev(times[name]), "cpu_ms": 1000 * cpu[name],
                   "rss_kib": rss[name],
                   "command": shlex.join(tools[name])}
            for name in tools}
        print(f"measured {image}", file=sys.stderr, flush=True)
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(results, file, indent=1)
    report(results)


def report(results):
    print("Wall time, whole process, medians in ms (ratio = thumbnail / baseline, target beside it)")
    header = ["class", "thumbnail", "floor", "t/floor", "vips", "t/vips", "pillow", "t/pillow", "convert",
              "t/convert", "djpeg"]
    rows = []
    for image, tools in results.items():
        name = label(image)
        t = tools["thumbnail"]["median_ms"]
        row = [name, f"{t:.1f}"]
        for base in ("floor", "vips", "pillow", "convert"):
            if base not in tools:
                row += ["-", "-"]
                continue
            b = tools[base]["median_ms"]
            row += [f"{b:.1f}", f"{t / b:.2f}{verdict(t / b, target(base, name))}"]
        row.append(f"{tools['djpeg']['median_ms']:.1f}" if "djpeg" in tools else "-")
        rows.append(row)
    table(header, rows)
    print()
    print("CPU time (user + system, hyperfine means) in ms; renders/s ceiling = cores / thumbnail CPU time")
    header = ["class", "thumbnail", "floor", "t/floor", "vips", "t/vips", "ceiling/s"]
    rows = []
    for image, tools in results.items():
        t, v = tools["thumbnail"]["cpu_ms"], tools["vips"]["cpu_ms"]
        f = tools["floor"]["cpu_ms"] if "floor" in tools else None
        rows.append([label(image), f"{t:.1f}", f"{f:.1f}" if f else "-", f"{t / f:.2f}" if f else "-",
                     f"{v:.1f}", f"{t / v:.2f}", f"{1000 * os.cpu_count() / t:.0f}"])
    table(header, rows)
    print()
    print("Peak RSS, medians in MiB (GNU time %M)")
    header = ["class", "thumbnail", "floor", "t/floor", "vips", "t/vips", "pillow", "convert", "djpeg"]
    rows = []
    for image, tools in results.items():
        mib = lambda tool: f"{tools[tool]['rss_kib'] / 1024:.1f}" if tool in tools else "-"
        name = label(image)
        ratio = tools["thumbnail"]["rss_kib"] / tools["floor"]["rss_kib"] if "floor" in tools else None
        to_vips = tools["thumbnail"]["rss_kib"] / tools["vips"]["rss_kib"]
        rows.append([name, mib("thumbnail"), mib("floor"),
                     f"{ratio:.2f}{verdict(ratio, RSS_TARGET[1])}" if ratio else "-", mib("vips"),
                     f"{to_vips:.2f}{verdict(to_vips, rss_vips_target(name))}", mib("pillow"), mib("convert"),
                     mib("djpeg")])
    table(header, rows)


def table(header, rows):
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
