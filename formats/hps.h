/* hps.h - 3Shape scan files (.dcm that are HIMSA Packed Scan XML, not DICOM); see
 * hps.c.
 *
 * Threading: phi_format_hps is read-only.  Ownership: nothing is exposed.
 */
#ifndef PHI_HPS_H
#define PHI_HPS_H

#include "format.h"

extern const struct phi_format phi_format_hps;

#endif
