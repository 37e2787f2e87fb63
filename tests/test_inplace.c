/* test_inplace.c - the kill test (issue 7): `phiscan strip --in-place` killed with
 * SIGKILL at many points leaves every file either its untouched original or its
 * complete stripped version, never a mix or a truncated file, and a re-run
 * finishes the job.
 *
 * The tree is one generated case (gencase: text, DICOM, HPS, JPEG, PNG, TIFF, STL,
 * PLY, OBJ, exocad/3Shape XML, JSON, HTML, RTF, a zip).  A reference strip of a
 * copy gives each file's stripped SHA-256.  Then, each time on a fresh copy, the
 * real binary runs under tests/killshim.c (LD_PRELOAD), which raises SIGKILL at the
 * Nth call that changes a file in the tree (write, fsync, rename ...):
 *   - a deterministic sweep over all counted calls (-j 1),
 *   - a deterministic sweep over the commit calls only (fsync, rename, link,
 *     unlink: KILLSHIM_META), so every step of a file's commit is hit,
 *   - seeded random points over all calls at -j 2,
 *   - and, as a second method that needs no shim, SIGKILL after a random delay.
 * After each kill: every original path exists with its original or its reference
 * stripped hash; nothing else is there but temporary files named ".phiscan-" and
 * six characters; a re-run (no shim) exits normally, removes those temporaries and
 * leaves exactly the reference tree.
 *
 * Default: 26 kills (about 20 s on the 2-core VM).  PHISCAN_KILL_ITERATIONS=N runs
 * N of each kind (and the full commit sweep when N is at least its length);
 * PHISCAN_KILL_SEED picks the random points.  The Makefile passes KILLSHIM.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 512

struct entry {
	char *rel;
	char hash[65];
};

struct listing {
	struct entry v[MAX_FILES];
	size_t n;
};

static const char *bin, *gencase, *shim;
static char root[PATH_MAX], keyfile[PATH_MAX + 8], tree[PATH_MAX + 8], work[PATH_MAX + 8];
static struct listing orig, ref;

/* ---- files ---- */

static void hash_file(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char buf[65536], out[32];
	ssize_t k;
	while ((k = read(fd, buf, sizeof buf)) > 0)
		crypto_hash_sha256_update(&st, buf, (unsigned long long)k);
	cr_assert_geq(k, 0, "read %s", path);
	close(fd);
	crypto_hash_sha256_final(&st, out);
	sodium_bin2hex(hex, 65, out, sizeof out);
}

static struct listing *walk_into;
static size_t walk_prefix;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	cr_assert_lt(walk_into->n, MAX_FILES);
	struct entry *e = &walk_into->v[walk_into->n++];
	e->rel = strdup(path + walk_prefix);
	cr_assert_not_null(e->rel);
	hash_file(path, e->hash);
	return 0;
}

static int by_rel(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	l->n = 0;
}

/* Every regular file under dir: path relative to dir, SHA-256; sorted. */
static void list_tree(const char *dir, struct listing *l)
{
	listing_free(l);
	walk_into = l;
	walk_prefix = strlen(dir) + 1;
	cr_assert_eq(nftw(dir, walk_one, 32, FTW_PHYS), 0, "walk %s", dir);
	qsort(l->v, l->n, sizeof l->v[0], by_rel);
}

static const struct entry *find(const struct listing *l, const char *rel)
{
	struct entry key = {.rel = (char *)rel};
	return bsearch(&key, l->v, l->n, sizeof l->v[0], by_rel);
}

/* scan.c's temporary name: ".phiscan-" and six letters or digits. */
static bool is_temp(const char *rel)
{
	const char *b = strrchr(rel, '/');
	b = b ? b + 1 : rel;
	if (strncmp(b, ".phiscan-", 9) || strlen(b) != 15)
		return false;
	for (size_t i = 9; i < 15; i++)
		if (!((b[i] >= '0' && b[i] <= '9') || ((b[i] | 0x20) >= 'a' && (b[i] | 0x20) <= 'z')))
			return false;
	return true;
}

/* ---- processes ---- */

/* Run argv (output to /dev/null) with extra NAME=VALUE settings; with delay_us > 0
 * SIGKILL it after that long.  The wait status. */
static int spawn(char *const argv[], char *const env[], long delay_us)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork");
	if (pid == 0) {
		for (size_t i = 0; env && env[i]; i++)
			putenv(env[i]);
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (delay_us > 0) {
		struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR, "waitpid");
	return status;
}

static void sh(const char *cmd)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	int st = spawn(argv, NULL, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed", cmd);
}

static void fresh_copy(void)
{
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", work, tree, work);
	sh(cmd);
}

/* phiscan strip --in-place of the work tree; env may hold the shim's settings. */
static int strip(const char *jobs, char *const env[], long delay_us)
{
	char *argv[] = {(char *)bin, "strip", "--in-place", "--key", keyfile, "--strip-hps",
	                "--no-progress", "-j", (char *)jobs, work, NULL};
	return spawn(argv, env, delay_us);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the checks ---- */

struct tally {
	unsigned kills, exited, mixed, temps, stripped_files, original_files;
};

/* The state a kill left, then the re-run. */
static void check_after(const char *what, int status, struct tally *t)
{
	struct listing now_l = {0};
	if (WIFSIGNALED(status)) {
		cr_assert_eq(WTERMSIG(status), SIGKILL, "%s: died of signal %d", what, WTERMSIG(status));
		t->kills++;
	} else {
		cr_assert(WIFEXITED(status), "%s", what);
		t->exited++;
	}
	list_tree(work, &now_l);
	unsigned stripped = 0, original = 0;
	for (size_t i = 0; i < orig.n; i++) {
		const struct entry *e = find(&now_l, orig.v[i].rel);
		cr_assert_not_null(e, "%s: %s is gone", what, orig.v[i].rel);
		const struct entry *r = find(&ref, orig.v[i].rel);
		cr_assert_not_null(r);
		bool is_orig = !strcmp(e->hash, orig.v[i].hash), is_ref = !strcmp(e->hash, r->hash);
		cr_assert(is_orig || is_ref,
		          "%s: %s is neither the original nor the complete stripped file", what, e->rel);
		if (!is_orig)
			stripped++;
		else if (!is_ref)
			original++;
	}
	for (size_t i = 0; i < now_l.n; i++) {
		if (find(&orig, now_l.v[i].rel))
			continue;
		cr_assert(is_temp(now_l.v[i].rel), "%s: unexpected file %s", what, now_l.v[i].rel);
		t->temps++;
	}
	if (stripped && original)
		t->mixed++;
	t->stripped_files += stripped;
	t->original_files += original;

	/* the re-run completes the job and cleans up */
	int st = strip("1", NULL, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) <= 1, "%s: the re-run failed (status %d)", what, st);
	list_tree(work, &now_l);
	cr_assert_eq(now_l.n, ref.n, "%s: the re-run left %zu files, the reference has %zu", what,
	             now_l.n, ref.n);
	for (size_t i = 0; i < ref.n; i++) {
		cr_assert_str_eq(now_l.v[i].rel, ref.v[i].rel, "%s", what);
		cr_assert_str_eq(now_l.v[i].hash, ref.v[i].hash,
		                 "%s: after the re-run %s differs from one uninterrupted strip", what,
		                 ref.v[i].rel);
	}
	listing_free(&now_l);
}

/* How many calls the shim counts in one whole run (meta: commit calls only). */
static unsigned long count_calls(bool meta)
{
	char report[PATH_MAX + 32], e_pre[PATH_MAX + 32], e_rep[PATH_MAX + 48];
	snprintf(report, sizeof report, "%s/count", root);
	snprintf(e_pre, sizeof e_pre, "LD_PRELOAD=%s", shim);
	snprintf(e_rep, sizeof e_rep, "KILLSHIM_REPORT=%s", report);
	char *env[] = {e_pre, e_rep, "ASAN_OPTIONS=verify_asan_link_order=0",
	               meta ? "KILLSHIM_META=1" : NULL, NULL};
	fresh_copy();
	int st = strip("1", env, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) <= 1, "the counting run failed (status %d)", st);
	FILE *f = fopen(report, "r");
	cr_assert_not_null(f, "the shim wrote no count (is %s preloadable?)", shim);
	unsigned long n = 0;
	cr_assert_eq(fscanf(f, "%lu", &n), 1);
	fclose(f);
	/* the counting run itself must end at the reference */
	struct listing l = {0};
	list_tree(work, &l);
	cr_assert_eq(l.n, ref.n);
	for (size_t i = 0; i < l.n; i++)
		cr_assert_str_eq(l.v[i].hash, ref.v[i].hash, "%s", l.v[i].rel);
	listing_free(&l);
	return n;
}

static void kill_at(unsigned long n, bool meta, const char *jobs, struct tally *t)
{
	char e_pre[PATH_MAX + 32], e_at[48], what[96];
	snprintf(e_pre, sizeof e_pre, "LD_PRELOAD=%s", shim);
	snprintf(e_at, sizeof e_at, "KILLSHIM_AT=%lu", n);
	char *env[] = {e_pre, e_at, "ASAN_OPTIONS=verify_asan_link_order=0",
	               meta ? "KILLSHIM_META=1" : NULL, NULL};
	snprintf(what, sizeof what, "kill at %s call %lu (-j %s)", meta ? "commit" : "counted", n, jobs);
	fresh_copy();
	check_after(what, strip(jobs, env, 0), t);
}

/* ---- the test ---- */

static void setup(void)
{
	bin = getenv("PHISCAN");
	gencase = getenv("GENCASE");
	shim = getenv("KILLSHIM");
	cr_assert_geq(sodium_init(), 0);
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(root, sizeof root, "%s/phiscan-inplace.XXXXXX", base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(root), "mkdtemp: %s", strerror(errno));
	snprintf(keyfile, sizeof keyfile, "%s/key", root);
	snprintf(tree, sizeof tree, "%s/case", root);
	snprintf(work, sizeof work, "%s/work", root);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 32];
	if (root[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", root);
		root[0] = 0;
	}
	listing_free(&orig);
	listing_free(&ref);
}

TestSuite(inplace, .init = setup, .fini = teardown, .timeout = 600);

Test(inplace, a_killed_strip_leaves_each_file_whole_and_a_rerun_finishes_it)
{
	if (!bin || !gencase || !shim || access(shim, R_OK) || access(gencase, X_OK)) {
		teardown(); /* a skipped test does not run the suite's fini */
		cr_skip_test("PHISCAN, GENCASE and KILLSHIM are set by make test");
	}
	/* one whole case of every format, and a key (DICOM strip remaps UIDs with it) */
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof cmd,
	         "'%s' cases '%s/gen' --cases 1 --seed 11 >/dev/null && mv '%s/gen/case-001' '%s' && "
	         "head -c 32 /dev/zero | tr '\\0' 'k' > '%s'",
	         gencase, root, root, tree, keyfile);
	sh(cmd);
	list_tree(tree, &orig);
	cr_assert_geq(orig.n, 20, "the generated case has %zu files", orig.n);

	/* the reference: one uninterrupted strip */
	fresh_copy();
	double t0 = now();
	int st = strip("1", NULL, 0);
	double ref_s = now() - t0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) <= 1, "the reference strip failed (status %d)", st);
	list_tree(work, &ref);
	cr_assert_eq(ref.n, orig.n, "the reference strip left other files than it found");
	size_t changed = 0;
	for (size_t i = 0; i < ref.n; i++)
		changed += strcmp(ref.v[i].hash, orig.v[i].hash) != 0;
	cr_assert_geq(changed, orig.n / 2, "only %zu of %zu files changed by the strip", changed, orig.n);

	unsigned long total = count_calls(false), commits = count_calls(true);
	cr_assert_gt(total, 2 * orig.n, "the shim saw %lu calls for %zu files", total, orig.n);
	cr_assert_geq(commits, 2 * changed, "the shim saw %lu commit calls", commits);

	const char *it = getenv("PHISCAN_KILL_ITERATIONS"), *sd = getenv("PHISCAN_KILL_SEED");
	unsigned long n = it ? strtoul(it, NULL, 10) : 0;
	unsigned seed = sd ? (unsigned)strtoul(sd, NULL, 10) : 7;
	unsigned long n_sweep = n ? n : 8, n_meta = n ? n : 8, n_rand = n ? n : 6, n_time = n ? n : 4;
	struct tally t = {0};

	/* deterministic: evenly over every counted call, first and last included */
	for (unsigned long i = 0; i < n_sweep; i++)
		kill_at(1 + i * (total - 1) / (n_sweep > 1 ? n_sweep - 1 : 1), false, "1", &t);
	/* deterministic: the commit calls (all of them when asked for as many) */
	if (n_meta > commits)
		n_meta = commits;
	for (unsigned long i = 0; i < n_meta; i++)
		kill_at(1 + i * (commits - 1) / (n_meta > 1 ? n_meta - 1 : 1), true, "1", &t);
	/* seeded random points, two workers */
	srand(seed);
	for (unsigned long i = 0; i < n_rand; i++)
		kill_at(1 + (unsigned long)rand() % total, false, "2", &t);
	/* no shim: SIGKILL after a random delay within the reference run's time */
	for (unsigned long i = 0; i < n_time; i++) {
		char what[64];
		long us = 1 + (long)((double)rand() / RAND_MAX * ref_s * 1e6);
		snprintf(what, sizeof what, "kill after %ld us (-j 2)", us);
		fresh_copy();
		check_after(what, strip("2", NULL, us), &t);
	}

	cr_log_info("kill test: %zu files (%zu changed by strip), %lu counted calls, %lu commit "
	            "calls, %u kills, %u ran to the end, %u left a mix of stripped and original "
	            "files, %u temporaries removed by the re-runs; seed %u",
	            orig.n, changed, total, commits, t.kills, t.exited, t.mixed, t.temps, seed);
	/* the sweep did reach the states it is about */
	cr_expect_geq(t.kills, n_sweep + n_meta, "every shim kill before the last call killed");
	cr_expect_gt(t.mixed, 0, "no kill left a mix of stripped and original files");
	cr_expect_gt(t.temps, 0, "no kill left a temporary file behind");
}
