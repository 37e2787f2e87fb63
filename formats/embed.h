/* embed.h - files carried inside a document as base64 data: URIs (RFC 2397), such
 * as a photo or a screenshot in an HTML order form (<img src="data:image/jpeg;
 * base64,...">): the photo's Exif names the patient as a file of its own would.
 *
 * The payload is decoded and scanned by the format its bytes belong to (format.h,
 * phi_format_detect), in a memory file, as if it were a file; its findings reach the
 * document's sink with `where` saying where they are ("img@src data:image/jpeg: Exif
 * IFD0 Artist (0x013b)") and no byte offset (the bytes are base64 in the document).
 * A strip strips it there and hands back the new payload in base64.  What cannot be
 * read fails the document, never passes it: a payload no format claims, one too
 * large (limits->max_inflate), data: URIs nested deeper than two, a payload whose
 * format scans but cannot strip (PDF, WebP, HEIF) when a strip finds identifiers in
 * it.  Records (facts) of the inner scan are not kept: the document's manifest
 * entry describes the document.
 *
 * Threading: reentrant; the nesting depth is counted per thread.  Ownership: the
 * caller's buffers are borrowed for the call; *out is the caller's (appended to).
 */
#ifndef PHI_EMBED_H
#define PHI_EMBED_H

#include <stddef.h>

#include "format.h"
#include "meshio.h"

/* v[0..n): an attribute value.  *payload_at: 0 when v is not a base64 data: URI (the
 * caller treats it as before: text), else the offset in v where the base64 payload
 * starts (it runs to n), after it was decoded and scanned.  Strip (ctx->out_fd >=
 * 0): *changed tells whether the payload's copy differs, and then out holds its new
 * base64.  where names the place in the document ("img@src").  0 or PHI_E*. */
int phi_embed_data_uri(struct phi_fctx *ctx, const unsigned char *v, size_t n,
                       const char *where, size_t *payload_at, int *changed,
                       struct phi_mbuf *out);

#endif
