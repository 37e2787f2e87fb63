/* names.h - the person-name gazetteer: given names and surnames, and common words.
 *
 * Lists are data under rules/names/ (given.txt, surnames.txt: US Census 1990 name
 * frequency lists, public domain, extracted from Debian's libtext-names-perl by
 * rules/names/extract.sh; common.txt: ordinary and dental words that are also names,
 * such as "Crown", "Bridge", "Young").  One name per line, case-insensitive.
 *
 * Threading: loaded in main before workers start, then read-only.
 * Ownership: a phi_names owns its storage; phi_names_free releases it.
 */
#ifndef PHI_NAMES_H
#define PHI_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "../formats/format.h"

struct phi_names;

/* Load the lists from dir (given.txt, surnames.txt, common.txt; a missing common.txt
 * is allowed).  *out is NULL on error. */
int phi_names_load(struct phi_names **out, const char *dir, struct phi_error *err);
void phi_names_free(struct phi_names *n);

/* Case-insensitive membership of one word s[0..n). */
bool phi_names_is_given(const struct phi_names *g, const char *s, size_t n);
bool phi_names_is_surname(const struct phi_names *g, const char *s, size_t n);
bool phi_names_is_common(const struct phi_names *g, const char *s, size_t n);

/* The i-th entry modulo the list size (pseudonyms).  Never NULL for a loaded list. */
const char *phi_names_given_at(const struct phi_names *g, unsigned long i);
const char *phi_names_surname_at(const struct phi_names *g, unsigned long i);

#endif
