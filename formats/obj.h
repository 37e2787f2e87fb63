/* obj.h - Wavefront OBJ meshes and their MTL material libraries (see obj.c).
 *
 * Threading: the formats are read-only.  Ownership: nothing is exposed.
 */
#ifndef PHI_OBJ_H
#define PHI_OBJ_H

#include "format.h"

extern const struct phi_format phi_format_obj;
extern const struct phi_format phi_format_mtl;

#endif
