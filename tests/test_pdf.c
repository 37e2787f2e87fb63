/* test_pdf.c - PDF prescriptions (formats/pdf.c through the Poppler module) end to
 * end through the binary.
 *
 * The PDFs are written here, object by object with a real cross-reference table:
 * page text in a Flate-compressed content stream (so only a reader that decodes
 * streams finds it), document information entries, an XMP packet, a text
 * annotation, a filled form field, and the refusals (damaged, encrypted, embedding
 * a file).  Planted values are compared only here, never printed.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../formats/imgmeta.h"
#include "cli.h"

TestSuite(pdf, .init = cli_setup, .fini = cli_teardown);

#define NAME "Maria Gonzalez"

/* ---- a small PDF writer ---- */

struct pdf {
	char *p;
	size_t n, cap;
	size_t off[32]; /* byte offset of object i (1-based) */
	int nobj;
};

static void add(struct pdf *d, const void *s, size_t n)
{
	if (d->n + n + 1 > d->cap) {
		d->cap = (d->n + n + 1) * 2;
		d->p = realloc(d->p, d->cap);
		cr_assert(d->p);
	}
	memcpy(d->p + d->n, s, n);
	d->n += n;
	d->p[d->n] = 0;
}

static void addf(struct pdf *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct pdf *d, const char *fmt, ...)
{
	char b[4096];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	cr_assert(k > 0 && (size_t)k < sizeof b);
	add(d, b, (size_t)k);
}

/* object `num` with dictionary text dict, and a stream when data is not NULL
 * (Flate-compressed when deflate) */
static void obj(struct pdf *d, int num, const char *dict, const char *data, bool deflate)
{
	cr_assert(num > 0 && num < 32);
	d->off[num] = d->n;
	if (num > d->nobj)
		d->nobj = num;
	if (!data) {
		addf(d, "%d 0 obj\n%s\nendobj\n", num, dict);
		return;
	}
	unsigned char z[4096];
	uLongf zn = sizeof z;
	const void *body = data;
	size_t len = strlen(data);
	if (deflate) {
		cr_assert_eq(compress2(z, &zn, (const Bytef *)data, len, 9), Z_OK);
		body = z;
		len = zn;
	}
	addf(d, "%d 0 obj\n<< %s /Length %zu%s >>\nstream\n", num, dict, len,
	     deflate ? " /Filter /FlateDecode" : "");
	add(d, body, len);
	add(d, "\nendstream\nendobj\n", 18);
}

static void pdf_start(struct pdf *d)
{
	memset(d, 0, sizeof *d);
	add(d, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 15);
}

/* the xref table and trailer (extra: more trailer entries), written to path */
static void pdf_end(struct pdf *d, const char *extra, const char *path)
{
	size_t x = d->n;
	addf(d, "xref\n0 %d\n0000000000 65535 f \n", d->nobj + 1);
	for (int i = 1; i <= d->nobj; i++)
		addf(d, "%010zu 00000 n \n", d->off[i]);
	addf(d, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%zu\n%%%%EOF\n", d->nobj + 1,
	     extra ? extra : "", x);
	cli_write(path, d->p, d->n);
	free(d->p);
}

#define FONT "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"

/* catalog (1), pages (2), one page (3) showing text, its content stream (4) */
static void one_page(struct pdf *d, const char *catalog_extra, const char *page_extra,
                     const char *text)
{
	char b[1024], c[512];
	snprintf(b, sizeof b, "<< /Type /Catalog /Pages 2 0 R %s >>", catalog_extra);
	obj(d, 1, b, NULL, false);
	obj(d, 2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", NULL, false);
	snprintf(b, sizeof b,
	         "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R " FONT
	         " %s >>",
	         page_extra);
	obj(d, 3, b, NULL, false);
	snprintf(c, sizeof c, "BT /F1 12 Tf 72 700 Td (%s) Tj ET", text);
	obj(d, 4, "", c, true);
}

static char *write_pdf(const char *name, const char *catalog_extra, const char *page_extra,
                       const char *text, const char *info)
{
	struct pdf d;
	pdf_start(&d);
	one_page(&d, catalog_extra, page_extra, text);
	if (info)
		obj(&d, 5, info, NULL, false);
	char *path = cli_fmt("%s/%s", cli_case, name);
	pdf_end(&d, info ? "/Info 5 0 R" : NULL, path);
	return path;
}

/* the JSON finding lines whose "field" (the part of the PDF) is where */
static size_t findings_in(const struct cbuf *out, const char *where)
{
	size_t n, k = 0;
	char **l = lines_of(out, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		char *w = json_str(l[i], "field");
		k += w && !strcmp(w, where);
	}
	return k;
}

/* ---- what a scan finds ---- */

Test(pdf, page_text_in_a_compressed_stream_is_found_and_masked)
{
	char *p = write_pdf("rx.pdf", "", "", "Patient: " NAME "   DOB 03/14/1961", NULL);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", p, NULL);
	cr_assert_eq(rc, 1, "stderr: %s", err.p);
	cr_assert_geq(findings_in(&out, "page 1"), 2, "%s", out.p);
	cr_assert(!has(&out, "Gonzalez") && !has(&out, "1961"), "an identifier was printed");
	/* and the text is not in the file's bytes: only a reader that inflates finds it */
	size_t n;
	char *raw = cli_read(p, &n);
	cr_assert(raw && !mem_has(raw, n, "Gonzalez"));
	rc = cli(&out, &err, NULL, "scan", "--format", "json", "--show-values", p, NULL);
	cr_assert_eq(rc, 1);
	cr_assert(has(&out, NAME), "--show-values prints the value");
}

Test(pdf, info_xmp_annotation_and_form_field_are_each_found)
{
	struct pdf d;
	pdf_start(&d);
	one_page(&d, "/Metadata 6 0 R /AcroForm << /Fields [8 0 R] >>", "/Annots [7 0 R 8 0 R]",
	         "Crown 11, shade A2");
	obj(&d, 5, "<< /Title (Rx, patient " NAME ") /Author (Front desk) >>", NULL, false);
	obj(&d, 6, "/Type /Metadata /Subtype /XML",
	    "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>"
	    "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
	    "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
	    "<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
	    "<dc:creator><rdf:Seq><rdf:li>" NAME "</rdf:li></rdf:Seq></dc:creator>"
	    "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>",
	    false);
	obj(&d, 7,
	    "<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (Mail "
	    "maria.gonzalez@mailhost.net before delivery) >>",
	    NULL, false);
	obj(&d, 8,
	    "<< /Type /Annot /Subtype /Widget /FT /Tx /Rect [72 600 300 620] /P 3 0 R "
	    "/T (patient) /TU (Patient name) /V (" NAME ") >>",
	    NULL, false);
	char *p = cli_fmt("%s/rx.pdf", cli_case);
	pdf_end(&d, "/Info 5 0 R", p);

	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", p, NULL);
	cr_assert_eq(rc, 1, "stderr: %s", err.p);
	cr_assert_geq(findings_in(&out, "Info/Title"), 1, "%s", out.p);
	cr_assert_eq(findings_in(&out, "Info/Author"), 0, "%s", out.p);
	cr_assert(has(&out, "\"field\":\"XMP dc:creator"), "%s", out.p);
	cr_assert_geq(findings_in(&out, "page 1 annotation 1"), 1, "%s", out.p);
	cr_assert_geq(findings_in(&out, "page 1 form field 1"), 1, "%s", out.p);
	cr_assert(!has(&out, "Gonzalez") && !has(&out, "mailhost"), "an identifier was printed");
}

Test(pdf, a_clean_prescription_is_clean)
{
	char *p = write_pdf("rx.pdf", "", "", "Crown 11, zirconia, shade A2, margin chamfer",
	                    "<< /Producer (Lab portal 4.2) >>");
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", p, NULL);
	cr_assert_eq(rc, 0, "%s%s", out.p, err.p);
	cr_assert(has(&out, "pdf: scanned 1"), "%s", out.p);
	/* what the gate passes as it is, strip copies as it is */
	char *key = cli_fmt("%s/key", cli_root), *outdir = cli_fmt("%s/out", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	rc = cli(&out, &err, NULL, "strip", "--key", key, "-o", outdir, cli_case, NULL);
	cr_assert_eq(rc, 0, "%s%s", out.p, err.p);
	size_t a, b;
	char *in = cli_read(p, &a), *copy = cli_read(cli_fmt("%s/rx.pdf", outdir), &b);
	cr_assert(copy && a == b && !memcmp(in, copy, a), "the copy differs from the original");
	char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", outdir), NULL);
	cr_assert(man && strstr(man, "\"status\": \"unchanged\""), "%s", man);
	/* and filter: the input, as it came */
	struct cbuf stdin_pdf = {in, a};
	rc = cli(&out, &err, &stdin_pdf, "filter", NULL);
	cr_assert_eq(rc, 0, "%s", err.p);
	cr_assert(out.n == a && !memcmp(out.p, in, a), "filter changed a clean PDF");
}

/* A template reused for the next patient and saved incrementally: the reader shows
 * the second patient, the bytes still hold the first, and phiscan reports that. */
Test(pdf, an_earlier_revision_is_read_and_only_what_changed_is_reported)
{
	struct pdf d;
	pdf_start(&d);
	one_page(&d, "", "", "Patient: " NAME "   shade A2");
	obj(&d, 5, "<< /Title (Rx, patient " NAME ") >>", NULL, false);
	char *p = cli_fmt("%s/rx.pdf", cli_case);
	/* revision 1, then an update replacing the page text and the title */
	size_t x1 = d.n;
	addf(&d, "xref\n0 6\n0000000000 65535 f \n");
	for (int i = 1; i <= 5; i++)
		addf(&d, "%010zu 00000 n \n", d.off[i]);
	addf(&d, "trailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R >>\nstartxref\n%zu\n%%%%EOF\n", x1);
	obj(&d, 4, "", "BT /F1 12 Tf 72 700 Td (Patient: John Carter   shade A2) Tj ET", true);
	obj(&d, 5, "<< /Title (Rx, patient John Carter) >>", NULL, false);
	size_t x2 = d.n;
	addf(&d, "xref\n0 1\n0000000000 65535 f \n4 2\n%010zu 00000 n \n%010zu 00000 n \n",
	     d.off[4], d.off[5]);
	addf(&d, "trailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev %zu >>\nstartxref\n%zu\n%%%%EOF\n",
	     x1, x2);
	cli_write(p, d.p, d.n);
	free(d.p);

	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", "--show-values", p, NULL);
	cr_assert_eq(rc, 1, "stderr: %s", err.p);
	/* as it stands: the second patient, on the page and in the title */
	cr_assert_eq(findings_in(&out, "page 1"), 1, "%s", out.p);
	cr_assert_eq(findings_in(&out, "Info/Title"), 1, "%s", out.p);
	/* revision 1: the first patient, on the page and in the title */
	cr_assert_eq(findings_in(&out, "revision 1 of 2: page 1"), 1, "%s", out.p);
	cr_assert_eq(findings_in(&out, "revision 1 of 2: Info/Title"), 1, "%s", out.p);
	size_t n;
	char **l = lines_of(&out, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], "finding"))
			continue;
		char *w = json_str(l[i], "field"), *v = json_str(l[i], "value");
		cr_assert(w && v);
		cr_assert_str_eq(v, strncmp(w, "revision", 8) ? "John Carter" : NAME, "%s", l[i]);
	}
}

/* ---- what is refused, and how ---- */

static void unscanned(const char *p, const char *reason)
{
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", p, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&out, reason) || has(&err, reason), "no '%s' in %s%s", reason, out.p, err.p);
	cr_assert(!has(&out, "Gonzalez") && !has(&err, "Gonzalez"));
}

Test(pdf, encrypted_damaged_and_embedding_pdfs_are_unscanned)
{
	/* a Standard security handler whose user password is not empty (O and U made
	 * up): no reader opens it without the password */
	char u[80], o[80];
	for (int i = 0; i < 32; i++) {
		snprintf(u + 2 * i, 3, "%02x", (unsigned)(i * 7 + 1) & 0xff);
		snprintf(o + 2 * i, 3, "%02x", (unsigned)(i * 13 + 5) & 0xff);
	}
	struct pdf d;
	pdf_start(&d);
	one_page(&d, "", "", "Patient: " NAME);
	char enc[300];
	snprintf(enc, sizeof enc, "<< /Filter /Standard /V 1 /R 2 /P -4 /O <%s> /U <%s> >>", o, u);
	obj(&d, 5, enc, NULL, false);
	char *p = cli_fmt("%s/enc/rx.pdf", cli_case);
	cli_mkdirs(cli_fmt("%s/enc", cli_case));
	pdf_end(&d, "/Encrypt 5 0 R /ID [<00112233445566778899aabbccddeeff> "
	            "<00112233445566778899aabbccddeeff>]",
	        p);
	unscanned(p, "encrypted PDF (needs a password)");

	pdf_start(&d);
	one_page(&d, "/Names << /EmbeddedFiles << /Names [(notes.txt) 5 0 R] >> >>", "",
	         "Crown 11");
	obj(&d, 5, "<< /Type /Filespec /F (notes.txt) /EF << /F 6 0 R >> >>", NULL, false);
	obj(&d, 6, "/Type /EmbeddedFile", "Patient: " NAME, true);
	p = cli_fmt("%s/emb/rx.pdf", cli_case);
	cli_mkdirs(cli_fmt("%s/emb", cli_case));
	pdf_end(&d, NULL, p);
	unscanned(p, "PDF embeds 1 file(s), which phiscan does not read");

	/* the same file attached to the page instead (a FileAttachment annotation) */
	pdf_start(&d);
	one_page(&d, "", "/Annots [5 0 R]", "Crown 11");
	obj(&d, 5,
	    "<< /Type /Annot /Subtype /FileAttachment /Rect [10 10 30 30] /FS << /Type /Filespec "
	    "/F (notes.txt) /EF << /F 6 0 R >> >> >>",
	    NULL, false);
	obj(&d, 6, "/Type /EmbeddedFile", "Patient: " NAME, true);
	p = cli_fmt("%s/att/rx.pdf", cli_case);
	cli_mkdirs(cli_fmt("%s/att", cli_case));
	pdf_end(&d, NULL, p);
	unscanned(p, "PDF embeds 1 file(s), which phiscan does not read");

	p = cli_fmt("%s/bad/rx.pdf", cli_case);
	cli_mkdirs(cli_fmt("%s/bad", cli_case));
	cli_write_str(p, "%PDF-1.4\n\x01\x02\x03 Patient: " NAME "\n");
	unscanned(p, "PDF cannot be read (Poppler: ");
}

Test(pdf, without_the_module_a_pdf_is_unscanned_never_clean)
{
	char *p = write_pdf("rx.pdf", "", "", "Crown 11", NULL);
	setenv("PHISCAN_POPPLER_MODULE", cli_fmt("%s/no-such-module.so", cli_root), 1);
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", p, NULL);
	unsetenv("PHISCAN_POPPLER_MODULE");
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&out, "the PDF reader is unavailable: ") || has(&err, "the PDF reader is unavailable: "),
	          "%s%s", out.p, err.p);
}

Test(pdf, strip_and_filter_report_the_findings_and_write_nothing)
{
	char *p = write_pdf("rx.pdf", "", "", "Patient: " NAME "   DOB 03/14/1961", NULL);
	char *key = cli_fmt("%s/key", cli_root), *outdir = cli_fmt("%s/out", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--key", key, "-o", outdir, cli_case, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&out, "the pdf format cannot be stripped yet: nothing written"), "%s", out.p);
	cr_assert(has(&out, "page 1: patient"), "the strip lists what it found: %s", out.p);
	cr_assert_null(cli_read(cli_fmt("%s/rx.pdf", outdir), NULL), "a copy was written");

	size_t n;
	char *raw = cli_read(p, &n);
	struct cbuf in = {raw, n};
	rc = cli(&out, &err, &in, "filter", NULL);
	cr_assert_eq(rc, 2);
	cr_assert_eq(out.n, 0, "filter wrote %zu bytes", out.n);
}

/* The fuzz target's seeds and every input it ever failed on (tests/fuzz/regress/
 * fuzz_pdf), through the binary: scanned or refused with a reason, never a crash or
 * a hang (run() fails the test on either). */
Test(pdf, fuzz_seeds_and_regressions_end_with_a_verdict)
{
	const char *dirs[] = {"tests/fuzz/seeds/fuzz_pdf", "tests/fuzz/regress/fuzz_pdf"};
	size_t files = 0;
	for (size_t k = 0; k < 2; k++) {
		DIR *d = opendir(dirs[k]);
		if (!d) {
			cr_assert_eq(k, 1, "%s (run from the repository root)", dirs[k]);
			continue;
		}
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			struct cbuf out, err;
			int rc = cli(&out, &err, NULL, "scan", cli_fmt("%s/%s", dirs[k], e->d_name), NULL);
			cr_assert(rc >= 0 && rc <= 2, "%s: exit %d", e->d_name, rc);
			cr_assert(rc != 2 || has(&out, "error: ") || has(&err, "error: "),
			          "%s: unscanned without a reason", e->d_name);
			files++;
		}
		closedir(d);
	}
	cr_assert_geq(files, 3);
}

/* The PDF reader reads the file into memory rather than mapping it: a file that
 * shrank since its size was taken is an error for that file (here: the size says
 * 4,096 bytes, the file holds 100), where a mapping would have raised SIGBUS. */
Test(pdf, a_file_that_shrank_is_a_short_read_not_a_crash)
{
	char *p = cli_fmt("%s/short.pdf", cli_root);
	char body[100];
	memset(body, 'x', sizeof body);
	memcpy(body, "%PDF-1.4\n", 9);
	cli_write(p, body, sizeof body);
	int fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0);
	struct phi_limits lim;
	phi_limits_default(&lim);
	struct phi_error err = {0};
	struct phi_fctx ctx = {.fd = fd, .size = 4096, .limits = &lim, .err = &err};
	struct phi_img_in in;
	int rc = phi_img_load_copy(&ctx, &in);
	close(fd);
	cr_assert_eq(rc, PHI_EIO, "rc %d", rc);
	cr_assert_str_eq(err.msg, "the file shrank while it was read");
	/* and the whole file, when it is all there */
	fd = open(p, O_RDONLY);
	ctx = (struct phi_fctx){.fd = fd, .size = sizeof body, .limits = &lim, .err = &err};
	cr_assert_eq(phi_img_load_copy(&ctx, &in), 0);
	close(fd);
	cr_assert_eq(in.n, sizeof body);
	cr_assert_eq(memcmp(in.p, body, sizeof body), 0);
	cr_assert_null(in.map);
	phi_img_release(&in);
}

/* A PDF inside a case archive: found under its entry path; strip writes no archive
 * rather than one with the PDF left in it. */
Test(pdf, a_pdf_in_a_zip_is_scanned_and_blocks_the_archive_strip)
{
	char *p = write_pdf("rx.pdf", "", "", "Patient: " NAME, NULL);
	char *zip = cli_fmt("%s/in/case.zip", cli_root);
	cli_mkdirs(cli_fmt("%s/in", cli_root));
	char *py = cli_fmt("import zipfile; z = zipfile.ZipFile('%s', 'w'); z.write('%s', 'rx.pdf'); "
	                   "z.writestr('notes.txt', 'Crown 11'); z.close()",
	                   zip, p);
	char *mk[] = {"python3", "-c", py, NULL};
	struct cbuf out, err;
	cr_assert_eq(run(mk, NULL, &out, &err), 0, "%s", err.p);
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", zip, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	cr_assert(has(&out, "case.zip!/rx.pdf"), "%s", out.p);
	cr_assert_eq(findings_in(&out, "page 1"), 1, "%s", out.p);

	char *key = cli_fmt("%s/key", cli_root), *outdir = cli_fmt("%s/out", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	rc = cli(&out, &err, NULL, "strip", "--key", key, "-o", outdir, zip, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert_null(cli_read(cli_fmt("%s/case.zip", outdir), NULL), "an archive was written");
}

/* ---- --drop-unstrippable ---- */

static char *manifest_of(const char *outdir)
{
	char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", outdir), NULL);
	cr_assert(man, "no manifest in %s", outdir);
	return man;
}

Test(pdf, drop_unstrippable_leaves_out_a_pdf_with_findings_and_copies_the_rest)
{
	char *dirty = write_pdf("rx.pdf", "", "", "Patient: " NAME "   DOB 03/14/1961", NULL);
	char *clean = write_pdf("shade.pdf", "", "", "Crown 11, zirconia, shade A2", NULL);
	cli_write_str(cli_fmt("%s/note.txt", cli_case), "Lab note: shade A2\n");
	char *key = cli_fmt("%s/key", cli_root), *outdir = cli_fmt("%s/out", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--drop-unstrippable", "--key", key, "-o", outdir,
	             cli_case, NULL);
	/* found and kept out of the copy: exit 1, as for identifiers replaced */
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	cr_assert(has(&out, "the pdf format cannot be stripped yet: left out of the output "
	                    "(--drop-unstrippable)"),
	          "%s", out.p);
	cr_assert(has(&out, "page 1: patient"), "the strip lists what it found: %s", out.p);
	cr_assert(!has(&out, "Gonzalez") && !has(&err, "Gonzalez"), "an identifier was printed");
	cr_assert_null(cli_read(cli_fmt("%s/rx.pdf", outdir), NULL), "the dirty PDF was written");
	size_t a, b;
	char *in = cli_read(clean, &a), *copy = cli_read(cli_fmt("%s/shade.pdf", outdir), &b);
	cr_assert(copy && a == b && !memcmp(in, copy, a), "the clean PDF was not copied as it is");
	cr_assert_not_null(cli_read(cli_fmt("%s/note.txt", outdir), NULL));
	char *man = manifest_of(outdir);
	cr_assert(strstr(man, "\"status\": \"dropped\""), "%s", man);
	cr_assert(strstr(man, "\"status\": \"unchanged\""), "%s", man);
	cr_assert(!strstr(man, "\"status\": \"error\""), "%s", man);
	size_t n;
	char *raw = cli_read(dirty, &n);
	cr_assert(raw && n > 0, "the original is still there");

	/* a case archive: written without the entry, the rest of it kept */
	char *zip = cli_fmt("%s/in/case.zip", cli_root), *zout = cli_fmt("%s/zout", cli_root);
	cli_mkdirs(cli_fmt("%s/in", cli_root));
	char *py = cli_fmt("import zipfile; z = zipfile.ZipFile('%s', 'w'); z.write('%s', 'rx.pdf'); "
	                   "z.writestr('notes.txt', 'Crown 11'); z.close()",
	                   zip, dirty);
	char *mk[] = {"python3", "-c", py, NULL};
	cr_assert_eq(run(mk, NULL, &out, &err), 0, "%s", err.p);
	rc = cli(&out, &err, NULL, "strip", "--drop-unstrippable", "--key", key, "-o", zout, zip,
	         NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	char *ls = cli_fmt("import zipfile; print(' '.join(zipfile.ZipFile('%s/case.zip').namelist()))",
	                   zout);
	char *list[] = {"python3", "-c", ls, NULL};
	cr_assert_eq(run(list, NULL, &out, &err), 0, "%s", err.p);
	cr_assert(has(&out, "notes.txt") && !has(&out, "rx.pdf"), "entries: %s", out.p);
}

Test(pdf, drop_unstrippable_is_refused_with_in_place_and_outside_strip)
{
	char *p = write_pdf("rx.pdf", "", "", "Patient: " NAME, NULL);
	size_t n0, n1;
	char *before = cli_read(p, &n0);
	char *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "strip", "--drop-unstrippable", "--in-place", "--key", key,
	             cli_case, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&err, "--drop-unstrippable would delete originals with --in-place"), "%s",
	          err.p);
	char *after = cli_read(p, &n1);
	cr_assert(after && n0 == n1 && !memcmp(before, after, n0), "the original changed");
	rc = cli(&out, &err, NULL, "scan", "--drop-unstrippable", p, NULL);
	cr_assert_eq(rc, 2);
	cr_assert(has(&err, "--drop-unstrippable applies to strip"), "%s", err.p);
	struct cbuf in = {before, n0};
	rc = cli(&out, &err, &in, "filter", "--drop-unstrippable", NULL);
	cr_assert_eq(rc, 2);
	cr_assert_eq(out.n, 0, "filter wrote %zu bytes", out.n);
}

/* A worker reports a file's findings in batches of 4,096 (main.c, FLUSH_FINDINGS) and
 * forgets them: a PDF with exactly that many had none left in hand when the strip
 * decided, and was copied as if clean.  Eight pages of 64 lines of 8 SSNs. */
Test(pdf, a_pdf_whose_findings_were_already_reported_is_still_not_copied)
{
	struct pdf d;
	pdf_start(&d);
	obj(&d, 1, "<< /Type /Catalog /Pages 2 0 R >>", NULL, false);
	obj(&d, 2,
	    "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R 6 0 R 7 0 R 8 0 R 9 0 R 10 0 R] /Count 8 >>",
	    NULL, false);
	for (int pg = 0; pg < 8; pg++) {
		char b[512];
		snprintf(b, sizeof b,
		         "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1200 792] /Contents %d 0 R " FONT
		         " >>",
		         11 + pg);
		obj(&d, 3 + pg, b, NULL, false);
	}
	for (int pg = 0; pg < 8; pg++) {
		size_t cap = 64 * 8 * 24 + 64 * 16 + 64, len = 0;
		char *c = malloc(cap);
		cr_assert(c);
		len += (size_t)snprintf(c + len, cap - len, "BT /F1 6 Tf 10 TL 10 780 Td");
		for (int l = 0; l < 64; l++) {
			len += (size_t)snprintf(c + len, cap - len, " (");
			for (int j = 0; j < 8; j++)
				len += (size_t)snprintf(c + len, cap - len, "%sSSN 482-%02d-%04d", j ? " " : "",
				                        31 + pg, l * 8 + j + 1);
			len += (size_t)snprintf(c + len, cap - len, ") Tj T*");
		}
		len += (size_t)snprintf(c + len, cap - len, " ET");
		cr_assert_lt(len, cap);
		obj(&d, 11 + pg, "", c, false);
		free(c);
	}
	char *p = cli_fmt("%s/list.pdf", cli_case);
	pdf_end(&d, NULL, p);

	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", p, NULL);
	cr_assert_eq(rc, 1, "%s", err.p);
	size_t n, found = 0;
	char **l = lines_of(&out, &n);
	for (size_t i = 0; i < n; i++)
		found += is_type(l[i], "finding");
	cr_assert_eq(found, 4096, "the PDF should hold exactly one batch of findings");

	char *key = cli_fmt("%s/key", cli_root), *outdir = cli_fmt("%s/out", cli_root);
	cli_write_str(key, "0123456789abcdef0123456789abcdef");
	rc = cli(&out, &err, NULL, "strip", "--key", key, "-o", outdir, cli_case, NULL);
	cr_assert_eq(rc, 2, "%s%s", out.p, err.p);
	cr_assert(has(&out, "the pdf format cannot be stripped yet: nothing written"), "%s", out.p);
	cr_assert_null(cli_read(cli_fmt("%s/list.pdf", outdir), NULL), "a copy was written");
	char *out2 = cli_fmt("%s/out2", cli_root);
	rc = cli(&out, &err, NULL, "strip", "--drop-unstrippable", "--key", key, "-o", out2, cli_case,
	         NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	cr_assert_null(cli_read(cli_fmt("%s/list.pdf", out2), NULL), "a copy was written");
	cr_assert(strstr(manifest_of(out2), "\"status\": \"dropped\""));
}
