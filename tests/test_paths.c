/* test_paths.c - the path-handling fuzz target's saved inputs, replayed.
 *
 * tests/fuzz/fuzz_path.c drives every place that takes an untrusted name (the
 * plan: file names as fields, display masking, case-code renames; the reporters;
 * archive entry names; .phiscanignore).  Its checks abort, so a seed or a
 * regression input that breaks one fails this test (Criterion reports the crash).
 * Run from the repository root (rules/ and tests/fuzz/ are read from there).
 */
#include <criterion/criterion.h>
#include <dirent.h>

#define FUZZ_PATH_NO_MAIN
#include "fuzz/fuzz_path.c"

static size_t replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s (run from the repository root)", dir);
	size_t ran = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		cr_assert_not_null(f, "%s", path);
		static uint8_t buf[1 << 16];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		fuzz_path_one(buf, n);
		ran++;
	}
	closedir(d);
	return ran;
}

Test(paths, fuzz_path_seeds_and_regression_inputs_pass_every_check)
{
	fuzz_path_init();
	size_t seeds = replay_dir("tests/fuzz/seeds/fuzz_path");
	size_t regress = replay_dir("tests/fuzz/regress/fuzz_path");
	cr_expect_geq(seeds, 5, "the seeds are replayed (%zu)", seeds);
	cr_expect_geq(regress, 1, "the regression inputs are replayed (%zu)", regress);
	/* the seeds reach every part the checks are about */
	cr_expect_gt(fp_stats.plans, 0, "no plan was made");
	cr_expect_gt(fp_stats.masked, 0, "no display path was masked");
	cr_expect_gt(fp_stats.renamed, 0, "no file was renamed");
	cr_expect_gt(fp_stats.entries, 0, "no archive entry was reported");
	cr_expect_gt(fp_stats.unsafe_refused, 0, "no unsafe entry name was refused");
}

Test(paths, junit_keeps_a_tab_or_newline_in_a_file_name_as_character_references)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	struct phi_report_opts ro = {.format = PHI_REPORT_JUNIT, .tool_version = "t"};
	struct phi_reporter *r;
	cr_assert_eq(phi_reporter_new(&r, fp, &ro), 0);
	struct phi_result res = {.path = strdup("case/a\tb\nc\r.txt"), .format = "text",
	                         .status = PHI_SKIPPED, .reason = strdup("why\there")};
	struct phi_summary sum = {0};
	cr_assert_eq(phi_reporter_file(r, &res), 0);
	cr_assert_eq(phi_summary_add(&sum, &res), 0);
	cr_assert_eq(phi_reporter_end(r, &sum), 0);
	phi_reporter_free(r);
	phi_summary_clear(&sum);
	phi_result_clear(&res);
	fclose(fp);
	/* an XML parser turns a raw tab or newline in an attribute into a space */
	cr_expect(strstr(buf, "name=\"case/a&#9;b&#10;c&#13;.txt\""), "%s", buf);
	cr_expect(strstr(buf, "message=\"why&#9;here\""), "%s", buf);
	cr_expect_null(strchr(buf, '\t'), "%s", buf);
	free(buf);
}
