#!/usr/bin/env bash
# tests/bench/bench_dicom.sh - phiscan strip and scan on DICOM against GDCM's gdcmanon
# and DCMTK's dcmodify doing the equivalent Basic Profile work, in one run.
#
# Sets, generated here (explicit VR little endian CT, one study and one series each,
# patient name, ID, birth date, institution, station, device serial, dates):
#   small  BENCH_DCM_SMALL files of about 40 KB (default 1000)
#   large  BENCH_DCM_LARGE slices of 512 x 512 x 16 bit, about 0.5 MB (default 200)
# Tools:
#   phiscan strip -j1 / -jN   Basic Profile, keyed UIDs, manifest, pixel check
#   phiscan scan  -j1         header read only
#   gdcmanon -e               GDCM's Basic Profile (needs a certificate: made here)
#   dcmodify                  one -ea/-ma per Table E.1-1 row (594 operations), UIDs
#                             left alone (dcmodify can only make new random ones)
#   cp -r                     no de-identification at all: what writing the copies
#                             costs on this disk, the floor of any tool that writes them
#   gdcmanon + sha256sum      gdcmanon, then sha256sum of every input and output: an
#                             audit trail like the one phiscan's manifest carries (the
#                             copy's SHA-256, the input's keyed digest and the pixel
#                             hash), for scale only: the ratio is against gdcmanon alone
# Prints seconds (best of RUNS), files/s and ratios; peak RSS of phiscan.  Exit 0
# when every tool ran, 1 when one is missing or failed.
#
# The sets and every output live on tmpfs (/dev/shm; TMPDIR when there is none), so
# the figures are the tools' work, not the file system's: on this VM's ext4, creating
# files after many deletes was half of a strip's time.  Every tool gets the same disk.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
SMALL=${BENCH_DCM_SMALL:-1000}
LARGE=${BENCH_DCM_LARGE:-200}
RUNS=${RUNS:-3}
TABLE=rules/dicom/annex-e.tsv
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '%s\n' "$*"; }
fail=0
for t in gdcmanon dcmodify openssl python3; do
	command -v "$t" >/dev/null || { say "bench_dicom: $t is missing"; fail=1; }
done
[ "$fail" = 0 ] || exit 1

python3 "$(dirname "$0")/gen_dicom.py" "$work" "$SMALL" "$LARGE"

head -c 32 /dev/urandom > "$work/key"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/cert.pem" -days 30 \
	-subj /CN=bench >/dev/null 2>&1
# dcmodify: one operation per concrete Table E.1-1 row (X erase, Z/Z-D empty, D dummy)
mapfile -t OPS < <(awk -F'\t' '!/^#/ && $1 !~ /X|G/ && $1 !~ /^\((0000|0002|FFFC)/ {
	t = toupper($1); a = $4
	if (a ~ /^X/) { print "-ea"; print t }
	else if (a == "Z" || a == "Z/D") { print "-ma"; print t "=" }
	else if (a == "D") { print "-ma"; print t "=ANON" } }' "$TABLE")

best() { # best wall seconds of RUNS runs of "$@" (after a warm-up), each in a fresh dir
	local b="" s e t
	for ((r = 0; r <= RUNS; r++)); do
		rm -rf "$work/out"
		s=$(date +%s.%N)
		local rc=0
		"$@" >/dev/null 2>&1 || rc=$?
		((rc <= 1)) || { echo FAIL; return; } # phiscan exits 1 when it found (and replaced) PHI
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
		((r == 0)) && continue
		if [[ -z $b ]] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
	done
	echo "$b"
}
gdcm_sha_run() { # gdcmanon, then the input and output hashes a manifest would carry
	gdcmanon -e -c "$work/cert.pem" --continue -r -i "$1" -o "$work/out" &&
		find "$1" "$work/out" -name '*.dcm' -exec sha256sum {} + >/dev/null
}
dcmodify_run() { # copies, then dcmodify in place (it edits originals)
	cp -r "$1" "$work/out"
	find "$work/out" -name '*.dcm' -exec dcmodify -nb -ie -imt -ep "${OPS[@]}" {} +
}
rss() { # peak RSS of one run, MiB
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.1f", $1 / 1024 }'
}

J=$(nproc)
say "== DICOM: phiscan against gdcmanon (GDCM $(dpkg-query -W -f '${Version}' libgdcm-tools 2>/dev/null || echo '?')) and dcmodify (DCMTK $(dpkg-query -W -f '${Version}' dcmtk 2>/dev/null || echo '?')), best of $RUNS =="
printf '%-8s %6s %9s %9s %9s %9s %9s %9s %9s %9s %10s %10s\n' set files "scan j1" "strip j1" "strip j$J" gdcmanon "gdcm+sha" dcmodify "cp -r" "MB" "strip/gdcm" "scan/strip"
for set in small large; do
	in="$work/$set"
	n=$(find "$in" -name '*.dcm' | wc -l)
	mb=$(du -sm "$in" | cut -f1)
	ts=$(best "$PHISCAN" scan -q --no-progress -j 1 "$in")
	t1=$(best "$PHISCAN" strip -q --no-progress -j 1 --key "$work/key" -o "$work/out" "$in")
	tn=$(best "$PHISCAN" strip -q --no-progress -j "$J" --key "$work/key" -o "$work/out" "$in")
	tg=$(best gdcmanon -e -c "$work/cert.pem" --continue -r -i "$in" -o "$work/out")
	th=$(best gdcm_sha_run "$in")
	td=$(best dcmodify_run "$in")
	tc=$(best cp -r "$in" "$work/out")
	for v in "$ts" "$t1" "$tn" "$tg" "$th" "$td" "$tc"; do [[ $v == FAIL ]] && fail=1; done
	r1=$(awk -v a="$tg" -v b="$t1" 'BEGIN { if (b > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "n/a" }')
	r2=$(awk -v a="$t1" -v b="$ts" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }')
	printf '%-8s %6d %9s %9s %9s %9s %9s %9s %9s %9s %10s %10s\n' "$set" "$n" "$ts" "$t1" "$tn" "$tg" "$th" "$td" "$tc" "$mb" "$r1" "$r2"
	fps=$(awk -v n="$n" -v t="$t1" 'BEGIN { if (t > 0) printf "%.0f", n / t }')
	fpg=$(awk -v n="$n" -v t="$tg" 'BEGIN { if (t + 0 > 0) printf "%.0f", n / t; else print "n/a" }')
	say "  $set: phiscan strip $fps files/s on 1 thread, gdcmanon $fpg files/s; phiscan peak RSS: scan $(rss "$PHISCAN" scan -q --no-progress -j 1 "$in") MiB, strip $(rm -rf "$work/out"; rss "$PHISCAN" strip -q --no-progress -j 1 --key "$work/key" -o "$work/out" "$in") MiB"
done
# what each tool left behind in one small file (values never printed: only counts)
rm -rf "$work/out" "$work/o1" "$work/o2"
"$PHISCAN" strip -q --no-progress --key "$work/key" -o "$work/o1" "$work/small" >/dev/null || true
gdcmanon -e -c "$work/cert.pem" --continue -r -i "$work/small" -o "$work/o2" >/dev/null 2>&1 || true
for t in o1 o2; do
	f=$(find "$work/$t" -name 'ct_00000.dcm' | head -1)
	left=$(dcmdump -q "$f" 2>/dev/null | grep -c -e Gonzalez -e MRN-448812 -e 19610314 -e 'Bright Smile' -e CBCT-ROOM2 -e SN-CB-99812 -e 20250724 || true)
	series=$(for g in "$work/$t"/*/*.dcm "$work/$t"/*.dcm; do [ -f "$g" ] && dcmdump -q +P 0020,000e "$g" 2>/dev/null; done | sort -u | wc -l)
	say "  $( [ $t = o1 ] && echo phiscan || echo gdcmanon ): planted values left in ct_00000.dcm: $left; distinct Series Instance UIDs in the small set: $series"
done
exit "$fail"
