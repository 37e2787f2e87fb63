/* fuzz_dicom.c - libFuzzer target: arbitrary bytes through DICOM detection, the
 * DCMTK bridge (file path with values loaded on demand, and memory), the walk, the
 * Basic Profile actions and the writer, in scan and strip mode.
 *
 * Run from the repository root (it loads rules/ from there):
 * `make fuzz FUZZ_TARGETS=fuzz_dicom`.  Seeds: tests/fuzz/seeds/fuzz_dicom/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../formats/dicom.h"
#include "../../scanner/engine.h"
#include "../../scanner/finding.h"
#include "../../scanner/names.h"
#include "../../scanner/ops.h"
#include "../../scanner/rules.h"
#include "../../scanner/scan.h"

static struct phi_pack pack;
static struct phi_names *names;
static struct phi_engine *engine;
static struct phi_policy policy;
static struct phi_limits limits;
static struct phi_worker *scanner, *stripper;
static struct phi_scan_opts scan_opts, strip_opts;
static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static struct phi_strip_opts sopts = {.key = key, .flags = PHI_SO_RETAIN_MOD_DATES};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct phi_error err = {0};
	struct phi_engine_opts eo = {.min_confidence = 0.5};
	(void)argc;
	(void)argv;
	if (phi_formats_init(&err) || phi_pack_load(&pack, "rules/default.yaml", &err) ||
	    phi_names_load(&names, "rules/names", &err) ||
	    phi_engine_new(&engine, &pack, names, &eo, &err)) {
		fprintf(stderr, "fuzz_dicom: setup failed: %s\n", err.msg);
		abort();
	}
	phi_limits_default(&limits);
	phi_policy_init(&policy);
	policy.names = names;
	scan_opts = (struct phi_scan_opts){.engine = engine, .limits = &limits, .policy = &policy,
	                                   .sopts = &sopts};
	strip_opts = scan_opts;
	strip_opts.strip = true;
	if (phi_worker_new(&scanner, &scan_opts) || phi_worker_new(&stripper, &strip_opts))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phi_result res = {0};
	int in = memfd_create("fuzz", 0), out = memfd_create("out", 0);
	if (in < 0 || out < 0 || (size && write(in, data, size) != (ssize_t)size))
		abort();
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", in);

	/* scan by path: DCMTK reopens the file and loads long values on demand */
	res.path = strdup("fuzz");
	phi_scan_file(scanner, path, "fuzz", &res);
	phi_result_clear(&res);

	/* strip from memory (the filter's path) */
	lseek(in, 0, SEEK_SET);
	res.path = strdup("fuzz");
	(void)phi_scan_stream(stripper, in, out, &res);
	phi_result_clear(&res);
	close(in);
	close(out);
	return 0;
}
