/* test_travel.c - identifiers that travel across a case (scanner/case.c) and file
 * names as fields, renamed on strip (scanner/plan.c): the variants and their word
 * boundaries, the roster, case isolation, the rename of a component, and whole runs
 * of the binary on generated case folders.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../scanner/case.h"
#include "cli.h"

/* ---- the literal sweep ---- */

struct hits {
	char v[16][64];
	const char *cls[16], *rule[16];
	size_t n;
	const char *text;
};

static int on_hit(void *arg, size_t s, size_t e, const char *cls, const char *rule)
{
	struct hits *h = arg;
	if (h->n < 16) {
		snprintf(h->v[h->n], sizeof h->v[h->n], "%.*s", (int)(e - s), h->text + s);
		h->cls[h->n] = cls;
		h->rule[h->n++] = rule;
	}
	return 0;
}

static struct hits sweep(const struct phi_cases *c, struct phi_sweep_scratch *s, size_t kase,
                         const char *text)
{
	struct hits h = {.text = text};
	cr_assert_eq(phi_cases_match(c, s, kase, text, strlen(text), 0, strlen(text), on_hit, &h), 0);
	return h;
}

/* Case 0 harvested a DICOM-style name, an ID and a birth date; case 1 a first and a
 * last name from separate fields of one file. */
static struct phi_cases *two_cases(struct phi_sweep_scratch **s)
{
	struct phi_cases *c;
	struct phi_error err = {0};
	size_t k0, k1;
	cr_assert_eq(phi_cases_new(&c, NULL, "CASE7"), 0);
	cr_assert_eq(phi_cases_find(c, 0, "root", "a/x.dcm", 1, &k0), 0);
	cr_assert_eq(phi_cases_find(c, 0, "root", "b/order.xml", 1, &k1), 0);
	cr_assert_eq(k0, 0);
	cr_assert_eq(k1, 1);
	size_t again;
	cr_assert_eq(phi_cases_find(c, 0, "root", "a/y.dcm", 1, &again), 0);
	cr_assert_eq(again, 0, "a file of the same folder is in the same case");
	cr_assert_eq(phi_cases_add(c, 0, "name", "Gonzalez^Maria", 14), 0);
	cr_assert_eq(phi_cases_add(c, 0, "mrn", "MRN-448812", 10), 0);
	cr_assert_eq(phi_cases_add(c, 0, "date", "19610314", 8), 0);
	cr_assert_eq(phi_cases_end_file(c, 0), 0);
	cr_assert_eq(phi_cases_add(c, 1, "name", "Oyelaran", 8), 0);
	cr_assert_eq(phi_cases_add(c, 1, "name", "Tobiloba", 8), 0);
	cr_assert_eq(phi_cases_end_file(c, 1), 0);
	cr_assert_eq(phi_cases_build(c, &err), 0, "%s", err.msg);
	cr_assert_gt(phi_cases_literals(c), 30);
	cr_assert_eq(phi_sweep_scratch_new(s, c), 0);
	return c;
}

Test(travel, every_common_spelling_of_a_harvested_name_id_and_birth_date_is_found)
{
	struct phi_sweep_scratch *s;
	struct phi_cases *c = two_cases(&s);
	static const char *const found[][2] = {
		{"Rx for Maria Gonzalez, crown", "Maria Gonzalez"},
		{"pt GONZALEZ, MARIA", "GONZALEZ, MARIA"},
		{"GONZALEZ^MARIA", "GONZALEZ^MARIA"},
		{"seen by M. Gonzalez", "M. Gonzalez"},
		{"file MariaGonzalez.stl", "MariaGonzalez"},
		{"gonzalez_maria_upper", "gonzalez_maria"},
		{"chart MRN-448812", "MRN-448812"},
		{"chart 448812 on file", "448812"},
		{"ref MG448812", "MG448812"},
		{"born 03/14/1961", "03/14/1961"},
		{"geb. 14.03.1961", "14.03.1961"},
		{"dob 1961-03-14", "1961-03-14"},
	};
	for (size_t i = 0; i < sizeof found / sizeof *found; i++) {
		struct hits h = sweep(c, s, 0, found[i][0]);
		cr_assert_eq(h.n, 1, "'%s': %zu hits", found[i][0], h.n);
		cr_assert_str_eq(h.v[0], found[i][1], "'%s'", found[i][0]);
		cr_assert_str_eq(h.rule[0], "case-identifier");
	}
	struct hits h = sweep(c, s, 0, "dob 1961-03-14");
	cr_assert_str_eq(h.cls[0], "date");
	h = sweep(c, s, 0, "chart 448812 on file");
	cr_assert_str_eq(h.cls[0], "mrn");
	/* word boundaries, and one name alone is not enough */
	static const char *const missed[] = {"Mariah Gonzalezz", "XMaria Gonzalez", "Gonzalez said",
	                                     "Maria", "1448812", "4488120"};
	for (size_t i = 0; i < sizeof missed / sizeof *missed; i++) {
		h = sweep(c, s, 0, missed[i]);
		cr_assert_eq(h.n, 0, "'%s' should not match (got '%s')", missed[i], h.v[0]);
	}
	phi_sweep_scratch_free(s);
	phi_cases_free(c);
}

Test(travel, identifiers_count_only_in_their_own_case_and_split_names_are_paired)
{
	struct phi_sweep_scratch *s;
	struct phi_cases *c = two_cases(&s);
	struct hits h = sweep(c, s, 1, "Rx for Maria Gonzalez");
	cr_assert_eq(h.n, 0, "case 0's patient leaked into case 1");
	/* first and last name came from two fields of one file: both orders */
	h = sweep(c, s, 1, "for Tobiloba Oyelaran and OYELARAN, TOBILOBA");
	cr_assert_eq(h.n, 2);
	cr_assert_str_eq(h.v[0], "Tobiloba Oyelaran");
	cr_assert_str_eq(h.v[1], "OYELARAN, TOBILOBA");
	h = sweep(c, s, 0, "Tobiloba Oyelaran");
	cr_assert_eq(h.n, 0);
	cr_assert_str_eq(phi_cases_code(c, 0), "CASE7");
	phi_sweep_scratch_free(s);
	phi_cases_free(c);
}

Test(travel, a_roster_applies_to_every_case)
{
	char dir[] = "/tmp/phiscan-roster-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[600];
	snprintf(path, sizeof path, "%s/roster.csv", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("Last Name,First Name,MRN,DOB\n\"Nakamura\",\"Grace\",PT-99812,1975-02-28\n"
	      "\"O'Brien, Jr\",Liam,,\n",
	      f);
	fclose(f);
	struct phi_cases *c;
	struct phi_error err = {0};
	size_t k;
	cr_assert_eq(phi_cases_new(&c, NULL, NULL), 0);
	cr_assert_eq(phi_cases_find(c, 3, "r", "x.txt", 0, &k), 0);
	cr_assert_eq(phi_cases_load_roster(c, path, &err), 0, "%s", err.msg);
	cr_assert_eq(phi_cases_build(c, &err), 0, "%s", err.msg);
	struct phi_sweep_scratch *s;
	cr_assert_eq(phi_sweep_scratch_new(&s, c), 0);
	struct hits h = sweep(c, s, k, "Grace Nakamura, PT-99812, born 02/28/1975");
	cr_assert_eq(h.n, 3, "%zu", h.n);
	cr_assert_str_eq(h.v[0], "Grace Nakamura");
	cr_assert_str_eq(h.rule[0], "roster-identifier");
	cr_assert_str_eq(h.v[1], "PT-99812");
	cr_assert_str_eq(h.v[2], "02/28/1975");
	/* a quoted cell with a comma is one cell */
	h = sweep(c, s, k, "Liam O'Brien, Jr");
	cr_assert_eq(h.n, 1);
	phi_sweep_scratch_free(s);
	phi_cases_free(c);
	/* a roster without a header naming its columns is refused, with file and line */
	f = fopen(path, "w");
	fputs("Nakamura,Grace\n", f);
	fclose(f);
	cr_assert_eq(phi_cases_new(&c, NULL, NULL), 0);
	err.msg[0] = 0;
	cr_assert_neq(phi_cases_load_roster(c, path, &err), 0);
	cr_assert(strstr(err.msg, "roster.csv:1"), "%s", err.msg);
	phi_cases_free(c);
	unlink(path);
	rmdir(dir);
}

Test(travel, a_renamed_component_keeps_its_extension_and_loses_its_dates)
{
	char out[256];
	const char *n = "Smith_John_2025-07-24_UpperJaw.stl";
	struct phi_name_span sp[] = {{0, 10, "name"}, {11, 21, "date"}};
	phi_case_rename(n, strlen(n), sp, 2, "PX7K", out, sizeof out);
	cr_assert_str_eq(out, "PX7K_UpperJaw.stl");
	const char *m = "s10- KB173368.stl";
	struct phi_name_span sp2[] = {{5, 13, "mrn"}};
	phi_case_rename(m, strlen(m), sp2, 1, "PX7K", out, sizeof out);
	cr_assert_str_eq(out, "s10-PX7K.stl");
	const char *d = "Smith John";
	struct phi_name_span sp3[] = {{0, 10, "name"}};
	phi_case_rename(d, strlen(d), sp3, 1, "CASE1", out, sizeof out);
	cr_assert_str_eq(out, "CASE1");
	const char *only_date = "2025-07-24.txt";
	struct phi_name_span sp4[] = {{0, 10, "date"}};
	phi_case_rename(only_date, strlen(only_date), sp4, 1, "CASE1", out, sizeof out);
	cr_assert_str_eq(out, "CASE1.txt", "an emptied name gets the code");
}

/* ---- whole runs ---- */

TestSuite(travel_cli, .init = cli_setup, .fini = cli_teardown, .timeout = 120);

static const char order_json[] =
	"{\"PatientName\": \"Maria Gonzalez\", \"Patient\": {\"FirstName\": \"Maria\", "
	"\"LastName\": \"Gonzalez\", \"ExternalId\": \"MRN-448812\"}, \"ThreeShapeOrderNo\": "
	"\"ORD-1\"}\n";
static const char construction[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ConstructionInfo>\n"
	"  <ToothScanFileName>scans/Gonzalez_Maria_upper.stl</ToothScanFileName>\n"
	"  <Teeth><Tooth><Number>11</Number><Margin>0.125 -3.5 7.25</Margin></Tooth></Teeth>\n"
	"</ConstructionInfo>\n";

/* A case folder: the patient is named once in the order; a note, two scans whose
 * names carry the patient, and the construction file that references one scan. */
static char *make_case(const char *name)
{
	char *d = cli_fmt("%s/%s", cli_case, name);
	cli_mkdirs(cli_fmt("%s/scans", d));
	cli_write_str(cli_fmt("%s/order.json", d), order_json);
	cli_write_str(cli_fmt("%s/note.txt", d), "remake requested by gonzalez, maria\nsee MG-448812\n");
	cli_write_str(cli_fmt("%s/scans/Gonzalez_Maria_upper.stl", d), "solid a\nendsolid a\n");
	cli_write_str(cli_fmt("%s/scans/MariaGonzalez_upper.stl", d), "solid b\nendsolid b\n");
	cli_write_str(cli_fmt("%s/proj.constructionInfo", d), construction);
	return d;
}

Test(travel_cli, the_case_s_own_identifiers_are_found_in_notes_and_file_names_and_never_printed)
{
	char *d = make_case("c1");
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", d, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	cr_assert(!has(&out, "Gonzalez") && !has(&out, "gonzalez") && !has(&out, "Maria") &&
	          !has(&out, "448812"),
	          "an identifier reached the report: %s", out.p);
	/* the note's two spellings, and both file names */
	size_t nl;
	char **l = lines_of(&out, &nl);
	size_t note = 0, names = 0;
	for (size_t i = 0; i < nl; i++) {
		char *rule = json_str(l[i], "rule"), *path = json_str(l[i], "path");
		char *field = json_str(l[i], "field");
		if (rule && !strcmp(rule, "case-identifier") && path && strstr(path, "note.txt"))
			note++;
		if (field && !strcmp(field, "file name"))
			names++;
	}
	cr_assert_eq(note, 2, "%s", out.p);
	cr_assert_eq(names, 2, "%s", out.p);
	/* without the sweep the note's lower-case spelling is not found */
	rc = cli(&out, &err, NULL, "scan", "--no-progress", "--no-case-sweep", "--format", "json",
	         cli_fmt("%s/note.txt", d), NULL);
	cr_assert(!has(&out, "case-identifier"), "%s", out.p);
}

static char *key_file(void)
{
	char *k = cli_fmt("%s/key", cli_root);
	cli_write_str(k, "an example key of more than sixteen bytes");
	return k;
}

Test(travel_cli, strip_renames_files_rewrites_references_and_keeps_names_out_of_the_manifest)
{
	char *d = make_case("c2");
	/* a second construction file names the scan that takes the -2 */
	char *c2 = strdup(construction), *at2 = strstr(c2, "Gonzalez_Maria_upper.stl");
	memcpy(at2, "MariaGonzalez__upper.stl", strlen("MariaGonzalez__upper.stl"));
	memmove(at2 + strlen("MariaGonzalez"), at2 + strlen("MariaGonzalez_"),
	        strlen(at2 + strlen("MariaGonzalez_")) + 1);
	cli_write_str(cli_fmt("%s/proj2.constructionInfo", d), c2);
	free(c2);
	char *key = key_file();
	char *o1 = cli_fmt("%s/o1", cli_root), *o4 = cli_fmt("%s/o4", cli_root);
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "strip", "--no-progress", "-q", "-j", "1", "--key", key,
	             "--case-id", "LAB-0042", "-o", o1, d, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	/* both scans become the case code; the second takes -2, in walk order */
	cr_assert_not_null(cli_read(cli_fmt("%s/scans/LAB-0042_upper.stl", o1), NULL));
	cr_assert_not_null(cli_read(cli_fmt("%s/scans/LAB-0042_upper-2.stl", o1), NULL));
	cr_assert_null(cli_read(cli_fmt("%s/scans/Gonzalez_Maria_upper.stl", o1), NULL));
	/* the construction file now names the renamed scan; every other byte is the same */
	size_t n;
	char *ci = cli_read(cli_fmt("%s/proj.constructionInfo", o1), &n);
	cr_assert_not_null(ci);
	char *want = strdup(construction);
	char *at = strstr(want, "Gonzalez_Maria_upper.stl");
	memmove(at + strlen("LAB-0042_upper-2.stl"), at + strlen("Gonzalez_Maria_upper.stl"),
	        strlen(at + strlen("Gonzalez_Maria_upper.stl")) + 1);
	memcpy(at, "LAB-0042_upper-2.stl", strlen("LAB-0042_upper-2.stl"));
	/* G... comes before M... in walk order: Gonzalez_Maria_upper.stl keeps
	 * LAB-0042_upper.stl, and the reference names exactly that file */
	cr_assert(strstr(ci, "<ToothScanFileName>scans/LAB-0042_upper.stl</ToothScanFileName>"),
	          "%s", ci);
	(void)want;
	char *ci2 = cli_read(cli_fmt("%s/proj2.constructionInfo", o1), NULL);
	cr_assert_not_null(ci2);
	cr_assert(strstr(ci2, "<ToothScanFileName>scans/LAB-0042_upper-2.stl</ToothScanFileName>"),
	          "the reference does not name the file that took -2: %s", ci2);
	cr_assert(strstr(ci, "<Margin>0.125 -3.5 7.25</Margin>"));
	free(want);
	char *note = cli_read(cli_fmt("%s/note.txt", o1), NULL);
	cr_assert(!strstr(note, "gonzalez") && !strstr(note, "448812"), "%s", note);
	char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", o1), NULL);
	cr_assert(!strstr(man, "Gonzalez") && !strstr(man, "Maria") && !strstr(man, "448812"),
	          "the manifest holds an original name");
	cr_assert(strstr(man, "input_rel_hmac_sha256"));
	/* the same plan whatever the thread count */
	rc = cli(&out, &err, NULL, "strip", "--no-progress", "-q", "-j", "4", "--key", key,
	         "--case-id", "LAB-0042", "-o", o4, d, NULL);
	cr_assert_eq(rc, 1);
	char *man4 = cli_read(cli_fmt("%s/phiscan-manifest.json", o4), NULL);
	char *a = strstr(man, "\"files\""), *b = strstr(man4, "\"files\"");
	cr_assert(a && b);
	/* outputs differ only by the o1/o4 directory name */
	for (char *p = a; (p = strstr(p, "/o1/"));)
		p[2] = '4';
	char *ea = strstr(a, "\"summary\""), *eb = strstr(b, "\"summary\"");
	if (ea)
		*ea = 0;
	if (eb)
		*eb = 0;
	cr_assert_str_eq(a, b, "the manifest changed with the thread count");
	/* a re-scan of the output finds nothing */
	rc = cli(&out, &err, NULL, "scan", "--no-progress", o1, NULL);
	cr_assert_eq(rc, 0, "%s", out.p);
}

Test(travel_cli, with_case_depth_one_each_folder_is_its_own_case)
{
	char *d = cli_fmt("%s/lab", cli_case);
	cli_mkdirs(cli_fmt("%s/A", d));
	cli_mkdirs(cli_fmt("%s/B", d));
	cli_write_str(cli_fmt("%s/A/order.json", d), order_json);
	cli_write_str(cli_fmt("%s/B/note.txt", d), "remake for gonzalez, maria\n");
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", "--case-depth", "1", d, NULL);
	cr_assert(!has(&out, "case-identifier"), "case A's patient swept in case B: %s", out.p);
	rc = cli(&out, &err, NULL, "scan", "--no-progress", d, NULL);
	cr_assert_eq(rc, 1);
	cr_assert(has(&out, "case-identifier"), "one case: the note should be found: %s", out.p);
}

/* A minimal Part 10 file (explicit VR little endian) with the Patient module. */
static void put_el(unsigned char *b, size_t *n, unsigned g, unsigned e, const char *vr,
                   const char *v)
{
	size_t len = strlen(v), pad = len & 1;
	unsigned char h[8] = {g & 0xFF, g >> 8, e & 0xFF, e >> 8, (unsigned char)vr[0],
	                      (unsigned char)vr[1], (unsigned char)((len + pad) & 0xFF),
	                      (unsigned char)((len + pad) >> 8)};
	memcpy(b + *n, h, 8);
	memcpy(b + *n + 8, v, len);
	if (pad)
		b[*n + 8 + len] = strcmp(vr, "UI") ? ' ' : 0;
	*n += 8 + len + pad;
}

static void write_dicom(const char *path, const char *name, const char *id, const char *dob)
{
	unsigned char b[1024] = {0};
	size_t n = 128;
	memcpy(b + n, "DICM", 4);
	n += 4;
	put_el(b, &n, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
	put_el(b, &n, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7");
	put_el(b, &n, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.555");
	put_el(b, &n, 0x0010, 0x0010, "PN", name);
	put_el(b, &n, 0x0010, 0x0020, "LO", id);
	put_el(b, &n, 0x0010, 0x0030, "DA", dob);
	cli_write(path, b, n);
}

Test(travel_cli, a_dicom_patient_is_swept_for_in_the_case_s_notes_and_names)
{
	char *d = cli_fmt("%s/cbct", cli_case);
	cli_mkdirs(d);
	write_dicom(cli_fmt("%s/slice1.dcm", d), "Oyelaran^Tobiloba", "PT-77120", "19840229");
	cli_write_str(cli_fmt("%s/lab note.txt", d), "tobiloba oyelaran, born 02/29/1984\n");
	cli_write_str(cli_fmt("%s/OyelaranT_PT-77120.txt", d), "shade A2\n");
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", d, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	size_t nl, note = 0, name = 0;
	char **l = lines_of(&out, &nl);
	for (size_t i = 0; i < nl; i++) {
		char *rule = json_str(l[i], "rule"), *path = json_str(l[i], "path");
		char *field = json_str(l[i], "field");
		if (rule && !strcmp(rule, "case-identifier") && path && strstr(path, "lab note"))
			note++;
		if (rule && !strcmp(rule, "case-identifier") && field && !strcmp(field, "file name"))
			name++;
	}
	cr_assert_eq(note, 2, "name and birth date in the note: %s", out.p);
	cr_assert_eq(name, 2, "surname + initial and the ID in a file name: %s", out.p);
	cr_assert(!has(&out, "Oyelaran") && !has(&out, "77120"), "%s", out.p);
}

/* The harvest runs on the pool (plan.c): each file's values are recorded by whichever
 * worker read it and replayed into the case in walk order.  Twelve cases of 17 DICOM
 * patients each: past 256 name x ID pairs a case pairs initials with IDs only within
 * one file (case.c, MAX_CROSS), so a value replayed into the wrong file or case
 * would show as a hit in cross.txt (the initials of one file with the ID of the
 * next) or a miss in good.txt; and the report must not depend on the thread count. */
Test(travel_cli, the_harvest_on_many_threads_pairs_values_per_file_as_on_one)
{
	char *lab = cli_fmt("%s/harvest", cli_case);
	enum { NCASES = 12, NFILES = 17 };
	for (int k = 0; k < NCASES; k++) {
		char *d = cli_fmt("%s/case%02d", lab, k);
		cli_mkdirs(d);
		char good[1024] = "", cross[1024] = "";
		size_t ng = 0, nc = 0;
		for (int f = 0; f < NFILES; f++) {
			char name[64], id[32], dob[16];
			/* initials differ per file, either way round: surname B.. R.., given
			 * Z.. J.. */
			char sur = (char)('B' + f), giv = (char)('Z' - f);
			snprintf(name, sizeof name, "%corv%cl^%celi%c", sur, 'a' + k % 26, giv, 'a' + k / 26);
			snprintf(id, sizeof id, "PT-4%02d%02d7", k, f);
			snprintf(dob, sizeof dob, "19%02d%02d%02d", 50 + k, 1 + f % 12, 10 + f);
			write_dicom(cli_fmt("%s/slice%02d.dcm", d, f), name, id, dob);
			ng += (size_t)snprintf(good + ng, sizeof good - ng, "ref %c%c4%02d%02d7\n", giv, sur,
			                       k, f);
			nc += (size_t)snprintf(cross + nc, sizeof cross - nc, "ref %c%c4%02d%02d7\n", giv,
			                       sur, k, (f + 1) % NFILES);
		}
		cli_write_str(cli_fmt("%s/good.txt", d), good);
		cli_write_str(cli_fmt("%s/cross.txt", d), cross);
	}
	struct cbuf o1 = {0}, o2 = {0}, o8 = {0}, err = {0};
	int r1 = cli(&o1, &err, NULL, "scan", "--no-progress", "--format", "json", "--case-depth",
	             "1", "-j", "1", lab, NULL);
	cr_assert_eq(r1, 1, "%s", err.p);
	size_t nl, good = 0, cross = 0;
	char **l = lines_of(&o1, &nl);
	for (size_t i = 0; i < nl; i++) {
		char *rule = json_str(l[i], "rule"), *path = json_str(l[i], "path");
		if (!rule || strcmp(rule, "case-identifier") || !path)
			continue;
		good += strstr(path, "good.txt") != NULL;
		cross += strstr(path, "cross.txt") != NULL;
	}
	cr_assert_eq(good, NCASES * NFILES, "initials + ID of one file: %zu hits", good);
	cr_assert_eq(cross, 0, "initials of one file with the ID of another matched %zu times",
	             cross);
	cr_assert_eq(cli(&o2, &err, NULL, "scan", "--no-progress", "--format", "json",
	                 "--case-depth", "1", "-j", "2", lab, NULL), 1);
	cr_assert_eq(cli(&o8, &err, NULL, "scan", "--no-progress", "--format", "json",
	                 "--case-depth", "1", "-j", "8", lab, NULL), 1);
	char *s1 = without_seconds(&o1);
	cr_assert_str_eq(s1, without_seconds(&o2), "-j 1 and -j 2 reports differ");
	cr_assert_str_eq(s1, without_seconds(&o8), "-j 1 and -j 8 reports differ");
}

Test(travel, a_roster_of_ten_thousand_patients_is_keyed_and_matched)
{
	char dir[] = "/tmp/phiscan-roster-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[600];
	snprintf(path, sizeof path, "%s/big.csv", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("last,first,mrn\n", f);
	for (int i = 0; i < 10000; i++)
		fprintf(f, "Surname%c%c%c,Given%c%c,CH-%07d\n", 'a' + i % 26, 'a' + i / 26 % 26,
		        'a' + i / 676 % 26, 'a' + i % 26, 'a' + i / 26 % 26, 100000 + i * 7);
	fclose(f);
	struct phi_cases *c;
	struct phi_error err = {0};
	size_t k;
	cr_assert_eq(phi_cases_new(&c, NULL, NULL), 0);
	cr_assert_eq(phi_cases_find(c, 0, "r", "x.txt", 0, &k), 0);
	cr_assert_eq(phi_cases_load_roster(c, path, &err), 0, "%s", err.msg);
	cr_assert_eq(phi_cases_build(c, &err), 0, "%s", err.msg);
	cr_assert_gt(phi_cases_literals(c), 100000, "%zu keys", phi_cases_literals(c));
	struct phi_sweep_scratch *s;
	cr_assert_eq(phi_sweep_scratch_new(&s, c), 0);
	/* row 5000: Surname + (5000%26, 5000/26%26, 5000/676%26) */
	char text[200], want[64];
	int i = 5000;
	snprintf(want, sizeof want, "Given%c%c Surname%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26,
	         'a' + i % 26, 'a' + i / 26 % 26, 'a' + i / 676 % 26);
	snprintf(text, sizeof text, "pt %s, chart CH-%07d", want, 100000 + i * 7);
	struct hits h = sweep(c, s, k, text);
	cr_assert_eq(h.n, 2, "%s: %zu hits", text, h.n);
	cr_assert_str_eq(h.v[0], want);
	h = sweep(c, s, k, "pt Givenzz Surnamezzz, chart CH-0000001");
	cr_assert_eq(h.n, 0);
	phi_sweep_scratch_free(s);
	phi_cases_free(c);
	unlink(path);
	rmdir(dir);
}

/* A folder of many patients scanned as one case (no --case-depth 1): initials plus
 * ID pair a name and an ID harvested from the same file, not every name with every
 * ID (1,320 patients took 4 GB and six minutes that way). */
Test(travel, many_patients_in_one_case_pair_initials_with_their_own_file_ids_only)
{
	struct phi_cases *c;
	struct phi_error err = {0};
	size_t k;
	cr_assert_eq(phi_cases_new(&c, NULL, NULL), 0);
	cr_assert_eq(phi_cases_find(c, 0, "cases", "p/x.dcm", 0, &k), 0);
	char name[64], id[32];
	for (int i = 0; i < 400; i++) {
		/* initials vary: the surname starts with A + i % 26, the given name with
		 * A + i / 26 */
		snprintf(name, sizeof name, "%curn%c%c^%civ%c%c", 'A' + i % 26, 'a' + i % 26,
		         'a' + i / 26 % 26, 'A' + i / 26 % 26, 'a' + i % 26, 'a' + i / 26 % 26);
		snprintf(id, sizeof id, "MRN-%06d", 300000 + i * 13);
		cr_assert_eq(phi_cases_add(c, k, "name", name, strlen(name)), 0);
		cr_assert_eq(phi_cases_add(c, k, "mrn", id, strlen(id)), 0);
		cr_assert_eq(phi_cases_end_file(c, k), 0);
	}
	cr_assert_eq(phi_cases_build(c, &err), 0, "%s", err.msg);
	/* every name with every ID made 449,200 keys here; per file it is a few thousand */
	cr_assert_lt(phi_cases_literals(c), 100000, "%zu keys", phi_cases_literals(c));
	struct phi_sweep_scratch *s;
	cr_assert_eq(phi_sweep_scratch_new(&s, c), 0);
	/* patient 7: Hurnha^Aivha, MRN-300091; initials AH / HA */
	struct hits h = sweep(c, s, k, "ref AH300091 and HA-300091");
	cr_assert_eq(h.n, 2, "%zu hits", h.n);
	cr_assert_str_eq(h.v[0], "AH300091");
	cr_assert_str_eq(h.v[1], "HA-300091");
	/* patient 7's initials with patient 8's ID: a pair the harvest never saw */
	h = sweep(c, s, k, "ref AH300104");
	cr_assert_eq(h.n, 0, "GS with another patient's ID matched '%s'", h.v[0]);
	phi_sweep_scratch_free(s);
	phi_cases_free(c);
}

/* A 1x1 RGB PNG. */
static const unsigned char png1[] =
	"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00"
	"\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63"
	"\x68\x68\x68\x00\x00\x03\x04\x01\x81\x4b\xd3\xd2\x10\x00\x00\x00\x00\x49\x45\x4e\x44\xae"
	"\x42\x60\x82";

Test(travel_cli, obj_mtllib_and_mtl_map_references_follow_the_renamed_files)
{
	char *d = cli_fmt("%s/mesh", cli_case);
	cli_mkdirs(d);
	cli_write_str(cli_fmt("%s/order.json", d), order_json);
	cli_write_str(cli_fmt("%s/jaw.obj", d),
	              "mtllib Gonzalez_Maria.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl Gypsum\nf 1 2 3\n");
	cli_write_str(cli_fmt("%s/Gonzalez_Maria.mtl", d),
	              "newmtl Gypsum\nKd 1 1 1\nmap_Kd -s 1 1 1 Maria_Gonzalez_texture.png\n");
	cli_write(cli_fmt("%s/Maria_Gonzalez_texture.png", d), png1, sizeof png1 - 1);
	/* the findings in a reference start at the value, not at the keyword */
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", d, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	size_t nl;
	char **l = lines_of(&out, &nl);
	bool obj = false, mtl = false;
	for (size_t i = 0; i < nl; i++) {
		char *path = json_str(l[i], "path"), *field = json_str(l[i], "field");
		unsigned long long col = 0;
		if (!path || !field || !json_num(l[i], "column", &col))
			continue;
		if (strstr(path, "jaw.obj") && !strcmp(field, "mtllib line 1"))
			obj = obj || col == 8;
		if (strstr(path, ".mtl") && !strcmp(field, "map_Kd line 3"))
			mtl = mtl || col == 17;
		cr_assert_geq(col, strstr(path, ".mtl") ? 17 : 8, "a finding on the keyword: %s", l[i]);
	}
	cr_assert(obj && mtl, "%s", out.p);
	/* strip renames the material library and the texture, and the references follow */
	char *o = cli_fmt("%s/mesh-out", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", "-q", "--case-id", "LAB-9", "-o", o, d,
	         NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	char *jo = cli_read(cli_fmt("%s/jaw.obj", o), NULL);
	char *mt = cli_read(cli_fmt("%s/LAB-9.mtl", o), NULL);
	cr_assert_not_null(jo);
	cr_assert_not_null(mt, "the material library was not renamed");
	cr_assert(strstr(jo, "mtllib LAB-9.mtl\n"), "%s", jo);
	cr_assert(strstr(mt, "map_Kd -s 1 1 1 LAB-9_texture.png\n"), "%s", mt);
	size_t n;
	char *tex = cli_read(cli_fmt("%s/LAB-9_texture.png", o), &n);
	cr_assert_not_null(tex, "the texture a reference names is not there");
	cr_assert(n > 8 && !memcmp(tex, "\x89PNG", 4));
	rc = cli(&out, &err, NULL, "scan", "--no-progress", o, NULL);
	cr_assert_eq(rc, 0, "%s", out.p);
}

/* --files-from: listed files group into cases by their top-level folder below the
 * list's common root, as the folders would on the command line with --case-depth 1. */
Test(travel_cli, files_from_groups_listed_files_by_their_top_level_folder)
{
	char *d = cli_fmt("%s/list-lab", cli_case);
	cli_mkdirs(cli_fmt("%s/A/sub", d));
	cli_mkdirs(cli_fmt("%s/B", d));
	cli_write_str(cli_fmt("%s/A/order.json", d), order_json);
	cli_write_str(cli_fmt("%s/A/sub/note.txt", d), "remake for gonzalez, maria\n");
	cli_write_str(cli_fmt("%s/B/note.txt", d), "remake for gonzalez, maria\n");
	char *list = cli_fmt("%s/list.txt", cli_root);
	cli_write_str(list, cli_fmt("%s/A/order.json\n%s/A/sub/note.txt\n%s/B//note.txt\n", d, d, d));
	struct cbuf out = {0}, err = {0};
	int rc = cli(&out, &err, NULL, "scan", "--no-progress", "--format", "json", "--files-from",
	             list, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	size_t nl, a = 0, b = 0;
	char **l = lines_of(&out, &nl);
	for (size_t i = 0; i < nl; i++) {
		char *rule = json_str(l[i], "rule"), *path = json_str(l[i], "path");
		if (!rule || strcmp(rule, "case-identifier") || !path)
			continue;
		a += strstr(path, "/A/sub/note.txt") != NULL;
		b += strstr(path, "/B/note.txt") != NULL;
	}
	/* A's order names the patient for A's note, in a folder below; B is another case */
	cr_assert_eq(a, 1, "the listed files of A are not one case: %s", out.p);
	cr_assert_eq(b, 0, "case A's patient was swept in case B: %s", out.p);
	/* strip -o mirrors the tree below the common root: no two notes collide */
	char *o = cli_fmt("%s/list-out", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", "-q", "--files-from", list, "-o", o,
	         NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	char *na = cli_read(cli_fmt("%s/A/sub/note.txt", o), NULL);
	char *nb = cli_read(cli_fmt("%s/B/note.txt", o), NULL);
	cr_assert_not_null(na, "%s", err.p);
	cr_assert_not_null(nb);
	cr_assert(!strstr(na, "gonzalez"), "%s", na);
	cr_assert(strstr(nb, "gonzalez"), "B is not A's case: %s", nb);
	/* the same listed files as folders on the command line, --case-depth 1 */
	rc = cli(&out, &err, NULL, "scan", "--no-progress", "--case-depth", "1", d, NULL);
	cr_assert(has(&out, "A/sub/note.txt") && !has(&out, "B/note.txt"), "%s", out.p);
}
