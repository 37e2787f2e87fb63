#!/usr/bin/env bash
# tests/bench/bench_dict.sh - phiscan's compiled DICOM data dictionary against DCMTK's
# (dictionary load time, ns per VR + keyword lookup), one run: see dict_bench.c.
# DICT_BENCH: the program (make builds build/dict-bench); RUNS passes, best kept.
set -euo pipefail
DICT_BENCH=${DICT_BENCH:-build/dict-bench}
RUNS=${RUNS:-5}
if [ ! -x "$DICT_BENCH" ]; then
	echo "bench_dict: $DICT_BENCH missing (make $DICT_BENCH)" >&2
	exit 1
fi
echo "== DICOM data dictionary: phiscan's table vs DCMTK's =="
env -u DCMDICTPATH "$DICT_BENCH" "$RUNS"
