#!/usr/bin/env python3
"""dcm_dict.py - phiscan's DICOM data dictionary from DCMTK's dicom.dic and private.dic.

DCMTK (libdcmdata, Debian's build) loads /usr/share/libdcmtk17/dicom.dic and then
private.dic into a DcmDataDictionary.  This script loads the same two files the way
DcmDataDictionary::loadDictionary() does, builds the same two structures (dcdict.cc,
dchashdi.cc, dcdicent.h of DCMTK 3.6.7), and writes them as C data for
formats/dicom_dict.c, so that phi_dicom_dict_find() answers what DcmTag answers
without loading a text dictionary at start-up:

  exact entries    DCMTK's hash dictionary: one entry per (tag, private creator); a
                   later line for the same key replaces the earlier one.  Written as
                   two tables, public (no creator) sorted by tag, private sorted by
                   (group, creator index, element), for binary searches; creator
                   indices follow the creators' byte order (strcmp).
  range entries    DCMTK's repeating-tag list, in DCMTK's order: the skeleton's
                   (0000-FFFF,0000) first, then each range line appended, except that
                   a range equal to an earlier one (same bounds, restrictions and
                   creator) replaces it, and a range that is a subset of an earlier
                   one goes before it.  The lookup takes the first range that
                   contains the tag, as DcmDataDictionary::findEntry() does.  Written
                   as two lists, public and private, each in that order: a lookup
                   with a creator matches only that creator's ranges, one without
                   only public ones, so each list's first match is DCMTK's.

A line's fields are tab-separated: tag, VR, keyword, VM, version (3 to 5 fields); a
tag is "(gggg,eeee)", "(gggg,"creator",ee)" or a range "gggg-gggg" (even values only),
"gggg-o-gggg" (odd), "gggg-e-gggg" (even), "gggg-u-gggg" (all) in either part.  A line
DCMTK would reject stops this script instead, so a new DCMTK dictionary that needs
more than this parser knows is noticed rather than silently read differently.

usage: dcm_dict.py dicom.dic private.dic OUT.inc
"""
import re
import sys

# DcmVR's names that DcmVR::setVR() accepts (first two characters) and getVRName()
# prints back unchanged; DCMTK 3.6.7 dcvr.cc.
VRS = ["AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD",
       "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI",
       "UL", "UR", "US", "UT", "UV", "ox", "px", "xs", "lt", "na", "up", "UN"]

UNSPEC, ODD, EVEN = 0, 1, 2
RESTRICT = {"o": ODD, "e": EVEN, "u": UNSPEC}
PART = re.compile(r"^([0-9A-Fa-f]{1,4})(?:-([oOeEuU])-([0-9A-Fa-f]{1,4})|-([0-9A-Fa-f]{1,4}))?$")
VM = re.compile(r"^(\d+-\d+[nN]|\d+-\d+|\d+-[nN]|\d+[nN]?|[nN])$")  # parseVMField
TAG = re.compile(r'^\(([^,"]*),\s*(?:"([^"]*)"\s*,)?([^)]*)\)$')


def fail(path, num, why):
    sys.exit("dcm_dict.py: %s line %d: %s" % (path, num, why))


def part(s):
    """(low, high, restriction) of one half of a tag field (dcdict.cc parseTagPart)."""
    m = PART.match(re.sub(r"\s", "", s))
    if not m:
        return None
    lo = int(m.group(1), 16)
    if m.group(2):
        return lo, int(m.group(3), 16), RESTRICT[m.group(2).lower()]
    if m.group(4):
        return lo, int(m.group(4), 16), EVEN  # "gggg-gggg": even values by default
    return lo, lo, UNSPEC


class Entry:
    def __init__(self, g, ug, gr, e, ue, er, creator, vr, kw):
        self.g, self.ug, self.gr, self.e, self.ue, self.er = g, ug, gr, e, ue, er
        self.creator, self.vr, self.kw = creator, vr, kw

    def repeating(self):
        return self.g != self.ug or self.e != self.ue

    def set_eq(self, o):  # DcmDictEntry::setEQ
        return (self.g, self.ug, self.e, self.ue, self.gr, self.er, self.creator) == \
            (o.g, o.ug, o.e, o.ue, o.gr, o.er, o.creator)

    def subset(self, o):  # DcmDictEntry::subset: restrictions are not compared
        return (self.g >= o.g and self.ug <= o.ug and self.e >= o.e and self.ue <= o.ue
                and self.creator == o.creator)


class Dictionary:
    def __init__(self):
        self.exact = {}  # (group, element, creator) -> Entry
        self.ranges = []
        # loadSkeletonDictionary(): group lengths and the three item tags.
        self.add(Entry(0x0000, 0xFFFF, UNSPEC, 0x0000, 0x0000, UNSPEC, None, "UL",
                       "GenericGroupLength"))
        for e, kw in ((0xE000, "Item"), (0xE00D, "ItemDelimitationItem"),
                      (0xE0DD, "SequenceDelimitationItem")):
            self.add(Entry(0xFFFE, 0xFFFE, UNSPEC, e, e, UNSPEC, None, "na", kw))

    def add(self, n):  # DcmDataDictionary::addEntry
        if not n.repeating():
            self.exact[(n.g, n.e, n.creator)] = n
            return
        for i, o in enumerate(self.ranges):
            if n.set_eq(o):
                self.ranges[i] = n
                return
            if n.subset(o):
                self.ranges.insert(i, n)
                return
        self.ranges.append(n)

    def load(self, path):  # DcmDataDictionary::loadDictionary
        with open(path, "rb") as f:
            for num, raw in enumerate(f, 1):
                line = raw.decode("latin-1").rstrip()
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                fields = line.split("\t")
                if not 3 <= len(fields) <= 5:
                    fail(path, num, "%d fields" % len(fields))
                m = TAG.match(fields[0].strip())
                gp = m and part(m.group(1))
                ep = m and part(m.group(3))
                if not gp or not ep:
                    fail(path, num, "bad tag field %r" % fields[0])
                vr = re.sub(r"\s", "", fields[1])[:2]
                if vr not in VRS:
                    fail(path, num, "VR %r unknown to this script" % fields[1])
                creator = m.group(2) or None  # (gggg,"",ee) has no creator in DCMTK
                if creator and len(creator) > 63:
                    fail(path, num, "creator longer than DCMTK's 64-byte buffer")
                if len(fields) >= 4 and not VM.match(re.sub(r"\s", "", fields[3])):
                    fail(path, num, "bad VM field %r" % fields[3])
                kw = re.sub(r"\s", "", fields[2])
                self.add(Entry(gp[0], gp[1], gp[2], ep[0], ep[1], ep[2], creator, vr, kw))


class Pool:
    """Keywords and creators, each once, NUL-terminated, in one char array."""

    def __init__(self):
        self.off, self.items, self.size = {}, [], 0

    def __call__(self, s):
        if s not in self.off:
            self.off[s] = self.size
            self.items.append(s)
            self.size += len(s.encode("latin-1")) + 1
        return self.off[s]


def cstr(s):
    out = []
    for b in s.encode("latin-1"):
        c = chr(b)
        if c in '"\\?' or b < 0x20 or b > 0x7E:
            out.append("\\%03o" % b)  # '?' too: no trigraph can form
        else:
            out.append(c)
    return '"' + "".join(out) + '\\0"'


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("usage: ")[1])
    d = Dictionary()
    d.load(sys.argv[1])
    d.load(sys.argv[2])
    pool = Pool()
    vri = {v: i for i, v in enumerate(VRS)}
    # Creators: one index each, in byte order (strcmp), so that the private table
    # sorted by (group, creator index, element) is searched with integers.
    creators = sorted({k[2].encode("latin-1") for k in d.exact if k[2] is not None} |
                      {n.creator.encode("latin-1") for n in d.ranges if n.creator})
    cid = {c.decode("latin-1"): i for i, c in enumerate(creators)}
    if len(creators) >= 0xFFFF:
        sys.exit("dcm_dict.py: too many creators for a 16-bit index")
    pub = sorted((k[0], k[1], v) for k, v in d.exact.items() if k[2] is None)
    priv = sorted((k[0], cid[k[2]], k[1], v) for k, v in d.exact.items() if k[2] is not None)
    pub_ranges = [n for n in d.ranges if n.creator is None]
    priv_ranges = [n for n in d.ranges if n.creator is not None]
    lines = []
    lines.append("static const uint32_t phi_dd_creators[] = {")
    for c in creators:
        lines.append("%d," % pool(c.decode("latin-1")))
    lines.append("};")
    lines.append("static const struct phi_dd_exact phi_dd_public[] = {")
    for g, e, n in pub:
        lines.append("{0x%04X, 0x%04X, %d, 0, %d}," % (g, e, pool(n.kw), vri[n.vr]))
    lines.append("};")
    lines.append("static const struct phi_dd_exact phi_dd_private[] = {")
    for g, c, e, n in priv:
        lines.append("{0x%04X, 0x%04X, %d, %d, %d}," % (g, e, pool(n.kw), c, vri[n.vr]))
    lines.append("};")
    # Public and private ranges never match the same lookup (a creator matches only
    # ranges of that creator, none only public ones), so two lists, each in DCMTK's
    # order, search as DCMTK's one does.
    for name, rs in (("phi_dd_public_ranges", pub_ranges), ("phi_dd_private_ranges", priv_ranges)):
        lines.append("static const struct phi_dd_range %s[] = {" % name)
        for n in rs:
            lines.append("{0x%04X, 0x%04X, 0x%04X, 0x%04X, %d, %d, %d, %d, %d}," % (
                n.g, n.ug, n.e, n.ue, n.gr, n.er, vri[n.vr], pool(n.kw),
                0xFFFF if n.creator is None else cid[n.creator]))
        lines.append("};")
    with open(sys.argv[3], "w", encoding="ascii") as f:
        f.write("/* dicom_dict.inc - DCMTK 3.6.7's data dictionary (dicom.dic, private.dic) as C\n"
                " * data: %d public and %d private exact entries (%d creators), %d public and\n"
                " * %d private ranges, each list in DCMTK's search order.  Generated by\n"
                " * rules/src/dcm_dict.py (make dicom-table); do not edit.  Included by\n"
                " * dicom_dict.c. */\n" % (len(pub), len(priv), len(creators), len(pub_ranges),
                                           len(priv_ranges)))
        f.write("static const char phi_dd_vr[][3] = {\n%s\n};\n" %
                ", ".join('"%s"' % v for v in VRS))
        f.write("static const char phi_dd_str[] =\n")
        for s in pool.items:
            f.write(cstr(s) + "\n")
        f.write(";\n")
        f.write("\n".join(lines) + "\n")
    print("dcm_dict.py: %d public, %d private (%d creators), %d + %d ranges, %d string bytes"
          % (len(pub), len(priv), len(creators), len(pub_ranges), len(priv_ranges), pool.size))


main()
