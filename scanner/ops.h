/* ops.h - de-identification operators and the per-class policy.
 *
 * Operators: tag ("[NAME]", the default), mask (letters and digits become '*',
 * punctuation kept), remove (empty), hash (keyed: class tag + first 16 hex digits of
 * HMAC-SHA-256(key, class || 0 || value)), pseudonym (consistent keyed fake of the
 * same shape: names from the gazetteer, digits and letters substituted from the
 * HMAC stream, e-mails at example.invalid, dates shifted back by one keyed offset of
 * 1-365 days per key, so intervals within a case survive; under --safe-harbor a
 * date keeps only its year).  Hash and pseudonym need a key
 * (--key FILE); the same key gives the same output on every run and every file.
 * With safe_harbor: ZIP codes become their ZIP3 + "00" ("000" for the restricted
 * ZIP3 list in rules/zip3-restricted.txt), ages over 89 become "90+".
 *
 * Threading: a policy is built in main, read-only afterwards; phi_replace is
 * reentrant.
 */
#ifndef PHI_OPS_H
#define PHI_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "../formats/format.h"

struct phi_names;

enum phi_op { PHI_OP_TAG, PHI_OP_MASK, PHI_OP_REMOVE, PHI_OP_HASH, PHI_OP_PSEUDONYM };

#define PHI_MAX_CLASSES 32

struct phi_policy {
	enum phi_op global;
	enum phi_op per_class[PHI_MAX_CLASSES]; /* indexed like phi_classes[] */
	bool class_set[PHI_MAX_CLASSES];
	unsigned char key[32];
	bool has_key;
	bool safe_harbor;
	const struct phi_names *names;          /* borrowed; for name pseudonyms */
	char (*zip3)[4];                        /* restricted ZIP3 prefixes (owned) */
	size_t nzip3;
};

void phi_policy_init(struct phi_policy *p);
void phi_policy_free(struct phi_policy *p);
/* Parse one --op spec: "mask" (global) or "name=pseudonym" (one class). */
int phi_policy_set(struct phi_policy *p, const char *spec, struct phi_error *err);
/* Key from a file: SHA-256 of its bytes (at least 16 bytes required). */
int phi_policy_load_key(struct phi_policy *p, const char *path, struct phi_error *err);
int phi_policy_load_zip3(struct phi_policy *p, const char *path, struct phi_error *err);
/* Checks that hash/pseudonym have a key; call once after all specs. */
int phi_policy_check(const struct phi_policy *p, struct phi_error *err);
const char *phi_op_name(enum phi_op op);

/* Write the replacement for value v[0..n) of class cls into out (cap bytes, NUL
 * terminated).  *outlen gets its length.  Returns 0, or PHI_ELIMIT if cap is short. */
int phi_replace(const struct phi_policy *p, const char *cls, const char *v, size_t n,
                char *out, size_t cap, size_t *outlen);

#endif
