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
 * ICC: the ICC_PROFILE chunks are reassembled by sequence number and the
 * profile's text tags scanned (icc.c); a strip keeps every chunk, with flagged
 * text blanked in place (same chunk sizes), or drops them all when the chunk set is
 * inconsistent or the profile unreadable (nothing there can be shown clean).
 *
 * Header-only scan (a scan, not a strip, of a mapped file): the entropy-coded data
 * of a single-scan image (SOF0/1/3/9/11 whose first SOS names every component, a
 * frame height that is not 0, so no DNL) is not read.  T.81 B.2.1 leaves nothing
 * but EOI after the only scan, and inside the data 0xFF is followed only by 0x00,
 * RST0-7 or fill 0xFF.  The image must end where the file ends, or where the MPF
 * index (CIPA DC-007 5.2) says the first image ends with every listed image
 * following it back to back up to the end of the file; those images are walked
 * the same way.  The claimed end must be FF D9 and the last HEADER_ONLY_TAIL
 * bytes before it must be valid entropy-coded data (with a stuffed 0xFF00, when
 * they do not reach back to the SOS).  Anything else (progressive or
 * multi-scan files, a trailer, an unlisted appended file, a marker in the tail)
 * falls back to reading every byte.  What the shortcut cannot see is written in
 * the README (images, "Header-only scan").
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "exif.h"
#include "icc.h"
#include "imgmeta.h"
#include "xmp.h"

/* Entropy-coded bytes checked before the EOI a header-only scan relies on: more
 * than the largest segment (2 + 65,535 bytes), so a segment between the scan and
 * EOI always has its marker inside the window. */
#define HEADER_ONLY_TAIL ((size_t)96 << 10)
#define ICC_MAX_CHUNKS 255 /* the sequence number is one byte */

static const char xmp_sig[] = "http://ns.adobe.com/xap/1.0/";           /* + NUL: 29 */
static const char extxmp_sig[] = "http://ns.adobe.com/xmp/extension/";  /* + NUL: 35 */

struct range {
	size_t off, len;
	unsigned icc; /* 1 + index in jw.icc for an ICC_PROFILE segment, else 0 */
};

struct extxmp {
	unsigned char guid[32];
	uint32_t full;
	unsigned char *buf;
};

struct icc_chunk {
	unsigned seq, count;
	size_t data, len; /* profile bytes of this chunk */
};

struct jw {
	struct phi_fctx *ctx; /* NULL: check mode, nothing is emitted */
	struct phi_error *err;
	const unsigned char *p;
	size_t n;
	uint64_t base; /* file offset of p[0]: non-zero for an image listed by MPF */
	int hashing;
	int planning;
	int header_only; /* allowed to skip single-scan entropy data */
	int nested;      /* an MPF-listed image: its own MPF index is not followed */
	struct phi_sha256 h;
	struct range *keep;
	size_t nkeep, capkeep;
	size_t jfif; /* offset of the first JFIF APP0 payload, or 0 */
	size_t eoi;  /* offset after EOI */
	struct phi_jpeg_check chk;
	struct extxmp *ext;
	unsigned next;
	int xmp_orientation; /* tiff:Orientation of the XMP packet, 0 when absent */
	/* ICC_PROFILE chunks */
	struct icc_chunk icc[ICC_MAX_CHUNKS];
	unsigned nicc;
	int icc_bad;             /* more chunks than fit, or an inconsistent set */
	unsigned char *icc_prof; /* the reassembled profile, blanked where flagged */
	size_t icc_pos[ICC_MAX_CHUNKS + 1]; /* profile offset of chunk seq (1-based) */
	unsigned icc_blanked;
	int icc_drop;            /* strip drops every ICC chunk */
	/* the frame, for the header-only decision */
	unsigned sofs, sof, nf, height;
	size_t mpf;              /* offset of the MPF TIFF header, or 0 */
	size_t mpf_len;
	size_t *mpf_start, *mpf_size; /* images listed (limits->max_items at most) */
	uint64_t touched;        /* bytes a header-only scan read */
	int skipped_entropy;     /* 1 when entropy-coded data was not read */
	const struct phi_img_in *in; /* the mapping, for read-ahead advice (or NULL) */
};

static unsigned be16(const unsigned char *q)
{
	return (unsigned)q[0] << 8 | q[1];
}

static uint32_t be32(const unsigned char *q)
{
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static uint64_t fo(const struct jw *w, size_t off)
{
	return w->base + off;
}

static int keep(struct jw *w, size_t off, size_t len, int image, unsigned icc)
{
	if (w->hashing && image)
		phi_sha256_update(&w->h, w->p + off, len);
	if (!w->planning)
		return 0;
	struct range *last = w->nkeep ? &w->keep[w->nkeep - 1] : NULL;
	if (last && !icc && !last->icc && last->off + last->len == off) {
		last->len += len;
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
	w->keep[w->nkeep++] = (struct range){off, len, icc};
	return 0;
}

/* Emit helpers that do nothing in check mode. */
static int runs(struct jw *w, const char *where, size_t off, size_t len)
{
	return w->ctx ? phi_img_runs(w->ctx, where, w->p + off, len, fo(w, off)) : 0;
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
	unsigned max = w->ctx->limits->max_ext_xmp;
	for (unsigned i = 0; i < w->next; i++)
		if (!memcmp(w->ext[i].guid, guid, 32))
			x = &w->ext[i];
	if (!x) {
		if (w->next == max || full == 0 || full > w->ctx->limits->max_inflate)
			return phi_img_runs(w->ctx, "XMP extended", d, dl, PHI_NO_OFFSET);
		if (!w->ext && !(w->ext = calloc(max, sizeof *w->ext)))
			return phi_fail(w->err, PHI_ENOMEM, "out of memory reading Extended XMP");
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

static int icc_segment(struct jw *w, size_t seg, size_t pay, size_t plen)
{
	w->chk.icc_chunks++;
	if (w->nicc == ICC_MAX_CHUNKS)
		w->icc_bad = 1;
	else
		w->icc[w->nicc++] = (struct icc_chunk){w->p[pay + 12], w->p[pay + 13], pay + 14,
		                                       plen - 14};
	return keep(w, seg, plen + 4, 0, w->nicc);
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
	if (m == 0xE2 && plen >= 14 && !memcmp(q, "ICC_PROFILE\0", 12))
		return icc_segment(w, seg, pay, plen);
	if (m == 0xEE && plen >= 5 && !memcmp(q, "Adobe", 5))
		return keep(w, seg, plen + 4, 0, 0);
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
		rc = phi_exif_scan(w->ctx, q + 6, plen - 6, fo(w, pay + 6), "Exif", 0, &info);
		if (rc == PHI_EFORMAT) /* no TIFF header: scan the bytes instead */
			rc = runs(w, "APP1 Exif (unparsed)", pay, plen);
		/* an IFD or value the walk skipped (outside the segment, a loop, a cap) leaves
		 * bytes no tag reached: the segment's printable runs go to the rules too, so
		 * an orphaned "Patient: ..." is not passed as clean (issue 7, bad-input row
		 * jpeg-exif-offset-beyond) */
		else if (!rc && info.skipped)
			rc = runs(w, "APP1 Exif (partly unparsed)", pay, plen);
		if (!w->chk.orientation)
			w->chk.orientation = info.orientation;
		return rc;
	}
	w->chk.foreign++;
	if (m == 0xE2 && plen >= 8 && !memcmp(q, "MPF\0", 4) && !w->mpf) {
		w->mpf = pay + 4; /* MP index offsets count from this TIFF header */
		w->mpf_len = plen - 4;
	}
	if (!w->ctx)
		return 0;
	if (m == 0xE1 && plen >= sizeof xmp_sig && !memcmp(q, xmp_sig, sizeof xmp_sig)) {
		if (!w->xmp_orientation)
			w->xmp_orientation = phi_xmp_orientation(q + sizeof xmp_sig, plen - sizeof xmp_sig);
		return phi_xmp_scan(w->ctx, q + sizeof xmp_sig, plen - sizeof xmp_sig,
		                    fo(w, pay + sizeof xmp_sig), "XMP");
	}
	if (m == 0xE1 && plen >= sizeof extxmp_sig && !memcmp(q, extxmp_sig, sizeof extxmp_sig))
		return ext_xmp(w, q + sizeof extxmp_sig, plen - sizeof extxmp_sig);
	if (m == 0xED && plen >= 14 && !memcmp(q, "Photoshop 3.0\0", 14))
		return phi_irb_scan(w->ctx, q + 14, plen - 14, fo(w, pay + 14));
	if (m == 0xFE)
		return phi_img_field(w->ctx, "COM", q, plen, fo(w, pay), NULL, NULL, NULL, 0);
	if (m == 0xE0)
		return 0; /* JFXX and other APP0: thumbnails, pixels only */
	snprintf(where, sizeof where, "APP%u segment", m - 0xE0);
	return runs(w, where, pay, plen);
}

/* Read-ahead advice for the mapped bytes w->p[off..off+len): a header-only scan
 * maps the file MADV_RANDOM (the kernel would otherwise read megabytes around each
 * fault), asks for the tail it checks, and asks for everything when it falls back
 * to reading it all.  Advice only: failures are ignored. */
static void advise(const struct jw *w, size_t off, size_t len, int advice)
{
	if (!w->in || !w->in->map || !len)
		return;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)(w->p + off) & ~(pg - 1), b = (uintptr_t)(w->p + off + len);
	(void)madvise((void *)a, b - a, advice);
}

/* End of the entropy-coded data that starts at i: the next real marker. */
static int scan_end(struct jw *w, size_t i, size_t *end)
{
	if (w->header_only)
		advise(w, i, w->n - i, MADV_SEQUENTIAL);
	for (;;) {
		const unsigned char *q = i < w->n ? memchr(w->p + i, 0xFF, w->n - i) : NULL;
		if (!q || (size_t)(q - w->p) + 1 >= w->n)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w, w->n),
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

/* The MPF index (CIPA DC-007 5.2.3.3 MP Entry, tag 0xB002): where the first image
 * ends, when every other listed image follows it back to back up to the end of the
 * file.  Returns the number of images listed (0: no usable index), their starts
 * and sizes (image 0 first) in w->mpf_start and w->mpf_size. */
static unsigned mpf_images(struct jw *w)
{
	struct phi_tiff t;
	uint64_t ifd0, next;
	unsigned nent;
	if (!w->mpf || phi_tiff_init(&t, w->p + w->mpf, w->mpf_len, &ifd0, w->ctx->limits) ||
	    t.big || phi_tiff_ifd(&t, ifd0, &nent, &next))
		return 0;
	for (unsigned i = 0; i < nent; i++) {
		struct phi_tiff_entry e;
		phi_tiff_entry_at(&t, ifd0, i, &e);
		if (e.tag != 0xB002 || e.type != 7 || !e.in_range || e.size % 16 ||
		    e.size / 16 < 2 || e.size / 16 > w->ctx->limits->max_items)
			continue;
		unsigned k = (unsigned)(e.size / 16);
		size_t *start = calloc(k, sizeof *start), *size = calloc(k, sizeof *size);
		if (!start || !size) {
			free(start);
			free(size);
			return 0; /* no shortcut: every byte is read */
		}
		free(w->mpf_start);
		free(w->mpf_size);
		w->mpf_start = start;
		w->mpf_size = size;
		for (unsigned j = 0; j < k; j++) {
			size_t at = e.voff + 16u * j;
			uint64_t sz = phi_tiff_u32(&t, at + 4), off = phi_tiff_u32(&t, at + 8);
			start[j] = j == 0 ? 0 : w->mpf + (size_t)off; /* image 0: offset 0 (5.2.3.3.3) */
			size[j] = (size_t)sz;
			if ((j == 0 && off != 0) || start[j] > w->n || size[j] > w->n - start[j] ||
			    size[j] < 4 || (j > 0 && start[j] != start[j - 1] + size[j - 1]))
				return 0;
		}
		return start[k - 1] + size[k - 1] == w->n ? k : 0;
	}
	return 0;
}

/* Entropy-coded data only: 0xFF followed by 0x00, RST0-7 or another 0xFF (fill).
 * With need_stuffed, at least one stuffed 0xFF00 too, when the window does not
 * reach back to the SOS: 96 KiB of Huffman-coded data almost always hold one, text
 * (ASCII, UTF-8) never holds a 0xFF byte (a flat image without one just reads
 * everything). */
static int entropy_ok(const unsigned char *p, size_t from, size_t to, int need_stuffed)
{
	int stuffed = 0;
	/* p[to] is the 0xFF of EOI, so a 0xFF at to - 1 is fill */
	for (size_t i = from; i + 1 < to; i++) {
		if (p[i] != 0xFF)
			continue;
		unsigned b = p[i + 1];
		if (b != 0 && b != 0xFF && !(b >= 0xD0 && b <= 0xD7))
			return 0;
		stuffed |= b == 0;
	}
	return stuffed || !need_stuffed;
}

static int walk_image(struct jw *w);

/* The MPF-listed images after the first, each walked like a file of its own. */
static int walk_listed(struct jw *w, const size_t *start, const size_t *size, unsigned k)
{
	int rc = 0;
	for (unsigned j = 1; j < k && !rc; j++) {
		struct jw s = {0};
		s.ctx = w->ctx;
		s.err = w->err;
		s.p = w->p + start[j];
		s.n = size[j];
		s.base = w->base + start[j];
		s.header_only = 1;
		s.nested = 1;
		s.in = w->in;
		rc = walk_image(&s);
		w->touched += s.touched;
		w->skipped_entropy |= s.skipped_entropy;
		free(s.keep);
		for (unsigned i = 0; i < s.next; i++)
			free(s.ext[i].buf);
		free(s.ext);
		free(s.icc_prof);
		free(s.mpf_start);
		free(s.mpf_size);
		if (rc == PHI_EFORMAT) {
			/* not a JPEG after all: its bytes as an opaque trailer */
			w->touched += size[j];
			rc = runs(w, "after EOI", start[j], size[j]);
		}
	}
	return rc;
}

/* After the first SOS (its segment ends at segend): may the entropy-coded data be
 * skipped?  Sets *end to the offset of the EOI that ends it. */
static int header_only_end(struct jw *w, size_t sos_pay, size_t segend, size_t *end,
                           size_t *img_end, unsigned *listed)
{
	if (!w->header_only || w->sofs != 1 || w->height == 0 || w->p[sos_pay] != w->nf)
		return 0;
	if (w->sof != 0xC0 && w->sof != 0xC1 && w->sof != 0xC3 && w->sof != 0xC9 && w->sof != 0xCB)
		return 0;
	size_t e = w->n;
	*listed = 0;
	if (w->mpf && !w->nested) {
		*listed = mpf_images(w);
		if (!*listed)
			return 0; /* an index that does not tile the file: read it all */
		e = w->mpf_size[0];
	}
	if (e < segend + 2 || w->p[e - 2] != 0xFF || w->p[e - 1] != 0xD9)
		return 0;
	size_t from = e - 2 - segend > HEADER_ONLY_TAIL ? e - 2 - HEADER_ONLY_TAIL : segend;
	advise(w, from, e - from, MADV_WILLNEED);
	/* one byte more, so a marker cut by the window's start is seen */
	if (!entropy_ok(w->p, from > segend ? from - 1 : from, e - 2, from > segend))
		return 0;
	*end = e - 2;
	*img_end = e;
	w->touched += e - from;
	w->skipped_entropy = 1;
	return 1;
}

static int icc_finish(struct jw *w)
{
	if (!w->nicc && !w->icc_bad)
		return 0;
	unsigned c = w->nicc ? w->icc[0].count : 0;
	int seen[ICC_MAX_CHUNKS + 1] = {0}, ok = !w->icc_bad && c == w->nicc;
	for (unsigned i = 0; i < w->nicc && ok; i++) {
		unsigned s = w->icc[i].seq;
		ok = w->icc[i].count == c && s >= 1 && s <= c && !seen[s];
		if (ok)
			seen[s] = 1;
	}
	int strip = w->planning;
	int rc = 0;
	if (!ok) {
		/* chunks that do not make one profile: their printable runs; a strip drops
		 * them all */
		for (unsigned i = 0; i < w->nicc && !rc; i++)
			rc = runs(w, "ICC_PROFILE (inconsistent chunks)", w->icc[i].data, w->icc[i].len);
		w->icc_drop = strip;
		return rc;
	}
	size_t total = 0;
	for (unsigned s = 1; s <= c; s++)
		for (unsigned i = 0; i < w->nicc; i++)
			if (w->icc[i].seq == s) {
				w->icc_pos[s] = total;
				total += w->icc[i].len;
			}
	w->icc_pos[c + 1] = total;
	unsigned char *prof = calloc(1, total ? total : 1); /* filled below; calloc quiets GCC 12 */
	unsigned char *patch = strip ? malloc(total ? total : 1) : NULL;
	if (!prof || (strip && !patch)) {
		free(prof);
		free(patch);
		return phi_fail(w->err, PHI_ENOMEM, "out of memory reading an ICC profile");
	}
	for (unsigned i = 0; i < w->nicc; i++)
		memcpy(prof + w->icc_pos[w->icc[i].seq], w->p + w->icc[i].data, w->icc[i].len);
	if (patch)
		memcpy(patch, prof, total);
	struct phi_icc_result r;
	rc = phi_icc_scan(w->ctx, prof, total, c == 1 ? fo(w, w->icc[0].data) : PHI_NO_OFFSET,
	                  "ICC_PROFILE", patch, &r);
	free(prof);
	if (!rc && strip && r.unparsed)
		w->icc_drop = 1;
	if (!rc && strip && r.blanked) {
		w->icc_blanked = r.blanked;
		w->icc_prof = patch;
		patch = NULL;
	}
	free(patch);
	return rc;
}

static int walk_image(struct jw *w)
{
	const unsigned char *p = w->p;
	size_t n = w->n, pos = 2, img_end = 0;
	unsigned listed = 0;
	int rc, first_sos = 1;

	if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return phi_fail(w->err, PHI_EFORMAT, "not a JPEG: no SOI marker");
	for (;;) {
		if (pos >= n)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w, pos), "JPEG ends before EOI");
		if (p[pos] != 0xFF)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w, pos),
			                   "JPEG: a marker was expected between segments");
		while (pos < n && p[pos] == 0xFF)
			pos++;
		if (pos >= n)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w, pos), "JPEG ends before EOI");
		size_t seg = pos - 1;
		unsigned m = p[pos++];
		if (m == 0xD9) {
			w->eoi = pos;
			break;
		}
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			if ((rc = keep(w, seg, 2, 1, 0)))
				return rc;
			continue;
		}
		if (m == 0x00 || m == 0xD8 || m < 0xC0 || m == 0xC8 || (m >= 0xF0 && m <= 0xFD) ||
		    m == 0xFF)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w, seg),
			                   "JPEG marker 0x%02X is not supported here", m);
		if (n - pos < 2)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w, seg),
			                   "JPEG segment length runs past the end of the file");
		size_t len = be16(p + pos);
		if (len < 2 || len > n - pos)
			return phi_fail_at(w->err, PHI_EFORMAT, fo(w, seg),
			                   "JPEG segment length runs past the end of the file");
		size_t pay = pos + 2, plen = len - 2, segend = pos + len;
		if (m >= 0xE0 || m == 0xFE) {
			if ((rc = app_segment(w, m, seg, pay, plen)))
				return rc;
		} else if (m == 0xDA) {
			size_t end = segend;
			if (plen < 1)
				return phi_fail_at(w->err, PHI_EFORMAT, fo(w, seg), "JPEG SOS is empty");
			if (first_sos)
				w->touched = segend; /* the header */
			if (!(first_sos && header_only_end(w, pay, segend, &end, &img_end, &listed)) &&
			    (rc = scan_end(w, segend, &end)))
				return rc;
			if ((rc = keep(w, seg, end - seg, 1, 0)))
				return rc;
			if (first_sos && !w->skipped_entropy)
				w->touched = n; /* every byte is read */
			first_sos = 0;
			segend = end;
		} else {
			/* SOFn, DHT, DAC, DQT, DRI, DNL, DHP, EXP */
			if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
				w->sofs++;
				if (plen >= 6) {
					w->sof = m;
					w->height = be16(p + pay + 1);
					w->nf = p[pay + 5];
				}
			}
			if ((rc = keep(w, seg, segend - seg, 1, 0)))
				return rc;
		}
		pos = segend;
		if (first_sos)
			w->touched = pos; /* the header */
	}
	w->chk.trailer = n - w->eoi;
	if (listed && img_end == w->eoi) {
		if ((rc = walk_listed(w, w->mpf_start, w->mpf_size, listed)))
			return rc;
	} else if (w->chk.trailer && (rc = runs(w, "after EOI", w->eoi, w->chk.trailer))) {
		return rc;
	}
	for (unsigned i = 0; i < w->next && w->ctx; i++)
		if ((rc = phi_xmp_scan(w->ctx, w->ext[i].buf, w->ext[i].full, PHI_NO_OFFSET,
		                       "XMP extended")))
			return rc;
	if (w->ctx && (rc = icc_finish(w)))
		return rc;
	/* no Exif Orientation: keep the one XMP gave (it is dropped with the XMP) */
	if (!w->chk.orientation && w->ctx)
		w->chk.orientation = w->xmp_orientation;
	return 0;
}

/* The walk, with the image hash started before and finished (or released, on any
 * error) after it. */
static int walk(struct jw *w)
{
	struct phi_sha256 *h = w->hashing ? &w->h : NULL;
	int rc = phi_img_hash_begin(h, w->err);
	if (!rc)
		rc = phi_img_hash_end(h, walk_image(w), w->chk.pixels_sha256, w->err);
	return rc;
}

static void jw_free(struct jw *w)
{
	free(w->keep);
	for (unsigned i = 0; i < w->next; i++)
		free(w->ext[i].buf);
	free(w->ext);
	free(w->icc_prof);
	free(w->mpf_start);
	free(w->mpf_size);
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
	for (size_t i = 0; i < w->nkeep && !rc; i++) {
		const struct range *r = &w->keep[i];
		if (r->icc && w->icc_drop)
			continue;
		if (r->icc && w->icc_prof) {
			/* the segment header as it was (18 bytes), the chunk's blanked bytes */
			const struct icc_chunk *c = &w->icc[r->icc - 1];
			rc = phi_dbuf_add(o, w->p + r->off, 18);
			if (!rc)
				rc = phi_dbuf_add(o, w->icc_prof + w->icc_pos[c->seq], c->len);
			continue;
		}
		rc = phi_dbuf_add(o, w->p + r->off, r->len);
	}
	if (!rc)
		rc = phi_dbuf_add(o, eoi, 2);
	if (rc)
		return phi_fail(w->err, rc, "cannot hold the stripped JPEG in memory");
	return 0;
}

/* Why libjpeg-turbo cannot decode p: the frame type it lacks, or its message. */
static void undecodable(const unsigned char *p, size_t n, tjhandle h, char *why, size_t cap)
{
	for (size_t i = 2; i + 9 < n; i++) {
		if (p[i] != 0xFF)
			continue;
		unsigned m = p[i + 1];
		if (m == 0xC3 || m == 0xC7 || m == 0xCB || m == 0xCF) {
			snprintf(why, cap, "lossless JPEG (SOF%u) is not decoded by libjpeg-turbo %s", m - 0xC0,
			         "2.1");
			return;
		}
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			if (p[i + 4] != 8) {
				snprintf(why, cap, "%u-bit JPEG is not decoded by libjpeg-turbo 2.1", p[i + 4]);
				return;
			}
			break;
		}
	}
	snprintf(why, cap, "libjpeg-turbo cannot decode it (%s)", h ? tjGetErrorStr2(h) : "no handle");
}

/* Decode both with libjpeg-turbo and compare.  Returns 1 identical, 0 when the
 * input cannot be decoded here (12-bit, lossless, too large: why says so), or
 * PHI_EVERIFY. */
static int decode_compare(const unsigned char *a, size_t an, const unsigned char *b, size_t bn,
                          size_t max, char *why, size_t whycap, struct phi_error *err)
{
	tjhandle h = tjInitDecompress();
	int wa, ha, sa, ca, wb, hb, sb, cb, res = 0;
	unsigned char *pa = NULL, *pb = NULL;
	if (!h) {
		snprintf(why, whycap, "libjpeg-turbo could not start");
		return 0;
	}
	if (tjDecompressHeader3(h, a, (unsigned long)an, &wa, &ha, &sa, &ca)) {
		undecodable(a, an, h, why, whycap);
		goto out;
	}
	int pf = ca == TJCS_GRAY ? TJPF_GRAY : (ca == TJCS_CMYK || ca == TJCS_YCCK) ? TJPF_CMYK
	                                                                             : TJPF_RGB;
	size_t sz = (size_t)wa * (size_t)ha * (size_t)tjPixelSize[pf];
	if (sz > max / 2) {
		snprintf(why, whycap, "%dx%d pixels exceed the verify limit", wa, ha);
		goto out;
	}
	pa = malloc(sz);
	pb = malloc(sz);
	if (!pa || !pb) {
		snprintf(why, whycap, "out of memory decoding");
		goto out;
	}
	if (tjDecompress2(h, a, (unsigned long)an, pa, wa, 0, ha, pf, 0)) {
		undecodable(a, an, h, why, whycap);
		goto out;
	}
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

static int strip(struct phi_fctx *ctx, struct jw *w, const struct phi_img_in *in)
{
	struct phi_dbuf o;
	struct phi_jpeg_check c;
	char num[32], why[160] = "";
	int d = 0;
	phi_dbuf_init(&o, ctx->limits->max_image_out);
	int rc = build(w, &o);
	unsigned want_icc = w->icc_drop ? 0 : w->chk.icc_chunks;
	if (!rc && (rc = phi_jpeg_check(o.p, o.n, &c, ctx->err)) == 0 &&
	    (c.foreign || c.trailer || c.icc_chunks != want_icc ||
	     c.orientation != w->chk.orientation || strcmp(c.pixels_sha256, w->chk.pixels_sha256)))
		rc = phi_fail(ctx->err, PHI_EVERIFY, "stripped JPEG failed its self-check");
	if (!rc && phi_img_verify(ctx) &&
	    (d = decode_compare(in->p, in->n, o.p, o.n, ctx->limits->max_verify_bytes, why,
	                        sizeof why, ctx->err)) < 0)
		rc = d;
	/* not decodable here: what was compared is the SHA-256 of the scan data and
	 * tables (the self-check above), and the note says why */
	if (!rc)
		rc = phi_img_record(ctx, d ? "decoded-identical" : "scan-data-identical",
		                    w->chk.pixels_sha256, c.pixels_sha256, "segments_dropped",
		                    w->chk.foreign);
	if (!rc && phi_img_verify(ctx) && !d)
		rc = ctx->sink_ops->record(ctx->sink, "pixels_verify_note", why);
	snprintf(num, sizeof num, "%zu", w->chk.trailer);
	if (!rc && w->chk.trailer)
		rc = ctx->sink_ops->record(ctx->sink, "trailer_bytes_dropped", num);
	if (!rc)
		rc = phi_img_icc_facts(ctx, w->icc_blanked, w->icc_drop);
	if (!rc)
		rc = phi_output_write(ctx, o.p, o.n);
	phi_dbuf_free(&o);
	return rc;
}

static int jpeg_scan(struct phi_fctx *ctx)
{
	struct phi_img_in in;
	int is_strip = ctx->out_fd >= 0;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	struct jw w = {0};
	w.ctx = ctx;
	w.err = ctx->err;
	w.p = in.p;
	w.n = in.n;
	w.hashing = is_strip;
	w.planning = is_strip;
	/* a scan of a mapped file need not touch the entropy-coded pages */
	w.header_only = !is_strip && in.map != NULL;
	if (w.header_only) {
		w.in = &in;
		advise(&w, 0, in.n, MADV_RANDOM);
	}
	rc = walk(&w);
	if (!rc && w.skipped_entropy)
		ctx->in_bytes = w.touched;
	if (!rc && is_strip)
		rc = strip(ctx, &w, &in);
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
