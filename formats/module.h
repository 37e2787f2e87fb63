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
 * A module exports one getter returning its table of functions, which starts with
 * struct phi_module_head; phi_module_load refuses a table of another build.
 *
 * Threading: call them under the caller's pthread_once.  Ownership: a module found
 * is never unloaded; its table is static in it.
 */
#ifndef PHI_MODULE_H
#define PHI_MODULE_H
#include <stddef.h>

/* The address of symbol `sym` in the module found, or NULL with why (cap bytes)
 * saying what was tried or why it did not load. */
void *phi_module_sym(const char *env, const char *beside, const char *installed,
                     const char *sym, char *why, size_t cap);

/* What every module table starts with: a module of another build of phiscan, with
 * another layout, is told by these and refused, not called. */
struct phi_module_head {
	unsigned abi;
	size_t size;
};

/* A module: where phi_module_sym looks for it, its getter and its table's head. */
struct phi_module {
	const char *env, *beside, *installed; /* as phi_module_sym's */
	const char *sym;  /* the getter, `const struct TABLE *sym(void)` */
	const char *what; /* its name in messages: "PDF", "DCMTK" */
	unsigned abi;     /* the table's abi ... */
	size_t size;      /* ... and size: sizeof the table */
};

/* The table of module m: linked when the program has the module linked in (the
 * result of its weakly linked getter; NULL when it has not), else what the getter
 * phi_module_sym finds returns.  NULL with why (cap bytes) saying why: not found,
 * not loadable, or "the WHAT module found is not this phiscan's (rebuild it)" when
 * the table's abi or size is not m's. */
const void *phi_module_load(const struct phi_module *m, const void *linked, char *why,
                            size_t cap);

#endif
