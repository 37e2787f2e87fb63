/* format.h - the one interface every file format implements, and the field.
 *
 * A format knows bytes; the rule engine knows text.  Between them is the field: a
 * piece of UTF-8 text, what it is (free text, or a structured value whose meaning
 * alone makes it PHI) and where it lives in the file.  A format's scan() hands each
 * field to the sink; in strip mode the sink answers with the edits to apply, and the
 * format writes the de-identified copy.
 *
 * Dependencies point one way: formats include only this header and each other's;
 * the scanner includes formats, never the reverse.
 *
 * Threading: a struct phi_format is read-only and shared by all workers; a
 * struct phi_fctx belongs to one worker for the duration of one file.
 *
 * Ownership: everything reachable from a struct phi_field is borrowed for the
 * duration of one sink call.  Edits returned by the sink are borrowed until the next
 * sink call on the same context.
 */
#ifndef PHI_FORMAT_H
#define PHI_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64-bit, of n bytes: keys of the small hash tables (not a defence against
 * crafted collisions: every user compares the whole key after a hash hit). */
static inline uint64_t phi_fnv1a(const void *p, size_t n)
{
	const unsigned char *b = (const unsigned char *)p;
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* Error codes: every fallible function returns 0 or one of these (negative). */
enum {
	PHI_OK = 0,
	PHI_ENOMEM = -1,   /* allocation failed */
	PHI_EIO = -2,      /* read or write failed */
	PHI_EFORMAT = -3,  /* input is malformed: the file could not be scanned */
	PHI_ELIMIT = -4,   /* a size or count limit was exceeded */
	PHI_EUSAGE = -5,   /* bad command line or option */
	PHI_ERULE = -6,    /* bad rule pack */
	PHI_ENOTSUP = -7,  /* the format cannot do this (e.g. strip) */
	PHI_EVERIFY = -8,  /* a written copy failed verification */
	PHI_EEXIST = -9,   /* refusing to overwrite */
	PHI_ESKIP = -10,   /* deliberately not written (a DICOMDIR): reported as skipped
	                      with the reason, not as an error */
};

/* One error record per worker (or per command).  Filled by phi_fail(); the message
 * never contains PHI: it names the path, the reason and, where known, the offset. */
struct phi_error {
	int code;
	uint64_t offset; /* PHI_NO_OFFSET when not meaningful */
	char msg[256];
};

#define PHI_NO_OFFSET UINT64_MAX

/* Record an error and return its code, so callers write
 *   return phi_fail(err, PHI_EFORMAT, "bad chunk length %u", n);
 * err may be NULL (the code is still returned). */
int phi_fail(struct phi_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int phi_fail_at(struct phi_error *err, int code, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A short static description of an error code ("malformed input", ...). */
const char *phi_strerror(int code);

/* Two small memory helpers the scanner's modules share (case, scan, report). */
/* A NUL-terminated copy of the n bytes at s (all n, NULs too), owned by the caller;
 * NULL when out of memory. */
char *phi_memdup(const char *s, size_t n);
/* Room for element n of the array *v (*cap elements of size bytes each): when n has
 * reached *cap, the capacity doubles (16 the first time).  0, or PHI_ENOMEM with *v
 * and *cap untouched. */
int phi_grow(void **v, size_t *cap, size_t n, size_t size);

/* Every size the input controls has a cap; all caps live here. */
struct phi_limits {
	uint64_t max_file_size;   /* files larger than this are reported unscanned; 0 = none */
	size_t chunk_size;        /* text is scanned in line-aligned chunks of this size */
	/* meshes and 3Shape HPS (formats/stl.c, ply.c, obj.c, hps.c) */
	size_t mesh_max_line;      /* longest ASCII STL, OBJ or MTL line */
	size_t ply_max_header;     /* PLY: end_header must come within this many bytes */
	unsigned ply_max_elements; /* PLY: element lines in one header */
	unsigned ply_max_props;    /* PLY: property lines of one element */
	size_t obj_max_names;      /* OBJ: distinct o/g names numbered in one file */
	size_t hps_max_stream;     /* HPS read from a pipe is buffered whole; a smaller
	                              max_file_size (--max-size) wins */
	size_t max_line_context;  /* bytes of look-behind kept across a chunk boundary */
	size_t max_field_len;     /* structured fields longer than this are truncated for rules */
	size_t max_inflate;       /* decompressed output cap (zTXt, deflate, ...) */
	unsigned max_depth;       /* nesting depth (sequences, directories) */
	/* archives (scanner/archive.c): each exceeded limit is reported with its reason */
	unsigned max_archive_depth;   /* archives inside archives: a.zip!/b.zip! is 2 */
	uint64_t max_archive_entries; /* entries of one archive, nested ones included */
	uint64_t max_entry_size;      /* uncompressed bytes of one entry */
	uint64_t max_archive_total;   /* uncompressed bytes of one archive, nested included */
	unsigned max_archive_ratio;   /* an archive may expand to ratio x its own size ... */
	uint64_t archive_ratio_floor; /* ... or to this many bytes, whichever is more */
	/* images (formats/imgmeta.c, exif.c, jpeg.c, png.c, tiff.c, heif.c) */
	size_t max_image_stdin;   /* an image read from a pipe is buffered whole; a smaller
	                             max_file_size (--max-size) wins */
	size_t max_image_out;     /* a stripped image is built in memory before writing */
	size_t max_verify_bytes;  /* --verify decodes an image only when its pixels fit */
	unsigned max_ifds;        /* TIFF/Exif IFDs read in one structure */
	unsigned max_ifd_entries; /* entries in one IFD */
	unsigned max_ifd_depth;   /* Exif/GPS/Interop/SubIFD nesting */
	unsigned max_pages;       /* TIFF pages (main IFD chain) */
	size_t max_strips;        /* TIFF strips or tiles of one file */
	unsigned max_items;       /* HEIF items and extents, ICC tags */
	unsigned max_ext_xmp;     /* Extended XMP packets (GUIDs) reassembled per JPEG */
};

/* Default limits (phi_limits_default fills them). */
void phi_limits_default(struct phi_limits *lim);

enum phi_field_kind {
	PHI_FIELD_TEXT,  /* free text: rules decide */
	PHI_FIELD_VALUE, /* structured value: value_class says it is PHI by what it is;
	                    rules still run over it */
};

struct phi_field {
	const char *text;    /* UTF-8 (invalid sequences allowed), not NUL-terminated */
	size_t len;
	enum phi_field_kind kind;
	const char *where;   /* location: NULL for a text body, else "(0010,0010)",
	                        "tEXt:Comment", "header[0..79]" ... */
	uint64_t offset;     /* file offset of text[0] when text maps 1:1 to file bytes
	                        (map == NULL), or the base the map is relative to;
	                        PHI_NO_OFFSET when the field has no byte position */
	const uint32_t *map; /* optional: map[i] = file offset of text[i] relative to
	                        offset; len + 1 entries (map[len] = end) */
	uint64_t line;       /* 1-based line of text[0] in line-oriented formats, else 0 */
	uint64_t col;        /* 1-based column (code points) of text[0], else 0 */
	size_t report_from;  /* only matches starting in [report_from, report_to) are */
	size_t report_to;    /* reported: chunk overlap is scanned but not reported twice */
	const char *value_class; /* PHI_FIELD_VALUE: class of the value itself, or NULL */
	const char *value_rule;  /* rule id for the structured finding ("dicom-annex-e") */
	int value_severity;      /* 0 quasi, 1 provider, 2 patient */
	unsigned flags;          /* PHI_FF_* */
};

/* struct phi_field.flags */
enum {
	/* The field's text names a file or a path (exocad FileName, ToothScanFileName,
	 * FilenameImplantGeometry; 3Shape ModelFileName, ScanFile@path; JSON keys such
	 * as Attachments[].Name).  A rename of case files may rewrite such a value
	 * to keep the reference resolving; its `where` says which element or key. */
	PHI_FF_PATH = 1u << 0,
};

/* One replacement, in field-relative byte offsets of the field text. */
struct phi_edit {
	size_t start, end;
	const char *repl; /* UTF-8 */
	size_t repl_len;
};

struct phi_edits {
	const struct phi_edit *v; /* sorted by start, non-overlapping */
	size_t n;
};

struct phi_sink_ops {
	/* Run the rules on one field and record its findings.  When edits is not NULL
	 * (strip), it receives the replacements to apply.  Returns 0 or PHI_E*. */
	int (*field)(void *sink, const struct phi_field *f, struct phi_edits *edits);
	/* Attach a fact about this file to its result (manifest and JSON report):
	 * "geometry_sha256_in", "pixels_sha256_out", "note" ...  Never PHI.  Both strings
	 * are copied.  Returns 0 or PHI_ENOMEM. */
	int (*record)(void *sink, const char *name, const char *value);
};

/* Strip options that formats read (set from the command line; read-only). */
enum {
	PHI_SO_VERIFY = 1u << 0,            /* re-read the written copy and check the
	                                       protected regions (geometry, pixels) */
	PHI_SO_STRIP_HPS = 1u << 1,         /* 3Shape HPS: strip (signed files; opt-in) */
	PHI_SO_STL_ZERO_ATTR = 1u << 2,     /* binary STL: zero every facet's attribute
	                                       word (colour is kept by default) */
	/* DICOM Basic Profile options (PS3.15 E.3, CID 7050) */
	PHI_SO_RETAIN_LONG_DATES = 1u << 8, /* Retain Longitudinal Temporal Information
	                                       with Full Dates */
	PHI_SO_RETAIN_MOD_DATES = 1u << 9,  /* ... with Modified Dates (keyed shift) */
	PHI_SO_RETAIN_PATIENT_CHARS = 1u << 10,
	PHI_SO_RETAIN_DEVICE = 1u << 11,
	PHI_SO_RETAIN_INSTITUTION = 1u << 12,
	PHI_SO_RETAIN_UIDS = 1u << 13,
	PHI_SO_RETAIN_SAFE_PRIVATE = 1u << 14,
	PHI_SO_CLEAN_DESCRIPTORS = 1u << 15,
};

struct phi_strip_opts {
	unsigned flags;             /* PHI_SO_* */
	const unsigned char *key;   /* 32-byte secret (--key), or NULL */
	const char *case_id;        /* --case-id, or NULL */
};

/* Per-file context given to a format by the scanner. */
struct phi_fctx {
	const char *path;            /* display path, borrowed */
	int fd;                      /* input; may be a pipe (filter) */
	uint64_t size;               /* PHI_NO_OFFSET when unknown (pipe) */
	const unsigned char *head;   /* first bytes, already read from fd */
	size_t head_len;
	size_t head_pos;             /* phi_input_read's cursor into head */
	int out_fd;                  /* strip: where the copy is written; -1 for scan */
	const struct phi_limits *limits;
	struct phi_error *err;
	const struct phi_sink_ops *sink_ops;
	void *sink;
	unsigned char *buf;          /* per-worker scratch buffer, reused across files */
	size_t buf_cap;
	const char *encoding;        /* set by the format: "utf-8", "utf-16le", ... */
	uint64_t in_bytes;           /* bytes handed out by phi_input_read so far */
	const struct phi_strip_opts *sopts; /* never NULL */
	void **state;                /* this worker's slot for this format: a format may
	                                keep one object here across files (a parser
	                                handle); the scanner frees it with free_state */
	/* Strip: a format that held the whole input and the whole copy in memory may
	 * leave their SHA-256 here (64 hex digits), computed over exactly the bytes it
	 * read from fd and wrote to out_fd, so the scanner need not read both files
	 * again for the manifest.  "" (the default): the scanner hashes the files. */
	char in_sha256[65];
	char out_sha256[65];
	/* the kind of in_sha256 (indigest.h): NULL, a SHA-256 of the whole input, or a
	 * format's own digest of it (DICOM: PHI_INDIGEST_DICOM, which the format may
	 * leave without out_sha256: the scanner then hashes the copy alone) */
	const char *in_kind;
};

/* Read up to n bytes of the input, head bytes first, then from fd.  Returns the
 * count (0 at end) or a negative PHI_E* code.  Retries on EINTR. */
long phi_input_read(struct phi_fctx *ctx, void *dst, size_t n);
/* Write all of n bytes to ctx->out_fd. */
int phi_output_write(struct phi_fctx *ctx, const void *src, size_t n);
/* Write all of the pieces, in order, with writev (one call when the kernel takes
 * them whole). */
struct phi_span {
	const void *p;
	size_t n;
};
int phi_output_writev(struct phi_fctx *ctx, const struct phi_span *v, int n);

struct phi_format {
	const char *name;
	/* How sure the format is that these bytes are its own: 0 no, 1..100 yes.
	 * head holds the first bytes of the file (up to PHI_HEAD_SIZE); name is the
	 * base name or NULL.  Magic bytes outrank names. */
	int (*detect)(const unsigned char *head, size_t n, const char *name);
	/* Emit every field to the sink.  With ctx->out_fd >= 0, also write the
	 * de-identified copy.  NULL strip support is signalled by can_strip = 0. */
	int (*scan)(struct phi_fctx *ctx);
	int can_strip;
	void (*free_state)(void *state); /* NULL when the format keeps no state */
};

#define PHI_MAX_FORMATS 32

/* Global set-up of every format that needs one (DICOM's data dictionary), called
 * once before any worker starts.  0 or PHI_E* with a message in err. */
int phi_formats_init(struct phi_error *err);

#define PHI_HEAD_SIZE 65536

/* For files no format claims: a name for what the bytes look like ("dicom", "jpeg",
 * "png", "tiff", "zip", "stl", ...) so reports can say what was skipped, or
 * "unknown".  Never used to scan: only a label.  Static string. */
const char *phi_format_guess(const unsigned char *head, size_t n, const char *name);

/* The table of formats, NULL-terminated, read-only. */
extern const struct phi_format *const phi_formats[];

/* Pick the format for these head bytes: the highest detect() score, ties to the
 * earlier table entry.  NULL when no format claims them. */
const struct phi_format *phi_format_detect(const unsigned char *head, size_t n,
                                           const char *name);

#endif
