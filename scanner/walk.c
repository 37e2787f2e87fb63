/* walk.c - the walker: command-line roots to an ordered stream of entries.
 *
 * Depth-first; each directory is opened relative to its parent's descriptor
 * (openat, O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC), its names are read in full, sorted
 * by strcmp (byte order, so non-UTF-8 names sort too) and then looked at one by one
 * with fstatat(AT_SYMLINK_NOFOLLOW).  Working on descriptors keeps deep trees
 * workable (no PATH_MAX-long strings handed to the kernel) and means a directory
 * swapped for a symlink between the stat and the open is refused, not followed.
 *
 * What is yielded (reason strings are exact; reporters print them as they are):
 *   regular file                     FILE (size = st_size)
 *   directory                        not yielded; descended
 *   directory deeper than max_depth  ERROR "directory nesting deeper than N"
 *   directory that cannot be opened  ERROR "cannot open directory: <strerror>"
 *   directory that cannot be read    ERROR "cannot read directory: <strerror>"
 *   fifo, socket, device             SKIP  "not a regular file (fifo)" / (socket) /
 *                                          (character device) / (block device)
 *   symlink whose target is missing  SKIP  "broken symlink"
 *   symlink in a symlink cycle       SKIP  "broken symlink (symlink loop)"
 *   symlink out of the root          SKIP  "symlink leaves the scanned tree"
 *                                          (unless follow_symlinks)
 *   symlink to a fifo/socket/device  SKIP  "not a regular file (...)", in or out
 *   symlink whose target has no real path  ERROR "cannot resolve symlink: <strerror>"
 *   symlink to a file / directory    followed: FILE / descended
 *   symlink to an ancestor dir       SKIP  "directory loop (already visited)"
 *   symlink to a dir seen before     SKIP  "directory already visited"
 *   entry gone before its stat       ERROR "vanished during the walk"
 *   entry replaced before its open   ERROR "changed during the walk"
 *   path longer than PATH_MAX * 4    ERROR "path too long"
 *   excluded by a glob, skip_dir     not yielded at all
 *   left out by the filter           not yielded at all (a filter error: ERROR)
 *
 * Real directories are always descended (only an ancestor loop, e.g. a bind mount
 * of a parent, stops them): the tree as it is on disk must be complete, so a strip
 * can mirror it.  The "already visited" rule applies to directories reached through
 * a symlink only, which is where one directory can be reached twice.
 *
 * Roots: followed even when they are symlinks; a file root yields FILE with rel =
 * its base name; a missing root yields ERROR "<strerror>" ("No such file or
 * directory").  Exclude globs do not apply to roots (the user named them).
 * Display path = the root as typed + "/" + rel, without doubling a trailing '/'
 * ("./a/b" for root ".", as ripgrep prints it).
 *
 * Depth: the root is depth 0, its subdirectories depth 1; max_depth 0 means the
 * default limit (phi_limits_default).
 *
 * Threading: one call runs entirely on the calling thread.
 * Ownership: entry strings are borrowed for the callback; nothing outlives phi_walk.
 */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Hard cap on a display path; an entry beyond it is an ERROR and not descended. */
#define WALK_PATH_CAP ((size_t)PATH_MAX * 4)

struct devino {
	dev_t dev;
	ino_t ino;
};

/* Open-addressing set of directories seen under the current root. */
struct dirset {
	struct devino *v;
	unsigned char *used;
	size_t cap, n; /* cap is 0 or a power of two */
};

struct walker {
	const struct phi_walk_opts *o;
	phi_walk_fn fn;
	void *arg;
	unsigned max_depth;

	const char *root;
	char *buf;      /* display path; NUL-terminated; never NULL once started */
	size_t len, cap;
	size_t rel_off; /* where rel starts in buf (may be > len at the root itself) */

	char *root_real; /* realpath of the current root (malloc'd) */
	size_t root_real_len;

	struct devino *stack; /* directories on the current path */
	size_t nstack, capstack;
	struct dirset seen;

	bool have_skip;
	struct devino skip;

	char reason[128];
};

static const char *rel_of(const struct walker *w)
{
	return w->len < w->rel_off ? "" : w->buf + w->rel_off;
}

static int emit(struct walker *w, enum phi_walk_kind kind, const char *reason,
                uint64_t size)
{
	struct phi_walk_entry e = {
		.kind = kind,
		.path = w->buf,
		.root = w->root,
		.rel = rel_of(w),
		.reason = reason,
		.size = size,
	};
	return w->fn(w->arg, &e);
}

static int emit_errno(struct walker *w, enum phi_walk_kind kind, const char *what, int err)
{
	if (what)
		snprintf(w->reason, sizeof w->reason, "%s: %s", what, strerror(err));
	else
		snprintf(w->reason, sizeof w->reason, "%s", strerror(err));
	return emit(w, kind, w->reason, 0);
}

static const char *type_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "not a regular file (fifo)";
	if (S_ISSOCK(m))
		return "not a regular file (socket)";
	if (S_ISCHR(m))
		return "not a regular file (character device)";
	if (S_ISBLK(m))
		return "not a regular file (block device)";
	return "not a regular file (unknown type)";
}

/* ---- path buffer ------------------------------------------------------------ */

/* Make room for n more bytes plus the NUL.  The buffer may exceed WALK_PATH_CAP by
 * one name so an over-long entry can still be shown. */
static int buf_reserve(struct walker *w, size_t n)
{
	size_t need = w->len + n + 1;
	if (need <= w->cap)
		return 0;
	if (need > WALK_PATH_CAP + NAME_MAX + 2)
		return PHI_ELIMIT;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < need)
		cap *= 2;
	char *nb = realloc(w->buf, cap);
	if (!nb)
		return PHI_ENOMEM;
	w->buf = nb;
	w->cap = cap;
	return 0;
}

/* Append "/name" (no '/' right after a root ending in '/'). */
static int buf_push(struct walker *w, const char *name)
{
	size_t nl = strlen(name);
	bool sep = w->len > 0 && w->buf[w->len - 1] != '/';
	int rc = buf_reserve(w, nl + 1);
	if (rc)
		return rc;
	if (sep)
		w->buf[w->len++] = '/';
	memcpy(w->buf + w->len, name, nl + 1);
	w->len += nl;
	return 0;
}

static void buf_truncate(struct walker *w, size_t len)
{
	w->len = len;
	w->buf[len] = '\0';
}

/* ---- directory identity --------------------------------------------------------- */

static size_t devino_hash(struct devino d)
{
	uint64_t h = (uint64_t)d.ino * 0x9E3779B97F4A7C15ull;
	h ^= (uint64_t)d.dev + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
	return (size_t)(h ^ (h >> 29));
}

static bool devino_eq(struct devino a, struct devino b)
{
	return a.dev == b.dev && a.ino == b.ino;
}

static bool dirset_has(const struct dirset *s, struct devino d)
{
	if (!s->cap)
		return false;
	for (size_t i = devino_hash(d) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->used[i])
			return false;
		if (devino_eq(s->v[i], d))
			return true;
	}
}

static int dirset_add(struct dirset *s, struct devino d)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct devino *nv = calloc(ncap, sizeof *nv);
		unsigned char *nu = calloc(ncap, 1);
		if (!nv || !nu) {
			free(nv);
			free(nu);
			return PHI_ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->used[i])
				continue;
			size_t j = devino_hash(s->v[i]) & (ncap - 1);
			while (nu[j])
				j = (j + 1) & (ncap - 1);
			nu[j] = 1;
			nv[j] = s->v[i];
		}
		free(s->v);
		free(s->used);
		s->v = nv;
		s->used = nu;
		s->cap = ncap;
	}
	size_t i = devino_hash(d) & (s->cap - 1);
	while (s->used[i]) {
		if (devino_eq(s->v[i], d))
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->used[i] = 1;
	s->v[i] = d;
	s->n++;
	return 0;
}

static void dirset_clear(struct dirset *s)
{
	free(s->v);
	free(s->used);
	memset(s, 0, sizeof *s);
}

static bool on_stack(const struct walker *w, struct devino d)
{
	for (size_t i = 0; i < w->nstack; i++)
		if (devino_eq(w->stack[i], d))
			return true;
	return false;
}

/* Record d as visited and put it on the path; on error the path is unchanged. */
static int stack_push(struct walker *w, struct devino d)
{
	if (dirset_add(&w->seen, d))
		return PHI_ENOMEM;
	if (w->nstack == w->capstack) {
		size_t ncap = w->capstack ? w->capstack * 2 : 16;
		struct devino *ns = realloc(w->stack, ncap * sizeof *ns);
		if (!ns)
			return PHI_ENOMEM;
		w->stack = ns;
		w->capstack = ncap;
	}
	w->stack[w->nstack++] = d;
	return 0;
}

/* ---- listing -------------------------------------------------------------------- */

struct names {
	char *blob;    /* NUL-separated names */
	size_t len, cap;
	size_t *off;   /* offsets into blob */
	size_t n, ncap;
	char **v;      /* sorted pointers, built after reading */
};

static void names_free(struct names *nm)
{
	free(nm->blob);
	free(nm->off);
	free(nm->v);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read every name of dir (but "." and ".."), sorted.  Returns 0, PHI_ENOMEM, or
 * PHI_EIO with the errno in *err when readdir failed: the names read before the
 * failure are still listed and sorted. */
static int list_dir(DIR *d, struct names *nm, int *err)
{
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				*err = errno;
				rc = PHI_EIO;
			}
			break;
		}
		const char *s = de->d_name;
		if (s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0')))
			continue;
		size_t l = strlen(s) + 1;
		if (nm->len + l > nm->cap) {
			size_t ncap = nm->cap ? nm->cap : 1024;
			while (ncap < nm->len + l)
				ncap *= 2;
			char *nb = realloc(nm->blob, ncap);
			if (!nb)
				return PHI_ENOMEM;
			nm->blob = nb;
			nm->cap = ncap;
		}
		if (nm->n == nm->ncap) {
			size_t ncap = nm->ncap ? nm->ncap * 2 : 32;
			size_t *no = realloc(nm->off, ncap * sizeof *no);
			if (!no)
				return PHI_ENOMEM;
			nm->off = no;
			nm->ncap = ncap;
		}
		memcpy(nm->blob + nm->len, s, l);
		nm->off[nm->n++] = nm->len;
		nm->len += l;
	}
	if (nm->n) {
		nm->v = malloc(nm->n * sizeof *nm->v);
		if (!nm->v)
			return PHI_ENOMEM;
		for (size_t i = 0; i < nm->n; i++)
			nm->v[i] = nm->blob + nm->off[i];
		qsort(nm->v, nm->n, sizeof *nm->v, cmp_names);
	}
	return rc;
}

/* ---- the walk ------------------------------------------------------------------- */

static bool excluded(const struct walker *w, const char *base)
{
	const char *const *g = w->o ? w->o->exclude : NULL;
	if (!g)
		return false;
	const char *rel = rel_of(w);
	for (; *g; g++)
		if (fnmatch(*g, base, 0) == 0 || fnmatch(*g, rel, 0) == 0)
			return true;
	return false;
}

static int walk_dir(struct walker *w, int dfd, unsigned depth);

/* The caller's filter (.phiscanignore): true = leave the entry out.  A filter
 * error is yielded on the entry (fails closed) and leaves it out too. */
static bool filtered(struct walker *w, bool is_dir, int *rc)
{
	const char *why = NULL;
	if (!w->o || !w->o->filter)
		return false;
	int r = w->o->filter(w->o->filter_arg, rel_of(w), is_dir, &why);
	if (r < 0)
		*rc = emit(w, PHI_WALK_ERROR, why ? why : "cannot read the ignore file", 0);
	return r != 0;
}

/* Descend into the directory `name` of dfd whose stat is st (of the target when
 * via_link).  buf holds its display path. */
static int enter_dir(struct walker *w, int dfd, const char *name, const struct stat *st,
                     unsigned depth, bool via_link)
{
	struct devino id = { st->st_dev, st->st_ino };

	if (w->have_skip && devino_eq(id, w->skip))
		return 0;
	if (on_stack(w, id))
		return emit(w, PHI_WALK_SKIP, "directory loop (already visited)", 0);
	if (via_link && dirset_has(&w->seen, id))
		return emit(w, PHI_WALK_SKIP, "directory already visited", 0);
	if (depth > w->max_depth) {
		snprintf(w->reason, sizeof w->reason, "directory nesting deeper than %u",
		         w->max_depth);
		return emit(w, PHI_WALK_ERROR, w->reason, 0);
	}

	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (via_link ? 0 : O_NOFOLLOW);
	int fd = openat(dfd, name, flags);
	if (fd < 0) {
		if (errno == ENOENT)
			return emit(w, PHI_WALK_ERROR, "vanished during the walk", 0);
		if (errno == ENOTDIR || errno == ELOOP)
			return emit(w, PHI_WALK_ERROR, "changed during the walk", 0);
		return emit_errno(w, PHI_WALK_ERROR, "cannot open directory", errno);
	}
	struct stat now;
	if (fstat(fd, &now) != 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		close(fd);
		return emit(w, PHI_WALK_ERROR, "changed during the walk", 0);
	}
	int rc = stack_push(w, id);
	if (rc == 0) {
		rc = walk_dir(w, fd, depth);
		w->nstack--;
	}
	close(fd);
	return rc;
}

/* The entry `name` of dfd is a symlink. */
static int follow_link(struct walker *w, int dfd, const char *name, unsigned depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, 0) != 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return emit(w, PHI_WALK_SKIP, "broken symlink", 0);
		if (e == ELOOP)
			return emit(w, PHI_WALK_SKIP, "broken symlink (symlink loop)", 0);
		return emit_errno(w, PHI_WALK_ERROR, "cannot follow symlink", e);
	}
	/* Special files are never opened wherever they are: no need to resolve them
	 * (and /dev/stdout -> /proc/self/fd/1 -> "pipe:[n]" has no real path). */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return emit(w, PHI_WALK_SKIP, type_name(st.st_mode), 0);
	if (!(w->o && w->o->follow_symlinks)) {
		char *real = realpath(w->buf, NULL);
		if (!real) {
			if (errno == ENOMEM)
				return PHI_ENOMEM;
			return emit_errno(w, PHI_WALK_ERROR, "cannot resolve symlink", errno);
		}
		size_t rl = w->root_real_len;
		/* Inside when real == root, or real starts with root + '/'; the root "/"
		 * contains everything. */
		bool inside = strncmp(real, w->root_real, rl) == 0 &&
		              (real[rl] == '\0' || real[rl] == '/' ||
		               (rl > 0 && w->root_real[rl - 1] == '/'));
		free(real);
		if (!inside)
			return emit(w, PHI_WALK_SKIP, "symlink leaves the scanned tree", 0);
	}
	int rc = 0;
	if (filtered(w, S_ISDIR(st.st_mode), &rc))
		return rc;
	if (S_ISREG(st.st_mode))
		return emit(w, PHI_WALK_FILE, NULL, (uint64_t)st.st_size);
	return enter_dir(w, dfd, name, &st, depth + 1, true);
}

static int walk_entry(struct walker *w, int dfd, const char *name, unsigned depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return emit(w, PHI_WALK_ERROR, "vanished during the walk", 0);
		return emit_errno(w, PHI_WALK_ERROR, "cannot stat", errno);
	}
	int rc = 0;
	if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && filtered(w, S_ISDIR(st.st_mode), &rc))
		return rc;
	if (S_ISREG(st.st_mode))
		return emit(w, PHI_WALK_FILE, NULL, (uint64_t)st.st_size);
	if (S_ISDIR(st.st_mode))
		return enter_dir(w, dfd, name, &st, depth + 1, false);
	if (S_ISLNK(st.st_mode))
		return follow_link(w, dfd, name, depth);
	return emit(w, PHI_WALK_SKIP, type_name(st.st_mode), 0);
}

/* List the directory open on fd (borrowed; buf holds its display path) and walk its
 * entries in byte order.  depth is the directory's own depth. */
static int walk_dir(struct walker *w, int fd, unsigned depth)
{
	/* fdopendir takes ownership of its descriptor; fd stays ours for the *at calls. */
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return emit_errno(w, PHI_WALK_ERROR, "cannot open directory", errno);
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return emit_errno(w, PHI_WALK_ERROR, "cannot open directory", e);
	}
	struct names nm = { 0 };
	int err = 0;
	int rc = list_dir(d, &nm, &err);
	closedir(d);
	/* A failed readdir is an error for the directory; what was read is still
	 * walked. */
	if (rc == PHI_EIO)
		rc = emit_errno(w, PHI_WALK_ERROR, "cannot read directory", err);
	if (rc) {
		names_free(&nm);
		return rc;
	}

	size_t saved = w->len;
	for (size_t i = 0; i < nm.n && rc == 0; i++) {
		const char *name = nm.v[i];
		rc = buf_push(w, name);
		if (rc == PHI_ELIMIT) {
			/* Cannot happen while names fit NAME_MAX (the buffer allows one
			 * name past the cap); shown with the parent's path if it does. */
			rc = emit(w, PHI_WALK_ERROR, "path too long", 0);
			buf_truncate(w, saved);
			continue;
		}
		if (rc)
			break;
		if (w->len > WALK_PATH_CAP)
			rc = emit(w, PHI_WALK_ERROR, "path too long", 0);
		else if (!excluded(w, name))
			rc = walk_entry(w, fd, name, depth);
		buf_truncate(w, saved);
	}
	names_free(&nm);
	return rc;
}

static const char *base_name(const char *path, char *tmp, size_t tmpsz)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	size_t l = n - s;
	if (l >= tmpsz)
		l = tmpsz - 1;
	memcpy(tmp, path + s, l);
	tmp[l] = '\0';
	return tmp;
}

static int walk_root(struct walker *w, const char *root)
{
	size_t rl = strlen(root);
	char base[NAME_MAX + 1];

	w->root = root;
	w->len = 0;
	w->nstack = 0;
	dirset_clear(&w->seen);
	int rc = buf_reserve(w, rl);
	if (rc && rc != PHI_ELIMIT)
		return rc;

	struct stat st;
	if (rc == PHI_ELIMIT || stat(root, &st) != 0) {
		/* rel is the base name, as for a file root. */
		snprintf(w->reason, sizeof w->reason, "%s",
		         rc == PHI_ELIMIT ? "path too long" : strerror(errno));
		struct phi_walk_entry en = {
			.kind = PHI_WALK_ERROR,
			.path = root,
			.root = root,
			.rel = base_name(root, base, sizeof base),
			.reason = w->reason,
		};
		return w->fn(w->arg, &en);
	}
	memcpy(w->buf, root, rl + 1);
	w->len = rl;
	if (!S_ISDIR(st.st_mode)) {
		struct phi_walk_entry en = {
			.kind = S_ISREG(st.st_mode) ? PHI_WALK_FILE : PHI_WALK_SKIP,
			.path = root,
			.root = root,
			.rel = base_name(root, base, sizeof base),
			.reason = S_ISREG(st.st_mode) ? NULL : type_name(st.st_mode),
			.size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
		};
		return w->fn(w->arg, &en);
	}

	/* A directory root: entries are root + '/' + rel; at the root itself rel = "". */
	w->rel_off = (rl > 0 && root[rl - 1] == '/') ? rl : rl + 1;
	struct devino id = { st.st_dev, st.st_ino };
	if (w->have_skip && devino_eq(id, w->skip))
		return 0;

	free(w->root_real);
	w->root_real = realpath(root, NULL);
	if (!w->root_real) {
		if (errno == ENOMEM)
			return PHI_ENOMEM;
		return emit_errno(w, PHI_WALK_ERROR, "cannot resolve path", errno);
	}
	w->root_real_len = strlen(w->root_real);

	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return emit_errno(w, PHI_WALK_ERROR, "cannot open directory", errno);
	rc = stack_push(w, id);
	if (rc == 0)
		rc = walk_dir(w, fd, 0);
	close(fd);
	return rc;
}

int phi_walk(const char *const *roots, size_t nroots, const struct phi_walk_opts *o,
             phi_walk_fn fn, void *arg)
{
	struct walker w = { .o = o, .fn = fn, .arg = arg };
	struct phi_limits lim;

	phi_limits_default(&lim);
	w.max_depth = (o && o->max_depth) ? o->max_depth : lim.max_depth;
	if (o && o->skip_dir) {
		struct stat st;
		/* An output directory that does not exist yet cannot be in the tree. */
		if (stat(o->skip_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
			w.have_skip = true;
			w.skip.dev = st.st_dev;
			w.skip.ino = st.st_ino;
		}
	}

	int rc = 0;
	for (size_t i = 0; i < nroots && rc == 0; i++)
		rc = walk_root(&w, roots[i]);

	free(w.buf);
	free(w.root_real);
	free(w.stack);
	dirset_clear(&w.seen);
	return rc;
}
