/* pool.h: worker threads for the CPU-bound and disk-bound steps of a write
 * (signature checks, receipt signing, the WAL sync), handing each finished
 * job back to the event loop.
 *
 * A job's work() runs on a worker thread and may touch only what the job
 * owns plus the thread-safe calls documented as such (cn_record_open,
 * cn_node_receipt_seal, cn_node_sync). Its done() runs afterwards on the
 * loop thread, in the order jobs finished, where everything is allowed
 * again (including submitting more jobs). Workers wake the loop through a
 * pipe, one byte per batch of finished jobs, not one per job. */
#ifndef CN_POOL_H
#define CN_POOL_H

#include <stddef.h>

#include "net.h"

typedef struct cn_job_t {
  struct cn_job_t *next;                 /* the pool's */
  int urgent_;                           /* the pool's */
  void (*work)(struct cn_job_t *job);    /* on a worker thread */
  void (*done)(struct cn_job_t *job);    /* then on the loop thread */
} cn_job_t;

typedef struct cn_pool_t cn_pool_t;

/* THREADS workers (at least 1) reporting to LOOP, named NAME (at most 15
 * characters, shown by top -H). Return NULL on failure. */
cn_pool_t *cn_pool_new(cn_loop_t *loop, unsigned threads, const char *name);
/* Queue JOB (work and done set) behind the others, or with URGENT ahead of
 * them (work that finishes something, before work that starts something).
 * Loop thread only. */
void cn_pool_submit(cn_pool_t *p, cn_job_t *job, int urgent);
/* Run done() of the jobs that have finished. With WAIT and jobs still out,
 * first block until at least one finishes. Loop thread only. Return the
 * number of jobs submitted whose done() has not run yet. */
size_t cn_pool_drain(cn_pool_t *p, int wait);
/* Jobs submitted whose done() has not run yet. Loop thread only. */
size_t cn_pool_pending(const cn_pool_t *p);
/* Stop the workers once the queue is empty and free the pool. Finish and
 * drain every job first (cn_pool_drain until it returns 0): a job still out
 * here is never reported. Accepts NULL. */
void cn_pool_free(cn_pool_t *p);

#endif
