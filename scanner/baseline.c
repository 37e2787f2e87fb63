/* baseline.c - known findings by keyed fingerprint (see baseline.h for why keyed).
 *
 * Entries are kept in an array, sorted and deduplicated before a lookup table is
 * needed (phi_baseline_read sorts once; phi_baseline_write sorts what was added).
 * Lookups are binary searches over 16-byte fingerprints.
 *
 * Threading and ownership: see baseline.h.
 */
#include "baseline.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_ID_BYTES 8
/* A rule id in the file is at most this long (ids are short words). */
#define RULE_MAX 128
/* Entries a baseline may hold: 16M lines is a corrupt or hostile file. */
#define ENTRIES_MAX (1u << 24)

struct entry {
	unsigned char fp[PHI_FP_BYTES];
	char rule[RULE_MAX];
};

struct phi_baseline {
	unsigned char key[crypto_generichash_KEYBYTES];
	char key_id[KEY_ID_BYTES * 2 + 1];
	struct entry *v;
	size_t n, cap;
	bool sorted;
};

static const char ctx[] = "phiscan baseline v1";

int phi_baseline_new(struct phi_baseline **out, const unsigned char key[32],
                     struct phi_error *err)
{
	unsigned char id[KEY_ID_BYTES];
	struct phi_baseline *b;
	*out = NULL;
	if (sodium_init() < 0)
		return phi_fail(err, PHI_EIO, "libsodium could not be initialised");
	if (!(b = calloc(1, sizeof *b)))
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	/* a subkey: the strip key is never used for this directly */
	crypto_generichash(b->key, sizeof b->key, (const unsigned char *)ctx, sizeof ctx - 1, key,
	                   32);
	static const char idmsg[] = "phiscan baseline key id";
	crypto_generichash(id, sizeof id, (const unsigned char *)idmsg, sizeof idmsg - 1, b->key,
	                   sizeof b->key);
	sodium_bin2hex(b->key_id, sizeof b->key_id, id, sizeof id);
	b->sorted = true;
	*out = b;
	return 0;
}

void phi_baseline_free(struct phi_baseline *b)
{
	if (!b)
		return;
	sodium_memzero(b->key, sizeof b->key);
	free(b->v);
	free(b);
}

int phi_baseline_key_file(const char *baseline_path, bool create, char *out, size_t cap,
                          struct phi_error *err)
{
	if ((size_t)snprintf(out, cap, "%s.key", baseline_path) >= cap)
		return phi_fail(err, PHI_ELIMIT, "%s: path too long", baseline_path);
	if (access(out, F_OK) == 0)
		return 0;
	if (!create)
		return phi_fail(err, PHI_EUSAGE,
		                "%s: no baseline key (it was written with --key, or its .key file was "
		                "not kept beside it): give --key FILE", out);
	unsigned char k[32];
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return phi_fail(err, PHI_EIO, "%s: cannot create the baseline key: %s", out,
		                strerror(errno));
	randombytes_buf(k, sizeof k);
	ssize_t w = write(fd, k, sizeof k);
	sodium_memzero(k, sizeof k);
	if (w != (ssize_t)sizeof k || fsync(fd) || close(fd)) {
		int e = errno;
		unlink(out);
		return phi_fail(err, PHI_EIO, "%s: cannot write the baseline key: %s", out,
		                strerror(e ? e : EIO));
	}
	return 0;
}

void phi_baseline_fingerprint(const struct phi_baseline *b, const char *path, const char *rule,
                              const char *value, size_t vlen, unsigned char fp[PHI_FP_BYTES])
{
	crypto_generichash_state st;
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	crypto_generichash_init(&st, b->key, sizeof b->key, PHI_FP_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)path, strlen(path) + 1);
	crypto_generichash_update(&st, (const unsigned char *)rule, strlen(rule) + 1);
	crypto_generichash_update(&st, (const unsigned char *)value, vlen);
	crypto_generichash_final(&st, fp, PHI_FP_BYTES);
}

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(((const struct entry *)a)->fp, ((const struct entry *)b)->fp, PHI_FP_BYTES);
}

static void sort_unique(struct phi_baseline *b)
{
	if (b->sorted)
		return;
	qsort(b->v, b->n, sizeof *b->v, cmp_entry);
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++)
		if (k == 0 || memcmp(b->v[k - 1].fp, b->v[i].fp, PHI_FP_BYTES))
			b->v[k++] = b->v[i];
	b->n = k;
	b->sorted = true;
}

int phi_baseline_add(struct phi_baseline *b, const unsigned char fp[PHI_FP_BYTES],
                     const char *rule)
{
	if (b->n == b->cap) {
		if (b->n >= ENTRIES_MAX)
			return PHI_ELIMIT;
		size_t nc = b->cap ? b->cap * 2 : 64;
		struct entry *t = realloc(b->v, nc * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		b->v = t;
		b->cap = nc;
	}
	struct entry *e = &b->v[b->n++];
	memcpy(e->fp, fp, PHI_FP_BYTES);
	snprintf(e->rule, sizeof e->rule, "%s", rule && *rule ? rule : "-");
	/* one word on its line, whatever a user pack names its rules */
	for (char *c = e->rule; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			*c = '_';
	b->sorted = false;
	return 0;
}

bool phi_baseline_has(const struct phi_baseline *b, const unsigned char fp[PHI_FP_BYTES])
{
	struct entry key;
	memcpy(key.fp, fp, PHI_FP_BYTES);
	return b->n && bsearch(&key, b->v, b->n, sizeof *b->v, cmp_entry) != NULL;
}

size_t phi_baseline_count(const struct phi_baseline *b)
{
	return b->n;
}

int phi_baseline_read(struct phi_baseline *b, const char *path, struct phi_error *err)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	unsigned long ln = 0;
	bool have_id = false;
	int rc = 0;

	if (!fp)
		return phi_fail(err, PHI_EUSAGE, "%s: cannot read the baseline: %s", path,
		                strerror(errno));
	while (!rc && fgets(line, sizeof line, fp)) {
		ln++;
		size_t n = strlen(line);
		if (n && line[n - 1] != '\n' && !feof(fp)) {
			rc = phi_fail(err, PHI_EFORMAT, "%s:%lu: line too long", path, ln);
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n || line[0] == '#')
			continue;
		if (!strncmp(line, "key-id ", 7)) {
			if (strcmp(line + 7, b->key_id))
				rc = phi_fail(err, PHI_EUSAGE,
				              "%s:%lu: the baseline was written with another key "
				              "(give the same --key, or keep %s.key beside it)",
				              path, ln, path);
			have_id = true;
			continue;
		}
		unsigned char fpb[PHI_FP_BYTES];
		size_t got = 0;
		const char *end = NULL;
		if (!have_id)
			rc = phi_fail(err, PHI_EFORMAT, "%s:%lu: entry before the key-id line", path, ln);
		else if (sodium_hex2bin(fpb, sizeof fpb, line, n, NULL, &got, &end) || got != sizeof fpb ||
		         (*end && *end != ' '))
			rc = phi_fail(err, PHI_EFORMAT, "%s:%lu: not a fingerprint line", path, ln);
		else if ((rc = phi_baseline_add(b, fpb, *end ? end + 1 : "-")))
			rc = phi_fail(err, rc, "%s: %s", path,
			              rc == PHI_ELIMIT ? "too many entries" : "out of memory");
	}
	if (!rc && ferror(fp))
		rc = phi_fail(err, PHI_EIO, "%s: read error", path);
	if (!rc && !have_id)
		rc = phi_fail(err, PHI_EFORMAT, "%s: not a phiscan baseline (no key-id line)", path);
	fclose(fp);
	sort_unique(b);
	return rc;
}

int phi_baseline_write(struct phi_baseline *b, const char *path, struct phi_error *err)
{
	char tmp[4096];
	char hex[PHI_FP_BYTES * 2 + 1];
	sort_unique(b);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= sizeof tmp)
		return phi_fail(err, PHI_ELIMIT, "%s: path too long", path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return phi_fail(err, PHI_EIO, "%s: cannot write the baseline: %s", path,
		                strerror(errno));
	FILE *fp = fdopen(fd, "w");
	if (!fp) {
		close(fd);
		unlink(tmp);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	fprintf(fp,
	        "# phiscan baseline v1: keyed fingerprints of known findings, no identifiers.\n"
	        "# Findings listed here are not reported by 'phiscan scan --baseline FILE'.\n"
	        "key-id %s\n",
	        b->key_id);
	for (size_t i = 0; i < b->n; i++) {
		sodium_bin2hex(hex, sizeof hex, b->v[i].fp, PHI_FP_BYTES);
		fprintf(fp, "%s %s\n", hex, b->v[i].rule);
	}
	int bad = fflush(fp) || ferror(fp) || fsync(fd);
	int e = errno;
	if (fclose(fp) || bad || rename(tmp, path)) {
		if (!bad)
			e = errno;
		unlink(tmp);
		return phi_fail(err, PHI_EIO, "%s: cannot write the baseline: %s", path,
		                strerror(e ? e : EIO));
	}
	return 0;
}

static bool in_baseline(void *arg, const struct phi_finding *f)
{
	return f->has_fp && phi_baseline_has(arg, f->fp);
}

size_t phi_baseline_filter(const struct phi_baseline *b, struct phi_result *res)
{
	return phi_result_remove_if(res, in_baseline, (void *)b);
}
