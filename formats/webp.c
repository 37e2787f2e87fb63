/* webp.c - WebP, scan only (see webp.h).
 *
 * WebP: RIFF chunks walked to the declared size; "EXIF" through exif.c (an
 * optional "Exif\0\0" prefix skipped), "XMP " through xmp.c, every unknown chunk's
 * printable runs through the rules, the text tags of the ICCP profile through
 * icc.c; image chunks (VP8, VP8L, ALPH, ANIM, ANMF) are not read.
 *
 * Strip: can_strip = 0, so the scanner refuses ("the webp format cannot be
 * stripped yet: nothing written") and exits 2.
 *
 * Threading: reentrant.  Ownership: input released here.
 */
#include "webp.h"

#include <stdlib.h>
#include <string.h>

#include "exif.h"
#include "icc.h"
#include "imgmeta.h"
#include "xmp.h"

static uint32_t le32(const unsigned char *q)
{
	return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

int phi_webp_exif_block(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t off,
                      const char *where)
{
	size_t skip = n >= 6 && !memcmp(p, "Exif\0\0", 6) ? 6 : 0;
	int rc = phi_exif_scan(ctx, p + skip, n - skip, off + skip, "Exif", 0, NULL);
	if (rc == PHI_EFORMAT)
		rc = phi_img_runs(ctx, where, p, n, off);
	return rc;
}

static int webp_scan(struct phi_fctx *ctx)
{
	struct phi_img_in in;
	int rc = phi_img_load(ctx, &in);
	if (rc)
		return rc;
	const unsigned char *p = in.p;
	size_t n = in.n, pos = 12;
	if (n < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WEBP", 4)) {
		phi_img_release(&in);
		return phi_fail(ctx->err, PHI_EFORMAT, "not a WebP file");
	}
	size_t end = (size_t)le32(p + 4) + 8;
	if (end > n)
		end = n; /* a short file: read what is there, then fail below */
	while (!rc && pos + 8 <= end) {
		const unsigned char *t = p + pos;
		size_t len = le32(p + pos + 4), data = pos + 8;
		if (len > end - data) {
			rc = phi_fail_at(ctx->err, PHI_EFORMAT, pos,
			                 "WebP chunk length runs past the end of the file");
			break;
		}
		if (!memcmp(t, "EXIF", 4))
			rc = phi_webp_exif_block(ctx, p + data, len, data, "WebP EXIF (unparsed)");
		else if (!memcmp(t, "XMP ", 4))
			rc = phi_xmp_scan(ctx, p + data, len, data, "XMP");
		else if (!memcmp(t, "ICCP", 4))
			rc = phi_icc_scan(ctx, p + data, len, data, "WebP ICCP", NULL, NULL);
		else if (memcmp(t, "VP8 ", 4) && memcmp(t, "VP8L", 4) && memcmp(t, "VP8X", 4) &&
		         memcmp(t, "ALPH", 4) && memcmp(t, "ANIM", 4) && memcmp(t, "ANMF", 4))
			rc = phi_img_runs(ctx, "WebP chunk", p + data, len, data);
		pos = data + len + (len & 1);
	}
	if (!rc && pos < end && (size_t)le32(p + 4) + 8 <= n)
		rc = phi_fail_at(ctx->err, PHI_EFORMAT, pos, "WebP chunk header is truncated");
	if (!rc && (size_t)le32(p + 4) + 8 > n)
		rc = phi_fail(ctx->err, PHI_EFORMAT, "WebP file is shorter than its RIFF size");
	if (!rc && end < n)
		rc = phi_img_runs(ctx, "after RIFF", p + end, n - end, end);
	phi_img_release(&in);
	return rc;
}

static int webp_detect(const unsigned char *h, size_t n, const char *name)
{
	(void)name;
	return n >= 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WEBP", 4) ? 100 : 0;
}

const struct phi_format phi_format_webp = {
	.name = "webp",
	.detect = webp_detect,
	.scan = webp_scan,
	.can_strip = 0,
};
