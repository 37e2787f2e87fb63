/* validate.c - check digits and format validators run after a rule's regex matches.
 *
 * Each validator judges one matched value: REJECT (it cannot be what the rule
 * claims), ACCEPT (plausible) or STRONG (confirmed: only the name validators say
 * this, when the gazetteer knows both a given name and a surname).  Algorithms and
 * known-good examples: text-rules.md section 3 and the sources named in validate.h:
 *   Luhn         ISO/IEC 7812-1 Annex B
 *   NPI          CMS "NPI check digit": Luhn over the prefix 80840 + the 10 digits
 *   DEA          (d1+d3+d5) + 2(d2+d4+d6), last digit = d7 (the variant Presidio uses)
 *   MBI          CMS MBI format: C A AN N A AN N A A N N, A excludes S L O I B Z
 *   SSN          SSA never-issued ranges; samples 078-05-1120 and 219-09-9999
 *   ABA          weights 3 7 1 repeated, sum % 10 == 0 (ABA Key to Routing Numbers)
 *   VIN          49 CFR 565.15: transliteration, weights, mod 11 with X for 10
 *   GS1          General Specifications 7.9: mod 10 with weights 3,1 from the right
 *   dates        proleptic Gregorian calendar; two-digit years 00-29 -> 20xx
 * Nothing here allocates, prints or keeps state; the only outside input is the
 * clock (PHI_VAL_DOB rejects dates after today, local time).
 *
 * Threading: pure functions, safe from any thread; the gazetteer is read-only.
 * Ownership: every pointer argument is borrowed for the call.
 */
#include "validate.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "names.h"

/* Values longer than this are not any identifier we validate. */
#define VAL_MAX_LEN 256
/* A name candidate with more words than this is prose, not a name. */
#define NAME_MAX_TOKENS 12

static const char *const validator_names[PHI_VAL_COUNT] = {
	[PHI_VAL_NONE] = "none",     [PHI_VAL_LUHN] = "luhn",   [PHI_VAL_NPI] = "npi",
	[PHI_VAL_DEA] = "dea",       [PHI_VAL_MBI] = "mbi",     [PHI_VAL_SSN] = "ssn",
	[PHI_VAL_ABA] = "aba",       [PHI_VAL_VIN] = "vin",     [PHI_VAL_UDI] = "udi",
	[PHI_VAL_DATE] = "date",     [PHI_VAL_DOB] = "dob",     [PHI_VAL_IPV4] = "ipv4",
	[PHI_VAL_IPV6] = "ipv6",     [PHI_VAL_PHONE] = "phone", [PHI_VAL_AGE90] = "age90",
	[PHI_VAL_NAME] = "name",     [PHI_VAL_SURNAME] = "surname",
	[PHI_VAL_EMAIL] = "email",   [PHI_VAL_DIGITS] = "digits",
};

int phi_validator_find(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < PHI_VAL_COUNT; i++) {
		if (validator_names[i] && strcmp(validator_names[i], name) == 0)
			return i;
	}
	return -1;
}

const char *phi_validator_name(int id)
{
	if (id < 0 || id >= PHI_VAL_COUNT)
		return NULL;
	return validator_names[id];
}

/* ---- small character helpers (ASCII only: never locale-dependent) ---- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
static char to_lower(char c) { return is_upper(c) ? (char)(c - 'A' + 'a') : c; }
static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Trim blanks from both ends of s[0..*n); returns the new start. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && is_blank(s[0])) {
		s++;
		(*n)--;
	}
	while (*n && is_blank(s[*n - 1]))
		(*n)--;
	return s;
}

/* Case-insensitive equality of s[0..n) and the NUL-terminated lowercase word w. */
static bool eq_word(const char *s, size_t n, const char *w)
{
	size_t i = 0;
	for (; i < n; i++) {
		if (w[i] == '\0' || to_lower(s[i]) != w[i])
			return false;
	}
	return w[i] == '\0';
}

static bool ends_with_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && eq_word(s + n - k, k, w);
}

/* Copy the digits of s[0..n) to out (at most cap), skipping characters in seps.
 * Returns the digit count, or -1 if another character is found or cap is exceeded. */
static int collect_digits(const char *s, size_t n, const char *seps, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			if (k == cap)
				return -1;
			out[k++] = s[i];
		} else if (!strchr(seps, s[i]) || s[i] == '\0') {
			return -1;
		}
	}
	return (int)k;
}

static bool all_same(const char *d, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (d[i] != d[0])
			return false;
	}
	return true;
}

/* ---- check-digit schemes ---- */

/* Luhn sum over digits, doubling every second digit from the right starting with
 * the one left of the check digit.  Returns sum % 10 == 0. */
static bool luhn_digits(const char *d, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

bool phi_luhn_ok(const char *digits, size_t n)
{
	char d[VAL_MAX_LEN];
	int k = collect_digits(digits, n, " -", d, sizeof d);
	return k >= 2 && luhn_digits(d, (size_t)k);
}

bool phi_npi_ok(const char *s, size_t n)
{
	char d[15] = "80840";
	int k = collect_digits(s, n, " -", d + 5, 10);
	if (k != 10 || (d[5] != '1' && d[5] != '2'))
		return false;
	if (all_same(d + 5, 9))
		return false;
	return luhn_digits(d, 15);
}

static bool dea_first_ok(char c)
{
	return c && strchr("ABCDEFGHJKLMPRSTUX", c) != NULL;
}

bool phi_dea_ok(const char *s, size_t n)
{
	s = trim(s, &n);
	if (n != 9 || !dea_first_ok(s[0]) || !(is_upper(s[1]) || s[1] == '9'))
		return false;
	int v[7];
	for (int i = 0; i < 7; i++) {
		if (!is_digit(s[2 + i]))
			return false;
		v[i] = s[2 + i] - '0';
	}
	int sum = v[0] + v[2] + v[4] + 2 * (v[1] + v[3] + v[5]);
	return sum % 10 == v[6];
}

/* MBI alphabetic positions: A-Z without S, L, O, I, B, Z (CMS, to avoid confusion
 * with digits). */
static bool mbi_alpha(char c)
{
	return is_upper(c) && !strchr("SLOIBZ", c);
}

bool phi_mbi_ok(const char *s, size_t n)
{
	char v[11];
	s = trim(s, &n);
	if (n == 13) {
		/* Printed 4-3-4 form: both dashes, in place. */
		if (s[4] != '-' || s[8] != '-')
			return false;
		memcpy(v, s, 4);
		memcpy(v + 4, s + 5, 3);
		memcpy(v + 7, s + 9, 4);
	} else if (n == 11) {
		memcpy(v, s, 11);
	} else {
		return false;
	}
	/* C A AN N A AN N A A N N */
	static const char layout[] = "CAXNAXNAANN";
	for (int i = 0; i < 11; i++) {
		char c = v[i];
		bool ok;
		switch (layout[i]) {
		case 'C': ok = c >= '1' && c <= '9'; break;
		case 'A': ok = mbi_alpha(c); break;
		case 'X': ok = mbi_alpha(c) || is_digit(c); break;
		default: ok = is_digit(c); break;
		}
		if (!ok)
			return false;
	}
	return true;
}

bool phi_ssn_ok(const char *s, size_t n)
{
	char d[9];
	s = trim(s, &n);
	if (n == 9) {
		for (int i = 0; i < 9; i++) {
			if (!is_digit(s[i]))
				return false;
		}
		memcpy(d, s, 9);
	} else if (n == 11) {
		/* ddd-dd-dddd or ddd dd dddd: one separator, used twice (mixed ones are
		 * not an SSN as written, e.g. "123-45 6789"). */
		char sep = s[3];
		if ((sep != '-' && sep != ' ') || s[6] != sep)
			return false;
		for (int i = 0; i < 11; i++) {
			if (i == 3 || i == 6)
				continue;
			if (!is_digit(s[i]))
				return false;
		}
		memcpy(d, s, 3);
		memcpy(d + 3, s + 4, 2);
		memcpy(d + 5, s + 7, 4);
	} else {
		return false;
	}
	int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	if (area == 0 || area == 666 || area >= 900)
		return false;
	if (d[3] == '0' && d[4] == '0')
		return false;
	if (memcmp(d + 5, "0000", 4) == 0)
		return false;
	if (all_same(d, 9))
		return false;
	/* Published samples (Woolworth wallet card; SSA advertising): never a person's. */
	if (memcmp(d, "078051120", 9) == 0 || memcmp(d, "219099999", 9) == 0)
		return false;
	return true;
}

bool phi_aba_ok(const char *s, size_t n)
{
	char d[9];
	s = trim(s, &n);
	if (collect_digits(s, n, "", d, sizeof d) != 9)
		return false;
	/* Federal Reserve prefixes: 00 (government), 01-12, 21-32 (thrift), 61-72
	 * (electronic), 80 (traveller's cheques).  Others are unassigned. */
	int p = (d[0] - '0') * 10 + (d[1] - '0');
	if (!(p <= 12 || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80))
		return false;
	if (all_same(d, 9))
		return false;
	static const int w[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
	int sum = 0;
	for (int i = 0; i < 9; i++)
		sum += w[i] * (d[i] - '0');
	return sum % 10 == 0;
}

/* 49 CFR 565.15 transliteration; -1 for I, O, Q and non-alphanumerics. */
static int vin_value(char c)
{
	if (is_digit(c))
		return c - '0';
	static const char *const tab = "ABCDEFGHJKLMNPRSTUVWXYZ";
	static const int val[] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9,
	                          2, 3, 4, 5, 6, 7, 8, 9};
	const char *p = c ? strchr(tab, c) : NULL;
	return p ? val[p - tab] : -1;
}

bool phi_vin_ok(const char *s, size_t n)
{
	static const int w[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
	s = trim(s, &n);
	if (n != 17)
		return false;
	int sum = 0;
	bool letter = false;
	for (int i = 0; i < 17; i++) {
		int v = vin_value(s[i]);
		if (v < 0)
			return false;
		letter |= is_upper(s[i]);
		sum += v * w[i];
	}
	/* Every manufacturer code and model descriptor in use carries letters; an
	 * all-digit run of 17 is an order or lot number that passes mod 11 by chance
	 * one time in eleven. */
	if (!letter)
		return false;
	int check = sum % 11;
	char want = check == 10 ? 'X' : (char)('0' + check);
	return s[8] == want;
}

bool phi_gtin_ok(const char *digits, size_t n)
{
	/* GTIN-8/12/13/14 and the other GS1 keys that use the same mod 10 (GSIN-17,
	 * SSCC-18). */
	if (!(n == 8 || n == 12 || n == 13 || n == 14 || n == 17 || n == 18))
		return false;
	int sum = 0;
	bool nonzero = false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(digits[i]))
			return false;
		nonzero |= digits[i] != '0';
	}
	if (!nonzero)
		return false;
	for (size_t i = 1; i < n; i++) {
		int v = digits[n - 1 - i] - '0';
		sum += (i % 2 == 1) ? 3 * v : v;
	}
	return (10 - sum % 10) % 10 == digits[n - 1] - '0';
}

/* GS1 UDI: "(01)" + GTIN-14, or "01" + GTIN-14 in the unbracketed element string;
 * further AIs may follow.  HIBCC ("+" then the labeler code) is accepted by shape:
 * its mod 43 check covers the whole string including the lot, which the rule's
 * value may not hold. */
static bool udi_ok(const char *s, size_t n)
{
	s = trim(s, &n);
	if (n && s[0] == '+') {
		if (n < 6)
			return false;
		for (size_t i = 1; i < n; i++) {
			if (!is_upper(s[i]) && !is_digit(s[i]) && !strchr("$/.%-+ ", s[i]))
				return false;
		}
		return is_upper(s[1]);
	}
	size_t at;
	if (n >= 18 && memcmp(s, "(01)", 4) == 0)
		at = 4;
	else if (n >= 16 && memcmp(s, "01", 2) == 0)
		at = 2;
	else
		return false;
	return phi_gtin_ok(s + at, 14);
}

/* ---- dates ---- */

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool calendar_ok(int y, int m, int d)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1)
		return false;
	int max = mdays[m - 1] + (m == 2 && leap(y));
	return d <= max;
}

/* Two-digit years pivot at 30: 00-29 are 20xx, 30-99 are 19xx. */
static int expand_year(int v, size_t ndigits)
{
	if (ndigits == 2)
		return v < 30 ? 2000 + v : 1900 + v;
	return v;
}

/* Read up to max digits at s[*i]; returns the count read (0 if none). */
static size_t read_num(const char *s, size_t n, size_t *i, size_t max, int *out)
{
	size_t k = 0;
	int v = 0;
	while (*i < n && k < max && is_digit(s[*i])) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	/* More digits than allowed: not this field. */
	if (*i < n && is_digit(s[*i]))
		return 0;
	*out = v;
	return k;
}

/* Month name (full, three-letter, or "Sept") at s[*i], case-insensitive.  Returns
 * 1..12 and advances past it and an optional '.', or 0. */
static int read_month(const char *s, size_t n, size_t *i)
{
	static const char *const full[12] = {
		"january", "february", "march", "april", "may", "june", "july",
		"august", "september", "october", "november", "december"};
	size_t a = *i, b = a;
	while (b < n && is_alpha(s[b]))
		b++;
	size_t len = b - a;
	int m = 0;
	for (int k = 0; k < 12 && !m; k++) {
		if (eq_word(s + a, len, full[k]))
			m = k + 1;
		else if (len == 3 && to_lower(s[a]) == full[k][0] &&
		         to_lower(s[a + 1]) == full[k][1] && to_lower(s[a + 2]) == full[k][2])
			m = k + 1;
	}
	if (!m && eq_word(s + a, len, "sept"))
		m = 9;
	if (!m)
		return 0;
	*i = b;
	if (*i < n && s[*i] == '.')
		(*i)++;
	return m;
}

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] == ' ')
		i++;
	return i;
}

/* Ordinal suffix after a day number ("4th", "1st", "22nd", "3rd"). */
static void skip_ordinal(const char *s, size_t n, size_t *i)
{
	static const char *const suf[] = {"st", "nd", "rd", "th"};
	for (int k = 0; k < 4; k++) {
		if (*i + 2 <= n && to_lower(s[*i]) == suf[k][0] && to_lower(s[*i + 1]) == suf[k][1] &&
		    (*i + 2 == n || !is_alpha(s[*i + 2]))) {
			*i += 2;
			return;
		}
	}
}

/* Year of 2 or 4 digits ending the string. */
static bool read_final_year(const char *s, size_t n, size_t i, int *y)
{
	int v;
	size_t k = read_num(s, n, &i, 4, &v);
	if ((k != 2 && k != 4) || i != n)
		return false;
	*y = expand_year(v, k);
	return true;
}

/* Month name, optional comma, blanks, final year: "March 1961", "Mar., 1961". */
static bool month_then_year(const char *s, size_t n, size_t i, int *m, int *y)
{
	if (!(*m = read_month(s, n, &i)))
		return false;
	bool comma = i < n && s[i] == ',';
	if (comma)
		i++;
	size_t j = skip_blanks(s, n, i);
	if (j == i && !comma)
		return false;
	return read_final_year(s, n, j, y);
}

/* "Mar 4, 1961", "March 4 1961", "Mar. 4th, 1961". */
static bool parse_month_first(const char *s, size_t n, int *y, int *m, int *d)
{
	size_t i = 0;
	*m = read_month(s, n, &i);
	if (!*m)
		return false;
	size_t j = skip_blanks(s, n, i);
	if (j == i)
		return false;
	i = j;
	if (read_num(s, n, &i, 2, d) == 0)
		return false;
	skip_ordinal(s, n, &i);
	bool comma = i < n && s[i] == ',';
	if (comma)
		i++;
	j = skip_blanks(s, n, i);
	if (j == i && !comma)
		return false;
	return read_final_year(s, n, j, y);
}

/* Starts with a number: numeric dates, "4 March 1961", "04-Mar-1961", yyyymmdd. */
static bool parse_number_first(const char *s, size_t n, int *y, int *m, int *d)
{
	size_t i = 0;
	int a;
	size_t ka = read_num(s, n, &i, 8, &a);
	if (ka == 0)
		return false;
	if (i == n) {
		/* yyyymmdd */
		if (ka != 8)
			return false;
		*y = a / 10000;
		*m = a / 100 % 100;
		*d = a % 100;
		return true;
	}
	if (ka > 4)
		return false;

	if (s[i] == ' ' || is_alpha(s[i])) {
		/* "4 March 1961", "4th March, 1961" */
		if (ka > 2)
			return false;
		*d = a;
		skip_ordinal(s, n, &i);
		size_t j = skip_blanks(s, n, i);
		if (j == i)
			return false;
		return month_then_year(s, n, j, m, y);
	}
	char sep = s[i];
	if (sep != '/' && sep != '-' && sep != '.')
		return false;
	i++;
	if (i < n && is_alpha(s[i])) {
		/* "04-Mar-1961" */
		if (ka > 2)
			return false;
		*d = a;
		size_t mi = i;
		if (!(*m = read_month(s, n, &i)))
			return false;
		/* read_month eats a '.'; with '.' as the separator give it back. */
		if (sep == '.' && i > mi && s[i - 1] == '.')
			i--;
		if (i >= n || s[i] != sep)
			return false;
		return read_final_year(s, n, i + 1, y);
	}
	int b, c;
	size_t kb = read_num(s, n, &i, 2, &b);
	if (kb == 0 || i >= n || s[i] != sep)
		return false;
	i++;
	size_t kc = read_num(s, n, &i, 4, &c);
	if (kc == 0 || i != n)
		return false;

	if (ka == 4) {
		/* y-m-d (ISO 8601 and y/m/d) */
		if (kc > 2)
			return false;
		*y = a;
		*m = b;
		*d = c;
		return true;
	}
	if (ka > 2 || (kc != 2 && kc != 4))
		return false;
	*y = expand_year(c, kc);
	if (sep == '.') {
		/* Dots are the day-first (European) convention: d.m.y. */
		*d = a;
		*m = b;
	} else if (a <= 12) {
		/* m/d/y, also when d/m/y would be possible: both readings are dates. */
		*m = a;
		*d = b;
	} else {
		/* 25/12/2020 can only be d/m/y. */
		*d = a;
		*m = b;
	}
	return true;
}

bool phi_date_parse(const char *s, size_t n, int *y, int *m, int *d)
{
	int yy = 0, mm = 0, dd = 0;
	bool ok;
	s = trim(s, &n);
	if (n == 0 || n > 64)
		return false;
	if (is_digit(s[0]))
		ok = parse_number_first(s, n, &yy, &mm, &dd);
	else if (is_alpha(s[0]))
		ok = parse_month_first(s, n, &yy, &mm, &dd);
	else
		ok = false;
	if (!ok || !calendar_ok(yy, mm, dd))
		return false;
	if (y)
		*y = yy;
	if (m)
		*m = mm;
	if (d)
		*d = dd;
	return true;
}

static bool date_ok(const char *s, size_t n)
{
	int y, m, d;
	return phi_date_parse(s, n, &y, &m, &d) && y >= 1880 && y <= 2100;
}

static bool dob_ok(const char *s, size_t n)
{
	int y, m, d;
	if (!phi_date_parse(s, n, &y, &m, &d) || y < 1880)
		return false;
	time_t now = time(NULL);
	struct tm tm;
	if (now == (time_t)-1 || !localtime_r(&now, &tm))
		return y <= 2100; /* no clock: fall back to the plain date range */
	long today = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	long when = (long)y * 10000 + m * 100 + d;
	if (when > today && y >= 2000) {
		/* "DOB 9/23/28": a two-digit year read as 20xx lands in the future; a birth
		 * date is in the past, so it is 19xx (the year was not written in full). */
		char full[8];
		snprintf(full, sizeof full, "%04d", y);
		if (!memmem(s, n, full, 4))
			when -= 100L * 10000;
	}
	return when <= today;
}

/* ---- network and contact ---- */

static bool ipv4_ok(const char *s, size_t n)
{
	s = trim(s, &n);
	size_t i = 0;
	int oct[4];
	for (int k = 0; k < 4; k++) {
		if (k) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		int v;
		size_t len = read_num(s, n, &i, 3, &v);
		if (len == 0 || v > 255 || (len > 1 && s[start] == '0'))
			return false;
		oct[k] = v;
	}
	if (i != n)
		return false;
	bool zero = !oct[0] && !oct[1] && !oct[2] && !oct[3];
	bool bcast = oct[0] == 255 && oct[1] == 255 && oct[2] == 255 && oct[3] == 255;
	return !zero && !bcast;
}

static bool ipv6_ok(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[16];
	s = trim(s, &n);
	if (n < 2 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return false;
	/* "::" (unspecified) identifies nothing and is common in code ("std::"). */
	for (int i = 0; i < 16; i++) {
		if (addr[i])
			return true;
	}
	return false;
}

/* NANP: NXX-NXX-XXXX, N = 2-9, and neither code N11 (service codes). */
static bool nanp_ok(const char *d)
{
	if (d[0] < '2' || (d[1] == '1' && d[2] == '1'))
		return false;
	if (d[3] < '2' || (d[4] == '1' && d[5] == '1'))
		return false;
	return true;
}

static bool phone_ok(const char *s, size_t n)
{
	char d[32];
	s = trim(s, &n);
	bool plus = n && s[0] == '+';
	if (plus) {
		s++;
		n--;
	}
	/* Separators written in phone numbers; anything else (letters, "ext") is not
	 * part of the number the rule captured. */
	int k = collect_digits(s, n, " -.()/", d, sizeof d);
	if (k < 0)
		return false;
	if (plus) {
		if (k == 11 && d[0] == '1')
			return nanp_ok(d + 1);
		return k >= 7 && k <= 15;
	}
	if (k == 11 && d[0] == '1')
		return nanp_ok(d + 1);
	if (k == 10)
		return nanp_ok(d);
	if (k == 7)
		return d[0] >= '2' && !(d[1] == '1' && d[2] == '1');
	return false;
}

static bool age90_ok(const char *s, size_t n)
{
	s = trim(s, &n);
	size_t i = 0;
	int v;
	size_t k = read_num(s, n, &i, 3, &v);
	return k > 0 && v >= 90 && v <= 125;
}

static bool email_ok(const char *s, size_t n)
{
	s = trim(s, &n);
	const char *at = memchr(s, '@', n);
	if (!at || at == s || memchr(at + 1, '@', n - (size_t)(at - s) - 1))
		return false;
	for (const char *p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f || strchr("()<>[]\\,;:\"", c))
			return false;
	}
	const char *dom = at + 1;
	size_t dn = n - (size_t)(dom - s);
	size_t last_dot = 0;
	bool dot = false;
	for (size_t i = 0; i < dn; i++) {
		char c = dom[i];
		if (c == '.') {
			/* no empty labels */
			if (i == 0 || dom[i - 1] == '.')
				return false;
			dot = true;
			last_dot = i;
		} else if (!is_alnum(c) && c != '-') {
			return false;
		}
	}
	if (!dot || last_dot + 1 >= dn)
		return false;
	const char *tld = dom + last_dot + 1;
	size_t tn = dn - last_dot - 1;
	if (tn < 2)
		return false;
	for (size_t i = 0; i < tn; i++) {
		if (!is_alpha(tld[i]))
			return false;
	}
	/* RFC 2606 / RFC 6761 reserved names are placeholders, never a person's. */
	static const char *const reserved_tld[] = {"invalid", "example", "test", "localhost"};
	for (size_t i = 0; i < sizeof reserved_tld / sizeof *reserved_tld; i++) {
		if (eq_word(tld, tn, reserved_tld[i]))
			return false;
	}
	static const char *const reserved_dom[] = {"example.com", "example.org", "example.net"};
	for (size_t i = 0; i < sizeof reserved_dom / sizeof *reserved_dom; i++) {
		size_t rl = strlen(reserved_dom[i]);
		if (eq_word(dom, dn, reserved_dom[i]) ||
		    (dn > rl && dom[dn - rl - 1] == '.' && ends_with_word(dom, dn, reserved_dom[i])))
			return false;
	}
	return true;
}

/* ---- person names ---- */

struct name_tok {
	const char *s;
	size_t n;
};

static bool name_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '^';
}

static bool word_in(const char *s, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		if (eq_word(s, n, list[i]))
			return true;
	}
	return false;
}

/* "J", "J.", "J.R." (uppercase letters, each alone between dots). */
static bool is_initials(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i % 2 == 0 ? !is_upper(s[i]) : s[i] != '.')
			return false;
	}
	return true;
}

/* UTF-8 right single quotation mark, used as an apostrophe (O’Neil). */
static bool is_rsquo(const char *s, size_t n, size_t i)
{
	return i + 3 <= n && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
	       (unsigned char)s[i + 2] == 0x99;
}

/* Letters (ASCII or any non-ASCII byte, so "José" is a word), apostrophes and
 * hyphens; starting with a letter. */
static bool word_shaped(const char *s, size_t n)
{
	if (n == 0 || !(is_alpha(s[0]) || (unsigned char)s[0] >= 0x80))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (is_rsquo(s, n, i)) {
			i += 2;
			continue;
		}
		char c = s[i];
		if (!(is_alpha(c) || (unsigned char)c >= 0x80 || c == '\'' || c == '-'))
			return false;
	}
	return true;
}

/* Capitalised or ALLCAPS: the first letter is not lowercase.  A non-ASCII first
 * letter cannot be judged without Unicode tables and is given the benefit. */
static bool capitalised(const char *s, size_t n)
{
	return n && !is_lower(s[0]);
}

enum { LIST_GIVEN, LIST_SURNAME, LIST_COMMON };

static bool in_list(const struct phi_names *g, int list, const char *s, size_t n)
{
	switch (list) {
	case LIST_GIVEN: return phi_names_is_given(g, s, n);
	case LIST_SURNAME: return phi_names_is_surname(g, s, n);
	default: return phi_names_is_common(g, s, n);
	}
}

/* Membership of one word, also without apostrophes (the Census lists spell O'Neil
 * "Oneil"). */
static bool part_in(const struct phi_names *g, int list, const char *s, size_t n)
{
	if (in_list(g, list, s, n))
		return true;
	char buf[VAL_MAX_LEN];
	size_t k = 0;
	for (size_t i = 0; i < n && k < sizeof buf; i++) {
		if (is_rsquo(s, n, i)) {
			i += 2;
			continue;
		}
		if (s[i] != '\'')
			buf[k++] = s[i];
	}
	return k != n && k > 0 && in_list(g, list, buf, k);
}

/* A token is given/surname if it or any hyphen part is ("Mary-Jane",
 * "Jones-Parker"); common if it is, or all its parts are ("Full-Contour"). */
static bool tok_in(const struct phi_names *g, int list, const struct name_tok *t)
{
	if (part_in(g, list, t->s, t->n))
		return true;
	if (!memchr(t->s, '-', t->n))
		return false;
	size_t a = 0;
	bool any = false, all = true;
	for (size_t i = 0; i <= t->n; i++) {
		if (i < t->n && t->s[i] != '-')
			continue;
		if (i > a) {
			bool in = part_in(g, list, t->s + a, i - a);
			any |= in;
			all &= in;
		}
		a = i + 1;
	}
	return list == LIST_COMMON ? all : any;
}

/* Split a name candidate into the words that can carry a name: initials,
 * honorifics, suffixes and inner lowercase particles ("van", "de la") are dropped.
 * Returns the word count, or -1 when something is not name-shaped (a digit, a
 * lowercase word, too many words).  *comma says whether the value had a comma
 * ("Smith, John": surname first). */
static int name_tokens(const char *s, size_t n, struct name_tok *tok, bool *comma)
{
	static const char *const honorific[] = {"mr", "mrs", "ms", "miss", "dr", "prof", "mx",
	                                        NULL};
	static const char *const suffix[] = {"jr", "sr", "ii", "iii", "iv", "dds", "dmd",
	                                     "md", NULL};
	static const char *const particle[] = {"de", "di", "du", "da", "del", "della", "der",
	                                       "den", "des", "dos", "das", "le", "la", "van",
	                                       "von", "ten", "ter", "y", "e", "bin", "al",
	                                       NULL};
	struct name_tok raw[NAME_MAX_TOKENS * 2];
	size_t nraw = 0;

	s = trim(s, &n);
	if (n == 0 || n > VAL_MAX_LEN)
		return -1;
	*comma = memchr(s, ',', n) != NULL;
	for (size_t i = 0; i < n;) {
		while (i < n && name_sep(s[i]))
			i++;
		size_t a = i;
		while (i < n && !name_sep(s[i]))
			i++;
		if (i == a)
			continue;
		if (nraw == sizeof raw / sizeof *raw)
			return -1;
		raw[nraw].s = s + a;
		raw[nraw].n = i - a;
		nraw++;
	}

	int k = 0;
	for (size_t r = 0; r < nraw; r++) {
		const char *w = raw[r].s;
		size_t wn = raw[r].n;
		if (is_initials(w, wn))
			continue;
		while (wn && w[wn - 1] == '.')
			wn--;
		if (word_in(w, wn, honorific) || word_in(w, wn, suffix))
			continue;
		if (wn && is_lower(w[0]) && r + 1 < nraw && word_in(w, wn, particle))
			continue;
		if (!word_shaped(w, wn) || !capitalised(w, wn))
			return -1;
		if (k == NAME_MAX_TOKENS)
			return -1;
		tok[k].s = w;
		tok[k].n = wn;
		k++;
	}
	return k;
}

static enum phi_verdict name_verdict(const char *s, size_t n, const struct phi_names *g)
{
	struct name_tok tok[NAME_MAX_TOKENS];
	bool comma;
	int k = name_tokens(s, n, tok, &comma);
	if (k <= 0)
		return PHI_REJECT;
	if (!g)
		return PHI_ACCEPT;

	bool given[NAME_MAX_TOKENS], sur[NAME_MAX_TOKENS];
	bool any_known = false, any_common = false, all_common = true;
	for (int i = 0; i < k; i++) {
		given[i] = tok_in(g, LIST_GIVEN, &tok[i]);
		sur[i] = tok_in(g, LIST_SURNAME, &tok[i]);
		bool common = tok_in(g, LIST_COMMON, &tok[i]);
		any_known |= given[i] || sur[i];
		any_common |= common;
		all_common &= common;
	}
	bool pair = false;
	for (int i = 0; i < k && !pair; i++) {
		for (int j = 0; j < k && !pair; j++)
			pair = i != j && given[i] && sur[j];
	}
	if (pair)
		/* A pair made only of common words ("Will Price", "Rose Young") is a
		 * plausible name after a cue but does not confirm one in prose. */
		return all_common ? PHI_ACCEPT : PHI_STRONG;
	if (all_common || any_common)
		return PHI_REJECT;
	if (any_known)
		return PHI_ACCEPT;
	/* Unknown capitalised words: a two- or three-word name is plausible; one word
	 * or a longer run is a heading or a product line. */
	return (k == 2 || k == 3) ? PHI_ACCEPT : PHI_REJECT;
}

static enum phi_verdict surname_verdict(const char *s, size_t n, const struct phi_names *g)
{
	struct name_tok tok[NAME_MAX_TOKENS];
	bool comma;
	int k = name_tokens(s, n, tok, &comma);
	if (k <= 0 || k > 3)
		return PHI_REJECT;
	if (!g)
		return PHI_ACCEPT;
	/* "Smith, John" puts the surname first; "J. Smith", "John Smith" last. */
	const struct name_tok *t = comma ? &tok[0] : &tok[k - 1];
	if (tok_in(g, LIST_COMMON, t))
		return PHI_REJECT;
	return tok_in(g, LIST_SURNAME, t) ? PHI_STRONG : PHI_ACCEPT;
}

/* ---- dispatch ---- */

static bool has_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i]))
			return true;
	}
	return false;
}

static bool card_ok(const char *s, size_t n)
{
	char d[32];
	s = trim(s, &n);
	int k = collect_digits(s, n, " -", d, sizeof d);
	if (k < 12 || k > 19 || all_same(d, (size_t)k))
		return false;
	return luhn_digits(d, (size_t)k);
}

static enum phi_verdict verdict(bool ok)
{
	return ok ? PHI_ACCEPT : PHI_REJECT;
}

enum phi_verdict phi_validate(int id, const char *s, size_t n, const struct phi_names *names)
{
	if (id == PHI_VAL_NONE)
		return PHI_ACCEPT;
	if (!s || n == 0)
		return PHI_REJECT;
	if (n > VAL_MAX_LEN && id != PHI_VAL_NONE && id != PHI_VAL_DIGITS)
		return PHI_REJECT;
	switch (id) {
	case PHI_VAL_NONE: return PHI_ACCEPT;
	case PHI_VAL_LUHN: return verdict(card_ok(s, n));
	case PHI_VAL_NPI: return verdict(phi_npi_ok(s, n));
	case PHI_VAL_DEA: return verdict(phi_dea_ok(s, n));
	case PHI_VAL_MBI: return verdict(phi_mbi_ok(s, n));
	case PHI_VAL_SSN: return verdict(phi_ssn_ok(s, n));
	case PHI_VAL_ABA: return verdict(phi_aba_ok(s, n));
	case PHI_VAL_VIN: return verdict(phi_vin_ok(s, n));
	case PHI_VAL_UDI: return verdict(udi_ok(s, n));
	case PHI_VAL_DATE: return verdict(date_ok(s, n));
	case PHI_VAL_DOB: return verdict(dob_ok(s, n));
	case PHI_VAL_IPV4: return verdict(ipv4_ok(s, n));
	case PHI_VAL_IPV6: return verdict(ipv6_ok(s, n));
	case PHI_VAL_PHONE: return verdict(phone_ok(s, n));
	case PHI_VAL_AGE90: return verdict(age90_ok(s, n));
	case PHI_VAL_NAME: return name_verdict(s, n, names);
	case PHI_VAL_SURNAME: return surname_verdict(s, n, names);
	case PHI_VAL_EMAIL: return verdict(email_ok(s, n));
	case PHI_VAL_DIGITS: return verdict(has_digit(s, n));
	default: return PHI_REJECT;
	}
}
