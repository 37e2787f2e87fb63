/* fuzz_pdf.c - libFuzzer target: PDF through Poppler (pdf_poppler.c, linked in, so
 * nothing is loaded) and the handler's fields, XMP through xmp.c, the refusals of a
 * strip (see fuzz_image.h: the input is forced to start with "%PDF-").  Poppler's
 * own code is not instrumented: what this finds is in phiscan's side of the table
 * or a crash Poppler raises on these bytes. */
#define FUZZ_MAGIC "%PDF-"
#define FUZZ_MAGIC_LEN 5
#include "fuzz_image.h"
