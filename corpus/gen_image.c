/* gen_image.c - synthetic photos and radiograph images (JPEG, PNG, TIFF) for the corpus.
 *
 * Included by gencase.c (one translation unit: it uses gencase's rng, doc and case
 * data).  Each generator writes the file's raw bytes into d->b and records every
 * planted identifier with d_addspan(d, start, end, class, mode) in byte offsets;
 * GEN_IMAGE_FILES lists the files a case gets as filespec rows {name, gen, CS_RAW, 0}.
 *
 * The files are small but valid (djpeg, libpng and libtiff decode them): a 16x16
 * baseline JPEG's tables and scan are embedded below (made once with cjpeg -quality
 * 85 -optimize from a gradient); PNG IDAT and the iCCP profile are deflated with
 * zlib here; the TIFF pages are uncompressed 8x8 greyscale.  Identifiers sit in
 * every place image-metadata.md lists: Exif IFD0/ExifIFD/GPS (ASCII, UCS-2 XP*,
 * UserComment), XMP (dc:creator, PersonInImage, XMP-DICOM), IPTC in APP13, COM, the
 * ICC profile description,
 * a trailer after EOI; PNG tEXt/iTXt/eXIf/tIME and a private chunk; TIFF
 * DocumentName/Artist/DateTime/PageName on two pages and XMP tag 700.
 * Compressed text (zTXt) holds no identifier: its findings have no byte offset.
 */

#include <zlib.h>

/* Tables and scan of a 16x16 colour baseline JPEG (SOI, APP0 and EOI removed). */
static const unsigned char gi_jpeg_body[] = {
	0xff, 0xdb, 0x00, 0x43, 0x00, 0x05, 0x03, 0x04, 0x04, 0x04, 0x03, 0x05, 0x04, 0x04, 0x04, 0x05,
	0x05, 0x05, 0x06, 0x07, 0x0c, 0x08, 0x07, 0x07, 0x07, 0x07, 0x0f, 0x0b, 0x0b, 0x09, 0x0c, 0x11,
	0x0f, 0x12, 0x12, 0x11, 0x0f, 0x11, 0x11, 0x13, 0x16, 0x1c, 0x17, 0x13, 0x14, 0x1a, 0x15, 0x11,
	0x11, 0x18, 0x21, 0x18, 0x1a, 0x1d, 0x1d, 0x1f, 0x1f, 0x1f, 0x13, 0x17, 0x22, 0x24, 0x22, 0x1e,
	0x24, 0x1c, 0x1e, 0x1f, 0x1e, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x05, 0x05, 0x05, 0x07, 0x06, 0x07,
	0x0e, 0x08, 0x08, 0x0e, 0x1e, 0x14, 0x11, 0x14, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e,
	0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e,
	0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e,
	0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00,
	0x10, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
	0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x06, 0x07, 0xff, 0xc4, 0x00, 0x19, 0x10, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0x23, 0x32, 0xa1, 0xff,
	0xc4, 0x00, 0x15, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0xff, 0xc4, 0x00, 0x1a, 0x11, 0x00, 0x02, 0x02, 0x03, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x05, 0x21, 0x22,
	0x31, 0x32, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00,
	0x8c, 0xa1, 0x35, 0x2b, 0x1e, 0x0f, 0x50, 0x9a, 0x95, 0x8f, 0x07, 0x68, 0x4d, 0x4a, 0xc7, 0x83,
	0xd4, 0x26, 0xa5, 0x62, 0xc2, 0xd2, 0x8c, 0xfb, 0xb0, 0x45, 0x71, 0xe7, 0x23,
};

static void gi_u8(struct doc *d, unsigned v)
{
	b_putc(&d->b, (char)(unsigned char)v);
}

static void gi_u16(struct doc *d, unsigned v, int be)
{
	unsigned char x[2];
	x[be ? 0 : 1] = (unsigned char)(v >> 8);
	x[be ? 1 : 0] = (unsigned char)v;
	b_put(&d->b, x, 2);
}

static void gi_u32(struct doc *d, uint32_t v, int be)
{
	unsigned char x[4];
	for (int i = 0; i < 4; i++)
		x[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
	b_put(&d->b, x, 4);
}

static void gi_set16(struct doc *d, size_t at, unsigned v, int be)
{
	d->b.p[at + (be ? 0 : 1)] = (char)(unsigned char)(v >> 8);
	d->b.p[at + (be ? 1 : 0)] = (char)(unsigned char)v;
}

static void gi_set32(struct doc *d, size_t at, uint32_t v, int be)
{
	for (int i = 0; i < 4; i++)
		d->b.p[at + (size_t)(be ? 3 - i : i)] = (char)(unsigned char)(v >> (8 * i));
}

/* One IFD entry to write.  Text values (ASCII, UCS-2) are spanned with cls when
 * cls >= 0 over [span_from, span_to) of the value bytes (span_to 0 = to the end,
 * NUL excluded). */
struct gi_ent {
	uint16_t tag, type;
	uint32_t count;
	const void *data; /* value bytes (count * type size), or NULL for a number */
	uint32_t num;     /* inline SHORT/LONG when data is NULL */
	int cls;
	size_t span_from, span_to;
	size_t *valpos; /* receives the file position of the value (or value field) */
};

static unsigned gi_tsize(uint16_t type)
{
	static const unsigned sz[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
	return type < NELEM(sz) ? sz[type] : 0;
}

/* Write an IFD at the current position (word aligned), values after it; tiff0 is
 * the position of the TIFF header.  Returns the position of the next-IFD field. */
static size_t gi_ifd(struct doc *d, size_t tiff0, struct gi_ent *e, int n, int be)
{
	if ((d->b.n - tiff0) & 1)
		gi_u8(d, 0);
	gi_u16(d, (unsigned)n, be);
	size_t ent0 = d->b.n;
	for (int i = 0; i < n; i++) {
		gi_u16(d, e[i].tag, be);
		gi_u16(d, e[i].type, be);
		gi_u32(d, e[i].count, be);
		gi_u32(d, 0, be);
	}
	size_t next = d->b.n;
	gi_u32(d, 0, be);
	for (int i = 0; i < n; i++) {
		size_t vf = ent0 + 12u * (size_t)i + 8;
		size_t sz = (size_t)e[i].count * gi_tsize(e[i].type), at = vf;
		if (!e[i].data) {
			if (e[i].type == 3)
				gi_set16(d, vf, e[i].num, be);
			else
				gi_set32(d, vf, e[i].num, be);
		} else if (sz <= 4) {
			memcpy(d->b.p + vf, e[i].data, sz);
		} else {
			if ((d->b.n - tiff0) & 1)
				gi_u8(d, 0);
			at = d->b.n;
			gi_set32(d, vf, (uint32_t)(at - tiff0), be);
			b_put(&d->b, e[i].data, sz);
		}
		if (e[i].valpos)
			*e[i].valpos = e[i].data ? at : vf;
		if (e[i].cls >= 0 && e[i].data) {
			size_t end = e[i].span_to ? e[i].span_to : sz;
			const unsigned char *v = e[i].data;
			while (end > e[i].span_from && v[end - 1] == 0)
				end--;
			d_addspan(d, at + e[i].span_from, at + end, e[i].cls, M_DEFAULT);
		}
	}
	return next;
}

#define GI_ASCII(tag_, s_, cls_, from_) \
	{(tag_), 2, (uint32_t)strlen(s_) + 1, (s_), 0, (cls_), (from_), 0, NULL}

static void gi_exif_date(char *out, size_t cap, struct ymd a, struct rng *r)
{
	snprintf(out, cap, "%04d:%02d:%02d %02d:%02d:%02d", a.y, a.m, a.d, rnd_range(r, 8, 17),
	         rnd_range(r, 0, 59), rnd_range(r, 0, 59));
}

/* UCS-2LE of an ASCII/UTF-8 (Latin-1 range) string, NUL-terminated; returns bytes. */
static size_t gi_ucs2(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && n + 4 <= cap) {
		unsigned cp = *p++;
		if ((cp & 0xE0) == 0xC0 && *p) {
			cp = ((cp & 0x1F) << 6) | (*p++ & 0x3F);
		}
		out[n++] = (unsigned char)cp;
		out[n++] = (unsigned char)(cp >> 8);
	}
	out[n++] = 0;
	out[n++] = 0;
	return n;
}

/* A little-endian Exif TIFF structure for photos: IFD0, ExifIFD, GPS. */
static void gi_exif(struct doc *d, struct rng *r, const struct casedata *c, int orientation)
{
	size_t tiff0 = d->b.n;
	char desc[160], artist[96], date[32], date2[32], ucom[200], owner[96];
	unsigned char xpc[400];
	static const char prefix[] = "Patient: ";
	snprintf(desc, sizeof desc, "%s%s %s", prefix, c->pg, c->pf);
	snprintf(artist, sizeof artist, "%s %s", c->dg, c->df);
	snprintf(owner, sizeof owner, "%s %s", c->dg, c->df);
	gi_exif_date(date, sizeof date, c->dos, r);
	gi_exif_date(date2, sizeof date2, c->dos, r);
	memcpy(ucom, "ASCII\0\0\0", 8);
	int ul = snprintf(ucom + 8, sizeof ucom - 8, "%s%s %s", prefix, c->pg, c->pf);
	char xp[128];
	snprintf(xp, sizeof xp, "%s%s %s", prefix, c->pg, c->pf);
	size_t xpl = gi_ucs2(xp, xpc, sizeof xpc);
	size_t exif_ptr = 0, gps_ptr = 0;
	b_put(&d->b, "II*\0\x08\0\0\0", 8);
	struct gi_ent ifd0[] = {
		GI_ASCII(0x010E, desc, C_NAME, sizeof prefix - 1),
		{0x0112, 3, 1, NULL, (uint32_t)orientation, -1, 0, 0, NULL},
		GI_ASCII(0x0132, date, C_DATE, 0),
		GI_ASCII(0x013B, artist, C_NAME, 0),
		{0x8769, 4, 1, NULL, 0, -1, 0, 0, &exif_ptr},
		{0x8825, 4, 1, NULL, 0, -1, 0, 0, &gps_ptr},
		{0x9C9C, 1, (uint32_t)xpl, xpc, 0, C_NAME, 2 * (sizeof prefix - 1), 0, NULL},
	};
	gi_ifd(d, tiff0, ifd0, (int)NELEM(ifd0), 0);
	if ((d->b.n - tiff0) & 1)
		gi_u8(d, 0);
	gi_set32(d, exif_ptr, (uint32_t)(d->b.n - tiff0), 0);
	struct gi_ent exif[] = {
		GI_ASCII(0x9003, date2, C_DATE, 0),
		{0x9286, 7, (uint32_t)(8 + ul), ucom, 0, C_NAME, 8 + sizeof prefix - 1, 0, NULL},
		GI_ASCII(0xA430, owner, C_NAME, 0),
		GI_ASCII(0xA431, c->scanner_sn[0] ? c->scanner_sn : c->serial, C_DEVICE, 0),
	};
	gi_ifd(d, tiff0, exif, (int)NELEM(exif), 0);
	if ((d->b.n - tiff0) & 1)
		gi_u8(d, 0);
	gi_set32(d, gps_ptr, (uint32_t)(d->b.n - tiff0), 0);
	unsigned char lat[24], lon[24];
	uint32_t lv[6] = {(uint32_t)rnd_range(r, 25, 48), 1, (uint32_t)rnd_range(r, 0, 59), 1,
	                  (uint32_t)rnd_range(r, 0, 5999), 100};
	uint32_t gv[6] = {(uint32_t)rnd_range(r, 70, 122), 1, (uint32_t)rnd_range(r, 0, 59), 1,
	                  (uint32_t)rnd_range(r, 0, 5999), 100};
	for (int i = 0; i < 6; i++)
		for (int k = 0; k < 4; k++) {
			lat[4 * i + k] = (unsigned char)(lv[i] >> (8 * k));
			lon[4 * i + k] = (unsigned char)(gv[i] >> (8 * k));
		}
	size_t latpos = 0, lonpos = 0;
	struct gi_ent gps[] = {
		{1, 2, 2, "N", 0, -1, 0, 0, NULL},
		{2, 5, 3, lat, 0, -1, 0, 0, &latpos},
		{3, 2, 2, "W", 0, -1, 0, 0, NULL},
		{4, 5, 3, lon, 0, -1, 0, 0, &lonpos},
	};
	gi_ifd(d, tiff0, gps, (int)NELEM(gps), 0);
	d_addspan(d, latpos, lonpos + 24, C_ADDRESS, M_DEFAULT);
}

/* An XMP packet: creator (dentist), person in image and XMP-DICOM patient fields. */
static void gi_xmp(struct doc *d, const struct casedata *c)
{
	T(d, "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
	     "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
	     "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
	     "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
	     " xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\"\n"
	     " xmlns:DICOM=\"http://ns.adobe.com/DICOM/\">\n"
	     "<dc:creator><rdf:Seq><rdf:li>");
	V(d, C_NAME, "%s %s", c->dg, c->df);
	T(d, "</rdf:li></rdf:Seq></dc:creator>\n<Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>");
	V(d, C_NAME, "%s %s", c->pg, c->pf);
	T(d, "</rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImage>\n<DICOM:PatientID>");
	V(d, C_MRN, "%s", c->mrn);
	T(d, "</DICOM:PatientID>\n<DICOM:PatientDOB>");
	V(d, C_DATE, "%04d-%02d-%02d", c->dob.y, c->dob.m, c->dob.d);
	T(d, "</DICOM:PatientDOB>\n<dc:subject><rdf:Bag><rdf:li>intraoral</rdf:li>"
	     "<rdf:li>shade</rdf:li></rdf:Bag></dc:subject>\n"
	     "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>");
}

static size_t gi_seg_begin(struct doc *d, unsigned marker)
{
	gi_u8(d, 0xFF);
	gi_u8(d, marker);
	size_t at = d->b.n;
	gi_u16(d, 0, 1);
	return at;
}

static void gi_seg_end(struct doc *d, size_t at)
{
	gi_set16(d, at, (unsigned)(d->b.n - at), 1);
}

static void gen_jpeg_smile(struct doc *d, struct rng *r, const struct casedata *c)
{
	size_t at;
	gi_u8(d, 0xFF);
	gi_u8(d, 0xD8);
	/* JFIF APP0, no thumbnail */
	at = gi_seg_begin(d, 0xE0);
	b_put(&d->b, "JFIF\0\x01\x01\x01\x00\x48\x00\x48\x00\x00", 14);
	gi_seg_end(d, at);
	/* Exif APP1 with Orientation 6 */
	at = gi_seg_begin(d, 0xE1);
	b_put(&d->b, "Exif\0\0", 6);
	gi_exif(d, r, c, 6);
	gi_seg_end(d, at);
	/* XMP APP1 */
	at = gi_seg_begin(d, 0xE1);
	b_put(&d->b, "http://ns.adobe.com/xap/1.0/", 29);
	gi_xmp(d, c);
	gi_seg_end(d, at);
	/* ICC_PROFILE APP2, one chunk: a v2 profile whose only tag is its description
	 * (textDescriptionType), named after the patient the way a calibration tool
	 * names a profile; strip keeps the profile and blanks that text (icc.c) */
	at = gi_seg_begin(d, 0xE2);
	b_put(&d->b, "ICC_PROFILE\0\x01\x01", 14);
	char icc_desc[128];
	snprintf(icc_desc, sizeof icc_desc, "Patient: %s %s", c->pga, c->pfa);
	for (size_t i = 9; icc_desc[i]; i++) /* the ASCII forms are lower case: Ines Garcao */
		if (icc_desc[i - 1] == ' ' && icc_desc[i] >= 'a' && icc_desc[i] <= 'z')
			icc_desc[i] = (char)(icc_desc[i] - 'a' + 'A');
	size_t ialen = strlen(icc_desc) + 1, itag = 12 + ialen + 8 + 3 + 67;
	itag = (itag + 3) & ~(size_t)3;
	size_t p0 = d->b.n;
	for (int i = 0; i < 128; i++)
		gi_u8(d, (i >= 36 && i < 40) ? (unsigned)"acsp"[i - 36] : 0);
	gi_u32(d, 1, 1);
	b_put(&d->b, "desc", 4), gi_u32(d, 144, 1), gi_u32(d, (uint32_t)itag, 1);
	size_t t0 = d->b.n;
	b_put(&d->b, "desc\0\0\0\0", 8);
	gi_u32(d, (uint32_t)ialen, 1);
	size_t is = d->b.n;
	b_put(&d->b, icc_desc, ialen);
	d_addspan(d, is + 9, is + ialen - 1, C_NAME, M_DEFAULT);
	while (d->b.n - t0 < itag)
		gi_u8(d, 0); /* no Unicode or ScriptCode description */
	gi_set32(d, p0, (uint32_t)(d->b.n - p0), 1);
	gi_seg_end(d, at);
	/* APP13 Photoshop IPTC: By-line and Caption */
	at = gi_seg_begin(d, 0xED);
	b_put(&d->b, "Photoshop 3.0\0" "8BIM\x04\x04\0\0", 22);
	size_t rlen = d->b.n;
	gi_u32(d, 0, 1);
	size_t r0 = d->b.n;
	char by[96], cap[160];
	snprintf(by, sizeof by, "%s %s", c->dg, c->df);
	snprintf(cap, sizeof cap, "Smile photo of %s %s", c->pg, c->pf);
	gi_u8(d, 0x1C), gi_u8(d, 2), gi_u8(d, 80), gi_u16(d, (unsigned)strlen(by), 1);
	size_t s = d->b.n;
	b_puts(&d->b, by);
	d_addspan(d, s, d->b.n, C_NAME, M_DEFAULT);
	gi_u8(d, 0x1C), gi_u8(d, 2), gi_u8(d, 120), gi_u16(d, (unsigned)strlen(cap), 1);
	s = d->b.n;
	b_puts(&d->b, cap);
	d_addspan(d, s + 15, d->b.n, C_NAME, M_DEFAULT);
	gi_set32(d, rlen, (uint32_t)(d->b.n - r0), 1);
	if ((d->b.n - r0) & 1)
		gi_u8(d, 0);
	gi_seg_end(d, at);
	/* COM */
	at = gi_seg_begin(d, 0xFE);
	T(d, "Patient: ");
	V(d, C_NAME, "%s %s", c->pg, c->pf);
	gi_seg_end(d, at);
	b_put(&d->b, gi_jpeg_body, sizeof gi_jpeg_body);
	gi_u8(d, 0xFF);
	gi_u8(d, 0xD9);
	/* a trailer after EOI, as some camera apps append */
	T(d, "\nPatient: ");
	V(d, C_NAME, "%s %s", c->pg, c->pf);
	T(d, "\n");
}

static void gi_chunk_begin(struct doc *d, const char *type, size_t *at)
{
	*at = d->b.n;
	gi_u32(d, 0, 1);
	b_put(&d->b, type, 4);
}

static void gi_chunk_end(struct doc *d, size_t at)
{
	size_t len = d->b.n - at - 8;
	gi_set32(d, at, (uint32_t)len, 1);
	uLong crc = crc32(0, (const Bytef *)d->b.p + at + 4, (uInt)(len + 4));
	gi_u32(d, (uint32_t)crc, 1);
}

static void gen_png_shade(struct doc *d, struct rng *r, const struct casedata *c)
{
	size_t at;
	b_put(&d->b, "\x89PNG\r\n\x1a\n", 8);
	gi_chunk_begin(d, "IHDR", &at);
	gi_u32(d, 8, 1), gi_u32(d, 8, 1);
	b_put(&d->b, "\x08\x00\x00\x00\x00", 5); /* 8-bit grey */
	gi_chunk_end(d, at);
	gi_chunk_begin(d, "gAMA", &at);
	gi_u32(d, 45455, 1);
	gi_chunk_end(d, at);
	/* iCCP: a neutral name, a deflated profile stub */
	gi_chunk_begin(d, "iCCP", &at);
	b_put(&d->b, "ICC profile\0\0", 13);
	{
		unsigned char prof[132] = {0}, z[256];
		uLongf zl = sizeof z;
		prof[3] = 132;
		memcpy(prof + 36, "acsp", 4);
		compress(z, &zl, prof, sizeof prof);
		b_put(&d->b, z, zl);
	}
	gi_chunk_end(d, at);
	/* eXIf: Artist and Orientation 3 */
	gi_chunk_begin(d, "eXIf", &at);
	{
		size_t tiff0 = d->b.n;
		char artist[96];
		snprintf(artist, sizeof artist, "%s %s", c->dg, c->df);
		b_put(&d->b, "II*\0\x08\0\0\0", 8);
		struct gi_ent ifd0[] = {
			{0x0112, 3, 1, NULL, 3, -1, 0, 0, NULL},
			GI_ASCII(0x013B, artist, C_NAME, 0),
		};
		gi_ifd(d, tiff0, ifd0, (int)NELEM(ifd0), 0);
	}
	gi_chunk_end(d, at);
	gi_chunk_begin(d, "tEXt", &at);
	T(d, "Author");
	gi_u8(d, 0);
	V(d, C_NAME, "%s %s", c->dg, c->df);
	gi_chunk_end(d, at);
	gi_chunk_begin(d, "tEXt", &at);
	T(d, "Comment");
	gi_u8(d, 0);
	T(d, "Shade %s. Patient: ", c->shade ? c->shade : "A2");
	V(d, C_NAME, "%s %s", c->pg, c->pf);
	T(d, ", DOB: ");
	V(d, C_DATE, "%02d/%02d/%04d", c->dob.m, c->dob.d, c->dob.y);
	gi_chunk_end(d, at);
	gi_chunk_begin(d, "zTXt", &at);
	{
		static const char txt[] = "Shade guide photo, cross-polarised, grey card in view.";
		unsigned char z[256];
		uLongf zl = sizeof z;
		b_put(&d->b, "Description\0\0", 13);
		compress(z, &zl, (const Bytef *)txt, sizeof txt - 1);
		b_put(&d->b, z, zl);
	}
	gi_chunk_end(d, at);
	/* IDAT: 8 rows of filter byte 0 + 8 grey pixels */
	gi_chunk_begin(d, "IDAT", &at);
	{
		unsigned char raw[8 * 9], z[256];
		uLongf zl = sizeof z;
		for (int y = 0; y < 8; y++) {
			raw[y * 9] = 0;
			for (int x = 0; x < 8; x++)
				raw[y * 9 + 1 + x] = (unsigned char)(rnd_below(r, 64) + 32 * (x + y) / 2);
		}
		compress(z, &zl, raw, sizeof raw);
		b_put(&d->b, z, zl);
	}
	gi_chunk_end(d, at);
	/* after IDAT, as exiftool's PNG.png: iTXt, tIME and a private chunk */
	gi_chunk_begin(d, "iTXt", &at);
	b_put(&d->b, "Description\0\0\0en\0\0", 18);
	T(d, "Shade match for ");
	V(d, C_NAME, "%s %s", c->pg, c->pf);
	gi_chunk_end(d, at);
	gi_chunk_begin(d, "tIME", &at);
	{
		size_t s = d->b.n;
		gi_u16(d, (unsigned)c->dos.y, 1);
		gi_u8(d, (unsigned)c->dos.m), gi_u8(d, (unsigned)c->dos.d);
		gi_u8(d, (unsigned)rnd_range(r, 8, 17)), gi_u8(d, (unsigned)rnd_range(r, 0, 59));
		gi_u8(d, (unsigned)rnd_range(r, 0, 59));
		d_addspan(d, s, d->b.n, C_DATE, M_DEFAULT);
	}
	gi_chunk_end(d, at);
	gi_chunk_begin(d, "prVt", &at);
	T(d, "capture station 2; Patient: ");
	V(d, C_NAME, "%s %s", c->pg, c->pf);
	gi_chunk_end(d, at);
	gi_chunk_begin(d, "IEND", &at);
	gi_chunk_end(d, at);
}

/* A two-page TIFF (8x8 grey each): identifiers on both pages and in XMP. */
static void gen_tiff_pano(struct doc *d, struct rng *r, const struct casedata *c)
{
	size_t tiff0 = d->b.n;
	b_put(&d->b, "II*\0\0\0\0\0", 8);
	size_t prev_next = 4;
	for (int page = 0; page < 2; page++) {
		size_t strip = d->b.n;
		for (int i = 0; i < 64; i++)
			gi_u8(d, (unsigned)(rnd_below(r, 200) + 20));
		char docname[160], artist[96], date[32], pagename[160];
		snprintf(docname, sizeof docname, "Patient: %s %s", c->pg, c->pf);
		snprintf(artist, sizeof artist, "%s %s", c->dg, c->df);
		gi_exif_date(date, sizeof date, c->dos, r);
		snprintf(pagename, sizeof pagename, "Patient: %s %s page %d", c->pg, c->pf, page + 1);
		size_t pn_end = strlen(pagename) - strlen(" page 1");
		struct doc x = {0};
		if (page == 0)
			gi_xmp(&x, c);
		if ((d->b.n - tiff0) & 1)
			gi_u8(d, 0);
		gi_set32(d, prev_next, (uint32_t)(d->b.n - tiff0), 0);
		size_t xmppos = 0;
		struct gi_ent e[] = {
			{256, 3, 1, NULL, 8, -1, 0, 0, NULL},
			{257, 3, 1, NULL, 8, -1, 0, 0, NULL},
			{258, 3, 1, NULL, 8, -1, 0, 0, NULL},
			{259, 3, 1, NULL, 1, -1, 0, 0, NULL},
			{262, 3, 1, NULL, 1, -1, 0, 0, NULL},
			GI_ASCII(269, docname, C_NAME, 9),
			{273, 4, 1, NULL, (uint32_t)(strip - tiff0), -1, 0, 0, NULL},
			{274, 3, 1, NULL, 1, -1, 0, 0, NULL},
			{277, 3, 1, NULL, 1, -1, 0, 0, NULL},
			{278, 3, 1, NULL, 8, -1, 0, 0, NULL},
			{279, 4, 1, NULL, 64, -1, 0, 0, NULL},
			GI_ASCII(285, pagename, C_NAME, 9),
			GI_ASCII(306, date, C_DATE, 0),
			GI_ASCII(315, artist, C_NAME, 0),
			{700, 1, (uint32_t)x.b.n, x.b.p, 0, -1, 0, 0, &xmppos},
		};
		e[11].span_to = pn_end;
		int n = page == 0 ? (int)NELEM(e) : (int)NELEM(e) - 1;
		prev_next = gi_ifd(d, tiff0, e, n, 0);
		if (page == 0)
			for (size_t i = 0; i < x.nsp; i++)
				d_addspan(d, xmppos + x.sp[i].start, xmppos + x.sp[i].end, x.sp[i].cls,
				          x.sp[i].mode);
		d_free(&x);
	}
}

#undef GEN_IMAGE_FILES
#define GEN_IMAGE_FILES                                      \
	{"photos/smile.jpg", gen_jpeg_smile, CS_RAW, 0},     \
	{"photos/shade.png", gen_png_shade, CS_RAW, 0},      \
	{"xray/pano.tif", gen_tiff_pano, CS_RAW, 0},
