/* test_rules.c - the YAML rule-pack loader (scanner/rules.c), from strings.
 *
 * Every error test checks the whole message: the pack name, the exact line of the
 * offending node and the key or value it names, and that a failed load leaves the
 * pack as it was.  Packs are written with one key per line so line numbers are easy
 * to read off the literal (line 1 is the first line of the string). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "../formats/sha256.h"
#include "../scanner/rules.h"
#include "../scanner/validate.h"

/* Load yaml into pack under the name "t.yaml"; returns the loader's code. */
static int rules_load(struct phi_pack *pack, const char *yaml, struct phi_error *err)
{
	memset(err, 0, sizeof *err);
	return phi_pack_load_string(pack, yaml, strlen(yaml), "t.yaml", err);
}

/* The load must fail with PHI_ERULE and exactly this message, leaving pack empty. */
static void rules_expect_error(const char *yaml, const char *msg)
{
	struct phi_pack pack = {0};
	struct phi_error err;
	int rc = rules_load(&pack, yaml, &err);
	cr_assert_eq(rc, PHI_ERULE, "rc %d (%s), expected PHI_ERULE for: %s", rc, err.msg, msg);
	cr_assert_eq(err.code, PHI_ERULE);
	cr_assert_str_eq(err.msg, msg);
	cr_assert_eq(pack.nrules, 0);
	cr_assert_eq(pack.nallow, 0);
	phi_pack_free(&pack);
}

static const struct phi_rule *rules_find(const struct phi_pack *p, const char *id)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (!strcmp(p->rules[i].id, id))
			return &p->rules[i];
	return NULL;
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

TestSuite(rules);

Test(rules, a_pack_with_every_key_loads_every_value)
{
	static const char yaml[] =
		"pack: test-pack\n"                                   /* 1 */
		"version: 3\n"                                        /* 2 */
		"description: every key once\n"                       /* 3 */
		"rules:\n"                                            /* 4 */
		"  - id: ssn\n"                                       /* 5 */
		"    description: US Social Security number\n"        /* 6 */
		"    class: ssn\n"                                    /* 7 */
		"    severity: patient\n"                             /* 8 */
		"    pattern: '\\b(?<v>\\d{3}-\\d{2}-\\d{4})\\b'\n"   /* 9 */
		"    keywords: [ssn, social security]\n"              /* 10 */
		"    cues: [SSN, 'soc sec']\n"                        /* 11 */
		"    cue_window: 64\n"                                /* 12 */
		"    cue_required: true\n"                            /* 13 */
		"    validator: ssn\n"                                /* 14 */
		"    confidence: 0.6\n"                               /* 15 */
		"    cue_confidence: 0.9\n"                           /* 16 */
		"    safe_harbor: yes\n"                              /* 17 */
		"    examples:\n"                                     /* 18 */
		"      match: ['SSN 123-45-6789']\n"                  /* 19 */
		"      no_match: ['SSN 000-12-3456']\n"               /* 20 */
		"  - id: npi\n"                                       /* 21 */
		"    class: id\n"                                     /* 22 */
		"    severity: provider\n"                            /* 23 */
		"    pattern: '\\d{10}'\n"                            /* 24 */
		"    keywords: npi\n"                                 /* 25 */
		"allow:\n"                                            /* 26 */
		"  - id: lab-mail\n"                                  /* 27 */
		"    description: the lab's own support address\n"   /* 28 */
		"    values: ['support@lab.example']\n"               /* 29 */
		"    patterns: ['.*@lab\\.example']\n"                /* 30 */
		"    rules: [email, npi]\n"                           /* 31 */
		"    paths: ['*.log', 'export/*']\n";                 /* 32 */
	struct phi_pack pack = {0};
	struct phi_error err;
	cr_assert_eq(rules_load(&pack, yaml, &err), 0, "%s", err.msg);
	cr_assert_eq(pack.nrules, 2);
	cr_assert_eq(pack.nallow, 1);

	const struct phi_rule *r = &pack.rules[0];
	cr_assert_str_eq(r->id, "ssn");
	cr_assert_str_eq(r->description, "US Social Security number");
	cr_assert_not_null(r->cls);
	cr_assert_str_eq(r->cls->name, "ssn");
	cr_assert_eq(r->cls->letter, 'G');
	cr_assert_str_eq(r->cls->tag, "[SSN]");
	cr_assert_eq(r->severity, PHI_SEV_PATIENT);
	cr_assert_str_eq(r->pattern, "\\b(?<v>\\d{3}-\\d{2}-\\d{4})\\b");
	cr_assert_eq(r->nkeywords, 2);
	cr_assert_str_eq(r->keywords[0], "ssn");
	cr_assert_str_eq(r->keywords[1], "social security");
	cr_assert_eq(r->ncues, 2);
	cr_assert_str_eq(r->cues[0], "SSN");
	cr_assert_str_eq(r->cues[1], "soc sec");
	cr_assert_eq(r->cue_window, 64);
	cr_assert(r->cue_required);
	cr_assert_str_eq(r->validator, "ssn");
	cr_assert_eq(r->validator_id, PHI_VAL_SSN);
	cr_assert(near(r->confidence, 0.6));
	cr_assert(near(r->cue_confidence, 0.9));
	cr_assert(r->safe_harbor);
	cr_assert_eq(r->nmatch, 1);
	cr_assert_str_eq(r->match[0].text, "SSN 123-45-6789");
	cr_assert_null(r->match[0].value);
	cr_assert_eq(r->nno_match, 1);
	cr_assert_str_eq(r->no_match[0].text, "SSN 000-12-3456");
	cr_assert_str_eq(r->source, "t.yaml");
	cr_assert_eq(r->line, 5);

	r = &pack.rules[1];
	cr_assert_str_eq(r->id, "npi");
	cr_assert_eq(r->severity, PHI_SEV_PROVIDER);
	cr_assert_eq(r->line, 21);
	/* a scalar where a list is expected is a one-item list */
	cr_assert_eq(r->nkeywords, 1);
	cr_assert_str_eq(r->keywords[0], "npi");
	cr_assert_null(r->description);

	const struct phi_allow *a = &pack.allow[0];
	cr_assert_str_eq(a->id, "lab-mail");
	cr_assert_eq(a->nvalues, 1);
	cr_assert_str_eq(a->values[0], "support@lab.example");
	cr_assert_eq(a->npatterns, 1);
	cr_assert_str_eq(a->patterns[0], ".*@lab\\.example");
	cr_assert_eq(a->nrules, 2);
	cr_assert_str_eq(a->rules[0], "email");
	cr_assert_str_eq(a->rules[1], "npi");
	cr_assert_eq(a->npaths, 2);
	cr_assert_str_eq(a->paths[0], "*.log");
	cr_assert_str_eq(a->paths[1], "export/*");
	cr_assert_str_eq(a->source, "t.yaml");
	cr_assert_eq(a->line, 27);
	phi_pack_free(&pack);
	cr_assert_eq(pack.nrules, 0);
	cr_assert_null(pack.rules);
}

Test(rules, an_unknown_rule_key_is_named_with_its_line)
{
	rules_expect_error("pack: p\n"
	                   "rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    patern: 'x'\n",
	                   "t.yaml:5: unknown rule key 'patern'");
}

Test(rules, a_rule_without_id_is_an_error_at_the_rule)
{
	rules_expect_error("pack: p\n"
	                   "rules:\n"
	                   "  - id: first\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "  - class: ssn\n"
	                   "    pattern: 'y'\n",
	                   "t.yaml:6: rule without 'id'");
	/* an empty id is no id */
	rules_expect_error("rules:\n"
	                   "  - id: ''\n"
	                   "    class: ssn\n"
	                   "    pattern: 'y'\n",
	                   "t.yaml:2: rule without 'id'");
}

Test(rules, an_unknown_class_names_the_class_at_its_line)
{
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    pattern: 'x'\n"
	                   "    class: nmae\n",
	                   "t.yaml:4: unknown class 'nmae'");
}

Test(rules, a_missing_class_or_pattern_is_an_error)
{
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    pattern: 'x'\n",
	                   "t.yaml:2: rule 'a' has no 'class'");
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n",
	                   "t.yaml:2: rule 'a' has no 'pattern'");
}

Test(rules, a_bad_severity_is_named_with_the_allowed_ones)
{
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "    severity: high\n",
	                   "t.yaml:5: severity must be patient, provider or quasi, not 'high'");
}

Test(rules, an_unknown_validator_is_named_at_its_line)
{
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    validator: lunh\n"
	                   "    pattern: 'x'\n",
	                   "t.yaml:4: unknown validator 'lunh'");
}

Test(rules, cue_required_without_cues_is_an_error)
{
	rules_expect_error("rules:\n"
	                   "  - id: ok\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "  - id: needs-cue\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "    cue_required: true\n",
	                   "t.yaml:5: rule 'needs-cue' requires a cue but lists no 'cues'");
}

Test(rules, a_duplicate_id_within_a_pack_names_the_second_rule)
{
	rules_expect_error("rules:\n"
	                   "  - id: dup\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "  - id: other\n"
	                   "    class: ssn\n"
	                   "    pattern: 'y'\n"
	                   "  - id: dup\n"
	                   "    class: name\n"
	                   "    pattern: 'z'\n",
	                   "t.yaml:8: duplicate rule id 'dup'");
}

Test(rules, a_duplicate_id_across_packs_names_both_packs_and_keeps_the_first)
{
	struct phi_pack pack = {0};
	struct phi_error err = {0};
	static const char a[] = "rules:\n"
	                        "  - id: shared\n"
	                        "    class: ssn\n"
	                        "    pattern: 'x'\n";
	static const char b[] = "pack: second\n"
	                        "rules:\n"
	                        "  - id: fresh\n"
	                        "    class: ssn\n"
	                        "    pattern: 'x'\n"
	                        "  - id: shared\n"
	                        "    class: email\n"
	                        "    pattern: 'y'\n";
	cr_assert_eq(phi_pack_load_string(&pack, a, strlen(a), "a.yaml", &err), 0, "%s", err.msg);
	cr_assert_eq(phi_pack_load_string(&pack, b, strlen(b), "b.yaml", &err), PHI_ERULE);
	cr_assert_str_eq(err.msg, "b.yaml:6: rule id 'shared' already defined in a.yaml");
	/* the failed pack added nothing, not even its good rule */
	cr_assert_eq(pack.nrules, 1);
	cr_assert_str_eq(pack.rules[0].id, "shared");
	cr_assert_str_eq(pack.rules[0].cls->name, "ssn");
	cr_assert_null(rules_find(&pack, "fresh"));
	phi_pack_free(&pack);
}

Test(rules, two_packs_with_distinct_ids_both_load)
{
	struct phi_pack pack = {0};
	struct phi_error err = {0};
	static const char a[] = "rules:\n  - id: one\n    class: ssn\n    pattern: 'x'\n";
	static const char b[] = "rules:\n  - id: two\n    class: ssn\n    pattern: 'x'\n"
	                        "allow:\n  - id: al\n    values: [v]\n";
	cr_assert_eq(phi_pack_load_string(&pack, a, strlen(a), "a.yaml", &err), 0, "%s", err.msg);
	cr_assert_eq(phi_pack_load_string(&pack, b, strlen(b), "b.yaml", &err), 0, "%s", err.msg);
	cr_assert_eq(pack.nrules, 2);
	cr_assert_eq(pack.nallow, 1);
	cr_assert_str_eq(rules_find(&pack, "one")->source, "a.yaml");
	cr_assert_str_eq(rules_find(&pack, "two")->source, "b.yaml");
	cr_assert_str_eq(pack.allow[0].source, "b.yaml");
	phi_pack_free(&pack);
}

Test(rules, bad_yaml_syntax_reports_the_parser_line)
{
	rules_expect_error("pack: p\n"
	                   "rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn: oops\n"
	                   "    pattern: 'x'\n",
	                   "t.yaml:4: YAML error: mapping values are not allowed in this context");
	/* an unterminated flow sequence: the parser notices at the next line */
	struct phi_pack pack = {0};
	struct phi_error err;
	cr_assert_eq(rules_load(&pack, "rules:\n  - id: a\n    keywords: [a, b\n", &err), PHI_ERULE);
	cr_assert(!strncmp(err.msg, "t.yaml:", 7), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "YAML error: "), "%s", err.msg);
	cr_assert_eq(pack.nrules, 0);
}

Test(rules, an_allow_entry_needs_values_or_patterns)
{
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "allow:\n"
	                   "  - id: ok\n"
	                   "    values: [x]\n"
	                   "  - id: empty\n"
	                   "    rules: [a]\n"
	                   "    paths: ['*.txt']\n",
	                   "t.yaml:8: allow entry 'empty' has neither values nor patterns");
	rules_expect_error("allow:\n"
	                   "  - values: [x]\n",
	                   "t.yaml:2: allow entry without 'id'");
	rules_expect_error("allow:\n"
	                   "  - id: x\n"
	                   "    value: [x]\n",
	                   "t.yaml:3: unknown allow key 'value'");
}

Test(rules, unknown_top_level_and_example_keys_are_errors)
{
	rules_expect_error("pack: p\n"
	                   "rule:\n"
	                   "  - id: a\n",
	                   "t.yaml:2: unknown top-level key 'rule' (pack, rules, allow)");
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "    examples:\n"
	                   "      matches: ['x']\n",
	                   "t.yaml:6: unknown examples key 'matches' (match, no_match)");
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "    examples:\n"
	                   "      match:\n"
	                   "        - {txt: 'x'}\n",
	                   "t.yaml:7: unknown example key 'txt'");
}

Test(rules, out_of_range_numbers_and_bad_booleans_are_errors)
{
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "    confidence: 1.5\n",
	                   "t.yaml:5: 'confidence' is out of range: 1.5");
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "    cue_required: maybe\n",
	                   "t.yaml:5: 'cue_required' must be true or false");
}

Test(rules, an_empty_pack_is_an_error)
{
	struct phi_pack pack = {0};
	struct phi_error err;
	cr_assert_eq(rules_load(&pack, "", &err), PHI_ERULE);
	cr_assert_str_eq(err.msg, "t.yaml: empty rule pack");
}

Test(rules, defaults_cue_confidence_is_confidence_plus_035_capped_and_window_40)
{
	static const char yaml[] = "rules:\n"
	                           "  - id: low\n"
	                           "    class: name\n"
	                           "    pattern: 'x'\n"
	                           "    confidence: 0.5\n"
	                           "  - id: high\n"
	                           "    class: name\n"
	                           "    pattern: 'x'\n"
	                           "    confidence: 0.9\n"
	                           "  - id: plain\n"
	                           "    class: name\n"
	                           "    pattern: 'x'\n"
	                           "  - id: explicit\n"
	                           "    class: name\n"
	                           "    pattern: 'x'\n"
	                           "    confidence: 0.5\n"
	                           "    cue_confidence: 0.55\n";
	struct phi_pack pack = {0};
	struct phi_error err;
	cr_assert_eq(rules_load(&pack, yaml, &err), 0, "%s", err.msg);
	const struct phi_rule *low = rules_find(&pack, "low"), *high = rules_find(&pack, "high"),
	                      *plain = rules_find(&pack, "plain"),
	                      *expl = rules_find(&pack, "explicit");
	cr_assert(low && high && plain && expl);
	cr_assert(near(low->cue_confidence, 0.85), "%f", low->cue_confidence);
	cr_assert(near(high->cue_confidence, 1.0), "%f", high->cue_confidence);
	/* confidence defaults to 0.8, so its cue confidence is capped at 1 too */
	cr_assert(near(plain->confidence, 0.8), "%f", plain->confidence);
	cr_assert(near(plain->cue_confidence, 1.0), "%f", plain->cue_confidence);
	cr_assert(near(expl->cue_confidence, 0.55));
	for (size_t i = 0; i < pack.nrules; i++) {
		const struct phi_rule *r = &pack.rules[i];
		cr_assert_eq(r->cue_window, 40, "%s", r->id);
		cr_assert(!r->cue_required);
		cr_assert(!r->safe_harbor);
		cr_assert_null(r->validator);
		cr_assert_eq(r->validator_id, PHI_VAL_NONE);
		cr_assert_eq(r->nkeywords, 0);
		cr_assert_eq(r->ncues, 0);
		cr_assert_eq(r->nmatch, 0);
		cr_assert_eq(r->nno_match, 0);
	}
	phi_pack_free(&pack);
}

Test(rules, examples_come_as_plain_strings_or_text_value_pairs)
{
	static const char yaml[] =
		"rules:\n"
		"  - id: dob\n"
		"    class: date\n"
		"    pattern: 'DOB:? (?<v>\\S+)'\n"
		"    examples:\n"
		"      match:\n"
		"        - 'DOB: 01/02/1990'\n"
		"        - {text: 'DOB 1990-02-01 seen', value: '1990-02-01'}\n"
		"        - text: 'block DOB 3/4/1950'\n"
		"          value: '3/4/1950'\n"
		"      no_match:\n"
		"        - 'date of service 01/02/2020'\n"
		"        - {text: 'DOB unknown'}\n";
	struct phi_pack pack = {0};
	struct phi_error err;
	cr_assert_eq(rules_load(&pack, yaml, &err), 0, "%s", err.msg);
	const struct phi_rule *r = &pack.rules[0];
	cr_assert_eq(r->nmatch, 3);
	cr_assert_str_eq(r->match[0].text, "DOB: 01/02/1990");
	cr_assert_null(r->match[0].value);
	cr_assert_str_eq(r->match[1].text, "DOB 1990-02-01 seen");
	cr_assert_str_eq(r->match[1].value, "1990-02-01");
	cr_assert_str_eq(r->match[2].text, "block DOB 3/4/1950");
	cr_assert_str_eq(r->match[2].value, "3/4/1950");
	cr_assert_eq(r->nno_match, 2);
	cr_assert_str_eq(r->no_match[0].text, "date of service 01/02/2020");
	cr_assert_null(r->no_match[0].value);
	cr_assert_str_eq(r->no_match[1].text, "DOB unknown");
	phi_pack_free(&pack);

	/* a mapping example without text is an error at that item */
	rules_expect_error("rules:\n"
	                   "  - id: a\n"
	                   "    class: ssn\n"
	                   "    pattern: 'x'\n"
	                   "    examples:\n"
	                   "      match:\n"
	                   "        - {value: 'x'}\n",
	                   "t.yaml:7: example without text in 'match'");
}

Test(rules, class_and_severity_vocabularies)
{
	enum phi_severity s;
	cr_assert_eq(phi_severity_parse("quasi", &s), 0);
	cr_assert_eq(s, PHI_SEV_QUASI);
	cr_assert_eq(phi_severity_parse("patient", &s), 0);
	cr_assert_eq(s, PHI_SEV_PATIENT);
	cr_assert_eq(phi_severity_parse("Patient", &s), PHI_EUSAGE);
	cr_assert_str_eq(phi_severity_name(PHI_SEV_PROVIDER), "provider");
	cr_assert_null(phi_class_find("nope"));
	cr_assert_null(phi_class_find(NULL));
	cr_assert_eq(phi_class_find("ip")->letter, 'O');
	cr_assert_str_eq(phi_class_find("name")->tag, "[NAME]");
}

/* Inputs the fuzzers found (tests/fuzz/regress/fuzz_pack/) are replayed here: each
 * must load or fail cleanly (under make test-asan: without a leak). */
Test(rules, fuzzer_regressions_load_or_fail_cleanly)
{
	const char *dir = "tests/fuzz/regress/fuzz_pack";
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s missing (run from the repo root)", dir);
	struct dirent *e;
	size_t n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct phi_pack pack = {0};
		struct phi_error err = {0};
		int rc = phi_pack_load(&pack, path, &err);
		if (rc == 0)
			phi_pack_free(&pack);
		else
			cr_expect(err.msg[0], "%s failed without a message", path);
		if (strstr(e->d_name, "duplicate-keywords"))
			cr_expect(rc == PHI_ERULE && strstr(err.msg, "duplicate key 'keywords'"),
			          "%s: %s", path, err.msg);
		n++;
	}
	closedir(d);
	cr_assert_gt(n, 0);
}

/* phi_pack_load_verified marks a pack's rules verified (compiled on first use by the
 * engine) only when the file's bytes have the given SHA-256; a pack loaded before
 * it, a wrong hash or no hash leave rules unverified. */
Test(rules, a_pack_is_verified_only_when_its_bytes_have_the_given_sha256)
{
	static const char a[] = "rules:\n  - id: a1\n    class: id\n    pattern: 'A\\d+'\n";
	static const char b[] = "rules:\n  - id: b1\n    class: id\n    pattern: 'B\\d+'\n"
	                        "  - id: b2\n    class: id\n    pattern: 'C\\d+'\n";
	char dir[] = "/tmp/phi-rules-XXXXXX", pa[64], pb[64], hex[65], other[65];
	struct phi_sha256 h;
	struct phi_pack pack = {0};
	struct phi_error err = {0};
	cr_assert_not_null(mkdtemp(dir));
	snprintf(pa, sizeof pa, "%s/a.yaml", dir);
	snprintf(pb, sizeof pb, "%s/b.yaml", dir);
	FILE *fa = fopen(pa, "wb"), *fb = fopen(pb, "wb");
	cr_assert(fa && fb);
	cr_assert_eq(fwrite(a, 1, strlen(a), fa), strlen(a));
	cr_assert_eq(fwrite(b, 1, strlen(b), fb), strlen(b));
	cr_assert_eq(fclose(fa), 0);
	cr_assert_eq(fclose(fb), 0);
	cr_assert_eq(phi_sha256_init(&h), 0);
	phi_sha256_update(&h, b, strlen(b));
	cr_assert_eq(phi_sha256_final(&h, hex), 0);
	snprintf(other, sizeof other, "%s", hex);
	other[0] = other[0] == '0' ? '1' : '0';

	cr_assert_eq(phi_pack_load_verified(&pack, pa, hex, &err), 0, "%s", err.msg);
	cr_assert_eq(phi_pack_load_verified(&pack, pb, hex, &err), 0, "%s", err.msg);
	cr_assert_eq(pack.nrules, 3);
	cr_assert_not(rules_find(&pack, "a1")->verified, "a.yaml has another hash");
	cr_assert(rules_find(&pack, "b1")->verified);
	cr_assert(rules_find(&pack, "b2")->verified);
	phi_pack_free(&pack);

	cr_assert_eq(phi_pack_load_verified(&pack, pb, other, &err), 0);
	cr_assert_eq(phi_pack_load_verified(&pack, pb, NULL, &err), PHI_ERULE, "duplicate ids");
	cr_assert_not(pack.rules[0].verified);
	cr_assert_eq(pack.nrules, 2);
	phi_pack_free(&pack);
	cr_assert_eq(phi_pack_load_verified(&pack, pb, NULL, &err), 0);
	cr_assert_eq(phi_pack_load_verified(&pack, pa, "", &err), 0);
	for (size_t i = 0; i < pack.nrules; i++)
		cr_assert_not(pack.rules[i].verified, "%s", pack.rules[i].id);
	phi_pack_free(&pack);
	cr_assert_eq(remove(pa), 0);
	cr_assert_eq(remove(pb), 0);
	cr_assert_eq(remove(dir), 0);
}
