#!/usr/bin/env bash
# tests/bench/bench_case.sh - whole dental cases: phiscan strip of a case tree of at
# least BENCH_CASE_MB (default 2048) against the pipeline a user would otherwise
# script from common tools, in one run:
#
#   cp -r TREE OUT                     (the tools below edit in place)
#   exiftool -all= -r  (JPEG/PNG/TIFF) Exif/XMP/IPTC/comments
#   dcmodify -nb -ie   (*.dcm)         one -ea/-ma per Table E.1-1 row, as in
#                                      bench_dicom.sh (no UID remapping: it cannot)
#   rg -P, each pattern (text files)   finds text identifiers; redacts nothing
#
# Cases, generated here: `gencase cases` (orders, notes, exocad/3Shape sidecars,
# Communicate JSON, photos, HPS, meshes, zips, named files), each joined by a CBCT
# series of 512x512x16-bit slices (0.5 MB each) and two large binary STL scans, with
# the patient in the DICOM header, the STL header and the file names.  Enough cases
# to pass BENCH_CASE_MB.  Prints wall seconds of each step, the ratio, and what
# each side left behind (re-scanned with phiscan); exit 1 when a step failed.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
GENCASE=${GENCASE:-build/gencase}
MB=${BENCH_CASE_MB:-2048}
SLICES=${BENCH_CASE_SLICES:-240}
STL_MB=${BENCH_CASE_STL_MB:-40}
JOBS=${JOBS:-$(nproc)}
TABLE=rules/dicom/annex-e.tsv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '%s\n' "$*"; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
fail=0
for t in exiftool dcmodify rg python3; do
	command -v "$t" >/dev/null || { say "bench_case: $t is missing"; fail=1; }
done
[ "$fail" = 0 ] || exit 1

per_case=$((SLICES / 2 + 2 * STL_MB + 1))
ncases=$(((MB + per_case - 1) / per_case))
"$GENCASE" cases "$work/gen" --seed 11 --cases "$ncases" >/dev/null
rm -f "$work/gen"/truth*.tsv
python3 - "$work/gen" "$ncases" "$SLICES" "$STL_MB" "$(dirname "$0")" <<'EOF'
import os, struct, sys
root, ncases, nslices, stl_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, sys.argv[5])
from gen_dicom import el, part10
pix = bytes((i * 37) & 0xFF for i in range(512 * 512 * 2))
tri = struct.pack("<12fH", *([0.25] * 12), 0)
names = [("Gonzalez", "Maria"), ("Nakamura", "Grace"), ("Oyelaran", "Tobiloba"), ("Peña", "José")]
for k in range(1, ncases + 1):
    case = os.path.join(root, "case-%03d" % k)
    fam, giv = names[k % len(names)]
    pid, uid = "MRN-%06d" % (448000 + k), "1.2.826.0.1.3680043.9.7777.%d" % k
    ct = os.path.join(case, "cbct"); os.makedirs(ct, exist_ok=True)
    for i in range(nslices):
        sop = "%s.3.%d" % (uid, i)
        ds = el(8,5,b"CS","ISO_IR 192") + el(8,0x16,b"UI","1.2.840.10008.5.1.4.1.1.2") + el(8,0x18,b"UI",sop) \
           + el(8,0x20,b"DA","20250724") + el(8,0x60,b"CS","CT") + el(8,0x80,b"LO","Bright Smile Dental") \
           + el(0x10,0x10,b"PN","%s^%s" % (fam, giv)) + el(0x10,0x20,b"LO",pid) + el(0x10,0x30,b"DA","19610314") \
           + el(0x18,0x1000,b"LO","SN-CB-99812") + el(0x20,0xD,b"UI",uid + ".1") + el(0x20,0xE,b"UI",uid + ".2") \
           + el(0x20,0x13,b"IS",str(i)) + el(0x28,2,b"US",struct.pack("<H",1)) + el(0x28,4,b"CS","MONOCHROME2") \
           + el(0x28,0x10,b"US",struct.pack("<H",512)) + el(0x28,0x11,b"US",struct.pack("<H",512)) \
           + el(0x28,0x100,b"US",struct.pack("<H",16)) + el(0x28,0x101,b"US",struct.pack("<H",12)) \
           + el(0x28,0x102,b"US",struct.pack("<H",11)) + el(0x28,0x103,b"US",struct.pack("<H",0)) \
           + el(0x7FE0,0x10,b"OW",pix)
        with open(os.path.join(ct, "slice-%04d.dcm" % i), "wb") as f:
            f.write(part10(ds, sop))
    ntri = stl_mb * 1024 * 1024 // 50
    for jaw in ("Upper", "Lower"):
        hdr = ("%s %s %s jaw scan" % (fam, giv, jaw)).encode()[:80].ljust(80, b" ")
        body = tri * ntri
        with open(os.path.join(case, "scan", "%s_%s_2025-07-24_%sJaw.stl" % (fam, giv, jaw)), "wb") as f:
            f.write(hdr + struct.pack("<I", ntri) + body)
EOF
bytes=$(du -sb "$work/gen" | cut -f1)
files=$(find "$work/gen" -type f | wc -l)
key="$work/key"
head -c 32 /dev/urandom > "$key"
mapfile -t OPS < <(awk -F'\t' '!/^#/ && $1 !~ /X|G/ && $1 !~ /^\((0000|0002|FFFC)/ {
	t = toupper($1); a = $4
	if (a ~ /^X/) { print "-ea"; print t }
	else if (a == "Z" || a == "Z/D") { print "-ma"; print t "=" }
	else if (a == "D") { print "-ma"; print t "=ANON" } }' "$TABLE")
"$PHISCAN" rules export > "$work/patterns.txt"
sync
now() { date +%s.%N; }

# phiscan: one command, every format, file names, the case sweep
t0=$(now)
rc=0
"$PHISCAN" strip --no-progress -q -j "$JOBS" --key "$key" --strip-hps -o "$work/p" "$work/gen" \
	>/dev/null 2>&1 || rc=$?
t1=$(now)
((rc <= 1)) || { say "bench_case: phiscan strip failed ($rc)"; fail=1; }
tp=$(calc "$t1 - $t0")

# the scripted pipeline
t0=$(now)
cp -r "$work/gen" "$work/s"
t1=$(now)
exiftool -q -q -all= -overwrite_original -r -ext jpg -ext jpeg -ext png -ext tif -ext tiff \
	"$work/s" >/dev/null 2>&1 || true
t2=$(now)
# DICOM only (3Shape's .dcm is XML: dcmodify refuses it), in batches
find "$work/s" -name '*.dcm' -print0 |
	xargs -0 -n 200 -P "$JOBS" dcmodify -nb -ie -imt -ep "${OPS[@]}" >/dev/null 2>&1 || true
t3=$(now)
# one pass per pattern: rg joins -f patterns into one alternation, which PCRE2 refuses
# for this pack (duplicate group names, compiled size); text files only, as a user would
while IFS= read -r pat; do
	rg --no-config -P -o -j "$JOBS" -g '*.txt' -g '*.md' -g '*.csv' -g '*.xml' -g '*.json' \
		-g '*.html' -g '*.3ox' -g '*.dentalProject' -g '*.constructionInfo' -e "$pat" "$work/s" \
		2>/dev/null || true
done < "$work/patterns.txt" > "$work/rg.txt"
t4=$(now)
tcp=$(calc "$t1 - $t0"); tex=$(calc "$t2 - $t1"); tdm=$(calc "$t3 - $t2"); trg=$(calc "$t4 - $t3")
ts=$(calc "$t4 - $t0")

left() { # identifiers a phiscan re-scan finds in a tree (burned-in risk notes aside)
	"$PHISCAN" scan --no-progress --format json -j "$JOBS" "$1" 2>/dev/null |
		grep '"type":"finding"' | grep -vc 'burned-in-pixels' || true
}
say "== whole cases: phiscan strip against a scripted pipeline, one run, $JOBS threads =="
say "tree: $ncases cases, $files files, $(calc "$bytes / 1e9") GB (CBCT slices, large STL scans, photos, orders, notes, zips)"
printf '%-44s %9s %10s\n' step seconds "GB/s"
printf '%-44s %9s %10s\n' "phiscan strip (all formats, names, sweep)" "$tp" "$(calc "$bytes / 1e9 / $tp")"
printf '%-44s %9s\n' "pipeline: cp -r" "$tcp"
printf '%-44s %9s\n' "pipeline: exiftool -all= -r (images)" "$tex"
printf '%-44s %9s\n' "pipeline: dcmodify, ${#OPS[@]} args per file (DICOM)" "$tdm"
printf '%-44s %9s\n' "pipeline: rg -P per pattern (find; no redaction)" "$trg"
printf '%-44s %9s %10s\n' "pipeline total" "$ts" "$(calc "$bytes / 1e9 / $ts")"
say "ratio pipeline/phiscan: $(calc "$ts / $tp")x"
say "identifiers a phiscan re-scan finds: phiscan output $(left "$work/p"), pipeline output $(left "$work/s") (rg printed $(wc -l < "$work/rg.txt") matches it cannot redact)"
exit "$fail"
