#!/usr/bin/env python3
"""make_case.py - makes one row of the bad-input matrix (tests/badinput/manifest.tsv).

    python3 tests/badinput/make_case.py ID DIR     # the row's entry (or entries) in DIR
    python3 tests/badinput/make_case.py --list     # every recipe id, one a line

DIR must exist and is the scanned tree; a recipe may also write DIR/../outside/ (the
target of a symlink that leaves the tree).  Everything is built from constants with
the standard library only (struct, zlib, zipfile, tarfile), so a row gives the same
bytes on every run; special files (FIFOs, sockets, devices, symlink loops, modes
0000) exist only at run time, made here.  Exit 3 with a reason on stdout when the
row cannot be made on this machine (a device node needs root): the test reports
the row as skipped with that reason.

The planted identifiers are the test pack's (tests/cli.c): "Patient: Maria
Gonzalez", "SSN 482-31-7765", "DOB: 03/14/1961", and DICOM PatientName.
"""
import io
import os
import socket
import stat
import struct
import sys
import tarfile
import zipfile
import zlib

PHI = b"Patient: Maria Gonzalez\nSSN 482-31-7765\nDOB: 03/14/1961\n"
RECIPES = {}


def recipe(fn):
    RECIPES[fn.__name__.replace("_", "-")] = fn
    return fn


def put(d, name, data, mode=None):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    return path


# ---- DICOM (PS3.10 7.1 meta header, PS3.5 7.1.2 explicit VR little endian) ----

LONG_VRS = {b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"}


def el(g, e, vr, val, length=None):
    vr = vr.encode() if isinstance(vr, str) else vr
    if length is None and len(val) % 2:
        val += b"\0" if vr in (b"UI", b"OB") else b" "
    n = len(val) if length is None else length
    if vr in LONG_VRS:
        return struct.pack("<HH2sHI", g, e, vr, 0, n) + val
    return struct.pack("<HH2sH", g, e, vr, n) + val


def dicom_meta(ts=b"1.2.840.10008.1.2.1", with_ts=True):
    body = el(2, 1, "OB", b"\0\1") + el(2, 2, "UI", b"1.2.840.10008.5.1.4.1.1.7")
    body += el(2, 3, "UI", b"1.2.826.0.1.3680043.2.1143.1")
    if with_ts:
        body += el(2, 0x10, "UI", ts)
    body += el(2, 0x12, "UI", b"1.2.826.0.1.3680043.2.1143")
    return b"\0" * 128 + b"DICM" + el(2, 0, "UL", struct.pack("<I", len(body))) + body


def dicom_ds():
    return (el(8, 0x16, "UI", b"1.2.840.10008.5.1.4.1.1.7")
            + el(8, 0x18, "UI", b"1.2.826.0.1.3680043.2.1143.1")
            + el(0x10, 0x10, "PN", b"GONZALEZ^MARIA")
            + el(0x10, 0x20, "LO", b"MRN3355251"))


@recipe
def dicom_truncated(d):
    # a LO element that declares 200 bytes, 10 of which are there
    put(d, "ct.dcm", dicom_meta() + dicom_ds() + el(0x10, 0x1000, "LO", b"OTHERID123", length=200))


@recipe
def dicom_wrong_vr(d):
    # PatientName with the VR "ZZ", which PS3.5 6.2 does not define
    put(d, "ct.dcm", dicom_meta() + dicom_ds()[:-len(el(0x10, 0x20, "LO", b"MRN3355251"))]
        + el(0x10, 0x30, "ZZ", b"19610314"))


@recipe
def dicom_undefined_length_unterminated(d):
    # a sequence and an item of undefined length (PS3.5 7.5.1) that never end
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + el(0x10, 0x10, "PN", b"GONZALEZ^MARIA")
    sq = struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, 0xFFFFFFFF) + item
    put(d, "ct.dcm", dicom_meta() + dicom_ds() + sq + b"\x10\x00\x40\x00CS\x02\x00F ")


@recipe
def dicom_length_fffffff0(d):
    # a UT element declaring 0xFFFFFFF0 bytes (4 GiB) in a 400-byte file
    put(d, "ct.dcm", dicom_meta() + dicom_ds() + el(0x40, 0xA160, "UT", b"Patient notes", length=0xFFFFFFF0))


@recipe
def dicom_sequences_1000_deep(d):
    open_ = b""
    close_ = b""
    for _ in range(1000):
        open_ += struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, 0xFFFFFFFF)
        open_ += struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
        close_ = (struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)) + close_
    inner = el(0x10, 0x10, "PN", b"GONZALEZ^MARIA")
    put(d, "ct.dcm", dicom_meta() + dicom_ds() + open_ + inner + close_)


@recipe
def dicom_bad_charset(d):
    # Specific Character Set names no character set (PS3.3 C.12.1.1.2)
    put(d, "ct.dcm", dicom_meta() + el(8, 5, "CS", b"ISO_IR 999") + dicom_ds())


@recipe
def dicom_meta_without_transfer_syntax(d):
    put(d, "ct.dcm", dicom_meta(with_ts=False) + dicom_ds())


@recipe
def dicom_dicm_not_dicom(d):
    # "DICM" at 128 followed by prose, not a group-0002 element
    put(d, "scan.dcm", b"\0" * 128 + b"DICM" + b"this is not a data set\n" + PHI)


@recipe
def dicom_meta_group_length_lies(d):
    # (0002,0000) says the meta group is 0x7FFFFFF0 bytes long
    m = bytearray(dicom_meta())
    struct.pack_into("<I", m, 132 + 8, 0x7FFFFFF0)
    put(d, "ct.dcm", bytes(m) + dicom_ds())


@recipe
def dicom_zero_byte(d):
    put(d, "empty.dcm", b"")


# ---- STL (binary: 80-byte header, uint32 count, 50 bytes a triangle) ----

def stl_header(text):
    return text.ljust(80, b" ")


@recipe
def stl_count_beyond_file(d):
    put(d, "upper.stl", stl_header(b"Patient: Maria Gonzalez") + struct.pack("<I", 0x7FFFFFFF)
        + b"\0" * 100)


@recipe
def stl_truncated_triangle(d):
    put(d, "upper.stl", stl_header(b"Patient: Maria Gonzalez") + struct.pack("<I", 2) + b"\0" * 75)


@recipe
def stl_ascii_unterminated(d):
    put(d, "lower.stl", b"solid Maria Gonzalez\n facet normal 0 0 1\n  outer loop\n"
        b"   vertex 0 0 0\n   vertex 1 0 0\n")


@recipe
def stl_ascii_line_too_long(d):
    put(d, "lower.stl", b"solid Maria Gonzalez\n facet normal " + b"0 " * (1 << 20) + b"\nendsolid\n")


# ---- PLY (header grammar, then a body whose size the header fixes) ----

@recipe
def ply_count_2p40(d):
    put(d, "jaw.ply", b"ply\nformat binary_little_endian 1.0\ncomment Patient: Maria Gonzalez\n"
        b"element vertex 1099511627776\nproperty float x\nproperty float y\nproperty float z\n"
        b"end_header\n" + b"\0" * 36)


@recipe
def ply_no_end_header(d):
    put(d, "jaw.ply", b"ply\nformat ascii 1.0\ncomment Patient: Maria Gonzalez\n"
        b"element vertex 1\nproperty float x\n" + b"comment filler\n" * 80000)


@recipe
def ply_ascii_short_body(d):
    put(d, "jaw.ply", b"ply\nformat ascii 1.0\ncomment Patient: Maria Gonzalez\nelement vertex 5\n"
        b"property float x\nproperty float y\nproperty float z\nend_header\n0 0 0\n1 0 0\n")


@recipe
def ply_list_count_lies(d):
    # a face whose uchar list count (255) runs past the end of the body
    put(d, "jaw.ply", b"ply\nformat binary_little_endian 1.0\ncomment Patient: Maria Gonzalez\n"
        b"element face 1\nproperty list uchar int vertex_indices\nend_header\n" + b"\xff" + b"\0" * 12)


# ---- OBJ / MTL ----

@recipe
def obj_line_too_long(d):
    put(d, "jaw.obj", b"# Patient: Maria Gonzalez\nv 1 2 3\nv " + b"1" * (2 << 20) + b"\n")


@recipe
def obj_binary_body(d):
    put(d, "jaw.obj", b"# Patient: Maria Gonzalez\nv 1 2 3\n" + bytes(range(256)) * 8)


@recipe
def mtl_invalid_utf8(d):
    put(d, "jaw.mtl", b"newmtl skin\xff\xfe\nmap_Kd Gonzalez_Maria_\xe9.png\n# Patient: Maria Gonzalez\n")


# ---- PDF (recognised, not read: unscanned, so a gate fails closed on an Rx form) ----

def pdf_with(content, binary):
    stream = b"BT /F1 12 Tf 72 700 Td (Patient: Maria Gonzalez  DOB 03/14/1961) Tj ET"
    body = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Title (" + content + b") /Author (Dr. Smile) >>"]
    out = b"%PDF-1.4\n" + (b"%\xe2\xe3\xcf\xd3\n" if binary else b"")
    offs = []
    for i, o in enumerate(body, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(body) + 1, xref)
    return out


@recipe
def pdf_rx_form(d):
    put(d, "rx.pdf", pdf_with(b"Rx Maria Gonzalez", True))


@recipe
def pdf_ascii_only(d):
    # all ASCII: the text handler took it and its strip changed lengths under the xref
    put(d, "rx.pdf", pdf_with(b"Rx Maria Gonzalez", False))


@recipe
def pdf_junk_before_header(d):
    # readers find the header anywhere in the first 1,024 bytes
    put(d, "rx.pdf", b"\x00\x01junk from a mail gateway\n" + pdf_with(b"Rx Maria Gonzalez", True))


@recipe
def pdf_damaged(d):
    put(d, "rx.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nPatient: Maria Gonzalez\n" + bytes(range(256)))


@recipe
def pdf_truncated(d):
    put(d, "rx.pdf", pdf_with(b"Rx Maria Gonzalez", True)[:300])


@recipe
def pdf_many_revisions(d):
    # 40 trailers: each earlier revision is a parse, so more than 32 is refused
    put(d, "rx.pdf", pdf_with(b"Rx Maria Gonzalez", True) + b"%%EOF\n" * 40)


# ---- 3Shape HPS ----

@recipe
def hps_bad_base64(d):
    put(d, "scan.dcm", b'<HPS version="1.1">\n  <Properties>\n'
        b'    <Property name="SID.Model.Metadata" value="PAA/AHgA!!not*base64!!"/>\n'
        b'  </Properties>\n</HPS>\n')


@recipe
def hps_utf16_odd(d):
    body = '<HPS version="1.1"><Comment>Patient: Maria Gonzalez</Comment></HPS>'.encode("utf-16-le")
    put(d, "scan.dcm", b"\xff\xfe" + body + b"<")


@recipe
def hps_doctype(d):
    put(d, "scan.dcm", b'<!DOCTYPE HPS [<!ENTITY p "Maria Gonzalez">]>\n<HPS version="1.1">'
        b'<Comment>Patient: &p;</Comment></HPS>\n')


# ---- JPEG (ITU T.81 B.1; Exif 2.32 4.5) ----

# a 2x2 greyscale baseline JPEG made by cjpeg (339 bytes)
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a1816"
    "16183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c6567"
    "63ffc0000b080002000201011100ffc4001f0000010501010101010100000000000000000102030405060708"
    "090a0bffc400b5100002010303020403050504040000017d0102030004110512213141061351610722711432"
    "8191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a43444546474849"
    "4a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3"
    "a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9ea"
    "f1f2f3f4f5f6f7f8f9faffda0008010100003f00e71634da3e45e9e95fffd9")


def tiff_le(entries, next_ifd=0, extra=b""):
    """A little-endian TIFF header and one IFD at 8: entries (tag, type, count, value
    bytes or offset int)."""
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    out += struct.pack("<H", len(entries))
    for tag, typ, count, val in entries:
        if isinstance(val, int):
            out += struct.pack("<HHII", tag, typ, count, val)
        else:
            out += struct.pack("<HHI", tag, typ, count) + val.ljust(4, b"\0")
    out += struct.pack("<I", next_ifd)
    return bytes(out + extra)


def with_app1(exif_tiff):
    seg = b"Exif\0\0" + exif_tiff
    return JPEG[:2] + b"\xff\xe1" + struct.pack(">H", len(seg) + 2) + seg + JPEG[2:]


@recipe
def jpeg_truncated_app1(d):
    put(d, "smile.jpg", JPEG[:2] + b"\xff\xe1\x40\x00Exif\0\0II*\0\x08\0\0\0")


@recipe
def jpeg_app1_length_too_short(d):
    put(d, "smile.jpg", JPEG[:2] + b"\xff\xe1\x00\x01" + JPEG[2:])


@recipe
def jpeg_exif_ifd_loop(d):
    text = b"Patient: Maria Gonzalez\0"
    # IFD0 (1 entry) at 8 ends at 26; its next-IFD pointer is 8: itself
    put(d, "smile.jpg", with_app1(tiff_le([(0x010E, 2, len(text), 26)], next_ifd=8, extra=text)))


@recipe
def jpeg_exif_offset_beyond(d):
    # ImageDescription points 4 GiB away; the text it lost sits orphaned in the segment
    text = b"Patient: Maria Gonzalez\0"
    put(d, "smile.jpg", with_app1(tiff_le([(0x010E, 2, 100000, 0xFFFFFF00)], extra=text)))


@recipe
def jpeg_truncated_scan(d):
    put(d, "smile.jpg", JPEG[:-6])


@recipe
def jpeg_com_length_beyond(d):
    put(d, "smile.jpg", JPEG[:2] + b"\xff\xfe\xff\xf0Patient: Maria Gonzalez")


# ---- PNG (PNG 3e 5.3 chunk layout) ----

def chunk(typ, data, crc=None):
    c = zlib.crc32(typ + data) if crc is None else crc
    return struct.pack(">I", len(data)) + typ + data + struct.pack(">I", c & 0xFFFFFFFF)


PNG_SIG = b"\x89PNG\r\n\x1a\n"
IHDR = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
IDAT = chunk(b"IDAT", zlib.compress(b"\0\x80"))
IEND = chunk(b"IEND", b"")


@recipe
def png_chunk_length_2p31(d):
    put(d, "shade.png", PNG_SIG + IHDR + struct.pack(">I", 0x80000000) + b"tEXtComment\0" + PHI)


@recipe
def png_bad_crc(d):
    put(d, "shade.png", PNG_SIG + IHDR + chunk(b"tEXt", b"Comment\0" + PHI, crc=0x12345678) + IDAT + IEND)


@recipe
def png_ztxt_bomb(d):
    # 256 MiB of zeros behind a zTXt keyword: about 250 KB compressed
    co = zlib.compressobj(9)
    z = b"".join(co.compress(b"\0" * (1 << 24)) for _ in range(16)) + co.flush()
    put(d, "shade.png", PNG_SIG + IHDR + chunk(b"zTXt", b"Comment\0\0" + z) + IDAT + IEND)


@recipe
def png_truncated(d):
    put(d, "shade.png", (PNG_SIG + IHDR + chunk(b"tEXt", b"Comment\0" + PHI) + IDAT)[:-7])


# ---- TIFF and BigTIFF (TIFF 6.0 section 2; BigTIFF design) ----

def tiff_image(extra_entries=(), next_ifd=0):
    # 1x1 8-bit greyscale, one strip of one byte at offset 8 + ifd size
    n = 8 + len(extra_entries)
    pix_off = 8 + 2 + 12 * n + 4
    entries = [(256, 3, 1, struct.pack("<H", 1)), (257, 3, 1, struct.pack("<H", 1)),
               (258, 3, 1, struct.pack("<H", 8)), (259, 3, 1, struct.pack("<H", 1)),
               (262, 3, 1, struct.pack("<H", 1)), (273, 4, 1, pix_off),
               (278, 3, 1, struct.pack("<H", 1)), (279, 4, 1, 1)]
    entries += list(extra_entries)
    entries.sort(key=lambda t: t[0])
    return tiff_le(entries, next_ifd=next_ifd, extra=b"\x80")


@recipe
def tiff_ifd_loop(d):
    desc = b"Patient: Maria Gonzalez\0"
    img = tiff_image([(0x010E, 2, len(desc), 0)], next_ifd=8)
    off = len(img)
    img = tiff_image([(0x010E, 2, len(desc), off)], next_ifd=8)
    put(d, "pano.tif", img + desc)


@recipe
def tiff_offset_beyond_file(d):
    put(d, "pano.tif", tiff_image([(0x010E, 2, 64, 0x7FFFFFF0)]))


@recipe
def tiff_strip_beyond_file(d):
    img = bytearray(tiff_image())
    # StripByteCounts (279) = 0x40000000: a 1 GiB strip in a 120-byte file
    i = img.find(struct.pack("<HHI", 279, 4, 1))
    struct.pack_into("<I", img, i + 8, 0x40000000)
    put(d, "pano.tif", bytes(img))


@recipe
def bigtiff_count_2p40(d):
    put(d, "pano.tif", b"II+\0" + struct.pack("<HHQ", 8, 0, 16) + struct.pack("<Q", 1 << 40) + b"\0" * 40)


@recipe
def tiff_exif_ifd_self(d):
    # ExifIFD (34665) pointing at IFD0 itself: a cycle through a sub-IFD
    desc = b"Patient: Maria Gonzalez\0"
    img = tiff_image([(0x010E, 2, len(desc), 0), (34665, 4, 1, 8)])
    img = tiff_image([(0x010E, 2, len(desc), len(img)), (34665, 4, 1, 8)])
    put(d, "pano.tif", img + desc)


# ---- XML (XML 1.0 5th ed.; 4.2 entity declarations) ----

@recipe
def xml_billion_laughs(d):
    ents = b'<!ENTITY lol "lol">\n'
    for i in range(1, 10):
        prev = b"&lol;" if i == 1 else b"&lol%d;" % (i - 1)
        ents += b'<!ENTITY lol%d "%s">\n' % (i, prev * 10)
    put(d, "order.xml", b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + ents + b']>\n<lolz>&lol9;</lolz>\n')


@recipe
def xml_external_entity(d):
    put(d, "order.xml", b'<?xml version="1.0"?>\n<!DOCTYPE o [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b"<order><patient>&x;</patient></order>\n")


@recipe
def xml_unclosed(d):
    put(d, "order.xml", b'<?xml version="1.0"?>\n<order><patient>Maria Gonzalez</patient>\n<notes>SSN 482-31-7765')


@recipe
def xml_utf16_without_bom(d):
    put(d, "order.xml", "<order><note>Patient: Maria Gonzalez</note></order>\n".encode("utf-16-le"))


@recipe
def xml_utf16_odd_without_bom(d):
    put(d, "order.xml", "<order><note>Patient: Maria Gonzalez</note></order>\n".encode("utf-16-le") + b">")


@recipe
def xml_deep_nesting(d):
    put(d, "order.xml", b"<a>" * 100000 + b"Patient: Maria Gonzalez" + b"</a>" * 100000)


# ---- JSON (RFC 8259) ----

@recipe
def json_deep_nesting(d):
    put(d, "case.json", b"[" * 100000 + b'"Patient: Maria Gonzalez"' + b"]" * 100000)


@recipe
def json_bad_escape(d):
    put(d, "case.json", b'{"Patient": {"FirstName": "Maria\\q", "LastName": "Gonzalez"}}\n')


@recipe
def json_truncated(d):
    put(d, "case.json", b'{"Patient": {"FirstName": "Maria", "LastName": "Gonza')


@recipe
def json_lone_surrogate(d):
    put(d, "case.json", b'{"note": "Patient: Maria Gonzalez \\ud800"}\n')


@recipe
def json_huge_number(d):
    put(d, "case.json", b'{"note": "Patient: Maria Gonzalez", "n": 1' + b"0" * 200000 + b"}\n")


# ---- HTML ----

@recipe
def html_unclosed_comment(d):
    put(d, "form.html", b"<html><body><p>Patient: Maria Gonzalez</p><!-- SSN 482-31-7765 never closed")


@recipe
def html_deep_nesting(d):
    put(d, "form.html", b"<html><body>" + b"<div>" * 200000 + b"Patient: Maria Gonzalez" + b"</div>" * 200000)


@recipe
def html_unterminated_tag(d):
    put(d, "form.html", b'<html><body><p>Patient: Maria Gonzalez</p><input value="SSN 482-31-7765')


# ---- text ----

@recipe
def text_utf16_odd(d):
    put(d, "export.txt", b"\xff\xfe" + "Patient: Maria Gonzalez\r\n".encode("utf-16-le") + b"!")


@recipe
def text_utf16be_odd(d):
    put(d, "export.txt", b"\xfe\xff" + "Patient: Maria Gonzalez\r\n".encode("utf-16-be") + b"!")


@recipe
def text_invalid_utf8(d):
    put(d, "notes.txt", b"caf\xc3\x28 \xff\xfe\x80 notes\n" + PHI)


@recipe
def text_binary_named_txt(d):
    put(d, "notes.txt", bytes(range(256)) * 16)


@recipe
def text_zero_byte(d):
    put(d, "empty.txt", b"")


@recipe
def text_one_long_line(d):
    # 8 MiB without a newline, an identifier at the very end
    put(d, "notes.txt", b"x" * (8 << 20) + b" SSN 482-31-7765")


# ---- archives (APPNOTE 6.3.10; POSIX tar) ----

def zip_bytes(entries, mode=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", mode) as z:
        for e in entries:
            if isinstance(e, zipfile.ZipInfo):
                z.writestr(e, e.comment)
            else:
                name, data = e
                zi = zipfile.ZipInfo(name, date_time=(2024, 5, 1, 12, 0, 0))
                zi.compress_type = mode
                z.writestr(zi, data)
    return buf.getvalue()


def zip_bomb(d, block):
    # one entry of 64 MiB (deflate: 65-165 KB, over the 100x / 16 MiB limit), an
    # identifier at its end
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        zi = zipfile.ZipInfo("notes.txt", date_time=(2024, 5, 1, 12, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        with z.open(zi, "w", force_zip64=True) as f:
            for _ in range(4):
                f.write(block)
            f.write(PHI)
    put(d, "bomb.zip", buf.getvalue())


@recipe
def zip_bomb_text(d):
    zip_bomb(d, b"clean filler line\n" * ((1 << 24) // 18))


@recipe
def zip_bomb_zeros(d):
    zip_bomb(d, b"\0" * (1 << 24))


@recipe
def zip_nested_depth(d):
    data = zip_bytes([("notes.txt", PHI)])
    for i in range(8):
        data = zip_bytes([("level%d.zip" % i, data)])
    put(d, "nested.zip", data)


@recipe
def zip_encrypted_entry(d):
    # general purpose flag bit 0 (APPNOTE 4.4.4: encrypted) on a stored entry
    z = bytearray(zip_bytes([("notes.txt", PHI)], mode=zipfile.ZIP_STORED))
    struct.pack_into("<H", z, 6, struct.unpack_from("<H", z, 6)[0] | 1)
    c = z.find(b"PK\x01\x02")
    struct.pack_into("<H", z, c + 8, struct.unpack_from("<H", z, c + 8)[0] | 1)
    put(d, "case.zip", bytes(z))


@recipe
def zip_path_traversal(d):
    put(d, "case.zip", zip_bytes([("notes.txt", b"clean notes\n"), ("../escape.txt", PHI)]))


@recipe
def zip_absolute_name(d):
    put(d, "case.zip", zip_bytes([("/tmp/escape.txt", PHI)]))


@recipe
def zip_symlink_entry(d):
    zi = zipfile.ZipInfo("link-to-passwd", date_time=(2024, 5, 1, 12, 0, 0))
    zi.create_system = 3
    zi.external_attr = (stat.S_IFLNK | 0o777) << 16
    zi.comment = b"/etc/passwd"
    put(d, "case.zip", zip_bytes([("notes.txt", b"clean notes\n"), zi]))


@recipe
def zip_duplicate_names(d):
    import warnings
    warnings.simplefilter("ignore")
    put(d, "case.zip", zip_bytes([("notes.txt", b"clean notes\n"), ("notes.txt", PHI)]))


@recipe
def zip_truncated_central_directory(d):
    z = zip_bytes([("notes.txt", PHI), ("more.txt", b"clean\n" * 100)])
    c = z.find(b"PK\x01\x02")
    put(d, "case.zip", z[:c + 30])


@recipe
def zip_truncated_entry(d):
    z = zip_bytes([("notes.txt", PHI + b"clean filler\n" * 4000), ("more.txt", PHI)])
    put(d, "case.zip", z[:len(z) // 3])


@recipe
def zip_size_lies(d):
    # the central directory says 10 bytes; the stored data is 64 KiB with an identifier at its end
    z = bytearray(zip_bytes([("notes.txt", b"x" * 65536 + PHI)], mode=zipfile.ZIP_STORED))
    c = z.find(b"PK\x01\x02")
    struct.pack_into("<I", z, c + 24, 10)
    struct.pack_into("<I", z, 22, 10)
    put(d, "case.zip", bytes(z))


@recipe
def tar_path_traversal(d):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo("../../escape.txt")
        ti.size = len(PHI)
        ti.mtime = 1714564800
        t.addfile(ti, io.BytesIO(PHI))
    put(d, "case.tar", buf.getvalue())


@recipe
def tgz_truncated(d):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        for i in range(4):
            data = PHI + b"clean filler\n" * 2000
            ti = tarfile.TarInfo("notes%d.txt" % i)
            ti.size = len(data)
            ti.mtime = 1714564800
            t.addfile(ti, io.BytesIO(data))
    b = buf.getvalue()
    put(d, "case.tar.gz", b[:len(b) // 2])


# ---- names ----

@recipe
def name_non_utf8(d):
    put(d, "caf\udce9-\udcff.txt".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape"), PHI)


@recipe
def name_very_long(d):
    put(d, "n" * 251 + ".txt", PHI)


@recipe
def name_with_newline(d):
    put(d, "notes\nfake-line.txt", PHI)


def deep(d, levels, name):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        f = os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(f, PHI)
        os.close(f)
    finally:
        os.close(fd)


@recipe
def name_path_too_long(d):
    # 30 directories of 250-byte names: a 7,500-byte path (PATH_MAX is 4096)
    deep(d, 30, "p" * 250)


@recipe
def name_nesting_too_deep(d):
    # 100 nested directories (the walker's limit is 64)
    deep(d, 100, "d")


# ---- the file system ----

@recipe
def fs_unreadable_file(d):
    put(d, "locked.txt", PHI, mode=0)


@recipe
def fs_unreadable_dir(d):
    put(d, "locked/notes.txt", PHI)
    os.chmod(os.path.join(d, "locked"), 0)


@recipe
def fs_dir_without_x(d):
    put(d, "nox/notes.txt", PHI)
    os.chmod(os.path.join(d, "nox"), 0o644)


@recipe
def fs_symlink_loop(d):
    os.symlink("loop-b", os.path.join(d, "loop-a"))
    os.symlink("loop-a", os.path.join(d, "loop-b"))


@recipe
def fs_symlink_out_of_tree(d):
    outside = os.path.join(os.path.dirname(os.path.abspath(d)), "outside")
    put(outside, "secret.txt", PHI)
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(d, "escape.txt"))


@recipe
def fs_dir_symlink_to_ancestor(d):
    os.mkdir(os.path.join(d, "sub"))
    os.symlink("..", os.path.join(d, "sub", "up"))


@recipe
def fs_fifo(d):
    os.mkfifo(os.path.join(d, "pipe.dcm"))


@recipe
def fs_socket(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cwd = os.getcwd()
    os.chdir(d)  # AF_UNIX paths are short: bind relative to the tree
    try:
        s.bind("sock.txt")
    finally:
        os.chdir(cwd)
        s.close()


@recipe
def fs_char_device(d):
    if os.geteuid() != 0:
        print("mknod needs root")
        sys.exit(3)
    os.mknod(os.path.join(d, "null.dcm"), stat.S_IFCHR | 0o644, os.makedev(1, 3))


@recipe
def fs_vanish(d):
    # slow.txt keeps the single worker busy while the test removes victim.txt
    put(d, "a-slow.txt", (b"y" * 127 + b"\n") * (48 << 13))
    put(d, "victim.txt", PHI)


@recipe
def fs_grow(d):
    # the test appends to grow.txt for the whole run
    put(d, "grow.txt", (b"z" * 127 + b"\n") * (32 << 13))


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for k in sorted(RECIPES):
            print(k)
        return 0
    if len(argv) != 3 or argv[1] not in RECIPES:
        print("usage: make_case.py ID DIR | --list", file=sys.stderr)
        return 2
    os.umask(0o022)
    RECIPES[argv[1]](argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
