/* fuzz_dicom.c - libFuzzer target: arbitrary bytes through DICOM detection, the
 * DCMTK bridge (file path with values loaded on demand, and memory), the walk, the
 * Basic Profile actions and the writer, in scan and strip mode; the case harvest's
 * walk of the Patient module (whole, from the first bytes, from the file); and the
 * keyed input digest of the file (phiscan digest: the walker's map, then a hash of
 * the bytes outside it read back from the file).
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
#include "../../formats/indigest.h"
#include "fuzz_setup.h"

static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static struct phi_strip_opts sopts = {.key = key, .flags = PHI_SO_RETAIN_MOD_DATES};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct phi_engine_opts eo = {.min_confidence = 0.5};
	(void)argc;
	(void)argv;
	phi_limits_default(&limits);
	fuzz_setup(&eo, &sopts);
	return 0;
}

static int take_value(void *arg, const char *cls, const char *v, size_t n)
{
	size_t *sum = arg;
	for (size_t i = 0; i < n; i++) /* every byte handed out is readable */
		*sum += (unsigned char)v[i];
	*sum += strlen(cls);
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

	/* the harvest: the whole bytes, the first ones (a scanner's head), the file */
	struct phi_error herr = {0};
	size_t sum = 0, first = size < 512 ? size / 2 : 512;
	(void)phi_dicom_patient_values_mem(data, size, size, &limits, take_value, &sum, &herr);
	(void)phi_dicom_patient_values_mem(data, first, size, &limits, take_value, &sum, &herr);
	(void)phi_dicom_patient_values(in, size, &limits, take_value, &sum, &herr);

	/* the input digest, as phiscan digest computes it */
	const char *kind;
	char hex[65];
	(void)phi_indigest_file(in, size, true, &limits, key, &kind, hex, &herr);

	/* scan by path: DCMTK reopens the file and loads long values on demand */
	res.path = strdup("fuzz");
	phi_scan_file(scanner, path, "fuzz", NULL, &res);
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
