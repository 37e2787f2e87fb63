/* test_dicom.c - DICOM scan and de-identification, end to end through the binary.
 *
 * Inputs are written here byte by byte (a small PS3.5/PS3.10 writer: explicit or
 * implicit VR, little or big endian, deflated, encapsulated pixel data), so every
 * test knows exactly what went in.  Outputs are read back with the same DCMTK
 * bridge phiscan uses.  The Annex E test builds one data set holding every
 * concrete attribute of rules/dicom/annex-e.tsv and checks each row's action.
 */
#include <criterion/criterion.h>

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../formats/dicom.h"
#include "../formats/dicom_bridge.h"
#include "../formats/dicom_native.h"
#include "dicom_diff.h"
#include "cli.h"

TestSuite(dicom, .init = cli_setup, .fini = cli_teardown, .timeout = 120);

/* ---- a tiny DICOM writer ---- */

enum ts { TS_EXPLICIT_LE, TS_IMPLICIT_LE, TS_EXPLICIT_BE, TS_DEFLATED, TS_JPEG, TS_HTJ2K };

static const char *const ts_uid[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2",
                                     "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
                                     "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.201"};

struct dw {
	unsigned char *p;
	size_t n, cap;
	int big, implicit;
};

static void dw_put(struct dw *w, const void *v, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2 + 256;
		w->p = realloc(w->p, w->cap);
		cr_assert_not_null(w->p);
	}
	memcpy(w->p + w->n, v, n);
	w->n += n;
}

static void dw_u16(struct dw *w, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(w->big ? v >> 8 : v), (unsigned char)(w->big ? v : v >> 8)};
	dw_put(w, b, 2);
}

static void dw_u32(struct dw *w, uint32_t v)
{
	unsigned char b[4];
	for (int i = 0; i < 4; i++)
		b[w->big ? 3 - i : i] = (unsigned char)(v >> (8 * i));
	dw_put(w, b, 4);
}

static bool long_vr(const char *vr)
{
	static const char *const l[] = {"OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV"};
	for (size_t i = 0; i < sizeof l / sizeof l[0]; i++)
		if (!strcmp(vr, l[i]))
			return true;
	return false;
}

static void dw_head(struct dw *w, uint16_t g, uint16_t e, const char *vr, uint32_t len)
{
	dw_u16(w, g);
	dw_u16(w, e);
	if (w->implicit) {
		dw_u32(w, len);
	} else if (long_vr(vr)) {
		dw_put(w, vr, 2);
		dw_u16(w, 0);
		dw_u32(w, len);
	} else {
		dw_put(w, vr, 2);
		dw_u16(w, len);
	}
}

/* A value as stored: strings padded to even length (NUL for UI, space else). */
static void dw_str(struct dw *w, uint16_t g, uint16_t e, const char *vr, const char *s)
{
	size_t n = strlen(s), pad = n & 1;
	dw_head(w, g, e, vr, (uint32_t)(n + pad));
	dw_put(w, s, n);
	if (pad)
		dw_put(w, strcmp(vr, "UI") ? " " : "", 1);
}

static void dw_us(struct dw *w, uint16_t g, uint16_t e, unsigned v)
{
	dw_head(w, g, e, "US", 2);
	dw_u16(w, v);
}

static void dw_seq(struct dw *w, uint16_t g, uint16_t e)
{
	dw_head(w, g, e, "SQ", 0xFFFFFFFFu);
}

static void dw_item(struct dw *w)
{
	dw_u16(w, 0xFFFE);
	dw_u16(w, 0xE000);
	dw_u32(w, 0xFFFFFFFFu);
}

static void dw_item_end(struct dw *w)
{
	dw_u16(w, 0xFFFE);
	dw_u16(w, 0xE00D);
	dw_u32(w, 0);
}

static void dw_seq_end(struct dw *w)
{
	dw_u16(w, 0xFFFE);
	dw_u16(w, 0xE0DD);
	dw_u32(w, 0);
}

/* 16 x 16 pixels of 16 bits (native) or two fragments (encapsulated). */
static void dw_pixels(struct dw *w, enum ts ts, uint32_t bytes)
{
	if (ts == TS_JPEG || ts == TS_HTJ2K) {
		dw_head(w, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu);
		dw_u16(w, 0xFFFE);
		dw_u16(w, 0xE000);
		dw_u32(w, 0); /* empty basic offset table */
		static const unsigned char frag[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xD9};
		dw_u16(w, 0xFFFE);
		dw_u16(w, 0xE000);
		dw_u32(w, sizeof frag);
		dw_put(w, frag, sizeof frag);
		dw_seq_end(w);
		return;
	}
	if (!bytes)
		bytes = 512;
	dw_head(w, 0x7FE0, 0x0010, "OW", bytes);
	for (unsigned i = 0; i < bytes / 2; i++)
		dw_u16(w, (i * 37u) & 0xFFF);
}

static void dw_image_basics(struct dw *w)
{
	dw_us(w, 0x0028, 0x0002, 1);
	dw_str(w, 0x0028, 0x0004, "CS", "MONOCHROME2");
	dw_us(w, 0x0028, 0x0010, 16);
	dw_us(w, 0x0028, 0x0011, 16);
	dw_us(w, 0x0028, 0x0100, 16);
	dw_us(w, 0x0028, 0x0101, 12);
	dw_us(w, 0x0028, 0x0102, 11);
	dw_us(w, 0x0028, 0x0103, 0);
}

/* Wrap a data set (written with the transfer syntax's encoding) as a Part 10 file. */
static void write_part10(const char *path, const struct dw *ds, enum ts ts, const char *sop_class,
                         const char *sop_inst)
{
	struct dw m = {0}, f = {0};
	static const unsigned char ver[2] = {0, 1};
	dw_head(&m, 0x0002, 0x0001, "OB", 2);
	dw_put(&m, ver, 2);
	dw_str(&m, 0x0002, 0x0002, "UI", sop_class);
	dw_str(&m, 0x0002, 0x0003, "UI", sop_inst);
	dw_str(&m, 0x0002, 0x0010, "UI", ts_uid[ts]);
	dw_str(&m, 0x0002, 0x0012, "UI", "1.2.826.0.1.3680043.9.7777");
	unsigned char pre[128] = {0};
	dw_put(&f, pre, sizeof pre);
	dw_put(&f, "DICM", 4);
	dw_head(&f, 0x0002, 0x0000, "UL", 4);
	dw_u32(&f, (uint32_t)m.n);
	dw_put(&f, m.p, m.n);
	if (ts == TS_DEFLATED) {
		z_stream z = {0};
		cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
		unsigned char *out = malloc(ds->n + 1024);
		z.next_in = ds->p;
		z.avail_in = (uInt)ds->n;
		z.next_out = out;
		z.avail_out = (uInt)(ds->n + 1024);
		cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
		dw_put(&f, out, z.total_out);
		if (z.total_out & 1)
			dw_put(&f, "", 1);
		deflateEnd(&z);
		free(out);
	} else {
		dw_put(&f, ds->p, ds->n);
	}
	cli_write(path, f.p, f.n);
	free(m.p);
	free(f.p);
}

#define CT_CLASS "1.2.840.10008.5.1.4.1.1.2"
#define SC_CLASS "1.2.840.10008.5.1.4.1.1.7"
/* Legacy Converted Enhanced CT: a SOP class phiscan has no IOD for */
#define UNBUNDLED_CLASS "1.2.840.10008.5.1.4.1.1.2.2"
#define STUDY_UID "1.2.826.0.1.3680043.9.7777.1"
#define SERIES_UID "1.2.826.0.1.3680043.9.7777.2"
#define FOR_UID "1.2.826.0.1.3680043.9.7777.3"
#define P_NAME "Gonzalez^Maria"
#define P_ID "MRN-448812"
#define P_DOB "19610314"

struct ct_opts {
	enum ts ts;
	const char *sop_inst;
	const char *ref_inst;   /* ReferencedImageSequence's Referenced SOP Instance UID */
	const char *comments;   /* ImageComments */
	const char *charset;
	const char *burned_in;
	const char *sop_class;
	bool private_block;
	uint32_t private_pad;   /* bytes of a private OB value before the Patient module */
	uint32_t pixel_bytes;   /* native Pixel Data value (even; 0: 512) */
};

/* A dental CT slice with the usual identifiers, nested and private ones. */
static char *write_ct(const char *name, const struct ct_opts *o)
{
	struct dw w = {.big = o->ts == TS_EXPLICIT_BE, .implicit = o->ts == TS_IMPLICIT_LE};
	const char *cls = o->sop_class ? o->sop_class : CT_CLASS;
	dw_str(&w, 0x0008, 0x0005, "CS", o->charset ? o->charset : "ISO_IR 192");
	dw_str(&w, 0x0008, 0x0016, "UI", cls);
	if (o->sop_inst[0])
		dw_str(&w, 0x0008, 0x0018, "UI", o->sop_inst);
	dw_str(&w, 0x0008, 0x0020, "DA", "20250724");
	dw_str(&w, 0x0008, 0x0060, "CS", strcmp(cls, CT_CLASS) ? "OT" : "CT");
	dw_str(&w, 0x0008, 0x0080, "LO", "Bright Smile Dental");
	dw_str(&w, 0x0008, 0x0090, "PN", "Nakamura^Grace^^Dr.");
	dw_str(&w, 0x0008, 0x1010, "SH", "CBCT-ROOM2");
	if (o->ref_inst) {
		dw_seq(&w, 0x0008, 0x1140);
		dw_item(&w);
		dw_str(&w, 0x0008, 0x1150, "UI", CT_CLASS);
		dw_str(&w, 0x0008, 0x1155, "UI", o->ref_inst);
		dw_item_end(&w);
		dw_seq_end(&w);
	}
	if (o->private_block) {
		dw_str(&w, 0x0009, 0x0010, "LO", "PHISCAN TEST 1.0");
		dw_str(&w, 0x0009, 0x1010, "LO", "Patient: Maria Gonzalez");
		dw_us(&w, 0x0009, 0x1011, 42);
	}
	if (o->private_pad) {
		dw_str(&w, 0x0009, 0x0010, "LO", "PHISCAN PAD 1.0");
		dw_head(&w, 0x0009, 0x1020, "OB", o->private_pad);
		unsigned char *z = calloc(1, o->private_pad);
		cr_assert_not_null(z);
		dw_put(&w, z, o->private_pad);
		free(z);
	}
	dw_str(&w, 0x0010, 0x0010, "PN", P_NAME);
	dw_str(&w, 0x0010, 0x0020, "LO", P_ID);
	dw_str(&w, 0x0010, 0x0030, "DA", P_DOB);
	dw_str(&w, 0x0010, 0x0040, "CS", "F");
	dw_seq(&w, 0x0010, 0x1002);
	dw_item(&w);
	dw_str(&w, 0x0010, 0x0020, "LO", "OTHER-77120");
	dw_item_end(&w);
	dw_seq_end(&w);
	dw_str(&w, 0x0018, 0x1000, "LO", "SN-CB-99812");
	dw_str(&w, 0x0020, 0x000D, "UI", STUDY_UID);
	dw_str(&w, 0x0020, 0x000E, "UI", SERIES_UID);
	dw_str(&w, 0x0020, 0x0052, "UI", FOR_UID);
	if (o->comments)
		dw_str(&w, 0x0020, 0x4000, "LT", o->comments);
	dw_image_basics(&w);
	if (o->burned_in)
		dw_str(&w, 0x0028, 0x0301, "CS", o->burned_in);
	dw_pixels(&w, o->ts, o->pixel_bytes);
	char *path = cli_fmt("%s/%s", cli_case, name);
	write_part10(path, &w, o->ts, cls, o->sop_inst);
	free(w.p);
	return path;
}

static char *key_file(const char *name, unsigned char fill)
{
	unsigned char k[32];
	memset(k, fill, sizeof k);
	char *p = cli_fmt("%s/%s", cli_root, name);
	cli_write(p, k, sizeof k);
	return p;
}

/* The key phiscan derives from such a file: SHA-256 of its bytes (ops.h). */
static void key_bytes(unsigned char fill, unsigned char k[32])
{
	unsigned char raw[32];
	memset(raw, fill, sizeof raw);
	crypto_hash_sha256(k, raw, sizeof raw);
}

/* ---- reading outputs with the bridge ---- */

struct elem {
	char path[96];
	char vr[3];
	char *value;
	size_t len;
	unsigned long items;
	bool sq;
};

struct dump {
	struct elem *v;
	size_t n;
	char xfer[80];
	char pixel[65];
	int had_meta;
};

static int collect(void *arg, const struct phi_dcm_elem *e, struct phi_dcm_decision *d)
{
	struct dump *dp = arg;
	(void)d;
	dp->v = realloc(dp->v, (dp->n + 1) * sizeof *dp->v);
	struct elem *x = &dp->v[dp->n++];
	memset(x, 0, sizeof *x);
	snprintf(x->path, sizeof x->path, "%s%s", e->in_meta ? "meta:" : "", e->path);
	memcpy(x->vr, e->vr, 3);
	x->sq = e->is_sq;
	x->items = e->items;
	x->len = e->value ? e->len : 0;
	x->value = cli_own(calloc(1, x->len + 1));
	if (e->value)
		memcpy(x->value, e->value, e->len);
	/* strings: trailing padding is not part of the value */
	while (x->len && (x->value[x->len - 1] == ' ' || x->value[x->len - 1] == 0))
		x->value[--x->len] = 0;
	return 0;
}

static struct dump *dump_file(const char *path)
{
	struct dump *dp = cli_own(calloc(1, sizeof *dp));
	struct phi_dcm *h = phi_dcm_new();
	cr_assert_not_null(h);
	cr_assert(phi_dicom_init(NULL) == 0);
	int rc = phi_dcm_load(h, path, 0xFFFFFFFFu, 0);
	cr_assert_geq(rc, 0, "%s does not parse: %s", path, phi_dcm_error(h));
	snprintf(dp->xfer, sizeof dp->xfer, "%s", phi_dcm_xfer(h));
	dp->had_meta = phi_dcm_had_meta(h);
	cr_assert_eq(phi_dcm_walk(h, 0, collect, dp), 0);
	if (phi_dcm_pixel_sha256(h, dp->pixel) != 0)
		dp->pixel[0] = 0;
	phi_dcm_free(h);
	cli_own(dp->v);
	return dp;
}

static const struct elem *find_el(const struct dump *dp, const char *path)
{
	for (size_t i = 0; i < dp->n; i++)
		if (!strcmp(dp->v[i].path, path))
			return &dp->v[i];
	return NULL;
}

static const char *value_of(const struct dump *dp, const char *path)
{
	const struct elem *e = find_el(dp, path);
	return e ? e->value : NULL;
}

static bool file_has(const char *path, const char *s)
{
	size_t n;
	char *b = cli_read(path, &n);
	return b && mem_has(b, n, s);
}

/* ---- scanning ---- */

Test(dicom, scan_reports_patient_attributes_by_tag_path_and_keyword)
{
	char *f = write_ct("ct.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.10"});
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", f, NULL);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err.p);
	cr_assert(has(&out, "\"field\":\"(0010,0010) PatientName\""), "%s", out.p);
	cr_assert(has(&out, "\"field\":\"(0010,0030) PatientBirthDate\""));
	cr_assert(has(&out, "\"field\":\"(0018,1000) DeviceSerialNumber\""));
	cr_assert(has(&out, "\"field\":\"(0008,0090) ReferringPhysicianName\""));
	/* nested: Other Patient IDs Sequence item 0 */
	cr_assert(has(&out, "\"field\":\"(0010,1002)[0]/(0010,0020) PatientID\""), "%s", out.p);
	cr_assert(has(&out, "\"rule\":\"dicom-annex-e\""));
	/* values are never printed without --show-values */
	cr_assert(!has(&out, "Gonzalez") && !has(&out, P_ID) && !has(&out, P_DOB));
	cr_assert(has(&out, "\"format\":\"dicom\""));
}

Test(dicom, free_text_and_private_text_go_through_the_rules)
{
	char *f = write_ct("ct.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.10",
	                                                .comments = "Patient: Maria Gonzalez, upper molar",
	                                                .private_block = true});
	struct cbuf out = {0}, err = {0};
	cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", f, NULL);
	size_t n;
	char **l = lines_of(&out, &n);
	bool comments = false, priv = false;
	for (size_t i = 0; i < n; i++) {
		const char *rule = json_str(l[i], "rule"), *field = json_str(l[i], "field");
		if (!rule || !field || strcmp(rule, "t-name"))
			continue;
		comments |= !strcmp(field, "(0020,4000) ImageComments");
		priv |= !strncmp(field, "(0009,1010)", 11);
	}
	cr_assert(comments, "no name found in ImageComments:\n%s", out.p);
	cr_assert(priv, "no name found in the private LO:\n%s", out.p);
}

Test(dicom, burned_in_annotation_and_secondary_capture_are_a_reported_risk)
{
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.11",
	                                               .burned_in = "YES"});
	char *b = write_ct("b.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.12",
	                                               .sop_class = SC_CLASS});
	char *c = write_ct("c.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.13",
	                                               .burned_in = "NO"});
	struct cbuf out = {0}, err = {0};
	cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", a, b, c, NULL);
	size_t n;
	char **l = lines_of(&out, &n);
	int seen[3] = {0};
	for (size_t i = 0; i < n; i++) {
		const char *rule = json_str(l[i], "rule"), *path = json_str(l[i], "path");
		if (!rule || strcmp(rule, "burned-in-pixels"))
			continue;
		cr_assert_str_eq(json_str(l[i], "field"), "(7FE0,0010) PixelData");
		seen[0] += !strcmp(path, a);
		seen[1] += !strcmp(path, b);
		seen[2] += !strcmp(path, c);
	}
	cr_assert_eq(seen[0], 1);
	cr_assert_eq(seen[1], 1);
	cr_assert_eq(seen[2], 0, "a CT with BurnedInAnnotation NO is not flagged");
}

Test(dicom, a_decoy_dicm_at_128_in_a_text_file_is_text)
{
	char text[200];
	memset(text, 'a', sizeof text);
	for (size_t i = 0; i < sizeof text; i += 40)
		text[i] = '\n';
	memcpy(text + 128, "DICM", 4);
	char *f = cli_fmt("%s/decoy.dcm", cli_case);
	cli_write(f, text, sizeof text);
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", f, NULL);
	cr_assert_eq(rc, 0, "%s", out.p);
	cr_assert(has(&out, "\"formats\":{\"text\""), "%s", out.p);
}

Test(dicom, bare_data_sets_in_every_byte_order_are_read)
{
	for (int ts = TS_EXPLICIT_LE; ts <= TS_EXPLICIT_BE; ts++) {
		struct dw w = {.big = ts == TS_EXPLICIT_BE, .implicit = ts == TS_IMPLICIT_LE};
		dw_str(&w, 0x0008, 0x0016, "UI", CT_CLASS);
		dw_str(&w, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.20");
		dw_str(&w, 0x0010, 0x0010, "PN", P_NAME);
		dw_str(&w, 0x0010, 0x0020, "LO", P_ID);
		char *f = cli_fmt("%s/bare%d.dcm", cli_case, ts);
		cli_write(f, w.p, w.n);
		free(w.p);
		struct cbuf out = {0}, err = {0};
		int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", f, NULL);
		cr_assert_eq(rc, 1, "bare data set %d: exit %d\n%s", ts, rc, out.p);
		cr_assert(has(&out, "\"field\":\"(0010,0010) PatientName\""), "ts %d: %s", ts, out.p);
	}
}

/* ---- stripping ---- */

/* ---- the case harvest's walk ---- */

struct pvals {
	char v[8][80];
	size_t n;
};

static int take_value(void *arg, const char *cls, const char *v, size_t n)
{
	struct pvals *p = arg;
	cr_assert_lt(p->n, 8);
	snprintf(p->v[p->n++], sizeof p->v[0], "%s=%.*s", cls, (int)n, v);
	return 0;
}

static size_t offset_of(const unsigned char *d, size_t n, const unsigned char *pat, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(d + i, pat, k))
			return i;
	cr_assert_fail("pattern not in the file");
	return 0;
}

Test(dicom, the_harvest_walk_takes_the_patient_module_from_the_first_bytes_and_stops_after_group_0012)
{
	struct ct_opts o = {.ts = TS_EXPLICIT_LE, .sop_inst = "1.2.826.0.1.3680043.9.7777.50"};
	char *path = write_ct("harvest.dcm", &o);
	size_t n;
	unsigned char *d = (unsigned char *)cli_read(path, &n);
	cr_assert_not_null(d);
	struct phi_limits lim;
	phi_limits_default(&lim);
	struct phi_error err = {0};
	struct pvals whole = {0}, head = {0}, shorter = {0}, broken = {0};

	cr_assert_eq(phi_dicom_patient_values_mem(d, n, n, &lim, take_value, &whole, &err), 0);
	cr_assert_eq(whole.n, 3, "name, ID and birth date at top level: %zu", whole.n);
	cr_assert_str_eq(whole.v[0], "name=" P_NAME);
	cr_assert_str_eq(whole.v[1], "mrn=" P_ID);
	cr_assert_str_eq(whole.v[2], "date=" P_DOB);

	/* the first bytes up to Device Serial Number (0018,1000): the same values */
	static const unsigned char serial_tag[] = {0x18, 0x00, 0x00, 0x10, 'L', 'O'};
	size_t cut = offset_of(d, n, serial_tag, sizeof serial_tag) + 8;
	cr_assert_eq(phi_dicom_patient_values_mem(d, cut, n, &lim, take_value, &head, &err), 0);
	cr_assert_eq(head.n, 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(head.v[i], whole.v[i]);

	/* first bytes that end inside the Patient module: 1 (read the file), no values */
	static const unsigned char id_tag[] = {0x10, 0x00, 0x20, 0x00, 'L', 'O'};
	size_t mid = offset_of(d, n, id_tag, sizeof id_tag) + 4;
	cr_assert_eq(phi_dicom_patient_values_mem(d, mid, n, &lim, take_value, &shorter, &err), 1);
	cr_assert_eq(shorter.n, 0);
	/* ... or inside a value before it (Institution Name, whose value goes on in the
	 * file): the same, not a format error */
	static const unsigned char inst_tag[] = {0x08, 0x00, 0x80, 0x00, 'L', 'O'};
	size_t in_inst = offset_of(d, n, inst_tag, sizeof inst_tag) + 8 + 3;
	shorter.n = 0;
	cr_assert_eq(phi_dicom_patient_values_mem(d, in_inst, n, &lim, take_value, &shorter, &err), 1);
	cr_assert_eq(shorter.n, 0);

	/* bytes after group 0012 are never looked at: a lying Pixel Data length there
	 * does not cost the case its identifiers (the scan reports that file) */
	static const unsigned char pix_tag[] = {0xE0, 0x7F, 0x10, 0x00};
	size_t px = offset_of(d, n, pix_tag, sizeof pix_tag);
	memset(d + px + 8, 0xFF, 4);
	cr_assert_eq(phi_dicom_patient_values_mem(d, n, n, &lim, take_value, &broken, &err), 0);
	cr_assert_eq(broken.n, 3);
}

/* A Patient module past the bytes the case harvest reads first (a 20,000-byte
 * private value before it, so a value also spans the end of those bytes): the
 * harvest reads on from the file, and a note that names the patient's ID is found.
 * (A value spanning the end of the first 16 KiB once failed the harvest's walk
 * as a format error, and the case lost the file's identifiers.) */
Test(dicom, the_harvest_reads_past_its_first_bytes_for_a_patient_module_further_on)
{
	for (uint32_t pad = 2000; pad <= 20000; pad += 18000) {
		char *dir = cli_fmt("%s/far-%u", cli_case, pad);
		cr_assert_eq(mkdir(dir, 0755), 0);
		char *f = write_ct(cli_fmt("far-%u/far.dcm", pad),
		                   &(struct ct_opts){.ts = TS_EXPLICIT_LE, .sop_inst = "1.2.826.0.1.3680043.9.7777.51",
		                                     .private_pad = pad});
		size_t n;
		char *d = cli_read(f, &n);
		cr_assert_not_null(d);
		size_t at = offset_of((unsigned char *)d, n, (const unsigned char *)P_ID, strlen(P_ID));
		cr_assert_gt(at, pad, "the ID after the pad: %zu", at);
		cli_write(cli_fmt("%s/note.txt", dir), "remake for " P_ID " please\n",
		          strlen("remake for " P_ID " please\n"));
		struct cbuf out = {0}, err = {0};
		int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", dir, NULL);
		cr_assert_eq(rc, 1, "pad %u: exit %d\n%s%s", pad, rc, out.p, err.p);
		cr_assert(has(&out, "note.txt\",\"format\":\"text\",\"rule\":\"case-identifier\",\"class\":\"mrn\""),
		          "pad %u: the note's ID, harvested from the DICOM file: %s", pad, out.p);
	}
}

static struct dump *strip_one(const char *in, const char *key, const char *extra, struct cbuf *out)
{
	struct cbuf err = {0};
	char *od = cli_fmt("%s/out-%zu", cli_root, (size_t)rand());
	int rc = extra ? cli(out, &err, NULL, "strip", "--no-progress", "-q", "--key", key, extra, "-o",
	                     od, in, NULL)
	               : cli(out, &err, NULL, "strip", "--no-progress", "-q", "--key", key, "-o", od,
	                     in, NULL);
	cr_assert_lt(rc, 2, "strip failed (%d): %s%s", rc, out->p, err.p);
	const char *base = strrchr(in, '/') + 1;
	return dump_file(cli_fmt("%s/%s", od, base));
}

Test(dicom, strip_keeps_every_transfer_syntax_and_the_pixel_bytes)
{
	char *key = key_file("key", 7);
	for (int ts = TS_EXPLICIT_LE; ts <= TS_JPEG; ts++) {
		char *f = write_ct(cli_fmt("ts%d.dcm", ts),
		                   &(struct ct_opts){.ts = (enum ts)ts, .sop_inst = "1.2.826.0.1.3680043.9.7777.30"});
		struct dump *in = dump_file(f);
		struct cbuf out = {0};
		/* every other one also re-read by DCMTK (--verify) */
		struct dump *o = strip_one(f, key, ts & 1 ? "--verify" : NULL, &out);
		cr_assert_str_eq(o->xfer, ts_uid[ts], "transfer syntax changed for %d", ts);
		cr_assert(in->pixel[0], "input pixel hash");
		/* the walker's hash of the stored pixel bytes is DCMTK's */
		char walked[65];
		struct phi_limits lim;
		struct phi_error e = {0};
		struct stat st;
		phi_limits_default(&lim);
		int fd = open(f, O_RDONLY);
		cr_assert(fd >= 0 && fstat(fd, &st) == 0);
		cr_assert_eq(phi_dicom_check_lengths(fd, (uint64_t)st.st_size, &lim, walked, &e), 0, "%s",
		             e.msg);
		close(fd);
		cr_assert_str_eq(walked, in->pixel, "walker and DCMTK disagree for %d", ts);
		cr_assert_str_eq(o->pixel, in->pixel, "pixel data changed for transfer syntax %d", ts);
		cr_assert(o->had_meta);
		cr_assert_str_eq(value_of(o, "meta:(0002,0012)"), "2.25.17399522243035690647548347680912124432");
		cr_assert_str_eq(value_of(o, "meta:(0002,0003)"), value_of(o, "(0008,0018)"));
		cr_assert_str_eq(value_of(o, "(0012,0062)"), "YES");
		const char *dob = value_of(o, "(0010,0030)");
		cr_assert(!dob || !*dob, "birth date survived");
	}
}

Test(dicom, strip_remaps_uids_with_the_key_consistently_across_files_and_runs)
{
	char *key = key_file("key", 1), *key2 = key_file("key2", 2);
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.41"});
	/* Referenced Image Sequence is X/Z/U*: Type 3 in the CT Image IOD, so removed
	 * there; in a SOP class without a bundled IOD it is kept with its UIDs remapped */
	char *b = write_ct("b.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.42",
	                                               .ref_inst = "1.2.826.0.1.3680043.9.7777.41",
	                                               .sop_class = UNBUNDLED_CLASS,
	                                               .ts = TS_IMPLICIT_LE});
	char *c = write_ct("c.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.43",
	                                               .ref_inst = "1.2.826.0.1.3680043.9.7777.41"});
	struct cbuf o1 = {0}, o2 = {0}, o3 = {0}, o5 = {0};
	struct dump *da = strip_one(a, key, NULL, &o1), *db = strip_one(b, key, NULL, &o2);
	cr_assert_null(find_el(strip_one(c, key, NULL, &o5), "(0008,1140)"),
	               "Type 3 X/Z/U* in CT Image: removed");
	struct dump *da2 = strip_one(a, key2, NULL, &o3);
	/* one study, one series, one frame of reference after strip */
	cr_assert_str_eq(value_of(da, "(0020,000D)"), value_of(db, "(0020,000D)"));
	cr_assert_str_eq(value_of(da, "(0020,000E)"), value_of(db, "(0020,000E)"));
	cr_assert_str_eq(value_of(da, "(0020,0052)"), value_of(db, "(0020,0052)"));
	cr_assert_str_neq(value_of(da, "(0008,0018)"), value_of(db, "(0008,0018)"));
	/* b's reference to a follows a's new SOP Instance UID */
	cr_assert_str_eq(value_of(db, "(0008,1140)[0]/(0008,1155)"), value_of(da, "(0008,0018)"));
	/* the class UID is not an instance UID: kept */
	cr_assert_str_eq(value_of(db, "(0008,1140)[0]/(0008,1150)"), CT_CLASS);
	/* 2.25 + the keyed HMAC, as documented; another key gives other UIDs */
	unsigned char k[32];
	key_bytes(1, k);
	char want[65];
	phi_dicom_remap_uid(k, STUDY_UID, strlen(STUDY_UID), want);
	cr_assert_str_eq(value_of(da, "(0020,000D)"), want);
	cr_assert_str_neq(value_of(da2, "(0020,000D)"), want);
	cr_assert_leq(strlen(want), 64);
	/* a second run with the same key maps the same way */
	struct cbuf o4 = {0};
	struct dump *da3 = strip_one(a, key, NULL, &o4);
	cr_assert_str_eq(value_of(da3, "(0008,0018)"), value_of(da, "(0008,0018)"));
}

Test(dicom, strip_turns_the_patient_into_a_pseudonym_or_the_case_id)
{
	char *key = key_file("key", 3);
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.51"});
	char *b = write_ct("b.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.52"});
	struct cbuf o1 = {0}, o2 = {0}, o3 = {0};
	struct dump *da = strip_one(a, key, NULL, &o1), *db = strip_one(b, key, NULL, &o2);
	const char *pn = value_of(da, "(0010,0010)");
	cr_assert(pn && !strncmp(pn, "PX", 2) && strlen(pn) == 12, "pseudonym %s", pn ? pn : "(none)");
	cr_assert_str_eq(pn, value_of(da, "(0010,0020)"));
	cr_assert_str_eq(pn, value_of(db, "(0010,0010)"), "same patient, same pseudonym");
	/* Other Patient IDs Sequence is X: gone with the IDs it held */
	cr_assert_null(find_el(da, "(0010,1002)"));
	struct cbuf err = {0};
	char *od = cli_fmt("%s/case-out", cli_root);
	cr_assert_eq(cli(&o3, &err, NULL, "strip", "--no-progress", "-q", "--key", key, "--case-id",
	                 "CASE-0042", "-o", od, a, NULL), 1);
	struct dump *dc = dump_file(cli_fmt("%s/a.dcm", od));
	cr_assert_str_eq(value_of(dc, "(0010,0010)"), "CASE-0042");
	cr_assert_str_eq(value_of(dc, "(0010,0020)"), "CASE-0042");
	cr_assert(!file_has(cli_fmt("%s/a.dcm", od), "Gonzalez"));
	cr_assert(!file_has(cli_fmt("%s/a.dcm", od), "OTHER-77120"));
}

Test(dicom, strip_removes_private_elements_unless_retained_and_cleans_free_text)
{
	char *key = key_file("key", 4);
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.61",
	                                               .private_block = true,
	                                               .comments = "Patient: Maria Gonzalez"});
	struct cbuf o1 = {0}, o2 = {0};
	struct dump *d = strip_one(a, key, NULL, &o1);
	cr_assert_null(find_el(d, "(0009,0010)"));
	cr_assert_null(find_el(d, "(0009,1010)"));
	cr_assert_null(find_el(d, "(0009,1011)"));
	cr_assert_null(find_el(d, "(0020,4000)"), "ImageComments is X in the basic profile");
	/* Table E.3.10-1 does not list this creator: its whole block goes */
	struct dump *r = strip_one(a, key, "--retain-safe-private", &o2);
	cr_assert_null(find_el(r, "(0009,0010)"));
	cr_assert_null(find_el(r, "(0009,1011)"));
	cr_assert_null(find_el(r, "(0009,1010)"));
	struct cbuf o3 = {0};
	struct dump *c = strip_one(a, key, "--clean-descriptors", &o3);
	const char *ic = value_of(c, "(0020,4000)");
	cr_assert(ic && strstr(ic, "[NAME]") && !strstr(ic, "Gonzalez"), "cleaned comments: %s",
	          ic ? ic : "(none)");
}

/* The PS3.3 Type of a tag in the IOD of sop as rules/dicom/iod-types.tsv gives it
 * ("1", "2C", "3", "-"), read here independently of the table compiled into phiscan;
 * NULL when the file has no row for them. */
static const char *tsv_type(const char *sop, uint16_t g, uint16_t e)
{
	static char buf[8];
	FILE *fp = fopen("rules/dicom/iod-types.tsv", "r");
	cr_assert_not_null(fp, "rules/dicom/iod-types.tsv (run from the repository root)");
	char line[512], tag[16];
	snprintf(tag, sizeof tag, "(%04X,%04X)", g, e);
	const char *found = NULL;
	while (!found && fgets(line, sizeof line, fp)) {
		char *f[8] = {0};
		size_t k = 0;
		for (char *p = line, *t; k < 8 && (t = strsep(&p, "\t\n"));)
			f[k++] = t;
		if (line[0] != '#' && k >= 7 && !strcmp(f[0], sop) && !strcmp(f[3], tag)) {
			snprintf(buf, sizeof buf, "%s", f[6]);
			found = buf;
		}
	}
	fclose(fp);
	return found;
}

/* A combined code (PS3.15 E.1-1a) for an attribute of Type t ("1", "2C", "3", "-";
 * NULL: unknown IOD or nested, where any Type must stay valid). */
static const char *by_type(const char *a, const char *t, bool sq)
{
	if (!t)
		return !strcmp(a, "X/Z") ? "Z" : !strcmp(a, "X/Z/U*") ? (sq ? "K" : "Z") : "D";
	if (t[0] == '3' || t[0] == '-')
		return !strcmp(a, "Z/D") ? "Z" : "X";
	if (t[0] == '2')
		return !strcmp(a, "X/D") ? "D" : "Z";
	return !strcmp(a, "X/Z") ? "Z" : !strcmp(a, "X/Z/U*") ? (sq ? "K" : "Z") : "D";
}

/* dcmdump's warnings and errors about a file, one per line ("W: ...", "E: ..."). */
static char *dcmdump_diag(const char *path)
{
	char *argv[] = {"dcmdump", (char *)path, NULL};
	struct cbuf out = {0}, err = {0};
	int rc = run(argv, NULL, &out, &err);
	cr_assert_eq(rc, 0, "dcmdump %s failed: %s", path, err.p ? err.p : "");
	return cli_own(err.p ? strdup(err.p) : strdup(""));
}

/* Every warning dcmdump gives for out, it also gives for in. */
static void no_new_dcmdump_warnings(const char *in, const char *out)
{
	char *a = dcmdump_diag(in), *b = dcmdump_diag(out);
	for (char *p = b, *line; (line = strsep(&p, "\n"));)
		if (*line)
			cr_assert_not_null(strstr(a, line), "dcmdump warns about the copy only: %s", line);
}

Test(dicom, retain_safe_private_keeps_exactly_the_table_rows_by_the_creator_of_their_block)
{
	char *key = key_file("key", 5);
	struct dw w = {0};
	dw_str(&w, 0x0008, 0x0016, "UI", CT_CLASS);
	dw_str(&w, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.71");
	dw_str(&w, 0x0008, 0x0060, "CS", "CT");
	/* a nested block: the creator is resolved in the item (PS3.5 7.8.1) */
	dw_seq(&w, 0x0008, 0x2218);
	dw_item(&w);
	dw_str(&w, 0x0019, 0x0010, "LO", "SIEMENS MR HEADER");
	dw_str(&w, 0x0019, 0x100C, "IS", "800");
	dw_str(&w, 0x0019, 0x1008, "LO", "Gonzalez Maria");
	dw_item_end(&w);
	dw_seq_end(&w);
	dw_str(&w, 0x0010, 0x0010, "PN", P_NAME);
	/* group 0019: two blocks, the same element byte 0C in both */
	dw_str(&w, 0x0019, 0x0010, "LO", "SIEMENS MR HEADER");
	dw_str(&w, 0x0019, 0x0011, "LO", "PHISCAN TEST 1.0");
	dw_str(&w, 0x0019, 0x100C, "IS", "1000");   /* B Value: safe */
	dw_str(&w, 0x0019, 0x100D, "CS", "DIRECTIONAL"); /* Diffusion Directionality: safe */
	dw_str(&w, 0x0019, 0x1008, "LO", "Gonzalez Maria"); /* not in the table */
	dw_str(&w, 0x0019, 0x110C, "IS", "1000");   /* other creator: not safe */
	/* a creator of the table in a group where the table lists nothing for it */
	dw_str(&w, 0x0029, 0x0010, "LO", "SIEMENS MR HEADER");
	dw_str(&w, 0x0029, 0x100C, "IS", "1000");
	/* a creator at block 0x12, padded to even length */
	dw_str(&w, 0x0043, 0x0012, "LO", "GEMS_PARM_01");
	dw_str(&w, 0x0043, 0x1239, "IS", "1000");   /* 1st value is B Value: safe */
	dw_str(&w, 0x0043, 0x1240, "LO", "MRN-448812"); /* not in the table */
	dw_image_basics(&w);
	dw_pixels(&w, TS_EXPLICIT_LE, 0);
	char *in = cli_fmt("%s/priv.dcm", cli_case);
	write_part10(in, &w, TS_EXPLICIT_LE, CT_CLASS, "1.2.826.0.1.3680043.9.7777.71");
	free(w.p);

	cr_assert(phi_dicom_safe_private("SIEMENS MR HEADER ", 0x0019, 0x100C));
	cr_assert(phi_dicom_safe_private("SIEMENS MR HEADER", 0x0019, 0x250C), "any block");
	cr_assert(!phi_dicom_safe_private("SIEMENS MR HEADER", 0x0029, 0x100C));
	cr_assert(!phi_dicom_safe_private("PHISCAN TEST 1.0", 0x0019, 0x100C));
	cr_assert(!phi_dicom_safe_private(NULL, 0x0019, 0x100C));

	struct cbuf o1 = {0}, o2 = {0};
	struct dump *d = strip_one(in, key, "--retain-safe-private", &o1);
	cr_assert_str_eq(value_of(d, "(0019,0010)"), "SIEMENS MR HEADER");
	cr_assert_str_eq(value_of(d, "(0019,100C)"), "1000");
	cr_assert_str_eq(value_of(d, "(0019,100D)"), "DIRECTIONAL");
	cr_assert_null(find_el(d, "(0019,1008)"), "not in Table E.3.10-1");
	cr_assert_null(find_el(d, "(0019,0011)"), "a creator with no safe attribute");
	cr_assert_null(find_el(d, "(0019,110C)"), "same element byte, other creator");
	cr_assert_null(find_el(d, "(0029,0010)"));
	cr_assert_null(find_el(d, "(0029,100C)"), "the table lists this creator in 0019 only");
	cr_assert_str_eq(value_of(d, "(0043,0012)"), "GEMS_PARM_01");
	cr_assert_str_eq(value_of(d, "(0043,1239)"), "1000");
	cr_assert_null(find_el(d, "(0043,1240)"));
	cr_assert_str_eq(value_of(d, "(0008,2218)[0]/(0019,100C)"), "800");
	cr_assert_null(find_el(d, "(0008,2218)[0]/(0019,1008)"));
	/* without the option, every private element goes */
	struct dump *n = strip_one(in, key, NULL, &o2);
	for (size_t i = 0; i < n->n; i++)
		cr_assert(!strstr(n->v[i].path, "(0019,") && !strstr(n->v[i].path, "(0029,") &&
		              !strstr(n->v[i].path, "(0043,"),
		          "private element left: %s", n->v[i].path);
}

/* One attribute with a combined code of each Type in the IOD of sop, from the table
 * file: its tag, VR (from annex-e.tsv) and code. */
struct pick {
	uint16_t g, e;
	char vr[3], code[8], type[4];
};

static bool annex_vr(uint16_t g, uint16_t e, char vr[3])
{
	FILE *fp = fopen("rules/dicom/annex-e.tsv", "r");
	cr_assert_not_null(fp);
	char line[1024], tag[16];
	snprintf(tag, sizeof tag, "(%04X,%04X)", g, e);
	bool ok = false;
	while (!ok && fgets(line, sizeof line, fp))
		if (!strncmp(line, tag, 11)) {
			char *f[4] = {0};
			size_t k = 0;
			for (char *p = line, *t; k < 4 && (t = strsep(&p, "\t"));)
				f[k++] = t;
			snprintf(vr, 3, "%s", f[2]);
			ok = true;
		}
	fclose(fp);
	return ok;
}

/* The first combined-code, non-sequence attribute whose Type in sop's IOD starts with
 * one of types (e.g. "3-"), skipping Patient ID (the case id or pseudonym is D). */
static bool pick_for(const char *sop, const char *types, struct pick *out)
{
	FILE *fp = fopen("rules/dicom/iod-types.tsv", "r");
	cr_assert_not_null(fp);
	char line[512];
	bool ok = false;
	while (!ok && fgets(line, sizeof line, fp)) {
		if (line[0] == '#')
			continue;
		char *f[8] = {0};
		size_t k = 0;
		for (char *p = line, *t; k < 8 && (t = strsep(&p, "\t\n"));)
			f[k++] = t;
		unsigned g, e;
		if (k < 7 || strcmp(f[0], sop) || !strchr(types, f[6][0]) ||
		    sscanf(f[3], "(%4x,%4x)", &g, &e) != 2 || (g == 0x0010 && e == 0x0020))
			continue;
		char vr[3];
		if (!annex_vr((uint16_t)g, (uint16_t)e, vr) || !strcmp(vr, "SQ"))
			continue;
		*out = (struct pick){.g = (uint16_t)g, .e = (uint16_t)e};
		memcpy(out->vr, vr, 3);
		snprintf(out->code, sizeof out->code, "%s", f[5]);
		snprintf(out->type, sizeof out->type, "%s", f[6]);
		ok = true;
	}
	fclose(fp);
	return ok;
}

static const char *value_of_vr(const char *vr)
{
	return !strcmp(vr, "DA") ? "20240102" : !strcmp(vr, "TM") ? "101010"
	       : !strcmp(vr, "DT") ? "20240102101010" : !strcmp(vr, "PN") ? "Nakamura^Grace"
	       : !strcmp(vr, "CS") ? "PLANTED" : "Planted Value 77";
}

static void check_pick(const struct dump *d, const struct pick *p, const char *path,
                       const char *want, const char *sop)
{
	const struct elem *e = find_el(d, path);
	if (!strcmp(want, "X")) {
		cr_assert_null(e, "%s %s %s (Type %s): X but present", sop, path, p->code, p->type);
	} else if (!strcmp(want, "Z")) {
		cr_assert_not_null(e, "%s %s %s (Type %s): Z but removed", sop, path, p->code, p->type);
		cr_assert_eq(e->len, 0, "%s %s: Z but holds %s", sop, path, e->value);
	} else {
		cr_assert_not_null(e, "%s %s %s (Type %s): D but removed", sop, path, p->code, p->type);
		cr_assert_gt(e->len, 0, "%s %s: D but empty", sop, path);
		cr_assert_str_neq(e->value, value_of_vr(p->vr), "%s %s: D kept the value", sop, path);
	}
}

Test(dicom, combined_codes_follow_the_attribute_type_in_each_bundled_iod)
{
	char *key = key_file("key", 6);
	unsigned branches[3] = {0}; /* Type 3, 2, 1 attributes checked */
	const char *sop;
	for (size_t i = 0; (sop = phi_dicom_iod_class(i, NULL)); i++) {
		struct pick p[3];
		bool have[3] = {pick_for(sop, "3-", &p[0]), pick_for(sop, "2", &p[1]),
		                pick_for(sop, "1", &p[2])};
		cr_assert(have[0], "%s: no Type 3 combined-code attribute", sop);
		struct dw w = {0};
		dw_str(&w, 0x0008, 0x0005, "CS", "ISO_IR 192");
		dw_str(&w, 0x0008, 0x0016, "UI", sop);
		dw_str(&w, 0x0008, 0x0018, "UI", cli_fmt("1.2.826.0.1.3680043.9.7777.9.%zu", i));
		/* attributes in tag order: the picks, and the same three nested in a
		 * sequence phiscan keeps (Anatomic Region Sequence is not in Table E.1-1) */
		struct pick *order[3] = {&p[0], &p[1], &p[2]};
		for (int a = 0; a < 3; a++)
			for (int b = a + 1; b < 3; b++)
				if (have[order[b] - p] && (!have[order[a] - p] ||
				                           ((uint32_t)order[b]->g << 16 | order[b]->e) <
				                               ((uint32_t)order[a]->g << 16 | order[a]->e))) {
					struct pick *t = order[a];
					order[a] = order[b];
					order[b] = t;
				}
		bool nested_done = false;
		for (int a = 0; a < 3; a++) {
			struct pick *q = order[a];
			if (!have[q - p])
				continue;
			uint32_t tag = (uint32_t)q->g << 16 | q->e;
			if (!nested_done && tag > 0x00082218) {
				dw_seq(&w, 0x0008, 0x2218);
				dw_item(&w);
				for (int b = 0; b < 3; b++)
					if (have[order[b] - p])
						dw_str(&w, order[b]->g, order[b]->e, order[b]->vr,
						       value_of_vr(order[b]->vr));
				dw_item_end(&w);
				dw_seq_end(&w);
				nested_done = true;
			}
			dw_str(&w, q->g, q->e, q->vr, value_of_vr(q->vr));
		}
		if (!nested_done) {
			dw_seq(&w, 0x0008, 0x2218);
			dw_item(&w);
			for (int b = 0; b < 3; b++)
				if (have[order[b] - p])
					dw_str(&w, order[b]->g, order[b]->e, order[b]->vr,
					       value_of_vr(order[b]->vr));
			dw_item_end(&w);
			dw_seq_end(&w);
		}
		dw_str(&w, 0x0010, 0x0010, "PN", P_NAME);
		dw_str(&w, 0x0020, 0x000D, "UI", STUDY_UID);
		dw_image_basics(&w);
		dw_pixels(&w, TS_EXPLICIT_LE, 0);
		char *in = cli_fmt("%s/iod-%zu.dcm", cli_case, i);
		write_part10(in, &w, TS_EXPLICIT_LE, sop, cli_fmt("1.2.826.0.1.3680043.9.7777.9.%zu", i));
		free(w.p);

		struct cbuf out = {0};
		char *od = cli_fmt("%s/iod-out-%zu", cli_root, i);
		struct cbuf err = {0};
		int rc = cli(&out, &err, NULL, "strip", "--no-progress", "-q", "--key", key, "-o", od,
		             in, NULL);
		cr_assert_lt(rc, 2, "%s: strip failed: %s", sop, err.p ? err.p : "");
		char *copy = cli_fmt("%s/iod-%zu.dcm", od, i);
		struct dump *d = dump_file(copy);
		for (int k = 0; k < 3; k++) {
			if (!have[k])
				continue;
			char path[64];
			snprintf(path, sizeof path, "(%04X,%04X)", p[k].g, p[k].e);
			/* top level: by Type */
			check_pick(d, &p[k], path, by_type(p[k].code, p[k].type, false), sop);
			branches[k]++;
			/* nested: the choice valid for any Type */
			snprintf(path, sizeof path, "(0008,2218)[0]/(%04X,%04X)", p[k].g, p[k].e);
			check_pick(d, &p[k], path, by_type(p[k].code, NULL, false), sop);
		}
		no_new_dcmdump_warnings(in, copy);
		/* the manifest names the IOD and what the combined codes did */
		size_t mn;
		char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", od), &mn);
		cr_assert_not_null(man, "%s: no manifest", sop);
		const char *name;
		phi_dicom_iod_class(i, &name);
		cr_assert(mem_has(man, mn, name) && mem_has(man, mn, "combined codes by Type"),
		          "%s: the manifest does not say how combined codes were resolved", sop);
	}
	cr_assert(branches[0] >= 20 && branches[1] >= 10 && branches[2] >= 5,
	          "Types checked: %u Type 3, %u Type 2, %u Type 1", branches[0], branches[1],
	          branches[2]);
}

Test(dicom, every_combined_code_row_is_resolved_for_every_bundled_sop_class)
{
	/* the dental SOP classes and those of the corpus generator are bundled */
	static const char *const need[] = {
		"1.2.840.10008.5.1.4.1.1.2",      "1.2.840.10008.5.1.4.1.1.2.1",
		"1.2.840.10008.5.1.4.1.1.1.1",    "1.2.840.10008.5.1.4.1.1.1.3",
		"1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.5.1.4.1.1.7",
		"1.2.840.10008.5.1.4.1.1.7.4",    "1.2.840.10008.5.1.4.1.1.104.1",
		"1.2.840.10008.5.1.4.1.1.13.1.2"};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		cr_assert_geq(phi_dicom_iod_type(need[i], 0x0008, 0x0080), 0, "%s not bundled", need[i]);
	FILE *fp = fopen("rules/dicom/annex-e.tsv", "r");
	cr_assert_not_null(fp);
	char line[1024];
	size_t rows = 0, classes = 0, checked = 0;
	const char *sop;
	for (; phi_dicom_iod_class(classes, NULL); classes++)
		;
	while (fgets(line, sizeof line, fp)) {
		char *f[5] = {0};
		size_t k = 0;
		for (char *p = line, *t; k < 5 && (t = strsep(&p, "\t"));)
			f[k++] = t;
		unsigned g, e;
		if (line[0] == '#' || k < 4 || !strchr(f[3], '/') ||
		    sscanf(f[0], "(%4x,%4x)", &g, &e) != 2)
			continue;
		rows++;
		for (size_t i = 0; (sop = phi_dicom_iod_class(i, NULL)); i++) {
			int t = phi_dicom_iod_type(sop, (uint16_t)g, (uint16_t)e);
			const char *want = tsv_type(sop, (uint16_t)g, (uint16_t)e);
			cr_assert_not_null(want, "%s %s: no row in iod-types.tsv", sop, f[0]);
			cr_assert_eq(t, want[0] == '-' ? 0 : want[0] - '0', "%s %s: Type %d, the table says %s",
			             sop, f[0], t, want);
			checked++;
		}
	}
	fclose(fp);
	cr_assert_eq(rows, 49, "Table E.1-1 2024b has 49 concrete combined-code rows, read %zu", rows);
	cr_assert_eq(checked, rows * classes);
	cr_assert_eq(phi_dicom_iod_type(CT_CLASS, 0x0010, 0x0010), -1, "PatientName is Z, not combined");
}

Test(dicom, a_stripped_file_rescans_clean_and_carries_the_method_codes)
{
	char *key = key_file("key", 5);
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.71",
	                                               .private_block = true});
	struct cbuf out = {0}, err = {0};
	char *od = cli_fmt("%s/o", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", "-q", "--key", key,
	                 "--retain-device", "-o", od, a, NULL), 1);
	char *o = cli_fmt("%s/a.dcm", od);
	struct cbuf s = {0};
	int rc = cli(&s, &err, NULL, "scan", "--format", "json", "--no-progress", o, NULL);
	cr_assert_eq(rc, 1, "only the retained device identity may remain:\n%s", s.p);
	cr_assert_eq(count_type(&s, "finding"), 2, "%s", s.p);
	cr_assert(has(&s, "(0018,1000) DeviceSerialNumber") && has(&s, "(0008,1010) StationName"));
	struct dump *d = dump_file(o);
	bool basic = false, device = false;
	for (size_t i = 0; i < d->n; i++) {
		if (strstr(d->v[i].path, "(0012,0064)[") && strstr(d->v[i].path, "/(0008,0100)")) {
			basic |= !strcmp(d->v[i].value, "113100");
			device |= !strcmp(d->v[i].value, "113109");
		}
	}
	cr_assert(basic && device, "De-identification Method Code Sequence lacks 113100/113109");
	/* the manifest records the pixel hash before and after */
	char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", od), NULL);
	cr_assert_not_null(man);
	const char *pi = strstr(man, "\"pixels_sha256_in\": \""), *po = strstr(man, "\"pixels_sha256_out\": \"");
	cr_assert(pi && po);
	cr_assert(!strncmp(pi + 21, po + 22, 64), "pixel hashes differ in the manifest");
}

Test(dicom, retain_modified_dates_shifts_every_date_of_a_patient_by_one_keyed_offset)
{
	char *key = key_file("key", 6);
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.81"});
	struct cbuf o = {0};
	struct dump *d = strip_one(a, key, "--retain-modified-dates", &o);
	const char *sd = value_of(d, "(0008,0020)");
	cr_assert(sd && strlen(sd) == 8 && strcmp(sd, "20250724") && strcmp(sd, "19000101"),
	          "study date %s", sd ? sd : "(none)");
	cr_assert_str_eq(value_of(d, "(0028,0303)"), "MODIFIED");
	cr_assert(!value_of(d, "(0010,0030)") || !*value_of(d, "(0010,0030)"),
	          "birth date is Z under every option");
}

Test(dicom, strip_without_a_key_fails_closed_and_writes_nothing)
{
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.91"});
	struct cbuf out = {0}, err = {0};
	char *od = cli_fmt("%s/o", cli_root);
	int rc = cli(&out, &err, NULL, "strip", "--no-progress", "-o", od, a, NULL);
	cr_assert_eq(rc, 2);
	cr_assert(has(&out, "--key") || has(&err, "--key"), "%s%s", out.p, err.p);
	cr_assert_null(cli_read(cli_fmt("%s/a.dcm", od), NULL));
}

Test(dicom, filter_de_identifies_dicom_on_a_pipe)
{
	char *key = key_file("key", 8);
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.95"});
	size_t n;
	char *bytes = cli_read(a, &n);
	struct cbuf in = {bytes, n}, out = {0}, err = {0};
	int rc = cli(&out, &err, &in, "filter", "--key", key, NULL);
	cr_assert_eq(rc, 1, "%s", err.p);
	char *o = cli_fmt("%s/filtered.dcm", cli_root);
	cli_write(o, out.p, out.n);
	struct dump *d = dump_file(o);
	cr_assert_str_eq(value_of(d, "(0012,0062)"), "YES");
	cr_assert(!mem_has(out.p, out.n, "Gonzalez"));
}

/* ---- bad input ---- */

Test(dicom, a_truncated_file_is_unreadable_and_leaves_no_output)
{
	char *key = key_file("key", 9);
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.99"});
	size_t n;
	char *b = cli_read(a, &n);
	cli_write(a, b, n - 300); /* cut inside the pixel data */
	struct cbuf out = {0}, err = {0};
	char *od = cli_fmt("%s/o", cli_root);
	int rc = cli(&out, &err, NULL, "strip", "--no-progress", "--key", key, "-o", od, a, NULL);
	cr_assert_eq(rc, 2, "%s", out.p);
	cr_assert_null(cli_read(cli_fmt("%s/a.dcm", od), NULL));
}

Test(dicom, sequences_nested_a_thousand_deep_are_refused_with_one_message)
{
	struct dw w = {0};
	dw_str(&w, 0x0008, 0x0016, "UI", CT_CLASS);
	dw_str(&w, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.100");
	for (int i = 0; i < 1000; i++) {
		dw_seq(&w, 0x0040, 0x0275);
		dw_item(&w);
	}
	dw_str(&w, 0x0010, 0x0010, "PN", P_NAME);
	for (int i = 0; i < 1000; i++) {
		dw_item_end(&w);
		dw_seq_end(&w);
	}
	char *f = cli_fmt("%s/deep.dcm", cli_case);
	write_part10(f, &w, TS_EXPLICIT_LE, CT_CLASS, "1.2.826.0.1.3680043.9.7777.100");
	free(w.p);
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", f, NULL);
	cr_assert_eq(rc, 2, "%s", out.p);
	cr_assert(has(&out, "nested"), "%s", out.p);
}

/* A data set whose last element declares far more bytes than the file holds, in the
 * encoding of ts; nested puts it inside a sequence item of defined length. */
static char *write_lying(const char *name, enum ts ts, bool nested)
{
	struct dw w = {.big = ts == TS_EXPLICIT_BE, .implicit = ts == TS_IMPLICIT_LE};
	dw_str(&w, 0x0008, 0x0016, "UI", CT_CLASS);
	dw_str(&w, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.102");
	dw_str(&w, 0x0010, 0x0010, "PN", P_NAME);
	if (nested) {
		/* an item that claims 64 bytes inside a sequence that holds 24 */
		dw_head(&w, 0x0040, 0x0275, "SQ", 24);
		dw_u16(&w, 0xFFFE);
		dw_u16(&w, 0xE000);
		dw_u32(&w, 64);
		dw_str(&w, 0x0040, 0x1001, "SH", "RP-1234");
		dw_str(&w, 0x0040, 0x1002, "LO", "x");
	} else {
		dw_head(&w, 0x0009, 0x1010, "OB", 0xFFFFFFF0u);
		dw_put(&w, "ab", 2);
	}
	char *f = cli_fmt("%s/%s", cli_case, name);
	write_part10(f, &w, ts, CT_CLASS, "1.2.826.0.1.3680043.9.7777.102");
	free(w.p);
	return f;
}

/* DCMTK allocates a declared length it cannot defer (a deflated stream): every length
 * is checked against what remains before DCMTK reads the file, in every encoding. */
Test(dicom, lengths_beyond_the_data_are_refused_before_dcmtk_reads_them)
{
	static const enum ts all[] = {TS_EXPLICIT_LE, TS_IMPLICIT_LE, TS_EXPLICIT_BE, TS_DEFLATED};
	char *key = key_file("key", 13);
	for (size_t i = 0; i < 8; i++) {
		enum ts ts = all[i % 4];
		bool nested = i >= 4 && ts != TS_IMPLICIT_LE; /* implicit VR: no SQ to follow */
		char *f = write_lying(cli_fmt("lying%zu.dcm", i), ts, nested);
		struct cbuf out = {0}, err = {0};
		int rc = cli(&out, &err, NULL, "scan", "--no-progress", f, NULL);
		cr_assert_eq(rc, 2, "%s: %s", f, out.p);
		cr_assert(has(&out, "declares"), "%s: %s", f, out.p);
		cr_assert(!has(&out, "Gonzalez"), "the message must not carry PHI: %s", out.p);
		char *od = cli_fmt("%s/out%zu", cli_root, i);
		rc = cli(&out, &err, NULL, "strip", "--no-progress", "--key", key, "-o", od, f, NULL);
		cr_assert_eq(rc, 2, "%s", out.p);
		cr_assert_null(cli_read(cli_fmt("%s/lying%zu.dcm", od, i), NULL));
	}
	/* the fuzz input that made DCMTK ask for 3.5 GB: a non-standard VR in a deflated set */
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress",
	             "tests/fuzz/regress/fuzz_dicom/fuzz_dicom-oom-26a33dd67656af71d15a481a7bedda983acb645b",
	             NULL);
	cr_assert_eq(rc, 2, "%s", out.p);
	cr_assert(has(&out, "declares 3530515536 bytes"), "%s", out.p);
}

/* A deflated data set that inflates past limits->max_inflate is refused, not loaded. */
Test(dicom, a_deflate_bomb_is_refused_at_the_inflate_cap)
{
	struct dw w = {0};
	dw_str(&w, 0x0008, 0x0016, "UI", CT_CLASS);
	dw_str(&w, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.103");
	size_t big = (size_t)65 << 20;
	dw_head(&w, 0x0009, 0x1010, "OB", (uint32_t)big);
	unsigned char *zeros = calloc(1, big);
	cr_assert_not_null(zeros);
	dw_put(&w, zeros, big);
	free(zeros);
	char *f = cli_fmt("%s/bomb.dcm", cli_case);
	write_part10(f, &w, TS_DEFLATED, CT_CLASS, "1.2.826.0.1.3680043.9.7777.103");
	free(w.p);
	struct stat st;
	cr_assert_eq(stat(f, &st), 0);
	cr_assert_lt(st.st_size, 1 << 20, "the bomb should be small on disk");
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", f, NULL);
	cr_assert_eq(rc, 2, "%s", out.p);
	cr_assert(has(&out, "inflates beyond"), "%s", out.p);
}

Test(dicom, an_undefined_character_set_fails_the_file)
{
	char *a = write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.101",
	                                               .charset = "ISO_IR 999"});
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", a, NULL);
	cr_assert_eq(rc, 2, "%s", out.p);
	cr_assert(has(&out, "Character Set"), "%s", out.p);
}

Test(dicom, a_transfer_syntax_dcmtk_cannot_write_is_scanned_but_never_stripped)
{
	char *key = key_file("key", 10);
	char *a = write_ct("h.dcm", &(struct ct_opts){.ts = TS_HTJ2K,
	                                               .sop_inst = "1.2.826.0.1.3680043.9.7777.102"});
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", a, NULL);
	cr_assert_eq(rc, 1, "an HTJ2K header is scanned: %s", out.p);
	cr_assert(has(&out, "(0010,0010) PatientName"));
	char *od = cli_fmt("%s/o", cli_root);
	struct cbuf o2 = {0};
	rc = cli(&o2, &err, NULL, "strip", "--no-progress", "--key", key, "-o", od, a, NULL);
	if (rc == 2)
		cr_assert_null(cli_read(cli_fmt("%s/h.dcm", od), NULL));
	else {
		struct dump *d = dump_file(cli_fmt("%s/h.dcm", od));
		cr_assert_str_eq(d->xfer, ts_uid[TS_HTJ2K]);
	}
}

/* ---- every row of Table E.1-1 ---- */

struct trow {
	uint16_t g, e;
	char vr[4];
	char basic[8];
	char opt[10][4]; /* option columns of annex-e.tsv */
	char value[80];
};

static size_t load_table(struct trow **out)
{
	FILE *fp = fopen("rules/dicom/annex-e.tsv", "r");
	cr_assert_not_null(fp, "rules/dicom/annex-e.tsv (run from the repository root)");
	char line[1024];
	size_t n = 0, total = 0;
	struct trow *v = NULL;
	while (fgets(line, sizeof line, fp)) {
		if (line[0] == '#')
			continue;
		total++;
		char *f[20] = {0};
		size_t k = 0;
		for (char *s = line, *t; k < 20 && (t = strsep(&s, "\t\n"));)
			f[k++] = t;
		cr_assert_geq(k, 18, "short row");
		unsigned g, e;
		if (sscanf(f[0], "(%4x,%4x)", &g, &e) != 2)
			continue; /* repeating groups and the private row: tested elsewhere */
		if (g == 0x0000 || g == 0x0002 || g == 0xFFFC || g == 0x0012)
			continue; /* command and meta groups; padding; the marks strip writes */
		v = realloc(v, (n + 1) * sizeof *v);
		struct trow *r = &v[n++];
		memset(r, 0, sizeof *r);
		r->g = (uint16_t)g;
		r->e = (uint16_t)e;
		snprintf(r->vr, sizeof r->vr, "%s", strlen(f[2]) == 2 && strcmp(f[2], "--") ? f[2] : "LO");
		snprintf(r->basic, sizeof r->basic, "%s", f[3]);
		for (int i = 0; i < 10; i++)
			snprintf(r->opt[i], sizeof r->opt[i], "%s", f[4 + i]);
	}
	fclose(fp);
	cr_assert_eq(total, 621, "Table E.1-1 2024b has 621 rows, the file %zu", total);
	*out = cli_own(v);
	return n;
}

/* A value of the VR that differs from every dummy strip writes. */
static void value_for(struct trow *r)
{
	const char *vr = r->vr;
	if (!strcmp(vr, "DA"))
		snprintf(r->value, sizeof r->value, "20240102");
	else if (!strcmp(vr, "TM"))
		snprintf(r->value, sizeof r->value, "101010");
	else if (!strcmp(vr, "DT"))
		snprintf(r->value, sizeof r->value, "20240102101010");
	else if (!strcmp(vr, "AS"))
		snprintf(r->value, sizeof r->value, "045Y");
	else if (!strcmp(vr, "DS"))
		snprintf(r->value, sizeof r->value, "1.5");
	else if (!strcmp(vr, "IS"))
		snprintf(r->value, sizeof r->value, "7");
	else if (!strcmp(vr, "UI"))
		snprintf(r->value, sizeof r->value, "1.2.826.0.1.3680043.9.7777.%u.%u", r->g, r->e);
	else if (!strcmp(vr, "PN"))
		snprintf(r->value, sizeof r->value, "Doe%04X%04X^John", r->g, r->e);
	else if (!strcmp(vr, "AE") || !strcmp(vr, "CS") || !strcmp(vr, "SH"))
		snprintf(r->value, sizeof r->value, "V%04X%04X", r->g, r->e);
	else if (!strcmp(vr, "UR"))
		snprintf(r->value, sizeof r->value, "http://example.invalid/%04X", r->e);
	else
		snprintf(r->value, sizeof r->value, "Value %04X%04X", r->g, r->e);
}

static char *write_all_rows(struct trow *t, size_t n, const char *sop)
{
	struct dw w = {0};
	bool wrote_sop = false;
	for (size_t i = 0; i < n; i++) {
		struct trow *r = &t[i];
		uint32_t tag = (uint32_t)r->g << 16 | r->e;
		if (!wrote_sop && tag > 0x00080016) {
			dw_str(&w, 0x0008, 0x0016, "UI", sop);
			wrote_sop = true;
		}
		if (tag == 0x00080016)
			continue;
		value_for(r);
		if (!strcmp(r->vr, "SQ")) {
			dw_seq(&w, r->g, r->e);
			dw_item(&w);
			dw_str(&w, 0x0010, 0x0020, "LO", "NESTEDID77");
			dw_item_end(&w);
			dw_seq_end(&w);
		} else if (!strcmp(r->vr, "US")) {
			dw_us(&w, r->g, r->e, 9);
		} else if (!strcmp(r->vr, "OB") || !strcmp(r->vr, "UN")) {
			dw_head(&w, r->g, r->e, r->vr, 4);
			dw_put(&w, "\x01\x02\x03\x04", 4);
		} else {
			dw_str(&w, r->g, r->e, r->vr, r->value);
		}
	}
	char *f = cli_fmt("%s/all.dcm", cli_case);
	write_part10(f, &w, TS_EXPLICIT_LE, sop, "1.2.826.0.1.3680043.9.7777.8.24");
	free(w.p);
	return f;
}

static bool is_string_vr(const char *vr)
{
	return strcmp(vr, "SQ") && strcmp(vr, "US") && strcmp(vr, "OB") && strcmp(vr, "UN");
}

/* The action strip applies, as documented in dicom.c: options override, combined
 * codes by the Type in sop's IOD (or the choice valid for any Type). */
static const char *effective(const struct trow *r, const char *flag, const char *sop)
{
	static const char *const cols[] = {"retain-safe-private", "retain-uids", "retain-device",
	                                   "retain-institution", "retain-patient-chars",
	                                   "retain-long-dates", "retain-modified-dates",
	                                   "clean-descriptors", NULL, NULL};
	const char *a = r->basic;
	for (int i = 0; flag && i < 10; i++)
		if (cols[i] && !strcmp(cols[i], flag + 2) && strcmp(r->opt[i], "-"))
			a = r->opt[i];
	if (strchr(a, '/'))
		return by_type(a, tsv_type(sop, r->g, r->e), !strcmp(r->vr, "SQ"));
	return a;
}

static void check_rows(const char *flag, unsigned char keyfill, const char *sop)
{
	struct trow *t;
	size_t n = load_table(&t);
	char *f = write_all_rows(t, n, sop);
	char *key = key_file(cli_fmt("key%u", keyfill), keyfill);
	unsigned char k[32];
	key_bytes(keyfill, k);
	struct cbuf out = {0};
	struct dump *d = strip_one(f, key, flag, &out);
	size_t checked = 0;
	for (size_t i = 0; i < n; i++) {
		const struct trow *r = &t[i];
		if (r->g == 0x0008 && r->e == 0x0016)
			continue;
		char path[16];
		snprintf(path, sizeof path, "(%04X,%04X)", r->g, r->e);
		const struct elem *e = find_el(d, path);
		const char *a = effective(r, flag, sop);
		bool patient = r->g == 0x0010 && (r->e == 0x0010 || r->e == 0x0020);
		if (patient)
			a = "D";
		checked++;
		if (!strcmp(a, "X")) {
			cr_assert_null(e, "%s %s: X but present", path, r->basic);
		} else if (!strcmp(a, "Z")) {
			cr_assert_not_null(e, "%s %s: Z but removed", path, r->basic);
			cr_assert(e->len == 0 && e->items == 0, "%s %s: Z but holds a value", path, r->basic);
		} else if (!strcmp(a, "D")) {
			cr_assert_not_null(e, "%s %s: D but removed", path, r->basic);
			if (is_string_vr(r->vr)) {
				cr_assert_gt(e->len, 0, "%s: D but empty", path);
				cr_assert_str_neq(e->value, r->value, "%s: D kept the value", path);
			}
		} else if (!strcmp(a, "U")) {
			char want[65];
			phi_dicom_remap_uid(k, r->value, strlen(r->value), want);
			cr_assert_not_null(e, "%s: U but removed", path);
			cr_assert_str_eq(e->value, want, "%s: U not remapped with the key", path);
		} else if (!strcmp(a, "K")) {
			cr_assert_not_null(e, "%s %s: K but removed", path, r->basic);
			if (is_string_vr(r->vr))
				cr_assert_str_eq(e->value, r->value, "%s: K changed the value", path);
		} else if (!strcmp(a, "C")) {
			cr_assert_not_null(e, "%s: C but removed", path);
			if (!strcmp(r->vr, "DA") && flag && !strcmp(flag, "--retain-modified-dates"))
				cr_assert(strlen(e->value) == 8 && strcmp(e->value, r->value),
				          "%s: date not shifted (%s)", path, e->value);
		} else {
			cr_assert_fail("%s: unexpected action %s", path, a);
		}
	}
	cr_assert_gt(checked, 550, "only %zu rows checked", checked);
	/* nothing planted in a sequence survives */
	for (size_t i = 0; i < d->n; i++)
		cr_assert(strcmp(d->v[i].value, "NESTEDID77"), "nested Patient ID survived at %s",
		          d->v[i].path);
}

Test(dicom, every_row_of_annex_e_is_honoured_by_the_basic_profile)
{
	check_rows(NULL, 21, CT_CLASS);
}


Test(dicom, every_row_of_annex_e_is_honoured_for_a_sop_class_without_a_bundled_iod)
{
	cr_assert_eq(phi_dicom_iod_type(UNBUNDLED_CLASS, 0x0008, 0x0080), -1);
	check_rows(NULL, 22, UNBUNDLED_CLASS);
}

Test(dicom, every_row_with_an_option_entry_follows_the_option)
{
	static const char *const flags[] = {"--retain-uids", "--retain-device", "--retain-institution",
	                                    "--retain-patient-chars", "--retain-long-dates",
	                                    "--retain-modified-dates", "--clean-descriptors"};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		check_rows(flags[i], (unsigned char)(30 + i), CT_CLASS);
}

/* ---- the generated dental corpus (corpus/gen_dicom.c) ---- */

Test(dicom, every_identifier_planted_in_generated_dental_dicom_is_found_and_stripped)
{
	const char *gen = getenv("GENCASE");
	if (!gen || !*gen || access(gen, X_OK) != 0) {
		cli_teardown();
		cr_skip_test("GENCASE (build/gencase) not built yet");
	}
	char *corpus = cli_fmt("%s/corpus", cli_root);
	char *argv[] = {(char *)gen, "cases", corpus, "--cases", "8", "--seed", "3", NULL};
	struct cbuf out = {0}, err = {0};
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "gencase failed: %s", err.p);
	char *truth = cli_fmt("%s/truth-dicom.tsv", corpus);
	struct cbuf rep = {0};
	int rc = cli(&rep, &err, NULL, "scan", "--format", "json", "--no-progress", corpus, NULL);
	cr_assert_eq(rc, 1, "%s", err.p);
	char *report = cli_fmt("%s/report.jsonl", cli_root);
	cli_write(report, rep.p, rep.n);
	char *check[] = {"python3", "tests/dicom_truth.py", truth, report, NULL};
	struct cbuf cout = {0};
	cr_assert_eq(run(check, NULL, &cout, &err), 0, "planted DICOM identifiers missed:\n%s", cout.p);
	cr_assert(has(&cout, "TOTAL"), "%s", cout.p);

	/* strip the whole corpus; the DICOM copies re-scan with only the residual risk */
	char *key = key_file("key", 44), *od = cli_fmt("%s/clean", cli_root);
	struct cbuf s1 = {0};
	/* 3Shape HPS is report-only by default (issue 4): not part of this test */
	rc = cli(&s1, &err, NULL, "strip", "--no-progress", "-q", "--key", key, "--exclude",
	         "preparation.dcm", "--exclude", "antagonist.dcm", "-o", od, corpus, NULL);
	cr_assert_lt(rc, 2, "strip: %s", s1.p);
	struct cbuf s2 = {0};
	cli(&s2, &err, NULL, "scan", "--format", "json", "--no-progress", od, NULL);
	size_t n;
	char **l = lines_of(&s2, &n);
	size_t dicom_files = 0;
	for (size_t i = 0; i < n; i++) {
		const char *fmt = json_str(l[i], "format");
		if (!fmt || strcmp(fmt, "dicom"))
			continue;
		if (is_type(l[i], "finding"))
			cr_assert_str_eq(json_str(l[i], "rule"), "burned-in-pixels", "left in %s: %s",
			                 json_str(l[i], "path"), json_str(l[i], "field"));
	}
	for (size_t i = 0; i < n; i++)
		if (is_type(l[i], "summary")) {
			static const char pat[] = "\"dicom\":{\"scanned\":";
			const char *p = strstr(l[i], pat);
			cr_assert_not_null(p, "%s", l[i]);
			dicom_files = strtoul(p + strlen(pat), NULL, 10);
		}
	cr_assert_geq(dicom_files, 8 * 6, "only %zu DICOM copies", dicom_files);
}

/* ---- fuzz findings, replayed ---- */

#include <dirent.h>
#include <ftw.h>
#include <strings.h>

Test(dicom, fuzz_regressions_fail_cleanly_in_scan_and_filter)
{
	DIR *d = opendir("tests/fuzz/regress/fuzz_dicom");
	cr_assert_not_null(d, "tests/fuzz/regress/fuzz_dicom (run from the repository root)");
	char *key = key_file("key", 12);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char *f = cli_fmt("tests/fuzz/regress/fuzz_dicom/%s", e->d_name);
		struct cbuf out = {0}, err = {0};
		int rc = cli(&out, &err, NULL, "scan", "--no-progress", f, NULL);
		cr_assert_leq(rc, 2, "%s: scan exit %d", f, rc);
		size_t len;
		char *bytes = cli_read(f, &len);
		struct cbuf in = {bytes, len}, o2 = {0};
		rc = cli(&o2, &err, &in, "filter", "--key", key, NULL);
		cr_assert_leq(rc, 2, "%s: filter exit %d", f, rc);
		n++;
	}
	closedir(d);
	cr_assert_gt(n, 0);
}

/* ---- the manifest hashes of the memory and file paths ---- */

/* The "name": "hex" value of the manifest record of input in (64 hex digits). */
static char *manifest_hash(const char *man, const char *input, const char *name)
{
	const char *rec = strstr(man, cli_fmt("{\"input\": \"%s\"", input));
	cr_assert_not_null(rec, "no manifest record for %s in %.600s", input, man);
	const char *end = strchr(rec, '\n');
	const char *p = strstr(rec, cli_fmt("\"%s\": \"", name));
	cr_assert(p && (!end || p < end), "no %s for %s", name, input);
	p += strlen(name) + 5;
	return cli_own(strndup(p, 64));
}

static char *sha256_of(const char *path)
{
	size_t n;
	char *b = cli_read(path, &n);
	cr_assert_not_null(b, "%s", path);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)b, n);
	char *hex = cli_own(malloc(65));
	sodium_bin2hex(hex, 65, h, sizeof h);
	return hex;
}

static char *walked_pixels(const char *path)
{
	char *hex = cli_own(malloc(65));
	struct phi_limits lim;
	struct phi_error e = {0};
	struct stat st;
	phi_limits_default(&lim);
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0 && fstat(fd, &st) == 0);
	cr_assert_eq(phi_dicom_check_lengths(fd, (uint64_t)st.st_size, &lim, hex, &e), 0, "%s", e.msg);
	close(fd);
	return hex;
}

/* A 9 MiB CT slice (2048 x 2304 x 16 bit): over what the memory path holds. */
static void write_big(const char *path)
{
	struct dw w = {0};
	dw_str(&w, 0x0008, 0x0016, "UI", CT_CLASS);
	dw_str(&w, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.91");
	dw_str(&w, 0x0010, 0x0010, "PN", P_NAME);
	dw_str(&w, 0x0020, 0x000D, "UI", STUDY_UID);
	dw_us(&w, 0x0028, 0x0002, 1);
	dw_str(&w, 0x0028, 0x0004, "CS", "MONOCHROME2");
	dw_us(&w, 0x0028, 0x0010, 2048);
	dw_us(&w, 0x0028, 0x0011, 2304);
	dw_us(&w, 0x0028, 0x0100, 16);
	dw_us(&w, 0x0028, 0x0101, 16);
	dw_us(&w, 0x0028, 0x0102, 15);
	dw_us(&w, 0x0028, 0x0103, 0);
	const uint32_t npix = 2048u * 2304u * 2u;
	dw_head(&w, 0x7FE0, 0x0010, "OW", npix);
	for (uint32_t i = 0; i < npix / 2; i++)
		dw_u16(&w, (i * 2654435761u) >> 20);
	write_part10(path, &w, TS_EXPLICIT_LE, CT_CLASS, "1.2.826.0.1.3680043.9.7777.91");
	free(w.p);
}

/* The input digest a strip records for a DICOM file, from its definition
 * (formats/indigest.h, kind "dicom-pixels"): the walker's map of the pixel bytes,
 * everything else hashed here. */
static char *dicom_digest(const char *key, const char *path)
{
	size_t n;
	unsigned char *b = (unsigned char *)cli_read(path, &n);
	cr_assert_not_null(b);
	struct phi_limits lim;
	struct phi_error e = {0};
	struct phi_dicom_pixmap pm = {0};
	phi_limits_default(&lim);
	cr_assert_eq(phi_dicom_check_mem(b, n, &lim, NULL, &pm, &e), 0, "%s", e.msg);
	crypto_hash_sha256_state gaps, pix, d;
	crypto_hash_sha256_init(&gaps);
	crypto_hash_sha256_init(&pix);
	crypto_hash_sha256_init(&d);
	size_t nr = pm.seen ? pm.n : 0, at = 0;
	for (size_t i = 0; i < nr; i++) {
		crypto_hash_sha256_update(&gaps, b + at, pm.v[i].off - at);
		crypto_hash_sha256_update(&pix, b + pm.v[i].off, pm.v[i].len);
		at = pm.v[i].off + pm.v[i].len;
	}
	crypto_hash_sha256_update(&gaps, b + at, n - at);
	unsigned char u[8], hg[32], hp[32], hd[32];
	crypto_hash_sha256_update(&d, (const unsigned char *)"phiscan dicom-pixels v1", 24);
	uint64_t v[2] = {n, nr};
	for (int k = 0; k < 2 + 2 * (int)nr; k++) {
		uint64_t x = k < 2 ? v[k] : k % 2 == 0 ? pm.v[(k - 2) / 2].off : pm.v[(k - 2) / 2].len;
		for (int j = 0; j < 8; j++)
			u[j] = (unsigned char)(x >> (8 * j));
		crypto_hash_sha256_update(&d, u, 8);
	}
	crypto_hash_sha256_final(&gaps, hg);
	crypto_hash_sha256_final(&pix, hp);
	crypto_hash_sha256_update(&d, hg, 32);
	crypto_hash_sha256_update(&d, hp, 32);
	crypto_hash_sha256_final(&d, hd);
	free(pm.v);
	return input_hmac(key, "dicom-pixels", hd);
}

Test(dicom, manifest_hashes_are_the_copys_sha256_and_the_inputs_keyed_digest_in_memory_or_on_disk)
{
	char *key = key_file("key", 9);
	char *dir = cli_fmt("%s/hashes", cli_case);
	char *files[8];
	size_t nf = 0;
	/* small files take the memory path; a deflated one the file path */
	for (int ts = TS_EXPLICIT_LE; ts <= TS_JPEG; ts++)
		files[nf++] = write_ct(cli_fmt("hashes/ts%d.dcm", ts),
		                       &(struct ct_opts){.ts = (enum ts)ts,
		                                         .sop_inst = "1.2.826.0.1.3680043.9.7777.90"});
	/* over the 8 MiB the memory path holds: the file path, pixels hashed on disk */
	files[nf] = cli_fmt("%s/big.dcm", dir);
	write_big(files[nf++]);

	char *od = cli_fmt("%s/hashes-out", cli_root);
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "strip", "--no-progress", "-q", "--key", key, "-o", od, dir, NULL);
	cr_assert_eq(rc, 1, "strip exit %d: %s%s", rc, out.p, err.p);
	char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", od), NULL);
	cr_assert_not_null(man);
	/* phiscan digest on the originals: the same values, in walk order */
	struct cbuf dg = {0};
	rc = cli(&dg, &err, NULL, "digest", "--no-progress", "--key", key, "-j", "2", dir, NULL);
	cr_assert_eq(rc, 0, "digest exit %d: %s%s", rc, dg.p, err.p);
	for (size_t i = 0; i < nf; i++) {
		const char *base = strrchr(files[i], '/') + 1;
		char *o = cli_fmt("%s/%s", od, base);
		/* the input keyed (a deflated data set's digest is its file's SHA-256), never
		 * a plain hash of it */
		bool deflated = strstr(base, "ts3.dcm") != NULL;
		size_t n;
		char *b = cli_read(files[i], &n);
		char *want = deflated ? input_hmac_sha256(key, b, n) : dicom_digest(key, files[i]);
		cr_assert_str_eq(manifest_hash(man, files[i], "input_hmac_sha256"), want, "%s", base);
		cr_assert(strstr(man, cli_fmt("\"input_digest\": \"%s\", \"input_hmac_sha256\": \"%s\"",
		                              deflated ? "sha256" : "dicom-pixels", want)),
		          "%s", base);
		cr_assert(!strstr(man, sha256_of(files[i])), "%s: the input's plain hash", base);
		cr_assert(has(&dg, cli_fmt("%s  %s  %s\n", want, deflated ? "sha256" : "dicom-pixels",
		                           files[i])),
		          "%s: %s", base, dg.p);
		cr_assert_str_eq(manifest_hash(man, files[i], "output_sha256"), sha256_of(o), "%s", base);
		/* the pixel facts are the walker's hash of each file's stored pixel bytes */
		char *pin = walked_pixels(files[i]);
		cr_assert_str_eq(manifest_hash(man, files[i], "pixels_sha256_in"), pin, "%s", base);
		cr_assert_str_eq(manifest_hash(man, files[i], "pixels_sha256_out"), walked_pixels(o), "%s",
		                 base);
		cr_assert_str_eq(walked_pixels(o), pin, "%s: pixels changed", base);
		cr_assert(!file_has(o, P_NAME), "%s: the name survived", base);
	}
	/* another key, other digests: whoever lacks the key cannot link a copy to an original */
	char *key2 = key_file("key2", 11);
	struct cbuf dg2 = {0};
	cr_assert_eq(cli(&dg2, &err, NULL, "digest", "--no-progress", "--key", key2, dir, NULL), 0);
	cr_assert_str_neq(dg2.p, dg.p);
	cr_assert(!has(&dg2, dicom_digest(key, files[0])));
}

Test(dicom, filter_takes_a_pipe_in_memory_or_spooled_whatever_its_size_and_encoding)
{
	char *key = key_file("key", 10);
	/* small: read whole; deflated: read whole, then spooled for the inflating path;
	 * 9 MiB: the first 8 MiB read, then spooled with the rest */
	char *files[3];
	files[0] = write_ct("pipe/small.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.96"});
	files[1] = write_ct("pipe/deflated.dcm", &(struct ct_opts){.ts = TS_DEFLATED,
	                                                            .sop_inst = "1.2.826.0.1.3680043.9.7777.97"});
	files[2] = cli_fmt("%s/pipe/big.dcm", cli_case);
	write_big(files[2]);
	for (size_t i = 0; i < 3; i++) {
		size_t n;
		char *bytes = cli_read(files[i], &n);
		struct cbuf in = {bytes, n}, out = {0}, err = {0};
		int rc = cli(&out, &err, &in, "filter", "--key", key, NULL);
		cr_assert_eq(rc, 1, "%s: exit %d: %s", files[i], rc, err.p);
		char *o = cli_fmt("%s/filtered-%zu.dcm", cli_root, i);
		cli_write(o, out.p, out.n);
		struct dump *din = dump_file(files[i]), *d = dump_file(o);
		cr_assert_str_eq(d->xfer, din->xfer, "%s", files[i]);
		cr_assert_str_eq(d->pixel, din->pixel, "%s: pixel data changed", files[i]);
		cr_assert_str_eq(value_of(d, "(0012,0062)"), "YES");
		cr_assert(!mem_has(out.p, out.n, "Gonzalez"), "%s: the name survived", files[i]);
		const char *name = value_of(d, "(0010,0010)");
		cr_assert(!name || !strstr(name, "Gonzalez"), "%s: the name survived", files[i]);
		/* stdout a file the shell opened write-only: the same copy, no false failure */
		char *fo = cli_fmt("%s/filtered-%zu-file.dcm", cli_root, i);
		char *cmd = cli_fmt("'%s' filter --key '%s' < '%s' > '%s'", cli_bin, key, files[i], fo);
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};
		struct cbuf o2 = {0}, e2 = {0};
		rc = run(argv, NULL, &o2, &e2);
		cr_assert_eq(rc, 1, "%s to a file: exit %d: %s", files[i], rc, e2.p);
		struct dump *df = dump_file(fo);
		cr_assert_str_eq(df->pixel, din->pixel, "%s to a file: pixel data changed", files[i]);
		cr_assert_str_eq(value_of(df, "(0012,0062)"), "YES");
	}
}

/* ---- phiscan's own reader and writer against DCMTK (formats/dicom_native.c) ----
 *
 * The same bytes go through both readers: every visit must carry the same tag, VR,
 * path, keyword, private creator and value, in the same order; then the same
 * decisions (chosen here from the tag, so every kind is exercised) and the same
 * top-level edits must make byte-identical copies.  A file the native reader leaves
 * to DCMTK (PHI_ENOTSUP) is counted, not compared. */

/* 1 when the native reader took the file and agreed with DCMTK, 0 when it left the
 * file to DCMTK; a disagreement fails the test. */
static int same_as_dcmtk(const char *name, const unsigned char *data, size_t n)
{
	char why[2048];
	cr_assert_eq(phi_dicom_init(NULL), 0);
	cr_assert_eq(phi_dcm_init(), 0);
	int r = dicom_diff(data, n, why, sizeof why);
	cr_assert_geq(r, 0, "%s: %s", name, why);
	/* and a scan's parse from the first bytes, read on as it asks, agrees with it */
	const size_t firsts[] = {144, 1024, n / 2};
	for (size_t i = 0; i < sizeof firsts / sizeof *firsts; i++)
		cr_assert_geq(dicom_prefix_diff(data, n, firsts[i], why, sizeof why), 0,
		              "%s, first %zu bytes: %s", name, firsts[i], why);
	return r;
}

static int same_as_dcmtk_file(const char *path)
{
	size_t n;
	char *b = cli_read(path, &n);
	cr_assert_not_null(b, "%s", path);
	return same_as_dcmtk(path, (const unsigned char *)b, n);
}

Test(dicom, native_reader_matches_dcmtk_on_every_encoding_it_takes)
{
	static const enum ts all[] = {TS_EXPLICIT_LE, TS_IMPLICIT_LE, TS_JPEG, TS_EXPLICIT_BE,
	                              TS_DEFLATED, TS_HTJ2K};
	int took = 0;
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		struct ct_opts o = {.ts = all[i], .sop_inst = "1.2.826.0.1.3680043.9.7777.10",
		                    .ref_inst = "1.2.826.0.1.3680043.9.7777.11",
		                    .comments = "Patient: Maria Gonzalez, upper molar",
		                    .private_block = true};
		took += same_as_dcmtk_file(write_ct(cli_fmt("ct%zu.dcm", i), &o));
		o.charset = "ISO_IR 100";
		took += same_as_dcmtk_file(write_ct(cli_fmt("ct%zu-latin1.dcm", i), &o));
	}
	/* explicit LE, implicit LE and JPEG, each twice; big endian, deflate, HTJ2K: DCMTK */
	cr_assert_eq(took, 6);
}

/* Native pixel values of the strip's hole size and over (dicom_native.h): the copy
 * with the hole, its pixel bytes the input's, is DCMTK's byte for byte (dicom_diff),
 * and a strip writes it so: the copy's pixel bytes are the input's, its hashes the
 * manifest's, and it re-reads with DCMTK (--verify fills the hole first). */
Test(dicom, native_pixels_written_from_the_input_make_dcmtks_copy)
{
	char *key = key_file("key", 12);
	const uint32_t sizes[] = {4094, 4096, 65536};
	const enum ts tss[] = {TS_EXPLICIT_LE, TS_IMPLICIT_LE};
	for (size_t i = 0; i < 3; i++)
		for (size_t t = 0; t < 2; t++) {
			char *f = write_ct(cli_fmt("hole-%zu-%zu.dcm", i, t),
			                   &(struct ct_opts){.ts = tss[t], .pixel_bytes = sizes[i],
			                                     .sop_inst = "1.2.826.0.1.3680043.9.7777.60"});
			cr_assert_eq(same_as_dcmtk_file(f), 1, "%s", f);
			for (int verify = 0; verify <= 1; verify++) {
				struct cbuf out = {0}, err = {0};
				char *od = cli_fmt("%s/hole-out-%zu-%zu-%d", cli_root, i, t, verify);
				int rc = cli(&out, &err, NULL, "strip", "--no-progress", "-q", "--key", key,
				             verify ? "--verify" : "-q", "-o", od, f, NULL);
				cr_assert_eq(rc, 1, "%s: strip %d: %s%s", f, rc, out.p, err.p);
				char *o = cli_fmt("%s/%s", od, strrchr(f, '/') + 1);
				cr_assert_str_eq(dump_file(o)->pixel, dump_file(f)->pixel, "%s: pixels changed", f);
				char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", od), NULL);
				cr_assert_not_null(man);
				cr_assert_str_eq(manifest_hash(man, f, "output_sha256"), sha256_of(o), "%s", f);
				cr_assert_str_eq(manifest_hash(man, f, "pixels_sha256_out"), walked_pixels(o), "%s",
				                 f);
				cr_assert_str_eq(walked_pixels(o), walked_pixels(f), "%s", f);
				cr_assert(!file_has(o, P_NAME), "%s", f);
			}
		}
}

/* Implicit VR: the dictionary's ambiguous VRs (xs, ox, lt, up, px) as DCMTK types
 * them, private elements of known and unknown creators, odd and padded values. */
Test(dicom, native_reader_matches_dcmtk_on_implicit_vr_edge_cases)
{
	for (int implicit = 0; implicit <= 1; implicit++) {
		struct dw w = {.implicit = implicit};
		static const unsigned char two[2] = {1, 0};
		dw_str(&w, 0x0008, 0x0005, "CS", "ISO_IR 100");
		dw_str(&w, 0x0008, 0x0016, "UI", CT_CLASS);
		dw_str(&w, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.30");
		dw_str(&w, 0x0008, 0x0080, "LO", "Cl\xEDnica Dental M\xFCller  ");
		dw_str(&w, 0x0008, 0x1030, "LO", "  leading spaces");
		dw_str(&w, 0x0009, 0x0010, "LO", "GEMS_IDEN_01");
		dw_str(&w, 0x0009, 0x1001, "LO", "Patient: Maria Gonzalez");
		dw_str(&w, 0x0009, 0x1002, "SH", "ACME-12");
		dw_str(&w, 0x0010, 0x0010, "PN", "M\xFCller^Hans");
		dw_str(&w, 0x0010, 0x0020, "LO", " ID-42 ");
		dw_str(&w, 0x0011, 0x0010, "LO", "NOBODY KNOWS THIS");
		dw_str(&w, 0x0011, 0x0011, "LO", " GEMS_IDEN_01");   /* a leading space */
		dw_head(&w, 0x0011, 0x0012, "LO", 14); /* cut at the NUL */
		dw_put(&w, "GEMS_IDEN_01\0X", 14);
		dw_str(&w, 0x0011, 0x1001, "LO", "Mr. Private Text");
		dw_head(&w, 0x0011, 0x1002, "OB", 2);
		dw_put(&w, two, 2);
		dw_str(&w, 0x0011, 0x1101, "LO", "in the leading-space block");
		dw_str(&w, 0x0011, 0x1201, "LO", "in the NUL block");
		dw_str(&w, 0x0020, 0x4000, "LT", "odd\0nul");
		dw_image_basics(&w);
		dw_us(&w, 0x0028, 0x0106, 3);
		dw_us(&w, 0x0028, 0x0107, 4000);
		dw_seq(&w, 0x0028, 0x3010);
		dw_item(&w);
		dw_head(&w, 0x0028, 0x3002, "US", 6);
		dw_u16(&w, 4);
		dw_u16(&w, 0);
		dw_u16(&w, 16);
		dw_head(&w, 0x0028, 0x3006, "OW", 8);
		for (int i = 0; i < 4; i++)
			dw_u16(&w, (unsigned)i);
		dw_item_end(&w);
		dw_seq_end(&w);
		dw_head(&w, 0x6000, 0x3000, "OW", 4);
		dw_u16(&w, 1);
		dw_u16(&w, 2);
		dw_pixels(&w, TS_EXPLICIT_LE, 0);
		char *path = cli_fmt("%s/edge%d.dcm", cli_case, implicit);
		write_part10(path, &w, implicit ? TS_IMPLICIT_LE : TS_EXPLICIT_LE, CT_CLASS,
		             "1.2.826.0.1.3680043.9.7777.30");
		free(w.p);
		cr_assert_eq(same_as_dcmtk_file(path), 1, "%s was left to DCMTK", path);
	}
}

/* Every DICOM file of a tree (recursively) through both readers. */
static char **dcm_list;
static size_t dcm_n;
static bool dcm_any_name; /* every file, not only *.dcm */

static int dcm_collect(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	size_t l = strlen(p);
	if (type == FTW_F && (dcm_any_name || (l > 4 && !strcasecmp(p + l - 4, ".dcm")))) {
		dcm_list = realloc(dcm_list, (dcm_n + 1) * sizeof *dcm_list);
		dcm_list[dcm_n++] = cli_own(strdup(p));
	}
	return 0;
}

static void same_as_dcmtk_tree(const char *root, int *took, int *files)
{
	dcm_list = NULL;
	dcm_n = 0;
	cr_assert_eq(nftw(root, dcm_collect, 16, FTW_PHYS), 0, "%s", root);
	for (size_t i = 0; i < dcm_n; i++) {
		size_t n;
		char *b = cli_read(dcm_list[i], &n);
		struct phi_dcm *h = phi_dcm_new();
		int dcmtk = phi_dcm_load_mem(h, b, n, 1);
		phi_dcm_free(h);
		if (dcmtk != 0) { /* not DICOM DCMTK reads (3Shape's XML .dcm, broken files) */
			struct phi_dnat *nat = phi_dnat_new();
			uint64_t need;
			int nrc = phi_dnat_parse(nat, (const unsigned char *)b, n, n, 64, 0, &need);
			phi_dnat_free(nat);
			cr_assert_eq(nrc, PHI_ENOTSUP, "%s: DCMTK refuses it (%d), the native reader took it",
			             dcm_list[i], dcmtk);
			continue;
		}
		(*files)++;
		*took += same_as_dcmtk_file(dcm_list[i]);
	}
	free(dcm_list);
}

Test(dicom, native_reader_matches_dcmtk_on_the_generated_corpus_and_the_public_samples)
{
	const char *gen = getenv("GENCASE");
	if (!gen || !*gen || access(gen, X_OK) != 0) {
		cli_teardown();
		cr_skip_test("GENCASE (build/gencase) not built yet");
	}
	cr_assert_eq(phi_dcm_init(), 0);
	char *corpus = cli_fmt("%s/corpus", cli_root);
	char *argv[] = {(char *)gen, "cases", corpus, "--cases", "4", "--seed", "11", NULL};
	struct cbuf out = {0}, err = {0};
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "gencase failed: %s", err.p);
	int took = 0, files = 0;
	same_as_dcmtk_tree(corpus, &took, &files);
	cr_assert_geq(files, 4 * 6, "%d DICOM files", files);
	cr_assert_geq(took * 2, files, "the native reader took only %d of %d files", took, files);
	cr_log_info("generated corpus: %d of %d read natively", took, files);
	/* ../shared/samples/dicom (real public files), when it is beside the repository */
	if (access("../shared/samples/dicom", R_OK) == 0) {
		int st = 0, sf = 0;
		same_as_dcmtk_tree("../shared/samples/dicom", &st, &sf);
		cr_assert_gt(st, 0, "no sample was read natively (%d DICOM samples)", sf);
		cr_log_info("public samples: %d of %d read natively", st, sf);
	}
	/* the fuzz regressions: whichever reader takes one, they agree */
	dcm_any_name = true;
	same_as_dcmtk_tree("tests/fuzz/regress/fuzz_dicom", &took, &files);
	same_as_dcmtk_tree("tests/fuzz/regress/fuzz_dicom_native", &took, &files);
	dcm_any_name = false;
}

/* A file without a SOP Instance UID gets a keyed one, the same every run (DCMTK would
 * put a random one in the meta header), on both readers' paths. */
Test(dicom, a_missing_sop_instance_uid_becomes_a_keyed_one_the_same_every_run)
{
	char *key = key_file("key", 21);
	static const enum ts all[] = {TS_EXPLICIT_LE, TS_IMPLICIT_LE, TS_EXPLICIT_BE};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		char *f = write_ct(cli_fmt("noinst%zu.dcm", i), &(struct ct_opts){.ts = all[i], .sop_inst = ""});
		cr_assert_null(value_of(dump_file(f), "(0008,0018)"));
		struct cbuf o1 = {0}, o2 = {0};
		struct dump *a = strip_one(f, key, NULL, &o1), *b = strip_one(f, key, NULL, &o2);
		const char *ua = value_of(a, "(0008,0018)"), *ub = value_of(b, "(0008,0018)");
		cr_assert(ua && !strncmp(ua, "2.25.", 5), "no keyed SOP Instance UID (%zu)", i);
		cr_assert_str_eq(ua, ub, "two runs gave two UIDs (%zu)", i);
		cr_assert_str_eq(value_of(a, "meta:(0002,0003)"), ua);
	}
}

/* ---- DCMTK as a module loaded on demand (formats/dicom_bridge_load.c) ---- */

/* Whether this process has mapped libdcmdata (DCMTK's module loaded). */
static bool dcmtk_mapped(void)
{
	size_t n;
	char *maps = cli_read("/proc/self/maps", &n);
	cr_assert_not_null(maps);
	return mem_has(maps, n, "libdcmdata.so");
}

/* The module, as the test runs see it: PHISCAN_DCMTK_MODULE (make test sets it),
 * else beside the binary under test. */
static const char *module_path(void)
{
	const char *m = getenv("PHISCAN_DCMTK_MODULE");
	return m && *m ? m : cli_fmt("%s-dcmtk.so", cli_bin);
}

Test(dicom, a_handle_and_the_native_reader_do_not_load_dcmtk_until_a_file_needs_it)
{
	cr_assert(!dcmtk_mapped(), "DCMTK was loaded before anything asked for it");
	cr_assert_eq(phi_dicom_init(NULL), 0);
	struct phi_dcm *h = phi_dcm_new();
	cr_assert_not_null(h);
	/* a native file parsed and walked, as dicom.c does when the module is absent */
	char *f = write_ct("n.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.120"});
	size_t n;
	unsigned char *b = (unsigned char *)cli_read(f, &n);
	struct phi_dnat *nat = phi_dnat_new();
	uint64_t need = 0;
	cr_assert_eq(phi_dnat_parse(nat, b, n, n, 64, 1, &need), 0, "%s", phi_dnat_error(nat));
	struct dump d = {0};
	cr_assert_eq(phi_dnat_walk(nat, 0, collect, &d), 0);
	cr_assert(d.n > 10, "the native walk saw %zu elements", d.n);
	phi_dnat_free(nat);
	/* a handle that never loaded a file fails its calls without DCMTK */
	char v[8];
	cr_assert_eq(phi_dcm_get(h, 0x0010, 0x0010, v, sizeof v), 1);
	cr_assert_eq(phi_dcm_walk(h, 0, collect, &d), PHI_EUSAGE);
	cr_assert_str_eq(phi_dcm_error(h), "no DICOM file loaded");
	cr_assert(!dcmtk_mapped(), "a handle or the native reader loaded DCMTK");
	/* the first load does, with the dictionary */
	cr_assert_geq(phi_dcm_load(h, f, 0xFFFFFFFFu, 0), 0, "%s", phi_dcm_error(h));
	cr_assert(dcmtk_mapped(), "a DCMTK load ran without DCMTK mapped");
	cr_assert_str_eq(phi_dcm_xfer(h), ts_uid[TS_EXPLICIT_LE]);
	char name[64];
	cr_assert_eq(phi_dcm_get(h, 0x0010, 0x0010, name, sizeof name), 0);
	cr_assert_str_eq(name, P_NAME);
	cr_assert_null(phi_dcm_unavailable());
	cr_assert_str_eq(phi_dcm_version(), "3.6.7");
	phi_dcm_free(h);
}

Test(dicom, without_the_module_native_files_are_scanned_and_stripped_and_dcmtk_files_are_unscanned)
{
	char *key = key_file("key", 30);
	const char *module = module_path();
	write_ct("a.dcm", &(struct ct_opts){.sop_inst = "1.2.826.0.1.3680043.9.7777.121"});
	write_ct("z.dcm", &(struct ct_opts){.ts = TS_DEFLATED, .sop_inst = "1.2.826.0.1.3680043.9.7777.122"});
	char *missing = cli_fmt("%s/no-such-dir/phiscan-dcmtk.so", cli_root);
	setenv("PHISCAN_DCMTK_MODULE", missing, 1);
	/* one batch: the native file is reported, the deflated one is unscanned (exit 2) */
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", cli_case, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert_not_null(line_for(&out, "finding", "/a.dcm"), "the native file has no finding: %s",
	                   out.p);
	cr_assert_null(line_for(&out, "finding", "/z.dcm"), "a file nobody read has findings");
	const char *z_line = line_for(&out, "unreadable", "/z.dcm");
	cr_assert_not_null(z_line, "the deflated file is not unscanned: %s", out.p);
	char *why = json_str(z_line, "reason");
	cr_assert(why && strstr(why, "this file needs DCMTK, which is unavailable: ") &&
	          strstr(why, "no-such-dir/phiscan-dcmtk.so"),
	          "the reason does not say why: %s", z_line);
	/* strip: the native file is written and de-identified, the deflated one is not */
	char *od = cli_fmt("%s/o", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", "--key", key, "-o", od, cli_case, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	char *oa = cli_fmt("%s/a.dcm", od);
	size_t n;
	char *bytes = cli_read(oa, &n);
	cr_assert_not_null(bytes, "the native file was not written: %s%s", out.p, err.p);
	cr_assert(!mem_has(bytes, n, "Gonzalez"), "the patient name survived");
	cr_assert_null(cli_read(cli_fmt("%s/z.dcm", od), NULL), "an unread file was written");
	/* with the module the deflated file is read and written */
	setenv("PHISCAN_DCMTK_MODULE", module, 1);
	cli_rm_rf(od);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", "--key", key, "-o", od, cli_case, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	struct dump *dz = dump_file(cli_fmt("%s/z.dcm", od));
	cr_assert_str_eq(dz->xfer, ts_uid[TS_DEFLATED]);
	cr_assert_str_eq(value_of(dz, "(0012,0062)"), "YES");
}

Test(dicom, version_names_dcmtk_when_its_module_is_found_and_says_why_when_not)
{
	/* a copy of the binary alone in a directory: nothing beside it */
	char *dir = cli_fmt("%s/bin", cli_root);
	cli_mkdirs(dir);
	const char *base = strrchr(cli_bin, '/') ? strrchr(cli_bin, '/') + 1 : cli_bin;
	char *bin = cli_fmt("%s/%s", dir, base);
	cli_copy(cli_bin, bin);
	cr_assert_eq(chmod(bin, 0755), 0);
	unsetenv("PHISCAN_DCMTK_MODULE");
	struct cbuf out = {0}, err = {0};
	bool installed = access("/usr/local/lib/phiscan/phiscan-dcmtk.so", F_OK) == 0;
	char *argv[] = {bin, "--version", NULL};
	if (!installed) {
		cr_assert_eq(run(argv, NULL, &out, &err), 0, "%s", err.p);
		cr_assert(has(&out, "unavailable"), "%s", out.p);
		cr_assert(has(&out, cli_fmt("%s-dcmtk.so is not beside the executable", base)), "%s",
		          out.p);
	}
	/* the module beside it is found */
	cli_copy(module_path(), cli_fmt("%s-dcmtk.so", bin));
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "%s", err.p);
	const char *row = strstr(out.p, "DCMTK ");
	cr_assert_not_null(row, "%s", out.p);
	static const char found[] = "DCMTK          3.6.7        3.";
	cr_assert(!strncmp(row, found, strlen(found)), "%s", out.p);
	cr_assert(!has(&out, "unavailable"), "%s", out.p);
	/* an explicit override that does not load says why, and --version still succeeds */
	setenv("PHISCAN_DCMTK_MODULE", cli_fmt("%s/nothing.so", cli_root), 1);
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "%s", err.p);
	cr_assert(has(&out, "DCMTK          3.6.7        unavailable"), "%s", out.p);
	cr_assert(has(&out, "nothing.so: cannot open shared object file"), "%s", out.p);
}

/* ---- a meta header without a preamble (fuzz_dicom, session 7) ---- */

/* Group 0002 elements at byte 0, no preamble: DCMTK reads them as a meta header and
 * guesses the data set's encoding from the element after them.  The length check
 * before DCMTK must read the file the same way: here the data set element that
 * follows is implicit VR to DCMTK and declares 3 GB, which DCMTK would allocate. */
Test(dicom, a_meta_header_without_a_preamble_is_walked_as_dcmtk_reads_it)
{
	static const unsigned char oom[] = {
		0x02, 0x00, 0x03, 0x00, 'U',  'I',  0x38, 0x00, '1',  '/',  '2',  '.',  '8',
		'2',  '6',  '.',  '0',  '.',  '1',  '.',  '3',  '6',  0xc2, 0x00, '*',  0xc7,
		0xfb, '0',  '0',  '0',  '0',  '0',  'p',  'o',  'p',  'r',  'e',  'r',  0xcd,
		0xcf, 0xcf, 0xcf, 0xcf, 0xcf, 0xcf, 0x00, ' ',  ' ',  ' ',  '0',  '0',  '0',
		'0',  '0',  '0',  '0',  '0',  '0',  0xcc, 0xcf, '0',  '0',  '?',  '0',  '0',
		'_',  0xab, 'O',  0xf7, 0x7f, 0xc5, 0xba, 0x00, 0x00, 0x00, 0x00};
	struct phi_limits lim;
	struct phi_error e = {0};
	phi_limits_default(&lim);
	cr_assert_eq(sizeof oom, 76);
	cr_assert_eq(phi_dicom_check_mem(oom, sizeof oom, &lim, NULL, NULL, &e), PHI_EFORMAT);
	cr_assert(strstr(e.msg, "(5F30,4FAB) declares 3133505527 bytes"), "%s", e.msg);

	/* the same shape, sound: an explicit VR meta element, then an implicit VR data
	 * set (no transfer syntax given): the check passes and the file scans */
	static const unsigned char ok[] = {
		0x02, 0x00, 0x02, 0x00, 'U',  'I',  0x1a, 0x00, '1', '.', '2', '.', '8', '4', '0',
		'.',  '1',  '0',  '0',  '0',  '8',  '.',  '5',  '.', '1', '.', '4', '.', '1', '.',
		'1',  '.',  '7',  0x00,
		0x08, 0x00, 0x18, 0x00, 0x04, 0x00, 0x00, 0x00, '1', '.', '2', 0x00,
		0x10, 0x00, 0x10, 0x00, 0x08, 0x00, 0x00, 0x00, 'D', 'O', 'E', '^', 'J', 'A', 'N', 'E'};
	cr_assert_eq(phi_dicom_check_mem(ok, sizeof ok, &lim, NULL, NULL, &e), 0, "%s", e.msg);
	char *path = cli_fmt("%s/nopre.dcm", cli_case);
	cli_write(path, ok, sizeof ok);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", path, NULL), 1, "%s%s", out.p,
	             err.p);
	cr_assert(has(&out, "PatientName"), "%s", out.p);
	cli_write(path, oom, sizeof oom);
	cr_assert_eq(cli(&out, &err, NULL, "scan", path, NULL), 2, "%s", out.p);
	cr_assert(has(&out, "declares 3133505527 bytes"), "%s", out.p);
}

/* A data set without a meta header whose first element's VR bytes are two letters
 * but no VR ("DI"): DCMTK reads it as implicit VR (DcmItem::foundVR asks for a
 * standard VR), and so must the length check, or the four bytes after the tag
 * reach DCMTK as a length it allocates (fuzz_dicom, 45b5519: "DIC\xf9", 4 GB). */
Test(dicom, a_first_element_whose_vr_bytes_are_no_vr_is_walked_as_implicit_vr)
{
	static const unsigned char oom[] = {0x08, 0x00, 0x19, 0x00, 'D',  'I',  'C',  0xf9,
	                                    0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00,
	                                    0x00, 0x00, '>',  '\n', ' ',  ' ',  '<',  'P',
	                                    'a',  'c',  'k',  'e',  0x00};
	struct phi_limits lim;
	struct phi_error e = {0};
	phi_limits_default(&lim);
	cr_assert_eq(phi_dicom_check_mem(oom, sizeof oom, &lim, NULL, NULL, &e), PHI_EFORMAT);
	cr_assert(strstr(e.msg, "(0008,0019) declares 4181936452 bytes"), "%s", e.msg);

	/* sound: implicit VR, a Study Description whose length, 18,756, reads "DI", then
	 * Patient's Name */
	size_t n = 8 + 0x4944 + 16;
	unsigned char *ok = calloc(1, n);
	cr_assert_not_null(ok);
	memcpy(ok, "\x08\x00\x30\x10\x44\x49\x00\x00", 8);
	memset(ok + 8, ' ', 0x4944);
	memcpy(ok + 8, "CBCT", 4);
	memcpy(ok + 8 + 0x4944, "\x10\x00\x10\x00\x08\x00\x00\x00" "DOE^JANE", 16);
	cr_assert_eq(phi_dicom_check_mem(ok, n, &lim, NULL, NULL, &e), 0, "%s", e.msg);
	char *path = cli_fmt("%s/di.dcm", cli_case);
	cli_write(path, ok, n);
	free(ok);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", path, NULL), 1, "%s%s", out.p,
	             err.p);
	cr_assert(has(&out, "PatientName"), "%s", out.p);
}

/* The meta header as DCMTK reads it when it opens with its group length: element by
 * element, whatever their group, until that many bytes were read (DcmMetaInfo::read);
 * the data set starts after.  fuzz_dicom, 534a75a: (2800,0301) inside the length was
 * the meta header's for DCMTK, the data set's for the length check, which then passed
 * a data set whose implicit VR element DCMTK allocated 2 GB for. */
Test(dicom, a_meta_header_is_read_to_its_group_length_whatever_the_groups_in_it)
{
	size_t n;
	char *oom = cli_read("tests/fuzz/regress/fuzz_dicom/"
	                     "fuzz_dicom-oom-534a75acd5724eb1110c7a3012a3471200aea043",
	                     &n);
	cr_assert_not_null(oom, "run from the repository root");
	struct phi_limits lim;
	struct phi_error e = {0};
	phi_limits_default(&lim);
	cr_assert_eq(phi_dicom_check_mem((unsigned char *)oom, n, &lim, NULL, NULL, &e), PHI_EFORMAT);
	cr_assert(strstr(e.msg, "(AC01,9F01) declares 2231472641 bytes"), "%s", e.msg);

	/* sound: the group length covers the transfer syntax (implicit VR) and a stray
	 * (0008,0005); the data set after it holds Patient's Name */
	struct dw w = {0};
	unsigned char pre[128] = {0};
	dw_put(&w, pre, sizeof pre);
	dw_put(&w, "DICM", 4);
	dw_head(&w, 0x0002, 0x0000, "UL", 4);
	dw_u32(&w, 8 + 18 + 8 + 10);
	dw_str(&w, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2");
	dw_str(&w, 0x0008, 0x0005, "CS", "ISO_IR 100");
	w.implicit = 1;
	dw_str(&w, 0x0010, 0x0010, "PN", "DOE^JANE");
	cr_assert_eq(phi_dicom_check_mem(w.p, w.n, &lim, NULL, NULL, &e), 0, "%s", e.msg);
	char *path = cli_fmt("%s/metalen.dcm", cli_case);
	cli_write(path, w.p, w.n);
	free(w.p);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", path, NULL), 1, "%s%s", out.p,
	             err.p);
	cr_assert(has(&out, "PatientName"), "%s", out.p);
}
