/* tiff.h - TIFF radiographs and scans: every IFD of every page scanned (with the
 * Exif, GPS, Interoperability and SubIFDs, XMP 700, IPTC 33723, Photoshop 34377);
 * stripped by rewriting each page with only the image-structure tags, strip and
 * tile data copied byte for byte.
 *
 * Specs: TIFF 6.0 sections 2 (structure), 3-8 (baseline tags), 15 (tiles), 22
 * (JPEGTables); Exif 3.0 4.6; ICC.1:2022 B.3 (tag 34675); BigTIFF (version 43,
 * 8-byte offsets), scanned and stripped by the same rules, written back as BigTIFF.
 *
 * Threading: phi_format_tiff is read-only; scan() works on one struct phi_fctx.
 */
#ifndef PHI_TIFF_H
#define PHI_TIFF_H

#include <stddef.h>

#include "format.h"

extern const struct phi_format phi_format_tiff;

struct phi_tiff_check {
	int big;                /* 1 for BigTIFF */
	unsigned pages;
	unsigned foreign;       /* tags outside the structural allowlist */
	unsigned icc;           /* pages with an ICC profile */
	int orientation;        /* first page Orientation, 0 when absent */
	char pixels_sha256[65]; /* SHA-256 of every page's strips or tiles, in order */
};

/* Walk a TIFF or BigTIFF in memory without emitting anything (default limits).
 * Returns 0 or PHI_E*. */
int phi_tiff_check(const unsigned char *p, size_t n, struct phi_tiff_check *out,
                   struct phi_error *err);

#endif
