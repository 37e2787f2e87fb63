#!/usr/bin/env bash
# tests/bench/bench_image.sh - phiscan strip against the metadata strippers people use,
# on one folder of photos, in one run (issue 5 "Speed").
#
# Folder: BENCH_IMAGES JPEGs and as many PNGs (default 2000 each), cycling over the
# generated corpus images (corpus/gen_image.c: Exif with GPS and XP tags, XMP with
# XMP-DICOM, IPTC, COM, ICC, Orientation 6, a trailer; PNG text/eXIf/tIME/iCCP/gAMA)
# and, when ../shared/samples/images exists, the real public samples (exiftool's
# test JPEGs, PngSuite).
#
# Tools, each on a fresh copy of the folder, one wall-clock run each (process
# start-up included, as users run them):
#   phiscan strip -q DIR -o OUT -j 1           and with -j $(nproc)
#   exiftool -q -q -overwrite_original -all= DIR          (once over the folder)
#   jpegtran -copy none -outfile OUT/f f                  (per JPEG)
#   optipng -quiet -o0 -nx -nz -strip all -out OUT/f f    (per PNG)
# exiv2 is measured when installed (`exiv2 rm` per file).
# Then, on a few typical files, what each output keeps (ICC, Orientation, gAMA) or
# leaves behind (metadata groups exiftool still lists), and whether JPEG pixels are
# identical (djpeg).
#
# Then one large photo (about 11 MP of noise, 20 MB): bytes a scan and a strip read
# from disk (fincore after dropping the file from the page cache) and their time.
#
# Prints ms per file and the ratio of each peer's time to phiscan's (>1: phiscan is
# faster).  Exit 0 when every available tool ran; a missing peer is reported as
# skipped.  Installs nothing (Debian: libimage-exiftool-perl, libjpeg-turbo-progs,
# optipng).
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
GENCASE=${GENCASE:-build/gencase}
N=${BENCH_IMAGES:-2000}
SAMPLES=${SAMPLES:-../shared/samples}/images
PHISCAN=$(realpath "$PHISCAN")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$GENCASE" cases "$work/gen" --cases 40 --seed 5 > /dev/null
jp=() pn=()
while IFS= read -r f; do jp+=("$f"); done < <(find "$work/gen" -name '*.jpg' | sort)
while IFS= read -r f; do pn+=("$f"); done < <(find "$work/gen" -name '*.png' | sort)
if [ -d "$SAMPLES" ]; then
	while IFS= read -r f; do jp+=("$f"); done < <(find "$SAMPLES" -name '*.jpg' | sort)
	while IFS= read -r f; do pn+=("$f"); done < <(find "$SAMPLES" -name '*.png' | sort)
fi
mkdir -p "$work/src/jpg" "$work/src/png"
for ((i = 0; i < N; i++)); do
	cp "${jp[i % ${#jp[@]}]}" "$work/src/jpg/$(printf 'p%05d.jpg' "$i")"
	cp "${pn[i % ${#pn[@]}]}" "$work/src/png/$(printf 'p%05d.png' "$i")"
done
chmod -R u+w "$work/src"
jbytes=$(du -sb "$work/src/jpg" | cut -f1)
pbytes=$(du -sb "$work/src/png" | cut -f1)
echo "bench_image: $N JPEGs ($jbytes bytes, ${#jp[@]} distinct) and $N PNGs ($pbytes bytes, ${#pn[@]} distinct), $(nproc) CPUs"

now() { date +%s.%N; }
declare -A T
timeit() { # key, command...
	local key=$1
	shift
	local t0 t1
	t0=$(now)
	"$@" > /dev/null 2>&1 || true
	t1=$(now)
	T[$key]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
fresh() { rm -rf "$work/run"; cp -r "$work/src" "$work/run"; mkdir -p "$work/run/out"; }

per_file_jpegtran() { for f in "$work/run/jpg"/*.jpg; do jpegtran -copy none -outfile "$work/run/out/${f##*/}" "$f"; done; }
per_file_optipng() { for f in "$work/run/png"/*.png; do optipng -quiet -o0 -nx -nz -strip all -out "$work/run/out/${f##*/}" "$f"; done; }
per_file_exiv2() { for f in "$work/run/$1"/*; do exiv2 rm "$f"; done; }

results=()
for kind in jpg png; do
	fresh
	timeit "phiscan1-$kind" "$PHISCAN" strip -q -j 1 "$work/run/$kind" -o "$work/run/out/ph1"
	cp -r "$work/run/out/ph1" "$work/keep-ph-$kind"
	timeit "phiscanN-$kind" "$PHISCAN" strip -q -j "$(nproc)" "$work/run/$kind" -o "$work/run/out/phN"
	if command -v exiftool > /dev/null; then
		fresh
		timeit "exiftool-$kind" exiftool -q -q -overwrite_original -all= "$work/run/$kind"
		cp -r "$work/run/$kind" "$work/keep-exiftool-$kind"
	fi
	if command -v exiv2 > /dev/null; then
		fresh
		timeit "exiv2-$kind" per_file_exiv2 "$kind"
		cp -r "$work/run/$kind" "$work/keep-exiv2-$kind"
	fi
	fresh
	if [ "$kind" = jpg ] && command -v jpegtran > /dev/null; then
		timeit "jpegtran-$kind" per_file_jpegtran
		cp -r "$work/run/out" "$work/keep-jpegtran-$kind"
	fi
	if [ "$kind" = png ] && command -v optipng > /dev/null; then
		timeit "optipng-$kind" per_file_optipng
		cp -r "$work/run/out" "$work/keep-optipng-$kind"
	fi
done

printf '\n%-34s %5s %9s %9s %12s\n' "tool" "kind" "total s" "ms/file" "vs phiscan -j1"
for kind in jpg png; do
	base=${T[phiscan1-$kind]}
	for tool in phiscan1 phiscanN exiftool exiv2 jpegtran optipng; do
		key="$tool-$kind"
		[ -n "${T[$key]:-}" ] || continue
		case $tool in
		phiscan1) label="phiscan strip -j 1" ;;
		phiscanN) label="phiscan strip -j $(nproc)" ;;
		exiftool) label="exiftool -all= (one run)" ;;
		exiv2) label="exiv2 rm (per file)" ;;
		jpegtran) label="jpegtran -copy none (per file)" ;;
		optipng) label="optipng -strip all (per file)" ;;
		esac
		ms=$(awk -v t="${T[$key]}" -v n="$N" 'BEGIN { printf "%.3f", t * 1000 / n }')
		ratio=$(awk -v t="${T[$key]}" -v b="$base" 'BEGIN { printf "%.2f", (b > 0 ? t / b : 0) }')
		printf '%-34s %5s %9.2f %9.3f %11.1fx\n' "$label" "$kind" "${T[$key]}" "$ms" "$ratio"
	done
done
for p in exiv2; do command -v $p > /dev/null || echo "($p not installed: skipped)"; done

# What survives: one generated JPEG (ICC, Orientation 6), one generated PNG (gAMA,
# iCCP, eXIf Orientation 3), exiftool's MWG.jpg (Orientation 6) and ExifTool.jpg
# (Adobe RGB ICC, every segment kind, trailer) when the samples are there.
echo
echo "What each output keeps (+) or loses (-), and what metadata it leaves (exiftool -G1 groups):"
groups_left() {
	exiftool -q -q -a -G1 -s "$1" 2> /dev/null | sed -E 's/^\[([^]]+)\].*/\1/' | sort -u |
		grep -vxE 'ExifTool|System|File|Composite|JFIF|ICC-header|ICC_Profile|ICC-view|ICC-meas|Adobe|PNG|PNG-pHYs' |
		tr '\n' ' ' || true
}
report() { # label, file, original
	local f=$1 o=$2 label=$3 icc ori gam left same=""
	[ -f "$f" ] || { printf '  %-22s %-12s (no output)\n' "$label" "${o##*/}"; return; }
	icc=$(grep -caE 'ICC_PROFILE|iCCP' "$f" || true)
	[ "$icc" = 0 ] && icc=""
	ori=$(exiftool -q -q -n -IFD0:Orientation -s3 "$f" || true)
	gam=$(exiftool -q -q -PNG:Gamma -s3 "$f" || true)
	left=$(groups_left "$f")
	# a minimal IFD0 holding only Orientation is what phiscan writes on purpose
	if [[ $left == *IFD0* ]] && [ -z "$(exiftool -q -q -a -G1 -s "$f" | grep '^\[IFD0\]' | grep -v Orientation)" ]; then
		left=${left//IFD0/IFD0(Orientation only)}
	fi
	if [[ $f == *.jpg ]]; then
		if [ "$(djpeg -ppm "$f" 2> /dev/null | sha256sum)" = "$(djpeg -ppm "$o" 2> /dev/null | sha256sum)" ]; then same="pixels=" ; else same="PIXELS CHANGED"; fi
	fi
	printf '  %-22s %-14s ICC%s Orientation%s%s %s left: %s\n' "$label" "${o##*/}" \
		"$([ -n "$icc" ] && echo + || echo -)" "$([ -n "$ori" ] && echo "+($ori)" || echo -)" \
		"$([[ $o == *.png ]] && { [ -n "$gam" ] && echo " gAMA+" || echo " gAMA-"; })" "$same" "${left:-none}"
}
declare -A names
pick=("p00000.jpg")
pick_png=("p00000.png")
if [ -d "$SAMPLES" ]; then
	# the index of a sample in the cycle: generated files come first
	for s in MWG.jpg ExifTool.jpg; do
		for ((i = 0; i < ${#jp[@]}; i++)); do
			if [[ ${jp[i]} == */$s ]]; then
				pick+=("$(printf 'p%05d.jpg' "$i")")
				names[$(printf 'p%05d.jpg' "$i")]="= $s"
			fi
		done
	done
fi
if command -v exiftool > /dev/null; then
	for f in "${pick[@]}"; do
		o="$work/src/jpg/$f"
		echo " $f ${names[$f]:-generated} (input: ICC$(grep -qa ICC_PROFILE "$o" && echo + || echo -) Orientation $(exiftool -q -q -n -IFD0:Orientation -s3 "$o"))"
		report "$work/keep-ph-jpg/$f" "$o" "phiscan"
		report "$work/keep-exiftool-jpg/$f" "$o" "exiftool -all="
		report "$work/keep-jpegtran-jpg/$f" "$o" "jpegtran -copy none"
		[ -d "$work/keep-exiv2-jpg" ] && report "$work/keep-exiv2-jpg/$f" "$o" "exiv2 rm"
	done
	for f in "${pick_png[@]}"; do
		o="$work/src/png/$f"
		echo " $f (input: gAMA, iCCP, Orientation $(exiftool -q -q -n -IFD0:Orientation -s3 "$o"))"
		report "$work/keep-ph-png/$f" "$o" "phiscan"
		report "$work/keep-exiftool-png/$f" "$o" "exiftool -all="
		report "$work/keep-optipng-png/$f" "$o" "optipng -strip all"
		[ -d "$work/keep-exiv2-png" ] && report "$work/keep-exiv2-png/$f" "$o" "exiv2 rm"
	done
fi
# Identifiers left behind, counted the same way for every tool: phiscan's own scan of
# each tool's output folder (findings left, and in how many files).
echo
echo "Identifiers left in each tool's output (phiscan scan of the output folder):"
leftover() { # label, dir
	[ -d "$2" ] || return 0
	local j
	j=$("$PHISCAN" scan --format json --no-progress "$2" 2> /dev/null || true)
	printf '  %-34s %6s findings in %5s of %5s files\n' "$1" \
		"$(grep -c '"type":"finding"' <<< "$j" || true)" \
		"$(grep '"type":"finding"' <<< "$j" | sed -E 's/.*"path":"([^"]*)".*/\1/' | sort -u | wc -l)" \
		"$(find "$2" -type f \( -name '*.jpg' -o -name '*.png' \) | wc -l)"
}
leftover "input (before stripping)" "$work/src"
for kind in jpg png; do
	leftover "phiscan strip ($kind)" "$work/keep-ph-$kind"
	leftover "exiftool -all= ($kind)" "$work/keep-exiftool-$kind"
	leftover "exiv2 rm ($kind)" "$work/keep-exiv2-$kind"
done
leftover "jpegtran -copy none (jpg)" "$work/keep-jpegtran-jpg"
leftover "optipng -strip all (png)" "$work/keep-optipng-png"

# A large photo: a scan reads only the metadata segments and the last 64 KiB (the
# header-only path of formats/jpeg.c); a strip reads every byte.  Measured as bytes
# brought into the page cache (the file is dropped from the cache first; fincore
# counts what the run read) and wall time.  BENCH_BIG_MP sets the megapixels.
if command -v cjpeg > /dev/null && command -v fincore > /dev/null; then
	mp=${BENCH_BIG_MP:-11}
	bw=4000 bh=$((mp * 1000000 / 4000))
	mkdir -p "$work/big"
	big="$work/big/photo.jpg"
	{ printf 'P6\n%d %d\n255\n' "$bw" "$bh"; head -c $((bw * bh * 3)) /dev/urandom; } |
		cjpeg -quality 100 > "$big"
	exiftool -q -q -overwrite_original -Artist='Ann Example' \
		-Comment='Patient: Maria Lopez DOB 03/14/1961' "$big" 2> /dev/null || true
	sync "$big"
	drop() { dd if="$big" iflag=nocache count=0 status=none; }
	cached() { fincore -n -b "$big" | awk '{ print $1 }'; }
	echo
	echo "A large photo ($(stat -c %s "$big") bytes, ${bw}x${bh} noise, Exif Artist and a COM):"
	for mode in scan strip; do
		drop
		before=$(cached)
		t0=$(now)
		if [ "$mode" = scan ]; then
			"$PHISCAN" scan -q -j 1 "$big" > /dev/null 2>&1 || true
		else
			"$PHISCAN" strip -q -j 1 "$big" -o "$work/big/out-$RANDOM" > /dev/null 2>&1 || true
		fi
		t1=$(now)
		after=$(cached)
		printf '  phiscan %-5s %10s bytes read from disk (page cache %s -> %s), %s s wall\n' \
			"$mode" "$((after - before))" "$before" "$after" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
	done
else
	echo "(cjpeg or fincore not installed: large-photo read measurement skipped)"
fi

# phiscan: every output re-scans clean
set +e
"$PHISCAN" scan -q "$work/keep-ph-jpg" "$work/keep-ph-png" > /dev/null 2>&1
rc=$?
set -e
echo
echo "phiscan outputs re-scanned: exit $rc (0 = no finding left)"
[ "$rc" = 0 ]
