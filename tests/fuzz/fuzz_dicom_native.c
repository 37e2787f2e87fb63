/* fuzz_dicom_native.c - libFuzzer target: phiscan's own DICOM reader and writer
 * (formats/dicom_native.c) against DCMTK's on arbitrary bytes.  Whatever input the
 * native reader accepts, DCMTK must read the same elements with the same values, and
 * both writers must make byte-identical copies for the same decisions
 * (tests/dicom_diff.h); and a parse from the first bytes, reading on as it asks,
 * must end like the whole-file parse.  A difference aborts with both sides printed.
 *
 * `make fuzz FUZZ_TARGETS=fuzz_dicom_native`.  Seeds: tests/fuzz/seeds/fuzz_dicom_native/
 * (small explicit and implicit VR files the native reader takes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../formats/dicom.h"
#include "../dicom_diff.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (phi_dicom_init(NULL) || phi_dcm_init())
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[4096];
	if (dicom_diff(data, size, why, sizeof why) < 0) {
		fprintf(stderr, "native and DCMTK disagree: %s\n", why);
		abort();
	}
	/* a scan's parse of the first bytes, read on as it asks (native_prefix) */
	size_t first = size > 288 ? 144 + data[size - 1] : size / 2;
	if (dicom_prefix_diff(data, size, first, why, sizeof why) < 0) {
		fprintf(stderr, "a parse from the first %zu bytes disagrees: %s\n", first, why);
		abort();
	}
	return 0;
}
