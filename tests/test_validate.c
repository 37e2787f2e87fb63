/* test_validate.c - check digits and format validators (scanner/validate.h).
 *
 * Each validator is tested with the known-good examples of text-rules.md section 3
 * and variants with one character altered that must fail.  Name validators are
 * tested here without a gazetteer (shape only); test_names.c covers them with the
 * real lists.  All identifiers below are published samples or made up.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../scanner/validate.h"

static enum phi_verdict val(int id, const char *s)
{
	return phi_validate(id, s, strlen(s), NULL);
}

static bool date(const char *s, int *y, int *m, int *d)
{
	return phi_date_parse(s, strlen(s), y, m, d);
}

#define DATE_IS(str, yy, mm, dd)                                                  \
	do {                                                                      \
		int y_ = 0, m_ = 0, d_ = 0;                                       \
		cr_assert(date(str, &y_, &m_, &d_), "should parse: %s", str);    \
		cr_assert_eq(y_, yy, "%s: year %d", str, y_);                     \
		cr_assert_eq(m_, mm, "%s: month %d", str, m_);                    \
		cr_assert_eq(d_, dd, "%s: day %d", str, d_);                      \
	} while (0)

#define ACCEPTS(id, str) cr_assert_eq(val(id, str), PHI_ACCEPT, "should accept: %s", str)
#define REJECTS(id, str) cr_assert_eq(val(id, str), PHI_REJECT, "should reject: %s", str)

Test(validate, names_map_to_ids_and_back)
{
	static const char *const names[] = {
		"none", "luhn", "npi", "dea", "mbi", "ssn", "aba", "vin", "udi", "date",
		"dob", "ipv4", "ipv6", "phone", "age90", "name", "surname", "email", "digits"};
	cr_assert_eq(sizeof names / sizeof *names, (size_t)PHI_VAL_COUNT);
	for (int i = 0; i < PHI_VAL_COUNT; i++) {
		int id = phi_validator_find(names[i]);
		cr_assert_eq(id, i, "%s -> %d", names[i], id);
		cr_assert_str_eq(phi_validator_name(id), names[i]);
	}
	cr_assert_eq(phi_validator_find("LUHN"), -1);
	cr_assert_eq(phi_validator_find("nope"), -1);
	cr_assert_eq(phi_validator_find(NULL), -1);
	cr_assert_null(phi_validator_name(PHI_VAL_COUNT));
	cr_assert_null(phi_validator_name(-1));
	cr_assert_eq(phi_validator_find("npi"), PHI_VAL_NPI);
}

Test(validate, unknown_validator_rejects_and_none_accepts)
{
	cr_assert_eq(phi_validate(PHI_VAL_COUNT, "123", 3, NULL), PHI_REJECT);
	cr_assert_eq(phi_validate(-3, "123", 3, NULL), PHI_REJECT);
	cr_assert_eq(phi_validate(PHI_VAL_NONE, "anything", 8, NULL), PHI_ACCEPT);
	cr_assert_eq(phi_validate(PHI_VAL_SSN, "", 0, NULL), PHI_REJECT);
	cr_assert_eq(phi_validate(PHI_VAL_SSN, NULL, 0, NULL), PHI_REJECT);
}

Test(validate, luhn_accepts_known_good_and_rejects_one_digit_off)
{
	cr_assert(phi_luhn_ok("79927398713", 11));
	cr_assert_not(phi_luhn_ok("79927398716", 11));
	cr_assert(phi_luhn_ok("4111111111111111", 16));
	cr_assert_not(phi_luhn_ok("4111111111111121", 16));
	cr_assert_not(phi_luhn_ok("7992739871x", 11));
	ACCEPTS(PHI_VAL_LUHN, "4111111111111111");
	ACCEPTS(PHI_VAL_LUHN, "4111 1111 1111 1111");
	ACCEPTS(PHI_VAL_LUHN, "4111-1111-1111-1111");
	REJECTS(PHI_VAL_LUHN, "4111111111111112");
	/* a card has 12-19 digits: the 11-digit Luhn sample is not a card */
	REJECTS(PHI_VAL_LUHN, "79927398713");
	REJECTS(PHI_VAL_LUHN, "0000000000000000");
	REJECTS(PHI_VAL_LUHN, "4111/1111/1111/1111");
}

Test(validate, npi_accepts_known_good_and_rejects_one_digit_off)
{
	cr_assert(phi_npi_ok("1234567893", 10));
	ACCEPTS(PHI_VAL_NPI, "1234567893");
	ACCEPTS(PHI_VAL_NPI, "1234 567 893");
	REJECTS(PHI_VAL_NPI, "1234567894");
	REJECTS(PHI_VAL_NPI, "1234567993");
	/* first digit must be 1 or 2 */
	REJECTS(PHI_VAL_NPI, "3234567893");
	REJECTS(PHI_VAL_NPI, "123456789");
	REJECTS(PHI_VAL_NPI, "12345678930");
	/* passes the check digit, but the first nine digits are all the same */
	REJECTS(PHI_VAL_NPI, "1111111112");
}

Test(validate, dea_accepts_known_good_and_rejects_one_digit_off)
{
	cr_assert(phi_dea_ok("AP5836727", 9));
	ACCEPTS(PHI_VAL_DEA, "AP5836727");
	REJECTS(PHI_VAL_DEA, "AP5836728");
	REJECTS(PHI_VAL_DEA, "AP5846727");
	/* second character 9 is allowed (some businesses), another digit is not */
	ACCEPTS(PHI_VAL_DEA, "A95836727");
	REJECTS(PHI_VAL_DEA, "A15836727");
	/* I, N, O, ... are not registrant types */
	REJECTS(PHI_VAL_DEA, "IP5836727");
	REJECTS(PHI_VAL_DEA, "NP5836727");
	REJECTS(PHI_VAL_DEA, "AP583672");
	REJECTS(PHI_VAL_DEA, "AP58367270");
}

Test(validate, mbi_accepts_cms_example_with_or_without_dashes)
{
	cr_assert(phi_mbi_ok("1EG4-TE5-MK73", 13));
	ACCEPTS(PHI_VAL_MBI, "1EG4-TE5-MK73");
	ACCEPTS(PHI_VAL_MBI, "1EG4TE5MK73");
	/* position 1 is 1-9 */
	REJECTS(PHI_VAL_MBI, "0EG4-TE5-MK73");
	/* position 4 is a digit */
	REJECTS(PHI_VAL_MBI, "1EGA-TE5-MK73");
	/* S, L, O, I, B, Z never appear */
	REJECTS(PHI_VAL_MBI, "1SG4-TE5-MK73");
	REJECTS(PHI_VAL_MBI, "1EG4-TE5-MO73");
	/* dashes are all or nothing, and in the 4-3-4 places */
	REJECTS(PHI_VAL_MBI, "1EG4-TE5MK73");
	REJECTS(PHI_VAL_MBI, "1EG-4TE5-MK73");
	REJECTS(PHI_VAL_MBI, "1eg4-te5-mk73");
}

Test(validate, ssn_accepts_issuable_and_rejects_never_issued_forms)
{
	ACCEPTS(PHI_VAL_SSN, "123-45-6789");
	ACCEPTS(PHI_VAL_SSN, "123 45 6789");
	ACCEPTS(PHI_VAL_SSN, "123456789");
	cr_assert(phi_ssn_ok("123-45-6789", 11));
	REJECTS(PHI_VAL_SSN, "000-12-3456");
	REJECTS(PHI_VAL_SSN, "666-12-3456");
	REJECTS(PHI_VAL_SSN, "900-12-3456");
	REJECTS(PHI_VAL_SSN, "999-12-3456");
	REJECTS(PHI_VAL_SSN, "123-00-4567");
	REJECTS(PHI_VAL_SSN, "123-45-0000");
	REJECTS(PHI_VAL_SSN, "111-11-1111");
	REJECTS(PHI_VAL_SSN, "078-05-1120");
	REJECTS(PHI_VAL_SSN, "078051120");
	REJECTS(PHI_VAL_SSN, "219-09-9999");
	/* one digit off the samples is an ordinary number */
	ACCEPTS(PHI_VAL_SSN, "078-05-1121");
	/* mixed or misplaced separators */
	REJECTS(PHI_VAL_SSN, "123-45 6789");
	REJECTS(PHI_VAL_SSN, "12-345-6789");
	REJECTS(PHI_VAL_SSN, "123-45-678");
	REJECTS(PHI_VAL_SSN, "12345678a");
}

Test(validate, aba_accepts_known_good_and_rejects_one_digit_off)
{
	cr_assert(phi_aba_ok("011000015", 9));
	ACCEPTS(PHI_VAL_ABA, "011000015");
	ACCEPTS(PHI_VAL_ABA, "021000021");
	REJECTS(PHI_VAL_ABA, "011000016");
	REJECTS(PHI_VAL_ABA, "011000115");
	REJECTS(PHI_VAL_ABA, "01100001");
	/* weighted sum fine (15 + 5), but 50 is not a Federal Reserve prefix */
	REJECTS(PHI_VAL_ABA, "500000005");
	REJECTS(PHI_VAL_ABA, "000000000");
}

Test(validate, vin_accepts_known_good_and_rejects_one_digit_off)
{
	cr_assert(phi_vin_ok("1M8GDM9AXKP042788", 17));
	ACCEPTS(PHI_VAL_VIN, "1M8GDM9AXKP042788");
	REJECTS(PHI_VAL_VIN, "1M8GDM9AXKP042789");
	REJECTS(PHI_VAL_VIN, "1M8GDM9A1KP042788");
	/* I, O and Q are never used */
	REJECTS(PHI_VAL_VIN, "1M8GDM9AXIP042788");
	REJECTS(PHI_VAL_VIN, "1M8GDM9AXKP04278");
	/* passes mod 11 (check digit 1) but is only digits: an order number */
	REJECTS(PHI_VAL_VIN, "11111111111111111");
}

Test(validate, udi_checks_the_gtin_after_ai_01)
{
	cr_assert(phi_gtin_ok("00614141999996", 14));
	cr_assert(phi_gtin_ok("4006381333931", 13));
	cr_assert_not(phi_gtin_ok("4006381333932", 13));
	cr_assert_not(phi_gtin_ok("00000000000000", 14));
	cr_assert_not(phi_gtin_ok("0061414199999", 13));
	ACCEPTS(PHI_VAL_UDI, "(01)00614141999996");
	ACCEPTS(PHI_VAL_UDI, "0100614141999996");
	ACCEPTS(PHI_VAL_UDI, "(01)00614141999996(17)270101(10)A213B1(21)1234");
	REJECTS(PHI_VAL_UDI, "(01)00614141999997");
	REJECTS(PHI_VAL_UDI, "0100614141999986");
	REJECTS(PHI_VAL_UDI, "(01)0061414199999");
	REJECTS(PHI_VAL_UDI, "(21)00614141999996");
	/* HIBCC by shape */
	ACCEPTS(PHI_VAL_UDI, "+H123PROD1234");
	REJECTS(PHI_VAL_UDI, "+h12");
}

Test(validate, date_parses_numeric_forms)
{
	DATE_IS("03/04/1961", 1961, 3, 4);
	DATE_IS("3/4/61", 1961, 3, 4);
	DATE_IS("03-04-1961", 1961, 3, 4);
	DATE_IS("04.03.1961", 1961, 3, 4);
	DATE_IS("1961-03-04", 1961, 3, 4);
	DATE_IS("1961/3/4", 1961, 3, 4);
	DATE_IS("19610304", 1961, 3, 4);
	/* first > 12 and second <= 12: day first */
	DATE_IS("25/12/2020", 2020, 12, 25);
	/* two-digit years pivot at 30 */
	DATE_IS("1/2/29", 2029, 1, 2);
	DATE_IS("1/2/30", 1930, 1, 2);
	DATE_IS("1/2/00", 2000, 1, 2);
	DATE_IS("  2024-02-29 ", 2024, 2, 29);
}

Test(validate, date_parses_month_names)
{
	DATE_IS("Mar 4, 1961", 1961, 3, 4);
	DATE_IS("March 4 1961", 1961, 3, 4);
	DATE_IS("mar. 4th, 1961", 1961, 3, 4);
	DATE_IS("4 March 1961", 1961, 3, 4);
	DATE_IS("4th March, 1961", 1961, 3, 4);
	DATE_IS("04-Mar-1961", 1961, 3, 4);
	DATE_IS("04-MAR-61", 1961, 3, 4);
	DATE_IS("Sept 30, 2001", 2001, 9, 30);
	DATE_IS("December 31 1999", 1999, 12, 31);
}

Test(validate, date_rejects_impossible_and_malformed_dates)
{
	int y, m, d;
	cr_assert_not(date("02/30/2001", &y, &m, &d));
	cr_assert_not(date("13/13/2020", &y, &m, &d));
	cr_assert_not(date("2023-02-29", &y, &m, &d));
	cr_assert_not(date("1900-02-29", &y, &m, &d));
	cr_assert(date("2000-02-29", &y, &m, &d));
	cr_assert_not(date("2024-13-01", &y, &m, &d));
	cr_assert_not(date("2024-04-31", &y, &m, &d));
	cr_assert_not(date("12.25.2020", &y, &m, &d)); /* dots are day-first */
	cr_assert_not(date("03/04-1961", &y, &m, &d)); /* mixed separators */
	cr_assert_not(date("03/04/196", &y, &m, &d));
	cr_assert_not(date("20240132", &y, &m, &d));
	cr_assert_not(date("Marc 4, 1961", &y, &m, &d));
	cr_assert_not(date("Mar 32, 1961", &y, &m, &d));
	cr_assert_not(date("Mar 4 1961x", &y, &m, &d));
	cr_assert_not(date("v2024.1", &y, &m, &d));
	cr_assert_not(date("", &y, &m, &d));
	cr_assert(phi_date_parse("1961-03-04", 10, NULL, NULL, NULL));
}

Test(validate, date_validator_limits_years_to_1880_through_2100)
{
	ACCEPTS(PHI_VAL_DATE, "2024-02-29");
	REJECTS(PHI_VAL_DATE, "2023-02-29");
	ACCEPTS(PHI_VAL_DATE, "1880-01-01");
	REJECTS(PHI_VAL_DATE, "1879-12-31");
	ACCEPTS(PHI_VAL_DATE, "12/31/2100");
	REJECTS(PHI_VAL_DATE, "01/01/2101");
	ACCEPTS(PHI_VAL_DATE, "01/01/2099");
}

Test(validate, dob_rejects_future_dates)
{
	ACCEPTS(PHI_VAL_DOB, "03/04/1961");
	ACCEPTS(PHI_VAL_DOB, "Mar 4, 1961");
	REJECTS(PHI_VAL_DOB, "01/01/2099");
	REJECTS(PHI_VAL_DOB, "1879-12-31");
	REJECTS(PHI_VAL_DOB, "02/30/2001");

	/* today is allowed, tomorrow is not */
	time_t now = time(NULL);
	struct tm tm;
	cr_assert_not_null(localtime_r(&now, &tm));
	char buf[32];
	strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
	ACCEPTS(PHI_VAL_DOB, buf);
	tm.tm_mday += 2; /* two days: safe across a midnight during the test */
	tm.tm_isdst = -1;
	time_t later = mktime(&tm);
	struct tm tm2;
	cr_assert_not_null(localtime_r(&later, &tm2));
	strftime(buf, sizeof buf, "%Y-%m-%d", &tm2);
	REJECTS(PHI_VAL_DOB, buf);
}

Test(validate, ipv4_checks_octets)
{
	ACCEPTS(PHI_VAL_IPV4, "192.168.1.10");
	ACCEPTS(PHI_VAL_IPV4, "10.0.0.1");
	REJECTS(PHI_VAL_IPV4, "256.1.1.1");
	REJECTS(PHI_VAL_IPV4, "192.168.01.10");
	REJECTS(PHI_VAL_IPV4, "0.0.0.0");
	REJECTS(PHI_VAL_IPV4, "255.255.255.255");
	REJECTS(PHI_VAL_IPV4, "1.2.3");
	REJECTS(PHI_VAL_IPV4, "1.2.3.4.5");
	REJECTS(PHI_VAL_IPV4, "1.2.3.1000");
	REJECTS(PHI_VAL_IPV4, "1..2.3");
}

Test(validate, ipv6_parses_with_inet_pton)
{
	ACCEPTS(PHI_VAL_IPV6, "2001:db8::1");
	ACCEPTS(PHI_VAL_IPV6, "fe80::1ff:fe23:4567:890a");
	ACCEPTS(PHI_VAL_IPV6, "2001:0db8:0000:0000:0000:ff00:0042:8329");
	REJECTS(PHI_VAL_IPV6, "2001:db8::g");
	REJECTS(PHI_VAL_IPV6, "1:2:3:4:5:6:7:8:9");
	REJECTS(PHI_VAL_IPV6, "::");
	REJECTS(PHI_VAL_IPV6, "std::vector");
}

Test(validate, phone_accepts_nanp_and_e164_shapes)
{
	ACCEPTS(PHI_VAL_PHONE, "(212) 555-0147");
	ACCEPTS(PHI_VAL_PHONE, "212-555-0147");
	ACCEPTS(PHI_VAL_PHONE, "212.555.0147");
	ACCEPTS(PHI_VAL_PHONE, "1-212-555-0147");
	ACCEPTS(PHI_VAL_PHONE, "+1 212 555 0147");
	ACCEPTS(PHI_VAL_PHONE, "+44 20 7946 0958");
	ACCEPTS(PHI_VAL_PHONE, "555-0147");
	/* area code and exchange start 2-9 and are not N11 */
	REJECTS(PHI_VAL_PHONE, "112-555-0147");
	REJECTS(PHI_VAL_PHONE, "911-555-0147");
	REJECTS(PHI_VAL_PHONE, "212-155-0147");
	REJECTS(PHI_VAL_PHONE, "212-411-0147");
	REJECTS(PHI_VAL_PHONE, "+1 112 555 0147");
	REJECTS(PHI_VAL_PHONE, "155-0147");
	REJECTS(PHI_VAL_PHONE, "2125550147123");
	REJECTS(PHI_VAL_PHONE, "+12345");
	REJECTS(PHI_VAL_PHONE, "212-555-0147 ext 5");
}

Test(validate, age90_accepts_90_through_125)
{
	ACCEPTS(PHI_VAL_AGE90, "90");
	ACCEPTS(PHI_VAL_AGE90, "95 yo");
	ACCEPTS(PHI_VAL_AGE90, "125 years old");
	REJECTS(PHI_VAL_AGE90, "89");
	REJECTS(PHI_VAL_AGE90, "126");
	REJECTS(PHI_VAL_AGE90, "9000");
	REJECTS(PHI_VAL_AGE90, "yo");
}

Test(validate, email_rejects_reserved_domains)
{
	ACCEPTS(PHI_VAL_EMAIL, "pat.jones@mail.co.uk");
	ACCEPTS(PHI_VAL_EMAIL, "a+b@dental-lab.com");
	ACCEPTS(PHI_VAL_EMAIL, "a@notexample.com");
	REJECTS(PHI_VAL_EMAIL, "a@example.com");
	REJECTS(PHI_VAL_EMAIL, "a@EXAMPLE.ORG");
	REJECTS(PHI_VAL_EMAIL, "a@lab.example.net");
	REJECTS(PHI_VAL_EMAIL, "a@lab.example");
	REJECTS(PHI_VAL_EMAIL, "a@foo.test");
	REJECTS(PHI_VAL_EMAIL, "a@foo.invalid");
	REJECTS(PHI_VAL_EMAIL, "a@localhost");
	REJECTS(PHI_VAL_EMAIL, "a@b@mail.com");
	REJECTS(PHI_VAL_EMAIL, "@mail.com");
	REJECTS(PHI_VAL_EMAIL, "a@mail.c");
	REJECTS(PHI_VAL_EMAIL, "a@mail.c0m");
	REJECTS(PHI_VAL_EMAIL, "a@mail..com");
	REJECTS(PHI_VAL_EMAIL, "a@mail.com.");
	REJECTS(PHI_VAL_EMAIL, "a b@mail.com");
}

Test(validate, digits_needs_one_digit)
{
	ACCEPTS(PHI_VAL_DIGITS, "AB12");
	ACCEPTS(PHI_VAL_DIGITS, "7");
	REJECTS(PHI_VAL_DIGITS, "ABCD");
	REJECTS(PHI_VAL_DIGITS, "see notes");
}

Test(validate, name_without_gazetteer_judges_shape)
{
	ACCEPTS(PHI_VAL_NAME, "John Smith");
	ACCEPTS(PHI_VAL_NAME, "SMITH, John");
	ACCEPTS(PHI_VAL_NAME, "SMITH^JOHN^A");
	ACCEPTS(PHI_VAL_NAME, "Mary-Jane O'Neil");
	ACCEPTS(PHI_VAL_NAME, "Mary-Jane O\xE2\x80\x99Neil");
	ACCEPTS(PHI_VAL_NAME, "Ludwig van Beethoven");
	REJECTS(PHI_VAL_NAME, "see attached");
	REJECTS(PHI_VAL_NAME, "John smith");
	REJECTS(PHI_VAL_NAME, "Crown 3");
	REJECTS(PHI_VAL_NAME, "J.");
	REJECTS(PHI_VAL_NAME, "Dr. J. R.");
	REJECTS(PHI_VAL_NAME, "Smith van");
	REJECTS(PHI_VAL_NAME, "Smith & Sons");
}

Test(validate, surname_without_gazetteer_judges_shape)
{
	ACCEPTS(PHI_VAL_SURNAME, "Smith");
	ACCEPTS(PHI_VAL_SURNAME, "J. Smith");
	ACCEPTS(PHI_VAL_SURNAME, "Jones-Parker");
	REJECTS(PHI_VAL_SURNAME, "smith");
	REJECTS(PHI_VAL_SURNAME, "Smith2");
	REJECTS(PHI_VAL_SURNAME, "Mr.");
}

Test(validate, long_values_are_rejected_without_reading_past_the_end)
{
	char buf[600];
	memset(buf, '1', sizeof buf);
	for (int id = 1; id < PHI_VAL_COUNT; id++) {
		if (id == PHI_VAL_DIGITS)
			continue;
		cr_assert_eq(phi_validate(id, buf, sizeof buf, NULL), PHI_REJECT, "%s",
		             phi_validator_name(id));
	}
	/* values are not NUL-terminated: a valid prefix with junk after n is judged
	 * on the prefix only */
	cr_assert_eq(phi_validate(PHI_VAL_NPI, "1234567893999", 10, NULL), PHI_ACCEPT);
	cr_assert_eq(phi_validate(PHI_VAL_SSN, "123-45-6789-0", 11, NULL), PHI_ACCEPT);
}

/* Deterministic random inputs: every validator must return a verdict, read only
 * s[0..n) (ASan checks the heap copy) and never crash. */
Test(validate, random_bytes_get_a_verdict_without_overreads)
{
	static const char alphabet[] = "0123456789-./():@+ ,^'ACEGMOSXZaemx\xE2\x80\x99\xC3";
	unsigned long long x = 0x9E3779B97F4A7C15ull;
	int accepted = 0;
	for (int iter = 0; iter < 20000; iter++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t n = (size_t)(x % 40);
		char *s = malloc(n ? n : 1);
		cr_assert_not_null(s);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			s[i] = alphabet[x % (sizeof alphabet - 1)];
		}
		for (int id = 0; id < PHI_VAL_COUNT; id++) {
			enum phi_verdict v = phi_validate(id, s, n, NULL);
			cr_assert(v == PHI_REJECT || v == PHI_ACCEPT, "%s gave %d",
			          phi_validator_name(id), (int)v);
			accepted += id != PHI_VAL_NONE && v == PHI_ACCEPT;
		}
		int y, m, d;
		(void)phi_date_parse(s, n, &y, &m, &d);
		free(s);
	}
	/* the alphabet is rich enough that some values pass (digits, names, ...) */
	cr_assert_gt(accepted, 0);
}

Test(validate, dob_reads_a_two_digit_year_in_the_future_as_last_century)
{
	/* "DOB 9/23/28" is 1928: a birth date is never in the future */
	cr_assert_eq(phi_validate(PHI_VAL_DOB, "9/23/28", 7, NULL), PHI_ACCEPT);
	cr_assert_eq(phi_validate(PHI_VAL_DOB, "9/23/2028", 9, NULL), PHI_REJECT);
}
