#!/usr/bin/env python3
"""Parse .pre-commit-hooks.yaml and examples/github-actions.yml and run their
phiscan commands in WORKDIR (which holds a generated exports/ tree and has the
phiscan under test first on PATH).

usage: check_ci_files.py REPO WORKDIR
Each check prints one "ok ..." line; any mismatch prints "FAIL ..." and the
script exits 1.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import yaml

failed = False


def check(cond, msg):
    global failed
    print(("ok " if cond else "FAIL ") + msg)
    if not cond:
        failed = True


def run(cmd, cwd, shell=False):
    p = subprocess.run(cmd, cwd=cwd, shell=shell, executable="/bin/bash" if shell else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    repo, work = sys.argv[1], sys.argv[2]
    exports = sorted(os.path.relpath(os.path.join(d, f), work)
                     for d, _, fs in os.walk(os.path.join(work, "exports")) for f in fs)
    check(len(exports) > 0, f"generated tree has {len(exports)} files")

    hooks = yaml.safe_load(open(os.path.join(repo, ".pre-commit-hooks.yaml")))
    check(isinstance(hooks, list) and hooks, "pre-commit: a list of hooks")
    by_id = {h["id"]: h for h in hooks}
    for h in hooks:
        check(all(k in h for k in ("id", "name", "entry", "language")),
              f"pre-commit {h.get('id')}: id, name, entry, language")
        check(h["entry"].split()[0] == "phiscan", f"pre-commit {h['id']}: entry runs phiscan")
    entry = by_id["phiscan"]["entry"].split()
    rc, out, err = run(entry + exports, work)
    check(rc == 1, f"pre-commit phiscan on the generated files exits {rc} (want 1)")
    clean = os.path.join(work, "clean.txt")
    with open(clean, "w") as f:
        f.write("crown prep, shade A2, tooth 14\n")
    rc, out, err = run(entry + ["clean.txt"], work)
    check(rc == 0, f"pre-commit phiscan on a clean file exits {rc} (want 0)")
    # the baseline hook: record, then the same files are no longer news
    rc, _, err = run(["phiscan", "scan", "--no-progress", "--quiet", "--baseline-out",
                      ".phiscan-baseline"] + exports, work)
    check(rc == 1 and os.path.exists(os.path.join(work, ".phiscan-baseline")),
          f"baseline recorded (exit {rc}) {err.strip()}")
    rc, out, err = run(by_id["phiscan-new"]["entry"].split() + exports, work)
    check(rc == 0, f"pre-commit phiscan-new on recorded findings exits {rc} (want 0)")

    wf = yaml.safe_load(open(os.path.join(repo, "examples", "github-actions.yml")))
    # YAML 1.1 reads the bare key `on` as true
    check(("on" in wf or True in wf) and "jobs" in wf, "workflow: on and jobs")
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    check(any(s.get("uses", "").startswith("actions/checkout") for s in steps),
          "workflow checks out the repository")
    runs = [s for s in steps if "phiscan scan" in s.get("run", "")]
    check(len(runs) >= 2, f"workflow has {len(runs)} phiscan scan steps")
    for s in runs:
        rc, out, err = run("set -o pipefail\n" + s["run"], work, shell=True)
        check(rc == 1, f"workflow step '{s['name']}' exits {rc} (want 1: PHI in exports/)")
    sarif = json.load(open(os.path.join(work, "phiscan.sarif")))
    check(sarif.get("version") == "2.1.0" and sarif["runs"][0]["results"],
          "workflow SARIF is 2.1.0 with results")
    root = ET.parse(os.path.join(work, "phiscan-junit.xml")).getroot()
    check(root.tag == "testsuites" and int(root.get("failures")) > 0,
          f"workflow JUnit has {root.get('failures')} failures")
    uploads = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    check(uploads and uploads[0]["with"]["sarif_file"] == "phiscan.sarif",
          "workflow uploads the SARIF file the scan wrote")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
