/* json.h - JSON documents, generic and 3Shape Communicate case JSON; see json.c.
 *
 * Threading: phi_format_json is read-only.  Ownership: nothing is exposed.
 */
#ifndef PHI_JSON_H
#define PHI_JSON_H

#include "format.h"

extern const struct phi_format phi_format_json;

#endif
