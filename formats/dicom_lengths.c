/* dicom_lengths.c - every declared length of a DICOM stream checked before DCMTK
 * reads it.
 *
 * DCMTK allocates an element's declared length when it cannot defer the value (a
 * deflated data set is one stream it cannot seek in), so a 2 KB file declaring a
 * 3.5 GB value made it ask for 3.5 GB.  This walker follows the encoding (PS3.5
 * section 7: explicit or implicit VR, little or big endian, sequences and items of
 * defined or undefined length, encapsulated fragments) reading headers only, and
 * refuses the file when a length reaches past its container or the end of the data.
 * A deflated data set is inflated here first, under limits->max_inflate.
 *
 * It reads through a window over the file (the head the scanner already read, then
 * 64 KiB preads), so a 500 MB volume costs its headers, not its pixels; or, for a
 * file the caller holds in memory (phi_dicom_check_mem), the bytes there, noting
 * where the stored pixel bytes lie so a copy's can be compared with memcmp.
 */
#include "dicom.h"

#include "sha256.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define WIN 65536u

enum ts { TS_EXPLICIT_LE, TS_IMPLICIT_LE, TS_EXPLICIT_BE };

struct rd {
	const unsigned char *mem; /* whole data in memory (inflated), or NULL: the file */
	int fd;
	uint64_t size;            /* bytes of data */
	unsigned char *win;       /* WIN bytes of the file (file walks only) */
	uint64_t win_off;
	size_t win_len;
	unsigned depth, max_depth;
	struct phi_error *err;
	uint64_t base;            /* file offset of data byte 0, for messages */
	struct phi_sha256 *pix;   /* hash the top-level Pixel Data as stored, or NULL */
	struct phi_dicom_pixmap *map; /* and/or note where its bytes lie (memory only) */
	bool pix_seen;
	bool in_memory;           /* the caller's bytes: a deflated data set is refused */
	phi_dicom_value_fn pv;    /* patient module values go here, or NULL */
	void *pv_arg;
	struct pval {
		const char *cls;
		char v[257];
		size_t n;
	} pvals[16];              /* held until the walk shows whose file it is */
	size_t npvals;
	bool ours;                /* De-identification Method names phiscan */
	uint64_t file_size;       /* a memory walk of a file's first bytes: its size */
	bool short_data;          /* such a walk needed bytes past them */
	bool stopped;             /* the harvest's walk ended after group 0012 */
	char tsuid[65];           /* the meta header's Transfer Syntax UID, "" if none */
	uint64_t meta_end;        /* the meta header read to here (its group length), or 0:
	                             while its elements are group 0002 */
};

static const unsigned char *at(struct rd *r, uint64_t off, size_t n);

/* The Patient module attributes a case is recognised by (case.h). */
static const char *patient_class(uint16_t g, uint16_t e)
{
	if (g != 0x0010)
		return NULL;
	switch (e) {
	case 0x0010: /* Patient's Name */
	case 0x1001: /* Other Patient Names */
		return "name";
	case 0x0020: /* Patient ID */
	case 0x1000: /* Other Patient IDs */
		return "mrn";
	case 0x0030: /* Patient's Birth Date */
		return "date";
	default:
		return NULL;
	}
}

/* Each value of a multi-valued string (backslash-separated) to the callback. */
static int patient_value(struct rd *r, const char *cls, uint64_t off, uint32_t len)
{
	const unsigned char *v = at(r, off, len);
	if (!v)
		return 0; /* the length check reports it */
	for (uint32_t i = 0, s = 0; i <= len; i++)
		if (i == len || v[i] == '\\') {
			if (i > s && r->npvals < sizeof r->pvals / sizeof *r->pvals) {
				struct pval *p = &r->pvals[r->npvals++];
				p->cls = cls;
				p->n = i - s;
				memcpy(p->v, v + s, p->n);
			}
			s = i + 1;
		}
	return 0;
}

/* Feed n bytes of data at off to the pixel hash, and note their place. */
static int hash_range(struct rd *r, uint64_t off, uint64_t n)
{
	if (r->map && n) {
		struct phi_dicom_pixmap *m = r->map;
		if (m->n == m->cap) {
			size_t nc = m->cap ? m->cap * 2 : 16;
			void *t = realloc(m->v, nc * sizeof *m->v);
			if (!t)
				return phi_fail(r->err, PHI_ENOMEM, "out of memory");
			m->v = t;
			m->cap = nc;
		}
		m->v[m->n].off = off;
		m->v[m->n].len = n;
		m->n++;
	}
	if (!r->pix)
		return 0;
	if (r->mem) {
		phi_sha256_update(r->pix, r->mem + off, (size_t)n);
		return 0;
	}
	while (n) {
		size_t k = n < WIN ? (size_t)n : WIN;
		ssize_t got = pread(r->fd, r->win, k, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return phi_fail(r->err, PHI_EIO, "cannot read the pixel data at offset %llu",
			                (unsigned long long)(r->base + off));
		phi_sha256_update(r->pix, r->win, (size_t)got);
		off += (uint64_t)got;
		n -= (uint64_t)got;
	}
	r->win_len = 0; /* the window now holds pixel bytes at another offset */
	return 0;
}

/* n (<= WIN) bytes at off, or NULL when they are not all there. */
static const unsigned char *at(struct rd *r, uint64_t off, size_t n)
{
	if (off > r->size || r->size - off < n) {
		if (r->in_memory && r->file_size > r->size && off + n <= r->file_size)
			r->short_data = true; /* a prefix in memory; not an inflated data set */
		return NULL;
	}
	if (r->mem)
		return r->mem + off;
	if (off < r->win_off || off + n > r->win_off + r->win_len) {
		size_t want = WIN;
		ssize_t got;
		do
			got = pread(r->fd, r->win, want, (off_t)off);
		while (got < 0 && errno == EINTR);
		if (got < (ssize_t)n)
			return NULL;
		r->win_off = off;
		r->win_len = (size_t)got;
	}
	return r->win + (off - r->win_off);
}

static uint16_t u16(const unsigned char *p, bool be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t u32(const unsigned char *p, bool be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
	          : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	                    (uint32_t)p[3] << 24;
}

#define UNDEF 0xFFFFFFFFu

/* The standard VRs (PS3.5 table 7.1-1), those with a 4-byte length first. */
static const char longs[][3] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV",
                                "UC", "UN", "UR", "UT", "UV"};
static const char shorts[][3] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL",
                                 "IS", "LO", "LT", "PN", "SH", "SL", "SS", "ST", "TM",
                                 "UI", "UL", "US"};

static bool vr_in(const unsigned char *v, const char (*t)[3], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[0] == (unsigned char)t[i][0] && v[1] == (unsigned char)t[i][1])
			return true;
	return false;
}

/* A VR with a 4-byte length; DCMTK also reads an unknown VR that way, and so does
 * this walker. */
static bool long_vr(const unsigned char *v)
{
	return vr_in(v, longs, sizeof longs / sizeof *longs) ||
	       !vr_in(v, shorts, sizeof shorts / sizeof *shorts);
}

/* One of the standard VRs: what DCMTK's guess of a data set's encoding asks of the
 * two bytes after the first tag (DcmItem::foundVR, DcmVR::isStandard). */
static bool standard_vr(const unsigned char *v)
{
	return vr_in(v, longs, sizeof longs / sizeof *longs) ||
	       vr_in(v, shorts, sizeof shorts / sizeof *shorts);
}

static int bad(struct rd *r, uint64_t off, const char *what, uint16_t g, uint16_t e)
{
	return phi_fail_at(r->err, PHI_EFORMAT, r->base + off, "%s at (%04X,%04X), offset %llu",
	                   what, g, e, (unsigned long long)(r->base + off));
}

/* A value of len bytes at off runs past the bytes in memory (limit: where the
 * enclosing data ends), which are the first bytes of a longer file that holds it:
 * the walk needs the file, not an error (the harvest's walk of a head). */
static bool past_prefix(const struct rd *r, uint64_t limit, uint64_t off, uint64_t len)
{
	return r->in_memory && r->file_size > r->size && limit >= r->size &&
	       off + len <= r->file_size;
}

/* A value of len bytes at off where only left remain before limit: PHI_ENOTSUP with
 * short_data set when the bytes are in the longer file (past_prefix), else the
 * failure "WHAT (gggg,eeee) declares ..." (what: "element", "item in"). */
static int overrun(struct rd *r, uint64_t limit, uint64_t off, uint32_t len, uint64_t left,
                   const char *what, uint16_t g, uint16_t e)
{
	if (past_prefix(r, limit, off, len)) {
		r->short_data = true;
		return PHI_ENOTSUP;
	}
	return phi_fail_at(r->err, PHI_EFORMAT, r->base + off,
	                   "%s (%04X,%04X) declares %u bytes but %llu remain", what, g, e, len,
	                   (unsigned long long)left);
}

static int items(struct rd *r, uint64_t *off, uint64_t end, bool undef, enum ts ts,
                 bool fragments, bool hash, uint16_t g, uint16_t e);

/* Elements from *off to end (defined), or to an item delimiter (undef; *off is then
 * just past it). */
static int elements(struct rd *r, uint64_t *off, uint64_t end, bool undef, enum ts ts,
                    bool meta_only)
{
	bool be = ts == TS_EXPLICIT_BE;
	while (undef || *off < end) {
		if (meta_only && r->meta_end && *off >= r->meta_end)
			return 0; /* the group length's bytes read */
		const unsigned char *p = at(r, *off, 8);
		if (!p) {
			if (!undef && *off == end)
				break;
			if (undef && *off == r->size)
				return 0; /* an item left open at end of data: DCMTK's call */
			return phi_fail_at(r->err, PHI_EFORMAT, r->base + *off,
			                   "truncated element header at offset %llu",
			                   (unsigned long long)(r->base + *off));
		}
		uint16_t g = u16(p, be), el = u16(p + 2, be);
		/* the harvest needs the Patient module and (0012,0063), and top-level
		 * elements come in ascending tag order (PS3.5 7.1): it ends at a later group */
		if (r->pv && r->depth == 0 && !meta_only && g > 0x0012 && g != 0xFFFE) {
			r->stopped = true;
			return 0;
		}
		if (meta_only && !r->meta_end && !(p[0] == 0x02 && p[1] == 0) &&
		    !(p[0] == 0 && p[1] == 0x02))
			return 0; /* DCMTK's test for a meta element: group 0002, either byte order */
		if (g == 0xFFFE) {
			/* delimiters and items have a 4-byte length and no VR */
			if (undef && el == 0xE00D) {
				*off += 8;
				return 0;
			}
			return bad(r, *off, "item tag outside a sequence", g, el);
		}
		uint64_t hdr = 8;
		uint32_t len;
		bool sq = false, un = false, frag = false;
		if (ts == TS_IMPLICIT_LE) {
			len = u32(p + 4, false);
			frag = g == 0x7FE0 && el == 0x0010;
			sq = !frag;
		} else {
			const unsigned char *vr = p + 4;
			if (long_vr(vr)) {
				const unsigned char *q = at(r, *off, 12);
				if (!q)
					return bad(r, *off, "truncated element header", g, el);
				len = u32(q + 8, be);
				hdr = 12;
			} else {
				len = u16(p + 6, be);
			}
			sq = vr[0] == 'S' && vr[1] == 'Q';
			un = vr[0] == 'U' && vr[1] == 'N';
			frag = (vr[0] == 'O' && (vr[1] == 'B' || vr[1] == 'W'));
		}
		*off += hdr;
		uint64_t left = (undef ? r->size : end) - *off;
		const unsigned char *tv;
		if (meta_only && g == 0x0002 && el == 0x0010 && len < sizeof r->tsuid && len <= left &&
		    (tv = at(r, *off, len))) {
			memcpy(r->tsuid, tv, len);
			r->tsuid[len] = 0;
		}
		/* the top-level Pixel Data, hashed as stored (each fragment, in order) */
		bool pixels = (r->pix || r->map) && r->depth == 0 && g == 0x7FE0 && el == 0x0010;
		if (pixels)
			r->pix_seen = true;
		if (len == UNDEF) {
			if (!sq && !un && !frag)
				return bad(r, *off - hdr, "undefined length on a value that cannot have one",
				           g, el);
			/* UN of undefined length holds an implicit VR little endian sequence */
			int rc = items(r, off, 0, true, un ? TS_IMPLICIT_LE : ts, frag, frag && pixels, g, el);
			if (rc)
				return rc;
			continue;
		}
		if (len > left)
			return overrun(r, undef ? r->size : end, *off, len, left, "element", g, el);
		const char *pc = r->pv && r->depth == 0 && len <= 256 ? patient_class(g, el) : NULL;
		if (pc) {
			int rc = patient_value(r, pc, *off, len);
			if (rc)
				return rc;
		}
		/* (0012,0063) De-identification Method: a file phiscan wrote carries its own
		 * tokens, not a patient's */
		if (r->pv && r->depth == 0 && g == 0x0012 && el == 0x0063 && len >= 8) {
			const unsigned char *m = at(r, *off, 8);
			r->ours = m && !memcmp(m, "phiscan ", 8);
		}
		if (sq && ts != TS_IMPLICIT_LE) {
			uint64_t o = *off;
			int rc = items(r, &o, *off + len, false, ts, false, false, g, el);
			if (rc)
				return rc;
		} else if (pixels) {
			int rc = hash_range(r, *off, len);
			if (rc)
				return rc;
		}
		*off += len;
	}
	return 0;
}

/* Items of a sequence (or fragments of encapsulated pixel data). */
static int items(struct rd *r, uint64_t *off, uint64_t end, bool undef, enum ts ts,
                 bool fragments, bool hash, uint16_t g, uint16_t e)
{
	bool be = ts == TS_EXPLICIT_BE;
	if (++r->depth > r->max_depth)
		return phi_fail(r->err, PHI_EFORMAT, "sequences nested deeper than %u at (%04X,%04X)",
		                r->max_depth, g, e);
	while (undef || *off < end) {
		const unsigned char *p = at(r, *off, 8);
		if (!p) {
			if (undef && *off == r->size)
				break; /* an open sequence at end of data: DCMTK's call */
			return bad(r, *off, "truncated sequence", g, e);
		}
		uint16_t ig = u16(p, be), ie = u16(p + 2, be);
		uint32_t len = u32(p + 4, be);
		*off += 8;
		if (ig == 0xFFFE && ie == 0xE0DD && undef)
			break;
		if (ig != 0xFFFE || ie != 0xE000)
			return bad(r, *off - 8, "expected an item in the sequence", g, e);
		uint64_t left = (undef ? r->size : end) - *off;
		if (len == UNDEF) {
			if (fragments)
				return bad(r, *off - 8, "fragment of undefined length", g, e);
			int rc = elements(r, off, 0, true, ts, false);
			if (rc)
				return rc;
			continue;
		}
		if (len > left)
			return overrun(r, undef ? r->size : end, *off, len, left, "item in", g, e);
		if (!fragments) {
			uint64_t o = *off;
			int rc = elements(r, &o, *off + len, false, ts, false);
			if (rc)
				return rc;
		} else if (hash) {
			int rc = hash_range(r, *off, len);
			if (rc)
				return rc;
		}
		*off += len;
	}
	r->depth--;
	return 0;
}

/* Inflate the raw deflate stream at file offset from into memory, capped. */
static int inflate_rest(int fd, uint64_t from, uint64_t size, size_t cap,
                        unsigned char **out, size_t *out_n, struct phi_error *err)
{
	z_stream z = {0};
	unsigned char in[65536];
	size_t n = 0, have = 0;
	unsigned char *b = NULL;
	uint64_t off = from;
	int zr = Z_OK, rc = 0;
	if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
		return phi_fail(err, PHI_ENOMEM, "out of memory inflating the data set");
	while (zr != Z_STREAM_END) {
		if (z.avail_in == 0) {
			ssize_t got = off < size ? pread(fd, in, sizeof in, (off_t)off) : 0;
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				rc = phi_fail(err, PHI_EFORMAT, "deflated data set ends early");
				break;
			}
			off += (uint64_t)got;
			z.next_in = in;
			z.avail_in = (unsigned)got;
		}
		if (n == have) {
			if (have >= cap) {
				rc = phi_fail(err, PHI_ELIMIT,
				              "deflated data set inflates beyond the %zu MiB cap", cap >> 20);
				break;
			}
			size_t nc = have ? have * 2 : 1u << 16;
			if (nc > cap)
				nc = cap;
			unsigned char *t = realloc(b, nc);
			if (!t) {
				rc = phi_fail(err, PHI_ENOMEM, "out of memory inflating the data set");
				break;
			}
			b = t;
			have = nc;
		}
		z.next_out = b + n;
		z.avail_out = (unsigned)(have - n);
		zr = inflate(&z, Z_NO_FLUSH);
		n = have - z.avail_out;
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			rc = phi_fail(err, PHI_EFORMAT, "deflated data set is corrupt (zlib %d)", zr);
			break;
		}
	}
	inflateEnd(&z);
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	*out_n = n;
	return 0;
}

static bool vr_letters(const unsigned char *p)
{
	return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z';
}

/* The encoding of a data set without a stated transfer syntax, guessed from its first
 * element as DCMTK does: a standard VR where explicit VR has one (two letters that
 * are no VR, "DI", make it implicit: DCMTK then reads the next four bytes as a
 * length), and the group's byte order. */
static enum ts guess_ts(struct rd *r, uint64_t off)
{
	const unsigned char *p = at(r, off, 8);
	if (!p || !vr_letters(p + 4) || !standard_vr(p + 4))
		return TS_IMPLICIT_LE;
	return p[0] == 0 && p[1] != 0 ? TS_EXPLICIT_BE : TS_EXPLICIT_LE;
}

static int walk_file(int fd, const unsigned char *data, uint64_t size,
                     const struct phi_limits *lim, char pixels_hex[65],
                     struct phi_dicom_pixmap *map, phi_dicom_value_fn pv, void *pv_arg,
                     struct phi_error *err, uint64_t file_size)
{
	struct rd *r = calloc(1, sizeof *r);
	struct phi_sha256 pix;
	if (!r)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	if (map) {
		map->n = 0;
		map->seen = false;
		map->deflated = false;
		r->map = map;
	}
	r->mem = data;
	r->in_memory = data != NULL;
	if (!data && !(r->win = malloc(WIN))) {
		free(r);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	if (pixels_hex) {
		pixels_hex[0] = 0;
		if (phi_sha256_init(&pix)) {
			free(r->win);
			free(r);
			return phi_fail(err, PHI_ENOMEM, "out of memory");
		}
		r->pix = &pix;
	}
	r->fd = fd;
	r->size = size;
	r->file_size = file_size;
	r->pv = pv;
	r->pv_arg = pv_arg;
	r->err = err;
	r->max_depth = lim->max_depth;
	uint64_t off = 0;
	enum ts ts = TS_EXPLICIT_LE;
	bool deflated = false;
	int rc = 0;
	/* File Meta Information as DCMTK reads it (DcmMetaInfo): after the preamble and
	 * "DICM", or at byte 0 of a file without them when its first two bytes are group
	 * 0002 (either byte order); its encoding guessed from its first element, its
	 * elements read while they are group 0002.  The data set's encoding is then its
	 * Transfer Syntax UID's, or guessed from the data set's first element when there
	 * is none.  (A meta header without a preamble was once walked as a data set in the
	 * encoding of its first element: a data set DCMTK read as implicit VR went past
	 * this check and DCMTK allocated the 3 GB an element declared.) */
	const unsigned char *p = at(r, 128, 4);
	if (p && !memcmp(p, "DICM", 4))
		off = 132;
	p = at(r, off, 2);
	if (p && ((p[0] == 0x02 && p[1] == 0) || (p[0] == 0 && p[1] == 0x02))) {
		uint64_t o = off;
		enum ts mts = guess_ts(r, off);
		/* DCMTK (DcmMetaInfo::read, readGroupLength): when the first element is the
		 * group length (0002,0000) of a 4-byte value, the meta header is read, element
		 * by element and whatever their group, while fewer bytes than that value plus
		 * the 12 of its own element were read (a 32-bit count, as DCMTK's: one that
		 * wraps to 0xFFFFFFFF is no length); otherwise while they are group 0002.  An
		 * element of another group inside the length is then the meta header's, and
		 * the data set starts after it (fuzz_dicom: DCMTK read (2800,0301) there). */
		bool be = mts == TS_EXPLICIT_BE;
		const unsigned char *gl = at(r, off, 12);
		r->meta_end = 0;
		if (gl && u16(gl, be) == 0x0002 && u16(gl + 2, be) == 0x0000 &&
		    (mts == TS_IMPLICIT_LE ? u32(gl + 4, false) == 4
		                           : gl[4] == 'U' && gl[5] == 'L' && u16(gl + 6, be) == 4)) {
			uint32_t lf = u32(gl + 8, be) + 12u;
			if (lf != UINT32_MAX)
				r->meta_end = off + (lf < 12 ? 12 : lf);
		}
		if ((rc = elements(r, &o, 0, true, mts, true)))
			goto out;
		off = o;
		size_t tl = strlen(r->tsuid);
		while (tl && (r->tsuid[tl - 1] == ' ' || r->tsuid[tl - 1] == 0))
			r->tsuid[--tl] = 0;
		if (!strcmp(r->tsuid, "1.2.840.10008.1.2"))
			ts = TS_IMPLICIT_LE;
		else if (!strcmp(r->tsuid, "1.2.840.10008.1.2.2"))
			ts = TS_EXPLICIT_BE;
		else if (!strcmp(r->tsuid, "1.2.840.10008.1.2.1.99"))
			deflated = true;
		else if (!r->tsuid[0])
			ts = guess_ts(r, off); /* none given: DCMTK guesses from the data, as here */
	} else {
		ts = guess_ts(r, off);
	}
	if (deflated && r->in_memory) {
		rc = PHI_ENOTSUP; /* the caller takes the file path (see phi_dicom_check_mem) */
		goto out;
	}
	if (deflated) {
		unsigned char *mem = NULL;
		if (map)
			map->deflated = true;
		size_t n = 0;
		if ((rc = inflate_rest(fd, off, size, lim->max_inflate, &mem, &n, err)))
			goto out;
		r->mem = mem;
		r->size = n;
		r->base = 0;
		uint64_t o = 0;
		rc = elements(r, &o, n, false, TS_EXPLICIT_LE, false);
		free(mem);
		goto out;
	}
	rc = elements(r, &off, size, false, ts, false);
out:
	if (!rc && !r->stopped && r->in_memory && r->file_size > r->size)
		r->short_data = true; /* the first bytes ended on an element boundary */
	if (r->short_data)
		rc = PHI_ENOTSUP; /* the rest of the file is needed: the caller reads it */
	for (size_t i = 0; !rc && r->pv && !r->ours && i < r->npvals; i++)
		rc = r->pv(r->pv_arg, r->pvals[i].cls, r->pvals[i].v, r->pvals[i].n);
	if (r->pix) {
		if (!rc && r->pix_seen)
			rc = phi_sha256_final(&pix, pixels_hex) ? phi_fail(err, PHI_ENOMEM, "out of memory")
			                                        : 0;
		else
			phi_sha256_abort(&pix);
	}
	if (map)
		map->seen = !rc && r->pix_seen;
	free(r->win);
	free(r);
	return rc;
}

int phi_dicom_check_lengths(int fd, uint64_t size, const struct phi_limits *lim,
                            char pixels_hex[65], struct phi_error *err)
{
	return walk_file(fd, NULL, size, lim, pixels_hex, NULL, NULL, NULL, err, size);
}

int phi_dicom_check_lengths_map(int fd, uint64_t size, const struct phi_limits *lim,
                                char pixels_hex[65], struct phi_dicom_pixmap *map,
                                struct phi_error *err)
{
	return walk_file(fd, NULL, size, lim, pixels_hex, map, NULL, NULL, err, size);
}

int phi_dicom_check_mem(const unsigned char *data, size_t size, const struct phi_limits *lim,
                        char pixels_hex[65], struct phi_dicom_pixmap *map,
                        struct phi_error *err)
{
	return walk_file(-1, data, size, lim, pixels_hex, map, NULL, NULL, err, size);
}

int phi_dicom_patient_values(int fd, uint64_t size, const struct phi_limits *lim,
                             phi_dicom_value_fn fn, void *arg, struct phi_error *err)
{
	return walk_file(fd, NULL, size, lim, NULL, NULL, fn, arg, err, size);
}

int phi_dicom_patient_values_mem(const unsigned char *data, size_t n, uint64_t file_size,
                                 const struct phi_limits *lim, phi_dicom_value_fn fn, void *arg,
                                 struct phi_error *err)
{
	int rc = walk_file(-1, data, n, lim, NULL, NULL, fn, arg, err, file_size);
	return rc == PHI_ENOTSUP ? 1 : rc;
}
