/* test_pool.c - the pool runs a function once on every index, whatever the thread
 * count; the calling thread is worker 0 (the only one at one thread); each thread
 * takes its indices in ascending order; a usage error is reported.  Run under
 * ThreadSanitizer by `make test-tsan` (tests/tsan_stress.c, the same checks). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "../formats/format.h"
#include "../scanner/pool.h"

#define NJOBS 10000

struct wstate {
	unsigned id;
	pthread_t self;     /* the thread that ran as this worker */
	unsigned long jobs; /* touched only by its worker until the call returns */
	size_t last;        /* the last index it ran, + 1 */
	bool out_of_order;  /* it ran an index below one it ran before */
};

struct digits {
	unsigned result[NJOBS];
	unsigned worker[NJOBS];
	atomic_uint runs[NJOBS];
};

static unsigned digit_sum(size_t v)
{
	unsigned s = 0;
	for (; v; v /= 10)
		s += (unsigned)(v % 10);
	return s;
}

static void digit_work(void *state, size_t i, void *arg)
{
	struct wstate *ws = state;
	struct digits *d = arg;
	d->result[i] = digit_sum(i) + 1; /* +1: an index never run stays 0 */
	d->worker[i] = ws->id;
	atomic_fetch_add(&d->runs[i], 1);
	ws->self = pthread_self();
	ws->jobs++;
	if (i + 1 <= ws->last)
		ws->out_of_order = true;
	ws->last = i + 1;
}

static void run_indices(unsigned nthreads, size_t n)
{
	alarm(300); /* watchdog: a hang is a crash, not a stuck run */
	struct digits *d = calloc(1, sizeof *d);
	struct wstate *ws = calloc(nthreads, sizeof *ws);
	void **states = calloc(nthreads, sizeof *states);
	cr_assert(d && ws && states);
	for (unsigned i = 0; i < nthreads; i++) {
		ws[i].id = i;
		states[i] = &ws[i];
	}
	cr_assert_eq(phi_pool_for(nthreads, n, digit_work, states, d), 0);
	unsigned long total = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		total += ws[i].jobs; /* joined: no race */
		cr_expect_not(ws[i].out_of_order, "worker %u took an index below an earlier one", i);
	}
	cr_assert_eq(total, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(atomic_load(&d->runs[i]), 1, "index %zu ran %u times", i,
		             atomic_load(&d->runs[i]));
		cr_assert_eq(d->result[i], digit_sum(i) + 1, "index %zu has a wrong result", i);
		cr_assert_lt(d->worker[i], nthreads);
	}
	for (size_t i = n; i < NJOBS; i++)
		cr_assert_eq(atomic_load(&d->runs[i]), 0, "index %zu is past n and ran", i);
	/* the caller is worker 0, whenever worker 0 ran anything */
	if (ws[0].jobs)
		cr_expect(pthread_equal(ws[0].self, pthread_self()));
	free(d);
	free(ws);
	free(states);
}

Test(pool, ten_thousand_indices_on_one_thread) { run_indices(1, NJOBS); }
Test(pool, ten_thousand_indices_on_two_threads) { run_indices(2, NJOBS); }
Test(pool, ten_thousand_indices_on_eight_threads) { run_indices(8, NJOBS); }
Test(pool, fewer_indices_than_threads_each_run_once) { run_indices(8, 3); }
Test(pool, no_indices_returns_at_once) { run_indices(4, 0); }

Test(pool, one_thread_runs_everything_on_the_caller_in_order)
{
	struct digits *d = calloc(1, sizeof *d);
	struct wstate w = {0};
	void *states[1] = {&w};
	cr_assert(d);
	cr_assert_eq(phi_pool_for(1, 100, digit_work, states, d), 0);
	cr_expect_eq(w.jobs, 100);
	cr_expect(pthread_equal(w.self, pthread_self()));
	cr_expect_not(w.out_of_order);
	cr_expect_eq(w.last, 100);
	free(d);
}

/* Worker 1 holds index 0 until every other index has run: the others must not
 * wait for it (no barrier between indices), and the call returns only after it. */
struct hold {
	atomic_size_t done;
	size_t n;
	atomic_int held_released;
};

static void hold_work(void *state, size_t i, void *arg)
{
	struct hold *h = arg;
	(void)state;
	if (i == 0) {
		while (atomic_load(&h->done) < h->n - 1)
			usleep(1000);
		atomic_store(&h->held_released, 1);
	}
	atomic_fetch_add(&h->done, 1);
}

Test(pool, a_slow_index_does_not_hold_up_the_others)
{
	alarm(60); /* watchdog: a pool that waited for index 0 would hang here */
	struct hold h = {.n = 500};
	cr_assert_eq(phi_pool_for(2, h.n, hold_work, NULL, &h), 0);
	cr_expect_eq(atomic_load(&h.done), h.n);
	cr_expect_eq(atomic_load(&h.held_released), 1);
}

Test(pool, zero_threads_is_a_usage_error)
{
	struct digits *d = calloc(1, sizeof *d);
	cr_assert(d);
	cr_assert_eq(phi_pool_for(0, 10, digit_work, NULL, d), PHI_EUSAGE);
	cr_assert_eq(phi_pool_for(2, 10, NULL, NULL, d), PHI_EUSAGE);
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(atomic_load(&d->runs[i]), 0);
	free(d);
}

Test(pool, cpu_count_is_at_least_one_and_at_most_online)
{
	unsigned n = phi_cpu_count();
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cr_expect_geq(n, 1);
	if (online >= 1)
		cr_expect_leq(n, (unsigned)online);
}
