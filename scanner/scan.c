/* scan.c - one file through the pipeline (see scan.h).
 *
 * Strip writes are atomic (DESIGN.md "Stripping"): the copy goes to a temporary
 * file in the destination directory and is renamed (or linked) over the
 * destination.  --in-place fsyncs the copy before the rename and the directory
 * after, so an original is only ever replaced by a complete durable copy.  With
 * -o OUT the copies are new files: the CLI makes them durable together with one
 * syncfs() before it writes the manifest, the run's commit record (a per-file
 * fsync cost 9 ms a file on ext4 and dominated a DICOM batch).  A failure removes
 * the temporary file and leaves any existing destination, and always the
 * original, untouched.  A kill leaves at most the temporary files being written
 * (".phiscan-" and six characters, beside their originals); the next --in-place
 * run over the tree removes them and reports each as skipped ("temporary file of
 * an interrupted strip: removed").  tests/test_inplace.c kills strips to prove it.
 *
 * Threading: a worker touches only its own state; options, engine and policy are
 * shared read-only.
 */
#include "scan.h"

#include "../formats/dicom.h"
#include "../formats/imgmeta.h"
#include "../formats/indigest.h"
#include "../formats/sha256.h"
#include "baseline.h"
#include "archive.h"
#include "case.h"
#include "pathname.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define EXCERPT_SIDE 32
#define REPL_MAX 512

struct fhit {
	size_t start, end;
	const char *rule;
	const char *cls;
	enum phi_severity sev;
	double conf;
	const char *repl;   /* the replacement when it is not the policy's (a renamed file) */
};

struct phi_worker {
	const struct phi_scan_opts *o;
	struct phi_matcher *m;
	struct phi_error err;
	unsigned char *head;
	unsigned char *buf;
	size_t buf_cap;
	struct phi_result *res;
	const char *path;
	struct fhit *fh;
	size_t nfh, capfh;
	struct phi_edit *edits;
	size_t nedits, capedits;
	char *repl;
	size_t repl_len, repl_cap;
	void *fstate[PHI_MAX_FORMATS]; /* per-format state, indexed like phi_formats[] */
	struct phi_archive *arch;      /* archive walk state (archive.c) */
	bool hold;                     /* an archive entry being stripped: its findings
	                                  stay with it (no flush) until the archive is done */
	/* the case of the current file (case.h), or cases == NULL */
	const struct phi_cases *cases;
	struct phi_sweep_scratch *sweep;
	size_t kase;
	/* the archive being walked: its renamed entries, for references (archive.c) */
	phi_ref_fn ref_fn;
	void *ref_arg;
	const char *last_value;        /* the last structured field's text, and length */
	size_t last_value_len;
	/* harvest mode: structured patient values go to hv_fn instead of the rules */
	phi_harvest_fn hv_fn;
	void *hv_arg;
	char *made_dir;                /* strip -o: the output directory made last */
	char *acl_dir;                 /* the directory default_acl asked about last */
	bool acl_default;              /* its answer */
	uint64_t rnd;                  /* temporary file names (xorshift64*) */
	int umask;                     /* the process's umask, or -1: not known */
};

/* The umask, from /proc/self/status (Linux 4.7): umask(2) can only be read by
 * setting it, which would race with files other threads create.  -1: not known.
 * Read once for the process, by the first worker made. */
static int umask_value = -1;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

static void read_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned v;
	while (f && umask_value < 0 && fgets(line, sizeof line, f))
		if (sscanf(line, "Umask: %o", &v) == 1 && v <= 0777)
			umask_value = (int)v;
	if (f)
		fclose(f);
}

int phi_worker_new(struct phi_worker **out, const struct phi_scan_opts *o)
{
	struct phi_worker *w = calloc(1, sizeof *w);
	*out = NULL;
	if (!w)
		return PHI_ENOMEM;
	w->o = o;
	w->buf_cap = 2 * o->limits->chunk_size + 2 * o->limits->max_line_context + 65536;
	w->head = malloc(PHI_HEAD_SIZE);
	w->buf = malloc(w->buf_cap);
	if (sodium_init() < 0) {
		phi_worker_free(w);
		return PHI_ENOMEM;
	}
	randombytes_buf(&w->rnd, sizeof w->rnd);
	w->rnd |= 1; /* xorshift never leaves 0 */
	pthread_once(&umask_once, read_umask);
	w->umask = umask_value;
	if (!w->head || !w->buf || phi_matcher_new(&w->m, o->engine)) {
		phi_worker_free(w);
		return PHI_ENOMEM;
	}
	*out = w;
	return 0;
}

void phi_worker_free(struct phi_worker *w)
{
	if (!w)
		return;
	phi_matcher_free(w->m);
	phi_sweep_scratch_free(w->sweep);
	for (size_t i = 0; i < PHI_MAX_FORMATS && phi_formats[i]; i++)
		if (w->fstate[i] && phi_formats[i]->free_state)
			phi_formats[i]->free_state(w->fstate[i]);
	free(w->head);
	free(w->buf);
	free(w->fh);
	free(w->edits);
	free(w->repl);
	free(w->made_dir);
	free(w->acl_dir);
	phi_archive_free(w->arch);
	free(w);
}

/* ---- the sink: engine hits to findings and edits ---- */

static int push_fhit(struct phi_worker *w, struct fhit h);

static int collect(void *arg, const struct phi_hit *h)
{
	struct phi_worker *w = arg;
	return push_fhit(w, (struct fhit){h->start, h->end, h->rule->id, h->rule->cls->name,
	                                  h->rule->severity, h->confidence, NULL}) != 0;
}

static bool is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Append the masked form of t[a..b): letters and digits become '*', each non-ASCII
 * character one '*', other ASCII kept. */
static void mask_into(char *dst, size_t *n, const char *t, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c >= 0x80) {
			if (!is_cont(c))
				dst[(*n)++] = '*';
		} else if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
			dst[(*n)++] = '*';
		} else {
			dst[(*n)++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
		}
	}
}

/* One line of context around hit k with every hit in view masked. */
static char *make_excerpt(const struct phi_worker *w, const char *t, size_t len, size_t k)
{
	size_t s = w->fh[k].start, e = w->fh[k].end;
	size_t a = s > EXCERPT_SIDE ? s - EXCERPT_SIDE : 0, b = e + EXCERPT_SIDE < len ? e + EXCERPT_SIDE : len;
	for (size_t i = s; i > a; i--)
		if (t[i - 1] == '\n' || t[i - 1] == '\r') {
			a = i;
			break;
		}
	for (size_t i = e; i < b; i++)
		if (t[i] == '\n' || t[i] == '\r') {
			b = i;
			break;
		}
	while (a < s && is_cont((unsigned char)t[a]))
		a++;
	while (b > e && b < len && is_cont((unsigned char)t[b]))
		b--;
	size_t span = e - s;
	if (span > 256)
		span = 256; /* a huge value is shown by its start only */
	char *out = malloc((s - a) + span + (b > e ? b - e : 0) + 16);
	size_t n = 0;
	if (!out)
		return NULL;
	if (a > 0 && t[a - 1] != '\n' && t[a - 1] != '\r')
		n += (size_t)snprintf(out, 4, "...");
	size_t i = a;
	size_t stop = e - s > 256 ? s + 256 : b;
	/* Hits are sorted by start and do not overlap: only neighbours of k can reach
	 * into the excerpt (a scan over every hit per byte was quadratic on large
	 * files with many findings). */
	size_t lo = k, hi = k + 1;
	while (lo > 0 && w->fh[lo - 1].end > a)
		lo--;
	while (hi < w->nfh && w->fh[hi].start < stop)
		hi++;
	while (i < stop) {
		/* inside some hit? mask to its end */
		size_t hend = 0;
		for (size_t j = lo; j < hi; j++)
			if (w->fh[j].start <= i && i < w->fh[j].end && w->fh[j].end > hend)
				hend = w->fh[j].end;
		if (hend) {
			size_t to = hend < stop ? hend : stop;
			mask_into(out, &n, t, i, to);
			i = to;
			continue;
		}
		unsigned char c = (unsigned char)t[i++];
		out[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	if (stop < len && t[stop] != '\n' && t[stop] != '\r')
		n += (size_t)snprintf(out + n, 4, "...");
	out[n] = 0;
	return out;
}

static int add_edit(struct phi_worker *w, size_t s, size_t e, const char *r, size_t rn)
{
	if (w->nedits == w->capedits) {
		size_t nc = w->capedits ? w->capedits * 2 : 32;
		struct phi_edit *t = realloc(w->edits, nc * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		w->edits = t;
		w->capedits = nc;
	}
	if (w->repl_len + rn + 1 > w->repl_cap) {
		size_t nc = (w->repl_cap + rn + 1) * 2;
		char *t = realloc(w->repl, nc);
		if (!t)
			return PHI_ENOMEM;
		w->repl = t;
		w->repl_cap = nc;
	}
	memcpy(w->repl + w->repl_len, r, rn);
	/* repl holds offsets until the field is done: the buffer may move */
	w->edits[w->nedits++] = (struct phi_edit){s, e, (const char *)(uintptr_t)w->repl_len, rn};
	w->repl_len += rn;
	w->repl[w->repl_len++] = 0;
	return 0;
}

/* Text only: hits on a line holding the marker "phiscan:allow" are dropped, in scan
 * and strip alike (the line's author says it is not PHI).  Other formats do not
 * honour it: a value inside a DICOM element or an Exif tag could carry the marker
 * and hide itself. */
static void drop_allowed(struct phi_worker *w, const char *t, size_t len)
{
	static const char marker[] = PHI_ALLOW_MARKER;
	size_t kept = 0, ls = SIZE_MAX, le = 0;
	bool allowed = false;
	for (size_t k = 0; k < w->nfh; k++) {
		size_t s = w->fh[k].start;
		if (ls == SIZE_MAX || s < ls || s >= le) {
			ls = s;
			while (ls > 0 && t[ls - 1] != '\n')
				ls--;
			le = s;
			while (le < len && t[le] != '\n')
				le++;
			allowed = memmem(t + ls, le - ls, marker, sizeof marker - 1) != NULL;
		}
		if (!allowed)
			w->fh[kept++] = w->fh[k];
	}
	w->nfh = kept;
}

/* ---- the case: identifiers that travel, references to renamed files ---- */

static int push_fhit(struct phi_worker *w, struct fhit h)
{
	if (w->nfh == w->capfh) {
		size_t nc = w->capfh ? w->capfh * 2 : 32;
		struct fhit *t = realloc(w->fh, nc * sizeof *t);
		if (!t)
			return PHI_ENOMEM;
		w->fh = t;
		w->capfh = nc;
	}
	w->fh[w->nfh++] = h;
	return 0;
}

struct sweep_arg {
	struct phi_worker *w;
	size_t nrule; /* hits from the rules come first in fh */
	int rc;
};

static int on_sweep(void *arg, size_t start, size_t end, const char *cls, const char *rule)
{
	struct sweep_arg *sa = arg;
	for (size_t i = 0; i < sa->nrule; i++)
		if (sa->w->fh[i].start < end && start < sa->w->fh[i].end)
			return 0; /* a rule found it already */
	sa->rc = push_fhit(sa->w, (struct fhit){start, end, rule, cls, PHI_SEV_PATIENT, 0.95, NULL});
	return sa->rc;
}

static int cmp_fhit(const void *a, const void *b)
{
	const struct fhit *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* A reference to a file the case renames (PHI_FF_PATH): each renamed component
 * becomes its new name, whatever the rules found inside it. */
static int reference_hits(struct phi_worker *w, const struct phi_field *f, size_t end)
{
	/* the value is text[report_from, end): around it is context */
	for (size_t i = f->report_from; i < end;) {
		size_t j = i;
		while (j < end && f->text[j] != '/' && f->text[j] != '\\')
			j++;
		const char *to = j > i && w->ref_fn ? w->ref_fn(w->ref_arg, f->text + i, j - i) : NULL;
		if (!to && j > i && w->cases)
			to = phi_cases_map_get(w->cases, w->kase, f->text + i, j - i);
		if (to) {
			size_t k = 0;
			for (size_t m = 0; m < w->nfh; m++)
				if (!(w->fh[m].start < j && i < w->fh[m].end))
					w->fh[k++] = w->fh[m];
			w->nfh = k;
			int rc = push_fhit(w, (struct fhit){i, j, "renamed-file-reference", "name",
			                                    PHI_SEV_PATIENT, 1.0, to});
			if (rc)
				return rc;
		}
		i = j + 1;
	}
	return 0;
}

static int case_hits(struct phi_worker *w, const struct phi_field *f, size_t to)
{
	struct sweep_arg sa = {w, w->nfh, 0};
	int rc = w->cases ? phi_cases_match(w->cases, w->sweep, w->kase, f->text, f->len,
	                                    f->report_from, to, on_sweep, &sa)
	                  : 0;
	if (!rc)
		rc = sa.rc;
	if (!rc && (f->flags & PHI_FF_PATH))
		rc = reference_hits(w, f, to);
	if (!rc && w->nfh > 1)
		qsort(w->fh, w->nfh, sizeof *w->fh, cmp_fhit);
	return rc;
}

int phi_worker_set_case(struct phi_worker *w, const struct phi_cases *c, size_t idx)
{
	if (c && !w->sweep && phi_sweep_scratch_new(&w->sweep, c))
		return PHI_ENOMEM;
	w->cases = c;
	w->kase = idx;
	return 0;
}

void phi_worker_name_ctx(struct phi_worker *w, struct phi_name_ctx *x)
{
	*x = (struct phi_name_ctx){w->m, w->cases, w->sweep, w->kase, w->cases != NULL,
	                           w->o->show_values};
}

void phi_worker_refs(struct phi_worker *w, phi_ref_fn fn, void *arg, phi_ref_fn *old_fn,
                     void **old_arg)
{
	if (old_fn)
		*old_fn = w->ref_fn;
	if (old_arg)
		*old_arg = w->ref_arg;
	w->ref_fn = fn;
	w->ref_arg = arg;
}

static int sink_field(void *sink, const struct phi_field *f, struct phi_edits *edits)
{
	struct phi_worker *w = sink;
	const struct phi_scan_opts *o = w->o;
	int rc = 0;

	w->nfh = 0;
	w->nedits = 0;
	w->repl_len = 0;
	w->last_value = f->kind == PHI_FIELD_VALUE ? f->text : NULL;
	w->last_value_len = f->len;
	if (f->kind == PHI_FIELD_VALUE && f->value_class) {
		if (f->report_from == 0 && f->len > 0) {
			const struct phi_class_info *ci = phi_class_find(f->value_class);
			struct fhit h = {0, f->len, f->value_rule ? f->value_rule : "structured-field",
			                 ci ? ci->name : "id", (enum phi_severity)f->value_severity, 1.0,
			                 NULL};
			if (push_fhit(w, h))
				return PHI_ENOMEM;
		}
	} else {
		size_t to = f->report_to > f->len ? f->len : f->report_to;
		rc = phi_engine_match(w->m, f->text, f->len, f->report_from, to, w->path, collect, w);
		if (rc)
			return phi_fail(&w->err, rc, "rule engine: %s", phi_strerror(rc));
		/* a value already reported whole (a format may run the rules over it too) is
		 * not swept again */
		bool dup = f->text == w->last_value && f->len == w->last_value_len;
		if ((w->cases || w->ref_fn) && !dup && (rc = case_hits(w, f, to)))
			return phi_fail(&w->err, rc, "case identifiers: %s", phi_strerror(rc));
		if (w->nfh && w->res->format && !strcmp(w->res->format, "text"))
			drop_allowed(w, f->text, f->len);
	}

	uint64_t line = f->line, col = f->col;
	size_t pos = 0;
	for (size_t k = 0; k < w->nfh && !rc; k++) {
		const struct fhit *h = &w->fh[k];
		if (line) {
			for (; pos < h->start; pos++) {
				unsigned char c = (unsigned char)f->text[pos];
				if (c == '\n') {
					line++;
					col = 1;
				} else if (!is_cont(c)) {
					col++;
				}
			}
		}
		struct phi_finding fd = {0};
		fd.rule = strdup(h->rule);
		fd.cls = h->cls;
		fd.severity = h->sev;
		fd.confidence = h->conf;
		fd.field = f->where ? strdup(f->where) : NULL;
		if (f->offset == PHI_NO_OFFSET) {
			fd.start = fd.end = PHI_NO_OFFSET;
		} else {
			fd.start = f->offset + (f->map ? f->map[h->start] : h->start);
			fd.end = f->offset + (f->map ? f->map[h->end] : h->end);
		}
		fd.line = line;
		fd.col = line ? col : 0;
		fd.excerpt = make_excerpt(w, f->text, f->len, k);
		if (o->show_values)
			fd.value = phi_memdup(f->text + h->start, h->end - h->start);
		if (o->fingerprint) {
			phi_baseline_fingerprint(o->fingerprint, w->path, h->rule, f->text + h->start,
			                         h->end - h->start, fd.fp);
			fd.has_fp = true;
		}
		if (edits) {
			char r[REPL_MAX];
			size_t rn = 0;
			if (h->repl)
				rn = (size_t)snprintf(r, sizeof r, "%s", h->repl);
			else if (phi_replace(o->policy, h->cls, f->text + h->start, h->end - h->start, r,
			                     sizeof r, &rn))
				rn = (size_t)snprintf(r, sizeof r, "[PHI]");
			fd.replacement = phi_memdup(r, rn);
			if ((rc = add_edit(w, h->start, h->end, r, rn))) {
				free(fd.rule), free(fd.field), free(fd.excerpt), free(fd.value),
				    free(fd.replacement);
				break;
			}
		}
		if (!fd.rule || !fd.excerpt || (f->where && !fd.field) || (edits && !fd.replacement)) {
			free(fd.rule), free(fd.field), free(fd.excerpt), free(fd.value),
			    free(fd.replacement);
			rc = PHI_ENOMEM;
		} else if ((rc = phi_result_add(w->res, &fd))) {
			/* phi_result_add consumed the finding, even on failure */
			break;
		}
	}
	if (rc == PHI_ELIMIT)
		return phi_fail(&w->err, rc, "more findings in one file than can be held");
	if (rc)
		return phi_fail(&w->err, rc, "out of memory recording findings");
	/* Many findings: hand them to the reporter now (it waits for this file's turn
	 * in walk order), so memory stays bounded whatever the file holds. */
	if (o->flush && !w->hold && w->res->n >= o->flush_at && (rc = o->flush(o->flush_arg, w->res)))
		return phi_fail(&w->err, rc, "cannot write the report");
	if (edits) {
		for (size_t i = 0; i < w->nedits; i++)
			w->edits[i].repl = w->repl + (uintptr_t)w->edits[i].repl;
		edits->v = w->edits;
		edits->n = w->nedits;
	}
	return 0;
}

static int sink_record(void *sink, const char *name, const char *value)
{
	struct phi_worker *w = sink;
	if (phi_result_fact(w->res, name, value))
		return phi_fail(&w->err, PHI_ENOMEM, "out of memory recording a fact");
	return 0;
}

static const struct phi_sink_ops sink_ops = {sink_field, sink_record};

/* Harvest: only structured patient values, handed to the caller; no rules. */
static int harvest_field(void *sink, const struct phi_field *f, struct phi_edits *edits)
{
	struct phi_worker *w = sink;
	(void)edits;
	if (f->kind == PHI_FIELD_VALUE && f->value_class && f->value_severity == 2 &&
	    f->report_from == 0)
		return w->hv_fn(w->hv_arg, f->value_class, f->text, f->len);
	return 0;
}

static int harvest_record(void *sink, const char *name, const char *value)
{
	(void)sink, (void)name, (void)value;
	return 0;
}

static const struct phi_sink_ops harvest_ops = {harvest_field, harvest_record};

/* ---- files ---- */

static void set_outcome(struct phi_result *res, enum phi_status st, const char *reason)
{
	res->status = st;
	free(res->reason);
	res->reason = strdup(reason);
}

/* A strip of a format phiscan scans but cannot strip (PDF, WebP, HEIF): true when
 * the scan found identifiers (those already reported, flushed, count too), and then
 * nothing of the file is written: it is refused (unscanned, exit 2), or with
 * --drop-unstrippable left out of the output and reported as dropped. */
static bool unstrippable(const struct phi_worker *w, const struct phi_format *fmt,
                         struct phi_result *res)
{
	if (!res->n && !res->flushed)
		return false;
	char msg[160];
	res->dropped = w->o->drop_unstrippable;
	snprintf(msg, sizeof msg, "the %s format cannot be stripped yet: %s", fmt->name,
	         res->dropped ? "left out of the output (--drop-unstrippable)" : "nothing written");
	set_outcome(res, res->dropped ? PHI_SKIPPED : PHI_UNREADABLE, msg);
	return true;
}

/* The first PHI_HEAD_SIZE bytes, or the whole file when it is shorter.  size is what
 * fstat said (UINT64_MAX: not known), so a file read whole costs one read, not a
 * second one to see its end.  The file was opened O_NONBLOCK (a FIFO put in its
 * place must not hang the run), which Linux file systems do not honour for regular
 * files (open(2)); one that does (EAGAIN) gets the flag cleared and the read retried. */
static int read_head_to(int fd, uint64_t size, unsigned char *head, size_t cap, size_t *n,
                        bool at0)
{
	size_t got = *n;
	while (got < cap) {
		/* at0: from the file's start by pread, the offset left at 0 (the harvest
		 * keeps the file open for the scan pass, which reads it from there) */
		ssize_t r = at0 ? pread(fd, head + got, cap - got, (off_t)got)
		                : read(fd, head + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == size)
			break; /* all that fstat promised */
	}
	*n = got;
	return 0;
}

static int read_head(int fd, uint64_t size, unsigned char *head, size_t *n)
{
	*n = 0;
	return read_head_to(fd, size, head, PHI_HEAD_SIZE, n, false);
}

/* A scan of a Part 10 file reads its header, not its pixel data (dicom.c reads on
 * as far as the elements go): the head of a larger file is read in two steps, first
 * bytes and the rest of PHI_HEAD_SIZE only when the file is not DICOM, whose
 * detection (PS3.10 7.1) needs the first 140 bytes.  The scan's first step holds
 * the whole header of most files (../shared/samples: 0.3-9 KB before the pixel
 * data, one 35 KB; the bench's CT slices 0.8 KB), and dicom.c reads on as the parse
 * asks (native_prefix).  The case harvest reads heads the same way, with a
 * smaller first step: its DICOM walk stops after group 0012, in the first KiB of
 * the files seen, and reads on from the file when it does not (dicom_lengths.c),
 * so 12 KiB a file less are copied for the scan to read again. */
#define SCAN_HEAD_FIRST 8192
#define HARVEST_HEAD_FIRST 4096

static int read_head_dicom_first(int fd, uint64_t size, unsigned char *head, size_t first,
                                 size_t *n, bool at0)
{
	*n = 0;
	if (size <= first)
		return read_head_to(fd, size, head, PHI_HEAD_SIZE, n, at0);
	int rc = read_head_to(fd, size, head, first, n, at0);
	if (!rc && *n == first && strcmp(phi_format_guess(head, *n, NULL), "dicom"))
		rc = read_head_to(fd, size, head, PHI_HEAD_SIZE, n, at0);
	return rc;
}

static int mkdirs(char *path)
{
	/* the usual case, a directory made for an earlier file, costs one call */
	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return 0;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0777) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0777) && errno != EEXIST)
		return -1;
	return 0;
}

/* Make dir (strip -o) and remember it as the worker's last; *made is set. */
static int make_out_dir(struct phi_worker *w, char *dir, bool *made)
{
	free(w->made_dir);
	w->made_dir = NULL;
	if (mkdirs(dir))
		return -1;
	w->made_dir = strdup(dir); /* NULL: made again next time */
	*made = true;
	return 0;
}

static void fsync_dir(const char *dir)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d >= 0) {
		(void)fsync(d);
		close(d);
	}
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static const struct phi_strip_opts no_sopts;

/* Create the temporary copy in dir as mkstemp would (".phiscan-" and six letters or
 * digits, O_EXCL, another name while one exists), with the original's permissions
 * when creating can give them exactly: mode has no set-id or sticky bit (a write by
 * an unprivileged process clears them), no bit the umask takes away, and the
 * directory has no default ACL.  Then the
 * copy needs no fchmod, a system call a file; *exact says so.  Otherwise it is
 * made 0600 as mkstemp does and fchmod'ed later.  Names come from the worker's
 * xorshift64*, seeded by libsodium: no getrandom per file. */
/* Whether a file created in dir takes its permissions from a default ACL (acl(5):
 * then the mode given to open is masked by the ACL, not by the umask, and a copy of a
 * 0644 file came out 0600).  Asked once per directory (the worker remembers the last);
 * a file system without ACLs has none; any other failure answers yes, so the copy
 * gets its mode by fchmod as before. */
static bool default_acl(struct phi_worker *w, const char *dir)
{
	if (w->acl_dir && !strcmp(w->acl_dir, dir))
		return w->acl_default;
	ssize_t n = getxattr(dir, "system.posix_acl_default", NULL, 0);
	bool yes = n > 0 || (n < 0 && errno != ENODATA && errno != ENOTSUP);
	free(w->acl_dir);
	w->acl_dir = strdup(dir); /* NULL: asked again next time */
	w->acl_default = yes;
	return yes;
}

static int make_temp(struct phi_worker *w, const char *dir, mode_t mode, char *tmp, size_t cap,
                     bool *exact)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	*exact = w->umask >= 0 && !(mode & 07000) && !(mode & (mode_t)w->umask) &&
	         !default_acl(w, dir);
	for (int tries = 0; tries < 100; tries++) {
		w->rnd ^= w->rnd >> 12;
		w->rnd ^= w->rnd << 25;
		w->rnd ^= w->rnd >> 27;
		uint64_t r = w->rnd * 2685821657736338717ull;
		char name[7];
		for (size_t i = 0; i < 6; i++, r /= 62)
			name[i] = set[r % 62];
		name[6] = 0;
		if (snprintf(tmp, cap, "%s/.phiscan-%s", dir, name) >= (int)cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, *exact ? mode & 0777 : 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/* A strip's temporary file as scan_file names it (make_temp: ".phiscan-" and six
 * letters or digits).  One is left only when a strip was killed between creating
 * and renaming it. */
static bool is_strip_temp(const char *base)
{
	if (strncmp(base, ".phiscan-", 9) || strlen(base) != 15)
		return false;
	for (size_t i = 9; i < 15; i++)
		if (!((base[i] >= '0' && base[i] <= '9') || ((base[i] | 0x20) >= 'a' && (base[i] | 0x20) <= 'z')))
			return false;
	return true;
}

/* A guessed label that names a format in the table. */
static bool is_supported(const char *label)
{
	for (size_t i = 0; phi_formats[i]; i++)
		if (!strcmp(phi_formats[i]->name, label))
			return true;
	return false;
}

static int run_format(struct phi_worker *w, const struct phi_format *fmt, int fd,
                      uint64_t size, size_t head_len, int out_fd, uint64_t *nread,
                      struct phi_result *hashes)
{
	size_t fi = 0;
	while (fi < PHI_MAX_FORMATS - 1 && phi_formats[fi] && phi_formats[fi] != fmt)
		fi++;
	struct phi_fctx ctx = {
		.path = w->path,
		.fd = fd,
		.size = size,
		.head = w->head,
		.head_len = head_len,
		.out_fd = out_fd,
		.limits = w->o->limits,
		.err = &w->err,
		.sink_ops = w->hv_fn ? &harvest_ops : &sink_ops,
		.sink = w,
		.buf = w->buf,
		.buf_cap = w->buf_cap,
		.sopts = w->o->sopts ? w->o->sopts : &no_sopts,
		.state = &w->fstate[fi],
	};
	unsigned long faults = phi_img_bus_faults();
	int rc = fmt->scan(&ctx);
	/* a mapped file shrank under the format: it read zeros (imgmeta.h) */
	if (!rc && phi_img_bus_faults() != faults)
		rc = phi_fail(&w->err, PHI_EIO, "the file shrank while it was read: not scanned");
	if (hashes && !rc && ctx.in_sha256[0] && (ctx.out_sha256[0] || ctx.in_kind)) {
		memcpy(hashes->in_sha256, ctx.in_sha256, sizeof ctx.in_sha256);
		memcpy(hashes->out_sha256, ctx.out_sha256, sizeof ctx.out_sha256);
		hashes->in_kind = ctx.in_kind;
	}
	if (nread)
		*nread = ctx.in_bytes > head_len ? ctx.in_bytes : head_len;
	return rc;
}

static void reason_from_error(struct phi_worker *w, struct phi_result *res, int rc)
{
	char msg[320];
	if (w->err.code == rc && w->err.msg[0]) {
		if (w->err.offset != PHI_NO_OFFSET)
			snprintf(msg, sizeof msg, "%s (at byte %llu)", w->err.msg,
			         (unsigned long long)w->err.offset);
		else
			snprintf(msg, sizeof msg, "%s", w->err.msg);
	} else {
		snprintf(msg, sizeof msg, "%s", phi_strerror(rc));
	}
	set_outcome(res, PHI_UNREADABLE, msg);
}

static bool listed(const char *const *names, const char *name)
{
	for (const char *const *n = names; n && *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

/* The outcome of an input no format claims, said here for a file (scan and strip:
 * "not scanned") and for standard input (filter: "nothing written", and never
 * skipped: filter exits 2 and writes nothing).  res->format becomes the guess from
 * the head and name. */
static void unclaimed(struct phi_worker *w, size_t head_len, const char *name, bool input,
                      struct phi_result *res)
{
	char msg[320];
	const char *then = input ? "nothing written" : "not scanned";
	res->format = phi_format_guess(w->head, head_len, name);
	if (is_supported(res->format)) {
		/* it looks like a format phiscan reads, yet none took it: malformed, and
		 * a gate fails closed on it */
		snprintf(msg, sizeof msg, "looks like %s but does not parse as %s: %s", res->format,
		         res->format, then);
		set_outcome(res, PHI_UNREADABLE, msg);
	} else if (strcmp(res->format, "unknown")) {
		/* A format phiscan knows carries identifiers yet cannot read (PDF: Rx forms
		 * with full demographics) is unscanned, and a gate fails closed on it; a
		 * configuration that lists it under skip_formats accepts the risk. */
		if (!input && listed(w->o->skip_formats, res->format)) {
			snprintf(msg, sizeof msg,
			         "%s files are skipped by the configuration (skip_formats)", res->format);
			set_outcome(res, PHI_SKIPPED, msg);
		} else {
			snprintf(msg, sizeof msg, "%s %s not supported yet: %s", res->format,
			         input ? "input is" : "files are", then);
			set_outcome(res, PHI_UNREADABLE, msg);
		}
	} else if (input) {
		set_outcome(res, PHI_UNREADABLE, "no format claims this input: nothing written");
	} else {
		set_outcome(res, PHI_SKIPPED,
		            memchr(w->head, 0, head_len) ? "binary data that no format claims"
		                                         : "no format claims this file");
	}
}

/* The format for the bytes in w->head, or NULL with res's outcome set (skipped, or
 * unreadable when they look like a format phiscan reads yet none took them). */
static const struct phi_format *detect_or_skip(struct phi_worker *w, size_t head_len,
                                               const char *name, struct phi_result *res)
{
	const struct phi_format *fmt = phi_format_detect(w->head, head_len, name);
	if (fmt && listed(w->o->skip_formats, fmt->name)) {
		char msg[320];
		res->format = fmt->name;
		snprintf(msg, sizeof msg, "%s files are skipped by the configuration (skip_formats)",
		         fmt->name);
		set_outcome(res, PHI_SKIPPED, msg);
		return NULL;
	}
	if (!fmt)
		unclaimed(w, head_len, name, false, res);
	return fmt;
}

/* The n bytes of fd, from its start, to out (a clean file or archive entry of a
 * format phiscan scans but cannot strip; filter's kept input).  0, or -1 with
 * errno set. */
static int copy_whole(struct phi_worker *w, int fd, uint64_t n, int out)
{
	for (uint64_t off = 0; off < n;) {
		ssize_t k = pread(fd, w->buf, w->buf_cap, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			errno = k ? errno : EIO; /* shorter than it was: changed_since says so */
			return -1;
		}
		for (ssize_t done = 0; done < k;) {
			ssize_t m = write(out, w->buf + done, (size_t)(k - done));
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				errno = m ? errno : EIO;
				return -1;
			}
			done += m;
		}
		off += (uint64_t)k;
	}
	return 0;
}

#define CHANGED_WHILE_READ "changed while it was read (size or modification time): not scanned"
#define VANISHED_WHILE_READ "vanished while it was read (removed or replaced): not scanned"

/* The reason when the open file fd no longer has the size and modification time it
 * had when it was opened (before): it grew, shrank or was rewritten while it was
 * being read, so what was scanned (and copied) is not the file.  Issue 7, bad-input
 * row fs-grow: a file appended to during the scan was read past its opening size and
 * reported with an input hash of bytes the scan never saw.  Or its last name is gone
 * (no links): it was removed, or another file renamed into its place, after it was
 * opened; what was read is no file of the tree any more (bad-input row fs-vanish; the
 * harvest may have opened it long before the scan, plan.h).  NULL: unchanged. */
static const char *changed_since(int fd, const struct stat *before)
{
	struct stat now;
	if (fstat(fd, &now) != 0)
		return CHANGED_WHILE_READ;
	/* (a file system that reports no links for every file, as a FUSE one may, is
	 * not taken for removals: the links must have gone since the first stat) */
	if (now.st_nlink == 0 && before->st_nlink > 0)
		return VANISHED_WHILE_READ;
	if (now.st_size != before->st_size || now.st_mtim.tv_sec != before->st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != before->st_mtim.tv_nsec)
		return CHANGED_WHILE_READ;
	return NULL;
}

static bool replaced_since(const char *path, const struct stat *st)
{
	struct stat now;
	return stat(path, &now) != 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino;
}

/* The start of one input: a fresh error record, and the result and path the
 * worker's sink reports to (both borrowed until the next input). */
static void bind_file(struct phi_worker *w, struct phi_result *res, const char *path)
{
	memset(&w->err, 0, sizeof w->err);
	w->err.offset = PHI_NO_OFFSET;
	w->res = res;
	w->path = path;
}

/* kept_fd: the file already open (the harvest's, at offset 0, with its stat in st),
 * or -1; either way closed here on every path. */
static void scan_file(struct phi_worker *w, const char *path, const char *rel, int kept_fd,
                      struct stat st, struct phi_result *res)
{
	const struct phi_scan_opts *o = w->o;
	char msg[320], dest[PATH_MAX], tmp[PATH_MAX + 32];
	int fd = kept_fd, out_fd = -1, rc;
	size_t head_len = 0;
	bool mode_exact = false; /* the copy was created with the original's mode */

	bind_file(w, res, path);
	res->format = "unknown";
	if (o->strip && o->in_place && is_strip_temp(base_name(path))) {
		/* an interrupted --in-place run left it: the original beside it is untouched
		 * or already replaced whole, so the copy is of no use; removed, reported */
		if (fd >= 0)
			close(fd);
		if (unlink(path) == 0) {
			set_outcome(res, PHI_SKIPPED, "temporary file of an interrupted strip: removed");
		} else {
			snprintf(msg, sizeof msg, "temporary file of an interrupted strip, cannot remove: %s",
			         strerror(errno));
			set_outcome(res, PHI_UNREADABLE, msg);
		}
		return;
	}
	if (fd < 0 && (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
		/* ENOENT: the walker saw it, so it went away in between (bad-input fs-vanish) */
		snprintf(msg, sizeof msg, "%scannot open: %s",
		         errno == ENOENT ? "vanished after the walk: " : "", strerror(errno));
		set_outcome(res, PHI_UNREADABLE, msg);
		return;
	}
	if ((kept_fd < 0 && fstat(fd, &st)) || !S_ISREG(st.st_mode)) {
		set_outcome(res, PHI_SKIPPED, "not a regular file");
		close(fd);
		return;
	}
	res->size = (uint64_t)st.st_size;
	if (o->limits->max_file_size && (uint64_t)st.st_size > o->limits->max_file_size) {
		snprintf(msg, sizeof msg, "larger than the %llu-byte limit (--max-size)",
		         (unsigned long long)o->limits->max_file_size);
		set_outcome(res, PHI_UNREADABLE, msg);
		close(fd);
		return;
	}
	rc = o->strip ? read_head(fd, (uint64_t)st.st_size, w->head, &head_len)
	              : read_head_dicom_first(fd, (uint64_t)st.st_size, w->head, SCAN_HEAD_FIRST, &head_len,
	                                      false);
	if (rc) {
		snprintf(msg, sizeof msg, "read failed: %s", strerror(-rc));
		set_outcome(res, PHI_UNREADABLE, msg);
		close(fd);
		return;
	}
	const char *akind = phi_archive_detect(w->head, head_len);
	const struct phi_format *fmt = akind ? NULL : detect_or_skip(w, head_len, base_name(path), res);
	if (!fmt && !akind) {
		close(fd);
		return;
	}
	res->format = akind ? akind : fmt->name;
	for (const char *const *sf = o->skip_formats; akind && sf && *sf; sf++)
		if (!strcmp(*sf, akind)) {
			snprintf(msg, sizeof msg, "%s files are skipped by the configuration (skip_formats)",
			         res->format);
			set_outcome(res, PHI_SKIPPED, msg);
			close(fd);
			return;
		}
	/* A format phiscan scans but cannot strip (PDF, WebP, HEIF) is scanned all the
	 * same, so the report lists its findings and a file that does not parse says
	 * so.  With findings nothing is written; without, the copy is the original's
	 * bytes, as for such an entry of an archive: what a scan calls clean passes a
	 * gate as it is.  (--in-place: a clean one is left alone.) */
	bool scan_only = o->strip && fmt && !fmt->can_strip;
	if (o->strip && !(scan_only && o->in_place)) {
		if (o->in_place)
			snprintf(dest, sizeof dest, "%s", path);
		else if (snprintf(dest, sizeof dest, "%s/%s", o->out_root, rel) >= (int)sizeof dest) {
			set_outcome(res, PHI_UNREADABLE, "output path too long");
			close(fd);
			return;
		}
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", dest);
		char *dn = dirname(dir);
		/* the output directory: made once for all its files (a worker remembers the
		 * last one), made again if it went away meanwhile.  An existing output is
		 * found when the copy is published (RENAME_NOREPLACE), not asked about first. */
		bool made = false, dir_ok = true;
		if (!o->in_place && (!w->made_dir || strcmp(w->made_dir, dn)))
			dir_ok = make_out_dir(w, dn, &made) == 0;
		if (dir_ok) {
			out_fd = make_temp(w, dn, st.st_mode & 07777, tmp, sizeof tmp, &mode_exact);
			if (out_fd < 0 && errno == ENOENT && !o->in_place && !made &&
			    (dir_ok = make_out_dir(w, dn, &made) == 0))
				out_fd = make_temp(w, dn, st.st_mode & 07777, tmp, sizeof tmp, &mode_exact);
		}
		if (out_fd < 0) {
			snprintf(msg, sizeof msg,
			         dir_ok ? "cannot create output file: %s" : "cannot create output directory: %s",
			         strerror(errno));
			set_outcome(res, PHI_UNREADABLE, msg);
			close(fd);
			return;
		}
	}
	rc = akind ? phi_archive_scan(&w->arch, w, o, &w->err, fd, (uint64_t)st.st_size, out_fd, res)
	           : run_format(w, fmt, fd, (uint64_t)st.st_size, head_len, scan_only ? -1 : out_fd,
	                        NULL, res);
	if (rc) {
		reason_from_error(w, res, rc);
		if (rc == PHI_ESKIP)
			res->status = PHI_SKIPPED;
		if (out_fd >= 0) {
			close(out_fd);
			unlink(tmp);
		}
		close(fd);
		return;
	}
	res->status = PHI_SCANNED;
	const char *changed = out_fd < 0 ? changed_since(fd, &st) : NULL;
	if (changed) {
		set_outcome(res, PHI_UNREADABLE, changed);
		close(fd);
		return;
	}
	if (scan_only) {
		bool kept = !unstrippable(w, fmt, res);
		if (kept && out_fd >= 0 && copy_whole(w, fd, (uint64_t)st.st_size, out_fd)) {
			snprintf(msg, sizeof msg, "cannot copy the file: %s", strerror(errno));
			set_outcome(res, PHI_UNREADABLE, msg);
			kept = false;
		}
		if (!kept || out_fd < 0) { /* refused, dropped, or --in-place and clean */
			if (out_fd >= 0) {
				close(out_fd);
				unlink(tmp);
			}
			close(fd);
			return;
		}
	}
	if (out_fd >= 0) {
		bool ok = (mode_exact || fchmod(out_fd, st.st_mode & 07777) == 0) &&
		          (!o->in_place || fsync(out_fd) == 0);
		/* the format may have hashed both from memory, or given its own digest of
		 * the input (format.h); else read them, both in one interleaved pass
		 * (sha256.h: 1.5x two passes with SHA-NI) */
		if (ok && res->in_sha256[0] && res->in_kind && !res->out_sha256[0]) {
			const int fds[1] = {out_fd};
			char hex[1][65];
			ok = phi_sha256_fds(fds, 1, hex) == 0;
			if (ok)
				memcpy(res->out_sha256, hex[0], sizeof res->out_sha256);
		} else if (ok && (!res->in_sha256[0] || !res->out_sha256[0])) {
			const int fds[2] = {fd, out_fd};
			char hex[2][65];
			ok = phi_sha256_fds(fds, 2, hex) == 0;
			if (ok) {
				memcpy(res->in_sha256, hex[0], sizeof res->in_sha256);
				memcpy(res->out_sha256, hex[1], sizeof res->out_sha256);
				res->in_kind = NULL;
			}
		}
		/* after the input hash: the copy, the hash and the scan saw the same bytes */
		const char *changed_copy = ok ? changed_since(fd, &st) : NULL;
		if (changed_copy) {
			close(out_fd);
			unlink(tmp);
			set_outcome(res, PHI_UNREADABLE, changed_copy);
			close(fd);
			return;
		}
		ok = close(out_fd) == 0 && ok;
		/* Without --force the copy is published with renameat2(RENAME_NOREPLACE),
		 * or link() where the file system has no such rename, either of which fails
		 * if the destination exists (from an earlier run, or another input mapping
		 * to the same path): an existing file is never replaced. */
		bool published = false, linked = false;
		if (ok && o->in_place && replaced_since(path, &st)) {
			unlink(tmp);
			set_outcome(res, PHI_UNREADABLE,
			            "removed or replaced while it was read: not written");
			close(fd);
			return;
		}
		if (ok && (o->force || o->in_place)) {
			published = rename(tmp, dest) == 0;
		} else if (ok) {
			published = renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) == 0;
			if (!published && (errno == EINVAL || errno == ENOSYS))
				published = linked = link(tmp, dest) == 0;
		}
		if (!published) {
			if (errno == EEXIST)
				snprintf(msg, sizeof msg, "output exists (use --force to overwrite)");
			else
				snprintf(msg, sizeof msg, "cannot write the stripped copy: %s", strerror(errno));
			unlink(tmp);
			set_outcome(res, PHI_UNREADABLE, msg);
		} else {
			if (linked)
				unlink(tmp);
			char dir[PATH_MAX];
			snprintf(dir, sizeof dir, "%s", dest);
			if (o->in_place)
				fsync_dir(dirname(dir));
			res->out_path = strdup(dest);
			/* a format's own digest of the input is no file hash to compare */
			res->copied_verbatim = !res->in_kind && !strcmp(res->in_sha256, res->out_sha256);
		}
	}
	close(fd);
}

void phi_scan_file(struct phi_worker *w, const char *path, const char *rel,
                   struct phi_kept_file *kept, struct phi_result *res)
{
	struct stat st = {0};
	int fd = -1;
	if (kept && kept->fd >= 0) {
		fd = kept->fd;
		st = kept->st;
		kept->fd = -1; /* ours now */
	}
	scan_file(w, path, rel, fd, st, res);
	phi_archive_done(w->arch, res); /* entries a strip held until the copy was published */
}

void phi_digest_file(struct phi_worker *w, const char *path, struct phi_kept_file *kept,
                     const unsigned char key[32], struct phi_result *res)
{
	struct stat st = {0};
	char msg[320], hex[65];
	size_t head_len = 0;
	const char *kind;
	int fd = -1, rc;
	memset(&w->err, 0, sizeof w->err);
	w->err.offset = PHI_NO_OFFSET;
	if (kept && kept->fd >= 0) {
		fd = kept->fd;
		st = kept->st;
		kept->fd = -1; /* ours now */
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
		snprintf(msg, sizeof msg, "%scannot open: %s",
		         errno == ENOENT ? "vanished after the walk: " : "", strerror(errno));
		set_outcome(res, PHI_UNREADABLE, msg);
		return;
	} else if (fstat(fd, &st)) {
		snprintf(msg, sizeof msg, "cannot stat: %s", strerror(errno));
		set_outcome(res, PHI_UNREADABLE, msg);
		close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		set_outcome(res, PHI_SKIPPED, "not a regular file");
		close(fd);
		return;
	}
	res->size = (uint64_t)st.st_size;
	if ((rc = read_head_dicom_first(fd, (uint64_t)st.st_size, w->head, SCAN_HEAD_FIRST,
	                                &head_len, true))) {
		snprintf(msg, sizeof msg, "read failed: %s", strerror(-rc));
		set_outcome(res, PHI_UNREADABLE, msg);
		close(fd);
		return;
	}
	const struct phi_format *fmt = phi_format_detect(w->head, head_len, base_name(path));
	res->format = fmt ? fmt->name : "unknown";
	rc = phi_indigest_file(fd, (uint64_t)st.st_size, fmt && !strcmp(fmt->name, "dicom"),
	                       w->o->limits, key, &kind, hex, &w->err);
	const char *changed = rc ? NULL : changed_since(fd, &st);
	close(fd);
	if (rc) {
		reason_from_error(w, res, rc);
		return;
	}
	if (changed) {
		set_outcome(res, PHI_UNREADABLE, changed);
		return;
	}
	res->status = PHI_SCANNED;
	res->in_kind = kind;
	memcpy(res->in_sha256, hex, sizeof hex);
}

int phi_scan_entry(struct phi_worker *w, int fd, uint64_t size, const char *name, int out_fd,
                   struct phi_result *res)
{
	struct phi_result *saved_res = w->res;
	const char *saved_path = w->path;
	bool saved_hold = w->hold;
	size_t head_len = 0;
	int rc;

	bind_file(w, res, res->path);
	w->hold = w->o->strip || out_fd >= 0; /* strip holds entries until the archive is done */
	res->size = size;
	if (lseek(fd, 0, SEEK_SET) < 0 || read_head(fd, size, w->head, &head_len)) {
		set_outcome(res, PHI_UNREADABLE, "cannot read the entry back");
		rc = PHI_EIO;
		goto out;
	}
	const struct phi_format *fmt = detect_or_skip(w, head_len, name, res);
	if (!fmt) {
		rc = 0;
		goto out;
	}
	res->format = fmt->name;
	/* a format that cannot strip is scanned only; its bytes are copied when clean */
	bool copy = out_fd >= 0 && !fmt->can_strip;
	rc = run_format(w, fmt, fd, size, head_len, copy ? -1 : out_fd, NULL, NULL);
	if (rc) {
		reason_from_error(w, res, rc);
		if (rc == PHI_ESKIP)
			res->status = PHI_SKIPPED;
		goto out;
	}
	res->status = PHI_SCANNED;
	if (copy && unstrippable(w, fmt, res)) {
		if (res->dropped)
			rc = PHI_ESKIP; /* left out of the archive, as a DICOMDIR is */
	} else if (copy && copy_whole(w, fd, size, out_fd)) {
		set_outcome(res, PHI_UNREADABLE, "cannot copy the entry");
		rc = PHI_EIO;
	}
out:
	w->res = saved_res;
	w->path = saved_path;
	w->hold = saved_hold;
	return rc;
}

int phi_scan_field(struct phi_worker *w, struct phi_result *res, const struct phi_field *f)
{
	struct phi_result *saved_res = w->res;
	const char *saved_path = w->path;
	bool saved_hold = w->hold;
	w->res = res;
	w->path = res->path;
	w->hold = true;
	int rc = sink_field(w, f, NULL);
	w->res = saved_res;
	w->path = saved_path;
	w->hold = saved_hold;
	return rc;
}

/* filter, for a format phiscan scans but cannot strip (PDF, WebP, HEIF): as strip
 * does for such a file, the input is scanned and, without findings, written out as
 * it came; with any, nothing is.  The input is kept in a memory file meanwhile (up
 * to limits->max_image_stdin), since the scan consumes standard input. */
static int filter_scan_only(struct phi_worker *w, const struct phi_format *fmt, int in_fd,
                            size_t head_len, int out_fd, struct phi_result *res)
{
	char msg[160];
	int rc = 0, keep = memfd_create("phiscan-filter-in", MFD_CLOEXEC);
	uint64_t size = head_len, most = w->o->limits->max_image_stdin;
	if (keep < 0 || write(keep, w->head, head_len) != (ssize_t)head_len) {
		set_outcome(res, PHI_UNREADABLE, "cannot keep standard input: nothing written");
		if (keep >= 0)
			close(keep);
		return PHI_EIO;
	}
	for (ssize_t k; !rc && (k = read(in_fd, w->buf, w->buf_cap)) != 0;) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k > 0 && (uint64_t)k > most - size) {
			snprintf(msg, sizeof msg,
			         "input larger than the %llu bytes kept whole: nothing written",
			         (unsigned long long)most);
			set_outcome(res, PHI_UNREADABLE, msg);
			rc = PHI_ELIMIT;
		} else if (k < 0 || write(keep, w->buf, (size_t)k) != k) {
			set_outcome(res, PHI_UNREADABLE, "cannot read standard input: nothing written");
			rc = PHI_EIO;
		} else {
			size += (uint64_t)k;
		}
	}
	if (!rc && lseek(keep, (off_t)head_len, SEEK_SET) < 0)
		rc = PHI_EIO;
	if (!rc) {
		rc = run_format(w, fmt, keep, size, head_len, -1, NULL, NULL);
		res->size = size;
		if (rc)
			reason_from_error(w, res, rc);
	}
	if (!rc && unstrippable(w, fmt, res)) {
		rc = PHI_ENOTSUP;
	} else if (!rc && copy_whole(w, keep, size, out_fd)) {
		set_outcome(res, PHI_UNREADABLE, "cannot write the copy: nothing written");
		rc = PHI_EIO;
	} else if (!rc) {
		res->status = PHI_SCANNED;
	}
	close(keep);
	return rc;
}

int phi_scan_stream(struct phi_worker *w, int in_fd, int out_fd, struct phi_result *res)
{
	size_t head_len = 0;
	int rc;

	bind_file(w, res, res->path);
	res->format = "unknown";
	if (read_head(in_fd, UINT64_MAX, w->head, &head_len)) {
		set_outcome(res, PHI_UNREADABLE, "cannot read standard input");
		return PHI_EIO;
	}
	res->size = head_len;
	const char *akind = phi_archive_detect(w->head, head_len);
	if (akind) {
		res->format = akind;
		rc = phi_archive_stream(&w->arch, w, w->o, &w->err, in_fd, w->head, head_len, out_fd, res);
		if (rc)
			reason_from_error(w, res, rc);
		else
			res->status = PHI_SCANNED;
		phi_archive_done(w->arch, res);
		return rc;
	}
	const struct phi_format *fmt = phi_format_detect(w->head, head_len, NULL);
	if (!fmt) {
		unclaimed(w, head_len, NULL, true, res);
		return PHI_EFORMAT;
	}
	res->format = fmt->name;
	if (out_fd >= 0 && !fmt->can_strip)
		return filter_scan_only(w, fmt, in_fd, head_len, out_fd, res);
	rc = run_format(w, fmt, in_fd, PHI_NO_OFFSET, head_len, out_fd, &res->size, NULL);
	if (rc) {
		reason_from_error(w, res, rc);
		return rc;
	}
	res->status = PHI_SCANNED;
	return 0;
}

/* ---- harvest ---- */

/* The structured patient values of the file open on fd (head read into w->head).
 * *moved: the file offset may have left 0 (a format read the file). */
static int harvest_fd(struct phi_worker *w, int fd, uint64_t size, size_t head_len,
                      const char *path, const char *name, phi_harvest_fn fn, void *arg,
                      bool *moved)
{
	const struct phi_format *fmt = phi_format_detect(w->head, head_len, name);
	*moved = false;
	/* plain text and meshes have no structured patient fields; nor has a PDF's
	 * text (only its XMP might, not worth a second Poppler parse); the rest may */
	if (!fmt || !strcmp(fmt->name, "text") || !strcmp(fmt->name, "stl") ||
	    !strcmp(fmt->name, "ply") || !strcmp(fmt->name, "obj") || !strcmp(fmt->name, "pdf"))
		return 0;
	struct phi_result res = {.format = fmt->name};
	struct phi_result *saved_res = w->res;
	const char *saved_path = w->path;
	int rc;
	memset(&w->err, 0, sizeof w->err);
	w->res = &res;
	w->path = path;
	w->hv_fn = fn;
	w->hv_arg = arg;
	/* DICOM: the Patient module by the element walker, not a DCMTK load; it reads
	 * with pread (dicom_lengths.c), so the offset stays */
	if (!strcmp(fmt->name, "dicom")) {
		/* from the head when it holds the Patient module: no second read */
		rc = phi_dicom_patient_values_mem(w->head, head_len, size, w->o->limits, fn, arg, &w->err);
		if (rc == 1)
			rc = phi_dicom_patient_values(fd, size, w->o->limits, fn, arg, &w->err);
	} else {
		*moved = true;
		rc = run_format(w, fmt, fd, size, head_len, -1, NULL, NULL);
	}
	w->hv_fn = NULL;
	w->res = saved_res;
	w->path = saved_path;
	phi_result_clear(&res);
	/* a file that does not parse is reported by the scan pass; only the callback's
	 * own failure stops the harvest */
	return rc == PHI_ENOMEM ? rc : 0;
}

int phi_harvest_entry(struct phi_worker *w, int fd, uint64_t size, const char *name,
                      phi_harvest_fn fn, void *arg)
{
	size_t head_len = 0;
	bool moved;
	if (lseek(fd, 0, SEEK_SET) < 0 || read_head(fd, size, w->head, &head_len))
		return 0;
	return harvest_fd(w, fd, size, head_len, name, name, fn, arg, &moved);
}

int phi_harvest_file(struct phi_worker *w, const char *path, struct phi_kept_file *keep,
                     phi_harvest_fn fn, void *arg)
{
	struct stat st;
	size_t head_len = 0;
	if (keep)
		keep->fd = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0; /* the scan pass reports it */
	int rc = 0;
	bool reg = fstat(fd, &st) == 0 && S_ISREG(st.st_mode), moved = false;
	/* the head by pread: a file whose harvest reads no further stays at offset 0 */
	if (reg &&
	    (!w->o->limits->max_file_size || (uint64_t)st.st_size <= w->o->limits->max_file_size) &&
	    read_head_dicom_first(fd, (uint64_t)st.st_size, w->head, HARVEST_HEAD_FIRST, &head_len,
	                          true) == 0) {
		/* an archive: every entry, within the archive limits (a case that arrives
		 * as one zip is harvested like its unzipped folder) */
		const char *akind = phi_archive_detect(w->head, head_len);
		if (akind) {
			struct phi_error err = {0};
			moved = true;
			rc = phi_archive_harvest(&w->arch, w, w->o, &err, fd, (uint64_t)st.st_size, akind,
			                         fn, arg);
			if (rc != PHI_ENOMEM)
				rc = 0;
		} else {
			rc = harvest_fd(w, fd, (uint64_t)st.st_size, head_len, path, base_name(path), fn,
			                arg, &moved);
		}
	}
	/* kept for the scan pass: a regular file, back at offset 0 */
	if (keep && reg && (!moved || lseek(fd, 0, SEEK_SET) == 0)) {
		keep->fd = fd;
		keep->st = st;
	} else {
		close(fd);
	}
	return rc;
}
