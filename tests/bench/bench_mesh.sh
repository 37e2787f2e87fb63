#!/usr/bin/env bash
# tests/bench/bench_mesh.sh - phiscan on meshes: what a scan of a large binary STL
# costs (time and bytes read against the file size), throughput on a set of large
# STL and PLY files (files/s and GB/s of case data) for scan and strip, and strip of
# one STL against ADMesh (the Debian `admesh` package) rewriting it as binary STL,
# the closest peer: it also writes a new header, but parses and re-writes every
# facet.
#
# Data, generated here: one BENCH_MESH_BIG_MB binary STL (default 200), and
# BENCH_MESH_FILES binary STL plus as many binary PLY files of BENCH_MESH_MB each
# (defaults 10 and 20), each with a patient name and birth date in its header or
# comments.  The PLY files have face lists, so their scan walks the body (only a
# header that fixes the body size exactly lets a scan stop at end_header).  Bytes read are rchar from /proc (every read and pread, cached or not).
# Prints seconds (best of RUNS), files/s, GB/s; exit 1 when a step failed.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
BIG=${BENCH_MESH_BIG_MB:-200}
NFILES=${BENCH_MESH_FILES:-10}
MB=${BENCH_MESH_MB:-20}
RUNS=${RUNS:-3}
JOBS=${JOBS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '%s\n' "$*"; }
# calc EXPR [DIGITS]: arithmetic with awk (bc is not in the CI package list)
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

python3 - "$work" "$BIG" "$NFILES" "$MB" <<'EOF'
import os, struct, sys
root, big, nfiles, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
facet = b"".join(struct.pack("<12fH", *(float((i * 7 + k) % 97) / 8 for k in range(12)), 0) for i in range(1000))
def stl(path, size_mb):
    n = (size_mb * 1000000 - 84) // 50
    hdr = b"Patient: Maria Gonzalez DOB: 03/14/1961".ljust(80, b"\0")
    with open(path, "wb") as f:
        f.write(hdr + struct.pack("<I", n))
        full, rest = divmod(n, 1000)
        for _ in range(full): f.write(facet)
        f.write(facet[:50 * rest])
def ply(path, size_mb):
    nv = size_mb * 1000000 // 2 // 12
    nf = (size_mb * 1000000 - nv * 12) // 13
    hdr = ("ply\nformat binary_little_endian 1.0\ncomment Patient: Maria Gonzalez\n"
           "element vertex %d\nobj_info DOB: 03/14/1961\nproperty float x\nproperty float y\n"
           "property float z\nelement face %d\ncomment TextureFile Gonzalez_Maria.png\n"
           "property list uchar int vertex_indices\nend_header\n" % (nv, nf)).encode()
    v = struct.pack("<3f", 1.0, 2.0, 3.0) * 4096
    f3 = struct.pack("<B3i", 3, 0, 1, 2) * 4096
    with open(path, "wb") as f:
        f.write(hdr)
        for blk, cnt in ((v, nv), (f3, nf)):
            unit = len(blk) // 4096
            full, rest = divmod(cnt, 4096)
            for _ in range(full): f.write(blk)
            f.write(blk[:unit * rest])
os.makedirs(os.path.join(root, "big")); os.makedirs(os.path.join(root, "set"))
stl(os.path.join(root, "big", "upper.stl"), big)
for i in range(nfiles):
    stl(os.path.join(root, "set", "case%02d-upper.stl" % i), mb)
    ply(os.path.join(root, "set", "case%02d-lower.ply" % i), mb)
EOF

bigf="$work/big/upper.stl"
bigsize=$(stat -c %s "$bigf")
setbytes=$(du -sb "$work/set" | cut -f1)
setfiles=$((2 * NFILES))

# best wall time of RUNS runs of "$@" (stdout/stderr discarded); exit codes 0/1 are fine
best() {
	local b="" t0 t1 t rc
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		set +e
		"$@" > /dev/null 2>&1
		rc=$?
		set -e
		t1=$(date +%s.%N)
		[ "$rc" -le 1 ] || { say "bench_mesh: '$*' exited $rc"; exit 1; }
		t=$(calc "$t1 - $t0" 6)
		if [ -z "$b" ] || [ "$(calc "$t < $b" 0)" = 1 ]; then b=$t; fi
	done
	printf '%.3f' "$b"
}
# bytes read (rchar) by "$@", children included
rchar() {
	bash -c '"$@" > /dev/null 2>&1; grep ^rchar /proc/$$/io | cut -d" " -f2' _ "$@"
}

say "== bench_mesh: ${BIG} MB binary STL; set of $setfiles files ($NFILES STL + $NFILES PLY, $MB MB each, $((setbytes / 1000000)) MB); $(nproc) CPUs; best of $RUNS"
say
say "-- scan of one large binary STL (header read only), against a 1-facet STL (start-up: rules)"
head -c 80 "$bigf" > "$work/tiny.stl"
printf '\001\000\000\000' >> "$work/tiny.stl"
head -c 50 /dev/zero >> "$work/tiny.stl"
t0=$(best "$PHISCAN" scan -q --no-progress -j 1 "$work/tiny.stl")
r0=$(rchar "$PHISCAN" scan -q --no-progress -j 1 "$work/tiny.stl")
t=$(best "$PHISCAN" scan -q --no-progress -j 1 "$bigf")
r=$(rchar "$PHISCAN" scan -q --no-progress -j 1 "$bigf")
say "phiscan scan tiny  ${t0} s   read $r0 bytes (rule packs, name lists, 134 bytes of STL)"
say "phiscan scan big   ${t} s   read $r bytes: $((r - r0)) more for a $bigsize-byte file ($(calc "100 * ($r - $r0) / $bigsize" 4)% of it)"
t=$(best "$PHISCAN" strip -q --no-progress -j 1 --force "$bigf" -o "$work/o1")
r=$(rchar "$PHISCAN" strip -q --no-progress -j 1 --force "$bigf" -o "$work/o1")
say "phiscan strip      ${t} s   read $r bytes ($(calc "$bigsize / $t / 1000000000") GB/s)"
cmp -s <(tail -c +81 "$bigf") <(tail -c +81 "$work/o1/upper.stl") || { say "bench_mesh: geometry changed"; exit 1; }
t=$(best "$PHISCAN" strip -q --no-progress -j 1 --force --verify "$bigf" -o "$work/o1")
say "phiscan strip --verify ${t} s"
t=$(best "$PHISCAN" strip -q --no-progress -j 1 --force --stl-zero-attributes "$bigf" -o "$work/o1")
say "phiscan strip --stl-zero-attributes ${t} s   (attribute words zeroed on the way)"
if command -v admesh > /dev/null; then
	ta=$(best admesh -c -b "$work/admesh.stl" "$bigf")
	say "admesh -c -b       ${ta} s   (peer: parses and rewrites every facet)"
else
	say "admesh             not installed (apt-get install admesh): no peer timing"
fi
say
say "-- the set: $setfiles large files"
t=$(best "$PHISCAN" scan -q --no-progress -j "$JOBS" "$work/set")
r=$(rchar "$PHISCAN" scan -q --no-progress -j "$JOBS" "$work/set")
say "scan  -j$JOBS   ${t} s   $(calc "$setfiles / $t" 1) files/s   $(calc "$setbytes / $t / 1000000000") GB/s of case data   read $r bytes"
for j in 1 "$JOBS"; do
	t=$(best "$PHISCAN" strip -q --no-progress -j "$j" --force "$work/set" -o "$work/o2")
	say "strip -j$j   ${t} s   $(calc "$setfiles / $t" 1) files/s   $(calc "$setbytes / $t / 1000000000") GB/s"
done
set +e
"$PHISCAN" scan -q --no-progress "$work/o2" > /dev/null 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || { say "bench_mesh: the stripped set does not re-scan clean (exit $rc)"; exit 1; }
say "bench_mesh: 1 passed, 0 failed"
