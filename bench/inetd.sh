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
  # Per-connection processes serve $work until their idle timeout and still
  # write to it: stop them (and let xinetd go) before removing it.
  for _ in $(seq 50); do
    serving=$(pgrep -f -- "-r $work" || true)
    if [ -z "$serving" ] && ! { [ -n "$xinetd_pid" ] && kill -0 "$xinetd_pid" 2>/dev/null; }; then break; fi
    [ -z "$serving" ] || kill $serving 2>/dev/null || true
    sleep 0.1
  done
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
# CPU seconds of xinetd itself and of its reaped children (the per-connection processes), from /proc.
xinetd_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f %.2f", ($14 + $15) / hz, ($16 + $17) / hz }' "/proc/$xinetd_pid/stat"; }
measure() {
  local label=$1; shift
  local before after cpu_before cpu_after
  before=$(wc -l < "$work/origin.log")
  cpu_before=$(xinetd_cpu)
  rate=$(wrk -t 2 -c "$connections" -d "${seconds}s" "$@" "$url" | awk '/Requests\/sec/ { print $2 }')
  sleep 1  # the last connections' processes exit and are reaped
  cpu_after=$(xinetd_cpu)
  after=$(wc -l < "$work/origin.log")
  printf '%-24s %8s requests/s (%.2f of the ceiling); CPU per request: thumbnail %s ms, xinetd %s ms\n' \
    "$label" "$rate" "$(awk -v r="$rate" -v c="$ceiling" 'BEGIN { print r / c }')" \
    $(echo "$cpu_before $cpu_after" | awk -v n=$((after - before)) '{ printf "%.1f %.2f", 1000 * ($4 - $2) / n, 1000 * ($3 - $1) / n }')
}
# The ceiling: cores / CPU time of one render of the same request from the
# command line (user + system from getrusage, median of 21), a process each as
# under inetd.
cpu_ms=$(python3 - "$binary" "$work" <<'EOF'
import resource, statistics, subprocess, sys
def cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
samples = []
for _ in range(21):
    before = cpu()
    subprocess.run([sys.argv[1], "-r", sys.argv[2], "/thumbnail/100x100/photo.jpg"], stdout=subprocess.DEVNULL, check=True)
    samples.append(1000 * (cpu() - before))
print(f"{statistics.median(samples):.1f}")
EOF
)
ceiling=$(awk -v cores="$(nproc)" -v ms="$cpu_ms" 'BEGIN { printf "%.1f", cores * 1000 / ms }')
echo "one render from the command line: $cpu_ms ms of CPU; ceiling $(nproc) cores / that = $ceiling requests/s"
measure "keep-alive:"
measure "connection per request:" -H "Connection: close"
if grep -qv ' 200 ' "$work/origin.log"; then
  echo "some requests failed:" >&2
  grep -v ' 200 ' "$work/origin.log" | head -5 >&2
  exit 1
fi
