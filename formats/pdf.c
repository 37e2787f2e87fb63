/* pdf.c - PDF, scan only (see pdf.h).
 *
 * The module (pdf_poppler.c) opens the file with Poppler and hands back its text:
 * document information entries and the XMP packet (through xmp.c), then page by page
 * the page's text, its annotations and its form fields ("name: value", so a field
 * named "Patient" cues the rules).  Each is a field whose `where` names the part
 * ("Info/Author", "page 2", "page 1 form field 3"); page text has no byte offsets.
 *
 * Unscanned, never clean: a file Poppler cannot open or whose page it cannot build,
 * an encrypted one, one that embeds files (their bytes would go unread), and any
 * PDF while the module is missing.  Earlier revisions kept by incremental updates
 * are not read: Poppler reads the document as it now stands.
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
#include <stdio.h>
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
	const struct phi_pdf_ops *(*get)(void) = phi_pdf_module;
	if (!get)
		*(void **)&get = phi_module_sym("PHISCAN_POPPLER_MODULE", PHI_PDF_MODULE_NAME,
		                                "phiscan-poppler.so", "phi_pdf_module", why,
		                                sizeof why);
	const struct phi_pdf_ops *t = get ? get() : NULL;
	if (get && (!t || t->abi != PHI_PDF_ABI || t->size != sizeof *t)) {
		snprintf(why, sizeof why, "the PDF module found is not this phiscan's (rebuild it)");
		return;
	}
	if (t)
		t->init();
	ops = t;
}

const char *phi_pdf_unavailable(void)
{
	pthread_once(&once, load);
	return ops ? NULL : why;
}

const char *phi_pdf_version(void)
{
	return phi_pdf_unavailable() ? NULL : ops->version();
}

static int emit(void *arg, enum phi_pdf_part part, const char *where, const char *text,
                size_t len)
{
	struct phi_fctx *ctx = arg;
	if (part == PHI_PDF_XMP)
		return phi_xmp_scan(ctx, (const unsigned char *)text, len, PHI_NO_OFFSET, where);
	struct phi_field f = {.text = text, .len = len, .kind = PHI_FIELD_TEXT, .where = where,
	                      .offset = PHI_NO_OFFSET, .report_to = len};
	return ctx->sink_ops->field(ctx->sink, &f, NULL);
}

static int pdf_scan(struct phi_fctx *ctx)
{
	if (phi_pdf_unavailable())
		return phi_fail(ctx->err, PHI_ENOTSUP, "the PDF reader is unavailable: %s", why);
	struct phi_img_in in;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	char err[200] = "";
	/* one document at a time: Poppler 22.12 is not safe across threads (ThreadSanitizer
	 * found its documents racing on shared lcms2 colour state in tests/tsan.sh) */
	pthread_mutex_lock(&one_at_a_time);
	rc = ops->extract(in.p, in.n, emit, ctx, err, sizeof err);
	pthread_mutex_unlock(&one_at_a_time);
	phi_img_release(&in);
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
