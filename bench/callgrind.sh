#!/bin/sh
# Instructions executed (valgrind --tool=callgrind) by thumbnail and by the C
# floor for each image of the corpus, 100x100 output: figures that do not
# depend on how busy the machine is. Run `make bench` once first (it builds
# the floor and the corpus). Profiles stay in bench/.out/callgrind/ for
# callgrind_annotate.
# usage: bench/callgrind.sh THUMBNAIL_BINARY [IMAGE...]
set -eu
command -v valgrind >/dev/null || { echo "bench/callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 69; }
here=$(cd "$(dirname "$0")" && pwd)
images=$here/.corpus/images
out=$here/.out/callgrind
mkdir -p "$out"
# valgrind 3.19 cannot read the debug information of the Swift toolchain's
# clang: profile a copy without it.
objcopy --strip-debug "$1" "$out/thumbnail-no-debug"
thumbnail=$out/thumbnail-no-debug; shift
[ $# -gt 0 ] || set -- $(ls "$images")
count() {  # count NAME COMMAND...: the instruction total callgrind reports
  name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.out" "$@" 2>&1 >/dev/null \
    | sed -n 's/.*Collected : //p'
}
printf '%-32s %15s %15s %6s\n' class thumbnail floor ratio
for image in "$@"; do
  plan=$("$thumbnail" -r "$images" --explain "/thumbnail/100x100/$image" | sed -n 's/^output: //p')
  format=${plan%% *}; size=${plan#* }; size=${size%% *}
  t=$(count "thumbnail-$image" "$thumbnail" -r "$images" -o "$out/thumbnail.$format" "/thumbnail/100x100/$image")
  f=$(count "floor-$image" "$here/.out/wand_floor" "$(echo "$format" | tr a-z A-Z)" "$images/$image" \
    "$out/floor.$format" "${size%x*}" "${size#*x}")
  printf '%-32s %15s %15s %6s\n' "$image" "$t" "$f" "$(awk "BEGIN { printf \"%.2f\", $t / $f }")"
done
