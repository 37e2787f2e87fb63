/* packcheck.c - build step: prove that every pattern of a rule pack compiles, and
 * write the pack as C data (a struct phi_pack_builtin, rules.h) for phiscan.
 *
 * Usage: packcheck PACK.yaml > default_pack.c.  The pack is loaded with the loader
 * phiscan uses (rules.c, libyaml) and compiled by the engine itself (engine.c: every
 * rule, safe_harbor ones included, and every allow pattern, with the same PCRE2
 * options), so "it compiled here" means "it compiles in phiscan".  The output
 * defines phi_default_pack: the file's SHA-256 and every rule and allow record as
 * the loader filled it (strings, lists, examples, classes, numbers, line numbers).
 * phiscan appends those records instead of parsing a default pack with exactly
 * these bytes (phi_pack_load_builtin), and compiles its rules on first use instead
 * of at start (rules.h: verified).  The YAML stays the one source of truth; a test
 * (test_default_pack.c) checks that the records equal what libyaml loads.
 *
 * It also defines phi_default_prebuilt: the pack's Vectorscan prefilter database,
 * compiled here for this host, with and without --safe-harbor, under the key the
 * engine would look for in its cache (engine.h, struct phi_engine_prebuilt), so
 * that no run of phiscan on this machine compiles it or reads a cache file for it.
 *
 * And phi_default_codes: every rule and allow pattern's PCRE2 code as compiled here,
 * serialized (pcre2serialize(3)), with the PCRE2 version, its library's build ID and
 * the empty pattern's serialization they need (engine.h, struct phi_engine_codes), so that phiscan
 * decodes the default pack's patterns instead of compiling them, and compiles them
 * only when another PCRE2 runs.
 *
 * When the pack does not load or a pattern does not compile, phi_default_pack has
 * the hash "" and no records, and the reason goes to stderr: the build goes on, and
 * phiscan, trusting nothing, parses the file and reports the same error at start as
 * it always did.
 *
 * Not part of phiscan: run by the Makefile, once per change of the pack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/sha256.h"
#include "../../scanner/engine.h"
#include "../../scanner/rules.h"

static int file_sha256(const char *path, char hex[65])
{
	struct phi_sha256 h;
	char buf[65536];
	size_t n;
	FILE *fp = fopen(path, "rb");
	if (!fp || phi_sha256_init(&h)) {
		if (fp)
			fclose(fp);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		phi_sha256_update(&h, buf, n);
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		phi_sha256_abort(&h);
		return -1;
	}
	return phi_sha256_final(&h, hex) ? -1 : 0;
}

/* s as a C string literal, or NULL.  Octal escapes for every byte outside printable
 * ASCII (always three digits, so a following digit cannot join them); '?' escaped
 * against trigraphs. */
static void lit(FILE *f, const char *s)
{
	if (!s) {
		fputs("NULL", f);
		return;
	}
	putc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '?')
			fprintf(f, "\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			putc(*p, f);
		else
			fprintf(f, "\\%03o", *p);
	}
	putc('"', f);
}

/* A NULL-terminated string array named NAMEi, as get_list builds it; "NULL" for none. */
static void list(const char *kind, size_t i, char **v, size_t n)
{
	if (!v)
		return;
	printf("static char *%s%zu[] = {", kind, i);
	for (size_t j = 0; j < n; j++) {
		lit(stdout, v[j]);
		fputs(",\n\t", stdout);
	}
	puts("NULL};");
}

static void list_ref(const char *field, const char *kind, size_t i, char **v, size_t n)
{
	if (v)
		printf("\t .%s = %s%zu, .n%s = %zu,\n", field, kind, i, field, n);
	else
		printf("\t .%s = NULL, .n%s = 0,\n", field, field);
}

static void examples(const char *kind, size_t i, const struct phi_example *v, size_t n)
{
	if (!v)
		return;
	printf("static struct phi_example %s%zu[] = {", kind, i);
	for (size_t j = 0; j < n; j++) {
		putchar('{');
		lit(stdout, v[j].text);
		fputs(", ", stdout);
		lit(stdout, v[j].value);
		fputs("},\n\t", stdout);
	}
	puts("{NULL, NULL}};");
}

/* bytes as a string literal (the compiler takes one large literal much faster than
 * an initializer list), 64 bytes a line */
static void blob(FILE *f, const unsigned char *b, size_t n)
{
	fputs("\t\"", f);
	for (size_t i = 0; i < n; i++) {
		if (i && i % 64 == 0)
			fputs("\"\n\t\"", f);
		fprintf(f, "\\%03o", b[i]);
	}
	fputs("\"\n", f);
}

/* The prefilter database of pack with and without safe_harbor rules. */
static void emit_prebuilt(const struct phi_pack *p)
{
	size_t n = 0;
	char key[2][33];
	for (int sh = 0; p->nrules && sh < 2; sh++) {
		struct phi_engine *e = NULL;
		struct phi_error err = {0};
		struct phi_engine_opts o = {.safe_harbor = sh};
		char *b = NULL;
		size_t len = 0;
		if (phi_engine_new(&e, p, NULL, &o, &err) || phi_engine_prebuild(e, &b, &len, key[n])) {
			fprintf(stderr, "packcheck: no prefilter database built in (%s)\n",
			        err.msg[0] ? err.msg : "cannot serialize it");
			phi_engine_free(e);
			continue;
		}
		printf("static const unsigned char db%zu[%zu] =\n", n, len);
		blob(stdout, (const unsigned char *)b, len);
		puts(";");
		free(b);
		phi_engine_free(e);
		n++;
	}
	puts("const struct phi_engine_prebuilt phi_default_prebuilt[] = {");
	for (size_t i = 0; i < n; i++)
		printf("\t{\"%s\", db%zu, sizeof db%zu},\n", key[i], i, i);
	puts("\t{NULL, NULL, 0},\n};");
	printf("const size_t phi_default_nprebuilt = %zu;\n", n);
}

/* The PCRE2 codes of e (phi_engine_export_codes): each one's bytes as an array, then
 * the table of them with the version and probe they need (engine.h).  Written into
 * two buffers first, so that a failure half-way leaves no unused array behind. */
struct codes_out {
	FILE *arrays, *rows;
	size_t n;
};

static int emit_code(void *arg, const struct phi_engine_code *c)
{
	struct codes_out *o = arg;
	fprintf(o->arrays, "static const unsigned char pc%zu[%zu] =\n", o->n, c->len);
	blob(o->arrays, c->data, c->len);
	fputs(";\n", o->arrays);
	fputs("\t{", o->rows);
	lit(o->rows, c->pattern);
	fprintf(o->rows, ", 0x%xu, pc%zu, sizeof pc%zu, \"%s\"},\n", c->options, o->n, o->n,
	        c->sum);
	o->n++;
	return ferror(o->arrays) || ferror(o->rows) ? PHI_ENOMEM : 0;
}

static void emit_codes(const struct phi_engine *e)
{
	char *arrays = NULL, *rows = NULL;
	size_t alen = 0, rlen = 0, probe_len = 0;
	unsigned char *probe = NULL;
	const char *version = "", *build_id = "";
	struct codes_out o = {open_memstream(&arrays, &alen), open_memstream(&rows, &rlen), 0};
	int rc = !e ? -1 : !o.arrays || !o.rows ? PHI_ENOMEM
	                 : phi_engine_export_codes(e, emit_code, &o, &probe, &probe_len, &version,
	                                                   &build_id);
	if (o.arrays)
		rc |= fclose(o.arrays);
	if (o.rows)
		rc |= fclose(o.rows);
	if (rc && e)
		fprintf(stderr, "packcheck: no PCRE2 codes built in (cannot serialize them)\n");
	if (!rc) {
		fwrite(arrays, 1, alen, stdout);
		printf("static const unsigned char pcprobe[%zu] =\n", probe_len);
		blob(stdout, probe, probe_len);
		puts(";");
	}
	puts("static const struct phi_engine_code codes[] = {");
	if (!rc)
		fwrite(rows, 1, rlen, stdout);
	puts("\t{NULL, 0, NULL, 0, NULL},\n};");
	fputs("const struct phi_engine_codes phi_default_codes = {\n\t.pcre2_version = ", stdout);
	lit(stdout, rc ? "" : version);
	fputs(",\n\t.pcre2_build_id = ", stdout);
	lit(stdout, rc ? "" : build_id);
	printf(",\n\t.probe = %s, .probe_len = %zu,\n", rc ? "NULL" : "pcprobe", rc ? 0 : probe_len);
	printf("\t.codes = codes, .ncodes = %zu,\n};\n", rc ? 0 : o.n);
	free(arrays);
	free(rows);
	free(probe);
}

static void emit(const struct phi_pack *p, const char *path, const char *hex,
                 const struct phi_engine *e)
{
	printf("/* generated by rules/src/packcheck.c from %s: do not edit */\n", path);
	puts("#include \"scanner/engine.h\"");
	puts("#include \"scanner/rules.h\"\n");
	for (size_t i = 0; i < p->nrules; i++) {
		const struct phi_rule *r = &p->rules[i];
		list("kw", i, r->keywords, r->nkeywords);
		list("cue", i, r->cues, r->ncues);
		examples("mt", i, r->match, r->nmatch);
		examples("nm", i, r->no_match, r->nno_match);
	}
	for (size_t i = 0; i < p->nallow; i++) {
		const struct phi_allow *a = &p->allow[i];
		list("av", i, a->values, a->nvalues);
		list("ap", i, a->patterns, a->npatterns);
		list("ar", i, a->rules, a->nrules);
		list("aa", i, a->paths, a->npaths);
	}
	if (p->nrules) {
		puts("static const struct phi_rule rules[] = {");
		for (size_t i = 0; i < p->nrules; i++) {
			const struct phi_rule *r = &p->rules[i];
			fputs("\t{.id = ", stdout);
			lit(stdout, r->id);
			fputs(",\n\t .description = ", stdout);
			lit(stdout, r->description);
			printf(",\n\t .cls = &phi_classes[%td], .severity = (enum phi_severity)%d,\n",
			       r->cls - phi_classes, (int)r->severity);
			fputs("\t .pattern = ", stdout);
			lit(stdout, r->pattern);
			puts(",");
			list_ref("keywords", "kw", i, r->keywords, r->nkeywords);
			list_ref("cues", "cue", i, r->cues, r->ncues);
			printf("\t .cue_window = %u, .cue_required = %d,\n\t .validator = ", r->cue_window,
			       (int)r->cue_required);
			lit(stdout, r->validator);
			printf(", .validator_id = %d,\n\t .confidence = %a, .cue_confidence = %a,\n",
			       r->validator_id, r->confidence, r->cue_confidence);
			printf("\t .safe_harbor = %d,\n", (int)r->safe_harbor);
			if (r->match)
				printf("\t .match = mt%zu, .nmatch = %zu,\n", i, r->nmatch);
			if (r->no_match)
				printf("\t .no_match = nm%zu, .nno_match = %zu,\n", i, r->nno_match);
			printf("\t .line = %d, .borrowed = 1},\n", r->line);
		}
		puts("};");
	}
	if (p->nallow) {
		puts("static const struct phi_allow allow[] = {");
		for (size_t i = 0; i < p->nallow; i++) {
			const struct phi_allow *a = &p->allow[i];
			fputs("\t{.id = ", stdout);
			lit(stdout, a->id);
			puts(",");
			list_ref("values", "av", i, a->values, a->nvalues);
			list_ref("patterns", "ap", i, a->patterns, a->npatterns);
			list_ref("rules", "ar", i, a->rules, a->nrules);
			list_ref("paths", "aa", i, a->paths, a->npaths);
			printf("\t .line = %d, .borrowed = 1},\n", a->line);
		}
		puts("};");
	}
	printf("\nconst struct phi_pack_builtin phi_default_pack = {\n\t.sha256 = \"%s\",\n", hex);
	printf("\t.rules = %s, .nrules = %zu,\n", p->nrules ? "rules" : "NULL", p->nrules);
	printf("\t.allow = %s, .nallow = %zu,\n};\n", p->nallow ? "allow" : "NULL", p->nallow);
	emit_prebuilt(p);
	emit_codes(e);
}

int main(int argc, char **argv)
{
	struct phi_pack pack = {0}, none = {0};
	struct phi_error err = {0};
	struct phi_engine *e = NULL;
	struct phi_engine_opts o = {.safe_harbor = true};
	char hex[65] = "";
	int ok = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: packcheck PACK.yaml > default_pack.c\n");
		return 2;
	}
	if (phi_pack_load(&pack, argv[1], &err) || phi_engine_new(&e, &pack, NULL, &o, &err))
		fprintf(stderr, "packcheck: %s (phiscan will report it at start)\n", err.msg);
	else if (file_sha256(argv[1], hex))
		fprintf(stderr, "packcheck: %s: cannot hash the file\n", argv[1]);
	else
		ok = 1;
	emit(ok ? &pack : &none, argv[1], ok ? hex : "", ok ? e : NULL);
	phi_engine_free(e);
	phi_pack_free(&pack);
	return ferror(stdout) ? 1 : 0;
}
