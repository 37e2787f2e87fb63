/* sha256.c - SHA-256 over OpenSSL EVP, and up to three messages interleaved with
 * SHA-NI (see sha256.h).
 *
 * FIPS 180-4: 5.1.1 padding (0x80, zeros, the 64-bit big-endian bit length), 5.3.3
 * initial hash value, 6.2.2 the compression.  The SHA-NI mapping follows Intel's
 * "Intel SHA Extensions" paper (2013): the eight working variables live in two
 * registers as ABEF and CDGH, SHA256RNDS2 does two rounds, SHA256MSG1/MSG2 and one
 * PALIGNR extend the message schedule four words at a time.
 *
 * The SHA-NI functions carry a target attribute instead of -msha on the command line,
 * so the rest of the file (and the OpenSSL fallback) stays plain x86-64 and runs on a
 * CPU without the extensions; CPUID decides at run time, once per process.
 */
#include "sha256.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PHI_SHA256_HAVE_NI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define PHI_SHA256_HAVE_NI 0
#endif

static void to_hex(const unsigned char md[32], char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = 0;
}

/* ---- OpenSSL, loaded on first use ----
 *
 * libcrypto is not linked: ld.so bound its 3,380 symbols (BIND_NOW) at every start,
 * about 2 ms of CPU (an empty program linked with it: 0.6 -> 2.4-3.4 ms, perf stat),
 * and on a CPU with SHA-NI phiscan never calls it.  It is dlopen'ed, once, by the
 * first hash that needs it (a CPU without SHA-NI, or PHI_SHA256_OPENSSL asked); the
 * system's library still serves, so its security updates still reach phiscan. */

#define STR2(x) #x
#define STR(x) STR2(x)
#define LIBCRYPTO_SONAME "libcrypto.so." STR(OPENSSL_VERSION_MAJOR)

static struct {
	EVP_MD_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_MD_CTX *);
	const EVP_MD *(*sha256)(void);
	int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*update)(EVP_MD_CTX *, const void *, size_t);
	int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
	const char *(*version)(int);
	int ok;
} ossl;
static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;

static void ossl_load(void)
{
	void *lib = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return;
	/* POSIX: a void * from dlsym converts to a function pointer (XSH dlsym) */
	*(void **)&ossl.ctx_new = dlsym(lib, "EVP_MD_CTX_new");
	*(void **)&ossl.ctx_free = dlsym(lib, "EVP_MD_CTX_free");
	*(void **)&ossl.sha256 = dlsym(lib, "EVP_sha256");
	*(void **)&ossl.init = dlsym(lib, "EVP_DigestInit_ex");
	*(void **)&ossl.update = dlsym(lib, "EVP_DigestUpdate");
	*(void **)&ossl.final = dlsym(lib, "EVP_DigestFinal_ex");
	*(void **)&ossl.version = dlsym(lib, "OpenSSL_version");
	ossl.ok = ossl.ctx_new && ossl.ctx_free && ossl.sha256 && ossl.init && ossl.update &&
	          ossl.final && ossl.version;
}

static int ossl_ready(void)
{
	return pthread_once(&ossl_once, ossl_load) == 0 && ossl.ok;
}

const char *phi_sha256_openssl_version(void)
{
	return ossl_ready() ? ossl.version(OPENSSL_VERSION_STRING) : NULL;
}

static int evp_init(struct phi_sha256 *h)
{
	h->ni = 0;
	h->ctx = NULL;
	if (!ossl_ready())
		return PHI_ENOTSUP;
	EVP_MD_CTX *c = ossl.ctx_new();
	h->ctx = c;
	if (!c || ossl.init(c, ossl.sha256(), NULL) != 1) {
		phi_sha256_abort(h);
		return PHI_ENOMEM;
	}
	return 0;
}

/* ---- one message: SHA-NI where the CPU has it, else OpenSSL ---- */

int phi_sha256_init(struct phi_sha256 *h)
{
	h->ni = 0;
	h->ctx = NULL;
	if (!phi_sha256_has_shani())
		return evp_init(h);
	/* our one-stream SHA-NI code is as fast as OpenSSL's (README, DICOM: 1.02x) and
	 * needs no libcrypto */
	struct phi_sha256_multi *m = malloc(sizeof *m);
	if (!m || phi_sha256_multi_init(m, 1, PHI_SHA256_SHANI)) {
		free(m);
		return PHI_ENOMEM;
	}
	h->ni = 1;
	h->ctx = m;
	return 0;
}

void phi_sha256_update(struct phi_sha256 *h, const void *p, size_t n)
{
	if (!h->ctx || !n || !p)
		return;
	if (h->ni) {
		struct phi_sha256_msg m = {{{p, n}}};
		phi_sha256_multi_update(h->ctx, &m);
	} else {
		ossl.update(h->ctx, p, n);
	}
}

int phi_sha256_final(struct phi_sha256 *h, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	int ok;
	hex[0] = 0;
	if (h->ni && h->ctx) {
		char out[1][65];
		ok = phi_sha256_multi_final(h->ctx, out) == 0;
		if (ok)
			memcpy(hex, out[0], 65);
		phi_sha256_abort(h);
		return ok ? 0 : PHI_ENOMEM;
	}
	ok = h->ctx && ossl.final(h->ctx, md, &n) == 1 && n == 32;
	phi_sha256_abort(h);
	if (!ok)
		return PHI_ENOMEM;
	to_hex(md, hex);
	return 0;
}

void phi_sha256_abort(struct phi_sha256 *h)
{
	if (h->ctx && h->ni) {
		phi_sha256_multi_abort(h->ctx);
		free(h->ctx);
	} else if (h->ctx) {
		ossl.ctx_free(h->ctx); /* a ctx exists only once ossl is loaded */
	}
	h->ctx = NULL;
	h->ni = 0;
}

/* ---- several messages ---- */

#if PHI_SHA256_HAVE_NI

/* Full unrolling of the short loops in ni_blocks.  clang's `#pragma GCC unroll 3` left
 * the two-stream kernel slower than one stream at a time (0.95x); `#pragma unroll`
 * unrolls fully whatever the trip count.  gcc honours its own form. */
#if defined(__clang__)
#define PHI_UNROLL _Pragma("unroll")
#else
#define PHI_UNROLL _Pragma("GCC unroll 16")
#endif
#define NI_TARGET __attribute__((target("sha,sse4.1")))

/* FIPS 180-4 4.2.2 */
static const uint32_t K256[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2};

/* nblk 64-byte blocks of each of n (1..3) streams: stream s reads p[s] and updates
 * st[s] (ABEF, CDGH).  n is a constant in every caller: the loops over streams and
 * rounds unroll, the arrays become registers, and the rounds of the streams are
 * interleaved group by group, so the SHA unit always has independent work.
 * Three streams need more than the 16 XMM registers; where the compiler spills
 * decides the speed.  Tried and slower with gcc 12 or clang 14 (tests/bench,
 * bench_sha256.sh): helpers with `if (n > 1)` instead of loops, the schedule computed
 * ahead into memory, each step for all streams before the next.  A loop left rolled
 * keeps the arrays in memory and costs half the speed: keep the pragmas. */
NI_TARGET static inline __attribute__((always_inline)) void
ni_blocks(int n, __m128i *st[], const uint8_t *p[], size_t nblk)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i a[3], c[3], a0[3], c0[3], w[3][4];
	PHI_UNROLL
	for (int s = 0; s < n; s++) {
		a[s] = _mm_loadu_si128((const __m128i *)st[s]);
		c[s] = _mm_loadu_si128((const __m128i *)(st[s] + 1));
	}
	for (size_t b = 0; b < nblk; b++) {
		PHI_UNROLL
		for (int s = 0; s < n; s++) {
			a0[s] = a[s];
			c0[s] = c[s];
			PHI_UNROLL
			for (int i = 0; i < 4; i++)
				w[s][i] = _mm_shuffle_epi8(
				    _mm_loadu_si128((const __m128i *)(p[s] + 64 * b + 16 * i)), bswap);
		}
		/* 16 groups of 4 rounds; w[s][g % 4] holds W[4g .. 4g+3] of stream s. */
		PHI_UNROLL
		for (int g = 0; g < 16; g++) {
			const __m128i k = _mm_load_si128((const __m128i *)&K256[4 * g]);
			const int j = g & 3;
			PHI_UNROLL
			for (int s = 0; s < n; s++) {
				if (g >= 4) {
					/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], t = 4g.. */
					__m128i t = _mm_sha256msg1_epu32(w[s][j], w[s][(j + 1) & 3]);
					t = _mm_add_epi32(t, _mm_alignr_epi8(w[s][(j + 3) & 3],
					                                     w[s][(j + 2) & 3], 4));
					w[s][j] = _mm_sha256msg2_epu32(t, w[s][(j + 3) & 3]);
				}
				__m128i wk = _mm_add_epi32(w[s][j], k);
				c[s] = _mm_sha256rnds2_epu32(c[s], a[s], wk); /* now ABEF */
				wk = _mm_shuffle_epi32(wk, 0x0E);
				a[s] = _mm_sha256rnds2_epu32(a[s], c[s], wk); /* ABEF again */
			}
		}
		PHI_UNROLL
		for (int s = 0; s < n; s++) {
			a[s] = _mm_add_epi32(a[s], a0[s]);
			c[s] = _mm_add_epi32(c[s], c0[s]);
		}
	}
	PHI_UNROLL
	for (int s = 0; s < n; s++) {
		_mm_storeu_si128((__m128i *)st[s], a[s]);
		_mm_storeu_si128((__m128i *)(st[s] + 1), c[s]);
	}
}

NI_TARGET static void ni_blocks1(__m128i *st[], const uint8_t *p[], size_t nblk)
{
	ni_blocks(1, st, p, nblk);
}

NI_TARGET static void ni_blocks2(__m128i *st[], const uint8_t *p[], size_t nblk)
{
	ni_blocks(2, st, p, nblk);
}

NI_TARGET static void ni_blocks3(__m128i *st[], const uint8_t *p[], size_t nblk)
{
	ni_blocks(3, st, p, nblk);
}

static int ni_supported(void)
{
	static int known; /* 0 not asked yet, 1 no, 2 yes; every thread finds the same */
	int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (!v) {
		unsigned a, b, c, d;
		int ok = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3) &&
		         __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
		v = ok ? 2 : 1;
		__atomic_store_n(&known, v, __ATOMIC_RELAXED);
	}
	return v == 2;
}

/* Where one update call stands in one message: range r, offset off; the current run
 * of whole blocks (straight from a range, or the context's buf). */
struct ni_cursor {
	const struct phi_sha256_msg *m;
	int r;
	int dry; /* no whole block left in this call's bytes */
	size_t off;
	const uint8_t *p;
	size_t nblk;
};

/* The next run of message i into c->p/c->nblk: 1, or 0 when this call's bytes hold no
 * further whole block (the rest waits in buf for the next update or final). */
static int ni_refill(struct phi_sha256_multi *h, size_t i, struct ni_cursor *c)
{
	const struct phi_sha256_msg *m = c->m;
	size_t k = h->s[i].nbuf;
	while (c->r < PHI_SHA256_RANGES && c->off == m->r[c->r].n) {
		c->r++;
		c->off = 0;
	}
	if (c->dry)
		return 0;
	if (!k && c->r < PHI_SHA256_RANGES && m->r[c->r].n - c->off >= 64) {
		c->p = (const uint8_t *)m->r[c->r].p + c->off;
		c->nblk = (m->r[c->r].n - c->off) / 64;
		c->off += c->nblk * 64;
		h->s[i].total += c->nblk * 64;
		return 1;
	}
	/* a block across ranges or calls, or the end of this call's bytes */
	while (k < 64 && c->r < PHI_SHA256_RANGES) {
		size_t left = m->r[c->r].n - c->off;
		size_t take = left < 64 - k ? left : 64 - k;
		if (take) {
			/* a range with bytes has p (sha256.h); the test keeps the analyzer sure */
			if (m->r[c->r].p)
				memcpy(h->s[i].buf + k, (const uint8_t *)m->r[c->r].p + c->off, take);
			k += take;
			c->off += take;
			h->s[i].total += take;
		}
		if (c->off == m->r[c->r].n) {
			c->r++;
			c->off = 0;
		}
	}
	if (k < 64) {
		h->s[i].nbuf = k;
		c->dry = 1;
		return 0;
	}
	h->s[i].nbuf = 0; /* buf is the run until it is consumed */
	c->p = h->s[i].buf;
	c->nblk = 1;
	return 1;
}

/* Every whole block of more[0..n-1], the streams interleaved while two or three
 * have blocks left. */
static void ni_update(struct phi_sha256_multi *h, const struct phi_sha256_msg *more)
{
	struct ni_cursor c[PHI_SHA256_MULTI_MAX];
	__m128i st[PHI_SHA256_MULTI_MAX][2];
	for (size_t i = 0; i < h->n; i++) {
		memset(&c[i], 0, sizeof c[i]);
		c[i].m = &more[i];
		memcpy(st[i], h->s[i].st, 32);
	}
	for (;;) {
		__m128i *sp[PHI_SHA256_MULTI_MAX];
		const uint8_t *p[PHI_SHA256_MULTI_MAX];
		struct ni_cursor *live[PHI_SHA256_MULTI_MAX];
		int nl = 0;
		size_t run = SIZE_MAX;
		for (size_t i = 0; i < h->n; i++) {
			if (!c[i].nblk && !ni_refill(h, i, &c[i]))
				continue;
			live[nl] = &c[i];
			sp[nl] = st[i];
			p[nl] = c[i].p;
			if (c[i].nblk < run)
				run = c[i].nblk;
			nl++;
		}
		if (!nl)
			break;
		if (nl == 3)
			ni_blocks3(sp, p, run);
		else if (nl == 2)
			ni_blocks2(sp, p, run);
		else
			ni_blocks1(sp, p, run);
		for (int i = 0; i < nl; i++) {
			live[i]->p += 64 * run;
			live[i]->nblk -= run;
		}
	}
	for (size_t i = 0; i < h->n; i++)
		memcpy(h->s[i].st, st[i], 32);
}

/* FIPS 180-4 5.1.1: what is left in buf, 0x80, zeros to 56 mod 64, the length in
 * bits, hashed as one last update of one or two blocks per message. */
static void ni_final(struct phi_sha256_multi *h, char (*hex)[65])
{
	unsigned char pad[PHI_SHA256_MULTI_MAX][128];
	struct phi_sha256_msg m[PHI_SHA256_MULTI_MAX];
	memset(m, 0, sizeof m);
	for (size_t i = 0; i < h->n; i++) {
		size_t k = h->s[i].nbuf;
		uint64_t bits = h->s[i].total * 8;
		memcpy(pad[i], h->s[i].buf, k);
		pad[i][k++] = 0x80;
		size_t end = k <= 56 ? 64 : 128;
		memset(pad[i] + k, 0, end - 8 - k);
		for (int b = 0; b < 8; b++)
			pad[i][end - 1 - b] = (unsigned char)(bits >> (8 * b));
		h->s[i].nbuf = 0;
		m[i].r[0].p = pad[i];
		m[i].r[0].n = end;
	}
	ni_update(h, m);
	for (size_t i = 0; i < h->n; i++) {
		/* ABEF/CDGH back to H0..H7, big-endian (FIPS 180-4 6.2.2 step 4) */
		const unsigned char *st = h->s[i].st;
		unsigned char md[32];
		static const int word[8] = {3, 2, 7, 6, 1, 0, 5, 4}; /* A B C D E F G H */
		for (int w = 0; w < 8; w++)
			for (int b = 0; b < 4; b++)
				md[4 * w + b] = st[4 * word[w] + 3 - b];
		to_hex(md, hex[i]);
	}
}

int phi_sha256_has_shani(void)
{
	return ni_supported();
}

#else /* no SHA-NI code on this target */

static void ni_update(struct phi_sha256_multi *h, const struct phi_sha256_msg *more)
{
}

static void ni_final(struct phi_sha256_multi *h, char (*hex)[65])
{
}

int phi_sha256_has_shani(void)
{
	return 0;
}

#endif

/* FIPS 180-4 5.3.3 in the ABEF/CDGH order (lane 0, the lowest word, first): F E B A,
 * H G D C. */
static const uint32_t H0_NI[8] = {0x9b05688c, 0x510e527f, 0xbb67ae85, 0x6a09e667,
                                  0x5be0cd19, 0x1f83d9ab, 0xa54ff53a, 0x3c6ef372};

int phi_sha256_multi_init(struct phi_sha256_multi *h, size_t n, enum phi_sha256_impl impl)
{
	memset(h, 0, sizeof *h);
	if (!n || n > PHI_SHA256_MULTI_MAX)
		return PHI_EUSAGE;
	if (impl == PHI_SHA256_AUTO)
		impl = phi_sha256_has_shani() ? PHI_SHA256_SHANI : PHI_SHA256_OPENSSL;
	if (impl == PHI_SHA256_SHANI && !phi_sha256_has_shani())
		return PHI_ENOTSUP;
	h->n = n;
	h->ni = impl == PHI_SHA256_SHANI;
	for (size_t i = 0; i < n; i++) {
		if (h->ni)
			memcpy(h->s[i].st, H0_NI, 32); /* native byte order, as the registers */
		else if (evp_init(&h->ossl[i])) {
			phi_sha256_multi_abort(h);
			return PHI_ENOMEM;
		}
	}
	return 0;
}

void phi_sha256_multi_update(struct phi_sha256_multi *h, const struct phi_sha256_msg *more)
{
	if (h->ni) {
		ni_update(h, more);
		return;
	}
	for (size_t i = 0; i < h->n; i++)
		for (int r = 0; r < PHI_SHA256_RANGES; r++)
			phi_sha256_update(&h->ossl[i], more[i].r[r].p, more[i].r[r].n);
}

int phi_sha256_multi_final(struct phi_sha256_multi *h, char (*hex)[65])
{
	int rc = 0;
	if (h->ni)
		ni_final(h, hex);
	else
		for (size_t i = 0; i < h->n; i++)
			if (phi_sha256_final(&h->ossl[i], hex[i]))
				rc = PHI_ENOMEM;
	if (rc)
		for (size_t i = 0; i < h->n; i++)
			hex[i][0] = 0;
	phi_sha256_multi_abort(h);
	return rc;
}

void phi_sha256_multi_abort(struct phi_sha256_multi *h)
{
	for (size_t i = 0; i < PHI_SHA256_MULTI_MAX; i++)
		phi_sha256_abort(&h->ossl[i]);
	memset(h, 0, sizeof *h);
}

int phi_sha256_multi_impl(const struct phi_sha256_msg *m, size_t n, char (*hex)[65],
                          enum phi_sha256_impl impl)
{
	struct phi_sha256_multi h;
	if (n && n <= PHI_SHA256_MULTI_MAX)
		for (size_t i = 0; i < n; i++)
			hex[i][0] = 0;
	int rc = phi_sha256_multi_init(&h, n, impl);
	if (rc)
		return rc;
	phi_sha256_multi_update(&h, m);
	return phi_sha256_multi_final(&h, hex);
}

int phi_sha256_multi(const struct phi_sha256_msg *m, size_t n, char (*hex)[65])
{
	return phi_sha256_multi_impl(m, n, hex, PHI_SHA256_AUTO);
}

int phi_sha256_fds(const int *fd, size_t n, char (*hex)[65])
{
	enum { CHUNK = 128 << 10 }; /* three chunks stay in a 1 MiB L2 */
	struct phi_sha256_multi h;
	int rc = phi_sha256_multi_init(&h, n, PHI_SHA256_AUTO);
	if (rc)
		return rc;
	unsigned char *buf = malloc(n * CHUNK);
	if (!buf) {
		phi_sha256_multi_abort(&h);
		return PHI_ENOMEM;
	}
	uint64_t off[PHI_SHA256_MULTI_MAX] = {0};
	int eof[PHI_SHA256_MULTI_MAX] = {0};
	for (;;) {
		struct phi_sha256_msg m[PHI_SHA256_MULTI_MAX];
		int any = 0;
		memset(m, 0, sizeof m);
		for (size_t i = 0; i < n && !rc; i++) {
			if (eof[i])
				continue;
			ssize_t k;
			do
				k = pread(fd[i], buf + i * CHUNK, CHUNK, (off_t)off[i]);
			while (k < 0 && errno == EINTR);
			if (k < 0)
				rc = PHI_EIO;
			else if (!k)
				eof[i] = 1;
			else {
				m[i].r[0].p = buf + i * CHUNK;
				m[i].r[0].n = (size_t)k;
				off[i] += (uint64_t)k;
				any = 1;
			}
		}
		if (rc || !any)
			break;
		phi_sha256_multi_update(&h, m);
	}
	free(buf);
	if (rc) {
		phi_sha256_multi_abort(&h);
		for (size_t i = 0; i < n; i++)
			hex[i][0] = 0;
		return rc;
	}
	return phi_sha256_multi_final(&h, hex);
}
