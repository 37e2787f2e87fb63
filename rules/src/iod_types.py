#!/usr/bin/env python3
"""iod_types.py - the PS3.3 Type of each combined-code attribute, per SOP class.

Table E.1-1's combined codes (X/Z, X/D, X/Z/D, Z/D, X/Z/U*) say "X unless Z or D is
required to keep the IOD valid": which one depends on the attribute's Type in the IOD
(PS3.15 E.1-1a).  This script reads PS3.3 as data (GDCM's Part3.xml: IODs with their
modules, modules and macros with each attribute's Type) and writes, for every SOP class
phiscan resolves (the dental ones, and those the corpus and samples use), the Type of
every attribute whose basic-profile action is a combined code, at the top level of
the IOD.  Sequence contents are not resolved: strip keeps the conservative choice
there.

Type per attribute and IOD: the strictest Type the attribute has in any module of
the IOD, whatever the module's usage (M, C or U), 1C counting as 1 and 2C as 2: an
attribute that is Type 1 in an optional module keeps a value, so the module stays
valid when it is present.  "-" means no module of the IOD has it at the top level
(it is removed, like Type 3).  A top-level macro include that cannot be resolved
fails the run: a missing macro would make its attributes look absent.

Outputs, both committed so a build needs neither input:
  rules/dicom/iod-types.tsv     sop class, IOD, tag, keyword, Type
  formats/dicom_iod_types.inc   the same as C initialisers (included by dicom.c)

usage: iod_types.py Part3.xml annex-e.tsv OUT.tsv OUT.inc
"""
import re
import sys
import xml.etree.ElementTree as ET

# SOP classes: UID, PS3.3 IOD table, short name.  Dental cases (CBCT as CT or X-Ray 3D
# Craniofacial, panoramic and intra-oral DX, photos, secondary capture, PDF reports)
# and the SOP classes of the generated corpus and ../shared/samples/dicom.
SOP_CLASSES = [
    ("1.2.840.10008.5.1.4.1.1.1", "A.2-1", "CR Image"),
    ("1.2.840.10008.5.1.4.1.1.1.1", "A.26-1", "Digital X-Ray Image (for presentation)"),
    ("1.2.840.10008.5.1.4.1.1.1.1.1", "A.26-1", "Digital X-Ray Image (for processing)"),
    ("1.2.840.10008.5.1.4.1.1.1.3", "A.28-1", "Digital Intra-Oral X-Ray Image (for presentation)"),
    ("1.2.840.10008.5.1.4.1.1.1.3.1", "A.28-1", "Digital Intra-Oral X-Ray Image (for processing)"),
    ("1.2.840.10008.5.1.4.1.1.104.1", "A.45.1-1", "Encapsulated PDF"),
    ("1.2.840.10008.5.1.4.1.1.13.1.2", "A.54-1", "X-Ray 3D Craniofacial Image"),
    ("1.2.840.10008.5.1.4.1.1.2", "A.3-1", "CT Image"),
    ("1.2.840.10008.5.1.4.1.1.2.1", "A.38-1", "Enhanced CT Image"),
    ("1.2.840.10008.5.1.4.1.1.3.1", "A.7-1", "US Multi-frame Image"),
    ("1.2.840.10008.5.1.4.1.1.4", "A.4-1", "MR Image"),
    ("1.2.840.10008.5.1.4.1.1.481.2", "A.18.3-1", "RT Dose"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "A.19.3-1", "RT Structure Set"),
    ("1.2.840.10008.5.1.4.1.1.481.5", "A.20.3-1", "RT Plan"),
    ("1.2.840.10008.5.1.4.1.1.481.8", "A.49-1", "RT Ion Plan"),
    ("1.2.840.10008.5.1.4.1.1.6.1", "A.6-1", "US Image"),
    ("1.2.840.10008.5.1.4.1.1.66.4", "A.51-1", "Segmentation"),
    ("1.2.840.10008.5.1.4.1.1.7", "A.8-1", "Secondary Capture Image"),
    ("1.2.840.10008.5.1.4.1.1.7.1", "A.8-2", "Multi-frame Single Bit SC Image"),
    ("1.2.840.10008.5.1.4.1.1.7.2", "A.8-3", "Multi-frame Grayscale Byte SC Image"),
    ("1.2.840.10008.5.1.4.1.1.7.3", "A.8-4", "Multi-frame Grayscale Word SC Image"),
    ("1.2.840.10008.5.1.4.1.1.7.4", "A.8-5", "Multi-frame True Color SC Image"),
    ("1.2.840.10008.5.1.4.1.1.77.1.4", "A.32.4-1", "VL Photographic Image"),
    ("1.2.840.10008.5.1.4.1.1.88.11", "A.35.1-1", "Basic Text SR"),
    ("1.2.840.10008.5.1.4.1.1.88.33", "A.35.3-1", "Comprehensive SR"),
    ("1.2.840.10008.5.1.4.1.1.9.1.1", "A.34.3-1", "12-lead ECG"),
]

RANK = {"1": 1, "1C": 1, "2": 2, "2C": 2, "3": 3}


def table_id(ref):
    """The table number an include names: "... Macro' Table C.7-11b" -> "C.7-11b"."""
    m = re.search(r"Table\s*([A-Z]?[0-9][0-9A-Za-z.\-]*)", ref)
    return m.group(1).rstrip(".") if m else None


def macro_name(ref):
    """The macro an include names: "Include 'Primary Anatomic Structure Macro' ..." ."""
    m = re.search(r"Include\s+'?\s*([A-Za-z][A-Za-z0-9 /-]*?Macro)", ref)
    return m.group(1).strip().lower() if m else None


def load_part3(path):
    root = ET.parse(path).getroot()
    edition = root.get("edition", "?")
    macros, modules, iods = {}, {}, {}
    for el in root:
        if el.tag == "macro":
            macros.setdefault(el.get("table"), []).append(el)
            # by name too: a few includes cite a table number the file does not use
            macros.setdefault("name:" + el.get("name", "").lower(), []).append(el)
        elif el.tag == "module":
            modules.setdefault(el.get("ref"), []).append(el)
            macros.setdefault(el.get("table"), []).append(el)
        elif el.tag == "iod":
            iods[el.get("table")] = el
    return edition, macros, modules, iods


def find_macro(macros, tid):
    if tid in macros:
        return macros[tid]
    low = {k.lower(): v for k, v in macros.items() if k}
    for cand in (tid.lower(), re.sub(r"\.([0-9]+)$", r"-\1", tid).lower()):
        if cand in low:
            return low[cand]
    return None


def top_level(defs, macros, seen, where):
    """{tag: strictest Type} of the top-level attributes of module/macro elements."""
    out = {}
    for d in defs:
        for ch in d:
            if ch.tag == "entry":
                name = ch.get("name", "")
                if name.startswith(">"):
                    continue
                g, e, t = ch.get("group", ""), ch.get("element", ""), ch.get("type", "")
                if not re.fullmatch(r"[0-9A-Fa-f]{4}", g + e[:0]) or \
                        not re.fullmatch(r"[0-9A-Fa-f]{4}", e) or t not in RANK:
                    continue
                tag = "(%s,%s)" % (g.upper(), e.upper())
                if tag not in out or RANK[t] < RANK[out[tag]]:
                    out[tag] = t
            elif ch.tag == "include":
                ref = ch.get("ref", "")
                if ref.startswith(">"):
                    continue  # a macro inside a sequence item
                tid = table_id(ref)
                if tid is None:
                    continue  # "Include any private attributes ...": no table
                m = find_macro(macros, tid)
                if m is None and macro_name(ref):
                    m = next((v for k, v in macros.items() if k.startswith("name:" + macro_name(ref))), None)
                if m is None:
                    sys.exit("iod_types.py: %s includes table %s, which Part3.xml does not "
                             "define (%r)" % (where, tid, ref))
                if tid in seen:
                    continue
                sub = top_level(m, macros, seen | {tid}, where)
                for tag, t in sub.items():
                    if tag not in out or RANK[t] < RANK[out[tag]]:
                        out[tag] = t
    return out


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("usage: ")[1])
    edition, macros, modules, iods = load_part3(sys.argv[1])
    combined = []  # (tag, keyword, action) for every combined-code row of Table E.1-1
    for line in open(sys.argv[2], encoding="utf-8"):
        if line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        if "/" in f[3] and re.fullmatch(r"\([0-9A-F]{4},[0-9A-F]{4}\)", f[0]):
            combined.append((f[0], f[1], f[3]))
    rows = []
    for uid, table, name in SOP_CLASSES:
        iod = iods.get(table)
        if iod is None:
            sys.exit("iod_types.py: Part3.xml has no IOD table %s (%s)" % (table, name))
        attrs = {}
        for ent in iod:
            ref = ent.get("ref")
            if ent.tag != "entry" or not ref:
                continue
            defs = modules.get(ref)
            if defs is None:
                sys.exit("iod_types.py: IOD %s uses module %s, which Part3.xml does not "
                         "define" % (table, ref))
            for tag, t in top_level(defs, macros, frozenset(), "%s module %s" % (table, ref)).items():
                if tag not in attrs or RANK[t] < RANK[attrs[tag]]:
                    attrs[tag] = t
        for tag, kw, act in combined:
            rows.append((uid, table, name, tag, kw, act, attrs.get(tag, "-")))
    src = "GDCM Part3.xml (PS3.3 edition %s, Debian libgdcm3.0)" % edition
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        f.write("# PS3.3 Type of each Table E.1-1 combined-code attribute at the top level of "
                "each IOD; source: %s; generated by rules/src/iod_types.py - do not edit\n" % src)
        f.write("# Type: strictest over the IOD's modules (1C as 1, 2C as 2); - = in no "
                "module of the IOD (removed like Type 3)\n")
        f.write("# sop_class\tiod_table\tiod\ttag\tkeyword\tbasic\ttype\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    code = {"1": "1", "1C": "1", "2": "2", "2C": "2", "3": "3", "-": "0"}
    with open(sys.argv[4], "w", encoding="utf-8") as f:
        f.write("/* dicom_iod_types.inc - PS3.3 Types of the Table E.1-1 combined-code\n"
                " * attributes per SOP class, from %s.\n"
                " * Generated by rules/src/iod_types.py (rules/dicom/iod-types.tsv); do not edit.\n"
                " * Included by dicom.c.  IOD_CLASSES: uid, name, PS3.3 table, sorted by uid.\n"
                " * IOD_TYPES: one string per class, a Type per combined-code tag in tag order\n"
                " * (IOD_TAGS): '1', '2', '3', or '0' when no module of the IOD has it. */\n" % src)
        f.write("#define IOD_EDITION \"%s\"\n" % edition)
        f.write("#define IOD_TAGS \\\n")
        for tag, _, _ in combined:
            f.write("\tX(0x%s%s) \\\n" % (tag[1:5], tag[6:10]))
        f.write("\n#define IOD_CLASSES \\\n")
        n = len(combined)
        for i, (uid, table, name) in enumerate(sorted(SOP_CLASSES)):
            types = "".join(code[r[6]] for r in rows if r[0] == uid)
            assert len(types) == n
            f.write("\tC(\"%s\", \"%s\", \"%s\", \"%s\") \\\n" % (uid, name, table, types))
        f.write("\n")
    print("iod_types.py: %d SOP classes x %d combined-code attributes" % (len(SOP_CLASSES), n))


main()
