/* cli.h - test helpers: run the phiscan binary and read its reports (cli.c).
 *
 * Ownership: strings returned here are owned by the helpers and freed by
 * cli_teardown(); a test never frees them.
 */
#ifndef PHI_TEST_CLI_H
#define PHI_TEST_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define CLI_TIMEOUT_S 20

struct cbuf {
	char *p; /* NUL-terminated (the NUL is not counted in n) */
	size_t n;
};

extern char cli_root[PATH_MAX];     /* the test's temporary root */
extern char cli_case[PATH_MAX + 16]; /* cli_root/case, created empty */
extern char cli_data[PATH_MAX + 16]; /* PHISCAN_DATA of the runs */
extern char cli_bin[PATH_MAX];      /* the phiscan binary */

/* Suite set-up and tear-down (TestSuite(x, .init = cli_setup, .fini = cli_teardown)). */
void cli_setup(void);
void cli_teardown(void);

void *cli_own(void *p); /* freed at teardown */
char *cli_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_mkdirs(const char *path);
void cli_write(const char *path, const void *data, size_t n);
void cli_write_str(const char *path, const char *s);
char *cli_read(const char *path, size_t *len); /* NULL when absent */
void cli_copy(const char *from, const char *to);
void cli_rm_rf(const char *path);

/* Run argv with PHISCAN_DATA set; exit status; a crash or a hang fails the test. */
int run(char *const argv[], const struct cbuf *stdin_data, struct cbuf *out, struct cbuf *err);

/* run() with a budget and a hook (tests/test_badinput.c). */
struct run_opts {
	unsigned timeout_s;           /* wall-clock budget; 0: CLI_TIMEOUT_S */
	unsigned long long as_bytes;  /* RLIMIT_AS of the child (under ASan: its
	                                 max_allocation_size_mb instead); 0: none */
	bool as_nobody;               /* when root: the child runs as uid/gid 65534 */
	/* called about every millisecond while the child runs (pid: the child) */
	void (*during)(int pid, void *arg);
	void *during_arg;
};
int run_with(char *const argv[], const struct run_opts *ro, const struct cbuf *stdin_data,
             struct cbuf *out, struct cbuf *err);
/* phiscan with the given arguments (NULL-terminated). */
int cli(struct cbuf *out, struct cbuf *err, const struct cbuf *in, ...);

bool has(const struct cbuf *b, const char *s);
bool mem_has(const char *p, size_t n, const char *s);
char **lines_of(const struct cbuf *b, size_t *n);
char *json_str(const char *line, const char *key);
bool json_num(const char *line, const char *key, unsigned long long *v);
bool is_type(const char *line, const char *type);
size_t count_type(const struct cbuf *b, const char *type);
const char *line_for(const struct cbuf *b, const char *type, const char *suffix);
void sha256_hex(const void *p, size_t n, char hex[65]);
char *without_seconds(const struct cbuf *b); /* the JSON report without its run time */
/* The manifest's keyed input digest (formats/indigest.h) from its definition: for
 * kind with the 32-byte d, or of kind "sha256" for the bytes p[0..n). */
char *input_hmac(const char *key_path, const char *kind, const unsigned char d[32]);
char *input_hmac_sha256(const char *key_path, const void *p, size_t n);

#endif
