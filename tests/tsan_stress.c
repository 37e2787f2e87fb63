/* tsan_stress.c - the worker pool under ThreadSanitizer, without Criterion.
 *
 * Criterion 2.4's sandbox maps memory at addresses ThreadSanitizer reserves
 * (Snaipe/Criterion#274), so `make test-tsan` drives the pool from this plain
 * program: many indices through 1, 2, 8 and 32 threads, each index checked to run
 * once with its result, and results handed to the caller in order under a lock as
 * main.c's reorder ring does.  Prints "N passed, M failed". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../scanner/pool.h"

#define NJOBS 20000

struct wstate {
	unsigned long done; /* private to its worker */
};

struct shared {
	unsigned long *result;    /* result[i]: written by the worker that ran i */
	unsigned char *seen;      /* under mu */
	size_t next;              /* under mu: results taken in order so far */
	unsigned long checksum;   /* under mu */
	pthread_mutex_t mu;
};

static unsigned long work_of(size_t idx)
{
	unsigned long h = idx * 2654435761UL;
	for (int i = 0; i < 64; i++)
		h = h * 6364136223846793005UL + 1442695040888963407UL;
	return h | 1;
}

static void work(void *state, size_t i, void *arg)
{
	struct shared *s = arg;
	s->result[i] = work_of(i);
	((struct wstate *)state)->done++;
	pthread_mutex_lock(&s->mu);
	s->seen[i]++;
	while (s->next < NJOBS && s->seen[s->next]) /* in order, as main.c reports */
		s->checksum += s->result[s->next++];
	pthread_mutex_unlock(&s->mu);
}

static int run(unsigned nthreads)
{
	struct shared s = {.result = calloc(NJOBS, sizeof *s.result), .seen = calloc(NJOBS, 1)};
	struct wstate *ws = calloc(nthreads, sizeof *ws);
	void **states = calloc(nthreads, sizeof *states);
	int bad = 0;

	if (!s.result || !s.seen || !ws || !states)
		return 1;
	pthread_mutex_init(&s.mu, NULL);
	for (unsigned i = 0; i < nthreads; i++)
		states[i] = &ws[i];
	if (phi_pool_for(nthreads, NJOBS, work, states, &s))
		return 1;
	unsigned long total = 0, want = 0;
	for (unsigned i = 0; i < nthreads; i++)
		total += ws[i].done;
	for (size_t i = 0; i < NJOBS; i++) {
		bad |= s.seen[i] != 1 || s.result[i] != work_of(i);
		want += work_of(i);
	}
	bad |= total != NJOBS || s.next != NJOBS || s.checksum != want;
	pthread_mutex_destroy(&s.mu);
	free(s.result), free(s.seen), free(ws), free(states);
	return bad;
}

int main(void)
{
	static const unsigned threads[] = {1, 2, 8, 32};
	int passed = 0, failed = 0;
	for (size_t t = 0; t < 4; t++)
		for (int rep = 0; rep < 3; rep++) {
			int r = run(threads[t]);
			if (r)
				fprintf(stderr, "pool stress: %u threads: FAILED\n", threads[t]);
			r ? failed++ : passed++;
		}
	printf("pool stress: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
