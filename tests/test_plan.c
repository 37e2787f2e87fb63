/* test_plan.c - the files the case harvest keeps open for the scan pass
 * (scanner/plan.c, scanner/scan.c: phi_harvest_file, phi_scan_file): every kept
 * descriptor is closed once whatever happens to its file, the results are those of a
 * run that opens every file twice, and a file changed, replaced or removed between
 * the passes is handled (in process, counting /proc/self/fd); then whole runs of the
 * binary with the hand-off and without it (PHISCAN_KEEP_FDS=0) on generated cases.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../scanner/engine.h"
#include "../scanner/ops.h"
#include "../scanner/plan.h"
#include "../scanner/rules.h"
#include "../scanner/scan.h"
#include "../scanner/walk.h"
#include "cli.h"

TestSuite(handoff, .init = cli_setup, .fini = cli_teardown);

/* Open descriptors of this process (the directory stream's own not counted). */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* ---- in process: one worker ---- */

struct fx {
	struct phi_pack pack;
	struct phi_engine *e;
	struct phi_limits lim;
	struct phi_policy pol;
	struct phi_scan_opts so;
	struct phi_worker *w;
};

static const char *const skip_stl[] = {"stl", NULL};

static void fx_init(struct fx *x, bool in_place)
{
	struct phi_error err = {0};
	static const char yaml[] = "rules:\n"
	                           "  - id: mrn\n"
	                           "    class: mrn\n"
	                           "    pattern: 'MRN-\\d{5}'\n";
	memset(x, 0, sizeof *x);
	cr_assert_eq(phi_pack_load_string(&x->pack, yaml, strlen(yaml), "t.yaml", &err), 0, "%s",
	             err.msg);
	struct phi_engine_opts eo = {0};
	cr_assert_eq(phi_engine_new(&x->e, &x->pack, NULL, &eo, &err), 0, "%s", err.msg);
	phi_limits_default(&x->lim);
	x->lim.max_file_size = 4096;
	phi_policy_init(&x->pol);
	x->so = (struct phi_scan_opts){.engine = x->e, .limits = &x->lim, .policy = &x->pol,
	                               .strip = in_place, .in_place = in_place, .force = in_place,
	                               .skip_formats = skip_stl};
	cr_assert_eq(phi_worker_new(&x->w, &x->so), 0);
}

static void fx_free(struct fx *x)
{
	phi_worker_free(x->w);
	phi_engine_free(x->e);
	phi_pack_free(&x->pack);
	phi_policy_free(&x->pol);
}

static int ignore_value(void *arg, const char *cls, const char *v, size_t n)
{
	(void)arg, (void)cls, (void)v, (void)n;
	return 0;
}

/* The files of the scan paths: findings, a JSON document (its harvest reads on), a
 * binary no format claims, a format the configuration skips, one over the size
 * limit. */
static const char *const names[] = {"a.txt", "b.json", "c.bin", "d.stl", "e.txt"};
#define NNAMES (sizeof names / sizeof names[0])

static void write_files(const char *dir)
{
	cli_mkdirs(dir);
	cli_write_str(cli_fmt("%s/a.txt", dir), "chart of MRN-12345, seen today\n");
	cli_write_str(cli_fmt("%s/b.json", dir), "{\"patient\": {\"id\": \"MRN-23456\"}}\n");
	cli_write(cli_fmt("%s/c.bin", dir), "\x00\x01\x02\x03\xff\xfe\x00\x00", 8);
	cli_write_str(cli_fmt("%s/d.stl", dir),
	              "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\n"
	              "vertex 0 1 0\nendloop\nendfacet\nendsolid t\n");
	char big[5000];
	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = '\n';
	cli_write(cli_fmt("%s/e.txt", dir), big, sizeof big);
}

static const char *base_name_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Harvest (keeping the file when keep) and scan one file as a run does. */
static void harvest_then_scan(struct fx *x, const char *path, bool keep, struct phi_result *res,
                              void (*between)(const char *path))
{
	struct phi_kept_file k = {.fd = -2};
	cr_assert_eq(phi_harvest_file(x->w, path, keep ? &k : NULL, ignore_value, NULL), 0);
	if (keep)
		cr_assert_geq(k.fd, 0, "%s was not kept", path);
	if (between)
		between(path);
	memset(res, 0, sizeof *res);
	res->path = strdup(path);
	phi_scan_file(x->w, path, base_name_of(path), keep ? &k : NULL, res);
	if (keep)
		cr_assert_eq(k.fd, -1, "the scan did not take the kept descriptor of %s", path);
}

Test(handoff, a_kept_file_scans_as_a_reopened_one_and_every_descriptor_is_closed)
{
	struct fx x;
	fx_init(&x, false);
	char *dir = cli_fmt("%s/files", cli_root);
	write_files(dir);
	int before = open_fds();
	for (size_t i = 0; i < NNAMES; i++) {
		char *path = cli_fmt("%s/%s", dir, names[i]);
		struct phi_result a, b;
		harvest_then_scan(&x, path, false, &a, NULL);
		harvest_then_scan(&x, path, true, &b, NULL);
		cr_assert_eq(a.status, b.status, "%s", names[i]);
		cr_assert_str_eq(a.format, b.format, "%s", names[i]);
		cr_assert_str_eq(a.reason ? a.reason : "", b.reason ? b.reason : "", "%s", names[i]);
		cr_assert_eq(a.n, b.n, "%s", names[i]);
		cr_assert_eq(a.size, b.size, "%s", names[i]);
		for (size_t f = 0; f < a.n; f++) {
			cr_assert_str_eq(a.v[f].rule, b.v[f].rule);
			cr_assert_eq(a.v[f].start, b.v[f].start);
			cr_assert_str_eq(a.v[f].excerpt, b.v[f].excerpt);
		}
		phi_result_clear(&a);
		phi_result_clear(&b);
	}
	/* the paths did what they are for: found, parsed, skipped, skipped, too large */
	cr_assert_eq(open_fds(), before, "a descriptor was left open");
	fx_free(&x);
}

static void rewrite(const char *path)
{
	/* the same inode, another size */
	FILE *f = fopen(path, "a");
	cr_assert_not_null(f);
	fputs("and MRN-99999 added\n", f);
	fclose(f);
}

static void replace(const char *path)
{
	char *t = cli_fmt("%s.new", path);
	cli_write_str(t, "nothing to see here\n");
	cr_assert_eq(rename(t, path), 0);
}

static void remove_it(const char *path)
{
	cr_assert_eq(unlink(path), 0);
}

/* Fresh files in dir, then dir/a.txt harvested, changed by between and scanned:
 * unscanned, for the reason given. */
static void expect_unreadable(struct fx *x, const char *dir, bool keep,
                              void (*between)(const char *path), const char *why)
{
	struct phi_result r;
	write_files(dir);
	harvest_then_scan(x, cli_fmt("%s/a.txt", dir), keep, &r, between);
	cr_assert_eq(r.status, PHI_UNREADABLE);
	cr_assert(r.reason && strstr(r.reason, why), "%s", r.reason);
	phi_result_clear(&r);
}

Test(handoff, a_file_changed_replaced_or_removed_between_the_passes_is_handled)
{
	struct fx x;
	fx_init(&x, false);
	char *dir = cli_fmt("%s/files", cli_root);
	write_files(dir);
	int before = open_fds();
	/* rewritten in place: the scan sees the harvest's stat no longer holds */
	expect_unreadable(&x, dir, true, rewrite, "changed while it was read");
	/* another file renamed into its place, or removed: what the harvest opened is no
	 * file of the tree any more; unscanned, as a file removed before its open */
	expect_unreadable(&x, dir, true, replace, "vanished while it was read");
	expect_unreadable(&x, dir, true, remove_it, "vanished while it was read");
	/* without the hand-off a removed file is reported as vanished, as before */
	expect_unreadable(&x, dir, false, remove_it, "vanished after the walk");
	cr_assert_eq(open_fds(), before, "a descriptor was left open");
	fx_free(&x);
}

Test(handoff, in_place_never_replaces_a_file_it_did_not_read_and_closes_the_temporary)
{
	struct fx x;
	fx_init(&x, true);
	char *dir = cli_fmt("%s/files", cli_root);
	write_files(dir);
	int before = open_fds();
	struct phi_result r;
	/* the copy is written over the file it read */
	harvest_then_scan(&x, cli_fmt("%s/a.txt", dir), true, &r, NULL);
	cr_assert_eq(r.status, PHI_SCANNED, "%s", r.reason);
	cr_assert_not_null(r.out_path);
	char *now = cli_read(cli_fmt("%s/a.txt", dir), NULL);
	cr_assert(now && !strstr(now, "MRN-12345"), "%s", now);
	phi_result_clear(&r);
	/* replaced between the passes: the newcomer stays as it is, nothing is written */
	write_files(dir);
	harvest_then_scan(&x, cli_fmt("%s/a.txt", dir), true, &r, replace);
	cr_assert_eq(r.status, PHI_UNREADABLE);
	cr_assert(r.reason && strstr(r.reason, "replaced"), "%s", r.reason);
	cr_assert_str_eq(cli_read(cli_fmt("%s/a.txt", dir), NULL), "nothing to see here\n");
	phi_result_clear(&r);
	/* removed between the passes: not brought back */
	write_files(dir);
	harvest_then_scan(&x, cli_fmt("%s/a.txt", dir), true, &r, remove_it);
	cr_assert_eq(r.status, PHI_UNREADABLE);
	cr_assert_eq(access(cli_fmt("%s/a.txt", dir), F_OK), -1);
	phi_result_clear(&r);
	/* an interrupted strip's temporary file, kept by the harvest: removed, closed */
	char *tmp = cli_fmt("%s/.phiscan-aB3xY9", dir);
	cli_write_str(tmp, "half a copy\n");
	harvest_then_scan(&x, tmp, true, &r, NULL);
	cr_assert_eq(r.status, PHI_SKIPPED);
	cr_assert_eq(access(tmp, F_OK), -1);
	phi_result_clear(&r);
	/* no temporary file is left beside the originals */
	DIR *d = opendir(dir);
	for (struct dirent *de; (de = readdir(d));)
		cr_assert(strncmp(de->d_name, ".phiscan-", 9), "%s left", de->d_name);
	closedir(d);
	cr_assert_eq(open_fds(), before, "a descriptor was left open");
	fx_free(&x);
}

/* ---- in process: the plan ---- */

static int add_entry(void *arg, const struct phi_walk_entry *e)
{
	struct phi_plan *p = arg;
	return phi_plan_add(p, e->kind, e->path, e->rel, e->reason, 0);
}

static void plan_of(struct fx *x, const char *dir, size_t keep, struct phi_plan *p)
{
	struct phi_walk_opts wo = {0};
	const char *roots[] = {dir};
	memset(p, 0, sizeof *p);
	cr_assert_eq(phi_walk(roots, 1, &wo, add_entry, p), 0);
	struct phi_plan_opts po = {.engine = x->e, .policy = &x->pol, .roots = roots, .sweep = true,
	                           .keep_fds = keep};
	struct phi_error err = {0};
	struct phi_worker *ws[] = {x->w};
	cr_assert_eq(phi_plan_prepare(p, &po, ws, 1, &err), 0, "%s", err.msg);
}

Test(handoff, the_plan_keeps_at_most_its_budget_and_closes_what_no_scan_took)
{
	struct fx x;
	fx_init(&x, false);
	char *dir = cli_fmt("%s/files", cli_root);
	write_files(dir);
	int before = open_fds();
	struct phi_plan p;
	/* a budget of 2: two files kept, in the order the harvest met them */
	plan_of(&x, dir, 2, &p);
	size_t kept = 0;
	for (size_t i = 0; i < p.n; i++)
		kept += p.v[i].kept && p.v[i].kept->fd >= 0;
	cr_assert_eq(kept, 2);
	cr_assert_eq(open_fds(), before + 2);
	/* one scanned, the run stopped: freeing the plan closes the other */
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].kept) {
			struct phi_result r = {.path = strdup(p.v[i].path)};
			phi_scan_file(x.w, p.v[i].path, p.v[i].rel, p.v[i].kept, &r);
			phi_plan_release(&p.v[i]);
			phi_result_clear(&r);
			break;
		}
	cr_assert_eq(open_fds(), before + 1);
	phi_plan_free(&p);
	cr_assert_eq(open_fds(), before);
	/* a budget larger than the files: every file kept; none with a budget of 0 */
	plan_of(&x, dir, 1000, &p);
	cr_assert_eq(open_fds(), before + (int)NNAMES);
	phi_plan_free(&p);
	plan_of(&x, dir, 0, &p);
	cr_assert_eq(open_fds(), before);
	cr_assert_null(p.kept);
	phi_plan_free(&p);
	fx_free(&x);
}

/* ---- the binary ---- */

/* Every file under a (relative to it) is under b with the same bytes, and b holds
 * no other file; the manifest is compared with a's directory name put for b's. */
static void same_tree(const char *a, const char *b, const char *rel, size_t *nfiles)
{
	char *pa = cli_fmt("%s%s%s", a, *rel ? "/" : "", rel);
	DIR *d = opendir(pa);
	cr_assert_not_null(d, "%s", pa);
	size_t na = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		na++;
		char *r = cli_fmt("%s%s%s", rel, *rel ? "/" : "", de->d_name);
		char *fa = cli_fmt("%s/%s", a, r), *fb = cli_fmt("%s/%s", b, r);
		struct stat st;
		cr_assert_eq(stat(fa, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			same_tree(a, b, r, nfiles);
			continue;
		}
		size_t la, lb;
		char *ca = cli_read(fa, &la), *cb = cli_read(fb, &lb);
		cr_assert_not_null(cb, "%s is missing from the second run", r);
		if (!strcmp(r, "phiscan-manifest.json")) {
			/* the outputs name their directory: b's becomes a's */
			char *s = strstr(cb, b), *fixed = cli_own(malloc(lb + 1));
			size_t o = 0;
			for (const char *q = cb; *q;) {
				if (s == q) {
					memcpy(fixed + o, a, strlen(a));
					o += strlen(a);
					q += strlen(b);
					s = strstr(q, b);
				} else {
					fixed[o++] = *q++;
				}
			}
			fixed[o] = 0;
			cb = fixed;
			lb = o;
		}
		cr_assert(la == lb && !memcmp(ca, cb, la), "%s differs", r);
		struct stat sa, sb;
		cr_assert_eq(stat(fb, &sb), 0);
		cr_assert_eq(stat(fa, &sa), 0);
		cr_assert_eq(sa.st_mode, sb.st_mode, "%s: the mode differs", r);
		(*nfiles)++;
	}
	closedir(d);
	char *pb = cli_fmt("%s%s%s", b, *rel ? "/" : "", rel);
	d = opendir(pb);
	cr_assert_not_null(d);
	size_t nb = 0;
	for (struct dirent *de; (de = readdir(d));)
		nb += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	cr_assert_eq(na, nb, "%s: another number of entries", pb);
}

static char *gen_cases(void)
{
	const char *gen = getenv("GENCASE");
	cr_assert(gen && *gen, "set GENCASE (make test does)");
	char *d = cli_fmt("%s/corpus", cli_root);
	char *argv[] = {(char *)gen, "cases", d, "--cases", "3", "--seed", "11", NULL};
	struct cbuf out = {0}, err = {0};
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "gencase failed: %s", err.p);
	return d;
}

/* strip -o of d with PHISCAN_KEEP_FDS=keep (NULL: the default budget) */
static int strip_with(const char *keep, const char *d, const char *key, const char *o,
                      const char *jobs, struct cbuf *out)
{
	struct cbuf err = {0};
	if (keep)
		setenv("PHISCAN_KEEP_FDS", keep, 1);
	else
		unsetenv("PHISCAN_KEEP_FDS");
	int rc = cli(out, &err, NULL, "strip", "--no-progress", "-j", jobs, "--format", "json",
	             "--key", key, "-o", o, d, NULL);
	unsetenv("PHISCAN_KEEP_FDS");
	return rc;
}

Test(handoff, strip_and_scan_write_the_same_bytes_with_and_without_the_hand_off)
{
	char *d = gen_cases();
	char *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	/* no hand-off, every file kept, three kept; one and two threads */
	const char *keeps[] = {"0", NULL, "3"};
	const char *jobs[] = {"1", "2", "2"};
	struct cbuf rep[3];
	char *o[3];
	int rc[3];
	for (int i = 0; i < 3; i++) {
		o[i] = cli_fmt("%s/out%d", cli_root, i);
		rc[i] = strip_with(keeps[i], d, key, o[i], jobs[i], &rep[i]);
		cr_assert(rc[i] == 1 || rc[i] == 2, "exit %d", rc[i]);
	}
	size_t n = 0;
	for (int i = 1; i < 3; i++) {
		cr_assert_eq(rc[i], rc[0]);
		n = 0;
		same_tree(o[0], o[i], "", &n);
		/* the report: the same lines but the run time and the output directory */
		char *a = without_seconds(&rep[0]), *b = without_seconds(&rep[i]);
		for (char *p = b; (p = strstr(p, o[i]));)
			p[strlen(o[i]) - 1] = '0';
		cr_assert_str_eq(a, b, "the report changed with PHISCAN_KEEP_FDS=%s", keeps[i]);
	}
	cr_assert_gt(n, 20, "only %zu files compared", n);
	/* scan: the same report */
	struct cbuf s0 = {0}, s1 = {0}, err = {0};
	setenv("PHISCAN_KEEP_FDS", "0", 1);
	int r0 = cli(&s0, &err, NULL, "scan", "--no-progress", "--format", "json", d, NULL);
	unsetenv("PHISCAN_KEEP_FDS");
	int r1 = cli(&s1, &err, NULL, "scan", "--no-progress", "--format", "json", d, NULL);
	cr_assert_eq(r0, r1);
	cr_assert_str_eq(without_seconds(&s0), without_seconds(&s1));
}

Test(handoff, a_tight_descriptor_limit_keeps_fewer_files_and_changes_no_result)
{
	char *d = gen_cases();
	char *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	struct cbuf r0 = {0}, r1 = {0};
	char *o0 = cli_fmt("%s/o0", cli_root), *o1 = cli_fmt("%s/o1", cli_root);
	int rc0 = strip_with("0", d, key, o0, "2", &r0);
	/* 40 descriptors, soft and hard (this test process is its own: the limit dies
	 * with it): the budget is a quarter, 10; the other files are opened again */
	struct rlimit rl = {40, 40};
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	int rc1 = strip_with(NULL, d, key, o1, "2", &r1);
	cr_assert_eq(rc0, rc1, "%s", r1.p);
	size_t n = 0;
	same_tree(o0, o1, "", &n);
	cr_assert_gt(n, 20);
}
