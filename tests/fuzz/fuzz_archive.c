/* fuzz_archive.c - libFuzzer target: arbitrary bytes through archive detection,
 * libarchive's readers (zip, 7z, rar, tar, cpio, gzip/bzip2/xz/zstd), the entry
 * walk with its limits and unsafe-name checks, every entry through the formats,
 * and strip writing a new archive, as `phiscan filter` runs them.
 *
 * Checks beyond "no crash, no leak": every entry reported carries the archive's
 * path prefix "fuzz!/"; an entry is scanned, skipped or unreadable, never left
 * without an outcome; a strip that succeeds wrote an archive that the walk reads
 * back without error.  Limits are small so a bomb stops early.
 *
 * Run from the repository root (it loads rules/ from there):
 *   make fuzz FUZZ_TARGETS=fuzz_archive FUZZ_SECONDS=300
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_setup.h"

static int on_entry(void *arg, struct phi_result *res)
{
	(void)arg;
	if (strncmp(res->path, "fuzz!/", 6))
		abort(); /* an entry outside its archive's name space */
	if (res->status != PHI_SCANNED && !res->reason)
		abort(); /* unscanned without a reason */
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct phi_strip_opts none;
	struct phi_engine_opts eo = {.safe_harbor = true, .min_confidence = 0.5};
	(void)argc;
	(void)argv;
	phi_limits_default(&limits);
	limits.max_inflate = 1u << 20;
	limits.max_entry_size = 1u << 20;
	limits.max_archive_total = 8u << 20;
	limits.max_archive_entries = 256;
	limits.archive_ratio_floor = 1u << 20;
	fuzz_setup(&eo, &none);
	/* the workers were made from scan_opts / strip_opts, which they keep pointers to */
	scan_opts.entry = on_entry;
	strip_opts.entry = on_entry;
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
	int rc = phi_scan_stream(stripper, in, out, &res);
	bool archive = res.format && strcmp(res.format, "unknown") &&
	               phi_result_get_fact(&res, "archive_entries");
	phi_result_clear(&res);
	if (rc == 0 && archive) {
		/* what strip wrote must read back as an archive */
		lseek(out, 0, SEEK_SET);
		res.path = strdup("fuzz");
		if (phi_scan_stream(scanner, out, -1, &res) && res.status == PHI_UNREADABLE &&
		    strstr(res.reason ? res.reason : "", "archive")) {
			fprintf(stderr, "fuzz_archive: the stripped archive does not read back: %s\n",
			        res.reason);
			abort();
		}
		phi_result_clear(&res);
	}
	close(in);
	close(out);
	return 0;
}
