#!/usr/bin/env bash
# Side-by-side comparison of sluice binaries (for example a build before a change and one after):
# `sluice ingest` of one corpus into fresh temporary folders, runs interleaved (A, B, A, B, ...)
# so that every binary sees the same machine, timed by /usr/bin/time; prints per binary the
# median wall time and the median CPU time (user + system) over the runs, each with its range.
#
#   benches/ab.sh RUNS WORKERS CORPUS_DIR BINARY...
#   benches/ab.sh 9 2 ../shared/corpus/chinanews-dev /tmp/sluice-before target/release/sluice
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 RUNS WORKERS CORPUS_DIR BINARY..." >&2
    exit 2
fi
runs=$1
workers=$2
corpus=$3
shift 3
[ -x /usr/bin/time ] || { echo "$0: needs /usr/bin/time (Debian package: time)" >&2; exit 2; }
[ -d "$corpus" ] || { echo "$0: $corpus is not a folder" >&2; exit 2; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for _ in $(seq "$runs"); do
    for bin in "$@"; do
        dir=$(mktemp -d)
        /usr/bin/time -f "%e %U %S" -o "$dir/time" "$bin" ingest --config /dev/null \
            --watch "$corpus" --output "$dir/events.ndjson" --state "$dir/state.db" \
            --set "pipeline.workers=$workers" >/dev/null 2>&1
        read -r wall user sys <"$dir/time"
        awk -v b="$bin" -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {print b, w, u + s}' >>"$results"
        rm -rf "$dir"
    done
done

# The median, then the range: "0.74 (0.70-0.81)".
median() { sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m " (" v[1] "-" v[NR] ")"}'; }
for bin in "$@"; do
    wall=$(awk -v b="$bin" '$1 == b {print $2}' "$results" | median)
    cpu=$(awk -v b="$bin" '$1 == b {print $3}' "$results" | median)
    echo "$bin: $workers worker(s), $runs runs: median wall ${wall} s, median CPU ${cpu} s"
done
