/* gencase.c - synthetic dental case generator, ground truth and evaluator for phiscan.
 *
 *   gencase cases OUTDIR [--seed N] [--cases N]      case folders + OUTDIR/truth.tsv
 *   gencase eval TRUTH.tsv FINDINGS.jsonl [--safe-harbor] [--show-values]
 *   gencase bench OUTDIR [--seed N] [--mb N] [--files N]
 *   gencase check OUTDIR                              validate truth.tsv against the files
 *
 * Everything is derived from a splitmix64 PRNG seeded from --seed and the case number,
 * so one seed gives byte-identical output on every platform (no clock, no locale, no
 * network).  All names and numbers are synthetic combinations; checksummed identifiers
 * (Luhn cards, NPI, DEA, VIN, GTIN) are computed so validators accept them.
 *
 * Documents are built in memory as UTF-8 while the value spans are recorded; the
 * document is then encoded (CRLF, UTF-16LE with BOM, Windows-1252, RTF escapes) with
 * an offset map so truth.tsv holds byte offsets into the bytes actually written.
 *
 * Self-contained: libc and libm only.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------------ */
/* Utilities                                                                 */

static void die(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("gencase: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die("out of memory");
	return q;
}

/* Bounded copy that always terminates. */
static void scopy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static long parse_long(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("bad %s: '%s' (expected %ld..%ld)", what, s, lo, hi);
	return v;
}

/* ------------------------------------------------------------------------ */
/* PRNG: splitmix64                                                          */

struct rng {
	uint64_t s;
};

static uint64_t rnd_u64(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Independent streams: the state is a hash of (seed, stream), not a shifted sequence. */
static struct rng rng_make(uint64_t seed, uint64_t stream)
{
	struct rng r = {mix64(mix64(seed + 0x5EED5EED5EEDULL) ^ mix64(stream * 0xD1342543DE82EF95ULL + 1))};
	return r;
}

/* Uniform in [0, n), n > 0 (rejection sampling: no modulo bias). */
static unsigned rnd_below(struct rng *r, unsigned n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = rnd_u64(r);
	while (x >= lim);
	return (unsigned)(x % n);
}

static int rnd_range(struct rng *r, int lo, int hi) /* inclusive */
{
	return lo + (int)rnd_below(r, (unsigned)(hi - lo + 1));
}

static int chance(struct rng *r, int pct)
{
	return (int)rnd_below(r, 100) < pct;
}

#define PICK(r, arr) ((arr)[rnd_below((r), (unsigned)NELEM(arr))])

static char rnd_digit(struct rng *r)
{
	return (char)('0' + rnd_below(r, 10));
}

static char rnd_upper(struct rng *r)
{
	return (char)('A' + rnd_below(r, 26));
}

/* n random digits into out (terminated); the first is non-zero when nz. */
static void rnd_digits(struct rng *r, char *out, int n, int nz)
{
	for (int i = 0; i < n; i++)
		out[i] = (i == 0 && nz) ? (char)('1' + rnd_below(r, 9)) : rnd_digit(r);
	out[n] = '\0';
}

static void shuffle_int(struct rng *r, int *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rnd_below(r, (unsigned)(i + 1));
		int t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* ------------------------------------------------------------------------ */
/* Growable byte buffer                                                      */

struct buf {
	char *p;
	size_t n, cap;
};

static void b_reserve(struct buf *b, size_t extra)
{
	if (b->n + extra + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 256;
		while (c < b->n + extra + 1)
			c *= 2;
		b->p = xrealloc(b->p, c);
		b->cap = c;
	}
}

static void b_put(struct buf *b, const void *s, size_t n)
{
	b_reserve(b, n);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void b_puts(struct buf *b, const char *s)
{
	b_put(b, s, strlen(s));
}

static void b_putc(struct buf *b, char c)
{
	b_put(b, &c, 1);
}

static void b_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		die("format error");
	b_reserve(b, (size_t)n);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	b->n += (size_t)n;
}

static void b_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void b_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	b_vprintf(b, fmt, ap);
	va_end(ap);
}

static void b_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

/* ------------------------------------------------------------------------ */
/* Classes, documents and spans                                              */

enum cls {
	C_NAME, C_ADDRESS, C_ZIP, C_DATE, C_AGE, C_PHONE, C_FAX, C_EMAIL, C_SSN, C_MRN,
	C_HEALTHPLAN, C_ACCOUNT, C_LICENSE, C_VEHICLE, C_DEVICE, C_URL, C_IP, C_BIOMETRIC,
	C_PHOTO, C_ID, NCLS
};

static const char *const cls_names[NCLS] = {
	"name", "address", "zip", "date", "age", "phone", "fax", "email", "ssn", "mrn",
	"healthplan", "account", "license", "vehicle", "device", "url", "ip", "biometric",
	"photo", "id",
};

enum { M_DEFAULT = 0, M_SAFE_HARBOR = 1 };
static const char *const mode_names[2] = {"default", "safe_harbor"};

struct span {
	size_t start, end;
	int cls, mode;
};

struct doc {
	struct buf b;
	struct span *sp;
	size_t nsp, capsp;
};

static void d_reset(struct doc *d)
{
	d->b.n = 0;
	if (d->b.p)
		d->b.p[0] = '\0';
	d->nsp = 0;
}

static void d_free(struct doc *d)
{
	b_free(&d->b);
	free(d->sp);
	memset(d, 0, sizeof *d);
}

static void d_addspan(struct doc *d, size_t start, size_t end, int cls, int mode)
{
	if (end <= start)
		return;
	if (d->nsp == d->capsp) {
		d->capsp = d->capsp ? d->capsp * 2 : 32;
		d->sp = xrealloc(d->sp, d->capsp * sizeof *d->sp);
	}
	d->sp[d->nsp++] = (struct span){start, end, cls, mode};
}

/* Plain text (no identifier). */
static void T(struct doc *d, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void T(struct doc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	b_vprintf(&d->b, fmt, ap);
	va_end(ap);
}

/* A planted identifier: the formatted text is the value span. */
static void Vm(struct doc *d, int cls, int mode, const char *fmt, ...) PRINTF_LIKE(4, 5);
static void Vm(struct doc *d, int cls, int mode, const char *fmt, ...)
{
	size_t s = d->b.n;
	va_list ap;
	va_start(ap, fmt);
	b_vprintf(&d->b, fmt, ap);
	va_end(ap);
	d_addspan(d, s, d->b.n, cls, mode);
}

#define V(d, cls, ...) Vm((d), (cls), M_DEFAULT, __VA_ARGS__)
#define VSH(d, cls, ...) Vm((d), (cls), M_SAFE_HARBOR, __VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* Check digits                                                              */

/* Luhn check digit for the digit string s (the check digit to append). */
static int luhn_check_digit(const char *s)
{
	int sum = 0, dbl = 1;
	for (int i = (int)strlen(s) - 1; i >= 0; i--) {
		int v = s[i] - '0';
		if (dbl) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
		dbl = !dbl;
	}
	return (10 - sum % 10) % 10;
}

static int luhn_valid(const char *s)
{
	int sum = 0, dbl = 0;
	for (int i = (int)strlen(s) - 1; i >= 0; i--) {
		int v = s[i] - '0';
		if (dbl) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

/* NPI: 10 digits, first 1 or 2, Luhn over "80840" + the 10 digits. */
static void gen_npi(struct rng *r, char out[11])
{
	char tmp[16];
	for (;;) {
		out[0] = (char)('1' + rnd_below(r, 2));
		for (int i = 1; i < 9; i++)
			out[i] = rnd_digit(r);
		out[9] = '\0';
		int same = 1;
		for (int i = 1; i < 9; i++)
			same &= out[i] == out[0];
		if (!same)
			break;
	}
	snprintf(tmp, sizeof tmp, "80840%s", out);
	out[9] = (char)('0' + luhn_check_digit(tmp));
	out[10] = '\0';
	snprintf(tmp, sizeof tmp, "80840%s", out);
	if (!luhn_valid(tmp))
		die("internal error: NPI %s fails Luhn", out);
}

/* DEA: registrant letter, surname initial, 6 digits, check digit. */
static void gen_dea(struct rng *r, char initial, char out[10])
{
	static const char first[] = "ABCFGMPRX";
	int d[7];
	out[0] = first[rnd_below(r, sizeof first - 1)];
	out[1] = isupper((unsigned char)initial) ? initial : '9';
	for (int i = 0; i < 6; i++)
		d[i] = (int)rnd_below(r, 10);
	d[6] = ((d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])) % 10;
	for (int i = 0; i < 7; i++)
		out[2 + i] = (char)('0' + d[i]);
	out[9] = '\0';
}

/* VIN with a valid check digit in position 9. */
static int vin_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	static const char *const map = "ABCDEFGHJKLMNPRSTUVWXYZ";
	static const int vals[] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9};
	const char *p = strchr(map, c);
	return p ? vals[p - map] : 0;
}

static void gen_vin(struct rng *r, char out[18])
{
	static const char *const wmi[] = {"1HG", "1FT", "1G1", "2T1", "3VW", "4T1", "5YJ",
	                                  "JTD", "JHM", "KMH", "WBA", "WDD", "1C4", "1N4"};
	static const char alnum[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
	static const char years[] = "ABCDEFGHJKLMNPRSTVWXY123456789";
	static const int w[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
	memcpy(out, PICK(r, wmi), 3);
	for (int i = 3; i < 8; i++)
		out[i] = alnum[rnd_below(r, sizeof alnum - 1)];
	out[8] = '0';
	out[9] = years[rnd_below(r, sizeof years - 1)];
	out[10] = alnum[rnd_below(r, 23)]; /* plant code: a letter */
	for (int i = 11; i < 17; i++)
		out[i] = rnd_digit(r);
	out[17] = '\0';
	int sum = 0;
	for (int i = 0; i < 17; i++)
		sum += vin_value(out[i]) * w[i];
	int c = sum % 11;
	out[8] = c == 10 ? 'X' : (char)('0' + c);
}

/* GTIN-14 with GS1 mod-10 check digit. */
static void gen_gtin14(struct rng *r, char out[15])
{
	out[0] = '0';                         /* packaging indicator */
	out[1] = rnd_below(r, 2) ? '0' : '7'; /* "00..."/"07..." company prefixes */
	for (int i = 2; i < 13; i++)
		out[i] = rnd_digit(r);
	int sum = 0;
	for (int i = 12, k = 0; i >= 0; i--, k++)
		sum += (out[i] - '0') * (k % 2 == 0 ? 3 : 1);
	out[13] = (char)('0' + (10 - sum % 10) % 10);
	out[14] = '\0';
}

/* Card number: Visa 16, Mastercard 16, Amex 15, Discover 16; Luhn-valid. */
static const char *gen_card(struct rng *r, char out[20])
{
	int kind = (int)rnd_below(r, 4), len;
	const char *brand;
	switch (kind) {
	case 0:
		brand = "Visa";
		len = 16;
		out[0] = '4';
		rnd_digits(r, out + 1, len - 2, 0);
		break;
	case 1:
		brand = "Mastercard";
		len = 16;
		out[0] = '5';
		out[1] = (char)('1' + rnd_below(r, 5));
		rnd_digits(r, out + 2, len - 3, 0);
		break;
	case 2:
		brand = "Amex";
		len = 15;
		out[0] = '3';
		out[1] = rnd_below(r, 2) ? '4' : '7';
		rnd_digits(r, out + 2, len - 3, 0);
		break;
	default:
		brand = "Discover";
		len = 16;
		memcpy(out, "6011", 4);
		rnd_digits(r, out + 4, len - 5, 0);
		break;
	}
	out[len - 1] = '\0';
	out[len - 1] = (char)('0' + luhn_check_digit(out));
	out[len] = '\0';
	if (!luhn_valid(out))
		die("internal error: card %s fails Luhn", out);
	return brand;
}

/* Medicare Beneficiary Identifier (no check digit): C A AN N A AN N A A N N. */
static void gen_mbi(struct rng *r, char out[12])
{
	static const char A[] = "ACDEFGHJKMNPQRTUVWXY";
	static const char AN[] = "ACDEFGHJKMNPQRTUVWXY0123456789";
	const char *layout = "CAXNAXNAANN";
	for (int i = 0; i < 11; i++) {
		switch (layout[i]) {
		case 'C': out[i] = (char)('1' + rnd_below(r, 9)); break;
		case 'A': out[i] = A[rnd_below(r, sizeof A - 1)]; break;
		case 'X': out[i] = AN[rnd_below(r, sizeof AN - 1)]; break;
		default: out[i] = rnd_digit(r); break;
		}
	}
	out[11] = '\0';
}

/* SSN avoiding the invalid forms (area 000/666/9xx, group 00, serial 0000). */
static void gen_ssn(struct rng *r, int *area, int *group, int *serial)
{
	do
		*area = rnd_range(r, 1, 899);
	while (*area == 666 || *area == 78 || *area == 219);
	*group = rnd_range(r, 1, 99);
	*serial = rnd_range(r, 1, 9999);
}

/* ------------------------------------------------------------------------ */
/* Name lists (synthetic combinations only)                                  */

static const char *const given_f[] = {
	"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
	"Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly",
	"Emily", "Donna", "Michelle", "Carol", "Amanda", "Dorothy", "Melissa", "Deborah",
	"Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia", "Kathleen", "Amy", "Angela",
	"Shirley", "Anna", "Brenda", "Pamela", "Emma", "Nicole", "Helen", "Samantha",
	"Katherine", "Christine", "Debra", "Rachel", "Carolyn", "Janet", "Catherine", "Maria",
	"Heather", "Diane", "Ruth", "Julie", "Olivia", "Joyce", "Virginia", "Victoria",
	"Kelly", "Lauren", "Christina", "Joan", "Evelyn", "Judith", "Megan", "Andrea",
	"Cheryl", "Hannah", "Gloria", "Teresa", "Madison", "Frances", "Alice", "Grace",
	/* rarer / non-English */
	"Siobhan", "Thandiwe", "Priya", "Mei", "Aisha", "Ngozi", "Yuki", "Ximena", "Oksana",
	"Anika", "Leilani", "Fatima", "Saoirse", "Ingrid", "Parisa",
};

static const char *const given_m[] = {
	"James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph",
	"Thomas", "Christopher", "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald",
	"Steven", "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy",
	"Ronald", "Edward", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric",
	"Jonathan", "Stephen", "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel",
	"Gregory", "Alexander", "Frank", "Patrick", "Raymond", "Jack", "Dennis", "Jerry",
	"Tyler", "Aaron", "Adam", "Nathan", "Henry", "Douglas", "Zachary", "Peter", "Kyle",
	"Ethan", "Walter", "Noah", "Jeremy", "Keith", "Roger", "Gerald", "Harold", "Sean",
	"Carl", "Arthur", "Lawrence", "Dylan", "Jesse", "Bryan", "Bruce", "Gabriel",
	/* rarer / non-English */
	"Chidi", "Tariq", "Kenji", "Oluwaseun", "Dmitri", "Rajesh", "Mateo", "Tomasz", "Arjun",
	"Kwame", "Bao", "Emeka", "Lars", "Cormac", "Hamid",
};

static const char *const surnames[] = {
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
	"Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
	"Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
	"Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
	"Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
	"Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards",
	"Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
	"Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
	"Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
	"Wood", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
	"Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins",
	"Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
	"Fisher", "Vasquez", "Simmons", "Romero", "Patterson", "Hamilton", "Graham",
	"Reynolds", "Griffin", "Wallace",
	/* rarer / non-English */
	"Okafor", "Kowalczyk", "Nakamura", "Abernathy", "Oyelaran", "Przybylski", "Fitzgerald",
	"O'Brien", "McAllister", "Haddad", "Nwosu", "Tran", "Pham", "Yamamoto", "Castellanos",
	"Szymanski", "Abdi", "Mensah", "Osei", "Lindqvist", "Bianchi", "Ferreira", "Dlamini",
	"Chowdhury", "Iyer", "Papadopoulos", "Gallagher", "Barnes-Whitfield", "Achterberg",
	"Villanueva",
};

/* Names with Latin-1 letters (used for the Windows-1252 documents); ascii for e-mail. */
struct aname {
	const char *s, *ascii;
	int female;
};
static const struct aname acc_given[] = {
	{"Jos\xc3\xa9", "jose", 0},         {"Zo\xc3\xab", "zoe", 1},
	{"Ren\xc3\xa9" "e", "renee", 1},    {"Andr\xc3\xa9", "andre", 0},
	{"In\xc3\xa9s", "ines", 1},         {"Bj\xc3\xb6rn", "bjorn", 0},
	{"Fran\xc3\xa7ois", "francois", 0}, {"Chlo\xc3\xa9", "chloe", 1},
	{"S\xc3\xb8ren", "soren", 0},       {"Ra\xc3\xbal", "raul", 0},
	{"M\xc3\xb3nica", "monica", 1},     {"J\xc3\xbcrgen", "jurgen", 0},
};
static const struct aname acc_family[] = {
	{"M\xc3\xbcller", "muller", 0},         {"Pe\xc3\xb1" "a", "pena", 0},
	{"N\xc3\xba\xc3\xb1" "ez", "nunez", 0}, {"Ib\xc3\xa1\xc3\xb1" "ez", "ibanez", 0},
	{"G\xc3\xb3mez", "gomez", 0},           {"S\xc3\xa1nchez", "sanchez", 0},
	{"Hern\xc3\xa1ndez", "hernandez", 0},   {"B\xc3\xb6hm", "bohm", 0},
	{"Gar\xc3\xa7\xc3\xa3o", "garcao", 0},  {"Lef\xc3\xa8vre", "lefevre", 0},
	{"Sch\xc3\xa4" "fer", "schafer", 0},    {"Jim\xc3\xa9nez", "jimenez", 0},
};

static const char *const middle_initials = "ABCDEFGHJKLMNPRSTW";

/* ------------------------------------------------------------------------ */
/* Places                                                                    */

struct city {
	const char *name, *state, *zip3, *area;
};
static const struct city cities[] = {
	{"Springfield", "IL", "627", "217"}, {"Madison", "WI", "537", "608"},
	{"Portland", "OR", "972", "503"},    {"Austin", "TX", "787", "512"},
	{"Columbus", "OH", "432", "614"},    {"Denver", "CO", "802", "303"},
	{"Raleigh", "NC", "276", "919"},     {"Tucson", "AZ", "857", "520"},
	{"Albany", "NY", "122", "518"},      {"Fresno", "CA", "937", "559"},
	{"Omaha", "NE", "681", "402"},       {"Boise", "ID", "837", "208"},
	{"Dayton", "OH", "454", "937"},      {"Peoria", "IL", "616", "309"},
	{"Salem", "OR", "973", "971"},       {"Lansing", "MI", "489", "517"},
	{"Trenton", "NJ", "086", "609"},     {"Hartford", "CT", "061", "860"},
	{"Mesa", "AZ", "852", "480"},        {"Plano", "TX", "750", "972"},
	{"Naperville", "IL", "605", "630"},  {"Savannah", "GA", "314", "912"},
	{"Spokane", "WA", "992", "509"},     {"Knoxville", "TN", "379", "865"},
	{"Rochester", "MN", "559", "507"},   {"Burlington", "VT", "054", "802"},
	{"St. Louis", "MO", "631", "314"},   {"Fort Wayne", "IN", "468", "260"},
};

static const char *const street_names[] = {
	"Maple", "Oak", "Elm", "Washington", "Lincoln", "Park", "Main", "Cedar", "Lake",
	"Hill", "Sunset", "Church", "Highland", "Pine", "Walnut", "Jefferson", "Franklin",
	"Chestnut", "Willow", "Meadow", "Prairie", "Ridge", "Spring", "Forest", "River",
	"Madison", "Adams", "Lakeview", "Hawthorne", "Juniper", "Sycamore", "Magnolia",
	"Cherry Hill", "Mill Creek", "Old Orchard", "Fox Run",
};
static const char *const street_suffix[] = {
	"Ave", "Avenue", "St", "Street", "Rd", "Road", "Blvd", "Dr", "Drive", "Ln", "Lane",
	"Ct", "Way", "Pl", "Court", "Boulevard",
};
static const char *const street_dir[] = {"N.", "S.", "E.", "W.", "N", "S", "E", "W"};

static const char *const payers[] = {
	"Delta Dental", "MetLife", "Cigna", "Aetna", "Guardian", "UnitedHealthcare",
	"Humana", "Blue Cross Blue Shield", "Ameritas", "Principal",
};
static const char *const email_domains[] = {
	"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "comcast.net", "aol.com",
	"hotmail.com", "protonmail.com",
};
static const char *const practice_words[] = {
	"Bright Smile", "Riverside", "Lakeshore", "Oak Park", "Summit", "Prairie View",
	"Gentle Care", "Family First", "Main Street", "Cedar Ridge", "Parkside", "Northgate",
};
static const char *const practice_kinds[] = {
	"Dental", "Family Dentistry", "Dental Group", "Dental Associates", "Smile Studio",
	"Oral Surgery", "Periodontics", "Prosthodontics",
};
static const char *const lab_names[] = {
	"Precision Dental Lab", "Apex Dental Ceramics", "Keystone Dental Arts",
	"Pinnacle Prosthetics", "Crown City Dental Lab", "Midwest Milling Center",
	"ClearLine Dental Studio", "Artisan Dental Laboratory",
};
static const char *const months[] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};
static const char *const mon3[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* ------------------------------------------------------------------------ */
/* Dental vocabulary (non-PHI)                                               */

static const char *const shades_vita[] = {
	"A1", "A2", "A3", "A3.5", "A4", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4",
	"D2", "D3", "D4", "BL1", "BL2", "BL3", "BL4",
};
static const char *const shades_3d[] = {
	"0M1", "0M2", "0M3", "1M1", "1M2", "2L1.5", "2M2", "2R2.5", "3M2", "3L2.5", "3R1.5",
	"4M2", "5M3",
};
static const char *const stump_shades[] = {"ND1", "ND2", "ND3", "ND4", "ND5", "ND6", "ND7", "ND9"};

struct proc {
	const char *cdt, *desc, *material;
};
static const struct proc procs[] = {
	{"D2740", "Crown - porcelain/ceramic", "IPS e.max CAD"},
	{"D2740", "Crown - porcelain/ceramic", "Katana Zirconia STML"},
	{"D2740", "Crown - porcelain/ceramic", "BruxZir Full-Strength"},
	{"D2750", "Crown - porcelain fused to high noble", "PFM high noble"},
	{"D2790", "Crown - full cast high noble", "full cast gold"},
	{"D2962", "Labial veneer (porcelain laminate)", "IPS e.max Press"},
	{"D6058", "Abutment supported porcelain/ceramic crown", "Lava Plus zirconia"},
	{"D6065", "Implant supported porcelain/ceramic crown", "BruxZir Anterior"},
	{"D6240", "Pontic - porcelain fused to high noble", "PFM high noble"},
	{"D6245", "Pontic - porcelain/ceramic", "Katana Zirconia UTML"},
	{"D2950", "Core buildup, including any pins", "composite"},
	{"D5110", "Complete denture - maxillary", "Ivoclar SR Phonares"},
	{"D5214", "Mandibular partial denture - cast metal", "Vitallium"},
	{"D9944", "Occlusal guard - hard appliance, full arch", "hard acrylic"},
	{"D6010", "Surgical placement of implant body", "Straumann BLX"},
};
static const char *const implant_systems[] = {
	"Straumann BLX", "Straumann BLT", "Nobel Active", "Nobel Parallel CC", "Zimmer TSV",
	"BioHorizons Tapered", "Astra EV", "Neodent GM",
};
static const char *const implant_sizes[] = {
	"3.5 x 10 mm", "4.1 x 10 mm", "4.3 x 11.5 mm", "3.75 x 12 mm", "4.5 x 8 mm",
	"5.0 x 10 mm", "4.0 x 13 mm",
};
static const char *const lab_phrases[] = {
	"Crown Prep", "Upper Arch", "Lower Arch", "Bite Registration", "Opposing Model",
	"Full Contour", "Die Trim", "Model Work", "Try In", "Final Seat", "Custom Tray",
	"Wax Rim", "Scan Body",
};
static const char *const scanners[] = {
	"3Shape TRIOS 5", "iTero Element 5D", "Medit i700", "Primescan", "CS 3800",
};

/* ------------------------------------------------------------------------ */
/* Dates                                                                     */

struct ymd {
	int y, m, d;
};

static int days_in(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static struct ymd date_add(struct ymd a, int days)
{
	while (days > 0) {
		if (++a.d > days_in(a.y, a.m)) {
			a.d = 1;
			if (++a.m > 12) {
				a.m = 1;
				a.y++;
			}
		}
		days--;
	}
	while (days < 0) {
		if (--a.d < 1) {
			if (--a.m < 1) {
				a.m = 12;
				a.y--;
			}
			a.d = days_in(a.y, a.m);
		}
		days++;
	}
	return a;
}

static struct ymd rnd_date(struct rng *r, int y0, int y1)
{
	struct ymd a;
	a.y = rnd_range(r, y0, y1);
	a.m = rnd_range(r, 1, 12);
	a.d = rnd_range(r, 1, days_in(a.y, a.m));
	return a;
}

static int age_at(struct ymd dob, struct ymd on)
{
	int a = on.y - dob.y;
	if (on.m < dob.m || (on.m == dob.m && on.d < dob.d))
		a--;
	return a;
}

enum {
	DF_MDY,      /* 03/14/1961 */
	DF_ISO,      /* 1961-03-14 */
	DF_LONG,     /* March 14, 1961 */
	DF_DMY_DOT,  /* 14.03.1961 */
	DF_MDY_SHORT,/* 3/14/61 */
	DF_D_MON_Y,  /* 14 Mar 1961 */
	DF_MON_D_Y,  /* Mar. 14, 1961 */
	DF_MDY_NOPAD,/* 3/14/1961 */
	DF_DMY_DASH, /* 14-Mar-1961 */
	DF_COUNT
};

static void fmt_date(char *out, size_t cap, struct ymd a, int style)
{
	switch (style) {
	case DF_MDY: snprintf(out, cap, "%02d/%02d/%04d", a.m, a.d, a.y); break;
	case DF_ISO: snprintf(out, cap, "%04d-%02d-%02d", a.y, a.m, a.d); break;
	case DF_LONG: snprintf(out, cap, "%s %d, %04d", months[a.m - 1], a.d, a.y); break;
	case DF_DMY_DOT: snprintf(out, cap, "%02d.%02d.%04d", a.d, a.m, a.y); break;
	case DF_MDY_SHORT: snprintf(out, cap, "%d/%d/%02d", a.m, a.d, a.y % 100); break;
	case DF_D_MON_Y: snprintf(out, cap, "%d %s %04d", a.d, mon3[a.m - 1], a.y); break;
	case DF_MON_D_Y:
		snprintf(out, cap, "%s%s %d, %04d", mon3[a.m - 1], a.m == 5 ? "" : ".", a.d, a.y);
		break;
	case DF_MDY_NOPAD: snprintf(out, cap, "%d/%d/%04d", a.m, a.d, a.y); break;
	default: snprintf(out, cap, "%02d-%s-%04d", a.d, mon3[a.m - 1], a.y); break;
	}
}

/* A date in a random human style (for prose and text forms). */
static const char *rdate(struct rng *r, struct ymd a, char *out, size_t cap)
{
	static const int styles[] = {DF_MDY, DF_MDY, DF_MDY, DF_ISO, DF_ISO, DF_LONG, DF_LONG,
	                             DF_DMY_DOT, DF_MDY_SHORT, DF_D_MON_Y, DF_MON_D_Y,
	                             DF_MDY_NOPAD, DF_DMY_DASH};
	fmt_date(out, cap, a, PICK(r, styles));
	return out;
}

/* ------------------------------------------------------------------------ */
/* One synthetic case                                                        */

struct phone {
	int a, e, l; /* area code, exchange, line */
};

struct casedata {
	int no, female, minor, over89, acc;
	/* patient */
	char pg[32], pf[48], pga[24], pfa[32], pmid;
	struct ymd dob, dos, appt, impression, surgery, seat, due, ship, received, scan, prev;
	int age;
	char street[64], unit[24], zip[12];
	const struct city *city;
	struct phone home, cell, work;
	int ext;
	char email[96];
	int ssn_a, ssn_g, ssn_s;
	char mrn[24], chart[16], mbi[12], member[24], group[16], card[20], pacct[16];
	const char *payer, *cardbrand;
	char vin[18], serial[24], scanner_sn[24], gtin[15], udi_serial[16], ip4[16], ip6[48];
	char portal[160];
	/* relative */
	char rg[32], rf[48];
	const char *relrole, *relposs; /* "husband", "her" */
	struct phone relphone;
	/* dentist and referring surgeon */
	char dg[32], df[48], dmid, sg[32], sf[48];
	const char *dcred;
	char npi[11], npi2[11], dea[10], lic[24], acct[16];
	char practice[64], pdomain[64], pstreet[64], psuite[24], pzip[12], pemail[96];
	const struct city *pcity;
	struct phone pphone, pfax;
	/* lab */
	const char *lab;
	char ldomain[64], casenum[24], rxnum[16], ordernum[24];
	/* dental content */
	const struct proc *proc;
	char teeth[32], fdi[16];
	const char *shade, *stump, *implant, *isize, *scanner_model;
	char lot[12], ref[16], guid[40], sha[68], stamp[20];
	int units, torque;
	long price_cents;
};

static void lower_alpha(char *dst, size_t cap, const char *src)
{
	size_t j = 0;
	for (; *src && j + 1 < cap; src++)
		if (isalpha((unsigned char)*src))
			dst[j++] = (char)tolower((unsigned char)*src);
	dst[j] = '\0';
}

static void upper_copy(char *dst, size_t cap, const char *src)
{
	size_t j = 0;
	for (; *src && j + 1 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		if (c == 0xC3 && src[1] && j + 2 < cap) { /* Latin-1 range in UTF-8 */
			unsigned char c2 = (unsigned char)src[1];
			if (c2 >= 0xA0 && c2 <= 0xBE && c2 != 0xB7)
				c2 -= 0x20;
			dst[j++] = (char)c;
			dst[j++] = (char)c2;
			src++;
			continue;
		}
		dst[j++] = (char)toupper(c);
	}
	dst[j] = '\0';
}

static struct phone rnd_phone(struct rng *r, const char *area)
{
	struct phone p;
	p.a = area ? (int)strtol(area, NULL, 10) : rnd_range(r, 201, 989);
	if (p.a % 100 == 11)
		p.a++;
	if (chance(r, 35)) {
		p.e = 555;
		p.l = rnd_range(r, 100, 199); /* 555-01xx: reserved for fiction */
	} else {
		do
			p.e = rnd_range(r, 201, 989);
		while (p.e % 100 == 11 || p.e == 555);
		p.l = rnd_range(r, 0, 9999);
	}
	return p;
}

static const char *fmt_phone(char *out, size_t cap, struct phone p, int style)
{
	switch (style) {
	case 0: snprintf(out, cap, "(%03d) %03d-%04d", p.a, p.e, p.l); break;
	case 1: snprintf(out, cap, "%03d-%03d-%04d", p.a, p.e, p.l); break;
	case 2: snprintf(out, cap, "%03d.%03d.%04d", p.a, p.e, p.l); break;
	case 3: snprintf(out, cap, "+1 %03d %03d %04d", p.a, p.e, p.l); break;
	case 4: snprintf(out, cap, "+1-%03d-%03d-%04d", p.a, p.e, p.l); break;
	case 5: snprintf(out, cap, "%03d %03d %04d", p.a, p.e, p.l); break;
	case 6: snprintf(out, cap, "(%03d)%03d-%04d", p.a, p.e, p.l); break;
	default: snprintf(out, cap, "1-%03d-%03d-%04d", p.a, p.e, p.l); break;
	}
	return out;
}

static const char *rphone(struct rng *r, struct phone p, char *out, size_t cap)
{
	static const int w[] = {0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7};
	return fmt_phone(out, cap, p, PICK(r, w));
}

static void make_email(struct rng *r, char *out, size_t cap, const char *g, const char *f)
{
	char lg[32], lf[48];
	lower_alpha(lg, sizeof lg, g);
	lower_alpha(lf, sizeof lf, f);
	const char *dom = PICK(r, email_domains);
	switch (rnd_below(r, 5)) {
	case 0: snprintf(out, cap, "%s.%s@%s", lg, lf, dom); break;
	case 1: snprintf(out, cap, "%c%s%d@%s", lg[0], lf, rnd_range(r, 1, 99), dom); break;
	case 2: snprintf(out, cap, "%s_%s%d@%s", lf, lg, rnd_range(r, 50, 99), dom); break;
	case 3: snprintf(out, cap, "%s%c@%s", lg, lf[0], dom); break;
	default: snprintf(out, cap, "%s.%s.%d@%s", lg, lf, rnd_range(r, 1960, 2010), dom); break;
	}
}

static void rnd_hex(struct rng *r, char *out, int n)
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < n; i++)
		out[i] = hx[rnd_below(r, 16)];
	out[n] = '\0';
}

static void pick_given(struct rng *r, int female, char *out, size_t cap)
{
	scopy(out, cap, female ? PICK(r, given_f) : PICK(r, given_m));
}

static void gen_case(struct casedata *c, int no, struct rng *r, int want_acc)
{
	memset(c, 0, sizeof *c);
	c->no = no;
	c->female = chance(r, 55);
	c->acc = want_acc || chance(r, 4);
	if (c->acc) {
		const struct aname *g;
		do
			g = &PICK(r, acc_given);
		while (g->female != c->female && chance(r, 90));
		c->female = g->female;
		const struct aname *f = &PICK(r, acc_family);
		scopy(c->pg, sizeof c->pg, g->s);
		scopy(c->pga, sizeof c->pga, g->ascii);
		scopy(c->pf, sizeof c->pf, f->s);
		scopy(c->pfa, sizeof c->pfa, f->ascii);
	} else {
		pick_given(r, c->female, c->pg, sizeof c->pg);
		scopy(c->pf, sizeof c->pf, PICK(r, surnames));
		scopy(c->pga, sizeof c->pga, c->pg);
		scopy(c->pfa, sizeof c->pfa, c->pf);
	}
	c->pmid = middle_initials[rnd_below(r, (unsigned)strlen(middle_initials))];

	/* dates: service in 2024-2025; the rest relative to it */
	c->dos = rnd_date(r, 2024, 2025);
	int kind = (int)rnd_below(r, 100);
	c->over89 = kind < 18;
	c->minor = kind >= 18 && kind < 28;
	if (c->over89)
		c->dob = rnd_date(r, c->dos.y - 99, c->dos.y - 91);
	else if (c->minor)
		c->dob = rnd_date(r, c->dos.y - 17, c->dos.y - 8);
	else
		c->dob = rnd_date(r, 1938, 2003);
	c->age = age_at(c->dob, c->dos);
	c->impression = c->dos;
	c->scan = c->dos;
	c->received = date_add(c->dos, rnd_range(r, 1, 3));
	c->due = date_add(c->dos, rnd_range(r, 8, 16));
	c->ship = date_add(c->due, -rnd_range(r, 1, 2));
	c->appt = date_add(c->due, rnd_range(r, 2, 9));
	c->seat = c->appt;
	c->surgery = date_add(c->dos, -rnd_range(r, 90, 140));
	c->prev = date_add(c->dos, -rnd_range(r, 20, 60));

	/* address and contact */
	c->city = &PICK(r, cities);
	if (chance(r, 25))
		snprintf(c->street, sizeof c->street, "%d %s %s %s", rnd_range(r, 1, 9899),
		         PICK(r, street_dir), PICK(r, street_names), PICK(r, street_suffix));
	else
		snprintf(c->street, sizeof c->street, "%d %s %s", rnd_range(r, 1, 19999),
		         PICK(r, street_names), PICK(r, street_suffix));
	if (chance(r, 30))
		snprintf(c->unit, sizeof c->unit, "%s %d%c", chance(r, 50) ? "Apt" : "Unit",
		         rnd_range(r, 1, 40), chance(r, 50) ? (char)('A' + rnd_below(r, 6)) : ' ');
	if (c->unit[0] && c->unit[strlen(c->unit) - 1] == ' ')
		c->unit[strlen(c->unit) - 1] = '\0';
	if (chance(r, 15))
		snprintf(c->zip, sizeof c->zip, "%s%02d-%04d", c->city->zip3, rnd_range(r, 1, 99),
		         rnd_range(r, 1, 9999));
	else
		snprintf(c->zip, sizeof c->zip, "%s%02d", c->city->zip3, rnd_range(r, 1, 99));
	c->home = rnd_phone(r, c->city->area);
	c->cell = rnd_phone(r, chance(r, 70) ? c->city->area : NULL);
	c->work = rnd_phone(r, NULL);
	c->ext = rnd_range(r, 2, 4999);
	make_email(r, c->email, sizeof c->email, c->pga, c->pfa);
	gen_ssn(r, &c->ssn_a, &c->ssn_g, &c->ssn_s);

	/* record numbers */
	{
		char d[16];
		switch (rnd_below(r, 5)) {
		case 0: rnd_digits(r, d, 8, 0); snprintf(c->mrn, sizeof c->mrn, "%s", d); break;
		case 1: rnd_digits(r, d, 7, 1); snprintf(c->mrn, sizeof c->mrn, "A%s", d); break;
		case 2: rnd_digits(r, d, 6, 1); snprintf(c->mrn, sizeof c->mrn, "PT-%s", d); break;
		case 3: rnd_digits(r, d, 7, 1); snprintf(c->mrn, sizeof c->mrn, "MRN%s", d); break;
		default: rnd_digits(r, d, 9, 1); snprintf(c->mrn, sizeof c->mrn, "%s", d); break;
		}
		rnd_digits(r, d, 5, 1);
		snprintf(c->chart, sizeof c->chart, "%s", d);
	}
	gen_mbi(r, c->mbi);
	c->payer = PICK(r, payers);
	{
		char d[16];
		switch (rnd_below(r, 4)) {
		case 0: rnd_digits(r, d, 9, 1); snprintf(c->member, sizeof c->member, "W%s", d); break;
		case 1: rnd_digits(r, d, 11, 1); snprintf(c->member, sizeof c->member, "%s", d); break;
		case 2:
			rnd_digits(r, d, 9, 0);
			snprintf(c->member, sizeof c->member, "%c%c%c%s", rnd_upper(r), rnd_upper(r),
			         rnd_upper(r), d);
			break;
		default: rnd_digits(r, d, 8, 1); snprintf(c->member, sizeof c->member, "U%s01", d); break;
		}
		rnd_digits(r, d, 7, 0);
		snprintf(c->group, sizeof c->group, "%s", d);
		rnd_digits(r, d, 8, 1);
		snprintf(c->pacct, sizeof c->pacct, "%s", d);
	}
	c->cardbrand = gen_card(r, c->card);
	gen_vin(r, c->vin);
	{
		char d[16];
		rnd_digits(r, d, 8, 1);
		switch (rnd_below(r, 3)) {
		case 0: snprintf(c->serial, sizeof c->serial, "SN%s", d); break;
		case 1: snprintf(c->serial, sizeof c->serial, "%c%c%.4s-%.4s", rnd_upper(r), rnd_digit(r), d, d + 4); break;
		default: snprintf(c->serial, sizeof c->serial, "%s%c", d, rnd_upper(r)); break;
		}
		rnd_digits(r, d, 7, 1);
		snprintf(c->scanner_sn, sizeof c->scanner_sn, "%c%c%s", rnd_upper(r), rnd_upper(r), d);
		gen_gtin14(r, c->gtin);
		rnd_digits(r, d, 9, 1);
		snprintf(c->udi_serial, sizeof c->udi_serial, "%s", d);
	}
	if (chance(r, 50))
		snprintf(c->ip4, sizeof c->ip4, "192.168.%d.%d", rnd_range(r, 0, 20), rnd_range(r, 2, 254));
	else if (chance(r, 40))
		snprintf(c->ip4, sizeof c->ip4, "10.%d.%d.%d", rnd_range(r, 0, 255), rnd_range(r, 0, 255),
		         rnd_range(r, 2, 254));
	else
		snprintf(c->ip4, sizeof c->ip4, "%d.%d.%d.%d", rnd_range(r, 24, 223), rnd_range(r, 0, 255),
		         rnd_range(r, 0, 255), rnd_range(r, 1, 254));
	if (chance(r, 50))
		snprintf(c->ip6, sizeof c->ip6, "2001:db8:%x:%x::%x", rnd_range(r, 1, 0xffff),
		         rnd_range(r, 1, 0xffff), rnd_range(r, 1, 0xffff));
	else
		snprintf(c->ip6, sizeof c->ip6, "2601:%x:%x:%x:%x:%x:%x:%x", rnd_range(r, 0x100, 0xfff),
		         rnd_range(r, 0, 0xffff), rnd_range(r, 0, 0xffff), rnd_range(r, 0, 0xffff),
		         rnd_range(r, 0, 0xffff), rnd_range(r, 0, 0xffff), rnd_range(r, 1, 0xffff));

	/* relative */
	{
		int rf = chance(r, 50);
		pick_given(r, rf, c->rg, sizeof c->rg);
		scopy(c->rf, sizeof c->rf, chance(r, 75) ? c->pf : PICK(r, surnames));
		if (c->minor) {
			c->relrole = rf ? (chance(r, 50) ? "mother" : "guardian") : (chance(r, 50) ? "father" : "guardian");
		} else if (c->over89 || c->age > 70) {
			c->relrole = rf ? "daughter" : "son";
		} else if (rf) {
			c->relrole = c->female ? (chance(r, 50) ? "partner" : "sister") : "wife";
		} else {
			c->relrole = c->female ? "husband" : (chance(r, 50) ? "partner" : "brother");
		}
		c->relposs = c->female ? "her" : "his";
		c->relphone = rnd_phone(r, c->city->area);
	}

	/* dentist */
	{
		int df = chance(r, 50);
		pick_given(r, df, c->dg, sizeof c->dg);
		scopy(c->df, sizeof c->df, PICK(r, surnames));
		c->dmid = middle_initials[rnd_below(r, (unsigned)strlen(middle_initials))];
		c->dcred = chance(r, 60) ? "DDS" : "DMD";
		pick_given(r, chance(r, 50), c->sg, sizeof c->sg);
		scopy(c->sf, sizeof c->sf, PICK(r, surnames));
		gen_npi(r, c->npi);
		gen_npi(r, c->npi2);
		gen_dea(r, c->df[0], c->dea);
		char d[16];
		switch (rnd_below(r, 4)) {
		case 0: rnd_digits(r, d, 5, 1); snprintf(c->lic, sizeof c->lic, "D%s", d); break;
		case 1: rnd_digits(r, d, 6, 0); snprintf(c->lic, sizeof c->lic, "DDS-%s", d); break;
		case 2: rnd_digits(r, d, 6, 0); snprintf(c->lic, sizeof c->lic, "019.%s", d); break;
		default: rnd_digits(r, d, 5, 1); snprintf(c->lic, sizeof c->lic, "%s", d); break;
		}
		rnd_digits(r, d, 5, 1);
		snprintf(c->acct, sizeof c->acct, "%s%s", chance(r, 40) ? "C-" : "", d);
		const char *w = PICK(r, practice_words), *k = PICK(r, practice_kinds);
		snprintf(c->practice, sizeof c->practice, "%s %s", w, k);
		char lw[48], lk[48];
		lower_alpha(lw, sizeof lw, w);
		lower_alpha(lk, sizeof lk, k);
		snprintf(c->pdomain, sizeof c->pdomain, "%s%s.com", lw, chance(r, 50) ? lk : "dental");
		c->pcity = chance(r, 70) ? c->city : &PICK(r, cities);
		{
			char tmp[64];
			const char *dir = chance(r, 40) ? PICK(r, street_dir) : NULL;
			if (dir)
				snprintf(tmp, sizeof tmp, "%d %s %s %s", rnd_range(r, 10, 4999), dir,
				         PICK(r, street_names), PICK(r, street_suffix));
			else
				snprintf(tmp, sizeof tmp, "%d %s %s", rnd_range(r, 10, 4999),
				         PICK(r, street_names), PICK(r, street_suffix));
			scopy(c->pstreet, sizeof c->pstreet, tmp);
		}
		snprintf(c->psuite, sizeof c->psuite, "Suite %d", rnd_range(r, 1, 9) * 100 + rnd_range(r, 0, 20));
		snprintf(c->pzip, sizeof c->pzip, "%s%02d", c->pcity->zip3, rnd_range(r, 1, 99));
		c->pphone = rnd_phone(r, c->pcity->area);
		c->pfax = c->pphone;
		c->pfax.l = (c->pfax.l + rnd_range(r, 1, 40)) % 10000;
		static const char *const boxes[] = {"frontdesk", "office", "info", "appointments", "billing"};
		if (chance(r, 50))
			snprintf(c->pemail, sizeof c->pemail, "%s@%s", PICK(r, boxes), c->pdomain);
		else {
			char lf[48];
			lower_alpha(lf, sizeof lf, c->df);
			snprintf(c->pemail, sizeof c->pemail, "dr%s%s@%s", chance(r, 50) ? "." : "", lf, c->pdomain);
		}
	}

	/* lab */
	{
		c->lab = PICK(r, lab_names);
		lower_alpha(c->ldomain, sizeof c->ldomain, c->lab);
		size_t n = strlen(c->ldomain);
		snprintf(c->ldomain + n, sizeof c->ldomain - n, ".com");
		char d[16];
		switch (rnd_below(r, 4)) {
		case 0: rnd_digits(r, d, 6, 1); snprintf(c->casenum, sizeof c->casenum, "LC-%s", d); break;
		case 1: rnd_digits(r, d, 5, 1); snprintf(c->casenum, sizeof c->casenum, "%02d-%s", c->dos.y % 100, d); break;
		case 2: rnd_digits(r, d, 6, 1); snprintf(c->casenum, sizeof c->casenum, "%s", d); break;
		default: rnd_digits(r, d, 5, 1); snprintf(c->casenum, sizeof c->casenum, "DL%s", d); break;
		}
		rnd_digits(r, d, 6, 1);
		snprintf(c->rxnum, sizeof c->rxnum, "%s", d);
		rnd_digits(r, d, 8, 1);
		snprintf(c->ordernum, sizeof c->ordernum, "%s%s", chance(r, 40) ? "SO-" : "", d);
	}
	{
		char tok[20];
		rnd_hex(r, tok, 12);
		char pid[16];
		rnd_digits(r, pid, 6, 1);
		switch (rnd_below(r, 3)) {
		case 0:
			snprintf(c->portal, sizeof c->portal, "https://portal.%s/patient/records?pid=%s", c->pdomain, pid);
			break;
		case 1:
			snprintf(c->portal, sizeof c->portal, "https://www.%s/cases/view?case=%s&token=%s", c->ldomain,
			         c->casenum, tok);
			break;
		default:
			snprintf(c->portal, sizeof c->portal, "https://mychart.%s/forms/intake?patientId=%s&s=%s",
			         c->pdomain, pid, tok);
			break;
		}
	}

	/* dental content (non-PHI) */
	c->proc = &PICK(r, procs);
	{
		int t = rnd_range(r, 2, 31);
		switch (rnd_below(r, 5)) {
		case 0: snprintf(c->teeth, sizeof c->teeth, "#%d", t); break;
		case 1: snprintf(c->teeth, sizeof c->teeth, "#8,9"); break;
		case 2: snprintf(c->teeth, sizeof c->teeth, "#%d-#%d", t > 29 ? 28 : t, (t > 29 ? 28 : t) + 2); break;
		case 3: snprintf(c->teeth, sizeof c->teeth, "#%d", rnd_range(r, 2, 15)); break;
		default: snprintf(c->teeth, sizeof c->teeth, "#%d, #%d", t, t < 31 ? t + 1 : 30); break;
		}
		snprintf(c->fdi, sizeof c->fdi, "%d%d", rnd_range(r, 1, 4), rnd_range(r, 1, 8));
	}
	c->shade = chance(r, 70) ? PICK(r, shades_vita) : PICK(r, shades_3d);
	c->stump = PICK(r, stump_shades);
	c->implant = PICK(r, implant_systems);
	c->isize = PICK(r, implant_sizes);
	c->scanner_model = PICK(r, scanners);
	rnd_digits(r, c->lot, 7, 1);
	{
		char d[8];
		rnd_digits(r, d, 4, 0);
		snprintf(c->ref, sizeof c->ref, "0%d%d.%s", rnd_range(r, 1, 6), rnd_range(r, 0, 9), d);
	}
	{
		char h[33];
		rnd_hex(r, h, 32);
		snprintf(c->guid, sizeof c->guid, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 12, h + 15, h + 18);
		rnd_hex(r, c->sha, 64);
	}
	snprintf(c->stamp, sizeof c->stamp, "%04d%02d%02d_%02d%02d%02d", c->scan.y, c->scan.m, c->scan.d,
	         rnd_range(r, 8, 17), rnd_range(r, 0, 59), rnd_range(r, 0, 59));
	c->units = rnd_range(r, 1, 4);
	c->torque = PICK(r, ((const int[]){15, 20, 25, 30, 35, 35, 35}));
	c->price_cents = (long)rnd_range(r, 45, 260) * 500;
}

/* ------------------------------------------------------------------------ */
/* Value helpers: write an identifier and record its span                    */

static void Vdate_style(struct doc *d, struct ymd a, int style, int mode)
{
	char s[40];
	fmt_date(s, sizeof s, a, style);
	Vm(d, C_DATE, mode, "%s", s);
}

static void Vdate(struct doc *d, struct rng *r, struct ymd a)
{
	char s[40];
	V(d, C_DATE, "%s", rdate(r, a, s, sizeof s));
}

static void Vdate_sh(struct doc *d, struct rng *r, struct ymd a) /* logistics: safe_harbor */
{
	char s[40];
	VSH(d, C_DATE, "%s", rdate(r, a, s, sizeof s));
}

static void Vphone(struct doc *d, struct rng *r, struct phone p, int cls)
{
	char s[40];
	V(d, cls, "%s", rphone(r, p, s, sizeof s));
}

/* Patient name, "First Last" or "First M. Last". */
static void Vpname(struct doc *d, struct rng *r, const struct casedata *c)
{
	if (chance(r, 20))
		V(d, C_NAME, "%s %c. %s", c->pg, c->pmid, c->pf);
	else
		V(d, C_NAME, "%s %s", c->pg, c->pf);
}

/* "SMITH, John" / "Smith, John" / "Smith, John A." */
static void Vpname_lf(struct doc *d, struct rng *r, const struct casedata *c)
{
	char up[64];
	switch (rnd_below(r, 3)) {
	case 0:
		upper_copy(up, sizeof up, c->pf);
		V(d, C_NAME, "%s, %s", up, c->pg);
		break;
	case 1: V(d, C_NAME, "%s, %s", c->pf, c->pg); break;
	default: V(d, C_NAME, "%s, %s %c.", c->pf, c->pg, c->pmid); break;
	}
}

static void Vpname_dicom(struct doc *d, const struct casedata *c)
{
	char uf[64], ug[48];
	upper_copy(uf, sizeof uf, c->pf);
	upper_copy(ug, sizeof ug, c->pg);
	V(d, C_NAME, "%s^%s", uf, ug);
}

static void Vdname(struct doc *d, struct rng *r, const struct casedata *c)
{
	if (chance(r, 15))
		V(d, C_NAME, "%s %c. %s", c->dg, c->dmid, c->df);
	else
		V(d, C_NAME, "%s %s", c->dg, c->df);
}

static const char *honorific(const struct casedata *c, struct rng *r)
{
	if (!c->female)
		return "Mr.";
	return chance(r, 50) ? "Ms." : "Mrs.";
}

static void Vssn(struct doc *d, struct rng *r, const struct casedata *c, int allow_bare)
{
	int k = (int)rnd_below(r, allow_bare ? 4 : 3);
	if (k == 3)
		V(d, C_SSN, "%03d%02d%04d", c->ssn_a, c->ssn_g, c->ssn_s);
	else if (k == 2)
		V(d, C_SSN, "%03d %02d %04d", c->ssn_a, c->ssn_g, c->ssn_s);
	else
		V(d, C_SSN, "%03d-%02d-%04d", c->ssn_a, c->ssn_g, c->ssn_s);
}

static void Vmbi(struct doc *d, struct rng *r, const struct casedata *c)
{
	if (chance(r, 60))
		V(d, C_HEALTHPLAN, "%.4s-%.3s-%.4s", c->mbi, c->mbi + 4, c->mbi + 7);
	else
		V(d, C_HEALTHPLAN, "%s", c->mbi);
}

static void Vcard(struct doc *d, struct rng *r, const struct casedata *c)
{
	size_t n = strlen(c->card);
	int k = (int)rnd_below(r, 3);
	if (k == 0 || n != 16) {
		V(d, C_ACCOUNT, "%s", c->card);
	} else {
		char sep = k == 1 ? ' ' : '-';
		V(d, C_ACCOUNT, "%.4s%c%.4s%c%.4s%c%.4s", c->card, sep, c->card + 4, sep, c->card + 8,
		  sep, c->card + 12);
	}
}

static void Vudi(struct doc *d, struct rng *r, const struct casedata *c)
{
	if (chance(r, 50))
		V(d, C_DEVICE, "(01)%s(17)%02d%02d%02d(21)%s", c->gtin, (c->dos.y + 5) % 100, c->dos.m,
		  days_in(c->dos.y, c->dos.m), c->udi_serial);
	else
		V(d, C_DEVICE, "(01)%s(21)%s", c->gtin, c->udi_serial);
}

/* Street, optional unit, then "City, ST" (address) and ZIP (zip) with sep between. */
static void Vaddr(struct doc *d, const char *street, const char *unit, const struct city *ci,
                  const char *zip, const char *sep)
{
	V(d, C_ADDRESS, "%s", street);
	if (unit && *unit)
		T(d, ", %s", unit);
	T(d, "%s", sep);
	V(d, C_ADDRESS, "%s, %s", ci->name, ci->state);
	T(d, " ");
	V(d, C_ZIP, "%s", zip);
}

static void Vpaddr(struct doc *d, const struct casedata *c, const char *sep)
{
	Vaddr(d, c->street, c->unit, c->city, c->zip, sep);
}

static void Vdaddr(struct doc *d, const struct casedata *c, const char *sep)
{
	Vaddr(d, c->pstreet, c->psuite, c->pcity, c->pzip, sep);
}

static void T_price(struct doc *d, long cents)
{
	long dollars = cents / 100;
	if (dollars >= 1000)
		T(d, "$%ld,%03ld.%02ld", dollars / 1000, dollars % 1000, cents % 100);
	else
		T(d, "$%ld.%02ld", dollars, cents % 100);
}

static void T_time(struct doc *d, struct rng *r)
{
	int h = rnd_range(r, 7, 17), m = (int)rnd_below(r, 4) * 15;
	T(d, "%d:%02d %s", h > 12 ? h - 12 : h, m, h >= 12 ? "PM" : "AM");
}

/* ------------------------------------------------------------------------ */
/* Encoders: UTF-8 document -> file bytes, with an offset map for the spans  */

enum { CS_UTF8, CS_UTF16LE, CS_CP1252, CS_RTF, CS_RAW /* binary: bytes as generated */ };

static uint32_t utf8_next(const unsigned char *p, size_t n, size_t *len)
{
	if (p[0] < 0x80 || n < 2) {
		*len = 1;
		return p[0];
	}
	if ((p[0] & 0xE0) == 0xC0) {
		*len = 2;
		return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
	}
	if ((p[0] & 0xF0) == 0xE0 && n >= 3) {
		*len = 3;
		return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
	}
	if (n >= 4) {
		*len = 4;
		return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
		       ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
	}
	*len = 1;
	return 0xFFFD;
}

static int cp1252_byte(uint32_t cp)
{
	static const struct {
		uint32_t cp;
		int b;
	} extra[] = {{0x20AC, 0x80}, {0x2018, 0x91}, {0x2019, 0x92}, {0x201C, 0x93},
	             {0x201D, 0x94}, {0x2022, 0x95}, {0x2013, 0x96}, {0x2014, 0x97}};
	if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
		return (int)cp;
	for (size_t i = 0; i < NELEM(extra); i++)
		if (extra[i].cp == cp)
			return extra[i].b;
	return -1;
}

static void put_u16le(struct buf *o, unsigned u)
{
	char b[2] = {(char)(u & 0xFF), (char)(u >> 8)};
	b_put(o, b, 2);
}

/* Encode in->b into out; spans are translated into outsp (in->nsp entries). */
static void encode_doc(const struct doc *in, int cs, int crlf, struct buf *out, struct span *outsp)
{
	size_t n = in->b.n;
	size_t *map = xrealloc(NULL, (n + 1) * sizeof *map);
	const unsigned char *p = (const unsigned char *)in->b.p;
	out->n = 0;
	if (cs == CS_UTF16LE)
		b_put(out, "\xFF\xFE", 2);
	for (size_t i = 0; i < n;) {
		size_t len;
		uint32_t cp = utf8_next(p + i, n - i, &len);
		for (size_t k = 0; k < len; k++)
			map[i + k] = out->n;
		if (cp == '\n' && crlf) {
			if (cs == CS_UTF16LE) {
				put_u16le(out, '\r');
				put_u16le(out, '\n');
			} else {
				b_put(out, "\r\n", 2);
			}
		} else if (cs == CS_UTF8) {
			b_put(out, p + i, len);
		} else if (cs == CS_UTF16LE) {
			if (cp >= 0x10000) {
				uint32_t v = cp - 0x10000;
				put_u16le(out, 0xD800 + (v >> 10));
				put_u16le(out, 0xDC00 + (v & 0x3FF));
			} else {
				put_u16le(out, cp);
			}
		} else if (cs == CS_CP1252) {
			int b = cp1252_byte(cp);
			b_putc(out, (char)(b < 0 ? '?' : b));
		} else { /* RTF: 7-bit, escapes for the rest */
			int b = cp1252_byte(cp);
			if (cp < 0x80)
				b_putc(out, (char)cp);
			else if (b >= 0)
				b_printf(out, "\\'%02x", b);
			else
				b_printf(out, "\\u%d?", cp > 0x7FFF ? (int)cp - 0x10000 : (int)cp);
		}
		i += len;
	}
	map[n] = out->n;
	for (size_t i = 0; i < in->nsp; i++) {
		outsp[i] = in->sp[i];
		outsp[i].start = map[in->sp[i].start];
		outsp[i].end = map[in->sp[i].end];
	}
	free(map);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

static void mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		die("path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
				die("cannot create %s: %s", tmp, strerror(errno));
			tmp[i] = c;
		}
	}
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	if (n && fwrite(data, 1, n, f) != n)
		die("write error on %s", path);
	if (fclose(f) != 0)
		die("write error on %s", path);
}

/* ------------------------------------------------------------------------ */
/* Shared filler (non-PHI dental text)                                       */

static const char *const instr_lines[] = {
	"Please use light proximal contacts and check occlusion on the articulator.",
	"Margin is a 1.0 mm chamfer; keep the emergence profile flat.",
	"Match incisal translucency of the adjacent central.",
	"Contour per the approved wax-up; slight mamelon texture.",
	"Leave 0.5 mm clearance to the opposing in centric.",
	"Stain and glaze only, no cut-back.",
	"Screw-retained preferred; access hole through the cingulum.",
	"Return model with the case. Die Trim and ditch as usual.",
	"Bite Registration enclosed. Opposing Model is a full arch scan.",
	"Call the office with any questions before milling.",
	"Verify the shade under daylight; photos uploaded to the portal.",
	"Full Contour zirconia, high translucency, polish the occlusal.",
	"Upper Arch and Lower Arch scans attached; check the bite alignment.",
	"Custom Tray with 2 mm spacer, stops on #3 and #14.",
	"Patient is sensitive to nickel: no base metal.",
	"Please include the seating jig and a soft tissue model.",
	"Three-unit bridge #3x5 if the abutments allow; otherwise single units on #3 and #5.",
	"Splint #22-#27 after ortho; Palmer notation on the old chart, FDI 33-43.",
	"Crown Prep on #14-#16 is supragingival; Lava or Katana both acceptable.",
};

static void T_instructions(struct doc *d, struct rng *r, int n, const char *bullet)
{
	int idx[NELEM(instr_lines)];
	for (int i = 0; i < (int)NELEM(instr_lines); i++)
		idx[i] = i;
	shuffle_int(r, idx, (int)NELEM(instr_lines));
	for (int i = 0; i < n && i < (int)NELEM(instr_lines); i++)
		T(d, "%s%s\n", bullet, instr_lines[idx[i]]);
}

/* "Age: 54" is not PHI; 90 and over is. */
static void T_age_field(struct doc *d, struct rng *r, const struct casedata *c, const char *label)
{
	T(d, "%s", label);
	if (c->age >= 90)
		V(d, C_AGE, "%d", c->age);
	else
		T(d, "%d", c->age);
}

/* An age in prose ("92 y/o", "aged 94 years", "a 63-year-old"); the span is the number. */
static void T_age_prose(struct doc *d, struct rng *r, const struct casedata *c)
{
	static const char *const pre[] = {"", "", "", "aged ", "age ", ""};
	static const char *const post[] = {" y/o", " yo", " years old", " years", "", "-year-old"};
	int k = (int)rnd_below(r, NELEM(pre));
	T(d, "%s", pre[k]);
	if (c->age >= 90)
		V(d, C_AGE, "%d", c->age);
	else
		T(d, "%d", c->age);
	T(d, "%s", post[k]);
}

/* "a"/"an" before a spoken number. */
static const char *article_for(int n)
{
	return (n == 8 || n == 11 || n == 18 || (n >= 80 && n <= 89)) ? "an" : "a";
}

/* Treatment plan rows (non-PHI): style 0 markdown table, 1 CSV, 2 HTML rows, 3 plain list. */
static void T_txplan(struct doc *d, struct rng *r, const struct casedata *c, int style, int n)
{
	if (style == 0)
		T(d, "| # | Code | Tooth | Description | Fee |\n|---|---|---|---|---|\n");
	for (int i = 0; i < n; i++) {
		const struct proc *p = i == 0 ? c->proc : &PICK(r, procs);
		int tooth = rnd_range(r, 1, 32);
		long fee = i == 0 ? c->price_cents : (long)rnd_range(r, 8, 300) * 500;
		switch (style) {
		case 0: T(d, "| %d | %s | #%d | %s | ", i + 1, p->cdt, tooth, p->desc); break;
		case 1: T(d, "%d,%s,#%d,\"%s\",", i + 1, p->cdt, tooth, p->desc); break;
		case 2: T(d, "  <tr><td>%d</td><td>%s</td><td>#%d</td><td>%s</td><td>", i + 1, p->cdt, tooth, p->desc); break;
		default: T(d, "  %d. %s on #%d - %s, ", i + 1, p->cdt, tooth, p->desc); break;
		}
		if (style == 1)
			T(d, "%ld.%02ld", fee / 100, fee % 100);
		else
			T_price(d, fee);
		T(d, "%s\n", style == 0 ? " |" : style == 2 ? "</td></tr>" : "");
	}
}

/* Periodontal chart: pocket depths in mm, three sites per tooth. */
static void T_perio(struct doc *d, struct rng *r, const char *indent)
{
	static const int upper[] = {2, 3, 4, 5, 12, 13, 14, 15}, lower[] = {18, 19, 20, 21, 28, 29, 30, 31};
	T(d, "%sPocket depths (mm), facial:\n", indent);
	for (int row = 0; row < 2; row++) {
		const int *t = row ? lower : upper;
		T(d, "%s", indent);
		for (int i = 0; i < 8; i++)
			T(d, "#%-2d %d %d %d%s", t[i], rnd_range(r, 1, 4), rnd_range(r, 1, 6), rnd_range(r, 1, 4),
			  i < 7 ? " | " : "\n");
	}
	int pi = rnd_range(r, 5, 30);
	T(d, "%sBleeding on probing %d%%, plaque index %d.%d, mobility grade %d on #%d.\n", indent,
	  rnd_range(r, 5, 40), pi / 10, pi % 10, rnd_range(r, 0, 2), rnd_range(r, 23, 26));
}

static const char *const enclosures[] = {
	"Upper Arch model", "Lower Arch model", "Bite Registration", "Opposing Model",
	"Custom Tray", "Photos (6)", "Stump shade tab", "Old crown", "Scan Body", "Analog",
	"Articulator (returnable)",
};

static void T_enclosures(struct doc *d, struct rng *r, const char *indent)
{
	T(d, "%sEnclosures:\n", indent);
	for (size_t i = 0; i < NELEM(enclosures); i++)
		if (chance(r, 45))
			T(d, "%s  [%c] %s\n", indent, chance(r, 70) ? 'x' : ' ', enclosures[i]);
}

static const char *const policy_lines[] = {
	"All restorations are manufactured under ISO 13485:2016 and FDA registration; materials "
	"certificates are available on request.",
	"Remakes within 90 days are free of charge when the original models and the restoration "
	"are returned.",
	"Zirconia restorations carry a 5-year warranty against fracture; porcelain fused to metal, "
	"3 years.",
	"Cases received after 2:00 PM are logged the next business day. Rush service adds 50% to the fee.",
	"Design approvals sent through the portal expire after 7 days; the case is then placed on hold.",
	"Please disinfect impressions before shipping (EPA-registered intermediate-level disinfectant).",
};

static void T_policy(struct doc *d, struct rng *r, int n, const char *indent)
{
	int idx[NELEM(policy_lines)];
	for (int i = 0; i < (int)NELEM(policy_lines); i++)
		idx[i] = i;
	shuffle_int(r, idx, (int)NELEM(policy_lines));
	for (int i = 0; i < n && i < (int)NELEM(policy_lines); i++)
		T(d, "%s%s\n", indent, policy_lines[idx[i]]);
}

static const char *const design_prefs[] = {
	"Contacts: %s", "Occlusion: %s", "Pontic design: %s", "Margin: %s", "Embrasures: %s",
};
static const char *const design_vals[][3] = {
	{"light", "medium", "heavy"},
	{"light in centric, none in excursions", "group function", "canine guidance"},
	{"modified ridge lap", "ovate", "sanitary"},
	{"chamfer, metal-free", "shoulder 360", "porcelain butt margin facial"},
	{"open occlusal", "closed", "match adjacent"},
};

static void T_design(struct doc *d, struct rng *r, const char *indent)
{
	for (size_t i = 0; i < NELEM(design_prefs); i++) {
		T(d, "%s", indent);
		T(d, design_prefs[i], design_vals[i][rnd_below(r, 3)]);
		T(d, "\n");
	}
}

/* ------------------------------------------------------------------------ */
/* rx.txt: laboratory prescription slip                                      */

static void rx_doctor_block(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	static const char *const drlab[] = {"Doctor: Dr. ", "Dentist: Dr. ", "Ordering dentist: ",
	                                    "Prescribing doctor: Dr. ", "Dr. "};
	const char *lab = PICK(r, drlab);
	T(d, "%s", lab);
	Vdname(d, r, c);
	T(d, ", %s\n", c->dcred);
	T(d, "Practice: %s\n", c->practice);
	T(d, "Address: ");
	Vdaddr(d, c, chance(r, 50) ? ", " : "\n         ");
	T(d, "\n");
	T(d, "%s", PICK(r, ((const char *const[]){"Phone: ", "Tel: ", "Ph: ", "Office: "})));
	V(d, C_PHONE, "%s", rphone(r, c->pphone, ph, sizeof ph));
	if (chance(r, 40))
		T(d, " %s%d", chance(r, 50) ? "x" : "ext. ", c->ext % 1000);
	T(d, "%s", PICK(r, ((const char *const[]){"   Fax: ", "  |  Fax ", "\nFax: ", "  F: "})));
	V(d, C_FAX, "%s", rphone(r, c->pfax, ph, sizeof ph));
	T(d, "\n");
	if (chance(r, 70)) {
		T(d, "Email: ");
		V(d, C_EMAIL, "%s", c->pemail);
		T(d, "\n");
	}
	T(d, "NPI: ");
	V(d, C_LICENSE, "%s", c->npi);
	if (chance(r, 60)) {
		T(d, "%s", PICK(r, ((const char *const[]){"   Lic #: ", "   State License No. ", "\nLicense #: "})));
		V(d, C_LICENSE, "%s", c->lic);
	}
	T(d, "\n");
	if (chance(r, 50)) {
		T(d, "Account #: ");
		V(d, C_ACCOUNT, "%s", c->acct);
		T(d, "\n");
	}
}

static void rx_patient_block(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	switch (rnd_below(r, 4)) {
	case 0: T(d, "Patient: "); Vpname(d, r, c); break;
	case 1: T(d, "Pt name: "); Vpname(d, r, c); break;
	case 2: T(d, "Patient Name: "); Vpname_lf(d, r, c); break;
	default: T(d, "Name: "); Vpname_lf(d, r, c); break;
	}
	T(d, "%s", chance(r, 50) ? "\n" : "    ");
	static const char *const dob[] = {"DOB: ", "D.O.B. ", "Date of birth: ", "Birthdate: ", "DOB "};
	T(d, "%s", PICK(r, dob));
	Vdate(d, r, c->dob);
	T(d, "    Sex: %s", c->female ? "F" : "M");
	if (c->age >= 90 || chance(r, 50))
		T_age_field(d, r, c, "    Age: ");
	T(d, "\n");
	if (chance(r, 60)) {
		T(d, "%s", PICK(r, ((const char *const[]){"Chart #: ", "MRN: ", "Patient ID: ", "Med Rec No. "})));
		V(d, C_MRN, "%s", chance(r, 50) ? c->mrn : c->chart);
		T(d, "\n");
	}
	if (c->minor && chance(r, 70)) {
		T(d, "Parent/Guardian: ");
		V(d, C_NAME, "%s %s", c->rg, c->rf);
		T(d, "  Phone: ");
		V(d, C_PHONE, "%s", rphone(r, c->relphone, ph, sizeof ph));
		T(d, "\n");
	}
}

static void rx_case_numbers(struct doc *d, struct rng *r, const struct casedata *c)
{
	switch (rnd_below(r, 3)) {
	case 0:
		T(d, "Rx #: ");
		V(d, C_ID, "%s", c->rxnum);
		T(d, "        Case #: ");
		V(d, C_ID, "%s", c->casenum);
		break;
	case 1:
		T(d, "Case No. ");
		V(d, C_ID, "%s", c->casenum);
		break;
	default:
		T(d, "Order No. ");
		V(d, C_ID, "%s", c->ordernum);
		T(d, "   Case # ");
		V(d, C_ID, "%s", c->casenum);
		break;
	}
	T(d, "\n");
}

static void rx_logistics(struct doc *d, struct rng *r, const struct casedata *c)
{
	T(d, "Due date: ");
	Vdate_style(d, c->due, chance(r, 60) ? DF_MDY : DF_ISO, M_SAFE_HARBOR);
	T(d, "%s", chance(r, 50) ? "    Ship by " : "\nShip by ");
	Vdate_style(d, c->ship, chance(r, 50) ? DF_ISO : DF_MDY, M_SAFE_HARBOR);
	T(d, "\nDelivery: %s\n", chance(r, 50) ? "UPS Ground" : "lab courier, before 10:30 AM");
}

static void gen_rx(struct doc *d, struct rng *r, const struct casedata *c)
{
	int tpl = (int)rnd_below(r, 3);
	if (tpl == 0) {
		/* fixed prosthetics */
		T(d, "%s - LABORATORY PRESCRIPTION\n", c->lab);
		T(d, "============================================================\n");
		rx_case_numbers(d, r, c);
		T(d, "%s", PICK(r, ((const char *const[]){"DOS: ", "Date of service: ", "Appt date: "})));
		Vdate(d, r, c->dos);
		T(d, "\n\n");
		rx_doctor_block(d, r, c);
		T(d, "\n");
		rx_patient_block(d, r, c);
		T(d, "\nRESTORATION\n");
		T(d, "Tooth: %s    Shade: %s    Stump shade: %s\n", c->teeth, c->shade, c->stump);
		T(d, "Procedure: %s %s\n", c->proc->cdt, c->proc->desc);
		T(d, "Material: %s, %s\n", c->proc->material, PICK(r, lab_phrases));
		T(d, "Units: %d    Fee: ", c->units);
		T_price(d, c->price_cents);
		T(d, "\n");
		T(d, "Impression taken: ");
		Vdate(d, r, c->impression);
		T(d, " (digital, %s, file ", c->scanner_model);
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s_upper.stl)\n", c->stamp + 8);
		T(d, "\nInstructions:\n");
		T_instructions(d, r, rnd_range(r, 2, 4), "- ");
		T(d, "\nDesign preferences:\n");
		T_design(d, r, "  ");
		T(d, "\n");
		T_enclosures(d, r, "");
		T(d, "\n");
		rx_logistics(d, r, c);
		T(d, "\nDoctor signature: ______________________  %s\n\n", c->dcred);
		T_policy(d, r, 2, "* ");
	} else if (tpl == 1) {
		/* implant restoration */
		T(d, "IMPLANT RESTORATION PRESCRIPTION\n%s\n\n", c->lab);
		rx_case_numbers(d, r, c);
		T(d, "Ordering dentist: ");
		Vdname(d, r, c);
		T(d, ", %s  |  NPI ", c->dcred);
		V(d, C_LICENSE, "%s", c->npi);
		T(d, "  |  DEA: ");
		V(d, C_LICENSE, "%s", c->dea);
		T(d, "\n%s, ", c->practice);
		Vdaddr(d, c, ", ");
		T(d, "\nPhone ");
		Vphone(d, r, c->pphone, C_PHONE);
		T(d, "  Fax ");
		Vphone(d, r, c->pfax, C_FAX);
		T(d, "\n\n");
		rx_patient_block(d, r, c);
		T(d, "\nIMPLANT\n");
		T(d, "System: %s %s, LOT %s, REF %s\n", c->implant, c->isize, c->lot, c->ref);
		T(d, "Site: %s (FDI %s)   Torque: %d Ncm\n", c->teeth, c->fdi, c->torque);
		T(d, "Implant UDI: ");
		Vudi(d, r, c);
		T(d, "\nPlaced by Dr. ");
		V(d, C_NAME, "%s %s", c->sg, c->sf);
		T(d, ", surgery on ");
		Vdate(d, r, c->surgery);
		T(d, "\nAbutment: custom titanium base, %s crown, shade %s\n", c->proc->material, c->shade);
		T(d, "Procedure codes: D6058, D6056   Fee: ");
		T_price(d, c->price_cents + 45000);
		T(d, "\nManufactured under ISO 13485:2016\n\nNotes:\n");
		T_instructions(d, r, rnd_range(r, 2, 3), "  * ");
		T(d, "\n");
		T_design(d, r, "  ");
		T(d, "\n");
		T_enclosures(d, r, "");
		T(d, "\n");
		rx_logistics(d, r, c);
		T(d, "\n");
		T_policy(d, r, 2, "");
	} else {
		/* removable / appliance */
		T(d, "RX - REMOVABLE / APPLIANCE\n");
		T(d, "Lab: %s    ", c->lab);
		rx_case_numbers(d, r, c);
		T(d, "\n");
		rx_patient_block(d, r, c);
		T(d, "Address: ");
		Vpaddr(d, c, ", ");
		T(d, "\nHome phone: ");
		Vphone(d, r, c->home, C_PHONE);
		if (chance(r, 60)) {
			T(d, "   Cell: ");
			Vphone(d, r, c->cell, C_PHONE);
		}
		T(d, "\nInsurance: %s   Member ID: ", c->payer);
		V(d, C_HEALTHPLAN, "%s", c->member);
		T(d, "   Group #: ");
		V(d, C_HEALTHPLAN, "%s", c->group);
		T(d, "\n\n");
		T(d, "Patient: see attached intake for medical history.\nName: %s\n", PICK(r, lab_phrases));
		T(d, "Appliance: %s\n", chance(r, 50) ? "D9944 occlusal guard, hard, Upper Arch"
		                                      : "D5110 complete denture, Ivoclar SR Phonares, shade A2");
		T(d, "Seen on ");
		Vdate(d, r, c->dos);
		T(d, " - impressions taken, bite registered at 3 mm opening.\n");
		T(d, "Try In appt: ");
		Vdate(d, r, c->appt);
		T(d, " at ");
		T_time(d, r);
		T(d, "\n\nDoctor: Dr. ");
		Vdname(d, r, c);
		T(d, " (NPI ");
		V(d, C_LICENSE, "%s", c->npi);
		T(d, ")  Tel ");
		Vphone(d, r, c->pphone, C_PHONE);
		T(d, "\n\n");
		T_instructions(d, r, 3, "- ");
		T(d, "\n");
		T_enclosures(d, r, "");
		T(d, "\n");
		rx_logistics(d, r, c);
		T(d, "\n");
		T_policy(d, r, 2, "");
	}
}

/* ------------------------------------------------------------------------ */
/* notes.md: clinical notes in prose                                         */

static const char *const history_lines[] = {
	"Medical history reviewed: hypertension, controlled with lisinopril. No known drug allergies.",
	"Type 2 diabetes, last A1c reported as 6.9. Takes metformin.",
	"History of bisphosphonate use was discussed; none in the last 5 years.",
	"Non-smoker. Drinks coffee daily. Brushes twice a day, flosses occasionally.",
	"Allergic to penicillin (rash). Clindamycin given previously without issue.",
	"Anxious about dental treatment; nitrous oxide offered and declined.",
	"Takes a baby aspirin daily; no other anticoagulants.",
	"Bruxism reported by the family; wear facets on the canines.",
};

static const char *const exam_lines[] = {
	"Existing restoration on %s fractured at the distal marginal ridge.",
	"Recurrent decay under the old amalgam on %s; pulp vitality normal.",
	"Large composite on %s with open margins; crown recommended.",
	"Missing tooth at site %s; bone volume adequate on CBCT.",
	"Cracked cusp on %s, symptomatic to bite test.",
};

static void notes_visit_para(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	switch (rnd_below(r, 3)) {
	case 0:
		T(d, "Saw ");
		Vpname(d, r, c);
		T(d, " today for %s on %s. ", chance(r, 50) ? "crown prep" : "a consult", c->teeth);
		break;
	case 1:
		T(d, "Patient ");
		Vpname(d, r, c);
		T(d, " was seen on ");
		Vdate(d, r, c->dos);
		T(d, " for evaluation of %s. ", c->teeth);
		break;
	default:
		T(d, "%s ", honorific(c, r));
		V(d, C_NAME, "%s", c->pf);
		T(d, " presented on ");
		Vdate_sh(d, r, c->dos);
		T(d, " complaining of sensitivity around %s. ", c->teeth);
		break;
	}
	T(d, "%s is %s ", c->female ? "She" : "He", article_for(c->age));
	if (c->age >= 90)
		V(d, C_AGE, "%d", c->age);
	else
		T(d, "%d", c->age);
	T(d, "%s %s. ", PICK(r, ((const char *const[]){"-year-old", " y/o", " yo"})), c->female ? "female" : "male");
	T(d, exam_lines[rnd_below(r, NELEM(exam_lines))], c->teeth);
	T(d, "\n\n%s\n\n", PICK(r, history_lines));
	if (c->minor) {
		T(d, "Primary teeth: stainless steel crown on %c (D2930), sealants on #%c and #%c; "
		     "space maintainer for %c pending.\n\n",
		  "ABIJKLST"[rnd_below(r, 8)], "ACDEFGH"[rnd_below(r, 7)], "MNOPQR"[rnd_below(r, 6)],
		  "JKST"[rnd_below(r, 4)]);
		T(d, "Accompanied by %s %s ", c->relposs, c->relrole);
		V(d, C_NAME, "%s %s", c->rg, c->rf);
		T(d, ", who signed consent (guardian: ");
		V(d, C_NAME, "%s %s", c->rg, c->rf);
		T(d, "). Best number is ");
		V(d, C_PHONE, "%s", rphone(r, c->relphone, ph, sizeof ph));
		T(d, ".\n\n");
	} else if (chance(r, 60)) {
		T(d, "%s %s ", chance(r, 50) ? "Accompanied by" : "Came in with", c->relposs);
		T(d, "%s ", c->relrole);
		V(d, C_NAME, "%s %s", c->rg, c->rf);
		T(d, "; contact number on file ");
		V(d, C_PHONE, "%s", rphone(r, c->relphone, ph, sizeof ph));
		T(d, ".\n\n");
	}
}

static void gen_notes(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	int tpl = (int)rnd_below(r, 3);
	if (tpl == 0) {
		T(d, "# Clinical notes\n\n");
		T(d, "**Patient:** ");
		Vpname(d, r, c);
		T(d, "  \n**DOB:** ");
		Vdate(d, r, c->dob);
		T(d, "  \n**Chart #:** ");
		V(d, C_MRN, "%s", c->chart);
		T(d, "  \n**Provider:** Dr. ");
		Vdname(d, r, c);
		T(d, "\n\n## Visit ");
		Vdate(d, r, c->dos);
		T(d, "\n\n");
		notes_visit_para(d, r, c);
		T(d, "Shade taken with Vita Classical: %s body, %s incisal; stump shade %s. ", c->shade,
		  PICK(r, shades_vita), c->stump);
		T(d, "Impressions taken ");
		Vdate(d, r, c->impression);
		T(d, " with the %s (export ", c->scanner_model);
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s.zip, sha256 %s).\n\n", c->stamp + 8, c->sha);
		T(d, "Temporary placed with TempBond. %s was given post-op instructions and tolerated the "
		     "procedure well.\n\n", c->female ? "She" : "He");
		T(d, "## Prior visits\n\n");
		{
			static const char *const what[] = {
				"prophy and periodic exam, 4 BWX (D0120, D1110, D0274)",
				"emergency exam, pulp testing on the lower molars (D0140)",
				"consult for implant vs bridge; CBCT taken (D0367)",
				"SRP two quadrants (D4341), OHI reviewed",
			};
			int nv = rnd_range(r, 1, 3);
			struct ymd v = c->prev;
			for (int i = 0; i < nv; i++) {
				T(d, "- %s ", PICK(r, ((const char *const[]){"Seen", "Visit", "Appt"})));
				Vdate(d, r, v);
				T(d, ": %s.\n", PICK(r, what));
				v = date_add(v, -rnd_range(r, 60, 200));
			}
		}
		T(d, "\n## Periodontal charting\n\n");
		T_perio(d, r, "");
		T(d, "\n## Treatment plan\n\n");
		T_txplan(d, r, c, 0, rnd_range(r, 2, 5));
		T(d, "\n## Plan\n\n- %s %s, %s, shade %s\n", c->proc->cdt, c->proc->desc, c->proc->material, c->shade);
		T(d, "- Lab: %s, case # ", c->lab);
		V(d, C_ID, "%s", c->casenum);
		T(d, "\n- Next appt: ");
		Vdate(d, r, c->appt);
		T(d, " at ");
		T_time(d, r);
		T(d, " (seat, %d units)\n", c->units);
		T(d, "- Estimate given: ");
		T_price(d, c->price_cents);
		T(d, ", %s to be billed.\n", c->payer);
		if (chance(r, 50)) {
			T(d, "\n> Portal message sent to ");
			V(d, C_EMAIL, "%s", c->email);
			T(d, " with the link ");
			V(d, C_URL, "%s", c->portal);
			T(d, "\n");
		}
	} else if (tpl == 1) {
		T(d, "## Operative note - implant placement\n\n");
		T(d, "Patient: ");
		Vpname_lf(d, r, c);
		T(d, " | D.O.B. ");
		Vdate_style(d, c->dob, DF_DMY_DOT, M_DEFAULT);
		T(d, " | MRN ");
		V(d, C_MRN, "%s", c->mrn);
		T(d, "\nSurgeon: Dr. ");
		V(d, C_NAME, "%s %s", c->sg, c->sf);
		T(d, "   Restoring dentist: Dr. ");
		Vdname(d, r, c);
		T(d, "\n\n");
		T(d, "Surgery on ");
		Vdate(d, r, c->surgery);
		T(d, ". ");
		T(d, "%s ", honorific(c, r));
		V(d, C_NAME, "%s", c->pf);
		T(d, " (");
		T_age_prose(d, r, c);
		T(d, ", %s), ASA II. Local anesthesia: 2 carpules 4%% articaine 1:100k. ", c->female ? "woman" : "man");
		T(d, "Full thickness flap at site %s, osteotomy per protocol, %s %s placed ", c->teeth,
		  c->implant, c->isize);
		T(d, "(LOT %s, REF %s) with insertion torque %d Ncm. ", c->lot, c->ref, c->torque);
		T(d, "Implant S/N: ");
		V(d, C_DEVICE, "%s", c->serial);
		T(d, "; UDI ");
		Vudi(d, r, c);
		T(d, ". Cover screw placed, closed with 4-0 PTFE.\n\n");
		T(d, "%s\n\n", PICK(r, history_lines));
		T(d, "Pre-operative periodontal status:\n\n");
		T_perio(d, r, "    ");
		T(d, "\n");
		T(d, "Post-op instructions reviewed with ");
		if (c->minor || chance(r, 60)) {
			T(d, "%s %s ", c->relposs, c->relrole);
			V(d, C_NAME, "%s %s", c->rg, c->rf);
		} else {
			T(d, "the patient");
		}
		T(d, ". Rx: amoxicillin 500 mg, ibuprofen 600 mg. Follow-up visit ");
		Vdate(d, r, date_add(c->surgery, 10));
		T(d, ".\n\nSeen for post-op check on ");
		Vdate(d, r, date_add(c->surgery, 14));
		T(d, ": healing well, no swelling. Restorative phase referred back to Dr. ");
		V(d, C_NAME, "%s", c->df);
		T(d, ". Impression taken ");
		Vdate(d, r, c->impression);
		T(d, " with scan body, Upper Arch and Lower Arch scanned.\n\n");
		T(d, "| Item | Value |\n|---|---|\n| Implant | %s %s |\n| Torque | %d Ncm |\n| Graft | "
		     "0.5 cc allograft |\n| Code | D6010 |\n| Fee | ", c->implant, c->isize, c->torque);
		T_price(d, c->price_cents + 120000);
		T(d, " |\n\n### Restorative plan\n\n");
		T_txplan(d, r, c, 0, rnd_range(r, 2, 4));
	} else {
		T(d, "# Communication log\n\n");
		T(d, "Case: ");
		Vpname(d, r, c);
		T(d, " (");
		if (c->age >= 90)
			V(d, C_AGE, "%d", c->age);
		else
			T(d, "%d", c->age);
		T(d, "%s), born ", c->female ? "F" : "M");
		Vdate_style(d, c->dob, DF_LONG, M_DEFAULT);
		T(d, ", chart ");
		V(d, C_MRN, "%s", c->chart);
		T(d, "\n\n");
		T(d, "- **");
		Vdate_sh(d, r, c->prev);
		T(d, "** ");
		T_time(d, r);
		T(d, " - Called pt at ");
		Vphone(d, r, c->home, C_PHONE);
		T(d, ", left a voicemail about the treatment plan (%s, %s).\n", c->proc->cdt, c->teeth);
		T(d, "- **");
		Vdate_sh(d, r, date_add(c->prev, 2));
		T(d, "** - ");
		if (c->minor) {
			T(d, "Guardian: ");
			V(d, C_NAME, "%s %s", c->rg, c->rf);
			T(d, " called back from ");
		} else {
			T(d, "%s ", c->female ? "She" : "He");
			T(d, "called back from %s cell ", c->relposs);
		}
		Vphone(d, r, c->cell, C_PHONE);
		T(d, "; confirmed appt on ");
		Vdate(d, r, c->dos);
		T(d, ".\n");
		T(d, "- **");
		Vdate_sh(d, r, c->dos);
		T(d, "** - Saw ");
		V(d, C_NAME, "%c. %s", c->pg[0], c->pf);
		T(d, " for %s. Impressions taken; shade %s, stump %s. Sent to %s, Rx # ", c->proc->desc,
		  c->shade, c->stump, c->lab);
		V(d, C_ID, "%s", c->rxnum);
		T(d, ".\n");
		T(d, "- **");
		Vdate_sh(d, r, c->received);
		T(d, "** - Lab confirmed receipt; due date ");
		Vdate_style(d, c->due, DF_MDY, M_SAFE_HARBOR);
		T(d, ".\n");
		T(d, "- **");
		Vdate_sh(d, r, date_add(c->received, 1));
		T(d, "** - Emailed photos to ");
		V(d, C_EMAIL, "%s", c->email);
		T(d, " for shade approval; insurance pre-auth sent to %s (member ID ", c->payer);
		V(d, C_HEALTHPLAN, "%s", c->member);
		T(d, ").\n");
		if (chance(r, 50)) {
			T(d, "- Insurance called back: claim references Medicare MBI ");
			Vmbi(d, r, c);
			T(d, " as secondary coverage.\n");
		}
		T(d, "\nTreatment plan as presented:\n\n");
		T_txplan(d, r, c, 3, rnd_range(r, 3, 5));
		T(d, "\nNotes: %s %s\n", PICK(r, history_lines), PICK(r, instr_lines));
		T(d, "Lab notes: %s %s\n", PICK(r, instr_lines), PICK(r, policy_lines));
		T(d, "Reminder texts go to ");
		V(d, C_PHONE, "%s", rphone(r, c->cell, ph, sizeof ph));
		T(d, " - consent on file.\n");
	}
}

/* ------------------------------------------------------------------------ */
/* ticket.csv: lab tickets and billing exports                               */

/* Another synthetic patient for multi-row tables. */
struct minip {
	char g[32], f[48];
	struct ymd dob, dos;
	struct phone ph;
	char casenum[16];
};

static void gen_minip(struct rng *r, const struct casedata *c, struct minip *m)
{
	pick_given(r, chance(r, 50), m->g, sizeof m->g);
	scopy(m->f, sizeof m->f, PICK(r, surnames));
	m->dob = rnd_date(r, 1940, 2012);
	m->dos = date_add(c->dos, -rnd_range(r, 0, 20));
	m->ph = rnd_phone(r, c->city->area);
	char d[8];
	rnd_digits(r, d, 6, 1);
	snprintf(m->casenum, sizeof m->casenum, "%s", d);
}

static const char *const statuses[] = {
	"Received", "In Design", "Milling", "Crown Prep review", "Shipped", "On Hold - need bite",
	"Try In", "Final Seat",
};

static void gen_ticket(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	int tpl = (int)rnd_below(r, 3);
	if (tpl == 0) {
		/* lab work queue: several patients, this case among them */
		int nrows = rnd_range(r, 8, 16), me = (int)rnd_below(r, (unsigned)nrows);
		T(d, "row,case_no,received,patient,dob,doctor,phone,tooth,shade,product,cdt,qty,price,status,due_date\n");
		for (int i = 0; i < nrows; i++) {
			T(d, "%d,", i + 1);
			if (i == me) {
				V(d, C_ID, "%s", c->casenum);
				T(d, ",");
				Vdate_style(d, c->received, DF_ISO, M_SAFE_HARBOR);
				T(d, ",\"");
				Vpname_lf(d, r, c);
				T(d, "\",");
				Vdate_style(d, c->dob, DF_MDY, M_DEFAULT);
				T(d, ",Dr. ");
				V(d, C_NAME, "%s", c->df);
				T(d, ",");
				Vphone(d, r, c->pphone, C_PHONE);
				T(d, ",\"%s\",%s,%s,%s,%d,", c->teeth, c->shade, c->proc->material, c->proc->cdt, c->units);
				T(d, "%ld.%02ld,%s,", c->price_cents / 100, c->price_cents % 100, PICK(r, statuses));
				Vdate_style(d, c->due, DF_MDY, M_SAFE_HARBOR);
			} else {
				struct minip m;
				gen_minip(r, c, &m);
				V(d, C_ID, "%s", m.casenum);
				T(d, ",");
				Vdate_style(d, date_add(m.dos, 1), DF_ISO, M_SAFE_HARBOR);
				T(d, ",\"");
				char up[64];
				upper_copy(up, sizeof up, m.f);
				V(d, C_NAME, "%s, %s", chance(r, 50) ? up : m.f, m.g);
				T(d, "\",");
				Vdate_style(d, m.dob, DF_MDY, M_DEFAULT);
				T(d, ",Dr. ");
				V(d, C_NAME, "%s", PICK(r, surnames));
				T(d, ",");
				Vphone(d, r, rnd_phone(r, c->city->area), C_PHONE);
				const struct proc *p = &PICK(r, procs);
				T(d, ",#%d,%s,%s,%s,%d,%d.00,%s,", rnd_range(r, 2, 31), PICK(r, shades_vita), p->material,
				  p->cdt, rnd_range(r, 1, 3), rnd_range(r, 9, 60) * 25, PICK(r, statuses));
				Vdate_style(d, date_add(m.dos, 12), DF_MDY, M_SAFE_HARBOR);
			}
			T(d, "\n");
		}
	} else if (tpl == 1) {
		/* one patient's registration, exported as field,value */
		T(d, "field,value\n");
		int order[10];
		for (int i = 0; i < 10; i++)
			order[i] = i;
		shuffle_int(r, order + 3, 7); /* the first three stay on top */
		for (int i = 0; i < 10; i++) {
			switch (order[i]) {
			case 0: T(d, "Patient,\""); Vpname_lf(d, r, c); T(d, "\"\n"); break;
			case 1:
				T(d, "DOB,");
				Vdate_style(d, c->dob, DF_ISO, M_DEFAULT);
				T_age_field(d, r, c, "\nAge,");
				T(d, "\n");
				break;
			case 2: T(d, "Chart #,"); V(d, C_MRN, "%s", c->chart); T(d, "\n"); break;
			case 3: T(d, "SSN,"); Vssn(d, r, c, 1); T(d, "\n"); break;
			case 4:
				T(d, "Address,\"");
				Vpaddr(d, c, ", ");
				T(d, "\"\n");
				break;
			case 5: T(d, "Home Phone,"); Vphone(d, r, c->home, C_PHONE); T(d, "\n"); break;
			case 6: T(d, "Email,"); V(d, C_EMAIL, "%s", c->email); T(d, "\n"); break;
			case 7:
				T(d, "Insurance,%s\nSubscriber ID,", c->payer);
				V(d, C_HEALTHPLAN, "%s", c->member);
				T(d, "\nGroup Number,");
				V(d, C_HEALTHPLAN, "%s", c->group);
				T(d, "\n");
				break;
			case 8:
				T(d, "Emergency Contact,\"");
				V(d, C_NAME, "%s %s", c->rg, c->rf);
				T(d, " (%s)\"\nEmergency Phone,", c->relrole);
				V(d, C_PHONE, "%s", rphone(r, c->relphone, ph, sizeof ph));
				T(d, "\n");
				break;
			default:
				T(d, "Referring Dentist,\"Dr. ");
				Vdname(d, r, c);
				T(d, ", %s\"\nReferring NPI,", c->dcred);
				V(d, C_LICENSE, "%s", c->npi);
				T(d, "\n");
				break;
			}
		}
		T(d, "Model Name,%s\nTooth,\"%s\"\nShade,%s\nProcedure,%s\nMaterial,%s\nLast Visit,",
		  PICK(r, lab_phrases), c->teeth, c->shade,
		  c->proc->cdt, c->proc->material);
		Vdate_style(d, c->prev, DF_MDY, M_DEFAULT);
		T(d, "\nScan File,");
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s_%s.stl\nScan ID,%s\n", c->stamp + 8, PICK(r, lab_phrases), c->guid);
		T(d, "\nline,code,tooth,description,fee\n");
		T_txplan(d, r, c, 1, rnd_range(r, 3, 7));
	} else {
		/* billing export */
		T(d, "invoice,invoice_date,account,patient,service_date,code,description,tooth,amount,payment,card_number,card_exp,auth_code\n");
		int nl = rnd_range(r, 4, 9);
		char inv[12];
		rnd_digits(r, inv, 6, 1);
		for (int i = 0; i < nl; i++) {
			const struct proc *p = i == 0 ? c->proc : &PICK(r, procs);
			T(d, "INV-%s,", inv);
			Vdate_style(d, c->ship, DF_ISO, M_SAFE_HARBOR);
			T(d, ",");
			V(d, C_ACCOUNT, "%s", c->pacct);
			T(d, ",\"");
			if (i == 0)
				Vpname(d, r, c);
			else
				V(d, C_NAME, "%s %s", c->pg, c->pf);
			T(d, "\",");
			Vdate_style(d, c->dos, DF_MDY, M_DEFAULT);
			T(d, ",%s,\"%s\",\"%s\",%ld.%02ld,", p->cdt, p->desc, c->teeth,
			  (c->price_cents / 100) / (i + 1), c->price_cents % 100);
			if (i == 0) {
				T(d, "%s,", c->cardbrand);
				Vcard(d, r, c);
				T(d, ",%02d/%02d,%06u\n", rnd_range(r, 1, 12), rnd_range(r, 26, 30), rnd_below(r, 1000000));
			} else {
				T(d, "insurance,,,\n");
			}
		}
		T(d, "\"Total\",,,,,,,,");
		T(d, "%ld.00,,,,\n", c->price_cents / 100 * 2);
		T(d, "\"Remit to %s - questions: billing portal\",,,,,,,,,,,,\n", c->lab);
	}
}

/* ------------------------------------------------------------------------ */
/* order.json: lab-software order exports and portal API responses           */

/* "key": "<value span>" with indentation; values never need JSON escapes
 * except the apostrophe-free names we generate, so no escaping is needed. */
static void J_open(struct doc *d, int ind, const char *key)
{
	T(d, "%*s\"%s\": \"", ind, "", key);
}

static void J_close(struct doc *d, int last)
{
	T(d, "\"%s\n", last ? "" : ",");
}

static void J_str(struct doc *d, int ind, const char *key, const char *val, int last)
{
	T(d, "%*s\"%s\": \"%s\"%s\n", ind, "", key, val, last ? "" : ",");
}

static void J_val(struct doc *d, int ind, const char *key, int cls, int mode, const char *val, int last)
{
	J_open(d, ind, key);
	Vm(d, cls, mode, "%s", val);
	J_close(d, last);
}

static void J_date(struct doc *d, int ind, const char *key, struct ymd a, int mode, int last)
{
	J_open(d, ind, key);
	Vdate_style(d, a, DF_ISO, mode);
	J_close(d, last);
}

static void gen_json(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40], tmp[96];
	int tpl = (int)rnd_below(r, 3);
	if (tpl == 0) {
		T(d, "{\n");
		J_val(d, 2, "orderId", C_ID, M_DEFAULT, c->ordernum, 0);
		J_val(d, 2, "caseNumber", C_ID, M_DEFAULT, c->casenum, 0);
		J_open(d, 2, "created");
		Vdate_style(d, c->dos, DF_ISO, M_SAFE_HARBOR);
		T(d, "T%02d:%02d:%02dZ", rnd_range(r, 12, 22), rnd_range(r, 0, 59), rnd_range(r, 0, 59));
		J_close(d, 0);
		J_str(d, 2, "labName", c->lab, 0);
		snprintf(tmp, sizeof tmp, "%s - %s", PICK(r, lab_phrases), PICK(r, lab_phrases));
		J_str(d, 2, "caseName", tmp, 0);
		T(d, "  \"patient\": {\n");
		J_val(d, 4, "firstName", C_NAME, M_DEFAULT, c->pg, 0);
		J_val(d, 4, "lastName", C_NAME, M_DEFAULT, c->pf, 0);
		J_date(d, 4, "dateOfBirth", c->dob, M_DEFAULT, 0);
		T(d, "    \"age\": ");
		if (c->age >= 90)
			V(d, C_AGE, "%d", c->age);
		else
			T(d, "%d", c->age);
		T(d, ",\n");
		J_str(d, 4, "gender", c->female ? "F" : "M", 0);
		J_val(d, 4, "chartNumber", C_MRN, M_DEFAULT, c->chart, 1);
		T(d, "  },\n  \"doctor\": {\n");
		J_open(d, 4, "name");
		T(d, "Dr. ");
		V(d, C_NAME, "%s %s", c->dg, c->df);
		J_close(d, 0);
		J_val(d, 4, "npi", C_LICENSE, M_DEFAULT, c->npi, 0);
		J_val(d, 4, "licenseNumber", C_LICENSE, M_DEFAULT, c->lic, 0);
		J_val(d, 4, "customerAccount", C_ACCOUNT, M_DEFAULT, c->acct, 1);
		T(d, "  },\n  \"practice\": {\n");
		J_str(d, 4, "name", c->practice, 0);
		T(d, "    \"address\": {\n");
		J_val(d, 6, "street", C_ADDRESS, M_DEFAULT, c->pstreet, 0);
		J_str(d, 6, "street2", c->psuite, 0);
		J_val(d, 6, "city", C_ADDRESS, M_DEFAULT, c->pcity->name, 0);
		J_str(d, 6, "state", c->pcity->state, 0);
		J_val(d, 6, "zip", C_ZIP, M_DEFAULT, c->pzip, 1);
		T(d, "    },\n");
		J_val(d, 4, "phone", C_PHONE, M_DEFAULT, fmt_phone(ph, sizeof ph, c->pphone, 1), 0);
		J_val(d, 4, "fax", C_FAX, M_DEFAULT, fmt_phone(ph, sizeof ph, c->pfax, 1), 0);
		J_val(d, 4, "email", C_EMAIL, M_DEFAULT, c->pemail, 1);
		T(d, "  },\n  \"items\": [\n");
		int ni = rnd_range(r, 2, 5);
		for (int i = 0; i < ni; i++) {
			const struct proc *p = i == 0 ? c->proc : &PICK(r, procs);
			T(d, "    {\"tooth\": \"%d\", \"fdi\": \"%s\", \"shade\": \"%s\", \"material\": \"%s\", "
			     "\"cdt\": \"%s\", \"units\": %d, \"price\": %ld.%02ld}%s\n",
			  rnd_range(r, 2, 31), c->fdi, i ? PICK(r, shades_vita) : c->shade, p->material, p->cdt,
			  rnd_range(r, 1, 3), c->price_cents / 100, c->price_cents % 100, i + 1 < ni ? "," : "");
		}
		T(d, "  ],\n  \"scan\": {\n");
		J_str(d, 4, "device", c->scanner_model, 0);
		J_val(d, 4, "serialNumber", C_DEVICE, M_DEFAULT, c->scanner_sn, 0);
		J_open(d, 4, "file");
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s_%s.stl", c->stamp + 8, chance(r, 50) ? "UpperJaw" : "LowerJaw");
		J_close(d, 0);
		J_str(d, 4, "sha256", c->sha, 0);
		J_val(d, 4, "uploadedFrom", C_IP, M_DEFAULT, c->ip4, 1);
		T(d, "  },\n");
		J_date(d, 2, "dueDate", c->due, M_SAFE_HARBOR, 0);
		J_date(d, 2, "shipBy", c->ship, M_SAFE_HARBOR, 0);
		J_str(d, 2, "certification", "ISO 13485:2016", 0);
		T(d, "  \"instructions\": [\n");
		for (int i = 0, n = rnd_range(r, 2, 4); i < n; i++)
			T(d, "    \"%s\"%s\n", instr_lines[rnd_below(r, NELEM(instr_lines))], i + 1 < n ? "," : "");
		T(d, "  ],\n");
		J_str(d, 2, "terms", PICK(r, policy_lines), 1);
		T(d, "}\n");
	} else if (tpl == 1) {
		T(d, "{\"type\": \"case\", \"id\": \"%s\", \"version\": 3,\n", c->guid);
		T(d, " \"patientName\": \"");
		Vpname_dicom(d, c);
		T(d, "\", \"patientId\": \"");
		V(d, C_MRN, "%s", c->mrn);
		T(d, "\", \"birthDate\": \"");
		Vdate_style(d, c->dob, chance(r, 50) ? DF_ISO : DF_MDY, M_DEFAULT);
		T(d, "\",\n \"contact\": {\"email\": \"");
		V(d, C_EMAIL, "%s", c->email);
		T(d, "\", \"mobile\": \"");
		Vphone(d, r, c->cell, C_PHONE);
		T(d, "\", \"address\": \"");
		Vpaddr(d, c, ", ");
		T(d, "\"},\n \"insurance\": {\"payer\": \"%s\", \"memberId\": \"", c->payer);
		V(d, C_HEALTHPLAN, "%s", c->member);
		if (c->over89 || chance(r, 30)) {
			T(d, "\", \"medicareMbi\": \"");
			Vmbi(d, r, c);
		}
		T(d, "\"},\n \"referringDentist\": {\"name\": \"Dr. ");
		Vdname(d, r, c);
		T(d, "\", \"npi\": \"");
		V(d, C_LICENSE, "%s", c->npi);
		T(d, "\", \"dea\": \"");
		V(d, C_LICENSE, "%s", c->dea);
		T(d, "\"},\n \"restoration\": {\"teeth\": \"%s\", \"shade\": \"%s\", \"stumpShade\": \"%s\", "
		     "\"material\": \"%s\", \"code\": \"%s\"},\n",
		  c->teeth, c->shade, c->stump, c->proc->material, c->proc->cdt);
		T(d, " \"appointments\": [\n  {\"kind\": \"impression\", \"date\": \"");
		Vdate_style(d, c->impression, DF_ISO, M_DEFAULT);
		T(d, "\", \"time\": \"");
		T_time(d, r);
		T(d, "\"},\n  {\"kind\": \"seat\", \"date\": \"");
		Vdate_style(d, c->seat, DF_ISO, M_DEFAULT);
		T(d, "\", \"time\": \"");
		T_time(d, r);
		T(d, "\"}\n ],\n \"portalUrl\": \"");
		V(d, C_URL, "%s", c->portal);
		T(d, "\",\n \"audit\": {\"clientIp\": \"");
		V(d, C_IP, "%s", chance(r, 50) ? c->ip6 : c->ip4);
		T(d, "\", \"at\": \"");
		Vdate_style(d, c->received, DF_ISO, M_SAFE_HARBOR);
		T(d, "T10:30:00Z\", \"hash\": \"%s\"},\n", c->sha);
		T(d, " \"designNotes\": [\"%s\", \"%s\"],\n", PICK(r, instr_lines), PICK(r, instr_lines));
		T(d, " \"labPolicy\": \"%s\"\n}\n", PICK(r, policy_lines));
	} else {
		T(d, "{\n  \"event\": \"order.updated\",\n  \"order\": {\n");
		J_val(d, 4, "rxNumber", C_ID, M_DEFAULT, c->rxnum, 0);
		J_val(d, 4, "caseNumber", C_ID, M_DEFAULT, c->casenum, 0);
		J_str(d, 4, "status", PICK(r, statuses), 0);
		J_open(d, 4, "patient");
		Vpname(d, r, c);
		J_close(d, 0);
		J_date(d, 4, "patientDob", c->dob, M_DEFAULT, 0);
		J_open(d, 4, "dentist");
		T(d, "Dr. ");
		Vdname(d, r, c);
		T(d, ", %s", c->dcred);
		J_close(d, 0);
		J_str(d, 4, "product", c->proc->material, 0);
		J_str(d, 4, "teeth", c->teeth, 0);
		J_str(d, 4, "shade", c->shade, 0);
		T(d, "    \"implant\": {\"system\": \"%s\", \"size\": \"%s\", \"lot\": \"%s\", \"ref\": \"%s\", "
		     "\"torqueNcm\": %d, \"udi\": \"",
		  c->implant, c->isize, c->lot, c->ref, c->torque);
		Vudi(d, r, c);
		T(d, "\"},\n");
		J_date(d, 4, "serviceDate", c->dos, M_DEFAULT, 0);
		J_date(d, 4, "dueDate", c->due, M_SAFE_HARBOR, 0);
		snprintf(tmp, sizeof tmp, "%ld.%02ld", c->price_cents / 100, c->price_cents % 100);
		J_str(d, 4, "total", tmp, 0);
		J_str(d, 4, "currency", "USD", 1);
		T(d, "  },\n  \"payment\": {\"method\": \"%s\", \"cardNumber\": \"", c->cardbrand);
		Vcard(d, r, c);
		T(d, "\", \"billingZip\": \"");
		V(d, C_ZIP, "%s", c->zip);
		T(d, "\"},\n  \"history\": [\n");
		T(d, "    {\"at\": \"");
		Vdate_style(d, c->received, DF_ISO, M_SAFE_HARBOR);
		T(d, "T09:12:44Z\", \"by\": \"lab\", \"note\": \"Received, %s\"},\n", PICK(r, lab_phrases));
		T(d, "    {\"at\": \"");
		Vdate_style(d, date_add(c->received, 2), DF_ISO, M_SAFE_HARBOR);
		T(d, "T14:03:10Z\", \"by\": \"");
		V(d, C_EMAIL, "%s", c->pemail);
		T(d, "\", \"note\": \"Approved design, shade %s\"},\n", c->shade);
		T(d, "    {\"at\": \"");
		Vdate_style(d, c->ship, DF_ISO, M_SAFE_HARBOR);
		T(d, "T16:45:00Z\", \"by\": \"shipping\", \"note\": \"Shipped to ");
		Vdaddr(d, c, ", ");
		T(d, "\"}\n  ],\n  \"designNotes\": [\"%s\", \"%s\", \"%s\"],\n", PICK(r, instr_lines),
		  PICK(r, instr_lines), PICK(r, instr_lines));
		T(d, "  \"requestId\": \"%s\"\n}\n", c->guid);
	}
}

/* ------------------------------------------------------------------------ */
/* order.xml: lab order (3Shape-like), DICOM-ish worklist, dental claim      */

static void X_el(struct doc *d, int ind, const char *tag, int cls, int mode, const char *val)
{
	T(d, "%*s<%s>", ind, "", tag);
	Vm(d, cls, mode, "%s", val);
	T(d, "</%s>\n", tag);
}

static void X_date(struct doc *d, int ind, const char *tag, struct ymd a, int style, int mode)
{
	T(d, "%*s<%s>", ind, "", tag);
	Vdate_style(d, a, style, mode);
	T(d, "</%s>\n", tag);
}

static void gen_xml(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	int tpl = (int)rnd_below(r, 3);
	T(d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (tpl == 0) {
		T(d, "<Order xmlns=\"urn:dentallab:order:v2\" software=\"DentalDesigner 2.4.1\">\n");
		X_el(d, 2, "OrderID", C_ID, M_DEFAULT, c->ordernum);
		X_el(d, 2, "CaseNumber", C_ID, M_DEFAULT, c->casenum);
		T(d, "  <OrderGUID>%s</OrderGUID>\n", c->guid);
		T(d, "  <Created>");
		Vdate_style(d, c->dos, DF_ISO, M_SAFE_HARBOR);
		T(d, "T%02d:%02d:00</Created>\n", rnd_range(r, 8, 17), rnd_range(r, 0, 59));
		T(d, "  <Patient>\n");
		X_el(d, 4, "LastName", C_NAME, M_DEFAULT, c->pf);
		X_el(d, 4, "FirstName", C_NAME, M_DEFAULT, c->pg);
		X_date(d, 4, "DateOfBirth", c->dob, DF_ISO, M_DEFAULT);
		X_el(d, 4, "PatientID", C_MRN, M_DEFAULT, c->mrn);
		T(d, "    <Gender>%s</Gender>\n", c->female ? "Female" : "Male");
		T(d, "  </Patient>\n");
		T(d, "  <Doctor Name=\"Dr. ");
		Vdname(d, r, c);
		T(d, "\" NPI=\"");
		V(d, C_LICENSE, "%s", c->npi);
		T(d, "\" Phone=\"");
		V(d, C_PHONE, "%s", fmt_phone(ph, sizeof ph, c->pphone, 0));
		T(d, "\"/>\n  <Practice>\n    <Name>%s</Name>\n", c->practice);
		X_el(d, 4, "Street", C_ADDRESS, M_DEFAULT, c->pstreet);
		T(d, "    <Street2>%s</Street2>\n", c->psuite);
		X_el(d, 4, "City", C_ADDRESS, M_DEFAULT, c->pcity->name);
		T(d, "    <State>%s</State>\n", c->pcity->state);
		X_el(d, 4, "Zip", C_ZIP, M_DEFAULT, c->pzip);
		T(d, "  </Practice>\n  <Items>\n");
		int ni = rnd_range(r, 2, 5);
		for (int i = 0; i < ni; i++) {
			const struct proc *p = i == 0 ? c->proc : &PICK(r, procs);
			T(d, "    <Item Tooth=\"%d\" Shade=\"%s\" Material=\"%s\" CDT=\"%s\" Units=\"%d\" "
			     "Price=\"%ld.00\" Name=\"%s\"/>\n",
			  rnd_range(r, 2, 31), i ? PICK(r, shades_3d) : c->shade, p->material, p->cdt,
			  rnd_range(r, 1, 3), c->price_cents / 100, PICK(r, lab_phrases));
		}
		T(d, "  </Items>\n  <Scan Model=\"%s\" SerialNumber=\"", c->scanner_model);
		V(d, C_DEVICE, "%s", c->scanner_sn);
		T(d, "\" Host=\"");
		V(d, C_IP, "%s", c->ip4);
		T(d, "\">\n    <File>");
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s_UpperJaw.stl</File>\n    <File>", c->stamp + 8);
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s_LowerJaw.stl</File>\n    <Checksum alg=\"SHA-256\">%s</Checksum>\n  </Scan>\n",
		  c->stamp + 8, c->sha);
		X_date(d, 2, "DueDate", c->due, DF_ISO, M_SAFE_HARBOR);
		X_date(d, 2, "ShipDate", c->ship, DF_ISO, M_SAFE_HARBOR);
		T(d, "  <Comments>\n");
		for (int i = 0, n = rnd_range(r, 2, 4); i < n; i++)
			T(d, "    <Comment>%s</Comment>\n", instr_lines[rnd_below(r, NELEM(instr_lines))]);
		T(d, "  </Comments>\n  <Terms>%s</Terms>\n</Order>\n", PICK(r, policy_lines));
	} else if (tpl == 1) {
		T(d, "<Worklist station=\"OP3\" modality=\"IO\">\n  <Entry>\n");
		T(d, "    <PatientName>");
		Vpname_dicom(d, c);
		T(d, "</PatientName>\n");
		X_el(d, 4, "PatientID", C_MRN, M_DEFAULT, c->mrn);
		T(d, "    <PatientBirthDate>");
		if (chance(r, 50))
			V(d, C_DATE, "%04d%02d%02d", c->dob.y, c->dob.m, c->dob.d);
		else
			Vdate_style(d, c->dob, DF_ISO, M_DEFAULT);
		T(d, "</PatientBirthDate>\n    <PatientSex>%s</PatientSex>\n", c->female ? "F" : "M");
		if (c->age >= 90) {
			T(d, "    <PatientAge>");
			V(d, C_AGE, "%03dY", c->age);
			T(d, "</PatientAge>\n");
		} else {
			T(d, "    <PatientAge>%03dY</PatientAge>\n", c->age);
		}
		T(d, "    <ReferringPhysicianName>");
		{
			char uf[64], ug[48];
			upper_copy(uf, sizeof uf, c->df);
			upper_copy(ug, sizeof ug, c->dg);
			V(d, C_NAME, "%s^%s", uf, ug);
		}
		T(d, "</ReferringPhysicianName>\n");
		T(d, "    <StudyDate>");
		V(d, C_DATE, "%04d%02d%02d", c->scan.y, c->scan.m, c->scan.d);
		T(d, "</StudyDate>\n    <StudyTime>%.6s</StudyTime>\n", c->stamp + 9);
		T(d, "    <AccessionNumber>");
		V(d, C_ID, "%s", c->casenum);
		T(d, "</AccessionNumber>\n");
		T(d, "    <StationName>%s</StationName>\n", c->scanner_model);
		T(d, "    <DeviceSerialNumber>");
		V(d, C_DEVICE, "%s", c->scanner_sn);
		T(d, "</DeviceSerialNumber>\n");
		T(d, "    <InstitutionName>%s</InstitutionName>\n", c->practice);
		T(d, "    <InstitutionAddress>");
		Vdaddr(d, c, ", ");
		T(d, "</InstitutionAddress>\n");
		T(d, "    <Procedure code=\"%s\">%s, teeth %s, shade %s</Procedure>\n", c->proc->cdt,
		  c->proc->desc, c->teeth, c->shade);
		T(d, "    <SourceAddress>");
		V(d, C_IP, "%s", c->ip6);
		T(d, "</SourceAddress>\n    <Comments>%s %s</Comments>\n  </Entry>\n", PICK(r, instr_lines),
		  PICK(r, history_lines));
		T(d, "  <Calibration>\n    <Procedure code=\"D0470\">Calibration scan, %s, shade tab %s</Procedure>\n"
		     "    <StationName>%s</StationName>\n    <Tip>autoclaved, %d cycles left</Tip>\n"
		     "  </Calibration>\n</Worklist>\n",
		  PICK(r, lab_phrases), PICK(r, shades_vita), c->scanner_model, rnd_range(r, 20, 150));
	} else {
		int mva = chance(r, 50);
		T(d, "<DentalClaim form=\"ADA-2019\">\n  <Payer>%s</Payer>\n", c->payer);
		T(d, "  <Subscriber>\n");
		T(d, "    <Name>");
		Vpname_lf(d, r, c);
		T(d, "</Name>\n");
		X_el(d, 4, "MemberID", C_HEALTHPLAN, M_DEFAULT, c->member);
		X_el(d, 4, "GroupNumber", C_HEALTHPLAN, M_DEFAULT, c->group);
		T(d, "    <SSN>");
		Vssn(d, r, c, 1);
		T(d, "</SSN>\n");
		X_date(d, 4, "BirthDate", c->dob, DF_MDY, M_DEFAULT);
		T(d, "    <Address>");
		Vpaddr(d, c, ", ");
		T(d, "</Address>\n");
		T(d, "    <Phone>");
		Vphone(d, r, c->home, C_PHONE);
		T(d, "</Phone>\n  </Subscriber>\n");
		if (c->over89 || chance(r, 25)) {
			T(d, "  <OtherCoverage type=\"Medicare\"><MBI>");
			Vmbi(d, r, c);
			T(d, "</MBI></OtherCoverage>\n");
		}
		T(d, "  <BillingDentist>\n    <Name>Dr. ");
		Vdname(d, r, c);
		T(d, ", %s</Name>\n", c->dcred);
		X_el(d, 4, "NPI", C_LICENSE, M_DEFAULT, c->npi);
		X_el(d, 4, "LicenseNumber", C_LICENSE, M_DEFAULT, c->lic);
		T(d, "    <Address>");
		Vdaddr(d, c, ", ");
		T(d, "</Address>\n    <Phone>");
		Vphone(d, r, c->pphone, C_PHONE);
		T(d, "</Phone>\n  </BillingDentist>\n  <ServiceLines>\n");
		int nl = rnd_range(r, 2, 6);
		for (int i = 0; i < nl; i++) {
			const struct proc *p = i == 0 ? c->proc : &PICK(r, procs);
			T(d, "    <Line n=\"%d\"><DateOfService>", i + 1);
			Vdate_style(d, c->dos, DF_MDY, M_DEFAULT);
			T(d, "</DateOfService><Code>%s</Code><Tooth>%d</Tooth><Description>%s</Description>"
			     "<Fee>%ld.00</Fee></Line>\n",
			  p->cdt, rnd_range(r, 2, 31), p->desc, (long)rnd_range(r, 9, 60) * 25);
		}
		T(d, "  </ServiceLines>\n");
		if (mva) {
			T(d, "  <Accident type=\"auto\">\n    <AccidentDate>");
			Vdate_style(d, c->surgery, DF_MDY, M_DEFAULT);
			T(d, "</AccidentDate>\n    <VehicleVIN>");
			V(d, C_VEHICLE, "%s", c->vin);
			T(d, "</VehicleVIN>\n    <State>%s</State>\n  </Accident>\n", c->city->state);
		}
		T(d, "  <Remarks>Prosthesis replacement: no. Treatment resulting from %s. Lab %s, case ",
		  mva ? "auto accident" : "caries", c->lab);
		V(d, C_ID, "%s", c->casenum);
		T(d, ".</Remarks>\n</DentalClaim>\n");
	}
}

/* ------------------------------------------------------------------------ */
/* form.html: intake form, lab portal case page, referral letter             */

static void H_row_open(struct doc *d, const char *label)
{
	T(d, "    <tr><th>%s</th><td>", label);
}

static void H_row_close(struct doc *d)
{
	T(d, "</td></tr>\n");
}

static void gen_html(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	int tpl = (int)rnd_below(r, 3);
	T(d, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
	if (tpl == 0) {
		T(d, "<title>New Patient Intake - %s</title>\n", c->practice);
		T(d, "<style>th{text-align:left;width:14em} td{padding:2px 8px}</style>\n</head>\n<body>\n");
		T(d, "<h1>%s</h1>\n<h2>Patient Registration</h2>\n<table class=\"intake\">\n", c->practice);
		int order[12];
		for (int i = 0; i < 12; i++)
			order[i] = i;
		shuffle_int(r, order + 4, 8);
		for (int i = 0; i < 12; i++) {
			switch (order[i]) {
			case 0: H_row_open(d, "Patient name"); Vpname(d, r, c); H_row_close(d); break;
			case 1:
				H_row_open(d, "Date of birth");
				Vdate_style(d, c->dob, chance(r, 50) ? DF_MDY : DF_LONG, M_DEFAULT);
				H_row_close(d);
				break;
			case 2:
				H_row_open(d, "Age");
				if (c->age >= 90)
					V(d, C_AGE, "%d", c->age);
				else
					T(d, "%d", c->age);
				H_row_close(d);
				break;
			case 3: H_row_open(d, "Social Security No."); Vssn(d, r, c, 0); H_row_close(d); break;
			case 4:
				H_row_open(d, "Home address");
				Vpaddr(d, c, "<br>");
				H_row_close(d);
				break;
			case 5:
				H_row_open(d, "Phone (home)");
				Vphone(d, r, c->home, C_PHONE);
				T(d, "</td></tr>\n    <tr><th>Phone (mobile)</th><td>");
				Vphone(d, r, c->cell, C_PHONE);
				H_row_close(d);
				break;
			case 6:
				H_row_open(d, "Work phone");
				Vphone(d, r, c->work, C_PHONE);
				T(d, " ext. %d", c->ext);
				H_row_close(d);
				break;
			case 7: H_row_open(d, "E-mail"); V(d, C_EMAIL, "%s", c->email); H_row_close(d); break;
			case 8:
				H_row_open(d, c->minor ? "Parent/Guardian" : "Emergency contact");
				V(d, C_NAME, "%s %s", c->rg, c->rf);
				T(d, " (%s), ", c->relrole);
				V(d, C_PHONE, "%s", rphone(r, c->relphone, ph, sizeof ph));
				H_row_close(d);
				break;
			case 9:
				H_row_open(d, "Dental insurance");
				T(d, "%s, Member ID: ", c->payer);
				V(d, C_HEALTHPLAN, "%s", c->member);
				T(d, ", Group #: ");
				V(d, C_HEALTHPLAN, "%s", c->group);
				H_row_close(d);
				break;
			case 10:
				if (c->age < 65 && chance(r, 70))
					break;
				H_row_open(d, "Medicare MBI");
				Vmbi(d, r, c);
				H_row_close(d);
				break;
			default:
				H_row_open(d, "Card on file");
				T(d, "%s ", c->cardbrand);
				Vcard(d, r, c);
				T(d, " exp %02d/%02d", rnd_range(r, 1, 12), rnd_range(r, 26, 30));
				H_row_close(d);
				break;
			}
		}
		T(d, "    <tr><th>Chief complaint</th><td>Broken filling on %s, wants a crown (%s)</td></tr>\n",
		  c->teeth, c->proc->cdt);
		T(d, "</table>\n<h2>Proposed treatment</h2>\n<table class=\"plan\">\n"
		     "  <tr><th>#</th><th>Code</th><th>Tooth</th><th>Description</th><th>Fee</th></tr>\n");
		T_txplan(d, r, c, 2, rnd_range(r, 2, 5));
		T(d, "</table>\n<p>Preferred appointment time: ");
		T_time(d, r);
		T(d, ". First visit: ");
		Vdate(d, r, c->dos);
		T(d, ".</p>\n<p>Signed: ");
		Vpname(d, r, c);
		T(d, " &mdash; ");
		Vdate_sh(d, r, c->prev);
		T(d, "</p>\n<footer>%s &middot; ", c->practice);
		Vdaddr(d, c, ", ");
		T(d, " &middot; Fax ");
		Vphone(d, r, c->pfax, C_FAX);
		T(d, "</footer>\n");
	} else if (tpl == 1) {
		T(d, "<title>Case ");
		V(d, C_ID, "%s", c->casenum);
		T(d, " - %s portal</title>\n</head>\n<body>\n", c->lab);
		T(d, "<div class=\"case-header\">\n  <h1>Case #");
		V(d, C_ID, "%s", c->casenum);
		T(d, "</h1>\n  <span class=\"pt\">Pt: ");
		Vpname_lf(d, r, c);
		T(d, "</span>\n  <span class=\"dob\">DOB ");
		Vdate(d, r, c->dob);
		T(d, "</span>\n  <span class=\"status\">%s</span>\n</div>\n", PICK(r, statuses));
		T(d, "<div class=\"doctor\">Ordering dentist: Dr. ");
		Vdname(d, r, c);
		T(d, " &middot; %s &middot; ", c->practice);
		Vphone(d, r, c->pphone, C_PHONE);
		T(d, " &middot; <a href=\"mailto:");
		V(d, C_EMAIL, "%s", c->pemail);
		T(d, "\">email</a></div>\n");
		T(d, "<table class=\"rx\">\n  <tr><th>Tooth</th><th>Shade</th><th>Stump</th><th>Product</th>"
		     "<th>Code</th><th>Price</th></tr>\n");
		T(d, "  <tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>", c->teeth, c->shade,
		  c->stump, c->proc->material, c->proc->cdt);
		T_price(d, c->price_cents);
		T(d, "</td></tr>\n");
		T(d, "  <tr><td>FDI %s</td><td>%s</td><td>%s</td><td>%s %s</td><td>D6056</td><td>", c->fdi,
		  PICK(r, shades_3d), PICK(r, stump_shades), c->implant, c->isize);
		T_price(d, c->price_cents / 2);
		T(d, "</td></tr>\n</table>\n");
		T(d, "<p>Implant: %s, LOT %s, REF %s, %d Ncm. Scan body: %s.</p>\n", c->implant, c->lot,
		  c->ref, c->torque, PICK(r, lab_phrases));
		T(d, "<ul class=\"history\">\n  <li>");
		Vdate_sh(d, r, c->received);
		T(d, " ");
		T_time(d, r);
		T(d, " &ndash; case received from ");
		V(d, C_IP, "%s", c->ip4);
		T(d, "</li>\n  <li>Impression taken ");
		Vdate(d, r, c->impression);
		T(d, " (file ");
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s.3oxz)</li>\n  <li>Due date: ", c->stamp + 8);
		Vdate_style(d, c->due, DF_MDY, M_SAFE_HARBOR);
		T(d, "</li>\n  <li>Ship by ");
		Vdate_style(d, c->ship, DF_ISO, M_SAFE_HARBOR);
		T(d, "</li>\n</ul>\n<p><a href=\"");
		V(d, C_URL, "%s", c->portal);
		T(d, "\">Open in patient portal</a></p>\n");
		T(d, "<h2>Instructions</h2>\n<ul>\n");
		for (int i = 0, n = rnd_range(r, 2, 4); i < n; i++)
			T(d, "  <li>%s</li>\n", instr_lines[rnd_below(r, NELEM(instr_lines))]);
		T(d, "</ul>\n<p class=\"small\">%s</p>\n", PICK(r, policy_lines));
		T(d, "<p class=\"small\">Request %s &middot; ISO 13485:2016 certified lab</p>\n", c->guid);
	} else {
		T(d, "<title>Referral letter</title>\n</head>\n<body>\n");
		T(d, "<p>");
		Vdate_sh(d, r, c->received);
		T(d, "</p>\n<p>Dr. ");
		V(d, C_NAME, "%s %s", c->sg, c->sf);
		T(d, "<br>Oral &amp; Maxillofacial Surgery<br>Fax: ");
		Vphone(d, r, rnd_phone(r, c->pcity->area), C_FAX);
		T(d, "</p>\n<p>Re: ");
		Vpname(d, r, c);
		T(d, ", DOB ");
		Vdate(d, r, c->dob);
		T(d, "</p>\n<p>Dear Dr. ");
		V(d, C_NAME, "%s", c->sf);
		T(d, ",</p>\n<p>Thank you for seeing %s ", honorific(c, r));
		V(d, C_NAME, "%s", c->pf);
		T(d, ", ");
		T_age_prose(d, r, c);
		T(d, ", whom I saw on ");
		Vdate(d, r, c->dos);
		T(d, " for a fractured %s. Radiographs show a vertical root fracture; I recommend "
		     "extraction and an implant (%s %s). ", c->teeth, c->implant, c->isize);
		T(d, "%s medical history: %s</p>\n", c->female ? "Her" : "His", PICK(r, history_lines));
		T(d, "<p>Restorative plan after healing:</p>\n<pre>\n");
		T_txplan(d, r, c, 3, rnd_range(r, 2, 4));
		T(d, "</pre>\n");
		if (c->minor || chance(r, 50)) {
			T(d, "<p>%s %s, ", c->minor ? "The patient's" : (c->female ? "Her" : "His"), c->relrole);
			V(d, C_NAME, "%s %s", c->rg, c->rf);
			T(d, ", will bring %s in; please call ", c->female ? "her" : "him");
			V(d, C_PHONE, "%s", rphone(r, c->relphone, ph, sizeof ph));
			T(d, " to schedule.</p>\n");
		} else {
			T(d, "<p>Please call the patient at ");
			Vphone(d, r, c->cell, C_PHONE);
			T(d, " to schedule.</p>\n");
		}
		T(d, "<p>Insurance: %s, subscriber ID ", c->payer);
		V(d, C_HEALTHPLAN, "%s", c->member);
		T(d, ". Chart #");
		V(d, C_MRN, "%s", c->chart);
		T(d, ".</p>\n<p>Sincerely,<br>Dr. ");
		Vdname(d, r, c);
		T(d, ", %s<br>NPI ", c->dcred);
		V(d, C_LICENSE, "%s", c->npi);
		T(d, "<br>%s<br>", c->practice);
		Vdaddr(d, c, "<br>");
		T(d, "<br>Tel ");
		Vphone(d, r, c->pphone, C_PHONE);
		T(d, " &middot; Fax ");
		Vphone(d, r, c->pfax, C_FAX);
		T(d, "</p>\n");
	}
	T(d, "</body>\n</html>\n");
}

/* ------------------------------------------------------------------------ */
/* referral.txt (CRLF): fax cover sheet and referral                         */

static void gen_referral(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	T(d, "FAX COVER SHEET\n\n");
	T(d, "To:    Dr. ");
	V(d, C_NAME, "%s %s", c->sg, c->sf);
	T(d, ", Oral Surgery\nFax:   ");
	Vphone(d, r, rnd_phone(r, c->pcity->area), C_FAX);
	T(d, "\nFrom:  Dr. ");
	Vdname(d, r, c);
	T(d, ", %s - %s\nPhone: ", c->dcred, c->practice);
	V(d, C_PHONE, "%s", rphone(r, c->pphone, ph, sizeof ph));
	T(d, " %s%d\nFax:   ", chance(r, 50) ? "x" : "ext. ", c->ext % 100 + 1);
	Vphone(d, r, c->pfax, C_FAX);
	T(d, "\nDate:  ");
	Vdate_sh(d, r, c->received);
	T(d, "\nPages: %d (including cover)\n\n", rnd_range(r, 2, 5));
	T(d, "RE: ");
	Vpname_lf(d, r, c);
	T(d, "   DOB: ");
	Vdate(d, r, c->dob);
	T(d, "   SSN: ");
	V(d, C_SSN, "%03d%02d%04d", c->ssn_a, c->ssn_g, c->ssn_s);
	T(d, "\nAddress: ");
	Vpaddr(d, c, ", ");
	T(d, "\nCell: ");
	Vphone(d, r, c->cell, C_PHONE);
	if (chance(r, 40)) {
		T(d, "   (travelling - UK mobile ");
		V(d, C_PHONE, "+44 20 7946 0%03d", rnd_range(r, 0, 999));
		T(d, ")");
	}
	T(d, "\n\nReason for referral:\n");
	T(d, "%s ", honorific(c, r));
	V(d, C_NAME, "%s", c->pf);
	T(d, " was seen on ");
	Vdate(d, r, c->dos);
	T(d, " with a non-restorable %s. Please evaluate for extraction, socket graft and "
	     "implant placement (D7140, D7953, D6010). CBCT attached (file ",
	  c->teeth);
	VSH(d, C_DATE, "%.8s", c->stamp);
	T(d, "%s_CBCT.dcm).\n\n", c->stamp + 8);
	T(d, "Medical history: %s\n", PICK(r, history_lines));
	T(d, "Medications: %s\n", chance(r, 50) ? "lisinopril 10 mg, atorvastatin 20 mg" : "none reported");
	T(d, "Insurance: %s  Member ID: ", c->payer);
	V(d, C_HEALTHPLAN, "%s", c->member);
	if (c->age >= 65) {
		T(d, "  Medicare MBI: ");
		V(d, C_HEALTHPLAN, "%s", c->mbi);
	}
	T(d, "\n\n");
	if (c->minor) {
		T(d, "Guardian: ");
		V(d, C_NAME, "%s %s", c->rg, c->rf);
		T(d, " (%s), phone ", c->relrole);
		V(d, C_PHONE, "%s", rphone(r, c->relphone, ph, sizeof ph));
		T(d, "\n\n");
	}
	T(d, "Existing implant on the opposite side: %s %s, Serial No. ", c->implant, c->isize);
	V(d, C_DEVICE, "%s", c->serial);
	T(d, ", placed ");
	Vdate_sh(d, r, c->surgery);
	T(d, ".\n\nPlease send your report to ");
	V(d, C_EMAIL, "%s", c->pemail);
	T(d, " or fax it back. Thank you.\n\n");
	T(d, "CONFIDENTIALITY NOTICE: This facsimile contains protected health information. If you "
	     "received it in error, call the sender and destroy all copies.\n");
}

/* ------------------------------------------------------------------------ */
/* export.txt (UTF-16LE with BOM, CRLF): practice-management / scanner export */

static void gen_export(struct doc *d, struct rng *r, const struct casedata *c)
{
	char ph[40];
	T(d, "; %s patient export\n; generated by the scan station, do not edit\n\n", c->scanner_model);
	T(d, "[Patient]\nPatientName=");
	Vpname_dicom(d, c);
	T(d, "\nPatientID=");
	V(d, C_MRN, "%s", c->mrn);
	T(d, "\nBirthDate=");
	V(d, C_DATE, "%04d%02d%02d", c->dob.y, c->dob.m, c->dob.d);
	T(d, "\nDOB=");
	Vdate_style(d, c->dob, DF_MDY, M_DEFAULT);
	T(d, "\nSex=%s\n", c->female ? "F" : "M");
	if (c->age >= 90) {
		T(d, "Age=");
		V(d, C_AGE, "%d", c->age);
		T(d, "\n");
	}
	T(d, "Street=");
	V(d, C_ADDRESS, "%s", c->street);
	T(d, "\nCity=");
	V(d, C_ADDRESS, "%s", c->city->name);
	T(d, "\nState=%s\nZip=", c->city->state);
	V(d, C_ZIP, "%s", c->zip);
	T(d, "\nPhone=");
	V(d, C_PHONE, "%s", rphone(r, c->home, ph, sizeof ph));
	T(d, "\nEmail=");
	V(d, C_EMAIL, "%s", c->email);
	T(d, "\n\n[Doctor]\nName=Dr. ");
	Vdname(d, r, c);
	T(d, "\nNPI=");
	V(d, C_LICENSE, "%s", c->npi);
	T(d, "\nPractice=%s\n\n", c->practice);
	T(d, "[Scan]\nDevice=%s\nSerial No.=", c->scanner_model);
	V(d, C_DEVICE, "%s", c->scanner_sn);
	T(d, "\nSoftware=22.1.4\nFirmware=v1.%d.%d.%d\nTimestamp=", rnd_range(r, 2, 12),
	  rnd_range(r, 0, 9), rnd_range(r, 100, 250));
	VSH(d, C_DATE, "%.8s", c->stamp);
	T(d, "%s\nScanDate=", c->stamp + 8);
	Vdate_style(d, c->scan, DF_ISO, M_DEFAULT);
	T(d, "\nHostIP=");
	V(d, C_IP, "%s", c->ip4);
	T(d, "\nHostIPv6=");
	V(d, C_IP, "%s", c->ip6);
	T(d, "\nOrderGUID=%s\nCase #=", c->guid);
	V(d, C_ID, "%s", c->casenum);
	T(d, "\n\n[Restoration]\nTeeth=%s\nShade=%s\nStumpShade=%s\nMaterial=%s\nCode=%s\n",
	  c->teeth, c->shade, c->stump, c->proc->material, c->proc->cdt);
	T(d, "Notes=%s\n\n[Files]\n", PICK(r, instr_lines));
	static const char *const parts[] = {"UpperJaw", "LowerJaw", "Bite", "Preparation", "Antagonist"};
	int nf = rnd_range(r, 2, 5);
	for (int i = 0; i < nf; i++) {
		T(d, "File%d=", i + 1);
		VSH(d, C_DATE, "%.8s", c->stamp);
		T(d, "%s_%s.ply\n", c->stamp + 8, parts[i]);
	}
	T(d, "Checksum=%s\n", c->sha);
}

/* ------------------------------------------------------------------------ */
/* letter.txt (Windows-1252): letter to the patient                         */

static void gen_letter(struct doc *d, struct rng *r, const struct casedata *c)
{
	T(d, "%s\n", c->practice);
	Vdaddr(d, c, "\n");
	T(d, "\nTel. ");
	Vphone(d, r, c->pphone, C_PHONE);
	T(d, "\n\n");
	Vdate_sh(d, r, c->ship);
	T(d, "\n\n");
	Vpname(d, r, c);
	T(d, "\n");
	Vpaddr(d, c, "\n");
	T(d, "\n\nDear %s ", honorific(c, r));
	V(d, C_NAME, "%s", c->pf);
	T(d, ",\n\n");
	T(d, "Thank you for choosing our practice. This letter confirms your treatment plan from "
	     "your visit on ");
	Vdate(d, r, c->dos);
	T(d, ":\n\n");
	T(d, "  \xe2\x80\xa2 %s %s on %s, shade %s \xe2\x80\x93 ", c->proc->cdt, c->proc->desc, c->teeth, c->shade);
	T_price(d, c->price_cents);
	T(d, "\n  \xe2\x80\xa2 Seat appointment: ");
	Vdate(d, r, c->appt);
	T(d, " at ");
	T_time(d, r);
	T(d, "\n  \xe2\x80\xa2 Estimated insurance portion (%s, member ID ", c->payer);
	V(d, C_HEALTHPLAN, "%s", c->member);
	T(d, "): 50%%\n\nFull treatment plan:\n");
	T_txplan(d, r, c, 3, rnd_range(r, 2, 4));
	T(d, "\nAfter your appointment, avoid chewing on the temporary crown, brush gently and "
	     "floss by sliding the floss out sideways. Some sensitivity to cold is normal for a "
	     "few days. If the temporary comes off, keep it and call us the same day.\n\n");
	T(d, "Your crown will be made by %s from %s. The lab\xe2\x80\x99s certificate "
	     "(ISO 13485:2016) and the material lot (LOT %s) will be kept in your chart ",
	  c->lab, c->proc->material, c->lot);
	V(d, C_MRN, "%s", c->chart);
	T(d, ".\n\n");
	if (c->minor) {
		T(d, "As %s, ", c->relrole);
		V(d, C_NAME, "%s %s", c->rg, c->rf);
		T(d, " must sign the consent form before treatment.\n\n");
	}
	T(d, "If you have questions, reply to ");
	V(d, C_EMAIL, "%s", c->pemail);
	T(d, " or call us. We look forward to seeing you, ");
	V(d, C_NAME, "%s", c->pg);
	T(d, ".\n\nKind regards,\n\nDr. ");
	Vdname(d, r, c);
	T(d, ", %s\n", c->dcred);
}

/* ------------------------------------------------------------------------ */
/* report.rtf: surgical report as RTF with plain runs                        */

static void gen_rtf(struct doc *d, struct rng *r, const struct casedata *c)
{
	T(d, "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Arial;}{\\f1\\froman Times New Roman;}}\n");
	T(d, "{\\info{\\title Surgical report}{\\author %s}}\n", c->practice);
	T(d, "\\viewkind4\\uc1\\pard\\f0\\fs28\\b Surgical Report\\b0\\fs22\\par\n\\par\n");
	T(d, "Patient: {\\b ");
	Vpname(d, r, c);
	T(d, "}\\par\nDOB: ");
	Vdate(d, r, c->dob);
	T(d, "\\tab MRN: ");
	V(d, C_MRN, "%s", c->mrn);
	T(d, "\\par\nSurgeon: Dr. ");
	V(d, C_NAME, "%s %s", c->sg, c->sf);
	T(d, "\\par\nReferring: Dr. ");
	Vdname(d, r, c);
	T(d, " (NPI ");
	V(d, C_LICENSE, "%s", c->npi);
	T(d, ")\\par\n\\par\n");
	T(d, "{\\b Procedure}\\par\nSurgery on ");
	Vdate(d, r, c->surgery);
	T(d, ": extraction of %s, ridge preservation, delayed implant. Implant %s %s, LOT %s, "
	     "REF %s, torque %d Ncm.\\par\n",
	  c->teeth, c->implant, c->isize, c->lot, c->ref, c->torque);
	T(d, "UDI: ");
	Vudi(d, r, c);
	T(d, "\\par\nThe patient (");
	T_age_prose(d, r, c);
	T(d, ") tolerated the procedure well.\\par\n");
	T(d, "Post-op visit ");
	Vdate(d, r, date_add(c->surgery, 7));
	T(d, ".\\par\n\\par\n{\\i %s}\\par\n", PICK(r, history_lines));
	T(d, "{\\b Findings}\\par\n");
	T_perio(d, r, "");
	T(d, "\\par\n{\\b Restorative plan}\\par\n");
	T_txplan(d, r, c, 3, rnd_range(r, 2, 4));
	T(d, "\\par\n%s\\par\n", PICK(r, instr_lines));
	T(d, "Contact: ");
	Vphone(d, r, c->home, C_PHONE);
	T(d, "\\par\n");
	T(d, "{\\f1 Fee: ");
	T_price(d, c->price_cents + 180000);
	T(d, " (D6010, D7953)}\\par\n}\n");
}

/* ------------------------------------------------------------------------ */
/* gencase cases                                                             */

typedef void (*docgen_fn)(struct doc *, struct rng *, const struct casedata *);

struct filespec {
	const char *name;
	docgen_fn gen;
	int cs, crlf;
};

struct gen_state {
	struct buf truth;
	struct buf names;   /* truth-names.tsv: identifiers in file names */
	struct doc d;
	struct buf enc;
	struct span *sp;
	size_t capsp;
	long files, rows;
	long per_class[NCLS][2];
};

/* A scan file whose name carries the patient, the way practice software names
 * exports: "Last_First_2025-07-24_UpperJaw.stl" (rules and the case sweep),
 * "FirstLast_lower.stl" and "s10- <MRN>.stl" (the case sweep: the patient is named
 * in the case's order files).  Its content is clean; truth-names.tsv lists the spans
 * of the base name (path, start, end, class, mode: default rows are also expected
 * under --safe-harbor). */
static void gen_named_file(struct gen_state *g, const char *outdir, const char *dir, long k,
                           const struct casedata *c)
{
	char base[256], path[4096];
	static const char body[] = "solid part\nendsolid part\n";
	int kind = (int)(k % 3);
	if (!g->names.n)
		b_puts(&g->names, "path\tstart\tend\tclass\tmode\n");
	if (kind == 0)
		snprintf(base, sizeof base, "%s_%s_%04d-%02d-%02d_UpperJaw.stl", c->pf, c->pg,
		         c->scan.y, c->scan.m, c->scan.d);
	else if (kind == 1)
		snprintf(base, sizeof base, "%s%s_lower.stl", c->pg, c->pf);
	else
		snprintf(base, sizeof base, "s10- %s.stl", c->mrn);
	snprintf(path, sizeof path, "%s/%s/scan", outdir, dir);
	mkdir_p(path);
	snprintf(path, sizeof path, "%s/%s/scan/%s", outdir, dir, base);
	write_file(path, body, sizeof body - 1);
	g->files++;
	size_t nf = strlen(c->pf), ng = strlen(c->pg);
	if (kind == 0) {
		b_printf(&g->names, "%s/scan/%s\t0\t%zu\tname\tdefault\n", dir, base, nf + 1 + ng);
		/* an uncued date is reported under --safe-harbor, as in any other text */
		b_printf(&g->names, "%s/scan/%s\t%zu\t%zu\tdate\tsafe_harbor\n", dir, base,
		         nf + ng + 2, nf + ng + 12);
	} else if (kind == 1) {
		b_printf(&g->names, "%s/scan/%s\t0\t%zu\tname\tdefault\n", dir, base, nf + ng);
	} else {
		b_printf(&g->names, "%s/scan/%s\t5\t%zu\tmrn\tdefault\n", dir, base,
		         5 + strlen(c->mrn));
	}
}

static void emit_file(struct gen_state *g, const char *outdir, const char *rel,
                      const struct filespec *fs, struct rng *r, const struct casedata *c)
{
	char path[4096];
	d_reset(&g->d);
	fs->gen(&g->d, r, c);
	if (g->capsp < g->d.nsp + 1) {
		g->capsp = g->d.nsp + 16;
		g->sp = xrealloc(g->sp, g->capsp * sizeof *g->sp);
	}
	if (fs->cs == CS_RAW) {
		g->enc.n = 0;
		b_put(&g->enc, g->d.b.p, g->d.b.n);
		memcpy(g->sp, g->d.sp, g->d.nsp * sizeof *g->sp);
	} else {
		encode_doc(&g->d, fs->cs, fs->crlf, &g->enc, g->sp);
	}
	snprintf(path, sizeof path, "%s/%s", outdir, rel);
	char *slash = strrchr(path, '/');
	if (slash) {
		*slash = 0;
		mkdir_p(path);
		*slash = '/';
	}
	write_file(path, g->enc.p, g->enc.n);
	g->files++;
	for (size_t i = 0; i < g->d.nsp; i++) {
		const struct span *s = &g->sp[i];
		b_printf(&g->truth, "%s\t%zu\t%zu\t%s\t%s\n", rel, s->start, s->end, cls_names[s->cls],
		         mode_names[s->mode]);
		g->rows++;
		g->per_class[s->cls][s->mode]++;
	}
}

static const struct filespec base_files[] = {
	{"rx.txt", gen_rx, CS_UTF8, 0},
	{"notes.md", gen_notes, CS_UTF8, 0},
	{"ticket.csv", gen_ticket, CS_UTF8, 0},
	{"order.json", gen_json, CS_UTF8, 0},
	{"order.xml", gen_xml, CS_UTF8, 0},
	{"form.html", gen_html, CS_UTF8, 0},
};

/* Optional documents in other encodings; case k always gets extra_files[(k - 1) % 4]. */
static const struct filespec extra_files[] = {
	{"letter.txt", gen_letter, CS_CP1252, 0},   /* Windows-1252, accented patient name */
	{"export.txt", gen_export, CS_UTF16LE, 1},  /* UTF-16LE with BOM, CRLF */
	{"referral.txt", gen_referral, CS_UTF8, 1}, /* CRLF */
	{"report.rtf", gen_rtf, CS_RTF, 0},
};
static const int extra_pct[] = {20, 25, 30, 25};

/* Binary media, one file per spec and case (CS_RAW: generators write bytes and
 * spans into the doc directly).  gen_index is the file's index among the specs, for
 * generators that vary by it (slices of a series). */
static int gen_index;
#include "gen_dicom.c"
#include "gen_mesh.c"
#include "gen_image.c"
#include "gen_case.c"

static const struct filespec media_files[] = {
	GEN_DICOM_FILES
	GEN_MESH_FILES
	GEN_IMAGE_FILES
	GEN_MESH_FILES_LATE
	GEN_CASE_FILES
	{NULL, NULL, 0, 0},
};

#include "gen_archive.c"

static int cmd_cases(int argc, char **argv)
{
	const char *outdir = NULL;
	long seed = 1, ncases = 60;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = parse_long(argv[++i], "--seed", 0, LONG_MAX);
		else if (!strcmp(argv[i], "--cases") && i + 1 < argc)
			ncases = parse_long(argv[++i], "--cases", 1, 100000);
		else if (argv[i][0] == '-' || outdir)
			die("usage: gencase cases OUTDIR [--seed N] [--cases N]");
		else
			outdir = argv[i];
	}
	if (!outdir)
		die("usage: gencase cases OUTDIR [--seed N] [--cases N]");
	mkdir_p(outdir);
	struct gen_state g;
	memset(&g, 0, sizeof g);
	b_puts(&g.truth, "path\tstart\tend\tclass\tmode\n");
	for (long k = 1; k <= ncases; k++) {
		struct rng r = rng_make((uint64_t)seed, (uint64_t)k);
		int extra[NELEM(extra_files)];
		for (size_t e = 0; e < NELEM(extra_files); e++)
			extra[e] = (size_t)(k - 1) % NELEM(extra_files) == e || chance(&r, extra_pct[e]);
		struct casedata c;
		gen_case(&c, (int)k, &r, extra[0]);
		char dir[64], rel[128], path[4096];
		snprintf(dir, sizeof dir, "case-%03ld", k);
		snprintf(path, sizeof path, "%s/%s", outdir, dir);
		mkdir_p(path);
		for (size_t f = 0; f < NELEM(base_files); f++) {
			struct rng fr = rng_make((uint64_t)seed, (uint64_t)k * 64 + f + 1);
			snprintf(rel, sizeof rel, "%s/%s", dir, base_files[f].name);
			emit_file(&g, outdir, rel, &base_files[f], &fr, &c);
		}
		for (size_t f = 0; f < NELEM(extra_files); f++) {
			if (!extra[f])
				continue;
			struct rng fr = rng_make((uint64_t)seed, (uint64_t)k * 64 + 32 + f);
			snprintf(rel, sizeof rel, "%s/%s", dir, extra_files[f].name);
			emit_file(&g, outdir, rel, &extra_files[f], &fr, &c);
		}
		for (size_t f = 0; media_files[f].name; f++) {
			struct rng fr = rng_make((uint64_t)seed, (uint64_t)k * 1024 + 512 + f);
			gen_index = (int)f;
			snprintf(rel, sizeof rel, "%s/%s", dir, media_files[f].name);
			emit_file(&g, outdir, rel, &media_files[f], &fr, &c);
		}
		gen_archive_case(&g, outdir, dir, seed, k, &c);
		gen_named_file(&g, outdir, dir, k, &c);
	}
	char tpath[4096];
	snprintf(tpath, sizeof tpath, "%s/truth.tsv", outdir);
	write_file(tpath, g.truth.p, g.truth.n);
	snprintf(tpath, sizeof tpath, "%s/truth-names.tsv", outdir);
	write_file(tpath, g.names.p, g.names.n);
	printf("gencase: %ld cases, %ld files, %ld truth rows in %s (seed %ld)\n", ncases, g.files,
	       g.rows, outdir, seed);
	for (int i = 0; i < NCLS; i++)
		if (g.per_class[i][0] || g.per_class[i][1])
			printf("  %-11s %5ld default %5ld safe_harbor\n", cls_names[i], g.per_class[i][0],
			       g.per_class[i][1]);
	gen_dicom_finish(outdir);
	b_free(&g.truth);
	b_free(&g.names);
	b_free(&g.enc);
	d_free(&g.d);
	free(g.sp);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* gencase bench                                                             */

/* Streams freshly generated UTF-8 documents (the six base types, cases of their own
 * seed) into a buffer; the bench writes them out in slices. */
struct docstream {
	uint64_t seed;
	long caseno;
	size_t next; /* next base document of the current case */
	struct casedata c;
	struct doc d;
};

static void ds_next(struct docstream *s, struct buf *out)
{
	if (s->caseno == 0 || s->next == NELEM(base_files)) {
		s->caseno++;
		s->next = 0;
		struct rng r = rng_make(s->seed, (uint64_t)s->caseno);
		gen_case(&s->c, (int)s->caseno, &r, chance(&r, 5));
	}
	struct rng fr = rng_make(s->seed, (uint64_t)s->caseno * 64 + s->next + 1);
	d_reset(&s->d);
	base_files[s->next].gen(&s->d, &fr, &s->c);
	s->next++;
	b_put(out, s->d.b.p, s->d.b.n);
	b_puts(out, "\n");
}

static int cmd_bench(int argc, char **argv)
{
	const char *outdir = NULL;
	long seed = 1, mb = 150, nfiles = 20000;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = parse_long(argv[++i], "--seed", 0, LONG_MAX);
		else if (!strcmp(argv[i], "--mb") && i + 1 < argc)
			mb = parse_long(argv[++i], "--mb", 1, 100000);
		else if (!strcmp(argv[i], "--files") && i + 1 < argc)
			nfiles = parse_long(argv[++i], "--files", 1, 10000000);
		else if (argv[i][0] == '-' || outdir)
			die("usage: gencase bench OUTDIR [--seed N] [--mb N] [--files N]");
		else
			outdir = argv[i];
	}
	if (!outdir)
		die("usage: gencase bench OUTDIR [--seed N] [--mb N] [--files N]");
	const size_t total = (size_t)mb << 20;
	char path[4096];
	struct docstream ds;
	memset(&ds, 0, sizeof ds);
	struct buf chunk = {0};

	/* one large file */
	ds.seed = mix64((uint64_t)seed) ^ 0xB16F11E5ULL;
	snprintf(path, sizeof path, "%s/large", outdir);
	mkdir_p(path);
	snprintf(path, sizeof path, "%s/large/notes.txt", outdir);
	FILE *f = fopen(path, "wb");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	size_t written = 0;
	while (written < total) {
		chunk.n = 0;
		while (chunk.n < (1u << 20))
			ds_next(&ds, &chunk);
		size_t n = chunk.n;
		if (n > total - written)
			n = total - written;
		if (fwrite(chunk.p, 1, n, f) != n)
			die("write error on %s", path);
		written += n;
	}
	if (fclose(f) != 0)
		die("write error on %s", path);

	/* many small files, about the same total */
	ds.seed = mix64((uint64_t)seed) ^ 0x5A11F11E5ULL;
	ds.caseno = 0;
	long ndirs = nfiles < 100 ? nfiles : 100;
	long per_dir = (nfiles + ndirs - 1) / ndirs;
	size_t per_file = total / (size_t)nfiles;
	if (per_file < 64)
		per_file = 64;
	size_t small_total = 0;
	struct buf pending = {0};
	size_t pos = 0;
	for (long i = 0; i < nfiles; i++) {
		if (i % per_dir == 0) {
			snprintf(path, sizeof path, "%s/small/d%03ld", outdir, i / per_dir);
			mkdir_p(path);
		}
		/* vary sizes +-50% around the mean, cutting at a line end */
		struct rng r = rng_make(ds.seed, (uint64_t)i);
		size_t want = per_file / 2 + rnd_below(&r, (unsigned)(per_file > 1 ? per_file : 1));
		while (pending.n - pos < want + 4096) {
			if (pos) {
				memmove(pending.p, pending.p + pos, pending.n - pos);
				pending.n -= pos;
				pos = 0;
			}
			ds_next(&ds, &pending);
		}
		const char *nl = memchr(pending.p + pos + want, '\n', pending.n - pos - want);
		size_t n = nl ? (size_t)(nl - (pending.p + pos)) + 1 : want;
		snprintf(path, sizeof path, "%s/small/d%03ld/file%05ld.txt", outdir, i / per_dir, i);
		write_file(path, pending.p + pos, n);
		pos += n;
		small_total += n;
	}
	printf("gencase bench: %s/large/notes.txt %.1f MB; %s/small: %ld files in %ld dirs, %.1f MB\n",
	       outdir, (double)written / 1048576.0, outdir, nfiles, ndirs, (double)small_total / 1048576.0);
	b_free(&chunk);
	b_free(&pending);
	d_free(&ds.d);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading truth.tsv                                                         */

static int read_whole(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	out->n = 0;
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		b_put(out, tmp, n);
	int err = ferror(f);
	fclose(f);
	if (!out->p)
		b_reserve(out, 0);
	return err ? -1 : 0;
}

struct trow {
	char *path;
	size_t start, end;
	int cls, mode, hit, line;
};

/* Class names seen in truth or findings: the built-in ones first, then any others. */
struct classtab {
	char **name;
	int n, cap;
};

static int class_index(struct classtab *ct, const char *name)
{
	for (int i = 0; i < ct->n; i++)
		if (!strcmp(ct->name[i], name))
			return i;
	if (ct->n == ct->cap) {
		ct->cap = ct->cap ? ct->cap * 2 : 32;
		ct->name = xrealloc(ct->name, (size_t)ct->cap * sizeof *ct->name);
	}
	size_t len = strlen(name) + 1;
	ct->name[ct->n] = xrealloc(NULL, len);
	memcpy(ct->name[ct->n], name, len);
	return ct->n++;
}

static void classtab_init(struct classtab *ct)
{
	memset(ct, 0, sizeof *ct);
	for (int i = 0; i < NCLS; i++)
		class_index(ct, cls_names[i]);
}

/* Split one TSV line in place into at most max fields; returns the field count. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Read truth rows; returns the count or -1 when the file cannot be read.  Bad lines
 * are reported and counted in *bad. */
static long read_truth(const char *path, struct classtab *ct, struct trow **rows, long *bad)
{
	struct buf b = {0};
	if (read_whole(path, &b) != 0) {
		b_free(&b);
		return -1;
	}
	long n = 0, cap = 0, lineno = 0;
	*rows = NULL;
	*bad = 0;
	char *p = b.p, *end = b.p + b.n;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		lineno++;
		char *line = p;
		p = nl + 1;
		if (lineno == 1 && !strncmp(line, "path\t", 5))
			continue;
		if (!*line)
			continue;
		char *f[6];
		int nf = split_tabs(line, f, 6);
		struct trow t = {0};
		int mode = -1;
		if (nf == 5) {
			if (!strcmp(f[4], "default"))
				mode = M_DEFAULT;
			else if (!strcmp(f[4], "safe_harbor"))
				mode = M_SAFE_HARBOR;
		}
		if (nf != 5 || mode < 0 || !*f[0] || !*f[3] || parse_size(f[1], &t.start) ||
		    parse_size(f[2], &t.end)) {
			fprintf(stderr, "gencase: %s:%ld: malformed truth row\n", path, lineno);
			(*bad)++;
			continue;
		}
		size_t len = strlen(f[0]) + 1;
		t.path = xrealloc(NULL, len);
		memcpy(t.path, f[0], len);
		t.cls = class_index(ct, f[3]);
		t.mode = mode;
		t.line = (int)lineno;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			*rows = xrealloc(*rows, (size_t)cap * sizeof **rows);
		}
		(*rows)[n++] = t;
	}
	b_free(&b);
	return n;
}

/* ------------------------------------------------------------------------ */
/* gencase check                                                             */

static int cmd_check(int argc, char **argv)
{
	if (argc != 1)
		die("usage: gencase check OUTDIR");
	char tpath[4096], fpath[4096];
	snprintf(tpath, sizeof tpath, "%s/truth.tsv", argv[0]);
	struct classtab ct;
	classtab_init(&ct);
	struct trow *rows;
	long bad;
	long n = read_truth(tpath, &ct, &rows, &bad);
	if (n < 0) {
		fprintf(stderr, "gencase: cannot read %s: %s\n", tpath, strerror(errno));
		return 2;
	}
	struct buf file = {0};
	const char *loaded = NULL;
	int loaded_ok = 0;
	long nfiles = 0;
	for (long i = 0; i < n; i++) {
		const struct trow *t = &rows[i];
		const char *why = NULL;
		if (!loaded || strcmp(loaded, t->path)) {
			snprintf(fpath, sizeof fpath, "%s/%s", argv[0], t->path);
			loaded = t->path;
			loaded_ok = (strstr(t->path, "!/") ? gen_zip_read(argv[0], t->path, &file)
			                                   : read_whole(fpath, &file)) == 0;
			nfiles++;
		}
		int utf16 = loaded_ok && file.n >= 2 && (unsigned char)file.p[0] == 0xFF &&
		            (unsigned char)file.p[1] == 0xFE;
		if (!loaded_ok)
			why = "file unreadable";
		else if (t->cls >= NCLS)
			why = "unknown class";
		else if (t->end <= t->start)
			why = "empty span";
		else if (t->end > file.n)
			why = "span past end of file";
		else if (utf16 && (t->start % 2 || t->end % 2 || t->start < 2))
			why = "UTF-16 span not on a code unit";
		else if (utf16) {
			for (size_t k = t->start; k < t->end; k += 2)
				if ((file.p[k] == '\n' || file.p[k] == '\r') && file.p[k + 1] == 0)
					why = "newline inside span";
		} else if (memchr(file.p + t->start, '\n', t->end - t->start) ||
		           memchr(file.p + t->start, '\r', t->end - t->start)) {
			why = "newline inside span";
		}
		if (why) {
			fprintf(stderr, "gencase: truth.tsv:%d: %s:%zu-%zu %s: %s\n", t->line, t->path, t->start,
			        t->end, ct.name[t->cls], why);
			bad++;
		}
	}
	printf("gencase check: %ld rows, %ld files, %ld bad\n", n, nfiles, bad);
	for (long i = 0; i < n; i++)
		free(rows[i].path);
	free(rows);
	b_free(&file);
	for (int i = 0; i < ct.n; i++)
		free(ct.name[i]);
	free(ct.name);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* gencase eval                                                              */

/* A tolerant reader for one JSON Lines object: only top-level keys are looked at;
 * strings are unescaped, numbers read plainly, anything else skipped. */
static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static void utf8_put(struct buf *b, unsigned cp)
{
	char o[4];
	if (cp < 0x80) {
		b_putc(b, (char)cp);
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		b_put(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		b_put(b, o, 3);
	} else {
		o[0] = (char)(0xF0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		b_put(b, o, 4);
	}
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = *v * 16 + (unsigned)d;
	}
	return 0;
}

/* p at '"'; decodes into out (when not NULL); returns the position after the closing quote. */
static const char *js_string(const char *p, struct buf *out)
{
	if (out)
		out->n = 0;
	p++;
	while (*p && *p != '"') {
		if (*p == '\\' && p[1]) {
			char e = p[1];
			p += 2;
			unsigned cp;
			switch (e) {
			case 'n': cp = '\n'; break;
			case 't': cp = '\t'; break;
			case 'r': cp = '\r'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'u':
				if (hex4(p, &cp) != 0)
					return NULL;
				p += 4;
				if (cp >= 0xD800 && cp < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
					unsigned lo;
					if (hex4(p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						p += 6;
					}
				}
				break;
			default: cp = (unsigned char)e; break;
			}
			if (out)
				utf8_put(out, cp);
		} else {
			if (out)
				b_putc(out, *p);
			p++;
		}
	}
	if (out && !out->p)
		b_reserve(out, 0);
	return *p == '"' ? p + 1 : NULL;
}

/* Skip one value (string, number, literal, object or array); returns the position after it. */
static const char *js_skip(const char *p)
{
	p = js_ws(p);
	if (*p == '"')
		return js_string(p, NULL);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		while (*p) {
			if (*p == '"') {
				if (!(p = js_string(p, NULL)))
					return NULL;
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
			p++;
		}
		return NULL;
	}
	while (*p && *p != ',' && *p != '}' && *p != ']')
		p++;
	return p;
}

struct finding {
	char *path; /* as printed by phiscan */
	int file;   /* index into the truth files, -1 when no truth file matches */
	size_t start, end;
	int cls, tp;
};

/* Parse the keys we need from one line; returns 1 for a finding, 0 otherwise. */
static int parse_finding(const char *line, struct buf *path, struct buf *cls, size_t *start, size_t *end)
{
	struct buf key = {0}, val = {0};
	int is_finding = 0, have = 0, ok = 0;
	const char *p = js_ws(line);
	if (*p != '{')
		goto out;
	p++;
	for (;;) {
		p = js_ws(p);
		if (*p == '}')
			break;
		if (*p != '"' || !(p = js_string(p, &key)))
			goto out;
		p = js_ws(p);
		if (*p != ':')
			goto out;
		p = js_ws(p + 1);
		if (*p == '"') {
			if (!(p = js_string(p, &val)))
				goto out;
			if (!strcmp(key.p, "type"))
				is_finding = !strcmp(val.p, "finding");
			else if (!strcmp(key.p, "path")) {
				path->n = 0;
				b_put(path, val.p, val.n);
				have |= 1;
			} else if (!strcmp(key.p, "class")) {
				cls->n = 0;
				b_put(cls, val.p, val.n);
				have |= 2;
			}
		} else if ((!strcmp(key.p, "start") || !strcmp(key.p, "end")) && isdigit((unsigned char)*p)) {
			char *e;
			unsigned long long v = strtoull(p, &e, 10);
			if (!strcmp(key.p, "start")) {
				*start = (size_t)v;
				have |= 4;
			} else {
				*end = (size_t)v;
				have |= 8;
			}
			p = e;
		} else if (!(p = js_skip(p))) {
			goto out;
		}
		p = js_ws(p);
		if (*p == ',')
			p++;
		else if (*p == '}')
			break;
		else
			goto out;
	}
	ok = is_finding && have == 15;
out:
	b_free(&key);
	b_free(&val);
	return ok;
}

/* Truth files: path -> index, by open addressing on a string hash. */
struct filetab {
	char **path;
	long *first, *count; /* rows of the file in the (path-sorted) truth array */
	long n;
	long *slot;
	size_t nslot;
};

static uint64_t str_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static long filetab_find(const struct filetab *ft, const char *s, size_t n)
{
	size_t i = (size_t)str_hash(s, n) & (ft->nslot - 1);
	while (ft->slot[i] >= 0) {
		const char *p = ft->path[ft->slot[i]];
		if (strlen(p) == n && !memcmp(p, s, n))
			return ft->slot[i];
		i = (i + 1) & (ft->nslot - 1);
	}
	return -1;
}

/* Match a finding path to a truth file: the whole path or its suffix after any '/'. */
static long match_path(const struct filetab *ft, const char *path)
{
	size_t n = strlen(path);
	long f = filetab_find(ft, path, n);
	for (size_t i = 0; f < 0 && i < n; i++)
		if (path[i] == '/' || path[i] == '\\')
			f = filetab_find(ft, path + i + 1, n - i - 1);
	return f;
}

static int cmp_trow(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line - y->line;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->file < 0) {
		int c = strcmp(x->path, y->path);
		if (c)
			return c;
	}
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* Print the bytes of a span for --show-values: UTF-16LE shows ASCII code units and '?'
 * for the rest; other files show printable ASCII and valid UTF-8, '?' otherwise. */
static void show_value(const char *path, size_t start, size_t end)
{
	struct buf b = {0};
	if (read_whole(path, &b) != 0 || start >= end || end > b.n) {
		printf("  (unavailable)");
		b_free(&b);
		return;
	}
	if (end - start > 200)
		end = start + 200;
	int utf16 = b.n >= 2 && (unsigned char)b.p[0] == 0xFF && (unsigned char)b.p[1] == 0xFE;
	fputs("  \"", stdout);
	if (utf16) {
		for (size_t i = start & ~(size_t)1; i + 1 < end; i += 2) {
			unsigned u = (unsigned char)b.p[i] | ((unsigned)(unsigned char)b.p[i + 1] << 8);
			putchar(u >= 0x20 && u < 0x7F ? (int)u : '?');
		}
	} else {
		for (size_t i = start; i < end;) {
			unsigned char c = (unsigned char)b.p[i];
			size_t len = 1;
			if (c >= 0x20 && c < 0x7F) {
				putchar(c);
			} else if (c >= 0xC2 && c < 0xF5) {
				len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
				int valid = i + len <= end;
				for (size_t k = 1; valid && k < len; k++)
					valid = ((unsigned char)b.p[i + k] & 0xC0) == 0x80;
				if (valid)
					fwrite(b.p + i, 1, len, stdout);
				else {
					putchar('?');
					len = 1;
				}
			} else {
				putchar('?');
			}
			i += len;
		}
	}
	putchar('"');
	b_free(&b);
}

static void pct(char *out, size_t cap, long num, long den)
{
	if (den == 0)
		snprintf(out, cap, "-");
	else
		snprintf(out, cap, "%.1f%%", 100.0 * (double)num / (double)den);
}

/* The kind of a file for the per-format table: its extension ("dentalProject",
 * "3ox", "json"), or "-" without one. */
static const char *file_kind(const char *path, char *out, size_t cap)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	const char *dot = strrchr(b, '.');
	snprintf(out, cap, "%s", dot && dot[1] ? dot + 1 : "-");
	return out;
}

/* Recall and precision per file kind (issue 6: figures per format). */
static void eval_by_kind(const struct trow *rows, long nrows, const struct finding *fs, long nf,
                         const struct filetab *ft, int safe_harbor)
{
	enum { MAXK = 64 };
	char kinds[MAXK][32], k[32];
	long tr[MAXK] = {0}, rc[MAXK] = {0}, fn[MAXK] = {0}, tp[MAXK] = {0};
	int nk = 0;
	for (long pass = 0; pass < 2; pass++) {
		long n = pass ? nf : nrows;
		for (long i = 0; i < n; i++) {
			const char *path;
			if (pass)
				path = fs[i].file >= 0 ? ft->path[fs[i].file] : fs[i].path;
			else if (rows[i].mode == M_SAFE_HARBOR && !safe_harbor)
				continue;
			else
				path = rows[i].path;
			file_kind(path, k, sizeof k);
			int j = 0;
			while (j < nk && strcmp(kinds[j], k))
				j++;
			if (j == nk) {
				if (nk == MAXK)
					continue;
				snprintf(kinds[nk++], sizeof kinds[0], "%s", k);
			}
			if (pass) {
				fn[j]++;
				tp[j] += fs[i].tp;
			} else {
				tr[j]++;
				rc[j] += rows[i].hit;
			}
		}
	}
	char r1[16], r2[16];
	printf("\n%-18s %7s %9s %8s %9s %7s %10s\n", "file kind", "truth", "recalled", "recall",
	       "findings", "TP", "precision");
	for (int j = 0; j < nk; j++) {
		pct(r1, sizeof r1, rc[j], tr[j]);
		pct(r2, sizeof r2, tp[j], fn[j]);
		printf("%-18s %7ld %9ld %8s %9ld %7ld %10s\n", kinds[j], tr[j], rc[j], r1, fn[j], tp[j], r2);
	}
}

static int cmd_eval(int argc, char **argv)
{
	const char *truth_path = NULL, *find_path = NULL;
	int safe_harbor = 0, show = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--safe-harbor"))
			safe_harbor = 1;
		else if (!strcmp(argv[i], "--show-values"))
			show = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			die("usage: gencase eval TRUTH.tsv FINDINGS.jsonl [--safe-harbor] [--show-values]");
		else if (!truth_path)
			truth_path = argv[i];
		else if (!find_path)
			find_path = argv[i];
		else
			die("usage: gencase eval TRUTH.tsv FINDINGS.jsonl [--safe-harbor] [--show-values]");
	}
	if (!truth_path || !find_path)
		die("usage: gencase eval TRUTH.tsv FINDINGS.jsonl [--safe-harbor] [--show-values]");

	struct classtab ct;
	classtab_init(&ct);
	struct trow *rows;
	long bad;
	long nrows = read_truth(truth_path, &ct, &rows, &bad);
	if (nrows < 0) {
		fprintf(stderr, "gencase: cannot read %s: %s\n", truth_path, strerror(errno));
		return 2;
	}
	FILE *ff = !strcmp(find_path, "-") ? stdin : fopen(find_path, "r");
	if (!ff) {
		fprintf(stderr, "gencase: cannot read %s: %s\n", find_path, strerror(errno));
		return 2;
	}
	qsort(rows, (size_t)nrows, sizeof *rows, cmp_trow);

	/* truth files */
	struct filetab ft = {0};
	ft.nslot = 64;
	while (ft.nslot < (size_t)nrows * 2 + 2)
		ft.nslot *= 2;
	ft.slot = xrealloc(NULL, ft.nslot * sizeof *ft.slot);
	for (size_t i = 0; i < ft.nslot; i++)
		ft.slot[i] = -1;
	ft.path = xrealloc(NULL, ((size_t)nrows + 1) * sizeof *ft.path);
	ft.first = xrealloc(NULL, ((size_t)nrows + 1) * sizeof *ft.first);
	ft.count = xrealloc(NULL, ((size_t)nrows + 1) * sizeof *ft.count);
	for (long i = 0; i < nrows; i++) {
		if (ft.n && !strcmp(ft.path[ft.n - 1], rows[i].path)) {
			ft.count[ft.n - 1]++;
			continue;
		}
		ft.path[ft.n] = rows[i].path;
		ft.first[ft.n] = i;
		ft.count[ft.n] = 1;
		size_t h = (size_t)str_hash(rows[i].path, strlen(rows[i].path)) & (ft.nslot - 1);
		while (ft.slot[h] >= 0)
			h = (h + 1) & (ft.nslot - 1);
		ft.slot[h] = ft.n++;
	}

	/* findings */
	struct finding *fs = NULL;
	long nf = 0, capf = 0;
	struct buf fpath = {0}, fcls = {0};
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	while ((len = getline(&line, &linecap, ff)) > 0) {
		if (!strstr(line, "finding"))
			continue;
		size_t s = 0, e = 0;
		if (!parse_finding(line, &fpath, &fcls, &s, &e))
			continue;
		if (nf == capf) {
			capf = capf ? capf * 2 : 1024;
			fs = xrealloc(fs, (size_t)capf * sizeof *fs);
		}
		struct finding *f = &fs[nf++];
		f->path = xrealloc(NULL, fpath.n + 1);
		memcpy(f->path, fpath.p, fpath.n + 1);
		f->file = (int)match_path(&ft, f->path);
		f->start = s;
		f->end = e;
		f->cls = class_index(&ct, fcls.p);
		f->tp = 0;
	}
	int read_err = ferror(ff);
	if (ff != stdin)
		fclose(ff);
	free(line);
	b_free(&fpath);
	b_free(&fcls);
	if (read_err) {
		fprintf(stderr, "gencase: read error on %s\n", find_path);
		return 2;
	}
	qsort(fs, (size_t)nf, sizeof *fs, cmp_finding);

	/* overlap: findings of file k are contiguous after sorting */
	for (long i = 0; i < nf;) {
		long j = i;
		while (j < nf && fs[j].file == fs[i].file)
			j++;
		if (fs[i].file >= 0) {
			long a = ft.first[fs[i].file], b = a + ft.count[fs[i].file];
			for (long x = i; x < j; x++)
				for (long y = a; y < b; y++)
					if (fs[x].start < rows[y].end && rows[y].start < fs[x].end) {
						fs[x].tp = 1;
						rows[y].hit = 1;
					}
		}
		i = j;
	}

	/* per-class figures */
	long *tr = calloc((size_t)ct.n, sizeof *tr), *rc = calloc((size_t)ct.n, sizeof *rc);
	long *fn = calloc((size_t)ct.n, sizeof *fn), *tpc = calloc((size_t)ct.n, sizeof *tpc);
	if (!tr || !rc || !fn || !tpc)
		die("out of memory");
	long T_tr = 0, T_rc = 0, T_fn = 0, T_tp = 0, nmiss = 0, nfp = 0, unmatched = 0;
	for (long i = 0; i < nrows; i++) {
		if (rows[i].mode == M_SAFE_HARBOR && !safe_harbor)
			continue;
		tr[rows[i].cls]++;
		T_tr++;
		if (rows[i].hit) {
			rc[rows[i].cls]++;
			T_rc++;
		} else {
			nmiss++;
		}
	}
	for (long i = 0; i < nf; i++) {
		fn[fs[i].cls]++;
		T_fn++;
		if (fs[i].tp) {
			tpc[fs[i].cls]++;
			T_tp++;
		} else {
			nfp++;
		}
		if (fs[i].file < 0)
			unmatched++;
	}
	printf("gencase eval: %ld truth spans (%s), %ld findings%s\n", T_tr,
	       safe_harbor ? "default + safe_harbor" : "default mode", T_fn,
	       bad ? " (truth has malformed rows)" : "");
	printf("%-12s %7s %9s %8s %9s %7s %10s\n", "class", "truth", "recalled", "recall", "findings", "TP",
	       "precision");
	char r1[16], r2[16];
	for (int c = 0; c < ct.n; c++) {
		if (!tr[c] && !fn[c])
			continue;
		pct(r1, sizeof r1, rc[c], tr[c]);
		pct(r2, sizeof r2, tpc[c], fn[c]);
		printf("%-12s %7ld %9ld %8s %9ld %7ld %10s\n", ct.name[c], tr[c], rc[c], r1, fn[c], tpc[c], r2);
	}
	pct(r1, sizeof r1, T_rc, T_tr);
	pct(r2, sizeof r2, T_tp, T_fn);
	printf("%-12s %7ld %9ld %8s %9ld %7ld %10s\n", "TOTAL", T_tr, T_rc, r1, T_fn, T_tp, r2);
	if (unmatched)
		printf("(%ld findings in files without truth rows count as false positives)\n", unmatched);
	eval_by_kind(rows, nrows, fs, nf, &ft, safe_harbor);

	char dir[4096];
	{
		const char *slash = strrchr(truth_path, '/');
		if (slash)
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - truth_path), truth_path);
		else
			snprintf(dir, sizeof dir, ".");
	}
	char full[8192];
	printf("\nmisses (%ld%s):\n", nmiss, nmiss > 20 ? ", first 20" : "");
	for (long i = 0, shown = 0; i < nrows && shown < 20; i++) {
		if (rows[i].hit || (rows[i].mode == M_SAFE_HARBOR && !safe_harbor))
			continue;
		printf("  %s:%zu-%zu %s", rows[i].path, rows[i].start, rows[i].end, ct.name[rows[i].cls]);
		if (rows[i].mode == M_SAFE_HARBOR)
			printf(" (safe_harbor)");
		if (show) {
			snprintf(full, sizeof full, "%s/%s", dir, rows[i].path);
			show_value(full, rows[i].start, rows[i].end);
		}
		putchar('\n');
		shown++;
	}
	printf("\nfalse positives (%ld%s):\n", nfp, nfp > 20 ? ", first 20" : "");
	for (long i = 0, shown = 0; i < nf && shown < 20; i++) {
		if (fs[i].tp)
			continue;
		const char *p = fs[i].file >= 0 ? ft.path[fs[i].file] : fs[i].path;
		printf("  %s:%zu-%zu %s", p, fs[i].start, fs[i].end, ct.name[fs[i].cls]);
		if (show) {
			if (fs[i].file >= 0)
				snprintf(full, sizeof full, "%s/%s", dir, p);
			else
				snprintf(full, sizeof full, "%s", p);
			show_value(full, fs[i].start, fs[i].end);
		}
		putchar('\n');
		shown++;
	}

	for (long i = 0; i < nf; i++)
		free(fs[i].path);
	free(fs);
	for (long i = 0; i < nrows; i++)
		free(rows[i].path);
	free(rows);
	free(ft.path);
	free(ft.first);
	free(ft.count);
	free(ft.slot);
	free(tr);
	free(rc);
	free(fn);
	free(tpc);
	for (int i = 0; i < ct.n; i++)
		free(ct.name[i]);
	free(ct.name);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */

static void usage(FILE *f)
{
	fputs("usage:\n"
	      "  gencase cases OUTDIR [--seed N] [--cases N]\n"
	      "  gencase eval TRUTH.tsv FINDINGS.jsonl [--safe-harbor] [--show-values]\n"
	      "  gencase bench OUTDIR [--seed N] [--mb N] [--files N]\n"
	      "  gencase check OUTDIR\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "cases"))
		return cmd_cases(argc - 2, argv + 2);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "eval"))
		return cmd_eval(argc - 2, argv + 2);
	if (!strcmp(argv[1], "bench"))
		return cmd_bench(argc - 2, argv + 2);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
