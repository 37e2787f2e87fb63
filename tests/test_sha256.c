/* test_sha256.c - formats/sha256.c: phi_sha256_multi gives OpenSSL's digest for every
 * message length and every way of splitting a message into ranges, with 1, 2 or 3
 * messages at once, on the SHA-NI path (when this CPU has it) and the OpenSSL path.
 *
 * The reference is OpenSSL's one-shot EVP_Digest over the message made contiguous,
 * not phi_sha256_*, so neither path is checked against itself; the FIPS 180-4 example
 * vectors (NIST CSRC "Examples with intermediate values", SHA-256) pin both.  Lengths
 * cover every padding edge (55/56 bytes: the length fits the last block or not;
 * 63/64/65: a block boundary; the same one block later) and random sizes up to 3 MB.
 * The streaming form (init/update/final) is fed the same messages in random pieces,
 * and phi_sha256_fds reads files.  Random data is from a fixed-seed generator, so a
 * failure reproduces.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/format.h"
#include "../formats/sha256.h"

#define BIG (3u << 20) /* 3 MiB */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t below(size_t n) /* 0 .. n-1 */
{
	return n ? (size_t)(next() % n) : 0;
}

static uint8_t *random_bytes(size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	cr_assert_not_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(next() >> 32);
	return b;
}

/* OpenSSL over the concatenation of m's ranges. */
static void reference(const struct phi_sha256_msg *m, char hex[65])
{
	size_t len = 0;
	for (int r = 0; r < PHI_SHA256_RANGES; r++)
		len += m->r[r].n;
	uint8_t *all = malloc(len ? len : 1);
	cr_assert_not_null(all);
	size_t at = 0;
	for (int r = 0; r < PHI_SHA256_RANGES; r++) {
		if (m->r[r].n)
			memcpy(all + at, m->r[r].p, m->r[r].n);
		at += m->r[r].n;
	}
	unsigned char md[32];
	unsigned int mdn = 0;
	cr_assert_eq(EVP_Digest(all, len, md, &mdn, EVP_sha256(), NULL), 1);
	cr_assert_eq(mdn, 32u);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(all);
}

/* The implementations this machine can run. */
static int impls(enum phi_sha256_impl out[2])
{
	int n = 0;
	out[n++] = PHI_SHA256_OPENSSL;
	if (phi_sha256_has_shani())
		out[n++] = PHI_SHA256_SHANI;
	return n;
}

static const char *impl_name(enum phi_sha256_impl i)
{
	return i == PHI_SHA256_SHANI ? "sha-ni" : i == PHI_SHA256_OPENSSL ? "openssl" : "auto";
}

/* Every implementation (and AUTO) gives the reference digest of every message. */
static void check(const struct phi_sha256_msg *m, size_t n, const char *what)
{
	char want[PHI_SHA256_MULTI_MAX][65];
	for (size_t i = 0; i < n; i++)
		reference(&m[i], want[i]);
	enum phi_sha256_impl im[3];
	int ni = impls(im);
	im[ni++] = PHI_SHA256_AUTO;
	for (int k = 0; k < ni; k++) {
		char got[PHI_SHA256_MULTI_MAX][65];
		memset(got, 'x', sizeof got);
		cr_assert_eq(phi_sha256_multi_impl(m, n, got, im[k]), 0, "%s: %s", what,
		             impl_name(im[k]));
		for (size_t i = 0; i < n; i++)
			cr_assert_str_eq(got[i], want[i], "%s: %s, message %zu of %zu", what,
			                 impl_name(im[k]), i, n);
	}
}

/* A message of len bytes from src, cut at random points into up to four ranges,
 * some of them empty (NULL pointer and all). */
static void split(struct phi_sha256_msg *m, const uint8_t *src, size_t len)
{
	memset(m, 0, sizeof *m);
	size_t cut[PHI_SHA256_RANGES + 1];
	cut[0] = 0;
	cut[PHI_SHA256_RANGES] = len;
	int parts = 1 + (int)below(PHI_SHA256_RANGES);
	for (int r = 1; r < PHI_SHA256_RANGES; r++)
		cut[r] = r < parts ? below(len + 1) : len;
	for (int r = 1; r < PHI_SHA256_RANGES; r++) /* sort the cuts */
		for (int q = r; q > 1 && cut[q] < cut[q - 1]; q--) {
			size_t t = cut[q];
			cut[q] = cut[q - 1];
			cut[q - 1] = t;
		}
	for (int r = 0; r < PHI_SHA256_RANGES; r++) {
		m->r[r].n = cut[r + 1] - cut[r];
		m->r[r].p = m->r[r].n ? src + cut[r] : NULL;
	}
}

Test(sha256, multi_gives_the_fips_180_4_example_digests)
{
	static const char two_block[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char long_msg[] =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	uint8_t *million = malloc(1000000);
	cr_assert_not_null(million);
	memset(million, 'a', 1000000);
	struct phi_sha256_msg m[3] = {{{{"abc", 3}}}, {{{two_block, sizeof two_block - 1}}},
	                              {{{NULL, 0}}}};
	const char *want[3] = {
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
	struct phi_sha256_msg m2[2] = {{{{long_msg, sizeof long_msg - 1}}},
	                               {{{million, 400000}, {million, 600000}}}};
	const char *want2[2] = {
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"};
	enum phi_sha256_impl im[3];
	int ni = impls(im);
	im[ni++] = PHI_SHA256_AUTO;
	for (int k = 0; k < ni; k++) {
		char got[3][65];
		cr_assert_eq(phi_sha256_multi_impl(m, 3, got, im[k]), 0);
		for (int i = 0; i < 3; i++)
			cr_assert_str_eq(got[i], want[i], "%s, vector %d", impl_name(im[k]), i);
		cr_assert_eq(phi_sha256_multi_impl(m2, 2, got, im[k]), 0);
		for (int i = 0; i < 2; i++)
			cr_assert_str_eq(got[i], want2[i], "%s, long vector %d", impl_name(im[k]), i);
	}
	free(million);
}

Test(sha256, multi_matches_openssl_at_every_length_up_to_200_split_every_way)
{
	uint8_t *src = random_bytes(256);
	for (size_t len = 0; len <= 200; len++)
		for (size_t cut = 0; cut <= len; cut++) {
			/* the message in two ranges cut at `cut`; the same bytes whole; a third
			 * message of another length so the streams end at different blocks */
			struct phi_sha256_msg m[3] = {{{{src, cut}, {src + cut, len - cut}}},
			                              {{{src, len}}},
			                              {{{src + 7, (len * 7) % 201}}}};
			char what[64];
			snprintf(what, sizeof what, "length %zu cut at %zu", len, cut);
			check(m, 1 + cut % 3, what);
		}
	free(src);
}

Test(sha256, multi_matches_openssl_for_random_lengths_to_3_mb_and_random_splits)
{
	uint8_t *src = random_bytes(BIG + 64);
	for (int t = 0; t < 2000; t++) {
		size_t n = 1 + below(PHI_SHA256_MULTI_MAX);
		struct phi_sha256_msg m[PHI_SHA256_MULTI_MAX];
		for (size_t i = 0; i < n; i++) {
			/* log-uniform in 0 .. 3 MiB: every scale, mostly small */
			size_t len = (size_t)1 << below(23);
			len = below(len * 2 < BIG ? len * 2 : BIG + 1);
			size_t start = below(BIG - len + 64); /* any alignment */
			split(&m[i], src + start, len);
		}
		char what[64];
		snprintf(what, sizeof what, "case %d", t);
		check(m, n, what);
	}
	free(src);
}

Test(sha256, multi_hashes_three_messages_sharing_the_same_pixel_bytes)
{
	/* The DICOM strip's three hashes: input file = header + pixels, the pixels alone,
	 * output file = another header + the same pixels (one 0.5 MB slice). */
	uint8_t *pix = random_bytes(512 * 512 * 2);
	uint8_t *hin = random_bytes(1499), *hout = random_bytes(1201);
	struct phi_sha256_msg m[3] = {{{{hin, 1499}, {pix, 512 * 512 * 2}}},
	                              {{{pix, 512 * 512 * 2}}},
	                              {{{hout, 1201}, {pix, 512 * 512 * 2}}}};
	check(m, 3, "dicom-like");
	/* and the lengths far apart: one stream goes on alone after the others end */
	struct phi_sha256_msg far[3] = {{{{hin, 1}}}, {{{pix, 512 * 512 * 2}}}, {{{NULL, 0}}}};
	check(far, 3, "lengths far apart");
	free(pix);
	free(hin);
	free(hout);
}

Test(sha256, multi_refuses_zero_or_more_than_three_messages_and_clears_the_outputs)
{
	struct phi_sha256_msg m[4] = {{{{"a", 1}}}, {{{"b", 1}}}, {{{"c", 1}}}, {{{"d", 1}}}};
	char hex[4][65];
	memset(hex, 'x', sizeof hex);
	cr_assert_eq(phi_sha256_multi(m, 4, hex), PHI_EUSAGE);
	cr_assert_eq(phi_sha256_multi(m, 0, hex), PHI_EUSAGE);
	cr_assert_eq(phi_sha256_multi(m, 3, hex), 0);
	cr_assert_str_eq(hex[0], "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
}

Test(sha256, shani_is_refused_exactly_when_the_cpu_lacks_it)
{
	struct phi_sha256_msg m = {{{"abc", 3}}};
	char hex[1][65];
	int rc = phi_sha256_multi_impl(&m, 1, hex, PHI_SHA256_SHANI);
	if (phi_sha256_has_shani()) {
		cr_assert_eq(rc, 0);
		cr_assert_str_eq(hex[0],
		                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	} else {
		cr_assert_eq(rc, PHI_ENOTSUP);
		cr_assert_str_eq(hex[0], "");
	}
}

Test(sha256, streaming_in_random_pieces_matches_openssl)
{
	uint8_t *src = random_bytes((1u << 20) + 64);
	enum phi_sha256_impl im[2];
	int ni = impls(im);
	for (int t = 0; t < 300; t++) {
		size_t n = 1 + below(PHI_SHA256_MULTI_MAX), len[3], fed[3] = {0};
		struct phi_sha256_msg whole[3];
		memset(whole, 0, sizeof whole);
		for (size_t i = 0; i < n; i++) {
			len[i] = below(((size_t)1 << below(21)) + 1); /* 0 .. 1 MiB, every scale */
			whole[i].r[0].p = src + below(64);
			whole[i].r[0].n = len[i];
		}
		char want[3][65];
		for (size_t i = 0; i < n; i++)
			reference(&whole[i], want[i]);
		for (int k = 0; k < ni; k++) {
			struct phi_sha256_multi h;
			cr_assert_eq(phi_sha256_multi_init(&h, n, im[k]), 0);
			memset(fed, 0, sizeof fed);
			for (int done = 0; !done;) {
				/* each message gets 0 .. ~3 blocks' worth more (sometimes nothing),
				 * cut into up to four ranges */
				struct phi_sha256_msg more[3];
				done = 1;
				for (size_t i = 0; i < n; i++) {
					size_t left = len[i] - fed[i];
					size_t step = below(4) ? below(200) : below(70000);
					if (step > left)
						step = left;
					split(&more[i], (const uint8_t *)whole[i].r[0].p + fed[i], step);
					fed[i] += step;
					if (fed[i] < len[i])
						done = 0;
				}
				phi_sha256_multi_update(&h, more);
			}
			char got[3][65];
			cr_assert_eq(phi_sha256_multi_final(&h, got), 0);
			for (size_t i = 0; i < n; i++)
				cr_assert_str_eq(got[i], want[i], "case %d, %s, message %zu of %zu (%zu bytes)",
				                 t, impl_name(im[k]), i, n, len[i]);
		}
	}
	free(src);
}

Test(sha256, streaming_context_is_refused_for_bad_counts_and_reusable_after_final)
{
	struct phi_sha256_multi h;
	cr_assert_eq(phi_sha256_multi_init(&h, 0, PHI_SHA256_AUTO), PHI_EUSAGE);
	cr_assert_eq(phi_sha256_multi_init(&h, 4, PHI_SHA256_AUTO), PHI_EUSAGE);
	for (int round = 0; round < 2; round++) {
		struct phi_sha256_msg m = {{{"ab", 2}, {"c", 1}}};
		char hex[1][65];
		cr_assert_eq(phi_sha256_multi_init(&h, 1, PHI_SHA256_AUTO), 0);
		phi_sha256_multi_update(&h, &m);
		cr_assert_eq(phi_sha256_multi_final(&h, hex), 0);
		cr_assert_str_eq(hex[0], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	}
	cr_assert_eq(phi_sha256_multi_init(&h, 2, PHI_SHA256_OPENSSL), 0);
	phi_sha256_multi_abort(&h); /* releases the OpenSSL contexts (ASan would say) */
}

/* A fresh directory under TMPDIR (or /tmp), as tests/cli.c makes its root. */
static void make_dir(char *dir, size_t size)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, size, "%s/phiscan-sha256-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
}

/* A file of n bytes from src in dir; its fd, opened for reading. */
static int file_of(const char *dir, const char *name, const uint8_t *src, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(src, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(unlink(path), 0);
	return fd;
}

Test(sha256, fds_hashes_whole_files_from_the_start_whatever_their_position)
{
	char dir[512];
	make_dir(dir, sizeof dir);
	uint8_t *src = random_bytes(3u << 20);
	/* empty, one byte, across the 128 KiB chunk, several chunks of unequal counts */
	const size_t sizes[] = {0, 1, (128u << 10) + 17, (3u << 20) - 5, 55, 1000000};
	int fd[6];
	char want[6][65];
	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof name, "f%d", i);
		fd[i] = file_of(dir, name, src + i, sizes[i]);
		struct phi_sha256_msg m = {{{src + i, sizes[i]}}};
		reference(&m, want[i]);
	}
	cr_assert_eq(lseek(fd[3], 12345, SEEK_SET), 12345); /* a position left by a reader */
	for (int first = 0; first < 6; first++)
		for (size_t n = 1; n <= 3 && first + (int)n <= 6; n++) {
			char got[3][65];
			cr_assert_eq(phi_sha256_fds(fd + first, n, got), 0);
			for (size_t i = 0; i < n; i++)
				cr_assert_str_eq(got[i], want[first + (int)i], "file %d of a call with %zu",
				                 first + (int)i, n);
		}
	for (int i = 0; i < 6; i++)
		close(fd[i]);
	cr_assert_eq(rmdir(dir), 0);
	free(src);
}

Test(sha256, fds_fails_with_eio_on_a_pipe_and_clears_every_output)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "abc", 3), 3);
	char dir[512];
	make_dir(dir, sizeof dir);
	int fds[2] = {file_of(dir, "a", (const uint8_t *)"abc", 3), p[0]};
	char got[2][65];
	memset(got, 'x', sizeof got);
	cr_assert_eq(phi_sha256_fds(fds, 2, got), PHI_EIO);
	cr_assert_str_eq(got[0], "");
	cr_assert_str_eq(got[1], "");
	close(fds[0]);
	close(p[0]);
	close(p[1]);
	cr_assert_eq(rmdir(dir), 0);
}
