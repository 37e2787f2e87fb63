/* png.h - PNG (and APNG) screenshots and exported radiographs: text chunks, eXIf,
 * tIME, the iCCP profile name and unknown ancillary chunks scanned; stripped at
 * chunk level, rendering chunks kept byte for byte with their CRCs.
 *
 * Specs: W3C PNG 3rd edition 5.3 (chunk layout, CRC), 5.4 (chunk naming),
 * 11.3.3 (tEXt, zTXt, iTXt), 11.3.3.6 eXIf, 11.3.6.1 tIME, 11.3.2.3 iCCP; APNG
 * (acTL, fcTL, fdAT).
 *
 * Threading: phi_format_png is read-only; scan() works on one struct phi_fctx.
 */
#ifndef PHI_PNG_H
#define PHI_PNG_H

#include <stddef.h>

#include "format.h"

extern const struct phi_format phi_format_png;

struct phi_png_check {
	unsigned foreign;       /* chunks outside the rendering allowlist */
	unsigned iccp;          /* iCCP chunks */
	int orientation;        /* eXIf IFD0 Orientation, 0 when absent */
	size_t trailer;         /* bytes after IEND */
	char pixels_sha256[65]; /* SHA-256 of IHDR, PLTE, tRNS, IDAT, fcTL and fdAT chunks */
};

/* Walk a PNG in memory without emitting anything (tests and self-checks).
 * Returns 0 or PHI_EFORMAT. */
int phi_png_check(const unsigned char *p, size_t n, struct phi_png_check *out,
                  struct phi_error *err);

#endif
