/* pool.c - one function over an index range on a fixed number of threads.  See pool.h.
 *
 * Why no queue: the walk is recorded and planned before any file is scanned, so
 * every job is known up front.  The queue this replaced (libuv-style: a producer
 * submitting into a bounded FIFO, condition variables both ways) cost each file a
 * wake-up of a worker and, when the queue was full, of the producer: on 1,000 40 KB
 * DICOM files, about 5,000 futex calls and 2,800 context switches, and the main
 * thread did nothing but hand work over.  Here a thread takes the next index with one
 * atomic fetch-and-add and never sleeps while work remains; the caller works too.
 *
 * Order: indices are claimed in ascending order, so whoever reorders results (main.c)
 * can rely on the lowest unfinished index being in progress on some thread.
 *
 * Threading: see pool.h.  Started threads block SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * so those reach the main thread.  Ownership: nothing is allocated that outlives the
 * call.
 */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "../formats/format.h"

struct run {
	atomic_size_t next; /* the next index to claim */
	size_t n;
	phi_index_fn fn;
	void *arg;
};

struct thread {
	struct run *run;
	void *state;
};

static void take_all(struct run *r, void *state)
{
	for (;;) {
		size_t i = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
		if (i >= r->n)
			return;
		r->fn(state, i, r->arg);
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	take_all(t->run, t->state);
	return NULL;
}

int phi_pool_for(unsigned nthreads, size_t n, phi_index_fn fn, void *const *states, void *arg)
{
	if (nthreads == 0 || !fn)
		return PHI_EUSAGE;
	struct run r = {.n = n, .fn = fn, .arg = arg};
	atomic_init(&r.next, 0);
	/* no more threads than indices: a thread with nothing to take costs a start */
	unsigned extra = nthreads - 1;
	if (extra > n)
		extra = (unsigned)n;
	pthread_t *tid = NULL;
	struct thread *ts = NULL;
	unsigned started = 0;
	if (extra) {
		tid = calloc(extra, sizeof *tid);
		ts = calloc(extra, sizeof *ts);
	}
	if (tid && ts) {
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGHUP);
		sigaddset(&block, SIGQUIT);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		for (; started < extra; started++) {
			ts[started].run = &r;
			ts[started].state = states ? states[started + 1] : NULL;
			if (pthread_create(&tid[started], NULL, thread_main, &ts[started]) != 0)
				break;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	take_all(&r, states ? states[0] : NULL);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(ts);
	free(tid);
	return 0;
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
