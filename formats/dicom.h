/* dicom.h - DICOM (PS3.10 files and bare PS3.5 data sets): scan every element and
 * de-identify with the PS3.15 Annex E Basic Application Level Confidentiality
 * Profile and its options.  See dicom.c.
 *
 * Threading: phi_dicom_init() once before workers start; the format is read-only.
 */
#ifndef PHI_DICOM_H
#define PHI_DICOM_H

#include "format.h"

extern const struct phi_format phi_format_dicom;

/* Load the DCMTK data dictionary and silence its logger.  0 or PHI_E*. */
int phi_dicom_init(struct phi_error *err);
/* DCMTK's version ("3.6.7"), or NULL when its module cannot be loaded
 * (phi_dcm_unavailable in dicom_bridge.h says why). */
const char *phi_dicom_lib_version(void);

/* The Annex E row for a tag: its basic-profile action and phiscan's class.  For
 * tests and `phiscan explain`.  Returns 0 when the tag has a row. */
struct phi_dicom_rule_info {
	const char *keyword;
	const char *vr;
	const char *basic;   /* "X", "Z", "X/Z/D", ... */
	const char *cls;
	int severity;
};
int phi_dicom_rule(uint16_t group, uint16_t element, struct phi_dicom_rule_info *out);
/* Number of rows in the table (621 for 2024b). */
size_t phi_dicom_rule_count(void);

/* The PS3.3 Type (1, 2, 3; 0 when no module of the IOD has it at the top level) of a
 * Table E.1-1 combined-code attribute in the IOD of sop_class
 * (rules/dicom/iod-types.tsv), or -1 when the SOP class is not bundled or the tag has
 * no combined code.  Strip resolves X/Z, X/D, X/Z/D, Z/D and X/Z/U* by it. */
int phi_dicom_iod_type(const char *sop_class, uint16_t group, uint16_t element);
/* The i-th bundled SOP class UID (and its IOD's name), or NULL past the last. */
const char *phi_dicom_iod_class(size_t i, const char **name);

/* Whether a private element is in PS3.15 Table E.3.10-1 (Retain Safe Private): its
 * block's Private Creator (trailing spaces ignored), odd group, element's low byte.
 * 1 or 0; a creator element (gggg,0010-00FF) is never itself a table row. */
int phi_dicom_safe_private(const char *creator, uint16_t group, uint16_t element);

/* The UID phiscan writes for uid under key: "2.25." + the decimal of the first 16
 * bytes of HMAC-SHA-256(key, uid without trailing padding).  out holds 64 + 1. */
/* Check every declared length of the DICOM stream in fd (size bytes) against what
 * remains of its container, before DCMTK reads it (dicom_lengths.c).  A deflated data
 * set is inflated under lim->max_inflate.  With pixels_hex, also the SHA-256 of the
 * top-level Pixel Data as stored (the value, or each fragment in order; "" when there
 * is none): the proof that a copy's pixels are the input's, made without DCMTK.
 * 0, or PHI_EFORMAT / PHI_ELIMIT / PHI_EIO with a message naming element and offset. */
int phi_dicom_check_lengths(int fd, uint64_t size, const struct phi_limits *lim,
                            char pixels_hex[65], struct phi_error *err);

/* Where the stored bytes of the top-level Pixel Data lie in a file held in memory:
 * the value, or each fragment in order (offset table included).  Reused across
 * files; the caller frees v. */
struct phi_dicom_pixmap {
	struct phi_dicom_range {
		uint64_t off, len;
	} *v;
	size_t n, cap;
	int seen;     /* the data set has a top-level Pixel Data element */
	int deflated; /* the data set is deflated: offsets are into the inflated bytes */
};

/* phi_dicom_check_lengths on a whole file held in memory (data, size bytes), and,
 * with map, where its pixel bytes lie: a copy's pixels are then proven equal with
 * memcmp instead of a second hash.  A deflated data set is not walked here: it
 * returns PHI_ENOTSUP (no message) and the caller takes the file path. */
int phi_dicom_check_mem(const unsigned char *data, size_t size, const struct phi_limits *lim,
                        char pixels_hex[65], struct phi_dicom_pixmap *map,
                        struct phi_error *err);

/* phi_dicom_check_lengths with the map of the file's pixel bytes (file offsets; of
 * a deflated data set, offsets into its inflated bytes, and map->deflated set). */
int phi_dicom_check_lengths_map(int fd, uint64_t size, const struct phi_limits *lim,
                                char pixels_hex[65], struct phi_dicom_pixmap *map,
                                struct phi_error *err);

/* The Patient module values of a DICOM file (Patient's Name, ID, Birth Date, Other
 * Patient IDs and Names: top level, each value of a multi-valued one) to fn with the
 * class "name", "mrn" or "date", read by the same walker, without DCMTK: the case
 * harvest (scanner/case.h) reads a CT series' headers at this cost.  Values are the
 * stored bytes (no character set conversion).  0, fn's error, or PHI_E*. */
typedef int (*phi_dicom_value_fn)(void *arg, const char *cls, const char *v, size_t n);
int phi_dicom_patient_values(int fd, uint64_t size, const struct phi_limits *lim,
                             phi_dicom_value_fn fn, void *arg, struct phi_error *err);
/* The walk stops at the first top-level element after group 0012 (tags ascend,
 * PS3.5 7.1): the rest of the file is not read.
 * The same from memory: data holds the first n bytes of a file of file_size bytes
 * (the scanner's head).  Returns 1, having called fn for nothing, when the data set
 * is deflated or the values reach past n: the caller then reads the file with
 * phi_dicom_patient_values. */
int phi_dicom_patient_values_mem(const unsigned char *data, size_t n, uint64_t file_size,
                                 const struct phi_limits *lim, phi_dicom_value_fn fn, void *arg,
                                 struct phi_error *err);

int phi_dicom_remap_uid(const unsigned char key[32], const char *uid, size_t n, char out[65]);

#endif
