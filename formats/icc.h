/* icc.h - the text inside an ICC colour profile (JPEG ICC_PROFILE APP2 chunks
 * reassembled, PNG iCCP inflated, TIFF tag 34675, Exif 0x8773).
 *
 * A profile's tags are colour data, except the text types: a monitor profile made
 * in a practice can be named after a person ("Dr Smith calibrated 2025-06-13") in
 * its description, copyright or device model.  These are scanned as fields; the
 * rest of the profile is never read as text.
 *
 * Specs: ICC.1:2022 (v4.4) 7.2 (header, Profile ID at 84..99: zero means "not
 * computed"), 7.3 (tag table), 10.24 textType, 10.15 multiLocalizedUnicodeType;
 * ICC.1:2001-04 (v2) 6.5.17 textDescriptionType ('desc': ASCII, UTF-16BE and
 * ScriptCode parts).
 *
 * Strip policy: the profile is kept (colour fidelity is why it is there).  When the
 * rules flag the text of a tag, every character of that tag's text is overwritten
 * with a space in the copy (UTF-16 code units with U+0020): lengths and offsets do
 * not move, so every colour tag stays byte for byte; the Profile ID (an MD5 of the
 * profile) is zeroed, which the spec reads as "not computed".  A profile whose tag
 * table cannot be read gives its printable runs to the rules, and a strip that
 * cannot show it clean drops it (result->unparsed).
 *
 * Threading: reentrant.  Ownership: borrows p; writes only into patch.
 */
#ifndef PHI_ICC_H
#define PHI_ICC_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

struct phi_icc_result {
	unsigned texts;   /* text values scanned */
	unsigned blanked; /* tags whose text was overwritten in patch */
	int unparsed;     /* 1 when the tag table could not be read */
};

/* Scan the text tags of the profile p[0..n): offset is the file offset of p[0]
 * (or PHI_NO_OFFSET for a reassembled or inflated profile); where names the
 * container ("JPEG ICC_PROFILE", "PNG iCCP", "TIFF ICC (34675)").  patch is NULL to
 * scan only, or a writable n-byte copy of p that receives the blanking.  res may be
 * NULL.  A malformed profile is not an error.  Returns 0 or PHI_E*. */
int phi_icc_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset,
                 const char *where, unsigned char *patch, struct phi_icc_result *res);

#endif
