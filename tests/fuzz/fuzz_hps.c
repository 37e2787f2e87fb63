/* fuzz_hps.c - libFuzzer target: arbitrary bytes through the 3Shape HPS format's scan and strip
 * (file and stream, with --verify); see fuzz_mesh.h.  make fuzz FUZZ_TARGETS=fuzz_hps
 */
#include "../../formats/hps.h"

#define FUZZ_FORMATS &phi_format_hps, NULL

#include "fuzz_mesh.h"
