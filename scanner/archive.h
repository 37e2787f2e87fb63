/* archive.h - archives (zip, 3Shape .3oxz, 7z, tar, tar.gz/.bz2/.xz/.zst, cpio, rar)
 * walked entry by entry through the same per-file pipeline as plain files.
 *
 * An archive is not a format of the table: a format turns bytes into fields, an
 * archive holds files, each of which needs detection, a format and a result of its
 * own.  So it lives in the scanner and calls back into scan.c for every entry
 * (phi_scan_entry).  Each entry is read (libarchive) into a memory file, never
 * beyond the limits, and gets its own result with the display path
 * "case.zip!/scans/upper.stl" (nested: "a.zip!/b.zip!/c.txt"), reported before the
 * archive's own result through the scan option entry().  Strip writes a new archive
 * of the same kind from the stripped entries; see archive.c for what it keeps.
 *
 * Threading: the state belongs to one worker (phi_worker owns it); libarchive
 * handles are per call.  Ownership: results handed to entry() are borrowed for the
 * call and freed here afterwards.
 */
#ifndef PHI_ARCHIVE_H
#define PHI_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "scan.h"

struct phi_archive;

/* The archive kind these head bytes start ("zip", "7z", "tar", "gzip", ...) or
 * NULL.  By content only: magic bytes (a tar header also by its checksum). */
const char *phi_archive_detect(const unsigned char *head, size_t n);

/* Walk the archive open on fd (size bytes; read from offset 0) and report every
 * entry; with out_fd >= 0 write the stripped archive there.  *state is this
 * worker's archive state (created on first use).  0, or PHI_E* with the reason in
 * err: the archive is then reported unscanned (entries reported so far stand). */
int phi_archive_scan(struct phi_archive **state, struct phi_worker *w,
                     const struct phi_scan_opts *o, struct phi_error *err, int fd,
                     uint64_t size, int out_fd, struct phi_result *res);

/* Harvest (case.h): walk the archive open on fd like phi_archive_scan, within the
 * same limits, and run phi_harvest_entry on every entry (nested archives too);
 * nothing is reported or written.  0 or PHI_E* (the scan pass reports why). */
int phi_archive_harvest(struct phi_archive **state, struct phi_worker *w,
                        const struct phi_scan_opts *o, struct phi_error *err, int fd,
                        uint64_t size, const char *kind, phi_harvest_fn fn, void *arg);

/* The archive's result is final (res->out_path set when its copy was published):
 * report the entries strip held back, pointing their outputs into the copy, or at
 * nothing when no copy was written.  Does nothing when nothing is held. */
void phi_archive_done(struct phi_archive *state, const struct phi_result *res);

/* The pipe filter on an archive: in_fd's remaining bytes (head already read) are
 * kept in a memory file (at most max_file_size, or 1 GiB), walked, and the
 * stripped archive is written to out_fd only when complete.  0 or PHI_E*. */
int phi_archive_stream(struct phi_archive **state, struct phi_worker *w,
                       const struct phi_scan_opts *o, struct phi_error *err, int in_fd,
                       const unsigned char *head, size_t head_len, int out_fd,
                       struct phi_result *res);

void phi_archive_free(struct phi_archive *state);

/* --archive-limit NAME=VALUE: depth, entries, entry-size, total, ratio.  Sizes take
 * K, M, G suffixes.  0 or PHI_EUSAGE with a message in err. */
/* libarchive's version ("libarchive 3.6.2"), loading it (archive.c loads it on first
 * use); NULL when it cannot be loaded, with the reason in *why (may be NULL). */
const char *phi_archive_version(const char **why);

int phi_archive_limit_set(struct phi_limits *lim, const char *spec, struct phi_error *err);

#endif
