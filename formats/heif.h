/* heif.h - HEIF/HEIC/AVIF (ISO BMFF) photos: detected and scanned (Exif and XMP
 * items); strip is refused with a clear message until it is written.
 *
 * Specs: ISO/IEC 14496-12 4.2 (boxes), 8.11.3 (iloc), 8.11.6 (iinf/infe); ISO/IEC
 * 23008-12 A.2.1 (Exif item: 4-byte TIFF header offset, then the Exif block).
 *
 * Threading: the format is read-only; scan() works on one struct phi_fctx.
 */
#ifndef PHI_HEIF_H
#define PHI_HEIF_H

#include "format.h"

extern const struct phi_format phi_format_heif;

#endif
