/* xml.c - XML documents: every text node, attribute value and comment is a field
 * with its byte offsets in the file; the dental dialects name the values that are
 * identifiers by themselves.
 *
 * Follows: XML 1.0 (5th ed.) 2.4 (character data), 2.7 (CDATA), 2.8 (DTD), 2.11
 * (end-of-line handling), 4.1 (references), F.1 (encoding detection: BOM, or "<"
 * in UTF-16 without one); shared/reference/dental-formats.md 4.2, 5.1, 5.2.
 *
 * Parser: expat (libexpat1, already used by hps.c and xmp.c), run twice over the
 * document decoded to UTF-8 (docio.h): the first pass only checks it is
 * well-formed, free of entity declarations and not nested deeper than
 * limits->max_depth, so no field reaches the rules from a file that then fails;
 * the second pass emits fields.  expat reports the byte index and length of each
 * event: text nodes are built from pieces (plain runs 1:1, each reference or
 * normalised CRLF as a whole, CDATA content 1:1), attribute values are found in
 * the raw start tag and their references decoded here, comments are raw.  Nothing
 * is re-serialised: strip copies every byte but the replaced value bytes, and
 * writes replacements escaped for where they land (text, attribute, CDATA,
 * comment) in the file's encoding (UTF-8, UTF-8 with BOM, UTF-16LE/BE).
 *
 * Hardening: a DTD that declares entities stops the parser (no expansion, no
 * billion laughs); a reference to an undeclared entity is an error; external
 * entities are never loaded.  Such a file is unreadable (exit 2), never clean.
 *
 * Fields: `where` is the element path from the root (`Treatment/Patient/
 * PatientName`), an attribute `Path/Element@attr`, a 3Shape property
 * `.../Property[X]@value` (the property's name in brackets; not "[@name=X]",
 * whose "name=X" the name rules flag when a report or manifest is scanned), a
 * comment `Path/#comment`.  Free text gets the
 * bytes before it on its line as context for the rules (report_from skips them).
 * Dialects, by root element: exocad `Treatment` (.dentalProject) and
 * `ConstructionInfo`/`ProjectConstructionInfo` (.constructionInfo): patient,
 * practice, technician, date and GUID elements are structured values; 3Shape
 * (a root in the 3Shape namespace, `ThreeShapeOrder`, `DentalContainer`): order
 * numbers are structured values.  In every document, a Property whose name is in
 * the loaded property list is a structured value of its class; any other Property
 * value goes to the rules.  Elements and attributes that hold a file name or path
 * (`FileName`, `ToothScanFileName`, `FilenameImplantGeometry`, `ModelFileName`,
 * `ScanFile@path`, ...) carry PHI_FF_PATH (format.h).
 *
 * Threading: reentrant; the property table is read-only once workers run.
 * Ownership: everything is allocated per file and released before scan() returns.
 */
#include "xml.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "docio.h"
#include "meshio.h"
#include "text.h"

#define XML_FEED ((size_t)1 << 20)
#define XML_CONTEXT 160u  /* bytes of context before a free-text value */
#define XML_WHERE 240u    /* longest `where` (the path is cut at the left) */
#define XML_PIECE_COMMENT 16u
#define XML_PIECE_ATTR 32u

enum dialect { D_GENERIC, D_EXO_PROJECT, D_EXO_CONSTRUCTION, D_3SHAPE };
static const char *const dialect_names[] = {"xml", "exocad-dentalProject", "exocad-constructionInfo",
                                            "3shape-order"};

/* ---- the property list (rules/3shape-properties.txt) ---- */

#define XML_MAX_PROPS 512

struct prop {
	char name[64];
	char cls[16];
	int sev;
};

static struct prop props[XML_MAX_PROPS];
static size_t nprops;

void phi_xml_clear_properties(void)
{
	nprops = 0;
}

int phi_xml_load_properties(const char *path, int optional, struct phi_error *err)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned long ln = 0;
	if (!f) {
		if (optional && errno == ENOENT)
			return 0;
		return phi_fail(err, PHI_EIO, "%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof line, f)) {
		char name[128], cls[64], sev[64], extra[8];
		ln++;
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		int k = sscanf(line, "%127s %63s %63s %7s", name, cls, sev, extra);
		if (k <= 0)
			continue;
		int sv = k == 3 && !strcmp(sev, "patient") ? 2 : k == 3 && !strcmp(sev, "provider") ? 1
		       : k == 3 && !strcmp(sev, "quasi")   ? 0
		                                            : -1;
		int ok = k == 3 && sv >= 0 && strlen(name) < sizeof props[0].name &&
		         strlen(cls) < sizeof props[0].cls;
		for (const char *c = cls; ok && *c; c++)
			ok = *c >= 'a' && *c <= 'z';
		if (!ok) {
			fclose(f);
			return phi_fail(err, PHI_ERULE,
			                "%s:%lu: expected \"PROPERTY CLASS patient|provider|quasi\"", path, ln);
		}
		if (nprops == XML_MAX_PROPS) {
			fclose(f);
			return phi_fail(err, PHI_ELIMIT, "%s: more than %d property names", path, XML_MAX_PROPS);
		}
		snprintf(props[nprops].name, sizeof props[nprops].name, "%s", name);
		snprintf(props[nprops].cls, sizeof props[nprops].cls, "%s", cls);
		props[nprops++].sev = sv;
	}
	fclose(f);
	return 0;
}

static const struct prop *prop_find(const char *name)
{
	for (size_t i = 0; i < nprops; i++)
		if (!strcasecmp(props[i].name, name))
			return &props[i];
	return NULL;
}

/* ---- what an element or attribute is ---- */

struct vclass {
	const char *name, *cls;
	int sev;
};

/* exocad: Treatment (dentalProject) and ConstructionInfo, by local element name. */
static const struct vclass exo_tab[] = {
	{"PatientName", "name", 2},        {"PatientFirstName", "name", 2},
	{"PatientLastName", "name", 2},    {"PatientMiddleName", "name", 2},
	{"PatientId", "mrn", 2},           {"PatientBirthDate", "date", 2},
	{"PatientDateOfBirth", "date", 2}, {"DateOfBirth", "date", 2},
	{"BirthDate", "date", 2},          {"PracticeName", "name", 1},
	{"PracticeId", "account", 1},      {"ClientName", "name", 1},
	{"ClientId", "account", 1},        {"DentistName", "name", 1},
	{"DoctorName", "name", 1},         {"Technician", "name", 1},
	{"TechnicianName", "name", 1},     {"DateTime", "date", 0},
	{"CreationDate", "date", 0},       {"ModificationDate", "date", 0},
	{"ProjectGUID", "id", 0},          {"ProjectName", "name", 2},
};

static const struct vclass tshape_tab[] = {
	{"ThreeShapeOrderNo", "id", 0}, {"OrderNo", "id", 0}, {"OrderNumber", "id", 0},
	{"OrderID", "id", 0},
};

static const struct vclass *tab_find(const struct vclass *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(t[i].name, name))
			return &t[i];
	return NULL;
}

static const char *local_name(const char *n)
{
	const char *c = strrchr(n, ':');
	return c ? c + 1 : n;
}

/* A name that says its value is a file name or path. */
static int is_path_name(const char *n)
{
	char low[64];
	size_t i = 0, len;
	for (; n[i] && i + 1 < sizeof low; i++)
		low[i] = (char)tolower((unsigned char)n[i]);
	low[i] = 0;
	len = i;
	return strstr(low, "filename") || strstr(low, "filepath") || !strcmp(low, "file") ||
	       (len >= 4 && !strcmp(low + len - 4, "path"));
}

/* ---- the walk ---- */

struct xml {
	struct phi_fctx *ctx;
	const struct phi_doc *doc;
	XML_Parser xp;
	int emit;            /* second pass */
	int rc;
	unsigned depth, max_depth;
	enum dialect dialect;
	int root_seen, in_cdata;
	/* the element path: names[0..nlen) with '/' between, ends[] per depth */
	char path[4096];
	size_t *ends;
	struct phi_val tv;   /* the text node being built */
	struct phi_val av;   /* scratch for attribute values and comments */
	struct phi_dedits *out;
	size_t fields;
};

static void stop(struct xml *s, int rc)
{
	if (!s->rc)
		s->rc = rc;
	XML_StopParser(s->xp, XML_FALSE);
}

static int escape_xml(struct phi_mbuf *out, const unsigned char *p, size_t n, unsigned fl,
                      struct phi_error *err)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		const char *e = NULL;
		char c = (char)p[i];
		if (fl & XML_PIECE_COMMENT) {
			if (c == '-')
				c = '_'; /* "--" may not appear in a comment */
		} else if (fl & PHI_PIECE_CDATA) {
			if (c == '>')
				c = ')'; /* "]]>" would end the section */
		} else {
			switch (c) {
			case '&': e = "&amp;"; break;
			case '<': e = "&lt;"; break;
			case '>': e = "&gt;"; break;
			case '"': e = (fl & XML_PIECE_ATTR) ? "&quot;" : NULL; break;
			case '\'': e = (fl & XML_PIECE_ATTR) ? "&apos;" : NULL; break;
			default: break;
			}
		}
		if ((rc = e ? phi_mbuf_put(out, e, strlen(e), err) : phi_mbuf_put(out, &c, 1, err)))
			return rc;
	}
	return 0;
}

/* Context start: back to the start of the value's line, at most XML_CONTEXT bytes,
 * on a UTF-8 character boundary (the line holds the element's own label; going
 * further back made a 14 MB constructionInfo 3x slower for no recall). */
static size_t context_start(const struct phi_doc *d, size_t ta)
{
	size_t a = ta > XML_CONTEXT ? ta - XML_CONTEXT : 0, i = ta;
	while (i > a && d->t[i - 1] != '\n')
		i--;
	while (i < ta && (d->t[i] & 0xC0) == 0x80)
		i++;
	return i;
}

static void make_where(struct xml *s, char *w, size_t cap, const char *suffix)
{
	size_t pl = strlen(s->path), sl = strlen(suffix);
	if (pl + sl + 1 <= cap) {
		snprintf(w, cap, "%s%s", s->path, suffix);
		return;
	}
	size_t keep = cap > sl + 5 ? cap - sl - 5 : 0;
	snprintf(w, cap, "...%s%s", keep < pl ? s->path + pl - keep : s->path, suffix);
}

/* Emit v as a field: a structured value when vc says so (and it is not already a
 * replacement), else free text with its line as context. */
static int emit_val(struct xml *s, struct phi_val *v, const char *where, const struct vclass *vc,
                    int path_flag)
{
	if (!v->npc || phi_is_blank(v->text.p, v->text.n))
		return 0;
	if (vc && phi_val_is_replaced(v->text.p, v->text.n))
		vc = NULL;
	struct phi_field f = {
		.kind = vc ? PHI_FIELD_VALUE : PHI_FIELD_TEXT,
		.where = where,
		.value_class = vc ? vc->cls : NULL,
		.value_rule = vc ? (s->dialect == D_GENERIC ? "xml-property" : "xml-element") : NULL,
		.value_severity = vc ? vc->sev : 0,
		.flags = path_flag ? PHI_FF_PATH : 0,
	};
	s->fields++;
	return phi_val_emit(s->ctx, s->doc, v, context_start(s->doc, v->pc[0].ta), &f, escape_xml,
	                    s->out);
}

static const struct vclass *element_class(struct xml *s, const char *el)
{
	const char *ln = local_name(el);
	if (s->dialect == D_EXO_PROJECT || s->dialect == D_EXO_CONSTRUCTION)
		return tab_find(exo_tab, sizeof exo_tab / sizeof exo_tab[0], ln);
	if (s->dialect == D_3SHAPE)
		return tab_find(tshape_tab, sizeof tshape_tab / sizeof tshape_tab[0], ln);
	return NULL;
}

/* The element whose text is being built is the innermost open one. */
static int flush_text(struct xml *s)
{
	if (!s->emit || !s->tv.npc)
		return 0;
	int rc = 0;
	if (!phi_is_blank(s->tv.text.p, s->tv.text.n)) {
		char where[XML_WHERE + 16];
		const char *el = s->depth ? s->path + (s->depth > 1 ? s->ends[s->depth - 2] + 1 : 0) : "";
		make_where(s, where, sizeof where, "");
		const struct vclass *vc = element_class(s, el);
		rc = emit_val(s, &s->tv, where, vc, is_path_name(local_name(el)));
	}
	phi_val_reset(&s->tv);
	return rc;
}

/* Decode the raw attribute value t[a..b) into v: plain runs 1:1, each reference
 * as a whole; blanks normalised to spaces (XML 1.0 3.3.3) count as references. */
static int decode_attr(struct xml *s, struct phi_val *v, size_t a, size_t b)
{
	const unsigned char *t = s->doc->t;
	struct phi_error *err = s->ctx->err;
	size_t i = a;
	int rc;
	phi_val_reset(v);
	while (i < b) {
		size_t j = i;
		while (j < b && t[j] != '&' && t[j] != '\t' && t[j] != '\n' && t[j] != '\r')
			j++;
		if (j > i && (rc = phi_val_add(v, t + i, j - i, i, j, PHI_PIECE_RAW | XML_PIECE_ATTR, err)))
			return rc;
		if (j >= b)
			break;
		unsigned char tmp[4] = {' '};
		size_t k = 1, used = 1;
		if (t[j] == '\r' && j + 1 < b && t[j + 1] == '\n')
			used = 2;
		if (t[j] == '&') {
			used = phi_xml_ref(t + j, b - j, tmp, &k);
			if (!used) /* expat accepted it, so this cannot happen; keep the byte */
				used = 1, tmp[0] = '&';
		}
		if ((rc = phi_val_add(v, tmp, k, j, j + used, PHI_PIECE_REF | XML_PIECE_ATTR, err)))
			return rc;
		i = j + used;
	}
	return 0;
}

static enum dialect pick_dialect(const char *el, const char **atts)
{
	const char *ln = local_name(el);
	if (!strcmp(ln, "Treatment"))
		return D_EXO_PROJECT;
	if (!strcmp(ln, "ConstructionInfo") || !strcmp(ln, "ProjectConstructionInfo"))
		return D_EXO_CONSTRUCTION;
	if (!strcmp(ln, "ThreeShapeOrder") || !strcmp(ln, "DentalContainer"))
		return D_3SHAPE;
	for (size_t i = 0; atts[i]; i += 2)
		if (!strncmp(atts[i], "xmlns", 5) && strcasestr(atts[i + 1], "3shape.com"))
			return D_3SHAPE;
	return D_GENERIC;
}

static void XMLCALL on_start(void *u, const XML_Char *el, const XML_Char **atts)
{
	struct xml *s = u;
	size_t st = (size_t)XML_GetCurrentByteIndex(s->xp);
	size_t cnt = (size_t)XML_GetCurrentByteCount(s->xp);
	int rc;

	if (s->depth >= s->max_depth) {
		stop(s, phi_fail(s->ctx->err, PHI_ELIMIT, "XML elements nested deeper than %u",
		                 s->max_depth));
		return;
	}
	if (!s->root_seen) {
		s->root_seen = 1;
		s->dialect = pick_dialect(el, atts);
	}
	if (!s->emit) {
		s->depth++;
		return;
	}
	if ((rc = flush_text(s))) {
		stop(s, rc);
		return;
	}
	/* push the element onto the path */
	const char *pname = NULL;
	if (!strcmp(local_name(el), "Property"))
		for (size_t i = 0; atts[i]; i += 2)
			if (!strcmp(atts[i], "name"))
				pname = atts[i + 1];
	char comp[160];
	if (pname) {
		char sn[96];
		phi_xml_name_sanitise(sn, sizeof sn, pname);
		snprintf(comp, sizeof comp, "%s[%s]", el, sn);
	} else {
		phi_xml_name_sanitise(comp, sizeof comp, el);
	}
	size_t pl = s->depth ? s->ends[s->depth - 1] : 0;
	size_t cl = strlen(comp);
	if (pl + cl + 2 >= sizeof s->path)
		cl = 0; /* a path this long is cut: the element stays, nameless */
	if (s->depth)
		s->path[pl++] = '/';
	memcpy(s->path + pl, comp, cl);
	s->path[pl + cl] = 0;
	s->ends[s->depth] = pl + cl;
	s->depth++;
	if (st > s->doc->len || cnt > s->doc->len - st) {
		stop(s, phi_fail(s->ctx->err, PHI_EFORMAT, "XML: parser offsets outside the file"));
		return;
	}
	/* attributes, found in the raw start tag */
	const unsigned char *tag = s->doc->t + st;
	size_t i = 0, ns, ne, a, b;
	const struct prop *pp = pname ? prop_find(pname) : NULL;
	while (!phi_xml_next_attr(tag, cnt, &i, &ns, &ne, &a, &b)) {
		char an[96], where[XML_WHERE + 112];
		size_t anl = ne - ns < sizeof an - 1 ? ne - ns : sizeof an - 1;
		memcpy(an, tag + ns, anl);
		an[anl] = 0;
		if ((anl >= 5 && !strncmp(an, "xmlns", 5) && (anl == 5 || an[5] == ':')) || b == a)
			continue; /* namespace names identify schemas, not people */
		if (pname && !strcmp(an, "name"))
			continue; /* the property's name: not a value */
		if (s->dialect == D_3SHAPE && (!strcmp(an, "type") || !strcmp(local_name(an), "type")))
			continue; /* 3Shape class names (TDM_Item_ModelElement): schema, not data */
		char san[100];
		phi_xml_name_sanitise(san + 1, sizeof san - 1, an);
		san[0] = '@';
		make_where(s, where, sizeof where, san);
		if ((rc = decode_attr(s, &s->av, st + a, st + b))) {
			stop(s, rc);
			return;
		}
		struct vclass pv;
		const struct vclass *vc = NULL;
		if (pp && !strcmp(an, "value")) {
			pv = (struct vclass){pp->name, pp->cls, pp->sev};
			vc = &pv;
		}
		if ((rc = emit_val(s, &s->av, where, vc, is_path_name(local_name(an))))) {
			stop(s, rc);
			return;
		}
	}
}

static void XMLCALL on_end(void *u, const XML_Char *el)
{
	struct xml *s = u;
	int rc;
	(void)el;
	if (s->emit && (rc = flush_text(s))) {
		stop(s, rc);
		return;
	}
	if (!s->depth)
		return;
	s->depth--;
	if (s->emit)
		s->path[s->depth ? s->ends[s->depth - 1] : 0] = 0;
}

static void XMLCALL on_text(void *u, const XML_Char *txt, int len)
{
	struct xml *s = u;
	if (!s->emit || len <= 0)
		return;
	size_t st = (size_t)XML_GetCurrentByteIndex(s->xp);
	size_t cnt = (size_t)XML_GetCurrentByteCount(s->xp);
	if (st > s->doc->len || cnt > s->doc->len - st)
		return;
	unsigned fl = s->in_cdata ? PHI_PIECE_RAW | PHI_PIECE_CDATA : PHI_PIECE_RAW;
	if ((size_t)len != cnt || memcmp(s->doc->t + st, txt, cnt))
		fl = PHI_PIECE_REF | (s->in_cdata ? PHI_PIECE_CDATA : 0);
	int rc = phi_val_add(&s->tv, txt, (size_t)len, st, st + cnt, fl, s->ctx->err);
	if (rc)
		stop(s, rc);
}

static void XMLCALL on_cdata_start(void *u)
{
	((struct xml *)u)->in_cdata = 1;
}

static void XMLCALL on_cdata_end(void *u)
{
	((struct xml *)u)->in_cdata = 0;
}

static void XMLCALL on_comment(void *u, const XML_Char *data)
{
	struct xml *s = u;
	(void)data;
	if (!s->emit)
		return;
	size_t st = (size_t)XML_GetCurrentByteIndex(s->xp);
	size_t cnt = (size_t)XML_GetCurrentByteCount(s->xp);
	int rc;
	if ((rc = flush_text(s))) {
		stop(s, rc);
		return;
	}
	if (cnt < 7 || st > s->doc->len || cnt > s->doc->len - st)
		return;
	char where[XML_WHERE + 16];
	make_where(s, where, sizeof where, s->depth ? "/#comment" : "#comment");
	phi_val_reset(&s->av);
	if ((rc = phi_val_add(&s->av, s->doc->t + st + 4, cnt - 7, st + 4, st + cnt - 3,
	                      PHI_PIECE_RAW | XML_PIECE_COMMENT, s->ctx->err)) ||
	    (rc = emit_val(s, &s->av, where, NULL, 0)))
		stop(s, rc);
}

static void XMLCALL on_entity_decl(void *u, const XML_Char *name, int is_param,
                                   const XML_Char *value, int vlen, const XML_Char *base,
                                   const XML_Char *sys, const XML_Char *pub,
                                   const XML_Char *notation)
{
	struct xml *s = u;
	(void)name, (void)is_param, (void)value, (void)vlen, (void)base, (void)sys, (void)pub,
	    (void)notation;
	stop(s, phi_fail_at(s->ctx->err, PHI_EFORMAT, phi_doc_off(s->doc, (size_t)XML_GetCurrentByteIndex(s->xp)),
	                    "XML declares entities in its DTD (refused: entity expansion)"));
}

static void XMLCALL on_skipped(void *u, const XML_Char *name, int is_param)
{
	struct xml *s = u;
	(void)name, (void)is_param;
	stop(s, phi_fail(s->ctx->err, PHI_EFORMAT, "XML refers to an undeclared entity"));
}

static int run_pass(struct xml *s)
{
	struct phi_fctx *ctx = s->ctx;
	const struct phi_doc *d = s->doc;
	s->depth = 0;
	s->root_seen = 0;
	s->in_cdata = 0;
	s->path[0] = 0;
	s->xp = XML_ParserCreate("UTF-8");
	if (!s->xp)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	XML_SetUserData(s->xp, s);
	XML_SetElementHandler(s->xp, on_start, on_end);
	XML_SetCharacterDataHandler(s->xp, on_text);
	XML_SetCdataSectionHandler(s->xp, on_cdata_start, on_cdata_end);
	XML_SetCommentHandler(s->xp, on_comment);
	XML_SetEntityDeclHandler(s->xp, on_entity_decl);
	XML_SetSkippedEntityHandler(s->xp, on_skipped);
	XML_SetParamEntityParsing(s->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	size_t pos = 0;
	int rc = 0;
	do {
		size_t k = d->len - pos < XML_FEED ? d->len - pos : XML_FEED;
		int final = pos + k == d->len;
		if (XML_Parse(s->xp, (const char *)d->t + pos, (int)k, final) != XML_STATUS_OK) {
			if (s->rc) {
				rc = s->rc;
			} else {
				size_t at = (size_t)XML_GetCurrentByteIndex(s->xp);
				rc = phi_fail_at(ctx->err, PHI_EFORMAT, phi_doc_off(d, at <= d->len ? at : d->len),
				                 "not well-formed XML: %s (line %lu)",
				                 XML_ErrorString(XML_GetErrorCode(s->xp)),
				                 (unsigned long)XML_GetCurrentLineNumber(s->xp));
			}
			break;
		}
		pos += k;
	} while (pos < d->len);
	if (!rc && s->rc)
		rc = s->rc;
	if (!rc && !s->root_seen)
		rc = phi_fail(ctx->err, PHI_EFORMAT, "XML without a root element");
	XML_ParserFree(s->xp);
	s->xp = NULL;
	return rc;
}

static int xml_scan(struct phi_fctx *ctx)
{
	struct phi_doc doc;
	struct phi_dedits out = {0};
	struct xml s = {.ctx = ctx, .doc = &doc};
	int rc = phi_doc_load(ctx, &doc, "XML");
	if (rc)
		goto done;
	s.max_depth = ctx->limits && ctx->limits->max_depth ? ctx->limits->max_depth : 64;
	s.ends = calloc(s.max_depth + 1, sizeof *s.ends);
	if (!s.ends) {
		rc = phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
		goto done;
	}
	if (!doc.len) {
		rc = phi_fail(ctx->err, PHI_EFORMAT, "empty XML file");
		goto done;
	}
	if ((rc = run_pass(&s)))
		goto done;
	s.emit = 1;
	s.out = ctx->out_fd >= 0 ? &out : NULL;
	if ((rc = run_pass(&s)))
		goto done;
	if (ctx->sink_ops && ctx->sink_ops->record)
		rc = ctx->sink_ops->record(ctx->sink, "xml_dialect", dialect_names[s.dialect]);
	if (!rc && ctx->out_fd >= 0 && !(rc = phi_doc_write(ctx, &doc, &out)))
		rc = phi_doc_verify(ctx, xml_scan, "xml_verified");
done:
	phi_val_free(&s.tv);
	phi_val_free(&s.av);
	phi_dedits_free(&out);
	free(s.ends);
	phi_doc_free(&doc);
	return rc;
}

/* ---- detection ---- */

static int name_is(const char *name, const char *suf)
{
	return name && phi_name_has_suffix(name, suf);
}

/* 1 when s[i..] starts an element name (XML 1.0 NameStartChar, ASCII part). */
static int name_start(const char *s, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	return isalpha(c) || c == '_' || c == ':';
}

static int xml_detect(const unsigned char *head, size_t n, const char *name)
{
	char a[1024];
	size_t len = phi_doc_sniff(head, n, a, sizeof a);
	size_t i = phi_doc_skip_ws(a, 0);
	int prolog = 0;
	if (len - i < 2 || a[i] != '<')
		return 0;
	if (!strncmp(a + i, "<?xml", 5)) {
		prolog = 1;
		const char *e = strstr(a + i, "?>");
		if (!e)
			return 60;
		i = phi_doc_skip_ws(a, (size_t)(e - a) + 2);
	}
	/* comments and a DOCTYPE before the root */
	while (!strncmp(a + i, "<!--", 4)) {
		const char *e = strstr(a + i, "-->");
		if (!e)
			return prolog ? 60 : 0;
		i = phi_doc_skip_ws(a, (size_t)(e - a) + 3);
	}
	if (!strncasecmp(a + i, "<!DOCTYPE html", 14) || !strncasecmp(a + i, "<html", 5))
		return 0; /* HTML, XHTML included */
	if (!strncmp(a + i, "<HPS", 4))
		return 0; /* 3Shape scan: hps.c */
	if (!strncmp(a + i, "<x:xmpmeta", 10) || !strncmp(a + i, "<?xpacket", 9))
		return 30;
	/* and the XML parts of Open Packaging (ECMA-376 Part 2: .rels) and XPS (ECMA-388:
	 * pages, documents and the sequence), which Rx forms printed to XPS arrive as */
	int ours = name_is(name, ".xml") || name_is(name, ".3ox") || name_is(name, ".dentalProject") ||
	           name_is(name, ".constructionInfo") || name_is(name, ".3ml") ||
	           name_is(name, ".modelInfo") || name_is(name, ".rels") || name_is(name, ".fpage") ||
	           name_is(name, ".fdoc") || name_is(name, ".fdseq");
	if (!strncmp(a + i, "<!DOCTYPE", 9))
		return prolog || ours ? 70 : 45;
	if (!name_start(a, i + 1))
		return 0;
	if (prolog || ours)
		return 70;
	/* a start tag without a prolog or a known name: below plain text (50), so a
	 * note that opens with "<urgent>" stays text; with a BOM text wins as well.
	 * One that declares a namespace is XML whatever its name: taken as text, its
	 * namespace URI would be a "URL" the strip replaces, and the file broken. */
	size_t k = i + 1;
	while (a[k] && !isspace((unsigned char)a[k]) && a[k] != '>' && a[k] != '/' && a[k] != '<')
		k++;
	if (!(a[k] == '>' || a[k] == '/' || isspace((unsigned char)a[k])))
		return 0;
	const char *gt = strchr(a + k, '>'), *ns = strstr(a + k, " xmlns");
	return ns && (!gt || ns < gt) && (ns[6] == '=' || ns[6] == ':') ? 70 : 45;
}

const struct phi_format phi_format_xml = {
	.name = "xml",
	.detect = xml_detect,
	.scan = xml_scan,
	.can_strip = 1,
};
