/* test_finding.c - phi_result ownership: add moves a finding in, clear and free
 * release everything.  Run under ASan (make test-asan): LeakSanitizer proves that
 * nothing leaks and nothing is freed twice. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../scanner/finding.h"

/* Under ASan, fail the test itself on a leak: LeakSanitizer's report at process
 * exit is printed but does not fail a Criterion test. */
#if defined(__SANITIZE_ADDRESS__)
#define FINDING_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FINDING_HAVE_LSAN 1
#endif
#endif
#ifdef FINDING_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
static void assert_no_leaks(void)
{
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (see the report above)");
}
#else
static void assert_no_leaks(void)
{
}
#endif

static struct phi_finding make_finding(const char *rule, uint64_t start, bool with_value)
{
	struct phi_finding f = {0};
	f.rule = strdup(rule);
	f.cls = "name";
	f.severity = PHI_SEV_PATIENT;
	f.confidence = 0.9;
	f.field = strdup("(0010,0010)");
	f.start = start;
	f.end = start + 4;
	f.excerpt = strdup("Patient: [NAME]");
	f.value = with_value ? strdup("Jane Roe") : NULL;
	f.replacement = strdup("[NAME]");
	return f;
}

Test(finding, add_moves_the_finding_into_the_result)
{
	struct phi_result r = {0};
	struct phi_finding f = make_finding("person-name", 10, true);
	char *rule = f.rule;

	cr_assert_eq(phi_result_add(&r, &f), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_geq(r.cap, 1);
	/* moved, not copied: the same pointers now live in r */
	cr_assert_eq(r.v[0].rule, rule);
	cr_assert_str_eq(r.v[0].rule, "person-name");
	cr_assert_str_eq(r.v[0].value, "Jane Roe");
	cr_assert_eq(r.v[0].start, 10);
	phi_result_clear(&r);
	assert_no_leaks();
}

Test(finding, add_grows_past_the_first_capacity_and_keeps_order)
{
	struct phi_result r = {0};

	for (uint64_t i = 0; i < 100; i++) {
		struct phi_finding f = make_finding(i % 2 ? "odd" : "even", i, i % 3 == 0);
		cr_assert_eq(phi_result_add(&r, &f), 0);
	}
	cr_assert_eq(r.n, 100);
	cr_assert_geq(r.cap, 100);
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_eq(r.v[i].start, i);
		cr_assert_str_eq(r.v[i].rule, i % 2 ? "odd" : "even");
	}
	phi_result_clear(&r);
	assert_no_leaks();
}

Test(finding, clear_releases_everything_and_leaves_a_reusable_zeroed_result)
{
	struct phi_result r = {0};
	struct phi_finding f = make_finding("email", 0, false);

	r.path = strdup("case/notes.txt");
	r.reason = strdup("truncated");
	r.out_path = strdup("clean/notes.txt");
	r.format = "text";
	cr_assert_eq(phi_result_add(&r, &f), 0);
	phi_result_clear(&r);
	cr_assert_null(r.v);
	cr_assert_null(r.path);
	cr_assert_null(r.reason);
	cr_assert_null(r.out_path);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.cap, 0);

	/* reusable after clear */
	f = make_finding("phone", 5, true);
	cr_assert_eq(phi_result_add(&r, &f), 0);
	cr_assert_eq(r.n, 1);
	phi_result_clear(&r);
	phi_result_clear(&r); /* idempotent */
	assert_no_leaks();
}

Test(finding, free_releases_a_heap_result_and_accepts_null)
{
	struct phi_result *r = calloc(1, sizeof *r);
	cr_assert_not_null(r);
	r->path = strdup("a.txt");
	for (int i = 0; i < 3; i++) {
		struct phi_finding f = make_finding("ssn", (uint64_t)i, true);
		cr_assert_eq(phi_result_add(r, &f), 0);
	}
	phi_result_free(r);
	phi_result_free(NULL);
	phi_result_clear(NULL);
	assert_no_leaks();
}

Test(finding, a_finding_with_only_a_rule_is_released_cleanly)
{
	struct phi_result r = {0};
	struct phi_finding f = {0};
	f.rule = strdup("dicom-annex-e");
	f.start = f.end = PHI_NO_OFFSET;
	cr_assert_eq(phi_result_add(&r, &f), 0);
	cr_assert_null(r.v[0].field);
	cr_assert_null(r.v[0].value);
	phi_result_clear(&r);
	assert_no_leaks();
}
