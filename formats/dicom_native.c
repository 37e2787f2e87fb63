/* dicom_native.c - phiscan's own DICOM reader and writer for the common encodings
 * (see dicom_native.h).
 *
 * PS3.5 section 7: a data set is a sequence of elements in ascending tag order; in
 * explicit VR each carries its VR and a 2- or 4-byte length (7.1.2, Table 7.1-1), in
 * implicit VR only a 4-byte length and the VR comes from the data dictionary (7.1.3,
 * dicom_dict.h).  Sequences (7.5) hold items of defined or undefined length; the
 * encapsulated Pixel Data (PS3.5 A.4) holds fragments and is copied byte for byte.
 * The File Meta Information (PS3.10 7.1) is explicit VR little endian group 0002
 * after a 128-byte preamble and "DICM".
 *
 * The parse builds a flat array of nodes in pre-order (element, sequence, item,
 * encapsulated pixel data), each pointing into the caller's bytes, with the index past
 * its subtree, so the walk and the writer are two loops over the same array.  Every
 * length is checked against its container; anything this reader does not model
 * exactly as DCMTK does (elements out of order, undefined lengths where DCMTK guesses,
 * nested character sets, sets other than ASCII, UTF-8 and Latin-1, big endian,
 * deflate, a data set without a meta header) is PHI_ENOTSUP, and DCMTK reads it.
 *
 * The writer follows DCMTK's choices for the same decisions (dicom_bridge.cc save()):
 * a fresh meta header (version, SOP class and instance from the data set, transfer
 * syntax, phiscan's implementation UID and version, source AE PHISCAN, group length),
 * the input's transfer syntax, sequences and items of explicit length, values padded
 * to even length (UI with NUL, the other strings with a space), elements inserted in
 * tag order.
 */
#include "dicom_native.h"

#include "dicom_dict.h"
#include "format.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNDEF 0xFFFFFFFFu
/* Short binary values are handed to visits (private text hidden in OB/UN), as the
 * bridge's BINARY_PEEK_MAX. */
#define PEEK_MAX 65536u
/* Nesting deeper than this is left to DCMTK's path, which reports it. */
#define MAX_DEPTH 64u
/* The bridge's implementation identity (dicom_bridge.cc). */
#define IMPL_UID "2.25.17399522243035690647548347680912124432"
#define IMPL_VERSION "PHISCAN_" PHI_VERSION

enum kind { K_EL, K_SQ, K_ITEM, K_PIX };

struct node {
	uint32_t hdr, val, len, end; /* offsets in the data; len as stored */
	uint32_t next;               /* index past this node's subtree */
	uint32_t cv, cv_len;         /* converted value: arena offset + 1, or 0 */
	uint32_t creator;            /* private creator: arena offset + 1, or 0 */
	uint32_t repl, repl_len;     /* the decision's value: arena offset + 1, or 0 */
	uint32_t nitems;
	uint16_t g, e;
	char vr[3];
	uint8_t kind, act, depth, meta;
};

struct put {
	uint16_t g, e;
	uint32_t v, vlen; /* arena offset (not + 1) and length; CODES: the code sequence */
};
#define CODES UINT32_MAX

struct phi_dnat {
	const unsigned char *d;
	size_t avail;
	uint64_t size;
	bool explicit_vr, strip, latin1;
	unsigned max_depth; /* sequences nested deeper go to DCMTK's path, which refuses them */
	struct node *nodes;
	size_t nn, ncap, nmeta;
	char *arena;
	size_t an, acap;
	char xfer[65], charset[65];
	struct put puts[8];
	size_t nputs;
	uint32_t codes[16][2]; /* method codes: arena offsets of code and meaning */
	size_t ncodes;
	unsigned char *out;
	size_t on, ocap;
	bool hole_ok;                /* phi_dnat_save_mem_hole: the pixel value may be a hole */
	struct phi_dnat_hole hole;
	bool oom;
	char *path; /* walk scratch: the path, a string value */
	size_t path_cap;
	char *vbuf;
	size_t vcap;
	char err[160];
	uint64_t need;
};

/* ---- small helpers ---- */

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool vr_is(const char *vr, const char *w)
{
	return vr[0] == w[0] && vr[1] == w[1];
}

/* The VRs of PS3.5 Table 6.2-1. */
static bool known_vr(const char *vr)
{
	static const char all[][3] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS",
	                              "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH",
	                              "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
	                              "UR", "US", "UT", "UV"};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		if (vr_is(vr, all[i]))
			return true;
	return false;
}

/* VRs with a 4-byte length in explicit VR (PS3.5 Table 7.1-1). */
static bool long_vr(const char *vr)
{
	static const char longs[][3] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV",
	                                "UC", "UN", "UR", "UT", "UV"};
	for (size_t i = 0; i < sizeof longs / sizeof *longs; i++)
		if (vr_is(vr, longs[i]))
			return true;
	return false;
}

/* DCMTK's string VRs (DcmByteString and its subclasses). */
static bool string_vr(const char *vr)
{
	static const char s[][3] = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
	                            "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++)
		if (vr_is(vr, s[i]))
			return true;
	return false;
}

/* VRs whose text the Specific Character Set governs (PS3.5 6.1.2.3). */
static bool charset_vr(const char *vr)
{
	return vr_is(vr, "PN") || vr_is(vr, "LO") || vr_is(vr, "LT") || vr_is(vr, "SH") ||
	       vr_is(vr, "ST") || vr_is(vr, "UC") || vr_is(vr, "UT");
}

/* The VR DCMTK gives an implicit VR element whose dictionary VR is one of its own
 * ambiguous ones (dicom_dict.h), as DcmItem::checkAndUpdateVR decides it from what
 * the same item held before it: OB or OW by Waveform Bits Allocated (PS3.5 8.3), US
 * or SS by Pixel Representation (PS3.3 C.7.5.1, C.7.6.16, C.11.5), OW for overlay
 * and pixel data (PS3.5 8.1.2, 8.2), OB for curves; anything else stays ambiguous.
 * pixrep and wbits are -1 when the item has no such element (yet). */
static const char *typed_vr(const char *vr, uint16_t g, uint16_t e, int pixrep, int wbits)
{
	uint32_t t = (uint32_t)g << 16 | e;
	if (vr_is(vr, "px"))
		return "OW";
	if (vr_is(vr, "ox")) {
		if (t == 0x54001010u || t == 0x5400100Au || t == 0x54000110u || t == 0x54000112u)
			return wbits < 0 ? vr : wbits == 8 ? "OB" : "OW";
		if (((g & 0xFF00) == 0x6000 && e == 0x3000) || t == 0x7FE00010u)
			return "OW";
		if ((g & 0xFF00) == 0x5000 && e == 0x3000)
			return "OB";
		return vr;
	}
	if (vr_is(vr, "xs")) {
		static const uint32_t pix[] = {0x00280120u, 0x00280121u, 0x00603004u, 0x00603006u,
		                               0x00189810u, 0x00280106u, 0x00280107u, 0x00280108u,
		                               0x00280109u, 0x00283002u, 0x00409211u, 0x00409216u};
		for (size_t i = 0; i < sizeof pix / sizeof *pix; i++)
			if (t == pix[i])
				return pixrep < 0 ? vr : pixrep == 1 ? "SS" : "US";
	}
	return vr;
}

/* code, with why as the handle's message (phi_dnat_error). */
static int fail(struct phi_dnat *n, int code, const char *why)
{
	snprintf(n->err, sizeof n->err, "%s", why);
	return code;
}

static int notsup(struct phi_dnat *n, const char *why)
{
	return fail(n, PHI_ENOTSUP, why);
}

static int oom(struct phi_dnat *n)
{
	return fail(n, PHI_ENOMEM, "out of memory");
}

/* Bytes into the arena; returns their offset + 1, or 0 when out of memory. */
static uint32_t keep(struct phi_dnat *n, const void *p, size_t k)
{
	if (n->an + k + 1 > n->acap) {
		size_t nc = n->acap ? n->acap * 2 : 4096;
		while (nc < n->an + k + 1)
			nc *= 2;
		char *t = realloc(n->arena, nc);
		if (!t)
			return 0;
		n->arena = t;
		n->acap = nc;
	}
	uint32_t at = (uint32_t)n->an;
	if (k)
		memcpy(n->arena + at, p, k);
	n->arena[at + k] = 0;
	n->an += k + 1;
	return at + 1;
}

static struct node *add_node(struct phi_dnat *n)
{
	if (n->nn == n->ncap) {
		size_t nc = n->ncap ? n->ncap * 2 : 256;
		struct node *t = realloc(n->nodes, nc * sizeof *t);
		if (!t)
			return NULL;
		n->nodes = t;
		n->ncap = nc;
	}
	struct node *x = &n->nodes[n->nn++];
	memset(x, 0, sizeof *x);
	return x;
}

/* ---- parsing ---- */

struct creators { /* private blocks of one item: (group, block) -> creator */
	uint16_t g[32];
	uint8_t b[32];
	uint32_t v[32];
	size_t k;
};

static int parse_items(struct phi_dnat *n, uint64_t off, uint64_t end, bool undef,
                       unsigned depth, uint64_t *after);

/* More bytes than the buffer holds: 1 (read more) when the file has them, else the
 * data is truncated and DCMTK's path reports it. */
static int want(struct phi_dnat *n, uint64_t upto)
{
	if (upto <= n->avail)
		return 0;
	if (upto > n->size)
		return notsup(n, "truncated");
	n->need = upto;
	return 1;
}

/* The 8 bytes of a tag and length (or tag and VR) at off, inside limit. */
static int header(struct phi_dnat *n, uint64_t off, uint64_t limit, const unsigned char **p)
{
	int rc = want(n, off + 8);
	if (rc)
		return rc;
	if (off + 8 > limit)
		return notsup(n, "a header past its container");
	*p = n->d + off;
	return 0;
}

/* The fragments of encapsulated pixel data, from off to the sequence delimiter. */
static int skip_fragments(struct phi_dnat *n, uint64_t off, uint64_t *after)
{
	for (;;) {
		int rc = want(n, off + 8);
		if (rc)
			return rc;
		const unsigned char *p = n->d + off;
		uint16_t g = le16(p), e = le16(p + 2);
		uint32_t len = le32(p + 4);
		off += 8;
		if (g == 0xFFFE && e == 0xE0DD) {
			*after = off;
			return 0;
		}
		if (g != 0xFFFE || e != 0xE000 || len == UNDEF || len > n->size - off)
			return notsup(n, "irregular fragment");
		off += len;
	}
}

static void trim(const char **p, size_t *k, bool leading)
{
	while (*k && ((*p)[*k - 1] == ' ' || (*p)[*k - 1] == 0))
		(*k)--;
	while (leading && *k && **p == ' ')
		(*p)++, (*k)--;
}

/* Elements from off to end (defined length) or to an item delimiter (undef). */
static int parse_elements(struct phi_dnat *n, uint64_t off, uint64_t end, bool undef,
                          unsigned depth, uint64_t *after)
{
	struct creators cr = {.k = 0};
	int pixrep = -1, wbits = -1; /* Pixel Representation, Waveform Bits Allocated */
	uint32_t last = 0;
	bool first = true;
	uint64_t limit = undef ? n->size : end;
	while (undef || off < end) {
		const unsigned char *p = NULL;
		int rc = header(n, off, limit, &p);
		if (rc)
			return rc;
		uint16_t g = le16(p), e = le16(p + 2);
		if (g == 0xFFFE) {
			if (undef && e == 0xE00D) {
				*after = off + 8;
				return 0;
			}
			return notsup(n, "item tag outside a sequence");
		}
		uint32_t tag = (uint32_t)g << 16 | e;
		if (!first && tag <= last)
			return notsup(n, "elements out of order");
		first = false;
		last = tag;
		if (g == 0x0002)
			return notsup(n, "group 0002 in the data set");
		if (g == 0x0008 && e == 0x0005 && depth > 0)
			return notsup(n, "a character set inside a sequence");
		/* values read by name (dicom.c) must be text, as DCMTK would convert others */
		static const uint32_t named[] = {0x00080005u, 0x00080016u, 0x00080018u, 0x00080060u,
		                                 0x00100010u, 0x00100020u, 0x00120063u, 0x00280301u};
		for (size_t i = 0; depth == 0 && n->explicit_vr && i < sizeof named / sizeof *named; i++)
			if (tag == named[i] && (!string_vr((const char *)p + 4) ||
			                        ((e == 0x0016 || e == 0x0018) && !vr_is((const char *)p + 4, "UI"))))
				return notsup(n, "a named value that is not text"); /* UIDs: UI */
		if (n->strip && e == 0x0000)
			return notsup(n, "group length in the data set");
		if (n->strip && depth == 0 && tag == 0x00120064u)
			return notsup(n, "an existing De-identification Method Code Sequence");
		size_t idx = n->nn;
		struct node *x = add_node(n);
		if (!x)
			return oom(n);
		x->g = g;
		x->e = e;
		x->hdr = (uint32_t)off;
		x->depth = (uint8_t)depth;
		uint32_t len;
		uint64_t hdr = 8;
		/* the private creator of a data element of an odd group (PS3.5 7.8.1) */
		if ((g & 1) && e >= 0x1000)
			for (size_t i = 0; i < cr.k; i++)
				if (cr.g[i] == g && cr.b[i] == e >> 8)
					x->creator = cr.v[i];
		const char *kw;
		if (n->explicit_vr) {
			x->vr[0] = (char)p[4];
			x->vr[1] = (char)p[5];
			if (!known_vr(x->vr))
				return notsup(n, "unknown VR");
			if (long_vr(x->vr)) {
				if ((rc = want(n, off + 12)))
					return rc;
				if (p[6] || p[7])
					return notsup(n, "reserved bytes set");
				len = le32(p + 8);
				hdr = 12;
			} else {
				len = le16(p + 6);
			}
		} else {
			const char *vr = NULL;
			phi_dicom_dict_find(g, e, x->creator ? n->arena + x->creator - 1 : NULL, &vr, &kw);
			vr = typed_vr(vr ? vr : "UN", g, e, pixrep, wbits);
			x->vr[0] = vr[0];
			x->vr[1] = vr[1];
			len = le32(p + 4);
		}
		x->len = len;
		off += hdr;
		x->val = (uint32_t)off;
		bool sq = vr_is(x->vr, "SQ");
		bool pixels = g == 0x7FE0 && e == 0x0010;
		if (len == UNDEF) {
			uint64_t a;
			if (sq) {
				x->kind = K_SQ;
				if ((rc = parse_items(n, off, 0, true, depth + 1, &a)))
					return rc;
			} else if (pixels && depth == 0 && n->explicit_vr &&
			           (vr_is(x->vr, "OB") || vr_is(x->vr, "OW"))) {
				x->kind = K_PIX;
				x->vr[0] = 'O'; /* DCMTK types encapsulated pixel data OB (PS3.5 A.4) */
				x->vr[1] = 'B';
				if ((rc = skip_fragments(n, off, &a)))
					return rc;
			} else {
				return notsup(n, "undefined length DCMTK guesses about");
			}
			x = &n->nodes[idx]; /* parse_items may have moved the array */
			x->end = (uint32_t)a;
		} else {
			if (len > limit - off)
				return notsup(n, "a length past its container");
			if (sq) {
				x->kind = K_SQ;
				uint64_t a;
				if ((rc = parse_items(n, off, off + len, false, depth + 1, &a)))
					return rc;
				x = &n->nodes[idx];
			} else {
				bool str = string_vr(x->vr);
				if (len & 1) /* not valid (PS3.5 7.1.1); DCMTK adds a zero byte as it reads */
					return notsup(n, "a value of odd length");
				bool skip = (depth == 0 && g == 0x7FE0 && (e == 0x0010 || e == 0x0008 ||
				                                            e == 0x0009)) ||
				            (!str && len > PEEK_MAX);
				if (!skip && (rc = want(n, off + len)))
					return rc;
				if (len >= 2 && vr_is(x->vr, "US") && (tag == 0x00280103u || tag == 0x54001004u))
					*(tag == 0x00280103u ? &pixrep : &wbits) = le16(n->d + off);
				if (str && (g & 1) && e >= 0x0010 && e <= 0x00FF && cr.k < 32) {
					/* as DCMTK keys its private tag cache: the value as a C string
					 * (up to a NUL), trailing spaces off, leading ones kept */
					const char *v = (const char *)n->d + off;
					const char *z = memchr(v, 0, len);
					size_t k = z ? (size_t)(z - v) : len;
					trim(&v, &k, false);
					uint32_t s = keep(n, v, k);
					if (!s)
						return oom(n);
					cr.g[cr.k] = g;
					cr.b[cr.k] = (uint8_t)e;
					cr.v[cr.k++] = s;
				} else if (str && (g & 1) && e >= 0x0010 && e <= 0x00FF) {
					return notsup(n, "too many private blocks");
				}
			}
			x->end = (uint32_t)(off + len);
		}
		x->next = (uint32_t)n->nn;
		off = x->end;
		if (off > UINT32_MAX)
			return notsup(n, "too large");
	}
	*after = off;
	return 0;
}

/* Items of a sequence, from off to end (defined) or to the sequence delimiter. */
static int parse_items(struct phi_dnat *n, uint64_t off, uint64_t end, bool undef,
                       unsigned depth, uint64_t *after)
{
	if (depth > n->max_depth)
		return notsup(n, "nested too deep");
	size_t sq = n->nn - 1;
	uint32_t count = 0;
	uint64_t limit = undef ? n->size : end;
	while (undef || off < end) {
		const unsigned char *p = NULL;
		int rc = header(n, off, limit, &p);
		if (rc)
			return rc;
		uint16_t g = le16(p), e = le16(p + 2);
		uint32_t len = le32(p + 4);
		if (undef && g == 0xFFFE && e == 0xE0DD) {
			off += 8;
			break;
		}
		if (g != 0xFFFE || e != 0xE000)
			return notsup(n, "expected an item");
		size_t idx = n->nn;
		struct node *x = add_node(n);
		if (!x)
			return oom(n);
		x->kind = K_ITEM;
		x->g = g;
		x->e = e;
		x->hdr = (uint32_t)off;
		x->len = len;
		x->depth = (uint8_t)depth;
		off += 8;
		x->val = (uint32_t)off;
		uint64_t a;
		if (len == UNDEF) {
			if ((rc = parse_elements(n, off, 0, true, depth, &a)))
				return rc;
		} else {
			if (len > limit - off)
				return notsup(n, "an item past its sequence");
			if ((rc = parse_elements(n, off, off + len, false, depth, &a)))
				return rc;
		}
		x = &n->nodes[idx];
		x->end = (uint32_t)a;
		x->next = (uint32_t)n->nn;
		off = a;
		count++;
	}
	n->nodes[sq].nitems = count;
	*after = off;
	return 0;
}

/* DCMTK removes every white-space character from a UID wherever it stands
 * (DcmUniqueIdentifier: "incorrectly encoded UIDs ... observed in some images"). */
static bool uid_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* A UI value without its white space, when it has any: the value every reader of the
 * file sees, and the copy holds. */
static int uid_clean(struct phi_dnat *n, struct node *x)
{
	const unsigned char *v = n->d + x->val;
	uint32_t k = 0;
	for (uint32_t i = 0; i < x->len; i++)
		k += !uid_space(v[i]);
	if (k == x->len)
		return 0;
	char *t = malloc(k + 1);
	if (!t)
		return oom(n);
	k = 0;
	for (uint32_t i = 0; i < x->len; i++)
		if (!uid_space(v[i]))
			t[k++] = (char)v[i];
	x->cv = keep(n, t, k);
	x->cv_len = k;
	free(t);
	return x->cv ? 0 : oom(n);
}

/* Latin-1 (ISO_IR 100) to UTF-8, as DCMTK's iconv conversion writes it. */
static uint32_t latin1_value(struct phi_dnat *n, const unsigned char *v, size_t k,
                             uint32_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < k; i++)
		o += v[i] < 0x80 ? 1 : 2;
	char *t = malloc(o + 1);
	if (!t)
		return 0;
	size_t j = 0;
	for (size_t i = 0; i < k; i++) {
		if (v[i] < 0x80) {
			t[j++] = (char)v[i];
		} else {
			t[j++] = (char)(0xC0 | v[i] >> 6);
			t[j++] = (char)(0x80 | (v[i] & 0x3F));
		}
	}
	uint32_t r = keep(n, t, o);
	free(t);
	*out_len = (uint32_t)o;
	return r;
}

static const struct node *top(const struct phi_dnat *n, uint16_t g, uint16_t e)
{
	size_t i = g == 0x0002 ? 0 : n->nmeta, stop = g == 0x0002 ? n->nmeta : n->nn;
	uint32_t t = (uint32_t)g << 16 | e;
	while (i < stop) {
		const struct node *x = &n->nodes[i];
		uint32_t xt = (uint32_t)x->g << 16 | x->e;
		if (xt == t)
			return x;
		if (xt > t && g != 0x0002)
			return NULL;
		i = x->next;
	}
	return NULL;
}

/* The value of a node as the walk sees it: converted, or as stored; a string without
 * its trailing padding characters (DCMTK's DcmByteString drops every trailing space,
 * or NUL for UI, when it reads a value, and pads to even length again on write). */
static const char *value_of(const struct phi_dnat *n, const struct node *x, size_t *k)
{
	const char *v;
	if (x->cv) {
		*k = x->cv_len;
		v = n->arena + x->cv - 1;
	} else {
		*k = x->len == UNDEF ? 0 : x->len;
		v = (const char *)n->d + x->val;
	}
	if (x->kind == K_EL && string_vr(x->vr)) {
		char pad = vr_is(x->vr, "UI") ? 0 : ' ';
		while (*k && v[*k - 1] == pad)
			(*k)--;
	}
	return v;
}

int phi_dnat_parse(struct phi_dnat *n, const unsigned char *data, size_t avail, uint64_t size,
                   unsigned max_depth, int strip, uint64_t *need)
{
	n->max_depth = max_depth && max_depth < MAX_DEPTH ? max_depth : MAX_DEPTH;
	n->d = data;
	n->avail = avail;
	n->size = size;
	n->strip = strip != 0;
	n->nn = n->nmeta = n->an = n->nputs = n->ncodes = 0;
	n->latin1 = false;
	n->xfer[0] = n->charset[0] = 0;
	n->err[0] = 0;
	n->need = 0;
	if (size > UINT32_MAX - 16)
		return notsup(n, "too large");
	if (avail < 144 || memcmp(data + 128, "DICM", 4) || le16(data + 132) != 0x0002)
		return avail < 144 && size >= 144 ? (*need = 144, 1) : notsup(n, "no meta header");
	/* File Meta Information: explicit VR little endian, group 0002 */
	uint64_t off = 132;
	n->explicit_vr = true;
	for (;;) {
		int rc = want(n, off + 8);
		if (rc) {
			*need = n->need;
			return rc;
		}
		const unsigned char *p = data + off;
		if (le16(p) != 0x0002)
			break;
		struct node *x = add_node(n);
		if (!x)
			return oom(n);
		x->g = 2;
		x->e = le16(p + 2);
		x->vr[0] = (char)p[4];
		x->vr[1] = (char)p[5];
		x->meta = 1;
		x->hdr = (uint32_t)off;
		if (!known_vr(x->vr) || vr_is(x->vr, "SQ"))
			return notsup(n, "irregular meta header");
		uint64_t hdr = long_vr(x->vr) ? 12 : 8;
		if ((rc = want(n, off + hdr))) {
			*need = n->need;
			return rc;
		}
		x->len = hdr == 12 ? le32(p + 8) : le16(p + 6);
		if (x->len == UNDEF || x->len > size - off - hdr)
			return notsup(n, "irregular meta header");
		x->val = (uint32_t)(off + hdr);
		x->end = x->val + x->len;
		if ((rc = want(n, x->end))) {
			*need = n->need;
			return rc;
		}
		x->next = (uint32_t)n->nn;
		if (n->nn > 1 && (x[-1].e >= x->e))
			return notsup(n, "irregular meta header");
		if ((x->e == 0x0002 || x->e == 0x0003 || x->e == 0x0010) && !vr_is(x->vr, "UI"))
			return notsup(n, "irregular meta header"); /* read by name: text only */
		if (x->e == 0x0010 && x->len < sizeof n->xfer) {
			size_t k = 0;
			for (uint32_t i = 0; i < x->len; i++)
				if (!uid_space(data[x->val + i]))
					n->xfer[k++] = (char)data[x->val + i];
			while (k && !n->xfer[k - 1])
				k--;
			n->xfer[k] = 0;
		}
		off = x->end;
	}
	n->nmeta = n->nn;
	/* the meta header's group length must state its extent, which DCMTK reads by */
	if (!n->nmeta || n->nodes[0].e != 0x0000 || !vr_is(n->nodes[0].vr, "UL") || n->nodes[0].len != 4 ||
	    le32(data + n->nodes[0].val) != off - n->nodes[0].end)
		return notsup(n, "meta header without a true group length");
	static const char *const native[] = {
		"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.50",
		"1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
		"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90",
		"1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.5"};
	bool ok = false;
	for (size_t i = 0; i < sizeof native / sizeof *native; i++)
		ok = ok || !strcmp(n->xfer, native[i]);
	if (!ok)
		return notsup(n, "transfer syntax left to DCMTK");
	n->explicit_vr = strcmp(n->xfer, "1.2.840.10008.1.2") != 0;
	uint64_t after;
	int rc = parse_elements(n, off, size, false, 0, &after);
	if (rc) {
		*need = n->need;
		return rc;
	}
	if (n->nn == n->nmeta)
		return notsup(n, "no data set elements");
	for (size_t i = 0; i < n->nn; i++)
		if (n->nodes[i].kind == K_EL && vr_is(n->nodes[i].vr, "UI") &&
		    (rc = uid_clean(n, &n->nodes[i])))
			return rc;
	/* the character set: the default repertoire and UTF-8 as stored, Latin-1 converted */
	const struct node *cs = top(n, 0x0008, 0x0005);
	if (cs) {
		size_t k;
		const char *v = value_of(n, cs, &k);
		trim(&v, &k, true);
		if (k >= sizeof n->charset)
			return notsup(n, "character set");
		memcpy(n->charset, v, k);
		n->charset[k] = 0;
		if (!strcmp(n->charset, "ISO_IR 100"))
			n->latin1 = true;
		else if (k && strcmp(n->charset, "ISO_IR 6") && strcmp(n->charset, "ISO_IR 192"))
			return notsup(n, "character set left to DCMTK");
	}
	if (n->latin1) {
		for (size_t i = n->nmeta; i < n->nn; i++) {
			struct node *x = &n->nodes[i];
			if (x->kind != K_EL || !charset_vr(x->vr))
				continue;
			const unsigned char *v = data + x->val;
			bool high = false;
			for (uint32_t j = 0; j < x->len && !high; j++)
				high = v[j] >= 0x80;
			if (high && !(x->cv = latin1_value(n, v, x->len, &x->cv_len)))
				return oom(n);
		}
		struct node *c = &n->nodes[cs - n->nodes];
		if (!(c->cv = keep(n, "ISO_IR 192", 10)))
			return oom(n);
		c->cv_len = 10;
		c->vr[0] = 'C'; /* DCMTK puts a new element: the dictionary's VR */
		c->vr[1] = 'S';
	}
	if (strip && !top(n, 0x0008, 0x0016))
		return notsup(n, "no SOP class");
	return 0;
}

/* ---- the handle ---- */

struct phi_dnat *phi_dnat_new(void)
{
	return calloc(1, sizeof(struct phi_dnat));
}

void phi_dnat_free(struct phi_dnat *n)
{
	if (!n)
		return;
	free(n->nodes);
	free(n->arena);
	free(n->out);
	free(n->path);
	free(n->vbuf);
	free(n);
}

const char *phi_dnat_error(const struct phi_dnat *n)
{
	return n->err;
}

const char *phi_dnat_xfer(const struct phi_dnat *n)
{
	return n->xfer;
}

const char *phi_dnat_source_charset(const struct phi_dnat *n)
{
	return n->charset;
}

/* DCMTK's normalised value (findAndGetOFStringArray): trailing padding removed, and
 * leading spaces too for the VRs whose leading spaces are not significant. */
int phi_dnat_get(const struct phi_dnat *n, uint16_t group, uint16_t element, char *out,
                 size_t cap)
{
	out[0] = 0;
	const struct node *x = top(n, group, element);
	if (!x || x->kind != K_EL || !string_vr(x->vr))
		return 1;
	size_t k;
	const char *v = value_of(n, x, &k);
	bool lead = vr_is(x->vr, "AE") || vr_is(x->vr, "CS") || vr_is(x->vr, "DS") ||
	            vr_is(x->vr, "IS") || vr_is(x->vr, "LO") || vr_is(x->vr, "SH") ||
	            vr_is(x->vr, "UC");
	trim(&v, &k, lead);
	snprintf(out, cap, "%.*s", (int)k, v);
	return 0;
}

int phi_dnat_has_pixels(const struct phi_dnat *n)
{
	return top(n, 0x7FE0, 0x0010) != NULL;
}

/* ---- the walk ---- */

static bool path_room(struct phi_dnat *n, size_t len)
{
	if (len <= n->path_cap)
		return true;
	size_t nc = n->path_cap ? n->path_cap * 2 : 256;
	while (nc < len)
		nc *= 2;
	char *t = realloc(n->path, nc);
	if (!t)
		return false;
	n->path = t;
	n->path_cap = nc;
	return true;
}

static size_t tag_text(char *o, uint16_t g, uint16_t e)
{
	static const char hex[] = "0123456789ABCDEF";
	o[0] = '(';
	for (int i = 0; i < 4; i++) {
		o[1 + i] = hex[g >> (12 - 4 * i) & 15];
		o[6 + i] = hex[e >> (12 - 4 * i) & 15];
	}
	o[5] = ',';
	o[10] = ')';
	return 11;
}

struct walk {
	struct phi_dnat *n;
	int edit;
	phi_dcm_visit_fn fn;
	void *arg;
};

static int walk_elements(struct walk *w, size_t i, size_t stop, size_t plen);

static int visit_one(struct walk *w, size_t i, size_t plen)
{
	struct phi_dnat *n = w->n;
	struct node *x = &n->nodes[i];
	if (!path_room(n, plen + 16))
		return oom(n);
	size_t pl = plen;
	if (pl)
		n->path[pl++] = '/';
	pl += tag_text(n->path + pl, x->g, x->e);
	n->path[pl] = 0;
	struct phi_dcm_elem e;
	memset(&e, 0, sizeof e);
	e.group = x->g;
	e.element = x->e;
	e.vr[0] = x->vr[0];
	e.vr[1] = x->vr[1];
	e.path = n->path;
	e.depth = x->depth;
	e.in_meta = x->meta;
	e.length = x->kind == K_PIX ? 0 : x->len; /* DCMTK: 0 for encapsulated pixel data */
	e.creator = x->creator ? n->arena + x->creator - 1 : NULL;
	const char *vr = NULL, *kw = "";
	if (phi_dicom_dict_find(x->g, x->e, e.creator, &vr, &kw))
		kw = "";
	e.keyword = kw;
	bool pixels = x->g == 0x7FE0 && x->e == 0x0010;
	if (x->kind == K_SQ) {
		e.is_sq = 1;
		e.items = x->nitems;
	} else if (x->kind == K_PIX || pixels) {
		/* never read */
	} else if (string_vr(x->vr)) {
		size_t k;
		e.value = value_of(n, x, &k);
		e.len = k;
		e.is_string = 1;
	} else if (x->len > 0 && x->len <= PEEK_MAX &&
	           (vr_is(x->vr, "OB") || vr_is(x->vr, "UN") || vr_is(x->vr, "??"))) {
		/* the bytes of OB, UN and unknown VRs (DCMTK's getUint8Array) */
		e.value = (const char *)n->d + x->val;
		e.len = x->len;
	}
	/* a string value as a C string for the visit (the bridge hands std::string data) */
	if (e.is_string) {
		if (e.len + 1 > n->vcap) {
			char *t = realloc(n->vbuf, e.len + 1);
			if (!t)
				return oom(n);
			n->vbuf = t;
			n->vcap = e.len + 1;
		}
		memcpy(n->vbuf, e.value, e.len);
		n->vbuf[e.len] = 0;
		e.value = n->vbuf;
	}
	struct phi_dcm_decision d = {PHI_DCM_KEEP, NULL};
	int rc = w->fn(w->arg, &e, &d);
	if (rc)
		return rc;
	if (!w->edit || x->meta)
		d.act = PHI_DCM_KEEP;
	x = &n->nodes[i];
	x->act = (uint8_t)d.act;
	if (d.act == PHI_DCM_REPLACE) {
		const char *r = d.repl ? d.repl : "";
		size_t rl = strlen(r);
		if (!(x->repl = keep(n, r, rl)))
			return oom(n);
		n->nodes[i].repl_len = (uint32_t)rl;
	}
	if (d.act == PHI_DCM_KEEP && n->nodes[i].kind == K_SQ) {
		uint32_t k = 0;
		for (size_t j = i + 1; j < n->nodes[i].next; j = n->nodes[j].next, k++) {
			char ib[24];
			int il = snprintf(ib, sizeof ib, "[%u]", k);
			if (!path_room(n, pl + (size_t)il + 1))
				return oom(n);
			memcpy(n->path + pl, ib, (size_t)il + 1);
			if ((rc = walk_elements(w, j + 1, n->nodes[j].next, pl + (size_t)il)))
				return rc;
		}
	}
	return 0;
}

static int walk_elements(struct walk *w, size_t i, size_t stop, size_t plen)
{
	while (i < stop) {
		int rc = visit_one(w, i, plen);
		if (rc)
			return rc;
		i = w->n->nodes[i].next;
	}
	return 0;
}

int phi_dnat_walk(struct phi_dnat *n, int edit, phi_dcm_visit_fn fn, void *arg)
{
	struct walk w = {n, edit, fn, arg};
	if (!path_room(n, 256))
		return oom(n);
	n->path[0] = 0;
	int rc = walk_elements(&w, 0, n->nmeta, 0);
	if (!rc)
		rc = walk_elements(&w, n->nmeta, n->nn, 0);
	return rc;
}

/* ---- after the walk: top-level values and method codes ---- */

static int put_raw(struct phi_dnat *n, uint16_t group, uint16_t element, uint32_t v,
                   uint32_t vl)
{
	for (size_t i = 0; i < n->nputs; i++)
		if (n->puts[i].g == group && n->puts[i].e == element) {
			n->puts[i].v = v;
			n->puts[i].vlen = vl;
			return 0;
		}
	if (n->nputs == sizeof n->puts / sizeof *n->puts || group == 0x0002)
		return fail(n, PHI_EUSAGE, "too many values set");
	size_t i = n->nputs++;
	while (i > 0 && ((uint32_t)n->puts[i - 1].g << 16 | n->puts[i - 1].e) >
	                        ((uint32_t)group << 16 | element)) {
		n->puts[i] = n->puts[i - 1];
		i--;
	}
	n->puts[i] = (struct put){group, element, v, vl};
	return 0;
}

int phi_dnat_put(struct phi_dnat *n, uint16_t group, uint16_t element, const char *value)
{
	size_t vl = strlen(value);
	uint32_t v = keep(n, value, vl);
	if (!v)
		return oom(n);
	if (group == 0x0012 && element == 0x0064)
		return fail(n, PHI_EUSAGE, "the code sequence is not a string");
	return put_raw(n, group, element, v - 1, (uint32_t)vl);
}

int phi_dnat_add_method_code(struct phi_dnat *n, const char *code, const char *meaning)
{
	for (size_t i = 0; i < n->ncodes; i++)
		if (!strcmp(n->arena + n->codes[i][0], code))
			return 0;
	if (n->ncodes == sizeof n->codes / sizeof *n->codes)
		return fail(n, PHI_EUSAGE, "too many method codes");
	uint32_t c = keep(n, code, strlen(code));
	uint32_t m = c ? keep(n, meaning, strlen(meaning)) : 0;
	if (!m)
		return oom(n);
	n->codes[n->ncodes][0] = c - 1;
	n->codes[n->ncodes][1] = m - 1;
	n->ncodes++;
	return put_raw(n, 0x0012, 0x0064, 0, CODES);
}

/* ---- the writer ---- */

/* Room for k more bytes of the copy; false (n->oom set) when there is none. */
static bool out_room(struct phi_dnat *n, size_t k)
{
	if (n->oom)
		return false;
	if (n->on + k > n->ocap) {
		size_t nc = n->ocap ? n->ocap * 2 : 65536;
		while (nc < n->on + k)
			nc *= 2;
		unsigned char *t = realloc(n->out, nc);
		if (!t) {
			n->oom = true;
			return false;
		}
		n->out = t;
		n->ocap = nc;
	}
	return true;
}

static void out_put(struct phi_dnat *n, const void *p, size_t k)
{
	if (!out_room(n, k))
		return;
	memcpy(n->out + n->on, p, k);
	n->on += k;
}

static void out_u16(struct phi_dnat *n, unsigned v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	out_put(n, b, 2);
}

static void out_u32(struct phi_dnat *n, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	out_put(n, b, 4);
}

static void patch_u32(struct phi_dnat *n, size_t at, uint32_t v)
{
	if (n->oom)
		return;
	n->out[at] = (unsigned char)v;
	n->out[at + 1] = (unsigned char)(v >> 8);
	n->out[at + 2] = (unsigned char)(v >> 16);
	n->out[at + 3] = (unsigned char)(v >> 24);
}

/* An element header; returns where its 4-byte length is (to patch), or 0 for a
 * 2-byte length.  A value too long for a 2-byte length is an error. */
static int out_header(struct phi_dnat *n, bool explicit_vr, uint16_t g, uint16_t e,
                      const char *vr, uint32_t len, size_t *len_at)
{
	out_u16(n, g);
	out_u16(n, e);
	if (!explicit_vr) {
		*len_at = n->on;
		out_u32(n, len);
		return 0;
	}
	out_put(n, vr, 2);
	if (long_vr(vr)) {
		out_u16(n, 0);
		*len_at = n->on;
		out_u32(n, len);
		return 0;
	}
	if (len > 0xFFFF) {
		snprintf(n->err, sizeof n->err, "a value of %u bytes does not fit (%04X,%04X) %c%c", len,
		         g, e, vr[0], vr[1]);
		return PHI_EFORMAT;
	}
	*len_at = 0;
	out_u16(n, len);
	return 0;
}

/* A string value padded to even length (UI with NUL, others with a space). */
static int out_string(struct phi_dnat *n, bool explicit_vr, uint16_t g, uint16_t e,
                      const char *vr, const char *v, size_t k)
{
	size_t at;
	uint32_t padded = (uint32_t)(k + (k & 1));
	int rc = out_header(n, explicit_vr, g, e, vr, padded, &at);
	if (rc)
		return rc;
	out_put(n, v, k);
	if (k & 1)
		out_put(n, vr_is(vr, "UI") ? "" : " ", 1);
	return 0;
}

/* A numeric binary value from its text (a profile dummy, "0"): one value per
 * backslash-separated part, in the VR's size, little endian. */
static int out_numeric(struct phi_dnat *n, bool explicit_vr, const struct node *x, const char *v)
{
	unsigned char buf[256];
	size_t k = 0, sz = vr_is(x->vr, "US") || vr_is(x->vr, "SS")                         ? 2
	                   : vr_is(x->vr, "FD") || vr_is(x->vr, "UV") || vr_is(x->vr, "SV") ? 8
	                                                                                    : 4;
	for (const char *p = v; *p;) {
		char *endp;
		double d = strtod(p, &endp);
		if (endp == p || k + sz > sizeof buf) {
			snprintf(n->err, sizeof n->err, "cannot write a replacement value at (%04X,%04X)",
			         x->g, x->e);
			return PHI_EFORMAT;
		}
		uint64_t u = 0;
		if (vr_is(x->vr, "FL")) {
			float f = (float)d;
			uint32_t b;
			memcpy(&b, &f, 4);
			u = b;
		} else if (vr_is(x->vr, "FD")) {
			memcpy(&u, &d, 8);
		} else {
			u = (uint64_t)(int64_t)d;
		}
		for (size_t j = 0; j < sz; j++)
			buf[k++] = (unsigned char)(u >> (8 * j));
		p = *endp == '\\' ? endp + 1 : endp;
		if (*endp && *endp != '\\')
			return fail(n, PHI_EFORMAT, "cannot write a replacement value: not a number");
	}
	size_t at;
	int rc = out_header(n, explicit_vr, x->g, x->e, x->vr, (uint32_t)k, &at);
	if (!rc)
		out_put(n, buf, k);
	return rc;
}

static int emit_elements(struct phi_dnat *n, size_t i, size_t stop, bool top_level);

/* Room for k bytes at the end of the copy, left unwritten (the hole). */
static void out_skip(struct phi_dnat *n, size_t k)
{
	if (out_room(n, k))
		n->on += k;
}

static int emit_one(struct phi_dnat *n, size_t i, bool top_level)
{
	const struct node *x = &n->nodes[i];
	bool ex = n->explicit_vr;
	size_t at;
	int rc;
	switch (x->act) {
	case PHI_DCM_REMOVE:
		return 0;
	case PHI_DCM_EMPTY:
		return out_header(n, ex, x->g, x->e, x->vr, 0, &at);
	case PHI_DCM_REPLACE:
		if (string_vr(x->vr))
			return out_string(n, ex, x->g, x->e, x->vr, n->arena + x->repl - 1, x->repl_len);
		if (vr_is(x->vr, "US") || vr_is(x->vr, "SS") || vr_is(x->vr, "UL") ||
		    vr_is(x->vr, "SL") || vr_is(x->vr, "FL") || vr_is(x->vr, "FD") ||
		    vr_is(x->vr, "UV") || vr_is(x->vr, "SV"))
			return out_numeric(n, ex, x, n->arena + x->repl - 1);
		snprintf(n->err, sizeof n->err, "cannot write a replacement value at (%04X,%04X)", x->g,
		         x->e);
		return PHI_EFORMAT;
	default:
		break;
	}
	if (x->kind == K_SQ) {
		if ((rc = out_header(n, ex, x->g, x->e, "SQ", 0, &at)))
			return rc;
		size_t start = n->on;
		for (size_t j = i + 1; j < x->next; j = n->nodes[j].next) {
			out_u16(n, 0xFFFE);
			out_u16(n, 0xE000);
			size_t ia = n->on;
			out_u32(n, 0);
			size_t is = n->on;
			if ((rc = emit_elements(n, j + 1, n->nodes[j].next, false)))
				return rc;
			patch_u32(n, ia, (uint32_t)(n->on - is));
		}
		patch_u32(n, at, (uint32_t)(n->on - start));
		return 0;
	}
	if (x->kind == K_PIX) {
		if ((rc = out_header(n, ex, x->g, x->e, "OB", UNDEF, &at)))
			return rc;
		out_put(n, n->d + x->val, x->end - x->val);
		return 0;
	}
	if (string_vr(x->vr)) {
		size_t k;
		const char *v = value_of(n, x, &k);
		if (x->cv || k + (k & 1) != x->len)
			return out_string(n, ex, x->g, x->e, x->vr, v, k);
	}
	if (n->hole_ok && top_level && !n->hole.len && x->g == 0x7FE0 && x->e == 0x0010 &&
	    x->end - x->val >= PHI_DNAT_HOLE_MIN) {
		/* native pixels: their header here, their bytes stay where they are */
		out_put(n, n->d + x->hdr, x->val - x->hdr);
		n->hole.at = n->on;
		n->hole.len = x->end - x->val;
		n->hole.src = n->d + x->val;
		out_skip(n, n->hole.len);
		return 0;
	}
	out_put(n, n->d + x->hdr, x->end - x->hdr);
	return 0;
}

static const char *put_vr(uint16_t g, uint16_t e)
{
	const char *vr = "LO", *kw;
	if (phi_dicom_dict_find(g, e, NULL, &vr, &kw))
		vr = "LO";
	return vr;
}

static int emit_codes(struct phi_dnat *n);

static int emit_put(struct phi_dnat *n, const struct put *p)
{
	if (p->vlen == CODES)
		return emit_codes(n);
	return out_string(n, n->explicit_vr, p->g, p->e, put_vr(p->g, p->e), n->arena + p->v, p->vlen);
}

/* (0012,0064) De-identification Method Code Sequence, one item per code. */
static int emit_codes(struct phi_dnat *n)
{
	size_t at;
	bool ex = n->explicit_vr;
	int rc = out_header(n, ex, 0x0012, 0x0064, "SQ", 0, &at);
	size_t start = n->on;
	for (size_t i = 0; !rc && i < n->ncodes; i++) {
		out_u16(n, 0xFFFE);
		out_u16(n, 0xE000);
		size_t ia = n->on;
		out_u32(n, 0);
		size_t is = n->on;
		const char *c = n->arena + n->codes[i][0], *m = n->arena + n->codes[i][1];
		rc = out_string(n, ex, 0x0008, 0x0100, "SH", c, strlen(c));
		if (!rc)
			rc = out_string(n, ex, 0x0008, 0x0102, "SH", "DCM", 3);
		if (!rc)
			rc = out_string(n, ex, 0x0008, 0x0104, "LO", m, strlen(m));
		patch_u32(n, ia, (uint32_t)(n->on - is));
	}
	patch_u32(n, at, (uint32_t)(n->on - start));
	return rc;
}

static int emit_elements(struct phi_dnat *n, size_t i, size_t stop, bool top_level)
{
	size_t pi = 0, np = top_level ? n->nputs : 0;
	int rc = 0;
	while (!rc && i < stop) {
		const struct node *x = &n->nodes[i];
		uint32_t t = (uint32_t)x->g << 16 | x->e;
		bool replaced = false;
		while (!rc && pi < np && ((uint32_t)n->puts[pi].g << 16 | n->puts[pi].e) <= t) {
			replaced = replaced || ((uint32_t)n->puts[pi].g << 16 | n->puts[pi].e) == t;
			rc = emit_put(n, &n->puts[pi++]);
		}
		if (!rc && !replaced)
			rc = emit_one(n, i, top_level);
		i = x->next;
	}
	while (!rc && pi < np)
		rc = emit_put(n, &n->puts[pi++]);
	return rc;
}

/* The value a top-level element has in the copy. */
static void out_value(const struct phi_dnat *n, uint16_t g, uint16_t e, const char **v,
                      size_t *k)
{
	for (size_t i = 0; i < n->nputs; i++)
		if (n->puts[i].g == g && n->puts[i].e == e && n->puts[i].vlen != CODES) {
			*v = n->arena + n->puts[i].v;
			*k = n->puts[i].vlen;
			return;
		}
	const struct node *x = top(n, g, e);
	*v = "";
	*k = 0;
	if (!x || x->act == PHI_DCM_REMOVE || x->act == PHI_DCM_EMPTY)
		return;
	if (x->act == PHI_DCM_REPLACE) {
		*v = n->arena + x->repl - 1;
		*k = x->repl_len;
	} else {
		*v = value_of(n, x, k);
	}
	/* DCMTK copies it into the meta header as a C string: up to a NUL */
	const char *z = memchr(*v, 0, *k);
	if (z)
		*k = (size_t)(z - *v);
}

int phi_dnat_save_mem_hole(struct phi_dnat *n, const unsigned char **data, size_t *size,
                           struct phi_dnat_hole *hole)
{
	n->hole_ok = true;
	int rc = phi_dnat_save_mem(n, data, size);
	*hole = n->hole;
	n->hole_ok = false;
	return rc;
}

int phi_dnat_save_mem(struct phi_dnat *n, const unsigned char **data, size_t *size)
{
	n->on = 0;
	n->oom = false;
	n->hole = (struct phi_dnat_hole){0};
	static const unsigned char zero[128];
	out_put(n, zero, sizeof zero);
	out_put(n, "DICM", 4);
	size_t gl_at;
	out_header(n, true, 0x0002, 0x0000, "UL", 4, &gl_at);
	out_u32(n, 0);
	size_t meta_start = n->on;
	size_t at;
	out_header(n, true, 0x0002, 0x0001, "OB", 2, &at);
	out_put(n, "\0\1", 2);
	const char *v;
	size_t k;
	out_value(n, 0x0008, 0x0016, &v, &k);
	int rc = out_string(n, true, 0x0002, 0x0002, "UI", v, k);
	out_value(n, 0x0008, 0x0018, &v, &k);
	if (!rc)
		rc = out_string(n, true, 0x0002, 0x0003, "UI", v, k);
	if (!rc)
		rc = out_string(n, true, 0x0002, 0x0010, "UI", n->xfer, strlen(n->xfer));
	if (!rc)
		rc = out_string(n, true, 0x0002, 0x0012, "UI", IMPL_UID, strlen(IMPL_UID));
	if (!rc)
		rc = out_string(n, true, 0x0002, 0x0013, "SH", IMPL_VERSION, strlen(IMPL_VERSION));
	if (!rc)
		rc = out_string(n, true, 0x0002, 0x0016, "AE", "PHISCAN", 7);
	patch_u32(n, meta_start - 4, (uint32_t)(n->on - meta_start));
	if (!rc)
		rc = emit_elements(n, n->nmeta, n->nn, true);
	if (!rc && n->oom)
		rc = oom(n);
	*data = rc ? NULL : n->out;
	*size = rc ? 0 : n->on;
	return rc;
}
