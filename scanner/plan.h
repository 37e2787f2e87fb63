/* plan.h - the run planned before any file is scanned: every walk entry in order,
 * its case, the identifiers in its path, the name it is shown by and (strip) the
 * name it is written under.
 *
 * Why a plan: an identifier found in the last file of a case must be looked for in
 * the first (case.h), and a renamed file must get the same new name in every run
 * and every reference to it, whatever the thread count.  So the walk is recorded
 * first, the cases are harvested and compiled, the path components are scanned
 * and renamed in walk order (collisions get -2, -3 in that order), and only then
 * are the files handed to the workers.
 *
 * Path components are fields of their own: rules and the case sweep run on each;
 * a finding is reported once, with the first file that lives under it, and the
 * display path of every entry has the identifier spans masked (unless
 * --show-values), so reports and the manifest never carry a name from a path.
 *
 * Threading: main thread only; the harvest runs the workers on the pool inside
 * phi_plan_prepare and is over when it returns.  Ownership: the plan owns its
 * entries.
 */
#ifndef PHI_PLAN_H
#define PHI_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "case.h"
#include "engine.h"
#include "finding.h"
#include "ops.h"
#include "scan.h"

struct phi_plan_entry {
	int kind;                  /* enum phi_walk_kind */
	char *path;                /* as walked: what is opened */
	char *rel;
	char *reason;              /* SKIP/ERROR */
	size_t root;               /* index of its command-line root */
	size_t kase;               /* its case (FILE entries) */
	char *display;             /* path with identifier spans masked */
	char *out_rel;             /* strip -o: the relative path written, renamed */
	char rel_hmac[65];         /* keyed hash of rel when it was renamed, else "" */
	struct phi_finding *names; /* findings in the path components it introduces */
	size_t nnames;
};

struct phi_plan {
	struct phi_plan_entry *v;
	size_t n, cap;
	struct phi_cases *cases;
};

struct phi_plan_opts {
	const struct phi_engine *engine;
	const struct phi_policy *policy;
	const char *const *roots;  /* the command-line roots, indexed by entry.root */
	unsigned case_depth;       /* 0: a root is a case; 1: each entry below a folder root */
	bool sweep;                /* harvest and sweep case identifiers */
	const char *roster;        /* --roster FILE or NULL */
	const unsigned char *key;  /* 32 bytes or NULL */
	const char *case_id;
	bool show_values;
	bool rename;               /* strip -o: plan new names */
	/* --files-from: roots from this index on are listed paths, rel below the list's
	 * common root; a case is the first (1 + case_depth) components (a top-level
	 * folder, or a file or archive directly in the common root).  Only with listed. */
	bool listed;
	size_t listed_from;
};

/* Record one walk entry (copies it). */
int phi_plan_add(struct phi_plan *p, int kind, const char *path, const char *rel,
                 const char *reason, size_t root);

/* Harvest (on the pool, with the nw workers w, none of them running), build the cases,
 * scan and rename every path.  0 or PHI_E* with a message in err. */
int phi_plan_prepare(struct phi_plan *p, const struct phi_plan_opts *o,
                     struct phi_worker *const *w, unsigned nw, struct phi_error *err);

void phi_plan_free(struct phi_plan *p);

#endif
