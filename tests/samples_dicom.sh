#!/usr/bin/env bash
# Real public DICOM files (../shared/samples/dicom, not part of this repository):
# strip them all and check the issue's invariants on every output -
#  - each file is written, or reported unreadable/skipped with a reason (never lost);
#  - the output re-reads with DCMTK's dcmdump with no warning the input lacked;
#  - the transfer syntax is the input's; the pixel data hash is unchanged (manifest);
#  - Patient Identity Removed is YES and the meta header names phiscan;
#  - a re-scan finds nothing but the burned-in-pixels residual risk;
#  - the same key gives the same UIDs on a second run.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
S=${SAMPLES:-../shared/samples}/dicom
if [ ! -d "$S" ]; then
	echo "samples_dicom: $S not found: skipped"
	exit 0
fi
command -v dcmdump >/dev/null || { echo "samples_dicom: dcmdump (dcmtk) is missing"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 32 /dev/urandom > "$work/key"
fail=0
bad() { echo "samples_dicom: $*"; fail=1; }

set +e
"$PHISCAN" strip --no-progress -q --format json --key "$work/key" -o "$work/out" "$S" > "$work/strip.jsonl"
rc=$?
"$PHISCAN" strip --no-progress -q --format json --key "$work/key" -o "$work/out2" "$S" > /dev/null
set -e
[ "$rc" -le 2 ] || bad "strip exited $rc"
man="$work/out/phiscan-manifest.json"
[ -f "$man" ] || { bad "no manifest"; exit 1; }

python3 - "$man" "$S" "$work" <<'EOF' || fail=1
import json, os, subprocess, sys
man, src, work = sys.argv[1:4]
m = json.load(open(man))
fail = 0
written = 0
def dump(path):
    p = subprocess.run(["dcmdump", "-q", "+P", "0002,0010", "+P", "0012,0062", "+P", "0002,0012",
                        "+P", "0008,0018", path], capture_output=True, text=True)
    warns = [l for l in p.stderr.splitlines() if l.startswith(("W:", "E:"))]
    return p.returncode, p.stdout, len(warns)
for f in m["files"]:
    if f["format"] != "dicom":
        continue
    if f["status"] in ("error", "skipped"):
        if not f.get("reason"):
            print("samples_dicom: %s: %s without a reason" % (f["input"], f["status"])); fail = 1
        continue
    written += 1
    out = f["output"]
    rc_in, d_in, w_in = dump(f["input"])
    rc_out, d_out, w_out = dump(out)
    if rc_out != 0 or w_out > w_in:
        print("samples_dicom: %s: dcmdump rc %d, %d warnings (input %d)" % (out, rc_out, w_out, w_in)); fail = 1
    ts_in = [l for l in d_in.splitlines() if "(0002,0010)" in l]
    ts_out = [l for l in d_out.splitlines() if "(0002,0010)" in l]
    facts = f.get("facts", {})
    if ts_in and ts_out and ts_in[0].split()[2] != ts_out[0].split()[2]:
        print("samples_dicom: %s: transfer syntax changed" % out); fail = 1
    if "pixels_sha256_in" in facts and facts["pixels_sha256_in"] != facts.get("pixels_sha256_out"):
        print("samples_dicom: %s: pixel data changed" % out); fail = 1
    if "[YES]" not in d_out:
        print("samples_dicom: %s: Patient Identity Removed is not YES" % out); fail = 1
    if "2.25.17399522243035690647548347680912124432" not in d_out:
        print("samples_dicom: %s: the meta header does not name phiscan" % out); fail = 1
    out2 = out.replace(work + "/out/", work + "/out2/")
    if os.path.exists(out2) and dump(out2)[1].split("(0008,0018)")[-1] != d_out.split("(0008,0018)")[-1]:
        print("samples_dicom: %s: SOP Instance UID differs between runs with one key" % out); fail = 1
print("samples_dicom: %d DICOM files written and checked" % written)
sys.exit(fail)
EOF

set +e
"$PHISCAN" scan --no-progress --format json "$work/out" > "$work/rescan.jsonl"
set -e
left=$(grep '"type":"finding"' "$work/rescan.jsonl" | grep '"format":"dicom"' | grep -vc '"rule":"burned-in-pixels"' || true)
[ "$left" = 0 ] || { bad "a re-scan of the stripped DICOM files still finds $left identifiers"; grep '"type":"finding"' "$work/rescan.jsonl" | grep '"format":"dicom"' | grep -v burned-in | head -5 | sed -E 's/"excerpt":"[^"]*"//'; }
if grep -q '"value":' "$work/strip.jsonl"; then bad "a value was printed without --show-values"; fi
if [ "$fail" = 0 ]; then echo "samples_dicom: 1 passed, 0 failed"; else echo "samples_dicom: 0 passed, 1 failed"; exit 1; fi
