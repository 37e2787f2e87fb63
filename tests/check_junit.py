#!/usr/bin/env python3
"""Check a phiscan JUnit report with xml.etree: structure and counts.

usage: check_junit.py REPORT TESTS FAILURES SKIPPED
Prints "junit ok: ..." and exits 0, or prints what is wrong and exits 1.
"""
import sys
import xml.etree.ElementTree as ET


def main():
    path, tests, failures, skipped = sys.argv[1], *map(int, sys.argv[2:5])
    root = ET.parse(path).getroot()
    problems = []
    if root.tag != "testsuites":
        problems.append(f"root is <{root.tag}>, not <testsuites>")
    suites = root.findall("testsuite")
    if len(suites) != 1:
        problems.append(f"{len(suites)} testsuite elements, want 1")
    cases = root.findall("./testsuite/testcase")
    nfail = sum(1 for c in cases if c.find("failure") is not None)
    nskip = sum(1 for c in cases if c.find("skipped") is not None)
    for el in [root] + suites:
        for attr, want in (("tests", len(cases)), ("failures", nfail), ("skipped", nskip),
                           ("errors", 0)):
            if el.get(attr) != str(want):
                problems.append(f"<{el.tag}> {attr}={el.get(attr)!r}, counted {want}")
    for c in cases:
        if not c.get("name") or not (c.get("classname") or "").startswith("phiscan."):
            problems.append(f"testcase without name/classname: {c.attrib}")
        f = c.find("failure")
        if f is not None and f.get("type") not in ("phi", "unscanned"):
            problems.append(f"failure type {f.get('type')!r}")
    for got, want, what in ((len(cases), tests, "testcases"), (nfail, failures, "failures"),
                            (nskip, skipped, "skipped")):
        if got != want:
            problems.append(f"{got} {what}, want {want}")
    if problems:
        print("\n".join(problems))
        return 1
    names = ",".join(sorted(c.get("name") for c in cases))
    print(f"junit ok: tests={len(cases)} failures={nfail} skipped={nskip} names={names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
