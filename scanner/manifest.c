/* manifest.c - the strip manifest (see manifest.h). */
#include "manifest.h"

#include "../formats/indigest.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries are written to an anonymous temporary file (bounded memory whatever the
 * tree holds) and the manifest itself is created only when the run ends: a manifest
 * inside the stripped tree is then never walked half-done.  The file is made in the
 * manifest's own directory (O_TMPFILE) where the file system can, and given its
 * name at the end (linkat, then rename over an older one); elsewhere in TMPDIR
 * (tmpfile) and copied: 3 MB for a 1,000-file DICOM strip.  An entry is streamed:
 * its changes first (a file with very many findings reports them in parts), then
 * its outcome and hashes.  Each part is made in memory (b) and written with one
 * fwrite: a 1,000-file DICOM strip writes 3 MB of entries, and a stdio call per
 * token was 6 % of its time. */
struct phi_manifest {
	FILE *fp;
	char *path;
	const struct phi_policy *policy;
	unsigned long nfiles;
	bool entry_open;
	size_t entry_changes;
	char *iobuf;  /* fp's buffer (MANIFEST_IOBUF bytes), or NULL: stdio's own */
	bool in_dir;  /* fp is an O_TMPFILE in the manifest's directory */
	char *b;      /* the part being made */
	size_t bn, bcap;
	bool oom;     /* b could not grow: the manifest fails at its end */
	struct phi_indigest_key seal; /* with a key: the input digests' (indigest.h) */
};

/* stdio's buffer for the entries: glibc sizes a buffer it allocates itself by the
 * file's st_blksize (4 KiB) whatever setvbuf asked for, so 1,000 DICOM entries were
 * ~760 write calls; given one of 1 MiB, 3. */
#define MANIFEST_IOBUF (1u << 20)

static bool room(struct phi_manifest *m, size_t more)
{
	if (m->bn + more <= m->bcap)
		return true;
	size_t cap = m->bcap ? m->bcap : 4096;
	while (cap < m->bn + more)
		cap *= 2;
	char *t = realloc(m->b, cap);
	if (!t) {
		m->oom = true;
		return false;
	}
	m->b = t;
	m->bcap = cap;
	return true;
}

static void put(struct phi_manifest *m, const char *s, size_t n)
{
	if (room(m, n)) {
		memcpy(m->b + m->bn, s, n);
		m->bn += n;
	}
}

static void puts_(struct phi_manifest *m, const char *s)
{
	put(m, s, strlen(s));
}

/* A JSON string, or null. */
static void put_json(struct phi_manifest *m, const char *s)
{
	if (!s) {
		put(m, "null", 4);
		return;
	}
	size_t n = strlen(s);
	if (!room(m, 6 * n + 2))
		return;
	m->b[m->bn++] = '"';
	m->bn += phi_json_escape(s, n, m->b + m->bn);
	m->b[m->bn++] = '"';
}

static int flush_part(struct phi_manifest *m)
{
	bool short_write = m->bn && fwrite(m->b, 1, m->bn, m->fp) != m->bn;
	m->bn = 0;
	return short_write || ferror(m->fp) || m->oom ? PHI_EIO : 0;
}

int phi_manifest_open(struct phi_manifest **out, const char *path,
                      const struct phi_policy *policy, struct phi_error *err)
{
	struct phi_manifest *m = calloc(1, sizeof *m);
	*out = NULL;
	if (!m)
		return phi_fail(err, PHI_ENOMEM, "out of memory");
	m->policy = policy;
	if (policy->has_key)
		phi_indigest_key(&m->seal, policy->key);
	m->path = strdup(path);
	char *dir = m->path ? strdup(m->path) : NULL;
	int tfd = dir ? open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644) : -1;
	free(dir);
	if (tfd >= 0 && !(m->fp = fdopen(tfd, "w+")))
		close(tfd);
	m->in_dir = m->fp != NULL;
	if (!m->path || (!m->fp && !(m->fp = tmpfile()))) {
		int e = errno;
		free(m->path);
		sodium_memzero(&m->seal, sizeof m->seal);
		free(m);
		return phi_fail(err, PHI_EIO, "%s: cannot start the manifest: %s", path, strerror(e));
	}
	/* One writer: the run calls in under its lock, so stdio's own locking per call is
	 * dropped; a large buffer writes the entries in few calls. */
	__fsetlocking(m->fp, FSETLOCKING_BYCALLER);
	if ((m->iobuf = malloc(MANIFEST_IOBUF)))
		(void)setvbuf(m->fp, m->iobuf, _IOFBF, MANIFEST_IOBUF);
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

/* Entries are most of a strip's manifest (a few KB a file): numbers by hand. */
static void num_or_null(struct phi_manifest *m, uint64_t v)
{
	char d[24], *p = d + sizeof d;
	if (v == PHI_NO_OFFSET) {
		put(m, "null", 4);
		return;
	}
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	put(m, p, (size_t)(d + sizeof d - p));
}

static void entry_begin(struct phi_manifest *m, const struct phi_result *r)
{
	if (m->entry_open)
		return;
	puts_(m, m->nfiles++ ? ",\n    {\"input\": " : "\n    {\"input\": ");
	put_json(m, r->path);
	puts_(m, ", \"changes\": [");
	m->entry_open = true;
	m->entry_changes = 0;
}

static void changes(struct phi_manifest *m, const struct phi_result *r)
{
	entry_begin(m, r);
	for (size_t i = 0; i < r->n; i++) {
		const struct phi_finding *f = &r->v[i];
		puts_(m, m->entry_changes++ ? ", {\"rule\": " : "{\"rule\": ");
		put_json(m, f->rule);
		/* class names and operator names are fixed identifiers: no escaping */
		puts_(m, ", \"class\": \"");
		puts_(m, f->cls);
		puts_(m, "\", \"operator\": \"");
		puts_(m, op_for(m->policy, f->cls));
		puts_(m, "\", \"field\": ");
		put_json(m, f->field);
		puts_(m, ", \"start\": ");
		num_or_null(m, f->start);
		puts_(m, ", \"end\": ");
		num_or_null(m, f->end);
		puts_(m, ", \"line\": ");
		num_or_null(m, f->line ? f->line : PHI_NO_OFFSET);
		put(m, "}", 1);
	}
}

int phi_manifest_changes(struct phi_manifest *m, const struct phi_result *r)
{
	changes(m, r);
	return flush_part(m);
}

int phi_manifest_file(struct phi_manifest *m, const struct phi_result *r)
{
	const char *status = r->dropped                    ? "dropped"
	                     : r->status == PHI_SKIPPED    ? "skipped"
	                     : r->status == PHI_UNREADABLE ? "error"
	                     : !r->out_path                ? "not written"
	                     : r->copied_verbatim          ? "unchanged"
	                                                   : "written";
	changes(m, r);
	puts_(m, "], \"replacements\": ");
	num_or_null(m, m->entry_changes);
	puts_(m, ", \"output\": ");
	put_json(m, r->out_path);
	puts_(m, ", \"format\": \"");
	puts_(m, r->format);
	puts_(m, "\", \"status\": \"");
	puts_(m, status);
	put(m, "\"", 1);
	if (r->reason) {
		puts_(m, ", \"reason\": ");
		put_json(m, r->reason);
	}
	/* the input only keyed (indigest.h): never a plain hash of a PHI-bearing file */
	if (r->in_sha256[0] && m->policy->has_key) {
		char sealed[65];
		const char *kind = r->in_kind ? r->in_kind : PHI_INDIGEST_SHA256;
		phi_indigest_seal(&m->seal, kind, r->in_sha256, sealed);
		puts_(m, ", \"input_digest\": \"");
		puts_(m, kind);
		puts_(m, "\", \"input_hmac_sha256\": \"");
		puts_(m, sealed);
		put(m, "\"", 1);
	}
	if (r->out_sha256[0]) {
		puts_(m, ", \"output_sha256\": \"");
		puts_(m, r->out_sha256);
		put(m, "\"", 1);
	}
	if (r->nfacts) {
		puts_(m, ", \"facts\": {");
		for (size_t i = 0; i < r->nfacts; i++) {
			puts_(m, i ? ", " : "");
			put_json(m, r->facts[i].name);
			puts_(m, ": ");
			put_json(m, r->facts[i].value);
		}
		put(m, "}", 1);
	}
	put(m, "}", 1);
	m->entry_open = false;
	return flush_part(m);
}

/* The O_TMPFILE written: durable with its mode, then linked under a temporary name
 * beside the manifest and renamed over it (linkat cannot replace a file). */
static int publish_in_dir(struct phi_manifest *m, struct phi_error *err)
{
	int fd = fileno(m->fp);
	char proc[64], *tmp = NULL;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (fchmod(fd, 0644) || fsync(fd))
		return phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path,
		                strerror(errno));
	for (unsigned i = 0; i < 100; i++) {
		free(tmp);
		if (asprintf(&tmp, "%s.tmp-%08x", m->path, randombytes_random()) < 0)
			return phi_fail(err, PHI_ENOMEM, "out of memory");
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0) {
			int rc = 0;
			if (rename(tmp, m->path)) {
				rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path,
				              strerror(errno));
				unlink(tmp);
			}
			free(tmp);
			return rc;
		}
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	free(tmp);
	return phi_fail(err, PHI_EIO, "%s: cannot write the manifest: %s", m->path, strerror(e));
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
	if (m->oom)
		rc = phi_fail(err, PHI_ENOMEM, "%s: out of memory writing the manifest", m->path);
	else if (fflush(m->fp) || ferror(m->fp) || fseek(m->fp, 0, SEEK_SET))
		rc = phi_fail(err, PHI_EIO, "%s: cannot write the manifest", m->path);
	if (!rc && m->in_dir) {
		rc = publish_in_dir(m, err);
		fclose(m->fp);
		free(m->iobuf);
		goto done;
	}
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
	free(m->iobuf); /* after fclose: the stream used it to the end */
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
done:
	free(m->b);
	free(m->path);
	sodium_memzero(&m->seal, sizeof m->seal);
	free(m);
	return rc;
}
