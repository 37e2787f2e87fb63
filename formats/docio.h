/* docio.h - what the structured text formats (XML, JSON, HTML) share: the whole
 * input loaded and decoded to UTF-8 with a map back to file bytes, values made of
 * pieces that remember where each decoded byte came from, and a writer that copies
 * every input byte except the replaced value bytes, encoding replacements in the
 * file's own encoding.  3Shape HPS (XML of its own) uses the whole-input loader,
 * the start-tag attribute and reference readers and the name sanitiser.
 *
 * A document (struct phi_doc) is the input's bytes (mapped, or read whole from a
 * pipe) and t, its text as UTF-8 without BOM.  For UTF-8 input t points into the
 * input and tmap is NULL; for UTF-16LE/BE (with BOM, or XML starting "<" without
 * one) t is decoded and tmap[i] is the input offset of the code unit that produced
 * t[i].  Parsers work on t only; file offsets come from phi_doc_off().
 *
 * A value (struct phi_val) is decoded text a parser hands to the rules, built from
 * pieces: PHI_PIECE_RAW bytes copied 1:1 from t (plain text, CDATA), PHI_PIECE_REF
 * bytes decoded from one reference or escape (&amp; \u00e9 CRLF) that maps whole to
 * its t range, and PHI_PIECE_SEP bytes the parser inserted (a space for a tag it
 * stripped) that stand for no input byte.  Edits on a value become edits of t
 * ranges: a RAW piece is cut where the edit says, a REF piece goes whole, a SEP
 * piece and the markup between pieces are never touched.
 *
 * Threading: reentrant.  Ownership: a struct phi_doc owns its buffers until
 * phi_doc_free; a struct phi_val and struct phi_dedits own theirs until their free
 * call.  Fields handed to the sink borrow the value.
 */
#ifndef PHI_DOCIO_H
#define PHI_DOCIO_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "meshio.h"

/* Largest document read (mapped files and pipes alike): field maps are uint32. */
#define PHI_DOC_MAX ((size_t)1 << 30)
/* Bytes after a free-text value given to the rules as context (look-ahead). */
#define PHI_DOC_SUFFIX 32u

enum phi_denc { PHI_DENC_UTF8, PHI_DENC_UTF8_BOM, PHI_DENC_UTF16LE, PHI_DENC_UTF16BE };

struct phi_doc {
	const unsigned char *raw; /* the input bytes */
	size_t raw_len;
	enum phi_denc enc;
	size_t bom;               /* BOM bytes at the start of raw */
	const unsigned char *t;   /* UTF-8 text (no BOM) */
	size_t len;
	uint32_t *tmap;           /* NULL (t[i] is raw[bom + i]) or len + 1 input offsets */
	unsigned char *tbuf;      /* owned decoded text */
	unsigned char *owned;     /* owned input (read from a pipe) */
	int mapped;
};

/* The whole input of ctx, for a parser that needs it in one piece: a regular file
 * mapped (*mapped = 1: munmap *buf, *len bytes), else read to its end into *buf
 * (owned by the caller: free it; NULL when the input is empty), at most most bytes:
 * past that PHI_ELIMIT "WHAT input larger than MOST bytes".  docio's own loading
 * and 3Shape HPS use it. */
int phi_input_whole(struct phi_fctx *ctx, const char *what, size_t most, unsigned char **buf,
                    size_t *len, int *mapped);

/* Load and decode the input of ctx.  what names the format in messages ("XML").
 * Odd-length UTF-16 and unpaired surrogates fail with PHI_EFORMAT. */
int phi_doc_load(struct phi_fctx *ctx, struct phi_doc *d, const char *what);
void phi_doc_free(struct phi_doc *d);
/* Input offset of t index i (i <= len). */
static inline uint64_t phi_doc_off(const struct phi_doc *d, size_t i)
{
	return d->tmap ? d->tmap[i] : (uint64_t)(d->bom + i);
}

/* Detection helper: the first characters of head as ASCII (BOM skipped, UTF-16
 * decoded loosely, other characters as '?'), NUL-terminated; returns the length. */
size_t phi_doc_sniff(const unsigned char *head, size_t n, char *out, size_t cap);
/* Index of the first non-blank character of s at or after i. */
size_t phi_doc_skip_ws(const char *s, size_t i);

enum { PHI_PIECE_RAW = 1, PHI_PIECE_REF = 2, PHI_PIECE_SEP = 4, PHI_PIECE_CDATA = 8 };

struct phi_piece {
	uint32_t ta, tb; /* t range the piece came from (SEP: an empty range) */
	uint32_t va, vb; /* range in the value text */
	unsigned flags;
};

struct phi_val {
	struct phi_mbuf text;
	struct phi_piece *pc;
	size_t npc, cappc;
};

void phi_val_reset(struct phi_val *v);
void phi_val_free(struct phi_val *v);
/* Append decoded bytes s[0..n) that came from t[ta..tb) with the given kind; a RAW
 * piece contiguous with the previous RAW piece extends it. */
int phi_val_add(struct phi_val *v, const void *s, size_t n, size_t ta, size_t tb,
                unsigned flags, struct phi_error *err);

/* Replacement edits in t offsets, collected over a document and written at once. */
struct phi_dedit {
	size_t a, b;   /* t range replaced */
	size_t ro, rn; /* replacement bytes (UTF-8) in the repl buffer */
};

struct phi_dedits {
	struct phi_dedit *v;
	size_t n, cap;
	struct phi_mbuf repl;
};

void phi_dedits_free(struct phi_dedits *e);
/* One edit made by the format itself: t[a..b) becomes r[0..rn) (UTF-8, written as
 * it is: the caller escaped it for where it lands). */
int phi_dedits_add(struct phi_dedits *e, size_t a, size_t b, const unsigned char *r, size_t rn,
                   struct phi_error *err);

/* Escapes applied to replacement text for where it lands. */
typedef int (*phi_escape_fn)(struct phi_mbuf *out, const unsigned char *p, size_t n,
                             unsigned piece_flags, struct phi_error *err);

/* The emission of one value: field is the template (text, len, offset and map
 * are filled here).  prefix_ta..v: when prefix_ta < the first piece's ta, the t
 * bytes [prefix_ta, first ta) are put before the value as context for the rules
 * (report_from skips them) and up to PHI_DOC_SUFFIX bytes after it (report_to
 * stops before them); prefix_ta == the first ta gives the suffix alone, a larger
 * one no context; a structured value (PHI_FIELD_VALUE) never gets any.
 * The sink's edits become t edits in out (escaped by esc), when out is not NULL. */
int phi_val_emit(struct phi_fctx *ctx, const struct phi_doc *d, const struct phi_val *v,
                 size_t prefix_ta, struct phi_field *field, phi_escape_fn esc,
                 struct phi_dedits *out);

/* Write the copy: every input byte, with each edit's t range replaced by its
 * text encoded in the document's encoding.  Edits must not overlap (sorted here). */
int phi_doc_write(struct phi_fctx *ctx, const struct phi_doc *d, struct phi_dedits *e);

/* --verify (nothing without it): the copy just written is read back through a fresh
 * descriptor (phi_reread_scan) by scan, the format's own, which then has no sink
 * and no output, and must parse again (the edits were escaped for where they
 * landed); then the fact `fact` = "re-read and parsed" is recorded.  PHI_EVERIFY
 * when the copy does not parse. */
int phi_doc_verify(struct phi_fctx *ctx, int (*scan)(struct phi_fctx *ctx), const char *fact);

/* A value an earlier strip already replaced: a class tag ("[NAME]"), a keyed hash
 * tag ("[NAME:0123...]") or a mask with no letter or digit left.  A structured
 * value flagged by its element alone would otherwise never scan clean. */
int phi_val_is_replaced(const unsigned char *t, size_t n);
/* Only blanks (space, tab, CR, LF). */
int phi_is_blank(const unsigned char *t, size_t n);

/* Next attribute of the XML start tag t[0..n) (its raw bytes, from '<') from *i,
 * which starts at 0: name [*ns, *ne), raw value [*vs, *ve) without its quotes.
 * 0, or -1 when there is none.  XML and 3Shape HPS find attributes with it. */
int phi_xml_next_attr(const unsigned char *t, size_t n, size_t *i, size_t *ns, size_t *ne,
                      size_t *vs, size_t *ve);

/* The XML reference at t[0..n), where t[0] is '&' (XML 1.0 4.1, 4.6): one of the
 * five predefined entities, or a character reference (&#N; &#xH;, up to 8 digits).
 * Its character goes to out as UTF-8 (room for 4 bytes), *k = its length; returns
 * the reference's length in t, or 0 (out and *k untouched) when none starts there. */
size_t phi_xml_ref(const unsigned char *t, size_t n, unsigned char out[4], size_t *k);

/* An element, attribute or property name as shown in `where` (cap bytes with its
 * NUL, cut when longer): ASCII letters, digits, '.', '_' and '-' kept, any other
 * byte '?'. */
void phi_xml_name_sanitise(char *dst, size_t cap, const char *src);

#endif
