/* png.c - PNG scan and chunk-level strip (see png.h).
 *
 * Walk: the signature, then chunks to IEND; every length is checked against the
 * file and against 2^31 - 1 (PNG 3e 5.3) before anything is read or allocated.
 * CRCs are checked for every chunk when stripping, and for every chunk but
 * IDAT/fdAT when scanning (a scan reads only metadata).  A mismatch is an error.
 *
 * Scan: tEXt (Latin-1), zTXt and compressed iTXt (inflated with the output capped
 * at limits->max_inflate: a bomb is an error, not an allocation), iTXt
 * XML:com.adobe.xmp through xmp.c, "Raw profile type exif/iptc/xmp/APP1"
 * (ImageMagick, Pillow: hex-encoded) through exif.c/imgmeta.c/xmp.c, eXIf through
 * exif.c, tIME as a date, the iCCP profile name, private keywords themselves, and
 * the printable runs of any other ancillary chunk and of bytes after IEND.
 *
 * Strip (allowlist): IHDR, PLTE, IDAT, IEND, tRNS, gAMA, cHRM, sRGB, iCCP, cICP,
 * mDCV, cLLI, sBIT, pHYs, bKGD, acTL, fcTL, fdAT are copied byte for byte with
 * their CRCs (IDAT is never recompressed); an iCCP whose name produced a finding
 * is rewritten with the name "ICC profile" and a new CRC (its profile bytes
 * unchanged).  When eXIf held an Orientation, a fresh minimal eXIf holding only it
 * goes before the first IDAT.  Everything else is dropped; an unknown critical
 * chunk fails closed.  The copy is re-walked (and with --verify decoded by libpng
 * and compared) before a byte is written.
 *
 * Threading: reentrant.  Ownership: input released here; scratch freed here.
 */
#include "png.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "exif.h"
#include "icc.h"
#include "imgmeta.h"
#include "xmp.h"

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

static const char *const keep_types[] = {
	"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP",
	"cICP", "mDCV", "cLLI", "sBIT", "pHYs", "bKGD", "acTL", "fcTL", "fdAT",
};
/* kept chunks that define the pixels (hashed) */
static const char *const image_types[] = {"IHDR", "PLTE", "tRNS", "IDAT", "fcTL", "fdAT", "acTL"};

static const struct {
	const char *kw, *cls;
	int sev;
} known_kw[] = {
	{"Title", NULL, 0},         {"Author", "name", 1},      {"Description", NULL, 0},
	{"Copyright", NULL, 0},     {"Creation Time", "date", 0}, {"Software", NULL, 0},
	{"Disclaimer", NULL, 0},    {"Warning", NULL, 0},       {"Source", NULL, 0},
	{"Comment", NULL, 0},       {"date:create", "date", 0}, {"date:modify", "date", 0},
	{"date:timestamp", "date", 0}, {"XML:com.adobe.xmp", NULL, 0},
	{"Raw profile type exif", NULL, 0}, {"Raw profile type APP1", NULL, 0},
	{"Raw profile type iptc", NULL, 0}, {"Raw profile type 8bim", NULL, 0},
	{"Raw profile type xmp", NULL, 0},
};

struct piece {
	size_t off, len;
	int side; /* 1: off/len index the side buffer (rewritten chunks) */
};

struct pw {
	struct phi_fctx *ctx; /* NULL: check mode */
	struct phi_error *err;
	const unsigned char *p;
	size_t n;
	int strip, hashing;
	struct phi_sha256 h;
	unsigned iccp_kept; /* iCCP chunks the copy keeps (an unreadable profile is dropped) */
	struct piece *keep;
	size_t nkeep, capkeep;
	size_t exif_at; /* index in keep before which a minimal eXIf goes; SIZE_MAX none */
	struct phi_dbuf side;
	struct phi_png_check chk;
	unsigned icc_blanked; /* ICC text tags blanked in the kept profile */
	int icc_dropped;      /* the profile could not be read and is dropped */
};

static uint32_t be32(const unsigned char *q)
{
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static int in_list(const unsigned char *t, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(t, l[i], 4))
			return 1;
	return 0;
}

static int add_piece(struct pw *w, size_t off, size_t len, int side)
{
	if (!w->strip)
		return 0;
	if (w->nkeep == w->capkeep) {
		size_t nc = w->capkeep ? w->capkeep * 2 : 32;
		struct piece *t = realloc(w->keep, nc * sizeof *t);
		if (!t)
			return phi_fail(w->err, PHI_ENOMEM, "out of memory stripping a PNG");
		w->keep = t;
		w->capkeep = nc;
	}
	w->keep[w->nkeep++] = (struct piece){off, len, side};
	return 0;
}

/* Inflate src into a new buffer of at most cap bytes. */
static int inflate_capped(struct pw *w, const unsigned char *src, size_t n, size_t cap,
                          unsigned char **out, size_t *outn)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return phi_fail(w->err, PHI_ENOMEM, "cannot start zlib");
	if (cap == 0)
		cap = 1;
	size_t want = n > (SIZE_MAX - 256) / 4 ? cap : n * 4 + 256;
	size_t bc = want < cap ? want : cap, got = 0;
	if (bc == 0)
		bc = 1;
	unsigned char *b = malloc(bc);
	int rc = 0, zr = Z_OK;
	if (!b) {
		inflateEnd(&z);
		return phi_fail(w->err, PHI_ENOMEM, "out of memory inflating PNG text");
	}
	z.next_in = (unsigned char *)(uintptr_t)src;
	z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	for (;;) {
		if (got == bc) {
			if (bc >= cap) {
				rc = phi_fail(w->err, PHI_ELIMIT,
				              "PNG text inflates beyond the %zu-byte limit", cap);
				break;
			}
			size_t nc = bc * 2 < cap ? bc * 2 : cap;
			unsigned char *t = realloc(b, nc);
			if (!t) {
				rc = phi_fail(w->err, PHI_ENOMEM, "out of memory inflating PNG text");
				break;
			}
			b = t;
			bc = nc;
		}
		z.next_out = b + got;
		z.avail_out = (uInt)(bc - got > UINT32_MAX ? UINT32_MAX : bc - got);
		zr = inflate(&z, Z_NO_FLUSH);
		got = (size_t)(z.next_out - b);
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_OK && z.avail_out == 0)
			continue;
		if (zr != Z_OK || z.avail_in == 0) {
			rc = phi_fail(w->err, PHI_EFORMAT, "PNG compressed text is not valid zlib data");
			break;
		}
	}
	inflateEnd(&z);
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	*outn = got;
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "Raw profile type X": "\nX\n   <len>\n<hex ...>" (ImageMagick). */
static int raw_profile(struct pw *w, const char *kind, const unsigned char *s, size_t n)
{
	size_t i = 0, nl = 0;
	while (i < n && nl < 3)
		if (s[i++] == '\n')
			nl++;
	unsigned char *b = malloc(n / 2 + 1);
	if (!b)
		return phi_fail(w->err, PHI_ENOMEM, "out of memory decoding a raw profile");
	size_t bn = 0;
	int hi = -1;
	for (; i < n; i++) {
		int v = hexval(s[i]);
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			b[bn++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	int rc;
	const unsigned char *q = b;
	if (bn >= 6 && !memcmp(q, "Exif\0\0", 6)) {
		q += 6;
		bn -= 6;
	}
	if (!strcmp(kind, "exif") || (bn >= 4 && (!memcmp(q, "II*", 3) || !memcmp(q, "MM\0*", 4)))) {
		rc = phi_exif_scan(w->ctx, q, bn, PHI_NO_OFFSET, "PNG raw Exif", 0, NULL);
		if (rc == PHI_EFORMAT)
			rc = phi_img_runs(w->ctx, "PNG raw profile", q, bn, PHI_NO_OFFSET);
	} else if (!strcmp(kind, "iptc") || !strcmp(kind, "8bim")) {
		rc = bn >= 4 && !memcmp(q, "8BIM", 4) ? phi_irb_scan(w->ctx, q, bn, PHI_NO_OFFSET)
		                                      : phi_iptc_scan(w->ctx, q, bn, PHI_NO_OFFSET);
	} else if (!strcmp(kind, "xmp") || bn > 29) {
		static const char sig[] = "http://ns.adobe.com/xap/1.0/";
		if (bn >= sizeof sig && !memcmp(q, sig, sizeof sig)) {
			q += sizeof sig;
			bn -= sizeof sig;
		}
		rc = phi_xmp_scan(w->ctx, q, bn, PHI_NO_OFFSET, "PNG raw XMP");
	} else {
		rc = phi_img_runs(w->ctx, "PNG raw profile", q, bn, PHI_NO_OFFSET);
	}
	free(b);
	return rc;
}

/* One text value of a tEXt/zTXt/iTXt chunk. */
static int text_value(struct pw *w, const char *ctype, const unsigned char *kw, size_t kwl,
                      uint64_t kwoff, const unsigned char *s, size_t n, uint64_t off)
{
	char where[64];
	const char *cls = NULL;
	int sev = 0, known = 0, rc;
	char k[80];
	size_t kl = kwl < sizeof k - 1 ? kwl : sizeof k - 1;
	memcpy(k, kw, kl);
	k[kl] = 0;
	for (size_t i = 0; i < sizeof known_kw / sizeof known_kw[0]; i++)
		if (!strcmp(known_kw[i].kw, k)) {
			known = 1;
			cls = known_kw[i].cls;
			sev = known_kw[i].sev;
		}
	if (!known && !strncmp(k, "exif:", 5))
		known = 1; /* ImageMagick's copies of Exif tags */
	if (known) {
		snprintf(where, sizeof where, "%s:%s", ctype, k);
	} else {
		snprintf(where, sizeof where, "%s:(private keyword)", ctype);
		char kwhere[32];
		snprintf(kwhere, sizeof kwhere, "%s keyword", ctype);
		if ((rc = phi_img_field(w->ctx, kwhere, kw, kwl, kwoff, NULL,
		                        NULL, NULL, 0)))
			return rc;
	}
	if (!strcmp(k, "XML:com.adobe.xmp"))
		return phi_xmp_scan(w->ctx, s, n, off, "PNG XMP");
	if (!strncmp(k, "Raw profile type ", 17))
		return raw_profile(w, k + 17, s, n);
	return phi_img_field(w->ctx, where, s, n, off, NULL, cls, "png-text", sev);
}

static int text_chunk(struct pw *w, const unsigned char *t, size_t data, size_t len)
{
	const unsigned char *d = w->p + data;
	const unsigned char *z = memchr(d, 0, len);
	size_t kwl = z ? (size_t)(z - d) : len;
	char ctype[5];
	memcpy(ctype, t, 4);
	ctype[4] = 0;
	/* the keyword itself: report it with the chunk's file offset */
	if (!z)
		return phi_img_field(w->ctx, ctype, d, len, data, NULL, NULL, NULL, 0);
	size_t i = kwl + 1;
	if (!memcmp(t, "tEXt", 4))
		return text_value(w, ctype, d, kwl, data, d + i, len - i, data + i);
	if (!memcmp(t, "zTXt", 4)) {
		if (i >= len)
			return phi_fail_at(w->err, PHI_EFORMAT, data, "PNG zTXt chunk is truncated");
		unsigned char *b = NULL;
		size_t bn = 0;
		int rc = inflate_capped(w, d + i + 1, len - i - 1, w->ctx->limits->max_inflate, &b, &bn);
		if (rc)
			return rc;
		rc = text_value(w, ctype, d, kwl, data, b, bn, PHI_NO_OFFSET);
		free(b);
		return rc;
	}
	/* iTXt: flag, method, language NUL, translated keyword NUL, text */
	if (len - i < 2)
		return phi_fail_at(w->err, PHI_EFORMAT, data, "PNG iTXt chunk is truncated");
	int comp = d[i];
	size_t j = i + 2;
	const unsigned char *z2 = memchr(d + j, 0, len - j);
	if (!z2)
		return phi_fail_at(w->err, PHI_EFORMAT, data, "PNG iTXt chunk is truncated");
	size_t lang = j;
	j = (size_t)(z2 - d) + 1;
	const unsigned char *z3 = memchr(d + j, 0, len - j);
	if (!z3)
		return phi_fail_at(w->err, PHI_EFORMAT, data, "PNG iTXt chunk is truncated");
	int rc = phi_img_field(w->ctx, "iTXt translated keyword", d + j, (size_t)(z3 - d) - j,
	                       data + j, NULL, NULL, NULL, 0);
	(void)lang;
	if (rc)
		return rc;
	j = (size_t)(z3 - d) + 1;
	if (!comp)
		return text_value(w, ctype, d, kwl, data, d + j, len - j, data + j);
	unsigned char *b = NULL;
	size_t bn = 0;
	rc = inflate_capped(w, d + j, len - j, w->ctx->limits->max_inflate, &b, &bn);
	if (rc)
		return rc;
	rc = text_value(w, ctype, d, kwl, data, b, bn, PHI_NO_OFFSET);
	free(b);
	return rc;
}

static int time_chunk(struct pw *w, size_t data, size_t len)
{
	const unsigned char *d = w->p + data;
	char txt[40];
	uint32_t map[sizeof txt + 1];
	if (len != 7)
		return phi_img_runs(w->ctx, "tIME", d, len, data);
	int n = snprintf(txt, sizeof txt, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)d[0] << 8 | d[1],
	                 d[2], d[3], d[4], d[5], d[6]);
	if (n <= 0 || (size_t)n >= sizeof txt)
		return 0;
	for (int i = 0; i < n; i++)
		map[i] = 0;
	map[n] = 7;
	return phi_img_field(w->ctx, "tIME", (const unsigned char *)txt, (size_t)n, data, map,
	                     "date", "png-time", 0);
}

/* iCCP: scan the name and the profile's text tags (inflated, capped); in strip
 * mode rename it when the rules flagged the name, blank flagged profile text
 * (icc.h) and deflate the profile again, or drop a profile that cannot be read. */
static int iccp_chunk(struct pw *w, size_t pos, size_t data, size_t len)
{
	const unsigned char *d = w->p + data;
	const unsigned char *z = memchr(d, 0, len);
	w->chk.iccp++;
	if (!z)
		return phi_fail_at(w->err, PHI_EFORMAT, data, "PNG iCCP chunk has no profile name");
	size_t kwl = (size_t)(z - d);
	if (!w->ctx) {
		w->iccp_kept++;
		return add_piece(w, pos, len + 12, 0);
	}
	struct phi_field f = {0};
	struct phi_edits e = {0};
	f.text = (const char *)d;
	f.len = kwl;
	f.kind = PHI_FIELD_TEXT;
	f.where = "iCCP profile name";
	f.offset = data;
	f.report_to = kwl;
	int rc = kwl ? w->ctx->sink_ops->field(w->ctx->sink, &f, w->strip ? &e : NULL) : 0;
	if (rc)
		return rc;
	/* the profile: compression method byte, then zlib data */
	unsigned char *prof = NULL, *patch = NULL, *zb = NULL;
	size_t pn = 0;
	struct phi_icc_result r = {0};
	size_t zoff = kwl + 2;
	if (zoff > len) {
		r.unparsed = 1;
	} else {
		rc = inflate_capped(w, d + zoff, len - zoff, w->ctx->limits->max_inflate, &prof, &pn);
		if (rc == PHI_EFORMAT) { /* not zlib: no reader can show it either */
			r.unparsed = 1;
			rc = 0;
		} else if (rc) {
			return rc;
		}
	}
	if (prof && w->strip && !(patch = malloc(pn ? pn : 1)))
		rc = phi_fail(w->err, PHI_ENOMEM, "out of memory stripping a PNG");
	if (patch)
		memcpy(patch, prof, pn);
	if (!rc && prof)
		rc = phi_icc_scan(w->ctx, prof, pn, PHI_NO_OFFSET, "PNG iCCP profile", patch, &r);
	if (rc || !w->strip)
		goto out;
	if (r.unparsed) {
		w->icc_dropped = 1; /* cannot be shown clean: dropped */
		goto out;
	}
	w->iccp_kept++;
	w->icc_blanked += r.blanked;
	if (e.n == 0 && r.blanked == 0) {
		rc = add_piece(w, pos, len + 12, 0);
		goto out;
	}
	/* rewrite: the name (renamed when flagged), method 0, the profile (deflated again
	 * when text was blanked) */
	static const char name[] = "ICC profile"; /* + NUL */
	const unsigned char *nm = e.n ? (const unsigned char *)name : d;
	size_t nml = e.n ? sizeof name - 1 : kwl;
	const unsigned char *zd = d + zoff;
	size_t zn = len - zoff;
	if (r.blanked) {
		uLongf bound = compressBound((uLong)pn);
		zb = malloc(bound);
		if (!zb || compress2(zb, &bound, patch, (uLong)pn, 9) != Z_OK) {
			rc = phi_fail(w->err, PHI_ENOMEM, "cannot deflate the ICC profile");
			goto out;
		}
		zd = zb;
		zn = bound;
	}
	size_t nl = nml + 2 + zn, at = w->side.n;
	if (nl > 0x7FFFFFFFu) {
		rc = phi_fail(w->err, PHI_ELIMIT, "rewritten PNG iCCP chunk is too large");
		goto out;
	}
	unsigned char hdr[8] = {(unsigned char)(nl >> 24), (unsigned char)(nl >> 16),
	                        (unsigned char)(nl >> 8), (unsigned char)nl, 'i', 'C', 'C', 'P'};
	static const unsigned char nul_method[2] = {0, 0};
	uLong crc = crc32(0, hdr + 4, 4);
	crc = crc32(crc, nm, (uInt)nml);
	crc = crc32(crc, nul_method, 2);
	crc = crc32(crc, zd, (uInt)zn);
	if ((rc = phi_dbuf_add(&w->side, hdr, 8)) || (rc = phi_dbuf_add(&w->side, nm, nml)) ||
	    (rc = phi_dbuf_add(&w->side, nul_method, 2)) || (rc = phi_dbuf_add(&w->side, zd, zn)) ||
	    (rc = phi_dbuf_u32(&w->side, (uint32_t)crc, 1)))
		rc = phi_fail(w->err, rc, "out of memory stripping a PNG");
	else
		rc = add_piece(w, at, w->side.n - at, 1);
out:
	free(prof);
	free(patch);
	free(zb);
	return rc;
}

static int is_mini_exif(const unsigned char *d, size_t len)
{
	unsigned char mini[PHI_EXIF_MINI_LEN];
	if (len != PHI_EXIF_MINI_LEN || d[18] < 1 || d[18] > 8)
		return 0;
	phi_exif_mini(mini, d[18]);
	return !memcmp(d, mini, sizeof mini);
}

static int walk_chunks(struct pw *w)
{
	const unsigned char *p = w->p;
	size_t n = w->n, pos = 8;
	int rc = 0, first = 1;

	if (n < 8 || memcmp(p, png_sig, 8))
		return phi_fail(w->err, PHI_EFORMAT, "not a PNG: bad signature");
	w->exif_at = SIZE_MAX;
	for (;;) {
		if (n - pos >= 4 && be32(p + pos) > 0x7FFFFFFFu)
			return phi_fail_at(w->err, PHI_EFORMAT, pos, "PNG chunk length exceeds 2^31-1");
		if (n - pos < 12)
			return phi_fail_at(w->err, PHI_EFORMAT, pos, "PNG ends before IEND");
		uint32_t len = be32(p + pos);
		const unsigned char *t = p + pos + 4;
		if (len > n - pos - 12)
			return phi_fail_at(w->err, PHI_EFORMAT, pos,
			                   "PNG chunk length runs past the end of the file");
		for (int i = 0; i < 4; i++)
			if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
				return phi_fail_at(w->err, PHI_EFORMAT, pos, "PNG chunk type is not four letters");
		size_t data = pos + 8;
		int idat = !memcmp(t, "IDAT", 4) || !memcmp(t, "fdAT", 4);
		if (w->strip || !idat) {
			uLong crc = crc32(0, t, 4);
			size_t left = len;
			const unsigned char *q = p + data;
			while (left) {
				uInt k = left > 0x40000000u ? 0x40000000u : (uInt)left;
				crc = crc32(crc, q, k);
				q += k;
				left -= k;
			}
			if ((uint32_t)crc != be32(p + data + len))
				return phi_fail_at(w->err, PHI_EFORMAT, pos, "PNG CRC mismatch in a %.4s chunk",
				                   (const char *)t);
		}
		if (first && memcmp(t, "IHDR", 4))
			return phi_fail_at(w->err, PHI_EFORMAT, pos, "PNG does not start with IHDR");
		first = 0;
		size_t next = data + len + 4;
		if (!memcmp(t, "iCCP", 4)) {
			rc = iccp_chunk(w, pos, data, len);
		} else if (in_list(t, keep_types, sizeof keep_types / sizeof keep_types[0])) {
			if (idat && w->exif_at == SIZE_MAX)
				w->exif_at = w->nkeep;
			if (w->hashing && in_list(t, image_types, sizeof image_types / sizeof image_types[0]))
				phi_sha256_update(&w->h, p + pos, len + 12);
			rc = add_piece(w, pos, len + 12, 0);
		} else if (!(t[0] & 0x20)) {
			return phi_fail_at(w->err, PHI_EFORMAT, pos,
			                   "PNG has an unknown critical chunk: cannot be read safely");
		} else if (!w->ctx) {
			if (!memcmp(t, "eXIf", 4) && is_mini_exif(p + data, len)) {
				if (!w->chk.orientation)
					w->chk.orientation = p[data + 18];
			} else {
				w->chk.foreign++;
			}
		} else {
			w->chk.foreign++;
			if (!memcmp(t, "tEXt", 4) || !memcmp(t, "zTXt", 4) || !memcmp(t, "iTXt", 4)) {
				rc = text_chunk(w, t, data, len);
			} else if (!memcmp(t, "eXIf", 4)) {
				struct phi_exif_info info = {0};
				const unsigned char *d = p + data;
				size_t dl = len, skip = 0;
				if (dl >= 6 && !memcmp(d, "Exif\0\0", 6))
					skip = 6; /* some writers keep the JPEG APP1 header */
				rc = phi_exif_scan(w->ctx, d + skip, dl - skip, data + skip, "Exif", 0, &info);
				if (rc == PHI_EFORMAT)
					rc = phi_img_runs(w->ctx, "eXIf (unparsed)", d, dl, data);
				else if (!rc && info.skipped) /* as jpeg.c: bytes no tag reached */
					rc = phi_img_runs(w->ctx, "eXIf (partly unparsed)", d, dl, data);
				if (!w->chk.orientation)
					w->chk.orientation = info.orientation;
			} else if (!memcmp(t, "tIME", 4)) {
				rc = time_chunk(w, data, len);
			} else {
				char where[32];
				snprintf(where, sizeof where, "PNG %.4s chunk", (const char *)t);
				rc = phi_img_runs(w->ctx, where, p + data, len, data);
			}
		}
		if (rc)
			return rc;
		pos = next;
		if (!memcmp(t, "IEND", 4))
			break;
	}
	w->chk.trailer = n - pos;
	if (w->chk.trailer && w->ctx && (rc = phi_img_runs(w->ctx, "after IEND", p + pos, n - pos, pos)))
		return rc;
	return 0;
}

/* The walk, with the image hash started before and finished (or released, on any
 * error) after it. */
static int walk(struct pw *w)
{
	struct phi_sha256 *h = w->hashing ? &w->h : NULL;
	int rc = phi_img_hash_begin(h, w->err);
	if (!rc)
		rc = phi_img_hash_end(h, walk_chunks(w), w->chk.pixels_sha256, w->err);
	return rc;
}

int phi_png_check(const unsigned char *p, size_t n, struct phi_png_check *out,
                  struct phi_error *err)
{
	struct pw w = {0};
	w.err = err;
	w.p = p;
	w.n = n;
	w.hashing = 1;
	int rc = walk(&w);
	*out = w.chk;
	free(w.keep);
	phi_dbuf_free(&w.side);
	return rc;
}

static int build(struct pw *w, struct phi_dbuf *o)
{
	int rc = phi_dbuf_add(o, png_sig, 8);
	for (size_t i = 0; i <= w->nkeep && !rc; i++) {
		if (i == w->exif_at && w->chk.orientation) {
			unsigned char c[12 + PHI_EXIF_MINI_LEN] = {0, 0, 0, PHI_EXIF_MINI_LEN, 'e', 'X', 'I', 'f'};
			phi_exif_mini(c + 8, w->chk.orientation);
			uLong crc = crc32(0, c + 4, 4 + PHI_EXIF_MINI_LEN);
			for (int k = 0; k < 4; k++)
				c[8 + PHI_EXIF_MINI_LEN + k] = (unsigned char)(crc >> (24 - 8 * k));
			rc = phi_dbuf_add(o, c, sizeof c);
		}
		if (i == w->nkeep || rc)
			break;
		const struct piece *k = &w->keep[i];
		rc = phi_dbuf_add(o, (k->side ? w->side.p : w->p) + k->off, k->len);
	}
	if (rc)
		return phi_fail(w->err, rc, "cannot hold the stripped PNG in memory");
	return 0;
}

/* Decode both with libpng's simplified API and compare.  1 identical, 0 not
 * decodable here (too large), or PHI_EVERIFY. */
static int decode_one(const unsigned char *p, size_t n, size_t max, unsigned char **px,
                      size_t *sz)
{
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&im, p, n))
		return -1;
	im.format = (im.format & PNG_FORMAT_FLAG_LINEAR) ? PNG_FORMAT_LINEAR_RGB_ALPHA
	                                                 : PNG_FORMAT_RGBA;
	size_t s = PNG_IMAGE_SIZE(im);
	if (s == 0 || s > max) {
		png_image_free(&im);
		return 0;
	}
	unsigned char *b = malloc(s);
	if (!b || !png_image_finish_read(&im, NULL, b, 0, NULL)) {
		free(b);
		png_image_free(&im);
		return -1;
	}
	*px = b;
	*sz = s;
	return 1;
}

static int decode_compare(const unsigned char *a, size_t an, const unsigned char *b, size_t bn,
                          size_t max, struct phi_error *err)
{
	unsigned char *pa = NULL, *pb = NULL;
	size_t sa = 0, sb = 0;
	int ra = decode_one(a, an, max, &pa, &sa);
	if (ra <= 0)
		return 0;
	int rb = decode_one(b, bn, max, &pb, &sb);
	int res = rb == 1 && sa == sb && !memcmp(pa, pb, sa)
	              ? 1
	              : phi_fail(err, PHI_EVERIFY, "stripped PNG does not decode to the same pixels");
	free(pa);
	free(pb);
	return res;
}

static int png_scan(struct phi_fctx *ctx)
{
	struct phi_img_in in;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	struct pw w = {0};
	w.ctx = ctx;
	w.err = ctx->err;
	w.p = in.p;
	w.n = in.n;
	w.strip = ctx->out_fd >= 0;
	w.hashing = w.strip;
	phi_dbuf_init(&w.side, ctx->limits->max_image_out);
	rc = walk(&w);
	if (!rc && w.strip) {
		struct phi_dbuf o;
		struct phi_png_check c;
		int d = 0;
		phi_dbuf_init(&o, ctx->limits->max_image_out);
		rc = build(&w, &o);
		if (!rc && (rc = phi_png_check(o.p, o.n, &c, ctx->err)) == 0 &&
		    (c.foreign || c.trailer || c.iccp != w.iccp_kept ||
		     c.orientation != w.chk.orientation || strcmp(c.pixels_sha256, w.chk.pixels_sha256)))
			rc = phi_fail(ctx->err, PHI_EVERIFY, "stripped PNG failed its self-check");
		if (!rc && phi_img_verify(ctx) &&
		    (d = decode_compare(in.p, in.n, o.p, o.n, ctx->limits->max_verify_bytes,
		                        ctx->err)) < 0)
			rc = d;
		if (!rc)
			rc = phi_img_record(ctx, d ? "decoded-identical" : "idat-identical",
			                    w.chk.pixels_sha256, c.pixels_sha256, "chunks_dropped",
			                    w.chk.foreign);
		if (!rc)
			rc = phi_img_icc_facts(ctx, w.icc_blanked, w.icc_dropped);
		if (!rc)
			rc = phi_output_write(ctx, o.p, o.n);
		phi_dbuf_free(&o);
	}
	free(w.keep);
	phi_dbuf_free(&w.side);
	phi_img_release(&in);
	return rc;
}

static int png_detect(const unsigned char *h, size_t n, const char *name)
{
	(void)name;
	return n >= 8 && !memcmp(h, png_sig, 8) ? 100 : 0;
}

const struct phi_format phi_format_png = {
	.name = "png",
	.detect = png_detect,
	.scan = png_scan,
	.can_strip = 1,
};
