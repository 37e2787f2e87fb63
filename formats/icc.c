/* icc.c - text tags of ICC profiles scanned and, on strip, blanked (see icc.h).
 *
 * Specs: ICC.1:2022 7.2-7.3, 10.15 (mluc), 10.24 (text); ICC.1:2001-04 6.5.17
 * (desc).  Every offset and length is checked against the profile before use; the
 * tag count is capped by limits->max_items; tags sharing one data block (allowed by
 * 7.3.1) are read once.
 *
 * Threading: reentrant.  Ownership: see icc.h; scratch for decoded UTF-16 is freed
 * before return.
 */
#include "icc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgmeta.h"
#include "text.h"

#define ICC_HEADER 128

static uint32_t be32(const unsigned char *q)
{
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

struct icc {
	struct phi_fctx *ctx;
	const unsigned char *p;
	size_t n;
	uint64_t offset;
	unsigned char *patch;
	struct phi_icc_result res;
	char where[96];
};

static uint64_t at(const struct icc *c, size_t off)
{
	return c->offset == PHI_NO_OFFSET ? PHI_NO_OFFSET : c->offset + off;
}

/* Text of published profiles that every camera and editor embeds, not written by
 * anyone in a practice: the device manufacturer description of HP's 1998
 * IEC 61966-2.1 sRGB profile is a URL, which the url rule would flag in nearly
 * every photo (exiftool's XMP.jpg).  Compared whole, after trimming. */
static const char *const public_text[] = {
	"IEC http://www.iec.ch",
};

static int is_public(const unsigned char *s, size_t n)
{
	while (n && (s[n - 1] == 0 || s[n - 1] == ' '))
		n--;
	for (size_t i = 0; i < sizeof public_text / sizeof public_text[0]; i++)
		if (strlen(public_text[i]) == n && !memcmp(public_text[i], s, n))
			return 1;
	return 0;
}

/* One text run p[off..off+len): ASCII (or Latin-1) when ucs2 is 0, else UTF-16BE.
 * *flagged is set when the rules flag it. */
static int text(struct icc *c, size_t off, size_t len, int ucs2, int *flagged)
{
	if (!len)
		return 0;
	c->res.texts++;
	if (!ucs2 && is_public(c->p + off, len))
		return 0;
	if (!ucs2)
		return phi_img_field_flag(c->ctx, c->where, c->p + off, len, at(c, off), NULL,
		                          c->patch ? flagged : NULL);
	len &= ~(size_t)1;
	unsigned char *d = malloc(3 * (len / 2) + 1);
	uint32_t *m = malloc((3 * (len / 2) + 1) * sizeof *m);
	int rc = 0;
	if (!d || !m) {
		rc = phi_fail(c->ctx->err, PHI_ENOMEM, "out of memory reading ICC text");
	} else {
		long dn = phi_utf16_to_utf8(c->p + off, len, 1, d, m);
		if (dn > 0 && !is_public(d, (size_t)dn))
			rc = phi_img_field_flag(c->ctx, c->where, d, (size_t)dn, at(c, off),
			                        c->offset == PHI_NO_OFFSET ? NULL : m,
			                        c->patch ? flagged : NULL);
	}
	free(d);
	free(m);
	return rc;
}

/* Overwrite a text run in the patch: ASCII bytes (up to a NUL) with spaces, UTF-16
 * code units with U+0020. */
static void blank(struct icc *c, size_t off, size_t len, int ucs2)
{
	unsigned char *q = c->patch + off;
	if (ucs2) {
		for (size_t i = 0; i + 1 < len; i += 2)
			q[i] = 0, q[i + 1] = ' ';
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (q[i])
			q[i] = ' ';
}

struct run {
	size_t off, len;
	int ucs2;
};

/* The text runs of one tag of type sig at p[o..o+sz).  At most 3 + mluc records. */
static int tag_runs(const struct icc *c, size_t o, size_t sz, uint32_t type, struct run *r,
                    size_t cap, size_t *nr)
{
	const unsigned char *q = c->p + o;
	*nr = 0;
	if (type == 0x74657874) { /* 'text': ASCII to the end */
		r[(*nr)++] = (struct run){o + 8, sz - 8, 0};
		return 0;
	}
	if (type == 0x64657363) { /* 'desc' (v2): ASCII, then UTF-16BE, then ScriptCode */
		if (sz < 12)
			return -1;
		size_t an = be32(q + 8);
		if (an > sz - 12)
			return -1;
		r[(*nr)++] = (struct run){o + 12, an, 0};
		size_t u = 12 + an;
		if (sz - u >= 8) {
			size_t un = be32(q + u + 4);
			if (un > (sz - u - 8) / 2)
				return -1;
			r[(*nr)++] = (struct run){o + u + 8, 2 * un, 1};
			size_t sc = u + 8 + 2 * un;
			if (sz - sc >= 3) {
				size_t k = q[sc + 2];
				if (k > sz - sc - 3)
					k = sz - sc - 3;
				r[(*nr)++] = (struct run){o + sc + 3, k, 0};
			}
		}
		return 0;
	}
	/* 'mluc' (v4): records of language, country, length, offset from the tag start */
	if (sz < 16)
		return -1;
	size_t nrec = be32(q + 8), rsz = be32(q + 12);
	if (rsz < 12 || nrec > (sz - 16) / rsz)
		return -1;
	for (size_t i = 0; i < nrec && *nr < cap; i++) {
		const unsigned char *e = q + 16 + i * rsz;
		size_t len = be32(e + 4), so = be32(e + 8);
		if (so > sz || len > sz - so)
			return -1;
		r[(*nr)++] = (struct run){o + so, len, 1};
	}
	return 0;
}

int phi_icc_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset,
                 const char *where, unsigned char *patch, struct phi_icc_result *res)
{
	struct icc c = {0};
	c.ctx = ctx;
	c.p = p;
	c.n = n;
	c.offset = offset;
	c.patch = patch;
	int rc = 0;
	size_t count = n >= ICC_HEADER + 4 ? be32(p + ICC_HEADER) : 0;
	if (n < ICC_HEADER + 4 || memcmp(p + 36, "acsp", 4) || count > ctx->limits->max_items ||
	    count > (n - ICC_HEADER - 4) / 12) {
		c.res.unparsed = 1;
		snprintf(c.where, sizeof c.where, "%s (unparsed)", where);
		rc = phi_img_runs(ctx, c.where, p, n, offset);
		goto out;
	}
	struct run *runs = malloc(64 * sizeof *runs);
	uint32_t *seen = malloc((count ? count : 1) * sizeof *seen);
	size_t nseen = 0;
	if (!runs || !seen) {
		free(runs);
		free(seen);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading an ICC profile");
	}
	for (size_t i = 0; i < count && !rc; i++) {
		const unsigned char *e = p + ICC_HEADER + 4 + 12 * i;
		uint32_t sig = be32(e), o = be32(e + 4), sz = be32(e + 8);
		if (o > n || sz > n - o || sz < 8)
			continue; /* outside the profile: nothing there to read */
		uint32_t type = be32(p + o);
		if (type != 0x74657874 && type != 0x64657363 && type != 0x6D6C7563)
			continue; /* colour data */
		int dup = 0;
		for (size_t k = 0; k < nseen; k++)
			dup |= seen[k] == o;
		if (dup)
			continue;
		seen[nseen++] = o;
		char s4[5], t4[5];
		for (int k = 0; k < 4; k++) {
			unsigned char a = (unsigned char)(sig >> (24 - 8 * k)),
			              b = (unsigned char)(type >> (24 - 8 * k));
			s4[k] = a >= 0x20 && a < 0x7F ? (char)a : '?';
			t4[k] = b >= 0x20 && b < 0x7F ? (char)b : '?';
		}
		s4[4] = t4[4] = 0;
		snprintf(c.where, sizeof c.where, "%s tag %s (%s)", where, s4, t4);
		size_t nr = 0;
		if (tag_runs(&c, o, sz, type, runs, 64, &nr)) {
			/* a malformed text tag: its printable runs; a strip zeroes it whole (every
			 * count then reads 0: an empty tag) */
			rc = phi_img_runs(ctx, c.where, p + o + 8, sz - 8, at(&c, o + 8));
			if (!rc && patch) {
				memset(patch + o + 8, 0, sz - 8);
				c.res.blanked++;
			}
			continue;
		}
		int flagged = 0;
		for (size_t k = 0; k < nr && !rc; k++)
			rc = text(&c, runs[k].off, runs[k].len, runs[k].ucs2, &flagged);
		if (!rc && flagged && patch) {
			for (size_t k = 0; k < nr; k++)
				blank(&c, runs[k].off, runs[k].len, runs[k].ucs2);
			c.res.blanked++;
		}
	}
	free(runs);
	free(seen);
	if (!rc && c.res.blanked)
		memset(patch + 84, 0, 16); /* Profile ID: zero = not computed (7.2.18) */
out:
	if (res)
		*res = c.res;
	return rc;
}
