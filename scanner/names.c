/* names.c - the person-name gazetteer: given names, surnames and common words.
 *
 * Three word lists (rules/names/given.txt, surnames.txt, common.txt; format and
 * sources in names.h and rules/names/extract.sh) are loaded into case-insensitive
 * hash sets: open addressing with linear probing, keys folded to ASCII lowercase
 * (bytes >= 0x80 are compared as they are).  Each set also keeps its words in file
 * order, spelled as in the file, for phi_names_given_at / phi_names_surname_at.
 *
 * File format: one word per line; '#' starts a comment (to end of line); leading
 * and trailing blanks (space, tab, CR) are trimmed; blank lines are skipped;
 * duplicates are kept once.  Limits: PHI_NAMES_MAX_LEN bytes per word and
 * PHI_NAMES_MAX_ENTRIES words per list, beyond which loading fails with PHI_ELIMIT.
 *
 * Threading: loaded in main before workers start, then read-only (lookups do not
 * write).  Ownership: a phi_names owns every string; phi_names_free releases all.
 */
#include "names.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHI_NAMES_MAX_LEN 64
#define PHI_NAMES_MAX_ENTRIES 1000000u

/* Keys and words live in blocks of one arena per set, not one allocation each: the
 * three lists are about 6,500 words, and 13,000 mallocs at start and as many frees
 * at exit were most of the gazetteer's share of an empty scan. */
#define ARENA_BLOCK 32768

struct arena_block {
	struct arena_block *next;
	size_t used;
	char data[ARENA_BLOCK];
};

struct phi_wordset {
	char **slot;      /* cap entries; NULL = empty; lowercase keys (in arena) */
	size_t cap;       /* power of two, kept at most half full */
	char **order;     /* words in file order, file spelling (in arena) */
	size_t n;
	size_t order_cap;
	struct arena_block *arena; /* newest first; owns every key and word */
};

struct phi_names {
	struct phi_wordset given;
	struct phi_wordset surname;
	struct phi_wordset common;
};

static unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* FNV-1a over the folded bytes. */
static uint64_t hash_folded(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= fold((unsigned char)s[i]);
		h *= 1099511628211ull;
	}
	return h;
}

/* key is stored folded and NUL-terminated; s[0..n) is compared folded. */
static bool key_eq(const char *key, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (key[i] == '\0' || (unsigned char)key[i] != fold((unsigned char)s[i]))
			return false;
	}
	return key[n] == '\0';
}

/* Index of the slot holding s, or of the empty slot where it would go. */
static size_t probe(const struct phi_wordset *ws, const char *s, size_t n)
{
	size_t mask = ws->cap - 1;
	size_t i = (size_t)hash_folded(s, n) & mask;
	while (ws->slot[i] && !key_eq(ws->slot[i], s, n))
		i = (i + 1) & mask;
	return i;
}

static bool set_has(const struct phi_wordset *ws, const char *s, size_t n)
{
	if (!ws->cap || n == 0 || n > PHI_NAMES_MAX_LEN)
		return false;
	return ws->slot[probe(ws, s, n)] != NULL;
}

/* Double the table (at least 1,024 slots), or make it `want` slots at once. */
static int set_grow(struct phi_wordset *ws, size_t want)
{
	size_t ncap = ws->cap ? ws->cap * 2 : 1024;
	while (ncap < want)
		ncap *= 2;
	char **ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return PHI_ENOMEM;
	for (size_t i = 0; i < ws->cap; i++) {
		char *k = ws->slot[i];
		if (!k)
			continue;
		size_t j = (size_t)hash_folded(k, strlen(k)) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = k;
	}
	free(ws->slot);
	ws->slot = ns;
	ws->cap = ncap;
	return 0;
}

/* Add s[0..n) (n <= PHI_NAMES_MAX_LEN); a duplicate is ignored.  The table is
 * grown first, so the word is hashed and probed once. */
static int set_add(struct phi_wordset *ws, const char *s, size_t n)
{
	if ((ws->n + 1) * 2 > ws->cap) {
		int rc = set_grow(ws, 0);
		if (rc)
			return rc;
	}
	size_t at = probe(ws, s, n);
	if (ws->slot[at])
		return 0;
	if (ws->n >= PHI_NAMES_MAX_ENTRIES)
		return PHI_ELIMIT;
	if (ws->n == ws->order_cap) {
		size_t ncap = ws->order_cap ? ws->order_cap * 2 : 1024;
		char **no = realloc(ws->order, ncap * sizeof *no);
		if (!no)
			return PHI_ENOMEM;
		ws->order = no;
		ws->order_cap = ncap;
	}
	/* n <= PHI_NAMES_MAX_LEN: both strings always fit in a fresh block */
	struct arena_block *b = ws->arena;
	if (!b || ARENA_BLOCK - b->used < 2 * (n + 1)) {
		b = malloc(sizeof *b);
		if (!b)
			return PHI_ENOMEM;
		b->next = ws->arena;
		b->used = 0;
		ws->arena = b;
	}
	char *key = b->data + b->used;
	char *word = key + n + 1;
	b->used += 2 * (n + 1);
	for (size_t i = 0; i < n; i++)
		key[i] = (char)fold((unsigned char)s[i]);
	key[n] = '\0';
	memcpy(word, s, n);
	word[n] = '\0';
	ws->slot[at] = key;
	ws->order[ws->n++] = word;
	return 0;
}

static void set_free(struct phi_wordset *ws)
{
	while (ws->arena) {
		struct arena_block *next = ws->arena->next;
		free(ws->arena);
		ws->arena = next;
	}
	free(ws->slot);
	free(ws->order);
	memset(ws, 0, sizeof *ws);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Load dir/file into ws.  A missing file is PHI_EIO unless optional. */
static int load_list(struct phi_wordset *ws, const char *dir, const char *file,
                     bool optional, struct phi_error *err)
{
	char path[4096];
	int plen = snprintf(path, sizeof path, "%s/%s", dir, file);
	if (plen < 0 || (size_t)plen >= sizeof path)
		return phi_fail(err, PHI_ELIMIT, "%s: name list path too long", file);

	FILE *f = fopen(path, "r");
	if (!f) {
		if (optional && errno == ENOENT)
			return 0;
		return phi_fail(err, PHI_EIO, "%s: cannot open: %s", path, strerror(errno));
	}
	/* sized once for the words the file likely holds (the Census lists average 7
	 * bytes a line; twice the slots), not doubled four times on the way; a file
	 * of shorter lines grows the table as before */
	struct stat st;
	if (!ws->cap && fstat(fileno(f), &st) == 0 && st.st_size > 0 &&
	    (uint64_t)st.st_size / 4 < PHI_NAMES_MAX_ENTRIES && set_grow(ws, (size_t)st.st_size / 3)) {
		fclose(f);
		return phi_fail(err, PHI_ENOMEM, "%s: out of memory loading names", path);
	}

	/* A line longer than the buffer is longer than any allowed word plus room for
	 * blanks and a comment; lines are read in pieces so no length is unbounded. */
	char line[1024];
	unsigned long lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		bool whole = (len > 0 && line[len - 1] == '\n') || feof(f);
		if (!whole) {
			rc = phi_fail(err, PHI_ELIMIT, "%s:%lu: line longer than %zu bytes",
			              path, lineno, sizeof line - 2);
			break;
		}
		char *hash = memchr(line, '#', len);
		if (hash)
			len = (size_t)(hash - line);
		size_t a = 0;
		while (a < len && is_blank(line[a]))
			a++;
		while (len > a && is_blank(line[len - 1]))
			len--;
		if (a == len)
			continue;
		if (memchr(line + a, '\0', len - a)) {
			rc = phi_fail(err, PHI_EFORMAT, "%s:%lu: NUL byte in name", path, lineno);
			break;
		}
		if (len - a > PHI_NAMES_MAX_LEN) {
			rc = phi_fail(err, PHI_ELIMIT, "%s:%lu: name longer than %d bytes", path,
			              lineno, PHI_NAMES_MAX_LEN);
			break;
		}
		rc = set_add(ws, line + a, len - a);
		if (rc == PHI_ELIMIT) {
			rc = phi_fail(err, PHI_ELIMIT, "%s:%lu: more than %u names", path, lineno,
			              PHI_NAMES_MAX_ENTRIES);
			break;
		}
		if (rc) {
			rc = phi_fail(err, rc, "%s: out of memory loading names", path);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = phi_fail(err, PHI_EIO, "%s: read error", path);
	fclose(f);
	return rc;
}

int phi_names_load(struct phi_names **out, const char *dir, struct phi_error *err)
{
	*out = NULL;
	struct phi_names *g = calloc(1, sizeof *g);
	if (!g)
		return phi_fail(err, PHI_ENOMEM, "out of memory loading names");

	int rc = load_list(&g->given, dir, "given.txt", false, err);
	if (!rc)
		rc = load_list(&g->surname, dir, "surnames.txt", false, err);
	if (!rc)
		rc = load_list(&g->common, dir, "common.txt", true, err);
	/* *_at promises a name for a loaded list, so an empty list is an error. */
	if (!rc && g->given.n == 0)
		rc = phi_fail(err, PHI_ERULE, "%s/given.txt: no names", dir);
	if (!rc && g->surname.n == 0)
		rc = phi_fail(err, PHI_ERULE, "%s/surnames.txt: no names", dir);
	if (rc) {
		phi_names_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void phi_names_free(struct phi_names *n)
{
	if (!n)
		return;
	set_free(&n->given);
	set_free(&n->surname);
	set_free(&n->common);
	free(n);
}

bool phi_names_is_given(const struct phi_names *g, const char *s, size_t n)
{
	return g && set_has(&g->given, s, n);
}

bool phi_names_is_surname(const struct phi_names *g, const char *s, size_t n)
{
	return g && set_has(&g->surname, s, n);
}

bool phi_names_is_common(const struct phi_names *g, const char *s, size_t n)
{
	return g && set_has(&g->common, s, n);
}

const char *phi_names_given_at(const struct phi_names *g, unsigned long i)
{
	if (!g || !g->given.n)
		return NULL;
	return g->given.order[i % g->given.n];
}

const char *phi_names_surname_at(const struct phi_names *g, unsigned long i)
{
	if (!g || !g->surname.n)
		return NULL;
	return g->surname.order[i % g->surname.n];
}
