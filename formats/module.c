/* module.c - see module.h. */
#include "module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PHI_LIBDIR
#define PHI_LIBDIR "/usr/local/lib/phiscan"
#endif

static void *open_sym(const char *path, const char *sym, char *why, size_t cap)
{
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		snprintf(why, cap, "%s", e ? e : path);
		return NULL;
	}
	void *p = dlsym(lib, sym);
	if (!p) {
		snprintf(why, cap, "%s has no %s (rebuild it)", path, sym);
		dlclose(lib);
	}
	return p;
}

void *phi_module_sym(const char *env, const char *beside, const char *installed,
                     const char *sym, char *why, size_t cap)
{
	const char *given = getenv(env);
	if (given && *given)
		return open_sym(given, sym, why, cap);
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash = len > 0 ? (exe[len] = 0, strrchr(exe, '/')) : NULL;
	if (slash)
		*slash = 0;
	for (int i = slash ? 0 : 2; i < 3; i++) {
		if (i == 0)
			snprintf(path, sizeof path, "%s/%s", exe, beside);
		else if (i == 1)
			snprintf(path, sizeof path, "%s/../lib/phiscan/%s", exe, installed);
		else
			snprintf(path, sizeof path, "%s/%s", PHI_LIBDIR, installed);
		if (access(path, F_OK) == 0)
			return open_sym(path, sym, why, cap);
	}
	snprintf(why, cap, "%s is not beside the executable, nor %s in its ../lib/phiscan or in %s "
	         "(or set %s)", beside, installed, PHI_LIBDIR, env);
	return NULL;
}

const void *phi_module_load(const struct phi_module *m, const void *linked, char *why,
                            size_t cap)
{
	const void *t = linked;
	if (!t) {
		/* The getter returns a pointer to its table, called here as returning the
		 * same pointer as const void * (dlsym's object-to-function conversion). */
		const void *(*get)(void);
		*(void **)&get = phi_module_sym(m->env, m->beside, m->installed, m->sym, why, cap);
		if (!get)
			return NULL;
		t = get();
	}
	const struct phi_module_head *h = t;
	if (!h || h->abi != m->abi || h->size != m->size) {
		snprintf(why, cap, "the %s module found is not this phiscan's (rebuild it)",
		         m->what);
		return NULL;
	}
	return t;
}
