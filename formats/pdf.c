/* pdf.c - PDF, scan only (see pdf.h).
 *
 * The module (pdf_poppler.c) opens the file with Poppler and hands back its text:
 * document information entries and the XMP packet (through xmp.c), then page by page
 * the page's text, its annotations and its form fields ("name: value", so a field
 * named "Patient" cues the rules).  Each is a field whose `where` names the part
 * ("Info/Author", "page 2", "page 1 form field 3"); page text has no byte offsets.
 *
 * Unscanned, never clean: a file Poppler cannot open or whose page it cannot build,
 * an encrypted one, one that embeds files (their bytes would go unread), one with
 * more than PDF_MAX_REVISIONS earlier revisions, and any PDF while the module is
 * missing.
 *
 * Earlier revisions: an incremental update (a form filled and saved again, a
 * template reused for the next patient) appends to the file, and a reader shows
 * only the last revision; the bytes of the earlier ones stay, and with them what
 * was overwritten.  Each earlier revision is read too (the file up to its %%EOF),
 * and what it says that the document as it stands does not is reported under
 * "revision k of n: ".
 *
 * Strip: can_strip = 0, so the scanner refuses ("the pdf format cannot be stripped
 * yet: nothing written") and exits 2.
 *
 * Threading: the module is found and its init run under one pthread_once, before
 * the first extract; extracts run one at a time, under one mutex (Poppler shares
 * colour-management state between documents).  The rules run inside the lock (the
 * fields are emitted from Poppler's buffers), so PDFs do not scan in parallel.
 * Ownership: input released here.
 */
#include "pdf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgmeta.h"
#include "module.h"
#include "pdf_mod.h"
#include "xmp.h"

#ifndef PHI_PDF_MODULE_NAME
#define PHI_PDF_MODULE_NAME "phiscan-poppler.so"
#endif

/* Defined only where pdf_poppler.o is linked in (the fuzz target). */
extern const struct phi_pdf_ops *phi_pdf_module(void) __attribute__((weak));

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t one_at_a_time = PTHREAD_MUTEX_INITIALIZER;
static const struct phi_pdf_ops *ops; /* NULL: unavailable, why says so */
static char why[512];

static void load(void)
{
	static const struct phi_module mod = {
		"PHISCAN_POPPLER_MODULE", PHI_PDF_MODULE_NAME, "phiscan-poppler.so",
		"phi_pdf_module", "PDF", PHI_PDF_ABI, sizeof(struct phi_pdf_ops)};
	const struct phi_pdf_ops *t =
		phi_module_load(&mod, phi_pdf_module ? phi_pdf_module() : NULL, why, sizeof why);
	if (t)
		t->init();
	ops = t;
}

const char *phi_pdf_unavailable(void)
{
	pthread_once(&once, load);
	return ops ? NULL : why;
}

const char *phi_pdf_version(const char **built)
{
	if (phi_pdf_unavailable())
		return NULL;
	if (built)
		*built = ops->built();
	return ops->version();
}

/* Earlier revisions read besides the document as it stands; a file with more is
 * unscanned (each is a Poppler parse: a crafted file could hold thousands). */
#define PDF_MAX_REVISIONS 32

/* One extract: pass 0 reads the document as it stands and remembers a hash of
 * every part it emitted; pass k >= 1 reads the k-th revision (oldest first) and
 * emits only the parts whose text is not in the document as it stands, under
 * "revision k of n: ", so what an incremental update removed or changed is found
 * once, and what it kept is not reported again. */
struct pass {
	struct phi_fctx *ctx;
	int rev, nrev;
	uint64_t *seen; /* sorted after pass 0 */
	size_t nseen, cap;
};

static uint64_t part_hash(const char *where, const char *text, size_t len)
{
	return phi_fnv1a(where, strlen(where)) * 31 ^ phi_fnv1a(text, len);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int emit(void *arg, enum phi_pdf_part part, const char *where, const char *text,
                size_t len)
{
	struct pass *ps = arg;
	struct phi_fctx *ctx = ps->ctx;
	uint64_t h = part_hash(where, text, len);
	char label[160];
	if (ps->rev == 0) {
		if (ps->nseen == ps->cap) {
			size_t nc = ps->cap ? ps->cap * 2 : 64;
			uint64_t *t = realloc(ps->seen, nc * sizeof *t);
			if (!t)
				return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading a PDF");
			ps->seen = t;
			ps->cap = nc;
		}
		ps->seen[ps->nseen++] = h;
	} else {
		if (ps->nseen && bsearch(&h, ps->seen, ps->nseen, sizeof h, cmp_u64))
			return 0;
		snprintf(label, sizeof label, "revision %d of %d: %s", ps->rev, ps->nrev, where);
		where = label;
	}
	if (part == PHI_PDF_XMP)
		return phi_xmp_scan(ctx, (const unsigned char *)text, len, PHI_NO_OFFSET, where);
	struct phi_field f = {.text = text, .len = len, .kind = PHI_FIELD_TEXT, .where = where,
	                      .offset = PHI_NO_OFFSET, .report_to = len};
	return ctx->sink_ops->field(ctx->sink, &f, NULL);
}

/* Where each earlier revision ends: the end of every "%%EOF" before the last one
 * (incremental updates append a body, a cross-reference section and a trailer
 * ending in %%EOF; a linearised file's first-page section ends in one too).
 * Returns the count, or PDF_MAX_REVISIONS + 1 when there are more. */
static int earlier_ends(const unsigned char *p, size_t n, size_t end[PDF_MAX_REVISIONS])
{
	int k = 0;
	size_t last = 0; /* the end of the marker before this one; 0: none yet */
	for (const unsigned char *q = p; (q = memmem(q, n - (size_t)(q - p), "%%EOF", 5));
	     q += 5) {
		if (last) {
			if (k == PDF_MAX_REVISIONS)
				return k + 1;
			end[k++] = last;
		}
		last = (size_t)(q - p) + 5;
	}
	return k;
}

static int extract_error(struct phi_fctx *ctx, int rc, const char *err)
{
	switch (rc) {
	case PHI_PDF_EPARSE:
		return phi_fail(ctx->err, PHI_EFORMAT, "PDF cannot be read (Poppler: %s)", err);
	case PHI_PDF_EENCRYPTED:
		return phi_fail(ctx->err, PHI_EFORMAT, "encrypted PDF (needs a password)");
	case PHI_PDF_EEMBEDDED:
		return phi_fail(ctx->err, PHI_EFORMAT,
		                "PDF embeds %s file(s), which phiscan does not read", err);
	default:
		return rc;
	}
}

static int pdf_scan(struct phi_fctx *ctx)
{
	if (phi_pdf_unavailable())
		return phi_fail(ctx->err, PHI_ENOTSUP, "the PDF reader is unavailable: %s", why);
	/* one document at a time: Poppler 22.12 is not safe across threads.  ThreadSanitizer
	 * found its documents racing on shared lcms2 colour state in tests/tsan.sh, and,
	 * with the global parameters pinned (pdf_poppler.c), still on lcms2 and GLib's
	 * slice allocator in one run of three without this lock.  The file is read in
	 * under it too, so one PDF at a time is in memory: read, not mapped, since Poppler
	 * reads all of it and a mapping truncated meanwhile would kill the run (SIGBUS). */
	pthread_mutex_lock(&one_at_a_time);
	struct phi_img_in in;
	int rc = phi_img_load_copy(ctx, &in);
	if (rc) {
		pthread_mutex_unlock(&one_at_a_time);
		return rc;
	}
	size_t ends[PDF_MAX_REVISIONS];
	int nrev = earlier_ends(in.p, in.n, ends);
	if (nrev > PDF_MAX_REVISIONS) {
		pthread_mutex_unlock(&one_at_a_time);
		phi_img_release(&in);
		return phi_fail(ctx->err, PHI_ELIMIT,
		                "PDF keeps more than %d earlier revisions (incremental updates)",
		                PDF_MAX_REVISIONS);
	}
	struct pass ps = {.ctx = ctx, .nrev = nrev + 1};
	char err[200] = "";
	rc = ops->extract(in.p, in.n, emit, &ps, err, sizeof err);
	if (!rc && ps.nseen)
		qsort(ps.seen, ps.nseen, sizeof *ps.seen, cmp_u64);
	for (int k = 0; !rc && k < nrev; k++) {
		ps.rev = k + 1;
		rc = ops->extract(in.p, ends[k], emit, &ps, err, sizeof err);
		/* a prefix Poppler cannot open: a "%%EOF" inside stream data, not an update;
		 * the document as it stands has been read */
		if (rc == PHI_PDF_EPARSE)
			rc = 0;
	}
	phi_img_release(&in);
	pthread_mutex_unlock(&one_at_a_time);
	free(ps.seen);
	return extract_error(ctx, rc, err);
}

/* 100 for the header at byte 0; 90 where readers still find it (first 1,024 bytes) */
static int pdf_detect(const unsigned char *h, size_t n, const char *name)
{
	(void)name;
	if (n >= 5 && !memcmp(h, "%PDF-", 5))
		return 100;
	return n >= 5 && memmem(h, n < 1024 ? n : 1024, "%PDF-", 5) ? 90 : 0;
}

const struct phi_format phi_format_pdf = {
	.name = "pdf",
	.detect = pdf_detect,
	.scan = pdf_scan,
	.can_strip = 0,
};
