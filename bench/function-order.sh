#!/bin/sh
# Writes Sources/thumbnail/function-order.txt: the functions of the binary that
# typical runs execute, which the release build links side by side (lld's
# --symbol-ordering-file, each function in its own section). A run then maps
# a few hundred KiB of the binary's code instead of pages all over its 5 MB,
# since every page fault maps its 64 KiB neighbourhood too.
#
# The runs, each under valgrind --tool=callgrind (which names every function
# executed): a JPEG to JPEG and a PNG to WebP from the command line, a
# thumbnail path from a WebP root, a TIFF, a GIF, a request through --inetd,
# and --batch. Names that later vanish from the code are ignored by the linker;
# InstallTests fails when too many have, and this script makes the list again.
#
# usage: bench/function-order.sh THUMBNAIL_BINARY
set -eu
command -v valgrind >/dev/null || { echo "bench/function-order.sh: needs valgrind (make bench-deps)" >&2; exit 69; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# valgrind 3.19 cannot read the debug information of the Swift toolchain's clang.
objcopy --strip-debug "$1" "$work/thumbnail"
mkdir "$work/root" "$work/out"
convert "$here/../samples/sample.jpg" -resize 1600x1600 "$work/root/photo.jpg"
convert "$work/root/photo.jpg" "$work/root/photo.png"
convert "$work/root/photo.jpg" -quality 80 "$work/root/photo.webp"
convert "$work/root/photo.jpg" -compress lzw "$work/root/photo.tif"
convert "$work/root/photo.jpg" "$work/root/photo.gif"
cd "$work"

profile() {  # profile NAME COMMAND...: COMMAND under callgrind, its output discarded
  name=$1; shift
  valgrind --tool=callgrind --demangle=no --compress-strings=no --callgrind-out-file="$work/$name.out" \
    "$@" >/dev/null 2>"$work/$name.log" || { cat "$work/$name.log" >&2; exit 70; }
}
profile jpeg ./thumbnail -s 100x100 -f jpeg root/photo.jpg -o out/a.jpg
profile png ./thumbnail -s 100x100 -f webp root/photo.png -o out/a.webp
profile path ./thumbnail -r root -o out/b.png /thumbnail/200x200,crop/png/photo.webp
profile tiff ./thumbnail -r root -o out/c.jpg /thumbnail/100x100/photo.tif
profile gif ./thumbnail -r root -o out/d.png /thumbnail/100x100/png/photo.gif
printf 'GET /thumbnail/100x100/webp/photo.jpg HTTP/1.1\r\nHost: localhost\r\n\r\n' >request
profile inetd ./thumbnail --inetd -r root <request
printf '/thumbnail/100x100/photo.jpg\n/thumbnail/64x64/avif/photo.png\n' >list
profile batch ./thumbnail -r root --jobs 2 --batch list

# fn= lines name the functions of the object (ob=) before them; a recursion
# level ('2) is the same function. Code without a symbol (a bare address,
# "(below main)") cannot be named to the linker.
awk '/^ob=/ { ours = ($0 ~ /\/thumbnail$/) }
     /^fn=/ && ours { name = substr($0, 4); sub(/'"'"'[0-9]+$/, "", name)
                      if (name !~ /^0x[0-9a-f]+$/ && name !~ /^\(/) print name }' ./*.out |
  LC_ALL=C sort -u >"$here/../Sources/thumbnail/function-order.txt"
wc -l "$here/../Sources/thumbnail/function-order.txt"
