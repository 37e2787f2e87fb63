/* manifest.c - the strip manifest (see manifest.h). */
#include "manifest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries are written to an anonymous temporary file (bounded memory whatever the
 * tree holds) and the manifest itself is created only when the run ends: a manifest
 * inside the stripped tree is then never walked half-done.  An entry is streamed:
 * its changes first (a file with very many findings reports them in parts), then
 * its outcome and hashes. */
struct phi_manifest {
	FILE *fp;
	char *path;
	const struct phi_policy *policy;
	unsigned long nfiles;
	bool entry_open;
	size_t entry_changes;
};

int phi_manifest_open(struct phi_manifest **out, const char *path,
                      const struct phi_policy *policy, struct phi_error *err)
{
	struct phi_manifest *m = calloc(1, sizeof *m);
	*out = NULL;
	if (!m)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	m->policy = policy;
	m->path = strdup(path);
	if (!m->path || !(m->fp = tmpfile())) {
		int e = errno;
		free(m->path);
		free(m);
		return phi_fail(err, PHI_EIO, "%s: cannot start the manifest: %s", path, strerror(e));
	}
	/* One writer: the run calls in under its lock, so stdio's own locking per call is
	 * dropped; a large buffer writes the entries in few calls. */
	__fsetlocking(m->fp, FSETLOCKING_BYCALLER);
	(void)setvbuf(m->fp, NULL, _IOFBF, 1u << 20);
	fprintf(m->fp, "{\n  \"tool\": \"phiscan\",\n  \"version\": \"%s\",\n  \"policy\": {\"default\": \"%s\"",
	        PHI_VERSION, phi_op_name(policy->global));
	for (size_t i = 0; phi_classes[i].name && i < PHI_MAX_CLASSES; i++)
		if (policy->class_set[i])
			fprintf(m->fp, ", \"%s\": \"%s\"", phi_classes[i].name,
			        phi_op_name(policy->per_class[i]));
	fprintf(m->fp, ", \"safe_harbor\": %s, \"keyed\": %s},\n  \"files\": [",
	        policy->safe_harbor ? "true" : "false", policy->has_key ? "true" : "false");
	*out = m;
	return 0;
}

static const char *op_for(const struct phi_policy *p, const char *cls)
{
	const struct phi_class_info *ci = phi_class_find(cls);
	size_t i = ci ? (size_t)(ci - phi_classes) : PHI_MAX_CLASSES;
	if (i < PHI_MAX_CLASSES && p->class_set[i])
		return phi_op_name(p->per_class[i]);
	return phi_op_name(p->global);
}

/* Entries are most of a strip's manifest (a few KB a file): written with fputs and
 * these digits rather than fprintf, whose format parsing was a tenth of the time of
 * a 1,000-file DICOM strip. */
static void num_or_null(FILE *fp, uint64_t v)
{
	char d[24], *p = d + sizeof d;
	if (v == PHI_NO_OFFSET) {
		fputs("null", fp);
		return;
	}
	*--p = 0;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	fputs(p, fp);
}

static void entry_begin(struct phi_manifest *m, const struct phi_result *r)
{
	if (m->entry_open)
		return;
	fputs(m->nfiles++ ? ",\n    {" : "\n    {", m->fp);
	fputs("\"input\": ", m->fp);
	phi_json_string(m->fp, r->path);
	fputs(", \"changes\": [", m->fp);
	m->entry_open = true;
	m->entry_changes = 0;
}

int phi_manifest_changes(struct phi_manifest *m, const struct phi_result *r)
{
	FILE *fp = m->fp;
	entry_begin(m, r);
	for (size_t i = 0; i < r->n; i++) {
		const struct phi_finding *f = &r->v[i];
		fputs(m->entry_changes++ ? ", {\"rule\": " : "{\"rule\": ", fp);
		phi_json_string(fp, f->rule);
		/* class names and operator names are fixed identifiers: no escaping */
		fputs(", \"class\": \"", fp);
		fputs(f->cls, fp);
		fputs("\", \"operator\": \"", fp);
		fputs(op_for(m->policy, f->cls), fp);
		fputs("\", \"field\": ", fp);
		if (f->field)
			phi_json_string(fp, f->field);
		else
			fputs("null", fp);
		fputs(", \"start\": ", fp);
		num_or_null(fp, f->start);
		fputs(", \"end\": ", fp);
		num_or_null(fp, f->end);
		fputs(", \"line\": ", fp);
		num_or_null(fp, f->line ? f->line : PHI_NO_OFFSET);
		fputs("}", fp);
	}
	return ferror(fp) ? PHI_EIO : 0;
}

int phi_manifest_file(struct phi_manifest *m, const struct phi_result *r)
{
	FILE *fp = m->fp;
	const char *status = r->status == PHI_SKIPPED      ? "skipped"
	                     : r->status == PHI_UNREADABLE ? "error"
	                     : !r->out_path                ? "not written"
	                     : r->copied_verbatim          ? "unchanged"
	                                                   : "written";
	phi_manifest_changes(m, r);
	fprintf(fp, "], \"replacements\": %zu, \"output\": ", m->entry_changes);
	if (r->out_path)
		phi_json_string(fp, r->out_path);
	else
		fputs("null", fp);
	fprintf(fp, ", \"format\": \"%s\", \"status\": \"%s\"", r->format, status);
	if (r->reason) {
		fputs(", \"reason\": ", fp);
		phi_json_string(fp, r->reason);
	}
	if (r->in_sha256[0])
		fprintf(fp, ", \"input_sha256\": \"%s\", \"output_sha256\": \"%s\"", r->in_sha256,
		        r->out_sha256);
	if (r->nfacts) {
		fputs(", \"facts\": {", fp);
		for (size_t i = 0; i < r->nfacts; i++) {
			fputs(i ? ", " : "", fp);
			phi_json_string(fp, r->facts[i].name);
			fputs(": ", fp);
			phi_json_string(fp, r->facts[i].value);
		}
		fputs("}", fp);
	}
	fputs("}", fp);
	m->entry_open = false;
	return ferror(fp) ? PHI_EIO : 0;
}

int phi_manifest_close(struct phi_manifest *m, const struct phi_summary *s,
                       struct phi_error *err)
{
	int rc = 0;
	fprintf(m->fp,
	        "\n  ],\n  \"summary\": {\"files\": %lu, \"scanned\": %lu, \"skipped\": %lu, "
	        "\"errors\": %lu, \"replacements\": %lu}\n}\n",
	        s->files, s->scanned, s->skipped, s->unreadable, s->findings);
	char *tmp = NULL;
	int fd = -1;
	if (fflush(m->fp) || ferror(m->fp) || fseek(m->fp, 0, SEEK_SET))
		rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest", m->path);
	if (!rc && (asprintf(&tmp, "%s.tmp-XXXXXX", m->path) < 0 || (fd = mkstemp(tmp)) < 0))
		rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path,
		              strerror(errno));
	char buf[65536];
	size_t got;
	while (!rc && (got = fread(buf, 1, sizeof buf, m->fp)) > 0) {
		for (size_t off = 0; !rc && off < got;) {
			ssize_t w = write(fd, buf + off, got - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path,
				              strerror(errno));
			else
				off += (size_t)w;
		}
	}
	if (!rc && ferror(m->fp))
		rc = phi_fail(err, PHI_EIO, "%s: cannot read back the manifest", m->path);
	fclose(m->fp);
	if (!rc && fchmod(fd, 0644)) /* mkstemp made it 0600; a manifest is shared */
		rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path,
		              strerror(errno));
	if (!rc && fsync(fd))
		rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path,
		              strerror(errno));
	if (fd >= 0 && close(fd) && !rc)
		rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest", m->path);
	if (!rc && rename(tmp, m->path))
		rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path,
		              strerror(errno));
	if (rc && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(m->path);
	free(m);
	return rc;
}
