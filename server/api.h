/* api.h: the HTTP routes of API version 1 (see README "HTTP API"). */
#ifndef CN_API_H
#define CN_API_H

#include "councilnet/node.h"
#include "federation.h"
#include "net.h"

/* Records that arrived in one loop pass, applied in one transaction and
 * answered after its commit (group commit). */
typedef struct cn_api_pending_t {
  cn_req_t *req;
} cn_api_pending_t;

typedef struct cn_api_t {
  cn_node_t *node;
  cn_fed_t *fed;            /* may be NULL */
  cn_http_t *http;          /* for connection figures in /metrics; may be NULL */
  uint64_t requests;
  cn_task_t *flush;         /* NULL: apply each record on its own */
  cn_api_pending_t *pending;
  size_t n_pending, cap_pending;
  uint64_t batches, batched;
} cn_api_t;

/* Set up group commit on LOOP. Return 0 or -1 (then records are applied
 * one transaction each). */
int cn_api_init(cn_api_t *api, cn_loop_t *loop);
void cn_api_close(cn_api_t *api);

/* cn_req_fn for cn_http_new(); CTX is a cn_api_t. */
void cn_api_handle(cn_req_t *r, void *ctx);

#endif
