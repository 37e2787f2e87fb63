/* case.h - a case as a whole: the identifiers its own files carry, swept for in every
 * file and file name of the same case, and the names its files get on strip.
 *
 * A case is a command-line root (a folder, an archive, a file) or, with
 * --case-depth 1, each entry directly below a folder root.  Before any file is
 * scanned, a harvest pass reads the structured patient fields of the case's files
 * (DICOM Patient's Name / ID / Birth Date, exocad and 3Shape patient elements,
 * Communicate JSON: any field a format marks as a patient-severity value) and
 * turns each into the variants people type (`SMITH^JOHN`, `John Smith`,
 * `Smith, John`, `J. Smith`, `SMITH_JOHN`, `JohnSmith`, initials plus ID, a birth
 * date in eight spellings).  `--roster FILE` adds known patients for every case.
 * Each variant becomes a key: its tokens (runs of letters and digits, ASCII
 * lower-cased) joined by one separator byte, so "Smith, John", "SMITH^JOHN" and
 * "smith_john" are one key.  All keys of all cases and the roster go into one hash
 * table (built in linear time: a roster of thousands costs milliseconds); a field is
 * tokenised once and every run of up to four tokens with short separators is looked
 * up.  A hit counts only for its own case (or the roster); token boundaries are
 * word boundaries.
 *
 * File names: every path component below the root is a field; strip gives each
 * component with an identifier the case code (--case-id, else the keyed patient
 * token `PX...` that DICOM strip also writes) in place of identity values and drops
 * dates and the like.  A reference to a renamed file inside the case (a field the
 * format marks PHI_FF_PATH) is rewritten to the new name.
 *
 * Threading: built by the main thread before workers start, read-only afterwards;
 * each worker owns a phi_sweep_scratch.
 */
#ifndef PHI_CASE_H
#define PHI_CASE_H

#include <stdbool.h>
#include <stddef.h>

#include "../formats/format.h"

struct phi_cases;
struct phi_sweep_scratch;

int phi_cases_new(struct phi_cases **out, const unsigned char *key, const char *case_id);
void phi_cases_free(struct phi_cases *c);

/* The case of a file: root index, and with depth 1 the first component of rel
 * (a file directly in a folder root belongs to the root's own case).  Creates it on
 * first sight; dir_name is the name the case is known by (root base name or the
 * component).  0 or PHI_ENOMEM. */
int phi_cases_find(struct phi_cases *c, size_t root, const char *root_name, const char *rel,
                   unsigned depth, size_t *idx);
/* --files-from: the case of rel (a path below the list's common root) is its first
 * ncomp components, fewer when rel has no more below them: "A/x.stl" is case "A"
 * at ncomp 1 and 2, "A/B/x.stl" is "A/B" at 2; a file directly in the common root
 * ("case.zip") is a case of its own.  All under root index root.  0 or PHI_ENOMEM. */
int phi_cases_find_prefix(struct phi_cases *c, size_t root, const char *rel, unsigned ncomp,
                          size_t *idx);
size_t phi_cases_count(const struct phi_cases *c);

/* Harvest: a structured value of class cls (patient severity) from a file of case
 * idx.  Single-token names are held until phi_cases_end_file pairs them (exocad
 * and 3Shape keep first and last name apart). */
int phi_cases_add(struct phi_cases *c, size_t idx, const char *cls, const char *v, size_t n);
int phi_cases_end_file(struct phi_cases *c, size_t idx);

/* --roster FILE: CSV with a header row; columns named like name / first / last /
 * given / family, id / mrn / patient id, dob / birth date.  0 or PHI_E* (message
 * names file and line). */
int phi_cases_load_roster(struct phi_cases *c, const char *path, struct phi_error *err);

/* Key every variant of every case and the roster (once, after the harvest). */
int phi_cases_build(struct phi_cases *c, struct phi_error *err);
/* Identifier values harvested (before variants), and literals compiled. */
size_t phi_cases_idents(const struct phi_cases *c);
size_t phi_cases_literals(const struct phi_cases *c);

/* The code that replaces identity values in file names of case idx. */
const char *phi_cases_code(const struct phi_cases *c, size_t idx);

int phi_sweep_scratch_new(struct phi_sweep_scratch **out, const struct phi_cases *c);
void phi_sweep_scratch_free(struct phi_sweep_scratch *s);

/* A hit of a case identifier: text[start..end), its class and the rule id
 * ("case-identifier" or "roster-identifier").  Return non-zero to stop. */
typedef int (*phi_sweep_fn)(void *arg, size_t start, size_t end, const char *cls,
                            const char *rule);
/* Sweep text for the identifiers of case idx and the roster; hits starting in
 * [from, to), sorted by start, overlaps resolved to the longest. */
int phi_cases_match(const struct phi_cases *c, struct phi_sweep_scratch *s, size_t idx,
                    const char *text, size_t len, size_t from, size_t to, phi_sweep_fn fn,
                    void *arg);

/* ---- file names ---- */

/* One identifier span in a path component, as found by the rules or the sweep. */
struct phi_name_span {
	size_t start, end;
	const char *cls;
};

/* The stripped form of a path component: identity spans become code (once), other
 * spans go, separators left doubled or dangling are tidied, the extension stays.
 * Writes out (cap bytes, NUL-terminated); returns its length. */
size_t phi_case_rename(const char *comp, size_t n, const struct phi_name_span *spans,
                       size_t nspans, const char *code, char *out, size_t cap);

/* Rename map of a case: original path component -> stripped component.  Added by
 * the main thread while it plans the output tree; looked up by workers. */
int phi_cases_map_add(struct phi_cases *c, size_t idx, const char *from, const char *to);
void phi_cases_map_seal(struct phi_cases *c);
const char *phi_cases_map_get(const struct phi_cases *c, size_t idx, const char *comp,
                              size_t n);

#endif
