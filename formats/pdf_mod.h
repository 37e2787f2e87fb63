/* pdf_mod.h - the table the PDF module (phiscan-poppler.so, formats/pdf_poppler.c)
 * hands to formats/pdf.c.
 *
 * Poppler (libpoppler-glib) reads the PDF: its cross-reference table (repaired when
 * damaged, as readers do), object streams, filters, fonts and their encodings, so
 * page text comes out as the Unicode a reader shows.  It is a module of its own,
 * loaded with dlopen on the first PDF, because linking poppler, glib and cairo would
 * cost every start of phiscan their relocations (as DCMTK would, see
 * dicom_bridge_load.c), and most runs hold no PDF.
 *
 * The module hands back text only, through emit, in document order; it keeps no
 * state between calls but the library's own, set up once by init.
 * Threading: init under the caller's pthread_once, before any extract; one extract
 * at a time (the caller's mutex): each has its own PopplerDocument, but Poppler
 * 22.12's documents share colour-management (lcms2) state unguarded.
 */
#ifndef PHI_PDF_MOD_H
#define PHI_PDF_MOD_H
#include <stddef.h>

#define PHI_PDF_ABI 1

enum phi_pdf_part {
	PHI_PDF_INFO,   /* a document information entry (where: "Info/Author") */
	PHI_PDF_XMP,    /* the document's XMP metadata packet */
	PHI_PDF_PAGE,   /* the text of one page, as a reader extracts it */
	PHI_PDF_ANNOT,  /* an annotation's contents, label or subject */
	PHI_PDF_FIELD,  /* a form field: "name: value" */
};

/* Returns 0 to go on, anything else to stop extract with that value. */
typedef int (*phi_pdf_emit)(void *arg, enum phi_pdf_part part, const char *where,
                            const char *text, size_t len);

/* extract's results besides 0 and emit's own */
enum {
	PHI_PDF_EPARSE = -1001,     /* not a PDF Poppler can open: err says why */
	PHI_PDF_EENCRYPTED = -1002, /* needs a password */
	PHI_PDF_EEMBEDDED = -1003,  /* holds embedded files, whose bytes are not read */
};

struct phi_pdf_ops {
	unsigned abi; /* PHI_PDF_ABI; abi and size first: module.h's struct phi_module_head */
	size_t size;  /* sizeof (struct phi_pdf_ops) */
	const char *(*built)(void);   /* the Poppler the module was built with */
	const char *(*version)(void); /* the Poppler it runs with */
	void (*init)(void);
	/* Emit every text of the n bytes at p.  err (cap bytes) gets a reason on
	 * PHI_PDF_EPARSE, and never text of the document. */
	int (*extract)(const unsigned char *p, size_t n, phi_pdf_emit emit, void *arg, char *err,
	               size_t cap);
};

/* The module's one visible symbol; a program may link pdf_poppler.o instead (the
 * fuzz target), and pdf.c then loads nothing. */
const struct phi_pdf_ops *phi_pdf_module(void);

#endif
