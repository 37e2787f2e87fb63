/* gen_dicom.c - synthetic dental DICOM (CBCT slices, panoramic, intra-oral, photo)
 * for the corpus.
 *
 * Included by gencase.c (one translation unit: it uses gencase's rng, buf, doc and
 * case data).  Each generator writes the file's complete raw bytes into d->b;
 * GEN_DICOM_FILES lists the files every case gets as filespec rows
 * {name, gen, CS_RAW, 0}.
 *
 * No d_addspan: truth.tsv is byte-offset based, and phiscan reports DICOM findings
 * by tag path.  The planted identifiers go to OUTDIR/truth-dicom.tsv instead
 * (gen_dicom_finish, called at the end of cmd_cases), one row per identifier:
 *
 *     path	tag_path	class	kind
 *     case-001/dicom/ct/slice-01.dcm	(0010,1002)[0]/(0010,0020)	mrn	structured
 *
 * tag_path as phiscan prints it (uppercase hex, sequence items [k] from 0, "/"
 * between levels); kind "structured" when the attribute itself is the identifier,
 * "text" when the identifier sits in free text (ImageComments, private LO/OB).
 * Rows follow gencase's notion of PHI: patient names, IDs, dates, address, phone,
 * ages of 90 and over, staff names, practice address, device serials, study/series/
 * instance UIDs and request numbers; not times, sex, ages under 90, practice or
 * station names (phiscan's Annex E findings on those are expected extras).
 *
 * Files per case (k = case number):
 *   dicom/ct/slice-0{1,2,3}.dcm  CT Image Storage, Explicit VR LE, 64x64 16-bit;
 *                                one study/series/frame of reference; ImageComments
 *                                in slice 2 only
 *   dicom/pan.dcm                DX For Presentation, Modality PX, burned-in YES,
 *                                Implicit VR LE (private elements read back as UN);
 *                                every 4th case (k % 4 == 3) a bare data set without
 *                                preamble or meta header
 *   dicom/io.dcm                 Intra-oral For Presentation, Modality IO, Explicit
 *                                VR Big Endian data set (meta explicit LE), 32x32
 *                                16-bit, Anatomic Region Sequence
 *   dicom/photo.dcm              VL Photographic (XC) or Secondary Capture (OT),
 *                                32x32 RGB 8-bit, Deflated Explicit VR LE
 * Sequences: Other Patient IDs (two items, the second with a nested Issuer of
 * Patient ID Qualifiers) and Request Attributes (nested Scheduled Protocol Code);
 * outer levels undefined or defined length per case and file, the nested level the
 * other, so every file has both kinds of encoding.
 * Specific Character Set: ISO_IR 100 (Latin-1 bytes) or ISO_IR 192 (UTF-8); accented
 * names (case 1 always has one) are ISO_IR 100 except cases k % 8 == 5.
 */

#include <zlib.h>

/* ---- ground truth rows (truth-dicom.tsv) ---- */

static struct buf dcm_truth;
static long dcm_truth_rows, dcm_files;

static void gen_dicom_finish(const char *outdir)
{
	char path[4096];
	struct buf out = {0};
	b_puts(&out, "path\ttag_path\tclass\tkind\n");
	if (dcm_truth.n)
		b_put(&out, dcm_truth.p, dcm_truth.n);
	snprintf(path, sizeof path, "%s/truth-dicom.tsv", outdir);
	write_file(path, out.p, out.n);
	printf("  dicom: %ld files, %ld rows in truth-dicom.tsv\n", dcm_files, dcm_truth_rows);
	b_free(&out);
	b_free(&dcm_truth);
	dcm_truth_rows = dcm_files = 0;
}

/* ---- data set writer ---- */

enum { TS_EXPLICIT_LE, TS_IMPLICIT_LE, TS_EXPLICIT_BE };

#define DW_MAXDEPTH 8

struct dw {
	struct buf *b;
	int ts;
	const char *rel;       /* case-relative path, for truth rows */
	int depth;             /* 0: the data set; each sequence and item adds one */
	struct {
		uint32_t last;     /* last tag written at this level (ascending check) */
		int undef;         /* undefined length */
		size_t lenpos;     /* where the defined length goes */
		int items;         /* items so far (sequence levels) */
		char path[160];    /* tag path of the sequence or item */
	} lv[DW_MAXDEPTH * 2 + 1];
};

static void dw_u16(struct dw *w, unsigned v)
{
	unsigned char p[2];
	if (w->ts == TS_EXPLICIT_BE) {
		p[0] = (unsigned char)(v >> 8);
		p[1] = (unsigned char)v;
	} else {
		p[0] = (unsigned char)v;
		p[1] = (unsigned char)(v >> 8);
	}
	b_put(w->b, p, 2);
}

static void dw_u32_at(struct dw *w, size_t at, uint32_t v)
{
	unsigned char *p = (unsigned char *)w->b->p + at;
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(w->ts == TS_EXPLICIT_BE ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void dw_u32(struct dw *w, uint32_t v)
{
	size_t at = w->b->n;
	b_put(w->b, "\0\0\0\0", 4);
	dw_u32_at(w, at, v);
}

static int long_vr(const char *vr)
{
	static const char *const l[] = {"OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN",
	                                "UC", "UR", "SV", "UV"};
	for (size_t i = 0; i < NELEM(l); i++)
		if (!strcmp(vr, l[i]))
			return 1;
	return 0;
}

/* Tag and (explicit) VR and length; checks ascending order within the level. */
static void dw_head(struct dw *w, unsigned g, unsigned e, const char *vr, uint32_t len)
{
	uint32_t t = (uint32_t)g << 16 | e;
	if (t <= w->lv[w->depth].last && w->lv[w->depth].last != 0)
		die("gen_dicom: (%04X,%04X) after (%04X,%04X)", g, e, w->lv[w->depth].last >> 16,
		    w->lv[w->depth].last & 0xFFFF);
	w->lv[w->depth].last = t;
	dw_u16(w, g);
	dw_u16(w, e);
	if (w->ts == TS_IMPLICIT_LE) {
		dw_u32(w, len);
		return;
	}
	b_put(w->b, vr, 2);
	if (long_vr(vr)) {
		b_put(w->b, "\0\0", 2);
		dw_u32(w, len);
	} else {
		if (len > 0xFFFF)
			die("gen_dicom: %s value of %u bytes", vr, (unsigned)len);
		dw_u16(w, len);
	}
}

/* A value of n bytes, padded to even length (NUL for UI and binary, else space). */
static void dw_el(struct dw *w, unsigned g, unsigned e, const char *vr, const void *v, size_t n)
{
	int pad = (int)(n & 1);
	dw_head(w, g, e, vr, (uint32_t)(n + (size_t)pad));
	b_put(w->b, v, n);
	if (pad)
		b_putc(w->b, (!strcmp(vr, "UI") || vr[0] == 'O' || !strcmp(vr, "UN")) ? '\0' : ' ');
}

static void dw_str(struct dw *w, unsigned g, unsigned e, const char *vr, const char *s)
{
	dw_el(w, g, e, vr, s, strlen(s));
}

static void dw_fmt(struct dw *w, unsigned g, unsigned e, const char *vr, const char *fmt, ...)
	PRINTF_LIKE(5, 6);
static void dw_fmt(struct dw *w, unsigned g, unsigned e, const char *vr, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	dw_str(w, g, e, vr, tmp);
}

static void dw_us(struct dw *w, unsigned g, unsigned e, unsigned v)
{
	dw_head(w, g, e, "US", 2);
	dw_u16(w, v);
}

/* 16-bit words (OW): byte order of the transfer syntax. */
static void dw_ow(struct dw *w, unsigned g, unsigned e, const uint16_t *v, size_t nwords)
{
	dw_head(w, g, e, "OW", (uint32_t)(nwords * 2));
	for (size_t i = 0; i < nwords; i++)
		dw_u16(w, v[i]);
}

/* The tag path of (g,e) at the current level, as phiscan prints it. */
static void dw_path(const struct dw *w, unsigned g, unsigned e, char *out, size_t cap)
{
	const char *pre = w->lv[w->depth].path;
	snprintf(out, cap, "%s%s(%04X,%04X)", pre, *pre ? "/" : "", g, e);
}

static void dw_truth(struct dw *w, unsigned g, unsigned e, int cls, int text)
{
	char p[200];
	dw_path(w, g, e, p, sizeof p);
	b_printf(&dcm_truth, "%s\t%s\t%s\t%s\n", w->rel, p, cls_names[cls],
	         text ? "text" : "structured");
	dcm_truth_rows++;
}

/* A structured identifier: the element and its truth row. */
static void dw_id(struct dw *w, unsigned g, unsigned e, const char *vr, int cls, const char *s)
{
	dw_truth(w, g, e, cls, 0);
	dw_str(w, g, e, vr, s);
}

static void dw_sq_begin(struct dw *w, unsigned g, unsigned e, int undef)
{
	if (w->depth + 2 >= (int)NELEM(w->lv))
		die("gen_dicom: sequences nested too deep");
	char p[160];
	dw_path(w, g, e, p, sizeof p);
	dw_head(w, g, e, "SQ", undef ? 0xFFFFFFFFu : 0);
	w->depth++;
	w->lv[w->depth].undef = undef;
	w->lv[w->depth].lenpos = w->b->n - 4;
	w->lv[w->depth].items = 0;
	w->lv[w->depth].last = 0;
	scopy(w->lv[w->depth].path, sizeof w->lv[w->depth].path, p);
}

/* Close a sequence (delim 0xE0DD) or an item (0xE00D). */
static void dw_close(struct dw *w, unsigned delim)
{
	if (w->lv[w->depth].undef) {
		dw_u16(w, 0xFFFE);
		dw_u16(w, delim);
		dw_u32(w, 0);
	} else {
		size_t start = w->lv[w->depth].lenpos + 4;
		dw_u32_at(w, w->lv[w->depth].lenpos, (uint32_t)(w->b->n - start));
	}
	w->depth--;
}

static void dw_sq_end(struct dw *w)
{
	dw_close(w, 0xE0DD);
}

static void dw_item_begin(struct dw *w, int undef)
{
	int k = w->lv[w->depth].items++;
	char p[160];
	snprintf(p, sizeof p, "%s[%d]", w->lv[w->depth].path, k);
	dw_u16(w, 0xFFFE);
	dw_u16(w, 0xE000);
	dw_u32(w, undef ? 0xFFFFFFFFu : 0);
	w->depth++;
	w->lv[w->depth].undef = undef;
	w->lv[w->depth].lenpos = w->b->n - 4;
	w->lv[w->depth].last = 0;
	scopy(w->lv[w->depth].path, sizeof w->lv[w->depth].path, p);
}

static void dw_item_end(struct dw *w)
{
	dw_close(w, 0xE00D);
}

/* ---- Part 10 framing ---- */

#define UID_CT "1.2.840.10008.5.1.4.1.1.2"
#define UID_DX_PRES "1.2.840.10008.5.1.4.1.1.1.1"
#define UID_IO_PRES "1.2.840.10008.5.1.4.1.1.1.3"
#define UID_SC "1.2.840.10008.5.1.4.1.1.7"
#define UID_VL_PHOTO "1.2.840.10008.5.1.4.1.1.77.1.4"
#define TS_UID_IMPLICIT_LE "1.2.840.10008.1.2"
#define TS_UID_EXPLICIT_LE "1.2.840.10008.1.2.1"
#define TS_UID_DEFLATED_LE "1.2.840.10008.1.2.1.99"
#define TS_UID_EXPLICIT_BE "1.2.840.10008.1.2.2"
#define GEN_UID_ROOT "1.2.826.0.1.3680043.10.1234."

/* Preamble, "DICM" and group 0002 (always explicit VR little endian) with its
 * group length. */
static void dcm_meta(struct buf *out, const char *sop_class, const char *sop_inst, const char *ts)
{
	struct buf m = {0};
	struct dw w;
	memset(&w, 0, sizeof w);
	w.b = &m;
	w.ts = TS_EXPLICIT_LE;
	static const unsigned char version[2] = {0, 1};
	dw_el(&w, 0x0002, 0x0001, "OB", version, 2);
	dw_str(&w, 0x0002, 0x0002, "UI", sop_class);
	dw_str(&w, 0x0002, 0x0003, "UI", sop_inst);
	dw_str(&w, 0x0002, 0x0010, "UI", ts);
	dw_str(&w, 0x0002, 0x0012, "UI", GEN_UID_ROOT "0.1");
	dw_str(&w, 0x0002, 0x0013, "SH", "GENCASE_DCM_1");
	dw_str(&w, 0x0002, 0x0016, "AE", "DENTAL_CBCT");

	char pre[128];
	memset(pre, 0, sizeof pre);
	b_put(out, pre, sizeof pre);
	b_put(out, "DICM", 4);
	static const unsigned char gl[8] = {0x02, 0x00, 0x00, 0x00, 'U', 'L', 0x04, 0x00};
	b_put(out, gl, sizeof gl);
	unsigned char len[4];
	for (int i = 0; i < 4; i++)
		len[i] = (unsigned char)(m.n >> (8 * i));
	b_put(out, len, 4);
	b_put(out, m.p, m.n);
	b_free(&m);
}

/* Raw deflate (RFC 1951, no zlib header), as PS3.5 A.5 asks. */
static void dcm_deflate(struct buf *out, const struct buf *in)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("gen_dicom: deflateInit2 failed");
	uLong cap = deflateBound(&z, (uLong)in->n);
	b_reserve(out, cap);
	z.next_in = (Bytef *)in->p;
	z.avail_in = (uInt)in->n;
	z.next_out = (Bytef *)out->p + out->n;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("gen_dicom: deflate failed");
	out->n += z.total_out;
	deflateEnd(&z);
	if (z.total_out & 1) /* even length: one trailing NUL */
		b_putc(out, '\0');
	out->p[out->n] = '\0';
}

/* ---- per-case values (the same in every file of the case) ---- */

struct dcase {
	char study_uid[65], series_ct[65], series_pan[65], series_io[65], series_photo[65],
	    frame_uid[65];
	char accession[17], study_id[17], req_id[17], sps_id[17], issuer[40], other_id[24],
	    other_issuer[40];
	char station[17], opg[32], opf[48];
	int latin1;        /* ISO_IR 100 (else ISO_IR 192) */
	int study_h, study_m, study_s;
	int series_undef;  /* CT and pan: undefined-length sequences */
	int photo_sc;      /* photo as Secondary Capture (else VL Photographic) */
	int tooth;         /* Universal number for the intra-oral film */
};

static uint64_t dcm_hash(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
	return h;
}

/* UTF-8 to Latin-1 when every character fits; 0 when one does not. */
static int to_latin1(char *dst, size_t cap, const char *src)
{
	size_t j = 0;
	for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
		unsigned ch = *s;
		if (ch >= 0x80) {
			if ((ch == 0xC2 || ch == 0xC3) && (s[1] & 0xC0) == 0x80) {
				ch = (ch & 0x1F) << 6 | (s[1] & 0x3F);
				s++;
			} else {
				return 0;
			}
		}
		if (j + 1 >= cap)
			return 0;
		dst[j++] = (char)ch;
	}
	dst[j] = '\0';
	return 1;
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void rnd_uid(struct rng *r, char *out, int caseno, int kind)
{
	char d1[16], d2[16];
	rnd_digits(r, d1, 10, 1);
	rnd_digits(r, d2, (int)rnd_range(r, 6, 12), 1);
	snprintf(out, 65, GEN_UID_ROOT "%d.%d.%s.%s", caseno, kind, d1, d2);
}

static void dcm_case(struct dcase *x, const struct casedata *c)
{
	uint64_t h = dcm_hash(dcm_hash(dcm_hash(0xCBF29CE484222325ULL, c->mrn), c->scanner_sn), c->pf);
	struct rng r = rng_make(h, (uint64_t)c->no);
	char d[16];
	memset(x, 0, sizeof *x);
	rnd_uid(&r, x->study_uid, c->no, 1);
	rnd_uid(&r, x->series_ct, c->no, 2);
	rnd_uid(&r, x->series_pan, c->no, 3);
	rnd_uid(&r, x->series_io, c->no, 4);
	rnd_uid(&r, x->series_photo, c->no, 5);
	rnd_uid(&r, x->frame_uid, c->no, 6);
	rnd_digits(&r, d, 7, 1);
	snprintf(x->accession, sizeof x->accession, "%s%s", chance(&r, 50) ? "ACC" : "", d);
	rnd_digits(&r, d, 4, 1);
	snprintf(x->study_id, sizeof x->study_id, "%s", d);
	rnd_digits(&r, d, 6, 1);
	snprintf(x->req_id, sizeof x->req_id, "RP%s", d);
	rnd_digits(&r, d, 6, 1);
	snprintf(x->sps_id, sizeof x->sps_id, "SPS%s", d);
	{
		char w[64];
		upper_copy(w, sizeof w, c->practice);
		for (char *p = w; *p; p++)
			if (*p == ' ')
				*p = '_';
		w[16] = '\0';
		snprintf(x->issuer, sizeof x->issuer, "%s", w);
	}
	rnd_digits(&r, d, 8, 1);
	snprintf(x->other_id, sizeof x->other_id, "%s%s", chance(&r, 50) ? "H" : "", d);
	static const char *const issuers[] = {"REGIONAL_HOSP", "ORTHO_REF", "IMAGING_CTR", "UNIV_DENTAL"};
	scopy(x->other_issuer, sizeof x->other_issuer, PICK(&r, issuers));
	static const char *const stations[] = {"CBCT-OP%d", "PANO%d", "XRAY-ROOM%d", "SIDEXIS-%d",
	                                       "ROMEXIS%d"};
	snprintf(x->station, sizeof x->station, PICK(&r, stations), rnd_range(&r, 1, 6));
	pick_given(&r, chance(&r, 70), x->opg, sizeof x->opg);
	scopy(x->opf, sizeof x->opf, PICK(&r, surnames));
	char l1[64], l2[64];
	int fits = to_latin1(l1, sizeof l1, c->pg) && to_latin1(l2, sizeof l2, c->pf);
	if (!fits)
		x->latin1 = 0;
	else if (!is_ascii(c->pg) || !is_ascii(c->pf))
		x->latin1 = c->no % 8 != 5;
	else
		x->latin1 = chance(&r, 50);
	x->study_h = rnd_range(&r, 7, 17);
	x->study_m = rnd_range(&r, 0, 59);
	x->study_s = rnd_range(&r, 0, 59);
	x->series_undef = chance(&r, 75);
	x->photo_sc = chance(&r, 50);
	x->tooth = rnd_range(&r, 1, 32);
}

/* A text value in the file's character set. */
static void dcs(const struct dcase *x, char *out, size_t cap, const char *utf8)
{
	if (!x->latin1 || !to_latin1(out, cap, utf8))
		scopy(out, cap, utf8);
}

static void ymd8(char out[9], struct ymd a)
{
	snprintf(out, 9, "%04d%02d%02d", a.y, a.m, a.d);
}

/* ---- the shared modules ---- */

struct dfile {
	const char *name;       /* case-relative file name */
	const char *sop_class, *modality;
	char sop_inst[65];
	const char *series_uid;
	int series_no, instance_no;
	int undef;              /* undefined-length sequences and items */
	struct ymd content;
	int acq_h, acq_m, acq_s;
};

static void put_dt_tm(struct dw *w, unsigned e, int h, int m, int s, int frac)
{
	if (frac)
		dw_fmt(w, 0x0008, e, "TM", "%02d%02d%02d.%03d", h, m, s, frac);
	else
		dw_fmt(w, 0x0008, e, "TM", "%02d%02d%02d", h, m, s);
}

/* Group 0008 up to (0008,0070) exclusive: charset .. modality.  image_type and
 * extra (0008,0064)/(0008,0068) per IOD. */
static void mod_sop_study_head(struct dw *w, struct rng *r, const struct casedata *c,
                               const struct dcase *x, const struct dfile *f,
                               const char *image_type, const char *conversion,
                               const char *intent)
{
	char da[9];
	dw_str(w, 0x0008, 0x0005, "CS", x->latin1 ? "ISO_IR 100" : "ISO_IR 192");
	dw_str(w, 0x0008, 0x0008, "CS", image_type);
	ymd8(da, f->content);
	dw_id(w, 0x0008, 0x0012, "DA", C_DATE, da);
	put_dt_tm(w, 0x0013, f->acq_h, f->acq_m, f->acq_s + 1 > 59 ? 59 : f->acq_s + 1, 0);
	dw_str(w, 0x0008, 0x0016, "UI", f->sop_class);
	dw_id(w, 0x0008, 0x0018, "UI", C_ID, f->sop_inst);
	ymd8(da, c->dos);
	dw_id(w, 0x0008, 0x0020, "DA", C_DATE, da);
	ymd8(da, f->content);
	dw_id(w, 0x0008, 0x0021, "DA", C_DATE, da);
	dw_id(w, 0x0008, 0x0022, "DA", C_DATE, da);
	dw_id(w, 0x0008, 0x0023, "DA", C_DATE, da);
	put_dt_tm(w, 0x0030, x->study_h, x->study_m, x->study_s, 0);
	put_dt_tm(w, 0x0031, f->acq_h, f->acq_m, 0, 0);
	put_dt_tm(w, 0x0032, f->acq_h, f->acq_m, f->acq_s, chance(r, 50) ? rnd_range(r, 1, 999) : 0);
	put_dt_tm(w, 0x0033, f->acq_h, f->acq_m, f->acq_s, 0);
	dw_id(w, 0x0008, 0x0050, "SH", C_ID, x->accession);
	dw_str(w, 0x0008, 0x0060, "CS", f->modality);
	if (conversion)
		dw_str(w, 0x0008, 0x0064, "CS", conversion);
	if (intent)
		dw_str(w, 0x0008, 0x0068, "CS", intent);
}

/* (0008,0070) .. (0008,1090): equipment, institution, physicians. */
static void mod_equipment(struct dw *w, struct rng *r, const struct casedata *c,
                          const struct dcase *x, const char *manufacturer, const char *model,
                          const char *series_desc)
{
	char t[256], a[128];
	dw_str(w, 0x0008, 0x0070, "LO", manufacturer);
	dcs(x, t, sizeof t, c->practice);
	dw_str(w, 0x0008, 0x0080, "LO", t); /* practice name: not PHI in gencase */
	snprintf(a, sizeof a, "%s, %s\r\n%s, %s %s", c->pstreet, c->psuite, c->pcity->name,
	         c->pcity->state, c->pzip);
	dw_id(w, 0x0008, 0x0081, "ST", C_ADDRESS, a);
	{
		char g[64], f[64];
		dcs(x, g, sizeof g, c->dg);
		dcs(x, f, sizeof f, c->df);
		if (chance(r, 50))
			snprintf(t, sizeof t, "%s^%s^%c^Dr.^%s", f, g, c->dmid, c->dcred);
		else
			snprintf(t, sizeof t, "%s^%s", f, g);
		dw_id(w, 0x0008, 0x0090, "PN", C_NAME, t);
	}
	dw_str(w, 0x0008, 0x1010, "SH", x->station); /* station: not PHI in gencase */
	dw_fmt(w, 0x0008, 0x1030, "LO", "%s %s", c->proc->cdt, "Implant planning / restorative");
	dw_str(w, 0x0008, 0x103E, "LO", series_desc);
	{
		char g[64], f[64];
		dcs(x, g, sizeof g, x->opg);
		dcs(x, f, sizeof f, x->opf);
		snprintf(t, sizeof t, "%s^%s", f, g);
		dw_id(w, 0x0008, 0x1070, "PN", C_NAME, t);
	}
	dw_str(w, 0x0008, 0x1090, "LO", model);
}

/* Private block (0009,xxxx): creator, an LO note with the patient's name, an OB
 * blob of ASCII text with the MRN. */
static void mod_private(struct dw *w, struct rng *r, const struct casedata *c,
                        const struct dcase *x)
{
	char t[256], g[64], f[64];
	dcs(x, g, sizeof g, c->pg);
	dcs(x, f, sizeof f, c->pf);
	dw_str(w, 0x0009, 0x0010, "LO", "PHISCAN DENTAL 1.0");
	switch (rnd_below(r, 3)) {
	case 0: snprintf(t, sizeof t, "Patient: %s %s", g, f); break;
	case 1: snprintf(t, sizeof t, "Scan for patient %s %s", g, f); break;
	default: snprintf(t, sizeof t, "Pt name: %s %c. %s", g, c->pmid, f); break;
	}
	dw_truth(w, 0x0009, 0x1010, C_NAME, 1);
	dw_str(w, 0x0009, 0x1010, "LO", t);
	snprintf(t, sizeof t, "EXPORT v2;MRN: %s;chart=%s;station=%s;", c->mrn, c->chart, x->station);
	dw_truth(w, 0x0009, 0x1011, C_MRN, 1);
	dw_el(w, 0x0009, 0x1011, "OB", t, strlen(t));
}

/* Group 0010: the patient. */
static void mod_patient(struct dw *w, struct rng *r, const struct casedata *c,
                        const struct dcase *x, int undef)
{
	char t[256], g[64], f[64];
	dcs(x, g, sizeof g, c->pg);
	dcs(x, f, sizeof f, c->pf);
	snprintf(t, sizeof t, "%s^%s^%c", f, g, c->pmid);
	dw_id(w, 0x0010, 0x0010, "PN", C_NAME, t);
	dw_id(w, 0x0010, 0x0020, "LO", C_MRN, c->mrn);
	dw_str(w, 0x0010, 0x0021, "LO", x->issuer);
	ymd8(t, c->dob);
	dw_id(w, 0x0010, 0x0030, "DA", C_DATE, t);
	dw_str(w, 0x0010, 0x0040, "CS", c->female ? "F" : "M");

	/* Other Patient IDs: the chart number here, an outside ID, nested issuer
	 * qualifiers in the second item */
	dw_sq_begin(w, 0x0010, 0x1002, undef);
	dw_item_begin(w, undef);
	dw_id(w, 0x0010, 0x0020, "LO", C_MRN, c->chart);
	dw_str(w, 0x0010, 0x0021, "LO", x->issuer);
	dw_str(w, 0x0010, 0x0022, "CS", "TEXT");
	dw_item_end(w);
	dw_item_begin(w, !undef);
	dw_id(w, 0x0010, 0x0020, "LO", C_MRN, x->other_id);
	dw_str(w, 0x0010, 0x0021, "LO", x->other_issuer);
	dw_str(w, 0x0010, 0x0022, "CS", "TEXT");
	dw_sq_begin(w, 0x0010, 0x0024, !undef);
	dw_item_begin(w, undef);
	dw_fmt(w, 0x0040, 0x0032, "UT", "%s.example.org", x->other_issuer);
	dw_str(w, 0x0040, 0x0033, "CS", "DNS");
	dw_item_end(w);
	dw_sq_end(w);
	dw_item_end(w);
	dw_sq_end(w);

	if (c->age >= 90)
		dw_truth(w, 0x0010, 0x1010, C_AGE, 0);
	dw_fmt(w, 0x0010, 0x1010, "AS", "%03dY", c->age);
	{
		char st[128];
		dcs(x, st, sizeof st, c->street);
		if (c->unit[0])
			snprintf(t, sizeof t, "%s %s, %s, %s %s", st, c->unit, c->city->name,
			         c->city->state, c->zip);
		else
			snprintf(t, sizeof t, "%s, %s, %s %s", st, c->city->name, c->city->state, c->zip);
		t[64] = '\0'; /* LO */
		dw_id(w, 0x0010, 0x1040, "LO", C_ADDRESS, t);
	}
	{
		char p1[32], p2[32];
		fmt_phone(p1, sizeof p1, c->home, (int)rnd_below(r, 3));
		if (chance(r, 40)) {
			fmt_phone(p2, sizeof p2, c->cell, 1);
			snprintf(t, sizeof t, "%s\\%s", p1, p2); /* two values, each SH */
		} else {
			scopy(t, sizeof t, p1);
		}
		dw_id(w, 0x0010, 0x2154, "SH", C_PHONE, t);
	}
}

/* Device serial and software (group 0018 after the IOD's own 0018 elements
 * below 1000 have been written). */
static void mod_device(struct dw *w, const struct casedata *c)
{
	dw_id(w, 0x0018, 0x1000, "LO", C_DEVICE, c->scanner_sn);
	dw_str(w, 0x0018, 0x1020, "LO", "3.2.1");
}

/* (0020,000D) .. (0020,0013) */
static void mod_study_series(struct dw *w, const struct dcase *x, const struct dfile *f)
{
	dw_id(w, 0x0020, 0x000D, "UI", C_ID, x->study_uid);
	dw_id(w, 0x0020, 0x000E, "UI", C_ID, f->series_uid);
	dw_id(w, 0x0020, 0x0010, "SH", C_ID, x->study_id);
	dw_fmt(w, 0x0020, 0x0011, "IS", "%d", f->series_no);
	dw_fmt(w, 0x0020, 0x0013, "IS", "%d", f->instance_no);
}

/* ImageComments (0020,4000): the patient's name and phone in free text. */
static void mod_comments(struct dw *w, struct rng *r, const struct casedata *c,
                         const struct dcase *x)
{
	char t[512], g[64], f[64], ph[32];
	dcs(x, g, sizeof g, c->pg);
	dcs(x, f, sizeof f, c->pf);
	rphone(r, chance(r, 50) ? c->cell : c->home, ph, sizeof ph);
	switch (rnd_below(r, 3)) {
	case 0:
		snprintf(t, sizeof t, "Patient %s %s moved during exposure; retake advised. "
		         "Call back at %s.", g, f, ph);
		break;
	case 1:
		snprintf(t, sizeof t, "Pt: %s, %s - tel %s. Scan for implant site #%d, no artifacts.",
		         f, g, ph, x->tooth);
		break;
	default:
		snprintf(t, sizeof t, "Patient name: %s %s\r\nPhone: %s\r\nReferred for CBCT, see Rx.",
		         g, f, ph);
		break;
	}
	dw_truth(w, 0x0020, 0x4000, C_NAME, 1);
	dw_truth(w, 0x0020, 0x4000, C_PHONE, 1);
	dw_str(w, 0x0020, 0x4000, "LT", t);
}

/* Request Attributes (0040,0275): one item with a nested protocol code. */
static void mod_request(struct dw *w, const struct casedata *c, const struct dcase *x,
                        int undef)
{
	dw_sq_begin(w, 0x0040, 0x0275, undef);
	dw_item_begin(w, undef);
	dw_str(w, 0x0040, 0x0007, "LO", "CBCT maxilla/mandible");
	dw_sq_begin(w, 0x0040, 0x0008, !undef);
	dw_item_begin(w, !undef);
	dw_str(w, 0x0008, 0x0100, "SH", c->proc->cdt);
	dw_str(w, 0x0008, 0x0102, "SH", "CDT");
	dw_str(w, 0x0008, 0x0104, "LO", c->proc->desc);
	dw_item_end(w);
	dw_sq_end(w);
	dw_id(w, 0x0040, 0x0009, "SH", C_ID, x->sps_id);
	dw_id(w, 0x0040, 0x1001, "SH", C_ID, x->req_id);
	dw_item_end(w);
	dw_sq_end(w);
}

static void mod_pixels_mono16(struct dw *w, int rows, int cols, int bits, int seed)
{
	uint16_t *px = xrealloc(NULL, (size_t)rows * (size_t)cols * sizeof *px);
	int max = (1 << bits) - 1;
	for (int y = 0; y < rows; y++)
		for (int xx = 0; xx < cols; xx++) {
			int dx = xx - cols / 2, dy = y - rows / 2;
			int r2 = dx * dx + dy * dy, lim = (rows / 3) * (rows / 3);
			int v = r2 < lim ? 1800 + ((xx * 7 + y * 3 + seed * 11) & 255)
			                 : ((xx ^ y) * 13 + seed * 5) & 511;
			px[y * cols + xx] = (uint16_t)(v > max ? max : v);
		}
	dw_ow(w, 0x7FE0, 0x0010, px, (size_t)rows * (size_t)cols);
	free(px);
}

static void dfile_init(struct dfile *f, struct rng *r, const struct casedata *c,
                       const struct dcase *x, const char *name, const char *sop_class,
                       const char *modality, const char *series_uid, int series_no, int inst)
{
	memset(f, 0, sizeof *f);
	f->name = name;
	f->sop_class = sop_class;
	f->modality = modality;
	rnd_uid(r, f->sop_inst, c->no, 10 + series_no);
	f->series_uid = series_uid;
	f->series_no = series_no;
	f->instance_no = inst;
	f->content = c->dos;
	f->acq_h = x->study_h;
	f->acq_m = x->study_m + series_no > 59 ? 59 : x->study_m + series_no;
	f->acq_s = rnd_range(r, 0, 58);
}

static void dw_init(struct dw *w, struct buf *b, int ts, const struct casedata *c,
                    const char *name, char *relbuf, size_t relcap)
{
	memset(w, 0, sizeof *w);
	w->b = b;
	w->ts = ts;
	/* cmd_cases names case directories case-%03ld */
	snprintf(relbuf, relcap, "case-%03d/%s", c->no, name);
	w->rel = relbuf;
	dcm_files++;
}

/* ---- the files ---- */

static void gen_dcm_ct(struct doc *d, struct rng *r, const struct casedata *c, int slice)
{
	struct dcase x;
	struct dfile f;
	struct dw w;
	struct buf ds = {0};
	char rel[160];
	static const char *const names[] = {"dicom/ct/slice-01.dcm", "dicom/ct/slice-02.dcm",
	                                    "dicom/ct/slice-03.dcm"};
	dcm_case(&x, c);
	dfile_init(&f, r, c, &x, names[slice], UID_CT, "CT", x.series_ct, 1, slice + 1);
	f.acq_s = x.study_s; /* one acquisition */
	dw_init(&w, &ds, TS_EXPLICIT_LE, c, f.name, rel, sizeof rel);

	mod_sop_study_head(&w, r, c, &x, &f, "ORIGINAL\\PRIMARY\\AXIAL", NULL, NULL);
	mod_equipment(&w, r, c, &x, "Planmeca", c->scanner_model, "CBCT 0.2mm");
	mod_private(&w, r, c, &x);
	mod_patient(&w, r, c, &x, x.series_undef);
	dw_str(&w, 0x0018, 0x0050, "DS", "0.2");
	dw_str(&w, 0x0018, 0x0060, "DS", "90");
	mod_device(&w, c);
	dw_str(&w, 0x0018, 0x5100, "CS", "HFS");
	mod_study_series(&w, &x, &f);
	dw_fmt(&w, 0x0020, 0x0032, "DS", "-6.4\\-6.4\\%.1f", slice * 0.2);
	dw_str(&w, 0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0");
	dw_id(&w, 0x0020, 0x0052, "UI", C_ID, x.frame_uid);
	dw_str(&w, 0x0020, 0x1040, "LO", "");
	dw_fmt(&w, 0x0020, 0x1041, "DS", "%.1f", slice * 0.2);
	if (slice == 1)
		mod_comments(&w, r, c, &x);
	dw_us(&w, 0x0028, 0x0002, 1);
	dw_str(&w, 0x0028, 0x0004, "CS", "MONOCHROME2");
	dw_us(&w, 0x0028, 0x0010, 64);
	dw_us(&w, 0x0028, 0x0011, 64);
	dw_str(&w, 0x0028, 0x0030, "DS", "0.2\\0.2");
	dw_us(&w, 0x0028, 0x0100, 16);
	dw_us(&w, 0x0028, 0x0101, 12);
	dw_us(&w, 0x0028, 0x0102, 11);
	dw_us(&w, 0x0028, 0x0103, 0);
	dw_str(&w, 0x0028, 0x0301, "CS", "NO");
	dw_str(&w, 0x0028, 0x1050, "DS", "1000");
	dw_str(&w, 0x0028, 0x1051, "DS", "4000");
	dw_str(&w, 0x0028, 0x1052, "DS", "-1024");
	dw_str(&w, 0x0028, 0x1053, "DS", "1");
	mod_request(&w, c, &x, x.series_undef);
	mod_pixels_mono16(&w, 64, 64, 12, slice + c->no);

	dcm_meta(&d->b, UID_CT, f.sop_inst, TS_UID_EXPLICIT_LE);
	b_put(&d->b, ds.p, ds.n);
	b_free(&ds);
}

static void gen_dcm_ct1(struct doc *d, struct rng *r, const struct casedata *c)
{
	gen_dcm_ct(d, r, c, 0);
}

static void gen_dcm_ct2(struct doc *d, struct rng *r, const struct casedata *c)
{
	gen_dcm_ct(d, r, c, 1);
}

static void gen_dcm_ct3(struct doc *d, struct rng *r, const struct casedata *c)
{
	gen_dcm_ct(d, r, c, 2);
}

/* Panoramic: DX For Presentation, PX, burned-in annotation; Implicit VR LE, bare
 * (no preamble or meta) every 4th case. */
static void gen_dcm_pan(struct doc *d, struct rng *r, const struct casedata *c)
{
	struct dcase x;
	struct dfile f;
	struct dw w;
	struct buf ds = {0};
	char rel[160];
	int bare = c->no % 4 == 3;
	dcm_case(&x, c);
	dfile_init(&f, r, c, &x, "dicom/pan.dcm", UID_DX_PRES, "PX", x.series_pan, 2, 1);
	dw_init(&w, &ds, TS_IMPLICIT_LE, c, f.name, rel, sizeof rel);

	mod_sop_study_head(&w, r, c, &x, &f, "DERIVED\\PRIMARY", NULL, "FOR PRESENTATION");
	mod_equipment(&w, r, c, &x, "Carestream", "CS 8100", "Panoramic");
	mod_private(&w, r, c, &x);
	mod_patient(&w, r, c, &x, chance(r, 50));
	dw_str(&w, 0x0018, 0x0060, "DS", "70");
	mod_device(&w, c);
	dw_str(&w, 0x0018, 0x1164, "DS", "0.1\\0.1");
	mod_study_series(&w, &x, &f);
	dw_str(&w, 0x0020, 0x0020, "CS", "R\\F");
	mod_comments(&w, r, c, &x);
	dw_us(&w, 0x0028, 0x0002, 1);
	dw_str(&w, 0x0028, 0x0004, "CS", "MONOCHROME2");
	dw_us(&w, 0x0028, 0x0010, 64);
	dw_us(&w, 0x0028, 0x0011, 64);
	dw_us(&w, 0x0028, 0x0100, 16);
	dw_us(&w, 0x0028, 0x0101, 12);
	dw_us(&w, 0x0028, 0x0102, 11);
	dw_us(&w, 0x0028, 0x0103, 0);
	dw_str(&w, 0x0028, 0x0301, "CS", "YES");
	dw_str(&w, 0x0028, 0x1040, "CS", "LIN");
	dw_str(&w, 0x0028, 0x1050, "DS", "2048");
	dw_str(&w, 0x0028, 0x1051, "DS", "4096");
	dw_str(&w, 0x0028, 0x1052, "DS", "0");
	dw_str(&w, 0x0028, 0x1053, "DS", "1");
	dw_str(&w, 0x0028, 0x1054, "LO", "US");
	dw_str(&w, 0x0028, 0x2110, "CS", "00");
	mod_pixels_mono16(&w, 64, 64, 12, c->no * 3);

	if (!bare)
		dcm_meta(&d->b, UID_DX_PRES, f.sop_inst, TS_UID_IMPLICIT_LE);
	b_put(&d->b, ds.p, ds.n);
	b_free(&ds);
}

/* Intra-oral: IO For Presentation, Explicit VR Big Endian data set. */
static void gen_dcm_io(struct doc *d, struct rng *r, const struct casedata *c)
{
	struct dcase x;
	struct dfile f;
	struct dw w;
	struct buf ds = {0};
	char rel[160];
	dcm_case(&x, c);
	dfile_init(&f, r, c, &x, "dicom/io.dcm", UID_IO_PRES, "IO", x.series_io, 3, 1);
	dw_init(&w, &ds, TS_EXPLICIT_BE, c, f.name, rel, sizeof rel);

	mod_sop_study_head(&w, r, c, &x, &f, "ORIGINAL\\PRIMARY", NULL, "FOR PRESENTATION");
	mod_equipment(&w, r, c, &x, "Dentsply Sirona", "Schick 33", "Periapical");
	/* Anatomic Region: a tooth (SCT code, defined lengths) */
	dw_sq_begin(&w, 0x0008, 0x2218, 0);
	dw_item_begin(&w, 0);
	dw_str(&w, 0x0008, 0x0100, "SH", "245543004");
	dw_str(&w, 0x0008, 0x0102, "SH", "SCT");
	dw_str(&w, 0x0008, 0x0104, "LO", "Tooth");
	dw_item_end(&w);
	dw_sq_end(&w);
	mod_private(&w, r, c, &x);
	mod_patient(&w, r, c, &x, 0);
	dw_str(&w, 0x0018, 0x0060, "DS", "60");
	mod_device(&w, c);
	dw_str(&w, 0x0018, 0x1164, "DS", "0.02\\0.02");
	mod_study_series(&w, &x, &f);
	dw_str(&w, 0x0020, 0x0020, "CS", "A\\R");
	dw_str(&w, 0x0020, 0x0062, "CS", x.tooth <= 16 ? "R" : "L"); /* Image Laterality */
	mod_comments(&w, r, c, &x);
	dw_us(&w, 0x0028, 0x0002, 1);
	dw_str(&w, 0x0028, 0x0004, "CS", "MONOCHROME2");
	dw_us(&w, 0x0028, 0x0010, 32);
	dw_us(&w, 0x0028, 0x0011, 32);
	dw_us(&w, 0x0028, 0x0100, 16);
	dw_us(&w, 0x0028, 0x0101, 12);
	dw_us(&w, 0x0028, 0x0102, 11);
	dw_us(&w, 0x0028, 0x0103, 0);
	dw_str(&w, 0x0028, 0x0301, "CS", "NO");
	dw_str(&w, 0x0028, 0x1040, "CS", "LIN");
	dw_str(&w, 0x0028, 0x1052, "DS", "0");
	dw_str(&w, 0x0028, 0x1053, "DS", "1");
	dw_str(&w, 0x0028, 0x1054, "LO", "US");
	dw_str(&w, 0x0028, 0x2110, "CS", "00");
	mod_request(&w, c, &x, 0);
	mod_pixels_mono16(&w, 32, 32, 12, c->no * 5);

	dcm_meta(&d->b, UID_IO_PRES, f.sop_inst, TS_UID_EXPLICIT_BE);
	b_put(&d->b, ds.p, ds.n);
	b_free(&ds);
}

/* Intra-oral photo: VL Photographic or Secondary Capture, RGB, deflated. */
static void gen_dcm_photo(struct doc *d, struct rng *r, const struct casedata *c)
{
	struct dcase x;
	struct dfile f;
	struct dw w;
	struct buf ds = {0};
	char rel[160];
	dcm_case(&x, c);
	const char *cls = x.photo_sc ? UID_SC : UID_VL_PHOTO;
	dfile_init(&f, r, c, &x, "dicom/photo.dcm", cls, x.photo_sc ? "OT" : "XC",
	           x.series_photo, 4, 1);
	dw_init(&w, &ds, TS_EXPLICIT_LE, c, f.name, rel, sizeof rel);

	mod_sop_study_head(&w, r, c, &x, &f, x.photo_sc ? "DERIVED\\SECONDARY" : "ORIGINAL\\PRIMARY",
	                   x.photo_sc ? "DI" : NULL, NULL);
	mod_equipment(&w, r, c, &x, "Canon", "EOS R8", "Intraoral photo");
	mod_private(&w, r, c, &x);
	mod_patient(&w, r, c, &x, chance(r, 50));
	mod_device(&w, c);
	mod_study_series(&w, &x, &f);
	dw_str(&w, 0x0020, 0x0020, "CS", "");
	mod_comments(&w, r, c, &x);
	dw_us(&w, 0x0028, 0x0002, 3);
	dw_str(&w, 0x0028, 0x0004, "CS", "RGB");
	dw_us(&w, 0x0028, 0x0006, 0);
	dw_us(&w, 0x0028, 0x0010, 32);
	dw_us(&w, 0x0028, 0x0011, 32);
	dw_us(&w, 0x0028, 0x0100, 8);
	dw_us(&w, 0x0028, 0x0101, 8);
	dw_us(&w, 0x0028, 0x0102, 7);
	dw_us(&w, 0x0028, 0x0103, 0);
	dw_str(&w, 0x0028, 0x0301, "CS", "NO");
	dw_str(&w, 0x0028, 0x2110, "CS", "00");
	{
		unsigned char px[32 * 32 * 3];
		int tint = rnd_range(r, 0, 40);
		for (int y = 0; y < 32; y++)
			for (int xx = 0; xx < 32; xx++) {
				unsigned char *p = px + (y * 32 + xx) * 3;
				int tooth = ((xx / 6) + (y / 16)) & 1;
				p[0] = (unsigned char)(tooth ? 235 : 190 + tint);
				p[1] = (unsigned char)(tooth ? 228 : 70 + xx);
				p[2] = (unsigned char)(tooth ? 210 : 80 + y);
			}
		dw_el(&w, 0x7FE0, 0x0010, "OB", px, sizeof px);
	}

	dcm_meta(&d->b, cls, f.sop_inst, TS_UID_DEFLATED_LE);
	dcm_deflate(&d->b, &ds);
	b_free(&ds);
}

#define GEN_DICOM_FILES                                      \
	{"dicom/ct/slice-01.dcm", gen_dcm_ct1, CS_RAW, 0},       \
	{"dicom/ct/slice-02.dcm", gen_dcm_ct2, CS_RAW, 0},       \
	{"dicom/ct/slice-03.dcm", gen_dcm_ct3, CS_RAW, 0},       \
	{"dicom/pan.dcm", gen_dcm_pan, CS_RAW, 0},               \
	{"dicom/io.dcm", gen_dcm_io, CS_RAW, 0},                 \
	{"dicom/photo.dcm", gen_dcm_photo, CS_RAW, 0},
