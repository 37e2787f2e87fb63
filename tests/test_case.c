/* test_case.c - structured case files (formats/xml.c, json.c, html.c, docio.c):
 * detection, the fields each format hands the rules, strip, bad input and fuzz
 * regressions.
 *
 * Two kinds of test.  In process: a format's scan() runs over a memory file with
 * a recording sink, so fields (where, value, offset map, flags, class) are
 * checked as data, and strip runs with a sink that replaces values whole, so the
 * exact bytes written can be compared with the expected document.  End to end:
 * the real binary ($PHISCAN) with the real rule pack scans and strips the
 * generated case files (corpus/gen_case.c through $GENCASE): every planted value
 * is found, every byte outside the findings is copied, the copy re-scans clean,
 * numeric exocad data is byte-identical and UTF-16 stays UTF-16.  Planted values
 * are compared here, never printed.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../formats/format.h"
#include "../formats/html.h"
#include "../formats/json.h"
#include "../formats/xml.h"
#include "cli.h"

static void case_setup(void)
{
	cli_setup();
	/* the real pack and the property list, not the small test pack */
	cli_copy("rules/default.yaml", cli_fmt("%s/rules/default.yaml", cli_data));
	cli_copy("rules/3shape-properties.txt", cli_fmt("%s/rules/3shape-properties.txt", cli_data));
}

TestSuite(casefile, .init = case_setup, .fini = cli_teardown, .timeout = 120);
TestSuite(casefmt);

/* ---- in process: a recording sink ---- */

struct rec_field {
	char where[256];
	char value[512]; /* text[report_from..report_to) */
	uint64_t start, end; /* file offsets of the value */
	int kind;
	char cls[16];
	unsigned flags;
};

struct rec {
	struct rec_field f[256];
	size_t n;
	const char *repl; /* strip: every value replaced whole by this, or NULL */
	int values_only;  /* ... only structured values */
	struct phi_edit e;
};

static int rec_field(void *sink, const struct phi_field *f, struct phi_edits *ed)
{
	struct rec *r = sink;
	static struct rec_field spare;
	struct rec_field *x = r->n < 256 ? &r->f[r->n++] : &spare;
	size_t a = f->report_from, b = f->report_to < f->len ? f->report_to : f->len;
	if (f->kind == PHI_FIELD_VALUE)
		a = 0, b = f->len;
	snprintf(x->where, sizeof x->where, "%s", f->where ? f->where : "");
	snprintf(x->value, sizeof x->value, "%.*s", (int)(b - a), f->text + a);
	x->start = f->offset + (f->map ? f->map[a] : a);
	x->end = f->offset + (f->map ? f->map[b] : b);
	x->kind = (int)f->kind;
	snprintf(x->cls, sizeof x->cls, "%s", f->value_class ? f->value_class : "");
	x->flags = f->flags;
	if (ed && r->repl && (!r->values_only || f->kind == PHI_FIELD_VALUE)) {
		r->e = (struct phi_edit){a, b, r->repl, strlen(r->repl)};
		ed->v = &r->e;
		ed->n = 1;
	}
	return 0;
}

static int rec_record(void *sink, const char *name, const char *value)
{
	(void)sink, (void)name, (void)value;
	return 0;
}

static const struct phi_sink_ops rec_ops = {rec_field, rec_record};

static int memfile(const void *p, size_t n)
{
	int fd = memfd_create("case", 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Run fmt over data; in strip mode (r->repl set) return the copy (malloc'd, *out_n). */
static int run_fmt(const struct phi_format *fmt, const void *data, size_t n, struct rec *r,
                   unsigned char **out, size_t *out_n, struct phi_error *err)
{
	static unsigned char head[PHI_HEAD_SIZE], buf[1 << 16];
	struct phi_limits lim;
	struct phi_strip_opts so = {0};
	phi_limits_default(&lim);
	int in = memfile(data, n), ofd = out ? memfd_create("out", 0) : -1;
	size_t hn = n < sizeof head ? n : sizeof head;
	memcpy(head, data, hn);
	lseek(in, (off_t)hn, SEEK_SET);
	struct phi_fctx ctx = {
		.path = "mem", .fd = in, .size = n, .head = head, .head_len = hn, .out_fd = ofd,
		.limits = &lim, .err = err, .sink_ops = &rec_ops, .sink = r, .buf = buf,
		.buf_cap = sizeof buf, .sopts = &so,
	};
	int rc = fmt->scan(&ctx);
	if (out) {
		off_t sz = lseek(ofd, 0, SEEK_END);
		*out = malloc((size_t)sz + 1);
		cr_assert_not_null(*out);
		cr_assert_eq(pread(ofd, *out, (size_t)sz, 0), sz);
		(*out)[sz] = 0;
		*out_n = (size_t)sz;
		close(ofd);
	}
	close(in);
	return rc;
}

static const struct rec_field *field_at(const struct rec *r, const char *where)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].where, where))
			return &r->f[i];
	return NULL;
}

static const char *doc(const char *s)
{
	return s;
}

Test(casefmt, formats_are_told_by_content_before_plain_text)
{
	struct {
		const char *head, *name, *want;
	} t[] = {
		{"<?xml version=\"1.0\"?>\n<Treatment/>", "x.bin", "xml"},
		{"<Treatment><Patient/></Treatment>", "case.dentalProject", "xml"},
		{"<ConstructionInfo/>", "a.constructionInfo", "xml"},
		{"{\n  \"PatientName\": \"x\"}", "case", "json"},
		{"[{\"a\": 1}]", NULL, "json"},
		{"<!DOCTYPE html>\n<html><body>x</body></html>", "form", "html"},
		{"<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"/>", NULL, "html"},
		{"<table><tr><td>x</td></tr></table>", "PrintableOrderForm.html", "html"},
		{"<urgent> call the patient back", "note.txt", "text"},
		{"[note] no JSON here", "note.txt", "text"},
		{"<?xml version=\"1.0\"?><HPS version=\"1.1\"></HPS>", "scan.dcm", "hps"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const struct phi_format *f =
			phi_format_detect((const unsigned char *)t[i].head, strlen(t[i].head), t[i].name);
		cr_assert_not_null(f, "%s", t[i].head);
		cr_expect_str_eq(f->name, t[i].want, "%s", t[i].head);
	}
	/* UTF-16LE with a BOM, and without one ("<" then NUL) */
	const unsigned char u16[] = {0xFF, 0xFE, '<', 0, '?', 0, 'x', 0, 'm', 0, 'l', 0, ' ', 0, '?', 0, '>', 0,
	                             '<', 0, 'a', 0, '/', 0, '>', 0};
	cr_expect_str_eq(phi_format_detect(u16, sizeof u16, "o.3ox")->name, "xml");
	cr_expect_str_eq(phi_format_detect(u16 + 2, sizeof u16 - 2, "o.3ox")->name, "xml");
}

Test(casefmt, xml_text_attributes_entities_and_cdata_map_to_their_bytes)
{
	const char *x = doc("<?xml version=\"1.0\"?>\n"
	                    "<Treatment>\n"
	                    "  <Patient><PatientName>Sm&amp;ith</PatientName>"
	                    "<PatientFirstName><![CDATA[Jo<hn]]></PatientFirstName></Patient>\n"
	                    "  <Notes>Pt &#74;ane Roe</Notes>\n"
	                    "  <Teeth><Tooth><Number>11</Number></Tooth></Teeth>\n"
	                    "  <Item label=\"a &lt; b\"/>\n"
	                    "  <!-- technician Bob -->\n"
	                    "</Treatment>\n");
	struct rec r = {0};
	struct phi_error err = {0};
	cr_assert_eq(run_fmt(&phi_format_xml, x, strlen(x), &r, NULL, NULL, &err), 0, "%s", err.msg);
	const struct rec_field *f = field_at(&r, "Treatment/Patient/PatientName");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "Sm&ith");
	cr_expect_eq(f->kind, PHI_FIELD_VALUE);
	cr_expect_str_eq(f->cls, "name");
	const char *at = strstr(x, "Sm&amp;ith");
	cr_expect_eq(f->start, (uint64_t)(at - x));
	cr_expect_eq(f->end, (uint64_t)(at - x + 10), "the entity maps whole: %lu", (unsigned long)f->end);
	f = field_at(&r, "Treatment/Patient/PatientFirstName");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "Jo<hn");
	at = strstr(x, "Jo<hn");
	cr_expect_eq(f->start, (uint64_t)(at - x), "CDATA content maps 1:1");
	f = field_at(&r, "Treatment/Notes");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "Pt Jane Roe");
	cr_expect_eq(f->kind, PHI_FIELD_TEXT);
	f = field_at(&r, "Treatment/Teeth/Tooth/Number");
	cr_assert_not_null(f);
	cr_expect_eq(f->kind, PHI_FIELD_TEXT, "tooth numbers are left to the rules");
	f = field_at(&r, "Treatment/Item@label");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "a < b");
	f = field_at(&r, "Treatment/#comment");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, " technician Bob ");
}

Test(casefmt, xml_strip_keeps_markup_and_escapes_replacements)
{
	const char *x = doc("<r a=\"x &amp; y\" b='1'>Jo&amp;hn <![CDATA[Sm]]>ith<!--c--></r>");
	struct rec r = {.repl = "<X&\"Y\">"};
	struct phi_error err = {0};
	unsigned char *out;
	size_t n;
	cr_assert_eq(run_fmt(&phi_format_xml, x, strlen(x), &r, &out, &n, &err), 0, "%s", err.msg);
	cr_expect_str_eq((char *)out,
	                 "<r a=\"&lt;X&amp;&quot;Y&quot;&gt;\" b='&lt;X&amp;&quot;Y&quot;&gt;'>"
	                 "&lt;X&amp;\"Y\"&gt;<![CDATA[]]><!--<X&\"Y\">--></r>");
	free(out);
}

Test(casefmt, xml_utf16_values_decode_and_strip_writes_utf16)
{
	const char *x = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<DentalContainer><Object>"
	                "<Property name=\"Patient_LastName\" value=\"M\xc3\xbcller\"/>"
	                "<Property name=\"displayName\" value=\"Crown 11\"/></Object></DentalContainer>\n";
	size_t xl = strlen(x);
	unsigned char *u = malloc(2 + 2 * xl);
	size_t un = 2;
	u[0] = 0xFF, u[1] = 0xFE;
	for (size_t i = 0; i < xl; i++) {
		unsigned cp = (unsigned char)x[i];
		if (cp == 0xC3) /* the one two-byte character: u-umlaut */
			cp = 0xFC, i++;
		u[un++] = (unsigned char)cp;
		u[un++] = 0;
	}
	struct phi_error err = {0};
	phi_xml_clear_properties();
	cr_assert_eq(phi_xml_load_properties("rules/3shape-properties.txt", 0, &err), 0, "%s", err.msg);
	struct rec r = {.repl = "[NAME]", .values_only = 1};
	unsigned char *out;
	size_t n;
	cr_assert_eq(run_fmt(&phi_format_xml, u, un, &r, &out, &n, &err), 0, "%s", err.msg);
	const struct rec_field *f = field_at(&r, "DentalContainer/Object/Property[Patient_LastName]@value");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "M\xc3\xbcller");
	cr_expect_eq(f->kind, PHI_FIELD_VALUE);
	cr_expect_str_eq(f->cls, "name");
	cr_expect_eq(f->end - f->start, 12, "6 UTF-16 code units");
	cr_expect_eq(u[f->start], 'M');
	f = field_at(&r, "DentalContainer/Object/Property[displayName]@value");
	cr_assert_not_null(f);
	cr_expect_eq(f->kind, PHI_FIELD_TEXT);
	/* the copy: UTF-16LE with its BOM, the value replaced, every other byte kept */
	cr_assert_eq(n % 2, 0);
	cr_expect(out[0] == 0xFF && out[1] == 0xFE);
	const unsigned char want[] = {'[', 0, 'N', 0, 'A', 0, 'M', 0, 'E', 0, ']', 0};
	size_t vs = 0;
	{
		const struct rec_field *g = field_at(&r, "DentalContainer/Object/Property[Patient_LastName]@value");
		vs = g->start;
	}
	cr_expect_eq(memcmp(out, u, vs), 0);
	cr_expect_eq(memcmp(out + vs, want, sizeof want), 0);
	cr_expect_eq(n, un - 12 + sizeof want);
	free(out);
	free(u);
	phi_xml_clear_properties();
}

Test(casefmt, xml_file_name_elements_carry_the_path_flag)
{
	const char *x = doc("<ConstructionInfo><ProjectName>Roe_Jane</ProjectName><Teeth><Tooth>"
	                    "<ToothScanFileName>a.stl</ToothScanFileName>"
	                    "<FilenameImplantGeometry>C:\\lib\\x.stl</FilenameImplantGeometry>"
	                    "<Number>11</Number></Tooth></Teeth>"
	                    "<ScanFile path=\"Scans\\raw.dcm\"/></ConstructionInfo>");
	struct rec r = {0};
	struct phi_error err = {0};
	cr_assert_eq(run_fmt(&phi_format_xml, x, strlen(x), &r, NULL, NULL, &err), 0, "%s", err.msg);
	cr_expect(field_at(&r, "ConstructionInfo/Teeth/Tooth/ToothScanFileName")->flags & PHI_FF_PATH);
	cr_expect(field_at(&r, "ConstructionInfo/Teeth/Tooth/FilenameImplantGeometry")->flags & PHI_FF_PATH);
	cr_expect(field_at(&r, "ConstructionInfo/ScanFile@path")->flags & PHI_FF_PATH);
	cr_expect_not(field_at(&r, "ConstructionInfo/Teeth/Tooth/Number")->flags & PHI_FF_PATH);
	const struct rec_field *f = field_at(&r, "ConstructionInfo/ProjectName");
	cr_expect_eq(f->kind, PHI_FIELD_VALUE);
	cr_expect_str_eq(f->cls, "name");
}

Test(casefmt, json_values_decode_escapes_and_name_their_key_path)
{
	const char *j = doc("{\"PatientName\": \"Jos\\u00e9 \\\"Pepe\\\" Roe\",\n"
	                    " \"Patient\": {\"FirstName\": \"Jos\\u00e9\", \"ExternalId\": 4711},\n"
	                    " \"Actors\": [{\"Name\": \"Dr A\", \"Email\": \"a\\/b@x.org\"}],\n"
	                    " \"Comments\": [\"call \\ud83d\\ude00 back\"], \"ok\": true, \"n\": null}");
	struct rec r = {.repl = "a\"b"};
	struct phi_error err = {0};
	unsigned char *out;
	size_t n;
	cr_assert_eq(run_fmt(&phi_format_json, j, strlen(j), &r, &out, &n, &err), 0, "%s", err.msg);
	const struct rec_field *f = field_at(&r, "PatientName");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "Jos\xc3\xa9 \"Pepe\" Roe");
	cr_expect_eq(f->kind, PHI_FIELD_VALUE);
	cr_expect_eq(f->start, (uint64_t)(strstr(j, "Jos") - j));
	cr_expect_eq(f->end, (uint64_t)(strstr(j, "Roe\"") - j + 3));
	cr_expect_str_eq(field_at(&r, "Patient.FirstName")->cls, "name");
	cr_expect_str_eq(field_at(&r, "Actors[0].Email")->value, "a/b@x.org");
	cr_expect_str_eq(field_at(&r, "Actors[0].Email")->cls, "email");
	cr_expect_str_eq(field_at(&r, "Comments[0]")->value, "call \xf0\x9f\x98\x80 back");
	cr_expect_eq(field_at(&r, "Comments[0]")->kind, PHI_FIELD_TEXT);
	cr_expect_str_eq(field_at(&r, "Patient.ExternalId")->value, "4711");
	/* strip: strings re-escaped, the number became a string, the rest kept */
	cr_expect_str_eq((char *)out, "{\"PatientName\": \"a\\\"b\",\n"
	                              " \"Patient\": {\"FirstName\": \"a\\\"b\", \"ExternalId\": \"a\\\"b\"},\n"
	                              " \"Actors\": [{\"Name\": \"a\\\"b\", \"Email\": \"a\\\"b\"}],\n"
	                              " \"Comments\": [\"a\\\"b\"], \"ok\": true, \"n\": null}");
	free(out);
}

Test(casefmt, html_text_is_tag_stripped_and_strip_never_touches_a_tag)
{
	const char *h = doc("<!DOCTYPE html>\n<html><head><title>Order</title>"
	                    "<script>var p = \"x\";</script></head>\n"
	                    "<body><table><tr><td>Patient</td><td>Ja<b>ne</b> R&eacute;e</td></tr></table>\n"
	                    "<img alt=\"photo of Jane\" src=\"a.png\"><!-- by Bob --></body></html>\n");
	struct rec r = {0};
	struct phi_error err = {0};
	cr_assert_eq(run_fmt(&phi_format_html, h, strlen(h), &r, NULL, NULL, &err), 0, "%s", err.msg);
	const struct rec_field *f = field_at(&r, "text");
	cr_assert_not_null(f);
	cr_expect(strstr(f->value, "Patient Jane R\xc3\xa9" "e") != NULL, "%s", f->value);
	cr_expect_str_eq(field_at(&r, "img@alt")->value, "photo of Jane");
	cr_expect_str_eq(field_at(&r, "script")->value, "var p = \"x\";");
	cr_expect_str_eq(field_at(&r, "#comment")->value, " by Bob ");

	/* replace the whole text: every tag stays, the text runs between them go */
	struct rec s = {.repl = "[T]"};
	unsigned char *out;
	size_t n;
	cr_assert_eq(run_fmt(&phi_format_html, h, strlen(h), &s, &out, &n, &err), 0, "%s", err.msg);
	/* the replacement lands in the first text run (the newline after the DOCTYPE) */
	cr_expect(strstr((char *)out, "<!DOCTYPE html>[T]<html><head><title></title>") != NULL, "%s", out);
	cr_expect(strstr((char *)out, "<script>[T]</script>") != NULL, "%s", out);
	cr_expect(strstr((char *)out, "<td></td><td><b></b></td>") != NULL, "%s", out);
	cr_expect(strstr((char *)out, "<img alt=\"[T]\" src=\"[T]\">") != NULL, "%s", out);
	free(out);
}

Test(casefmt, bad_documents_fail_with_a_reason)
{
	struct {
		const struct phi_format *f;
		const char *doc, *why;
	} t[] = {
		{&phi_format_xml, "<?xml version=\"1.0\"?><Treatment><Patient>", "not well-formed"},
		{&phi_format_xml,
		 "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><l>&b;</l>",
		 "declares entities"},
		{&phi_format_xml, "<!DOCTYPE x SYSTEM \"http://example.invalid/x.dtd\"><x>&ext;</x>", "entity"},
		{&phi_format_json, "{\"a\": \"unterminated", "unterminated string"},
		{&phi_format_json, "{\"a\": 1,}", "expected a key"},
		{&phi_format_json, "{\"a\": 1} {", "text after the value"},
		{&phi_format_json, "{\"a\": \"\\x\"}", "bad escape"},
		{&phi_format_html, "<html><body><p title=\"cut", "truncated"},
		{&phi_format_html, "<html><body><!-- cut", "truncated"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rec r = {0};
		struct phi_error err = {0};
		int rc = run_fmt(t[i].f, t[i].doc, strlen(t[i].doc), &r, NULL, NULL, &err);
		cr_expect_lt(rc, 0, "%s", t[i].doc);
		cr_expect(strstr(err.msg, t[i].why) != NULL, "%s: %s", t[i].doc, err.msg);
		if (t[i].f != &phi_format_html)
			cr_expect_eq(r.n, 0, "%s: no field from a file that fails", t[i].doc);
	}
	/* nesting 1,000 deep */
	char *deep = malloc(8200);
	size_t k = 0;
	for (int i = 0; i < 1000; i++)
		deep[k++] = '[';
	deep[k] = 0;
	struct rec r = {0};
	struct phi_error err = {0};
	cr_expect_eq(run_fmt(&phi_format_json, deep, k, &r, NULL, NULL, &err), PHI_ELIMIT);
	cr_expect(strstr(err.msg, "nested deeper") != NULL, "%s", err.msg);
	k = 0;
	for (int i = 0; i < 1000; i++)
		k += (size_t)sprintf(deep + k, "<a>");
	cr_expect_eq(run_fmt(&phi_format_xml, deep, k, &r, NULL, NULL, &err), PHI_ELIMIT);
	cr_expect(strstr(err.msg, "nested deeper") != NULL, "%s", err.msg);
	free(deep);
	/* UTF-16: odd length, unpaired surrogate */
	const unsigned char odd[] = {0xFF, 0xFE, '<', 0, 'a', 0, '/', 0, '>', 0, 0};
	cr_expect_eq(run_fmt(&phi_format_xml, odd, sizeof odd, &r, NULL, NULL, &err), PHI_EFORMAT);
	cr_expect(strstr(err.msg, "odd byte count") != NULL, "%s", err.msg);
	const unsigned char sur[] = {0xFF, 0xFE, '<', 0, 'a', 0, '>', 0, 0x00, 0xD8, '<', 0, '/', 0, 'a', 0, '>', 0};
	cr_expect_eq(run_fmt(&phi_format_xml, sur, sizeof sur, &r, NULL, NULL, &err), PHI_EFORMAT);
	cr_expect(strstr(err.msg, "surrogate") != NULL, "%s", err.msg);
}

/* ---- end to end on the generated case files ---- */

static const char *const case_files[] = {
	"exocad/case.dentalProject",  "exocad/case.constructionInfo", "3shape/order.xml",
	"3shape/backup/order.xml",    "3shape/order.3ox",             "communicate/case.json",
	"communicate/PrintableOrderForm.html",
};
#define NCASE (sizeof case_files / sizeof case_files[0])

static char *corpus;

static void need_corpus(void)
{
	const char *gen = getenv("GENCASE");
	if (!gen || !*gen || access(gen, X_OK) != 0)
		cr_skip_test("GENCASE (build/gencase) not built yet");
	corpus = cli_fmt("%s/corpus", cli_root);
	char *argv[] = {(char *)gen, "cases", corpus, "--cases", "2", "--seed", "6", NULL};
	struct cbuf out, err;
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "gencase failed: %s", err.p);
	/* only the structured case files stay: one scan of them is the subject */
	for (int c = 1; c <= 2; c++) {
		char *in = cli_fmt("%s/case-%03d", corpus, c), *keep = cli_fmt("%s/keep-%03d", corpus, c);
		for (size_t i = 0; i < NCASE; i++)
			cli_copy(cli_fmt("%s/%s", in, case_files[i]), cli_fmt("%s/%s", keep, case_files[i]));
		cli_rm_rf(in);
		cr_assert_eq(rename(keep, in), 0);
	}
}

struct span {
	unsigned long s, e;
	char cls[16];
};

/* Truth rows of one file (default mode only unless sh). */
static size_t truth_of(const char *rel, struct span *v, size_t cap, int sh)
{
	size_t tn, n = 0;
	char *truth = cli_read(cli_fmt("%s/truth.tsv", corpus), &tn);
	cr_assert_not_null(truth);
	char *want = cli_fmt("%s\t", rel);
	for (char *line = truth; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char mode[16] = "";
		if (!strncmp(line, want, strlen(want)) && n < cap) {
			cr_assert_eq(sscanf(line + strlen(want), "%lu\t%lu\t%15s\t%15s", &v[n].s, &v[n].e, v[n].cls,
			                    mode),
			             4);
			if (sh || strcmp(mode, "safe_harbor"))
				n++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

static int cmp_span(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	return a->s < b->s ? -1 : a->s > b->s;
}

/* Findings of one file from a JSON report, by start offset. */
static size_t findings_of(const struct cbuf *rep, const char *path, struct span *v, size_t cap)
{
	size_t nl, n = 0;
	char **lines = lines_of(rep, &nl);
	for (size_t i = 0; i < nl; i++) {
		if (!is_type(lines[i], "finding"))
			continue;
		char *p = json_str(lines[i], "path");
		if (!p || strcmp(p, path) || n >= cap)
			continue;
		unsigned long long s, e;
		cr_assert(json_num(lines[i], "start", &s) && json_num(lines[i], "end", &e));
		v[n].s = (unsigned long)s;
		v[n].e = (unsigned long)e;
		snprintf(v[n].cls, sizeof v[n].cls, "%s", json_str(lines[i], "class"));
		n++;
	}
	qsort(v, n, sizeof *v, cmp_span);
	return n;
}

Test(casefile, every_planted_value_and_class_is_found)
{
	need_corpus();
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", corpus, NULL);
	cr_assert_eq(rc, 1, "stderr: %s", err.p);
	const char *want_cls[] = {"name", "date", "mrn", "id", "email", "account"};
	int seen[6] = {0};
	size_t total = 0;
	for (int c = 1; c <= 2; c++)
		for (size_t i = 0; i < NCASE; i++) {
			char *rel = cli_fmt("case-%03d/%s", c, case_files[i]);
			struct span t[128], f[256];
			size_t nt = truth_of(rel, t, 128, 0), nf = findings_of(&out, cli_fmt("%s/%s", corpus, rel), f, 256);
			cr_expect_gt(nt, 0, "%s has planted values", rel);
			for (size_t a = 0; a < nt; a++) {
				int hit = 0;
				for (size_t b = 0; b < nf && !hit; b++)
					hit = f[b].s < t[a].e && t[a].s < f[b].e;
				cr_expect(hit, "%s: the %s at %lu-%lu is found", rel, t[a].cls, t[a].s, t[a].e);
				for (size_t k = 0; k < 6; k++)
					seen[k] |= hit && !strcmp(t[a].cls, want_cls[k]);
				total++;
			}
			for (size_t b = 0; b < nf; b++) {
				int hit = 0;
				for (size_t a = 0; a < nt && !hit; a++)
					hit = f[b].s < t[a].e && t[a].s < f[b].e;
				cr_expect(hit, "%s: the %s finding at %lu-%lu was planted", rel, f[b].cls, f[b].s, f[b].e);
			}
		}
	for (size_t k = 0; k < 6; k++)
		cr_expect(seen[k], "class %s found", want_cls[k]);
	cr_expect_gt(total, 60);
	/* where names the element, property or key */
	cr_expect(has(&out, "\"field\":\"Treatment/Patient/PatientName\""));
	cr_expect(has(&out, "Property[Patient_LastName]@value"));
	cr_expect(has(&out, "\"field\":\"Actors[1].Email\""));
	cr_expect(has(&out, "\"field\":\"Patient.ExternalId\""));
	cr_expect_not(has(&out, "\"unreadable\":1"));
}

/* The copy equals the original with each finding's bytes replaced by its class
 * tag ("[NAME]"), in the file's encoding: nothing else moved. */
Test(casefile, strip_rewrites_only_the_identifier_bytes_in_the_file_encoding)
{
	need_corpus();
	struct cbuf out, err, rep;
	char *clean = cli_fmt("%s/clean", cli_root);
	cr_assert_eq(cli(&rep, &err, NULL, "scan", "--format", "json", "--no-progress", corpus, NULL), 1);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", corpus, "-o", clean, NULL), 1,
	             "stderr: %s", err.p);
	for (int c = 1; c <= 2; c++)
		for (size_t i = 0; i < NCASE; i++) {
			char *rel = cli_fmt("case-%03d/%s", c, case_files[i]);
			size_t in_n, out_n;
			char *in = cli_read(cli_fmt("%s/%s", corpus, rel), &in_n);
			char *cp = cli_read(cli_fmt("%s/%s", clean, rel), &out_n);
			cr_assert_not_null(cp, "%s written", rel);
			int u16 = in_n >= 2 && (unsigned char)in[0] == 0xFF && (unsigned char)in[1] == 0xFE;
			struct span f[256];
			size_t nf = findings_of(&rep, cli_fmt("%s/%s", corpus, rel), f, 256);
			cr_assert_gt(nf, 0);
			char *want = cli_own(malloc(in_n * 2 + 4096));
			size_t wn = 0, pos = 0;
			for (size_t b = 0; b < nf; b++) {
				cr_assert_geq(f[b].s, pos, "%s: findings in order, not overlapping", rel);
				memcpy(want + wn, in + pos, f[b].s - pos);
				wn += f[b].s - pos;
				char tag[24];
				int tl = snprintf(tag, sizeof tag, "[%s]", f[b].cls);
				for (int k = 1; k < tl - 1; k++)
					tag[k] = (char)(tag[k] - 'a' + 'A');
				for (int k = 0; k < tl; k++) {
					want[wn++] = tag[k];
					if (u16)
						want[wn++] = 0;
				}
				pos = f[b].e;
			}
			memcpy(want + wn, in + pos, in_n - pos);
			wn += in_n - pos;
			cr_expect_eq(out_n, wn, "%s: %zu bytes, expected %zu", rel, out_n, wn);
			cr_expect(out_n == wn && !memcmp(cp, want, wn), "%s: bytes outside the findings differ", rel);
		}
	/* the copy scans clean */
	cr_expect_eq(cli(&out, &err, NULL, "scan", "--no-progress", clean, NULL), 0, "%s", out.p);
}

Test(casefile, strip_verify_reparses_every_written_xml_and_json_copy)
{
	need_corpus();
	struct cbuf out, err;
	char *clean = cli_fmt("%s/clean", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", "--verify", corpus, "-o", clean, NULL), 1,
	             "stderr: %s", err.p);
	size_t n;
	char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", clean), &n);
	cr_assert_not_null(man);
	size_t xv = 0, jv = 0;
	for (const char *p = man; (p = strstr(p, "\"xml_verified\"")); p++)
		xv++;
	for (const char *p = man; (p = strstr(p, "\"json_verified\"")); p++)
		jv++;
	cr_expect_eq(xv, 10, "every XML copy re-parsed (%zu)", xv);
	cr_expect_eq(jv, 2, "every JSON copy re-parsed (%zu)", jv);
}

/* Text between two markers, every occurrence, concatenated. */
static char *between_all(const char *p, const char *a, const char *b)
{
	size_t cap = strlen(p) + 1, n = 0;
	char *o = cli_own(malloc(cap));
	for (const char *s = strstr(p, a); s; s = strstr(s, a)) {
		const char *e = strstr(s, b);
		cr_assert_not_null(e);
		e += strlen(b);
		memcpy(o + n, s, (size_t)(e - s));
		n += (size_t)(e - s);
		s = e;
	}
	o[n] = 0;
	return o;
}

Test(casefile, exocad_numbers_and_utf16_orders_survive_strip)
{
	need_corpus();
	struct cbuf out, err;
	char *clean = cli_fmt("%s/clean", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", "--op", "mask", corpus, "-o", clean, NULL),
	             1, "stderr: %s", err.p);
	size_t a, b;
	char *in = cli_read(cli_fmt("%s/case-001/exocad/case.constructionInfo", corpus), &a);
	char *cp = cli_read(cli_fmt("%s/case-001/exocad/case.constructionInfo", clean), &b);
	cr_assert(in && cp);
	const char *keep[][2] = {{"<Margin>", "</Margin>"},
	                         {"<TransformationMatrix>", "</TransformationMatrix>"},
	                         {"<Axis>", "</Axis>"},
	                         {"<AxisMesial>", "</AxisMesial>"},
	                         {"<ZRotationMatrix>", "</ZRotationMatrix>"},
	                         {"<Number>", "</Number>"}};
	for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
		char *x = between_all(in, keep[k][0], keep[k][1]), *y = between_all(cp, keep[k][0], keep[k][1]);
		cr_expect_gt(strlen(x), 0, "%s present", keep[k][0]);
		cr_expect_str_eq(x, y, "%s byte-identical", keep[k][0]);
	}
	in = cli_read(cli_fmt("%s/case-001/exocad/case.dentalProject", corpus), &a);
	cp = cli_read(cli_fmt("%s/case-001/exocad/case.dentalProject", clean), &b);
	cr_expect_str_eq(between_all(in, "<Teeth>", "</Teeth>"), between_all(cp, "<Teeth>", "</Teeth>"));
	/* UTF-16 stays UTF-16LE with its BOM and holds none of the planted values */
	for (int k = 0; k < 2; k++) {
		const char *rel = k ? "3shape/order.3ox" : "3shape/order.xml";
		in = cli_read(cli_fmt("%s/case-001/%s", corpus, rel), &a);
		cp = cli_read(cli_fmt("%s/case-001/%s", clean, rel), &b);
		cr_assert(in && cp);
		cr_expect(b % 2 == 0 && (unsigned char)cp[0] == 0xFF && (unsigned char)cp[1] == 0xFE, "%s", rel);
		cr_expect_eq(a, b, "%s: mask keeps the length of ASCII and UTF-16 values", rel);
		struct span t[64];
		size_t nt = truth_of(cli_fmt("case-001/%s", rel), t, 64, 0);
		cr_assert_gt(nt, 0);
		for (size_t i = 0; i < nt; i++)
			cr_expect(memcmp(cp + t[i].s, in + t[i].s, t[i].e - t[i].s) != 0,
			          "%s: the value at %lu is changed", rel, t[i].s);
	}
	/* re-scan of the masked copy: nothing */
	cr_expect_eq(cli(&out, &err, NULL, "scan", "--no-progress", clean, NULL), 0, "%s", out.p);
}

Test(casefile, bad_case_files_exit_2_with_the_reason_and_write_nothing)
{
	const char *bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	                   "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\n"
	                   "<Treatment><Notes>&lol2;</Notes></Treatment>\n";
	cli_write_str(cli_fmt("%s/bomb.dentalProject", cli_case), bomb);
	cli_write_str(cli_fmt("%s/cut.dentalProject", cli_case),
	              "<?xml version=\"1.0\"?>\n<Treatment><Patient><PatientName>Roe</Pat");
	cli_write_str(cli_fmt("%s/cut.json", cli_case), "{\"PatientName\": \"Jane Ro");
	const unsigned char odd[] = {0xFF, 0xFE, '<', 0, 'a', 0, '/', 0, '>', 0, '\n'};
	cli_write(cli_fmt("%s/odd.3ox", cli_case), odd, sizeof odd);
	char *deep = cli_own(malloc(5000));
	size_t k = (size_t)sprintf(deep, "<?xml version=\"1.0\"?>");
	for (int i = 0; i < 1000; i++)
		k += (size_t)sprintf(deep + k, "<a>");
	cli_write(cli_fmt("%s/deep.xml", cli_case), deep, k);
	cli_write_str(cli_fmt("%s/ok.json", cli_case), "{\"PatientName\": \"Jane Roe\"}\n");

	struct cbuf out, err;
	char *clean = cli_fmt("%s/clean", cli_root);
	int rc = cli(&out, &err, NULL, "strip", "--no-progress", cli_case, "-o", clean, NULL);
	cr_expect_eq(rc, 2, "stderr: %s", err.p);
	struct {
		const char *name, *why;
	} t[] = {
		{"bomb.dentalProject", "declares entities"}, {"cut.dentalProject", "not well-formed XML"},
		{"cut.json", "unterminated string"},         {"odd.3ox", "odd byte count"},
		{"deep.xml", "nested deeper than"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *line = cli_fmt("%s", t[i].name);
		cr_expect(has(&err, line) || has(&out, line), "%s is named", t[i].name);
		cr_expect(has(&err, t[i].why) || has(&out, t[i].why), "%s: %s", t[i].name, t[i].why);
		cr_expect_null(cli_read(cli_fmt("%s/%s", clean, t[i].name), NULL), "no copy of %s", t[i].name);
	}
	/* one bad file never stops the batch: the good one is stripped */
	char *ok = cli_read(cli_fmt("%s/ok.json", clean), NULL);
	cr_assert_not_null(ok);
	cr_expect(strstr(ok, "Jane") == NULL, "%s", ok);
	cr_expect_not(has(&err, "lol2") || has(&out, "Jane Roe"), "no value printed");
}

Test(casefile, a_user_property_list_makes_a_property_an_identifier)
{
	cli_write_str(cli_fmt("%s/order.xml", cli_case),
	              "<?xml version=\"1.0\"?>\n<DentalContainer><Object>"
	              "<Property name=\"LabCustomField7\" value=\"Q-77\"/></Object></DentalContainer>\n");
	struct cbuf out, err;
	cr_expect_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", cli_case, NULL), 0,
	             "%s", out.p);
	char *list = cli_fmt("%s/props.txt", cli_root);
	cli_write_str(list, "# mine\nLabCustomField7  id  patient\n");
	setenv("PHISCAN_PROPERTIES", list, 1);
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--no-progress", cli_case, NULL);
	unsetenv("PHISCAN_PROPERTIES");
	cr_expect_eq(rc, 1, "%s %s", out.p, err.p);
	cr_expect(has(&out, "Property[LabCustomField7]@value"));
	cli_write_str(list, "LabCustomField7 id sometimes\n");
	setenv("PHISCAN_PROPERTIES", list, 1);
	rc = cli(&out, &err, NULL, "scan", "--no-progress", cli_case, NULL);
	unsetenv("PHISCAN_PROPERTIES");
	cr_expect_eq(rc, 2);
	cr_expect(has(&err, "props.txt:1"), "%s", err.p);
}

/* ---- fuzz regressions ---- */

Test(casefmt, fuzz_regressions_replay_without_crashing)
{
	const char *dirs[] = {"tests/fuzz/regress/fuzz_xml", "tests/fuzz/regress/fuzz_json",
	                      "tests/fuzz/regress/fuzz_html"};
	const struct phi_format *fmts[] = {&phi_format_xml, &phi_format_json, &phi_format_html};
	size_t ran = 0;
	for (size_t k = 0; k < 3; k++) {
		DIR *d = opendir(dirs[k]);
		if (!d)
			continue;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			char path[512];
			snprintf(path, sizeof path, "%s/%s", dirs[k], e->d_name);
			FILE *f = fopen(path, "rb");
			cr_assert_not_null(f, "%s", path);
			unsigned char *buf = malloc(1 << 20);
			size_t n = fread(buf, 1, 1 << 20, f);
			fclose(f);
			struct rec r = {.repl = "[X]"};
			struct phi_error err = {0};
			unsigned char *out = NULL;
			size_t on;
			(void)run_fmt(fmts[k], buf, n, &r, &out, &on, &err);
			free(out);
			free(buf);
			ran++;
		}
		closedir(d);
	}
	cr_expect_gt(ran, 0, "the regression inputs are replayed");
}
