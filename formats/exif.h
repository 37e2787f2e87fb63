/* exif.h - the bounds-checked TIFF/Exif IFD reader shared by JPEG APP1, PNG eXIf,
 * WebP EXIF and TIFF files, and the Exif field scanner built on it.
 *
 * Specs: TIFF 6.0 section 2 (header, IFD, field types); BigTIFF (libtiff's
 * "BigTIFF file format": version 43, 8-byte offsets, types 16-18); Exif 3.0 (CIPA DC-008-2023)
 * 4.6 (IFD structure, Exif/GPS/Interoperability IFD pointers, tag tables), 4.6.5
 * (UserComment character codes); Microsoft XP* tags (UCS-2LE BYTE arrays).
 *
 * Safety: every offset is checked against the block before it is read; sizes are
 * computed in 64 bits (count * type size cannot wrap); IFDs already visited are not
 * walked again (loops); at most limits->max_ifds IFDs and max_ifd_entries entries
 * per IFD are read, and sub-IFDs nest at most max_ifd_depth deep.
 *
 * Threading: reentrant.  Ownership: the reader borrows the block it is given.
 */
#ifndef PHI_EXIF_H
#define PHI_EXIF_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* A TIFF structure in memory: p[0..n) starts at the byte-order mark.  Classic
 * TIFF (32-bit offsets, 12-byte entries) or BigTIFF (64-bit offsets, 20-byte
 * entries, 8-byte counts and inline values). */
struct phi_tiff {
	const unsigned char *p;
	size_t n;
	int be;               /* 1 for "MM" */
	int big;              /* 1 for BigTIFF */
	unsigned max_entries; /* limits->max_ifd_entries */
};

struct phi_tiff_entry {
	uint16_t tag, type;
	uint64_t count;
	uint64_t size;  /* count * size of type, or UINT64_MAX when that overflows */
	size_t voff;    /* offset of the value in p (inline or pointed to) */
	int in_range;   /* 1 when p[voff .. voff + size) lies inside the block */
	size_t eoff;    /* offset of the entry */
};

/* Check the header ("II*\0", "MM\0*", or BigTIFF "II+\0"/"MM\0+" with offset size 8)
 * and give the first IFD offset.  lim may be NULL (defaults).  Returns 0 or
 * PHI_EFORMAT. */
int phi_tiff_init(struct phi_tiff *t, const unsigned char *p, size_t n, uint64_t *ifd0,
                  const struct phi_limits *lim);

uint16_t phi_tiff_u16(const struct phi_tiff *t, size_t off);
uint32_t phi_tiff_u32(const struct phi_tiff *t, size_t off);
uint64_t phi_tiff_u64(const struct phi_tiff *t, size_t off);
/* Size in bytes of one value of a field type, 0 for an unknown type. */
unsigned phi_tiff_type_size(uint16_t type);
/* Bytes a value holds inline in an entry: 4, or 8 in BigTIFF. */
#define PHI_TIFF_INLINE(t) ((t)->big ? 8u : 4u)

/* Read the IFD at off: its entry count, and the next IFD offset.  Entries are read
 * one at a time with phi_tiff_entry_at.  Returns 0 or PHI_EFORMAT (IFD outside the
 * block) / PHI_ELIMIT (more than max_entries entries). */
int phi_tiff_ifd(const struct phi_tiff *t, uint64_t off, unsigned *nent, uint64_t *next);
void phi_tiff_entry_at(const struct phi_tiff *t, uint64_t ifd, unsigned i,
                       struct phi_tiff_entry *e);
/* Integer value i of a BYTE, SHORT, LONG, IFD, LONG8 or IFD8 entry; 0 when out of
 * range. */
uint64_t phi_tiff_int(const struct phi_tiff *t, const struct phi_tiff_entry *e, uint64_t i);
/* 1 for an entry that points to sub-IFDs (LONG, IFD, LONG8, IFD8). */
int phi_tiff_is_ifd_type(uint16_t type);

struct phi_exif_info {
	/* in */
	unsigned char *icc_patch; /* NULL, or a writable copy of the block (same offsets):
	                             ICC text the rules flag is blanked there (icc.h) */
	int skip_icc;             /* 1: ICC profiles are not scanned */
	/* out */
	int orientation;  /* IFD0 Orientation 1..8, 0 when absent */
	unsigned ifds;    /* IFDs read */
	unsigned skipped; /* IFDs or values skipped: outside the block, loops, caps */
	unsigned icc_blanked;  /* ICC tags blanked in icc_patch */
	unsigned icc_unparsed; /* ICC profiles whose tag table could not be read */
};

/* Scan the TIFF structure p[0..n) (file offset `offset` of p[0], or PHI_NO_OFFSET)
 * and emit every identifying or free-text value: IFD0 and its chain (IFD1, later
 * pages), Exif, GPS, Interoperability and SubIFDs, XMP (700), IPTC (33723),
 * Photoshop (34377), ICC text tags (34675, icc.h), MakerNote text runs.  prefix names the container ("Exif",
 * "TIFF").  With strict (TIFF files), an IFD or value outside the block is an error
 * (PHI_EFORMAT); otherwise (embedded Exif) it is skipped and counted.  info may be
 * NULL; its "in" fields are read, its "out" fields written.  Returns 0 or PHI_E*. */
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
