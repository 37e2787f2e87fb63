/* rules.h - rule packs: loading YAML packs into rule and allowlist records.
 *
 * A pack is data (rules/default.yaml and user packs given with --rules).  Loading
 * validates every key: unknown keys, rules without id, bad classes or severities are
 * errors that name the file, line and key.  Compilation is engine.h's job.
 *
 * Pack schema (YAML):
 *   pack: NAME
 *   rules:
 *     - id: ssn                      # required, unique across packs
 *       description: US Social Security number
 *       class: ssn                   # one of phi_class_names
 *       severity: patient            # patient | provider | quasi
 *       pattern: '...'               # PCRE2; group "v" (or group 1) is the value span
 *       keywords: [ssn]              # literals (case-insensitive) for the prefilter;
 *                                    # when set, the rule runs only near a keyword
 *       cues: [ssn, social security] # context words looked for before the match
 *       cue_window: 40               # bytes before the match searched for a cue
 *       cue_required: false          # without a cue the match is dropped
 *       validator: ssn               # see validate.h
 *       confidence: 0.6              # without cue
 *       cue_confidence: 0.95         # with cue (default min(1, confidence + 0.35))
 *       safe_harbor: false           # true: runs only under --safe-harbor
 *       examples:
 *         match: ["SSN 123-45-6789", {text: "...", value: "..."}]
 *         no_match: ["..."]
 *   allow:
 *     - id: lab-support-mail
 *       values: ["support@lab.example"]   # exact values never reported
 *       patterns: ['...']                  # PCRE2, a value fully matched is dropped
 *       rules: [email]                     # limit to these rules (default all)
 *       paths: ['*.log']                   # glob on the path (default all)
 *
 * Threading: packs are loaded in main before workers start, then read-only.
 * Ownership: a phi_pack owns every string inside it, except those of records appended
 * from a phi_pack_builtin (borrowed: static data); phi_pack_free releases what it owns.
 */
#ifndef PHI_RULES_H
#define PHI_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "../formats/format.h"

enum phi_severity {
	PHI_SEV_QUASI = 0,
	PHI_SEV_PROVIDER = 1,
	PHI_SEV_PATIENT = 2,
};

const char *phi_severity_name(enum phi_severity s);
/* Returns 0 and sets *out, or PHI_EUSAGE for an unknown name. */
int phi_severity_parse(const char *name, enum phi_severity *out);

/* HIPAA Safe Harbor classes, 45 CFR 164.514(b)(2)(i)(A)-(R). */
struct phi_class_info {
	const char *name;  /* "name", "address", "date", ... */
	char letter;       /* Safe Harbor item letter A..R */
	const char *tag;   /* replacement tag "[NAME]" */
};
/* NULL for an unknown class name. */
const struct phi_class_info *phi_class_find(const char *name);
/* All classes, NULL-name terminated. */
extern const struct phi_class_info phi_classes[];

struct phi_example {
	char *text;
	char *value; /* expected matched value, or NULL: any match will do */
};

struct phi_rule {
	char *id;
	char *description;
	const struct phi_class_info *cls;
	enum phi_severity severity;
	char *pattern;
	char **keywords;
	size_t nkeywords;
	char **cues;
	size_t ncues;
	unsigned cue_window;
	bool cue_required;
	char *validator;      /* name, or NULL */
	int validator_id;     /* resolved by phi_pack_load (validate.h) */
	double confidence;
	double cue_confidence;
	bool safe_harbor;
	struct phi_example *match;
	size_t nmatch;
	struct phi_example *no_match;
	size_t nno_match;
	char *source;         /* pack file the rule came from */
	int line;             /* line of the rule in that file */
	bool verified;        /* its pack is one the build checked (phi_pack_load_verified):
	                       * the pattern compiles, so the engine may compile it on
	                       * first use instead of at start */
	bool borrowed;        /* every string but source belongs to a phi_pack_builtin */
};

struct phi_allow {
	char *id;
	char **values;
	size_t nvalues;
	char **patterns;
	size_t npatterns;
	char **rules;
	size_t nrules;
	char **paths;
	size_t npaths;
	char *source;
	int line;
	bool borrowed;        /* every string but source belongs to a phi_pack_builtin */
};

struct phi_pack {
	struct phi_rule *rules;
	size_t nrules;
	struct phi_allow *allow;
	size_t nallow;
};

/* Append the rules and allowlists of the YAML file at path to pack.  On error
 * pack is unchanged and err names "path:line: reason". */
int phi_pack_load(struct phi_pack *pack, const char *path, struct phi_error *err);
/* Same, and when the file's SHA-256 is sha256_hex (64 lowercase hex digits; NULL or
 * "" never matches) its rules are marked verified.  The build passes the hash of
 * the rules/default.yaml whose every pattern it compiled (rules/src/packcheck.c);
 * an edited copy does not match and is checked at start like any pack. */
int phi_pack_load_verified(struct phi_pack *pack, const char *path, const char *sha256_hex,
                           struct phi_error *err);
/* Same, from a string (tests); name is used in messages. */
int phi_pack_load_string(struct phi_pack *pack, const char *yaml, size_t len,
                         const char *name, struct phi_error *err);
/* Only the allow: list of a YAML document whose other keys are someone else's (a
 * .phiscan.yaml, checked by config.c). */
int phi_pack_load_allow_string(struct phi_pack *pack, const char *yaml, size_t len,
                               const char *name, struct phi_error *err);
void phi_pack_free(struct phi_pack *pack);

/* A pack the build loaded with this very loader and compiled with the engine, as C
 * data: rules/src/packcheck.c writes $(BUILD)/default_pack.c (phi_default_pack) from
 * rules/default.yaml, which stays the one source of truth.  sha256 is the YAML file's
 * (64 hex digits), or "" with no rules when the build could not load or compile it.
 * Its records' source is NULL and borrowed is set; strings and arrays are static. */
struct phi_pack_builtin {
	const char *sha256;
	const struct phi_rule *rules;
	size_t nrules;
	const struct phi_allow *allow;
	size_t nallow;
};

/* phi_pack_load_verified(pack, path, b->sha256, err), except that a file whose bytes
 * have b->sha256 is not parsed: b's records are appended (verified, borrowed, source
 * = path), skipping libyaml (the default pack's parse was a quarter of an empty
 * scan).  Any other file, a user's or an edited copy, is parsed and checked as by
 * phi_pack_load, with the same messages. */
int phi_pack_load_builtin(struct phi_pack *pack, const char *path,
                          const struct phi_pack_builtin *b, struct phi_error *err);
/* rules/default.yaml as the build saw it ($(BUILD)/default_pack.c; linked into
 * phiscan and the tests, not into libphiscan.a, which packcheck itself uses). */
extern const struct phi_pack_builtin phi_default_pack;

#endif
