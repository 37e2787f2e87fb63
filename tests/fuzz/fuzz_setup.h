/* fuzz_setup.h - what the fuzz targets that drive the whole scanner share: the
 * default rule pack, names and engine loaded once (from the repository root), and
 * a scanning and a stripping worker.  A target calls fuzz_setup() from
 * LLVMFuzzerInitialize with its engine options, strip options and limits.
 */
#ifndef PHI_FUZZ_SETUP_H
#define PHI_FUZZ_SETUP_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../formats/format.h"
#include "../../scanner/engine.h"
#include "../../scanner/finding.h"
#include "../../scanner/names.h"
#include "../../scanner/ops.h"
#include "../../scanner/rules.h"
#include "../../scanner/scan.h"

static struct phi_pack pack;
static struct phi_names *names;
static struct phi_engine *engine;
static struct phi_policy policy;
static struct phi_limits limits;
static struct phi_worker *scanner, *stripper;
static struct phi_scan_opts scan_opts, strip_opts;

/* limits must already hold the target's values (phi_limits_default, then tweaks). */
static void fuzz_setup(const struct phi_engine_opts *eo, const struct phi_strip_opts *so)
{
	struct phi_error err = {0};
	if (phi_formats_init(&err) || phi_pack_load(&pack, "rules/default.yaml", &err) ||
	    phi_names_load(&names, "rules/names", &err) ||
	    phi_engine_new(&engine, &pack, names, eo, &err)) {
		fprintf(stderr, "fuzz: setup failed: %s\n", err.msg);
		abort();
	}
	phi_policy_init(&policy);
	policy.names = names;
	scan_opts = (struct phi_scan_opts){.engine = engine, .limits = &limits, .policy = &policy,
	                                   .sopts = so};
	strip_opts = scan_opts;
	strip_opts.strip = true;
	if (phi_worker_new(&scanner, &scan_opts) || phi_worker_new(&stripper, &strip_opts))
		abort();
}

/* A memory file holding a then b, rewound: the input of one run. */
static inline int memfd_with(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		abort();
	if ((an && write(fd, a, an) != (ssize_t)an) || (bn && write(fd, b, bn) != (ssize_t)bn))
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

#endif
