/* pathname.c - a path component as a field: rules, case sweep, mask, rename.
 * See pathname.h.
 */
#include "pathname.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

struct cscan {
	struct phi_name_comp *c;
};

static int on_rule(void *arg, const struct phi_hit *h)
{
	struct phi_name_comp *c = ((struct cscan *)arg)->c;
	if (c->nsp < PHI_NAME_MAX_SPANS)
		c->sp[c->nsp++] = (struct phi_name_span_hit){h->start, h->end, h->rule->id,
		                                             h->rule->cls->name, h->rule->severity,
		                                             h->confidence};
	return 0;
}

static int on_case(void *arg, size_t start, size_t end, const char *cls, const char *rule)
{
	struct phi_name_comp *c = ((struct cscan *)arg)->c;
	for (size_t i = 0; i < c->nsp; i++)
		if (c->sp[i].start < end && start < c->sp[i].end)
			return 0;
	if (c->nsp < PHI_NAME_MAX_SPANS)
		c->sp[c->nsp++] = (struct phi_name_span_hit){start, end, rule, cls, PHI_SEV_PATIENT, 0.95};
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct phi_name_span_hit *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static char *mask(const char *t, size_t n, const struct phi_name_span_hit *sp, size_t nsp)
{
	char *m = malloc(n + 1);
	if (!m)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		bool in = false;
		for (size_t k = 0; k < nsp && !in; k++)
			in = sp[k].start <= i && i < sp[k].end;
		unsigned char ch = (unsigned char)t[i];
		if (!in)
			m[o++] = (char)ch;
		else if (ch >= 0x80)
			m[o++] = (ch & 0xC0) == 0x80 ? 0 : '*';
		else
			m[o++] = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
			             ? '*'
			             : (char)ch;
		if (m[o - 1] == 0)
			o--; /* one star per non-ASCII character */
	}
	m[o] = 0;
	return m;
}

void phi_name_comp_clear(struct phi_name_comp *c)
{
	free(c->text), free(c->masked), free(c->renamed);
	memset(c, 0, sizeof *c);
}

const char *phi_name_code(const struct phi_name_ctx *x)
{
	return x->cases ? phi_cases_code(x->cases, x->kase) : "case";
}

int phi_name_scan(const struct phi_name_ctx *x, const char *t, size_t n, struct phi_name_comp *c)
{
	memset(c, 0, sizeof *c);
	if (!(c->text = strndup(t, n)))
		return PHI_ENOMEM;
	/* rules see '_' as a space: in "Smith_2025-07-24_Upper" a word boundary
	 * (\b, (?<![A-Za-z0-9_])) would otherwise never fall around the date */
	char *sp = strndup(t, n);
	if (!sp)
		return PHI_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (sp[i] == '_')
			sp[i] = ' ';
	struct cscan cs = {c};
	int rc = phi_engine_match(x->m, sp, n, 0, n, NULL, on_rule, &cs);
	free(sp);
	if (!rc && x->sweep && x->cases)
		rc = phi_cases_match(x->cases, x->sw, x->kase, t, n, 0, n, on_case, &cs);
	if (rc)
		return rc;
	qsort(c->sp, c->nsp, sizeof *c->sp, cmp_span);
	if (!(c->masked = x->show_values ? strndup(t, n) : mask(t, n, c->sp, c->nsp)))
		return PHI_ENOMEM;
	struct phi_name_span ns[PHI_NAME_MAX_SPANS];
	for (size_t i = 0; i < c->nsp; i++)
		ns[i] = (struct phi_name_span){c->sp[i].start, c->sp[i].end, c->sp[i].cls};
	char out[1024];
	if (c->nsp)
		phi_case_rename(t, n, ns, c->nsp, phi_name_code(x), out, sizeof out);
	else
		snprintf(out, sizeof out, "%.*s", (int)n, t);
	return (c->renamed = strdup(out)) ? 0 : PHI_ENOMEM;
}

int phi_name_findings(const struct phi_name_ctx *x, const struct phi_name_comp *c,
                      const char *masked_path, bool rename, struct phi_finding **v, size_t *n)
{
	for (size_t i = 0; i < c->nsp; i++) {
		const struct phi_name_span_hit *s = &c->sp[i];
		struct phi_finding *t = realloc(*v, (*n + 1) * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		*v = t;
		struct phi_finding *f = &t[*n];
		memset(f, 0, sizeof *f);
		const struct phi_class_info *ci = phi_class_find(s->cls);
		f->rule = strdup(s->rule);
		f->cls = ci ? ci->name : "name";
		f->severity = s->sev;
		f->confidence = s->conf;
		f->field = strdup("file name");
		f->start = f->end = PHI_NO_OFFSET;
		f->excerpt = strdup(masked_path);
		if (x->show_values)
			f->value = strndup(c->text + s->start, s->end - s->start);
		if (rename) {
			bool id = strcmp(f->cls, "date") && strcmp(f->cls, "age") &&
			          strcmp(f->cls, "address") && strcmp(f->cls, "zip");
			f->replacement = strdup(id ? phi_name_code(x) : "");
		}
		(*n)++;
		if (!f->rule || !f->field || !f->excerpt || (x->show_values && !f->value) ||
		    (rename && !f->replacement))
			return PHI_ENOMEM;
	}
	return 0;
}
