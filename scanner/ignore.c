/* ignore.c - .phiscanignore files (see ignore.h for the syntax, gitignore(5)).
 *
 * Patterns from every file read are kept in one array in load order.  A file is
 * read only after the files of all its parent directories (phi_ignore_check loads
 * base, then each directory down to the entry's own), so for any entry the patterns
 * that apply (those whose file sits in one of its ancestors) appear shallow to deep,
 * line by line: walking the array and keeping the last match gives gitignore's
 * precedence.  Directories already looked at are remembered in a sorted array.
 *
 * The glob matcher is written here because fnmatch(3) has no "**"; it follows
 * git's wildmatch semantics for the subset gitignore uses, in time bounded by the
 * product of pattern and path lengths (no exponential backtracking).
 *
 * Threading: one thread.  Ownership: see ignore.h.
 */
#include "ignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An ignore file larger than this is refused (it is a list of patterns). */
#define IGNORE_FILE_MAX (1u << 20)
/* Patterns longer than this are refused when loaded. */
#define IGNORE_PATTERN_MAX 1024

struct pattern {
	char *glob;      /* without '!', trailing '/' and leading '/' (owned) */
	const char *dir; /* directory of its file, relative to base ("" = base) */
	bool negate, dir_only, anchored;
};

struct phi_ignore {
	char *base;
	struct pattern *v;
	size_t n, cap;
	char **dirs;     /* directories whose file was looked for, sorted (owned) */
	size_t ndirs, capdirs;
};

/* ---- the matcher --------------------------------------------------------- */

/* A character class at p (p[0] == '['), within p[0..pn): does it match c?  *used is
 * set to its length including the closing ']'; false with *used = 0 when the class
 * is not closed inside the segment (the '[' is then a literal). */
static bool class_match(const char *p, size_t pn, char c, size_t *used)
{
	size_t q = 1;
	bool neg = false, hit = false;
	if (q < pn && (p[q] == '!' || p[q] == '^')) {
		neg = true;
		q++;
	}
	size_t first = q;
	while (q < pn && (p[q] != ']' || q == first)) {
		char lo = p[q];
		if (lo == '\\' && q + 1 < pn)
			lo = p[++q];
		if (q + 2 < pn && p[q + 1] == '-' && p[q + 2] != ']') {
			if (c >= lo && c <= p[q + 2])
				hit = true;
			q += 3;
		} else {
			if (c == lo)
				hit = true;
			q++;
		}
	}
	if (q >= pn) {
		*used = 0;
		return false;
	}
	*used = q + 1;
	return hit != neg;
}

/* One pattern element at p against the character c: 1 match, 0 no match; *used is
 * the element's length ('?', a class, an escaped or a plain character). */
static bool one_match(const char *p, size_t pn, char c, size_t *used)
{
	if (p[0] == '?') {
		*used = 1;
		return true;
	}
	if (p[0] == '[') {
		bool hit = class_match(p, pn, c, used);
		if (*used)
			return hit;
	}
	if (p[0] == '\\' && pn > 1) {
		*used = 2;
		return p[1] == c;
	}
	*used = 1;
	return p[0] == c;
}

/* One path segment (no '/' on either side) against one pattern segment: '*' is
 * any run, backtracking only to the last '*' seen, so the cost is at most the
 * product of the lengths, whatever the pattern (a recursive matcher is exponential
 * in the number of stars: the fuzz_config timeout input). */
static bool seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
	while (si < sn) {
		size_t used;
		if (pi < pn && p[pi] == '*') {
			while (pi < pn && p[pi] == '*')
				pi++;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < pn && one_match(p + pi, pn - pi, s[si], &used)) {
			pi += used;
			si++;
			continue;
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

struct seg {
	const char *p;
	size_t n;
};

/* Split s on '/' into at most cap segments; the count, or cap + 1 when more. */
static size_t split(const char *s, struct seg *v, size_t cap)
{
	size_t n = 0;
	for (;;) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (n == cap)
			return cap + 1;
		v[n++] = (struct seg){s, len};
		if (!slash)
			return n;
		s = slash + 1;
	}
}

#define GLOB_MAX_SEGS 256

/* Pattern segments against path segments, left to right, keeping the set of path
 * positions reachable so far: a "**" segment reaches every position at or after
 * one already reached (zero or more directories), a trailing one at least one
 * segment further ("a/" + "**" is what is inside a, not a itself). */
bool phi_ignore_glob(const char *pattern, const char *path)
{
	struct seg ps[GLOB_MAX_SEGS], ts[GLOB_MAX_SEGS];
	bool cur[GLOB_MAX_SEGS + 1], next[GLOB_MAX_SEGS + 1];
	size_t np = split(pattern, ps, GLOB_MAX_SEGS), nt = split(path, ts, GLOB_MAX_SEGS);
	if (np > GLOB_MAX_SEGS || nt > GLOB_MAX_SEGS)
		return false; /* deeper than any pattern is written for */
	memset(cur, 0, sizeof cur);
	cur[0] = true;
	for (size_t i = 0; i < np; i++) {
		bool globstar = ps[i].n == 2 && ps[i].p[0] == '*' && ps[i].p[1] == '*';
		bool any = false;
		memset(next, 0, sizeof next);
		for (size_t t = 0; t <= nt; t++) {
			if (globstar) {
				bool last = i + 1 == np;
				if (any && (!last || t > 0))
					next[t] = true;
				any = any || cur[t];
				if (!last && cur[t])
					next[t] = true;
			} else if (cur[t] && t < nt && seg_match(ps[i].p, ps[i].n, ts[t].p, ts[t].n)) {
				next[t + 1] = true;
			}
		}
		memcpy(cur, next, sizeof cur);
	}
	return cur[nt];
}

/* ---- loading ------------------------------------------------------------- */

int phi_ignore_new(struct phi_ignore **out, const char *base, struct phi_error *err)
{
	struct phi_ignore *ig = calloc(1, sizeof *ig);
	*out = NULL;
	if (!ig || !(ig->base = strdup(base))) {
		free(ig);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	*out = ig;
	return 0;
}

void phi_ignore_free(struct phi_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		free(ig->v[i].glob);
	for (size_t i = 0; i < ig->ndirs; i++)
		free(ig->dirs[i]);
	free(ig->v);
	free(ig->dirs);
	free(ig->base);
	free(ig);
}

/* Index of dir in the sorted dirs, or where it would go (*found false). */
static size_t dir_find(const struct phi_ignore *ig, const char *dir, bool *found)
{
	size_t lo = 0, hi = ig->ndirs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ig->dirs[mid], dir);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Remember dir (its file was looked for); returns the stored copy or NULL. */
static const char *dir_add(struct phi_ignore *ig, const char *dir)
{
	bool found;
	size_t at = dir_find(ig, dir, &found);
	if (found)
		return ig->dirs[at];
	if (ig->ndirs == ig->capdirs) {
		size_t nc = ig->capdirs ? ig->capdirs * 2 : 16;
		char **t = realloc(ig->dirs, nc * sizeof *t);
		if (!t)
			return NULL;
		ig->dirs = t;
		ig->capdirs = nc;
	}
	char *copy = strdup(dir);
	if (!copy)
		return NULL;
	memmove(&ig->dirs[at + 1], &ig->dirs[at], (ig->ndirs - at) * sizeof *ig->dirs);
	ig->dirs[at] = copy;
	ig->ndirs++;
	return copy;
}

static int add_line(struct phi_ignore *ig, const char *dir, char *s, size_t n,
                    const char *source, unsigned line, struct phi_error *err)
{
	struct pattern p = {.dir = dir};
	/* trailing spaces go unless escaped */
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t') && !(n > 1 && s[n - 2] == '\\'))
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	if (s[0] == '!') {
		p.negate = true;
		s++, n--;
	} else if (s[0] == '\\' && n > 1 && (s[1] == '#' || s[1] == '!')) {
		s++, n--;
	}
	if (n > 0 && s[n - 1] == '/') {
		p.dir_only = true;
		n--;
	}
	if (n > 0 && s[0] == '/') {
		p.anchored = true;
		s++, n--;
	}
	if (n == 0)
		return 0; /* "/" or "!" alone match nothing */
	if (n > IGNORE_PATTERN_MAX)
		return phi_fail(err, PHI_ELIMIT, "%s:%u: pattern longer than %u bytes", source, line,
		                IGNORE_PATTERN_MAX);
	if (memchr(s, '/', n))
		p.anchored = true;
	if (ig->n == ig->cap) {
		size_t nc = ig->cap ? ig->cap * 2 : 32;
		struct pattern *t = realloc(ig->v, nc * sizeof *t);
		if (!t)
			return phi_fail(err, PHI_ENOMEM, "out of memory");
		ig->v = t;
		ig->cap = nc;
	}
	if (!(p.glob = strndup(s, n)))
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	ig->v[ig->n++] = p;
	return 0;
}

int phi_ignore_add(struct phi_ignore *ig, const char *dir_rel, const char *text, size_t len,
                   const char *source, struct phi_error *err)
{
	const char *dir = dir_add(ig, dir_rel);
	if (!dir)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	char *copy = malloc(len + 1);
	if (!copy)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = 0;
	int rc = 0;
	unsigned line = 0;
	for (char *s = copy; !rc && s < copy + len;) {
		char *nl = memchr(s, '\n', (size_t)(copy + len - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(copy + len - s);
		line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (memchr(s, 0, n))
			rc = phi_fail(err, PHI_EFORMAT, "%s:%u: NUL byte in an ignore file", source, line);
		else
			rc = add_line(ig, dir, s, n, source, line, err);
		s += (nl ? (size_t)(nl - s) + 1 : n);
		if (!nl)
			break;
	}
	free(copy);
	return rc;
}

/* Read dir's .phiscanignore if it was not looked for yet. */
static int load_dir(struct phi_ignore *ig, const char *dir, struct phi_error *err)
{
	bool found;
	dir_find(ig, dir, &found);
	if (found)
		return 0;
	char path[8192];
	if ((size_t)snprintf(path, sizeof path, "%s%s%s/%s", ig->base, *dir ? "/" : "", dir,
	                     PHI_IGNORE_FILE) >= sizeof path) {
		/* too deep to have a file we can name: nothing to read */
		return dir_add(ig, dir) ? 0 : phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return dir_add(ig, dir) ? 0 : phi_fail(err, PHI_ENOMEM, "out of memory");
		return phi_fail(err, PHI_EIO, "%s: cannot read: %s", path, strerror(errno));
	}
	char *buf = malloc(IGNORE_FILE_MAX + 1);
	size_t len = 0;
	int rc = 0;
	if (!buf) {
		close(fd);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, IGNORE_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = phi_fail(err, PHI_EIO, "%s: cannot read: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > IGNORE_FILE_MAX) {
			rc = phi_fail(err, PHI_ELIMIT, "%s: larger than %u bytes", path, IGNORE_FILE_MAX);
			break;
		}
	}
	close(fd);
	if (!rc)
		rc = phi_ignore_add(ig, dir, buf, len, path, err);
	free(buf);
	return rc;
}

/* Load the files of every directory from base down to rel's parent. */
static int load_parents(struct phi_ignore *ig, const char *rel, struct phi_error *err)
{
	char dir[4096];
	int rc = load_dir(ig, "", err);
	for (const char *s = strchr(rel, '/'); !rc && s; s = strchr(s + 1, '/')) {
		size_t i = (size_t)(s - rel);
		if (i >= sizeof dir)
			break; /* too deep to name: nothing to read there */
		memcpy(dir, rel, i);
		dir[i] = 0;
		rc = load_dir(ig, dir, err);
	}
	return rc;
}

static bool pattern_matches(const struct pattern *p, const char *rel, bool is_dir)
{
	if (p->dir_only && !is_dir)
		return false;
	size_t dl = strlen(p->dir);
	const char *sub = rel;
	if (dl) {
		if (strncmp(rel, p->dir, dl) || rel[dl] != '/')
			return false;
		sub = rel + dl + 1;
	}
	if (p->anchored)
		return phi_ignore_glob(p->glob, sub);
	const char *slash = strrchr(sub, '/');
	return phi_ignore_glob(p->glob, slash ? slash + 1 : sub);
}

int phi_ignore_check(struct phi_ignore *ig, const char *rel, bool is_dir, bool *ignored,
                     struct phi_error *err)
{
	int rc = load_parents(ig, rel, err);
	*ignored = false;
	if (rc)
		return rc;
	for (size_t i = 0; i < ig->n; i++)
		if (pattern_matches(&ig->v[i], rel, is_dir))
			*ignored = !ig->v[i].negate;
	return 0;
}

int phi_ignore_check_path(struct phi_ignore *ig, const char *rel, bool is_dir, bool *ignored,
                          struct phi_error *err)
{
	char dir[4096];
	*ignored = false;
	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		size_t i = (size_t)(s - rel);
		if (i >= sizeof dir)
			break;
		memcpy(dir, rel, i);
		dir[i] = 0;
		int rc = phi_ignore_check(ig, dir, true, ignored, err);
		if (rc || *ignored)
			return rc;
	}
	return phi_ignore_check(ig, rel, is_dir, ignored, err);
}
