/* pathname.h - one path component (a folder or file name on disk, or a component of
 * an archive entry's name) scanned as a field: the rules and the case sweep run on
 * it, its identifier spans are masked for display and, on strip, replaced by the
 * case code (case.h phi_case_rename).
 *
 * Used by plan.c for the walked tree (main thread, before the workers start) and by
 * archive.c for entry names (in the worker walking the archive): one code path, so
 * an entry name inside a zip is found, shown and renamed exactly like the same name
 * on disk.
 *
 * Threading: a phi_name_ctx borrows a matcher and a sweep scratch owned by one
 * thread.  Ownership: a phi_name_comp owns its strings (phi_name_comp_clear);
 * findings appended by phi_name_findings own theirs.
 */
#ifndef PHI_PATHNAME_H
#define PHI_PATHNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "case.h"
#include "engine.h"
#include "finding.h"

#define PHI_NAME_MAX_SPANS 32

struct phi_name_span_hit {
	size_t start, end;
	const char *rule, *cls;
	enum phi_severity sev;
	double conf;
};

struct phi_name_comp {
	char *text;    /* the component */
	char *masked;  /* identifier spans masked (the text itself with show_values) */
	char *renamed; /* the stripped name (the text when nothing was found) */
	struct phi_name_span_hit sp[PHI_NAME_MAX_SPANS];
	size_t nsp;
};

struct phi_name_ctx {
	struct phi_matcher *m;           /* borrowed */
	const struct phi_cases *cases;   /* NULL: no case (the pipe filter) */
	struct phi_sweep_scratch *sw;    /* needed with cases and sweep */
	size_t kase;
	bool sweep;                      /* run the case sweep */
	bool show_values;
};

/* The code identity values become in a name of this context's case: the case's
 * (--case-id or keyed patient token), or "case" without one. */
const char *phi_name_code(const struct phi_name_ctx *x);

/* Scan t[0..n) into c (cleared first).  0 or PHI_E*. */
int phi_name_scan(const struct phi_name_ctx *x, const char *t, size_t n, struct phi_name_comp *c);
void phi_name_comp_clear(struct phi_name_comp *c);

/* Append c's findings to *v (field "file name", excerpt masked_path, no offsets;
 * with rename the replacement written: the code, or "" for a date).  0 or PHI_ENOMEM
 * (what was appended stays owned by *v). */
int phi_name_findings(const struct phi_name_ctx *x, const struct phi_name_comp *c,
                      const char *masked_path, bool rename, struct phi_finding **v, size_t *n);

#endif
