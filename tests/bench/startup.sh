#!/usr/bin/env bash
# tests/bench/startup.sh - phiscan's fixed start-up cost: CPU time of a scan of an
# empty directory, before any file is read.  Several binaries are measured side by
# side, interleaved round by round, so a busy machine slows them all alike.
#
# Usage: tests/bench/startup.sh [BINARY...]      (default: ./phiscan)
#   ROUNDS   rounds (default 10); each round runs every binary RUNS times
#   RUNS     runs per binary per round (default 10)
# A binary with rules/default.yaml next to it runs with that data directory (so one
# binary can be compared with itself on another pack: copy it into a directory
# holding rules/); any other runs with PHISCAN_DATA set to this repository.
#
# Prints, per binary, the median and the minimum over rounds of the mean task-clock
# (ms of CPU, `perf stat -e task-clock`) and the same for wall time, then each
# binary's median as a ratio of the first's.  The prefilter cache is warm: one
# untimed run per binary first (PHISCAN_CACHE_DIR is left as the environment has it).
set -euo pipefail

ROUNDS=${ROUNDS:-10}
RUNS=${RUNS:-10}
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || set -- ./phiscan
command -v perf >/dev/null || { echo "startup.sh: perf is not installed" >&2; exit 1; }
empty=$(mktemp -d)
out=$(mktemp -d)
trap 'rm -rf "$empty" "$out"' EXIT

# run BINARY ARGS...: with PHISCAN_DATA unset when the binary has its own rules/
run() {
	if [ -f "$(dirname "$1")/rules/default.yaml" ]; then
		(unset PHISCAN_DATA; "$@")
	else
		(export PHISCAN_DATA=$repo; "$@")
	fi
}
for b in "$@"; do
	[ -x "$b" ] || { echo "startup.sh: $b: not an executable" >&2; exit 2; }
	run "$b" scan -q --no-progress "$empty" ||
		{ echo "startup.sh: $b: the empty scan failed" >&2; exit 1; }
done
for ((r = 0; r < ROUNDS; r++)); do
	i=0
	for b in "$@"; do
		if [ -f "$(dirname "$b")/rules/default.yaml" ]; then
			(unset PHISCAN_DATA; perf stat -x, -e task-clock -r "$RUNS" -o "$out/stat" \
				"$b" scan -q --no-progress "$empty")
		else
			(export PHISCAN_DATA=$repo; perf stat -x, -e task-clock -r "$RUNS" -o "$out/stat" \
				"$b" scan -q --no-progress "$empty")
		fi
		# task-clock line: value,unit,event,... ; elapsed time is not in -x output,
		# so wall time is measured by the shell around one more run.
		cpu=$(awk -F, '$3 ~ /task-clock/ {print $1}' "$out/stat")
		t0=$(date +%s%N)
		run "$b" scan -q --no-progress "$empty"
		t1=$(date +%s%N)
		echo "$cpu $(((t1 - t0) / 1000))" >>"$out/$i"
		i=$((i + 1))
	done
done

printf '%-40s %12s %12s %12s %12s %8s\n' binary "cpu-median" "cpu-min" "wall-median" "wall-min" ratio
base=""
i=0
for b in "$@"; do
	med() { sort -n | awk '{v[NR]=$1} END {printf "%.2f %.2f\n", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2, v[1]}'; }
	read -r cmed cmin < <(awk '{print $1}' "$out/$i" | med)
	read -r wmed wmin < <(awk '{print $2/1000}' "$out/$i" | med)
	[ -n "$base" ] || base=$cmed
	printf '%-40s %9s ms %9s ms %9s ms %9s ms %7.2fx\n' "$b" "$cmed" "$cmin" "$wmed" "$wmin" \
		"$(awk -v a="$cmed" -v b="$base" 'BEGIN {print a / b}')"
	i=$((i + 1))
done
