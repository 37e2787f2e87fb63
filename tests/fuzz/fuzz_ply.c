/* fuzz_ply.c - libFuzzer target: arbitrary bytes through the PLY format's scan and strip
 * (file and stream, with --verify); see fuzz_mesh.h.  make fuzz FUZZ_TARGETS=fuzz_ply
 */
#include "../../formats/ply.h"

#define FUZZ_FORMATS &phi_format_ply, NULL

#include "fuzz_mesh.h"
