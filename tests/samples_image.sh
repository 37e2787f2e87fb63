#!/usr/bin/env bash
# The real public images in ../shared/samples/images (exiftool's test images and
# PngSuite; origins in their README): scan them all, strip them all with --verify,
# and check the proofs of issue 5 on every copy:
#   - the copy re-scans with no finding (exit 0),
#   - it holds no metadata group but JFIF, ICC, Adobe and a minimal IFD0 Orientation
#     (exiftool -G1 lists what is left, when exiftool is installed),
#   - nothing after EOI / IEND,
#   - pixels decode identically (djpeg for JPEG; the manifest's decoded-identical
#     or pixel hashes otherwise),
#   - ICC and Orientation are present when the input had them,
#   - no planted value survives: every text the scan reported is absent from the copy
#     (checked with --show-values into a private file that never leaves this script).
# Skips cleanly when ../shared is absent.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
SAMPLES=${SAMPLES:-../shared/samples}/images
if [ ! -d "$SAMPLES" ]; then
	echo "samples_image: $SAMPLES not found: skipped"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
# only the image files (the folder also holds a DICOM and READMEs)
find "$SAMPLES" -type f \( -iname '*.jpg' -o -iname '*.png' -o -iname '*.tif' \) | sort > "$work/list"
while read -r f; do
	rel=${f#"$SAMPLES"/}
	mkdir -p "$work/in/$(dirname "$rel")"
	cp "$f" "$work/in/$rel"
done < "$work/list"
chmod -R u+w "$work/in"
n=$(wc -l < "$work/list")
fail=0
pass=0
check() { # name, condition-status
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else echo "samples_image: FAIL $1"; fail=$((fail + 1)); fi
}

set +e
"$PHISCAN" scan --no-progress --format json "$work/in" > "$work/scan.jsonl"
rc=$?
"$PHISCAN" scan --no-progress --format json --show-values "$work/in" > "$work/values.jsonl"
"$PHISCAN" strip --verify --no-progress "$work/in" -o "$work/out" > "$work/strip.txt" 2>&1
src=$?
"$PHISCAN" scan --no-progress --format json "$work/out" > "$work/rescan.jsonl"
rrc=$?
set -e
check "scan exits 1 (identifiers found), got $rc" "$([ "$rc" = 1 ]; echo $?)"
check "strip exits 0 or 1, got $src" "$([ "$src" -le 1 ]; echo $?)"
check "the stripped copies re-scan clean, got exit $rrc" "$([ "$rrc" = 0 ]; echo $?)"
unread=$(grep -c '"type":"unreadable"' "$work/scan.jsonl" || true)
check "every sample is scanned ($unread unreadable)" "$([ "$unread" = 0 ]; echo $?)"
findings=$(grep -c '"type":"finding"' "$work/scan.jsonl" || true)

jpeg_same=0 icc_kept=0 orient_kept=0 left=0
while read -r f; do
	rel=${f#"$SAMPLES"/}
	in="$work/in/$rel" out="$work/out/$rel"
	if [ ! -f "$out" ]; then
		check "$rel was written" 1
		continue
	fi
	case "$rel" in
	*.jpg)
		a=$(djpeg -ppm "$in" 2>/dev/null | sha256sum) b=$(djpeg -ppm "$out" 2>/dev/null | sha256sum)
		check "$rel decodes to the same pixels" "$([ "$a" = "$b" ]; echo $?)"
		jpeg_same=$((jpeg_same + 1))
		tail=$(python3 -c "import sys;d=open(sys.argv[1],'rb').read();print(len(d)-d.rfind(b'\xff\xd9')-2)" "$out")
		check "$rel ends at EOI" "$([ "$tail" = 0 ]; echo $?)"
		;;
	*.png)
		tail=$(python3 -c "import sys;d=open(sys.argv[1],'rb').read();print(len(d)-d.rfind(b'IEND')-8)" "$out")
		check "$rel ends at IEND" "$([ "$tail" = 0 ]; echo $?)"
		;;
	esac
	if command -v exiftool > /dev/null; then
		groups=$(exiftool -q -q -a -G1 -s "$out" | sed -E 's/^\[([^]]+)\].*/\1/' | sort -u |
		         grep -vxE 'ExifTool|System|File|Composite|JFIF|ICC-header|ICC_Profile|ICC-view|ICC-meas|Adobe|PNG|PNG-pHYs|IFD0|IFD1' || true)
		check "$rel keeps no metadata group (${groups//$'\n'/ })" "$([ -z "$groups" ]; echo $?)"
		ifd0=$(exiftool -q -q -a -G1 -s "$out" | grep '^\[IFD0\]' | grep -v 'Orientation' || true)
		case "$rel" in *.tif) ifd0="" ;; esac
		check "$rel keeps no IFD0 tag but Orientation" "$([ -z "$ifd0" ]; echo $?)"
		icc_in=$(exiftool -q -q -ICC_Profile:ProfileDescription -s3 "$in" || true)
		icc_out=$(exiftool -q -q -ICC_Profile:ProfileDescription -s3 "$out" || true)
		check "$rel keeps its ICC profile" "$([ "$icc_in" = "$icc_out" ]; echo $?)"
		[ -n "$icc_in" ] && icc_kept=$((icc_kept + 1))
		o_in=$(exiftool -q -q -n -IFD0:Orientation -s3 "$in" || true)
		o_out=$(exiftool -q -q -n -IFD0:Orientation -s3 "$out" || true)
		if [ -n "$o_in" ] && [ "$o_in" != 0 ]; then
			check "$rel keeps Orientation $o_in" "$([ "$o_in" = "$o_out" ]; echo $?)"
			orient_kept=$((orient_kept + 1))
		fi
	fi
done < "$work/list"

# no reported value is left in any copy (values >= 6 bytes; shorter ones are too
# common to test by substring)
python3 - "$work/values.jsonl" "$work/in" "$work/out" > "$work/left.txt" <<'EOF' || true
import json, sys, os
vals, inp, out = sys.argv[1], sys.argv[2], sys.argv[3]
left = 0
for line in open(vals, encoding='utf-8', errors='replace'):
    r = json.loads(line)
    if r.get('type') != 'finding' or 'value' not in r:
        continue
    v = r['value'].encode('utf-8')
    if len(v) < 6:
        continue
    p = r['path']
    rel = os.path.relpath(p, inp)
    o = os.path.join(out, rel)
    if os.path.exists(o) and v in open(o, 'rb').read():
        left += 1
print(left)
EOF
left=$(cat "$work/left.txt")
# every reported span holds its value (UTF-8, or UTF-16 for XP tags and UTF-16 XMP);
# binary values (GPS rationals, tIME) are excepted
python3 - "$work/values.jsonl" > "$work/spans.txt" <<'PY' || true
import json, sys
bad = 0
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    r = json.loads(line)
    if r.get('type') != 'finding' or r.get('start') is None or 'value' not in r:
        continue
    if 'GPS position' in (r.get('field') or '') or r.get('field') == 'tIME':
        continue
    d = open(r['path'], 'rb').read()[r['start']:r['end']]
    v = r['value']
    if d not in (v.encode('utf-8'), v.encode('utf-16le'), v.encode('utf-16be'),
                 v.encode('cp1252', 'replace')):
        bad += 1
print(bad)
PY
spans=$(cat "$work/spans.txt")
check "every reported span holds its value ($spans do not)" "$([ "$spans" = 0 ]; echo $?)"
check "no reported value survives in a copy ($left left)" "$([ "$left" = 0 ]; echo $?)"
verified=$(grep -o '"pixels_verify": "[a-z-]*"' "$work/out/phiscan-manifest.json" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "samples_image: $n images, $findings findings; stripped: $jpeg_same JPEG pixel-identical by djpeg, ICC kept on $icc_kept, Orientation kept on $orient_kept; --verify: $verified"
echo "samples_image: $pass passed, $fail failed"
[ "$fail" = 0 ]
