/* validate.h - check digits and format validators run after a rule's regex matches.
 *
 * Each validator looks at the matched value (the rule's value group) and says
 * whether it can be what the rule claims.  Sources: Luhn (ISO/IEC 7812-1 Annex B);
 * NPI (CMS NPI check digit: Luhn over "80840" + NPI); DEA (DEA registration number
 * check digit); MBI (CMS MBI format specification); SSN (SSA: area 000, 666, 900-999,
 * group 00, serial 0000 never issued); ABA routing (3-7-1 weights); VIN (49 CFR
 * 565.15 check digit); GS1 GTIN-14 (GS1 General Specifications 7.9); calendar dates.
 * Separators (space, dash, dot, slash, parentheses) are ignored where the format
 * allows them.
 *
 * Threading: pure functions; the name gazetteer is read-only after loading.
 */
#ifndef PHI_VALIDATE_H
#define PHI_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

struct phi_names;

enum phi_verdict {
	PHI_REJECT = 0, /* the value cannot be what the rule claims: drop the match */
	PHI_ACCEPT = 1, /* plausible: keep at the rule's confidence */
	PHI_STRONG = 2, /* confirmed (e.g. both name parts in the gazetteer): raise to
	                   the rule's cue confidence */
};

enum {
	PHI_VAL_NONE = 0,
	PHI_VAL_LUHN,      /* payment cards: 12-19 digits, Luhn */
	PHI_VAL_NPI,       /* 10 digits starting 1 or 2, Luhn over 80840+NPI */
	PHI_VAL_DEA,       /* 2 letters + 7 digits with DEA check digit */
	PHI_VAL_MBI,       /* Medicare Beneficiary Identifier layout */
	PHI_VAL_SSN,       /* 9 digits, never-issued ranges rejected */
	PHI_VAL_ABA,       /* 9-digit routing number */
	PHI_VAL_VIN,       /* 17 chars, check digit at position 9 */
	PHI_VAL_UDI,       /* GS1 (01)+GTIN-14 check digit; HIBCC '+' accepted by shape */
	PHI_VAL_DATE,      /* a real calendar date, year 1880..2100 */
	PHI_VAL_DOB,       /* a real calendar date not in the future */
	PHI_VAL_IPV4,      /* octets <= 255, not 0.0.0.0 or a version string */
	PHI_VAL_IPV6,      /* parses as an IPv6 address */
	PHI_VAL_PHONE,     /* NANP: area and exchange 2-9, not N11; or E.164 7-15 digits */
	PHI_VAL_AGE90,     /* an age between 90 and 125 */
	PHI_VAL_NAME,      /* person name: gazetteer and shape (names.h) */
	PHI_VAL_SURNAME,   /* surname alone after an honorific or with initials */
	PHI_VAL_EMAIL,     /* domain has a dot and a 2+ letter TLD, not example/invalid */
	PHI_VAL_DIGITS,    /* contains at least one digit (labelled IDs) */
	PHI_VAL_COUNT
};

/* Look a validator up by name ("luhn", "npi", ...).  Returns its id, or -1. */
int phi_validator_find(const char *name);
const char *phi_validator_name(int id);

/* Judge value s[0..n).  names may be NULL (name validators then accept by shape). */
enum phi_verdict phi_validate(int id, const char *s, size_t n, const struct phi_names *names);

/* Individual checks, exposed for tests and for other validators. */
bool phi_luhn_ok(const char *digits, size_t n);
bool phi_npi_ok(const char *s, size_t n);
bool phi_dea_ok(const char *s, size_t n);
bool phi_mbi_ok(const char *s, size_t n);
bool phi_ssn_ok(const char *s, size_t n);
bool phi_aba_ok(const char *s, size_t n);
bool phi_vin_ok(const char *s, size_t n);
bool phi_gtin_ok(const char *digits, size_t n);
/* Parse the date in s (m/d/y, d.m.y, y-m-d, "Mon d, yyyy", "d Month yyyy", yyyymmdd);
 * true and *y,*m,*d set when it is a real calendar date. */
bool phi_date_parse(const char *s, size_t n, int *y, int *m, int *d);

#endif
