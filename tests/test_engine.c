/* test_engine.c - the rule engine (scanner/engine.c): packs built from YAML strings,
 * compiled with phi_engine_new, matched with phi_engine_match.
 *
 * Run from the repository root: the name gazetteer is loaded from rules/names.
 * Covers value groups, both prefilter kinds and the full-PCRE2 fallback, cues,
 * confidence, validators, allowlists (value, pattern, rule- and path-scoped),
 * overlap resolution, the report window, a 5 MB text checked against a direct
 * PCRE2 pass, safe_harbor rules, example testing and hostile bytes. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <criterion/criterion.h>
#include <dirent.h>
#include <unistd.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../scanner/engine.h"
#include "../scanner/names.h"
#include "../scanner/rules.h"

#define ENG_NAMES_DIR "rules/names"

struct eng {
	struct phi_pack pack;
	struct phi_names *names;
	struct phi_engine *e;
	struct phi_matcher *m;
};

struct ehits {
	struct phi_hit *v;
	size_t n, cap;
};

static int eng_collect(void *arg, const struct phi_hit *h)
{
	struct ehits *x = arg;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 16;
		x->v = realloc(x->v, x->cap * sizeof *x->v);
		cr_assert_not_null(x->v);
	}
	x->v[x->n++] = *h;
	return 0;
}

/* Engines and hit lists live in static slots, and whatever a test leaves behind
 * (an assertion longjmps past its frees) is released by the suite's fini, so a
 * failing test does not also show up as a leak under make test-asan. */
static struct eng eng_slots[4];
static bool eng_used[4];
static struct ehits *eng_hit_slots[64];

static double eng_jit_scale; /* phi_engine_opts.jit_scale of the engines built next */

static struct eng *eng_build_full(const char *yaml, bool safe_harbor, double min_confidence,
                                  const char *cache_dir, bool verified)
{
	struct phi_error err = {0};
	size_t i = 0;
	while (i < 4 && eng_used[i])
		i++;
	cr_assert_lt(i, 4, "too many live engines");
	struct eng *x = &eng_slots[i];
	memset(x, 0, sizeof *x);
	eng_used[i] = true;
	cr_assert_eq(phi_names_load(&x->names, ENG_NAMES_DIR, &err), 0,
	             "cannot load %s (run from the repo root): %s", ENG_NAMES_DIR, err.msg);
	cr_assert_eq(phi_pack_load_string(&x->pack, yaml, strlen(yaml), "eng.yaml", &err), 0,
	             "%s", err.msg);
	for (size_t r = 0; r < x->pack.nrules; r++)
		x->pack.rules[r].verified = verified;
	struct phi_engine_opts o = {.safe_harbor = safe_harbor,
	                            .min_confidence = min_confidence,
	                            .cache_dir = cache_dir,
	                            .jit_scale = eng_jit_scale};
	cr_assert_eq(phi_engine_new(&x->e, &x->pack, x->names, &o, &err), 0, "%s", err.msg);
	cr_assert_eq(phi_matcher_new(&x->m, x->e), 0);
	return x;
}

static struct eng *eng_build_cached(const char *yaml, bool safe_harbor, double min_confidence,
                                    const char *cache_dir)
{
	return eng_build_full(yaml, safe_harbor, min_confidence, cache_dir, false);
}

static struct eng *eng_build_opts(const char *yaml, bool safe_harbor, double min_confidence)
{
	return eng_build_cached(yaml, safe_harbor, min_confidence, NULL);
}

static struct eng *eng_build(const char *yaml)
{
	return eng_build_opts(yaml, false, 0.0);
}

static void eng_free(struct eng *x)
{
	phi_matcher_free(x->m);
	phi_engine_free(x->e);
	phi_pack_free(&x->pack);
	phi_names_free(x->names);
	memset(x, 0, sizeof *x);
	eng_used[x - eng_slots] = false;
}

/* Free a hit list returned by eng_run (a copy of the slot's header). */
static void eng_hits_free(struct ehits *h)
{
	for (size_t i = 0; i < 64; i++)
		if (eng_hit_slots[i] && eng_hit_slots[i]->v == h->v) {
			free(eng_hit_slots[i]->v);
			free(eng_hit_slots[i]);
			eng_hit_slots[i] = NULL;
			break;
		}
	h->v = NULL;
	h->n = h->cap = 0;
}

static void eng_fini(void)
{
	for (size_t i = 0; i < 4; i++)
		if (eng_used[i])
			eng_free(&eng_slots[i]);
	for (size_t i = 0; i < 64; i++)
		if (eng_hit_slots[i]) {
			free(eng_hit_slots[i]->v);
			free(eng_hit_slots[i]);
			eng_hit_slots[i] = NULL;
		}
}

/* Match text[0..len) in window [from, to) into a fresh hit list. */
static struct ehits eng_run(struct eng *x, const char *text, size_t len, size_t from,
                            size_t to, const char *path)
{
	struct ehits *h = calloc(1, sizeof *h);
	size_t slot = 0;
	while (slot < 64 && eng_hit_slots[slot])
		slot++;
	cr_assert(h && slot < 64);
	eng_hit_slots[slot] = h;
	cr_assert_eq(phi_engine_match(x->m, text, len, from, to, path, eng_collect, h), 0);
	for (size_t i = 1; i < h->n; i++)
		cr_assert(h->v[i - 1].start <= h->v[i].start, "hits out of start order");
	return *h;
}

static struct ehits eng_all(struct eng *x, const char *text)
{
	return eng_run(x, text, strlen(text), 0, strlen(text), NULL);
}

/* The hit's value equals want, and its rule is rule_id. */
static void eng_expect(const char *text, const struct phi_hit *h, const char *rule_id,
                       const char *want)
{
	size_t n = h->end - h->start;
	cr_assert_str_eq(h->rule->id, rule_id);
	cr_assert(n == strlen(want) && !memcmp(text + h->start, want, n),
	          "rule %s: got '%.*s' at [%zu,%zu), want '%s'", rule_id, (int)n, text + h->start,
	          h->start, h->end, want);
}

static const char *eng_prefilter(const struct eng *x, const char *id)
{
	for (size_t i = 0; i < phi_engine_rule_count(x->e); i++) {
		const char *pf = NULL;
		const struct phi_rule *r = phi_engine_rule(x->e, i, &pf);
		if (!strcmp(r->id, id))
			return pf;
	}
	return NULL;
}

static bool eng_near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

TestSuite(engine, .fini = eng_fini);

Test(engine, the_value_is_group_v_else_group_1_else_the_whole_match)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: named\n"
	              "    class: id\n"
	              "    pattern: 'ACCT (\\w+)-(?<v>\\d+)'\n"
	              "  - id: first\n"
	              "    class: id\n"
	              "    pattern: 'CODE (\\d+)x(\\d+)'\n"
	              "  - id: whole\n"
	              "    class: id\n"
	              "    pattern: 'Z\\d\\dQ'\n");
	const char *t = "ACCT abc-123; CODE 45x67; Z89Q.";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 3);
	eng_expect(t, &h.v[0], "named", "123");
	eng_expect(t, &h.v[1], "first", "45");
	eng_expect(t, &h.v[2], "whole", "Z89Q");
	cr_assert_eq(h.v[0].start, 9);
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, an_unset_value_group_gives_no_hit)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: opt\n"
	              "    class: id\n"
	              "    pattern: 'REF(?: (?<v>\\d+))?'\n");
	const char *t = "REF alone, REF 42.";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "opt", "42");
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_keyword_on_one_line_finds_the_value_on_the_next)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: label-name\n"
	              "    class: name\n"
	              "    severity: patient\n"
	              "    keywords: ['patient name']\n"
	              "    validator: name\n"
	              "    pattern: '(?i:patient name):?\\s*(?<v>[A-Z][a-z]+ [A-Z][a-z]+)'\n"
	              "  - id: label-ssn\n"
	              "    class: ssn\n"
	              "    keywords: [ssn]\n"
	              "    pattern: '(?<v>\\b\\d{3}-\\d{2}-\\d{4}\\b)'\n");
	cr_assert_str_eq(eng_prefilter(x, "label-name"), "keywords");
	cr_assert_str_eq(eng_prefilter(x, "label-ssn"), "keywords");

	const char *t = "Clinic report\nPATIENT NAME:\nJohn Smith\nSSN:\n123-45-6789\n";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 2);
	eng_expect(t, &h.v[0], "label-name", "John Smith");
	eng_expect(t, &h.v[1], "label-ssn", "123-45-6789");
	eng_hits_free(&h);

	/* no keyword anywhere: a keyword rule does not run, whatever the pattern says */
	t = "Clinic report\nreference 123-45-6789\n";
	h = eng_all(x, t);
	cr_assert_eq(h.n, 0);
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_pattern_prefilter_without_keywords_finds_every_match)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: mrn\n"
	              "    class: mrn\n"
	              "    pattern: '\\bMRN-(?<v>\\d{6})\\b'\n");
	cr_assert_str_eq(eng_prefilter(x, "mrn"), "pattern");
	const char *t = "MRN-123456 first line\n\nsecond MRN-654321\nMRN-12345 is too short\n"
	                "third MRN-111111 and MRN-222222\n";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 4);
	eng_expect(t, &h.v[0], "mrn", "123456");
	eng_expect(t, &h.v[1], "mrn", "654321");
	eng_expect(t, &h.v[2], "mrn", "111111");
	eng_expect(t, &h.v[3], "mrn", "222222");
	cr_assert_eq(h.v[0].start, 4);
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_backreference_rule_still_matches)
{
	struct eng *x;
	/* Vectorscan approximates back references in prefilter mode; either way the
	 * PCRE2 pass must confirm exactly the repeated digit. */
	x = eng_build("rules:\n"
	              "  - id: backref\n"
	              "    class: id\n"
	              "    pattern: '\\bPIN (?<v>(\\d)\\2\\d\\d)\\b'\n");
	const char *pf = eng_prefilter(x, "backref");
	cr_assert(pf && (!strcmp(pf, "pattern") || !strcmp(pf, "none")), "prefilter %s", pf);
	const char *t = "PIN 1234 and PIN 5578 and PIN 9900";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 2);
	eng_expect(t, &h.v[0], "backref", "5578");
	eng_expect(t, &h.v[1], "backref", "9900");
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_rule_vectorscan_cannot_compile_runs_the_full_pcre2_pass)
{
	struct eng *x;
	/* A subroutine call (?2) is beyond Vectorscan even as a prefilter; \K too. */
	x = eng_build("rules:\n"
	              "  - id: subroutine\n"
	              "    class: id\n"
	              "    pattern: 'TOOTH (?<v>(\\d\\d)-(?2)-(?2))'\n"
	              "  - id: keep-out\n"
	              "    class: id\n"
	              "    pattern: 'CHART #\\K\\d{5}'\n"
	              "  - id: normal\n"
	              "    class: ssn\n"
	              "    keywords: [ssn]\n"
	              "    pattern: '\\d{3}-\\d{2}-\\d{4}'\n");
	cr_assert_str_eq(eng_prefilter(x, "subroutine"), "none");
	cr_assert_str_eq(eng_prefilter(x, "keep-out"), "none");
	/* the others keep their prefilter */
	cr_assert_str_eq(eng_prefilter(x, "normal"), "keywords");

	char big[20000];
	memset(big, 'x', sizeof big);
	for (size_t i = 99; i < sizeof big; i += 100)
		big[i] = '\n';
	const char *head = "TOOTH 11-22-33\n";
	memcpy(big, head, strlen(head));
	const char *tail = "\nCHART #12345 ssn 123-45-6789\n";
	memcpy(big + sizeof big - strlen(tail) - 1, tail, strlen(tail));
	big[sizeof big - 1] = 0;
	struct ehits h = eng_all(x, big);
	cr_assert_eq(h.n, 3);
	eng_expect(big, &h.v[0], "subroutine", "11-22-33");
	eng_expect(big, &h.v[1], "keep-out", "12345");
	eng_expect(big, &h.v[2], "normal", "123-45-6789");
	eng_hits_free(&h);
	eng_free(x);
}

/* The one file the cache directory holds (the test's own mkdtemp directory). */
static void eng_cache_file(const char *dir, char *path, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, cap, "%s/%s", dir, de->d_name);
			n++;
		}
	closedir(d);
	cr_assert_eq(n, 1, "cache files: %d", n);
}

Test(engine, the_prefilter_cache_gives_the_same_hits_and_a_damaged_file_is_recompiled)
{
	static const char yaml[] = "rules:\n"
	                           "  - id: subroutine\n"
	                           "    class: id\n"
	                           "    pattern: 'TOOTH (?<v>(\\d\\d)-(?2)-(?2))'\n"
	                           "  - id: normal\n"
	                           "    class: ssn\n"
	                           "    keywords: [ssn]\n"
	                           "    pattern: '\\d{3}-\\d{2}-\\d{4}'\n"
	                           "  - id: mrn\n"
	                           "    class: id\n"
	                           "    pattern: 'MRN[0-9]{6}'\n";
	static const char text[] = "TOOTH 11-22-33 then MRN123456\nssn 123-45-6789\n";
	char dir[] = "/tmp/phiscan-engcache-XXXXXX", file[600];
	cr_assert_not_null(mkdtemp(dir));
	for (int round = 0; round < 4; round++) {
		if (round == 2) {
			/* flip one byte in the middle: the checksum must refuse the file */
			eng_cache_file(dir, file, sizeof file);
			FILE *f = fopen(file, "r+b");
			cr_assert_not_null(f);
			cr_assert_eq(fseek(f, 0, SEEK_END), 0);
			long mid = ftell(f) / 2;
			cr_assert_eq(fseek(f, mid, SEEK_SET), 0);
			int c = fgetc(f);
			cr_assert_eq(fseek(f, mid, SEEK_SET), 0);
			fputc(c ^ 0x55, f);
			fclose(f);
		}
		struct eng *x = eng_build_cached(yaml, false, 0.0, dir);
		/* compiled on the first run and after the damage; read back otherwise */
		cr_assert_eq(phi_engine_from_cache(x->e), round == 1 || round == 3, "round %d", round);
		cr_assert_str_eq(eng_prefilter(x, "subroutine"), "none");
		cr_assert_str_eq(eng_prefilter(x, "normal"), "keywords");
		cr_assert_str_eq(eng_prefilter(x, "mrn"), "pattern");
		struct ehits h = eng_all(x, text);
		cr_assert_eq(h.n, 3, "round %d: %zu hits", round, h.n);
		eng_expect(text, &h.v[0], "subroutine", "11-22-33");
		eng_expect(text, &h.v[1], "mrn", "MRN123456");
		eng_expect(text, &h.v[2], "normal", "123-45-6789");
		eng_hits_free(&h);
		eng_free(x);
	}
	eng_cache_file(dir, file, sizeof file);
	cr_assert_eq(unlink(file), 0);
	cr_assert_eq(rmdir(dir), 0);
}

Test(engine, cue_required_keeps_only_matches_with_a_cue_in_the_window_before)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: ssn-cued\n"
	              "    class: ssn\n"
	              "    pattern: '\\b\\d{3}-\\d{2}-\\d{4}\\b'\n"
	              "    cues: [ssn, 'social security']\n"
	              "    cue_required: true\n"
	              "    cue_window: 16\n");
	struct {
		const char *text;
		size_t hits;
	} cases[] = {
		{"SSN 123-45-6789", 1},
		{"ssn:123-45-6789", 1},
		{"ref 123-45-6789", 0},
		{"123-45-6789 SSN", 0},            /* a cue after the value does not count */
		{"SSN             123-45-6789", 1}, /* cue starts exactly cue_window before */
		{"SSN              123-45-6789", 0}, /* one byte further: outside the window */
		{"SSNX 123-45-6789", 0},           /* whole words only */
		{"Social Security 123-45-6789", 1}, /* a two-word cue, 16 bytes before */
		{"Social Security: 123-45-6789", 0}, /* 17 bytes before: outside */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t want = cases[i].hits;
		struct ehits h = eng_all(x, cases[i].text);
		cr_assert_eq(h.n, want, "'%s': %zu hits, want %zu", cases[i].text, h.n, want);
		if (h.n)
			cr_assert(h.v[0].cue);
		eng_hits_free(&h);
	}
	eng_free(x);

	/* a pattern that includes its label extends the cue window to the match start */
	x = eng_build("rules:\n"
	              "  - id: labelled\n"
	              "    class: ssn\n"
	              "    pattern: 'Social Security(?: number)?:\\s*(?<v>\\d{3}-\\d{2}-\\d{4})'\n"
	              "    cues: ['social security']\n"
	              "    cue_required: true\n"
	              "    cue_window: 5\n");
	const char *t = "Social Security number:   123-45-6789";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "labelled", "123-45-6789");
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, confidence_is_cue_confidence_with_a_cue_and_confidence_without)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: date\n"
	              "    class: date\n"
	              "    pattern: '\\b\\d\\d/\\d\\d/\\d{4}\\b'\n"
	              "    cues: [dob, born]\n"
	              "    cue_window: 10\n"
	              "    confidence: 0.6\n"
	              "    cue_confidence: 0.9\n"
	              "  - id: default-cue\n"
	              "    class: id\n"
	              "    pattern: '\\bK\\d{4}\\b'\n"
	              "    cues: [chart]\n"
	              "    cue_window: 10\n"
	              "    confidence: 0.5\n");
	const char *t = "DOB 01/02/1990; visit 03/04/2020; chart K1234; K5678";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 4);
	eng_expect(t, &h.v[0], "date", "01/02/1990");
	cr_assert(h.v[0].cue);
	cr_assert(eng_near(h.v[0].confidence, 0.9), "%f", h.v[0].confidence);
	eng_expect(t, &h.v[1], "date", "03/04/2020");
	cr_assert(!h.v[1].cue);
	cr_assert(eng_near(h.v[1].confidence, 0.6), "%f", h.v[1].confidence);
	eng_expect(t, &h.v[2], "default-cue", "K1234");
	cr_assert(eng_near(h.v[2].confidence, 0.85), "%f", h.v[2].confidence);
	eng_expect(t, &h.v[3], "default-cue", "K5678");
	cr_assert(eng_near(h.v[3].confidence, 0.5), "%f", h.v[3].confidence);
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, min_confidence_drops_weaker_matches)
{
	static const char yaml[] = "rules:\n"
	                           "  - id: date\n"
	                           "    class: date\n"
	                           "    pattern: '\\b\\d\\d/\\d\\d/\\d{4}\\b'\n"
	                           "    cues: [dob]\n"
	                           "    cue_window: 10\n"
	                           "    confidence: 0.6\n"
	                           "    cue_confidence: 0.9\n";
	const char *t = "DOB 01/02/1990; visit 03/04/2020";
	struct eng *x;
	x = eng_build_opts(yaml, false, 0.7);
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "date", "01/02/1990");
	eng_hits_free(&h);
	eng_free(x);
	/* at exactly the threshold the match is kept */
	x = eng_build_opts(yaml, false, 0.6);
	h = eng_all(x, t);
	cr_assert_eq(h.n, 2);
	eng_hits_free(&h);
	eng_free(x);
	x = eng_build_opts(yaml, false, 0.95);
	h = eng_all(x, t);
	cr_assert_eq(h.n, 0);
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_validator_reject_drops_the_match)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: ssn\n"
	              "    class: ssn\n"
	              "    validator: ssn\n"
	              "    pattern: '\\b\\d{3}-\\d{2}-\\d{4}\\b'\n");
	const char *t = "a 000-12-3456 b 123-45-6789 c 666-12-3456 d 123-00-4567 e 123-45-0000";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "ssn", "123-45-6789");
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_strong_name_verdict_raises_confidence_to_the_cue_confidence)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: person\n"
	              "    class: name\n"
	              "    validator: name\n"
	              "    pattern: '\\b[A-Z][a-z]+ [A-Z][a-z]+\\b'\n"
	              "    confidence: 0.5\n"
	              "    cue_confidence: 0.95\n");
	/* John and Smith are in the gazetteer (given + surname): STRONG.  "Qzxv Wkrp"
	 * is two unknown capitalised words: ACCEPT at the base confidence. */
	const char *t = "seen by John Smith, then Qzxv Wkrp.";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 2, "%zu hits", h.n);
	eng_expect(t, &h.v[0], "person", "John Smith");
	cr_assert(eng_near(h.v[0].confidence, 0.95), "%f", h.v[0].confidence);
	eng_expect(t, &h.v[1], "person", "Qzxv Wkrp");
	cr_assert(eng_near(h.v[1].confidence, 0.5), "%f", h.v[1].confidence);
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, allowlisted_values_and_patterns_are_dropped)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: email\n"
	              "    class: email\n"
	              "    pattern: '[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+'\n"
	              "  - id: phone\n"
	              "    class: phone\n"
	              "    pattern: '\\b\\d{3}-\\d{3}-\\d{4}\\b'\n"
	              "allow:\n"
	              "  - id: lab\n"
	              "    values: ['Support@Lab.example']\n"
	              "    patterns: ['noreply@.*', '555-\\d{3}-\\d{4}']\n"
	              "  - id: only-phone\n"
	              "    values: ['jane@clinic.org']\n"
	              "    rules: [phone]\n");
	const char *t = "mail support@lab.example or noreply@anything.net, "
	                "jane@clinic.org, x-noreply@z.com; call 555-123-4567 or 212-555-0199";
	struct ehits h = eng_all(x, t);
	/* values compare case-insensitively; patterns are anchored at both ends, so
	 * "x-noreply@z.com" is not covered by 'noreply@.*'; an entry scoped to the
	 * phone rule does not drop an e-mail */
	cr_assert_eq(h.n, 3, "%zu hits", h.n);
	eng_expect(t, &h.v[0], "email", "jane@clinic.org");
	eng_expect(t, &h.v[1], "email", "x-noreply@z.com");
	eng_expect(t, &h.v[2], "phone", "212-555-0199");
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_path_scoped_allowlist_applies_only_to_matching_paths)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: email\n"
	              "    class: email\n"
	              "    pattern: '[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+'\n"
	              "allow:\n"
	              "  - id: logs\n"
	              "    values: ['ops@clinic.org']\n"
	              "    paths: ['*.log', 'export/*']\n");
	const char *t = "from ops@clinic.org";
	size_t n = strlen(t);
	struct {
		const char *path;
		size_t hits;
	} cases[] = {
		{"case/run.log", 0}, {"export/a.txt", 0}, {"case/notes.txt", 1},
		{"run.log.txt", 1},  {NULL, 1},
	};
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			struct ehits h = eng_run(x, t, n, 0, n, cases[i].path);
			cr_assert_eq(h.n, cases[i].hits, "path %s: %zu hits", cases[i].path, h.n);
			eng_hits_free(&h);
		}
	/* the verdict depends on the path, so none came from the memo */
	cr_assert_eq(phi_matcher_memo_hits(x->m), 0);
	eng_free(x);
}

Test(engine, overlapping_hits_resolve_to_the_longer_then_the_more_confident)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: short\n"
	              "    class: id\n"
	              "    confidence: 0.99\n"
	              "    pattern: '\\b\\d{4}-\\d{4}\\b'\n"
	              "  - id: long\n"
	              "    class: account\n"
	              "    confidence: 0.6\n"
	              "    pattern: '\\bAB-\\d{4}-\\d{4}\\b'\n"
	              "  - id: weak\n"
	              "    class: id\n"
	              "    confidence: 0.6\n"
	              "    pattern: '\\bQ\\d{6}\\b'\n"
	              "  - id: strong\n"
	              "    class: mrn\n"
	              "    confidence: 0.9\n"
	              "    pattern: '\\bQ\\d{6}\\b'\n");
	const char *t = "acct AB-1234-5678, alone 4321-8765, chart Q123456.";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 3, "%zu hits", h.n);
	/* AB-1234-5678 (long) covers 1234-5678 (short, more confident): longer wins */
	eng_expect(t, &h.v[0], "long", "AB-1234-5678");
	/* no overlap: the short rule keeps its own hit */
	eng_expect(t, &h.v[1], "short", "4321-8765");
	/* equal spans: the more confident rule wins */
	eng_expect(t, &h.v[2], "strong", "Q123456");
	cr_assert(eng_near(h.v[2].confidence, 0.9));
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, equal_spans_and_confidence_go_to_the_more_severe_rule)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: as-quasi\n"
	              "    class: id\n"
	              "    severity: quasi\n"
	              "    pattern: '\\bQ\\d{6}\\b'\n"
	              "  - id: as-patient\n"
	              "    class: mrn\n"
	              "    severity: patient\n"
	              "    pattern: '\\bQ\\d{6}\\b'\n");
	const char *t = "chart Q123456.";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "as-patient", "Q123456");
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, only_hits_starting_in_the_from_to_window_are_reported)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: ssn\n"
	              "    class: ssn\n"
	              "    pattern: '\\b\\d{3}-\\d{2}-\\d{4}\\b'\n"
	              "  - id: cued\n"
	              "    class: id\n"
	              "    cues: [chart]\n"
	              "    cue_required: true\n"
	              "    pattern: '\\bK\\d{4}\\b'\n");
	/*                  0         1         2         3         4         5
	 *                  012345678901234567890123456789012345678901234567890123
	 * values start at 0, 16, 32; "chart" at 44, K1234 at 50 */
	const char *t = "111-22-3333 and 444-55-6666 and 777-88-9999 chart K1234";
	size_t n = strlen(t);
	struct ehits h = eng_run(x, t, n, 16, 32, NULL);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "ssn", "444-55-6666");
	eng_hits_free(&h);
	/* a hit starting before from is not reported even though it ends inside */
	h = eng_run(x, t, n, 17, n, NULL);
	cr_assert_eq(h.n, 2);
	eng_expect(t, &h.v[0], "ssn", "777-88-9999");
	eng_hits_free(&h);
	/* a hit starting exactly at to is not reported */
	h = eng_run(x, t, n, 0, 32, NULL);
	cr_assert_eq(h.n, 2);
	cr_assert_eq(h.v[1].start, 16);
	eng_hits_free(&h);
	/* bytes before from still serve as cue context (look-behind) */
	h = eng_run(x, t, n, 50, n, NULL);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "cued", "K1234");
	eng_hits_free(&h);
	/* an empty window reports nothing */
	h = eng_run(x, t, n, 20, 20, NULL);
	cr_assert_eq(h.n, 0);
	eng_hits_free(&h);
	eng_free(x);
}

/* Every match of pattern's value group (v or 1) over text, by plain PCRE2. */
static size_t eng_reference(const char *pattern, const char *text, size_t len,
                            size_t *starts, size_t cap)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	cr_assert_not_null(re);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	size_t n = 0, pos = 0;
	while (pos <= len && pcre2_match(re, (PCRE2_SPTR)text, len, pos, 0, md, NULL) >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		cr_assert(n < cap);
		starts[n++] = ov[2];
		pos = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return n;
}

Test(engine, a_5mb_text_with_a_match_every_50kb_finds_every_one_like_a_full_pass)
{
	static const char yaml[] = "rules:\n"
	                           "  - id: kw\n"
	                           "    class: ssn\n"
	                           "    keywords: [ssn]\n"
	                           "    pattern: '(?i:ssn):?\\s*(\\d{3}-\\d{2}-\\d{4})'\n"
	                           "  - id: pf\n"
	                           "    class: mrn\n"
	                           "    pattern: '\\bMRN(\\d{7})\\b'\n";
	const size_t size = 5u << 20, step = 50000;
	char *t = malloc(size + 1);
	cr_assert_not_null(t);
	static const char filler[] = "the quick brown fox jumps over the lazy dog, tooth 14 "
	                             "mesial crown prep margin ok\n";
	for (size_t i = 0; i < size; i++)
		t[i] = filler[i % (sizeof filler - 1)];
	t[size] = 0;
	size_t planted_kw[200], planted_pf[200], nk = 0, np = 0;
	char buf[64];
	for (size_t at = 1000, k = 0; at + 64 < size; at += step, k++) {
		/* alternate: the label on the line before, or on the same line */
		int n = snprintf(buf, sizeof buf, k % 2 ? "\nSSN:\n%03zu-45-%04zu\n" : " ssn %03zu-45-%04zu ",
		                 100 + k, k);
		memcpy(t + at, buf, (size_t)n);
		planted_kw[nk++] = at + (size_t)n - 12;
		n = snprintf(buf, sizeof buf, " MRN%07zu ", 1000000 + k);
		memcpy(t + at + 30, buf, (size_t)n);
		planted_pf[np++] = at + 30 + 4;
	}
	cr_assert_geq(nk, 100);

	struct eng *x;
	x = eng_build(yaml);
	struct ehits h = eng_run(x, t, size, 0, size, NULL);
	size_t ref_kw[400], ref_pf[400];
	size_t nrk = eng_reference("(?i:ssn):?\\s*(\\d{3}-\\d{2}-\\d{4})", t, size, ref_kw, 400);
	size_t nrp = eng_reference("\\bMRN(\\d{7})\\b", t, size, ref_pf, 400);
	cr_assert_eq(nrk, nk);
	cr_assert_eq(nrp, np);
	cr_assert_eq(h.n, nk + np, "%zu hits, want %zu", h.n, nk + np);
	size_t ik = 0, ip = 0;
	for (size_t i = 0; i < h.n; i++) {
		if (!strcmp(h.v[i].rule->id, "kw")) {
			cr_assert_lt(ik, nk);
			cr_assert_eq(h.v[i].start, ref_kw[ik]);
			cr_assert_eq(h.v[i].start, planted_kw[ik]);
			cr_assert_eq(h.v[i].end - h.v[i].start, 11);
			ik++;
		} else {
			cr_assert_lt(ip, np);
			cr_assert_eq(h.v[i].start, ref_pf[ip]);
			cr_assert_eq(h.v[i].start, planted_pf[ip]);
			ip++;
		}
	}
	cr_assert_eq(ik, nk);
	cr_assert_eq(ip, np);
	eng_hits_free(&h);
	eng_free(x);
	free(t);
}

Test(engine, safe_harbor_rules_run_only_when_asked)
{
	static const char yaml[] = "rules:\n"
	                           "  - id: year\n"
	                           "    class: date\n"
	                           "    safe_harbor: true\n"
	                           "    pattern: '\\b(?:19|20)\\d\\d\\b'\n"
	                           "  - id: ssn\n"
	                           "    class: ssn\n"
	                           "    pattern: '\\b\\d{3}-\\d{2}-\\d{4}\\b'\n";
	const char *t = "in 1987, 123-45-6789";
	struct eng *x;
	x = eng_build_opts(yaml, false, 0);
	cr_assert_eq(phi_engine_rule_count(x->e), 1);
	cr_assert_str_eq(phi_engine_rule(x->e, 0, NULL)->id, "ssn");
	cr_assert_null(phi_engine_rule(x->e, 1, NULL));
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 1);
	eng_expect(t, &h.v[0], "ssn", "123-45-6789");
	eng_hits_free(&h);
	eng_free(x);

	x = eng_build_opts(yaml, true, 0);
	cr_assert_eq(phi_engine_rule_count(x->e), 2);
	h = eng_all(x, t);
	cr_assert_eq(h.n, 2);
	eng_expect(t, &h.v[0], "year", "1987");
	eng_expect(t, &h.v[1], "ssn", "123-45-6789");
	eng_hits_free(&h);
	eng_free(x);
}

struct efail {
	int calls;
	char why[8][256];
	char rule[8][64];
	char text[8][128];
};

static void eng_on_fail(void *arg, const struct phi_rule *r, const char *text, const char *why)
{
	struct efail *f = arg;
	if (f->calls < 8) {
		snprintf(f->why[f->calls], sizeof f->why[0], "%s", why);
		snprintf(f->rule[f->calls], sizeof f->rule[0], "%s", r->id);
		snprintf(f->text[f->calls], sizeof f->text[0], "%s", text);
	}
	f->calls++;
}

Test(engine, rule_examples_pass_on_a_good_pack)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: ssn\n"
	              "    class: ssn\n"
	              "    keywords: [ssn]\n"
	              "    validator: ssn\n"
	              "    pattern: '(?i:ssn):?\\s*(?<v>\\d{3}-\\d{2}-\\d{4})'\n"
	              "    examples:\n"
	              "      match: ['SSN 123-45-6789', {text: 'ssn: 234-56-7890', value: '234-56-7890'}]\n"
	              "      no_match: ['SSN 000-12-3456', '123-45-6789']\n");
	struct efail f = {0};
	size_t count = 0;
	cr_assert_eq(phi_engine_test_examples(x->e, eng_on_fail, &f, &count), 0, "%s: %s",
	             f.text[0], f.why[0]);
	cr_assert_eq(count, 4);
	cr_assert_eq(f.calls, 0);
	eng_free(x);
}

Test(engine, a_match_example_that_cannot_match_is_one_failure)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: digits\n"
	              "    class: id\n"
	              "    pattern: '\\b\\d{5}\\b'\n"
	              "    examples:\n"
	              "      match: ['id 12345', 'id abcde']\n"
	              "      no_match: ['id 1234']\n");
	struct efail f = {0};
	size_t count = 0;
	cr_assert_eq(phi_engine_test_examples(x->e, eng_on_fail, &f, &count), 1);
	cr_assert_eq(count, 3);
	cr_assert_eq(f.calls, 1);
	cr_assert_str_eq(f.rule[0], "digits");
	cr_assert_str_eq(f.text[0], "id abcde");
	cr_assert_str_eq(f.why[0], "no match");
	eng_free(x);
}

Test(engine, example_failures_say_why_value_mismatch_and_no_match_that_matches)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: digits\n"
	              "    class: id\n"
	              "    pattern: '\\b\\d{5}\\b'\n"
	              "    examples:\n"
	              "      match: [{text: 'id 12345', value: '54321'}]\n"
	              "      no_match: ['id 99999']\n");
	struct efail f = {0};
	size_t count = 0;
	cr_assert_eq(phi_engine_test_examples(x->e, eng_on_fail, &f, &count), 2);
	cr_assert_eq(count, 2);
	cr_assert_eq(f.calls, 2);
	cr_assert_str_eq(f.why[0], "expected value not matched");
	cr_assert_str_eq(f.why[1], "matched, but must not");
	cr_assert_str_eq(f.text[1], "id 99999");
	eng_free(x);
}

Test(engine, an_example_the_keywords_do_not_cover_blames_the_prefilter)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: ssn\n"
	              "    class: ssn\n"
	              "    keywords: [ssn]\n"
	              "    pattern: '\\b\\d{3}-\\d{2}-\\d{4}\\b'\n"
	              "    examples:\n"
	              "      match: ['social security 123-45-6789']\n");
	struct efail f = {0};
	size_t count = 0;
	cr_assert_eq(phi_engine_test_examples(x->e, eng_on_fail, &f, &count), 1);
	cr_assert_eq(count, 1);
	cr_assert_str_eq(f.rule[0], "ssn");
	cr_assert_not_null(strstr(f.why[0], "prefilter"), "why: %s", f.why[0]);
	eng_free(x);
}

Test(engine, invalid_utf8_and_nul_bytes_do_not_stop_ascii_matches)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: ssn\n"
	              "    class: ssn\n"
	              "    pattern: '\\b\\d{3}-\\d{2}-\\d{4}\\b'\n"
	              "  - id: kw\n"
	              "    class: mrn\n"
	              "    keywords: [mrn]\n"
	              "    cues: [mrn]\n"
	              "    pattern: '\\b\\d{6}\\b'\n");
	static const char t[] = "\xff\xfe\x00 123-45-6789 \x00\x00\xc3\x28 MRN \x80\x80 654321 \xed\xa0\x80"
	                        "\x00\n\xf5\xff 987-65-4321\xc0\xaf";
	size_t n = sizeof t - 1;
	struct ehits h = eng_run(x, t, n, 0, n, NULL);
	cr_assert_eq(h.n, 3, "%zu hits", h.n);
	eng_expect(t, &h.v[0], "ssn", "123-45-6789");
	cr_assert_eq(h.v[0].start, 4);
	eng_expect(t, &h.v[1], "kw", "654321");
	cr_assert(h.v[1].cue);
	eng_expect(t, &h.v[2], "ssn", "987-65-4321");
	eng_hits_free(&h);

	/* nothing but hostile bytes: no hit, no crash */
	char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 131 + 7);
	h = eng_run(x, junk, sizeof junk, 0, sizeof junk, "junk.bin");
	eng_hits_free(&h);
	/* empty text */
	h = eng_run(x, "", 0, 0, 0, NULL);
	cr_assert_eq(h.n, 0);
	eng_hits_free(&h);
	eng_free(x);
}

Test(engine, a_bad_pattern_fails_compilation_naming_the_rule)
{
	struct phi_pack pack = {0};
	struct phi_error err = {0};
	struct phi_engine *e = (struct phi_engine *)1;
	static const char yaml[] = "rules:\n"
	                           "  - id: good\n"
	                           "    class: id\n"
	                           "    pattern: 'x'\n"
	                           "  - id: broken\n"
	                           "    class: id\n"
	                           "    pattern: '(unclosed'\n";
	cr_assert_eq(phi_pack_load_string(&pack, yaml, strlen(yaml), "bad.yaml", &err), 0);
	struct phi_engine_opts o = {0};
	cr_assert_eq(phi_engine_new(&e, &pack, NULL, &o, &err), PHI_ERULE);
	cr_assert_null(e);
	cr_assert(!strncmp(err.msg, "bad.yaml:5: rule 'broken': bad pattern", 38), "%s", err.msg);
	phi_pack_free(&pack);

	static const char yaml2[] = "rules:\n"
	                            "  - id: good\n"
	                            "    class: id\n"
	                            "    pattern: 'x'\n"
	                            "allow:\n"
	                            "  - id: bad-allow\n"
	                            "    patterns: ['[a-']\n";
	cr_assert_eq(phi_pack_load_string(&pack, yaml2, strlen(yaml2), "bad.yaml", &err), 0);
	cr_assert_eq(phi_engine_new(&e, &pack, NULL, &o, &err), PHI_ERULE);
	cr_assert(!strncmp(err.msg, "bad.yaml:6: allow 'bad-allow': bad pattern", 42), "%s",
	          err.msg);
	phi_pack_free(&pack);
}

static int eng_stop_after_two(void *arg, const struct phi_hit *h)
{
	int *calls = arg;
	(void)h;
	return ++*calls == 2;
}

Test(engine, the_callback_can_stop_early)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: d\n"
	              "    class: id\n"
	              "    pattern: '\\b\\d{4}\\b'\n");
	const char *t = "1111 2222 3333 4444";
	int calls = 0;
	cr_assert_eq(phi_engine_match(x->m, t, strlen(t), 0, strlen(t), NULL, eng_stop_after_two,
	                              &calls), 0);
	cr_assert_eq(calls, 2);
	/* the matcher is reusable afterwards */
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 4);
	eng_hits_free(&h);
	eng_free(x);
}

/* BUG (scanner/engine.c, on_prefilter): a keyword hit whose end falls inside the
 * rule's last window is dropped ("already inside the last window"), but a keyword
 * window is the keyword's line AND the next one, so the second hit's window
 * reaches one line further than the first's.  "Patient Information\nPatient
 * Name:\nJohn Smith" opens lines 1-2 for the first "Patient" and drops the second,
 * so line 3 with the value is never confirmed and the name is missed; the full
 * PCRE2 pass finds it.  Expected: the window grows to the second hit's next line
 * (add_window already merges overlapping windows). */
Test(engine, a_second_keyword_on_the_next_line_still_opens_its_own_next_line)
{
	struct eng *x;
	x = eng_build("rules:\n"
	              "  - id: label-name\n"
	              "    class: name\n"
	              "    keywords: [patient]\n"
	              "    pattern: '(?i:patient(?: name)?):?\\s*(?<v>[A-Z][a-z]+ [A-Z][a-z]+)'\n");
	/* control: one keyword line, the value on the next */
	const char *t = "Patient Name:\nJohn Smith\n";
	struct ehits h = eng_all(x, t);
	cr_assert_eq(h.n, 1);
	eng_hits_free(&h);
	t = "Patient Information\nPatient Name:\nJohn Smith\n";
	h = eng_all(x, t);
	cr_assert_eq(h.n, 1, "value on the line after the second keyword line was missed");
	eng_expect(t, &h.v[0], "label-name", "John Smith");
	eng_hits_free(&h);
	eng_free(x);
}

/* A value inside an unbroken base64 run of 64+ characters is payload, not text
 * (3Shape scans embed meshes as base64 in XML: "...H7DrYp4/goR8..." must not be a
 * doctor).  The same letters standing free are still found. */
Test(engine, a_value_inside_a_long_base64_run_is_not_reported, .fini = eng_fini)
{
	struct eng *x = eng_build("rules:\n"
	                          "  - id: word\n"
	                          "    class: name\n"
	                          "    severity: patient\n"
	                          "    pattern: '(?<v>Smith)'\n");
	const char *blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamtsbW5vcHFy"
	                   "SmithdHV2d3h5ejAxMjM0NTY3ODkrLw==";
	const char *free_text = "Patient Smith came in; payload QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0";
	struct ehits h = eng_all(x, blob);
	cr_expect_eq(h.n, 0, "a value inside a base64 run was reported");
	eng_hits_free(&h);
	h = eng_all(x, free_text);
	cr_expect_eq(h.n, 1, "the free-standing value was not reported");
	eng_hits_free(&h);
}

/* A verified rule (its pack checked by the build, rules.h) is compiled on first use:
 * none at start, only the rules the prefilter sent to PCRE2 after a match, each
 * once, and the hits are those of the same pack compiled at start. */
Test(engine, a_verified_rule_is_compiled_on_first_use_and_finds_what_a_rule_compiled_at_start_finds)
{
	static const char yaml[] = "rules:\n"
	                           "  - id: ssn\n"
	                           "    class: ssn\n"
	                           "    pattern: '\\b(?<v>\\d{3}-\\d{2}-\\d{4})\\b'\n"
	                           "  - id: mrn\n"
	                           "    class: mrn\n"
	                           "    keywords: [mrn]\n"
	                           "    pattern: '(?i)mrn:?\\s*(\\d{6,9})'\n"
	                           "  - id: never\n"
	                           "    class: id\n"
	                           "    keywords: [zzqqx]\n"
	                           "    pattern: 'zzqqx(\\d+)'\n";
	static const char text[] = "Patient MRN: 12345678, SSN 482-31-7765.\n"
	                           "Second visit, MRN 7654321 and 123-45-6789.\n";
	struct eng *now = eng_build(yaml);
	struct eng *lazy = eng_build_full(yaml, false, 0.0, NULL, true);
	cr_assert_eq(phi_engine_compiled_count(now->e), 3);
	cr_assert_eq(phi_engine_compiled_count(lazy->e), 0);
	struct ehits a = eng_all(now, text), b = eng_all(lazy, text);
	cr_assert_eq(a.n, 4);
	cr_assert_eq(b.n, a.n);
	for (size_t i = 0; i < a.n; i++) {
		cr_assert_eq(b.v[i].start, a.v[i].start, "hit %zu", i);
		cr_assert_eq(b.v[i].end, a.v[i].end, "hit %zu", i);
		cr_assert_str_eq(b.v[i].rule->id, a.v[i].rule->id);
		cr_assert_eq(b.v[i].confidence, a.v[i].confidence);
	}
	/* ssn and mrn ran, "never" had no keyword in the text */
	cr_assert_eq(phi_engine_compiled_count(lazy->e), 2);
	struct ehits c = eng_all(lazy, text);
	cr_assert_eq(c.n, a.n);
	cr_assert_eq(phi_engine_compiled_count(lazy->e), 2, "compiled once, not per match");
	eng_hits_free(&a);
	eng_hits_free(&b);
	eng_hits_free(&c);
	eng_free(now);
	eng_free(lazy);
}

/* Workers share the engine: the first uses of one lazily compiled rule race. */
struct eng_race {
	struct phi_matcher *m;
	const char *text;
	size_t nhits;
};

static int eng_count_hit(void *arg, const struct phi_hit *h)
{
	(void)h;
	(*(size_t *)arg)++;
	return 0;
}

static void *eng_race_run(void *arg)
{
	struct eng_race *r = arg;
	for (int i = 0; i < 50; i++)
		if (phi_engine_match(r->m, r->text, strlen(r->text), 0, strlen(r->text), NULL,
		                     eng_count_hit, &r->nhits))
			return (void *)1;
	return NULL;
}

static const char race_yaml[] = "rules:\n"
                                "  - id: ssn\n"
                                "    class: ssn\n"
                                "    pattern: '\\b(?<v>\\d{3}-\\d{2}-\\d{4})\\b'\n"
                                "  - id: mrn\n"
                                "    class: mrn\n"
                                "    keywords: [mrn]\n"
                                "    pattern: '(?i)mrn:?\\s*(\\d{6,9})'\n";

/* Four workers, each with its own matcher, match race_yaml's two rules at once; each
 * must find both hits on every one of its 50 rounds. */
static void race_four(struct eng *x)
{
	struct eng_race r[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		r[i].text = "MRN: 12345678 and SSN 482-31-7765";
		r[i].nhits = 0;
		cr_assert_eq(phi_matcher_new(&r[i].m, x->e), 0);
		cr_assert_eq(pthread_create(&t[i], NULL, eng_race_run, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *ret;
		cr_assert_eq(pthread_join(t[i], &ret), 0);
		cr_assert_null(ret, "worker %d: match failed", i);
		cr_assert_eq(r[i].nhits, 100, "worker %d", i);
		phi_matcher_free(r[i].m);
	}
}

Test(engine, workers_racing_to_a_rules_first_use_compile_it_once_and_all_find_its_hits)
{
	struct eng *x = eng_build_full(race_yaml, false, 0.0, NULL, true);
	race_four(x);
	cr_assert_eq(phi_engine_compiled_count(x->e), 2);
	eng_free(x);
}

/* Adaptive JIT (engine.c): a pattern runs interpreted until the interpreter's time
 * reaches its budget, then a JIT-compiled copy takes over; the hits never depend on
 * which code matched.  One engine never JITs (a budget no run reaches), one JITs
 * after the first match, one has the default budget (measured time decides). */
Test(engine, a_pattern_runs_interpreted_until_it_proves_hot_and_the_jit_finds_the_same_hits)
{
	static const char yaml[] = "rules:\n"
	                           "  - id: ssn\n"
	                           "    class: ssn\n"
	                           "    pattern: '\\b(?<v>\\d{3}-\\d{2}-\\d{4})\\b'\n"
	                           "  - id: mrn\n"
	                           "    class: mrn\n"
	                           "    keywords: [mrn]\n"
	                           "    pattern: '(?i)mrn:?\\s*(\\d{6,9})'\n"
	                           "allow:\n"
	                           "  - id: test-ssn\n"
	                           "    patterns: ['000-\\d\\d-\\d{4}']\n";
	static const char text[] = "Patient MRN: 12345678, SSN 482-31-7765.\n"
	                           "Second visit, MRN 7654321 and 123-45-6789, test 000-12-3456.\n";
	eng_jit_scale = 1e12;
	struct eng *never = eng_build_full(yaml, false, 0.0, NULL, true);
	eng_jit_scale = -1;
	struct eng *soon = eng_build_full(yaml, false, 0.0, NULL, true);
	eng_jit_scale = 0;
	struct eng *dflt = eng_build_full(yaml, false, 0.0, NULL, true);
	struct ehits a = eng_all(never, text);
	cr_assert_eq(a.n, 4, "the allowed test number is not a hit");
	for (int round = 0; round < 3; round++) {
		struct ehits b = eng_all(soon, text), c = eng_all(never, text), d = eng_all(dflt, text);
		cr_assert_eq(b.n, a.n, "round %d", round);
		cr_assert_eq(c.n, a.n, "round %d", round);
		cr_assert_eq(d.n, a.n, "round %d", round);
		for (size_t i = 0; i < a.n; i++) {
			cr_assert_eq(b.v[i].start, a.v[i].start, "hit %zu", i);
			cr_assert_eq(b.v[i].end, a.v[i].end, "hit %zu", i);
			cr_assert_str_eq(b.v[i].rule->id, a.v[i].rule->id);
			cr_assert_eq(d.v[i].start, a.v[i].start, "hit %zu", i);
		}
		eng_hits_free(&b);
		eng_hits_free(&c);
		eng_hits_free(&d);
	}
	/* ssn, mrn and the allow pattern, each compiled once; none in the others */
	cr_assert_eq(phi_engine_jit_count(soon->e), 3);
	cr_assert_eq(phi_engine_jit_count(never->e), 0);
	cr_assert_leq(phi_engine_jit_count(dflt->e), 3); /* when depends on the clock */
	eng_hits_free(&a);
	eng_free(never);
	eng_free(soon);
	eng_free(dflt);
}

/* Workers race to JIT the same patterns while others match them interpreted: each
 * pattern is compiled and published once, every worker finds every hit. */
Test(engine, workers_racing_to_jit_a_hot_pattern_publish_it_once_and_all_find_its_hits)
{
	eng_jit_scale = -1;
	struct eng *x = eng_build_full(race_yaml, false, 0.0, NULL, true);
	eng_jit_scale = 0;
	race_four(x);
	cr_assert_eq(phi_engine_compiled_count(x->e), 2);
	cr_assert_eq(phi_engine_jit_count(x->e), 2);
	eng_free(x);
}

/* ---- memo ---- */

static const char memo_yaml[] = "rules:\n"
                                "  - id: ssn\n"
                                "    class: ssn\n"
                                "    pattern: '\\b(?<v>\\d{3}-\\d{2}-\\d{4})\\b'\n"
                                "  - id: mrn\n"
                                "    class: mrn\n"
                                "    keywords: [mrn]\n"
                                "    cues: [chart]\n"
                                "    confidence: 0.5\n"
                                "    cue_confidence: 0.9\n"
                                "    pattern: '(?i)mrn:?\\s*(\\d{6,9})'\n"
                                "allow:\n"
                                "  - id: test-ssn\n"
                                "    patterns: ['000-\\d\\d-\\d{4}']\n";

/* Text i of the memo tests: short values that repeat (i % 97), some with hits, a few
 * past the memo's 128 bytes, windows narrower than the text for some. */
static size_t memo_text(unsigned i, char *t, size_t cap, size_t *from, size_t *to)
{
	unsigned k = i % 97;
	int n;
	if (k % 5 == 0)
		n = snprintf(t, cap, "chart MRN %07u, SSN %03u-45-%04u", 1000000 + k, 100 + k, k);
	else if (k % 5 == 1)
		n = snprintf(t, cap, "SSN 000-12-%04u and 482-31-%04u", k, k + 1);
	else if (k % 5 == 2)
		n = snprintf(t, cap, "Bright Smile Dental %u", k);
	else if (k % 5 == 3)
		n = snprintf(t, cap, "%0150u MRN %08u", k, 20000000 + k); /* 150+ bytes */
	else
		n = snprintf(t, cap, "MRN: %07u", 3000000 + k);
	size_t len = (size_t)n;
	*from = 0;
	*to = len;
	if (i % 7 == 3) { /* a window: only hits starting in it */
		*from = len / 3;
		*to = len - 2;
	}
	return len;
}

/* A matcher remembers its verdicts on short values, and a remembered verdict is the
 * one a matcher without the memo finds: the same hits, spans, rules, confidence and
 * cue, over values that repeat, values evicted by others, windows and long values. */
Test(engine, a_value_seen_again_gets_from_the_memo_the_hits_a_fresh_match_finds)
{
	struct eng *x = eng_build(memo_yaml);
	struct phi_matcher *plain = NULL;
	cr_assert_eq(phi_matcher_new(&plain, x->e), 0);
	phi_matcher_memo(plain, false);
	size_t nhit_total = 0;
	for (unsigned i = 0; i < 3000; i++) {
		char t[256];
		size_t from, to, len = memo_text(i * 7919u, t, sizeof t, &from, &to);
		struct ehits a = {0}, b = {0};
		cr_assert_eq(phi_engine_match(x->m, t, len, from, to, NULL, eng_collect, &a), 0);
		cr_assert_eq(phi_engine_match(plain, t, len, from, to, NULL, eng_collect, &b), 0);
		cr_assert_eq(a.n, b.n, "text %u: %zu hits against %zu", i, a.n, b.n);
		for (size_t j = 0; j < a.n; j++) {
			cr_assert_eq(a.v[j].start, b.v[j].start, "text %u hit %zu", i, j);
			cr_assert_eq(a.v[j].end, b.v[j].end, "text %u hit %zu", i, j);
			cr_assert_eq(a.v[j].rule, b.v[j].rule, "text %u hit %zu", i, j);
			cr_assert(a.v[j].confidence == b.v[j].confidence, "text %u hit %zu", i, j);
			cr_assert_eq(a.v[j].cue, b.v[j].cue, "text %u hit %zu", i, j);
		}
		nhit_total += a.n;
		free(a.v);
		free(b.v);
	}
	cr_assert_gt(nhit_total, 1000, "the texts have hits to remember: %zu", nhit_total);
	/* 97 distinct texts, a fifth too long, about 160 keys with the windows in 256
	 * slots: past first sights and evictions, over half of the 3,000 from the memo */
	cr_assert_gt(phi_matcher_memo_hits(x->m), 1500, "%zu", phi_matcher_memo_hits(x->m));
	cr_assert_eq(phi_matcher_memo_hits(plain), 0);
	phi_matcher_free(plain);
	eng_free(x);
}

/* Only short values with few hits are kept: a value over 128 bytes or with more than
 * four hits is matched again each time, and so is a failed match. */
Test(engine, long_values_and_values_with_many_hits_are_matched_again_not_remembered)
{
	struct eng *x = eng_build(memo_yaml);
	char longer[200];
	memset(longer, 'x', sizeof longer);
	memcpy(longer + 100, " 482-31-7765 ", 13);
	static const char five[] = "111-11-1111 222-22-2222 333-33-3333 444-44-4444 555-55-5555";
	static const char four[] = "111-11-1111 222-22-2222 333-33-3333 444-44-4444";
	for (int round = 0; round < 2; round++) {
		struct ehits a = eng_run(x, longer, sizeof longer, 0, sizeof longer, NULL);
		struct ehits b = eng_all(x, five);
		cr_assert_eq(a.n, 1);
		cr_assert_eq(b.n, 5);
		eng_hits_free(&a);
		eng_hits_free(&b);
	}
	cr_assert_eq(phi_matcher_memo_hits(x->m), 0);
	for (int round = 0; round < 2; round++) {
		struct ehits c = eng_all(x, four);
		cr_assert_eq(c.n, 4);
		eng_hits_free(&c);
	}
	cr_assert_eq(phi_matcher_memo_hits(x->m), 1);
	eng_free(x);
}
