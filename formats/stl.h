/* stl.h - STL meshes, binary and ASCII (see stl.c).
 *
 * Threading: phi_format_stl is read-only.  Ownership: nothing is exposed.
 */
#ifndef PHI_STL_H
#define PHI_STL_H

#include "format.h"

extern const struct phi_format phi_format_stl;

/* The fixed neutral tag a stripped binary STL header starts with (NUL-padded). */
#define PHI_STL_NEUTRAL_TAG "phiscan deid"
/* What a stripped ASCII STL has after `solid` / `endsolid` where a name stood. */
#define PHI_STL_NEUTRAL_NAME "deid"

#endif
