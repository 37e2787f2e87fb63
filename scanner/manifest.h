/* manifest.h - the strip manifest: a JSON record of every file written.
 *
 * For each input: output path, format, status, the input's keyed digest (with a
 * key: formats/indigest.h; never a plain hash of an original), the output's SHA-256,
 * and each change (rule, class, operator, byte span, line) - never the removed
 * values nor the replacements' originals.  Written to a temporary file and renamed into place
 * when the run ends, so a manifest on disk is always complete.
 *
 * Threading: driven by the reporting thread only.
 */
#ifndef PHI_MANIFEST_H
#define PHI_MANIFEST_H

#include "finding.h"
#include "ops.h"
#include "report.h"

struct phi_manifest;

int phi_manifest_open(struct phi_manifest **out, const char *path,
                      const struct phi_policy *policy, struct phi_error *err);
/* The changes r holds now (a file streamed in parts); its entry stays open. */
int phi_manifest_changes(struct phi_manifest *m, const struct phi_result *r);
/* Finish r's entry: remaining changes, outcome, hashes. */
int phi_manifest_file(struct phi_manifest *m, const struct phi_result *r);
/* Write the summary, close and rename into place; frees m. */
int phi_manifest_close(struct phi_manifest *m, const struct phi_summary *s,
                       struct phi_error *err);

#endif
