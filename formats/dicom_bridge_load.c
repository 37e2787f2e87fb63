/* dicom_bridge_load.c - dicom_bridge.h for phiscan, which is not linked with DCMTK:
 * the bridge is a module of its own (phiscan-dcmtk.so, dicom_bridge_mod.h), loaded
 * with dlopen by the first call that needs DCMTK.
 *
 * Why: linking libdcmdata, liboflog, libofstd and libstdc++ costs about 4.8 ms of
 * relocations and static initialisers at every start, and most runs never parse with
 * DCMTK (dicom_native.c reads the usual files).  A handle (phi_dcm_new) is a small C
 * struct and loads nothing; the module is loaded by phi_dcm_unavailable and
 * phi_dcm_version (--version: the module only), and with its data dictionary by
 * phi_dcm_init, phi_dcm_load, phi_dcm_load_mem and the dictionary functions.
 * Everything else on a handle that has loaded no file fails as DCMTK's bridge did
 * without a file ("no DICOM file loaded").
 *
 * Where the module is looked for: module.h ($PHISCAN_DCMTK_MODULE, then
 * PHI_DCM_MODULE_NAME beside the executable, then phiscan-dcmtk.so in
 * ../lib/phiscan and PHI_LIBDIR).
 * When a program has the bridge linked in (fuzz targets, dict-bench), the weak
 * phi_dcm_module below is defined and nothing is loaded.
 *
 * Threading: the module is loaded under one pthread_once and its init run (DCMTK's
 * data dictionary, read once) under another, which every parse goes through, so the
 * dictionary is loaded before any handle uses DCMTK, whichever worker gets there
 * first; --version loads the module without the dictionary.  Handles belong to one
 * thread.
 * Ownership: the module is never unloaded; a handle owns its module handle.
 */
#include "dicom_bridge_mod.h"

#include "format.h"
#include "module.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PHI_DCM_MODULE_NAME
#define PHI_DCM_MODULE_NAME "phiscan-dcmtk.so"
#endif

/* Defined only where dicom_bridge.o is linked in. */
extern const struct phi_dcm_ops *phi_dcm_module(void) __attribute__((weak));

static pthread_once_t mod_once = PTHREAD_ONCE_INIT, init_once = PTHREAD_ONCE_INIT;
static const struct phi_dcm_ops *ops; /* NULL: unavailable, why says so */
static int init_rc;                   /* the module's init: 0 or PHI_EFORMAT */
static char why[512];

struct phi_dcm {
	struct phi_dcm_impl *impl; /* made by the first load */
	char err[600];
};

static void load_module(void)
{
	static const struct phi_module mod = {
		"PHISCAN_DCMTK_MODULE", PHI_DCM_MODULE_NAME, "phiscan-dcmtk.so", "phi_dcm_module",
		"DCMTK", PHI_DCM_ABI, sizeof(struct phi_dcm_ops)};
	ops = phi_module_load(&mod, phi_dcm_module ? phi_dcm_module() : NULL, why, sizeof why);
}

/* The module's init: DCMTK's logger off and its data dictionary read (a text file,
 * about 15 ms), once, before any handle parses; not for --version. */
static void init_module(void)
{
	pthread_once(&mod_once, load_module);
	if (ops)
		init_rc = ops->init();
}

/* The module ready to parse, or NULL (why says why). */
static const struct phi_dcm_ops *dcmtk(void)
{
	pthread_once(&init_once, init_module);
	return ops;
}

const char *phi_dcm_unavailable(void)
{
	pthread_once(&mod_once, load_module);
	return ops ? NULL : why;
}

int phi_dcm_init(void)
{
	return dcmtk() ? init_rc : PHI_ENOTSUP;
}

const char *phi_dcm_version(void)
{
	return phi_dcm_unavailable() ? NULL : ops->version();
}

struct phi_dcm *phi_dcm_new(void)
{
	return calloc(1, sizeof(struct phi_dcm));
}

void phi_dcm_free(struct phi_dcm *h)
{
	if (!h)
		return;
	if (h->impl)
		ops->destroy(h->impl);
	free(h);
}

const char *phi_dcm_error(const struct phi_dcm *h)
{
	return h->impl && !h->err[0] ? ops->error(h->impl) : h->err;
}

/* The handle's DCMTK side, made (and the module loaded) on first use. */
static int ready(struct phi_dcm *h)
{
	if (h->impl)
		return 0;
	if (!dcmtk()) {
		snprintf(h->err, sizeof h->err, "DCMTK is unavailable: %s", why);
		return PHI_ENOTSUP;
	}
	if (!(h->impl = ops->create())) {
		snprintf(h->err, sizeof h->err, "out of memory");
		return PHI_ENOMEM;
	}
	h->err[0] = 0; /* from here on the DCMTK side's messages */
	return 0;
}

/* A call that needs a loaded file: without a DCMTK side there is none. */
static int loaded(struct phi_dcm *h)
{
	if (h->impl)
		return 1;
	snprintf(h->err, sizeof h->err, "no DICOM file loaded");
	return 0;
}

int phi_dcm_load(struct phi_dcm *h, const char *path, uint32_t max_load, int to_utf8)
{
	int rc = ready(h);
	return rc ? rc : ops->load(h->impl, path, max_load, to_utf8);
}

int phi_dcm_load_mem(struct phi_dcm *h, const void *data, size_t size, int to_utf8)
{
	int rc = ready(h);
	return rc ? rc : ops->load_mem(h->impl, data, size, to_utf8);
}

const char *phi_dcm_charset_note(const struct phi_dcm *h)
{
	return h->impl ? ops->charset_note(h->impl) : "";
}

const char *phi_dcm_source_charset(const struct phi_dcm *h)
{
	return h->impl ? ops->source_charset(h->impl) : "";
}

const char *phi_dcm_xfer(const struct phi_dcm *h)
{
	return h->impl ? ops->xfer(h->impl) : "";
}

int phi_dcm_had_meta(const struct phi_dcm *h)
{
	return h->impl ? ops->had_meta(h->impl) : 0;
}

int phi_dcm_walk(struct phi_dcm *h, int edit, phi_dcm_visit_fn fn, void *arg)
{
	return loaded(h) ? ops->walk(h->impl, edit, fn, arg) : PHI_EUSAGE;
}

int phi_dcm_get(struct phi_dcm *h, uint16_t group, uint16_t element, char *out, size_t cap)
{
	if (cap)
		out[0] = 0;
	return h->impl ? ops->get(h->impl, group, element, out, cap) : 1;
}

int phi_dcm_has_pixels(struct phi_dcm *h)
{
	return h->impl ? ops->has_pixels(h->impl) : 0;
}

int phi_dcm_put(struct phi_dcm *h, uint16_t group, uint16_t element, const char *value)
{
	return loaded(h) ? ops->put(h->impl, group, element, value) : PHI_EUSAGE;
}

int phi_dcm_add_method_code(struct phi_dcm *h, const char *code, const char *meaning)
{
	return loaded(h) ? ops->add_method_code(h->impl, code, meaning) : PHI_EUSAGE;
}

int phi_dcm_pixel_sha256(struct phi_dcm *h, char hex[65])
{
	hex[0] = 0;
	return loaded(h) ? ops->pixel_sha256(h->impl, hex) : PHI_EUSAGE;
}

int phi_dcm_save(struct phi_dcm *h, int fd)
{
	return loaded(h) ? ops->save(h->impl, fd) : PHI_EUSAGE;
}

int phi_dcm_save_mem(struct phi_dcm *h, const unsigned char **data, size_t *size)
{
	return loaded(h) ? ops->save_mem(h->impl, data, size) : PHI_EUSAGE;
}

int phi_dcm_dict_probe(uint16_t g, uint16_t e, const char *creator, char vr[3],
                       const char **name)
{
	if (!dcmtk()) {
		vr[0] = 0;
		*name = "";
		return PHI_EFORMAT;
	}
	return ops->dict_probe(g, e, creator, vr, name);
}

long phi_dcm_dict_each(phi_dcm_dict_fn fn, void *arg)
{
	return dcmtk() ? ops->dict_each(fn, arg) : PHI_EFORMAT;
}
