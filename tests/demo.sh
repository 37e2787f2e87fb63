#!/usr/bin/env bash
# make demo: the main job on the bundled (generated) sample corpus: scan a folder of
# synthetic dental cases, then write a de-identified copy and re-scan it.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
GENCASE=${GENCASE:-build/gencase}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$GENCASE" cases "$work/cases" --cases 3 >/dev/null
rm -f "$work/cases"/truth*.tsv  # the ground truth is not part of a case
head -c 32 /dev/urandom > "$work/practice.key"  # keyed UIDs and pseudonyms (keep it secret)
echo "== phiscan scan (values masked) =="
"$PHISCAN" scan "$work/cases" || true
echo
echo "== phiscan strip --key practice.key -o clean =="
"$PHISCAN" strip -q --key "$work/practice.key" "$work/cases" -o "$work/clean" || true
echo
echo "== phiscan scan clean (the de-identified copy) =="
"$PHISCAN" scan -q "$work/clean" || true
