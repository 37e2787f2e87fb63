/* webp.h - WebP (RIFF) photos: detected and scanned (Exif and XMP chunks); strip is
 * refused with a clear message until it is written.
 *
 * Specs: WebP Container Specification (RIFF, VP8X, "EXIF" and "XMP " chunks).
 *
 * Threading: the formats are read-only; scan() works on one struct phi_fctx.
 */
#ifndef PHI_WEBP_H
#define PHI_WEBP_H

#include "format.h"

#include <stddef.h>
#include <stdint.h>

extern const struct phi_format phi_format_webp;

/* Scan an Exif block p[0..n) at file offset off (an optional "Exif\0\0" prefix is
 * skipped; a block without a TIFF header is scanned as text).  Shared with heif.c. */
int phi_webp_exif_block(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t off,
                        const char *where);

#endif
