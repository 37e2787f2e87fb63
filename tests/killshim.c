/* killshim.c - LD_PRELOAD shim for the kill test (tests/test_inplace.c): counts the
 * calls that change files and raises SIGKILL at the Nth, before it runs.
 *
 * Counted (the public entry points, fd calls only on a named regular file, so a
 * write to a pipe, a memory file or an unlinked tmpfile() is not a kill point; a
 * call made inside libc, such as stdio's own write(2) under fwrite, is not seen,
 * hence fwrite/fflush/fclose are counted too):
 *   write pwrite pwrite64 writev fsync fdatasync rename renameat renameat2 link
 *   linkat unlink unlinkat fwrite fflush fclose ftruncate
 * Environment:
 *   KILLSHIM_AT=N      raise SIGKILL at the Nth counted call (1-based; 0: never)
 *   KILLSHIM_REPORT=F  at exit, write the number of counted calls to F
 *   KILLSHIM_META=1    count only the calls that publish or make durable (fsync,
 *                      fdatasync, rename*, link*, unlink*): a sweep over these hits
 *                      every step of every file's commit
 *   KILLSHIM_NO_NOREPLACE=1  renameat2 with RENAME_NOREPLACE fails with EINVAL, as on
 *                      a file system without it (the strip's link() fallback)
 *   KILLSHIM_NO_TMPFILE=1  open with O_TMPFILE fails with EOPNOTSUPP, as on a file
 *                      system without it (the manifest's tmpfile() fallback)
 * The counter is shared by all threads (atomic); with -j 1 the Nth call is the
 * same call in every run of the same input.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static unsigned long kill_at;
static int meta_only;
static unsigned long calls; /* atomic builtins */

__attribute__((constructor)) static void shim_init(void)
{
	const char *s = getenv("KILLSHIM_AT");
	kill_at = s ? strtoul(s, NULL, 10) : 0;
	meta_only = getenv("KILLSHIM_META") != NULL;
}

__attribute__((destructor)) static void shim_fini(void)
{
	const char *f = getenv("KILLSHIM_REPORT");
	if (!f)
		return;
	int (*real_open)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	ssize_t (*real_write)(int, const void *, size_t) =
	    (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	int fd = real_open(f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char b[32];
	int n = snprintf(b, sizeof b, "%lu\n", __atomic_load_n(&calls, __ATOMIC_SEQ_CST));
	(void)real_write(fd, b, (size_t)n);
	close(fd);
}

/* A call that can change the tree: on a regular file with a name or a directory (not a memory file,
 * not an unlinked tmpfile(), not a pipe, terminal or /dev/null). */
static void tick(void);

static int tree_fd(int fd)
{
	struct stat st;
	char link[64], target[4096];
	if (fd < 0 || fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) ||
	    st.st_nlink == 0)
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n <= 0)
		return 0;
	target[n] = 0;
	return target[0] == '/' && strncmp(target, "/memfd:", 7) && !strstr(target, " (deleted)");
}

/* a data write on fd */
static void tick_fd(int fd)
{
	if (!meta_only && tree_fd(fd))
		tick();
}

/* an fsync on fd */
static void tick_sync(int fd)
{
	if (tree_fd(fd))
		tick();
}

static void tick(void)
{
	unsigned long n = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
	if (kill_at && n == kill_at)
		raise(SIGKILL);
}

#define REAL(name)                                                                   \
	static __typeof__(name) *real_##name;                                            \
	if (!real_##name)                                                                \
	real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *b, size_t n)
{
	REAL(write);
	tick_fd(fd);
	return real_write(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off)
{
	REAL(pwrite);
	tick_fd(fd);
	return real_pwrite(fd, b, n, off);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t off)
{
	REAL(pwrite64);
	tick_fd(fd);
	return real_pwrite64(fd, b, n, off);
}

ssize_t writev(int fd, const struct iovec *v, int n)
{
	REAL(writev);
	tick_fd(fd);
	return real_writev(fd, v, n);
}

int fsync(int fd)
{
	REAL(fsync);
	tick_sync(fd);
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	tick_sync(fd);
	return real_fdatasync(fd);
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	tick_fd(fd);
	return real_ftruncate(fd, len);
}

int rename(const char *a, const char *b)
{
	REAL(rename);
	tick();
	return real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
	REAL(renameat);
	tick();
	return real_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	REAL(renameat2);
	tick();
	if ((flags & RENAME_NOREPLACE) && getenv("KILLSHIM_NO_NOREPLACE")) {
		errno = EINVAL;
		return -1;
	}
	return real_renameat2(da, a, db, b, flags);
}

int link(const char *a, const char *b)
{
	REAL(link);
	tick();
	return real_link(a, b);
}

int linkat(int da, const char *a, int db, const char *b, int flags)
{
	REAL(linkat);
	tick();
	return real_linkat(da, a, db, b, flags);
}

int unlink(const char *a)
{
	REAL(unlink);
	tick();
	return real_unlink(a);
}

int unlinkat(int d, const char *a, int flags)
{
	REAL(unlinkat);
	tick();
	return real_unlinkat(d, a, flags);
}

size_t fwrite(const void *p, size_t sz, size_t n, FILE *f)
{
	REAL(fwrite);
	tick_fd(fileno(f));
	return real_fwrite(p, sz, n, f);
}

int fflush(FILE *f)
{
	REAL(fflush);
	tick_fd(f ? fileno(f) : -1);
	return real_fflush(f);
}

int fclose(FILE *f)
{
	REAL(fclose);
	tick_fd(fileno(f));
	return real_fclose(f);
}

/* open/open64 pass through, but for O_TMPFILE under KILLSHIM_NO_TMPFILE. */
static int shim_open(int (*real)(const char *, int, ...), const char *path, int flags,
                     va_list ap)
{
	bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE; /* O_TMPFILE holds O_DIRECTORY */
	mode_t mode = (flags & O_CREAT) || tmpfile ? (mode_t)va_arg(ap, int) : 0;
	if (tmpfile && getenv("KILLSHIM_NO_TMPFILE")) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	REAL(open);
	va_list ap;
	va_start(ap, flags);
	int rc = shim_open(real_open, path, flags, ap);
	va_end(ap);
	return rc;
}

int open64(const char *path, int flags, ...)
{
	REAL(open64);
	va_list ap;
	va_start(ap, flags);
	int rc = shim_open(real_open64, path, flags, ap);
	va_end(ap);
	return rc;
}
