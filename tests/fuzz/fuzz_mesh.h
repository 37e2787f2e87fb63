/* fuzz_mesh.h - the libFuzzer harness shared by fuzz_stl, fuzz_ply, fuzz_obj and
 * fuzz_hps: arbitrary bytes go straight to one mesh format's scan(), four ways:
 * scan of a file (size known: header-only paths), scan of a stream (size unknown:
 * body walks), and strip of both with --verify and --strip-hps, through a sink that
 * replaces slots (whole, part or not at all, chosen by the input) so the rewrite
 * paths run.  Every mesh cap of struct phi_limits is lowered so inputs reach them,
 * and half the inputs (bit 2 of the last byte) strip with --stl-zero-attributes.
 * No rule pack is needed: the harness is the sink.
 *
 * A target defines FUZZ_FORMATS (a NULL-terminated list of formats) and includes
 * this file.  Run from the repository root: make fuzz FUZZ_TARGETS=fuzz_ply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../formats/format.h"

static unsigned fuzz_mode; /* varies the edits by input */

static int fz_field(void *sink, const struct phi_field *f, struct phi_edits *ed)
{
	static struct phi_edit e[2];
	(void)sink;
	/* touch every byte: the sanitizers check the slot is inside its buffer */
	volatile unsigned char acc = 0;
	for (size_t i = 0; i < f->len; i++)
		acc ^= (unsigned char)f->text[i];
	if (f->map)
		for (size_t i = 0; i <= f->len; i++)
			acc ^= (unsigned char)f->map[i];
	(void)acc;
	if (!ed || !f->len)
		return 0;
	switch (fuzz_mode % 3) {
	case 0:
		e[0] = (struct phi_edit){0, f->len, "[X]", 3};
		ed->v = e;
		ed->n = 1;
		break;
	case 1:
		e[0] = (struct phi_edit){0, f->len / 2, "a b<&\"'>-", 9};
		e[1] = (struct phi_edit){f->len / 2 + (f->len > 1), f->len, "", 0};
		ed->v = e;
		ed->n = f->len > 1 ? 2 : 1;
		break;
	default:
		break;
	}
	return 0;
}

static int fz_record(void *sink, const char *name, const char *value)
{
	(void)sink;
	return name && value ? 0 : PHI_ENOMEM;
}

static const struct phi_sink_ops fz_ops = {fz_field, fz_record};

static int fz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void fz_run(const struct phi_format *fmt, const uint8_t *data, size_t size, int known,
                   int strip)
{
	static unsigned char head[PHI_HEAD_SIZE];
	static unsigned char buf[1 << 17];
	struct phi_limits lim;
	struct phi_error err = {0};
	struct phi_strip_opts so = {.flags = PHI_SO_VERIFY | PHI_SO_STRIP_HPS};
	int in = fz_memfd(data, size), out = strip ? memfd_create("out", 0) : -1;
	size_t hn = size < sizeof head ? size : sizeof head;

	phi_limits_default(&lim);
	lim.chunk_size = 4096; /* small lines and headers: exercise the limits */
	lim.mesh_max_line = 4096;
	lim.ply_max_header = 16384;
	lim.ply_max_elements = 8;
	lim.ply_max_props = 16;
	lim.obj_max_names = 64;
	lim.hps_max_stream = 1u << 20;
	if (fuzz_mode & 4)
		so.flags |= PHI_SO_STL_ZERO_ATTR;
	if (hn && read(in, head, hn) != (ssize_t)hn)
		abort();
	struct phi_fctx ctx = {
		.path = "fuzz",
		.fd = in,
		.size = known ? (uint64_t)size : PHI_NO_OFFSET,
		.head = head,
		.head_len = hn,
		.out_fd = out,
		.limits = &lim,
		.err = &err,
		.sink_ops = &fz_ops,
		.buf = buf,
		.buf_cap = sizeof buf,
		.sopts = &so,
	};
	(void)fmt->scan(&ctx);
	close(in);
	if (out >= 0)
		close(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct phi_format *const fmts[] = {FUZZ_FORMATS};
	fuzz_mode = size ? data[size - 1] : 0;
	for (size_t i = 0; fmts[i]; i++) {
		(void)fmts[i]->detect(data, size < PHI_HEAD_SIZE ? size : PHI_HEAD_SIZE, "x.stl");
		for (int m = 0; m < 4; m++)
			fz_run(fmts[i], data, size, m & 1, m >> 1);
	}
	return 0;
}
