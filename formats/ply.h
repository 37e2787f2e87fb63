/* ply.h - PLY polygon files, ascii and binary (see ply.c).
 *
 * Threading: phi_format_ply is read-only.  Ownership: nothing is exposed.
 */
#ifndef PHI_PLY_H
#define PHI_PLY_H

#include "format.h"

extern const struct phi_format phi_format_ply;

#endif
