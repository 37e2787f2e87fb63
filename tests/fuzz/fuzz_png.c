/* fuzz_png.c - libFuzzer target: PNG chunk walk, CRCs, text chunks and capped
 * inflate, eXIf, strip and its self-check (see fuzz_image.h). */
#define FUZZ_MAGIC "\x89PNG\r\n\x1a\n"
#define FUZZ_MAGIC_LEN 8
#include "fuzz_image.h"
