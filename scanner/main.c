/* main.c - the phiscan command line: scan, strip, filter, rules.
 *
 * The only place that prints to the terminal or exits.  Global initialisation (rule
 * packs, PCRE2 and Vectorscan compilation, gazetteer, libsodium) happens here before
 * any worker starts; then one walker (this thread) feeds a bounded queue, N workers
 * scan, and this thread reports in walk order (a reorder buffer keyed by sequence
 * number), so the report is the same whatever the thread count.
 *
 * Exit codes: 0 nothing found, 1 identifiers found (at or above --fail-on),
 * 2 usage error, runtime error, or a file that could not be scanned (fail closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../formats/xml.h"
#include "engine.h"
#include "finding.h"
#include "manifest.h"
#include "names.h"
#include "ops.h"
#include "pool.h"
#include "report.h"
#include "rules.h"
#include "scan.h"
#include "walk.h"

#define EXIT_CLEAN 0
#define EXIT_FOUND 1
#define EXIT_ERROR 2

/* Findings a worker holds for one file before streaming them to the report. */
#define FLUSH_FINDINGS 4096

enum cmd { CMD_SCAN, CMD_STRIP, CMD_FILTER };

struct options {
	enum cmd cmd;
	unsigned jobs;
	enum phi_report_format format;
	const char *color;          /* auto, always, never */
	bool show_values;
	bool quiet;
	bool safe_harbor;
	bool no_default_rules;
	bool follow;
	bool progress;
	bool in_place;
	bool force;
	enum phi_severity fail_on;
	double min_confidence;
	const char **rules;
	size_t nrules;
	const char **exclude;
	size_t nexclude;
	const char **ops;
	size_t nops;
	const char *key;
	const char *case_id;
	unsigned sflags;            /* PHI_SO_* */
	const char *out;
	const char *manifest;
	const char *report_out;
	struct phi_limits limits;
};

struct app {
	struct options o;
	struct phi_pack pack;
	struct phi_names *names;
	struct phi_engine *engine;
	struct phi_policy policy;
	struct phi_strip_opts sopts;
	char datadir[PATH_MAX];
	char cachedir[PATH_MAX];
};

static const char *prog = "phiscan";

static void usage_main(FILE *fp)
{
	fprintf(fp,
	        "usage: phiscan <command> [options] [PATH...]\n"
	        "\n"
	        "Find patient identifiers (PHI) in dental case files and write de-identified copies.\n"
	        "\n"
	        "commands:\n"
	        "  scan PATH...            report identifiers (exit 0 clean, 1 found, 2 error/unscanned)\n"
	        "  strip PATH... -o OUT    write a de-identified mirror of PATH under OUT and a manifest\n"
	        "  strip --in-place PATH   replace originals atomically\n"
	        "  filter                  de-identify standard input to standard output\n"
	        "  rules list|test|export  show, test or export the rule packs\n"
	        "\n"
	        "Run 'phiscan <command> --help' for the options of a command.\n");
}

/* Format strip options that are plain flags: name -> PHI_SO_* bit. */
static const struct {
	const char *name;
	unsigned flag;
	const char *help;
} sflag_opts[] = {
	{"verify", PHI_SO_VERIFY, "re-read each copy and check geometry/pixels are unchanged"},
	{"strip-hps", PHI_SO_STRIP_HPS, "also strip 3Shape HPS .dcm (signed: 3Shape may reject it)"},
	{"stl-zero-attributes", PHI_SO_STL_ZERO_ATTR,
	 "binary STL: zero the facet attribute words (colour; kept by default)"},
	{"retain-long-dates", PHI_SO_RETAIN_LONG_DATES, "DICOM: keep full dates and times"},
	{"retain-modified-dates", PHI_SO_RETAIN_MOD_DATES,
	 "DICOM: shift dates by a keyed per-patient offset"},
	{"retain-patient-chars", PHI_SO_RETAIN_PATIENT_CHARS,
	 "DICOM: keep sex, age, size, weight and the like"},
	{"retain-device", PHI_SO_RETAIN_DEVICE, "DICOM: keep device serials and station names"},
	{"retain-institution", PHI_SO_RETAIN_INSTITUTION, "DICOM: keep institution identity"},
	{"retain-uids", PHI_SO_RETAIN_UIDS, "DICOM: keep UIDs unchanged"},
	{"retain-safe-private", PHI_SO_RETAIN_SAFE_PRIVATE,
	 "DICOM: keep private elements known to be safe"},
	{"clean-descriptors", PHI_SO_CLEAN_DESCRIPTORS,
	 "DICOM: keep descriptions with identifiers cleaned out"},
};

static void usage_scan(FILE *fp, enum cmd c)
{
	fprintf(fp, "usage: phiscan %s [options] %s\n\noptions:\n",
	        c == CMD_SCAN ? "scan" : c == CMD_STRIP ? "strip" : "filter",
	        c == CMD_SCAN ? "PATH..." : c == CMD_STRIP ? "PATH... (-o OUT | --in-place)" : "< IN > OUT");
	fprintf(fp,
	        "  -j, --jobs N            worker threads (default: all cores)\n"
	        "  -f, --format FMT        report format: human (default), json, sarif\n"
	        "      --output FILE       write the report to FILE instead of %s\n"
	        "      --show-values       print identifier values in reports (off: values are masked)\n"
	        "      --fail-on SEV       exit 1 only for findings of severity SEV or above:\n"
	        "                          quasi (default: any finding), provider, patient\n"
	        "      --min-confidence X  drop matches below confidence X (default 0.5)\n"
	        "      --rules FILE        add a rule pack or allowlist (YAML); repeatable\n"
	        "      --no-default-rules  do not load the default rule pack\n"
	        "      --safe-harbor       also report every date element but the year and bare ZIPs\n"
	        "      --exclude GLOB      skip paths matching GLOB (base name or relative path)\n"
	        "      --follow            follow symlinks that leave the scanned tree\n"
	        "      --max-size BYTES    report larger files as unscanned (default: no limit)\n"
	        "      --color WHEN        auto (default), always, never\n"
	        "      --no-progress       no progress bar on a terminal\n"
	        "  -q, --quiet             human report: only errors and the summary\n",
	        c == CMD_FILTER ? "standard error" : "standard output");
	if (c != CMD_SCAN)
		fprintf(fp,
		        "      --op SPEC           operator: tag (default), mask, remove, hash, pseudonym;\n"
		        "                          or CLASS=OP for one class (e.g. name=pseudonym); repeatable\n"
		        "      --key FILE          secret key for hash and pseudonym (at least 16 bytes)\n");
	if (c == CMD_STRIP)
		fprintf(fp,
		        "  -o, --out DIR           write the de-identified tree under DIR\n"
		        "      --in-place          rewrite originals atomically instead\n"
		        "      --force             overwrite existing outputs\n"
		        "      --manifest FILE     manifest path (default DIR/phiscan-manifest.json)\n");
	if (c != CMD_SCAN) {
		fprintf(fp, "      --case-id ID        patient name and ID become ID (DICOM, file names)\n");
		for (size_t i = 0; i < sizeof sflag_opts / sizeof sflag_opts[0]; i++)
		{
			int w = 8 + (int)strlen(sflag_opts[i].name);
			fprintf(fp, "      --%s%*s%s\n", sflag_opts[i].name, w < 26 ? 26 - w : 0,
			        w < 26 ? "" : "\n                          ", sflag_opts[i].help);
		}
	}
}

static const char *cmd_name(enum cmd c)
{
	return c == CMD_SCAN ? "scan" : c == CMD_STRIP ? "strip" : "filter";
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg ? arg : "");
	fputc('\n', stderr);
	return EXIT_ERROR;
}

static int push(const char ***v, size_t *n, const char *s)
{
	const char **t = realloc(*v, (*n + 2) * sizeof *t);
	if (!t)
		return -1;
	t[(*n)++] = s;
	t[*n] = NULL;
	*v = t;
	return 0;
}

/* Where rules/ lives: $PHISCAN_DATA, next to the binary (a build tree), or the
 * installed share directory. */
static void find_datadir(char *out, size_t cap)
{
	const char *env = getenv("PHISCAN_DATA");
	char exe[PATH_MAX], probe[PATH_MAX + 64];
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return;
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(probe, sizeof probe, "%s/rules/default.yaml", exe);
			if (access(probe, R_OK) == 0) {
				snprintf(out, cap, "%s", exe);
				return;
			}
			snprintf(probe, sizeof probe, "%s/../share/phiscan/rules/default.yaml", exe);
			if (access(probe, R_OK) == 0) {
				snprintf(out, cap, "%s/../share/phiscan", exe);
				return;
			}
		}
	}
	snprintf(out, cap, "%s", PHI_DATADIR);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_SHOW = 256, OPT_FAILON, OPT_MINCONF, OPT_RULES, OPT_NODEF, OPT_SAFE, OPT_EXCL,
	OPT_FOLLOW, OPT_MAXSIZE, OPT_COLOR, OPT_NOPROG, OPT_OP, OPT_KEY, OPT_INPLACE, OPT_FORCE,
	OPT_MANIFEST, OPT_OUTPUT, OPT_CASEID, OPT_SFLAG,
};


static const struct option long_opts[] = {
	{"jobs", required_argument, NULL, 'j'},
	{"format", required_argument, NULL, 'f'},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"show-values", no_argument, NULL, OPT_SHOW},
	{"fail-on", required_argument, NULL, OPT_FAILON},
	{"min-confidence", required_argument, NULL, OPT_MINCONF},
	{"rules", required_argument, NULL, OPT_RULES},
	{"no-default-rules", no_argument, NULL, OPT_NODEF},
	{"safe-harbor", no_argument, NULL, OPT_SAFE},
	{"exclude", required_argument, NULL, OPT_EXCL},
	{"follow", no_argument, NULL, OPT_FOLLOW},
	{"max-size", required_argument, NULL, OPT_MAXSIZE},
	{"color", required_argument, NULL, OPT_COLOR},
	{"no-progress", no_argument, NULL, OPT_NOPROG},
	{"quiet", no_argument, NULL, 'q'},
	{"op", required_argument, NULL, OPT_OP},
	{"key", required_argument, NULL, OPT_KEY},
	{"out", required_argument, NULL, 'o'},
	{"in-place", no_argument, NULL, OPT_INPLACE},
	{"force", no_argument, NULL, OPT_FORCE},
	{"manifest", required_argument, NULL, OPT_MANIFEST},
	{"case-id", required_argument, NULL, OPT_CASEID},
	{"verify", no_argument, NULL, OPT_SFLAG},
	{"strip-hps", no_argument, NULL, OPT_SFLAG},
	{"stl-zero-attributes", no_argument, NULL, OPT_SFLAG},
	{"retain-long-dates", no_argument, NULL, OPT_SFLAG},
	{"retain-modified-dates", no_argument, NULL, OPT_SFLAG},
	{"retain-patient-chars", no_argument, NULL, OPT_SFLAG},
	{"retain-device", no_argument, NULL, OPT_SFLAG},
	{"retain-institution", no_argument, NULL, OPT_SFLAG},
	{"retain-uids", no_argument, NULL, OPT_SFLAG},
	{"retain-safe-private", no_argument, NULL, OPT_SFLAG},
	{"clean-descriptors", no_argument, NULL, OPT_SFLAG},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Returns -1 when parsing succeeded, else the exit code. */
static int parse_options(struct options *o, int argc, char **argv)
{
	int c;
	o->jobs = phi_cpu_count();
	o->format = PHI_REPORT_HUMAN;
	o->color = "auto";
	o->progress = true;
	o->fail_on = PHI_SEV_QUASI;
	o->min_confidence = 0.5;
	phi_limits_default(&o->limits);
	optind = 1;
	opterr = 0; /* one-line messages of our own below */
	int li = -1;
	while ((c = getopt_long(argc, argv, ":j:f:o:qh", long_opts, &li)) != -1) {
		char *end;
		switch (c) {
		case 'j': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1024)
				return die_usage("-j needs a thread count from 1 to 1024, not '%s'", optarg);
			o->jobs = (unsigned)v;
			break;
		}
		case 'f':
			if (!strcmp(optarg, "human") || !strcmp(optarg, "text"))
				o->format = PHI_REPORT_HUMAN;
			else if (!strcmp(optarg, "json") || !strcmp(optarg, "jsonl"))
				o->format = PHI_REPORT_JSON;
			else if (!strcmp(optarg, "sarif"))
				o->format = PHI_REPORT_SARIF;
			else
				return die_usage("unknown report format '%s' (human, json, sarif)", optarg);
			break;
		case OPT_OUTPUT: o->report_out = optarg; break;
		case OPT_SHOW: o->show_values = true; break;
		case OPT_FAILON:
			if (phi_severity_parse(optarg, &o->fail_on))
				return die_usage("--fail-on takes quasi, provider or patient, not '%s'", optarg);
			break;
		case OPT_MINCONF:
			o->min_confidence = strtod(optarg, &end);
			if (*end || o->min_confidence < 0 || o->min_confidence > 1)
				return die_usage("--min-confidence takes a number from 0 to 1, not '%s'", optarg);
			break;
		case OPT_RULES:
			if (push(&o->rules, &o->nrules, optarg))
				return EXIT_ERROR;
			break;
		case OPT_NODEF: o->no_default_rules = true; break;
		case OPT_SAFE: o->safe_harbor = true; break;
		case OPT_EXCL:
			if (push(&o->exclude, &o->nexclude, optarg))
				return EXIT_ERROR;
			break;
		case OPT_FOLLOW: o->follow = true; break;
		case OPT_MAXSIZE:
			if (parse_size(optarg, &o->limits.max_file_size))
				return die_usage("--max-size takes a byte count (K, M, G suffixes), not '%s'",
				                 optarg);
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
				return die_usage("--color takes auto, always or never, not '%s'", optarg);
			o->color = optarg;
			break;
		case OPT_NOPROG: o->progress = false; break;
		case 'q': o->quiet = true; break;
		case OPT_OP:
			if (o->cmd == CMD_SCAN)
				return die_usage("--op applies to strip and filter%s", NULL);
			if (push(&o->ops, &o->nops, optarg))
				return EXIT_ERROR;
			break;
		case OPT_KEY: o->key = optarg; break;
		case 'o':
			if (o->cmd != CMD_STRIP)
				return die_usage("-o applies to strip%s", NULL);
			o->out = optarg;
			break;
		case OPT_INPLACE: o->in_place = true; break;
		case OPT_FORCE: o->force = true; break;
		case OPT_MANIFEST: o->manifest = optarg; break;
		case OPT_CASEID:
			if (o->cmd == CMD_SCAN)
				return die_usage("--case-id applies to strip and filter%s", NULL);
			if (!*optarg || strlen(optarg) > 64 || strpbrk(optarg, "/\\^=\n\r"))
				return die_usage("--case-id needs 1-64 characters without / \\ ^ or =, not '%s'",
				                 optarg);
			o->case_id = optarg;
			break;
		case OPT_SFLAG:
			if (o->cmd == CMD_SCAN)
				return die_usage("--%s applies to strip and filter", long_opts[li].name);
			for (size_t i = 0; i < sizeof sflag_opts / sizeof sflag_opts[0]; i++)
				if (!strcmp(sflag_opts[i].name, long_opts[li].name))
					o->sflags |= sflag_opts[i].flag;
			break;
		case 'h': usage_scan(stdout, o->cmd); return EXIT_CLEAN;
		case ':':
			fprintf(stderr, "%s: option '%s' needs a value (see 'phiscan %s --help')\n", prog,
			        argv[optind - 1], cmd_name(o->cmd));
			return EXIT_ERROR;
		default:
			if (optopt)
				fprintf(stderr, "%s: unrecognized option '-%c' (see 'phiscan %s --help')\n", prog,
				        optopt, cmd_name(o->cmd));
			else
				fprintf(stderr, "%s: unrecognized option '%s' (see 'phiscan %s --help')\n", prog,
				        argv[optind - 1], cmd_name(o->cmd));
			return EXIT_ERROR;
		}
	}
	return -1;
}

/* Where the compiled prefilter is cached: $PHISCAN_CACHE_DIR (empty: no cache), else
 * $XDG_CACHE_HOME/phiscan, else ~/.cache/phiscan.  NULL when there is none. */
static const char *cache_dir(char *buf, size_t cap)
{
	const char *env = getenv("PHISCAN_CACHE_DIR"), *base;
	int n;
	if (env)
		n = snprintf(buf, cap, "%s", env);
	else if ((base = getenv("XDG_CACHE_HOME")) && *base == '/')
		n = snprintf(buf, cap, "%s/phiscan", base);
	else if ((base = getenv("HOME")) && *base == '/')
		n = snprintf(buf, cap, "%s/.cache/phiscan", base);
	else
		return NULL;
	return n > 0 && (size_t)n < cap ? buf : NULL;
}

static int load_rules(struct app *a, bool safe_harbor_all)
{
	struct phi_error err = {0};
	char path[PATH_MAX + 64];
	find_datadir(a->datadir, sizeof a->datadir);
	if (!a->o.no_default_rules) {
		snprintf(path, sizeof path, "%s/rules/default.yaml", a->datadir);
		if (phi_pack_load(&a->pack, path, &err)) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			return EXIT_ERROR;
		}
	}
	for (size_t i = 0; i < a->o.nrules; i++)
		if (phi_pack_load(&a->pack, a->o.rules[i], &err)) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			return EXIT_ERROR;
		}
	if (a->pack.nrules == 0) {
		fprintf(stderr, "%s: no rules loaded\n", prog);
		return EXIT_ERROR;
	}
	/* property names whose value is an identifier (3Shape order XML): the
	 * shipped list, then $PHISCAN_PROPERTIES (a user's own, same format) */
	snprintf(path, sizeof path, "%s/rules/3shape-properties.txt", a->datadir);
	const char *extra_props = getenv("PHISCAN_PROPERTIES");
	if (phi_xml_load_properties(path, 1, &err) ||
	    (extra_props && *extra_props && phi_xml_load_properties(extra_props, 0, &err))) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return EXIT_ERROR;
	}
	snprintf(path, sizeof path, "%s/rules/names", a->datadir);
	if (phi_names_load(&a->names, path, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return EXIT_ERROR;
	}
	struct phi_engine_opts eo = {.safe_harbor = a->o.safe_harbor || safe_harbor_all,
	                             .min_confidence = a->o.min_confidence,
	                             .cache_dir = cache_dir(a->cachedir, sizeof a->cachedir)};
	if (phi_engine_new(&a->engine, &a->pack, a->names, &eo, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return EXIT_ERROR;
	}
	return -1;
}

static int load_policy(struct app *a)
{
	struct phi_error err = {0};
	char path[PATH_MAX + 64];
	phi_policy_init(&a->policy);
	a->policy.safe_harbor = a->o.safe_harbor;
	a->policy.names = a->names;
	for (size_t i = 0; i < a->o.nops; i++)
		if (phi_policy_set(&a->policy, a->o.ops[i], &err))
			goto fail;
	if (a->o.key && phi_policy_load_key(&a->policy, a->o.key, &err))
		goto fail;
	snprintf(path, sizeof path, "%s/rules/zip3-restricted.txt", a->datadir);
	if (phi_policy_load_zip3(&a->policy, path, &err))
		goto fail;
	if (phi_policy_check(&a->policy, &err))
		goto fail;
	a->sopts.flags = a->o.sflags;
	a->sopts.key = a->policy.has_key ? a->policy.key : NULL;
	a->sopts.case_id = a->o.case_id;
	return -1;
fail:
	fprintf(stderr, "%s: %s\n", prog, err.msg);
	return EXIT_ERROR;
}

static void free_app(struct app *a)
{
	phi_engine_free(a->engine);
	phi_names_free(a->names);
	phi_pack_free(&a->pack);
	phi_policy_free(&a->policy);
	free(a->o.rules);
	free(a->o.exclude);
	free(a->o.ops);
}

/* ---- the run: walk, pool, reorder, report ----
 *
 * Results are reported in walk order.  Whoever completes a file (a worker, or the
 * walker for a skipped entry) places it in the reorder ring under run.lock and
 * reports every result that is now next in order, so progress never depends on the
 * walker thread (which may be blocked on a full queue).  A worker whose file holds
 * many findings streams them (flush_findings): it waits until its file is next in
 * order, reports and drops what it has, and goes on; the worker holding the next
 * file never waits, because jobs leave the queue in walk order. */

struct job {
	struct phi_job link; /* first */
	struct phi_result res;
	char *rel;
	struct run *run;
	bool emitted;        /* reported (under run.lock) */
	bool drained;        /* back from the pool, or never in it */
};

struct run {
	struct app *a;
	struct phi_pool *pool;
	struct phi_reporter *rep;
	struct phi_manifest *man;
	struct phi_summary sum;
	pthread_mutex_t lock;
	pthread_cond_t turn;  /* next_seq advanced */
	struct job **slots;   /* reorder ring: slots[seq % cap] */
	size_t cap;
	uint64_t next_seq, seq;
	bool progress;
	struct timespec t0;
	double last_draw;
	int fail;
};

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Under run.lock. */
static void draw_progress(struct run *r, bool final)
{
	double now = since(&r->t0);
	if (!r->progress || (!final && (now < 1.0 || now - r->last_draw < 0.1)))
		return;
	r->last_draw = now;
	if (final) {
		if (now >= 1.0)
			fputs("\r\033[K", stderr);
		return;
	}
	unsigned long done = r->sum.files, seen = (unsigned long)r->seq;
	int width = 30, fill = seen ? (int)((double)width * (double)done / (double)seen) : 0;
	fprintf(stderr, "\r\033[K[%.*s%*s] %lu/%lu files, %.1f MB, %lu findings", fill,
	        "##############################", width - fill, "", done, seen,
	        (double)r->sum.bytes / 1e6, r->sum.findings);
	fflush(stderr);
}

static void free_job(struct job *j)
{
	phi_result_clear(&j->res);
	free(j->rel);
	free(j);
}

/* Under run.lock: report a finished file. */
static void emit(struct run *r, struct job *j)
{
	if (phi_reporter_file(r->rep, &j->res) || phi_summary_add(&r->sum, &j->res))
		r->fail = 1;
	if (r->man && phi_manifest_file(r->man, &j->res))
		r->fail = 1;
	draw_progress(r, false);
	j->emitted = true;
	if (j->drained)
		free_job(j);
	else
		phi_result_clear(&j->res); /* the pool still holds the job itself */
}

/* Under run.lock: put a finished job in the ring and report all that are in order. */
static int place(struct run *r, struct job *j)
{
	uint64_t s = j->res.seq;
	if (s - r->next_seq >= r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		while (s - r->next_seq >= nc)
			nc *= 2;
		struct job **t = calloc(nc, sizeof *t);
		if (!t)
			return -1;
		for (size_t i = 0; i < r->cap; i++)
			if (r->slots[i])
				t[r->slots[i]->res.seq % nc] = r->slots[i];
		free(r->slots);
		r->slots = t;
		r->cap = nc;
	}
	r->slots[s % r->cap] = j;
	bool moved = false;
	while (r->slots[r->next_seq % r->cap]) {
		struct job *k = r->slots[r->next_seq % r->cap];
		r->slots[r->next_seq % r->cap] = NULL;
		r->next_seq++;
		moved = true;
		emit(r, k);
	}
	if (moved)
		pthread_cond_broadcast(&r->turn);
	return 0;
}

static void deliver(struct run *r, struct job *j)
{
	pthread_mutex_lock(&r->lock);
	if (place(r, j))
		r->fail = 1;
	pthread_mutex_unlock(&r->lock);
}

/* The scan option flush: called by a worker whose file holds many findings. */
static int flush_findings(void *arg, struct phi_result *res)
{
	struct run *r = arg;
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (res->seq != r->next_seq)
		pthread_cond_wait(&r->turn, &r->lock);
	if (phi_reporter_file(r->rep, res) || phi_summary_add_findings(&r->sum, res))
		rc = PHI_EIO;
	if (r->man && phi_manifest_changes(r->man, res))
		rc = PHI_EIO;
	phi_result_drop_findings(res);
	draw_progress(r, false);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* Jobs come back from the pool after the worker delivered them. */
static void drain(struct run *r, bool block)
{
	struct phi_job *d;
	while ((d = phi_pool_done(r->pool, block))) {
		struct job *j = (struct job *)d;
		pthread_mutex_lock(&r->lock);
		j->drained = true;
		bool done = j->emitted;
		pthread_mutex_unlock(&r->lock);
		if (done)
			free_job(j);
	}
}

static int on_entry(void *arg, const struct phi_walk_entry *e)
{
	struct run *r = arg;
	struct job *j = calloc(1, sizeof *j);
	if (!j || !(j->res.path = strdup(e->path)) || !(j->rel = strdup(e->rel))) {
		if (j)
			free(j->res.path);
		free(j);
		return PHI_ENOMEM;
	}
	j->run = r;
	j->res.format = "unknown";
	pthread_mutex_lock(&r->lock);
	j->res.seq = r->seq++;
	pthread_mutex_unlock(&r->lock);
	if (e->kind != PHI_WALK_FILE) {
		j->drained = true;
		j->res.status = e->kind == PHI_WALK_SKIP ? PHI_SKIPPED : PHI_UNREADABLE;
		j->res.reason = strdup(e->reason ? e->reason : "not scanned");
		deliver(r, j);
	} else {
		phi_pool_submit(r->pool, &j->link);
	}
	drain(r, false);
	return 0;
}

static void work(void *state, struct phi_job *pj)
{
	struct job *j = (struct job *)pj;
	phi_scan_file(state, j->res.path, j->rel, &j->res);
	deliver(j->run, j);
}

static int exit_code_for(const struct phi_summary *s, enum phi_severity fail_on)
{
	if (s->unreadable)
		return EXIT_ERROR;
	for (int i = (int)fail_on; i <= PHI_SEV_PATIENT; i++)
		if (s->by_severity[i])
			return EXIT_FOUND;
	return EXIT_CLEAN;
}

static FILE *open_report(struct app *a)
{
	FILE *fp;
	if (!a->o.report_out) {
		fp = a->o.cmd == CMD_FILTER ? stderr : stdout;
	} else if (!(fp = fopen(a->o.report_out, "w"))) {
		fprintf(stderr, "%s: %s: cannot write the report: %s\n", prog, a->o.report_out,
		        strerror(errno));
		return NULL;
	}
	/* reports can hold millions of lines: write them in large blocks, except to a
	 * terminal, where each line should show as it comes */
	if (fp != stderr && !isatty(fileno(fp)))
		setvbuf(fp, NULL, _IOFBF, 1 << 20);
	return fp;
}

static bool want_color(const struct options *o, FILE *fp)
{
	if (!strcmp(o->color, "always"))
		return true;
	if (!strcmp(o->color, "never") || getenv("NO_COLOR"))
		return false;
	return isatty(fileno(fp));
}

/* The real path dir will have (its parent resolved when it does not exist yet);
 * NULL on error (message printed). */
static char *future_realpath(const char *dir)
{
	char *rp = realpath(dir, NULL), *copy, *parent_rp, *out = NULL;
	if (rp || errno != ENOENT) {
		if (!rp)
			fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
		return rp;
	}
	copy = strdup(dir);
	if (!copy)
		return NULL;
	char *slash = strrchr(copy, '/');
	while (slash && slash > copy && slash[1] == 0) { /* "out/" */
		*slash = 0;
		slash = strrchr(copy, '/');
	}
	const char *base = slash ? slash + 1 : copy;
	if (slash == copy)
		parent_rp = strdup("/");
	else {
		if (slash)
			*slash = 0;
		parent_rp = realpath(slash ? copy : ".", NULL);
	}
	if (!parent_rp)
		fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
	else if (asprintf(&out, "%s/%s", strcmp(parent_rp, "/") ? parent_rp : "", base) < 0)
		out = NULL;
	free(parent_rp);
	free(copy);
	return out;
}

static int run_tree(struct app *a, char **paths, int npaths)
{
	struct options *o = &a->o;
	struct run r = {.a = a};
	struct phi_worker **workers = NULL;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.turn, NULL);
	char *out_real = NULL;
	int rc = EXIT_ERROR;
	FILE *fp = NULL;

	if (o->cmd == CMD_STRIP) {
		if (!o->out == !o->in_place) {
			fprintf(stderr, "%s: strip needs exactly one of -o OUT or --in-place\n", prog);
			return EXIT_ERROR;
		}
		if (o->out) {
			if (!(out_real = future_realpath(o->out)))
				return EXIT_ERROR;
			/* OUT inside an input tree would be rescanned and mirrored into itself */
			for (int i = 0; i < npaths; i++) {
				char *in = realpath(paths[i], NULL);
				size_t n = in ? strlen(in) : 0;
				bool inside = in && !strncmp(out_real, in, n) &&
				              (out_real[n] == '/' || out_real[n] == 0);
				free(in);
				if (inside) {
					fprintf(stderr, "%s: %s: the output directory is inside the input %s\n",
					        prog, o->out, paths[i]);
					free(out_real);
					return EXIT_ERROR;
				}
			}
			if (mkdir(out_real, 0777) && errno != EEXIST) {
				fprintf(stderr, "%s: %s: cannot create: %s\n", prog, o->out, strerror(errno));
				free(out_real);
				return EXIT_ERROR;
			}
		}
	}
	struct phi_scan_opts so = {
		.engine = a->engine, .limits = &o->limits, .show_values = o->show_values,
		.strip = o->cmd == CMD_STRIP, .in_place = o->in_place, .force = o->force,
		.out_root = out_real, .policy = &a->policy, .sopts = &a->sopts,
		.flush = flush_findings, .flush_arg = &r, .flush_at = FLUSH_FINDINGS,
	};
	if (!(fp = open_report(a)))
		goto out;
	struct phi_report_opts ro = {.format = o->format, .color = want_color(o, fp),
	                             .show_values = o->show_values, .quiet = o->quiet,
	                             .tool_version = PHI_VERSION, .pack = &a->pack};
	if (phi_reporter_new(&r.rep, fp, &ro)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	if (o->cmd == CMD_STRIP && (o->manifest || out_real)) {
		char mpath[PATH_MAX + 32];
		struct phi_error err = {0};
		snprintf(mpath, sizeof mpath, "%s", o->manifest ? o->manifest : "");
		if (!o->manifest)
			snprintf(mpath, sizeof mpath, "%s/phiscan-manifest.json", out_real);
		if (phi_manifest_open(&r.man, mpath, &a->policy, &err)) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			goto out;
		}
	}
	workers = calloc(o->jobs, sizeof *workers);
	if (!workers)
		goto out;
	for (unsigned i = 0; i < o->jobs; i++)
		if (phi_worker_new(&workers[i], &so)) {
			fprintf(stderr, "%s: out of memory starting workers\n", prog);
			goto out;
		}
	if (phi_pool_new(&r.pool, o->jobs, (size_t)o->jobs * 4, work, (void *const *)workers)) {
		fprintf(stderr, "%s: cannot start worker threads\n", prog);
		goto out;
	}
	r.progress = o->progress && !o->quiet && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	struct phi_walk_opts wo = {.follow_symlinks = o->follow, .max_depth = o->limits.max_depth,
	                           .exclude = o->exclude, .skip_dir = out_real};
	int wr = phi_walk((const char *const *)paths, (size_t)npaths, &wo, on_entry, &r);
	phi_pool_close(r.pool);
	drain(&r, true);
	phi_pool_free(r.pool);
	r.pool = NULL;
	draw_progress(&r, true);
	if (wr)
		fprintf(stderr, "%s: the walk stopped: %s\n", prog, phi_strerror(wr));
	r.sum.seconds = since(&r.t0);
	r.sum.exit_code = (wr || r.fail) ? EXIT_ERROR : exit_code_for(&r.sum, o->fail_on);
	if (out_real) {
		/* every copy durable before the manifest says it exists */
		int d = open(out_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d < 0 || syncfs(d)) {
			fprintf(stderr, "%s: %s: cannot flush the copies to disk: %s\n", prog, o->out,
			        strerror(errno));
			r.sum.exit_code = EXIT_ERROR;
		}
		if (d >= 0)
			close(d);
	}
	if (r.man) {
		struct phi_error err = {0};
		if (phi_manifest_close(r.man, &r.sum, &err)) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			r.sum.exit_code = EXIT_ERROR;
		}
		r.man = NULL;
	}
	if (phi_reporter_end(r.rep, &r.sum))
		r.sum.exit_code = EXIT_ERROR;
	rc = r.sum.exit_code;
out:
	if (r.pool) {
		phi_pool_close(r.pool);
		drain(&r, true);
		phi_pool_free(r.pool);
	}
	for (unsigned i = 0; workers && i < o->jobs; i++)
		phi_worker_free(workers[i]);
	free(workers);
	phi_reporter_free(r.rep);
	phi_summary_clear(&r.sum);
	free(r.slots);
	free(out_real);
	pthread_cond_destroy(&r.turn);
	pthread_mutex_destroy(&r.lock);
	if (fp && fp != stdout && fp != stderr && fclose(fp))
		rc = EXIT_ERROR;
	return rc;
}

struct filter_run {
	struct phi_reporter *rep;
	struct phi_summary *sum;
};

/* The filter has one stream: findings are reported as they come. */
static int flush_filter(void *arg, struct phi_result *res)
{
	struct filter_run *f = arg;
	int rc = phi_reporter_file(f->rep, res) || phi_summary_add_findings(f->sum, res) ? PHI_EIO : 0;
	phi_result_drop_findings(res);
	return rc;
}

static int run_filter(struct app *a)
{
	struct phi_scan_opts so = {.engine = a->engine, .limits = &a->o.limits,
	                           .show_values = a->o.show_values, .strip = true,
	                           .policy = &a->policy, .sopts = &a->sopts};
	struct phi_worker *w = NULL;
	struct phi_reporter *rep = NULL;
	struct phi_summary sum = {0};
	struct phi_result res = {0};
	struct timespec t0;
	int rc = EXIT_ERROR;
	FILE *fp = open_report(a);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct phi_report_opts ro = {.format = a->o.format, .color = fp && want_color(&a->o, fp),
	                             .show_values = a->o.show_values, .quiet = a->o.quiet,
	                             .tool_version = PHI_VERSION, .pack = &a->pack};
	struct filter_run fr = {.sum = &sum};
	so.flush = flush_filter;
	so.flush_arg = &fr;
	so.flush_at = FLUSH_FINDINGS;
	if (!fp || phi_reporter_new(&rep, fp, &ro))
		goto out;
	fr.rep = rep;
	if (phi_worker_new(&w, &so))
		goto out;
	res.path = strdup("<stdin>");
	int sr = phi_scan_stream(w, STDIN_FILENO, STDOUT_FILENO, &res);
	if (fflush(stdout))
		sr = PHI_EIO;
	if (sr && res.status != PHI_UNREADABLE) {
		res.status = PHI_UNREADABLE;
		free(res.reason);
		res.reason = strdup("cannot write standard output");
	}
	phi_reporter_file(rep, &res);
	phi_summary_add(&sum, &res);
	sum.seconds = since(&t0);
	sum.exit_code = exit_code_for(&sum, a->o.fail_on);
	phi_reporter_end(rep, &sum);
	rc = sum.exit_code;
out:
	phi_result_clear(&res);
	phi_summary_clear(&sum);
	phi_reporter_free(rep);
	phi_worker_free(w);
	if (fp && fp != stdout && fp != stderr)
		fclose(fp);
	return rc;
}

/* ---- rules subcommands ---- */

static void on_example_fail(void *arg, const struct phi_rule *r, const char *text,
                            const char *why)
{
	(void)arg;
	printf("FAIL %s (%s:%d): %s: \"%s\"\n", r->id, r->source, r->line, why, text);
}

static int cmd_rules(int argc, char **argv)
{
	struct app a = {0};
	const char *sub = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(sub, "list") && strcmp(sub, "test") && strcmp(sub, "export")) {
		fprintf(stderr, "usage: phiscan rules list|test|export [--rules FILE] [--no-default-rules]\n");
		return EXIT_ERROR;
	}
	a.o.cmd = CMD_SCAN;
	if ((rc = parse_options(&a.o, argc - 1, argv + 1)) >= 0) {
		free_app(&a);
		return rc;
	}
	/* list and test see every rule, safe-harbor ones included */
	if ((rc = load_rules(&a, true)) >= 0) {
		free_app(&a);
		return rc;
	}
	size_t n = phi_engine_rule_count(a.engine);
	if (!strcmp(sub, "list")) {
		printf("%-24s %-11s %-9s %-10s %-9s %s\n", "ID", "CLASS", "SEVERITY", "VALIDATOR",
		       "PREFILTER", "DESCRIPTION");
		for (size_t i = 0; i < n; i++) {
			const char *pf;
			const struct phi_rule *r = phi_engine_rule(a.engine, i, &pf);
			printf("%-24s %-11s %-9s %-10s %-9s %s%s\n", r->id, r->cls->name,
			       phi_severity_name(r->severity), r->validator ? r->validator : "-", pf,
			       r->description ? r->description : "", r->safe_harbor ? " [--safe-harbor]" : "");
		}
		rc = EXIT_CLEAN;
	} else if (!strcmp(sub, "export")) {
		/* one PCRE2 pattern per line, for `rg -P -f` side-by-side benchmarks */
		for (size_t i = 0; i < n; i++) {
			const struct phi_rule *r = phi_engine_rule(a.engine, i, NULL);
			if (!r->safe_harbor || a.o.safe_harbor)
				printf("%s\n", r->pattern);
		}
		rc = EXIT_CLEAN;
	} else {
		size_t count = 0;
		int failed = phi_engine_test_examples(a.engine, on_example_fail, NULL, &count);
		if (failed < 0) {
			fprintf(stderr, "%s: rules test: %s\n", prog, phi_strerror(failed));
			rc = EXIT_ERROR;
		} else {
			printf("rules test: %zu rules, %zu examples, %d failed\n", n, count, failed);
			rc = failed ? EXIT_FOUND : EXIT_CLEAN;
		}
	}
	free_app(&a);
	return rc;
}

int main(int argc, char **argv)
{
	struct app a = {0};
	int rc;

	if (argc < 2) {
		usage_main(stderr);
		return EXIT_ERROR;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("phiscan %s\n", PHI_VERSION);
		return EXIT_CLEAN;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage_main(stdout);
		return EXIT_CLEAN;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: cannot initialise libsodium\n", prog);
		return EXIT_ERROR;
	}
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	{
		/* before any worker starts: DCMTK's data dictionary */
		struct phi_error ferr = {0};
		if (phi_formats_init(&ferr)) {
			fprintf(stderr, "%s: %s\n", prog, ferr.msg);
			return EXIT_ERROR;
		}
	}
	if (!strcmp(cmd, "scan"))
		a.o.cmd = CMD_SCAN;
	else if (!strcmp(cmd, "strip"))
		a.o.cmd = CMD_STRIP;
	else if (!strcmp(cmd, "filter"))
		a.o.cmd = CMD_FILTER;
	else {
		fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
		usage_main(stderr);
		return EXIT_ERROR;
	}
	if ((rc = parse_options(&a.o, argc - 1, argv + 1)) >= 0)
		goto done;
	int npaths = argc - 1 - optind;
	char **paths = argv + 1 + optind;
	if (a.o.cmd != CMD_FILTER && npaths < 1) {
		fprintf(stderr, "%s: %s needs at least one PATH\n", prog, cmd);
		rc = EXIT_ERROR;
		goto done;
	}
	if (a.o.cmd == CMD_FILTER && npaths > 0) {
		fprintf(stderr, "%s: filter reads standard input; it takes no PATH\n", prog);
		rc = EXIT_ERROR;
		goto done;
	}
	if ((rc = load_rules(&a, false)) >= 0 || (rc = load_policy(&a)) >= 0)
		goto done;
	rc = a.o.cmd == CMD_FILTER ? run_filter(&a) : run_tree(&a, paths, npaths);
done:
	free_app(&a);
	return rc;
}
