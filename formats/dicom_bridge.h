/* dicom_bridge.h - the C face of DCMTK (dicom_bridge.cc is the only C++ in phiscan).
 *
 * The bridge parses a DICOM file (Part 10 with meta header, or a bare data set in
 * implicit or explicit VR, little or big endian, deflated included) with DCMTK,
 * walks every element of the meta header and the data set, recursively through
 * sequence items, and lets the C side decide per element what happens to it.  It
 * then writes the edited file with the input's transfer syntax, a fresh meta header
 * and pixel data copied as read.  Values longer than the load limit stay on disk
 * until written (DCMTK loads them on demand), so a 500 MB CBCT costs a header read.
 *
 * No C++ type or exception crosses this header: every function catches everything
 * and returns 0 or a negative PHI_E* code with a one-line message in the handle.
 *
 * phiscan is not linked with DCMTK: these functions are dicom_bridge_load.c's, which
 * loads the bridge (phiscan-dcmtk.so, dicom_bridge_mod.h) on the first call that needs
 * it: phi_dcm_init, phi_dcm_unavailable, phi_dcm_version, a load, the dictionary
 * functions.  phi_dcm_new loads nothing.  When the module cannot be loaded, those
 * calls fail with PHI_ENOTSUP and a message naming the reason.
 *
 * Threading: the module and its data dictionary are each loaded once, under a
 * pthread_once, by whichever thread first needs them (the dictionary: before any
 * parse; phi_dcm_init may also be called before threads start).  A struct phi_dcm belongs to one worker; handles are
 * independent.
 * Ownership: strings in a struct phi_dcm_elem are borrowed for one visit call.
 */
#ifndef PHI_DICOM_BRIDGE_H
#define PHI_DICOM_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct phi_dcm;

/* Load the module and the DICOM data dictionary.  0, PHI_ENOTSUP when the module
 * cannot be loaded (phi_dcm_unavailable says why), or PHI_EFORMAT when no dictionary
 * is found. */
int phi_dcm_init(void);
/* Load the module (not the dictionary): NULL when it is loaded, else why not (one
 * line, static). */
const char *phi_dcm_unavailable(void);
/* Library version string ("3.6.7"), or NULL when the module cannot be loaded. */
const char *phi_dcm_version(void);

/* A handle; loads nothing (the native reader's files never need the module). */
struct phi_dcm *phi_dcm_new(void);
void phi_dcm_free(struct phi_dcm *h);
/* The message of the last failure (one line, no PHI). */
const char *phi_dcm_error(const struct phi_dcm *h);

/* Parse the file at path (a name DCMTK can reopen, such as /proc/self/fd/N, which
 * must stay valid while the handle is used: long values are read from it later).
 * Values longer than max_load bytes are not read now.  Fails with PHI_EFORMAT when
 * the bytes are not DICOM DCMTK can parse.  to_utf8: convert text values to UTF-8
 * with the Specific Character Set (the data set is then written as ISO_IR 192).
 * Returns 0, 1 (loaded, but the character set was left as stored: see
 * phi_dcm_charset_note), or a negative PHI_E*. */
int phi_dcm_load(struct phi_dcm *h, const char *path, uint32_t max_load, int to_utf8);
/* The same from size bytes at data (borrowed for the call only): every value is read
 * into memory.  DCMTK's buffer stream allocates whatever length an element declares,
 * so only bytes whose lengths phi_dicom_check_mem has accepted go here, and only a
 * file small enough to hold whole (dicom.c keeps larger ones on the file path). */
int phi_dcm_load_mem(struct phi_dcm *h, const void *data, size_t size, int to_utf8);

/* Returns 1 (not an error) when the character set is a defined term that this
 * DCMTK cannot convert: values stay as stored; phi_dcm_charset_note() says so. */
const char *phi_dcm_charset_note(const struct phi_dcm *h);

/* The top-level Specific Character Set as read, before any conversion ("" none). */
const char *phi_dcm_source_charset(const struct phi_dcm *h);

/* Transfer syntax of the data set as read ("1.2.840.10008.1.2.1"), and whether the
 * file had a meta header. */
const char *phi_dcm_xfer(const struct phi_dcm *h);
int phi_dcm_had_meta(const struct phi_dcm *h);

struct phi_dcm_elem {
	uint16_t group, element;
	char vr[3];
	const char *path;       /* "(0040,0275)[0]/(0040,1001)" */
	unsigned depth;         /* 0 = top level of the data set or meta header */
	int in_meta;            /* group 0002 of the file meta information */
	int is_sq;              /* a sequence: items follow as deeper elements */
	unsigned long items;    /* sequence items */
	int is_string;          /* value below is the element's text (string VRs) */
	const char *value;      /* string VRs: the whole value (backslashes between
	                           values), UTF-8 after conversion; binary VRs that are
	                           loaded and short: the raw bytes; else NULL */
	size_t len;
	uint32_t length;        /* value length as stored (0xFFFFFFFF undefined) */
	const char *creator;    /* private elements: their private creator, or NULL */
	const char *keyword;    /* dictionary keyword, or "" */
};

enum phi_dcm_act {
	PHI_DCM_KEEP = 0,  /* keep; a sequence is descended into */
	PHI_DCM_REMOVE,    /* remove the element (a sequence with all its items) */
	PHI_DCM_EMPTY,     /* zero length; a sequence loses all its items */
	PHI_DCM_REPLACE,   /* set the value to the replacement string */
};

struct phi_dcm_decision {
	enum phi_dcm_act act;
	const char *repl;  /* PHI_DCM_REPLACE: the new value (copied by the bridge) */
};

/* Called for every element, parents before children.  Returns 0 to go on or a
 * negative PHI_E* code to stop the walk with it. */
typedef int (*phi_dcm_visit_fn)(void *arg, const struct phi_dcm_elem *e,
                                struct phi_dcm_decision *d);

/* Walk the meta header, then the data set.  With edit = 0 decisions are ignored
 * (scan); with edit = 1 they are applied. */
int phi_dcm_walk(struct phi_dcm *h, int edit, phi_dcm_visit_fn fn, void *arg);

/* A top-level string value of the data set (meta header for group 0002), trailing
 * padding removed, into out (cap bytes, NUL-terminated, truncated).  Returns 0, or
 * 1 when the element is absent. */
int phi_dcm_get(struct phi_dcm *h, uint16_t group, uint16_t element, char *out, size_t cap);
/* Whether the data set has a top-level Pixel Data element. */
int phi_dcm_has_pixels(struct phi_dcm *h);

/* Top-level data set edits after the walk: set a string value (creating the
 * element with its dictionary VR), or append an item of (0012,0064) De-identification
 * Method Code Sequence unless one with that code is already there. */
int phi_dcm_put(struct phi_dcm *h, uint16_t group, uint16_t element, const char *value);
int phi_dcm_add_method_code(struct phi_dcm *h, const char *code, const char *meaning);

/* SHA-256 of the Pixel Data (7FE0,0010) value as stored in the file's byte order
 * (each fragment of encapsulated data in order, offset table included), read in
 * pieces.  hex gets 64 characters and a NUL; "" with return 1 when there is none. */
int phi_dcm_pixel_sha256(struct phi_dcm *h, char hex[65]);

/* Write the edited file as Part 10 with the input's transfer syntax and a new
 * meta header that names phiscan (Media Storage SOP Instance UID from the data
 * set), to fd (not closed). */
int phi_dcm_save(struct phi_dcm *h, int fd);
/* The same into memory owned by the handle (valid until its next save or free). */
int phi_dcm_save_mem(struct phi_dcm *h, const unsigned char **data, size_t *size);

/* For tests/test_dicom_dict.c: what DCMTK's own dictionary says of the tag
 * (g, e) with private creator creator (NULL: none), through
 * DcmTag(DcmTagKey(g, e), creator): its VR name (DcmVR::getVRName(), "??" when the
 * dictionary has no entry) into vr, and its tag name into *name (static until the
 * next call from the same thread; "" for DCMTK's "Unknown Tag & Data").  Call
 * phi_dcm_init() first.  Returns 0 when the dictionary has an entry, 1 when not,
 * PHI_EFORMAT on a DCMTK exception. */
int phi_dcm_dict_probe(uint16_t g, uint16_t e, const char *creator, char vr[3],
                       const char **name);

/* For the same test: every entry DCMTK's dictionary holds, to fn: first the exact
 * ones (hash order, repeating 0), then the ranges in DCMTK's search order
 * (repeating 1).  Restrictions as DcmDictRangeRestriction: 0 all, 1 odd, 2 even.
 * Strings are borrowed for the call.  Returns the number of entries, or
 * PHI_EFORMAT. */
struct phi_dcm_dict_entry {
	uint16_t group, ugroup, element, uelement;
	int grestr, erestr;
	const char *creator, *vr, *name;  /* creator NULL: none */
};
typedef void (*phi_dcm_dict_fn)(void *arg, int repeating, const struct phi_dcm_dict_entry *e);
long phi_dcm_dict_each(phi_dcm_dict_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
