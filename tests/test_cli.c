/* test_cli.c - end to end through the real binary: scan, strip, filter, rules.
 *
 * The Makefile runs the suite with PHISCAN=/abs/phiscan and GENCASE=/abs/gencase,
 * from the repository root.  Every test gets a temporary root holding a data dir
 * (PHISCAN_DATA: a small known pack as rules/default.yaml, the real rules/names and
 * rules/zip3-restricted.txt) and a case tree.  The binary runs under fork/execvpe
 * with pipes for stdin, stdout and stderr and a 20 s watchdog: a hang or a crash
 * (death by a signal) fails the test.
 *
 * Planted values are compared only here, in the test, to prove a report does not
 * carry them; byte offsets are checked by reading the file at [start, end).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../formats/sha256.h"
#include "../formats/text.h"
#include "cli.h"

#define CLI_SCHEMA "../shared/sarif/sarif-schema-2.1.0.json"

/* The planted identifiers and the file that holds them. */
#define VAL_NAME "Maria Gonzalez"
#define VAL_DOB "03/14/1961"
#define VAL_SSN "482-31-7765"
#define VAL_EMAIL "maria.gonzalez@mailhost.net"

static const char phi_text[] = "Referral note\n"
                               "Patient: " VAL_NAME "\n"
                               "DOB: " VAL_DOB "\n"
                               "SSN " VAL_SSN "\n"
                               "Contact " VAL_EMAIL " for scheduling.\n"
                               "Tooth 14 crown prep, margins ok.\n";
/* phi_text stripped with the default operator (tag) */
static const char phi_tagged[] = "Referral note\n"
                                 "Patient: [NAME]\n"
                                 "DOB: [DATE]\n"
                                 "SSN [SSN]\n"
                                 "Contact [EMAIL] for scheduling.\n"
                                 "Tooth 14 crown prep, margins ok.\n";
static const char clean_text[] = "Tooth 14 crown prep, margins ok.\nShade A2, bite checked.\n";
static const char *const planted[] = {VAL_NAME, VAL_DOB, VAL_SSN, VAL_EMAIL, NULL};



TestSuite(cli, .init = cli_setup, .fini = cli_teardown, .timeout = 120);



/* No planted value anywhere in b. */
static void assert_no_values(const struct cbuf *b, const char *what)
{
	for (int i = 0; planted[i]; i++)
		cr_assert(!mem_has(b->p, b->n, planted[i]), "%s shows a planted value (%s):\n%s", what,
		          planted[i], b->p);
}


static const char *planted_for_rule(const char *rule)
{
	if (!strcmp(rule, "t-name"))
		return VAL_NAME;
	if (!strcmp(rule, "t-dob"))
		return VAL_DOB;
	if (!strcmp(rule, "t-ssn"))
		return VAL_SSN;
	if (!strcmp(rule, "t-email"))
		return VAL_EMAIL;
	return NULL;
}


static char *case_file(const char *rel, const char *content)
{
	char *p = cli_fmt("%s/%s", cli_case, rel);
	cli_write_str(p, content);
	return p;
}


/* ---- scan: exit codes ---- */

Test(cli, a_clean_tree_exits_0)
{
	case_file("notes.txt", clean_text);
	case_file("sub/more.txt", "Crown seated, occlusion adjusted.\n");
	case_file("sub/empty.txt", "");
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 0,
	             "stderr: %s", err.p);
	cr_assert_eq(count_type(&out, "finding"), 0);
	cr_assert_eq(count_type(&out, "summary"), 1);
	cr_assert(has(&out, "\"files\":3,\"scanned\":3,\"skipped\":0,\"unreadable\":0,\"findings\":0"),
	          "%s", out.p);
	cr_assert(has(&out, "\"exit_code\":0"));
	/* human report too */
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 0);
	cr_assert(has(&out, "3 files: 3 scanned"), "%s", out.p);
}

Test(cli, findings_exit_1_and_are_reported_with_line_and_column)
{
	char *a = case_file("a.txt", phi_text);
	case_file("clean.txt", clean_text);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 1, "stderr: %s", err.p);
	cr_assert(has(&out, cli_fmt("%s:2:10: patient name t-name", a)), "%s", out.p);
	cr_assert(has(&out, cli_fmt("%s:3:6: quasi date t-dob", a)), "%s", out.p);
	cr_assert(has(&out, cli_fmt("%s:4:5: patient ssn t-ssn", a)), "%s", out.p);
	cr_assert(has(&out, cli_fmt("%s:5:9: patient email t-email", a)), "%s", out.p);
	cr_assert(has(&out, "4 findings"), "%s", out.p);
	assert_no_values(&out, "human report");
	assert_no_values(&err, "stderr");
}

Test(cli, an_unscanned_file_exits_2_and_the_rest_of_the_batch_is_still_scanned)
{
	char big[4096];
	memset(big, 'a', sizeof big);
	big[sizeof big - 1] = '\n';
	cli_write(cli_fmt("%s/big.txt", cli_case), big, sizeof big);
	case_file("small.txt", "SSN " VAL_SSN "\n");
	case_file("z.txt", "DOB: " VAL_DOB "\n");
	struct cbuf out, err;
	/* root-proof unreadable file: over --max-size */
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--max-size", "100", cli_case, NULL);
	cr_assert_eq(rc, 2, "rc %d\n%s", rc, out.p);
	const char *u = line_for(&out, "unreadable", "/big.txt");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert_not_null(strstr(json_str(u, "reason"), "larger than the 100-byte limit"), "%s", u);
	/* files before and after it in walk order were scanned and reported */
	cr_assert_not_null(line_for(&out, "finding", "/small.txt"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "finding", "/z.txt"), "%s", out.p);
	cr_assert(has(&out, "\"unreadable\":1,\"findings\":2"), "%s", out.p);

	/* human: the error is listed */
	rc = cli(&out, &err, NULL, "scan", "--max-size", "100", cli_case, NULL);
	cr_assert_eq(rc, 2);
	cr_assert(has(&out, "big.txt") || has(&err, "big.txt"), "out: %s\nerr: %s", out.p, err.p);

	/* permissions apply only when not root */
	if (geteuid() != 0) {
		char *locked = case_file("locked.txt", clean_text);
		cr_assert_eq(chmod(locked, 0), 0);
		rc = cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL);
		cr_assert_eq(rc, 2);
		cr_assert_not_null(line_for(&out, "unreadable", "/locked.txt"), "%s", out.p);
		cr_assert_not_null(line_for(&out, "finding", "/small.txt"));
	}
}

Test(cli, fail_on_patient_ignores_quasi_only_findings)
{
	case_file("dob.txt", "DOB: " VAL_DOB "\n");
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--fail-on", "patient", cli_case, NULL), 0,
	             "%s", err.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--fail-on", "provider", cli_case, NULL), 0);
	/* the finding is still reported, only the exit code changes */
	cr_assert(has(&out, "t-dob"), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--fail-on", "quasi", cli_case, NULL), 1);
	case_file("ssn.txt", "SSN " VAL_SSN "\n");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--fail-on", "patient", cli_case, NULL), 1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--fail-on", "nobody", cli_case, NULL), 2);
}

/* ---- reports ---- */

Test(cli, json_findings_have_every_field_and_offsets_point_at_the_value)
{
	char *a = case_file("a.txt", phi_text);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1);
	size_t n, nf = 0;
	char **l = lines_of(&out, &n);
	size_t flen;
	char *bytes = cli_read(a, &flen);
	static const char *const keys[] = {"path", "format", "rule", "class", "severity",
	                                   "confidence", "field", "start", "end", "line",
	                                   "column", NULL};
	bool seen[4] = {0};
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		nf++;
		for (int k = 0; keys[k]; k++)
			cr_assert(strstr(l[i], cli_fmt("\"%s\":", keys[k])), "no %s in %s", keys[k], l[i]);
		cr_assert_str_eq(json_str(l[i], "path"), a);
		cr_assert_str_eq(json_str(l[i], "format"), "text");
		cr_assert(strstr(l[i], "\"field\":null"), "%s", l[i]);
		const char *rule = json_str(l[i], "rule");
		const char *want = planted_for_rule(rule);
		cr_assert_not_null(want, "unexpected rule %s", rule);
		seen[rule[2] == 'n' ? 0 : rule[2] == 'd' ? 1 : rule[2] == 's' ? 2 : 3] = true;
		unsigned long long s, e, line, col;
		cr_assert(json_num(l[i], "start", &s) && json_num(l[i], "end", &e));
		cr_assert(json_num(l[i], "line", &line) && json_num(l[i], "column", &col));
		cr_assert(s < e && e <= flen, "%s", l[i]);
		cr_assert(e - s == strlen(want) && !memcmp(bytes + s, want, e - s),
		          "rule %s: bytes [%llu,%llu) are '%.*s'", rule, s, e, (int)(e - s), bytes + s);
		/* line and column (1-based) agree with the offset */
		unsigned long long ln = 1, c = 1;
		for (unsigned long long k = 0; k < s; k++) {
			if (bytes[k] == '\n')
				ln++, c = 1;
			else
				c++;
		}
		cr_assert_eq(line, ln, "%s", l[i]);
		cr_assert_eq(col, c, "%s", l[i]);
		const char *sev = json_str(l[i], "severity");
		cr_assert_str_eq(sev, !strcmp(rule, "t-dob") ? "quasi" : "patient");
		cr_assert_null(strstr(l[i], "\"value\":"));
	}
	cr_assert_eq(nf, 4);
	cr_assert(seen[0] && seen[1] && seen[2] && seen[3]);
}

Test(cli, values_appear_only_with_show_values)
{
	case_file("a.txt", phi_text);
	static const char *const formats[] = {"human", "json", "sarif"};
	struct cbuf out, err;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", formats[i], cli_case, NULL), 1);
		assert_no_values(&out, formats[i]);
		assert_no_values(&err, formats[i]);
		cr_assert_eq(cli(&out, &err, NULL, "scan", "--show-values", "--format", formats[i],
		                 cli_case, NULL), 1);
		for (int k = 0; planted[k]; k++)
			cr_assert(has(&out, planted[k]), "%s --show-values lacks %s:\n%s", formats[i],
			          planted[k], out.p);
	}
	/* filter: stdout is de-identified, the stderr report masked */
	struct cbuf in = {(char *)phi_text, sizeof phi_text - 1};
	cr_assert_eq(cli(&out, &err, &in, "filter", NULL), 1);
	assert_no_values(&out, "filter stdout");
	assert_no_values(&err, "filter stderr");
	cr_assert_eq(cli(&out, &err, &in, "filter", "--format", "json", NULL), 1);
	assert_no_values(&err, "filter json");
}

static bool can_check_sarif(void)
{
	if (access(CLI_SCHEMA, R_OK) || access("tests/check_sarif.py", R_OK))
		return false;
	char *argv[] = {"python3", "-c", "import jsonschema", NULL};
	return run(argv, NULL, NULL, NULL) == 0;
}

Test(cli, sarif_output_validates_against_the_schema)
{
	if (!can_check_sarif()) {
		cli_teardown(); /* a skipped test does not run the suite's fini */
		cr_skip_test("needs python3 with jsonschema and " CLI_SCHEMA " (run from the repo root)");
	}
	case_file("a.txt", phi_text);
	case_file("b/clean.txt", clean_text);
	static const unsigned char junk[] = {0x7f, 'E', 'L', 'F', 0, 0, 1, 2, 0xff, 0, 3};
	cli_write(cli_fmt("%s/b/junk.txt", cli_case), junk, sizeof junk);
	char big[300];
	memset(big, 'x', sizeof big);
	cli_write(cli_fmt("%s/b/big.txt", cli_case), big, sizeof big);
	struct cbuf out, err;
	char *log = cli_fmt("%s/report.sarif", cli_root);
	for (int show = 0; show < 2; show++) {
		int rc = show ? cli(&out, &err, NULL, "scan", "--format", "sarif", "--show-values",
		                    "--max-size", "200", cli_case, NULL)
		              : cli(&out, &err, NULL, "scan", "--format", "sarif", "--max-size", "200",
		                    cli_case, NULL);
		cr_assert_eq(rc, 2, "%s", err.p);
		cli_write(log, out.p, out.n);
		char *argv[] = {"python3", "tests/check_sarif.py", CLI_SCHEMA, log, NULL};
		struct cbuf po, pe;
		cr_assert_eq(run(argv, NULL, &po, &pe), 0, "SARIF does not validate:\n%s\n%s", pe.p,
		             out.p);
	}
}

Test(cli, the_json_report_is_the_same_for_1_2_and_8_threads)
{
	/* ~300 files: findings, clean text, empty and binary files, nested dirs */
	for (int d = 0; d < 10; d++) {
		for (int f = 0; f < 30; f++) {
			char *p = cli_fmt("%s/d%02d/%s%02d.txt", cli_case, d, f % 3 ? "n" : "x", f);
			switch ((d * 30 + f) % 5) {
			case 0: cli_write_str(p, phi_text); break;
			case 1: cli_write_str(p, clean_text); break;
			case 2: {
				/* a larger file: findings far from the start */
				size_t n = 20000 + (size_t)(d * 997 + f * 131);
				char *b = cli_own(malloc(n + 64));
				for (size_t i = 0; i < n; i++)
					b[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
				n += (size_t)sprintf(b + n, "\nSSN %03d-45-67%02d\n", 100 + d, f);
				cli_write(p, b, n);
				break;
			}
			case 3: cli_write_str(p, ""); break;
			default: {
				unsigned char b[64];
				for (int i = 0; i < 64; i++)
					b[i] = (unsigned char)(i * 37 + d + f);
				b[5] = 0;
				cli_write(p, b, sizeof b);
			}
			}
		}
	}
	struct cbuf o1, o2, o8, err;
	cr_assert_eq(cli(&o1, &err, NULL, "scan", "-j", "1", "--format", "json", cli_case, NULL), 1);
	cr_assert_eq(cli(&o2, &err, NULL, "scan", "-j", "2", "--format", "json", cli_case, NULL), 1);
	cr_assert_eq(cli(&o8, &err, NULL, "scan", "-j", "8", "--format", "json", cli_case, NULL), 1);
	cr_assert(has(&o1, "\"files\":300,"), "%s", o1.p + (o1.n > 400 ? o1.n - 400 : 0));
	char *s1 = without_seconds(&o1), *s2 = without_seconds(&o2), *s8 = without_seconds(&o8);
	cr_assert(!strcmp(s1, s2), "-j 1 and -j 2 reports differ");
	cr_assert(!strcmp(s1, s8), "-j 1 and -j 8 reports differ");
	/* 60 phi files x 4 + 60 large files x 1 */
	cr_assert_eq(count_type(&o1, "finding"), 300);
	cr_assert_eq(count_type(&o1, "skipped"), 60);
	/* and the human report too */
	cr_assert_eq(cli(&o1, &err, NULL, "scan", "-j", "1", "-q", cli_case, NULL), 1);
	cr_assert_eq(cli(&o8, &err, NULL, "scan", "-j", "8", "-q", cli_case, NULL), 1);
}

/* ---- filter ---- */

Test(cli, filter_writes_replacements_to_stdout_and_findings_to_stderr)
{
	struct cbuf in = {(char *)phi_text, sizeof phi_text - 1}, out, err;
	cr_assert_eq(cli(&out, &err, &in, "filter", NULL), 1, "%s", err.p);
	cr_assert_str_eq(out.p, phi_tagged);
	cr_assert(has(&err, "<stdin>:4:5: patient ssn t-ssn"), "%s", err.p);
	cr_assert(has(&err, "4 findings"), "%s", err.p);
	/* clean text passes through unchanged, exit 0 */
	struct cbuf cin = {(char *)clean_text, sizeof clean_text - 1};
	cr_assert_eq(cli(&out, &err, &cin, "filter", NULL), 0, "%s", err.p);
	cr_assert_str_eq(out.p, clean_text);
	/* filter takes no path */
	cr_assert_eq(cli(&out, &err, &cin, "filter", cli_case, NULL), 2);
	cr_assert_eq(out.n, 0);
}

Test(cli, filter_of_binary_junk_exits_2_and_writes_nothing)
{
	unsigned char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 7919 >> 3);
	memcpy(junk + 100, "SSN " VAL_SSN, 15);
	struct cbuf in = {(char *)junk, sizeof junk}, out, err;
	cr_assert_eq(cli(&out, &err, &in, "filter", NULL), 2, "%s", err.p);
	cr_assert_eq(out.n, 0, "filter wrote %zu bytes for junk", out.n);
	cr_assert_gt(err.n, 0);
	assert_no_values(&err, "filter stderr");
}

Test(cli, filter_of_empty_input_is_clean)
{
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "filter", NULL), 0, "%s", err.p);
	cr_assert_eq(out.n, 0);
}

/* ---- strip ---- */

/* The manifest record (one line) of input path, or NULL. */
static char *manifest_record(const char *man, const char *input)
{
	char *key = cli_fmt("{\"input\": \"%s\"", input);
	const char *p = strstr(man, key);
	if (!p)
		return NULL;
	const char *e = strstr(p, "\n");
	size_t n = e ? (size_t)(e - p) : strlen(p);
	char *r = cli_own(malloc(n + 1));
	memcpy(r, p, n);
	r[n] = 0;
	return r;
}

static char *record_field(const char *rec, const char *key)
{
	char *pat = cli_fmt("\"%s\": \"", key);
	const char *p = strstr(rec, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	const char *e = strchr(p, '"');
	cr_assert_not_null(e);
	return cli_own(strndup(p, (size_t)(e - p)));
}

/* phiscan digest: the input digests a keyed strip records, recomputed from the
 * originals by whoever holds the key, their paths masked like a scan's. */
Test(cli, digest_recomputes_the_manifests_input_digests_with_masked_paths)
{
	char *a = case_file("Gonzalez_Maria/note.txt", phi_text);
	char *c = case_file("clean.txt", clean_text);
	/* the order names the patient: the case's own identifiers mask the folder */
	char *j = case_file("order.json", "{\"PatientName\": \"" VAL_NAME "\"}\n");
	char *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "an example key of more than sixteen bytes");
	char *out_dir = cli_fmt("%s/out", cli_root);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "-q", "--key", key, "-o", out_dir, cli_case, NULL);
	cr_assert_eq(rc, 1, "rc %d\n%s\n%s", rc, out.p, err.p);
	char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", out_dir), NULL);
	cr_assert_not_null(man);
	const char *ins[] = {a, c, j};
	char *want[3];
	for (int i = 0; i < 3; i++) {
		size_t n;
		char *b = cli_read(ins[i], &n);
		want[i] = input_hmac_sha256(key, b, n);
		cr_assert(strstr(man, cli_fmt("\"input_digest\": \"sha256\", \"input_hmac_sha256\": "
		                              "\"%s\"", want[i])),
		          "%s: %s", ins[i], man);
	}

	rc = cli(&out, &err, NULL, "digest", "--key", key, cli_case, NULL);
	cr_assert_eq(rc, 0, "rc %d\n%s\n%s", rc, out.p, err.p);
	/* walk order, the case folder's name masked */
	cr_assert_str_eq(out.p, cli_fmt("%s  sha256  %s/********_*****/note.txt\n"
	                                "%s  sha256  %s/clean.txt\n"
	                                "%s  sha256  %s/order.json\n",
	                                want[0], cli_case, want[1], cli_case, want[2], cli_case));
	assert_no_values(&out, "digest output");
	rc = cli(&out, &err, NULL, "digest", "--key", key, "--show-values", "-j", "1", cli_case, NULL);
	cr_assert_eq(rc, 0);
	cr_assert(has(&out, cli_fmt("%s  sha256  %s\n", want[0], a)), "%s", out.p);

	/* without the key there is nothing to compute; strip options do not apply */
	rc = cli(&out, &err, NULL, "digest", cli_case, NULL);
	cr_assert_eq(rc, 2);
	cr_assert(has(&err, "digest needs --key FILE"), "%s", err.p);
	cr_assert_eq(out.n, 0);
	rc = cli(&out, &err, NULL, "digest", "--key", key, "-o", out_dir, cli_case, NULL);
	cr_assert_eq(rc, 2);
	cr_assert(has(&err, "-o applies to strip"), "%s", err.p);
	rc = cli(&out, &err, NULL, "digest", "--key", key, "--op", "mask", cli_case, NULL);
	cr_assert_eq(rc, 2);
	cr_assert(has(&err, "--op does not apply to digest"), "%s", err.p);
	/* a path that cannot be read: its error line, the others digested, exit 2 */
	char *gone = cli_fmt("%s/missing.txt", cli_root);
	rc = cli(&out, &err, NULL, "digest", "--key", key, gone, c, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&err, cli_fmt("%s: error: ", gone)), "%s", err.p);
	cr_assert_str_eq(out.p, cli_fmt("%s  sha256  %s\n", want[1], c));
}

Test(cli, strip_mirrors_the_tree_and_writes_a_truthful_manifest)
{
	char *a = case_file("a.txt", phi_text);
	char *b = case_file("sub/deeper/b.txt", "DOB: " VAL_DOB "\nSSN " VAL_SSN "\n");
	char *c = case_file("sub/clean.txt", clean_text);
	char *e = case_file("empty.txt", "");
	char *out_dir = cli_fmt("%s/out", cli_root);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", cli_case, "-o", out_dir, NULL);
	cr_assert_eq(rc, 1, "rc %d\n%s\n%s", rc, out.p, err.p);
	assert_no_values(&out, "strip report");
	assert_no_values(&err, "strip stderr");

	size_t n;
	char *oa = cli_read(cli_fmt("%s/a.txt", out_dir), &n);
	cr_assert_not_null(oa);
	cr_assert_str_eq(oa, phi_tagged);
	char *ob = cli_read(cli_fmt("%s/sub/deeper/b.txt", out_dir), NULL);
	cr_assert_not_null(ob);
	cr_assert_str_eq(ob, "DOB: [DATE]\nSSN [SSN]\n");
	/* unchanged files are byte-identical copies */
	char *oc = cli_read(cli_fmt("%s/sub/clean.txt", out_dir), &n);
	cr_assert_not_null(oc);
	cr_assert_eq(n, sizeof clean_text - 1);
	cr_assert_str_eq(oc, clean_text);
	char *oe = cli_read(cli_fmt("%s/empty.txt", out_dir), &n);
	cr_assert_not_null(oe);
	cr_assert_eq(n, 0);
	/* originals untouched */
	cr_assert_str_eq(cli_read(a, NULL), phi_text);

	/* the manifest: hashes of the real bytes, never a value */
	char *mpath = cli_fmt("%s/phiscan-manifest.json", out_dir);
	size_t mn;
	char *man = cli_read(mpath, &mn);
	cr_assert_not_null(man, "no manifest");
	for (int i = 0; planted[i]; i++)
		cr_assert(!strstr(man, planted[i]), "manifest holds %s:\n%s", planted[i], man);
	struct {
		const char *in, *rel, *status;
	} files[] = {{a, "a.txt", "written"}, {b, "sub/deeper/b.txt", "written"},
	             {c, "sub/clean.txt", "unchanged"}, {e, "empty.txt", "unchanged"}};
	for (size_t i = 0; i < 4; i++) {
		char *rec = manifest_record(man, files[i].in);
		cr_assert_not_null(rec, "no manifest record for %s:\n%s", files[i].in, man);
		char *outp = cli_fmt("%s/%s", out_dir, files[i].rel);
		cr_assert_str_eq(record_field(rec, "output"), outp);
		cr_assert_str_eq(record_field(rec, "status"), files[i].status, "%s", rec);
		size_t in_n, out_n;
		char *in_b = cli_read(files[i].in, &in_n), *out_b = cli_read(outp, &out_n);
		char hin[65], hout[65];
		sha256_hex(in_b, in_n, hin);
		sha256_hex(out_b, out_n, hout);
		/* no key: nothing of the input is recorded (formats/indigest.h), least of all
		 * its plain hash, a code computed from the identifiers it held */
		cr_assert_null(record_field(rec, "input_hmac_sha256"), "%s", rec);
		cr_assert_null(record_field(rec, "input_digest"), "%s", rec);
		if (strcmp(files[i].status, "unchanged"))
			cr_assert(!strstr(man, hin), "the plain hash of %s:\n%s", files[i].in, man);
		cr_assert_str_eq(record_field(rec, "output_sha256"), hout, "%s", rec);
	}
	cr_assert(strstr(man, "\"replacements\": 4,"), "%s", man);

	/* the stripped tree, manifest included, scans clean */
	rc = cli(&out, &err, NULL, "scan", "--format", "json", out_dir, NULL);
	cr_assert_eq(rc, 0, "stripped tree not clean:\n%s", out.p);
	cr_assert(has(&out, "\"files\":5,"), "%s", out.p);
	/* and no temporary file was left behind */
	cr_assert_eq(count_type(&out, "skipped"), 0);
	cr_assert(!has(&out, ".phiscan-"), "%s", out.p);
	cr_assert(!has(&out, ".tmp-"), "%s", out.p);
}

Test(cli, strip_refuses_an_output_inside_the_input)
{
	case_file("a.txt", phi_text);
	struct cbuf out, err;
	char *inside = cli_fmt("%s/clean-copy", cli_case);
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", inside, NULL), 2);
	cr_assert(has(&err, "inside"), "%s", err.p);
	/* nothing was written in the refused output */
	cr_assert(access(cli_fmt("%s/a.txt", inside), F_OK) != 0);
	cr_assert(access(cli_fmt("%s/phiscan-manifest.json", inside), F_OK) != 0);
	/* OUT == input is inside too */
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", cli_case, NULL), 2);
	/* strip needs exactly one of -o and --in-place */
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, NULL), 2);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--in-place", "-o", cli_fmt("%s/o", cli_root),
	                 cli_case, NULL), 2);
	cr_assert_str_eq(cli_read(cli_fmt("%s/a.txt", cli_case), NULL), phi_text);
}

/* Regression (scanner/main.c, run_tree, fixed in 83e90bd): OUT used to be created
 * before the check that it is inside an input, leaving an empty directory in the
 * user's input tree after a refused strip. */
Test(cli, a_refused_strip_does_not_create_its_output_inside_the_input)
{
	case_file("a.txt", phi_text);
	struct cbuf out, err;
	char *inside = cli_fmt("%s/clean-copy", cli_case);
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", inside, NULL), 2);
	cr_assert(access(inside, F_OK) != 0, "refused strip created %s", inside);
}

Test(cli, strip_without_force_keeps_an_existing_output_file)
{
	case_file("a.txt", phi_text);
	case_file("b.txt", "SSN " VAL_SSN "\n");
	char *out_dir = cli_fmt("%s/out", cli_root);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", out_dir, NULL), 1, "%s", err.p);
	char *oa = cli_fmt("%s/a.txt", out_dir);
	cli_write_str(oa, "SENTINEL\n");
	cli_rm_rf(cli_fmt("%s/b.txt", out_dir));
	int rc = cli(&out, &err, NULL, "strip", "--format", "json", cli_case, "-o", out_dir, NULL);
	cr_assert_eq(rc, 2, "rc %d\n%s", rc, out.p);
	const char *u = line_for(&out, "unreadable", "/a.txt");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert_not_null(strstr(json_str(u, "reason"), "--force"), "%s", u);
	cr_assert_str_eq(cli_read(oa, NULL), "SENTINEL\n");
	/* the other file of the batch was still written */
	cr_assert_str_eq(cli_read(cli_fmt("%s/b.txt", out_dir), NULL), "SSN [SSN]\n");
	/* no temporary left next to the kept file */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", out_dir, NULL), 0, "%s",
	             out.p);
	cr_assert(!has(&out, ".phiscan-"), "%s", out.p);
	/* --force overwrites */
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--force", cli_case, "-o", out_dir, NULL), 1);
	cr_assert_str_eq(cli_read(oa, NULL), phi_tagged);
}

static size_t count_temp_files(const char *dir)
{
	char *listing = NULL;
	size_t n = 0;
	char *argv[] = {"ls", "-a", (char *)dir, NULL};
	struct cbuf out;
	cr_assert_eq(run(argv, NULL, &out, NULL), 0);
	listing = out.p;
	for (const char *p = listing; (p = strstr(p, ".phiscan-")); p++)
		n++;
	return n;
}

Test(cli, in_place_rewrites_atomically_and_leaves_no_temporary)
{
	char *a = case_file("a.txt", phi_text);
	char *b = case_file("sub/b.txt", "SSN " VAL_SSN "\n");
	char *c = case_file("sub/clean.txt", clean_text);
	cr_assert_eq(chmod(a, 0640), 0);
	struct stat before_c;
	cr_assert_eq(stat(c, &before_c), 0);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--in-place", cli_case, NULL), 1, "%s", err.p);
	cr_assert_str_eq(cli_read(a, NULL), phi_tagged);
	cr_assert_str_eq(cli_read(b, NULL), "SSN [SSN]\n");
	cr_assert_str_eq(cli_read(c, NULL), clean_text);
	struct stat st;
	cr_assert_eq(stat(a, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
	cr_assert_eq(count_temp_files(cli_case), 0);
	cr_assert_eq(count_temp_files(cli_fmt("%s/sub", cli_case)), 0);
	/* no manifest dropped into the tree */
	cr_assert(access(cli_fmt("%s/phiscan-manifest.json", cli_case), F_OK) != 0);
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 0, "%s", out.p);
}

/* A copy keeps its original's mode, also under an output directory with a default
 * ACL, where a file takes its permissions from the ACL rather than from the umask
 * (acl(5)): created 0644 there it came out 0600 until the copy's mode was set by
 * fchmod again in such a directory.  The ACL is written as its xattr (no setfacl
 * needed): user::rwx, group::---, other::---. */
Test(cli, a_copy_keeps_the_original_mode_under_a_default_acl)
{
	char *a = case_file("a.txt", phi_text);
	cr_assert_eq(chmod(a, 0644), 0);
	char *out_root = cli_fmt("%s/acl-out", cli_root);
	cli_mkdirs(out_root);
	static const unsigned char acl[] = {2, 0, 0, 0,                       /* version 2 */
	                                    0x01, 0, 7, 0, 0xff, 0xff, 0xff, 0xff, /* user:: rwx */
	                                    0x04, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* group:: --- */
	                                    0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}; /* other:: --- */
	if (setxattr(out_root, "system.posix_acl_default", acl, sizeof acl, 0) != 0)
		cr_skip_test("no POSIX ACLs on this file system: %s", strerror(errno));
	char *key = cli_fmt("%s/acl.key", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--key", key, "-o", out_root, cli_case, NULL), 1,
	             "%s", err.p);
	struct stat st;
	cr_assert_eq(stat(cli_fmt("%s/a.txt", out_root), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);
}

/* ---- operators ---- */

static char *ops_filter(const char *text, int expect, ...)
{
	char *argv[32];
	int n = 0;
	argv[n++] = cli_bin;
	argv[n++] = "filter";
	va_list ap;
	va_start(ap, expect);
	for (const char *a; (a = va_arg(ap, const char *));)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	struct cbuf in = {(char *)text, strlen(text)}, out, err;
	int rc = run(argv, &in, &out, &err);
	cr_assert_eq(rc, expect, "rc %d, stderr: %s", rc, err.p);
	return out.p;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

Test(cli, operators_mask_remove_hash_and_pseudonym_have_the_expected_shapes)
{
	const char *in = "SSN " VAL_SSN "\nDOB: " VAL_DOB "\n";
	cr_assert_str_eq(ops_filter(in, 1, "--op", "mask", NULL), "SSN ***-**-****\nDOB: **/**/****\n");
	cr_assert_str_eq(ops_filter(in, 1, "--op", "remove", NULL), "SSN \nDOB: \n");
	cr_assert_str_eq(ops_filter(in, 1, "--op", "tag", NULL), "SSN [SSN]\nDOB: [DATE]\n");
	/* per class: dates masked, the rest tagged */
	cr_assert_str_eq(ops_filter(in, 1, "--op", "date=mask", NULL), "SSN [SSN]\nDOB: **/**/****\n");

	char *key = cli_fmt("%s/key", cli_root), *key2 = cli_fmt("%s/key2", cli_root);
	cli_write_str(key, "a secret key of at least sixteen bytes\n");
	cli_write_str(key2, "another secret key, also long enough\n");
	char *h1 = ops_filter(in, 1, "--op", "hash", "--key", key, NULL);
	/* "SSN [SSN:" + 16 hex + "]\n" */
	cr_assert(!strncmp(h1, "SSN [SSN:", 9), "%s", h1);
	cr_assert(all_hex(h1 + 9, 16) && h1[25] == ']' && h1[26] == '\n', "%s", h1);
	cr_assert(!strncmp(h1 + 27, "DOB: [DATE:", 11), "%s", h1);
	cr_assert(!strstr(h1, VAL_SSN) && !strstr(h1, VAL_DOB));
	cr_assert_str_eq(ops_filter(in, 1, "--op", "hash", "--key", key, NULL), h1);
	char *h2 = ops_filter(in, 1, "--op", "hash", "--key", key2, NULL);
	cr_assert_str_neq(h2, h1);

	char *p1 = ops_filter(in, 1, "--op", "pseudonym", "--key", key, NULL);
	/* same shape: "SSN ddd-dd-dddd\nDOB: dd/dd/dddd\n", not the original */
	cr_assert_eq(strlen(p1), strlen(in), "%s", p1);
	for (size_t i = 0; in[i]; i++) {
		bool d = in[i] >= '0' && in[i] <= '9';
		cr_assert(d ? (p1[i] >= '0' && p1[i] <= '9') : p1[i] == in[i], "shape differs at %zu: %s",
		          i, p1);
	}
	cr_assert(!strstr(p1, VAL_SSN), "%s", p1);
	cr_assert(!strstr(p1, VAL_DOB), "%s", p1);
	cr_assert_str_eq(ops_filter(in, 1, "--op", "pseudonym", "--key", key, NULL), p1);
	/* a name pseudonym is a different capitalised name */
	char *pn = ops_filter("Patient: " VAL_NAME "\n", 1, "--op", "pseudonym", "--key", key, NULL);
	cr_assert(!strncmp(pn, "Patient: ", 9), "%s", pn);
	cr_assert(!strstr(pn, "Maria") && !strstr(pn, "Gonzalez"), "%s", pn);
	cr_assert(pn[9] >= 'A' && pn[9] <= 'Z', "%s", pn);

	/* hash and pseudonym without --key: exit 2, the message names --key */
	struct cbuf sin = {(char *)in, strlen(in)}, out, err;
	cr_assert_eq(cli(&out, &err, &sin, "filter", "--op", "hash", NULL), 2);
	cr_assert(has(&err, "--key"), "%s", err.p);
	cr_assert_eq(out.n, 0);
	cr_assert_eq(cli(&out, &err, &sin, "filter", "--op", "ssn=pseudonym", NULL), 2);
	cr_assert(has(&err, "--key"), "%s", err.p);
	case_file("a.txt", in);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--op", "hash", cli_case, "-o",
	                 cli_fmt("%s/out", cli_root), NULL), 2);
	cr_assert(has(&err, "--key"), "%s", err.p);
	/* an unknown operator is a usage error */
	cr_assert_eq(cli(&out, &err, &sin, "filter", "--op", "shred", NULL), 2);
}

/* ---- encodings ---- */

static size_t utf16le(const char *ascii, unsigned char *out)
{
	size_t n = 0;
	for (; *ascii; ascii++) {
		out[n++] = (unsigned char)*ascii;
		out[n++] = 0;
	}
	return n;
}

Test(cli, utf16le_with_bom_offsets_are_original_bytes_and_strip_keeps_the_encoding)
{
	static const char text[] = "Note\r\nPatient: " VAL_NAME "\r\nSSN " VAL_SSN "\r\n";
	static const char tagged[] = "Note\r\nPatient: [NAME]\r\nSSN [SSN]\r\n";
	unsigned char file[512], want[512], v[64];
	file[0] = 0xFF;
	file[1] = 0xFE;
	size_t fn = 2 + utf16le(text, file + 2);
	char *p = cli_fmt("%s/utf16.txt", cli_case);
	cli_write(p, file, fn);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             err.p);
	cr_assert_eq(count_type(&out, "finding"), 2, "%s", out.p);
	size_t n;
	char **l = lines_of(&out, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		const char *want_v = planted_for_rule(json_str(l[i], "rule"));
		size_t vn = utf16le(want_v, v);
		unsigned long long s, e, line;
		cr_assert(json_num(l[i], "start", &s) && json_num(l[i], "end", &e));
		cr_assert(e <= fn && e - s == vn && !memcmp(file + s, v, vn),
		          "offsets [%llu,%llu) are not the UTF-16 bytes of the value: %s", s, e, l[i]);
		cr_assert(json_num(l[i], "line", &line));
		cr_assert_eq(line, !strcmp(want_v, VAL_NAME) ? 2 : 3, "%s", l[i]);
	}
	char *out_dir = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", out_dir, NULL), 1, "%s", err.p);
	size_t on;
	char *ob = cli_read(cli_fmt("%s/utf16.txt", out_dir), &on);
	cr_assert_not_null(ob);
	want[0] = 0xFF;
	want[1] = 0xFE;
	size_t wn = 2 + utf16le(tagged, want + 2);
	cr_assert_eq(on, wn, "stripped UTF-16 is %zu bytes, want %zu", on, wn);
	cr_assert(!memcmp(ob, want, wn), "stripped UTF-16 differs (BOM or encoding lost)");
	cr_assert_eq(cli(&out, &err, NULL, "scan", out_dir, NULL), 0, "%s", out.p);
}

Test(cli, latin1_offsets_are_original_bytes_and_strip_keeps_latin1)
{
	static const char text[] = "Caf\xe9 M\xfcller, r\xe9sum\xe9\nPatient: " VAL_NAME
	                           "\nNa\xefve SSN " VAL_SSN " \xa7\n";
	static const char tagged[] = "Caf\xe9 M\xfcller, r\xe9sum\xe9\nPatient: [NAME]"
	                             "\nNa\xefve SSN [SSN] \xa7\n";
	char *p = cli_fmt("%s/latin1.txt", cli_case);
	cli_write_str(p, text);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             err.p);
	cr_assert_eq(count_type(&out, "finding"), 2, "%s", out.p);
	size_t n;
	char **l = lines_of(&out, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		const char *want_v = planted_for_rule(json_str(l[i], "rule"));
		unsigned long long s, e, col;
		cr_assert(json_num(l[i], "start", &s) && json_num(l[i], "end", &e));
		cr_assert(e - s == strlen(want_v) && !memcmp(text + s, want_v, e - s),
		          "offsets [%llu,%llu) miss the value in the Latin-1 bytes: %s", s, e, l[i]);
		/* columns count characters: "Na\xefve SSN " is 10 characters */
		cr_assert(json_num(l[i], "column", &col));
		cr_assert_eq(col, !strcmp(want_v, VAL_NAME) ? 10 : 11, "%s", l[i]);
	}
	char *out_dir = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", out_dir, NULL), 1, "%s", err.p);
	char *ob = cli_read(cli_fmt("%s/latin1.txt", out_dir), NULL);
	cr_assert_not_null(ob);
	cr_assert_str_eq(ob, tagged, "Latin-1 not kept");
	cr_assert_eq(cli(&out, &err, NULL, "scan", out_dir, NULL), 0, "%s", out.p);
}

/* ---- bad input ---- */

Test(cli, an_empty_file_is_clean)
{
	char *p = case_file("empty.txt", "");
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", p, NULL), 0, "%s", err.p);
	cr_assert(has(&out, "\"files\":1,\"scanned\":1,\"skipped\":0,\"unreadable\":0"), "%s", out.p);
}

Test(cli, binary_junk_named_txt_is_skipped_and_listed)
{
	unsigned char junk[3000];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)((i * 2654435761u) >> 13);
	junk[10] = 0;
	cli_write(cli_fmt("%s/junk.txt", cli_case), junk, sizeof junk);
	case_file("ok.txt", clean_text);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 0, "%s",
	             err.p);
	const char *s = line_for(&out, "skipped", "/junk.txt");
	cr_assert_not_null(s, "%s", out.p);
	cr_assert_not_null(json_str(s, "reason"));
	cr_assert(has(&out, "\"skipped\":1"), "%s", out.p);
	/* the human report lists it too */
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 0);
	cr_assert(has(&out, "junk.txt") || has(&err, "junk.txt"), "%s", out.p);
}

Test(cli, invalid_utf8_text_is_scanned)
{
	static const char text[] = "bad \xc3\x28 \xff\xfe bytes\nSSN " VAL_SSN " \xed\xa0\x80\n";
	char *p = cli_fmt("%s/bad-utf8.txt", cli_case);
	cli_write_str(p, text);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             err.p);
	const char *f = line_for(&out, "finding", "/bad-utf8.txt");
	cr_assert_not_null(f, "%s", out.p);
	unsigned long long s, e;
	cr_assert(json_num(f, "start", &s) && json_num(f, "end", &e));
	cr_assert(e - s == strlen(VAL_SSN) && !memcmp(text + s, VAL_SSN, e - s), "%s", f);
	/* the report is valid UTF-8 even so: no raw invalid bytes copied into it */
	cr_assert(phi_utf8_valid((const unsigned char *)out.p, out.n, 0), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 1);
	cr_assert(phi_utf8_valid((const unsigned char *)out.p, out.n, 0), "%s", out.p);
}

Test(cli, a_broken_symlink_is_skipped_and_listed)
{
	case_file("ok.txt", clean_text);
	cr_assert_eq(symlink("does-not-exist.txt", cli_fmt("%s/dangling.txt", cli_case)), 0);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 0, "%s",
	             out.p);
	const char *s = line_for(&out, "skipped", "/dangling.txt");
	cr_assert_not_null(s, "%s", out.p);
	cr_assert_not_null(strstr(json_str(s, "reason"), "broken symlink"), "%s", s);
}

Test(cli, a_symlink_loop_terminates_and_is_listed)
{
	case_file("dir/ok.txt", clean_text);
	case_file("dir/phi.txt", "SSN " VAL_SSN "\n");
	cr_assert_eq(symlink("..", cli_fmt("%s/dir/up", cli_case)), 0);
	cr_assert_eq(symlink(".", cli_fmt("%s/dir/self", cli_case)), 0);
	/* a symlink cycle between two links, too */
	cr_assert_eq(symlink("loop-b", cli_fmt("%s/loop-a", cli_case)), 0);
	cr_assert_eq(symlink("loop-a", cli_fmt("%s/loop-b", cli_case)), 0);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL);
	cr_assert_eq(rc, 1, "rc %d: %s", rc, out.p);
	cr_assert_not_null(line_for(&out, "skipped", "/dir/up"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "skipped", "/dir/self"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "skipped", "/loop-a"), "%s", out.p);
	/* the file is reported once, not once per way to reach it */
	cr_assert_eq(count_type(&out, "finding"), 1, "%s", out.p);
}

Test(cli, a_fifo_in_the_tree_is_skipped_without_hanging)
{
	case_file("ok.txt", "SSN " VAL_SSN "\n");
	char *fifo = cli_fmt("%s/pipe.txt", cli_case);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             out.p);
	const char *s = line_for(&out, "skipped", "/pipe.txt");
	cr_assert_not_null(s, "%s", out.p);
	cr_assert_not_null(strstr(json_str(s, "reason"), "fifo"), "%s", s);
	cr_assert_not_null(line_for(&out, "finding", "/ok.txt"));
	/* a FIFO named on the command line is not opened either */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", fifo, NULL), 0, "%s", out.p);
	cr_assert_not_null(line_for(&out, "skipped", "/pipe.txt"), "%s", out.p);
	/* strip skips it and writes no copy */
	char *out_dir = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", out_dir, NULL), 1, "%s", err.p);
	cr_assert(access(cli_fmt("%s/pipe.txt", out_dir), F_OK) != 0);
}

/* (rule, line, column) of every finding, one per line. */
static char *finding_positions(const struct cbuf *b)
{
	size_t n;
	char **l = lines_of(b, &n);
	char *s = cli_own(calloc(1, n * 64 + 1));
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		unsigned long long line = 0, col = 0;
		json_num(l[i], "line", &line);
		json_num(l[i], "column", &col);
		sprintf(s + strlen(s), "%s %llu:%llu\n", json_str(l[i], "rule"), line, col);
	}
	return s;
}

Test(cli, a_crlf_file_gives_the_same_findings_as_lf)
{
	char crlf[sizeof phi_text * 2];
	size_t k = 0;
	for (const char *p = phi_text; *p; p++) {
		if (*p == '\n')
			crlf[k++] = '\r';
		crlf[k++] = *p;
	}
	crlf[k] = 0;
	char *lf_dir = cli_fmt("%s/lf", cli_root), *crlf_dir = cli_fmt("%s/crlf", cli_root);
	cli_write_str(cli_fmt("%s/a.txt", lf_dir), phi_text);
	cli_write_str(cli_fmt("%s/a.txt", crlf_dir), crlf);
	struct cbuf o1, o2, err;
	cr_assert_eq(cli(&o1, &err, NULL, "scan", "--format", "json", lf_dir, NULL), 1);
	cr_assert_eq(cli(&o2, &err, NULL, "scan", "--format", "json", crlf_dir, NULL), 1);
	char *p1 = finding_positions(&o1), *p2 = finding_positions(&o2);
	cr_assert_str_eq(p1, p2);
	cr_assert_str_eq(p1, "t-name 2:10\nt-dob 3:6\nt-ssn 4:5\nt-email 5:9\n");
	/* offsets in the CRLF file point at the value too */
	size_t n;
	char **l = lines_of(&o2, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		const char *want = planted_for_rule(json_str(l[i], "rule"));
		unsigned long long s, e;
		cr_assert(json_num(l[i], "start", &s) && json_num(l[i], "end", &e));
		cr_assert(e - s == strlen(want) && !memcmp(crlf + s, want, e - s), "%s", l[i]);
	}
	/* strip keeps the CRLF line ends */
	char *out_dir = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&o1, &err, NULL, "strip", crlf_dir, "-o", out_dir, NULL), 1);
	char *ob = cli_read(cli_fmt("%s/a.txt", out_dir), NULL);
	cr_assert_not_null(ob);
	cr_assert_not_null(strstr(ob, "Patient: [NAME]\r\nDOB: [DATE]\r\n"), "%s", ob);
}

Test(cli, a_missing_path_is_an_error)
{
	struct cbuf out, err;
	case_file("ok.txt", clean_text);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case,
	                 cli_fmt("%s/nope", cli_root), NULL), 2);
	cr_assert(has(&out, "/nope"), "%s", out.p);
}

/* ---- rules ---- */

Test(cli, rules_test_passes_on_a_good_pack_and_fails_on_a_bad_example)
{
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "rules", "test", NULL), 0, "%s%s", out.p, err.p);
	cr_assert(has(&out, "rules test: 4 rules, 5 examples, 0 failed"), "%s", out.p);
	char *bad = cli_fmt("%s/bad.yaml", cli_root);
	cli_write_str(bad, "rules:\n"
	                   "  - id: bad-example\n"
	                   "    class: id\n"
	                   "    pattern: '\\bK\\d{4}\\b'\n"
	                   "    examples:\n"
	                   "      match: ['K12']\n");
	cr_assert_eq(cli(&out, &err, NULL, "rules", "test", "--rules", bad, NULL), 1, "%s", err.p);
	cr_assert(has(&out, "FAIL bad-example"), "%s", out.p);
	cr_assert(has(&out, "1 failed"), "%s", out.p);
	/* only the extra pack */
	cr_assert_eq(cli(&out, &err, NULL, "rules", "test", "--no-default-rules", "--rules", bad,
	                 NULL), 1);
	cr_assert(has(&out, "rules test: 1 rules, 1 examples, 1 failed"), "%s", out.p);
	/* a broken pack is an error, with file and line */
	cli_write_str(bad, "rules:\n  - id: x\n    class: nope\n    pattern: 'x'\n");
	cr_assert_eq(cli(&out, &err, NULL, "rules", "test", "--rules", bad, NULL), 2);
	cr_assert(has(&err, cli_fmt("%s:3: unknown class 'nope'", bad)), "%s", err.p);
	cr_assert_eq(cli(&out, &err, NULL, "rules", "nonsense", NULL), 2);
}

Test(cli, rules_list_lists_every_rule_id)
{
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "rules", "list", NULL), 0, "%s", err.p);
	static const char *const ids[] = {"t-ssn", "t-dob", "t-name", "t-email"};
	for (int i = 0; i < 4; i++)
		cr_assert(has(&out, ids[i]), "%s missing:\n%s", ids[i], out.p);
	size_t n;
	char **l = lines_of(&out, &n);
	cr_assert_eq(n, 5, "%s", out.p); /* header + 4 rules */
	cr_assert(strstr(l[2], "t-dob") && strstr(l[2], "keywords"), "%s", l[2]);
	cr_assert(strstr(l[1], "t-ssn") && strstr(l[1], "pattern"), "%s", l[1]);
	cr_assert_eq(cli(&out, &err, NULL, "rules", "export", NULL), 0);
	cr_assert(has(&out, "(?<v>\\d{3}-\\d{2}-\\d{4})"), "%s", out.p);
}

/* ---- usage ---- */

/* Regression (scanner/main.c, parse_options, fixed in 83e90bd): an unknown option
 * used to print getopt's message prefixed "scan:" followed by the 20-line usage;
 * the issue asks for a one-line message. */
Test(cli, an_unknown_option_exits_2_with_a_one_line_message)
{
	case_file("ok.txt", clean_text);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--bogus", cli_case, NULL), 2);
	cr_assert(has(&err, "--bogus"), "%s", err.p);
	cr_assert_eq(out.n, 0);
	size_t lines;
	lines_of(&err, &lines);
	cr_assert_eq(lines, 1, "want a one-line message, got %zu lines:\n%s", lines, err.p);
}

Test(cli, scan_without_a_path_exits_2)
{
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", NULL), 2);
	cr_assert(has(&err, "PATH"), "%s", err.p);
	cr_assert_eq(cli(&out, &err, NULL, "frobnicate", NULL), 2);
	cr_assert_eq(cli(&out, &err, NULL, NULL), 2);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "-j", "0", cli_case, NULL), 2);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "xml", cli_case, NULL), 2);
	cr_assert_eq(cli(&out, &err, NULL, "--version", NULL), 0);
	cr_assert(has(&out, "phiscan "), "%s", out.p);
}

Test(cli, a_missing_data_dir_is_a_clear_error)
{
	case_file("ok.txt", clean_text);
	struct cbuf out, err;
	cli_rm_rf(cli_fmt("%s/rules/default.yaml", cli_data));
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 2);
	cr_assert(has(&err, "default.yaml"), "%s", err.p);
}

/* ---- a generated corpus (corpus/gencase.c) ---- */

Test(cli, a_generated_case_folder_scans_deterministically_without_crashing)
{
	const char *gen = getenv("GENCASE");
	if (!gen || !*gen || access(gen, X_OK) != 0) {
		cli_teardown(); /* a skipped test does not run the suite's fini */
		cr_skip_test("GENCASE (build/gencase) not built yet");
	}
	char *corpus = cli_fmt("%s/corpus", cli_root);
	char *argv[] = {(char *)gen, "cases", corpus, "--cases", "3", "--seed", "7", NULL};
	struct cbuf out, err;
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "gencase failed: %s", err.p);
	struct cbuf o1, o4;
	int r1 = cli(&o1, &err, NULL, "scan", "-j", "1", "--format", "json", corpus, NULL);
	int r4 = cli(&o4, &err, NULL, "scan", "-j", "4", "--format", "json", corpus, NULL);
	cr_assert(r1 >= 0 && r1 <= 2);
	cr_assert_eq(r1, r4);
	cr_assert_str_eq(without_seconds(&o1), without_seconds(&o4));
	cr_assert_eq(count_type(&o1, "summary"), 1);
	/* every text-body finding's span lies inside its file */
	size_t n;
	char **l = lines_of(&o1, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding") || !strstr(l[i], "\"field\":null"))
			continue;
		unsigned long long s, e;
		struct stat st;
		if (!json_num(l[i], "start", &s) || !json_num(l[i], "end", &e))
			continue;
		if (strstr(json_str(l[i], "path"), "!/"))
			continue; /* an archive entry (its spans: test_archive.c) */
		cr_assert_eq(stat(json_str(l[i], "path"), &st), 0);
		cr_assert(s < e && e <= (unsigned long long)st.st_size, "%s", l[i]);
	}
}

/* ---- large inputs: chunk seams ---- */

/* n bytes of filler: 64-byte lines, or (lines = false) one line of words. */
static char *filler(size_t n, bool lines)
{
	static const char words[] = "crown prep margin bite shade mesial distal occlusal buccal ";
	char *b = cli_own(malloc(n + 1));
	for (size_t i = 0; i < n; i++)
		b[i] = lines && i % 64 == 63 ? '\n' : words[i % (sizeof words - 1)];
	b[n] = 0;
	return b;
}

/* Put s at offset at of b, with a space (or newline) either side. */
static void plant(char *b, size_t at, const char *s)
{
	b[at - 1] = ' ';
	memcpy(b + at, s, strlen(s));
	b[at + strlen(s)] = ' ';
}

/* The findings of path in the json report are exactly the planted values, in
 * order: value k at byte offset at[k], each reported once. */
static void expect_findings_at(const struct cbuf *json, const char *path, const size_t *at,
                               size_t nat, const char *const *vals)
{
	size_t n, k = 0;
	char **l = lines_of(json, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding") || strcmp(json_str(l[i], "path"), path))
			continue;
		unsigned long long s, e;
		cr_assert(json_num(l[i], "start", &s) && json_num(l[i], "end", &e));
		cr_assert_lt(k, nat, "%s: more findings than planted: %s", path, l[i]);
		cr_assert_eq(s, at[k], "%s: finding %zu at %llu, planted at %zu", path, k, s, at[k]);
		cr_assert_eq(e - s, strlen(vals[k]), "%s", l[i]);
		k++;
	}
	cr_assert_eq(k, nat, "%s: %zu findings, planted %zu", path, k, nat);
}

Test(cli, values_across_the_1_mib_chunk_seams_are_found_once_and_stripped)
{
	const size_t mib = 1u << 20;
	/* positions around the first and second window ends, for lined and one-line
	 * text (a line longer than the window is cut 1 KiB before its end) */
	static const long deltas[] = {-1024 - 11, -1024 - 5, -1024, -12, -11, -6, -1, 0, 3};
	char *out_dir = cli_fmt("%s/out", cli_root);
	size_t nfiles = 0;
	struct {
		char *path, *text;
		size_t len, at[2];
	} f[40];
	for (int lines = 0; lines < 2; lines++) {
		for (size_t d = 0; d < sizeof deltas / sizeof deltas[0]; d++) {
			size_t len = 2 * mib + 5000;
			char *b = filler(len, lines);
			size_t a1 = (size_t)((long)mib + deltas[d]);
			size_t a2 = (size_t)((long)(2 * mib) + deltas[d] - 3000);
			plant(b, a1, VAL_SSN);
			plant(b, a2, VAL_SSN);
			f[nfiles].path = cli_fmt("%s/%s-%zu.txt", cli_case, lines ? "lines" : "long", d);
			f[nfiles].text = b;
			f[nfiles].len = len;
			f[nfiles].at[0] = a1;
			f[nfiles].at[1] = a2;
			cli_write(f[nfiles].path, b, len);
			nfiles++;
		}
	}
	/* a label at the end of the first window, its value on the next line */
	{
		size_t len = 2 * mib;
		char *b = filler(len, true);
		size_t nl = mib - 7; /* "DOB:\n" ends 2 bytes before the window end */
		memcpy(b + nl - 5, "\nDOB:\n", 6);
		memcpy(b + nl + 1, VAL_DOB, strlen(VAL_DOB));
		b[nl + 1 + strlen(VAL_DOB)] = '\n';
		f[nfiles].path = cli_fmt("%s/label-seam.txt", cli_case);
		f[nfiles].text = b;
		f[nfiles].len = len;
		f[nfiles].at[0] = nl + 1;
		f[nfiles].at[1] = 0;
		cli_write(f[nfiles].path, b, len);
		nfiles++;
	}
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             err.p);
	static const char *const ssn2[] = {VAL_SSN, VAL_SSN};
	static const char *const dob1[] = {VAL_DOB};
	for (size_t i = 0; i < nfiles; i++)
		expect_findings_at(&out, f[i].path, f[i].at, f[i].at[1] ? 2 : 1,
		                   f[i].at[1] ? ssn2 : dob1);

	cr_assert_eq(cli(&out, &err, NULL, "strip", "-j", "4", cli_case, "-o", out_dir, NULL), 1,
	             "%s", err.p);
	for (size_t i = 0; i < nfiles; i++) {
		/* expected copy: each value replaced by its tag, the rest byte for byte */
		const char *val = f[i].at[1] ? VAL_SSN : VAL_DOB;
		const char *tag = f[i].at[1] ? "[SSN]" : "[DATE]";
		size_t vl = strlen(val), tl = strlen(tag);
		char *want = cli_own(malloc(f[i].len + 1));
		size_t wn = 0, pos = 0;
		for (int k = 0; k < 2 && f[i].at[k]; k++) {
			memcpy(want + wn, f[i].text + pos, f[i].at[k] - pos);
			wn += f[i].at[k] - pos;
			memcpy(want + wn, tag, tl);
			wn += tl;
			pos = f[i].at[k] + vl;
		}
		memcpy(want + wn, f[i].text + pos, f[i].len - pos);
		wn += f[i].len - pos;
		size_t on;
		char *ob = cli_read(cli_fmt("%s/%s", out_dir, strrchr(f[i].path, '/') + 1), &on);
		cr_assert_not_null(ob);
		cr_assert_eq(on, wn, "%s: stripped %zu bytes, want %zu", f[i].path, on, wn);
		cr_assert(!memcmp(ob, want, wn), "%s: stripped copy differs", f[i].path);
	}
	cr_assert_eq(cli(&out, &err, NULL, "scan", out_dir, NULL), 0, "%s", out.p);
}

Test(cli, a_large_utf16_file_maps_every_offset_and_strips_in_utf16)
{
	/* decoded sources use windows of chunk_size / 4: many seams */
	const size_t nchars = 1500000;
	unsigned char *file = cli_own(malloc(2 + 2 * nchars));
	char *ascii = filler(nchars, true);
	size_t at[16], nat = 0;
	for (size_t p = 1000; p + 20 < nchars && nat < 16; p += 97000 + nat * 13)
		plant(ascii, p, VAL_SSN), at[nat++] = 2 + 2 * p;
	file[0] = 0xFF;
	file[1] = 0xFE;
	for (size_t i = 0; i < nchars; i++) {
		file[2 + 2 * i] = (unsigned char)ascii[i];
		file[3 + 2 * i] = 0;
	}
	char *p = cli_fmt("%s/big16.txt", cli_case);
	cli_write(p, file, 2 + 2 * nchars);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1);
	size_t n, k = 0;
	char **l = lines_of(&out, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		unsigned long long s, e;
		cr_assert(json_num(l[i], "start", &s) && json_num(l[i], "end", &e));
		cr_assert_lt(k, nat);
		cr_assert_eq(s, at[k], "finding %zu at %llu, planted at %zu", k, s, at[k]);
		cr_assert_eq(e - s, 2 * strlen(VAL_SSN));
		k++;
	}
	cr_assert_eq(k, nat);
	char *out_dir = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", cli_case, "-o", out_dir, NULL), 1);
	size_t on;
	unsigned char *ob = (unsigned char *)cli_read(cli_fmt("%s/big16.txt", out_dir), &on);
	cr_assert_not_null(ob);
	/* 11 characters became 5 ("[SSN]") each time */
	cr_assert_eq(on, 2 + 2 * nchars - nat * 2 * 6, "%zu", on);
	cr_assert(ob[0] == 0xFF && ob[1] == 0xFE);
	for (size_t i = 3; i < on; i += 2)
		cr_assert_eq(ob[i], 0, "not UTF-16LE ASCII at %zu", i);
	cr_assert_eq(cli(&out, &err, NULL, "scan", out_dir, NULL), 0, "%s", out.p);
}

/* The last assertion is a regression test (scanner/scan.c, phi_scan_stream, fixed
 * in 83e90bd): the filter's summary used to count only the 64 KiB head. */
Test(cli, filter_of_a_large_stdin_replaces_every_value_and_counts_every_byte)
{
	const size_t len = 3u << 20;
	char *b = filler(len, true);
	size_t at[40], nat = 0;
	for (size_t p = 500; p + 20 < len && nat < 40; p += 80021)
		plant(b, p, VAL_SSN), at[nat++] = p;
	struct cbuf in = {b, len}, out, err;
	cr_assert_eq(cli(&out, &err, &in, "filter", "--format", "json", NULL), 1, "%s", err.p);
	cr_assert_eq(out.n, len - nat * (strlen(VAL_SSN) - 5), "stdout %zu bytes", out.n);
	cr_assert(!mem_has(out.p, out.n, VAL_SSN));
	cr_assert_eq(count_type(&err, "finding"), nat, "%s", err.p);
	static const char *const vals[40] = {[0 ... 39] = VAL_SSN};
	expect_findings_at(&err, "<stdin>", at, nat, vals);
	/* the summary counts the whole input, not only its first 64 KiB */
	cr_assert(has(&err, cli_fmt("\"bytes\":%zu,", len)),
	          "filter summary bytes wrong (input %zu bytes): %s", len,
	          strstr(err.p, "{\"type\":\"summary\""));
}

Test(cli, strip_is_the_same_for_1_and_8_threads)
{
	for (int i = 0; i < 120; i++) {
		char *p = cli_fmt("%s/d%d/f%03d.txt", cli_case, i % 7, i);
		if (i % 3 == 0)
			cli_write_str(p, phi_text);
		else if (i % 3 == 1)
			cli_write_str(p, clean_text);
		else
			cli_write_str(p, "DOB: " VAL_DOB " and SSN " VAL_SSN "\n");
	}
	char *o1 = cli_fmt("%s/o1", cli_root), *o8 = cli_fmt("%s/o8", cli_root);
	struct cbuf r1, r8, err;
	cr_assert_eq(cli(&r1, &err, NULL, "strip", "-j", "1", "--format", "json", cli_case, "-o", o1,
	                 NULL), 1);
	cr_assert_eq(cli(&r8, &err, NULL, "strip", "-j", "8", "--format", "json", cli_case, "-o", o8,
	                 NULL), 1);
	cr_assert_str_eq(without_seconds(&r1), without_seconds(&r8));
	for (int i = 0; i < 120; i++) {
		char *a = cli_read(cli_fmt("%s/d%d/f%03d.txt", o1, i % 7, i), NULL);
		char *b = cli_read(cli_fmt("%s/d%d/f%03d.txt", o8, i % 7, i), NULL);
		cr_assert(a && b);
		cr_assert_str_eq(a, b);
	}
	/* manifests equal but for the output directory name */
	char *m1 = cli_read(cli_fmt("%s/phiscan-manifest.json", o1), NULL);
	char *m8 = cli_read(cli_fmt("%s/phiscan-manifest.json", o8), NULL);
	cr_assert(m1 && m8);
	for (char *q; (q = strstr(m8, "/o8/"));)
		q[2] = '1';
	cr_assert_str_eq(m1, m8);
}

Test(cli, strip_of_a_single_file_root_and_report_to_a_file)
{
	char *a = case_file("a.txt", phi_text);
	char *out_dir = cli_fmt("%s/out", cli_root), *rep = cli_fmt("%s/report.json", cli_root);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--format", "json", "--output", rep, a, "-o",
	                 out_dir, NULL), 1, "%s", err.p);
	cr_assert_eq(out.n, 0, "report went to stdout: %s", out.p);
	char *r = cli_read(rep, NULL);
	cr_assert_not_null(r);
	cr_assert_not_null(strstr(r, "\"type\":\"summary\""));
	cr_assert_str_eq(cli_read(cli_fmt("%s/a.txt", out_dir), NULL), phi_tagged);
}

Test(cli, exclude_globs_skip_files)
{
	case_file("a.txt", phi_text);
	case_file("logs/run.log", "SSN " VAL_SSN "\n");
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--exclude", "*.txt",
	                 "--exclude", "*.log", cli_case, NULL), 0, "%s", out.p);
	cr_assert_eq(count_type(&out, "finding"), 0);
}

/* ---- regressions: bugs these tests found, since fixed ---- */

/* Regression (scanner/main.c and manifest.c, fixed in 83e90bd): with --manifest
 * FILE inside the tree being stripped in place, the manifest's temporary file
 * (created before the walk) used to be walked and stripped over itself, leaving
 * an empty manifest. */
Test(cli, a_manifest_written_inside_the_stripped_tree_is_complete)
{
	case_file("a.txt", phi_text);
	case_file("z/b.txt", "SSN " VAL_SSN "\n");
	char *man = cli_fmt("%s/manifest.json", cli_case);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--format", "json", "--in-place", "--manifest", man,
	             cli_case, NULL);
	cr_assert_eq(rc, 1, "rc %d: %s", rc, err.p);
	cr_assert(has(&out, "\"files\":2,"), "the manifest's temporary was walked:\n%s", out.p);
	char *m = cli_read(man, NULL);
	cr_assert_not_null(m);
	cr_assert_not_null(strstr(m, "\"summary\""), "manifest incomplete (%zu bytes): %s",
	                   strlen(m), m);
	cr_assert_not_null(manifest_record(m, cli_fmt("%s/a.txt", cli_case)), "%s", m);
	cr_assert_not_null(manifest_record(m, cli_fmt("%s/z/b.txt", cli_case)), "%s", m);
}

/* Regression (scanner/scan.c, phi_scan_file, fixed in 83e90bd): the "output
 * exists" check used to be access(dest) long before rename(tmp, dest), so two
 * inputs mapping to the same output (two file roots with the same base name)
 * were both written when their workers overlapped, the second silently
 * replacing the first (93 of 100 runs).  Exactly one must be written and the
 * other reported "output exists" (exit 2). */
Test(cli, two_inputs_with_the_same_output_path_never_overwrite_each_other)
{
	char *a = case_file("one/a.txt", "SSN " VAL_SSN " one\n");
	char *b = case_file("two/a.txt", "SSN " VAL_SSN " two\n");
	for (int round = 0; round < 20; round++) {
		char *out_dir = cli_fmt("%s/out%d", cli_root, round);
		struct cbuf out, err;
		int rc = cli(&out, &err, NULL, "strip", "-j", "2", "--format", "json", a, b, "-o",
		             out_dir, NULL);
		cr_assert_eq(rc, 2, "round %d: rc %d, both copies written to one output path:\n%s",
		             round, rc, out.p);
		cr_assert_eq(count_type(&out, "unreadable"), 1, "%s", out.p);
	}
}

/* The test's LD_PRELOAD shim (tests/killshim.c) on, with its setting var=1: the
 * children cli() starts run under it until shim_off.  The shim is never sanitized:
 * an ASan binary must not insist on coming first.  Returns the saved ASAN_OPTIONS
 * (owned), for shim_off. */
static char *shim_on(const char *shim, const char *var)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char *saved_asan = asan ? strdup(asan) : NULL;
	cr_assert_eq(setenv("ASAN_OPTIONS",
	                    cli_fmt("%s%sverify_asan_link_order=0", asan ? asan : "", asan ? ":" : ""),
	                    1),
	             0);
	cr_assert_eq(setenv("LD_PRELOAD", shim, 1), 0);
	cr_assert_eq(setenv(var, "1", 1), 0);
	return saved_asan;
}

static void shim_off(const char *var, char *saved_asan)
{
	unsetenv("LD_PRELOAD");
	unsetenv(var);
	if (saved_asan)
		setenv("ASAN_OPTIONS", saved_asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved_asan);
}

/* Where the file system has no renameat2(RENAME_NOREPLACE) (EINVAL; the test's
 * LD_PRELOAD shim plays that file system), a copy is published with link() and its
 * temporary name removed: the same outputs, no temporary file left, and an existing
 * output still never replaced. */
Test(cli, strip_publishes_with_link_where_rename_noreplace_is_missing)
{
	const char *shim = getenv("KILLSHIM");
	if (!shim || access(shim, R_OK))
		cr_skip_test("KILLSHIM is set by make test");
	case_file("a/x.txt", "SSN " VAL_SSN " one\n");
	case_file("b/y.txt", "SSN " VAL_SSN " two\n");
	char *o1 = cli_fmt("%s/o1", cli_root), *o2 = cli_fmt("%s/o2", cli_root);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-q", cli_case, "-o", o1, NULL), 1, "%s", err.p);
	char *saved_asan = shim_on(shim, "KILLSHIM_NO_NOREPLACE");
	int rc = cli(&out, &err, NULL, "strip", "-q", cli_case, "-o", o2, NULL);
	int again = cli(&out, &err, NULL, "strip", "--format", "json", cli_case, "-o", o2, NULL);
	shim_off("KILLSHIM_NO_NOREPLACE", saved_asan);
	cr_assert_eq(rc, 1, "the link() fallback did not publish: %s", err.p);
	for (int i = 0; i < 2; i++) {
		const char *rel = i ? "b/y.txt" : "a/x.txt";
		size_t n1, n2;
		char *c1 = cli_read(cli_fmt("%s/%s", o1, rel), &n1);
		char *c2 = cli_read(cli_fmt("%s/%s", o2, rel), &n2);
		cr_assert(c1 && c2 && n1 == n2 && !memcmp(c1, c2, n1), "%s differs", rel);
		cr_assert_not(strstr(c2, VAL_SSN), "%s", rel);
	}
	struct cbuf ls;
	char *argv[] = {"find", o2, "-name", ".phiscan-*", NULL};
	cr_assert_eq(run(argv, NULL, &ls, &err), 0);
	cr_assert_eq(ls.n, 0, "temporary files left: %s", ls.p);
	cr_assert_eq(again, 2, "an existing output was replaced: %s", out.p);
	cr_assert_eq(count_type(&out, "unreadable"), 2, "%s", out.p);
}

/* Where the file system has no O_TMPFILE (the shim plays one), the manifest's
 * entries go to tmpfile() and are copied beside it at the end: the same manifest,
 * no temporary file left. */
Test(cli, strip_writes_the_manifest_where_o_tmpfile_is_missing)
{
	const char *shim = getenv("KILLSHIM");
	if (!shim || access(shim, R_OK))
		cr_skip_test("KILLSHIM is set by make test");
	case_file("a/x.txt", "SSN " VAL_SSN " one\n");
	case_file("b/y.txt", clean_text);
	char *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "an example key of more than sixteen bytes");
	char *o1 = cli_fmt("%s/o1", cli_root), *o2 = cli_fmt("%s/o2", cli_root);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-q", "--key", key, cli_case, "-o", o1, NULL), 1,
	             "%s", err.p);
	char *saved_asan = shim_on(shim, "KILLSHIM_NO_TMPFILE");
	int rc = cli(&out, &err, NULL, "strip", "-q", "--key", key, cli_case, "-o", o2, NULL);
	shim_off("KILLSHIM_NO_TMPFILE", saved_asan);
	cr_assert_eq(rc, 1, "%s", err.p);
	char *m1 = cli_read(cli_fmt("%s/phiscan-manifest.json", o1), NULL);
	char *m2 = cli_read(cli_fmt("%s/phiscan-manifest.json", o2), NULL);
	cr_assert(m1 && m2);
	/* the same but for where the copies went */
	char *from = cli_fmt("\"%s/", o2), *to = cli_fmt("\"%s/", o1);
	for (char *p; (p = strstr(m2, from));) {
		memmove(p + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
		memcpy(p, to, strlen(to));
	}
	cr_assert_str_eq(m2, m1);
	cr_assert(strstr(m1, "\"input_hmac_sha256\""), "%s", m1);
	struct cbuf ls;
	char *argv[] = {"find", o2, "-name", "*.tmp-*", NULL};
	cr_assert_eq(run(argv, NULL, &ls, &err), 0);
	cr_assert_eq(ls.n, 0, "temporary files left: %s", ls.p);
}

/* A file with more findings than a worker holds (4096) is streamed to the report
 * in walk order: every finding arrives, the first file's before the second's, and
 * the report is the same with one thread or two. */
Test(cli, files_with_many_findings_are_streamed_in_walk_order)
{
	const size_t lines = 9000;
	char *body = malloc(lines * 24 + 1), *p = body;
	cr_assert_not_null(body);
	for (size_t i = 0; i < lines; i++)
		p += snprintf(p, 25, "SSN " VAL_SSN " ok\n");
	case_file("a/many.txt", body);
	case_file("b/many.txt", body);
	free(body);
	struct cbuf o1, e1, o2, e2;
	cr_assert_eq(cli(&o1, &e1, NULL, "scan", "--format", "json", "-j", "1", cli_case, NULL), 1,
	             "%s", e1.p);
	cr_assert_eq(cli(&o2, &e2, NULL, "scan", "--format", "json", "-j", "2", cli_case, NULL), 1,
	             "%s", e2.p);
	cr_assert_eq(count_type(&o1, "finding"), 2 * lines);
	cr_assert(has(&o1, "\"findings\":18000"), "summary does not count every finding");
	/* every a/ finding comes before the first b/ finding */
	const char *first_b = strstr(o1.p, "/b/many.txt");
	const char *last_a = NULL;
	for (const char *q = o1.p; (q = strstr(q, "/a/many.txt")); q++)
		last_a = q;
	cr_assert(first_b && last_a && last_a < first_b, "findings of two files interleaved");
	o1.n = strlen(o1.p);
	o2.n = strlen(o2.p);
	/* identical apart from the timing field */
	char *s1 = strstr(o1.p, "\"seconds\":"), *s2 = strstr(o2.p, "\"seconds\":");
	cr_assert(s1 && s2);
	cr_assert_eq(s1 - o1.p, s2 - o2.p, "reports differ between -j 1 and -j 2");
	cr_assert(memcmp(o1.p, o2.p, (size_t)(s1 - o1.p)) == 0, "reports differ between -j 1 and -j 2");
}

/* The build compiled every pattern of rules/default.yaml and baked its SHA-256 into
 * phiscan, which then compiles those rules on first use.  A byte-identical copy as
 * the default pack must find exactly what an edited copy (a comment added: another
 * hash, every rule compiled at start) finds, and a copy with a broken pattern must
 * still fail at start with the file, line and rule. */
Test(cli, the_default_pack_the_build_checked_finds_what_an_edited_copy_finds_and_a_broken_copy_fails_at_start)
{
	size_t n;
	char *real = cli_read("rules/default.yaml", &n);
	cr_assert_not_null(real, "run from the repository root");
	char *pack = cli_fmt("%s/rules/default.yaml", cli_data);
	cli_write(pack, real, n);
	cli_write_str(cli_fmt("%s/intake.txt", cli_case),
	              "Patient Name: Maria Lopez\nDOB: 03/14/1961\nSSN: 482-31-7765\n"
	              "Email: maria.lopez@example.com\nPhone: (555) 201-7788\n"
	              "Dear Mr. Jonathan Whitfield, your crown is ready.\n");
	struct cbuf out1, err1, out2, err2, out3, err3;
	cr_assert_eq(cli(&out1, &err1, NULL, "scan", "--no-progress", "--format", "json", cli_case,
	                 NULL), 1, "%s", err1.p);
	cr_assert_geq(count_type(&out1, "finding"), 5, "%s", out1.p);
	cli_write_str(pack, cli_fmt("%s\n# edited: another SHA-256\n", real));
	cr_assert_eq(cli(&out2, &err2, NULL, "scan", "--no-progress", "--format", "json", cli_case,
	                 NULL), 1, "%s", err2.p);
	cr_assert_str_eq(without_seconds(&out1), without_seconds(&out2));

	/* the first pattern of the pack loses a closing parenthesis */
	const char *p = strstr(real, "pattern: '");
	cr_assert_not_null(p);
	p += strlen("pattern: '");
	cli_write_str(pack, cli_fmt("%.*s(%s", (int)(p - real), real, p));
	cr_assert_eq(cli(&out3, &err3, NULL, "scan", "--no-progress", cli_case, NULL), 2);
	cr_assert(has(&err3, "default.yaml:") && has(&err3, ": bad pattern"), "%s", err3.p);
	cr_assert(has(&err3, "missing closing parenthesis"), "%s", err3.p);
}

/* libcrypto is not linked: formats/sha256.c dlopens it for the first hash that needs
 * it.  On a CPU with SHA-NI a strip, whose manifest hashes every input and output,
 * never loads it (ld.so's own list of the files it maps, LD_DEBUG=files), and
 * --version still reports the OpenSSL that would serve. */
Test(cli, a_strip_on_a_cpu_with_sha_ni_never_loads_libcrypto_and_version_still_reports_it)
{
	case_file("a.txt", phi_text);
	char *out_dir = cli_fmt("%s/out", cli_root);
	struct cbuf out, err, vout, verr;
	cr_assert_eq(setenv("LD_DEBUG", "files", 1), 0);
	int rc = cli(&out, &err, NULL, "strip", "--no-progress", cli_case, "-o", out_dir, NULL);
	cr_assert_eq(unsetenv("LD_DEBUG"), 0);
	cr_assert_eq(rc, 1, "rc %d\n%s", rc, err.p);
	cr_assert(has(&err, "file=libc.so.6"), "LD_DEBUG=files showed nothing:\n%s", err.p);
	char *manifest = cli_read(cli_fmt("%s/phiscan-manifest.json", out_dir), NULL);
	cr_assert_not_null(manifest);
	cr_assert_not_null(strstr(manifest, "sha256"), "%s", manifest);
	if (phi_sha256_has_shani())
		cr_assert_not(has(&err, "libcrypto"), "libcrypto was loaded:\n%s", err.p);
	cr_assert_eq(cli(&vout, &verr, NULL, "--version", NULL), 0);
	cr_assert(has(&vout, "OpenSSL"), "%s", vout.p);
	cr_assert_not(has(&vout, "not loadable"), "%s", vout.p);
}
