/* fuzz_config.c - libFuzzer target: arbitrary bytes as the three files a repository
 * under scan can bring with it: a .phiscan.yaml (config.c, with its allow list
 * through rules.c), a .phiscanignore (ignore.c: every line as a pattern, then
 * matched against paths made from the same bytes), and a baseline file
 * (baseline.c).  In CI those come from the change being checked: untrusted. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../scanner/baseline.h"
#include "../../scanner/config.h"
#include "../../scanner/ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phi_error err = {0};
	struct phi_config c;
	if (phi_config_load_string(&c, (const char *)data, size, "fuzz.yaml", &err) == 0) {
		struct phi_pack pack = {0};
		(void)phi_config_add_allow(&c, &pack, &err);
		phi_pack_free(&pack);
		phi_config_free(&c);
	}

	struct phi_ignore *ig;
	if (phi_ignore_new(&ig, "/nonexistent-fuzz-base", &err) == 0) {
		if (phi_ignore_add(ig, "", (const char *)data, size, "fuzz", &err) == 0) {
			/* paths: the input's own lines, bounded */
			char path[256];
			size_t n = 0;
			for (size_t i = 0; i <= size; i++) {
				if (i == size || data[i] == '\n' || n == sizeof path - 1) {
					path[n] = 0;
					bool v;
					if (n && path[0] != '/')
						(void)phi_ignore_check_path(ig, path, i % 2 == 0, &v, &err);
					n = 0;
				} else if (data[i]) {
					path[n++] = (char)data[i];
				}
			}
		}
		phi_ignore_free(ig);
	}

	/* the baseline reader works on a path: a memory file's, no temporary file */
	int mfd = memfd_create("fuzz-baseline", MFD_CLOEXEC);
	if (mfd >= 0) {
		char path[64];
		if (write(mfd, data, size) == (ssize_t)size) {
			snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
			unsigned char key[32] = {7};
			struct phi_baseline *b;
			if (phi_baseline_new(&b, key, &err) == 0) {
				if (phi_baseline_read(b, path, &err) == 0) {
					unsigned char fp16[PHI_FP_BYTES] = {0};
					(void)phi_baseline_has(b, fp16);
				}
				phi_baseline_free(b);
			}
		}
		close(mfd);
	}
	return 0;
}
