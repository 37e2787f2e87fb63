/* config.c - .phiscan.yaml (see config.h for the schema and lookup).
 *
 * Parsed with libyaml's document API so every message carries the line of the
 * offending node.  Values are checked here with the same parsers the command line
 * uses (severities, operators through a scratch policy, format names against the
 * format table), so a file that passes `phiscan config check` is one the scan
 * accepts.  The allow: list is handed to the rule-pack loader (rules.c) with the
 * file's own text, so its entries are checked by the same code as a pack's.
 *
 * Threading: main thread only.  Ownership: see config.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "archive.h"
#include "ops.h"

/* A configuration file is a handful of lines; a large one is a mistake. */
#define CONFIG_MAX (1u << 20)

struct cload {
	yaml_document_t doc;
	const char *name;
	struct phi_config *c;
	struct phi_error *err;
};

static int cfail(struct cload *L, yaml_node_t *n, const char *key, const char *fmt,
                 const char *arg)
{
	char what[256];
	snprintf(what, sizeof what, fmt, arg ? arg : "");
	return phi_fail(L->err, PHI_EUSAGE, "%s:%lu: key '%s': %s", L->name,
	                n ? (unsigned long)n->start_mark.line + 1 : 0UL, key, what);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int push(struct cload *L, char ***v, size_t *n, const char *s)
{
	char **t = realloc(*v, (*n + 2) * sizeof *t);
	if (!t)
		return phi_fail(L->err, PHI_ENOMEM, "out of memory");
	*v = t;
	if (!(t[*n] = strdup(s)))
		return phi_fail(L->err, PHI_ENOMEM, "out of memory");
	t[++*n] = NULL;
	return 0;
}

/* A scalar or a list of scalars. */
static int get_list(struct cload *L, yaml_node_t *n, const char *key, char ***v, size_t *cnt)
{
	if (scalar(n))
		return push(L, v, cnt, scalar(n));
	if (n->type != YAML_SEQUENCE_NODE)
		return cfail(L, n, key, "must be a list of strings%s", NULL);
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *it = yaml_document_get_node(&L->doc, *i);
		if (!scalar(it))
			return cfail(L, it, key, "must be a list of strings%s", NULL);
		int rc = push(L, v, cnt, scalar(it));
		if (rc)
			return rc;
	}
	return 0;
}

static int get_bool(struct cload *L, yaml_node_t *n, const char *key, int *out)
{
	const char *s = scalar(n);
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*out = 1;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*out = 0;
	else
		return cfail(L, n, key, "must be true or false, not '%s'", s ? s : "a list");
	return 0;
}

/* Bytes with an optional K, M or G suffix (powers of 1024), as --max-size. */
static int get_size(struct cload *L, yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *s = scalar(n);
	char *end;
	if (!s || !*s)
		return cfail(L, n, key, "must be a byte count (K, M, G suffixes)%s", NULL);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == s || *end || s[0] == '-' || v > (ULLONG_MAX >> shift))
		return cfail(L, n, key, "must be a byte count (K, M, G suffixes), not '%s'", s);
	*out = v << shift;
	return 0;
}

static int get_operators(struct cload *L, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return cfail(L, n, "operators", "must map a class (or default) to an operator%s",
		             NULL);
	struct phi_policy scratch;
	struct phi_error perr = {0};
	int rc = 0;
	phi_policy_init(&scratch);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; !rc && p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
		const char *k = scalar(kn), *v = scalar(vn);
		char spec[128];
		if (!k || !v) {
			rc = cfail(L, kn, "operators", "entries must be CLASS: OPERATOR%s", NULL);
			break;
		}
		if (!strcmp(k, "default"))
			snprintf(spec, sizeof spec, "%s", v);
		else
			snprintf(spec, sizeof spec, "%s=%s", k, v);
		if (phi_policy_set(&scratch, spec, &perr)) {
			/* the policy's message speaks of --op; say it with the file's words */
			char key[64];
			snprintf(key, sizeof key, "operators.%s", k);
			rc = phi_class_find(k) || !strcmp(k, "default")
			         ? cfail(L, vn, key,
			                 "unknown operator '%s' (tag, mask, remove, hash, pseudonym)", v)
			         : cfail(L, kn, key, "unknown class '%s' (see phiscan rules list)", k);
			break;
		}
		rc = push(L, &L->c->ops, &L->c->nops, spec);
	}
	phi_policy_free(&scratch);
	return rc;
}

static bool known_format(const char *name)
{
	/* archive kinds are named by phi_archive_detect (scanner/archive.c) */
	static const char *const archives[] = {"zip",  "7z", "rar", "tar", "cpio",
	                                       "gzip", "bzip2", "xz", "zstd"};
	for (size_t i = 0; phi_formats[i]; i++)
		if (!strcmp(phi_formats[i]->name, name))
			return true;
	for (size_t i = 0; i < sizeof archives / sizeof archives[0]; i++)
		if (!strcmp(archives[i], name))
			return true;
	return false;
}

/* limits.archive: NAME: N pairs, checked and kept as --archive-limit specs. */
static int get_archive_limits(struct cload *L, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return cfail(L, n, "limits.archive",
		             "must be a mapping (depth, entries, entry-size, total, ratio)%s", NULL);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
		const char *k = scalar(kn), *v = scalar(vn);
		char spec[160], key[96];
		struct phi_limits scratch;
		struct phi_error aerr = {0};
		snprintf(key, sizeof key, "limits.archive.%.60s", k ? k : "?");
		if (!k || !v)
			return cfail(L, kn, key, "must be NAME: NUMBER%s", NULL);
		snprintf(spec, sizeof spec, "%.60s=%.60s", k, v);
		phi_limits_default(&scratch);
		if (phi_archive_limit_set(&scratch, spec, &aerr))
			return cfail(L, kn, key,
			             "unknown name or value out of range: '%s' (depth 1-64, entries, "
			             "entry-size, total at least 1, ratio 1-1000000; K, M, G suffixes)",
			             v);
		int rc = push(L, &L->c->archive_limits, &L->c->narchive_limits, spec);
		if (rc)
			return rc;
	}
	return 0;
}

static int get_limits(struct cload *L, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return cfail(L, n, "limits", "must be a mapping (max_file_size, archive)%s", NULL);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
		const char *k = scalar(kn);
		int rc;
		if (k && !strcmp(k, "archive")) {
			rc = get_archive_limits(L, vn);
		} else if (k && !strcmp(k, "max_file_size")) {
			if (L->c->has_max_size)
				return cfail(L, kn, "limits.max_file_size", "given twice%s", NULL);
			rc = get_size(L, vn, "limits.max_file_size", &L->c->max_size);
			L->c->has_max_size = true;
		} else {
			char key[80];
			snprintf(key, sizeof key, "limits.%.60s", k ? k : "?");
			rc = cfail(L, kn, key, "unknown limit (known: max_file_size, archive)%s", NULL);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* The directory part of path ("." when none) joined with rel, unless rel is
 * absolute. */
static char *resolve(const char *path, const char *rel)
{
	char *out = NULL;
	if (rel[0] == '/')
		return strdup(rel);
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(rel);
	if (asprintf(&out, "%.*s/%s", (int)(slash - path), path, rel) < 0)
		return NULL;
	return out;
}

static int load_root(struct cload *L)
{
	yaml_node_t *root = yaml_document_get_root_node(&L->doc);
	struct phi_config *c = L->c;
	int rc = 0;

	if (!root)
		return 0; /* an empty file sets nothing */
	if (root->type != YAML_MAPPING_NODE)
		return phi_fail(L->err, PHI_EUSAGE, "%s:%lu: the configuration must be a mapping of keys",
		                L->name, (unsigned long)root->start_mark.line + 1);
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     !rc && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
		const char *k = scalar(kn);
		if (!k) {
			rc = cfail(L, kn, "?", "keys must be strings%s", NULL);
			break;
		}
		/* a key given twice: libyaml keeps both; the second would silently win */
		for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < p; q++)
			if (scalar(yaml_document_get_node(&L->doc, q->key)) &&
			    !strcmp(scalar(yaml_document_get_node(&L->doc, q->key)), k))
				return cfail(L, kn, k, "given twice%s", NULL);
		if (!strcmp(k, "version")) {
			const char *v = scalar(vn);
			if (!v || strcmp(v, "1"))
				rc = cfail(L, vn, k, "this phiscan reads version 1, not '%s'", v ? v : "?");
		} else if (!strcmp(k, "packs")) {
			char **raw = NULL;
			size_t nraw = 0;
			rc = get_list(L, vn, k, &raw, &nraw);
			for (size_t i = 0; !rc && i < nraw; i++) {
				char *abs = resolve(L->name, raw[i]);
				rc = abs ? push(L, &c->packs, &c->npacks, abs)
				         : phi_fail(L->err, PHI_ENOMEM, "out of memory");
				free(abs);
			}
			for (size_t i = 0; i < nraw; i++)
				free(raw[i]);
			free(raw);
		} else if (!strcmp(k, "default_rules")) {
			rc = get_bool(L, vn, k, &c->default_rules);
		} else if (!strcmp(k, "allow")) {
			if (vn->type != YAML_SEQUENCE_NODE)
				rc = cfail(L, vn, k, "must be a list of allow entries%s", NULL);
			c->has_allow = true;
		} else if (!strcmp(k, "operators")) {
			rc = get_operators(L, vn);
		} else if (!strcmp(k, "min_confidence")) {
			const char *v = scalar(vn);
			char *end = NULL;
			double d = v ? strtod(v, &end) : -1;
			if (!v || end == v || *end || !(d >= 0 && d <= 1))
				rc = cfail(L, vn, k, "must be a number from 0 to 1, not '%s'", v ? v : "a list");
			c->min_confidence = d;
			c->has_min_confidence = true;
		} else if (!strcmp(k, "fail_on")) {
			const char *v = scalar(vn);
			if (!v || phi_severity_parse(v, &c->fail_on))
				rc = cfail(L, vn, k, "must be quasi, provider or patient, not '%s'",
				           v ? v : "a list");
			c->has_fail_on = true;
		} else if (!strcmp(k, "safe_harbor")) {
			rc = get_bool(L, vn, k, &c->safe_harbor);
		} else if (!strcmp(k, "limits")) {
			rc = get_limits(L, vn);
		} else if (!strcmp(k, "skip_formats")) {
			size_t from = c->nskip_formats;
			rc = get_list(L, vn, k, &c->skip_formats, &c->nskip_formats);
			for (size_t i = from; !rc && i < c->nskip_formats; i++)
				if (!known_format(c->skip_formats[i]))
					rc = cfail(L, vn, k, "unknown format '%s' (see the README's format table)",
					           c->skip_formats[i]);
		} else if (!strcmp(k, "exclude")) {
			rc = get_list(L, vn, k, &c->exclude, &c->nexclude);
		} else {
			rc = cfail(L, kn, k,
			           "unknown key (version, packs, default_rules, allow, operators, "
			           "min_confidence, fail_on, safe_harbor, limits, skip_formats, exclude)%s",
			           NULL);
		}
	}
	return rc;
}

int phi_config_load_string(struct phi_config *c, const char *yaml, size_t len,
                           const char *name, struct phi_error *err)
{
	yaml_parser_t parser;
	struct cload L = {.name = name, .c = c, .err = err};
	int rc;

	memset(c, 0, sizeof *c);
	c->default_rules = -1;
	c->safe_harbor = -1;
	if (!(c->path = strdup(name)) || !(c->text = malloc(len + 1))) {
		phi_config_free(c);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	memcpy(c->text, yaml, len);
	c->text[len] = 0;
	c->text_len = len;
	if (!yaml_parser_initialize(&parser)) {
		phi_config_free(c);
		return phi_fail(err, PHI_ENOMEM, "%s: cannot initialise the YAML parser", name);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &L.doc)) {
		rc = phi_fail(err, PHI_EUSAGE, "%s:%lu: YAML error: %s", name,
		              (unsigned long)parser.problem_mark.line + 1,
		              parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		phi_config_free(c);
		return rc;
	}
	rc = load_root(&L);
	yaml_document_delete(&L.doc);
	yaml_parser_delete(&parser);
	if (!rc && c->has_allow) {
		/* check the allow entries now, so config check and the scan agree */
		struct phi_pack scratch = {0};
		rc = phi_config_add_allow(c, &scratch, err);
		phi_pack_free(&scratch);
	}
	if (rc)
		phi_config_free(c);
	return rc;
}

int phi_config_load(struct phi_config *c, const char *path, struct phi_error *err)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t len;
	int rc;

	memset(c, 0, sizeof *c);
	if (!fp)
		return phi_fail(err, PHI_EUSAGE, "%s: cannot open the configuration: %s", path,
		                strerror(errno));
	if (!(buf = malloc(CONFIG_MAX + 1))) {
		fclose(fp);
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	}
	len = fread(buf, 1, CONFIG_MAX + 1, fp);
	if (ferror(fp))
		rc = phi_fail(err, PHI_EIO, "%s: read error", path);
	else if (len > CONFIG_MAX)
		rc = phi_fail(err, PHI_ELIMIT, "%s: larger than %u bytes", path, CONFIG_MAX);
	else
		rc = phi_config_load_string(c, buf, len, path, err);
	fclose(fp);
	free(buf);
	return rc;
}

int phi_config_add_allow(const struct phi_config *c, struct phi_pack *pack,
                         struct phi_error *err)
{
	if (!c->has_allow)
		return 0;
	return phi_pack_load_allow_string(pack, c->text, c->text_len, c->path, err);
}

int phi_config_find(const char *start, char *out, size_t cap)
{
	char *dir = realpath(start && *start ? start : ".", NULL);
	struct stat st;
	if (!dir)
		return 1;
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		char *slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir ? 1 : 0] = 0;
	}
	for (;;) {
		if ((size_t)snprintf(out, cap, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
		                     PHI_CONFIG_FILE) < cap &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			free(dir);
			return 0;
		}
		char *slash = strrchr(dir, '/');
		if (!slash || !strcmp(dir, "/"))
			break;
		slash[slash == dir ? 1 : 0] = 0;
	}
	free(dir);
	return 1;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void phi_config_free(struct phi_config *c)
{
	if (!c)
		return;
	free(c->path);
	free_list(c->packs, c->npacks);
	free_list(c->ops, c->nops);
	free_list(c->skip_formats, c->nskip_formats);
	free_list(c->exclude, c->nexclude);
	free_list(c->archive_limits, c->narchive_limits);
	free(c->text);
	memset(c, 0, sizeof *c);
	c->default_rules = -1;
	c->safe_harbor = -1;
}
