/* api.c: HTTP routes -> node calls -> protobuf (or JSON) answers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int records_durable(cn_api_t *api);

/* Apply one record and answer it (no batch, no threads). */
static void records_apply_one(cn_api_t *api, cn_req_t *r)
{
  size_t len = 0, rlen = 0;
  const uint8_t *body = cn_req_body(r, &len);
  uint8_t *receipt = NULL;
  char msg[256];
  cn_err err;

  err = cn_node_submit(api->node, body, len, &receipt, &rlen, msg, sizeof msg);
  /* A duplicate, or a refusal, may rest on a record whose commit is not
   * flushed yet (a batch of the pipeline): answer once it is. */
  if (records_durable(api) != 0) {
    err = CN_ERR_INTERNAL;
    snprintf(msg, sizeof msg, "the disk did not confirm the write; send the record again");
  }
  if (err == CN_OK) {
    reply_message(r, 200, &councilnet__signed_receipt__descriptor, receipt, rlen);
    cn_fed_kick(api->fed);    /* anything it queued for the parent goes now */
  } else {
    reply_error(r, err, msg);
  }
  free(receipt);
}

/* ---- the write pipeline (group commit) ----
 *
 * A record goes through four hands:
 *  1. a worker thread decodes and verifies its envelope (cn_record_open);
 *  2. the loop applies every record verified during one pass in one
 *     transaction and commits it without waiting for the disk;
 *  3. the sync thread makes every commit so far durable (one fdatasync of
 *     the WAL covers all batches committed while the previous one ran);
 *  4. a worker signs the receipts of the batch, once for all of them (a
 *     Merkle batch, receipt.h), and the loop sends them.
 * So the loop itself never verifies, signs or waits for the disk, and a
 * receipt still leaves only after its record is on disk. A refusal of the
 * envelope (step 1) is answered at once; a refusal by what the node holds
 * (step 2) waits for step 3 like a receipt, since it may rest on an
 * earlier record of its batch. */

typedef struct rec_job_t {
  cn_job_t job;             /* first: the pools hand back this */
  cn_api_t *api;
  cn_req_t *req;
  const uint8_t *body;      /* the kept request's copy of the body */
  size_t len;
  cn_record_t rec;
  cn_err err;
  char msg[256];
  cn_node_receipt_t entry;
  uint8_t *receipt;
  size_t rlen;
  int waiting;              /* steps left before the answer: sign, sync */
  uint64_t t_in, t_verified, t_applied, t_committed;   /* us, for /metrics */
  int sync_failed;
  struct rec_job_t *next;   /* in api->pending, api->unsynced, a sync job */
} rec_job_t;

typedef struct sync_job_t {
  cn_job_t job;
  cn_api_t *api;
  rec_job_t *recs;          /* the records this sync makes durable */
  uint64_t batches;         /* api->batches when it started */
  int rc;
} sync_job_t;

static void rec_job_free(rec_job_t *j)
{
  cn_record_close(&j->rec);
  cn_req_free(j->req);
  free(j->receipt);
  j->api->inflight--;
  free(j);
}

static void rec_job_answer_error(rec_job_t *j, cn_err err, const char *msg)
{
  reply_error(j->req, err, msg);
  rec_job_free(j);
}

/* A committed record is answered once its receipt is signed (a worker,
 * right after the commit) and its commit is durable (the sync thread), in
 * whichever order the two finish. */
static void rec_step(rec_job_t *j)
{
  if (--j->waiting > 0)
    return;
  if (j->sync_failed)
    rec_job_answer_error(j, CN_ERR_INTERNAL,
                         "the disk did not confirm the write; send the record again");
  else if (j->err != CN_OK)
    rec_job_answer_error(j, j->err, j->msg);   /* a refusal, now durable */
  else if (!j->receipt)
    rec_job_answer_error(j, CN_ERR_INTERNAL, "cannot sign receipt");
  else {
    cn_api_t *api = j->api;
    uint64_t now = cn_loop_now_us();
    api->stage_us[0] += j->t_verified - j->t_in;
    api->stage_us[1] += j->t_applied - j->t_verified;
    api->stage_us[2] += j->t_committed - j->t_applied;
    api->stage_us[3] += now - j->t_committed;
    api->staged++;
    reply_message(j->req, 200, &councilnet__signed_receipt__descriptor, j->receipt, j->rlen);
    rec_job_free(j);
  }
}

/* 4: sign on a worker, one signature for the batch. */
typedef struct sign_job_t {
  cn_job_t job;
  cn_api_t *api;
  size_t n;
  rec_job_t **recs;
  const cn_node_receipt_t **entries;
  uint8_t **receipts;
  size_t *lens;
} sign_job_t;

static void sign_job_free(sign_job_t *s)
{
  if (!s)
    return;
  free(s->recs);
  free(s->entries);
  free(s->receipts);
  free(s->lens);
  free(s);
}

static void sign_work(cn_job_t *job)
{
  sign_job_t *s = (sign_job_t *)job;
  if (cn_node_receipts_seal(s->api->node, s->entries, s->n, s->receipts, s->lens) != 0)
    return;                 /* each record answers "cannot sign receipt" */
  for (size_t i = 0; i < s->n; i++) {
    s->recs[i]->receipt = s->receipts[i];
    s->recs[i]->rlen = s->lens[i];
  }
}

static void sign_done(cn_job_t *job)
{
  sign_job_t *s = (sign_job_t *)job;
  for (size_t i = 0; i < s->n; i++)
    rec_step(s->recs[i]);
  sign_job_free(s);
}

/* Without memory for a batch job: a record's own job (free since its
 * verification) signs it as a batch of one. */
static void rec_sign_work(cn_job_t *job)
{
  rec_job_t *j = (rec_job_t *)job;
  if (cn_node_receipt_seal(j->api->node, &j->entry, &j->receipt, &j->rlen) != 0)
    j->receipt = NULL;
}

static void rec_signed(cn_job_t *job)
{
  rec_step((rec_job_t *)job);
}

/* The batch's receipts go to a worker as one job. */
static void sign_start(cn_api_t *api, rec_job_t *ok, size_t n)
{
  sign_job_t *s = calloc(1, sizeof *s);
  size_t i = 0;

  if (s) {
    s->recs = calloc(n, sizeof *s->recs);
    s->entries = calloc(n, sizeof *s->entries);
    s->receipts = calloc(n, sizeof *s->receipts);
    s->lens = calloc(n, sizeof *s->lens);
  }
  if (!s || !s->recs || !s->entries || !s->receipts || !s->lens) {
    sign_job_free(s);
    for (rec_job_t *j = ok; j; j = j->next) {
      j->job.work = rec_sign_work;
      j->job.done = rec_signed;
      api->signatures++;
      cn_pool_submit(api->workers, &j->job, 1);
    }
    return;
  }
  for (rec_job_t *j = ok; j; j = j->next, i++) {
    s->recs[i] = j;
    s->entries[i] = &j->entry;
  }
  s->n = n;
  s->api = api;
  api->signatures++;
  s->job.work = sign_work;
  s->job.done = sign_done;
  cn_pool_submit(api->workers, &s->job, 1);
}

static void sync_start(cn_api_t *api);
static void checkpoint_start(cn_api_t *api);
static void records_flush(void *ctx);

/* 3: the sync thread. */
static void sync_work(cn_job_t *job)
{
  sync_job_t *s = (sync_job_t *)job;
  s->rc = cn_node_sync(s->api->node);
}

/* The flush RC covering the records J... and every batch up to BATCHES
 * has ended. */
static void recs_synced(cn_api_t *api, rec_job_t *j, int rc, uint64_t batches)
{
  if (rc == 0 && batches > api->synced)
    api->synced = batches;
  while (j) {
    rec_job_t *next = j->next;
    if (rc != 0)
      j->sync_failed = 1;
    rec_step(j);
    j = next;
  }
}

static void sync_done(cn_job_t *job)
{
  sync_job_t *s = (sync_job_t *)job;
  cn_api_t *api = s->api;

  api->syncing = 0;
  recs_synced(api, s->recs, s->rc, s->batches);
  free(s);
  if (api->pending)
    records_flush(api);
  sync_start(api);          /* whatever is committed and not yet flushed */
  checkpoint_start(api);
  cn_fed_kick(api->fed);    /* what the records queued for the parent goes now */
}

/* Copying the WAL into the database runs on its own thread, beside the
 * syncs, at most one at a time. */
static void checkpoint_work(cn_job_t *job)
{
  cn_api_t *api = ((sync_job_t *)job)->api;
  cn_node_checkpoint(api->node);
}

static void checkpoint_done(cn_job_t *job)
{
  ((sync_job_t *)job)->api->checkpointing = 0;
  free(job);
}

static void checkpoint_start(cn_api_t *api)
{
  sync_job_t *c;

  if (api->checkpointing || !cn_node_checkpoint_due(api->node))
    return;
  c = calloc(1, sizeof *c);
  if (!c)
    return;                 /* the next sync tries again */
  c->api = api;
  c->job.work = checkpoint_work;
  c->job.done = checkpoint_done;
  api->checkpointing = 1;
  cn_pool_submit(api->checkpointer, &c->job, 0);
}

static void sync_start(cn_api_t *api)
{
  sync_job_t *s;

  if (api->syncing || !api->unsynced)
    return;
  s = calloc(1, sizeof *s);
  if (!s) {
    /* no memory for the hand-off: flush here, on the loop */
    rec_job_t *j = api->unsynced;
    api->unsynced = api->unsynced_tail = NULL;
    recs_synced(api, j, cn_node_sync(api->node), api->batches);
    return;
  }
  s->api = api;
  s->recs = api->unsynced;
  s->batches = api->batches;
  api->unsynced = api->unsynced_tail = NULL;
  s->job.work = sync_work;
  s->job.done = sync_done;
  api->syncing = 1;
  cn_pool_submit(api->syncer, &s->job, 0);
}

/* 2: apply every record verified so far in one transaction and commit
 * once. While the sync thread is busy the records wait for it: they would
 * wait for the next sync anyway, and one commit of many records writes far
 * fewer pages than many commits of a few (group commit proper). */
static void records_flush(void *ctx)
{
  cn_api_t *api = ctx;
  rec_job_t *j = api->pending, *ok = NULL, *ok_tail = NULL;
  /* Refused by what the node holds, which may include an earlier record
   * of this very batch (the member's first ballot, say): answered only
   * once the batch is durable. Should its commit or sync fail, that
   * earlier record is gone, and the refusal with it: the sender is told
   * to send again instead (an ALREADY_VOTED for a vote that is not there
   * would be a vote lost). */
  rec_job_t *held = NULL, *held_tail = NULL;
  uint64_t now;
  size_t n = 0;
  int batched;

  if (!j || (api->syncing && !api->closing))
    return;
  api->pending = api->pending_tail = NULL;
  batched = cn_node_batch_begin(api->node) == 0;
  while (j) {
    rec_job_t *next = j->next;
    j->next = NULL;
    j->t_applied = cn_loop_now_us();
    if (j->err != CN_OK) {
      /* the envelope itself: nothing the node holds is involved */
      j->err = cn_node_refuse_open(api->node, j->err, j->msg, sizeof j->msg);
      rec_job_answer_error(j, j->err, j->msg);
      j = next;
      continue;
    }
    /* without a batch, each apply commits and syncs on its own */
    j->err = cn_node_apply(api->node, &j->rec, j->body, j->len, &j->entry, j->msg, sizeof j->msg);
    cn_record_close(&j->rec);
    if (j->err == CN_OK) {
      if (ok_tail)
        ok_tail->next = j;
      else
        ok = j;
      ok_tail = j;
      n++;
    } else {
      /* without a batch too: an apply that commits on its own may have
       * found its sync failed, and what it rests on is not durable */
      if (held_tail)
        held_tail->next = j;
      else
        held = j;
      held_tail = j;
    }
    j = next;
  }
  if (batched) {
    int committed = cn_node_batch_commit(api->node) == 0;
    api->batches++;
    api->batched += n;
    if (!committed) {
      for (j = ok; j; ) {
        rec_job_t *next = j->next;
        rec_job_answer_error(j, CN_ERR_INTERNAL, "the commit failed; nothing was recorded");
        j = next;
      }
      for (j = held; j; ) {
        rec_job_t *next = j->next;
        rec_job_answer_error(j, CN_ERR_INTERNAL,
                             "the commit of its batch failed; send the record again");
        j = next;
      }
      return;
    }
  }
  if (!ok && !held)
    return;
  now = cn_loop_now_us();
  for (j = ok; j; j = j->next) {
    j->t_committed = now;
    j->waiting = 2;         /* signed, and durable */
  }
  for (j = held; j; j = j->next)
    j->waiting = 1;         /* durable */
  if (ok)
    sign_start(api, ok, n);
  if (ok_tail)
    ok_tail->next = held;   /* one list for the sync: receipts, then refusals */
  else
    ok = held;
  if (held_tail)
    ok_tail = held_tail;
  if (api->unsynced_tail)
    api->unsynced_tail->next = ok;
  else
    api->unsynced = ok;
  api->unsynced_tail = ok_tail;
  sync_start(api);
}

/* 1: verify on a worker; back on the loop, wait for the pass to end. */
static void rec_verify_work(cn_job_t *job)
{
  rec_job_t *j = (rec_job_t *)job;
  j->err = cn_record_open(j->body, j->len, &j->rec);
}

static void rec_verified(cn_job_t *job)
{
  rec_job_t *j = (rec_job_t *)job;
  cn_api_t *api = j->api;

  j->t_verified = cn_loop_now_us();
  j->next = NULL;
  if (api->pending_tail)
    api->pending_tail->next = j;
  else
    api->pending = j;
  api->pending_tail = j;
  cn_task_schedule(api->flush);
}

static void route_records(cn_api_t *api, cn_req_t *r)
{
  size_t len = 0;
  rec_job_t *j;

  (void)cn_req_body(r, &len);
  if (len > CN_RECORD_MAX) {
    reply_error(r, CN_ERR_TOO_LARGE, "record larger than the node accepts");
    return;
  }
  if (!api->flush) {
    records_apply_one(api, r);
    return;
  }
  j = calloc(1, sizeof *j);
  if (!j) {
    records_apply_one(api, r);
    return;
  }
  j->req = cn_req_keep(r);
  if (!j->req) {
    free(j);
    records_apply_one(api, r);
    return;
  }
  j->api = api;
  j->t_in = cn_loop_now_us();
  j->body = cn_req_body(j->req, &j->len);
  j->job.work = rec_verify_work;
  j->job.done = rec_verified;
  api->inflight++;
  cn_pool_submit(api->workers, &j->job, 0);
}

/* Reads of the log hand out entries others build on (a child follows its
 * parent's log and verifies the chain): never serve one the disk might
 * still lose. Commits waiting for the sync thread are made durable here. */
static int records_durable(cn_api_t *api)
{
  if (api->synced >= api->batches)
    return cn_node_sync_failed(api->node) ? -1 : 0;
  if (cn_node_sync(api->node) != 0)
    return -1;
  api->synced = api->batches;
  return 0;
}

static unsigned cpus_online(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

int cn_api_init(cn_api_t *api, cn_loop_t *loop, unsigned workers)
{
  api->flush = cn_task_new(loop, records_flush, api);
  api->workers = cn_pool_new(loop, workers ? workers : cpus_online(), "councild-work");
  api->syncer = cn_pool_new(loop, 1, "councild-sync");
  api->checkpointer = cn_pool_new(loop, 1, "councild-ckpt");
  if (!api->flush || !api->workers || !api->syncer || !api->checkpointer) {
    cn_api_close(api);
    return -1;
  }
  return 0;
}

int cn_api_drain(cn_api_t *api)
{
  api->closing = 1;
  for (;;) {
    size_t w, sy;
    if (api->pending) {
      records_flush(api);
      continue;
    }
    if (api->unsynced && !api->syncing) {
      sync_start(api);
      continue;
    }
    if (!api->inflight)
      break;
    /* run what has finished (it may queue more), then wait on a pool
     * that still has work out */
    cn_pool_drain(api->workers, 0);
    cn_pool_drain(api->syncer, 0);
    if (api->pending || (api->unsynced && !api->syncing))
      continue;
    w = api->workers ? cn_pool_pending(api->workers) : 0;
    sy = api->syncer ? cn_pool_pending(api->syncer) : 0;
    if (w)
      cn_pool_drain(api->workers, 1);
    else if (sy)
      cn_pool_drain(api->syncer, 1);
    else if (api->inflight) {
      fprintf(stderr, "councild: BUG: %zu records left in the write pipeline\n", api->inflight);
      api->closing = 0;
      return -1;
    }
  }
  api->closing = 0;
  return 0;
}

int cn_api_close(cn_api_t *api)
{
  int rc = cn_api_drain(api);
  if (api->checkpointer)
    while (cn_pool_drain(api->checkpointer, 1) > 0)
      ;
  cn_pool_free(api->workers);
  cn_pool_free(api->syncer);
  cn_pool_free(api->checkpointer);
  api->workers = api->syncer = api->checkpointer = NULL;
  cn_task_free(api->flush);
  api->flush = NULL;
  return rc;
}

static void route_metrics(cn_api_t *api, cn_req_t *r)
{
  cn_node_stats_t s;
  cn_http_stats_t hs;
  char buf[4096];
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
               "councilnet_commit_batched_records_total %" PRIu64 "\n"
               "# TYPE councilnet_pipeline_records_total counter\n"
               "councilnet_pipeline_records_total %" PRIu64 "\n"
               "# TYPE councilnet_pipeline_seconds_total counter\n"
               "councilnet_pipeline_seconds_total{stage=\"verify\"} %.6f\n"
               "councilnet_pipeline_seconds_total{stage=\"wait_apply\"} %.6f\n"
               "councilnet_pipeline_seconds_total{stage=\"apply_commit\"} %.6f\n"
               "councilnet_pipeline_seconds_total{stage=\"flush_sign\"} %.6f\n"
               "# TYPE councilnet_receipt_signatures_total counter\n"
               "councilnet_receipt_signatures_total %" PRIu64 "\n",
               s.accepted, s.refused, s.duplicates, s.decisions, s.seq, s.roll, api->requests,
               hs.open, hs.refused, hs.expired, api->batches, api->batched, api->staged,
               (double)api->stage_us[0] / 1e6, (double)api->stage_us[1] / 1e6,
               (double)api->stage_us[2] / 1e6, (double)api->stage_us[3] / 1e6, api->signatures);
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
    if (records_durable(api) != 0)
      reply_error(r, CN_ERR_INTERNAL, "the disk did not confirm the log");
    else
      reply_answer(r, cn_node_query_head(api->node, &a), &a);
  } else if (strcmp(path, "/v1/log") == 0) {
    uint64_t after = 0, limit = 1000;
    if (records_durable(api) != 0)
      reply_error(r, CN_ERR_INTERNAL, "the disk did not confirm the log");
    else if (cn_req_query_u64(r, "after", &after) < 0 || cn_req_query_u64(r, "limit", &limit) < 0)
      reply_error(r, CN_ERR_INVALID, "after and limit are integers from 0 to 2^63-1");
    else
      reply_answer(r, cn_node_query_log(api->node, after, limit, &a), &a);
  } else if (strcmp(path, "/v1/members") == 0) {
    reply_answer(r, cn_node_query_members(api->node, &a), &a);
  } else if (strcmp(path, "/v1/proposals") == 0) {
    reply_answer(r, cn_node_query_proposals(api->node, &a), &a);
  } else if (path_id(path, "/v1/proposals/", id)) {
    reply_answer(r, cn_node_query_proposal(api->node, id, &a), &a);
  } else if (path_id(path, "/v1/decisions/", id)) {
    if (records_durable(api) != 0)
      reply_error(r, CN_ERR_INTERNAL, "the disk did not confirm the log");
    else
      reply_answer(r, cn_node_query_decision(api->node, id, &a), &a);
  } else if (path_id(path, "/v1/records/", id)) {
    if (records_durable(api) != 0)
      reply_error(r, CN_ERR_INTERNAL, "the disk did not confirm the log");
    else
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

int cn_api_durable(void *ctx)
{
  return records_durable(ctx);
}
