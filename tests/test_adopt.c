/* test_adopt.c - what makes phiscan fit a team's habits: .phiscan.yaml, ignores,
 * baselines, JUnit, path lists, --stats/--quiet, explain, help, --version, the man
 * page, make install, bash completion, the pre-commit hook and the CI example.
 *
 * End-to-end tests run the real binary (cli.c) on trees built in the test or made
 * by the corpus generator; the ignore matcher and the baseline fingerprint are
 * also tested through their C API.  The test pack (cli.c) has t-ssn (patient),
 * t-dob (quasi), t-name (patient) and t-email (patient).
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../scanner/baseline.h"
#include "../scanner/config.h"
#include "../scanner/ignore.h"
#include "cli.h"

TestSuite(adopt, .init = cli_setup, .fini = cli_teardown, .timeout = 120);

static const char ssn_line[] = "SSN 482-31-7765\n";
static const char dob_line[] = "DOB: 03/14/1961\n";

/* The JSON report's finding paths, one per line, for has() checks. */
static struct cbuf json_scan(int *rc, const char *a1, const char *a2, const char *a3,
                             const char *a4, const char *a5)
{
	struct cbuf out, err;
	*rc = cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", a1, a2, a3, a4, a5,
	          NULL);
	return out;
}

/* ---- .phiscan.yaml ---- */

Test(adopt, config_in_a_parent_sets_fail_on_and_the_command_line_wins)
{
	struct cbuf out, err;
	cli_mkdirs(cli_fmt("%s/sub", cli_case));
	cli_write_str(cli_fmt("%s/sub/dates.txt", cli_case), dob_line);
	/* the date rule is quasi: fail only on provider and above */
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_case), "version: 1\nfail_on: provider\n");
	char *sub = cli_fmt("%s/sub", cli_case);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", sub, NULL), 0, "%s%s", out.p,
	             err.p);
	cr_assert(has(&out, "quasi date t-dob"), "the finding is still reported: %s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--fail-on", "quasi", sub, NULL),
	             1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--no-config", sub, NULL), 1);
	/* --config names another file, which wins over the nearest one */
	char *other = cli_fmt("%s/other.yaml", cli_root);
	cli_write_str(other, "fail_on: quasi\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--config", other, sub, NULL), 1);
}

Test(adopt, the_nearest_config_wins)
{
	struct cbuf out, err;
	cli_mkdirs(cli_fmt("%s/a/b", cli_case));
	cli_write_str(cli_fmt("%s/a/b/n.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_case), "min_confidence: 0.1\n");
	/* nearer: the SSN rule (0.9) falls under the threshold */
	cli_write_str(cli_fmt("%s/a/.phiscan.yaml", cli_case), "min_confidence: 0.95\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", cli_fmt("%s/a/b", cli_case),
	                 NULL), 0, "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--min-confidence", "0.5",
	                 cli_fmt("%s/a/b", cli_case), NULL), 1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", cli_case, NULL), 1,
	             "from the case root the outer file applies: %s", out.p);
}

Test(adopt, config_allow_packs_skip_formats_exclude_and_max_size_apply)
{
	int rc;
	cli_write_str(cli_fmt("%s/known.txt", cli_case), "SSN 482-31-7765\nSSN 371-28-4410\n");
	cli_write_str(cli_fmt("%s/old.bak", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/mail.txt", cli_case), "write to ACME-7731 please\n");
	cli_write_str(cli_fmt("%s/big.txt", cli_case),
	              "SSN 482-31-7765 and some more text, more than forty bytes\n");
	cli_mkdirs(cli_fmt("%s/packs", cli_root));
	cli_write_str(cli_fmt("%s/packs/team.yaml", cli_root),
	              "rules:\n"
	              "  - id: team-case\n"
	              "    class: id\n"
	              "    severity: patient\n"
	              "    confidence: 0.9\n"
	              "    pattern: '\\b(?<v>ACME-\\d{4})\\b'\n"
	              "    examples:\n"
	              "      match: ['ACME-7731']\n");
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_root),
	              "version: 1\n"
	              "packs: [packs/team.yaml]\n"
	              "allow:\n"
	              "  - id: test-ssn\n"
	              "    values: ['482-31-7765']\n"
	              "exclude: ['*.bak']\n"
	              "limits:\n"
	              "  max_file_size: 40\n");
	struct cbuf out = json_scan(&rc, cli_case, NULL, NULL, NULL, NULL);
	cr_assert_eq(rc, 2, "big.txt is over the file-size limit: %s", out.p);
	cr_assert(has(&out, "big.txt\",\"format\":\"unknown\",\"reason\":\"larger than the 40-byte"),
	          "%s", out.p);
	cr_assert(!has(&out, "old.bak"), "excluded by the config: %s", out.p);
	cr_assert(has(&out, "\"rule\":\"team-case\""), "the config's pack ran: %s", out.p);
	/* the allowed SSN is gone, the other one stays */
	cr_assert_eq(count_type(&out, "finding"), 2, "%s", out.p);
	cr_assert(has(&out, "\"line\":2,\"column\":5"), "%s", out.p);

	/* skip_formats: text files are detected, listed as skipped, never read */
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_root), "skip_formats: [text]\n");
	out = json_scan(&rc, cli_case, NULL, NULL, NULL, NULL);
	cr_assert_eq(rc, 0, "%s", out.p);
	cr_assert_eq(count_type(&out, "finding"), 0, "%s", out.p);
	cr_assert(has(&out, "text files are skipped by the configuration (skip_formats)"), "%s",
	          out.p);
}

Test(adopt, config_operators_apply_to_filter_and_the_command_line_op_wins)
{
	struct cbuf out, err;
	struct cbuf in = {"SSN 482-31-7765\n", 16};
	char *conf = cli_fmt("%s/ops.yaml", cli_root);
	cli_write_str(conf, "operators:\n  default: remove\n  ssn: mask\n");
	cr_assert_eq(cli(&out, &err, &in, "filter", "--config", conf, NULL), 1);
	cr_assert_str_eq(out.p, "SSN ***-**-****\n");
	cr_assert_eq(cli(&out, &err, &in, "filter", "--config", conf, "--op", "ssn=tag", NULL), 1);
	cr_assert_str_eq(out.p, "SSN [SSN]\n");
	/* scan ignores operators: a pseudonym without a key is no error there */
	cli_write_str(conf, "operators:\n  name: pseudonym\n");
	cli_write_str(cli_fmt("%s/a.txt", cli_case), ssn_line);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--config", conf, cli_case, NULL),
	             1, "%s", err.p);
}

Test(adopt, config_check_names_file_line_and_key)
{
	struct cbuf out, err;
	static const struct {
		const char *yaml, *want;
	} bad[] = {
		{"version: 1\nfail_onn: patient\n", ":2: key 'fail_onn': unknown key"},
		{"fail_on: everybody\n", ":1: key 'fail_on': must be quasi, provider or patient"},
		{"min_confidence: 2\n", ":1: key 'min_confidence': must be a number from 0 to 1"},
		{"operators:\n  name: shred\n", ":2: key 'operators.name': unknown operator 'shred'"},
		{"operators:\n  nam: tag\n", ":2: key 'operators.nam': unknown class 'nam'"},
		{"limits:\n  max_file_size: lots\n", ":2: key 'limits.max_file_size': must be a byte"},
		{"limits:\n  max_depth: 3\n", ":2: key 'limits.max_depth': unknown limit"},
		{"skip_formats: [zipp]\n", ":1: key 'skip_formats': unknown format 'zipp'"},
		{"allow:\n  - id: x\n    valuez: [a]\n", ":3: unknown allow key 'valuez'"},
		{"exclude: '*.bak'\nexclude: '*.tmp'\n", ":2: key 'exclude': given twice"},
		{"packs: [missing.yaml]\n", "missing.yaml: cannot open rule pack"},
		{"version: 1\n  bad: [\n", "YAML error"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *f = cli_fmt("%s/bad%zu.yaml", cli_root, i);
		cli_write_str(f, bad[i].yaml);
		cr_assert_eq(cli(&out, &err, NULL, "config", "check", f, NULL), 2, "%s", bad[i].yaml);
		cr_assert(has(&err, bad[i].want), "%s: want '%s' in: %s", bad[i].yaml, bad[i].want,
		          err.p);
		cr_assert(has(&err, f) || i == 10, "the message names the file: %s", err.p);
		/* a scan with that file refuses to run rather than ignore it */
		cr_assert_eq(cli(&out, &err, NULL, "scan", "--config", f, cli_case, NULL), 2);
	}
	char *good = cli_fmt("%s/good.yaml", cli_root);
	cli_write_str(good, "version: 1\nfail_on: provider\nallow:\n  - id: a\n    values: [x]\n"
	                    "operators: {default: mask, date: remove}\nexclude: ['*.bak', tmp]\n");
	cr_assert_eq(cli(&out, &err, NULL, "config", "check", good, NULL), 0, "%s", err.p);
	cr_assert(has(&out, "ok (0 packs, 0 rules from them, 1 allow entries, 2 operators, "
	                    "0 skipped formats, 2 excludes)"),
	          "%s", out.p);
}

/* ---- .phiscanignore and the inline marker ---- */

Test(adopt, ignore_glob_follows_gitignore_wildcards)
{
	cr_assert(phi_ignore_glob("*.log", "a.log"));
	cr_assert(!phi_ignore_glob("*.log", "d/a.log"), "'*' does not cross '/'");
	cr_assert(phi_ignore_glob("**/a.log", "a.log"));
	cr_assert(phi_ignore_glob("**/a.log", "x/y/a.log"));
	cr_assert(phi_ignore_glob("x/**", "x/y/z"));
	cr_assert(!phi_ignore_glob("x/**", "x"));
	cr_assert(phi_ignore_glob("a/**/b", "a/b"));
	cr_assert(phi_ignore_glob("a/**/b", "a/x/y/b"));
	cr_assert(!phi_ignore_glob("a/**/b", "a/x/y/c"));
	cr_assert(phi_ignore_glob("scan-?.stl", "scan-1.stl"));
	cr_assert(!phi_ignore_glob("scan-?.stl", "scan-12.stl"));
	cr_assert(phi_ignore_glob("[a-c]*.txt", "b1.txt"));
	cr_assert(!phi_ignore_glob("[!a-c]*.txt", "b1.txt"));
	cr_assert(phi_ignore_glob("\\*.txt", "*.txt"));
	cr_assert(!phi_ignore_glob("\\*.txt", "a.txt"));
	cr_assert(phi_ignore_glob("[x", "[x"), "an unclosed class is literal");
}

static bool ignored(struct phi_ignore *ig, const char *rel, bool dir)
{
	struct phi_error err = {0};
	bool v = false;
	cr_assert_eq(phi_ignore_check_path(ig, rel, dir, &v, &err), 0, "%s", err.msg);
	return v;
}

Test(adopt, ignore_rules_negate_anchor_match_directories_and_nest)
{
	struct phi_ignore *ig;
	struct phi_error err = {0};
	static const char top[] = "# comment\n"
	                          "*.log\n"
	                          "!keep.log\n"
	                          "build/\n"
	                          "/root-only.txt\n"
	                          "docs/*.md\n"
	                          "\\#hash.txt\n"
	                          "trailing.txt   \n";
	static const char nested[] = "!*.log\nlocal.txt\n";
	/* a missing base directory holds no ignore file: only what is added counts */
	cr_assert_eq(phi_ignore_new(&ig, cli_fmt("%s/none", cli_root), &err), 0);
	cr_assert_eq(phi_ignore_add(ig, "", top, sizeof top - 1, "top", &err), 0, "%s", err.msg);
	cr_assert_eq(phi_ignore_add(ig, "sub", nested, sizeof nested - 1, "nested", &err), 0);
	cr_assert(ignored(ig, "a.log", false));
	cr_assert(ignored(ig, "deep/er/a.log", false), "unanchored: any depth");
	cr_assert(!ignored(ig, "keep.log", false), "negation re-includes");
	cr_assert(ignored(ig, "build", true));
	cr_assert(!ignored(ig, "build", false), "dir-only pattern: a file named build stays");
	cr_assert(ignored(ig, "x/build/out.txt", false), "inside an ignored directory");
	cr_assert(ignored(ig, "root-only.txt", false));
	cr_assert(!ignored(ig, "d/root-only.txt", false), "anchored to the file's directory");
	cr_assert(ignored(ig, "docs/a.md", false));
	cr_assert(!ignored(ig, "docs/sub/a.md", false), "a middle slash anchors, '*' stays in one level");
	cr_assert(ignored(ig, "#hash.txt", false));
	cr_assert(ignored(ig, "trailing.txt", false), "trailing spaces are dropped");
	cr_assert(!ignored(ig, "sub/a.log", false), "the deeper file overrides the upper one");
	cr_assert(ignored(ig, "sub/local.txt", false));
	cr_assert(!ignored(ig, "local.txt", false), "a nested file applies below it only");
	cr_assert(ignored(ig, "build/keep.log", false),
	          "a file inside an excluded directory cannot be re-included");
	phi_ignore_free(ig);
}

Test(adopt, phiscanignore_files_in_the_tree_leave_paths_out_of_the_scan)
{
	int rc;
	cli_mkdirs(cli_fmt("%s/build/deep", cli_case));
	cli_mkdirs(cli_fmt("%s/sub", cli_case));
	cli_write_str(cli_fmt("%s/.phiscanignore", cli_case), "build/\n*.log\n!keep.log\n");
	cli_write_str(cli_fmt("%s/sub/.phiscanignore", cli_case), "nested.txt\n");
	cli_write_str(cli_fmt("%s/build/deep/x.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/a.log", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/keep.log", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/sub/nested.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/sub/other.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/nested.txt", cli_case), ssn_line);
	struct cbuf out = json_scan(&rc, cli_case, NULL, NULL, NULL, NULL);
	cr_assert_eq(rc, 1);
	cr_assert(!has(&out, "build/deep/x.txt"), "%s", out.p);
	cr_assert(!has(&out, "/a.log"), "%s", out.p);
	cr_assert(!has(&out, "sub/nested.txt"), "%s", out.p);
	cr_assert(has(&out, "/keep.log\""), "%s", out.p);
	cr_assert(has(&out, "/sub/other.txt\""), "%s", out.p);
	cr_assert(has(&out, "case/nested.txt\""), "the nested file applies below it only: %s", out.p);
	cr_assert_eq(count_type(&out, "finding"), 3, "%s", out.p);
	/* strip leaves ignored paths out of the copy */
	struct cbuf so, se;
	char *od = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&so, &se, NULL, "strip", "--no-progress", "-q", "-o", od, cli_case, NULL), 1,
	             "%s", se.p);
	cr_assert_eq(access(cli_fmt("%s/keep.log", od), F_OK), 0);
	cr_assert_eq(access(cli_fmt("%s/a.log", od), F_OK), -1);
	cr_assert_eq(access(cli_fmt("%s/build", od), F_OK), -1);
	cr_assert_eq(access(cli_fmt("%s/sub/nested.txt", od), F_OK), -1);
	/* an unreadable ignore file fails closed: the entry is an error, exit 2 */
	if (geteuid() != 0) {
		chmod(cli_fmt("%s/sub/.phiscanignore", cli_case), 0);
		out = json_scan(&rc, cli_case, NULL, NULL, NULL, NULL);
		cr_assert_eq(rc, 2, "%s", out.p);
	}
}

Test(adopt, named_files_follow_the_phiscanignore_of_the_current_directory)
{
	struct cbuf out, err;
	cli_mkdirs(cli_fmt("%s/vendor", cli_case));
	cli_write_str(cli_fmt("%s/.phiscanignore", cli_case), "vendor/\n");
	cli_write_str(cli_fmt("%s/vendor/v.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/mine.txt", cli_case), ssn_line);
	cli_mkdirs(cli_fmt("%s/lib", cli_case));
	cli_write_str(cli_fmt("%s/lib/.phiscanignore", cli_case), "fixture.txt\n");
	cli_write_str(cli_fmt("%s/lib/fixture.txt", cli_case), ssn_line);
	cr_assert_eq(chdir(cli_case), 0);
	/* a nested ignore file on the way down applies too */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "./lib/fixture.txt", NULL), 0,
	             "%s", out.p);
	/* as pre-commit passes staged files: relative paths from the repository root */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "vendor/v.txt", NULL), 0, "%s",
	             out.p);
	cr_assert(has(&out, "0 files"), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "vendor/v.txt", "mine.txt", NULL),
	             1);
	cr_assert(has(&out, "mine.txt:1:5: patient ssn t-ssn"), "%s", out.p);
	cr_assert(!has(&out, "vendor"), "%s", out.p);
}

Test(adopt, inline_allow_marker_suppresses_its_line_in_scan_and_strip)
{
	int rc;
	struct cbuf o, err;
	static const char text[] = "SSN 482-31-7765 # test fixture, phiscan:allow\n"
	                           "SSN 371-28-4410\n"
	                           "DOB: 03/14/1961 <!-- phiscan:allow -->\n";
	cli_write_str(cli_fmt("%s/n.txt", cli_case), text);
	struct cbuf out = json_scan(&rc, cli_case, NULL, NULL, NULL, NULL);
	cr_assert_eq(rc, 1);
	cr_assert_eq(count_type(&out, "finding"), 1, "%s", out.p);
	cr_assert(has(&out, "\"line\":2"), "%s", out.p);
	char *od = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&o, &err, NULL, "strip", "--no-progress", "-q", "-o", od, cli_case, NULL), 1,
	             "%s", err.p);
	char *copy = cli_read(cli_fmt("%s/n.txt", od), NULL);
	cr_assert_not_null(copy);
	cr_assert_str_eq(copy, "SSN 482-31-7765 # test fixture, phiscan:allow\n"
	                       "SSN [SSN]\n"
	                       "DOB: 03/14/1961 <!-- phiscan:allow -->\n");
}

/* ---- baselines ---- */

Test(adopt, fingerprints_depend_on_key_path_rule_and_value_only)
{
	unsigned char k1[32] = {1}, k2[32] = {2};
	unsigned char a[PHI_FP_BYTES], b[PHI_FP_BYTES];
	struct phi_baseline *b1, *b2;
	struct phi_error err = {0};
	cr_assert_eq(phi_baseline_new(&b1, k1, &err), 0);
	cr_assert_eq(phi_baseline_new(&b2, k2, &err), 0);
	phi_baseline_fingerprint(b1, "case/a.txt", "ssn", "482-31-7765", 11, a);
	phi_baseline_fingerprint(b1, "./case/a.txt", "ssn", "482-31-7765", 11, b);
	cr_assert(!memcmp(a, b, sizeof a), "a leading ./ does not change it");
	phi_baseline_fingerprint(b2, "case/a.txt", "ssn", "482-31-7765", 11, b);
	cr_assert(memcmp(a, b, sizeof a), "another key, another fingerprint");
	phi_baseline_fingerprint(b1, "case/b.txt", "ssn", "482-31-7765", 11, b);
	cr_assert(memcmp(a, b, sizeof a));
	phi_baseline_fingerprint(b1, "case/a.txt", "ssn2", "482-31-7765", 11, b);
	cr_assert(memcmp(a, b, sizeof a));
	phi_baseline_fingerprint(b1, "case/a.txt", "ssn", "482-31-7766", 11, b);
	cr_assert(memcmp(a, b, sizeof a));
	/* the separator keeps path and rule apart: "a" + "bc" is not "ab" + "c" */
	phi_baseline_fingerprint(b1, "a", "bc", "v", 1, a);
	phi_baseline_fingerprint(b1, "ab", "c", "v", 1, b);
	cr_assert(memcmp(a, b, sizeof a));
	phi_baseline_free(b1);
	phi_baseline_free(b2);
}

Test(adopt, baseline_out_holds_no_identifier_and_baseline_reports_only_new_findings)
{
	struct cbuf out, err;
	char *base = cli_fmt("%s/known.baseline", cli_root);
	cli_write_str(cli_fmt("%s/a.txt", cli_case),
	              "Patient: Maria Gonzalez\nSSN 482-31-7765\nmail maria.gonzalez@mailhost.net\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "-q", "--baseline-out", base,
	                 cli_case, NULL), 1, "%s", err.p);
	size_t n;
	char *text = cli_read(base, &n);
	cr_assert_not_null(text);
	cr_assert(!mem_has(text, n, "Maria") && !mem_has(text, n, "Gonzalez") &&
	          !mem_has(text, n, "482-31-7765") && !mem_has(text, n, "7765") &&
	          !mem_has(text, n, "mailhost"), "%s", text);
	cr_assert(!mem_has(text, n, "a.txt"), "no path either (a file name can be PHI): %s", text);
	/* three fingerprint lines after the key-id */
	struct cbuf tb = {text, n};
	size_t nl;
	char **l = lines_of(&tb, &nl);
	size_t entries = 0;
	for (size_t i = 0; i < nl; i++)
		entries += strlen(l[i]) > 33 && l[i][32] == ' ';
	cr_assert_eq(entries, 3, "%s", text);
	struct stat st;
	cr_assert_eq(stat(cli_fmt("%s.key", base), &st), 0, "the key file is created");
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 32);

	/* the same findings, moved to other lines: all known */
	cli_write_str(cli_fmt("%s/a.txt", cli_case),
	              "notes\nSSN 482-31-7765\nmail maria.gonzalez@mailhost.net\n\n"
	              "Patient: Maria Gonzalez\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", "--baseline",
	                 base, cli_case, NULL), 0, "%s", out.p);
	cr_assert_eq(count_type(&out, "finding"), 0);
	/* a new one: reported alone, and the exit code follows it */
	cli_write_str(cli_fmt("%s/b.txt", cli_case), "DOB: 03/14/1961\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", "--baseline",
	                 base, cli_case, NULL), 1);
	cr_assert_eq(count_type(&out, "finding"), 1, "%s", out.p);
	cr_assert(has(&out, "\"rule\":\"t-dob\""), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--fail-on", "provider",
	                 "--baseline", base, cli_case, NULL), 0, "only a quasi finding is new");
	/* --stats says how many were left out */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "-q", "--stats", "--baseline",
	                 base, cli_case, NULL), 1);
	cr_assert(has(&err, "baseline    3 known findings not reported"), "%s", err.p);
}

Test(adopt, a_baseline_read_with_another_key_is_an_error)
{
	struct cbuf out, err;
	char *base = cli_fmt("%s/b.baseline", cli_root);
	char *key = cli_fmt("%s/other.key", cli_root);
	cli_write_str(cli_fmt("%s/a.txt", cli_case), ssn_line);
	cli_write_str(key, "another secret key of enough length\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-q", "--baseline-out", base, cli_case, NULL), 1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-q", "--baseline", base, "--key", key, cli_case,
	                 NULL), 2);
	cr_assert(has(&err, "the baseline was written with another key"), "%s", err.p);
	/* with --key on both sides it works, and no key file is made */
	char *b2 = cli_fmt("%s/k.baseline", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-q", "--baseline-out", b2, "--key", key,
	                 cli_case, NULL), 1);
	cr_assert_eq(access(cli_fmt("%s.key", b2), F_OK), -1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-q", "--baseline", b2, "--key", key, cli_case,
	                 NULL), 0, "%s", err.p);
	/* written with --key, read without: the missing key file is named */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-q", "--baseline", b2, cli_case, NULL), 2);
	cr_assert(has(&err, "k.baseline.key: no baseline key"), "%s", err.p);
	/* not a baseline at all */
	cli_write_str(cli_fmt("%s/junk", cli_root), "hello\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-q", "--baseline", cli_fmt("%s/junk", cli_root),
	                 "--key", key, cli_case, NULL), 2);
	cr_assert(has(&err, "junk:1: entry before the key-id line"), "%s", err.p);
}

/* ---- JUnit ---- */

static void check_junit(const char *report, const char *tests, const char *failures,
                        const char *skipped, struct cbuf *out)
{
	struct cbuf err;
	char *argv[] = {"python3", "tests/check_junit.py", (char *)report, (char *)tests,
	                (char *)failures, (char *)skipped, NULL};
	int rc = run(argv, NULL, out, &err);
	cr_assert_eq(rc, 0, "%s%s", out->p, err.p);
	cr_assert(has(out, "junit ok"), "%s", out->p);
}

Test(adopt, junit_report_has_one_testcase_per_file_and_parses)
{
	struct cbuf out, err, chk;
	cli_write_str(cli_fmt("%s/a.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/clean.txt", cli_case), "crown prep\n");
	cli_write_str(cli_fmt("%s/dates.txt", cli_case), dob_line);
	cli_write(cli_fmt("%s/blob.bin", cli_case), "\x00\x01\x02\xff", 4);
	cli_write_str(cli_fmt("%s/big & <odd> \"name\".txt", cli_case),
	              "a file larger than the limit given below\n");
	char *rep = cli_fmt("%s/junit.xml", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--format", "junit", "--output",
	                 rep, "--max-size", "30", cli_case, NULL), 2, "%s", err.p);
	/* 5 files: 3 failures (2 with findings, 1 unscanned), 1 skipped */
	check_junit(rep, "5", "3", "1", &chk);
	cr_assert(has(&chk, "big & <odd> \"name\".txt"), "names survive escaping: %s", chk.p);
	size_t n;
	char *x = cli_read(rep, &n);
	cr_assert(!mem_has(x, n, "482-31-7765") && mem_has(x, n, "SSN ***-**-****"), "%s", x);
	cr_assert(mem_has(x, n, "type=\"unscanned\""), "%s", x);
	/* --fail-on provider: the quasi date no longer fails its testcase */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--format", "junit", "--output",
	                 rep, "--fail-on", "provider", "--max-size", "30", cli_case, NULL), 2);
	check_junit(rep, "5", "2", "1", &chk);
	x = cli_read(rep, &n);
	cr_assert(mem_has(x, n, "<system-out type=\"phi\""), "listed without failing: %s", x);
}

/* ---- inputs for scripts ---- */

Test(adopt, files_from_reads_newline_and_nul_separated_lists)
{
	struct cbuf out, err;
	cli_write_str(cli_fmt("%s/a.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/b c.txt", cli_case), dob_line);
	cli_write_str(cli_fmt("%s/line\nbreak.txt", cli_case), ssn_line);
	cli_write_str(cli_fmt("%s/unlisted.txt", cli_case), ssn_line);
	char *nl = cli_fmt("%s/a.txt\n\n%s/b c.txt\n", cli_case, cli_case);
	struct cbuf in = {nl, strlen(nl)};
	cr_assert_eq(cli(&out, &err, &in, "scan", "--no-progress", "--format", "json", "--files-from",
	                 "-", NULL), 1, "%s", err.p);
	cr_assert(has(&out, "\"files\":2,"), "%s", out.p);
	cr_assert(has(&out, "b c.txt"), "%s", out.p);
	cr_assert(!has(&out, "unlisted"), "%s", out.p);
	/* find -print0 style: a name holding a newline survives */
	char z[4096];
	int k = snprintf(z, sizeof z, "%s/line\nbreak.txt", cli_case);
	z[k++] = 0;
	k += snprintf(z + k, sizeof z - (size_t)k, "%s/a.txt", cli_case);
	z[k++] = 0;
	struct cbuf zin = {z, (size_t)k};
	cr_assert_eq(cli(&out, &err, &zin, "scan", "--no-progress", "--format", "json",
	                 "--files-from", "-", "-0", NULL), 1, "%s", err.p);
	cr_assert(has(&out, "\"files\":2,"), "%s", out.p);
	cr_assert(has(&out, "line\\nbreak.txt"), "%s", out.p);
	/* from a file, with a PATH too; a listed path that does not exist fails closed */
	char *list = cli_fmt("%s/list.txt", cli_root);
	cli_write_str(list, cli_fmt("%s/b c.txt\n%s/gone.txt\n", cli_case, cli_case));
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json",
	                 "--files-from", list, cli_fmt("%s/a.txt", cli_case), NULL), 2);
	cr_assert(has(&out, "\"files\":3,"), "%s", out.p);
	cr_assert(has(&out, "gone.txt\",\"format\":\"unknown\",\"reason\":\"No such file"), "%s",
	          out.p);
	/* an empty list scans nothing and is clean */
	struct cbuf none = {"", 0};
	cr_assert_eq(cli(&out, &err, &none, "scan", "--no-progress", "--files-from", "-", NULL), 0);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--files-from", cli_fmt("%s/nope", cli_root),
	                 NULL), 2);
	cr_assert(has(&err, "cannot read the path list"), "%s", err.p);
}

Test(adopt, stats_and_quiet_tell_what_a_script_needs)
{
	struct cbuf out, err;
	cli_write_str(cli_fmt("%s/a.txt", cli_case), "SSN 482-31-7765\nDOB: 03/14/1961\n");
	cli_write(cli_fmt("%s/blob.bin", cli_case), "\x00\x01\x02\xff", 4);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", "--stats",
	                 cli_case, NULL), 1);
	cr_assert(has(&err, "files       2 (scanned 1, skipped 1, unreadable 0)"), "%s", err.p);
	cr_assert(has(&err, "bytes       32 scanned"), "%s", err.p);
	cr_assert(has(&err, "findings    2 (patient 1, provider 0, quasi 1)"), "%s", err.p);
	cr_assert(has(&err, "text              1        0          0         2             32"),
	          "%s", err.p);
	cr_assert(has(&err, "date                 1\n"), "%s", err.p);
	cr_assert(has(&err, "ssn                  1\n"), "%s", err.p);
	cr_assert(has(&err, "time        "), "%s", err.p);
	cr_assert_eq(count_type(&out, "summary"), 1, "stdout keeps the report alone");

	/* --quiet: nothing on stdout, the exit code; errors still on stderr */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--quiet", cli_case, NULL), 1);
	cr_assert_eq(out.n, 0, "%s", out.p);
	cr_assert_eq(err.n, 0, "%s", err.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-q", "--max-size", "5", cli_case, NULL), 2);
	cr_assert_eq(out.n, 0, "%s", out.p);
	cr_assert(has(&err, "a.txt: error: larger than the 5-byte limit"), "%s", err.p);
}

/* ---- docs: explain, help, version, man page ---- */

Test(adopt, explain_shows_a_rule_and_masks_its_examples)
{
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "explain", "t-ssn", NULL), 0, "%s", err.p);
	cr_assert(has(&out, "t-ssn\n"), "%s", out.p);
	cr_assert(has(&out, "class        ssn (HIPAA Safe Harbor item G)"), "%s", out.p);
	cr_assert(has(&out, "severity     patient"), "%s", out.p);
	cr_assert(has(&out, "validator    ssn"), "%s", out.p);
	cr_assert(has(&out, "    SSN ***-**-****\n"), "%s", out.p);
	cr_assert(!has(&out, "482-31-7765"), "%s", out.p);
	cr_assert(has(&out, "does not find:\n    SSN 000-12-3456"), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "explain", "t-name", NULL), 0);
	cr_assert(has(&out, "    Patient: ***** ********\n"), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "explain", "t-ssn", "--show-values", NULL), 0);
	cr_assert(has(&out, "    SSN 482-31-7765\n"), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "explain", "no-such-rule", NULL), 2);
	cr_assert(has(&err, "no rule 'no-such-rule'"), "%s", err.p);
	cr_assert_eq(cli(&out, &err, NULL, "explain", NULL), 2);
}

Test(adopt, every_command_has_help)
{
	static const char *const cmds[][3] = {
		{"scan", "--help", "--baseline FILE"},     {"strip", "--help", "--in-place"},
		{"filter", "--help", "--op SPEC"},         {"rules", "--help", "export"},
		{"config", "--help", "config check [FILE]"}, {"explain", "--help", "explain RULE"},
		{"--help", NULL, "config check [FILE]"},
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		struct cbuf out, err;
		int rc = cli(&out, &err, NULL, cmds[i][0], cmds[i][1], NULL);
		cr_assert_eq(rc, 0, "%s %s: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "", err.p);
		cr_assert(has(&out, "usage: phiscan"), "%s: %s", cmds[i][0], out.p);
		cr_assert(has(&out, cmds[i][2]), "%s lacks '%s': %s", cmds[i][0], cmds[i][2], out.p);
	}
}

Test(adopt, version_names_the_libraries_built_with_and_running)
{
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "--version", NULL), 0);
	cr_assert(has(&out, "phiscan 0."), "%s", out.p);
	static const char *const libs[] = {"DCMTK ", "PCRE2 ", "libpng ", "libjpeg-turbo ",
	                                   "Vectorscan ", "libarchive ", "expat ", "libyaml ",
	                                   "zlib "};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
		const char *l = strstr(out.p, libs[i]);
		cr_assert_not_null(l, "%s missing: %s", libs[i], out.p);
		l += strlen(libs[i]);
		while (*l == ' ')
			l++;
		cr_assert(*l >= '0' && *l <= '9', "%s has no version: %s", libs[i], out.p);
	}
	/* a running version is read from the library itself, not the header */
	cr_assert(!has(&out, "DCMTK          3.6.7        -"), "%s", out.p);
}

Test(adopt, man_page_renders_without_warnings)
{
	if (access("/usr/bin/groff", X_OK)) {
		cli_teardown();
		cr_skip_test("groff is not installed (.ci/packages lists groff-base)");
	}
	struct cbuf out, err;
	/* -P-cbou: plain text, no overstriking, so the words can be searched */
	char *argv[] = {"groff", "-man", "-Tutf8", "-ww", "-P-cbou", "man/phiscan.1", NULL};
	cr_assert_eq(run(argv, NULL, &out, &err), 0);
	cr_assert_eq(err.n, 0, "groff warnings: %s", err.p);
	static const char *const sections[] = {"NAME", "SYNOPSIS", "OPTIONS", "CONFIGURATION",
	                                       "EXIT STATUS", "EXAMPLES"};
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		cr_assert(has(&out, sections[i]), "no %s section", sections[i]);
	/* every long option the scan help lists is in the man page */
	struct cbuf help;
	cli(&help, &err, NULL, "scan", "--help", NULL);
	size_t n;
	char *man = cli_read("man/phiscan.1", &n);
	for (char *p = help.p; (p = strstr(p, "--")); p += 2) {
		char opt[64];
		size_t k = 0;
		while (k < sizeof opt - 1 && (p[k] == '-' || (p[k] >= 'a' && p[k] <= 'z')))
			opt[k] = p[k], k++;
		opt[k] = 0;
		/* roff writes '-' as '\-' */
		char esc[160];
		size_t e = 0;
		for (size_t i = 0; i < k; i++) {
			if (opt[i] == '-')
				esc[e++] = '\\';
			esc[e++] = opt[i];
		}
		esc[e] = 0;
		cr_assert(mem_has(man, n, esc), "man page lacks %s", opt);
	}
}

/* ---- install, completion, pre-commit, CI ---- */

static const char *bin_name(void)
{
	const char *s = strrchr(cli_bin, '/');
	return s ? s + 1 : cli_bin;
}

Test(adopt, make_install_runs_from_its_prefix_and_uninstall_leaves_no_file)
{
	struct cbuf out, err;
	char *dest = cli_fmt("%s/dest", cli_root);
	char *destvar = cli_fmt("DESTDIR=%s", dest);
	char *binvar = cli_fmt("BIN=%s", bin_name());
	/* -o: never rebuild the binary under test from here */
	char *inst[] = {"make", "-s", "-o", (char *)bin_name(), "install", destvar, "PREFIX=/opt/ps",
	                binvar, NULL};
	cr_assert_eq(run(inst, NULL, &out, &err), 0, "%s%s", out.p, err.p);
	static const char *const files[] = {"bin/phiscan", "share/man/man1/phiscan.1",
	                                    "share/bash-completion/completions/phiscan",
	                                    "share/phiscan/rules/default.yaml",
	                                    "share/phiscan/rules/zip3-restricted.txt",
	                                    "share/phiscan/rules/names/given.txt",
	                                    "lib/phiscan/phiscan-dcmtk.so",
	                                    "lib/phiscan/phiscan-poppler.so"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		cr_assert_eq(access(cli_fmt("%s/opt/ps/%s", dest, files[i]), R_OK), 0, "%s", files[i]);
	/* the installed binary finds its rules relative to itself: no PHISCAN_DATA */
	cli_write_str(cli_fmt("%s/a.txt", cli_case), "Patient: Maria Gonzalez, SSN 482-31-7765\n");
	char *installed = cli_fmt("%s/opt/ps/bin/phiscan", dest);
	char *scan[] = {"env", "-u", "PHISCAN_DATA", installed, "scan", "--no-progress", "--format",
	                "json", cli_case, NULL};
	cr_assert_eq(run(scan, NULL, &out, &err), 1, "%s", err.p);
	cr_assert(has(&out, "\"rule\":\"ssn\""), "the bundled pack's ssn rule, not the test pack's: %s",
	          out.p);
	/* and its DCMTK and PDF modules in ../lib/phiscan (no override) */
	char *ver[] = {"env", "-u", "PHISCAN_DCMTK_MODULE", "-u", "PHISCAN_POPPLER_MODULE",
	               installed, "--version", NULL};
	cr_assert_eq(run(ver, NULL, &out, &err), 0, "%s", err.p);
	cr_assert(has(&out, "DCMTK ") && has(&out, "Poppler ") && !has(&out, "unavailable"), "%s",
	          out.p);
	char *list[] = {"env", "-u", "PHISCAN_DATA", installed, "rules", "list", NULL};
	cr_assert_eq(run(list, NULL, &out, &err), 0);
	cr_assert(!has(&out, "t-ssn"), "%s", out.p);
	char *uninst[] = {"make", "-s", "uninstall", destvar, "PREFIX=/opt/ps", NULL};
	cr_assert_eq(run(uninst, NULL, &out, &err), 0, "%s", err.p);
	char *find[] = {"find", dest, "-not", "-type", "d", NULL};
	cr_assert_eq(run(find, NULL, &out, &err), 0);
	cr_assert_eq(out.n, 0, "left behind: %s", out.p);
}

Test(adopt, bash_completion_completes_commands_options_and_values)
{
	struct cbuf out, err;
	char *script = "source completion/phiscan.bash\n"
	               "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _phiscan; "
	               "echo \"${COMPREPLY[*]}\"; }\n"
	               "t phiscan ex\n"
	               "t phiscan scan --base\n"
	               "t phiscan scan --format j\n"
	               "t phiscan strip --retain-u\n"
	               "t phiscan config c\n"
	               "complete -p phiscan\n";
	char *argv[] = {"bash", "-c", script, NULL};
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "%s", err.p);
	cr_assert_str_eq(out.p, "explain\n"
	                        "--baseline --baseline-out\n"
	                        "json junit\n"
	                        "--retain-uids\n"
	                        "check\n"
	                        "complete -o filenames -F _phiscan phiscan\n");
}

Test(adopt, pre_commit_hook_and_github_workflow_parse_and_their_commands_run)
{
	const char *gen = getenv("GENCASE");
	if (!gen || !*gen || access(gen, X_OK) != 0) {
		cli_teardown();
		cr_skip_test("GENCASE (build/gencase) not built yet");
	}
	struct cbuf out, err;
	char *work = cli_fmt("%s/work", cli_root);
	char *gargv[] = {(char *)gen, "cases", cli_fmt("%s/exports", work), "--cases", "1", "--seed",
	                 "3", NULL};
	cr_assert_eq(run(gargv, NULL, &out, &err), 0, "%s", err.p);
	/* the binary under test as `phiscan` first on PATH */
	char *bindir = cli_fmt("%s/bin", cli_root);
	cli_mkdirs(bindir);
	cr_assert_eq(symlink(cli_bin, cli_fmt("%s/phiscan", bindir)), 0);
	char repo[PATH_MAX];
	cr_assert_not_null(getcwd(repo, sizeof repo));
	char *path = cli_fmt("%s:%s", bindir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	char *argv[] = {"python3", "tests/check_ci_files.py", repo, work, NULL};
	int rc = run(argv, NULL, &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out.p, err.p);
	cr_assert(!has(&out, "FAIL"), "%s", out.p);
	cr_assert(has(&out, "ok pre-commit phiscan on the generated files exits 1"), "%s", out.p);
	cr_assert(has(&out, "ok pre-commit phiscan-new on recorded findings exits 0"), "%s", out.p);
	cr_assert(has(&out, "ok workflow SARIF is 2.1.0 with results"), "%s", out.p);
}

Test(adopt, config_archive_limits_apply_and_the_command_line_wins)
{
	struct cbuf out, err;
	/* a zip inside a zip, made with python3's zipfile */
	char *script = cli_fmt("import zipfile, os\n"
	                       "os.chdir('%s')\n"
	                       "open('in.txt', 'w').write('SSN 482-31-7765\\n')\n"
	                       "with zipfile.ZipFile('inner.zip', 'w') as z: z.write('in.txt')\n"
	                       "with zipfile.ZipFile('case/outer.zip', 'w') as z: z.write('inner.zip')\n",
	                       cli_root);
	char *argv[] = {"python3", "-c", script, NULL};
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "%s", err.p);
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_case), "limits:\n  archive: {depth: 1}\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", cli_case, NULL), 2, "%s", out.p);
	cr_assert(has(&out, "outer.zip!/inner.zip: error: an archive nested deeper than 1 levels"),
	          "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", "--archive-limit", "depth=3",
	                 cli_case, NULL), 1, "%s", out.p);
	cr_assert(has(&out, "outer.zip!/inner.zip!/in.txt:1:5: patient ssn t-ssn"), "%s", out.p);
	/* skip_formats: an archive kind, and a format inside an archive */
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_case), "skip_formats: [zip]\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", cli_case, NULL), 0, "%s", out.p);
	cr_assert(has(&out, "outer.zip: skipped: zip files are skipped by the configuration"), "%s",
	          out.p);
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_case), "skip_formats: [text]\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--no-progress", cli_case, NULL), 0, "%s", out.p);
	cr_assert(has(&out, "inner.zip!/in.txt: skipped: text files are skipped by the configuration"),
	          "%s", out.p);
	cli_write_str(cli_fmt("%s/.phiscan.yaml", cli_case), "limits:\n  archive: {depth: 99}\n");
	cr_assert_eq(cli(&out, &err, NULL, "config", "check", cli_fmt("%s/.phiscan.yaml", cli_case),
	                 NULL), 2);
	cr_assert(has(&err, ".phiscan.yaml:2: key 'limits.archive.depth': unknown name or value out"),
	          "%s", err.p);
}

/* ---- fuzz regressions (tests/fuzz/fuzz_config.c) ---- */

/* What fuzz_config does with one input: config, ignore file (its own lines as
 * paths), baseline.  Each must finish, whatever the bytes. */
static void config_inputs(const char *data, size_t size, const char *tmpfile)
{
	struct phi_error err = {0};
	struct phi_config c;
	if (phi_config_load_string(&c, data, size, "fuzz.yaml", &err) == 0)
		phi_config_free(&c);
	struct phi_ignore *ig;
	cr_assert_eq(phi_ignore_new(&ig, "/nonexistent-fuzz-base", &err), 0);
	if (phi_ignore_add(ig, "", data, size, "fuzz", &err) == 0) {
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
				path[n++] = data[i];
			}
		}
	}
	phi_ignore_free(ig);
	cli_write(tmpfile, data, size);
	unsigned char key[32] = {7};
	struct phi_baseline *b;
	cr_assert_eq(phi_baseline_new(&b, key, &err), 0);
	(void)phi_baseline_read(b, tmpfile, &err);
	phi_baseline_free(b);
}

Test(adopt, fuzz_config_regressions_finish_quickly)
{
	DIR *d = opendir("tests/fuzz/regress/fuzz_config");
	cr_assert_not_null(d, "tests/fuzz/regress/fuzz_config (run from the repository root)");
	struct dirent *e;
	size_t seen = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t n;
		char *data = cli_read(cli_fmt("tests/fuzz/regress/fuzz_config/%s", e->d_name), &n);
		cr_assert_not_null(data);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		config_inputs(data, n, cli_fmt("%s/input", cli_root));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		/* the timeout input took over 10 s with the recursive matcher; a wide bound,
		 * not a benchmark: it only tells bounded from exponential */
		cr_assert_lt(s, 2.0, "%s took %.2f s", e->d_name, s);
		seen++;
	}
	closedir(d);
	cr_assert_geq(seen, 1);
	/* and the shape of that input, scaled up: many stars that cannot match */
	char pat[600], path[600];
	size_t k = 0;
	for (int i = 0; i < 40; i++)
		pat[k++] = '*', pat[k++] = 'a';
	pat[k++] = 'b';
	pat[k] = 0;
	memset(path, 'a', 500);
	path[500] = 0;
	cr_assert(!phi_ignore_glob(pat, path));
	path[499] = 'b';
	cr_assert(phi_ignore_glob(pat, path));
}
