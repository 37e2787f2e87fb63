/* cli.c - running the real binary from tests, and reading its reports.
 *
 * The Makefile runs the suite with PHISCAN=/abs/phiscan and GENCASE=/abs/gencase,
 * from the repository root.  cli_setup() makes a temporary root holding a data dir
 * (PHISCAN_DATA: a small known pack as rules/default.yaml, the real rules/names and
 * rules/zip3-restricted.txt) and a case tree.  The binary runs under fork/execvpe
 * with pipes for stdin, stdout and stderr and a watchdog: a hang or a crash (death
 * by a signal) fails the test.  Used by test_cli.c and the format suites.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

/* The test pack: ssn (no keywords: pattern prefilter), dob with keywords (quasi),
 * a name rule with validator name, an e-mail rule.  Every rule has examples. */
static const char cli_pack[] =
	"pack: cli-test\n"
	"rules:\n"
	"  - id: t-ssn\n"
	"    description: test SSN\n"
	"    class: ssn\n"
	"    severity: patient\n"
	"    validator: ssn\n"
	"    confidence: 0.9\n"
	"    pattern: '\\b(?<v>\\d{3}-\\d{2}-\\d{4})\\b'\n"
	"    examples:\n"
	"      match: ['SSN 482-31-7765']\n"
	"      no_match: ['SSN 000-12-3456']\n"
	"  - id: t-dob\n"
	"    class: date\n"
	"    severity: quasi\n"
	"    keywords: [dob, 'date of birth']\n"
	"    validator: dob\n"
	"    confidence: 0.9\n"
	"    pattern: '(?i:dob|date of birth):?\\s*(?<v>\\d{1,2}/\\d{1,2}/\\d{4})'\n"
	"    examples:\n"
	"      match: [{text: 'DOB: 03/14/1961', value: '03/14/1961'}]\n"
	"  - id: t-name\n"
	"    class: name\n"
	"    severity: patient\n"
	"    keywords: [patient]\n"
	"    validator: name\n"
	"    confidence: 0.9\n"
	"    pattern: '(?i:patient(?: name)?):?[ \\t]*(?<v>[A-Z][a-z]+ [A-Z][a-z]+)'\n"
	"    examples:\n"
	"      match: [{text: 'Patient: Maria Gonzalez', value: 'Maria Gonzalez'}]\n"
	"  - id: t-email\n"
	"    class: email\n"
	"    severity: patient\n"
	"    validator: email\n"
	"    confidence: 0.9\n"
	"    pattern: '\\b(?<v>[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+)\\b'\n"
	"    examples:\n"
	"      match: ['mail maria.gonzalez@mailhost.net']\n";


char cli_root[PATH_MAX];
char cli_data[PATH_MAX + 16];
char cli_case[PATH_MAX + 16];
char cli_bin[PATH_MAX];
static char cli_env_data[PATH_MAX + 32];

/* Everything allocated by the helpers is freed in the suite's fini, so tests
 * stay leak-free under ASan without freeing each output by hand. */
static void *cli_allocs[8192];
static size_t cli_nallocs;

void *cli_own(void *p)
{
	cr_assert_not_null(p, "out of memory");
	cr_assert_lt(cli_nallocs, sizeof cli_allocs / sizeof cli_allocs[0]);
	cli_allocs[cli_nallocs++] = p;
	return p;
}

char *cli_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cli_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	return cli_own(s);
}

void cli_mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		cr_assert(mkdir(tmp, 0777) == 0 || errno == EEXIST, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	cr_assert(mkdir(tmp, 0777) == 0 || errno == EEXIST, "mkdir %s: %s", tmp, strerror(errno));
}

/* Write data to path, creating parent directories. */
void cli_write(const char *path, const void *data, size_t n)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		cli_mkdirs(dir);
	}
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

void cli_write_str(const char *path, const char *s)
{
	cli_write(path, s, strlen(s));
}

/* Whole file, NUL-terminated; NULL when it cannot be opened. */
char *cli_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	cr_assert_not_null(p);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			p = realloc(p, cap);
			cr_assert_not_null(p);
		}
		size_t r = fread(p + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	p[n] = 0;
	if (len)
		*len = n;
	return cli_own(p);
}

void cli_copy(const char *from, const char *to)
{
	size_t n;
	char *p = cli_read(from, &n);
	cr_assert_not_null(p, "cannot read %s (run from the repo root)", from);
	cli_write(to, p, n);
}

static int cli_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		chmod(path, 0700);
	remove(path);
	return 0;
}

void cli_rm_rf(const char *path)
{
	nftw(path, cli_rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

void cli_setup(void)
{
	const char *bin = getenv("PHISCAN");
	cr_assert(sodium_init() >= 0);
	if (bin && *bin)
		snprintf(cli_bin, sizeof cli_bin, "%s", bin);
	else
		cr_assert_not_null(realpath("phiscan", cli_bin),
		                   "set PHISCAN=/abs/path/to/phiscan (make test does)");
	cr_assert_eq(access(cli_bin, X_OK), 0, "%s is not executable", cli_bin);
	/* the watchdog may kill a child whose stdin we still write */
	signal(SIGPIPE, SIG_IGN);

	const char *t = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof tmpl, "%s/phiscan-cli-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpl));
	/* real path: strip reports OUT by its real path */
	cr_assert_not_null(realpath(tmpl, cli_root));
	snprintf(cli_data, sizeof cli_data, "%s/data", cli_root);
	snprintf(cli_case, sizeof cli_case, "%s/case", cli_root);
	snprintf(cli_env_data, sizeof cli_env_data, "PHISCAN_DATA=%s", cli_data);
	cli_write_str(cli_fmt("%s/rules/default.yaml", cli_data), cli_pack);
	cli_copy("rules/names/given.txt", cli_fmt("%s/rules/names/given.txt", cli_data));
	cli_copy("rules/names/surnames.txt", cli_fmt("%s/rules/names/surnames.txt", cli_data));
	cli_copy("rules/names/common.txt", cli_fmt("%s/rules/names/common.txt", cli_data));
	cli_copy("rules/zip3-restricted.txt", cli_fmt("%s/rules/zip3-restricted.txt", cli_data));
	cli_mkdirs(cli_case);
}

void cli_teardown(void)
{
	if (cli_root[0])
		cli_rm_rf(cli_root);
	cli_root[0] = 0;
	for (size_t i = 0; i < cli_nallocs; i++)
		free(cli_allocs[i]);
	cli_nallocs = 0;
}

/* ---- running the binary ---- */

static void cbuf_add(struct cbuf *b, size_t *cap, const char *p, size_t n)
{
	if (b->n + n + 1 > *cap) {
		while (b->n + n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 4096;
		b->p = realloc(b->p, *cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = 0;
}

static double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run argv (argv[0] looked up in PATH) with PHISCAN_DATA and NO_COLOR set, feed
 * it stdin_data (NULL: an empty stdin), capture stdout and stderr.  Returns the
 * exit status; death by a signal or a run past CLI_TIMEOUT_S fails the test. */
int run(char *const argv[], const struct cbuf *stdin_data, struct cbuf *out,
               struct cbuf *err)
{
	return run_with(argv, NULL, stdin_data, out, err);
}

/* Under AddressSanitizer an address-space limit cannot be set (the shadow memory
 * alone is terabytes of address space): the allocator's own cap stands in. */
#if defined(__SANITIZE_ADDRESS__)
#define CLI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLI_ASAN 1
#endif
#endif

int run_with(char *const argv[], const struct run_opts *ro, const struct cbuf *stdin_data,
             struct cbuf *out, struct cbuf *err)
{
	static const struct run_opts none;
	if (!ro)
		ro = &none;
	unsigned timeout_s = ro->timeout_s ? ro->timeout_s : CLI_TIMEOUT_S;
	int pin[2], pout[2], perr[2];
	cr_assert_eq(pipe2(pin, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(perr, O_CLOEXEC), 0);

	/* the child's environment, built before fork */
	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	char **envp = calloc(nenv + 4, sizeof *envp);
	cr_assert_not_null(envp);
	size_t k = 0;
	char *asan = NULL;
	for (size_t i = 0; i < nenv; i++) {
#ifdef CLI_ASAN
		if (ro->as_bytes && !strncmp(environ[i], "ASAN_OPTIONS=", 13))
			continue;
#endif
		if (strncmp(environ[i], "PHISCAN_DATA=", 13) && strncmp(environ[i], "NO_COLOR=", 9))
			envp[k++] = environ[i];
	}
	envp[k++] = cli_env_data;
	envp[k++] = "NO_COLOR=1";
#ifdef CLI_ASAN
	if (ro->as_bytes) {
		const char *old = getenv("ASAN_OPTIONS");
		cr_assert_geq(asprintf(&asan, "ASAN_OPTIONS=%s%smax_allocation_size_mb=%llu",
		                       old ? old : "", old && *old ? ":" : "", ro->as_bytes >> 20),
		              0);
		envp[k++] = asan;
	}
#endif
	envp[k] = NULL;

	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
			_exit(126);
#ifndef CLI_ASAN
		if (ro->as_bytes) {
			struct rlimit rl = {(rlim_t)ro->as_bytes, (rlim_t)ro->as_bytes};
			if (setrlimit(RLIMIT_AS, &rl))
				_exit(125);
		}
#endif
		if (ro->as_nobody && geteuid() == 0 &&
		    (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(124);
		execvpe(argv[0], argv, envp);
		_exit(127);
	}
	free(envp);
	free(asan);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);

	struct cbuf o = {0}, e = {0};
	size_t ocap = 0, ecap = 0, inpos = 0;
	cbuf_add(&o, &ocap, "", 0);
	cbuf_add(&e, &ecap, "", 0);
	int fin = pin[1], fout = pout[0], ferr = perr[0];
	if (!stdin_data || stdin_data->n == 0) {
		close(fin);
		fin = -1;
	}
	double deadline = cli_now() + timeout_s;
	bool timed_out = false;
	while (fout >= 0 || ferr >= 0) {
		struct pollfd pf[3] = {{fout, POLLIN, 0}, {ferr, POLLIN, 0}, {fin, POLLOUT, 0}};
		double left = deadline - cli_now();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (ro->during)
			ro->during(pid, ro->during_arg);
		int pr = poll(pf, 3, ro->during ? 1 : (int)(left * 1000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		cr_assert_geq(pr, 0);
		char buf[65536];
		if (fout >= 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(fout, buf, sizeof buf);
			if (r > 0)
				cbuf_add(&o, &ocap, buf, (size_t)r);
			else if (r == 0 || errno != EINTR) {
				close(fout);
				fout = -1;
			}
		}
		if (ferr >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(ferr, buf, sizeof buf);
			if (r > 0)
				cbuf_add(&e, &ecap, buf, (size_t)r);
			else if (r == 0 || errno != EINTR) {
				close(ferr);
				ferr = -1;
			}
		}
		if (fin >= 0 && (pf[2].revents & (POLLOUT | POLLHUP | POLLERR))) {
			ssize_t w = write(fin, stdin_data->p + inpos, stdin_data->n - inpos);
			if (w > 0)
				inpos += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || inpos == stdin_data->n) {
				close(fin);
				fin = -1;
			}
		}
	}
	if (fin >= 0)
		close(fin);
	if (fout >= 0)
		close(fout);
	if (ferr >= 0)
		close(ferr);
	int status = 0;
	if (timed_out) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	} else {
		/* output closed: the process is exiting; still bound the wait */
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				break;
			if (ro->during)
				ro->during(pid, ro->during_arg);
			if (cli_now() > deadline) {
				timed_out = true;
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				break;
			}
			usleep(2000);
		}
	}
	cli_own(o.p);
	cli_own(e.p);
	if (out)
		*out = o;
	if (err)
		*err = e;
	cr_assert(!timed_out, "%s %s: no exit within %u s (hang)", argv[0], argv[1] ? argv[1] : "",
	          timeout_s);
	cr_assert(!WIFSIGNALED(status), "%s %s: killed by signal %d\nstderr: %s", argv[0],
	          argv[1] ? argv[1] : "", WTERMSIG(status), e.p);
	cr_assert(WIFEXITED(status));
	/* under make test-asan an ASan/LSan report exits 1 or 23: never a pass */
	cr_assert(!strstr(e.p, "Sanitizer") && !strstr(e.p, "runtime error:"),
	          "%s %s: sanitizer report:\n%s", argv[0], argv[1] ? argv[1] : "", e.p);
	return WEXITSTATUS(status);
}

/* phiscan with the given arguments (NULL-terminated). */
int cli(struct cbuf *out, struct cbuf *err, const struct cbuf *in, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;
	argv[n++] = cli_bin;
	va_start(ap, in);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert_lt(n, 63);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	return run(argv, in, out, err);
}

/* ---- looking at reports ---- */

bool has(const struct cbuf *b, const char *s)
{
	return b->p && strstr(b->p, s) != NULL;
}

bool mem_has(const char *p, size_t n, const char *s)
{
	return memmem(p, n, s, strlen(s)) != NULL;
}

/* Lines of b (a copy, each NUL-terminated), count in *n. */
char **lines_of(const struct cbuf *b, size_t *n)
{
	char *copy = cli_own(strdup(b->p));
	size_t cap = 16, k = 0;
	char **v = malloc(cap * sizeof *v);
	cr_assert_not_null(v);
	for (char *s = copy; *s;) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = 0;
		if (k + 1 >= cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof *v);
			cr_assert_not_null(v);
		}
		v[k++] = s;
		if (!nl)
			break;
		s = nl + 1;
	}
	v[k] = NULL;
	*n = k;
	return cli_own(v);
}

/* The string value of "key" in a one-line JSON object (simple escapes only);
 * NULL when absent or not a string. */
char *json_str(const char *line, const char *key)
{
	char pat[80];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p != '"')
		return NULL;
	p++;
	char *out = cli_own(malloc(strlen(p) + 1));
	size_t n = 0;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = 0;
	return out;
}

/* The number value of "key"; false when absent or null. */
bool json_num(const char *line, const char *key, unsigned long long *v)
{
	char pat[80];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	char *end;
	errno = 0;
	*v = strtoull(p, &end, 10);
	return end != p && !errno;
}

bool is_type(const char *line, const char *type)
{
	char pat[64];
	snprintf(pat, sizeof pat, "{\"type\":\"%s\"", type);
	return !strncmp(line, pat, strlen(pat));
}

size_t count_type(const struct cbuf *b, const char *type)
{
	size_t n, c = 0;
	char **l = lines_of(b, &n);
	for (size_t i = 0; i < n; i++)
		c += is_type(l[i], type);
	return c;
}

/* The JSON line of the given type whose path ends with suffix, or NULL. */
const char *line_for(const struct cbuf *b, const char *type, const char *suffix)
{
	size_t n;
	char **l = lines_of(b, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_type(l[i], type))
			continue;
		const char *p = json_str(l[i], "path");
		size_t pl = p ? strlen(p) : 0, sl = strlen(suffix);
		if (p && pl >= sl && !strcmp(p + pl - sl, suffix))
			return l[i];
	}
	return NULL;
}

void sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, p, n);
	sodium_bin2hex(hex, 65, h, sizeof h);
}

/* The manifest's keyed input digest, from its definition (formats/indigest.h),
 * computed here with libsodium alone: the key file's bytes give the key (their
 * SHA-256), then K = HMAC(key, label) and HMAC(K, kind NUL d). */
char *input_hmac(const char *key_path, const char *kind, const unsigned char d[32])
{
	size_t kn;
	char *kb = cli_read(key_path, &kn);
	cr_assert_not_null(kb, "%s", key_path);
	unsigned char key[32], k[32], mac[32];
	crypto_hash_sha256(key, (const unsigned char *)kb, kn);
	static const char label[] = "phiscan input digest v1";
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, sizeof key);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label));
	crypto_auth_hmacsha256_final(&st, k);
	crypto_auth_hmacsha256_init(&st, k, sizeof k);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_auth_hmacsha256_update(&st, d, 32);
	crypto_auth_hmacsha256_final(&st, mac);
	char *hex = cli_own(malloc(65));
	sodium_bin2hex(hex, 65, mac, sizeof mac);
	return hex;
}

/* The same for kind "sha256": d is the SHA-256 of the bytes p[0..n). */
char *input_hmac_sha256(const char *key_path, const void *p, size_t n)
{
	unsigned char d[32];
	crypto_hash_sha256(d, p, n);
	return input_hmac(key_path, "sha256", d);
}

/* The JSON report without its run time (the only field allowed to differ). */
char *without_seconds(const struct cbuf *b)
{
	char *s = cli_own(strdup(b->p));
	char *p = strstr(s, "\"seconds\":");
	if (p) {
		char *q = p + 10;
		while (*q && *q != ',' && *q != '}')
			q++;
		memmove(p, q, strlen(q) + 1);
	}
	return s;
}


