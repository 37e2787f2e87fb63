/* embed.c - base64 data: URIs scanned and stripped by the format of their payload
 * (embed.h).  RFC 2397: data:[<mediatype>][;base64],<data>; only the base64 form
 * is decoded (its bytes are opaque in the document); a percent-encoded one is text
 * and stays the caller's.
 */
#include "embed.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define EMBED_MAX_DEPTH 2
#define EMBED_SCRATCH (64u << 10)

static _Thread_local int depth;

/* The sink the payload's format talks to: its fields go on to the document's sink
 * under the document's place, without offsets; its records are dropped.  A strip
 * of a payload whose format cannot strip scans it only, and asks the document's
 * sink for the edits all the same, to learn whether it held identifiers. */
struct inner {
	const struct phi_sink_ops *ops;
	void *sink;
	char prefix[96];
	bool count_edits;
	size_t edits;
};

static int inner_field(void *sink, const struct phi_field *f, struct phi_edits *edits)
{
	struct inner *in = sink;
	char where[256];
	snprintf(where, sizeof where, "%s: %s", in->prefix, f->where ? f->where : "text");
	struct phi_field g = *f;
	g.where = where;
	g.offset = PHI_NO_OFFSET;
	g.map = NULL;
	g.line = g.col = 0;
	if (edits || !in->count_edits)
		return in->ops->field(in->sink, &g, edits);
	struct phi_edits e = {0};
	int rc = in->ops->field(in->sink, &g, &e);
	in->edits += e.n;
	return rc;
}

static int inner_record(void *sink, const char *name, const char *value)
{
	(void)sink;
	(void)name;
	(void)value;
	return 0;
}

static const struct phi_sink_ops inner_ops = {.field = inner_field, .record = inner_record};

/* The payload offset of a base64 data: URI in v, or 0. */
static size_t base64_payload(const unsigned char *v, size_t n, char mime[48])
{
	if (n < 6 || strncasecmp((const char *)v, "data:", 5))
		return 0;
	const unsigned char *comma = memchr(v, ',', n);
	if (!comma)
		return 0;
	size_t c = (size_t)(comma - v);
	if (c < 12 || strncasecmp((const char *)comma - 7, ";base64", 7))
		return 0;
	size_t m = 5;
	while (m < c && v[m] != ';' && m - 5 < 47)
		m++;
	memcpy(mime, v + 5, m - 5);
	mime[m - 5] = 0;
	if (!mime[0])
		snprintf(mime, 48, "text/plain");
	for (char *p = mime; *p; p++)
		if (!(*p == '/' || *p == '+' || *p == '-' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
			*p = '?'; /* the media type is echoed in messages: no control bytes */
	return c + 1;
}

/* The whole of fd (a memory file of size n), read into *p. */
static int read_back(int fd, size_t n, unsigned char **p, struct phi_error *err)
{
	*p = malloc(n ? n : 1);
	if (!*p)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	for (size_t got = 0; got < n;) {
		ssize_t r = pread(fd, *p + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return phi_fail(err, PHI_EIO, "cannot read an embedded copy back");
		got += (size_t)r;
	}
	return 0;
}

/* Scan (and strip) the decoded payload d[0..dn) with its format. */
static int scan_payload(struct phi_fctx *ctx, const unsigned char *d, size_t dn, const char *mime,
                        const char *where, int *changed, struct phi_mbuf *out)
{
	struct phi_error *err = ctx->err;
	size_t hn = dn < PHI_HEAD_SIZE ? dn : PHI_HEAD_SIZE;
	const struct phi_format *fmt = phi_format_detect(d, hn, NULL);
	if (!fmt)
		return phi_fail(err, PHI_ENOTSUP,
		                "a data: URI in %s (%s) holds %s data, which phiscan does not read",
		                where, mime, phi_format_guess(d, hn, NULL));
	bool strip = ctx->out_fd >= 0;
	int in_fd = memfd_create("phiscan-embedded", MFD_CLOEXEC), out_fd = -1, rc = 0;
	unsigned char *scratch = malloc(EMBED_SCRATCH), *copy = NULL;
	void *state = NULL;
	struct phi_error ierr = {.offset = PHI_NO_OFFSET};
	struct inner in = {.ops = ctx->sink_ops, .sink = ctx->sink,
	                   .count_edits = strip && !fmt->can_strip};
	snprintf(in.prefix, sizeof in.prefix, "%s data:%s", where, mime);
	if (in_fd < 0 || !scratch || (strip && (out_fd = memfd_create("phiscan-embedded-copy",
	                                                               MFD_CLOEXEC)) < 0)) {
		rc = phi_fail(err, PHI_EIO, "cannot hold an embedded file: %s", strerror(errno));
		goto out;
	}
	struct phi_fctx hold = {.out_fd = in_fd, .err = err};
	if ((rc = phi_output_write(&hold, d, dn)))
		goto out;
	if (lseek(in_fd, (off_t)hn, SEEK_SET) < 0) {
		rc = phi_fail(err, PHI_EIO, "cannot hold an embedded file: %s", strerror(errno));
		goto out;
	}
	struct phi_fctx sub = {.path = ctx->path, .fd = in_fd, .size = dn, .head = d, .head_len = hn,
	                       .out_fd = strip && fmt->can_strip ? out_fd : -1,
	                       .limits = ctx->limits, .err = &ierr, .sink_ops = &inner_ops,
	                       .sink = &in, .buf = scratch, .buf_cap = EMBED_SCRATCH,
	                       .sopts = ctx->sopts, .state = &state};
	depth++;
	int irc = fmt->scan(&sub);
	depth--;
	if (fmt->free_state && state)
		fmt->free_state(state);
	if (irc) {
		rc = phi_fail(err, irc, "a data: URI in %s (%s): %s", where, mime,
		              ierr.msg[0] ? ierr.msg : phi_strerror(irc));
		goto out;
	}
	if (!strip)
		goto out;
	if (!fmt->can_strip) {
		/* scanned only: a clean payload stays as it is; identifiers in one cannot */
		if (in.edits)
			rc = phi_fail(err, PHI_ENOTSUP, "a data: URI in %s (%s): the %s format cannot be "
			              "stripped yet", where, mime, fmt->name);
		goto out;
	}
	off_t cn = lseek(out_fd, 0, SEEK_END);
	if (cn < 0 || (rc = read_back(out_fd, (size_t)cn, &copy, err)))
		goto out;
	*changed = (size_t)cn != dn || memcmp(copy, d, dn);
	if (*changed) {
		size_t bn = sodium_base64_encoded_len((size_t)cn, sodium_base64_VARIANT_ORIGINAL);
		char *b = malloc(bn);
		if (!b) {
			rc = phi_fail(err, PHI_ENOMEM, "out of memory");
			goto out;
		}
		sodium_bin2base64(b, bn, copy, (size_t)cn, sodium_base64_VARIANT_ORIGINAL);
		rc = phi_mbuf_put(out, b, strlen(b), err);
		free(b);
	}
out:
	free(copy);
	free(scratch);
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	return rc;
}

int phi_embed_data_uri(struct phi_fctx *ctx, const unsigned char *v, size_t n,
                       const char *where, size_t *payload_at, int *changed,
                       struct phi_mbuf *out)
{
	char mime[48];
	size_t at = base64_payload(v, n, mime);
	*payload_at = 0;
	*changed = 0;
	if (!at)
		return 0;
	size_t cap = (n - at) / 4 * 3 + 3;
	if (cap > ctx->limits->max_inflate)
		return phi_fail(ctx->err, PHI_ELIMIT,
		                "a data: URI in %s (%s) decodes to more than %zu bytes", where, mime,
		                ctx->limits->max_inflate);
	if (depth >= EMBED_MAX_DEPTH)
		return phi_fail(ctx->err, PHI_ELIMIT, "data: URIs nested deeper than %d in %s",
		                EMBED_MAX_DEPTH, where);
	unsigned char *d = malloc(cap ? cap : 1);
	if (!d)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	size_t dn = 0;
	if (sodium_base642bin(d, cap, (const char *)v + at, n - at, " \t\r\n", &dn, NULL,
	                      sodium_base64_VARIANT_ORIGINAL)) {
		free(d);
		return 0; /* not base64 after all: no reader decodes it either; text, as before */
	}
	*payload_at = at;
	int rc = scan_payload(ctx, d, dn, mime, where, changed, out);
	free(d);
	return rc;
}
