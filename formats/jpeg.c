/* jpeg.c - JPEG scan and lossless strip (see jpeg.h).
 *
 * Walk: SOI, then marker segments to EOI (T.81 B.1.1.2: any number of 0xFF fill
 * bytes may precede a marker); after each SOS the entropy-coded data runs to the
 * next marker other than a stuffed 0xFF00 or RST0-7, and the walk goes on through
 * every scan of a progressive or multi-scan file.  Every length is checked against
 * the file before use.
 *
 * Scan: APP1 Exif (exif.c), APP1 XMP and Extended XMP (xmp.c; Extended XMP is
 * reassembled per GUID, capped by limits->max_inflate), APP13 Photoshop/IPTC,
 * COM, every other APPn and the bytes after EOI (printable runs).  ICC profiles,
 * JFIF and Adobe APP14 are kept by strip and not scanned: they carry rendering data.
 *
 * Strip (allowlist, reference image-metadata.md 6): SOI; the first JFIF APP0
 * rewritten without its thumbnail; a fresh 26-byte Exif holding only IFD0
 * Orientation when the input had one, in Exif or else in XMP tiff:Orientation
 * (original IFDs are never copied); then, in
 * their order, SOF0-15, DHT, DAC, DQT, DRI, DNL, DHP, EXP, SOS with its scan data,
 * RST/TEM, every ICC_PROFILE APP2 chunk and Adobe APP14; EOI.  Everything else is
 * dropped, including all bytes after EOI.  Unknown or reserved markers fail closed.
 * The copy is built in memory, re-walked (no foreign segment, same ICC chunk count
 * and orientation, identical SHA-256 over the kept image segments) and, with
 * --verify, decoded with libjpeg-turbo and compared pixel for pixel, before a
 * byte is written: a failure writes nothing (also in filter mode).
 *
 * Truncated files: scan data that runs to the end of the file without EOI, and a
 * file that ends between segments, are errors (reported unscanned, exit 2):
 * nothing after the cut can be shown to be clean, and a strip would publish a
 * file no better than the input.
 *
 * Threading: reentrant; libjpeg-turbo handles are per call.
 * Ownership: the input is mapped or buffered by imgmeta.c and released here.
 */
#include "jpeg.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "exif.h"
#include "imgmeta.h"
#include "xmp.h"

#define EXT_XMP_MAX 4
#define JPEG_VERIFY_MAX_PIXELS ((size_t)1 << 28)

static const char xmp_sig[] = "http://ns.adobe.com/xap/1.0/";           /* + NUL: 29 */
static const char extxmp_sig[] = "http://ns.adobe.com/xmp/extension/";  /* + NUL: 35 */

struct range {
	size_t off, len;
};

struct extxmp {
	unsigned char guid[32];
	uint32_t full;
	unsigned char *buf;
};

struct jw {
	struct phi_fctx *ctx; /* NULL: check mode, nothing is emitted */
	struct phi_error *err;
	const unsigned char *p;
	size_t n;
	int hashing;
	int planning;
	crypto_hash_sha256_state h;
	struct range *keep;
	size_t nkeep, capkeep;
	size_t jfif; /* offset of the first JFIF APP0 payload, or 0 */
	size_t eoi;  /* offset after EOI */
	struct phi_jpeg_check chk;
	struct extxmp ext[EXT_XMP_MAX];
	unsigned next;
	int xmp_orientation; /* tiff:Orientation of the XMP packet, 0 when absent */
};

static unsigned be16(const unsigned char *q)
{
	return (unsigned)q[0] << 8 | q[1];
}

static uint32_t be32(const unsigned char *q)
{
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static int keep(struct jw *w, size_t off, size_t len, int image)
{
	if (w->hashing && image)
		crypto_hash_sha256_update(&w->h, w->p + off, len);
	if (!w->planning)
		return 0;
	if (w->nkeep && w->keep[w->nkeep - 1].off + w->keep[w->nkeep - 1].len == off) {
		w->keep[w->nkeep - 1].len += len;
		return 0;
	}
	if (w->nkeep == w->capkeep) {
		size_t nc = w->capkeep ? w->capkeep * 2 : 64;
		struct range *t = realloc(w->keep, nc * sizeof *t);
		if (!t)
			return phi_fail(w->err, PHI_ENOMEM, "out of memory stripping a JPEG");
		w->keep = t;
		w->capkeep = nc;
	}
	w->keep[w->nkeep++] = (struct range){off, len};
	return 0;
}

static uint64_t fo(size_t off)
{
	return (uint64_t)off;
}

/* Emit helpers that do nothing in check mode. */
static int runs(struct jw *w, const char *where, size_t off, size_t len)
{
	return w->ctx ? phi_img_runs(w->ctx, where, w->p + off, len, fo(off)) : 0;
}

static int ext_xmp(struct jw *w, const unsigned char *q, size_t len)
{
	if (len < 40)
		return 0;
	const unsigned char *guid = q;
	uint32_t full = be32(q + 32), at = be32(q + 36);
	const unsigned char *d = q + 40;
	size_t dl = len - 40;
	struct extxmp *x = NULL;
	for (unsigned i = 0; i < w->next; i++)
		if (!memcmp(w->ext[i].guid, guid, 32))
			x = &w->ext[i];
	if (!x) {
		if (w->next == EXT_XMP_MAX || full == 0 || full > w->ctx->limits->max_inflate)
			return phi_img_runs(w->ctx, "XMP extended", d, dl, PHI_NO_OFFSET);
		x = &w->ext[w->next];
		x->buf = calloc(1, full);
		if (!x->buf)
			return phi_fail(w->err, PHI_ENOMEM, "out of memory reading Extended XMP");
		memcpy(x->guid, guid, 32);
		x->full = full;
		w->next++;
	}
	if (full != x->full || at > x->full || dl > x->full - at)
		return phi_img_runs(w->ctx, "XMP extended", d, dl, PHI_NO_OFFSET);
	memcpy(x->buf + at, d, dl);
	return 0;
}

static int is_mini_exif(const unsigned char *q, size_t len)
{
	unsigned char mini[PHI_EXIF_MINI_LEN];
	if (len != 6 + PHI_EXIF_MINI_LEN || memcmp(q, "Exif\0\0", 6))
		return 0;
	phi_exif_mini(mini, q[6 + 18]);
	return q[6 + 18] >= 1 && q[6 + 18] <= 8 && !memcmp(q + 6, mini, sizeof mini);
}

static int app_segment(struct jw *w, unsigned m, size_t seg, size_t pay, size_t plen)
{
	const unsigned char *q = w->p + pay;
	int rc = 0;
	char where[32];

	if (m == 0xE0 && plen >= 14 && !memcmp(q, "JFIF\0", 5)) {
		if (!w->jfif)
			w->jfif = pay;
		if (q[12] || q[13] || plen != 14)
			w->chk.foreign++; /* a thumbnail: dropped by the rewrite */
		return 0;
	}
	if (m == 0xE2 && plen >= 14 && !memcmp(q, "ICC_PROFILE\0", 12)) {
		w->chk.icc_chunks++;
		return keep(w, seg, plen + 4, 0);
	}
	if (m == 0xEE && plen >= 5 && !memcmp(q, "Adobe", 5))
		return keep(w, seg, plen + 4, 0);
	if (m == 0xE1 && plen >= 6 && !memcmp(q, "Exif\0", 5)) {
		struct phi_exif_info info = {0};
		if (!w->ctx) {
			/* check mode: read Orientation only; the minimal form is allowed */
			if (!is_mini_exif(q, plen))
				w->chk.foreign++;
			else if (!w->chk.orientation)
				w->chk.orientation = q[6 + 18];
			return 0;
		}
		w->chk.foreign++;
		rc = phi_exif_scan(w->ctx, q + 6, plen - 6, fo(pay + 6), "Exif", 0, &info);
		if (rc == PHI_EFORMAT) /* no TIFF header: scan the bytes instead */
			rc = runs(w, "APP1 Exif (unparsed)", pay, plen);
		if (!w->chk.orientation)
			w->chk.orientation = info.orientation;
		return rc;
	}
	w->chk.foreign++;
	if (!w->ctx)
		return 0;
	if (m == 0xE1 && plen >= sizeof xmp_sig && !memcmp(q, xmp_sig, sizeof xmp_sig)) {
		if (!w->xmp_orientation)
			w->xmp_orientation = phi_xmp_orientation(q + sizeof xmp_sig, plen - sizeof xmp_sig);
		return phi_xmp_scan(w->ctx, q + sizeof xmp_sig, plen - sizeof xmp_sig,
		                    fo(pay + sizeof xmp_sig), "XMP");
	}
	if (m == 0xE1 && plen >= sizeof extxmp_sig && !memcmp(q, extxmp_sig, sizeof extxmp_sig))
		return ext_xmp(w, q + sizeof extxmp_sig, plen - sizeof extxmp_sig);
	if (m == 0xED && plen >= 14 && !memcmp(q, "Photoshop 3.0\0", 14))
		return phi_irb_scan(w->ctx, q + 14, plen - 14, fo(pay + 14));
	if (m == 0xFE)
		return phi_img_field(w->ctx, "COM", q, plen, fo(pay), NULL, NULL, NULL, 0);
	if (m == 0xE0)
		return 0; /* JFXX and other APP0: thumbnails, pixels only */
	snprintf(where, sizeof where, "APP%u segment", m - 0xE0);
	return runs(w, where, pay, plen);
}

/* End of the entropy-coded data that starts at i: the next real marker. */
static int scan_end(struct jw *w, size_t i, size_t *end)
{
	for (;;) {
		const unsigned char *q = i < w->n ? memchr(w->p + i, 0xFF, w->n - i) : NULL;
		if (!q || (size_t)(q - w->p) + 1 >= w->n)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w->n),
			                   "JPEG scan data runs to the end of the file without EOI");
		size_t j = (size_t)(q - w->p);
		unsigned b = w->p[j + 1];
		if (b == 0 || (b >= 0xD0 && b <= 0xD7)) {
			i = j + 2;
			continue;
		}
		if (b == 0xFF) {
			i = j + 1;
			continue;
		}
		*end = j;
		return 0;
	}
}

static int walk(struct jw *w)
{
	const unsigned char *p = w->p;
	size_t n = w->n, pos = 2;
	int rc;

	if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return phi_fail(w->err, PHI_EFORMAT, "not a JPEG: no SOI marker");
	if (w->hashing)
		crypto_hash_sha256_init(&w->h);
	for (;;) {
		if (pos >= n)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(pos), "JPEG ends before EOI");
		if (p[pos] != 0xFF)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(pos),
			                   "JPEG: a marker was expected between segments");
		while (pos < n && p[pos] == 0xFF)
			pos++;
		if (pos >= n)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(pos), "JPEG ends before EOI");
		size_t seg = pos - 1;
		unsigned m = p[pos++];
		if (m == 0xD9) {
			w->eoi = pos;
			break;
		}
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			if ((rc = keep(w, seg, 2, 1)))
				return rc;
			continue;
		}
		if (m == 0x00 || m == 0xD8 || m < 0xC0 || m == 0xC8 || (m >= 0xF0 && m <= 0xFD) ||
		    m == 0xFF)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(seg),
			                   "JPEG marker 0x%02X is not supported here", m);
		if (n - pos < 2)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(seg),
			                   "JPEG segment length runs past the end of the file");
		size_t len = be16(p + pos);
		if (len < 2 || len > n - pos)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(seg),
			                   "JPEG segment length runs past the end of the file");
		size_t pay = pos + 2, plen = len - 2, segend = pos + len;
		if (m >= 0xE0 || m == 0xFE) {
			if ((rc = app_segment(w, m, seg, pay, plen)))
				return rc;
		} else if (m == 0xDA) {
			size_t end = segend;
			if ((rc = scan_end(w, segend, &end)) || (rc = keep(w, seg, end - seg, 1)))
				return rc;
			segend = end;
		} else {
			/* SOFn, DHT, DAC, DQT, DRI, DNL, DHP, EXP */
			if ((rc = keep(w, seg, segend - seg, 1)))
				return rc;
		}
		pos = segend;
	}
	w->chk.trailer = n - w->eoi;
	if (w->chk.trailer && (rc = runs(w, "after EOI", w->eoi, w->chk.trailer)))
		return rc;
	for (unsigned i = 0; i < w->next && w->ctx; i++)
		if ((rc = phi_xmp_scan(w->ctx, w->ext[i].buf, w->ext[i].full, PHI_NO_OFFSET,
		                       "XMP extended")))
			return rc;
	/* no Exif Orientation: keep the one XMP gave (it is dropped with the XMP) */
	if (!w->chk.orientation && w->ctx)
		w->chk.orientation = w->xmp_orientation;
	if (w->hashing)
		phi_img_sha_hex(&w->h, w->chk.pixels_sha256);
	return 0;
}

static void jw_free(struct jw *w)
{
	free(w->keep);
	for (unsigned i = 0; i < w->next; i++)
		free(w->ext[i].buf);
}

int phi_jpeg_check(const unsigned char *p, size_t n, struct phi_jpeg_check *out,
                   struct phi_error *err)
{
	struct jw w = {0};
	w.err = err;
	w.p = p;
	w.n = n;
	w.hashing = 1;
	int rc = walk(&w);
	*out = w.chk;
	jw_free(&w);
	return rc;
}

static int build(struct jw *w, struct phi_dbuf *o)
{
	static const unsigned char soi[2] = {0xFF, 0xD8}, eoi[2] = {0xFF, 0xD9};
	int rc = phi_dbuf_add(o, soi, 2);
	if (!rc && w->jfif) {
		unsigned char app0[18] = {0xFF, 0xE0, 0x00, 0x10};
		memcpy(app0 + 4, w->p + w->jfif, 14);
		app0[4 + 12] = app0[4 + 13] = 0;
		rc = phi_dbuf_add(o, app0, sizeof app0);
	}
	if (!rc && w->chk.orientation) {
		unsigned char app1[4 + 6 + PHI_EXIF_MINI_LEN] = {0xFF, 0xE1, 0x00,
		                                                 2 + 6 + PHI_EXIF_MINI_LEN};
		memcpy(app1 + 4, "Exif\0\0", 6);
		phi_exif_mini(app1 + 10, w->chk.orientation);
		rc = phi_dbuf_add(o, app1, sizeof app1);
	}
	for (size_t i = 0; i < w->nkeep && !rc; i++)
		rc = phi_dbuf_add(o, w->p + w->keep[i].off, w->keep[i].len);
	if (!rc)
		rc = phi_dbuf_add(o, eoi, 2);
	if (rc)
		return phi_fail(w->err, rc, "cannot hold the stripped JPEG in memory");
	return 0;
}

/* Decode both with libjpeg-turbo and compare.  Returns 1 identical, 0 when the
 * input cannot be decoded here (12-bit, lossless, huge), or PHI_EVERIFY. */
static int decode_compare(const unsigned char *a, size_t an, const unsigned char *b, size_t bn,
                          struct phi_error *err)
{
	tjhandle h = tjInitDecompress();
	int wa, ha, sa, ca, wb, hb, sb, cb, res = 0;
	unsigned char *pa = NULL, *pb = NULL;
	if (!h)
		return 0;
	if (tjDecompressHeader3(h, a, (unsigned long)an, &wa, &ha, &sa, &ca) ||
	    (size_t)wa * (size_t)ha > JPEG_VERIFY_MAX_PIXELS)
		goto out;
	int pf = ca == TJCS_GRAY ? TJPF_GRAY : (ca == TJCS_CMYK || ca == TJCS_YCCK) ? TJPF_CMYK
	                                                                             : TJPF_RGB;
	size_t sz = (size_t)wa * (size_t)ha * (size_t)tjPixelSize[pf];
	pa = malloc(sz);
	pb = malloc(sz);
	if (!pa || !pb || tjDecompress2(h, a, (unsigned long)an, pa, wa, 0, ha, pf, 0))
		goto out;
	if (tjDecompressHeader3(h, b, (unsigned long)bn, &wb, &hb, &sb, &cb) || wb != wa ||
	    hb != ha || cb != ca || tjDecompress2(h, b, (unsigned long)bn, pb, wb, 0, hb, pf, 0) ||
	    memcmp(pa, pb, sz)) {
		res = phi_fail(err, PHI_EVERIFY, "stripped JPEG does not decode to the same pixels");
		goto out;
	}
	res = 1;
out:
	free(pa);
	free(pb);
	tjDestroy(h);
	return res;
}

static int jpeg_scan(struct phi_fctx *ctx)
{
	struct phi_img_in in;
	int strip = ctx->out_fd >= 0;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	struct jw w = {0};
	w.ctx = ctx;
	w.err = ctx->err;
	w.p = in.p;
	w.n = in.n;
	w.hashing = strip;
	w.planning = strip;
	rc = walk(&w);
	if (!rc && strip) {
		struct phi_dbuf o = {0};
		struct phi_jpeg_check c;
		char num[32];
		rc = build(&w, &o);
		if (!rc && (rc = phi_jpeg_check(o.p, o.n, &c, ctx->err)) == 0 &&
		    (c.foreign || c.trailer || c.icc_chunks != w.chk.icc_chunks ||
		     c.orientation != w.chk.orientation ||
		     strcmp(c.pixels_sha256, w.chk.pixels_sha256)))
			rc = phi_fail(ctx->err, PHI_EVERIFY, "stripped JPEG failed its self-check");
		if (!rc && phi_img_verify(ctx)) {
			int d = decode_compare(in.p, in.n, o.p, o.n, ctx->err);
			if (d < 0)
				rc = d;
			else
				rc = ctx->sink_ops->record(ctx->sink, "pixels_verify",
				                           d ? "decoded-identical" : "scan-data-identical");
		}
		if (!rc)
			rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_in", w.chk.pixels_sha256);
		if (!rc)
			rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_out", c.pixels_sha256);
		snprintf(num, sizeof num, "%u", w.chk.foreign);
		if (!rc)
			rc = ctx->sink_ops->record(ctx->sink, "segments_dropped", num);
		snprintf(num, sizeof num, "%zu", w.chk.trailer);
		if (!rc && w.chk.trailer)
			rc = ctx->sink_ops->record(ctx->sink, "trailer_bytes_dropped", num);
		if (!rc)
			rc = phi_output_write(ctx, o.p, o.n);
		phi_dbuf_free(&o);
	}
	jw_free(&w);
	phi_img_release(&in);
	return rc;
}

static int jpeg_detect(const unsigned char *h, size_t n, const char *name)
{
	(void)name;
	return n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF ? 100 : 0;
}

const struct phi_format phi_format_jpeg = {
	.name = "jpeg",
	.detect = jpeg_detect,
	.scan = jpeg_scan,
	.can_strip = 1,
};
