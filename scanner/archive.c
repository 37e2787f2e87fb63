/* archive.c - archives walked entry by entry (see archive.h), with libarchive.
 *
 * Reading.  Only the kind the magic bytes name is enabled in libarchive (zip, 7z,
 * rar, tar, cpio; gzip/bzip2/xz/zstd around a tar or cpio), never "all": that
 * would bring in mtree, whose reader opens the files a text spec names, and
 * filters that run external programs.  A filter libarchive would run as a program
 * (no built-in library) is refused.  Each regular entry is decompressed into a
 * memory file (memfd_create) in 64 KiB blocks, counting as it goes; sizes the
 * archive declares are never trusted or allocated.  An entry that is itself an
 * archive is walked the same way, one level deeper.
 *
 * Limits (struct phi_limits, --archive-limit):
 *   entry-size   an entry larger than this (or than --max-size) is unscanned;
 *                its archive goes on with the next entry
 *   depth        an archive nested deeper is an unscanned entry
 *   entries      more entries than this (nested ones included): the archive
 *                stops and is reported unscanned
 *   total        more uncompressed bytes than this (nested ones included): same
 *   ratio        an archive producing more than max(ratio x its size,
 *                archive_ratio_floor) bytes, skipped data of a compressed tar
 *                included: same (a zip bomb stops within the floor)
 * Entry names: a ".." component, an absolute path ("/x", "\x", "C:x") or control
 * bytes make the entry an error (fail closed: exit 2) and it is not scanned;
 * links (symbolic or hard) and special files are reported as skipped and never
 * followed or extracted; encrypted entries are errors ("cannot be scanned").
 *
 * Strip writes a new archive of the same kind and compression, by allowlist: for
 * every entry only its name, type, permission bits and the stripped bytes; the
 * modification time is a fixed 1980-01-01 12:00 UTC (entry times are often the
 * date a scan was taken: a date of service), and owners, access/change times,
 * extended attributes, ACLs and comments are not copied.  Zip entries keep stored
 * or deflated as they were (ODF and EPUB need a stored first entry).  Links and
 * special files are left out; an entry that is unscanned, that no format claims,
 * or that holds identifiers a format cannot strip makes the whole archive fail
 * closed: no output, exit 2.  A clean entry of a scan-only format is copied.  A
 * DICOMDIR is left out, as in a tree.  Entry results are then held until the
 * archive's copy is published, so the manifest never names a copy that was not
 * written; a scan reports each entry as soon as it is done.
 *
 * Threading: one state per worker; nothing shared.
 */
#include "archive.h"

#include "../formats/sha256.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1u << 16)
/* 1980-01-01 12:00:00 UTC: a valid DOS date in every time zone. */
#define FIXED_MTIME 315576000
#define STREAM_MAX (1ull << 30)

struct phi_archive {
	struct phi_worker *w;
	const struct phi_scan_opts *o;
	struct phi_error *err;
	struct phi_result **held; /* strip: entries reported after the archive's outcome */
	size_t nheld, capheld;
	uint64_t total, entries;  /* of the archive being walked, nested ones included */
	int report_rc;
	unsigned char buf[BLOCK];
};

/* One archive being walked (the root or a nested one). */
struct level {
	struct phi_archive *A;
	struct archive *in, *out;
	struct phi_result *res; /* the archive's own result */
	uint64_t size;          /* its own (compressed) size */
	uint64_t produced;      /* bytes decompressed from it */
	unsigned depth;         /* 1 for an archive on disk */
	int out_fd;             /* strip: where the new archive goes, else -1 */
	bool broken;            /* strip: no output will be written */
	char why[320];          /* the first reason it will not */
};

/* ---- detection ---- */

static bool tar_checksum_ok(const unsigned char *h)
{
	unsigned long want = 0, sum = 0;
	size_t i = 148;
	while (i < 156 && h[i] == ' ')
		i++;
	if (i == 156 || h[i] < '0' || h[i] > '7')
		return false;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(h[i] - '0');
	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

const char *phi_archive_detect(const unsigned char *h, size_t n)
{
	/* a DICOM preamble is free-form (PS3.10 7.1): "DICM" at 128 decides */
	if (n >= 132 && !memcmp(h + 128, "DICM", 4))
		return NULL;
	if (n >= 4 && h[0] == 'P' && h[1] == 'K' &&
	    ((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6)))
		return "zip";
	if (n >= 6 && !memcmp(h, "7z\xBC\xAF\x27\x1C", 6))
		return "7z";
	if (n >= 7 && !memcmp(h, "Rar!\x1A\x07", 6) && (h[6] == 0 || h[6] == 1))
		return "rar";
	if (n >= 512 && (!memcmp(h + 257, "ustar\0", 6) || !memcmp(h + 257, "ustar ", 6)) &&
	    tar_checksum_ok(h))
		return "tar";
	if (n >= 6 && (!memcmp(h, "070707", 6) || !memcmp(h, "070701", 6) ||
	               !memcmp(h, "070702", 6)))
		return "cpio";
	if (n >= 3 && h[0] == 0x1F && h[1] == 0x8B && h[2] == 8)
		return "gzip";
	if (n >= 10 && !memcmp(h, "BZh", 3) && h[3] >= '1' && h[3] <= '9' &&
	    !memcmp(h + 4, "1AY&SY", 6))
		return "bzip2";
	if (n >= 6 && !memcmp(h, "\xFD" "7zXZ\0", 6))
		return "xz";
	if (n >= 4 && !memcmp(h, "\x28\xB5\x2F\xFD", 4))
		return "zstd";
	return NULL;
}

/* The reader for one kind: only what that kind needs.  0 or PHI_E*. */
static int enable_kind(struct archive *a, const char *kind, struct phi_error *err)
{
	int rc = ARCHIVE_OK, filter = -1;
	if (!strcmp(kind, "zip"))
		rc = archive_read_support_format_zip(a);
	else if (!strcmp(kind, "7z"))
		rc = archive_read_support_format_7zip(a);
	else if (!strcmp(kind, "rar"))
		rc = archive_read_support_format_rar(a) | archive_read_support_format_rar5(a);
	else if (!strcmp(kind, "tar"))
		rc = archive_read_support_format_tar(a);
	else if (!strcmp(kind, "cpio"))
		rc = archive_read_support_format_cpio(a);
	else {
		filter = !strcmp(kind, "gzip")    ? ARCHIVE_FILTER_GZIP
		         : !strcmp(kind, "bzip2") ? ARCHIVE_FILTER_BZIP2
		         : !strcmp(kind, "xz")    ? ARCHIVE_FILTER_XZ
		                                  : ARCHIVE_FILTER_ZSTD;
		rc = archive_read_support_format_tar(a) | archive_read_support_format_cpio(a);
		/* ARCHIVE_WARN here means "through an external program": refused */
		if (rc == ARCHIVE_OK && archive_read_support_filter_by_code(a, filter) != ARCHIVE_OK)
			return phi_fail(err, PHI_ENOTSUP, "%s: no built-in decompressor: not scanned", kind);
	}
	if (rc != ARCHIVE_OK)
		return phi_fail(err, PHI_ENOTSUP, "%s archives cannot be read: not scanned", kind);
	return 0;
}

/* The name reports use once the format is known: "tar.gz" rather than "gzip". */
static const char *kind_name(struct archive *a, const char *kind)
{
	static const struct {
		const char *filter, *tar, *cpio;
	} names[] = {{"gzip", "tar.gz", "cpio.gz"},
	             {"bzip2", "tar.bz2", "cpio.bz2"},
	             {"xz", "tar.xz", "cpio.xz"},
	             {"zstd", "tar.zst", "cpio.zst"}};
	int base = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(kind, names[i].filter))
			return base == ARCHIVE_FORMAT_TAR ? names[i].tar
			       : base == ARCHIVE_FORMAT_CPIO ? names[i].cpio : kind;
	return kind;
}

/* ---- helpers ---- */

static int mem_file(void)
{
	return memfd_create("phiscan-entry", MFD_CLOEXEC);
}

static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *s = p;
	while (n) {
		ssize_t k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Why a name must not be used: NULL when it is safe. */
static const char *unsafe_name(const char *name)
{
	if (!name || !*name)
		return "an empty name";
	if (name[0] == '/' || name[0] == '\\' ||
	    (((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z') && name[1] == ':'))
		return "an absolute path";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7F)
			return "control characters in the name";
	for (const char *p = name; *p;) {
		size_t k = strcspn(p, "/\\");
		if (k == 2 && p[0] == '.' && p[1] == '.')
			return "a parent-directory (..) component";
		p += k;
		if (*p)
			p++;
	}
	return NULL;
}

static const char *entry_name(struct archive_entry *e)
{
	const char *u = archive_entry_pathname_utf8(e);
	return u ? u : archive_entry_pathname(e);
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/'), *b = strrchr(p, '\\');
	if (b && (!s || b > s))
		s = b;
	return s ? s + 1 : p;
}

/* The reason text for a libarchive error, without control bytes. */
static const char *arch_msg(struct archive *a, char *buf, size_t cap)
{
	const char *m = archive_error_string(a);
	snprintf(buf, cap, "%s", m ? m : "unknown error");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = '?';
	return buf;
}

static void outcome(struct phi_result *r, enum phi_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void outcome(struct phi_result *r, enum phi_status st, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->status = st;
	free(r->reason);
	r->reason = strdup(msg);
}

/* Strip: this archive will not be written; the first reason is kept. */
static void breaks(struct level *L, const struct phi_result *child, const char *what)
{
	if (L->out_fd < 0 || L->broken)
		return;
	L->broken = true;
	snprintf(L->why, sizeof L->why, "%s %s: no archive written", child->path, what);
}

/* An entry's result is final: report it now (scan) or hold it (strip). */
static void finish_child(struct phi_archive *A, struct phi_result *c)
{
	if (A->o->strip) {
		if (A->nheld == A->capheld) {
			size_t nc = A->capheld ? A->capheld * 2 : 16;
			struct phi_result **t = realloc(A->held, nc * sizeof *t);
			if (!t) {
				A->report_rc = PHI_ENOMEM;
				phi_result_free(c);
				return;
			}
			A->held = t;
			A->capheld = nc;
		}
		A->held[A->nheld++] = c;
		return;
	}
	int rc = A->o->entry(A->o->flush_arg, c);
	if (rc && !A->report_rc)
		A->report_rc = rc;
	phi_result_free(c);
}

/* Has this archive (or the whole walk) gone past a limit?  0 or PHI_ELIMIT. */
static int check_budget(struct level *L)
{
	const struct phi_limits *lim = L->A->o->limits;
	uint64_t expanded = L->produced;
	la_int64_t fb = archive_filter_bytes(L->in, 0);
	if (archive_filter_count(L->in) > 1 && fb > 0 && (uint64_t)fb > expanded)
		expanded = (uint64_t)fb; /* a compressed tar: skipped data counts too */
	if (lim->max_archive_ratio) {
		uint64_t allowed = L->size * lim->max_archive_ratio;
		if (L->size && allowed / L->size != lim->max_archive_ratio)
			allowed = UINT64_MAX;
		if (allowed < lim->archive_ratio_floor)
			allowed = lim->archive_ratio_floor;
		if (expanded > allowed)
			return phi_fail(L->A->err, PHI_ELIMIT,
			                "expands to more than %u times its size (over %llu bytes from %llu: "
			                "a zip bomb?): not scanned past that point",
			                lim->max_archive_ratio, (unsigned long long)allowed,
			                (unsigned long long)L->size);
	}
	if (lim->max_archive_total && L->A->total > lim->max_archive_total)
		return phi_fail(L->A->err, PHI_ELIMIT,
		                "more than %llu uncompressed bytes (archive total limit): not scanned "
		                "past that point",
		                (unsigned long long)lim->max_archive_total);
	return 0;
}

/* ---- writing ---- */

static int open_output(struct level *L, struct phi_error *err)
{
	struct archive *in = L->in;
	int fmt = archive_format(in), base = fmt & ARCHIVE_FORMAT_BASE_MASK;
	struct archive *out = archive_write_new();
	if (!out)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	L->out = out;
	int rc;
	if (base == ARCHIVE_FORMAT_ZIP)
		rc = archive_write_set_format_zip(out);
	else if (base == ARCHIVE_FORMAT_7ZIP)
		rc = archive_write_set_format_7zip(out);
	else if (fmt == ARCHIVE_FORMAT_TAR_USTAR || fmt == ARCHIVE_FORMAT_TAR_GNUTAR)
		rc = archive_write_set_format(out, fmt);
	else if (base == ARCHIVE_FORMAT_TAR)
		rc = archive_write_set_format_pax_restricted(out);
	else if (base == ARCHIVE_FORMAT_CPIO)
		rc = archive_write_set_format_cpio_newc(out);
	else
		return phi_fail(err, PHI_ENOTSUP, "%s archives cannot be written: nothing written",
		                archive_format_name(in) ? archive_format_name(in) : "these");
	if (rc != ARCHIVE_OK)
		return phi_fail(err, PHI_ENOTSUP, "cannot write this archive kind: nothing written");
	/* the same compression, outermost last (filter 0 is next to the format) */
	for (int i = archive_filter_count(in) - 1; i >= 0; i--) {
		int code = archive_filter_code(in, i);
		if (code == ARCHIVE_FILTER_NONE)
			continue;
		if (archive_write_add_filter(out, code) != ARCHIVE_OK)
			return phi_fail(err, PHI_ENOTSUP, "cannot write %s compression: nothing written",
			                archive_filter_name(in, i));
	}
	/* no time stamp in a gzip header; names in UTF-8 */
	(void)archive_write_set_option(out, "gzip", "timestamp", NULL);
	if (base == ARCHIVE_FORMAT_ZIP)
		(void)archive_write_set_option(out, "zip", "hdrcharset", "UTF-8");
	if (archive_write_open_fd(out, L->out_fd) != ARCHIVE_OK) {
		char m[256];
		return phi_fail(err, PHI_EIO, "cannot write the archive: %s", arch_msg(out, m, sizeof m));
	}
	return 0;
}

/* A fresh entry holding only what is kept: name, type, permissions, size, the
 * fixed time.  data_fd (a memory file) holds the bytes; out_hex gets their hash. */
static int write_entry(struct level *L, struct archive_entry *ie, bool stored, int data_fd,
                       uint64_t n, char out_hex[65])
{
	struct phi_archive *A = L->A;
	char m[256];
	struct archive_entry *oe = archive_entry_new();
	if (!oe)
		return phi_fail(A->err, PHI_ENOMEM, "out of memory");
	const char *u = archive_entry_pathname_utf8(ie);
	if (u)
		archive_entry_set_pathname_utf8(oe, u);
	else
		archive_entry_copy_pathname(oe, archive_entry_pathname(ie));
	archive_entry_set_filetype(oe, archive_entry_filetype(ie));
	archive_entry_set_perm(oe, archive_entry_perm(ie) & 07777);
	archive_entry_set_mtime(oe, FIXED_MTIME, 0);
	if (data_fd >= 0)
		archive_entry_set_size(oe, (la_int64_t)n);
	if ((archive_format(L->in) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP)
		(void)(stored ? archive_write_zip_set_compression_store(L->out)
		              : archive_write_zip_set_compression_deflate(L->out));
	int rc = archive_write_header(L->out, oe);
	archive_entry_free(oe);
	if (rc != ARCHIVE_OK)
		return phi_fail(A->err, PHI_EIO, "cannot write an entry: %s", arch_msg(L->out, m, sizeof m));
	if (data_fd >= 0) {
		struct phi_sha256 h;
		uint64_t off = 0;
		if (phi_sha256_init(&h))
			return phi_fail(A->err, PHI_ENOMEM, "out of memory");
		while (off < n) {
			ssize_t k = pread(data_fd, A->buf, sizeof A->buf, (off_t)off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0 || archive_write_data(L->out, A->buf, (size_t)k) != k) {
				phi_sha256_abort(&h);
				return phi_fail(A->err, PHI_EIO, "cannot write an entry: %s",
				                k <= 0 ? "short read" : arch_msg(L->out, m, sizeof m));
			}
			phi_sha256_update(&h, A->buf, (size_t)k);
			off += (uint64_t)k;
		}
		if (phi_sha256_final(&h, out_hex))
			return phi_fail(A->err, PHI_EIO, "cannot hash an entry");
	}
	if (archive_write_finish_entry(L->out) != ARCHIVE_OK)
		return phi_fail(A->err, PHI_EIO, "cannot write an entry: %s", arch_msg(L->out, m, sizeof m));
	return 0;
}

/* ---- reading ---- */

/* A zip's archive comment (APPNOTE 4.3.16: end of central directory record, then
 * the comment, up to 65,535 bytes, to the end of the file) through the rules as a
 * field of the archive's own result, with its file offsets.  Strip never copies
 * it.  libarchive does not expose it.  0 or PHI_E*. */
static int scan_zip_comment(struct phi_archive *A, int fd, uint64_t size, struct phi_result *res)
{
	size_t n = size < 22 + 65535 ? (size_t)size : 22 + 65535;
	if (n < 22)
		return 0;
	unsigned char *t = malloc(n);
	if (!t)
		return phi_fail(A->err, PHI_ENOMEM, "out of memory");
	int rc = 0;
	if (pread(fd, t, n, (off_t)(size - n)) != (ssize_t)n) {
		free(t);
		return 0; /* libarchive reports a short file its own way */
	}
	for (size_t pos = n - 22 + 1; pos-- > 0;) {
		size_t clen = (size_t)t[pos + 20] | (size_t)t[pos + 21] << 8;
		if (memcmp(t + pos, "PK\5\6", 4) || pos + 22 + clen != n)
			continue;
		if (clen) {
			struct phi_field f = {
				.text = (const char *)t + pos + 22,
				.len = clen,
				.kind = PHI_FIELD_TEXT,
				.where = "zip comment",
				.offset = size - n + pos + 22,
				.report_to = clen,
			};
			rc = phi_scan_field(A->w, res, &f);
		}
		break;
	}
	free(t);
	return rc;
}

static int walk_level(struct phi_archive *A, int fd, uint64_t size, int out_fd,
                      struct phi_result *res, unsigned depth, const char *kind);

enum read_outcome { READ_OK, READ_ENTRY_LIMIT, READ_ENTRY_ERROR, READ_FATAL };

/* Decompress the current entry into mfd, hashing it.  READ_FATAL: a limit of the
 * archive (err set) or an I/O failure; the others concern the entry alone. */
static enum read_outcome read_entry(struct level *L, int mfd, struct phi_result *c,
                                    char in_hex[65])
{
	struct phi_archive *A = L->A;
	const struct phi_limits *lim = A->o->limits;
	uint64_t cap = lim->max_entry_size;
	const char *cap_name = "entry size limit (--archive-limit entry-size)";
	struct phi_sha256 h;
	char m[256];

	if (lim->max_file_size && (!cap || lim->max_file_size < cap)) {
		cap = lim->max_file_size;
		cap_name = "--max-size limit";
	}
	if (phi_sha256_init(&h)) {
		phi_fail(A->err, PHI_ENOMEM, "out of memory");
		return READ_FATAL;
	}
	for (;;) {
		la_ssize_t k = archive_read_data(L->in, A->buf, sizeof A->buf);
		if (k == 0)
			break;
		if (k < 0) {
			phi_sha256_abort(&h);
			outcome(c, PHI_UNREADABLE, "cannot be read from the archive: %s",
			        arch_msg(L->in, m, sizeof m));
			return READ_ENTRY_ERROR;
		}
		c->size += (uint64_t)k;
		L->produced += (uint64_t)k;
		A->total += (uint64_t)k;
		if (check_budget(L)) {
			phi_sha256_abort(&h);
			outcome(c, PHI_UNREADABLE, "not scanned: its archive went past a limit");
			return READ_FATAL;
		}
		if (cap && c->size > cap) {
			phi_sha256_abort(&h);
			outcome(c, PHI_UNREADABLE, "larger than the %llu-byte %s: not scanned",
			        (unsigned long long)cap, cap_name);
			return READ_ENTRY_LIMIT;
		}
		if (write_all(mfd, A->buf, (size_t)k)) {
			phi_sha256_abort(&h);
			phi_fail(A->err, PHI_EIO, "cannot hold an entry in memory: %s", strerror(errno));
			outcome(c, PHI_UNREADABLE, "cannot be held in memory");
			return READ_FATAL;
		}
		phi_sha256_update(&h, A->buf, (size_t)k);
	}
	if (phi_sha256_final(&h, in_hex)) {
		phi_fail(A->err, PHI_EIO, "cannot hash an entry");
		return READ_FATAL;
	}
	return READ_OK;
}

/* Did the walk as a whole (not one nested archive) go past a limit? */
static bool walk_exhausted(const struct phi_archive *A)
{
	const struct phi_limits *lim = A->o->limits;
	return (lim->max_archive_total && A->total > lim->max_archive_total) ||
	       (lim->max_archive_entries && A->entries > lim->max_archive_entries);
}

/* One regular entry: read, scan (or walk, if an archive), strip.  Returns 0, or
 * PHI_E* when the walk of this archive must stop (err set). */
static int do_file(struct level *L, struct archive_entry *e, struct phi_result *c,
                   const char *name)
{
	struct phi_archive *A = L->A;
	const struct phi_limits *lim = A->o->limits;
	char in_hex[65] = "", out_hex[65] = "";
	int mfd = -1, ofd = -1, rc = 0;
	const char *fname = archive_format_name(L->in);
	bool stored = fname && strstr(fname, "uncompressed");

	if (archive_entry_is_encrypted(e)) {
		outcome(c, PHI_UNREADABLE, "encrypted entry: cannot be scanned");
		breaks(L, c, "is encrypted");
		return 0;
	}
	if ((mfd = mem_file()) < 0)
		return phi_fail(A->err, PHI_EIO, "cannot create a memory file: %s", strerror(errno));
	enum read_outcome ro = read_entry(L, mfd, c, in_hex);
	if (ro == READ_FATAL) {
		rc = A->err->code ? A->err->code : PHI_EIO;
		breaks(L, c, "was not read");
		goto out;
	}
	if (ro != READ_OK) {
		breaks(L, c, "could not be scanned");
		goto out;
	}
	if (L->out_fd >= 0 && !L->broken && (ofd = mem_file()) < 0) {
		rc = phi_fail(A->err, PHI_EIO, "cannot create a memory file: %s", strerror(errno));
		goto out;
	}
	unsigned char head[512];
	ssize_t hn = pread(mfd, head, sizeof head, 0);
	const char *kind = hn > 0 ? phi_archive_detect(head, (size_t)hn) : NULL;
	if (kind) {
		c->format = kind;
		if (L->depth + 1 > lim->max_archive_depth) {
			outcome(c, PHI_UNREADABLE,
			        "an archive nested deeper than %u levels (--archive-limit depth): not scanned",
			        lim->max_archive_depth);
		} else if (walk_level(A, mfd, c->size, ofd, c, L->depth + 1, kind)) {
			outcome(c, PHI_UNREADABLE, "%s", A->err->msg);
			if (walk_exhausted(A)) {
				rc = A->err->code;
				breaks(L, c, "went past a limit");
				goto out;
			}
		} else {
			c->status = PHI_SCANNED;
		}
	} else if (phi_scan_entry(A->w, mfd, c->size, base_of(name), ofd, c) == PHI_ESKIP) {
		goto out; /* a DICOMDIR: left out of a stripped archive, as from a tree */
	}
	if (c->status == PHI_UNREADABLE) {
		breaks(L, c, "could not be scanned or stripped");
	} else if (c->status == PHI_SKIPPED) {
		breaks(L, c, "is in no format phiscan reads (it cannot be shown clean)");
	} else if (ofd >= 0 && !L->broken) {
		off_t n = lseek(ofd, 0, SEEK_END);
		if (n < 0 || write_entry(L, e, stored, ofd, (uint64_t)n, out_hex)) {
			rc = n < 0 ? phi_fail(A->err, PHI_EIO, "cannot read a stripped entry back")
			           : A->err->code;
			goto out;
		}
		memcpy(c->in_sha256, in_hex, sizeof in_hex);
		memcpy(c->out_sha256, out_hex, sizeof out_hex);
		c->copied_verbatim = !strcmp(in_hex, out_hex);
	}
out:
	if (mfd >= 0)
		close(mfd);
	if (ofd >= 0)
		close(ofd);
	return rc;
}

static int new_child(struct phi_result **out, const struct phi_result *parent, const char *name)
{
	struct phi_result *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return PHI_ENOMEM;
	if (asprintf(&c->path, "%s!/%s", parent->path, name ? name : "") < 0) {
		free(c);
		return PHI_ENOMEM;
	}
	c->seq = parent->seq;
	c->format = "unknown";
	*out = c;
	return 0;
}

static int walk_level(struct phi_archive *A, int fd, uint64_t size, int out_fd,
                      struct phi_result *res, unsigned depth, const char *kind)
{
	const struct phi_limits *lim = A->o->limits;
	struct level L = {.A = A, .res = res, .size = size, .depth = depth, .out_fd = out_fd};
	unsigned long n = 0;
	char m[256];
	int rc = 0;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return phi_fail(A->err, PHI_EIO, "cannot rewind: %s", strerror(errno));
	if (!(L.in = archive_read_new()))
		return phi_fail(A->err, PHI_ENOMEM, "out of memory");
	if ((rc = enable_kind(L.in, kind, A->err)))
		goto done;
	if (archive_read_open_fd(L.in, fd, BLOCK) != ARCHIVE_OK) {
		rc = phi_fail(A->err, PHI_EFORMAT, "not a readable %s archive: %s", kind,
		              arch_msg(L.in, m, sizeof m));
		goto done;
	}
	if (!strcmp(kind, "zip") && (rc = scan_zip_comment(A, fd, size, res)))
		goto done;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(L.in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = phi_fail(A->err, PHI_EFORMAT, "corrupt %s archive: %s", kind,
			              arch_msg(L.in, m, sizeof m));
			goto done;
		}
		if ((rc = check_budget(&L)))
			goto done;
		if (lim->max_archive_entries && ++A->entries > lim->max_archive_entries) {
			rc = phi_fail(A->err, PHI_ELIMIT,
			              "more than %llu entries (--archive-limit entries): not scanned past "
			              "that point", (unsigned long long)lim->max_archive_entries);
			goto done;
		}
		if (n++ == 0)
			res->format = kind_name(L.in, kind);
		if (out_fd >= 0 && !L.out && !L.broken && open_output(&L, A->err)) {
			/* a kind that cannot be written (rar): no output, but every entry is
			 * still scanned and reported */
			L.broken = true;
			snprintf(L.why, sizeof L.why, "%s", A->err->msg);
		}
		const char *name = entry_name(e);
		unsigned type = archive_entry_filetype(e);
		const char *bad = unsafe_name(name);
		if (type == AE_IFDIR && !bad) {
			if (L.out && !L.broken && (rc = write_entry(&L, e, false, -1, 0, NULL)))
				goto done;
			continue;
		}
		struct phi_result *c;
		if ((rc = new_child(&c, res, name)))
			goto done;
		if (bad) {
			outcome(c, PHI_UNREADABLE, "unsafe entry name (%s): not scanned", bad);
			breaks(&L, c, "has an unsafe name");
		} else if (archive_entry_hardlink(e) || type == AE_IFLNK) {
			outcome(c, PHI_SKIPPED, "%s entry: not followed%s",
			        type == AE_IFLNK ? "symbolic link" : "hard link",
			        out_fd >= 0 ? ", left out of the stripped archive" : "");
		} else if (type != AE_IFREG) {
			outcome(c, PHI_SKIPPED, "not a regular file: not scanned%s",
			        out_fd >= 0 ? ", left out of the stripped archive" : "");
		} else {
			rc = do_file(&L, e, c, name);
		}
		finish_child(A, c);
		if (rc)
			goto done;
	}
	if (out_fd >= 0 && !L.out && !L.broken && (rc = open_output(&L, A->err)))
		goto done; /* an archive without entries: an empty one of the same kind */
	if (L.broken) {
		rc = phi_fail(A->err, PHI_EFORMAT, "%s", L.why);
		goto done;
	}
	if (L.out && archive_write_close(L.out) != ARCHIVE_OK) {
		rc = phi_fail(A->err, PHI_EIO, "cannot write the archive: %s",
		              arch_msg(L.out, m, sizeof m));
		goto done;
	}
	snprintf(m, sizeof m, "%lu", n);
	if (phi_result_fact(res, "archive_entries", m) ||
	    (out_fd >= 0 && phi_result_fact(res, "archive_entry_times", "fixed 1980-01-01T12:00:00Z")))
		rc = phi_fail(A->err, PHI_ENOMEM, "out of memory");
done:
	/* free closes (archive_write_fail would skip the close callback and leak
	 * its buffer); on failure what it writes goes to a file that is discarded */
	if (L.out)
		archive_write_free(L.out);
	archive_read_free(L.in);
	return rc;
}

/* ---- entry points ---- */

int phi_archive_scan(struct phi_archive **state, struct phi_worker *w,
                     const struct phi_scan_opts *o, struct phi_error *err, int fd,
                     uint64_t size, int out_fd, struct phi_result *res)
{
	if (!o->entry)
		return phi_fail(err, PHI_ENOTSUP, "archives need an entry reporter: not scanned");
	if (!*state && !(*state = calloc(1, sizeof **state)))
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	struct phi_archive *A = *state;
	A->w = w;
	A->o = o;
	A->err = err;
	A->total = A->entries = 0;
	A->report_rc = 0;
	int rc = walk_level(A, fd, size, out_fd, res, 1, res->format);
	if (!rc && A->report_rc)
		rc = phi_fail(err, A->report_rc, "cannot report the archive's entries");
	return rc;
}

void phi_archive_done(struct phi_archive *A, const struct phi_result *res)
{
	if (!A)
		return;
	size_t plen = strlen(res->path);
	for (size_t i = 0; i < A->nheld; i++) {
		struct phi_result *c = A->held[i];
		bool written = c->status == PHI_SCANNED && c->out_sha256[0];
		if (written && res->out_path && !strncmp(c->path, res->path, plen)) {
			if (asprintf(&c->out_path, "%s%s", res->out_path, c->path + plen) < 0)
				c->out_path = NULL;
		}
		if (!c->out_path) {
			/* its archive was not written (or strip went to a pipe): no output */
			c->in_sha256[0] = c->out_sha256[0] = 0;
			c->copied_verbatim = false;
		}
		if (A->o->entry)
			(void)A->o->entry(A->o->flush_arg, c);
		phi_result_free(c);
	}
	A->nheld = 0;
}

int phi_archive_stream(struct phi_archive **state, struct phi_worker *w,
                       const struct phi_scan_opts *o, struct phi_error *err, int in_fd,
                       const unsigned char *head, size_t head_len, int out_fd,
                       struct phi_result *res)
{
	uint64_t cap = o->limits->max_file_size ? o->limits->max_file_size : STREAM_MAX, n = head_len;
	int mfd = mem_file(), ofd = -1, rc = 0;
	unsigned char *buf = malloc(BLOCK);

	if (mfd < 0 || !buf || write_all(mfd, head, head_len)) {
		rc = phi_fail(err, PHI_EIO, "cannot hold the input in memory");
		goto out;
	}
	for (;;) {
		ssize_t k = read(in_fd, buf, BLOCK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = phi_fail(err, PHI_EIO, "read failed: %s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		n += (uint64_t)k;
		if (n > cap) {
			rc = phi_fail(err, PHI_ELIMIT, "larger than the %llu-byte limit (--max-size)",
			              (unsigned long long)cap);
			goto out;
		}
		if (write_all(mfd, buf, (size_t)k)) {
			rc = phi_fail(err, PHI_EIO, "cannot hold the input in memory");
			goto out;
		}
	}
	res->size = n;
	if (out_fd >= 0 && (ofd = mem_file()) < 0) {
		rc = phi_fail(err, PHI_EIO, "cannot create a memory file: %s", strerror(errno));
		goto out;
	}
	if ((rc = phi_archive_scan(state, w, o, err, mfd, n, ofd, res)))
		goto out;
	/* complete and checked: only now does a byte reach the output */
	if (ofd >= 0) {
		off_t off = 0;
		for (;;) {
			ssize_t k = pread(ofd, buf, BLOCK, off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k == 0)
				break;
			if (k < 0 || write_all(out_fd, buf, (size_t)k)) {
				rc = phi_fail(err, PHI_EIO, "write failed: %s", strerror(errno));
				goto out;
			}
			off += k;
		}
	}
out:
	free(buf);
	if (mfd >= 0)
		close(mfd);
	if (ofd >= 0)
		close(ofd);
	return rc;
}

void phi_archive_free(struct phi_archive *A)
{
	if (!A)
		return;
	for (size_t i = 0; i < A->nheld; i++)
		phi_result_free(A->held[i]);
	free(A->held);
	free(A);
}

static int parse_num(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int phi_archive_limit_set(struct phi_limits *lim, const char *spec, struct phi_error *err)
{
	const char *eq = strchr(spec, '=');
	uint64_t v;
	if (!eq || parse_num(eq + 1, &v))
		return phi_fail(err, PHI_EUSAGE,
		                "--archive-limit takes NAME=NUMBER (depth, entries, entry-size, total, "
		                "ratio), not '%s'", spec);
	size_t k = (size_t)(eq - spec);
	if (k == 5 && !strncmp(spec, "depth", k) && v >= 1 && v <= 64)
		lim->max_archive_depth = (unsigned)v;
	else if (k == 7 && !strncmp(spec, "entries", k) && v >= 1)
		lim->max_archive_entries = v;
	else if (k == 10 && !strncmp(spec, "entry-size", k) && v >= 1)
		lim->max_entry_size = v;
	else if (k == 5 && !strncmp(spec, "total", k) && v >= 1)
		lim->max_archive_total = v;
	else if (k == 5 && !strncmp(spec, "ratio", k) && v >= 1 && v <= 1000000)
		lim->max_archive_ratio = (unsigned)v;
	else
		return phi_fail(err, PHI_EUSAGE,
		                "--archive-limit: unknown name or value out of range in '%s' (depth 1-64, "
		                "entries, entry-size, total at least 1, ratio 1-1000000)", spec);
	return 0;
}
