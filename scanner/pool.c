/* pool.c - fixed worker pool with a bounded job queue and a completion queue.
 *
 * Shape after libuv's threadpool: one mutex guards everything; three condition
 * variables say "a job is pending" (workers wait), "the pending queue has room"
 * (the producer waits in submit) and "a job is done" (the consumer waits in
 * done(block=true)).  Both queues are intrusive singly linked FIFOs through
 * struct phi_job.next, so the pool allocates nothing per job.
 *
 * The completion queue is unbounded (it holds at most the jobs submitted and not
 * yet returned, which the caller owns anyway), so a worker never blocks on it and
 * the one-thread producer/consumer cannot deadlock: submit waits only for workers,
 * and workers always make progress.
 *
 * Shutdown: close sets a flag and wakes everyone; workers finish the pending queue
 * and exit; done(block=true) returns NULL once closed and every submitted job has
 * been handed back.  done(block=true) also returns NULL at once when nothing is
 * outstanding and the pool is still open: submit, close and done are called from
 * one thread, so no job could ever arrive to end the wait.
 *
 * Workers start with SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked, so those reach
 * the main thread, which decides what an interrupt means.
 *
 * Threading: see pool.h - submit/close/done/free from one thread; the work function
 * on workers.  Ownership: jobs are borrowed from submit until done returns them.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../formats/format.h"

struct worker {
	struct phi_pool *pool;
	void *state;
};

struct phi_pool {
	pthread_mutex_t mu;
	pthread_cond_t job_cv;   /* pending non-empty, or closed */
	pthread_cond_t space_cv; /* npending < cap */
	pthread_cond_t done_cv;  /* done non-empty, or closed */

	struct phi_job *pend_head, *pend_tail;
	struct phi_job *done_head, *done_tail;
	size_t npending;
	size_t cap;
	size_t outstanding; /* submitted and not yet returned by done */
	bool closed;

	phi_work_fn fn;
	unsigned nthreads;
	pthread_t *threads;
	struct worker *workers;
};

static void push(struct phi_job **head, struct phi_job **tail, struct phi_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct phi_job *pop(struct phi_job **head, struct phi_job **tail)
{
	struct phi_job *j = *head;
	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct phi_pool *p = w->pool;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->pend_head && !p->closed)
			pthread_cond_wait(&p->job_cv, &p->mu);
		struct phi_job *j = pop(&p->pend_head, &p->pend_tail);
		if (!j)
			break; /* closed and drained */
		p->npending--;
		pthread_cond_signal(&p->space_cv);
		pthread_mutex_unlock(&p->mu);

		p->fn(w->state, j);

		pthread_mutex_lock(&p->mu);
		push(&p->done_head, &p->done_tail, j);
		pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void destroy_sync(struct phi_pool *p)
{
	pthread_cond_destroy(&p->done_cv);
	pthread_cond_destroy(&p->space_cv);
	pthread_cond_destroy(&p->job_cv);
	pthread_mutex_destroy(&p->mu);
}

/* Wake the workers for shutdown and join the first n. */
static void stop_and_join(struct phi_pool *p, unsigned n)
{
	pthread_mutex_lock(&p->mu);
	p->closed = true;
	pthread_cond_broadcast(&p->job_cv);
	pthread_cond_broadcast(&p->done_cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < n; i++)
		pthread_join(p->threads[i], NULL);
}

int phi_pool_new(struct phi_pool **out, unsigned nthreads, size_t queue_cap,
                 phi_work_fn fn, void *const *states)
{
	*out = NULL;
	if (nthreads == 0 || !fn)
		return PHI_EUSAGE;

	struct phi_pool *p = calloc(1, sizeof *p);
	if (!p)
		return PHI_ENOMEM;
	p->threads = calloc(nthreads, sizeof *p->threads);
	p->workers = calloc(nthreads, sizeof *p->workers);
	if (!p->threads || !p->workers)
		goto fail_mem;
	/* 0 asks for a default: enough to keep every worker busy while main walks. */
	p->cap = queue_cap ? queue_cap : 2 * (size_t)nthreads;
	p->fn = fn;
	p->nthreads = nthreads;

	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto fail_mem;
	if (pthread_cond_init(&p->job_cv, NULL) != 0)
		goto fail_mutex;
	if (pthread_cond_init(&p->space_cv, NULL) != 0)
		goto fail_job_cv;
	if (pthread_cond_init(&p->done_cv, NULL) != 0)
		goto fail_space_cv;

	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &block, &old);

	unsigned started = 0;
	for (; started < nthreads; started++) {
		p->workers[started].pool = p;
		p->workers[started].state = states ? states[started] : NULL;
		if (pthread_create(&p->threads[started], NULL, worker_main,
		                   &p->workers[started]) != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (started < nthreads) {
		stop_and_join(p, started);
		destroy_sync(p);
		free(p->workers);
		free(p->threads);
		free(p);
		return PHI_ENOMEM;
	}
	*out = p;
	return 0;

fail_space_cv:
	pthread_cond_destroy(&p->space_cv);
fail_job_cv:
	pthread_cond_destroy(&p->job_cv);
fail_mutex:
	pthread_mutex_destroy(&p->mu);
fail_mem:
	free(p->workers);
	free(p->threads);
	free(p);
	return PHI_ENOMEM;
}

void phi_pool_submit(struct phi_pool *p, struct phi_job *job)
{
	pthread_mutex_lock(&p->mu);
	/* Submitting after close is a caller bug; workers may already be gone, so the
	 * job would never run.  Abort rather than hang in done(block=true). */
	if (p->closed)
		abort();
	while (p->npending >= p->cap)
		pthread_cond_wait(&p->space_cv, &p->mu);
	push(&p->pend_head, &p->pend_tail, job);
	p->npending++;
	p->outstanding++;
	pthread_cond_signal(&p->job_cv);
	pthread_mutex_unlock(&p->mu);
}

void phi_pool_close(struct phi_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->closed = true;
	pthread_cond_broadcast(&p->job_cv);
	pthread_cond_broadcast(&p->done_cv);
	pthread_mutex_unlock(&p->mu);
}

struct phi_job *phi_pool_done(struct phi_pool *p, bool block)
{
	struct phi_job *j;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		j = pop(&p->done_head, &p->done_tail);
		if (j) {
			p->outstanding--;
			break;
		}
		if (!block || p->outstanding == 0)
			break;
		pthread_cond_wait(&p->done_cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

void phi_pool_free(struct phi_pool *p)
{
	if (!p)
		return;
	/* Workers finish whatever is still pending before they exit; jobs left in
	 * the completion queue stay the caller's (they were borrowed). */
	stop_and_join(p, p->nthreads);
	destroy_sync(p);
	free(p->workers);
	free(p->threads);
	free(p);
}

unsigned phi_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		int a = CPU_COUNT(&set);
		if (a >= 1 && a < n)
			n = a;
	}
	return (unsigned)n;
}
