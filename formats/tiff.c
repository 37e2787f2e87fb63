/* tiff.c - TIFF and BigTIFF scan and rewrite strip (see tiff.h).
 *
 * Scan: exif.c walks the IFD chain (every page), the Exif/GPS/Interop IFDs and
 * SubIFDs in strict mode: an IFD or value outside the file is an error, since the
 * file is the whole structure.  ICC profiles (34675) give their text tags (icc.c).
 *
 * Strip: each page of the main chain is rebuilt from an allowlist of structural
 * tags (image size, samples, compression, photometric, strips or tiles,
 * resolution, orientation, colour map, predictor, JPEGTables, YCbCr, ICC 34675 ...).
 * Values are copied verbatim (the byte order and the classic or BigTIFF layout are
 * kept: BigTIFF is written back as BigTIFF, strip offsets as LONG8); strip or tile
 * data is copied byte for byte and only the offsets are rewritten.  Exif/GPS IFDs,
 * XMP, IPTC, Photoshop and every text tag are dropped; ICC text the rules flag is
 * blanked inside the kept profile (icc.h).  Old-style JPEG (compression 6), whose
 * data offsets hide in other tags, and a page with SubIFDs (DNG keeps its main
 * image there: dropping them would lose it, keeping them would keep their
 * metadata) are blanked in place instead.  The copy is re-walked (same pages, no
 * foreign tag, same SHA-256 over the image data, ICC and orientation kept) before
 * it is written.
 *
 * Threading: reentrant.  Ownership: input released here; scratch freed here.
 */
#include "tiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exif.h"
#include "imgmeta.h"

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
	uint64_t ifd;
	unsigned nent;
	struct phi_tiff_entry off, cnt; /* strip or tile offsets and byte counts */
	int has_data;
};

static int int_type(const struct phi_tiff *t, uint16_t type)
{
	return type == 3 || type == 4 || (t->big && type == 16);
}

/* Read the offsets/counts pair of one IFD and check every run lies in the file. */
static int page_data(const struct phi_tiff *t, uint64_t ifd, unsigned nent, struct page *pg,
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
	    !pg->cnt.in_range || !int_type(t, pg->off.type) || !int_type(t, pg->cnt.type))
		return phi_fail(err, PHI_EFORMAT, "TIFF %s offsets and byte counts do not match",
		                tiles ? "tile" : "strip");
	for (uint64_t i = 0; i < pg->off.count; i++) {
		uint64_t o = phi_tiff_int(t, &pg->off, i), c = phi_tiff_int(t, &pg->cnt, i);
		if (o > t->n || c > t->n - o)
			return phi_fail(err, PHI_EFORMAT, "TIFF image data offsets point outside the file");
	}
	pg->has_data = 1;
	return 0;
}

/* The main IFD chain, loops and overruns refused. */
static int pages(const struct phi_tiff *t, uint64_t ifd0, const struct phi_limits *lim,
                 struct page **out, unsigned *np, int rewrite, struct phi_error *err)
{
	struct page *v = NULL;
	unsigned n = 0, cap = 0;
	int rc = 0;
	for (uint64_t off = ifd0; off && !rc;) {
		for (unsigned i = 0; i < n; i++)
			if (v[i].ifd == off) {
				rc = phi_fail(err, PHI_EFORMAT, "TIFF IFD chain loops");
				break;
			}
		if (rc)
			break;
		if (n == lim->max_pages) {
			rc = phi_fail(err, PHI_ELIMIT, "TIFF has more than %u pages", lim->max_pages);
			break;
		}
		unsigned nent;
		uint64_t next;
		if ((rc = phi_tiff_ifd(t, off, &nent, &next))) {
			rc = rc == PHI_ELIMIT ? phi_fail(err, rc, "TIFF IFD has more than %u entries",
			                                 t->max_entries)
			                      : phi_fail(err, rc, "TIFF IFD offset points outside the file");
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

static int check(const unsigned char *p, size_t n, const struct phi_limits *lim,
                 struct phi_tiff_check *out, struct phi_error *err)
{
	struct phi_tiff t;
	uint64_t ifd0;
	struct page *pg;
	unsigned np;
	struct phi_limits def;
	if (!lim) {
		phi_limits_default(&def);
		lim = &def;
	}
	memset(out, 0, sizeof *out);
	if (phi_tiff_init(&t, p, n, &ifd0, lim))
		return phi_fail(err, PHI_EFORMAT, "not a TIFF: bad header");
	out->big = t.big;
	int rc = pages(&t, ifd0, lim, &pg, &np, 0, err);
	if (rc)
		return rc;
	struct phi_sha256 h;
	if (phi_sha256_init(&h)) {
		free(pg);
		return phi_fail(err, PHI_ENOMEM, "cannot start SHA-256");
	}
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
		for (uint64_t i = 0; pg[k].has_data && i < pg[k].off.count; i++) {
			uint64_t o = phi_tiff_int(&t, &pg[k].off, i), c = phi_tiff_int(&t, &pg[k].cnt, i);
			phi_sha256_update(&h, p + o, (size_t)c);
		}
	}
	free(pg);
	if (phi_sha256_final(&h, out->pixels_sha256))
		return phi_fail(err, PHI_ENOMEM, "cannot finish SHA-256");
	return 0;
}

int phi_tiff_check(const unsigned char *p, size_t n, struct phi_tiff_check *out,
                   struct phi_error *err)
{
	return check(p, n, NULL, out, err);
}

static int align2(struct phi_dbuf *o)
{
	return (o->n & 1) ? phi_dbuf_add(o, "", 1) : 0;
}

/* An offset or count field of the output layout: 4 bytes, or 8 in BigTIFF. */
static int put_word(struct phi_dbuf *o, uint64_t v, int big, int be)
{
	if (!big)
		return phi_dbuf_u32(o, (uint32_t)v, be);
	uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
	int rc = phi_dbuf_u32(o, be ? hi : lo, be);
	return rc ? rc : phi_dbuf_u32(o, be ? lo : hi, be);
}

static void set_word(struct phi_dbuf *o, size_t at, uint64_t v, int big, int be)
{
	unsigned w = big ? 8 : 4;
	for (unsigned b = 0; b < w; b++)
		o->p[at + (be ? w - 1 - b : b)] = (unsigned char)(v >> (8 * b));
}

/* Rebuild the pages of t (read from t->p, which may be the ICC-patched copy) in
 * the same layout (classic or BigTIFF) and byte order. */
static int rebuild(const struct phi_tiff *t, const struct page *pg, unsigned np,
                   struct phi_dbuf *o)
{
	int be = t->be, big = t->big, rc;
	unsigned inl = PHI_TIFF_INLINE(t);
	size_t prev_next; /* where the offset of the next IFD goes */
	if (big) {
		rc = phi_dbuf_add(o, t->p, 8); /* II/MM, 43, 8, 0 */
		prev_next = 8;
	} else {
		rc = phi_dbuf_add(o, t->p, 4);
		prev_next = 4;
	}
	if (!rc)
		rc = put_word(o, 0, big, be);
	for (unsigned k = 0; k < np && !rc; k++) {
		const struct page *g = &pg[k];
		uint64_t cnt = g->has_data ? g->off.count : 0;
		uint64_t *newoff = cnt ? malloc((size_t)cnt * sizeof *newoff) : NULL;
		struct phi_tiff_entry *es = malloc((g->nent ? g->nent : 1) * sizeof *es);
		uint64_t *vals = malloc((g->nent ? g->nent : 1) * sizeof *vals);
		unsigned ne = 0;
		if ((cnt && !newoff) || !es || !vals)
			rc = PHI_ENOMEM;
		for (uint64_t i = 0; i < cnt && !rc; i++) {
			uint64_t so = phi_tiff_int(t, &g->off, i), sc = phi_tiff_int(t, &g->cnt, i);
			if (!(rc = align2(o)))
				newoff[i] = o->n;
			if (!rc)
				rc = phi_dbuf_add(o, t->p + so, (size_t)sc);
		}
		/* entries kept, in ascending tag order (TIFF 6.0 2): insertion sort */
		for (unsigned i = 0; i < g->nent && !rc; i++) {
			struct phi_tiff_entry e;
			phi_tiff_entry_at(t, g->ifd, i, &e);
			if (!kept(e.tag) || phi_tiff_type_size(e.type) == 0)
				continue;
			if (!e.in_range) {
				rc = PHI_EFORMAT;
				break;
			}
			unsigned j = ne++;
			while (j > 0 && es[j - 1].tag > e.tag) {
				es[j] = es[j - 1];
				j--;
			}
			es[j] = e;
		}
		/* strip offsets are LONG (classic) or LONG8 (BigTIFF): out of line when more
		 * than fit in the entry */
		unsigned osz = big ? 8 : 4;
		int offs_inline = cnt * osz <= inl;
		for (unsigned i = 0; i < ne && !rc; i++) {
			const struct phi_tiff_entry *e = &es[i];
			vals[i] = 0;
			if (e->tag == 273 || e->tag == 324) {
				if (!offs_inline) {
					if (!(rc = align2(o)))
						vals[i] = o->n;
					for (uint64_t m = 0; m < cnt && !rc; m++)
						rc = put_word(o, newoff[m], big, be);
				}
			} else if (e->size > inl) {
				if (!(rc = align2(o)))
					vals[i] = o->n;
				if (!rc)
					rc = phi_dbuf_add(o, t->p + e->voff, (size_t)e->size);
			}
		}
		if (!rc)
			rc = align2(o);
		if (!rc && !big && o->n > UINT32_MAX - 16)
			rc = PHI_ELIMIT; /* classic TIFF offsets are 32-bit */
		if (!rc) {
			set_word(o, prev_next, o->n, big, be);
			rc = big ? put_word(o, ne, 1, be) : phi_dbuf_u16(o, ne, be);
		}
		for (unsigned i = 0; i < ne && !rc; i++) {
			const struct phi_tiff_entry *e = &es[i];
			int offs = e->tag == 273 || e->tag == 324;
			rc = phi_dbuf_u16(o, e->tag, be);
			if (!rc)
				rc = phi_dbuf_u16(o, offs ? (big ? 16 : 4) : e->type, be);
			if (!rc)
				rc = put_word(o, offs ? cnt : e->count, big, be);
			if (rc)
				break;
			if (offs && offs_inline) {
				unsigned char v[8] = {0};
				struct phi_dbuf tmp;
				phi_dbuf_init(&tmp, 8);
				for (uint64_t m = 0; m < cnt && !rc; m++)
					rc = put_word(&tmp, newoff[m], big, be);
				if (!rc && tmp.n)
					memcpy(v, tmp.p, tmp.n);
				phi_dbuf_free(&tmp);
				if (!rc)
					rc = phi_dbuf_add(o, v, inl);
			} else if (offs || e->size > inl) {
				rc = put_word(o, vals[i], big, be);
			} else {
				unsigned char v[8] = {0};
				memcpy(v, t->p + e->voff, (size_t)e->size);
				rc = phi_dbuf_add(o, v, inl);
			}
		}
		if (!rc) {
			prev_next = o->n;
			rc = put_word(o, 0, big, be);
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
 * hashed before and after; the copy is scanned again and must give no field but
 * the text of the ICC profiles that are kept (blanked already where flagged). */

struct blank {
	const struct phi_tiff *t;
	const struct phi_limits *lim;
	unsigned char *o;
	uint64_t *seen;
	unsigned nseen;
	unsigned blanked;
	struct phi_error *err;
	uint64_t (*img)[2];
	size_t nimg, capimg;
};

static int add_img(struct blank *b, uint64_t off, uint64_t len)
{
	if (b->nimg == b->capimg) {
		if (b->capimg >= b->lim->max_strips)
			return phi_fail(b->err, PHI_ELIMIT, "TIFF has more than %zu strips or tiles",
			                b->lim->max_strips);
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

static int blank_chain(struct blank *b, uint64_t off, int gps, unsigned depth)
{
	const struct phi_tiff *t = b->t;
	for (; off; ) {
		for (unsigned i = 0; i < b->nseen; i++)
			if (b->seen[i] == off)
				return phi_fail(b->err, PHI_EFORMAT, "TIFF IFD chain loops");
		if (b->nseen == b->lim->max_ifds)
			return phi_fail(b->err, PHI_ELIMIT, "TIFF has more than %u IFDs", b->lim->max_ifds);
		b->seen[b->nseen++] = off;
		unsigned nent;
		uint64_t next;
		int rc = phi_tiff_ifd(t, off, &nent, &next);
		if (rc)
			return phi_fail(b->err, rc, "TIFF IFD offset points outside the file");
		struct page pg;
		if ((rc = page_data(t, off, nent, &pg, 0, b->err)))
			return rc;
		for (uint64_t i = 0; pg.has_data && i < pg.off.count; i++)
			if ((rc = add_img(b, phi_tiff_int(t, &pg.off, i), phi_tiff_int(t, &pg.cnt, i))))
				return rc;
		uint64_t jo = 0, jl = 0;
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
			                   e.tag == 0xA005) && phi_tiff_is_ifd_type(e.type);
			if (sub) {
				if (depth >= b->lim->max_ifd_depth)
					return phi_fail(b->err, PHI_ELIMIT, "TIFF sub-IFDs nest too deep");
				uint64_t cnt = e.count > 64 ? 64 : e.count;
				for (uint64_t j = 0; j < cnt; j++) {
					uint64_t so = phi_tiff_int(t, &e, j);
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
	struct phi_sha256 h;
	if (phi_sha256_init(&h))
		return PHI_ENOMEM;
	for (size_t i = 0; i < b->nimg; i++) {
		uint64_t o = b->img[i][0], l = b->img[i][1];
		if (o > n || l > n - o) {
			phi_sha256_abort(&h);
			return PHI_EFORMAT;
		}
		phi_sha256_update(&h, p + o, (size_t)l);
	}
	return phi_sha256_final(&h, hex);
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

/* o: a copy of the input (ICC text already blanked where flagged); consumed. */
static int blank_in_place(struct phi_fctx *ctx, const struct phi_tiff *t, uint64_t ifd0,
                          struct phi_dbuf *o, const char *why, unsigned icc_blanked)
{
	struct blank b = {0};
	char a[65], z[65];
	int rc = 0;
	b.t = t;
	b.lim = ctx->limits;
	b.o = o->p;
	b.err = ctx->err;
	b.seen = calloc(ctx->limits->max_ifds ? ctx->limits->max_ifds : 1, sizeof *b.seen);
	if (!b.seen)
		rc = phi_fail(ctx->err, PHI_ENOMEM, "out of memory blanking a TIFF");
	if (!rc)
		rc = blank_chain(&b, ifd0, 0, 0);
	if (!rc && (img_hash(&b, t->p, t->n, a) || img_hash(&b, o->p, o->n, z) || strcmp(a, z)))
		rc = phi_fail(ctx->err, PHI_EVERIFY, "blanking the TIFF would change its image data");
	if (!rc) {
		/* the copy, scanned again, must give the rules nothing but kept ICC text */
		unsigned fields = 0;
		struct phi_fctx c = *ctx;
		struct phi_error e2 = {0};
		struct phi_exif_info info = {.skip_icc = 1};
		c.sink_ops = &count_ops;
		c.sink = &fields;
		c.err = &e2;
		int r2 = phi_exif_scan(&c, o->p, o->n, 0, "TIFF", 1, &info);
		if (r2 || fields)
			rc = phi_fail(ctx->err, PHI_EVERIFY, "blanked TIFF failed its self-check");
	}
	if (!rc)
		rc = ctx->sink_ops->record(ctx->sink, "tiff_strip", why);
	if (!rc)
		rc = phi_img_icc_facts(ctx, icc_blanked, 0);
	if (!rc)
		rc = phi_img_record(ctx, "strip-data-identical", a, z, "values_blanked", b.blanked);
	if (!rc)
		rc = phi_output_write(ctx, o->p, o->n);
	free(b.img);
	free(b.seen);
	phi_dbuf_free(o);
	return rc;
}

static int strip(struct phi_fctx *ctx, const struct phi_img_in *in, struct phi_dbuf *patch,
                 const struct phi_exif_info *info)
{
	const struct phi_limits *lim = ctx->limits;
	struct phi_tiff t;
	uint64_t ifd0;
	struct page *pg = NULL;
	unsigned np = 0;
	struct phi_tiff_check a, b;
	struct phi_dbuf o;
	phi_dbuf_init(&o, lim->max_image_out);
	if (info->icc_unparsed)
		return phi_fail(ctx->err, PHI_EFORMAT,
		                "TIFF ICC profile (34675) cannot be read, so it cannot be shown clean");
	int rc = check(in->p, in->n, lim, &a, ctx->err);
	/* the pages are read from the copy: the same structure, ICC text blanked */
	if (!rc && phi_tiff_init(&t, patch->p, patch->n, &ifd0, lim))
		rc = phi_fail(ctx->err, PHI_EFORMAT, "not a TIFF: bad header");
	if (!rc)
		rc = pages(&t, ifd0, lim, &pg, &np, 1, ctx->err);
	if (rc == PHI_ENOTSUP) {
		/* a page that cannot be rewritten: blank its values in place */
		char why[96];
		snprintf(why, sizeof why, "blanked in place (%s)",
		         strstr(ctx->err->msg, "SubIFD") ? "SubIFDs" : "old-style JPEG");
		struct phi_tiff orig;
		phi_tiff_init(&orig, in->p, in->n, &ifd0, lim);
		free(pg);
		return blank_in_place(ctx, &orig, ifd0, patch, why, info->icc_blanked);
	}
	if (!rc && (rc = rebuild(&t, pg, np, &o)))
		rc = phi_fail(ctx->err, rc, "cannot rebuild the TIFF");
	if (!rc && (rc = check(o.p, o.n, lim, &b, ctx->err)) == 0 &&
	    (b.foreign || b.pages != a.pages || b.icc != a.icc || b.orientation != a.orientation ||
	     b.big != a.big || strcmp(a.pixels_sha256, b.pixels_sha256)))
		rc = phi_fail(ctx->err, PHI_EVERIFY, "stripped TIFF failed its self-check");
	if (!rc)
		rc = phi_img_record(ctx, "strip-data-identical", a.pixels_sha256, b.pixels_sha256,
		                    "tags_dropped", a.foreign);
	if (!rc)
		rc = phi_img_icc_facts(ctx, info->icc_blanked, 0);
	if (!rc)
		rc = phi_output_write(ctx, o.p, o.n);
	phi_dbuf_free(&o);
	free(pg);
	return rc;
}

static int tiff_scan(struct phi_fctx *ctx)
{
	struct phi_img_in in;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	struct phi_tiff t;
	uint64_t ifd0;
	if (phi_tiff_init(&t, in.p, in.n, &ifd0, ctx->limits)) {
		phi_img_release(&in);
		return phi_fail(ctx->err, PHI_EFORMAT, "not a TIFF: bad header");
	}
	struct phi_exif_info info = {0};
	struct phi_dbuf patch;
	phi_dbuf_init(&patch, ctx->limits->max_image_out);
	if (ctx->out_fd >= 0) {
		/* strip: a copy of the input receives the blanking of flagged ICC text */
		if ((rc = phi_dbuf_add(&patch, in.p, in.n))) {
			phi_img_release(&in);
			return phi_fail(ctx->err, rc, "cannot hold the TIFF copy in memory");
		}
		info.icc_patch = patch.p;
	}
	rc = phi_exif_scan(ctx, in.p, in.n, 0, "TIFF", 1, &info);
	if (!rc && ctx->out_fd >= 0)
		rc = strip(ctx, &in, &patch, &info);
	phi_dbuf_free(&patch);
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
