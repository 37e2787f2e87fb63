/* meshio.c - helpers shared by the mesh and scanner-container formats (see meshio.h).
 *
 * The geometry proof (issue 4): a format hashes the bytes it promises not to touch
 * while it copies them, and the hash of the same region of the written copy is
 * recorded beside it; with --verify the copy is re-read from the output file with
 * a fresh read-only open, so the check covers what reached the disk, not what was
 * meant to.
 *
 * Threading: reentrant.  Ownership: see meshio.h.
 */
#include "meshio.h"

#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BUF 65536u

int phi_geohash_init(struct phi_geohash *h, struct phi_error *err)
{
	h->bytes = 0;
	if (phi_sha256_init(&h->sha))
		return phi_fail(err, PHI_ENOMEM, "out of memory (SHA-256 context)");
	return 0;
}

void phi_geohash_update(struct phi_geohash *h, const void *p, size_t n)
{
	if (n) {
		phi_sha256_update(&h->sha, p, n);
		h->bytes += n;
	}
}

int phi_geohash_hex(struct phi_geohash *h, char hex[65], struct phi_error *err)
{
	if (phi_sha256_final(&h->sha, hex))
		return phi_fail(err, PHI_ENOMEM, "SHA-256 of the protected bytes failed");
	return 0;
}

void phi_geohash_abort(struct phi_geohash *h)
{
	phi_sha256_abort(&h->sha);
}

int phi_geometry_facts(struct phi_fctx *ctx, const char *in_hex, const char *out_hex,
                       const char *what)
{
	const struct phi_sink_ops *ops = ctx->sink_ops;
	int rc;

	if (strcmp(in_hex, out_hex))
		return phi_fail(ctx->err, PHI_EVERIFY, "%s changed in the copy: nothing written", what);
	if (!ops || !ops->record)
		return 0;
	if ((rc = ops->record(ctx->sink, "geometry_sha256_in", in_hex)) ||
	    (rc = ops->record(ctx->sink, "geometry_sha256_out", out_hex)))
		return rc;
	if (ctx->sopts->flags & PHI_SO_VERIFY)
		return ops->record(ctx->sink, "geometry_verified", "yes");
	return 0;
}

int phi_mbuf_put(struct phi_mbuf *b, const void *src, size_t n, struct phi_error *err)
{
	if (n == 0)
		return 0;
	if (n > b->max || b->n > b->max - n)
		return phi_fail(err, PHI_ELIMIT, "a rewritten text slot exceeds %zu bytes", b->max);
	if (b->n + n > b->cap) {
		size_t c = b->cap ? b->cap : 256;
		while (c < b->n + n)
			c = c > b->max / 2 ? b->max : c * 2;
		unsigned char *t = realloc(b->p, c);
		if (!t)
			return phi_fail(err, PHI_ENOMEM, "out of memory");
		b->p = t;
		b->cap = c;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
	return 0;
}

void phi_mbuf_free(struct phi_mbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

int phi_apply_edits(const unsigned char *t, size_t n, const struct phi_edits *ed,
                    unsigned char (*filter)(unsigned char), struct phi_mbuf *out,
                    struct phi_error *err)
{
	size_t pos = 0;
	int rc;

	for (size_t i = 0; ed && i < ed->n; i++) {
		const struct phi_edit *e = &ed->v[i];
		size_t a = e->start, z = e->end;
		if (a < pos || a > n)
			continue; /* not sorted or outside: the sink promises otherwise */
		if (z > n)
			z = n;
		if (z < a)
			z = a;
		if ((rc = phi_mbuf_put(out, t + pos, a - pos, err)))
			return rc;
		for (size_t k = 0; k < e->repl_len; k++) {
			unsigned char c = (unsigned char)e->repl[k];
			if (filter)
				c = filter(c);
			if ((rc = phi_mbuf_put(out, &c, 1, err)))
				return rc;
		}
		pos = z;
	}
	return phi_mbuf_put(out, t + pos, n - pos, err);
}

int phi_wbuf_flush(struct phi_wbuf *w)
{
	int rc = w->n ? phi_output_write(w->ctx, w->b, w->n) : 0;
	w->n = 0;
	return rc;
}

int phi_wbuf_put(struct phi_wbuf *w, const void *p, size_t n)
{
	int rc;
	if (n > sizeof w->b - w->n && (rc = phi_wbuf_flush(w)))
		return rc;
	if (n > sizeof w->b)
		return phi_output_write(w->ctx, p, n);
	memcpy(w->b + w->n, p, n);
	w->n += n;
	return 0;
}

int phi_emit(struct phi_fctx *ctx, const struct phi_field *f, struct phi_edits *ed)
{
	ed->v = NULL;
	ed->n = 0;
	if (!ctx->sink_ops || !ctx->sink_ops->field)
		return 0;
	return ctx->sink_ops->field(ctx->sink, f, ctx->out_fd >= 0 ? ed : NULL);
}

uint64_t phi_column(const unsigned char *line, size_t k)
{
	uint64_t col = 1;
	for (size_t i = 0; i < k; i++)
		col += (line[i] & 0xC0) != 0x80;
	return col;
}

/* The slot as the rules see it: t itself, or its Windows-1252 decoding. */
struct slot_text {
	const unsigned char *t;
	size_t n;
	unsigned char *dec; /* owned when decoded */
	uint32_t *map;
};

static int slot_text(struct phi_fctx *ctx, const unsigned char *t, size_t n, struct slot_text *st)
{
	memset(st, 0, sizeof *st);
	st->t = t;
	st->n = n;
	if (phi_utf8_valid(t, n, 0))
		return 0;
	st->dec = malloc(3 * n + 1);
	st->map = malloc((3 * n + 1) * sizeof *st->map);
	if (!st->dec || !st->map) /* the caller's slot_text_free releases what was had */
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	st->n = phi_cp1252_to_utf8(t, n, st->dec, st->map);
	st->t = st->dec;
	return 0;
}

static void slot_text_free(struct slot_text *st)
{
	free(st->dec);
	free(st->map);
}

static int emit_slot_text(struct phi_fctx *ctx, const struct slot_text *st, uint64_t off,
                          uint64_t line, uint64_t col, const char *where, size_t from,
                          unsigned flags, struct phi_edits *ed)
{
	struct phi_field f = {
		.text = (const char *)st->t,
		.len = st->n,
		.kind = PHI_FIELD_TEXT,
		.where = where,
		.offset = off,
		.map = st->map,
		.line = line,
		.col = col,
		.report_from = from < st->n ? from : st->n,
		.report_to = st->n,
		.flags = flags,
	};
	return phi_emit(ctx, &f, ed);
}

int phi_emit_text(struct phi_fctx *ctx, const unsigned char *t, size_t n, uint64_t off,
                  uint64_t line, uint64_t col, const char *where, struct phi_edits *ed)
{
	struct slot_text st;
	int rc = slot_text(ctx, t, n, &st);
	if (!rc)
		rc = emit_slot_text(ctx, &st, off, line, col, where, 0, 0, ed);
	slot_text_free(&st);
	return rc;
}

int phi_emit_rewrite(struct phi_fctx *ctx, const unsigned char *t, size_t n, uint64_t off,
                     uint64_t line, uint64_t col, const char *where, size_t from,
                     unsigned flags, unsigned char (*filter)(unsigned char),
                     struct phi_mbuf *out)
{
	struct slot_text st;
	struct phi_edits ed;
	struct phi_mbuf u8 = {.max = out->max};
	int rc = slot_text(ctx, t, n, &st);
	if (!rc)
		rc = emit_slot_text(ctx, &st, off, line, col, where, from, flags, &ed);
	if (!rc && ctx->out_fd >= 0) {
		if (!st.dec) {
			rc = phi_apply_edits(t, n, &ed, filter, out, ctx->err);
		} else if (!(rc = phi_apply_edits(st.t, st.n, &ed, filter, &u8, ctx->err))) {
			for (size_t i = 0; !rc && i < u8.n;) {
				uint32_t cp;
				i += phi_utf8_get(u8.p + i, u8.n - i, &cp);
				int b = phi_cp1252_byte(cp);
				unsigned char c = b < 0 ? '?' : (unsigned char)b;
				rc = phi_mbuf_put(out, &c, 1, ctx->err);
			}
		}
	}
	phi_mbuf_free(&u8);
	slot_text_free(&st);
	return rc;
}

int phi_lines_init(struct phi_lines *lr, struct phi_fctx *ctx, size_t max_line)
{
	memset(lr, 0, sizeof *lr);
	lr->ctx = ctx;
	lr->max_line = max_line;
	lr->cap = max_line + COPY_BUF;
	lr->off = ctx->head_pos;
	lr->buf = malloc(lr->cap);
	if (!lr->buf)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	return 0;
}

void phi_lines_free(struct phi_lines *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

int phi_lines_next(struct phi_lines *lr, const unsigned char **p, size_t *n, uint64_t *off)
{
	size_t scanned = 0;
	for (;;) {
		size_t have = lr->end - lr->start;
		const unsigned char *nl =
			have > scanned ? memchr(lr->buf + lr->start + scanned, '\n', have - scanned) : NULL;
		if (nl || (lr->eof && have)) {
			size_t len = nl ? (size_t)(nl - (lr->buf + lr->start)) + 1 : have;
			if (len > lr->max_line)
				return phi_fail_at(lr->ctx->err, PHI_ELIMIT, lr->off,
				                   "line longer than %zu bytes", lr->max_line);
			*p = lr->buf + lr->start;
			*n = len;
			*off = lr->off;
			lr->start += len;
			lr->off += len;
			lr->lineno++;
			return 1;
		}
		if (lr->eof)
			return 0;
		if (have > lr->max_line)
			return phi_fail_at(lr->ctx->err, PHI_ELIMIT, lr->off, "line longer than %zu bytes",
			                   lr->max_line);
		scanned = have;
		if (lr->start) {
			memmove(lr->buf, lr->buf + lr->start, have);
			lr->start = 0;
			lr->end = have;
		}
		long r = phi_input_read(lr->ctx, lr->buf + lr->end, lr->cap - lr->end);
		if (r < 0)
			return (int)r;
		if (r == 0)
			lr->eof = 1;
		lr->end += (size_t)r;
	}
}

void phi_lines_rest(const struct phi_lines *lr, const unsigned char **p, size_t *n)
{
	*p = lr->buf + lr->start;
	*n = lr->end - lr->start;
}

int phi_copy_rest(struct phi_fctx *ctx, struct phi_geohash *h, int write, uint64_t *count)
{
	unsigned char stackbuf[4096];
	unsigned char *buf = ctx->buf && ctx->buf_cap >= COPY_BUF ? ctx->buf : stackbuf;
	size_t cap = buf == stackbuf ? sizeof stackbuf : COPY_BUF;
	uint64_t total = 0;
	int rc;

	for (;;) {
		long r = phi_input_read(ctx, buf, cap);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		if (h)
			phi_geohash_update(h, buf, (size_t)r);
		if (write && (rc = phi_output_write(ctx, buf, (size_t)r)))
			return rc;
		total += (uint64_t)r;
	}
	if (count)
		*count = total;
	return 0;
}

int phi_name_has_suffix(const char *name, const char *suf)
{
	if (!name)
		return 0;
	size_t a = strlen(name), b = strlen(suf);
	return a >= b && strcasecmp(name + a - b, suf) == 0;
}

/* phi_reread_output and phi_reread_scan: the copy re-opened and handed to run
 * (with a hash into hex) or to scan (without). */
static int reread(struct phi_fctx *ctx, phi_mesh_run_fn run, int (*scan)(struct phi_fctx *),
                  char hex[65])
{
	struct stat st;
	struct phi_fctx rd;
	unsigned char *head;
	char self[64];
	size_t hn = 0;
	int rc, fd;

	if (fstat(ctx->out_fd, &st) || !S_ISREG(st.st_mode))
		return phi_fail(ctx->err, PHI_EVERIFY, "--verify needs an output file it can re-read");
	/* A fresh open file description: the output may be write-only (filter > file),
	 * and its offset must not move. */
	snprintf(self, sizeof self, "/proc/self/fd/%d", ctx->out_fd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return phi_fail(ctx->err, PHI_EVERIFY, "--verify cannot re-open the written copy: %s",
		                strerror(errno));
	head = malloc(PHI_HEAD_SIZE);
	if (!head) {
		close(fd);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory");
	}
	while (hn < PHI_HEAD_SIZE) {
		ssize_t r = read(fd, head + hn, PHI_HEAD_SIZE - hn);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(head);
			close(fd);
			return phi_fail(ctx->err, PHI_EIO, "cannot re-read the written copy: %s",
			                strerror(errno));
		}
		if (r == 0)
			break;
		hn += (size_t)r;
	}
	rd = *ctx;
	rd.fd = fd;
	rd.size = (uint64_t)st.st_size;
	rd.head = head;
	rd.head_len = hn;
	rd.head_pos = 0;
	rd.out_fd = -1;
	rd.sink_ops = NULL;
	rd.sink = NULL;
	rd.in_bytes = 0;
	rc = run ? run(&rd, 1, hex) : scan(&rd);
	free(head);
	close(fd);
	if (rc == PHI_EFORMAT || rc == PHI_ELIMIT)
		return phi_fail(ctx->err, PHI_EVERIFY, "the written copy does not parse again: nothing written");
	return rc;
}

int phi_reread_output(struct phi_fctx *ctx, phi_mesh_run_fn run, char hex[65])
{
	return reread(ctx, run, NULL, hex);
}

int phi_reread_scan(struct phi_fctx *ctx, int (*scan)(struct phi_fctx *ctx))
{
	return reread(ctx, NULL, scan, NULL);
}

int phi_mesh_scan(struct phi_fctx *ctx, phi_mesh_run_fn run, const char *what)
{
	char in[65] = "", out[65] = "";
	int strip = ctx->out_fd >= 0;
	int rc = run(ctx, strip, in);

	if (rc || !strip)
		return rc;
	if (ctx->sopts->flags & PHI_SO_VERIFY) {
		if ((rc = phi_reread_output(ctx, run, out)))
			return rc;
	} else {
		memcpy(out, in, sizeof out);
	}
	return phi_geometry_facts(ctx, in, out, what);
}
