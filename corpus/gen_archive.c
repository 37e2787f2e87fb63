/* gen_archive.c - zipped parts of a case, for the archive walk (scanner/archive.c).
 *
 * Included by gencase.c (one translation unit: it uses gencase's rng, doc, case
 * data and truth).  Every case gets `case-export.zip` (the way a lab download
 * arrives): a prescription, an order XML, the upper STL and a nested `scans.zip`
 * with a PLY and an OBJ, generated afresh (their own rng streams, so they are not
 * copies of the case's loose files).  Entries are deflated, except the STL, which
 * is stored, as zip tools do for data that does not shrink.  Truth rows use the
 * "!/" convention of phiscan's reports, `case-001/case-export.zip!/scans.zip!/
 * lowerjaw.ply`, with offsets into the entry's own bytes, so `make eval` counts
 * them like any file; `gencase check` reads the entries back (gen_zip_read).
 * Times in the zip are a fixed 2024-05-01 15:30:12 (a date of service: phiscan's
 * strip must not copy it).
 */

#define ZIP_DOS_TIME ((15u << 11) | (30u << 5) | (12u / 2))
#define ZIP_DOS_DATE (((2024u - 1980u) << 9) | (5u << 5) | 1u)

struct zipw {
	struct buf body, cdir;
	unsigned nent;
};

static void z_u16(struct buf *b, unsigned v)
{
	unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	b_put(b, x, 2);
}

static void z_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	b_put(b, x, 4);
}

/* Append one entry (deflated unless store) to the zip being built. */
static void zip_add(struct zipw *z, const char *name, const void *data, size_t n, int store)
{
	uint32_t crc = (uint32_t)crc32(0, data, (uInt)n);
	unsigned char *out = (unsigned char *)data;
	size_t clen = n;
	if (!store) {
		z_stream s;
		memset(&s, 0, sizeof s);
		if (deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			die("zlib: deflateInit2 failed");
		uLong cap = deflateBound(&s, (uLong)n);
		out = xrealloc(NULL, cap);
		s.next_in = (Bytef *)data;
		s.avail_in = (uInt)n;
		s.next_out = out;
		s.avail_out = (uInt)cap;
		if (deflate(&s, Z_FINISH) != Z_STREAM_END)
			die("zlib: deflate failed");
		clen = s.total_out;
		deflateEnd(&s);
	}
	uint32_t off = (uint32_t)z->body.n;
	size_t nl = strlen(name);
	z_u32(&z->body, 0x04034b50);
	z_u16(&z->body, 20);
	z_u16(&z->body, 0);
	z_u16(&z->body, store ? 0 : 8);
	z_u16(&z->body, ZIP_DOS_TIME);
	z_u16(&z->body, ZIP_DOS_DATE);
	z_u32(&z->body, crc);
	z_u32(&z->body, (uint32_t)clen);
	z_u32(&z->body, (uint32_t)n);
	z_u16(&z->body, (unsigned)nl);
	z_u16(&z->body, 0);
	b_put(&z->body, name, nl);
	b_put(&z->body, out, clen);

	z_u32(&z->cdir, 0x02014b50);
	z_u16(&z->cdir, (3u << 8) | 20); /* made by Unix */
	z_u16(&z->cdir, 20);
	z_u16(&z->cdir, 0);
	z_u16(&z->cdir, store ? 0 : 8);
	z_u16(&z->cdir, ZIP_DOS_TIME);
	z_u16(&z->cdir, ZIP_DOS_DATE);
	z_u32(&z->cdir, crc);
	z_u32(&z->cdir, (uint32_t)clen);
	z_u32(&z->cdir, (uint32_t)n);
	z_u16(&z->cdir, (unsigned)nl);
	z_u16(&z->cdir, 0);
	z_u16(&z->cdir, 0);
	z_u16(&z->cdir, 0);
	z_u16(&z->cdir, 0);
	z_u32(&z->cdir, 0100644u << 16);
	z_u32(&z->cdir, off);
	b_put(&z->cdir, name, nl);
	z->nent++;
	if (out != data)
		free(out);
}

/* The whole archive into out (body, central directory, end record); z is reset. */
static void zip_finish(struct zipw *z, struct buf *out)
{
	out->n = 0;
	b_put(out, z->body.p, z->body.n);
	uint32_t cd = (uint32_t)out->n;
	b_put(out, z->cdir.p, z->cdir.n);
	z_u32(out, 0x06054b50);
	z_u16(out, 0);
	z_u16(out, 0);
	z_u16(out, z->nent);
	z_u16(out, z->nent);
	z_u32(out, (uint32_t)z->cdir.n);
	z_u32(out, cd);
	z_u16(out, 0);
	b_free(&z->body);
	b_free(&z->cdir);
	z->nent = 0;
}

/* Generate one document into the zip; its truth rows are written under
 * prefix + "!/" + name. */
static void zip_doc(struct gen_state *g, struct zipw *z, const char *prefix, const char *name,
                    const struct filespec *fs, struct rng *r, const struct casedata *c, int store)
{
	d_reset(&g->d);
	fs->gen(&g->d, r, c);
	if (g->capsp < g->d.nsp + 1) {
		g->capsp = g->d.nsp + 16;
		g->sp = xrealloc(g->sp, g->capsp * sizeof *g->sp);
	}
	if (fs->cs == CS_RAW) {
		g->enc.n = 0;
		b_put(&g->enc, g->d.b.p, g->d.b.n);
		memcpy(g->sp, g->d.sp, g->d.nsp * sizeof *g->sp);
	} else {
		encode_doc(&g->d, fs->cs, fs->crlf, &g->enc, g->sp);
	}
	zip_add(z, name, g->enc.p, g->enc.n, store);
	for (size_t i = 0; i < g->d.nsp; i++) {
		const struct span *s = &g->sp[i];
		b_printf(&g->truth, "%s!/%s\t%zu\t%zu\t%s\t%s\n", prefix, name, s->start, s->end,
		         cls_names[s->cls], mode_names[s->mode]);
		g->rows++;
		g->per_class[s->cls][s->mode]++;
	}
}

static const struct filespec *find_spec(const struct filespec *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n && v[i].name; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	die("gen_archive: no generator for %s", name);
	return NULL;
}

static void gen_archive_case(struct gen_state *g, const char *outdir, const char *dir, long seed,
                             long k, const struct casedata *c)
{
	struct zipw outer = {0}, inner = {0};
	struct buf zip = {0};
	char prefix[256], nested[300], path[4096];
	size_t nmedia = 0;
	while (media_files[nmedia].name)
		nmedia++;
	snprintf(prefix, sizeof prefix, "%s/case-export.zip", dir);
	snprintf(nested, sizeof nested, "%s!/scans.zip", prefix);

	/* streams of their own: 2048 + k * 16 + i never meets the loose files' streams */
	struct rng r0 = rng_make((uint64_t)seed, 2048 + (uint64_t)k * 16 + 0);
	zip_doc(g, &outer, prefix, "Rx/rx.txt", find_spec(base_files, NELEM(base_files), "rx.txt"),
	        &r0, c, 0);
	struct rng r1 = rng_make((uint64_t)seed, 2048 + (uint64_t)k * 16 + 1);
	zip_doc(g, &outer, prefix, "order.xml", find_spec(base_files, NELEM(base_files), "order.xml"),
	        &r1, c, 0);
	struct rng r2 = rng_make((uint64_t)seed, 2048 + (uint64_t)k * 16 + 2);
	const struct filespec *stl = find_spec(media_files, nmedia, "scan/upper.stl");
	gen_index = (int)(stl - media_files);
	zip_doc(g, &outer, prefix, "scans/upper.stl", stl, &r2, c, 1);

	struct rng r3 = rng_make((uint64_t)seed, 2048 + (uint64_t)k * 16 + 3);
	const struct filespec *ply = find_spec(media_files, nmedia, "scan/lowerjaw.ply");
	gen_index = (int)(ply - media_files);
	zip_doc(g, &inner, nested, "lowerjaw.ply", ply, &r3, c, 0);
	struct rng r4 = rng_make((uint64_t)seed, 2048 + (uint64_t)k * 16 + 4);
	const struct filespec *obj = find_spec(media_files, nmedia, "model/jaw.obj");
	gen_index = (int)(obj - media_files);
	zip_doc(g, &inner, nested, "jaw.obj", obj, &r4, c, 0);
	zip_finish(&inner, &zip);
	zip_add(&outer, "scans.zip", zip.p, zip.n, 1);

	zip_finish(&outer, &zip);
	snprintf(path, sizeof path, "%s/%s", outdir, prefix);
	write_file(path, zip.p, zip.n);
	g->files++;
	b_free(&zip);
}

/* ---- reading entries back (gencase check) ---- */

static int read_whole(const char *path, struct buf *out);

static unsigned z_get16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t z_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Entry name (n bytes) of zip bytes z into out.  0, or -1 when absent or bad. */
static int zip_entry(const struct buf *z, const char *name, size_t n, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)z->p;
	size_t off = 0;
	while (off + 30 <= z->n && z_get32(p + off) == 0x04034b50) {
		unsigned method = z_get16(p + off + 8), nl = z_get16(p + off + 26),
		         xl = z_get16(p + off + 28);
		uint32_t clen = z_get32(p + off + 18), ulen = z_get32(p + off + 22);
		size_t data = off + 30 + nl + xl;
		if (data + clen > z->n)
			return -1;
		if (nl == n && !memcmp(p + off + 30, name, n)) {
			out->n = 0;
			b_reserve(out, ulen + 1);
			if (method == 0) {
				b_put(out, p + data, clen);
				return 0;
			}
			z_stream s;
			memset(&s, 0, sizeof s);
			if (method != 8 || inflateInit2(&s, -15) != Z_OK)
				return -1;
			s.next_in = (Bytef *)(p + data);
			s.avail_in = clen;
			s.next_out = (Bytef *)out->p;
			s.avail_out = ulen;
			int rc = inflate(&s, Z_FINISH);
			out->n = s.total_out;
			inflateEnd(&s);
			return rc == Z_STREAM_END ? 0 : -1;
		}
		off = data + clen;
	}
	return -1;
}

/* The bytes at a truth path "dir/a.zip!/b.zip!/c.txt" under outdir. */
static int gen_zip_read(const char *outdir, const char *path, struct buf *out)
{
	char fpath[4096];
	const char *bang = strstr(path, "!/");
	snprintf(fpath, sizeof fpath, "%s/%.*s", outdir, (int)(bang - path), path);
	struct buf cur = {0}, next = {0};
	int rc = read_whole(fpath, &cur);
	while (!rc && bang) {
		const char *name = bang + 2, *end = strstr(name, "!/");
		rc = zip_entry(&cur, name, end ? (size_t)(end - name) : strlen(name), &next);
		struct buf t = cur;
		cur = next;
		next = t;
		bang = end;
	}
	if (!rc) {
		out->n = 0;
		b_put(out, cur.p, cur.n);
	}
	b_free(&cur);
	b_free(&next);
	return rc;
}
