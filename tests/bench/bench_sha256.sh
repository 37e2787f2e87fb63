#!/usr/bin/env bash
# tests/bench/bench_sha256.sh - the DICOM strip's three manifest SHA-256 passes
# (input file, stored pixel bytes, output file of one 0.5 MB CT slice): OpenSSL EVP
# one message after another against formats/sha256.c's SHA-NI code on one, two and
# three interleaved streams (tests/bench/sha256_bench.c says what each method does).
#
# 1. The side-by-side table: every round times each method once, best of ROUNDS.
# 2. With perf: each method alone for PERF_ROUNDS rounds under `perf stat`: task-clock
#    and, where the VM exposes the counter, core cycles ("not supported" otherwise).
# A micro benchmark, not a test: exit 0 when it ran, 1 when the binary is missing,
# the CPU has no SHA-NI or the methods' digests differ.
set -euo pipefail
BENCH=${SHA256_BENCH:-build/sha256-bench}
ROUNDS=${ROUNDS:-300}
PERF_ROUNDS=${PERF_ROUNDS:-2000}
SIZE=${BENCH_SHA_SIZE:-524288}
if [ ! -x "$BENCH" ]; then
	echo "bench_sha256: $BENCH is missing (make build/sha256-bench)"
	exit 1
fi
echo "== SHA-256, the manifest's three passes (one 512x512x16 slice) =="
nice -n 0 "$BENCH" --size "$SIZE" --rounds "$ROUNDS"
if ! command -v perf >/dev/null; then
	echo "perf is missing: no perf stat figures"
	exit 0
fi
echo "perf stat, each method alone, $PERF_ROUNDS rounds:"
printf '%-12s %14s %18s %12s\n' method task-clock-ms cycles us/file
for m in openssl-x3 shani-x1 shani-x2+1 shani-x3; do
	out=$(mktemp)
	perf stat -x, -e task-clock,cycles -o "$out" "$BENCH" --size "$SIZE" --rounds "$PERF_ROUNDS" \
		--only "$m" >/dev/null
	tc=$(awk -F, '$3 == "task-clock" || $3 ~ /^task-clock/ {printf "%.1f", $1}' "$out")
	cy=$(awk -F, '$3 ~ /^cycles/ {print $1}' "$out")
	case $cy in '' | '<not supported>' | '<not counted>') cy="not supported" ;; esac
	us=$(awk -v t="$tc" -v r="$PERF_ROUNDS" 'BEGIN {printf "%.1f", t * 1000 / r}')
	printf '%-12s %14s %18s %12s\n' "$m" "$tc" "$cy" "$us"
	rm -f "$out"
done
