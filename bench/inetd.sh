#!/bin/bash
# Requests per second through xinetd (the example service, paths adapted) for
# a 1920x1080 JPEG rendered to 100x100, with and without keep-alive, by wrk
# on loopback. Every request renders: there is no cache in the origin.
#   bench/inetd.sh [BINARY]     (default: the release build of `make build`)
# BENCH_SECONDS (10) and BENCH_CONNECTIONS (4) bound the run.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:-.build-release/release/thumbnail}")
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-4}
work=$(mktemp -d)
xinetd_pid=""
cleanup() {
  if [ -n "$xinetd_pid" ]; then kill "$xinetd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

convert -seed 1 -size 1920x1080 plasma: -quality 90 "$work/photo.jpg"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|^\(\s*port\s*=\).*|\1 $port|" \
    -e "s|^\(\s*user\s*=\).*|\1 $(id -un)|" \
    -e "s|^\(\s*group\s*=\).*|\1 $(id -gn)|" \
    -e "s|^\(\s*server\s*=\).*|\1 $binary|" \
    -e "s|^\(\s*server_args\s*=\).*|\1 --inetd -r $work --log $work/origin.log|" \
    examples/xinetd/thumbnail > "$work/xinetd.conf"
xinetd -f "$work/xinetd.conf" -pidfile "$work/xinetd.pid" -filelog "$work/xinetd.log"
for _ in $(seq 50); do [ -s "$work/xinetd.pid" ] && curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
xinetd_pid=$(cat "$work/xinetd.pid")

url="http://127.0.0.1:$port/thumbnail/100x100/photo.jpg"
curl -sf -o "$work/thumb.jpg" "$url"
echo "source: 1920x1080 JPEG ($(stat -c %s "$work/photo.jpg") bytes) -> $(identify -format '%wx%h' "$work/thumb.jpg") JPEG ($(stat -c %s "$work/thumb.jpg") bytes)"
echo "wrk: ${seconds}s, $connections connections, $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure() {
  local label=$1; shift
  local before after
  before=$(wc -l < "$work/origin.log")
  rate=$(wrk -t 2 -c "$connections" -d "${seconds}s" "$@" "$url" | awk '/Requests\/sec/ { print $2 }')
  after=$(wc -l < "$work/origin.log")
  printf '%-22s %8s requests/s  (%d rendered)\n' "$label" "$rate" $((after - before))
}
measure "keep-alive:"
measure "connection per request:" -H "Connection: close"
if grep -qv ' 200 ' "$work/origin.log"; then
  echo "some requests failed:" >&2
  grep -v ' 200 ' "$work/origin.log" | head -5 >&2
  exit 1
fi
