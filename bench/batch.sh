#!/bin/sh
# Batch throughput of `thumbnail --batch` against vipsthumbnail, over the same
# files in the same run, both using two cores:
#   thumbnail --batch LIST --jobs 2 (one process, ImageMagick limited to one
#     thread per job by thumbnail itself), with --output-dir and with neither
#     (render and discard);
#   vipsthumbnail in two processes side by side (xargs -P 2), each given half
#     the files (alternately by size, so the halves weigh alike) and
#     VIPS_CONCURRENCY=1, writing JPEG q80 without metadata.
# Every image becomes a 100x100 fit JPEG. Each case runs RUNS times,
# interleaved; the medians are reported with their ratios.
#
# The files: CORPUS, by default the bench corpus of Debian wallpapers that
# bench/corpus.sh makes (bench/.corpus/images). When CORPUS names a directory
# that does not exist, COUNT images are generated there with ImageMagick's
# convert: three in four JPEG (4000x3000, 3000x2000, 2400x1600) and one in
# four PNG (1600x1200), from one plasma fractal, rolled and recoloured per
# image, the JPEGs with a little noise so that their sizes (2-6 MB) look like
# photographs'. It is kept between runs (a few minutes to make).
#
# usage: [CORPUS=DIR] bench/batch.sh THUMBNAIL_BINARY
set -eu

thumbnail=${1:?usage: bench/batch.sh THUMBNAIL_BINARY}
runs=${RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
count=${COUNT:-24}
corpus=${CORPUS:-$here/.corpus/images}
[ -n "${CORPUS:-}" ] || "$here/corpus.sh" "$here/.corpus" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

for tool in convert vipsthumbnail; do
    command -v $tool >/dev/null || { echo "bench/batch.sh: $tool is missing; run make bench-deps" >&2; exit 69; }
done

if [ ! -d "$corpus" ]; then
    echo "generating $count images in $corpus ..." >&2
    rm -rf "$corpus.part" && mkdir -p "$corpus.part"
    convert -seed 11 -size 1000x750 plasma:fractal -resize 4000x3000! "$work/base.miff"
    i=0
    while [ $i -lt "$count" ]; do
        case $((i % 4)) in
            0) size=4000x3000 ext=jpg grain="-attenuate 0.4 +noise Gaussian" ;;
            1) size=3000x2000 ext=jpg grain="-attenuate 0.4 +noise Gaussian" ;;
            2) size=2400x1600 ext=jpg grain="-attenuate 0.4 +noise Gaussian" ;;
            3) size=1600x1200 ext=png grain="" ;;
        esac
        # shellcheck disable=SC2086 # $grain is several arguments or none
        convert "$work/base.miff" -roll +$((i * 137))+$((i * 71)) -modulate 100,$((80 + i % 40)),$((i * 11 % 200)) \
            -resize "$size!" $grain -quality 90 "$corpus.part/image-$i.$ext"
        i=$((i + 1))
    done
    mv "$corpus.part" "$corpus"
fi

files=$(cd "$corpus" && ls -S)  # largest first
count=$(echo "$files" | wc -l)
echo "$files" | sed 's|^|/thumbnail/100x100/jpeg/|' >"$work/list.txt"
# vipsthumbnail's two halves: every other file by size.
echo "$files" | awk 'NR % 2 == 1' >"$work/half-1"
echo "$files" | awk 'NR % 2 == 0' >"$work/half-2"

# Wall time in milliseconds of one run of "$@"; a failure stops the bench.
milliseconds() {
    start=$(date +%s%N)
    "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 70; }
    echo $(( ($(date +%s%N) - start) / 1000000 ))
}

# Each case bounded to ten minutes.
thumbnail_written() {
    rm -rf "$work/out"
    timeout 600 "$thumbnail" -r "$corpus" --jobs 2 --output-dir "$work/out" --batch "$work/list.txt"
}
thumbnail_checked() {
    timeout 600 "$thumbnail" -r "$corpus" --jobs 2 --batch "$work/list.txt"
}
vips_written() {
    rm -rf "$work/vips" && mkdir -p "$work/vips"
    (cd "$corpus" && printf '%s\n' "$work/half-1" "$work/half-2" | VIPS_CONCURRENCY=1 timeout 600 \
        xargs -P 2 -I HALF sh -c 'xargs vipsthumbnail -s 100x100 -o "$1/%s.jpg[Q=80,strip]" < "$2"' - "$work/vips" HALF)
}

: >"$work/times"
run=1
while [ $run -le "$runs" ]; do
    for case in thumbnail_written thumbnail_checked vips_written; do
        echo "$case $(milliseconds $case)" >>"$work/times"
    done
    run=$((run + 1))
done

# Sanity: both wrote one thumbnail per image, each inside the box.
[ "$(find "$work/out" -type f | wc -l)" -eq "$count" ] && [ "$(ls "$work/vips" | wc -l)" -eq "$count" ] || {
    echo "bench/batch.sh: a tool did not write $count thumbnails" >&2
    exit 70
}

median() { grep "^$1 " "$work/times" | cut -d' ' -f2 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
written=$(median thumbnail_written)
checked=$(median thumbnail_checked)
vips=$(median vips_written)
rate() { awk -v n="$count" -v ms="$1" 'BEGIN { printf "%.1f", n * 1000 / ms }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "corpus: $count images in $corpus ($(du -sh "$corpus" | cut -f1)); each to a 100x100 fit JPEG; $(nproc) cores; medians of $runs runs"
echo "thumbnail --batch --jobs 2 --output-dir: $written ms ($(rate "$written") images/s)"
echo "thumbnail --batch --jobs 2 (discard):    $checked ms ($(rate "$checked") images/s)"
echo "vipsthumbnail, 2 processes:              $vips ms ($(rate "$vips") images/s)"
echo "wall time ratio thumbnail/vipsthumbnail: $(ratio "$written" "$vips") writing, $(ratio "$checked" "$vips") discarding (target <= 0.8)"
