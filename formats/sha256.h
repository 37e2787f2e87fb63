/* sha256.h - SHA-256 for file and region hashes (manifest, protected regions).
 *
 * FIPS 180-4 section 6.2.  Two APIs:
 *
 * - phi_sha256_init/update/final: one streaming message, with the SHA-NI code below
 *   on a CPU that has it (one stream, as fast as OpenSSL's), else over OpenSSL's
 *   libcrypto (1.5 GB/s here against libsodium's portable 0.2 GB/s, which made
 *   hashing 72 % of a DICOM strip).  libcrypto is not linked but dlopen'ed on first
 *   use (sha256.c: its load cost 2 ms at every start).  libsodium stays for the
 *   keyed HMACs, whose inputs are short.
 *
 * - phi_sha256_multi: up to three whole messages in memory hashed in one interleaved
 *   pass with the SHA-NI instructions (Intel SHA extensions: SHA256RNDS2, SHA256MSG1/2).
 *   One stream is latency-bound: every SHA256RNDS2 waits for the one before, so a
 *   second and a third independent stream fill the idle issue slots.  On this VM
 *   (AMD EPYC, Zen 3) three 0.5 MB messages take about half the time of OpenSSL
 *   hashing them one after the other (tests/bench/bench_sha256.sh; README, DICOM).
 *   Built for the DICOM strip's manifest: the input file, the input's stored Pixel
 *   Data bytes and the output file, where both files end with the same pixel bytes,
 *   so each message is given as up to four byte ranges (a header, then the shared
 *   bytes) and nothing is copied.  Without SHA-NI (checked at run time with CPUID)
 *   or off x86 it hashes the messages one by one with OpenSSL: same results.
 *   phi_sha256_multi_init/update/final is the same fed in pieces, and phi_sha256_fds
 *   reads up to three files with it (the scanner's input and output hashes).
 *
 * Threading: a phi_sha256 or phi_sha256_multi context belongs to one thread;
 * phi_sha256_multi and phi_sha256_fds keep no state and may run on any number of
 * threads at once.  Ownership: init allocates (the multi context only on the OpenSSL
 * path), final or abort releases; a context is reusable after either.  The ranges
 * given to phi_sha256_multi and to an update are borrowed for the call.
 */
#ifndef PHI_SHA256_H
#define PHI_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct phi_sha256 {
	void *ctx; /* EVP_MD_CTX, or a struct phi_sha256_multi of one message (ni) */
	int ni;
};

/* 0, PHI_ENOMEM, or PHI_ENOTSUP: no SHA-NI and libcrypto cannot be loaded. */
int phi_sha256_init(struct phi_sha256 *h);
void phi_sha256_update(struct phi_sha256 *h, const void *p, size_t n);
int phi_sha256_final(struct phi_sha256 *h, char hex[65]); /* 64 hex digits + NUL */
void phi_sha256_abort(struct phi_sha256 *h);

#define PHI_SHA256_MULTI_MAX 3 /* messages in one phi_sha256_multi call */
#define PHI_SHA256_RANGES 4    /* byte ranges in one message */

/* A message: the concatenation of its ranges in order.  A range with n == 0 is
 * skipped (p may then be NULL), so a zero-initialised tail is fine:
 *   struct phi_sha256_msg in = {{{hdr, hdr_n}, {pix, pix_n}}};
 * Ranges of different messages may be the same bytes. */
struct phi_sha256_msg {
	struct {
		const void *p;
		size_t n;
	} r[PHI_SHA256_RANGES];
};

/* Which code hashes: AUTO picks SHANI when the CPU has it, else OPENSSL. */
enum phi_sha256_impl { PHI_SHA256_AUTO, PHI_SHA256_OPENSSL, PHI_SHA256_SHANI };

/* Hash messages m[0..n-1] (1 <= n <= PHI_SHA256_MULTI_MAX) into hex[0..n-1] (64 hex
 * digits + NUL each).  0, PHI_EUSAGE for n out of range, PHI_ENOMEM when OpenSSL
 * fails; on error every hex[i] is "". */
int phi_sha256_multi(const struct phi_sha256_msg *m, size_t n, char (*hex)[65]);

/* The same with a chosen implementation (tests and tests/bench): PHI_ENOTSUP for
 * PHI_SHA256_SHANI on a CPU without SHA-NI. */
int phi_sha256_multi_impl(const struct phi_sha256_msg *m, size_t n, char (*hex)[65],
                          enum phi_sha256_impl impl);

/* 1 when this CPU runs the SHA-NI code (SHA, SSE4.1 and SSSE3 in CPUID), else 0. */
int phi_sha256_has_shani(void);

/* The same for messages fed in pieces (files read in chunks): init, any number of
 * updates, each giving more bytes of every message (more[i], ranges of n == 0 for a
 * message with nothing new), then final.  Caller-allocated; init may allocate (the
 * OpenSSL contexts of the fallback) and final or abort releases, so a context is
 * reusable after either.  One thread at a time. */
struct phi_sha256_multi {
	size_t n;
	int ni; /* 1: the SHA-NI code; 0: OpenSSL (ossl) */
	struct phi_sha256 ossl[PHI_SHA256_MULTI_MAX];
	struct {
		unsigned char st[32]; /* the state as ABEF, CDGH (SHA-NI) */
		uint64_t total;                    /* bytes so far */
		size_t nbuf;                       /* bytes of an unfinished block in buf */
		unsigned char buf[64];
	} s[PHI_SHA256_MULTI_MAX];
};

/* 0, PHI_EUSAGE (n out of range), PHI_ENOTSUP (SHANI asked, CPU lacks it), PHI_ENOMEM. */
int phi_sha256_multi_init(struct phi_sha256_multi *h, size_t n, enum phi_sha256_impl impl);
void phi_sha256_multi_update(struct phi_sha256_multi *h, const struct phi_sha256_msg *more);
/* 0 or PHI_ENOMEM (OpenSSL failed; every hex[i] is then ""). */
int phi_sha256_multi_final(struct phi_sha256_multi *h, char (*hex)[65]);
void phi_sha256_multi_abort(struct phi_sha256_multi *h);

/* The whole files behind fd[0..n-1] (1 <= n <= 3), read with pread from offset 0 to
 * their end, in lockstep chunks, hashed together: the scanner's input and output
 * hashes for the manifest.  0, PHI_EUSAGE, PHI_ENOMEM, or PHI_EIO when a read fails
 * (a pipe, for one); on error every hex[i] is "". */
int phi_sha256_fds(const int *fd, size_t n, char (*hex)[65]);

/* OpenSSL's version string (loads libcrypto), NULL when it cannot be loaded. */
const char *phi_sha256_openssl_version(void);

#endif
