/* tsan_stress.c - the worker pool under ThreadSanitizer, without Criterion.
 *
 * Criterion 2.4's sandbox maps memory at addresses ThreadSanitizer reserves
 * (Snaipe/Criterion#274), so `make test-tsan` drives the pool from this plain
 * program: many jobs through 1, 2, 8 and 32 threads with tiny and large queues,
 * each job checked to come back once with its result, submit interleaved with
 * draining exactly as main.c does.  Prints "N passed, M failed". */
#include <stdio.h>
#include <stdlib.h>

#include "../scanner/pool.h"

#define NJOBS 20000

struct sjob {
	struct phi_job link; /* first */
	unsigned idx;
	unsigned long result;
};

struct wstate {
	unsigned long done; /* private to its worker */
};

static unsigned long work_of(unsigned idx)
{
	unsigned long h = idx * 2654435761UL;
	for (int i = 0; i < 64; i++)
		h = h * 6364136223846793005UL + 1442695040888963407UL;
	return h | 1;
}

static void work(void *state, struct phi_job *job)
{
	struct sjob *j = (struct sjob *)job;
	j->result = work_of(j->idx);
	((struct wstate *)state)->done++;
}

static int run(unsigned nthreads, size_t cap)
{
	struct sjob *jobs = calloc(NJOBS, sizeof *jobs);
	unsigned char *seen = calloc(NJOBS, 1);
	struct wstate *ws = calloc(nthreads, sizeof *ws);
	void **states = calloc(nthreads, sizeof *states);
	struct phi_pool *p;
	int bad = 0;
	size_t back = 0;

	if (!jobs || !seen || !ws || !states)
		return 1;
	for (unsigned i = 0; i < nthreads; i++)
		states[i] = &ws[i];
	if (phi_pool_new(&p, nthreads, cap, work, states))
		return 1;
	for (unsigned i = 0; i < NJOBS; i++) {
		struct phi_job *d;
		jobs[i].idx = i;
		phi_pool_submit(p, &jobs[i].link);
		while ((d = phi_pool_done(p, false))) {
			struct sjob *j = (struct sjob *)d;
			bad |= seen[j->idx]++ != 0 || j->result != work_of(j->idx);
			back++;
		}
	}
	phi_pool_close(p);
	struct phi_job *d;
	while ((d = phi_pool_done(p, true))) {
		struct sjob *j = (struct sjob *)d;
		bad |= seen[j->idx]++ != 0 || j->result != work_of(j->idx);
		back++;
	}
	phi_pool_free(p);
	unsigned long total = 0;
	for (unsigned i = 0; i < nthreads; i++)
		total += ws[i].done;
	bad |= back != NJOBS || total != NJOBS;
	free(jobs), free(seen), free(ws), free(states);
	return bad;
}

int main(void)
{
	static const unsigned threads[] = {1, 2, 8, 32};
	static const size_t caps[] = {1, 4, 256};
	int passed = 0, failed = 0;
	for (size_t t = 0; t < 4; t++)
		for (size_t c = 0; c < 3; c++) {
			int r = run(threads[t], caps[c]);
			if (r)
				fprintf(stderr, "pool stress: %u threads, queue %zu: FAILED\n", threads[t], caps[c]);
			r ? failed++ : passed++;
		}
	printf("pool stress: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
