/* fuzz_exif.c - libFuzzer target: the shared Exif/TIFF IFD reader, XMP walker,
 * IPTC-IIM and Photoshop IRB parsers called directly on arbitrary bytes, with a
 * sink that reads every byte of every field it is given (so ASan sees any field
 * pointing outside its buffer) and checks offsets and maps stay inside the input.
 * The first byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/exif.h"
#include "../../formats/imgmeta.h"
#include "../../formats/xmp.h"

static size_t input_size;

static volatile unsigned char sink_acc;

static int sink_field(void *sink, const struct phi_field *f, struct phi_edits *edits)
{
	(void)sink;
	(void)edits;
	for (size_t i = 0; i < f->len; i++)
		sink_acc ^= (unsigned char)f->text[i];
	if (f->offset != PHI_NO_OFFSET) {
		uint64_t end = f->offset + (f->map ? f->map[f->len] : f->len);
		if (f->offset > input_size + 1 || end > input_size + 1)
			abort(); /* a field claims bytes the input does not have */
		for (size_t i = 0; f->map && i <= f->len; i++)
			if (f->offset + f->map[i] > input_size + 1)
				abort();
	}
	return 0;
}

static int sink_record(void *sink, const char *name, const char *value)
{
	(void)sink;
	(void)name;
	(void)value;
	return 0;
}

static const struct phi_sink_ops ops = {sink_field, sink_record};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phi_limits lim;
	struct phi_error err = {0};
	struct phi_strip_opts so = {0};
	struct phi_fctx ctx = {0};
	if (size < 1)
		return 0;
	phi_limits_default(&lim);
	lim.max_field_len = 4096;
	ctx.limits = &lim;
	ctx.err = &err;
	ctx.sink_ops = &ops;
	ctx.sopts = &so;
	ctx.out_fd = -1;
	input_size = size - 1;
	const unsigned char *p = data + 1;
	switch (data[0] & 3) {
	case 0: (void)phi_exif_scan(&ctx, p, size - 1, 0, "Exif", 0, NULL); break;
	case 1: (void)phi_exif_scan(&ctx, p, size - 1, 0, "TIFF", 1, NULL); break;
	case 2: (void)phi_xmp_scan(&ctx, p, size - 1, 0, "XMP"); break;
	default:
		(void)phi_irb_scan(&ctx, p, size - 1, 0);
		(void)phi_iptc_scan(&ctx, p, size - 1, 0);
		break;
	}
	return 0;
}
