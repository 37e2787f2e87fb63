/* obj.c - Wavefront OBJ meshes and MTL material libraries.
 *
 * Follows: the Wavefront OBJ and MTL specifications (Advanced Visualizer 3.0
 * appendices B1 and B2, as republished at paulbourke.net/dataformats/obj and /mtl);
 * shared/reference/dental-formats.md 3.3.  Medit's vertex colours (`v x y z r g b`)
 * are numbers like any other.
 *
 * Slots: `#` comments (whole lines and the tail of a statement); `o` and `g` names;
 * file references (`mtllib`, `call`, `shadow_obj`, `trace_obj`, MTL `map_*`,
 * `bump`, `disp`, `decal`, `refl`, `norm`); material names (`usemtl`, `newmtl`).
 * A reference or material slot starts at its keyword (`map_Kd Maria_Gonzalez.jpg`):
 * the keyword is the cue of the rule that reads a name at the start of a referenced
 * file name (name-in-file-reference, issue 4); findings start in the value after
 * it.  A file reference is a PHI_FF_PATH field (issue 6): when strip renames the
 * .mtl or texture it names, the reference is rewritten to the new name.
 * A statement with an unknown keyword is kept only when its arguments are numbers;
 * otherwise the file fails (fail closed: text the format does not describe).
 *
 * Strip: comments removed (a comment-only line is dropped); `o` and `g` names
 * neutralised to `object<k>` / `group<k>`, k numbered by first appearance in the
 * file so distinct groups stay distinct; file references and material names keep
 * their text with every finding replaced (spaces in a replacement become `_`), so
 * that `usemtl` in the OBJ and `newmtl` in the MTL still agree after both files are
 * stripped with the same options.  Everything else is copied byte for byte.
 *
 * Geometry proof: SHA-256 of the ordered OBJ `v vt vn vp f l p` statements (MTL:
 * every statement that is not a slot), tokens joined by one space, one statement
 * per line, comments excluded.
 *
 * Threading: reentrant.  Ownership: the line buffer, the name table and the output
 * line are allocated per file and freed before scan() returns.
 */
#include "obj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshio.h"

enum stmt { ST_GEOM, ST_KEEP, ST_NAME_O, ST_NAME_G, ST_REF, ST_MAT, ST_NUMERIC };

struct kw {
	const char *kw;
	enum stmt st;
};

static const struct kw obj_kws[] = {
	{"v", ST_GEOM},        {"vt", ST_GEOM},        {"vn", ST_GEOM},        {"vp", ST_GEOM},
	{"f", ST_GEOM},        {"l", ST_GEOM},         {"p", ST_GEOM},         {"fo", ST_GEOM},
	{"o", ST_NAME_O},      {"g", ST_NAME_G},       {"s", ST_KEEP},         {"mg", ST_KEEP},
	{"mtllib", ST_REF},    {"usemtl", ST_MAT},     {"call", ST_REF},       {"shadow_obj", ST_REF},
	{"trace_obj", ST_REF}, {"cstype", ST_KEEP},    {"deg", ST_KEEP},       {"bmat", ST_KEEP},
	{"step", ST_KEEP},     {"curv", ST_KEEP},      {"curv2", ST_KEEP},     {"surf", ST_KEEP},
	{"parm", ST_KEEP},     {"trim", ST_KEEP},      {"hole", ST_KEEP},      {"scrv", ST_KEEP},
	{"sp", ST_KEEP},       {"end", ST_KEEP},       {"con", ST_KEEP},       {"bevel", ST_KEEP},
	{"c_interp", ST_KEEP}, {"d_interp", ST_KEEP},  {"lod", ST_KEEP},       {"ctech", ST_KEEP},
	{"stech", ST_KEEP},    {NULL, ST_KEEP},
};

static const struct kw mtl_kws[] = {
	{"newmtl", ST_MAT}, {"bump", ST_REF},  {"disp", ST_REF}, {"decal", ST_REF}, {"refl", ST_REF},
	{"norm", ST_REF},   {"illum", ST_KEEP}, {NULL, ST_KEEP},
};

struct objscan {
	struct phi_fctx *ctx;
	int mtl, strip, want_hash;
	struct phi_geohash h;
	struct phi_wbuf *w;
	/* o/g names: FNV-1a hashes, open addressing (0 = empty) */
	uint64_t *names;
	uint32_t *ord;
	size_t ncap, nnames;
	uint32_t next_o, next_g;
	struct phi_mbuf out;
};

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static enum stmt classify(const struct objscan *s, const unsigned char *k, size_t n, int *known)
{
	const struct kw *t = s->mtl ? mtl_kws : obj_kws;
	*known = 1;
	if (s->mtl && n > 4 && memcmp(k, "map_", 4) == 0)
		return ST_REF;
	for (; t->kw; t++)
		if (strlen(t->kw) == n && memcmp(t->kw, k, n) == 0)
			return t->st;
	*known = 0;
	return ST_NUMERIC;
}

/* Arguments that are numbers only (MTL Ka/Kd/Ns, unknown numeric statements). */
static int numeric_args(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
		      c == 'E' || c == '/' || is_blank(c) || c == '\r'))
			return 0;
	}
	return 1;
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = phi_fnv1a(p, n) ^ (uint64_t)n << 56;
	return h ? h : 1;
}

/* The ordinal of an o or g name (1-based, by first appearance per kind). */
static int name_ordinal(struct objscan *s, int is_g, const unsigned char *p, size_t n, uint32_t *out)
{
	uint64_t key = fnv(p, n) ^ (uint64_t)is_g;
	key = key ? key : 2;
	if (s->nnames * 2 >= s->ncap) {
		size_t nc = s->ncap ? s->ncap * 2 : 256;
		uint64_t *nn = calloc(nc, sizeof *nn);
		uint32_t *no = calloc(nc, sizeof *no);
		if (!nn || !no) {
			free(nn);
			free(no);
			return phi_fail(s->ctx->err, PHI_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < s->ncap; i++) {
			if (!s->names[i])
				continue;
			size_t j = (size_t)(s->names[i] % nc);
			while (nn[j])
				j = (j + 1) % nc;
			nn[j] = s->names[i];
			no[j] = s->ord[i];
		}
		free(s->names);
		free(s->ord);
		s->names = nn;
		s->ord = no;
		s->ncap = nc;
	}
	size_t j = (size_t)(key % s->ncap);
	while (s->names[j] && s->names[j] != key)
		j = (j + 1) % s->ncap;
	if (!s->names[j]) {
		if (s->nnames >= s->ctx->limits->obj_max_names)
			return phi_fail(s->ctx->err, PHI_ELIMIT, "more than %zu distinct object and group names",
			                s->ctx->limits->obj_max_names);
		s->names[j] = key;
		s->ord[j] = is_g ? ++s->next_g : ++s->next_o;
		s->nnames++;
	}
	*out = s->ord[j];
	return 0;
}

static unsigned char space_to_underscore(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ? '_' : c;
}

static int put(struct objscan *s, const void *p, size_t n)
{
	return phi_mbuf_put(&s->out, p, n, s->ctx->err);
}

/* Hash a kept statement: tokens of p[0..n) joined by one space, then '\n'. */
static void hash_stmt(struct objscan *s, const unsigned char *p, size_t n)
{
	size_t i = 0;
	int first = 1;
	if (!s->want_hash)
		return;
	while (i < n) {
		while (i < n && (is_blank(p[i]) || p[i] == '\r'))
			i++;
		size_t a = i;
		while (i < n && !is_blank(p[i]) && p[i] != '\r')
			i++;
		if (i > a) {
			if (!first)
				phi_geohash_update(&s->h, " ", 1);
			phi_geohash_update(&s->h, p + a, i - a);
			first = 0;
		}
	}
	phi_geohash_update(&s->h, "\n", 1);
}

static int one_line(struct objscan *s, const unsigned char *p, size_t n, uint64_t off, uint64_t ln)
{
	struct phi_fctx *ctx = s->ctx;
	struct phi_edits ed;
	char where[64];
	size_t eol = n, end, a, b, args;
	int rc, known;

	while (eol > 0 && (p[eol - 1] == '\n' || p[eol - 1] == '\r'))
		eol--;
	const unsigned char *c = memchr(p, '#', eol);
	end = c ? (size_t)(c - p) : eol;
	if (c) {
		size_t t = end + 1;
		while (t < eol && is_blank(p[t]))
			t++;
		snprintf(where, sizeof where, "comment line %llu", (unsigned long long)ln);
		if (eol > t && (rc = phi_emit_text(ctx, p + t, eol - t, off + t, ln, phi_column(p, t), where, &ed)))
			return rc;
		while (end > 0 && is_blank(p[end - 1]))
			end--;
	}
	a = 0;
	while (a < end && is_blank(p[a]))
		a++;
	if (a == end) { /* blank or comment-only */
		if (c)
			return 0; /* dropped */
		return s->strip ? put(s, p, n) : 0;
	}
	b = a;
	while (b < end && !is_blank(p[b]))
		b++;
	args = b;
	while (args < end && is_blank(p[args]))
		args++;
	enum stmt st = classify(s, p + a, b - a, &known);
	if (st == ST_NUMERIC && !numeric_args(p + args, end - args))
		return phi_fail_at(ctx->err, PHI_EFORMAT, off,
		                   "%s line %llu: a statement with text the format does not describe",
		                   s->mtl ? "MTL" : "OBJ", (unsigned long long)ln);
	switch (st) {
	case ST_GEOM:
		hash_stmt(s, p + a, end - a);
		break;
	case ST_KEEP:
	case ST_NUMERIC:
		if (s->mtl)
			hash_stmt(s, p + a, end - a);
		break;
	case ST_NAME_O:
	case ST_NAME_G: {
		int is_g = st == ST_NAME_G;
		if (args == end)
			break;
		snprintf(where, sizeof where, "%s name line %llu", is_g ? "g" : "o", (unsigned long long)ln);
		if ((rc = phi_emit_text(ctx, p + args, end - args, off + args, ln,
		                         phi_column(p, args), where, &ed)))
			return rc;
		if (!s->strip)
			return 0;
		if ((rc = put(s, p, args)))
			return rc;
		/* each name of `g a b` gets its own ordinal */
		size_t i = args;
		int first = 1;
		while (i < end) {
			while (i < end && is_blank(p[i]))
				i++;
			size_t t0 = i;
			while (i < end && !is_blank(p[i]))
				i++;
			if (i == t0)
				break;
			uint32_t k = 0;
			char nm[32];
			if ((rc = name_ordinal(s, is_g, p + t0, i - t0, &k)))
				return rc;
			int len = snprintf(nm, sizeof nm, "%s%s%u", first ? "" : " ", is_g ? "group" : "object", k);
			if ((rc = put(s, nm, (size_t)len)))
				return rc;
			first = 0;
			if (!is_g)
				break; /* o takes one name: the rest of the line is that name */
		}
		return put(s, p + eol, n - eol);
	}
	case ST_REF:
	case ST_MAT:
		if (args == end)
			break;
		/* the keyword is part of the field: it tells the rules the text is a file
		 * reference or a material name (rule name-in-file-reference) */
		snprintf(where, sizeof where, "%.*s line %llu", (int)(b - a < 16 ? b - a : 16),
		         (const char *)p + a, (unsigned long long)ln);
		if (s->strip && (rc = put(s, p, a)))
			return rc;
		/* the value starts after the keyword and its blanks (an MTL map takes its
		 * options first, `map_Kd -s 1 1 1 file.png`: the file is the last word); a
		 * file reference is a path field, rewritten when strip renames the file */
		size_t from = args;
		if (st == ST_REF && s->mtl)
			for (size_t i = args; i < end; i++)
				if (is_blank(p[i]) && i + 1 < end && !is_blank(p[i + 1]))
					from = i + 1;
		if ((rc = phi_emit_rewrite(ctx, p + a, end - a, off + a, ln, phi_column(p, a), where,
		                           from - a, st == ST_REF ? PHI_FF_PATH : 0,
		                           space_to_underscore, &s->out)))
			return rc;
		if (!s->strip)
			return 0;
		return put(s, p + eol, n - eol);
	}
	if (!s->strip)
		return 0;
	if (!c)
		return put(s, p, n);
	/* drop the trailing comment, keep the line ending */
	if ((rc = put(s, p, end)))
		return rc;
	return put(s, p + eol, n - eol);
}

static int obj_run_kind(struct phi_fctx *ctx, int want_hash, char hex[65], int mtl)
{
	size_t max = ctx->limits->mesh_max_line;
	struct objscan s = {.ctx = ctx, .mtl = mtl, .strip = ctx->out_fd >= 0, .want_hash = want_hash};
	struct phi_lines lr;
	const unsigned char *p;
	size_t n;
	uint64_t off;
	int rc;

	s.out.max = 2 * max + 4096;
	if (want_hash && (rc = phi_geohash_init(&s.h, ctx->err)))
		return rc;
	if (s.strip && !(s.w = malloc(sizeof *s.w))) {
		phi_geohash_abort(&s.h);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	}
	if (s.w) {
		s.w->ctx = ctx;
		s.w->n = 0;
	}
	if ((rc = phi_lines_init(&lr, ctx, max))) {
		phi_geohash_abort(&s.h);
		free(s.w);
		return rc;
	}
	if (memchr(ctx->head, 0, ctx->head_len))
		rc = phi_fail(ctx->err, PHI_EFORMAT, "%s file holds NUL bytes", mtl ? "MTL" : "OBJ");
	while (!rc && (rc = phi_lines_next(&lr, &p, &n, &off)) == 1) {
		if (memchr(p, 0, n)) {
			rc = phi_fail_at(ctx->err, PHI_EFORMAT, off, "%s file holds NUL bytes",
			                 mtl ? "MTL" : "OBJ");
			break;
		}
		s.out.n = 0;
		if ((rc = one_line(&s, p, n, off, lr.lineno)))
			break;
		if (s.strip && s.out.n && (rc = phi_wbuf_put(s.w, s.out.p, s.out.n)))
			break;
		rc = 0;
	}
	phi_lines_free(&lr);
	if (rc >= 0 && s.w)
		rc = phi_wbuf_flush(s.w);
	free(s.w);
	phi_mbuf_free(&s.out);
	free(s.names);
	free(s.ord);
	if (rc < 0) {
		phi_geohash_abort(&s.h);
		return rc;
	}
	return want_hash ? phi_geohash_hex(&s.h, hex, ctx->err) : 0;
}

static int obj_run(struct phi_fctx *ctx, int want_hash, char hex[65])
{
	return obj_run_kind(ctx, want_hash, hex, 0);
}

static int mtl_run(struct phi_fctx *ctx, int want_hash, char hex[65])
{
	return obj_run_kind(ctx, want_hash, hex, 1);
}

/* Share of the complete lines in the head whose first word is a keyword of the
 * kind (percent), and whether a marker keyword ("v", "newmtl") was seen. */
static int keyword_share(const unsigned char *h, size_t n, int mtl, int *marker)
{
	struct objscan s = {.mtl = mtl};
	size_t lines = 0, good = 0, i = 0;
	*marker = 0;
	while (i < n) {
		const unsigned char *nl = memchr(h + i, '\n', n - i);
		if (!nl)
			break;
		size_t e = (size_t)(nl - h), a = i, b;
		const unsigned char *hash = memchr(h + i, '#', e - i);
		i = e + 1;
		if (hash && hash > h + a)
			e = (size_t)(hash - h); /* a trailing comment is not the statement's */
		while (a < e && (is_blank(h[a]) || h[a] == '\r'))
			a++;
		if (a == e)
			continue;
		lines++;
		if (h[a] == '#') {
			good++;
			continue;
		}
		b = a;
		while (b < e && !is_blank(h[b]) && h[b] != '\r')
			b++;
		int known;
		enum stmt st = classify(&s, h + a, b - a, &known);
		if ((known && (st != ST_GEOM || numeric_args(h + b, e - b))) ||
		    (st == ST_NUMERIC && numeric_args(h + b, e - b)))
			good++;
		if ((!mtl && b - a == 1 && h[a] == 'v') || (mtl && b - a == 6 && !memcmp(h + a, "newmtl", 6)))
			*marker = 1;
	}
	return lines ? (int)(good * 100 / lines) : 0;
}

static int detect_kind(const unsigned char *h, size_t n, const char *name, int mtl)
{
	int marker;
	if (memchr(h, 0, n))
		return 0;
	int named = phi_name_has_suffix(name, mtl ? ".mtl" : ".obj");
	int share = keyword_share(h, n, mtl, &marker);
	if (named)
		return share >= 50 || n == 0 ? 90 : 55;
	return share >= 95 && marker ? 80 : 0;
}

static int obj_detect(const unsigned char *h, size_t n, const char *name)
{
	return detect_kind(h, n, name, 0);
}

static int mtl_detect(const unsigned char *h, size_t n, const char *name)
{
	return detect_kind(h, n, name, 1);
}

static int obj_scan(struct phi_fctx *ctx)
{
	return phi_mesh_scan(ctx, obj_run, "OBJ v/vt/vn/f statements");
}

static int mtl_scan(struct phi_fctx *ctx)
{
	return phi_mesh_scan(ctx, mtl_run, "MTL material statements");
}

const struct phi_format phi_format_obj = {
	.name = "obj",
	.detect = obj_detect,
	.scan = obj_scan,
	.can_strip = 1,
};

const struct phi_format phi_format_mtl = {
	.name = "mtl",
	.detect = mtl_detect,
	.scan = mtl_scan,
	.can_strip = 1,
};
