/* ignore.h - .phiscanignore files: gitignore syntax over the scanned tree.
 *
 * Syntax (gitignore(5), "PATTERN FORMAT"): one pattern a line; blank lines and
 * lines starting with '#' are ignored; "\#" and "\!" escape a leading '#' or '!';
 * trailing spaces are dropped unless escaped with '\'; a leading '!' negates (a
 * path excluded earlier is included again); a trailing '/' matches directories
 * only; a pattern with a '/' at its start or middle is anchored to the directory of
 * its .phiscanignore, any other pattern matches a name at any depth below it; '*'
 * and '?' do not cross '/', "[...]" is a character class; "**" as a whole segment
 * matches any number of directories ("**" + "/x", "a/" + "**", "a/" + "**" + "/b").
 * The last matching pattern decides; a deeper .phiscanignore is read after (and so
 * overrides) the ones above it; as in git, a file inside an excluded directory
 * cannot be re-included (the directory is never entered).
 *
 * Files: base/.phiscanignore and, below it, every directory's own .phiscanignore,
 * read lazily when the walk first asks about an entry of that directory.
 *
 * Threading: one phi_ignore is used by one thread (the walker).
 * Ownership: a phi_ignore owns its patterns; paths are borrowed for the call.
 */
#ifndef PHI_IGNORE_H
#define PHI_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "../formats/format.h"

#define PHI_IGNORE_FILE ".phiscanignore"

struct phi_ignore;

/* base: the directory the relative paths are relative to (the scanned root). */
int phi_ignore_new(struct phi_ignore **out, const char *base, struct phi_error *err);
void phi_ignore_free(struct phi_ignore *ig);

/* Add the patterns of text (the contents of dir_rel/.phiscanignore; dir_rel "" is
 * the base); source names the file in messages.  Tests call it directly. */
int phi_ignore_add(struct phi_ignore *ig, const char *dir_rel, const char *text, size_t len,
                   const char *source, struct phi_error *err);

/* Is rel (relative to base, '/'-separated, no leading "./") excluded?  Only rel's
 * own patterns are checked, not its parent directories' (the walker never enters
 * an excluded directory).  Reads rel's directory's .phiscanignore files first if
 * not read yet.  Returns 0 and sets *ignored, or PHI_E* (an unreadable ignore file:
 * fails closed, the caller reports it). */
int phi_ignore_check(struct phi_ignore *ig, const char *rel, bool is_dir, bool *ignored,
                     struct phi_error *err);

/* Same, with every parent directory of rel checked first (for paths that did not
 * come from a walk: files named on the command line or in --files-from). */
int phi_ignore_check_path(struct phi_ignore *ig, const char *rel, bool is_dir, bool *ignored,
                          struct phi_error *err);

/* The glob matcher alone: pattern against a whole '/'-separated path, with the
 * gitignore meaning of '*', '?', '[...]' and "**" segments. */
bool phi_ignore_glob(const char *pattern, const char *path);

#endif
