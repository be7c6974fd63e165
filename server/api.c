/* api.c: HTTP routes -> node calls -> protobuf (or JSON) answers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet.pb-c.h"
#include "councilnet/pbjson.h"
#include "councilnet/record.h"
#include "api.h"

#define CT_PROTOBUF "application/x-protobuf"
#define CT_JSON "application/json"

/* Answer with a serialized message, as protobuf or, if asked, JSON. */
static void reply_message(cn_req_t *r, int status, const ProtobufCMessageDescriptor *desc,
                          const uint8_t *data, size_t len)
{
  ProtobufCMessage *m;
  char *json;

  if (!cn_req_wants_json(r)) {
    cn_req_reply(r, status, CT_PROTOBUF, data, len);
    return;
  }
  m = protobuf_c_message_unpack(desc, NULL, len, data);
  json = m ? cn_pbjson_encode(m, 0) : NULL;
  if (json)
    cn_req_reply(r, status, CT_JSON, json, strlen(json));
  else
    cn_req_reply(r, 500, "text/plain", "encoding failed\n", 16);
  free(json);
  if (m)
    protobuf_c_message_free_unpacked(m, NULL);
}

static void reply_error(cn_req_t *r, cn_err err, const char *msg)
{
  Councilnet__Error e = COUNCILNET__ERROR__INIT;
  uint8_t *buf = NULL;
  size_t len = 0;

  e.code = (Councilnet__ErrorCode)err;
  e.name = (char *)cn_err_name(err);
  e.message = (char *)(msg && *msg ? msg : cn_err_name(err));
  if (cn_pb_pack(&e.base, &buf, &len) != 0) {
    cn_req_reply(r, 500, "text/plain", "out of memory\n", 14);
    return;
  }
  reply_message(r, cn_err_http_status(err), &councilnet__error__descriptor, buf, len);
  free(buf);
}

static void reply_answer(cn_req_t *r, cn_err err, cn_answer_t *a)
{
  if (err == CN_OK)
    reply_message(r, 200, a->desc, a->data, a->len);
  else
    reply_error(r, err, err == CN_ERR_NOT_FOUND ? "not found" : "query failed");
  free(a->data);
}

/* Apply one record and answer it (no batch). */
static void records_apply_one(cn_api_t *api, cn_req_t *r)
{
  size_t len = 0, rlen = 0;
  const uint8_t *body = cn_req_body(r, &len);
  uint8_t *receipt = NULL;
  char msg[256];
  cn_err err;

  err = cn_node_submit(api->node, body, len, &receipt, &rlen, msg, sizeof msg);
  if (err == CN_OK) {
    reply_message(r, 200, &councilnet__envelope__descriptor, receipt, rlen);
    cn_fed_kick(api->fed);    /* anything it queued for the parent goes now */
  } else {
    reply_error(r, err, msg);
  }
  free(receipt);
}

/* The loop pass is over: apply every record that came in during it in one
 * transaction, commit once (synchronous=FULL: one fsync), then answer. */
static void records_flush(void *ctx)
{
  cn_api_t *api = ctx;
  size_t n = api->n_pending;
  cn_err *errs = calloc(n ? n : 1, sizeof *errs);
  uint8_t **receipts = calloc(n ? n : 1, sizeof *receipts);
  size_t *rlens = calloc(n ? n : 1, sizeof *rlens);
  char (*msgs)[256] = calloc(n ? n : 1, sizeof *msgs);
  int committed = 0;

  api->n_pending = 0;
  if (!errs || !receipts || !rlens || !msgs || cn_node_batch_begin(api->node) != 0) {
    /* cannot batch: one transaction each */
    for (size_t i = 0; i < n; i++) {
      records_apply_one(api, api->pending[i].req);
      cn_req_free(api->pending[i].req);
    }
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    size_t len = 0;
    const uint8_t *body = cn_req_body(api->pending[i].req, &len);
    errs[i] = cn_node_submit(api->node, body, len, &receipts[i], &rlens[i], msgs[i], sizeof msgs[i]);
  }
  committed = cn_node_batch_end(api->node) == 0;
  api->batches++;
  api->batched += n;
  for (size_t i = 0; i < n; i++) {
    cn_req_t *r = api->pending[i].req;
    if (errs[i] == CN_OK && committed)
      reply_message(r, 200, &councilnet__envelope__descriptor, receipts[i], rlens[i]);
    else if (errs[i] == CN_OK)
      reply_error(r, CN_ERR_INTERNAL, "the commit failed; nothing was recorded");
    else
      reply_error(r, errs[i], msgs[i]);
    free(receipts[i]);
    cn_req_free(r);
  }
  if (committed)
    cn_fed_kick(api->fed);
out:
  free(errs);
  free(receipts);
  free(rlens);
  free(msgs);
}

static void route_records(cn_api_t *api, cn_req_t *r)
{
  size_t len = 0;
  cn_req_t *kept;

  (void)cn_req_body(r, &len);
  if (len > CN_RECORD_MAX) {
    reply_error(r, CN_ERR_TOO_LARGE, "record larger than the node accepts");
    return;
  }
  if (!api->flush) {
    records_apply_one(api, r);
    return;
  }
  if (api->n_pending == api->cap_pending) {
    size_t cap = api->cap_pending ? api->cap_pending * 2 : 64;
    cn_api_pending_t *p = realloc(api->pending, cap * sizeof *p);
    if (!p) {
      records_apply_one(api, r);
      return;
    }
    api->pending = p;
    api->cap_pending = cap;
  }
  kept = cn_req_keep(r);
  if (!kept) {
    records_apply_one(api, r);
    return;
  }
  api->pending[api->n_pending++].req = kept;
  cn_task_schedule(api->flush);
}

int cn_api_init(cn_api_t *api, cn_loop_t *loop)
{
  api->flush = cn_task_new(loop, records_flush, api);
  return api->flush ? 0 : -1;
}

void cn_api_close(cn_api_t *api)
{
  if (api->n_pending)
    records_flush(api);
  cn_task_free(api->flush);
  api->flush = NULL;
  free(api->pending);
  api->pending = NULL;
  api->cap_pending = 0;
}

static void route_metrics(cn_api_t *api, cn_req_t *r)
{
  cn_node_stats_t s;
  cn_http_stats_t hs;
  char buf[2048];
  int n;

  memset(&hs, 0, sizeof hs);
  if (api->http)
    cn_http_stats(api->http, &hs);
  cn_node_stats(api->node, &s);
  n = snprintf(buf, sizeof buf,
               "# TYPE councilnet_records_accepted_total counter\n"
               "councilnet_records_accepted_total %" PRIu64 "\n"
               "# TYPE councilnet_records_refused_total counter\n"
               "councilnet_records_refused_total %" PRIu64 "\n"
               "# TYPE councilnet_records_duplicate_total counter\n"
               "councilnet_records_duplicate_total %" PRIu64 "\n"
               "# TYPE councilnet_decisions_total counter\n"
               "councilnet_decisions_total %" PRIu64 "\n"
               "# TYPE councilnet_log_seq gauge\n"
               "councilnet_log_seq %" PRIu64 "\n"
               "# TYPE councilnet_roll gauge\n"
               "councilnet_roll %" PRIu64 "\n"
               "# TYPE councilnet_http_requests_total counter\n"
               "councilnet_http_requests_total %" PRIu64 "\n"
               "# TYPE councilnet_http_connections gauge\n"
               "councilnet_http_connections %" PRIu64 "\n"
               "# TYPE councilnet_http_connections_refused_total counter\n"
               "councilnet_http_connections_refused_total %" PRIu64 "\n"
               "# TYPE councilnet_http_connections_expired_total counter\n"
               "councilnet_http_connections_expired_total %" PRIu64 "\n"
               "# TYPE councilnet_commit_batches_total counter\n"
               "councilnet_commit_batches_total %" PRIu64 "\n"
               "# TYPE councilnet_commit_batched_records_total counter\n"
               "councilnet_commit_batched_records_total %" PRIu64 "\n",
               s.accepted, s.refused, s.duplicates, s.decisions, s.seq, s.roll, api->requests,
               hs.open, hs.refused, hs.expired, api->batches, api->batched);
  cn_req_reply(r, 200, "text/plain; version=0.0.4", buf, (size_t)n);
}

/* If PATH is PREFIX followed by 64 hex digits, decode them into ID. */
static int path_id(const char *path, const char *prefix, uint8_t id[CN_HASH_BYTES])
{
  size_t plen = strlen(prefix);
  return strncmp(path, prefix, plen) == 0 && cn_hex_decode(id, CN_HASH_BYTES, path + plen) == 0;
}

void cn_api_handle(cn_req_t *r, void *ctx)
{
  cn_api_t *api = ctx;
  const char *path = cn_req_path(r);
  const char *method = cn_req_method(r);
  int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  uint8_t id[CN_HASH_BYTES];
  cn_answer_t a = { NULL, 0, NULL };

  api->requests++;
  if (strcmp(path, "/v1/records") == 0) {
    if (strcmp(method, "POST") != 0)
      reply_error(r, CN_ERR_INVALID, "POST an Envelope to /v1/records");
    else
      route_records(api, r);
    return;
  }
  if (!get) {
    reply_error(r, CN_ERR_NOT_FOUND, "no such route");
    return;
  }
  if (strcmp(path, "/healthz") == 0) {
    cn_req_reply(r, 200, "text/plain", "ok\n", 3);
  } else if (strcmp(path, "/metrics") == 0) {
    route_metrics(api, r);
  } else if (strcmp(path, "/v1/node") == 0) {
    reply_answer(r, cn_node_query_info(api->node, &a), &a);
  } else if (strcmp(path, "/v1/head") == 0) {
    reply_answer(r, cn_node_query_head(api->node, &a), &a);
  } else if (strcmp(path, "/v1/log") == 0) {
    uint64_t after = 0, limit = 1000;
    if (cn_req_query_u64(r, "after", &after) < 0 || cn_req_query_u64(r, "limit", &limit) < 0)
      reply_error(r, CN_ERR_INVALID, "after and limit are non-negative integers");
    else
      reply_answer(r, cn_node_query_log(api->node, after, limit, &a), &a);
  } else if (strcmp(path, "/v1/members") == 0) {
    reply_answer(r, cn_node_query_members(api->node, &a), &a);
  } else if (strcmp(path, "/v1/proposals") == 0) {
    reply_answer(r, cn_node_query_proposals(api->node, &a), &a);
  } else if (path_id(path, "/v1/proposals/", id)) {
    reply_answer(r, cn_node_query_proposal(api->node, id, &a), &a);
  } else if (path_id(path, "/v1/decisions/", id)) {
    reply_answer(r, cn_node_query_decision(api->node, id, &a), &a);
  } else if (path_id(path, "/v1/records/", id)) {
    reply_answer(r, cn_node_query_record(api->node, id, &a), &a);
  } else if (strcmp(path, "/v1/delegates") == 0) {
    reply_answer(r, cn_node_query_delegates(api->node, &a), &a);
  } else if (strcmp(path, "/v1/mandates") == 0) {
    reply_answer(r, cn_node_query_mandates(api->node, &a), &a);
  } else if (strcmp(path, "/v1/recalls") == 0) {
    reply_answer(r, cn_node_query_recalls(api->node, &a), &a);
  } else if (strcmp(path, "/v1/parent/proposals") == 0) {
    reply_answer(r, cn_node_query_parent_proposals(api->node, &a), &a);
  } else if (strcmp(path, "/v1/budget") == 0) {
    reply_answer(r, cn_node_query_rounds(api->node, &a), &a);
  } else if (strncmp(path, "/v1/budget/", 11) == 0 && strlen(path) == 11 + 64 + 3 &&
             strcmp(path + 11 + 64, ".pb") == 0) {
    char hex[65], *text = NULL;
    cn_err err;
    memcpy(hex, path + 11, 64);
    hex[64] = 0;
    if (cn_hex_decode(id, CN_HASH_BYTES, hex) != 0) {
      reply_error(r, CN_ERR_NOT_FOUND, "no such route");
      return;
    }
    err = cn_node_query_round_pb(api->node, id, &text);
    if (err == CN_OK)
      cn_req_reply(r, 200, "text/plain; charset=utf-8", text, strlen(text));
    else
      reply_error(r, err, err == CN_ERR_NOT_FOUND ? "no such round" : "export failed");
    free(text);
  } else if (strcmp(path, "/v1/federation") == 0) {
    reply_answer(r, cn_node_query_federation(api->node, cn_fed_last_error(api->fed), &a), &a);
  } else {
    reply_error(r, CN_ERR_NOT_FOUND, "no such route");
  }
}
