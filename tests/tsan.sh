#!/usr/bin/env bash
# make test-tsan: the pool stress program and the whole scanner (walk, pool,
# workers, reorder buffer, reporter) under ThreadSanitizer; any report fails the
# run (halt_on_error).  The JSON report must be identical for 1, 2, 8 and 32 threads.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan-tsan}
GENCASE=${GENCASE:-build-tsan/gencase}
STRESS=${STRESS:-build-tsan/tsan-stress}
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(cd "$(dirname "$0")" && pwd)/tsan.supp ${TSAN_OPTIONS:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
if "$STRESS"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
"$GENCASE" cases "$work/c" --cases 40 >/dev/null
# PDF prescriptions: Poppler's documents opened on several workers at once
for i in $(seq 1 12); do
	python3 "$(dirname "$0")/badinput/make_case.py" pdf-rx-form "$work/c/zz-pdf$i"
	cp "$(dirname "$0")"/fuzz/seeds/fuzz_pdf/pdf-{ascii-only,incremental-update}.pdf "$work/c/zz-pdf$i/"
done
# a few files with thousands of findings each: workers stream them in walk order
mkdir -p "$work/c/zz-big"
for i in 1 2 3 4; do
	for k in $(seq 1 10); do find "$work/c" -name '*.md' -path '*case-*' -exec cat {} +; done > "$work/c/zz-big/notes$i.txt"
done
for j in 1 2 8 32; do
	set +e
	"$PHISCAN" scan --format json --no-progress -j "$j" "$work/c" > "$work/r$j.jsonl" 2> "$work/e$j"
	rc=$?
	set -e
	# drop the timing field, the only legitimately varying value
	sed -E 's/"seconds":[0-9.]+/"seconds":0/' "$work/r$j.jsonl" > "$work/n$j"
	if [ "$rc" -gt 1 ]; then
		echo "tsan: scan -j $j exited $rc"; cat "$work/e$j"; failed=$((failed + 1))
	elif ! cmp -s "$work/n1" "$work/n$j"; then
		echo "tsan: the report for -j $j differs from -j 1"; failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
head -c 32 /dev/urandom > "$work/key"  # DICOM strip remaps UIDs with a key
# (a PDF is scanned, then refused: exit 2 by design, so they are left out here)
"$PHISCAN" strip --no-progress -q -j 8 --key "$work/key" --strip-hps --exclude 'zz-pdf*' "$work/c" -o "$work/out" > /dev/null 2> "$work/es" && rc=0 || rc=$?
if [ "$rc" -gt 1 ]; then echo "tsan: strip -j 8 exited $rc"; cat "$work/es"; failed=$((failed + 1)); else passed=$((passed + 1)); fi
echo "tsan: $passed passed, $failed failed"
[ "$failed" = 0 ]
