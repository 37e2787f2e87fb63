/* engine.h - the rule engine: compiled rules, per-worker matchers, matching a field.
 *
 * Matching is two-stage.  A Vectorscan database holds, per rule, either its literal
 * keywords (case-insensitive) or its pattern in prefilter mode; one pass over the
 * text yields candidate end offsets per rule.  Each candidate's line (capped window)
 * is then confirmed with the rule's PCRE2 pattern (interpreted, JIT-compiled once hot), the cue window is checked,
 * the validator judges the value and allowlists drop known-safe values.  Rules are
 * never joined into one alternation (see text-rules.md section 9).
 *
 * Threading: a phi_engine is built in main and read-only afterwards; each worker
 * owns one phi_matcher (PCRE2 match data, JIT stack, Vectorscan scratch).
 * Ownership: the engine borrows the pack and the names; both must outlive it.
 */
#ifndef PHI_ENGINE_H
#define PHI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

struct phi_engine;
struct phi_matcher;
struct phi_names;

/* A prefilter database the build made with this engine (rules/src/packcheck.c: the
 * default pack, with and without --safe-harbor; $(BUILD)/default_pack.c), in the
 * cache file's layout, found by the cache's key: the same Vectorscan version and host
 * platform, the same expressions.  Anything else is compiled (or read from the cache)
 * as before. */
struct phi_engine_prebuilt {
	const char *key;           /* 32 hex digits */
	const unsigned char *data;
	size_t len;
};
extern const struct phi_engine_prebuilt phi_default_prebuilt[]; /* default_pack.c */
extern const size_t phi_default_nprebuilt;

/* A PCRE2 code the build compiled (rules/src/packcheck.c: every rule and allow pattern
 * of the default pack, with the options the engine compiles it with), serialized
 * alone by pcre2_serialize_encode (pcre2serialize(3)): each carries its own copy of
 * the character tables, so no two decoded codes share the tables' reference count,
 * which PCRE2 updates without atomics (engine.c, decode_code).  sum is the SHA-256
 * (64 hex digits, phi_engine_code_sum) of the PCRE2 version, the options, the
 * pattern and the bytes: a damaged entry, or bytes filed under another pattern, are
 * not decoded. */
struct phi_engine_code {
	const char *pattern;
	unsigned options;            /* pcre2_compile options */
	const unsigned char *data;   /* pcre2_serialize_encode's bytes */
	size_t len;
	const char *sum;
};

/* The build's codes and what they need of the PCRE2 that runs: the same version
 * string (pcre2_config(PCRE2_CONFIG_VERSION)), the same library file (the GNU build
 * ID of the shared object holding pcre2_compile, "" when it is linked in: a Debian
 * update that keeps the version string is another build) and the same serialization
 * of the empty pattern (probe: the byte-stream header, with PCRE2's version, code
 * unit width and sizes, and the default character tables).  Anything else is
 * compiled, as before. */
struct phi_engine_codes {
	const char *pcre2_version;
	const char *pcre2_build_id;   /* hex */
	const unsigned char *probe;
	size_t probe_len;
	const struct phi_engine_code *codes;
	size_t ncodes;
};
extern const struct phi_engine_codes phi_default_codes; /* default_pack.c */

struct phi_engine_opts {
	bool safe_harbor;       /* also run safe_harbor rules */
	double min_confidence;  /* matches below are dropped */
	const char *cache_dir;  /* where the compiled prefilter is cached; NULL or "" = none */
	const struct phi_engine_prebuilt *prebuilt; /* databases the build made (below) */
	size_t nprebuilt;
	const struct phi_engine_codes *codes; /* PCRE2 codes the build made (above): a
	                         * pattern found there with the same options is decoded
	                         * instead of compiled */
	double jit_scale;       /* a pattern is JIT-compiled once the interpreter has spent
	                         * jit_scale tenths of its estimated compile time on it
	                         * (engine.c, adaptive JIT); 0 means 1; < 0: JIT after its
	                         * first match (tests) */
};

/* A match: byte span of the value in the scanned text, the rule, its confidence. */
struct phi_hit {
	size_t start, end;
	const struct phi_rule *rule;
	double confidence;
	bool cue;               /* a cue word was found in the window */
};

/* Called for every hit, in order of start offset; return non-zero to stop. */
typedef int (*phi_hit_fn)(void *arg, const struct phi_hit *hit);

int phi_engine_new(struct phi_engine **out, const struct phi_pack *pack,
                   const struct phi_names *names, const struct phi_engine_opts *opts,
                   struct phi_error *err);
void phi_engine_free(struct phi_engine *e);

int phi_matcher_new(struct phi_matcher **out, const struct phi_engine *e);
void phi_matcher_free(struct phi_matcher *m);

/* Match text[0..len): only hits starting in [from, to) are reported; bytes outside
 * give look-behind and look-ahead context.  path (may be NULL) is for path-scoped
 * allowlists.  Overlapping hits of different rules are resolved: the longest, then
 * the most confident wins.  Returns 0 or PHI_E*. */
int phi_engine_match(struct phi_matcher *m, const char *text, size_t len, size_t from,
                     size_t to, const char *path, phi_hit_fn fn, void *arg);

/* Whether m remembers its verdicts on short values (on by default; engine.c, memo):
 * off for tests that compare, and for measures. */
void phi_matcher_memo(struct phi_matcher *m, bool on);
/* How many of m's matches were answered from its memo. */
size_t phi_matcher_memo_hits(const struct phi_matcher *m);

/* Run every rule's examples; print failures to the callback; returns the count of
 * failed examples (0 = all passed), or a negative PHI_E* code. */
typedef void (*phi_example_fail_fn)(void *arg, const struct phi_rule *r,
                                    const char *text, const char *why);
int phi_engine_test_examples(const struct phi_engine *e, phi_example_fail_fn fn,
                             void *arg, size_t *nexamples);

/* Whether the prefilter database came from the cache (opts.cache_dir) rather than a
 * compile: for tests and --stats. */
bool phi_engine_from_cache(const struct phi_engine *e);

/* How many rule patterns have been compiled so far: a verified rule (rules.h) is
 * compiled on its first use, any other in phi_engine_new.  For tests and measures. */
size_t phi_engine_compiled_count(const struct phi_engine *e);
/* The prefilter database came from opts.prebuilt (not the cache, not compiled). */
bool phi_engine_from_prebuilt(const struct phi_engine *e);
/* e's prefilter database as a phi_engine_prebuilt's data (malloc'd into *out) and its
 * key; PHI_ENOTSUP or PHI_ENOMEM when it cannot.  For packcheck. */
int phi_engine_prebuild(const struct phi_engine *e, char **out, size_t *len, char key[33]);
/* How many rule and allow patterns were decoded from opts.codes instead of compiled
 * (each one a pcre2_compile avoided).  For tests and measures. */
size_t phi_engine_decoded_count(const struct phi_engine *e);
/* e's rule and allow patterns, each serialized alone, in the order the engine looks
 * them up (rules, then allow patterns): fn is called with each; its data and sum are
 * valid during the call.  Then the empty pattern's serialization (malloc'd into
 * *probe), PCRE2's version string and its library's build ID (both static).  0 or
 * PHI_ENOMEM.  For packcheck. */
typedef int (*phi_engine_code_fn)(void *arg, const struct phi_engine_code *c);
int phi_engine_export_codes(const struct phi_engine *e, phi_engine_code_fn fn, void *arg,
                            unsigned char **probe, size_t *probe_len, const char **version,
                            const char **build_id);
/* The sum a phi_engine_code carries: 64 hex digits and NUL into hex.  0 or PHI_ENOMEM. */
int phi_engine_code_sum(const char *pcre2_version, const struct phi_engine_code *c,
                        char hex[65]);
/* Rule and allow patterns JIT-compiled so far (adaptive JIT: those that proved hot). */
size_t phi_engine_jit_count(const struct phi_engine *e);

/* Number of rules compiled (after safe_harbor filtering), and the i-th of them with
 * how it is prefiltered: "keywords", "pattern" or "none" (full PCRE2 pass). */
size_t phi_engine_rule_count(const struct phi_engine *e);
const struct phi_rule *phi_engine_rule(const struct phi_engine *e, size_t i,
                                       const char **prefilter);

#endif
