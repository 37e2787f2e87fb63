/* jpeg.h - JPEG photos and exported radiographs: every metadata segment scanned,
 * stripped by allowlist marker surgery (scan data copied byte for byte).
 *
 * Specs: ITU-T T.81 B.1 (marker segments, fill bytes, byte stuffing, restart
 * markers); JFIF 1.02; Exif 3.0 4.5.4 (APP1); ICC.1:2022 B.4 (ICC_PROFILE APP2);
 * XMP Part 3 1.1.3 (XMP and Extended XMP in APP1); Adobe TN 5116 (APP14).
 *
 * Threading: phi_format_jpeg is read-only; scan() works on one struct phi_fctx.
 */
#ifndef PHI_JPEG_H
#define PHI_JPEG_H

#include <stddef.h>

#include "format.h"

extern const struct phi_format phi_format_jpeg;

struct phi_jpeg_check {
	unsigned foreign;     /* segments outside the strip allowlist (APPn, COM ...) */
	unsigned icc_chunks;  /* ICC_PROFILE APP2 segments */
	int orientation;      /* Exif IFD0 Orientation, 0 when absent */
	size_t trailer;       /* bytes after EOI */
	char pixels_sha256[65]; /* SHA-256 of SOF/DHT/DQT/DRI/SOS segments and scan data */
};

/* Walk a JPEG in memory without emitting anything: what a strip must guarantee
 * (tests and --verify use it).  Returns 0 or PHI_EFORMAT. */
int phi_jpeg_check(const unsigned char *p, size_t n, struct phi_jpeg_check *out,
                   struct phi_error *err);

#endif
