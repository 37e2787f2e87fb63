/* ops.c - de-identification operators (tag, mask, remove, hash, pseudonym) and the
 * per-class policy that chooses one for each finding.
 *
 * Follows HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i): (B) ZIP3 rule with the
 * restricted list in rules/zip3-restricted.txt, (C) dates keep only the year and
 * ages over 89 become one category "90+".  DESIGN.md "Stripping": consistency across
 * the files of one case comes from a secret key (HMAC-SHA-256, libsodium).
 *
 * Output forms (cls = class name, TAG = its tag from phi_classes, "[PHI]" for an
 * unknown class):
 *   tag        TAG                          "[NAME]"
 *   mask       ASCII letters/digits -> '*', other ASCII kept, each non-ASCII UTF-8
 *              character -> one '*'         "(***) ***-****"
 *   remove     ""
 *   hash       TAG minus ']' + ':' + 16 lowercase hex of
 *              HMAC-SHA-256(key, cls || 0 || normalized value) + ']'
 *                                           "[NAME:3fa9c2d01b7e4a55]"
 *   pseudonym  name: gazetteer "Given Surname" in the input's form and case;
 *              email: "user-<8 hex>@example.invalid"; date: shifted, same layout;
 *              phone, fax, ssn, mrn, healthplan, account, license, vehicle, device,
 *              id, zip, ip, age: same shape, each letter/digit replaced by a keyed one;
 *              address, url and the rest: TAG.  Without a gazetteer (names NULL)
 *              a name becomes "Patient-<8 hex>" (8, not 4, hex digits: 16 bits
 *              collide after a few hundred patients).
 * A value whose pseudonym cannot be formed (an unparseable date, a code without
 * letters or digits) gets TAG.  On PHI_ELIMIT out is "" and *outlen is the length
 * that was needed (without the NUL).
 *
 * Normalization (hash and pseudonym), so one identifier written differently maps the
 * same: ASCII lowercase; names drop '.' and '\'' (joined), split words on other
 * punctuation, reorder "LAST, FIRST" and DICOM PN "LAST^FIRST^MIDDLE^PREFIX^SUFFIX"
 * to "first last"; phone, fax, ssn, mrn, healthplan, account, license, device, id,
 * zip, vehicle keep letters and digits only (phone/fax also drop a leading US
 * country code 1 from 11 digits); dates become yyyy-mm-dd when they parse.
 *
 * Name pseudonyms: the surname is chosen by HMAC(key, "name" 0 "family" 0 surname)
 * and the given name by HMAC(key, "name" 0 "given" 0 given), per component rather
 * than per whole name, so "Mr. Smith" and "John Smith" in one case get the same
 * pseudonym surname.  A pick equal to the input's own word is skipped.
 *
 * Date pseudonyms: every date is shifted back by one offset of 1..365 days derived
 * from HMAC(key, "date-shift") alone: per key, not per value, so intervals between
 * the dates of a case are kept (use one key per case/patient for per-patient
 * offsets).  The layout is kept: separators, field order, zero padding, 2- or
 * 4-digit year, month names with their case and length.  Two-digit years are read
 * as 2000+yy when yy <= 30, else 1900+yy (fixed so output never depends on the day
 * the tool runs).
 *
 * Safe Harbor (p->safe_harbor): zip -> ZIP3 + "00", or "00000" for a restricted
 * ZIP3 (also when no list was loaded: unknown is treated as restricted); "12345-6789"
 * -> "12300".  age -> "90+" when the value's number is 90 or more.  Both override
 * every operator but remove.  date with tag or pseudonym -> the 4-digit year when
 * one can be read from the value and it does not reveal an age over 89 (a year
 * <= this year - 90 gives "[DATE]"), else "[DATE]"; a shifted full date is not
 * Safe Harbor, so pseudonym does not shift under --safe-harbor.
 *
 * Key file: the key is SHA-256 of the file's bytes exactly as stored, a trailing
 * newline included (so "secret\n" and "secret" are different keys).
 *
 * Threading: a policy is written in main, then read-only; phi_replace is reentrant
 * (no static state; the gazetteer is read-only).
 * Ownership: the policy owns zip3; names is borrowed.  phi_replace writes only out.
 */
#include "ops.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "names.h"
#include "rules.h"

#define KEY_FILE_MAX (1u << 20) /* key files larger than 1 MiB are refused */
#define KEY_FILE_MIN 16
#define ZIP3_MAX 1000           /* there are only 1000 three-digit prefixes */
#define PSEUDO_TRIES 8          /* redraws when a pseudonym equals its input */

static const char *const op_names[] = {"tag", "mask", "remove", "hash", "pseudonym"};

const char *phi_op_name(enum phi_op op)
{
	return (unsigned)op < 5 ? op_names[op] : "unknown";
}

void phi_policy_init(struct phi_policy *p)
{
	memset(p, 0, sizeof *p);
	p->global = PHI_OP_TAG;
	for (size_t i = 0; i < PHI_MAX_CLASSES; i++)
		p->per_class[i] = PHI_OP_TAG;
	/* Idempotent and thread-safe; main calls it too.  A failure here only means
	 * the later crypto calls will fail loudly in phi_policy_load_key. */
	if (sodium_init() < 0)
		return;
}

void phi_policy_free(struct phi_policy *p)
{
	free(p->zip3);
	p->zip3 = NULL;
	p->nzip3 = 0;
	sodium_memzero(p->key, sizeof p->key);
	p->has_key = false;
}

static int class_index(const char *cls)
{
	const struct phi_class_info *ci = phi_class_find(cls);
	if (!ci)
		return -1;
	long i = ci - phi_classes;
	return i >= 0 && i < PHI_MAX_CLASSES ? (int)i : -1;
}

static bool op_parse(const char *s, size_t n, enum phi_op *out)
{
	for (int i = 0; i < 5; i++)
		if (strlen(op_names[i]) == n && memcmp(op_names[i], s, n) == 0) {
			*out = (enum phi_op)i;
			return true;
		}
	if (n == 6 && memcmp(s, "pseudo", 6) == 0) {
		*out = PHI_OP_PSEUDONYM;
		return true;
	}
	return false;
}

int phi_policy_set(struct phi_policy *p, const char *spec, struct phi_error *err)
{
	const char *eq = strchr(spec, '=');
	const char *ops = eq ? eq + 1 : spec;
	enum phi_op op;
	int idx = -1;

	if (eq) {
		char cls[32];
		size_t n = (size_t)(eq - spec);
		if (n < sizeof cls) {
			memcpy(cls, spec, n);
			cls[n] = '\0';
			idx = class_index(cls);
		}
		if (idx < 0) {
			char list[200];
			size_t len = 0;
			list[0] = '\0';
			for (size_t i = 0; phi_classes[i].name && len < sizeof list; i++)
				len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
				                        i ? ", " : "", phi_classes[i].name);
			return phi_fail(err, PHI_EUSAGE, "--op %.*s: unknown class (one of: %s)",
			                (int)(n > 32 ? 32 : n), spec, list);
		}
	}
	if (!op_parse(ops, strlen(ops), &op))
		return phi_fail(err, PHI_EUSAGE,
		                "--op %.40s: unknown operator '%.20s' (one of: tag, mask, "
		                "remove, hash, pseudonym)",
		                spec, ops);
	if (idx >= 0) {
		p->per_class[idx] = op;
		p->class_set[idx] = true;
	} else {
		p->global = op;
	}
	return 0;
}

int phi_policy_load_key(struct phi_policy *p, const char *path, struct phi_error *err)
{
	if (sodium_init() < 0)
		return phi_fail(err, PHI_EIO, "libsodium could not be initialised");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return phi_fail(err, PHI_EIO, "%s: %s", path, strerror(errno));
	unsigned char *buf = malloc(KEY_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return phi_fail(err, PHI_ENOMEM, "%s: out of memory", path);
	}
	size_t len = 0;
	int rc = 0;
	while (len < KEY_FILE_MAX + 1) {
		ssize_t r = read(fd, buf + len, KEY_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = phi_fail(err, PHI_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (rc == 0 && len > KEY_FILE_MAX)
		rc = phi_fail(err, PHI_ELIMIT, "%s: key file too large (at most 1 MiB)", path);
	if (rc == 0 && len < KEY_FILE_MIN)
		rc = phi_fail(err, PHI_EUSAGE, "%s: key file too short (need at least 16 bytes)",
		              path);
	if (rc == 0) {
		crypto_hash_sha256(p->key, buf, len);
		p->has_key = true;
	}
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int phi_policy_load_zip3(struct phi_policy *p, const char *path, struct phi_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return phi_fail(err, PHI_EIO, "%s: %s", path, strerror(errno));
	/* One spare slot so an empty but loaded list is non-NULL (NULL = not loaded). */
	char(*list)[4] = calloc(ZIP3_MAX + 1, sizeof *list);
	if (!list) {
		fclose(f);
		return phi_fail(err, PHI_ENOMEM, "%s: out of memory", path);
	}
	size_t n = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t r;
	int rc = 0;
	unsigned long lineno = 0;
	while (rc == 0 && (r = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		char *s = line, *e = line + r;
		char *hash = memchr(s, '#', (size_t)r);
		if (hash)
			e = hash;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e)
			continue;
		if (e - s != 3 || !isdigit((unsigned char)s[0]) ||
		    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
			rc = phi_fail(err, PHI_EFORMAT,
			              "%s:%lu: expected a three-digit ZIP prefix", path, lineno);
		else if (n == ZIP3_MAX)
			rc = phi_fail(err, PHI_ELIMIT, "%s:%lu: more than %d ZIP prefixes", path,
			              lineno, ZIP3_MAX);
		else
			memcpy(list[n++], s, 3);
	}
	if (rc == 0 && ferror(f))
		rc = phi_fail(err, PHI_EIO, "%s: read error", path);
	free(line);
	fclose(f);
	if (rc) {
		free(list);
		return rc;
	}
	free(p->zip3);
	p->zip3 = list;
	p->nzip3 = n;
	return 0;
}

static bool op_needs_key(enum phi_op op)
{
	return op == PHI_OP_HASH || op == PHI_OP_PSEUDONYM;
}

int phi_policy_check(const struct phi_policy *p, struct phi_error *err)
{
	bool need = op_needs_key(p->global);
	for (size_t i = 0; i < PHI_MAX_CLASSES; i++)
		if (p->class_set[i] && op_needs_key(p->per_class[i]))
			need = true;
	if (need && !p->has_key)
		return phi_fail(err, PHI_EUSAGE, "the hash and pseudonym operators need --key FILE");
	return 0;
}

/* ---- output buffer: counts everything, copies what fits ---- */

struct wbuf {
	char *p;
	size_t cap, len;
};

static void w_put(struct wbuf *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, w->len++)
		if (w->len + 1 < w->cap)
			w->p[w->len] = s[i];
}

static void w_ch(struct wbuf *w, char c)
{
	w_put(w, &c, 1);
}

static void w_str(struct wbuf *w, const char *s)
{
	w_put(w, s, strlen(s));
}

/* Finish: NUL-terminate; on overflow out is "" and *outlen the length needed. */
static int w_end(struct wbuf *w, size_t *outlen)
{
	if (outlen)
		*outlen = w->len;
	if (w->cap == 0)
		return PHI_ELIMIT;
	if (w->len + 1 > w->cap) {
		w->p[0] = '\0';
		return PHI_ELIMIT;
	}
	w->p[w->len] = '\0';
	return 0;
}

/* Growable scratch string for normalization (freed by the caller). */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void s_ch(struct sbuf *s, char c)
{
	if (s->len < s->cap)
		s->p[s->len++] = c;
}

/* ---- small character helpers (ASCII only: the locale never matters) ---- */

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(int c) { return c >= 'a' && c <= 'z'; }
static bool is_alpha(int c) { return is_upper(c) || is_lower(c); }
static bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static char to_lower(char c) { return is_upper(c) ? (char)(c - 'A' + 'a') : c; }
static char to_upper(char c) { return is_lower(c) ? (char)(c - 'a' + 'A') : c; }

/* Length of the UTF-8 character at s[0] (1 for an invalid byte), at most n. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t want = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
	            : s[0] >= 0xE0 ? 3
	            : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : 1;
	if (s[0] < 0x80 || s[0] > 0xF4)
		want = 1;
	size_t k = 1;
	while (k < want && k < n && (s[k] & 0xC0) == 0x80)
		k++;
	return k;
}

/* ---- class families ---- */

static bool cls_is(const char *cls, const char *name)
{
	return cls && strcmp(cls, name) == 0;
}

/* Classes whose value is a code: normalized to letters and digits. */
static bool cls_code(const char *cls)
{
	static const char *const v[] = {"phone", "fax", "ssn", "mrn", "healthplan",
	                                "account", "license", "device", "id", "zip",
	                                "vehicle", NULL};
	for (size_t i = 0; cls && v[i]; i++)
		if (strcmp(cls, v[i]) == 0)
			return true;
	return false;
}

/* Classes pseudonymised by per-position substitution. */
static bool cls_shape(const char *cls)
{
	return cls_code(cls) || cls_is(cls, "ip") || cls_is(cls, "age");
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
 * civil calendar algorithms). */
static long days_from_civil(long y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(long y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

static const char *const month_names[] = {"january", "february", "march", "april",
                                          "may", "june", "july", "august",
                                          "september", "october", "november",
                                          "december"};

/* Month number for a month name or abbreviation ("Jan", "Sept", "JANUARY"), or 0. */
static int month_parse(const char *s, size_t n)
{
	if (n < 3)
		return 0;
	for (int i = 0; i < 12; i++) {
		const char *mn = month_names[i];
		size_t ml = strlen(mn);
		bool ok = n == 3 || n == ml || (i == 8 && n == 4);
		for (size_t k = 0; ok && k < n; k++)
			ok = k < ml && to_lower(s[k]) == mn[k];
		if (ok)
			return i + 1;
	}
	return 0;
}

enum tok_kind { TK_DIGIT, TK_ALPHA, TK_SEP };

struct tok {
	size_t start, len;
	enum tok_kind kind;
};

enum role { R_NONE, R_Y, R_M, R_D, R_MNAME, R_ORD };

#define DATE_TOKS 9

struct date {
	long y;
	int m, d;
	struct tok t[DATE_TOKS];
	enum role role[DATE_TOKS];
	size_t nt;
};

static long num(const char *s, size_t n)
{
	long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool date_valid(long y, int m, int d)
{
	return y >= 1000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= days_in_month(y, m);
}

static long year_of(const char *s, const struct tok *t)
{
	long y = num(s + t->start, t->len);
	if (t->len == 2)
		y += y <= 30 ? 2000 : 1900;
	return y;
}

/* Split v into digit runs, letter runs and separator runs; a separator run may hold
 * only " ,./-".  Anything else (other punctuation, non-ASCII) is not a date. */
static bool date_tokens(const char *v, size_t n, struct date *dt)
{
	dt->nt = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		enum tok_kind k;
		if (is_digit(v[i])) {
			k = TK_DIGIT;
			while (j < n && is_digit(v[j]))
				j++;
		} else if (is_alpha(v[i])) {
			k = TK_ALPHA;
			while (j < n && is_alpha(v[j]))
				j++;
		} else if (strchr(" ,./-", v[i]) && v[i]) {
			k = TK_SEP;
			while (j < n && v[j] && strchr(" ,./-", v[j]))
				j++;
			if (j - i > 3)
				return false;
		} else {
			return false;
		}
		if (dt->nt == DATE_TOKS)
			return false;
		dt->t[dt->nt] = (struct tok){i, j - i, k};
		dt->role[dt->nt] = R_NONE;
		dt->nt++;
		i = j;
	}
	return true;
}

static bool is_ordinal(const char *s, size_t n)
{
	if (n != 2)
		return false;
	char a = to_lower(s[0]), b = to_lower(s[1]);
	return (a == 's' && b == 't') || (a == 'n' && b == 'd') || (a == 'r' && b == 'd') ||
	       (a == 't' && b == 'h');
}

/* Try a numeric D sep D sep D date with field order ord ("mdy", "dmy", "ymd"). */
static bool date_try_num(const char *v, struct date *dt, const size_t *ix, const char *ord)
{
	long y = 0;
	int m = 0, d = 0;
	for (int k = 0; k < 3; k++) {
		const struct tok *t = &dt->t[ix[k]];
		if (ord[k] == 'y') {
			if (t->len != 2 && t->len != 4)
				return false;
			y = year_of(v, t);
			dt->role[ix[k]] = R_Y;
		} else {
			if (t->len > 2)
				return false;
			int x = (int)num(v + t->start, t->len);
			if (ord[k] == 'm')
				m = x;
			else
				d = x;
			dt->role[ix[k]] = ord[k] == 'm' ? R_M : R_D;
		}
	}
	if (!date_valid(y, m, d))
		return false;
	dt->y = y, dt->m = m, dt->d = d;
	return true;
}

/* Parse a whole value as one date: m/d/y (US; d/m/y when the month would be > 12),
 * d.m.y (European; m.d.y fallback), y-m-d and y/m/d, yyyymmdd (DICOM DA),
 * "Mon d, yyyy", "Month dth yyyy", "d Mon yyyy", "17-May-1961". */
static bool date_parse(const char *v, size_t n, struct date *dt)
{
	if (!date_tokens(v, n, dt) || dt->nt == 0)
		return false;
	size_t sig[5], ns = 0;
	for (size_t i = 0; i < dt->nt; i++)
		if (dt->t[i].kind != TK_SEP) {
			if (ns == 5)
				return false;
			sig[ns++] = i;
		}
	/* Leading or trailing separators are not part of a date value. */
	if (dt->t[0].kind == TK_SEP || dt->t[dt->nt - 1].kind == TK_SEP)
		return false;

	if (ns == 1 && dt->t[0].kind == TK_DIGIT && dt->t[0].len == 8) {
		long y = num(v, 4);
		int m = (int)num(v + 4, 2), d = (int)num(v + 6, 2);
		if (!date_valid(y, m, d))
			return false;
		dt->y = y, dt->m = m, dt->d = d;
		dt->role[0] = R_Y; /* whole token: printed as yyyymmdd */
		return true;
	}

	/* An ordinal suffix right after a day number ("17th") is marked and dropped. */
	if (ns == 4) {
		size_t k;
		for (k = 1; k < 4; k++)
			if (dt->t[sig[k]].kind == TK_ALPHA && sig[k] == sig[k - 1] + 1 &&
			    dt->t[sig[k - 1]].kind == TK_DIGIT &&
			    is_ordinal(v + dt->t[sig[k]].start, dt->t[sig[k]].len))
				break;
		if (k == 4)
			return false;
		dt->role[sig[k]] = R_ORD;
		for (; k < 3; k++)
			sig[k] = sig[k + 1];
		ns = 3;
	}
	if (ns != 3)
		return false;

	const struct tok *a = &dt->t[sig[0]], *b = &dt->t[sig[1]], *c = &dt->t[sig[2]];
	if (a->kind == TK_DIGIT && b->kind == TK_DIGIT && c->kind == TK_DIGIT) {
		/* Both separators one and the same character of "/-.". */
		if (dt->nt != 5 || dt->t[1].len != 1 || dt->t[3].len != 1)
			return false;
		char s1 = v[dt->t[1].start], s2 = v[dt->t[3].start];
		if (s1 != s2 || s1 == ' ' || s1 == ',')
			return false;
		if (a->len == 4)
			return date_try_num(v, dt, sig, "ymd");
		if (s1 == '.')
			return date_try_num(v, dt, sig, "dmy") || date_try_num(v, dt, sig, "mdy");
		return date_try_num(v, dt, sig, "mdy") || date_try_num(v, dt, sig, "dmy");
	}

	const struct tok *mt, *dtk, *yt;
	if (a->kind == TK_ALPHA && b->kind == TK_DIGIT && c->kind == TK_DIGIT) {
		mt = a, dtk = b, yt = c; /* May 17, 1961 */
		dt->role[sig[0]] = R_MNAME, dt->role[sig[1]] = R_D, dt->role[sig[2]] = R_Y;
	} else if (a->kind == TK_DIGIT && b->kind == TK_ALPHA && c->kind == TK_DIGIT) {
		mt = b, dtk = a, yt = c; /* 17 May 1961 */
		dt->role[sig[0]] = R_D, dt->role[sig[1]] = R_MNAME, dt->role[sig[2]] = R_Y;
	} else {
		return false;
	}
	int m = month_parse(v + mt->start, mt->len);
	if (!m || dtk->len > 2 || (yt->len != 2 && yt->len != 4))
		return false;
	long y = year_of(v, yt);
	int d = (int)num(v + dtk->start, dtk->len);
	if (!date_valid(y, m, d))
		return false;
	dt->y = y, dt->m = m, dt->d = d;
	return true;
}

/* Rewrite the parsed date dt (layout of v) with a new y-m-d. */
static void date_print(struct wbuf *w, const char *v, const struct date *dt, long y, int m,
                       int d)
{
	char b[32];
	if (dt->nt == 1) {
		snprintf(b, sizeof b, "%04ld%02d%02d", y, m, d);
		w_str(w, b);
		return;
	}
	for (size_t i = 0; i < dt->nt; i++) {
		const struct tok *t = &dt->t[i];
		const char *s = v + t->start;
		switch (dt->role[i]) {
		case R_Y:
			if (t->len == 2)
				snprintf(b, sizeof b, "%02ld", ((y % 100) + 100) % 100);
			else
				snprintf(b, sizeof b, "%04ld", y);
			w_str(w, b);
			break;
		case R_M:
		case R_D:
			/* Zero padding kept: "05" stays two digits, "5" as short as it goes. */
			snprintf(b, sizeof b, t->len == 2 ? "%02d" : "%d",
			         dt->role[i] == R_M ? m : d);
			w_str(w, b);
			break;
		case R_MNAME: {
			/* Full name when the input spelled its month in full ("June", not
			 * "Jun" or "Sept"); "May" is read as an abbreviation. */
			const char *mn = month_names[m - 1];
			bool full = t->len > 3 && t->len == strlen(month_names[dt->m - 1]);
			size_t ml = full ? strlen(mn) : 3;
			bool up = is_upper(s[0]), all = t->len > 1 && is_upper(s[1]);
			for (size_t k = 0; k < ml; k++)
				w_ch(w, (k == 0 && up) || all ? to_upper(mn[k]) : mn[k]);
			break;
		}
		case R_ORD: {
			const char *suf = (d % 10 == 1 && d != 11) ? "st"
			                : (d % 10 == 2 && d != 12) ? "nd"
			                : (d % 10 == 3 && d != 13) ? "rd" : "th";
			bool up = is_upper(s[0]);
			w_ch(w, up ? to_upper(suf[0]) : suf[0]);
			w_ch(w, up ? to_upper(suf[1]) : suf[1]);
			break;
		}
		default:
			w_put(w, s, t->len);
		}
	}
}

/* A year readable from v: a parsed date's year when it has 4 digits, else the only
 * standalone 4-digit number in 1800..2199.  0 when none. */
static long date_year(const char *v, size_t n)
{
	struct date dt;
	if (date_parse(v, n, &dt)) {
		for (size_t i = 0; i < dt.nt; i++)
			if (dt.role[i] == R_Y && (dt.t[i].len == 4 || dt.nt == 1))
				return dt.y;
		return 0; /* two-digit year: the century is a guess, do not print it */
	}
	long found = 0;
	int count = 0;
	for (size_t i = 0; i < n;) {
		if (!is_digit(v[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && is_digit(v[j]))
			j++;
		if (j - i == 4 && (i == 0 || !is_alpha(v[i - 1])) && (j == n || !is_alpha(v[j]))) {
			long y = num(v + i, 4);
			if (y >= 1800 && y <= 2199)
				found = y, count++;
		}
		i = j;
	}
	return count == 1 ? found : 0;
}

static long this_year(void)
{
	time_t now = time(NULL);
	struct tm tm;
	if (!gmtime_r(&now, &tm))
		return 0;
	return tm.tm_year + 1900L;
}

/* ---- normalization ---- */

/* Append the words of s[0..n) to out, lowercased, single-spaced: '.' and '\'' are
 * dropped (joined: "O'Brien" = "obrien"), other ASCII punctuation splits words;
 * non-ASCII bytes are kept as word bytes. */
static void norm_words(struct sbuf *out, const char *s, size_t n)
{
	bool gap = out->len > 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_alnum(c) || c >= 0x80) {
			if (gap && out->len > 0)
				s_ch(out, ' ');
			gap = false;
			s_ch(out, to_lower((char)c));
		} else if (c != '.' && c != '\'') {
			gap = true;
		}
	}
}

/* Find the i-th '^'-separated component of a DICOM PN. */
static bool pn_component(const char *v, size_t n, int i, const char **s, size_t *len)
{
	size_t a = 0;
	for (int k = 0; k < i; k++) {
		const char *c = memchr(v + a, '^', n - a);
		if (!c)
			return false;
		a = (size_t)(c - v) + 1;
	}
	const char *c = memchr(v + a, '^', n - a);
	*s = v + a;
	*len = c ? (size_t)(c - (v + a)) : n - a;
	return true;
}

static void norm_name(struct sbuf *out, const char *v, size_t n)
{
	const char *s;
	size_t len;
	if (memchr(v, '^', n)) {
		static const int order[] = {3, 1, 2, 0, 4}; /* prefix given middle family suffix */
		for (int k = 0; k < 5; k++)
			if (pn_component(v, n, order[k], &s, &len))
				norm_words(out, s, len);
		return;
	}
	const char *comma = memchr(v, ',', n);
	if (comma) {
		size_t at = (size_t)(comma - v);
		norm_words(out, comma + 1, n - at - 1);
		norm_words(out, v, at);
		return;
	}
	norm_words(out, v, n);
}

static void normalize(struct sbuf *out, const char *cls, const char *v, size_t n)
{
	out->len = 0;
	if (cls_is(cls, "name")) {
		norm_name(out, v, n);
	} else if (cls_code(cls)) {
		for (size_t i = 0; i < n; i++)
			if (is_alnum(v[i]))
				s_ch(out, to_lower(v[i]));
		if ((cls_is(cls, "phone") || cls_is(cls, "fax")) && out->len == 11 &&
		    out->p[0] == '1') {
			memmove(out->p, out->p + 1, 10);
			out->len = 10;
		}
	} else if (cls_is(cls, "date")) {
		struct date dt;
		if (date_parse(v, n, &dt)) {
			char b[32];
			int k = snprintf(b, sizeof b, "%04ld-%02d-%02d", dt.y, dt.m, dt.d);
			for (int i = 0; i < k; i++)
				s_ch(out, b[i]);
		} else {
			for (size_t i = 0; i < n; i++)
				s_ch(out, to_lower(v[i]));
		}
	} else {
		for (size_t i = 0; i < n; i++)
			s_ch(out, to_lower(v[i]));
	}
}

/* ---- HMAC ---- */

/* HMAC-SHA-256(key, cls || 0 || a[0..an) || b[0..bn)). */
static void mac(const struct phi_policy *p, const char *cls, const void *a, size_t an,
                const void *b, size_t bn, unsigned char out[32])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, p->key, sizeof p->key);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)(cls ? cls : ""),
	                              cls ? strlen(cls) : 0);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"", 1);
	if (an)
		crypto_auth_hmacsha256_update(&st, a, an);
	if (bn)
		crypto_auth_hmacsha256_update(&st, b, bn);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Keystream for shape pseudonyms: block i = HMAC(key, cls || 0 || norm || 0 ||
 * be32(i)), consumed two bytes per character. */
struct stream {
	const struct phi_policy *p;
	const char *cls;
	const struct sbuf *norm;
	uint32_t counter;
	unsigned char block[32];
	size_t pos;
};

static unsigned stream_next(struct stream *s, unsigned mod)
{
	if (s->pos + 2 > sizeof s->block) {
		unsigned char tail[5] = {0, (unsigned char)(s->counter >> 24),
		                         (unsigned char)(s->counter >> 16),
		                         (unsigned char)(s->counter >> 8),
		                         (unsigned char)s->counter};
		mac(s->p, s->cls, s->norm->p, s->norm->len, tail, sizeof tail, s->block);
		s->counter++;
		s->pos = 0;
	}
	unsigned x = (unsigned)s->block[s->pos] << 8 | s->block[s->pos + 1];
	s->pos += 2;
	return x % mod; /* 65536 % 26 = 16: bias below 0.03 %, irrelevant here */
}

/* ---- operators ---- */

static const char *class_tag(const char *cls)
{
	const struct phi_class_info *ci = phi_class_find(cls);
	return ci ? ci->tag : "[PHI]";
}

static void op_mask(struct wbuf *w, const char *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x80) {
			w_ch(w, is_alnum(c) ? '*' : (char)c);
			i++;
		} else {
			w_ch(w, '*');
			i += utf8_len((const unsigned char *)v + i, n - i);
		}
	}
}

static void hex(struct wbuf *w, const unsigned char *b, size_t n)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		w_ch(w, x[b[i] >> 4]);
		w_ch(w, x[b[i] & 15]);
	}
}

static void op_hash(struct wbuf *w, const struct phi_policy *p, const char *cls,
                    const struct sbuf *norm)
{
	unsigned char h[32];
	const char *tag = class_tag(cls);
	mac(p, cls, norm->p, norm->len, NULL, 0, h);
	w_put(w, tag, strlen(tag) - 1);
	w_ch(w, ':');
	hex(w, h, 8);
	w_ch(w, ']');
}

/* Keyed same-shape substitute; false when nothing could be substituted. */
static bool pseudo_shape(struct wbuf *w, const struct phi_policy *p, const char *cls,
                         const char *v, size_t n, const struct sbuf *norm)
{
	struct stream s = {.p = p, .cls = cls, .norm = norm, .pos = sizeof s.block};
	/* A US country code the normalization dropped stays as written. */
	size_t keep_digit = SIZE_MAX;
	if ((cls_is(cls, "phone") || cls_is(cls, "fax")) && norm->len == 10) {
		size_t digits = 0, first = SIZE_MAX;
		for (size_t i = 0; i < n; i++)
			if (is_digit(v[i])) {
				if (first == SIZE_MAX)
					first = i;
				digits++;
			}
		if (digits == 11 && v[first] == '1')
			keep_digit = first;
	}
	size_t start = w->len;
	for (int attempt = 0; attempt < PSEUDO_TRIES; attempt++) {
		bool same = true, any = false;
		w->len = start;
		for (size_t i = 0; i < n;) {
			unsigned char c = (unsigned char)v[i];
			char o;
			size_t step = 1;
			if (i == keep_digit) {
				o = (char)c;
			} else if (is_digit(c)) {
				o = (char)('0' + stream_next(&s, 10));
			} else if (is_upper(c)) {
				o = (char)('A' + stream_next(&s, 26));
			} else if (is_lower(c)) {
				o = (char)('a' + stream_next(&s, 26));
			} else if (c >= 0x80) {
				/* A non-ASCII character may be a letter: never keep it. */
				o = (char)('a' + stream_next(&s, 26));
				step = utf8_len((const unsigned char *)v + i, n - i);
				same = false;
			} else {
				o = (char)c;
			}
			if (o != (char)c)
				same = false;
			if (i != keep_digit && (is_alnum(c) || c >= 0x80))
				any = true;
			w_ch(w, o);
			i += step;
		}
		if (!any)
			return false;
		if (!same)
			return true;
	}
	return false;
}

enum case_form { CASE_AS_IS, CASE_UPPER, CASE_LOWER };

static enum case_form case_of(const char *v, size_t n)
{
	size_t up = 0, lo = 0;
	for (size_t i = 0; i < n; i++)
		up += is_upper(v[i]), lo += is_lower(v[i]);
	if (up && !lo)
		return up > 1 || n == 1 ? CASE_UPPER : CASE_AS_IS;
	if (lo && !up)
		return CASE_LOWER;
	return CASE_AS_IS;
}

static void w_cased(struct wbuf *w, const char *s, enum case_form cf)
{
	for (; *s; s++)
		w_ch(w, cf == CASE_UPPER ? to_upper(*s) : cf == CASE_LOWER ? to_lower(*s) : *s);
}

static bool word_eq(const char *a, const struct sbuf *b)
{
	size_t n = strlen(a);
	if (n != b->len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (to_lower(a[i]) != b->p[i])
			return false;
	return true;
}

/* Pick a gazetteer entry for one name component, keyed by its normalized form and
 * never equal to it. */
static const char *pick_name(const struct phi_policy *p, const char *role,
                             const struct sbuf *word)
{
	unsigned char h[32];
	mac(p, "name", role, strlen(role) + 1, word->p, word->len, h);
	unsigned long i = be32(h);
	const char *(*at)(const struct phi_names *, unsigned long) =
		role[0] == 'f' ? phi_names_surname_at : phi_names_given_at;
	const char *s = at(p->names, i);
	for (int k = 1; k < PSEUDO_TRIES && s && word_eq(s, word); k++)
		s = at(p->names, i + (unsigned long)k);
	return s;
}

/* Words of a name for pseudonyms are split on blanks, ',' and '^' only, so
 * "O'Brien-Smith" is one surname (norm_words later reads it as "obrien smith"). */
static bool name_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '^';
}

static void first_word(const char *s, size_t n, const char **ws, size_t *wn)
{
	size_t i = 0;
	while (i < n && name_sep(s[i]))
		i++;
	size_t j = i;
	while (j < n && !name_sep(s[j]))
		j++;
	*ws = s + i;
	*wn = j - i;
}

static void last_word(const char *s, size_t n, const char **ws, size_t *wn)
{
	size_t j = n;
	while (j > 0 && name_sep(s[j - 1]))
		j--;
	size_t i = j;
	while (i > 0 && !name_sep(s[i - 1]))
		i--;
	*ws = s + i;
	*wn = j - i;
}

static bool pseudo_name(struct wbuf *w, const struct phi_policy *p, const char *v,
                        size_t n, const struct sbuf *norm, struct sbuf *scratch)
{
	if (norm->len == 0)
		return false;
	enum case_form cf = case_of(v, n);
	if (!p->names) {
		unsigned char h[32];
		mac(p, "name", norm->p, norm->len, NULL, 0, h);
		w_cased(w, "Patient-", cf == CASE_LOWER ? CASE_AS_IS : cf);
		hex(w, h, 4);
		return true;
	}

	const char *fam = NULL, *giv = NULL, *sep = " ";
	size_t famn = 0, givn = 0, sepn = 1;
	bool family_first = false;
	const char *comma = memchr(v, ',', n);
	if (memchr(v, '^', n)) {
		pn_component(v, n, 0, &fam, &famn);
		if (pn_component(v, n, 1, &giv, &givn))
			first_word(giv, givn, &giv, &givn);
		family_first = true, sep = "^";
	} else if (comma) {
		fam = v, famn = (size_t)(comma - v);
		size_t at = famn + 1, k = at;
		while (k < n && v[k] == ' ')
			k++;
		sep = comma, sepn = k - famn; /* ", " or "," exactly as written */
		first_word(v + at, n - at, &giv, &givn);
		family_first = true;
	} else {
		const char *fw, *lw;
		size_t fwn, lwn;
		first_word(v, n, &fw, &fwn);
		last_word(v, n, &lw, &lwn);
		fam = lw, famn = lwn;
		if (fw != lw)
			giv = fw, givn = fwn;
	}

	const char *sur = NULL, *given = NULL;
	scratch->len = 0;
	norm_words(scratch, fam, famn);
	if (scratch->len == 0) /* "^John": a given name only */
		family_first = false;
	else
		sur = pick_name(p, "family", scratch);
	scratch->len = 0;
	if (giv)
		norm_words(scratch, giv, givn);
	if (scratch->len)
		given = pick_name(p, "given", scratch);
	if (!sur && !given)
		return false;
	if (sur && given) {
		w_cased(w, family_first ? sur : given, cf);
		w_put(w, sep, sepn);
		w_cased(w, family_first ? given : sur, cf);
	} else {
		w_cased(w, sur ? sur : given, cf);
	}
	return true;
}

static void pseudo_email(struct wbuf *w, const struct phi_policy *p, const char *cls,
                         const struct sbuf *norm)
{
	unsigned char h[32];
	mac(p, cls, norm->p, norm->len, NULL, 0, h);
	w_str(w, "user-");
	hex(w, h, 4);
	w_str(w, "@example.invalid");
}

static bool pseudo_date(struct wbuf *w, const struct phi_policy *p, const char *v, size_t n)
{
	struct date dt;
	if (!date_parse(v, n, &dt))
		return false;
	unsigned char h[32];
	static const char label[] = "date-shift";
	crypto_auth_hmacsha256(h, (const unsigned char *)label, sizeof label - 1, p->key);
	long shift = 1 + (long)(be32(h) % 365);
	long y;
	int m, d;
	civil_from_days(days_from_civil(dt.y, dt.m, dt.d) - shift, &y, &m, &d);
	date_print(w, v, &dt, y, m, d);
	return true;
}

/* Safe Harbor (B): ZIP3 + "00", "00000" for a restricted or unknown-list ZIP3.
 * Accepts "12345", "12345-6789", "12345 6789", "123456789". */
static bool safe_zip(struct wbuf *w, const struct phi_policy *p, const char *v, size_t n)
{
	if (n < 5)
		return false;
	for (size_t i = 0; i < 5; i++)
		if (!is_digit(v[i]))
			return false;
	if (n != 5) {
		size_t k = 5;
		if (n == 10 && (v[5] == '-' || v[5] == ' '))
			k = 6;
		else if (n != 9)
			return false;
		for (; k < n; k++)
			if (!is_digit(v[k]))
				return false;
	}
	bool restricted = p->zip3 == NULL;
	for (size_t i = 0; i < p->nzip3 && !restricted; i++)
		restricted = memcmp(p->zip3[i], v, 3) == 0;
	if (restricted)
		w_str(w, "000");
	else
		w_put(w, v, 3);
	w_str(w, "00");
	return true;
}

/* Safe Harbor (C): the first number of an age value, if 90 or more, becomes "90+". */
static bool safe_age(struct wbuf *w, const char *v, size_t n)
{
	size_t i = 0;
	while (i < n && !is_digit(v[i]))
		i++;
	if (i == n)
		return false;
	long a = 0;
	for (; i < n && is_digit(v[i]); i++)
		if (a < 1000)
			a = a * 10 + (v[i] - '0');
	if (a < 90)
		return false;
	w_str(w, "90+");
	return true;
}

/* Safe Harbor (C): a date keeps its year, unless that year could reveal an age over
 * 89 (any date that old is assumed to be a birth date). */
static void safe_date(struct wbuf *w, const char *v, size_t n)
{
	long y = date_year(v, n);
	long now = this_year();
	if (y == 0 || (now && y <= now - 90)) {
		w_str(w, "[DATE]");
		return;
	}
	char b[16];
	snprintf(b, sizeof b, "%ld", y);
	w_str(w, b);
}

int phi_replace(const struct phi_policy *p, const char *cls, const char *v, size_t n,
                char *out, size_t cap, size_t *outlen)
{
	struct wbuf w = {out, cap, 0};
	int idx = class_index(cls);
	enum phi_op op = idx >= 0 && p->class_set[idx] ? p->per_class[idx] : p->global;
	if (idx < 0)
		cls = NULL; /* unknown classes are all "[PHI]"; their name is not trusted */

	if (op == PHI_OP_REMOVE)
		return w_end(&w, outlen);
	if (p->safe_harbor) {
		if (cls_is(cls, "zip") && safe_zip(&w, p, v, n))
			return w_end(&w, outlen);
		if (cls_is(cls, "age") && safe_age(&w, v, n))
			return w_end(&w, outlen);
		if (cls_is(cls, "date") && (op == PHI_OP_TAG || op == PHI_OP_PSEUDONYM)) {
			safe_date(&w, v, n);
			return w_end(&w, outlen);
		}
	}
	if (op == PHI_OP_TAG) {
		w_str(&w, class_tag(cls));
		return w_end(&w, outlen);
	}
	if (op == PHI_OP_MASK) {
		op_mask(&w, v, n);
		return w_end(&w, outlen);
	}
	if (!p->has_key) {
		if (outlen)
			*outlen = 0;
		if (cap)
			out[0] = '\0';
		return PHI_EUSAGE; /* phi_policy_check was skipped */
	}

	/* A normalized value is never longer than the value, except a date (10). */
	struct sbuf norm = {malloc(n + 16), 0, n + 16};
	struct sbuf scratch = {malloc(n + 16), 0, n + 16};
	if (!norm.p || !scratch.p) {
		free(norm.p);
		free(scratch.p);
		if (outlen)
			*outlen = 0;
		if (cap)
			out[0] = '\0';
		return PHI_ENOMEM;
	}
	normalize(&norm, cls, v, n);

	if (op == PHI_OP_HASH) {
		op_hash(&w, p, cls, &norm);
	} else {
		size_t start = w.len;
		bool done = false;
		if (cls_is(cls, "name"))
			done = pseudo_name(&w, p, v, n, &norm, &scratch);
		else if (cls_is(cls, "email"))
			pseudo_email(&w, p, cls, &norm), done = true;
		else if (cls_is(cls, "date"))
			done = pseudo_date(&w, p, v, n);
		else if (cls_shape(cls))
			done = pseudo_shape(&w, p, cls, v, n, &norm);
		if (!done) {
			w.len = start;
			w_str(&w, class_tag(cls));
		}
	}
	sodium_memzero(norm.p, norm.cap);
	sodium_memzero(scratch.p, scratch.cap);
	free(norm.p);
	free(scratch.p);
	return w_end(&w, outlen);
}
