#!/usr/bin/env bash
# make test-samples: the real public 3Shape HPS .dcm files and the converter-written
# STL in ../shared/samples/dental (origins in its README; never copied here).
# Checks: detection (hps, stl); the four real scans report their scanner serial
# number as a device value, the negative control (Hole3x5) and the SourceApp build
# dates (Handle) nothing; strip without
# --strip-hps is report-only for files with findings and verbatim for clean ones;
# strip --strip-hps --verify keeps Packed_geometry, FacetMarks, TextureData2,
# SignatureHash and the EKID/PackageLockList properties byte-identical (hashed here
# independently of phiscan) and re-scans clean; STL bytes 80..EOF identical, from a
# file and through `phiscan filter`.  No value is ever printed.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
DENTAL=${DENTAL:-../shared/samples/dental}
if [ ! -d "$DENTAL" ]; then
	echo "samples_mesh: $DENTAL not found: skipped"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "samples_mesh: FAIL: $*"; fail=$((fail + 1)); }

mkdir -p "$work/in"
cp "$DENTAL"/*.dcm "$DENTAL"/*.stl "$work/in/"
chmod u+w "$work/in"/*

# 1. scan: formats, serial numbers, the negative control
set +e
timeout 120 "$PHISCAN" scan --format json --no-progress "$work/in" > "$work/scan.jsonl"
rc=$?
set -e
[ "$rc" = 1 ] && ok || bad "scan exit $rc (want 1)"
summary=$(grep '"type":"summary"' "$work/scan.jsonl")
grep -q '"hps":{"scanned":6,"skipped":0,"unreadable":0' <<<"$summary" && ok || bad "not all 6 .dcm read as hps"
grep -q '"stl":{"scanned":1,"skipped":0,"unreadable":0' <<<"$summary" && ok || bad "the STL not read as stl"
for b in Scan-01__Scan.dcm real-world__scan_012.dcm real-world__scan_039.dcm real-world__scan_040.dcm; do
	grep -F "\"path\":\"$work/in/$b\"" "$work/scan.jsonl" | grep '"type":"finding"' |
		grep '"field":"Property ScannerSerialNumber"' | grep -q '"class":"device"' &&
		ok || bad "$b: serial number not reported as a device"
done
# SourceApp dates are software build dates (README): not findings
for b in Hole3x5__Hole_3x5.dcm Handle__HandleAngledLarge.dcm; do
	if grep -F "$b" "$work/scan.jsonl" | grep -q '"type":"finding"'; then
		bad "$b has findings (want none: no serial, SourceApp build dates only)"
	else ok; fi
done
grep '"type":"finding"' "$work/scan.jsonl" | grep -q 'SourceApp' && bad "a SourceApp finding" || ok
grep -q '"value":' "$work/scan.jsonl" && bad "a value printed without --show-values" || ok

# 2. strip without --strip-hps: report-only
set +e
"$PHISCAN" strip -q --no-progress "$work/in" -o "$work/ro" > "$work/ro.err" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && ok || bad "report-only strip exit $rc (want 2)"
[ ! -e "$work/ro/Scan-01__Scan.dcm" ] && ok || bad "report-only strip wrote a scan with a serial number"
grep -F "$work/in/Scan-01__Scan.dcm: error: 3Shape HPS is report-only" "$work/ro.err" >/dev/null && ok ||
	bad "report-only strip: no message naming the file and the reason"
for b in Hole3x5__Hole_3x5.dcm Handle__HandleAngledLarge.dcm; do
	cmp -s "$work/in/$b" "$work/ro/$b" && ok || bad "$b (clean) was not copied verbatim"
done

# 3. strip --strip-hps --verify: protected elements byte-identical
set +e
"$PHISCAN" strip -q --no-progress --verify --strip-hps "$work/in" -o "$work/out" > /dev/null 2> "$work/out.err"
rc=$?
set -e
[ "$rc" = 1 ] && ok || bad "strip --strip-hps exit $rc (want 1): $(head -c 300 "$work/out.err")"
protected() {
	python3 - "$1" <<'PY'
import hashlib, re, sys
d = open(sys.argv[1], 'rb').read()
h = hashlib.sha256()
pat = rb'<(Packed_geometry|FacetMarks|TextureData2|SignatureHash|PackageLockList)\b.*?</\1>' \
      rb'|<Property name="(?:EKID|PackageLockList)"[^>]*/>'
n = 0
for m in re.finditer(pat, d, re.S):
    h.update(m.group(0)); n += 1
print(n, h.hexdigest())
PY
}
for f in "$work"/in/*.dcm; do
	b=$(basename "$f")
	a=$(protected "$f")
	o=$(protected "$work/out/$b" 2>/dev/null || echo missing)
	[ "${a%% *}" -ge 1 ] || bad "$b: fewer protected elements than expected"
	[ "$a" = "$o" ] && ok || bad "$b: protected elements differ after strip"
done
grep -c '"geometry_verified": "yes"' "$work/out/phiscan-manifest.json" | grep -qx 7 && ok ||
	bad "the manifest does not verify all 7 files"
if grep -o '"geometry_sha256_in": "[0-9a-f]*", "geometry_sha256_out": "[0-9a-f]*"' "$work/out/phiscan-manifest.json" |
	sed -E 's/.*in": "([0-9a-f]*)".*out": "([0-9a-f]*)"/\1 \2/' | awk '$1 != $2 {exit 1}'; then ok; else
	bad "a geometry hash differs in the manifest"
fi
for f in "$work"/in/*.dcm; do
	b=$(basename "$f")
	cmp -s <(grep -o 'SourceApp[^/]*' "$f") <(grep -o 'SourceApp[^/]*' "$work/out/$b") && ok ||
		bad "$b: SourceApp changed by --strip-hps"
done
for sn in $(grep -ho 'ScannerSerialNumber" value="[^"]*"' "$work"/in/*.dcm | sed 's/.*value="//; s/"//' | sort -u); do
	grep -rqF "$sn" "$work/out" && bad "a serial number survived the strip" || ok
done
set +e
"$PHISCAN" scan -q --no-progress "$work/out" > /dev/null 2>&1
rc=$?
set -e
[ "$rc" = 0 ] && ok || bad "re-scan of the stripped copy exit $rc (want 0)"

# 4. the STL: geometry identical, from a file and from stdin
stl=Hole3x5__dcm2stlapp_Hole_3x5.stl
cmp -s <(tail -c +81 "$work/in/$stl") <(tail -c +81 "$work/out/$stl") && ok || bad "STL bytes 80..EOF changed"
set +e
"$PHISCAN" filter < "$work/in/$stl" > "$work/filtered.stl" 2> /dev/null
rc=$?
set -e
[ "$rc" -le 1 ] && cmp -s <(tail -c +81 "$work/in/$stl") <(tail -c +81 "$work/filtered.stl") && ok ||
	bad "filter changed the STL geometry (exit $rc)"

echo "samples_mesh: $pass passed, $fail failed"
[ "$fail" = 0 ]
