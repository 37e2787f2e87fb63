/* test_pool.c - the worker pool: every job comes back exactly once with its result,
 * whatever the thread count and queue size; submit blocks on a full queue; close
 * and done behave at the edges.  Run under ThreadSanitizer by `make test-tsan`. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../formats/format.h"
#include "../scanner/pool.h"

#define NJOBS 10000

struct digit_job {
	struct phi_job link; /* first */
	unsigned idx;
	unsigned result;
	unsigned worker;
};

struct wstate {
	unsigned id;
	unsigned long jobs; /* touched only by its worker until the pool is freed */
};

static unsigned digit_sum(unsigned v)
{
	unsigned s = 0;
	for (; v; v /= 10)
		s += v % 10;
	return s;
}

static void digit_work(void *state, struct phi_job *job)
{
	struct wstate *ws = state;
	struct digit_job *j = (struct digit_job *)job;
	j->result = digit_sum(j->idx) + 1; /* +1: a job never run stays 0 */
	j->worker = ws->id;
	ws->jobs++;
}

static void take(struct phi_job *job, unsigned char *seen, struct digit_job *jobs)
{
	struct digit_job *j = (struct digit_job *)job;
	cr_assert(j >= jobs && j < jobs + NJOBS, "job pointer out of range");
	cr_assert_eq(seen[j->idx], 0, "job %u returned twice", j->idx);
	seen[j->idx] = 1;
	cr_assert_eq(j->result, digit_sum(j->idx) + 1, "job %u wrong result", j->idx);
}

static void run_jobs(unsigned nthreads, size_t cap)
{
	/* watchdog: a hang is a crash, not a stuck run.  Generous: at queue depth 1 each
	 * job is a hand-off between threads, and on the shared 2-core VM at load 13 the
	 * run once took longer than the 60 s this used to allow (a false crash). */
	alarm(300);
	struct digit_job *jobs = calloc(NJOBS, sizeof *jobs);
	unsigned char *seen = calloc(NJOBS, 1);
	struct wstate *ws = calloc(nthreads, sizeof *ws);
	void **states = calloc(nthreads, sizeof *states);
	cr_assert(jobs && seen && ws && states);
	for (unsigned i = 0; i < nthreads; i++) {
		ws[i].id = i;
		states[i] = &ws[i];
	}

	struct phi_pool *p;
	cr_assert_eq(phi_pool_new(&p, nthreads, cap, digit_work, states), 0);

	size_t back = 0;
	struct phi_job *j;
	for (unsigned i = 0; i < NJOBS; i++) {
		jobs[i].idx = i;
		phi_pool_submit(p, &jobs[i].link);
		/* Drain without blocking, interleaved with submitting. */
		while ((j = phi_pool_done(p, false))) {
			take(j, seen, jobs);
			back++;
		}
	}
	phi_pool_close(p);
	while ((j = phi_pool_done(p, true))) {
		take(j, seen, jobs);
		back++;
	}
	cr_assert_eq(back, NJOBS);
	cr_assert_null(phi_pool_done(p, false));
	cr_assert_null(phi_pool_done(p, true));
	phi_pool_free(p);

	unsigned long total = 0;
	for (unsigned i = 0; i < nthreads; i++)
		total += ws[i].jobs; /* joined: no race */
	cr_assert_eq(total, NJOBS);
	for (unsigned i = 0; i < NJOBS; i++) {
		cr_assert_eq(seen[i], 1, "job %u never returned", i);
		cr_assert_lt(jobs[i].worker, nthreads);
	}
	free(jobs);
	free(seen);
	free(ws);
	free(states);
}

Test(pool, ten_thousand_jobs_one_thread_queue_1) { run_jobs(1, 1); }
Test(pool, ten_thousand_jobs_one_thread_queue_64) { run_jobs(1, 64); }
Test(pool, ten_thousand_jobs_two_threads_queue_1) { run_jobs(2, 1); }
Test(pool, ten_thousand_jobs_two_threads_queue_64) { run_jobs(2, 64); }
Test(pool, ten_thousand_jobs_eight_threads_queue_1) { run_jobs(8, 1); }
Test(pool, ten_thousand_jobs_eight_threads_queue_64) { run_jobs(8, 64); }

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(pool, close_on_an_empty_pool_returns_null_promptly)
{
	alarm(10); /* watchdog */
	struct phi_pool *p;
	cr_assert_eq(phi_pool_new(&p, 4, 8, digit_work, NULL), 0);
	cr_assert_null(phi_pool_done(p, false));
	double t0 = now_s();
	phi_pool_close(p);
	cr_assert_null(phi_pool_done(p, true));
	phi_pool_free(p);
	/* promptly = no wait for a job or a timeout; 5 s leaves room for a loaded machine */
	cr_expect_lt(now_s() - t0, 5.0);
}

Test(pool, free_without_close_joins_idle_workers)
{
	alarm(10); /* watchdog */
	struct phi_pool *p;
	cr_assert_eq(phi_pool_new(&p, 3, 0, digit_work, NULL), 0);
	phi_pool_free(p);
}

Test(pool, zero_threads_is_a_usage_error)
{
	struct phi_pool *p = (struct phi_pool *)&p;
	cr_assert_eq(phi_pool_new(&p, 0, 4, digit_work, NULL), PHI_EUSAGE);
	cr_assert_null(p);
}

/* A job that waits on a gate, to hold a worker busy. */
struct gate_job {
	struct phi_job link;
	atomic_int *started;
	atomic_int *open;
	int ran;
};

static void gate_work(void *state, struct phi_job *job)
{
	struct gate_job *g = (struct gate_job *)job;
	if (g->started)
		atomic_store(g->started, 1);
	while (g->open && !atomic_load(g->open))
		usleep(1000);
	g->ran = 1;
}

struct opener {
	atomic_int *open;
};

static void *open_later(void *arg)
{
	struct opener *o = arg;
	usleep(200 * 1000);
	atomic_store(o->open, 1);
	return NULL;
}

Test(pool, submit_blocks_while_the_queue_is_full)
{
	alarm(20); /* watchdog */
	atomic_int started = 0, open = 0;
	struct gate_job a = { .started = &started, .open = &open };
	struct gate_job b = { 0 }, c = { 0 };
	struct phi_pool *p;
	cr_assert_eq(phi_pool_new(&p, 1, 1, gate_work, NULL), 0);

	phi_pool_submit(p, &a.link); /* the worker takes it and waits at the gate */
	while (!atomic_load(&started))
		usleep(1000);
	phi_pool_submit(p, &b.link); /* fills the one queue slot */

	struct opener o = { .open = &open };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, open_later, &o), 0);
	phi_pool_submit(p, &c.link); /* must wait until the worker takes b */
	cr_expect_eq(atomic_load(&open), 1, "submit returned while the queue was full");
	pthread_join(t, NULL);

	phi_pool_close(p);
	int n = 0;
	struct phi_job *j;
	while ((j = phi_pool_done(p, true))) {
		struct gate_job *g = (struct gate_job *)j;
		cr_expect_eq(g->ran, 1);
		n++;
	}
	cr_expect_eq(n, 3);
	phi_pool_free(p);
}

Test(pool, blocking_done_waits_for_running_jobs)
{
	alarm(20); /* watchdog */
	atomic_int started = 0, open = 0;
	struct gate_job a = { .started = &started, .open = &open };
	struct phi_pool *p;
	cr_assert_eq(phi_pool_new(&p, 2, 4, gate_work, NULL), 0);
	phi_pool_submit(p, &a.link);
	cr_assert_null(phi_pool_done(p, false)); /* a is held at the gate */

	struct opener o = { .open = &open };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, open_later, &o), 0);
	struct phi_job *j = phi_pool_done(p, true); /* before close: waits for a */
	cr_expect_eq(j, &a.link);
	cr_expect_eq(atomic_load(&open), 1);
	pthread_join(t, NULL);

	phi_pool_close(p);
	cr_expect_null(phi_pool_done(p, true));
	phi_pool_free(p);
}

Test(pool, cpu_count_is_at_least_one_and_at_most_online)
{
	unsigned n = phi_cpu_count();
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cr_expect_geq(n, 1);
	if (online >= 1)
		cr_expect_leq(n, (unsigned)online);
}
