#!/usr/bin/env python3
"""annex_e.py - phiscan's DICOM de-identification table from PS3.15 Table E.1-1.

Input: the 621 rows of Table E.1-1 (edition 2024b) as JSON (innolitics/dicom-standard,
kept unmodified in ../shared/dicom/), and DCMTK's data dictionary (dicom.dic) for the
keyword and VR of each tag.  Output, both committed so a build needs neither input:

  rules/dicom/annex-e.tsv      the table as data: tag, keyword, VR, basic-profile
                               action, option actions, and phiscan's report class
                               and severity for the attribute
  formats/dicom_annex_e.inc    the same rows as a C initialiser, sorted by tag

Report class and severity are phiscan's own judgement (HIPAA Safe Harbor classes),
derived from the attribute name below; everything else is the standard's.

usage: annex_e.py TABLE.json dicom.dic OUT.tsv OUT.inc
"""
import json
import re
import sys

OPTS = [  # JSON key, TSV column, C field
    ("rtnSafePrivOpt", "safe_private"),
    ("rtnUIDsOpt", "uids"),
    ("rtnDevIdOpt", "device"),
    ("rtnInstIdOpt", "institution"),
    ("rtnPatCharsOpt", "patient_chars"),
    ("rtnLongFullDatesOpt", "long_full_dates"),
    ("rtnLongModifDatesOpt", "long_modified_dates"),
    ("cleanDescOpt", "clean_descriptors"),
    ("cleanStructContOpt", "clean_structured"),
    ("cleanGraphOpt", "clean_graphics"),
]

ACTIONS = {"D": "D", "Z": "Z", "X": "X", "K": "K", "C": "C", "U": "U", "X/D": "XD",
           "X/Z": "XZ", "X/Z/D": "XZD", "Z/D": "ZD", "X/Z/U*": "XZU"}


def load_dict(path):
    d = {}
    for line in open(path, encoding="latin-1"):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) >= 3:
            d[f[0].upper()] = (f[2], f[1])
    return d


def classify(name, vr, tag):
    """phiscan report class and severity (0 quasi, 1 provider, 2 patient)."""
    n = name.lower()
    patient = n.startswith(("patient", "other patient", "responsible", "person",
                            "military", "ethnic", "medical record", "issuer of patient",
                            "country of residence", "region of residence", "occupation",
                            "branch of service", "pregnancy", "smoking", "last menstrual",
                            "allergies", "additional patient", "special needs",
                            "medical alerts", "consent"))
    provider = any(w in n for w in ("physician", "operator", "institution", "department",
                                    "performing", "referring", "requesting", "verifying",
                                    "scheduled performing", "reviewer", "author",
                                    "content creator", "station", "site", "sponsor",
                                    "investigator", "coordinating", "observer"))
    sev = 2 if patient else 1 if provider else 0
    if vr == "PN" or n.endswith(("name", "names")) and vr in ("PN", "LO", "SH", "LT", "ST"):
        cls = "name"
    elif vr in ("DA", "DT", "TM"):
        cls = "date"
    elif "address" in n and "ip" not in n:
        cls = "address"
    elif "telephone" in n or "telecom" in n:
        cls = "phone"
    elif "e-mail" in n or "email" in n:
        cls = "email"
    elif vr == "AS" or n.endswith("age"):
        cls = "age"
    elif "serial number" in n or "device" in n or "station" in n or "manufacturer" in n:
        cls = "device"
    elif n in ("patient id", "other patient ids", "other patient ids sequence",
               "medical record locator", "issuer of patient id"):
        cls = "mrn"
    elif "insurance" in n or "plan" in n and "patient" in n:
        cls = "healthplan"
    elif "account" in n:
        cls = "account"
    elif vr == "UI" or "uid" in n:
        cls = "id"
    else:
        cls = "id"
    return cls, sev


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("usage: ")[1])
    rows = json.load(open(sys.argv[1], encoding="utf-8"))
    dic = load_dict(sys.argv[2])
    out = []
    for r in rows:
        tag = r["tag"].upper()[:11]
        kw, vr = dic.get(tag, ("", ""))
        if not kw:
            kw = re.sub(r"[^A-Za-z0-9]", "", r["name"].title())
        if tag == "(GGGG,EEEE)":  # "where gggg is odd": the private-attributes row
            vr = "--"
        elif not vr:
            vr = "--"
        cls, sev = classify(r["name"], vr, tag)
        opts = [r.get(k, "-") for k, _ in OPTS]
        name = " ".join(r["name"].split())
        out.append((tag, kw, vr, r["basicProfile"], opts, cls, sev, r["stdCompIOD"], name))

    def key(t):
        if t[0] == "(GGGG,EEEE)":
            return (0x10000, 0)  # the private-attributes row last
        x = t[0][1:-1].replace("X", "0")
        return (int(x[:4], 16), int(x[5:], 16))
    out.sort(key=key)
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        f.write("# PS3.15 Table E.1-1, DICOM 2024b (innolitics/dicom-standard 7f4749d, MIT); "
                "generated by rules/src/annex_e.py - do not edit\n")
        f.write("# " + "\t".join(["tag", "keyword", "vr", "basic"] + [c for _, c in OPTS] +
                                 ["class", "severity", "std_comp_iod", "name"]) + "\n")
        for t in out:
            f.write("\t".join([t[0], t[1], t[2], t[3]] + t[4] +
                              [t[5], str(t[6]), t[7], t[8]]) + "\n")
    with open(sys.argv[4], "w", encoding="utf-8") as f:
        f.write("/* dicom_annex_e.inc - PS3.15 Table E.1-1 (DICOM 2024b), 621 rows sorted by tag.\n"
                " * Generated by rules/src/annex_e.py from rules/dicom/annex-e.tsv's sources;\n"
                " * do not edit.  Included by dicom.c.  A tag with 'x' digits is a repeating\n"
                " * group: mask says which digits are fixed. */\n")
        for t in out:
            tg = t[0][1:-1]
            if tg == "GGGG,EEEE":
                tg = "XXXX,XXXX"  # every odd group: mask 0, matched by dicom.c
            g, e = tg[:4], tg[5:]
            mask_g = "".join("0" if c == "X" else "F" for c in g)
            mask_e = "".join("0" if c == "X" else "F" for c in e)
            gv = g.replace("X", "0")
            ev = e.replace("X", "0")
            acts = ", ".join("A_" + (ACTIONS[a] if a != "-" else "NONE") for a in [t[3]] + t[4])
            f.write('{0x%s%s, 0x%s%s, "%s", "%s", "%s", %d, {%s}},\n' % (
                gv, ev, mask_g, mask_e, t[1], t[2], t[5], t[6], acts))
    print("annex_e.py: %d rows" % len(out))


main()
