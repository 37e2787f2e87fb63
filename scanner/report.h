/* report.h - reporters: human text, JSON Lines and SARIF 2.1.0.
 *
 * One reporter per run, driven by one thread (the main thread) in walk order, so
 * output is deterministic whatever the thread count.  Reporters never print an
 * identifier unless show_values is set: findings carry masked excerpts.
 *
 * human:  path:line:col: severity class rule (confidence) excerpt   (colour on a tty)
 * json:   one object per finding {"type":"finding","path","format","rule","class",
 *         "severity","confidence","field","start","end","line","column","excerpt"
 *         [,"value"]}, one per skipped/unreadable file {"type":"skipped"|"error",...},
 *         then one {"type":"summary",...}
 * sarif:  SARIF 2.1.0 log (GitHub code scanning profile), written at the end.
 * junit:  JUnit XML (the Ant/Jenkins schema CI systems read), written at the end:
 *         one testcase per file; a failure for a file with findings at or above
 *         fail_on, or one that could not be scanned; skipped files are skipped.
 *
 * Ownership: results are borrowed for the call; the reporter copies what it keeps.
 */
#ifndef PHI_REPORT_H
#define PHI_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "finding.h"
#include "rules.h"

enum phi_report_format { PHI_REPORT_HUMAN, PHI_REPORT_JSON, PHI_REPORT_SARIF, PHI_REPORT_JUNIT };

struct phi_report_opts {
	enum phi_report_format format;
	bool color;         /* ANSI colour (human, when out is a terminal) */
	bool show_values;
	bool quiet;         /* human: only errors, written to err_fp */
	FILE *err_fp;       /* quiet human: where error lines go (NULL: fp) */
	enum phi_severity fail_on; /* junit: findings below it do not fail a testcase */
	const char *tool_version;
	const struct phi_pack *pack; /* rule metadata for SARIF tool.driver.rules */
};

/* Per-format counters for the summary. */
struct phi_format_count {
	const char *format;
	unsigned long scanned, skipped, unreadable, findings;
	unsigned long long bytes;   /* of the files scanned */
};

/* Findings per identifier class, for --stats. */
struct phi_class_count {
	const char *cls;            /* static class name */
	unsigned long findings;
};

struct phi_summary {
	unsigned long files, scanned, skipped, unreadable, findings;
	unsigned long by_severity[3];
	struct phi_format_count *formats; /* sorted by format name */
	size_t nformats;
	struct phi_class_count *classes;  /* sorted by class name */
	size_t nclasses;
	unsigned long long bytes;
	double seconds;
	int exit_code;
};

struct phi_reporter;

int phi_reporter_new(struct phi_reporter **out, FILE *fp, const struct phi_report_opts *o);
/* Report one file's outcome (findings, or why it was skipped/unreadable). */
int phi_reporter_file(struct phi_reporter *r, const struct phi_result *res);
/* Write the summary (and, for SARIF, the whole log) and flush. */
int phi_reporter_end(struct phi_reporter *r, const struct phi_summary *s);
void phi_reporter_free(struct phi_reporter *r);

/* Accumulate one result into a summary (the caller owns s; formats array grows):
 * the file and the findings it still holds. */
int phi_summary_add(struct phi_summary *s, const struct phi_result *res);
/* Only the findings res holds now (a file streamed in parts). */
int phi_summary_add_findings(struct phi_summary *s, const struct phi_result *res);
void phi_summary_clear(struct phi_summary *s);

/* --stats: totals by status, format (files, bytes, findings) and class, bytes and
 * time, as aligned text. */
void phi_stats_write(FILE *fp, const struct phi_summary *s);

/* JSON string escaping into fp (UTF-8 passed through, invalid bytes as U+FFFD). */
void phi_json_string(FILE *fp, const char *s);
/* The same for str[0..n) into out, without the quotes: at most 6 * n bytes (an
 * escape is six characters for at least one byte).  Returns the length written. */
size_t phi_json_escape(const char *str, size_t n, char *out);

#endif
