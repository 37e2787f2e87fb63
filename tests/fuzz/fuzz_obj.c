/* fuzz_obj.c - libFuzzer target: arbitrary bytes through the OBJ and MTL formats' scan and strip
 * (file and stream, with --verify); see fuzz_mesh.h.  make fuzz FUZZ_TARGETS=fuzz_obj
 */
#include "../../formats/obj.h"

#define FUZZ_FORMATS &phi_format_obj, &phi_format_mtl, NULL

#include "fuzz_mesh.h"
