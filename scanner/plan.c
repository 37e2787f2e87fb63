/* plan.c - record the walk, harvest the cases, scan and rename every path.  See
 * plan.h.
 */
#include "plan.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "walk.h"

#define MAX_SPANS 32

int phi_plan_add(struct phi_plan *p, int kind, const char *path, const char *rel,
                 const char *reason, size_t root)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 256;
		struct phi_plan_entry *t = realloc(p->v, nc * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		p->v = t;
		p->cap = nc;
	}
	struct phi_plan_entry *e = &p->v[p->n];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->root = root;
	e->path = strdup(path);
	e->rel = strdup(rel);
	e->reason = reason ? strdup(reason) : NULL;
	if (!e->path || !e->rel || (reason && !e->reason)) {
		free(e->path), free(e->rel), free(e->reason);
		return PHI_ENOMEM;
	}
	p->n++;
	return 0;
}

static void free_finding(struct phi_finding *f)
{
	free(f->rule), free(f->field), free(f->excerpt), free(f->value), free(f->replacement);
}

void phi_plan_free(struct phi_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct phi_plan_entry *e = &p->v[i];
		free(e->path), free(e->rel), free(e->reason), free(e->display), free(e->out_rel);
		for (size_t j = 0; j < e->nnames; j++)
			free_finding(&e->names[j]);
		free(e->names);
	}
	free(p->v);
	phi_cases_free(p->cases);
	memset(p, 0, sizeof *p);
}

/* ---- harvest ---- */

struct hv {
	struct phi_cases *c;
	size_t kase;
};

static int on_value(void *arg, const char *cls, const char *v, size_t n)
{
	struct hv *h = arg;
	return phi_cases_add(h->c, h->kase, cls, v, n);
}

static const char *base_of(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	const char *s = p + n;
	while (s > p && s[-1] != '/')
		s--;
	return s;
}

/* ---- one path component ---- */

struct span {
	size_t start, end;
	const char *rule, *cls;
	enum phi_severity sev;
	double conf;
};

struct comp {
	char *text;        /* the component */
	char *masked;      /* identifier spans masked */
	char *renamed;     /* stripped name */
	struct span sp[MAX_SPANS];
	size_t nsp;
};

struct cscan {
	struct comp *c;
};

static int on_rule(void *arg, const struct phi_hit *h)
{
	struct comp *c = ((struct cscan *)arg)->c;
	if (c->nsp < MAX_SPANS)
		c->sp[c->nsp++] = (struct span){h->start, h->end, h->rule->id, h->rule->cls->name,
		                                h->rule->severity, h->confidence};
	return 0;
}

static int on_case(void *arg, size_t start, size_t end, const char *cls, const char *rule)
{
	struct comp *c = ((struct cscan *)arg)->c;
	for (size_t i = 0; i < c->nsp; i++)
		if (c->sp[i].start < end && start < c->sp[i].end)
			return 0;
	if (c->nsp < MAX_SPANS)
		c->sp[c->nsp++] = (struct span){start, end, rule, cls, PHI_SEV_PATIENT, 0.95};
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static char *mask(const char *t, size_t n, const struct span *sp, size_t nsp)
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

static void comp_clear(struct comp *c)
{
	free(c->text), free(c->masked), free(c->renamed);
	memset(c, 0, sizeof *c);
}

struct ctx {
	struct phi_plan *p;
	const struct phi_plan_opts *o;
	struct phi_matcher *m;
	struct phi_sweep_scratch *sw;
	struct comp prev[64];   /* the previous entry's components, for reuse */
	size_t nprev;
	size_t prev_case, prev_root;
	/* output paths taken, for collisions */
	char **taken;
	size_t ntaken, captaken;
};

static int comp_scan(struct ctx *x, size_t kase, const char *t, size_t n, struct comp *c)
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
	if (!rc && x->o->sweep)
		rc = phi_cases_match(x->p->cases, x->sw, kase, t, n, 0, n, on_case, &cs);
	if (rc)
		return rc;
	qsort(c->sp, c->nsp, sizeof *c->sp, cmp_span);
	if (!(c->masked = x->o->show_values ? strndup(t, n) : mask(t, n, c->sp, c->nsp)))
		return PHI_ENOMEM;
	struct phi_name_span ns[MAX_SPANS];
	for (size_t i = 0; i < c->nsp; i++)
		ns[i] = (struct phi_name_span){c->sp[i].start, c->sp[i].end, c->sp[i].cls};
	char out[1024];
	if (c->nsp)
		phi_case_rename(t, n, ns, c->nsp, phi_cases_code(x->p->cases, kase), out, sizeof out);
	else
		snprintf(out, sizeof out, "%.*s", (int)n, t);
	return (c->renamed = strdup(out)) ? 0 : PHI_ENOMEM;
}

/* ---- output names ---- */

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Claim path in the open-addressing set; false when it is taken. */
static int claim(struct ctx *x, const char *path, bool *ok)
{
	if ((x->ntaken + 1) * 2 > x->captaken) {
		size_t nc = x->captaken ? x->captaken * 2 : 1024;
		char **t = calloc(nc, sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		for (size_t i = 0; i < x->captaken; i++)
			if (x->taken[i]) {
				size_t k = fnv(x->taken[i]) & (nc - 1);
				while (t[k])
					k = (k + 1) & (nc - 1);
				t[k] = x->taken[i];
			}
		free(x->taken);
		x->taken = t;
		x->captaken = nc;
	}
	size_t k = fnv(path) & (x->captaken - 1);
	while (x->taken[k]) {
		if (!strcmp(x->taken[k], path)) {
			*ok = false;
			return 0;
		}
		k = (k + 1) & (x->captaken - 1);
	}
	if (!(x->taken[k] = strdup(path)))
		return PHI_ENOMEM;
	x->ntaken++;
	*ok = true;
	return 0;
}

/* The output path of an entry: its renamed components. */
static int out_name(struct comp *cs, size_t nc, char **out)
{
	char b[4096];
	size_t o = 0;
	for (size_t i = 0; i < nc; i++)
		o += (size_t)snprintf(b + o, o < sizeof b ? sizeof b - o : 0, "%s%s", i ? "/" : "",
		                      cs[i].renamed);
	if (o >= sizeof b)
		return PHI_ELIMIT;
	return (*out = strdup(b)) ? 0 : PHI_ENOMEM;
}

/* Claim a renamed output path; when another file has it, -2, -3 ... in walk order.
 * Files that keep their names claimed theirs first: a rename never takes the name of
 * a file that kept its own. */
static int claim_renamed(struct ctx *x, char **out)
{
	char b[4096];
	size_t o = (size_t)snprintf(b, sizeof b, "%s", *out);
	if (o >= sizeof b)
		return PHI_ELIMIT;
	bool ok;
	int rc = claim(x, b, &ok);
	if (rc || ok)
		return rc;
	const char *base = strrchr(b, '/') ? strrchr(b, '/') + 1 : b;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot > base ? (size_t)(dot - b) : o;
	char t[4200];
	for (unsigned k = 2; !rc && !ok; k++) {
		if (k == 100000)
			return PHI_ELIMIT;
		snprintf(t, sizeof t, "%.*s-%u%s", (int)stem, b, k, b + stem);
		rc = claim(x, t, &ok);
	}
	if (rc)
		return rc;
	free(*out);
	return (*out = strdup(t)) ? 0 : PHI_ENOMEM;
}

/* ---- the path of one entry ---- */

static int add_name_findings(struct ctx *x, struct phi_plan_entry *e, const struct comp *c,
                             const char *masked_rel, size_t kase)
{
	for (size_t i = 0; i < c->nsp; i++) {
		const struct span *s = &c->sp[i];
		struct phi_finding *t = realloc(e->names, (e->nnames + 1) * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		e->names = t;
		struct phi_finding *f = &e->names[e->nnames];
		memset(f, 0, sizeof *f);
		const struct phi_class_info *ci = phi_class_find(s->cls);
		f->rule = strdup(s->rule);
		f->cls = ci ? ci->name : "name";
		f->severity = s->sev;
		f->confidence = s->conf;
		f->field = strdup("file name");
		f->start = f->end = PHI_NO_OFFSET;
		f->excerpt = strdup(masked_rel);
		if (x->o->show_values)
			f->value = strndup(c->text + s->start, s->end - s->start);
		if (x->o->rename) {
			const char *code = phi_cases_code(x->p->cases, kase);
			bool id = strcmp(f->cls, "date") && strcmp(f->cls, "age") &&
			          strcmp(f->cls, "address") && strcmp(f->cls, "zip");
			f->replacement = strdup(id ? code : "");
		}
		e->nnames++;
		if (!f->rule || !f->field || !f->excerpt || (x->o->show_values && !f->value) ||
		    (x->o->rename && !f->replacement))
			return PHI_ENOMEM;
	}
	return 0;
}

static int plan_entry(struct ctx *x, struct phi_plan_entry *e)
{
	struct comp cs[64];
	size_t nc = 0, same = 0;
	int rc = 0;
	const char *r = e->rel;
	bool reuse = e->root == x->prev_root && e->kase == x->prev_case;
	/* the components; those the previous entry had (same case) are reused */
	for (const char *s = r; *s && nc < 64 && !rc;) {
		const char *t = strchr(s, '/');
		size_t n = t ? (size_t)(t - s) : strlen(s);
		if (reuse && same == nc && nc < x->nprev && t && strlen(x->prev[nc].text) == n &&
		    !memcmp(x->prev[nc].text, s, n)) {
			cs[nc] = x->prev[nc];
			memset(&x->prev[nc], 0, sizeof x->prev[nc]);
			same = ++nc;
		} else {
			rc = comp_scan(x, e->kase, s, n, &cs[nc++]);
		}
		s = t ? t + 1 : s + n;
	}
	if (!rc && nc == 64)
		rc = PHI_ELIMIT;
	/* display path: the walked path with the rel part masked */
	char mrel[4096];
	size_t o = 0;
	for (size_t i = 0; !rc && i < nc; i++)
		o += (size_t)snprintf(mrel + o, o < sizeof mrel ? sizeof mrel - o : 0, "%s%s",
		                      i ? "/" : "", cs[i].masked);
	if (!rc && o >= sizeof mrel)
		rc = PHI_ELIMIT;
	if (!rc) {
		size_t pl = strlen(e->path), rl = strlen(e->rel);
		size_t pre = pl >= rl && !strcmp(e->path + pl - rl, e->rel) ? pl - rl : pl;
		if (!(e->display = malloc(pre + o + 1)))
			rc = PHI_ENOMEM;
		else
			snprintf(e->display, pre + o + 1, "%.*s%s", (int)pre, e->path, mrel);
	}
	/* findings: in the components first seen here (a directory's with its first file) */
	for (size_t i = same; !rc && e->kind == PHI_WALK_FILE && i < nc; i++)
		rc = add_name_findings(x, e, &cs[i], mrel, e->kase);
	if (!rc && x->o->rename && e->kind == PHI_WALK_FILE) {
		bool changed = false;
		for (size_t i = 0; i < nc && !rc; i++)
			if (strcmp(cs[i].text, cs[i].renamed)) {
				changed = true;
				rc = phi_cases_map_add(x->p->cases, e->kase, cs[i].text, cs[i].renamed);
			}
		if (!rc)
			rc = out_name(cs, nc, &e->out_rel);
		if (!rc && (changed || strcmp(e->out_rel, e->rel)) && x->o->key) {
			unsigned char mac[32];
			crypto_auth_hmacsha256(mac, (const unsigned char *)e->rel, strlen(e->rel),
			                       x->o->key);
			sodium_bin2hex(e->rel_hmac, sizeof e->rel_hmac, mac, sizeof mac);
		}
	}
	for (size_t i = 0; i < x->nprev; i++)
		comp_clear(&x->prev[i]);
	memcpy(x->prev, cs, nc * sizeof *cs);
	x->nprev = nc;
	x->prev_case = e->kase;
	x->prev_root = e->root;
	return rc;
}

int phi_plan_prepare(struct phi_plan *p, const struct phi_plan_opts *o, struct phi_worker *w,
                     struct phi_error *err)
{
	int rc = phi_cases_new(&p->cases, o->key, o->case_id);
	if (rc)
		return phi_fail(err, rc, "out of memory");
	for (size_t i = 0; i < p->n && !rc; i++) {
		struct phi_plan_entry *e = &p->v[i];
		rc = phi_cases_find(p->cases, e->root, base_of(o->roots[e->root]), e->rel, o->case_depth,
		                    &e->kase);
		if (!rc && o->sweep && e->kind == PHI_WALK_FILE) {
			struct hv h = {p->cases, e->kase};
			rc = phi_harvest_file(w, e->path, on_value, &h);
			if (!rc)
				rc = phi_cases_end_file(p->cases, e->kase);
		}
	}
	if (rc)
		return phi_fail(err, rc, "out of memory harvesting case identifiers");
	if (o->roster && (rc = phi_cases_load_roster(p->cases, o->roster, err)))
		return rc;
	if ((rc = phi_cases_build(p->cases, err)))
		return rc;
	struct ctx x = {.p = p, .o = o, .prev_case = SIZE_MAX, .prev_root = SIZE_MAX};
	if (phi_matcher_new(&x.m, o->engine) || phi_sweep_scratch_new(&x.sw, p->cases))
		rc = PHI_ENOMEM;
	for (size_t i = 0; i < p->n && !rc; i++)
		rc = plan_entry(&x, &p->v[i]);
	/* output names: those kept first, then the renamed ones in walk order */
	for (size_t i = 0; i < p->n && !rc; i++) {
		bool ok;
		if (p->v[i].out_rel && !strcmp(p->v[i].out_rel, p->v[i].rel))
			rc = claim(&x, p->v[i].out_rel, &ok); /* a clash is reported at write time */
	}
	for (size_t i = 0; i < p->n && !rc; i++)
		if (p->v[i].out_rel && strcmp(p->v[i].out_rel, p->v[i].rel))
			rc = claim_renamed(&x, &p->v[i].out_rel);
	phi_cases_map_seal(p->cases);
	for (size_t i = 0; i < x.nprev; i++)
		comp_clear(&x.prev[i]);
	for (size_t i = 0; i < x.captaken; i++)
		free(x.taken[i]);
	free(x.taken);
	phi_matcher_free(x.m);
	phi_sweep_scratch_free(x.sw);
	if (rc == PHI_ELIMIT)
		return phi_fail(err, rc, "a path is too long or too deep to plan");
	if (rc)
		return phi_fail(err, rc, "out of memory planning file names");
	return 0;
}
