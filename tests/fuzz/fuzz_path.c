/* fuzz_path.c - libFuzzer target: untrusted names, through every place that takes
 * one (issue 7, "path handling").
 *
 * Input: byte 0 holds option bits; with bit 5 the text up to the first empty line
 * is a --roster CSV; the rest are names, one a line (a NUL ends a name).
 *   1. The plan (plan.c, case.c): the names as walked relative paths of one case
 *      (empty, "." and ".." components dropped, as a walk never yields them),
 *      harvested, each component scanned by the rules and the case sweep, display
 *      paths masked, components renamed with the case code (phi_case_rename), and
 *      output names claimed (-2, -3 on collisions).
 *   2. The reporters (report.c): every planned entry with its file-name findings
 *      in human, JSON Lines, SARIF and JUnit.
 *   3. Archive entry names (archive.c): the raw names as entries of a zip or a
 *      pax tar written with libarchive, scanned and stripped as `phiscan filter`
 *      does, and the stripped archive read back.
 *   4. .phiscanignore (ignore.c): the names as patterns of an ignore file matched
 *      against the planned paths, and every name as a glob against every other.
 *
 * Checks beyond "no crash, no leak, no UB" (each aborts):
 *   - a display path keeps its prefix and its '/' count (masking never adds or
 *     removes a separator); without --show-values no finding carries a value;
 *   - a renamed output path is relative, has as many components as the input and
 *     none is empty, "." or ".."; no two entries get the same output path;
 *   - JSON and SARIF output is valid UTF-8 without control bytes (C0, DEL) but
 *     '\n', JUnit the same but DEL (legal in XML), human output without control
 *     bytes but '\n' (no terminal escapes);
 *   - every archive entry is reported inside "fuzz!/"; an entry whose name is
 *     absolute, has a ".." component or a control byte is never scanned, and a
 *     strip that succeeds wrote no such entry (its archive reads back, names safe).
 *
 * Run from the repository root (it loads rules/ from there):
 *   make fuzz FUZZ_TARGETS=fuzz_path FUZZ_SECONDS=600
 * tests/test_paths.c replays tests/fuzz/regress/fuzz_path and the seeds through
 * fuzz_path_one() (this file, built with FUZZ_PATH_NO_MAIN).
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_setup.h"
#include "../../scanner/ignore.h"
#include "../../scanner/plan.h"
#include "../../scanner/report.h"
#include "../../scanner/walk.h"

#define FP_MAX_NAMES 32
#define FP_MAX_ENTRIES 12 /* archive entries: each is scanned and stripped */
#define FP_MAX_NAME 1024
#define FP_ROOT "/nonexistent-fuzz/Case 7"

#define FP_CHECK(c, ...)                                                                 \
	do {                                                                                 \
		if (!(c)) {                                                                      \
			fprintf(stderr, "fuzz_path: " __VA_ARGS__);                                  \
			fputc('\n', stderr);                                                         \
			abort();                                                                     \
		}                                                                                \
	} while (0)

/* What the inputs reached (tests/test_paths.c asserts the seeds reach each). */
static struct {
	unsigned long plans, renamed, masked, entries, unsafe_refused;
} fp_stats;

struct fp_names {
	char *v[FP_MAX_NAMES];
	size_t n;
};

static void fp_names_free(struct fp_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* Split data into names: '\n' separates, a NUL ends a name early. */
static void fp_split(const uint8_t *d, size_t n, struct fp_names *out)
{
	size_t i = 0;
	while (i < n && out->n < FP_MAX_NAMES) {
		size_t j = i;
		while (j < n && d[j] != '\n')
			j++;
		size_t len = 0;
		while (i + len < j && d[i + len] && len < FP_MAX_NAME)
			len++;
		char *s = strndup((const char *)d + i, len);
		if (!s)
			abort();
		out->v[out->n++] = s;
		i = j + 1;
	}
}

/* A walked relative path: components joined by '/', none empty, "." or "..". */
static char *fp_rel(const char *s)
{
	size_t n = strlen(s);
	char *r = malloc(n + 1);
	if (!r)
		abort();
	size_t o = 0;
	for (const char *p = s; *p;) {
		size_t k = strcspn(p, "/");
		if (k && !(k == 1 && p[0] == '.') && !(k == 2 && p[0] == '.' && p[1] == '.')) {
			if (o)
				r[o++] = '/';
			memcpy(r + o, p, k);
			o += k;
		}
		p += k;
		if (*p)
			p++;
	}
	r[o] = 0;
	return r;
}

static int fp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t fp_count(const char *s, char c)
{
	size_t k = 0;
	for (; *s; s++)
		k += *s == c;
	return k;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 when invalid. */
static size_t fp_utf8(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	if (!len || s[0] > 0xF4 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return len;
}

/* xml: JUnit, where DEL and C1 controls are legal characters (XML 1.0 section 2.2)
 * and only C0 controls are not. */
static void fp_check_output(const char *what, const char *buf, size_t n, bool utf8, bool xml)
{
	const unsigned char *s = (const unsigned char *)buf;
	for (size_t i = 0; i < n;) {
		FP_CHECK(s[i] >= 0x20 || s[i] == '\n', "%s output has control byte 0x%02X at %zu",
		         what, s[i], i);
		FP_CHECK(xml || s[i] != 0x7F, "%s output has DEL at %zu", what, i);
		size_t k = utf8 ? fp_utf8(s + i, n - i) : 1;
		FP_CHECK(k, "%s output has invalid UTF-8 at byte %zu", what, i);
		i += k;
	}
}

/* Why an archive entry name must not be scanned or written, independently of
 * archive.c: absolute (/, \, X:), a ".." component, a control byte.  NULL if safe. */
static const char *fp_unsafe(const char *name)
{
	if (!*name)
		return "empty";
	if (name[0] == '/' || name[0] == '\\' ||
	    (((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z') && name[1] == ':'))
		return "absolute";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7F)
			return "control";
	for (const char *p = name; *p;) {
		size_t k = strcspn(p, "/\\");
		if (k == 2 && p[0] == '.' && p[1] == '.')
			return "dotdot";
		p += k;
		if (*p)
			p++;
	}
	return NULL;
}

/* ---- 1 and 2: the plan and the reporters ---- */

static void fp_report(struct phi_result *res, size_t nres, bool show_values)
{
	static const enum phi_report_format fmts[] = {PHI_REPORT_HUMAN, PHI_REPORT_JSON,
	                                             PHI_REPORT_SARIF, PHI_REPORT_JUNIT};
	static const char *const names_[] = {"human", "JSON", "SARIF", "JUnit"};
	for (size_t f = 0; f < 4; f++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		if (!fp)
			abort();
		struct phi_report_opts ro = {.format = fmts[f], .show_values = show_values,
		                             .err_fp = fp, .tool_version = "fuzz", .pack = &pack};
		struct phi_reporter *r;
		struct phi_summary sum = {0};
		if (phi_reporter_new(&r, fp, &ro))
			abort();
		for (size_t i = 0; i < nres; i++) {
			if (phi_reporter_file(r, &res[i]) || phi_summary_add(&sum, &res[i]))
				abort();
		}
		(void)phi_reporter_end(r, &sum);
		phi_reporter_free(r);
		phi_summary_clear(&sum);
		fclose(fp);
		fp_check_output(names_[f], buf, len, f != 0, fmts[f] == PHI_REPORT_JUNIT);
		free(buf);
	}
}

static void fp_plan(const struct fp_names *ns, unsigned flags, const char *roster)
{
	char *rels[FP_MAX_NAMES];
	size_t nr = 0;
	for (size_t i = 0; i < ns->n; i++) {
		char *r = fp_rel(ns->v[i]);
		if (*r)
			rels[nr++] = r;
		else
			free(r);
	}
	qsort(rels, nr, sizeof *rels, fp_cmp);
	struct phi_plan p = {0};
	const char *roots[] = {FP_ROOT};
	char path[FP_MAX_NAME + 64];
	for (size_t i = 0; i < nr; i++) {
		if (i && !strcmp(rels[i], rels[i - 1]))
			continue; /* a walk yields a path once */
		snprintf(path, sizeof path, "%s/%s", FP_ROOT, rels[i]);
		if (phi_plan_add(&p, PHI_WALK_FILE, path, rels[i], NULL, 0))
			abort();
	}
	static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct phi_plan_opts po = {
		.engine = engine, .policy = &policy, .roots = roots,
		.case_depth = (flags >> 4) & 1, .sweep = true, .roster = roster,
		.key = flags & 4 ? key : NULL, .case_id = flags & 8 ? "CASE-7" : NULL,
		.show_values = flags & 1, .rename = flags & 2,
	};
	struct phi_error err = {0};
	if (phi_plan_prepare(&p, &po, &scanner, 1, &err) == 0) {
		struct phi_result res[FP_MAX_NAMES];
		memset(res, 0, sizeof res);
		size_t nres = 0;
		fp_stats.plans++;
		char **outs = calloc(p.n + 1, sizeof *outs);
		if (!outs)
			abort();
		for (size_t i = 0; i < p.n; i++) {
			struct phi_plan_entry *e = &p.v[i];
			FP_CHECK(e->display, "no display path for entry %zu", i);
			FP_CHECK(!strncmp(e->display, FP_ROOT "/", sizeof FP_ROOT),
			         "display path lost its root prefix");
			FP_CHECK(fp_count(e->display, '/') == fp_count(e->path, '/'),
			         "masking changed the number of path separators");
			fp_stats.masked += strcmp(e->display, e->path) != 0;
			for (size_t k = 0; k < e->nnames; k++)
				FP_CHECK(po.show_values || !e->names[k].value,
				         "a file-name finding carries its value without --show-values");
			if (po.rename) {
				const char *o = e->out_rel;
				FP_CHECK(o && *o && *o != '/', "bad output path for entry %zu", i);
				FP_CHECK(fp_count(o, '/') == fp_count(e->rel, '/'),
				         "a rename changed the number of components");
				for (const char *s = o; *s;) {
					size_t k = strcspn(s, "/");
					FP_CHECK(k && !(k == 1 && s[0] == '.') && !(k == 2 && s[0] == '.' && s[1] == '.'),
					         "a renamed component is empty, \".\" or \"..\"");
					s += k;
					if (*s)
						s++;
				}
				outs[i] = e->out_rel;
				fp_stats.renamed += strcmp(e->out_rel, e->rel) != 0;
			}
			/* the entry as the CLI reports it: display path and file-name findings */
			struct phi_result *r = &res[nres++];
			r->seq = i;
			r->path = strdup(e->display);
			r->format = "text";
			if (!r->path)
				abort();
			for (size_t k = 0; k < e->nnames; k++)
				if (phi_result_add(r, &e->names[k]))
					abort();
			free(e->names);
			e->names = NULL;
			e->nnames = 0;
		}
		if (po.rename) {
			size_t no = 0;
			for (size_t i = 0; i < p.n; i++)
				outs[no++] = outs[i];
			qsort(outs, no, sizeof *outs, fp_cmp);
			for (size_t i = 1; i < no; i++)
				FP_CHECK(strcmp(outs[i], outs[i - 1]), "two entries share an output path");
		}
		free(outs);
		fp_report(res, nres, po.show_values);
		for (size_t i = 0; i < nres; i++)
			phi_result_clear(&res[i]);
	}
	phi_plan_free(&p);

	/* 4a: the names as an ignore file, matched against the planned paths */
	struct phi_ignore *ig;
	if (phi_ignore_new(&ig, "/nonexistent-fuzz", &err) == 0) {
		char text[FP_MAX_NAMES * (FP_MAX_NAME + 1)];
		size_t o = 0;
		for (size_t i = 0; i < ns->n; i++)
			o += (size_t)snprintf(text + o, sizeof text - o, "%s\n", ns->v[i]);
		if (phi_ignore_add(ig, "", text, o, "fuzz", &err) == 0)
			for (size_t i = 0; i < nr; i++) {
				bool v;
				(void)phi_ignore_check_path(ig, rels[i], i & 1, &v, &err);
			}
		phi_ignore_free(ig);
	}
	for (size_t i = 0; i < nr; i++)
		free(rels[i]);
}

/* ---- 3: archive entry names ---- */

struct fp_arch {
	size_t n;
	bool unsafe_scanned;
};

static struct fp_arch fp_seen;

static int fp_on_entry(void *arg, struct phi_result *res)
{
	(void)arg;
	FP_CHECK(!strncmp(res->path, "fuzz!/", 6), "an entry outside its archive's name space");
	FP_CHECK(res->status == PHI_SCANNED || res->reason, "an entry without an outcome");
	/* nested archives are not built here: the name after "fuzz!/" is the entry's */
	if (res->status == PHI_SCANNED && fp_unsafe(res->path + 6))
		fp_seen.unsafe_scanned = true;
	else if (fp_unsafe(res->path + 6))
		fp_stats.unsafe_refused++;
	fp_stats.entries++;
	fp_seen.n++;
	return 0;
}

/* Write the names as entries of a zip (or a pax tar) into a memory file. */
static int fp_make_archive(const struct fp_names *ns, bool tar, size_t *nunsafe)
{
	static const char body[] = "Patient: John Smith\nMRN: 48213377\nDOB: 1961-04-12\n";
	struct archive *a = archive_write_new();
	if (!a)
		abort();
	if ((tar ? archive_write_set_format_pax_restricted(a) : archive_write_set_format_zip(a)) !=
	    ARCHIVE_OK)
		abort();
	int fd = memfd_create("fuzz-archive", 0);
	if (fd < 0 || archive_write_open_fd(a, fd) != ARCHIVE_OK)
		abort();
	*nunsafe = 0;
	for (size_t i = 0; i < ns->n && i < FP_MAX_ENTRIES; i++) {
		struct archive_entry *e = archive_entry_new();
		if (!e)
			abort();
		archive_entry_set_pathname(e, ns->v[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)(sizeof body - 1));
		archive_entry_set_mtime(e, 315576000, 0);
		if (archive_write_header(a, e) == ARCHIVE_OK) {
			if (archive_write_data(a, body, sizeof body - 1) != (la_ssize_t)(sizeof body - 1))
				abort();
			*nunsafe += fp_unsafe(ns->v[i]) != NULL;
		}
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		abort();
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Every entry name in the archive open on fd is safe. */
static void fp_read_back(int fd)
{
	struct archive *a = archive_read_new();
	if (!a)
		abort();
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	lseek(fd, 0, SEEK_SET);
	FP_CHECK(archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK, "the stripped archive does not open");
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *nm = archive_entry_pathname(e);
		FP_CHECK(nm && !fp_unsafe(nm), "the stripped archive holds an unsafe name");
	}
	FP_CHECK(r == ARCHIVE_EOF, "the stripped archive does not read to its end");
	archive_read_free(a);
}

static void fp_archive(const struct fp_names *ns, bool tar)
{
	size_t nunsafe;
	int in = fp_make_archive(ns, tar, &nunsafe), out = memfd_create("fuzz-out", 0);
	if (out < 0)
		abort();
	struct phi_result res = {0};
	memset(&fp_seen, 0, sizeof fp_seen);
	res.path = strdup("fuzz");
	(void)phi_scan_stream(scanner, in, -1, &res);
	phi_result_clear(&res);
	FP_CHECK(!fp_seen.unsafe_scanned, "an entry with an unsafe name was scanned");

	lseek(in, 0, SEEK_SET);
	memset(&fp_seen, 0, sizeof fp_seen);
	res.path = strdup("fuzz");
	int rc = phi_scan_stream(stripper, in, out, &res);
	FP_CHECK(!fp_seen.unsafe_scanned, "an entry with an unsafe name was stripped");
	bool written = rc == 0 && res.status == PHI_SCANNED &&
	               phi_result_get_fact(&res, "archive_entries");
	phi_result_clear(&res);
	if (written) {
		FP_CHECK(!nunsafe, "a strip wrote an archive that had %zu unsafe names", nunsafe);
		fp_read_back(out);
	}
	close(in);
	close(out);
}

/* ---- the run ---- */

static void fuzz_path_init(void)
{
	static const struct phi_strip_opts none;
	struct phi_engine_opts eo = {.safe_harbor = true, .min_confidence = 0.5};
	phi_limits_default(&limits);
	limits.max_archive_entries = 256;
	limits.max_entry_size = 1u << 20;
	limits.max_archive_total = 8u << 20;
	fuzz_setup(&eo, &none);
	scan_opts.entry = fp_on_entry;
	strip_opts.entry = fp_on_entry;
}

static int fuzz_path_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0];
	data++, size--;
	char rpath[64] = "";
	int rfd = -1;
	if (flags & 32) {
		/* the roster: up to the first empty line */
		size_t r = 0;
		while (r < size && !(data[r] == '\n' && r + 1 < size && data[r + 1] == '\n'))
			r++;
		rfd = memfd_with(data, r, NULL, 0);
		snprintf(rpath, sizeof rpath, "/proc/self/fd/%d", rfd);
		data += r < size ? r + 2 : r;
		size -= r < size ? r + 2 : r;
	}
	struct fp_names ns = {0};
	fp_split(data, size, &ns);

	fp_plan(&ns, flags, rfd >= 0 ? rpath : NULL);
	fp_archive(&ns, flags & 64);
	/* 4b: each name as a glob against each other name */
	for (size_t i = 0; i < ns.n && i < 12; i++)
		for (size_t j = 0; j < ns.n && j < 12; j++)
			(void)phi_ignore_glob(ns.v[i], ns.v[j]);
	fp_names_free(&ns);
	if (rfd >= 0)
		close(rfd);
	return 0;
}

#ifndef FUZZ_PATH_NO_MAIN
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_path_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_path_one(data, size);
}
#endif
