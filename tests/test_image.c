/* test_image.c - photos and radiograph images (formats/jpeg.c, png.c, tiff.c,
 * exif.c, xmp.c, webp.c) end to end through the binary, and the shared readers in
 * process.
 *
 * Inputs are the generated corpus (corpus/gen_image.c through $GENCASE: Exif, XMP,
 * IPTC, COM, trailers, PNG text/eXIf/tIME, two-page TIFF) and byte-level mutations
 * of it for the bad-input cases.  Every strip test checks (a) the copy re-scans
 * with no finding and holds no segment or chunk outside the allowlist, (b) its
 * pixels decode identically (libjpeg-turbo, libpng; TIFF strips byte for byte),
 * (c) ICC and orientation survive, and that no planted value is left in its bytes.
 * Planted values are compared only here, never printed.
 */
#include <criterion/criterion.h>

#include <fcntl.h>

#include <png.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include "../formats/exif.h"
#include "../formats/imgmeta.h"
#include "../formats/jpeg.h"
#include "../formats/png.h"
#include "../formats/tiff.h"
#include "cli.h"

TestSuite(jpeg, .init = cli_setup, .fini = cli_teardown);
TestSuite(png, .init = cli_setup, .fini = cli_teardown);
TestSuite(tiff, .init = cli_setup, .fini = cli_teardown);
TestSuite(image, .init = cli_setup, .fini = cli_teardown);
TestSuite(exif);

/* ---- the generated case ---- */

static char *corpus_dir;

static void need_corpus(void)
{
	const char *gen = getenv("GENCASE");
	if (!gen || !*gen || access(gen, X_OK) != 0) {
		cli_teardown();
		cr_skip_test("GENCASE (build/gencase) not built yet");
	}
	corpus_dir = cli_fmt("%s/corpus", cli_root);
	char *argv[] = {(char *)gen, "cases", corpus_dir, "--cases", "1", "--seed", "11", NULL};
	struct cbuf out, err;
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "gencase failed: %s", err.p);
}

static char *case_file(const char *rel)
{
	return cli_fmt("%s/case-001/%s", corpus_dir, rel);
}

/* The planted values of one corpus file, from truth.tsv (NULL-terminated). */
static char **planted_in(const char *rel)
{
	size_t tn, fn;
	char *truth = cli_read(cli_fmt("%s/truth.tsv", corpus_dir), &tn);
	char *file = cli_read(case_file(rel), &fn);
	cr_assert_not_null(truth);
	cr_assert_not_null(file);
	char **v = cli_own(calloc(256, sizeof *v));
	size_t n = 0;
	char *want = cli_fmt("case-001/%s\t", rel);
	for (char *line = truth; line && *line && n < 255;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(line, want, strlen(want))) {
			unsigned long s = 0, e = 0;
			cr_assert_eq(sscanf(line + strlen(want), "%lu\t%lu", &s, &e), 2);
			cr_assert(e <= fn && s < e);
			char *val = cli_own(malloc(e - s + 1));
			memcpy(val, file + s, e - s);
			val[e - s] = 0;
			if (e - s >= 4 && !memchr(val, 0, e - s)) /* not GPS rationals */
				v[n++] = val;
		}
		line = nl ? nl + 1 : NULL;
	}
	cr_assert_gt(n, 0, "no planted values for %s", rel);
	return v;
}

static void assert_no_planted(const char *rel, const char *out_path)
{
	size_t on;
	char *o = cli_read(out_path, &on);
	cr_assert_not_null(o);
	char **v = planted_in(rel);
	for (size_t i = 0; v[i]; i++)
		cr_assert(!mem_has(o, on, v[i]), "a planted value of %s survived the strip", rel);
}

static void assert_rescans_clean(const char *path)
{
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", path, NULL);
	cr_assert_eq(rc, 0, "stripped copy still has findings: %s", out.p);
}

static char *strip_one(const char *rel, const char *extra)
{
	struct cbuf out, err;
	char *dst = cli_fmt("%s/out-%d", cli_root, rand());
	int rc = extra ? cli(&out, &err, NULL, "strip", extra, "--no-progress", case_file(rel), "-o",
	                     dst, NULL)
	               : cli(&out, &err, NULL, "strip", "--no-progress", case_file(rel), "-o", dst,
	                     NULL);
	cr_assert(rc == 0 || rc == 1, "strip failed (%d): %s", rc, err.p);
	const char *base = strrchr(rel, '/');
	return cli_fmt("%s/%s", dst, base ? base + 1 : rel);
}

/* ---- decoders ---- */

static unsigned char *jpeg_pixels(const char *path, size_t *n)
{
	size_t fn;
	unsigned char *f = (unsigned char *)cli_read(path, &fn);
	cr_assert_not_null(f);
	tjhandle h = tjInitDecompress();
	int w, hh, ss, cs;
	cr_assert_eq(tjDecompressHeader3(h, f, fn, &w, &hh, &ss, &cs), 0);
	*n = (size_t)w * (size_t)hh * 3;
	unsigned char *px = cli_own(malloc(*n));
	cr_assert_eq(tjDecompress2(h, f, fn, px, w, 0, hh, TJPF_RGB, 0), 0);
	tjDestroy(h);
	return px;
}

static unsigned char *png_pixels(const char *path, size_t *n)
{
	size_t fn;
	char *f = cli_read(path, &fn);
	cr_assert_not_null(f);
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	cr_assert(png_image_begin_read_from_memory(&im, f, fn), "libpng: %s", im.message);
	im.format = PNG_FORMAT_RGBA;
	*n = PNG_IMAGE_SIZE(im);
	unsigned char *px = cli_own(malloc(*n));
	cr_assert(png_image_finish_read(&im, NULL, px, 0, NULL), "libpng: %s", im.message);
	return px;
}

/* ---- JPEG ---- */

Test(jpeg, scan_reports_every_metadata_place)
{
	need_corpus();
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", case_file("photos/smile.jpg"), NULL);
	cr_assert_eq(rc, 1, "stderr: %s", err.p);
	static const char *const places[] = {
		"Exif IFD0 Artist (0x013b)", "Exif IFD0 DateTime (0x0132)",
		"Exif ExifIFD BodySerialNumber (0xa431)", "Exif ExifIFD CameraOwnerName (0xa430)",
		"Exif GPS position", "XMP dc:creator", "XMP Iptc4xmpExt:PersonInImage",
		"XMP DICOM:PatientID", "XMP DICOM:PatientDOB", "IPTC By-line (2:80)",
	};
	for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
		cr_assert(has(&out, places[i]), "no finding in %s", places[i]);
	cr_assert(!has(&out, "\"value\""), "a value was printed without --show-values");
}

Test(jpeg, strip_keeps_icc_and_orientation)
{
	need_corpus();
	char *o = strip_one("photos/smile.jpg", NULL);
	size_t n;
	char *b = cli_read(o, &n);
	struct phi_jpeg_check c;
	cr_assert_eq(phi_jpeg_check((const unsigned char *)b, n, &c, NULL), 0);
	cr_assert_eq(c.foreign, 0, "a segment outside the allowlist was kept");
	cr_assert_eq(c.trailer, 0, "bytes after EOI were kept");
	cr_assert_eq(c.icc_chunks, 1, "the ICC profile was dropped");
	cr_assert_eq(c.orientation, 6, "Orientation was not kept");
	size_t an, bn;
	unsigned char *pa = jpeg_pixels(case_file("photos/smile.jpg"), &an);
	unsigned char *pb = jpeg_pixels(o, &bn);
	cr_assert(an == bn && !memcmp(pa, pb, an), "pixels changed");
	assert_rescans_clean(o);
	assert_no_planted("photos/smile.jpg", o);
}

Test(jpeg, verify_records_identical_pixel_hashes_in_the_manifest)
{
	need_corpus();
	char *o = strip_one("photos/smile.jpg", "--verify");
	char *dir = cli_own(strdup(o));
	*strrchr(dir, '/') = 0;
	size_t n;
	char *m = cli_read(cli_fmt("%s/phiscan-manifest.json", dir), &n);
	cr_assert_not_null(m);
	cr_assert(mem_has(m, n, "\"pixels_verify\": \"decoded-identical\""), "%s", m);
	char *in = strstr(m, "\"pixels_sha256_in\": \""), *out = strstr(m, "\"pixels_sha256_out\": \"");
	cr_assert(in && out);
	cr_assert_eq(strncmp(in + 21, out + 22, 64), 0, "pixel hashes differ");
}

Test(jpeg, filter_mode_strips_stdin_to_stdout)
{
	need_corpus();
	size_t n;
	char *b = cli_read(case_file("photos/smile.jpg"), &n);
	struct cbuf in = {b, n}, out, err;
	int rc = cli(&out, &err, &in, "filter", NULL);
	cr_assert(rc == 1, "filter exit %d: %s", rc, err.p);
	struct phi_jpeg_check c;
	cr_assert_eq(phi_jpeg_check((const unsigned char *)out.p, out.n, &c, NULL), 0);
	cr_assert(c.foreign == 0 && c.trailer == 0 && c.icc_chunks == 1 && c.orientation == 6);
	char **v = planted_in("photos/smile.jpg");
	for (size_t i = 0; v[i]; i++)
		cr_assert(!mem_has(out.p, out.n, v[i]));
}

/* PNG and TIFF through the filter too: the copy on stdout passes the same checks
 * as a strip to a file. */
Test(image, filter_mode_strips_png_and_tiff_from_stdin_to_stdout)
{
	need_corpus();
	static const char *const rel[] = {"photos/shade.png", "xray/pano.tif"};
	for (size_t k = 0; k < 2; k++) {
		size_t n;
		char *b = cli_read(case_file(rel[k]), &n);
		cr_assert_not_null(b);
		struct cbuf in = {b, n}, out, err;
		int rc = cli(&out, &err, &in, "filter", NULL);
		cr_assert(rc == 1, "filter %s exit %d: %s", rel[k], rc, err.p);
		cr_assert_gt(out.n, 0);
		if (k == 0) {
			struct phi_png_check c;
			cr_assert_eq(phi_png_check((const unsigned char *)out.p, out.n, &c, NULL), 0);
			cr_assert(c.foreign == 0 && c.trailer == 0 && c.iccp == 1 && c.orientation == 3);
		} else {
			struct phi_tiff_check a, c;
			cr_assert_eq(phi_tiff_check((const unsigned char *)b, n, &a, NULL), 0);
			cr_assert_eq(phi_tiff_check((const unsigned char *)out.p, out.n, &c, NULL), 0);
			cr_assert(c.foreign == 0 && c.pages == a.pages);
			cr_assert_str_eq(c.pixels_sha256, a.pixels_sha256);
		}
		char **v = planted_in(rel[k]);
		for (size_t i = 0; v[i]; i++)
			cr_assert(!mem_has(out.p, out.n, v[i]), "a planted value of %s survived", rel[k]);
	}
}

/* Progressive (libjpeg-turbo's lossless transform keeps every marker: many scans
 * with tables between them), and, when jpegtran is installed, arithmetic-coded and
 * restart-marker variants. */
Test(jpeg, progressive_arithmetic_and_restart_files_strip_with_identical_pixels)
{
	need_corpus();
	size_t n;
	unsigned char *b = (unsigned char *)cli_read(case_file("photos/smile.jpg"), &n);
	char *dir = cli_fmt("%s/variants", cli_root);
	cli_mkdirs(dir);
	tjhandle h = tjInitTransform();
	unsigned char *dst = NULL;
	unsigned long dn = 0;
	tjtransform xf;
	memset(&xf, 0, sizeof xf);
	xf.op = TJXOP_NONE;
	xf.options = TJXOPT_PROGRESSIVE;
	cr_assert_eq(tjTransform(h, b, n, 1, &dst, &dn, &xf, 0), 0, "%s", tjGetErrorStr2(h));
	cli_write(cli_fmt("%s/v0.jpg", dir), dst, dn);
	cr_assert(mem_has((char *)dst, dn, "Exif"), "the transform dropped the metadata");
	tjFree(dst);
	tjDestroy(h);
	size_t nv = 1;
	if (access("/usr/bin/jpegtran", X_OK) == 0) {
		static const char *const args[][2] = {{"-arithmetic", NULL}, {"-restart", "1"}};
		for (size_t i = 0; i < 2; i++, nv++) {
			char *full[10] = {"/usr/bin/jpegtran", "-copy", "all", (char *)args[i][0]};
			int m = 4;
			if (args[i][1])
				full[m++] = (char *)args[i][1];
			full[m++] = "-outfile";
			full[m++] = cli_fmt("%s/v%zu.jpg", dir, nv);
			full[m++] = case_file("photos/smile.jpg");
			full[m] = NULL;
			struct cbuf o, e;
			cr_assert_eq(run(full, NULL, &o, &e), 0, "jpegtran: %s", e.p);
		}
	}
	char *out = cli_fmt("%s/vout", cli_root);
	struct cbuf o, e;
	int rc = cli(&o, &e, NULL, "strip", "--verify", "--no-progress", dir, "-o", out, NULL);
	cr_assert_eq(rc, 1, "strip exit %d: %s", rc, e.p);
	for (size_t i = 0; i < nv; i++) {
		char *in = cli_fmt("%s/v%zu.jpg", dir, i), *op = cli_fmt("%s/v%zu.jpg", out, i);
		size_t an, bn, on;
		unsigned char *pa = jpeg_pixels(in, &an), *pb = jpeg_pixels(op, &bn);
		cr_assert(an == bn && !memcmp(pa, pb, an), "pixels changed in variant %zu", i);
		char *ob = cli_read(op, &on);
		struct phi_jpeg_check c;
		cr_assert_eq(phi_jpeg_check((const unsigned char *)ob, on, &c, NULL), 0);
		cr_assert(c.foreign == 0 && c.trailer == 0 && c.orientation == 6 && c.icc_chunks == 1,
		          "variant %zu", i);
	}
	assert_rescans_clean(out);
}

/* A photo whose only Orientation is XMP tiff:Orientation keeps it in the fresh Exif. */
Test(jpeg, an_orientation_only_in_xmp_survives_as_exif)
{
	unsigned char px[16 * 16 * 3];
	for (size_t i = 0; i < sizeof px; i++)
		px[i] = (unsigned char)(i * 7);
	tjhandle h = tjInitCompress();
	unsigned char *j = NULL;
	unsigned long jn = 0;
	cr_assert_eq(tjCompress2(h, px, 16, 0, 16, TJPF_RGB, &j, &jn, TJSAMP_420, 90, 0), 0);
	tjDestroy(h);
	static const char xmp[] =
		"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
		"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
		"<rdf:Description rdf:about='' xmlns:tiff='http://ns.adobe.com/tiff/1.0/' "
		"tiff:Orientation='8'/></rdf:RDF></x:xmpmeta>";
	size_t xl = sizeof xmp - 1, n = jn + 4 + xl;
	unsigned char *f = malloc(n);
	memcpy(f, j, 2);
	f[2] = 0xFF, f[3] = 0xE1, f[4] = (unsigned char)((xl + 2) >> 8), f[5] = (unsigned char)(xl + 2);
	memcpy(f + 6, xmp, xl);
	memcpy(f + 6 + xl, j + 2, jn - 2);
	tjFree(j);
	char *dir = cli_fmt("%s/xo", cli_root);
	cli_mkdirs(dir);
	cli_write(cli_fmt("%s/x.jpg", dir), f, n);
	free(f);
	char *o = cli_fmt("%s/o", cli_root);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--verify", "--no-progress", dir, "-o", o, NULL);
	cr_assert(rc == 0 || rc == 1, "exit %d: %s", rc, err.p);
	size_t bn;
	char *b = cli_read(cli_fmt("%s/x.jpg", o), &bn);
	struct phi_jpeg_check c;
	cr_assert_eq(phi_jpeg_check((const unsigned char *)b, bn, &c, NULL), 0);
	cr_assert_eq(c.orientation, 8);
	cr_assert_eq(c.foreign, 0);
	cr_assert(!mem_has(b, bn, "xmpmeta"));
}

/* Truncated inside the scan data: nothing after the cut can be shown clean. */
Test(jpeg, truncated_scan_data_fails_closed_and_writes_nothing)
{
	need_corpus();
	size_t n;
	char *b = cli_read(case_file("photos/smile.jpg"), &n);
	char *sos = memmem(b, n, "\xFF\xDA", 2);
	cr_assert_not_null(sos);
	char *bad = cli_fmt("%s/bad", cli_root);
	cli_mkdirs(bad);
	cli_write(cli_fmt("%s/cut.jpg", bad), b, (size_t)(sos - b) + 40);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", bad, NULL), 2);
	cr_assert(has(&out, "without EOI") || has(&err, "without EOI"), "%s %s", out.p, err.p);
	char *dst = cli_fmt("%s/o", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", bad, "-o", dst, NULL), 2);
	cr_assert_eq(access(cli_fmt("%s/cut.jpg", dst), F_OK), -1, "partial output written");
}

Test(jpeg, segment_length_past_the_end_fails_closed)
{
	static const unsigned char j[] = {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xF0, 'E', 'x', 'i', 'f', 0, 0};
	char *p = cli_fmt("%s/long.jpg", cli_case);
	cli_write(p, j, sizeof j);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", p, NULL), 2);
	cr_assert(has(&out, "runs past the end") || has(&err, "runs past the end"));
}

/* ---- PNG ---- */

Test(png, strip_keeps_gama_iccp_orientation_and_pixels)
{
	need_corpus();
	char *o = strip_one("photos/shade.png", NULL);
	size_t n;
	char *b = cli_read(o, &n);
	struct phi_png_check c;
	cr_assert_eq(phi_png_check((const unsigned char *)b, n, &c, NULL), 0);
	cr_assert_eq(c.foreign, 0, "a chunk outside the allowlist was kept");
	cr_assert_eq(c.iccp, 1, "iCCP was dropped");
	cr_assert_eq(c.orientation, 3, "Orientation was not kept");
	cr_assert(mem_has(b, n, "gAMA"), "gAMA was dropped");
	size_t an, bn;
	unsigned char *pa = png_pixels(case_file("photos/shade.png"), &an);
	unsigned char *pb = png_pixels(o, &bn);
	cr_assert(an == bn && !memcmp(pa, pb, an), "pixels changed");
	assert_rescans_clean(o);
	assert_no_planted("photos/shade.png", o);
}

static void write_png(const char *path, const unsigned char *chunks, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
	fwrite(chunks, 1, n, f);
	fclose(f);
}

static size_t put_chunk(unsigned char *o, const char *type, const void *d, uint32_t len)
{
	o[0] = (unsigned char)(len >> 24), o[1] = (unsigned char)(len >> 16);
	o[2] = (unsigned char)(len >> 8), o[3] = (unsigned char)len;
	memcpy(o + 4, type, 4);
	if (len)
		memcpy(o + 8, d, len);
	uLong crc = crc32(0, o + 4, len + 4);
	for (int i = 0; i < 4; i++)
		o[8 + len + i] = (unsigned char)(crc >> (24 - 8 * i));
	return 12 + len;
}

/* ImageMagick's hex "Raw profile type exif", compressed iTXt and a private keyword:
 * each decoded and scanned; all dropped by strip. */
Test(png, raw_profiles_compressed_itxt_and_private_keywords_are_scanned)
{
	static const unsigned char ex[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0,
	                                   0, 1, 0, 0x3B, 0x01, 2, 0, 6, 0, 0, 0, 26, 0, 0, 0,
	                                   0, 0, 0, 0, 'A', 'b', ' ', 'C', 'd', 0};
	unsigned char c[2048], d[1024];
	static const unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
	size_t n = put_chunk(c, "IHDR", ihdr, 13);
	int k = snprintf((char *)d, sizeof d, "Raw profile type exif%c\nexif\n%8zu\n", 0,
	                 sizeof ex);
	for (size_t i = 0; i < sizeof ex; i++)
		k += snprintf((char *)d + k, sizeof d - (size_t)k, "%02x", ex[i]);
	n += put_chunk(c + n, "tEXt", d, (uint32_t)k);
	/* iTXt, compressed: keyword, flag 1, method 0, language, translated keyword */
	static const char txt[] = "Smile photo, DOB: 03/14/1961";
	unsigned char z[256];
	uLongf zl = sizeof z;
	cr_assert_eq(compress(z, &zl, (const Bytef *)txt, sizeof txt - 1), Z_OK);
	memcpy(d, "Comment\0\1\0en\0\0", 14);
	memcpy(d + 14, z, zl);
	n += put_chunk(c + n, "iTXt", d, (uint32_t)(14 + zl));
	n += put_chunk(c + n, "tEXt", "Patient chart\0x", 15);
	static const unsigned char raw[] = {0, 0x80};
	zl = sizeof z;
	compress(z, &zl, raw, sizeof raw);
	n += put_chunk(c + n, "IDAT", z, (uint32_t)zl);
	n += put_chunk(c + n, "IEND", NULL, 0);
	char *dir = cli_fmt("%s/raw", cli_root);
	cli_mkdirs(dir);
	write_png(cli_fmt("%s/r.png", dir), c, n);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", dir, NULL);
	cr_assert_eq(rc, 1, "%s %s", out.p, err.p);
	cr_assert(has(&out, "PNG raw Exif IFD0 Artist"), "%s", out.p);
	cr_assert(has(&out, "iTXt:Comment"), "%s", out.p);
	char *o = cli_fmt("%s/o", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--verify", "--no-progress", dir, "-o", o, NULL);
	cr_assert_eq(rc, 1, "%s", err.p);
	size_t bn;
	char *b = cli_read(cli_fmt("%s/r.png", o), &bn);
	struct phi_png_check pc;
	cr_assert_eq(phi_png_check((const unsigned char *)b, bn, &pc, NULL), 0);
	cr_assert_eq(pc.foreign, 0);
	cr_assert(!mem_has(b, bn, "Raw profile") && !mem_has(b, bn, "Patient"));
	assert_rescans_clean(o);
}

Test(png, crc_mismatch_fails_closed)
{
	need_corpus();
	size_t n;
	char *b = cli_read(case_file("photos/shade.png"), &n);
	char *t = memmem(b, n, "tEXt", 4);
	cr_assert_not_null(t);
	t[6] ^= 0x20; /* one bit of a keyword: the CRC no longer matches */
	char *p = cli_fmt("%s/crc.png", cli_case);
	cli_write(p, b, n);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", p, NULL), 2);
	cr_assert(has(&out, "CRC mismatch") || has(&err, "CRC mismatch"));
}

Test(png, a_chunk_length_of_two_gigabytes_is_refused_without_allocating)
{
	unsigned char c[64];
	static const unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
	size_t n = put_chunk(c, "IHDR", ihdr, 13);
	memcpy(c + n, "\x80\x00\x00\x00tEXt", 8);
	n += 8;
	char *p = cli_fmt("%s/huge.png", cli_case);
	write_png(p, c, n);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", p, NULL), 2);
	cr_assert(has(&out, "2^31") || has(&err, "2^31"), "%s", out.p);
}

Test(png, ztxt_bomb_is_refused)
{
	/* 80 MiB of 'A' deflate to about 80 KB: above the 64 MiB inflate cap */
	size_t raw = (size_t)80 << 20;
	unsigned char *src = malloc(1 << 20);
	cr_assert_not_null(src);
	memset(src, 'A', 1 << 20);
	z_stream z;
	memset(&z, 0, sizeof z);
	cr_assert_eq(deflateInit(&z, 9), Z_OK);
	size_t cap = 1 << 20, zn = 0;
	unsigned char *zb = malloc(cap);
	for (size_t done = 0; done < raw; done += 1 << 20) {
		z.next_in = src;
		z.avail_in = 1 << 20;
		int flush = done + (1 << 20) >= raw ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = zb + zn;
			z.avail_out = (uInt)(cap - zn);
			deflate(&z, flush);
			zn = cap - z.avail_out;
		} while (z.avail_in);
	}
	deflateEnd(&z);
	size_t cn = 12 + 13 + 12 + 10 + zn + 12;
	unsigned char *c = malloc(cn), *d = malloc(10 + zn);
	static const unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
	size_t n = put_chunk(c, "IHDR", ihdr, 13);
	memcpy(d, "Comment\0\0", 9);
	memcpy(d + 9, zb, zn);
	n += put_chunk(c + n, "zTXt", d, (uint32_t)(9 + zn));
	n += put_chunk(c + n, "IEND", NULL, 0);
	char *p = cli_fmt("%s/bomb.png", cli_case);
	write_png(p, c, n);
	free(src), free(zb), free(c), free(d);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", p, NULL), 2);
	cr_assert(has(&out, "inflates beyond") || has(&err, "inflates beyond"), "%s", out.p);
}

Test(png, an_unknown_critical_chunk_fails_closed)
{
	unsigned char c[128];
	static const unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
	size_t n = put_chunk(c, "IHDR", ihdr, 13);
	n += put_chunk(c + n, "ZZZZ", "x", 1);
	n += put_chunk(c + n, "IEND", NULL, 0);
	char *p = cli_fmt("%s/crit.png", cli_case);
	write_png(p, c, n);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", p, NULL), 2);
}

/* ---- TIFF ---- */

Test(tiff, strip_rewrites_every_page_with_structure_tags_only)
{
	need_corpus();
	size_t an, bn;
	char *a = cli_read(case_file("xray/pano.tif"), &an);
	struct phi_tiff_check ca, cb;
	cr_assert_eq(phi_tiff_check((const unsigned char *)a, an, &ca, NULL), 0);
	cr_assert_eq(ca.pages, 2);
	cr_assert_gt(ca.foreign, 0);
	char *o = strip_one("xray/pano.tif", "--verify");
	char *b = cli_read(o, &bn);
	cr_assert_eq(phi_tiff_check((const unsigned char *)b, bn, &cb, NULL), 0);
	cr_assert_eq(cb.pages, 2, "a page was lost");
	cr_assert_eq(cb.foreign, 0, "a non-structural tag was kept");
	cr_assert_eq(cb.orientation, ca.orientation);
	cr_assert_str_eq(cb.pixels_sha256, ca.pixels_sha256, "strip data changed");
	assert_rescans_clean(o);
	assert_no_planted("xray/pano.tif", o);
}

Test(tiff, an_ifd_chain_loop_fails_closed)
{
	/* header, IFD at 8 with one entry and next -> 8 */
	static const unsigned char t[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x00, 0x01, 3, 0, 1,
	                                  0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0};
	char *p = cli_fmt("%s/loop.tif", cli_case);
	cli_write(p, t, sizeof t);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", p, "-o",
	                 cli_fmt("%s/o", cli_root), NULL),
	             2);
	cr_assert(has(&out, "loops") || has(&err, "loops"), "%s %s", out.p, err.p);
}

Test(tiff, strip_offsets_outside_the_file_fail_closed)
{
	static const unsigned char t[] = {
		'I', 'I', 42, 0, 8, 0, 0, 0, 2, 0,
		0x11, 0x01, 4, 0, 1, 0, 0, 0, 0x00, 0x10, 0, 0, /* StripOffsets 4096 */
		0x17, 0x01, 4, 0, 1, 0, 0, 0, 0x40, 0, 0, 0,    /* StripByteCounts 64 */
		0, 0, 0, 0};
	char *p = cli_fmt("%s/off.tif", cli_case);
	cli_write(p, t, sizeof t);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", p, "-o",
	                 cli_fmt("%s/o", cli_root), NULL),
	             2);
	cr_assert(has(&out, "outside the file") || has(&err, "outside the file"));
}

static void le16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void ent(unsigned char *p, unsigned tag, unsigned type, uint32_t count, uint32_t v)
{
	le16(p, tag), le16(p + 2, type), le32(p + 4, count);
	if (type == 3 && count == 1)
		le16(p + 8, v), le16(p + 10, 0);
	else
		le32(p + 8, v);
}

/* A DNG-like file keeps an image in a SubIFD: the page cannot be rewritten without
 * losing it, so its text values are blanked in place and every byte of image data
 * stays where it was. */
Test(tiff, a_page_with_subifds_is_blanked_in_place_keeping_every_image)
{
	unsigned char t[300] = {'I', 'I', 42, 0, 8, 0, 0, 0};
	le16(t + 8, 6);
	ent(t + 10, 256, 3, 1, 4);
	ent(t + 22, 257, 3, 1, 1);
	ent(t + 34, 273, 4, 1, 200);
	ent(t + 46, 279, 4, 1, 4);
	ent(t + 58, 315, 2, 12, 220);
	ent(t + 70, 330, 4, 1, 100);
	le16(t + 100, 3);
	ent(t + 102, 270, 2, 21, 240);
	ent(t + 114, 273, 4, 1, 204);
	ent(t + 126, 279, 4, 1, 4);
	memcpy(t + 200, "ABCDEFGH", 8);
	memcpy(t + 220, "Ann Example", 12);
	memcpy(t + 240, "Patient: Maria Lopez", 21);
	char *dir = cli_fmt("%s/dng", cli_root);
	cli_mkdirs(dir);
	cli_write(cli_fmt("%s/raw.tif", dir), t, 261);
	struct cbuf out, err;
	char *o = cli_fmt("%s/o", cli_root);
	int rc = cli(&out, &err, NULL, "strip", "--verify", "--no-progress", dir, "-o", o, NULL);
	cr_assert(rc == 0 || rc == 1, "exit %d: %s %s", rc, out.p, err.p);
	size_t n;
	char *b = cli_read(cli_fmt("%s/raw.tif", o), &n);
	cr_assert_not_null(b);
	cr_assert_eq(n, 261, "offsets moved");
	cr_assert_eq(memcmp(b + 200, "ABCDEFGH", 8), 0, "image data changed");
	cr_assert_eq(memcmp(b, t, 200), 0, "structure changed");
	cr_assert(!mem_has(b, n, "Example") && !mem_has(b, n, "Lopez"), "a value survived");
	size_t mn;
	char *m = cli_read(cli_fmt("%s/phiscan-manifest.json", o), &mn);
	cr_assert(mem_has(m, mn, "blanked in place (SubIFDs)"), "%s", m);
	assert_rescans_clean(o);
}

/* ---- the shared Exif reader, in process ---- */

struct rec {
	int fields;
};

static int rec_field(void *sink, const struct phi_field *f, struct phi_edits *e)
{
	(void)e;
	((struct rec *)sink)->fields++;
	cr_assert(f->len > 0);
	return 0;
}

static int rec_fact(void *sink, const char *n, const char *v)
{
	(void)sink, (void)n, (void)v;
	return 0;
}

static const struct phi_sink_ops rec_ops = {rec_field, rec_fact};

static int exif_run(const unsigned char *p, size_t n, int strict, struct phi_exif_info *info,
                    struct rec *r)
{
	struct phi_limits lim;
	struct phi_error err = {0};
	struct phi_strip_opts so = {0};
	struct phi_fctx ctx = {0};
	phi_limits_default(&lim);
	ctx.limits = &lim;
	ctx.err = &err;
	ctx.sink_ops = &rec_ops;
	ctx.sink = r;
	ctx.sopts = &so;
	ctx.out_fd = -1;
	return phi_exif_scan(&ctx, p, n, 0, "Exif", strict, info);
}

Test(exif, an_ifd_loop_inside_a_photo_is_read_once_and_skipped)
{
	/* IFD0 at 8: Artist "Ab Cd" inline? no: 6 bytes at 26; next IFD -> 8 (loop) */
	static const unsigned char t[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x3B, 0x01, 2, 0, 6, 0,
	                                  0, 0, 26, 0, 0, 0, 8, 0, 0, 0, 'A', 'b', ' ', 'C', 'd', 0};
	struct phi_exif_info info;
	struct rec r = {0};
	cr_assert_eq(exif_run(t, sizeof t, 0, &info, &r), 0);
	cr_assert_eq(info.ifds, 1);
	cr_assert_eq(info.skipped, 1);
	cr_assert_eq(r.fields, 1);
}

Test(exif, a_count_beyond_the_segment_is_skipped_not_read)
{
	/* Artist with count 0xFFFFFFFF: 4 GiB declared in a 30-byte block */
	static const unsigned char t[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x3B, 0x01, 2, 0, 0xFF,
	                                  0xFF, 0xFF, 0xFF, 26, 0, 0, 0, 0, 0, 0, 0, 'A', 'b', 0, 0};
	struct phi_exif_info info;
	struct rec r = {0};
	cr_assert_eq(exif_run(t, sizeof t, 0, &info, &r), 0);
	cr_assert_eq(info.skipped, 1);
	cr_assert_eq(r.fields, 0);
	/* in a TIFF file the same is an error */
	cr_assert_eq(exif_run(t, sizeof t, 1, &info, &r), PHI_EFORMAT);
}

Test(exif, xp_tags_are_decoded_from_ucs2)
{
	static const unsigned char t[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x9D, 0x9C, 1, 0, 8, 0,
	                                  0, 0, 26, 0, 0, 0, 0, 0, 0, 0, 'J', 0, 'o', 0, 'e', 0, 0, 0};
	struct phi_exif_info info;
	struct rec r = {0};
	cr_assert_eq(exif_run(t, sizeof t, 0, &info, &r), 0);
	cr_assert_eq(r.fields, 1);
}

/* ---- WebP, HEIF: scanned, strip refused ---- */

/* A WebP whose EXIF chunk names an Artist, "Ab Cd" (its last 6 bytes, NUL
 * included); returns its length. */
static size_t webp_with_artist(unsigned char w[128])
{
	static const unsigned char ex[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x3B, 0x01, 2, 0, 6, 0,
	                                   0, 0, 26, 0, 0, 0, 0, 0, 0, 0, 'A', 'b', ' ', 'C', 'd', 0};
	memcpy(w, "RIFF\0\0\0\0WEBPEXIF", 16);
	size_t n = 16;
	w[n++] = sizeof ex, w[n++] = 0, w[n++] = 0, w[n++] = 0;
	memcpy(w + n, ex, sizeof ex);
	n += sizeof ex;
	w[4] = (unsigned char)(n - 8);
	return n;
}

Test(image, webp_is_scanned_and_strip_refuses_it_with_a_message)
{
	unsigned char w[128];
	size_t n = webp_with_artist(w);
	char *p = cli_fmt("%s/photo.webp", cli_case);
	cli_write(p, w, n);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", p, NULL), 1, "%s %s", out.p, err.p);
	cr_assert(has(&out, "Exif IFD0 Artist"));
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--no-progress", p, "-o",
	                 cli_fmt("%s/o", cli_root), NULL),
	             2);
	cr_assert(has(&out, "cannot be stripped yet") || has(&err, "cannot be stripped yet"));
}

static size_t box(unsigned char *o, const char *type, const void *d, size_t n)
{
	size_t t = 8 + n;
	o[0] = (unsigned char)(t >> 24), o[1] = (unsigned char)(t >> 16);
	o[2] = (unsigned char)(t >> 8), o[3] = (unsigned char)t;
	memcpy(o + 4, type, 4);
	memcpy(o + 8, d, n);
	return t;
}

Test(image, heif_exif_item_is_found_through_iinf_and_iloc)
{
	static const unsigned char ex[] = {0, 0, 0, 0, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0,
	                                   0, 0, 1, 0, 0x3B, 0x01, 2, 0, 6, 0, 0, 0, 26, 0, 0, 0,
	                                   0, 0, 0, 0, 'A', 'b', ' ', 'C', 'd', 0};
	unsigned char f[512], infe[64], iinf[96], iloc[64], meta[256];
	size_t n = box(f, "ftyp", "heic\0\0\0\0mif1heic", 16);
	/* infe v2: item 1, protection 0, type Exif, empty name */
	static const unsigned char infe_d[] = {2, 0, 0, 0, 0, 1, 0, 0, 'E', 'x', 'i', 'f', 0};
	size_t in = box(infe, "infe", infe_d, sizeof infe_d);
	unsigned char iinf_d[96] = {0, 0, 0, 0, 0, 1};
	memcpy(iinf_d + 6, infe, in);
	size_t ii = box(iinf, "iinf", iinf_d, 6 + in);
	/* iloc v0: offset and length 4 bytes, no base; item 1, one extent */
	size_t meta_len = 8 + 4 + ii + (8 + 4 + 2 + 2 + 2 + 2 + 2 + 8);
	uint32_t at = (uint32_t)(n + meta_len + 8);
	unsigned char iloc_d[] = {0, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1,
	                          (unsigned char)(at >> 24), (unsigned char)(at >> 16),
	                          (unsigned char)(at >> 8), (unsigned char)at, 0, 0, 0, sizeof ex};
	size_t il = box(iloc, "iloc", iloc_d, sizeof iloc_d);
	unsigned char meta_d[256] = {0};
	memcpy(meta_d + 4, iinf, ii);
	memcpy(meta_d + 4 + ii, iloc, il);
	size_t m = box(meta, "meta", meta_d, 4 + ii + il);
	cr_assert_eq(m, meta_len);
	memcpy(f + n, meta, m);
	n += m;
	n += box(f + n, "mdat", ex, sizeof ex);
	char *p = cli_fmt("%s/photo.heic", cli_case);
	cli_write(p, f, n);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", p, NULL), 1, "%s %s", out.p,
	             err.p);
	cr_assert(has(&out, "Exif IFD0 Artist"), "%s", out.p);
	char *line = strstr(out.p, "Exif IFD0 Artist");
	cr_assert(line && strstr(line, cli_fmt("\"start\":%zu", (size_t)at + 36)), "%s", out.p);
}

/* ---- byte builders for hand-made files ---- */

struct bb {
	unsigned char *p;
	size_t n, cap;
};

static void bb_add(struct bb *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		while (nc < b->n + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		cr_assert_not_null(b->p);
		b->cap = nc;
	}
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void bb_be16(struct bb *b, unsigned v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	bb_add(b, x, 2);
}

static void bb_be32(struct bb *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};
	bb_add(b, x, 4);
}

static void bb_seg(struct bb *b, unsigned marker, const void *d, size_t n)
{
	unsigned char m[2] = {0xFF, (unsigned char)marker};
	bb_add(b, m, 2);
	bb_be16(b, (unsigned)n + 2);
	bb_add(b, d, n);
}

/* APP1 Exif payload: IFD0 with one Artist (ASCII, out of line). */
static size_t exif_artist(unsigned char *o, const char *artist)
{
	size_t al = strlen(artist) + 1;
	unsigned char t[26] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x3B, 0x01, 2, 0};
	le32(t + 14, (uint32_t)al);
	le32(t + 18, 26);
	memcpy(o, "Exif\0\0", 6);
	memcpy(o + 6, t, 26);
	memcpy(o + 32, artist, al);
	return 32 + al;
}

/* A JPEG of w x h noise pixels (large scan data), SOI stripped: starts at APP0. */
static unsigned char *noise_jpeg(int w, int h, int progressive, unsigned long *n)
{
	unsigned char *px = malloc((size_t)w * (size_t)h * 3);
	unsigned s = 12345;
	for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++)
		px[i] = (unsigned char)((s = s * 1103515245u + 12345u) >> 16);
	tjhandle t = tjInitCompress();
	unsigned char *j = NULL;
	*n = 0;
	cr_assert_eq(tjCompress2(t, px, w, 0, h, TJPF_RGB, &j, n, TJSAMP_444, 95,
	                         progressive ? TJFLAG_PROGRESSIVE : 0),
	             0);
	tjDestroy(t);
	free(px);
	return j;
}

/* ---- in-process scans: the fields a format emits, and the bytes it read ---- */

struct wrec {
	char where[16384];
	size_t n;
	unsigned fields;
};

static int wrec_field(void *sink, const struct phi_field *f, struct phi_edits *e)
{
	(void)e;
	struct wrec *r = sink;
	r->fields++;
	size_t l = f->where ? strlen(f->where) : 0;
	if (r->n + l + 2 < sizeof r->where) {
		memcpy(r->where + r->n, f->where, l);
		r->n += l;
		r->where[r->n++] = '\n';
		r->where[r->n] = 0;
	}
	return 0;
}

static int wrec_fact(void *sink, const char *n, const char *v)
{
	(void)sink, (void)n, (void)v;
	return 0;
}

static const struct phi_sink_ops wrec_ops = {wrec_field, wrec_fact};

/* Scan path with phi_format_jpeg as the scanner would (head read, file mapped);
 * returns ctx.in_bytes, the bytes the scan read. */
static uint64_t jpeg_scan_file(const char *path, struct wrec *r)
{
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	unsigned char *head = malloc(PHI_HEAD_SIZE);
	ssize_t hn = read(fd, head, PHI_HEAD_SIZE);
	cr_assert(hn > 0);
	struct phi_limits lim;
	struct phi_error err = {0};
	struct phi_strip_opts so = {0};
	struct phi_fctx ctx = {0};
	phi_limits_default(&lim);
	memset(r, 0, sizeof *r);
	ctx.path = path;
	ctx.fd = fd;
	ctx.size = (uint64_t)st.st_size;
	ctx.head = head;
	ctx.head_len = (size_t)hn;
	ctx.out_fd = -1;
	ctx.limits = &lim;
	ctx.err = &err;
	ctx.sink_ops = &wrec_ops;
	ctx.sink = r;
	ctx.sopts = &so;
	int rc = phi_format_jpeg.scan(&ctx);
	free(head);
	close(fd);
	cr_assert_eq(rc, 0, "scan failed: %s", err.msg);
	return ctx.in_bytes;
}

static size_t count_where(const struct wrec *r, const char *s)
{
	size_t k = 0;
	for (const char *q = r->where; (q = strstr(q, s)); q += strlen(s))
		k++;
	return k;
}

/* A photo with large scan data: Exif Artist, a COM, then the tables and scan. */
static void big_photo(struct bb *b, int progressive, int com)
{
	unsigned char e[128];
	unsigned long jn;
	unsigned char *j = noise_jpeg(512, 512, progressive, &jn);
	cr_assert_gt(jn, 3 * PHI_HEAD_SIZE, "the scan data must be larger than the head");
	bb_add(b, "\xFF\xD8", 2);
	bb_seg(b, 0xE1, e, exif_artist(e, "Ann Example"));
	if (com)
		bb_seg(b, 0xFE, "Patient: Maria Lopez", 20);
	bb_add(b, j + 2, jn - 2);
	tjFree(j);
}

Test(jpeg, a_header_only_scan_skips_the_scan_data_and_finds_the_same_fields)
{
	struct bb b = {0};
	big_photo(&b, 0, 1);
	char *dir = cli_fmt("%s/ho", cli_root);
	cli_mkdirs(dir);
	char *p = cli_fmt("%s/big.jpg", dir);
	cli_write(p, b.p, b.n);
	struct wrec r;
	uint64_t got = jpeg_scan_file(p, &r);
	cr_assert_lt(got, b.n / 4, "read %llu of %zu bytes", (unsigned long long)got, b.n);
	cr_assert_eq(count_where(&r, "Artist"), 1, "%s", r.where);
	cr_assert_eq(count_where(&r, "COM"), 1, "%s", r.where);
	/* the CLI reports the same findings as a strip, which reads every byte */
	struct cbuf so, se, to, te;
	cr_assert_eq(cli(&so, &se, NULL, "scan", "--format", "json", p, NULL), 1);
	int rc = cli(&to, &te, NULL, "strip", "--format", "json", "--no-progress", p, "-o",
	             cli_fmt("%s/o", cli_root), NULL);
	cr_assert_eq(rc, 1, "%s", te.p);
	cr_assert_gt(count_type(&so, "finding"), 1);
	cr_assert_eq(count_type(&so, "finding"), count_type(&to, "finding"));
	free(b.p);
}

/* Where the shortcut cannot be sure it reads everything: bytes after EOI that do
 * not end in EOI, a COM between the scan and EOI, a progressive file. */
Test(jpeg, a_trailer_a_marker_after_the_scan_or_many_scans_make_the_scan_read_everything)
{
	char *dir = cli_fmt("%s/fb", cli_root);
	cli_mkdirs(dir);
	struct wrec r;
	/* a trailer */
	struct bb b = {0};
	big_photo(&b, 0, 0);
	bb_add(&b, "Patient: Maria Lopez", 20);
	char *p = cli_fmt("%s/trailer.jpg", dir);
	cli_write(p, b.p, b.n);
	cr_assert_eq(jpeg_scan_file(p, &r), b.n);
	cr_assert_eq(count_where(&r, "after EOI"), 1, "%s", r.where);
	/* a COM after the scan data */
	b.n -= 22; /* drop the trailer and EOI */
	bb_seg(&b, 0xFE, "Patient: Maria Lopez", 20);
	bb_add(&b, "\xFF\xD9", 2);
	p = cli_fmt("%s/com.jpg", dir);
	cli_write(p, b.p, b.n);
	cr_assert_eq(jpeg_scan_file(p, &r), b.n);
	cr_assert_eq(count_where(&r, "COM"), 1, "%s", r.where);
	/* the largest COM there is (65,533 bytes of text, the name at its start): its
	 * marker still falls inside the checked tail */
	b.n -= 2 + 24;
	char *big = malloc(65533);
	memset(big, 'a', 65533);
	memcpy(big, "Patient: Maria Lopez ", 21);
	bb_seg(&b, 0xFE, big, 65533);
	free(big);
	bb_add(&b, "\xFF\xD9", 2);
	p = cli_fmt("%s/bigcom.jpg", dir);
	cli_write(p, b.p, b.n);
	cr_assert_eq(jpeg_scan_file(p, &r), b.n);
	cr_assert_eq(count_where(&r, "COM"), 1, "%s", r.where);
	/* progressive: segments between scans may hold anything */
	b.n = 0;
	big_photo(&b, 1, 0);
	p = cli_fmt("%s/prog.jpg", dir);
	cli_write(p, b.p, b.n);
	cr_assert_eq(jpeg_scan_file(p, &r), b.n);
	free(b.p);
}

/* An MPF index (CIPA DC-007) listing a second image right after the first: the
 * second is walked header-only too, so its Exif is found without reading either
 * scan. */
Test(jpeg, images_listed_by_an_mpf_index_are_walked_header_only)
{
	struct bb b = {0}, mpf = {0}, s = {0};
	unsigned char e[128];
	unsigned long jn, sn;
	unsigned char *j = noise_jpeg(512, 512, 0, &jn);
	unsigned char *sj = noise_jpeg(256, 256, 0, &sn);
	/* second image: SOI, Exif, its tables and scan */
	bb_add(&s, "\xFF\xD8", 2);
	bb_seg(&s, 0xE1, e, exif_artist(e, "Second Person"));
	bb_add(&s, sj + 2, sn - 2);
	/* MPF: "MPF\0", big-endian TIFF, IFD0 {B000 version, B001 count, B002 entries} */
	bb_add(&mpf, "MPF\0MM\0*\0\0\0\x08", 12);
	bb_be16(&mpf, 3);
	bb_add(&mpf, "\xB0\x00\x00\x07\x00\x00\x00\x04" "0100", 12);
	bb_add(&mpf, "\xB0\x01\x00\x04\x00\x00\x00\x01\x00\x00\x00\x02", 12);
	bb_add(&mpf, "\xB0\x02\x00\x07\x00\x00\x00\x20", 8);
	bb_be32(&mpf, 8 + 2 + 36 + 4); /* entries right after the IFD */
	bb_be32(&mpf, 0);              /* no next IFD */
	size_t ent = mpf.n;
	unsigned char zero[32] = {0};
	bb_add(&mpf, zero, 32);
	/* primary: SOI, APP2 MPF, Exif, tables and scan */
	bb_add(&b, "\xFF\xD8", 2);
	size_t mpf_seg = b.n;
	bb_seg(&b, 0xE2, mpf.p, mpf.n);
	bb_seg(&b, 0xE1, e, exif_artist(e, "Ann Example"));
	bb_add(&b, j + 2, jn - 2);
	size_t primary = b.n, base = mpf_seg + 4 + 4; /* the TIFF header */
	unsigned char *q = b.p + mpf_seg + 4 + ent;
	q[4] = (unsigned char)(primary >> 24), q[5] = (unsigned char)(primary >> 16);
	q[6] = (unsigned char)(primary >> 8), q[7] = (unsigned char)primary;
	size_t off = primary - base;
	q[16 + 4] = (unsigned char)(s.n >> 24), q[16 + 5] = (unsigned char)(s.n >> 16);
	q[16 + 6] = (unsigned char)(s.n >> 8), q[16 + 7] = (unsigned char)s.n;
	q[16 + 8] = (unsigned char)(off >> 24), q[16 + 9] = (unsigned char)(off >> 16);
	q[16 + 10] = (unsigned char)(off >> 8), q[16 + 11] = (unsigned char)off;
	bb_add(&b, s.p, s.n);
	char *dir = cli_fmt("%s/mpf", cli_root);
	cli_mkdirs(dir);
	char *p = cli_fmt("%s/mpf.jpg", dir);
	cli_write(p, b.p, b.n);
	struct wrec r;
	uint64_t got = jpeg_scan_file(p, &r);
	cr_assert_lt(got, b.n / 4, "read %llu of %zu bytes", (unsigned long long)got, b.n);
	cr_assert_eq(count_where(&r, "Artist"), 2, "%s", r.where);
	cr_assert_eq(count_where(&r, "after EOI"), 0, "%s", r.where);
	/* a wrong size in the index: the shortcut is refused, every byte read */
	q[7] ^= 1;
	cli_write(p, b.p, b.n);
	cr_assert_eq(jpeg_scan_file(p, &r), b.n);
	cr_assert_eq(count_where(&r, "Artist"), 1, "%s", r.where);
	cr_assert_eq(count_where(&r, "after EOI"), 1, "%s", r.where);
	tjFree(j);
	tjFree(sj);
	free(b.p), free(mpf.p), free(s.p);
}

/* The documented limit of the header-only scan (README, "Header-only scan"): a
 * second JPEG appended without an MPF index ends in FF D9 and its tail looks like
 * scan data, so a scan does not see its Exif; a strip reads every byte and drops it
 * as a trailer. */
Test(jpeg, an_unlisted_appended_jpeg_is_not_seen_by_a_scan_and_a_strip_drops_it)
{
	struct bb b = {0}, s = {0};
	big_photo(&b, 0, 0);
	unsigned char e[128];
	unsigned long sn;
	unsigned char *sj = noise_jpeg(512, 512, 0, &sn);
	bb_add(&s, "\xFF\xD8", 2);
	bb_seg(&s, 0xE1, e, exif_artist(e, "Second Person"));
	bb_add(&s, sj + 2, sn - 2);
	tjFree(sj);
	size_t first = b.n;
	bb_add(&b, s.p, s.n);
	char *dir = cli_fmt("%s/app", cli_root);
	cli_mkdirs(dir);
	char *p = cli_fmt("%s/two.jpg", dir);
	cli_write(p, b.p, b.n);
	struct wrec r;
	cr_assert_lt(jpeg_scan_file(p, &r), b.n / 4);
	cr_assert_eq(count_where(&r, "Artist"), 1, "%s", r.where);
	char *o = cli_fmt("%s/o", cli_root);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--no-progress", p, "-o", o, NULL);
	cr_assert_eq(rc, 1, "%s", err.p);
	size_t on;
	char *ob = cli_read(cli_fmt("%s/two.jpg", o), &on);
	cr_assert_not_null(ob);
	cr_assert(on < first && !mem_has(ob, on, "Second Person"), "the appended image survived");
	struct phi_jpeg_check c;
	cr_assert_eq(phi_jpeg_check((const unsigned char *)ob, on, &c, NULL), 0);
	cr_assert_eq(c.trailer, 0);
	free(b.p), free(s.p);
}

/* 12-bit extended (SOF1) and lossless (SOF3) frames, which libjpeg-turbo 2.1 does
 * not decode: scanned, stripped with the tables and scan data byte for byte, and
 * --verify says what it compared instead of claiming decoded pixels. */
Test(jpeg, twelve_bit_and_lossless_files_keep_their_scan_data_and_say_they_were_not_decoded)
{
	static const unsigned char dht[] = {0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char sof12[] = {12, 0, 8, 0, 8, 1, 1, 0x11, 0};
	static const unsigned char sof3[] = {12, 0, 8, 0, 8, 1, 1, 0x11, 0};
	static const unsigned char sos_dct[] = {1, 1, 0x00, 0, 63, 0};
	static const unsigned char sos_ll[] = {1, 1, 0x00, 1, 0, 0};
	static const unsigned char data[] = {0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0x9A};
	unsigned char dqt[1 + 128];
	dqt[0] = 0x10; /* 16-bit table 0 (12-bit precision) */
	for (int i = 1; i < 129; i++)
		dqt[i] = (unsigned char)(i & 1);
	char *dir = cli_fmt("%s/hp", cli_root);
	cli_mkdirs(dir);
	for (int k = 0; k < 2; k++) {
		struct bb b = {0};
		unsigned char e[128];
		bb_add(&b, "\xFF\xD8", 2);
		bb_seg(&b, 0xE1, e, exif_artist(e, "Ann Example"));
		bb_seg(&b, 0xFE, "Patient: Maria Lopez", 20);
		if (k == 0)
			bb_seg(&b, 0xDB, dqt, sizeof dqt);
		bb_seg(&b, k == 0 ? 0xC1 : 0xC3, k == 0 ? sof12 : sof3, sizeof sof12);
		bb_seg(&b, 0xC4, dht, sizeof dht);
		size_t sos = b.n;
		bb_seg(&b, 0xDA, k == 0 ? sos_dct : sos_ll, sizeof sos_dct);
		bb_add(&b, data, sizeof data);
		bb_add(&b, "\xFF\xD9", 2);
		char *name = k == 0 ? "twelve.jpg" : "lossless.jpg";
		cli_write(cli_fmt("%s/%s", dir, name), b.p, b.n);
		struct cbuf out, err;
		int rc = cli(&out, &err, NULL, "scan", "--format", "json", cli_fmt("%s/%s", dir, name),
		             NULL);
		cr_assert_eq(rc, 1, "%s %s", out.p, err.p);
		cr_assert(has(&out, "Exif IFD0 Artist") && has(&out, "\"field\":\"COM\""), "%s", out.p);
		char *o = cli_fmt("%s/o%d", cli_root, k);
		rc = cli(&out, &err, NULL, "strip", "--verify", "--no-progress",
		         cli_fmt("%s/%s", dir, name), "-o", o, NULL);
		cr_assert_eq(rc, 1, "%s %s", out.p, err.p);
		size_t on, mn;
		char *ob = cli_read(cli_fmt("%s/%s", o, name), &on);
		cr_assert_not_null(ob);
		/* SOS, scan data and EOI are the last bytes of both, byte for byte */
		size_t tail = b.n - sos;
		cr_assert(on > tail && !memcmp(ob + on - tail, b.p + sos, tail), "scan data changed");
		struct phi_jpeg_check c;
		cr_assert_eq(phi_jpeg_check((const unsigned char *)ob, on, &c, NULL), 0);
		cr_assert_eq(c.foreign, 0);
		cr_assert(!mem_has(ob, on, "Lopez") && !mem_has(ob, on, "Example"));
		char *m = cli_read(cli_fmt("%s/phiscan-manifest.json", o), &mn);
		cr_assert(mem_has(m, mn, "\"pixels_verify\": \"scan-data-identical\""), "%s", m);
		cr_assert(!mem_has(m, mn, "decoded-identical"), "%s", m);
		cr_assert(mem_has(m, mn, k == 0 ? "12-bit JPEG is not decoded" : "lossless JPEG (SOF3)"),
		          "%s", m);
		assert_rescans_clean(o);
		free(b.p);
	}
}

/* ---- ICC profiles ---- */

/* A v2 profile: header, tags desc (textDescriptionType: ASCII and UTF-16BE),
 * cprt (textType) and wtpt (XYZType, colour data).  desc holds the identifier. */
static void icc_profile(struct bb *b)
{
	static const char desc[] = "Patient: Maria Lopez";
	unsigned char hdr[128] = {0};
	memcpy(hdr + 12, "mntrRGB XYZ ", 12);
	memcpy(hdr + 36, "acsp", 4);
	memset(hdr + 84, 0xAB, 16); /* a Profile ID */
	bb_add(b, hdr, 128);
	bb_be32(b, 3);
	size_t t0 = 128 + 4 + 3 * 12;
	size_t dl = 12 + sizeof desc + 8 + 2 * (sizeof desc - 1) + 3 + 67;
	dl = (dl + 3) & ~(size_t)3;
	static const char cprt[] = "text\0\0\0\0Copyright 2025 Example Lab";
	size_t cl = sizeof cprt, c0 = t0 + dl, w0 = c0 + ((cl + 3) & ~(size_t)3);
	bb_add(b, "desc", 4), bb_be32(b, (uint32_t)t0), bb_be32(b, (uint32_t)dl);
	bb_add(b, "cprt", 4), bb_be32(b, (uint32_t)c0), bb_be32(b, (uint32_t)cl);
	bb_add(b, "wtpt", 4), bb_be32(b, (uint32_t)w0), bb_be32(b, 20);
	size_t s = b->n;
	bb_add(b, "desc\0\0\0\0", 8);
	bb_be32(b, sizeof desc);
	bb_add(b, desc, sizeof desc);
	bb_be32(b, 0);
	bb_be32(b, sizeof desc - 1);
	for (size_t i = 0; i < sizeof desc - 1; i++)
		bb_add(b, "", 1), bb_add(b, desc + i, 1);
	unsigned char pad[80] = {0};
	bb_add(b, pad, dl - (b->n - s));
	bb_add(b, cprt, cl);
	bb_add(b, pad, w0 - b->n);
	bb_add(b, "XYZ \0\0\0\0\0\0\xF6\xD6\0\x01\0\0\0\0\xD3\x2D", 20);
	b->p[0] = (unsigned char)(b->n >> 24), b->p[1] = (unsigned char)(b->n >> 16);
	b->p[2] = (unsigned char)(b->n >> 8), b->p[3] = (unsigned char)b->n;
}

/* The profile in a copy: its desc text blanked, its colour tag and size kept, its
 * Profile ID zeroed. */
static void assert_icc_blanked(const unsigned char *q, size_t n, const struct bb *orig)
{
	cr_assert_eq(n, orig->n, "the profile changed size");
	cr_assert(!mem_has((const char *)q, n, "Lopez"), "the identifier survived in the profile");
	cr_assert(mem_has((const char *)q, n, "Copyright 2025 Example Lab"), "unflagged text changed");
	cr_assert_eq(memcmp(q + n - 20, orig->p + n - 20, 20), 0, "colour data changed");
	static const unsigned char zero[16] = {0};
	cr_assert_eq(memcmp(q + 84, zero, 16), 0, "Profile ID not zeroed");
}

Test(image, icc_text_tags_are_scanned_and_blanked_in_the_kept_profile)
{
	struct bb prof = {0};
	icc_profile(&prof);
	char *dir = cli_fmt("%s/icc", cli_root);
	cli_mkdirs(dir);
	/* JPEG: the profile in two ICC_PROFILE chunks */
	struct bb j = {0};
	unsigned long jn;
	unsigned char *tj = noise_jpeg(16, 16, 0, &jn);
	size_t half = prof.n / 2;
	bb_add(&j, "\xFF\xD8", 2);
	for (int k = 0; k < 2; k++) {
		struct bb seg = {0};
		bb_add(&seg, "ICC_PROFILE\0", 12);
		unsigned char sc[2] = {(unsigned char)(k + 1), 2};
		bb_add(&seg, sc, 2);
		bb_add(&seg, prof.p + (k ? half : 0), k ? prof.n - half : half);
		bb_seg(&j, 0xE2, seg.p, seg.n);
		free(seg.p);
	}
	bb_add(&j, tj + 2, jn - 2);
	tjFree(tj);
	cli_write(cli_fmt("%s/p.jpg", dir), j.p, j.n);
	/* PNG: iCCP */
	unsigned char c[4096], d[2048];
	static const unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
	size_t n = put_chunk(c, "IHDR", ihdr, 13);
	uLongf zl = sizeof d - 10;
	memcpy(d, "Monitor\0\0", 9);
	cr_assert_eq(compress(d + 9, &zl, prof.p, prof.n), Z_OK);
	n += put_chunk(c + n, "iCCP", d, (uint32_t)(9 + zl));
	static const unsigned char raw[] = {0, 0x80};
	unsigned char z[64];
	zl = sizeof z;
	compress(z, &zl, raw, sizeof raw);
	n += put_chunk(c + n, "IDAT", z, (uint32_t)zl);
	n += put_chunk(c + n, "IEND", NULL, 0);
	write_png(cli_fmt("%s/p.png", dir), c, n);
	/* TIFF: tag 34675 on a one-strip page */
	struct bb t = {0};
	unsigned char h[8 + 2 + 5 * 12 + 4] = {'I', 'I', 42, 0, 8, 0, 0, 0};
	le16(h + 8, 5);
	ent(h + 10, 256, 3, 1, 2);
	ent(h + 22, 257, 3, 1, 2);
	ent(h + 34, 273, 4, 1, sizeof h);
	ent(h + 46, 279, 4, 1, 4);
	ent(h + 58, 34675, 7, (uint32_t)prof.n, sizeof h + 4);
	bb_add(&t, h, sizeof h);
	bb_add(&t, "PIXL", 4);
	bb_add(&t, prof.p, prof.n);
	cli_write(cli_fmt("%s/p.tif", dir), t.p, t.n);

	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", dir, NULL);
	cr_assert_eq(rc, 1, "%s %s", out.p, err.p);
	cr_assert(has(&out, "ICC_PROFILE tag desc (desc)"), "%s", out.p);
	cr_assert(has(&out, "PNG iCCP profile tag desc (desc)"), "%s", out.p);
	cr_assert(has(&out, "ICC_Profile (0x8773) tag desc (desc)"), "%s", out.p);
	/* a one-piece profile keeps file offsets: the TIFF finding points at "Maria" */
	const char *tl = strstr(out.p, "ICC_Profile (0x8773) tag desc");
	cr_assert_not_null(tl);
	char *at = memmem(t.p, t.n, "Maria", 5);
	cr_assert(strstr(tl, cli_fmt("\"start\":%zu,", (size_t)(at - (char *)t.p))), "%s", tl);

	char *o = cli_fmt("%s/o", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--verify", "--no-progress", dir, "-o", o, NULL);
	cr_assert_eq(rc, 1, "%s %s", out.p, err.p);
	size_t bn;
	/* JPEG: both chunks kept, reassembled they are the blanked profile */
	char *jb = cli_read(cli_fmt("%s/p.jpg", o), &bn);
	struct phi_jpeg_check jc;
	cr_assert_eq(phi_jpeg_check((const unsigned char *)jb, bn, &jc, NULL), 0);
	cr_assert_eq(jc.icc_chunks, 2);
	cr_assert_eq(jc.foreign, 0);
	struct bb re = {0};
	for (char *q = jb; (q = memmem(q, bn - (size_t)(q - jb), "ICC_PROFILE", 11)); q += 11) {
		size_t sl = ((unsigned char)q[-2] << 8 | (unsigned char)q[-1]) - 2;
		bb_add(&re, q + 14, sl - 14);
	}
	assert_icc_blanked(re.p, re.n, &prof);
	/* PNG: iCCP kept, inflated it is the blanked profile */
	char *pb = cli_read(cli_fmt("%s/p.png", o), &bn);
	struct phi_png_check pc;
	cr_assert_eq(phi_png_check((const unsigned char *)pb, bn, &pc, NULL), 0);
	cr_assert_eq(pc.iccp, 1);
	cr_assert_eq(pc.foreign, 0);
	char *ic = memmem(pb, bn, "iCCP", 4);
	size_t il = (size_t)((unsigned char)ic[-4] << 24 | (unsigned char)ic[-3] << 16 |
	                     (unsigned char)ic[-2] << 8 | (unsigned char)ic[-1]);
	unsigned char inf[4096];
	uLongf infl = sizeof inf;
	cr_assert_eq(uncompress(inf, &infl, (unsigned char *)ic + 4 + 9, il - 9), Z_OK);
	assert_icc_blanked(inf, infl, &prof);
	/* TIFF: tag 34675 kept, blanked */
	char *tb = cli_read(cli_fmt("%s/p.tif", o), &bn);
	struct phi_tiff_check tc;
	cr_assert_eq(phi_tiff_check((const unsigned char *)tb, bn, &tc, NULL), 0);
	cr_assert_eq(tc.icc, 1);
	cr_assert_eq(tc.foreign, 0);
	char *tp = memmem(tb, bn, "acsp", 4);
	cr_assert_not_null(tp);
	assert_icc_blanked((unsigned char *)tp - 36, prof.n, &prof);
	size_t mn;
	char *m = cli_read(cli_fmt("%s/phiscan-manifest.json", o), &mn);
	cr_assert(mem_has(m, mn, "\"icc_text_tags_blanked\": \"1\""), "%s", m);
	cr_assert(mem_has(m, mn, "\"pixels_verify\": \"decoded-identical\""), "%s", m);
	assert_rescans_clean(o);
	free(prof.p), free(j.p), free(t.p), free(re.p);
}

/* WebP is scan-only, and its ICCP chunk's text is scanned too. */
Test(image, webp_iccp_text_is_scanned)
{
	struct bb prof = {0}, w = {0};
	icc_profile(&prof);
	bb_add(&w, "RIFF\0\0\0\0WEBPICCP", 16);
	unsigned char l[4] = {(unsigned char)prof.n, (unsigned char)(prof.n >> 8), 0, 0};
	bb_add(&w, l, 4);
	bb_add(&w, prof.p, prof.n);
	if (prof.n & 1)
		bb_add(&w, "", 1);
	size_t r = w.n - 8;
	w.p[4] = (unsigned char)r, w.p[5] = (unsigned char)(r >> 8);
	char *p = cli_fmt("%s/icc.webp", cli_case);
	cli_write(p, w.p, w.n);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", p, NULL), 1, "%s %s", out.p,
	             err.p);
	cr_assert(has(&out, "WebP ICCP tag desc (desc)"), "%s", out.p);
	free(prof.p), free(w.p);
}

/* ---- BigTIFF ---- */

static void le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* BigTIFF entry: tag, type, 8-byte count, 8-byte value or offset. */
static void ent8(unsigned char *p, unsigned tag, unsigned type, uint64_t count, uint64_t v)
{
	le16(p, tag), le16(p + 2, type), le64(p + 4, count), le64(p + 12, v);
}

Test(tiff, bigtiff_is_scanned_and_rewritten_as_bigtiff)
{
	/* header 16; page 1 IFD at 16: 6 entries; page 2 IFD at 200: 5 entries */
	unsigned char t[512] = {'I', 'I', 43, 0, 8, 0, 0, 0};
	le64(t + 8, 16);
	le64(t + 16, 6);
	ent8(t + 24, 256, 3, 1, 2);
	ent8(t + 44, 257, 3, 1, 2);
	ent8(t + 64, 270, 2, 21, 400); /* ImageDescription, out of line */
	ent8(t + 84, 273, 16, 1, 440); /* StripOffsets as LONG8 */
	ent8(t + 104, 279, 4, 1, 4);
	ent8(t + 124, 315, 2, 8, 0);   /* Artist, inline: 8 bytes fit */
	memcpy(t + 124 + 12, "Ann Exa", 8);
	le64(t + 144, 200);            /* next IFD */
	le64(t + 200, 5);
	ent8(t + 208, 256, 3, 1, 2);
	ent8(t + 228, 257, 3, 1, 2);
	ent8(t + 248, 273, 16, 1, 444);
	ent8(t + 268, 279, 4, 1, 4);
	ent8(t + 288, 285, 2, 16, 460); /* PageName */
	le64(t + 308, 0);
	memcpy(t + 400, "Patient: Maria Lopez", 21);
	memcpy(t + 440, "ABCDEFGH", 8);
	memcpy(t + 460, "DOB: 03/14/1961", 16);
	size_t n = 476;
	char *dir = cli_fmt("%s/big", cli_root);
	cli_mkdirs(dir);
	cli_write(cli_fmt("%s/b.tif", dir), t, n);
	struct phi_tiff_check a, b;
	cr_assert_eq(phi_tiff_check(t, n, &a, NULL), 0);
	cr_assert(a.big && a.pages == 2 && a.foreign == 3);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", dir, NULL);
	cr_assert_eq(rc, 1, "%s %s", out.p, err.p);
	cr_assert(has(&out, "TIFF IFD0 Artist") && has(&out, "TIFF IFD0 ImageDescription") &&
	          has(&out, "TIFF IFD1 PageName"), "%s", out.p);
	const char *l = strstr(out.p, "ImageDescription");
	cr_assert(l && strstr(l, "\"start\":409,"), "offset of Maria: %s", out.p);
	char *o = cli_fmt("%s/o", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--verify", "--no-progress", dir, "-o", o, NULL);
	cr_assert_eq(rc, 1, "%s %s", out.p, err.p);
	size_t bn;
	char *bt = cli_read(cli_fmt("%s/b.tif", o), &bn);
	cr_assert_eq(phi_tiff_check((const unsigned char *)bt, bn, &b, NULL), 0);
	cr_assert(b.big, "not BigTIFF any more");
	cr_assert_eq(b.pages, 2);
	cr_assert_eq(b.foreign, 0);
	cr_assert_str_eq(b.pixels_sha256, a.pixels_sha256);
	cr_assert(mem_has(bt, bn, "ABCD") && mem_has(bt, bn, "EFGH"));
	cr_assert(!mem_has(bt, bn, "Lopez") && !mem_has(bt, bn, "Ann") && !mem_has(bt, bn, "1961"));
	assert_rescans_clean(o);
}

/* ---- fuzz regressions: every saved input runs through scan and strip ---- */

Test(image, fuzz_regression_inputs_fail_cleanly)
{
	const char *dirs[] = {"tests/fuzz/regress"};
	char *dst = cli_fmt("%s/o", cli_root);
	struct cbuf out, err;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (access(dirs[i], F_OK))
			continue;
		int rc = cli(&out, &err, NULL, "strip", "--verify", "--no-progress", dirs[i], "-o", dst,
		             NULL);
		cr_assert(rc >= 0 && rc <= 2, "exit %d", rc);
	}
}

/* ---- a mapped image truncated under the reader ---- */

/* Another process truncates a photo while phiscan has it mapped: the next read
 * past the new end would raise SIGBUS and end the run.  The guard maps zeros there
 * instead and counts the fault, which the scanner turns into "the file shrank while
 * it was read" for that file alone. */
Test(image, a_mapped_file_truncated_meanwhile_reads_zeros_and_counts_a_fault)
{
	char *p = cli_fmt("%s/photo.jpg", cli_root);
	static unsigned char body[65536];
	memset(body, 0xAB, sizeof body);
	cli_write(p, body, sizeof body);
	int fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0);
	struct phi_limits lim;
	phi_limits_default(&lim);
	struct phi_error err = {0};
	struct phi_fctx ctx = {.fd = fd, .size = sizeof body, .limits = &lim, .err = &err};
	struct phi_img_in in;
	cr_assert_eq(phi_img_load(&ctx, &in), 0, "%s", err.msg);
	cr_assert_not_null(in.map, "a file larger than its head is mapped");
	cr_assert_eq(in.p[40000], 0xAB);
	unsigned long before = phi_img_bus_faults();
	cr_assert_eq(truncate(p, 4096), 0);
	volatile const unsigned char *q = in.p;
	cr_assert_eq(q[40000], 0, "past the new end: zeros, not SIGBUS");
	cr_assert_eq(q[40001], 0, "the same page: no second fault");
	cr_assert_eq(q[100], 0xAB, "before the new end: the file's bytes");
	cr_assert_eq(phi_img_bus_faults(), before + 1);
	cr_assert_eq(q[60000], 0);
	cr_assert_eq(phi_img_bus_faults(), before + 2, "each page past the end faults once");
	phi_img_release(&in);
	close(fd);
}

/* ---- files inside an HTML page as data: URIs (formats/embed.h) ---- */

static char *b64(const void *p, size_t n)
{
	size_t bn = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *b = cli_own(malloc(bn));
	sodium_bin2base64(b, bn, p, n, sodium_base64_VARIANT_ORIGINAL);
	return b;
}

#define PAGE_HEAD "<html><body><p>Crown 11, shade A2</p>\n<img alt=\"smile\" src=\"data:image/jpeg;base64,"
#define PAGE_TAIL "\"></body></html>\n"

/* An order form with the patient's photo in it, as a page saved "complete" or a
 * portal's printable form carries it: the photo's Exif, XMP and IPTC are found and
 * stripped there, exactly as in the photo on its own, and nothing else of the page
 * changes. */
Test(image, a_photo_in_an_html_data_uri_is_scanned_and_stripped_as_the_photo_is)
{
	need_corpus();
	size_t jn;
	char *jpg = cli_read(case_file("photos/smile.jpg"), &jn);
	cr_assert_not_null(jpg);
	char *page = cli_fmt("%s%s%s", PAGE_HEAD, b64(jpg, jn), PAGE_TAIL);
	char *p = cli_fmt("%s/order.html", cli_case);
	cli_write_str(p, page);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", p, NULL);
	cr_assert_eq(rc, 1, "%s", err.p);
	cr_assert(has(&out, "\"field\":\"img@src data:image/jpeg: Exif IFD0 Artist (0x013b)\""),
	          "%s", out.p);
	cr_assert(has(&out, "img@src data:image/jpeg: XMP dc:creator"), "%s", out.p);
	cr_assert(!has(&out, "\"value\""), "a value was printed without --show-values");
	char **planted = planted_in("photos/smile.jpg");
	for (size_t i = 0; planted[i]; i++)
		cr_assert(!has(&out, planted[i]), "a planted value was printed");

	char *o = cli_fmt("%s/o", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", p, "-o", o, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	size_t on;
	char *copy = cli_read(cli_fmt("%s/order.html", o), &on);
	cr_assert_not_null(copy);
	size_t hl = strlen(PAGE_HEAD), tl = strlen(PAGE_TAIL);
	cr_assert(on > hl + tl && !memcmp(copy, PAGE_HEAD, hl) && !memcmp(copy + on - tl, PAGE_TAIL, tl),
	          "the page around the photo changed: %s", copy);
	unsigned char *img = cli_own(malloc(on));
	size_t in_ = 0;
	cr_assert_eq(sodium_base642bin(img, on, copy + hl, on - hl - tl, NULL, &in_, NULL,
	                               sodium_base64_VARIANT_ORIGINAL),
	             0, "the new payload is not base64");
	/* the same bytes as the photo stripped on its own */
	size_t sn;
	char *alone = cli_read(strip_one("photos/smile.jpg", NULL), &sn);
	cr_assert(alone && sn == in_ && !memcmp(alone, img, sn),
	          "the embedded photo differs from the photo stripped alone (%zu, %zu bytes)", in_, sn);
	assert_rescans_clean(cli_fmt("%s/order.html", o));
}

/* What cannot be read fails the page (exit 2); what is not base64 stays text. */
Test(image, an_unreadable_data_uri_fails_the_page_and_a_scan_only_one_with_findings_its_strip)
{
	char *p = cli_fmt("%s/order.html", cli_case);
	struct cbuf out, err;
	/* a GIF: no format phiscan has reads it (its comment could name anyone) */
	cli_write_str(p, "<html><body><img src=\"data:image/gif;base64,"
	                 "R0lGODlhAQABAIAAAP///wAAACH+DE1hcmlhIEdvbnphbGV6ACwAAAAAAQABAAACAkQBADs=\">"
	                 "</body></html>");
	int rc = cli(&out, &err, NULL, "scan", p, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&out, "a data: URI in img@src (image/gif) holds") &&
	              has(&out, "which phiscan does not read"),
	          "%s", out.p);
	/* not base64 after all: the value is text, as any attribute */
	cli_write_str(p, "<html><body><img src=\"data:image/png;base64,@@not base64@@\"></body></html>");
	rc = cli(&out, &err, NULL, "scan", p, NULL);
	cr_assert_eq(rc, 0, "%s%s", out.p, err.p);
	/* a WebP, which phiscan scans but cannot strip: scanned; a strip refuses the
	 * page while the WebP holds identifiers, and copies it when it holds none */
	unsigned char w[128];
	size_t n = webp_with_artist(w);
	cli_write_str(p, cli_fmt("<html><body><img src=\"data:image/webp;base64,%s\"></body></html>",
	                         b64(w, n)));
	rc = cli(&out, &err, NULL, "scan", p, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	cr_assert(has(&out, "img@src data:image/webp: Exif IFD0 Artist"), "%s", out.p);
	char *o = cli_fmt("%s/o", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", p, "-o", o, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&out, "a data: URI in img@src (image/webp): the webp format cannot be stripped yet"),
	          "%s", out.p);
	cr_assert_null(cli_read(cli_fmt("%s/order.html", o), NULL), "a copy was written");
	memcpy(w + n - 6, "\0\0\0\0\0", 5); /* the Artist emptied */
	char *clean = cli_fmt("<html><body><img src=\"data:image/webp;base64,%s\"></body></html>",
	                      b64(w, n));
	cli_write_str(p, clean);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", p, "-o", cli_fmt("%s/o2", cli_root), NULL);
	cr_assert_eq(rc, 0, "%s%s", out.p, err.p);
	char *copy = cli_read(cli_fmt("%s/o2/order.html", cli_root), NULL);
	cr_assert(copy && !strcmp(copy, clean), "the clean page changed: %s", copy);
}

/* The same photo as a CSS background, in a style attribute and in a <style>
 * element: found and stripped there too, the CSS around it untouched. */
Test(image, a_photo_in_a_css_url_is_scanned_and_stripped_as_the_photo_is)
{
	need_corpus();
	size_t jn;
	char *jpg = cli_read(case_file("photos/smile.jpg"), &jn);
	cr_assert_not_null(jpg);
	char *enc = b64(jpg, jn);
	char *page = cli_fmt("<html><head><style>.pt { color: red; background: url('data:image/jpeg;"
	                     "base64,%s') no-repeat; }</style></head><body>\n<div style=\"background:"
	                     "url(data:image/jpeg;base64,%s)\">Crown 11</div></body></html>\n",
	                     enc, enc);
	char *p = cli_fmt("%s/order.html", cli_case);
	cli_write_str(p, page);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", p, NULL);
	cr_assert_eq(rc, 1, "%s", err.p);
	cr_assert(has(&out, "\"field\":\"style url() data:image/jpeg: Exif IFD0 Artist (0x013b)\""),
	          "%s", out.p);
	cr_assert(has(&out, "\"field\":\"div@style data:image/jpeg: Exif IFD0 Artist (0x013b)\""),
	          "%s", out.p);
	char *o = cli_fmt("%s/o", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--no-progress", p, "-o", o, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	char *copy = cli_read(cli_fmt("%s/order.html", o), NULL);
	cr_assert_not_null(copy);
	size_t sn;
	char *stripped = cli_read(strip_one("photos/smile.jpg", NULL), &sn);
	cr_assert_not_null(stripped);
	char *alone = b64(stripped, sn);
	char *want = cli_fmt("<html><head><style>.pt { color: red; background: url('data:image/jpeg;"
	                     "base64,%s') no-repeat; }</style></head><body>\n<div style=\"background:"
	                     "url(data:image/jpeg;base64,%s)\">Crown 11</div></body></html>\n",
	                     alone, alone);
	cr_assert_str_eq(copy, want, "the page is not the page with the photo stripped alone");
	assert_rescans_clean(cli_fmt("%s/order.html", o));
}
