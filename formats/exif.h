/* exif.h - the bounds-checked TIFF/Exif IFD reader shared by JPEG APP1, PNG eXIf,
 * WebP EXIF and TIFF files, and the Exif field scanner built on it.
 *
 * Specs: TIFF 6.0 section 2 (header, IFD, field types); Exif 3.0 (CIPA DC-008-2023)
 * 4.6 (IFD structure, Exif/GPS/Interoperability IFD pointers, tag tables), 4.6.5
 * (UserComment character codes); Microsoft XP* tags (UCS-2LE BYTE arrays).
 *
 * Safety: every offset is checked against the block before it is read; sizes are
 * computed in 64 bits (count * type size cannot wrap); IFDs already visited are not
 * walked again (loops); at most PHI_EXIF_MAX_IFDS IFDs and PHI_EXIF_MAX_ENTRIES
 * entries per IFD are read, and sub-IFDs nest at most PHI_EXIF_MAX_DEPTH deep.
 *
 * Threading: reentrant.  Ownership: the reader borrows the block it is given.
 */
#ifndef PHI_EXIF_H
#define PHI_EXIF_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

#define PHI_EXIF_MAX_IFDS 512
#define PHI_EXIF_MAX_ENTRIES 4096
#define PHI_EXIF_MAX_DEPTH 8

/* A TIFF structure in memory: p[0..n) starts at the byte-order mark. */
struct phi_tiff {
	const unsigned char *p;
	size_t n;
	int be; /* 1 for "MM" */
};

struct phi_tiff_entry {
	uint16_t tag, type;
	uint32_t count;
	uint64_t size;  /* count * size of type (64-bit: cannot wrap) */
	size_t voff;    /* offset of the value in p (inline or pointed to) */
	int in_range;   /* 1 when p[voff .. voff + size) lies inside the block */
	size_t eoff;    /* offset of the 12-byte entry */
};

/* Check the header ("II*\0" or "MM\0*") and give the first IFD offset.
 * Returns 0 or PHI_EFORMAT. */
int phi_tiff_init(struct phi_tiff *t, const unsigned char *p, size_t n, uint32_t *ifd0);

uint16_t phi_tiff_u16(const struct phi_tiff *t, size_t off);
uint32_t phi_tiff_u32(const struct phi_tiff *t, size_t off);
/* Size in bytes of one value of a field type, 0 for an unknown type. */
unsigned phi_tiff_type_size(uint16_t type);

/* Read the IFD at off: its entry count (capped), and the next IFD offset.
 * Entries are read one at a time with phi_tiff_entry_at.  Returns 0 or
 * PHI_EFORMAT (IFD outside the block) / PHI_ELIMIT (too many entries). */
int phi_tiff_ifd(const struct phi_tiff *t, uint32_t off, unsigned *nent, uint32_t *next);
void phi_tiff_entry_at(const struct phi_tiff *t, uint32_t ifd, unsigned i,
                       struct phi_tiff_entry *e);
/* Integer value i of a SHORT or LONG (or BYTE) entry; 0 when out of range. */
uint32_t phi_tiff_int(const struct phi_tiff *t, const struct phi_tiff_entry *e, uint32_t i);

struct phi_exif_info {
	int orientation;  /* IFD0 Orientation 1..8, 0 when absent */
	unsigned ifds;    /* IFDs read */
	unsigned skipped; /* IFDs or values skipped: outside the block, loops, caps */
};

/* Scan the TIFF structure p[0..n) (file offset `offset` of p[0], or PHI_NO_OFFSET)
 * and emit every identifying or free-text value: IFD0 and its chain (IFD1, later
 * pages), Exif, GPS, Interoperability and SubIFDs, XMP (700), IPTC (33723),
 * Photoshop (34377), MakerNote text runs.  prefix names the container ("Exif",
 * "TIFF").  With strict (TIFF files), an IFD or value outside the block is an error
 * (PHI_EFORMAT); otherwise (embedded Exif) it is skipped and counted.  info may be
 * NULL.  Returns 0 or PHI_E*. */
int phi_exif_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset,
                  const char *prefix, int strict, struct phi_exif_info *info);

/* 1 for tags whose BYTE/UNDEFINED values are image structure, not text (strip and
 * tile offsets, ColorMap, JPEGTables, ICC, PrintIM, DNG CFA and version tags): the
 * scanner does not read them and an in-place blank leaves them alone. */
int phi_exif_structural(uint16_t tag);

/* Write a minimal little-endian TIFF structure holding only IFD0 Orientation
 * (Exif 3.0 4.6.4 A): 26 bytes into out. */
#define PHI_EXIF_MINI_LEN 26
void phi_exif_mini(unsigned char out[PHI_EXIF_MINI_LEN], int orientation);

#endif
