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
 * The harvest opens every file; up to a budget of them (phi_plan_opts.keep_fds) it
 * keeps open, each with its stat, for the scan pass (phi_scan_file takes them over),
 * which then skips an open and an fstat per file and checks the file against the
 * stat of the harvest: the scan reads the very file the harvest read, and one
 * rewritten between the passes is reported as changed.  The rest are opened again.
 *
 * Threading: main thread only; the harvest runs the workers on the pool inside
 * phi_plan_prepare and is over when it returns.  Entries' kept files are then taken
 * by the scan pass, one worker per entry.  Ownership: the plan owns its entries and
 * the descriptors still kept: phi_plan_release or phi_plan_free closes them.
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
	struct phi_kept_file *kept; /* FILE: opened by the harvest and kept, or NULL */
};

struct phi_plan {
	struct phi_plan_entry *v;
	size_t n, cap;
	struct phi_cases *cases;
	struct phi_kept_file *kept; /* the kept files, at most keep_fds */
	size_t nkept;
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
	/* At most this many files the harvest opened stay open for the scan pass (each
	 * is a descriptor until its scan); 0: none, every file is opened twice. */
	size_t keep_fds;
};

/* Record one walk entry (copies it). */
int phi_plan_add(struct phi_plan *p, int kind, const char *path, const char *rel,
                 const char *reason, size_t root);

/* Harvest (on the pool, with the nw workers w, none of them running), build the cases,
 * scan and rename every path.  0 or PHI_E* with a message in err. */
int phi_plan_prepare(struct phi_plan *p, const struct phi_plan_opts *o,
                     struct phi_worker *const *w, unsigned nw, struct phi_error *err);

/* Close the entry's kept file, if any (an entry that is not scanned). */
void phi_plan_release(struct phi_plan_entry *e);

/* Frees the plan and closes every file still kept. */
void phi_plan_free(struct phi_plan *p);

#endif
