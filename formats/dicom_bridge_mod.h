/* dicom_bridge_mod.h - the DCMTK module's one entry point: a table of the bridge's
 * functions (dicom_bridge.h), between dicom_bridge.cc (built as phiscan-dcmtk.so,
 * linked with DCMTK and libstdc++) and dicom_bridge_load.c (in phiscan, which is not).
 *
 * The module exports one symbol, phi_dcm_module(); everything else in it is hidden
 * (-fvisibility=hidden), so its functions never collide with the loader's phi_dcm_*.
 * A program that links dicom_bridge.o in directly (the fuzz targets, dict-bench)
 * gets the table without dlopen: the loader's reference to phi_dcm_module is weak.
 *
 * The table is checked by abi and size, its first fields (module.h, struct
 * phi_module_head): a module from another build of phiscan with another layout is
 * refused, not called.  Its functions are those of dicom_bridge.h
 * on the module's own handle, struct phi_dcm_impl.
 */
#ifndef PHI_DICOM_BRIDGE_MOD_H
#define PHI_DICOM_BRIDGE_MOD_H

#include "dicom_bridge.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PHI_DCM_ABI 1u

struct phi_dcm_impl;

struct phi_dcm_ops {
	unsigned abi;
	size_t size;
	int (*init)(void);
	const char *(*version)(void);
	struct phi_dcm_impl *(*create)(void);
	void (*destroy)(struct phi_dcm_impl *h);
	const char *(*error)(const struct phi_dcm_impl *h);
	int (*load)(struct phi_dcm_impl *h, const char *path, uint32_t max_load, int to_utf8);
	int (*load_mem)(struct phi_dcm_impl *h, const void *data, size_t size, int to_utf8);
	const char *(*charset_note)(const struct phi_dcm_impl *h);
	const char *(*source_charset)(const struct phi_dcm_impl *h);
	const char *(*xfer)(const struct phi_dcm_impl *h);
	int (*had_meta)(const struct phi_dcm_impl *h);
	int (*walk)(struct phi_dcm_impl *h, int edit, phi_dcm_visit_fn fn, void *arg);
	int (*get)(struct phi_dcm_impl *h, uint16_t group, uint16_t element, char *out, size_t cap);
	int (*has_pixels)(struct phi_dcm_impl *h);
	int (*put)(struct phi_dcm_impl *h, uint16_t group, uint16_t element, const char *value);
	int (*add_method_code)(struct phi_dcm_impl *h, const char *code, const char *meaning);
	int (*pixel_sha256)(struct phi_dcm_impl *h, char hex[65]);
	int (*save)(struct phi_dcm_impl *h, int fd);
	int (*save_mem)(struct phi_dcm_impl *h, const unsigned char **data, size_t *size);
	int (*dict_probe)(uint16_t g, uint16_t e, const char *creator, char vr[3],
	                  const char **name);
	long (*dict_each)(phi_dcm_dict_fn fn, void *arg);
};

/* The module's table (never NULL). */
const struct phi_dcm_ops *phi_dcm_module(void);

#ifdef __cplusplus
}
#endif

#endif
