#!/bin/sh
# Rendering from URL roots against the same image on disk, in the same run:
# nginx over TLS on loopback (https://) and moto's S3 (s3://, signatures
# checked), a 1920x1080 JPEG to a 100x100 thumbnail, medians of hyperfine
# runs. Two ways:
# - one process a render, as from the command line: a URL root loads
#   libcurl (30 libraries) and makes a TLS connection in every process.
#   curl_floor.c, which does only that (load libcurl, one GET over TLS),
#   is measured beside it: the part of the difference no program using
#   libcurl avoids;
# - as an origin serves: 20 requests on one kept-alive connection to one
#   `--inetd` process (as a CDN keeps its connections to the origin), which
#   loads libcurl and connects once.
# Prints each median and the ratios to disk; the target for https:// is at
# most 1.10x; moto's figure is for information only (it is a Python server,
# far slower than S3 itself).
# The machine's load is printed too: figures taken while other work runs are noisy.
# usage: storage.sh THUMBNAIL_BINARY [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
thumbnail=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
runs=${2:-30}
venv=$here/../.build-venv
work=$(mktemp -d)
pids=""
cleanup() { for pid in $pids; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits until `curl ARGUMENTS...` gets any answer.
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "$@" && return 0; sleep 0.1; done; echo "nothing at $*" >&2; exit 1; }

mkdir -p "$work/images" "$work/nginx/temp"
cc -O2 -o "$work/curl_floor" "$here/curl_floor.c"
convert -seed 3 -size 1920x1080 plasma: -quality 90 "$work/images/photo.jpg"

cd "$work/nginx"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
  -days 1 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
  -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 \
  -extfile server.ext 2>/dev/null
https_port=$(free_port)
cat > nginx.conf <<CONF
daemon off;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/temp/body;
    proxy_temp_path $work/nginx/temp/proxy;
    fastcgi_temp_path $work/nginx/temp/fastcgi;
    uwsgi_temp_path $work/nginx/temp/uwsgi;
    scgi_temp_path $work/nginx/temp/scgi;
    server {
        listen 127.0.0.1:$https_port ssl;
        ssl_certificate $work/nginx/server.pem;
        ssl_certificate_key $work/nginx/server.key;
        root $work/images;
    }
}
CONF
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids="$pids $!"
wait_port --cacert "$work/nginx/ca.pem" "https://127.0.0.1:$https_port/photo.jpg"

moto_port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" > "$work/moto.log" 2>&1 &
pids="$pids $!"
wait_port "http://127.0.0.1:$moto_port/moto-api/"
"$venv/bin/python" "$here/../Tests/stores/seed-moto.py" "http://127.0.0.1:$moto_port" images "$work/images" > "$work/keys"
read -r key secret < "$work/keys"

path=/thumbnail/100x100/jpeg/photo.jpg
cd "$work"
export AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_EC2_METADATA_DISABLED=true
disk_root="-r $work/images"
https_root="-r https://127.0.0.1:$https_port --ca-file $work/nginx/ca.pem"
s3_root="-r s3://images --s3-endpoint http://127.0.0.1:$moto_port"
disk="$thumbnail $disk_root $path"
https="$thumbnail $https_root $path"
s3="$thumbnail $s3_root $path"
# The same bytes from each, then the times (output to /dev/null, as hyperfine -N does).
$disk > disk.jpg && $https > https.jpg && $s3 > s3.jpg
cmp -s disk.jpg https.jpg && cmp -s disk.jpg s3.jpg || { echo "the three roots gave different bytes" >&2; exit 1; }
# The origin's way: the requests pipelined on standard input, as xinetd
# hands over a kept-alive connection. hyperfine's shell, run for each
# command alike, is measured and taken off.
requests=20
for _ in $(seq "$requests"); do printf 'GET %s HTTP/1.1\r\nHost: origin\r\n\r\n' "$path"; done > requests
for root in disk https s3; do
  eval "served=\"\$thumbnail --inetd \$${root}_root\""
  $served < requests > "served-$root"
  [ "$(grep -ac '^Content-Type: image/jpeg' "served-$root")" = "$requests" ] || { echo "$root: not $requests thumbnails" >&2; exit 1; }
done
# Rounds, each measuring every command, so that a change in the machine's
# load moves all of them alike.
rounds=5
for round in $(seq "$rounds"); do
  hyperfine -N --style none --warmup 1 --runs $(( (runs + rounds - 1) / rounds )) --export-json "$work/single-$round.json" \
    -n disk "$disk" -n https "$https" -n s3-moto "$s3" \
    -n curl-floor "$work/curl_floor https://127.0.0.1:$https_port/photo.jpg $work/nginx/ca.pem" >/dev/null
  hyperfine --style none --warmup 1 --runs $(( (runs + 2 * rounds - 1) / (2 * rounds) )) --export-json "$work/served-$round.json" \
    -n disk "$thumbnail --inetd $disk_root < requests > /dev/null" \
    -n https "$thumbnail --inetd $https_root < requests > /dev/null" \
    -n s3-moto "$thumbnail --inetd $s3_root < requests > /dev/null" >/dev/null
done
# Instructions executed, which the machine's load does not move: valgrind
# reads only a stripped copy of the binary (the Swift runtime's debug
# information confuses it).
strip -o "$work/thumbnail-stripped" "$thumbnail"
instructions() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
bare=$(echo "$disk" | sed "s|^$thumbnail|$work/thumbnail-stripped|")
tls=$(echo "$https" | sed "s|^$thumbnail|$work/thumbnail-stripped|")
{
  echo "single-disk $(instructions $bare)"
  echo "single-https $(instructions $tls)"
  echo "curl-floor $(instructions "$work/curl_floor" "https://127.0.0.1:$https_port/photo.jpg" "$work/nginx/ca.pem")"
  echo "served-disk $(instructions "$work/thumbnail-stripped" --inetd $disk_root < requests)"
  echo "served-https $(instructions "$work/thumbnail-stripped" --inetd $https_root < requests)"
} > "$work/instructions"
echo "load: $(uptime)"
python3 - "$work" "$rounds" "$requests" <<'PY'
import json, statistics, sys
work, rounds, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def measured(kind):
    """Median wall time and mean CPU time (user + system) of each command over the rounds."""
    times, cpu = {}, {}
    for round in range(1, rounds + 1):
        for result in json.load(open(f"{work}/{kind}-{round}.json"))["results"]:
            times.setdefault(result["command"], []).extend(result["times"])
            cpu.setdefault(result["command"], []).append(result["user"] + result["system"])
    return ({name: statistics.median(values) for name, values in times.items()},
            {name: statistics.mean(values) for name, values in cpu.items()})
def report(results, cpu, per, target):
    disk = results["disk"] / per
    print(f"  disk      {disk * 1000:8.1f} ms  (CPU {cpu['disk'] / per * 1000:.1f} ms)")
    https = results["https"] / per / disk
    verdict = f"target <= 1.10x: {'met' if https <= 1.10 else 'MISSED'}" if target else "information"
    print(f"  https://  {results['https'] / per * 1000:8.1f} ms  {https:.2f}x  ({verdict}; "
          f"CPU {cpu['https'] / per * 1000:.1f} ms, {cpu['https'] / cpu['disk']:.2f}x)")
    print(f"  s3://     {results['s3-moto'] / per * 1000:8.1f} ms  {results['s3-moto'] / per / disk:.2f}x  (moto, information only)")
print("storage: 1920x1080 JPEG to 100x100, median wall time, ratio to disk (same image, same run)")
print(" one process a render (the command line):")
single, single_cpu = measured("single")
report(single, single_cpu, 1, target=False)
extra, floor = single["https"] - single["disk"], single["curl-floor"]
print(f"  https:// over disk {extra * 1000:.1f} ms; curl_floor (load libcurl, one GET over TLS, nothing else)"
      f" {floor * 1000:.1f} ms: {extra / floor:.2f}x the floor")
print(f" served: {requests} requests on one kept-alive connection to --inetd, per request:")
served, served_cpu = measured("served")
report(served, served_cpu, requests, target=True)
counts = {name: int(value) for name, value in (line.split() for line in open(f"{work}/instructions"))}
extra = counts["single-https"] - counts["single-disk"]
ratio = counts["served-https"] / counts["served-disk"]
print(" instructions (valgrind --tool=callgrind), unmoved by the machine's load:")
print(f"  one process: https:// over disk {extra / 1e6:.1f} million; curl_floor {counts['curl-floor'] / 1e6:.1f} million:"
      f" {extra / counts['curl-floor']:.2f}x the floor")
print(f"  served, per request: disk {counts['served-disk'] / requests / 1e6:.1f} million,"
      f" https:// {counts['served-https'] / requests / 1e6:.1f} million: {ratio:.2f}x"
      f" (target <= 1.10x: {'met' if ratio <= 1.10 else 'MISSED'})")
PY
