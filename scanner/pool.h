/* pool.h - a fixed pool of worker threads with a bounded job queue and a completion
 * queue (libuv threadpool style: one mutex, condition variables, intrusive queues).
 *
 * The producer submits jobs (blocking while the queue is full); each worker runs the
 * work function with its own state; finished jobs go to the completion queue, which
 * the consumer drains.  Completion order is arbitrary: the consumer reorders.
 *
 * Threading: submit, close and the done calls come from one thread (main); the work
 * function runs on workers and must touch only its worker state and its job.
 * Ownership: jobs are borrowed by the pool between submit and done.
 */
#ifndef PHI_POOL_H
#define PHI_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Intrusive link: embed first in every job struct. */
struct phi_job {
	struct phi_job *next;
};

typedef void (*phi_work_fn)(void *worker_state, struct phi_job *job);

struct phi_pool;

/* nthreads >= 1; states[i] is passed to worker i (may be NULL entries). */
int phi_pool_new(struct phi_pool **out, unsigned nthreads, size_t queue_cap,
                 phi_work_fn fn, void *const *states);
/* Queue a job; blocks while queue_cap jobs are waiting. */
void phi_pool_submit(struct phi_pool *p, struct phi_job *job);
/* No more jobs will be submitted. */
void phi_pool_close(struct phi_pool *p);
/* A finished job, or NULL: with block=false when none is ready now; with block=true
 * only when the pool is closed and every submitted job has been returned. */
struct phi_job *phi_pool_done(struct phi_pool *p, bool block);
/* Join the workers (after close and draining) and free the pool. */
void phi_pool_free(struct phi_pool *p);

/* Number of online CPUs (at least 1). */
unsigned phi_cpu_count(void);

#endif
