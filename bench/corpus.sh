#!/bin/sh
# Builds the bench corpus in DIR (default bench/.corpus, ignored by git) from
# real photographs and wallpapers in Debian packages, fetched with
# `apt-get download` and unpacked with `dpkg-deb -x`. Nothing here is
# committed or shipped: the packages' licences (GPL-2+ for mate-backgrounds,
# CC-BY-SA-3.0 for ukui-wallpapers and gnome-backgrounds) allow using them here.
# Idempotent: existing files are kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/.corpus}
images=$dir/images
mkdir -p "$dir/debs" "$dir/root" "$images"

for package in mate-backgrounds ukui-wallpapers gnome-backgrounds; do
  if ! ls "$dir/debs/${package}_"*.deb >/dev/null 2>&1; then
    (cd "$dir/debs" && apt-get download -q "$package" 2>/dev/null)
  fi
  [ -e "$dir/root/.$package" ] || { dpkg-deb -x "$dir/debs/${package}_"*.deb "$dir/root" && touch "$dir/root/.$package"; }
done
backgrounds=$dir/root/usr/share/backgrounds

# make NAME COMMAND...: runs COMMAND (writing $out) unless $images/NAME exists.
make_image() {
  name=$1; shift
  [ -s "$images/$name" ] && return 0
  out=$images/.$name.tmp
  "$@"
  mv "$out" "$images/$name"
}
crop_storm() { jpegtran -copy all -crop 1920x1080+0+96 "$backgrounds/mate/nature/Storm.jpg" > "$out"; }
progressive() { jpegtran -copy all -progressive "$images/$1" > "$out"; }
copy() { cp "$1" "$out"; }
to_png() { convert "$1" -strip "png:$out"; }
to_tiff() { source=$images/$1; shift; convert "$source" "$@" "tiff:$out"; }
to_7000_png() { convert "$1" -resize '7000x7000!' -strip "png:$out"; }
to_webp() { cwebp -quiet -q 80 -metadata none "$1" -o "$out"; }
# heif-enc, quality 60, no thumbnail item: the whole image is decoded (HEVC by libde265, AV1 by libdav1d).
to_heif() { heif-enc "$@" -q 60 -o "$out"; }
to_gif() { convert "$images/$1" -strip "gif:$out"; }
with_metadata() { "$here/add_metadata.py" "$images/$1" /usr/share/color/icc/ghostscript/srgb.icc 3 "$out"; }

# A Canon EOS photograph (EXIF kept), baseline, cropped losslessly to 1920x1080.
make_image jpeg-1920x1080.jpg crop_storm
make_image jpeg-1920x1080-progressive.jpg progressive jpeg-1920x1080.jpg
make_image jpeg-3840x2400.jpg copy "$backgrounds/2004default.jpg"
make_image jpeg-3840x2400-progressive.jpg progressive jpeg-3840x2400.jpg
# 17.9 megapixels, progressive as shipped.
make_image jpeg-5640x3172.jpg copy "$backgrounds/mate/abstract/Elephants_5640x3172.jpg"
# The 1920x1080 photograph with 3 MB of XMP (Photoshop's DocumentAncestors) and an sRGB ICC profile.
make_image jpeg-metadata.jpg with_metadata jpeg-1920x1080.jpg
make_image png-3640x2400.png copy "$backgrounds/goldfish.png"
make_image png-5640x3172.png to_png "$backgrounds/mate/abstract/Elephants_5640x3172.jpg"
# 49 megapixels (37 MB), over what Debian's ImageMagick policy lets a whole-file decode hold.
make_image png-7000x7000.png to_7000_png "$backgrounds/gnome/adwaita-l.webp"
# The 3840x2400 photograph as TIFF: LZW in strips (ImageMagick's layout), deflate in 256x256 tiles.
make_image tiff-3840x2400.tif to_tiff jpeg-3840x2400.jpg -compress lzw
make_image tiff-3840x2400-tiles.tif to_tiff jpeg-3840x2400.jpg -compress zip -define tiff:tile-geometry=256x256
make_image webp-1920x1080.webp to_webp "$images/jpeg-1920x1080.jpg"
make_image webp-4096x4096.webp copy "$backgrounds/gnome/adwaita-l.webp"
# The 3840x2400 photograph as HEIC and AVIF, and the 1920x1080 one as a GIF of 256 colours.
make_image heic-3840x2400.heic to_heif "$images/jpeg-3840x2400.jpg"
make_image avif-3840x2400.avif to_heif -A "$images/jpeg-3840x2400.jpg"
make_image gif-1920x1080.gif to_gif jpeg-1920x1080.jpg
ls "$images"
