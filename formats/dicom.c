/* dicom.c - DICOM: scan every element and de-identify with the PS3.15 Annex E
 * Basic Application Level Confidentiality Profile (Table E.1-1, edition 2024b) and
 * its options (E.3, CID 7050).
 *
 * Parsing and writing are DCMTK's, behind dicom_bridge.h.  A file of up to MEM_MAX
 * bytes (a scan: up to the head the scanner read; a pipe: up to MEM_MAX) is read once
 * and parsed, checked, hashed and written from memory; a larger one stays on the file
 * path (a pipe: spooled to a memory file), where DCMTK defers long values and memory
 * stays flat.  This file decides:
 *  - detection by structure (PS3.10 7.1: preamble, "DICM", then a group 0002
 *    element; or a bare PS3.5 data set starting with a plausible element), so a
 *    file with "DICM" at 128 that is not DICOM, and 3Shape's HPS .dcm (XML), are
 *    not taken for DICOM;
 *  - the fields: every attribute of Table E.1-1 whose action is not K yields a
 *    structured finding with its tag path and keyword; free text (descriptions,
 *    comments, private text) also goes through the rule engine; every PN is a name;
 *  - the actions: X removes, Z empties, D writes a dummy of the VR, C cleans
 *    (rules on text, keyed shift on dates), U remaps UIDs to 2.25.<HMAC>, K keeps;
 *    options override the basic action where the table has an entry;
 *  - combined codes (E.1-1a: X/Z, X/D, X/Z/D, Z/D, X/Z/U*) by the attribute's Type
 *    in the file's IOD (PS3.3, dicom_iod_types.inc) at the top level of a data set
 *    whose SOP Class is bundled: Type 3 or not in the IOD: X (Z for Z/D); Type 2: Z
 *    (D for X/D); Type 1: D (Z for X/Z; X/Z/U* keeps the sequence and remaps its
 *    UIDs).  Otherwise (unknown SOP class, inside a sequence) the choice valid for
 *    any Type: Z for X/Z, D otherwise, X/Z/U* keeps a sequence;
 *  - what the profile asks beyond the table: every DA/DT not listed is emptied
 *    (or kept/shifted under the date options), overlay groups 60xx go whole (an
 *    overlay without its data is not valid), curves 50xx go, private elements go
 *    unless Retain Safe Private (E.3.10) keeps those Table E.3.10-1 lists
 *    (dicom_safe_private.inc: the block's Private Creator as PS3.5 7.8.1 resolves
 *    it, group, element byte) with their creators; Patient Identity Removed,
 *    De-identification Method and its Code Sequence are written.
 *  - residual risk: burned-in annotation (flagged, or SOP classes and modalities
 *    that usually carry it) is reported as rule burned-in-pixels; pixels are never
 *    touched.
 *
 * Threading: phi_dicom_init() before workers; the table is read-only; each worker
 * keeps its own bridge handle in its format state slot.
 * Ownership: the worker's struct dcm_state (bridge handle, input buffer, pixel maps)
 * lives in *ctx->state and is freed by free_state.
 */
#include "dicom.h"
#include "imgmeta.h"
#include "indigest.h"

#include "dicom_bridge.h"
#include "dicom_native.h"
#include "meshio.h"
#include "sha256.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the table ---- */

enum act { A_NONE, A_D, A_Z, A_X, A_K, A_C, A_U, A_XD, A_XZ, A_XZD, A_ZD, A_XZU };

/* Option columns of act[] after the basic action (rules/src/annex_e.py order). */
enum { COL_BASIC, COL_SAFE_PRIVATE, COL_UIDS, COL_DEVICE, COL_INSTITUTION, COL_PATIENT_CHARS,
       COL_LONG_FULL, COL_LONG_MOD, COL_CLEAN_DESC, COL_CLEAN_STRUCT, COL_CLEAN_GRAPH, NCOL };

struct row {
	uint32_t tag, mask; /* mask: which bits of tag are fixed (repeating groups) */
	const char *keyword, *vr;
	const char *cls;
	int severity;
	unsigned char act[NCOL];
};

static const struct row rows[] = {
#include "dicom_annex_e.inc"
};
#define NROWS (sizeof rows / sizeof rows[0])

static const struct row *exact[NROWS]; /* rows with a full tag, sorted by tag */
static size_t nexact;
static const struct row *row_private, *row_curve, *row_overlay_data, *row_overlay_comments;

static const char *const act_names[] = {"-", "D", "Z", "X", "K", "C", "U", "X/D", "X/Z", "X/Z/D",
                                        "Z/D", "X/Z/U*"};

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static void table_init(void)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];
		if (r->mask == 0xFFFFFFFFu)
			exact[nexact++] = r;
		else if (r->mask == 0)
			row_private = r;
		else if (r->tag == 0x50000000u)
			row_curve = r;
		else if (r->tag == 0x60003000u)
			row_overlay_data = r;
		else if (r->tag == 0x60004000u)
			row_overlay_comments = r;
	}
	qsort(exact, nexact, sizeof exact[0], cmp_row);
}

static const struct row *lookup(uint16_t g, uint16_t e)
{
	uint32_t t = (uint32_t)g << 16 | e;
	if (g & 1)
		return row_private;
	if ((g & 0xFF00) == 0x5000)
		return row_curve;
	if ((g & 0xFF00) == 0x6000 && g <= 0x601E && e == 0x3000)
		return row_overlay_data;
	if ((g & 0xFF00) == 0x6000 && g <= 0x601E && e == 0x4000)
		return row_overlay_comments;
	size_t lo = 0, hi = nexact;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (exact[mid]->tag < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nexact && exact[lo]->tag == t ? exact[lo] : NULL;
}

/* ---- PS3.3 Types of the combined-code attributes, per SOP class ---- */

#include "dicom_iod_types.inc"

static const uint32_t iod_tags[] = {
#define X(t) t,
	IOD_TAGS
#undef X
};
#define NIOD_TAGS (sizeof iod_tags / sizeof iod_tags[0])

struct iod {
	const char *uid, *name, *table;
	const char *types; /* a Type per iod_tags entry: '1', '2', '3', '0' not in the IOD */
};

static const struct iod iods[] = {
#define C(u, n, t, ty) {u, n, t, ty},
	IOD_CLASSES
#undef C
};
#define NIODS (sizeof iods / sizeof iods[0])

static const struct iod *iod_find(const char *uid)
{
	size_t lo = 0, hi = NIODS;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(iods[mid].uid, uid);
		if (!c)
			return &iods[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The Type of tag in iod ('1', '2', '3', '0'), or 0 when the tag has no combined code. */
static char iod_type(const struct iod *iod, uint32_t tag)
{
	size_t lo = 0, hi = NIOD_TAGS;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (iod_tags[mid] < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < NIOD_TAGS && iod_tags[lo] == tag ? iod->types[lo] : 0;
}

int phi_dicom_iod_type(const char *sop_class, uint16_t group, uint16_t element)
{
	const struct iod *iod = iod_find(sop_class);
	char t = iod ? iod_type(iod, (uint32_t)group << 16 | element) : 0;
	return t ? t - '0' : -1;
}

const char *phi_dicom_iod_class(size_t i, const char **name)
{
	if (i >= NIODS)
		return NULL;
	if (name)
		*name = iods[i].name;
	return iods[i].uid;
}

/* ---- PS3.15 Table E.3.10-1: safe private attributes ---- */

struct safe_priv {
	const char *creator;
	uint16_t group;
	uint8_t element; /* within the block */
};

static const struct safe_priv safe_privs[] = {
#include "dicom_safe_private.inc"
};
#define NSAFE (sizeof safe_privs / sizeof safe_privs[0])

static int cmp_safe(const struct safe_priv *a, const char *creator, uint16_t g, unsigned e)
{
	int c = strcmp(a->creator, creator);
	if (c)
		return c;
	if (a->group != g)
		return a->group < g ? -1 : 1;
	return a->element < e ? -1 : a->element > e;
}

/* The creator as stored may carry trailing padding (PS3.5 6.2: LO). */
static void creator_trim(const char *in, char out[72])
{
	size_t n = strlen(in);
	while (n && (in[n - 1] == ' ' || in[n - 1] == 0))
		n--;
	if (n > 71)
		n = 71;
	memcpy(out, in, n);
	out[n] = 0;
}

int phi_dicom_safe_private(const char *creator, uint16_t group, uint16_t element)
{
	char c[72];
	if (!creator || !(group & 1) || element < 0x1000)
		return 0;
	creator_trim(creator, c);
	size_t lo = 0, hi = NSAFE;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = cmp_safe(&safe_privs[mid], c, group, element & 0xFF);
		if (!r)
			return 1;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A Private Creator that reserves a block of safe attributes in its group. */
static bool safe_creator(const char *creator, uint16_t group)
{
	char c[72];
	if (!creator)
		return false;
	creator_trim(creator, c);
	for (size_t i = 0; i < NSAFE; i++)
		if (safe_privs[i].group == group && !strcmp(safe_privs[i].creator, c))
			return true;
	return false;
}

int phi_dicom_rule(uint16_t group, uint16_t element, struct phi_dicom_rule_info *out)
{
	pthread_once(&table_once, table_init);
	const struct row *r = lookup(group, element);
	if (!r)
		return -1;
	*out = (struct phi_dicom_rule_info){r->keyword, r->vr, act_names[r->act[COL_BASIC]], r->cls,
	                                    r->severity};
	return 0;
}

size_t phi_dicom_rule_count(void)
{
	return NROWS;
}

/* PHISCAN_DICOM_READER=dcmtk: every file takes DCMTK's path (a diagnostic, and the
 * reference the native reader is compared with in tests). */
static bool native_off;

int phi_dicom_init(struct phi_error *err)
{
	pthread_once(&table_once, table_init);
	if (sodium_init() < 0)
		return phi_fail(err, PHI_ENOMEM, "libsodium cannot start");
	const char *r = getenv("PHISCAN_DICOM_READER");
	native_off = r && !strcmp(r, "dcmtk");
	return 0;
}

/* DCMTK is a module loaded with its data dictionary (a text file it parses, about
 * 15 ms) by the first file that takes DCMTK's path, not at start-up
 * (dicom_bridge_load.c, under its pthread_once).  Without the module such a file is
 * unscanned, with the reason. */
static int dcmtk_ready(struct phi_error *err)
{
	int rc = phi_dcm_init();
	if (rc == PHI_ENOTSUP)
		return phi_fail(err, PHI_EFORMAT, "this file needs DCMTK, which is unavailable: %s",
		                phi_dcm_unavailable());
	return rc ? phi_fail(err, PHI_EFORMAT,
	                     "DCMTK has no data dictionary (install libdcmtk17 or set DCMDICTPATH)")
	          : 0;
}

const char *phi_dicom_lib_version(void)
{
	return phi_dcm_version();
}

/* ---- detection ---- */

static bool vr_ok(const unsigned char *p)
{
	return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z';
}

/* A bare data set: its first element is a plausible group 0002/0008 element in
 * implicit or explicit VR, little or big endian. */
static bool bare_dataset(const unsigned char *h, size_t n)
{
	if (n < 16)
		return false;
	unsigned gle = h[0] | h[1] << 8, gbe = h[0] << 8 | h[1];
	if (gle == 0x0008 || gle == 0x0002) {
		if (vr_ok(h + 4))
			return true; /* explicit VR little endian */
		uint32_t len = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 |
		               (uint32_t)h[7] << 24;
		return len < 1024 && 8 + len <= n; /* implicit VR: a short first value */
	}
	return gbe == 0x0008 && vr_ok(h + 4);  /* explicit VR big endian */
}

static int dicom_detect(const unsigned char *h, size_t n, const char *name)
{
	(void)name; /* ".dcm" is also 3Shape's XML: the name proves nothing */
	if (n >= 140 && memcmp(h + 128, "DICM", 4) == 0 && h[132] == 0x02 && h[133] == 0 &&
	    vr_ok(h + 136))
		return 95;
	if (bare_dataset(h, n))
		return 70;
	return 0;
}

/* ---- per-file state ---- */

struct dstate {
	struct phi_fctx *ctx;
	struct phi_dcm *h;
	struct phi_dnat *nat; /* the file was parsed by dicom_native.c, else DCMTK's */
	bool strip;
	bool ours;            /* the file was written by phiscan's strip */
	bool latin1;          /* Specific Character Set ISO_IR 100 (or the like) */
	char *dec;            /* scratch for decoded binary text */
	size_t dec_cap;
	struct phi_mbuf cleaned; /* a text value with the rule edits applied */
	unsigned flags;
	const unsigned char *key;
	struct uid_cache *uids; /* the worker's UID cache, or NULL */
	char patient[80];     /* pseudonym or case id for PatientName/PatientID, "" none */
	int shift_days;       /* Retain Modified Dates: days subtracted */
	char where[320];
	char *repl;           /* scratch for one replacement value */
	size_t repl_cap;
	const struct iod *iod; /* the SOP class's IOD when bundled: combined codes by Type */
	unsigned by_type[3];  /* combined codes resolved by Type: removed, emptied, dummy */
};

/* The parsed file, whichever reader parsed it (dicom_native.h or dicom_bridge.h). */
static int d_get(const struct dstate *s, uint16_t g, uint16_t e, char *out, size_t cap)
{
	return s->nat ? phi_dnat_get(s->nat, g, e, out, cap) : phi_dcm_get(s->h, g, e, out, cap);
}

static int d_put(struct dstate *s, uint16_t g, uint16_t e, const char *v)
{
	return s->nat ? phi_dnat_put(s->nat, g, e, v) : phi_dcm_put(s->h, g, e, v);
}

static int d_add_code(struct dstate *s, const char *code, const char *meaning)
{
	return s->nat ? phi_dnat_add_method_code(s->nat, code, meaning)
	              : phi_dcm_add_method_code(s->h, code, meaning);
}

static const char *d_error(const struct dstate *s)
{
	return s->nat ? phi_dnat_error(s->nat) : phi_dcm_error(s->h);
}

static int d_fail(const struct dstate *s, int rc)
{
	return phi_fail(s->ctx->err, rc, "%s", d_error(s));
}

/* Remapped UIDs a worker saw last, by a hash of the input UID: the Study, Series and
 * Frame of Reference UIDs of a series recur in every file, and each costs an HMAC
 * (libsodium's portable SHA-256, four compressions) and a 128-bit to decimal.  The
 * slots hold for key; another key empties them. */
#define UID_CACHE 64
struct uid_slot {
	unsigned char n; /* input length; 0: empty slot */
	char in[64];
	char out[65];
};
struct uid_cache {
	unsigned char key[32];
	bool keyed;                      /* st is key's */
	crypto_auth_hmacsha256_state st; /* keyed, the label hashed: a miss costs the UID */
	struct uid_slot slot[UID_CACHE];
};

/* A worker's DICOM state across files (its *ctx->state). */
struct dcm_state {
	struct uid_cache *uids; /* made on a strip's first file */
	struct phi_dcm *h;
	struct phi_dnat *nat;
	unsigned char *in;          /* the input, when it is held whole (MEM_MAX) */
	size_t in_cap;
	struct phi_img_in map;      /* or mapped (MAP_MIN), for the file at hand */
	struct phi_dicom_pixmap pin, pout; /* where the pixel bytes lie in input and copy */
};

/* Files up to this size are read once into memory and parsed, checked, hashed and
 * written from there; larger ones (a CBCT volume) stay on the file path, where
 * DCMTK defers long values and memory does not grow with the file. */
#define MEM_MAX (8u << 20)
/* Buffers up to this size are kept for the next file; larger ones are released. */
#define KEEP_MAX (1u << 20)
/* A strip maps files from this size on instead of reading them: a CT slice's pixels
 * are hashed and written from the page cache, not copied into st->in first (strip
 * of 200 0.5 MB slices, task-clock medians of 21 alternations: 277.8 -> 249.8 and
 * 320.6 -> 273.6 ms; copies and manifests identical).  The mapping has the SIGBUS
 * guard of imgmeta.h: a file truncated meanwhile fails, its copy is not kept. */
#define MAP_MIN (128u << 10)

static void free_state(void *p)
{
	struct dcm_state *st = p;
	if (!st)
		return;
	phi_dcm_free(st->h);
	phi_dnat_free(st->nat);
	if (st->uids)
		sodium_memzero(st->uids, sizeof *st->uids); /* the key and its keyed state */
	free(st->uids);
	free(st->in);
	free(st->pin.v);
	free(st->pout.v);
	free(st);
}

static int ensure_repl(struct dstate *s, size_t n)
{
	if (n <= s->repl_cap)
		return 0;
	char *t = realloc(s->repl, n);
	if (!t)
		return phi_fail(s->ctx->err, PHI_ENOMEM, "out of memory");
	s->repl = t;
	s->repl_cap = n;
	return 0;
}

/* ---- UIDs, pseudonyms, dates ---- */

static void hmac(const unsigned char key[32], const char *label, const char *v, size_t n,
                 unsigned char out[32])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)v, n);
	crypto_auth_hmacsha256_final(&st, out);
}

#define UID_LABEL "phiscan-dicom-uid"

/* "2.25." and the decimal of the MAC's first 128 bits. */
static void uid_of_mac(unsigned char mac[32], char out[65])
{
	/* 128-bit big-endian integer to decimal: repeated division by 10 */
	unsigned char num[16];
	memcpy(num, mac, 16);
	char digits[48];
	size_t nd = 0;
	bool zero;
	do {
		unsigned rem = 0;
		zero = true;
		for (int i = 0; i < 16; i++) {
			unsigned cur = rem << 8 | num[i];
			num[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
			if (num[i])
				zero = false;
		}
		digits[nd++] = (char)('0' + rem);
	} while (!zero);
	size_t o = (size_t)snprintf(out, 65, "2.25.");
	while (nd > 0)
		out[o++] = digits[--nd];
	out[o] = 0;
}

int phi_dicom_remap_uid(const unsigned char key[32], const char *uid, size_t n, char out[65])
{
	while (n > 0 && (uid[n - 1] == 0 || uid[n - 1] == ' '))
		n--;
	unsigned char mac[32];
	hmac(key, UID_LABEL, uid, n, mac);
	uid_of_mac(mac, out);
	return 0;
}

/* phi_dicom_remap_uid through the worker's cache: the remapped UID (in the cache, or
 * in u). */
static const char *remap_memo(struct dstate *s, const char *uid, size_t n, char u[65])
{
	while (n > 0 && (uid[n - 1] == 0 || uid[n - 1] == ' '))
		n--;
	struct uid_cache *c = s->uids;
	if (!c || n == 0 || n > sizeof c->slot[0].in) {
		phi_dicom_remap_uid(s->key, uid, n, u);
		return u;
	}
	if (!c->keyed || memcmp(c->key, s->key, sizeof c->key)) {
		memset(c, 0, sizeof *c);
		memcpy(c->key, s->key, sizeof c->key);
		crypto_auth_hmacsha256_init(&c->st, s->key, 32);
		crypto_auth_hmacsha256_update(&c->st, (const unsigned char *)UID_LABEL,
		                              sizeof UID_LABEL);
		c->keyed = true;
	}
	struct uid_slot *m = &c->slot[phi_fnv1a(uid, n) % UID_CACHE];
	if (m->n == n && !memcmp(m->in, uid, n))
		return m->out;
	/* phi_dicom_remap_uid's MAC from the keyed state */
	unsigned char mac[32];
	crypto_auth_hmacsha256_state st = c->st;
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)uid, n);
	crypto_auth_hmacsha256_final(&st, mac);
	uid_of_mac(mac, m->out);
	memcpy(m->in, uid, n);
	m->n = (unsigned char)n;
	return m->out;
}

/* Remap each UID of a multi-valued UI value; well-known UIDs (1.2.840.10008.) stay. */
static int remap_uids(struct dstate *s, const char *v, size_t n, const char **out)
{
	if (ensure_repl(s, (n / 2 + 1) * 70 + 16))
		return PHI_ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && v[j] != '\\')
			j++;
		if (o)
			s->repl[o++] = '\\';
		size_t k = j;
		while (k > i && (v[k - 1] == ' ' || v[k - 1] == 0))
			k--;
		if (k > i && !(k - i >= 14 && memcmp(v + i, "1.2.840.10008.", 14) == 0)) {
			char u[65];
			const char *m = remap_memo(s, v + i, k - i, u);
			size_t ul = strlen(m);
			memcpy(s->repl + o, m, ul);
			o += ul;
		} else {
			memcpy(s->repl + o, v + i, k - i);
			o += k - i;
		}
		i = j + 1;
	}
	s->repl[o] = 0;
	*out = s->repl;
	return 0;
}

static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0) ? 29 : d[m - 1];
}

/* Shift YYYYMMDD (or legacy YYYY.MM.DD) at p back by days; writes YYYYMMDD to out.
 * Returns the characters consumed, or 0 when p holds no date. */
static size_t shift_date(const char *p, size_t n, int days, char out[9])
{
	int y, m, d;
	size_t used;
	if (n >= 10 && p[4] == '.' && p[7] == '.') {
		if (sscanf(p, "%4d.%2d.%2d", &y, &m, &d) != 3)
			return 0;
		used = 10;
	} else if (n >= 8) {
		for (int i = 0; i < 8; i++)
			if (p[i] < '0' || p[i] > '9')
				return 0;
		y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
		m = (p[4] - '0') * 10 + (p[5] - '0');
		d = (p[6] - '0') * 10 + (p[7] - '0');
		used = 8;
	} else {
		return 0;
	}
	if (m < 1 || m > 12 || d < 1 || d > days_in(y, m))
		return 0;
	for (int k = 0; k < days; k++)
		if (--d < 1) {
			if (--m < 1) {
				m = 12;
				y--;
			}
			d = days_in(y, m);
		}
	snprintf(out, 9, "%04d%02d%02d", y < 0 ? 0 : y % 10000, m, d);
	return used;
}

/* DA or DT values (backslash separated): shift each date part; the rest kept. */
static int shift_dates(struct dstate *s, const char *v, size_t n, const char **out)
{
	if (ensure_repl(s, n + 16))
		return PHI_ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		char d8[9];
		size_t used = (i == 0 || v[i - 1] == '\\') ? shift_date(v + i, n - i, s->shift_days, d8) : 0;
		if (used) {
			memcpy(s->repl + o, d8, 8);
			o += 8;
			i += used;
		} else {
			s->repl[o++] = v[i++];
		}
	}
	s->repl[o] = 0;
	*out = s->repl;
	return 0;
}

/* A dummy consistent with the VR (action D). */
static const char *dummy_for(const struct dstate *s, const char vr[3], uint16_t g, uint16_t e)
{
	if (g == 0x0010 && (e == 0x0010 || e == 0x0020) && s->patient[0])
		return s->patient;
	switch (vr[0] << 8 | vr[1]) {
	case 'D' << 8 | 'A': return "19000101";
	case 'D' << 8 | 'T': return "19000101000000";
	case 'T' << 8 | 'M': return "000000";
	case 'A' << 8 | 'S': return "000Y";
	case 'I' << 8 | 'S': case 'D' << 8 | 'S': case 'U' << 8 | 'S': case 'S' << 8 | 'S':
	case 'U' << 8 | 'L': case 'S' << 8 | 'L': case 'F' << 8 | 'L': case 'F' << 8 | 'D':
		return "0";
	case 'P' << 8 | 'N': return "ANONYMOUS";
	case 'C' << 8 | 'S': return "ANONYMIZED";
	default: return "ANONYMIZED";
	}
}

static bool is_vr(const char vr[3], const char *want)
{
	return vr[0] == want[0] && vr[1] == want[1];
}

static bool is_text_vr(const char vr[3])
{
	return is_vr(vr, "LO") || is_vr(vr, "LT") || is_vr(vr, "ST") || is_vr(vr, "UT") ||
	       is_vr(vr, "SH") || is_vr(vr, "UC");
}

static bool is_numeric_vr(const char vr[3])
{
	return is_vr(vr, "US") || is_vr(vr, "SS") || is_vr(vr, "UL") || is_vr(vr, "SL") ||
	       is_vr(vr, "FL") || is_vr(vr, "FD") || is_vr(vr, "IS") || is_vr(vr, "DS") ||
	       is_vr(vr, "UV") || is_vr(vr, "SV");
}

/* Binary bytes that read as text: printable ASCII/UTF-8 for most of their length. */
static bool looks_like_text(const char *v, size_t n)
{
	size_t good = 0, letters = 0;
	if (!v)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c >= 0x20 && c < 0x7f) {
			good++;
			letters += (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
		} else if (c == '\t' || c == '\n' || c == '\r' || c == 0 || c >= 0x80) {
			good += c != 0 || i + 1 == n;
		}
	}
	return n >= 4 && letters >= 3 && good * 10 >= n * 9;
}

/* Values the profile itself writes (D dummies), and in a file phiscan stripped,
 * its remapped UIDs and patient token: a re-scan of a stripped file is clean. */
static bool is_clean_value(const struct dstate *s, const struct phi_dcm_elem *e)
{
	static const char *const dummies[] = {"19000101", "000000", "19000101000000", "ANONYMIZED",
	                                      "ANONYMOUS", "0", "000Y"};
	for (size_t i = 0; i < sizeof dummies / sizeof dummies[0]; i++)
		if (e->len == strlen(dummies[i]) && !memcmp(e->value, dummies[i], e->len))
			return true;
	if (!s->ours)
		return false;
	if (e->group == 0x0010 && (e->element == 0x0010 || e->element == 0x0020))
		return true;
	return is_vr(e->vr, "UI") && e->len > 5 && !memcmp(e->value, "2.25.", 5);
}

/* Latin-1 bytes as UTF-8 in s->dec (cp1252 for 0x80-0x9F, as text.c reads them). */
static const char *latin1_to_utf8(struct dstate *s, const char *v, size_t n, size_t *out_n)
{
	if (n * 3 + 1 > s->dec_cap) {
		char *t = realloc(s->dec, n * 3 + 1);
		if (!t)
			return NULL;
		s->dec = t;
		s->dec_cap = n * 3 + 1;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		o += phi_utf8_put(phi_cp1252_char((unsigned char)v[i]), (unsigned char *)s->dec + o);
	*out_n = o;
	return s->dec;
}

/* ---- the action for one element ---- */

/* Options override the basic action where the table has an entry for them. */
static enum act resolve(const struct row *r, unsigned flags)
{
	static const struct {
		unsigned flag;
		int col;
	} opts[] = {
		{PHI_SO_RETAIN_UIDS, COL_UIDS},
		{PHI_SO_RETAIN_DEVICE, COL_DEVICE},
		{PHI_SO_RETAIN_INSTITUTION, COL_INSTITUTION},
		{PHI_SO_RETAIN_PATIENT_CHARS, COL_PATIENT_CHARS},
		{PHI_SO_RETAIN_LONG_DATES, COL_LONG_FULL},
		{PHI_SO_RETAIN_MOD_DATES, COL_LONG_MOD},
		{PHI_SO_RETAIN_SAFE_PRIVATE, COL_SAFE_PRIVATE},
		{PHI_SO_CLEAN_DESCRIPTORS, COL_CLEAN_DESC},
	};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if ((flags & opts[i].flag) && r->act[opts[i].col] != A_NONE)
			return (enum act)r->act[opts[i].col];
	return (enum act)r->act[COL_BASIC];
}

/* A combined code (E.1-1a) as one action.  At the top level of a data set whose IOD is
 * bundled, by the attribute's Type there: "X unless Z or D is required to maintain IOD
 * conformance".  Type 3, or in no module of the IOD: X (Z/D, which never removes: Z).
 * Type 2: Z (X/D, which has no Z: D).  Type 1: D (X/Z, which has no D: Z; X/Z/U*: the
 * sequence is kept and the UIDs inside it remapped).  Otherwise the choice valid for
 * any Type: Z for X/Z, D otherwise; X/Z/U* keeps a sequence, empties anything else. */
static enum act resolve_combined(struct dstate *s, enum act a, const struct phi_dcm_elem *e)
{
	if (a != A_XZ && a != A_XD && a != A_XZD && a != A_ZD && a != A_XZU)
		return a;
	char t = s->iod && e->depth == 0 ? iod_type(s->iod, (uint32_t)e->group << 16 | e->element)
	                                 : 0;
	enum act r;
	if (!t) {
		r = a == A_XZ ? A_Z : a == A_XZU ? (e->is_sq ? A_K : A_Z) : A_D;
		return r;
	}
	if (t == '3' || t == '0')
		r = a == A_ZD ? A_Z : A_X;
	else if (t == '2')
		r = a == A_XD ? A_D : A_Z;
	else
		r = a == A_XZ ? A_Z : a == A_XZU ? (e->is_sq ? A_K : A_Z) : A_D;
	s->by_type[r == A_X ? 0 : r == A_Z ? 1 : 2]++;
	return r;
}

static int emit(struct dstate *s, const char *text, size_t len, const char *cls, int sev,
                const char *rule, struct phi_edits *ed)
{
	struct phi_field f = {
		.text = text,
		.len = len,
		.kind = cls ? PHI_FIELD_VALUE : PHI_FIELD_TEXT,
		.where = s->where,
		.offset = PHI_NO_OFFSET,
		.report_from = 0,
		.report_to = len,
		.value_class = cls,
		.value_rule = rule,
		.value_severity = sev,
	};
	return s->ctx->sink_ops->field(s->ctx->sink, &f, ed);
}

/* s->where = "path keyword" (truncated to fit): once per element, so no printf. */
static void where_of(struct dstate *s, const struct phi_dcm_elem *e)
{
	size_t cap = sizeof s->where - 1, pl = strlen(e->path), kl = strlen(e->keyword);
	if (pl > cap)
		pl = cap;
	memcpy(s->where, e->path, pl);
	size_t o = pl;
	if (kl && o < cap) {
		s->where[o++] = ' ';
		if (kl > cap - o)
			kl = cap - o;
		memcpy(s->where + o, e->keyword, kl);
		o += kl;
	}
	s->where[o] = 0;
}

static int visit(void *arg, const struct phi_dcm_elem *e, struct phi_dcm_decision *d)
{
	struct dstate *s = arg;
	const struct row *r = lookup(e->group, e->element);
	int rc;
	where_of(s, e);
	bool has_value = e->value && e->len > 0;
	bool private_el = e->group & 1;
	bool structured = r && !private_el && r != row_curve && r != row_overlay_data;
	bool pn = is_vr(e->vr, "PN");
	bool text = e->is_string ? is_text_vr(e->vr) : looks_like_text(e->value, e->len);
	struct phi_edits ed = {0};

	/* 1. what is reported; a profile dummy, or what phiscan wrote, is clean */
	bool clean = e->is_string && has_value && is_clean_value(s, e);
	if (((has_value && e->is_string) || (structured && !e->is_string && e->length > 0 && !e->is_sq)) &&
	    (structured || pn) && !clean && !e->in_meta && !(structured && resolve(r, 0) == A_K)) {
		const char *cls = structured ? r->cls : "name";
		int sev = structured ? r->severity : 1;
		/* binary values are reported by presence: their bytes are no text */
		const char *t = e->is_string ? e->value : "binary value";
		size_t tl = e->is_string ? e->len : strlen(t);
		if ((rc = emit(s, t, tl, pn ? "name" : cls, sev, "dicom-annex-e", NULL)))
			return rc;
	}
	bool scanned_text = has_value && text && !pn && (e->is_string || private_el ||
	                                                  is_vr(e->vr, "UN") || is_vr(e->vr, "OB"));
	if (scanned_text && !e->is_string && s->latin1) {
		/* bytes DCMTK did not convert (an implicit-VR private element is UN): decode
		 * them with the data set's single-byte character set; they are never edited
		 * in place (a binary value with identifiers is removed) */
		size_t n;
		const char *t = latin1_to_utf8(s, e->value, e->len, &n);
		if (!t)
			return PHI_ENOMEM;
		if ((rc = emit(s, t, n, NULL, 0, NULL, s->strip ? &ed : NULL)))
			return rc;
	} else if (scanned_text &&
	           (rc = emit(s, e->value, e->len, NULL, 0, NULL, s->strip ? &ed : NULL))) {
		return rc;
	}
	if (!s->strip || e->in_meta)
		return 0;

	/* 2. what strip does */
	d->act = PHI_DCM_KEEP;
	d->repl = NULL;
	uint16_t g = e->group, el = e->element;
	if (g == 0x0012 && (el == 0x0062 || el == 0x0063 || el == 0x0064))
		return 0; /* written after the walk */
	if (private_el) {
		/* E.3.10: a creator stays when its block holds safe attributes (its value
		 * is the creator string the block is matched by) */
		bool keep = false;
		if (s->flags & PHI_SO_RETAIN_SAFE_PRIVATE) {
			if (el >= 0x0010 && el <= 0x00FF) {
				char cv[72];
				size_t n = e->is_string && has_value ? (e->len < 71 ? e->len : 71) : 0;
				if (n)
					memcpy(cv, e->value, n);
				cv[n] = 0;
				keep = n && safe_creator(cv, g);
			} else {
				keep = phi_dicom_safe_private(e->creator, g, el);
			}
		}
		d->act = keep ? PHI_DCM_KEEP : PHI_DCM_REMOVE;
		return 0;
	}
	if ((g & 0xFF00) == 0x5000 || ((g & 0xFF01) == 0x6000 && g <= 0x601E)) {
		d->act = PHI_DCM_REMOVE; /* curves; overlay planes whole */
		return 0;
	}
	bool date = is_vr(e->vr, "DA") || is_vr(e->vr, "DT");
	enum act a;
	if (r) {
		a = resolve(r, s->flags);
	} else if (date) {
		a = (s->flags & PHI_SO_RETAIN_LONG_DATES) ? A_K
		    : (s->flags & PHI_SO_RETAIN_MOD_DATES) ? A_C
		                                            : A_Z;
	} else if (pn) {
		a = A_Z;
	} else {
		a = A_C; /* not listed: keep, cleaned of what the rules find */
	}
	if (g == 0x0010 && (el == 0x0010 || el == 0x0020) && s->patient[0])
		a = A_D; /* the patient becomes the case id or a keyed pseudonym */
	else
		a = resolve_combined(s, a, e);
	/* A file phiscan already stripped (a re-run, as after an interrupted --in-place):
	 * its remapped UIDs, patient token and shifted dates stay as they are.  Remapping
	 * them again would split a study between the files of the first run and those of
	 * the second (the kill test, tests/test_inplace.c, found it). */
	if (s->ours && has_value &&
	    ((is_clean_value(s, e) && (a == A_D || a == A_U)) ||
	     (date && a == A_C && (s->flags & PHI_SO_RETAIN_MOD_DATES))))
		a = A_K;
	const char *out = NULL;
	switch (a) {
	case A_X:
		d->act = PHI_DCM_REMOVE;
		break;
	case A_Z:
		d->act = PHI_DCM_EMPTY;
		break;
	case A_D:
		if (e->is_sq) {
			d->act = PHI_DCM_KEEP;
		} else if (is_vr(e->vr, "UI")) {
			if ((rc = remap_uids(s, e->value ? e->value : "", e->len, &out)))
				return rc;
			d->act = PHI_DCM_REPLACE;
			d->repl = out;
		} else if (e->is_string || is_numeric_vr(e->vr)) {
			d->act = PHI_DCM_REPLACE;
			d->repl = dummy_for(s, e->vr, g, el);
		} else {
			d->act = PHI_DCM_EMPTY;
		}
		break;
	case A_U:
		if (has_value) {
			if ((rc = remap_uids(s, e->value, e->len, &out)))
				return rc;
			d->act = PHI_DCM_REPLACE;
			d->repl = out;
		}
		break;
	case A_C:
		if (date && has_value && (s->flags & PHI_SO_RETAIN_MOD_DATES)) {
			if ((rc = shift_dates(s, e->value, e->len, &out)))
				return rc;
			d->act = PHI_DCM_REPLACE;
			d->repl = out;
		} else if (scanned_text && ed.n) {
			if (!e->is_string) {
				d->act = PHI_DCM_REMOVE; /* binary that holds identifiers */
				break;
			}
			s->cleaned.n = 0;
			if ((rc = phi_apply_edits((const unsigned char *)e->value, e->len, &ed, NULL,
			                          &s->cleaned, s->ctx->err)) ||
			    (rc = phi_mbuf_put(&s->cleaned, "", 1, s->ctx->err)))
				return rc;
			d->act = PHI_DCM_REPLACE;
			d->repl = (const char *)s->cleaned.p;
		} else if (date && !(s->flags & PHI_SO_RETAIN_LONG_DATES)) {
			d->act = PHI_DCM_EMPTY;
		}
		break;
	case A_K:
	case A_NONE:
	default:
		break;
	}
	return 0;
}

/* ---- residual risk: burned-in text ---- */

static const char *burned_in_reason(const struct dstate *s)
{
	char v[80];
	if (!(s->nat ? phi_dnat_has_pixels(s->nat) : phi_dcm_has_pixels(s->h)))
		return NULL;
	if (!d_get(s, 0x0028, 0x0301, v, sizeof v) && !strcmp(v, "YES"))
		return "BurnedInAnnotation is YES";
	if (!d_get(s, 0x0008, 0x0016, v, sizeof v)) {
		if (!strncmp(v, "1.2.840.10008.5.1.4.1.1.7", 25))
			return "secondary capture images often carry burned-in text";
		if (!strncmp(v, "1.2.840.10008.5.1.4.1.1.77.1", 28))
			return "visible-light photographs show the patient";
		if (!strncmp(v, "1.2.840.10008.5.1.4.1.1.6.", 26) ||
		    !strncmp(v, "1.2.840.10008.5.1.4.1.1.3.", 26))
			return "ultrasound images often carry burned-in text";
	}
	if (!d_get(s, 0x0008, 0x0060, v, sizeof v)) {
		static const char *const mods[] = {"PX", "US", "XC", "ES", "GM", "SM", "OT", "DOC"};
		for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
			if (!strcmp(v, mods[i]))
				return "images of this modality often carry burned-in text";
	}
	return NULL;
}

/* ---- the format ---- */

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A pipe copied into a memory file, so DCMTK reads it like any file: lengths are
 * checked against the bytes there and long values stay unloaded (DCMTK's buffer
 * stream allocates whatever length an element declares: fuzz_dicom).  The n bytes
 * at pre, already read from the pipe, come first.  Returns the descriptor or a
 * negative PHI_E*. */
static int spool_to_memfd(struct phi_fctx *ctx, const unsigned char *pre, size_t n)
{
	const uint64_t max = 1ull << 30;
	uint64_t total = n;
	int fd = memfd_create("phiscan-dicom", MFD_CLOEXEC);
	if (fd < 0)
		return phi_fail(ctx->err, PHI_EIO, "cannot buffer the input: %s", strerror(errno));
	if (write_all(fd, pre, n)) {
		close(fd);
		return phi_fail(ctx->err, PHI_EIO, "cannot buffer the input: %s", strerror(errno));
	}
	for (;;) {
		long r = phi_input_read(ctx, ctx->buf, ctx->buf_cap);
		if (r <= 0) {
			if (r == 0)
				return fd;
			close(fd);
			return (int)r;
		}
		if ((total += (uint64_t)r) > max) {
			close(fd);
			return phi_fail(ctx->err, PHI_ELIMIT, "DICOM input on a pipe is larger than 1 GiB");
		}
		if (write_all(fd, ctx->buf, (size_t)r)) {
			close(fd);
			return phi_fail(ctx->err, PHI_EIO, "cannot buffer the input: %s", strerror(errno));
		}
	}
}

static int bridge_fail(struct phi_fctx *ctx, struct phi_dcm *h, int rc)
{
	return phi_fail(ctx->err, rc, "%s", phi_dcm_error(h));
}

static const struct {
	unsigned flag;
	const char *code, *meaning;
} method_codes[] = {
	{PHI_SO_CLEAN_DESCRIPTORS, "113105", "Clean Descriptors Option"},
	{PHI_SO_RETAIN_LONG_DATES, "113106", "Retain Longitudinal Temporal Information Full Dates Option"},
	{PHI_SO_RETAIN_MOD_DATES, "113107",
	 "Retain Longitudinal Temporal Information Modified Dates Option"},
	{PHI_SO_RETAIN_PATIENT_CHARS, "113108", "Retain Patient Characteristics Option"},
	{PHI_SO_RETAIN_DEVICE, "113109", "Retain Device Identity Option"},
	{PHI_SO_RETAIN_UIDS, "113110", "Retain UIDs Option"},
	{PHI_SO_RETAIN_SAFE_PRIVATE, "113111", "Retain Safe Private Option"},
	{PHI_SO_RETAIN_INSTITUTION, "113112", "Retain Institution Identity Option"},
};

static int mark_deidentified(struct dstate *s)
{
	char method[160];
	snprintf(method, sizeof method, "phiscan %s: PS3.15 E.1-1 2024b Basic Profile%s", PHI_VERSION,
	         s->flags & 0xFF00u ? " with options" : "");
	int rc = d_put(s, 0x0012, 0x0062, "YES");
	if (!rc)
		rc = d_put(s, 0x0012, 0x0063, method);
	if (!rc)
		rc = d_add_code(s, "113100", "Basic Application Confidentiality Profile");
	for (size_t i = 0; !rc && i < sizeof method_codes / sizeof method_codes[0]; i++)
		if (s->flags & method_codes[i].flag)
			rc = d_add_code(s, method_codes[i].code, method_codes[i].meaning);
	if (!rc)
		rc = d_put(s, 0x0028, 0x0303,
		                 s->flags & PHI_SO_RETAIN_MOD_DATES    ? "MODIFIED"
		                 : s->flags & PHI_SO_RETAIN_LONG_DATES ? "UNMODIFIED"
		                                                       : "REMOVED");
	return rc;
}

/* The value that identifies the patient for keyed derivations: Patient ID, else
 * Patient's Name; "" when neither is there. */
static void patient_key(const struct dstate *s, char *id, size_t cap)
{
	if ((d_get(s, 0x0010, 0x0020, id, cap) || !id[0]) && d_get(s, 0x0010, 0x0010, id, cap))
		id[0] = 0;
}

/* The patient's replacement: --case-id, else a keyed pseudonym of Patient ID (or
 * name), the same in every file of that patient; "" leaves the profile's Z. */
static void patient_token(struct dstate *s)
{
	const struct phi_strip_opts *so = s->ctx->sopts;
	s->patient[0] = 0;
	if (so->case_id) {
		snprintf(s->patient, sizeof s->patient, "%s", so->case_id);
		return;
	}
	if (!s->key)
		return;
	char id[256];
	patient_key(s, id, sizeof id);
	if (!id[0])
		return;
	unsigned char mac[32];
	hmac(s->key, "phiscan-dicom-patient", id, strlen(id), mac);
	static const char b32[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	char *p = s->patient + snprintf(s->patient, sizeof s->patient, "PX");
	for (int i = 0; i < 10; i++)
		*p++ = b32[mac[i] & 31];
	*p = 0;
}

static int date_shift(struct dstate *s)
{
	char id[256];
	patient_key(s, id, sizeof id);
	unsigned char mac[32];
	hmac(s->key, "phiscan-dicom-date-shift", id, strlen(id), mac);
	return 1 + (int)(((unsigned)mac[0] << 8 | mac[1]) % 3650);
}

/* The stored pixel bytes of copy and input are the same bytes, in the same order
 * (fragment boundaries aside, as with the hash this replaces). */
static bool same_pixels(const unsigned char *a, const struct phi_dicom_pixmap *ma,
                        const unsigned char *b, const struct phi_dicom_pixmap *mb)
{
	if (ma->seen != mb->seen)
		return false;
	size_t i = 0, j = 0;
	uint64_t oi = 0, oj = 0; /* bytes used of range i and j */
	for (;;) {
		while (i < ma->n && oi == ma->v[i].len)
			i++, oi = 0;
		while (j < mb->n && oj == mb->v[j].len)
			j++, oj = 0;
		if (i == ma->n || j == mb->n)
			return i == ma->n && j == mb->n;
		uint64_t k = ma->v[i].len - oi;
		if (mb->v[j].len - oj < k)
			k = mb->v[j].len - oj;
		if (memcmp(a + ma->v[i].off + oi, b + mb->v[j].off + oj, (size_t)k))
			return false;
		oi += k;
		oj += k;
	}
}

/* The copy written in memory (the input too): prove it parses and its pixel data is
 * the input's, byte for byte (memcmp: the output's pixel hash is the input's because
 * the bytes compared equal), write it with one call, and hand both whole-file hashes
 * to the scanner for the manifest. */
/* --verify: DCMTK re-reads the written copy (out[0..n), or with out NULL the file
 * behind ctx->out_fd) and must find the input's pixel data. */
static int verify_with_dcmtk(struct dstate *s, const char pix_in[65], const unsigned char *out,
                             size_t n)
{
	struct phi_fctx *ctx = s->ctx;
	char pix_dcmtk[65] = "", path[64];
	int lr;
	if ((lr = dcmtk_ready(ctx->err)))
		return lr;
	if (out)
		lr = phi_dcm_load_mem(s->h, out, n, 0);
	else {
		snprintf(path, sizeof path, "/proc/self/fd/%d", ctx->out_fd);
		lr = phi_dcm_load(s->h, path, 64 * 1024, 0);
	}
	if (lr < 0)
		return phi_fail(ctx->err, PHI_EVERIFY, "the written copy does not re-read: %s",
		                phi_dcm_error(s->h));
	if (phi_dcm_pixel_sha256(s->h, pix_dcmtk) < 0 || strcmp(pix_in, pix_dcmtk))
		return phi_fail(ctx->err, PHI_EVERIFY, "DCMTK reads other pixel data in the written copy");
	return 0;
}

/* The manifest's hashes: the output file and the input's stored pixel bytes in one
 * interleaved pass (phi_sha256_multi; pixel data in more pieces than a message holds,
 * many fragments, is hashed on its own), then the input's digest from its pixel hash
 * and its other bytes (indigest.h: its header, not a third pass over the pixels). */
static int hash_two(struct phi_fctx *ctx, const unsigned char *in, size_t in_n,
                    const struct phi_dicom_pixmap *pm, const unsigned char *out, size_t out_n,
                    const struct phi_dnat_hole *hole, char pix[65])
{
	struct phi_sha256_msg m[2] = {{{{out, out_n}}}};
	if (hole->len) { /* the copy's bytes: its buffer, the input's pixels, its buffer */
		m[0].r[0].n = hole->at;
		m[0].r[1].p = hole->src;
		m[0].r[1].n = hole->len;
		m[0].r[2].p = out + hole->at + hole->len;
		m[0].r[2].n = out_n - hole->at - hole->len;
	}
	char hex[2][65];
	size_t nm = 1;
	pix[0] = 0;
	if (pm->seen && pm->n <= PHI_SHA256_RANGES) {
		for (size_t i = 0; i < pm->n; i++) {
			m[1].r[i].p = in + pm->v[i].off;
			m[1].r[i].n = (size_t)pm->v[i].len;
		}
		nm = 2;
	} else if (pm->seen) {
		struct phi_sha256 h;
		if (phi_sha256_init(&h))
			return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
		for (size_t i = 0; i < pm->n; i++)
			phi_sha256_update(&h, in + pm->v[i].off, (size_t)pm->v[i].len);
		if (phi_sha256_final(&h, pix))
			return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	}
	if (phi_sha256_multi(m, nm, hex))
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory hashing");
	memcpy(ctx->out_sha256, hex[0], 65);
	if (nm == 2)
		memcpy(pix, hex[1], 65);
	int rc = phi_indigest_dicom(in, -1, in_n, pm, pix, ctx->in_sha256, ctx->err);
	if (!rc)
		ctx->in_kind = PHI_INDIGEST_DICOM;
	return rc;
}

/* The copy's native pixel value is the hole (dicom_native.h): proven by where the
 * two independent parses put the pixel bytes, the copy's exactly over the hole and
 * the input's exactly the bytes the hole stands for, so no copy is compared. */
static bool hole_is_pixels(const unsigned char *in, const struct phi_dicom_pixmap *pin,
                           const struct phi_dicom_pixmap *pout, const struct phi_dnat_hole *h)
{
	return pin->seen && pout->seen && pin->n == 1 && pout->n == 1 &&
	       pout->v[0].off == h->at && pout->v[0].len == h->len && in + pin->v[0].off == h->src &&
	       pin->v[0].len == h->len;
}

static int copy_check_mem(struct dstate *s, struct dcm_state *st, const unsigned char *in,
                          size_t in_n, char pix_in[65])
{
	struct phi_fctx *ctx = s->ctx;
	const unsigned char *out;
	size_t out_n;
	struct phi_dnat_hole hole = {0};
	struct phi_error e = {0};
	int rc;
	if ((rc = s->nat ? phi_dnat_save_mem_hole(s->nat, &out, &out_n, &hole)
	                 : phi_dcm_save_mem(s->h, &out, &out_n)))
		return d_fail(s, rc);
	if (hole.len && (ctx->sopts->flags & PHI_SO_VERIFY)) {
		/* DCMTK re-reads the whole copy from memory: the pixels are put in */
		memcpy((unsigned char *)out + hole.at, hole.src, hole.len);
		hole.len = 0;
	}
	/* the walker never reads a native pixel value's bytes: the hole is not read */
	if (phi_dicom_check_mem(out, out_n, ctx->limits, NULL, &st->pout, &e))
		return phi_fail(ctx->err, PHI_EVERIFY, "the written copy does not parse: %s",
		                e.msg[0] ? e.msg : "deflated");
	if (hole.len ? !hole_is_pixels(in, &st->pin, &st->pout, &hole)
	             : !same_pixels(in, &st->pin, out, &st->pout))
		return phi_fail(ctx->err, PHI_EVERIFY, "pixel data changed in the written copy");
	if ((rc = hash_two(ctx, in, in_n, &st->pin, out, out_n, &hole, pix_in)))
		return rc;
	if (hole.len) {
		const struct phi_span pieces[3] = {{out, hole.at},
		                                    {hole.src, hole.len},
		                                    {out + hole.at + hole.len, out_n - hole.at - hole.len}};
		rc = phi_output_writev(ctx, pieces, 3);
	} else {
		rc = phi_output_write(ctx, out, out_n);
	}
	if (rc)
		return rc;
	if ((ctx->sopts->flags & PHI_SO_VERIFY) && (rc = verify_with_dcmtk(s, pix_in, out, out_n)))
		return rc;
	if (pix_in[0] &&
	    ((rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_in", pix_in)) ||
	     (rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_out", pix_in))))
		return rc;
	return 0;
}

/* A pipe read into st->in while it fits in MEM_MAX: 1 with all of it at *data, or 0
 * with the MEM_MAX + 1 bytes read so far there (the caller spools them and the rest
 * to a memory file), or a negative PHI_E*.  The buffer grows as the bytes come. */
static int read_pipe(struct phi_fctx *ctx, struct dcm_state *st, const unsigned char **data,
                     size_t *n)
{
	size_t got = 0;
	for (;;) {
		if (got == st->in_cap) {
			if (st->in_cap > MEM_MAX)
				break;
			size_t nc = st->in_cap ? st->in_cap * 2 : 1u << 16;
			if (nc > MEM_MAX + 1)
				nc = MEM_MAX + 1;
			unsigned char *t = realloc(st->in, nc);
			if (!t)
				return phi_fail(ctx->err, PHI_ENOMEM, "out of memory buffering the input");
			st->in = t;
			st->in_cap = nc;
		}
		long r = phi_input_read(ctx, st->in + got, st->in_cap - got);
		if (r < 0)
			return (int)r;
		if (r == 0) {
			*data = st->in;
			*n = got;
			return 1;
		}
		got += (size_t)r;
	}
	*data = st->in;
	*n = got;
	return 0;
}

/* The input read into buf from byte got (what it holds already) up to want bytes or
 * the end: the new count, or a negative PHI_E*. */
static long fill(struct phi_fctx *ctx, unsigned char *buf, size_t got, size_t want)
{
	while (got < want) {
		long r = phi_input_read(ctx, buf + got, want - got);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

/* A regular file of at most MEM_MAX bytes (a scan: of at most the head the scanner
 * already read), or a pipe (read_pipe), whole, at *data: the head itself when it is
 * the whole file, else st->in.  Returns 1 when it was read, 0 when the file path is
 * to be taken (a scan reads only the headers of a larger file there), or a negative
 * PHI_E*. */
static int read_whole(struct phi_fctx *ctx, struct dcm_state *st, const unsigned char **data,
                      size_t *n)
{
	if (ctx->size == PHI_NO_OFFSET)
		return read_pipe(ctx, st, data, n);
	bool whole_head = ctx->head_pos == 0 && ctx->head_len == ctx->size;
	/* a scan takes the head when it is the file, else reads on demand (native_prefix):
	 * the scanner reads a DICOM file's first 16 KiB, not its pixel data */
	if (ctx->out_fd < 0 ? !whole_head : ctx->size > MEM_MAX)
		return 0;
	if (whole_head) {
		*data = ctx->head;
		*n = ctx->head_len;
		return 1;
	}
	if (ctx->size >= MAP_MIN) {
		int rc = phi_img_load(ctx, &st->map);
		if (rc)
			return rc;
		*data = st->map.p;
		*n = st->map.n;
		return 1;
	}
	size_t want = (size_t)ctx->size + 1; /* one more: a file that grew is noticed */
	if (want > st->in_cap) {
		unsigned char *t = realloc(st->in, want);
		if (!t)
			return 0; /* the file path needs no such buffer */
		st->in = t;
		st->in_cap = want;
	}
	long got = fill(ctx, st->in, 0, want);
	if (got < 0)
		return (int)got;
	if ((uint64_t)got != ctx->size)
		return phi_fail(ctx->err, PHI_EIO, "the file changed size while it was read");
	*data = st->in;
	*n = got;
	return 1;
}

static int copy_check(struct dstate *s, const char pix_in[65])
{
	struct phi_fctx *ctx = s->ctx;
	struct stat st;
	char pix_out[65] = "";
	struct phi_error e = {0};
	int rc;
	/* a pipe, or a file opened write-only (filter > out.dcm: the shell's stdout):
	 * the copy cannot be read back */
	int fl = fcntl(ctx->out_fd, F_GETFL);
	if (lseek(ctx->out_fd, 0, SEEK_CUR) < 0 || fl < 0 || (fl & O_ACCMODE) == O_WRONLY)
		return 0;
	if (fstat(ctx->out_fd, &st))
		return phi_fail(ctx->err, PHI_EIO, "cannot stat the written copy: %s", strerror(errno));
	if (phi_dicom_check_lengths(ctx->out_fd, (uint64_t)st.st_size, ctx->limits, pix_out, &e))
		return phi_fail(ctx->err, PHI_EVERIFY, "the written copy does not parse: %s", e.msg);
	if (strcmp(pix_in, pix_out))
		return phi_fail(ctx->err, PHI_EVERIFY, "pixel data changed in the written copy");
	if ((ctx->sopts->flags & PHI_SO_VERIFY) && (rc = verify_with_dcmtk(s, pix_in, NULL, 0)))
		return rc;
	if (pix_in[0] &&
	    ((rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_in", pix_in)) ||
	     (rc = ctx->sink_ops->record(ctx->sink, "pixels_sha256_out", pix_out))))
		return rc;
	return 0;
}

/* A scan of a file larger than the head: phiscan's reader on its leading bytes, read
 * as the parse asks for them (a CT slice's header, not its pixels), up to MEM_MAX.
 * 0, PHI_ENOTSUP (DCMTK's path reads it), or a negative PHI_E*. */
static int native_prefix(struct phi_fctx *ctx, struct dcm_state *st)
{
	if (ctx->size == PHI_NO_OFFSET || ctx->head_pos != 0)
		return PHI_ENOTSUP;
	const unsigned char *d = ctx->head;
	size_t avail = ctx->head_len;
	for (;;) {
		uint64_t need = 0;
		int rc = phi_dnat_parse(st->nat, d, avail, ctx->size, ctx->limits->max_depth, 0, &need);
		if (rc != 1)
			return rc;
		if (need > MEM_MAX || need > ctx->size)
			return PHI_ENOTSUP;
		/* what it asks and as much again as it had, at least 16 KiB: a header
		 * longer than the scanner's first read (8 KiB) costs a read or two, not
		 * 64 KiB of the pixels behind it */
		uint64_t more = avail > 16384 ? avail : 16384;
		size_t want = (size_t)(need + more < ctx->size ? need + more : ctx->size);
		/* bytes of st->in already filled (none while d is the head): known before a
		 * realloc moves st->in, which d may point into */
		size_t have = d == ctx->head ? 0 : avail;
		if (want > st->in_cap) {
			unsigned char *t = realloc(st->in, want);
			if (!t)
				return PHI_ENOTSUP;
			st->in = t;
			st->in_cap = want;
		}
		/* phi_input_read hands out the head first, then the file */
		long got = fill(ctx, st->in, have, want);
		if (got < 0)
			return (int)got;
		if ((size_t)got < want)
			return phi_fail(ctx->err, PHI_EIO, "the file changed size while it was read");
		d = st->in;
		avail = got;
	}
}

static int scan_file(struct phi_fctx *ctx)
{
	struct dcm_state *st = *ctx->state;
	int rc;
	bool strip = ctx->out_fd >= 0;

	pthread_once(&table_once, table_init);
	if (!st) {
		if (!(st = calloc(1, sizeof *st)))
			return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
		*ctx->state = st;
	}
	if (!st->h && !(st->h = phi_dcm_new()))
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	struct phi_dcm *h = st->h;
	const struct phi_strip_opts *so = ctx->sopts;
	if (strip && !so->key && !(so->flags & PHI_SO_RETAIN_UIDS))
		return phi_fail(ctx->err, PHI_EUSAGE,
		                "DICOM strip needs --key FILE to remap UIDs consistently (or --retain-uids)");
	if (strip && !so->key && (so->flags & PHI_SO_RETAIN_MOD_DATES))
		return phi_fail(ctx->err, PHI_EUSAGE, "--retain-modified-dates needs --key FILE");

	char path[64];
	int memfd = -1;
	if (strip && so->key && !st->uids)
		st->uids = calloc(1, sizeof *st->uids); /* NULL: no cache, same UIDs */
	struct dstate s = {.ctx = ctx, .h = h, .strip = strip, .flags = so->flags, .key = so->key,
	                   .uids = so->key ? st->uids : NULL, .cleaned = {.max = 32u << 20}};
	char pix_in[65] = "";
	/* A file small enough is read once: the length check, the hashes and DCMTK
	 * all take it from memory, and the copy is written with one call.  DCMTK
	 * allocates some declared lengths before it can check them: the walker checks
	 * them first (and, to strip, hashes the pixel data as stored). */
	const unsigned char *in = NULL;
	size_t in_n = 0;
	int mem = read_whole(ctx, st, &in, &in_n);
	if (mem < 0)
		return mem;
	/* phiscan's own reader first (it checks every length itself); DCMTK's path for
	 * what it leaves (PHI_ENOTSUP) */
	if (!native_off && !st->nat && !(st->nat = phi_dnat_new()))
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	if (!native_off) {
		uint64_t need = 0;
		if (mem)
			rc = phi_dnat_parse(st->nat, in, in_n, in_n, ctx->limits->max_depth, strip, &need);
		else if (!strip && ctx->size != PHI_NO_OFFSET) {
			/* a file read on demand: it may move st->in, which nothing here holds (in
			 * is set only for a pipe, which takes the branch below) */
			rc = native_prefix(ctx, st);
			in = NULL;
			in_n = 0;
		} else {
			rc = PHI_ENOTSUP;
		}
		if (rc == 0)
			s.nat = st->nat;
		else if (rc != PHI_ENOTSUP && rc != 1)
			return phi_fail(ctx->err, rc, "%s", phi_dnat_error(st->nat));
	}
	if (mem && (strip || !s.nat)) {
		/* the pixel bytes are found here and hashed with the files (copy_check_mem) */
		rc = phi_dicom_check_mem(in, in_n, ctx->limits, NULL, strip ? &st->pin : NULL, ctx->err);
		if (rc == PHI_ENOTSUP)
			mem = 0; /* deflated: the file path inflates it under its cap */
		else if (rc)
			goto out;
	}
	if (s.nat)
		goto parsed;
	if ((rc = dcmtk_ready(ctx->err)))
		goto out;
	if (!mem) {
		/* a pipe: what read_whole took of it first, then the rest */
		if (ctx->size == PHI_NO_OFFSET && (memfd = spool_to_memfd(ctx, in, in_n)) < 0) {
			rc = memfd;
			memfd = -1;
			goto out;
		}
		snprintf(path, sizeof path, "/proc/self/fd/%d", memfd >= 0 ? memfd : ctx->fd);
		struct stat sb;
		int in_fd = memfd >= 0 ? memfd : ctx->fd;
		if (fstat(in_fd, &sb)) {
			rc = phi_fail(ctx->err, PHI_EIO, "cannot stat the input: %s", strerror(errno));
			goto out;
		}
		if ((rc = strip ? phi_dicom_check_lengths_map(in_fd, (uint64_t)sb.st_size, ctx->limits,
		                                              pix_in, &st->pin, ctx->err)
		                : phi_dicom_check_lengths(in_fd, (uint64_t)sb.st_size, ctx->limits, NULL,
		                                          ctx->err)))
			goto out;
	}
	/* memfd stays open to the end: DCMTK reopens the path for values it reads later */
	rc = mem ? phi_dcm_load_mem(h, in, in_n, 1) : phi_dcm_load(h, path, 64 * 1024, 1);
	if (rc < 0) {
		rc = bridge_fail(ctx, h, rc);
		goto out;
	}
	if (rc == 1 && (rc = ctx->sink_ops->record(ctx->sink, "note", phi_dcm_charset_note(h))))
		goto out;
parsed:
	ctx->encoding = "dicom";

	char method[80];
	s.ours = !d_get(&s, 0x0012, 0x0063, method, sizeof method) && !strncmp(method, "phiscan ", 8);
	const char *cs = s.nat ? phi_dnat_source_charset(s.nat) : phi_dcm_source_charset(h);
	s.latin1 = !strcmp(cs, "ISO_IR 100") || !strcmp(cs, "ISO 2022 IR 100");
	char cls[80];
	if (!d_get(&s, 0x0008, 0x0016, cls, sizeof cls))
		s.iod = iod_find(cls);
	if (strip) {
		patient_token(&s);
		if (so->flags & PHI_SO_RETAIN_MOD_DATES)
			s.shift_days = date_shift(&s);
	}
	rc = s.nat ? phi_dnat_walk(s.nat, strip, visit, &s) : phi_dcm_walk(h, strip, visit, &s);
	if (rc) {
		if (!ctx->err->msg[0] || ctx->err->code != rc)
			rc = d_fail(&s, rc);
		goto out;
	}
	const char *why = burned_in_reason(&s);
	if (why) {
		snprintf(s.where, sizeof s.where, "(7FE0,0010) PixelData");
		struct phi_field f = {.text = why, .len = strlen(why), .kind = PHI_FIELD_VALUE,
		                      .where = s.where, .offset = PHI_NO_OFFSET, .report_to = strlen(why),
		                      .value_class = "photo", .value_rule = "burned-in-pixels",
		                      .value_severity = 2};
		if ((rc = ctx->sink_ops->field(ctx->sink, &f, NULL)))
			goto out;
	}
	if (!strip)
		goto out;

	char sop[80] = "";
	d_get(&s, 0x0002, 0x0002, sop, sizeof sop);
	if (!strcmp(sop, "1.2.840.10008.1.3.10")) {
		rc = phi_fail(ctx->err, PHI_ESKIP,
		              "DICOMDIR is not edited: not written (rebuild it on the output, e.g. dcmmkdir)");
		goto out;
	}
	/* No SOP Instance UID: DCMTK would invent a random one for the meta header, a new
	 * one every run.  The copy gets one keyed from the input's bytes (the file) or its
	 * pixel data and size (a file too large to hold), the same every run. */
	char inst[80];
	if (s.key && (d_get(&s, 0x0008, 0x0018, inst, sizeof inst) || !inst[0])) {
		unsigned char mac[32];
		char seed[96], uid[65];
		crypto_auth_hmacsha256_state hs;
		crypto_auth_hmacsha256_init(&hs, s.key, 32);
		crypto_auth_hmacsha256_update(&hs, (const unsigned char *)"phiscan-dicom-no-instance", 26);
		if (mem) {
			crypto_auth_hmacsha256_update(&hs, in, in_n);
		} else {
			snprintf(seed, sizeof seed, "%s:%llu", pix_in, (unsigned long long)ctx->size);
			crypto_auth_hmacsha256_update(&hs, (const unsigned char *)seed, strlen(seed));
		}
		crypto_auth_hmacsha256_final(&hs, mac);
		sodium_bin2hex(seed, sizeof seed, mac, 32);
		phi_dicom_remap_uid(s.key, seed, 64, uid);
		if ((rc = d_put(&s, 0x0008, 0x0018, uid))) {
			rc = d_fail(&s, rc);
			goto out;
		}
	}
	if ((rc = mark_deidentified(&s))) {
		rc = d_fail(&s, rc);
		goto out;
	}
	/* Prove the copy parses and its pixel data is the input's, byte for byte: the
	 * same walker reads the written copy, independently of DCMTK's memory.  With
	 * --verify, DCMTK also re-reads the copy. */
	if (mem) {
		if ((rc = copy_check_mem(&s, st, in, in_n, pix_in)))
			goto out;
	} else if ((rc = phi_dcm_save(h, ctx->out_fd)) ? (rc = bridge_fail(ctx, h, rc))
	                                               : (rc = copy_check(&s, pix_in))) {
		goto out;
	} else if (!st->pin.deflated) {
		/* the input's digest from its pixel hash and its header (indigest.h); a
		 * deflated one's is the scanner's SHA-256 of the file */
		int in_fd = memfd >= 0 ? memfd : ctx->fd;
		struct stat sb;
		if (fstat(in_fd, &sb)) {
			rc = phi_fail(ctx->err, PHI_EIO, "cannot stat the input: %s", strerror(errno));
			goto out;
		}
		if ((rc = phi_indigest_dicom(NULL, in_fd, (uint64_t)sb.st_size, &st->pin, pix_in,
		                             ctx->in_sha256, ctx->err)))
			goto out;
		ctx->in_kind = PHI_INDIGEST_DICOM;
	}
	rc = ctx->sink_ops->record(ctx->sink, "transfer_syntax",
	                           s.nat ? phi_dnat_xfer(s.nat) : phi_dcm_xfer(h));
	/* which branch the combined codes took (E.1-1a), without values */
	char iodnote[160];
	if (s.iod)
		snprintf(iodnote, sizeof iodnote,
		         "%s (PS3.3 %s %s): combined codes by Type: %u removed, %u emptied, %u dummy",
		         s.iod->name, IOD_EDITION, s.iod->table, s.by_type[0], s.by_type[1], s.by_type[2]);
	else
		snprintf(iodnote, sizeof iodnote, "SOP class not bundled: combined codes take Z or D");
	if (!rc)
		rc = ctx->sink_ops->record(ctx->sink, "iod", iodnote);
out:
	if (st->in_cap > KEEP_MAX) { /* an exceptional file's buffer is not kept */
		free(st->in);
		st->in = NULL;
		st->in_cap = 0;
	}
	free(s.repl);
	free(s.dec);
	phi_mbuf_free(&s.cleaned);
	if (memfd >= 0)
		close(memfd);
	return rc;
}

static int dicom_scan(struct phi_fctx *ctx)
{
	int rc = scan_file(ctx);
	struct dcm_state *st = *ctx->state;
	if (st)
		phi_img_release(&st->map); /* a no-op when the file was not mapped */
	return rc;
}

const struct phi_format phi_format_dicom = {
	.name = "dicom",
	.detect = dicom_detect,
	.scan = dicom_scan,
	.can_strip = 1,
	.free_state = free_state,
};
