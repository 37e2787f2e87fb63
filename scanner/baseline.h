/* baseline.h - known findings, recorded by a fingerprint that holds no PHI.
 *
 * A fingerprint is BLAKE2b-128 (libsodium crypto_generichash) keyed with a baseline
 * key, over the path (leading "./" dropped), NUL, the rule id, NUL, the value.  It
 * must be keyed: an unkeyed hash of a name, a date of birth or an SSN is reversed by
 * hashing every candidate (a few hundred thousand names from the census gazetteer,
 * 36,500 dates in a century, 10^9 SSNs: seconds to minutes on a laptop), and the
 * path narrows it further.  With a secret 256-bit key nobody without the key can
 * test a guess, so a baseline can sit in a repository or a CI log.
 *
 * The baseline key is derived from the run's key (--key FILE, as strip uses, or the
 * file BASELINE.key beside the baseline, created with 32 random bytes, mode 0600,
 * by the first --baseline-out): BLAKE2b-256 keyed with it over the context string
 * "phiscan baseline v1", so the strip key is never used directly for this.
 *
 * File (text, one entry a line, sorted, no duplicates):
 *   # phiscan baseline v1 ...
 *   key-id HEX16        (BLAKE2b-64 of a fixed string under the baseline key:
 *                        reading with another key is an error, not "all new")
 *   HEX32 RULE-ID
 *
 * Threading: fingerprinting is read-only and may run in any worker; add and
 * write run on the main thread.  Ownership: a phi_baseline owns its entries.
 */
#ifndef PHI_BASELINE_H
#define PHI_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "finding.h"

#define PHI_FP_BYTES 16

struct phi_baseline;

/* key: the run's 32-byte key (from --key or phi_baseline_key_file). */
int phi_baseline_new(struct phi_baseline **out, const unsigned char key[32],
                     struct phi_error *err);
void phi_baseline_free(struct phi_baseline *b);

/* The key file for baseline_path when no --key is given: BASELINE.key.  create:
 * make it (32 random bytes, 0600, never over an existing file) when missing. */
int phi_baseline_key_file(const char *baseline_path, bool create, char *out, size_t cap,
                          struct phi_error *err);

void phi_baseline_fingerprint(const struct phi_baseline *b, const char *path, const char *rule,
                              const char *value, size_t vlen, unsigned char fp[PHI_FP_BYTES]);

/* Read entries from path (key-id must match). */
int phi_baseline_read(struct phi_baseline *b, const char *path, struct phi_error *err);
bool phi_baseline_has(const struct phi_baseline *b, const unsigned char fp[PHI_FP_BYTES]);
/* Record a finding (the main thread, in walk order); the entries are sorted and
 * deduplicated when written. */
int phi_baseline_add(struct phi_baseline *b, const unsigned char fp[PHI_FP_BYTES],
                     const char *rule);
/* Write every entry atomically (temporary file, fsync, rename). */
int phi_baseline_write(struct phi_baseline *b, const char *path, struct phi_error *err);
size_t phi_baseline_count(const struct phi_baseline *b);

/* Drop from res the findings whose fingerprint is in b; returns how many. */
size_t phi_baseline_filter(const struct phi_baseline *b, struct phi_result *res);

#endif
