/* test_text.c - the text format: detection scores, streaming scan in chunks (every
 * byte reported once, line:col right, markers across cuts seen once), UTF-16 and
 * cp1252 decoding with source maps, byte-exact strip in every source encoding,
 * pipes, and malformed input.
 *
 * The fake sink records the reported part of every field and, in strip mode,
 * replaces each occurrence of a marker word.  The marker is a made-up word, never
 * an identifier. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../formats/format.h"
#include "../formats/text.h"

#define MARKER "SECRET"

/* ---- growable byte buffer ---------------------------------------------------- */

struct tbuf {
	unsigned char *p;
	size_t len, cap;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	p = realloc(p, c * elem);
	cr_assert_not_null(p);
	*cap = c;
	return p;
}

static void tb_put(struct tbuf *b, const void *src, size_t n)
{
	b->p = grow(b->p, &b->cap, b->len + n + 1, 1);
	if (n)
		memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void tb_str(struct tbuf *b, const char *s)
{
	tb_put(b, s, strlen(s));
}

static void tb_free(struct tbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* ---- the fake sink ----------------------------------------------------------- */

enum src_kind { SRC_NONE, SRC_UTF16LE, SRC_UTF16BE, SRC_LATIN1 };

struct frec {
	uint64_t line, col, offset;
	size_t len, rf, rt;
};

struct hit {
	uint64_t pos, line, col;
};

struct fsink {
	struct tbuf text;   /* [report_from, report_to) of every field, concatenated */
	size_t nfields, max_len;
	struct frec *rec;
	size_t nrec, reccap;
	struct hit *hits;   /* marker occurrences reported (pos: source offset) */
	size_t nhits, hitcap;
	size_t straddles;   /* reported markers running past report_to */
	const char *marker; /* NULL: look for nothing */
	const char *repl;   /* strip: replacement */
	size_t edit_len;    /* strip: bytes each edit covers (0: the marker) */
	struct phi_edit *ev;
	size_t evcap;
	/* map check for decoded sources: the whole source file */
	const unsigned char *src;
	size_t src_len;
	enum src_kind kind;
	size_t map_checked, map_errors;
	int saw_final_map_end;
};

static uint32_t src_char(const struct fsink *s, uint64_t off)
{
	if (s->kind == SRC_LATIN1)
		return phi_cp1252_char(s->src[off]);
	int be = s->kind == SRC_UTF16BE;
	const unsigned char *p = s->src + off;
	uint32_t u = be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
	if (u >= 0xDC00 && u <= 0xDFFF)
		return 0xFFFD;
	if (u < 0xD800 || u > 0xDBFF)
		return u;
	if (off + 4 > s->src_len)
		return 0xFFFD;
	uint32_t u2 = be ? (uint32_t)p[2] << 8 | p[3] : (uint32_t)p[3] << 8 | p[2];
	if (u2 < 0xDC00 || u2 > 0xDFFF)
		return 0xFFFD;
	return 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
}

static int fs_field(void *sp, const struct phi_field *f, struct phi_edits *edits)
{
	struct fsink *s = sp;
	const unsigned char *t = (const unsigned char *)f->text;
	size_t mlen = s->marker ? strlen(s->marker) : 0;
	size_t nev = 0, edit_end = 0;
	uint64_t line = f->line, col = f->col;

	cr_assert_eq(f->kind, PHI_FIELD_TEXT);
	cr_assert_null(f->where);
	cr_assert(f->report_from < f->report_to, "empty report region");
	cr_assert(f->report_to <= f->len);
	s->nfields++;
	if (f->len > s->max_len)
		s->max_len = f->len;
	tb_put(&s->text, t + f->report_from, f->report_to - f->report_from);
	s->rec = grow(s->rec, &s->reccap, s->nrec + 1, sizeof *s->rec);
	s->rec[s->nrec++] = (struct frec){f->line, f->col, f->offset, f->len, f->report_from,
	                                  f->report_to};

	for (size_t i = 0; i < f->len; i++) {
		if (mlen && i >= f->report_from && i < f->report_to && i + mlen <= f->len &&
		    memcmp(t + i, s->marker, mlen) == 0) {
			uint64_t pos = f->offset + (f->map ? f->map[i] : i);
			s->hits = grow(s->hits, &s->hitcap, s->nhits + 1, sizeof *s->hits);
			s->hits[s->nhits++] = (struct hit){pos, line, col};
			if (i + mlen > f->report_to)
				s->straddles++;
			if (edits && i >= edit_end) {
				size_t end = i + (s->edit_len ? s->edit_len : mlen);
				if (end > f->len)
					end = f->len;
				s->ev = grow(s->ev, &s->evcap, nev + 1, sizeof *s->ev);
				s->ev[nev++] = (struct phi_edit){i, end, s->repl, strlen(s->repl)};
				edit_end = end;
			}
		}
		if (f->map && s->src && (t[i] & 0xC0) != 0x80) {
			uint32_t cp;
			phi_utf8_get(t + i, f->len - i, &cp);
			uint64_t off = f->offset + f->map[i];
			s->map_checked++;
			if (off >= s->src_len || src_char(s, off) != cp)
				s->map_errors++;
		}
		if (t[i] == '\n') {
			line++;
			col = 1;
		} else if ((t[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	if (f->map && s->src && f->offset + f->map[f->len] == s->src_len)
		s->saw_final_map_end = 1;
	if (edits) {
		edits->v = s->ev;
		edits->n = nev;
	}
	return 0;
}

static const struct phi_sink_ops fs_ops = {.field = fs_field};

static void fs_free(struct fsink *s)
{
	tb_free(&s->text);
	free(s->rec);
	free(s->hits);
	free(s->ev);
	memset(s, 0, sizeof *s);
}

/* ---- running the format ------------------------------------------------------ */

struct run {
	size_t chunk;      /* 0: default limits */
	int set_line_ctx;  /* use line_ctx as max_line_context */
	size_t line_ctx;
	int strip;
	int pipe;          /* feed through a pipe, size unknown */
	size_t head_len;   /* pipe: bytes already read into the head */
	int dir_fd;        /* read from a directory: read() fails */
	unsigned char *buf; /* optional ctx->buf */
	size_t buf_cap;
	struct tbuf out;   /* strip output */
	const char *encoding;
	struct phi_error err;
};

static int temp_fd(void)
{
	char path[] = "/tmp/phitext.XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	unlink(path);
	return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		cr_assert(w > 0, "write: %s", strerror(errno));
		c += w;
		n -= (size_t)w;
	}
}

static void read_back(int fd, struct tbuf *b)
{
	unsigned char tmp[65536];
	ssize_t r;
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		tb_put(b, tmp, (size_t)r);
	cr_assert_eq(r, 0);
}

static int run_scan(struct fsink *s, const void *data, size_t n, struct run *r)
{
	struct phi_limits lim;
	struct phi_fctx ctx = {0};
	unsigned char *head = malloc(PHI_HEAD_SIZE);
	int fd, out = -1, rc;

	cr_assert_not_null(head);
	phi_limits_default(&lim);
	if (r->chunk)
		lim.chunk_size = r->chunk;
	if (r->set_line_ctx)
		lim.max_line_context = r->line_ctx;
	ctx.path = "case/note.txt";
	ctx.limits = &lim;
	ctx.err = &r->err;
	ctx.sink_ops = &fs_ops;
	ctx.sink = s;
	ctx.buf = r->buf;
	ctx.buf_cap = r->buf_cap;
	ctx.out_fd = -1;

	if (r->dir_fd) {
		fd = open("/tmp", O_RDONLY | O_DIRECTORY);
		cr_assert(fd >= 0);
		ctx.size = PHI_NO_OFFSET;
	} else if (r->pipe) {
		int p[2];
		cr_assert_eq(pipe(p), 0);
		cr_assert(n < 60000, "pipe test data must fit the pipe buffer");
		write_all(p[1], data, n);
		close(p[1]);
		fd = p[0];
		size_t got = 0;
		while (got < r->head_len) {
			ssize_t k = read(fd, head + got, r->head_len - got);
			cr_assert(k >= 0);
			if (k == 0)
				break;
			got += (size_t)k;
		}
		ctx.head_len = got;
		ctx.size = PHI_NO_OFFSET;
	} else {
		fd = temp_fd();
		write_all(fd, data, n);
		cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
		ssize_t k = read(fd, head, PHI_HEAD_SIZE);
		cr_assert(k >= 0);
		ctx.head_len = (size_t)k;
		ctx.size = n;
	}
	ctx.fd = fd;
	ctx.head = head;
	if (r->strip) {
		out = temp_fd();
		ctx.out_fd = out;
	}
	rc = phi_format_text.scan(&ctx);
	r->encoding = ctx.encoding;
	if (out >= 0) {
		read_back(out, &r->out);
		close(out);
	}
	close(fd);
	free(head);
	return rc;
}

/* ---- data generation ---------------------------------------------------------- */

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* Lines of words (some with é), CRLF or LF, a marker every `every` lines. */
static void gen_lines(struct tbuf *b, size_t bytes, int crlf, unsigned every)
{
	static const char *const words[] = {"crown", "molar", "caf\xc3\xa9", "bridge",
	                                    "occlusal", "shade", "A2", "implant"};
	unsigned n = 0;
	rng_state = 777;
	while (b->len < bytes) {
		unsigned nw = rnd() % 14;
		if (rnd() % 40 == 0)
			nw = 400 + rnd() % 200; /* now and then a long line */
		for (unsigned i = 0; i < nw; i++) {
			tb_str(b, words[rnd() % 8]);
			tb_str(b, " ");
		}
		if (every && ++n % every == 0)
			tb_str(b, MARKER);
		tb_str(b, crlf ? "\r\n" : "\n");
	}
}

/* Expected line:col of byte pos in UTF-8 text (code points, '\n' breaks). */
struct lc_walk {
	const unsigned char *p;
	size_t pos;
	uint64_t line, col;
};

static void lc_advance(struct lc_walk *w, size_t to)
{
	for (; w->pos < to; w->pos++) {
		if (w->p[w->pos] == '\n') {
			w->line++;
			w->col = 1;
		} else if ((w->p[w->pos] & 0xC0) != 0x80) {
			w->col++;
		}
	}
}

/* Every field's line:col must be that of its first byte; base = source offset of
 * text byte 0 (3 after a UTF-8 BOM). */
static void check_field_positions(const struct fsink *s, const unsigned char *text,
                                  uint64_t base)
{
	struct lc_walk w = {text, 0, 1, 1};
	for (size_t i = 0; i < s->nrec; i++) {
		cr_assert(s->rec[i].offset >= base + w.pos, "fields out of order");
		lc_advance(&w, (size_t)(s->rec[i].offset - base));
		cr_assert_eq(s->rec[i].line, w.line, "field %zu line", i);
		cr_assert_eq(s->rec[i].col, w.col, "field %zu col", i);
	}
}

static void check_hits_match_file(const struct fsink *s, const unsigned char *text,
                                  size_t n, uint64_t base)
{
	struct lc_walk w = {text, 0, 1, 1};
	size_t k = 0;
	const char *q = (const char *)text;
	size_t mlen = strlen(MARKER);
	for (;;) {
		const char *m = memmem(q, n - (size_t)(q - (const char *)text), MARKER, mlen);
		if (!m)
			break;
		size_t pos = (size_t)(m - (const char *)text);
		cr_assert(k < s->nhits, "marker %zu not reported", k);
		cr_assert_eq(s->hits[k].pos, base + pos, "marker %zu at the wrong place", k);
		lc_advance(&w, pos);
		cr_assert_eq(s->hits[k].line, w.line);
		cr_assert_eq(s->hits[k].col, w.col);
		k++;
		q = m + mlen;
	}
	cr_assert_eq(s->nhits, k, "markers reported more than once");
}

/* ---- UTF-16 helpers ----------------------------------------------------------- */

static void put16(struct tbuf *b, uint32_t u, int be)
{
	unsigned char c[2] = {(unsigned char)(be ? u >> 8 : u), (unsigned char)(be ? u : u >> 8)};
	tb_put(b, c, 2);
}

/* UTF-8 -> UTF-16 (with BOM) for test data. */
static void to_utf16(struct tbuf *out, const unsigned char *s, size_t n, int be)
{
	put16(out, 0xFEFF, be);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += phi_utf8_get(s + i, n - i, &cp);
		if (cp >= 0x10000) {
			put16(out, 0xD800 + ((cp - 0x10000) >> 10), be);
			put16(out, 0xDC00 + ((cp - 0x10000) & 0x3FF), be);
		} else {
			put16(out, cp, be);
		}
	}
}

/* ================================================================================ */

Test(text, detect_scores_follow_content)
{
	const unsigned char *u8 = (const unsigned char *)"Rx: amoxicillin 500 mg\r\n";
	cr_assert_eq(phi_format_text.detect(u8, strlen((const char *)u8), "rx.txt"), 50);
	cr_assert_eq(phi_format_text.detect(u8, strlen((const char *)u8), NULL), 50);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"", 0, "empty.txt"), 10);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\xef\xbb\xbfhi", 5, NULL), 60);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\xef\xbb\xbf", 3, NULL), 60);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\xff\xfeh\0i\0", 6, NULL), 60);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\xfe\xff\0h\0i", 6, NULL), 60);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\xff\xfe\0\0h\0\0\0", 8, NULL), 0,
	             "a UTF-32LE BOM is not text");
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\0\0\xfe\xff", 4, NULL), 0);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"ab\0cd", 5, "a.txt"), 0);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"caf\xe9", 4, NULL), 40);
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\x93quoted\x94 \x80 5", 12, NULL),
	             40);
	/* a PNG signature has a stray control (0x1A) and is not UTF-8 */
	cr_assert_eq(phi_format_text.detect((const unsigned char *)"\x89PNG\r\n\x1a\n", 8, NULL), 0);

	/* the 1% allowance of stray C0 controls (ESC and \f\v are not stray) */
	unsigned char b[400];
	memset(b, 'a', sizeof b);
	b[10] = 0x1B;
	b[11] = '\f';
	b[12] = '\v';
	b[50] = 0x01;
	cr_assert_eq(phi_format_text.detect(b, 200, NULL), 50, "0.5%% controls is text");
	b[51] = 0x02;
	cr_assert_eq(phi_format_text.detect(b, 200, NULL), 0, "1%% controls is not");
	b[51] = 'a';
	b[60] = 0xE9;
	cr_assert_eq(phi_format_text.detect(b, 200, NULL), 40);
	b[61] = 0x81;
	cr_assert_eq(phi_format_text.detect(b, 200, NULL), 0,
	             "stray controls plus undefined cp1252 bytes reach 1%%");
}

Test(text, detect_allows_a_character_cut_by_a_full_head)
{
	unsigned char *h = malloc(PHI_HEAD_SIZE);
	cr_assert_not_null(h);
	memset(h, 'x', PHI_HEAD_SIZE);
	h[PHI_HEAD_SIZE - 2] = 0xE2; /* first two bytes of U+20AC */
	h[PHI_HEAD_SIZE - 1] = 0x82;
	cr_assert_eq(phi_format_text.detect(h, PHI_HEAD_SIZE, NULL), 50);
	cr_assert_eq(phi_format_text.detect(h, PHI_HEAD_SIZE - 1, NULL), 40,
	             "a short head is the whole file: a cut character is not UTF-8");
	h[PHI_HEAD_SIZE - 1] = 0x41; /* not a continuation: ill-formed */
	cr_assert_eq(phi_format_text.detect(h, PHI_HEAD_SIZE, NULL), 40);
	free(h);
	cr_assert_eq(phi_format_detect((const unsigned char *)"note\n", 5, "n.txt"), &phi_format_text);
}

Test(text, helpers_decode_cp1252_and_utf8_precisely)
{
	cr_assert_eq(phi_cp1252_char(0x80), 0x20AC);
	cr_assert_eq(phi_cp1252_char(0x8A), 0x0160);
	cr_assert_eq(phi_cp1252_char(0x9F), 0x0178);
	cr_assert_eq(phi_cp1252_char(0x99), 0x2122);
	const unsigned char undef[] = {0x81, 0x8D, 0x8F, 0x90, 0x9D};
	for (size_t i = 0; i < sizeof undef; i++)
		cr_assert_eq(phi_cp1252_char(undef[i]), 0xFFFD);
	cr_assert_eq(phi_cp1252_char(0xE9), 0xE9);
	cr_assert_eq(phi_cp1252_char('A'), 'A');
	for (unsigned b = 0; b < 256; b++) {
		uint32_t cp = phi_cp1252_char((unsigned char)b);
		if (cp != 0xFFFD)
			cr_assert_eq(phi_cp1252_byte(cp), (int)b, "byte %u round-trips", b);
	}
	cr_assert_eq(phi_cp1252_byte(0x3A9), -1); /* Omega */
	cr_assert_eq(phi_cp1252_byte(0x81), -1);
	cr_assert_eq(phi_cp1252_byte(0xFFFD), -1);

	cr_assert(phi_utf8_valid((const unsigned char *)"caf\xc3\xa9 \xf0\x9f\x98\x80", 10, 0));
	cr_assert_not(phi_utf8_valid((const unsigned char *)"\xc0\x80", 2, 0), "overlong");
	cr_assert_not(phi_utf8_valid((const unsigned char *)"\xe0\x80\x80", 3, 1), "overlong");
	cr_assert_not(phi_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3, 0), "surrogate");
	cr_assert_not(phi_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4, 0), "> U+10FFFF");
	cr_assert_not(phi_utf8_valid((const unsigned char *)"a\xf0\x9f", 3, 0));
	cr_assert(phi_utf8_valid((const unsigned char *)"a\xf0\x9f", 3, 1));
	cr_assert_not(phi_utf8_valid((const unsigned char *)"a\xed\xa0", 3, 1),
	              "a cut surrogate is not a valid prefix");

	uint32_t cp;
	cr_assert_eq(phi_utf8_get((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	cr_assert_eq(cp, 0x1F600);
	cr_assert_eq(phi_utf8_get((const unsigned char *)"\xe2\x82", 2, &cp), 1);
	cr_assert_eq(cp, 0xFFFD);

	/* UTF-16LE: "é", a pair, an unpaired low and a trailing unpaired high */
	const unsigned char u16[] = {0xE9, 0x00, 0x3D, 0xD8, 0x00, 0xDE, 0x00, 0xDC, 0x3D, 0xD8};
	unsigned char out[3 * 5];
	uint32_t map[3 * 5 + 1];
	long k = phi_utf16_to_utf8(u16, sizeof u16, 0, out, map);
	cr_assert_eq(k, 2 + 4 + 3 + 3);
	cr_assert_eq(memcmp(out, "\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd", 12), 0);
	const uint32_t want[] = {0, 0, 2, 2, 2, 2, 6, 6, 6, 8, 8, 8, 10};
	cr_assert_arr_eq(map, want, sizeof want);
	cr_assert_eq(phi_utf16_to_utf8(u16, 3, 0, out, NULL), PHI_EFORMAT);

	unsigned char l1[9];
	uint32_t lmap[10];
	size_t lk = phi_cp1252_to_utf8((const unsigned char *)"\xe9\x80\x81", 3, l1, lmap);
	cr_assert_eq(lk, 2 + 3 + 3);
	cr_assert_eq(memcmp(l1, "\xc3\xa9\xe2\x82\xac\xef\xbf\xbd", 8), 0);
	const uint32_t lwant[] = {0, 0, 1, 1, 1, 2, 2, 2, 3};
	cr_assert_arr_eq(lmap, lwant, sizeof lwant);
}

Test(text, empty_file_is_clean_utf8)
{
	struct fsink s = {.marker = MARKER};
	struct run r = {0};
	cr_assert_eq(run_scan(&s, "", 0, &r), 0);
	cr_assert_eq(s.text.len, 0);
	cr_assert_str_eq(r.encoding, "utf-8");
	struct run r2 = {.strip = 1};
	cr_assert_eq(run_scan(&s, "", 0, &r2), 0);
	cr_assert_eq(r2.out.len, 0);
	tb_free(&r2.out);
	fs_free(&s);
}

Test(text, lf_and_crlf_give_the_text_once_with_the_same_lines)
{
	struct tbuf lf = {0}, crlf = {0};
	gen_lines(&lf, 200000, 0, 7);
	gen_lines(&crlf, 200000 + 200000 / 30, 1, 7);
	/* compare the same lines: cut CRLF data to the LF data's line count */
	size_t lines = 0;
	for (size_t i = 0; i < lf.len; i++)
		lines += lf.p[i] == '\n';
	size_t cut = 0, seen = 0;
	while (seen < lines) {
		cr_assert(cut < crlf.len);
		seen += crlf.p[cut++] == '\n';
	}
	crlf.len = cut;

	struct fsink a = {.marker = MARKER}, b = {.marker = MARKER};
	struct run ra = {.chunk = 2048}, rb = {.chunk = 2048};
	cr_assert_eq(run_scan(&a, lf.p, lf.len, &ra), 0);
	cr_assert_eq(run_scan(&b, crlf.p, crlf.len, &rb), 0);
	cr_assert_str_eq(ra.encoding, "utf-8");
	cr_assert_gt(a.nfields, 50, "the file spans many chunks");
	cr_assert_eq(a.text.len, lf.len);
	cr_assert_eq(memcmp(a.text.p, lf.p, lf.len), 0, "every byte reported exactly once");
	cr_assert_eq(b.text.len, crlf.len);
	cr_assert_eq(memcmp(b.text.p, crlf.p, crlf.len), 0);
	cr_assert_leq(a.max_len, 2048);
	check_field_positions(&a, lf.p, 0);
	check_field_positions(&b, crlf.p, 0);
	check_hits_match_file(&a, lf.p, lf.len, 0);
	check_hits_match_file(&b, crlf.p, crlf.len, 0);
	cr_assert_eq(a.nhits, b.nhits);
	cr_assert_gt(a.nhits, 100);
	for (size_t i = 0; i < a.nhits; i++) {
		cr_assert_eq(a.hits[i].line, b.hits[i].line, "CRLF is one line break");
		cr_assert_eq(a.hits[i].col, b.hits[i].col);
	}
	fs_free(&a);
	fs_free(&b);
	tb_free(&lf);
	tb_free(&crlf);
}

Test(text, five_megabytes_in_small_chunks_are_reported_whole)
{
	struct tbuf d = {0};
	tb_put(&d, "\xef\xbb\xbf", 3);
	gen_lines(&d, 5u << 20, 0, 11);
	struct fsink s = {.marker = MARKER};
	struct run r = {.chunk = 64 << 10};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_str_eq(r.encoding, "utf-8-bom");
	cr_assert_eq(s.text.len, d.len - 3);
	cr_assert_eq(memcmp(s.text.p, d.p + 3, d.len - 3), 0);
	cr_assert_leq(s.max_len, 64 << 10, "a field never exceeds chunk_size");
	cr_assert_gt(s.nfields, 80);
	cr_assert_eq(s.rec[0].offset, 3, "the BOM is skipped");
	check_field_positions(&s, d.p + 3, 3);
	check_hits_match_file(&s, d.p + 3, d.len - 3, 3);
	fs_free(&s);
	tb_free(&d);
}

Test(text, ctx_buffer_is_used_when_large_enough)
{
	struct tbuf d = {0};
	gen_lines(&d, 300000, 0, 5);
	unsigned char *buf = malloc(64 << 10);
	cr_assert_not_null(buf);
	struct fsink s = {.marker = MARKER};
	struct run r = {.chunk = 64 << 10, .buf = buf, .buf_cap = 64 << 10};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_eq(s.text.len, d.len);
	cr_assert_eq(memcmp(s.text.p, d.p, d.len), 0);
	check_hits_match_file(&s, d.p, d.len, 0);
	fs_free(&s);
	free(buf);
	tb_free(&d);
}

/* A 3 MB line without a newline: cuts are forced inside the line.  A first pass
 * finds where the cuts fall; the second plants markers across every cut as well
 * as every ~10 KB, and each must be reported once. */
Test(text, long_line_markers_are_seen_once_even_across_cuts)
{
	size_t n = 3u << 20;
	unsigned char *d = malloc(n);
	cr_assert_not_null(d);
	rng_state = 99;
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)('a' + rnd() % 26);

	struct fsink probe = {0};
	struct run r0 = {.chunk = 64 << 10};
	cr_assert_eq(run_scan(&probe, d, n, &r0), 0);
	cr_assert_gt(probe.nrec, 40);

	size_t planted = 0;
	for (size_t i = 0; i + 6 < n; i += 10007) {
		memcpy(d + i, MARKER, 6);
		planted++;
	}
	for (size_t i = 0; i + 1 < probe.nrec; i++) {
		size_t cut = (size_t)(probe.rec[i].offset + probe.rec[i].rt);
		memcpy(d + cut - 3, MARKER, 6);
		planted++;
	}

	struct fsink s = {.marker = MARKER};
	struct run r = {.chunk = 64 << 10};
	cr_assert_eq(run_scan(&s, d, n, &r), 0);
	cr_assert_eq(s.nrec, probe.nrec, "cuts do not depend on the letters");
	cr_assert_eq(s.text.len, n);
	cr_assert_eq(memcmp(s.text.p, d, n), 0);
	cr_assert_leq(s.max_len, 64 << 10);
	check_hits_match_file(&s, d, n, 0);
	cr_assert_geq(s.nhits, planted - 5, "planted markers may overwrite each other");
	cr_assert_geq(s.straddles, probe.nrec - 1, "every cut is straddled");
	for (size_t i = 0; i < s.nrec; i++)
		cr_assert_eq(s.rec[i].line, 1);
	fs_free(&probe);
	fs_free(&s);
	free(d);
}

static void check_utf16(int be)
{
	const char *u8 = "Zo\xc3\xab \xf0\x9f\x98\x80 \xce\xa9\r\nline2 " MARKER "\n";
	struct tbuf d = {0};
	to_utf16(&d, (const unsigned char *)u8, strlen(u8), be);
	struct fsink s = {.marker = MARKER, .src = d.p, .src_len = d.len,
	                  .kind = be ? SRC_UTF16BE : SRC_UTF16LE};
	struct run r = {0};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_str_eq(r.encoding, be ? "utf-16be" : "utf-16le");
	cr_assert_eq(s.text.len, strlen(u8));
	cr_assert_eq(memcmp(s.text.p, u8, strlen(u8)), 0);
	cr_assert_eq(s.nfields, 1);
	cr_assert_eq(s.rec[0].offset, 2, "text starts after the BOM");
	cr_assert_eq(s.map_errors, 0);
	cr_assert_eq(s.map_checked, 22, "every character's map entry was checked");
	cr_assert(s.saw_final_map_end, "map[len] is the end of the file");
	/* Z o ë ' ' 😀: the emoji's code units start at source offset 2 + 4 * 2 */
	cr_assert_eq(s.nhits, 1);
	cr_assert_eq(s.hits[0].pos, 2 + 2 * 16, "marker mapped to its UTF-16 offset");
	cr_assert_eq(s.hits[0].line, 2);
	cr_assert_eq(s.hits[0].col, 7);
	fs_free(&s);
	tb_free(&d);
}

Test(text, utf16le_with_bom_decodes_and_maps_to_source)
{
	check_utf16(0);
}

Test(text, utf16be_with_bom_decodes_and_maps_to_source)
{
	check_utf16(1);
}

Test(text, utf16_map_holds_across_many_chunks)
{
	struct tbuf u8 = {0}, d = {0};
	gen_lines(&u8, 400000, 1, 9);
	tb_str(&u8, "\xf0\x9f\xa6\xb7 tooth"); /* a pair near the end, no final newline */
	to_utf16(&d, u8.p, u8.len, 0);
	struct fsink s = {.marker = MARKER, .src = d.p, .src_len = d.len, .kind = SRC_UTF16LE};
	struct run r = {.chunk = 16 << 10};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_gt(s.nfields, 50);
	cr_assert_eq(s.text.len, u8.len);
	cr_assert_eq(memcmp(s.text.p, u8.p, u8.len), 0);
	cr_assert_eq(s.map_errors, 0);
	cr_assert(s.saw_final_map_end);
	/* line:col of each marker as in the same text scanned as UTF-8 */
	struct fsink v = {.marker = MARKER};
	struct run rv = {.chunk = 16 << 10};
	cr_assert_eq(run_scan(&v, u8.p, u8.len, &rv), 0);
	check_hits_match_file(&v, u8.p, u8.len, 0);
	cr_assert_eq(s.nhits, v.nhits);
	cr_assert_gt(s.nhits, 100);
	for (size_t i = 0; i < s.nhits; i++) {
		cr_assert_eq(s.hits[i].line, v.hits[i].line);
		cr_assert_eq(s.hits[i].col, v.hits[i].col);
		cr_assert(s.hits[i].pos > s.hits[i].line, "source offsets, not text offsets");
	}
	fs_free(&v);
	fs_free(&s);
	tb_free(&u8);
	tb_free(&d);
}

Test(text, utf16_unpaired_surrogates_become_replacement_characters)
{
	/* BOM, 'a', lone low, lone high + 'b', trailing lone high */
	const unsigned char d[] = {0xFF, 0xFE, 'a', 0, 0x00, 0xDC, 0x00, 0xD8, 'b', 0, 0x00, 0xD8};
	struct fsink s = {.src = d, .src_len = sizeof d, .kind = SRC_UTF16LE};
	struct run r = {0};
	cr_assert_eq(run_scan(&s, d, sizeof d, &r), 0);
	const char *want = "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd";
	cr_assert_eq(s.text.len, strlen(want));
	cr_assert_eq(memcmp(s.text.p, want, strlen(want)), 0);
	cr_assert_eq(s.map_errors, 0);
	fs_free(&s);
}

Test(text, odd_length_utf16_is_a_format_error)
{
	const unsigned char d[] = {0xFF, 0xFE, 'a', 0, 'b', 0, 'c'};
	struct fsink s = {0};
	struct run r = {0};
	cr_assert_eq(run_scan(&s, d, sizeof d, &r), PHI_EFORMAT);
	cr_assert_eq(r.err.code, PHI_EFORMAT);
	cr_assert_str_eq(r.err.msg, "truncated UTF-16 (odd byte count)");
	fs_free(&s);

	struct fsink p = {0};
	struct run rp = {.pipe = 1, .head_len = 3};
	cr_assert_eq(run_scan(&p, d, sizeof d, &rp), PHI_EFORMAT, "also when the size is unknown");
	cr_assert_str_eq(rp.err.msg, "truncated UTF-16 (odd byte count)");
	fs_free(&p);
}

Test(text, latin1_decodes_as_windows_1252)
{
	const unsigned char d[] = "caf\xe9 \x80 \x81 \x9f \x93q\x94\nSECRET \xff";
	struct fsink s = {.marker = MARKER, .src = d, .src_len = sizeof d - 1, .kind = SRC_LATIN1};
	struct run r = {0};
	cr_assert_eq(run_scan(&s, d, sizeof d - 1, &r), 0);
	cr_assert_str_eq(r.encoding, "latin-1");
	const char *want = "caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbd \xc5\xb8 \xe2\x80\x9cq\xe2\x80\x9d\n"
	                   "SECRET \xc3\xbf";
	cr_assert_eq(s.text.len, strlen(want));
	cr_assert_eq(memcmp(s.text.p, want, strlen(want)), 0);
	cr_assert_eq(s.map_errors, 0);
	cr_assert_eq(s.nhits, 1);
	cr_assert_eq(s.hits[0].pos, 15);
	cr_assert_eq(s.hits[0].line, 2);
	cr_assert_eq(s.hits[0].col, 1);
	fs_free(&s);
}

static void expect_identical_copy(const void *data, size_t n, size_t chunk, const char *enc)
{
	struct fsink s = {.marker = "NOT-PRESENT-ANYWHERE", .repl = "[X]"};
	struct run r = {.strip = 1, .chunk = chunk};
	cr_assert_eq(run_scan(&s, data, n, &r), 0);
	cr_assert_str_eq(r.encoding, enc);
	cr_assert_eq(r.out.len, n, "%s copy has the input's length", enc);
	cr_assert_eq(memcmp(r.out.p, data, n), 0, "%s copy is byte-identical", enc);
	tb_free(&r.out);
	fs_free(&s);
}

Test(text, strip_without_edits_copies_every_encoding_byte_for_byte)
{
	struct tbuf d = {0};
	gen_lines(&d, 1u << 20, 1, 0);
	tb_put(&d, "\xff\xfe bad \xc0\x80 utf-8", 15); /* past the head: passed through */
	expect_identical_copy(d.p, d.len, 32 << 10, "utf-8");

	struct tbuf bom = {0};
	tb_put(&bom, "\xef\xbb\xbf", 3);
	tb_put(&bom, d.p, d.len);
	expect_identical_copy(bom.p, bom.len, 32 << 10, "utf-8-bom");

	struct tbuf u16 = {0};
	to_utf16(&u16, d.p, 300000, 1);
	put16(&u16, 0xDC00, 1); /* unpaired: decoded as U+FFFD, copied verbatim */
	put16(&u16, 'x', 1);
	put16(&u16, 0xD800, 1);
	expect_identical_copy(u16.p, u16.len, 32 << 10, "utf-16be");

	unsigned char l1[70000];
	for (size_t i = 0; i < sizeof l1; i++)
		l1[i] = (unsigned char)(i % 97 == 0 ? '\n' : 0x80 + i % 128);
	l1[0] = 'x';
	expect_identical_copy(l1, sizeof l1, 4096, "latin-1");

	tb_free(&d);
	tb_free(&bom);
	tb_free(&u16);
}

/* Replace every MARKER in a UTF-8 buffer the way the fake sink does. */
static void replace_all(struct tbuf *out, const unsigned char *p, size_t n, const char *repl,
                        size_t edit_len)
{
	size_t i = 0, mlen = strlen(MARKER);
	if (!edit_len)
		edit_len = mlen;
	while (i < n) {
		const unsigned char *m = memmem(p + i, n - i, MARKER, mlen);
		if (!m) {
			tb_put(out, p + i, n - i);
			break;
		}
		size_t at = (size_t)(m - p);
		tb_put(out, p + i, at - i);
		tb_str(out, repl);
		i = at + edit_len < n ? at + edit_len : n;
	}
}

Test(text, strip_utf8_replaces_markers_and_keeps_the_rest)
{
	const char *in = "\xef\xbb\xbfPatient " MARKER " seen\r\n" MARKER "\r\ncaf\xc3\xa9 " MARKER;
	const char *want = "\xef\xbb\xbfPatient [X] seen\r\n[X]\r\ncaf\xc3\xa9 [X]";
	struct fsink s = {.marker = MARKER, .repl = "[X]"};
	struct run r = {.strip = 1};
	cr_assert_eq(run_scan(&s, in, strlen(in), &r), 0);
	cr_assert_eq(r.out.len, strlen(want));
	cr_assert_eq(memcmp(r.out.p, want, strlen(want)), 0);
	tb_free(&r.out);
	fs_free(&s);
}

Test(text, strip_large_utf8_in_chunks_matches_whole_file_replacement)
{
	struct tbuf d = {0}, want = {0};
	gen_lines(&d, 5u << 20, 0, 3);
	replace_all(&want, d.p, d.len, "[X]", 0);
	struct fsink s = {.marker = MARKER, .repl = "[X]"};
	struct run r = {.strip = 1, .chunk = 64 << 10};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_eq(r.out.len, want.len);
	cr_assert_eq(memcmp(r.out.p, want.p, want.len), 0);
	tb_free(&r.out);
	tb_free(&want);
	tb_free(&d);
	fs_free(&s);
}

/* Edits of 300 bytes in a long line run past the cut; they are applied once and
 * the next chunk reports only what follows them. */
Test(text, strip_edit_running_past_the_cut_is_applied_once)
{
	size_t n = 1u << 20;
	unsigned char *d = malloc(n);
	cr_assert_not_null(d);
	rng_state = 5;
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)('a' + rnd() % 26);
	struct fsink probe = {0};
	struct run r0 = {.chunk = 64 << 10};
	cr_assert_eq(run_scan(&probe, d, n, &r0), 0);
	for (size_t i = 0; i + 1 < probe.nrec; i++) {
		size_t cut = (size_t)(probe.rec[i].offset + probe.rec[i].rt);
		memcpy(d + cut - 100, MARKER, 6);  /* edit covers the cut */
		memcpy(d + cut + 50, MARKER, 6);   /* inside that edit: not an edit */
		memcpy(d + cut + 250, MARKER, 6);  /* after it: an edit of its own */
	}
	struct tbuf want = {0};
	replace_all(&want, d, n, "<>", 300);
	struct fsink s = {.marker = MARKER, .repl = "<>", .edit_len = 300};
	struct run r = {.strip = 1, .chunk = 64 << 10};
	cr_assert_eq(run_scan(&s, d, n, &r), 0);
	cr_assert_eq(r.out.len, want.len);
	cr_assert_eq(memcmp(r.out.p, want.p, want.len), 0);
	tb_free(&r.out);
	tb_free(&want);
	fs_free(&probe);
	fs_free(&s);
	free(d);
}

static void utf8_of_utf16(struct tbuf *out, const unsigned char *p, size_t n, int be)
{
	unsigned char *tmp = malloc(3 * (n / 2) + 1);
	cr_assert_not_null(tmp);
	long k = phi_utf16_to_utf8(p, n, be, tmp, NULL);
	cr_assert_geq(k, 0);
	tb_put(out, tmp, (size_t)k);
	free(tmp);
}

Test(text, strip_utf16le_keeps_bom_and_reencodes_only_replacements)
{
	struct tbuf u8 = {0}, d = {0}, want = {0};
	gen_lines(&u8, 200000, 1, 4);
	tb_str(&u8, "\xf0\x9f\x98\x80 " MARKER);
	to_utf16(&d, u8.p, u8.len, 0);
	replace_all(&want, u8.p, u8.len, "[\xc3\xa9\xf0\x9f\xa6\xb7]", 0);

	struct fsink s = {.marker = MARKER, .repl = "[\xc3\xa9\xf0\x9f\xa6\xb7]"};
	struct run r = {.strip = 1, .chunk = 16 << 10};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_geq(r.out.len, 2);
	cr_assert_eq(r.out.p[0], 0xFF);
	cr_assert_eq(r.out.p[1], 0xFE);
	cr_assert_eq(r.out.len % 2, 0);
	struct tbuf back = {0};
	utf8_of_utf16(&back, r.out.p + 2, r.out.len - 2, 0);
	cr_assert_eq(back.len, want.len);
	cr_assert_eq(memcmp(back.p, want.p, want.len), 0);

	struct tbuf enc = {0};
	to_utf16(&enc, want.p, want.len, 0);
	cr_assert_eq(r.out.len, enc.len);
	cr_assert_eq(memcmp(r.out.p, enc.p, enc.len), 0);
	tb_free(&enc);
	tb_free(&back);
	tb_free(&r.out);
	tb_free(&u8);
	tb_free(&d);
	tb_free(&want);
	fs_free(&s);
}

Test(text, strip_latin1_keeps_bytes_and_encodes_replacements_to_cp1252)
{
	const char *in = "caf\xe9 SECRET \x80\x81\nSECRET";
	const char *want = "caf\xe9 [\xe9\x80?] \x80\x81\n[\xe9\x80?]";
	struct fsink s = {.marker = MARKER, .repl = "[\xc3\xa9\xe2\x82\xac\xce\xa9]"};
	struct run r = {.strip = 1};
	cr_assert_eq(run_scan(&s, in, strlen(in), &r), 0);
	cr_assert_str_eq(r.encoding, "latin-1");
	cr_assert_eq(r.out.len, strlen(want));
	cr_assert_eq(memcmp(r.out.p, want, strlen(want)), 0);
	tb_free(&r.out);
	fs_free(&s);
}

Test(text, pipe_input_with_head_already_read)
{
	struct tbuf d = {0};
	gen_lines(&d, 40000, 0, 3);
	struct fsink s = {.marker = MARKER};
	struct run r = {.pipe = 1, .head_len = 10, .chunk = 4096};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_eq(s.text.len, d.len);
	cr_assert_eq(memcmp(s.text.p, d.p, d.len), 0);
	check_hits_match_file(&s, d.p, d.len, 0);
	fs_free(&s);

	struct tbuf want = {0};
	replace_all(&want, d.p, d.len, "[X]", 0);
	struct fsink s2 = {.marker = MARKER, .repl = "[X]"};
	struct run r2 = {.pipe = 1, .head_len = 1, .chunk = 4096, .strip = 1};
	cr_assert_eq(run_scan(&s2, d.p, d.len, &r2), 0);
	cr_assert_eq(r2.out.len, want.len);
	cr_assert_eq(memcmp(r2.out.p, want.p, want.len), 0);
	tb_free(&r2.out);
	fs_free(&s2);
	tb_free(&want);
	tb_free(&d);
}

Test(text, pipe_with_a_one_byte_head_still_sees_the_utf16_bom)
{
	struct tbuf d = {0};
	to_utf16(&d, (const unsigned char *)"hi " MARKER "\n", 10, 1);
	struct fsink s = {.marker = MARKER};
	struct run r = {.pipe = 1, .head_len = 1};
	cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0);
	cr_assert_str_eq(r.encoding, "utf-16be");
	cr_assert_eq(s.text.len, 10);
	cr_assert_eq(memcmp(s.text.p, "hi " MARKER "\n", 10), 0);
	cr_assert_eq(s.nhits, 1);
	cr_assert_eq(s.hits[0].pos, 2 + 6);
	fs_free(&s);
	tb_free(&d);
}

Test(text, read_errors_propagate)
{
	struct fsink s = {0};
	struct run r = {.dir_fd = 1};
	cr_assert_eq(run_scan(&s, NULL, 0, &r), PHI_EIO);
	cr_assert_eq(r.err.code, PHI_EIO);
	fs_free(&s);
}

/* Random small files in tiny chunks, every context size, all three decodings:
 * the reported text is the whole decoded text once, markers are found once at
 * their source offsets, a copy without edits is identical and one with edits is
 * the whole-file replacement. */
Test(text, random_files_in_tiny_chunks_keep_every_invariant)
{
	static const char *const bits[] = {"a", "b", " ", "\n", "\r\n", "\xc3\xa9", "SEC", "RET",
	                                   MARKER, "\xf0\x9f\x98\x80", "\t", "xyzzy"};
	static const size_t chunks[] = {1, 64, 65, 100, 257, 600};
	static const size_t ctxs[] = {0, 1, 7, 40, 4096};
	rng_state = 2024;
	for (int iter = 0; iter < 240; iter++) {
		struct tbuf u8 = {0}, d = {0}, want = {0}, want8 = {0};
		int enc = iter % 3; /* 0 UTF-8, 1 UTF-16LE, 2 Latin-1 */
		size_t target = rnd() % 3000;
		if (enc == 2)
			tb_str(&u8, "\xc3\xa9"); /* written as the byte E9: not UTF-8 */
		while (u8.len < target)
			tb_str(&u8, bits[rnd() % (enc == 2 ? 9 : 12)]);
		if (enc == 0) {
			tb_put(&d, u8.p, u8.len);
		} else if (enc == 1) {
			to_utf16(&d, u8.p, u8.len, 0);
		} else {
			for (size_t i = 0; i < u8.len;) {
				uint32_t cp;
				i += phi_utf8_get(u8.p + i, u8.len - i, &cp);
				unsigned char b = (unsigned char)phi_cp1252_byte(cp);
				tb_put(&d, &b, 1);
			}
		}
		struct run r = {.chunk = chunks[rnd() % 6], .set_line_ctx = 1,
		                .line_ctx = ctxs[rnd() % 5]};
		struct fsink s = {.marker = MARKER, .src = d.p, .src_len = d.len,
		                  .kind = enc == 1 ? SRC_UTF16LE : enc == 2 ? SRC_LATIN1 : SRC_NONE};
		cr_assert_eq(run_scan(&s, d.p, d.len, &r), 0, "iteration %d", iter);
		cr_assert_eq(s.text.len, u8.len, "iteration %d", iter);
		cr_assert_eq(memcmp(s.text.p, u8.p, u8.len), 0, "iteration %d", iter);
		cr_assert_eq(s.map_errors, 0, "iteration %d", iter);
		if (enc == 0)
			check_hits_match_file(&s, u8.p, u8.len, 0);

		struct run r2 = r;
		r2.strip = 1;
		struct fsink s2 = {.marker = "NOT-THERE", .repl = "[X]"};
		cr_assert_eq(run_scan(&s2, d.p, d.len, &r2), 0);
		cr_assert_eq(r2.out.len, d.len, "iteration %d", iter);
		cr_assert_eq(memcmp(r2.out.p, d.p, d.len), 0, "iteration %d", iter);

		struct run r3 = r;
		r3.strip = 1;
		struct fsink s3 = {.marker = MARKER, .repl = "[\xc3\xa9]"};
		cr_assert_eq(run_scan(&s3, d.p, d.len, &r3), 0);
		replace_all(&want8, u8.p, u8.len, "[\xc3\xa9]", 0);
		if (enc == 0) {
			tb_put(&want, want8.p, want8.len);
		} else if (enc == 1) {
			to_utf16(&want, want8.p, want8.len, 0);
		} else {
			for (size_t i = 0; i < want8.len;) {
				uint32_t cp;
				i += phi_utf8_get(want8.p + i, want8.len - i, &cp);
				unsigned char b = (unsigned char)phi_cp1252_byte(cp);
				tb_put(&want, &b, 1);
			}
		}
		cr_assert_eq(r3.out.len, want.len, "iteration %d", iter);
		cr_assert_eq(memcmp(r3.out.p, want.p, want.len), 0, "iteration %d", iter);

		tb_free(&r2.out);
		tb_free(&r3.out);
		fs_free(&s);
		fs_free(&s2);
		fs_free(&s3);
		tb_free(&u8);
		tb_free(&d);
		tb_free(&want);
		tb_free(&want8);
	}
}
