/* case.c - identifiers harvested from a case's own files, their variants as token
 * keys in one hash table for all cases and the roster, and file renames.
 * See case.h.
 */
#include "case.h"

#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROSTER SIZE_MAX    /* case index of roster literals: every case */
#define MIN_TOKEN 2        /* a name part shorter than this is not paired */
#define MIN_ID 4           /* an ID shorter than this is too common to sweep */
#define MAX_PENDING 8      /* single-token names held per file for pairing */
#define MAX_CROSS 256      /* name x ID pairs of a case made across its files; past
                              that (a folder of many patients taken as one case)
                              only a name and an ID from one file are paired */

struct ident {
	const char *cls;   /* static class name */
	char *a, *b;       /* a name pair (b != NULL), or one value */
	size_t file;       /* the case's file it was first harvested from */
};

struct mapent {
	char *from, *to;
};

struct kase {
	size_t root;
	char *comp;        /* first component (depth 1), or NULL: the root itself */
	char *name;        /* the name the case is known by */
	struct ident *ids;
	size_t nids, capids;
	char *pending[MAX_PENDING];
	size_t npending;
	size_t nfiles;     /* files harvested so far (ident.file) */
	char *patient;     /* first harvested patient ID, else name: keys the code */
	char code[64];
	struct mapent *map;
	size_t nmap, capmap;
};

/* A variant as a key: its tokens (runs of letters and digits, ASCII lower-cased),
 * joined by KEY_SEP.  Text matches it when the same tokens follow each other with
 * short separators between them, so "Smith, John", "SMITH^JOHN", "smith_john" and
 * "Smith John" are one key, and a word boundary is a token boundary. */
struct lit {
	char *s;
	unsigned len;
	unsigned ntok;     /* tokens in the key (1..MAX_TOK) */
	const char *cls;
	size_t kase;       /* ROSTER for the roster */
};

struct phi_cases {
	struct kase *v;
	size_t n, cap;
	struct lit *lits;
	size_t nlits, caplits;
	size_t *slot;      /* open-addressing hash of lits by key: index + 1, 0 empty */
	size_t nslot;
	unsigned char key[32];
	bool has_key;
	char *case_id;
	size_t nidents;
};

struct phi_sweep_scratch {
	struct tok {
		size_t a, b;   /* text[a, b) */
	} *tok;
	size_t ntok, captok;
};

static const char RULE_CASE[] = "case-identifier", RULE_ROSTER[] = "roster-identifier";

/* ---- the set of cases ---- */

int phi_cases_new(struct phi_cases **out, const unsigned char *key, const char *case_id)
{
	struct phi_cases *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c || (case_id && !(c->case_id = strdup(case_id)))) {
		free(c);
		return PHI_ENOMEM;
	}
	if (key) {
		memcpy(c->key, key, 32);
		c->has_key = true;
	}
	*out = c;
	return 0;
}

static void free_ident(struct ident *i)
{
	free(i->a);
	free(i->b);
}

void phi_cases_free(struct phi_cases *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct kase *k = &c->v[i];
		for (size_t j = 0; j < k->nids; j++)
			free_ident(&k->ids[j]);
		for (size_t j = 0; j < k->npending; j++)
			free(k->pending[j]);
		for (size_t j = 0; j < k->nmap; j++) {
			free(k->map[j].from);
			free(k->map[j].to);
		}
		free(k->ids);
		free(k->map);
		free(k->comp);
		free(k->name);
		free(k->patient);
	}
	for (size_t j = 0; j < c->nlits; j++)
		free(c->lits[j].s);
	free(c->lits);
	free(c->slot);
	free(c->v);
	free(c->case_id);
	free(c);
}

/* The case of root's component rel[0..cn) (has_comp), or of the root itself: found or
 * added.  Walk order keeps a case's files together: the last case is the likely one. */
static int find_or_add(struct phi_cases *c, size_t root, const char *root_name, const char *rel,
                       size_t cn, bool has_comp, size_t *idx)
{
	for (size_t i = c->n; i-- > 0;) {
		struct kase *k = &c->v[i];
		if (k->root == root && (has_comp ? k->comp && strlen(k->comp) == cn &&
		                                       !memcmp(k->comp, rel, cn)
		                                 : !k->comp)) {
			*idx = i;
			return 0;
		}
	}
	if (phi_grow((void **)&c->v, &c->cap, c->n, sizeof *c->v))
		return PHI_ENOMEM;
	struct kase *k = &c->v[c->n];
	memset(k, 0, sizeof *k);
	k->root = root;
	if (has_comp && !(k->comp = phi_memdup(rel, cn)))
		return PHI_ENOMEM;
	if (!(k->name = has_comp ? strdup(k->comp) : strdup(root_name ? root_name : ""))) {
		free(k->comp);
		return PHI_ENOMEM;
	}
	*idx = c->n++;
	return 0;
}

int phi_cases_find(struct phi_cases *c, size_t root, const char *root_name, const char *rel,
                   unsigned depth, size_t *idx)
{
	const char *slash = depth ? strchr(rel, '/') : NULL;
	size_t cn = slash ? (size_t)(slash - rel) : 0;
	return find_or_add(c, root, root_name, rel, cn, cn != 0, idx);
}

int phi_cases_find_prefix(struct phi_cases *c, size_t root, const char *rel, unsigned ncomp,
                          size_t *idx)
{
	size_t nc = 1;
	for (const char *p = rel; *p; p++)
		nc += *p == '/';
	size_t want = nc > 1 ? nc - 1 : 1, cn = 0;
	if (want > ncomp)
		want = ncomp;
	for (size_t k = 0; k < want; k++) {
		const char *sl = strchr(rel + cn + (k ? 1 : 0), '/');
		cn = sl ? (size_t)(sl - rel) : strlen(rel);
	}
	return find_or_add(c, root, NULL, rel, cn, true, idx);
}

size_t phi_cases_count(const struct phi_cases *c)
{
	return c->n;
}

/* ---- harvest ---- */

static bool is_sep(char ch)
{
	return ch == '^' || ch == ' ' || ch == ',' || ch == '_' || ch == '\t';
}

/* Trim spaces and DICOM padding. */
static void trim(const char **v, size_t *n)
{
	while (*n && (isspace((unsigned char)**v) || **v == 0))
		(*v)++, (*n)--;
	while (*n && (isspace((unsigned char)(*v)[*n - 1]) || (*v)[*n - 1] == 0 ||
	              (*v)[*n - 1] == '^'))
		(*n)--;
}

static int add_ident(struct ident **v, size_t *nv, size_t *cap, const char *cls, const char *a,
                     size_t an, const char *b, size_t bn)
{
	for (size_t i = 0; i < *nv; i++) {
		struct ident *x = &(*v)[i];
		if (x->cls == cls && strlen(x->a) == an && !strncasecmp(x->a, a, an) &&
		    (b ? x->b && strlen(x->b) == bn && !strncasecmp(x->b, b, bn) : !x->b))
			return 0;
	}
	if (phi_grow((void **)v, cap, *nv, sizeof **v))
		return PHI_ENOMEM;
	struct ident *x = &(*v)[*nv];
	x->cls = cls;
	x->a = phi_memdup(a, an);
	x->b = b ? phi_memdup(b, bn) : NULL;
	if (!x->a || (b && !x->b)) {
		free_ident(x);
		return PHI_ENOMEM;
	}
	(*nv)++;
	return 0;
}

static const char *class_of(const char *cls)
{
	const struct phi_class_info *ci = phi_class_find(cls);
	return ci ? ci->name : NULL;
}

/* Split a name into tokens (max 4); returns the count, or 5 when there are more. */
static size_t name_tokens(const char *v, size_t n, const char *tok[5], size_t len[5])
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		while (i < n && is_sep(v[i]))
			i++;
		size_t s = i;
		while (i < n && !is_sep(v[i]))
			i++;
		if (i > s) {
			if (k == 5)
				return 5;
			tok[k] = v + s;
			len[k++] = i - s;
		}
	}
	return k;
}

/* A name value into identifiers: pairs of its parts, or the whole value. */
static int add_name(struct ident **v, size_t *nv, size_t *cap, const char *val, size_t n,
                    struct kase *k)
{
	const char *tok[5];
	size_t len[5];
	const char *cls = class_of("name");
	size_t nt = name_tokens(val, n, tok, len);
	int rc = 0;
	if (nt == 1 && k) {
		if (len[0] >= MIN_TOKEN && k->npending < MAX_PENDING &&
		    !(k->pending[k->npending] = phi_memdup(tok[0], len[0])))
			return PHI_ENOMEM;
		if (len[0] >= MIN_TOKEN && k->npending < MAX_PENDING)
			k->npending++;
		return 0;
	}
	if (nt >= 2 && nt <= 3) {
		for (size_t i = 0; i < nt && !rc; i++)
			for (size_t j = i + 1; j < nt && !rc; j++)
				if (len[i] >= MIN_TOKEN && len[j] >= MIN_TOKEN)
					rc = add_ident(v, nv, cap, cls, tok[i], len[i], tok[j], len[j]);
	}
	if (!rc && nt >= 2 && n >= 6)
		rc = add_ident(v, nv, cap, cls, val, n, NULL, 0);
	return rc;
}

static int cases_add(struct phi_cases *c, struct kase *k, const char *cls, const char *v,
                     size_t n);

int phi_cases_add(struct phi_cases *c, size_t idx, const char *cls, const char *v, size_t n)
{
	struct kase *k = &c->v[idx];
	size_t before = k->nids;
	int rc = cases_add(c, k, cls, v, n);
	for (size_t i = before; i < k->nids; i++)
		k->ids[i].file = k->nfiles;
	return rc;
}

static int cases_add(struct phi_cases *c, struct kase *k, const char *cls, const char *v,
                     size_t n)
{
	const char *cn = class_of(cls);
	trim(&v, &n);
	if (!cn || n == 0 || n > 256)
		return 0;
	c->nidents++;
	if (!strcmp(cn, "name")) {
		if (!k->patient && !(k->patient = phi_memdup(v, n)))
			return PHI_ENOMEM;
		return add_name(&k->ids, &k->nids, &k->capids, v, n, k);
	}
	if (!strcmp(cn, "mrn") || !strcmp(cn, "id")) {
		/* the first patient ID keys the case code, as DICOM's patient token */
		if (k->patient && !strpbrk(k->patient, "0123456789")) {
			free(k->patient);
			k->patient = NULL;
		}
		if (!k->patient && !(k->patient = phi_memdup(v, n)))
			return PHI_ENOMEM;
	}
	return add_ident(&k->ids, &k->nids, &k->capids, cn, v, n, NULL, 0);
}

int phi_cases_end_file(struct phi_cases *c, size_t idx)
{
	struct kase *k = &c->v[idx];
	int rc = 0;
	size_t before = k->nids;
	/* a first and a last name from one file: pair them */
	for (size_t i = 0; i < k->npending && !rc; i++)
		for (size_t j = i + 1; j < k->npending && !rc; j++)
			rc = add_ident(&k->ids, &k->nids, &k->capids, class_of("name"), k->pending[i],
			               strlen(k->pending[i]), k->pending[j], strlen(k->pending[j]));
	for (size_t i = 0; i < k->npending; i++)
		free(k->pending[i]);
	k->npending = 0;
	for (size_t i = before; i < k->nids; i++)
		k->ids[i].file = k->nfiles;
	k->nfiles++;
	return rc;
}

/* ---- roster ---- */

static int ident_variants(struct phi_cases *c, size_t kase, const struct ident *ids, size_t n);

enum col { COL_NONE, COL_NAME, COL_FIRST, COL_LAST, COL_ID, COL_DOB };

static enum col col_kind(const char *h)
{
	char b[64];
	size_t n = 0;
	for (; *h && n + 1 < sizeof b; h++)
		if (isalnum((unsigned char)*h))
			b[n++] = (char)tolower((unsigned char)*h);
	b[n] = 0;
	if (!strcmp(b, "first") || !strcmp(b, "firstname") || !strcmp(b, "given") ||
	    !strcmp(b, "givenname"))
		return COL_FIRST;
	if (!strcmp(b, "last") || !strcmp(b, "lastname") || !strcmp(b, "family") ||
	    !strcmp(b, "familyname") || !strcmp(b, "surname"))
		return COL_LAST;
	if (!strcmp(b, "name") || !strcmp(b, "patient") || !strcmp(b, "patientname") ||
	    !strcmp(b, "fullname"))
		return COL_NAME;
	if (!strcmp(b, "id") || !strcmp(b, "mrn") || !strcmp(b, "patientid") ||
	    !strcmp(b, "chart") || !strcmp(b, "chartnumber"))
		return COL_ID;
	if (!strcmp(b, "dob") || !strcmp(b, "birthdate") || !strcmp(b, "dateofbirth") ||
	    !strcmp(b, "birth") || !strcmp(b, "birthday"))
		return COL_DOB;
	return COL_NONE;
}

/* Split one CSV line into at most 32 cells, in place: a quoted cell loses its quotes
 * and a doubled quote inside it becomes one. */
static size_t csv_cells(char *line, char *cell[32])
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		char *out = p;
		cell[n++] = out;
		if (*p == '"') {
			for (p++; *p; p++) {
				if (*p == '"' && p[1] == '"')
					p++;
				else if (*p == '"')
					break;
				*out++ = *p;
			}
			if (*p == '"')
				p++;
			while (*p && *p != ',')
				p++; /* text after the closing quote is dropped */
		} else {
			while (*p && *p != ',')
				*out++ = *p++;
		}
		bool more = *p == ',';
		*out = 0;
		if (!more || n == 32)
			break;
		p++;
	}
	return n;
}

int phi_cases_load_roster(struct phi_cases *c, const char *path, struct phi_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return phi_fail(err, PHI_EIO, "%s: cannot open the roster: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	enum col cols[32];
	size_t ncols = 0, lineno = 0;
	int rc = 0;
	while (!rc && (got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (got && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = 0;
		if (got == 0)
			continue;
		char *cell[32];
		size_t n = csv_cells(line, cell);
		if (!ncols) {
			bool any = false;
			for (size_t i = 0; i < n; i++)
				any |= (cols[i] = col_kind(cell[i])) != COL_NONE;
			if (!any)
				rc = phi_fail(err, PHI_EUSAGE,
				              "%s:%zu: the roster needs a header row naming its columns "
				              "(name, first, last, id, dob)", path, lineno);
			ncols = n;
			continue;
		}
		/* one patient: its identifiers, expanded now (initials + ID pair within the
		 * row, never across patients) */
		struct ident *row = NULL;
		size_t nrow = 0, caprow = 0;
		const char *first = NULL, *last = NULL;
		for (size_t i = 0; i < n && i < ncols && !rc; i++) {
			const char *v = cell[i];
			size_t vn = strlen(v);
			trim(&v, &vn);
			if (!vn)
				continue;
			c->nidents++;
			switch (cols[i]) {
			case COL_NAME:
				rc = add_name(&row, &nrow, &caprow, v, vn, NULL);
				break;
			case COL_FIRST:
				first = cell[i];
				break;
			case COL_LAST:
				last = cell[i];
				break;
			case COL_ID:
				rc = add_ident(&row, &nrow, &caprow, class_of("mrn"), v, vn, NULL, 0);
				break;
			case COL_DOB:
				rc = add_ident(&row, &nrow, &caprow, class_of("date"), v, vn, NULL, 0);
				break;
			default:
				break;
			}
		}
		if (!rc && first && last && strlen(first) >= MIN_TOKEN && strlen(last) >= MIN_TOKEN)
			rc = add_ident(&row, &nrow, &caprow, class_of("name"), last, strlen(last), first,
			               strlen(first));
		if (!rc)
			rc = ident_variants(c, ROSTER, row, nrow);
		for (size_t i = 0; i < nrow; i++)
			free_ident(&row[i]);
		free(row);
	}
	if (!rc && ferror(f))
		rc = phi_fail(err, PHI_EIO, "%s: read error", path);
	if (!rc && !ncols)
		rc = phi_fail(err, PHI_EUSAGE, "%s: the roster is empty", path);
	free(line);
	fclose(f);
	if (rc == PHI_ENOMEM)
		return phi_fail(err, rc, "%s: out of memory", path);
	return rc;
}

/* ---- variants ---- */

/* ---- keys ---- */

#define MAX_TOK 4         /* tokens in one key */
#define MAX_SEP 2         /* separator bytes between two tokens of one match */
#define KEY_SEP '\x1f'

/* A letter or digit (a byte of a non-ASCII character counts as a letter). */
static bool wordy(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80;
}

static bool key_sep(unsigned char ch)
{
	return ch == ' ' || ch == ',' || ch == '_' || ch == '^' || ch == '.' || ch == '-' ||
	       ch == '/' || ch == '\t';
}

/* The key of s[0..n): its tokens lower-cased and joined; 0 tokens when s has more
 * than MAX_TOK or other separators than key_sep allows. */
static size_t make_key(const char *s, size_t n, char *key, size_t cap, unsigned *ntok)
{
	size_t o = 0;
	*ntok = 0;
	for (size_t i = 0; i < n;) {
		if (!wordy((unsigned char)s[i])) {
			if (!key_sep((unsigned char)s[i]))
				return *ntok = 0;
			i++;
			continue;
		}
		if (++*ntok > MAX_TOK)
			return *ntok = 0;
		if (o && o + 1 < cap)
			key[o++] = KEY_SEP;
		for (; i < n && wordy((unsigned char)s[i]); i++)
			if (o + 1 < cap)
				key[o++] = (char)tolower((unsigned char)s[i]);
	}
	key[o < cap ? o : cap - 1] = 0;
	return o;
}

static uint64_t key_hash(const char *k, size_t n, size_t kase)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kase;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
	return h;
}

static int add_lit(struct phi_cases *c, size_t kase, const char *cls, const char *s, size_t n)
{
	char key[600];
	unsigned ntok;
	if (n < 3)
		return 0;
	size_t kn = make_key(s, n, key, sizeof key, &ntok);
	if (!ntok || kn < 3 || kn >= sizeof key - 1)
		return 0;
	if (phi_grow((void **)&c->lits, &c->caplits, c->nlits, sizeof *c->lits))
		return PHI_ENOMEM;
	char *d = phi_memdup(key, kn);
	if (!d)
		return PHI_ENOMEM;
	c->lits[c->nlits++] = (struct lit){d, (unsigned)kn, ntok, cls, kase};
	return 0;
}

__attribute__((format(printf, 4, 5))) static int add_litf(struct phi_cases *c, size_t kase,
                                                          const char *cls, const char *fmt, ...)
{
	char b[600] = "";
	va_list ap;
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b)
		return 0;
	return add_lit(c, kase, cls, b, (size_t)n);
}

/* The spellings of a name pair, in both orders. */
static int name_variants(struct phi_cases *c, size_t kase, const struct ident *id)
{
	static const char *const seps[] = {"^", " ", ", ", ",", "_", "", "."};
	const char *p[2] = {id->a, id->b};
	int rc = 0;
	for (int o = 0; o < 2 && !rc; o++) {
		const char *x = p[o], *y = p[1 - o];
		for (size_t s = 0; s < sizeof seps / sizeof *seps && !rc; s++)
			rc = add_litf(c, kase, id->cls, "%s%s%s", x, seps[s], y);
		/* "J. Smith", "J.Smith", "J Smith": the initial of one, the other whole */
		if (!rc && isalpha((unsigned char)y[0]))
			rc = add_litf(c, kase, id->cls, "%c. %s", y[0], x);
		if (!rc && isalpha((unsigned char)y[0]))
			rc = add_litf(c, kase, id->cls, "%c.%s", y[0], x);
		if (!rc && isalpha((unsigned char)y[0]))
			rc = add_litf(c, kase, id->cls, "%c %s", y[0], x);
		/* "SmithJ", "Smith_J", "Smith J.": the other's initial after */
		if (!rc && isalpha((unsigned char)y[0]))
			rc = add_litf(c, kase, id->cls, "%s%c", x, y[0]);
		if (!rc && isalpha((unsigned char)y[0]))
			rc = add_litf(c, kase, id->cls, "%s_%c", x, y[0]);
		if (!rc && isalpha((unsigned char)y[0]))
			rc = add_litf(c, kase, id->cls, "%s %c.", x, y[0]);
	}
	return rc;
}

/* Digits of an ID (its core), and the ID without separators. */
static size_t id_core(const char *v, char *digits, size_t cap, char *compact)
{
	size_t nd = 0, nc = 0;
	for (; *v; v++) {
		if (isdigit((unsigned char)*v) && nd + 1 < cap)
			digits[nd++] = *v;
		if (isalnum((unsigned char)*v) && nc + 1 < cap)
			compact[nc++] = *v;
	}
	digits[nd] = compact[nc] = 0;
	return nd;
}

static int id_variants(struct phi_cases *c, size_t kase, const struct ident *id)
{
	char digits[300] = "", compact[300] = "";
	size_t n = strlen(id->a);
	if (n < MIN_ID)
		return 0;
	int rc = add_lit(c, kase, id->cls, id->a, n);
	size_t nd = id_core(id->a, digits, sizeof digits, compact);
	if (!rc && strlen(compact) >= MIN_ID && strcmp(compact, id->a))
		rc = add_lit(c, kase, id->cls, compact, strlen(compact));
	if (!rc && nd >= 5 && strcmp(digits, id->a) && strcmp(digits, compact))
		rc = add_lit(c, kase, id->cls, digits, nd);
	return rc;
}

/* A birth date (YYYYMMDD or YYYY-MM-DD...) in the spellings forms and letters use. */
static int date_variants(struct phi_cases *c, size_t kase, const struct ident *id)
{
	char d[16];
	size_t n = 0;
	for (const char *p = id->a; *p && n < 9; p++) {
		if (isdigit((unsigned char)*p))
			d[n++] = *p;
		else if (*p == 'T' || *p == ' ')
			break;
	}
	if (n != 8)
		return add_lit(c, kase, id->cls, id->a, strlen(id->a)); /* as written */
	int y = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
	int m = (d[4] - '0') * 10 + (d[5] - '0'), dd = (d[6] - '0') * 10 + (d[7] - '0');
	if (y < 1800 || m < 1 || m > 12 || dd < 1 || dd > 31)
		return 0;
	const char *cls = id->cls;
	int rc = add_litf(c, kase, cls, "%04d%02d%02d", y, m, dd);
	if (!rc)
		rc = add_litf(c, kase, cls, "%04d-%02d-%02d", y, m, dd);
	if (!rc)
		rc = add_litf(c, kase, cls, "%04d/%02d/%02d", y, m, dd);
	if (!rc)
		rc = add_litf(c, kase, cls, "%02d/%02d/%04d", m, dd, y);
	if (!rc)
		rc = add_litf(c, kase, cls, "%d/%d/%04d", m, dd, y);
	if (!rc)
		rc = add_litf(c, kase, cls, "%02d.%02d.%04d", dd, m, y);
	if (!rc)
		rc = add_litf(c, kase, cls, "%02d/%02d/%04d", dd, m, y);
	if (!rc)
		rc = add_litf(c, kase, cls, "%02d-%02d-%04d", m, dd, y);
	return rc;
}

static int ident_variants(struct phi_cases *c, size_t kase, const struct ident *ids, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct ident *id = &ids[i];
		if (id->b)
			rc = name_variants(c, kase, id);
		else if (!strcmp(id->cls, "date"))
			rc = date_variants(c, kase, id);
		else if (!strcmp(id->cls, "name"))
			rc = add_lit(c, kase, id->cls, id->a, strlen(id->a));
		else if (!strcmp(id->cls, "mrn") || !strcmp(id->cls, "id") ||
		         !strcmp(id->cls, "account") || !strcmp(id->cls, "healthplan") ||
		         !strcmp(id->cls, "ssn"))
			rc = id_variants(c, kase, id);
		else if (strlen(id->a) >= 5)
			rc = add_lit(c, kase, id->cls, id->a, strlen(id->a));
	}
	/* initials plus ID: "JS448812", "SJ-448812"; across the case's files while that
	 * stays small (one patient), else within a file (a pair per patient, not the
	 * product of all: 1,320 patients as one case took 4 GB) */
	size_t nnames = 0, nidnum = 0;
	for (size_t i = 0; i < n; i++) {
		nnames += ids[i].b != NULL;
		nidnum += !ids[i].b && (!strcmp(ids[i].cls, "mrn") || !strcmp(ids[i].cls, "id"));
	}
	bool cross = nnames * nidnum <= MAX_CROSS;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!ids[i].b || !isalpha((unsigned char)ids[i].a[0]) ||
		    !isalpha((unsigned char)ids[i].b[0]))
			continue;
		for (size_t j = 0; j < n && !rc; j++) {
			char digits[300] = "", compact[300] = "";
			if (ids[j].b || (!cross && ids[j].file != ids[i].file) ||
			    (strcmp(ids[j].cls, "mrn") && strcmp(ids[j].cls, "id")) ||
			    id_core(ids[j].a, digits, sizeof digits, compact) < 4)
				continue;
			static const char *const seps[] = {"", "-", "_", " "};
			char ini[2][3] = {{ids[i].a[0], ids[i].b[0], 0}, {ids[i].b[0], ids[i].a[0], 0}};
			for (int o = 0; o < 2 && !rc; o++)
				for (size_t k = 0; k < sizeof seps / sizeof *seps && !rc; k++)
					rc = add_litf(c, kase, ids[j].cls, "%s%s%s", ini[o], seps[k], digits);
		}
	}
	return rc;
}

static int cmp_lit(const void *a, const void *b)
{
	const struct lit *x = a, *y = b;
	if (x->kase != y->kase)
		return x->kase < y->kase ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

static void make_code(struct phi_cases *c, struct kase *k)
{
	if (c->case_id) {
		snprintf(k->code, sizeof k->code, "%s", c->case_id);
		return;
	}
	if (!c->has_key) {
		snprintf(k->code, sizeof k->code, "case");
		return;
	}
	/* the keyed patient token DICOM strip writes for the same Patient ID */
	const char *who = k->patient ? k->patient : k->name;
	unsigned char mac[32];
	crypto_auth_hmacsha256_state st;
	static const char label[] = "phiscan-dicom-patient";
	crypto_auth_hmacsha256_init(&st, c->key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof label);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)who, strlen(who));
	crypto_auth_hmacsha256_final(&st, mac);
	static const char b32[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	char *p = k->code + snprintf(k->code, sizeof k->code, "PX");
	for (int i = 0; i < 10; i++)
		*p++ = b32[mac[i] & 31];
	*p = 0;
}

int phi_cases_build(struct phi_cases *c, struct phi_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < c->n && !rc; i++) {
		if ((rc = phi_cases_end_file(c, i)))
			break;
		make_code(c, &c->v[i]);
		rc = ident_variants(c, i, c->v[i].ids, c->v[i].nids);
	}
	if (rc)
		return phi_fail(err, rc, "out of memory building the case identifiers");
	/* one literal once per case */
	if (c->nlits)
		qsort(c->lits, c->nlits, sizeof *c->lits, cmp_lit);
	size_t w = 0;
	for (size_t i = 0; i < c->nlits; i++) {
		if (w && !cmp_lit(&c->lits[w - 1], &c->lits[i])) {
			free(c->lits[i].s);
			continue;
		}
		c->lits[w++] = c->lits[i];
	}
	c->nlits = w;
	/* the hash: twice the keys, a power of two */
	size_t ns = 16;
	while (ns < c->nlits * 2)
		ns *= 2;
	if (!(c->slot = calloc(ns, sizeof *c->slot)))
		return phi_fail(err, PHI_ENOMEM, "out of memory building the case identifiers");
	c->nslot = ns;
	for (size_t i = 0; i < c->nlits; i++) {
		const struct lit *l = &c->lits[i];
		size_t k = key_hash(l->s, l->len, l->kase) & (ns - 1);
		while (c->slot[k])
			k = (k + 1) & (ns - 1);
		c->slot[k] = i + 1;
	}
	return 0;
}

size_t phi_cases_idents(const struct phi_cases *c)
{
	return c->nidents;
}

size_t phi_cases_literals(const struct phi_cases *c)
{
	return c->nlits;
}

const char *phi_cases_code(const struct phi_cases *c, size_t idx)
{
	return idx < c->n && c->v[idx].code[0] ? c->v[idx].code : "case";
}

/* ---- matching ---- */

int phi_sweep_scratch_new(struct phi_sweep_scratch **out, const struct phi_cases *c)
{
	(void)c;
	*out = calloc(1, sizeof **out);
	return *out ? 0 : PHI_ENOMEM;
}

void phi_sweep_scratch_free(struct phi_sweep_scratch *s)
{
	if (!s)
		return;
	free(s->tok);
	free(s);
}

/* The literal with key k[0..n) for case kase (or the roster), or NULL. */
static const struct lit *lookup(const struct phi_cases *c, const char *k, size_t n, size_t kase)
{
	size_t i = key_hash(k, n, kase) & (c->nslot - 1);
	for (; c->slot[i]; i = (i + 1) & (c->nslot - 1)) {
		const struct lit *l = &c->lits[c->slot[i] - 1];
		if (l->kase == kase && l->len == n && !memcmp(l->s, k, n))
			return l;
	}
	return NULL;
}

int phi_cases_match(const struct phi_cases *c, struct phi_sweep_scratch *s, size_t idx,
                    const char *text, size_t len, size_t from, size_t to, phi_sweep_fn fn,
                    void *arg)
{
	if (!c->nlits || !len)
		return 0;
	/* the tokens of the text */
	s->ntok = 0;
	for (size_t i = 0; i < len;) {
		if (!wordy((unsigned char)text[i])) {
			i++;
			continue;
		}
		size_t a = i;
		while (i < len && wordy((unsigned char)text[i]))
			i++;
		if (phi_grow((void **)&s->tok, &s->captok, s->ntok, sizeof *s->tok))
			return PHI_ENOMEM;
		s->tok[s->ntok++] = (struct tok){a, i};
	}
	/* at each token, the longest run of up to MAX_TOK tokens whose key is known */
	char key[600];
	for (size_t t = 0; t < s->ntok;) {
		const struct lit *best = NULL;
		size_t best_end = 0, kn = 0;
		for (size_t u = 0; u < MAX_TOK && t + u < s->ntok; u++) {
			const struct tok *k = &s->tok[t + u];
			if (u) {
				/* tokens of one match are apart by a short run of separators */
				const struct tok *p = &s->tok[t + u - 1];
				if (k->a - p->b > MAX_SEP)
					break;
				bool ok = true;
				for (size_t j = p->b; j < k->a && ok; j++)
					ok = key_sep((unsigned char)text[j]);
				if (!ok || kn + 1 >= sizeof key)
					break;
				key[kn++] = KEY_SEP;
			}
			if (kn + (k->b - k->a) >= sizeof key)
				break;
			for (size_t j = k->a; j < k->b; j++)
				key[kn++] = (char)tolower((unsigned char)text[j]);
			const struct lit *l = lookup(c, key, kn, idx);
			if (!l)
				l = lookup(c, key, kn, ROSTER);
			if (l) {
				best = l;
				best_end = u + 1;
			}
		}
		if (!best) {
			t++;
			continue;
		}
		size_t a = s->tok[t].a, b = s->tok[t + best_end - 1].b;
		/* "J. Smith": the initial's dot belongs to it; "Smith J.": so does the last */
		if (b < len && text[b] == '.' && s->tok[t + best_end - 1].b - s->tok[t + best_end - 1].a == 1)
			b++;
		if (a >= from && a < to &&
		    fn(arg, a, b, best->cls, best->kase == ROSTER ? RULE_ROSTER : RULE_CASE))
			break;
		t += best_end;
	}
	return 0;
}

/* ---- file names ---- */

static bool identity(const char *cls)
{
	static const char *const drop[] = {"date", "age", "address", "zip", "photo"};
	for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
		if (!strcmp(cls, drop[i]))
			return false;
	return true;
}

static bool name_sep(char ch)
{
	return ch == '_' || ch == '-' || ch == ' ' || ch == '.';
}

size_t phi_case_rename(const char *comp, size_t n, const struct phi_name_span *spans,
                       size_t nspans, const char *code, char *out, size_t cap)
{
	/* the extension (".stl") stays unless a span reaches into it */
	size_t stem = n;
	const char *dot = memrchr(comp, '.', n);
	if (dot && dot > comp && (size_t)(comp + n - dot) <= 12) {
		stem = (size_t)(dot - comp);
		for (size_t i = 0; i < nspans; i++)
			if (spans[i].end > stem)
				stem = n;
	}
	size_t o = 0, code_n = strlen(code);
	bool coded = false;
	char *b = malloc(n + code_n * (nspans + 1) + 1);
	if (!b) {
		snprintf(out, cap, "%s", code);
		return strlen(out);
	}
	size_t bn = 0;
	for (size_t i = 0; i < stem;) {
		const struct phi_name_span *sp = NULL;
		for (size_t k = 0; k < nspans; k++)
			if (spans[k].start == i && spans[k].end > i) {
				sp = &spans[k];
				break;
			}
		if (!sp) {
			b[bn++] = comp[i++];
			continue;
		}
		if (identity(sp->cls) && !coded) {
			memcpy(b + bn, code, code_n);
			bn += code_n;
			coded = true;
		}
		i = sp->end < stem ? sp->end : stem;
	}
	/* tidy: no run of separators, none at either end */
	for (size_t i = 0; i < bn; i++) {
		if (name_sep(b[i]) && (o == 0 || name_sep(out[o - 1])))
			continue;
		if (o + 1 < cap)
			out[o++] = b[i];
	}
	while (o > 0 && name_sep(out[o - 1]))
		o--;
	if (o == 0)
		o = (size_t)snprintf(out, cap, "%s", code) < cap ? code_n : 0;
	for (size_t i = stem; i < n && o + 1 < cap; i++)
		out[o++] = comp[i];
	out[o < cap ? o : cap - 1] = 0;
	free(b);
	return o;
}

int phi_cases_map_add(struct phi_cases *c, size_t idx, const char *from, const char *to)
{
	struct kase *k = &c->v[idx];
	for (size_t i = 0; i < k->nmap; i++)
		if (!strcmp(k->map[i].from, from))
			return 0;
	if (phi_grow((void **)&k->map, &k->capmap, k->nmap, sizeof *k->map))
		return PHI_ENOMEM;
	char *f = strdup(from), *t = strdup(to);
	if (!f || !t) {
		free(f), free(t);
		return PHI_ENOMEM;
	}
	k->map[k->nmap++] = (struct mapent){f, t};
	return 0;
}

static int cmp_map(const void *a, const void *b)
{
	return strcmp(((const struct mapent *)a)->from, ((const struct mapent *)b)->from);
}

void phi_cases_map_seal(struct phi_cases *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].nmap)
			qsort(c->v[i].map, c->v[i].nmap, sizeof *c->v[i].map, cmp_map);
}

const char *phi_cases_map_get(const struct phi_cases *c, size_t idx, const char *comp, size_t n)
{
	if (idx >= c->n)
		return NULL;
	const struct kase *k = &c->v[idx];
	size_t lo = 0, hi = k->nmap;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *f = k->map[mid].from;
		int r = strncmp(f, comp, n);
		if (r == 0)
			r = f[n] ? 1 : 0;
		if (r == 0)
			return k->map[mid].to;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
