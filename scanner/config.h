/* config.h - .phiscan.yaml: a project's settings, found next to what is scanned.
 *
 * Lookup: the nearest .phiscan.yaml in the directory of the first PATH (a file's
 * own directory) or one of its parents; --config FILE names one, --no-config
 * uses none.  Options given on the command line win over the file.
 *
 * Schema (every key optional; any other key is an error naming file, line, key):
 *   version: 1
 *   packs: [team-rules.yaml]      # rule packs added, relative to this file
 *   default_rules: true           # false: do not load the bundled pack
 *   allow:                        # allowlist entries, as in a rule pack (rules.h)
 *     - {id: lab-mail, values: [support@lab.example], rules: [email]}
 *   operators: {default: tag, name: pseudonym}   # class -> operator (strip, filter)
 *   min_confidence: 0.6           # as --min-confidence
 *   fail_on: provider             # as --fail-on
 *   safe_harbor: false            # as --safe-harbor
 *   limits:
 *     max_file_size: 200M         # as --max-size
 *     archive: {depth: 4, entries: 65536, entry-size: 1G, total: 8G, ratio: 100}
 *                                 # as --archive-limit NAME=N
 *   skip_formats: [stl, ply]      # detected, then listed as skipped, never read
 *   exclude: ['*.bak']            # as --exclude (added to the command line's)
 *
 * Limits of other readers belong under limits: when their handler lands; a key this
 * build does not know stays an error rather than being accepted and ignored.
 *
 * Threading: loaded in main before any worker starts.
 * Ownership: a phi_config owns every string in it; phi_config_free releases all.
 */
#ifndef PHI_CONFIG_H
#define PHI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define PHI_CONFIG_FILE ".phiscan.yaml"

struct phi_config {
	char *path;                 /* the file read */
	char **packs;               /* resolved against the file's directory */
	size_t npacks;
	int default_rules;          /* -1 unset, else 0 or 1 */
	char **ops;                 /* "OP" (default) or "CLASS=OP", as --op takes */
	size_t nops;
	bool has_min_confidence, has_fail_on, has_max_size;
	double min_confidence;
	enum phi_severity fail_on;
	uint64_t max_size;
	int safe_harbor;            /* -1 unset */
	char **skip_formats;
	size_t nskip_formats;
	char **exclude;
	size_t nexclude;
	char **archive_limits;      /* "NAME=N" as --archive-limit takes, checked */
	size_t narchive_limits;
	char *text;                 /* the file's bytes, for its allow: list */
	size_t text_len;
	bool has_allow;
};

/* The nearest .phiscan.yaml at or above start (a directory or a file); 0 with its
 * path in out, or 1 when there is none. */
int phi_config_find(const char *start, char *out, size_t cap);

/* Read and check path.  On error c is emptied and err says "path:line: key 'k': ...". */
int phi_config_load(struct phi_config *c, const char *path, struct phi_error *err);
/* Same from a string (tests); name is used in messages and packs resolve against
 * the directory of name. */
int phi_config_load_string(struct phi_config *c, const char *yaml, size_t len,
                           const char *name, struct phi_error *err);

/* Add the config's allow: entries to pack (no-op without them). */
int phi_config_add_allow(const struct phi_config *c, struct phi_pack *pack,
                         struct phi_error *err);

void phi_config_free(struct phi_config *c);

#endif
