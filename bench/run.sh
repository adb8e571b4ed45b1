#!/bin/sh
# `make bench`: builds the C floor, makes the corpus, measures, prints the tables.
# usage: run.sh THUMBNAIL_BINARY [bench.py options]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
thumbnail=$1; shift
out=${BENCH_OUT:-$here/.out}
mkdir -p "$out"
cc -O2 -o "$out/wand_floor" "$here/wand_floor.c" $(pkg-config --cflags --libs MagickWand)
"$here/corpus.sh" "$here/.corpus" >/dev/null
echo "machine: $(nproc) cores, $(uname -r); $(convert -version | head -1)"
echo "load before: $(uptime)"
"$here/bench.py" --thumbnail "$thumbnail" --floor "$out/wand_floor" --corpus "$here/.corpus/images" \
  --out "$out" "$@"
echo "load after: $(uptime)"
