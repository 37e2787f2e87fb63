/* finding.h - what a scan of one file produces: findings and the file's outcome.
 *
 * A finding is copied out of the worker's scratch so it outlives the file: it owns
 * its strings.  It never holds the identifier itself unless the user asked for
 * values (--show-values): excerpt is already masked.
 *
 * Threading: a phi_result is built by one worker, then handed to the reporter
 * (ownership moves with it).
 */
#ifndef PHI_FINDING_H
#define PHI_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

struct phi_finding {
	char *rule;            /* rule id (owned) */
	const char *cls;       /* class name (static, from phi_classes) */
	enum phi_severity severity;
	double confidence;
	char *field;           /* location in the file: NULL for a text body, else
	                          "(0010,0010)", "tEXt:Comment" ... (owned) */
	uint64_t start, end;   /* file byte offsets of the value, PHI_NO_OFFSET if none */
	uint64_t line, col;    /* 1-based, 0 when not line-oriented */
	char *excerpt;         /* masked context, one line, never PHI (owned) */
	char *value;           /* the identifier: only with --show-values, else NULL */
	char *replacement;     /* strip: the replacement written, NULL in scan (owned);
	                          never the original value */
	unsigned char fp[16];  /* baseline fingerprint: keyed hash of path, rule and
	                          value (baseline.h), when has_fp; never the value */
	bool has_fp;
};

enum phi_status {
	PHI_SCANNED = 0,   /* read and matched (findings may be empty) */
	PHI_SKIPPED,       /* not scanned on purpose: no format claims it, not a regular
	                      file, excluded ...: reason says why */
	PHI_UNREADABLE,    /* could not be read or parsed: fails closed (exit 2) */
};

/* A fact a format records about a file (protected-region hashes, notes): never PHI. */
struct phi_fact {
	char *name, *value; /* owned */
};

struct phi_result {
	uint64_t seq;          /* walk order: the reporter prints in this order */
	char *path;            /* display path (owned) */
	const char *format;    /* format name or "unknown" (static) */
	enum phi_status status;
	char *reason;          /* SKIPPED/UNREADABLE: one line, no PHI (owned) */
	struct phi_finding *v; /* findings sorted by start offset / field (owned) */
	size_t n, cap;
	uint64_t size;         /* bytes in the input */
	/* strip */
	char *out_path;        /* copy written, or NULL (owned) */
	char in_sha256[65];    /* hex, "" when not computed: the input's digest D, never
	                          written as it is (the manifest seals it, indigest.h) */
	const char *in_kind;   /* its kind (indigest.h; NULL: "sha256") */
	char out_sha256[65];
	bool copied_verbatim;  /* no change needed: output is a byte copy */
	bool dropped;          /* left out of a strip's output (--drop-unstrippable) */
	size_t flushed;        /* findings already reported and dropped mid-file (a file
	                          with very many findings is streamed, not held) */
	struct phi_fact *facts; /* in the order recorded; a name recorded twice keeps the
	                           last value (owned) */
	size_t nfacts;
};

/* Append a finding (the struct is moved: its owned pointers now belong to r). */
int phi_result_add(struct phi_result *r, const struct phi_finding *f);
/* Record (or replace) a fact; copies both strings.  0 or PHI_ENOMEM. */
int phi_result_fact(struct phi_result *r, const char *name, const char *value);
/* The value of a fact, or NULL. */
const char *phi_result_get_fact(const struct phi_result *r, const char *name);
/* Release the findings only (after they were reported); counts them in flushed. */
void phi_result_drop_findings(struct phi_result *r);
/* Release and remove the findings drop() says to drop, keeping the order of the
 * rest; returns how many were removed. */
size_t phi_result_remove_if(struct phi_result *r,
                            bool (*drop)(void *arg, const struct phi_finding *f), void *arg);
/* Free everything r owns, then r itself if heap (phi_result_free does). */
void phi_result_clear(struct phi_result *r);
void phi_result_free(struct phi_result *r);

#endif
