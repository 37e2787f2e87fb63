/* finding.c - a file's scan result: the growable findings array and its release.
 *
 * Threading: a phi_result belongs to one thread at a time (the worker that builds
 * it, then the reporter); nothing here is shared.
 *
 * Ownership: phi_result_add *consumes* the finding in every case.  On success its
 * owned strings now belong to r; on failure (out of memory, too many findings) they
 * are released here, so a caller never frees a finding it has handed over and never
 * leaks one either.  phi_result_clear releases everything r owns and leaves r zeroed
 * (reusable); phi_result_free also frees r itself.  The identifier value, when held
 * (--show-values), is wiped before its memory is returned.
 */
#include "finding.h"

#include <stdlib.h>
#include <string.h>

/* A hard cap on findings kept per file: a pathological input (a million e-mail
 * addresses in one log) must not grow a worker without bound.  Beyond it, add fails
 * with PHI_ELIMIT and the caller reports the file as truncated. */
#define PHI_MAX_FINDINGS_PER_FILE (1u << 20)

static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void finding_release(struct phi_finding *f)
{
	free(f->rule);
	free(f->field);
	free(f->excerpt);
	free_secret(f->value);
	free(f->replacement);
	memset(f, 0, sizeof *f);
}

int phi_result_add(struct phi_result *r, const struct phi_finding *f)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		if (r->n >= PHI_MAX_FINDINGS_PER_FILE) {
			struct phi_finding tmp = *f;
			finding_release(&tmp);
			return PHI_ELIMIT;
		}
		if (cap > PHI_MAX_FINDINGS_PER_FILE)
			cap = PHI_MAX_FINDINGS_PER_FILE;
		struct phi_finding *v = realloc(r->v, cap * sizeof *v);
		if (!v) {
			struct phi_finding tmp = *f;
			finding_release(&tmp);
			return PHI_ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *f;
	return 0;
}

int phi_result_fact(struct phi_result *r, const char *name, const char *value)
{
	char *v = strdup(value);
	if (!v)
		return PHI_ENOMEM;
	for (size_t i = 0; i < r->nfacts; i++)
		if (!strcmp(r->facts[i].name, name)) {
			free(r->facts[i].value);
			r->facts[i].value = v;
			return 0;
		}
	char *n = strdup(name);
	struct phi_fact *t = n ? realloc(r->facts, (r->nfacts + 1) * sizeof *t) : NULL;
	if (!t) {
		free(n);
		free(v);
		return PHI_ENOMEM;
	}
	r->facts = t;
	r->facts[r->nfacts++] = (struct phi_fact){n, v};
	return 0;
}

const char *phi_result_get_fact(const struct phi_result *r, const char *name)
{
	for (size_t i = 0; i < r->nfacts; i++)
		if (!strcmp(r->facts[i].name, name))
			return r->facts[i].value;
	return NULL;
}

void phi_result_drop_findings(struct phi_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		finding_release(&r->v[i]);
	r->flushed += r->n;
	r->n = 0;
}

size_t phi_result_remove_if(struct phi_result *r,
                            bool (*drop)(void *arg, const struct phi_finding *f), void *arg)
{
	size_t kept = 0, n = r->n;
	for (size_t i = 0; i < n; i++) {
		if (drop(arg, &r->v[i]))
			finding_release(&r->v[i]);
		else
			r->v[kept++] = r->v[i];
	}
	r->n = kept;
	return n - kept;
}

void phi_result_clear(struct phi_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		finding_release(&r->v[i]);
	free(r->v);
	free(r->path);
	free(r->reason);
	free(r->out_path);
	for (size_t i = 0; i < r->nfacts; i++) {
		free(r->facts[i].name);
		free(r->facts[i].value);
	}
	free(r->facts);
	memset(r, 0, sizeof *r);
}

void phi_result_free(struct phi_result *r)
{
	if (!r)
		return;
	phi_result_clear(r);
	free(r);
}
