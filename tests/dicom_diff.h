/* dicom_diff.h - phiscan's own DICOM reader and writer (formats/dicom_native.c)
 * against DCMTK's (formats/dicom_bridge.h) on the same bytes.  Shared by
 * tests/test_dicom.c (generated, sample and regression files) and the libFuzzer
 * target tests/fuzz/fuzz_dicom_native.c (any bytes): one oracle, two drivers.
 *
 * dicom_diff() parses data with the native reader, in scan mode and then in strip
 * mode.  When the native reader leaves the file to DCMTK (PHI_ENOTSUP) it returns 0.
 * When it takes it, DCMTK must read it too, every visit must carry the same path,
 * VR, keyword, creator, type and value, the top-level values the format asks for
 * must be equal, and the same decisions (chosen from the tag, so every kind is
 * exercised) with the same top-level edits must write byte-identical copies: then
 * it returns 1.  Any difference returns -1 with why filled.
 *
 * dicom_prefix_diff() checks the native reader against itself: a scan parses a
 * file's first bytes and reads more when the parse asks (formats/dicom.c,
 * native_prefix).  Fed growing prefixes the way the scan feeds it, the parse must
 * end as the whole-file parse does (taken, left to DCMTK, or refused) and visit the
 * same elements with the same values, but for long binary values a prefix parse
 * leaves unread (their headers are visited without the bytes).
 *
 * Header-only (static functions) because the fuzz build compiles one file per
 * target.  The caller runs phi_dcm_init() first.
 */
#ifndef PHI_TESTS_DICOM_DIFF_H
#define PHI_TESTS_DICOM_DIFF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/dicom_bridge.h"
#include "../formats/dicom_native.h"
#include "../formats/format.h"

struct vlog {
	char **v;
	size_t n;
	int edit;
};

static void vlog_add(struct vlog *l, const char *s)
{
	char **t = realloc(l->v, (l->n + 1) * sizeof *l->v);
	if (!t)
		abort();
	l->v = t;
	l->v[l->n++] = strdup(s);
}

static void vlog_free(struct vlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* One visit as text (values escaped), and a decision from the tag alone. */
static int vlog_visit(void *arg, const struct phi_dcm_elem *e, struct phi_dcm_decision *d)
{
	struct vlog *l = arg;
	size_t cap = 1024 + 4 * e->len;
	char *s = malloc(cap);
	if (!s)
		abort();
	int o = snprintf(s, 1024, "%s|%s|%c%c|d%u|m%d|sq%d/%lu|str%d|kw=%s|cr=%s|", e->path,
	                 e->in_meta ? "meta" : "ds", e->vr[0], e->vr[1], e->depth, e->in_meta,
	                 e->is_sq, e->items, e->is_string, e->keyword, e->creator ? e->creator : "-");
	if (!e->is_string && !e->is_sq)
		o += snprintf(s + o, 32, "L%u|", e->length);
	if (e->value) {
		o += snprintf(s + o, 32, "n%zu:", e->len);
		for (size_t i = 0; i < e->len; i++) {
			unsigned char c = (unsigned char)e->value[i];
			o += c >= 0x20 && c < 0x7f ? snprintf(s + o, 8, "%c", c)
			                           : snprintf(s + o, 8, "\\x%02x", c);
		}
	}
	vlog_add(l, s);
	free(s);
	if (!l->edit)
		return 0;
	unsigned h = (unsigned)(e->group * 31u + e->element) % 7u;
	bool numeric = !strncmp(e->vr, "US", 2) || !strncmp(e->vr, "UL", 2) ||
	               !strncmp(e->vr, "SS", 2) || !strncmp(e->vr, "SL", 2) ||
	               !strncmp(e->vr, "FL", 2) || !strncmp(e->vr, "FD", 2);
	if (h == 1) {
		d->act = PHI_DCM_REMOVE;
	} else if (h == 2) {
		d->act = PHI_DCM_EMPTY;
	} else if (h == 3 && e->is_string) {
		d->act = PHI_DCM_REPLACE;
		d->repl = !strncmp(e->vr, "UI", 2) ? "2.25.12345" : "X1";
	} else if (h == 3 && numeric) {
		d->act = PHI_DCM_REPLACE;
		d->repl = "0";
	} else if (h == 4 && e->is_string) {
		d->act = PHI_DCM_REPLACE;
		d->repl = "ODD";
	}
	return 0;
}

typedef int (*diff_put_fn)(void *, uint16_t, uint16_t, const char *);
typedef int (*diff_code_fn)(void *, const char *, const char *);

static int diff_top_edits(diff_put_fn put, diff_code_fn code, void *h)
{
	int rc = put(h, 0x0012, 0x0062, "YES");
	rc = rc ? rc : put(h, 0x0012, 0x0063, "phiscan test: method");
	rc = rc ? rc : code(h, "113100", "Basic Application Confidentiality Profile");
	rc = rc ? rc : code(h, "113107", "Retain Longitudinal Temporal Information Modified Dates Option");
	rc = rc ? rc : code(h, "113100", "again: not added twice");
	return rc ? rc : put(h, 0x0028, 0x0303, "MODIFIED");
}

static int diff_dcm_put(void *h, uint16_t g, uint16_t e, const char *v)
{
	return phi_dcm_put(h, g, e, v);
}

static int diff_dcm_code(void *h, const char *c, const char *m)
{
	return phi_dcm_add_method_code(h, c, m);
}

static int diff_nat_put(void *h, uint16_t g, uint16_t e, const char *v)
{
	return phi_dnat_put(h, g, e, v);
}

static int diff_nat_code(void *h, const char *c, const char *m)
{
	return phi_dnat_add_method_code(h, c, m);
}

__attribute__((format(printf, 3, 4))) static int diff_why(char *why, size_t cap,
                                                          const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* One mode (scan, then strip): 1 when both agree, 0 when the native reader leaves the
 * file to DCMTK, -1 with why filled on a difference. */
static int dicom_diff_pass(struct phi_dcm *h, struct phi_dnat *nat, const unsigned char *data,
                           size_t n, int edit, char *why, size_t cap)
{
	uint64_t need = 0;
	int nrc = phi_dnat_parse(nat, data, n, n, 64, edit, &need);
	if (nrc == PHI_ENOTSUP)
		return 0;
	if (nrc)
		return diff_why(why, cap, "native parse failed (%d): %s", nrc, phi_dnat_error(nat));
	int drc = phi_dcm_load_mem(h, data, n, 1);
	if (drc)
		return diff_why(why, cap, "the native reader took a file DCMTK reads with %d: %s", drc,
		                phi_dcm_error(h));
	if (strcmp(phi_dnat_xfer(nat), phi_dcm_xfer(h)))
		return diff_why(why, cap, "transfer syntax %s, DCMTK %s", phi_dnat_xfer(nat),
		                phi_dcm_xfer(h));
	if (strcmp(phi_dnat_source_charset(nat), phi_dcm_source_charset(h)))
		return diff_why(why, cap, "character set '%s', DCMTK '%s'", phi_dnat_source_charset(nat),
		                phi_dcm_source_charset(h));
	static const uint16_t gets[][2] = {{0x0010, 0x0010}, {0x0010, 0x0020}, {0x0008, 0x0016},
	                                   {0x0008, 0x0018}, {0x0008, 0x0060}, {0x0028, 0x0301},
	                                   {0x0012, 0x0063}, {0x0002, 0x0002}, {0x0008, 0x0005}};
	for (size_t i = 0; i < sizeof gets / sizeof *gets; i++) {
		char a[256], b[256];
		int ra = phi_dnat_get(nat, gets[i][0], gets[i][1], a, sizeof a);
		int rb = phi_dcm_get(h, gets[i][0], gets[i][1], b, sizeof b);
		if (ra != rb || strcmp(a, b))
			return diff_why(why, cap, "get (%04X,%04X): native %d '%s', DCMTK %d '%s'",
			                gets[i][0], gets[i][1], ra, a, rb, b);
	}
	if (phi_dnat_has_pixels(nat) != phi_dcm_has_pixels(h))
		return diff_why(why, cap, "pixel data presence differs");
	struct vlog ln = {.edit = edit}, ld = {.edit = edit};
	int rc = 0;
	if (phi_dnat_walk(nat, edit, vlog_visit, &ln) || phi_dcm_walk(h, edit, vlog_visit, &ld))
		rc = diff_why(why, cap, "a walk failed: %s / %s", phi_dnat_error(nat), phi_dcm_error(h));
	for (size_t i = 0; !rc && i < ln.n && i < ld.n; i++)
		if (strcmp(ln.v[i], ld.v[i]))
			rc = diff_why(why, cap, "visit %zu differs:\n native %s\n DCMTK  %s", i, ln.v[i],
			              ld.v[i]);
	if (!rc && ln.n != ld.n)
		rc = diff_why(why, cap, "%zu visits native, %zu DCMTK", ln.n, ld.n);
	vlog_free(&ln);
	vlog_free(&ld);
	if (rc || !edit)
		return rc ? rc : 1;
	/* as formats/dicom.c does: a copy without a SOP Instance UID gets one (else DCMTK
	 * invents a random one for the meta header) */
	char inst[80];
	if ((phi_dnat_get(nat, 0x0008, 0x0018, inst, sizeof inst) || !inst[0]) &&
	    (phi_dnat_put(nat, 0x0008, 0x0018, "2.25.999") || phi_dcm_put(h, 0x0008, 0x0018, "2.25.999")))
		return diff_why(why, cap, "cannot put a SOP Instance UID");
	if (diff_top_edits(diff_nat_put, diff_nat_code, nat) ||
	    diff_top_edits(diff_dcm_put, diff_dcm_code, h))
		return diff_why(why, cap, "top-level edits failed");
	const unsigned char *a, *b;
	size_t an, bn;
	int sa = phi_dnat_save_mem(nat, &a, &an), sb = phi_dcm_save_mem(h, &b, &bn);
	if (sa || sb) {
		if (sa && sb)
			return 1; /* neither can write it (a value too long for its VR) */
		return diff_why(why, cap, "save: native %d (%s), DCMTK %d (%s)", sa, phi_dnat_error(nat),
		                sb, phi_dcm_error(h));
	}
	size_t k = 0;
	while (k < an && k < bn && a[k] == b[k])
		k++;
	if (an != bn || k != an)
		return diff_why(why, cap, "copies differ at byte %zu (native %zu, DCMTK %zu bytes)", k, an,
		                bn);
	/* the strip's way: the pixel value left as a hole, its bytes the input's (the
	 * buffer's bytes over the hole are not the copy's and are not compared) */
	struct phi_dnat_hole hole;
	const unsigned char *c;
	size_t cn;
	if (phi_dnat_save_mem_hole(nat, &c, &cn, &hole))
		return diff_why(why, cap, "save with a hole failed: %s", phi_dnat_error(nat));
	if (cn != bn || (hole.len && (hole.at + hole.len > cn || hole.len < PHI_DNAT_HOLE_MIN)))
		return diff_why(why, cap, "the copy with a hole has %zu bytes (DCMTK %zu), hole %zu+%zu", cn,
		                bn, hole.at, hole.len);
	size_t at = hole.len ? hole.at : cn, end = hole.len ? hole.at + hole.len : cn;
	if (memcmp(c, b, at) || (hole.len && memcmp(hole.src, b + at, hole.len)) ||
	    memcmp(c + end, b + end, cn - end))
		return diff_why(why, cap, "the copy with a hole differs from DCMTK's (hole %zu+%zu)",
		                hole.at, hole.len);
	return 1;
}

static int dicom_diff(const unsigned char *data, size_t n, char *why, size_t cap)
{
	struct phi_dcm *h = phi_dcm_new();
	struct phi_dnat *nat = phi_dnat_new();
	if (!h || !nat)
		abort();
	int took = 0;
	why[0] = 0;
	for (int edit = 0; edit <= 1; edit++) {
		int rc = dicom_diff_pass(h, nat, data, n, edit, why, cap);
		if (rc <= 0) { /* a difference, or the native reader left it to DCMTK */
			took = rc < 0 ? rc : took;
			break;
		}
		took = 1;
	}
	phi_dcm_free(h);
	phi_dnat_free(nat);
	return took;
}

/* The visit strings of a and b are the same, or b lacks the value part a has. */
static bool same_but_unread(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return true;
	size_t k = strlen(b);
	return k && b[k - 1] == '|' && !strncmp(a, b, k) && a[k] == 'n';
}

/* 1: the prefix parses agreed with the whole-file parse; 0: the native reader leaves
 * the file to DCMTK either way; -1: a difference (why says). */
static int dicom_prefix_diff(const unsigned char *data, size_t n, size_t first, char *why,
                             size_t cap)
{
	struct phi_dnat *whole = phi_dnat_new(), *part = phi_dnat_new();
	if (!whole || !part)
		abort();
	why[0] = 0;
	uint64_t need = 0;
	int wrc = phi_dnat_parse(whole, data, n, n, 64, 0, &need);
	size_t avail = first < n ? first : n;
	int prc, steps = 0;
	while ((prc = phi_dnat_parse(part, data, avail, n, 64, 0, &need)) == 1) {
		if (need <= avail || need > n) {
			prc = diff_why(why, cap, "a parse of %zu of %zu bytes asked for %llu", avail, n,
			               (unsigned long long)need);
			break;
		}
		avail = (size_t)need;
		if (++steps > 10000)
			abort(); /* no progress bound: a bug in the test */
	}
	int rc = 0;
	if (prc < 0 && why[0]) {
		rc = prc;
	} else if ((wrc == 0) != (prc == 0) || (wrc == PHI_ENOTSUP) != (prc == PHI_ENOTSUP)) {
		rc = diff_why(why, cap, "the whole file parses with %d, its first %zu bytes with %d (%s)",
		              wrc, avail, prc, prc && prc != PHI_ENOTSUP ? phi_dnat_error(part) : "");
	} else if (wrc == 0) {
		struct vlog lw = {0}, lp = {0};
		if (phi_dnat_walk(whole, 0, vlog_visit, &lw) || phi_dnat_walk(part, 0, vlog_visit, &lp))
			rc = diff_why(why, cap, "a walk failed: %s / %s", phi_dnat_error(whole),
			              phi_dnat_error(part));
		for (size_t i = 0; !rc && i < lw.n && i < lp.n; i++)
			if (!same_but_unread(lw.v[i], lp.v[i]))
				rc = diff_why(why, cap, "visit %zu differs:\n whole  %s\n prefix %s", i,
				              lw.v[i], lp.v[i]);
		if (!rc && lw.n != lp.n)
			rc = diff_why(why, cap, "%zu visits whole, %zu from a prefix", lw.n, lp.n);
		vlog_free(&lw);
		vlog_free(&lp);
		if (!rc)
			rc = 1;
	}
	phi_dnat_free(whole);
	phi_dnat_free(part);
	return rc;
}

#endif
