/* rules.c - rule packs: the class and severity vocabularies, and the YAML loader.
 *
 * Classes follow HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(A)-(R).
 * Threading: loading happens in main before workers start.
 * Ownership: see rules.h.
 */
#include "rules.h"

#include <string.h>

const struct phi_class_info phi_classes[] = {
	{"name", 'A', "[NAME]"},
	{"address", 'B', "[ADDRESS]"},
	{"zip", 'B', "[ZIP]"},
	{"date", 'C', "[DATE]"},
	{"age", 'C', "[AGE]"},
	{"phone", 'D', "[PHONE]"},
	{"fax", 'E', "[FAX]"},
	{"email", 'F', "[EMAIL]"},
	{"ssn", 'G', "[SSN]"},
	{"mrn", 'H', "[MRN]"},
	{"healthplan", 'I', "[HEALTHPLAN]"},
	{"account", 'J', "[ACCOUNT]"},
	{"license", 'K', "[LICENSE]"},
	{"vehicle", 'L', "[VEHICLE]"},
	{"device", 'M', "[DEVICE]"},
	{"url", 'N', "[URL]"},
	{"ip", 'O', "[IP]"},
	{"biometric", 'P', "[BIOMETRIC]"},
	{"photo", 'Q', "[PHOTO]"},
	{"id", 'R', "[ID]"},
	{NULL, 0, NULL},
};

const struct phi_class_info *phi_class_find(const char *name)
{
	for (size_t i = 0; name && phi_classes[i].name; i++)
		if (strcmp(phi_classes[i].name, name) == 0)
			return &phi_classes[i];
	return NULL;
}

static const char *const severity_names[] = {"quasi", "provider", "patient"};

const char *phi_severity_name(enum phi_severity s)
{
	return (unsigned)s < 3 ? severity_names[s] : "unknown";
}

int phi_severity_parse(const char *name, enum phi_severity *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, severity_names[i]) == 0) {
			*out = (enum phi_severity)i;
			return 0;
		}
	return PHI_EUSAGE;
}

/* ---- YAML loading (libyaml document API; node marks give line numbers) ---- */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

#include "../formats/sha256.h"
#include "validate.h"

struct loader {
	yaml_document_t doc;
	const char *name;
	struct phi_error *err;
	bool only_allow;     /* a .phiscan.yaml: take its allow list, leave the rest */
};

static int lfail(struct loader *L, yaml_node_t *n, const char *fmt, const char *a,
                 const char *b)
{
	char what[200];
	snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
	return phi_fail(L->err, PHI_ERULE, "%s:%lu: %s", L->name,
	                n ? (unsigned long)n->start_mark.line + 1 : 0UL, what);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_string(struct loader *L, yaml_node_t *n, const char *key, char **out)
{
	const char *s = scalar(n);
	if (*out)
		return lfail(L, n, "duplicate key '%s'", key, NULL);
	if (!s)
		return lfail(L, n, "'%s' must be a string", key, NULL);
	*out = strdup(s);
	return *out ? 0 : PHI_ENOMEM;
}

static int get_bool(struct loader *L, yaml_node_t *n, const char *key, bool *out)
{
	const char *s = scalar(n);
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes"))) {
		*out = true;
		return 0;
	}
	if (s && (!strcmp(s, "false") || !strcmp(s, "no"))) {
		*out = false;
		return 0;
	}
	return lfail(L, n, "'%s' must be true or false", key, NULL);
}

static int get_number(struct loader *L, yaml_node_t *n, const char *key, double lo,
                      double hi, double *out)
{
	const char *s = scalar(n);
	char *end;
	if (!s)
		return lfail(L, n, "'%s' must be a number", key, NULL);
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return lfail(L, n, "'%s' is out of range: %s", key, s);
	*out = v;
	return 0;
}

/* A scalar or a sequence of scalars into a string array. */
static int get_list(struct loader *L, yaml_node_t *n, const char *key, char ***out,
                    size_t *count)
{
	/* a repeated key would leak (and silently drop) the first list */
	if (*out)
		return lfail(L, n, "duplicate key '%s'", key, NULL);
	if (n->type == YAML_SCALAR_NODE) {
		char **v = calloc(1, sizeof *v);
		if (!v || !(v[0] = strdup(scalar(n)))) {
			free(v);
			return PHI_ENOMEM;
		}
		*out = v;
		*count = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return lfail(L, n, "'%s' must be a list of strings", key, NULL);
	size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	char **v = calloc(k + 1, sizeof *v);
	if (!v)
		return PHI_ENOMEM;
	for (size_t i = 0; i < k; i++) {
		yaml_node_t *it = yaml_document_get_node(&L->doc, n->data.sequence.items.start[i]);
		const char *s = scalar(it);
		if (!s || !*s) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return lfail(L, it, "'%s' items must be non-empty strings", key, NULL);
		}
		v[i] = strdup(s);
	}
	*out = v;
	*count = k;
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int get_examples(struct loader *L, yaml_node_t *n, const char *key,
                        struct phi_example **out, size_t *count)
{
	if (*out)
		return lfail(L, n, "duplicate key '%s'", key, NULL);
	if (n->type != YAML_SEQUENCE_NODE)
		return lfail(L, n, "'%s' must be a list", key, NULL);
	size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	struct phi_example *v = calloc(k + 1, sizeof *v);
	if (!v)
		return PHI_ENOMEM;
	*out = v;
	*count = 0;
	for (size_t i = 0; i < k; i++) {
		yaml_node_t *it = yaml_document_get_node(&L->doc, n->data.sequence.items.start[i]);
		*count = i + 1;
		if (it->type == YAML_SCALAR_NODE) {
			v[i].text = strdup(scalar(it));
		} else if (it->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = it->data.mapping.pairs.start;
			     p < it->data.mapping.pairs.top; p++) {
				yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
				yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
				const char *ks = scalar(kn);
				int rc;
				if (ks && !strcmp(ks, "text"))
					rc = get_string(L, vn, "text", &v[i].text);
				else if (ks && !strcmp(ks, "value"))
					rc = get_string(L, vn, "value", &v[i].value);
				else
					rc = lfail(L, kn, "unknown example key '%s'", ks, NULL);
				if (rc)
					return rc;
			}
		} else {
			return lfail(L, it, "'%s' items must be strings or {text, value}", key, NULL);
		}
		if (!v[i].text)
			return lfail(L, it, "example without text in '%s'", key, NULL);
	}
	return 0;
}

static void free_rule(struct phi_rule *r)
{
	free(r->source);
	if (r->borrowed)
		return;
	free(r->id);
	free(r->description);
	free(r->pattern);
	free_list(r->keywords, r->nkeywords);
	free_list(r->cues, r->ncues);
	free(r->validator);
	for (size_t i = 0; i < r->nmatch; i++) {
		free(r->match[i].text);
		free(r->match[i].value);
	}
	free(r->match);
	for (size_t i = 0; i < r->nno_match; i++) {
		free(r->no_match[i].text);
		free(r->no_match[i].value);
	}
	free(r->no_match);
}

static void free_allow(struct phi_allow *a)
{
	free(a->source);
	if (a->borrowed)
		return;
	free(a->id);
	free_list(a->values, a->nvalues);
	free_list(a->patterns, a->npatterns);
	free_list(a->rules, a->nrules);
	free_list(a->paths, a->npaths);
}

static int load_rule(struct loader *L, yaml_node_t *n, struct phi_rule *r)
{
	int rc = 0;
	bool have_cue_conf = false;

	memset(r, 0, sizeof *r);
	r->confidence = 0.8;
	r->cue_window = 40;
	r->validator_id = PHI_VAL_NONE;
	r->line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE)
		return lfail(L, n, "a rule must be a mapping", NULL, NULL);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
		const char *k = scalar(kn);
		double d = 0;
		if (!k)
			return lfail(L, kn, "rule keys must be strings", NULL, NULL);
		if (!strcmp(k, "id"))
			rc = get_string(L, vn, k, &r->id);
		else if (!strcmp(k, "description"))
			rc = get_string(L, vn, k, &r->description);
		else if (!strcmp(k, "class")) {
			const char *s = scalar(vn);
			if (!s || !(r->cls = phi_class_find(s)))
				rc = lfail(L, vn, "unknown class '%s'", s, NULL);
		} else if (!strcmp(k, "severity")) {
			const char *s = scalar(vn);
			if (!s || phi_severity_parse(s, &r->severity))
				rc = lfail(L, vn, "severity must be patient, provider or quasi, not '%s'", s,
				           NULL);
		} else if (!strcmp(k, "pattern"))
			rc = get_string(L, vn, k, &r->pattern);
		else if (!strcmp(k, "keywords"))
			rc = get_list(L, vn, k, &r->keywords, &r->nkeywords);
		else if (!strcmp(k, "cues"))
			rc = get_list(L, vn, k, &r->cues, &r->ncues);
		else if (!strcmp(k, "cue_window")) {
			if (!(rc = get_number(L, vn, k, 0, 4096, &d)))
				r->cue_window = (unsigned)d;
		} else if (!strcmp(k, "cue_required"))
			rc = get_bool(L, vn, k, &r->cue_required);
		else if (!strcmp(k, "safe_harbor"))
			rc = get_bool(L, vn, k, &r->safe_harbor);
		else if (!strcmp(k, "validator")) {
			if (!(rc = get_string(L, vn, k, &r->validator))) {
				r->validator_id = phi_validator_find(r->validator);
				if (r->validator_id < 0)
					rc = lfail(L, vn, "unknown validator '%s'", r->validator, NULL);
			}
		} else if (!strcmp(k, "confidence"))
			rc = get_number(L, vn, k, 0, 1, &r->confidence);
		else if (!strcmp(k, "cue_confidence")) {
			rc = get_number(L, vn, k, 0, 1, &r->cue_confidence);
			have_cue_conf = true;
		} else if (!strcmp(k, "examples")) {
			if (vn->type != YAML_MAPPING_NODE)
				rc = lfail(L, vn, "'examples' must map match/no_match to lists", NULL, NULL);
			for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
			     !rc && vn->type == YAML_MAPPING_NODE && q < vn->data.mapping.pairs.top; q++) {
				yaml_node_t *ek = yaml_document_get_node(&L->doc, q->key);
				yaml_node_t *ev = yaml_document_get_node(&L->doc, q->value);
				const char *es = scalar(ek);
				if (es && !strcmp(es, "match"))
					rc = get_examples(L, ev, es, &r->match, &r->nmatch);
				else if (es && !strcmp(es, "no_match"))
					rc = get_examples(L, ev, es, &r->no_match, &r->nno_match);
				else
					rc = lfail(L, ek, "unknown examples key '%s' (match, no_match)", es, NULL);
			}
		} else
			rc = lfail(L, kn, "unknown rule key '%s'", k, NULL);
		if (rc)
			return rc;
	}
	if (!r->id || !*r->id)
		return lfail(L, n, "rule without 'id'", NULL, NULL);
	if (!r->cls)
		return lfail(L, n, "rule '%s' has no 'class'", r->id, NULL);
	if (!r->pattern)
		return lfail(L, n, "rule '%s' has no 'pattern'", r->id, NULL);
	if (!have_cue_conf)
		r->cue_confidence = r->confidence + 0.35 > 1 ? 1 : r->confidence + 0.35;
	if (r->cue_required && r->ncues == 0)
		return lfail(L, n, "rule '%s' requires a cue but lists no 'cues'", r->id, NULL);
	r->source = strdup(L->name);
	return r->source ? 0 : PHI_ENOMEM;
}

static int load_allow(struct loader *L, yaml_node_t *n, struct phi_allow *a)
{
	int rc = 0;
	memset(a, 0, sizeof *a);
	a->line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE)
		return lfail(L, n, "an allow entry must be a mapping", NULL, NULL);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
		const char *k = scalar(kn);
		if (!k)
			return lfail(L, kn, "allow keys must be strings", NULL, NULL);
		if (!strcmp(k, "id"))
			rc = get_string(L, vn, k, &a->id);
		else if (!strcmp(k, "description")) {
			char *tmp = NULL;
			rc = get_string(L, vn, k, &tmp);
			free(tmp);
		} else if (!strcmp(k, "values"))
			rc = get_list(L, vn, k, &a->values, &a->nvalues);
		else if (!strcmp(k, "patterns"))
			rc = get_list(L, vn, k, &a->patterns, &a->npatterns);
		else if (!strcmp(k, "rules"))
			rc = get_list(L, vn, k, &a->rules, &a->nrules);
		else if (!strcmp(k, "paths"))
			rc = get_list(L, vn, k, &a->paths, &a->npaths);
		else
			rc = lfail(L, kn, "unknown allow key '%s'", k, NULL);
		if (rc)
			return rc;
	}
	if (!a->id)
		return lfail(L, n, "allow entry without 'id'", NULL, NULL);
	if (!a->nvalues && !a->npatterns)
		return lfail(L, n, "allow entry '%s' has neither values nor patterns", a->id, NULL);
	a->source = strdup(L->name);
	return a->source ? 0 : PHI_ENOMEM;
}

static int load_doc(struct loader *L, struct phi_pack *pack)
{
	yaml_node_t *root = yaml_document_get_root_node(&L->doc);
	struct phi_rule *rules = NULL;
	struct phi_allow *allow = NULL;
	size_t nr = 0, na = 0;
	int rc = 0;

	if (!root)
		return phi_fail(L->err, PHI_ERULE, "%s: empty rule pack", L->name);
	if (root->type != YAML_MAPPING_NODE)
		return lfail(L, root, "a rule pack must be a mapping (pack, rules, allow)", NULL,
		             NULL);
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     !rc && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&L->doc, p->value);
		const char *k = scalar(kn);
		bool is_rules = k && !strcmp(k, "rules"), is_allow = k && !strcmp(k, "allow");
		if (k && (!strcmp(k, "pack") || !strcmp(k, "version") || !strcmp(k, "description")))
			continue;
		if (L->only_allow && !is_allow)
			continue; /* config.c checks the other keys of a .phiscan.yaml */
		if (!is_rules && !is_allow) {
			rc = lfail(L, kn, "unknown top-level key '%s' (pack, rules, allow)", k, NULL);
			break;
		}
		if (vn->type != YAML_SEQUENCE_NODE) {
			rc = lfail(L, vn, "'%s' must be a list", k, NULL);
			break;
		}
		size_t cnt = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
		for (size_t i = 0; !rc && i < cnt; i++) {
			yaml_node_t *it = yaml_document_get_node(&L->doc, vn->data.sequence.items.start[i]);
			if (is_rules) {
				struct phi_rule *t = realloc(rules, (nr + 1) * sizeof *t);
				if (!t) {
					rc = PHI_ENOMEM;
					break;
				}
				rules = t;
				rc = load_rule(L, it, &rules[nr]);
				nr++;
			} else {
				struct phi_allow *t = realloc(allow, (na + 1) * sizeof *t);
				if (!t) {
					rc = PHI_ENOMEM;
					break;
				}
				allow = t;
				rc = load_allow(L, it, &allow[na]);
				na++;
			}
		}
	}
	/* ids must be unique across every pack loaded */
	for (size_t i = 0; !rc && i < nr; i++) {
		for (size_t j = 0; !rc && j < pack->nrules; j++)
			if (!strcmp(rules[i].id, pack->rules[j].id))
				rc = phi_fail(L->err, PHI_ERULE, "%s:%d: rule id '%s' already defined in %s",
				              L->name, rules[i].line, rules[i].id, pack->rules[j].source);
		for (size_t j = 0; !rc && j < i; j++)
			if (!strcmp(rules[i].id, rules[j].id))
				rc = phi_fail(L->err, PHI_ERULE, "%s:%d: duplicate rule id '%s'", L->name,
				              rules[i].line, rules[i].id);
	}
	if (!rc) {
		struct phi_rule *tr = realloc(pack->rules, (pack->nrules + nr + 1) * sizeof *tr);
		struct phi_allow *ta = tr ? realloc(pack->allow, (pack->nallow + na + 1) * sizeof *ta)
		                          : NULL;
		if (tr)
			pack->rules = tr;
		if (ta)
			pack->allow = ta;
		if (!tr || !ta)
			rc = PHI_ENOMEM;
	}
	if (rc) {
		for (size_t i = 0; i < nr; i++)
			free_rule(&rules[i]);
		for (size_t i = 0; i < na; i++)
			free_allow(&allow[i]);
		free(rules);
		free(allow);
		return rc == PHI_ENOMEM ? phi_fail(L->err, rc, "%s: out of memory", L->name) : rc;
	}
	if (nr)
		memcpy(pack->rules + pack->nrules, rules, nr * sizeof *rules);
	if (na)
		memcpy(pack->allow + pack->nallow, allow, na * sizeof *allow);
	pack->nrules += nr;
	pack->nallow += na;
	free(rules);
	free(allow);
	return 0;
}

static int load_string(struct phi_pack *pack, const char *yaml, size_t len, const char *name,
                       bool only_allow, struct phi_error *err)
{
	yaml_parser_t parser;
	struct loader L = {.name = name, .err = err, .only_allow = only_allow};
	int rc;

	if (!yaml_parser_initialize(&parser))
		return phi_fail(err, PHI_ENOMEM, "%s: cannot initialise the YAML parser", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &L.doc)) {
		rc = phi_fail(err, PHI_ERULE, "%s:%lu: YAML error: %s", name,
		              (unsigned long)parser.problem_mark.line + 1,
		              parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		return rc;
	}
	rc = load_doc(&L, pack);
	yaml_document_delete(&L.doc);
	yaml_parser_delete(&parser);
	return rc;
}

int phi_pack_load_string(struct phi_pack *pack, const char *yaml, size_t len,
                         const char *name, struct phi_error *err)
{
	return load_string(pack, yaml, len, name, false, err);
}

int phi_pack_load_allow_string(struct phi_pack *pack, const char *yaml, size_t len,
                               const char *name, struct phi_error *err)
{
	return load_string(pack, yaml, len, name, true, err);
}

/* The whole file at path into a malloc'd buffer (capped at 16 MiB). */
static int read_pack(const char *path, char **out, size_t *outlen, struct phi_error *err)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (!fp)
		return phi_fail(err, PHI_ERULE, "%s: cannot open rule pack: %s", path, strerror(errno));
	for (;;) {
		if (len == cap) {
			if (cap >= (16u << 20)) {
				fclose(fp);
				free(buf);
				return phi_fail(err, PHI_ELIMIT, "%s: rule pack larger than 16 MiB", path);
			}
			cap = cap ? cap * 2 : 262144;
			char *t = realloc(buf, cap);
			if (!t) {
				fclose(fp);
				free(buf);
				return phi_fail(err, PHI_ENOMEM, "%s: out of memory", path);
			}
			buf = t;
		}
		size_t r = fread(buf + len, 1, cap - len, fp);
		len += r;
		if (r == 0)
			break;
	}
	rc = ferror(fp) ? phi_fail(err, PHI_EIO, "%s: read error", path) : 0;
	fclose(fp);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Do buf[0..len) have the SHA-256 sha256_hex (64 hex digits; NULL or "" never)?
 * One message through phi_sha256_multi: SHA-NI where the CPU has it, so a start does
 * not initialise OpenSSL's EVP (EVP_MD_fetch and openssl.cnf, 5 % of an empty scan). */
static bool has_sha256(const char *buf, size_t len, const char *sha256_hex)
{
	struct phi_sha256_msg m = {{{buf, len}}};
	char hex[1][65];
	return sha256_hex && strlen(sha256_hex) == 64 && phi_sha256_multi(&m, 1, hex) == 0 &&
	       strcmp(hex[0], sha256_hex) == 0;
}

static int load_buffer(struct phi_pack *pack, const char *buf, size_t len, const char *path,
                       const char *sha256_hex, struct phi_error *err)
{
	size_t first = pack->nrules;
	int rc = phi_pack_load_string(pack, buf, len, path, err);
	if (!rc && has_sha256(buf, len, sha256_hex))
		for (size_t i = first; i < pack->nrules; i++)
			pack->rules[i].verified = true;
	return rc;
}

int phi_pack_load_verified(struct phi_pack *pack, const char *path, const char *sha256_hex,
                           struct phi_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_pack(path, &buf, &len, err);
	if (!rc)
		rc = load_buffer(pack, buf, len, path, sha256_hex, err);
	free(buf);
	return rc;
}

/* Append b's records to pack, as load_doc would append what it parsed. */
static int append_builtin(struct phi_pack *pack, const struct phi_pack_builtin *b,
                          const char *path, struct phi_error *err)
{
	size_t nr = pack->nrules, na = pack->nallow;
	for (size_t i = 0; i < b->nrules; i++)
		for (size_t j = 0; j < nr; j++)
			if (!strcmp(b->rules[i].id, pack->rules[j].id))
				return phi_fail(err, PHI_ERULE, "%s:%d: rule id '%s' already defined in %s",
				                path, b->rules[i].line, b->rules[i].id, pack->rules[j].source);
	struct phi_rule *tr = realloc(pack->rules, (nr + b->nrules + 1) * sizeof *tr);
	if (tr)
		pack->rules = tr;
	struct phi_allow *ta = tr ? realloc(pack->allow, (na + b->nallow + 1) * sizeof *ta) : NULL;
	if (ta)
		pack->allow = ta;
	if (!tr || !ta)
		return phi_fail(err, PHI_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < b->nrules; i++) {
		struct phi_rule *r = &pack->rules[nr + i];
		*r = b->rules[i];
		r->verified = true;
		r->borrowed = true;
		r->source = strdup(path);
	}
	for (size_t i = 0; i < b->nallow; i++) {
		struct phi_allow *a = &pack->allow[na + i];
		*a = b->allow[i];
		a->borrowed = true;
		a->source = strdup(path);
	}
	bool ok = true;
	for (size_t i = 0; i < b->nrules; i++)
		ok = ok && pack->rules[nr + i].source;
	for (size_t i = 0; i < b->nallow; i++)
		ok = ok && pack->allow[na + i].source;
	if (!ok) {
		for (size_t i = 0; i < b->nrules; i++)
			free(pack->rules[nr + i].source);
		for (size_t i = 0; i < b->nallow; i++)
			free(pack->allow[na + i].source);
		return phi_fail(err, PHI_ENOMEM, "%s: out of memory", path);
	}
	pack->nrules = nr + b->nrules;
	pack->nallow = na + b->nallow;
	return 0;
}

int phi_pack_load_builtin(struct phi_pack *pack, const char *path,
                          const struct phi_pack_builtin *b, struct phi_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_pack(path, &buf, &len, err);
	if (rc)
		return rc;
	if (b && b->nrules && has_sha256(buf, len, b->sha256))
		rc = append_builtin(pack, b, path, err);
	else
		rc = load_buffer(pack, buf, len, path, b ? b->sha256 : NULL, err);
	free(buf);
	return rc;
}

int phi_pack_load(struct phi_pack *pack, const char *path, struct phi_error *err)
{
	return phi_pack_load_verified(pack, path, NULL, err);
}

void phi_pack_free(struct phi_pack *pack)
{
	for (size_t i = 0; i < pack->nrules; i++)
		free_rule(&pack->rules[i]);
	for (size_t i = 0; i < pack->nallow; i++)
		free_allow(&pack->allow[i]);
	free(pack->rules);
	free(pack->allow);
	memset(pack, 0, sizeof *pack);
}
