/* version.h - the version report of `phiscan --version` (version.c). */
#ifndef PHI_VERSION_H
#define PHI_VERSION_H

#include <stdio.h>

/* "phiscan VERSION" then one line per library: built-with and running versions. */
void phi_versions_print(FILE *fp, const char *version);

#endif
