#!/usr/bin/env python3
"""tests/bench/ab_strip.py - A/B of phiscan builds on one strip, alternated run by run.

    ab_strip.py N INPUT_DIR KEY_FILE ARM [ARM ...]

An ARM is a phiscan binary, or VAR=value:binary to run it with one environment
variable set (PHISCAN_KEEP_FDS=0:./phiscan: the same binary without the harvest's
kept files).  Each of the N rounds runs every arm once, in turn, so a load that
comes and goes on a shared machine falls on all arms alike:
    phiscan strip -q --no-progress -j1 --key KEY_FILE -o OUT INPUT_DIR
under `perf stat -e task-clock`, with OUT (a fresh temporary directory beside
INPUT_DIR: put it on /dev/shm) removed before each run.  Prints, per arm, the median
and the minimum of task-clock and wall time (ms), and the median user and system
CPU (getrusage of the children).  Exit 1 when a run exits above 1.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    n, src, key, arms = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    work = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(src)))
    out, stat = os.path.join(work, "out"), os.path.join(work, "perf.txt")
    res = {a: ([], [], [], []) for a in arms}
    try:
        for _ in range(n):
            for a in arms:
                env, b = dict(os.environ), a
                if ":" in a and "=" in a.split(":", 1)[0]:
                    kv, b = a.split(":", 1)
                    k, v = kv.split("=", 1)
                    env[k] = v
                shutil.rmtree(out, ignore_errors=True)
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                p = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock", "-o", stat, b,
                                    "strip", "-q", "--no-progress", "-j1", "--key", key, "-o",
                                    out, src], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                wall = (time.perf_counter() - t0) * 1000
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                if p.returncode > 1:
                    print(f"{a}: exit {p.returncode}")
                    sys.exit(1)
                with open(stat) as f:
                    tc = [float(l.split(",")[0]) for l in f if "task-clock" in l][0]
                r = res[a]
                r[0].append(tc)
                r[1].append(wall)
                r[2].append((r1.ru_utime - r0.ru_utime) * 1000)
                r[3].append((r1.ru_stime - r0.ru_stime) * 1000)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for a in arms:
        tc, wl, us, sy = res[a]
        print(f"{a}: task-clock ms median {statistics.median(tc):.1f} min {min(tc):.1f} | "
              f"wall ms median {statistics.median(wl):.1f} min {min(wl):.1f} | "
              f"user {statistics.median(us):.1f} sys {statistics.median(sy):.1f} (n={n})")


if __name__ == "__main__":
    main()
