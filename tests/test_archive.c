/* test_archive.c - archives (scanner/archive.c) end to end: entries through the
 * formats with "!/" paths in every report, nesting, every limit, unsafe names,
 * encrypted entries, links, zip bombs, strip to a new archive (re-scan clean,
 * non-PHI bytes identical, fixed times, permissions, order), --in-place, the pipe
 * filter, and the corpus hook.
 *
 * Archives are built in the test with libarchive's writer (cli.c runs the real
 * binary with the small test pack: "Patient: First Last", "DOB: m/d/yyyy", SSNs,
 * e-mail addresses).  A test reads the written archives back with libarchive too.
 */
#include <criterion/criterion.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

TestSuite(archive, .init = cli_setup, .fini = cli_teardown, .timeout = 120);

#define NOTE "Referral.\nPatient: Maria Gonzalez\nDOB: 03/14/1961\nShade A2, tooth 14.\n"
#define CLEAN "Crown seated, occlusion adjusted.\n"

enum kind { K_FILE, K_DIR, K_SYMLINK, K_HARDLINK };

struct ent {
	const char *name;
	const void *data; /* K_FILE: bytes (NULL: none); links: the target */
	size_t len;       /* 0 with data: strlen */
	enum kind kind;
	unsigned perm;    /* 0: 0644 (files), 0755 (dirs) */
};

/* Write an archive of the given kind ("zip", "zip-stored", "zip-encrypted", "7z",
 * "tar", "cpio", each of those two with ".gz", ".bz2", ".xz", ".zst", or "raw.gz":
 * one gzip-compressed file) holding the entries, return its bytes. */
#define F(n, d) {.name = (n), .data = (d)}
#define B(n, d, l) {.name = (n), .data = (d), .len = (l)}
#define K(n, d, k, p) {.name = (n), .data = (d), .kind = (k), .perm = (p)}

static struct cbuf build(const char *kind, const struct ent *e, size_t n)
{
	struct archive *a = archive_write_new();
	cr_assert_not_null(a);
	if (!strncmp(kind, "zip", 3)) {
		cr_assert_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
		if (!strcmp(kind, "zip-stored"))
			cr_assert_eq(archive_write_zip_set_compression_store(a), ARCHIVE_OK);
		if (!strcmp(kind, "zip-encrypted")) {
			cr_assert_eq(archive_write_set_options(a, "zip:encryption=zipcrypt"), ARCHIVE_OK,
			             "%s", archive_error_string(a));
			cr_assert_eq(archive_write_set_passphrase(a, "secret"), ARCHIVE_OK);
		}
	} else if (!strcmp(kind, "7z")) {
		cr_assert_eq(archive_write_set_format_7zip(a), ARCHIVE_OK);
	} else if (!strncmp(kind, "cpio", 4)) {
		cr_assert_eq(archive_write_set_format_cpio_newc(a), ARCHIVE_OK);
	} else if (!strcmp(kind, "raw.gz")) {
		cr_assert_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
	} else {
		cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	}
	const char *dot = strchr(kind, '.');
	if (dot && !strcmp(dot, ".gz"))
		cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	else if (dot && !strcmp(dot, ".bz2"))
		cr_assert_eq(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
	else if (dot && !strcmp(dot, ".xz"))
		cr_assert_eq(archive_write_add_filter_xz(a), ARCHIVE_OK);
	else if (dot && !strcmp(dot, ".zst"))
		cr_assert_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	size_t cap = 1 << 16;
	for (size_t i = 0; i < n; i++)
		cap += (e[i].len ? e[i].len : e[i].data ? strlen(e[i].data) : 0) + 4096;
	char *buf = cli_own(malloc(cap));
	size_t used = 0;
	cr_assert_eq(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t len = e[i].len ? e[i].len : e[i].data ? strlen(e[i].data) : 0;
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_mtime(ae, 1714577412, 0); /* 2024-05-01 15:30:12 UTC */
		archive_entry_set_uname(ae, "drsmith");
		switch (e[i].kind) {
		case K_FILE:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].perm ? e[i].perm : 0644);
			archive_entry_set_size(ae, (la_int64_t)len);
			break;
		case K_DIR:
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e[i].perm ? e[i].perm : 0755);
			break;
		case K_SYMLINK:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			len = 0;
			break;
		case K_HARDLINK:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			len = 0;
			break;
		}
		cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK, "%s: %s", e[i].name,
		             archive_error_string(a));
		if (len)
			cr_assert_eq(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
		archive_entry_free(ae);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK, "%s", archive_error_string(a));
	archive_write_free(a);
	return (struct cbuf){buf, used};
}

static char *put(const char *rel, struct cbuf b)
{
	char *p = cli_fmt("%s/%s", cli_case, rel);
	cli_write(p, b.p, b.n);
	return p;
}

/* What libarchive reads back from an archive on disk (or in memory). */
struct got {
	char name[256];
	unsigned type, perm;
	long long mtime;
	char *data;
	size_t len;
	bool has_uname;
};

static size_t read_back(const void *mem, size_t n, struct got *g, size_t max)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	cr_assert_eq(archive_read_open_memory(a, mem, n), ARCHIVE_OK, "%s", archive_error_string(a));
	size_t k = 0;
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		cr_assert_lt(k, max);
		snprintf(g[k].name, sizeof g[k].name, "%s", archive_entry_pathname(e));
		g[k].type = archive_entry_filetype(e);
		g[k].perm = archive_entry_perm(e);
		g[k].mtime = (long long)archive_entry_mtime(e);
		g[k].has_uname = archive_entry_uname(e) && *archive_entry_uname(e);
		size_t cap = 1 << 16, len = 0;
		char *d = malloc(cap);
		for (;;) {
			la_ssize_t r = archive_read_data(a, d + len, cap - len);
			cr_assert_geq(r, 0, "%s", archive_error_string(a));
			if (r == 0)
				break;
			len += (size_t)r;
			if (len == cap)
				d = realloc(d, cap *= 2);
		}
		g[k].data = cli_own(d);
		g[k].len = len;
		k++;
	}
	archive_read_free(a);
	return k;
}

static size_t read_back_file(const char *path, struct got *g, size_t max)
{
	size_t n;
	char *p = cli_read(path, &n);
	cr_assert_not_null(p, "%s was not written", path);
	return read_back(p, n, g, max);
}

static char *sha_of(const void *p, size_t n)
{
	char *h = cli_own(malloc(65));
	sha256_hex(p, n, h);
	return h;
}

/* ---- scanning: entries are files with "!/" paths ---- */

Test(archive, zip_entries_are_scanned_through_their_formats_with_bang_paths)
{
	struct ent e[] = {F("notes/referral.txt", NOTE), F("clean.txt", CLEAN)};
	char *zip = put("case.zip", build("zip", e, 2));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             err.p);
	const char *f = line_for(&out, "finding", "case.zip!/notes/referral.txt");
	cr_assert_not_null(f, "%s", out.p);
	cr_assert_str_eq(json_str(f, "format"), "text");
	/* offsets are in the entry's own bytes */
	unsigned long long s, en;
	size_t nf;
	char **l = lines_of(&out, &nf);
	bool name_seen = false;
	for (size_t i = 0; i < nf; i++) {
		if (!is_type(l[i], "finding") || strcmp(json_str(l[i], "rule"), "t-name"))
			continue;
		cr_assert(json_num(l[i], "start", &s) && json_num(l[i], "end", &en));
		cr_assert_eq(memcmp(NOTE + s, "Maria Gonzalez", 14), 0);
		cr_assert_eq(en - s, 14);
		name_seen = true;
	}
	cr_assert(name_seen);
	cr_assert(has(&out, "\"files\":3,\"scanned\":3"), "%s", out.p);
	cr_assert(!has(&out, "Maria"), "a value was printed");
	/* human and SARIF carry the same path */
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 1);
	cr_assert(has(&out, cli_fmt("%s!/notes/referral.txt:2:10: patient name t-name", zip)), "%s",
	          out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "sarif", cli_case, NULL), 1);
	cr_assert(has(&out, "case.zip%21/notes/referral.txt"), "%s", out.p);
}

Test(archive, nested_archives_are_walked_and_named_a_zip_b_zip_c)
{
	struct ent c[] = {F("c.txt", NOTE)};
	struct cbuf cz = build("tar.gz", c, 1);
	struct ent b[] = {B("b.tar.gz", cz.p, cz.n), F("b.txt", CLEAN)};
	struct cbuf bz = build("zip", b, 2);
	struct ent a[] = {B("inner/b.zip", bz.p, bz.n)};
	put("a.zip", build("zip", a, 1));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             err.p);
	cr_assert_not_null(line_for(&out, "finding", "a.zip!/inner/b.zip!/b.tar.gz!/c.txt"), "%s",
	                   out.p);
	/* a.zip, b.zip, b.tar.gz, c.txt, b.txt */
	cr_assert(has(&out, "\"files\":5,\"scanned\":5"), "%s", out.p);
	cr_assert(has(&out, "\"tar.gz\":{\"scanned\":1"), "%s", out.p);
}

Test(archive, the_kind_is_found_by_content_not_by_name)
{
	struct ent e[] = {F("order.txt", NOTE)};
	put("order.3oxz", build("zip", e, 1));
	put("export.bin", build("tar.gz", e, 1));
	put("scan.7z", build("7z", e, 1));
	cli_write_str(cli_fmt("%s/not-a.zip", cli_case), CLEAN);
	/* a DICOM preamble that starts like a zip: DICM at 128 decides */
	static char dcm[200] = "PK\3\4";
	memcpy(dcm + 128, "DICM\2\0\0\0", 8);
	cli_write(cli_fmt("%s/preamble.dcm", cli_case), dcm, sizeof dcm);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 2, "%s",
	             err.p);
	cr_assert_not_null(line_for(&out, "finding", "order.3oxz!/order.txt"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "finding", "export.bin!/order.txt"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "finding", "scan.7z!/order.txt"), "%s", out.p);
	const char *pre = line_for(&out, "unreadable", "preamble.dcm");
	cr_assert_not_null(pre, "%s", out.p);
	cr_assert_str_eq(json_str(pre, "format"), "dicom", "%s", pre);
	cr_assert(has(&out, "\"unreadable\":1,"), "only the broken DICOM: %s", out.p);
	cr_assert(has(&out, "\"text\":{\"scanned\":4"), "not-a.zip is text: %s", out.p);
}

/* ---- limits ---- */

Test(archive, an_archive_nested_deeper_than_the_limit_is_an_error)
{
	struct ent c[] = {F("c.txt", NOTE)};
	struct cbuf cz = build("zip", c, 1);
	struct ent b[] = {B("c.zip", cz.p, cz.n)};
	struct cbuf bz = build("zip", b, 1);
	struct ent a[] = {B("b.zip", bz.p, bz.n), F("top.txt", NOTE)};
	put("a.zip", build("zip", a, 2));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--archive-limit", "depth=2",
	                 cli_case, NULL), 2, "%s", err.p);
	const char *u = line_for(&out, "unreadable", "a.zip!/b.zip!/c.zip");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(json_str(u, "reason"), "nested deeper than 2"), "%s", u);
	cr_assert_not_null(line_for(&out, "finding", "a.zip!/top.txt"), "the rest is scanned");
	/* the default depth (4) takes it */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1);
	cr_assert_not_null(line_for(&out, "finding", "a.zip!/b.zip!/c.zip!/c.txt"), "%s", out.p);
}

Test(archive, more_entries_than_the_limit_stop_the_archive_with_exit_2)
{
	struct ent e[20];
	char names[20][16];
	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof names[i], "f%02d.txt", i);
		e[i] = (struct ent)F(names[i], CLEAN);
	}
	put("many.zip", build("zip", e, 20));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--archive-limit", "entries=5",
	                 cli_case, NULL), 2, "%s", err.p);
	const char *u = line_for(&out, "unreadable", "many.zip");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(json_str(u, "reason"), "more than 5 entries"), "%s", u);
	cr_assert(has(&out, "\"files\":6,"), "5 entries and the archive: %s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 0);
}

Test(archive, an_entry_over_the_size_limit_is_unscanned_and_the_next_one_is_scanned)
{
	static char big[8192];
	memset(big, 'x', sizeof big - 1);
	struct ent e[] = {F("big.txt", big), F("note.txt", NOTE)};
	put("case.zip", build("zip", e, 2));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--archive-limit",
	                 "entry-size=4K", cli_case, NULL), 2, "%s", err.p);
	const char *u = line_for(&out, "unreadable", "case.zip!/big.txt");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(json_str(u, "reason"), "larger than the 4096-byte entry size limit"), "%s", u);
	cr_assert_not_null(line_for(&out, "finding", "case.zip!/note.txt"), "%s", out.p);
	/* --max-size applies to entries as it does to files */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--max-size", "1K", cli_case,
	                 NULL), 2);
	cr_assert(strstr(json_str(line_for(&out, "unreadable", "case.zip!/big.txt"), "reason"),
	                 "--max-size"), "%s", out.p);
}

Test(archive, the_total_limit_counts_nested_archives_too)
{
	static char blob[6000];
	memset(blob, 'y', sizeof blob - 1);
	struct ent in[] = {F("a.txt", blob), F("b.txt", blob)};
	struct cbuf iz = build("zip", in, 2);
	struct ent e[] = {F("one.txt", blob), B("inner.zip", iz.p, iz.n)};
	put("case.zip", build("zip", e, 2));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--archive-limit", "total=16K",
	                 cli_case, NULL), 2, "%s", err.p);
	const char *u = line_for(&out, "unreadable", "/case.zip");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(json_str(u, "reason"), "more than 16384 uncompressed bytes"), "%s", u);
}

Test(archive, a_zip_bomb_stops_at_the_ratio_limit_without_expanding)
{
	/* 3 x 48 MiB of zeros: about 140 KiB deflated, a ratio near 1000 */
	size_t n = 48u << 20;
	char *zeros = cli_own(calloc(1, n));
	struct ent e[] = {B("a.bin", zeros, n), B("b.bin", zeros, n), B("c.bin", zeros, n)};
	struct cbuf bomb = build("zip", e, 3);
	cr_assert_lt(bomb.n, 1u << 20);
	put("bomb.zip", bomb);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 2, "%s",
	             err.p);
	const char *u = line_for(&out, "unreadable", "/bomb.zip");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(json_str(u, "reason"), "a zip bomb?"), "%s", u);
	/* strip writes nothing */
	char *o = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-o", o, cli_case, NULL), 2);
	cr_assert_eq(access(cli_fmt("%s/bomb.zip", o), F_OK), -1);
}

Test(archive, a_zip_comment_is_scanned_with_file_offsets_and_never_copied)
{
	static const char comment[] = "Case for Patient: Maria Gonzalez";
	struct ent e[] = {F("n.txt", CLEAN)};
	struct cbuf z = build("zip", e, 1);
	/* the end record is the last 22 bytes: set its comment length, append it */
	size_t cl = strlen(comment);
	char *b = cli_own(malloc(z.n + cl));
	memcpy(b, z.p, z.n);
	cr_assert_eq(memcmp(b + z.n - 22, "PK\5\6", 4), 0);
	b[z.n - 2] = (char)cl;
	memcpy(b + z.n, comment, cl);
	char *zip = put("c.zip", (struct cbuf){b, z.n + cl});
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s", err.p);
	const char *f = line_for(&out, "finding", "/c.zip");
	cr_assert_not_null(f, "%s", out.p);
	cr_assert_str_eq(json_str(f, "field"), "zip comment");
	unsigned long long s0, e0;
	cr_assert(json_num(f, "start", &s0) && json_num(f, "end", &e0));
	size_t n;
	char *disk = cli_read(zip, &n);
	cr_assert(e0 <= n && !memcmp(disk + s0, "Maria Gonzalez", 14) && e0 - s0 == 14, "%llu-%llu",
	          s0, e0);
	char *o = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-o", o, cli_case, NULL), 1);
	char *copy = cli_read(cli_fmt("%s/c.zip", o), &n);
	cr_assert_not_null(copy);
	cr_assert(!memmem(copy, n, "Gonzalez", 8), "the comment was copied");
	cr_assert_eq(cli(&out, &err, NULL, "scan", o, "--exclude", "phiscan-manifest.json", NULL), 0);
}

/* ---- names, encryption, links ---- */

Test(archive, traversal_absolute_and_control_names_are_errors_and_never_written)
{
	struct ent e[] = {F("../evil.txt", NOTE), F("/etc/cron.d/x", CLEAN), F("ok/../../up.txt", CLEAN),
	                  F("C:\\win.txt", CLEAN), F("bell\x07.txt", CLEAN), F("fine.txt", CLEAN)};
	put("bad.zip", build("zip", e, 6));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 2, "%s",
	             err.p);
	cr_assert_eq(count_type(&out, "unreadable"), 5, "%s", out.p);
	cr_assert(strstr(json_str(line_for(&out, "unreadable", "bad.zip!/../evil.txt"), "reason"),
	                 "parent-directory"));
	cr_assert(strstr(json_str(line_for(&out, "unreadable", "bad.zip!//etc/cron.d/x"), "reason"),
	                 "absolute path"));
	cr_assert(strstr(json_str(line_for(&out, "unreadable", "bad.zip!/C:/win.txt"), "reason"),
	                 "absolute path"), "%s", out.p);
	cr_assert(has(&out, "control characters in the name"), "%s", out.p);
	cr_assert_eq(count_type(&out, "finding"), 0, "unsafe entries are not scanned");
	/* strip: no archive, and nothing anywhere outside OUT */
	char *o = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-o", o, cli_case, NULL), 2);
	cr_assert(has(&out, "has an unsafe name: no archive written"), "%s", out.p);
	cr_assert_eq(access(cli_fmt("%s/bad.zip", o), F_OK), -1);
	cr_assert_eq(access(cli_fmt("%s/evil.txt", cli_root), F_OK), -1);
	cr_assert_eq(access(cli_fmt("%s/up.txt", cli_root), F_OK), -1);
}

Test(archive, an_encrypted_entry_is_unscannable_and_strip_fails_closed)
{
	struct ent e[] = {F("secret.txt", NOTE)};
	char *zip = put("locked.zip", build("zip-encrypted", e, 1));
	size_t n0;
	char *before = (cli_read(zip, &n0));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 2, "%s",
	             err.p);
	const char *u = line_for(&out, "unreadable", "locked.zip!/secret.txt");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert_str_eq(json_str(u, "reason"), "encrypted entry: cannot be scanned");
	char *o = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-o", o, cli_case, NULL), 2);
	cr_assert_eq(access(cli_fmt("%s/locked.zip", o), F_OK), -1);
	size_t n1;
	char *after = (cli_read(zip, &n1));
	cr_assert(n0 == n1 && !memcmp(before, after, n0), "the original changed");
}

Test(archive, links_are_reported_never_followed_and_left_out_of_a_strip)
{
	cli_write_str(cli_fmt("%s/outside.txt", cli_root), NOTE);
	struct ent e[] = {K("link", cli_fmt("%s/outside.txt", cli_root), K_SYMLINK, 0),
	                  F("note.txt", CLEAN),
	                  K("hard", "note.txt", K_HARDLINK, 0)};
	put("links.tar", build("tar", e, 3));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 0, "%s",
	             out.p);
	cr_assert(strstr(json_str(line_for(&out, "skipped", "links.tar!/link"), "reason"),
	                 "symbolic link entry: not followed"));
	cr_assert(strstr(json_str(line_for(&out, "skipped", "links.tar!/hard"), "reason"),
	                 "hard link entry: not followed"));
	cr_assert_eq(count_type(&out, "finding"), 0, "the link target was read");
	char *o = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-o", o, cli_case, NULL), 0, "%s", out.p);
	struct got g[4];
	cr_assert_eq(read_back_file(cli_fmt("%s/links.tar", o), g, 4), 1);
	cr_assert_str_eq(g[0].name, "note.txt");
}

/* ---- strip ---- */

Test(archive, strip_writes_a_new_zip_stripped_in_order_with_fixed_times_and_rescans_clean)
{
	static const char stl_body[] = "0123456789abcdef0123456789abcdef0123456789abcdef01";
	char stl[84 + 50] = "Patient: Maria Gonzalez";
	stl[80] = 1; /* one facet */
	memcpy(stl + 84, stl_body, 50);
	struct ent e[] = {K("scans/", NULL, K_DIR, 0750),
	                  {.name = "scans/upper.stl", .data = stl, .len = sizeof stl, .perm = 0640},
	                  K("notes/referral.txt", NOTE, K_FILE, 0600),
	                  F("clean.txt", CLEAN)};
	char *zip = put("case.zip", build("zip", e, 4));
	size_t n0;
	char *orig = (cli_read(zip, &n0));
	char *o = cli_fmt("%s/out", cli_root);
	struct cbuf out, err;
	char *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "an example key of more than sixteen bytes");
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--key", key, "-o", o, cli_case, NULL), 1, "%s%s",
	             out.p, err.p);
	struct got g[8];
	cr_assert_eq(read_back_file(cli_fmt("%s/case.zip", o), g, 8), 4);
	const char *order[] = {"scans/", "scans/upper.stl", "notes/referral.txt", "clean.txt"};
	unsigned perms[] = {0750, 0640, 0600, 0644};
	for (int i = 0; i < 4; i++) {
		cr_assert_str_eq(g[i].name, order[i]);
		cr_assert_eq(g[i].perm, perms[i], "%s: %o", g[i].name, g[i].perm);
		cr_assert_eq(g[i].mtime, 315576000, "%s keeps a date of service", g[i].name);
		cr_assert(!g[i].has_uname, "%s keeps its owner", g[i].name);
	}
	/* the STL: header replaced, geometry byte for byte */
	cr_assert_eq(g[1].len, sizeof stl);
	cr_assert_eq(memcmp(g[1].data + 80, stl + 80, sizeof stl - 80), 0);
	cr_assert(!memmem(g[1].data, g[1].len, "Maria", 5));
	/* the note: only the values changed */
	const char *want = "Referral.\nPatient: [NAME]\nDOB: [DATE]\nShade A2, tooth 14.\n";
	cr_assert_eq(g[2].len, strlen(want));
	cr_assert_eq(memcmp(g[2].data, want, g[2].len), 0, "%.*s", (int)g[2].len, g[2].data);
	cr_assert_eq(g[3].len, strlen(CLEAN));
	cr_assert_eq(memcmp(g[3].data, CLEAN, g[3].len), 0);
	/* the manifest: per-entry hashes, the archive's own */
	char *man = (cli_read(cli_fmt("%s/phiscan-manifest.json", o), NULL));
	cr_assert(strstr(man, cli_fmt("\"input\": \"%s!/notes/referral.txt\"", zip)), "%s", man);
	cr_assert(strstr(man, cli_fmt("\"input_digest\": \"sha256\", \"input_hmac_sha256\": \"%s\", "
	                              "\"output_sha256\": \"%s\"",
	                              input_hmac_sha256(key, NOTE, strlen(NOTE)),
	                              sha_of(g[2].data, g[2].len))),
	          "%s", man);
	cr_assert(!strstr(man, sha_of(NOTE, strlen(NOTE))), "the entry's plain hash: %s", man);
	cr_assert(!strstr(man, sha_of(orig, n0)), "the archive's plain hash: %s", man);
	cr_assert(strstr(man, cli_fmt("\"output\": \"%s/case.zip!/clean.txt\"", o)), "%s", man);
	cr_assert(strstr(man, "\"archive_entry_times\": \"fixed 1980-01-01T12:00:00Z\""), "%s", man);
	cr_assert(!strstr(man, "Maria"));
	/* re-scan clean; original untouched */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", o, "--exclude",
	                 "phiscan-manifest.json", NULL), 0, "%s", out.p);
	size_t n1;
	char *now = (cli_read(zip, &n1));
	cr_assert(n0 == n1 && !memcmp(orig, now, n0));
}

Test(archive, strip_keeps_stored_entries_stored_and_a_tar_gz_a_tar_gz)
{
	struct ent e[] = {F("mimetype", "application/vnd.oasis.opendocument.text"), F("n.txt", NOTE)};
	put("doc.odt", build("zip-stored", e, 2));
	put("case.tgz", build("tar.gz", e, 2));
	char *o = cli_fmt("%s/out", cli_root);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-o", o, cli_case, NULL), 1, "%s", err.p);
	size_t n;
	unsigned char *z = (unsigned char *)(cli_read(cli_fmt("%s/doc.odt", o), &n));
	cr_assert_not_null(z);
	/* local header of the first entry: method 0 (stored), name "mimetype" */
	cr_assert_eq(memcmp(z, "PK\3\4", 4), 0);
	cr_assert_eq(z[8] | z[9] << 8, 0, "compression method %d", z[8] | z[9] << 8);
	cr_assert_eq(memcmp(z + 30, "mimetype", 8), 0);
	unsigned char *t = (unsigned char *)(cli_read(cli_fmt("%s/case.tgz", o), &n));
	cr_assert(t[0] == 0x1F && t[1] == 0x8B, "not gzip");
	struct got g[4];
	cr_assert_eq(read_back(t, n, g, 4), 2);
	cr_assert(memmem(g[1].data, g[1].len, "[NAME]", 6));
}

Test(archive, every_writable_kind_strips_to_the_same_kind_and_rescans_clean)
{
	static const struct {
		const char *kind, *name, *magic;
		size_t off, mlen;
		const char *format;
	} k[] = {
		{"7z", "a.7z", "7z\xBC\xAF\x27\x1C", 0, 6, "7z"},
		{"cpio", "a.cpio", "070701", 0, 6, "cpio"},
		{"cpio.gz", "a.cpgz", "\x1F\x8B", 0, 2, "cpio.gz"},
		{"tar.bz2", "a.tbz", "BZh", 0, 3, "tar.bz2"},
		{"tar.xz", "a.txz", "\xFD" "7zXZ", 0, 5, "tar.xz"},
		{"tar.zst", "a.tzst", "\x28\xB5\x2F\xFD", 0, 4, "tar.zst"},
		{"tar", "a.tar", "ustar", 257, 5, "tar"},
	};
	struct ent e[] = {K("n.txt", NOTE, K_FILE, 0640)};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		put(k[i].name, build(k[i].kind, e, 1));
	char *o = cli_fmt("%s/out", cli_root);
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--format", "json", "-o", o, cli_case, NULL), 1,
	             "%s%s", out.p, err.p);
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		cr_assert(has(&out, cli_fmt("\"%s\":{\"scanned\":1,", k[i].format)), "%s: %s",
		          k[i].format, out.p);
		size_t n;
		char *b = cli_read(cli_fmt("%s/%s", o, k[i].name), &n);
		cr_assert_not_null(b, "%s not written", k[i].name);
		cr_assert(n > k[i].off + k[i].mlen && !memcmp(b + k[i].off, k[i].magic, k[i].mlen),
		          "%s is no longer a %s", k[i].name, k[i].kind);
		struct got g[2];
		cr_assert_eq(read_back(b, n, g, 2), 1);
		cr_assert_eq(g[0].perm, 0640);
		cr_assert(memmem(g[0].data, g[0].len, "Patient: [NAME]", 15), "%s", k[i].name);
	}
	cr_assert_eq(cli(&out, &err, NULL, "scan", o, "--exclude", "phiscan-manifest.json", NULL), 0,
	             "%s", out.p);
}

Test(archive, a_compressed_file_that_is_no_archive_and_a_bad_limit_are_refused)
{
	struct ent e[] = {F("data", NOTE)};
	put("note.txt.gz", build("raw.gz", e, 1));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 2, "%s", err.p);
	const char *u = line_for(&out, "unreadable", "note.txt.gz");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(json_str(u, "reason"), "not a readable gzip archive"), "%s", u);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--archive-limit", "depth=0", cli_case, NULL), 2);
	cr_assert(has(&err, "--archive-limit: unknown name or value out of range in 'depth=0'"), "%s",
	          err.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--archive-limit", "size", cli_case, NULL), 2);
	cr_assert(has(&err, "--archive-limit takes NAME=NUMBER"), "%s", err.p);
}

Test(archive, an_entry_no_format_claims_makes_strip_fail_closed_while_scan_goes_on)
{
	static const char junk[] = "\x00\x01\x02\x03 binary \x00\xff";
	struct ent e[] = {F("n.txt", NOTE), B("blob.bin", junk, sizeof junk)};
	put("case.zip", build("zip", e, 2));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1);
	cr_assert_not_null(line_for(&out, "skipped", "case.zip!/blob.bin"));
	char *o = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--format", "json", "-o", o, cli_case, NULL), 2);
	const char *u = line_for(&out, "unreadable", "/case.zip");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(json_str(u, "reason"), "blob.bin is in no format phiscan reads"), "%s", u);
	cr_assert_eq(access(cli_fmt("%s/case.zip", o), F_OK), -1);
	char *man = (cli_read(cli_fmt("%s/phiscan-manifest.json", o), NULL));
	cr_assert(strstr(man, "\"output\": null, \"format\": \"text\", \"status\": \"not written\""),
	          "the entry is not said to be written: %s", man);
}

Test(archive, strip_in_place_replaces_the_archive_atomically)
{
	struct ent e[] = {F("n.txt", NOTE)};
	char *zip = put("case.zip", build("zip", e, 1));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "strip", "--in-place", cli_case, NULL), 1, "%s", err.p);
	struct got g[2];
	cr_assert_eq(read_back_file(zip, g, 2), 1);
	cr_assert(memmem(g[0].data, g[0].len, "Patient: [NAME]", 15));
	DIR *d = opendir(cli_case);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d)))
		files += de->d_name[0] != '.' || !strncmp(de->d_name, ".phiscan", 8);
	closedir(d);
	cr_assert_eq(files, 1, "a temporary file was left");
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 0, "%s", out.p);
}

Test(archive, filter_turns_a_zip_on_stdin_into_a_stripped_zip_on_stdout)
{
	struct ent e[] = {F("a/n.txt", NOTE), F("b.txt", CLEAN)};
	struct cbuf in = build("zip", e, 2), out, err;
	cr_assert_eq(cli(&out, &err, &in, "filter", "--format", "json", NULL), 1, "%s", err.p);
	cr_assert_not_null(line_for(&err, "finding", "<stdin>!/a/n.txt"), "%s", err.p);
	struct got g[4];
	cr_assert_eq(read_back(out.p, out.n, g, 4), 2);
	cr_assert_str_eq(g[0].name, "a/n.txt");
	cr_assert(memmem(g[0].data, g[0].len, "[NAME]", 6));
	cr_assert(!memmem(out.p, out.n, "Maria", 5));
	/* a zip that cannot be stripped: nothing on stdout */
	struct ent bad[] = {F("s.txt", NOTE)};
	struct cbuf locked = build("zip-encrypted", bad, 1);
	cr_assert_eq(cli(&out, &err, &locked, "filter", NULL), 2);
	cr_assert_eq(out.n, 0);
	cr_assert(has(&err, "encrypted entry"), "%s", err.p);
}

Test(archive, a_corrupt_or_truncated_archive_is_unreadable)
{
	struct ent e[] = {F("n.txt", NOTE), F("m.txt", NOTE)};
	struct cbuf z = build("tar.gz", e, 2);
	z.n /= 2;
	put("cut.tar.gz", z);
	put("junk.zip", (struct cbuf){"PK\3\4 this is no zip at all", 26});
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 2, "%s",
	             err.p);
	cr_assert_not_null(line_for(&out, "unreadable", "/cut.tar.gz"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "unreadable", "/junk.zip"), "%s", out.p);
}

/* ---- the corpus hook ---- */

Test(archive, gencase_zips_part_of_a_case_and_a_scan_finds_every_zipped_truth_row)
{
	const char *gen = getenv("GENCASE");
	cr_assert(gen && *gen, "set GENCASE (make test does)");
	char *dir = cli_fmt("%s/corpus", cli_root);
	char *argv[] = {(char *)gen, "cases", dir, "--cases", "3", "--seed", "5", NULL};
	struct cbuf out, err;
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "%s", err.p);
	/* the check reads zipped rows through the archives; none is bad */
	char *chk[] = {(char *)gen, "check", dir, NULL};
	run(chk, NULL, &out, &err);
	cr_assert(has(&out, "gencase check:"), "%s", out.p);
	cr_assert(!has(&err, "!/"), "%s", err.p);
	/* a scan with the real default pack */
	cli_copy("rules/default.yaml", cli_fmt("%s/rules/default.yaml", cli_data));
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", dir, NULL), 1, "%s", err.p);
	char *truth = (cli_read(cli_fmt("%s/truth.tsv", dir), NULL));
	size_t nf, nfind = 0;
	char **fl = lines_of(&out, &nf);
	struct {
		const char *path;
		unsigned long long s, e;
	} *fd = cli_own(calloc(nf + 1, sizeof *fd));
	for (size_t i = 0; i < nf; i++)
		if (is_type(fl[i], "finding") && strstr(fl[i], "!/") &&
		    (fd[nfind].path = json_str(fl[i], "path")) && json_num(fl[i], "start", &fd[nfind].s) &&
		    json_num(fl[i], "end", &fd[nfind].e))
			nfind++;
	int rows = 0, nested = 0, found = 0;
	for (char *line = strtok(truth, "\n"); line; line = strtok(NULL, "\n")) {
		char path[512];
		unsigned long long ts, te;
		char cls[32], mode[32];
		if (!strstr(line, "!/") ||
		    sscanf(line, "%511[^\t]\t%llu\t%llu\t%31[^\t]\t%31s", path, &ts, &te, cls, mode) != 5 ||
		    strcmp(mode, "default"))
			continue; /* safe_harbor rows: only a --safe-harbor scan must find them */
		rows++;
		nested += strstr(path, "!/scans.zip!/") != NULL;
		size_t tl = strlen(path);
		for (size_t i = 0; i < nfind; i++) {
			size_t pl = strlen(fd[i].path);
			if (pl > tl && fd[i].path[pl - tl - 1] == '/' && !strcmp(fd[i].path + pl - tl, path) &&
			    fd[i].s < te && ts < fd[i].e) {
				found++;
				break;
			}
		}
	}
	cr_assert_geq(rows, 30, "%d zipped truth rows", rows);
	cr_assert_gt(nested, 0, "no rows inside the nested zip");
	cr_assert_eq(found, rows, "%d of %d zipped truth rows found", found, rows);
	/* strip the export: a new zip, re-scan clean, the STL's geometry byte for byte */
	char *zip = cli_fmt("%s/case-001/case-export.zip", dir), *o = cli_fmt("%s/out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-o", o, zip, NULL), 1, "%s%s", out.p, err.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_fmt("%s/case-export.zip", o),
	                 NULL), 0, "%s", out.p);
	struct got a[8], b[8];
	size_t na = read_back_file(zip, a, 8), nb = read_back_file(cli_fmt("%s/case-export.zip", o), b, 8);
	cr_assert_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		cr_assert_str_eq(a[i].name, b[i].name);
		if (!strcmp(a[i].name, "scans/upper.stl")) {
			cr_assert_eq(a[i].len, b[i].len);
			cr_assert_eq(memcmp(a[i].data + 80, b[i].data + 80, a[i].len - 80), 0);
		}
	}
}

/* ---- fuzz seeds and regressions: every saved input, scanned and filtered ---- */

Test(archive, fuzz_seeds_and_regression_inputs_run_cleanly_through_scan_and_filter)
{
	const char *dirs[] = {"tests/fuzz/seeds/fuzz_archive", "tests/fuzz/regress/fuzz_archive"};
	int files = 0;
	for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
		DIR *d = opendir(dirs[k]);
		if (!d) {
			cr_assert_eq(k, 1, "%s is missing (run from the repository root)", dirs[k]);
			continue;
		}
		for (struct dirent *de; (de = readdir(d));) {
			if (de->d_name[0] == '.')
				continue;
			size_t n;
			char *p = cli_read(cli_fmt("%s/%s", dirs[k], de->d_name), &n);
			cr_assert_not_null(p);
			struct cbuf in = {p, n}, out, err;
			/* run() fails the test on a crash, a sanitizer report or a hang */
			int rs = cli(&out, &err, &in, "filter", "--format", "json", NULL);
			cr_assert(rs >= 0 && rs <= 2, "%s: exit %d", de->d_name, rs);
			cr_assert(rs == 2 || out.n > 0 || n == 0, "%s: a clean filter wrote nothing",
			          de->d_name);
			if (rs == 2)
				cr_assert_eq(out.n, 0, "%s: output despite exit 2", de->d_name);
			files++;
		}
		closedir(d);
	}
	cr_assert_geq(files, 10, "only %d inputs", files);
}

/* ---- entry names are fields; a zipped case is harvested like its folder ---- */

#define ORDER_JSON                                                                          \
	"{\"PatientName\": \"Maria Gonzalez\", \"Patient\": {\"FirstName\": \"Maria\", "        \
	"\"LastName\": \"Gonzalez\", \"ExternalId\": \"MRN-448812\"}}\n"
#define CONSTRUCTION                                                                        \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ConstructionInfo>\n"                      \
	"  <ToothScanFileName>scans/Gonzalez_Maria_upper.stl</ToothScanFileName>\n"            \
	"</ConstructionInfo>\n"
#define SCAN "solid s\nendsolid s\n"

/* A zipped case: the construction file references a scan that comes later in the
 * archive; the patient is named only in the order and in entry names; one scan
 * already has the name the renamed one would take; a nested zip holds a scan named
 * after the patient, and a folder is named after her too. */
static struct cbuf zipped_case(const char *kind)
{
	struct ent inner[] = {F("Gonzalez_Maria_lower.stl", SCAN)};
	struct cbuf nz = build("zip", inner, 1);
	struct ent e[] = {F("proj.constructionInfo", CONSTRUCTION),
	                  F("order.json", ORDER_JSON),
	                  K("scans/", NULL, K_DIR, 0),
	                  F("scans/Gonzalez_Maria_upper.stl", SCAN),
	                  F("scans/LAB-7_upper.stl", SCAN),
	                  F("Maria Gonzalez/note.txt", "remake for gonzalez, maria\n"),
	                  B("more.zip", nz.p, nz.n)};
	return build(kind, e, sizeof e / sizeof *e);
}

Test(archive, entry_names_are_fields_found_by_the_rules_and_the_case_s_own_identifiers)
{
	char *zip = put("case.zip", zipped_case("zip"));
	struct cbuf out, err;
	/* the zip alone is the case: its order is harvested from inside it */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", zip, NULL), 1, "%s", err.p);
	cr_assert(!has(&out, "Gonzalez") && !has(&out, "gonzalez") && !has(&out, "Maria"),
	          "a name reached the report: %s", out.p);
	size_t nl, names = 0, note = 0;
	char **l = lines_of(&out, &nl);
	for (size_t i = 0; i < nl; i++) {
		char *field = json_str(l[i], "field"), *path = json_str(l[i], "path");
		char *rule = json_str(l[i], "rule");
		if (field && !strcmp(field, "file name"))
			names++;
		if (rule && !strcmp(rule, "case-identifier") && path && strstr(path, "note.txt") &&
		    !field)
			note++;
	}
	/* the upper scan, the folder (once), the nested lower scan */
	cr_assert_eq(names, 3, "%s", out.p);
	cr_assert_eq(note, 1, "the zipped order was not harvested: %s", out.p);
	cr_assert_not_null(line_for(&out, "finding", "case.zip!/scans/********_*****_upper.stl"),
	                   "%s", out.p);
	cr_assert_not_null(line_for(&out, "finding", "case.zip!/***** ********/note.txt"), "%s",
	                   out.p);
	cr_assert_not_null(line_for(&out, "finding", "case.zip!/more.zip!/********_*****_lower.stl"),
	                   "%s", out.p);
	/* --show-values shows them */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--show-values", zip, NULL), 1);
	cr_assert(has(&out, "case.zip!/scans/Gonzalez_Maria_upper.stl"), "%s", out.p);
}

static void check_stripped_case(const char *o, const char *name)
{
	struct got g[16];
	size_t n = read_back_file(cli_fmt("%s/%s", o, name), g, 16);
	cr_assert_eq(n, 7, "%s: %zu entries", name, n);
	const char *want[] = {"proj.constructionInfo", "order.json", "scans/",
	                      "scans/LAB-7_upper-2.stl", "scans/LAB-7_upper.stl", "LAB-7/note.txt",
	                      "more.zip"};
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(g[i].name, want[i], "%s", name);
		cr_assert(!strstr(g[i].name, "Gonzalez") && !strstr(g[i].name, "Maria"));
	}
	/* the reference names the renamed scan, which is there and holds the scan */
	char *ci = cli_own(strndup(g[0].data, g[0].len));
	cr_assert(strstr(ci, "<ToothScanFileName>scans/LAB-7_upper-2.stl</ToothScanFileName>"),
	          "%s", ci);
	cr_assert(g[3].len > 0 && g[3].len == g[4].len, "the renamed entry does not open");
	cr_assert_eq(memcmp(g[3].data, g[4].data, g[3].len), 0, "the renamed entry lost its scan");
	/* the nested zip renamed its entry too */
	struct got h[4];
	cr_assert_eq(read_back(g[6].data, g[6].len, h, 4), 1);
	cr_assert_str_eq(h[0].name, "LAB-7_lower.stl");
}

Test(archive, strip_renames_entries_claims_kept_names_first_and_rewrites_references)
{
	const char *kinds[] = {"zip", "tar.gz"};
	char *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "an example key of more than sixteen bytes");
	for (size_t k = 0; k < 2; k++) {
		char *name = cli_fmt("case.%s", kinds[k]);
		char *zip = put(name, zipped_case(kinds[k]));
		char *o = cli_fmt("%s/out-%zu", cli_root, k);
		struct cbuf out, err;
		int rc = cli(&out, &err, NULL, "strip", "-q", "--key", key, "--case-id", "LAB-7", "-o",
		             o, zip, NULL);
		cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
		check_stripped_case(o, name);
		/* the manifest: the rename by keyed hash only, outputs under the new names */
		char *man = cli_read(cli_fmt("%s/phiscan-manifest.json", o), NULL);
		cr_assert(!strstr(man, "Gonzalez") && !strstr(man, "Maria"), "%s", man);
		cr_assert(strstr(man, "input_rel_hmac_sha256"), "%s", man);
		cr_assert(strstr(man, cli_fmt("\"output\": \"%s/%s!/scans/LAB-7_upper-2.stl\"", o, name)),
		          "%s", man);
		/* a re-scan of the stripped case finds nothing */
		rc = cli(&out, &err, NULL, "scan", "--format", "json", o, "--exclude",
		         "phiscan-manifest.json", NULL);
		cr_assert_eq(rc, 0, "%s%s", out.p, err.p);
		cli_rm_rf(zip);
	}
}

Test(archive, a_case_that_arrives_as_one_zip_is_swept_like_its_folder)
{
	/* the folder */
	char *d = cli_fmt("%s/folder", cli_case);
	cli_mkdirs(cli_fmt("%s/Maria Gonzalez", d));
	cli_write_str(cli_fmt("%s/order.json", d), ORDER_JSON);
	cli_write_str(cli_fmt("%s/Maria Gonzalez/note.txt", d), "remake for gonzalez, maria\n");
	struct ent e[] = {F("order.json", ORDER_JSON),
	                  F("Maria Gonzalez/note.txt", "remake for gonzalez, maria\n")};
	char *zip = put("case.zip", build("zip", e, 2));
	struct cbuf out, err;
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", d, NULL), 1);
	size_t a = count_type(&out, "finding");
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", zip, NULL), 1);
	size_t b = count_type(&out, "finding");
	cr_assert_eq(a, b, "folder %zu findings, zip %zu: %s", a, b, out.p);
	cr_assert(has(&out, "case-identifier"), "%s", out.p);
	/* without the harvest inside archives the note's spelling is not found */
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", "--no-case-sweep", zip, NULL),
	             1);
	cr_assert_lt(count_type(&out, "finding"), b);
}

/* A zip whose entry is named in UTF-8 (general purpose flag bit 11, as Python,
 * 7-Zip and macOS write it): the name is read, scanned and renamed, not lost. */
Test(archive, a_utf8_entry_name_is_read_scanned_and_renamed)
{
	char *zip = cli_fmt("%s/utf8.zip", cli_case);
	char *py = cli_fmt("import zipfile\n"
	                   "z = zipfile.ZipFile('%s', 'w')\n"
	                   "z.writestr('order.json', '{\"Patient\": {\"FirstName\": \"In\\u00e9s\", "
	                   "\"LastName\": \"Gar\\u00e7\\u00e3o\"}}\\n')\n"
	                   "z.writestr('scan/In\\u00e9sGar\\u00e7\\u00e3o_lower.stl', 'solid a\\nendsolid a\\n')\n"
	                   "z.close()\n",
	                   zip);
	char *argv[] = {"python3", "-c", py, NULL};
	struct cbuf out, err;
	cr_assert_eq(run(argv, NULL, &out, &err), 0, "%s", err.p);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", zip, NULL), 1, "%s%s", out.p,
	             err.p);
	cr_assert(!has(&out, "unsafe entry name"), "%s", out.p);
	cr_assert_not_null(line_for(&out, "finding", "utf8.zip!/scan/**********_lower.stl"), "%s",
	                   out.p);
	char *o = cli_fmt("%s/utf8-out", cli_root);
	cr_assert_eq(cli(&out, &err, NULL, "strip", "-q", "--case-id", "LAB-3", "-o", o, zip, NULL), 1,
	             "%s%s", out.p, err.p);
	struct got g[4];
	cr_assert_eq(read_back_file(cli_fmt("%s/utf8.zip", o), g, 4), 2);
	cr_assert_str_eq(g[1].name, "scan/LAB-3_lower.stl");
}

/* ---- libarchive loaded on demand ---- */

/* phiscan is not linked with libarchive (nor ICU and libxml2 behind it): ld.so's
 * LD_DEBUG=files log of a run names it only when the run met an archive. */
Test(archive, libarchive_is_loaded_only_when_a_run_meets_an_archive)
{
	put("note.txt", (struct cbuf){NOTE, strlen(NOTE)});
	struct cbuf out, err;
	setenv("LD_DEBUG", "files", 1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", cli_case, NULL), 1, "%s", err.p);
	cr_assert(has(&err, "file=libpcre2"), "LD_DEBUG gave no log: %s", err.p);
	cr_assert(!has(&err, "libarchive"), "loaded without an archive: %s", err.p);
	struct ent e[] = {F("referral.txt", NOTE)};
	put("case.zip", build("zip", e, 1));
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 1, "%s",
	             err.p);
	cr_assert(has(&err, "file=" PHI_LIBARCHIVE_SONAME), "%s", err.p);
	cr_assert_not_null(line_for(&out, "finding", "case.zip!/referral.txt"), "%s", out.p);
	unsetenv("LD_DEBUG");
}

/* When libarchive cannot be loaded (here a broken file of its name found first on
 * LD_LIBRARY_PATH), an archive is unscanned with the reason, the other files are
 * scanned, the run exits 2, and --version says so instead of failing. */
Test(archive, without_a_loadable_libarchive_an_archive_is_unscanned_and_the_rest_scanned)
{
	char *libs = cli_fmt("%s/libs", cli_root);
	cli_mkdirs(libs);
	cli_write_str(cli_fmt("%s/%s", libs, PHI_LIBARCHIVE_SONAME), "not a shared object\n");
	struct ent e[] = {F("referral.txt", NOTE)};
	put("case.zip", build("zip", e, 1));
	put("note.txt", (struct cbuf){NOTE, strlen(NOTE)});
	struct cbuf out, err;
	setenv("LD_LIBRARY_PATH", libs, 1);
	cr_assert_eq(cli(&out, &err, NULL, "scan", "--format", "json", cli_case, NULL), 2, "%s",
	             err.p);
	const char *u = line_for(&out, "unreadable", "/case.zip");
	cr_assert_not_null(u, "%s", out.p);
	cr_assert(strstr(u, "libarchive cannot be loaded"), "%s", u);
	cr_assert_not_null(line_for(&out, "finding", "/note.txt"), "%s", out.p);
	cr_assert_eq(cli(&out, &err, NULL, "--version", NULL), 0, "%s", err.p);
	cr_assert(has(&out, cli_fmt("not loadable: %s/%s", libs, PHI_LIBARCHIVE_SONAME)), "%s",
	          out.p);
	unsetenv("LD_LIBRARY_PATH");
	cr_assert_eq(cli(&out, &err, NULL, "--version", NULL), 0, "%s", err.p);
	cr_assert(!has(&out, "not loadable: "), "%s", out.p);
}

/* An Rx printed to XPS (ECMA-388): a zip of XML parts, the page text in Glyphs
 * UnicodeString attributes.  The parts without a prolog (.fpage in UTF-16, .fdoc,
 * .fdseq) are read as XML, not text: as text, their namespace URIs were "URLs" that
 * the strip replaced, and the package no longer named its own schema. */
Test(archive, an_xps_rx_is_read_as_xml_parts_and_stripped_keeping_its_namespaces)
{
	cli_copy("rules/default.yaml", cli_fmt("%s/rules/default.yaml", cli_data));
	static const char page8[] =
		"<FixedPage Width=\"816\" Height=\"1056\" xmlns=\"http://schemas.microsoft.com/xps/2005/06\" "
		"xml:lang=\"en-US\"><Glyphs FontUri=\"/Resources/f.odttf\" FontRenderingEmSize=\"12\" "
		"OriginX=\"96\" OriginY=\"120\" Fill=\"#ff000000\" "
		"UnicodeString=\"Patient: Maria Gonzalez   DOB: 03/14/1961\" /></FixedPage>";
	/* the page as Windows writes it: UTF-16LE with a byte order mark */
	char page[2 + 2 * sizeof page8];
	size_t pn = 0;
	page[pn++] = (char)0xff;
	page[pn++] = (char)0xfe;
	for (size_t i = 0; page8[i]; i++) {
		page[pn++] = page8[i];
		page[pn++] = 0;
	}
	struct ent e[] = {
		F("[Content_Types].xml",
		  "<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/"
		  "package/2006/content-types\"><Default Extension=\"fpage\" "
		  "ContentType=\"application/vnd.ms-package.xps-fixedpage+xml\"/></Types>"),
		F("_rels/.rels",
		  "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		  "<Relationship Type=\"http://schemas.microsoft.com/xps/2005/06/fixedrepresentation\" "
		  "Target=\"/FixedDocSeq.fdseq\" Id=\"R0\"/></Relationships>"),
		F("FixedDocSeq.fdseq",
		  "<FixedDocumentSequence xmlns=\"http://schemas.microsoft.com/xps/2005/06\">"
		  "<DocumentReference Source=\"/Documents/1/FixedDoc.fdoc\"/></FixedDocumentSequence>"),
		F("Documents/1/FixedDoc.fdoc",
		  "<FixedDocument xmlns=\"http://schemas.microsoft.com/xps/2005/06\">"
		  "<PageContent Source=\"Pages/1.fpage\"/></FixedDocument>"),
		B("Documents/1/Pages/1.fpage", page, pn),
	};
	char *xps = put("rx.xps", build("zip", e, 5));
	struct cbuf out, err;
	int rc = cli(&out, &err, NULL, "scan", "--format", "json", xps, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	size_t n, page_hits = 0, urls = 0;
	char **l = lines_of(&out, &n);
	for (size_t i = 0; i < n; i++) {
		char *f = json_str(l[i], "field"), *cls = json_str(l[i], "class");
		page_hits += f && !strcmp(f, "FixedPage/Glyphs@UnicodeString");
		urls += cls && !strcmp(cls, "url");
	}
	cr_assert_eq(page_hits, 2, "the name and the birth date on the page: %s", out.p);
	cr_assert_eq(urls, 0, "a namespace reported as a URL: %s", out.p);
	/* all five parts read as XML, none as text */
	cr_assert(has(&out, "\"formats\":{\"xml\":{\"scanned\":5,") && !has(&out, "\"text\":{"),
	          "%s", out.p);

	char *o = cli_fmt("%s/out", cli_root), *key = cli_fmt("%s/key", cli_root);
	cli_write_str(key, "an example key of more than sixteen bytes");
	rc = cli(&out, &err, NULL, "strip", "--key", key, "-o", o, cli_case, NULL);
	cr_assert_eq(rc, 1, "%s%s", out.p, err.p);
	struct got g[8];
	cr_assert_eq(read_back_file(cli_fmt("%s/rx.xps", o), g, 8), 5);
	/* every part but the page byte for byte; the page only its value changed */
	for (int i = 0; i < 4; i++) {
		cr_assert_str_eq(g[i].name, e[i].name);
		cr_assert(g[i].len == strlen(e[i].data) && !memcmp(g[i].data, e[i].data, g[i].len),
		          "%s changed: %.*s", g[i].name, (int)g[i].len, g[i].data);
	}
	char want8[sizeof page8 + 16];
	snprintf(want8, sizeof want8, "%.*s[NAME]   DOB: [DATE]%s",
	         (int)(strstr(page8, "Maria") - page8), page8, "\" /></FixedPage>");
	cr_assert_eq(g[4].len, 2 + 2 * strlen(want8), "%zu", g[4].len);
	for (size_t i = 0; want8[i]; i++)
		cr_assert(g[4].data[2 + 2 * i] == want8[i] && !g[4].data[3 + 2 * i], "at %zu", i);
	cr_assert_eq(cli(&out, &err, NULL, "scan", o, "--exclude", "phiscan-manifest.json", NULL), 0,
	             "%s", out.p);
}
