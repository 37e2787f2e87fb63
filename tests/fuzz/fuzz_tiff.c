/* fuzz_tiff.c - libFuzzer target: TIFF IFD chain, sub-IFDs, strict offsets, the
 * page rewrite and its self-check (see fuzz_image.h). */
#define FUZZ_MAGIC "II*\0"
#define FUZZ_MAGIC_LEN 4
#include "fuzz_image.h"
