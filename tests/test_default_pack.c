/* test_default_pack.c - the shipped rule pack, as data: it loads, compiles, every
 * rule's examples pass (through the prefilter, as in a scan), every rule carries
 * enough examples, and together the rules cover what the scanner core promises:
 * every Safe Harbor class a pattern can reach, and the dental numbers that must stay
 * unflagged. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../scanner/engine.h"
#include "../scanner/names.h"
#include "../formats/sha256.h"
#include "../scanner/rules.h"

static struct phi_pack pack;
static struct phi_names *names;
static struct phi_engine *engine;
static struct phi_matcher *matcher;
static struct phi_engine *default_engine; /* as a plain scan runs: no --safe-harbor */
static struct phi_matcher *default_matcher;

static void setup(void)
{
	struct phi_error err = {0};
	struct phi_engine_opts eo = {.safe_harbor = true, .min_confidence = 0.5};
	cr_assert_eq(phi_pack_load(&pack, "rules/default.yaml", &err), 0, "%s", err.msg);
	cr_assert_eq(phi_names_load(&names, "rules/names", &err), 0, "%s", err.msg);
	cr_assert_eq(phi_engine_new(&engine, &pack, names, &eo, &err), 0, "%s", err.msg);
	cr_assert_eq(phi_matcher_new(&matcher, engine), 0);
	eo.safe_harbor = false;
	cr_assert_eq(phi_engine_new(&default_engine, &pack, names, &eo, &err), 0, "%s", err.msg);
	cr_assert_eq(phi_matcher_new(&default_matcher, default_engine), 0);
}

static void teardown(void)
{
	phi_matcher_free(default_matcher);
	phi_engine_free(default_engine);
	phi_matcher_free(matcher);
	phi_engine_free(engine);
	phi_names_free(names);
	phi_pack_free(&pack);
}

TestSuite(default_pack, .init = setup, .fini = teardown);

static void report_fail(void *arg, const struct phi_rule *r, const char *text, const char *why)
{
	int *n = arg;
	(*n)++;
	cr_log_error("rule %s: %s: \"%s\"", r->id, why, text);
}

Test(default_pack, every_example_of_every_rule_passes)
{
	int fails = 0;
	size_t count = 0;
	int r = phi_engine_test_examples(engine, report_fail, &fails, &count);
	cr_assert_eq(r, 0, "%d examples failed", r);
	cr_assert_gt(count, 3 * pack.nrules, "only %zu examples for %zu rules", count, pack.nrules);
}

Test(default_pack, every_rule_has_examples_both_ways_and_a_description)
{
	for (size_t i = 0; i < pack.nrules; i++) {
		const struct phi_rule *r = &pack.rules[i];
		cr_expect_geq(r->nmatch, 2, "rule %s has %zu match examples", r->id, r->nmatch);
		cr_expect_geq(r->nno_match, 2, "rule %s has %zu no_match examples", r->id, r->nno_match);
		cr_expect(r->description && *r->description, "rule %s has no description", r->id);
	}
}

Test(default_pack, covers_every_class_a_pattern_can_reach)
{
	/* Safe Harbor A-O and R; P (biometrics) and Q (photos) are out of reach of text. */
	static const char *const want[] = {"name", "address", "zip", "date", "age", "phone",
	                                   "fax", "email", "ssn", "mrn", "healthplan", "account",
	                                   "license", "vehicle", "device", "url", "ip", "id"};
	for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
		bool found = false;
		for (size_t i = 0; i < pack.nrules && !found; i++)
			found = !strcmp(pack.rules[i].cls->name, want[w]);
		cr_expect(found, "no rule for class %s", want[w]);
	}
}

static int count_hit(void *arg, const struct phi_hit *h)
{
	(void)h;
	(*(size_t *)arg)++;
	return 0;
}

static size_t scan_count_with(struct phi_matcher *m, const char *text)
{
	size_t n = 0;
	cr_assert_eq(phi_engine_match(m, text, strlen(text), 0, strlen(text), NULL,
	                              count_hit, &n), 0);
	return n;
}

static size_t scan_count(const char *text)
{
	return scan_count_with(matcher, text);
}

Test(default_pack, dental_numbers_that_are_not_phi_stay_unflagged)
{
	/* text-rules.md section 5: each line alone must produce no finding in a default
	 * scan (scanner timestamps are date elements: --safe-harbor reports them) */
	static const char *const lines[] = {
		"Crown on teeth #8,9 and bridge #14-#16, FDI 36 and 46, primary tooth K.",
		"Shade A2 body, BL1 incisal, 2L1.5 and 3R2.5, stump ND3, 0M1 bleach.",
		"CDT D2740 porcelain crown, D6010 implant, D0120 periodic exam.",
		"Implant 4.1 x 10 mm RC, torque 35 Ncm, platform NC 3.5/4.0.",
		"LOT 2309145 REF 021.5308 ISO 13485:2016 certified.",
		"Total $1,250.00 due; pickup at 10:30 AM.",
		"Scan 3f2504e0-4f89-11d3-9a0c-0305e82c3301 exported 20240501_153012.",
		"sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"Crown Prep, Upper Arch, IPS e.max, BruxZir, Straumann BLX, Vita Classical.",
		/* namespaces of the packages and metadata cases carry (allow schema-namespaces) */
		"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
		"<FixedPage xmlns=\"http://schemas.microsoft.com/xps/2005/06\" xml:lang=\"en-US\">",
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"",
		"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"> xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"",
	};
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		cr_expect_eq(scan_count_with(default_matcher, lines[i]), 0, "flagged: %s", lines[i]);
}

Test(default_pack, a_prescription_finds_each_planted_identifier)
{
	static const char *const cases[] = {
		"Patient: Maria Garcia", "DOB: 03/14/1961", "SSN 123-45-6789",
		"Phone (217) 555-0134", "Fax: 217-555-0199", "Email maria.garcia@gmail.com",
		"NPI 1234567893", "DEA AP5836727", "Medicare 1EG4-TE5-MK73",
		"1234 Maple Ave", "Springfield, IL 62704", "VIN 1M8GDM9AXKP042788",
		"Case #: LC-204518", "MRN: 00482913", "Saw Maria Garcia today",
		"her husband David Lee", "aged 94 years", "https://portal.example-dental.com/p?id=88231",
		"see http://schemas.microsoft.com/portal?patient=MGonzalez", /* a query: not a schema */
		"192.168.14.27",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		cr_expect_geq(scan_count(cases[i]), 1, "missed: %s", cases[i]);
}

/* ---- the build's copy of the pack (phi_default_pack, rules/src/packcheck.c) ---- */

static void same_str(const char *what, const char *id, const char *a, const char *b)
{
	cr_assert((a == NULL) == (b == NULL), "%s of %s: one is NULL", what, id);
	if (a)
		cr_assert_str_eq(a, b, "%s of %s", what, id);
}

static void same_list(const char *what, const char *id, char **a, size_t na, char **b,
                      size_t nb)
{
	cr_assert_eq(na, nb, "%s of %s: %zu against %zu", what, id, na, nb);
	cr_assert((a == NULL) == (b == NULL), "%s of %s: one is NULL", what, id);
	for (size_t i = 0; a && i <= na; i++) /* the NULL after the last one too */
		same_str(what, id, a[i], b[i]);
}

static void same_examples(const char *id, const struct phi_example *a, size_t na,
                          const struct phi_example *b, size_t nb)
{
	cr_assert_eq(na, nb, "examples of %s", id);
	for (size_t i = 0; i < na; i++) {
		same_str("example text", id, a[i].text, b[i].text);
		same_str("example value", id, a[i].value, b[i].value);
	}
}

/* Every record of phi_default_pack is what libyaml and the loader make of
 * rules/default.yaml, field by field, and its hash is the file's: the YAML stays the
 * one source of truth (a stale table would fail here before it failed a user). */
Test(default_pack, the_build_s_table_equals_what_libyaml_loads_from_the_yaml)
{
	const struct phi_pack_builtin *b = &phi_default_pack;
	size_t n;
	char hex[1][65];
	FILE *fp = fopen("rules/default.yaml", "rb");
	cr_assert_not_null(fp);
	static char buf[1 << 20];
	n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	struct phi_sha256_msg m = {{{buf, n}}};
	cr_assert_eq(phi_sha256_multi(&m, 1, hex), 0);
	cr_assert_str_eq(b->sha256, hex[0], "the table is of another rules/default.yaml");
	cr_assert_eq(b->nrules, pack.nrules);
	cr_assert_eq(b->nallow, pack.nallow);
	cr_assert_gt(b->nrules, 50);
	for (size_t i = 0; i < pack.nrules; i++) {
		const struct phi_rule *y = &pack.rules[i], *t = &b->rules[i];
		const char *id = y->id;
		same_str("id", id, y->id, t->id);
		same_str("description", id, y->description, t->description);
		cr_assert_eq(y->cls, t->cls, "class of %s", id);
		cr_assert_eq(y->severity, t->severity, "severity of %s", id);
		same_str("pattern", id, y->pattern, t->pattern);
		same_list("keywords", id, y->keywords, y->nkeywords, t->keywords, t->nkeywords);
		same_list("cues", id, y->cues, y->ncues, t->cues, t->ncues);
		cr_assert_eq(y->cue_window, t->cue_window, "cue_window of %s", id);
		cr_assert_eq(y->cue_required, t->cue_required, "cue_required of %s", id);
		same_str("validator", id, y->validator, t->validator);
		cr_assert_eq(y->validator_id, t->validator_id, "validator of %s", id);
		cr_assert(y->confidence == t->confidence, "confidence of %s", id);
		cr_assert(y->cue_confidence == t->cue_confidence, "cue_confidence of %s", id);
		cr_assert_eq(y->safe_harbor, t->safe_harbor, "safe_harbor of %s", id);
		same_examples(id, y->match, y->nmatch, t->match, t->nmatch);
		same_examples(id, y->no_match, y->nno_match, t->no_match, t->nno_match);
		cr_assert_eq(y->line, t->line, "line of %s", id);
		cr_assert_null(t->source);
		cr_assert(t->borrowed && !y->borrowed);
	}
	for (size_t i = 0; i < pack.nallow; i++) {
		const struct phi_allow *y = &pack.allow[i], *t = &b->allow[i];
		same_str("allow id", y->id, y->id, t->id);
		same_list("values", y->id, y->values, y->nvalues, t->values, t->nvalues);
		same_list("patterns", y->id, y->patterns, y->npatterns, t->patterns, t->npatterns);
		same_list("rules", y->id, y->rules, y->nrules, t->rules, t->nrules);
		same_list("paths", y->id, y->paths, y->npaths, t->paths, t->npaths);
		cr_assert_eq(y->line, t->line, "line of allow %s", y->id);
	}
}

/* phi_pack_load_builtin takes the table for the very file (verified, borrowed, the
 * path as source) and parses any other: an edited copy loads unverified from YAML;
 * a pack loaded before it still clashes on ids. */
Test(default_pack, the_builtin_loader_takes_the_table_only_for_the_same_bytes)
{
	struct phi_pack p = {0};
	struct phi_error err = {0};
	cr_assert_eq(phi_pack_load_builtin(&p, "rules/default.yaml", &phi_default_pack, &err), 0,
	             "%s", err.msg);
	cr_assert_eq(p.nrules, pack.nrules);
	for (size_t i = 0; i < p.nrules; i++) {
		cr_assert(p.rules[i].verified && p.rules[i].borrowed);
		cr_assert_str_eq(p.rules[i].source, "rules/default.yaml");
		cr_assert_eq(p.rules[i].pattern, phi_default_pack.rules[i].pattern);
	}
	for (size_t i = 0; i < p.nallow; i++)
		cr_assert_str_eq(p.allow[i].source, "rules/default.yaml");
	/* loaded twice: the second copy's ids clash with the first's, as with YAML */
	cr_assert_eq(phi_pack_load_builtin(&p, "rules/default.yaml", &phi_default_pack, &err),
	             PHI_ERULE);
	cr_assert(strstr(err.msg, "already defined in rules/default.yaml"), "%s", err.msg);
	cr_assert_eq(p.nrules, pack.nrules);
	phi_pack_free(&p);

	char dir[] = "/tmp/phi-dpack-XXXXXX", path[64];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/default.yaml", dir);
	FILE *in = fopen("rules/default.yaml", "rb"), *out = fopen(path, "wb");
	cr_assert(in && out);
	char b[65536];
	size_t k;
	while ((k = fread(b, 1, sizeof b, in)) > 0)
		cr_assert_eq(fwrite(b, 1, k, out), k);
	fputs("# edited: another SHA-256\n", out);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(phi_pack_load_builtin(&p, path, &phi_default_pack, &err), 0, "%s", err.msg);
	cr_assert_eq(p.nrules, pack.nrules);
	for (size_t i = 0; i < p.nrules; i++) {
		cr_assert(!p.rules[i].verified && !p.rules[i].borrowed, "%s", p.rules[i].id);
		cr_assert_neq(p.rules[i].pattern, phi_default_pack.rules[i].pattern);
		cr_assert_str_eq(p.rules[i].pattern, phi_default_pack.rules[i].pattern);
	}
	phi_pack_free(&p);
	cr_assert_eq(remove(path), 0);
	cr_assert_eq(remove(dir), 0);
}

struct hitlist {
	size_t n;
	struct phi_hit v[64];
};

static int collect_hit(void *arg, const struct phi_hit *h)
{
	struct hitlist *l = arg;
	cr_assert_lt(l->n, 64);
	l->v[l->n++] = *h;
	return 0;
}

/* The build's prefilter databases (phi_default_prebuilt): the default pack takes one
 * with and one without --safe-harbor, neither compiling nor touching a cache, and
 * finds in a prescription what the compiled database finds; another pack's key is
 * not theirs, so it compiles. */
Test(default_pack, the_built_in_prefilter_serves_the_default_pack_and_finds_what_a_compiled_one_finds)
{
	static const char *const text =
		"Patient: Maria Garcia, DOB: 03/14/1961, SSN 123-45-6789\n"
		"Phone (217) 555-0134, Email maria.garcia@gmail.com, MRN: 00482913\n"
		"Dr. Jonathan Whitfield, 1234 Maple Ave, Springfield, IL 62704\n";
	struct phi_error err = {0};
	cr_assert_eq(phi_default_nprebuilt, 2);
	for (int sh = 0; sh < 2; sh++) {
		struct phi_engine_opts built = {.safe_harbor = sh, .min_confidence = 0.5,
		                                .prebuilt = phi_default_prebuilt,
		                                .nprebuilt = phi_default_nprebuilt};
		struct phi_engine_opts compiled = built;
		compiled.prebuilt = NULL;
		compiled.nprebuilt = 0;
		struct phi_engine *a = NULL, *b = NULL;
		struct phi_matcher *ma = NULL, *mb = NULL;
		cr_assert_eq(phi_engine_new(&a, &pack, names, &built, &err), 0, "%s", err.msg);
		cr_assert_eq(phi_engine_new(&b, &pack, names, &compiled, &err), 0, "%s", err.msg);
		cr_assert(phi_engine_from_prebuilt(a), "safe_harbor %d", sh);
		cr_assert_not(phi_engine_from_cache(a));
		cr_assert_not(phi_engine_from_prebuilt(b));
		for (size_t i = 0; i < phi_engine_rule_count(a); i++) {
			const char *pa, *pb;
			phi_engine_rule(a, i, &pa);
			phi_engine_rule(b, i, &pb);
			cr_assert_str_eq(pa, pb, "prefilter kind of rule %zu", i);
		}
		cr_assert_eq(phi_matcher_new(&ma, a), 0);
		cr_assert_eq(phi_matcher_new(&mb, b), 0);
		struct hitlist ha = {0}, hb = {0};
		cr_assert_eq(phi_engine_match(ma, text, strlen(text), 0, strlen(text), NULL,
		                              collect_hit, &ha), 0);
		cr_assert_eq(phi_engine_match(mb, text, strlen(text), 0, strlen(text), NULL,
		                              collect_hit, &hb), 0);
		cr_assert_geq(ha.n, 8, "found %zu", ha.n);
		cr_assert_eq(ha.n, hb.n);
		for (size_t i = 0; i < ha.n; i++) {
			cr_assert_eq(ha.v[i].start, hb.v[i].start);
			cr_assert_eq(ha.v[i].end, hb.v[i].end);
			cr_assert_str_eq(ha.v[i].rule->id, hb.v[i].rule->id);
		}
		phi_matcher_free(ma);
		phi_matcher_free(mb);
		phi_engine_free(a);
		phi_engine_free(b);
	}
	/* another pack: the same list, no key of its own there */
	static const char other[] = "rules:\n  - id: a1\n    class: id\n    pattern: 'A\\d+'\n";
	struct phi_pack p = {0};
	struct phi_engine *e = NULL;
	struct phi_engine_opts o = {.prebuilt = phi_default_prebuilt,
	                            .nprebuilt = phi_default_nprebuilt};
	cr_assert_eq(phi_pack_load_string(&p, other, strlen(other), "other.yaml", &err), 0);
	cr_assert_eq(phi_engine_new(&e, &p, NULL, &o, &err), 0, "%s", err.msg);
	cr_assert_not(phi_engine_from_prebuilt(e));
	phi_engine_free(e);
	phi_pack_free(&p);
}

/* ---- the build's PCRE2 codes (phi_default_codes) ---- */

/* A DICOM header as the scanner hands its values over, and a lab slip: names
 * (one made of dental words, which an allow pattern drops), dates, numbers, an
 * address, a phone, tooth and shade codes. */
static const char *const code_texts[] = {
	"(0010,0010) PN [GARCIA^MARIA^^^]\n(0010,0020) LO [00482913]\n"
	"(0010,0030) DA [19610314]\n(0008,0090) PN [WHITFIELD^JONATHAN^^Dr]\n"
	"(0008,0080) LO [Springfield Family Dental]\n"
	"(0008,0081) ST [1234 Maple Ave, Springfield, IL 62704]\n"
	"(0010,1040) LO [Phone (217) 555-0134]\n(0018,1000) LO [SN 4471-88213]\n"
	"(0020,4000) LT [Pt Maria Garcia, DOB 03/14/1961, seen by Dr. Whitfield; "
	"shade A2, tooth #14, implant 4.1x10 mm, firmware 1.2.3.4]\n",
	"Patient: Maria Garcia, DOB: 03/14/1961, SSN 123-45-6789\n"
	"Phone (217) 555-0134, Email maria.garcia@gmail.com, MRN: 00482913\n"
	"Patient Name: Zirconia Crown\nCase #: A2, D2740, tooth 14, host 10.1.2.3\n"
	"Dr. Jonathan Whitfield, 1234 Maple Ave, Springfield, IL 62704\n",
};

/* The default pack as phiscan loads it: the build's records, verified, so each rule's
 * pattern is made on its first use. */
static void load_builtin(struct phi_pack *p)
{
	struct phi_error err = {0};
	cr_assert_eq(phi_pack_load_builtin(p, "rules/default.yaml", &phi_default_pack, &err), 0,
	             "%s", err.msg);
	cr_assert(p->nrules && p->rules[0].verified);
}

static size_t allow_patterns(const struct phi_pack *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nallow; i++)
		n += p->allow[i].npatterns;
	return n;
}

static struct phi_engine *code_engine(const struct phi_pack *p,
                                      const struct phi_engine_codes *codes)
{
	struct phi_error err = {0};
	struct phi_engine *e = NULL;
	/* jit_scale so large that nothing is JIT-compiled: a pattern's budget must not
	 * depend on whether it was decoded or compiled */
	struct phi_engine_opts o = {.safe_harbor = true, .min_confidence = 0.5, .codes = codes,
	                            .jit_scale = 1e9};
	cr_assert_eq(phi_engine_new(&e, p, names, &o, &err), 0, "%s", err.msg);
	return e;
}

/* a's and b's hits on every code_texts entry are the same (and there are some) */
static void same_hits(struct phi_engine *a, struct phi_engine *b)
{
	struct phi_matcher *ma = NULL, *mb = NULL;
	cr_assert_eq(phi_matcher_new(&ma, a), 0);
	cr_assert_eq(phi_matcher_new(&mb, b), 0);
	phi_matcher_memo(ma, false);
	phi_matcher_memo(mb, false);
	for (size_t t = 0; t < sizeof code_texts / sizeof *code_texts; t++) {
		const char *text = code_texts[t];
		struct hitlist ha = {0}, hb = {0};
		cr_assert_eq(phi_engine_match(ma, text, strlen(text), 0, strlen(text), NULL,
		                              collect_hit, &ha), 0);
		cr_assert_eq(phi_engine_match(mb, text, strlen(text), 0, strlen(text), NULL,
		                              collect_hit, &hb), 0);
		cr_assert_geq(ha.n, 8, "text %zu: found %zu", t, ha.n);
		cr_assert_eq(ha.n, hb.n, "text %zu", t);
		for (size_t i = 0; i < ha.n; i++) {
			cr_assert_eq(ha.v[i].start, hb.v[i].start, "text %zu hit %zu", t, i);
			cr_assert_eq(ha.v[i].end, hb.v[i].end, "text %zu hit %zu", t, i);
			cr_assert_str_eq(ha.v[i].rule->id, hb.v[i].rule->id);
			cr_assert_eq(ha.v[i].confidence, hb.v[i].confidence);
		}
	}
	phi_matcher_free(ma);
	phi_matcher_free(mb);
}

/* Every rule and allow pattern of the default pack has a code from the build; an
 * engine given them compiles nothing (allow patterns are decoded at start, each rule
 * on its first use), passes every example and finds what an engine that compiles
 * finds; neither JIT-compiles under a budget nothing reaches (a decoded pattern's
 * budget is a compiled one's). */
Test(default_pack, the_build_s_pcre2_codes_replace_every_compile_and_find_the_same)
{
	struct phi_pack p = {0};
	load_builtin(&p);
	size_t nallow = allow_patterns(&p);
	cr_assert_gt(nallow, 0);
	cr_assert_eq(phi_default_codes.ncodes, p.nrules + nallow);
	cr_assert(phi_default_codes.pcre2_version && *phi_default_codes.pcre2_version);
	cr_assert_not_null(phi_default_codes.pcre2_build_id);
	cr_assert_gt(phi_default_codes.probe_len, 0);
	struct phi_engine *a = code_engine(&p, &phi_default_codes), *b = code_engine(&p, NULL);
	cr_assert_eq(phi_engine_decoded_count(a), nallow, "the allow patterns, at start");
	cr_assert_eq(phi_engine_compiled_count(a), 0);
	cr_assert_eq(phi_engine_decoded_count(b), 0);
	same_hits(a, b);
	size_t some = phi_engine_decoded_count(a);
	cr_assert_gt(some, nallow + 8, "rules decoded on first use: %zu", some - nallow);
	cr_assert_lt(some, nallow + p.nrules, "not every rule ran");
	cr_assert_eq(phi_engine_compiled_count(b), some - nallow);
	int fails = 0;
	size_t count = 0;
	cr_assert_eq(phi_engine_test_examples(a, report_fail, &fails, &count), 0);
	cr_assert_gt(count, 3 * p.nrules);
	cr_assert_eq(phi_engine_decoded_count(a), p.nrules + nallow);
	cr_assert_eq(phi_engine_compiled_count(a), 0, "not one pcre2_compile");
	cr_assert_eq(phi_engine_jit_count(a), 0);
	cr_assert_eq(phi_engine_jit_count(b), 0);
	phi_engine_free(a);
	phi_engine_free(b);
	phi_pack_free(&p);
}

/* A code whose bytes were damaged, bytes filed under another pattern, a stream whose
 * header is not PCRE2's (with a sum that holds), and whole sets made by another PCRE2
 * (its version, its library's build ID, or its empty pattern's serialization: header
 * or character tables) are compiled instead, and the engine finds what a compiling one finds. */
Test(default_pack, a_damaged_or_foreign_pcre2_code_is_compiled_instead_and_finds_the_same)
{
	const struct phi_engine_codes *good = &phi_default_codes;
	size_t n = good->ncodes;
	struct phi_pack p = {0};
	load_builtin(&p);
	size_t nallow = allow_patterns(&p);
	struct phi_engine_code *v = calloc(n, sizeof *v);
	unsigned char *flip = malloc(good->codes[0].len), *head = malloc(good->codes[3].len);
	unsigned char *probe = malloc(good->probe_len);
	char sum3[65], bid[2 * 64 + 1];
	cr_assert(v && flip && head && probe);
	memcpy(v, good->codes, n * sizeof *v);
	/* rule 0: one byte of its code changed */
	memcpy(flip, v[0].data, v[0].len);
	flip[v[0].len / 2] ^= 0x20;
	v[0].data = flip;
	/* rules 1 and 2: each other's bytes (and sums) */
	v[1].data = good->codes[2].data, v[1].len = good->codes[2].len;
	v[2].data = good->codes[1].data, v[2].len = good->codes[1].len;
	/* rule 3: not a PCRE2 stream at all, yet its sum holds */
	memcpy(head, v[3].data, v[3].len);
	head[0] ^= 0xff;
	v[3].data = head;
	cr_assert_eq(phi_engine_code_sum(good->pcre2_version, &v[3], sum3), 0);
	v[3].sum = sum3;
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(v[i].pattern, p.rules[i].pattern, "the codes are in the pack's order");
	struct phi_engine_codes damaged = *good;
	damaged.codes = v;
	struct phi_engine *a = code_engine(&p, &damaged), *b = code_engine(&p, NULL);
	int fails = 0;
	size_t count = 0;
	cr_assert_eq(phi_engine_test_examples(a, report_fail, &fails, &count), 0);
	cr_assert_eq(phi_engine_compiled_count(a), 4);
	cr_assert_eq(phi_engine_decoded_count(a), p.nrules - 4 + nallow);
	same_hits(a, b);
	phi_engine_free(a);

	/* another PCRE2: by its version string, by its empty pattern's bytes (one byte of
	 * the character tables, past the stream's header, then one of the header), by its
	 * library's build ID (an update that kept the version string) */
	struct phi_engine_codes other = *good;
	other.pcre2_version = "10.41 2022-12-06";
	memcpy(probe, good->probe, good->probe_len);
	for (int k = 0; k < 4; k++) {
		if (k == 3) {
			other = *good;
			size_t bl = strlen(good->pcre2_build_id);
			snprintf(bid, sizeof bid, "%s", bl ? good->pcre2_build_id : "00");
			if (bl)
				bid[bl - 1] = bid[bl - 1] == '0' ? '1' : '0';
			cr_assert_str_neq(bid, good->pcre2_build_id);
			other.pcre2_build_id = bid;
		} else if (k == 1) {
			other = *good;
			probe[good->probe_len / 2] ^= 1;
			other.probe = probe;
		} else if (k == 2) {
			memcpy(probe, good->probe, good->probe_len);
			probe[4] ^= 1;
		}
		a = code_engine(&p, &other);
		cr_assert_eq(phi_engine_test_examples(a, report_fail, &fails, &count), 0);
		cr_assert_eq(phi_engine_decoded_count(a), 0, "case %d", k);
		cr_assert_eq(phi_engine_compiled_count(a), p.nrules, "case %d", k);
		same_hits(a, b);
		phi_engine_free(a);
	}
	phi_engine_free(b);
	free(v);
	free(flip);
	free(head);
	free(probe);
	phi_pack_free(&p);
}
