/* json.c - JSON documents: every string and number value is a field whose `where`
 * is its key path; 3Shape Communicate case JSON names its identifiers.
 *
 * Follows: RFC 8259 (JSON; strict: no comments, no trailing commas, no single
 * quotes, control characters in strings rejected, one top-level value), RFC 2781
 * for UTF-16 input with a BOM (docio.h); shared/reference/dental-formats.md 4.3.
 *
 * Why hand-written: the JSON libraries Debian ships (json-c, jansson, yajl,
 * cJSON) build values or hand out decoded strings without the byte range each
 * came from, or only a running count; a strip that rewrites nothing but
 * identifier bytes needs the exact raw range of every value and of every escape
 * inside a string.  A strict RFC 8259 recogniser is a few hundred lines and keeps
 * them all.
 *
 * Two passes like xml.c: the first checks the whole document (and notes the
 * top-level keys that say Communicate), the second emits fields, so a file that
 * fails emits nothing.  Nesting is capped at limits->max_depth.
 *
 * Fields: strings decoded (escapes, surrogate pairs; a lone surrogate decodes to
 * U+FFFD) with a map back to the file: plain runs 1:1, each escape whole.
 * `where` is the key path: `Patient.FirstName`, `Actors[1].Email`, `[3]`.  Free
 * text gets the bytes before it on its line (`"chartNumber": `) as context.  Strip
 * writes replacements escaped for a JSON string; a number that is edited becomes a
 * string (`"[MRN]"`), so the document stays valid JSON.  Keys are not scanned.
 * Communicate (a top-level object with PatientName, Patient, Actors or
 * ThreeShapeOrderNo): PatientName, Patient.FirstName/LastName/ExternalId/
 * PatientRefNo/birth date, Actors[].Name/Email, the case dates and the order
 * number are structured values; Comments stay free text; Attachments[].Name is a
 * file name (PHI_FF_PATH).
 *
 * Threading: reentrant.  Ownership: everything is allocated per file and released
 * before scan() returns.
 */
#include "json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "docio.h"
#include "meshio.h"
#include "text.h"

#define JSON_CONTEXT 160u
#define JSON_PATH 512u
#define JSON_PIECE_NUM 64u

struct json {
	struct phi_fctx *ctx;
	const struct phi_doc *doc;
	const unsigned char *t;
	size_t n, i;
	unsigned depth, max_depth;
	int emit, communicate;
	char path[JSON_PATH];
	size_t plen;
	struct phi_val v;
	struct phi_dedits *out;
};

struct vclass {
	const char *path, *cls;
	int sev;
};

/* Communicate case JSON (kapanu/CommunicateSwift CommunicateCase.swift field
 * names); "[]" matches any index; case-insensitive. */
static const struct vclass comm_tab[] = {
	{"PatientName", "name", 2},          {"Patient.FirstName", "name", 2},
	{"Patient.LastName", "name", 2},     {"Patient.Name", "name", 2},
	{"Patient.ExternalId", "mrn", 2},    {"Patient.PatientRefNo", "mrn", 2},
	{"Patient.DateOfBirth", "date", 2},  {"Patient.BirthDate", "date", 2},
	{"Patient.Birthday", "date", 2},     {"Actors[].Name", "name", 1},
	{"Actors[].Email", "email", 1},      {"Created", "date", 0},
	{"UpdatedOn", "date", 0},            {"ReceivedOn", "date", 0},
	{"DeliveryDate", "date", 0},         {"Scans[].ScanTimestamp", "date", 0},
	{"Attachments[].Created", "date", 0}, {"Attachments[].Updated", "date", 0},
	{"ThreeShapeOrderNo", "id", 0},
};

static int fail(struct json *s, const char *what)
{
	return phi_fail_at(s->ctx->err, PHI_EFORMAT, phi_doc_off(s->doc, s->i < s->n ? s->i : s->n),
	                   "not valid JSON: %s", what);
}

static void ws(struct json *s)
{
	while (s->i < s->n && (s->t[s->i] == ' ' || s->t[s->i] == '\t' || s->t[s->i] == '\n' ||
	                       s->t[s->i] == '\r'))
		s->i++;
}

/* path matches pattern: equal ignoring case, where "[]" in pattern matches "[digits]" */
static int path_match(const char *path, const char *pat)
{
	while (*pat) {
		if (pat[0] == '[' && pat[1] == ']') {
			if (*path != '[')
				return 0;
			path++;
			while (isdigit((unsigned char)*path))
				path++;
			if (*path != ']')
				return 0;
			path++;
			pat += 2;
			continue;
		}
		if (tolower((unsigned char)*path) != tolower((unsigned char)*pat))
			return 0;
		path++, pat++;
	}
	return *path == 0;
}

static const struct vclass *classify(struct json *s)
{
	if (!s->communicate)
		return NULL;
	for (size_t k = 0; k < sizeof comm_tab / sizeof comm_tab[0]; k++)
		if (path_match(s->path, comm_tab[k].path))
			return &comm_tab[k];
	return NULL;
}

static int last_key_is_path(const char *path)
{
	const char *k = strrchr(path, '.');
	k = k ? k + 1 : path;
	char low[64];
	size_t i = 0;
	for (; k[i] && k[i] != '[' && i + 1 < sizeof low; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[i] = 0;
	if (strstr(low, "filename") || strstr(low, "filepath") || !strcmp(low, "path"))
		return 1;
	return path_match(path, "Attachments[].Name");
}

static int escape_json(struct phi_mbuf *out, const unsigned char *p, size_t n, unsigned fl,
                       struct phi_error *err)
{
	int rc;
	if ((fl & JSON_PIECE_NUM) && (rc = phi_mbuf_put(out, "\"", 1, err)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		char e[8];
		size_t k = 1;
		e[0] = (char)p[i];
		if (p[i] == '"' || p[i] == '\\') {
			e[0] = '\\', e[1] = (char)p[i], k = 2;
		} else if (p[i] < 0x20) {
			k = (size_t)snprintf(e, sizeof e, "\\u%04x", p[i]);
		}
		if ((rc = phi_mbuf_put(out, e, k, err)))
			return rc;
	}
	if (fl & JSON_PIECE_NUM)
		return phi_mbuf_put(out, "\"", 1, err);
	return 0;
}

static int emit(struct json *s)
{
	if (!s->emit || !s->v.npc || phi_is_blank(s->v.text.p, s->v.text.n))
		return 0;
	const struct vclass *vc = classify(s);
	if (vc && phi_val_is_replaced(s->v.text.p, s->v.text.n))
		vc = NULL;
	size_t ta = s->v.pc[0].ta;
	size_t a = ta > JSON_CONTEXT ? ta - JSON_CONTEXT : 0, c = ta;
	while (c > a && s->t[c - 1] != '\n')
		c--;
	while (c < ta && (s->t[c] & 0xC0) == 0x80)
		c++;
	struct phi_field f = {
		.kind = vc ? PHI_FIELD_VALUE : PHI_FIELD_TEXT,
		.where = s->path[0] ? s->path : "(value)",
		.value_class = vc ? vc->cls : NULL,
		.value_rule = vc ? "json-key" : NULL,
		.value_severity = vc ? vc->sev : 0,
		.flags = last_key_is_path(s->path) ? PHI_FF_PATH : 0,
	};
	return phi_val_emit(s->ctx, s->doc, &s->v, c, &f, escape_json, s->out);
}

static int hex4(const unsigned char *p, uint32_t *u)
{
	*u = 0;
	for (int k = 0; k < 4; k++) {
		int c = p[k];
		if (!isxdigit(c))
			return -1;
		*u = *u * 16 + (uint32_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	return 0;
}

/* A string at s->i (the opening quote); into s->v when v is set. */
static int string(struct json *s, int into)
{
	const unsigned char *t = s->t;
	struct phi_error *err = s->ctx->err;
	size_t start = s->i;
	int rc;
	s->i++;
	if (into)
		phi_val_reset(&s->v);
	for (;;) {
		size_t j = s->i;
		while (j < s->n && t[j] != '"' && t[j] != '\\' && t[j] >= 0x20)
			j++;
		if (into && j > s->i &&
		    (rc = phi_val_add(&s->v, t + s->i, j - s->i, s->i, j, PHI_PIECE_RAW, err)))
			return rc;
		s->i = j;
		if (j >= s->n) {
			s->i = start;
			return fail(s, "unterminated string");
		}
		if (t[j] == '"') {
			s->i++;
			return 0;
		}
		if (t[j] < 0x20)
			return fail(s, "control character in a string");
		/* an escape */
		if (j + 1 >= s->n)
			return fail(s, "unterminated string");
		unsigned char tmp[4];
		size_t k = 1, used = 2;
		switch (t[j + 1]) {
		case '"': tmp[0] = '"'; break;
		case '\\': tmp[0] = '\\'; break;
		case '/': tmp[0] = '/'; break;
		case 'b': tmp[0] = '\b'; break;
		case 'f': tmp[0] = '\f'; break;
		case 'n': tmp[0] = '\n'; break;
		case 'r': tmp[0] = '\r'; break;
		case 't': tmp[0] = '\t'; break;
		case 'u': {
			uint32_t u, u2;
			if (j + 6 > s->n || hex4(t + j + 2, &u))
				return fail(s, "bad \\u escape");
			used = 6;
			if (u >= 0xD800 && u <= 0xDBFF && j + 12 <= s->n && t[j + 6] == '\\' &&
			    t[j + 7] == 'u' && !hex4(t + j + 8, &u2) && u2 >= 0xDC00 && u2 <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
				used = 12;
			} else if (u >= 0xD800 && u <= 0xDFFF) {
				u = PHI_REPLACEMENT_CHAR;
			}
			k = phi_utf8_put(u, tmp);
			break;
		}
		default:
			return fail(s, "bad escape in a string");
		}
		if (into && (rc = phi_val_add(&s->v, tmp, k, j, j + used, PHI_PIECE_REF, err)))
			return rc;
		s->i = j + used;
	}
}

static int number(struct json *s)
{
	const unsigned char *t = s->t;
	size_t a = s->i, i = s->i;
	if (i < s->n && t[i] == '-')
		i++;
	if (i >= s->n || !isdigit(t[i]))
		return fail(s, "bad number");
	if (t[i] == '0')
		i++;
	else
		while (i < s->n && isdigit(t[i]))
			i++;
	if (i < s->n && t[i] == '.') {
		i++;
		if (i >= s->n || !isdigit(t[i]))
			return fail(s, "bad number");
		while (i < s->n && isdigit(t[i]))
			i++;
	}
	if (i < s->n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < s->n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i >= s->n || !isdigit(t[i]))
			return fail(s, "bad number");
		while (i < s->n && isdigit(t[i]))
			i++;
	}
	s->i = i;
	if (!s->emit)
		return 0;
	phi_val_reset(&s->v);
	int rc = phi_val_add(&s->v, t + a, i - a, a, i, PHI_PIECE_REF | JSON_PIECE_NUM, s->ctx->err);
	return rc ? rc : emit(s);
}

static int value(struct json *s);

/* Push a path component; returns the old length to restore. */
static size_t push(struct json *s, const char *comp, int index)
{
	size_t old = s->plen;
	int w;
	if (index)
		w = snprintf(s->path + s->plen, sizeof s->path - s->plen, "%s", comp);
	else
		w = snprintf(s->path + s->plen, sizeof s->path - s->plen, "%s%s", s->plen ? "." : "", comp);
	if (w > 0 && (size_t)w < sizeof s->path - s->plen)
		s->plen += (size_t)w;
	else
		s->path[s->plen] = 0; /* too deep to name: keep the parent's path */
	return old;
}

static void pop(struct json *s, size_t old)
{
	s->plen = old;
	s->path[old] = 0;
}

/* The value of a member or element, read with its path component pushed. */
static int nested(struct json *s, const char *comp, int index)
{
	size_t old = push(s, comp, index);
	int rc = value(s);
	pop(s, old);
	return rc;
}

/* One member of an object: "key" ':' value. */
static int member(struct json *s, size_t idx)
{
	(void)idx;
	ws(s);
	if (s->i >= s->n || s->t[s->i] != '"')
		return fail(s, "expected a key");
	size_t ka = s->i + 1;
	int rc = string(s, 0);
	if (rc)
		return rc;
	/* the key, sanitised for `where` (escapes shown as '?') */
	char key[96];
	size_t kn = 0;
	for (size_t q = ka; q + 1 < s->i && kn + 1 < sizeof key; q++) {
		unsigned char c = s->t[q];
		key[kn++] =
			isalnum(c) || c == '_' || c == '-' || c == '$' || c == '@' ? (char)c : '?';
	}
	key[kn] = 0;
	if (s->depth == 1 && !s->emit &&
	    (!strcasecmp(key, "PatientName") || !strcasecmp(key, "Patient") ||
	     !strcasecmp(key, "Actors") || !strcasecmp(key, "ThreeShapeOrderNo")))
		s->communicate = 1;
	ws(s);
	if (s->i >= s->n || s->t[s->i] != ':')
		return fail(s, "expected ':'");
	s->i++;
	return nested(s, key, 0);
}

/* One element of an array, named by its index. */
static int element(struct json *s, size_t idx)
{
	char comp[32];
	snprintf(comp, sizeof comp, "[%zu]", idx);
	return nested(s, comp, 1);
}

/* An object or array from its '{' or '[' at s->i to close: item reads each member
 * or element (idx counts them), with ',' between them; the two messages name the
 * container's failures. */
static int list(struct json *s, unsigned char close, int (*item)(struct json *s, size_t idx),
                const char *unterminated, const char *expected)
{
	s->i++;
	ws(s);
	if (s->i < s->n && s->t[s->i] == close) {
		s->i++;
		return 0;
	}
	for (size_t idx = 0;; idx++) {
		int rc = item(s, idx);
		if (rc)
			return rc;
		ws(s);
		if (s->i < s->n && s->t[s->i] == ',') {
			s->i++;
			continue;
		}
		if (s->i < s->n && s->t[s->i] == close) {
			s->i++;
			return 0;
		}
		return fail(s, s->i >= s->n ? unterminated : expected);
	}
}

static int literal(struct json *s, const char *w)
{
	size_t k = strlen(w);
	if (s->n - s->i < k || memcmp(s->t + s->i, w, k))
		return fail(s, "unexpected character");
	s->i += k;
	return 0;
}

static int value(struct json *s)
{
	int rc;
	ws(s);
	if (s->i >= s->n)
		return fail(s, "unexpected end of input");
	switch (s->t[s->i]) {
	case '{':
	case '[':
		if (s->depth >= s->max_depth)
			return phi_fail_at(s->ctx->err, PHI_ELIMIT, phi_doc_off(s->doc, s->i),
			                   "JSON nested deeper than %u", s->max_depth);
		s->depth++;
		rc = s->t[s->i] == '{'
		             ? list(s, '}', member, "unterminated object", "expected ',' or '}'")
		             : list(s, ']', element, "unterminated array", "expected ',' or ']'");
		s->depth--;
		return rc;
	case '"':
		if ((rc = string(s, s->emit)))
			return rc;
		return emit(s);
	case 't': return literal(s, "true");
	case 'f': return literal(s, "false");
	case 'n': return literal(s, "null");
	default: return number(s);
	}
}

static int run_pass(struct json *s)
{
	int rc;
	s->i = 0;
	s->depth = 0;
	s->plen = 0;
	s->path[0] = 0;
	if ((rc = value(s)))
		return rc;
	ws(s);
	if (s->i < s->n)
		return fail(s, "text after the value");
	return 0;
}

static int json_scan(struct phi_fctx *ctx)
{
	struct phi_doc doc;
	struct phi_dedits out = {0};
	struct json s = {.ctx = ctx, .doc = &doc};
	int rc = phi_doc_load(ctx, &doc, "JSON");
	if (rc)
		goto done;
	s.t = doc.t;
	s.n = doc.len;
	s.max_depth = ctx->limits && ctx->limits->max_depth ? ctx->limits->max_depth : 64;
	if ((rc = run_pass(&s)))
		goto done;
	s.emit = 1;
	s.out = ctx->out_fd >= 0 ? &out : NULL;
	if ((rc = run_pass(&s)))
		goto done;
	if (ctx->sink_ops && ctx->sink_ops->record)
		rc = ctx->sink_ops->record(ctx->sink, "json_dialect",
		                           s.communicate ? "3shape-communicate" : "json");
	if (!rc && ctx->out_fd >= 0 && !(rc = phi_doc_write(ctx, &doc, &out)))
		rc = phi_doc_verify(ctx, json_scan, "json_verified");
done:
	phi_val_free(&s.v);
	phi_dedits_free(&out);
	phi_doc_free(&doc);
	return rc;
}

/* '{' then '"' or '}'; '[' then a value start; a .json name lowers the bar. */
static int json_detect(const unsigned char *head, size_t n, const char *name)
{
	char a[256];
	phi_doc_sniff(head, n, a, sizeof a);
	size_t i = phi_doc_skip_ws(a, 0);
	int named = name && phi_name_has_suffix(name, ".json");
	if (a[i] != '{' && a[i] != '[')
		return 0;
	size_t k = phi_doc_skip_ws(a, i + 1);
	char c = a[k];
	if (a[i] == '{')
		return c == '"' || c == '}' || (c == 0 && named) ? 65 : 0;
	if (c == '{' || c == '[' || c == '"' || c == ']' || c == '-' || isdigit((unsigned char)c))
		return 65;
	return named ? 65 : 0;
}

const struct phi_format phi_format_json = {
	.name = "json",
	.detect = json_detect,
	.scan = json_scan,
	.can_strip = 1,
};
