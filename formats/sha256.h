/* sha256.h - SHA-256 for file and region hashes (manifest, protected regions).
 *
 * OpenSSL's libcrypto: it uses the CPU's SHA extensions (1.7 GB/s here against
 * libsodium's portable 0.2 GB/s, which made hashing 72 % of a DICOM strip).
 * libsodium stays for the keyed HMACs, whose inputs are short.
 *
 * Threading: a context belongs to one thread.  Ownership: init allocates, final
 * (or abort) releases; a context is reusable after either.
 */
#ifndef PHI_SHA256_H
#define PHI_SHA256_H

#include <stddef.h>

struct phi_sha256 {
	void *ctx; /* EVP_MD_CTX */
};

int phi_sha256_init(struct phi_sha256 *h);            /* 0 or PHI_ENOMEM */
void phi_sha256_update(struct phi_sha256 *h, const void *p, size_t n);
int phi_sha256_final(struct phi_sha256 *h, char hex[65]); /* 64 hex digits + NUL */
void phi_sha256_abort(struct phi_sha256 *h);

#endif
