/* indigest.h - the strip manifest's keyed input digest.
 *
 * The manifest travels with the de-identified copies.  A plain SHA-256 of each
 * original there would be a code computed from bytes that hold the patient's name,
 * IDs and dates: whoever has an original (or a guess at one) could confirm the link,
 * and HIPAA's Safe Harbor lets de-identified data carry a code only when it is not
 * derived from information about the individual (45 CFR 164.514(b)(2)(i)(R), (c)).
 * So the input is recorded only keyed, with the strip's --key:
 *
 *   input_hmac_sha256 = HMAC-SHA-256(K, kind || 0x00 || D)
 *   K = HMAC-SHA-256(key, "phiscan input digest v1")     (key: the 32-byte --key value)
 *
 * where D (32 bytes) depends on the kind, named in the manifest's "input_digest":
 *
 *   "sha256"        D = SHA-256 of the file (sha256sum's value)
 *   "dicom-pixels"  a DICOM file whose data set is not deflated:
 *                   D = SHA-256("phiscan dicom-pixels v1" || 0x00 || u64 size ||
 *                               u64 n || n x (u64 offset, u64 length) ||
 *                               SHA-256(the bytes outside the ranges, in order) ||
 *                               SHA-256(the bytes in the ranges, in order))
 *                   the ranges being the top-level Pixel Data value, or each fragment's
 *                   value, as the walker maps them (dicom.h, phi_dicom_pixmap); u64
 *                   little endian.  The last hash is the manifest's pixels_sha256_in,
 *                   which the strip computes anyway: the input costs a hash of its
 *                   header, not a third pass over its pixels.
 *
 * Either binds every byte of the input.  Whoever holds the key and the originals
 * recomputes it (`phiscan digest --key FILE PATH...`); no one else can.  Without a
 * key nothing is recorded for the input.  An archive's entries are "sha256" of the
 * entry's bytes.
 *
 * Threading: no state; any number of threads at once.
 */
#ifndef PHI_INDIGEST_H
#define PHI_INDIGEST_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dicom.h"
#include "format.h"

#define PHI_INDIGEST_SHA256 "sha256"
#define PHI_INDIGEST_DICOM "dicom-pixels"

/* D of kind "dicom-pixels" in hex: the bytes outside pm's ranges are read from data
 * (the whole file, size bytes) or, with data NULL, from fd by pread; pix_hex is the
 * SHA-256 of the bytes in the ranges (64 hex digits).  0 or a PHI_E* code. */
int phi_indigest_dicom(const unsigned char *data, int fd, uint64_t size,
                       const struct phi_dicom_pixmap *pm, const char pix_hex[65],
                       char d_hex[65], struct phi_error *err);

/* The sealing key K of key (32 bytes), made once: HMAC's keyed state, copied for
 * each value sealed (a manifest seals one a file, under the report lock). */
struct phi_indigest_key {
	crypto_auth_hmacsha256_state st;
};
void phi_indigest_key(struct phi_indigest_key *k, const unsigned char key[32]);

/* The manifest's value: HMAC as above of D (64 hex digits); "" when d_hex is not 64
 * hex digits. */
void phi_indigest_seal(const struct phi_indigest_key *k, const char *kind, const char d_hex[65],
                       char out_hex[65]);

/* The whole computation for the file open on fd (size bytes; dicom: detected as
 * DICOM, phi_format_detect): *kind and the sealed value, as strip records them.  0,
 * or a PHI_E* code with err set (a DICOM file whose lengths do not check: strip
 * records nothing for it either). */
int phi_indigest_file(int fd, uint64_t size, bool dicom, const struct phi_limits *lim,
                      const unsigned char key[32], const char **kind, char out_hex[65],
                      struct phi_error *err);

#endif
