/* module.h - finding phiscan's modules: the parts loaded with dlopen on first use
 * (phiscan-dcmtk.so, phiscan-poppler.so), so a run that needs none of them pays
 * none of their libraries' start-up.
 *
 * Where a module is looked for, first found wins:
 *  1. $ENV, a path (tests; nothing else is tried when it is set);
 *  2. beside the executable, as `beside` (the build tree: ./phiscan and
 *     ./phiscan-dcmtk.so; ./phiscan-asan and ./phiscan-asan-dcmtk.so);
 *  3. EXE/../lib/phiscan/`installed` (an installed or DESTDIR-staged tree);
 *  4. PHI_LIBDIR/`installed` (make install's PREFIX/lib/phiscan).
 * A file that exists but does not load (a missing library, another build's table)
 * stops the search with dlerror's reason: it is what the user installed.
 *
 * Threading: call it under the caller's pthread_once.  Ownership: a module found is
 * never unloaded.
 */
#ifndef PHI_MODULE_H
#define PHI_MODULE_H
#include <stddef.h>

/* The address of symbol `sym` in the module found, or NULL with why (cap bytes)
 * saying what was tried or why it did not load. */
void *phi_module_sym(const char *env, const char *beside, const char *installed,
                     const char *sym, char *why, size_t cap);

#endif
