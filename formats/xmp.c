/* xmp.c - XMP packets through expat (see xmp.h).
 *
 * Namespaces are resolved (XML_ParserCreateNS, separator '|'), so a property is
 * recognised by its URI whatever prefix the writer chose; reports show the usual
 * prefix.  A value belongs to the nearest enclosing element outside the RDF
 * namespace (rdf:li items of dc:creator are dc:creator; mwg-rs:Name inside a
 * region list is mwg-rs:Name).
 *
 * Offsets: expat reports the byte index and length of each character-data event; a
 * per-byte map ties the decoded value back to the packet: 1:1 for UTF-8 text,
 * proportional when the event's bytes differ from its text (a UTF-16 packet, as in
 * exiftool's ExifTool.jpg, or an entity reference, which maps to its '&').  Attribute values are found in the raw start tag; when they
 * hold references the whole value maps to the tag.
 *
 * Hardening: a DTD with entity declarations stops the parser (no entity
 * expansion at all); values are capped at limits->max_field_len; nesting at
 * limits->max_depth (deeper packets are scanned as plain text).
 *
 * Threading: reentrant.  Ownership: everything allocated here is freed before
 * phi_xmp_scan returns.
 */
#include "xmp.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgmeta.h"


static const struct {
	const char *uri, *prefix;
} xmp_ns[] = {
	{"http://purl.org/dc/elements/1.1/", "dc"},
	{"http://ns.adobe.com/xap/1.0/", "xmp"},
	{"http://ns.adobe.com/xap/1.0/mm/", "xmpMM"},
	{"http://ns.adobe.com/xap/1.0/rights/", "xmpRights"},
	{"http://ns.adobe.com/photoshop/1.0/", "photoshop"},
	{"http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/", "Iptc4xmpCore"},
	{"http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "Iptc4xmpExt"},
	{"http://ns.adobe.com/exif/1.0/", "exif"},
	{"http://cipa.jp/exif/1.0/", "exifEX"},
	{"http://ns.adobe.com/tiff/1.0/", "tiff"},
	{"http://ns.adobe.com/exif/1.0/aux/", "aux"},
	{"http://www.metadataworkinggroup.com/schemas/regions/", "mwg-rs"},
	{"http://ns.microsoft.com/photo/1.2/", "MP"},
	{"http://ns.microsoft.com/photo/1.2/t/RegionInfo#", "MPRI"},
	{"http://ns.microsoft.com/photo/1.2/t/Region#", "MPReg"},
	{"http://ns.microsoft.com/photo/1.0/", "MicrosoftPhoto"},
	{"http://ns.adobe.com/DICOM/", "DICOM"},
	{"http://ns.google.com/photos/1.0/camera/", "GCamera"},
	{"http://ns.google.com/photos/1.0/container/", "Container"},
	{"http://ns.adobe.com/camera-raw-settings/1.0/", "crs"},
	{"http://ns.adobe.com/xmp/1.0/DynamicMedia/", "xmpDM"},
	{"http://ns.adobe.com/xap/1.0/g/img/", "xmpGImg"},
	{"http://ns.adobe.com/pdf/1.3/", "pdf"},
	{"http://ns.adobe.com/xmp/note/", "xmpNote"},
};

#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

/* Properties that identify by what they are: prefix, local name, class, severity. */
static const struct {
	const char *prefix, *local, *cls;
	int sev;
} xmp_values[] = {
	{"dc", "creator", "name", 1},
	{"photoshop", "CaptionWriter", "name", 1},
	{"photoshop", "City", "address", 0},
	{"photoshop", "DateCreated", "date", 0},
	{"Iptc4xmpCore", "Location", "address", 0},
	{"Iptc4xmpCore", "CiAdrExtadr", "address", 1},
	{"Iptc4xmpCore", "CiAdrCity", "address", 1},
	{"Iptc4xmpCore", "CiEmailWork", "email", 1},
	{"Iptc4xmpCore", "CiTelWork", "phone", 1},
	{"Iptc4xmpExt", "PersonInImage", "name", 2},
	{"Iptc4xmpExt", "PersonName", "name", 2},
	{"mwg-rs", "Name", "name", 2},
	{"MP", "PersonDisplayName", "name", 2},
	{"MPReg", "PersonDisplayName", "name", 2},
	{"DICOM", "PatientName", "name", 2},
	{"DICOM", "PatientID", "mrn", 2},
	{"DICOM", "PatientDOB", "date", 2},
	{"DICOM", "StudyPhysician", "name", 1},
	{"DICOM", "StudyDateTime", "date", 0},
	{"DICOM", "SeriesDateTime", "date", 0},
	{"DICOM", "StudyID", "id", 0},
	{"xmp", "CreateDate", "date", 0},
	{"xmp", "ModifyDate", "date", 0},
	{"xmp", "MetadataDate", "date", 0},
	{"exif", "DateTimeOriginal", "date", 0},
	{"exif", "DateTimeDigitized", "date", 0},
	{"exif", "GPSLatitude", "address", 0},
	{"exif", "GPSLongitude", "address", 0},
	{"exif", "ImageUniqueID", "id", 0},
	{"exifEX", "CameraOwnerName", "name", 1},
	{"exifEX", "BodySerialNumber", "device", 0},
	{"exifEX", "LensSerialNumber", "device", 0},
	{"aux", "SerialNumber", "device", 0},
	{"aux", "OwnerName", "name", 1},
	{"aux", "LensSerialNumber", "device", 0},
	{"tiff", "Artist", "name", 1},
	{"tiff", "DateTime", "date", 0},
};

struct xmp_frame {
	char name[96]; /* "prefix:local", or "" for RDF and unknown containers */
};

struct xmp_state {
	struct phi_fctx *ctx;
	XML_Parser parser;
	const unsigned char *p;
	size_t n;
	uint64_t offset;
	const char *prefix;
	struct xmp_frame *stack; /* limits->max_depth frames */
	int depth, max_depth;
	/* character data of the innermost element */
	unsigned char *text;
	uint32_t *map;
	size_t tlen, tcap;
	uint32_t tend; /* packet offset just after the last character-data event */
	int rc;
	int bad; /* entity declaration or too deep: give up, scan as text */
};

static void short_name(const char *qn, char *out, size_t cap)
{
	const char *bar = strrchr(qn, '|');
	if (!bar) {
		snprintf(out, cap, "%s", qn);
		return;
	}
	size_t ul = (size_t)(bar - qn);
	for (size_t i = 0; i < sizeof xmp_ns / sizeof xmp_ns[0]; i++)
		if (strlen(xmp_ns[i].uri) == ul && !memcmp(xmp_ns[i].uri, qn, ul)) {
			snprintf(out, cap, "%s:%s", xmp_ns[i].prefix, bar + 1);
			return;
		}
	snprintf(out, cap, "ns:%s", bar + 1);
}

static int is_rdf(const char *qn)
{
	return !strncmp(qn, RDF_NS "|", sizeof RDF_NS);
}

/* The report names only ASCII letters, digits and ":-_." of a property name. */
static void clean_name(char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == ':' || c == '-' || c == '_' || c == '.'))
			*s = '_';
	}
}

static void emit_value(struct xmp_state *st, const char *prop, const unsigned char *s, size_t n,
                       uint64_t off, const uint32_t *map)
{
	if (st->rc)
		return;
	const char *cls = NULL;
	int sev = 0;
	const char *colon = strchr(prop, ':');
	if (colon)
		for (size_t i = 0; i < sizeof xmp_values / sizeof xmp_values[0]; i++)
			if (strlen(xmp_values[i].prefix) == (size_t)(colon - prop) &&
			    !memcmp(xmp_values[i].prefix, prop, (size_t)(colon - prop)) &&
			    !strcmp(xmp_values[i].local, colon + 1)) {
				cls = xmp_values[i].cls;
				sev = xmp_values[i].sev;
			}
	char where[160];
	snprintf(where, sizeof where, "%s %s", st->prefix, prop[0] ? prop : "(text)");
	st->rc = phi_img_field(st->ctx, where, s, n, off, map, cls, "xmp-property", sev);
	if (st->rc)
		XML_StopParser(st->parser, XML_FALSE);
}

/* The property a value belongs to: nearest enclosing non-RDF element. */
static const char *current_prop(const struct xmp_state *st)
{
	for (int i = st->depth - 1; i >= 0; i--)
		if (st->stack[i].name[0])
			return st->stack[i].name;
	return "";
}

static void flush_text(struct xmp_state *st)
{
	if (st->tlen) {
		st->map[st->tlen] = st->tend > st->map[st->tlen - 1] ? st->tend : st->map[st->tlen - 1] + 1;
		emit_value(st, current_prop(st), st->text, st->tlen,
		           st->offset == PHI_NO_OFFSET ? PHI_NO_OFFSET : st->offset,
		           st->offset == PHI_NO_OFFSET ? NULL : st->map);
	}
	st->tlen = 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xmp_state *st = ud;
	flush_text(st);
	if (st->depth >= st->max_depth) {
		st->bad = 1;
		XML_StopParser(st->parser, XML_FALSE);
		return;
	}
	struct xmp_frame *fr = &st->stack[st->depth++];
	fr->name[0] = 0;
	if (!is_rdf(name)) {
		short_name(name, fr->name, sizeof fr->name);
		clean_name(fr->name);
	}
	long idx = XML_GetCurrentByteIndex(st->parser);
	int cnt = XML_GetCurrentByteCount(st->parser);
	const unsigned char *tag = idx >= 0 && (size_t)idx < st->n ? st->p + idx : NULL;
	size_t taglen = tag && cnt > 0 && (size_t)cnt <= st->n - (size_t)idx ? (size_t)cnt : 0;
	for (int i = 0; atts[i] && atts[i + 1] && !st->rc; i += 2) {
		char an[96];
		if (is_rdf(atts[i]))
			continue; /* rdf:about, rdf:parseType, rdf:resource ... */
		short_name(atts[i], an, sizeof an);
		clean_name(an);
		if (!strncmp(an, "xml:", 4) || !strcmp(an, "lang"))
			continue;
		const unsigned char *v = (const unsigned char *)atts[i + 1];
		size_t vl = strlen(atts[i + 1]);
		uint64_t off = PHI_NO_OFFSET;
		if (st->offset != PHI_NO_OFFSET && taglen) {
			const unsigned char *hit = vl ? memmem(tag, taglen, v, vl) : NULL;
			off = st->offset + (uint64_t)((hit ? hit : tag) - st->p);
			if (!hit) {
				/* value with references: map it all to the tag */
				uint32_t *m = calloc(vl + 1, sizeof *m);
				if (!m) {
					st->rc = PHI_ENOMEM;
					XML_StopParser(st->parser, XML_FALSE);
					return;
				}
				m[vl] = (uint32_t)taglen;
				emit_value(st, an, v, vl, off, m);
				free(m);
				continue;
			}
		}
		emit_value(st, an, v, vl, off, NULL);
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xmp_state *st = ud;
	(void)name;
	flush_text(st);
	if (st->depth > 0)
		st->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xmp_state *st = ud;
	size_t n = (size_t)len;
	size_t maxf = st->ctx->limits->max_field_len ? st->ctx->limits->max_field_len : (1u << 20);
	if (st->rc || len <= 0 || st->tlen >= maxf)
		return;
	if (n > maxf - st->tlen)
		n = maxf - st->tlen;
	if (st->tlen + n + 1 > st->tcap) {
		size_t nc = st->tcap ? st->tcap : 256;
		while (nc < st->tlen + n + 1)
			nc *= 2;
		unsigned char *t = realloc(st->text, nc);
		uint32_t *m = t ? realloc(st->map, nc * sizeof *m) : NULL;
		if (t)
			st->text = t;
		if (!t || !m) {
			st->rc = phi_fail(st->ctx->err, PHI_ENOMEM, "out of memory reading XMP");
			XML_StopParser(st->parser, XML_FALSE);
			return;
		}
		st->map = m;
		st->tcap = nc;
	}
	long idx = XML_GetCurrentByteIndex(st->parser);
	int cnt = XML_GetCurrentByteCount(st->parser);
	if (idx < 0)
		idx = 0;
	if (cnt < 0)
		cnt = 0;
	memcpy(st->text + st->tlen, s, n);
	/* 1:1 for plain UTF-8 text; proportional otherwise (exact for ASCII in a UTF-16
	 * packet, the reference's start for an entity) */
	for (size_t i = 0; i < n; i++)
		st->map[st->tlen + i] = (uint32_t)idx + (uint32_t)((uint64_t)i * (uint64_t)cnt / (uint64_t)len);
	st->tlen += n;
	st->tend = (uint32_t)idx + (uint32_t)cnt;
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int pe, const XML_Char *v,
                                   int vl, const XML_Char *b, const XML_Char *sid,
                                   const XML_Char *pid, const XML_Char *nn)
{
	struct xmp_state *st = ud;
	st->bad = 1;
	XML_StopParser(st->parser, XML_FALSE);
}

int phi_xmp_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset,
                 const char *where_prefix)
{
	/* the packet may sit in a padded segment: parse up to the last '>' */
	size_t end = n;
	while (end > 0 && p[end - 1] != '>')
		end--;
	if (end == 0 || end > INT32_MAX)
		return phi_img_runs(ctx, where_prefix, p, n, offset);
	struct xmp_state *st = calloc(1, sizeof *st);
	unsigned md = ctx->limits->max_depth ? ctx->limits->max_depth : 1;
	if (st && !(st->stack = calloc(md, sizeof *st->stack))) {
		free(st);
		st = NULL;
	}
	if (!st)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading XMP");
	st->max_depth = (int)md;
	st->ctx = ctx;
	st->p = p;
	st->n = end;
	st->offset = offset;
	st->prefix = where_prefix;
	st->parser = XML_ParserCreateNS(NULL, '|');
	if (!st->parser) {
		free(st->stack);
		free(st);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading XMP");
	}
	XML_SetUserData(st->parser, st);
	XML_SetElementHandler(st->parser, on_start, on_end);
	XML_SetCharacterDataHandler(st->parser, on_text);
	XML_SetEntityDeclHandler(st->parser, on_entity_decl);
	/* skip a leading BOM or junk before the first '<' */
	size_t start = 0;
	while (start < end && p[start] != '<')
		start++;
	st->p = p + start;
	st->n = end - start;
	if (offset != PHI_NO_OFFSET)
		st->offset = offset + start;
	enum XML_Status s = XML_Parse(st->parser, (const char *)st->p, (int)st->n, 1);
	int rc = st->rc;
	int fallback = !rc && (st->bad || s != XML_STATUS_OK);
	XML_ParserFree(st->parser);
	free(st->text);
	free(st->map);
	free(st->stack);
	free(st);
	if (fallback) {
		/* Not well-formed (or hostile): the values already emitted stay reported;
		 * the whole packet is scanned as text so nothing is missed. */
		return phi_img_runs(ctx, where_prefix, p, n, offset);
	}
	return rc;
}

int phi_xmp_orientation(const unsigned char *p, size_t n)
{
	static const char key[] = "tiff:Orientation";
	const unsigned char *q = p, *end = p + n;
	while (q < end) {
		const unsigned char *k = memmem(q, (size_t)(end - q), key, sizeof key - 1);
		if (!k)
			return 0;
		const unsigned char *v = k + sizeof key - 1;
		/* ="6", ='6' or >6< */
		if (end - v >= 3 && v[0] == '=' && (v[1] == '"' || v[1] == '\''))
			v += 2;
		else if (end - v >= 2 && v[0] == '>')
			v += 1;
		else {
			q = v;
			continue;
		}
		if (v < end && *v >= '1' && *v <= '8' && v + 1 < end &&
		    (v[1] == '"' || v[1] == '\'' || v[1] == '<'))
			return *v - '0';
		q = v;
	}
	return 0;
}
