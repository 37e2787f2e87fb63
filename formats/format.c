/* format.c - shared helpers of the format interface: errors, limits, input and
 * output plumbing, and content detection over the format table.
 *
 * Threading: reentrant; phi_formats[] is read-only.
 */
#include "format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int vfail(struct phi_error *err, int code, uint64_t offset, const char *fmt,
                 va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->offset = offset;
	/* ap comes from va_start in the callers below; the analyzer loses track of it */
	vsnprintf(err->msg, sizeof err->msg, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	return code;
}

int phi_fail(struct phi_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, code, PHI_NO_OFFSET, fmt, ap);
	va_end(ap);
	return code;
}

int phi_fail_at(struct phi_error *err, int code, uint64_t offset, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, code, offset, fmt, ap);
	va_end(ap);
	return code;
}

const char *phi_strerror(int code)
{
	switch (code) {
	case PHI_OK: return "success";
	case PHI_ENOMEM: return "out of memory";
	case PHI_EIO: return "I/O error";
	case PHI_EFORMAT: return "malformed input";
	case PHI_ELIMIT: return "limit exceeded";
	case PHI_EUSAGE: return "usage error";
	case PHI_ERULE: return "bad rule pack";
	case PHI_ENOTSUP: return "not supported";
	case PHI_EVERIFY: return "verification failed";
	case PHI_EEXIST: return "already exists";
	case PHI_ESKIP: return "not written";
	default: return "unknown error";
	}
}

char *phi_memdup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

int phi_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *t = realloc(*v, nc * size);
	if (!t)
		return PHI_ENOMEM;
	*v = t;
	*cap = nc;
	return 0;
}

void phi_limits_default(struct phi_limits *lim)
{
	lim->max_file_size = 0;
	lim->chunk_size = 1u << 20;
	lim->mesh_max_line = 1u << 20;
	lim->ply_max_header = 1u << 20;
	lim->ply_max_elements = 64;
	lim->ply_max_props = 256;
	lim->obj_max_names = 1u << 20;
	lim->hps_max_stream = (size_t)1 << 30;
	lim->max_line_context = 4096;
	lim->max_field_len = 1u << 20;
	lim->max_inflate = 64u << 20;
	lim->max_depth = 64;
	lim->max_archive_depth = 4;
	lim->max_archive_entries = 65536;
	lim->max_entry_size = 1ull << 30;
	lim->max_archive_total = 8ull << 30;
	lim->max_archive_ratio = 100;
	lim->archive_ratio_floor = 16u << 20;
	lim->max_image_stdin = (size_t)1 << 30;
	lim->max_image_out = (size_t)4 << 30;
	lim->max_verify_bytes = (size_t)1 << 30;
	lim->max_ifds = 512;
	lim->max_ifd_entries = 4096;
	lim->max_ifd_depth = 8;
	lim->max_pages = 4096;
	lim->max_strips = (size_t)1 << 20;
	lim->max_items = 1024;
	lim->max_ext_xmp = 4;
}

long phi_input_read(struct phi_fctx *ctx, void *dst, size_t n)
{
	size_t got = 0;
	unsigned char *d = dst;

	if (ctx->head_pos < ctx->head_len) {
		size_t k = ctx->head_len - ctx->head_pos;
		if (k > n)
			k = n;
		memcpy(d, ctx->head + ctx->head_pos, k);
		ctx->head_pos += k;
		got = k;
	}
	while (got < n) {
		ssize_t r = read(ctx->fd, d + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* opened O_NONBLOCK (scan.c: read_head) on a file system that honours it */
			if (errno == EAGAIN &&
			    fcntl(ctx->fd, F_SETFL, fcntl(ctx->fd, F_GETFL) & ~O_NONBLOCK) == 0)
				continue;
			return phi_fail(ctx->err, PHI_EIO, "read failed: %s", strerror(errno));
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	ctx->in_bytes += got;
	return (long)got;
}

int phi_output_write(struct phi_fctx *ctx, const void *src, size_t n)
{
	const unsigned char *s = src;
	while (n > 0) {
		ssize_t w = write(ctx->out_fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return phi_fail(ctx->err, PHI_EIO, "write failed: %s", strerror(errno));
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int phi_output_writev(struct phi_fctx *ctx, const struct phi_span *v, int n)
{
	struct iovec iov[8];
	if (n < 0 || n > 8)
		return phi_fail(ctx->err, PHI_EUSAGE, "too many pieces to write");
	int k = 0;
	for (int i = 0; i < n; i++)
		if (v[i].n)
			iov[k++] = (struct iovec){(void *)v[i].p, v[i].n};
	for (int i = 0; i < k;) {
		ssize_t w = writev(ctx->out_fd, iov + i, k - i);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return phi_fail(ctx->err, PHI_EIO, "write failed: %s", strerror(errno));
		}
		/* past the pieces written whole, into the one written in part */
		while (i < k && (size_t)w >= iov[i].iov_len)
			w -= (ssize_t)iov[i++].iov_len;
		if (i < k) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

const struct phi_format *phi_format_detect(const unsigned char *head, size_t n,
                                           const char *name)
{
	const struct phi_format *best = NULL;
	int best_score = 0;
	for (size_t i = 0; phi_formats[i]; i++) {
		int s = phi_formats[i]->detect(head, n, name);
		if (s > best_score) {
			best_score = s;
			best = phi_formats[i];
		}
	}
	return best;
}

static bool has_suffix(const char *name, const char *suf)
{
	size_t a = name ? strlen(name) : 0, b = strlen(suf);
	return a >= b && strcasecmp(name + a - b, suf) == 0;
}

const char *phi_format_guess(const unsigned char *h, size_t n, const char *name)
{
	if (n >= 132 && memcmp(h + 128, "DICM", 4) == 0)
		return "dicom";
	if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
		return "jpeg";
	if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "png";
	if (n >= 4 && (memcmp(h, "II*\0", 4) == 0 || memcmp(h, "MM\0*", 4) == 0))
		return "tiff";
	if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0)
		return "zip";
	if (n >= 4 && memcmp(h, "ply\n", 4) == 0)
		return "ply";
	if (has_suffix(name, ".stl"))
		return "stl";
	if (has_suffix(name, ".dcm"))
		return "dicom";
	/* Text formats named by their extension: a case.json or jaw.obj that no handler
	 * takes (binary bytes in it, say) is malformed, and a gate fails closed on it
	 * instead of skipping it as junk (issue 7, bad-input row obj-binary-body: the
	 * "# Patient: ..." comment in front of the bytes passed unscanned). */
	if (has_suffix(name, ".obj"))
		return "obj";
	if (has_suffix(name, ".mtl"))
		return "mtl";
	if (has_suffix(name, ".json"))
		return "json";
	if (has_suffix(name, ".xml"))
		return "xml";
	if (has_suffix(name, ".html") || has_suffix(name, ".htm"))
		return "html";
	return "unknown";
}
