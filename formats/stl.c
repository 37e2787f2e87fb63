/* stl.c - STL meshes: binary (80-byte header, uint32 count, 50-byte facets) and
 * ASCII (`solid NAME` ... `endsolid NAME`).
 *
 * Follows: the STL format as published with 3D Systems' StereoLithography Interface
 * Specification (1988, 1989) and its de-facto binary form; Materialise Magics colour
 * extension (`COLOR=` + 4 bytes RGBA, `MATERIAL=` + 3 x 4 bytes in the header);
 * shared/reference/dental-formats.md 3.1.
 *
 * Binary or ASCII is decided by size (issue 4): binary when size == 84 + 50 * n,
 * n the uint32 LE at byte 80, whatever the first bytes say (binary files that start
 * with `solid` are common: Hole3x5__dcm2stlapp_Hole_3x5.stl starts with `dcm2stl`).
 * On a pipe the size is known only at the end: an input whose first 64 KiB are text
 * starting with `solid` is ASCII, anything else binary, and the size formula is
 * checked when the input ends (a mismatch fails: the copy is discarded).
 *
 * Scan of a binary file reads only the head (64 KiB) already in memory: the header
 * is the only text.  Printable runs of 3+ bytes are slots ("header[a..b]", b
 * inclusive); the 4 and 12 binary bytes after `COLOR=` and `MATERIAL=` are colour,
 * not text, and are skipped.  Strip overwrites the header with PHI_STL_NEUTRAL_TAG,
 * NUL-padded, keeping the colour blocks at their offsets; bytes 80..EOF are copied
 * verbatim (facet attribute words, which are colour, included) and hashed.  With
 * PHI_SO_STL_ZERO_ATTR (--stl-zero-attributes) the attribute word of every facet
 * (its bytes 48-49) is written as zeros and left out of both hashes, which then
 * cover the count and the 48 geometry bytes of each facet.
 *
 * ASCII: every line is checked against the STL grammar's keywords (an unknown line
 * fails the file: it may be free text the format does not allow); the names on
 * `solid` / `endsolid` are slots, neutralised on strip to PHI_STL_NEUTRAL_NAME.  The
 * geometry hash covers every other line, byte for byte.
 *
 * Threading: reentrant.  Ownership: the line buffer is allocated per file and freed
 * before scan() returns.
 */
#include "stl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshio.h"

#define STL_HEADER 80u
#define STL_FACET 50u
#define STL_ATTR_AT 48u /* a facet: normal and three vertices (12 floats), then the word */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* `solid` at the start (after blanks), followed by a blank or the end. */
static int starts_solid(const unsigned char *h, size_t n)
{
	size_t i = 0;
	while (i < n && is_space(h[i]))
		i++;
	return n - i >= 5 && memcmp(h + i, "solid", 5) == 0 && (n - i == 5 || is_space(h[i + 5]));
}

static int ascii_candidate(const unsigned char *h, size_t n)
{
	return starts_solid(h, n) && !memchr(h, 0, n);
}

static int stl_detect(const unsigned char *h, size_t n, const char *name)
{
	int named = phi_name_has_suffix(name, ".stl");

	if (n >= STL_HEADER + 4) {
		uint64_t want = STL_HEADER + 4 + (uint64_t)STL_FACET * le32(h + STL_HEADER);
		if (n < PHI_HEAD_SIZE && want == n)
			return 95; /* the whole file is in the head and its size fits */
		if (n == PHI_HEAD_SIZE && want > n && !ascii_candidate(h, n))
			return named ? 90 : memchr(h, 0, n) ? 30 : 0;
	}
	if (ascii_candidate(h, n)) {
		if (memmem(h, n, "facet", 5) || memmem(h, n, "endsolid", 8))
			return named ? 90 : 85;
		return named ? 80 : 0;
	}
	/* A .stl that fits neither form: claim it so the scan says why (truncated). */
	return named ? 60 : 0;
}

/* ---- binary ---- */

/* Mark the Magics colour payloads: 4 bytes after COLOR=, 12 after MATERIAL=.
 * keep[] also marks the tags themselves (kept on strip). */
static void colour_blocks(const unsigned char *hdr, unsigned char payload[STL_HEADER],
                          unsigned char keep[STL_HEADER])
{
	static const struct {
		const char *tag;
		size_t tlen, plen;
	} blk[] = {{"COLOR=", 6, 4}, {"MATERIAL=", 9, 12}};

	memset(payload, 0, STL_HEADER);
	memset(keep, 0, STL_HEADER);
	for (size_t i = 0; i < STL_HEADER; i++) {
		if (payload[i])
			continue;
		for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
			if (STL_HEADER - i < blk[k].tlen || memcmp(hdr + i, blk[k].tag, blk[k].tlen))
				continue;
			size_t end = i + blk[k].tlen + blk[k].plen;
			if (end > STL_HEADER)
				end = STL_HEADER;
			for (size_t j = i; j < end; j++) {
				keep[j] = 1;
				if (j >= i + blk[k].tlen)
					payload[j] = 1;
			}
			break;
		}
	}
}

static int is_texty(unsigned char c)
{
	return (c >= 0x20 && c < 0x7F) || c == '\t' || c >= 0x80;
}

/* Hand every printable run (3+ bytes) of the header to the sink. */
static int header_slots(struct phi_fctx *ctx, const unsigned char *hdr,
                        const unsigned char payload[STL_HEADER])
{
	struct phi_edits ed;
	char where[40];
	size_t i = 0;
	int rc;

	while (i < STL_HEADER) {
		if (payload[i] || !is_texty(hdr[i])) {
			i++;
			continue;
		}
		size_t a = i;
		while (i < STL_HEADER && !payload[i] && is_texty(hdr[i]))
			i++;
		if (i - a < 3)
			continue;
		snprintf(where, sizeof where, "header[%zu..%zu]", a, i - 1);
		if ((rc = phi_emit_text(ctx, hdr + a, i - a, a, 0, 0, where, &ed)))
			return rc;
	}
	return 0;
}

/* Hash (h may be NULL) and, in strip mode, write the bytes after the header: the
 * count and the facets, p[0..n) standing at offset *pos from byte 80.  With zero
 * set, attribute words are zeroed in p (a scratch buffer) and not hashed. */
static int facet_bytes(struct phi_fctx *ctx, struct phi_geohash *h, int strip, int zero,
                       unsigned char *p, size_t n, uint64_t *pos)
{
	size_t i = 0;
	while (zero && i < n) {
		uint64_t at = *pos + i;
		size_t run, k = at < 4 ? 0 : (size_t)((at - 4) % STL_FACET);
		if (at < 4)
			run = (size_t)(4 - at);
		else
			run = k < STL_ATTR_AT ? STL_ATTR_AT - k : STL_FACET - k;
		if (run > n - i)
			run = n - i;
		if (at >= 4 && k >= STL_ATTR_AT)
			memset(p + i, 0, run);
		else if (h)
			phi_geohash_update(h, p + i, run);
		i += run;
	}
	if (!zero && h)
		phi_geohash_update(h, p, n);
	*pos += n;
	return strip ? phi_output_write(ctx, p, n) : 0;
}

/* Copy the input from byte 84 (the head already read) to its end through
 * facet_bytes; *rest receives the count of bytes after the header. */
static int copy_facets(struct phi_fctx *ctx, struct phi_geohash *h, int strip, uint64_t *rest)
{
	unsigned char stackbuf[4096];
	unsigned char *buf = ctx->buf && ctx->buf_cap >= 65536 ? ctx->buf : stackbuf;
	size_t cap = buf == stackbuf ? sizeof stackbuf : 65536;
	int zero = (ctx->sopts->flags & PHI_SO_STL_ZERO_ATTR) != 0;
	uint64_t pos = 0;
	int rc;

	if (!zero)
		return phi_copy_rest(ctx, h, strip, rest);
	for (;;) {
		long r = phi_input_read(ctx, buf, cap);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		if ((rc = facet_bytes(ctx, h, strip, zero, buf, (size_t)r, &pos)))
			return rc;
	}
	*rest = pos;
	return 0;
}

static int run_binary(struct phi_fctx *ctx, int want_hash, char hex[65], uint32_t count)
{
	unsigned char hdr[STL_HEADER], payload[STL_HEADER], keep[STL_HEADER], out[STL_HEADER];
	int strip = ctx->out_fd >= 0;
	struct phi_geohash h = {0};
	uint64_t rest = 0;
	int rc;

	long r = phi_input_read(ctx, hdr, sizeof hdr);
	if (r < 0)
		return (int)r;
	if ((size_t)r != sizeof hdr)
		return phi_fail(ctx->err, PHI_EFORMAT, "binary STL shorter than its 84-byte header");
	colour_blocks(hdr, payload, keep);
	if ((rc = header_slots(ctx, hdr, payload)))
		return rc;
	if (strip) {
		size_t tl = sizeof PHI_STL_NEUTRAL_TAG - 1;
		int clash = 0;
		for (size_t i = 0; i < STL_HEADER; i++) {
			out[i] = keep[i] ? hdr[i] : 0;
			clash |= keep[i] && i < tl;
		}
		if (!clash)
			memcpy(out, PHI_STL_NEUTRAL_TAG, tl);
		if ((rc = phi_output_write(ctx, out, sizeof out)))
			return rc;
	}
	if (!want_hash && !strip && ctx->size != PHI_NO_OFFSET)
		return 0; /* the size was checked: the facets are never read in a scan */
	if (strip && (ctx->sopts->flags & PHI_SO_STL_ZERO_ATTR) && ctx->sink_ops &&
	    ctx->sink_ops->record && ctx->sink_ops->record(ctx->sink, "stl_attributes", "zeroed"))
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	if (want_hash && (rc = phi_geohash_init(&h, ctx->err)))
		return rc;
	rc = copy_facets(ctx, want_hash ? &h : NULL, strip, &rest);
	if (!rc && rest != 4 + (uint64_t)STL_FACET * count)
		rc = phi_fail(ctx->err, PHI_EFORMAT,
		              "binary STL size does not match its triangle count %u (84 + 50 * n): "
		              "truncated or not an STL",
		              count);
	if (rc) {
		phi_geohash_abort(&h);
		return rc;
	}
	return want_hash ? phi_geohash_hex(&h, hex, ctx->err) : 0;
}

/* ---- ASCII ---- */

static size_t skip_blank(const unsigned char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

static int kw_is(const unsigned char *p, size_t n, const char *kw)
{
	size_t k = strlen(kw);
	return n == k && memcmp(p, kw, k) == 0;
}

static int run_ascii(struct phi_fctx *ctx, int want_hash, char hex[65])
{
	static const char *const body_kw[] = {"facet", "outer", "vertex", "endloop", "endfacet"};
	size_t max = ctx->limits->mesh_max_line;
	int strip = ctx->out_fd >= 0, open = 0, solids = 0;
	struct phi_lines lr;
	struct phi_geohash h = {0};
	struct phi_wbuf *w = NULL;
	const unsigned char *p;
	size_t n;
	uint64_t off;
	int rc;

	if (strip && !(w = malloc(sizeof *w)))
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	if (w) {
		w->ctx = ctx;
		w->n = 0;
	}
	if ((rc = phi_lines_init(&lr, ctx, max))) {
		free(w);
		return rc;
	}
	if (want_hash && (rc = phi_geohash_init(&h, ctx->err))) {
		phi_lines_free(&lr);
		free(w);
		return rc;
	}
	while ((rc = phi_lines_next(&lr, &p, &n, &off)) == 1) {
		size_t end = n;
		while (end > 0 && (p[end - 1] == '\n' || p[end - 1] == '\r'))
			end--;
		size_t a = skip_blank(p, 0, end), b = a;
		while (b < end && !is_space(p[b]))
			b++;
		int is_solid = kw_is(p + a, b - a, "solid"), is_end = kw_is(p + a, b - a, "endsolid");
		if (is_solid || is_end) {
			if (is_solid == open) {
				rc = phi_fail_at(ctx->err, PHI_EFORMAT, off,
				                 is_solid ? "ASCII STL: solid inside a solid (line %llu)"
				                          : "ASCII STL: endsolid without solid (line %llu)",
				                 (unsigned long long)lr.lineno);
				break;
			}
			open = is_solid;
			solids += is_solid;
			size_t s = skip_blank(p, b, end), e = end;
			while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
				e--;
			char where[48];
			struct phi_edits ed;
			snprintf(where, sizeof where, "%s name line %llu", is_solid ? "solid" : "endsolid",
			         (unsigned long long)lr.lineno);
			if (e > s && (rc = phi_emit_text(ctx, p + s, e - s, off + s, lr.lineno, phi_column(p, s),
		                                 where, &ed)))
				break;
			if (strip) {
				const char *nn = PHI_STL_NEUTRAL_NAME;
				if ((rc = phi_wbuf_put(w, p, s)) ||
				    (e > s && (rc = phi_wbuf_put(w, nn, strlen(nn)))) ||
				    (rc = phi_wbuf_put(w, p + e, n - e)))
					break;
			}
			continue;
		}
		if (a < end) {
			size_t k = 0, nk = sizeof body_kw / sizeof body_kw[0];
			while (k < nk && !kw_is(p + a, b - a, body_kw[k]))
				k++;
			if (k == nk || !open) {
				rc = phi_fail_at(ctx->err, PHI_EFORMAT, off,
				                 "ASCII STL: unexpected text on line %llu",
				                 (unsigned long long)lr.lineno);
				break;
			}
		}
		if (want_hash)
			phi_geohash_update(&h, p, n);
		if (strip && (rc = phi_wbuf_put(w, p, n)))
			break;
	}
	phi_lines_free(&lr);
	if (rc >= 0 && w)
		rc = phi_wbuf_flush(w);
	free(w);
	if (rc >= 0 && !solids)
		rc = phi_fail(ctx->err, PHI_EFORMAT, "ASCII STL without a solid line");
	else if (rc >= 0 && open)
		rc = phi_fail(ctx->err, PHI_EFORMAT, "ASCII STL without endsolid");
	if (rc < 0) {
		phi_geohash_abort(&h);
		return rc;
	}
	return want_hash ? phi_geohash_hex(&h, hex, ctx->err) : 0;
}

static int stl_run(struct phi_fctx *ctx, int want_hash, char hex[65])
{
	const unsigned char *h = ctx->head;
	size_t hn = ctx->head_len;
	uint64_t total = ctx->size;
	const struct phi_sink_ops *ops = ctx->sink_ops;

	if (total == PHI_NO_OFFSET && hn < PHI_HEAD_SIZE)
		total = hn; /* a pipe that ended inside the head */
	if (hn < STL_HEADER + 4 && !ascii_candidate(h, hn))
		return phi_fail(ctx->err, PHI_EFORMAT, "STL shorter than the 84-byte binary header");
	if (total != PHI_NO_OFFSET && total >= STL_HEADER + 4 &&
	    total == STL_HEADER + 4 + (uint64_t)STL_FACET * le32(h + STL_HEADER)) {
		if (ops && ops->record && ops->record(ctx->sink, "stl", "binary"))
			return PHI_ENOMEM;
		return run_binary(ctx, want_hash, hex, le32(h + STL_HEADER));
	}
	if (ascii_candidate(h, hn)) {
		if (ops && ops->record && ops->record(ctx->sink, "stl", "ascii"))
			return PHI_ENOMEM;
		return run_ascii(ctx, want_hash, hex);
	}
	if (total == PHI_NO_OFFSET) /* a long pipe: binary, checked at the end */
		return run_binary(ctx, want_hash, hex, le32(h + STL_HEADER));
	return phi_fail(ctx->err, PHI_EFORMAT,
	                "binary STL size %llu does not match its triangle count %u (84 + 50 * n): "
	                "truncated or not an STL",
	                (unsigned long long)total, le32(h + STL_HEADER));
}

static int stl_scan(struct phi_fctx *ctx)
{
	return phi_mesh_scan(ctx, stl_run, "STL geometry");
}

const struct phi_format phi_format_stl = {
	.name = "stl",
	.detect = stl_detect,
	.scan = stl_scan,
	.can_strip = 1,
};
