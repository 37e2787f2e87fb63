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
#include "pathname.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- libarchive, loaded on first use ----
 *
 * libarchive is not linked: with what it brings (libxml2, ICU, liblzma, libzstd,
 * liblz4, libbz2, libacl, nettle) it cost about 2.9 ms of ld.so work at every start
 * (an empty program: 0.41 -> 3.34 ms, perf stat -r 100), while most runs meet no
 * archive.  It is dlopen'ed once, by the first archive (or --version), by the soname
 * the build linked against, so Debian's security updates still reach phiscan; every
 * function below is called through the table.  When it cannot be loaded, an archive
 * is unscanned with the reason (a gate fails closed on it). */

#ifndef PHI_LIBARCHIVE_SONAME /* the Makefile reads it off the library it builds with */
#define PHI_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

#define LA_FUNCS(X) \
	X(archive_entry_copy_pathname) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_is_encrypted) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_pathname_utf8) \
	X(archive_entry_perm) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname_utf8) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_error_string) \
	X(archive_filter_bytes) \
	X(archive_filter_code) \
	X(archive_filter_count) \
	X(archive_filter_name) \
	X(archive_format) \
	X(archive_format_name) \
	X(archive_read_data) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_fd) \
	X(archive_read_support_filter_by_code) \
	X(archive_read_support_format_7zip) \
	X(archive_read_support_format_cpio) \
	X(archive_read_support_format_rar) \
	X(archive_read_support_format_rar5) \
	X(archive_read_support_format_tar) \
	X(archive_read_support_format_zip) \
	X(archive_write_add_filter) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_finish_entry) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open_fd) \
	X(archive_write_set_format) \
	X(archive_write_set_format_7zip) \
	X(archive_write_set_format_cpio_newc) \
	X(archive_write_set_format_pax_restricted) \
	X(archive_write_set_format_zip) \
	X(archive_write_set_option) \
	X(archive_write_zip_set_compression_deflate) \
	X(archive_write_zip_set_compression_store) \
	X(archive_version_string)

static struct {
#define LA_FIELD(f) __typeof__(f) *f;
	LA_FUNCS(LA_FIELD)
#undef LA_FIELD
	int ok;
	char why[200]; /* dlerror() when it could not be loaded */
} la;
static pthread_once_t la_once = PTHREAD_ONCE_INIT;

static void la_load(void)
{
	void *lib = dlopen(PHI_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		snprintf(la.why, sizeof la.why, "%s", e ? e : PHI_LIBARCHIVE_SONAME ": cannot load");
		return;
	}
	la.ok = 1;
	/* POSIX: a void * from dlsym converts to a function pointer (XSH dlsym) */
#define LA_SYM(f)                                                                       \
	if (la.ok && !(*(void **)&la.f = dlsym(lib, #f))) {                                \
		snprintf(la.why, sizeof la.why, "%s has no %s", PHI_LIBARCHIVE_SONAME, #f);      \
		la.ok = 0;                                                                       \
	}
	LA_FUNCS(LA_SYM)
#undef LA_SYM
}

/* 1 when libarchive is loaded, else 0 with the reason in la.why. */
static int la_ready(void)
{
	return pthread_once(&la_once, la_load) == 0 && la.ok;
}

const char *phi_archive_version(const char **why)
{
	if (la_ready())
		return la.archive_version_string();
	if (why)
		*why = la.why;
	return NULL;
}

/* From here on every libarchive call goes through the table. */
#define archive_entry_copy_pathname (la.archive_entry_copy_pathname)
#define archive_entry_filetype (la.archive_entry_filetype)
#define archive_entry_free (la.archive_entry_free)
#define archive_entry_hardlink (la.archive_entry_hardlink)
#define archive_entry_is_encrypted (la.archive_entry_is_encrypted)
#define archive_entry_new (la.archive_entry_new)
#define archive_entry_pathname (la.archive_entry_pathname)
#define archive_entry_pathname_utf8 (la.archive_entry_pathname_utf8)
#define archive_entry_perm (la.archive_entry_perm)
#define archive_entry_set_filetype (la.archive_entry_set_filetype)
#define archive_entry_set_mtime (la.archive_entry_set_mtime)
#define archive_entry_set_pathname_utf8 (la.archive_entry_set_pathname_utf8)
#define archive_entry_set_perm (la.archive_entry_set_perm)
#define archive_entry_set_size (la.archive_entry_set_size)
#define archive_error_string (la.archive_error_string)
#define archive_filter_bytes (la.archive_filter_bytes)
#define archive_filter_code (la.archive_filter_code)
#define archive_filter_count (la.archive_filter_count)
#define archive_filter_name (la.archive_filter_name)
#define archive_format (la.archive_format)
#define archive_format_name (la.archive_format_name)
#define archive_read_data (la.archive_read_data)
#define archive_read_free (la.archive_read_free)
#define archive_read_new (la.archive_read_new)
#define archive_read_next_header (la.archive_read_next_header)
#define archive_read_open_fd (la.archive_read_open_fd)
#define archive_read_support_filter_by_code (la.archive_read_support_filter_by_code)
#define archive_read_support_format_7zip (la.archive_read_support_format_7zip)
#define archive_read_support_format_cpio (la.archive_read_support_format_cpio)
#define archive_read_support_format_rar (la.archive_read_support_format_rar)
#define archive_read_support_format_rar5 (la.archive_read_support_format_rar5)
#define archive_read_support_format_tar (la.archive_read_support_format_tar)
#define archive_read_support_format_zip (la.archive_read_support_format_zip)
#define archive_write_add_filter (la.archive_write_add_filter)
#define archive_write_close (la.archive_write_close)
#define archive_write_data (la.archive_write_data)
#define archive_write_finish_entry (la.archive_write_finish_entry)
#define archive_write_free (la.archive_write_free)
#define archive_write_header (la.archive_write_header)
#define archive_write_new (la.archive_write_new)
#define archive_write_open_fd (la.archive_write_open_fd)
#define archive_write_set_format (la.archive_write_set_format)
#define archive_write_set_format_7zip (la.archive_write_set_format_7zip)
#define archive_write_set_format_cpio_newc (la.archive_write_set_format_cpio_newc)
#define archive_write_set_format_pax_restricted (la.archive_write_set_format_pax_restricted)
#define archive_write_set_format_zip (la.archive_write_set_format_zip)
#define archive_write_set_option (la.archive_write_set_option)
#define archive_write_zip_set_compression_deflate (la.archive_write_zip_set_compression_deflate)
#define archive_write_zip_set_compression_store (la.archive_write_zip_set_compression_store)
#define archive_version_string (la.archive_version_string)

#define BLOCK (1u << 16)
/* 1980-01-01 12:00:00 UTC: a valid DOS date in every time zone. */
#define FIXED_MTIME 315576000
#define STREAM_MAX (1ull << 30)

struct phi_archive {
	struct phi_worker *w;
	const struct phi_scan_opts *o;
	struct phi_error *err;
	struct phi_result **held; /* strip: entries reported after the archive's outcome */
	char **held_out;          /* their output paths below the archive's ("!/a!/b") */
	size_t nheld, capheld;
	phi_harvest_fn hv_fn;     /* harvest mode (phi_archive_harvest): values go here */
	void *hv_arg;
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
	const char *out_prefix; /* its own output path below the root archive ("" there) */
	struct names *N;        /* its entry names */
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
	/* ap is started on the line above: the analyzer's report here is a false
	 * positive that appeared with new callers (entry names) */
	vsnprintf(msg, sizeof msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
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

/* An entry's result is final: report it now (scan) or hold it (strip) with its
 * output path below the archive's (consumed). */
static void finish_child(struct phi_archive *A, struct phi_result *c, char *out)
{
	if (A->hv_fn) { /* harvest: nothing is reported */
		phi_result_free(c);
		free(out);
		return;
	}
	if (A->o->strip) {
		if (A->nheld == A->capheld) {
			size_t nc = A->capheld ? A->capheld * 2 : 16;
			struct phi_result **t = realloc(A->held, nc * sizeof *t);
			char **to = realloc(A->held_out, nc * sizeof *to);
			if (to)
				A->held_out = to;
			if (!t || !to) {
				if (t)
					A->held = t;
				A->report_rc = PHI_ENOMEM;
				phi_result_free(c);
				free(out);
				return;
			}
			A->held = t;
			A->capheld = nc;
		}
		A->held_out[A->nheld] = out;
		A->held[A->nheld++] = c;
		return;
	}
	free(out);
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

static void free_finding_fields(struct phi_finding *f)
{
	free(f->rule), free(f->field), free(f->excerpt), free(f->value), free(f->replacement);
}

/* ---- entry names (pathname.h) ----
 *
 * Every component of an entry's name is a field, as a path component on disk is:
 * the rules and the case sweep run on it (in the case of the file being walked),
 * the display path masks what they find, and strip writes the entry under the
 * renamed components.  A component is scanned once per archive; a folder's
 * findings are reported once, with the first file under it.  Strip plans the
 * names before the first entry is read (one pass over the headers): entries that
 * keep their names claim them first, a renamed entry that collides gets -2, -3 in
 * entry order, and every reference to a renamed entry inside the archive (a
 * PHI_FF_PATH field) is rewritten, wherever in the archive the reference is. */

#define MAX_COMPS 64

/* A string-keyed open-addressing map (keys owned). */
struct smap {
	char **k;
	void **v;
	size_t cap, n;
};


static size_t smap_slot(const struct smap *m, const char *k, size_t kn)
{
	size_t i = phi_fnv1a(k, kn) & (m->cap - 1);
	while (m->k[i] && !(strlen(m->k[i]) == kn && !memcmp(m->k[i], k, kn)))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static bool smap_get(const struct smap *m, const char *k, size_t kn, void **v)
{
	if (!m->cap)
		return false;
	size_t i = smap_slot(m, k, kn);
	if (!m->k[i])
		return false;
	if (v)
		*v = m->v[i];
	return true;
}

/* Add k -> v unless k is there (then *added is false and nothing changes). */
static int smap_add(struct smap *m, const char *k, size_t kn, void *v, bool *added)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		char **nk = calloc(nc, sizeof *nk);
		void **nv = calloc(nc, sizeof *nv);
		if (!nk || !nv) {
			free(nk), free(nv);
			return PHI_ENOMEM;
		}
		struct smap t = {nk, nv, nc, m->n};
		for (size_t i = 0; i < m->cap; i++)
			if (m->k[i]) {
				size_t j = smap_slot(&t, m->k[i], strlen(m->k[i]));
				nk[j] = m->k[i];
				nv[j] = m->v[i];
			}
		free(m->k), free(m->v);
		*m = t;
	}
	size_t i = smap_slot(m, k, kn);
	*added = !m->k[i];
	if (!*added)
		return 0;
	if (!(m->k[i] = strndup(k, kn)))
		return PHI_ENOMEM;
	m->v[i] = v;
	m->n++;
	return 0;
}

static void smap_free(struct smap *m, void (*free_v)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->k[i]) {
			free(m->k[i]);
			if (free_v)
				free_v(m->v[i]);
		}
	free(m->k), free(m->v);
	memset(m, 0, sizeof *m);
}

static void free_comp(void *p)
{
	if (p)
		phi_name_comp_clear(p);
	free(p);
}

struct planned {
	char *name; /* as in the archive */
	char *out;  /* written under */
	bool dir;
};

struct names {
	struct phi_name_ctx x;
	bool rename;           /* strip */
	struct smap comps;     /* component -> struct phi_name_comp * */
	struct smap reported;  /* folder prefixes whose findings were reported */
	struct smap refs;      /* strip: component -> its new name (char *) */
	struct smap taken;     /* strip: output names claimed, and folders written */
	struct planned *plan;  /* strip: every entry's output name, in entry order */
	size_t nplan, capplan;
	bool planned;          /* the plan covers the whole archive */
};

static void names_free(struct names *N)
{
	if (!N)
		return;
	smap_free(&N->comps, free_comp);
	smap_free(&N->reported, NULL);
	smap_free(&N->refs, free);
	smap_free(&N->taken, NULL);
	for (size_t i = 0; i < N->nplan; i++)
		free(N->plan[i].name), free(N->plan[i].out);
	free(N->plan);
	free(N);
}

/* The components of name (empty ones, from "a//b" or a folder's trailing '/', are
 * skipped), each scanned once. */
static int name_comps(struct names *N, const char *name, struct phi_name_comp **cs, size_t *nc)
{
	*nc = 0;
	for (const char *p = name; *p;) {
		size_t k = strcspn(p, "/");
		if (k) {
			if (*nc == MAX_COMPS)
				return PHI_ELIMIT;
			void *v = NULL;
			if (!smap_get(&N->comps, p, k, &v)) {
				struct phi_name_comp *c = calloc(1, sizeof *c);
				bool added;
				int rc = c ? phi_name_scan(&N->x, p, k, c) : PHI_ENOMEM;
				if (!rc)
					rc = smap_add(&N->comps, p, k, c, &added);
				if (rc) {
					free_comp(c);
					return rc;
				}
				v = c;
			}
			cs[(*nc)++] = v;
		}
		p += k;
		if (*p)
			p++;
	}
	return 0;
}

/* The components' masked (which 0), renamed (1) or own (2) texts joined by '/'. */
static char *join(struct phi_name_comp **cs, size_t nc, int which)
{
	size_t n = 1;
	for (size_t i = 0; i < nc; i++)
		n += strlen(which == 2 ? cs[i]->text : which ? cs[i]->renamed : cs[i]->masked) + 1;
	char *s = malloc(n);
	size_t o = 0;
	if (!s)
		return NULL;
	for (size_t i = 0; i < nc; i++) {
		const char *t = which == 2 ? cs[i]->text : which ? cs[i]->renamed : cs[i]->masked;
		size_t k = strlen(t);
		if (i)
			s[o++] = '/';
		memcpy(s + o, t, k);
		o += k;
	}
	s[o] = 0;
	return s;
}

/* Claim out (a renamed entry's name); when taken, -2, -3 ... before the extension. */
static int claim_suffixed(struct names *N, char **out)
{
	bool added;
	int rc = smap_add(&N->taken, *out, strlen(*out), NULL, &added);
	if (rc || added)
		return rc;
	const char *b = *out, *base = strrchr(b, '/') ? strrchr(b, '/') + 1 : b;
	const char *dot = strrchr(base, '.');
	size_t o = strlen(b), stem = dot && dot > base ? (size_t)(dot - b) : o;
	for (unsigned k = 2; k < 100000; k++) {
		char *t;
		if (asprintf(&t, "%.*s-%u%s", (int)stem, b, k, b + stem) < 0)
			return PHI_ENOMEM;
		if ((rc = smap_add(&N->taken, t, strlen(t), NULL, &added)) || added) {
			if (rc) {
				free(t);
				return rc;
			}
			free(*out);
			*out = t;
			return 0;
		}
		free(t);
	}
	return PHI_ELIMIT;
}

/* A reference to a component of this archive that strip renames. */
static const char *ref_lookup(void *arg, const char *comp, size_t n)
{
	void *v = NULL;
	return smap_get(&((struct names *)arg)->refs, comp, n, &v) ? v : NULL;
}

static int grow_plan(struct names *N)
{
	if (N->nplan < N->capplan)
		return 0;
	size_t nc = N->capplan ? N->capplan * 2 : 64;
	struct planned *t = realloc(N->plan, nc * sizeof *t);
	if (!t)
		return PHI_ENOMEM;
	N->plan = t;
	N->capplan = nc;
	return 0;
}

/* The name an entry is written under: its renamed components, or the name itself
 * when no component changes (so "a//b" stays as it was). */
static char *renamed_name(const char *name, struct phi_name_comp **cs, size_t nc)
{
	bool changed = false;
	for (size_t i = 0; i < nc && !changed; i++)
		changed = strcmp(cs[i]->text, cs[i]->renamed) != 0;
	if (!changed)
		return strdup(name);
	char *j = join(cs, nc, 1);
	size_t n = strlen(name);
	if (j && n && name[n - 1] == '/') {
		char *t;
		if (asprintf(&t, "%s/", j) < 0)
			t = NULL;
		free(j);
		j = t;
	}
	return j;
}

static int add_ref(struct names *N, const char *from, size_t fn, const char *to)
{
	bool added;
	char *t = strdup(to);
	int rc = t ? smap_add(&N->refs, from, fn, t, &added) : PHI_ENOMEM;
	if (rc || !added)
		free(t);
	return rc;
}

/* Strip: one pass over the headers of the archive open on fd, then every entry's
 * output name.  A pass that stops early (a corrupt archive, a limit) leaves
 * planned false: the walk then fails on the same entry, or the level is broken. */
static int plan_names(struct level *L, int fd, const char *kind)
{
	struct phi_archive *A = L->A;
	struct names *N = L->N;
	const struct phi_limits *lim = A->o->limits;
	struct phi_error scratch = {0};
	struct archive *in = archive_read_new();
	int rc = 0;
	uint64_t produced = 0, entries = 0;
	if (!in)
		return PHI_ENOMEM;
	if (lseek(fd, 0, SEEK_SET) < 0 || enable_kind(in, kind, &scratch) ||
	    archive_read_open_fd(in, fd, BLOCK) != ARCHIVE_OK)
		goto done;
	bool seekable = !strcmp(kind, "zip");
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF) {
			N->planned = true;
			break;
		}
		if ((r != ARCHIVE_OK && r != ARCHIVE_WARN) ||
		    (lim->max_archive_entries && ++entries > lim->max_archive_entries))
			break;
		const char *name = entry_name(e);
		if (!name)
			name = ""; /* an empty name: unsafe_name refuses it */
		unsigned type = archive_entry_filetype(e);
		if ((rc = grow_plan(N)))
			break;
		struct planned *p = &N->plan[N->nplan];
		memset(p, 0, sizeof *p);
		if (!(p->name = strdup(name ? name : ""))) {
			rc = PHI_ENOMEM;
			break;
		}
		N->nplan++;
		p->dir = type == AE_IFDIR;
		if (!unsafe_name(name) && (type == AE_IFDIR || type == AE_IFREG) &&
		    !archive_entry_hardlink(e)) {
			struct phi_name_comp *cs[MAX_COMPS];
			size_t nc;
			if ((rc = name_comps(N, name, cs, &nc)) || !(p->out = renamed_name(name, cs, nc))) {
				rc = rc ? rc : PHI_ENOMEM;
				break;
			}
		}
		/* a compressed stream is read through, within the archive's budget (a
		 * zip's data is seeked over) */
		while (!seekable) {
			la_ssize_t k = archive_read_data(in, A->buf, sizeof A->buf);
			if (k <= 0)
				break;
			produced += (uint64_t)k;
			uint64_t allowed = L->size * lim->max_archive_ratio;
			if (L->size && allowed / L->size != lim->max_archive_ratio)
				allowed = UINT64_MAX;
			if (allowed < lim->archive_ratio_floor)
				allowed = lim->archive_ratio_floor;
			if ((lim->max_archive_ratio && produced > allowed) ||
			    (lim->max_archive_total && produced > lim->max_archive_total))
				goto done;
		}
	}
	/* names that stay claim theirs first; then the renamed ones, in entry order */
	for (size_t i = 0; !rc && i < N->nplan; i++) {
		struct planned *p = &N->plan[i];
		bool added;
		if (p->out && !p->dir && !strcmp(p->out, p->name))
			rc = smap_add(&N->taken, p->out, strlen(p->out), NULL, &added);
	}
	for (size_t i = 0; !rc && i < N->nplan; i++) {
		struct planned *p = &N->plan[i];
		if (!p->out || p->dir || !strcmp(p->out, p->name))
			continue;
		if ((rc = claim_suffixed(N, &p->out)))
			break;
		/* references follow: every renamed component, the file's own last (with
		 * its -2 when it got one) */
		struct phi_name_comp *cs[MAX_COMPS];
		size_t nc;
		if ((rc = name_comps(N, p->name, cs, &nc)))
			break;
		const char *ob = strrchr(p->out, '/') ? strrchr(p->out, '/') + 1 : p->out;
		for (size_t k = 0; !rc && k < nc; k++)
			if (k + 1 == nc && strcmp(cs[k]->text, ob))
				rc = add_ref(N, cs[k]->text, strlen(cs[k]->text), ob);
			else if (k + 1 < nc && strcmp(cs[k]->text, cs[k]->renamed))
				rc = add_ref(N, cs[k]->text, strlen(cs[k]->text), cs[k]->renamed);
	}
done:
	archive_read_free(in);
	if (!rc && lseek(fd, 0, SEEK_SET) < 0)
		rc = PHI_EIO;
	return rc;
}

/* One entry's name in the walk: its display path below the archive (masked), its
 * findings (a regular file: its own name and the folders first seen with it) and,
 * strip, the name it is written under (*out NULL when the plan has none).  0, or
 * PHI_E* (PHI_EFORMAT: the names differ from the planning pass). */
static int name_entry(struct level *L, size_t idx, const char *name, bool file, char **masked,
                      char **out, struct phi_finding **fv, size_t *fn)
{
	struct names *N = L->N;
	struct phi_name_comp *cs[MAX_COMPS];
	size_t nc;
	*masked = *out = NULL;
	int rc = name_comps(N, name, cs, &nc);
	if (rc)
		return rc;
	if (!(*masked = N->x.show_values ? strdup(name) : join(cs, nc, 0)))
		return PHI_ENOMEM;
	if (file) {
		for (size_t k = 0; k < nc && !rc; k++) {
			bool added = true;
			if (k + 1 < nc) { /* a folder: once, with its first file */
				char *pre = join(cs, k + 1, 2);
				rc = pre ? smap_add(&N->reported, pre, strlen(pre), NULL, &added) : PHI_ENOMEM;
				free(pre);
			}
			if (!rc && added)
				rc = phi_name_findings(&N->x, cs[k], *masked, N->rename, fv, fn);
		}
		if (rc)
			return rc;
	}
	if (!N->rename)
		return 0;
	if (!N->planned)
		return PHI_EFORMAT;
	if (idx >= N->nplan || strcmp(N->plan[idx].name, name))
		return PHI_EFORMAT;
	if (N->plan[idx].out && !(*out = strdup(N->plan[idx].out)))
		return PHI_ENOMEM;
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
static int write_entry(struct level *L, struct archive_entry *ie, const char *out_name,
                       bool stored, int data_fd, uint64_t n, char out_hex[65])
{
	struct phi_archive *A = L->A;
	char m[256];
	struct archive_entry *oe = archive_entry_new();
	if (!oe)
		return phi_fail(A->err, PHI_ENOMEM, "out of memory");
	const char *u = archive_entry_pathname_utf8(ie);
	if (out_name && strcmp(out_name, entry_name(ie)))
		archive_entry_set_pathname_utf8(oe, out_name); /* renamed (entry names) */
	else if (u)
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
                      struct phi_result *res, unsigned depth, const char *kind,
                      const char *out_prefix);

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
                   const char *name, const char *out_name, const char *child_out)
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
		} else if (walk_level(A, mfd, c->size, ofd, c, L->depth + 1, kind, child_out)) {
			outcome(c, PHI_UNREADABLE, "%s", A->err->msg);
			if (walk_exhausted(A)) {
				rc = A->err->code;
				breaks(L, c, "went past a limit");
				goto out;
			}
		} else {
			c->status = PHI_SCANNED;
		}
	} else if (A->hv_fn) {
		/* each entry is a file of its own: the end is signalled with a NULL class,
		 * so a first and a last name pair only within one entry */
		rc = phi_harvest_entry(A->w, mfd, c->size, base_of(name), A->hv_fn, A->hv_arg);
		if (!rc)
			rc = A->hv_fn(A->hv_arg, NULL, NULL, 0);
		if (rc)
			rc = phi_fail(A->err, rc, "out of memory harvesting an entry");
		goto out;
	} else if (phi_scan_entry(A->w, mfd, c->size, base_of(name), ofd, c) == PHI_ESKIP) {
		goto out; /* a DICOMDIR: left out of a stripped archive, as from a tree */
	}
	if (c->status == PHI_UNREADABLE) {
		breaks(L, c, "could not be scanned or stripped");
	} else if (c->status == PHI_SKIPPED) {
		breaks(L, c, "is in no format phiscan reads (it cannot be shown clean)");
	} else if (ofd >= 0 && !L->broken) {
		off_t n = lseek(ofd, 0, SEEK_END);
		if (n < 0 || write_entry(L, e, out_name, stored, ofd, (uint64_t)n, out_hex)) {
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
                      struct phi_result *res, unsigned depth, const char *kind,
                      const char *out_prefix)
{
	const struct phi_limits *lim = A->o->limits;
	struct level L = {.A = A, .res = res, .size = size, .depth = depth, .out_fd = out_fd,
	                  .out_prefix = out_prefix};
	unsigned long n = 0;
	char m[256];
	int rc = 0;
	phi_ref_fn old_fn = NULL;
	void *old_arg = NULL;
	bool refs_set = false;

	if (!A->hv_fn) {
		if (!(L.N = calloc(1, sizeof *L.N)))
			return phi_fail(A->err, PHI_ENOMEM, "out of memory");
		phi_worker_name_ctx(A->w, &L.N->x);
		L.N->rename = out_fd >= 0;
		if (L.N->rename) {
			/* names planned before any entry is read, so a reference may name an
			 * entry that comes later */
			if ((rc = plan_names(&L, fd, kind))) {
				names_free(L.N);
				return phi_fail(A->err, rc, "cannot plan the entry names: %s", phi_strerror(rc));
			}
			phi_worker_refs(A->w, ref_lookup, L.N, &old_fn, &old_arg);
			refs_set = true;
		}
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		rc = phi_fail(A->err, PHI_EIO, "cannot rewind: %s", strerror(errno));
		goto done;
	}
	if (!(L.in = archive_read_new())) {
		rc = phi_fail(A->err, PHI_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = enable_kind(L.in, kind, A->err)))
		goto done;
	if (archive_read_open_fd(L.in, fd, BLOCK) != ARCHIVE_OK) {
		rc = phi_fail(A->err, PHI_EFORMAT, "not a readable %s archive: %s", kind,
		              arch_msg(L.in, m, sizeof m));
		goto done;
	}
	if (!A->hv_fn && !strcmp(kind, "zip") && (rc = scan_zip_comment(A, fd, size, res)))
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
		if (!name)
			name = ""; /* an empty name: unsafe_name refuses it */
		unsigned type = archive_entry_filetype(e);
		const char *bad = unsafe_name(name);
		bool file = !bad && type == AE_IFREG && !archive_entry_hardlink(e);
		char *shown = NULL, *out = NULL;
		struct phi_finding *fv = NULL;
		size_t fn = 0;
		int nrc = 0;
		if (!A->hv_fn && bad) {
			/* shown as it is (it is an error), identifiers masked all the same */
			struct phi_name_comp whole;
			nrc = phi_name_scan(&L.N->x, name ? name : "", name ? strlen(name) : 0, &whole);
			if (!nrc && !(shown = strdup(whole.masked)))
				nrc = PHI_ENOMEM;
			phi_name_comp_clear(&whole);
		} else if (!A->hv_fn) {
			nrc = name_entry(&L, n - 1, name ? name : "", file, &shown, &out, &fv, &fn);
			if (nrc && nrc != PHI_EFORMAT) {
				for (size_t i = 0; i < fn; i++)
					free_finding_fields(&fv[i]);
				free(fv), free(shown), free(out);
				rc = phi_fail(A->err, nrc, "entry names: %s", phi_strerror(nrc));
				goto done;
			}
		}
		if (type == AE_IFDIR && !bad) {
			bool fresh = true;
			if (out && L.out && !L.broken)
				rc = smap_add(&L.N->taken, out, strlen(out), NULL, &fresh); /* merged */
			if (!rc && fresh && L.out && !L.broken)
				rc = write_entry(&L, e, out, false, -1, 0, NULL);
			free(shown), free(out), free(fv);
			if (rc)
				goto done;
			continue;
		}
		struct phi_result *c;
		if ((rc = new_child(&c, res, shown ? shown : name))) {
			free(shown), free(out), free(fv);
			goto done;
		}
		free(shown);
		/* what the name holds comes first, as for a file on disk */
		for (size_t i = 0; i < fn; i++) {
			if (!rc)
				rc = phi_result_add(c, &fv[i]); /* moved, even on failure */
			else
				free_finding_fields(&fv[i]);
		}
		free(fv);
		if (!rc && out && strcmp(out, name) && A->o->sopts && A->o->sopts->key) {
			unsigned char mac[32];
			char hex[65];
			crypto_auth_hmacsha256(mac, (const unsigned char *)name, strlen(name),
			                       A->o->sopts->key);
			sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
			rc = phi_result_fact(c, "input_rel_hmac_sha256", hex);
		}
		char *child_out = NULL;
		if (!rc && !A->hv_fn && asprintf(&child_out, "%s!/%s", out_prefix, out ? out : name) < 0) {
			child_out = NULL;
			rc = PHI_ENOMEM;
		}
		if (rc) {
			free(out), free(child_out);
			phi_result_free(c);
			rc = phi_fail(A->err, rc, "out of memory");
			goto done;
		}
		if (nrc == PHI_EFORMAT)
			breaks(&L, c, "changed its name between two reads of the archive");
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
			rc = do_file(&L, e, c, name, out, child_out ? child_out : "");
		}
		free(out);
		finish_child(A, c, child_out);
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
	if (L.in)
		archive_read_free(L.in);
	if (refs_set)
		phi_worker_refs(A->w, old_fn, old_arg, NULL, NULL);
	names_free(L.N);
	return rc;
}

/* ---- entry points ---- */

/* The worker's archive state (made on first use: *state owns it) set up for one
 * walk: scan (fn NULL) or harvest (fn gets the patient values).  NULL when out of
 * memory. */
static struct phi_archive *arm(struct phi_archive **state, struct phi_worker *w,
                               const struct phi_scan_opts *o, struct phi_error *err,
                               phi_harvest_fn fn, void *arg)
{
	if (!*state && !(*state = calloc(1, sizeof **state)))
		return NULL;
	struct phi_archive *A = *state;
	A->w = w;
	A->o = o;
	A->err = err;
	A->total = A->entries = 0;
	A->report_rc = 0;
	A->hv_fn = fn;
	A->hv_arg = arg;
	return A;
}

int phi_archive_scan(struct phi_archive **state, struct phi_worker *w,
                     const struct phi_scan_opts *o, struct phi_error *err, int fd,
                     uint64_t size, int out_fd, struct phi_result *res)
{
	if (!o->entry)
		return phi_fail(err, PHI_ENOTSUP, "archives need an entry reporter: not scanned");
	if (!la_ready())
		return phi_fail(err, PHI_ENOTSUP, "libarchive cannot be loaded (%s): not scanned",
		                la.why);
	struct phi_archive *A = arm(state, w, o, err, NULL, NULL);
	if (!A)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	int rc = walk_level(A, fd, size, out_fd, res, 1, res->format, "");
	if (!rc && A->report_rc)
		rc = phi_fail(err, A->report_rc, "cannot report the archive's entries");
	return rc;
}

int phi_archive_harvest(struct phi_archive **state, struct phi_worker *w,
                        const struct phi_scan_opts *o, struct phi_error *err, int fd,
                        uint64_t size, const char *kind, phi_harvest_fn fn, void *arg)
{
	if (!la_ready())
		return 0; /* the scan pass reports the archive unscanned */
	struct phi_archive *A = arm(state, w, o, err, fn, arg);
	if (!A)
		return PHI_ENOMEM;
	struct phi_result res = {.path = (char *)"", .format = kind};
	int rc = walk_level(A, fd, size, -1, &res, 1, kind, "");
	A->hv_fn = NULL;
	A->hv_arg = NULL;
	res.path = NULL;
	phi_result_clear(&res);
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
			/* under its own (renamed) name: "OUT/case.zip!/PX.../upper.stl" */
			if (asprintf(&c->out_path, "%s%s", res->out_path,
			             A->held_out[i] ? A->held_out[i] : c->path + plen) < 0)
				c->out_path = NULL;
		}
		free(A->held_out[i]);
		A->held_out[i] = NULL;
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
	for (size_t i = 0; i < A->nheld; i++) {
		phi_result_free(A->held[i]);
		free(A->held_out[i]);
	}
	free(A->held);
	free(A->held_out);
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
