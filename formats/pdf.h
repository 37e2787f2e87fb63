/* pdf.h - PDF (prescription forms, lab slips, reports): scanned through Poppler,
 * loaded as a module on the first PDF (pdf_mod.h); strip is refused with a clear
 * message, since de-identifying a page's text means rewriting its content streams.
 *
 * Spec: ISO 32000-1 (PDF 1.7): the header may sit anywhere in the first 1,024 bytes.
 *
 * Threading: the format is read-only; scan() works on one struct phi_fctx.
 */
#ifndef PHI_PDF_H
#define PHI_PDF_H

#include "format.h"

extern const struct phi_format phi_format_pdf;

/* NULL when the PDF module loads, else why not (static); loads it. */
const char *phi_pdf_unavailable(void);

/* The Poppler the module runs with, or NULL when it is unavailable; *built (may be
 * NULL) gets the one it was built with. */
const char *phi_pdf_version(const char **built);

#endif
