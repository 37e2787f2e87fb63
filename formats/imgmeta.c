/* imgmeta.c - shared image helpers (see imgmeta.h).
 *
 * Specs: IPTC-IIM 4.2 1.5 (datasets, extended lengths); Photoshop File Formats
 * Specification, "Image Resource Blocks" (8BIM, Pascal name padded to even,
 * data padded to even).
 *
 * Threading: reentrant.  Ownership: see imgmeta.h.
 */
#include "imgmeta.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "text.h"
#include "xmp.h"

int phi_img_verify(const struct phi_fctx *ctx)
{
	return ctx->sopts && (ctx->sopts->flags & PHI_SO_VERIFY);
}

int phi_img_record(struct phi_fctx *ctx, const char *verdict, const char *sha_in,
                   const char *sha_out, const char *dropped_name, unsigned dropped)
{
	const struct phi_sink_ops *o = ctx->sink_ops;
	char num[32];
	int rc = 0;
	snprintf(num, sizeof num, "%u", dropped);
	if (verdict && phi_img_verify(ctx))
		rc = o->record(ctx->sink, "pixels_verify", verdict);
	if (!rc)
		rc = o->record(ctx->sink, "pixels_sha256_in", sha_in);
	if (!rc)
		rc = o->record(ctx->sink, "pixels_sha256_out", sha_out);
	if (!rc && dropped_name)
		rc = o->record(ctx->sink, dropped_name, num);
	return rc;
}

int phi_img_icc_facts(struct phi_fctx *ctx, unsigned blanked, int dropped)
{
	char num[32];
	int rc = 0;
	snprintf(num, sizeof num, "%u", blanked);
	if (blanked)
		rc = ctx->sink_ops->record(ctx->sink, "icc_text_tags_blanked", num);
	if (!rc && dropped)
		rc = ctx->sink_ops->record(ctx->sink, "icc_profile", "dropped: unreadable");
	return rc;
}

/* ---- mapped inputs and SIGBUS ----
 *
 * A file truncated by another process while it is mapped raises SIGBUS on the next
 * read of a page past its new end, which would end the whole run.  The handler
 * below maps a page of zeros over the faulting page when it lies in a mapping this
 * thread registered (phi_img_load), counts the fault, and returns: the read is
 * retried and sees zeros, the format finishes on them, and the scanner, seeing the
 * count move (phi_img_bus_faults), reports the file unscanned.  A SIGBUS anywhere
 * else gets the action that was there before (the default: the process ends).
 * mmap is a plain system call on Linux, safe in a handler in practice; the
 * registrations are this thread's own, so the handler reads no shared state. */

#define GUARD_SLOTS 4

static __thread struct {
	const unsigned char *lo[GUARD_SLOTS], *hi[GUARD_SLOTS];
	unsigned long faults;
} guard;

static struct sigaction bus_before;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;
static uintptr_t page_mask; /* set before the handler is installed */

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	const unsigned char *a = si->si_addr;
	for (int i = 0; i < GUARD_SLOTS; i++) {
		if (guard.lo[i] && a >= guard.lo[i] && a < guard.hi[i]) {
			void *page = (void *)((uintptr_t)a & page_mask);
			if (mmap(page, (size_t)~page_mask + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			         0) != MAP_FAILED) {
				guard.faults++;
				return;
			}
			break;
		}
	}
	/* not ours: what was there before, on the retried access */
	sigaction(sig, &bus_before, NULL);
}

static void bus_install(void)
{
	page_mask = ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &bus_before);
}

static void guard_add(const void *p, size_t n)
{
	for (int i = 0; i < GUARD_SLOTS; i++)
		if (!guard.lo[i]) {
			guard.hi[i] = (const unsigned char *)p + n;
			guard.lo[i] = p;
			return;
		}
}

static void guard_drop(const void *p)
{
	for (int i = 0; i < GUARD_SLOTS; i++)
		if (guard.lo[i] == p)
			guard.lo[i] = guard.hi[i] = NULL;
}

unsigned long phi_img_bus_faults(void)
{
	return guard.faults;
}

int phi_img_load(struct phi_fctx *ctx, struct phi_img_in *in)
{
	memset(in, 0, sizeof *in);
	if (ctx->size != PHI_NO_OFFSET) {
		if (ctx->size <= ctx->head_len) {
			in->p = ctx->head;
			in->n = ctx->head_len;
			return 0;
		}
		if (ctx->size > SIZE_MAX)
			return phi_fail(ctx->err, PHI_ELIMIT, "image too large to map");
		pthread_once(&bus_once, bus_install);
		void *m = mmap(NULL, (size_t)ctx->size, PROT_READ, MAP_PRIVATE, ctx->fd, 0);
		if (m == MAP_FAILED)
			return phi_fail(ctx->err, PHI_EIO, "cannot map the image file");
		guard_add(m, (size_t)ctx->size);
		in->map = m;
		in->map_len = (size_t)ctx->size;
		in->p = m;
		in->n = (size_t)ctx->size;
		ctx->in_bytes = ctx->size;
		return 0;
	}
	/* a pipe: read it all, up to the cap (--max-size when smaller) */
	size_t cap = 1u << 16, n = 0, most = ctx->limits->max_image_stdin;
	if (ctx->limits->max_file_size && ctx->limits->max_file_size < most)
		most = (size_t)ctx->limits->max_file_size;
	unsigned char *b = malloc(cap);
	if (!b)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading an image");
	for (;;) {
		if (n == cap) {
			if (cap >= most) {
				free(b);
				return phi_fail(ctx->err, PHI_ELIMIT,
				                "image on standard input is larger than %zu bytes", most);
			}
			size_t nc = cap * 2 < most ? cap * 2 : most;
			unsigned char *t = realloc(b, nc);
			if (!t) {
				free(b);
				return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading an image");
			}
			b = t;
			cap = nc;
		}
		long r = phi_input_read(ctx, b + n, cap - n);
		if (r < 0) {
			free(b);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	in->own = b;
	in->p = b;
	in->n = n;
	return 0;
}

int phi_img_load_copy(struct phi_fctx *ctx, struct phi_img_in *in)
{
	if (ctx->size == PHI_NO_OFFSET)
		return phi_img_load(ctx, in); /* a pipe is read into memory already */
	memset(in, 0, sizeof *in);
	if (ctx->size <= ctx->head_len) {
		in->p = ctx->head;
		in->n = ctx->head_len;
		return 0;
	}
	if (ctx->size > ctx->limits->max_image_stdin)
		return phi_fail(ctx->err, PHI_ELIMIT, "larger than the %zu bytes read whole",
		                ctx->limits->max_image_stdin);
	size_t n = (size_t)ctx->size;
	unsigned char *b = malloc(n);
	if (!b)
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory reading the file");
	long r = phi_input_read(ctx, b, n);
	if (r < 0 || (size_t)r != n) {
		free(b);
		return r < 0 ? (int)r
		             : phi_fail(ctx->err, PHI_EIO, "the file shrank while it was read");
	}
	in->own = b;
	in->p = b;
	in->n = n;
	return 0;
}

void phi_img_release(struct phi_img_in *in)
{
	if (in->map) {
		guard_drop(in->map);
		munmap(in->map, in->map_len);
	}
	free(in->own);
	memset(in, 0, sizeof *in);
}

void phi_dbuf_init(struct phi_dbuf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

int phi_dbuf_add(struct phi_dbuf *b, const void *src, size_t n)
{
	if (b->n > b->max || n > b->max - b->n)
		return PHI_ELIMIT;
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->n + n)
			nc *= 2;
		unsigned char *t = realloc(b->p, nc);
		if (!t)
			return PHI_ENOMEM;
		b->p = t;
		b->cap = nc;
	}
	if (n)
		memcpy(b->p + b->n, src, n);
	b->n += n;
	return 0;
}

int phi_dbuf_u16(struct phi_dbuf *b, unsigned v, int be)
{
	unsigned char x[2];
	x[be ? 0 : 1] = (unsigned char)(v >> 8);
	x[be ? 1 : 0] = (unsigned char)v;
	return phi_dbuf_add(b, x, 2);
}

int phi_dbuf_u32(struct phi_dbuf *b, uint32_t v, int be)
{
	unsigned char x[4];
	for (int i = 0; i < 4; i++)
		x[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
	return phi_dbuf_add(b, x, 4);
}

void phi_dbuf_free(struct phi_dbuf *b)
{
	size_t max = b->max;
	free(b->p);
	memset(b, 0, sizeof *b);
	b->max = max;
}

static int blank(unsigned char c)
{
	return c == 0 || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int emit_piece(struct phi_fctx *ctx, const char *where, const unsigned char *s,
                      size_t n, uint64_t offset, const uint32_t *map, const char *cls,
                      const char *rule, int sev, int *flagged)
{
	struct phi_edits e = {0};
	struct phi_field f = {0};
	f.text = (const char *)s;
	f.len = n;
	f.kind = cls ? PHI_FIELD_VALUE : PHI_FIELD_TEXT;
	f.where = where;
	f.offset = offset;
	f.map = map;
	f.report_from = 0;
	f.report_to = n;
	f.value_class = cls;
	f.value_rule = rule;
	f.value_severity = sev;
	int rc = ctx->sink_ops->field(ctx->sink, &f, flagged ? &e : NULL);
	if (!rc && flagged && e.n)
		*flagged = 1;
	return rc;
}

static int field(struct phi_fctx *ctx, const char *where, const unsigned char *s, size_t n,
                 uint64_t offset, const uint32_t *map, const char *cls, const char *rule,
                 int sev, int *flagged)
{
	size_t a = 0;
	while (a < n && blank(s[a]))
		a++;
	while (n > a && blank(s[n - 1]))
		n--;
	if (a == n)
		return 0;
	s += a;
	n -= a;
	if (map)
		map += a;
	else if (offset != PHI_NO_OFFSET)
		offset += a;
	size_t maxf = ctx->limits->max_field_len ? ctx->limits->max_field_len : n;
	if (phi_utf8_valid(s, n, 0)) {
		if (n <= maxf)
			return emit_piece(ctx, where, s, n, offset, map, cls, rule, sev, flagged);
		/* free text in pieces cut at UTF-8 boundaries; a value keeps its start */
		for (size_t i = 0; i < n;) {
			size_t k = n - i < maxf ? n - i : maxf;
			while (k > 1 && i + k < n && (s[i + k] & 0xC0) == 0x80)
				k--;
			uint64_t off = offset;
			const uint32_t *m = map ? map + i : NULL;
			if (!map && off != PHI_NO_OFFSET)
				off += i;
			int rc = emit_piece(ctx, where, s + i, k, off, m, cls, rule, sev, flagged);
			if (rc || cls)
				return rc;
			i += k;
		}
		return 0;
	}
	/* Windows-1252: decode with a map back to the source bytes */
	if (n > maxf)
		n = maxf;
	unsigned char *d = malloc(3 * n + 1);
	uint32_t *dm = malloc((3 * n + 1) * sizeof *dm);
	if (!d || !dm) {
		free(d);
		free(dm);
		return phi_fail(ctx->err, PHI_ENOMEM, "out of memory decoding image text");
	}
	size_t dn = phi_cp1252_to_utf8(s, n, d, dm);
	if (map)
		for (size_t i = 0; i <= dn; i++)
			dm[i] = map[dm[i]];
	int rc = emit_piece(ctx, where, d, dn, offset, offset == PHI_NO_OFFSET ? NULL : dm, cls,
	                    rule, sev, flagged);
	free(d);
	free(dm);
	return rc;
}

int phi_img_field(struct phi_fctx *ctx, const char *where, const unsigned char *s, size_t n,
                  uint64_t offset, const uint32_t *map, const char *cls, const char *rule,
                  int sev)
{
	return field(ctx, where, s, n, offset, map, cls, rule, sev, NULL);
}

int phi_img_field_flag(struct phi_fctx *ctx, const char *where, const unsigned char *s,
                       size_t n, uint64_t offset, const uint32_t *map, int *flagged)
{
	return field(ctx, where, s, n, offset, map, NULL, NULL, 0, flagged);
}

/* Printable: ASCII 0x20-0x7E and tab, or a well-formed UTF-8 sequence. */
int phi_img_runs(struct phi_fctx *ctx, const char *where, const unsigned char *p, size_t n,
                 uint64_t offset)
{
	const size_t window = 1u << 20;
	unsigned char *b = NULL;
	size_t cap = 0;
	int rc = 0;

	for (size_t base = 0; base < n && !rc;) {
		size_t len = n - base < window ? n - base : window;
		if (len > cap) {
			free(b);
			cap = len;
			b = malloc(cap);
			if (!b)
				return phi_fail(ctx->err, PHI_ENOMEM, "out of memory scanning a block");
		}
		const unsigned char *s = p + base;
		size_t i = 0, runs = 0;
		while (i < len) {
			size_t j = i;
			while (j < len) {
				unsigned char c = s[j];
				if ((c >= 0x20 && c < 0x7F) || c == '\t') {
					j++;
					continue;
				}
				if (c >= 0xC2) {
					uint32_t cp;
					size_t k = phi_utf8_get(s + j, len - j, &cp);
					if (cp != PHI_REPLACEMENT_CHAR && k > 1) {
						j += k;
						continue;
					}
				}
				break;
			}
			if (j - i >= 4) {
				memcpy(b + i, s + i, j - i);
				runs++;
			} else {
				memset(b + i, '\n', j - i);
			}
			if (j < len) {
				b[j] = '\n';
				j++;
			}
			i = j;
		}
		/* cut the window after its last newline so a run is not split */
		size_t cut = len;
		if (base + len < n) {
			while (cut > len / 2 && b[cut - 1] != '\n')
				cut--;
			if (b[cut - 1] != '\n')
				cut = len;
		}
		if (runs)
			rc = phi_img_field(ctx, where, b, cut,
			                   offset == PHI_NO_OFFSET ? offset : offset + base, NULL, NULL,
			                   NULL, 0);
		base += cut;
	}
	free(b);
	return rc;
}

/* IPTC-IIM record 2 datasets that identify by what they are. */
static const struct {
	const char *name;
	const char *cls;
	int sev;
	uint8_t rec, ds;
} iptc_tags[] = {
	{"ObjectName", NULL, 0, 2, 5},      {"Keywords", NULL, 0, 2, 25},
	{"SpecialInstructions", NULL, 0, 2, 40},
	{"DateCreated", "date", 0, 2, 55},  {"DigitalCreationDate", "date", 0, 2, 62},
	{"By-line", "name", 1, 2, 80},      {"By-lineTitle", NULL, 0, 2, 85},
	{"City", "address", 0, 2, 90},      {"Sub-location", "address", 0, 2, 92},
	{"Province-State", NULL, 0, 2, 95}, {"Country", NULL, 0, 2, 101},
	{"Headline", NULL, 0, 2, 105},      {"Credit", NULL, 0, 2, 110},
	{"Source", NULL, 0, 2, 115},        {"CopyrightNotice", NULL, 0, 2, 116},
	{"Contact", NULL, 0, 2, 118},       {"Caption-Abstract", NULL, 0, 2, 120},
	{"Writer-Editor", "name", 1, 2, 122},
};

int phi_iptc_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset)
{
	size_t i = 0;
	while (i + 5 <= n && p[i] == 0x1C) {
		unsigned rec = p[i + 1], ds = p[i + 2];
		size_t len = (size_t)p[i + 3] << 8 | p[i + 4], hdr = 5;
		if (len & 0x8000) { /* extended: the next (len & 0x7FFF) bytes hold the length */
			size_t k = len & 0x7FFF;
			if (k > 4 || i + 5 + k > n)
				break;
			len = 0;
			for (size_t j = 0; j < k; j++)
				len = len << 8 | p[i + 5 + j];
			hdr += k;
		}
		if (len > n - i - hdr)
			break;
		const unsigned char *v = p + i + hdr;
		if (rec == 1 || rec == 2) {
			const char *name = NULL, *cls = NULL;
			int sev = 0;
			for (size_t t = 0; t < sizeof iptc_tags / sizeof iptc_tags[0]; t++)
				if (iptc_tags[t].rec == rec && iptc_tags[t].ds == ds) {
					name = iptc_tags[t].name;
					cls = iptc_tags[t].cls;
					sev = iptc_tags[t].sev;
				}
			char where[64];
			if (name)
				snprintf(where, sizeof where, "IPTC %s (%u:%u)", name, rec, ds);
			else
				snprintf(where, sizeof where, "IPTC %u:%u", rec, ds);
			uint64_t off = offset == PHI_NO_OFFSET ? offset : offset + i + hdr;
			int rc = phi_img_field(ctx, where, v, len, off, NULL, cls, "iptc-dataset", sev);
			if (rc)
				return rc;
		}
		i += hdr + len;
	}
	if (i < n)
		return phi_img_runs(ctx, "IPTC (unparsed)", p + i, n - i,
		                    offset == PHI_NO_OFFSET ? offset : offset + i);
	return 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int phi_irb_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset)
{
	size_t i = 0;
	int rc = 0;
	while (!rc && i + 12 <= n && (!memcmp(p + i, "8BIM", 4) || !memcmp(p + i, "PHUT", 4) ||
	                              !memcmp(p + i, "MeSa", 4))) {
		unsigned id = (unsigned)p[i + 4] << 8 | p[i + 5];
		size_t nl = p[i + 6];
		size_t j = i + 6 + ((1 + nl + 1) & ~(size_t)1); /* Pascal name padded to even */
		if (j + 4 > n)
			break;
		size_t len = be32(p + j);
		j += 4;
		if (len > n - j)
			break;
		uint64_t off = offset == PHI_NO_OFFSET ? offset : offset + j;
		if (nl)
			rc = phi_img_field(ctx, "Photoshop resource name", p + i + 7,
			                   nl <= j - i - 7 ? nl : 0,
			                   offset == PHI_NO_OFFSET ? offset : offset + i + 7, NULL, NULL,
			                   NULL, 0);
		if (rc)
			break;
		if (id == 0x0404)
			rc = phi_iptc_scan(ctx, p + j, len, off);
		else if (id == 0x0424)
			rc = phi_xmp_scan(ctx, p + j, len, off, "XMP");
		else if (id == 0x0409 || id == 0x040C || id == 0x0425)
			; /* thumbnails and a digest: pixels, not text (dropped by strip) */
		else
			rc = phi_img_runs(ctx, "Photoshop resource", p + j, len, off);
		i = j + len + (len & 1);
	}
	if (!rc && i < n)
		rc = phi_img_runs(ctx, "Photoshop (unparsed)", p + i, n - i,
		                  offset == PHI_NO_OFFSET ? offset : offset + i);
	return rc;
}

int phi_img_hash_begin(struct phi_sha256 *h, struct phi_error *err)
{
	if (h && phi_sha256_init(h))
		return phi_fail(err, PHI_ENOMEM, "cannot start SHA-256");
	return 0;
}

int phi_img_hash_end(struct phi_sha256 *h, int rc, char hex[65], struct phi_error *err)
{
	if (!h)
		return rc;
	if (rc)
		phi_sha256_abort(h);
	else if (phi_sha256_final(h, hex))
		rc = phi_fail(err, PHI_ENOMEM, "cannot finish SHA-256");
	return rc;
}
