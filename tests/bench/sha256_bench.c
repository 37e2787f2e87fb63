/* sha256_bench.c - the DICOM strip's three manifest hashes, timed per method.
 *
 * Messages shaped like one 512x512x16 CT slice: input file = a 1,499-byte header +
 * the pixel bytes, the pixel bytes alone, output file = a 1,201-byte header + the
 * same pixel bytes (formats/dicom.c hashes exactly these three).  Methods:
 *   openssl-x3   OpenSSL EVP three times (phi_sha256_multi_impl(OPENSSL) with one
 *                message each)
 *   shani-x1     phi_sha256_multi_impl(SHANI) three times with one message: our
 *                SHA-NI code on a single stream (is it as fast as OpenSSL's?)
 *   shani-x2+1   one call with two messages, one with the third
 *   shani-x3     one call with all three, interleaved
 * Every round times each method once, in turn, so all see the same machine; the
 * figure is the best round.  TSC ticks are reference cycles (constant rate), not core
 * cycles; `perf stat -e cycles` (tests/bench/bench_sha256.sh) gives those where the
 * VM counts them.  The digests of all methods are compared: exit 1 if they differ.
 *
 * Usage: sha256-bench [--size PIXEL_BYTES] [--rounds N] [--only METHOD]
 *   --only runs one method N times and prints its time (for perf stat).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "../../formats/format.h"
#include "../../formats/sha256.h"

enum { M_OPENSSL, M_X1, M_X21, M_X3, NMETHOD };
static const char *const names[NMETHOD] = {"openssl-x3", "shani-x1", "shani-x2+1", "shani-x3"};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int run(int method, const struct phi_sha256_msg m[3], char hex[3][65])
{
	int rc = 0;
	switch (method) {
	case M_OPENSSL:
		/* phi_sha256_init now takes SHA-NI where the CPU has it: OpenSSL is asked
		 * for by name */
		for (int i = 0; i < 3 && !rc; i++)
			rc = phi_sha256_multi_impl(&m[i], 1, &hex[i], PHI_SHA256_OPENSSL);
		break;
	case M_X1:
		for (int i = 0; i < 3 && !rc; i++)
			rc = phi_sha256_multi_impl(&m[i], 1, &hex[i], PHI_SHA256_SHANI);
		break;
	case M_X21:
		rc = phi_sha256_multi_impl(m, 2, hex, PHI_SHA256_SHANI);
		if (!rc)
			rc = phi_sha256_multi_impl(&m[2], 1, &hex[2], PHI_SHA256_SHANI);
		break;
	default:
		rc = phi_sha256_multi_impl(m, 3, hex, PHI_SHA256_SHANI);
	}
	return rc;
}

int main(int argc, char **argv)
{
	size_t size = 512 * 512 * 2;
	long rounds = 200;
	int only = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			const char *w = argv[++i];
			for (int k = 0; k < NMETHOD; k++)
				if (!strcmp(w, names[k]))
					only = k;
			if (only < 0) {
				fprintf(stderr, "sha256-bench: unknown method %s\n", w);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: sha256-bench [--size PIXEL_BYTES] [--rounds N] "
			                "[--only METHOD]\n");
			return 2;
		}
	}
	if (rounds < 1 || !size) {
		fprintf(stderr, "sha256-bench: --rounds and --size must be positive\n");
		return 2;
	}
	if (!phi_sha256_has_shani()) {
		fprintf(stderr, "sha256-bench: this CPU has no SHA-NI: only OpenSSL can run\n");
		return 1;
	}
	const size_t hin_n = 1499, hout_n = 1201;
	uint8_t *pix = malloc(size), *hin = malloc(hin_n), *hout = malloc(hout_n);
	if (!pix || !hin || !hout) {
		fprintf(stderr, "sha256-bench: out of memory\n");
		free(pix);
		free(hin);
		free(hout);
		return 1;
	}
	int status = 1;
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		pix[i] = (uint8_t)x;
	}
	memset(hin, 'I', hin_n);
	memset(hout, 'O', hout_n);
	const struct phi_sha256_msg m[3] = {{{{hin, hin_n}, {pix, size}}},
	                                    {{{pix, size}}},
	                                    {{{hout, hout_n}, {pix, size}}}};
	const double bytes = (double)(hin_n + hout_n + 3 * size);

	if (only >= 0) {
		char hex[3][65];
		double t0 = now();
		for (long r = 0; r < rounds; r++)
			if (run(only, m, hex)) {
				fprintf(stderr, "sha256-bench: %s failed\n", names[only]);
				goto done;
			}
		double t = now() - t0;
		printf("%s: %ld rounds, %.3f s, %.1f us a file\n", names[only], rounds, t,
		       t / (double)rounds * 1e6);
		status = 0;
		goto done;
	}

	double best[NMETHOD];
	uint64_t best_tsc[NMETHOD];
	char ref[3][65];
	for (int k = 0; k < NMETHOD; k++)
		best[k] = 1e30, best_tsc[k] = UINT64_MAX;
	for (long r = 0; r < rounds; r++)
		for (int k = 0; k < NMETHOD; k++) {
			char hex[3][65];
			uint64_t c0 = __rdtsc();
			double t0 = now();
			int rc = run(k, m, hex);
			double t = now() - t0;
			uint64_t c = __rdtsc() - c0;
			if (rc) {
				fprintf(stderr, "sha256-bench: %s failed\n", names[k]);
				goto done;
			}
			if (t < best[k])
				best[k] = t;
			if (c < best_tsc[k])
				best_tsc[k] = c;
			if (k == 0 && r == 0)
				memcpy(ref, hex, sizeof ref);
			else if (memcmp(ref, hex, sizeof ref)) {
				fprintf(stderr, "sha256-bench: %s gives other digests than %s\n",
				        names[k], names[0]);
				goto done;
			}
		}
	printf("three SHA-256 messages of %.0f bytes in all (%zu pixel bytes), best of %ld "
	       "rounds\n",
	       bytes, size, rounds);
	printf("%-12s %10s %8s %12s %16s\n", "method", "us/file", "GB/s", "TSC/byte",
	       "vs openssl-x3");
	for (int k = 0; k < NMETHOD; k++)
		printf("%-12s %10.1f %8.2f %12.3f %15.2fx\n", names[k], best[k] * 1e6,
		       bytes / best[k] / 1e9, (double)best_tsc[k] / bytes, best[M_OPENSSL] / best[k]);
	status = 0;
done:
	free(pix);
	free(hin);
	free(hout);
	return status;
}
