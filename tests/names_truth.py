#!/usr/bin/env python3
"""make eval: identifiers in file names (gencase truth-names.tsv) against the file-name
findings of a `phiscan scan --show-values --format json` report.  Usage:
names_truth.py TRUTH REPORT CORPUS_ROOT [--safe-harbor]

A truth row (relative path, byte span of the base name, class) is recalled when the
file has a "file name" finding of that class whose value is those bytes; a file-name
finding no truth row accounts for is a false positive.  Prints recall and precision
per class and exits 1 when a row is missed or a finding is false.
"""
import collections, json, sys

truth_path, report_path, root = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/") + "/"
safe_harbor = len(sys.argv) > 4 and sys.argv[4] == "--safe-harbor"
truth = collections.defaultdict(list)  # rel -> [(class, value)]
with open(truth_path, encoding="utf-8") as f:
    next(f)
    for line in f:
        rel, a, b, cls, mode = line.rstrip("\n").split("\t")
        if mode == "safe_harbor" and not safe_harbor:
            continue
        base = rel.rsplit("/", 1)[-1].encode("utf-8")
        truth[rel].append((cls, base[int(a):int(b)].decode("utf-8")))
found = collections.defaultdict(list)
with open(report_path, encoding="utf-8") as f:
    for line in f:
        o = json.loads(line)
        if o.get("type") == "finding" and o.get("field") == "file name":
            rel = o["path"][len(root):] if o["path"].startswith(root) else o["path"]
            found[rel].append((o["class"], o.get("value", "")))
per = collections.defaultdict(lambda: [0, 0, 0, 0])  # truth, recalled, findings, tp
missed, false = [], []
for rel, rows in truth.items():
    for cls, v in rows:
        per[cls][0] += 1
        if (cls, v) in found.get(rel, []):
            per[cls][1] += 1
        else:
            missed.append((rel, cls))
for rel, fs in found.items():
    for cls, v in fs:
        per[cls][2] += 1
        if (cls, v) in truth.get(rel, []):
            per[cls][3] += 1
        else:
            false.append((rel, cls, v))
print("file names   truth  recalled   recall  findings      TP  precision")
tot = [0, 0, 0, 0]
for cls in sorted(per):
    t, r, n, tp = per[cls]
    tot = [x + y for x, y in zip(tot, per[cls])]
    print("%-10s %7d %9d %7.1f%% %9d %7d %9.1f%%" % (cls, t, r, 100.0 * r / t if t else 100.0,
                                                   n, tp, 100.0 * tp / n if n else 100.0))
t, r, n, tp = tot
print("%-10s %7d %9d %7.1f%% %9d %7d %9.1f%%" % ("TOTAL", t, r, 100.0 * r / t if t else 100.0,
                                               n, tp, 100.0 * tp / n if n else 100.0))
for rel, cls in missed[:10]:
    print("  missed: %s %s" % (rel, cls))
for rel, cls, v in false[:10]:
    print("  false positive: %s %s" % (rel, cls))
sys.exit(1 if missed or false else 0)
