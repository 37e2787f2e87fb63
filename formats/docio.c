/* docio.c - loading, decoding, value pieces and the byte-preserving writer shared
 * by the XML, JSON and HTML formats; see docio.h.
 *
 * Follows: RFC 2781 (UTF-16 and its BOM; an unpaired surrogate is an error here,
 * not U+FFFD: a file that does not decode cannot be shown clean), RFC 3629.
 *
 * Threading: reentrant.  Ownership: see docio.h.
 */
#include "docio.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "text.h"

/* UTF-16 documents are decoded whole (3 bytes of text and 12 of map per unit). */
#define DOC_MAX_UTF16 ((size_t)256 << 20)

int phi_input_whole(struct phi_fctx *ctx, const char *what, size_t most, unsigned char **buf,
                    size_t *len, int *mapped)
{
	*mapped = 0;
	if (ctx->size != PHI_NO_OFFSET && ctx->size > 0 && ctx->size < SIZE_MAX) {
		void *m = mmap(NULL, (size_t)ctx->size, PROT_READ, MAP_PRIVATE, ctx->fd, 0);
		if (m != MAP_FAILED) {
			*buf = m;
			*len = (size_t)ctx->size;
			*mapped = 1;
			ctx->in_bytes = ctx->size;
			return 0;
		}
	}
	struct phi_mbuf b = {.max = most};
	unsigned char tmp[65536];
	for (;;) {
		long r = phi_input_read(ctx, tmp, sizeof tmp);
		if (r < 0) {
			phi_mbuf_free(&b);
			return (int)r;
		}
		if (r == 0)
			break;
		int rc = phi_mbuf_put(&b, tmp, (size_t)r, ctx->err);
		if (rc) {
			phi_mbuf_free(&b);
			return rc == PHI_ELIMIT ? phi_fail(ctx->err, PHI_ELIMIT, "%s input larger than %zu bytes",
			                                   what, most)
			                        : rc;
		}
	}
	*buf = b.p;
	*len = b.n;
	return 0;
}

static int load_raw(struct phi_fctx *ctx, struct phi_doc *d, const char *what)
{
	if (ctx->size != PHI_NO_OFFSET && ctx->size > PHI_DOC_MAX)
		return phi_fail(ctx->err, PHI_ELIMIT, "%s file larger than %zu bytes", what,
		                PHI_DOC_MAX);
	unsigned char *p = NULL;
	int rc = phi_input_whole(ctx, what, PHI_DOC_MAX, &p, &d->raw_len, &d->mapped);
	if (rc)
		return rc;
	if (!d->mapped)
		d->owned = p;
	d->raw = p ? p : (const unsigned char *)"";
	return 0;
}

static int decode_utf16(struct phi_fctx *ctx, struct phi_doc *d, const char *what)
{
	int be = d->enc == PHI_DENC_UTF16BE;
	const unsigned char *s = d->raw + d->bom;
	size_t n = d->raw_len - d->bom;
	if (n % 2)
		return phi_fail(ctx->err, PHI_EFORMAT, "%s in UTF-16 with an odd byte count (truncated)",
		                what);
	if (n > DOC_MAX_UTF16)
		return phi_fail(ctx->err, PHI_ELIMIT, "UTF-16 %s larger than %zu bytes", what,
		                DOC_MAX_UTF16);
	for (size_t i = 0; i < n; i += 2) {
		unsigned u = be ? (unsigned)s[i] << 8 | s[i + 1] : (unsigned)s[i + 1] << 8 | s[i];
		if (u >= 0xDC00 && u <= 0xDFFF)
			return phi_fail_at(ctx->err, PHI_EFORMAT, d->bom + i,
			                   "%s: bad UTF-16 (unpaired low surrogate)", what);
		if (u >= 0xD800 && u <= 0xDBFF) {
			unsigned u2 = 0;
			if (i + 3 < n)
				u2 = be ? (unsigned)s[i + 2] << 8 | s[i + 3] : (unsigned)s[i + 3] << 8 | s[i + 2];
			if (u2 < 0xDC00 || u2 > 0xDFFF)
				return phi_fail_at(ctx->err, PHI_EFORMAT, d->bom + i,
				                   "%s: bad UTF-16 (unpaired high surrogate)", what);
			i += 2;
		}
	}
	size_t cap = 3 * (n / 2) + 1;
	d->tbuf = malloc(cap);
	d->tmap = malloc(cap * sizeof *d->tmap);
	if (!d->tbuf || !d->tmap)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	long tl = phi_utf16_to_utf8(s, n, be, d->tbuf, d->tmap);
	if (tl < 0)
		return phi_fail(ctx->err, PHI_EFORMAT, "%s: bad UTF-16", what);
	for (long i = 0; i <= tl; i++)
		d->tmap[i] += (uint32_t)d->bom;
	d->t = d->tbuf;
	d->len = (size_t)tl;
	return 0;
}

int phi_doc_load(struct phi_fctx *ctx, struct phi_doc *d, const char *what)
{
	int rc;
	memset(d, 0, sizeof *d);
	if ((rc = load_raw(ctx, d, what)))
		return rc;
	const unsigned char *r = d->raw;
	size_t n = d->raw_len;
	d->enc = PHI_DENC_UTF8;
	if (n >= 3 && r[0] == 0xEF && r[1] == 0xBB && r[2] == 0xBF) {
		d->enc = PHI_DENC_UTF8_BOM;
		d->bom = 3;
	} else if (n >= 2 && r[0] == 0xFF && r[1] == 0xFE) {
		d->enc = PHI_DENC_UTF16LE;
		d->bom = 2;
	} else if (n >= 2 && r[0] == 0xFE && r[1] == 0xFF) {
		d->enc = PHI_DENC_UTF16BE;
		d->bom = 2;
	} else if (n >= 4 && r[0] == '<' && r[1] == 0 && r[2] && !r[3]) {
		d->enc = PHI_DENC_UTF16LE; /* XML 1.0 F.1: "<" in UTF-16LE without a BOM */
	} else if (n >= 4 && !r[0] && r[1] == '<' && !r[2] && r[3]) {
		d->enc = PHI_DENC_UTF16BE;
	}
	static const char *const names[] = {"utf-8", "utf-8-bom", "utf-16le", "utf-16be"};
	ctx->encoding = names[d->enc];
	if (d->enc == PHI_DENC_UTF16LE || d->enc == PHI_DENC_UTF16BE)
		return decode_utf16(ctx, d, what);
	d->t = r + d->bom;
	d->len = n - d->bom;
	return 0;
}

void phi_doc_free(struct phi_doc *d)
{
	if (d->mapped && d->raw_len)
		munmap((void *)d->raw, d->raw_len);
	free(d->owned);
	free(d->tbuf);
	free(d->tmap);
	memset(d, 0, sizeof *d);
}

size_t phi_doc_sniff(const unsigned char *h, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0, step = 1;
	int be = 0;
	if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
		i = 3;
	} else if (n >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
		i = 2, step = 2;
	} else if (n >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
		i = 2, step = 2, be = 1;
	} else if (n >= 4 && h[0] == '<' && !h[1] && h[2] && !h[3]) {
		step = 2;
	} else if (n >= 4 && !h[0] && h[1] == '<' && !h[2] && h[3]) {
		step = 2, be = 1;
	}
	for (; i + step <= n && o + 1 < cap; i += step) {
		unsigned c = step == 1 ? h[i] : be ? (unsigned)h[i] << 8 | h[i + 1] : (unsigned)h[i + 1] << 8 | h[i];
		if (c == 0)
			break;
		out[o++] = c < 0x80 ? (char)c : '?';
	}
	out[o] = 0;
	return o;
}

size_t phi_doc_skip_ws(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
		i++;
	return i;
}

/* ---- values ---- */

void phi_val_reset(struct phi_val *v)
{
	v->text.n = 0;
	v->npc = 0;
}

void phi_val_free(struct phi_val *v)
{
	phi_mbuf_free(&v->text);
	free(v->pc);
	memset(v, 0, sizeof *v);
}

int phi_val_add(struct phi_val *v, const void *s, size_t n, size_t ta, size_t tb,
                unsigned flags, struct phi_error *err)
{
	if (!v->text.max)
		v->text.max = PHI_DOC_MAX;
	size_t va = v->text.n;
	int rc;
	if (n && (rc = phi_mbuf_put(&v->text, s, n, err)))
		return rc;
	struct phi_piece *last = v->npc ? &v->pc[v->npc - 1] : NULL;
	if (last && (flags & PHI_PIECE_RAW) && last->flags == flags && last->tb == ta &&
	    last->vb == va) {
		last->tb = (uint32_t)tb;
		last->vb = (uint32_t)(va + n);
		return 0;
	}
	if (v->npc >= v->cappc || !v->pc) {
		size_t nc = v->cappc ? v->cappc * 2 : 16;
		struct phi_piece *p = realloc(v->pc, nc * sizeof *p);
		if (!p)
			return phi_fail(err, PHI_ENOMEM, "out of memory");
		v->pc = p;
		v->cappc = nc;
	}
	v->pc[v->npc++] = (struct phi_piece){(uint32_t)ta, (uint32_t)tb, (uint32_t)va,
	                                     (uint32_t)(va + n), flags};
	return 0;
}

void phi_dedits_free(struct phi_dedits *e)
{
	free(e->v);
	phi_mbuf_free(&e->repl);
	memset(e, 0, sizeof *e);
}

static int dedit_add(struct phi_dedits *e, size_t a, size_t b, const unsigned char *r, size_t rn,
                     unsigned flags, phi_escape_fn esc, struct phi_error *err)
{
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 32;
		struct phi_dedit *p = realloc(e->v, nc * sizeof *p);
		if (!p)
			return phi_fail(err, PHI_ENOMEM, "out of memory");
		e->v = p;
		e->cap = nc;
	}
	if (!e->repl.max)
		e->repl.max = PHI_DOC_MAX;
	size_t ro = e->repl.n;
	int rc = 0;
	if (rn)
		rc = esc ? esc(&e->repl, r, rn, flags, err) : phi_mbuf_put(&e->repl, r, rn, err);
	if (rc)
		return rc;
	e->v[e->n++] = (struct phi_dedit){a, b, ro, e->repl.n - ro};
	return 0;
}

int phi_dedits_add(struct phi_dedits *e, size_t a, size_t b, const unsigned char *r, size_t rn,
                   struct phi_error *err)
{
	return dedit_add(e, a, b, r, rn, 0, NULL, err);
}

/* t index of value byte i (i < text.n) */
static size_t t_of(const struct phi_val *v, size_t *k, size_t i)
{
	while (*k + 1 < v->npc && v->pc[*k].vb <= i)
		(*k)++;
	const struct phi_piece *p = &v->pc[*k];
	if ((p->flags & PHI_PIECE_RAW) && i >= p->va)
		return p->ta + (i - p->va);
	return p->ta;
}

int phi_val_emit(struct phi_fctx *ctx, const struct phi_doc *d, const struct phi_val *v,
                 size_t prefix_ta, struct phi_field *f, phi_escape_fn esc, struct phi_dedits *out)
{
	if (!v->npc || !v->text.n)
		return 0;
	size_t first = v->pc[0].ta, last = v->pc[v->npc - 1].tb;
	size_t plen = f->kind == PHI_FIELD_VALUE || prefix_ta >= first ? 0 : first - prefix_ta;
	/* with a prefix, a little of what follows too: rules look ahead ("(?=[<\"])") */
	size_t slen = 0;
	if (f->kind != PHI_FIELD_VALUE && prefix_ta <= first) {
		slen = d->len - last < PHI_DOC_SUFFIX ? d->len - last : PHI_DOC_SUFFIX;
		while (slen && last + slen < d->len && (d->t[last + slen] & 0xC0) == 0x80)
			slen--;
	}
	size_t n = plen + v->text.n + slen;
	unsigned char *txt = malloc(n + 1);
	uint32_t *map = malloc((n + 1) * sizeof *map);
	int rc = 0;
	if (!txt || !map) {
		rc = phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
		goto out;
	}
	uint64_t base = phi_doc_off(d, plen ? prefix_ta : first);
	memcpy(txt, d->t + first - plen, plen);
	memcpy(txt + plen, v->text.p, v->text.n);
	memcpy(txt + plen + v->text.n, d->t + last, slen);
	for (size_t i = 0; i < plen; i++)
		map[i] = (uint32_t)(phi_doc_off(d, first - plen + i) - base);
	size_t k = 0;
	for (size_t i = 0; i < v->text.n; i++) {
		uint64_t o = phi_doc_off(d, t_of(v, &k, i));
		map[plen + i] = (uint32_t)(o >= base ? o - base : 0);
	}
	for (size_t i = 0; i < slen; i++)
		map[plen + v->text.n + i] = (uint32_t)(phi_doc_off(d, last + i) - base);
	map[n] = (uint32_t)(phi_doc_off(d, last + slen) - base);
	f->text = (const char *)txt;
	f->len = n;
	f->offset = base;
	f->map = map;
	f->report_from = plen;
	f->report_to = plen + v->text.n;
	struct phi_edits ed = {NULL, 0};
	if ((rc = phi_emit(ctx, f, &ed)) || !out || !ed.n)
		goto out;
	size_t done = 0; /* t bytes below this are already edited */
	for (size_t j = 0; j < ed.n && !rc; j++) {
		size_t s = ed.v[j].start, e = ed.v[j].end;
		s = s < plen ? 0 : s - plen;
		e = e < plen ? 0 : e - plen;
		if (e > v->text.n)
			e = v->text.n;
		if (s >= e)
			continue;
		int placed = 0;
		for (size_t q = 0; q < v->npc && !rc; q++) {
			const struct phi_piece *p = &v->pc[q];
			if (p->vb <= s || p->va >= e || (p->flags & PHI_PIECE_SEP))
				continue;
			size_t a = p->ta, b = p->tb;
			if (p->flags & PHI_PIECE_RAW) {
				a = p->ta + ((s > p->va ? s : p->va) - p->va);
				b = p->ta + ((e < p->vb ? e : p->vb) - p->va);
			}
			if (a < done)
				a = done;
			if (a >= b)
				continue;
			if (!placed)
				rc = dedit_add(out, a, b, (const unsigned char *)ed.v[j].repl, ed.v[j].repl_len,
				               p->flags, esc, ctx->err);
			else
				rc = dedit_add(out, a, b, NULL, 0, p->flags, esc, ctx->err);
			placed = 1;
			done = b;
		}
	}
out:
	free(txt);
	free(map);
	f->text = NULL;
	f->map = NULL;
	return rc;
}

static int cmp_dedit(const void *x, const void *y)
{
	const struct phi_dedit *a = x, *b = y;
	return a->a < b->a ? -1 : a->a > b->a;
}

static int put_encoded(struct phi_fctx *ctx, const struct phi_doc *d, const unsigned char *p,
                       size_t n)
{
	if (d->enc == PHI_DENC_UTF8 || d->enc == PHI_DENC_UTF8_BOM)
		return phi_output_write(ctx, p, n);
	int be = d->enc == PHI_DENC_UTF16BE;
	struct phi_mbuf o = {.max = PHI_DOC_MAX};
	int rc = 0;
	for (size_t i = 0; i < n && !rc;) {
		uint32_t cp;
		i += phi_utf8_get(p + i, n - i, &cp);
		unsigned u[2] = {(unsigned)cp, 0};
		size_t k = 1;
		if (cp >= 0x10000) {
			u[0] = 0xD800 + ((cp - 0x10000) >> 10);
			u[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
			k = 2;
		}
		for (size_t j = 0; j < k && !rc; j++) {
			unsigned char b2[2] = {(unsigned char)(be ? u[j] >> 8 : u[j]),
			                       (unsigned char)(be ? u[j] : u[j] >> 8)};
			rc = phi_mbuf_put(&o, b2, 2, ctx->err);
		}
	}
	if (!rc && o.n)
		rc = phi_output_write(ctx, o.p, o.n);
	phi_mbuf_free(&o);
	return rc;
}

int phi_doc_write(struct phi_fctx *ctx, const struct phi_doc *d, struct phi_dedits *e)
{
	size_t pos = 0;
	int rc;
	if (e->n > 1)
		qsort(e->v, e->n, sizeof *e->v, cmp_dedit);
	for (size_t i = 0; i < e->n; i++) {
		const struct phi_dedit *x = &e->v[i];
		size_t ra = (size_t)phi_doc_off(d, x->a), rb = (size_t)phi_doc_off(d, x->b);
		if (ra < pos || rb < ra || rb > d->raw_len)
			return phi_fail(ctx->err, PHI_EFORMAT, "overlapping edits (internal error)");
		if ((rc = phi_output_write(ctx, d->raw + pos, ra - pos)) ||
		    (x->rn && (rc = put_encoded(ctx, d, e->repl.p + x->ro, x->rn))))
			return rc;
		pos = rb;
	}
	return phi_output_write(ctx, d->raw + pos, d->raw_len - pos);
}

int phi_val_is_replaced(const unsigned char *t, size_t n)
{
	size_t i;
	if (n >= 3 && t[0] == '[' && t[n - 1] == ']') {
		for (i = 1; i + 1 < n && ((t[i] >= 'A' && t[i] <= 'Z') || t[i] == '_'); i++)
			;
		if (i + 1 == n)
			return 1;
		if (t[i] == ':' && i > 1) { /* [NAME:0123abcd...] from the hash operator */
			for (i++; i + 1 < n && ((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')); i++)
				;
			if (i + 1 == n)
				return 1;
		}
	}
	for (i = 0; i < n; i++)
		if ((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') || t[i] >= 0x80)
			return 0;
	return 1;
}

int phi_is_blank(const unsigned char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] != ' ' && t[i] != '\t' && t[i] != '\r' && t[i] != '\n')
			return 0;
	return 1;
}

int phi_doc_verify(struct phi_fctx *ctx, int (*scan)(struct phi_fctx *ctx), const char *fact)
{
	if (!(ctx->sopts->flags & PHI_SO_VERIFY))
		return 0;
	int rc = phi_reread_scan(ctx, scan); /* PHI_EVERIFY when it does not parse */
	if (!rc && ctx->sink_ops && ctx->sink_ops->record)
		rc = ctx->sink_ops->record(ctx->sink, fact, "re-read and parsed");
	return rc;
}

/* XML 1.0 3.1 (STag, Attribute, Eq); only what tells one attribute from the next:
 * the name runs to '=' or a blank, the value to its closing quote. */
int phi_xml_next_attr(const unsigned char *t, size_t n, size_t *i, size_t *ns, size_t *ne,
                      size_t *vs, size_t *ve)
{
	size_t k = *i;
	if (k == 0) {
		k = 1;
		while (k < n && !isspace(t[k]) && t[k] != '>' && t[k] != '/')
			k++;
	}
	while (k < n && isspace(t[k]))
		k++;
	if (k >= n || t[k] == '>' || t[k] == '/')
		return -1;
	*ns = k;
	while (k < n && t[k] != '=' && !isspace(t[k]))
		k++;
	*ne = k;
	while (k < n && isspace(t[k]))
		k++;
	if (k >= n || t[k] != '=')
		return -1;
	k++;
	while (k < n && isspace(t[k]))
		k++;
	if (k >= n || (t[k] != '"' && t[k] != '\''))
		return -1;
	unsigned char q = t[k++];
	*vs = k;
	while (k < n && t[k] != q)
		k++;
	if (k >= n)
		return -1;
	*ve = k;
	*i = k + 1;
	return 0;
}

size_t phi_xml_ref(const unsigned char *t, size_t n, unsigned char out[4], size_t *k)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
	            {"&apos;", '\''}};
	for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++) {
		size_t el = strlen(ents[e].ent);
		if (n >= el && !memcmp(t, ents[e].ent, el)) {
			out[0] = (unsigned char)ents[e].c;
			*k = 1;
			return el;
		}
	}
	if (n > 3 && t[1] == '#') {
		size_t q = 2;
		int hex = t[q] == 'x';
		uint32_t cp = 0;
		q += (size_t)hex;
		size_t d0 = q;
		while (q < n && q - d0 < 8 && (hex ? isxdigit(t[q]) : isdigit(t[q]))) {
			int dv = isdigit(t[q]) ? t[q] - '0' : (tolower(t[q]) - 'a' + 10);
			cp = cp * (hex ? 16u : 10u) + (uint32_t)dv;
			q++;
		}
		if (q < n && t[q] == ';' && q > d0) {
			*k = phi_utf8_put(cp, out);
			return q + 1;
		}
	}
	return 0;
}

void phi_xml_name_sanitise(char *dst, size_t cap, const char *src)
{
	size_t j = 0;
	for (; *src && j + 1 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		dst[j++] = isalnum(c) || c == '.' || c == '_' || c == '-' ? (char)c : '?';
	}
	dst[j] = 0;
}
