/* test_report.c - reporters (human, JSON Lines, SARIF), the summary, JSON escaping.
 *
 * Results are built by hand and rendered into an open_memstream; assertions are on
 * the exact output.  The SARIF log is validated against the OASIS 2.1.0 schema in
 * ../shared/sarif/ with tests/check_sarif.py when python3-jsonschema is present. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../scanner/report.h"

#define SCHEMA_PATH "../shared/sarif/sarif-schema-2.1.0.json"
#define SECRET_1 "Jane Roe"
#define SECRET_2 "555-867-5309"

static struct phi_finding mkf(const char *rule, const char *cls, enum phi_severity sev,
                              double conf, const char *field, uint64_t start, uint64_t end,
                              uint64_t line, uint64_t col, const char *excerpt,
                              const char *value)
{
	struct phi_finding f = {0};
	f.rule = strdup(rule);
	f.cls = cls;
	f.severity = sev;
	f.confidence = conf;
	f.field = field ? strdup(field) : NULL;
	f.start = start;
	f.end = end;
	f.line = line;
	f.col = col;
	f.excerpt = excerpt ? strdup(excerpt) : NULL;
	f.value = value ? strdup(value) : NULL;
	return f;
}

static struct phi_result *mkres(const char *path, const char *format, enum phi_status st,
                                const char *reason, uint64_t size)
{
	struct phi_result *r = calloc(1, sizeof *r);
	cr_assert_not_null(r);
	r->path = strdup(path);
	r->format = format;
	r->status = st;
	r->reason = reason ? strdup(reason) : NULL;
	r->size = size;
	return r;
}

static void add(struct phi_result *r, struct phi_finding f)
{
	cr_assert_eq(phi_result_add(r, &f), 0);
}

/* A small case: a text file with two findings, a DICOM structured finding, a
 * binary finding with only an offset, a skipped and an unreadable file. */
struct fixture {
	struct phi_result *r[5];
	size_t n;
	struct phi_summary sum;
};

static void fixture_init(struct fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	struct phi_result *t = mkres("case/notes.txt", "text", PHI_SCANNED, NULL, 1000);
	add(t, mkf("person-name", "name", PHI_SEV_PATIENT, 0.95, NULL, 120, 128, 3, 14,
	           "Patient: [NAME] was seen", SECRET_1));
	add(t, mkf("phone-us", "phone", PHI_SEV_PROVIDER, 0.6, NULL, 200, 212, 5, 1,
	           "call [PHONE] for", SECRET_2));
	struct phi_result *d = mkres("scan.dcm", "dicom", PHI_SCANNED, NULL, 5000);
	add(d, mkf("dicom-annex-e", "name", PHI_SEV_PATIENT, 1.0, "(0010,0010)", PHI_NO_OFFSET,
	           PHI_NO_OFFSET, 0, 0, "[NAME]", SECRET_1));
	struct phi_result *b = mkres("img/x.png", "png", PHI_SCANNED, NULL, 300);
	add(b, mkf("date-iso", "date", PHI_SEV_QUASI, 0.5, NULL, 1234, 1244, 0, 0,
	           "taken [DATE]", NULL));
	struct phi_result *s = mkres("case/readme.xyz", "unknown", PHI_SKIPPED,
	                             "no format claims it", 10);
	struct phi_result *u = mkres("case/broken.png", "png", PHI_UNREADABLE,
	                             "truncated IHDR chunk at offset 8", 20);
	fx->r[0] = t;
	fx->r[1] = d;
	fx->r[2] = b;
	fx->r[3] = s;
	fx->r[4] = u;
	fx->n = 5;
	for (size_t i = 0; i < fx->n; i++)
		cr_assert_eq(phi_summary_add(&fx->sum, fx->r[i]), 0);
	fx->sum.seconds = 1.5;
	fx->sum.exit_code = 2;
}

static void fixture_free(struct fixture *fx)
{
	for (size_t i = 0; i < fx->n; i++)
		phi_result_free(fx->r[i]);
	phi_summary_clear(&fx->sum);
}

/* Run a reporter over results and return what it wrote (caller frees). */
static char *render(const struct phi_report_opts *o, struct phi_result *const *res, size_t n,
                    const struct phi_summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct phi_reporter *rep;

	cr_assert_not_null(fp);
	cr_assert_eq(phi_reporter_new(&rep, fp, o), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(phi_reporter_file(rep, res[i]), 0);
	cr_assert_eq(phi_reporter_end(rep, s), 0);
	phi_reporter_free(rep);
	fclose(fp);
	return buf;
}

static char *render_fixture(enum phi_report_format format, bool show_values, bool quiet,
                            bool color)
{
	struct fixture fx;
	struct phi_report_opts o = {.format = format,
	                            .show_values = show_values,
	                            .quiet = quiet,
	                            .color = color,
	                            .tool_version = "0.1.0"};
	fixture_init(&fx);
	char *out = render(&o, fx.r, fx.n, &fx.sum);
	fixture_free(&fx);
	return out;
}

static char *json_str(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	phi_json_string(fp, s);
	fclose(fp);
	return buf;
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/phiscan-report-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	size_t n = strlen(text);
	cr_assert_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	return path;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int run(const char *cmd)
{
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- human ---------------------------------------------------------------- */

Test(report, human_prints_one_exact_line_per_finding_skip_error_and_a_summary)
{
	char *out = render_fixture(PHI_REPORT_HUMAN, false, false, false);
	const char *want =
		"case/notes.txt:3:14: patient name person-name (conf 0.95) Patient: [NAME] was seen\n"
		"case/notes.txt:5:1: provider phone phone-us (conf 0.60) call [PHONE] for\n"
		"scan.dcm: (0010,0010): patient name dicom-annex-e (conf 1.00) [NAME]\n"
		"img/x.png@1234: quasi date date-iso (conf 0.50) taken [DATE]\n"
		"case/readme.xyz: skipped: no format claims it\n"
		"case/broken.png: error: truncated IHDR chunk at offset 8\n"
		"5 files: 3 scanned, 1 skipped, 1 unreadable; 4 findings (patient 2, provider 1, "
		"quasi 1) in 1.50 s\n"
		"  dicom: scanned 1, skipped 0, unreadable 0, findings 1\n"
		"  png: scanned 1, skipped 0, unreadable 1, findings 1\n"
		"  text: scanned 1, skipped 0, unreadable 0, findings 2\n"
		"  unknown: scanned 0, skipped 1, unreadable 0, findings 0\n";
	cr_assert_str_eq(out, want);
	free(out);
}

Test(report, human_quiet_prints_only_errors_on_the_error_stream)
{
	/* --quiet: nothing on the report stream; errors alone on the error stream, so
	 * a script sees only what went wrong and the exit code */
	char *ebuf = NULL;
	size_t elen = 0;
	FILE *efp = open_memstream(&ebuf, &elen);
	struct fixture fx;
	struct phi_report_opts o = {.format = PHI_REPORT_HUMAN, .quiet = true, .err_fp = efp,
	                            .tool_version = "0.1.0"};
	cr_assert_not_null(efp);
	fixture_init(&fx);
	char *out = render(&o, fx.r, fx.n, &fx.sum);
	fixture_free(&fx);
	fclose(efp);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(ebuf, "case/broken.png: error: truncated IHDR chunk at offset 8\n");
	free(out);
	free(ebuf);
}

Test(report, human_colour_marks_path_bold_and_severity_by_colour)
{
	char *out = render_fixture(PHI_REPORT_HUMAN, false, false, true);
	cr_assert_not_null(strstr(out, "\033[1mcase/notes.txt\033[0m:3:14: \033[31mpatient\033[0m name"));
	cr_assert_not_null(strstr(out, "\033[33mprovider\033[0m phone"));
	cr_assert_not_null(strstr(out, "\033[36mquasi\033[0m date"));
	cr_assert_not_null(strstr(out, "\033[1mcase/broken.png\033[0m: \033[1;31merror\033[0m: "));
	free(out);
}

Test(report, human_never_prints_values_unless_asked)
{
	char *out = render_fixture(PHI_REPORT_HUMAN, false, false, false);
	cr_assert_null(strstr(out, SECRET_1));
	cr_assert_null(strstr(out, SECRET_2));
	free(out);
	out = render_fixture(PHI_REPORT_HUMAN, true, false, false);
	cr_assert_not_null(strstr(out, "(conf 0.95) Patient: [NAME] was seen value=\"Jane Roe\"\n"));
	cr_assert_not_null(strstr(out, "value=\"" SECRET_2 "\""));
	free(out);
}

Test(report, human_escapes_control_characters_and_invalid_bytes_in_paths)
{
	struct phi_result *r = mkres("evil\033[2J\n\xff.txt", "text", PHI_SKIPPED,
	                             "bad\rreason", 0);
	struct phi_summary s = {0};
	struct phi_report_opts o = {.format = PHI_REPORT_HUMAN};
	char *out = render(&o, &r, 1, &s);
	cr_assert(starts_with(out, "evil\\x1B[2J\\x0A\\xFF.txt: skipped: bad\\x0Dreason\n"),
	          "got: %s", out);
	cr_assert_null(strchr(out, '\033'));
	free(out);
	phi_result_free(r);
}

Test(report, human_shows_the_replacement_in_strip_mode)
{
	struct phi_result *r = mkres("a.txt", "text", PHI_SCANNED, NULL, 10);
	struct phi_finding f = mkf("email", "email", PHI_SEV_PATIENT, 0.9, NULL, 0, 5, 1, 1,
	                           "[EMAIL]", NULL);
	f.replacement = strdup("[EMAIL]");
	add(r, f);
	struct phi_summary s = {0};
	struct phi_report_opts o = {.format = PHI_REPORT_HUMAN, .quiet = false};
	char *out = render(&o, &r, 1, &s);
	cr_assert(starts_with(out, "a.txt:1:1: patient email email (conf 0.90) [EMAIL] "
	                           "replacement=\"[EMAIL]\"\n"),
	          "got: %s", out);
	free(out);
	phi_result_free(r);
}

/* ---- summary ---------------------------------------------------------------- */

Test(report, summary_counts_and_keeps_formats_sorted_by_name)
{
	struct fixture fx;
	fixture_init(&fx);
	struct phi_summary *s = &fx.sum;
	cr_assert_eq(s->files, 5);
	cr_assert_eq(s->scanned, 3);
	cr_assert_eq(s->skipped, 1);
	cr_assert_eq(s->unreadable, 1);
	cr_assert_eq(s->findings, 4);
	cr_assert_eq(s->by_severity[PHI_SEV_PATIENT], 2);
	cr_assert_eq(s->by_severity[PHI_SEV_PROVIDER], 1);
	cr_assert_eq(s->by_severity[PHI_SEV_QUASI], 1);
	cr_assert_eq(s->bytes, 6300); /* scanned files only */
	cr_assert_eq(s->nformats, 4);
	const char *want[] = {"dicom", "png", "text", "unknown"};
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(s->formats[i].format, want[i]);
	cr_assert_eq(s->formats[1].scanned, 1);
	cr_assert_eq(s->formats[1].unreadable, 1);
	cr_assert_eq(s->formats[2].findings, 2);
	fixture_free(&fx);
	cr_assert_null(fx.sum.formats);
	cr_assert_eq(fx.sum.nformats, 0);
}

Test(report, summary_line_matches_the_counters)
{
	struct phi_summary s = {0};
	s.files = 7;
	s.scanned = 4;
	s.skipped = 2;
	s.unreadable = 1;
	s.findings = 3;
	s.by_severity[PHI_SEV_PATIENT] = 1;
	s.by_severity[PHI_SEV_PROVIDER] = 1;
	s.by_severity[PHI_SEV_QUASI] = 1;
	s.seconds = 0.125;
	struct phi_report_opts o = {.format = PHI_REPORT_HUMAN};
	char *out = render(&o, NULL, 0, &s);
	cr_assert_str_eq(out, "7 files: 4 scanned, 2 skipped, 1 unreadable; 3 findings "
	                      "(patient 1, provider 1, quasi 1) in 0.13 s\n");
	free(out);
}

/* ---- JSON ------------------------------------------------------------------- */

Test(report, json_string_escapes_quotes_controls_and_invalid_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain", "\"plain\""},
		{"a\"b\\c", "\"a\\\"b\\\\c\""},
		{"l1\nl2\tx\r\b\f", "\"l1\\nl2\\tx\\r\\b\\f\""},
		{"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
		{"\xff", "\"\\ufffd\""},
		{"a\xffz", "\"a\\ufffdz\""},
		{"\xc0\xaf", "\"\\ufffd\\ufffd\""},             /* overlong '/' */
		{"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},  /* overlong, 3 bytes */
		{"\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* overlong, 4 */
		{"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},  /* surrogate U+D800 */
		{"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* U+110000 */
		{"\xf5\x80", "\"\\ufffd\\ufffd\""},
		{"\xe2\x82" "A", "\"\\ufffdA\""},               /* truncated: one U+FFFD */
		{"\xf0\x9f\x98", "\"\\ufffd\""},                /* truncated at the end */
		{"\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf", "\"\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf\""},
		{"\xc2\x85", "\"\\u0085\""},                    /* C1 control NEL */
		{"\xe2\x80\xa8", "\"\\u2028\""},
		{"", "\"\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = json_str(cases[i].in);
		cr_assert_str_eq(got, cases[i].out, "case %zu", i);
		free(got);
	}
	char *got = json_str(NULL);
	cr_assert_str_eq(got, "null");
	free(got);
}

/* A long string is escaped in pieces (report.c, json_mem); a piece never ends inside
 * a character, so the result is the one-piece escape of the whole string: characters
 * of 2, 3 and 4 bytes across every piece boundary, invalid and stray bytes, and
 * random mixtures. */
Test(report, long_json_strings_escape_as_one_piece_whatever_falls_on_a_boundary)
{
	static const char *const chars[] = {"x", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	                                    "\x80", "\xff", "\xe2\x82", "\"", "\x01", "\xe2\x80\xa8"};
	const size_t nchars = sizeof chars / sizeof *chars;
	char *s = malloc(8192), *want = malloc(6 * 8192 + 3);
	cr_assert(s && want);
	for (int t = 0; t < 400; t++) {
		size_t n = 0;
		/* up to ~3 pieces: a run of x to put the next character near a boundary */
		size_t lead = t < 200 ? 330 + (size_t)(t % 12) : (size_t)randombytes_uniform(700);
		memset(s, 'x', lead);
		n = lead;
		for (unsigned k = randombytes_uniform(40) + 1; k-- && n < 8000;) {
			const char *c = chars[t < 200 ? (size_t)(t / 12) % nchars : randombytes_uniform((uint32_t)nchars)];
			if (t >= 300 && randombytes_uniform(3) == 0)
				c = "\x80"; /* runs of stray continuation bytes */
			memcpy(s + n, c, strlen(c));
			n += strlen(c);
		}
		s[n] = 0;
		want[0] = '"';
		size_t w = 1 + phi_json_escape(s, n, want + 1);
		want[w++] = '"';
		want[w] = 0;
		cr_assert_leq(w, 6 * n + 2);
		char *got = json_str(s);
		cr_assert_str_eq(got, want, "case %d (%zu bytes)", t, n);
		free(got);
	}
	/* and the pieces are there: a 2,000-byte value is more than five of them */
	memset(s, 'a', 2000);
	memcpy(s + 339, "\xc3\xa9", 2);
	s[2000] = 0;
	char *got = json_str(s);
	cr_assert_eq(strlen(got), 2002);
	cr_assert(!memcmp(got + 340, "\xc3\xa9", 2), "a character cut at a piece boundary");
	free(got);
	free(s);
	free(want);
}

Test(report, json_writes_exact_finding_skip_error_and_summary_lines)
{
	char *out = render_fixture(PHI_REPORT_JSON, false, false, false);
	const char *want =
		"{\"type\":\"finding\",\"path\":\"case/notes.txt\",\"format\":\"text\","
		"\"rule\":\"person-name\",\"class\":\"name\",\"severity\":\"patient\","
		"\"confidence\":0.95,\"field\":null,\"start\":120,\"end\":128,\"line\":3,"
		"\"column\":14,\"excerpt\":\"Patient: [NAME] was seen\"}\n"
		"{\"type\":\"finding\",\"path\":\"case/notes.txt\",\"format\":\"text\","
		"\"rule\":\"phone-us\",\"class\":\"phone\",\"severity\":\"provider\","
		"\"confidence\":0.60,\"field\":null,\"start\":200,\"end\":212,\"line\":5,"
		"\"column\":1,\"excerpt\":\"call [PHONE] for\"}\n"
		"{\"type\":\"finding\",\"path\":\"scan.dcm\",\"format\":\"dicom\","
		"\"rule\":\"dicom-annex-e\",\"class\":\"name\",\"severity\":\"patient\","
		"\"confidence\":1.00,\"field\":\"(0010,0010)\",\"start\":null,\"end\":null,"
		"\"line\":null,\"column\":null,\"excerpt\":\"[NAME]\"}\n"
		"{\"type\":\"finding\",\"path\":\"img/x.png\",\"format\":\"png\","
		"\"rule\":\"date-iso\",\"class\":\"date\",\"severity\":\"quasi\","
		"\"confidence\":0.50,\"field\":null,\"start\":1234,\"end\":1244,"
		"\"line\":null,\"column\":null,\"excerpt\":\"taken [DATE]\"}\n"
		"{\"type\":\"skipped\",\"path\":\"case/readme.xyz\",\"format\":\"unknown\","
		"\"reason\":\"no format claims it\"}\n"
		"{\"type\":\"unreadable\",\"path\":\"case/broken.png\",\"format\":\"png\","
		"\"reason\":\"truncated IHDR chunk at offset 8\"}\n"
		"{\"type\":\"summary\",\"files\":5,\"scanned\":3,\"skipped\":1,\"unreadable\":1,"
		"\"findings\":4,\"by_severity\":{\"patient\":2,\"provider\":1,\"quasi\":1},"
		"\"formats\":{\"dicom\":{\"scanned\":1,\"skipped\":0,\"unreadable\":0,\"findings\":1},"
		"\"png\":{\"scanned\":1,\"skipped\":0,\"unreadable\":1,\"findings\":1},"
		"\"text\":{\"scanned\":1,\"skipped\":0,\"unreadable\":0,\"findings\":2},"
		"\"unknown\":{\"scanned\":0,\"skipped\":1,\"unreadable\":0,\"findings\":0}},"
		"\"bytes\":6300,\"seconds\":1.500,\"exit_code\":2}\n";
	cr_assert_str_eq(out, want);
	free(out);
}

Test(report, json_values_only_with_show_values)
{
	char *out = render_fixture(PHI_REPORT_JSON, false, false, false);
	cr_assert_null(strstr(out, SECRET_1));
	cr_assert_null(strstr(out, SECRET_2));
	cr_assert_null(strstr(out, "\"value\""));
	free(out);
	out = render_fixture(PHI_REPORT_JSON, true, false, false);
	cr_assert_not_null(strstr(out, "\"excerpt\":\"Patient: [NAME] was seen\",\"value\":\"Jane Roe\"}\n"));
	cr_assert_not_null(strstr(out, "\"value\":\"" SECRET_2 "\""));
	free(out);
}

Test(report, json_escapes_excerpts_and_non_utf8_paths_and_stays_parseable)
{
	struct phi_result *r = mkres("odd/\xff\"name\".txt", "text", PHI_SCANNED, NULL, 10);
	struct phi_finding f = mkf("email", "email", PHI_SEV_PATIENT, 0.904, NULL, 0, 5, 1, 1,
	                           "say \"hi\"\nto [EMAIL]\xfe", NULL);
	f.replacement = strdup("[EMAIL]");
	add(r, f);
	struct phi_summary s = {0};
	cr_assert_eq(phi_summary_add(&s, r), 0);
	struct phi_report_opts o = {.format = PHI_REPORT_JSON};
	char *out = render(&o, &r, 1, &s);
	cr_assert_not_null(strstr(out, "\"path\":\"odd/\\ufffd\\\"name\\\".txt\""), "got: %s", out);
	cr_assert_not_null(strstr(out, "\"confidence\":0.90,"));
	cr_assert_not_null(strstr(out, "\"excerpt\":\"say \\\"hi\\\"\\nto [EMAIL]\\ufffd\","
	                               "\"replacement\":\"[EMAIL]\"}\n"));
	/* exactly two lines: the finding and the summary */
	size_t lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 2);

	if (run("python3 -c 'import json' >/dev/null 2>&1") == 0) {
		char *tmp = write_temp(out);
		char cmd[512];
		snprintf(cmd, sizeof cmd,
		         "python3 -c 'import json,sys\n"
		         "for l in open(sys.argv[1], encoding=\"utf-8\"): json.loads(l)' %s", tmp);
		cr_assert_eq(run(cmd), 0, "JSON Lines output does not parse: %s", out);
		unlink(tmp);
		free(tmp);
	}
	free(out);
	phi_result_free(r);
	phi_summary_clear(&s);
}

/* ---- SARIF ------------------------------------------------------------------ */

static struct phi_pack *test_pack(void)
{
	static struct phi_rule rules[1];
	static struct phi_pack pack;
	memset(rules, 0, sizeof rules);
	rules[0].id = (char *)"person-name";
	rules[0].description = (char *)"Person name near a \"patient\" cue";
	rules[0].cls = phi_class_find("name");
	rules[0].severity = PHI_SEV_PATIENT;
	pack.rules = rules;
	pack.nrules = 1;
	return &pack;
}

static char *render_sarif(bool show_values, int exit_code)
{
	struct fixture fx;
	struct phi_report_opts o = {.format = PHI_REPORT_SARIF,
	                            .show_values = show_values,
	                            .tool_version = "0.1.0",
	                            .pack = test_pack()};
	fixture_init(&fx);
	fx.sum.exit_code = exit_code;
	char *out = render(&o, fx.r, fx.n, &fx.sum);
	fixture_free(&fx);
	return out;
}

Test(report, sarif_has_the_required_keys_levels_and_sorted_rules)
{
	char *out = render_sarif(false, 2);
	cr_assert(starts_with(out, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
	                           "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":"
	                           "{\"name\":\"phiscan\",\"version\":\"0.1.0\",\"rules\":["),
	          "got: %.300s", out);
	cr_assert_null(strstr(out, "informationUri"));
	/* rules sorted by id: date-iso, dicom-annex-e, person-name, phone-us */
	const char *a = strstr(out, "{\"id\":\"date-iso\"");
	const char *b = strstr(out, "{\"id\":\"dicom-annex-e\"");
	const char *c = strstr(out, "{\"id\":\"person-name\"");
	const char *d = strstr(out, "{\"id\":\"phone-us\"");
	cr_assert(a && b && c && d && a < b && b < c && c < d);
	/* known rule: description from the pack; unknown: its id */
	cr_assert_not_null(strstr(out,
		"{\"id\":\"person-name\",\"name\":\"person-name\",\"shortDescription\":"
		"{\"text\":\"Person name near a \\\"patient\\\" cue\"},\"defaultConfiguration\":"
		"{\"level\":\"error\"},\"properties\":{\"class\":\"name\",\"severity\":\"patient\","
		"\"tags\":[\"phi\",\"name\"]}}"));
	cr_assert_not_null(strstr(out,
		"{\"id\":\"phone-us\",\"name\":\"phone-us\",\"shortDescription\":{\"text\":\"phone-us\"},"
		"\"defaultConfiguration\":{\"level\":\"warning\"}"));
	cr_assert_not_null(strstr(out, "{\"id\":\"date-iso\",\"name\":\"date-iso\",\"shortDescription\":"
	                               "{\"text\":\"date-iso\"},\"defaultConfiguration\":{\"level\":\"note\"}"));
	cr_assert_not_null(strstr(out, "\"columnKind\":\"unicodeCodePoints\""));

	/* results: index into the sorted rules, level, message, region */
	cr_assert_not_null(strstr(out,
		"{\"ruleId\":\"person-name\",\"ruleIndex\":2,\"level\":\"error\",\"message\":"
		"{\"text\":\"name identifier (patient) found by rule person-name: Patient: [NAME] was seen\"},"
		"\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"case/notes.txt\"},"
		"\"region\":{\"startLine\":3,\"startColumn\":14,\"byteOffset\":120,\"byteLength\":8}}}],"
		"\"partialFingerprints\":{\"phiscan/v1\":\""));
	cr_assert_not_null(strstr(out, "{\"ruleId\":\"phone-us\",\"ruleIndex\":3,\"level\":\"warning\""));
	/* structured: no region, a logical location */
	cr_assert_not_null(strstr(out,
		"{\"ruleId\":\"dicom-annex-e\",\"ruleIndex\":1,\"level\":\"error\",\"message\":"
		"{\"text\":\"name identifier (patient) found by rule dicom-annex-e: [NAME]\"},"
		"\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"scan.dcm\"}},"
		"\"logicalLocations\":[{\"name\":\"(0010,0010)\"}]}]"));
	/* offset only: byteOffset without a line */
	cr_assert_not_null(strstr(out, "\"region\":{\"byteOffset\":1234,\"byteLength\":10}"));
	/* the invocation fails closed on exit 2 and lists unreadable and skipped files */
	cr_assert_not_null(strstr(out, "\"invocations\":[{\"executionSuccessful\":false,\"exitCode\":2,"));
	cr_assert_not_null(strstr(out,
		"{\"level\":\"error\",\"message\":{\"text\":\"case/broken.png: truncated IHDR chunk at offset 8\"},"
		"\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"case/broken.png\"}}}]}"));
	cr_assert_not_null(strstr(out,
		"{\"level\":\"note\",\"message\":{\"text\":\"case/readme.xyz: skipped: no format claims it\"}"));
	cr_assert_eq(out[strlen(out) - 1], '\n');
	free(out);

	out = render_sarif(false, 1);
	cr_assert_not_null(strstr(out, "\"executionSuccessful\":true,\"exitCode\":1"));
	free(out);
}

Test(report, sarif_fingerprint_hashes_path_rule_and_offset_never_the_value)
{
	cr_assert_geq(sodium_init(), 0);
	char *out = render_sarif(false, 1);
	static const char in[] = "case/notes.txt\0person-name\0" "120\0";
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	crypto_hash_sha256(h, (const unsigned char *)in, sizeof in - 1);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	char want[200];
	snprintf(want, sizeof want, "\"partialFingerprints\":{\"phiscan/v1\":\"%s\"}", hex);
	cr_assert_not_null(strstr(out, want), "want %s in %s", want, out);
	free(out);
}

Test(report, sarif_values_only_with_show_values)
{
	char *out = render_sarif(false, 1);
	cr_assert_null(strstr(out, SECRET_1));
	cr_assert_null(strstr(out, SECRET_2));
	free(out);
	out = render_sarif(true, 1);
	cr_assert_not_null(strstr(out, "\"properties\":{\"confidence\":0.95,\"value\":\"Jane Roe\"}"));
	free(out);
}

Test(report, sarif_uri_percent_encodes_paths)
{
	struct phi_result *r[3];
	r[0] = mkres("./case/my notes#1%.txt", "text", PHI_SCANNED, NULL, 1);
	r[1] = mkres("/abs/dir/\xff:x.txt", "text", PHI_SCANNED, NULL, 1);
	r[2] = mkres("c:colon.txt", "text", PHI_SCANNED, NULL, 1);
	for (int i = 0; i < 3; i++)
		add(r[i], mkf("email", "email", PHI_SEV_PATIENT, 0.9, NULL, 0, 3, 1, 1, "[EMAIL]",
		              NULL));
	struct phi_summary s = {0};
	struct phi_report_opts o = {.format = PHI_REPORT_SARIF};
	char *out = render(&o, r, 3, &s);
	cr_assert_not_null(strstr(out, "{\"uri\":\"case/my%20notes%231%25.txt\"}"), "got %s", out);
	cr_assert_not_null(strstr(out, "{\"uri\":\"file:///abs/dir/%FF%3Ax.txt\"}"));
	cr_assert_not_null(strstr(out, "{\"uri\":\"c%3Acolon.txt\"}"));
	/* no tool_version given: driver.version omitted */
	cr_assert_not_null(strstr(out, "\"driver\":{\"name\":\"phiscan\",\"rules\":["));
	free(out);
	for (int i = 0; i < 3; i++)
		phi_result_free(r[i]);
}

static bool can_validate(void)
{
	return access(SCHEMA_PATH, R_OK) == 0 && access("tests/check_sarif.py", R_OK) == 0 &&
	       run("python3 -c 'import jsonschema' >/dev/null 2>&1") == 0;
}

static int validate_log(const char *sarif, bool quiet)
{
	char *tmp = write_temp(sarif);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "python3 tests/check_sarif.py %s %s%s", SCHEMA_PATH, tmp,
	         quiet ? " 2>/dev/null" : "");
	int rc = run(cmd);
	unlink(tmp);
	free(tmp);
	return rc;
}

Test(report, sarif_validates_against_the_oasis_schema)
{
	if (!can_validate())
		cr_skip_test("SARIF schema check needs " SCHEMA_PATH " (run from the repo root) and "
		             "python3-jsonschema (apt-get install python3-jsonschema)");
	/* the checker must reject a broken log, or a pass means nothing */
	cr_assert_eq(validate_log("{\"version\":\"2.1.0\",\"runs\":[{\"results\":[]}]}", true), 1);

	char *out = render_sarif(true, 2);
	cr_assert_eq(validate_log(out, false), 0, "SARIF does not validate:\n%s", out);
	free(out);

	/* an empty run and a run with odd paths validate too */
	struct phi_summary s = {0};
	struct phi_report_opts o = {.format = PHI_REPORT_SARIF, .tool_version = "0.1.0"};
	out = render(&o, NULL, 0, &s);
	cr_assert_not_null(strstr(out, "\"rules\":[]"));
	cr_assert_not_null(strstr(out, "\"results\":[]"));
	cr_assert_eq(validate_log(out, false), 0, "empty SARIF does not validate:\n%s", out);
	free(out);

	struct phi_result *r = mkres("odd \xff/\"q\".txt", "text", PHI_UNREADABLE,
	                             "bad \xfe byte", 1);
	add(r, mkf("x", NULL, PHI_SEV_QUASI, 0.1, "tEXt:Comment", PHI_NO_OFFSET, PHI_NO_OFFSET,
	           2, 0, NULL, NULL));
	out = render(&o, &r, 1, &s);
	cr_assert_not_null(strstr(out, "\"region\":{\"startLine\":2}"));
	cr_assert_eq(validate_log(out, false), 0, "SARIF with odd input does not validate:\n%s", out);
	free(out);
	phi_result_free(r);
}
