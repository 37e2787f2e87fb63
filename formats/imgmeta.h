/* imgmeta.h - pieces shared by the image formats (JPEG, PNG, TIFF, WebP, HEIF):
 * loading the input, a capped growable output buffer, emitting metadata text as
 * fields, printable-run extraction for opaque blocks, IPTC-IIM datasets and
 * Photoshop image resources (8BIM).
 *
 * Specs: IPTC-IIM 4.2 (record/dataset layout, 1.5.4 extended length), Adobe
 * Photoshop File Formats Specification "Image Resource Blocks".
 *
 * Threading: reentrant; every function works on the caller's struct phi_fctx.
 * Ownership: struct phi_img_in borrows ctx->head or owns a mapping or a heap copy,
 * released by phi_img_release().  struct phi_dbuf owns its bytes (phi_dbuf_free).
 * Text passed to the emit helpers is borrowed for the call.
 */
#ifndef PHI_IMGMETA_H
#define PHI_IMGMETA_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "sha256.h"

/* The whole input as one read-only byte range. */
struct phi_img_in {
	const unsigned char *p;
	size_t n;
	void *map;          /* mmap of a seekable file, or NULL */
	size_t map_len;
	unsigned char *own; /* heap copy of a pipe, or NULL */
};

/* Map a seekable input, or read a pipe into memory (up to limits->max_image_stdin
 * or --max-size, whichever is smaller).  The mapping is read-only and private.  A
 * file truncated by another process while it is mapped would raise SIGBUS: a page
 * of zeros is mapped in its place instead and phi_img_bus_faults() counts it (the
 * scanner then reports the file unscanned). */
int phi_img_load(struct phi_fctx *ctx, struct phi_img_in *in);
/* SIGBUS faults this thread has survived in its mappings, since it started. */
unsigned long phi_img_bus_faults(void);
/* The same bytes, always read into memory (a file too: no mapping, so a file
 * truncated meanwhile is a short read, "the file shrank while it was read", never
 * a SIGBUS), up to limits->max_image_stdin.  For readers that hand the bytes to a
 * library (PDF: Poppler). */
int phi_img_load_copy(struct phi_fctx *ctx, struct phi_img_in *in);
void phi_img_release(struct phi_img_in *in);

/* Growable byte buffer with a hard maximum (max bytes; an add past it is
 * PHI_ELIMIT, so a buffer left at {0} holds nothing).  p is NULL until the first
 * add. */
struct phi_dbuf {
	unsigned char *p;
	size_t n, cap, max;
};
/* An empty buffer holding at most max bytes. */
void phi_dbuf_init(struct phi_dbuf *b, size_t max);
int phi_dbuf_add(struct phi_dbuf *b, const void *src, size_t n);
int phi_dbuf_u16(struct phi_dbuf *b, unsigned v, int big_endian);
int phi_dbuf_u32(struct phi_dbuf *b, uint32_t v, int big_endian);
void phi_dbuf_free(struct phi_dbuf *b);

/* Emit one metadata value.  Leading and trailing blanks and NULs are trimmed; an
 * empty value emits nothing.  Text that is not valid UTF-8 is read as
 * Windows-1252.  cls == NULL: free text for the rules; else a structured value of
 * that class with rule id rule and severity sev.  offset is the file offset of
 * s[0] (or the base of map, map[i] relative to it, len + 1 entries), or
 * PHI_NO_OFFSET.  Values longer than limits->max_field_len go to the rules in
 * pieces. */
int phi_img_field(struct phi_fctx *ctx, const char *where, const unsigned char *s, size_t n,
                  uint64_t offset, const uint32_t *map, const char *cls, const char *rule,
                  int sev);
/* The same for free text, asking the sink for edits: *flagged is set to 1 when the
 * rules found something in it (a strip must then remove or rewrite the value). */
int phi_img_field_flag(struct phi_fctx *ctx, const char *where, const unsigned char *s,
                       size_t n, uint64_t offset, const uint32_t *map, int *flagged);

/* Scan an opaque block (vendor segment, MakerNote, trailer, unknown chunk): runs
 * of at least 4 printable characters go to the rules, everything else is blanked,
 * so offsets stay 1:1 with the file. */
int phi_img_runs(struct phi_fctx *ctx, const char *where, const unsigned char *p, size_t n,
                 uint64_t offset);

/* IPTC-IIM datasets (0x1C record dataset length value).  Stops quietly at the
 * first byte that does not start a dataset: the rest goes to phi_img_runs. */
int phi_iptc_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset);

/* Photoshop image resources ("8BIM" id name size data): 0x0404 IPTC, 0x0424 XMP,
 * thumbnails skipped, every other resource through phi_img_runs. */
int phi_irb_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset);

/* The facts every image strip records: pixels_verify (when --verify; verdict is
 * "decoded-identical", or what was compared instead), pixels_sha256_in and
 * pixels_sha256_out, and one count (dropped_name = dropped, e.g. "segments_dropped").
 * 0 or PHI_ENOMEM. */
int phi_img_record(struct phi_fctx *ctx, const char *verdict, const char *sha_in,
                   const char *sha_out, const char *dropped_name, unsigned dropped);

/* What a strip did to an ICC profile, when anything: icc_text_tags_blanked = N,
 * icc_profile = "dropped: unreadable".  0 or PHI_ENOMEM. */
int phi_img_icc_facts(struct phi_fctx *ctx, unsigned blanked, int dropped);

/* True when the strip options ask for --verify. */
int phi_img_verify(const struct phi_fctx *ctx);

/* The pixel hash around a JPEG or PNG walk.  begin starts h (PHI_ENOMEM "cannot
 * start SHA-256" when it cannot); end takes the walk's result rc and finishes h
 * into hex when rc is 0, else releases it, and returns rc or PHI_ENOMEM "cannot
 * finish SHA-256".  h NULL: no hash (begin returns 0, end returns rc). */
int phi_img_hash_begin(struct phi_sha256 *h, struct phi_error *err);
int phi_img_hash_end(struct phi_sha256 *h, int rc, char hex[65], struct phi_error *err);

#endif
