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

#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

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
	unsigned char md[32];
	unsigned int n = 0;
	int ok = h->ctx && EVP_DigestFinal_ex(h->ctx, md, &n) == 1 && n == 32;
	phi_sha256_abort(h);
	hex[0] = 0;
	if (!ok)
		return PHI_ENOMEM;
	to_hex(md, hex);
	return 0;
}

void phi_sha256_abort(struct phi_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* ---- several messages ---- */

static int multi_openssl(const struct phi_sha256_msg *m, size_t n, char (*hex)[65])
{
	for (size_t i = 0; i < n; i++) {
		struct phi_sha256 h;
		if (phi_sha256_init(&h))
			return PHI_ENOMEM;
		for (int r = 0; r < PHI_SHA256_RANGES; r++)
			phi_sha256_update(&h, m[i].r[r].p, m[i].r[r].n);
		if (phi_sha256_final(&h, hex[i]))
			return PHI_ENOMEM;
	}
	return 0;
}

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

/* FIPS 180-4 5.3.3, in the ABEF/CDGH register order: lane 0 is the low word, so
 * ABEF holds F, E, B, A from lane 0 up and CDGH holds H, G, D, C. */
static const uint32_t H0_ABEF[4] __attribute__((aligned(16))) = {0x9b05688c, 0x510e527f,
                                                                   0xbb67ae85, 0x6a09e667};
static const uint32_t H0_CDGH[4] __attribute__((aligned(16))) = {0x5be0cd19, 0x1f83d9ab,
                                                                   0xa54ff53a, 0x3c6ef372};

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

/* ABEF/CDGH back to the digest bytes H0..H7, big-endian (FIPS 180-4 6.2.2 step 4). */
static void ni_digest(const __m128i st[2], unsigned char md[32])
{
	uint32_t abef[4], cdgh[4];
	memcpy(abef, &st[0], 16);
	memcpy(cdgh, &st[1], 16);
	const uint32_t h[8] = {abef[3], abef[2], cdgh[3], cdgh[2],
	                       abef[1], abef[0], cdgh[1], cdgh[0]};
	for (int i = 0; i < 8; i++) {
		md[4 * i] = (unsigned char)(h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(h[i] >> 8);
		md[4 * i + 3] = (unsigned char)h[i];
	}
}

/* One message as a sequence of runs of whole blocks: straight from its ranges where
 * 64 bytes lie in one range, else gathered (a block across two ranges, the tail and
 * the padding) into buf. */
struct ni_stream {
	__m128i st[2];
	const struct phi_sha256_msg *m;
	uint64_t total; /* bytes so far */
	const uint8_t *p; /* current run */
	size_t nblk;      /* blocks left in it */
	size_t off;       /* in range r */
	int r;
	int done; /* the padding is in the current run */
	uint8_t buf[128];
};

/* The next run of s into s->p/s->nblk; 0 when the message is all hashed. */
static int ni_refill(struct ni_stream *s)
{
	if (s->done)
		return 0;
	while (s->r < PHI_SHA256_RANGES && s->off == s->m->r[s->r].n) {
		s->r++;
		s->off = 0;
	}
	if (s->r < PHI_SHA256_RANGES && s->m->r[s->r].n - s->off >= 64) {
		size_t left = s->m->r[s->r].n - s->off;
		s->p = (const uint8_t *)s->m->r[s->r].p + s->off;
		s->nblk = left / 64;
		s->off += s->nblk * 64;
		s->total += s->nblk * 64;
		return 1;
	}
	size_t k = 0;
	while (k < 64 && s->r < PHI_SHA256_RANGES) {
		size_t left = s->m->r[s->r].n - s->off;
		size_t take = left < 64 - k ? left : 64 - k;
		if (take) {
			memcpy(s->buf + k, (const uint8_t *)s->m->r[s->r].p + s->off, take);
			k += take;
			s->off += take;
		}
		if (s->off == s->m->r[s->r].n) {
			s->r++;
			s->off = 0;
		}
	}
	s->total += k;
	s->p = s->buf;
	if (k == 64) {
		s->nblk = 1;
		return 1;
	}
	/* FIPS 180-4 5.1.1: 0x80, zeros to 56 mod 64, the length in bits. */
	s->buf[k++] = 0x80;
	size_t end = k <= 56 ? 64 : 128;
	memset(s->buf + k, 0, end - 8 - k);
	uint64_t bits = s->total * 8;
	for (int i = 0; i < 8; i++)
		s->buf[end - 1 - i] = (uint8_t)(bits >> (8 * i));
	s->nblk = end / 64;
	s->done = 1;
	return 1;
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

static int multi_ni(const struct phi_sha256_msg *m, size_t n, char (*hex)[65])
{
	struct ni_stream s[PHI_SHA256_MULTI_MAX];
	for (size_t i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof s[i]);
		memcpy(&s[i].st[0], H0_ABEF, 16);
		memcpy(&s[i].st[1], H0_CDGH, 16);
		s[i].m = &m[i];
	}
	for (;;) {
		__m128i *st[PHI_SHA256_MULTI_MAX];
		const uint8_t *p[PHI_SHA256_MULTI_MAX];
		struct ni_stream *live[PHI_SHA256_MULTI_MAX];
		int nl = 0;
		size_t run = SIZE_MAX;
		for (size_t i = 0; i < n; i++) {
			if (!s[i].nblk && !ni_refill(&s[i]))
				continue;
			live[nl] = &s[i];
			st[nl] = s[i].st;
			p[nl] = s[i].p;
			if (s[i].nblk < run)
				run = s[i].nblk;
			nl++;
		}
		if (!nl)
			break;
		if (nl == 3)
			ni_blocks3(st, p, run);
		else if (nl == 2)
			ni_blocks2(st, p, run);
		else
			ni_blocks1(st, p, run);
		for (int i = 0; i < nl; i++) {
			live[i]->p += 64 * run;
			live[i]->nblk -= run;
		}
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char md[32];
		ni_digest(s[i].st, md);
		to_hex(md, hex[i]);
	}
	return 0;
}

int phi_sha256_has_shani(void)
{
	return ni_supported();
}

#else /* no SHA-NI code on this target */

static int multi_ni(const struct phi_sha256_msg *m, size_t n, char (*hex)[65])
{
	return PHI_ENOTSUP;
}

int phi_sha256_has_shani(void)
{
	return 0;
}

#endif

int phi_sha256_multi_impl(const struct phi_sha256_msg *m, size_t n, char (*hex)[65],
                          enum phi_sha256_impl impl)
{
	if (!n || n > PHI_SHA256_MULTI_MAX)
		return PHI_EUSAGE;
	for (size_t i = 0; i < n; i++)
		hex[i][0] = 0;
	if (impl == PHI_SHA256_AUTO)
		impl = phi_sha256_has_shani() ? PHI_SHA256_SHANI : PHI_SHA256_OPENSSL;
	if (impl == PHI_SHA256_SHANI && !phi_sha256_has_shani())
		return PHI_ENOTSUP;
	int rc = impl == PHI_SHA256_SHANI ? multi_ni(m, n, hex) : multi_openssl(m, n, hex);
	if (rc)
		for (size_t i = 0; i < n; i++)
			hex[i][0] = 0;
	return rc;
}

int phi_sha256_multi(const struct phi_sha256_msg *m, size_t n, char (*hex)[65])
{
	return phi_sha256_multi_impl(m, n, hex, PHI_SHA256_AUTO);
}
