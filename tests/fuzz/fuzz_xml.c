/* fuzz_xml.c - libFuzzer target: arbitrary bytes through the XML format's scan and strip
 * (file and stream), with a sink that replaces values whole, in part or not at all
 * (fuzz_mesh.h).  make fuzz FUZZ_TARGETS=fuzz_xml
 */
#include "../../formats/xml.h"

#define FUZZ_FORMATS &phi_format_xml, NULL

#include "fuzz_mesh.h"
