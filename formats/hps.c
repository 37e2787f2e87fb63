/* hps.c - 3Shape scan files: `.dcm` that are HIMSA Packed Scan (HPS) XML.
 *
 * Follows: HIMSA "Packed Scan Standard format 501" as seen in the public samples
 * (shared/samples/dental, from Nosenzor/Open3SDCM) and Open3SDCM's parser
 * (Lib/src/ParseDcm.cpp: BuildCeKey, ComputePackageLockHash); XML 1.0 (5th ed.)
 * 2.4 and 4.1 (character and entity references) for the byte-preserving rewrite;
 * RFC 4648 4 (base64); shared/reference/dental-formats.md 4.1.
 *
 * Detection: `<HPS` after an optional UTF-8 BOM, blanks and `<?xml ...?>` prolog;
 * never when `DICM` stands at byte 128 (DICOM) or the file is a ZIP.
 *
 * Slots: every Property@value ("Property NAME"), every String@value, non-blank text
 * between tags and comments outside the protected elements.  ScannerSerialNumber is
 * a structured value (class device, rule hps-property), and so are properties whose
 * names say patient, birth, doctor or operator.  SourceApp is text for the rules
 * like any other property: its dates are software build dates, not service dates
 * (README, "SourceApp dates"), so they are not structured date values.  Values that
 * are base64 of UTF-16LE
 * XML (SID.Model.Metadata, the statistics blobs, or any value that decodes to
 * `<` in UTF-16LE) are decoded and scanned; a known blob that does not decode fails
 * the file.  Finding offsets point into the file: decoded characters map to the
 * base64 quantum that holds their first byte.
 *
 * Protected, never edited, hashed in and out: the elements Packed_geometry,
 * FacetMarks, TextureData2, SignatureHash, EKID, PackageLockList and the Property
 * elements named EKID or PackageLockList (the CE key is derived from them).
 *
 * Strip is opt-in (--strip-hps): only slot bytes change (replacements XML-escaped;
 * an edited blob is re-encoded as UTF-16LE without BOM, then base64), and the
 * "warning" fact says 3Shape software may reject an edited signed file.  Without
 * --strip-hps a strip writes a verbatim copy when nothing was found, and otherwise
 * fails (report-only: nothing written).
 *
 * Memory: the file is mapped (a regular file) or read whole (a pipe, up to
 * limits->hps_max_stream or --max-size); expat sees it in one piece so byte indexes are file offsets.
 * A DOCTYPE or a CDATA section fails the file (HPS has neither; entity
 * declarations would change what the bytes mean).
 *
 * Threading: reentrant; one expat parser per call.  Ownership: everything is
 * allocated per file and released before scan() returns.
 */
#include "hps.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "docio.h"
#include "meshio.h"
#include "text.h"

/* The chunk the XML is handed to expat in. */
#define HPS_FEED ((size_t)1 << 20)

enum slot_kind { SL_ATTR, SL_TEXT, SL_COMMENT };

/* Per open element: it raised prot_depth; it opened the outermost protected range. */
enum { PROT_COUNTED = 1, PROT_RANGE = 2, SKIP_TEXT = 4 };

struct slot {
	size_t a, b;          /* raw bytes of the value in the file */
	enum slot_kind kind;
	int report_only;      /* a protected property: scanned, never edited */
	char name[48];        /* property name (sanitised) or element name */
	int is_property;
};

struct range {
	size_t a, b;
};

struct hps {
	struct phi_fctx *ctx;
	const unsigned char *buf; /* the XML parsed: the file, or its UTF-8 transcoding */
	size_t len;
	const uint32_t *fmap;     /* UTF-16 file: fmap[i] = file offset of buf[i] (len + 1
	                             entries); NULL when buf is the file itself */
	const unsigned char *file; /* the file's bytes (== buf without fmap) */
	size_t file_len;
	int be;                   /* UTF-16 big-endian */
	int inner;           /* a decoded blob: every attribute and text node is a slot */
	XML_Parser xp;
	int rc;              /* first error */
	int root_seen;
	unsigned depth, max_depth, prot_depth;
	size_t *open_start;  /* per depth: start of the start tag */
	size_t *open_end;    /* per depth: end of the start tag */
	int *open_prot;      /* per depth: PROT_COUNTED | PROT_RANGE */
	struct slot *slots;
	size_t nslots, capslots;
	struct range *prot;
	size_t nprot, capprot;
};

static const char *const protected_names[] = {
	"Packed_geometry", "FacetMarks", "TextureData2", "SignatureHash", "EKID", "PackageLockList",
};

static const char *const blob_props[] = {
	"SID.Model.Metadata", "SurfaceReconstructionStatisticsData", "DragonFlyStatisticsData",
};

/* ---- detection ---- */

static size_t skip_ws(const unsigned char *h, size_t i, size_t n)
{
	while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
		i++;
	return i;
}

/* UTF-16 text: a BOM (FF FE, FE FF), or no BOM and '<' as the first unit (the
 * encoding declaration's own rule, XML 1.0 appendix F.1).  *skip: BOM bytes. */
static int utf16_kind(const unsigned char *h, size_t n, int *be, size_t *skip)
{
	*skip = 0;
	if (n >= 2 && ((h[0] == 0xFF && h[1] == 0xFE) || (h[0] == 0xFE && h[1] == 0xFF))) {
		*be = h[0] == 0xFE;
		*skip = 2;
		return !(n >= 4 && !*be && h[2] == 0 && h[3] == 0); /* UTF-32LE BOM: not ours */
	}
	if (n >= 4 && h[0] == '<' && h[1] == 0 && h[2] != 0 && h[3] == 0) {
		*be = 0;
		return 1;
	}
	if (n >= 4 && h[0] == 0 && h[1] == '<' && h[2] == 0 && h[3] != 0) {
		*be = 1;
		return 1;
	}
	return 0;
}

static int detect_utf8(const unsigned char *h, size_t n)
{
	size_t i = 0;
	if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF)
		i = 3;
	i = skip_ws(h, i, n);
	if (n - i >= 5 && memcmp(h + i, "<?xml", 5) == 0) {
		const unsigned char *e = memmem(h + i, n - i, "?>", 2);
		if (!e)
			return 0;
		i = skip_ws(h, (size_t)(e - h) + 2, n);
	}
	/* a DOCTYPE is not allowed in HPS; claim it so the scan fails with a reason */
	if (n - i >= 14 && memcmp(h + i, "<!DOCTYPE", 9) == 0) {
		i = skip_ws(h, i + 9, n);
		return n - i >= 4 && memcmp(h + i, "HPS", 3) == 0 && (h[i + 3] == ' ' || h[i + 3] == '[' || h[i + 3] == '>') ? 95 : 0;
	}
	if (n - i >= 5 && memcmp(h + i, "<HPS", 4) == 0 &&
	    (h[i + 4] == ' ' || h[i + 4] == '>' || h[i + 4] == '\t' || h[i + 4] == '\r' ||
	     h[i + 4] == '\n'))
		return 95;
	return 0;
}

static int hps_detect(const unsigned char *h, size_t n, const char *name)
{
	unsigned char a[1024];
	size_t skip, k = 0;
	int be;
	if (n >= 132 && memcmp(h + 128, "DICM", 4) == 0)
		return 0;
	if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0)
		return 0;
	if (!utf16_kind(h, n, &be, &skip))
		return detect_utf8(h, n);
	/* the prolog and root tag are ASCII: read the leading ASCII units as bytes */
	for (size_t i = skip; i + 1 < n && k < sizeof a; i += 2) {
		unsigned char hi = h[i + !be], lo = h[i + be];
		if (hi || !lo || lo >= 0x80)
			break;
		a[k++] = lo;
	}
	return detect_utf8(a, k);
}

/* ---- parsing ---- */

static int is_protected(const char *el)
{
	for (size_t i = 0; i < sizeof protected_names / sizeof protected_names[0]; i++)
		if (!strcmp(el, protected_names[i]))
			return 1;
	return 0;
}

static void stop(struct hps *s, int rc)
{
	if (!s->rc)
		s->rc = rc;
	XML_StopParser(s->xp, XML_FALSE);
}

static int add_prot(struct hps *s, size_t a, size_t b)
{
	if (s->nprot == s->capprot) {
		size_t nc = s->capprot ? s->capprot * 2 : 16;
		struct range *t = realloc(s->prot, nc * sizeof *t);
		if (!t)
			return phi_fail(s->ctx->err, PHI_ENOMEM, "out of memory");
		s->prot = t;
		s->capprot = nc;
	}
	s->prot[s->nprot++] = (struct range){a, b};
	return 0;
}

static struct slot *add_slot(struct hps *s)
{
	if (s->nslots == s->capslots || !s->slots) {
		size_t nc = s->capslots ? s->capslots * 2 : 64;
		struct slot *t = realloc(s->slots, nc * sizeof *t);
		if (!t) {
			phi_fail(s->ctx->err, PHI_ENOMEM, "out of memory");
			return NULL;
		}
		s->slots = t;
		s->capslots = nc;
	}
	struct slot *sl = &s->slots[s->nslots++];
	memset(sl, 0, sizeof *sl);
	return sl;
}

/* A slot for the attribute value at file bytes [a, b), named by name (sanitised);
 * NULL when out of memory, with the parse stopped. */
static struct slot *attr_slot(struct hps *s, size_t a, size_t b, const char *name)
{
	struct slot *sl = add_slot(s);
	if (!sl) {
		stop(s, PHI_ENOMEM);
		return NULL;
	}
	sl->a = a;
	sl->b = b;
	sl->kind = SL_ATTR;
	phi_xml_name_sanitise(sl->name, sizeof sl->name, name);
	return sl;
}

/* Find the raw value of attribute attr in the start tag t[0..n): [*a, *b). */
static int find_attr(const unsigned char *t, size_t n, const char *attr, size_t *a, size_t *b)
{
	size_t i = 0, ns, ne, al = strlen(attr);
	while (!phi_xml_next_attr(t, n, &i, &ns, &ne, a, b))
		if (ne - ns == al && !memcmp(t + ns, attr, al))
			return 0;
	return -1;
}

static const char *attr_of(const char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (!strcmp(atts[i], name))
			return atts[i + 1];
	return NULL;
}

static void XMLCALL on_start(void *u, const XML_Char *el, const XML_Char **atts)
{
	struct hps *s = u;
	size_t st = (size_t)XML_GetCurrentByteIndex(s->xp);
	size_t cnt = (size_t)XML_GetCurrentByteCount(s->xp);

	if (!s->root_seen) {
		s->root_seen = 1;
		if (!s->inner && strcmp(el, "HPS")) {
			stop(s, phi_fail(s->ctx->err, PHI_EFORMAT, "XML root is not <HPS>"));
			return;
		}
	}
	if (s->depth >= s->max_depth) {
		stop(s, phi_fail(s->ctx->err, PHI_ELIMIT, "HPS elements nested deeper than %u",
		                 s->max_depth));
		return;
	}
	if (st > s->len || cnt > s->len - st) {
		stop(s, phi_fail(s->ctx->err, PHI_EFORMAT, "HPS: parser offsets outside the file"));
		return;
	}
	if (s->inner) {
		size_t el_len = strlen(el);
		size_t i = 0, ns, ne, a, b;
		s->open_start[s->depth] = st;
		s->open_end[s->depth] = st + cnt;
		/* version numbers are not addresses (ModuleVersion 7.4.12.0 in the
		 * statistics blobs of every real scan looks like an IPv4 address) */
		s->open_prot[s->depth] = el_len >= 7 && !strcmp(el + el_len - 7, "Version") ? SKIP_TEXT : 0;
		s->depth++;
		while (!phi_xml_next_attr(s->buf + st, cnt, &i, &ns, &ne, &a, &b)) {
			const unsigned char *an = s->buf + st + ns;
			if ((ne - ns >= 5 && !memcmp(an, "xmlns", 5) && (ne - ns == 5 || an[5] == ':')) ||
			    b == a)
				continue; /* namespace names identify schemas, not people */
			if (!attr_slot(s, st + a, st + b, el))
				return;
		}
		return;
	}
	const char *pname = !strcmp(el, "Property") ? attr_of(atts, "name") : NULL;
	int prot = is_protected(el) ||
	           (pname && (!strcmp(pname, "EKID") || !strcmp(pname, "PackageLockList")));
	s->open_start[s->depth] = st;
	s->open_end[s->depth] = st + cnt;
	s->open_prot[s->depth] = prot ? PROT_COUNTED | (s->prot_depth ? 0 : PROT_RANGE) : 0;
	s->depth++;
	if (prot)
		s->prot_depth++;
	if (s->prot_depth && !pname)
		return; /* inside geometry: nothing to scan */
	if (!strcmp(el, "Property") || !strcmp(el, "String")) {
		size_t a, b;
		if (find_attr(s->buf + st, cnt, "value", &a, &b))
			return;
		struct slot *sl = attr_slot(s, st + a, st + b, pname ? pname : el);
		if (!sl)
			return;
		sl->report_only = s->prot_depth > 0;
		sl->is_property = pname != NULL;
	}
}

static void XMLCALL on_end(void *u, const XML_Char *el)
{
	struct hps *s = u;
	size_t st = (size_t)XML_GetCurrentByteIndex(s->xp);
	size_t cnt = (size_t)XML_GetCurrentByteCount(s->xp);
	(void)el;
	if (!s->depth)
		return;
	s->depth--;
	size_t end = cnt ? st + cnt : s->open_end[s->depth];
	int flags = s->open_prot[s->depth];
	if ((flags & PROT_COUNTED) && s->prot_depth)
		s->prot_depth--;
	if ((flags & PROT_RANGE) && end <= s->len) {
		int rc = add_prot(s, s->open_start[s->depth], end);
		if (rc)
			stop(s, rc);
	}
}

static void XMLCALL on_text(void *u, const XML_Char *t, int len)
{
	struct hps *s = u;
	size_t st = (size_t)XML_GetCurrentByteIndex(s->xp);
	size_t cnt = (size_t)XML_GetCurrentByteCount(s->xp);
	int blank = 1;
	if (s->prot_depth || cnt == 0 || st > s->len || cnt > s->len - st)
		return;
	if (s->depth && (s->open_prot[s->depth - 1] & SKIP_TEXT))
		return;
	for (int i = 0; i < len && blank; i++)
		blank = t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n';
	struct slot *last = s->nslots ? &s->slots[s->nslots - 1] : NULL;
	if (last && last->kind == SL_TEXT && last->b == st) {
		last->b = st + cnt; /* expat splits a text node at lines and references */
		return;
	}
	if (blank)
		return;
	struct slot *sl = add_slot(s);
	if (!sl) {
		stop(s, PHI_ENOMEM);
		return;
	}
	sl->a = st;
	sl->b = st + cnt;
	sl->kind = SL_TEXT;
	snprintf(sl->name, sizeof sl->name, "text");
}

static void XMLCALL on_comment(void *u, const XML_Char *t)
{
	struct hps *s = u;
	size_t st = (size_t)XML_GetCurrentByteIndex(s->xp);
	size_t cnt = (size_t)XML_GetCurrentByteCount(s->xp);
	(void)t;
	if (s->prot_depth || cnt < 7 || st > s->len || cnt > s->len - st)
		return;
	struct slot *sl = add_slot(s);
	if (!sl) {
		stop(s, PHI_ENOMEM);
		return;
	}
	sl->a = st + 4;
	sl->b = st + cnt - 3;
	sl->kind = SL_COMMENT;
	snprintf(sl->name, sizeof sl->name, "comment");
}

static void XMLCALL on_doctype(void *u, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
	struct hps *s = u;
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	stop(s, phi_fail(s->ctx->err, PHI_EFORMAT, "HPS with a DOCTYPE (not allowed)"));
}

static void XMLCALL on_cdata(void *u)
{
	struct hps *s = u;
	stop(s, phi_fail(s->ctx->err, PHI_EFORMAT, "HPS with a CDATA section (not supported)"));
}

static int parse(struct hps *s)
{
	struct phi_fctx *ctx = s->ctx;
	s->max_depth = ctx->limits && ctx->limits->max_depth ? ctx->limits->max_depth : 64;
	s->open_start = calloc(s->max_depth, sizeof *s->open_start);
	s->open_end = calloc(s->max_depth, sizeof *s->open_end);
	s->open_prot = calloc(s->max_depth, sizeof *s->open_prot);
	s->xp = XML_ParserCreate("UTF-8");
	if (!s->open_start || !s->open_end || !s->open_prot || !s->xp)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	XML_SetUserData(s->xp, s);
	XML_SetElementHandler(s->xp, on_start, on_end);
	XML_SetCharacterDataHandler(s->xp, on_text);
	XML_SetCommentHandler(s->xp, on_comment);
	XML_SetStartDoctypeDeclHandler(s->xp, on_doctype);
	XML_SetStartCdataSectionHandler(s->xp, on_cdata);
	XML_SetParamEntityParsing(s->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	size_t pos = 0;
	do {
		size_t k = s->len - pos < HPS_FEED ? s->len - pos : HPS_FEED;
		int final = pos + k == s->len;
		if (XML_Parse(s->xp, (const char *)s->buf + pos, (int)k, final) != XML_STATUS_OK) {
			if (s->rc)
				return s->rc;
			return phi_fail_at(ctx->err, PHI_EFORMAT, (uint64_t)XML_GetCurrentByteIndex(s->xp),
			                   "HPS is not well-formed XML: %s (line %lu)",
			                   XML_ErrorString(XML_GetErrorCode(s->xp)),
			                   (unsigned long)XML_GetCurrentLineNumber(s->xp));
		}
		pos += k;
	} while (pos < s->len);
	if (s->rc)
		return s->rc;
	if (!s->root_seen)
		return phi_fail(ctx->err, PHI_EFORMAT, "HPS without a root element");
	return 0;
}

static void release(struct hps *s)
{
	free(s->slots);
	free(s->prot);
	free(s->open_start);
	free(s->open_end);
	free(s->open_prot);
	if (s->xp)
		XML_ParserFree(s->xp);
	s->slots = NULL;
	s->prot = NULL;
	s->open_start = s->open_end = NULL;
	s->open_prot = NULL;
	s->xp = NULL;
}

/* ---- slot text ---- */

/* Decode XML references in raw[0..n) into t with map (t index -> raw index). */
static size_t xml_unescape(const unsigned char *raw, size_t n, unsigned char *t, uint32_t *map)
{
	size_t o = 0, i = 0;
	while (i < n) {
		size_t used = 1, k = 1;
		unsigned char tmp[4];
		tmp[0] = raw[i];
		if (raw[i] == '&') {
			size_t r = phi_xml_ref(raw + i, n - i, tmp, &k);
			if (r)
				used = r;
		}
		for (size_t q = 0; q < k; q++) {
			map[o] = (uint32_t)i;
			t[o++] = tmp[q];
		}
		i += used;
	}
	map[o] = (uint32_t)n;
	return o;
}

static int xml_escape_put(struct phi_mbuf *out, const unsigned char *p, size_t n, int comment,
                          struct phi_error *err)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		const char *e = NULL;
		if (comment) {
			e = p[i] == '-' ? "_" : NULL; /* "--" may not appear in a comment */
		} else {
			switch (p[i]) {
			case '&': e = "&amp;"; break;
			case '<': e = "&lt;"; break;
			case '>': e = "&gt;"; break;
			case '"': e = "&quot;"; break;
			case '\'': e = "&apos;"; break;
			default: break;
			}
		}
		if ((rc = e ? phi_mbuf_put(out, e, strlen(e), err) : phi_mbuf_put(out, p + i, 1, err)))
			return rc;
	}
	return 0;
}

static int is_b64(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/' || c == '=';
}

static int known_blob(const char *name)
{
	for (size_t i = 0; i < sizeof blob_props / sizeof blob_props[0]; i++)
		if (!strcmp(name, blob_props[i]))
			return 1;
	return 0;
}

/* The class of a property whose name alone says what its value is, or NULL. */
static const char *value_class(const char *name, int *sev)
{
	static const struct {
		const char *word, *cls;
		int sev;
	} tab[] = {
		{"serialnumber", "device", 0}, {"birth", "date", 2},   {"patientname", "name", 2},
		{"firstname", "name", 2},      {"lastname", "name", 2}, {"patientid", "id", 2},
		{"patient_refno", "id", 2},    {"doctor", "name", 1},  {"dentist", "name", 1},
		{"operator", "name", 1},       {"customer", "name", 1},
	};
	char low[48];
	size_t i = 0;
	for (; name[i] && i + 1 < sizeof low; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = 0;
	for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++)
		if (strstr(low, tab[k].word)) {
			*sev = tab[k].sev;
			return tab[k].cls;
		}
	return NULL;
}

/* A value an earlier strip already replaced: a class tag ("[DEVICE]") or a mask
 * (no letter or digit left).  Flagging it again by its property name would keep a
 * stripped file from ever scanning clean. */
static int already_replaced(const unsigned char *t, size_t n)
{
	size_t i;
	if (n >= 3 && t[0] == '[' && t[n - 1] == ']') {
		for (i = 1; i + 1 < n && ((t[i] >= 'A' && t[i] <= 'Z') || t[i] == '_'); i++)
			;
		if (i + 1 == n)
			return 1;
	}
	for (i = 0; i < n; i++)
		if (isalnum(t[i]) || t[i] >= 0x80)
			return 0;
	return 1;
}

/* UTF-8 to UTF-16 (no BOM), little- or big-endian. */
static int utf16_put(struct phi_mbuf *out, const unsigned char *p, size_t n, int be,
                     struct phi_error *err)
{
	int rc;
	for (size_t i = 0; i < n;) {
		uint32_t cp, unit[2];
		size_t k = 1;
		i += phi_utf8_get(p + i, n - i, &cp);
		if (cp >= 0x10000) {
			unit[0] = 0xD800 + ((cp - 0x10000) >> 10);
			unit[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
			k = 2;
		} else {
			unit[0] = cp;
		}
		for (size_t j = 0; j < k; j++) {
			unsigned char u[2] = {(unsigned char)unit[j], (unsigned char)(unit[j] >> 8)};
			if (be) {
				unsigned char t = u[0];
				u[0] = u[1], u[1] = t;
			}
			if ((rc = phi_mbuf_put(out, u, 2, err)))
				return rc;
		}
	}
	return 0;
}

/* UTF-16 file: turn a field's map (relative to buf offset base) into file offsets
 * relative to *offset.  No-op for a UTF-8 file. */
static void to_file(const struct hps *s, size_t base, uint32_t *map, size_t n, uint64_t *offset)
{
	if (!s->fmap)
		return;
	uint32_t fb = s->fmap[base];
	for (size_t i = 0; i <= n; i++)
		map[i] = s->fmap[base + map[i]] - fb;
	*offset = fb;
}

struct hps_out {
	struct phi_mbuf repl; /* the new raw value of the current slot */
	int changed;          /* the slot needs rewriting */
};

static int parse(struct hps *s);
static void release(struct hps *s);

/* A protected property (EKID, PackageLockList) is scanned but never edited: its
 * findings carry no replacement, so the manifest does not claim one. */
static int emit_slot(struct phi_fctx *ctx, const struct phi_field *f, struct phi_edits *ed,
                     int report_only)
{
	if (!report_only)
		return phi_emit(ctx, f, ed);
	ed->v = NULL;
	ed->n = 0;
	if (!ctx->sink_ops || !ctx->sink_ops->field)
		return 0;
	return ctx->sink_ops->field(ctx->sink, f, NULL);
}

/* The slots of a decoded blob t[0..tl) (tmap: t index -> offset in the raw value of
 * slot sl): each attribute value and text node is a field; the blob text with every
 * edit applied is built in out, and *edited says whether anything changed. */
static int scan_inner(struct hps *outer, const struct slot *sl, const unsigned char *t,
                      size_t tl, const uint32_t *tmap, struct phi_mbuf *out, int *edited)
{
	struct phi_fctx *ctx = outer->ctx;
	struct hps in = {.ctx = ctx, .buf = t, .len = tl, .inner = 1};
	unsigned char *st = NULL;
	uint32_t *sm = NULL, *fm = NULL;
	size_t pos = 0;
	char where[96];
	int rc;

	*edited = 0;
	if ((rc = parse(&in))) {
		release(&in);
		if (rc == PHI_EFORMAT)
			return phi_fail_at(ctx->err, PHI_EFORMAT, sl->a,
			                   "HPS property %s: its decoded XML is not well-formed", sl->name);
		return rc;
	}
	snprintf(where, sizeof where, "Property %s (base64 UTF-16 XML)", sl->name);
	for (size_t k = 0; !rc && k < in.nslots; k++) {
		const struct slot *is = &in.slots[k];
		size_t n = is->b - is->a;
		free(st);
		free(sm);
		free(fm);
		st = malloc(4 * n + 1);
		sm = malloc((4 * n + 1) * sizeof *sm);
		fm = malloc((4 * n + 1) * sizeof *fm);
		if (!st || !sm || !fm) {
			rc = phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
			break;
		}
		size_t sl_len;
		if (is->kind == SL_COMMENT) {
			memcpy(st, t + is->a, n);
			for (size_t i = 0; i <= n; i++)
				sm[i] = (uint32_t)i;
			sl_len = n;
		} else {
			sl_len = xml_unescape(t + is->a, n, st, sm);
		}
		for (size_t i = 0; i <= sl_len; i++)
			fm[i] = tmap[is->a + sm[i]];
		uint64_t foff = sl->a;
		to_file(outer, sl->a, fm, sl_len, &foff);
		struct phi_field f = {
			.text = (const char *)st,
			.len = sl_len,
			.kind = PHI_FIELD_TEXT,
			.where = where,
			.offset = foff,
			.map = fm,
			.report_from = 0,
			.report_to = sl_len,
		};
		struct phi_edits ed = {NULL, 0};
		if (!sl_len)
			continue;
		if ((rc = emit_slot(ctx, &f, &ed, sl->report_only)) || !ed.n)
			continue;
		struct phi_mbuf txt = {.max = SIZE_MAX / 8};
		if (!(rc = phi_mbuf_put(out, t + pos, is->a - pos, ctx->err)) &&
		    !(rc = phi_apply_edits(st, sl_len, &ed, NULL, &txt, ctx->err)))
			rc = xml_escape_put(out, txt.p, txt.n, is->kind == SL_COMMENT, ctx->err);
		phi_mbuf_free(&txt);
		pos = is->b;
		*edited = 1;
	}
	if (!rc && *edited)
		rc = phi_mbuf_put(out, t + pos, tl - pos, ctx->err);
	free(st);
	free(sm);
	free(fm);
	release(&in);
	return rc;
}

/* Scan one base64 blob; in strip mode fill o with its re-encoded value when edited.
 * Returns 1 when the value is not a blob (scan it as text), 0 or PHI_E*. */
static int scan_blob(struct hps *s, const struct slot *sl, struct hps_out *o)
{
	struct phi_fctx *ctx = s->ctx;
	const unsigned char *raw = s->buf + sl->a;
	size_t n = sl->b - sl->a, bin_len = 0;
	int known = sl->is_property && known_blob(sl->name);
	unsigned char *bin = NULL, *t = NULL;
	uint32_t *map = NULL;
	struct phi_mbuf u16 = {.max = SIZE_MAX / 4}, txt = {.max = SIZE_MAX / 4};
	int rc = 0, edited = 0;

	if (!known) {
		if (!sl->is_property || n < 16 || n % 4)
			return 1;
		for (size_t i = 0; i < n; i++)
			if (!is_b64(raw[i]))
				return 1;
	}
	bin = malloc(n / 4 * 3 + 3);
	if (!bin)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	if (sodium_base642bin(bin, n / 4 * 3 + 3, (const char *)raw, n, " \t\r\n", &bin_len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) ||
	    bin_len < 2 || bin_len % 2 || bin[0] != '<' || bin[1] != 0) {
		free(bin);
		if (!known)
			return 1;
		return phi_fail_at(ctx->err, PHI_EFORMAT, sl->a,
		                   "HPS property %s is not base64 of UTF-16 XML", sl->name);
	}
	size_t units = bin_len / 2;
	t = malloc(3 * units + 1);
	map = malloc((3 * units + 1) * sizeof *map);
	if (!t || !map) {
		rc = phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
		goto out;
	}
	long tl = phi_utf16_to_utf8(bin, bin_len, 0, t, map);
	if (tl < 0) {
		rc = phi_fail_at(ctx->err, PHI_EFORMAT, sl->a, "HPS property %s: odd UTF-16", sl->name);
		goto out;
	}
	/* map: UTF-16 byte offset -> offset of its base64 quantum in the raw value */
	for (long i = 0; i <= tl; i++)
		map[i] = map[i] / 3 * 4 > n ? (uint32_t)n : map[i] / 3 * 4;
	map[tl] = (uint32_t)n;
	if ((rc = scan_inner(s, sl, t, (size_t)tl, map, &txt, &edited)))
		goto out;
	if (edited && !sl->report_only) {
		if ((rc = utf16_put(&u16, txt.p, txt.n, 0, ctx->err)))
			goto out;
		size_t cap = sodium_base64_ENCODED_LEN(u16.n, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = malloc(cap);
		if (!b64) {
			rc = phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
			goto out;
		}
		sodium_bin2base64(b64, cap, u16.p, u16.n, sodium_base64_VARIANT_ORIGINAL);
		o->repl.n = 0;
		rc = phi_mbuf_put(&o->repl, b64, strlen(b64), ctx->err);
		free(b64);
		o->changed = !rc;
	}
out:
	free(bin);
	free(t);
	free(map);
	phi_mbuf_free(&u16);
	phi_mbuf_free(&txt);
	return rc;
}

static int scan_slot(struct hps *s, const struct slot *sl, struct hps_out *o)
{
	struct phi_fctx *ctx = s->ctx;
	size_t n = sl->b - sl->a;
	int rc;

	o->changed = 0;
	if (sl->kind == SL_ATTR && (rc = scan_blob(s, sl, o)) != 1)
		return rc;
	if (n == 0)
		return 0;
	unsigned char *t = malloc(4 * n + 1);
	uint32_t *map = malloc((4 * n + 1) * sizeof *map);
	if (!t || !map) {
		free(t);
		free(map);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	}
	size_t tl = sl->kind == SL_COMMENT ? 0 : xml_unescape(s->buf + sl->a, n, t, map);
	if (sl->kind == SL_COMMENT) {
		memcpy(t, s->buf + sl->a, n);
		for (size_t i = 0; i <= n; i++)
			map[i] = (uint32_t)i;
		tl = n;
	}
	char where[96];
	int sev = 0;
	uint64_t foff = sl->a;
	const char *cls = sl->is_property ? value_class(sl->name, &sev) : NULL;
	to_file(s, sl->a, map, tl, &foff);
	if (cls && already_replaced(t, tl))
		cls = NULL;
	if (sl->is_property)
		snprintf(where, sizeof where, "Property %s", sl->name);
	else if (sl->kind == SL_ATTR)
		snprintf(where, sizeof where, "String value");
	else
		snprintf(where, sizeof where, "%s", sl->name);
	struct phi_field f = {
		.text = (const char *)t,
		.len = tl,
		.kind = cls ? PHI_FIELD_VALUE : PHI_FIELD_TEXT,
		.where = where,
		.offset = foff,
		.map = map,
		.report_from = 0,
		.report_to = tl,
		.value_class = cls,
		.value_rule = cls ? "hps-property" : NULL,
		.value_severity = sev,
	};
	struct phi_edits ed = {NULL, 0};
	struct phi_mbuf txt = {.max = SIZE_MAX / 8};
	rc = 0;
	if (tl)
		rc = emit_slot(ctx, &f, &ed, sl->report_only);
	if (!rc && ed.n && !sl->report_only) {
		rc = phi_apply_edits(t, tl, &ed, NULL, &txt, ctx->err);
		o->repl.n = 0;
		if (!rc)
			rc = xml_escape_put(&o->repl, txt.p, txt.n, sl->kind == SL_COMMENT, ctx->err);
		o->changed = !rc;
	}
	phi_mbuf_free(&txt);
	free(t);
	free(map);
	return rc;
}

/* ---- the file ---- */

static int load(struct phi_fctx *ctx, unsigned char **buf, size_t *len, int *mapped)
{
	size_t most = ctx->limits->hps_max_stream;
	if (ctx->limits->max_file_size && ctx->limits->max_file_size < most)
		most = (size_t)ctx->limits->max_file_size;
	return phi_input_whole(ctx, "HPS", most, buf, len, mapped);
}

/* The file's bytes with every changed slot replaced; a UTF-16 file keeps its
 * bytes outside the slots and gets its replacements in its own byte order. */
static int write_copy(struct hps *s, struct hps_out *outs)
{
	struct phi_fctx *ctx = s->ctx;
	struct phi_mbuf u16 = {.max = SIZE_MAX / 4};
	size_t pos = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < s->nslots; i++) {
		if (!outs[i].changed)
			continue;
		const struct slot *sl = &s->slots[i];
		size_t a = s->fmap ? s->fmap[sl->a] : sl->a, b = s->fmap ? s->fmap[sl->b] : sl->b;
		const unsigned char *r = outs[i].repl.p;
		size_t rn = outs[i].repl.n;
		if (s->fmap) {
			u16.n = 0;
			if ((rc = utf16_put(&u16, r, rn, s->be, ctx->err)))
				break;
			r = u16.p, rn = u16.n;
		}
		if (!(rc = phi_output_write(ctx, s->file + pos, a - pos)))
			rc = phi_output_write(ctx, r, rn);
		pos = b;
	}
	if (!rc)
		rc = phi_output_write(ctx, s->file + pos, s->file_len - pos);
	phi_mbuf_free(&u16);
	return rc;
}

/* A UTF-16 file (BOM, or '<' as a 16-bit unit) is parsed as its UTF-8 transcoding,
 * with a map back to file offsets for findings, edits and the protected ranges.
 * Unpaired surrogates become U+FFFD in the transcoding only. */
static int transcode(struct hps *s, unsigned char **u8, uint32_t **fmap)
{
	struct phi_fctx *ctx = s->ctx;
	size_t skip, units;
	int be;
	if (!utf16_kind(s->file, s->file_len, &be, &skip))
		return 0;
	if ((s->file_len - skip) % 2)
		return phi_fail(ctx->err, PHI_EFORMAT, "HPS in UTF-16 with an odd byte count");
	if (s->file_len >= UINT32_MAX)
		return phi_fail(ctx->err, PHI_ELIMIT, "HPS in UTF-16 larger than 4 GiB");
	units = (s->file_len - skip) / 2;
	*u8 = malloc(3 * units + 1);
	*fmap = malloc((3 * units + 1) * sizeof **fmap);
	if (!*u8 || !*fmap)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	long n = phi_utf16_to_utf8(s->file + skip, s->file_len - skip, be, *u8, *fmap);
	if (n < 0)
		return phi_fail(ctx->err, PHI_EFORMAT, "HPS in UTF-16 that does not decode");
	for (long i = 0; i <= n; i++)
		(*fmap)[i] += (uint32_t)skip;
	s->buf = *u8;
	s->len = (size_t)n;
	s->fmap = *fmap;
	s->be = be;
	if (ctx->sink_ops && ctx->sink_ops->record &&
	    ctx->sink_ops->record(ctx->sink, "encoding", be ? "utf-16be" : "utf-16le"))
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	return 0;
}

static int hps_run(struct phi_fctx *ctx, int want_hash, char hex[65])
{
	struct hps s = {.ctx = ctx};
	struct hps_out *outs = NULL;
	int strip = ctx->out_fd >= 0, mapped = 0, rc;
	size_t edited = 0;
	unsigned char *buf = NULL, *u8 = NULL;
	uint32_t *fmap = NULL;

	if ((rc = load(ctx, &buf, &s.len, &mapped)))
		return rc;
	if (!s.len || !buf) {
		free(buf);
		return phi_fail(ctx->err, PHI_EFORMAT, "empty HPS file");
	}
	s.buf = s.file = buf;
	s.file_len = s.len;
	rc = transcode(&s, &u8, &fmap);
	if (!rc)
		rc = parse(&s);
	if (!rc && s.nslots) {
		outs = calloc(s.nslots, sizeof *outs);
		if (!outs)
			rc = phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && outs && i < s.nslots; i++) {
		outs[i].repl.max = SIZE_MAX / 8;
		rc = scan_slot(&s, &s.slots[i], &outs[i]);
		edited += (size_t)outs[i].changed;
	}
	if (!rc && strip) {
		int allowed = (ctx->sopts->flags & PHI_SO_STRIP_HPS) != 0;
		if (edited && !allowed)
			rc = phi_fail(ctx->err, PHI_ENOTSUP,
			              "3Shape HPS is report-only: findings reported, nothing written "
			              "(--strip-hps edits it; 3Shape software may reject an edited signed file)");
		else if (edited && ctx->sink_ops && ctx->sink_ops->record)
			rc = ctx->sink_ops->record(ctx->sink, "warning",
			                           "edited 3Shape HPS: 3Shape software may reject a signed "
			                           "file whose properties changed");
		if (!rc)
			rc = write_copy(&s, outs);
	}
	if (!rc && want_hash) {
		struct phi_geohash h;
		if (!(rc = phi_geohash_init(&h, ctx->err))) {
			for (size_t i = 0; i < s.nprot; i++) {
				size_t a = s.prot[i].a, b = s.prot[i].b;
				if (fmap)
					a = fmap[a], b = fmap[b];
				phi_geohash_update(&h, s.file + a, b - a);
			}
			rc = phi_geohash_hex(&h, hex, ctx->err);
		}
	}
	for (size_t i = 0; outs && i < s.nslots; i++)
		phi_mbuf_free(&outs[i].repl);
	free(outs);
	release(&s);
	free(u8);
	free(fmap);
	if (mapped)
		munmap(buf, s.file_len);
	else
		free(buf);
	return rc;
}

static int hps_scan(struct phi_fctx *ctx)
{
	return phi_mesh_scan(ctx, hps_run, "HPS protected elements");
}

const struct phi_format phi_format_hps = {
	.name = "hps",
	.detect = hps_detect,
	.scan = hps_scan,
	.can_strip = 1,
};
