/* pool.h - run one function over the indices [0, n) on a fixed number of threads.
 *
 * The walk is complete before any file is scanned (plan.h), so the work is an array
 * known in advance: there is no queue and no producer.  Each thread takes the next
 * index with one atomic counter, so indices start in ascending order (the lowest
 * unfinished index is always running), and runs the function with its own state.
 * The calling thread is worker 0: at one thread nothing is started and nothing is
 * handed off; at N threads, N - 1 are started and joined before the call returns.
 *
 * Threading: fn runs on the caller and on the started threads at once and must touch
 * only its worker state, its index's data and what it locks itself.  Started threads
 * have SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked, so those reach the main thread.
 * Ownership: states and arg are borrowed for the call.
 */
#ifndef PHI_POOL_H
#define PHI_POOL_H

#include <stddef.h>

typedef void (*phi_index_fn)(void *worker_state, size_t i, void *arg);

/* Run fn(states[t], i, arg) once for every i in [0, n) on nthreads threads (the
 * caller is t = 0; states may be NULL: every state NULL).  Returns when every index
 * has run: 0, or PHI_EUSAGE for nthreads 0 or no fn.  A thread that cannot be started
 * is not an error: the others, the caller at least, run its share. */
int phi_pool_for(unsigned nthreads, size_t n, phi_index_fn fn, void *const *states, void *arg);

/* Number of online CPUs (at least 1). */
unsigned phi_cpu_count(void);

#endif
