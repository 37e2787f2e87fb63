/* exif.c - TIFF/Exif IFD reader and Exif field scanner (see exif.h).
 *
 * Specs: TIFF 6.0 section 2; Exif 3.0 4.6 (tags), 4.6.5 (UserComment), GPS
 * Info IFD 4.6.6; tag IDs cross-checked with exiftool lib/Image/ExifTool/Exif.pm.
 *
 * Fields: ASCII values go to the rules as text, or as structured values when the
 * tag identifies by what it is (Artist, CameraOwnerName, serial numbers,
 * ImageUniqueID, dates); XP* tags are decoded from UCS-2LE with a map back to the
 * file; UserComment honours its 8-byte character-code prefix; GPS latitude and
 * longitude become one "address" value per GPS IFD; MakerNote and other opaque
 * UNDEFINED values give their printable runs to the rules.
 *
 * Threading: reentrant.  Ownership: borrows the block; allocates only scratch for
 * decoded text, freed before return.
 */
#include "exif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icc.h"
#include "imgmeta.h"
#include "text.h"
#include "xmp.h"

enum { T_BYTE = 1, T_ASCII = 2, T_SHORT = 3, T_LONG = 4, T_RATIONAL = 5, T_UNDEF = 7,
       T_SRATIONAL = 10, T_IFD = 13, T_LONG8 = 16, T_IFD8 = 18 };

enum { K_TEXT, K_UCS2, K_USERCOMMENT, K_RUNS, K_XMP, K_IPTC, K_IRB, K_ICC, K_SKIP };

static const struct tagdef {
	uint16_t tag;
	const char *name;
	const char *cls;
	int sev;
	int kind;
} tagdefs[] = {
	{0x010D, "DocumentName", NULL, 0, K_TEXT},
	{0x010E, "ImageDescription", NULL, 0, K_TEXT},
	{0x010F, "Make", NULL, 0, K_TEXT},
	{0x0110, "Model", NULL, 0, K_TEXT},
	{0x011D, "PageName", NULL, 0, K_TEXT},
	{0x0131, "Software", NULL, 0, K_TEXT},
	{0x0132, "DateTime", "date", 0, K_TEXT},
	{0x013B, "Artist", "name", 1, K_TEXT},
	{0x013C, "HostComputer", NULL, 0, K_TEXT},
	{0x02BC, "XMP", NULL, 0, K_XMP},
	{0x8298, "Copyright", NULL, 0, K_TEXT},
	{0x83BB, "IPTC", NULL, 0, K_IPTC},
	{0x8649, "Photoshop", NULL, 0, K_IRB},
	{0x8773, "ICC_Profile", NULL, 0, K_ICC},
	{0x9003, "DateTimeOriginal", "date", 0, K_TEXT},
	{0x9004, "CreateDate", "date", 0, K_TEXT},
	{0x927C, "MakerNote", NULL, 0, K_RUNS},
	{0x9286, "UserComment", NULL, 0, K_USERCOMMENT},
	{0x935C, "ImageSourceData", NULL, 0, K_RUNS},
	{0x9C9B, "XPTitle", NULL, 0, K_UCS2},
	{0x9C9C, "XPComment", NULL, 0, K_UCS2},
	{0x9C9D, "XPAuthor", "name", 1, K_UCS2},
	{0x9C9E, "XPKeywords", NULL, 0, K_UCS2},
	{0x9C9F, "XPSubject", NULL, 0, K_UCS2},
	{0xA420, "ImageUniqueID", "id", 0, K_TEXT},
	{0xA430, "CameraOwnerName", "name", 1, K_TEXT},
	{0xA431, "BodySerialNumber", "device", 0, K_TEXT},
	{0xA433, "LensMake", NULL, 0, K_TEXT},
	{0xA434, "LensModel", NULL, 0, K_TEXT},
	{0xA435, "LensSerialNumber", "device", 0, K_TEXT},
	{0xA436, "ImageTitle", NULL, 0, K_TEXT},
	{0xA437, "Photographer", "name", 1, K_TEXT},
	{0xA438, "ImageEditor", "name", 1, K_TEXT},
	{0xC4A5, "PrintIM", NULL, 0, K_SKIP},
};

/* GPS IFD ASCII/UNDEFINED tags (Exif 3.0 4.6.6) */
static const struct tagdef gpsdefs[] = {
	{0x001B, "GPSProcessingMethod", NULL, 0, K_USERCOMMENT},
	{0x001C, "GPSAreaInformation", "address", 0, K_USERCOMMENT},
	{0x001D, "GPSDateStamp", "date", 0, K_TEXT},
};

int phi_exif_structural(uint16_t tag)
{
	switch (tag) {
	case 0x0111: case 0x0117: case 0x0144: case 0x0145: /* strip/tile offsets, counts */
	case 0x0140: case 0x0201: case 0x0202: case 0x015B: /* ColorMap, thumbnail, JPEGTables */
	case 0x8773: case 0xC4A5:                           /* ICC, PrintIM */
	case 0x828E: case 0xC612: case 0xC613: case 0xC616: /* CFAPattern, DNGVersion,
	                                                       DNGBackwardVersion, CFAPlaneColor */
		return 1;
	default:
		return 0;
	}
}

int phi_tiff_init(struct phi_tiff *t, const unsigned char *p, size_t n, uint64_t *ifd0,
                  const struct phi_limits *lim)
{
	struct phi_limits def;
	if (!lim) {
		phi_limits_default(&def);
		lim = &def;
	}
	memset(t, 0, sizeof *t);
	t->p = p;
	t->n = n;
	t->max_entries = lim->max_ifd_entries;
	if (n < 8)
		return PHI_EFORMAT;
	if (p[0] == 'I' && p[1] == 'I')
		t->be = 0;
	else if (p[0] == 'M' && p[1] == 'M')
		t->be = 1;
	else
		return PHI_EFORMAT;
	unsigned version = phi_tiff_u16(t, 2);
	if (version == 42) {
		*ifd0 = phi_tiff_u32(t, 4);
		return 0;
	}
	/* BigTIFF: version 43, offset size 8, a zero, then the first IFD as 8 bytes */
	if (version != 43 || n < 16 || phi_tiff_u16(t, 4) != 8 || phi_tiff_u16(t, 6) != 0)
		return PHI_EFORMAT;
	t->big = 1;
	*ifd0 = phi_tiff_u64(t, 8);
	return 0;
}

uint16_t phi_tiff_u16(const struct phi_tiff *t, size_t off)
{
	if (off > t->n || t->n - off < 2)
		return 0;
	const unsigned char *q = t->p + off;
	return t->be ? (uint16_t)(q[0] << 8 | q[1]) : (uint16_t)(q[1] << 8 | q[0]);
}

uint32_t phi_tiff_u32(const struct phi_tiff *t, size_t off)
{
	if (off > t->n || t->n - off < 4)
		return 0;
	const unsigned char *q = t->p + off;
	return t->be ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]
	             : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

uint64_t phi_tiff_u64(const struct phi_tiff *t, size_t off)
{
	if (off > t->n || t->n - off < 8)
		return 0;
	uint64_t a = phi_tiff_u32(t, off), b = phi_tiff_u32(t, off + 4);
	return t->be ? a << 32 | b : b << 32 | a;
}

unsigned phi_tiff_type_size(uint16_t type)
{
	static const unsigned sz[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8};
	return type < sizeof sz / sizeof sz[0] ? sz[type] : 0;
}

int phi_tiff_is_ifd_type(uint16_t type)
{
	return type == T_LONG || type == T_IFD || type == T_LONG8 || type == T_IFD8;
}

int phi_tiff_ifd(const struct phi_tiff *t, uint64_t off, unsigned *nent, uint64_t *next)
{
	unsigned csz = t->big ? 8 : 2, esz = t->big ? 20 : 12, nsz = t->big ? 8 : 4;
	if (off < (t->big ? 16u : 8u) || off > t->n || t->n - off < csz)
		return PHI_EFORMAT;
	uint64_t k = t->big ? phi_tiff_u64(t, (size_t)off) : phi_tiff_u16(t, (size_t)off);
	if (k > t->max_entries)
		return PHI_ELIMIT;
	uint64_t end = off + csz + esz * k;
	if (end > t->n)
		return PHI_EFORMAT;
	/* a missing next-IFD pointer at the very end is common: accept the entries */
	if (t->n - end < nsz)
		*next = 0;
	else
		*next = t->big ? phi_tiff_u64(t, (size_t)end) : phi_tiff_u32(t, (size_t)end);
	*nent = (unsigned)k;
	return 0;
}

void phi_tiff_entry_at(const struct phi_tiff *t, uint64_t ifd, unsigned i,
                       struct phi_tiff_entry *e)
{
	size_t eo = t->big ? (size_t)ifd + 8 + 20u * i : (size_t)ifd + 2 + 12u * i;
	size_t vo = eo + (t->big ? 12 : 8);
	unsigned ts = phi_tiff_type_size(phi_tiff_u16(t, eo + 2));
	e->eoff = eo;
	e->tag = phi_tiff_u16(t, eo);
	e->type = phi_tiff_u16(t, eo + 2);
	e->count = t->big ? phi_tiff_u64(t, eo + 4) : phi_tiff_u32(t, eo + 4);
	e->size = ts && e->count > UINT64_MAX / ts ? UINT64_MAX : e->count * ts;
	if (e->size <= PHI_TIFF_INLINE(t)) {
		e->voff = vo;
	} else {
		uint64_t v = t->big ? phi_tiff_u64(t, vo) : phi_tiff_u32(t, vo);
		e->voff = v > t->n ? t->n + 1 : (size_t)v;
	}
	e->in_range = ts != 0 && e->voff <= t->n && e->size <= t->n - e->voff;
}

uint64_t phi_tiff_int(const struct phi_tiff *t, const struct phi_tiff_entry *e, uint64_t i)
{
	if (!e->in_range || i >= e->count)
		return 0;
	switch (e->type) {
	case T_BYTE: case T_UNDEF: return t->p[e->voff + i];
	case T_SHORT: return phi_tiff_u16(t, e->voff + 2u * i);
	case T_LONG: case T_IFD: return phi_tiff_u32(t, e->voff + 4u * i);
	case T_LONG8: case T_IFD8: return phi_tiff_u64(t, e->voff + 8u * i);
	default: return 0;
	}
}

void phi_exif_mini(unsigned char out[PHI_EXIF_MINI_LEN], int orientation)
{
	static const unsigned char tmpl[PHI_EXIF_MINI_LEN] = {
		'I', 'I', 42, 0, 8, 0, 0, 0,      /* header, IFD0 at 8 */
		1, 0,                             /* one entry */
		0x12, 0x01, 3, 0, 1, 0, 0, 0,     /* Orientation, SHORT, 1 */
		1, 0, 0, 0,                       /* value */
		0, 0, 0, 0,                       /* no next IFD */
	};
	memcpy(out, tmpl, sizeof tmpl);
	out[18] = (unsigned char)orientation;
}

struct walk {
	struct phi_fctx *ctx;
	struct phi_tiff t;
	uint64_t offset;
	const char *prefix;
	int strict;
	uint64_t *seen; /* limits->max_ifds entries */
	unsigned nseen;
	struct phi_exif_info info;
};

static uint64_t at(const struct walk *w, size_t off)
{
	return w->offset == PHI_NO_OFFSET ? PHI_NO_OFFSET : w->offset + off;
}

static int emit_ucs2(struct walk *w, const char *where, const unsigned char *s, size_t n,
                     int be, size_t voff, const char *cls, int sev)
{
	n &= ~(size_t)1;
	while (n >= 2 && s[n - 1] == 0 && s[n - 2] == 0)
		n -= 2;
	if (n == 0)
		return 0;
	unsigned char *d = malloc(3 * (n / 2) + 1);
	uint32_t *m = malloc((3 * (n / 2) + 1) * sizeof *m);
	int rc;
	if (!d || !m) {
		rc = phi_fail(w->ctx->err, PHI_ENOMEM, "out of memory decoding Exif text");
	} else {
		long dn = phi_utf16_to_utf8(s, n, be, d, m);
		rc = dn < 0 ? 0
		            : phi_img_field(w->ctx, where, d, (size_t)dn, at(w, voff),
		                            w->offset == PHI_NO_OFFSET ? NULL : m, cls, "exif-tag",
		                            sev);
	}
	free(d);
	free(m);
	return rc;
}

static int emit_entry(struct walk *w, const char *ifdname, const struct phi_tiff_entry *e,
                      const struct tagdef *defs, size_t ndefs)
{
	const struct tagdef *d = NULL;
	for (size_t i = 0; i < ndefs; i++)
		if (defs[i].tag == e->tag)
			d = &defs[i];
	char where[128];
	if (d)
		snprintf(where, sizeof where, "%s %s %s (0x%04x)", w->prefix, ifdname, d->name, e->tag);
	else
		snprintf(where, sizeof where, "%s %s tag 0x%04x", w->prefix, ifdname, e->tag);
	const unsigned char *v = w->t.p + e->voff;
	size_t n = (size_t)e->size;
	int kind = d ? d->kind : (e->type == T_ASCII ? K_TEXT : K_RUNS);
	if (!d && e->type != T_ASCII && e->type != T_UNDEF && e->type != T_BYTE)
		return 0; /* numbers */
	if (!d && phi_exif_structural(e->tag))
		return 0;
	const char *cls = d ? d->cls : NULL;
	int sev = d ? d->sev : 0;
	switch (kind) {
	case K_TEXT:
		return phi_img_field(w->ctx, where, v, n, at(w, e->voff), NULL, cls, "exif-tag", sev);
	case K_UCS2:
		return emit_ucs2(w, where, v, n, 0, e->voff, cls, sev);
	case K_USERCOMMENT:
		if (n < 8)
			return phi_img_field(w->ctx, where, v, n, at(w, e->voff), NULL, cls, "exif-tag",
			                     sev);
		if (!memcmp(v, "UNICODE\0", 8))
			return emit_ucs2(w, where, v + 8, n - 8, w->t.be, e->voff + 8, cls, sev);
		return phi_img_field(w->ctx, where, v + 8, n - 8, at(w, e->voff + 8), NULL, cls,
		                     "exif-tag", sev);
	case K_XMP:
		return phi_xmp_scan(w->ctx, v, n, at(w, e->voff), "XMP");
	case K_IPTC:
		return phi_iptc_scan(w->ctx, v, n, at(w, e->voff));
	case K_IRB:
		return phi_irb_scan(w->ctx, v, n, at(w, e->voff));
	case K_RUNS:
		return phi_img_runs(w->ctx, where, v, n, at(w, e->voff));
	case K_ICC: {
		if (w->info.skip_icc)
			return 0;
		struct phi_icc_result r;
		unsigned char *patch = w->info.icc_patch ? w->info.icc_patch + e->voff : NULL;
		int rc = phi_icc_scan(w->ctx, v, n, at(w, e->voff), where, patch, &r);
		w->info.icc_blanked += r.blanked;
		w->info.icc_unparsed += (unsigned)r.unparsed;
		return rc;
	}
	default:
		return 0;
	}
}

/* GPSLatitude/GPSLongitude as "deg min sec" text, one structured value for both. */
static int emit_gps(struct walk *w, const struct phi_tiff_entry *lat,
                    const struct phi_tiff_entry *lon)
{
	char txt[160];
	size_t n = 0;
	const struct phi_tiff_entry *es[2] = {lat, lon};
	size_t lo = SIZE_MAX, hi = 0;
	for (int k = 0; k < 2; k++) {
		const struct phi_tiff_entry *e = es[k];
		if (!e || !e->in_range || e->type != T_RATIONAL || e->count < 3)
			continue;
		n += (size_t)snprintf(txt + n, sizeof txt - n, "%s", n ? ", " : "");
		for (unsigned i = 0; i < 3; i++) {
			uint32_t a = phi_tiff_u32(&w->t, e->voff + 8u * i);
			uint32_t b = phi_tiff_u32(&w->t, e->voff + 8u * i + 4);
			double x = b ? (double)a / b : 0.0;
			n += (size_t)snprintf(txt + n, sizeof txt - n, "%s%.4g", i ? " " : "", x);
		}
		if (e->voff < lo)
			lo = e->voff;
		if (e->voff + 24 > hi)
			hi = e->voff + 24;
	}
	if (n == 0)
		return 0;
	uint32_t map[sizeof txt + 1];
	for (size_t i = 0; i < n; i++)
		map[i] = 0;
	map[n] = (uint32_t)(hi - lo);
	int has_off = w->offset != PHI_NO_OFFSET;
	return phi_img_field(w->ctx, "Exif GPS position (0x0002, 0x0004)",
	                     (const unsigned char *)txt, n, has_off ? w->offset + lo : PHI_NO_OFFSET,
	                     has_off ? map : NULL, "address", "exif-tag", 0);
}

static int skip(struct walk *w, const char *what)
{
	w->info.skipped++;
	if (w->strict)
		return phi_fail(w->ctx->err, PHI_EFORMAT, "%s %s points outside the file", w->prefix,
		                what);
	return 0;
}

enum { IFD_MAIN, IFD_EXIF, IFD_GPS, IFD_INTEROP, IFD_SUB };

static int walk_ifd(struct walk *w, uint64_t off, int kind, unsigned depth, unsigned index);

static int walk_chain(struct walk *w, uint64_t off, int kind, unsigned depth)
{
	for (unsigned index = 0; off; index++) {
		for (unsigned i = 0; i < w->nseen; i++)
			if (w->seen[i] == off) {
				w->info.skipped++; /* a loop: every IFD is read once */
				return 0;
			}
		if (w->nseen == w->ctx->limits->max_ifds)
			return phi_fail(w->ctx->err, PHI_ELIMIT, "%s holds more than %u IFDs", w->prefix,
			                w->ctx->limits->max_ifds);
		w->seen[w->nseen++] = off;
		unsigned nent;
		uint64_t next;
		int rc = phi_tiff_ifd(&w->t, off, &nent, &next);
		if (rc == PHI_ELIMIT)
			return phi_fail(w->ctx->err, rc, "%s IFD has more than %u entries", w->prefix,
			                w->t.max_entries);
		if (rc)
			return skip(w, "IFD");
		w->info.ifds++;
		if ((rc = walk_ifd(w, off, kind, depth, index)))
			return rc;
		if (kind != IFD_MAIN && kind != IFD_SUB)
			break; /* Exif, GPS and Interop IFDs have no chain */
		off = next;
	}
	return 0;
}

static int walk_ifd(struct walk *w, uint64_t off, int kind, unsigned depth, unsigned index)
{
	unsigned nent;
	uint64_t next;
	int rc = phi_tiff_ifd(&w->t, off, &nent, &next);
	if (rc)
		return rc;
	char ifdname[32];
	switch (kind) {
	case IFD_MAIN: snprintf(ifdname, sizeof ifdname, "IFD%u", index); break;
	case IFD_EXIF: snprintf(ifdname, sizeof ifdname, "ExifIFD"); break;
	case IFD_GPS: snprintf(ifdname, sizeof ifdname, "GPS"); break;
	case IFD_INTEROP: snprintf(ifdname, sizeof ifdname, "InteropIFD"); break;
	default: snprintf(ifdname, sizeof ifdname, "SubIFD"); break;
	}
	struct phi_tiff_entry lat = {0}, lon = {0};
	int has_lat = 0, has_lon = 0;
	for (unsigned i = 0; i < nent; i++) {
		struct phi_tiff_entry e;
		phi_tiff_entry_at(&w->t, off, i, &e);
		if (phi_tiff_type_size(e.type) == 0)
			continue; /* unknown type: TIFF 6.0 says skip it */
		if (!e.in_range) {
			if ((rc = skip(w, "value")))
				return rc;
			continue;
		}
		if (kind == IFD_MAIN && index == 0 && e.tag == 0x0112 && e.type == T_SHORT &&
		    e.count >= 1 && w->info.orientation == 0) {
			uint64_t o = phi_tiff_int(&w->t, &e, 0);
			if (o >= 1 && o <= 8)
				w->info.orientation = (int)o;
		}
		int sub = -1;
		if (kind != IFD_GPS) {
			if (e.tag == 0x8769)
				sub = IFD_EXIF;
			else if (e.tag == 0x8825)
				sub = IFD_GPS;
			else if (e.tag == 0xA005)
				sub = IFD_INTEROP;
			else if (e.tag == 0x014A)
				sub = IFD_SUB;
		}
		if (sub >= 0 && phi_tiff_is_ifd_type(e.type)) {
			if (depth >= w->ctx->limits->max_ifd_depth) {
				w->info.skipped++;
				continue;
			}
			uint64_t cnt = e.count > 64 ? 64 : e.count;
			for (uint64_t j = 0; j < cnt; j++) {
				uint64_t so = phi_tiff_int(&w->t, &e, j);
				if (so && (rc = walk_chain(w, so, sub, depth + 1)))
					return rc;
			}
			continue;
		}
		if (kind == IFD_GPS) {
			if (e.tag == 2) {
				lat = e;
				has_lat = 1;
			} else if (e.tag == 4) {
				lon = e;
				has_lon = 1;
			}
			if (e.type == T_ASCII || e.type == T_UNDEF)
				rc = emit_entry(w, ifdname, &e, gpsdefs, sizeof gpsdefs / sizeof gpsdefs[0]);
		} else {
			rc = emit_entry(w, ifdname, &e, tagdefs, sizeof tagdefs / sizeof tagdefs[0]);
		}
		if (rc)
			return rc;
	}
	if (has_lat || has_lon)
		return emit_gps(w, has_lat ? &lat : NULL, has_lon ? &lon : NULL);
	return 0;
}

int phi_exif_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset,
                  const char *prefix, int strict, struct phi_exif_info *info)
{
	struct walk *w = calloc(1, sizeof *w);
	uint64_t ifd0;
	if (w)
		w->seen = calloc(ctx->limits->max_ifds ? ctx->limits->max_ifds : 1, sizeof *w->seen);
	if (!w || !w->seen) {
		free(w);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading Exif");
	}
	w->ctx = ctx;
	w->offset = offset;
	w->prefix = prefix;
	w->strict = strict;
	if (info) {
		w->info.icc_patch = info->icc_patch;
		w->info.skip_icc = info->skip_icc;
	}
	int rc = phi_tiff_init(&w->t, p, n, &ifd0, ctx->limits);
	if (rc)
		rc = phi_fail(ctx->err, PHI_EFORMAT, "%s structure has no TIFF header", prefix);
	else
		rc = walk_chain(w, ifd0, IFD_MAIN, 0);
	if (info)
		*info = w->info;
	free(w->seen);
	free(w);
	return rc;
}
