/* fuzz_jpeg.c - libFuzzer target: JPEG segment walk, APPn metadata (Exif, XMP,
 * Extended XMP, IPTC), strip and its self-check (see fuzz_image.h). */
#define FUZZ_MAGIC "\xFF\xD8\xFF"
#define FUZZ_MAGIC_LEN 3
#include "fuzz_image.h"
