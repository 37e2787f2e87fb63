/* text.c - plain text: detection by content, streaming scan in line-aligned chunks,
 * and stripping that rewrites only the edited bytes.
 *
 * Follows: RFC 3629 (UTF-8 well-formedness), RFC 2781 (UTF-16, BOM), Unicode 15
 * 3.9 (U+FFFD for ill-formed code units), the WHATWG Encoding Standard index for
 * windows-1252 (with its five undefined bytes 0x81 0x8D 0x8F 0x90 0x9D decoded as
 * U+FFFD instead of C1 controls).
 *
 * Streaming: the text is held in a window of at most `cap` UTF-8 bytes (cap =
 * chunk_size for UTF-8 sources; chunk_size / 4 for decoded sources, whose window
 * also carries a uint32 map per byte and the raw source bytes, so every source
 * stays within about 2 * chunk_size).  Each window is handed to the sink as one
 * field and cut after its last '\n' (or, in a line longer than the window, 1 KiB
 * before its end at a UTF-8 boundary); up to max_line_context bytes before the cut
 * (from a line start when the tail holds one) are carried into the next window as
 * look-behind, and report_from/report_to make every match reported exactly once.
 *
 * Stripping copies source bytes verbatim between edits (UTF-16 code units and
 * Latin-1 bytes included, so undecodable input survives untouched) and encodes only
 * the replacement text in the source encoding.
 *
 * Threading: reentrant; one call works on one struct phi_fctx.
 * Ownership: buffers are ctx->buf when large enough, else allocated here and freed
 * before scan() returns.  Fields passed to the sink borrow the window.
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>

enum text_enc { ENC_UTF8, ENC_UTF8_BOM, ENC_UTF16LE, ENC_UTF16BE, ENC_LATIN1 };

static const char *const enc_names[] = {
	[ENC_UTF8] = "utf-8",
	[ENC_UTF8_BOM] = "utf-8-bom",
	[ENC_UTF16LE] = "utf-16le",
	[ENC_UTF16BE] = "utf-16be",
	[ENC_LATIN1] = "latin-1",
};

/* Windows-1252 0x80-0x9F (WHATWG index-windows-1252); 0xFFFD marks undefined. */
static const uint16_t cp1252_hi[32] = {
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

/* Smallest window, whatever chunk_size says: keeps the cut arithmetic sane. */
#define TEXT_MIN_CAP 64u
/* Largest window: decoded offsets relative to the window must fit a uint32. */
#define TEXT_MAX_CAP ((size_t)256 << 20)
/* How far before the window end a line longer than the window is cut. */
#define TEXT_CUT_SLACK 1024u

uint32_t phi_cp1252_char(unsigned char b)
{
	if (b >= 0x80 && b <= 0x9F)
		return cp1252_hi[b - 0x80];
	return b;
}

int phi_cp1252_byte(uint32_t cp)
{
	if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
		return (int)cp;
	if (cp == PHI_REPLACEMENT_CHAR)
		return -1;
	for (int i = 0; i < 32; i++)
		if (cp1252_hi[i] == cp)
			return 0x80 + i;
	return -1;
}

size_t phi_utf8_put(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		cp = PHI_REPLACEMENT_CHAR;
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Classify the sequence at p[0..n), n > 0: 1 well-formed (*len set), 2 a valid
 * prefix cut short by n, 0 ill-formed.  The second-byte ranges are those of
 * Unicode Table 3-7, which exclude overlongs, surrogates and values > U+10FFFF. */
static int utf8_seq(const unsigned char *p, size_t n, size_t *len)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0x80) {
		*len = 1;
		return 1;
	}
	if (c < 0xC2)
		return 0;
	if (c <= 0xDF) {
		need = 2;
	} else if (c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= n)
			return 2;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	*len = need;
	return 1;
}

size_t phi_utf8_get(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len = 1;
	if (utf8_seq(p, n, &len) != 1) {
		*cp = PHI_REPLACEMENT_CHAR;
		return 1;
	}
	static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
	uint32_t v = p[0] & lead_mask[len];
	for (size_t i = 1; i < len; i++)
		v = (v << 6) | (p[i] & 0x3Fu);
	*cp = v;
	return len;
}

int phi_utf8_valid(const unsigned char *p, size_t n, int allow_truncated)
{
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t len = 1;
		int r = utf8_seq(p + i, n - i, &len);
		if (r == 1)
			i += len;
		else
			return r == 2 && allow_truncated;
	}
	return 1;
}

size_t phi_cp1252_to_utf8(const unsigned char *src, size_t n, unsigned char *dst,
                          uint32_t *map)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = phi_utf8_put(phi_cp1252_char(src[i]), dst + o);
		if (map)
			for (size_t j = 0; j < k; j++)
				map[o + j] = (uint32_t)i;
		o += k;
	}
	if (map)
		map[o] = (uint32_t)n;
	return o;
}

static uint32_t utf16_unit(const unsigned char *p, int be)
{
	return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

/* Decode the character at p[0..n), n >= 2.  Sets *used to the bytes it takes; a
 * high surrogate with its partner not yet available (n < 4) takes 0 unless
 * at_end, where it is unpaired. */
static uint32_t utf16_char(const unsigned char *p, size_t n, int be, int at_end,
                           size_t *used)
{
	uint32_t u = utf16_unit(p, be);
	*used = 2;
	if (u >= 0xDC00 && u <= 0xDFFF)
		return PHI_REPLACEMENT_CHAR;
	if (u < 0xD800 || u > 0xDBFF)
		return u;
	if (n < 4) {
		if (!at_end)
			*used = 0;
		return PHI_REPLACEMENT_CHAR;
	}
	uint32_t u2 = utf16_unit(p + 2, be);
	if (u2 < 0xDC00 || u2 > 0xDFFF)
		return PHI_REPLACEMENT_CHAR;
	*used = 4;
	return 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
}

long phi_utf16_to_utf8(const unsigned char *src, size_t n, int big_endian,
                       unsigned char *dst, uint32_t *map)
{
	if (n % 2)
		return PHI_EFORMAT;
	size_t o = 0, i = 0;
	while (i < n) {
		size_t used;
		uint32_t cp = utf16_char(src + i, n - i, big_endian, 1, &used);
		size_t k = phi_utf8_put(cp, dst + o);
		if (map)
			for (size_t j = 0; j < k; j++)
				map[o + j] = (uint32_t)i;
		o += k;
		i += used;
	}
	if (map)
		map[o] = (uint32_t)n;
	return (long)o;
}

/* C0 controls that ordinary text carries: \t \n \v \f \r and ESC (ANSI logs). */
static int is_bad_control(unsigned char c)
{
	return c < 0x20 && !(c >= 0x09 && c <= 0x0D) && c != 0x1B;
}

static int is_cp1252_undefined(unsigned char c)
{
	return c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D;
}

/* Scores: BOM 60 (a UTF-32LE BOM is not ours: 0); empty 10; NUL anywhere 0;
 * UTF-8 with under 1% stray controls 50; otherwise cp1252 with under 1% stray
 * controls and undefined bytes 40; else 0.  The name is not consulted. */
static int text_detect(const unsigned char *head, size_t n, const char *name)
{
	if (n == 0)
		return 10;
	if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
		return 60;
	if (n >= 2 && head[0] == 0xFF && head[1] == 0xFE)
		return n >= 4 && head[2] == 0 && head[3] == 0 ? 0 : 60;
	if (n >= 2 && head[0] == 0xFE && head[1] == 0xFF)
		return 60;
	if (memchr(head, 0, n))
		return 0;

	size_t ctrl = 0, undef = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_bad_control(head[i]))
			ctrl++;
		else if (is_cp1252_undefined(head[i]))
			undef++;
	}
	if (ctrl * 100 >= n)
		return 0;
	if (phi_utf8_valid(head, n, n == PHI_HEAD_SIZE))
		return 50;
	/* Not UTF-8: cp1252 decodes any byte, so demand it look like text. */
	if ((ctrl + undef) * 100 >= n)
		return 0;
	return 40;
}

static enum text_enc classify(const unsigned char *p, size_t n, int more)
{
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return ENC_UTF8_BOM;
	if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE)
		return ENC_UTF16LE;
	if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF)
		return ENC_UTF16BE;
	if (phi_utf8_valid(p, n, more))
		return ENC_UTF8;
	return ENC_LATIN1;
}

/* One file's scan.  Window invariants: t[0..len) is text whose first byte is at
 * line:col and at source offset base.  For decoded sources raw[0..rlen) are the
 * source bytes from base on, raw[0..rpos) of them decoded into t, and map[i] is
 * the offset in raw of the character holding t[i]. */
struct text_scan {
	struct phi_fctx *ctx;
	enum text_enc enc;
	int strip;
	unsigned char *t;
	size_t len, cap;
	uint32_t *map; /* NULL for UTF-8 sources */
	unsigned char *raw;
	size_t rlen, rpos, rcap;
	uint64_t base;
	uint64_t line, col;
	size_t rf;   /* report_from of the next field: text before it is done */
	int eof;     /* the input has no more bytes */
	size_t ctxlen, slack;
};

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Step back from p to the start of its UTF-8 character (at most 3 bytes); p is
 * returned unchanged inside an ill-formed run. */
static size_t utf8_back(const unsigned char *t, size_t p)
{
	size_t q = p;
	for (int i = 0; i < 3 && q > 0 && is_cont(t[q]); i++)
		q--;
	return is_cont(t[q]) ? p : q;
}

static size_t utf8_fwd(const unsigned char *t, size_t p, size_t end)
{
	size_t q = p;
	for (int i = 0; i < 3 && q < end && is_cont(t[q]); i++)
		q++;
	return q < end && is_cont(t[q]) ? p : q;
}

static void put_char(struct text_scan *s, uint32_t cp, size_t at)
{
	size_t k = phi_utf8_put(cp, s->t + s->len);
	for (size_t j = 0; j < k; j++)
		s->map[s->len + j] = (uint32_t)at;
	s->len += k;
}

/* Decode raw bytes into the window while it has room for any character (4). */
static void decode_some(struct text_scan *s)
{
	int be = s->enc == ENC_UTF16BE;
	while (s->cap - s->len >= 4 && s->rpos < s->rlen) {
		size_t at = s->rpos, used = 1;
		uint32_t cp;
		if (s->enc == ENC_LATIN1) {
			cp = phi_cp1252_char(s->raw[at]);
		} else {
			if (s->rlen - at < 2)
				break;
			cp = utf16_char(s->raw + at, s->rlen - at, be, s->eof, &used);
			if (!used)
				break;
		}
		put_char(s, cp, at);
		s->rpos += used;
	}
}

/* Fill the window until it is full or the input ends. */
static int fill(struct text_scan *s)
{
	struct phi_fctx *ctx = s->ctx;

	if (!s->map) {
		if (s->eof || s->len == s->cap)
			return 0;
		size_t room = s->cap - s->len;
		long r = phi_input_read(ctx, s->t + s->len, room);
		if (r < 0)
			return (int)r;
		s->len += (size_t)r;
		if ((size_t)r < room)
			s->eof = 1;
		return 0;
	}
	for (;;) {
		decode_some(s);
		if (s->cap - s->len < 4)
			return 0;
		if (s->eof) {
			/* Only an odd last byte of UTF-16 can be left undecoded here. */
			if (s->rpos < s->rlen)
				return phi_fail_at(ctx->err, PHI_EFORMAT, s->base + s->rpos,
				                   "truncated UTF-16 (odd byte count)");
			return 0;
		}
		/* raw holds at most 2 bytes per decoded text byte plus an incomplete
		 * character, so rcap = 2 * cap + 16 always leaves room here. */
		size_t room = s->rcap - s->rlen;
		long r = phi_input_read(ctx, s->raw + s->rlen, room);
		if (r < 0)
			return (int)r;
		s->rlen += (size_t)r;
		if ((size_t)r < room)
			s->eof = 1;
	}
}

/* Where a full (non-final) window ends its reported region. */
static size_t pick_cut(const struct text_scan *s)
{
	if (s->len > s->rf) {
		const unsigned char *nl = memrchr(s->t + s->rf, '\n', s->len - s->rf);
		if (nl)
			return (size_t)(nl - s->t) + 1;
	}
	size_t c = s->len > s->slack ? s->len - s->slack : 0;
	c = utf8_back(s->t, c);
	/* An edit of the previous window may have consumed past here. */
	return c < s->rf ? s->rf : c;
}

/* First byte of the look-behind kept after a cut. */
static size_t carry_start(const struct text_scan *s, size_t cut)
{
	size_t lo = cut > s->ctxlen ? cut - s->ctxlen : 0;
	if (lo == 0)
		return 0; /* the whole window is context; the next cut is forced */
	const unsigned char *nl = memchr(s->t + lo - 1, '\n', cut - lo);
	if (nl)
		return (size_t)(nl - s->t) + 1;
	return utf8_fwd(s->t, lo, cut);
}

static void shift(struct text_scan *s, size_t keep)
{
	for (size_t i = 0; i < keep; i++) {
		unsigned char c = s->t[i];
		if (c == '\n') {
			s->line++;
			s->col = 1;
		} else if (!is_cont(c)) {
			s->col++;
		}
	}
	if (!s->map) {
		memmove(s->t, s->t + keep, s->len - keep);
		s->len -= keep;
		s->base += keep;
		return;
	}
	uint32_t sh = s->map[keep];
	size_t n = s->len - keep;
	memmove(s->t, s->t + keep, n);
	for (size_t i = 0; i < n; i++)
		s->map[i] = s->map[i + keep] - sh;
	s->len = n;
	memmove(s->raw, s->raw + sh, s->rlen - sh);
	s->rlen -= sh;
	s->rpos -= sh;
	s->base += sh;
}

/* Copy the source bytes of text t[a..b) to the output. */
static int write_src(struct text_scan *s, size_t a, size_t b)
{
	if (a >= b)
		return 0;
	if (!s->map)
		return phi_output_write(s->ctx, s->t + a, b - a);
	return phi_output_write(s->ctx, s->raw + s->map[a], s->map[b] - s->map[a]);
}

/* Write UTF-8 replacement text in the source encoding. */
static int write_repl(struct text_scan *s, const char *repl, size_t n)
{
	const unsigned char *r = (const unsigned char *)repl;
	unsigned char ob[256];
	size_t on = 0;
	int rc;

	if (n == 0)
		return 0;
	if (s->enc == ENC_UTF8 || s->enc == ENC_UTF8_BOM)
		return phi_output_write(s->ctx, r, n);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += phi_utf8_get(r + i, n - i, &cp);
		if (s->enc == ENC_LATIN1) {
			int b = phi_cp1252_byte(cp);
			ob[on++] = b < 0 ? '?' : (unsigned char)b;
		} else {
			uint32_t u[2];
			int nu = 1;
			u[0] = cp;
			if (cp >= 0x10000) {
				u[0] = 0xD800 + ((cp - 0x10000) >> 10);
				u[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
				nu = 2;
			}
			for (int k = 0; k < nu; k++) {
				unsigned char hi = (unsigned char)(u[k] >> 8);
				unsigned char lo = (unsigned char)(u[k] & 0xFF);
				ob[on++] = s->enc == ENC_UTF16BE ? hi : lo;
				ob[on++] = s->enc == ENC_UTF16BE ? lo : hi;
			}
		}
		if (on > sizeof ob - 4) {
			if ((rc = phi_output_write(s->ctx, ob, on)))
				return rc;
			on = 0;
		}
	}
	return on ? phi_output_write(s->ctx, ob, on) : 0;
}

/* Hand the window to the sink with report region [rf, cut); in strip mode write
 * the output up to *done (cut, or the end of an edit that runs past it). */
static int emit(struct text_scan *s, size_t cut, size_t *done)
{
	struct phi_fctx *ctx = s->ctx;
	struct phi_field f = {
		.text = (const char *)s->t,
		.len = s->len,
		.kind = PHI_FIELD_TEXT,
		.where = NULL,
		.offset = s->base,
		.map = s->map,
		.line = s->line,
		.col = s->col,
		.report_from = s->rf,
		.report_to = cut,
	};
	struct phi_edits ed = {NULL, 0};
	int rc;

	*done = cut;
	if (ctx->sink_ops && ctx->sink_ops->field) {
		rc = ctx->sink_ops->field(ctx->sink, &f, s->strip ? &ed : NULL);
		if (rc)
			return rc;
	}
	if (!s->strip)
		return 0;

	size_t pos = s->rf;
	for (size_t i = 0; i < ed.n; i++) {
		const struct phi_edit *e = &ed.v[i];
		size_t a = e->start, b = e->end;
		/* The sink promises sorted, non-overlapping edits starting in the
		 * region; anything else is not ours to apply here. */
		if (a < pos || a >= cut)
			continue;
		if (b > s->len)
			b = s->len;
		if (b < a)
			b = a;
		if ((rc = write_src(s, pos, a)) || (rc = write_repl(s, e->repl, e->repl_len)))
			return rc;
		pos = b;
	}
	if (pos < cut) {
		if ((rc = write_src(s, pos, cut)))
			return rc;
		pos = cut;
	}
	*done = pos;
	return 0;
}

static int scan_stream(struct text_scan *s)
{
	for (;;) {
		int rc = fill(s);
		if (rc)
			return rc;
		int final = s->eof && (!s->map || s->rpos == s->rlen);
		if (s->map)
			s->map[s->len] = (uint32_t)s->rpos; /* end entry, for emit and shift */
		size_t cut = final ? s->len : pick_cut(s);
		size_t done = cut;
		if (cut > s->rf && (rc = emit(s, cut, &done)))
			return rc;
		if (final)
			return 0;
		size_t keep = carry_start(s, cut);
		shift(s, keep);
		s->rf = done - keep;
	}
}

static int scan_with_buffers(struct phi_fctx *ctx, enum text_enc enc, uint64_t start)
{
	struct text_scan s = {
		.ctx = ctx,
		.enc = enc,
		.strip = ctx->out_fd >= 0,
		.line = 1,
		.col = 1,
	};
	size_t chunk = ctx->limits && ctx->limits->chunk_size ? ctx->limits->chunk_size
	                                                      : (size_t)1 << 20;
	size_t lctx = ctx->limits ? ctx->limits->max_line_context : 4096;
	int decoded = enc != ENC_UTF8 && enc != ENC_UTF8_BOM;
	void *own = NULL;
	int rc;

	s.cap = decoded ? chunk / 4 : chunk;
	if (s.cap < TEXT_MIN_CAP)
		s.cap = TEXT_MIN_CAP;
	if (s.cap > TEXT_MAX_CAP)
		s.cap = TEXT_MAX_CAP;
	s.ctxlen = lctx < s.cap / 4 ? lctx : s.cap / 4;
	s.slack = TEXT_CUT_SLACK < s.cap / 4 ? TEXT_CUT_SLACK : s.cap / 4;

	/* The BOM is not text: skip it, and keep it in the copy. */
	size_t bomlen = enc == ENC_UTF8_BOM ? 3 : enc == ENC_UTF16LE || enc == ENC_UTF16BE ? 2 : 0;
	if (bomlen) {
		unsigned char bom[3];
		long r = phi_input_read(ctx, bom, bomlen);
		if (r < 0)
			return (int)r;
		if ((size_t)r != bomlen)
			return phi_fail_at(ctx->err, PHI_EFORMAT, start, "truncated byte order mark");
		if (s.strip && (rc = phi_output_write(ctx, bom, bomlen)))
			return rc;
	}
	s.base = start + bomlen;
	if (decoded && enc != ENC_LATIN1 && ctx->size != PHI_NO_OFFSET && ctx->size >= s.base &&
	    (ctx->size - s.base) % 2)
		return phi_fail_at(ctx->err, PHI_EFORMAT, ctx->size - 1,
		                   "truncated UTF-16 (odd byte count)");

	if (!decoded) {
		if (ctx->buf && ctx->buf_cap >= s.cap) {
			s.t = ctx->buf;
		} else {
			s.t = own = malloc(s.cap);
			if (!own)
				return phi_fail(ctx->err, PHI_ENOMEM, "text: out of memory");
		}
	} else {
		s.rcap = 2 * s.cap + 16;
		size_t mapsz = (s.cap + 1) * sizeof *s.map;
		size_t need = mapsz + s.cap + s.rcap + sizeof(uint32_t);
		unsigned char *p;
		if (ctx->buf && ctx->buf_cap >= need) {
			p = ctx->buf;
		} else {
			p = own = malloc(need);
			if (!own)
				return phi_fail(ctx->err, PHI_ENOMEM, "text: out of memory");
		}
		size_t mis = (uintptr_t)p % sizeof(uint32_t);
		if (mis)
			p += sizeof(uint32_t) - mis;
		s.map = (uint32_t *)(void *)p;
		s.t = p + mapsz;
		s.raw = s.t + s.cap;
	}
	rc = scan_stream(&s);
	free(own);
	return rc;
}

static int text_scan(struct phi_fctx *ctx)
{
	const unsigned char *ohead = ctx->head;
	size_t ohead_len = ctx->head_len;
	uint64_t start = ctx->head_pos;
	unsigned char sniff[4096];
	const unsigned char *h;
	size_t hn = ctx->head_len > ctx->head_pos ? ctx->head_len - ctx->head_pos : 0;
	int more, replaced = 0, rc;

	if (hn >= 4 || (ctx->size != PHI_NO_OFFSET && ctx->size <= start + hn)) {
		h = hn ? ctx->head + ctx->head_pos : sniff;
		more = ctx->size == PHI_NO_OFFSET || ctx->size > start + hn;
	} else {
		/* Too little head to see a BOM: read a sniff buffer and serve it as
		 * the head, so phi_input_read still yields every byte in order. */
		if (hn)
			memcpy(sniff, ctx->head + ctx->head_pos, hn);
		ctx->head_pos = ctx->head_len;
		long r = phi_input_read(ctx, sniff + hn, sizeof sniff - hn);
		if (r < 0)
			return (int)r;
		more = (size_t)r == sizeof sniff - hn;
		hn += (size_t)r;
		ctx->head = sniff;
		ctx->head_len = hn;
		ctx->head_pos = 0;
		h = sniff;
		replaced = 1;
	}

	enum text_enc enc = classify(h, hn, more);
	ctx->encoding = enc_names[enc];
	rc = scan_with_buffers(ctx, enc, start);
	if (replaced) {
		ctx->head = ohead;
		ctx->head_len = ohead_len;
		ctx->head_pos = ohead_len;
	}
	return rc;
}

const struct phi_format phi_format_text = {
	.name = "text",
	.detect = text_detect,
	.scan = text_scan,
	.can_strip = 1,
};
