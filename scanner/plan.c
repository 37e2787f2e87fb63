/* plan.c - record the walk, harvest the cases, scan and rename every path.  See
 * plan.h.
 *
 * The harvest runs on the pool (pool.h): each file's harvest is independent, so the
 * workers read the files at once, each recording the values its file yields, in the
 * order they come, into the file's own slot; then this thread replays the slots in
 * walk order into the case table.  phi_cases_add and phi_cases_end_file see exactly
 * the calls, in exactly the order, of a harvest on one thread, so the cases (and the
 * file index each identifier was first harvested from) do not depend on -j.
 */
#include "plan.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pathname.h"
#include "pool.h"
#include "rules.h"
#include "walk.h"


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

void phi_plan_release(struct phi_plan_entry *e)
{
	if (e->kept && e->kept->fd >= 0) {
		close(e->kept->fd);
		e->kept->fd = -1;
	}
	e->kept = NULL;
}

void phi_plan_free(struct phi_plan *p)
{
	/* every kept file the scan pass did not take (a run stopped early, an entry
	 * that became an error) */
	for (size_t i = 0; i < p->nkept; i++)
		if (p->kept[i].fd >= 0)
			close(p->kept[i].fd);
	free(p->kept);
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

/* One file's harvest as recorded by a worker: records of a tag byte, then for a
 * value its class and its bytes, each as a 32-bit length and the bytes. */
struct hv_slot {
	unsigned char *b;
	size_t len, cap;
};

enum { HV_END = 0, HV_VALUE = 1 };

static int slot_put(struct hv_slot *s, const void *v, size_t n)
{
	if (n > s->cap - s->len) {
		size_t nc = s->cap ? s->cap : 256;
		while (nc - s->len < n) {
			if (nc > SIZE_MAX / 2)
				return PHI_ENOMEM;
			nc *= 2;
		}
		unsigned char *t = realloc(s->b, nc);
		if (!t)
			return PHI_ENOMEM;
		s->b = t;
		s->cap = nc;
	}
	if (n)
		memcpy(s->b + s->len, v, n);
	s->len += n;
	return 0;
}

static int slot_str(struct hv_slot *s, const char *v, size_t n)
{
	if (n > UINT32_MAX)
		return PHI_ELIMIT;
	uint32_t l = (uint32_t)n;
	int rc = slot_put(s, &l, sizeof l);
	return rc ? rc : slot_put(s, v, n);
}

/* The harvest callback on a worker: record, in order (a NULL class: the end of one
 * archive entry). */
static int record_value(void *arg, const char *cls, const char *v, size_t n)
{
	struct hv_slot *s = arg;
	unsigned char tag = cls ? HV_VALUE : HV_END;
	int rc = slot_put(s, &tag, 1);
	if (!rc && cls && !(rc = slot_str(s, cls, strlen(cls))))
		rc = slot_str(s, v, n);
	return rc;
}

struct hv_run {
	struct phi_plan *p;
	struct hv_slot *slots;
	int *rcs;
	size_t budget;          /* kept files at most (p->kept has room for them) */
	_Atomic size_t claimed; /* kept slots claimed, may pass budget */
};

static void harvest_one(void *state, size_t i, void *arg)
{
	struct hv_run *h = arg;
	struct phi_plan_entry *e = &h->p->v[i];
	if (e->kind != PHI_WALK_FILE)
		return;
	struct phi_kept_file k = {.fd = -1};
	bool room = atomic_load(&h->claimed) < h->budget;
	h->rcs[i] = phi_harvest_file(state, e->path, room ? &k : NULL, record_value, &h->slots[i]);
	if (k.fd < 0)
		return;
	/* a slot of its own: the entry is this worker's alone, p->kept[slot] too */
	size_t slot = atomic_fetch_add(&h->claimed, 1);
	if (slot < h->budget) {
		h->p->kept[slot] = k;
		e->kept = &h->p->kept[slot];
	} else {
		close(k.fd);
	}
}

static uint32_t slot_len(const unsigned char *b)
{
	uint32_t l;
	memcpy(&l, b, sizeof l);
	return l;
}

/* Replay one file's recorded values into its case, then end the file. */
static int replay(struct phi_cases *c, size_t kase, const struct hv_slot *s)
{
	char cls[256];
	int rc = 0;
	for (size_t o = 0; o < s->len && !rc;) {
		if (s->b[o++] == HV_END) {
			rc = phi_cases_end_file(c, kase);
			continue;
		}
		uint32_t cl = slot_len(s->b + o);
		o += sizeof cl;
		/* classes are short names ("name", "patient_id"); a longer one is no class
		 * phi_cases_add knows, and it ignores unknown classes anyway */
		snprintf(cls, sizeof cls, "%.*s", (int)(cl < sizeof cls ? cl : sizeof cls - 1),
		         (const char *)s->b + o);
		o += cl;
		uint32_t vl = slot_len(s->b + o);
		o += sizeof vl;
		rc = phi_cases_add(c, kase, cls, (const char *)s->b + o, vl);
		o += vl;
	}
	return rc ? rc : phi_cases_end_file(c, kase);
}

/* Grow the descriptor table to hold keep more descriptors, once, before the workers
 * start.  Linux grows a process's table by doubling, and while threads share it each
 * growth waits for an RCU grace period (fs/file.c, expand_fdtable: synchronize_rcu):
 * keeping 1,000 files open on two workers made the scan of 1,000 small files slower
 * at -j2 than at -j1 (73 against 51 ms, medians of 10), about five such waits.  One
 * descriptor duplicated as high as the kept ones may reach, then closed, grows it
 * now, while this thread is alone (a table never shrinks).  Best effort: a failure
 * only leaves the growth to later. */
static void grow_fd_table(size_t keep, unsigned nw)
{
	struct rlimit rl;
	if (!keep || getrlimit(RLIMIT_NOFILE, &rl))
		return;
	/* the kept files, and per worker its input, copy and archive memory files */
	rlim_t want = (rlim_t)keep + 64 + 8 * (rlim_t)nw;
	if (rl.rlim_cur != RLIM_INFINITY && want >= rl.rlim_cur)
		want = rl.rlim_cur - 1;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)(want > 1 << 30 ? 1 << 30 : want));
	if (hi >= 0)
		close(hi);
	close(fd);
}

/* Harvest every file on the pool, keeping up to keep files open, then fill the cases
 * in walk order. */
static int harvest(struct phi_plan *p, struct phi_worker *const *w, unsigned nw, size_t keep)
{
	struct hv_run h = {.p = p, .slots = calloc(p->n ? p->n : 1, sizeof *h.slots),
	                   .rcs = calloc(p->n ? p->n : 1, sizeof *h.rcs)};
	int rc = h.slots && h.rcs ? 0 : PHI_ENOMEM;
	if (keep > p->n)
		keep = p->n;
	/* no room to keep: every file is opened again, as without a budget */
	if (!rc && keep && !p->kept && (p->kept = malloc(keep * sizeof *p->kept)))
		h.budget = keep;
	for (size_t i = 0; i < h.budget; i++)
		p->kept[i].fd = -1;
	grow_fd_table(h.budget, nw);
	if (!rc)
		rc = phi_pool_for(nw, p->n, harvest_one, (void *const *)w, &h);
	p->nkept = h.budget;
	for (size_t i = 0; i < p->n && h.slots; i++) {
		if (!rc && p->v[i].kind == PHI_WALK_FILE)
			rc = h.rcs[i] ? h.rcs[i] : replay(p->cases, p->v[i].kase, &h.slots[i]);
		free(h.slots[i].b);
	}
	free(h.slots);
	free(h.rcs);
	return rc;
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

struct ctx {
	struct phi_plan *p;
	const struct phi_plan_opts *o;
	struct phi_matcher *m;
	struct phi_sweep_scratch *sw;
	struct phi_name_comp prev[64];   /* the previous entry's components, for reuse */
	size_t nprev;
	size_t prev_case, prev_root;
	/* output paths taken, for collisions */
	char **taken;
	size_t ntaken, captaken;
};

static int comp_scan(struct ctx *x, size_t kase, const char *t, size_t n, struct phi_name_comp *c)
{
	struct phi_name_ctx nx = {x->m, x->p->cases, x->sw, kase, x->o->sweep, x->o->show_values};
	return phi_name_scan(&nx, t, n, c);
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
static int out_name(struct phi_name_comp *cs, size_t nc, char **out)
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

static int add_name_findings(struct ctx *x, struct phi_plan_entry *e, const struct phi_name_comp *c,
                             const char *masked_rel, size_t kase)
{
	struct phi_name_ctx nx = {x->m, x->p->cases, x->sw, kase, x->o->sweep, x->o->show_values};
	return phi_name_findings(&nx, c, masked_rel, x->o->rename, &e->names, &e->nnames);
}

/* An entry whose relative path has more components than a plan holds (64) or a
 * masked form longer than 4 KiB: one bad path must not stop the run (issue 7, the
 * bad-input matrix row name-path-too-long; it used to end every run with "a path is
 * too long or too deep to plan").  The entry becomes an error of its own, shown by
 * its root and as many masked components as fit, then "/...". */
static int too_long_entry(struct phi_plan_entry *e, const struct phi_name_comp *cs, size_t nc)
{
	char shown[2048];
	size_t pl = strlen(e->path), rl = strlen(e->rel);
	size_t pre = pl >= rl && !strcmp(e->path + pl - rl, e->rel) ? pl - rl : pl;
	size_t o = (size_t)snprintf(shown, sizeof shown, "%.*s", (int)(pre < 1024 ? pre : 1024),
	                            e->path);
	for (size_t i = 0; i < nc && o + strlen(cs[i].masked) + 6 < sizeof shown; i++)
		o += (size_t)snprintf(shown + o, sizeof shown - o, "%s%s", i ? "/" : "",
		                      cs[i].masked);
	snprintf(shown + o, sizeof shown - o, "/...");
	if (!(e->display = strdup(shown)))
		return PHI_ENOMEM;
	if (e->kind != PHI_WALK_ERROR) {
		/* a walker error keeps its own reason (nesting deeper than N, ...) */
		free(e->reason);
		phi_plan_release(e);
		if (!(e->reason = strdup("path too long or too deep to plan: not scanned")))
			return PHI_ENOMEM;
		e->kind = PHI_WALK_ERROR;
	}
	return 0;
}

static int plan_entry(struct ctx *x, struct phi_plan_entry *e)
{
	struct phi_name_comp cs[64];
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
	bool too_long = !rc && nc == 64;
	/* display path: the walked path with the rel part masked */
	char mrel[4096];
	size_t o = 0;
	for (size_t i = 0; !rc && i < nc; i++)
		o += (size_t)snprintf(mrel + o, o < sizeof mrel ? sizeof mrel - o : 0, "%s%s",
		                      i ? "/" : "", cs[i].masked);
	if (!rc && o >= sizeof mrel)
		too_long = true;
	if (too_long)
		rc = too_long_entry(e, cs, nc);
	else if (!rc) {
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
				/* a folder's new name now; a file's once its -2 is known (below) */
				if (i + 1 < nc)
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
		phi_name_comp_clear(&x->prev[i]);
	memcpy(x->prev, cs, nc * sizeof *cs);
	x->nprev = nc;
	x->prev_case = e->kase;
	x->prev_root = e->root;
	return rc;
}

int phi_plan_prepare(struct phi_plan *p, const struct phi_plan_opts *o,
                     struct phi_worker *const *w, unsigned nw, struct phi_error *err)
{
	int rc = phi_cases_new(&p->cases, o->key, o->case_id);
	if (rc)
		return phi_fail(err, rc, "out of memory");
	for (size_t i = 0; i < p->n && !rc; i++) {
		struct phi_plan_entry *e = &p->v[i];
		rc = o->listed && e->root >= o->listed_from
		         ? phi_cases_find_prefix(p->cases, o->listed_from, e->rel, o->case_depth + 1,
		                                 &e->kase)
		         : phi_cases_find(p->cases, e->root, base_of(o->roots[e->root]), e->rel,
		                          o->case_depth, &e->kase);
	}
	if (!rc && o->sweep)
		rc = harvest(p, w, nw, o->keep_fds);
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
		bool ok = true;
		struct phi_plan_entry *e = &p->v[i];
		if (e->out_rel && !strcmp(e->out_rel, e->rel))
			rc = claim(&x, e->out_rel, &ok);
		/* Two inputs with one output path (two file roots with the same base name):
		 * the first in walk order is written, the later one is an error, with or
		 * without --force (--force replaces files of an earlier run, never a copy
		 * this run wrote; the lead saw --force let the second copy replace the
		 * first).  The output path is the de-identified name, safe to show. */
		if (!rc && !ok) {
			char why[512];
			snprintf(why, sizeof why,
			         "another input has the same output path (%.400s): not written",
			         e->out_rel);
			free(e->reason);
			phi_plan_release(e);
			if (!(e->reason = strdup(why)))
				rc = PHI_ENOMEM;
			e->kind = PHI_WALK_ERROR;
		}
	}
	for (size_t i = 0; i < p->n && !rc; i++)
		if (p->v[i].out_rel && strcmp(p->v[i].out_rel, p->v[i].rel))
			rc = claim_renamed(&x, &p->v[i].out_rel);
	/* references to a renamed file name it as written, -2 included (the first file
	 * in walk order with that name wins) */
	for (size_t i = 0; i < p->n && !rc; i++) {
		const struct phi_plan_entry *e = &p->v[i];
		if (!e->out_rel || !strcmp(e->out_rel, e->rel))
			continue;
		const char *a = base_of(e->rel), *b = base_of(e->out_rel);
		if (strcmp(a, b))
			rc = phi_cases_map_add(p->cases, e->kase, a, b);
	}
	phi_cases_map_seal(p->cases);
	for (size_t i = 0; i < x.nprev; i++)
		phi_name_comp_clear(&x.prev[i]);
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
