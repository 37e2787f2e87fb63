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
mv "$work/corpus/truth.tsv" "$work/corpus/truth-names.tsv" "$work/"
set +e
# --show-values: paths with identifiers are masked otherwise, and the truth names them
"$PHISCAN" scan --show-values --format json --no-progress "$work/corpus" > "$work/default.jsonl"
rc1=$?
"$PHISCAN" scan --show-values --safe-harbor --format json --no-progress "$work/corpus" > "$work/sh.jsonl"
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

echo
echo "== identifiers in file names: default scan =="
names_rc=0
python3 tests/names_truth.py "$work/truth-names.tsv" "$work/default.jsonl" "$work/corpus" || names_rc=1
echo
echo "== identifiers in file names: --safe-harbor scan =="
python3 tests/names_truth.py "$work/truth-names.tsv" "$work/sh.jsonl" "$work/corpus" --safe-harbor ||
	names_rc=1

# Strip the corpus (keyed: DICOM UIDs, the case code), re-scan the copies, and check
# every protected-region hash in the manifest (geometry, pixels) is unchanged.
echo
echo "== strip, then re-scan the copies =="
printf 'phiscan make eval key, not a secret' > "$work/key"
set +e
"$PHISCAN" strip --no-progress -q --key "$work/key" --strip-hps -o "$work/out" "$work/corpus" \
	> "$work/strip.txt" 2>&1
src=$?
"$PHISCAN" scan --format json --no-progress "$work/out" > "$work/rescan.jsonl"
set -e
python3 - "$work/out/phiscan-manifest.json" "$work/rescan.jsonl" "$src" <<'PY'
import collections, json, sys
man = json.load(open(sys.argv[1]))
done = ("written", "unchanged")
written = sum(1 for f in man["files"] if f.get("status") in done)
notw = collections.Counter("%s %s: %s" % (f.get("format"), f.get("status"), f.get("reason", ""))
                           for f in man["files"] if f.get("status") not in done)
pairs = same = 0
for f in man["files"]:
    facts = f.get("facts", {})
    for k, v in facts.items():
        if k.endswith("_sha256_in"):
            pairs += 1
            same += facts.get(k[:-2] + "out") == v
left = collections.Counter()
for line in open(sys.argv[2]):
    o = json.loads(line)
    if o.get("type") == "finding":
        left[o["rule"]] += 1
print("strip exit %s: %d files written or copied, others: %s" %
      (sys.argv[3], written, dict(notw) or "none"))
print("protected-region hashes unchanged: %d of %d" % (same, pairs))
risk = left.pop("burned-in-pixels", 0)
print("re-scan of the copies: %d identifiers left %s; %d burned-in pixel risk notes (by design:"
      " pixels are never edited)" % (sum(left.values()), dict(left) or "", risk))
sys.exit(0 if same == pairs and not left else 1)
PY
exit $names_rc
