/* sha256.c - SHA-256 over OpenSSL EVP (see sha256.h). */
#include "sha256.h"

#include <openssl/evp.h>

#include "format.h"

int phi_sha256_init(struct phi_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	h->ctx = c;
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		phi_sha256_abort(h);
		return PHI_ENOMEM;
	}
	return 0;
}

void phi_sha256_update(struct phi_sha256 *h, const void *p, size_t n)
{
	if (h->ctx && n)
		EVP_DigestUpdate(h->ctx, p, n);
}

int phi_sha256_final(struct phi_sha256 *h, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;
	int ok = h->ctx && EVP_DigestFinal_ex(h->ctx, md, &n) == 1 && n == 32;
	phi_sha256_abort(h);
	hex[0] = 0;
	if (!ok)
		return PHI_ENOMEM;
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = 0;
	return 0;
}

void phi_sha256_abort(struct phi_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}
