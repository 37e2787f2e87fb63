/* fuzz_stl.c - libFuzzer target: arbitrary bytes through the STL format's scan and strip
 * (file and stream, with --verify); see fuzz_mesh.h.  make fuzz FUZZ_TARGETS=fuzz_stl
 */
#include "../../formats/stl.h"

#define FUZZ_FORMATS &phi_format_stl, NULL

#include "fuzz_mesh.h"
