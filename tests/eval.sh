#!/usr/bin/env bash
# make eval: generate the synthetic corpus, scan it, and print recall and precision
# per class against the ground truth, in the default mode and with --safe-harbor.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
GENCASE=${GENCASE:-build/gencase}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$GENCASE" cases "$work/corpus" --seed "${SEED:-1}" >/dev/null
# the ground truth is not part of the corpus: scanned, its byte offsets read as ZIP codes
mv "$work/corpus/truth.tsv" "$work/truth.tsv"
set +e
"$PHISCAN" scan --format json --no-progress "$work/corpus" > "$work/default.jsonl"
rc1=$?
"$PHISCAN" scan --safe-harbor --format json --no-progress "$work/corpus" > "$work/sh.jsonl"
rc2=$?
set -e
if [ "$rc1" -gt 1 ] || [ "$rc2" -gt 1 ]; then
	echo "eval: phiscan failed (exit $rc1 / $rc2)" >&2
	exit 2
fi
echo "== default scan =="
"$GENCASE" eval "$work/truth.tsv" "$work/default.jsonl" ${EVAL_FLAGS:-}
echo
echo "== --safe-harbor scan =="
"$GENCASE" eval "$work/truth.tsv" "$work/sh.jsonl" --safe-harbor ${EVAL_FLAGS:-}
