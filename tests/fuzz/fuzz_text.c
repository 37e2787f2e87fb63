/* fuzz_text.c - libFuzzer target: arbitrary bytes through content detection, the
 * text format (UTF-8, UTF-16, Latin-1 decoding and chunking) and the rule engine
 * with the default pack, in scan and strip mode.
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct phi_strip_opts none;
	struct phi_engine_opts eo = {.safe_harbor = true, .min_confidence = 0.5};
	(void)argc;
	(void)argv;
	phi_limits_default(&limits);
	limits.chunk_size = 4096; /* small chunks: exercise the seams */
	limits.max_line_context = 512;
	fuzz_setup(&eo, &none);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phi_result res = {0};
	int in = memfd_with(data, size, NULL, 0), out = memfd_create("out", 0);

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
