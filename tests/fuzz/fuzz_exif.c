/* fuzz_exif.c - libFuzzer target: the shared Exif/TIFF/BigTIFF IFD reader, XMP
 * walker, IPTC-IIM and Photoshop IRB parsers and the ICC profile text reader (with
 * its in-place blanking: a sink that flags every field when bit 3 of the first
 * byte is set) called directly on arbitrary bytes, with a
 * sink that reads every byte of every field it is given (so ASan sees any field
 * pointing outside its buffer) and checks offsets and maps stay inside the input.
 * The first byte picks the parser (bits 0-2) and whether fields are flagged (bit 3).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/exif.h"
#include "../../formats/icc.h"
#include "../../formats/imgmeta.h"
#include "../../formats/xmp.h"

static size_t input_size;

static volatile unsigned char sink_acc;
static int flag_all;
static const struct phi_edit flag_edit = {0, 0, "", 0};

static int sink_field(void *sink, const struct phi_field *f, struct phi_edits *edits)
{
	(void)sink;
	if (edits && flag_all) {
		edits->v = &flag_edit;
		edits->n = 1;
	}
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
	flag_all = (data[0] & 8) != 0;
	switch (data[0] & 7) {
	case 0: (void)phi_exif_scan(&ctx, p, size - 1, 0, "Exif", 0, NULL); break;
	case 1: (void)phi_exif_scan(&ctx, p, size - 1, 0, "TIFF", 1, NULL); break;
	case 2: (void)phi_xmp_scan(&ctx, p, size - 1, 0, "XMP"); break;
	case 3:
		(void)phi_irb_scan(&ctx, p, size - 1, 0);
		(void)phi_iptc_scan(&ctx, p, size - 1, 0);
		break;
	case 4: {
		/* an ICC profile, blanked into a copy that must stay the same size */
		unsigned char *patch = malloc(size);
		if (!patch)
			return 0;
		memcpy(patch, p, size - 1);
		patch[size - 1] = 0x5A; /* a guard byte after the copy */
		struct phi_icc_result r;
		(void)phi_icc_scan(&ctx, p, size - 1, 0, "ICC", patch, &r);
		if (patch[size - 1] != 0x5A)
			abort(); /* blanking wrote past the profile */
		free(patch);
		break;
	}
	default: {
		/* a TIFF file's Exif with ICC blanking into a copy */
		unsigned char *patch = malloc(size - 1 ? size - 1 : 1);
		if (!patch)
			return 0;
		memcpy(patch, p, size - 1);
		struct phi_exif_info info = {.icc_patch = patch};
		(void)phi_exif_scan(&ctx, p, size - 1, 0, "TIFF", 1, &info);
		free(patch);
		break;
	}
	}
	return 0;
}
