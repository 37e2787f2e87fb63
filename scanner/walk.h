/* walk.h - the walker: turns command-line paths into an ordered stream of entries.
 *
 * Depth-first, directory entries sorted by byte order, so the walk order (and with
 * it the report) is the same on every run.  Regular files are yielded to scan;
 * everything else is yielded with a reason and never opened: FIFOs, sockets and
 * devices (opening a FIFO would block), broken symlinks, symlinks that leave the
 * scanned root, directory loops (tracked by device and inode), unreadable
 * directories.  Symlinks inside the root are followed once.  A root given on the
 * command line is followed even when it is a symlink.
 *
 * Threading: runs on the calling thread; the callback runs there too.
 * Ownership: an entry's strings are borrowed for the callback.
 */
#ifndef PHI_WALK_H
#define PHI_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "../formats/format.h"

enum phi_walk_kind {
	PHI_WALK_FILE,       /* a regular file to scan */
	PHI_WALK_SKIP,       /* not a file we read: reason says why (not an error) */
	PHI_WALK_ERROR,      /* could not be read (permission, vanished, too deep...):
	                        fails closed.  Loops are SKIP: nothing is left unread */
};

struct phi_walk_entry {
	enum phi_walk_kind kind;
	const char *path;    /* as displayed: root joined with the relative path */
	const char *root;    /* the command-line root it came from */
	const char *rel;     /* path relative to root ("" when the root is a file: then
	                        rel is the base name) used to mirror trees in strip */
	const char *reason;  /* SKIP/ERROR: one line */
	uint64_t size;       /* FILE: st_size */
};

struct phi_walk_opts {
	bool follow_symlinks;   /* follow symlinks even outside the root (default false) */
	unsigned max_depth;     /* directories deeper than this are an ERROR entry */
	const char *const *exclude; /* NULL-terminated fnmatch globs on base name or rel */
	const char *skip_dir;   /* absolute path never descended into (strip OUT), or NULL */
	/* Optional (.phiscanignore): asked about each entry below a root once its type
	 * is known (is_dir: a directory, or a symlink to one), with its rel path.
	 * Returns 1 to leave it out (not yielded, not descended), 0 to keep it, or a
	 * negative PHI_E* with *why set: the entry is yielded as an ERROR. */
	int (*filter)(void *arg, const char *rel, bool is_dir, const char **why);
	void *filter_arg;
};

/* Return non-zero from the callback to stop the walk (that value is returned). */
typedef int (*phi_walk_fn)(void *arg, const struct phi_walk_entry *e);

/* Walk each root in order.  A root that does not exist yields an ERROR entry.
 * Returns 0, the callback's non-zero value, or PHI_ENOMEM. */
int phi_walk(const char *const *roots, size_t nroots, const struct phi_walk_opts *o,
             phi_walk_fn fn, void *arg);

#endif
