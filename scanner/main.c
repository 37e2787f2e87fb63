/* main.c - the phiscan command line: scan, strip, filter, rules, config, explain.
 *
 * The only place that prints to the terminal or exits.  Global initialisation (rule
 * packs, PCRE2 and Vectorscan compilation, gazetteer, libsodium) happens here before
 * any worker starts; then this thread walks and plans the run, N threads (this one
 * among them) harvest the cases and scan the files, claiming them in walk order, and
 * results are reported in walk order (a reorder ring keyed by sequence number), so
 * the report is the same whatever the thread count.
 *
 * Exit codes: 0 nothing found, 1 identifiers found (at or above --fail-on),
 * 2 usage error, runtime error, or a file that could not be scanned (fail closed).
 *
 * Settings come from three places, later ones winning: built-in defaults, the
 * nearest .phiscan.yaml (config.h), the command line.  List options (--rules,
 * --exclude, --op) add to the file's lists; the command line's --op comes last and
 * so wins for the same class.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../formats/xml.h"
#include "baseline.h"
#include "config.h"
#include "archive.h"
#include "engine.h"
#include "finding.h"
#include "ignore.h"
#include "manifest.h"
#include "names.h"
#include "ops.h"
#include "plan.h"
#include "pool.h"
#include "report.h"
#include "rules.h"
#include "scan.h"
#include "version.h"
#include "walk.h"

/* rules/default.yaml as the build loaded and compiled it: phi_default_pack, in
 * $(BUILD)/default_pack.c, written by rules/src/packcheck.c (rules.h). */

#define EXIT_CLEAN 0
#define EXIT_FOUND 1
#define EXIT_ERROR 2

/* Findings a worker holds for one file before streaming them to the report. */
#define FLUSH_FINDINGS 4096
/* A worker starts no entry this many per thread or more ahead of the next one to
 * report (the reorder ring's size), nor, unless its entry is the next, while the
 * results waiting in the ring hold HOLD_FINDINGS findings: a slow file (a 150 MB
 * text) lets the other threads run on through thousands of small files, and what
 * waits for it stays a bounded heap (the ring's results, each under FLUSH_FINDINGS). */
#define RING_PER_THREAD 4096
#define HOLD_FINDINGS 65536

enum cmd { CMD_SCAN, CMD_STRIP, CMD_FILTER, CMD_DIGEST };

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
	bool drop;                  /* --drop-unstrippable */
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
	unsigned case_depth;        /* --case-depth: 0 a root is a case, 1 each entry below */
	const char *roster;         /* --roster FILE */
	bool no_sweep;              /* --no-case-sweep */
	unsigned sflags;            /* PHI_SO_* */
	const char *out;
	const char *manifest;
	const char *report_out;
	struct phi_limits limits;
	const char *config;         /* --config FILE */
	bool no_config;
	const char *files_from;     /* --files-from FILE ("-": stdin) */
	bool nul;                   /* -0: --files-from is NUL-separated */
	bool stats;
	const char *baseline;       /* report only findings not in it */
	const char *baseline_out;   /* record the findings of this run */
	const char **archive_limits; /* --archive-limit specs as given */
	size_t narchive_limits;
	/* set on the command line: the configuration does not override them */
	bool set_min_confidence, set_fail_on, set_max_size, set_safe_harbor, set_no_default;
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
	struct phi_config cfg;      /* the .phiscan.yaml in force (empty when none) */
	char **listed;              /* --files-from paths (owned) */
	size_t nlisted;
	struct phi_baseline *base_known;  /* --baseline */
	struct phi_baseline *base_record; /* --baseline-out (also fingerprints) */
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
	        "  digest --key K PATH...  the keyed input digests a strip's manifest records\n"
	        "  rules list|test|export  show, test or export the rule packs\n"
	        "  explain RULE            what a rule finds, with its examples (masked)\n"
	        "  config check [FILE]     validate a .phiscan.yaml (default: the nearest one)\n"
	        "  --version               version of phiscan and of its libraries\n"
	        "\n"
	        "Run 'phiscan <command> --help' for the options of a command; man phiscan for all.\n");
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
	 "DICOM: keep the private elements of PS3.15 Table E.3.10-1"},
	{"clean-descriptors", PHI_SO_CLEAN_DESCRIPTORS,
	 "DICOM: keep descriptions with identifiers cleaned out"},
};

static void usage_digest(FILE *fp)
{
	fprintf(fp,
	        "usage: phiscan digest --key FILE [options] PATH...\n\n"
	        "The keyed input digest a strip with the same key records for each file\n"
	        "(input_hmac_sha256 in its manifest), one line a file in walk order:\n"
	        "DIGEST  KIND  PATH.  Run on the originals, it tells which one a copy came from;\n"
	        "without the key no one can.  Paths are masked like a scan's unless\n"
	        "--show-values.  Exit 0, or 2 when a file could not be read.\n\n"
	        "options:\n"
	        "      --key FILE          the key the strip was given\n"
	        "  -j, --jobs N            worker threads (default: all cores)\n"
	        "      --show-values       print paths unmasked\n"
	        "      --exclude GLOB      skip paths matching GLOB (base name or relative path)\n"
	        "      --follow            follow symlinks that leave the tree\n"
	        "      --files-from FILE   also digest the paths listed in FILE ('-': standard input)\n"
	        "  -0, --null              --files-from paths end with NUL (find -print0)\n"
	        "      --no-progress       no progress bar on a terminal\n"
	        "      --config FILE, --no-config, --rules FILE, --no-default-rules, --case-depth N,\n"
	        "      --roster FILE, --no-case-sweep: as for scan (they decide what is masked)\n");
}

static void usage_scan(FILE *fp, enum cmd c)
{
	if (c == CMD_DIGEST) {
		usage_digest(fp);
		return;
	}
	fprintf(fp, "usage: phiscan %s [options] %s\n\noptions:\n",
	        c == CMD_SCAN ? "scan" : c == CMD_STRIP ? "strip" : "filter",
	        c == CMD_SCAN ? "PATH..." : c == CMD_STRIP ? "PATH... (-o OUT | --in-place)" : "< IN > OUT");
	fprintf(fp,
	        "  -j, --jobs N            worker threads (default: all cores)\n"
	        "  -f, --format FMT        report format: human (default), json, sarif, junit\n"
	        "      --output FILE       write the report to FILE instead of %s\n"
	        "      --show-values       print identifier values in reports (off: values are masked)\n"
	        "      --fail-on SEV       exit 1 only for findings of severity SEV or above:\n"
	        "                          quasi (default: any finding), provider, patient\n"
	        "      --min-confidence X  drop matches below confidence X (default 0.5)\n"
	        "      --rules FILE        add a rule pack or allowlist (YAML); repeatable\n"
	        "      --no-default-rules  do not load the default rule pack\n"
	        "      --safe-harbor       also report every date element but the year and bare ZIPs\n"
	        "      --exclude GLOB      skip paths matching GLOB (base name or relative path)\n"
	        "      --case-depth N      0: each root is one case (default); 1: each entry below it\n"
	        "      --roster FILE       CSV of known patients (name, first, last, id, dob) to sweep for\n"
	        "      --no-case-sweep     do not harvest and sweep for the case's own identifiers\n"
	        "      --follow            follow symlinks that leave the scanned tree\n"
	        "      --max-size BYTES    report larger files as unscanned (default: no limit)\n"
	        "      --archive-limit NAME=N  archives: depth (4), entries (65536), entry-size (1G),\n"
	        "                          total (8G), ratio (100); exceeding one is an error\n"
	        "      --color WHEN        auto (default), always, never\n"
	        "      --no-progress       no progress bar on a terminal\n"
	        "  -q, --quiet             print nothing but errors (on standard error); the exit\n"
	        "                          code tells the outcome\n"
	        "      --stats             totals by format, class and status, bytes and time\n"
	        "                          (on standard error)\n"
	        "      --config FILE       settings from FILE instead of the nearest .phiscan.yaml\n"
	        "      --no-config         no .phiscan.yaml\n",
	        c == CMD_FILTER ? "standard error" : "standard output");
	if (c != CMD_FILTER)
		fprintf(fp,
		        "      --files-from FILE   also scan the paths listed in FILE, one a line ('-':\n"
		        "                          standard input)\n"
		        "  -0, --null              --files-from paths end with NUL (find -print0)\n");
	if (c == CMD_SCAN)
		fprintf(fp,
		        "      --baseline FILE     report only findings not recorded in FILE\n"
		        "      --baseline-out FILE record this run's findings in FILE (keyed\n"
		        "                          fingerprints, no identifiers)\n"
		        "      --key FILE          baseline key (default: FILE.key beside the baseline,\n"
		        "                          created by --baseline-out)\n");
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
		        "      --drop-unstrippable leave out files with findings in a format phiscan\n"
		        "                          cannot strip (PDF, WebP, HEIF) instead of failing\n"
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
	return c == CMD_SCAN ? "scan" : c == CMD_STRIP ? "strip" : c == CMD_DIGEST ? "digest" : "filter";
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
	OPT_FOLLOW, OPT_MAXSIZE, OPT_COLOR, OPT_NOPROG, OPT_OP, OPT_KEY, OPT_INPLACE, OPT_FORCE, OPT_DROP,
	OPT_MANIFEST, OPT_OUTPUT, OPT_CASEID, OPT_SFLAG, OPT_CONFIG, OPT_NOCONFIG, OPT_FILESFROM,
	OPT_STATS, OPT_BASELINE, OPT_BASELINE_OUT, OPT_ARCHLIMIT,
	OPT_CASEDEPTH, OPT_ROSTER, OPT_NOSWEEP,
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
	{"case-depth", required_argument, NULL, OPT_CASEDEPTH},
	{"roster", required_argument, NULL, OPT_ROSTER},
	{"no-case-sweep", no_argument, NULL, OPT_NOSWEEP},
	{"follow", no_argument, NULL, OPT_FOLLOW},
	{"max-size", required_argument, NULL, OPT_MAXSIZE},
	{"archive-limit", required_argument, NULL, OPT_ARCHLIMIT},
	{"color", required_argument, NULL, OPT_COLOR},
	{"no-progress", no_argument, NULL, OPT_NOPROG},
	{"quiet", no_argument, NULL, 'q'},
	{"op", required_argument, NULL, OPT_OP},
	{"key", required_argument, NULL, OPT_KEY},
	{"out", required_argument, NULL, 'o'},
	{"in-place", no_argument, NULL, OPT_INPLACE},
	{"force", no_argument, NULL, OPT_FORCE},
	{"drop-unstrippable", no_argument, NULL, OPT_DROP},
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
	{"config", required_argument, NULL, OPT_CONFIG},
	{"no-config", no_argument, NULL, OPT_NOCONFIG},
	{"files-from", required_argument, NULL, OPT_FILESFROM},
	{"null", no_argument, NULL, '0'},
	{"stats", no_argument, NULL, OPT_STATS},
	{"baseline", required_argument, NULL, OPT_BASELINE},
	{"baseline-out", required_argument, NULL, OPT_BASELINE_OUT},
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
	while ((c = getopt_long(argc, argv, ":j:f:o:qh0", long_opts, &li)) != -1) {
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
			else if (!strcmp(optarg, "junit"))
				o->format = PHI_REPORT_JUNIT;
			else
				return die_usage("unknown report format '%s' (human, json, sarif, junit)",
				                 optarg);
			break;
		case OPT_OUTPUT: o->report_out = optarg; break;
		case OPT_SHOW: o->show_values = true; break;
		case OPT_FAILON:
			if (phi_severity_parse(optarg, &o->fail_on))
				return die_usage("--fail-on takes quasi, provider or patient, not '%s'", optarg);
			o->set_fail_on = true;
			break;
		case OPT_MINCONF:
			o->min_confidence = strtod(optarg, &end);
			if (*end || o->min_confidence < 0 || o->min_confidence > 1)
				return die_usage("--min-confidence takes a number from 0 to 1, not '%s'", optarg);
			o->set_min_confidence = true;
			break;
		case OPT_RULES:
			if (push(&o->rules, &o->nrules, optarg))
				return EXIT_ERROR;
			break;
		case OPT_NODEF: o->no_default_rules = o->set_no_default = true; break;
		case OPT_SAFE: o->safe_harbor = o->set_safe_harbor = true; break;
		case OPT_EXCL:
			if (push(&o->exclude, &o->nexclude, optarg))
				return EXIT_ERROR;
			break;
		case OPT_FOLLOW: o->follow = true; break;
		case OPT_CASEDEPTH:
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				return die_usage("--case-depth is 0 or 1, not '%s'", optarg);
			o->case_depth = (unsigned)(optarg[0] - '0');
			break;
		case OPT_ROSTER: o->roster = optarg; break;
		case OPT_NOSWEEP: o->no_sweep = true; break;
		case OPT_MAXSIZE:
			if (parse_size(optarg, &o->limits.max_file_size))
				return die_usage("--max-size takes a byte count (K, M, G suffixes), not '%s'",
				                 optarg);
			o->set_max_size = true;
			break;
		case OPT_ARCHLIMIT: {
			struct phi_error aerr = {0};
			if (phi_archive_limit_set(&o->limits, optarg, &aerr))
				return die_usage("%s", aerr.msg);
			/* kept: re-applied over .phiscan.yaml's (the command line wins) */
			if (push(&o->archive_limits, &o->narchive_limits, optarg))
				return EXIT_ERROR;
			break;
		}
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
		case OPT_DROP:
			if (o->cmd != CMD_STRIP)
				return die_usage("--drop-unstrippable applies to strip%s", NULL);
			o->drop = true;
			break;
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
		case OPT_CONFIG: o->config = optarg; break;
		case OPT_NOCONFIG: o->no_config = true; break;
		case OPT_FILESFROM:
			if (o->cmd == CMD_FILTER)
				return die_usage("--files-from applies to scan and strip%s", NULL);
			o->files_from = optarg;
			break;
		case '0': o->nul = true; break;
		case OPT_STATS: o->stats = true; break;
		case OPT_BASELINE:
		case OPT_BASELINE_OUT:
			if (o->cmd != CMD_SCAN)
				return die_usage("--%s applies to scan", long_opts[li].name);
			*(c == OPT_BASELINE ? &o->baseline : &o->baseline_out) = optarg;
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
	/* digest takes the walk's options, and those that decide what its paths mask */
	if (o->cmd == CMD_DIGEST) {
		const char *bad = o->nops ? "--op" : o->out ? "-o" : o->in_place ? "--in-place"
		                : o->force ? "--force" : o->manifest ? "--manifest"
		                : o->case_id ? "--case-id" : o->sflags ? "a strip option"
		                : o->baseline || o->baseline_out ? "--baseline"
		                : o->report_out ? "--output" : o->format != PHI_REPORT_HUMAN ? "--format"
		                : NULL;
		if (bad)
			return die_usage("%s does not apply to digest", bad);
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
		/* the very pack the build loaded and compiled: its records come from
		 * phi_default_pack, not libyaml, and its rules compile on first use */
		if (phi_pack_load_builtin(&a->pack, path, &phi_default_pack, &err)) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			return EXIT_ERROR;
		}
	}
	/* the configuration's packs and allowlist, then the command line's packs */
	for (size_t i = 0; i < a->cfg.npacks; i++)
		if (phi_pack_load(&a->pack, a->cfg.packs[i], &err)) {
			fprintf(stderr, "%s: %s (from %s)\n", prog, err.msg, a->cfg.path);
			return EXIT_ERROR;
		}
	if (phi_config_add_allow(&a->cfg, &a->pack, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return EXIT_ERROR;
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
	                             .cache_dir = cache_dir(a->cachedir, sizeof a->cachedir),
	                             /* the default pack's database, built in: no cache file */
	                             .prebuilt = phi_default_prebuilt,
	                             .nprebuilt = phi_default_nprebuilt,
	                             /* and its PCRE2 codes: decoded, not compiled */
	                             .codes = &phi_default_codes};
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
	/* the file's operators (strip and filter only), then the command line's */
	for (size_t i = 0; a->o.cmd != CMD_SCAN && i < a->cfg.nops; i++)
		if (phi_policy_set(&a->policy, a->cfg.ops[i], &err))
			goto fail;
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
	phi_baseline_free(a->base_known);
	phi_baseline_free(a->base_record);
	for (size_t i = 0; i < a->nlisted; i++)
		free(a->listed[i]);
	free(a->listed);
	phi_config_free(&a->cfg);
	phi_engine_free(a->engine);
	phi_names_free(a->names);
	phi_pack_free(&a->pack);
	phi_policy_free(&a->policy);
	free(a->o.rules);
	free(a->o.exclude);
	free(a->o.archive_limits);
	free(a->o.ops);
}

/* ---- the run: walk, plan, scan on the pool, reorder, report ----
 *
 * The walk is recorded and planned first (plan.h); then every plan entry is an index
 * the pool's threads claim in ascending order (pool.h), the calling thread among
 * them.  Results are reported in walk order: whoever finishes a file places it in
 * the reorder ring under run.lock and reports every result that is now next in
 * order.  A worker whose file holds many findings streams them (flush_findings): it
 * waits until its file is next in order, reports and drops what it has, and goes on;
 * the worker holding the next file never waits, because entries are claimed in walk
 * order.  A worker does not start an entry RING_PER_THREAD entries per thread or more
 * ahead of the next one to report, or while the results waiting hold HOLD_FINDINGS
 * findings (it waits for the next one to be reported), so the ring has a fixed size
 * and the results waiting in it stay bounded however slow one file is (the queue
 * this replaced bounded the jobs waiting to start, not the results waiting to be
 * reported). */

struct job {
	struct phi_result res;
	const char *rel;     /* written under this relative path (strip -o; the plan's) */
	const char *open;    /* the path opened (the plan's; res.path is the masked one) */
	struct job *done;    /* reported, to be freed after the lock (place) */
};

/* A ring slot for an entry that could not be given a job (out of memory): it is
 * counted as a failure when its turn comes, so the entries after it still report. */
static struct job oom_job;

struct run {
	struct app *a;
	struct phi_reporter *rep;
	struct phi_manifest *man;
	struct phi_summary sum;
	pthread_mutex_t lock;
	pthread_cond_t turn;  /* next_seq advanced */
	struct job **slots;   /* reorder ring: slots[seq % cap] */
	size_t cap;           /* a power of two; no entry starts cap or more ahead */
	/* written under lock; read without it by a worker deciding whether to wait */
	_Atomic uint64_t next_seq;
	_Atomic size_t held;  /* findings of the results waiting in the ring (the same) */
	uint64_t seq;         /* entries in the run (progress) */
	bool progress;
	struct timespec t0;
	double last_draw;
	int fail;
	bool oom;             /* an entry could not be scanned for lack of memory */
	unsigned long known;  /* findings left out because --baseline has them */
	struct phi_ignore *ig;/* the current root's .phiscanignore files */
	struct phi_plan plan; /* the walk, recorded; then its cases and names */
	FILE *dfp;            /* digest: where its lines go */
	size_t cur_root;      /* index of the root being walked */
	bool cur_dir;         /* it is a directory */
	/* --files-from: roots from listed_from on are the listed paths; each one's part
	 * below the list's common root starts at listed_off[i - listed_from] */
	size_t listed_from;
	size_t *listed_off;
	char ig_msg[600];
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
	if (fill > width)
		fill = width; /* archive entries count as files the walk did not see */
	fprintf(stderr, "\r\033[K[%.*s%*s] %lu/%lu files, %.1f MB, %lu findings", fill,
	        "##############################", width - fill, "", done, seen,
	        (double)r->sum.bytes / 1e6, r->sum.findings);
	fflush(stderr);
}

static void free_job(struct job *j)
{
	phi_result_clear(&j->res);
	free(j);
}

/* Under run.lock, before a result is reported: record its findings for
 * --baseline-out, then drop those --baseline knows. */
static int baseline_pass(struct run *r, struct phi_result *res)
{
	struct app *a = r->a;
	for (size_t i = 0; a->base_record && i < res->n; i++)
		if (res->v[i].has_fp && phi_baseline_add(a->base_record, res->v[i].fp, res->v[i].rule))
			return PHI_ENOMEM;
	if (a->base_known)
		r->known += phi_baseline_filter(a->base_known, res);
	return 0;
}

/* Under run.lock: a digested file's line, DIGEST  KIND  PATH (the masked path
 * unless --show-values, as the plan made it); a file not read is an error line on
 * standard error and the run's exit 2; a skipped one (a FIFO) a note there. */
static void emit_digest(struct run *r, const struct phi_result *res)
{
	r->sum.files++;
	if (res->status == PHI_SCANNED) {
		r->sum.scanned++;
		if (fprintf(r->dfp, "%s  %s  %s\n", res->in_sha256, res->in_kind, res->path) < 0)
			r->fail = 1;
	} else if (res->status == PHI_SKIPPED) {
		r->sum.skipped++;
		fprintf(stderr, "%s: skipped: %s\n", res->path, res->reason ? res->reason : "");
	} else {
		r->sum.unreadable++;
		fprintf(stderr, "%s: error: %s\n", res->path, res->reason ? res->reason : "not read");
	}
}

/* Under run.lock: report a finished file. */
static void emit(struct run *r, struct job *j)
{
	if (j == &oom_job) {
		r->fail = 1;
		r->oom = true;
		return;
	}
	if (r->a->o.cmd == CMD_DIGEST) {
		emit_digest(r, &j->res);
		draw_progress(r, false);
		return;
	}
	if (baseline_pass(r, &j->res))
		r->fail = 1;
	if (phi_reporter_file(r->rep, &j->res) || phi_summary_add(&r->sum, &j->res))
		r->fail = 1;
	if (r->man && phi_manifest_file(r->man, &j->res))
		r->fail = 1;
	draw_progress(r, false);
}

/* Under run.lock: put the finished job of entry seq in the ring and report all that
 * are in order.  The slot is free: seq is less than cap ahead of next_seq (work).
 * The jobs reported are chained on *done for the caller to free after the lock:
 * freeing a result is a free of every finding, excerpt and fact, mostly made by
 * the other thread (glibc then takes that thread's arena lock), and the report
 * lock is what every worker waits on. */
static void place(struct run *r, uint64_t seq, struct job *j, struct job **done)
{
	r->slots[seq & (r->cap - 1)] = j;
	uint64_t first = r->next_seq, next = first;
	if (seq != first && j != &oom_job) /* it waits: counted until it is reported */
		atomic_fetch_add(&r->held, j->res.n);
	struct job *k;
	while ((k = r->slots[next & (r->cap - 1)])) {
		r->slots[next & (r->cap - 1)] = NULL;
		if (next != seq && k != &oom_job) /* placed earlier, so it was counted */
			atomic_fetch_sub(&r->held, k->res.n);
		next++;
		atomic_store(&r->next_seq, next); /* work's window check reads it unlocked */
		emit(r, k);
		if (k != &oom_job) {
			k->done = *done;
			*done = k;
		}
	}
	if (next != first)
		pthread_cond_broadcast(&r->turn);
}

static void deliver(struct run *r, uint64_t seq, struct job *j)
{
	struct job *done = NULL;
	pthread_mutex_lock(&r->lock);
	place(r, seq, j, &done);
	pthread_mutex_unlock(&r->lock);
	while (done) {
		struct job *k = done;
		done = k->done;
		free_job(k);
	}
}

/* Report res when its turn in walk order comes: a file's findings so far (whole =
 * false: they are dropped, the file goes on) or a whole result (an archive entry). */
static int report_in_turn(struct run *r, struct phi_result *res, bool whole)
{
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (res->seq != r->next_seq)
		pthread_cond_wait(&r->turn, &r->lock);
	if (baseline_pass(r, res) || phi_reporter_file(r->rep, res) ||
	    (whole ? phi_summary_add(&r->sum, res) : phi_summary_add_findings(&r->sum, res)))
		rc = PHI_EIO;
	if (r->man && (whole ? phi_manifest_file(r->man, res) : phi_manifest_changes(r->man, res)))
		rc = PHI_EIO;
	if (!whole)
		phi_result_drop_findings(res);
	draw_progress(r, false);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* The scan option flush: called by a worker whose file holds many findings. */
static int flush_findings(void *arg, struct phi_result *res)
{
	return report_in_turn(arg, res, false);
}

/* The scan option entry: an archive entry, reported before its archive. */
static int report_entry(void *arg, struct phi_result *res)
{
	return report_in_turn(arg, res, true);
}

/* The walker's callback: entries are recorded; dispatch runs them once the plan is
 * ready (plan.h). */
static int on_entry(void *arg, const struct phi_walk_entry *e)
{
	struct run *r = arg;
	if (r->listed_off && r->cur_root >= r->listed_from) {
		/* a listed path: rel is its path below the list's common root, so cases
		 * group by top-level folder and strip -o mirrors the tree below it */
		const char *root = e->root ? e->root : e->path;
		const char *below = root + r->listed_off[r->cur_root - r->listed_from];
		char *rel;
		if (asprintf(&rel, "%s%s%s", below, r->cur_dir && *e->rel ? "/" : "",
		             r->cur_dir ? e->rel : "") < 0)
			return PHI_ENOMEM;
		int rc = phi_plan_add(&r->plan, (int)e->kind, e->path, rel, e->reason, r->cur_root);
		free(rel);
		return rc;
	}
	return phi_plan_add(&r->plan, (int)e->kind, e->path, e->rel, e->reason, r->cur_root);
}

/* --files-from: tidy each listed path (no "./" in front, no doubled or trailing
 * '/') and find the list's common root, the longest folder prefix of every listed
 * path's parent; off[i] is where path i's part below it starts. */
static int listed_roots(char **paths, size_t n, size_t **off)
{
	size_t common = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		char *p = paths[i], *o = p;
		while (p[0] == '.' && p[1] == '/')
			for (p += 2; *p == '/';)
				p++;
		for (const char *q = p; *q; q++)
			if (!(*q == '/' && o > paths[i] && o[-1] == '/'))
				*o++ = *q;
		while (o > paths[i] + 1 && o[-1] == '/')
			o--;
		*o = 0;
		/* the parent: up to the last '/' ("" for a bare name, "/" kept as 0) */
		const char *sl = strrchr(paths[i], '/');
		size_t plen = sl ? (size_t)(sl - paths[i]) : 0;
		if (common == SIZE_MAX) {
			common = plen;
			continue;
		}
		size_t k = 0;
		while (k < common && k < plen && paths[0][k] == paths[i][k])
			k++;
		/* back to a folder boundary */
		if (!(k == common && (plen == k || paths[i][k] == '/')) &&
		    !(k == plen && paths[0][k] == '/'))
			while (k > 0 && paths[i][k] != '/')
				k--;
		common = k;
	}
	if (!(*off = calloc(n ? n : 1, sizeof **off)))
		return -1;
	for (size_t i = 0; i < n; i++)
		(*off)[i] = common == 0 ? (paths[i][0] == '/' ? 1 : 0) : common + 1;
	return 0;
}

/* The job of plan entry e: its display path moves into the result, the paths it
 * opens and writes are borrowed from the plan, the findings in its path come first
 * (moved too).  0 or PHI_ENOMEM. */
static int make_job(struct phi_plan_entry *e, struct job **out)
{
	struct job *j = calloc(1, sizeof *j);
	*out = NULL;
	if (!j)
		return PHI_ENOMEM;
	j->rel = e->out_rel ? e->out_rel : e->rel;
	j->open = e->path;
	j->res.path = e->display;
	e->display = NULL;
	if (!j->res.path && !(j->res.path = strdup(e->path))) {
		free(j);
		return PHI_ENOMEM;
	}
	j->res.format = "unknown";
	/* what the path itself holds comes first; the file's own findings follow */
	for (size_t i = 0; i < e->nnames; i++) {
		int rc = phi_result_add(&j->res, &e->names[i]);
		memset(&e->names[i], 0, sizeof e->names[i]); /* moved, even on failure */
		if (rc) {
			free_job(j);
			return rc;
		}
	}
	e->nnames = 0;
	if (e->rel_hmac[0] && phi_result_fact(&j->res, "input_rel_hmac_sha256", e->rel_hmac)) {
		free_job(j);
		return PHI_ENOMEM;
	}
	*out = j;
	return 0;
}

/* The walker's filter: the root's .phiscanignore files. */
static int ignore_filter(void *arg, const char *rel, bool is_dir, const char **why)
{
	struct run *r = arg;
	struct phi_error err = {0};
	bool ignored;
	if (phi_ignore_check(r->ig, rel, is_dir, &ignored, &err)) {
		snprintf(r->ig_msg, sizeof r->ig_msg, "%s", err.msg);
		*why = r->ig_msg;
		return -1;
	}
	return ignored;
}

/* A path named on the command line or in --files-from that is not a directory:
 * the .phiscanignore files of the current directory and of the directories on the
 * way down to it apply when it is a relative path below the current directory
 * (pre-commit passes such paths).  1: leave it out. */
static int named_file_ignored(struct run *r, struct phi_ignore **cwd_ig, const char *path)
{
	struct phi_error err = {0};
	bool ignored = false;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (path[0] == '/' || !strcmp(path, "..") || !strncmp(path, "../", 3) ||
	    strstr(path, "/../"))
		return 0;
	if ((!*cwd_ig && phi_ignore_new(cwd_ig, ".", &err)) ||
	    phi_ignore_check_path(*cwd_ig, path, false, &ignored, &err)) {
		struct phi_walk_entry e = {.kind = PHI_WALK_ERROR, .path = path, .root = path,
		                           .rel = path, .reason = err.msg};
		return on_entry(r, &e) ? -1 : 1;
	}
	return ignored;
}

/* Walk each root in order, each with its own .phiscanignore files. */
static int walk_roots(struct run *r, char **paths, size_t npaths, struct phi_walk_opts *wo)
{
	struct phi_ignore *cwd_ig = NULL;
	int rc = 0;
	for (size_t i = 0; i < npaths && rc == 0; i++) {
		struct stat st;
		r->cur_root = i;
		r->cur_dir = false;
		struct phi_error err = {0};
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			r->cur_dir = true;
			if (phi_ignore_new(&r->ig, paths[i], &err)) {
				rc = PHI_ENOMEM;
				break;
			}
			wo->filter = ignore_filter;
			wo->filter_arg = r;
		} else {
			int ig = named_file_ignored(r, &cwd_ig, paths[i]);
			if (ig < 0)
				rc = PHI_ENOMEM;
			if (ig)
				continue;
			wo->filter = NULL;
		}
		rc = phi_walk((const char *const *)&paths[i], 1, wo, on_entry, r);
		phi_ignore_free(r->ig);
		r->ig = NULL;
	}
	phi_ignore_free(cwd_ig);
	return rc;
}

/* The case harvest keeps at most this many files open for the scan pass (plan.h). */
#define KEEP_FDS_MAX 16384

/* How many of nfiles the harvest may keep open: a quarter of the descriptor limit,
 * at most KEEP_FDS_MAX; the other three quarters stay for what the run opens
 * meanwhile (per worker a file, its copy, an archive's memory files; the report,
 * the manifest, the walk's directories).  The soft limit is raised first toward the
 * hard one, as far as the budget needs (4 x files + 64): the soft default of 1024
 * exists for select(), which phiscan does not use, and the hard limit is the
 * system's word on what a process may hold.  A descriptor costs the kernel a few
 * hundred bytes; KEEP_FDS_MAX of them pin as many inodes in memory.
 * PHISCAN_KEEP_FDS=N sets the budget instead, as it is (tests and benchmarks
 * compare 0, every file opened twice, with the hand-off). */
static size_t keep_budget(size_t nfiles)
{
	const char *env = getenv("PHISCAN_KEEP_FDS");
	if (env && *env) {
		char *end;
		unsigned long long v = strtoull(env, &end, 10);
		if (!*end)
			return (size_t)v;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	rlim_t want = 4 * (rlim_t)(nfiles < KEEP_FDS_MAX ? nfiles : KEEP_FDS_MAX) + 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rlim_t to = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
		struct rlimit nl = {to, rl.rlim_max};
		if (to > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &nl) == 0)
			rl.rlim_cur = to;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / 4 >= KEEP_FDS_MAX)
		return KEEP_FDS_MAX;
	return (size_t)(rl.rlim_cur / 4);
}

/* The pool's function: scan plan entry i (a skipped or failed entry is reported as
 * such) and hand the result to the reorder ring. */
static void work(void *state, size_t i, void *arg)
{
	struct run *r = arg;
	struct phi_plan_entry *e = &r->plan.v[i];
	/* less than the ring ahead of the next entry to report, and not while the
	 * results waiting hold too much (run comment); the entry at next_seq was claimed
	 * before this one and never waits here, so this ends */
	if (i - atomic_load(&r->next_seq) >= r->cap || atomic_load(&r->held) >= HOLD_FINDINGS) {
		pthread_mutex_lock(&r->lock);
		while (i - r->next_seq >= r->cap ||
		       (i != r->next_seq && atomic_load(&r->held) >= HOLD_FINDINGS))
			pthread_cond_wait(&r->turn, &r->lock);
		pthread_mutex_unlock(&r->lock);
	}
	struct job *j;
	if (make_job(e, &j)) {
		phi_plan_release(e);
		deliver(r, i, &oom_job);
		return;
	}
	j->res.seq = i;
	if (e->kind != PHI_WALK_FILE) {
		j->res.status = e->kind == PHI_WALK_SKIP ? PHI_SKIPPED : PHI_UNREADABLE;
		j->res.reason = strdup(e->reason ? e->reason : "not scanned");
	} else if (phi_worker_set_case(state, r->a->o.no_sweep ? NULL : r->plan.cases, e->kase)) {
		j->res.status = PHI_UNREADABLE;
		j->res.reason = strdup("out of memory");
	} else {
		/* the harvest's descriptor, when it kept one, is the scan's now */
		if (r->a->o.cmd == CMD_DIGEST)
			phi_digest_file(state, j->open, e->kept, r->a->policy.key, &j->res);
		else
			phi_scan_file(state, j->open, j->rel, e->kept, &j->res);
	}
	phi_plan_release(e); /* not scanned: closed here */
	deliver(r, i, j);
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
	 * terminal, where each line should show as it comes.  The buffer is given:
	 * glibc ignores the size for one it allocates (st_blksize, 4 KiB to a file or a
	 * pipe).  Static: the stream is stdout or lives to the end of the run. */
	static char report_iobuf[1 << 20];
	if (fp != stderr && !isatty(fileno(fp)))
		setvbuf(fp, report_iobuf, _IOFBF, sizeof report_iobuf);
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

/* --baseline / --baseline-out: the key (--key, else FILE.key beside the baseline)
 * and the baselines.  -1 to go on, else the exit code. */
static int open_baselines(struct app *a)
{
	struct options *o = &a->o;
	struct phi_error err = {0};
	struct phi_policy scratch;
	const unsigned char *key = a->policy.has_key ? a->policy.key : NULL;
	char kpath[PATH_MAX];
	int rc = -1;

	if (!o->baseline && !o->baseline_out)
		return -1;
	phi_policy_init(&scratch);
	if (!key) {
		if (o->baseline && o->baseline_out && strcmp(o->baseline, o->baseline_out)) {
			fprintf(stderr, "%s: --baseline and --baseline-out name different files: give the "
			        "key with --key FILE\n", prog);
			rc = EXIT_ERROR;
			goto out;
		}
		const char *b = o->baseline ? o->baseline : o->baseline_out;
		if (phi_baseline_key_file(b, !o->baseline, kpath, sizeof kpath, &err) ||
		    phi_policy_load_key(&scratch, kpath, &err))
			goto fail;
		key = scratch.key;
	}
	if (o->baseline_out && phi_baseline_new(&a->base_record, key, &err))
		goto fail;
	if (o->baseline && (phi_baseline_new(&a->base_known, key, &err) ||
	                    phi_baseline_read(a->base_known, o->baseline, &err)))
		goto fail;
	goto out;
fail:
	fprintf(stderr, "%s: %s\n", prog, err.msg);
	rc = EXIT_ERROR;
out:
	phi_policy_free(&scratch);
	return rc;
}

/* Whether root is a file (through symlinks) whose directory, as typed or as
 * resolved, is dir (a real path). */
static bool holds_file_root(const char *dir, const char *root)
{
	struct stat st;
	if (stat(root, &st) != 0 || S_ISDIR(st.st_mode))
		return false;
	bool holds = false;
	char *typed = strdup(root), *real = realpath(root, NULL);
	if (typed) {
		char *slash = strrchr(typed, '/');
		const char *d = slash ? (slash == typed ? "/" : (*slash = 0, typed)) : ".";
		char *dr = realpath(d, NULL);
		holds = dr && !strcmp(dr, dir);
		free(dr);
	}
	if (real && !holds) {
		char *slash = strrchr(real, '/');
		if (slash)
			*slash = 0;
		holds = !strcmp(*real ? real : "/", dir);
	}
	free(typed);
	free(real);
	return holds;
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
		if (o->drop && o->in_place) {
			fprintf(stderr, "%s: --drop-unstrippable would delete originals with --in-place: "
			        "use -o OUT\n", prog);
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
				/* A file root's own directory as OUT: its copy would land on it (with
				 * --force it replaced the original) and the manifest in the user's
				 * input folder (issue 7, safe-writes test) */
				if (holds_file_root(out_real, paths[i])) {
					fprintf(stderr, "%s: %s: the output directory is inside the input: it "
					        "holds the input file %s\n", prog, o->out, paths[i]);
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
		.drop_unstrippable = o->drop,
		.out_root = out_real, .policy = &a->policy, .sopts = &a->sopts,
		.flush = flush_findings, .flush_arg = &r, .flush_at = FLUSH_FINDINGS,
		.fingerprint = a->base_record ? a->base_record : a->base_known,
		.skip_formats = (const char *const *)a->cfg.skip_formats,
		.entry = report_entry,
	};
	if (!(fp = open_report(a)))
		goto out;
	r.dfp = fp;
	struct phi_report_opts ro = {.format = o->format, .color = want_color(o, fp),
	                             .show_values = o->show_values, .quiet = o->quiet,
	                             .err_fp = stderr, .fail_on = o->fail_on,
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
	r.progress = o->progress && !o->quiet && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	struct phi_walk_opts wo = {.follow_symlinks = o->follow, .max_depth = o->limits.max_depth,
	                           .exclude = o->exclude, .skip_dir = out_real};
	/* walk and record, plan the cases and names, then scan in walk order */
	r.listed_from = (size_t)npaths - a->nlisted;
	if (a->nlisted && listed_roots(paths + r.listed_from, a->nlisted, &r.listed_off)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	int wr = walk_roots(&r, paths, (size_t)npaths, &wo);
	struct phi_plan_opts po = {
		.engine = a->engine, .policy = &a->policy, .roots = (const char *const *)paths,
		.case_depth = o->case_depth, .sweep = !o->no_sweep, .roster = o->roster,
		.key = a->sopts.key, .case_id = o->case_id, .show_values = o->show_values,
		.rename = o->cmd == CMD_STRIP && !o->in_place,
		.listed = a->nlisted > 0, .listed_from = r.listed_from,
		.keep_fds = o->no_sweep ? 0 : keep_budget(r.plan.n),
	};
	struct phi_error perr = {0};
	if (phi_plan_prepare(&r.plan, &po, workers, o->jobs, &perr)) {
		fprintf(stderr, "%s: %s\n", prog, perr.msg);
		goto out;
	}
	/* the reorder ring: RING_PER_THREAD entries per thread, a power of two */
	for (r.cap = 64; r.cap < (size_t)o->jobs * RING_PER_THREAD; r.cap *= 2)
		;
	if (!(r.slots = calloc(r.cap, sizeof *r.slots))) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	r.seq = wr ? 0 : r.plan.n;
	if (!wr)
		phi_pool_for(o->jobs, r.plan.n, work, (void *const *)workers, &r);
	if (r.oom)
		fprintf(stderr, "%s: out of memory: some files were not scanned\n", prog);
	draw_progress(&r, true);
	if (wr)
		fprintf(stderr, "%s: the walk stopped: %s\n", prog, phi_strerror(wr));
	r.sum.seconds = since(&r.t0);
	r.sum.exit_code = (wr || r.fail) ? EXIT_ERROR : exit_code_for(&r.sum, o->fail_on);
	if (o->cmd == CMD_DIGEST) {
		/* no findings, no summary: the lines are the output */
		rc = wr || r.fail || r.sum.unreadable || fflush(fp) ? EXIT_ERROR : EXIT_CLEAN;
		goto out;
	}
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
	if (a->base_record && o->baseline_out) {
		struct phi_error err = {0};
		if (phi_baseline_write(a->base_record, o->baseline_out, &err)) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			r.sum.exit_code = EXIT_ERROR;
		}
	}
	if (phi_reporter_end(r.rep, &r.sum))
		r.sum.exit_code = EXIT_ERROR;
	if (o->stats) {
		phi_stats_write(stderr, &r.sum);
		if (a->base_known)
			fprintf(stderr, "  baseline    %lu known findings not reported\n", r.known);
	}
	rc = r.sum.exit_code;
out:
	for (unsigned i = 0; workers && i < o->jobs; i++)
		phi_worker_free(workers[i]);
	free(workers);
	phi_reporter_free(r.rep);
	phi_summary_clear(&r.sum);
	phi_plan_free(&r.plan);
	free(r.listed_off);
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

static int report_filter_entry(void *arg, struct phi_result *res)
{
	struct filter_run *f = arg;
	return phi_reporter_file(f->rep, res) || phi_summary_add(f->sum, res) ? PHI_EIO : 0;
}

/* The filter's copy is spooled to an unlinked temporary file and reaches standard
 * output only when the whole input was de-identified: a format that writes as it
 * reads (text, PLY and STL headers) used to leave the first part of a file it then
 * failed on in the output, exit 2 (issue 7, bad-input rows ply-count-2p40,
 * stl-ascii-unterminated, text-utf16-odd: "no partial output").  TMPDIR or /tmp. */
static int spool_open(void)
{
	const char *t = getenv("TMPDIR");
	int fd = open(t && *t ? t : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && t && *t)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return fd;
}

static int spool_copy(int from, int to)
{
	char buf[1 << 16];
	if (lseek(from, 0, SEEK_SET) < 0)
		return PHI_EIO;
	for (;;) {
		ssize_t r = read(from, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return PHI_EIO;
		if (r == 0)
			return 0;
		for (ssize_t o = 0; o < r;) {
			ssize_t k = write(to, buf + o, (size_t)(r - o));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return PHI_EIO;
			o += k;
		}
	}
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
	                             .err_fp = stderr, .fail_on = a->o.fail_on,
	                             .tool_version = PHI_VERSION, .pack = &a->pack};
	struct filter_run fr = {.sum = &sum};
	so.flush = flush_filter;
	so.entry = report_filter_entry;
	so.flush_arg = &fr;
	so.flush_at = FLUSH_FINDINGS;
	if (!fp || phi_reporter_new(&rep, fp, &ro))
		goto out;
	fr.rep = rep;
	if (phi_worker_new(&w, &so))
		goto out;
	res.path = strdup("<stdin>");
	int spool = spool_open();
	if (spool < 0) {
		fprintf(stderr, "%s: cannot create a temporary file for the output: %s\n", prog,
		        strerror(errno));
		goto out;
	}
	int sr = phi_scan_stream(w, STDIN_FILENO, spool, &res);
	if (!sr && res.status == PHI_SCANNED)
		sr = spool_copy(spool, STDOUT_FILENO);
	close(spool);
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
	if (phi_reporter_end(rep, &sum))
		sum.exit_code = EXIT_ERROR;
	if (a->o.stats)
		phi_stats_write(stderr, &sum);
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

/* ---- configuration and path lists ---- */

/* Find and read the .phiscan.yaml (unless --no-config) and apply what the command
 * line did not set.  start: where the lookup begins.  -1 to go on, else the exit
 * code. */
static int apply_config(struct app *a, const char *start)
{
	struct options *o = &a->o;
	struct phi_error err = {0};
	char found[PATH_MAX + 32];
	const char *path = o->config;

	a->cfg.default_rules = a->cfg.safe_harbor = -1;
	if (o->no_config)
		return -1;
	if (!path) {
		if (phi_config_find(start, found, sizeof found))
			return -1;
		path = found;
	}
	if (phi_config_load(&a->cfg, path, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return EXIT_ERROR;
	}
	struct phi_config *c = &a->cfg;
	if (c->default_rules == 0 && !o->set_no_default)
		o->no_default_rules = true;
	if (c->safe_harbor >= 0 && !o->set_safe_harbor)
		o->safe_harbor = c->safe_harbor;
	if (c->has_min_confidence && !o->set_min_confidence)
		o->min_confidence = c->min_confidence;
	if (c->has_fail_on && !o->set_fail_on)
		o->fail_on = c->fail_on;
	if (c->has_max_size && !o->set_max_size)
		o->limits.max_file_size = c->max_size;
	for (size_t i = 0; i < c->nexclude; i++)
		if (push(&o->exclude, &o->nexclude, c->exclude[i]))
			return EXIT_ERROR;
	/* the file's archive limits, then the command line's again over them */
	for (size_t i = 0; i < c->narchive_limits; i++)
		(void)phi_archive_limit_set(&o->limits, c->archive_limits[i], &err); /* checked */
	for (size_t i = 0; i < o->narchive_limits; i++)
		(void)phi_archive_limit_set(&o->limits, o->archive_limits[i], &err);
	return -1;
}

/* Read --files-from: one path a line (or NUL-terminated with -0); empty entries
 * are skipped.  -1 to go on, else the exit code. */
static int read_files_from(struct app *a)
{
	const char *name = a->o.files_from;
	FILE *fp = strcmp(name, "-") ? fopen(name, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = -1;

	if (!fp) {
		fprintf(stderr, "%s: %s: cannot read the path list: %s\n", prog, name, strerror(errno));
		return EXIT_ERROR;
	}
	while ((n = getdelim(&line, &cap, a->o.nul ? '\0' : '\n', fp)) > 0) {
		if (line[n - 1] == (a->o.nul ? '\0' : '\n'))
			line[--n] = 0;
		if (!a->o.nul && n > 0 && line[n - 1] == '\r')
			line[--n] = 0;
		if (n == 0)
			continue;
		if (memchr(line, 0, (size_t)n)) {
			fprintf(stderr, "%s: %s: a path holds a NUL byte (use -0 for NUL-separated lists)\n",
			        prog, name);
			rc = EXIT_ERROR;
			break;
		}
		char **t = realloc(a->listed, (a->nlisted + 1) * sizeof *t);
		if (!t || !(t[a->nlisted] = strdup(line))) {
			if (t)
				a->listed = t;
			fprintf(stderr, "%s: out of memory reading %s\n", prog, name);
			rc = EXIT_ERROR;
			break;
		}
		a->listed = t;
		a->nlisted++;
	}
	if (rc < 0 && ferror(fp)) {
		fprintf(stderr, "%s: %s: read error: %s\n", prog, name, strerror(errno));
		rc = EXIT_ERROR;
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* ---- config and explain subcommands ---- */

static void usage_config(FILE *fp)
{
	fprintf(fp,
	        "usage: phiscan config check [FILE]\n"
	        "\n"
	        "Validate a .phiscan.yaml: every key, value, rule pack and allow entry, with\n"
	        "errors naming the file, line and key.  Without FILE, the nearest .phiscan.yaml\n"
	        "in the current directory or its parents.  Exit 0 valid, 2 invalid or absent.\n");
}

static int cmd_config(int argc, char **argv)
{
	struct phi_config c;
	struct phi_error err = {0};
	char found[PATH_MAX + 32];
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") ||
	    (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))) {
		usage_config(stdout);
		return EXIT_CLEAN;
	}
	if (strcmp(sub, "check") || argc > 3) {
		usage_config(stderr);
		return EXIT_ERROR;
	}
	const char *path = argc > 2 ? argv[2] : NULL;
	if (!path) {
		if (phi_config_find(".", found, sizeof found)) {
			fprintf(stderr, "%s: no %s in the current directory or its parents\n", prog,
			        PHI_CONFIG_FILE);
			return EXIT_ERROR;
		}
		path = found;
	}
	if (phi_config_load(&c, path, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return EXIT_ERROR;
	}
	/* the packs it names must load too */
	struct phi_pack pack = {0};
	int rc = EXIT_CLEAN;
	for (size_t i = 0; rc == EXIT_CLEAN && i < c.npacks; i++)
		if (phi_pack_load(&pack, c.packs[i], &err)) {
			fprintf(stderr, "%s: %s (pack named in %s)\n", prog, err.msg, path);
			rc = EXIT_ERROR;
		}
	if (rc == EXIT_CLEAN && phi_config_add_allow(&c, &pack, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		rc = EXIT_ERROR;
	}
	if (rc == EXIT_CLEAN)
		printf("%s: ok (%zu packs, %zu rules from them, %zu allow entries, %zu operators, "
		       "%zu skipped formats, %zu excludes)\n",
		       path, c.npacks, pack.nrules, pack.nallow, c.nops, c.nskip_formats, c.nexclude);
	phi_pack_free(&pack);
	phi_config_free(&c);
	return rc;
}

static void usage_explain(FILE *fp)
{
	fprintf(fp,
	        "usage: phiscan explain RULE [--rules FILE] [--no-default-rules] [--show-values]\n"
	        "\n"
	        "What a rule finds: its class, severity, confidence, cues, validator, and the\n"
	        "examples from its pack (identifier values masked unless --show-values).\n"
	        "'phiscan rules list' lists the rule ids.\n");
}

struct spans {
	size_t v[64][2];
	size_t n;
};

static int collect_span(void *arg, const struct phi_hit *h)
{
	struct spans *sp = arg;
	if (sp->n < 64) {
		sp->v[sp->n][0] = h->start;
		sp->v[sp->n][1] = h->end;
		sp->n++;
	}
	return 0;
}

/* An example with what the rules find in it masked as reports mask it. */
static void print_example(struct phi_matcher *m, const struct phi_example *ex, bool show)
{
	char *t = strdup(ex->text);
	struct spans sp = {0};
	if (!t)
		return;
	if (!show) {
		size_t len = strlen(t);
		if (phi_engine_match(m, t, len, 0, len, NULL, collect_span, &sp) == 0 && sp.n == 0 &&
		    ex->value && strstr(t, ex->value)) {
			sp.v[0][0] = (size_t)(strstr(t, ex->value) - t);
			sp.v[0][1] = sp.v[0][0] + strlen(ex->value);
			sp.n = 1;
		}
		for (size_t k = 0; k < sp.n; k++)
			for (size_t i = sp.v[k][0]; i < sp.v[k][1] && i < len; i++) {
				unsigned char c = (unsigned char)t[i];
				if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
				    c >= 0x80)
					t[i] = '*';
			}
	}
	printf("    %s\n", t);
	free(t);
}

static int cmd_explain(int argc, char **argv)
{
	struct app a = {0};
	struct phi_matcher *m = NULL;
	int rc;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_explain(stdout);
			return EXIT_CLEAN;
		}
	a.o.cmd = CMD_SCAN;
	if ((rc = parse_options(&a.o, argc, argv)) >= 0)
		goto done;
	if (optind != argc - 1) {
		usage_explain(stderr);
		rc = EXIT_ERROR;
		goto done;
	}
	const char *id = argv[optind];
	a.o.min_confidence = 0; /* show what the rule matches, whatever the threshold */
	if ((rc = load_rules(&a, true)) >= 0)
		goto done;
	const struct phi_rule *r = NULL;
	for (size_t i = 0; i < a.pack.nrules && !r; i++)
		if (!strcmp(a.pack.rules[i].id, id))
			r = &a.pack.rules[i];
	if (!r) {
		fprintf(stderr, "%s: no rule '%s' (see 'phiscan rules list')\n", prog, id);
		rc = EXIT_ERROR;
		goto done;
	}
	if (phi_matcher_new(&m, a.engine)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = EXIT_ERROR;
		goto done;
	}
	printf("%s\n", r->id);
	if (r->description)
		printf("  description  %s\n", r->description);
	printf("  class        %s (HIPAA Safe Harbor item %c), replaced by %s\n", r->cls->name,
	       r->cls->letter, r->cls->tag);
	printf("  severity     %s (--fail-on %s or lower fails on it)\n",
	       phi_severity_name(r->severity), phi_severity_name(r->severity));
	printf("  confidence   %.2f, %.2f with a cue word\n", r->confidence, r->cue_confidence);
	if (r->ncues) {
		printf("  cues         ");
		for (size_t i = 0; i < r->ncues; i++)
			printf("%s%s", i ? ", " : "", r->cues[i]);
		printf(" (within %u bytes before%s)\n", r->cue_window,
		       r->cue_required ? "; required" : "");
	}
	if (r->nkeywords) {
		printf("  keywords     ");
		for (size_t i = 0; i < r->nkeywords; i++)
			printf("%s%s", i ? ", " : "", r->keywords[i]);
		printf("\n");
	}
	printf("  validator    %s\n", r->validator ? r->validator : "none");
	if (r->safe_harbor)
		printf("  runs only    under --safe-harbor\n");
	printf("  defined in   %s:%d\n", r->source, r->line);
	if (r->nmatch) {
		printf("  finds%s:\n", a.o.show_values ? "" : " (values masked; --show-values shows them)");
		for (size_t i = 0; i < r->nmatch; i++)
			print_example(m, &r->match[i], a.o.show_values);
	}
	if (r->nno_match) {
		printf("  does not find:\n");
		for (size_t i = 0; i < r->nno_match; i++)
			printf("    %s\n", r->no_match[i].text);
	}
	rc = EXIT_CLEAN;
done:
	phi_matcher_free(m);
	free_app(&a);
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

	static const char rules_usage[] =
		"usage: phiscan rules list|test|export [--rules FILE] [--no-default-rules]\n"
		"\n"
		"  list     every rule: id, class, severity, validator, prefilter, description\n"
		"  test     run every rule's examples (exit 1 when one fails)\n"
		"  export   one PCRE2 pattern a line (for rg -P -f in benchmarks)\n";
	bool help = !strcmp(sub, "--help") || !strcmp(sub, "-h");
	for (int i = 2; i < argc; i++)
		help = help || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
	if (help) {
		fputs(rules_usage, stdout);
		return EXIT_CLEAN;
	}
	if (strcmp(sub, "list") && strcmp(sub, "test") && strcmp(sub, "export")) {
		fputs(rules_usage, stderr);
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
	char **paths_owned = NULL;
	int rc;

	if (argc < 2) {
		usage_main(stderr);
		return EXIT_ERROR;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		phi_versions_print(stdout, PHI_VERSION);
		return EXIT_CLEAN;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage_main(stdout);
		return EXIT_CLEAN;
	}
	/* libarchive turns zip entry times into time_t with mktime(), which runs
	 * tzset(); with TZ unset glibc frees and re-reads its zone name on every call
	 * from every worker (under a lock of its own that ThreadSanitizer cannot see).
	 * Naming the default zone (":/etc/localtime" is what an unset TZ means) turns
	 * those calls into no-ops; local time is unchanged. */
	if (!getenv("TZ") && setenv("TZ", ":/etc/localtime", 1)) {
		fprintf(stderr, "%s: cannot set TZ: %s\n", prog, strerror(errno));
		return EXIT_ERROR;
	}
	tzset();
	/* libarchive converts entry names between UTF-8 and the locale's character set;
	 * in the "C" locale a zip entry named in UTF-8 ("InésGarção_lower.stl") cannot be
	 * converted and comes back without a name (an unsafe entry: the whole case failed
	 * closed).  Only the character type is set, to UTF-8, before any thread starts;
	 * phiscan's own byte handling does not depend on it. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		(void)setlocale(LC_CTYPE, "C.utf8");
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: cannot initialise libsodium\n", prog);
		return EXIT_ERROR;
	}
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "config"))
		return cmd_config(argc - 1, argv + 1);
	if (!strcmp(cmd, "explain"))
		return cmd_explain(argc - 1, argv + 1);
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
	else if (!strcmp(cmd, "digest"))
		a.o.cmd = CMD_DIGEST;
	else {
		fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
		usage_main(stderr);
		return EXIT_ERROR;
	}
	if ((rc = parse_options(&a.o, argc - 1, argv + 1)) >= 0)
		goto done;
	int npaths = argc - 1 - optind;
	char **paths = argv + 1 + optind;
	if (a.o.files_from && (rc = read_files_from(&a)) >= 0)
		goto done;
	if (a.o.cmd != CMD_FILTER && npaths < 1 && !a.o.files_from) {
		fprintf(stderr, "%s: %s needs at least one PATH\n", prog, cmd);
		rc = EXIT_ERROR;
		goto done;
	}
	if (a.nlisted) {
		/* the command line's paths, then the listed ones, in order */
		char **all = malloc(((size_t)npaths + a.nlisted) * sizeof *all);
		if (!all) {
			rc = EXIT_ERROR;
			goto done;
		}
		memcpy(all, paths, (size_t)npaths * sizeof *all);
		memcpy(all + npaths, a.listed, a.nlisted * sizeof *all);
		paths = all;
		paths_owned = all;
		npaths += (int)a.nlisted;
	}
	if ((rc = apply_config(&a, npaths > 0 ? paths[0] : ".")) >= 0)
		goto done;
	if (a.o.cmd == CMD_FILTER && npaths > 0) {
		fprintf(stderr, "%s: filter reads standard input; it takes no PATH\n", prog);
		rc = EXIT_ERROR;
		goto done;
	}
	if ((rc = load_rules(&a, false)) >= 0 || (rc = load_policy(&a)) >= 0 ||
	    (rc = open_baselines(&a)) >= 0)
		goto done;
	if (a.o.cmd == CMD_DIGEST && !a.policy.has_key) {
		fprintf(stderr, "%s: digest needs --key FILE (the key the strip was given)\n", prog);
		rc = EXIT_ERROR;
		goto done;
	}
	rc = a.o.cmd == CMD_FILTER ? run_filter(&a) : run_tree(&a, paths, npaths);
done:
	free(paths_owned);
	free_app(&a);
	return rc;
}
