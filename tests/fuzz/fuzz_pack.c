/* fuzz_pack.c - libFuzzer target: arbitrary bytes as a YAML rule pack, then (when
 * it loads) compiled by the engine and its examples run. */
#include <stdint.h>
#include <stdlib.h>

#include "../../scanner/engine.h"
#include "../../scanner/rules.h"

static void ignore(void *arg, const struct phi_rule *r, const char *text, const char *why)
{
	(void)arg, (void)r, (void)text, (void)why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phi_pack pack = {0};
	struct phi_error err = {0};
	struct phi_engine *e = NULL;
	struct phi_engine_opts eo = {.safe_harbor = true, .min_confidence = 0.5};
	if (phi_pack_load_string(&pack, (const char *)data, size, "fuzz", &err) == 0 &&
	    phi_engine_new(&e, &pack, NULL, &eo, &err) == 0) {
		size_t n = 0;
		(void)phi_engine_test_examples(e, ignore, NULL, &n);
		phi_engine_free(e);
	}
	phi_pack_free(&pack);
	return 0;
}
