"""The package's grammar against the origin's, request by request: a seeded
generator writes requests, valid and not (every option, repeats and
conflicts, bad and oversized sizes, sizes that --sizes refuses, names with
spaces, %, UTF-8 and worse), and for each the Python side and the binary
must agree: both refuse it, or both give the same canonical signed path
(`thumbnail --sign` on the path as written), and then `thumbnail --explain`
of the Python side's path says it is canonical, signed right, and rendered
at the width and height the Python side computes."""

import os
import random
import shutil
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from support import KEY_FILE, ROOT, make_sources, thumbnail  # noqa: F401  (sets up Django first)
from thumbnail_cdn import conf, grammar, header, picture

REQUESTS = int(os.environ.get("DIFFERENTIAL_REQUESTS", "1200"))
SEED = 20261206
LETTERS = "abcXYZ019 +%&é€😀-_.~!$'()*;=:@#?,\u0301"
QUALITIES = ["q1", "q80", "q100", "q47", "q81", "q5"]
BACKGROUNDS = ["bg000000", "bgFFfFfF", "bg12ab9C", "bgffffff"]
GRAVITIES = ["c", "n", "ne", "e", "se", "s", "sw", "w", "nw"]
CROP_PLACEMENTS = ["fp0.0", "fp50.50", "fp100.100", "fp30.40", "fp7.93", "smart"]
VERSIONS = ["v1", "v65f1a2b0-4e2f", "v" + "Az9_-" * 12 + "Az9_", "v_-"]
VALID_OPTIONS = ["crop", "pad"] + QUALITIES + BACKGROUNDS + GRAVITIES + CROP_PLACEMENTS + VERSIONS
BAD_OPTIONS = [
    "", "q0", "q101", "q080", "q", "qx", "bgfff", "bgGGGGGG", "bg1234567", "fp101.0", "fp1.2.3", "fp.5", "fp5.",
    "fp-1.5", "v", "v" + "a" * 65, "v!x", "v.x", "vé", "CROP", "Crop", "x", "north", "NE", "q８0", " crop",
]
BAD_SIZES = ["0x10", "010x10", "x", "10", "10x10x10", "-5x5", "+5x5", "1e3x5", "10X10", "", "１0x5", "1234567890x1", "x0"]
FORMATS = [None, None, "jpeg", "jpg", "png", "webp", "gif", "avif"]


def odd_names(generator, sources):
    """Names to ask for: the sources made, copies under odd names, and names the grammar refuses."""
    names = list(sources)
    for number in range(40):
        segments = [
            "".join(generator.choice(LETTERS) for _ in range(generator.randint(1, 10))) for _ in range(generator.randint(1, 3))
        ]
        # "." and ".." are refused names: such a segment gets a letter in front.
        name = "/".join(segment if segment.strip(".") else "x" + segment for segment in segments)
        if name.split("/")[0] in grammar.FORMATS + ("jpg",):
            continue
        os.makedirs(os.path.dirname(os.path.join(ROOT, name)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, generator.choice(sources)), os.path.join(ROOT, name))
        names.append(name)
    refused = ["a/../b.jpg", "../x.jpg", "a//b.jpg", "./a.jpg", "a/./b.jpg", "a\\b.jpg", "tab\there.jpg", "nul\0.jpg",
               "del\x7f.jpg", "/abs.jpg", "", "a/"]
    return names, refused


def size_text(generator, max_side, both):
    """Mostly a size the grammar takes (both sides when `both`), sometimes one it refuses."""
    if generator.random() < 0.08:
        return generator.choice(BAD_SIZES)
    side = lambda: generator.choice([generator.randint(1, 400)] * 3 + [generator.randint(1, max_side + 50), max_side, max_side + 1])
    width, height = side(), side()
    return "%dx%d" % (width, height) if both else generator.choice(["%dx%d" % (width, height), "%dx" % width, "x%d" % height])


def segment_text(generator, max_side):
    """A size and options in any order: a mode, a placement that goes with it,
    a quality, a background, a version; now and then a bad or conflicting one."""
    mode = generator.choice(["fit", "fit", "crop", "crop", "pad"])
    options = [] if mode == "fit" else [mode]
    if mode != "fit" and generator.random() < 0.6:
        options.append(generator.choice(GRAVITIES + (CROP_PLACEMENTS if mode == "crop" else [])))
    for choices in (QUALITIES, BACKGROUNDS, VERSIONS):
        if generator.random() < 0.35:
            options.append(generator.choice(choices))
    if generator.random() < 0.2:
        options.append(generator.choice(BAD_OPTIONS + VALID_OPTIONS))
    generator.shuffle(options)
    return ",".join([size_text(generator, max_side, mode != "fit" or generator.random() < 0.5)] + options)


def generate(count):
    """(segment, format, name, --sizes or None, --max-side) of each request."""
    generator = random.Random(SEED)
    names, refused = odd_names(generator, make_sources())
    requests = []
    for _ in range(count):
        max_side = generator.choice([4096, 4096, 1000, 300])
        sizes = None
        if generator.random() < 0.3:
            sizes = sorted({"%dx%d" % (generator.randint(1, 300), generator.randint(1, 300)) for _ in range(3)} | {"100x100", "64x", "x64"})
        name = generator.choice(refused) if generator.random() < 0.05 else generator.choice(names)
        requests.append((segment_text(generator, max_side), generator.choice(FORMATS), name, sizes, max_side))
    return requests


def python_side(segment, format, name, sizes, max_side):
    """(signed canonical path, width, height) by the package; None when refused."""
    try:
        request = grammar.parse_segment(segment, max_side=max_side)
        format = grammar.check_format(format)
        grammar.check_size(request.box, grammar.check_sizes(sizes, max_side))
        path = grammar.signed_path(request, format, name, conf.read_keys(KEY_FILE))
    except grammar.Refused:
        return None
    facts = header.facts(lambda: open(os.path.join(ROOT, name), "rb"))
    return (path,) + picture.thumbnail_size((facts.width, facts.height), request.box, request.mode)


def binary_side(segment, format, name, sizes, max_side):
    """The same by the binary: --sign on the path as written, then --explain on that."""
    options = ["--key-file", KEY_FILE, "--max-side", str(max_side)] + (["--sizes", ",".join(sizes)] if sizes else [])
    raw = "/thumbnail/%s%s/%s" % (segment, "/" + format if format else "", quote(name, safe="/"))
    signed = thumbnail("--sign", raw, *options, check=False)
    if signed.returncode != 0:
        return None, raw
    path = signed.stdout.decode().strip()
    explained = thumbnail("--explain", path, "-r", ROOT, *options, check=False)
    lines = explained.stdout.decode().split("\n")
    output = next((line.split() for line in lines if line.startswith("output: ")), None)
    if output is None or explained.returncode != 0:
        return ("explain failed", explained.returncode, explained.stderr.decode()), raw
    width, height = map(int, output[2].split("x"))
    canonical = lines[0] == "canonical: " + path and "signature: ok (key 1 of 2)" in lines
    return (path if canonical else lines[:2], width, height), raw


class DifferentialTests(unittest.TestCase):
    def test_python_and_binary_agree_on_every_request(self):
        requests = generate(REQUESTS)
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda request: binary_side(*request), requests))
        disagreements, accepted, refused = [], 0, 0
        for request, (binary, raw) in zip(requests, answers):
            python = python_side(*request)
            if python != binary:
                disagreements.append("%s: python %s, binary %s" % (raw, python, binary))
            elif python is None:
                refused += 1
            else:
                accepted += 1
        print(
            "differential: %d requests, %d accepted by both, %d refused by both, %d disagreements"
            % (len(requests), accepted, refused, len(disagreements)),
            file=sys.stderr,
        )
        self.assertGreater(accepted, len(requests) // 4, "too few valid requests to compare")
        self.assertGreater(refused, len(requests) // 10, "too few refusals to compare")
        self.assertEqual(disagreements, [], "\n".join(disagreements[:20]))


if __name__ == "__main__":
    unittest.main()
