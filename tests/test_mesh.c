/* test_mesh.c - STL, PLY, OBJ/MTL and 3Shape HPS: detection, the slots each format
 * hands the rules, strip, the geometry proofs, bad input and fuzz regressions.
 *
 * Two kinds of test.  In-process: a format's scan() runs over a temporary file (or a
 * pipe) with a recording sink, so the slots (where, text, offset) are checked as
 * data; strip there uses a sink that replaces every slot whole with "[X]".
 * End to end: the real binary ($PHISCAN, set by make test) scans and strips files in
 * a mkdtemp directory with the default rule pack; every strip test re-scans the copy
 * (clean), compares the geometry bytes with the original and checks what must be
 * kept is kept.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../formats/format.h"
#include "../formats/hps.h"
#include "../formats/obj.h"
#include "../formats/ply.h"
#include "../formats/stl.h"

/* ---- temporary files ---- */

static char mroot[PATH_MAX];

static void mesh_setup(void)
{
	const char *t = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	cr_assert(sodium_init() >= 0);
	snprintf(tmpl, sizeof tmpl, "%s/phiscan-mesh-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpl));
	cr_assert_not_null(realpath(tmpl, mroot));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void mesh_teardown(void)
{
	if (mroot[0])
		nftw(mroot, rm_one, 32, FTW_DEPTH | FTW_PHYS);
	mroot[0] = 0;
}

TestSuite(mesh, .init = mesh_setup, .fini = mesh_teardown, .timeout = 120);

/* A path under the test's root (static rotating storage: 8 live at once). */
static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *P(const char *fmt, ...)
{
	static char slots[8][PATH_MAX + 64];
	static int k;
	char rel[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	char *s = slots[k++ % 8];
	snprintf(s, PATH_MAX + 64, "%s/%s", mroot, rel);
	return s;
}

/* Command-line arguments (static rotating storage: 4 live at once). */
static const char *A(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *A(const char *fmt, ...)
{
	static char slots[4][3 * PATH_MAX];
	static int k;
	va_list ap;
	char *s = slots[k++ % 4];
	va_start(ap, fmt);
	vsnprintf(s, 3 * PATH_MAX, fmt, ap);
	va_end(ap);
	return s;
}

static void mkdirs_for(const char *path)
{
	char tmp[PATH_MAX + 64];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(tmp, 0777);
		*p = '/';
	}
}

static void put_file(const char *path, const void *data, size_t n)
{
	mkdirs_for(path);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

struct bytes {
	unsigned char *p;
	size_t n, cap;
};

static void by_put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void by_str(struct bytes *b, const char *s)
{
	by_put(b, s, strlen(s));
}

static void by_u32(struct bytes *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	by_put(b, x, 4);
}

/* Whole file (NUL-terminated); n = 0 and NULL when absent.  Caller frees. */
static unsigned char *get_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	*n = 0;
	if (!f)
		return NULL;
	struct bytes b = {0};
	char buf[65536];
	size_t r;
	while ((r = fread(buf, 1, sizeof buf, f)) > 0)
		by_put(&b, buf, r);
	fclose(f);
	if (!b.p)
		by_put(&b, "", 0);
	*n = b.n;
	return b.p;
}

/* ---- in-process: a recording sink ---- */

#define REC_MAX 64

struct rec {
	size_t n;
	char where[REC_MAX][96];
	char text[REC_MAX][512];
	uint64_t off[REC_MAX], line[REC_MAX];
	int kind[REC_MAX];
	char vclass[REC_MAX][16];
	int replace_all; /* strip: replace every slot whole with "[X]" */
	char facts[2048];
};

static int rec_field(void *sink, const struct phi_field *f, struct phi_edits *ed)
{
	struct rec *r = sink;
	static struct phi_edit e;
	if (r->n < REC_MAX) {
		snprintf(r->where[r->n], sizeof r->where[0], "%s", f->where ? f->where : "");
		snprintf(r->text[r->n], sizeof r->text[0], "%.*s", (int)(f->len < 511 ? f->len : 511),
		         f->text);
		/* the file offset of text[0] */
		r->off[r->n] = f->offset + (f->map ? f->map[0] : 0);
		r->line[r->n] = f->line;
		r->kind[r->n] = f->kind;
		snprintf(r->vclass[r->n], sizeof r->vclass[0], "%s", f->value_class ? f->value_class : "");
		r->n++;
	}
	if (ed && r->replace_all && f->len) {
		e = (struct phi_edit){0, f->len, "[X]", 3};
		ed->v = &e;
		ed->n = 1;
	}
	return 0;
}

static int rec_record(void *sink, const char *name, const char *value)
{
	struct rec *r = sink;
	size_t k = strlen(r->facts);
	snprintf(r->facts + k, sizeof r->facts - k, "%s=%s;", name, value);
	return 0;
}

static const struct phi_sink_ops rec_ops = {rec_field, rec_record};

/* The index of the slot whose where equals w, or -1. */
static int rec_find(const struct rec *r, const char *w)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->where[i], w))
			return (int)i;
	return -1;
}

/* When set, run_fmt uses these limits instead of the defaults. */
static const struct phi_limits *lim_override;

/* Run fmt over data (a regular file, or a pipe when piped) and, when out is not
 * NULL, strip into it.  Returns scan()'s code; err gets the message. */
static int run_fmt(const struct phi_format *fmt, const void *data, size_t n, int piped,
                   unsigned flags, struct rec *r, struct bytes *out, struct phi_error *err,
                   uint64_t *in_bytes)
{
	static unsigned char head[PHI_HEAD_SIZE];
	struct phi_limits lim;
	struct phi_strip_opts so = {.flags = flags};
	const char *path = P("in-%zu.bin", n);
	int fd, ofd = -1, pfd[2] = {-1, -1};
	pid_t child = -1;

	phi_limits_default(&lim);
	if (lim_override)
		lim = *lim_override;
	memset(err, 0, sizeof *err);
	if (piped) {
		cr_assert_eq(pipe(pfd), 0);
		child = fork();
		cr_assert_neq(child, -1);
		if (child == 0) {
			close(pfd[0]);
			const unsigned char *p = data;
			size_t left = n;
			while (left) {
				ssize_t w = write(pfd[1], p, left);
				if (w <= 0)
					_exit(1);
				p += w;
				left -= (size_t)w;
			}
			_exit(0);
		}
		close(pfd[1]);
		fd = pfd[0];
	} else {
		put_file(path, data, n);
		fd = open(path, O_RDONLY);
		cr_assert_geq(fd, 0);
	}
	size_t hn = 0;
	for (;;) {
		ssize_t k = read(fd, head + hn, sizeof head - hn);
		cr_assert_geq(k, 0);
		if (k == 0)
			break;
		hn += (size_t)k;
		if (hn == sizeof head)
			break;
	}
	if (out) {
		const char *op = P("out-%zu.bin", n);
		ofd = open(op, O_RDWR | O_CREAT | O_TRUNC, 0600);
		cr_assert_geq(ofd, 0);
	}
	struct phi_fctx ctx = {
		.path = "test",
		.fd = fd,
		.size = piped ? PHI_NO_OFFSET : (uint64_t)n,
		.head = head,
		.head_len = hn,
		.out_fd = ofd,
		.limits = &lim,
		.err = err,
		.sink_ops = &rec_ops,
		.sink = r,
		.sopts = &so,
	};
	int rc = fmt->scan(&ctx);
	if (in_bytes)
		*in_bytes = ctx.in_bytes > hn ? ctx.in_bytes : hn;
	if (out) {
		size_t on;
		unsigned char *o = get_file(P("out-%zu.bin", n), &on);
		out->n = 0;
		by_put(out, o ? o : (unsigned char *)"", on);
		free(o);
		close(ofd);
	}
	close(fd);
	if (child > 0) {
		int st;
		waitpid(child, &st, 0);
	}
	return rc;
}

/* ---- end to end ---- */

/* Run a shell command line built from fmt; returns the exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	cr_assert(WIFEXITED(st), "%s: did not exit", cmd);
	return WEXITSTATUS(st);
}

static const char *bin(void)
{
	static char b[PATH_MAX];
	const char *e = getenv("PHISCAN");
	if (e && *e)
		return e;
	cr_assert_not_null(realpath("phiscan", b), "set PHISCAN (make test does)");
	return b;
}

/* phiscan ARGS > out 2> err, with a 60 s watchdog; returns the exit status. */
static int phiscan(const char *args, const char *out)
{
	int rc = sh("timeout 60 '%s' %s > '%s' 2> '%s.err'", bin(), args, out, out);
	if (getenv("MESH_TEST_DEBUG"))
		sh("echo 'exit %d: %s'; cat '%s' '%s.err' >&2", rc, args, out, out);
	return rc;
}

static int file_has(const char *path, const char *needle)
{
	size_t n;
	unsigned char *p = get_file(path, &n);
	int r = p && memmem(p, n, needle, strlen(needle)) != NULL;
	free(p);
	return r;
}

static void assert_same_tail(const char *a, const char *b, size_t from_a, size_t from_b)
{
	size_t na, nb;
	unsigned char *pa = get_file(a, &na), *pb = get_file(b, &nb);
	cr_assert_not_null(pa, "%s missing", a);
	cr_assert_not_null(pb, "%s missing", b);
	cr_assert(na >= from_a && nb >= from_b);
	cr_assert_eq(na - from_a, nb - from_b, "tails differ in length");
	cr_assert(!memcmp(pa + from_a, pb + from_b, na - from_a), "tails differ");
	free(pa);
	free(pb);
}

/* The copy re-scans clean (exit 0). */
static void assert_rescan_clean(const char *path)
{
	const char *o = P("rescan.out");
	int rc = phiscan(A("scan '%s'", path), o);
	cr_assert_eq(rc, 0, "re-scan of %s is not clean (exit %d)", path, rc);
}

/* ---- sample data ---- */

#define NAME "Maria Gonzalez"
#define DOB "03/14/1961"

/* A binary STL: header text h (NUL-padded), n facets of varied floats. */
static struct bytes stl_binary(const void *h, size_t hn, uint32_t n)
{
	struct bytes b = {0};
	unsigned char hdr[80] = {0};
	memcpy(hdr, h, hn < 80 ? hn : 80);
	by_put(&b, hdr, 80);
	by_u32(&b, n);
	for (uint32_t i = 0; i < n; i++) {
		for (int k = 0; k < 12; k++) {
			float f = (float)(i * 12 + (uint32_t)k) * 0.25f;
			by_put(&b, &f, 4);
		}
		unsigned char attr[2] = {(unsigned char)i, 0x80};
		by_put(&b, attr, 2);
	}
	return b;
}

static const char ascii_stl[] = "solid " NAME " upper jaw\n"
                                "  facet normal 0 0 1\n    outer loop\n"
                                "      vertex 0 0 0\n      vertex 1 0 0\n      vertex 0 1 0\n"
                                "    endloop\n  endfacet\n"
                                "endsolid " NAME " upper jaw\n";

static const char ply_ascii[] = "ply\n"
                                "format ascii 1.0\n"
                                "comment Patient: " NAME "\n"
                                "element vertex 3\n"
                                "obj_info DOB: " DOB "\n"
                                "property float x\n"
                                "comment\n"
                                "property float y\n"
                                "property float z\n"
                                "element face 1\n"
                                "comment TextureFile Gonzalez_Maria_upper.png\n"
                                "property list uchar int vertex_indices\n"
                                "end_header\n"
                                "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";

/* The same mesh as ply_ascii in a binary encoding. */
static struct bytes ply_binary(int big_endian, const char *count_face)
{
	struct bytes b = {0};
	by_str(&b, "ply\nformat ");
	by_str(&b, big_endian ? "binary_big_endian" : "binary_little_endian");
	by_str(&b, " 1.0\ncomment Patient: " NAME "\nelement vertex 3\nobj_info DOB: " DOB
	           "\nproperty float x\ncomment\nproperty float y\nproperty float z\nelement face ");
	by_str(&b, count_face);
	by_str(&b, "\ncomment TextureFile Gonzalez_Maria_upper.png\n"
	           "property list uchar int vertex_indices\nend_header\n");
	float v[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
	for (int i = 0; i < 9; i++) {
		unsigned char x[4];
		memcpy(x, &v[i], 4);
		if (big_endian) {
			unsigned char t = x[0];
			x[0] = x[3], x[3] = t, t = x[1], x[1] = x[2], x[2] = t;
		}
		by_put(&b, x, 4);
	}
	unsigned char c = 3;
	by_put(&b, &c, 1);
	for (uint32_t i = 0; i < 3; i++) {
		unsigned char x[4] = {0};
		x[big_endian ? 3 : 0] = (unsigned char)i;
		by_put(&b, x, 4);
	}
	return b;
}

static const char obj_text[] = "# Exported for " NAME "\n"
                               "mtllib Gonzalez.mtl\n"
                               "o " NAME "\n"
                               "v 0 0 0 0.5 0.5 0.5\n"
                               "v  1 0 0 # note: DOB: " DOB "\n"
                               "v 0 1 0\n"
                               "vn 0 0 1\n"
                               "g upper lower\n"
                               "usemtl Gypsum\n"
                               "f 1//1 2//1 3//1\n"
                               "g lower\n"
                               "f 1 2 3\n";

static const char mtl_text[] = "# material for patient " NAME "\n"
                               "newmtl Gypsum\n"
                               "Ka 1 1 1\n"
                               "Kd 0.8 0.8 0.8\n"
                               "map_Kd -s 1 1 1 Maria_Gonzalez_2024-03-02.jpg\n";

/* base64 of UTF-16LE "<?xml version=\"1.0\" encoding=\"utf-16\"?><M><Comment>Patient: Maria
 * Gonzalez</Comment><V xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">1.2.3.4</V></M>" is
 * built at run time (hps_doc). */
static struct bytes hps_doc(const char *blob_b64_override, const char *serial)
{
	static const char inner[] = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<M xmlns:xsd="
	                            "\"http://www.w3.org/2001/XMLSchema\"><Comment>Patient: " NAME
	                            "</Comment><ModuleVersion>1.2.3.4</ModuleVersion></M>";
	unsigned char u16[2 * sizeof inner];
	char b64[4 * sizeof inner];
	size_t un = 0;
	for (size_t i = 0; inner[i]; i++) {
		u16[un++] = (unsigned char)inner[i];
		u16[un++] = 0;
	}
	sodium_bin2base64(b64, sizeof b64, u16, un, sodium_base64_VARIANT_ORIGINAL);
	struct bytes b = {0};
	by_str(&b, "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<HPS version=\"1.1\">\n"
	           "  <Packed_geometry><Schema>CA</Schema><Binary_data><CA version=\"1.0\">"
	           "<Vertices vertex_count=\"2\">AAAAAAAAAAAAAAAA</Vertices>"
	           "<Facets facet_count=\"1\">AQIDBAUG</Facets></CA></Binary_data></Packed_geometry>\n"
	           "  <FacetMarks>AAEC</FacetMarks>\n"
	           "  <SignatureHash>0123456789abcdef0123456789abcdef01234567</SignatureHash>\n"
	           "  <!-- Patient: " NAME " -->\n"
	           "  <Objects><Object name=\"Properties\"><String value=\"Operator=Dr. John Smith\"/>"
	           "</Object></Objects>\n"
	           "  <Properties>\n"
	           "    <Property name=\"EKID\" value=\"1\"/>\n"
	           "    <Property name=\"SourceApp\" value=\"Designer.exe#1.0 (build 1.0)#2021-06-15 09.54\"/>\n"
	           "    <Property name=\"ScannerSerialNumber\" value=\"");
	by_str(&b, serial);
	by_str(&b, "\"/>\n    <Property name=\"Note\" value=\"Patient: " NAME " &amp; family\"/>\n"
	           "    <Property name=\"SID.Model.Metadata\" value=\"");
	by_str(&b, blob_b64_override ? blob_b64_override : b64);
	by_str(&b, "\"/>\n  </Properties>\n</HPS>\n");
	return b;
}

/* The bytes of the first element named el (start tag to end tag) in p. */
static char *element_bytes(const unsigned char *p, size_t n, const char *el)
{
	char open[64], close[64];
	snprintf(open, sizeof open, "<%s", el);
	snprintf(close, sizeof close, "</%s>", el);
	const unsigned char *a = memmem(p, n, open, strlen(open));
	if (!a)
		return NULL;
	const unsigned char *z = memmem(a, n - (size_t)(a - p), close, strlen(close));
	if (!z)
		return NULL;
	return strndup((const char *)a, (size_t)(z - a) + strlen(close));
}

/* ================================================================ detection */

Test(mesh, a_binary_stl_is_told_by_its_size_even_when_it_starts_with_solid)
{
	struct bytes b = stl_binary("solid ascii-looking binary", 26, 3);
	const struct phi_format *f = phi_format_detect(b.p, b.n, NULL);
	cr_assert_not_null(f);
	cr_assert_str_eq(f->name, "stl");
	struct rec r = {0};
	struct phi_error err;
	cr_assert_eq(run_fmt(&phi_format_stl, b.p, b.n, 0, 0, &r, NULL, &err, NULL), 0, "%s", err.msg);
	cr_assert(strstr(r.facts, "stl=binary"), "%s", r.facts);
	free(b.p);
}

Test(mesh, ascii_stl_ply_obj_mtl_and_hps_outrank_plain_text)
{
	struct bytes h = hps_doc(NULL, "1CD2306001B");
	struct {
		const void *p;
		size_t n;
		const char *name, *want;
	} cases[] = {
		{ascii_stl, sizeof ascii_stl - 1, NULL, "stl"},
		{ply_ascii, sizeof ply_ascii - 1, NULL, "ply"},
		{obj_text, sizeof obj_text - 1, NULL, "obj"},
		{obj_text, sizeof obj_text - 1, "jaw.obj", "obj"},
		{mtl_text, sizeof mtl_text - 1, NULL, "mtl"},
		{mtl_text, sizeof mtl_text - 1, "jaw.mtl", "mtl"},
		{h.p, h.n, "Scan.dcm", "hps"},
		{"Tooth 14 crown prep, margins ok.\n", 33, "rx.txt", "text"},
		{"v is for victory\n", 17, NULL, "text"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct phi_format *f = phi_format_detect(cases[i].p, cases[i].n, cases[i].name);
		cr_assert_not_null(f, "case %zu", i);
		cr_assert_str_eq(f->name, cases[i].want, "case %zu", i);
	}
	free(h.p);
}

Test(mesh, hps_is_not_confused_with_dicom_or_zip)
{
	unsigned char dicom[256] = {0};
	memcpy(dicom, "<HPS version=\"1.0\">", 19);
	memcpy(dicom + 128, "DICM", 4);
	const unsigned char zip[] = "PK\x03\x04<HPS version=\"1.0\">";
	const unsigned char hps[] = "\xEF\xBB\xBF  <?xml version=\"1.0\"?>\r\n<HPS>";
	cr_assert_eq(phi_format_hps.detect(dicom, sizeof dicom, "scan.dcm"), 0);
	cr_assert_eq(phi_format_hps.detect(zip, sizeof zip - 1, "scan.dcm"), 0);
	cr_assert_gt(phi_format_hps.detect(hps, sizeof hps - 1, NULL), 90);
	cr_assert_eq(phi_format_hps.detect((const unsigned char *)"<HPSX>", 6, NULL), 0);
}

/* ================================================================ STL */

Test(mesh, stl_header_printable_runs_are_slots_and_colour_payloads_are_not)
{
	unsigned char h[80] = {0};
	size_t k = 0;
	memcpy(h, "COLOR=", 6), k = 6;
	memcpy(h + k, "ABCD", 4), k += 4; /* payload that happens to be printable */
	memcpy(h + k, ",MATERIAL=", 10), k += 10;
	memcpy(h + k, "EFGHIJKLMNOP", 12), k += 12;
	memcpy(h + k, " Patient: " NAME, 10 + strlen(NAME));
	struct bytes b = stl_binary(h, 80, 2);
	struct rec r = {0};
	struct phi_error err;
	cr_assert_eq(run_fmt(&phi_format_stl, b.p, b.n, 0, 0, &r, NULL, &err, NULL), 0, "%s", err.msg);
	int found = 0;
	for (size_t i = 0; i < r.n; i++) {
		cr_assert(!strstr(r.text[i], "ABCD") && !strstr(r.text[i], "EFGH"),
		          "colour payload scanned as text: %s", r.where[i]);
		cr_assert_eq(strncmp(r.where[i], "header[", 7), 0);
		if (strstr(r.text[i], NAME)) {
			found = 1;
			cr_assert_eq(r.off[i] + (uint64_t)(strstr(r.text[i], NAME) - r.text[i]), 42);
		}
	}
	cr_assert(found, "the name in the header was not a slot");
	free(b.p);
}

Test(mesh, stl_scan_of_a_large_binary_file_reads_only_the_head)
{
	struct bytes b = stl_binary("Patient: " NAME, 9 + strlen(NAME), 100000); /* 5 MB */
	struct rec r = {0};
	struct phi_error err;
	uint64_t nread = 0;
	cr_assert_eq(run_fmt(&phi_format_stl, b.p, b.n, 0, 0, &r, NULL, &err, &nread), 0, "%s",
	             err.msg);
	cr_assert_leq(nread, PHI_HEAD_SIZE, "a scan read %llu bytes of %zu",
	              (unsigned long long)nread, b.n);
	cr_assert_geq(r.n, 1);
	free(b.p);
}

Test(mesh, stl_strip_writes_the_neutral_tag_keeps_colour_and_every_facet_byte)
{
	unsigned char h[80] = {0};
	memcpy(h, "Patient: " NAME " DOB: " DOB, 9 + strlen(NAME) + 6 + strlen(DOB));
	memcpy(h + 50, "COLOR=\x01\x02\x03\xff", 10);
	struct bytes b = stl_binary(h, 80, 500);
	put_file(P("in/scan/upper.stl"), b.p, b.n);
	int rc = phiscan(A("strip -q --verify %s/in -o %s/out", mroot, mroot), P("strip.out"));
	cr_assert_eq(rc, 1, "strip exit %d", rc);
	size_t n;
	unsigned char *o = get_file(P("out/scan/upper.stl"), &n);
	cr_assert_not_null(o);
	cr_assert_eq(n, b.n);
	cr_assert(!memcmp(o, PHI_STL_NEUTRAL_TAG, strlen(PHI_STL_NEUTRAL_TAG)));
	cr_assert(!memcmp(o + 50, "COLOR=\x01\x02\x03\xff", 10), "colour block not kept");
	cr_assert(!memmem(o, 80, "Gonzalez", 8));
	assert_same_tail(P("in/scan/upper.stl"), P("out/scan/upper.stl"), 80, 80);
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"geometry_verified\": \"yes\""));
	assert_rescan_clean(P("out/scan/upper.stl"));
	free(o);
	free(b.p);
}

/* SHA-256 hex of the bytes after an STL header without the attribute words. */
static void stl_geometry_hex(const unsigned char *p, size_t n, char hex[65])
{
	crypto_hash_sha256_state st;
	unsigned char md[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, p + 80, 4);
	for (size_t at = 84; at + 50 <= n; at += 50)
		crypto_hash_sha256_update(&st, p + at, 48);
	crypto_hash_sha256_final(&st, md);
	sodium_bin2hex(hex, 65, md, sizeof md);
}

/* Every byte after the header equal, but the attribute words, which are zero. */
static void assert_attributes_zeroed(const unsigned char *in, const unsigned char *out, size_t n)
{
	cr_assert(!memcmp(in + 80, out + 80, 4), "triangle count changed");
	for (size_t at = 84; at + 50 <= n; at += 50) {
		cr_assert(!memcmp(in + at, out + at, 48), "facet at %zu changed", at);
		cr_assert(out[at + 48] == 0 && out[at + 49] == 0, "attribute word at %zu kept", at + 48);
	}
}

Test(mesh, stl_zero_attributes_zeroes_only_the_attribute_words_and_proves_the_rest)
{
	struct bytes b = stl_binary("Patient: " NAME, 9 + strlen(NAME), 1500); /* > the head */
	char want[65], fact[128];
	size_t n;
	stl_geometry_hex(b.p, b.n, want);
	snprintf(fact, sizeof fact, "\"geometry_sha256_in\": \"%s\"", want);
	put_file(P("in/upper.stl"), b.p, b.n);
	int rc = phiscan(A("strip -q --verify --stl-zero-attributes %s/in -o %s/out", mroot, mroot),
	                 P("s.out"));
	cr_assert_eq(rc, 1, "strip exit %d", rc);
	unsigned char *o = get_file(P("out/upper.stl"), &n);
	cr_assert_not_null(o);
	cr_assert_eq(n, b.n);
	cr_assert(!memcmp(o, PHI_STL_NEUTRAL_TAG, strlen(PHI_STL_NEUTRAL_TAG)));
	assert_attributes_zeroed(b.p, o, n);
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"stl_attributes\": \"zeroed\""));
	cr_assert(file_has(P("out/phiscan-manifest.json"), fact), "the hash must leave out the words");
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"geometry_verified\": \"yes\""));
	free(o);
	/* the same on a pipe (facets cross read boundaries at odd places) */
	cr_assert_eq(sh("timeout 60 '%s' filter --stl-zero-attributes < '%s' > '%s' 2>/dev/null",
	                bin(), P("in/upper.stl"), P("piped.stl")),
	             1);
	o = get_file(P("piped.stl"), &n);
	cr_assert_not_null(o);
	cr_assert_eq(n, b.n);
	assert_attributes_zeroed(b.p, o, n);
	free(o);
	/* without the option the words are colour and stay */
	cr_assert_eq(phiscan(A("strip -q %s/in -o %s/kept", mroot, mroot), P("k.out")), 1);
	assert_same_tail(P("in/upper.stl"), P("kept/upper.stl"), 80, 80);
	cr_assert(!file_has(P("kept/phiscan-manifest.json"), "stl_attributes"));
	/* an ASCII STL has no attribute words: the option changes nothing there */
	put_file(P("asc/lower.stl"), ascii_stl, sizeof ascii_stl - 1);
	cr_assert_eq(phiscan(A("strip -q --verify --stl-zero-attributes %s/asc -o %s/ascout", mroot,
	                       mroot),
	                     P("a.out")),
	             1);
	cr_assert(file_has(P("ascout/lower.stl"), "      vertex 1 0 0\n"));
	free(b.p);
}

Test(mesh, ascii_stl_strip_neutralises_the_solid_names_and_keeps_the_facets)
{
	struct rec r = {0};
	struct phi_error err;
	struct bytes out = {0};
	r.replace_all = 1;
	cr_assert_eq(run_fmt(&phi_format_stl, ascii_stl, sizeof ascii_stl - 1, 0, 0, &r, &out, &err,
	                     NULL),
	             0, "%s", err.msg);
	cr_assert_eq(rec_find(&r, "solid name line 1"), 0);
	cr_assert_eq(r.off[0], 6);
	cr_assert_geq(rec_find(&r, "endsolid name line 9"), 0);
	const char *want_start = "solid " PHI_STL_NEUTRAL_NAME "\n  facet normal 0 0 1\n";
	cr_assert(!strncmp((char *)out.p, want_start, strlen(want_start)), "%s", out.p);
	cr_assert(strstr((char *)out.p, "endsolid " PHI_STL_NEUTRAL_NAME "\n"));
	cr_assert(!strstr((char *)out.p, "Gonzalez"));
	const char *body = strstr(ascii_stl, "  facet"), *obody = strstr((char *)out.p, "  facet");
	size_t blen = (size_t)(strstr(ascii_stl, "endsolid") - body);
	cr_assert(!memcmp(body, obody, blen), "facets changed");
	/* the same end to end, with the real rules and the manifest */
	put_file(P("in/lower.stl"), ascii_stl, sizeof ascii_stl - 1);
	cr_assert_eq(phiscan(A("strip -q --verify %s/in -o %s/out", mroot, mroot), P("s.out")), 1);
	assert_rescan_clean(P("out/lower.stl"));
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"geometry_verified\": \"yes\""));
	free(out.p);
}

Test(mesh, bad_stl_files_fail_with_a_clear_message_and_leave_no_output)
{
	struct bytes trunc = stl_binary("Patient: " NAME, 23, 40);
	trunc.n -= 7; /* size formula fails */
	struct bytes overflow = stl_binary("x", 1, 4);
	overflow.p[80] = overflow.p[81] = overflow.p[82] = overflow.p[83] = 0xFF; /* 2^32 - 1 */
	static const char no_end[] = "solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0 0\n";
	static const char text_in[] = "solid x\nPatient notes here\nendsolid x\n";
	struct {
		const char *name;
		const void *p;
		size_t n;
		const char *msg;
	} bad[] = {
		{"truncated.stl", trunc.p, trunc.n, "does not match its triangle count"},
		{"overflow.stl", overflow.p, overflow.n, "does not match its triangle count"},
		{"noend.stl", no_end, sizeof no_end - 1, "without endsolid"},
		{"text.stl", text_in, sizeof text_in - 1, "unexpected text"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put_file(P("bad%zu/%s", i, bad[i].name), bad[i].p, bad[i].n);
		int rc = phiscan(A("strip %s/bad%zu -o %s/bout%zu", mroot, i, mroot, i), P("b.out"));
		cr_assert_eq(rc, 2, "%s: exit %d", bad[i].name, rc);
		cr_assert(file_has(P("b.out.err"), bad[i].msg) || file_has(P("b.out"), bad[i].msg),
		          "%s: no clear message", bad[i].name);
		cr_assert_neq(access(P("bout%zu/%s", i, bad[i].name), F_OK), 0, "%s: output left",
		              bad[i].name);
	}
	free(trunc.p);
	free(overflow.p);
}

/* ================================================================ PLY */

Test(mesh, ply_comments_anywhere_in_the_header_are_slots_with_their_line)
{
	struct rec r = {0};
	struct phi_error err;
	cr_assert_eq(run_fmt(&phi_format_ply, ply_ascii, sizeof ply_ascii - 1, 0, 0, &r, NULL, &err,
	                     NULL),
	             0, "%s", err.msg);
	/* golden: where, text, line; the empty comment on line 7 has no slot */
	static const struct {
		const char *where, *text;
		uint64_t line;
	} want[] = {
		{"comment line 3", "Patient: " NAME, 3},
		{"obj_info line 5", "DOB: " DOB, 5},
		{"comment line 11", "TextureFile Gonzalez_Maria_upper.png", 11},
	};
	cr_assert_eq(r.n, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(r.where[i], want[i].where);
		cr_assert_str_eq(r.text[i], want[i].text);
		cr_assert_eq(r.line[i], want[i].line);
		cr_assert(!memcmp(ply_ascii + r.off[i], want[i].text, strlen(want[i].text)));
	}
	cr_assert(strstr(r.facts, "ply=ascii"));
}

Test(mesh, ply_strip_drops_comments_and_keeps_the_body_in_all_three_encodings)
{
	struct bytes le = ply_binary(0, "1"), be = ply_binary(1, "1");
	struct {
		const char *name;
		const void *p;
		size_t n;
	} files[] = {
		{"a.ply", ply_ascii, sizeof ply_ascii - 1},
		{"le.ply", le.p, le.n},
		{"be.ply", be.p, be.n},
	};
	for (size_t i = 0; i < 3; i++)
		put_file(P("in/%s", files[i].name), files[i].p, files[i].n);
	cr_assert_eq(phiscan(A("strip -q --verify %s/in -o %s/out", mroot, mroot), P("s.out")), 1);
	for (size_t i = 0; i < 3; i++) {
		size_t n;
		unsigned char *o = get_file(P("out/%s", files[i].name), &n);
		cr_assert_not_null(o, "%s", files[i].name);
		cr_assert(!memmem(o, n, "comment", 7) && !memmem(o, n, "obj_info", 8), "%s", files[i].name);
		const unsigned char *ie = memmem(files[i].p, files[i].n, "end_header\n", 11);
		const unsigned char *oe = memmem(o, n, "end_header\n", 11);
		cr_assert(ie && oe);
		size_t ib = (size_t)(ie - (const unsigned char *)files[i].p) + 11, ob = (size_t)(oe - o) + 11;
		assert_same_tail(P("in/%s", files[i].name), P("out/%s", files[i].name), ib, ob);
		/* the schema is kept, line for line */
		cr_assert(memmem(o, n, "element vertex 3\nproperty float x\nproperty float y\n", 50));
		cr_assert(memmem(o, n, "property list uchar int vertex_indices\n", 39));
		free(o);
	}
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"geometry_verified\": \"yes\""));
	assert_rescan_clean(P("out"));
	free(le.p);
	free(be.p);
}

Test(mesh, ply_bad_headers_and_lying_counts_fail_without_allocating_what_they_declare)
{
	struct bytes huge = ply_binary(0, "1099511627776"); /* 2^40 faces */
	struct bytes more = ply_binary(0, "2");
	struct bytes overflow = ply_binary(1, "18446744073709551615");
	static const char no_end[] = "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n1\n";
	static const char junk_kw[] = "ply\nformat ascii 1.0\nnote Patient x\nend_header\n";
	static const char ascii_short[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\n"
	                                  "end_header\n1\n2\n";
	struct {
		const void *p;
		size_t n;
		int piped;
		const char *msg;
	} bad[] = {
		{huge.p, huge.n, 0, "element counts"},
		{huge.p, huge.n, 1, "shorter than its element counts"},
		{more.p, more.n, 1, "shorter"},
		{overflow.p, overflow.n, 1, "PLY"},
		{no_end, sizeof no_end - 1, 0, "no end_header"},
		{no_end, sizeof no_end - 1, 1, "no end_header"},
		{junk_kw, sizeof junk_kw - 1, 0, "unknown keyword"},
		{ascii_short, sizeof ascii_short - 1, 1, "rows"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct rec r = {0};
		struct phi_error err;
		struct bytes out = {0};
		int rc = run_fmt(&phi_format_ply, bad[i].p, bad[i].n, bad[i].piped, 0, &r, &out, &err, NULL);
		cr_assert(rc == PHI_EFORMAT || rc == PHI_ELIMIT, "case %zu: rc %d", i, rc);
		cr_assert(strstr(err.msg, bad[i].msg), "case %zu: %s", i, err.msg);
		free(out.p);
	}
	free(huge.p);
	free(more.p);
	free(overflow.p);
}

Test(mesh, ply_comments_with_invalid_utf8_are_scanned_not_fatal)
{
	static const char latin[] = "ply\nformat ascii 1.0\ncomment Patient: Mar\xed" "a M\xfcller\n"
	                            "element vertex 1\nproperty float x\nend_header\n1\n";
	struct rec r = {0};
	struct phi_error err;
	cr_assert_eq(run_fmt(&phi_format_ply, latin, sizeof latin - 1, 0, 0, &r, NULL, &err, NULL), 0,
	             "%s", err.msg);
	cr_assert_eq(r.n, 1);
}

/* ================================================================ OBJ / MTL */

Test(mesh, obj_comments_names_and_references_are_slots)
{
	struct rec r = {0};
	struct phi_error err;
	cr_assert_eq(run_fmt(&phi_format_obj, obj_text, sizeof obj_text - 1, 0, 0, &r, NULL, &err,
	                     NULL),
	             0, "%s", err.msg);
	static const struct {
		const char *where, *text;
	} want[] = {
		{"comment line 1", "Exported for " NAME},
		{"mtllib line 2", "mtllib Gonzalez.mtl"},
		{"o name line 3", NAME},
		{"comment line 5", "note: DOB: " DOB},
		{"g name line 8", "upper lower"},
		{"usemtl line 9", "usemtl Gypsum"},
		{"g name line 11", "lower"},
	};
	cr_assert_eq(r.n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_str_eq(r.where[i], want[i].where);
		cr_assert_str_eq(r.text[i], want[i].text);
		cr_assert(!memcmp(obj_text + r.off[i], want[i].text, strlen(want[i].text)));
	}
	struct rec m = {0};
	cr_assert_eq(run_fmt(&phi_format_mtl, mtl_text, sizeof mtl_text - 1, 0, 0, &m, NULL, &err,
	                     NULL),
	             0, "%s", err.msg);
	cr_assert_geq(rec_find(&m, "newmtl line 2"), 0);
	cr_assert_geq(rec_find(&m, "map_Kd line 5"), 0);
	cr_assert_str_eq(m.text[rec_find(&m, "map_Kd line 5")],
	                 "map_Kd -s 1 1 1 Maria_Gonzalez_2024-03-02.jpg");
}

Test(mesh, obj_strip_removes_comments_numbers_names_and_keeps_the_geometry)
{
	struct rec r = {0};
	struct phi_error err;
	struct bytes out = {0};
	r.replace_all = 1;
	cr_assert_eq(run_fmt(&phi_format_obj, obj_text, sizeof obj_text - 1, 0, 0, &r, &out, &err,
	                     NULL),
	             0, "%s", err.msg);
	static const char want[] = "[X]\n"
	                           "o object1\n"
	                           "v 0 0 0 0.5 0.5 0.5\n"
	                           "v  1 0 0\n"
	                           "v 0 1 0\n"
	                           "vn 0 0 1\n"
	                           "g group1 group2\n"
	                           "[X]\n"
	                           "f 1//1 2//1 3//1\n"
	                           "g group2\n"
	                           "f 1 2 3\n";
	cr_assert_str_eq((char *)out.p, want);
	cr_assert(strstr(r.facts, "geometry_sha256_in="), "%s", r.facts);
	/* end to end: geometry hash equal, re-scan clean, material link intact */
	put_file(P("in/jaw.obj"), obj_text, sizeof obj_text - 1);
	put_file(P("in/jaw.mtl"), mtl_text, sizeof mtl_text - 1);
	cr_assert_eq(phiscan(A("strip -q --verify %s/in -o %s/out", mroot, mroot), P("s.out")), 1);
	cr_assert(file_has(P("out/jaw.obj"), "usemtl Gypsum\n"));
	cr_assert(file_has(P("out/jaw.mtl"), "newmtl Gypsum\n"));
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"geometry_verified\": \"yes\""));
	assert_rescan_clean(P("out"));
	free(out.p);
}

Test(mesh, a_name_in_a_referenced_file_name_is_found_and_replaced)
{
	static const char mtl[] = "newmtl Gypsum\nKd 1 1 1\nmap_Kd -s 1 1 1 Maria_Gonzalez_texture.jpg\n";
	static const char obj[] = "mtllib Gonzalez_Maria.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";
	static const char ply[] = "ply\nformat ascii 1.0\ncomment TextureFile Maria_Gonzalez_texture.png\n"
	                          "element vertex 1\nproperty float x\nend_header\n1\n";
	static const char clean[] = "newmtl Gypsum\nmap_Kd Shade_Guide_texture.png\nmap_Bump Upper_Jaw.png\n";
	put_file(P("in/jaw.mtl"), mtl, sizeof mtl - 1);
	put_file(P("in/jaw.obj"), obj, sizeof obj - 1);
	put_file(P("in/scan.ply"), ply, sizeof ply - 1);
	put_file(P("neg/jaw.mtl"), clean, sizeof clean - 1);
	cr_assert_eq(phiscan(A("scan --format json %s/in", mroot), P("scan.out")), 1);
	static const char *const want[][2] = {
		{"jaw.mtl", "\"line\":3,\"column\":17,"},
		{"jaw.obj", "\"line\":1,\"column\":8,"},
		{"scan.ply", "\"line\":3,\"column\":21,"},
	};
	for (int i = 0; i < 3; i++)
		cr_assert_eq(sh("grep -F '/%s\"' '%s' | grep -F 'name-in-file-reference' | grep -qF '%s'",
		                want[i][0], P("scan.out"), want[i][1]),
		             0, "%s: no name-in-file-reference finding at %s", want[i][0], want[i][1]);
	cr_assert_eq(phiscan(A("scan %s/neg", mroot), P("neg.out")), 0, "texture names without a person");
	cr_assert_eq(phiscan(A("strip -q --verify %s/in -o %s/out", mroot, mroot), P("s.out")), 1);
	cr_assert(file_has(P("out/jaw.mtl"), "map_Kd -s 1 1 1 [NAME]_texture.jpg\n"));
	cr_assert(file_has(P("out/jaw.obj"), "mtllib [NAME].mtl\n"));
	cr_assert(!file_has(P("out/scan.ply"), "Gonzalez"));
	assert_rescan_clean(P("out"));
}

Test(mesh, obj_statements_with_undescribed_text_fail)
{
	static const char bad[] = "v 0 0 0\npatient Maria Gonzalez\n";
	static const char nums[] = "v 0 0 0\nvc 1 2 3\n"; /* unknown but numeric: kept */
	struct rec r = {0};
	struct phi_error err;
	cr_assert_eq(run_fmt(&phi_format_obj, bad, sizeof bad - 1, 0, 0, &r, NULL, &err, NULL),
	             PHI_EFORMAT);
	cr_assert(strstr(err.msg, "line 2"), "%s", err.msg);
	cr_assert_eq(run_fmt(&phi_format_obj, nums, sizeof nums - 1, 0, 0, &r, NULL, &err, NULL), 0);
}

/* ================================================================ HPS */

Test(mesh, hps_reports_the_serial_number_as_a_device_and_decodes_base64_blobs)
{
	struct bytes h = hps_doc(NULL, "1CD2306001B");
	struct rec r = {0};
	struct phi_error err;
	cr_assert_eq(run_fmt(&phi_format_hps, h.p, h.n, 0, 0, &r, NULL, &err, NULL), 0, "%s", err.msg);
	int k = rec_find(&r, "Property ScannerSerialNumber");
	cr_assert_geq(k, 0);
	cr_assert_eq(r.kind[k], PHI_FIELD_VALUE);
	cr_assert_str_eq(r.vclass[k], "device");
	cr_assert(!memcmp(h.p + r.off[k], "1CD2306001B", 11));
	/* SourceApp is text for the rules like any property; its build dates are not
	 * structured date values (README: SourceApp dates are software build dates) */
	cr_assert_eq(rec_find(&r, "Property SourceApp (date)"), -1);
	k = rec_find(&r, "Property SourceApp");
	cr_assert_geq(k, 0);
	cr_assert_eq(r.kind[k], PHI_FIELD_TEXT);
	k = rec_find(&r, "Property Note");
	cr_assert_geq(k, 0);
	cr_assert_str_eq(r.text[k], "Patient: " NAME " & family", "entities decoded");
	cr_assert_geq(rec_find(&r, "String value"), 0);
	cr_assert_geq(rec_find(&r, "comment"), 0);
	int blob = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.where[i], "Property SID.Model.Metadata (base64 UTF-16 XML)"))
			continue;
		cr_assert(!strstr(r.text[i], "w3.org"), "namespace names are not slots");
		cr_assert(!strstr(r.text[i], "1.2.3.4"), "version numbers are not slots");
		blob |= strcmp(r.text[i], "Patient: " NAME) == 0;
	}
	cr_assert(blob, "the blob's text was not decoded into a slot");
	/* EKID is protected: scanned, never edited, even when every slot is replaced */
	cr_assert_geq(rec_find(&r, "Property EKID"), 0);
	struct rec all = {.replace_all = 1};
	struct bytes out = {0};
	cr_assert_eq(run_fmt(&phi_format_hps, h.p, h.n, 0, PHI_SO_STRIP_HPS, &all, &out, &err, NULL), 0,
	             "%s", err.msg);
	cr_assert(memmem(out.p, out.n, "<Property name=\"EKID\" value=\"1\"/>", 33));
	cr_assert(memmem(out.p, out.n, "<Property name=\"ScannerSerialNumber\" value=\"[X]\"/>", 49));
	free(out.p);
	free(h.p);
}

Test(mesh, hps_strip_is_report_only_without_opt_in_and_verbatim_when_clean)
{
	struct bytes h = hps_doc(NULL, "1CD2306001B");
	put_file(P("in/Scan.dcm"), h.p, h.n);
	static const char clean[] = "<HPS version=\"1.0\"><Packed_geometry>AAAA</Packed_geometry>"
	                            "<Properties><Property name=\"EKID\" value=\"1\"/></Properties></HPS>";
	put_file(P("in2/Clean.dcm"), clean, sizeof clean - 1);
	int rc = phiscan(A("strip %s/in -o %s/out", mroot, mroot), P("s.out"));
	cr_assert_eq(rc, 2);
	cr_assert(file_has(P("s.out.err"), "report-only") || file_has(P("s.out"), "report-only"));
	cr_assert_neq(access(P("out/Scan.dcm"), F_OK), 0, "a report-only strip wrote a copy");
	cr_assert_eq(phiscan(A("strip -q %s/in2 -o %s/out2", mroot, mroot), P("s2.out")), 0);
	assert_same_tail(P("in2/Clean.dcm"), P("out2/Clean.dcm"), 0, 0);
	free(h.p);
}

Test(mesh, hps_strip_hps_changes_only_values_and_keeps_protected_elements)
{
	struct bytes h = hps_doc(NULL, "1CD2306001B");
	put_file(P("in/Scan.dcm"), h.p, h.n);
	int rc = phiscan(A("strip -q --verify --strip-hps %s/in -o %s/out", mroot, mroot), P("s.out"));
	cr_assert_eq(rc, 1, "exit %d", rc);
	size_t n;
	unsigned char *o = get_file(P("out/Scan.dcm"), &n);
	cr_assert_not_null(o);
	static const char *const keep[] = {"Packed_geometry", "FacetMarks", "SignatureHash"};
	for (size_t i = 0; i < 3; i++) {
		char *a = element_bytes(h.p, h.n, keep[i]), *b = element_bytes(o, n, keep[i]);
		cr_assert(a && b && !strcmp(a, b), "%s changed", keep[i]);
		free(a);
		free(b);
	}
	cr_assert(memmem(o, n, "<Property name=\"EKID\" value=\"1\"/>", 33));
	cr_assert(!memmem(o, n, "1CD2306001B", 11));
	cr_assert(!memmem(o, n, "Gonzalez", 8));
	cr_assert(memmem(o, n, "value=\"Designer.exe#1.0 (build 1.0)#2021-06-15 09.54\"", 51),
	          "SourceApp (a software build string) changed");
	cr_assert(file_has(P("out/phiscan-manifest.json"), "3Shape software may reject"));
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"geometry_verified\": \"yes\""));
	/* the edited blob is still base64 of UTF-16LE XML, without the name */
	const unsigned char *v = memmem(o, n, "SID.Model.Metadata\" value=\"", 27);
	cr_assert_not_null(v);
	v += 27;
	const unsigned char *e = memchr(v, '"', n - (size_t)(v - o));
	unsigned char bin[4096];
	size_t bl;
	cr_assert_eq(sodium_base642bin(bin, sizeof bin, (const char *)v, (size_t)(e - v), NULL, &bl,
	                               NULL, sodium_base64_VARIANT_ORIGINAL),
	             0);
	cr_assert(bl > 4 && bin[0] == '<' && bin[1] == 0, "not UTF-16LE XML without BOM");
	cr_assert(!memmem(bin, bl, "G\0o\0n\0z\0", 8), "the name survived in the blob");
	cr_assert(memmem(bin, bl, "h\0t\0t\0p\0", 8), "the namespace was changed");
	assert_rescan_clean(P("out/Scan.dcm"));
	free(o);
	free(h.p);
}

/* UTF-8 bytes to UTF-16 (BMP only), with a BOM when bom is set. */
static struct bytes to_utf16(const unsigned char *p, size_t n, int be, int bom)
{
	struct bytes b = {0};
	if (bom)
		by_put(&b, be ? "\xFE\xFF" : "\xFF\xFE", 2);
	for (size_t i = 0; i < n;) {
		uint32_t cp = p[i];
		size_t k = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : 3;
		if (k == 2)
			cp = (cp & 0x1F) << 6 | (p[i + 1] & 0x3F);
		else if (k == 3)
			cp = (cp & 0x0F) << 12 | (uint32_t)(p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
		unsigned char u[2] = {(unsigned char)(be ? cp >> 8 : cp), (unsigned char)(be ? cp : cp >> 8)};
		by_put(&b, u, 2);
		i += k;
	}
	return b;
}

/* hps_doc without its UTF-8 BOM and with a non-ASCII patient name property. */
static struct bytes hps_doc_plain(void)
{
	struct bytes h = hps_doc(NULL, "1CD2306001B"), d = {0};
	const char *cut = "  <Properties>\n";
	const unsigned char *at = memmem(h.p, h.n, cut, strlen(cut));
	cr_assert_not_null(at);
	size_t k = (size_t)(at - h.p) + strlen(cut);
	by_put(&d, h.p + 3, k - 3);
	by_str(&d, "    <Property name=\"PatientName\" value=\"Jos\xc3\xa9 N\xc3\xba\xc3\xb1" "ez\"/>\n");
	by_put(&d, h.p + k, h.n - k);
	free(h.p);
	return d;
}

Test(mesh, hps_in_utf16_is_detected_scanned_and_stripped_in_its_own_encoding)
{
	struct bytes plain = hps_doc_plain();
	/* the reference: the UTF-8 file stripped by the same sink */
	struct rec r8 = {.replace_all = 1};
	struct phi_error err;
	struct bytes want8 = {0};
	cr_assert_eq(run_fmt(&phi_format_hps, plain.p, plain.n, 0, PHI_SO_STRIP_HPS, &r8, &want8, &err,
	                     NULL),
	             0, "%s", err.msg);
	for (int v = 0; v < 3; v++) {
		int be = v == 1, bom = v < 2;
		struct bytes u = to_utf16(plain.p, plain.n, be, bom);
		const struct phi_format *f = phi_format_detect(u.p, u.n, "Scan.dcm");
		cr_assert_not_null(f, "variant %d", v);
		cr_assert_str_eq(f->name, "hps", "variant %d", v);
		cr_assert_str_eq(phi_format_detect(u.p, u.n, NULL)->name, "hps", "variant %d", v);
		/* scan: the same slots, at their offsets in the UTF-16 file */
		struct rec r = {0};
		cr_assert_eq(run_fmt(&phi_format_hps, u.p, u.n, 0, 0, &r, NULL, &err, NULL), 0,
		             "variant %d: %s", v, err.msg);
		struct rec r0 = {0};
		cr_assert_eq(run_fmt(&phi_format_hps, plain.p, plain.n, 0, 0, &r0, NULL, &err, NULL), 0);
		cr_assert_eq(r.n, r0.n, "variant %d: %zu slots, UTF-8 has %zu", v, r.n, r0.n);
		int k = rec_find(&r, "Property ScannerSerialNumber");
		cr_assert_geq(k, 0);
		cr_assert_str_eq(r.vclass[k], "device");
		struct bytes sn = to_utf16((const unsigned char *)"1CD2306001B", 11, be, 0);
		cr_assert(!memcmp(u.p + r.off[k], sn.p, sn.n), "variant %d: serial offset", v);
		k = rec_find(&r, "Property PatientName");
		cr_assert_geq(k, 0);
		cr_assert_str_eq(r.text[k], "Jos\xc3\xa9 N\xc3\xba\xc3\xb1" "ez", "decoded to UTF-8");
		cr_assert(strstr(r.facts, be ? "encoding=utf-16be" : "encoding=utf-16le"), "%s", r.facts);
		/* strip (the last variant from a pipe): byte for byte the UTF-16 form of the
		 * stripped UTF-8 file */
		struct rec rs = {.replace_all = 1};
		struct bytes out = {0};
		cr_assert_eq(run_fmt(&phi_format_hps, u.p, u.n, v == 2, PHI_SO_STRIP_HPS | PHI_SO_VERIFY,
		                     &rs, &out, &err, NULL),
		             0, "variant %d: %s", v, err.msg);
		cr_assert(strstr(rs.facts, "geometry_verified=yes"), "%s", rs.facts);
		struct bytes want = to_utf16(want8.p, want8.n, be, bom);
		cr_assert_eq(out.n, want.n, "variant %d: %zu bytes, want %zu", v, out.n, want.n);
		cr_assert(!memcmp(out.p, want.p, want.n), "variant %d: the copy differs", v);
		free(sn.p);
		free(out.p);
		free(want.p);
		free(u.p);
	}
	/* end to end: the report-only default, then --strip-hps with the manifest proof */
	struct bytes u = to_utf16(plain.p, plain.n, 0, 1);
	put_file(P("in/Scan16.dcm"), u.p, u.n);
	cr_assert_eq(phiscan(A("scan %s/in", mroot), P("scan.out")), 1);
	cr_assert(file_has(P("scan.out"), "Property ScannerSerialNumber"));
	cr_assert_eq(phiscan(A("strip %s/in -o %s/ro", mroot, mroot), P("ro.out")), 2);
	cr_assert(file_has(P("ro.out"), "Scan16.dcm: error: 3Shape HPS is report-only"));
	cr_assert_neq(access(P("ro/Scan16.dcm"), F_OK), 0);
	cr_assert_eq(phiscan(A("strip -q --verify --strip-hps %s/in -o %s/out", mroot, mroot),
	                     P("s.out")),
	             1);
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"geometry_verified\": \"yes\""));
	cr_assert(file_has(P("out/phiscan-manifest.json"), "\"encoding\": \"utf-16le\""));
	assert_rescan_clean(P("out/Scan16.dcm"));
	/* an odd byte count after a UTF-16 BOM is not HPS that can be read */
	u.p[u.n - 1] = 0;
	cr_assert_eq(run_fmt(&phi_format_hps, u.p, u.n - 1, 0, 0, &r8, NULL, &err, NULL), PHI_EFORMAT);
	cr_assert(strstr(err.msg, "odd byte count"), "%s", err.msg);
	free(u.p);
	free(want8.p);
	free(plain.p);
}

Test(mesh, hps_with_broken_base64_or_xml_fails_and_writes_nothing)
{
	struct bytes b64 = hps_doc("PAA/AHgA!!!notbase64", "X");
	static const char badxml[] = "<HPS version=\"1.1\"><Properties><Property name=\"a\" value=\"b\">"
	                             "</Properties></HPS>";
	static const char doctype[] = "<?xml version=\"1.0\"?><!DOCTYPE HPS [<!ENTITY n \"x\">]>"
	                              "<HPS>&n;</HPS>";
	struct {
		const void *p;
		size_t n;
		const char *msg;
	} bad[] = {
		{b64.p, b64.n, "not base64 of UTF-16 XML"},
		{badxml, sizeof badxml - 1, "not well-formed"},
		{doctype, sizeof doctype - 1, "DOCTYPE"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct rec r = {0};
		struct phi_error err;
		struct bytes out = {0};
		int rc = run_fmt(&phi_format_hps, bad[i].p, bad[i].n, 0, PHI_SO_STRIP_HPS, &r, &out, &err,
		                 NULL);
		cr_assert_eq(rc, PHI_EFORMAT, "case %zu: rc %d", i, rc);
		cr_assert(strstr(err.msg, bad[i].msg), "case %zu: %s", i, err.msg);
		put_file(P("bad%zu/x.dcm", i), bad[i].p, bad[i].n);
		cr_assert_eq(phiscan(A("strip --strip-hps %s/bad%zu -o %s/bo%zu", mroot, i, mroot, i),
		                     P("b.out")),
		             2);
		cr_assert_neq(access(P("bo%zu/x.dcm", i), F_OK), 0);
		free(out.p);
	}
	free(b64.p);
}

/* ================================================================ bad input, end to end */

/* Every bad input of issue 4 through the real binary: scan and strip each exit 2
 * with one line naming the file and the reason, and strip leaves no output file. */
Test(mesh, every_bad_mesh_input_fails_closed_naming_the_file_and_the_reason)
{
	struct bytes trunc = stl_binary("Patient: " NAME, 23, 40);
	trunc.n -= 7;
	struct bytes overflow = stl_binary("x", 1, 4);
	memset(overflow.p + 80, 0xFF, 4);
	struct bytes lying = ply_binary(0, "2"), lying_be = ply_binary(1, "1099511627776");
	struct bytes trailing = ply_binary(0, "1"); /* lists: the header gives no exact size */
	by_str(&trailing, "Patient: " NAME "\n");
	struct bytes b64 = hps_doc("PAA/AHgA!!!notbase64", "X");
	static const char no_end[] = "solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0 0\n";
	static const char no_hdr_end[] = "ply\nformat ascii 1.0\ncomment Patient " NAME "\n"
	                                 "element vertex 1\nproperty float x\n1\n";
	static const char short_ascii[] = "ply\nformat ascii 1.0\nelement vertex 9\nproperty float x\n"
	                                  "property float y\nend_header\n"
	                                  "1.00000000000000 2.00000000000000\n"
	                                  "3.00000000000000 4.00000000000000\n";
	static const char bad_xml[] = "<HPS version=\"1.1\"><Properties><Property name=\"a\" "
	                              "value=\"b\"></Properties></HPS>";
	static const char odd16[] = "\xFF\xFE<\0H\0P\0S\0>\0<";
	static const char obj_text_bad[] = "v 0 0 0\npatient Maria Gonzalez\n";
	const struct {
		const char *name;
		const void *p;
		size_t n;
		const char *why;
	} bad[] = {
		{"truncated.stl", trunc.p, trunc.n, "does not match its triangle count"},
		{"count-overflow.stl", overflow.p, overflow.n, "does not match its triangle count 4294967295"},
		{"no-endsolid.stl", no_end, sizeof no_end - 1, "ASCII STL without endsolid"},
		{"no-end-header.ply", no_hdr_end, sizeof no_hdr_end - 1, "no end_header"},
		{"lying-counts.ply", lying.p, lying.n, "PLY body shorter than its element counts"},
		{"trailing-text.ply", trailing.p, trailing.n, "PLY body longer than its element counts"},
		{"lying-2e40.ply", lying_be.p, lying_be.n, "element counts do not match the body size"},
		{"short-ascii.ply", short_ascii, sizeof short_ascii - 1, "PLY ascii body has 2 rows, its element counts say 9"},
		{"broken-base64.dcm", b64.p, b64.n, "is not base64 of UTF-16 XML"},
		{"broken-xml.dcm", bad_xml, sizeof bad_xml - 1, "HPS is not well-formed XML"},
		{"odd-utf16.dcm", odd16, sizeof odd16 - 1, "odd byte count"},
		{"text.obj", obj_text_bad, sizeof obj_text_bad - 1, "text the format does not describe"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put_file(P("bad%zu/%s", i, bad[i].name), bad[i].p, bad[i].n);
		const char *line = A("%s/bad%zu/%s: error: ", mroot, i, bad[i].name);
		for (int strip = 0; strip < 2; strip++) {
			const char *args = strip ? A("strip --strip-hps %s/bad%zu -o %s/out%zu", mroot, i, mroot, i)
			                         : A("scan %s/bad%zu", mroot, i);
			int rc = phiscan(args, P("b.out"));
			cr_assert_eq(rc, 2, "%s (%s): exit %d", bad[i].name, strip ? "strip" : "scan", rc);
			cr_assert_eq(sh("cat '%s' '%s.err' | grep -F '%s' | grep -qF '%s'", P("b.out"), P("b.out"),
			                line, bad[i].why),
			             0, "%s (%s): no line '%s...%s'", bad[i].name, strip ? "strip" : "scan",
			             line, bad[i].why);
			cr_assert(!file_has(P("b.out"), "Gonzalez") && !file_has(P("b.out.err"), "Gonzalez"),
			          "an identifier in a message");
		}
		cr_assert_neq(access(P("out%zu/%s", i, bad[i].name), F_OK), 0, "%s: output left",
		              bad[i].name);
	}
	free(trunc.p);
	free(overflow.p);
	free(lying.p);
	free(lying_be.p);
	free(trailing.p);
	free(b64.p);
}

/* Non-UTF-8 bytes in a comment are not bad input: the comment is scanned byte-wise
 * (a cp1252 name is still a name) and dropped by strip like any other. */
Test(mesh, a_comment_in_another_encoding_is_scanned_and_dropped_not_refused)
{
	static const char latin[] = "ply\nformat ascii 1.0\ncomment Patient: Mar\xed" "a M\xfc" "ller\n"
	                            "element vertex 1\nproperty float x\nend_header\n1\n";
	static const char obj[] = "# Patient: Mar\xed" "a M\xfc" "ller\nv 0 0 0\n";
	put_file(P("in/latin.ply"), latin, sizeof latin - 1);
	put_file(P("in/latin.obj"), obj, sizeof obj - 1);
	cr_assert_eq(phiscan(A("scan --format json %s/in", mroot), P("scan.out")), 1);
	cr_assert_eq(sh("grep -F 'latin.ply' '%s' | grep -qF '\"class\":\"name\"'", P("scan.out")), 0);
	cr_assert_eq(sh("grep -F 'latin.obj' '%s' | grep -qF '\"class\":\"name\"'", P("scan.out")), 0);
	cr_assert_eq(phiscan(A("strip -q --verify %s/in -o %s/out", mroot, mroot), P("s.out")), 1);
	cr_assert(!file_has(P("out/latin.ply"), "comment"));
	cr_assert(file_has(P("out/latin.ply"), "end_header\n1\n"));
	cr_assert(!file_has(P("out/latin.obj"), "M\xfc" "ller"));
	assert_rescan_clean(P("out"));
}

/* ================================================================ limits */

Test(mesh, every_mesh_cap_is_read_from_the_limits)
{
	struct phi_limits lim;
	lim_override = &lim;
	static const char ply_props[] = "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
	                                "property float y\nproperty float z\nend_header\n1 2 3\n";
	static const char obj_long[] = "v 0 0 0\nv 0.0000000000 0.0000000000 0.00000000000000\n";
	static const char obj_names[] = "o a\nv 0 0 0\no b\no c\n";
	static const char ply_head[] = "ply\nformat ascii 1.0\ncomment a fairly long comment line "
	                               "that pushes end_header past the cap\nelement vertex 1\n"
	                               "property float x\nend_header\n1\n";
	struct bytes h = hps_doc(NULL, "1CD2306001B");
	struct {
		const struct phi_format *fmt;
		const void *p;
		size_t n;
		int piped, code;
		const char *msg;
	} c[] = {
		{&phi_format_ply, ply_ascii, sizeof ply_ascii - 1, 0, PHI_ELIMIT, "more than 1 elements"},
		{&phi_format_ply, ply_props, sizeof ply_props - 1, 0, PHI_ELIMIT, "more than 2 properties"},
		{&phi_format_ply, ply_head, sizeof ply_head - 1, 0, PHI_EFORMAT, "first 64 bytes"},
		{&phi_format_obj, obj_long, sizeof obj_long - 1, 0, PHI_ELIMIT, "longer than 32 bytes"},
		{&phi_format_obj, obj_names, sizeof obj_names - 1, 0, PHI_ELIMIT, "more than 2 distinct"},
		{&phi_format_stl, ascii_stl, sizeof ascii_stl - 1, 0, PHI_ELIMIT, "longer than 32 bytes"},
		{&phi_format_hps, h.p, h.n, 1, PHI_ELIMIT, "larger than 100 bytes"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct rec r = {0};
		struct phi_error err;
		struct bytes out = {0};
		phi_limits_default(&lim); /* one cap lowered per case */
		switch (i) {
		case 0: lim.ply_max_elements = 1; break;
		case 1: lim.ply_max_props = 2; break;
		case 2: lim.ply_max_header = 64; break;
		case 3: lim.mesh_max_line = 32; break;
		case 4: lim.obj_max_names = 2; break;
		case 5: lim.mesh_max_line = 32; break;
		default: lim.hps_max_stream = 100; break;
		}
		int rc = run_fmt(c[i].fmt, c[i].p, c[i].n, c[i].piped, 0, &r, &out, &err,
		                 NULL);
		cr_assert_eq(rc, c[i].code, "case %zu: rc %d (%s)", i, rc, err.msg);
		cr_assert(strstr(err.msg, c[i].msg), "case %zu: %s", i, err.msg);
		free(out.p);
	}
	/* the defaults accept the same files (the o/g cap counts in strip mode only) */
	lim_override = NULL;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct rec r = {0};
		struct phi_error err;
		cr_assert_eq(run_fmt(c[i].fmt, c[i].p, c[i].n, c[i].piped, 0, &r, NULL, &err, NULL), 0,
		             "case %zu with the default limits: %s", i, err.msg);
	}
	free(h.p);
}

/* ================================================================ filter, corpus, fuzz */

Test(mesh, filter_strips_meshes_read_from_stdin)
{
	struct bytes big = stl_binary("Patient: " NAME, 23, 3000); /* larger than the head */
	put_file(P("big.stl"), big.p, big.n);
	put_file(P("a.ply"), ply_ascii, sizeof ply_ascii - 1);
	cr_assert_eq(sh("timeout 60 '%s' filter < '%s' > '%s' 2>/dev/null", bin(), P("big.stl"),
	                P("big.out")),
	             1);
	assert_same_tail(P("big.stl"), P("big.out"), 80, 80);
	cr_assert(!file_has(P("big.out"), "Gonzalez"));
	cr_assert_eq(sh("timeout 60 '%s' filter < '%s' > '%s' 2>/dev/null", bin(), P("a.ply"),
	                P("a.out")),
	             1);
	cr_assert(!file_has(P("a.out"), "comment"));
	cr_assert(file_has(P("a.out"), "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"));
	/* --verify re-reads a filter's output, to a file or to a pipe: the copy is
	 * spooled to a temporary file first and reaches stdout only when it verified */
	cr_assert_eq(sh("timeout 60 '%s' filter --verify < '%s' > '%s' 2>/dev/null", bin(),
	                P("a.ply"), P("av.out")),
	             1);
	cr_assert(file_has(P("av.out"), "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"));
	cr_assert_eq(sh("bash -c \"timeout 60 '%s' filter --verify < '%s' 2>'%s' | cat > '%s'; "
	                "exit \\${PIPESTATUS[0]}\"",
	                bin(), P("a.ply"), P("ap.err"), P("ap.out")),
	             1);
	cr_assert(!file_has(P("ap.err"), "--verify needs an output file it can re-read"));
	cr_assert(file_has(P("ap.out"), "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"));
	/* OBJ and HPS (report-only unless --strip-hps: nothing on stdout, exit 2) */
	put_file(P("jaw.obj"), obj_text, sizeof obj_text - 1);
	cr_assert_eq(sh("timeout 60 '%s' filter < '%s' > '%s' 2>/dev/null", bin(), P("jaw.obj"),
	                P("jaw.out")),
	             1);
	cr_assert(file_has(P("jaw.out"), "f 1//1 2//1 3//1\n"));
	cr_assert(file_has(P("jaw.out"), "o object1\n") && !file_has(P("jaw.out"), NAME));
	struct bytes h = hps_doc(NULL, "1CD2306001B");
	put_file(P("Scan.dcm"), h.p, h.n);
	cr_assert_eq(sh("timeout 60 '%s' filter < '%s' > '%s' 2>'%s'", bin(), P("Scan.dcm"),
	                P("hps.out"), P("hps.err")),
	             2);
	cr_assert(file_has(P("hps.err"), "report-only"));
	size_t hn;
	unsigned char *ho = get_file(P("hps.out"), &hn);
	cr_assert_eq(hn, 0, "a report-only filter wrote %zu bytes", hn);
	free(ho);
	cr_assert_eq(sh("timeout 60 '%s' filter --strip-hps < '%s' > '%s' 2>/dev/null", bin(),
	                P("Scan.dcm"), P("hps.out")),
	             1);
	cr_assert(!file_has(P("hps.out"), "1CD2306001B") && file_has(P("hps.out"), "<FacetMarks>AAEC"));
	free(h.p);
	/* a truncated binary STL on a pipe fails at its end: nothing usable written */
	big.n -= 10;
	put_file(P("trunc.stl"), big.p, big.n);
	cr_assert_eq(sh("timeout 60 '%s' filter < '%s' > /dev/null 2>&1", bin(), P("trunc.stl")), 2);
	free(big.p);
}

Test(mesh, generated_mesh_files_strip_clean_with_their_geometry_unchanged)
{
	const char *gen = getenv("GENCASE");
	if (!gen || !*gen || access(gen, X_OK)) {
		mesh_teardown();
		cr_skip_test("GENCASE not built");
	}
	cr_assert_eq(sh("'%s' cases '%s' --cases 3 --seed 11 > /dev/null", gen, P("corpus")), 0);
	/* only this files: other formats have their own tests */
	cr_assert_eq(sh("cd '%s' && mkdir -p ../m && for c in case-*; do mkdir -p ../m/$c && "
	                "cp -r $c/scan $c/model ../m/$c/; done",
	                P("corpus")),
	             0);
	int rc = phiscan(A("scan %s/m", mroot), P("scan.out"));
	cr_assert_eq(rc, 1, "planted identifiers not found (exit %d)", rc);
	rc = phiscan(A("strip -q --verify --strip-hps %s/m -o %s/clean", mroot, mroot), P("strip.out"));
	cr_assert_eq(rc, 1, "strip exit %d", rc);
	cr_assert(!file_has(P("clean/phiscan-manifest.json"), "\"status\": \"error\""));
	assert_rescan_clean(P("clean"));
	for (int c = 1; c <= 3; c++)
		assert_same_tail(P("m/case-%03d/scan/upper.stl", c), P("clean/case-%03d/scan/upper.stl", c),
		                 80, 80);
}

/* Every file under tests/fuzz/regress/<target>/ goes through its format in scan and
 * strip mode, from a file and from a pipe, without crashing. */
Test(mesh, fuzz_regressions_replay_without_crashing)
{
	static const struct {
		const char *dir;
		const struct phi_format *fmt;
	} t[] = {
		{"tests/fuzz/regress/fuzz_stl", &phi_format_stl},
		{"tests/fuzz/regress/fuzz_ply", &phi_format_ply},
		{"tests/fuzz/regress/fuzz_obj", &phi_format_obj},
		{"tests/fuzz/regress/fuzz_obj", &phi_format_mtl},
		{"tests/fuzz/regress/fuzz_hps", &phi_format_hps},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char cmd[PATH_MAX];
		snprintf(cmd, sizeof cmd, "ls %s 2>/dev/null", t[i].dir);
		FILE *ls = popen(cmd, "r");
		cr_assert_not_null(ls);
		char name[PATH_MAX];
		while (fgets(name, sizeof name, ls)) {
			name[strcspn(name, "\n")] = 0;
			char path[PATH_MAX * 2];
			snprintf(path, sizeof path, "%s/%s", t[i].dir, name);
			size_t n;
			unsigned char *p = get_file(path, &n);
			if (!p)
				continue;
			for (int mode = 0; mode < 4; mode++) {
				struct rec r = {.replace_all = mode & 1};
				struct phi_error err;
				struct bytes out = {0};
				(void)run_fmt(t[i].fmt, p, n, mode >> 1, PHI_SO_VERIFY | PHI_SO_STRIP_HPS, &r,
				              mode & 1 ? &out : NULL, &err, NULL);
				free(out.p);
			}
			free(p);
		}
		pclose(ls);
	}
}
