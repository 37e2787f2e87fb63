/* html.c - HTML documents: the text a reader sees (tags stripped, character
 * references decoded) with a map back to the file bytes, text-bearing attribute
 * values, comments, and script/style contents.
 *
 * Follows: WHATWG HTML 13.1 (syntax: start and end tags, attributes quoted and
 * unquoted, comments, raw text elements script/style, character references; the
 * named references decoded are the common subset below, an unknown one stays as
 * written), shared/reference/dental-formats.md 4.3 (PrintableOrderForm.html
 * carries the birth date in its table).
 *
 * Why hand-written: Debian's HTML parsers (libxml2's HTML parser, gumbo,
 * lexbor) build trees whose text nodes carry no reliable byte ranges for every
 * decoded reference, and re-serialising a tree would rewrite the whole page.  A
 * tokenizer of the HTML syntax is enough to find text and attribute values with
 * their exact bytes; tree construction is not needed for scanning.
 *
 * Fields: the page's text is one field per 1 MiB (at a block boundary): text runs
 * joined with a newline for a block element, a space for a table cell, nothing
 * for inline markup; those inserted separators stand for no byte (PHI_PIECE_SEP),
 * so a strip edits exactly the identifier bytes and never a tag.  Attributes
 * title, alt, value, placeholder, label, aria-label, summary, and content (meta)
 * are fields (`where` = `tag@attr`); comments are fields; script and style
 * contents are scanned as text (not prose: their own `where`) and not decoded.
 * An attribute holding a base64 data: URI (a photo in <img src>), and one in a CSS
 * url() of a style attribute or element, is a file of its own: decoded and
 * scanned, and stripped, by its format (embed.h), not text.
 * Replacements are escaped for where they land.  A tag or comment cut by the end
 * of the file fails it (truncated: cannot be shown clean).
 *
 * Threading: reentrant.  Ownership: everything is allocated per file and released
 * before scan() returns.
 */
#include "html.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "docio.h"
#include "embed.h"
#include "text.h"

#define HTML_FLUSH ((size_t)1 << 20)
#define HTML_CONTEXT 160u
#define HTML_PIECE_ATTR 32u
#define HTML_PIECE_COMMENT 16u
#define HTML_PIECE_SCRIPT 128u

struct html {
	struct phi_fctx *ctx;
	const struct phi_doc *doc;
	const unsigned char *t;
	size_t n;
	struct phi_val body, av;
	struct phi_dedits *out;
	struct phi_mbuf emb; /* a data: URI's new payload (embed.h) */
};

static const struct {
	const char *name;
	uint32_t cp;
} named_refs[] = {
	{"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
	{"nbsp", ' '},     {"ndash", 0x2013}, {"mdash", 0x2014}, {"copy", 0xA9},    {"reg", 0xAE},
	{"deg", 0xB0},     {"middot", 0xB7},  {"hellip", 0x2026}, {"rsquo", 0x2019}, {"lsquo", 0x2018},
	{"rdquo", 0x201D}, {"ldquo", 0x201C}, {"eacute", 0xE9},  {"egrave", 0xE8},  {"aacute", 0xE1},
	{"agrave", 0xE0},  {"iacute", 0xED},  {"oacute", 0xF3},  {"uacute", 0xFA},  {"ntilde", 0xF1},
	{"ccedil", 0xE7},  {"auml", 0xE4},    {"ouml", 0xF6},    {"uuml", 0xFC},    {"Auml", 0xC4},
	{"Ouml", 0xD6},    {"Uuml", 0xDC},    {"szlig", 0xDF},   {"Eacute", 0xC9},  {"euro", 0x20AC},
	{"times", 0xD7},   {"plusmn", 0xB1},  {"micro", 0xB5},   {"sect", 0xA7},    {"para", 0xB6},
};

static const char *const block_tags[] = {
	"p", "div", "br", "tr", "li", "ul", "ol", "table", "tbody", "thead", "tfoot", "h1", "h2", "h3",
	"h4", "h5", "h6", "title", "hr", "section", "header", "footer", "body", "head", "html", "form",
	"dl", "dt", "dd", "blockquote", "pre", "article", "nav", "aside", "main", "caption", "fieldset",
	"legend", "address", "figure", "figcaption", "option", "select", "textarea", "label",
};

static const char *const text_attrs[] = {
	"title", "alt", "value", "placeholder", "label", "aria-label", "summary", "content",
	"href", "src", "action", "cite", "data",
};

static int in_list(const char *const *l, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(l[i], w))
			return 1;
	return 0;
}

static int escape_html(struct phi_mbuf *out, const unsigned char *p, size_t n, unsigned fl,
                       struct phi_error *err)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		const char *e = NULL;
		char c = (char)p[i];
		if (fl & HTML_PIECE_COMMENT) {
			if (c == '-' || c == '>')
				c = '_';
		} else if (fl & HTML_PIECE_SCRIPT) {
			if (c == '<')
				c = ' '; /* "</script" would end the element */
		} else {
			switch (c) {
			case '&': e = "&amp;"; break;
			case '<': e = "&lt;"; break;
			case '>': e = "&gt;"; break;
			case '"': e = (fl & HTML_PIECE_ATTR) ? "&quot;" : NULL; break;
			case '\'': e = (fl & HTML_PIECE_ATTR) ? "&#39;" : NULL; break;
			default: break;
			}
		}
		if ((rc = e ? phi_mbuf_put(out, e, strlen(e), err) : phi_mbuf_put(out, &c, 1, err)))
			return rc;
	}
	return 0;
}

/* A character reference at t[i] ('&'): its decoded bytes in tmp (*k) and its length,
 * or 0 when it is not one (the '&' is text). */
static size_t char_ref(const unsigned char *t, size_t n, size_t i, unsigned char tmp[4], size_t *k)
{
	size_t j = i + 1;
	if (j < n && t[j] == '#') {
		int hex = j + 1 < n && (t[j + 1] == 'x' || t[j + 1] == 'X');
		size_t d0 = j + 1 + (size_t)hex, q = d0;
		uint32_t cp = 0;
		while (q < n && q - d0 < 7 && (hex ? isxdigit(t[q]) : isdigit(t[q]))) {
			int dv = isdigit(t[q]) ? t[q] - '0' : (tolower(t[q]) - 'a' + 10);
			cp = cp * (hex ? 16u : 10u) + (uint32_t)dv;
			q++;
		}
		if (q == d0)
			return 0;
		if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			cp = PHI_REPLACEMENT_CHAR;
		*k = phi_utf8_put(cp, tmp);
		return (q < n && t[q] == ';' ? q + 1 : q) - i;
	}
	size_t q = j;
	while (q < n && q - j < 10 && isalnum(t[q]))
		q++;
	if (q >= n || t[q] != ';')
		return 0;
	for (size_t e = 0; e < sizeof named_refs / sizeof named_refs[0]; e++)
		if (strlen(named_refs[e].name) == q - j && !memcmp(t + j, named_refs[e].name, q - j)) {
			*k = phi_utf8_put(named_refs[e].cp, tmp);
			return q + 1 - i;
		}
	return 0;
}

/* Decoded text of t[a..b) appended to v: runs 1:1, references whole. */
static int add_text(struct html *s, struct phi_val *v, size_t a, size_t b, unsigned extra)
{
	struct phi_error *err = s->ctx->err;
	size_t i = a;
	int rc;
	while (i < b) {
		size_t j = i;
		unsigned char tmp[4];
		size_t k = 0, used = 0;
		while (j < b && !(s->t[j] == '&' && (used = char_ref(s->t, b, j, tmp, &k))))
			j++;
		if (j > i && (rc = phi_val_add(v, s->t + i, j - i, i, j, PHI_PIECE_RAW | extra, err)))
			return rc;
		if (j >= b)
			break;
		if ((rc = phi_val_add(v, tmp, k, j, j + used, PHI_PIECE_REF | extra, err)))
			return rc;
		i = j + used;
	}
	return 0;
}

static size_t context_start(struct html *s, size_t ta)
{
	size_t i = ta > HTML_CONTEXT ? ta - HTML_CONTEXT : 0;
	while (i < ta && (s->t[i] & 0xC0) == 0x80)
		i++;
	return i;
}

static int emit(struct html *s, struct phi_val *v, const char *where, int with_context)
{
	int rc = 0;
	if (v->npc && !phi_is_blank(v->text.p, v->text.n)) {
		struct phi_field f = {.kind = PHI_FIELD_TEXT, .where = where};
		rc = phi_val_emit(s->ctx, s->doc, v, with_context ? context_start(s, v->pc[0].ta) : (size_t)-1,
		                  &f, escape_html, s->out);
	}
	phi_val_reset(v);
	return rc;
}

static int sep(struct html *s, const char *c, size_t at)
{
	struct phi_val *v = &s->body;
	if (!v->text.n)
		return 0;
	unsigned char last = v->text.p[v->text.n - 1];
	if (last == '\n' || (last == ' ' && *c == ' '))
		return 0;
	if (*c == '\n' && v->text.n >= HTML_FLUSH)
		return emit(s, v, "text", 0);
	return phi_val_add(v, c, 1, at, at, PHI_PIECE_SEP, s->ctx->err);
}

static int fail_trunc(struct html *s, size_t at, const char *what)
{
	return phi_fail_at(s->ctx->err, PHI_EFORMAT, phi_doc_off(s->doc, at),
	                   "HTML %s not closed before the end of the file (truncated)", what);
}

/* One data: URI at t[a..b): scanned, and in a strip replaced, by its payload's
 * format (embed.h).  *is_uri: whether it was one. */
static int data_uri(struct html *s, size_t a, size_t b, const char *where, int *is_uri)
{
	size_t at = 0;
	int changed = 0, rc;
	s->emb.n = 0;
	if (b > a && (rc = phi_embed_data_uri(s->ctx, s->t + a, b - a, where, &at, &changed, &s->emb)))
		return rc;
	*is_uri = at != 0;
	if (at && changed && s->out &&
	    (rc = phi_dedits_add(s->out, a + at, b, s->emb.p, s->emb.n, s->ctx->err)))
		return rc;
	return 0;
}

/* CSS in t[a..b) (a style attribute or element): each url(data:...) is a file
 * (data_uri).  With v, the text around them is added to v for the rules (the
 * base64 is not text; and a rule's edit inside it would overlap the payload's). */
static int css_urls(struct html *s, size_t a, size_t b, const char *where, struct phi_val *v)
{
	const unsigned char *t = s->t;
	size_t from = a;
	int rc;
	for (size_t i = a; i + 4 <= b;) {
		if (strncasecmp((const char *)t + i, "url(", 4)) {
			i++;
			continue;
		}
		size_t u = i + 4;
		while (u < b && isspace(t[u]))
			u++;
		unsigned char q = u < b && (t[u] == '"' || t[u] == '\'') ? t[u++] : 0;
		size_t e = u;
		while (e < b && (q ? t[e] != q : (t[e] != ')' && !isspace(t[e]))))
			e++;
		int is_uri = 0;
		if ((rc = data_uri(s, u, e, where, &is_uri)))
			return rc;
		if (is_uri) {
			if (v && u > from &&
			    (rc = phi_val_add(v, t + from, u - from, from, u, PHI_PIECE_RAW | HTML_PIECE_SCRIPT,
			                      s->ctx->err)))
				return rc;
			from = e;
		}
		i = e > i + 4 ? e : i + 4;
	}
	if (v && b > from &&
	    (rc = phi_val_add(v, t + from, b - from, from, b, PHI_PIECE_RAW | HTML_PIECE_SCRIPT,
	                      s->ctx->err)))
		return rc;
	return 0;
}

/* A start tag at t[i] ('<' + letter): attributes emitted, *end past '>', name. */
static int start_tag(struct html *s, size_t i, size_t *end, char name[16])
{
	const unsigned char *t = s->t;
	size_t n = s->n, j = i + 1, k = 0;
	int rc;
	while (j < n && !isspace(t[j]) && t[j] != '>' && t[j] != '/') {
		if (k + 1 < 16)
			name[k++] = (char)tolower(t[j]);
		j++;
	}
	name[k] = 0;
	for (;;) {
		while (j < n && (isspace(t[j]) || t[j] == '/'))
			j++;
		if (j >= n)
			return fail_trunc(s, i, "tag");
		if (t[j] == '>') {
			*end = j + 1;
			return 0;
		}
		size_t an = j;
		while (j < n && !isspace(t[j]) && t[j] != '=' && t[j] != '>' && t[j] != '/')
			j++;
		char attr[24];
		size_t al = j - an < sizeof attr - 1 ? j - an : sizeof attr - 1;
		for (size_t q = 0; q < al; q++)
			attr[q] = (char)tolower(t[an + q]);
		attr[al] = 0;
		while (j < n && isspace(t[j]))
			j++;
		if (j >= n)
			return fail_trunc(s, i, "tag");
		if (t[j] != '=')
			continue; /* an attribute without a value */
		j++;
		while (j < n && isspace(t[j]))
			j++;
		if (j >= n)
			return fail_trunc(s, i, "tag");
		size_t va, vb;
		if (t[j] == '"' || t[j] == '\'') {
			unsigned char q = t[j];
			va = ++j;
			while (j < n && t[j] != q)
				j++;
			if (j >= n)
				return fail_trunc(s, i, "attribute value");
			vb = j++;
		} else {
			va = j;
			while (j < n && !isspace(t[j]) && t[j] != '>')
				j++;
			vb = j;
		}
		char where[48];
		snprintf(where, sizeof where, "%s@%s", name, attr);
		/* any attribute holding a base64 data: URI: its payload is a file (embed.h);
		 * so is one in a style attribute's url() */
		int is_uri = 0;
		if ((rc = data_uri(s, va, vb, where, &is_uri)) ||
		    (!strcmp(attr, "style") && (rc = css_urls(s, va, vb, where, NULL))))
			return rc;
		if (!is_uri && vb > va && in_list(text_attrs, sizeof text_attrs / sizeof text_attrs[0], attr) &&
		    ((rc = add_text(s, &s->av, va, vb, HTML_PIECE_ATTR)) || (rc = emit(s, &s->av, where, 1))))
			return rc;
	}
}

static int html_walk(struct html *s)
{
	const unsigned char *t = s->t;
	size_t n = s->n, i = 0, run = 0;
	int rc;
	while (i < n) {
		if (t[i] != '<') {
			i++;
			continue;
		}
		int is_start = i + 1 < n && isalpha(t[i + 1]);
		int is_end = i + 2 < n && t[i + 1] == '/' && isalpha(t[i + 2]);
		int is_decl = i + 1 < n && (t[i + 1] == '!' || t[i + 1] == '?');
		if (!is_start && !is_end && !is_decl) {
			i++;
			continue; /* a '<' that is text (a '<' at the very end too: fuzz_html) */
		}
		if (i > run && (rc = add_text(s, &s->body, run, i, 0)))
			return rc;
		if (is_decl && n - i >= 4 && !memcmp(t + i, "<!--", 4)) {
			const unsigned char *e = memmem(t + i + 4, n - i - 4, "-->", 3);
			if (!e)
				return fail_trunc(s, i, "comment");
			size_t ce = (size_t)(e - t);
			phi_val_reset(&s->av);
			if ((rc = phi_val_add(&s->av, t + i + 4, ce - i - 4, i + 4, ce,
			                      PHI_PIECE_RAW | HTML_PIECE_COMMENT, s->ctx->err)) ||
			    (rc = emit(s, &s->av, "#comment", 0)))
				return rc;
			i = run = ce + 3;
			continue;
		}
		if (is_decl) {
			const unsigned char *e = memchr(t + i, '>', n - i);
			if (!e)
				return fail_trunc(s, i, "declaration");
			i = run = (size_t)(e - t) + 1;
			continue;
		}
		char name[16];
		size_t end = n;
		if (is_end) {
			size_t j = i + 2, k = 0;
			while (j < n && isalnum(t[j]) && k + 1 < sizeof name)
				name[k++] = (char)tolower(t[j++]);
			name[k] = 0;
			const unsigned char *e = memchr(t + i, '>', n - i);
			if (!e)
				return fail_trunc(s, i, "tag");
			end = (size_t)(e - t) + 1;
		} else if ((rc = start_tag(s, i, &end, name))) {
			return rc;
		}
		const char *sp = !strcmp(name, "td") || !strcmp(name, "th") ? " "
		                 : in_list(block_tags, sizeof block_tags / sizeof block_tags[0], name) ? "\n"
		                                                                                      : NULL;
		if (sp && (rc = sep(s, sp, i)))
			return rc;
		i = run = end;
		if (is_start && (!strcmp(name, "script") || !strcmp(name, "style"))) {
			/* raw text up to the matching end tag */
			size_t j = i;
			size_t nl = strlen(name);
			while (j + 2 + nl <= n && !(t[j] == '<' && t[j + 1] == '/' && !strncasecmp((const char *)t + j + 2, name, nl)))
				j++;
			if (j + 2 + nl > n)
				return fail_trunc(s, i, name);
			phi_val_reset(&s->av);
			if (j > i && (!strcmp(name, "style")
			                  ? (rc = css_urls(s, i, j, "style url()", &s->av))
			                  : (rc = phi_val_add(&s->av, t + i, j - i, i, j,
			                                      PHI_PIECE_RAW | HTML_PIECE_SCRIPT, s->ctx->err))))
				return rc;
			if (j > i && (rc = emit(s, &s->av, name, 0)))
				return rc;
			i = run = j;
		}
	}
	if (n > run && (rc = add_text(s, &s->body, run, n, 0)))
		return rc;
	return emit(s, &s->body, "text", 0);
}

static int html_scan(struct phi_fctx *ctx)
{
	struct phi_doc doc;
	struct phi_dedits out = {0};
	struct html s = {.ctx = ctx, .doc = &doc, .emb = {.max = PHI_DOC_MAX}};
	int rc = phi_doc_load(ctx, &doc, "HTML");
	if (!rc) {
		s.t = doc.t;
		s.n = doc.len;
		s.out = ctx->out_fd >= 0 ? &out : NULL;
		rc = html_walk(&s);
	}
	if (!rc && ctx->out_fd >= 0)
		rc = phi_doc_write(ctx, &doc, &out);
	phi_val_free(&s.body);
	phi_val_free(&s.av);
	phi_mbuf_free(&s.emb);
	phi_dedits_free(&out);
	phi_doc_free(&doc);
	return rc;
}

/* <!DOCTYPE html> or <html after an optional prolog and comments; any '<' start
 * in a file named .html/.htm. */
static int html_detect(const unsigned char *head, size_t n, const char *name)
{
	char a[1024];
	phi_doc_sniff(head, n, a, sizeof a);
	size_t i = phi_doc_skip_ws(a, 0);
	if (a[i] != '<')
		return 0;
	if (!strncmp(a + i, "<?xml", 5)) {
		const char *e = strstr(a + i, "?>");
		if (!e)
			return 0;
		i = phi_doc_skip_ws(a, (size_t)(e - a) + 2);
	}
	while (!strncmp(a + i, "<!--", 4)) {
		const char *e = strstr(a + i, "-->");
		if (!e)
			break;
		i = phi_doc_skip_ws(a, (size_t)(e - a) + 3);
	}
	if (!strncasecmp(a + i, "<!DOCTYPE html", 14) || !strncasecmp(a + i, "<html", 5))
		return 75;
	if (name && (phi_name_has_suffix(name, ".html") || phi_name_has_suffix(name, ".htm")))
		return 72;
	return 0;
}

const struct phi_format phi_format_html = {
	.name = "html",
	.detect = html_detect,
	.scan = html_scan,
	.can_strip = 1,
};
