/* heif.c - HEIF/HEIC/AVIF, scan only (see heif.h).
 *
 * The top-level meta box is found, its iinf lists the items of type "Exif" and
 * "mime" (XMP: application/rdf+xml), and iloc gives their extents (construction
 * method 0, file offsets).  Each is scanned through exif.c or xmp.c; when the boxes
 * cannot be followed, the meta box's printable runs are scanned instead.  Item and
 * extent counts are capped (limits->max_items); every box and extent is checked against
 * its parent and the file.
 *
 * Strip: can_strip = 0, so the scanner refuses ("the heif format cannot be stripped
 * yet: nothing written") and exits 2.
 *
 * Threading: reentrant.  Ownership: input released here.
 */
#include "heif.h"

#include <stdlib.h>
#include <string.h>

#include "imgmeta.h"
#include "webp.h"
#include "xmp.h"

static uint32_t be32(const unsigned char *q)
{
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

struct box {
	size_t off, hdr, end; /* box start, header size, end */
	char type[5];
};

static int box_at(const unsigned char *p, size_t lim, size_t off, struct box *b)
{
	if (lim - off < 8)
		return -1;
	uint64_t sz = be32(p + off);
	size_t hdr = 8;
	if (sz == 1) {
		if (lim - off < 16)
			return -1;
		sz = (uint64_t)be32(p + off + 8) << 32 | be32(p + off + 12);
		hdr = 16;
	} else if (sz == 0) {
		sz = lim - off;
	}
	if (sz < hdr || sz > lim - off)
		return -1;
	b->off = off;
	b->hdr = hdr;
	b->end = off + (size_t)sz;
	memcpy(b->type, p + off + 4, 4);
	b->type[4] = 0;
	return 0;
}

static uint64_t rd(const unsigned char *p, size_t *i, size_t lim, unsigned size, int *bad)
{
	uint64_t v = 0;
	if (lim - *i < size) {
		*bad = 1;
		return 0;
	}
	for (unsigned k = 0; k < size; k++)
		v = v << 8 | p[*i + k];
	*i += size;
	return v;
}

struct item {
	uint32_t id;
	int kind; /* 1 Exif, 2 XMP */
};

/* Parse iinf and iloc of the meta box; scan each Exif/XMP item extent. */
static int heif_meta(struct phi_fctx *ctx, const unsigned char *p, size_t n, const struct box *meta)
{
	struct item items[64];
	unsigned ni = 0;
	struct box iloc = {0}, b;
	int have_iloc = 0, bad = 0, rc = 0;
	for (size_t off = meta->off + meta->hdr + 4; off < meta->end; off = b.end) {
		if (box_at(p, meta->end, off, &b))
			return 1;
		if (!strcmp(b.type, "iloc")) {
			iloc = b;
			have_iloc = 1;
		}
		if (strcmp(b.type, "iinf"))
			continue;
		size_t i = b.off + b.hdr;
		unsigned ver = (unsigned)rd(p, &i, b.end, 1, &bad);
		i += 3;
		uint64_t cnt = rd(p, &i, b.end, ver ? 4 : 2, &bad);
		struct box e;
		unsigned max = ctx->limits->max_items;
		for (uint64_t k = 0; k < cnt && !bad && i < b.end && k < max; k++, i = e.end) {
			if (box_at(p, b.end, i, &e) || strcmp(e.type, "infe"))
				return 1;
			size_t j = e.off + e.hdr;
			unsigned ev = (unsigned)rd(p, &j, e.end, 1, &bad);
			j += 3;
			if (ev < 2)
				continue;
			uint32_t id = (uint32_t)rd(p, &j, e.end, ev == 2 ? 2 : 4, &bad);
			j += 2;
			if (bad || e.end - j < 4)
				return 1;
			const unsigned char *ty = p + j;
			j += 4;
			int kind = 0;
			if (!memcmp(ty, "Exif", 4))
				kind = 1;
			else if (!memcmp(ty, "mime", 4)) {
				const unsigned char *z = memchr(p + j, 0, e.end - j); /* item_name */
				size_t ct = z ? (size_t)(z - p) + 1 : e.end;
				if (ct < e.end && e.end - ct >= 19 && !memcmp(p + ct, "application/rdf+xml", 19))
					kind = 2;
			}
			if (kind && ni < sizeof items / sizeof items[0])
				items[ni++] = (struct item){id, kind};
		}
	}
	if (bad || !have_iloc)
		return ni ? 1 : 0;
	size_t i = iloc.off + iloc.hdr;
	unsigned ver = (unsigned)rd(p, &i, iloc.end, 1, &bad);
	i += 3;
	unsigned s1 = (unsigned)rd(p, &i, iloc.end, 1, &bad), s2 = (unsigned)rd(p, &i, iloc.end, 1, &bad);
	unsigned osz = s1 >> 4, lsz = s1 & 15, bsz = s2 >> 4, isz = ver ? s2 & 15 : 0;
	if (osz > 8 || lsz > 8 || bsz > 8 || isz > 8)
		return 1;
	uint64_t cnt = rd(p, &i, iloc.end, ver < 2 ? 2 : 4, &bad);
	for (uint64_t k = 0; k < cnt && !bad && !rc && k < ctx->limits->max_items; k++) {
		uint32_t id = (uint32_t)rd(p, &i, iloc.end, ver < 2 ? 2 : 4, &bad);
		unsigned method = ver ? (unsigned)(rd(p, &i, iloc.end, 2, &bad) & 15) : 0;
		rd(p, &i, iloc.end, 2, &bad);
		uint64_t base = rd(p, &i, iloc.end, bsz, &bad);
		uint64_t ne = rd(p, &i, iloc.end, 2, &bad);
		int kind = 0;
		for (unsigned m = 0; m < ni; m++)
			if (items[m].id == id)
				kind = items[m].kind;
		for (uint64_t x = 0; x < ne && !bad && !rc; x++) {
			if (isz)
				rd(p, &i, iloc.end, isz, &bad);
			uint64_t eo = base + rd(p, &i, iloc.end, osz, &bad);
			uint64_t el = rd(p, &i, iloc.end, lsz, &bad);
			if (!kind || method != 0 || bad)
				continue;
			if (eo > n || el > n - eo)
				return phi_fail(ctx->err, PHI_EFORMAT, "HEIF item extent points outside the file");
			const unsigned char *d = p + eo;
			if (kind == 1) {
				uint32_t skip = el >= 4 ? be32(d) : 0;
				if (el < 4 || skip > el - 4)
					rc = phi_img_runs(ctx, "HEIF Exif (unparsed)", d, (size_t)el, eo);
				else
					rc = phi_webp_exif_block(ctx, d + 4 + skip, (size_t)el - 4 - skip, eo + 4 + skip,
					                "HEIF Exif (unparsed)");
			} else {
				rc = phi_xmp_scan(ctx, d, (size_t)el, eo, "XMP");
			}
		}
	}
	return bad ? 1 : rc;
}

static int heif_scan(struct phi_fctx *ctx)
{
	struct phi_img_in in;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	struct box b;
	size_t off = 0;
	int found = 0;
	while (!rc && off < in.n) {
		if (box_at(in.p, in.n, off, &b)) {
			rc = phi_fail_at(ctx->err, PHI_EFORMAT, off, "HEIF box length runs past the end of the file");
			break;
		}
		if (!strcmp(b.type, "meta")) {
			found = 1;
			int r = heif_meta(ctx, in.p, in.n, &b);
			if (r == 1) /* boxes we cannot follow: scan the meta box as text */
				r = phi_img_runs(ctx, "HEIF meta (unparsed)", in.p + b.off, b.end - b.off, b.off);
			rc = r;
		}
		off = b.end;
	}
	if (!rc && !found)
		rc = phi_fail(ctx->err, PHI_EFORMAT, "HEIF file has no meta box");
	phi_img_release(&in);
	return rc;
}

static int heif_detect(const unsigned char *h, size_t n, const char *name)
{
	static const char *const brands[] = {"heic", "heix", "hevc", "heim", "heis", "hevx",
	                                     "mif1", "msf1", "avif", "avis"};
	(void)name;
	if (n < 12 || memcmp(h + 4, "ftyp", 4))
		return 0;
	for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
		if (!memcmp(h + 8, brands[i], 4))
			return 100;
	return 0;
}

const struct phi_format phi_format_heif = {
	.name = "heif",
	.detect = heif_detect,
	.scan = heif_scan,
	.can_strip = 0,
};
