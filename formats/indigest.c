/* indigest.c - the strip manifest's keyed input digest (see indigest.h). */
#include "indigest.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int unhex(const char hex[65], unsigned char raw[32])
{
	size_t n = 0;
	return sodium_hex2bin(raw, 32, hex, 64, NULL, &n, NULL) == 0 && n == 32 ? 0 : -1;
}

/* SHA-256 of the empty message: the ranges' hash when there are none */
static const char EMPTY_SHA256[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#define GAP_CHUNK (64u << 10)

int phi_indigest_dicom(const unsigned char *data, int fd, uint64_t size,
                       const struct phi_dicom_pixmap *pm, const char pix_hex[65],
                       char d_hex[65], struct phi_error *err)
{
	struct phi_sha256 gaps, d;
	char gap_hex[65];
	unsigned char raw[32], u[16];
	unsigned char *buf = NULL;
	size_t n = pm && pm->seen ? pm->n : 0;
	int rc = 0;
	d_hex[0] = 0;
	if (phi_sha256_init(&gaps))
		return phi_fail(err, PHI_ENOMEM, "out of memory hashing the input");
	if (!data && !(buf = malloc(GAP_CHUNK))) {
		phi_sha256_abort(&gaps);
		return phi_fail(err, PHI_ENOMEM, "out of memory hashing the input");
	}
	uint64_t at = 0;
	for (size_t i = 0; i <= n && !rc; i++) {
		uint64_t end = i < n ? pm->v[i].off : size;
		if (end < at || end > size) {
			rc = phi_fail(err, PHI_EFORMAT, "pixel data map out of order");
			break;
		}
		if (data) {
			phi_sha256_update(&gaps, data + at, (size_t)(end - at));
		} else {
			for (uint64_t o = at; o < end;) {
				size_t k = end - o < GAP_CHUNK ? (size_t)(end - o) : GAP_CHUNK;
				ssize_t got = pread(fd, buf, k, (off_t)o);
				if (got < 0 && errno == EINTR)
					continue;
				if (got <= 0) {
					rc = phi_fail(err, PHI_EIO, "cannot read the input at offset %llu",
					              (unsigned long long)o);
					break;
				}
				phi_sha256_update(&gaps, buf, (size_t)got);
				o += (uint64_t)got;
			}
		}
		if (i < n)
			at = pm->v[i].off + pm->v[i].len;
	}
	free(buf);
	if (rc) {
		phi_sha256_abort(&gaps);
		return rc;
	}
	if (phi_sha256_final(&gaps, gap_hex) || phi_sha256_init(&d))
		return phi_fail(err, PHI_ENOMEM, "out of memory hashing the input");
	static const char tag[] = "phiscan dicom-pixels v1"; /* and its NUL */
	phi_sha256_update(&d, tag, sizeof tag);
	put_u64(u, size);
	put_u64(u + 8, n);
	phi_sha256_update(&d, u, 16);
	for (size_t i = 0; i < n; i++) {
		put_u64(u, pm->v[i].off);
		put_u64(u + 8, pm->v[i].len);
		phi_sha256_update(&d, u, 16);
	}
	if (unhex(gap_hex, raw)) {
		phi_sha256_abort(&d);
		return phi_fail(err, PHI_EUSAGE, "bad hash");
	}
	phi_sha256_update(&d, raw, 32);
	if (unhex(pix_hex && pix_hex[0] ? pix_hex : EMPTY_SHA256, raw)) {
		phi_sha256_abort(&d);
		return phi_fail(err, PHI_EUSAGE, "bad pixel hash");
	}
	phi_sha256_update(&d, raw, 32);
	if (phi_sha256_final(&d, d_hex))
		return phi_fail(err, PHI_ENOMEM, "out of memory hashing the input");
	return 0;
}

void phi_indigest_key(struct phi_indigest_key *k, const unsigned char key[32])
{
	static const char label[] = "phiscan input digest v1";
	unsigned char kk[32];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof label - 1);
	crypto_auth_hmacsha256_final(&st, kk);
	crypto_auth_hmacsha256_init(&k->st, kk, sizeof kk);
	sodium_memzero(kk, sizeof kk);
}

void phi_indigest_seal(const struct phi_indigest_key *k, const char *kind, const char d_hex[65],
                       char out_hex[65])
{
	unsigned char raw[32], mac[32];
	crypto_auth_hmacsha256_state st = k->st;
	out_hex[0] = 0;
	if (unhex(d_hex, raw))
		return;
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_auth_hmacsha256_update(&st, raw, sizeof raw);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out_hex, 65, mac, sizeof mac);
}

int phi_indigest_file(int fd, uint64_t size, bool dicom, const struct phi_limits *lim,
                      const unsigned char key[32], const char **kind, char out_hex[65],
                      struct phi_error *err)
{
	char d[65] = "", pix[65] = "";
	int rc = 0;
	*kind = PHI_INDIGEST_SHA256;
	out_hex[0] = 0;
	if (dicom) {
		struct phi_dicom_pixmap pm = {0};
		rc = phi_dicom_check_lengths_map(fd, size, lim, pix, &pm, err);
		if (!rc && !pm.deflated) {
			*kind = PHI_INDIGEST_DICOM;
			rc = phi_indigest_dicom(NULL, fd, size, &pm, pix, d, err);
		}
		free(pm.v);
		if (rc)
			return rc;
	}
	if (!d[0]) {
		const int fds[1] = {fd};
		char hex[1][65];
		if ((rc = phi_sha256_fds(fds, 1, hex)))
			return phi_fail(err, rc, "cannot read the file: %s", phi_strerror(rc));
		memcpy(d, hex[0], sizeof d);
	}
	struct phi_indigest_key k;
	phi_indigest_key(&k, key);
	phi_indigest_seal(&k, *kind, d, out_hex);
	sodium_memzero(&k, sizeof k);
	return 0;
}
