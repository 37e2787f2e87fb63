/* fuzz_image.h - shared body of the image fuzz targets (fuzz_jpeg, fuzz_png,
 * fuzz_tiff): the input, forced to start with the format's magic, goes through
 * content detection, scan, and strip with --verify (self-check, pixel decode and
 * compare), as `phiscan filter` would run it.  Each target defines FUZZ_MAGIC and
 * FUZZ_MAGIC_LEN before including this file.
 *
 * Run from the repository root (it loads rules/ from there): `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_setup.h"

static struct phi_strip_opts sopts = {.flags = PHI_SO_VERIFY};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct phi_engine_opts eo = {.safe_harbor = true, .min_confidence = 0.5};
	(void)argc;
	(void)argv;
	phi_limits_default(&limits);
	limits.max_inflate = 1u << 20; /* zTXt bombs stop early */
	fuzz_setup(&eo, &sopts);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phi_result res = {0};
	int has = size >= FUZZ_MAGIC_LEN && !memcmp(data, FUZZ_MAGIC, FUZZ_MAGIC_LEN);
	int in = memfd_with(has ? NULL : (const uint8_t *)FUZZ_MAGIC, has ? 0 : FUZZ_MAGIC_LEN,
	                    data, size);
	int out = memfd_create("out", 0);

	res.path = strdup("fuzz");
	(void)phi_scan_stream(scanner, in, -1, &res);
	phi_result_clear(&res);

	lseek(in, 0, SEEK_SET);
	res.path = strdup("fuzz");
	(void)phi_scan_stream(stripper, in, out, &res);
	phi_result_clear(&res);
	close(in);
	close(out);
	return 0;
}
