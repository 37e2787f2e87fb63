/* dict_bench.c - phiscan's compiled DICOM dictionary (formats/dicom_dict.c) against
 * DCMTK's DcmTag lookup, in one run (tests/bench/bench_dict.sh runs it).
 *
 * 1. DCMTK's dictionary load: the wall time of the first phi_dcm_init() (it parses
 *    dicom.dic and private.dic); phiscan's table needs no load.
 * 2. Lookups: every public and private entry (private ones with their creator, in
 *    block 10) and as many unknown private tags, RUNS passes each way: VR and
 *    keyword by phi_dicom_dict_find, and by DcmTag(DcmTagKey(g, e), creator) with
 *    getVR() and getTagName() (phi_dcm_dict_probe: what the bridge asks per element).
 * Prints ns per lookup, best of RUNS, and the ratio.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../formats/dicom_bridge.h"
#include "../../formats/dicom_dict.h"

struct tag {
	uint16_t g, e;
	const char *creator;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	if (runs < 1)
		runs = 1;
	double t0 = now();
	if (phi_dcm_init() != 0) {
		fprintf(stderr, "dict_bench: DCMTK's dictionary did not load\n");
		return 1;
	}
	double load = now() - t0;

	size_t pub, priv, pub_ranges, priv_ranges;
	phi_dicom_dict_counts(&pub, &priv, &pub_ranges, &priv_ranges);
	size_t n = 0, cap = pub + 2 * priv;
	struct tag *tags = calloc(cap, sizeof *tags);
	if (!tags)
		return 1;
	struct phi_dicom_dict_entry d;
	for (size_t i = 0; phi_dicom_dict_public(i, &d) == 0; i++)
		tags[n++] = (struct tag){d.group, d.element, NULL};
	for (size_t i = 0; phi_dicom_dict_private(i, &d) == 0; i++) {
		tags[n++] = (struct tag){d.group, (uint16_t)(0x1000 | (d.element & 0xFF)), d.creator};
		tags[n++] = (struct tag){d.group, (uint16_t)(0x1000 | (d.element & 0xFF)), "UNKNOWN"};
	}

	/* Three kinds, timed apart: public entries, private entries of a known creator,
	 * private tags of an unknown creator (the full search: exact, low byte, ranges). */
	static const char *const kind[] = {"public (known)", "private, known creator",
	                                   "private, unknown creator"};
	size_t from[4] = {0, pub, pub + priv, n};
	struct tag *sorted = calloc(n, sizeof *sorted);
	if (!sorted)
		return 1;
	size_t k = 0;
	for (size_t i = 0; i < pub; i++)
		sorted[k++] = tags[i];
	for (size_t i = pub; i < n; i += 2)
		sorted[k++] = tags[i];
	for (size_t i = pub + 1; i < n; i += 2)
		sorted[k++] = tags[i];
	printf("DCMTK dictionary load (dicom.dic + private.dic): %.1f ms; phiscan's table: none\n",
	       load * 1e3);
	printf("VR + keyword lookups, ns each, best of %d passes:\n", runs);
	printf("  %-26s %6s %10s %10s %8s\n", "tags", "count", "phiscan", "DCMTK", "ratio");
	size_t sink = 0;
	for (int c = 0; c < 3; c++) {
		double best_ours = 1e9, best_dcmtk = 1e9;
		size_t cnt = from[c + 1] - from[c];
		for (int r = 0; r < runs; r++) {
			const char *vr, *kw, *name;
			char dvr[3];
			double t = now();
			for (size_t i = from[c]; i < from[c + 1]; i++) {
				phi_dicom_dict_find(sorted[i].g, sorted[i].e, sorted[i].creator, &vr, &kw);
				sink += (size_t)kw[0] + (size_t)vr[0];
			}
			t = now() - t;
			best_ours = t < best_ours ? t : best_ours;
			t = now();
			for (size_t i = from[c]; i < from[c + 1]; i++) {
				phi_dcm_dict_probe(sorted[i].g, sorted[i].e, sorted[i].creator, dvr, &name);
				sink += (size_t)name[0] + (size_t)dvr[0];
			}
			t = now() - t;
			best_dcmtk = t < best_dcmtk ? t : best_dcmtk;
		}
		printf("  %-26s %6zu %10.1f %10.1f %7.1fx\n", kind[c], cnt,
		       best_ours * 1e9 / (double)cnt, best_dcmtk * 1e9 / (double)cnt,
		       best_dcmtk / best_ours);
	}
	printf("(checksum %zu)\n", sink);
	free(sorted);
	free(tags);
	return 0;
}
