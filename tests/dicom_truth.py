#!/usr/bin/env python3
"""dicom_truth.py - recall of phiscan's DICOM findings against gencase's truth-dicom.tsv.

usage: dicom_truth.py TRUTH-DICOM.tsv REPORT.jsonl [--show N]

TRUTH-DICOM.tsv is written by `gencase cases OUTDIR` (corpus/gen_dicom.c): rows
`path<TAB>tag_path<TAB>class<TAB>kind` with path relative to OUTDIR, tag_path as
phiscan prints it ("(0010,1002)[0]/(0010,0020)"), kind `structured` or `text`.
REPORT.jsonl is `phiscan scan --format json OUTDIR` output.

A finding belongs to a row when its path is the row's path or ends with "/" + it,
and its "field" is the tag path, alone or followed by a space and the keyword.
  structured: recalled by a finding in the field with rule "dicom-annex-e", or of
              the row's class (a PN is reported as a name);
  text:       recalled by a rule finding (rule other than "dicom-annex-e") of the
              row's class in the field.
Prints recall per class and kind, then up to --show misses (with what phiscan did
report in that field).  Exit 0; 1 when a structured row is missed; 2 when an input
cannot be read or holds no rows.
"""
import json
import sys
from collections import defaultdict

ANNEX_E = "dicom-annex-e"


def field_matches(field, tag_path):
    return field == tag_path or field.startswith(tag_path + " ")


def main(argv):
    args = [a for a in argv[1:]]
    show = 20
    if "--show" in args:
        i = args.index("--show")
        try:
            show = int(args[i + 1])
        except (IndexError, ValueError):
            print("dicom_truth: --show needs a number", file=sys.stderr)
            return 2
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    truth_path, report_path = args

    rows = []
    try:
        with open(truth_path, encoding="utf-8") as f:
            for n, line in enumerate(f):
                line = line.rstrip("\r\n")
                if n == 0 or not line:
                    continue  # header
                parts = line.split("\t")
                if len(parts) != 4 or parts[3] not in ("structured", "text"):
                    print(f"dicom_truth: {truth_path}:{n + 1}: bad row: {line!r}", file=sys.stderr)
                    return 2
                rows.append(tuple(parts))
    except OSError as e:
        print(f"dicom_truth: {e}", file=sys.stderr)
        return 2
    if not rows:
        print(f"dicom_truth: {truth_path}: no rows", file=sys.stderr)
        return 2

    truth_files = {r[0] for r in rows}
    # findings by truth path: list of (field, rule, class)
    found = defaultdict(list)
    try:
        with open(report_path, encoding="utf-8") as f:
            for n, line in enumerate(f):
                line = line.strip()
                if not line:
                    continue
                try:
                    o = json.loads(line)
                except json.JSONDecodeError:
                    print(f"dicom_truth: {report_path}:{n + 1}: not JSON", file=sys.stderr)
                    return 2
                if o.get("type") != "finding" or not o.get("field"):
                    continue
                p = o.get("path") or ""
                parts = p.split("/")
                for k in range(len(parts)):
                    cand = "/".join(parts[k:])
                    if cand in truth_files:
                        found[cand].append((o["field"], o.get("rule") or "", o.get("class") or ""))
                        break
    except OSError as e:
        print(f"dicom_truth: {e}", file=sys.stderr)
        return 2

    stats = defaultdict(lambda: [0, 0])  # (class, kind) -> [truth, recalled]
    misses = []
    structured_missed = 0
    for path, tag, cls, kind in rows:
        inf = [(fl, ru, cl) for fl, ru, cl in found.get(path, ()) if field_matches(fl, tag)]
        if kind == "structured":
            ok = any(ru == ANNEX_E or cl == cls for _, ru, cl in inf)
        else:
            ok = any(ru != ANNEX_E and cl == cls for _, ru, cl in inf)
        st = stats[(cls, kind)]
        st[0] += 1
        if ok:
            st[1] += 1
        else:
            structured_missed += kind == "structured"
            misses.append((path, tag, cls, kind, inf))

    print(f"{'class':<11} {'kind':<10} {'truth':>6} {'recalled':>8} {'recall':>7}")
    tt = tr = 0
    for (cls, kind) in sorted(stats):
        t, r = stats[(cls, kind)]
        tt += t
        tr += r
        print(f"{cls:<11} {kind:<10} {t:>6} {r:>8} {r / t:>7.3f}")
    print(f"{'TOTAL':<11} {'':<10} {tt:>6} {tr:>8} {tr / tt:>7.3f}")
    if misses:
        print(f"\nmissed {len(misses)} of {tt} rows ({structured_missed} structured):")
        for path, tag, cls, kind, inf in misses[:show]:
            got = ", ".join(sorted({f"{ru or '-'}:{cl}" for _, ru, cl in inf})) or "nothing"
            print(f"  {path}  {tag}  {cls} {kind}  (phiscan: {got})")
        if len(misses) > show:
            print(f"  ... {len(misses) - show} more")
    return 1 if structured_missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
