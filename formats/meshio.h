/* meshio.h - small helpers shared by the mesh and scanner-container formats (STL,
 * PLY, OBJ/MTL, 3Shape HPS): a bounded line reader over phi_input_read, a SHA-256
 * of the protected (geometry) bytes, handing a slot to the sink, and the
 * before/after geometry facts with the optional re-read check (--verify).
 *
 * Threading: reentrant; every struct belongs to one worker for one file.
 * Ownership: a struct phi_lines owns its buffer (phi_lines_free releases it); a
 * line returned by phi_lines_next is borrowed until the next call.  A struct
 * phi_mbuf owns its bytes; it never grows past its max.
 */
#ifndef PHI_MESHIO_H
#define PHI_MESHIO_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "sha256.h"

/* ---- SHA-256 of the protected bytes ---- */

/* OpenSSL EVP underneath (sha256.h): init allocates a digest context, which
 * phi_geohash_hex or phi_geohash_abort releases.  abort is safe on a context that
 * was never initialised (zeroed), already finished or already aborted, so every
 * error path can simply call it. */
struct phi_geohash {
	struct phi_sha256 sha;
	uint64_t bytes;
};

/* 0, or PHI_ENOMEM recorded in err (which may be NULL). */
int phi_geohash_init(struct phi_geohash *h, struct phi_error *err);
void phi_geohash_update(struct phi_geohash *h, const void *p, size_t n);
/* Finish into 64 lowercase hex digits and a NUL, and release the context.
 * 0, or PHI_ENOMEM recorded in err. */
int phi_geohash_hex(struct phi_geohash *h, char hex[65], struct phi_error *err);
void phi_geohash_abort(struct phi_geohash *h);

/* Record "geometry_sha256_in" and "geometry_sha256_out"; with --verify also
 * "geometry_verified" = "yes", or fail with PHI_EVERIFY when they differ.
 * what names the protected region in the failure message ("STL bytes 80..EOF"). */
int phi_geometry_facts(struct phi_fctx *ctx, const char *in_hex, const char *out_hex,
                       const char *what);

/* ---- a growable byte buffer with a hard maximum ---- */

struct phi_mbuf {
	unsigned char *p; /* NULL until the first append */
	size_t n, cap, max;
};

int phi_mbuf_put(struct phi_mbuf *b, const void *src, size_t n, struct phi_error *err);
void phi_mbuf_free(struct phi_mbuf *b);

/* Apply field-relative edits to t[0..n) into out (appended).  Replacement bytes
 * pass through filter when it is not NULL (it maps one byte to the byte written,
 * e.g. spaces to '_' in a name that must stay one token). */
int phi_apply_edits(const unsigned char *t, size_t n, const struct phi_edits *ed,
                    unsigned char (*filter)(unsigned char), struct phi_mbuf *out,
                    struct phi_error *err);

/* ---- buffered output (many small writes: one line at a time) ---- */

struct phi_wbuf {
	struct phi_fctx *ctx;
	size_t n;
	unsigned char b[65536];
};

/* Append n bytes for ctx->out_fd; 0 or PHI_EIO. */
int phi_wbuf_put(struct phi_wbuf *w, const void *p, size_t n);
/* Write what is buffered. */
int phi_wbuf_flush(struct phi_wbuf *w);

/* ---- slots ---- */

/* Hand one slot to the sink (no sink: nothing to do).  ed receives the edits in
 * strip mode (ctx->out_fd >= 0) and is emptied otherwise. */
int phi_emit(struct phi_fctx *ctx, const struct phi_field *f, struct phi_edits *ed);

/* A free-text slot t[0..n) at file offset off; line and col (1-based, code points)
 * locate t[0] in a line-oriented format, else both are 0.  Text that is not UTF-8
 * is read as Windows-1252 (the text format's fallback: Latin-1 comments from older
 * exporters) and handed over decoded, with a map back to the file bytes, so that
 * "Mar\xeda" is a name to the rules; ed's offsets are then offsets in the decoded
 * text: callers that apply edits use phi_emit_rewrite instead. */
int phi_emit_text(struct phi_fctx *ctx, const unsigned char *t, size_t n, uint64_t off,
                  uint64_t line, uint64_t col, const char *where, struct phi_edits *ed);

/* phi_emit_text, then in strip mode append t with the edits applied to out
 * (replacement bytes through filter when it is not NULL).  A slot read as
 * Windows-1252 is written back in Windows-1252; a replacement character it lacks
 * becomes '?'.  t[0..from) is context only (a keyword such as `mtllib`, ASCII):
 * findings start at from or later; flags are the field's PHI_FF_* (PHI_FF_PATH: the
 * value names a file, and a strip that renames the file rewrites it). */
int phi_emit_rewrite(struct phi_fctx *ctx, const unsigned char *t, size_t n, uint64_t off,
                     uint64_t line, uint64_t col, const char *where, size_t from,
                     unsigned flags, unsigned char (*filter)(unsigned char),
                     struct phi_mbuf *out);

/* The 1-based column of line[k]: one more than the code points before it. */
uint64_t phi_column(const unsigned char *line, size_t k);

/* ---- a bounded line reader over phi_input_read ---- */

struct phi_lines {
	struct phi_fctx *ctx;
	unsigned char *buf;
	size_t cap, start, end;
	int eof;
	uint64_t off;    /* file offset of buf[start] */
	uint64_t lineno; /* number of the line last returned (1-based) */
	size_t max_line;
};

/* max_line: the longest line accepted (longer lines fail with PHI_ELIMIT). */
int phi_lines_init(struct phi_lines *lr, struct phi_fctx *ctx, size_t max_line);
void phi_lines_free(struct phi_lines *lr);
/* Next line: *p, *n (the '\n' included when present), *off its file offset.
 * Returns 1 for a line, 0 at the end of the input, or a negative PHI_E*. */
int phi_lines_next(struct phi_lines *lr, const unsigned char **p, size_t *n, uint64_t *off);
/* The bytes already buffered but not yet returned as lines (the start of a body). */
void phi_lines_rest(const struct phi_lines *lr, const unsigned char **p, size_t *n);

/* Copy the input from where it stands to EOF: hash it into h (may be NULL), write
 * it to ctx->out_fd when write is set; *count receives the byte count. */
int phi_copy_rest(struct phi_fctx *ctx, struct phi_geohash *h, int write, uint64_t *count);

/* A format's core: scan ctx (emitting slots, writing the copy in strip mode) and,
 * when want_hash is set, hash its protected region into hex. */
typedef int (*phi_mesh_run_fn)(struct phi_fctx *ctx, int want_hash, char hex[65]);

/* --verify: re-read the written copy (ctx->out_fd) from its start and run the same
 * parser over it, without a sink and without writing, to hash its protected region.
 * Fails with PHI_EVERIFY when the output cannot be re-read (a pipe). */
int phi_reread_output(struct phi_fctx *ctx, phi_mesh_run_fn run, char hex[65]);
/* The same for a format that checks its copy by parsing it again: scan (the
 * format's own) runs over the copy, with no hash. */
int phi_reread_scan(struct phi_fctx *ctx, int (*scan)(struct phi_fctx *ctx));

/* The whole strip/verify dance of a format: run over the input; in strip mode
 * hash the output's protected region (re-read with --verify, else the bytes handed
 * to write, which run hashed) and record the facts.  what names the region. */
int phi_mesh_scan(struct phi_fctx *ctx, phi_mesh_run_fn run, const char *what);

/* 1 when name ends in suf, ignoring ASCII case. */
int phi_name_has_suffix(const char *name, const char *suf);

#endif
