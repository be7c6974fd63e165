/* api.h: the HTTP routes of API version 1 (see README "HTTP API"). */
#ifndef CN_API_H
#define CN_API_H

#include "councilnet/node.h"
#include "federation.h"
#include "net.h"

typedef struct cn_api_t {
  cn_node_t *node;
  cn_fed_t *fed;            /* may be NULL */
  cn_http_t *http;          /* for connection figures in /metrics; may be NULL */
  uint64_t requests;
} cn_api_t;

/* cn_req_fn for cn_http_new(); CTX is a cn_api_t. */
void cn_api_handle(cn_req_t *r, void *ctx);

#endif
