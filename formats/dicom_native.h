/* dicom_native.h - phiscan's own reader and writer for the DICOM files most cases hold:
 * PS3.10 files whose data set is explicit or implicit VR little endian (encapsulated
 * pixel data of any codec included, copied as stored), in the default repertoire,
 * UTF-8 or ISO_IR 100.  Everything else (big endian, deflated, bare data sets,
 * other character sets, anything irregular) is refused with PHI_ENOTSUP and
 * dicom.c takes DCMTK's path (dicom_bridge.h) instead; DCMTK is also the reference
 * this reader and writer are tested against (tests/test_dicom_native.c: the same
 * visits, element for element, and the same written bytes).
 *
 * It speaks the bridge's language: the same struct phi_dcm_elem per visit, in the same
 * order with the same values, the same decisions, and a written copy equal to what
 * DCMTK writes for them (explicit lengths for sequences and items, a fresh meta header
 * naming phiscan, ISO_IR 100 text converted to UTF-8 and declared ISO_IR 192).
 *
 * Threading: a handle belongs to one worker.  Ownership: the parsed bytes are the
 * caller's and must outlive the handle's use for that file; strings handed to visit
 * calls are borrowed for the call.
 */
#ifndef PHI_DICOM_NATIVE_H
#define PHI_DICOM_NATIVE_H

#include "dicom_bridge.h"

#include <stddef.h>
#include <stdint.h>

struct phi_dnat;

struct phi_dnat *phi_dnat_new(void);
void phi_dnat_free(struct phi_dnat *n);

/* Parse the first avail bytes of a file of size bytes at data (avail == size: the
 * whole file).  A scan may pass a prefix: the top-level Pixel Data and long binary
 * values need only their headers.  strip: the copy will be written (a few more
 * encodings are refused: group lengths, an existing De-identification Method Code
 * Sequence).  Returns 0, PHI_ENOTSUP (not native: take DCMTK's path; err untouched),
 * or 1 with *need the number of leading bytes the parse needs (read more, call again). */
int phi_dnat_parse(struct phi_dnat *n, const unsigned char *data, size_t avail, uint64_t size,
                   unsigned max_depth, int strip, uint64_t *need);

/* As the bridge's functions of the same names (dicom_bridge.h). */
const char *phi_dnat_xfer(const struct phi_dnat *n);
const char *phi_dnat_source_charset(const struct phi_dnat *n);
int phi_dnat_get(const struct phi_dnat *n, uint16_t group, uint16_t element, char *out,
                 size_t cap);
int phi_dnat_has_pixels(const struct phi_dnat *n);
int phi_dnat_walk(struct phi_dnat *n, int edit, phi_dcm_visit_fn fn, void *arg);
int phi_dnat_put(struct phi_dnat *n, uint16_t group, uint16_t element, const char *value);
int phi_dnat_add_method_code(struct phi_dnat *n, const char *code, const char *meaning);
/* The copy, in memory owned by the handle (valid until the next parse or free). */
int phi_dnat_save_mem(struct phi_dnat *n, const unsigned char **data, size_t *size);

/* The same, but a top-level Pixel Data value of defined length (native pixels) of at
 * least PHI_DNAT_HOLE_MIN bytes is not copied: *data[hole->at, hole->at + hole->len)
 * is left unwritten, and the copy's bytes there are hole->src's (the input's, as
 * parsed, so valid as long as they are).  hole->len 0: no hole, *data is whole.  The
 * strip writes the three pieces and hashes them where they are (dicom.c). */
#define PHI_DNAT_HOLE_MIN 4096
struct phi_dnat_hole {
	size_t at, len;
	const unsigned char *src;
};
int phi_dnat_save_mem_hole(struct phi_dnat *n, const unsigned char **data, size_t *size,
                           struct phi_dnat_hole *hole);
/* The message of the last failure (one line, no PHI). */
const char *phi_dnat_error(const struct phi_dnat *n);

#endif
