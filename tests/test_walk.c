/* test_walk.c - the walker on real temporary trees: order, kinds and reasons of
 * every entry, symlinks in and out of the root, loops, special files, exclusion,
 * skip_dir, depth and path-length limits, roots that are files or missing. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../scanner/walk.h"

struct rec {
	enum phi_walk_kind kind;
	char *path, *rel, *reason;
	uint64_t size;
};

struct recs {
	struct rec v[512];
	size_t n;
	int stop_at;        /* return stop_rc when n reaches this (0: never) */
	int stop_rc;
	const char *unlink_on; /* on this rel, unlink unlink_path (vanish test) */
	const char *unlink_path;
};

static int collect(void *arg, const struct phi_walk_entry *e)
{
	struct recs *r = arg;
	cr_assert(r->n < sizeof r->v / sizeof r->v[0]);
	struct rec *x = &r->v[r->n++];
	x->kind = e->kind;
	x->path = strdup(e->path);
	x->rel = strdup(e->rel);
	x->reason = e->reason ? strdup(e->reason) : NULL;
	x->size = e->size;
	cr_assert(x->path && x->rel);
	if (e->kind == PHI_WALK_FILE)
		cr_assert_null(e->reason);
	else
		cr_assert_not_null(e->reason);
	if (r->unlink_on && strcmp(e->rel, r->unlink_on) == 0)
		cr_assert_eq(unlink(r->unlink_path), 0);
	if (r->stop_at && (int)r->n == r->stop_at)
		return r->stop_rc;
	return 0;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].rel);
		free(r->v[i].reason);
	}
	r->n = 0;
}

struct want {
	enum phi_walk_kind kind;
	const char *rel;
	const char *reason; /* exact, or NULL for FILE */
};

static const char *kind_name(enum phi_walk_kind k)
{
	return k == PHI_WALK_FILE ? "FILE" : k == PHI_WALK_SKIP ? "SKIP" : "ERROR";
}

static void expect(const struct recs *r, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n && i < r->n; i++) {
		cr_expect_eq(r->v[i].kind, w[i].kind, "entry %zu (%s): kind %s, want %s", i,
		             w[i].rel, kind_name(r->v[i].kind), kind_name(w[i].kind));
		cr_expect_str_eq(r->v[i].rel, w[i].rel, "entry %zu", i);
		if (w[i].reason)
			cr_expect_str_eq(r->v[i].reason ? r->v[i].reason : "(null)", w[i].reason,
			                 "entry %zu (%s)", i, w[i].rel);
	}
	cr_assert_eq(r->n, n, "got %zu entries, want %zu", r->n, n);
}

/* ---- tree helpers --------------------------------------------------------------- */

static char *make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof tmpl, "%s/phiwalk.XXXXXX", t && *t ? t : "/tmp");
	char *d = mkdtemp(tmpl);
	cr_assert_not_null(d, "mkdtemp: %s", strerror(errno));
	/* Readable by others: one test walks it as an unprivileged user. */
	cr_assert_eq(chmod(d, 0755), 0);
	char *real = realpath(d, NULL);
	cr_assert_not_null(real);
	return real;
}

static void put(const char *dir, const char *rel, const char *content)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "create %s: %s", rel, strerror(errno));
	fputs(content, f);
	cr_assert_eq(fclose(f), 0);
}

static void mkdir_in(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", rel, strerror(errno));
}

static void link_in(const char *dir, const char *rel, const char *target)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", rel, strerror(errno));
}

/* Remove a tree by descriptors (works for paths longer than PATH_MAX too). */
static void rm_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		fchmodat(dfd, name, 0700, 0);
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			DIR *d = fdopendir(fd);
			if (d) {
				char *names[1024];
				size_t n = 0;
				struct dirent *de;
				while ((de = readdir(d)) && n < 1024)
					if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
						names[n++] = strdup(de->d_name);
				for (size_t i = 0; i < n; i++) {
					rm_at(dirfd(d), names[i]);
					free(names[i]);
				}
				closedir(d);
			} else {
				close(fd);
			}
		}
		unlinkat(dfd, name, AT_REMOVEDIR);
	} else {
		unlinkat(dfd, name, 0);
	}
}

static void rm_tree(char *dir)
{
	rm_at(AT_FDCWD, dir);
	free(dir);
}

static void run(struct recs *r, const char *const *roots, size_t n,
                const struct phi_walk_opts *o, int want_rc)
{
	int rc = phi_walk(roots, n, o, collect, r);
	cr_assert_eq(rc, want_rc, "phi_walk returned %d", rc);
}

/* The main tree:
 *   a.txt  b/{c.txt, d/e.txt, loop -> ..}  broken -> nowhere  caf\xe9.txt  fifo
 *   link_in -> a.txt  link_out -> OUTSIDE/secret.txt  linkdir -> b  locked/f.txt
 *   sock  zz1 -> zz2  zz2 -> zz1 */
static void build_main(const char *root, const char *outside)
{
	char p[PATH_MAX];
	put(root, "a.txt", "hello");
	mkdir_in(root, "b");
	put(root, "b/c.txt", "abc");
	mkdir_in(root, "b/d");
	put(root, "b/d/e.txt", "");
	link_in(root, "b/loop", "..");
	link_in(root, "broken", "nowhere");
	put(root, "caf\xe9.txt", "x");
	snprintf(p, sizeof p, "%s/fifo", root);
	cr_assert_eq(mkfifo(p, 0644), 0);
	link_in(root, "link_in", "a.txt");
	put(outside, "secret.txt", "outside");
	snprintf(p, sizeof p, "%s/secret.txt", outside);
	link_in(root, "link_out", p);
	link_in(root, "linkdir", "b");
	mkdir_in(root, "locked");
	put(root, "locked/f.txt", "f");
	snprintf(p, sizeof p, "%s/locked", root);
	cr_assert_eq(chmod(p, 0), 0);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sock", root);
	cr_assert(n > 0 && (size_t)n < sizeof sa.sun_path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(s >= 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0, "%s", strerror(errno));
	close(s);

	link_in(root, "zz1", "zz2");
	link_in(root, "zz2", "zz1");
}

/* Expected walk of the main tree; `locked` depends on whether reads are blocked. */
static size_t main_want(struct want *w, bool locked_blocks, bool follow)
{
	size_t n = 0;
	w[n++] = (struct want){ PHI_WALK_FILE, "a.txt", NULL };
	w[n++] = (struct want){ PHI_WALK_FILE, "b/c.txt", NULL };
	w[n++] = (struct want){ PHI_WALK_FILE, "b/d/e.txt", NULL };
	w[n++] = (struct want){ PHI_WALK_SKIP, "b/loop", "directory loop (already visited)" };
	w[n++] = (struct want){ PHI_WALK_SKIP, "broken", "broken symlink" };
	w[n++] = (struct want){ PHI_WALK_FILE, "caf\xe9.txt", NULL };
	w[n++] = (struct want){ PHI_WALK_SKIP, "fifo", "not a regular file (fifo)" };
	w[n++] = (struct want){ PHI_WALK_FILE, "link_in", NULL };
	if (follow)
		w[n++] = (struct want){ PHI_WALK_FILE, "link_out", NULL };
	else
		w[n++] = (struct want){ PHI_WALK_SKIP, "link_out", "symlink leaves the scanned tree" };
	w[n++] = (struct want){ PHI_WALK_SKIP, "linkdir", "directory already visited" };
	if (locked_blocks)
		w[n++] = (struct want){ PHI_WALK_ERROR, "locked",
		                        "cannot open directory: Permission denied" };
	else
		w[n++] = (struct want){ PHI_WALK_FILE, "locked/f.txt", NULL };
	w[n++] = (struct want){ PHI_WALK_SKIP, "sock", "not a regular file (socket)" };
	w[n++] = (struct want){ PHI_WALK_SKIP, "zz1", "broken symlink (symlink loop)" };
	w[n++] = (struct want){ PHI_WALK_SKIP, "zz2", "broken symlink (symlink loop)" };
	return n;
}

static const struct rec *find_rel(const struct recs *r, const char *rel)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].rel, rel) == 0)
			return &r->v[i];
	return NULL;
}

/* ---- tests ---------------------------------------------------------------------- */

Test(walk, yields_every_entry_in_byte_order_with_its_reason)
{
	char *root = make_tmpdir(), *outside = make_tmpdir();
	build_main(root, outside);
	static struct recs r;
	const char *roots[] = { root };
	run(&r, roots, 1, NULL, 0);

	struct want w[32];
	size_t n = main_want(w, geteuid() != 0, false);
	expect(&r, w, n);

	/* Sizes: of the file itself, and of a followed link's target. */
	cr_expect_eq(find_rel(&r, "a.txt")->size, 5);
	cr_expect_eq(find_rel(&r, "b/c.txt")->size, 3);
	cr_expect_eq(find_rel(&r, "link_in")->size, 5);
	/* Display path = root + '/' + rel. */
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/b/d/e.txt", root);
	cr_expect_str_eq(find_rel(&r, "b/d/e.txt")->path, p);

	recs_free(&r);
	rm_tree(root);
	rm_tree(outside);
}

Test(walk, follows_symlinks_out_of_the_tree_when_asked)
{
	char *root = make_tmpdir(), *outside = make_tmpdir();
	build_main(root, outside);
	static struct recs r;
	const char *roots[] = { root };
	struct phi_walk_opts o = { .follow_symlinks = true };
	run(&r, roots, 1, &o, 0);

	struct want w[32];
	size_t n = main_want(w, geteuid() != 0, true);
	expect(&r, w, n);
	cr_expect_eq(find_rel(&r, "link_out")->size, strlen("outside"));

	recs_free(&r);
	rm_tree(root);
	rm_tree(outside);
}

/* As root, permissions do not block reads: walk as "nobody" in a child process. */
Test(walk, unreadable_directory_is_an_error_for_an_unprivileged_user)
{
	char *root = make_tmpdir();
	put(root, "a.txt", "a");
	mkdir_in(root, "locked");
	put(root, "locked/f.txt", "f");
	put(root, "z.txt", "z");
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/locked", root);
	cr_assert_eq(chmod(p, 0), 0);

	static struct recs r;
	const struct want w[] = {
		{ PHI_WALK_FILE, "a.txt", NULL },
		{ PHI_WALK_ERROR, "locked", "cannot open directory: Permission denied" },
		{ PHI_WALK_FILE, "z.txt", NULL },
	};
	const char *roots[] = { root };

	if (geteuid() != 0) {
		run(&r, roots, 1, NULL, 0);
		expect(&r, w, 3);
	} else {
		int fds[2];
		cr_assert_eq(pipe(fds), 0);
		pid_t pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
			    setresuid(65534, 65534, 65534) != 0)
				_exit(3);
			struct recs *cr = calloc(1, sizeof *cr);
			if (!cr || phi_walk(roots, 1, NULL, collect, cr) != 0)
				_exit(4);
			for (size_t i = 0; i < cr->n; i++)
				dprintf(fds[1], "%d|%s|%s\n", (int)cr->v[i].kind, cr->v[i].rel,
				        cr->v[i].reason ? cr->v[i].reason : "");
			_exit(0);
		}
		close(fds[1]);
		char out[4096];
		size_t len = 0;
		ssize_t k;
		while ((k = read(fds[0], out + len, sizeof out - 1 - len)) > 0)
			len += (size_t)k;
		out[len] = '\0';
		close(fds[0]);
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status));
		if (WEXITSTATUS(status) == 3) {
			rm_tree(root);
			cr_skip_test("cannot drop privileges here");
		}
		cr_assert_eq(WEXITSTATUS(status), 0);
		char want_out[512];
		snprintf(want_out, sizeof want_out, "%d|a.txt|\n%d|locked|%s\n%d|z.txt|\n",
		         (int)PHI_WALK_FILE, (int)PHI_WALK_ERROR,
		         "cannot open directory: Permission denied", (int)PHI_WALK_FILE);
		cr_expect_str_eq(out, want_out);

		/* And as root the same directory is read. */
		run(&r, roots, 1, NULL, 0);
		const struct want wr[] = {
			{ PHI_WALK_FILE, "a.txt", NULL },
			{ PHI_WALK_FILE, "locked/f.txt", NULL },
			{ PHI_WALK_FILE, "z.txt", NULL },
		};
		expect(&r, wr, 3);
	}
	recs_free(&r);
	rm_tree(root);
}

Test(walk, real_directory_is_walked_even_after_a_symlink_reached_it)
{
	/* a_link sorts before its target z: the link is followed first, and the real
	 * directory is still walked (a strip must mirror the tree as it is on disk). */
	char *root = make_tmpdir();
	mkdir_in(root, "z");
	put(root, "z/f.txt", "f");
	link_in(root, "a_link", "z");
	link_in(root, "zz_link", "z");
	static struct recs r;
	const char *roots[] = { root };
	run(&r, roots, 1, NULL, 0);
	const struct want w[] = {
		{ PHI_WALK_FILE, "a_link/f.txt", NULL },
		{ PHI_WALK_FILE, "z/f.txt", NULL },
		{ PHI_WALK_SKIP, "zz_link", "directory already visited" },
	};
	expect(&r, w, 3);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, exclude_globs_match_base_name_or_relative_path)
{
	char *root = make_tmpdir();
	put(root, "keep.txt", "");
	put(root, "drop.log", "");
	mkdir_in(root, "b");
	put(root, "b/c.txt", "");
	put(root, "b/x.log", "");
	mkdir_in(root, "b/d");
	put(root, "b/d/e.txt", "");
	mkdir_in(root, "q");
	mkdir_in(root, "q/r");
	put(root, "q/r/c.txt", "");
	put(root, "q/r/k.txt", "");
	static struct recs r;
	const char *roots[] = { root };
	/* "*.log": base name anywhere; "b/d": a directory by rel, not descended;
	 * "*" /c.txt: rel with '*' crossing '/' (FNM_PATHNAME off). */
	const char *const ex[] = { "*.log", "b/d", "*/c.txt", NULL };
	struct phi_walk_opts o = { .exclude = ex };
	run(&r, roots, 1, &o, 0);
	const struct want w[] = {
		{ PHI_WALK_FILE, "keep.txt", NULL },
		{ PHI_WALK_FILE, "q/r/k.txt", NULL },
	};
	expect(&r, w, 2);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, skip_dir_is_never_descended)
{
	char *root = make_tmpdir();
	put(root, "a.txt", "");
	mkdir_in(root, "out");
	put(root, "out/a.txt", "");
	link_in(root, "out_link", "out");
	put(root, "z.txt", "");
	char skip[PATH_MAX];
	snprintf(skip, sizeof skip, "%s/out", root);
	static struct recs r;
	const char *roots[] = { root };
	struct phi_walk_opts o = { .skip_dir = skip };
	run(&r, roots, 1, &o, 0);
	const struct want w[] = {
		{ PHI_WALK_FILE, "a.txt", NULL },
		{ PHI_WALK_FILE, "z.txt", NULL },
	};
	expect(&r, w, 2);
	recs_free(&r);

	/* A skip_dir that does not exist yet changes nothing. */
	snprintf(skip, sizeof skip, "%s/not-yet", root);
	run(&r, roots, 1, &o, 0);
	cr_expect_eq(r.n, 4);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, directories_deeper_than_max_depth_are_errors)
{
	char *root = make_tmpdir();
	mkdir_in(root, "1");
	put(root, "1/f.txt", "");
	mkdir_in(root, "1/2");
	put(root, "1/2/g.txt", "");
	mkdir_in(root, "1/2/3");
	put(root, "1/2/3/h.txt", "");
	put(root, "top.txt", "");
	static struct recs r;
	const char *roots[] = { root };
	struct phi_walk_opts o = { .max_depth = 2 };
	run(&r, roots, 1, &o, 0);
	const struct want w[] = {
		{ PHI_WALK_ERROR, "1/2/3", "directory nesting deeper than 2" },
		{ PHI_WALK_FILE, "1/2/g.txt", NULL },
		{ PHI_WALK_FILE, "1/f.txt", NULL },
		{ PHI_WALK_FILE, "top.txt", NULL },
	};
	expect(&r, w, 4);
	recs_free(&r);

	o.max_depth = 1;
	run(&r, roots, 1, &o, 0);
	const struct want w1[] = {
		{ PHI_WALK_ERROR, "1/2", "directory nesting deeper than 1" },
		{ PHI_WALK_FILE, "1/f.txt", NULL },
		{ PHI_WALK_FILE, "top.txt", NULL },
	};
	expect(&r, w1, 3);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, paths_beyond_the_cap_are_errors_not_descended)
{
	char *root = make_tmpdir();
	char name[251];
	memset(name, 'n', 250);
	name[250] = '\0';
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(fd >= 0);
	size_t levels = (size_t)PATH_MAX * 4 / 251 + 3;
	for (size_t i = 0; i < levels; i++) {
		cr_assert_eq(mkdirat(fd, name, 0755), 0, "%s", strerror(errno));
		int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	int ffd = openat(fd, "deep.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert(ffd >= 0);
	close(ffd);
	close(fd);

	static struct recs r;
	const char *roots[] = { root };
	struct phi_walk_opts o = { .max_depth = 1000 };
	run(&r, roots, 1, &o, 0);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.v[0].kind, PHI_WALK_ERROR);
	cr_expect_str_eq(r.v[0].reason, "path too long");
	size_t pl = strlen(r.v[0].path);
	cr_expect(pl > (size_t)PATH_MAX * 4 && pl <= (size_t)PATH_MAX * 4 + 256, "len %zu", pl);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, roots_that_are_files_missing_fifos_or_symlinks)
{
	char *root = make_tmpdir();
	mkdir_in(root, "tree");
	put(root, "tree/a.txt", "hello");
	put(root, "tree/b.txt", "");
	link_in(root, "tree_link", "tree");
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/fifo", root);
	cr_assert_eq(mkfifo(p, 0644), 0);

	char file_root[PATH_MAX], missing[PATH_MAX], link_root[PATH_MAX], fifo_root[PATH_MAX];
	char slash_root[PATH_MAX];
	snprintf(file_root, sizeof file_root, "%s/tree/a.txt", root);
	snprintf(missing, sizeof missing, "%s/nope", root);
	snprintf(link_root, sizeof link_root, "%s/tree_link", root);
	snprintf(fifo_root, sizeof fifo_root, "%s/fifo", root);
	snprintf(slash_root, sizeof slash_root, "%s/tree/", root);
	const char *roots[] = { file_root, missing, link_root, fifo_root, slash_root };
	static struct recs r;
	run(&r, roots, 5, NULL, 0);
	const struct want w[] = {
		{ PHI_WALK_FILE, "a.txt", NULL },
		{ PHI_WALK_ERROR, "nope", "No such file or directory" },
		{ PHI_WALK_FILE, "a.txt", NULL },
		{ PHI_WALK_FILE, "b.txt", NULL },
		{ PHI_WALK_SKIP, "fifo", "not a regular file (fifo)" },
		{ PHI_WALK_FILE, "a.txt", NULL },
		{ PHI_WALK_FILE, "b.txt", NULL },
	};
	expect(&r, w, 7);
	cr_expect_str_eq(r.v[0].path, file_root);
	cr_expect_eq(r.v[0].size, 5);
	cr_expect_str_eq(r.v[1].path, missing);
	char q[PATH_MAX + 16];
	snprintf(q, sizeof q, "%s/a.txt", link_root);
	cr_expect_str_eq(r.v[2].path, q);
	/* No double slash after a root typed with a trailing '/'. */
	snprintf(q, sizeof q, "%sa.txt", slash_root);
	cr_expect_str_eq(r.v[5].path, q);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, relative_root_keeps_its_spelling)
{
	char *root = make_tmpdir();
	mkdir_in(root, "a");
	put(root, "a/b", "");
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(cwd >= 0);
	cr_assert_eq(chdir(root), 0);
	static struct recs r;
	const char *roots[] = { ".", "a" };
	int rc = phi_walk(roots, 2, NULL, collect, &r);
	cr_assert_eq(fchdir(cwd), 0);
	close(cwd);
	cr_assert_eq(rc, 0);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.v[0].path, "./a/b");
	cr_expect_str_eq(r.v[0].rel, "a/b");
	cr_expect_str_eq(r.v[1].path, "a/b");
	cr_expect_str_eq(r.v[1].rel, "b");
	recs_free(&r);
	rm_tree(root);
}

Test(walk, entry_removed_before_its_stat_is_an_error)
{
	char *root = make_tmpdir();
	put(root, "a.txt", "");
	put(root, "b.txt", "");
	put(root, "c.txt", "");
	char victim[PATH_MAX];
	snprintf(victim, sizeof victim, "%s/b.txt", root);
	static struct recs r;
	r.unlink_on = "a.txt";
	r.unlink_path = victim;
	const char *roots[] = { root };
	run(&r, roots, 1, NULL, 0);
	const struct want w[] = {
		{ PHI_WALK_FILE, "a.txt", NULL },
		{ PHI_WALK_ERROR, "b.txt", "vanished during the walk" },
		{ PHI_WALK_FILE, "c.txt", NULL },
	};
	expect(&r, w, 3);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, callback_value_stops_the_walk)
{
	char *root = make_tmpdir();
	put(root, "a.txt", "");
	put(root, "b.txt", "");
	put(root, "c.txt", "");
	static struct recs r;
	r.stop_at = 2;
	r.stop_rc = 42;
	const char *roots[] = { root, root };
	run(&r, roots, 2, NULL, 42);
	cr_expect_eq(r.n, 2);
	recs_free(&r);
	rm_tree(root);
}

Test(walk, sibling_sharing_the_root_name_prefix_is_outside)
{
	/* ROOT_sib starts with the bytes of ROOT but is not under it: the prefix must
	 * end at a '/' boundary. */
	char *root = make_tmpdir();
	char sib[PATH_MAX], p[PATH_MAX + 16];
	snprintf(sib, sizeof sib, "%s_sib", root);
	cr_assert_eq(mkdir(sib, 0755), 0);
	put(sib, "x.txt", "x");
	snprintf(p, sizeof p, "%s/x.txt", sib);
	link_in(root, "to_sib", p);
	link_in(root, "to_self", ".");
	/* A special file is skipped for what it is, wherever it lives. */
	snprintf(p, sizeof p, "%s/p", sib);
	cr_assert_eq(mkfifo(p, 0644), 0);
	link_in(root, "to_fifo", p);
	static struct recs r;
	const char *roots[] = { root };
	run(&r, roots, 1, NULL, 0);
	const struct want w[] = {
		{ PHI_WALK_SKIP, "to_fifo", "not a regular file (fifo)" },
		{ PHI_WALK_SKIP, "to_self", "directory loop (already visited)" },
		{ PHI_WALK_SKIP, "to_sib", "symlink leaves the scanned tree" },
	};
	expect(&r, w, 3);
	recs_free(&r);
	rm_tree(root);
	rm_at(AT_FDCWD, sib);
}
