/* fuzz_json.c - libFuzzer target: arbitrary bytes through the JSON format's scan and strip
 * (file and stream), with a sink that replaces values whole, in part or not at all
 * (fuzz_mesh.h).  make fuzz FUZZ_TARGETS=fuzz_json
 */
#include "../../formats/json.h"

#define FUZZ_FORMATS &phi_format_json, NULL

#include "fuzz_mesh.h"
