/* ply.c - PLY polygon files: `ply`, `format ascii|binary_little_endian|
 * binary_big_endian 1.0`, element/property schema, `end_header`, then the body.
 *
 * Follows: Greg Turk's PLY specification (paulbourke.net/dataformats/ply/) as
 * implemented by rply and MeshLab; shared/reference/dental-formats.md 3.2.
 *
 * The only free text is `comment` and `obj_info` lines, which may stand anywhere in
 * the header, between element and property lines too, and may be empty
 * (assimp#4866, CloudCompare#1448): each is a slot ("comment line N").  A header
 * line with any other keyword fails the file (fail closed: it could be text the
 * schema does not describe); so does a header without `end_header` within
 * limits->ply_max_header bytes.  More than limits->ply_max_elements elements or
 * limits->ply_max_props properties in one element fail with PHI_ELIMIT.
 *
 * Strip drops the comment and obj_info lines; every other header line and the
 * whole body are copied byte for byte, and the body (the bytes after
 * `end_header\n`) is hashed in and out.
 *
 * Counts never allocate: element counts up to 2^64 - 1 are held as numbers only.
 * The counts are checked against the body size first (exactly for fixed-size binary
 * rows; a lower bound when rows hold lists or are ascii).  A scan of fixed-size
 * binary rows stops there, having read the header only; otherwise (lists, ascii,
 * strip, a pipe) the body is walked: binary rows list by list, ascii rows line by
 * line (numbers only); a body shorter or longer than its counts fails, so nothing
 * can follow the declared rows unseen.
 *
 * Threading: reentrant.  Ownership: the line buffer is allocated per file and freed
 * before scan() returns.
 */
#include "ply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshio.h"

enum ply_fmt { PLY_ASCII, PLY_LE, PLY_BE };

struct ply_prop {
	unsigned char size;  /* bytes of a scalar, or of a list's items */
	unsigned char csize; /* list: bytes of the count; 0 for a scalar */
	unsigned char csigned;
};

struct ply_elem {
	uint64_t count;
	unsigned nprops;
	struct ply_prop *props; /* limits->ply_max_props entries, allocated with the element */
	uint64_t fixed;  /* bytes of a row when it has no list, else of its scalars */
	int has_list;
};

struct ply {
	struct phi_fctx *ctx;
	enum ply_fmt fmt;
	int fmt_seen;
	unsigned nelems;
	struct ply_elem *elems; /* limits->ply_max_elements entries */
	uint64_t header_len;
	/* body walk (binary) */
	unsigned e, p;
	uint64_t row;
	uint64_t skip;
	unsigned char cbuf[8];
	unsigned cn;     /* bytes of a list count gathered */
	int in_count;
	/* body walk (ascii) */
	uint64_t lines;
	int line_has;
};

static int ply_detect(const unsigned char *h, size_t n, const char *name)
{
	if (n >= 4 && (memcmp(h, "ply\n", 4) == 0 || (n >= 5 && memcmp(h, "ply\r\n", 5) == 0))) {
		size_t i = h[3] == '\n' ? 4 : 5;
		return n - i >= 7 && memcmp(h + i, "format ", 7) == 0 ? 95 : 70;
	}
	return 0;
}

static int type_size(const unsigned char *t, size_t n, unsigned char *size, unsigned char *sgn)
{
	static const struct {
		const char *name;
		unsigned char size, sgn;
	} types[] = {
		{"char", 1, 1},  {"uchar", 1, 0},  {"short", 2, 1},  {"ushort", 2, 0},
		{"int", 4, 1},   {"uint", 4, 0},   {"float", 4, 1},  {"double", 8, 1},
		{"int8", 1, 1},  {"uint8", 1, 0},  {"int16", 2, 1},  {"uint16", 2, 0},
		{"int32", 4, 1}, {"uint32", 4, 0}, {"float32", 4, 1}, {"float64", 8, 1},
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == n && memcmp(types[i].name, t, n) == 0) {
			*size = types[i].size;
			*sgn = types[i].sgn;
			return 0;
		}
	return -1;
}

/* Split a header line into up to max blank-separated tokens. */
static size_t tokens(const unsigned char *p, size_t n, const unsigned char **tok, size_t *tl,
                     size_t max)
{
	size_t k = 0, i = 0;
	while (i < n && k < max) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			break;
		size_t a = i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		tok[k] = p + a;
		tl[k++] = i - a;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n ? max + 1 : k; /* max + 1: more tokens than expected */
}

static int tok_is(const unsigned char *t, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(t, s, n) == 0;
}

static int parse_u64(const unsigned char *t, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		unsigned d = (unsigned)(t[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int bad_line(struct ply *y, uint64_t off, uint64_t line, const char *why)
{
	return phi_fail_at(y->ctx->err, PHI_EFORMAT, off, "PLY header line %llu: %s",
	                   (unsigned long long)line, why);
}

/* One schema line (not a comment).  Returns 1 at end_header. */
static int schema_line(struct ply *y, const unsigned char *p, size_t n, uint64_t off,
                       uint64_t line)
{
	const unsigned char *t[6];
	size_t tl[6];
	size_t k = tokens(p, n, t, tl, 5);
	struct ply_elem *el = y->nelems ? &y->elems[y->nelems - 1] : NULL;

	if (k == 0)
		return bad_line(y, off, line, "empty line");
	if (!y->fmt_seen && !tok_is(t[0], tl[0], "format"))
		return bad_line(y, off, line, "schema before the format line");
	if (tok_is(t[0], tl[0], "end_header"))
		return k == 1 ? 1 : bad_line(y, off, line, "text after end_header");
	if (tok_is(t[0], tl[0], "format")) {
		if (k != 3 || !tok_is(t[2], tl[2], "1.0"))
			return bad_line(y, off, line, "format is not version 1.0");
		if (y->fmt_seen)
			return bad_line(y, off, line, "a second format line");
		y->fmt_seen = 1;
		if (tok_is(t[1], tl[1], "ascii"))
			y->fmt = PLY_ASCII;
		else if (tok_is(t[1], tl[1], "binary_little_endian"))
			y->fmt = PLY_LE;
		else if (tok_is(t[1], tl[1], "binary_big_endian"))
			y->fmt = PLY_BE;
		else
			return bad_line(y, off, line, "unknown format");
		return 0;
	}
	if (tok_is(t[0], tl[0], "element")) {
		const struct phi_limits *lim = y->ctx->limits;
		if (k != 3)
			return bad_line(y, off, line, "element needs a name and a count");
		if (y->nelems == lim->ply_max_elements)
			return phi_fail_at(y->ctx->err, PHI_ELIMIT, off, "PLY header has more than %u elements",
			                   lim->ply_max_elements);
		el = &y->elems[y->nelems++];
		memset(el, 0, sizeof *el);
		el->props = calloc(lim->ply_max_props ? lim->ply_max_props : 1, sizeof *el->props);
		if (!el->props)
			return phi_fail(y->ctx->err, PHI_ENOMEM, "out of memory");
		if (parse_u64(t[2], tl[2], &el->count))
			return bad_line(y, off, line, "element count is not a number");
		return 0;
	}
	if (tok_is(t[0], tl[0], "property")) {
		if (!el)
			return bad_line(y, off, line, "property before any element");
		if (el->nprops == y->ctx->limits->ply_max_props)
			return phi_fail_at(y->ctx->err, PHI_ELIMIT, off,
			                   "PLY element has more than %u properties",
			                   y->ctx->limits->ply_max_props);
		struct ply_prop *pr = &el->props[el->nprops];
		unsigned char sz, sg;
		if (k == 5 && tok_is(t[1], tl[1], "list")) {
			if (type_size(t[2], tl[2], &pr->csize, &pr->csigned) || type_size(t[3], tl[3], &sz, &sg))
				return bad_line(y, off, line, "unknown property type");
			if (pr->csize == 8 || (pr->csize == 4 && tok_is(t[2], tl[2], "float")) ||
			    tok_is(t[2], tl[2], "float32"))
				return bad_line(y, off, line, "list count of a floating type");
			pr->size = sz;
			el->has_list = 1;
		} else if (k == 3) {
			if (type_size(t[1], tl[1], &pr->size, &sg))
				return bad_line(y, off, line, "unknown property type");
			pr->csize = 0;
		} else {
			return bad_line(y, off, line, "malformed property");
		}
		el->fixed += pr->csize ? pr->csize : pr->size;
		el->nprops++;
		return 0;
	}
	if ((t[0][0] >= '0' && t[0][0] <= '9') || t[0][0] == '-')
		return phi_fail_at(y->ctx->err, PHI_EFORMAT, off,
		                   "PLY header has no end_header (numbers on line %llu)",
		                   (unsigned long long)line);
	return bad_line(y, off, line, "unknown keyword (not comment, obj_info or schema)");
}

/* The body size a header promises: exact (fixed binary rows) or a lower bound.
 * Saturates at UINT64_MAX. */
static uint64_t body_min(const struct ply *y, int *exact)
{
	uint64_t sum = 0;
	*exact = y->fmt != PLY_ASCII;
	for (unsigned i = 0; i < y->nelems; i++) {
		const struct ply_elem *el = &y->elems[i];
		uint64_t row = y->fmt == PLY_ASCII ? 2u * (el->nprops ? el->nprops : 1) : el->fixed;
		if (el->has_list)
			*exact = 0;
		if (el->count && row > UINT64_MAX / el->count)
			return UINT64_MAX;
		uint64_t b = el->count * row;
		if (b > UINT64_MAX - sum)
			return UINT64_MAX;
		sum += b;
	}
	return sum;
}

static uint64_t rd_count(const struct ply *y, const struct ply_prop *pr, int *neg)
{
	uint64_t v = 0;
	*neg = 0;
	for (unsigned i = 0; i < pr->csize; i++) {
		unsigned k = y->fmt == PLY_LE ? pr->csize - 1 - i : i;
		v = v << 8 | y->cbuf[k];
	}
	if (pr->csigned && pr->csize < 8 && (v >> (pr->csize * 8 - 1)) & 1)
		*neg = 1;
	return v;
}

/* Advance to the next element with rows left; 1 when the body is complete. */
static int next_elem(struct ply *y)
{
	while (y->e < y->nelems && y->row >= y->elems[y->e].count) {
		y->e++;
		y->row = 0;
		y->p = 0;
	}
	return y->e >= y->nelems;
}

/* Walk binary body bytes p[0..n). */
static int walk_binary(struct ply *y, const unsigned char *p, size_t n, uint64_t at)
{
	size_t i = 0;
	while (i < n) {
		if (y->skip) {
			uint64_t k = n - i < y->skip ? n - i : y->skip;
			y->skip -= k;
			i += (size_t)k;
			continue;
		}
		if (next_elem(y))
			return phi_fail_at(y->ctx->err, PHI_EFORMAT, at + i,
			                   "PLY body longer than its element counts");
		const struct ply_elem *el = &y->elems[y->e];
		if (!el->has_list) {
			/* whole rows at once */
			if (el->fixed && el->count - y->row > UINT64_MAX / el->fixed)
				return phi_fail_at(y->ctx->err, PHI_EFORMAT, at + i,
				                   "PLY element count overflows the body size");
			y->skip = (el->count - y->row) * el->fixed;
			y->row = el->count;
			continue;
		}
		const struct ply_prop *pr = &el->props[y->p];
		if (!pr->csize) {
			y->skip = pr->size;
		} else {
			y->cbuf[y->cn++] = p[i++];
			if (y->cn < pr->csize)
				continue;
			int neg;
			uint64_t c = rd_count(y, pr, &neg);
			y->cn = 0;
			if (neg)
				return phi_fail_at(y->ctx->err, PHI_EFORMAT, at + i, "PLY list with a negative count");
			y->skip = c * pr->size; /* c < 2^32, size <= 8: no overflow */
		}
		if (++y->p == el->nprops) {
			y->p = 0;
			y->row++;
		}
	}
	return 0;
}

static int ascii_ok(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
	       c == ' ' || c == '\t' || c == '\r' || c == 'n' || c == 'a' || c == 'i' || c == 'f' ||
	       c == 'N' || c == 'A' || c == 'I' || c == 'F';
}

static int walk_ascii(struct ply *y, const unsigned char *p, size_t n, uint64_t at)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c == '\n') {
			y->lines += (uint64_t)y->line_has;
			y->line_has = 0;
		} else if (!ascii_ok(c)) {
			return phi_fail_at(y->ctx->err, PHI_EFORMAT, at + i,
			                   "PLY ascii body holds something other than numbers");
		} else if (c != ' ' && c != '\t' && c != '\r') {
			y->line_has = 1;
		}
	}
	return 0;
}

static int walk(struct ply *y, const unsigned char *p, size_t n, uint64_t at)
{
	return y->fmt == PLY_ASCII ? walk_ascii(y, p, n, at) : walk_binary(y, p, n, at);
}

static int walk_end(struct ply *y, uint64_t at)
{
	if (y->fmt == PLY_ASCII) {
		uint64_t rows = 0;
		for (unsigned i = 0; i < y->nelems; i++)
			rows = rows + y->elems[i].count < rows ? UINT64_MAX : rows + y->elems[i].count;
		y->lines += (uint64_t)y->line_has;
		if (y->lines != rows)
			return phi_fail_at(y->ctx->err, PHI_EFORMAT, at,
			                   "PLY ascii body has %llu rows, its element counts say %llu",
			                   (unsigned long long)y->lines, (unsigned long long)rows);
		return 0;
	}
	if (y->skip || y->cn || !next_elem(y))
		return phi_fail_at(y->ctx->err, PHI_EFORMAT, at,
		                   "PLY body shorter than its element counts");
	return 0;
}

static int read_body(struct ply *y, struct phi_lines *lr, int want_hash, char hex[65])
{
	struct phi_fctx *ctx = y->ctx;
	int strip = ctx->out_fd >= 0;
	unsigned char stackbuf[4096];
	unsigned char *buf = ctx->buf && ctx->buf_cap >= 65536 ? ctx->buf : stackbuf;
	size_t cap = buf == stackbuf ? sizeof stackbuf : 65536;
	struct phi_geohash h = {0};
	const unsigned char *p;
	size_t n;
	uint64_t at = y->header_len;
	int rc = 0;

	if (want_hash && (rc = phi_geohash_init(&h, ctx->err)))
		return rc;
	phi_lines_rest(lr, &p, &n);
	for (;;) {
		if (n) {
			if ((rc = walk(y, p, n, at)))
				break;
			if (want_hash)
				phi_geohash_update(&h, p, n);
			if (strip && (rc = phi_output_write(ctx, p, n)))
				break;
			at += n;
		}
		long r = phi_input_read(ctx, buf, cap);
		if (r <= 0) {
			rc = (int)r;
			break;
		}
		p = buf;
		n = (size_t)r;
	}
	if (!rc)
		rc = walk_end(y, at);
	if (rc) {
		phi_geohash_abort(&h);
		return rc;
	}
	return want_hash ? phi_geohash_hex(&h, hex, ctx->err) : 0;
}

static int ply_header(struct ply *y, struct phi_lines *lr)
{
	struct phi_fctx *ctx = y->ctx;
	int strip = ctx->out_fd >= 0;
	const unsigned char *p;
	size_t n;
	uint64_t off;
	int rc;

	while ((rc = phi_lines_next(lr, &p, &n, &off)) == 1) {
		size_t end = n;
		if (end && p[end - 1] == '\n')
			end--;
		if (end && p[end - 1] == '\r')
			end--;
		if (off + n > ctx->limits->ply_max_header)
			return phi_fail(ctx->err, PHI_EFORMAT, "PLY header has no end_header in its first %zu bytes",
			                ctx->limits->ply_max_header);
		if (lr->lineno == 1) {
			if (end != 3 || memcmp(p, "ply", 3))
				return phi_fail(ctx->err, PHI_EFORMAT, "not a PLY file (no `ply` line)");
		} else if ((end >= 7 && !memcmp(p, "comment", 7) && (end == 7 || p[7] == ' ' || p[7] == '\t')) ||
		           (end >= 8 && !memcmp(p, "obj_info", 8) && (end == 8 || p[8] == ' ' || p[8] == '\t'))) {
			size_t kw = p[0] == 'c' ? 7 : 8, s = kw;
			while (s < end && (p[s] == ' ' || p[s] == '\t'))
				s++;
			char where[48];
			struct phi_edits ed;
			snprintf(where, sizeof where, "%s line %llu", kw == 7 ? "comment" : "obj_info",
			         (unsigned long long)lr->lineno);
			if (end > s && (rc = phi_emit_text(ctx, p + s, end - s, off + s, lr->lineno,
		                                   phi_column(p, s), where, &ed)))
				return rc;
			continue; /* dropped from the copy */
		} else {
			rc = schema_line(y, p, end, off, lr->lineno);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				if (strip && (rc = phi_output_write(ctx, p, n)))
					return rc;
				y->header_len = off + n;
				return 0;
			}
		}
		if (strip && (rc = phi_output_write(ctx, p, n)))
			return rc;
	}
	if (rc < 0)
		return rc == PHI_ELIMIT ? phi_fail(ctx->err, PHI_EFORMAT,
		                                   "PLY header has no end_header in its first %zu bytes",
		                                   ctx->limits->ply_max_header)
		                        : rc;
	return phi_fail(ctx->err, PHI_EFORMAT, "PLY header has no end_header");
}

static int ply_run(struct phi_fctx *ctx, int want_hash, char hex[65])
{
	static const char *const fmt_names[] = {"ascii", "binary_little_endian", "binary_big_endian"};
	struct phi_lines lr;
	struct ply *y;
	int rc, exact = 0;

	y = calloc(1, sizeof *y);
	if (y)
		y->elems = calloc(ctx->limits->ply_max_elements ? ctx->limits->ply_max_elements : 1,
		                  sizeof *y->elems);
	if (!y || !y->elems) {
		free(y);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	}
	y->ctx = ctx;
	if ((rc = phi_lines_init(&lr, ctx, ctx->limits->ply_max_header))) {
		free(y->elems);
		free(y);
		return rc;
	}
	rc = ply_header(y, &lr);
	if (!rc && ctx->sink_ops && ctx->sink_ops->record)
		rc = ctx->sink_ops->record(ctx->sink, "ply", fmt_names[y->fmt]);
	if (!rc && ctx->size != PHI_NO_OFFSET) {
		uint64_t body = ctx->size - y->header_len, want = body_min(y, &exact);
		if (want > body || (exact && want != body))
			rc = phi_fail(ctx->err, PHI_EFORMAT,
			              "PLY element counts do not match the body size (%llu bytes)",
			              (unsigned long long)body);
	}
	/* A scan stops at the header only when the header fixes the body size exactly:
	 * with lists or an ascii body, bytes after the declared rows (free text) could
	 * otherwise pass unseen. */
	if (!rc && (ctx->out_fd >= 0 || want_hash || ctx->size == PHI_NO_OFFSET || !exact))
		rc = read_body(y, &lr, want_hash, hex);
	phi_lines_free(&lr);
	for (unsigned i = 0; i < y->nelems; i++)
		free(y->elems[i].props);
	free(y->elems);
	free(y);
	return rc;
}

static int ply_scan(struct phi_fctx *ctx)
{
	return phi_mesh_scan(ctx, ply_run, "PLY body");
}

const struct phi_format phi_format_ply = {
	.name = "ply",
	.detect = ply_detect,
	.scan = ply_scan,
	.can_strip = 1,
};
