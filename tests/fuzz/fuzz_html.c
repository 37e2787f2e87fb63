/* fuzz_html.c - libFuzzer target: arbitrary bytes through the HTML format's scan and strip
 * (file and stream), with a sink that replaces values whole, in part or not at all
 * (fuzz_mesh.h).  make fuzz FUZZ_TARGETS=fuzz_html
 */
#include "../../formats/html.h"

#define FUZZ_FORMATS &phi_format_html, NULL

#include "fuzz_mesh.h"
