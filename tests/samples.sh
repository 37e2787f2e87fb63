#!/usr/bin/env bash
# Scan the real public sample files in ../shared/samples (not copied into this
# repository).  Until each format issue lands, most of them are binary formats that
# no handler claims yet: this test checks the promises that hold for every file
# today - no crash, no hang, every file accounted for in the report (scanned,
# skipped with a reason, or unreadable), and the exit code agrees with the report.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
SAMPLES=${SAMPLES:-../shared/samples}
if [ ! -d "$SAMPLES" ]; then
	echo "samples: $SAMPLES not found: skipped"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
set +e
timeout 300 "$PHISCAN" scan --format json --no-progress -j 2 "$SAMPLES" > "$work/report.jsonl"
rc=$?
set -e
fail=0
if [ "$rc" -gt 2 ]; then
	echo "samples: phiscan exited $rc (crash or timeout)"
	exit 1
fi
want=$(find "$SAMPLES" -type f | wc -l)
# one summary line; files it counted must equal the files on disk
summary=$(grep '"type":"summary"' "$work/report.jsonl")
read -r got scanned skipped unreadable findings < <(sed -E 's/^\{"type":"summary","files":([0-9]+),"scanned":([0-9]+),"skipped":([0-9]+),"unreadable":([0-9]+),"findings":([0-9]+),.*/\1 \2 \3 \4 \5/' <<<"$summary")
if [ "$got" != "$want" ]; then
	echo "samples: report counts $got files, the tree holds $want"
	fail=1
fi
expect=0
[ "$findings" -gt 0 ] && expect=1
[ "$unreadable" -gt 0 ] && expect=2
if [ "$rc" != "$expect" ]; then
	echo "samples: exit code $rc, but the summary implies $expect"
	fail=1
fi
# every skipped or unreadable file carries a reason
if grep -E '"type":"(skipped|unreadable)"' "$work/report.jsonl" | grep -qv '"reason":"[^"]'; then
	echo "samples: a skipped or unreadable file has no reason"
	fail=1
fi
# no identifier value leaks into a report made without --show-values
if grep -q '"value":' "$work/report.jsonl"; then
	echo "samples: a value was printed without --show-values"
	fail=1
fi
echo "samples: $want files: $scanned scanned, $skipped skipped, $unreadable unreadable, $findings findings (exit $rc)"
if [ "$fail" = 0 ]; then echo "samples: 1 passed, 0 failed"; else echo "samples: 0 passed, 1 failed"; exit 1; fi
