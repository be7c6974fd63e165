/* api.h: the HTTP routes of API version 1 (see README "HTTP API"). */
#ifndef CN_API_H
#define CN_API_H

#include "councilnet/node.h"
#include "federation.h"
#include "net.h"
#include "pool.h"

struct rec_job_t;

typedef struct cn_api_t {
  cn_node_t *node;
  cn_fed_t *fed;            /* may be NULL */
  cn_http_t *http;          /* for connection figures in /metrics; may be NULL */
  uint64_t requests;
  /* The write pipeline (see api.c); flush NULL: each record applied and
   * answered on its own, on the loop. */
  cn_task_t *flush;
  cn_pool_t *workers;       /* verify envelopes, sign receipts */
  cn_pool_t *syncer;        /* one thread: fdatasync of the WAL */
  cn_pool_t *checkpointer;  /* one thread: WAL -> database copies */
  int checkpointing;        /* a checkpoint job is out */
  struct rec_job_t *pending, *pending_tail;     /* verified, to apply */
  struct rec_job_t *unsynced, *unsynced_tail;   /* committed, to sync */
  int syncing;              /* a sync job is out */
  int closing;              /* cn_api_drain(): flush without waiting */
  size_t inflight;          /* records taken in, not answered yet */
  uint64_t synced;          /* batches known durable (of api->batches) */
  uint64_t batches, batched;
  /* Receipted records through the pipeline, and the time they spent in
   * each stage (us): taken in -> verified -> applied -> committed ->
   * answered (flushed and signed). */
  uint64_t staged, stage_us[4];
  uint64_t signatures;      /* receipt signatures made: one per batch */
} cn_api_t;

/* Set up group commit on LOOP with WORKERS threads for signatures (0: one
 * per CPU) and one for disk syncs. Return 0 or -1 (then records are
 * applied one transaction each, on the loop). */
int cn_api_init(cn_api_t *api, cn_loop_t *loop, unsigned workers);
/* Take every record in flight through the pipeline now (their answers go
 * out when the loop runs again; their data is on disk either way). */
int cn_api_drain(cn_api_t *api);     /* 0, or -1 if records were stranded (a bug) */
/* Drain, then stop the threads. Safe after a failed cn_api_init(). */
int cn_api_close(cn_api_t *api);     /* as cn_api_drain() */

/* Make every commit so far durable (the write pipeline may hold some that
 * are not flushed yet): 0, or -1 if the disk failed. CTX is a cn_api_t.
 * The federation calls it before sending outbox rows up. */
int cn_api_durable(void *ctx);

/* cn_req_fn for cn_http_new(); CTX is a cn_api_t. */
void cn_api_handle(cn_req_t *r, void *ctx);

#endif
