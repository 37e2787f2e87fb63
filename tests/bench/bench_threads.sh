#!/usr/bin/env bash
# tests/bench/bench_threads.sh - how phiscan scan and strip scale from -j 1 to -j N on
# many small files, in one run (README, "Speed and memory", "Threads").
#
# Set: BENCH_THREADS_FILES (default 1000) DICOM files of about 40 KB, the DICOM
# benchmark's small set (gen_dicom.py), on tmpfs (/dev/shm; TMPDIR when there is none).
# Commands, interleaved round by round so that a change in the machine's load hits
# each of them alike (a warm-up round, then RUNS rounds, default 5; best wall time):
#   phiscan scan  -q --no-progress -j 1 | -j N DIR
#   phiscan strip -q --no-progress -j 1 | -j N --key K -o OUT DIR
# N is J (default nproc).  Prints seconds, the -j1/-jN ratio, the context switches of
# one run of each (perf stat, when perf is there) and the load average before and
# after.  Exit 0 when every run succeeded.
#
# Read the ratio with the load: with sched_autogroup_enabled (Debian's default) every
# session gets an equal share of the CPUs whatever its nice value, so a niced fuzzer in
# another session still takes half a core from the second thread here.
set -euo pipefail
PHISCAN=${PHISCAN:-./phiscan}
FILES=${BENCH_THREADS_FILES:-1000}
RUNS=${RUNS:-5}
J=${J:-$(nproc)}
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$(dirname "$0")/gen_dicom.py" "$work" "$FILES" 0
head -c 32 /dev/urandom >"$work/key"
in="$work/small"

run() { # run [PREFIX...] NAME THREADS: one measured command (after PREFIX, e.g. perf stat)
	local n=$(($# - 2)) c j
	c=${*:$((n + 1)):1} j=${*:$((n + 2)):1}
	case $c in
	scan) "${@:1:n}" "$PHISCAN" scan -q --no-progress -j "$j" "$in" ;;
	strip) "${@:1:n}" "$PHISCAN" strip -q --no-progress -j "$j" --key "$work/key" -o "$work/out" "$in" ;;
	esac
}
once() { # wall seconds of one run, or FAIL
	local s e rc=0
	rm -rf "$work/out"
	s=$(date +%s%N)
	run "$1" "$2" >/dev/null 2>&1 || rc=$?
	e=$(date +%s%N)
	((rc <= 1)) || { echo FAIL; return; } # 1: identifiers found (and replaced)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", (e - s) / 1e9 }'
}

declare -A best
fail=0
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r <= RUNS; r++)); do
	for c in scan strip; do
		for j in 1 "$J"; do
			t=$(once "$c" "$j")
			[[ $t == FAIL ]] && { fail=1; continue; }
			((r == 0)) && continue
			k="$c/$j"
			if [[ -z ${best[$k]:-} ]] || awk -v t="$t" -v b="${best[$k]}" 'BEGIN { exit !(t < b) }'; then
				best[$k]=$t
			fi
		done
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
csw() { # context switches of one run
	command -v perf >/dev/null || { echo n/a; return; }
	rm -rf "$work/out"
	run perf stat -x, -e context-switches "$1" "$2" 2>&1 >/dev/null | awk -F, '/context-switches/ { print $1; f = 1 } END { if (!f) print "n/a" }'
}
printf '== threads: %d DICOM files of 40 KB, best of %d, load average %s before, %s after ==\n' \
	"$FILES" "$RUNS" "$load0" "$load1"
printf '%-6s %10s %10s %8s %12s %12s\n' cmd "-j1 s" "-j$J s" "j1/j$J" "csw -j1" "csw -j$J"
for c in scan strip; do
	a=${best[$c/1]:-FAIL} b=${best[$c/$J]:-FAIL}
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "n/a" }')
	printf '%-6s %10s %10s %8s %12s %12s\n' "$c" "$a" "$b" "$ratio" "$(csw "$c" 1)" "$(csw "$c" "$J")"
done
exit "$fail"
