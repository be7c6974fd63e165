/* federation.c: see federation.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/receipt.h"
#include "councilnet/record.h"
#include "federation.h"

#define FED_TICK_MS 20
#define FED_FOLLOW_PAGE 1000
#define FED_TIMEOUT_S 10

struct cn_fed_t {
  cn_loop_t *loop;
  cn_node_t *node;
  cn_fed_config_t cfg;
  cn_peer_t *peer;
  char url[512];
  uint8_t key[CN_PK_BYTES];
  /* up */
  int sending;
  uint64_t row;                     /* outbox row in flight */
  uint8_t row_id[CN_HASH_BYTES];    /* its record id */
  size_t row_len;                   /* its size */
  unsigned attempts;
  uint64_t next_send_ms;
  int empty;                        /* the outbox was empty at the last look */
  uint64_t recheck_ms;              /* when to look again without a kick */
  /* down */
  int following;
  unsigned follow_failures;
  uint64_t next_follow_ms;
  char last_error[256];
};

/* Keep the peer in step with the node's parent setting. */
static int fed_sync_parent(cn_fed_t *f)
{
  char url[512];
  uint8_t key[CN_PK_BYTES];

  if (cn_node_parent(f->node, url, sizeof url, key) != 0)
    return -1;
  if (f->peer && strcmp(url, f->url) == 0 && memcmp(key, f->key, CN_PK_BYTES) == 0)
    return 0;
  if (f->sending || f->following)
    return -1;      /* never free a connection with a request in flight */
  cn_peer_free(f->peer);
  f->peer = cn_peer_new(f->loop, url, FED_TIMEOUT_S);
  if (!f->peer) {
    snprintf(f->last_error, sizeof f->last_error, "bad parent URL %.200s", url);
    return -1;
  }
  snprintf(f->url, sizeof f->url, "%s", url);
  memcpy(f->key, key, CN_PK_BYTES);
  return 0;
}

/* Delay before the next try after ATTEMPTS failures: base * 2^attempts,
 * capped, with jitter in [delay/2, delay] so many children do not retry in
 * step. */
static uint64_t fed_backoff_after(const cn_fed_t *f, unsigned attempts)
{
  uint64_t d = f->cfg.backoff_base_ms;
  for (unsigned i = 0; i < attempts && d < f->cfg.backoff_cap_ms; i++)
    d *= 2;
  if (d > f->cfg.backoff_cap_ms)
    d = f->cfg.backoff_cap_ms;
  return d / 2 + randombytes_uniform((uint32_t)(d / 2 + 1));
}

static uint64_t fed_backoff(const cn_fed_t *f)
{
  return fed_backoff_after(f, f->attempts);
}

/* Is BODY the parent's signed receipt for record ID? */
static int fed_receipt_ok(cn_fed_t *f, const uint8_t *body, size_t len)
{
  Councilnet__Receipt *r = NULL;
  char msg[160];
  int ok;

  if (cn_receipt_open(body, len, f->key, &r, msg, sizeof msg) != CN_OK)
    return 0;
  ok = r->record_id.len == CN_HASH_BYTES &&
       memcmp(r->record_id.data, f->row_id, CN_HASH_BYTES) == 0;
  councilnet__receipt__free_unpacked(r, NULL);
  return ok;
}

/* Refusals the parent will repeat forever: dead-letter them. Others (the
 * parent down, overloaded, or not yet admitting us) are retried. */
static int fed_refusal_is_final(const uint8_t *body, size_t len, char *why, size_t cap,
                                cn_err *code)
{
  Councilnet__Error *e = councilnet__error__unpack(NULL, len, body);
  int final = 1;

  *code = CN_OK;
  if (!e) {
    snprintf(why, cap, "unreadable refusal");
    return 0;
  }
  snprintf(why, cap, "%s: %s", e->name, e->message);
  *code = (cn_err)e->code;
  switch ((cn_err)e->code) {
  case CN_ERR_UNKNOWN_SIGNER:
  case CN_ERR_NOT_MEMBER:
  case CN_ERR_NOT_ADMITTED:        /* the parent has not admitted this council yet */
  case CN_ERR_TOO_EARLY:           /* our clock runs ahead of the parent's, or the
                                    * parent proposal opens within the hour */
  case CN_ERR_RATE_LIMITED:
  case CN_ERR_INTERNAL:
    final = 0;
    break;
  default:
    break;
  }
  councilnet__error__free_unpacked(e, NULL);
  return final;
}

static void fed_drain(cn_fed_t *f);

/* The parent does not know a member of ours (the roll update for them was
 * set aside here, or the parent lost it). Retried as it stands, a recall
 * vote would hold the whole outbox, recalls included, for good: the whole
 * roll goes up first, then the vote and the rest in their order. A full
 * roll is a large record: after one, the next waits 10 minutes by the
 * node's clock, doubling up to a day (kept in the node's store, so a
 * restart does not shorten it), and a vote refused NOT_MEMBER meanwhile
 * goes to the dead letters (kept, shown, resendable): a parent that
 * refuses our roll, or that answers NOT_MEMBER to anything, cannot make us
 * fill our log with rolls. Return 1 if handled, 0 if the row is to be
 * buried, -1 to retry it as any refusal. */
static int fed_not_member(cn_fed_t *f, const char *why)
{
  int rc = cn_node_outbox_refresh_roll(f->node, f->row);

  if (rc == 2)
    return 0;
  if (rc != 0)
    return -1;
  fprintf(stderr, "councild: parent does not know a member (%s); the whole roll goes up "
          "first, then the recall vote and the rest of the outbox\n", why);
  f->attempts = 0;
  f->empty = 0;
  fed_drain(f);
  return 1;
}

static void fed_on_sent(void *ctx, int status, const uint8_t *body, size_t len)
{
  cn_fed_t *f = ctx;
  char why[200];
  cn_err code = CN_OK;
  int refusal = status >= 400 && status < 500 && status != 429, final = 0, nm = -1, too_large = 0;

  f->sending = 0;
  if (status == 200 && fed_receipt_ok(f, body, len)) {
    if (cn_node_outbox_done(f->node, f->row) != 0) {
      f->next_send_ms = cn_loop_now_ms() + fed_backoff(f);
      return;
    }
    f->attempts = 0;
    f->next_send_ms = 0;
    f->last_error[0] = 0;
    f->empty = 0;
    fed_drain(f);          /* next row at once */
    return;
  }
  why[0] = 0;
  if (refusal)
    final = fed_refusal_is_final(body, len, why, sizeof why, &code);
  if (status == 413 && !final && code == CN_OK) {
    /* 413 without an Error of ours: libevent's own, the request larger
     * than the parent's max_body (or max_headers) lets in. The same bytes
     * will not fit while it is so; held, the row would hold the whole
     * outbox, recall votes included. Set aside (and resendable), and the
     * next row waits its backoff, so that a parent set too low for a while
     * does not have the whole outbox set aside at once. */
    snprintf(why, sizeof why, "HTTP 413 without an Error: the parent's max_body (or "
             "max_headers) is below this request (%zu bytes of record)", f->row_len);
    final = 1;
    too_large = 1;
  }
  if (refusal && code == CN_ERR_NOT_MEMBER && (nm = fed_not_member(f, why)) == 1)
    return;
  if (nm == 0) {
    char again[sizeof why];
    snprintf(again, sizeof again, "%.120s, again after the whole roll was sent lately", why);
    memcpy(why, again, sizeof why);
  }
  if (final || nm == 0) {
    fprintf(stderr, "councild: parent refused outbox row %" PRIu64 " for good (%s)\n", f->row, why);
    snprintf(f->last_error, sizeof f->last_error, "parent refused a record: %.200s", why);
    if (cn_node_outbox_bury(f->node, f->row, why) != 0) {
      /* not set aside (the disk?): try the row again later, not at once */
      f->attempts++;
      f->next_send_ms = cn_loop_now_ms() + fed_backoff(f);
      return;
    }
    if (too_large) {
      f->attempts++;
      f->next_send_ms = cn_loop_now_ms() + fed_backoff(f);
      return;
    }
    f->attempts = 0;
    fed_drain(f);
    return;
  }
  if (status == 0)
    snprintf(f->last_error, sizeof f->last_error, "parent unreachable");
  else if (status == 200)
    snprintf(f->last_error, sizeof f->last_error, "parent answered without a valid receipt");
  else if (refusal && why[0])      /* retried: say why, as for a final one */
    snprintf(f->last_error, sizeof f->last_error, "parent refused a record for now: %.200s", why);
  else
    snprintf(f->last_error, sizeof f->last_error, "parent answered %d", status);
  f->attempts++;
  f->next_send_ms = cn_loop_now_ms() + fed_backoff(f);
}

static void fed_drain(cn_fed_t *f)
{
  uint8_t *env = NULL;
  size_t len = 0;
  int rc;

  uint64_t now = cn_loop_now_ms();

  /* An empty outbox is not asked again every tick: whatever queues a
   * record kicks the drain; the recheck is a safety net. */
  if (f->sending || now < f->next_send_ms || (f->empty && now < f->recheck_ms) ||
      fed_sync_parent(f) != 0)
    return;
  rc = cn_node_outbox_first(f->node, &f->row, &env, &len);
  f->empty = rc == 1;
  f->recheck_ms = now + 1000;
  if (rc != 0)
    return;
  /* Never send up a record a power cut could still take back here: the
   * parent would hold what this node no longer has. */
  if (f->cfg.durable && f->cfg.durable(f->cfg.durable_ctx) != 0) {
    free(env);
    f->next_send_ms = cn_loop_now_ms() + fed_backoff(f);
    return;
  }
  cn_crypto_hash(f->row_id, env, len);
  f->row_len = len;
  if (cn_peer_request(f->peer, "POST", "/v1/records", env, len, fed_on_sent, f) == 0)
    f->sending = 1;
  else
    f->next_send_ms = cn_loop_now_ms() + fed_backoff(f);
  free(env);
}

static void fed_follow(cn_fed_t *f);

static void fed_on_page(void *ctx, int status, const uint8_t *body, size_t len)
{
  cn_fed_t *f = ctx;
  size_t applied = 0;
  char err[256];

  f->following = 0;
  f->next_follow_ms = cn_loop_now_ms() + f->cfg.follow_interval_ms;
  if (status != 200) {
    /* the parent is away: poll it less and less often, up to the cap */
    uint64_t wait = fed_backoff_after(f, f->follow_failures++);
    if (wait > f->cfg.follow_interval_ms)
      f->next_follow_ms = cn_loop_now_ms() + wait;
    snprintf(f->last_error, sizeof f->last_error, "parent log: %s",
             status ? "refused" : "parent unreachable");
    return;
  }
  f->follow_failures = 0;
  if (cn_node_follow_apply(f->node, body, len, &applied, err, sizeof err) != 0) {
    fprintf(stderr, "councild: following the parent: %s\n", err);
    snprintf(f->last_error, sizeof f->last_error, "%.200s", err);
    return;
  }
  if (strncmp(f->last_error, "parent log", 10) == 0)
    f->last_error[0] = 0;
  if (applied)
    f->empty = 0;    /* what the parent did may have queued records (recalls) */
  /* Entries came: there may be more at once, also after a page the parent
   * cut short by size (CN_LOG_PAGE_BYTES), so ask again now; an empty page
   * means caught up, and the next look is an interval away. */
  if (applied > 0) {
    f->next_follow_ms = 0;
    fed_follow(f);
  }
}

static void fed_follow(cn_fed_t *f)
{
  char path[96];

  if (f->following || cn_loop_now_ms() < f->next_follow_ms || fed_sync_parent(f) != 0)
    return;
  snprintf(path, sizeof path, "/v1/log?after=%" PRIu64 "&limit=%d",
           cn_node_follow_after(f->node), FED_FOLLOW_PAGE);
  if (cn_peer_request(f->peer, "GET", path, NULL, 0, fed_on_page, f) == 0)
    f->following = 1;
  else
    f->next_follow_ms = cn_loop_now_ms() + f->cfg.follow_interval_ms;
}

static void fed_on_tick(void *ctx)
{
  cn_fed_t *f = ctx;
  fed_drain(f);
  fed_follow(f);
}

cn_fed_t *cn_fed_new(cn_loop_t *l, cn_node_t *n, const cn_fed_config_t *cfg)
{
  cn_fed_t *f = calloc(1, sizeof *f);

  if (!f)
    return NULL;
  f->loop = l;
  f->node = n;
  f->cfg = *cfg;
  if (f->cfg.backoff_base_ms == 0)
    f->cfg.backoff_base_ms = 100;
  if (f->cfg.backoff_cap_ms < f->cfg.backoff_base_ms)
    f->cfg.backoff_cap_ms = f->cfg.backoff_base_ms;
  if (f->cfg.follow_interval_ms == 0)
    f->cfg.follow_interval_ms = 500;
  if (cn_loop_every(l, FED_TICK_MS, fed_on_tick, f) != 0) {
    free(f);
    return NULL;
  }
  return f;
}

void cn_fed_free(cn_fed_t *f)
{
  if (!f)
    return;
  cn_peer_free(f->peer);
  free(f);
}

void cn_fed_kick(cn_fed_t *f)
{
  if (!f)
    return;
  f->empty = 0;
  fed_drain(f);
}

const char *cn_fed_last_error(const cn_fed_t *f)
{
  return f ? f->last_error : "";
}
