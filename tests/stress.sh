#!/usr/bin/env bash
# stress.sh - issue 7: scan a tree of 50,000 mixed files with 1, 2, 8 and 32 threads
# and check the JSON report is the same every time, byte for byte.
#
# The tree: `gencase cases` (whole cases: DICOM, HPS, JPEG, PNG, TIFF, STL, PLY,
# OBJ, exocad/3Shape XML, JSON, HTML, RTF, text, zips) and, to reach the count
# quickly, copies of the cases' small files (every format but the large scans)
# into batch folders, each a case of its own; text, Markdown and CSV copies get a
# varied planted identifier so no two copies hold the same one.  Copies are real
# files (cp, never hard links).  Every top-level folder is a case (--case-depth 1).
#
# Normalisation before comparing: the summary's "seconds" (run time) is removed;
# nothing else.  Per thread count: wall time and peak RSS (GNU time).
#
# Environment: PHISCAN, GENCASE (binaries), STRESS_FILES (default 50000),
# STRESS_THREADS (default "1 2 8 32"), STRESS_DIR (parent of the temporary tree;
# default /dev/shm when writable), STRESS_KEEP=1 keeps it.
set -euo pipefail

PHISCAN=${PHISCAN:-./phiscan}
GENCASE=${GENCASE:-build/gencase}
FILES=${STRESS_FILES:-50000}
THREADS=${STRESS_THREADS:-1 2 8 32}
base=${STRESS_DIR:-}
if [ -z "$base" ]; then
	if [ -w /dev/shm ]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
fi
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "stress: GNU time (/usr/bin/time) is needed for peak RSS" >&2; exit 2; }

work=$(mktemp -d "$base/phiscan-stress.XXXXXX")
if [ "${STRESS_KEEP:-}" != 1 ]; then trap 'rm -rf "$work"' EXIT; fi
tree=$work/tree

# 1. whole cases: about a fifth of the files
cases=$(( FILES / 5 / 34 + 1 ))
t0=$(date +%s.%N)
"$GENCASE" cases "$work/gen" --cases "$cases" --seed 3 >/dev/null
mkdir -p "$tree"
mv "$work"/gen/case-* "$tree"/

# 2. copies of small files up to FILES, varied identifiers in the text ones
python3 - "$tree" "$FILES" <<'EOF'
import os, sys
tree, want = sys.argv[1], int(sys.argv[2])
have = sum(len(f) for _, _, f in os.walk(tree))
pool = []
for d in sorted(os.listdir(tree))[:60]:
    for dp, dns, fns in os.walk(os.path.join(tree, d)):
        dns.sort()
        for fn in sorted(fns):
            p = os.path.join(dp, fn)
            if os.path.getsize(p) <= 4096:
                with open(p, 'rb') as f:
                    pool.append((os.path.relpath(p, tree), f.read()))
if not pool:
    sys.exit("stress: no small files to copy")
given = ["Maria", "John", "Aiko", "Pedro", "Fatima", "Lars", "Chen", "Olga"]
family = ["Gonzalez", "Smith", "Tanaka", "Silva", "Haddad", "Berg", "Wang", "Ivanova"]
n, batch = 0, 0
while have + n < want:
    batch += 1
    for rel, data in pool:
        if have + n >= want:
            break
        dest = os.path.join(tree, "copies-%04d" % batch, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if rel.endswith((".txt", ".md", ".csv")):
            k = batch * 7919 + n
            line = "\nPatient: %s %s, MRN %08d, DOB: %02d/%02d/19%02d\n" % (
                given[k % 8], family[(k // 8) % 8], k, k % 12 + 1, k % 28 + 1, 40 + k % 60)
            enc = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}.get(data[:2], "utf-8")
            data = data + line.encode(enc)
        with open(dest, "wb") as f:
            f.write(data)
        n += 1
EOF
nfiles=$(find "$tree" -type f | wc -l)
t1=$(date +%s.%N)
printf 'stress: %d files (%s on disk) generated in %.1f s under %s\n' "$nfiles" \
	"$(du -sh "$tree" | cut -f1)" "$(echo "$t1 - $t0" | bc)" "$base"
[ "$nfiles" -ge "$FILES" ] || { echo "stress: only $nfiles files" >&2; exit 1; }

# 3. one scan per thread count; reports compared after dropping the run time
printf '| threads | seconds | peak RSS MiB | exit | findings | unreadable | report bytes |\n|---|---|---|---|---|---|---|\n'
first=""
fail=0
for j in $THREADS; do
	out=$work/report-$j.json
	set +e
	$TIME -f '%e %M' -o "$work/time-$j" "$PHISCAN" scan --no-progress --format json \
		--case-depth 1 -j "$j" "$tree" > "$out" 2> "$work/err-$j"
	rc=$?
	set -e
	if [ "$rc" -gt 2 ]; then
		echo "stress: -j $j exited $rc" >&2
		cat "$work/err-$j" >&2
		exit 1
	fi
	sed -E 's/"seconds":[0-9.eE+-]+,?//' "$out" > "$out.norm"
	read -r secs kb < <(tail -n 1 "$work/time-$j")
	findings=$(tail -n 1 "$out" | grep -o '"findings":[0-9]*' | head -n 1 | cut -d: -f2)
	unreadable=$(tail -n 1 "$out" | grep -o '"unreadable":[0-9]*' | head -n 1 | cut -d: -f2)
	printf '| %s | %s | %.1f | %s | %s | %s | %s |\n' "$j" "$secs" "$(echo "$kb / 1024" | bc -l)" \
		"$rc" "$findings" "$unreadable" "$(wc -c < "$out")"
	if [ -z "$first" ]; then
		first=$j
		first_rc=$rc
	elif ! cmp -s "$work/report-$first.json.norm" "$out.norm" || [ "$rc" != "$first_rc" ]; then
		echo "stress: the report at -j $j differs from -j $first (exit $rc vs $first_rc):" >&2
		diff "$work/report-$first.json.norm" "$out.norm" | head -n 6 >&2 || true
		fail=1
	fi
done
lines=$(wc -l < "$work/report-$first.json")
if [ "$fail" = 0 ]; then
	echo "stress: the $lines-line JSON reports are identical at -j ${THREADS// /, } (run time removed)"
fi
exit "$fail"
