/* test_ops.c - de-identification operators and the policy (scanner/ops.c).
 *
 * Run from the repository root: the gazetteer (rules/names) and the restricted ZIP3
 * list (rules/zip3-restricted.txt) are read from there.  Keys are written to
 * mkdtemp directories. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../scanner/names.h"
#include "../scanner/ops.h"
#include "../scanner/rules.h"

#define OPS_NAMES_DIR "rules/names"
#define OPS_ZIP3_FILE "rules/zip3-restricted.txt"

static char ops_tmpdir[256];
static int ops_nfiles;

static void ops_setup(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(ops_tmpdir, sizeof ops_tmpdir, "%s/phiscan-ops-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(ops_tmpdir));
	ops_nfiles = 0;
}

static void ops_teardown(void)
{
	char path[300];
	for (int i = 0; i < ops_nfiles; i++) {
		snprintf(path, sizeof path, "%s/f%d", ops_tmpdir, i);
		unlink(path);
	}
	rmdir(ops_tmpdir);
}

TestSuite(ops, .init = ops_setup, .fini = ops_teardown);

/* Write bytes to a new file in the test's temp dir; returns its path (static slot). */
static const char *ops_write(const void *data, size_t n)
{
	static char path[300];
	snprintf(path, sizeof path, "%s/f%d", ops_tmpdir, ops_nfiles++);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void ops_keyed(struct phi_policy *p, const char *secret)
{
	struct phi_error err = {0};
	phi_policy_init(p);
	cr_assert_eq(phi_policy_load_key(p, ops_write(secret, strlen(secret)), &err), 0, "%s",
	             err.msg);
}

static void ops_set(struct phi_policy *p, const char *spec)
{
	struct phi_error err = {0};
	cr_assert_eq(phi_policy_set(p, spec, &err), 0, "%s: %s", spec, err.msg);
}

/* Replacement of v as a NUL-terminated string in a static slot: one of 64 used in
 * turn, so a result stays valid for the next 63 calls of the same test. */
static const char *ops_rep(const struct phi_policy *p, const char *cls, const char *v)
{
	static char slots[64][256];
	static int next;
	char *out = slots[next++ % 64];
	size_t len = 999;
	int rc = phi_replace(p, cls, v, strlen(v), out, sizeof slots[0], &len);
	cr_assert_eq(rc, 0, "phi_replace(%s, %s) = %d", cls ? cls : "NULL", v, rc);
	cr_assert_eq(len, strlen(out));
	return out;
}

/* Same layout: digits where v has digits, upper/lower letters likewise, every other
 * byte identical. */
static bool ops_same_shape(const char *a, const char *b)
{
	if (strlen(a) != strlen(b))
		return false;
	for (; *a; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (isdigit(x) ? !isdigit(y)
		    : isupper(x) ? !isupper(y)
		    : islower(x) ? !islower(y) : x != y)
			return false;
	}
	return true;
}

static bool ops_is_hash(const char *s, const char *tag)
{
	size_t t = strlen(tag) - 1; /* without ']' */
	if (strncmp(s, tag, t) != 0 || s[t] != ':' || strlen(s) != t + 1 + 16 + 1 ||
	    s[t + 17] != ']')
		return false;
	for (size_t i = t + 1; i < t + 17; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static long ops_days(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
	return (long)(timegm(&tm) / 86400);
}

/* ---- policy ---- */

Test(ops, set_parses_global_and_per_class_operators)
{
	struct phi_policy p;
	phi_policy_init(&p);
	cr_assert_eq(p.global, PHI_OP_TAG);
	ops_set(&p, "mask");
	ops_set(&p, "name=pseudo");
	ops_set(&p, "date=hash");
	ops_set(&p, "zip=remove");
	cr_assert_eq(p.global, PHI_OP_MASK);
	const struct phi_class_info *ci = phi_class_find("name");
	cr_assert_eq(p.per_class[ci - phi_classes], PHI_OP_PSEUDONYM);
	cr_assert(p.class_set[ci - phi_classes]);
	cr_assert_eq(p.per_class[phi_class_find("zip") - phi_classes], PHI_OP_REMOVE);
	cr_assert_not(p.class_set[phi_class_find("phone") - phi_classes]);
	cr_assert_str_eq(phi_op_name(PHI_OP_PSEUDONYM), "pseudonym");
	cr_assert_str_eq(phi_op_name(PHI_OP_TAG), "tag");
	phi_policy_free(&p);
}

Test(ops, set_rejects_junk_and_lists_the_valid_names)
{
	struct phi_policy p;
	struct phi_error err = {0};
	phi_policy_init(&p);
	cr_assert_eq(phi_policy_set(&p, "scramble", &err), PHI_EUSAGE);
	cr_assert(strstr(err.msg, "pseudonym"), "%s", err.msg);
	cr_assert_eq(phi_policy_set(&p, "nmae=tag", &err), PHI_EUSAGE);
	cr_assert(strstr(err.msg, "name, address, zip"), "%s", err.msg);
	cr_assert_eq(phi_policy_set(&p, "name=", &err), PHI_EUSAGE);
	cr_assert_eq(phi_policy_set(&p, "=tag", &err), PHI_EUSAGE);
	cr_assert_eq(phi_policy_set(&p, "", &err), PHI_EUSAGE);
	cr_assert_eq(phi_policy_set(&p, "name=mask=tag", &err), PHI_EUSAGE);
	cr_assert_eq(phi_policy_set(&p, "NAME=tag", &err), PHI_EUSAGE);
	cr_assert_eq(p.global, PHI_OP_TAG, "a rejected spec changes nothing");
	for (int i = 0; i < PHI_MAX_CLASSES; i++)
		cr_assert_not(p.class_set[i]);
	phi_policy_free(&p);
}

Test(ops, check_rejects_hash_and_pseudonym_without_a_key)
{
	struct phi_policy p;
	struct phi_error err = {0};
	phi_policy_init(&p);
	cr_assert_eq(phi_policy_check(&p, &err), 0);
	ops_set(&p, "remove");
	ops_set(&p, "phone=mask");
	cr_assert_eq(phi_policy_check(&p, &err), 0);
	ops_set(&p, "ssn=hash");
	cr_assert_eq(phi_policy_check(&p, &err), PHI_EUSAGE);
	cr_assert_str_eq(err.msg, "the hash and pseudonym operators need --key FILE");
	phi_policy_free(&p);

	phi_policy_init(&p);
	ops_set(&p, "pseudonym");
	cr_assert_eq(phi_policy_check(&p, &err), PHI_EUSAGE);
	cr_assert_eq(phi_policy_load_key(&p, ops_write("0123456789abcdef", 16), &err), 0);
	cr_assert_eq(phi_policy_check(&p, &err), 0);
	phi_policy_free(&p);
}

Test(ops, key_is_the_sha256_of_the_file_bytes_and_short_files_are_refused)
{
	struct phi_policy p;
	struct phi_error err = {0};
	phi_policy_init(&p);
	const char key[] = "correct horse battery staple\n";
	cr_assert_eq(phi_policy_load_key(&p, ops_write(key, sizeof key - 1), &err), 0, "%s",
	             err.msg);
	cr_assert(p.has_key);
	unsigned char want[32];
	crypto_hash_sha256(want, (const unsigned char *)key, sizeof key - 1);
	cr_assert_arr_eq(p.key, want, 32, "the trailing newline is part of the key");
	phi_policy_free(&p);

	phi_policy_init(&p);
	cr_assert_eq(phi_policy_load_key(&p, ops_write("fifteen bytes!!", 15), &err), PHI_EUSAGE);
	cr_assert(strstr(err.msg, "key file too short (need at least 16 bytes)"), "%s", err.msg);
	cr_assert_not(p.has_key);
	char missing[300];
	snprintf(missing, sizeof missing, "%s/no-such-key", ops_tmpdir);
	cr_assert_eq(phi_policy_load_key(&p, missing, &err), PHI_EIO);
	cr_assert_not(p.has_key);
	phi_policy_free(&p);
}

Test(ops, the_real_restricted_zip3_list_loads_with_17_entries)
{
	struct phi_policy p;
	struct phi_error err = {0};
	phi_policy_init(&p);
	cr_assert_eq(phi_policy_load_zip3(&p, OPS_ZIP3_FILE, &err), 0, "%s", err.msg);
	cr_assert_eq(p.nzip3, 17);
	cr_assert_str_eq(p.zip3[0], "036");
	cr_assert_str_eq(p.zip3[16], "893");
	phi_policy_free(&p);
}

Test(ops, zip3_list_with_a_bad_entry_names_its_line)
{
	struct phi_policy p;
	struct phi_error err = {0};
	phi_policy_init(&p);
	const char bad[] = "# comment\n036 # trailing comment\n\n  059  \n12a\n";
	cr_assert_eq(phi_policy_load_zip3(&p, ops_write(bad, sizeof bad - 1), &err),
	             PHI_EFORMAT);
	cr_assert(strstr(err.msg, ":5:"), "%s", err.msg);
	cr_assert_null(p.zip3, "a failed load leaves the policy unchanged");
	const char four[] = "0361\n";
	cr_assert_eq(phi_policy_load_zip3(&p, ops_write(four, sizeof four - 1), &err),
	             PHI_EFORMAT);
	const char good[] = "# comment\n036 # trailing comment\n\n  059  \n";
	cr_assert_eq(phi_policy_load_zip3(&p, ops_write(good, sizeof good - 1), &err), 0);
	cr_assert_eq(p.nzip3, 2);
	cr_assert_str_eq(p.zip3[1], "059");
	phi_policy_free(&p);
}

/* ---- tag, mask, remove ---- */

Test(ops, tag_writes_the_class_tag_and_phi_for_unknown_classes)
{
	struct phi_policy p;
	phi_policy_init(&p);
	cr_assert_str_eq(ops_rep(&p, "name", "John Smith"), "[NAME]");
	cr_assert_str_eq(ops_rep(&p, "phone", "(555) 123-4567"), "[PHONE]");
	cr_assert_str_eq(ops_rep(&p, "healthplan", "1EG4-TE5-MK73"), "[HEALTHPLAN]");
	cr_assert_str_eq(ops_rep(&p, "zip", "02139"), "[ZIP]", "no Safe Harbor: plain tag");
	cr_assert_str_eq(ops_rep(&p, "nonsense", "x"), "[PHI]");
	cr_assert_str_eq(ops_rep(&p, NULL, "x"), "[PHI]");
	phi_policy_free(&p);
}

Test(ops, mask_stars_letters_and_digits_and_keeps_punctuation)
{
	struct phi_policy p;
	phi_policy_init(&p);
	ops_set(&p, "mask");
	cr_assert_str_eq(ops_rep(&p, "phone", "(555) 123-4567"), "(***) ***-****");
	cr_assert_str_eq(ops_rep(&p, "ssn", "123-45-6789"), "***-**-****");
	cr_assert_str_eq(ops_rep(&p, "email", "j.smith@example.com"), "*.*****@*******.***");
	cr_assert_str_eq(ops_rep(&p, "name", "O'Brien, Seán"), "*'*****, ****",
	                 "one star per UTF-8 character");
	cr_assert_str_eq(ops_rep(&p, "date", "05/17/1961"), "**/**/****");
	/* A stray continuation byte is one character too. */
	cr_assert_str_eq(ops_rep(&p, "id", "A\x80" "1"), "***");
	phi_policy_free(&p);
}

Test(ops, remove_writes_nothing_even_under_safe_harbor)
{
	struct phi_policy p;
	phi_policy_init(&p);
	p.safe_harbor = true;
	ops_set(&p, "remove");
	cr_assert_str_eq(ops_rep(&p, "name", "John Smith"), "");
	cr_assert_str_eq(ops_rep(&p, "zip", "02139"), "");
	cr_assert_str_eq(ops_rep(&p, "age", "93"), "");
	phi_policy_free(&p);
}

Test(ops, per_class_operator_overrides_the_global_one)
{
	struct phi_policy p;
	phi_policy_init(&p);
	ops_set(&p, "remove");
	ops_set(&p, "phone=mask");
	ops_set(&p, "ssn=tag");
	cr_assert_str_eq(ops_rep(&p, "phone", "555-1234"), "***-****");
	cr_assert_str_eq(ops_rep(&p, "ssn", "123-45-6789"), "[SSN]");
	cr_assert_str_eq(ops_rep(&p, "name", "John"), "");
	phi_policy_free(&p);
}

Test(ops, short_output_buffer_is_a_limit_error_and_still_terminated)
{
	struct phi_policy p;
	phi_policy_init(&p);
	char out[6];
	size_t len = 0;
	memset(out, 'x', sizeof out);
	cr_assert_eq(phi_replace(&p, "name", "John", 4, out, sizeof out, &len), PHI_ELIMIT);
	cr_assert_str_eq(out, "");
	cr_assert_eq(len, 6, "outlen is the length needed");
	cr_assert_eq(phi_replace(&p, "name", "John", 4, out, 0, &len), PHI_ELIMIT);
	char fit[7];
	cr_assert_eq(phi_replace(&p, "name", "John", 4, fit, sizeof fit, &len), 0);
	cr_assert_str_eq(fit, "[NAME]");
	phi_policy_free(&p);
}

/* ---- hash ---- */

Test(ops, hash_is_a_keyed_tag_stable_across_calls_and_policies)
{
	struct phi_policy a, b, c;
	ops_keyed(&a, "case-key-0001-abcdef");
	ops_keyed(&b, "case-key-0001-abcdef");
	ops_keyed(&c, "another-key-9999-xyz");
	ops_set(&a, "hash");
	ops_set(&b, "hash");
	ops_set(&c, "hash");
	const char *h1 = ops_rep(&a, "name", "John Smith");
	cr_assert(ops_is_hash(h1, "[NAME]"), "%s", h1);
	cr_assert_str_eq(ops_rep(&a, "name", "John Smith"), h1);
	cr_assert_str_eq(ops_rep(&b, "name", "John Smith"), h1);
	cr_assert_str_neq(ops_rep(&c, "name", "John Smith"), h1);
	cr_assert_str_neq(ops_rep(&a, "name", "Jane Smith"), h1);
	cr_assert(ops_is_hash(ops_rep(&a, "mrn", "MRN-0042"), "[MRN]"));
	cr_assert(ops_is_hash(ops_rep(&a, "bogus", "x"), "[PHI]"));
	/* The class is part of the message: one value in two classes differs. */
	cr_assert_str_neq(ops_rep(&a, "mrn", "123456"), ops_rep(&a, "account", "123456"));
	phi_policy_free(&a);
	phi_policy_free(&b);
	phi_policy_free(&c);
}

Test(ops, hash_normalizes_names_phones_dates_and_emails)
{
	struct phi_policy p;
	ops_keyed(&p, "case-key-0001-abcdef");
	ops_set(&p, "hash");
	const char *h = ops_rep(&p, "name", "Smith, John");
	cr_assert_str_eq(ops_rep(&p, "name", "JOHN SMITH"), h);
	cr_assert_str_eq(ops_rep(&p, "name", "SMITH^JOHN"), h);
	cr_assert_str_eq(ops_rep(&p, "name", "john  smith."), h);
	cr_assert_str_neq(ops_rep(&p, "name", "Smith John"), h);

	h = ops_rep(&p, "phone", "(555) 123-4567");
	cr_assert_str_eq(ops_rep(&p, "phone", "555.123.4567"), h);
	cr_assert_str_eq(ops_rep(&p, "phone", "+1 555 123 4567"), h);
	cr_assert_str_neq(ops_rep(&p, "phone", "555.123.4568"), h);

	h = ops_rep(&p, "ssn", "123-45-6789");
	cr_assert_str_eq(ops_rep(&p, "ssn", "123456789"), h);

	h = ops_rep(&p, "date", "05/17/1961");
	cr_assert_str_eq(ops_rep(&p, "date", "1961-05-17"), h);
	cr_assert_str_eq(ops_rep(&p, "date", "May 17, 1961"), h);
	cr_assert_str_eq(ops_rep(&p, "date", "17.05.1961"), h);
	cr_assert_str_eq(ops_rep(&p, "date", "19610517"), h);
	cr_assert_str_eq(ops_rep(&p, "date", "17 May 1961"), h);

	cr_assert_str_eq(ops_rep(&p, "email", "John.Smith@Example.COM"),
	                 ops_rep(&p, "email", "john.smith@example.com"));
	phi_policy_free(&p);
}

/* ---- pseudonym ---- */

Test(ops, pseudonym_keeps_the_shape_of_codes_and_is_consistent)
{
	struct phi_policy p, q;
	ops_keyed(&p, "case-key-0001-abcdef");
	ops_keyed(&q, "case-key-0001-abcdef");
	ops_set(&p, "pseudonym");
	ops_set(&q, "pseudo");
	static const struct {
		const char *cls, *v;
	} cases[] = {
		{"phone", "(555) 123-4567"}, {"ssn", "123-45-6789"}, {"fax", "555.123.4567"},
		{"mrn", "MRN-00042a"},       {"healthplan", "1EG4-TE5-MK73"},
		{"ip", "192.168.10.20"},     {"zip", "02139-1234"}, {"age", "93"},
		{"vehicle", "1HGCM82633A004352"}, {"id", "CASE 2023/17"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *out = ops_rep(&p, cases[i].cls, cases[i].v);
		cr_assert(ops_same_shape(cases[i].v, out), "%s: %s -> %s", cases[i].cls,
		          cases[i].v, out);
		cr_assert_str_neq(out, cases[i].v, "%s", cases[i].cls);
		cr_assert_str_eq(ops_rep(&p, cases[i].cls, cases[i].v), out);
		cr_assert_str_eq(ops_rep(&q, cases[i].cls, cases[i].v), out);
	}
	/* One number written two ways gets the same digits. */
	const char *a = ops_rep(&p, "phone", "(555) 123-4567");
	const char *b = ops_rep(&p, "phone", "555.123.4567");
	char da[16] = {0}, db[16] = {0};
	for (size_t i = 0, k = 0; a[i]; i++)
		if (isdigit((unsigned char)a[i]))
			da[k++] = a[i];
	for (size_t i = 0, k = 0; b[i]; i++)
		if (isdigit((unsigned char)b[i]))
			db[k++] = b[i];
	cr_assert_str_eq(da, db);
	/* A US country code stays as written. */
	const char *c = ops_rep(&p, "phone", "+1 555 123 4567");
	cr_assert_eq(strncmp(c, "+1 ", 3), 0, "%s", c);
	phi_policy_free(&p);
	phi_policy_free(&q);
}

Test(ops, pseudonym_of_a_long_code_uses_more_than_one_hmac_block)
{
	struct phi_policy p;
	ops_keyed(&p, "case-key-0001-abcdef");
	ops_set(&p, "pseudonym");
	char v[121];
	for (int i = 0; i < 120; i++)
		v[i] = (char)('0' + i % 10);
	v[120] = '\0';
	const char *out = ops_rep(&p, "account", v);
	cr_assert(ops_same_shape(v, out));
	/* Blocks of 16 digits must not repeat (the counter varies the stream). */
	cr_assert_neq(memcmp(out, out + 16, 16), 0);
	cr_assert_neq(memcmp(out + 16, out + 32, 16), 0);
	phi_policy_free(&p);
}

Test(ops, pseudonym_of_a_name_keeps_its_form_and_case)
{
	struct phi_names *names = NULL;
	struct phi_error err = {0};
	cr_assert_eq(phi_names_load(&names, OPS_NAMES_DIR, &err), 0, "%s", err.msg);
	struct phi_policy p;
	ops_keyed(&p, "case-key-0001-abcdef");
	ops_set(&p, "name=pseudonym");
	p.names = names;

	char sur[64], giv[64];
	const char *lf = ops_rep(&p, "name", "Smith, John");
	cr_assert_eq(sscanf(lf, "%63[^,], %63s", sur, giv), 2, "%s", lf);
	cr_assert(phi_names_is_surname(names, sur, strlen(sur)), "%s", lf);
	cr_assert(phi_names_is_given(names, giv, strlen(giv)), "%s", lf);
	cr_assert(isupper((unsigned char)sur[0]) && islower((unsigned char)sur[1]), "%s", lf);
	cr_assert(strcasecmp(sur, "smith") != 0 && strcasecmp(giv, "john") != 0);
	cr_assert_str_eq(ops_rep(&p, "name", "Smith, John"), lf);

	/* DICOM PN, all caps: SURNAME^GIVEN in capitals. */
	const char *pn = ops_rep(&p, "name", "SMITH^JOHN");
	char want[140];
	snprintf(want, sizeof want, "%s^%s", sur, giv);
	for (char *s = want; *s; s++)
		*s = (char)toupper((unsigned char)*s);
	cr_assert_str_eq(pn, want);

	/* Free text "First Last": the same pseudonym, in that order and case. */
	snprintf(want, sizeof want, "%s %s", giv, sur);
	cr_assert_str_eq(ops_rep(&p, "name", "John Smith"), want);
	cr_assert_str_eq(ops_rep(&p, "name", "John A. Smith"), want, "middle names dropped");
	/* One token is a surname, consistent with the full name's. */
	cr_assert_str_eq(ops_rep(&p, "name", "Smith"), sur);
	cr_assert_str_eq(ops_rep(&p, "name", "Smith,John"),
	                 (snprintf(want, sizeof want, "%s,%s", sur, giv), want));
	/* Another patient gets another name. */
	cr_assert_str_neq(ops_rep(&p, "name", "Maria Garcia"), ops_rep(&p, "name", "John Smith"));

	/* Without a gazetteer: Patient-<8 hex>, consistent. */
	p.names = NULL;
	const char *fb = ops_rep(&p, "name", "Smith, John");
	cr_assert_eq(strncmp(fb, "Patient-", 8), 0, "%s", fb);
	cr_assert_eq(strlen(fb), 16, "%s", fb);
	char upper_fb[32];
	snprintf(upper_fb, sizeof upper_fb, "PATIENT-%s", fb + 8);
	cr_assert_str_eq(ops_rep(&p, "name", "JOHN SMITH"), upper_fb);
	phi_policy_free(&p);
	phi_names_free(names);
}

Test(ops, pseudonym_of_dates_keeps_the_layout_and_one_shift_per_key)
{
	struct phi_policy p, other;
	ops_keyed(&p, "case-key-0001-abcdef");
	ops_keyed(&other, "another-key-9999-xyz");
	ops_set(&p, "pseudonym");
	ops_set(&other, "pseudonym");

	int m1, d1, y1, m2, d2, y2;
	const char *a = ops_rep(&p, "date", "03/01/2023");
	const char *b = ops_rep(&p, "date", "03/11/2023");
	cr_assert(ops_same_shape("03/01/2023", a), "%s", a);
	cr_assert_str_neq(a, "03/01/2023");
	cr_assert_eq(sscanf(a, "%d/%d/%d", &m1, &d1, &y1), 3);
	cr_assert_eq(sscanf(b, "%d/%d/%d", &m2, &d2, &y2), 3);
	cr_assert_eq(ops_days(y2, m2, d2) - ops_days(y1, m1, d1), 10, "%s .. %s", a, b);
	long shift = ops_days(2023, 3, 1) - ops_days(y1, m1, d1);
	cr_assert(shift >= 1 && shift <= 365, "shift %ld", shift);

	/* The same shift in every layout. */
	const char *iso = ops_rep(&p, "date", "2023-03-01");
	char want[32];
	snprintf(want, sizeof want, "%04d-%02d-%02d", y1, m1, d1);
	cr_assert_str_eq(iso, want);
	snprintf(want, sizeof want, "%04d%02d%02d", y1, m1, d1);
	cr_assert_str_eq(ops_rep(&p, "date", "20230301"), want);
	snprintf(want, sizeof want, "%02d.%02d.%04d", d1, m1, y1);
	cr_assert_str_eq(ops_rep(&p, "date", "01.03.2023"), want);
	snprintf(want, sizeof want, "%d/%d/%02d", m1, d1, y1 % 100);
	cr_assert_str_eq(ops_rep(&p, "date", "3/1/23"), want, "no padding added, 2-digit year");

	/* Month names: case and length of the name kept. */
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	const char *mn = ops_rep(&p, "date", "Mar 1, 2023");
	snprintf(want, sizeof want, "%s %d, %d", mon[m1 - 1], d1, y1);
	cr_assert_str_eq(mn, want);
	const char *up = ops_rep(&p, "date", "01-MAR-2023");
	snprintf(want, sizeof want, "%02d-%s-%d", d1, mon[m1 - 1], y1);
	for (char *s = want; *s; s++)
		*s = (char)toupper((unsigned char)*s);
	cr_assert_str_eq(up, want);

	/* Another key, another shift (these two keys are known to differ). */
	cr_assert_str_neq(ops_rep(&other, "date", "03/01/2023"), a);
	/* Not a date: the tag. */
	cr_assert_str_eq(ops_rep(&p, "date", "sometime in spring"), "[DATE]");
	cr_assert_str_eq(ops_rep(&p, "date", "02/30/2023"), "[DATE]");
	phi_policy_free(&p);
	phi_policy_free(&other);
}

Test(ops, pseudonym_of_email_url_and_address)
{
	struct phi_policy p;
	ops_keyed(&p, "case-key-0001-abcdef");
	ops_set(&p, "pseudonym");
	const char *e = ops_rep(&p, "email", "John.Smith@Example.com");
	cr_assert_eq(strlen(e), strlen("user-12345678@example.invalid"), "%s", e);
	cr_assert_eq(strncmp(e, "user-", 5), 0, "%s", e);
	cr_assert_str_eq(e + 13, "@example.invalid");
	cr_assert_str_eq(ops_rep(&p, "email", "john.smith@example.com"), e);
	cr_assert_str_neq(ops_rep(&p, "email", "jane@example.com"), e);
	cr_assert_str_eq(ops_rep(&p, "url", "https://smith.example/x"), "[URL]");
	cr_assert_str_eq(ops_rep(&p, "address", "12 Elm St"), "[ADDRESS]");
	cr_assert_str_eq(ops_rep(&p, "biometric", "x"), "[BIOMETRIC]");
	cr_assert_str_eq(ops_rep(&p, "phone", "--"), "[PHONE]", "nothing to substitute");
	phi_policy_free(&p);
}

/* ---- Safe Harbor ---- */

Test(ops, safe_harbor_truncates_zip_codes_to_zip3)
{
	struct phi_policy p;
	struct phi_error err = {0};
	ops_keyed(&p, "case-key-0001-abcdef");
	p.safe_harbor = true;
	cr_assert_eq(phi_policy_load_zip3(&p, OPS_ZIP3_FILE, &err), 0, "%s", err.msg);
	cr_assert_str_eq(ops_rep(&p, "zip", "02139"), "02100");
	cr_assert_str_eq(ops_rep(&p, "zip", "03601"), "00000");
	cr_assert_str_eq(ops_rep(&p, "zip", "89301"), "00000");
	cr_assert_str_eq(ops_rep(&p, "zip", "12345-6789"), "12300");
	cr_assert_str_eq(ops_rep(&p, "zip", "123456789"), "12300");
	cr_assert_str_eq(ops_rep(&p, "zip", "ZIP?"), "[ZIP]", "not a ZIP: the operator");
	ops_set(&p, "hash");
	cr_assert_str_eq(ops_rep(&p, "zip", "02139"), "02100", "overrides hash");
	ops_set(&p, "pseudonym");
	cr_assert_str_eq(ops_rep(&p, "zip", "05901"), "00000", "overrides pseudonym");
	phi_policy_free(&p);

	/* No list loaded: every ZIP3 is treated as restricted. */
	phi_policy_init(&p);
	p.safe_harbor = true;
	cr_assert_str_eq(ops_rep(&p, "zip", "02139"), "00000");
	phi_policy_free(&p);
}

Test(ops, safe_harbor_turns_ages_over_89_into_90_plus)
{
	struct phi_policy p;
	phi_policy_init(&p);
	p.safe_harbor = true;
	cr_assert_str_eq(ops_rep(&p, "age", "93"), "90+");
	cr_assert_str_eq(ops_rep(&p, "age", "90"), "90+");
	cr_assert_str_eq(ops_rep(&p, "age", "104 years"), "90+");
	cr_assert_str_eq(ops_rep(&p, "age", "45"), "[AGE]", "younger: the operator");
	ops_set(&p, "mask");
	cr_assert_str_eq(ops_rep(&p, "age", "95"), "90+");
	p.safe_harbor = false;
	cr_assert_str_eq(ops_rep(&p, "age", "95"), "**");
	phi_policy_free(&p);
}

Test(ops, safe_harbor_dates_keep_only_a_year_that_reveals_no_great_age)
{
	struct phi_policy p;
	phi_policy_init(&p);
	p.safe_harbor = true;
	cr_assert_str_eq(ops_rep(&p, "date", "05/17/1961"), "1961");
	cr_assert_str_eq(ops_rep(&p, "date", "May 17, 2019"), "2019");
	cr_assert_str_eq(ops_rep(&p, "date", "spring 2020"), "2020");
	cr_assert_str_eq(ops_rep(&p, "date", "05/17/61"), "[DATE]", "century unknown");
	cr_assert_str_eq(ops_rep(&p, "date", "03/04/1920"), "[DATE]", "would reveal age > 89");
	cr_assert_str_eq(ops_rep(&p, "date", "last week"), "[DATE]");
	ops_set(&p, "mask");
	cr_assert_str_eq(ops_rep(&p, "date", "05/17/1961"), "**/**/****");
	phi_policy_free(&p);
}
