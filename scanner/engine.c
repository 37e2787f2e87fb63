/* engine.c - the rule engine: Vectorscan prefilter, PCRE2-JIT confirmation, cues,
 * validators, allowlists and overlap resolution.
 *
 * Patterns are compiled in byte mode (no PCRE2_UTF, no HS_FLAG_UTF8): input text may
 * hold invalid UTF-8, and Vectorscan's UTF-8 mode is undefined on it.  A non-ASCII
 * letter is a run of bytes >= 0x80, which patterns admit explicitly.
 *
 * Prefilter (text-rules.md section 9): one Vectorscan block-mode database holds each
 * rule's keywords (caseless literals) or, for rules without keywords, the rule's own
 * pattern with HS_FLAG_PREFILTER (a superset: never misses a true match).  A keyword
 * hit opens a window of its line and the next; a pattern hit opens a window of the
 * line it ends on and the line before.  A rule Vectorscan cannot compile even as a
 * prefilter runs PCRE2 over the whole text (reported by `rules list`).
 *
 * Threading: the engine is read-only after phi_engine_new; a matcher belongs to one
 * worker.  Ownership: the engine borrows pack and names.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <fnmatch.h>
#include <hs/hs.h>
#include <link.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../formats/sha256.h"
#include "validate.h"

#define WINDOW_CAP 4096  /* bytes a prefilter window may reach either side of a hit */
#define PREV_LINE_MIN 256

enum prefilter { PF_KEYWORDS, PF_PATTERN, PF_NONE };

struct crule {
	const struct phi_rule *r;
	pcre2_code *re;   /* NULL until first use for a verified rule (rule_ready) */
	const struct phi_engine_code *pre; /* its code from opts.codes, or NULL */
	uint32_t vgroup;  /* set with re */
	enum prefilter pf;
	char **cues;      /* lower-cased */
	size_t *cue_len;
};

/* Adaptive JIT of one pattern (see jit_account): the interpreter matches it until
 * that has cost about what JIT-compiling it would, then a JIT-compiled copy is
 * published once and used from then on. */
struct ajit {
	_Atomic(pcre2_code *) jit;   /* the JIT-compiled copy, NULL until published */
	atomic_uint_least64_t spent; /* ns spent in the interpreter so far */
	atomic_uchar claimed;        /* one worker compiles the copy */
	uint64_t budget;             /* ns: the estimated JIT compile (set with the code) */
};

struct callow {
	const struct phi_allow *a;
	pcre2_code **re;
	struct ajit *aj; /* per pattern */
};

struct phi_engine {
	struct crule *rules;
	size_t nrules;
	struct callow *allow;
	size_t nallow;
	hs_database_t *db;
	unsigned *id_rule;  /* Vectorscan id -> rule index */
	unsigned *id_kwlen; /* keyword length, 0 for a pattern prefilter */
	size_t nids;
	const struct phi_names *names;
	struct phi_engine_opts opts;
	bool from_cache;        /* the prefilter database was read from the cache */
	bool from_prebuilt;     /* ... or from one the build made (opts.prebuilt) */
	char db_key[33];        /* the database's key (cache_path), "" when none */
	atomic_uchar *ready;    /* per rule: re compiled (rule_ready) */
	struct ajit *rj;        /* per rule: its adaptive JIT */
	atomic_size_t ncompiled; /* rule patterns compiled so far */
	atomic_size_t ndecoded; /* rule and allow patterns decoded from codes */
	const struct phi_engine_codes *codes; /* opts.codes when this PCRE2 made them */
	size_t code_cur;        /* where find_code looks first */
	atomic_size_t njit;     /* patterns JIT-compiled so far */
	pthread_mutex_t *jit_mu;
	bool path_scoped;       /* an allow entry has paths: a verdict depends on the file */
};

struct win {
	size_t a, b;
};

struct wins {
	struct win *v;
	size_t n, cap;
};

struct phi_matcher {
	const struct phi_engine *e;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack *js;
	hs_scratch_t *scratch;
	struct wins *wins;  /* one list per rule */
	struct phi_hit *hits;
	size_t nhits, caphits;
	/* the text being scanned, for the Vectorscan callback */
	const char *text;
	size_t len;
	int err;
	size_t only_rule;   /* SIZE_MAX: all rules */
	struct memo *memo;  /* NULL until the first memoizable match, or when off */
	bool memo_off;
	size_t memo_hits;   /* matches answered from it */
};

/* ---- compile ---- */

static int compile_re(const char *pat, pcre2_code **out, char *why, size_t whylen,
                      uint32_t extra, bool jit)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, extra, &ec, &eo,
	                               NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof msg);
		snprintf(why, whylen, "at offset %zu: %s", (size_t)eo, (char *)msg);
		return -1;
	}
	/* JIT is an optimisation: an unsupported pattern still runs interpreted.  Rule
	 * and allow patterns are JIT-compiled once they have proved hot (jit_account). */
	if (jit)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	*out = re; /* NOLINT(clang-analyzer-core.NullDereference): callers pass a valid slot */
	return 0;
}

static char *lower_dup(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* A keyword literal as a Vectorscan expression: every non-alphanumeric byte escaped
 * into d, which holds 4 * strlen(s) + 1 bytes. */
static char *escape_into(char *d, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *p = d;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c)) {
			*p++ = (char)c;
		} else {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = 0;
	return d;
}

static char *escape_literal(const char *s)
{
	char *d = malloc(strlen(s) * 4 + 1);
	return d ? escape_into(d, s) : NULL;
}

/* The ids of the current prefilter plan, without its expressions (a database read
 * from the cache needs none): fills e->id_rule / e->id_kwlen / e->nids in the order
 * of plan_exprs. */
static void plan_ids(struct phi_engine *e)
{
	size_t k = 0;
	for (size_t i = 0; i < e->nrules; i++) {
		struct crule *c = &e->rules[i];
		if (c->pf == PF_KEYWORDS) {
			for (size_t j = 0; j < c->r->nkeywords; j++, k++) {
				e->id_kwlen[k] = (unsigned)strlen(c->r->keywords[j]);
				e->id_rule[k] = (unsigned)i;
			}
		} else if (c->pf == PF_PATTERN) {
			e->id_kwlen[k] = 0;
			e->id_rule[k++] = (unsigned)i;
		}
	}
	e->nids = k;
}

/* The expressions of the current prefilter plan: each rule's keywords or pattern.  Fills
 * e->id_rule / e->id_kwlen / e->nids; expr strings are allocated (caller frees). */
static int plan_exprs(struct phi_engine *e, char **expr, unsigned *flags, unsigned *ids)
{
	size_t k = 0;
	for (size_t i = 0; i < e->nrules; i++) {
		struct crule *c = &e->rules[i];
		if (c->pf == PF_KEYWORDS) {
			for (size_t j = 0; j < c->r->nkeywords; j++) {
				expr[k] = escape_literal(c->r->keywords[j]);
				flags[k] = HS_FLAG_CASELESS;
				e->id_kwlen[k] = (unsigned)strlen(c->r->keywords[j]);
				e->id_rule[k] = (unsigned)i;
				ids[k] = (unsigned)k;
				if (!expr[k++])
					goto nomem;
			}
		} else if (c->pf == PF_PATTERN) {
			expr[k] = strdup(c->r->pattern);
			flags[k] = HS_FLAG_PREFILTER;
			e->id_kwlen[k] = 0;
			e->id_rule[k] = (unsigned)i;
			ids[k] = (unsigned)k;
			if (!expr[k++])
				goto nomem;
		}
	}
	e->nids = k;
	return 0;
nomem:
	e->nids = k;
	return PHI_ENOMEM;
}

static void free_exprs(char **expr, size_t k)
{
	for (size_t j = 0; j < k; j++) {
		free(expr[j]);
		expr[j] = NULL;
	}
}

/* ---- prefilter database cache ----
 *
 * Compiling the database is most of a short run's time (0.26 s of 0.33 s).  The
 * serialized database is kept in a per-user cache directory under a name that is the
 * SHA-256 of everything the compile depends on: the Vectorscan version, the host
 * platform, and every expression with its flags and id.  The file also records which
 * rules fell back to a full PCRE2 pass, and ends with the SHA-256 of its own bytes.  It
 * is only a cache: a missing, short, altered or foreign file means compile; a failed
 * write means the next run compiles again. */

#define CACHE_MAGIC "phiscan-hsdb-1\n"

/* The cache's hashes go through phi_sha256_multi with one message: the SHA-NI code
 * where the CPU has it, so a start never initialises OpenSSL (EVP_MD_fetch and the
 * configuration file were about 5 % of an empty scan). */
static int h_init(struct phi_sha256_multi *h)
{
	return phi_sha256_multi_init(h, 1, PHI_SHA256_AUTO);
}

static void h_add(struct phi_sha256_multi *h, const void *p, size_t n)
{
	struct phi_sha256_msg m = {{{p, n}}};
	phi_sha256_multi_update(h, &m);
}

static int h_final(struct phi_sha256_multi *h, char hex[65])
{
	char out[1][65];
	int rc = phi_sha256_multi_final(h, out);
	memcpy(hex, out[0], 65);
	return rc;
}

static void key_add(struct phi_sha256_multi *h, const void *p, size_t n)
{
	uint64_t len = n;
	h_add(h, &len, sizeof len); /* length-prefixed: no two inputs collide */
	h_add(h, p, n);
}

/* The key hashes the same bytes plan_exprs would compile (each expression, then its
 * flags, in id order), read from the rules: no expression strings are built.  It
 * names the cache file and finds a database the build made (opts.prebuilt).  32 hex
 * digits into key; -1 when it cannot be made. */
static int db_key(const struct phi_engine *e, char key[33])
{
	struct phi_sha256_multi h;
	hs_platform_info_t plat;
	char hex[65], kw[4 * 256 + 1];
	const unsigned kwflags = HS_FLAG_CASELESS, patflags = HS_FLAG_PREFILTER;
	if (hs_populate_platform(&plat) != HS_SUCCESS || h_init(&h))
		return -1;
	const char *ver = hs_version();
	key_add(&h, CACHE_MAGIC, strlen(CACHE_MAGIC));
	key_add(&h, ver, strlen(ver));
	key_add(&h, &plat, sizeof plat);
	for (size_t i = 0; i < e->nrules; i++) {
		const struct crule *c = &e->rules[i];
		if (c->pf == PF_KEYWORDS) {
			for (size_t j = 0; j < c->r->nkeywords; j++) {
				const char *w = c->r->keywords[j];
				char *x = strlen(w) < 256 ? escape_into(kw, w) : escape_literal(w);
				if (!x) {
					phi_sha256_multi_abort(&h);
					return -1;
				}
				key_add(&h, x, strlen(x));
				key_add(&h, &kwflags, sizeof kwflags);
				if (x != kw)
					free(x);
			}
		} else if (c->pf == PF_PATTERN) {
			key_add(&h, c->r->pattern, strlen(c->r->pattern));
			key_add(&h, &patflags, sizeof patflags);
		}
	}
	key_add(&h, &e->nrules, sizeof e->nrules);
	if (h_final(&h, hex))
		return -1;
	memcpy(key, hex, 32);
	key[32] = 0;
	return 0;
}

static int cache_path(const struct phi_engine *e, char *path, size_t cap)
{
	if (!e->opts.cache_dir || !*e->opts.cache_dir || !e->db_key[0])
		return -1;
	int n = snprintf(path, cap, "%s/hsdb-%s", e->opts.cache_dir, e->db_key);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int read_all(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > (off_t)1 << 30) {
		close(fd);
		return -1;
	}
	char *b = malloc((size_t)st.st_size);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!b || got != (size_t)st.st_size) {
		free(b);
		return -1;
	}
	*out = b;
	*len = got;
	return 0;
}

/* Layout: magic, nrules bytes of prefilter kind, serialized database, 64 hex digits of
 * the SHA-256 of everything before them.  check: verify that hash (a file; the
 * build's own databases are part of the binary and are not hashed again). */
static int blob_load(struct phi_engine *e, const char *b, size_t len, bool check)
{
	char hex[65];
	size_t ml = strlen(CACHE_MAGIC), head = ml + e->nrules;
	struct phi_sha256_multi h;
	if (len <= head + 64 || memcmp(b, CACHE_MAGIC, ml))
		return -1;
	if (check) {
		if (h_init(&h))
			return -1;
		h_add(&h, b, len - 64);
		if (h_final(&h, hex) || memcmp(hex, b + len - 64, 64))
			return -1;
	}
	for (size_t i = 0; i < e->nrules; i++)
		if ((unsigned char)b[ml + i] > PF_NONE)
			return -1;
	hs_database_t *db = NULL;
	if (hs_deserialize_database(b + head, len - head - 64, &db) != HS_SUCCESS)
		return -1;
	e->db = db;
	for (size_t i = 0; i < e->nrules; i++)
		e->rules[i].pf = (enum prefilter)(unsigned char)b[ml + i];
	return 0;
}

static int cache_load(struct phi_engine *e, const char *path)
{
	char *b = NULL;
	size_t len = 0;
	if (read_all(path, &b, &len))
		return -1;
	int rc = blob_load(e, b, len, true);
	free(b);
	return rc;
}

/* Create dir and its missing parents (mode 0700: the cache is per user). */
static void mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return;
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			(void)mkdir(p, 0700);
			*s = '/';
		}
	(void)mkdir(p, 0700);
}

/* e's database in the layout blob_load reads: *out is malloc'd, *outlen its size. */
static int blob_make(const struct phi_engine *e, char **out, size_t *outlen)
{
	char *ser = NULL, hex[65];
	size_t serlen = 0, ml = strlen(CACHE_MAGIC);
	struct phi_sha256_multi h;
	int rc = PHI_ENOMEM;
	if (!e->db || hs_serialize_database(e->db, &ser, &serlen) != HS_SUCCESS)
		return PHI_ENOMEM;
	size_t len = ml + e->nrules + serlen;
	char *b = malloc(len + 64);
	if (b && h_init(&h) == 0) {
		memcpy(b, CACHE_MAGIC, ml);
		for (size_t i = 0; i < e->nrules; i++)
			b[ml + i] = (char)e->rules[i].pf;
		memcpy(b + ml + e->nrules, ser, serlen);
		h_add(&h, b, len);
		if (h_final(&h, hex) == 0) {
			memcpy(b + len, hex, 64);
			*out = b;
			*outlen = len + 64;
			b = NULL;
			rc = 0;
		}
	}
	free(b);
	free(ser); /* hs_serialize_database allocates with the default allocator (malloc) */
	return rc;
}

int phi_engine_prebuild(const struct phi_engine *e, char **out, size_t *len, char key[33])
{
	if (!e->db_key[0])
		return PHI_ENOTSUP;
	memcpy(key, e->db_key, 33);
	return blob_make(e, out, len);
}

static void cache_save(const struct phi_engine *e, const char *path)
{
	char *b = NULL, tmp[PATH_MAX];
	size_t len = 0;
	if (blob_make(e, &b, &len))
		return;
	mkdir_p(e->opts.cache_dir);
	int n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	int fd = n > 0 && (size_t)n < sizeof tmp ? mkstemp(tmp) : -1;
	if (fd >= 0) {
		size_t put = 0;
		while (put < len) {
			ssize_t w = write(fd, b + put, len - put);
			if (w <= 0)
				break;
			put += (size_t)w;
		}
		/* rename publishes the whole file or nothing */
		if (close(fd) || put != len || rename(tmp, path))
			unlink(tmp);
	}
	free(b);
}

static int build_db(struct phi_engine *e, struct phi_error *err)
{
	size_t nexpr = 0;
	for (size_t i = 0; i < e->nrules; i++)
		nexpr += e->rules[i].pf == PF_KEYWORDS ? e->rules[i].r->nkeywords
		                                       : (e->rules[i].pf == PF_PATTERN);
	if (nexpr == 0)
		return 0;
	char **expr = calloc(nexpr, sizeof *expr);
	unsigned *flags = calloc(nexpr, sizeof *flags), *ids = calloc(nexpr, sizeof *ids);
	e->id_rule = calloc(nexpr, sizeof *e->id_rule);
	e->id_kwlen = calloc(nexpr, sizeof *e->id_kwlen);
	char cpath[PATH_MAX];
	int rc = 0, cached = -1;
	if (!expr || !flags || !ids || !e->id_rule || !e->id_kwlen) {
		rc = PHI_ENOMEM;
		goto out;
	}
	/* the key of the first plan: a few microseconds (SHA-NI over the expressions) */
	if (db_key(e, e->db_key))
		e->db_key[0] = 0;
	for (size_t i = 0; e->db_key[0] && i < e->opts.nprebuilt; i++) {
		const struct phi_engine_prebuilt *p = &e->opts.prebuilt[i];
		if (p->key && !strcmp(p->key, e->db_key) &&
		    blob_load(e, (const char *)p->data, p->len, false) == 0) {
			e->from_prebuilt = true;
			plan_ids(e); /* the build's fallbacks, as for a cache file */
			goto out;
		}
	}
	if (cache_path(e, cpath, sizeof cpath) == 0) {
		cached = 0;
		if (cache_load(e, cpath) == 0) {
			e->from_cache = true;
			/* the file's fallbacks may differ from the first plan: re-plan */
			plan_ids(e);
			goto out;
		}
	}
	if ((rc = plan_exprs(e, expr, flags, ids)))
		goto out;
	for (;;) {
		size_t k = e->nids;
		hs_compile_error_t *ce = NULL;
		hs_error_t hr = k ? hs_compile_multi((const char *const *)expr, flags, ids,
		                                     (unsigned)k, HS_MODE_BLOCK, NULL, &e->db, &ce)
		                  : HS_SUCCESS;
		int bad = -1;
		if (hr != HS_SUCCESS) {
			bad = ce ? ce->expression : -1;
			hs_free_compile_error(ce);
		}
		free_exprs(expr, k);
		if (hr == HS_SUCCESS) {
			if (cached == 0 && e->db)
				cache_save(e, cpath);
			break;
		}
		if (bad < 0 || (size_t)bad >= k) {
			rc = phi_fail(err, PHI_ERULE, "cannot compile the prefilter database");
			break;
		}
		/* That rule cannot be prefiltered: it runs PCRE2 over the whole text. */
		e->rules[e->id_rule[bad]].pf = PF_NONE;
		if ((rc = plan_exprs(e, expr, flags, ids)))
			break;
	}
out:
	if (expr)
		free_exprs(expr, e->nids);
	free(expr), free(flags), free(ids);
	if (rc == PHI_ENOMEM)
		return phi_fail(err, PHI_ENOMEM, "out of memory compiling the prefilter");
	return rc;
}

/* ---- PCRE2 codes the build made ----
 *
 * pcre2_compile of the rules a DICOM header reaches was most of libpcre2's 12.5 % of a
 * 200-slice scan.  The build (rules/src/packcheck.c) compiles every default pattern
 * and writes each code as pcre2_serialize_encode made it (pcre2serialize(3)); the
 * engine decodes a pattern's code where it would have compiled it (a verified rule
 * on first use, rule_ready; an allow pattern or unverified rule at start).  Decoding
 * is a copy, but PCRE2 checks only the stream's header (magic, version, code unit
 * width, sizes), so nothing is decoded unless:
 *  - the running PCRE2 is the build's: the same version string, the same library
 *    file (its GNU build ID: a distribution's update may keep the version string),
 *    and the empty pattern serializes to the very bytes it did at build time (the
 *    header and the default character tables the codes were compiled with;
 *    codes_usable, once per engine, a few microseconds);
 *  - the entry is the pattern's, with the same compile options (find_code), and
 *    its sum, a SHA-256 of the version, options, pattern and bytes, holds
 *    (decode_code: SHA-NI, about 1 ns a byte).
 * Any failure compiles, silently: the result is the same code either way.
 *
 * Each code is serialized alone, with its own copy of the tables: decoded codes of
 * one stream share one tables block whose reference count pcre2_code_copy and
 * pcre2_code_free update without atomics, and two workers JIT-compiling copies of two
 * rules at once (jit_account) would race on it.  Alone, a code's count is touched
 * by its decode (under jit_mu, before the release store), by the one worker that
 * claims its JIT copy, and by phi_engine_free.  JIT data is never serialized: the
 * adaptive JIT below works on decoded codes as on compiled ones. */

#define ALLOW_OPTIONS (PCRE2_ANCHORED | PCRE2_ENDANCHORED)

static int rule_ready(const struct phi_engine *e, size_t ri);

static char pcre2_ver[64];

static void pcre2_ver_fill(void)
{
	if (pcre2_config(PCRE2_CONFIG_VERSION, NULL) > (int)sizeof pcre2_ver ||
	    pcre2_config(PCRE2_CONFIG_VERSION, pcre2_ver) <= 0)
		pcre2_ver[0] = 0;
}

/* The running PCRE2's version string ("10.42 2022-12-11"), "" when unknown. */
static const char *pcre2_version(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, pcre2_ver_fill);
	return pcre2_ver;
}

/* The GNU build ID (hex) of the shared object that holds pcre2_compile, "" when it is
 * the program itself (PCRE2 linked in: then packcheck and phiscan were linked with
 * the same archive in one build) or has none.  dl_iterate_phdr: no file is read. */
struct build_id {
	uintptr_t addr;
	char hex[2 * 64 + 1];
};

static void note_build_id(struct build_id *b, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	while (n >= sizeof(ElfW(Nhdr))) {
		ElfW(Nhdr) h;
		memcpy(&h, p, sizeof h);
		size_t name = ((size_t)h.n_namesz + 3) & ~(size_t)3;
		size_t desc = ((size_t)h.n_descsz + 3) & ~(size_t)3;
		if (name > n - sizeof h || desc > n - sizeof h - name)
			return;
		const unsigned char *d = p + sizeof h + name;
		if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 &&
		    !memcmp(p + sizeof h, "GNU", 4) && h.n_descsz && h.n_descsz <= 64) {
			for (size_t i = 0; i < h.n_descsz; i++) {
				b->hex[2 * i] = digits[d[i] >> 4];
				b->hex[2 * i + 1] = digits[d[i] & 15];
			}
			b->hex[2 * h.n_descsz] = 0;
			return;
		}
		p += sizeof h + name + desc;
		n -= sizeof h + name + desc;
	}
}

static int build_id_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct build_id *b = arg;
	bool here = false;
	(void)size;
	for (size_t i = 0; i < info->dlpi_phnum && !here; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		here = ph->p_type == PT_LOAD && b->addr >= lo && b->addr - lo < ph->p_memsz;
	}
	if (!here)
		return 0;
	for (size_t i = 0; info->dlpi_name && *info->dlpi_name && i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_NOTE && !b->hex[0])
			note_build_id(b, (const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
			              ph->p_filesz);
	}
	return 1;
}

static char pcre2_bid[2 * 64 + 1];

static void pcre2_bid_fill(void)
{
	struct build_id b = {.addr = (uintptr_t)&pcre2_compile};
	dl_iterate_phdr(build_id_cb, &b);
	memcpy(pcre2_bid, b.hex, sizeof pcre2_bid);
}

static const char *pcre2_build_id(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, pcre2_bid_fill);
	return pcre2_bid;
}

/* The empty pattern's serialization with this PCRE2, malloc'd. */
static int probe_make(unsigned char **out, size_t *len)
{
	int ec;
	PCRE2_SIZE eo, n = 0;
	uint8_t *b = NULL;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR) "", 0, 0, &ec, &eo, NULL);
	int32_t rc = re ? pcre2_serialize_encode((const pcre2_code **)&re, 1, &b, &n, NULL) : -1;
	pcre2_code_free(re);
	*out = rc == 1 ? malloc(n) : NULL;
	if (*out) {
		memcpy(*out, b, n);
		*len = n;
	}
	if (rc == 1)
		pcre2_serialize_free(b);
	return *out ? 0 : PHI_ENOMEM;
}

static bool codes_usable(const struct phi_engine_codes *s)
{
	unsigned char *b = NULL;
	size_t n = 0;
	if (!s->pcre2_version || !*pcre2_version() || strcmp(s->pcre2_version, pcre2_version()) ||
	    !s->pcre2_build_id || strcmp(s->pcre2_build_id, pcre2_build_id()) || !s->probe ||
	    probe_make(&b, &n))
		return false;
	bool same = n == s->probe_len && memcmp(b, s->probe, n) == 0;
	free(b);
	return same;
}

int phi_engine_code_sum(const char *version, const struct phi_engine_code *c, char hex[65])
{
	struct phi_sha256_multi h;
	uint32_t opt = c->options;
	if (h_init(&h))
		return PHI_ENOMEM;
	key_add(&h, version, strlen(version));
	key_add(&h, &opt, sizeof opt);
	key_add(&h, c->pattern, strlen(c->pattern));
	key_add(&h, c->data, c->len);
	return h_final(&h, hex) ? PHI_ENOMEM : 0;
}

/* The entry of e->codes for pattern with options, or NULL.  The build writes them in
 * the engine's order, so the next entry is nearly always the one. */
static const struct phi_engine_code *find_code(struct phi_engine *e, const char *pattern,
                                               unsigned options)
{
	const struct phi_engine_codes *s = e->codes;
	for (size_t k = 0; s && pattern && k < s->ncodes; k++) {
		size_t i = (e->code_cur + k) % s->ncodes;
		const struct phi_engine_code *c = &s->codes[i];
		if (c->options == options && c->pattern &&
		    (c->pattern == pattern || !strcmp(c->pattern, pattern))) {
			e->code_cur = (i + 1) % s->ncodes;
			return c;
		}
	}
	return NULL;
}

/* c's code, decoded into *out when its sum holds and PCRE2 takes it; -1 otherwise. */
static int decode_code(const struct phi_engine_code *c, const struct phi_engine *e,
                       pcre2_code **out)
{
	char hex[65];
	pcre2_code *re = NULL;
	uint32_t opt = 0;
	if (!c->data || !c->sum || phi_engine_code_sum(e->codes->pcre2_version, c, hex) ||
	    strcmp(hex, c->sum) || pcre2_serialize_get_number_of_codes(c->data) != 1 ||
	    pcre2_serialize_decode(&re, 1, c->data, NULL) != 1)
		return -1;
	if (pcre2_pattern_info(re, PCRE2_INFO_ARGOPTIONS, &opt) || opt != c->options) {
		pcre2_code_free(re);
		return -1;
	}
	*out = re;
	return 0;
}

/* Compile c's pattern (not JIT) and find its value group.  PHI_ERULE with the
 * reason in why (PCRE2's message, "failed to allocate heap memory" included). */
static uint64_t jit_budget(const struct phi_engine *e, const pcre2_code *re);

static int compile_pattern(struct crule *c, struct phi_engine *e, char *why, size_t whylen)
{
	pcre2_code *re;
	if (c->pre && decode_code(c->pre, e, &re) == 0)
		atomic_fetch_add_explicit(&e->ndecoded, 1, memory_order_relaxed);
	else if (compile_re(c->r->pattern, &re, why, whylen, 0, false))
		return PHI_ERULE;
	else
		atomic_fetch_add_explicit(&e->ncompiled, 1, memory_order_relaxed);
	e->rj[c - e->rules].budget = jit_budget(e, re);
	int n = pcre2_substring_number_from_name(re, (PCRE2_SPTR) "v");
	uint32_t caps = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &caps);
	c->vgroup = n > 0 ? (uint32_t)n : (caps >= 1 ? 1 : 0);
	c->re = re;
	return 0;
}

/* A rule whose pack the build has checked (r->verified: every pattern compiles) is
 * compiled on first use, by rule_ready: pcre2_compile of the default pack's 64
 * patterns was 49M of a 257M-instruction start-up, and most runs confirm few rules.
 * Any other rule is compiled now, so a bad pattern in a user's pack fails at start. */
static int compile_rule(struct crule *c, struct phi_engine *e, const struct phi_rule *r,
                        struct phi_error *err)
{
	char why[200];
	c->r = r;
	c->pre = find_code(e, r->pattern, 0);
	if (!r->verified && compile_pattern(c, e, why, sizeof why))
		return phi_fail(err, PHI_ERULE, "%s:%d: rule '%s': bad pattern %s", r->source, r->line,
		                r->id, why);
	c->pf = r->nkeywords ? PF_KEYWORDS : PF_PATTERN;
	c->cues = calloc(r->ncues + 1, sizeof *c->cues);
	c->cue_len = calloc(r->ncues + 1, sizeof *c->cue_len);
	if (!c->cues || !c->cue_len)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->ncues; i++) {
		if (!(c->cues[i] = lower_dup(r->cues[i])))
			return phi_fail(err, PHI_ENOMEM, "out of memory");
		c->cue_len[i] = strlen(c->cues[i]);
	}
	return 0;
}

int phi_engine_new(struct phi_engine **out, const struct phi_pack *pack,
                   const struct phi_names *names, const struct phi_engine_opts *opts,
                   struct phi_error *err)
{
	struct phi_engine *e = calloc(1, sizeof *e);
	int rc = 0;
	*out = NULL;
	if (!e)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	e->names = names;
	e->opts = *opts;
	e->ready = calloc(pack->nrules + 1, sizeof *e->ready);
	e->rj = calloc(pack->nrules + 1, sizeof *e->rj);
	e->jit_mu = malloc(sizeof *e->jit_mu);
	if (!e->ready || !e->rj || !e->jit_mu) {
		free(e->ready), free(e->rj), free(e->jit_mu), free(e);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	pthread_mutex_init(e->jit_mu, NULL);
	if (opts->codes && opts->codes->ncodes && codes_usable(opts->codes))
		e->codes = opts->codes;
	e->rules = calloc(pack->nrules + 1, sizeof *e->rules);
	e->allow = calloc(pack->nallow + 1, sizeof *e->allow);
	if (!e->rules || !e->allow) {
		phi_engine_free(e);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && i < pack->nrules; i++) {
		if (pack->rules[i].safe_harbor && !opts->safe_harbor)
			continue;
		rc = compile_rule(&e->rules[e->nrules], e, &pack->rules[i], err);
		/* a rule compiled now is ready; a verified one becomes so on first use */
		if (!rc && e->rules[e->nrules].re)
			atomic_store_explicit(&e->ready[e->nrules], 1, memory_order_relaxed);
		e->nrules++;
	}
	for (size_t i = 0; !rc && i < pack->nallow; i++) {
		const struct phi_allow *a = &pack->allow[i];
		struct callow *ca = &e->allow[e->nallow++];
		ca->a = a;
		e->path_scoped |= a->npaths > 0;
		ca->re = calloc(a->npatterns + 1, sizeof *ca->re);
		ca->aj = calloc(a->npatterns + 1, sizeof *ca->aj);
		if (!ca->re || !ca->aj)
			rc = phi_fail(err, PHI_ENOMEM, "out of memory");
		for (size_t j = 0; !rc && j < a->npatterns; j++) {
			char why[200];
			pcre2_code *re = NULL;
			const struct phi_engine_code *pre = find_code(e, a->patterns[j], ALLOW_OPTIONS);
			if (pre && decode_code(pre, e, &re) == 0)
				e->ndecoded++;
			else if (compile_re(a->patterns[j], &re, why, sizeof why, ALLOW_OPTIONS, false))
				rc = phi_fail(err, PHI_ERULE, "%s:%d: allow '%s': bad pattern %s", a->source,
				              a->line, a->id, why);
			/* decoded or compiled, the same JIT budget (adaptive JIT, below) */
			if (re && ca->re && ca->aj) {
				ca->re[j] = re;
				ca->aj[j].budget = jit_budget(e, re);
			}
		}
	}
	if (!rc)
		rc = build_db(e, err);
	if (rc) {
		phi_engine_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void phi_engine_free(struct phi_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nrules; i++) {
		struct crule *c = &e->rules[i];
		pcre2_code_free(c->re);
		pcre2_code_free(atomic_load_explicit(&e->rj[i].jit, memory_order_relaxed));
		for (size_t j = 0; c->cues && c->cues[j]; j++)
			free(c->cues[j]);
		free(c->cues);
		free(c->cue_len);
	}
	for (size_t i = 0; i < e->nallow; i++) {
		for (size_t j = 0; e->allow[i].re && j < e->allow[i].a->npatterns; j++) {
			pcre2_code_free(e->allow[i].re[j]);
			if (e->allow[i].aj)
				pcre2_code_free(
					atomic_load_explicit(&e->allow[i].aj[j].jit, memory_order_relaxed));
		}
		free(e->allow[i].re);
		free(e->allow[i].aj);
	}
	free(e->rules);
	free(e->allow);
	hs_free_database(e->db);
	pthread_mutex_destroy(e->jit_mu);
	free(e->jit_mu);
	free(e->ready);
	free(e->rj);
	free(e->id_rule);
	free(e->id_kwlen);
	free(e);
}

bool phi_engine_from_cache(const struct phi_engine *e)
{
	return e->from_cache;
}

bool phi_engine_from_prebuilt(const struct phi_engine *e)
{
	return e->from_prebuilt;
}

size_t phi_engine_compiled_count(const struct phi_engine *e)
{
	return atomic_load_explicit(&e->ncompiled, memory_order_relaxed);
}

size_t phi_engine_decoded_count(const struct phi_engine *e)
{
	return atomic_load_explicit(&e->ndecoded, memory_order_relaxed);
}

/* One code serialized alone, its sum computed, handed to fn. */
static int export_one(const pcre2_code *re, const char *pattern, unsigned options,
                      phi_engine_code_fn fn, void *arg)
{
	uint8_t *b = NULL;
	PCRE2_SIZE n = 0;
	char hex[65];
	if (pcre2_serialize_encode(&re, 1, &b, &n, NULL) != 1)
		return PHI_ENOMEM;
	struct phi_engine_code c = {pattern, options, b, n, hex};
	int rc = phi_engine_code_sum(pcre2_version(), &c, hex);
	if (!rc)
		rc = fn(arg, &c);
	pcre2_serialize_free(b);
	return rc;
}

int phi_engine_export_codes(const struct phi_engine *e, phi_engine_code_fn fn, void *arg,
                            unsigned char **probe, size_t *probe_len, const char **version,
                            const char **build_id)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < e->nrules; i++) {
		/* a verified rule is compiled on first use: now (packcheck's are not) */
		if ((rc = rule_ready(e, i)))
			return rc;
		rc = export_one(e->rules[i].re, e->rules[i].r->pattern, 0, fn, arg);
	}
	for (size_t i = 0; !rc && i < e->nallow; i++)
		for (size_t j = 0; !rc && j < e->allow[i].a->npatterns; j++)
			rc = export_one(e->allow[i].re[j], e->allow[i].a->patterns[j], ALLOW_OPTIONS,
			                fn, arg);
	if (!rc)
		rc = probe_make(probe, probe_len);
	*version = pcre2_version();
	*build_id = pcre2_build_id();
	return rc;
}

size_t phi_engine_jit_count(const struct phi_engine *e)
{
	return atomic_load_explicit(&e->njit, memory_order_relaxed);
}

size_t phi_engine_rule_count(const struct phi_engine *e)
{
	return e->nrules;
}

const struct phi_rule *phi_engine_rule(const struct phi_engine *e, size_t i,
                                       const char **prefilter)
{
	static const char *const kinds[] = {"keywords", "pattern", "none"};
	if (i >= e->nrules)
		return NULL;
	if (prefilter)
		*prefilter = kinds[e->db ? e->rules[i].pf : PF_NONE];
	return e->rules[i].r;
}

/* ---- matcher ---- */

int phi_matcher_new(struct phi_matcher **out, const struct phi_engine *e)
{
	struct phi_matcher *m = calloc(1, sizeof *m);
	*out = NULL;
	if (!m)
		return PHI_ENOMEM;
	m->e = e;
	m->only_rule = SIZE_MAX;
	m->md = pcre2_match_data_create(32, NULL);
	m->mc = pcre2_match_context_create(NULL);
	m->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	m->wins = calloc(e->nrules + 1, sizeof *m->wins);
	/* the Vectorscan scratch is allocated by the first match (match_internal): a
	 * worker that never matches, as in a run with nothing to read, needs none (it
	 * was about 2 % of an empty scan) */
	if (!m->md || !m->mc || !m->js || !m->wins) {
		phi_matcher_free(m);
		return PHI_ENOMEM;
	}
	pcre2_jit_stack_assign(m->mc, NULL, m->js);
	/* Bound backtracking: a pathological pattern on hostile text must not hang. */
	pcre2_set_match_limit(m->mc, 10 * 1000 * 1000);
	*out = m;
	return 0;
}

void phi_matcher_free(struct phi_matcher *m)
{
	if (!m)
		return;
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mc);
	pcre2_jit_stack_free(m->js);
	hs_free_scratch(m->scratch);
	for (size_t i = 0; m->wins && i < m->e->nrules; i++)
		free(m->wins[i].v);
	free(m->wins);
	free(m->hits);
	free(m->memo);
	free(m);
}

static size_t line_start(const char *t, size_t pos, size_t floor)
{
	while (pos > floor && t[pos - 1] != '\n')
		pos--;
	return pos;
}

static size_t line_end(const char *t, size_t len, size_t pos, size_t cap)
{
	const char *nl = memchr(t + pos, '\n', (cap < len ? cap : len) - pos);
	return nl ? (size_t)(nl - t) : (cap < len ? cap : len);
}

static int add_window(struct phi_matcher *m, size_t rule, size_t a, size_t b)
{
	struct wins *w = &m->wins[rule];
	if (w->n && a <= w->v[w->n - 1].b && a >= w->v[w->n - 1].a) {
		if (b > w->v[w->n - 1].b)
			w->v[w->n - 1].b = b;
		return 0;
	}
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
		struct win *t = realloc(w->v, nc * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		w->v = t;
		w->cap = nc;
	}
	w->v[w->n].a = a;
	w->v[w->n].b = b;
	w->n++;
	return 0;
}

static int on_prefilter(unsigned id, unsigned long long from, unsigned long long to,
                        unsigned flags, void *ctx)
{
	struct phi_matcher *m = ctx;
	const struct phi_engine *e = m->e;
	size_t rule = e->id_rule[id], end = (size_t)to;
	struct wins *w = &m->wins[rule];
	(void)from;
	(void)flags;
	if (m->only_rule != SIZE_MAX && rule != m->only_rule)
		return 0;
	size_t a, b, floor;
	if (w->n && end <= w->v[w->n - 1].b && end > w->v[w->n - 1].a) {
		/* Inside the last window of this rule.  A pattern hit is covered (windows
		 * end at a line end or the cap); a keyword hit still opens the line after
		 * its own ("Patient Information\nPatient Name:\nJohn Smith"). */
		if (!e->id_kwlen[id])
			return 0;
		b = line_end(m->text, m->len, end, end + WINDOW_CAP);
		if (b < m->len)
			b = line_end(m->text, m->len, b + 1, b + 1 + WINDOW_CAP);
		if (b > w->v[w->n - 1].b)
			w->v[w->n - 1].b = b;
		return 0;
	}
	if (e->id_kwlen[id]) {
		size_t ks = end >= e->id_kwlen[id] ? end - e->id_kwlen[id] : 0;
		floor = ks > WINDOW_CAP ? ks - WINDOW_CAP : 0;
		a = line_start(m->text, ks, floor);
		b = line_end(m->text, m->len, end, end + WINDOW_CAP);
		if (b < m->len) /* and the following line: "Patient Name:\nJohn Smith" */
			b = line_end(m->text, m->len, b + 1, b + 1 + WINDOW_CAP);
	} else {
		size_t last = end ? end - 1 : 0;
		floor = last > WINDOW_CAP ? last - WINDOW_CAP : 0;
		a = line_start(m->text, last, floor);
		if (end - a < PREV_LINE_MIN && a > floor) /* labels on the line before */
			a = line_start(m->text, a - 1, floor);
		b = line_end(m->text, m->len, last, end + WINDOW_CAP);
	}
	if (add_window(m, rule, a, b)) {
		m->err = PHI_ENOMEM;
		return 1;
	}
	return 0;
}

static bool word_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/* A cue word (lower-cased) as a whole word in t[a..b), case-insensitively. */
static bool find_cue(const struct crule *c, const char *t, size_t a, size_t b)
{
	for (size_t i = 0; c->cues[i]; i++) {
		size_t n = c->cue_len[i];
		if (n == 0 || b - a < n)
			continue;
		for (size_t p = a; p + n <= b; p++) {
			if (tolower((unsigned char)t[p]) != (unsigned char)c->cues[i][0])
				continue;
			if (strncasecmp(t + p, c->cues[i], n) != 0)
				continue;
			bool left = p == 0 || !word_char((unsigned char)t[p - 1]) ||
			            !word_char((unsigned char)c->cues[i][0]);
			bool right = p + n >= b || !word_char((unsigned char)t[p + n]) ||
			             !word_char((unsigned char)c->cues[i][n - 1]);
			if (left && right)
				return true;
		}
	}
	return false;
}

/* ---- adaptive JIT ----
 *
 * PCRE2's JIT makes a match 10-30x faster than its interpreter, but compiling costs
 * 40-9,000 us a pattern (the default pack's 64: about 62 ms in all).  A scan of one
 * file, or of a batch of DICOM files whose few short fields reach a handful of rules,
 * paid for compiles that never paid back (pcre2_jit_compile was about 17 % of a
 * 200-slice scan).  So a pattern runs interpreted until the time spent there reaches
 * its budget, then it is JIT-compiled.  The budget is a tenth of an estimate of its
 * JIT compile, 128 ns per byte of compiled pattern (PCRE2_INFO_SIZE; measured 50-350,
 * median about 130, on the 64 rules), times opts.jit_scale: a rule that proves hot
 * pays about 10 % more than JIT at first use did, a rule used a few times never pays
 * the compile.  (The full estimate, the ski-rental rule, cost more on the DICOM
 * benchmark: its rules are hot enough that the interpreter's time is then wasted.)
 * Measured in README, "Start-up".
 *
 * Threads: the interpreted code is never modified after it is published (a rule's
 * first use, rule_ready; an allow pattern at start), so any number of workers match
 * it.  The worker whose time crosses the budget first claims the pattern
 * (compare-exchange), JIT-compiles a private copy (pcre2_code_copy: JIT data is not
 * copied, nothing shared is written) and publishes it with a release store; workers
 * load it with acquire and use it from then on.  Nobody waits on the compile.  If
 * the JIT cannot compile the pattern it stays interpreted. */

#define JIT_NS_PER_BYTE 128.0
#define JIT_BUDGET_SHARE 0.1

static uint64_t jit_budget(const struct phi_engine *e, const pcre2_code *re)
{
	size_t size = 0;
	double scale = e->opts.jit_scale > 0 ? e->opts.jit_scale : 1.0;
	if (e->opts.jit_scale < 0)
		return 0; /* JIT after the first match */
	(void)pcre2_pattern_info(re, PCRE2_INFO_SIZE, &size);
	double ns = (double)size * JIT_NS_PER_BYTE * JIT_BUDGET_SHARE * scale;
	return ns >= 1.8e19 ? UINT64_MAX : (uint64_t)ns;
}

/* The code to match with: the published JIT copy, or re interpreted (then *t0 is
 * the start time for jit_account). */
static const pcre2_code *jit_code(struct ajit *aj, const pcre2_code *re, struct timespec *t0)
{
	const pcre2_code *j = atomic_load_explicit(&aj->jit, memory_order_acquire);
	if (j)
		return j;
	clock_gettime(CLOCK_MONOTONIC, t0);
	return re;
}

/* Add the interpreter's time since t0 to aj; past the budget, JIT a copy of re. */
static void jit_account(const struct phi_engine *e, struct ajit *aj, const pcre2_code *re,
                        const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t ns = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000000 + (t1.tv_nsec - t0->tv_nsec);
	uint64_t d = ns > 0 ? (uint64_t)ns : 0;
	uint64_t total = atomic_fetch_add_explicit(&aj->spent, d, memory_order_relaxed) + d;
	unsigned char no = 0;
	if (total < aj->budget ||
	    !atomic_compare_exchange_strong_explicit(&aj->claimed, &no, 1, memory_order_relaxed,
	                                             memory_order_relaxed))
		return;
	pcre2_code *j = pcre2_code_copy(re);
	if (j && pcre2_jit_compile(j, PCRE2_JIT_COMPLETE) == 0) {
		atomic_store_explicit(&aj->jit, j, memory_order_release);
		/* the engine is shared read-only; its lazily built parts change only
		 * through atomics and under jit_mu */
		atomic_fetch_add_explicit(&((struct phi_engine *)e)->njit, 1, memory_order_relaxed);
	} else {
		pcre2_code_free(j); /* no JIT for it: it stays interpreted */
	}
}

static bool allowed(const struct phi_engine *e, struct phi_matcher *m,
                    const struct crule *c, const char *v, size_t n, const char *path)
{
	for (size_t i = 0; i < e->nallow; i++) {
		const struct callow *ca = &e->allow[i];
		const struct phi_allow *a = ca->a;
		bool rule_ok = a->nrules == 0, path_ok = a->npaths == 0;
		for (size_t j = 0; j < a->nrules && !rule_ok; j++)
			rule_ok = !strcmp(a->rules[j], c->r->id);
		for (size_t j = 0; j < a->npaths && !path_ok && path; j++)
			path_ok = fnmatch(a->paths[j], path, 0) == 0;
		if (!rule_ok || !path_ok)
			continue;
		for (size_t j = 0; j < a->nvalues; j++)
			if (strlen(a->values[j]) == n && strncasecmp(a->values[j], v, n) == 0)
				return true;
		for (size_t j = 0; j < a->npatterns; j++) {
			/* the worker's match data: confirm() has copied out the offsets it needs,
			 * and a hot path allocates nothing */
			struct timespec t0 = {0};
			const pcre2_code *re = jit_code(&ca->aj[j], ca->re[j], &t0);
			int r = pcre2_match(re, (PCRE2_SPTR)v, n, 0, 0, m->md, m->mc);
			if (re == ca->re[j])
				jit_account(e, &ca->aj[j], re, &t0);
			if (r >= 0)
				return true;
		}
	}
	return false;
}

/* Rule ri ready to match: its pattern compiled, once, by whichever worker needs it
 * first (a verified rule's first use); c->re, c->vgroup and the JIT budget are
 * written under the mutex before the release store and read after the acquire
 * load.  PHI_ERULE when a verified pattern does not compile after all (out of
 * memory, or a PCRE2 other than the one the build checked with): the flag stays
 * clear, the field fails (the file is unscanned) and a later use tries again. */
static int rule_ready(const struct phi_engine *e, size_t ri)
{
	struct crule *c = &e->rules[ri];
	char why[200];
	int rc = 0;
	if (atomic_load_explicit(&e->ready[ri], memory_order_acquire))
		return 0;
	pthread_mutex_lock(e->jit_mu);
	if (!atomic_load_explicit(&e->ready[ri], memory_order_relaxed)) {
		/* the engine is shared read-only; its lazily built parts change only here,
		 * under the mutex */
		if (!c->re)
			rc = compile_pattern(c, (struct phi_engine *)e, why, sizeof why);
		if (!rc)
			atomic_store_explicit(&e->ready[ri], 1, memory_order_release);
	}
	pthread_mutex_unlock(e->jit_mu);
	return rc;
}

static int push_hit(struct phi_matcher *m, const struct phi_hit *h)
{
	if (m->nhits == m->caphits) {
		size_t nc = m->caphits ? m->caphits * 2 : 64;
		struct phi_hit *t = realloc(m->hits, nc * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		m->hits = t;
		m->caphits = nc;
	}
	m->hits[m->nhits++] = *h;
	return 0;
}

static bool is_b64(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/' || c == '=';
}

/* Is the value t[vs..ve) part of an unbroken run of 64 or more base64 characters?
 * Such runs are payloads (meshes, images and thumbnails base64-encoded inside XML,
 * data: URIs, hashes), not text: a "Dr" or "99yo" inside one is chance (seen in
 * the 3Shape scans of ../shared/samples/dental).  Formats that know a payload holds
 * text decode it and hand it over as its own field. */
static bool in_blob(const char *t, size_t len, size_t vs, size_t ve)
{
	size_t a = vs, b = ve;
	for (size_t i = vs; i < ve; i++)
		if (!is_b64((unsigned char)t[i]))
			return false;
	while (a > 0 && vs - a < 128 && is_b64((unsigned char)t[a - 1]))
		a--;
	while (b < len && b - ve < 128 && is_b64((unsigned char)t[b]))
		b++;
	return b - a >= 64;
}

/* Confirm one rule over text[a..b) (subject truncated at b, look-behind intact). */
static int confirm(struct phi_matcher *m, size_t ri, size_t a, size_t b, size_t from,
                   size_t to, const char *path)
{
	const struct phi_engine *e = m->e;
	const struct crule *c = &e->rules[ri];
	const struct phi_rule *r = c->r;
	const char *t = m->text;
	size_t pos = a;
	int ready = rule_ready(e, ri);
	struct timespec t0 = {0};

	if (ready)
		return ready;
	const pcre2_code *re = jit_code(&e->rj[ri], c->re, &t0);
	while (pos <= b) {
		int rc = pcre2_match(re, (PCRE2_SPTR)t, b, pos, 0, m->md, m->mc);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) /* match limit on hostile input: skip this window */
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
		size_t ms = ov[0], me = ov[1];
		pos = me > ms ? me : me + 1;
		if ((uint32_t)rc <= c->vgroup || ov[2 * c->vgroup] == PCRE2_UNSET)
			continue;
		size_t vs = ov[2 * c->vgroup], ve = ov[2 * c->vgroup + 1];
		if (ve <= vs || vs < from || vs >= to)
			continue;
		if (in_blob(t, m->len, vs, ve))
			continue;
		size_t cw = r->cue_window;
		size_t ca = vs > cw ? vs - cw : 0;
		if (ms < ca)
			ca = ms;
		bool cue = r->ncues && find_cue(c, t, ca, vs);
		if (r->cue_required && !cue)
			continue;
		double conf = cue ? r->cue_confidence : r->confidence;
		if (r->validator_id != PHI_VAL_NONE) {
			enum phi_verdict v = phi_validate(r->validator_id, t + vs, ve - vs, e->names);
			if (v == PHI_REJECT)
				continue;
			if (v == PHI_STRONG && r->cue_confidence > conf)
				conf = r->cue_confidence;
		}
		if (conf < e->opts.min_confidence)
			continue;
		if (e->nallow && allowed(e, m, c, t + vs, ve - vs, path))
			continue;
		struct phi_hit h = {.start = vs, .end = ve, .rule = r, .confidence = conf, .cue = cue};
		if (push_hit(m, &h))
			return PHI_ENOMEM;
	}
	if (re == c->re)
		jit_account(e, &e->rj[ri], re, &t0);
	return 0;
}

static int cmp_win(const void *x, const void *y)
{
	const struct win *a = x, *b = y;
	return a->a < b->a ? -1 : a->a > b->a;
}

static int cmp_hit(const void *x, const void *y)
{
	const struct phi_hit *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end > b->end ? -1 : 1;
	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	return strcmp(a->rule->id, b->rule->id);
}

/* Does hit x beat hit y when they overlap?  Longer, then more confident, then the
 * more severe class of identifier. */
static bool beats(const struct phi_hit *x, const struct phi_hit *y)
{
	size_t lx = x->end - x->start, ly = y->end - y->start;
	if (lx != ly)
		return lx > ly;
	if (x->confidence != y->confidence)
		return x->confidence > y->confidence;
	return x->rule->severity > y->rule->severity;
}

static int match_internal(struct phi_matcher *m, const char *text, size_t len, size_t from,
                          size_t to, const char *path, bool resolve, bool no_prefilter)
{
	const struct phi_engine *e = m->e;
	int rc = 0;

	m->text = text;
	m->len = len;
	m->err = 0;
	m->nhits = 0;
	if (to > len)
		to = len;
	if (from >= to || len == 0)
		return 0;
	for (size_t i = 0; i < e->nrules; i++)
		m->wins[i].n = 0;
	if (e->db && !no_prefilter) {
		if (!m->scratch && hs_alloc_scratch(e->db, &m->scratch) != HS_SUCCESS)
			return PHI_ENOMEM;
		/* Vectorscan takes an unsigned int length: scan long texts in slices that
		 * overlap by a window so no hit is lost at a seam. */
		size_t pos = 0;
		while (pos < len) {
			size_t n = len - pos > (1u << 30) ? (1u << 30) : len - pos;
			hs_error_t hr = hs_scan(e->db, text + pos, (unsigned)n, 0, m->scratch,
			                        on_prefilter, m);
			if (hr != HS_SUCCESS && hr != HS_SCAN_TERMINATED)
				return PHI_ENOMEM;
			if (m->err)
				return m->err;
			if (pos + n >= len)
				break;
			pos += n - WINDOW_CAP;
		}
	}
	for (size_t i = 0; i < e->nrules && !rc; i++) {
		if (m->only_rule != SIZE_MAX && i != m->only_rule)
			continue;
		if (e->rules[i].pf == PF_NONE || no_prefilter || !e->db) {
			rc = confirm(m, i, 0, len, from, to, path);
			continue;
		}
		struct wins *w = &m->wins[i];
		if (w->n > 1)
			qsort(w->v, w->n, sizeof *w->v, cmp_win);
		size_t done = 0; /* windows are merged as they are confirmed */
		for (size_t j = 0; j < w->n && !rc; j++) {
			size_t a = w->v[j].a > done ? w->v[j].a : done, b = w->v[j].b;
			while (j + 1 < w->n && w->v[j + 1].a <= b) {
				if (w->v[j + 1].b > b)
					b = w->v[j + 1].b;
				j++;
			}
			if (b > a || (b == a && a < len)) {
				rc = confirm(m, i, a, b, from, to, path);
				done = b;
			}
		}
	}
	if (rc)
		return rc;
	if (m->nhits > 1)
		qsort(m->hits, m->nhits, sizeof *m->hits, cmp_hit);
	if (!resolve || m->nhits < 2)
		return 0;
	/* Overlap resolution, greedy in start order. */
	size_t k = 0;
	for (size_t i = 0; i < m->nhits; i++) {
		struct phi_hit *h = &m->hits[i];
		if (k && h->start < m->hits[k - 1].end) {
			if (beats(h, &m->hits[k - 1]))
				m->hits[k - 1] = *h;
			continue;
		}
		m->hits[k++] = *h;
	}
	m->nhits = k;
	return 0;
}

/* ---- memo ----
 *
 * A worker meets the same short values again and again: every slice of a CT series
 * repeats its institution, station, manufacturer, descriptions and IDs, and the
 * rules' verdict on a value depends only on its bytes (the patterns, cues, validators,
 * names and allowlists are fixed once the engine is built).  So a matcher remembers
 * its last verdicts on short values: a two-way table keyed by the bytes (FNV-1a, then
 * compared whole; the older of a set's two is replaced), the span asked for and the hits found, resolved.  A value seen
 * before costs a hash and a compare instead of a Vectorscan pass and PCRE2 confirms,
 * and a rule used on a series' few repeated values never becomes hot enough to be
 * JIT-compiled (engine.c, adaptive JIT: that compile was about a quarter of a
 * 200-slice scan).  Not memoized: values over MEMO_TEXT bytes, verdicts of more than
 * MEMO_HITS hits, failed matches (an error is never remembered), and everything when
 * an allow entry is scoped by path (the verdict then depends on the file). */

#define MEMO_SETS 128 /* a power of two; two slots each */
#define MEMO_TEXT 128
#define MEMO_HITS 4

struct memo_slot {
	uint64_t key; /* FNV-1a of the text, the window mixed in; 0 = empty */
	uint32_t len, from, to;
	uint32_t nhits;
	struct phi_hit hits[MEMO_HITS];
	char text[MEMO_TEXT];
};

struct memo {
	struct memo_slot slot[MEMO_SETS][2];
	unsigned char next[MEMO_SETS]; /* the slot of the set to refill: the older one */
};

/* The set text[0..len) with [from, to) maps to, or NULL when it is not memoized;
 * *key is its key.  The table is allocated on first use (none if that fails). */
static struct memo_slot *memo_set(struct phi_matcher *m, const char *text, size_t len,
                                  size_t from, size_t to, uint64_t *key, size_t *set)
{
	if (m->memo_off || m->e->path_scoped || m->only_rule != SIZE_MAX || len > MEMO_TEXT ||
	    len == 0 || from >= to || to > len)
		return NULL;
	if (!m->memo && !(m->memo = calloc(1, sizeof *m->memo))) {
		m->memo_off = true; /* out of memory: match without it */
		return NULL;
	}
	uint64_t h = phi_fnv1a(text, len) ^ ((uint64_t)from << 40 ^ (uint64_t)to << 20);
	*key = h ? h : 1;
	*set = (size_t)(*key ^ *key >> 32) & (MEMO_SETS - 1);
	return m->memo->slot[*set];
}

static bool memo_has(const struct memo_slot *s, uint64_t key, const char *text, size_t len,
                     size_t from, size_t to)
{
	return s->key == key && s->len == len && s->from == from && s->to == to &&
	       !memcmp(s->text, text, len);
}

/* Remember m's hits in the older slot of set; the other becomes the older. */
static void memo_put(struct memo *mm, size_t set, uint64_t key, const struct phi_matcher *m,
                     const char *text, size_t len, size_t from, size_t to)
{
	if (m->nhits > MEMO_HITS)
		return; /* too many to keep: matched again next time */
	unsigned w = mm->next[set];
	struct memo_slot *s = &mm->slot[set][w];
	mm->next[set] = (unsigned char)!w;
	s->key = key;
	s->len = (uint32_t)len;
	s->from = (uint32_t)from;
	s->to = (uint32_t)to;
	s->nhits = (uint32_t)m->nhits;
	if (m->nhits)
		memcpy(s->hits, m->hits, m->nhits * sizeof *m->hits);
	memcpy(s->text, text, len);
}

void phi_matcher_memo(struct phi_matcher *m, bool on)
{
	m->memo_off = !on;
}

size_t phi_matcher_memo_hits(const struct phi_matcher *m)
{
	return m->memo_hits;
}

int phi_engine_match(struct phi_matcher *m, const char *text, size_t len, size_t from,
                     size_t to, const char *path, phi_hit_fn fn, void *arg)
{
	uint64_t key = 0;
	size_t set = 0;
	struct memo_slot *ways = memo_set(m, text, len, from, to, &key, &set);
	const struct memo_slot *s = NULL;
	for (unsigned w = 0; ways && w < 2 && !s; w++)
		if (memo_has(&ways[w], key, text, len, from, to)) {
			s = &ways[w];
			m->memo->next[set] = (unsigned char)!w; /* the other is now the older */
		}
	if (s) {
		/* hits were remembered from m->hits, so it holds at least as many */
		if (s->nhits)
			memcpy(m->hits, s->hits, s->nhits * sizeof *m->hits);
		m->nhits = s->nhits;
		m->text = text;
		m->len = len;
		m->memo_hits++;
	} else {
		int rc = match_internal(m, text, len, from, to, path, true, false);
		if (rc)
			return rc;
		if (ways)
			memo_put(m->memo, set, key, m, text, len, from, to);
	}
	for (size_t i = 0; i < m->nhits; i++)
		if (fn(arg, &m->hits[i]))
			break;
	return 0;
}

/* ---- rule examples ---- */

static bool hits_value(const struct phi_matcher *m, const char *text, const char *value)
{
	for (size_t i = 0; i < m->nhits; i++) {
		size_t n = m->hits[i].end - m->hits[i].start;
		if (!value || (strlen(value) == n && !memcmp(text + m->hits[i].start, value, n)))
			return true;
	}
	return false;
}

int phi_engine_test_examples(const struct phi_engine *e, phi_example_fail_fn fn, void *arg,
                             size_t *nexamples)
{
	struct phi_matcher *m;
	int failed = 0;
	size_t count = 0;
	char why[256];

	if (phi_matcher_new(&m, e))
		return PHI_ENOMEM;
	for (size_t i = 0; i < e->nrules; i++) {
		const struct phi_rule *r = e->rules[i].r;
		m->only_rule = i;
		for (size_t j = 0; j < r->nmatch; j++) {
			const char *t = r->match[j].text;
			count++;
			if (match_internal(m, t, strlen(t), 0, strlen(t), NULL, false, false)) {
				failed++;
				fn(arg, r, t, "engine error");
				continue;
			}
			if (!hits_value(m, t, r->match[j].value)) {
				bool full = !match_internal(m, t, strlen(t), 0, strlen(t), NULL, false, true) &&
				            hits_value(m, t, r->match[j].value);
				snprintf(why, sizeof why, "%s", full ? "found by the pattern but missed by the prefilter (keywords?)"
				         : r->match[j].value ? "expected value not matched" : "no match");
				failed++;
				fn(arg, r, t, why);
			}
		}
		for (size_t j = 0; j < r->nno_match; j++) {
			const char *t = r->no_match[j].text;
			count++;
			if (match_internal(m, t, strlen(t), 0, strlen(t), NULL, false, true) ||
			    m->nhits) {
				failed++;
				fn(arg, r, t, "matched, but must not");
			}
		}
	}
	phi_matcher_free(m);
	if (nexamples)
		*nexamples = count;
	return failed;
}
