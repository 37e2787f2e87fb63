/* test_badinput.c - the bad-input matrix (issue 7, "Fail closed, lose nothing").
 *
 * Data + one runner: tests/badinput/manifest.tsv has one row per malformed or hostile
 * input (what it is, the exit code, status and reason phiscan must give, what strip and
 * filter must do); tests/badinput/make_case.py makes the row's input at test time in
 * the test's own mkdtemp root (special files - FIFOs, sockets, devices, symlink loops,
 * modes 0000 - only exist there, never in the repository).  Each row is one
 * parameterised test, which runs the real binary under a budget of 10 s wall clock and
 * 512 MiB of address space (RLIMIT_AS; under ASan its allocator cap), so an input that
 * declares 4 GiB and gets it allocated fails, and checks:
 *
 *   - scan of the row alone: the exit code, the JSON status of the entry (unscanned is
 *     an "unreadable" line and exit 2, never clean) and its reason; the human report
 *     names the file on the line with the reason;
 *   - scan of a batch (a clean and a dirty control file as roots before and after the
 *     row): the controls are still reported, the row the same way;
 *   - strip -o of the batch: the exit code, the controls written and de-identified, no
 *     copy of an entry that could not be de-identified, no temporary file left, and a
 *     de-identified copy re-scans clean;
 *   - filter of the row's file on stdin: the exit code, and nothing on stdout when it
 *     fails;
 *   - every file, symlink and directory of the row's tree (and the controls) unchanged
 *     after all runs: names, types, modes, link targets and SHA-256 of contents.
 *
 * A crash (death by a signal), a hang past the budget or a sanitizer report fails the
 * row (cli.c).  Rows needing root (mknod) are skipped with the reason when not root;
 * rows about permissions run phiscan as uid 65534 when the test runs as root.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MANIFEST "tests/badinput/manifest.tsv"
#define MAKER "tests/badinput/make_case.py"
#define BUDGET_S 10
#define BUDGET_AS (512ull << 20)

struct row {
	char id[64];
	char format[16];
	char entry[160];
	char shown[160];
	int exit;
	char status[16];
	char message[160];
	int strip;
	int filter;   /* -1: not run */
	char during[64];
	char needs[16];
};

static const char clean_text[] = "Tooth 14 crown prep, margins ok.\nShade A2, bite checked.\n";
static const char dirty_text[] = "SSN 482-31-7765\n";

/* ---- the manifest ---- */

static void field(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

static int num(const char *s)
{
	if (!strcmp(s, "-"))
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	return *end ? -2 : (int)v;
}

static size_t load_rows(struct row *rows, size_t cap)
{
	FILE *f = fopen(MANIFEST, "r");
	if (!f)
		return 0;
	char line[2048];
	size_t n = 0;
	while (n < cap && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *col[12];
		size_t k = 0;
		for (char *p = line; k < 12;) {
			col[k++] = p;
			char *t = strchr(p, '\t');
			if (!t)
				break;
			*t = 0;
			p = t + 1;
		}
		if (k != 12)
			continue; /* counted as missing by the manifest test */
		struct row *r = &rows[n++];
		memset(r, 0, sizeof *r);
		field(r->id, sizeof r->id, col[0]);
		field(r->format, sizeof r->format, col[1]);
		field(r->entry, sizeof r->entry, col[2]);
		field(r->shown, sizeof r->shown, strcmp(col[3], "-") ? col[3] : col[2]);
		r->exit = num(col[4]);
		field(r->status, sizeof r->status, col[5]);
		field(r->message, sizeof r->message, col[6]);
		r->strip = num(col[7]);
		r->filter = num(col[8]);
		field(r->during, sizeof r->during, col[9]);
		field(r->needs, sizeof r->needs, col[10]);
	}
	fclose(f);
	return n;
}

ParameterizedTestParameters(badinput, every_row_fails_closed_without_a_crash_a_hang_or_a_change)
{
	static struct row tmp[256];
	size_t n = load_rows(tmp, 256);
	struct row *rows = cr_malloc(sizeof *rows * (n ? n : 1));
	memcpy(rows, tmp, sizeof *rows * n);
	return cr_make_param_array(struct row, rows, n);
}

/* The manifest itself: well-formed, 60 rows at least, every row's recipe exists, and
 * the issue's categories are all there. */
Test(badinput, the_manifest_has_60_rows_with_a_recipe_each_and_covers_every_format,
     .init = cli_setup, .fini = cli_teardown)
{
	static struct row rows[256];
	size_t n = load_rows(rows, 256);
	cr_assert_geq(n, 60, "%zu rows in " MANIFEST, n);
	FILE *f = fopen(MANIFEST, "r");
	cr_assert_not_null(f);
	char line[2048];
	size_t data = 0;
	while (fgets(line, sizeof line, f))
		data += line[0] != '#' && line[0] != '\n';
	fclose(f);
	cr_assert_eq(data, n, "a manifest row does not have 12 tab-separated columns");
	struct cbuf out;
	char *argv[] = {"python3", MAKER, "--list", NULL};
	cr_assert_eq(run(argv, NULL, &out, NULL), 0);
	static const char *const statuses[] = {"unscanned", "skipped", "findings", "clean"};
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char want[80];
		snprintf(want, sizeof want, "%s\n", r->id);
		cr_assert(strstr(out.p, want), "row %s has no recipe in " MAKER, r->id);
		bool known = false;
		for (size_t s = 0; s < 4; s++)
			known |= !strcmp(r->status, statuses[s]);
		cr_assert(known, "row %s: status '%s'", r->id, r->status);
		cr_assert(r->exit >= 0 && r->exit <= 2 && r->strip >= 0 && r->strip <= 2 &&
		          r->filter >= -1 && r->filter <= 2, "row %s: bad exit columns", r->id);
		cr_assert(strcmp(r->status, "unscanned") || (r->exit == 2 && r->strip == 2),
		          "row %s: unscanned must be exit 2", r->id);
		cr_assert(!strcmp(r->message, "-") == (!strcmp(r->status, "findings") ||
		                                        !strcmp(r->status, "clean")),
		          "row %s: a reason is expected exactly for unscanned and skipped", r->id);
		for (size_t j = 0; j < i; j++)
			cr_assert(strcmp(rows[j].id, r->id), "row %s twice", r->id);
	}
	static const char *const formats[] = {"text", "dicom", "stl", "ply", "obj", "hps", "jpeg",
	                                      "png", "tiff", "xml", "json", "html", "zip", "tar",
	                                      "names", "fs"};
	for (size_t k = 0; k < sizeof formats / sizeof *formats; k++) {
		size_t c = 0;
		for (size_t i = 0; i < n; i++)
			c += !strcmp(rows[i].format, formats[k]);
		cr_assert_geq(c, 1, "no row for %s", formats[k]);
	}
}

/* ---- the state of a tree, to prove nothing changed ---- */

struct snap {
	char *p;
	size_t n, cap;
};

static void snap_add(struct snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void snap_add(struct snap *s, const char *fmt, ...)
{
	char *buf = NULL;
	va_list ap;
	va_start(ap, fmt);
	int k = vasprintf(&buf, fmt, ap);
	va_end(ap);
	cr_assert_geq(k, 0);
	if (s->n + (size_t)k + 1 > s->cap) {
		s->cap = (s->n + (size_t)k + 1) * 2;
		s->p = realloc(s->p, s->cap);
		cr_assert_not_null(s->p);
	}
	memcpy(s->p + s->n, buf, (size_t)k + 1);
	s->n += (size_t)k;
	free(buf);
}

/* Depth-first by descriptor (paths of the too-long rows exceed PATH_MAX); entries in
 * readdir order sorted by name; `skip` (a base name) is left out. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SHA-256 of the file nm of dfd; false when it cannot be opened.  The buffers are on
 * the heap: snap_dir recurses 100 levels deep for the nesting rows. */
static bool hash_at(int dfd, const char *nm, char hex[65])
{
	int f = openat(dfd, nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (f < 0)
		return false;
	struct stat st;
	cr_assert_eq(fstat(f, &st), 0);
	size_t n = 0, cap = (size_t)st.st_size + 1;
	char *p = malloc(cap);
	cr_assert_not_null(p);
	for (ssize_t k; (k = read(f, p + n, cap - n)) > 0;) {
		n += (size_t)k;
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap);
			cr_assert_not_null(p);
		}
	}
	close(f);
	sha256_hex(p, n, hex);
	free(p);
	return true;
}

static void snap_dir(struct snap *s, int dfd, const char *rel, const char *skip, unsigned depth)
{
	cr_assert_lt(depth, 200);
	int fd = dup(dfd);
	cr_assert_geq(fd, 0);
	DIR *d = fdopendir(fd);
	cr_assert_not_null(d);
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (skip && !strcmp(de->d_name, skip)))
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		cr_assert_not_null(names);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n) /* qsort(NULL, 0) is undefined (UBSan, an empty directory) */
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		const char *nm = names[i];
		struct stat st;
		cr_assert_eq(fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW), 0, "%s/%s", rel, nm);
		char *sub = NULL;
		cr_assert_geq(asprintf(&sub, "%s/%s", rel, nm), 0);
		unsigned mode = (unsigned)st.st_mode;
		if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t k = readlinkat(dfd, nm, t, sizeof t - 1);
			cr_assert_geq(k, 0);
			t[k] = 0;
			snap_add(s, "%s link %s\n", sub, t);
		} else if (S_ISDIR(st.st_mode)) {
			snap_add(s, "%s dir %o\n", sub, mode);
			int c = openat(dfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0) {
				snap_dir(s, c, sub, skip, depth + 1);
				close(c);
			} else {
				snap_add(s, "%s unreadable\n", sub);
			}
		} else if (S_ISREG(st.st_mode)) {
			char hex[65];
			if (hash_at(dfd, nm, hex))
				snap_add(s, "%s file %o %s\n", sub, mode, hex);
			else
				snap_add(s, "%s file %o unreadable\n", sub, mode);
		} else {
			snap_add(s, "%s special %o\n", sub, mode);
		}
		free(sub);
		free(names[i]);
	}
	free(names);
}

static char *snapshot(const char *dir, const char *skip)
{
	struct snap s = {0};
	snap_add(&s, "%s", "");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s", dir);
	snap_dir(&s, fd, ".", skip, 0);
	close(fd);
	return cli_own(s.p);
}

/* Any name under dir containing a phiscan temporary (".phiscan-"). */
static bool has_temporary(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		return false;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strstr(de->d_name, ".phiscan-"))
			found = true;
		else if (de->d_type == DT_DIR) {
			int c = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0) {
				found = has_temporary(c);
				close(c);
			}
		}
	}
	closedir(d);
	return found;
}

/* ---- what phiscan ran into while running ---- */

struct vanish {
	const char *slow;   /* the base name the worker must have open */
	const char *victim; /* the path removed meanwhile */
	bool done, still_busy;
};

/* Whether pid has base open, read at least min_pos bytes into it. */
static bool has_open(int pid, const char *base, long long min_pos)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d));) {
		char p[128], t[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		ssize_t k = readlink(p, t, sizeof t - 1);
		if (k <= 0)
			continue;
		t[k] = 0;
		const char *s = strrchr(t, '/');
		if (!s || strcmp(s + 1, base))
			continue;
		char info[128], buf[512];
		snprintf(info, sizeof info, "/proc/%d/fdinfo/%s", pid, de->d_name);
		FILE *f = fopen(info, "r");
		long long pos = -1;
		while (f && fgets(buf, sizeof buf, f))
			if (!strncmp(buf, "pos:", 4))
				pos = strtoll(buf + 4, NULL, 10);
		if (f)
			fclose(f);
		found = pos >= min_pos;
	}
	closedir(d);
	return found;
}

/* The victim is removed once the single worker is reading the slow file (2 MiB in:
 * not the plan's look at its head): the walker has listed the victim, the worker
 * has not opened it yet, which the slow file still open after the unlink proves. */
static void vanish_during(int pid, void *arg)
{
	struct vanish *v = arg;
	if (v->done || !has_open(pid, v->slow, 2 << 20))
		return;
	cr_assert_eq(unlink(v->victim), 0, "unlink %s: %s", v->victim, strerror(errno));
	v->done = true;
	v->still_busy = has_open(pid, v->slow, 0);
}

static void append_during(int pid, void *arg)
{
	(void)pid;
	int fd = open(arg, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		cr_assert_eq(write(fd, dirty_text, sizeof dirty_text - 1), (ssize_t)sizeof dirty_text - 1);
		close(fd);
	}
}

struct runner {
	const struct row *r;
	char *tree;
	struct run_opts ro;
	struct vanish v;
	char *victim;
	char *victim_bytes; /* as the maker wrote it, put back before and after each run */
	size_t victim_len;
};

static int phiscan(struct runner *x, const struct cbuf *in, struct cbuf *out, struct cbuf *err,
                   ...)
{
	char *argv[32];
	int n = 0;
	argv[n++] = cli_bin;
	va_list ap;
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert_lt(n, 31);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	if (x->victim) {
		/* each run gets the file back, with the same bytes */
		cli_write(x->victim, x->victim_bytes, x->victim_len);
		x->v = (struct vanish){.slow = "a-slow.txt", .victim = x->victim};
		x->ro.during_arg = &x->v;
	}
	int rc = run_with(argv, &x->ro, in, out, err);
	if (x->victim) {
		cr_assert(x->v.done, "%s: the slow file was never seen open", x->r->id);
		cr_assert(x->v.still_busy, "%s: the worker finished the slow file before the unlink"
		                           " (make a-slow.txt larger)", x->r->id);
		cli_write(x->victim, x->victim_bytes, x->victim_len);
	}
	return rc;
}

/* The JSON line of type for the entry: its path ends with the entry (JSON-escaped). */
static const char *entry_line(const struct cbuf *b, const char *type, const char *entry)
{
	size_t n;
	char **l = lines_of(b, &n);
	char *pat = cli_fmt("%s\",\"format\":", entry);
	for (size_t i = 0; i < n; i++)
		if (is_type(l[i], type) && strstr(l[i], pat))
			return l[i];
	return NULL;
}

static bool any_line_for(const struct cbuf *b, const char *entry)
{
	return entry_line(b, "finding", entry) || entry_line(b, "unreadable", entry) ||
	       entry_line(b, "skipped", entry);
}

/* The row's status in a JSON report. */
static void assert_status(const struct row *r, const struct cbuf *out, const char *what)
{
	const char *u = entry_line(out, "unreadable", r->entry);
	const char *s = entry_line(out, "skipped", r->entry);
	const char *f = entry_line(out, "finding", r->entry);
	if (!strcmp(r->status, "unscanned")) {
		cr_assert_not_null(u, "%s, %s: no unreadable line for %s:\n%s", r->id, what, r->entry,
		                   out->p);
		char *why = json_str(u, "reason");
		cr_assert(why && strstr(why, r->message), "%s, %s: reason \"%s\", expected \"%s\"",
		          r->id, what, why ? why : "(none)", r->message);
	} else if (!strcmp(r->status, "skipped")) {
		cr_assert_not_null(s, "%s, %s: no skipped line for %s:\n%s", r->id, what, r->entry,
		                   out->p);
		char *why = json_str(s, "reason");
		cr_assert(why && strstr(why, r->message), "%s, %s: reason \"%s\", expected \"%s\"",
		          r->id, what, why ? why : "(none)", r->message);
		cr_assert_null(u, "%s, %s: skipped and unreadable", r->id, what);
	} else if (!strcmp(r->status, "findings")) {
		cr_assert_not_null(f, "%s, %s: no finding for %s:\n%s", r->id, what, r->entry, out->p);
		cr_assert_null(u, "%s, %s: findings and unreadable:\n%s", r->id, what, out->p);
	} else {
		cr_assert(!u && !s && !f, "%s, %s: expected clean, got:\n%s", r->id, what, out->p);
	}
}

/* The human report names the file on the line that gives the reason. */
static void assert_human(const struct row *r, const struct cbuf *out, const struct cbuf *err)
{
	const struct cbuf *bufs[2] = {out, err};
	bool found = false;
	for (int k = 0; k < 2 && !found; k++) {
		size_t n;
		char **l = lines_of(bufs[k], &n);
		for (size_t i = 0; i < n && !found; i++)
			found = strstr(l[i], r->shown) &&
			        (!strcmp(r->message, "-") || strstr(l[i], r->message));
	}
	cr_assert(found, "%s: no line naming %s with \"%s\":\nstdout: %s\nstderr: %s", r->id,
	          r->shown, r->message, out->p, err->p);
}

static int at_least_1(int rc)
{
	return rc > 1 ? rc : 1;
}

/* The entry as a path in the tree when it is one (not inside an archive, not a
 * display shortened with "...", not escaped). */
static const char *plain_entry(const struct row *r, const char *tree)
{
	if (strstr(r->entry, "...") || strchr(r->entry, '\\'))
		return NULL;
	char *e = cli_own(strdup(r->entry));
	char *bang = strchr(e, '!');
	if (bang)
		*bang = 0;
	struct stat st;
	return lstat(cli_fmt("%s/%s", tree, e), &st) == 0 ? e : NULL;
}

ParameterizedTest(struct row *r, badinput, every_row_fails_closed_without_a_crash_a_hang_or_a_change,
                  .init = cli_setup, .fini = cli_teardown, .timeout = 300)
{
	char *dir = cli_fmt("%s/%s", cli_root, r->id);
	char *tree = cli_fmt("%s/tree", dir), *ctl = cli_fmt("%s/ctl", dir);
	char *outd = cli_fmt("%s/out", dir), *key = cli_fmt("%s/key", cli_root);
	char *clean = cli_fmt("%s/control-clean.txt", ctl), *dirty = cli_fmt("%s/control-dirty.txt", ctl);
	cli_mkdirs(tree);
	cli_write_str(clean, clean_text);
	cli_write_str(dirty, dirty_text);
	cli_write_str(key, "6a1f0c3e9b7d25486a1f0c3e9b7d25486a1f0c3e9b7d25486a1f0c3e9b7d2548\n");
	cr_assert_eq(chmod(key, 0600), 0);

	struct cbuf out, err;
	char *mk[] = {"python3", MAKER, r->id, tree, NULL};
	int mrc = run(mk, NULL, &out, &err);
	if (mrc == 3)
		cr_skip_test("%s: %s", r->id, out.p);
	cr_assert_eq(mrc, 0, "%s: the maker failed: %s", r->id, err.p);

	struct runner x = {.r = r, .tree = tree,
	                   .ro = {.timeout_s = BUDGET_S, .as_bytes = BUDGET_AS}};
	const char *jobs = "2";
	const char *skip = NULL;
	if (!strncmp(r->during, "unlink:", 7)) {
		x.victim = cli_fmt("%s/%s", tree, r->during + 7);
		x.victim_bytes = cli_read(x.victim, &x.victim_len);
		cr_assert_not_null(x.victim_bytes);
		x.ro.during = vanish_during;
		jobs = "1"; /* one worker, busy with the slow file, the victim queued behind it */
	} else if (!strncmp(r->during, "append:", 7)) {
		x.ro.during = append_during;
		x.ro.during_arg = cli_fmt("%s/%s", tree, r->during + 7);
		skip = r->during + 7; /* the test changes it: not part of the unchanged state */
	}
	if (!strcmp(r->needs, "nobody") && geteuid() == 0) {
		/* root ignores permissions: phiscan runs as nobody, who must reach the data,
		 * the tree and the controls and may create OUT */
		x.ro.as_nobody = true;
		cr_assert_eq(chmod(cli_root, 0755), 0);
		cr_assert_eq(chmod(dir, 0777), 0);
		cr_assert_eq(chown(key, 65534, 65534), 0);
		/* ... and the binary: the checkout may sit below a directory nobody cannot
		 * enter (a mktemp -d clone in CI is 0700: exec failed with 127), so nobody
		 * runs a copy in the test's own root */
		char *copy = cli_fmt("%s/phiscan-as-nobody", cli_root);
		cli_copy(cli_bin, copy);
		cr_assert_eq(chmod(copy, 0755), 0);
		snprintf(cli_bin, sizeof cli_bin, "%s", copy);
	}
	char *before = snapshot(dir, skip);

	/* 1. the row alone, JSON */
	int rc = phiscan(&x, NULL, &out, &err, "scan", "--format", "json", "-j", jobs, tree, NULL);
	cr_assert_eq(rc, r->exit, "%s: scan exit %d, expected %d\n%s\n%s", r->id, rc, r->exit, out.p,
	             err.p);
	assert_status(r, &out, "scan");
	cr_assert(has(&out, cli_fmt("\"exit_code\":%d", r->exit)), "%s: summary:\n%s", r->id, out.p);

	/* 2. the row alone, the human report */
	rc = phiscan(&x, NULL, &out, &err, "scan", "-j", jobs, tree, NULL);
	cr_assert_eq(rc, r->exit, "%s: human scan exit %d", r->id, rc);
	if (strcmp(r->status, "clean"))
		assert_human(r, &out, &err);

	/* 3. in a batch between a clean and a dirty file: the rest is still processed */
	rc = phiscan(&x, NULL, &out, &err, "scan", "--format", "json", "-j", jobs, clean, tree, dirty,
	             NULL);
	cr_assert_eq(rc, at_least_1(r->exit), "%s: batch scan exit %d\n%s", r->id, rc, out.p);
	assert_status(r, &out, "batch scan");
	cr_assert_not_null(entry_line(&out, "finding", "control-dirty.txt"), "%s: dirty control:\n%s",
	                   r->id, out.p);
	cr_assert(!any_line_for(&out, "control-clean.txt"), "%s: clean control:\n%s", r->id, out.p);

	/* 4. strip -o of the batch */
	rc = phiscan(&x, NULL, &out, &err, "strip", "--format", "json", "--key", key, "-j", jobs,
	             clean, tree, dirty, "-o", outd, NULL);
	cr_assert_eq(rc, at_least_1(r->strip), "%s: strip exit %d, expected %d\n%s\n%s", r->id, rc,
	             at_least_1(r->strip), out.p, err.p);
	cr_assert_str_eq(cli_read(cli_fmt("%s/control-dirty.txt", outd), NULL), "SSN [SSN]\n",
	                 "%s: the dirty control was not stripped", r->id);
	cr_assert_str_eq(cli_read(cli_fmt("%s/control-clean.txt", outd), NULL), clean_text);
	int od = open(outd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(od, 0);
	cr_assert(!has_temporary(od), "%s: a temporary file was left in OUT", r->id);
	close(od);
	const char *pe = plain_entry(r, tree);
	if (!strcmp(r->status, "unscanned")) {
		assert_status(r, &out, "strip");
		if (pe)
			cr_assert(access(cli_fmt("%s/%s", outd, pe), F_OK) != 0,
			          "%s: strip left a copy of %s, which could not be de-identified", r->id, pe);
	}
	if (r->strip == 2 && pe)
		cr_assert(access(cli_fmt("%s/%s", outd, pe), F_OK) != 0,
		          "%s: strip failed yet left %s", r->id, pe);
	if (r->strip == 1 && pe && !strchr(r->entry, '!')) {
		/* the de-identified copy re-scans clean */
		struct cbuf o2, e2;
		char *copy = cli_fmt("%s/%s", outd, pe);
		cr_assert_eq(access(copy, F_OK), 0, "%s: no stripped copy of %s", r->id, pe);
		rc = phiscan(&x, NULL, &o2, &e2, "scan", "--format", "json", copy, NULL);
		cr_assert_eq(rc, 0, "%s: the stripped copy re-scans with exit %d:\n%s", r->id, rc, o2.p);
	}

	/* 5. filter of the row's file */
	if (r->filter >= 0) {
		size_t n;
		cr_assert_not_null(pe, "%s: filter of an entry that is no file in the tree", r->id);
		char *p = cli_read(cli_fmt("%s/%s", tree, pe), &n);
		cr_assert_not_null(p, "%s: cannot read %s", r->id, pe);
		struct cbuf in = {p, n};
		rc = phiscan(&x, &in, &out, &err, "filter", "--key", key, NULL);
		cr_assert_eq(rc, r->filter, "%s: filter exit %d, expected %d\n%s", r->id, rc, r->filter,
		             err.p);
		if (rc == 2)
			cr_assert_eq(out.n, 0, "%s: filter failed yet wrote %zu bytes", r->id, out.n);
	}

	/* 6. nothing in the tree or the controls changed */
	cli_rm_rf(outd);
	char *after = snapshot(dir, skip);
	cr_assert_str_eq(after, before, "%s: the input tree changed", r->id);

	/* deep rows are beyond nftw (cli_teardown): rm -rf, after giving back permissions */
	char *chm[] = {"chmod", "-R", "u+rwx", dir, NULL};
	run(chm, NULL, NULL, NULL);
	char *rm[] = {"rm", "-rf", dir, NULL};
	cr_assert_eq(run(rm, NULL, NULL, NULL), 0);
}

/* ---- safe writes (issue 7: "strip -o OUT refuses an OUT inside the input tree and
 * never overwrites an existing file unless --force; symlinks are not followed out of
 * the scanned tree") ---- */

TestSuite(safe_writes, .init = cli_setup, .fini = cli_teardown, .timeout = 120);

/* Regression (scanner/plan.c): with --force the second of two file roots with one
 * base name used to replace the first one's copy (rename over it), exit 1, nothing
 * said.  The first in walk order is written; the second is an error, every time. */
Test(safe_writes, two_roots_with_one_base_name_never_overwrite_each_other_even_with_force)
{
	char *a = cli_fmt("%s/one/a.txt", cli_case), *b = cli_fmt("%s/two/a.txt", cli_case);
	cli_write_str(a, "SSN 482-31-7765 one\n");
	cli_write_str(b, "SSN 482-31-7765 two\n");
	for (int round = 0; round < 10; round++) {
		char *outd = cli_fmt("%s/out%d", cli_root, round);
		struct cbuf out, err;
		int rc = cli(&out, &err, NULL, "strip", "--force", "-j", "2", "--format", "json", a, b,
		             "-o", outd, NULL);
		cr_assert_eq(rc, 2, "round %d: rc %d\n%s", round, rc, out.p);
		cr_assert_str_eq(cli_read(cli_fmt("%s/a.txt", outd), NULL), "SSN [SSN] one\n",
		                 "round %d: the first root's copy was replaced", round);
		const char *u = line_for(&out, "unreadable", "/two/a.txt");
		cr_assert_not_null(u, "%s", out.p);
		cr_assert(strstr(json_str(u, "reason"), "same output path"), "%s", u);
		/* and again over the first run's output: --force replaces it, still only once */
		rc = cli(&out, &err, NULL, "strip", "--force", "-j", "2", a, b, "-o", outd, NULL);
		cr_assert_eq(rc, 2);
		cr_assert_str_eq(cli_read(cli_fmt("%s/a.txt", outd), NULL), "SSN [SSN] one\n");
	}
}

static char *tree_state(const char *dir)
{
	return snapshot(dir, NULL);
}

Test(safe_writes, an_output_inside_the_input_is_refused_however_it_is_spelled)
{
	cli_write_str(cli_fmt("%s/sub/a.txt", cli_case), "SSN 482-31-7765\n");
	char *link = cli_fmt("%s/case-link", cli_root);
	cr_assert_eq(symlink(cli_case, link), 0);
	char *out_link = cli_fmt("%s/out-link", cli_root);
	cr_assert_eq(symlink(cli_fmt("%s/sub", cli_case), out_link), 0);
	char *before = tree_state(cli_case);
	struct {
		const char *root, *out;
	} spellings[] = {
		{cli_case, cli_fmt("%s/../case/sub/clean", cli_case)},  /* .. */
		{cli_case, cli_fmt("%s/clean", link)},                  /* through a symlink */
		{link, cli_fmt("%s/clean", cli_case)},                  /* the input through one */
		{cli_case, out_link},                                   /* OUT itself a symlink in */
		{cli_fmt("%s/sub/a.txt", cli_case), cli_fmt("%s/sub", cli_case)}, /* a file root's dir */
		{cli_fmt("%s/.", cli_case), cli_fmt("%s/./sub/../y", cli_case)},
	};
	for (size_t k = 0; k < 2 * sizeof spellings / sizeof *spellings; k++) {
		size_t i = k / 2;
		struct cbuf out, err;
		/* with --force too: a file root's own directory as OUT used to let --force
		 * replace the original with its copy */
		int rc = k % 2 ? cli(&out, &err, NULL, "strip", "--force", spellings[i].root, "-o",
		                     spellings[i].out, NULL)
		               : cli(&out, &err, NULL, "strip", spellings[i].root, "-o",
		                     spellings[i].out, NULL);
		cr_assert_eq(rc, 2, "%s -o %s: rc %d", spellings[i].root, spellings[i].out, rc);
		cr_assert(has(&err, "inside"), "%s -o %s: %s", spellings[i].root, spellings[i].out,
		          err.p);
		cr_assert_str_eq(tree_state(cli_case), before, "%s -o %s wrote into the input",
		                 spellings[i].root, spellings[i].out);
	}
}

Test(safe_writes, an_existing_output_is_kept_without_force_and_replaced_atomically_with_it)
{
	cli_write_str(cli_fmt("%s/a.txt", cli_case), "SSN 482-31-7765\n");
	cli_write_str(cli_fmt("%s/b.txt", cli_case), "DOB: 03/14/1961\n");
	char *outd = cli_fmt("%s/out", cli_root);
	char *oa = cli_fmt("%s/a.txt", outd), *ob = cli_fmt("%s/b.txt", outd);
	char *target = cli_fmt("%s/elsewhere/keep.txt", cli_root);
	cli_write_str(oa, "SENTINEL\n");
	cli_write_str(target, "NOT YOURS\n");
	cr_assert_eq(symlink(target, ob), 0); /* an output name that is a symlink out */
	struct stat st0;
	cr_assert_eq(stat(oa, &st0), 0);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--format", "json", cli_case, "-o", outd, NULL);
	cr_assert_eq(rc, 2, "rc %d\n%s", rc, out.p);
	cr_assert_str_eq(cli_read(oa, NULL), "SENTINEL\n");
	cr_assert_str_eq(cli_read(target, NULL), "NOT YOURS\n", "written through a symlink");
	cr_assert_not_null(line_for(&out, "unreadable", "/a.txt"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "unreadable", "/b.txt"), "%s", out.p);
	int od = open(outd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(!has_temporary(od), "a temporary was left");
	close(od);

	rc = cli(&out, &err, NULL, "strip", "--force", cli_case, "-o", outd, NULL);
	cr_assert_eq(rc, 1, "rc %d\n%s", rc, err.p);
	cr_assert_str_eq(cli_read(oa, NULL), "SSN [SSN]\n");
	/* replaced by a rename (a new inode), not rewritten in place */
	struct stat st1, lb;
	cr_assert_eq(stat(oa, &st1), 0);
	cr_assert_neq(st1.st_ino, st0.st_ino, "--force rewrote the old file in place");
	/* the symlink itself was replaced; its target is untouched */
	cr_assert_eq(lstat(ob, &lb), 0);
	cr_assert(S_ISREG(lb.st_mode), "the output symlink is still there");
	cr_assert_str_eq(cli_read(ob, NULL), "DOB: [DATE]\n");
	cr_assert_str_eq(cli_read(target, NULL), "NOT YOURS\n", "--force wrote through a symlink");
	od = open(outd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(!has_temporary(od), "a temporary was left");
	close(od);
}

Test(safe_writes, strip_does_not_follow_symlinks_out_of_the_scanned_tree)
{
	char *secret = cli_fmt("%s/outside/secret.txt", cli_root);
	cli_write_str(secret, "SSN 482-31-7765\n");
	cli_write_str(cli_fmt("%s/outside/dir/more.txt", cli_root), "SSN 482-31-7765\n");
	cli_write_str(cli_fmt("%s/ok.txt", cli_case), "SSN 482-31-7765\n");
	cr_assert_eq(symlink(secret, cli_fmt("%s/escape.txt", cli_case)), 0);
	cr_assert_eq(symlink("../outside/dir", cli_fmt("%s/escape-dir", cli_case)), 0);
	char *outd = cli_fmt("%s/out", cli_root);
	char *before = tree_state(cli_fmt("%s/outside", cli_root));
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--format", "json", cli_case, "-o", outd, NULL);
	cr_assert_eq(rc, 1, "rc %d\n%s", rc, out.p);
	const char *s1 = line_for(&out, "skipped", "/escape.txt");
	const char *s2 = line_for(&out, "skipped", "/escape-dir");
	cr_assert(s1 && strstr(json_str(s1, "reason"), "leaves the scanned tree"), "%s", out.p);
	cr_assert(s2 && strstr(json_str(s2, "reason"), "leaves the scanned tree"), "%s", out.p);
	cr_assert_str_eq(cli_read(cli_fmt("%s/ok.txt", outd), NULL), "SSN [SSN]\n");
	struct stat st;
	cr_assert(lstat(cli_fmt("%s/escape.txt", outd), &st) != 0, "the outside file was copied");
	cr_assert(lstat(cli_fmt("%s/escape-dir", outd), &st) != 0, "the outside dir was copied");
	cr_assert_eq(count_type(&out, "finding"), 1, "%s", out.p);
	cr_assert_str_eq(tree_state(cli_fmt("%s/outside", cli_root)), before);
}
