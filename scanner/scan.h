/* scan.h - one file through the pipeline: open, detect, format scan with the rule
 * sink, and (strip) the atomic write of the de-identified copy.
 *
 * The sink turns engine hits into findings: file offsets, line and column, masked
 * excerpts, and in strip mode the replacements the policy chooses.
 *
 * Threading: one phi_worker per worker thread; the options are shared read-only.
 * Ownership: results are filled by the worker and handed to the caller, who frees
 * them with phi_result_free.
 */
#ifndef PHI_SCAN_H
#define PHI_SCAN_H

#include <stdbool.h>
#include <sys/stat.h>

#include "engine.h"
#include "finding.h"
#include "ops.h"

struct phi_scan_opts {
	const struct phi_engine *engine;
	const struct phi_limits *limits;
	bool show_values;
	bool strip;                     /* write copies */
	bool in_place;                  /* strip over the original (atomic rename) */
	bool force;                     /* overwrite existing outputs */
	bool drop_unstrippable;         /* a file of a format phiscan scans but cannot
	                                   strip (PDF, WebP, HEIF) that has findings is left
	                                   out of the output, not refused (strip -o only) */
	const char *out_root;           /* strip -o OUT */
	const struct phi_policy *policy;
	const struct phi_strip_opts *sopts; /* format strip options; NULL = none */
	/* Optional: called from the worker when a file holds flush_at findings; reports
	 * and drops them (phi_result_drop_findings).  May block until the file's turn. */
	int (*flush)(void *arg, struct phi_result *res);
	void *flush_arg;
	size_t flush_at;
	/* Optional: every finding gets its baseline fingerprint (finding.fp), computed
	 * here where the value is at hand, so the value never leaves the worker. */
	const struct phi_baseline *fingerprint;
	/* Optional: NULL-terminated format names that are detected but not read
	 * (.phiscan.yaml skip_formats): such files are reported as skipped. */
	const char *const *skip_formats;
	/* Archives (archive.h): each entry is a result of its own, handed here with
	 * flush_arg before its archive's result (its seq is the archive's); called from
	 * the worker, may block until the archive's turn.  Without it an archive is
	 * reported unscanned. */
	int (*entry)(void *arg, struct phi_result *res);
};

struct phi_worker;
struct phi_baseline;

/* The inline marker: a text line holding it has its findings suppressed. */
#define PHI_ALLOW_MARKER "phiscan:allow"

int phi_worker_new(struct phi_worker **out, const struct phi_scan_opts *o);
void phi_worker_free(struct phi_worker *w);

/* A file the case harvest opened and kept open for the scan pass (plan.h), so the
 * scan skips an open and an fstat: its descriptor, at offset 0, and what fstat said
 * when the harvest opened it.  The scan's changed-while-read check compares with
 * that stat, so it also covers the time between the two passes. */
struct phi_kept_file {
	int fd;          /* -1: none (the scan pass opens the path) */
	struct stat st;
};

/* Scan (and strip) the regular file at path.  rel is the path relative to its root,
 * used to mirror the tree under out_root.  kept: NULL, or the file as the harvest
 * kept it; a kept descriptor is taken over (kept->fd becomes -1) and closed here
 * whatever the outcome.  Never fails the batch: the outcome lands in res (status,
 * reason).  res->path must already be set. */
void phi_scan_file(struct phi_worker *w, const char *path, const char *rel,
                   struct phi_kept_file *kept, struct phi_result *res);

/* phiscan digest: the keyed input digest a strip records for the file at path
 * (formats/indigest.h), sealed with key, into res->in_sha256 and res->in_kind;
 * res->status SCANNED, or UNREADABLE / SKIPPED with the reason.  kept as for
 * phi_scan_file. */
void phi_digest_file(struct phi_worker *w, const char *path, struct phi_kept_file *kept,
                     const unsigned char key[32], struct phi_result *res);

/* For archive.c: one archive entry held in a memory file (fd, size bytes) through
 * the pipeline: detect (by content, then name, the entry's base name), scan, and
 * with out_fd >= 0 write the stripped copy there; a format that cannot strip has
 * a clean entry copied and one with findings made unreadable.  The outcome lands
 * in res (path set by the caller).  Returns PHI_ESKIP when the format declines to
 * write the entry (a DICOMDIR), else 0 or the error already in res. */
int phi_scan_entry(struct phi_worker *w, int fd, uint64_t size, const char *name, int out_fd,
                   struct phi_result *res);
struct phi_cases;

/* The case of the next files (case.h): its identifiers are swept for in every text
 * field, and references to its renamed files rewritten.  c NULL: none.  0 or
 * PHI_ENOMEM. */
int phi_worker_set_case(struct phi_worker *w, const struct phi_cases *c, size_t idx);

/* For archive.c: entry names are scanned in the case of the file being walked
 * (pathname.h); x borrows the worker's matcher and sweep scratch. */
struct phi_name_ctx;
void phi_worker_name_ctx(struct phi_worker *w, struct phi_name_ctx *x);

/* For archive.c: a reference (PHI_FF_PATH) to a component fn renames (fn returns
 * the new name or NULL) is rewritten; fn is asked before the case's own map.  The
 * previous fn and arg are returned so a nested archive can restore them. */
typedef const char *(*phi_ref_fn)(void *arg, const char *comp, size_t n);
void phi_worker_refs(struct phi_worker *w, phi_ref_fn fn, void *arg, phi_ref_fn *old_fn,
                     void **old_arg);

/* Harvest: run the file's format (not plain text) and hand every structured value of
 * patient severity to fn (class, text, length); no rules, no findings.  A file that
 * cannot be read or parsed is left to the scan pass.  Returns 0, or fn's error. */
typedef int (*phi_harvest_fn)(void *arg, const char *cls, const char *v, size_t n);
/* (Inside an archive, fn is also called with cls NULL after each entry: the end of
 * one file, for pairing.) */
/* keep: NULL, or where a regular file's descriptor (left at offset 0) and stat are
 * kept open for the scan pass instead of closed (keep->fd -1 when it was not). */
int phi_harvest_file(struct phi_worker *w, const char *path, struct phi_kept_file *keep,
                     phi_harvest_fn fn, void *arg);
/* For archive.c: the same for an entry held in a memory file (name: its base name). */
int phi_harvest_entry(struct phi_worker *w, int fd, uint64_t size, const char *name,
                      phi_harvest_fn fn, void *arg);

/* For archive.c: one field of res's own bytes (a zip archive comment) through the
 * rules; its findings are added to res.  Never flushed.  0 or PHI_E*. */
int phi_scan_field(struct phi_worker *w, struct phi_result *res, const struct phi_field *f);

/* The pipe filter: read in_fd, write the de-identified bytes to out_fd (when
 * out_fd >= 0), record findings in res.  Returns 0 or PHI_E* (message in reason). */
int phi_scan_stream(struct phi_worker *w, int in_fd, int out_fd, struct phi_result *res);

#endif
