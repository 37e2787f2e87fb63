/* report.c - reporters: human text, JSON Lines and SARIF 2.1.0; the run summary.
 *
 * Formats (exact shapes, one per line unless said):
 *   human  path:LINE:COL: SEV CLASS RULE (conf 0.95) EXCERPT
 *          path: FIELD: SEV CLASS RULE (conf 1.00) EXCERPT     (no line, a field)
 *          path@OFFSET: SEV CLASS RULE (conf 0.60) EXCERPT    (no line, no field)
 *          path: skipped: REASON  /  path: error: REASON
 *          N files: X scanned, Y skipped, Z unreadable; F findings (patient P,
 *          provider V, quasi Q) in S s   (one line), then "  FMT: scanned X, ..."
 *   json   JSON Lines: "finding", "skipped", "unreadable" and one "summary" object,
 *          keys in a fixed order (see report.h and the README).
 *   sarif  one SARIF 2.1.0 log (OASIS schema, GitHub code scanning profile),
 *          buffered and written by phi_reporter_end: SARIF 2.1.0 3.13 (run),
 *          3.19 (toolComponent), 3.27 (result), 3.28 (location), 3.30 (region),
 *          3.49 (reportingDescriptor), 3.20 (invocation), 3.58 (notification).
 *   junit  JUnit XML as Jenkins, GitLab and GitHub test reporters read it
 *          (testsuites > testsuite > testcase, failure/skipped children), XML 1.0:
 *          text escaped, characters XML 1.0 forbids (C0 controls but tab and
 *          newlines) and invalid UTF-8 written as U+FFFD.  Buffered: the counts
 *          lead the document.
 *
 * Never prints an identifier unless show_values: findings carry masked excerpts.
 * Everything that came from a file or a path is escaped: JSON strings per RFC 8259
 * (invalid UTF-8 becomes U+FFFD, one per maximal ill-formed subpart, Unicode 15
 * 3.9 "U+FFFD substitution of maximal subparts"); human output shows control
 * characters and invalid bytes as \xNN so a crafted name cannot drive the terminal.
 * Numbers with decimals are formatted by hand, not printf("%f"), so a locale set by
 * main can never turn 0.95 into "0,95" and break JSON.
 *
 * Threading: one reporter, driven by one thread.
 * Ownership: results are borrowed for the call; SARIF copies what it keeps and
 * phi_reporter_free releases it.  A phi_summary owns its formats array; format
 * names in it are the static names of phi_result.format.
 */
#include "report.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* SARIF is buffered: cap what one run keeps.  Results past the cap are counted and
 * announced in a notification instead of growing without bound. */
#define PHI_SARIF_MAX_RESULTS (1u << 20)

#define ANSI_BOLD "\033[1m"
#define ANSI_RED "\033[31m"
#define ANSI_BOLD_RED "\033[1;31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_CYAN "\033[36m"
#define ANSI_RESET "\033[0m"

struct sarif_result {
	size_t file;        /* index into files */
	char *rule;         /* owned */
	const char *cls;    /* static */
	enum phi_severity sev;
	double conf;
	char *field;        /* owned or NULL */
	char *excerpt;      /* owned or NULL */
	char *value;        /* owned, only with show_values */
	uint64_t start, end, line, col;
	char fingerprint[crypto_hash_sha256_BYTES * 2 + 1];
};

struct sarif_note {
	size_t file;
	bool error;         /* unreadable (error) or skipped (note) */
	char *reason;       /* owned or NULL */
};

struct phi_reporter {
	FILE *fp;
	struct phi_report_opts o;
	/* SARIF buffers */
	char **files;
	size_t nfiles, capfiles;
	struct sarif_result *res;
	size_t nres, capres;
	unsigned long dropped;
	struct sarif_note *notes;
	size_t nnotes, capnotes;
	/* JUnit: testcases so far, and the file being reported (its findings may
	 * arrive in several calls when a file is streamed) */
	FILE *ju;
	char *ju_buf;
	size_t ju_len;
	unsigned long ju_tests, ju_failures, ju_skipped;
	char *cur_path;
	uint64_t cur_seq;
	const char *cur_format;
	enum phi_status cur_status;
	char *cur_reason;
	unsigned long cur_n, cur_failing, cur_sev[3];
	FILE *cur_body;
	char *cur_body_buf;
	size_t cur_body_len;
};

/* ---- UTF-8 --------------------------------------------------------------- */

/* Decode one UTF-8 sequence at s (n > 0 bytes available), per Unicode Table 3-7
 * (well-formed byte sequences): no overlongs (C0, C1, E0 80..9F, F0 80..8F), no
 * surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF).  Returns true
 * with *cp and *len set, or false with *len = the length of the maximal subpart
 * (at least 1) to replace by one U+FFFD. */
static bool utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *len)
{
	unsigned b0 = s[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (b0 < 0x80) {
		*cp = b0;
		*len = 1;
		return true;
	}
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		need = 1;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		need = 2;
		if (b0 == 0xE0)
			lo = 0xA0;
		else if (b0 == 0xED)
			hi = 0x9F;
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		need = 3;
		if (b0 == 0xF0)
			lo = 0x90;
		else if (b0 == 0xF4)
			hi = 0x8F;
	} else {
		*len = 1;
		return false;
	}
	uint32_t c = b0 & (0x3Fu >> need);
	for (size_t i = 1; i <= need; i++) {
		unsigned lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
		if (i >= n || s[i] < lo_i || s[i] > hi_i) {
			*len = i;
			return false;
		}
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	*cp = c;
	*len = need + 1;
	return true;
}

size_t phi_json_escape(const char *str, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)str;
	char *o = out;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len;
		/* fast path: a run of printable ASCII that needs no escape */
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x7F && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			memcpy(o, s + i, run - i);
			o += run - i;
			i = run;
			continue;
		}
		if (!utf8_decode(s + i, n - i, &cp, &len)) {
			memcpy(o, "\\ufffd", 6);
			o += 6;
			i += len;
			continue;
		}
		const char *esc = NULL;
		switch (cp) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			break;
		}
		if (esc) {
			memcpy(o, esc, 2);
			o += 2;
		} else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) {
			/* C0, DEL and C1 controls, and the JavaScript line separators
			 * U+2028/2029, escaped: valid JSON either way, safer in logs. */
			static const char hex[] = "0123456789abcdef";
			o[0] = '\\';
			o[1] = 'u';
			o[2] = hex[(cp >> 12) & 15];
			o[3] = hex[(cp >> 8) & 15];
			o[4] = hex[(cp >> 4) & 15];
			o[5] = hex[cp & 15];
			o += 6;
		} else {
			memcpy(o, s + i, len);
			o += len;
		}
		i += len;
	}
	return (size_t)(o - out);
}

/* In pieces through a buffer on the stack, cut before a byte that starts a character
 * (never inside a valid UTF-8 sequence), so nothing is allocated. */
static void json_mem(FILE *fp, const char *str, size_t n)
{
	enum { PIECE = 340 };
	char buf[6 * PIECE];
	const unsigned char *s = (const unsigned char *)str;
	putc('"', fp);
	for (size_t i = 0; i < n;) {
		size_t end = n - i > PIECE ? i + PIECE : n;
		size_t cut = end;
		while (end < n && cut > i + PIECE - 4 && (s[cut] & 0xC0) == 0x80)
			cut--;
		if (end < n && (s[cut] & 0xC0) == 0x80)
			cut = end; /* a run of stray continuation bytes: each is U+FFFD anyway */
		fwrite(buf, 1, phi_json_escape(str + i, cut - i, buf), fp);
		i = cut;
	}
	putc('"', fp);
}

/* NULL is written as null. */
void phi_json_string(FILE *fp, const char *s)
{
	if (!s) {
		fputs("null", fp);
		return;
	}
	json_mem(fp, s, strlen(s));
}

/* Human output: printable text as is; control characters and invalid UTF-8
 * bytes as \xNN (C1 controls as \u00NN). */
static void put_human(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len;
		if (!utf8_decode(s + i, n - i, &cp, &len)) {
			for (size_t k = 0; k < len; k++)
				fprintf(fp, "\\x%02X", s[i + k]);
		} else if (cp < 0x20 || cp == 0x7F) {
			fprintf(fp, "\\x%02X", (unsigned)cp);
		} else if (cp >= 0x80 && cp <= 0x9F) {
			fprintf(fp, "\\u%04" PRIX32, cp);
		} else {
			fwrite(s + i, 1, len, fp);
		}
		i += len;
	}
}

/* ---- numbers ------------------------------------------------------------- */

/* x >= 0 with a fixed number of decimals (1..6), locale-independent.  NaN and
 * negatives print as 0; huge values are clamped. */
static void put_fixed(FILE *fp, double x, int decimals)
{
	unsigned long long scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	if (!(x >= 0))
		x = 0;
	if (x > 1e12)
		x = 1e12;
	unsigned long long v = (unsigned long long)(x * (double)scale + 0.5);
	fprintf(fp, "%llu.%0*llu", v / scale, decimals, v % scale);
}

static void put_u64_or_null(FILE *fp, uint64_t v, bool known)
{
	if (known)
		fprintf(fp, "%" PRIu64, v);
	else
		fputs("null", fp);
}

/* ---- shared -------------------------------------------------------------- */

static const char *fmt_name(const char *f)
{
	return f ? f : "unknown";
}

static const char *cls_name(const char *c)
{
	return c ? c : "unknown";
}

static const char *sev_colour(enum phi_severity s)
{
	switch (s) {
	case PHI_SEV_PATIENT: return ANSI_RED;
	case PHI_SEV_PROVIDER: return ANSI_YELLOW;
	default: return ANSI_CYAN;
	}
}

static const char *sarif_level(enum phi_severity s)
{
	switch (s) {
	case PHI_SEV_PATIENT: return "error";
	case PHI_SEV_PROVIDER: return "warning";
	default: return "note";
	}
}

static int io_status(const struct phi_reporter *r)
{
	return ferror(r->fp) ? PHI_EIO : 0;
}

/* ---- human --------------------------------------------------------------- */

static void human_path(struct phi_reporter *r, const char *path)
{
	if (r->o.color)
		fputs(ANSI_BOLD, r->fp);
	put_human(r->fp, path);
	if (r->o.color)
		fputs(ANSI_RESET, r->fp);
}

/* The end of a finding in the human and JSON Lines reports: the value (only with
 * --show-values) and the replacement (strip), each a JSON string after its label. */
static void put_value_replacement(struct phi_reporter *r, const struct phi_finding *f,
                                  const char *value_label, const char *repl_label)
{
	if (r->o.show_values && f->value) {
		fputs(value_label, r->fp);
		phi_json_string(r->fp, f->value);
	}
	if (f->replacement) {
		fputs(repl_label, r->fp);
		phi_json_string(r->fp, f->replacement);
	}
}

static void human_finding(struct phi_reporter *r, const struct phi_result *res,
                          const struct phi_finding *f)
{
	FILE *fp = r->fp;

	human_path(r, res->path);
	if (f->line) {
		fprintf(fp, ":%" PRIu64, f->line);
		if (f->col)
			fprintf(fp, ":%" PRIu64, f->col);
	} else if (!f->field && f->start != PHI_NO_OFFSET) {
		fprintf(fp, "@%" PRIu64, f->start);
	}
	putc(':', fp);
	if (f->field) {
		putc(' ', fp);
		put_human(fp, f->field);
		putc(':', fp);
	}
	putc(' ', fp);
	if (r->o.color)
		fputs(sev_colour(f->severity), fp);
	fputs(phi_severity_name(f->severity), fp);
	if (r->o.color)
		fputs(ANSI_RESET, fp);
	putc(' ', fp);
	put_human(fp, cls_name(f->cls));
	putc(' ', fp);
	put_human(fp, f->rule);
	fputs(" (conf ", fp);
	put_fixed(fp, f->confidence, 2);
	putc(')', fp);
	if (f->excerpt && *f->excerpt) {
		putc(' ', fp);
		put_human(fp, f->excerpt);
	}
	put_value_replacement(r, f, " value=", " replacement=");
	putc('\n', fp);
}

static void human_file(struct phi_reporter *r, const struct phi_result *res)
{
	FILE *fp = r->fp;

	/* Findings first: a file that failed half-way keeps what was found before
	 * the failure, and the summary counts them too. */
	for (size_t i = 0; !r->o.quiet && i < res->n; i++)
		human_finding(r, res, &res->v[i]);
	if (res->status == PHI_UNREADABLE) {
		/* --quiet: errors only, on the error stream (no colour there) */
		if (r->o.quiet && r->o.err_fp) {
			put_human(r->o.err_fp, res->path);
			fputs(": error: ", r->o.err_fp);
			put_human(r->o.err_fp, res->reason ? res->reason : "unreadable");
			putc('\n', r->o.err_fp);
			return;
		}
		human_path(r, res->path);
		fputs(r->o.color ? ": " ANSI_BOLD_RED "error" ANSI_RESET ": " : ": error: ", fp);
		put_human(fp, res->reason ? res->reason : "unreadable");
		putc('\n', fp);
	} else if (res->status == PHI_SKIPPED && !r->o.quiet) {
		human_path(r, res->path);
		fputs(": skipped: ", fp);
		put_human(fp, res->reason ? res->reason : "not scanned");
		putc('\n', fp);
	}
}

static void human_end(struct phi_reporter *r, const struct phi_summary *s)
{
	FILE *fp = r->fp;

	if (r->o.quiet)
		return; /* --quiet: the exit code says it */

	fprintf(fp,
	        "%lu files: %lu scanned, %lu skipped, %lu unreadable; %lu findings "
	        "(patient %lu, provider %lu, quasi %lu) in ",
	        s->files, s->scanned, s->skipped, s->unreadable, s->findings,
	        s->by_severity[PHI_SEV_PATIENT], s->by_severity[PHI_SEV_PROVIDER],
	        s->by_severity[PHI_SEV_QUASI]);
	put_fixed(fp, s->seconds, 2);
	fputs(" s\n", fp);
	for (size_t i = 0; i < s->nformats; i++) {
		const struct phi_format_count *c = &s->formats[i];
		fputs("  ", fp);
		put_human(fp, fmt_name(c->format));
		fprintf(fp, ": scanned %lu, skipped %lu, unreadable %lu, findings %lu\n",
		        c->scanned, c->skipped, c->unreadable, c->findings);
	}
}

/* ---- JSON Lines ---------------------------------------------------------- */

static void json_finding(struct phi_reporter *r, const struct phi_result *res,
                         const struct phi_finding *f)
{
	FILE *fp = r->fp;
	bool has_start = f->start != PHI_NO_OFFSET;

	fputs("{\"type\":\"finding\",\"path\":", fp);
	phi_json_string(fp, res->path);
	fputs(",\"format\":", fp);
	phi_json_string(fp, fmt_name(res->format));
	fputs(",\"rule\":", fp);
	phi_json_string(fp, f->rule);
	fputs(",\"class\":", fp);
	phi_json_string(fp, cls_name(f->cls));
	fputs(",\"severity\":", fp);
	phi_json_string(fp, phi_severity_name(f->severity));
	fputs(",\"confidence\":", fp);
	put_fixed(fp, f->confidence, 2);
	fputs(",\"field\":", fp);
	phi_json_string(fp, f->field);
	fputs(",\"start\":", fp);
	put_u64_or_null(fp, f->start, has_start);
	fputs(",\"end\":", fp);
	put_u64_or_null(fp, f->end, has_start && f->end != PHI_NO_OFFSET);
	fputs(",\"line\":", fp);
	put_u64_or_null(fp, f->line, f->line != 0);
	fputs(",\"column\":", fp);
	put_u64_or_null(fp, f->col, f->col != 0);
	fputs(",\"excerpt\":", fp);
	phi_json_string(fp, f->excerpt ? f->excerpt : "");
	put_value_replacement(r, f, ",\"value\":", ",\"replacement\":");
	fputs("}\n", fp);
}

static void json_file(struct phi_reporter *r, const struct phi_result *res)
{
	FILE *fp = r->fp;

	for (size_t i = 0; i < res->n; i++)
		json_finding(r, res, &res->v[i]);
	if (res->status == PHI_SKIPPED || res->status == PHI_UNREADABLE) {
		fputs(res->status == PHI_SKIPPED ? "{\"type\":\"skipped\",\"path\":"
		                                 : "{\"type\":\"unreadable\",\"path\":",
		      fp);
		phi_json_string(fp, res->path);
		fputs(",\"format\":", fp);
		phi_json_string(fp, fmt_name(res->format));
		fputs(",\"reason\":", fp);
		phi_json_string(fp, res->reason);
		fputs("}\n", fp);
	}
}

static void json_end(struct phi_reporter *r, const struct phi_summary *s)
{
	FILE *fp = r->fp;

	fprintf(fp,
	        "{\"type\":\"summary\",\"files\":%lu,\"scanned\":%lu,\"skipped\":%lu,"
	        "\"unreadable\":%lu,\"findings\":%lu,\"by_severity\":{\"patient\":%lu,"
	        "\"provider\":%lu,\"quasi\":%lu},\"formats\":{",
	        s->files, s->scanned, s->skipped, s->unreadable, s->findings,
	        s->by_severity[PHI_SEV_PATIENT], s->by_severity[PHI_SEV_PROVIDER],
	        s->by_severity[PHI_SEV_QUASI]);
	for (size_t i = 0; i < s->nformats; i++) {
		const struct phi_format_count *c = &s->formats[i];
		if (i)
			putc(',', fp);
		phi_json_string(fp, fmt_name(c->format));
		fprintf(fp,
		        ":{\"scanned\":%lu,\"skipped\":%lu,\"unreadable\":%lu,"
		        "\"findings\":%lu}",
		        c->scanned, c->skipped, c->unreadable, c->findings);
	}
	fprintf(fp, "},\"bytes\":%llu,\"seconds\":", s->bytes);
	put_fixed(fp, s->seconds, 3);
	fprintf(fp, ",\"exit_code\":%d}\n", s->exit_code);
}

/* ---- SARIF --------------------------------------------------------------- */

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static int sarif_add_file(struct phi_reporter *r, const char *path, size_t *idx)
{
	if (phi_grow((void **)&r->files, &r->capfiles, r->nfiles, sizeof *r->files))
		return PHI_ENOMEM;
	char *p = strdup(path ? path : "");
	if (!p)
		return PHI_ENOMEM;
	r->files[r->nfiles] = p;
	*idx = r->nfiles++;
	return 0;
}

/* SHA-256 over path NUL rule NUL decimal-start NUL field: identifies a result by
 * where it is, never by the value (no PHI in it, and stable across line churn).
 * The field name is included so two structured findings of one rule in one file
 * (no byte offsets: (0010,0010) and (0010,0020)) do not share a fingerprint. */
static void sarif_fingerprint(struct sarif_result *x, const char *path)
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];
	char num[32];
	int k;

	if (x->start != PHI_NO_OFFSET)
		k = snprintf(num, sizeof num, "%" PRIu64, x->start);
	else
		k = snprintf(num, sizeof num, "-");
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)path, strlen(path) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)x->rule, strlen(x->rule) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)num, (size_t)k + 1);
	if (x->field)
		crypto_hash_sha256_update(&st, (const unsigned char *)x->field,
		                          strlen(x->field));
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(x->fingerprint, sizeof x->fingerprint, h, sizeof h);
}

static int sarif_file(struct phi_reporter *r, const struct phi_result *res)
{
	size_t file;
	bool oom = false;

	bool noted = res->status == PHI_SKIPPED || res->status == PHI_UNREADABLE;

	if (res->n == 0 && !noted)
		return 0;
	if (sarif_add_file(r, res->path, &file))
		return PHI_ENOMEM;
	if (noted) {
		if (phi_grow((void **)&r->notes, &r->capnotes, r->nnotes, sizeof *r->notes))
			return PHI_ENOMEM;
		struct sarif_note *nt = &r->notes[r->nnotes];
		nt->file = file;
		nt->error = res->status == PHI_UNREADABLE;
		nt->reason = dup_or_null(res->reason, &oom);
		if (oom)
			return PHI_ENOMEM;
		r->nnotes++;
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct phi_finding *f = &res->v[i];
		if (r->nres >= PHI_SARIF_MAX_RESULTS) {
			r->dropped++;
			continue;
		}
		if (phi_grow((void **)&r->res, &r->capres, r->nres, sizeof *r->res))
			return PHI_ENOMEM;
		struct sarif_result *x = &r->res[r->nres];
		memset(x, 0, sizeof *x);
		x->file = file;
		x->rule = strdup(f->rule ? f->rule : "unknown");
		x->cls = f->cls;
		x->sev = f->severity;
		x->conf = f->confidence;
		x->field = dup_or_null(f->field, &oom);
		x->excerpt = dup_or_null(f->excerpt, &oom);
		if (r->o.show_values)
			x->value = dup_or_null(f->value, &oom);
		x->start = f->start;
		x->end = f->end;
		x->line = f->line;
		x->col = f->col;
		if (!x->rule || oom) {
			free(x->rule);
			free(x->field);
			free(x->excerpt);
			free(x->value);
			return PHI_ENOMEM;
		}
		sarif_fingerprint(x, r->files[file]);
		r->nres++;
	}
	return 0;
}

/* A relative URI reference for a path (RFC 3986 4.2): bytes outside unreserved
 * and '/' are percent-encoded, so spaces, '%', '#', '?', ':' in the first segment
 * and non-UTF-8 bytes all survive.  Leading "./" is dropped (GitHub resolves URIs
 * against the repository root); an absolute path becomes a file:// URI. */
static void put_uri(FILE *fp, const char *path)
{
	const unsigned char *s = (const unsigned char *)(path ? path : "");

	while (s[0] == '.' && s[1] == '/') {
		s += 2;
		while (*s == '/')
			s++;
	}
	putc('"', fp);
	if (*s == '/')
		fputs("file://", fp);
	for (; *s; s++) {
		unsigned c = *s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
			putc((int)c, fp);
		else
			fprintf(fp, "%%%02X", c);
	}
	putc('"', fp);
}

static void put_artifact(FILE *fp, const char *path)
{
	fputs("\"artifactLocation\":{\"uri\":", fp);
	put_uri(fp, path);
	putc('}', fp);
}

/* Sorting results by rule id, ties by walk order, gives the rule table (the first
 * result of each id names its class when the pack does not know the rule). */
static int cmp_by_rule(const void *a, const void *b, void *base)
{
	const struct sarif_result *v = base;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(v[i].rule, v[j].rule);
	if (c)
		return c;
	return i < j ? -1 : i > j;
}

struct sarif_rule {
	const char *id;
	const struct sarif_result *first;
	const struct phi_rule *pr; /* from opts.pack, or NULL */
};

static int cmp_rule_id(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const struct sarif_rule *)elem)->id);
}

static const struct phi_rule *pack_find(const struct phi_pack *pack, const char *id)
{
	for (size_t i = 0; pack && i < pack->nrules; i++)
		if (pack->rules[i].id && strcmp(pack->rules[i].id, id) == 0)
			return &pack->rules[i];
	return NULL;
}

static void sarif_rule_entry(FILE *fp, const struct sarif_rule *ru)
{
	const char *cls = ru->pr && ru->pr->cls ? ru->pr->cls->name : cls_name(ru->first->cls);
	enum phi_severity sev = ru->pr ? ru->pr->severity : ru->first->sev;
	const char *desc = ru->pr && ru->pr->description && *ru->pr->description
	                       ? ru->pr->description
	                       : ru->id;

	fputs("{\"id\":", fp);
	phi_json_string(fp, ru->id);
	fputs(",\"name\":", fp);
	phi_json_string(fp, ru->id);
	fputs(",\"shortDescription\":{\"text\":", fp);
	phi_json_string(fp, desc);
	fprintf(fp, "},\"defaultConfiguration\":{\"level\":\"%s\"},\"properties\":{\"class\":",
	        sarif_level(sev));
	phi_json_string(fp, cls);
	fputs(",\"severity\":", fp);
	phi_json_string(fp, phi_severity_name(sev));
	fputs(",\"tags\":[\"phi\",", fp);
	phi_json_string(fp, cls);
	fputs("]}}", fp);
}

static void sarif_result_entry(struct phi_reporter *r, const struct sarif_result *x,
                               size_t rule_index)
{
	FILE *fp = r->fp;
	const char *cls = cls_name(x->cls);
	const char *sev = phi_severity_name(x->sev);
	bool has_line = x->line != 0;
	bool has_off = x->start != PHI_NO_OFFSET;

	fputs("{\"ruleId\":", fp);
	phi_json_string(fp, x->rule);
	fprintf(fp, ",\"ruleIndex\":%zu,\"level\":\"%s\",\"message\":{\"text\":", rule_index,
	        sarif_level(x->sev));

	/* The message is built in memory so it is escaped as one string. */
	char *msg = NULL;
	size_t msglen = 0;
	FILE *m = open_memstream(&msg, &msglen);
	if (m) {
		fprintf(m, "%s identifier (%s) found by rule %s", cls, sev, x->rule);
		if (x->excerpt && *x->excerpt)
			fprintf(m, ": %s", x->excerpt);
		fclose(m);
	}
	if (msg)
		json_mem(fp, msg, msglen);
	else
		phi_json_string(fp, "identifier found");
	free(msg);

	fputs("},\"locations\":[{\"physicalLocation\":{", fp);
	put_artifact(fp, r->files[x->file]);
	if (has_line || has_off) {
		const char *sep = "";
		fputs(",\"region\":{", fp);
		if (has_line) {
			fprintf(fp, "\"startLine\":%" PRIu64, x->line);
			if (x->col)
				fprintf(fp, ",\"startColumn\":%" PRIu64, x->col);
			sep = ",";
		}
		if (has_off) {
			fprintf(fp, "%s\"byteOffset\":%" PRIu64, sep, x->start);
			if (x->end != PHI_NO_OFFSET && x->end >= x->start)
				fprintf(fp, ",\"byteLength\":%" PRIu64, x->end - x->start);
		}
		putc('}', fp);
	}
	putc('}', fp);
	if (x->field) {
		fputs(",\"logicalLocations\":[{\"name\":", fp);
		phi_json_string(fp, x->field);
		fputs("}]", fp);
	}
	fputs("}],\"partialFingerprints\":{\"phiscan/v1\":", fp);
	phi_json_string(fp, x->fingerprint);
	fputs("},\"properties\":{\"confidence\":", fp);
	put_fixed(fp, x->conf, 2);
	if (x->value) {
		fputs(",\"value\":", fp);
		phi_json_string(fp, x->value);
	}
	fputs("}}", fp);
}

static void sarif_note_entry(struct phi_reporter *r, const struct sarif_note *nt)
{
	FILE *fp = r->fp;
	const char *path = r->files[nt->file];
	const char *reason = nt->reason ? nt->reason : (nt->error ? "unreadable" : "skipped");
	char *msg = NULL;
	size_t msglen = 0;
	FILE *m = open_memstream(&msg, &msglen);

	fprintf(fp, "{\"level\":\"%s\",\"message\":{\"text\":", nt->error ? "error" : "note");
	if (m) {
		fprintf(m, "%s: %s%s", path, nt->error ? "" : "skipped: ", reason);
		fclose(m);
	}
	if (msg)
		json_mem(fp, msg, msglen);
	else
		phi_json_string(fp, reason);
	free(msg);
	fputs("},\"locations\":[{\"physicalLocation\":{", fp);
	put_artifact(fp, path);
	fputs("}}]}", fp);
}

static int sarif_end(struct phi_reporter *r, const struct phi_summary *s)
{
	FILE *fp = r->fp;
	size_t *order = NULL;
	struct sarif_rule *rules = NULL;
	size_t nrules = 0;

	if (r->nres) {
		order = malloc(r->nres * sizeof *order);
		rules = malloc(r->nres * sizeof *rules);
		if (!order || !rules) {
			free(order);
			free(rules);
			return PHI_ENOMEM;
		}
		for (size_t i = 0; i < r->nres; i++)
			order[i] = i;
		qsort_r(order, r->nres, sizeof *order, cmp_by_rule, r->res);
		for (size_t i = 0; i < r->nres; i++) {
			const struct sarif_result *x = &r->res[order[i]];
			if (nrules && strcmp(rules[nrules - 1].id, x->rule) == 0)
				continue;
			rules[nrules].id = x->rule;
			rules[nrules].first = x;
			rules[nrules].pr = pack_find(r->o.pack, x->rule);
			nrules++;
		}
	}

	fputs("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
	      "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"phiscan\"",
	      fp);
	if (r->o.tool_version) {
		fputs(",\"version\":", fp);
		phi_json_string(fp, r->o.tool_version);
	}
	fputs(",\"rules\":[", fp);
	for (size_t i = 0; i < nrules; i++) {
		fputs(i ? ",\n" : "\n", fp);
		sarif_rule_entry(fp, &rules[i]);
	}
	fputs("]}},\n\"columnKind\":\"unicodeCodePoints\",\"results\":[", fp);
	for (size_t i = 0; i < r->nres; i++) {
		const struct sarif_rule *ru =
			bsearch(r->res[i].rule, rules, nrules, sizeof *rules, cmp_rule_id);
		fputs(i ? ",\n" : "\n", fp);
		sarif_result_entry(r, &r->res[i], ru ? (size_t)(ru - rules) : 0);
	}
	fprintf(fp, "],\n\"invocations\":[{\"executionSuccessful\":%s,\"exitCode\":%d",
	        s->exit_code == 2 ? "false" : "true", s->exit_code);
	if (r->nnotes || r->dropped) {
		fputs(",\"toolExecutionNotifications\":[", fp);
		for (size_t i = 0; i < r->nnotes; i++) {
			fputs(i ? ",\n" : "\n", fp);
			sarif_note_entry(r, &r->notes[i]);
		}
		if (r->dropped)
			fprintf(fp,
			        "%s{\"level\":\"warning\",\"message\":{\"text\":\"%lu results "
			        "omitted: more than %u in one log\"}}",
			        r->nnotes ? ",\n" : "\n", r->dropped, PHI_SARIF_MAX_RESULTS);
		putc(']', fp);
	}
	fputs("}]}]}\n", fp);
	free(order);
	free(rules);
	return 0;
}

/* ---- JUnit XML ----------------------------------------------------------- */

/* XML 1.0 character data (attr false) or attribute value (attr true): & < > " '
 * escaped; characters XML forbids (C0 but tab, LF, CR; U+FFFE/FFFF) and invalid
 * UTF-8 become U+FFFD.  Tab and CR are always character references, and LF is one
 * in an attribute: a parser normalises them there (XML 1.0 sections 2.11, 3.3.3),
 * so a file name with a tab or a newline (fuzz_path found it) would read back as
 * another name. */
static void xml_put(FILE *fp, const char *str, bool attr)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len;
		if (!utf8_decode(s + i, n - i, &cp, &len)) {
			fputs("\xEF\xBF\xBD", fp);
			i += len;
			continue;
		}
		switch (cp) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&apos;", fp); break;
		case '\t': fputs("&#9;", fp); break;
		case '\r': fputs("&#13;", fp); break;
		case '\n': fputs(attr ? "&#10;" : "\n", fp); break;
		default:
			if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE ||
			    cp == 0xFFFF)
				fputs("\xEF\xBF\xBD", fp);
			else
				fwrite(s + i, 1, len, fp);
		}
		i += len;
	}
}

static void xml_text(FILE *fp, const char *str)
{
	xml_put(fp, str, false);
}

static void xml_attr(FILE *fp, const char *str)
{
	xml_put(fp, str, true);
}

/* Findings listed in one testcase's failure text; the rest are counted. */
#define JUNIT_MAX_LINES 200

static void junit_close_case(struct phi_reporter *r)
{
	FILE *fp = r->ju;
	if (!r->cur_path)
		return;
	if (r->cur_body) {
		fclose(r->cur_body);
		r->cur_body = NULL;
	}
	r->ju_tests++;
	fputs("    <testcase classname=\"phiscan.", fp);
	xml_attr(fp, fmt_name(r->cur_format));
	fputs("\" name=\"", fp);
	xml_attr(fp, r->cur_path);
	fputs("\" time=\"0\">", fp);
	if (r->cur_status == PHI_UNREADABLE) {
		r->ju_failures++;
		fputs("\n      <failure type=\"unscanned\" message=\"could not be scanned: ", fp);
		xml_attr(fp, r->cur_reason ? r->cur_reason : "unreadable");
		fputs("\"/>", fp);
	} else if (r->cur_status == PHI_SKIPPED) {
		r->ju_skipped++;
		fputs("\n      <skipped message=\"", fp);
		xml_attr(fp, r->cur_reason ? r->cur_reason : "not scanned");
		fputs("\"/>", fp);
	}
	if (r->cur_n) {
		bool fail = r->cur_failing > 0 && r->cur_status != PHI_UNREADABLE;
		if (fail)
			r->ju_failures++;
		fprintf(fp,
		        "\n      <%s type=\"phi\" message=\"%lu findings (patient %lu, provider %lu, "
		        "quasi %lu)\">",
		        fail ? "failure" : "system-out", r->cur_n, r->cur_sev[PHI_SEV_PATIENT],
		        r->cur_sev[PHI_SEV_PROVIDER], r->cur_sev[PHI_SEV_QUASI]);
		xml_text(fp, r->cur_body_buf ? r->cur_body_buf : "");
		if (r->cur_n > JUNIT_MAX_LINES)
			fprintf(fp, "... and %lu more\n", r->cur_n - JUNIT_MAX_LINES);
		fprintf(fp, "</%s>", fail ? "failure" : "system-out");
	}
	fputs(r->cur_status != PHI_SCANNED || r->cur_n ? "\n    </testcase>\n" : "</testcase>\n",
	      fp);
	free(r->cur_path);
	free(r->cur_reason);
	free(r->cur_body_buf);
	r->cur_path = r->cur_reason = r->cur_body_buf = NULL;
	r->cur_body_len = 0;
}

static int junit_file(struct phi_reporter *r, const struct phi_result *res)
{
	if (!r->ju && !(r->ju = open_memstream(&r->ju_buf, &r->ju_len)))
		return PHI_ENOMEM;
	const char *path = res->path ? res->path : "";
	if (!r->cur_path || r->cur_seq != res->seq || strcmp(r->cur_path, path)) {
		junit_close_case(r);
		if (!(r->cur_path = strdup(path)))
			return PHI_ENOMEM;
		r->cur_seq = res->seq;
		r->cur_n = r->cur_failing = 0;
		memset(r->cur_sev, 0, sizeof r->cur_sev);
		if (!(r->cur_body = open_memstream(&r->cur_body_buf, &r->cur_body_len)))
			return PHI_ENOMEM;
	}
	r->cur_format = res->format;
	r->cur_status = res->status;
	if (res->reason && !r->cur_reason && !(r->cur_reason = strdup(res->reason)))
		return PHI_ENOMEM;
	for (size_t i = 0; i < res->n; i++) {
		const struct phi_finding *f = &res->v[i];
		unsigned sev = (unsigned)f->severity;
		if (sev < 3)
			r->cur_sev[sev]++;
		if (f->severity >= r->o.fail_on)
			r->cur_failing++;
		if (r->cur_n++ >= JUNIT_MAX_LINES || !r->cur_body)
			continue;
		/* the human line, values masked (shown only with --show-values) */
		FILE *b = r->cur_body;
		if (f->line)
			fprintf(b, "line %" PRIu64 ": ", f->line);
		else if (f->field)
			fprintf(b, "%s: ", f->field);
		else if (f->start != PHI_NO_OFFSET)
			fprintf(b, "offset %" PRIu64 ": ", f->start);
		fprintf(b, "%s %s %s", phi_severity_name(f->severity), cls_name(f->cls),
		        f->rule ? f->rule : "unknown");
		if (f->excerpt && *f->excerpt)
			fprintf(b, " %s", f->excerpt);
		if (r->o.show_values && f->value)
			fprintf(b, " value=%s", f->value);
		putc('\n', b);
	}
	return 0;
}

static int junit_end(struct phi_reporter *r, const struct phi_summary *s)
{
	FILE *fp = r->fp;
	if (!r->ju && !(r->ju = open_memstream(&r->ju_buf, &r->ju_len)))
		return PHI_ENOMEM;
	junit_close_case(r);
	if (fclose(r->ju)) {
		r->ju = NULL;
		return PHI_ENOMEM;
	}
	r->ju = NULL;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
	for (int level = 0; level < 2; level++) {
		fprintf(fp,
		        "%s<%s name=\"phiscan\" tests=\"%lu\" failures=\"%lu\" errors=\"0\" "
		        "skipped=\"%lu\" time=\"",
		        level ? "  " : "", level ? "testsuite" : "testsuites", r->ju_tests,
		        r->ju_failures, r->ju_skipped);
		put_fixed(fp, s->seconds, 3);
		fputs("\">\n", fp);
	}
	if (r->ju_len)
		fwrite(r->ju_buf, 1, r->ju_len, fp);
	fputs("  </testsuite>\n</testsuites>\n", fp);
	return 0;
}

/* ---- reporter ------------------------------------------------------------ */

int phi_reporter_new(struct phi_reporter **out, FILE *fp, const struct phi_report_opts *o)
{
	*out = NULL;
	if (o->format == PHI_REPORT_SARIF && sodium_init() < 0)
		return PHI_ENOMEM;
	struct phi_reporter *r = calloc(1, sizeof *r);
	if (!r)
		return PHI_ENOMEM;
	r->fp = fp;
	r->o = *o;
	*out = r;
	return 0;
}

int phi_reporter_file(struct phi_reporter *r, const struct phi_result *res)
{
	switch (r->o.format) {
	case PHI_REPORT_HUMAN: human_file(r, res); break;
	case PHI_REPORT_JSON: json_file(r, res); break;
	case PHI_REPORT_SARIF: return sarif_file(r, res);
	case PHI_REPORT_JUNIT: return junit_file(r, res);
	}
	return io_status(r);
}

int phi_reporter_end(struct phi_reporter *r, const struct phi_summary *s)
{
	int rc = 0;

	switch (r->o.format) {
	case PHI_REPORT_HUMAN: human_end(r, s); break;
	case PHI_REPORT_JSON: json_end(r, s); break;
	case PHI_REPORT_SARIF: rc = sarif_end(r, s); break;
	case PHI_REPORT_JUNIT: rc = junit_end(r, s); break;
	}
	if (fflush(r->fp) != 0 && rc == 0)
		rc = PHI_EIO;
	return rc ? rc : io_status(r);
}

void phi_reporter_free(struct phi_reporter *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nres; i++) {
		struct sarif_result *x = &r->res[i];
		free(x->rule);
		free(x->field);
		free(x->excerpt);
		if (x->value) {
			sodium_memzero(x->value, strlen(x->value));
			free(x->value);
		}
	}
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i].reason);
	if (r->cur_body)
		fclose(r->cur_body);
	if (r->ju)
		fclose(r->ju);
	free(r->cur_body_buf);
	free(r->cur_path);
	free(r->cur_reason);
	free(r->ju_buf);
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->res);
	free(r->notes);
	free(r->files);
	free(r);
}

/* ---- summary ------------------------------------------------------------- */

static struct phi_format_count *format_count(struct phi_summary *s, const struct phi_result *res);
static int class_count(struct phi_summary *s, const char *cls);

int phi_summary_add_findings(struct phi_summary *s, const struct phi_result *res)
{
	struct phi_format_count *c = format_count(s, res);
	if (!c)
		return PHI_ENOMEM;
	s->findings += res->n;
	c->findings += res->n;
	for (size_t k = 0; k < res->n; k++) {
		unsigned sev = (unsigned)res->v[k].severity;
		if (sev < 3)
			s->by_severity[sev]++;
		if (class_count(s, cls_name(res->v[k].cls)))
			return PHI_ENOMEM;
	}
	return 0;
}

/* Count one finding of class cls (few classes: a sorted array, linear insert). */
static int class_count(struct phi_summary *s, const char *cls)
{
	size_t i = 0;
	while (i < s->nclasses && strcmp(s->classes[i].cls, cls) < 0)
		i++;
	if (i == s->nclasses || strcmp(s->classes[i].cls, cls) != 0) {
		struct phi_class_count *v = realloc(s->classes, (s->nclasses + 1) * sizeof *v);
		if (!v)
			return PHI_ENOMEM;
		s->classes = v;
		memmove(&v[i + 1], &v[i], (s->nclasses - i) * sizeof *v);
		v[i].cls = cls;
		v[i].findings = 0;
		s->nclasses++;
	}
	s->classes[i].findings++;
	return 0;
}

static struct phi_format_count *format_count(struct phi_summary *s, const struct phi_result *res)
{
	const char *name = fmt_name(res->format);
	size_t i = 0;

	/* Formats are few (a dozen): a linear search and an insertion keep the array
	 * sorted by name, so the summary is deterministic. */
	while (i < s->nformats && strcmp(s->formats[i].format, name) < 0)
		i++;
	if (i == s->nformats || strcmp(s->formats[i].format, name) != 0) {
		struct phi_format_count *v =
			realloc(s->formats, (s->nformats + 1) * sizeof *v);
		if (!v)
			return NULL;
		s->formats = v;
		memmove(&v[i + 1], &v[i], (s->nformats - i) * sizeof *v);
		memset(&v[i], 0, sizeof v[i]);
		v[i].format = name;
		s->nformats++;
	}
	return &s->formats[i];
}

int phi_summary_add(struct phi_summary *s, const struct phi_result *res)
{
	struct phi_format_count *c = format_count(s, res);
	if (!c)
		return PHI_ENOMEM;

	s->files++;
	switch (res->status) {
	case PHI_SCANNED:
		/* bytes: what was scanned (throughput), not what was skipped */
		if (res->size != PHI_NO_OFFSET) {
			s->bytes += res->size;
			c->bytes += res->size;
		}
		s->scanned++;
		c->scanned++;
		break;
	case PHI_SKIPPED:
		s->skipped++;
		c->skipped++;
		break;
	case PHI_UNREADABLE:
		s->unreadable++;
		c->unreadable++;
		break;
	}
	return phi_summary_add_findings(s, res);
}

void phi_summary_clear(struct phi_summary *s)
{
	if (!s)
		return;
	free(s->formats);
	free(s->classes);
	memset(s, 0, sizeof *s);
}

void phi_stats_write(FILE *fp, const struct phi_summary *s)
{
	fprintf(fp,
	        "phiscan stats\n"
	        "  files       %lu (scanned %lu, skipped %lu, unreadable %lu)\n"
	        "  bytes       %llu scanned\n"
	        "  time        ",
	        s->files, s->scanned, s->skipped, s->unreadable, s->bytes);
	put_fixed(fp, s->seconds, 3);
	fputs(" s", fp);
	if (s->seconds > 0) {
		fputs(" (", fp);
		put_fixed(fp, (double)s->bytes / 1e6 / s->seconds, 1);
		fputs(" MB/s)", fp);
	}
	fprintf(fp,
	        "\n  findings    %lu (patient %lu, provider %lu, quasi %lu)\n"
	        "  exit code   %d\n"
	        "  by format   %-10s %8s %8s %10s %9s %14s\n",
	        s->findings, s->by_severity[PHI_SEV_PATIENT], s->by_severity[PHI_SEV_PROVIDER],
	        s->by_severity[PHI_SEV_QUASI], s->exit_code, "FORMAT", "SCANNED", "SKIPPED",
	        "UNREADABLE", "FINDINGS", "BYTES");
	for (size_t i = 0; i < s->nformats; i++) {
		const struct phi_format_count *c = &s->formats[i];
		fputs("              ", fp);
		fprintf(fp, "%-10.32s %8lu %8lu %10lu %9lu %14llu\n", fmt_name(c->format), c->scanned,
		        c->skipped, c->unreadable, c->findings, c->bytes);
	}
	fprintf(fp, "  by class    %-12s %9s\n", "CLASS", "FINDINGS");
	for (size_t i = 0; i < s->nclasses; i++)
		fprintf(fp, "              %-12.32s %9lu\n", s->classes[i].cls, s->classes[i].findings);
}
