/* test_default_pack.c - the shipped rule pack, as data: it loads, compiles, every
 * rule's examples pass (through the prefilter, as in a scan), every rule carries
 * enough examples, and together the rules cover what the scanner core promises:
 * every Safe Harbor class a pattern can reach, and the dental numbers that must stay
 * unflagged. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../scanner/engine.h"
#include "../scanner/names.h"
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
		"192.168.14.27",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		cr_expect_geq(scan_count(cases[i]), 1, "missed: %s", cases[i]);
}
