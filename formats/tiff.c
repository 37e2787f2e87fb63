/* tiff.c - TIFF scan and rewrite strip (see tiff.h).
 *
 * Scan: exif.c walks the IFD chain (every page), the Exif/GPS/Interop IFDs and
 * SubIFDs in strict mode: an IFD or value outside the file is an error, since the
 * file is the whole structure.
 *
 * Strip: each page of the main chain is rebuilt from an allowlist of structural
 * tags (image size, samples, compression, photometric, strips or tiles,
 * resolution, orientation, colour map, predictor, JPEGTables, YCbCr, ICC 34675 ...).
 * Values are copied verbatim (the byte order is kept); strip or tile data is
 * copied byte for byte and only the offsets are rewritten.  Exif/GPS IFDs, XMP,
 * IPTC, Photoshop and every text tag are dropped.  Old-style JPEG (compression 6), whose data offsets hide in other
 * tags, is refused, and so is a page with SubIFDs (DNG keeps its main image there:
 * dropping them would lose it, keeping them would keep their metadata).  The copy is re-walked (same pages, no foreign tag, same
 * SHA-256 over the image data, ICC and orientation kept) before it is written.
 *
 * Threading: reentrant.  Ownership: input released here; scratch freed here.
 */
#include "tiff.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "exif.h"
#include "imgmeta.h"

#define TIFF_MAX_PAGES 4096

static const uint16_t keep_tags[] = {
	254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279,
	280, 281, 282, 283, 284, 290, 291, 292, 293, 296, 297, 301, 317, 318, 319, 320,
	322, 323, 324, 325, 332, 338, 339, 340, 341, 347, 529, 530, 531, 532, 34675,
};

static int kept(uint16_t tag)
{
	for (size_t i = 0; i < sizeof keep_tags / sizeof keep_tags[0]; i++)
		if (keep_tags[i] == tag)
			return 1;
	return 0;
}

struct page {
	uint32_t ifd;
	unsigned nent;
	struct phi_tiff_entry off, cnt; /* strip or tile offsets and byte counts */
	int has_data;
};

/* Read the offsets/counts pair of one IFD and check every run lies in the file. */
static int page_data(const struct phi_tiff *t, uint32_t ifd, unsigned nent, struct page *pg,
                     int rewrite, struct phi_error *err)
{
	int have_o = 0, have_c = 0, tiles = 0;
	pg->ifd = ifd;
	pg->nent = nent;
	pg->has_data = 0;
	for (unsigned i = 0; i < nent; i++) {
		struct phi_tiff_entry e;
		phi_tiff_entry_at(t, ifd, i, &e);
		if (rewrite && e.tag == 259 && phi_tiff_int(t, &e, 0) == 6)
			return phi_fail(err, PHI_ENOTSUP,
			                "old-style JPEG TIFF (compression 6) cannot be stripped");
		/* DNG keeps its main image in a SubIFD: dropping SubIFDs would lose it */
		if (rewrite && e.tag == 0x014A)
			return phi_fail(err, PHI_ENOTSUP,
			                "TIFF with SubIFDs (DNG, previews) cannot be stripped yet");
		if (e.tag == 273 || e.tag == 324) {
			pg->off = e;
			have_o = 1;
			tiles = e.tag == 324;
		} else if (e.tag == 279 || e.tag == 325) {
			pg->cnt = e;
			have_c = 1;
		}
	}
	if (!have_o && !have_c)
		return 0;
	if (!have_o || !have_c || pg->off.count != pg->cnt.count || !pg->off.in_range ||
	    !pg->cnt.in_range || (pg->off.type != 3 && pg->off.type != 4) ||
	    (pg->cnt.type != 3 && pg->cnt.type != 4))
		return phi_fail(err, PHI_EFORMAT, "TIFF %s offsets and byte counts do not match",
		                tiles ? "tile" : "strip");
	for (uint32_t i = 0; i < pg->off.count; i++) {
		uint64_t o = phi_tiff_int(t, &pg->off, i), c = phi_tiff_int(t, &pg->cnt, i);
		if (o > t->n || c > t->n - o)
			return phi_fail(err, PHI_EFORMAT, "TIFF image data offsets point outside the file");
	}
	pg->has_data = 1;
	return 0;
}

/* The main IFD chain, loops and overruns refused. */
static int pages(const struct phi_tiff *t, uint32_t ifd0, struct page **out, unsigned *np,
                 int rewrite, struct phi_error *err)
{
	struct page *v = NULL;
	unsigned n = 0, cap = 0;
	int rc = 0;
	for (uint32_t off = ifd0; off && !rc;) {
		for (unsigned i = 0; i < n; i++)
			if (v[i].ifd == off) {
				rc = phi_fail(err, PHI_EFORMAT, "TIFF IFD chain loops");
				break;
			}
		if (rc)
			break;
		if (n == TIFF_MAX_PAGES) {
			rc = phi_fail(err, PHI_ELIMIT, "TIFF has more than %d pages", TIFF_MAX_PAGES);
			break;
		}
		unsigned nent;
		uint32_t next;
		if ((rc = phi_tiff_ifd(t, off, &nent, &next))) {
			rc = phi_fail(err, rc, "TIFF IFD offset points outside the file");
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct page *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				rc = phi_fail(err, PHI_ENOMEM, "out of memory reading TIFF pages");
				break;
			}
			v = nv;
		}
		rc = page_data(t, off, nent, &v[n], rewrite, err);
		n++;
		off = next;
	}
	if (!rc && n == 0)
		rc = phi_fail(err, PHI_EFORMAT, "TIFF has no image directory");
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*np = n;
	return 0;
}

int phi_tiff_check(const unsigned char *p, size_t n, struct phi_tiff_check *out,
                   struct phi_error *err)
{
	struct phi_tiff t;
	uint32_t ifd0;
	struct page *pg;
	unsigned np;
	memset(out, 0, sizeof *out);
	if (phi_tiff_init(&t, p, n, &ifd0))
		return phi_fail(err, PHI_EFORMAT, "not a TIFF: bad header");
	int rc = pages(&t, ifd0, &pg, &np, 0, err);
	if (rc)
		return rc;
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	out->pages = np;
	for (unsigned k = 0; k < np; k++) {
		for (unsigned i = 0; i < pg[k].nent; i++) {
			struct phi_tiff_entry e;
			phi_tiff_entry_at(&t, pg[k].ifd, i, &e);
			if (!kept(e.tag))
				out->foreign++;
			if (e.tag == 34675)
				out->icc++;
			if (k == 0 && e.tag == 274)
				out->orientation = (int)phi_tiff_int(&t, &e, 0);
		}
		for (uint32_t i = 0; pg[k].has_data && i < pg[k].off.count; i++) {
			uint32_t o = phi_tiff_int(&t, &pg[k].off, i), c = phi_tiff_int(&t, &pg[k].cnt, i);
			crypto_hash_sha256_update(&h, p + o, c);
		}
	}
	phi_img_sha_hex(&h, out->pixels_sha256);
	free(pg);
	return 0;
}

static int align2(struct phi_dbuf *o)
{
	return (o->n & 1) ? phi_dbuf_add(o, "", 1) : 0;
}

static int rebuild(const struct phi_tiff *t, const struct page *pg, unsigned np,
                   struct phi_dbuf *o)
{
	int be = t->be, rc;
	size_t prev_next = 4; /* where the offset of the next IFD goes */
	rc = phi_dbuf_add(o, t->p, 4);
	if (!rc)
		rc = phi_dbuf_u32(o, 0, be);
	for (unsigned k = 0; k < np && !rc; k++) {
		const struct page *g = &pg[k];
		uint32_t cnt = g->has_data ? g->off.count : 0;
		uint32_t *newoff = cnt ? malloc(cnt * sizeof *newoff) : NULL;
		if (cnt && !newoff)
			return PHI_ENOMEM;
		for (uint32_t i = 0; i < cnt && !rc; i++) {
			uint32_t so = phi_tiff_int(t, &g->off, i), sc = phi_tiff_int(t, &g->cnt, i);
			if (!(rc = align2(o)))
				newoff[i] = (uint32_t)o->n;
			if (!rc)
				rc = phi_dbuf_add(o, t->p + so, sc);
		}
		/* entries kept, and where their out-of-line values go */
		struct phi_tiff_entry *es = malloc((g->nent ? g->nent : 1) * sizeof *es);
		uint32_t *vals = malloc((g->nent ? g->nent : 1) * sizeof *vals);
		unsigned ne = 0;
		if (!es || !vals)
			rc = PHI_ENOMEM;
		for (unsigned i = 0; i < g->nent && !rc; i++) {
			struct phi_tiff_entry e;
			phi_tiff_entry_at(t, g->ifd, i, &e);
			if (!kept(e.tag) || phi_tiff_type_size(e.type) == 0)
				continue;
			if (!e.in_range)
				return free(newoff), free(es), free(vals), PHI_EFORMAT;
			/* ascending tag order (TIFF 6.0 2): insertion sort */
			unsigned j = ne++;
			while (j > 0 && es[j - 1].tag > e.tag) {
				es[j] = es[j - 1];
				j--;
			}
			es[j] = e;
		}
		for (unsigned i = 0; i < ne && !rc; i++) {
			const struct phi_tiff_entry *e = &es[i];
			vals[i] = 0;
			if (e->tag == 273 || e->tag == 324) {
				if (cnt > 1) {
					if (!(rc = align2(o)))
						vals[i] = (uint32_t)o->n;
					for (uint32_t m = 0; m < cnt && !rc; m++)
						rc = phi_dbuf_u32(o, newoff[m], be);
				}
			} else if (e->size > 4) {
				if (!(rc = align2(o)))
					vals[i] = (uint32_t)o->n;
				if (!rc)
					rc = phi_dbuf_add(o, t->p + e->voff, (size_t)e->size);
			}
		}
		if (!rc)
			rc = align2(o);
		if (!rc && o->n > UINT32_MAX - 16)
			rc = PHI_ELIMIT;
		if (!rc) {
			uint32_t here = (uint32_t)o->n;
			unsigned char *q = o->p + prev_next;
			for (int b = 0; b < 4; b++)
				q[be ? 3 - b : b] = (unsigned char)(here >> (8 * b));
			rc = phi_dbuf_u16(o, ne, be);
		}
		for (unsigned i = 0; i < ne && !rc; i++) {
			const struct phi_tiff_entry *e = &es[i];
			int offs = e->tag == 273 || e->tag == 324;
			rc = phi_dbuf_u16(o, e->tag, be);
			if (!rc)
				rc = phi_dbuf_u16(o, offs ? 4 : e->type, be);
			if (!rc)
				rc = phi_dbuf_u32(o, offs ? cnt : e->count, be);
			if (rc)
				break;
			if (offs && cnt == 1)
				rc = phi_dbuf_u32(o, newoff[0], be);
			else if (offs || e->size > 4)
				rc = phi_dbuf_u32(o, vals[i], be);
			else {
				unsigned char v[4] = {0};
				memcpy(v, t->p + e->voff, (size_t)e->size);
				rc = phi_dbuf_add(o, v, 4);
			}
		}
		if (!rc) {
			prev_next = o->n;
			rc = phi_dbuf_u32(o, 0, be);
		}
		free(newoff);
		free(es);
		free(vals);
	}
	return rc;
}

/* ---- blank in place: when a page cannot be rewritten (SubIFDs, old-style JPEG) ----
 *
 * The file is copied and, in every IFD reachable (the chain, SubIFDs, Exif, GPS,
 * Interop), every value the scanner reads as text is overwritten with zeros: ASCII,
 * and BYTE/UNDEFINED values of tags that are neither kept by the rewrite nor image
 * structure (phi_exif_structural); every value of the GPS IFD.  Offsets do not move,
 * so strips, tiles and DNG data stay where they are.  The image data of every IFD is
 * hashed before and after; the copy is scanned again and must give no field. */

#define TIFF_MAX_RANGES (1u << 20)

struct blank {
	const struct phi_tiff *t;
	unsigned char *o;
	uint32_t seen[PHI_EXIF_MAX_IFDS];
	unsigned nseen;
	unsigned blanked;
	struct phi_error *err;
	uint64_t (*img)[2];
	size_t nimg, capimg;
};

static int add_img(struct blank *b, uint64_t off, uint64_t len)
{
	if (b->nimg == b->capimg) {
		if (b->capimg >= TIFF_MAX_RANGES)
			return phi_fail(b->err, PHI_ELIMIT, "TIFF has more than %u strips or tiles",
			                TIFF_MAX_RANGES);
		size_t nc = b->capimg ? b->capimg * 2 : 64;
		uint64_t(*v)[2] = realloc(b->img, nc * sizeof *v);
		if (!v)
			return phi_fail(b->err, PHI_ENOMEM, "out of memory blanking a TIFF");
		b->img = v;
		b->capimg = nc;
	}
	b->img[b->nimg][0] = off;
	b->img[b->nimg][1] = len;
	b->nimg++;
	return 0;
}

static int blank_chain(struct blank *b, uint32_t off, int gps, unsigned depth)
{
	const struct phi_tiff *t = b->t;
	for (; off; ) {
		for (unsigned i = 0; i < b->nseen; i++)
			if (b->seen[i] == off)
				return phi_fail(b->err, PHI_EFORMAT, "TIFF IFD chain loops");
		if (b->nseen == PHI_EXIF_MAX_IFDS)
			return phi_fail(b->err, PHI_ELIMIT, "TIFF has too many IFDs");
		b->seen[b->nseen++] = off;
		unsigned nent;
		uint32_t next;
		int rc = phi_tiff_ifd(t, off, &nent, &next);
		if (rc)
			return phi_fail(b->err, rc, "TIFF IFD offset points outside the file");
		struct page pg;
		if ((rc = page_data(t, off, nent, &pg, 0, b->err)))
			return rc;
		for (uint32_t i = 0; pg.has_data && i < pg.off.count; i++)
			if ((rc = add_img(b, phi_tiff_int(t, &pg.off, i), phi_tiff_int(t, &pg.cnt, i))))
				return rc;
		uint32_t jo = 0, jl = 0;
		for (unsigned i = 0; i < nent; i++) {
			struct phi_tiff_entry e;
			phi_tiff_entry_at(t, off, i, &e);
			if (phi_tiff_type_size(e.type) == 0)
				continue;
			if (!e.in_range)
				return phi_fail(b->err, PHI_EFORMAT, "TIFF value points outside the file");
			if (e.tag == 0x0201)
				jo = phi_tiff_int(t, &e, 0);
			if (e.tag == 0x0202)
				jl = phi_tiff_int(t, &e, 0);
			int sub = !gps && (e.tag == 0x014A || e.tag == 0x8769 || e.tag == 0x8825 ||
			                   e.tag == 0xA005) && (e.type == 4 || e.type == 13);
			if (sub) {
				if (depth >= PHI_EXIF_MAX_DEPTH)
					return phi_fail(b->err, PHI_ELIMIT, "TIFF sub-IFDs nest too deep");
				uint32_t cnt = e.count > 64 ? 64 : e.count;
				for (uint32_t j = 0; j < cnt; j++) {
					uint32_t so = phi_tiff_int(t, &e, j);
					if (so && (rc = blank_chain(b, so, e.tag == 0x8825, depth + 1)))
						return rc;
				}
				continue;
			}
			int text = e.type == 2 || ((e.type == 1 || e.type == 7) && !kept(e.tag) &&
			                           !phi_exif_structural(e.tag));
			if (gps || text) {
				memset(b->o + e.voff, 0, (size_t)e.size);
				b->blanked++;
			}
		}
		if (jo && jl && (rc = add_img(b, jo, jl)))
			return rc;
		off = next;
	}
	return 0;
}

static int img_hash(const struct blank *b, const unsigned char *p, size_t n, char hex[65])
{
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	for (size_t i = 0; i < b->nimg; i++) {
		uint64_t o = b->img[i][0], l = b->img[i][1];
		if (o > n || l > n - o)
			return PHI_EFORMAT;
		crypto_hash_sha256_update(&h, p + o, l);
	}
	phi_img_sha_hex(&h, hex);
	return 0;
}

static int count_field(void *sink, const struct phi_field *f, struct phi_edits *e)
{
	(void)f;
	(void)e;
	(*(unsigned *)sink)++;
	return 0;
}

static int no_fact(void *sink, const char *n, const char *v)
{
	(void)sink;
	(void)n;
	(void)v;
	return 0;
}

static const struct phi_sink_ops count_ops = {count_field, no_fact};

static int blank_in_place(struct phi_fctx *ctx, const struct phi_tiff *t, uint32_t ifd0,
                          const char *why)
{
	struct blank b = {0};
	struct phi_dbuf o = {0};
	char a[65], z[65], num[32];
	int rc = phi_dbuf_add(&o, t->p, t->n);
	if (rc)
		return phi_fail(ctx->err, rc, "cannot hold the TIFF copy in memory");
	b.t = t;
	b.o = o.p;
	b.err = ctx->err;
	rc = blank_chain(&b, ifd0, 0, 0);
	if (!rc && (img_hash(&b, t->p, t->n, a) || img_hash(&b, o.p, o.n, z) || strcmp(a, z)))
		rc = phi_fail(ctx->err, PHI_EVERIFY, "blanking the TIFF would change its image data");
	if (!rc) {
		/* the copy, scanned again, must give the rules nothing */
		unsigned fields = 0;
		struct phi_fctx c = *ctx;
		struct phi_error e2 = {0};
		c.sink_ops = &count_ops;
		c.sink = &fields;
		c.err = &e2;
		int r2 = phi_exif_scan(&c, o.p, o.n, 0, "TIFF", 1, NULL);
		if (r2 || fields)
			rc = phi_fail(ctx->err, PHI_EVERIFY, "blanked TIFF failed its self-check");
	}
	snprintf(num, sizeof num, "%u", b.blanked);
	if (!rc)
		rc = ctx->sink_ops->record(ctx->sink, "tiff_strip", why);
	if (!rc)
		rc = ctx->sink_ops->record(ctx->sink, "values_blanked", num);
	if (!rc && phi_img_verify(ctx))
		rc = ctx->sink_ops->record(ctx->sink, "pixels_verify", "strip-data-identical");
	if (!rc)
		rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_in", a);
	if (!rc)
		rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_out", z);
	if (!rc)
		rc = phi_output_write(ctx, o.p, o.n);
	free(b.img);
	phi_dbuf_free(&o);
	return rc;
}

static int tiff_scan(struct phi_fctx *ctx)
{
	struct phi_img_in in;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	struct phi_tiff t;
	uint32_t ifd0;
	if (in.n >= 4 && (!memcmp(in.p, "II+\0", 4) || !memcmp(in.p, "MM\0+", 4))) {
		phi_img_release(&in);
		return phi_fail(ctx->err, PHI_ENOTSUP, "BigTIFF is not supported yet");
	}
	if (phi_tiff_init(&t, in.p, in.n, &ifd0)) {
		phi_img_release(&in);
		return phi_fail(ctx->err, PHI_EFORMAT, "not a TIFF: bad header");
	}
	rc = phi_exif_scan(ctx, in.p, in.n, 0, "TIFF", 1, NULL);
	if (!rc && ctx->out_fd >= 0) {
		struct page *pg = NULL;
		unsigned np = 0;
		struct phi_tiff_check a, b;
		struct phi_dbuf o = {0};
		rc = phi_tiff_check(in.p, in.n, &a, ctx->err);
		if (!rc)
			rc = pages(&t, ifd0, &pg, &np, 1, ctx->err);
		if (rc == PHI_ENOTSUP) {
			/* a page that cannot be rewritten: blank its values in place */
			char why[96];
			snprintf(why, sizeof why, "blanked in place (%s)",
			         strstr(ctx->err->msg, "SubIFD") ? "SubIFDs" : "old-style JPEG");
			rc = blank_in_place(ctx, &t, ifd0, why);
			free(pg);
			phi_img_release(&in);
			return rc;
		}
		if (!rc && (rc = rebuild(&t, pg, np, &o)))
			rc = phi_fail(ctx->err, rc, "cannot rebuild the TIFF");
		if (!rc && (rc = phi_tiff_check(o.p, o.n, &b, ctx->err)) == 0 &&
		    (b.foreign || b.pages != a.pages || b.icc != a.icc || b.orientation != a.orientation ||
		     strcmp(a.pixels_sha256, b.pixels_sha256)))
			rc = phi_fail(ctx->err, PHI_EVERIFY, "stripped TIFF failed its self-check");
		char num[32];
		snprintf(num, sizeof num, "%u", a.foreign);
		if (!rc && phi_img_verify(ctx))
			rc = ctx->sink_ops->record(ctx->sink, "pixels_verify", "strip-data-identical");
		if (!rc)
			rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_in", a.pixels_sha256);
		if (!rc)
			rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_out", b.pixels_sha256);
		if (!rc)
			rc = ctx->sink_ops->record(ctx->sink, "tags_dropped", num);
		if (!rc)
			rc = phi_output_write(ctx, o.p, o.n);
		phi_dbuf_free(&o);
		free(pg);
	}
	phi_img_release(&in);
	return rc;
}

static int tiff_detect(const unsigned char *h, size_t n, const char *name)
{
	(void)name;
	if (n >= 4 && (!memcmp(h, "II*\0", 4) || !memcmp(h, "MM\0*", 4) || !memcmp(h, "II+\0", 4) ||
	               !memcmp(h, "MM\0+", 4)))
		return 90;
	return 0;
}

const struct phi_format phi_format_tiff = {
	.name = "tiff",
	.detect = tiff_detect,
	.scan = tiff_scan,
	.can_strip = 1,
};
