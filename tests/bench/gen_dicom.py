#!/usr/bin/env python3
"""gen_dicom.py ROOT NSMALL NLARGE - the DICOM benchmark sets (bench_dicom.sh, bench_threads.sh).

ROOT/small: NSMALL explicit VR little endian CT files of about 40 KB (140 x 140 x 16
bit); ROOT/large: NLARGE slices of 512 x 512 x 16 bit, about 0.5 MB.  One study and
one series per set; patient name, ID, birth date, institution, station, device serial,
dates, and the patient's name again in a free-text comment.  Deterministic.
"""
import os, struct, sys
LONG = {b"OB", b"OW", b"SQ", b"UT", b"UN"}
def el(g, e, vr, v):
    if isinstance(v, str):
        v = v.encode()
        if len(v) % 2: v += b"\0" if vr == b"UI" else b" "
    h = struct.pack("<HH", g, e) + vr
    h += (b"\0\0" + struct.pack("<I", len(v))) if vr in LONG else struct.pack("<H", len(v))
    return h + v
def part10(ds, sop):
    m = el(2,1,b"OB",b"\0\1") + el(2,2,b"UI","1.2.840.10008.5.1.4.1.1.2") + el(2,3,b"UI",sop) \
        + el(2,0x10,b"UI","1.2.840.10008.1.2.1") + el(2,0x12,b"UI","1.2.826.0.1.3680043.9.7777")
    return b"\0"*128 + b"DICM" + el(2,0,b"UL",struct.pack("<I",len(m))) + m + ds
def ct(sop, n, study, series):
    ds = el(8,5,b"CS","ISO_IR 100") + el(8,0x16,b"UI","1.2.840.10008.5.1.4.1.1.2") + el(8,0x18,b"UI",sop) \
       + el(8,0x20,b"DA","20250724") + el(8,0x30,b"TM","101010") + el(8,0x60,b"CS","CT") \
       + el(8,0x80,b"LO","Bright Smile Dental") + el(8,0x90,b"PN","Nakamura^Grace") \
       + el(8,0x1010,b"SH","CBCT-ROOM2") + el(0x10,0x10,b"PN","Gonzalez^Maria") \
       + el(0x10,0x20,b"LO","MRN-448812") + el(0x10,0x30,b"DA","19610314") + el(0x10,0x40,b"CS","F") \
       + el(0x18,0x1000,b"LO","SN-CB-99812") + el(0x20,0xD,b"UI",study) + el(0x20,0xE,b"UI",series) \
       + el(0x20,0x13,b"IS",str(n)) + el(0x20,0x4000,b"LT","Patient: Maria Gonzalez, upper molar")
    return ds
def main(root, nsmall, nlarge):
    for name, count, size in (("small", nsmall, 140), ("large", nlarge, 512)):
        d = os.path.join(root, name); os.makedirs(d)
        study, series = "1.2.826.0.1.3680043.9.7777.1.%d" % size, "1.2.826.0.1.3680043.9.7777.2.%d" % size
        pix = bytes((i * 37) & 0xFF for i in range(size * size * 2))
        for i in range(count):
            sop = "1.2.826.0.1.3680043.9.7777.3.%d.%d" % (size, i)
            ds = ct(sop, i, study, series) + el(0x28,2,b"US",struct.pack("<H",1)) \
                + el(0x28,4,b"CS","MONOCHROME2") + el(0x28,0x10,b"US",struct.pack("<H",size)) \
                + el(0x28,0x11,b"US",struct.pack("<H",size)) + el(0x28,0x100,b"US",struct.pack("<H",16)) \
                + el(0x28,0x101,b"US",struct.pack("<H",12)) + el(0x28,0x102,b"US",struct.pack("<H",11)) \
                + el(0x28,0x103,b"US",struct.pack("<H",0)) + el(0x7FE0,0x10,b"OW",pix)
            with open(os.path.join(d, "ct_%05d.dcm" % i), "wb") as f:
                f.write(part10(ds, sop))

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
