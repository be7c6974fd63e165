/* node.c: what a council node accepts, and what it answers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/budget.h"
#include "councilnet/log.h"
#include "councilnet/node.h"
#include "councilnet/receipt.h"
#include "councilnet/record.h"
#include "councilnet/rules.h"
#include "councilnet/sortition.h"
#include "arena.h"
#include "store.h"

#define NAME_MAX_LEN 200
#define GROUP_MAX_LEN 64
#define GROUPS_MAX 16
#define FUTURE_SKEW 600          /* seconds a body's created time may run ahead */
#define CN_ROLL_MAX UINT64_C(10000000000)   /* people a child council may claim */
/* Volunteers in one lot: its decision lists them (34 bytes each) in one
 * record of at most CN_RECORD_MAX. */
#define CN_LOT_MAX_VOLUNTEERS 1500
#define FUTURE_RETRY 3600        /* further ahead up to this: TOO_EARLY (retried by a
                                  * child); beyond: INVALID (a broken clock) */
/* A whole roll sent again for a parent's NOT_MEMBER: the next one waits
 * this long, doubling up to a day (cn_node_outbox_refresh_roll). */
#define ROLL_REFRESH_MIN 600u
#define ROLL_REFRESH_MAX 86400u

/* Per-signer rate limit: a token bucket per member key, in a fixed table
 * (a busy key may share a slot with another; both then share the rate). */
#define RATE_SLOTS 4096

typedef struct rate_slot_t {
  uint8_t key[8];
  double tokens;
  uint64_t last_ms;
} rate_slot_t;

struct cn_node_t {
  cn_store_t *store;
  rate_slot_t *rate;             /* NULL: no limit */
  double rate_per_s, rate_burst;
  uint8_t sk[CN_SK_BYTES];
  uint8_t pk[CN_PK_BYTES];
  char *name;
  cn_clock_fn clock;
  void *clock_ctx;
  uint64_t head_seq;             /* committed head, kept in memory */
  uint8_t head_hash[CN_HASH_BYTES];
  uint64_t pend_seq;             /* head including the open transaction's appends */
  uint8_t pend_hash[CN_HASH_BYTES];
  /* Size of each child's forwarded roll, counted once (a recall petition
   * at a parent asks for it with every vote); emptied whenever any roll
   * changes or a transaction rolls back. */
  struct { uint8_t child[CN_PK_BYTES]; uint64_t n; } roll_cache[8];
  size_t n_roll_cache;
  int batch;                     /* inside cn_node_batch_begin/end */
  uint64_t batch_seq;            /* head when the batch began */
  uint64_t batch_now;            /* the clock when the batch began */
  uint8_t batch_hash[CN_HASH_BYTES];
  cn_node_stats_t stats;
  int has_parent;                /* federation: the parent this node reports to */
  int parent_changed;            /* the act being applied set the parent */
  int batch_parent_changed;      /* an act of the open batch set it */
  uint8_t parent_key[CN_PK_BYTES];
  char parent_url[512];
};

/* What a kind handler sees: the opened record, its decoded body, and the
 * seq/time it will get if accepted. */
/* Room a budget_relay needs around the envelope it carries (some 180
 * bytes with the largest varints, hops included). */
#define RELAY_SLACK 256

typedef struct apply_t {
  cn_node_t *n;
  const cn_record_t *rec;
  const uint8_t *buf;            /* the exact envelope bytes received */
  size_t len;
  ProtobufCMessage *body;
  uint64_t seq, now;
  int foreign;                   /* addressed to a child council of ours */
  uint8_t origin[CN_PK_BYTES];   /* that child council */
  char *msg;
  size_t msglen;
} apply_t;

static cn_err refuse(apply_t *a, cn_err err, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static cn_err refuse(apply_t *a, cn_err err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->msg, a->msglen, fmt, ap);
  va_end(ap);
  return err;
}

static cn_err apply_settings(apply_t *a);
static cn_err apply_volunteer(apply_t *a);
static cn_err apply_mandate_draft(apply_t *a);
static cn_err apply_delivery(apply_t *a);
static cn_err apply_recall_vote(apply_t *a);
static cn_err check_selection(apply_t *a, const Councilnet__Proposal *p);
static cn_err check_selection_minimums(apply_t *a, const Councilnet__Proposal *p);
static cn_err apply_parent_set(apply_t *a);
static cn_err apply_outbox_resend(apply_t *a);
static cn_err apply_delegate_ballot(apply_t *a);
static cn_err foreign_roll(apply_t *a);
static cn_err foreign_credential(apply_t *a);
static cn_err foreign_decision(apply_t *a);
static cn_err foreign_delivery(apply_t *a);
static cn_err foreign_recall_vote(apply_t *a);
static cn_err foreign_recall(apply_t *a);
static int roll_update(cn_node_t *n, const uint8_t *key, int added, uint64_t now);
static int outbox_add(cn_node_t *n, const char *kind, const uint8_t *env, size_t len);
static int node_load_parent(cn_node_t *n);
static cn_err apply_budget_round(apply_t *a);
static cn_err apply_budget_ballot(apply_t *a);
static cn_err foreign_budget_mandate(apply_t *a);
static int budget_round_adopt(cn_node_t *n, const uint8_t *env, size_t len, uint64_t seq, int relay,
                              uint32_t depth);
static uint32_t budget_relay_depth(const Councilnet__BudgetRelay *r);
static int budget_close_due(cn_node_t *n, uint64_t now);
static cn_err budget_propose(apply_t *a, const Councilnet__Instruction *in);
static int budget_projects_adopt(cn_node_t *n, const uint8_t *env, size_t len);
static int list_bytes(cn_node_t *n, const uint8_t round[CN_HASH_BYTES],
                      const Councilnet__BudgetRound *r, size_t new_len, uint64_t *bytes);
static int outbox_decision(cn_node_t *n, const uint8_t *proposal);
static int can_stand(cn_node_t *n, const uint8_t key[CN_PK_BYTES]);
static int node_recall(cn_node_t *n, Councilnet__Recall *r, int up, uint8_t recall_id[CN_HASH_BYTES]);
static size_t varint_size(uint64_t v);
static size_t envelope_overhead(const char *kind, size_t body_len);

static uint64_t clock_system(void *ctx)
{
  (void)ctx;
  return (uint64_t)time(NULL);
}

uint64_t cn_node_now(cn_node_t *n)
{
  /* one reading for a whole batch: its records share one transaction, and
   * a clock file (tests, demos, benchmarks) costs a stat() a reading */
  return n->batch ? n->batch_now : n->clock(n->clock_ctx);
}

void cn_node_set_clock(cn_node_t *n, cn_clock_fn fn, void *ctx)
{
  n->clock = fn ? fn : clock_system;
  n->clock_ctx = fn ? ctx : NULL;
}

const uint8_t *cn_node_key(const cn_node_t *n)
{
  return n->pk;
}

const char *cn_node_name(const cn_node_t *n)
{
  return n->name;
}

void cn_node_stats(cn_node_t *n, cn_node_stats_t *out)
{
  uint64_t roll = 0;
  cn_store_roll_count(n->store, &roll);
  *out = n->stats;
  out->seq = n->head_seq;
  out->roll = roll;
}

/* ---- creation and opening ---- */

static void path_join(char *out, size_t cap, const char *dir, const char *file)
{
  snprintf(out, cap, "%s/%s", dir, file);
}

int cn_node_create(const char *dir, const char *name, const uint8_t convener[CN_PK_BYTES],
                   char *err, size_t errlen)
{
  char db_path[4096], key_path[4096];
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  cn_store_t *s = NULL;
  cn_store_key_t k;
  int rc = -1;

  err[0] = 0;
  if (!name || !*name || strlen(name) > NAME_MAX_LEN) {
    snprintf(err, errlen, "a node name of 1 to %d bytes is required", NAME_MAX_LEN);
    return -1;
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "%s: %s", dir, strerror(errno));
    return -1;
  }
  path_join(db_path, sizeof db_path, dir, "node.db");
  path_join(key_path, sizeof key_path, dir, "node.key");
  if (access(db_path, F_OK) == 0 || access(key_path, F_OK) == 0) {
    snprintf(err, errlen, "%s already holds a node", dir);
    return -1;
  }
  cn_crypto_keypair(pk, sk);
  if (cn_keyfile_write(key_path, sk, NULL, err, errlen) != 0)
    goto out;
  if (cn_store_open(db_path, &s, err, errlen) != 0)
    goto out;
  memset(&k, 0, sizeof k);
  memcpy(k.key, convener, CN_PK_BYTES);
  k.name = "convener";
  k.groups = "";
  k.convener = 1;
  if (cn_store_begin(s) != 0 || cn_store_meta_set(s, "name", name, strlen(name)) != 0 ||
      cn_store_meta_set(s, "created", "1", 1) != 0 || cn_store_key_put(s, &k) != 0 ||
      cn_store_commit(s) != 0) {
    snprintf(err, errlen, "%s: %s", db_path, cn_store_errmsg(s));
    goto out;
  }
  rc = 0;
out:
  cn_store_free(s);
  sodium_memzero(sk, sizeof sk);
  if (rc != 0) {
    unlink(db_path);
    unlink(key_path);
  }
  return rc;
}

int cn_node_open(const char *dir, cn_node_t **out, char *err, size_t errlen)
{
  char db_path[4096], key_path[4096];
  cn_node_t *n = calloc(1, sizeof *n);
  uint8_t *name = NULL;
  size_t name_len = 0;
  int rc = -1;

  err[0] = 0;
  *out = NULL;
  if (!n) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  n->clock = clock_system;
  path_join(db_path, sizeof db_path, dir, "node.db");
  path_join(key_path, sizeof key_path, dir, "node.key");
  if (access(db_path, F_OK) != 0) {
    snprintf(err, errlen, "%s: no node here (run councild init first)", dir);
    goto out;
  }
  if (cn_keyfile_read(key_path, n->sk, NULL, NULL, err, errlen) != 0)
    goto out;
  cn_crypto_sk_to_pk(n->pk, n->sk);
  if (cn_store_open(db_path, &n->store, err, errlen) != 0)
    goto out;
  if (cn_store_meta_get(n->store, "name", &name, &name_len) != 0) {
    snprintf(err, errlen, "%s: node name missing", db_path);
    goto out;
  }
  n->name = (char *)name;
  name = NULL;
  if (cn_store_log_head(n->store, &n->head_seq, n->head_hash) != 0 || node_load_parent(n) != 0) {
    snprintf(err, errlen, "%s: cannot read the log head", db_path);
    goto out;
  }
  *out = n;
  n = NULL;
  rc = 0;
out:
  free(name);
  cn_node_free(n);
  return rc;
}

void cn_node_set_rate(cn_node_t *n, double per_second, double burst)
{
  free(n->rate);
  n->rate = NULL;
  if (per_second <= 0)
    return;
  n->rate = calloc(RATE_SLOTS, sizeof *n->rate);
  n->rate_per_s = per_second;
  n->rate_burst = burst > 1 ? burst : 1;
}

static uint64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static rate_slot_t *rate_slot(cn_node_t *n, const uint8_t signer[CN_PK_BYTES])
{
  uint64_t h = 0;
  for (int i = 0; i < 8; i++)
    h = h << 8 | signer[i];
  return &n->rate[h % RATE_SLOTS];
}

/* Take a token for SIGNER; 0 if allowed, -1 if over its rate. */
static int rate_take(cn_node_t *n, const uint8_t signer[CN_PK_BYTES])
{
  rate_slot_t *slot;
  uint64_t now;

  if (!n->rate)
    return 0;
  slot = rate_slot(n, signer);
  now = mono_ms();
  if (memcmp(slot->key, signer, 8) != 0) {
    memcpy(slot->key, signer, 8);
    slot->tokens = n->rate_burst;
    slot->last_ms = now;
  }
  slot->tokens += (double)(now - slot->last_ms) * n->rate_per_s / 1000.0;
  if (slot->tokens > n->rate_burst)
    slot->tokens = n->rate_burst;
  slot->last_ms = now;
  if (slot->tokens < 1.0)
    return -1;
  slot->tokens -= 1.0;
  return 0;
}

/* Give back the token rate_take() took (the act turned out a resend). */
static void rate_refund(cn_node_t *n, const uint8_t signer[CN_PK_BYTES])
{
  rate_slot_t *slot;

  if (!n->rate)
    return;
  slot = rate_slot(n, signer);
  if (memcmp(slot->key, signer, 8) == 0 && (slot->tokens += 1.0) > n->rate_burst)
    slot->tokens = n->rate_burst;
}

void cn_node_free(cn_node_t *n)
{
  if (!n)
    return;
  free(n->rate);
  cn_store_free(n->store);
  free(n->name);
  sodium_memzero(n->sk, sizeof n->sk);
  free(n);
}

/* ---- the log ---- */

/* One act's transaction. Inside a batch it is a savepoint of the batch's
 * transaction, so a refused act rolls back alone. */
static int node_begin(cn_node_t *n)
{
  if ((n->batch ? cn_store_savepoint(n->store) : cn_store_begin(n->store)) != 0)
    return -1;
  n->pend_seq = n->head_seq;
  memcpy(n->pend_hash, n->head_hash, CN_HASH_BYTES);
  return 0;
}

static void node_rollback(cn_node_t *n)
{
  n->n_roll_cache = 0;
  if (n->batch)
    cn_store_rollback_to(n->store);
  else
    cn_store_rollback(n->store);
  if (n->parent_changed) {        /* a parent_set rolled back: the old parent */
    n->parent_changed = 0;
    node_load_parent(n);
  }
  n->pend_seq = n->head_seq;
  memcpy(n->pend_hash, n->head_hash, CN_HASH_BYTES);
}

int cn_node_batch_begin(cn_node_t *n)
{
  if (n->batch || cn_store_begin(n->store) != 0)
    return -1;
  n->batch_now = n->clock(n->clock_ctx);
  n->batch = 1;
  n->batch_seq = n->head_seq;
  memcpy(n->batch_hash, n->head_hash, CN_HASH_BYTES);
  return 0;
}

int cn_node_batch_end(cn_node_t *n)
{
  if (cn_node_batch_commit(n) != 0)
    return -1;
  return cn_store_flush(n->store);
}

int cn_node_sync(cn_node_t *n)
{
  return cn_store_sync(n->store);
}

int cn_node_checkpoint_due(cn_node_t *n)
{
  return cn_store_checkpoint_due(n->store);
}

int cn_node_checkpoint(cn_node_t *n)
{
  return cn_store_checkpoint(n->store);
}

int cn_node_sync_failed(cn_node_t *n)
{
  return cn_store_sync_failed(n->store);
}

int cn_node_batch_commit(cn_node_t *n)
{
  int rc;
  if (!n->batch)
    return -1;
  n->batch = 0;
  rc = cn_store_commit_nosync(n->store);
  if (rc != 0) {
    n->n_roll_cache = 0;
    /* nothing of the batch is on disk: the head goes back, and the parent
     * if a parent_set of the batch changed it */
    if (n->batch_parent_changed)
      node_load_parent(n);
    n->head_seq = n->pend_seq = n->batch_seq;
    memcpy(n->head_hash, n->batch_hash, CN_HASH_BYTES);
    memcpy(n->pend_hash, n->batch_hash, CN_HASH_BYTES);
  }
  n->batch_parent_changed = 0;
  return rc;
}

/* Append a record to the log inside the open transaction, as the entry after
 * the pending head. The committed head moves only at node_commit(). SEQ_OUT
 * and HASH_OUT (either may be NULL) get the new entry's seq and hash.
 * Return 0, 1 if the log holds the record id already (nothing appended), or
 * -1. */
static int node_append(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], const char *kind,
                       const uint8_t signer[CN_PK_BYTES], const uint8_t *env, size_t len,
                       uint64_t now, uint64_t *seq_out, uint8_t hash_out[CN_HASH_BYTES])
{
  cn_store_entry_t e;
  int rc;

  memset(&e, 0, sizeof e);
  e.seq = n->pend_seq + 1;
  memcpy(e.prev, n->pend_hash, CN_HASH_BYTES);
  memcpy(e.record_id, id, CN_HASH_BYTES);
  e.received = now;
  cn_log_entry_hash(e.hash, e.seq, e.prev, id, now);
  e.kind = kind;
  e.envelope = env;
  e.envelope_len = len;
  rc = cn_store_log_append(n->store, &e, signer);
  if (rc != 0)
    return rc;
  n->pend_seq = e.seq;
  memcpy(n->pend_hash, e.hash, CN_HASH_BYTES);
  if (seq_out)
    *seq_out = e.seq;
  if (hash_out)
    memcpy(hash_out, e.hash, CN_HASH_BYTES);
  return 0;
}

static int found_seq(void *ctx, const cn_store_entry_t *e)
{
  *(uint64_t *)ctx = e->seq;
  return 1;
}

/* Say on stderr what the node cannot do, at most once a minute: the acts
 * that fail so are tried again at each close tick. */
static void node_warn(cn_node_t *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void node_warn(cn_node_t *n, const char *fmt, ...)
{
  /* per message (its format), so one recurring failure hides no other */
  static struct { const char *fmt; time_t at; } last[8];
  static unsigned next;
  time_t t = time(NULL);
  va_list ap;
  unsigned i;

  (void)n;
  for (i = 0; i < 8 && last[i].fmt != fmt; i++)
    ;
  if (i < 8 && t - last[i].at < 60)
    return;
  if (i == 8)
    i = next++ % 8;
  last[i].fmt = fmt;
  last[i].at = t;
  va_start(ap, fmt);
  fputs("councild: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
}

/* Seal BODY as KIND with the node key and append it. OUT_ID (may be NULL)
 * gets the record id, SEQ_OUT (may be NULL) its seq. */
static int node_append_own(cn_node_t *n, const char *kind, const ProtobufCMessage *body,
                           uint64_t now, uint8_t out_id[CN_HASH_BYTES], uint64_t *seq_out,
                           uint8_t **env_out, size_t *env_len_out)
{
  uint8_t *env = NULL, id[CN_HASH_BYTES];
  size_t len = 0;
  int rc = -1;

  if (cn_record_seal(kind, body, n->sk, &env, &len) != 0)
    return -1;
  /* A record larger than any node accepts would make the log fail its
   * own verification (and every receipt after it): never logged. */
  if (len > CN_RECORD_MAX) {
    node_warn(n, "a %s of %zu bytes is larger than a record may be (%d); not made", kind, len,
              CN_RECORD_MAX);
    goto out;
  }
  cn_crypto_hash(id, env, len);
  /* The same act made twice in one second is the same record (signatures
   * are deterministic): it is in the log already. */
  {
    uint64_t seq = 0;
    int found = cn_store_log_find(n->store, id, found_seq, &seq);
    if (found < 0 || (found == 1 && node_append(n, id, kind, n->pk, env, len, now, seq_out, NULL) != 0))
      goto out;
    if (found == 0 && seq_out)
      *seq_out = seq;
  }
  if (out_id)
    memcpy(out_id, id, CN_HASH_BYTES);
  if (env_out) {
    *env_out = env;
    *env_len_out = len;
    env = NULL;
  }
  rc = 0;
out:
  free(env);
  return rc;
}

static int node_commit(cn_node_t *n)
{
  if ((n->batch ? cn_store_release(n->store) : cn_store_commit_nosync(n->store)) != 0) {
    node_rollback(n);
    return -1;
  }
  n->head_seq = n->pend_seq;
  memcpy(n->head_hash, n->pend_hash, CN_HASH_BYTES);
  n->batch_parent_changed |= n->batch && n->parent_changed;
  n->parent_changed = 0;
  /* Committed: the head stays even if the flush fails (the rows are in
   * the database); the caller answers an error all the same. */
  return n->batch ? 0 : cn_store_flush(n->store);
}

/* Sign the receipts for COUNT log entries as one batch (receipt.h): one
 * Ed25519 signature however many. Deterministic: the same entries in the
 * same order give the same bytes. Reads only the node's key pair, so any
 * thread may call it while N lives. */
int cn_node_receipts_seal(const cn_node_t *n, const cn_node_receipt_t *const *e, size_t count,
                          uint8_t **out, size_t *out_lens)
{
  uint8_t **leaves = calloc(count ? count : 1, sizeof *leaves);
  size_t *lens = calloc(count ? count : 1, sizeof *lens), i;
  uint64_t created = 0;
  int rc = -1;

  if (!leaves || !lens)
    goto out;
  for (i = 0; i < count; i++) {
    Councilnet__Receipt r = COUNCILNET__RECEIPT__INIT;
    r.node.data = (uint8_t *)n->pk;
    r.node.len = CN_PK_BYTES;
    r.created = e[i]->received;
    r.record_id.data = (uint8_t *)e[i]->record_id;
    r.record_id.len = CN_HASH_BYTES;
    r.seq = e[i]->seq;
    r.entry_hash.data = (uint8_t *)e[i]->entry_hash;
    r.entry_hash.len = CN_HASH_BYTES;
    if (cn_pb_pack(&r.base, &leaves[i], &lens[i]) != 0)
      goto out;
    if (e[i]->received > created)
      created = e[i]->received;
  }
  rc = cn_receipt_seal(n->sk, created, (const uint8_t *const *)leaves, lens, count, out, out_lens);
out:
  for (i = 0; leaves && i < count; i++)
    free(leaves[i]);
  free(leaves);
  free(lens);
  return rc;
}

int cn_node_receipt_seal(const cn_node_t *n, const cn_node_receipt_t *e,
                         uint8_t **out, size_t *out_len)
{
  return cn_node_receipts_seal(n, &e, 1, out, out_len);
}

typedef struct found_entry_t {
  cn_node_receipt_t *out;
  int found;
} found_entry_t;

static int found_receipt(void *ctx, const cn_store_entry_t *e)
{
  found_entry_t *f = ctx;
  memcpy(f->out->record_id, e->record_id, CN_HASH_BYTES);
  f->out->seq = e->seq;
  f->out->received = e->received;
  memcpy(f->out->entry_hash, e->hash, CN_HASH_BYTES);
  f->found = 1;
  return 1;
}

/* ---- kind handlers ---- */

static int bytes_is_key(const ProtobufCBinaryData *b)
{
  return b->len == CN_PK_BYTES;
}

/* Look up the signer; refuse unknown keys. */
static cn_err signer_get(apply_t *a, cn_store_key_t *k)
{
  int rc = cn_store_key_get(a->n->store, a->rec->signer, k);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1)
    return refuse(a, CN_ERR_UNKNOWN_SIGNER, "signer is not known to this node");
  return CN_OK;
}

static cn_err require_convener(apply_t *a)
{
  cn_store_key_t k;
  cn_err err = signer_get(a, &k);
  if (err != CN_OK)
    return err;
  if (!k.convener)
    return refuse(a, CN_ERR_FORBIDDEN, "only a convener may do this");
  return CN_OK;
}

/* Join GROUPS into newline-separated text in BUF after checking them. */
static cn_err groups_join(apply_t *a, char *const *groups, size_t n, char *buf, size_t cap)
{
  size_t used = 0;

  buf[0] = 0;
  if (n > GROUPS_MAX)
    return refuse(a, CN_ERR_INVALID, "at most %d groups", GROUPS_MAX);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(groups[i]);
    if (len == 0 || len > GROUP_MAX_LEN || strpbrk(groups[i], "\n,") != NULL)
      return refuse(a, CN_ERR_INVALID, "group labels are 1 to %d bytes, no commas or newlines",
                    GROUP_MAX_LEN);
    if (used + len + 2 > cap)
      return refuse(a, CN_ERR_INVALID, "too many groups");
    if (i)
      buf[used++] = '\n';
    memcpy(buf + used, groups[i], len + 1);
    used += len;
  }
  return CN_OK;
}

static cn_err apply_member_add(apply_t *a)
{
  Councilnet__MemberAdd *m = (Councilnet__MemberAdd *)a->body;
  char groups[GROUPS_MAX * (GROUP_MAX_LEN + 1) + 1];
  cn_store_key_t k;
  cn_err err;
  int rc;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if (!bytes_is_key(&m->member))
    return refuse(a, CN_ERR_INVALID, "member must be a 32-byte public key");
  if (strlen(m->name) > NAME_MAX_LEN)
    return refuse(a, CN_ERR_INVALID, "name longer than %d bytes", NAME_MAX_LEN);
  if ((err = groups_join(a, m->groups, m->n_groups, groups, sizeof groups)) != CN_OK)
    return err;
  rc = cn_store_key_get(a->n->store, m->member.data, &k);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0 && k.member)
    return refuse(a, CN_ERR_DUPLICATE, "already a member");
  if (rc == 1) {
    memset(&k, 0, sizeof k);
    memcpy(k.key, m->member.data, CN_PK_BYTES);
  }
  k.name = m->name;
  k.groups = groups;
  k.member = 1;
  k.council = m->council;
  k.since = a->seq;
  if (cn_store_key_put(a->n->store, &k) != 0 || roll_update(a->n, m->member.data, 1, a->now) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

static cn_err apply_member_remove(apply_t *a)
{
  Councilnet__MemberRemove *m = (Councilnet__MemberRemove *)a->body;
  cn_store_key_t k;
  cn_err err;
  int rc;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if (!bytes_is_key(&m->member))
    return refuse(a, CN_ERR_INVALID, "member must be a 32-byte public key");
  rc = cn_store_key_get(a->n->store, m->member.data, &k);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1 || !k.member)
    return refuse(a, CN_ERR_NOT_FOUND, "not a member");
  k.member = 0;
  if (cn_store_key_put(a->n->store, &k) != 0 || roll_update(a->n, m->member.data, 0, a->now) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

static cn_err apply_role_set(apply_t *a)
{
  Councilnet__RoleSet *m = (Councilnet__RoleSet *)a->body;
  cn_store_key_t k;
  uint64_t conveners = 0;
  cn_err err;
  int rc;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if (!bytes_is_key(&m->key))
    return refuse(a, CN_ERR_INVALID, "key must be a 32-byte public key");
  rc = cn_store_key_get(a->n->store, m->key.data, &k);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1) {
    memset(&k, 0, sizeof k);
    memcpy(k.key, m->key.data, CN_PK_BYTES);
    k.name = "";
    k.groups = "";
    k.since = a->seq;
  }
  if (k.convener && !m->convener) {
    if (cn_store_convener_count(a->n->store, &conveners) != 0)
      return refuse(a, CN_ERR_INTERNAL, "database error");
    if (conveners <= 1)
      return refuse(a, CN_ERR_INVALID, "the last convener cannot be withdrawn");
  }
  k.clerk = m->clerk;
  k.convener = m->convener;
  if (cn_store_key_put(a->n->store, &k) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

static cn_err apply_proposal(apply_t *a)
{
  Councilnet__Proposal *p = (Councilnet__Proposal *)a->body;
  cn_store_proposal_t row;
  cn_store_key_t k;
  const char *why = NULL;
  cn_err err;

  if ((err = signer_get(a, &k)) != CN_OK)
    return err;
  if (!k.member && !k.convener)
    return refuse(a, CN_ERR_NOT_MEMBER, "only members and conveners may propose");
  if (cn_rules_check_proposal(p, &why) != 0)
    return refuse(a, CN_ERR_INVALID, "%s", why ? why : "malformed proposal");
  if (p->closes <= a->now)
    return refuse(a, CN_ERR_WINDOW_CLOSED, "the window closes in the past");
  if (p->selection && (err = check_selection(a, p)) != CN_OK)
    return err;
  if (p->selection && !k.convener && (err = check_selection_minimums(a, p)) != CN_OK)
    return err;
  memset(&row, 0, sizeof row);
  memcpy(row.id, a->rec->id, CN_HASH_BYTES);
  row.seq = a->seq;
  memcpy(row.author, a->rec->signer, CN_PK_BYTES);
  row.opens = p->opens;
  row.closes = p->closes;
  row.body = a->rec->body;
  row.body_len = a->rec->body_len;
  if (cn_store_proposal_put(a->n->store, &row) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

/* Shared by ballot and paper_ballot: VOTER votes, PAPER says which channel. */
static cn_err apply_vote(apply_t *a, const uint8_t voter[CN_PK_BYTES], int paper)
{
  Councilnet__Ballot *b = (Councilnet__Ballot *)a->body;
  Councilnet__Proposal *p = NULL;
  cn_store_proposal_t prop;
  cn_store_ballot_t old, row;
  cn_store_key_t k;
  char choices[64 * 4 + 1];
  size_t used = 0;
  cn_err err = CN_ERR_INTERNAL;
  int rc;

  rc = cn_store_key_get(a->n->store, voter, &k);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1 && !paper)
    return refuse(a, CN_ERR_UNKNOWN_SIGNER, "signer is not known to this node");
  if (rc == 1 || !k.member)
    return refuse(a, CN_ERR_NOT_MEMBER, "the voter is not a member");
  if (b->proposal.len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "proposal must be a 32-byte record id");
  rc = cn_store_proposal_get_light(a->n->store, b->proposal.data, &prop);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1)
    return refuse(a, CN_ERR_NOT_FOUND, "no such proposal");
  if (prop.closed || a->now < prop.opens || a->now >= prop.closes)
    return refuse(a, CN_ERR_WINDOW_CLOSED, "the proposal is not open for voting");
  p = (Councilnet__Proposal *)cn_pb_unpack_strict(&councilnet__proposal__descriptor,
                                                  prop.body, prop.body_len);
  if (!p)
    return refuse(a, CN_ERR_INTERNAL, "stored proposal unreadable");
  if (p->selection && p->selection->method == COUNCILNET__SELECTION_METHOD__BY_LOT) {
    err = refuse(a, CN_ERR_INVALID, "a selection by lot takes volunteers, not ballots");
    goto out;
  }
  if (cn_rules_check_choices(p, b->choices, b->n_choices) != 0) {
    err = refuse(a, CN_ERR_INVALID, "choices do not fit the proposal's options");
    goto out;
  }
  choices[0] = 0;
  for (size_t i = 0; i < b->n_choices; i++)
    used += (size_t)snprintf(choices + used, sizeof choices - used, "%s%u", i ? "," : "",
                             b->choices[i]);
  memset(&row, 0, sizeof row);
  memcpy(row.member, voter, CN_PK_BYTES);
  row.seq = a->seq;
  row.choices = choices;
  row.paper = paper;
  if (p->rule && p->rule->replace)
    rc = cn_store_ballot_put(a->n->store, b->proposal.data, &row);
  else if ((rc = cn_store_ballot_add(a->n->store, b->proposal.data, &row)) == 1) {
    /* one insert that finds the earlier ballot, not a lookup first */
    if (cn_store_ballot_get(a->n->store, b->proposal.data, voter, &old) != 0)
      goto out;
    err = refuse(a, CN_ERR_ALREADY_VOTED, "the member has already voted (%s ballot, seq %" PRIu64 ")",
                 old.paper ? "paper" : "online", old.seq);
    goto out;
  }
  if (rc != 0)
    goto out;
  err = CN_OK;
out:
  if (err == CN_ERR_INTERNAL && a->msg[0] == 0)
    refuse(a, CN_ERR_INTERNAL, "database error");
  protobuf_c_message_free_unpacked(&p->base, NULL);
  return err;
}

static cn_err apply_ballot(apply_t *a)
{
  Councilnet__Ballot *b = (Councilnet__Ballot *)a->body;
  if (b->member.len != 0)
    return refuse(a, CN_ERR_INVALID, "an online ballot does not name a member");
  return apply_vote(a, a->rec->signer, 0);
}

static cn_err apply_paper_ballot(apply_t *a)
{
  Councilnet__Ballot *b = (Councilnet__Ballot *)a->body;
  cn_store_key_t k;
  cn_err err = signer_get(a, &k);

  if (err != CN_OK)
    return err;
  if (!k.clerk)
    return refuse(a, CN_ERR_FORBIDDEN, "only a clerk may enter paper ballots");
  if (!bytes_is_key(&b->member))
    return refuse(a, CN_ERR_INVALID, "a paper ballot names the member");
  return apply_vote(a, b->member.data, 1);
}

typedef struct kind_t {
  const char *name;
  const ProtobufCMessageDescriptor *desc;
  cn_err (*apply)(apply_t *a);     /* addressed to this node; NULL: node-made only */
  cn_err (*foreign)(apply_t *a);   /* a child council's record, forwarded up */
} kind_t;

/* Acts of members (not of conveners, clerks or councils), which the
 * per-signer rate limit applies to. */
static int kind_is_rated(const char *kind)
{
  static const char *const rated[] = { "ballot", "proposal", "volunteer", "delivery",
                                       "recall_vote", "delegate_ballot", "budget_ballot", NULL };
  for (int i = 0; rated[i]; i++)
    if (strcmp(kind, rated[i]) == 0)
      return 1;
  return 0;
}

static const kind_t kinds[] = {
  { "member_add", &councilnet__member_add__descriptor, apply_member_add, NULL },
  { "member_remove", &councilnet__member_remove__descriptor, apply_member_remove, NULL },
  { "role_set", &councilnet__role_set__descriptor, apply_role_set, NULL },
  { "proposal", &councilnet__proposal__descriptor, apply_proposal, NULL },
  { "ballot", &councilnet__ballot__descriptor, apply_ballot, NULL },
  { "paper_ballot", &councilnet__ballot__descriptor, apply_paper_ballot, NULL },
  { "settings", &councilnet__settings__descriptor, apply_settings, NULL },
  { "volunteer", &councilnet__volunteer__descriptor, apply_volunteer, NULL },
  { "mandate_draft", &councilnet__mandate__descriptor, apply_mandate_draft, NULL },
  { "delivery", &councilnet__delivery__descriptor, apply_delivery, foreign_delivery },
  { "recall_vote", &councilnet__recall_vote__descriptor, apply_recall_vote, foreign_recall_vote },
  { "parent_set", &councilnet__parent_set__descriptor, apply_parent_set, NULL },
  { "outbox_resend", &councilnet__outbox_resend__descriptor, apply_outbox_resend, NULL },
  { "delegate_ballot", &councilnet__delegate_ballot__descriptor, apply_delegate_ballot, NULL },
  { "roll", &councilnet__roll_update__descriptor, NULL, foreign_roll },
  { "credential", &councilnet__credential__descriptor, NULL, foreign_credential },
  { "decision", &councilnet__decision__descriptor, NULL, foreign_decision },
  { "recall", &councilnet__recall__descriptor, NULL, foreign_recall },
  { "budget_round", &councilnet__budget_round__descriptor, apply_budget_round, NULL },
  { "budget_ballot", &councilnet__budget_ballot__descriptor, apply_budget_ballot, NULL },
  { "budget_mandate", &councilnet__budget_mandate__descriptor, NULL, foreign_budget_mandate },
};

static const kind_t *kind_find(const char *name)
{
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i].name, name) == 0)
      return &kinds[i];
  return NULL;
}

/* Every body has `bytes node = 1; uint64 created = 2;`. A body addressed
 * to one of our child councils is that child's record forwarded up: it is
 * accepted only for kinds with a foreign handler. */
static cn_err body_check_address(apply_t *a, const kind_t *kind)
{
  const ProtobufCMessageDescriptor *d = a->body->descriptor;
  const ProtobufCFieldDescriptor *fn = protobuf_c_message_descriptor_get_field_by_name(d, "node");
  const ProtobufCFieldDescriptor *fc = protobuf_c_message_descriptor_get_field_by_name(d, "created");
  const ProtobufCBinaryData *node;
  uint64_t created;

  if (!fn || !fc)
    return refuse(a, CN_ERR_INTERNAL, "kind without node/created");
  node = (const ProtobufCBinaryData *)((const char *)a->body + fn->offset);
  created = *(const uint64_t *)((const char *)a->body + fc->offset);
  if (node->len != CN_PK_BYTES)
    return refuse(a, CN_ERR_WRONG_NODE, "the record does not name its node");
  if (memcmp(node->data, a->n->pk, CN_PK_BYTES) != 0) {
    cn_store_key_t k;
    int rc;
    if (!kind->foreign)
      return refuse(a, CN_ERR_WRONG_NODE, "the record is addressed to another node");
    rc = cn_store_key_get(a->n->store, node->data, &k);
    if (rc < 0)
      return refuse(a, CN_ERR_INTERNAL, "database error");
    /* Only a key admitted as a child council speaks as one: a person
     * member cannot pass their own records off as a council's. */
    if (rc == 1 || !k.member || !k.council)
      return refuse(a, CN_ERR_NOT_ADMITTED,
                    "the record is addressed to a node that is not a child council here");
    a->foreign = 1;
    memcpy(a->origin, node->data, CN_PK_BYTES);
  } else if (!kind->apply) {
    return refuse(a, CN_ERR_FORBIDDEN, "records of kind '%s' are made by a node itself",
                  kind->name);
  }
  if (created == 0)
    return refuse(a, CN_ERR_INVALID, "the record has no creation time");
  /* Not INVALID: the same bytes are fine once this clock catches up (or
   * the sender's is set right), so a child's outbox retries them rather
   * than setting them aside for good. */
  /* Far ahead is a broken clock: final, so a child's outbox sets the row
   * aside instead of holding everything behind it for as long. */
  if (created > a->now + FUTURE_RETRY)
    return refuse(a, CN_ERR_INVALID, "the record is created more than %d s ahead of this "
                  "node's clock: fix the clock that made it", FUTURE_RETRY);
  if (created > a->now + FUTURE_SKEW)
    return refuse(a, CN_ERR_TOO_EARLY, "the record is created more than %d s ahead of this "
                  "node's clock: check the clocks", FUTURE_SKEW);
  return CN_OK;
}

cn_err cn_node_refuse_open(cn_node_t *n, cn_err err, char *msg, size_t msglen)
{
  n->stats.refused++;
  snprintf(msg, msglen, "%s", err == CN_ERR_BAD_SIGNATURE ? "signature does not verify"
           : err == CN_ERR_TOO_LARGE ? "record too large" : "malformed envelope");
  return err;
}

cn_err cn_node_apply(cn_node_t *n, const cn_record_t *rec, const uint8_t *buf, size_t len,
                     cn_node_receipt_t *out, char *msg, size_t msglen)
{
  apply_t a;
  const kind_t *kind;
  uint8_t hash[CN_HASH_BYTES];
  found_entry_t found = { out, 0 };
  cn_err err;
  int rc = -1, dup = 0, rated = -1;

  memset(&a, 0, sizeof a);
  memset(out, 0, sizeof *out);
  a.n = n;
  a.msg = msg;
  a.msglen = msglen;
  msg[0] = 0;
  a.rec = rec;
  kind = kind_find(rec->kind);
  if (!kind) {
    err = refuse(&a, CN_ERR_UNKNOWN_KIND, "this node does not accept records of kind '%s'", rec->kind);
    goto out;
  }
  /* After the signature check, so nobody can spend another key's rate. */
  if (kind_is_rated(rec->kind) && (rated = rate_take(n, rec->signer)) != 0) {
    err = refuse(&a, CN_ERR_RATE_LIMITED, "too many acts from this key; try again shortly");
    goto out;
  }
  a.body = cn_pb_unpack_strict(kind->desc, rec->body, rec->body_len);
  if (!a.body) {
    err = refuse(&a, CN_ERR_BAD_ENCODING, "malformed %s body, or unknown fields", rec->kind);
    goto out;
  }
  a.now = cn_node_now(n);
  a.buf = buf;
  a.len = len;
  if ((err = body_check_address(&a, kind)) != CN_OK)
    goto out;
  if (node_begin(n) != 0) {
    err = refuse(&a, CN_ERR_INTERNAL, "database busy");
    goto out;
  }
  /* The record goes in first, so records it causes (a recall, a mandate)
   * follow it in the log; a refusal rolls all of it back. The log's unique
   * record id finds a record sent again (1): no lookup before, which every
   * new record would pay for. */
  rc = node_append(n, rec->id, rec->kind, rec->signer, buf, len, a.now, &a.seq, hash);
  if (rc != 0)
    err = refuse(&a, CN_ERR_INTERNAL, "database error");
  else
    err = a.foreign ? kind->foreign(&a) : kind->apply(&a);
  if (err != CN_OK) {
    node_rollback(n);
    goto out;
  }
  if (node_commit(n) != 0) {
    err = refuse(&a, CN_ERR_INTERNAL, "commit failed");
    goto out;
  }
  memcpy(out->record_id, rec->id, CN_HASH_BYTES);
  out->seq = a.seq;
  out->received = a.now;
  memcpy(out->entry_hash, hash, CN_HASH_BYTES);
out:
  /* A record sent again answers with the receipt of its first entry,
   * whatever the checks before the log would say of it now: a key over its
   * rate, the node's own record sent back, a child council's record after
   * the council left the roll. Only refusals pay for the lookup; a record
   * that reached the log (rc 0) was new. */
  if (err != CN_OK && rc != 0 &&
      cn_store_log_find(n->store, rec->id, found_receipt, &found) == 0 && found.found) {
    dup = 1;
    err = CN_OK;
    msg[0] = 0;
    if (rated == 0)
      rate_refund(n, rec->signer);    /* a resend spends none of the rate */
  }
  if (dup)
    n->stats.duplicates++;
  if (err == CN_OK && !dup)
    n->stats.accepted++;
  else if (err != CN_OK)
    n->stats.refused++;
  if (a.body)
    protobuf_c_message_free_unpacked(a.body, NULL);
  return err;
}

cn_err cn_node_submit(cn_node_t *n, const uint8_t *buf, size_t len,
                      uint8_t **receipt, size_t *receipt_len, char *msg, size_t msglen)
{
  cn_record_t rec;
  cn_node_receipt_t r;
  cn_err err;

  *receipt = NULL;
  *receipt_len = 0;
  msg[0] = 0;
  err = cn_record_open(buf, len, &rec);
  if (err != CN_OK)
    return cn_node_refuse_open(n, err, msg, msglen);
  err = cn_node_apply(n, &rec, buf, len, &r, msg, msglen);
  cn_record_close(&rec);
  if (err == CN_OK && cn_node_receipt_seal(n, &r, receipt, receipt_len) != 0) {
    snprintf(msg, msglen, "cannot sign receipt");
    err = CN_ERR_INTERNAL;
  }
  return err;
}

/* ---- closing proposals ---- */

typedef struct due_t {
  uint8_t (*ids)[CN_HASH_BYTES];
  size_t n, cap;
} due_t;

static int due_collect(void *ctx, const cn_store_proposal_t *p)
{
  due_t *d = ctx;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    void *ids = realloc(d->ids, cap * sizeof *d->ids);
    if (!ids)
      return 1;
    d->ids = ids;
    d->cap = cap;
  }
  memcpy(d->ids[d->n++], p->id, CN_HASH_BYTES);
  return 0;
}

typedef struct tally_ctx_t {
  cn_arena_t *arena;
  cn_tally_ballot_t *ballots;
  size_t n, cap;
  Councilnet__Contribution **contrib;
  size_t n_contrib, cap_contrib;
  int failed;
} tally_ctx_t;

/* Split "a,b,c"-style TEXT on SEP into arena strings. */
static char **split_text(cn_arena_t *ar, const char *text, char sep, size_t *count)
{
  size_t n = 0, i = 0;
  char **out;
  const char *p;

  *count = 0;
  if (!*text)
    return cn_arena_alloc(ar, sizeof(char *));
  for (p = text; *p; p++)
    n += *p == sep;
  n++;
  out = cn_arena_alloc(ar, n * sizeof *out);
  if (!out)
    return NULL;
  for (p = text; ; ) {
    const char *e = strchr(p, sep);
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char *s = cn_arena_alloc(ar, len + 1);
    if (!s)
      return NULL;
    memcpy(s, p, len);
    out[i++] = s;
    if (!e)
      break;
    p = e + 1;
  }
  *count = i;
  return out;
}

static int tally_collect(void *ctx, const cn_store_ballot_t *b)
{
  tally_ctx_t *t = ctx;
  cn_tally_ballot_t *tb;
  char **parts;
  uint32_t *choices;
  size_t nparts;

  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    void *arr = realloc(t->ballots, cap * sizeof *t->ballots);
    if (!arr)
      goto fail;
    t->ballots = arr;
    t->cap = cap;
  }
  tb = &t->ballots[t->n];
  memset(tb, 0, sizeof *tb);
  parts = split_text(t->arena, b->choices, ',', &nparts);
  choices = cn_arena_alloc(t->arena, (nparts ? nparts : 1) * sizeof *choices);
  if (!parts || !choices)
    goto fail;
  for (size_t i = 0; i < nparts; i++)
    choices[i] = (uint32_t)strtoul(parts[i], NULL, 10);
  tb->choices = choices;
  tb->n_choices = nparts;
  tb->groups = split_text(t->arena, b->groups, '\n', &tb->n_groups);
  if (!tb->groups)
    goto fail;
  tb->paper = b->paper;
  tb->weight = b->weight;
  if (b->has_via) {
    /* A child council's ballot: the decision records its contribution. */
    Councilnet__Contribution *c = cn_arena_alloc(t->arena, sizeof *c);
    if (!c)
      goto fail;
    councilnet__contribution__init(c);
    c->member.data = cn_arena_memdup(t->arena, b->member, CN_PK_BYTES);
    c->member.len = CN_PK_BYTES;
    c->choices = choices;
    c->n_choices = nparts;
    c->weight = b->weight ? b->weight : 1;
    c->via.data = cn_arena_memdup(t->arena, b->via, CN_HASH_BYTES);
    c->via.len = CN_HASH_BYTES;
    if (!c->member.data || !c->via.data)
      goto fail;
    /* doubling: a list grown one by one in the arena took the square of
     * the councils in bytes (400 MB for 10,000) */
    if (t->n_contrib == t->cap_contrib) {
      size_t cap = t->cap_contrib ? t->cap_contrib * 2 : 64;
      Councilnet__Contribution **arr = cn_arena_alloc(t->arena, cap * sizeof *arr);
      if (!arr)
        goto fail;
      if (t->n_contrib)
        memcpy(arr, t->contrib, t->n_contrib * sizeof *arr);
      t->contrib = arr;
      t->cap_contrib = cap;
    }
    t->contrib[t->n_contrib++] = c;
  }
  t->n++;
  return 0;
fail:
  t->failed = 1;
  return 1;
}

/* ---- delegates ---- */

typedef struct node_settings_t {
  uint32_t max_terms;             /* 0: no limit */
  uint32_t recall_permille;       /* recall when votes*1000 > permille*roll */
  int reselect;
  uint64_t reselect_window;
  uint64_t selection_min_window;  /* a member's selection: 0 = no minimum */
  uint32_t selection_min_turnout; /* a member's selection by vote, permille */
  uint64_t term_gap;              /* 0: the longer of the two terms */
} node_settings_t;

/* Until a convener says otherwise, a member's selection stays open a day and
 * needs a tenth of the roll to vote: no one can seat themselves overnight
 * with their own ballot (`council settings set` sends the same defaults). */
#define SELECTION_MIN_WINDOW_DEFAULT 86400u
#define SELECTION_MIN_TURNOUT_DEFAULT 100u

static uint64_t meta_u64(cn_node_t *n, const char *k, uint64_t dflt)
{
  uint8_t *v = NULL;
  size_t len = 0;
  uint64_t x = dflt;

  if (cn_store_meta_get(n->store, k, &v, &len) == 0)
    x = strtoull((char *)v, NULL, 10);
  free(v);
  return x;
}

/* The selection minimums (a member's window and turnout, no quotas on a
 * member's lot, more volunteers than seats in any lot) are off only when
 * both settings are 0. */
static int settings_minimums_on(const node_settings_t *st)
{
  return st->selection_min_window || st->selection_min_turnout;
}

static void settings_get(cn_node_t *n, node_settings_t *st)
{
  st->max_terms = (uint32_t)meta_u64(n, "max_terms", 0);
  st->recall_permille = (uint32_t)meta_u64(n, "recall_permille", 500);
  st->reselect = (int)meta_u64(n, "reselect", 0);
  st->reselect_window = meta_u64(n, "reselect_window", 7 * 86400);
  st->selection_min_window = meta_u64(n, "selection_min_window", SELECTION_MIN_WINDOW_DEFAULT);
  st->selection_min_turnout =
    (uint32_t)meta_u64(n, "selection_min_turnout", SELECTION_MIN_TURNOUT_DEFAULT);
  st->term_gap = meta_u64(n, "term_gap", 0);
}

/* The term number DELEGATE would serve at SEL's parent from its term_start,
 * under settings ST: one more than the latest credential's if that term
 * ended less than the term gap before (or overlaps), else 1. The gap
 * defaults to the longer of the two terms' lengths: counting only touching
 * terms let a one-second pause between two terms start the count again.
 * LATEST gets that credential. Return 0, 1 if DELEGATE has none for that
 * parent, or -1 on a database error. */
static int term_number(cn_node_t *n, const uint8_t delegate[CN_PK_BYTES],
                       const Councilnet__Selection *sel, const node_settings_t *st,
                       uint32_t *term, cn_store_credential_t *latest)
{
  cn_store_credential_t *c = latest;
  uint64_t gap;
  int rc = cn_store_credential_latest(n->store, delegate, sel->parent.data, c);

  if (rc < 0)
    return -1;
  /* By default the longer of the two terms: measured by the new term
   * alone, a one-second term after a short pause restarted the count, and
   * long terms could then follow it back to back. */
  gap = sel->term_end - sel->term_start;
  if (rc == 0 && c->term_end > c->term_start && c->term_end - c->term_start > gap)
    gap = c->term_end - c->term_start;
  if (st->term_gap)
    gap = st->term_gap;
  *term = rc == 0 && (c->term_end >= sel->term_start || sel->term_start - c->term_end < gap)
            ? c->term + 1 : 1;
  return rc;
}

/* Refuse DELEGATE if the selection would give them a term beyond the limit. */
static cn_err check_term_limit(apply_t *a, const uint8_t delegate[CN_PK_BYTES],
                               const Councilnet__Selection *sel)
{
  cn_store_credential_t last;
  node_settings_t st;
  uint32_t term = 0;

  settings_get(a->n, &st);
  if (term_number(a->n, delegate, sel, &st, &term, &last) < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (st.max_terms && term > st.max_terms)
    return refuse(a, CN_ERR_TERM_LIMIT, "this would be consecutive term %u; the limit is %u",
                  term, st.max_terms);
  return CN_OK;
}

/* Issue a credential for DELEGATE from selection SEL (proposal ID). Return
 * 0, 1 if the delegate cannot take the seat (term limit, or already seated
 * for that period), or -1 on error. */
static int issue_credential(cn_node_t *n, const uint8_t id[CN_HASH_BYTES],
                            const Councilnet__Selection *sel, const uint8_t delegate[CN_PK_BYTES],
                            uint64_t now)
{
  Councilnet__Credential c = COUNCILNET__CREDENTIAL__INIT;
  cn_store_credential_t row, last;
  node_settings_t st;
  uint32_t term = 0;
  int rc;

  /* Checked again at close: two selections open at once could otherwise
   * give one person a term beyond the limit, or two seats for one period. */
  settings_get(n, &st);
  rc = term_number(n, delegate, sel, &st, &term, &last);
  if (rc < 0)
    return -1;
  if (st.max_terms && term > st.max_terms)
    return 1;
  if (rc == 0 && !last.recalled && last.term_end > sel->term_start)
    return 1;
  c.node.data = n->pk;
  c.node.len = CN_PK_BYTES;
  c.created = now;
  c.delegate.data = (uint8_t *)delegate;
  c.delegate.len = CN_PK_BYTES;
  c.parent = sel->parent;
  c.term_start = sel->term_start;
  c.term_end = sel->term_end;
  c.selection.data = (uint8_t *)id;
  c.selection.len = CN_HASH_BYTES;
  c.term = term;
  memset(&row, 0, sizeof row);
  {
    /* A delegate of delegates: the credential derives from the one the
     * delegate holds here from a child council, and falls with it. */
    cn_store_credential_t held;
    rc = cn_store_credential_of(n->store, delegate, now, &held);
    if (rc < 0)
      return -1;
    if (rc == 0) {
      row.has_derived = 1;
      memcpy(row.derived_from, held.id, CN_HASH_BYTES);
      c.derived_from.data = row.derived_from;
      c.derived_from.len = CN_HASH_BYTES;
    }
  }
  {
    uint8_t *env = NULL;
    size_t len = 0;
    rc = node_append_own(n, "credential", &c.base, now, row.id, &row.seq, &env, &len);
    if (rc == 0 && n->has_parent && memcmp(sel->parent.data, n->parent_key, CN_PK_BYTES) == 0)
      rc = outbox_add(n, "credential", env, len);
    free(env);
    if (rc != 0)
      return -1;
  }
  memcpy(row.delegate, delegate, CN_PK_BYTES);
  memcpy(row.parent, sel->parent.data, CN_PK_BYTES);
  row.term_start = sel->term_start;
  row.term_end = sel->term_end;
  memcpy(row.selection, id, CN_HASH_BYTES);
  row.term = term;
  return cn_store_credential_put(n->store, &row);
}

typedef struct lot_ctx_t {
  cn_arena_t *arena;
  cn_volunteer_t *v;
  size_t n, cap;
  int failed;
} lot_ctx_t;

static int lot_collect(void *ctx, const cn_store_volunteer_t *vol)
{
  lot_ctx_t *l = ctx;
  cn_volunteer_t *v;

  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    cn_volunteer_t *arr = cn_arena_alloc(l->arena, cap * sizeof *arr);
    if (!arr)
      goto fail;
    if (l->n)
      memcpy(arr, l->v, l->n * sizeof *arr);
    l->v = arr;
    l->cap = cap;
  }
  v = &l->v[l->n];
  memcpy(v->key, vol->member, CN_PK_BYTES);
  v->groups = split_text(l->arena, vol->groups, '\n', &v->n_groups);
  if (!v->groups)
    goto fail;
  l->n++;
  return 0;
fail:
  l->failed = 1;
  return 1;
}

/* Must a lot AUTHOR proposed draw from more volunteers than seats? While
 * the selection minimums are on, yes, unless a convener proposed it:
 * among no more volunteers it is no draw, and a member who proposed a lot
 * and volunteered alone would sit. The node's own reselection after a
 * recall (which may copy a member's lot) is held to it too. A convener's
 * lot seats volunteers unopposed, as an assembly would. The role is the
 * author's at the close, as `council sortition verify` replays it from the
 * log. Return 1, 0 or -1. */
static int lot_needs_more(cn_node_t *n, const node_settings_t *st,
                          const uint8_t author[CN_PK_BYTES])
{
  cn_store_key_t k;
  int rc;

  if (!settings_minimums_on(st))
    return 0;
  rc = cn_store_key_get(n->store, author, &k);
  if (rc < 0)
    return -1;
  return rc == 1 || !k.convener;
}

/* Fill D's selected keys (and for a lot, lot signature, seed and
 * volunteers) for the selection proposal ID by AUTHOR, with arrays from AR.
 * Return 0 or -1. */
static int select_delegates(cn_node_t *n, cn_arena_t *ar, const uint8_t id[CN_HASH_BYTES],
                            const uint8_t author[CN_PK_BYTES], const Councilnet__Proposal *p,
                            Councilnet__Decision *d, uint64_t now)
{
  const Councilnet__Selection *sel = p->selection;
  node_settings_t st;
  uint8_t (*keys)[CN_PK_BYTES] = cn_arena_alloc(ar, (sel->seats + 1) * CN_PK_BYTES);
  size_t n_keys = 0;

  if (!keys)
    return -1;
  settings_get(n, &st);
  if (sel->method == COUNCILNET__SELECTION_METHOD__BY_LOT) {
    lot_ctx_t l;
    cn_quota_t *quotas = cn_arena_alloc(ar, (sel->n_quotas + 1) * sizeof *quotas);
    uint8_t *seed = cn_arena_alloc(ar, CN_HASH_BYTES);
    uint8_t *lot_sig = cn_arena_alloc(ar, CN_SIG_BYTES);

    memset(&l, 0, sizeof l);
    l.arena = ar;
    /* At most one delegate per child council (see apply_volunteer), and
     * only those who could still stand now: a lapsed credential no longer
     * counts, as for a candidate by vote (can_stand). */
    if (!quotas || !seed || !lot_sig ||
        cn_store_volunteer_scan(n->store, id, now, lot_collect, &l) != 0 || l.failed)
      return -1;
    for (size_t i = 0; i < sel->n_quotas; i++) {
      quotas[i].group = sel->quotas[i]->group;
      quotas[i].min_seats = sel->quotas[i]->min_seats;
    }
    /* The head before the decision (the decision entry's prev) is partly
     * chosen by whoever posted the last record before the close, who could
     * try titles offline until the draw favoured them. The node's signature
     * over it cannot be computed by anyone else before this decision, and
     * Ed25519 signs deterministically, so an honest node has exactly one
     * value to give; anyone can check it against the node key. Whoever
     * holds the node key could make other valid signatures (other nonces)
     * and keep the one it likes: acceptable, as a compromised node key is
     * out of scope (SECURITY.md), and such a node signs the decision too. */
    if (cn_sortition_sign_lot(lot_sig, id, n->pend_hash, n->sk) != 0)
      return -1;
    cn_sortition_seed(seed, id, n->pend_hash, lot_sig);
    if (l.n <= sel->seats) {
      int more = lot_needs_more(n, &st, author);
      if (more < 0)
        return -1;
      d->too_few_volunteers = more;
    }
    if (!d->too_few_volunteers &&
        cn_sortition_draw(seed, l.v, l.n, sel->seats, quotas, sel->n_quotas, keys, &n_keys) != 0)
      return -1;
    d->seed.data = seed;
    d->seed.len = CN_HASH_BYTES;
    d->lot_signature.data = lot_sig;
    d->lot_signature.len = CN_SIG_BYTES;
    d->volunteers = cn_arena_alloc(ar, (l.n + 1) * sizeof *d->volunteers);
    if (!d->volunteers)
      return -1;
    cn_sortition_sort(l.v, l.n);
    for (size_t i = 0; i < l.n; i++) {
      d->volunteers[i].data = l.v[i].key;
      d->volunteers[i].len = CN_PK_BYTES;
    }
    d->n_volunteers = l.n;
    d->passed = n_keys > 0;
    d->winner = -1;     /* no option wins a lot; `selected` says who sits */
  } else {
    /* By vote: candidates ranked by votes (ties: lower option index first);
     * quorums must hold; term-limited candidates are passed over. */
    int quorums = d->turnout_held;
    size_t *order = cn_arena_alloc(ar, (d->n_counts + 1) * sizeof *order);
    if (!order)
      return -1;
    for (size_t i = 0; i < d->n_group_quorums; i++)
      quorums = quorums && d->group_quorums[i]->held;
    for (size_t i = 0; i < d->n_counts; i++)
      order[i] = i;
    for (size_t i = 1; i < d->n_counts; i++)
      for (size_t j = i; j > 0 && d->counts[order[j]] > d->counts[order[j - 1]]; j--) {
        size_t t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
    for (size_t i = 0; quorums && i < d->n_counts && n_keys < sel->seats; i++) {
      const ProtobufCBinaryData *cand;
      cn_store_credential_t last;
      uint32_t term = 0;
      if (d->counts[order[i]] == 0 || order[i] >= sel->n_candidates)
        break;
      cand = &sel->candidates[order[i]];
      /* may they still stand, now the vote is over (removed, their child
       * credential recalled)? else the seat goes to the next */
      {
        int ok = can_stand(n, cand->data), dup = 0;
        if (ok < 0)
          return -1;
        for (size_t k = 0; k < n_keys; k++)
          dup |= memcmp(keys[k], cand->data, CN_PK_BYTES) == 0;
        if (!ok || dup)
          continue;
      }
      if (term_number(n, cand->data, sel, &st, &term, &last) < 0)
        return -1;
      if (st.max_terms && term > st.max_terms)
        continue;
      memcpy(keys[n_keys++], cand->data, CN_PK_BYTES);
    }
    d->passed = n_keys > 0;
    d->winner = n_keys > 0 ? (int32_t)order[0] : -1;
  }
  d->selected = cn_arena_alloc(ar, (n_keys + 1) * sizeof *d->selected);
  if (!d->selected)
    return -1;
  for (size_t i = 0; i < n_keys; i++) {
    d->selected[i].data = keys[i];
    d->selected[i].len = CN_PK_BYTES;
  }
  d->n_selected = n_keys;
  return 0;
}

/* A record too large goes in parts, each a run of one repeated message
 * field: the run of ITEMS (N of them, each a message: a Contribution, an
 * ApprovalSet) from FIRST on that goes in one part ends before the index
 * returned. As many as keep the part's body within MAX bytes, HEAD of
 * which its other fields take (at least one item). The field's tag takes
 * one byte (field numbers below 16). Each message begins with its
 * ProtobufCMessage, so an array of them is read as protobuf-c reads
 * repeated message fields. */
static size_t part_end(ProtobufCMessage *const *items, size_t n, size_t first, size_t head, size_t max)
{
  size_t i = first, bytes = head;

  for (; i < n; i++) {
    size_t len = protobuf_c_message_get_packed_size(items[i]);
    size_t add = 1 + varint_size(len) + len;
    if (i > first && bytes + add > max)
      break;
    bytes += add;
  }
  return i;
}

/* Where each part of the N ITEMS ends (part_end), into ENDS (room for N):
 * the number of parts. */
static size_t part_ends(ProtobufCMessage *const *items, size_t n, size_t head, size_t max,
                        size_t *ends)
{
  size_t parts = 0;
  for (size_t first = 0; first < n; first = ends[parts++])
    ends[parts] = part_end(items, n, first, head, max);
  return parts;
}

/* Seal decision D and append it, in the open transaction; REC_ID gets its
 * record id. With all its contributions (D's own list) a decision of some
 * 800 child councils is larger than a record may be: then the
 * contributions go in "contributions" records of their own, parts 0 ..
 * N - 1 appended just before the decision, each within CN_RECORD_MAX, and
 * the decision names them (contribution_records) instead of listing them.
 * A decision that fits is made whole, byte for byte as before. D is as
 * given again on return. Return 0 or -1. */
static int decision_append(cn_node_t *n, Councilnet__Decision *d, uint64_t now,
                           uint8_t rec_id[CN_HASH_BYTES])
{
  Councilnet__DecisionContributions c = COUNCILNET__DECISION_CONTRIBUTIONS__INIT;
  Councilnet__Contribution **all = d->contributions;
  size_t n_all = d->n_contributions, parts = 0, first, head, max;
  size_t *ends = NULL;                            /* where each part ends */
  uint8_t (*ids)[CN_HASH_BYTES] = NULL;
  ProtobufCBinaryData *refs = NULL;
  int rc = -1;

  max = CN_RECORD_MAX - envelope_overhead("decision", CN_RECORD_MAX);
  if (n_all == 0 || protobuf_c_message_get_packed_size(&d->base) <= max)
    return node_append_own(n, "decision", &d->base, now, rec_id, NULL, NULL, NULL);
  ends = calloc(n_all, sizeof *ends);
  ids = calloc(n_all, sizeof *ids);
  refs = calloc(n_all, sizeof *refs);
  if (!ends || !ids || !refs)
    goto out;
  c.node = d->node;
  c.created = d->created;
  c.proposal = d->proposal;
  /* the fields but the contributions, with part numbers as long as they can be */
  c.part = UINT32_MAX;
  c.parts = UINT32_MAX;
  head = protobuf_c_message_get_packed_size(&c.base);
  max = CN_RECORD_MAX - envelope_overhead("contributions", CN_RECORD_MAX);
  parts = part_ends((ProtobufCMessage *const *)all, n_all, head, max, ends);
  first = 0;
  for (size_t k = 0; k < parts; k++) {
    c.part = (uint32_t)k;
    c.parts = (uint32_t)parts;
    c.contributions = all + first;
    c.n_contributions = ends[k] - first;
    first = ends[k];
    if (node_append_own(n, "contributions", &c.base, now, ids[k], NULL, NULL, NULL) != 0)
      goto out;
    refs[k].data = ids[k];
    refs[k].len = CN_HASH_BYTES;
  }
  d->contributions = NULL;
  d->n_contributions = 0;
  d->contribution_records = refs;
  d->n_contribution_records = parts;
  rc = node_append_own(n, "decision", &d->base, now, rec_id, NULL, NULL, NULL);
  d->contributions = all;
  d->n_contributions = n_all;
  d->contribution_records = NULL;
  d->n_contribution_records = 0;
out:
  free(ends);
  free(ids);
  free(refs);
  return rc;
}

/* Tally one proposal and append its node-signed decision (and, for a
 * delegate selection, the credentials), all in one transaction. */
static int node_close_one(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], uint64_t now)
{
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  Councilnet__Proposal *p = NULL;
  cn_store_proposal_t prop;
  tally_ctx_t t;
  uint8_t rec_id[CN_HASH_BYTES];
  uint64_t roll = 0;
  int rc = -1, in_act = 0;

  memset(&t, 0, sizeof t);
  t.arena = cn_arena_new();
  if (!t.arena || node_begin(n) != 0)
    goto out;
  in_act = 1;
  if (cn_store_proposal_get(n->store, id, &prop) != 0 || prop.closed)
    goto out;
  p = (Councilnet__Proposal *)cn_pb_unpack_strict(&councilnet__proposal__descriptor,
                                                  prop.body, prop.body_len);
  if (!p || cn_store_roll_count(n->store, &roll) != 0)
    goto out;
  if (cn_store_ballot_scan(n->store, id, tally_collect, &t) != 0 || t.failed)
    goto out;
  if (p->rule && p->rule->weight_by_roll && cn_store_represented(n->store, &roll) != 0)
    goto out;
  if (cn_rules_tally(p, t.ballots, t.n, roll, &d) != 0)
    goto out;
  /* A lot lists no council ballots (none are taken since; a database
   * from before may hold some): split off into parts they would come
   * between the head the lot signature covers and the decision. */
  if (!p->selection || p->selection->method != COUNCILNET__SELECTION_METHOD__BY_LOT) {
    d.contributions = t.contrib;
    d.n_contributions = t.n_contrib;
  }
  d.node.data = n->pk;
  d.node.len = CN_PK_BYTES;
  d.created = now;
  d.proposal.data = (uint8_t *)id;
  d.proposal.len = CN_HASH_BYTES;
  if (p->selection && select_delegates(n, t.arena, id, prop.author, p, &d, now) != 0)
    goto out;
  if (decision_append(n, &d, now, rec_id) != 0 ||
      cn_store_proposal_set_decision(n->store, id, rec_id) != 0)
    goto out;
  for (size_t i = 0; i < d.n_selected; i++)
    if (issue_credential(n, id, p->selection, d.selected[i].data, now) < 0)
      goto out;
  in_act = 0;                 /* committed, or rolled back by node_commit */
  if (node_commit(n) != 0)
    goto out;
  n->stats.decisions++;
  rc = 0;
out:
  /* Not cn_store_in_transaction(): inside a batch it stays true after our
   * own savepoint is released, and a rollback then would hit the next. */
  if (in_act)
    node_rollback(n);
  d.node.data = NULL;
  d.proposal.data = NULL;
  cn_rules_decision_clear(&d);
  if (p)
    protobuf_c_message_free_unpacked(&p->base, NULL);
  free(t.ballots);
  cn_arena_free(t.arena);
  return rc;
}

int cn_node_close_due(cn_node_t *n)
{
  due_t due = { NULL, 0, 0 };
  uint64_t now = cn_node_now(n);
  int closed = 0, failed = 0;

  if (cn_store_proposal_scan_due(n->store, now, due_collect, &due) != 0) {
    free(due.ids);
    return -1;
  }
  /* One proposal that cannot close must not keep the others from closing. */
  for (size_t i = 0; i < due.n; i++) {
    if (node_close_one(n, due.ids[i], now) != 0)
      failed = 1;
    else
      closed++;
  }
  free(due.ids);
  {
    int b = budget_close_due(n, now);
    if (b < 0)
      failed = 1;
    else
      closed += b;
  }
  return failed ? -1 : closed;
}

/* ---- queries ---- */

static cn_err answer_pack(const ProtobufCMessage *m, cn_answer_t *out)
{
  out->desc = m->descriptor;
  return cn_pb_pack(m, &out->data, &out->len) == 0 ? CN_OK : CN_ERR_INTERNAL;
}

static int node_head_envelope(cn_node_t *n, uint8_t **out, size_t *len)
{
  Councilnet__Head h = COUNCILNET__HEAD__INIT;

  h.node.data = n->pk;
  h.node.len = CN_PK_BYTES;
  h.created = cn_node_now(n);
  h.seq = n->head_seq;
  h.hash.data = n->head_hash;
  h.hash.len = CN_HASH_BYTES;
  return cn_record_seal("head", &h.base, n->sk, out, len);
}

cn_err cn_node_query_head(cn_node_t *n, cn_answer_t *out)
{
  out->desc = &councilnet__envelope__descriptor;
  return node_head_envelope(n, &out->data, &out->len) == 0 ? CN_OK : CN_ERR_INTERNAL;
}

typedef struct list_ctx_t {
  cn_arena_t *arena;
  void **items;
  size_t n, cap;
  int failed;
  cn_node_t *node;
  uint64_t now;
} list_ctx_t;

static int list_push(list_ctx_t *l, void *item)
{
  if (!item) {
    l->failed = 1;
    return -1;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    void **items = cn_arena_alloc(l->arena, cap * sizeof *items);
    if (!items) {
      l->failed = 1;
      return -1;
    }
    if (l->n)
      memcpy(items, l->items, l->n * sizeof *items);
    l->items = items;
    l->cap = cap;
  }
  l->items[l->n++] = item;
  return 0;
}

static int conveners_collect(void *ctx, const cn_store_key_t *k)
{
  list_ctx_t *l = ctx;
  ProtobufCBinaryData *b;

  if (!k->convener)
    return 0;
  b = cn_arena_alloc(l->arena, sizeof *b);
  if (!b)
    return list_push(l, NULL) ? 1 : 1;
  b->data = cn_arena_memdup(l->arena, k->key, CN_PK_BYTES);
  b->len = CN_PK_BYTES;
  return list_push(l, b->data ? b : NULL) ? 1 : 0;
}

cn_err cn_node_query_info(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__NodeInfo info = COUNCILNET__NODE_INFO__INIT;
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&l, 0, sizeof l);
  l.arena = cn_arena_new();
  if (!l.arena || cn_store_key_scan(n->store, conveners_collect, &l) != 0 || l.failed)
    goto out;
  info.key.data = n->pk;
  info.key.len = CN_PK_BYTES;
  info.name = n->name;
  info.n_conveners = l.n;
  info.conveners = cn_arena_alloc(l.arena, (l.n + 1) * sizeof *info.conveners);
  if (!info.conveners)
    goto out;
  for (size_t i = 0; i < l.n; i++)
    info.conveners[i] = *(ProtobufCBinaryData *)l.items[i];
  info.seq = n->head_seq;
  info.head.data = n->head_hash;
  info.head.len = CN_HASH_BYTES;
  info.time = cn_node_now(n);
  if (cn_store_roll_count(n->store, &info.roll) != 0)
    goto out;
  info.version = "councilnet/1";
  err = answer_pack(&info.base, out);
out:
  cn_arena_free(l.arena);
  return err;
}

typedef struct log_ctx_t {
  list_ctx_t l;
  size_t bytes;             /* envelope bytes collected */
} log_ctx_t;

static int log_collect(void *ctx, const cn_store_entry_t *e)
{
  log_ctx_t *lc = ctx;
  list_ctx_t *l = &lc->l;
  Councilnet__LogEntry *le;

  if (l->n > 0 && lc->bytes + e->envelope_len > CN_LOG_PAGE_BYTES)
    return 1;               /* the page is full; the reader asks for the next */
  lc->bytes += e->envelope_len;
  le = cn_arena_alloc(l->arena, sizeof *le);
  if (!le)
    return list_push(l, NULL) ? 1 : 1;
  councilnet__log_entry__init(le);
  le->seq = e->seq;
  le->prev.data = cn_arena_memdup(l->arena, e->prev, CN_HASH_BYTES);
  le->prev.len = CN_HASH_BYTES;
  le->record_id.data = cn_arena_memdup(l->arena, e->record_id, CN_HASH_BYTES);
  le->record_id.len = CN_HASH_BYTES;
  le->received = e->received;
  le->hash.data = cn_arena_memdup(l->arena, e->hash, CN_HASH_BYTES);
  le->hash.len = CN_HASH_BYTES;
  le->envelope.data = cn_arena_memdup(l->arena, e->envelope, e->envelope_len);
  le->envelope.len = e->envelope_len;
  if (!le->prev.data || !le->record_id.data || !le->hash.data || !le->envelope.data)
    return list_push(l, NULL) ? 1 : 1;
  return list_push(l, le) ? 1 : 0;
}

cn_err cn_node_query_log(cn_node_t *n, uint64_t after, uint64_t limit, cn_answer_t *out)
{
  Councilnet__LogPage page = COUNCILNET__LOG_PAGE__INIT;
  Councilnet__Envelope *head = NULL;
  uint8_t *head_bytes = NULL;
  size_t head_len = 0;
  log_ctx_t lc;
  list_ctx_t *l = &lc.l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&lc, 0, sizeof lc);
  if (limit == 0 || limit > CN_LOG_PAGE_MAX)
    limit = CN_LOG_PAGE_MAX;
  l->arena = cn_arena_new();
  if (!l->arena || cn_store_log_scan(n->store, after, limit, log_collect, &lc) != 0 || l->failed)
    goto out;
  if (node_head_envelope(n, &head_bytes, &head_len) != 0)
    goto out;
  head = councilnet__envelope__unpack(NULL, head_len, head_bytes);
  if (!head)
    goto out;
  page.n_entries = l->n;
  page.entries = (Councilnet__LogEntry **)l->items;
  page.head = head;
  err = answer_pack(&page.base, out);
out:
  if (head)
    councilnet__envelope__free_unpacked(head, NULL);
  free(head_bytes);
  cn_arena_free(l->arena);
  return err;
}

static int member_collect(void *ctx, const cn_store_key_t *k)
{
  list_ctx_t *l = ctx;
  Councilnet__Member *m = cn_arena_alloc(l->arena, sizeof *m);
  size_t ng = 0;

  if (!m)
    return list_push(l, NULL) ? 1 : 1;
  councilnet__member__init(m);
  m->key.data = cn_arena_memdup(l->arena, k->key, CN_PK_BYTES);
  m->key.len = CN_PK_BYTES;
  m->name = cn_arena_strdup(l->arena, k->name);
  m->groups = split_text(l->arena, k->groups, '\n', &ng);
  m->n_groups = ng;
  m->member = k->member;
  m->clerk = k->clerk;
  m->convener = k->convener;
  m->council = k->council;
  m->since = k->since;
  if (!m->key.data || !m->name || !m->groups)
    return list_push(l, NULL) ? 1 : 1;
  return list_push(l, m) ? 1 : 0;
}

cn_err cn_node_query_members(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__MemberList list = COUNCILNET__MEMBER_LIST__INIT;
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&l, 0, sizeof l);
  l.arena = cn_arena_new();
  if (!l.arena || cn_store_key_scan(n->store, member_collect, &l) != 0 || l.failed)
    goto out;
  list.n_members = l.n;
  list.members = (Councilnet__Member **)l.items;
  err = answer_pack(&list.base, out);
out:
  cn_arena_free(l.arena);
  return err;
}

static ProtobufCMessage *log_body(cn_node_t *n, cn_arena_t *ar, const uint8_t id[CN_HASH_BYTES],
                                  const ProtobufCMessageDescriptor *desc);

static void *arena_pb_alloc(void *ad, size_t size)
{
  return cn_arena_alloc(ad, size);
}

static void arena_pb_free(void *ad, void *p)
{
  (void)ad;
  (void)p;
}

static int proposal_view(list_ctx_t *l, const cn_store_proposal_t *p)
{
  ProtobufCAllocator alloc = { arena_pb_alloc, arena_pb_free, l->arena };
  Councilnet__ProposalView *v = cn_arena_alloc(l->arena, sizeof *v);

  if (!v)
    return list_push(l, NULL);
  councilnet__proposal_view__init(v);
  v->id.data = cn_arena_memdup(l->arena, p->id, CN_HASH_BYTES);
  v->id.len = CN_HASH_BYTES;
  v->seq = p->seq;
  v->author.data = cn_arena_memdup(l->arena, p->author, CN_PK_BYTES);
  v->author.len = CN_PK_BYTES;
  v->proposal = councilnet__proposal__unpack(&alloc, p->body_len, p->body);
  v->state = p->closed ? COUNCILNET__PROPOSAL_STATE__CLOSED
             : l->now < p->opens ? COUNCILNET__PROPOSAL_STATE__UPCOMING
             : COUNCILNET__PROPOSAL_STATE__OPEN;
  v->ballots = p->ballots;
  if (p->has_decision) {
    uint8_t decision_id[CN_HASH_BYTES];
    memcpy(decision_id, p->decision, CN_HASH_BYTES);
    v->decision = (Councilnet__Decision *)log_body(l->node, l->arena, decision_id,
                                                   &councilnet__decision__descriptor);
    if (!v->decision)
      return list_push(l, NULL);
  }
  if (!v->id.data || !v->author.data || !v->proposal)
    return list_push(l, NULL);
  return list_push(l, v);
}

static int proposal_collect(void *ctx, const cn_store_proposal_t *p)
{
  return proposal_view(ctx, p) ? 1 : 0;
}

cn_err cn_node_query_proposals(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__ProposalList list = COUNCILNET__PROPOSAL_LIST__INIT;
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&l, 0, sizeof l);
  l.node = n;
  l.now = cn_node_now(n);
  l.arena = cn_arena_new();
  if (!l.arena || cn_store_proposal_scan(n->store, proposal_collect, &l) != 0 || l.failed)
    goto out;
  list.n_proposals = l.n;
  list.proposals = (Councilnet__ProposalView **)l.items;
  err = answer_pack(&list.base, out);
out:
  cn_arena_free(l.arena);
  return err;
}

cn_err cn_node_query_proposal(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], cn_answer_t *out)
{
  cn_store_proposal_t p;
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;
  int rc;

  memset(&l, 0, sizeof l);
  l.node = n;
  l.now = cn_node_now(n);
  l.arena = cn_arena_new();
  if (!l.arena)
    goto out;
  rc = cn_store_proposal_get(n->store, id, &p);
  if (rc == 1) {
    err = CN_ERR_NOT_FOUND;
    goto out;
  }
  if (rc != 0 || proposal_view(&l, &p) != 0)
    goto out;
  err = answer_pack(l.items[0], out);
out:
  cn_arena_free(l.arena);
  return err;
}

cn_err cn_node_query_decision(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], cn_answer_t *out)
{
  cn_store_proposal_t p;
  uint8_t decision_id[CN_HASH_BYTES];
  int rc = cn_store_proposal_get_light(n->store, id, &p);

  if (rc == 1 || (rc == 0 && !p.has_decision))
    return CN_ERR_NOT_FOUND;
  if (rc != 0)
    return CN_ERR_INTERNAL;
  memcpy(decision_id, p.decision, CN_HASH_BYTES);
  /* the decision envelope, exact bytes, as any logged record */
  return cn_node_query_record(n, decision_id, out);
}

/* ---- delegates: settings, selections, mandates, deliveries, recall ---- */

static cn_err apply_settings(apply_t *a)
{
  Councilnet__Settings *m = (Councilnet__Settings *)a->body;
  char v[32];
  cn_err err;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if (m->recall_threshold_permille > 1000 || m->max_terms > 1000 ||
      m->selection_min_turnout_permille > 1000)
    return refuse(a, CN_ERR_INVALID, "recall threshold and selection turnout are 0..1000 "
                  "permille, max terms 0..1000");
#define SET(key, val)                                                         \
  do {                                                                        \
    snprintf(v, sizeof v, "%llu", (unsigned long long)(val));                 \
    if (cn_store_meta_set(a->n->store, key, v, strlen(v)) != 0)               \
      return refuse(a, CN_ERR_INTERNAL, "database error");                    \
  } while (0)
  SET("max_terms", m->max_terms);
  SET("recall_permille", m->recall_threshold_permille ? m->recall_threshold_permille : 500);
  SET("reselect", m->reselect_on_recall);
  SET("reselect_window", m->reselect_window ? m->reselect_window : 7 * 86400);
  SET("selection_min_window", m->selection_min_window);
  SET("selection_min_turnout", m->selection_min_turnout_permille);
  SET("term_gap", m->term_gap);
#undef SET
  return CN_OK;
}

static cn_err check_selection(apply_t *a, const Councilnet__Proposal *p)
{
  const Councilnet__Selection *sel = p->selection;
  cn_err err;

  if (sel->seats < 1 || sel->seats > 64)
    return refuse(a, CN_ERR_INVALID, "a selection has 1 to 64 seats");
  if (sel->parent.len != CN_PK_BYTES)
    return refuse(a, CN_ERR_INVALID, "a selection names the parent node's key");
  if (sel->term_start >= sel->term_end)
    return refuse(a, CN_ERR_INVALID, "the term must start before it ends");
  if (sel->method == COUNCILNET__SELECTION_METHOD__BY_VOTE) {
    if (p->option_kind == COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN ||
        sel->n_candidates != p->n_options || sel->n_quotas)
      return refuse(a, CN_ERR_INVALID, "a selection by vote lists one candidate key per option");
    for (size_t i = 0; i < sel->n_candidates; i++) {
      int rc;
      if (sel->candidates[i].len != CN_PK_BYTES)
        return refuse(a, CN_ERR_INVALID, "candidate %zu is not a key", i);
      for (size_t j = 0; j < i; j++)
        if (memcmp(sel->candidates[j].data, sel->candidates[i].data, CN_PK_BYTES) == 0)
          return refuse(a, CN_ERR_INVALID, "candidate %zu is candidate %zu again", i, j);
      rc = can_stand(a->n, sel->candidates[i].data);
      if (rc < 0)
        return refuse(a, CN_ERR_INTERNAL, "database error");
      if (rc == 0)
        return refuse(a, CN_ERR_NOT_MEMBER, "candidate %zu is neither a member nor a delegate here", i);
      if ((err = check_term_limit(a, sel->candidates[i].data, sel)) != CN_OK)
        return err;
    }
  } else if (sel->method == COUNCILNET__SELECTION_METHOD__BY_LOT) {
    if (sel->n_candidates)
      return refuse(a, CN_ERR_INVALID, "a selection by lot has volunteers, not candidates");
    for (size_t i = 0; i < sel->n_quotas; i++)
      if (!sel->quotas[i]->group[0] || sel->quotas[i]->min_seats > sel->seats)
        return refuse(a, CN_ERR_INVALID, "quota %zu: a group and at most `seats` seats", i);
  } else {
    return refuse(a, CN_ERR_INVALID, "unknown selection method");
  }
  return CN_OK;
}

/* A selection a member proposes must give the assembly time to notice it,
 * by vote a turnout quorum, and by lot no quotas, so that no one seats
 * themselves with their own ballot in a window nobody saw. The quota rule
 * is lifted with the minimums (both 0). Conveners (who may already admit and
 * remove members) are trusted with shorter ones, as is the node's own
 * reselection after a recall. */
static cn_err check_selection_minimums(apply_t *a, const Councilnet__Proposal *p)
{
  node_settings_t st;
  uint64_t from = p->opens > a->now ? p->opens : a->now;
  uint32_t turnout = p->rule ? p->rule->turnout_permille : 0;

  settings_get(a->n, &st);
  if (p->closes - from < st.selection_min_window)
    return refuse(a, CN_ERR_FORBIDDEN, "a member's selection stays open at least %llu seconds "
                  "(this one %llu); a convener may propose a shorter one",
                  (unsigned long long)st.selection_min_window,
                  (unsigned long long)(p->closes - from));
  /* Quotas fill their seats first: a member could reserve the seat for a
   * small group of their own, whoever else volunteers. */
  if (p->selection->method == COUNCILNET__SELECTION_METHOD__BY_LOT && p->selection->n_quotas &&
      settings_minimums_on(&st))
    return refuse(a, CN_ERR_FORBIDDEN, "a member's selection by lot has no group quotas; a "
                  "convener may set them");
  if (p->selection->method == COUNCILNET__SELECTION_METHOD__BY_VOTE &&
      turnout < st.selection_min_turnout)
    return refuse(a, CN_ERR_FORBIDDEN, "a member's selection by vote needs a turnout quorum of "
                  "at least %u.%u%% (this one %u.%u%%); a convener may propose a lower one",
                  st.selection_min_turnout / 10, st.selection_min_turnout % 10,
                  turnout / 10, turnout % 10);
  return CN_OK;
}

/* Load proposal ID's stored body. OUT: free with protobuf_c_message_free_unpacked. */
static cn_err proposal_load(apply_t *a, const ProtobufCBinaryData *id, cn_store_proposal_t *row,
                            Councilnet__Proposal **out)
{
  int rc;

  *out = NULL;
  if (id->len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "proposal must be a 32-byte record id");
  rc = cn_store_proposal_get_light(a->n->store, id->data, row);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1)
    return refuse(a, CN_ERR_NOT_FOUND, "no such proposal at this node");
  *out = (Councilnet__Proposal *)cn_pb_unpack_strict(&councilnet__proposal__descriptor,
                                                     row->body, row->body_len);
  return *out ? CN_OK : refuse(a, CN_ERR_INTERNAL, "stored proposal unreadable");
}

static cn_err require_member(apply_t *a)
{
  cn_store_key_t k;
  cn_err err = signer_get(a, &k);
  if (err != CN_OK)
    return err;
  if (!k.member)
    return refuse(a, CN_ERR_NOT_MEMBER, "the signer is not a member");
  return CN_OK;
}

/* Refuse the signer as a volunteer for PROPOSAL's lot if a child council
 * whose delegate they are has another volunteer standing there. A child
 * issues credentials as it likes (several selections, up to 64 seats
 * each): counted one by one, its delegates could fill the parent's lot. The
 * earlier volunteer stops holding the place once their credential is
 * recalled or its term ends, as they can no longer be drawn. The node's own
 * members stand in their own right, whatever credentials they hold. */
static cn_err check_council_volunteer(apply_t *a, const uint8_t proposal[CN_HASH_BYTES])
{
  cn_store_key_t k;
  uint8_t council[CN_PK_BYTES];
  char hex[2 * 4 + 1];
  int rc = cn_store_key_get(a->n->store, a->rec->signer, &k);

  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0 && k.member)
    return CN_OK;
  rc = cn_store_volunteer_same_council(a->n->store, proposal, a->rec->signer, a->now, council);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1)
    return CN_OK;
  cn_hex_encode(hex, council, 4);
  return refuse(a, CN_ERR_DUPLICATE, "council %s already has a volunteer in this lot", hex);
}

static cn_err apply_volunteer(apply_t *a)
{
  Councilnet__Volunteer *m = (Councilnet__Volunteer *)a->body;
  Councilnet__Proposal *p = NULL;
  cn_store_proposal_t row;
  uint64_t count = 0;
  cn_err err;
  int rc;

  rc = can_stand(a->n, a->rec->signer);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0 && (err = require_member(a)) != CN_OK)
    return err;
  if ((err = proposal_load(a, &m->proposal, &row, &p)) != CN_OK)
    return err;
  if (!p->selection || p->selection->method != COUNCILNET__SELECTION_METHOD__BY_LOT) {
    err = refuse(a, CN_ERR_INVALID, "the proposal is not a selection by lot");
  } else if (row.closed || a->now < row.opens || a->now >= row.closes) {
    err = refuse(a, CN_ERR_WINDOW_CLOSED, "the volunteer window is not open");
  } else if ((err = check_term_limit(a, a->rec->signer, p->selection)) == CN_OK) {
    rc = cn_store_volunteer_put(a->n->store, m->proposal.data, a->rec->signer, a->seq);
    if (rc < 0)
      err = refuse(a, CN_ERR_INTERNAL, "database error");
    else if (rc == 0)
      err = refuse(a, CN_ERR_ALREADY_VOTED, "already volunteered");
    else if ((rc = cn_store_volunteer_count(a->n->store, m->proposal.data, a->now, &count)) != 0)
      err = refuse(a, CN_ERR_INTERNAL, "database error");
    else if (count > CN_LOT_MAX_VOLUNTEERS)   /* the decision lists them, in one record */
      err = refuse(a, CN_ERR_INVALID, "this lot has its %d volunteers, as many as its decision "
                   "can list", CN_LOT_MAX_VOLUNTEERS);
    else    /* after the put, so a repeat is ALREADY_VOTED; a refusal undoes the put */
      err = check_council_volunteer(a, m->proposal.data);
  }
  protobuf_c_message_free_unpacked(&p->base, NULL);
  return err;
}

/* Load credential ID and refuse it if it is unknown, recalled or expired. */
static cn_err credential_live(apply_t *a, const ProtobufCBinaryData *id, cn_store_credential_t *c)
{
  int rc;

  if (id->len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "credential must be a 32-byte record id");
  rc = cn_store_credential_get(a->n->store, id->data, c);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1)
    return refuse(a, CN_ERR_NOT_FOUND, "no such credential at this node");
  if (c->recalled)
    return refuse(a, CN_ERR_CREDENTIAL_REVOKED, "the credential was recalled");
  if (a->now >= c->term_end)
    return refuse(a, CN_ERR_CREDENTIAL_REVOKED, "the credential's term has ended");
  return CN_OK;
}

/* credential_live() for a credential this council issued itself. A child
 * council's credential, held here because its delegate acts here, is
 * recalled and instructed by that council's members, at their node: only
 * their recall votes come up here, forwarded (foreign_recall_vote). */
static cn_err own_credential_live(apply_t *a, const ProtobufCBinaryData *id,
                                  cn_store_credential_t *c)
{
  cn_err err = credential_live(a, id, c);

  if (err != CN_OK)
    return err;
  if (c->has_issuer)
    return refuse(a, CN_ERR_WRONG_NODE, "that credential is a child council's: its own members "
                  "recall and instruct its delegate, at that council's node");
  return CN_OK;
}

typedef struct copy_ctx_t {
  uint8_t *env;
  size_t len;
} copy_ctx_t;

static int copy_envelope(void *ctx, const cn_store_entry_t *e)
{
  copy_ctx_t *c = ctx;
  c->env = malloc(e->envelope_len ? e->envelope_len : 1);
  if (c->env) {
    memcpy(c->env, e->envelope, e->envelope_len);
    c->len = e->envelope_len;
  }
  return 1;
}

/* Unpack the body of the logged record ID as DESC, into the arena AR if
 * given (else OUT: free with protobuf_c_message_free_unpacked). Return NULL
 * if absent or unreadable. */
static ProtobufCMessage *log_body(cn_node_t *n, cn_arena_t *ar, const uint8_t id[CN_HASH_BYTES],
                                  const ProtobufCMessageDescriptor *desc)
{
  ProtobufCAllocator arena = { arena_pb_alloc, arena_pb_free, ar };
  ProtobufCAllocator *alloc = ar ? &arena : NULL;
  copy_ctx_t c = { NULL, 0 };
  Councilnet__Envelope *env = NULL;
  ProtobufCMessage *m = NULL;

  if (cn_store_log_find(n->store, id, copy_envelope, &c) != 0 || !c.env)
    goto out;
  env = councilnet__envelope__unpack(alloc, c.len, c.env);
  if (env)
    m = protobuf_c_message_unpack(desc, alloc, env->body.len, env->body.data);
out:
  if (env && !ar)
    councilnet__envelope__free_unpacked(env, NULL);
  free(c.env);
  return m;
}

/* CN_OK if local proposal ID was decided and passed. */
static cn_err decision_passed(apply_t *a, const ProtobufCBinaryData *id)
{
  cn_store_proposal_t row;
  Councilnet__Decision *d;
  int rc, passed;

  if (id->len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "an instruction's decision must be a 32-byte proposal id");
  rc = cn_store_proposal_get(a->n->store, id->data, &row);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1)
    return refuse(a, CN_ERR_NOT_FOUND, "an instruction cites a decision this node does not have");
  if (!row.has_decision)
    return refuse(a, CN_ERR_INVALID, "an instruction cites a proposal not decided yet");
  d = (Councilnet__Decision *)log_body(a->n, NULL, row.decision, &councilnet__decision__descriptor);
  if (!d)
    return refuse(a, CN_ERR_INTERNAL, "stored decision unreadable");
  passed = d->passed;
  protobuf_c_message_free_unpacked(&d->base, NULL);
  if (!passed)
    return refuse(a, CN_ERR_INVALID, "an instruction cites a decision that did not pass");
  return CN_OK;
}

/* cn_store_parent_proposal_find(): is the parent's proposal a lot? */
static int parent_proposal_lot(void *ctx, const cn_store_parent_proposal_t *row)
{
  Councilnet__Proposal *p = councilnet__proposal__unpack(NULL, row->body_len, row->body);
  *(int *)ctx = p && p->selection && p->selection->method == COUNCILNET__SELECTION_METHOD__BY_LOT;
  if (p)
    councilnet__proposal__free_unpacked(p, NULL);
  return 1;
}

static cn_err apply_mandate_draft(apply_t *a)
{
  Councilnet__Mandate *m = (Councilnet__Mandate *)a->body;
  Councilnet__Mandate out;
  cn_store_credential_t c;
  cn_store_mandate_t row;
  uint8_t *env = NULL;
  size_t env_len = 0;
  cn_err err;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if ((err = own_credential_live(a, &m->credential, &c)) != CN_OK)
    return err;
  if (m->delegate.len != CN_PK_BYTES || memcmp(m->delegate.data, c.delegate, CN_PK_BYTES) != 0 ||
      m->parent.len != CN_PK_BYTES || memcmp(m->parent.data, c.parent, CN_PK_BYTES) != 0)
    return refuse(a, CN_ERR_INVALID, "delegate and parent must be the credential's");
  if (m->draft.len)
    return refuse(a, CN_ERR_INVALID, "a draft does not name a draft");
  if (m->n_instructions == 0 || m->n_instructions > 256)
    return refuse(a, CN_ERR_INVALID, "a mandate has 1 to 256 instructions");
  for (size_t i = 0; i < m->n_instructions; i++) {
    const Councilnet__Instruction *in = m->instructions[i];
    int targets = (in->parent_proposal.len != 0) + (in->budget_project[0] != 0) +
                  (in->position[0] != 0);
    if (targets != 1 || (in->parent_proposal.len && in->parent_proposal.len != CN_HASH_BYTES))
      return refuse(a, CN_ERR_INVALID, "instruction %zu: exactly one target (parent proposal id,"
                    " budget project or position)", i);
    if (in->binding && in->parent_proposal.len && in->n_choices == 0)
      return refuse(a, CN_ERR_INVALID, "instruction %zu: a binding instruction fixes the choice", i);
    if (in->parent_proposal.len) {
      /* the parent passes over an instruction on its lot: say so here */
      int lot = 0, rc = cn_store_parent_proposal_find(a->n->store, in->parent_proposal.data,
                                                       parent_proposal_lot, &lot);
      if (rc < 0)
        return refuse(a, CN_ERR_INTERNAL, "database error");
      if (rc == 0 && lot)
        return refuse(a, CN_ERR_INVALID, "instruction %zu: the parent's proposal is a selection "
                      "by lot, which takes volunteers, not ballots", i);
    }
    if ((err = decision_passed(a, &in->decision)) != CN_OK)
      return err;
  }
  /* The node's mandate: the same content, signed by the node, citing the draft. */
  out = *m;
  out.node.data = a->n->pk;
  out.node.len = CN_PK_BYTES;
  out.created = a->now;
  out.draft.data = (uint8_t *)a->rec->id;
  out.draft.len = CN_HASH_BYTES;
  memset(&row, 0, sizeof row);
  if (node_append_own(a->n, "mandate", &out.base, a->now, row.id, &row.seq, &env, &env_len) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  memcpy(row.credential, c.id, CN_HASH_BYTES);
  row.envelope = env;
  row.envelope_len = env_len;
  err = cn_store_mandate_put(a->n->store, &row) == 0 ? CN_OK
        : refuse(a, CN_ERR_INTERNAL, "database error");
  free(env);
  /* The parent checks each instruction against the decision it cites: send
   * those decisions up ahead of the delivery. */
  for (size_t i = 0; err == CN_OK && a->n->has_parent && i < m->n_instructions; i++)
    if (outbox_decision(a->n, m->instructions[i]->decision.data) != 0)
      err = refuse(a, CN_ERR_INTERNAL, "database error");
  return err;
}

/* Open a node-signed record of KIND carried inside another record, check
 * it is signed by SIGNER, and unpack its body as DESC. */
static cn_err open_inner(apply_t *a, const ProtobufCBinaryData *bytes, const char *kind,
                         const uint8_t signer[CN_PK_BYTES], const ProtobufCMessageDescriptor *desc,
                         uint8_t id[CN_HASH_BYTES], ProtobufCMessage **out)
{
  cn_record_t rec;
  cn_err err = cn_record_open(bytes->data, bytes->len, &rec);

  *out = NULL;
  if (err == CN_ERR_BAD_SIGNATURE)
    return refuse(a, err, "the %s's signature does not verify: altered after signing", kind);
  if (err != CN_OK)
    return refuse(a, CN_ERR_BAD_ENCODING, "the %s is not a well-formed record", kind);
  if (strcmp(rec.kind, kind) != 0)
    err = refuse(a, CN_ERR_INVALID, "expected a %s, got a %s", kind, rec.kind);
  else if (memcmp(rec.signer, signer, CN_PK_BYTES) != 0)
    err = refuse(a, CN_ERR_WRONG_NODE, "the %s was not signed by this node", kind);
  else if (!(*out = cn_pb_unpack_strict(desc, rec.body, rec.body_len)))
    err = refuse(a, CN_ERR_BAD_ENCODING, "malformed %s body", kind);
  memcpy(id, rec.id, CN_HASH_BYTES);
  cn_record_close(&rec);
  return err;
}

static cn_err apply_delivery(apply_t *a)
{
  Councilnet__Delivery *m = (Councilnet__Delivery *)a->body;
  ProtobufCMessage *mandate_m = NULL, *cred_m = NULL;
  Councilnet__Mandate *mandate;
  cn_store_credential_t c;
  cn_store_mandate_t row;
  uint8_t mandate_id[CN_HASH_BYTES], cred_id[CN_HASH_BYTES];
  ProtobufCBinaryData cid = { CN_HASH_BYTES, cred_id };
  cn_err err;
  int rc;

  if ((err = open_inner(a, &m->mandate, "mandate", a->n->pk, &councilnet__mandate__descriptor,
                        mandate_id, &mandate_m)) != CN_OK)
    goto out;
  if ((err = open_inner(a, &m->credential, "credential", a->n->pk,
                        &councilnet__credential__descriptor, cred_id, &cred_m)) != CN_OK)
    goto out;
  mandate = (Councilnet__Mandate *)mandate_m;
  if (mandate->credential.len != CN_HASH_BYTES ||
      memcmp(mandate->credential.data, cred_id, CN_HASH_BYTES) != 0) {
    err = refuse(a, CN_ERR_INVALID, "the mandate is bound to another credential");
    goto out;
  }
  rc = cn_store_mandate_get(a->n->store, mandate_id, &row);
  if (rc != 0) {
    err = rc < 0 ? refuse(a, CN_ERR_INTERNAL, "database error")
                 : refuse(a, CN_ERR_NOT_FOUND, "no such mandate at this node");
    goto out;
  }
  if ((err = credential_live(a, &cid, &c)) != CN_OK)
    goto out;
  if (memcmp(a->rec->signer, c.delegate, CN_PK_BYTES) != 0) {
    err = refuse(a, CN_ERR_FORBIDDEN, "only the credential's delegate can countersign");
    goto out;
  }
  if (row.delivered) {
    err = refuse(a, CN_ERR_DUPLICATE, "the mandate was countersigned already");
    goto out;
  }
  if (cn_store_mandate_set_delivered(a->n->store, mandate_id) != 0 ||
      (a->n->has_parent && memcmp(c.parent, a->n->parent_key, CN_PK_BYTES) == 0 &&
       outbox_add(a->n, "delivery", a->buf, a->len) != 0))
    err = refuse(a, CN_ERR_INTERNAL, "database error");
out:
  if (mandate_m)
    protobuf_c_message_free_unpacked(mandate_m, NULL);
  if (cred_m)
    protobuf_c_message_free_unpacked(cred_m, NULL);
  return err;
}

/* Open a new selection like the one CRED came from, from now on. */
static int reselect(cn_node_t *n, const cn_store_credential_t *cred, uint64_t now,
                    uint64_t window)
{
  Councilnet__Proposal *p = NULL;
  cn_store_proposal_t row;
  uint8_t *env = NULL;
  size_t env_len = 0, n_quotas = 0;
  int rc = -1;

  if (cn_store_proposal_get(n->store, cred->selection, &row) != 0)
    return -1;
  p = (Councilnet__Proposal *)cn_pb_unpack_strict(&councilnet__proposal__descriptor,
                                                  row.body, row.body_len);
  if (!p || !p->selection)
    goto out;
  p->created = now;
  p->opens = now;
  p->closes = now + window;
  /* The recalled delegate's seat only: the others are still held. */
  p->selection->seats = 1;
  {
    uint32_t need = 0;
    for (size_t i = 0; i < p->selection->n_quotas; i++)
      need += p->selection->quotas[i]->min_seats > 0;
    if (need > 1) {             /* one seat cannot meet several quotas */
      n_quotas = p->selection->n_quotas;   /* put back before the free */
      p->selection->n_quotas = 0;
    }
    for (size_t i = 0; i < p->selection->n_quotas; i++)
      if (p->selection->quotas[i]->min_seats > 1)
        p->selection->quotas[i]->min_seats = 1;
  }
  p->selection->term_start = now + window;
  if (p->selection->term_start >= p->selection->term_end)
    p->selection->term_end = p->selection->term_start + 1;
  memset(&row, 0, sizeof row);
  if (node_append_own(n, "proposal", &p->base, now, row.id, &row.seq, &env, &env_len) != 0)
    goto out;
  memcpy(row.author, n->pk, CN_PK_BYTES);
  row.opens = p->opens;
  row.closes = p->closes;
  {
    Councilnet__Envelope *e = councilnet__envelope__unpack(NULL, env_len, env);
    if (!e)
      goto out;
    row.body = e->body.data;
    row.body_len = e->body.len;
    rc = cn_store_proposal_put(n->store, &row);
    councilnet__envelope__free_unpacked(e, NULL);
  }
out:
  free(env);
  if (p && n_quotas)
    p->selection->n_quotas = n_quotas;
  if (p)
    protobuf_c_message_free_unpacked(&p->base, NULL);
  return rc;
}

static cn_err apply_recall_vote(apply_t *a)
{
  Councilnet__RecallVote *m = (Councilnet__RecallVote *)a->body;
  Councilnet__Recall r = COUNCILNET__RECALL__INIT;
  cn_store_credential_t c;
  node_settings_t st;
  uint8_t recall_id[CN_HASH_BYTES];
  uint64_t roll = 0;
  cn_err err;
  int rc, up;

  if ((err = require_member(a)) != CN_OK)
    return err;
  if ((err = own_credential_live(a, &m->credential, &c)) != CN_OK)
    return err;
  rc = cn_store_recall_vote_put(a->n->store, c.id, a->rec->signer, a->seq);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0)
    return refuse(a, CN_ERR_ALREADY_VOTED, "the member has already voted to recall");
  /* Every recall vote goes up as it arrives, so the parent can count too. */
  up = a->n->has_parent && memcmp(c.parent, a->n->parent_key, CN_PK_BYTES) == 0;
  if (up && outbox_add(a->n, "recall_vote", a->buf, a->len) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (cn_store_roll_count(a->n->store, &roll) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  settings_get(a->n, &st);
  /* The running count says whether the threshold may be met; only then
   * count exactly, among current members (a petition stays linear). */
  if ((c.recall_votes + 1) * 1000 <= (uint64_t)st.recall_permille * roll)
    return CN_OK;
  if (cn_store_recall_vote_count_members(a->n->store, c.id, &c.recall_votes) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (c.recall_votes * 1000 <= (uint64_t)st.recall_permille * roll)
    return CN_OK;
  /* Threshold met: the node recalls the delegate, in this same transaction. */
  r.node.data = a->n->pk;
  r.node.len = CN_PK_BYTES;
  r.created = a->now;
  r.credential.data = c.id;
  r.credential.len = CN_HASH_BYTES;
  r.delegate.data = c.delegate;
  r.delegate.len = CN_PK_BYTES;
  r.votes = c.recall_votes;
  r.roll = roll;
  if (node_recall(a->n, &r, up, recall_id) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (st.reselect && reselect(a->n, &c, a->now, st.reselect_window) != 0)
    return refuse(a, CN_ERR_INTERNAL, "cannot open the new selection");
  return CN_OK;
}

/* ---- delegate queries ---- */

typedef struct dlist_ctx_t {
  list_ctx_t l;
  int recalls_only;
} dlist_ctx_t;

static int delegate_collect(void *ctx, const cn_store_credential_t *c)
{
  dlist_ctx_t *d = ctx;
  cn_arena_t *ar = d->l.arena;

  if (d->recalls_only) {
    ProtobufCMessage *r;
    if (!c->recalled)
      return 0;
    r = log_body(d->l.node, ar, c->recall, &councilnet__recall__descriptor);
    return list_push(&d->l, r) ? 1 : 0;
  } else {
    Councilnet__DelegateView *v = cn_arena_alloc(ar, sizeof *v);
    if (!v)
      return list_push(&d->l, NULL) ? 1 : 1;
    councilnet__delegate_view__init(v);
    v->credential_id.data = cn_arena_memdup(ar, c->id, CN_HASH_BYTES);
    v->credential_id.len = CN_HASH_BYTES;
    v->credential = (Councilnet__Credential *)log_body(d->l.node, ar, c->id,
                                                             &councilnet__credential__descriptor);
    v->recalled = c->recalled;
    v->recall_votes = c->recall_votes;
    if (c->has_issuer) {
      uint64_t votes = 0;
      v->issuer.data = cn_arena_memdup(ar, c->issuer, CN_PK_BYTES);
      v->issuer.len = CN_PK_BYTES;
      /* at a parent, votes count against the child's roll */
      if (cn_store_recall_vote_count_child(d->l.node->store, c->id, c->issuer, &votes) == 0)
        v->recall_votes = votes;
    }
    return list_push(&d->l, v->credential && v->credential_id.data ? v : NULL) ? 1 : 0;
  }
}

cn_err cn_node_query_delegates(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__DelegateList list = COUNCILNET__DELEGATE_LIST__INIT;
  dlist_ctx_t d;
  cn_err err = CN_ERR_INTERNAL;

  memset(&d, 0, sizeof d);
  d.l.node = n;
  d.l.arena = cn_arena_new();
  if (!d.l.arena || cn_store_credential_scan(n->store, delegate_collect, &d) != 0 || d.l.failed)
    goto out;
  list.n_delegates = d.l.n;
  list.delegates = (Councilnet__DelegateView **)d.l.items;
  err = answer_pack(&list.base, out);
out:
  cn_arena_free(d.l.arena);
  return err;
}

cn_err cn_node_query_recalls(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__RecallList list = COUNCILNET__RECALL_LIST__INIT;
  dlist_ctx_t d;
  cn_err err = CN_ERR_INTERNAL;

  memset(&d, 0, sizeof d);
  d.l.node = n;
  d.recalls_only = 1;
  d.l.arena = cn_arena_new();
  if (!d.l.arena || cn_store_credential_scan(n->store, delegate_collect, &d) != 0 || d.l.failed)
    goto out;
  list.n_recalls = d.l.n;
  list.recalls = (Councilnet__Recall **)d.l.items;
  err = answer_pack(&list.base, out);
out:
  cn_arena_free(d.l.arena);
  return err;
}

static int mandate_collect(void *ctx, const cn_store_mandate_t *m)
{
  list_ctx_t *l = ctx;
  ProtobufCAllocator alloc = { arena_pb_alloc, arena_pb_free, l->arena };
  Councilnet__MandateView *v = cn_arena_alloc(l->arena, sizeof *v);
  Councilnet__Envelope *env;

  if (!v)
    return list_push(l, NULL) ? 1 : 1;
  councilnet__mandate_view__init(v);
  v->id.data = cn_arena_memdup(l->arena, m->id, CN_HASH_BYTES);
  v->id.len = CN_HASH_BYTES;
  env = councilnet__envelope__unpack(&alloc, m->envelope_len, m->envelope);
  if (env)
    v->mandate = councilnet__mandate__unpack(&alloc, env->body.len, env->body.data);
  v->delivered = m->delivered;
  return list_push(l, v->mandate && v->id.data ? v : NULL) ? 1 : 0;
}

cn_err cn_node_query_mandates(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__MandateList list = COUNCILNET__MANDATE_LIST__INIT;
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&l, 0, sizeof l);
  l.node = n;
  l.arena = cn_arena_new();
  if (!l.arena || cn_store_mandate_scan(n->store, mandate_collect, &l) != 0 || l.failed)
    goto out;
  list.n_mandates = l.n;
  list.mandates = (Councilnet__MandateView **)l.items;
  err = answer_pack(&list.base, out);
out:
  cn_arena_free(l.arena);
  return err;
}

cn_err cn_node_query_record(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], cn_answer_t *out)
{
  copy_ctx_t c = { NULL, 0 };
  int rc = cn_store_log_find(n->store, id, copy_envelope, &c);

  if (rc < 0 || (rc == 0 && !c.env))
    return CN_ERR_INTERNAL;
  if (rc == 1)
    return CN_ERR_NOT_FOUND;
  out->desc = &councilnet__envelope__descriptor;
  out->data = c.env;
  out->len = c.len;
  return CN_OK;
}

/* ---- federation ---- */

static int node_load_parent(cn_node_t *n)
{
  uint8_t *url = NULL, *key = NULL;
  size_t url_len = 0, key_len = 0;
  int rc = -1, r1, r2;

  /* A failed read keeps what we had, rather than forget the parent. */
  r1 = cn_store_meta_get(n->store, "parent_url", &url, &url_len);
  r2 = cn_store_meta_get(n->store, "parent_key", &key, &key_len);
  if (r1 < 0 || r2 < 0)
    goto out;
  n->has_parent = 0;
  if (r1 == 0 && r2 == 0 && key_len == CN_PK_BYTES && url_len < sizeof n->parent_url) {
    memcpy(n->parent_key, key, CN_PK_BYTES);
    memcpy(n->parent_url, url, url_len + 1);
    n->has_parent = 1;
  }
  rc = 0;
out:
  free(url);
  free(key);
  return rc;
}

int cn_node_parent(cn_node_t *n, char *url, size_t cap, uint8_t key[CN_PK_BYTES])
{
  if (!n->has_parent)
    return 1;
  snprintf(url, cap, "%s", n->parent_url);
  memcpy(key, n->parent_key, CN_PK_BYTES);
  return 0;
}

/* Queue ENV for the parent, in the open transaction. */
static int outbox_add(cn_node_t *n, const char *kind, const uint8_t *env, size_t len)
{
  uint8_t id[CN_HASH_BYTES];
  if (!n->has_parent)
    return 0;
  cn_crypto_hash(id, env, len);
  return cn_store_outbox_put(n->store, id, kind, env, len);
}

/* Queue the decision on local proposal PROPOSAL (32 bytes) for the parent. */
static int outbox_decision(cn_node_t *n, const uint8_t *proposal)
{
  cn_store_proposal_t row;
  copy_ctx_t c = { NULL, 0 };
  int rc;

  if (cn_store_proposal_get(n->store, proposal, &row) != 0 || !row.has_decision)
    return -1;
  if (cn_store_log_find(n->store, row.decision, copy_envelope, &c) != 0 || !c.env)
    return -1;
  rc = outbox_add(n, "decision", c.env, c.len);
  free(c.env);
  return rc;
}

/* Tell the parent a member key joined (ADDED) or left the roll. */
static int roll_update(cn_node_t *n, const uint8_t *key, int added, uint64_t now)
{
  Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
  ProtobufCBinaryData k = { CN_PK_BYTES, (uint8_t *)key };
  /* KEY NULL: no change of keys, only the number of people spoken for. */
  uint8_t *env = NULL;
  size_t len = 0;
  int rc;

  if (!n->has_parent)
    return 0;
  u.node.data = n->pk;
  u.node.len = CN_PK_BYTES;
  u.created = now;
  /* Without it, add K, remove K, add K in one second would seal the third
   * update byte for byte as the first: a record "seen before", dropped
   * here and at the parent, which would keep K off the roll. */
  u.serial = n->pend_seq + 1;
  if (key && added) {
    u.added = &k;
    u.n_added = 1;
  } else if (key) {
    u.removed = &k;
    u.n_removed = 1;
  }
  if (cn_store_represented(n->store, &u.roll) != 0)
    return -1;
  if (!key && meta_u64(n, "reported_roll", UINT64_MAX) == u.roll)
    return 0;   /* nothing the parent does not know */
  {
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)u.roll);
    if (cn_store_meta_set(n->store, "reported_roll", num, strlen(num)) != 0)
      return -1;
  }
  rc = node_append_own(n, "roll", &u.base, now, NULL, NULL, &env, &len);
  if (rc == 0)
    rc = outbox_add(n, "roll", env, len);
  free(env);
  return rc;
}

/* 1 if KEY may stand for selection here: a member, or a delegate holding a
 * child council's live credential at this node. 0 if not, -1 on error. */
static int can_stand(cn_node_t *n, const uint8_t key[CN_PK_BYTES])
{
  cn_store_key_t k;
  cn_store_credential_t c;
  int rc = cn_store_key_get(n->store, key, &k);

  if (rc < 0)
    return -1;
  if (rc == 0 && k.member)
    return 1;
  rc = cn_store_credential_of(n->store, key, cn_node_now(n), &c);
  return rc < 0 ? -1 : rc == 0;
}

typedef struct cascade_t {
  uint8_t (*ids)[CN_HASH_BYTES];
  uint8_t (*delegates)[CN_PK_BYTES];
  uint8_t (*parents)[CN_PK_BYTES];
  size_t n, cap;
  int failed;
} cascade_t;

static int cascade_collect(void *ctx, const cn_store_credential_t *c)
{
  cascade_t *k = ctx;
  if (k->n == k->cap) {
    size_t cap = k->cap ? k->cap * 2 : 4;
    void *a = realloc(k->ids, cap * CN_HASH_BYTES), *b, *c2;
    if (!a)
      goto fail;
    k->ids = a;
    b = realloc(k->delegates, cap * CN_PK_BYTES);
    if (!b)
      goto fail;
    k->delegates = b;
    c2 = realloc(k->parents, cap * CN_PK_BYTES);
    if (!c2)
      goto fail;
    k->parents = c2;
    k->cap = cap;
  }
  memcpy(k->ids[k->n], c->id, CN_HASH_BYTES);
  memcpy(k->delegates[k->n], c->delegate, CN_PK_BYTES);
  memcpy(k->parents[k->n], c->parent, CN_PK_BYTES);
  k->n++;
  return 0;
fail:
  k->failed = 1;
  return 1;
}

/* Recall every live credential of ours derived from credential FROM
 * (delegates of delegates), each sent on up where it was for our parent.
 * Return 0 or -1. */
static int recall_derived(cn_node_t *n, const uint8_t from[CN_HASH_BYTES], uint64_t now)
{
  cascade_t k;
  int rc = -1;

  memset(&k, 0, sizeof k);
  if (cn_store_credential_scan_derived(n->store, from, cascade_collect, &k) != 0 || k.failed)
    goto out;
  for (size_t i = 0; i < k.n; i++) {
    Councilnet__Recall d = COUNCILNET__RECALL__INIT;
    uint8_t id[CN_HASH_BYTES];
    d.node.data = n->pk;
    d.node.len = CN_PK_BYTES;
    d.created = now;
    d.credential.data = k.ids[i];
    d.credential.len = CN_HASH_BYTES;
    d.delegate.data = k.delegates[i];
    d.delegate.len = CN_PK_BYTES;
    if (node_recall(n, &d, n->has_parent && memcmp(k.parents[i], n->parent_key, CN_PK_BYTES) == 0,
                    id) != 0)
      goto out;
  }
  rc = 0;
out:
  free(k.ids);
  free(k.delegates);
  free(k.parents);
  return rc;
}

/* Append the node-signed recall R (its credential field set), void the
 * credential, send it up if UP, and recall every credential of ours that
 * derives from it (delegates of delegates), up the chain. */
static int node_recall(cn_node_t *n, Councilnet__Recall *r, int up, uint8_t recall_id[CN_HASH_BYTES])
{
  uint8_t *env = NULL;
  size_t len = 0;
  int rc = -1;

  if (node_append_own(n, "recall", &r->base, r->created, recall_id, NULL, &env, &len) != 0 ||
      cn_store_credential_set_recalled(n->store, r->credential.data, recall_id) != 0)
    goto out;
  if (up && outbox_add(n, "recall", env, len) != 0)
    goto out;
  rc = recall_derived(n, r->credential.data, r->created);
out:
  free(env);
  return rc;
}

typedef struct roll_ctx_t {
  ProtobufCBinaryData *keys;
  size_t n, cap;
  int failed;
} roll_ctx_t;

static int roll_collect(void *ctx, const cn_store_key_t *k)
{
  roll_ctx_t *r = ctx;
  if (!k->member)
    return 0;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    ProtobufCBinaryData *a = realloc(r->keys, cap * sizeof *a);
    if (!a) {
      r->failed = 1;
      return 1;
    }
    r->keys = a;
    r->cap = cap;
  }
  r->keys[r->n].len = CN_PK_BYTES;
  r->keys[r->n].data = malloc(CN_PK_BYTES);
  if (!r->keys[r->n].data) {
    r->failed = 1;
    return 1;
  }
  memcpy(r->keys[r->n++].data, k->key, CN_PK_BYTES);
  return 0;
}

#define RESEND_MAX 1000

/* A convener puts dead letters back in the outbox (at its end). */
static cn_err apply_outbox_resend(apply_t *a)
{
  Councilnet__OutboxResend *m = (Councilnet__OutboxResend *)a->body;
  cn_err err;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if (m->n_ids == 0 || m->n_ids > RESEND_MAX)
    return refuse(a, CN_ERR_INVALID, "name 1 to %d dead letters", RESEND_MAX);
  for (size_t i = 0; i < m->n_ids; i++) {
    int rc = cn_store_outbox_resend(a->n->store, m->ids[i]);
    if (rc < 0)
      return refuse(a, CN_ERR_INTERNAL, "database error");
    if (rc == 1)
      return refuse(a, CN_ERR_NOT_FOUND, "no dead letter %llu", (unsigned long long)m->ids[i]);
  }
  return CN_OK;
}

/* Move every queued record to the dead letters: a new parent. */
static int outbox_bury_all(cn_node_t *n, uint64_t now)
{
  char why[160], hex[2 * CN_PK_BYTES + 1];
  uint64_t id;
  uint8_t *env = NULL;
  size_t len = 0;
  int rc;

  cn_hex_encode(hex, n->parent_key, CN_PK_BYTES);
  snprintf(why, sizeof why, "queued for the former parent %.16s...; not sent after the parent "
           "changed", hex);
  while ((rc = cn_store_outbox_first(n->store, &id, &env, &len)) == 0) {
    free(env);
    env = NULL;
    if (cn_store_outbox_bury(n->store, id, why, now) != 0)
      return -1;
  }
  return rc < 0 ? -1 : 0;
}

/* Keys in one roll update: 34 bytes each, well under CN_RECORD_MAX. */
#define ROLL_CHUNK 1000

/* Queue the whole roll (keys only) for the parent, ROLL_CHUNK keys a roll
 * update (a single one would be too large a record past some 1,900
 * members), at the end of the outbox. Inside a node transaction. Return 0
 * or -1. */
static int roll_full(cn_node_t *n, uint64_t now)
{
  Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
  roll_ctx_t r = { NULL, 0, 0, 0 };
  uint8_t *env = NULL;
  size_t len = 0, i = 0;
  int rc = -1;

  if (cn_store_key_scan(n->store, roll_collect, &r) != 0 || r.failed)
    goto out;
  u.node.data = n->pk;
  u.node.len = CN_PK_BYTES;
  u.created = now;
  if (cn_store_represented(n->store, &u.roll) != 0)
    goto out;
  do {        /* an empty roll still goes up once: the parent learns the count */
    u.serial = n->pend_seq + 1;    /* as in roll_update() */
    u.added = r.n ? r.keys + i : NULL;
    u.n_added = r.n - i < ROLL_CHUNK ? r.n - i : ROLL_CHUNK;
    i += u.n_added;
    if (node_append_own(n, "roll", &u.base, now, NULL, NULL, &env, &len) != 0 ||
        outbox_add(n, "roll", env, len) != 0)
      goto out;
    free(env);
    env = NULL;
  } while (i < r.n);
  rc = 0;
out:
  for (i = 0; i < r.n; i++)
    free(r.keys[i].data);
  free(r.keys);
  free(env);
  return rc;
}

/* Set meta K to the decimal V. Return 0 or -1. */
static int meta_set_u64(cn_node_t *n, const char *k, uint64_t v)
{
  char num[32];
  snprintf(num, sizeof num, "%llu", (unsigned long long)v);
  return cn_store_meta_set(n->store, k, num, strlen(num));
}

int cn_node_outbox_refresh_roll(cn_node_t *n, uint64_t id)
{
  Councilnet__Envelope *e = NULL;
  uint64_t first = 0, last = 0, now = cn_node_now(n), at, after, refused, wait;
  uint8_t *env = NULL;
  size_t len = 0;
  int rc, vote, allow, back;

  if (!n->has_parent || node_begin(n) != 0)
    return -1;
  /* The wait is kept with the node, by its clock: a restart does not let a
   * parent that answers NOT_MEMBER to everything have one more whole roll.
   * It doubles while such refusals keep coming, and starts again from 10
   * minutes once a whole day passed without one (a later, unrelated loss
   * at the parent is mended soon; a parent refusing at least once a day
   * gets one roll a day), or when the clock was set back before the last
   * roll (or, on a database from before `roll_refresh_at`, far behind its
   * wait). */
  at = meta_u64(n, "roll_refresh_at", 0);
  after = meta_u64(n, "roll_refresh_after", 0);
  refused = meta_u64(n, "roll_refused_at", 0);
  wait = meta_u64(n, "roll_refresh_wait", ROLL_REFRESH_MIN);
  if (wait < ROLL_REFRESH_MIN || wait > ROLL_REFRESH_MAX)
    wait = wait < ROLL_REFRESH_MIN ? ROLL_REFRESH_MIN : ROLL_REFRESH_MAX;
  back = now < at || (now < after && after - now > ROLL_REFRESH_MAX);
  allow = now >= after || back;
  if (back || (refused && now >= refused && now - refused >= ROLL_REFRESH_MAX))
    wait = ROLL_REFRESH_MIN;
  rc = cn_store_outbox_first(n->store, &first, &env, &len);
  if (rc == 0 && first != id)
    rc = 1;
  /* Only the parent's roll check of a forwarded recall vote answers
   * NOT_MEMBER for want of our roll; whatever else it refuses so is
   * retried as before. */
  e = rc == 0 ? councilnet__envelope__unpack(NULL, len, env) : NULL;
  vote = e && e->kind && strcmp(e->kind, "recall_vote") == 0;
  councilnet__envelope__free_unpacked(e, NULL);
  free(env);
  if (rc == 0 && !vote)
    rc = 1;
  if (rc == 0 && !allow) {
    /* refused within the wait: a day without such refusals restarts it */
    if (meta_set_u64(n, "roll_refused_at", now) != 0) {
      node_rollback(n);
      return -1;
    }
    return node_commit(n) != 0 ? -1 : 2;
  }
  if (rc != 0) {
    node_rollback(n);
    return rc;
  }
  /* The roll goes to the end, then every row queued before it moves
   * behind it, in order: the roll first, then the vote and the rest. */
  if (cn_store_outbox_last(n->store, &last) != 0 || roll_full(n, now) != 0 ||
      cn_store_outbox_rotate(n->store, last) != 0 ||
      meta_set_u64(n, "roll_refresh_at", now) != 0 ||
      meta_set_u64(n, "roll_refused_at", now) != 0 ||
      meta_set_u64(n, "roll_refresh_after", now + wait) != 0 ||
      meta_set_u64(n, "roll_refresh_wait", wait * 2 < ROLL_REFRESH_MAX ? wait * 2
                                                                      : ROLL_REFRESH_MAX) != 0) {
    node_rollback(n);
    return -1;
  }
  return node_commit(n) != 0 ? -1 : 0;
}

/* Deliveries countersigned here while this node had no link to the
 * parent of their credential (no parent yet, or another) were receipted
 * and kept in the log, but went nowhere. Now the parent is set: those for
 * live credentials of ours at it go up, each after the decisions its
 * mandate cites (the parent checks the instructions against them). One
 * already there, from an earlier time with this parent, answers with its
 * first receipt. */
typedef struct requeue_t {
  cn_node_t *n;
  uint64_t now;
  int failed;
} requeue_t;

static int requeue_delivery(void *ctx, const cn_store_entry_t *e)
{
  requeue_t *q = ctx;
  Councilnet__Delivery *d = NULL;
  Councilnet__Mandate *m = NULL;
  cn_record_t rec, cr, mr;
  cn_store_credential_t c;
  int up = 0;

  if (cn_record_open(e->envelope, e->envelope_len, &rec) != CN_OK)
    return 0;
  d = councilnet__delivery__unpack(NULL, rec.body_len, rec.body);
  if (d && cn_record_open(d->credential.data, d->credential.len, &cr) == CN_OK) {
    up = cn_store_credential_get(q->n->store, cr.id, &c) == 0 && !c.has_issuer && !c.recalled &&
         c.term_end > q->now && memcmp(c.parent, q->n->parent_key, CN_PK_BYTES) == 0;
    cn_record_close(&cr);
  }
  if (up && cn_record_open(d->mandate.data, d->mandate.len, &mr) == CN_OK) {
    m = councilnet__mandate__unpack(NULL, mr.body_len, mr.body);
    cn_record_close(&mr);
  }
  /* a decision that cannot be queued (gone?) is not this act's to fail:
   * the parent then refuses the delivery, which becomes a dead letter
   * saying why */
  for (size_t i = 0; up && m && i < m->n_instructions; i++)
    if (m->instructions[i]->decision.len == CN_HASH_BYTES)
      (void)outbox_decision(q->n, m->instructions[i]->decision.data);
  if (up && outbox_add(q->n, "delivery", e->envelope, e->envelope_len) != 0)
    q->failed = 1;
  if (m)
    councilnet__mandate__free_unpacked(m, NULL);
  if (d)
    councilnet__delivery__free_unpacked(d, NULL);
  cn_record_close(&rec);
  return q->failed;
}

static cn_err apply_parent_set(apply_t *a)
{
  Councilnet__ParentSet *m = (Councilnet__ParentSet *)a->body;
  int changed;
  cn_err err;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if (m->key.len != CN_PK_BYTES || strncmp(m->url, "http://", 7) != 0 ||
      strlen(m->url) >= sizeof a->n->parent_url)
    return refuse(a, CN_ERR_INVALID, "a parent is an http:// URL and a 32-byte node key");
  if (memcmp(m->key.data, a->n->pk, CN_PK_BYTES) == 0)
    return refuse(a, CN_ERR_INVALID, "a node cannot be its own parent");
  changed = !a->n->has_parent || memcmp(a->n->parent_key, m->key.data, CN_PK_BYTES) != 0;
  /* What waits in the outbox was made for the former parent (its
   * credentials, mandates, recall votes, our roll as it knew it): another
   * parent refuses it for good, and it would stall everything behind it.
   * It goes to the dead letters, kept, shown, and resendable. */
  if (a->n->has_parent && memcmp(a->n->parent_key, m->key.data, CN_PK_BYTES) != 0 &&
      outbox_bury_all(a->n, a->now) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (cn_store_meta_set(a->n->store, "parent_url", m->url, strlen(m->url)) != 0 ||
      cn_store_meta_set(a->n->store, "parent_key", m->key.data, CN_PK_BYTES) != 0 ||
      cn_store_meta_set(a->n->store, "parent_seq", "0", 1) != 0 ||
      cn_store_meta_set(a->n->store, "parent_hash", "", 0) != 0 ||
      /* a parent set (again): a whole roll may go at once on NOT_MEMBER */
      meta_set_u64(a->n, "roll_refresh_at", 0) != 0 ||
      meta_set_u64(a->n, "roll_refused_at", 0) != 0 ||
      meta_set_u64(a->n, "roll_refresh_after", 0) != 0 ||
      meta_set_u64(a->n, "roll_refresh_wait", ROLL_REFRESH_MIN) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  /* Loaded now (outbox_add needs it); a rollback reloads it (node_rollback). */
  a->n->parent_changed = 1;
  if (node_load_parent(a->n) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  /* The new parent gets the whole roll (keys only) to start from, then
   * the deliveries meant for it that went nowhere. */
  if (roll_full(a->n, a->now) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (changed) {
    requeue_t q = { a->n, a->now, 0 };
    if (cn_store_log_kind_scan(a->n->store, "delivery", requeue_delivery, &q) != 0 || q.failed)
      return refuse(a, CN_ERR_INTERNAL, "database error");
  }
  return CN_OK;
}

int cn_node_set_parent(cn_node_t *n, const char *url, const uint8_t key[CN_PK_BYTES],
                       char *err, size_t errlen)
{
  if (strncmp(url, "http://", 7) != 0 || strlen(url) >= sizeof n->parent_url) {
    snprintf(err, errlen, "the parent URL must be http://HOST:PORT");
    return -1;
  }
  if (node_begin(n) != 0 || cn_store_meta_set(n->store, "parent_url", url, strlen(url)) != 0 ||
      cn_store_meta_set(n->store, "parent_key", key, CN_PK_BYTES) != 0 || node_commit(n) != 0) {
    node_rollback(n);
    snprintf(err, errlen, "database error");
    return -1;
  }
  return node_load_parent(n);
}

/* Foreign records: the child's own signature is checked by cn_record_open;
 * here, that the signer is who the kind says and that it is about us. */
static cn_err require_origin_signed(apply_t *a)
{
  if (memcmp(a->rec->signer, a->origin, CN_PK_BYTES) != 0)
    return refuse(a, CN_ERR_FORBIDDEN, "a %s must be signed by the child council itself",
                  a->rec->kind);
  return CN_OK;
}

static cn_err foreign_roll(apply_t *a)
{
  Councilnet__RollUpdate *u = (Councilnet__RollUpdate *)a->body;
  cn_err err = require_origin_signed(a);

  if (err != CN_OK)
    return err;
  /* Weights are summed across children: a bound no council reaches keeps
   * the sums exact (a claim near 2^63 made them overflow, and then no
   * weighted proposal could close here). */
  if (u->roll > CN_ROLL_MAX)
    return refuse(a, CN_ERR_INVALID, "a roll of at most %llu people",
                  (unsigned long long)CN_ROLL_MAX);
  for (size_t i = 0; i < u->n_added + u->n_removed; i++) {
    int add = i < u->n_added;
    const ProtobufCBinaryData *k = add ? &u->added[i] : &u->removed[i - u->n_added];
    if (k->len != CN_PK_BYTES)
      return refuse(a, CN_ERR_INVALID, "roll keys are 32 bytes");
    a->n->n_roll_cache = 0;
    if (cn_store_child_roll_set(a->n->store, a->origin, k->data, add) != 0)
      return refuse(a, CN_ERR_INTERNAL, "database error");
  }
  /* Its weight is the number of people it speaks for; ours changed with it,
   * so tell our own parent. */
  if (cn_store_child_weight_put(a->n->store, a->origin, u->roll) != 0 ||
      roll_update(a->n, NULL, 0, a->now) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

/* Store a child's credential (already opened and checked). */
static cn_err credential_adopt(apply_t *a, const uint8_t id[CN_HASH_BYTES], uint64_t seq,
                               const Councilnet__Credential *c)
{
  cn_store_credential_t row;
  int rc;

  if (c->parent.len != CN_PK_BYTES || memcmp(c->parent.data, a->n->pk, CN_PK_BYTES) != 0)
    return refuse(a, CN_ERR_WRONG_NODE, "the credential is for another parent");
  if (c->delegate.len != CN_PK_BYTES || c->selection.len != CN_HASH_BYTES ||
      c->term_start >= c->term_end)
    return refuse(a, CN_ERR_INVALID, "malformed credential");
  rc = cn_store_credential_get(a->n->store, id, &row);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0)
    return CN_OK;
  memset(&row, 0, sizeof row);
  memcpy(row.id, id, CN_HASH_BYTES);
  row.seq = seq;
  memcpy(row.delegate, c->delegate.data, CN_PK_BYTES);
  memcpy(row.parent, c->parent.data, CN_PK_BYTES);
  row.term_start = c->term_start;
  row.term_end = c->term_end;
  memcpy(row.selection, c->selection.data, CN_HASH_BYTES);
  row.term = c->term;
  row.has_issuer = 1;
  memcpy(row.issuer, a->origin, CN_PK_BYTES);
  return cn_store_credential_put(a->n->store, &row) == 0 ? CN_OK
         : refuse(a, CN_ERR_INTERNAL, "database error");
}

static cn_err foreign_credential(apply_t *a)
{
  cn_err err = require_origin_signed(a);
  if (err != CN_OK)
    return err;
  return credential_adopt(a, a->rec->id, a->seq, (Councilnet__Credential *)a->body);
}

static cn_err foreign_decision(apply_t *a)
{
  Councilnet__Decision *d = (Councilnet__Decision *)a->body;
  cn_err err = require_origin_signed(a);

  if (err != CN_OK)
    return err;
  if (d->proposal.len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "malformed decision");
  return cn_store_foreign_decision_put(a->n->store, a->origin, d->proposal.data, d->passed) == 0
         ? CN_OK : refuse(a, CN_ERR_INTERNAL, "database error");
}

/* A child credential known here, issued by ORIGIN, live. */
static cn_err foreign_credential_live(apply_t *a, const uint8_t *id, size_t len,
                                      cn_store_credential_t *c)
{
  ProtobufCBinaryData b = { len, (uint8_t *)id };
  cn_err err = credential_live(a, &b, c);

  if (err != CN_OK)
    return err;
  if (!c->has_issuer || memcmp(c->issuer, a->origin, CN_PK_BYTES) != 0)
    return refuse(a, CN_ERR_NOT_FOUND, "no such credential from that council");
  return CN_OK;
}

/* cn_store_child_roll_count() through the node's cache. */
static int child_roll_count(cn_node_t *n, const uint8_t child[CN_PK_BYTES], uint64_t *out)
{
  size_t i;

  for (i = 0; i < n->n_roll_cache; i++)
    if (memcmp(n->roll_cache[i].child, child, CN_PK_BYTES) == 0) {
      *out = n->roll_cache[i].n;
      return 0;
    }
  if (cn_store_child_roll_count(n->store, child, out) != 0)
    return -1;
  i = n->n_roll_cache < 8 ? n->n_roll_cache++ : (size_t)(out[0] % 8);
  memcpy(n->roll_cache[i].child, child, CN_PK_BYTES);
  n->roll_cache[i].n = *out;
  return 0;
}

static cn_err foreign_recall_vote(apply_t *a)
{
  Councilnet__RecallVote *m = (Councilnet__RecallVote *)a->body;
  Councilnet__Recall r = COUNCILNET__RECALL__INIT;
  cn_store_credential_t c;
  node_settings_t st;
  uint8_t recall_id[CN_HASH_BYTES];
  uint64_t roll = 0, votes = 0;
  cn_err err;
  int rc;

  /* The member is checked against the roll the child forwarded: a child
   * that stops forwarding cannot shield its delegate, but it cannot invent
   * voters either. */
  rc = cn_store_child_roll_has(a->n->store, a->origin, a->rec->signer);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0)
    return refuse(a, CN_ERR_NOT_MEMBER, "the signer is not on that council's roll");
  if ((err = foreign_credential_live(a, m->credential.data, m->credential.len, &c)) != CN_OK)
    return err;
  rc = cn_store_recall_vote_put(a->n->store, c.id, a->rec->signer, a->seq);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0)
    return refuse(a, CN_ERR_ALREADY_VOTED, "the member has already voted to recall");
  if (child_roll_count(a->n, a->origin, &roll) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  settings_get(a->n, &st);
  /* running count first, the exact count against the child's roll only
   * when the threshold may be met */
  if ((c.recall_votes + 1) * 1000 <= (uint64_t)st.recall_permille * roll)
    return CN_OK;
  if (cn_store_recall_vote_count_child(a->n->store, c.id, a->origin, &votes) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (votes * 1000 <= (uint64_t)st.recall_permille * roll)
    return CN_OK;
  /* Counted against the child's roll, the threshold is met: recall here. */
  r.node.data = a->n->pk;
  r.node.len = CN_PK_BYTES;
  r.created = a->now;
  r.credential.data = c.id;
  r.credential.len = CN_HASH_BYTES;
  r.delegate.data = c.delegate;
  r.delegate.len = CN_PK_BYTES;
  r.votes = votes;
  r.roll = roll;
  return node_recall(a->n, &r, 0, recall_id) == 0 ? CN_OK
         : refuse(a, CN_ERR_INTERNAL, "database error");
}

static cn_err foreign_recall(apply_t *a)
{
  Councilnet__Recall *m = (Councilnet__Recall *)a->body;
  cn_store_credential_t c;
  cn_err err = require_origin_signed(a);
  int rc;

  if (err != CN_OK)
    return err;
  if (m->credential.len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "malformed recall");
  rc = cn_store_credential_get(a->n->store, m->credential.data, &c);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1 || !c.has_issuer || memcmp(c.issuer, a->origin, CN_PK_BYTES) != 0)
    return refuse(a, CN_ERR_NOT_FOUND, "no such credential from that council");
  if (c.recalled)
    return CN_OK;    /* recalled here already (members voted here directly) */
  if (cn_store_credential_set_recalled(a->n->store, c.id, a->rec->id) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  /* Our credentials that derive from it fall with it. */
  if (recall_derived(a->n, c.id, a->now) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

/* Cast (or replace) child council CHILD's ballot on our proposal PID. A
 * lot takes no ballot: with SKIP_LOT (a mandate's instruction) it is passed
 * over, else refused. */
static cn_err child_ballot(apply_t *a, const uint8_t child[CN_PK_BYTES], const uint8_t *pid,
                           const uint32_t *choices, size_t n_choices, const uint8_t via[CN_HASH_BYTES],
                           int skip_lot)
{
  ProtobufCBinaryData id = { CN_HASH_BYTES, (uint8_t *)pid };
  cn_store_proposal_t row;
  Councilnet__Proposal *p = NULL;
  cn_store_ballot_t b;
  char text[64 * 4 + 1];
  size_t used = 0;
  uint64_t weight = 1;
  int lot;
  cn_err err = proposal_load(a, &id, &row, &p);

  if (err != CN_OK)
    return err;
  /* As for a member's ballot: a lot is no vote. A mandate's binding
   * instruction on one is passed over, open or not (the rest of the
   * delivery stands; nodes since refuse such a draft); a delegate's
   * ballot on one is refused. Counted, it would also be listed in the
   * lot's decision, and split off into parts it would move the head the
   * lot signature covers away from the decision. */
  lot = p->selection && p->selection->method == COUNCILNET__SELECTION_METHOD__BY_LOT;
  if (lot && skip_lot)
    goto out;
  /* What no waiting mends first, so that nothing is retried only to be
   * refused for good once the window opens. */
  if (lot) {
    err = refuse(a, CN_ERR_INVALID, "a selection by lot takes volunteers, not ballots");
    goto out;
  }
  if (cn_rules_check_choices(p, choices, n_choices) != 0) {
    err = refuse(a, CN_ERR_INVALID, "choices do not fit the proposal's options");
    goto out;
  }
  /* Not open yet, and opening within the hour, is not final: a delivery
   * sent early (a council decides before the parent opens the question)
   * is retried by the child's outbox until it opens. Not longer: the
   * child's outbox sends in order, and a retried row holds every record
   * behind it, recalls included (as for a clock ahead, FUTURE_RETRY).
   * Further ahead, it is set aside; the child's convener resends it once
   * the question is open (`council federation resend`). */
  if (!row.closed && a->now < row.opens) {
    if (row.opens - a->now <= FUTURE_RETRY)
      err = refuse(a, CN_ERR_TOO_EARLY, "the parent proposal opens at %" PRIu64
                   "; send again then", row.opens);
    else
      err = refuse(a, CN_ERR_WINDOW_CLOSED, "the parent proposal opens at %" PRIu64
                   ", more than an hour from now; send again once it is open", row.opens);
    goto out;
  }
  if (row.closed || a->now >= row.closes) {
    err = refuse(a, CN_ERR_WINDOW_CLOSED, "the parent proposal is not open for voting");
    goto out;
  }
  if (p->rule && p->rule->weight_by_roll &&
      cn_store_child_weight_get(a->n->store, child, &weight) < 0) {
    err = refuse(a, CN_ERR_INTERNAL, "database error");
    goto out;
  }
  text[0] = 0;
  for (size_t i = 0; i < n_choices; i++)
    used += (size_t)snprintf(text + used, sizeof text - used, "%s%u", i ? "," : "", choices[i]);
  memset(&b, 0, sizeof b);
  memcpy(b.member, child, CN_PK_BYTES);
  b.seq = a->seq;
  b.choices = text;
  b.weight = weight ? weight : 1;
  b.has_via = 1;
  memcpy(b.via, via, CN_HASH_BYTES);
  if (cn_store_ballot_put(a->n->store, pid, &b) != 0)
    err = refuse(a, CN_ERR_INTERNAL, "database error");
out:
  protobuf_c_message_free_unpacked(&p->base, NULL);
  return err;
}

static cn_err foreign_delivery(apply_t *a)
{
  Councilnet__Delivery *m = (Councilnet__Delivery *)a->body;
  ProtobufCMessage *mandate_m = NULL, *cred_m = NULL;
  Councilnet__Mandate *mandate;
  Councilnet__Credential *cred;
  cn_store_credential_t c;
  cn_store_mandate_t row;
  uint8_t mandate_id[CN_HASH_BYTES], cred_id[CN_HASH_BYTES];
  char early[256] = "";     /* the first TOO_EARLY's message */
  cn_err err;
  int rc;

  /* Back to the original signers: the child signed mandate and credential,
   * the delegate countersigned (the envelope we opened). */
  if ((err = open_inner(a, &m->mandate, "mandate", a->origin, &councilnet__mandate__descriptor,
                        mandate_id, &mandate_m)) != CN_OK)
    goto out;
  if ((err = open_inner(a, &m->credential, "credential", a->origin,
                        &councilnet__credential__descriptor, cred_id, &cred_m)) != CN_OK)
    goto out;
  mandate = (Councilnet__Mandate *)mandate_m;
  cred = (Councilnet__Credential *)cred_m;
  if (mandate->credential.len != CN_HASH_BYTES ||
      memcmp(mandate->credential.data, cred_id, CN_HASH_BYTES) != 0 ||
      mandate->parent.len != CN_PK_BYTES || memcmp(mandate->parent.data, a->n->pk, CN_PK_BYTES) != 0) {
    err = refuse(a, CN_ERR_INVALID, "the mandate is not bound to this credential at this node");
    goto out;
  }
  {
    /* A credential first seen inside a delivery (issued before the child
     * set its parent, so never sent alone) goes into our log as the child
     * signed it, as one sent alone would: its id then names a record here,
     * for GET /v1/records and the delegate list. */
    uint64_t cseq = a->seq;
    int known = cn_store_credential_get(a->n->store, cred_id, &c);
    if (known == 1) {
      int found = cn_store_log_find(a->n->store, cred_id, found_seq, &cseq);
      if (found < 0 || (found == 1 && node_append(a->n, cred_id, "credential", a->origin,
                                                   m->credential.data, m->credential.len,
                                                   a->now, &cseq, NULL) != 0))
        known = -1;
    }
    if (known < 0) {
      err = refuse(a, CN_ERR_INTERNAL, "database error");
      goto out;
    }
    if ((err = credential_adopt(a, cred_id, cseq, cred)) != CN_OK)
      goto out;
  }
  if ((err = foreign_credential_live(a, cred_id, CN_HASH_BYTES, &c)) != CN_OK)
    goto out;
  if (memcmp(a->rec->signer, c.delegate, CN_PK_BYTES) != 0) {
    err = refuse(a, CN_ERR_FORBIDDEN, "only the credential's delegate can present the mandate");
    goto out;
  }
  for (size_t i = 0; i < mandate->n_instructions; i++) {
    const Councilnet__Instruction *in = mandate->instructions[i];
    int passed = 0;
    if (in->decision.len != CN_HASH_BYTES) {
      err = refuse(a, CN_ERR_INVALID, "instruction %zu: malformed decision id", i);
      goto out;
    }
    rc = cn_store_foreign_decision_get(a->n->store, a->origin, in->decision.data, &passed);
    if (rc < 0 || rc == 1 || !passed) {
      err = rc < 0 ? refuse(a, CN_ERR_INTERNAL, "database error")
            : refuse(a, rc == 1 ? CN_ERR_NOT_FOUND : CN_ERR_INVALID,
                     "instruction %zu cites a decision the council %s", i,
                     rc == 1 ? "never sent" : "did not pass");
      goto out;
    }
  }
  rc = cn_store_mandate_get(a->n->store, mandate_id, &row);
  if (rc < 0) {
    err = refuse(a, CN_ERR_INTERNAL, "database error");
    goto out;
  }
  /* Presented once. The same delivery again is caught as a duplicate
   * record before this; a new countersignature of a mandate presented
   * before would replay its instructions over newer ones. */
  if (rc == 0) {
    err = refuse(a, CN_ERR_DUPLICATE, "the mandate was presented here already");
    goto out;
  }
  memset(&row, 0, sizeof row);
  memcpy(row.id, mandate_id, CN_HASH_BYTES);
  row.seq = a->seq;
  memcpy(row.credential, cred_id, CN_HASH_BYTES);
  row.envelope = m->mandate.data;
  row.envelope_len = m->mandate.len;
  if (cn_store_mandate_put(a->n->store, &row) != 0 ||
      cn_store_mandate_set_delivered(a->n->store, mandate_id) != 0) {
    err = refuse(a, CN_ERR_INTERNAL, "database error");
    goto out;
  }
  /* Binding instructions on our open proposals become the council's ballot;
   * budget projects it proposes join our rounds' lists. TOO_EARLY for one
   * instruction is answered only if no other is refused for good: the
   * child would retry the delivery only to have it set aside later. (A
   * refusal rolls back the whole delivery, ballots cast meanwhile too.) */
  for (size_t i = 0; i < mandate->n_instructions; i++) {
    const Councilnet__Instruction *in = mandate->instructions[i];
    if (in->project && in->round.len == CN_HASH_BYTES) {
      if ((err = budget_propose(a, in)) != CN_OK)
        goto out;
      continue;
    }
    if (!in->binding || in->parent_proposal.len != CN_HASH_BYTES)
      continue;
    err = child_ballot(a, a->origin, in->parent_proposal.data, in->choices, in->n_choices,
                       mandate_id, 1);
    if (err == CN_ERR_TOO_EARLY && !early[0]) {
      snprintf(early, sizeof early, "%s", a->msg);
      continue;
    }
    if (err != CN_OK && err != CN_ERR_TOO_EARLY)
      goto out;
  }
  if (early[0]) {
    err = refuse(a, CN_ERR_TOO_EARLY, "%s", early);
    goto out;
  }
  err = CN_OK;
out:
  if (mandate_m)
    protobuf_c_message_free_unpacked(mandate_m, NULL);
  if (cred_m)
    protobuf_c_message_free_unpacked(cred_m, NULL);
  return err;
}

typedef struct instr_ctx_t {
  cn_node_t *n;
  const uint8_t *credential;
  const uint8_t *proposal;
  int found, binding;
  uint32_t choices[64];
  size_t n_choices;
} instr_ctx_t;

/* Find the latest instruction on PROPOSAL in mandates bound to CREDENTIAL. */
static int instr_find(void *ctx, const cn_store_mandate_t *m)
{
  instr_ctx_t *k = ctx;
  Councilnet__Envelope *env;
  Councilnet__Mandate *md = NULL;

  if (memcmp(m->credential, k->credential, CN_HASH_BYTES) != 0)
    return 0;
  env = councilnet__envelope__unpack(NULL, m->envelope_len, m->envelope);
  if (env)
    md = councilnet__mandate__unpack(NULL, env->body.len, env->body.data);
  for (size_t i = 0; md && i < md->n_instructions; i++) {
    const Councilnet__Instruction *in = md->instructions[i];
    if (in->parent_proposal.len != CN_HASH_BYTES ||
        memcmp(in->parent_proposal.data, k->proposal, CN_HASH_BYTES) != 0)
      continue;
    k->found = 1;
    k->binding = in->binding;
    k->n_choices = in->n_choices < 64 ? in->n_choices : 64;
    memcpy(k->choices, in->choices, k->n_choices * sizeof *k->choices);
  }
  if (md)
    councilnet__mandate__free_unpacked(md, NULL);
  if (env)
    councilnet__envelope__free_unpacked(env, NULL);
  return 0;
}

static cn_err apply_delegate_ballot(apply_t *a)
{
  Councilnet__DelegateBallot *m = (Councilnet__DelegateBallot *)a->body;
  cn_store_credential_t c;
  instr_ctx_t k;
  ProtobufCBinaryData cid = m->credential;
  cn_err err;

  if ((err = credential_live(a, &cid, &c)) != CN_OK)
    return err;
  if (!c.has_issuer)
    return refuse(a, CN_ERR_INVALID, "a delegate ballot uses a child council's credential");
  if (memcmp(a->rec->signer, c.delegate, CN_PK_BYTES) != 0)
    return refuse(a, CN_ERR_FORBIDDEN, "only the credential's delegate can cast its ballot");
  if (m->proposal.len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "proposal must be a 32-byte record id");
  memset(&k, 0, sizeof k);
  k.n = a->n;
  k.credential = c.id;
  k.proposal = m->proposal.data;
  if (cn_store_mandate_scan(a->n->store, instr_find, &k) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  /* A delegate carries the assembly's decisions, nothing else. */
  if (!k.found)
    return refuse(a, CN_ERR_MANDATE_VIOLATION, "the delegate holds no mandate on this proposal");
  if (k.binding && (k.n_choices != m->n_choices ||
                    memcmp(k.choices, m->choices, k.n_choices * sizeof *k.choices) != 0))
    return refuse(a, CN_ERR_MANDATE_VIOLATION,
                  "the ballot contradicts a binding instruction of the mandate");
  return child_ballot(a, c.issuer, m->proposal.data, m->choices, m->n_choices, a->rec->id, 0);
}

/* ---- following the parent's log ---- */

/* The parent recalled one of our delegates itself (members voted there):
 * void the credential here too, in our own log. */
static int follow_recall(cn_node_t *n, const uint8_t *body, size_t len)
{
  Councilnet__Recall *pr = councilnet__recall__unpack(NULL, len, body);
  Councilnet__Recall r = COUNCILNET__RECALL__INIT;
  cn_store_credential_t c;
  uint8_t id[CN_HASH_BYTES];
  int rc = 0;

  if (!pr || pr->credential.len != CN_HASH_BYTES ||
      cn_store_credential_get(n->store, pr->credential.data, &c) != 0 || c.has_issuer ||
      c.recalled || !n->has_parent || memcmp(c.parent, n->parent_key, CN_PK_BYTES) != 0)
    goto out;      /* not one of ours for this parent, or void already */
  r.node.data = n->pk;
  r.node.len = CN_PK_BYTES;
  r.created = cn_node_now(n);
  r.credential.data = c.id;
  r.credential.len = CN_HASH_BYTES;
  r.delegate.data = c.delegate;
  r.delegate.len = CN_PK_BYTES;
  r.votes = pr->votes;
  r.roll = pr->roll;
  rc = node_recall(n, &r, 0, id);
out:
  if (pr)
    councilnet__recall__free_unpacked(pr, NULL);
  return rc;
}

uint64_t cn_node_follow_after(cn_node_t *n)
{
  return meta_u64(n, "parent_seq", 0);
}

int cn_node_follow_apply(cn_node_t *n, const uint8_t *page, size_t len, size_t *applied,
                         char *err, size_t errlen)
{
  Councilnet__LogPage *lp = councilnet__log_page__unpack(NULL, len, page);
  cn_log_verifier_t v;
  uint8_t *hash = NULL;
  size_t hash_len = 0;
  char num[32];
  int rc = -1;

  *applied = 0;
  if (!lp) {
    snprintf(err, errlen, "parent log page does not decode");
    return -1;
  }
  if (!n->has_parent) {
    snprintf(err, errlen, "no parent");
    goto out;
  }
  if (lp->n_entries == 0) {
    rc = 0;            /* nothing new: no transaction, no fsync */
    goto out;
  }
  cn_log_verifier_init(&v, n->parent_key);
  v.seq = cn_node_follow_after(n);
  if (cn_store_meta_get(n->store, "parent_hash", &hash, &hash_len) == 0 && hash_len == CN_HASH_BYTES)
    memcpy(v.hash, hash, CN_HASH_BYTES);
  if (node_begin(n) != 0) {
    snprintf(err, errlen, "database busy");
    goto out;
  }
  for (size_t i = 0; i < lp->n_entries; i++) {
    Councilnet__LogEntry *e = lp->entries[i];
    cn_record_t rec;
    if (cn_log_verifier_step(&v, e->seq, e->prev.data, e->prev.len, e->record_id.data,
                             e->record_id.len, e->received, e->hash.data, e->hash.len,
                             e->envelope.data, e->envelope.len) != 0) {
      snprintf(err, errlen, "parent log entry %llu: %s", (unsigned long long)e->seq, v.error);
      break;
    }
    if (cn_record_open(e->envelope.data, e->envelope.len, &rec) != CN_OK)
      continue;
    if (strcmp(rec.kind, "budget_round") == 0) {
      /* a round in the parent's own log is the parent's: we are one below */
      if (budget_round_adopt(n, e->envelope.data, e->envelope.len, e->seq, 1, 1) != 0) {
        cn_record_close(&rec);
        goto fail;
      }
    } else if (strcmp(rec.kind, "recall") == 0 && memcmp(rec.signer, n->parent_key, CN_PK_BYTES) == 0) {
      if (follow_recall(n, rec.body, rec.body_len) != 0) {
        cn_record_close(&rec);
        goto fail;
      }
    } else if (strcmp(rec.kind, "budget_projects") == 0) {
      if (budget_projects_adopt(n, e->envelope.data, e->envelope.len) != 0) {
        cn_record_close(&rec);
        goto fail;
      }
    } else if (strcmp(rec.kind, "budget_relay") == 0 &&
               memcmp(rec.signer, n->parent_key, CN_PK_BYTES) == 0) {
      /* Not strict: a relay from a newer parent may carry fields this
       * node does not know yet, and refusing it would stop the round (and
       * the following of the parent's log) here. */
      Councilnet__BudgetRelay *r = councilnet__budget_relay__unpack(NULL, rec.body_len, rec.body);
      int bad = !r ||
                budget_round_adopt(n, r->round.data, r->round.len, e->seq, 1,
                                   budget_relay_depth(r)) != 0 ||
                budget_projects_adopt(n, r->round.data, r->round.len) != 0;
      if (r)
        councilnet__budget_relay__free_unpacked(r, NULL);
      if (bad) {
        cn_record_close(&rec);
        goto fail;
      }
    } else if (strcmp(rec.kind, "proposal") == 0) {
      if (cn_store_parent_proposal_put(n->store, rec.id, e->seq, rec.body, rec.body_len) != 0)
        goto fail;
    } else if (strcmp(rec.kind, "decision") == 0 &&
               memcmp(rec.signer, n->parent_key, CN_PK_BYTES) == 0) {
      Councilnet__Decision *d = councilnet__decision__unpack(NULL, rec.body_len, rec.body);
      int bad = !d || d->proposal.len != CN_HASH_BYTES ||
                cn_store_parent_proposal_decide(n->store, d->proposal.data, rec.body,
                                                rec.body_len) != 0;
      if (d)
        councilnet__decision__free_unpacked(d, NULL);
      if (bad) {
        cn_record_close(&rec);
        goto fail;
      }
    }
    cn_record_close(&rec);
    (*applied)++;
  }
  snprintf(num, sizeof num, "%llu", (unsigned long long)v.seq);
  if (cn_store_meta_set(n->store, "parent_seq", num, strlen(num)) != 0 ||
      cn_store_meta_set(n->store, "parent_hash", v.hash, CN_HASH_BYTES) != 0 || node_commit(n) != 0)
    goto fail;
  rc = *applied == lp->n_entries ? 0 : -1;
  goto out;
fail:
  node_rollback(n);
  snprintf(err, errlen, "database error");
  rc = -1;
out:
  free(hash);
  councilnet__log_page__free_unpacked(lp, NULL);
  return rc;
}

/* ---- outbox, for the federation timer ---- */

int cn_node_outbox_first(cn_node_t *n, uint64_t *id, uint8_t **env, size_t *len)
{
  return cn_store_outbox_first(n->store, id, env, len);
}

int cn_node_outbox_done(cn_node_t *n, uint64_t id)
{
  return cn_store_outbox_delete(n->store, id);
}

int cn_node_outbox_bury(cn_node_t *n, uint64_t id, const char *why)
{
  int rc;
  if (cn_store_begin(n->store) != 0)
    return -1;
  rc = cn_store_outbox_bury(n->store, id, why, cn_node_now(n));
  if (rc == 0)
    rc = cn_store_commit(n->store);
  else
    cn_store_rollback(n->store);
  return rc;
}

/* ---- federation queries ---- */

static int parent_proposal_collect(void *ctx, const cn_store_parent_proposal_t *pp)
{
  list_ctx_t *l = ctx;
  ProtobufCAllocator alloc = { arena_pb_alloc, arena_pb_free, l->arena };
  Councilnet__ProposalView *v = cn_arena_alloc(l->arena, sizeof *v);

  if (!v)
    return list_push(l, NULL) ? 1 : 1;
  councilnet__proposal_view__init(v);
  v->id.data = cn_arena_memdup(l->arena, pp->id, CN_HASH_BYTES);
  v->id.len = CN_HASH_BYTES;
  v->seq = pp->seq;
  v->proposal = councilnet__proposal__unpack(&alloc, pp->body_len, pp->body);
  if (pp->decision)
    v->decision = councilnet__decision__unpack(&alloc, pp->decision_len, pp->decision);
  v->state = v->decision ? COUNCILNET__PROPOSAL_STATE__CLOSED
             : v->proposal && l->now < v->proposal->opens ? COUNCILNET__PROPOSAL_STATE__UPCOMING
             : COUNCILNET__PROPOSAL_STATE__OPEN;
  return list_push(l, v->proposal && v->id.data ? v : NULL) ? 1 : 0;
}

cn_err cn_node_query_parent_proposals(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__ProposalList list = COUNCILNET__PROPOSAL_LIST__INIT;
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&l, 0, sizeof l);
  l.node = n;
  l.now = cn_node_now(n);
  l.arena = cn_arena_new();
  if (!l.arena || cn_store_parent_proposal_scan(n->store, parent_proposal_collect, &l) != 0 ||
      l.failed)
    goto out;
  list.n_proposals = l.n;
  list.proposals = (Councilnet__ProposalView **)l.items;
  err = answer_pack(&list.base, out);
out:
  cn_arena_free(l.arena);
  return err;
}

/* Child councils: members that reported a roll. */
static int child_collect(void *ctx, const cn_store_key_t *k)
{
  list_ctx_t *l = ctx;
  uint64_t roll = 0;
  int rc;

  if (!k->member)
    return 0;
  rc = cn_store_child_weight_get(l->node->store, k->key, &roll);
  if (rc < 0)
    return list_push(l, NULL) ? 1 : 1;
  if (rc == 1)
    return 0;
  return member_collect(ctx, k);
}

#define DEAD_LETTERS_SHOWN 50

static int dead_collect(void *ctx, const cn_store_dead_t *d)
{
  list_ctx_t *l = ctx;
  Councilnet__DeadLetter *m = cn_arena_alloc(l->arena, sizeof *m);
  uint8_t *id = cn_arena_alloc(l->arena, CN_HASH_BYTES);
  char *kind = cn_arena_strdup(l->arena, d->kind), *error = cn_arena_strdup(l->arena, d->error);

  if (!m || !id || !kind || !error)
    return list_push(l, NULL) ? 1 : 1;
  councilnet__dead_letter__init(m);
  memcpy(id, d->record_id, CN_HASH_BYTES);
  m->id = d->id;
  m->record_id.data = id;
  m->record_id.len = CN_HASH_BYTES;
  m->kind = kind;
  m->error = error;
  m->at = d->at;
  return list_push(l, m) ? 1 : 0;
}

cn_err cn_node_query_federation(cn_node_t *n, const char *last_error, cn_answer_t *out)
{
  Councilnet__FederationStatus f = COUNCILNET__FEDERATION_STATUS__INIT;

  if (n->has_parent) {
    f.parent_url = n->parent_url;
    f.parent_key.data = n->parent_key;
    f.parent_key.len = CN_PK_BYTES;
  }
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&l, 0, sizeof l);
  l.node = n;
  l.arena = cn_arena_new();
  if (!l.arena || cn_store_outbox_count(n->store, &f.outbox, &f.dead) != 0 ||
      cn_store_key_scan(n->store, child_collect, &l) != 0 || l.failed)
    goto out;
  f.parent_seq = cn_node_follow_after(n);
  f.last_error = (char *)(last_error ? last_error : "");
  f.children = (Councilnet__Member **)l.items;
  f.n_children = l.n;
  {
    list_ctx_t dl;
    memset(&dl, 0, sizeof dl);
    dl.node = n;
    dl.arena = l.arena;
    if (cn_store_outbox_dead_scan(n->store, DEAD_LETTERS_SHOWN, dead_collect, &dl) != 0 ||
        dl.failed)
      goto out;
    f.dead_letters = (Councilnet__DeadLetter **)dl.items;
    f.n_dead_letters = dl.n;
  }
  err = answer_pack(&f.base, out);
out:
  cn_arena_free(l.arena);
  return err;
}

/* ---- participatory budgeting ---- */

#define BUDGET_PROJECTS_MAX 512
/* Seconds the round's owner waits past `closes` for missing child
 * profiles. A node below it waits half as long per level (budget_grace),
 * so that its mandate is due before its parent stops waiting. */
#define BUDGET_GRACE 600
/* ... but never less than this: a child council that is online needs a
 * few federation ticks to close and send its mandate, and up to
 * backoff_cap_ms (10 s by default) more if a send failed; 60 s leaves room
 * for several such retries. The cost: levels from depth 4 down all wait
 * 60 s (600 >> 4 is 37), so depth 4 and 5 race again as every level did
 * before; depths 0 to 4 wait 600, 300, 150, 75, 60. */
#define BUDGET_GRACE_FLOOR 60
/* Depths past this are taken as this (a relay's hops come from the
 * parent; the grace is at its floor long before). */
#define BUDGET_DEPTH_MAX 64
/* A budget mandate too large for one record goes up in parts, at most this
 * many (some 40 million approval sets). A parent keeps two mandates of a
 * child per round at most (cn_store_profile_put): twice this many parts. */
#define BUDGET_PARTS_MAX 4096

static int has_control(const char *t)
{
  for (; *t; t++)
    if ((unsigned char)*t < 0x20 || *t == 0x7f)
      return 1;
  return 0;
}

static cn_err check_round(apply_t *a, const Councilnet__BudgetRound *r)
{
  if (!r->title[0] || r->total == 0 || r->n_projects == 0 || r->n_projects > BUDGET_PROJECTS_MAX)
    return refuse(a, CN_ERR_INVALID, "a round has a title, a total and 1 to %d projects",
                  BUDGET_PROJECTS_MAX);
  /* what cn_budget_allocate() takes: past it the round could never close */
  if (r->total > CN_BUDGET_MAX_AMOUNT)
    return refuse(a, CN_ERR_INVALID, "the total is at most 2^53");
  if (r->opens >= r->closes || r->closes > (uint64_t)INT64_MAX)
    return refuse(a, CN_ERR_INVALID, "the window must open before it closes");
  if (r->rule != COUNCILNET__BUDGET_RULE__GREEDY && r->rule != COUNCILNET__BUDGET_RULE__EQUAL_SHARES)
    return refuse(a, CN_ERR_INVALID, "unknown allocation rule");
  if (r->proposals_close && r->proposals_close > r->opens)
    return refuse(a, CN_ERR_INVALID, "project proposals must close before voting opens");
  if (has_control(r->title))
    return refuse(a, CN_ERR_INVALID, "the round's title has control characters");
  for (size_t i = 0; i < r->n_projects; i++) {
    const Councilnet__BudgetProject *p = r->projects[i];
    if (has_control(p->title) || has_control(p->id) || strpbrk(p->id, " \"") )
      return refuse(a, CN_ERR_INVALID, "project %zu: no control characters, and an id without"
                    " spaces or quotes", i);
    if (!p->id[0] || strlen(p->id) >= 64 || strpbrk(p->id, ";,\n") || p->cost == 0 ||
        p->cost > CN_BUDGET_MAX_AMOUNT || (p->proposer.len && p->proposer.len != CN_PK_BYTES))
      return refuse(a, CN_ERR_INVALID, "project %zu: an id (no ; or ,), a cost up to 2^53, a "
                    "proposer key", i);
    for (size_t j = 0; j < i; j++)
      if (strcmp(r->projects[j]->id, p->id) == 0)
        return refuse(a, CN_ERR_INVALID, "project id '%s' appears twice", p->id);
  }
  for (size_t i = 0; i < r->n_needs; i++)
    if (r->needs[i]->assembly.len != CN_PK_BYTES || r->needs[i]->permille == 0)
      return refuse(a, CN_ERR_INVALID, "need weight %zu: an assembly key and a weight", i);
  return CN_OK;
}

static cn_err apply_budget_round(apply_t *a)
{
  Councilnet__BudgetRound *r = (Councilnet__BudgetRound *)a->body;
  cn_store_round_t row;
  cn_err err;

  if ((err = require_convener(a)) != CN_OK)
    return err;
  if (a->len > CN_RECORD_MAX - RELAY_SLACK)
    return refuse(a, CN_ERR_TOO_LARGE, "a round of %zu bytes leaves no room to pass it down to "
                  "child councils (at most %d)", a->len, CN_RECORD_MAX - RELAY_SLACK);
  if ((err = check_round(a, r)) != CN_OK)
    return err;
  /* A round that takes proposals publishes a final list, which holds the
   * round's projects and its id: a child must be able to wrap that too,
   * even with no project proposed (the list can be larger than the round). */
  if (r->proposals_close) {
    uint64_t bytes = 0;
    if (list_bytes(a->n, a->rec->id, r, 0, &bytes) != 0)
      return refuse(a, CN_ERR_INTERNAL, "database error");
    if (bytes > CN_RECORD_MAX - RELAY_SLACK)
      return refuse(a, CN_ERR_TOO_LARGE, "the round's final list would be %llu bytes; it must "
                    "leave room to pass it down to child councils (at most %d)",
                    (unsigned long long)bytes, CN_RECORD_MAX - RELAY_SLACK);
  }
  if (r->closes <= a->now)
    return refuse(a, CN_ERR_WINDOW_CLOSED, "the window closes in the past");
  memset(&row, 0, sizeof row);
  memcpy(row.id, a->rec->id, CN_HASH_BYTES);
  row.seq = a->seq;
  row.owned = 1;
  row.opens = r->opens;
  row.closes = r->closes;
  row.body = a->rec->body;
  row.body_len = a->rec->body_len;
  row.envelope = a->buf;
  row.envelope_len = a->len;
  if (cn_store_round_put(a->n->store, &row) != 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

/* Pass a round or a final list (ENV) down to our children, wrapped in a
 * budget_relay. One too large to wrap (a parent's, at the limit) is taken
 * in here all the same and not passed down: refusing it would stop this
 * node following its parent at all. Return 0 or -1. */
static int budget_relay_append(cn_node_t *n, const uint8_t *env, size_t len, uint32_t hops)
{
  Councilnet__BudgetRelay rl = COUNCILNET__BUDGET_RELAY__INIT;

  if (len > CN_RECORD_MAX - RELAY_SLACK) {
    node_warn(n, "a budget record of %zu bytes is too large to pass down to child councils", len);
    return 0;
  }
  rl.node.data = n->pk;
  rl.node.len = CN_PK_BYTES;
  rl.created = cn_node_now(n);
  rl.round.data = (uint8_t *)env;
  rl.round.len = len;
  rl.hops = hops;
  return node_append_own(n, "budget_relay", &rl.base, rl.created, NULL, NULL, NULL, NULL);
}

/* This node's depth below a round's owner, when it takes the round in from
 * its parent's relay R: one more than the parent's. A relay without hops
 * comes from a parent from before schema 12, which relays only rounds it
 * follows: it is at depth 1 at least, so this node at 2 at least. Taking
 * the least depth the parent can be at gives the longest grace that can
 * still be right: a parent from before waits the full grace itself, and a
 * new one above it at depth 1 waits half, which this node's 150 s still
 * meets (taking 1 would give 300 s, and race that parent's parent). */
static uint32_t budget_relay_depth(const Councilnet__BudgetRelay *r)
{
  if (r->hops == 0)
    return 2;
  if (r->hops >= BUDGET_DEPTH_MAX)
    return BUDGET_DEPTH_MAX;
  return r->hops + 1;
}

/* Seconds past its `closes` this node waits for its child councils'
 * mandates on round R: the full grace at the owner, else halved per level
 * below the owner, down to the floor. A round taken in before schema 12
 * (depth unknown) counts as depth 2, as a relay without hops does: its
 * parent may have been upgraded since and wait half the grace, and this
 * node must not be due after it. */
static uint64_t budget_grace(const cn_store_round_t *r)
{
  uint32_t depth = r->depth;
  uint64_t g;

  if (r->owned)
    return BUDGET_GRACE;
  if (depth == 0)
    depth = 2;      /* taken in before schema 12: as a relay without hops */
  g = depth < 32 ? (uint64_t)BUDGET_GRACE >> depth : 0;
  return g < BUDGET_GRACE_FLOOR ? BUDGET_GRACE_FLOOR : g;
}

/* Take in a round from the parent's log (ENV: the round's envelope, as its
 * owner signed it), at DEPTH levels below its owner, and, if RELAY, pass it
 * on to our own children with that depth. */
static int budget_round_adopt(cn_node_t *n, const uint8_t *env, size_t len, uint64_t seq, int relay,
                              uint32_t depth)
{
  cn_store_round_t row;
  Councilnet__BudgetRound *r = NULL;
  cn_record_t rec;
  int rc = -1;

  if (cn_record_open(env, len, &rec) != CN_OK || strcmp(rec.kind, "budget_round") != 0) {
    cn_record_close(&rec);
    return 0;   /* not a round: ignore */
  }
  r = councilnet__budget_round__unpack(NULL, rec.body_len, rec.body);
  if (!r) {
    rc = 0;
    goto out;
  }
  if (cn_store_round_get(n->store, rec.id, &row) == 0) {
    /* Known already. Taken in again from a new parent deeper in the tree
     * (parent_set reads the new parent's log from its start): the grace
     * must shrink with the depth, here and below, or this node's mandate
     * would be due when (or after) the new parent stops waiting. A node
     * moved up keeps its depth: waiting less than it could is safe. */
    rc = 0;
    if (!row.owned && depth > row.depth &&
        (cn_store_round_deepen(n->store, rec.id, depth) != 0 ||
         (relay && budget_relay_append(n, env, len, depth) != 0)))
      rc = -1;
    goto out;
  }
  memset(&row, 0, sizeof row);
  memcpy(row.id, rec.id, CN_HASH_BYTES);
  row.seq = seq;
  row.opens = r->opens;
  row.closes = r->closes;
  row.body = rec.body;
  row.body_len = rec.body_len;
  row.envelope = env;
  row.envelope_len = len;
  row.depth = depth;
  if (cn_store_round_put(n->store, &row) != 0)
    goto out;
  if (relay && budget_relay_append(n, env, len, depth) != 0)
    goto out;
  rc = 0;
out:
  if (r)
    councilnet__budget_round__free_unpacked(r, NULL);
  cn_record_close(&rec);
  return rc;
}

static cn_err round_load(apply_t *a, const ProtobufCBinaryData *id, cn_store_round_t *row,
                         Councilnet__BudgetRound **out)
{
  int rc;
  *out = NULL;
  if (id->len != CN_HASH_BYTES)
    return refuse(a, CN_ERR_INVALID, "round must be a 32-byte record id");
  rc = cn_store_round_get(a->n->store, id->data, row);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 1)
    return refuse(a, CN_ERR_NOT_FOUND, "no such budget round here");
  *out = councilnet__budget_round__unpack(NULL, row->body_len, row->body);
  return *out ? CN_OK : refuse(a, CN_ERR_INTERNAL, "stored round unreadable");
}

/* The round's projects as they stand: the owner's final list once
 * published, else the round's own. *LIST (free with
 * protobuf_c_message_free_unpacked when set) holds the published list. */
static Councilnet__BudgetProject **round_projects(const cn_store_round_t *row,
                                                  const Councilnet__BudgetRound *r, size_t *n,
                                                  Councilnet__BudgetProjects **list)
{
  *list = NULL;
  if (row->listed && row->projects) {
    *list = councilnet__budget_projects__unpack(NULL, row->projects_len, row->projects);
    if (*list) {
      *n = (*list)->n_projects;
      return (*list)->projects;
    }
  }
  *n = r->n_projects;
  return r->projects;
}

static cn_err apply_budget_ballot(apply_t *a)
{
  Councilnet__BudgetBallot *b = (Councilnet__BudgetBallot *)a->body;
  Councilnet__BudgetRound *r = NULL;
  cn_store_round_t row;
  Councilnet__BudgetProjects *list = NULL;
  cn_store_key_t k;
  char text[BUDGET_PROJECTS_MAX * 4 + 1];
  uint32_t *sorted = NULL;
  size_t used = 0, n_round = 0;
  cn_err err;
  int rc;

  if ((err = signer_get(a, &k)) != CN_OK)
    return err;
  if (!k.member)
    return refuse(a, CN_ERR_NOT_MEMBER, "the signer is not a member");
  /* its voters are counted in its budget mandate: a ballot too would count twice */
  if (k.council)
    return refuse(a, CN_ERR_FORBIDDEN, "a child council takes part through its budget mandate");
  if ((err = round_load(a, &b->round, &row, &r)) != CN_OK)
    return err;
  if (row.mandated || row.allocated || a->now < row.opens || a->now >= row.closes) {
    err = refuse(a, CN_ERR_WINDOW_CLOSED, "the budget round is not open for ballots");
    goto out;
  }
  round_projects(&row, r, &n_round, &list);
  if (b->n_projects > n_round) {
    err = refuse(a, CN_ERR_INVALID, "more projects than the round has");
    goto out;
  }
  sorted = malloc((b->n_projects + 1) * sizeof *sorted);
  if (!sorted) {
    err = refuse(a, CN_ERR_INTERNAL, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < b->n_projects; i++) {
    size_t j = i;
    if (b->projects[i] >= n_round) {
      err = refuse(a, CN_ERR_INVALID, "project %u is not in the round", b->projects[i]);
      goto out;
    }
    for (; j > 0 && sorted[j - 1] > b->projects[i]; j--)
      sorted[j] = sorted[j - 1];
    sorted[j] = b->projects[i];
  }
  text[0] = 0;
  for (size_t i = 0; i < b->n_projects; i++) {
    if (i && sorted[i] == sorted[i - 1]) {
      err = refuse(a, CN_ERR_INVALID, "a project is approved twice");
      goto out;
    }
    /* A round taken in from a parent may list more than this node's own
     * cap: the text must still fit, never run past it. */
    rc = snprintf(text + used, sizeof text - used, "%s%u", i ? "," : "", sorted[i]);
    if (rc < 0 || (size_t)rc >= sizeof text - used) {
      err = refuse(a, CN_ERR_INVALID, "more projects than this node takes in one ballot");
      goto out;
    }
    used += (size_t)rc;
  }
  rc = cn_store_budget_ballot_put(a->n->store, row.id, a->rec->signer, a->seq, text);
  if (rc < 0)
    err = refuse(a, CN_ERR_INTERNAL, "database error");
  else if (rc == 0)
    err = refuse(a, CN_ERR_ALREADY_VOTED, "the member has already voted in this round");
out:
  free(sorted);
  if (list)
    councilnet__budget_projects__free_unpacked(list, NULL);
  if (r)
    councilnet__budget_round__free_unpacked(r, NULL);
  return err;
}

/* A child's budget mandate labels each approval set with the assembly its
 * voters belong to (it, or one below it): the label weighs the set under
 * the round's need weights. Refuse the labels we can tell are not the
 * child's to give: this node's own, another child council's, or a key on
 * another child's forwarded roll (unless on this child's too). Keys below
 * our grandchildren we cannot tell apart (SECURITY.md). */
static cn_err budget_label_check(apply_t *a, const uint8_t label[CN_PK_BYTES], size_t i)
{
  cn_store_key_t k;
  int rc;

  if (memcmp(label, a->origin, CN_PK_BYTES) == 0)
    return CN_OK;
  if (memcmp(label, a->n->pk, CN_PK_BYTES) == 0)
    return refuse(a, CN_ERR_INVALID, "set %zu: labelled as this node's own assembly", i);
  /* Nor our parent's: passed on up, the label would make our parent refuse
   * our whole mandate, every voter below us with it. */
  if (a->n->has_parent && memcmp(label, a->n->parent_key, CN_PK_BYTES) == 0)
    return refuse(a, CN_ERR_INVALID, "set %zu: labelled as our parent's own assembly", i);
  rc = cn_store_key_get(a->n->store, label, &k);
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  if (rc == 0 && k.member && k.council)
    return refuse(a, CN_ERR_INVALID, "set %zu: labelled as another child council", i);
  rc = cn_store_child_roll_has(a->n->store, a->origin, label);
  if (rc == 0) {
    /* not on this child's roll: on another's? (on nobody's: cannot tell) */
    int other = cn_store_child_roll_elsewhere(a->n->store, a->origin, label);
    if (other == 1)
      return refuse(a, CN_ERR_INVALID, "set %zu: labelled as an assembly of another child "
                    "council", i);
    rc = other;
  }
  if (rc < 0)
    return refuse(a, CN_ERR_INTERNAL, "database error");
  return CN_OK;
}

/* A child's budget mandate, or one part of it (part/parts; 0/0 is a
 * whole mandate, as older nodes send it). Each part is checked alone as a
 * whole mandate is, and against the parts of the same `created` stored
 * before it: the same number of parts and voters, no part twice, and the
 * sets of all parts counting no more voters than the mandate says (nor, once
 * all are here, fewer); the voters no more than the people the council
 * reported it speaks for. A part of a mandate older than the child's
 * newest one here is refused. The mandate counts once all its parts are
 * here (cn_store_profile_scan); until then the child's newest whole
 * mandate before it still counts, so that a round closed in between
 * leaves none of the child's voters out (cn_store_profile_put keeps the
 * two and drops the rest). */
static cn_err foreign_budget_mandate(apply_t *a)
{
  Councilnet__BudgetMandate *m = (Councilnet__BudgetMandate *)a->body;
  Councilnet__BudgetRound *r = NULL;
  Councilnet__BudgetProjects *list = NULL;
  cn_store_round_t row;
  cn_store_profile_t have;
  cn_store_profile_part_t put;
  size_t n_round = 0;
  uint64_t people = 0, counted = 0, parts = m->parts ? m->parts : 1;
  uint64_t stored = 0, before = 0;   /* parts of this mandate here, their voters */
  uint64_t total;
  int rc;
  cn_err err = require_origin_signed(a);

  if (err != CN_OK)
    return err;
  if ((err = round_load(a, &m->round, &row, &r)) != CN_OK)
    return err;
  round_projects(&row, r, &n_round, &list);
  if (m->parts > BUDGET_PARTS_MAX || (m->parts ? m->part >= m->parts : m->part != 0))
    err = refuse(a, CN_ERR_INVALID, "part %llu of %llu: a part is numbered 0 to parts - 1, in at "
                 "most %d parts (0 of 0: the whole mandate)", (unsigned long long)m->part,
                 (unsigned long long)m->parts, BUDGET_PARTS_MAX);
  else if (m->digest.len != (m->parts ? CN_HASH_BYTES : 0))
    err = refuse(a, CN_ERR_INVALID, "a mandate in parts carries the %d-byte digest of its sets, a "
                 "whole one none (this one %zu bytes)", CN_HASH_BYTES, m->digest.len);
  for (size_t i = 0; err == CN_OK && i < m->n_sets; i++) {
    const Councilnet__ApprovalSet *set = m->sets[i];
    counted += set->count;
    if (counted < set->count)
      counted = UINT64_MAX;       /* overflow */
    if ((set->assembly.len && set->assembly.len != CN_PK_BYTES) || set->count == 0)
      err = refuse(a, CN_ERR_INVALID, "set %zu: an assembly key (or none: the council's own) "
                   "and a count", i);
    else if (set->assembly.len)
      err = budget_label_check(a, set->assembly.data, i);
    for (size_t j = 0; err == CN_OK && j < set->n_projects; j++)
      if (set->projects[j] >= n_round || (j && set->projects[j] <= set->projects[j - 1]))
        err = refuse(a, CN_ERR_INVALID, "set %zu: projects ascending and in the round", i);
  }
  /* no more voters than the people the council reported it speaks for */
  if (err == CN_OK && cn_store_child_weight_get(a->n->store, a->origin, &people) != 0)
    people = 0;
  if (err == CN_OK && m->voters > people)
    err = refuse(a, CN_ERR_INVALID, "the mandate counts %llu voters; the council speaks for %llu",
                 (unsigned long long)m->voters, (unsigned long long)people);
  if (err == CN_OK && (row.allocated || row.mandated))
    err = refuse(a, CN_ERR_WINDOW_CLOSED, "this node has closed the round already");
  if (err == CN_OK) {
    rc = cn_store_profile_get(a->n->store, row.id, a->origin, &have);
    if (rc < 0)
      err = refuse(a, CN_ERR_INTERNAL, "database error");
    else if (rc == 1 || m->created > have.created) {
      /* the first part of a newer mandate: nothing of it to check against */
    } else if (m->created < have.created)
      err = refuse(a, CN_ERR_DUPLICATE, "a newer budget mandate of this council is here (made at "
                   "%llu; this part at %llu)", (unsigned long long)have.created,
                   (unsigned long long)m->created);
    else if (have.parts != parts || have.voters != m->voters ||
             have.has_digest != (m->digest.len == CN_HASH_BYTES) ||
             (have.has_digest && memcmp(have.digest, m->digest.data, CN_HASH_BYTES) != 0))
      err = refuse(a, CN_ERR_INVALID, "part %llu says %llu parts and %llu voters (or another "
                   "digest); the parts made at the same time before it, %llu parts and %llu voters"
                   " (a part of another mandate)", (unsigned long long)m->part,
                   (unsigned long long)parts, (unsigned long long)m->voters,
                   (unsigned long long)have.parts, (unsigned long long)have.voters);
    else if ((rc = cn_store_profile_has(a->n->store, row.id, a->origin, m->created, m->part)) != 0)
      err = rc < 0 ? refuse(a, CN_ERR_INTERNAL, "database error")
            : refuse(a, CN_ERR_DUPLICATE, "part %llu of this budget mandate is here already",
                     (unsigned long long)m->part);
    else {
      stored = have.stored;
      before = have.counted;
    }
  }
  /* the sets of all the parts against the mandate's voters */
  total = counted > UINT64_MAX - before ? UINT64_MAX : before + counted;
  if (err == CN_OK && total > m->voters)
    err = refuse(a, CN_ERR_INVALID, "the approval sets count %llu voters%s; the mandate says %llu",
                 (unsigned long long)total, stored ? " with its parts before" : "",
                 (unsigned long long)m->voters);
  if (err == CN_OK && stored + 1 == parts && total != m->voters)
    err = refuse(a, CN_ERR_INVALID, "the approval sets of %s count %llu voters; the mandate says "
                 "%llu", parts > 1 ? "all its parts" : "the mandate", (unsigned long long)total,
                 (unsigned long long)m->voters);
  memset(&put, 0, sizeof put);
  put.part = m->part;
  put.parts = parts;
  put.created = m->created;
  put.voters = m->voters;
  put.counted = counted;
  put.body = a->rec->body;
  put.body_len = a->rec->body_len;
  put.digest = m->digest.data;
  put.digest_len = m->digest.len;
  if (err == CN_OK && cn_store_profile_put(a->n->store, row.id, a->origin, &put) != 1)
    err = refuse(a, CN_ERR_INTERNAL, "database error");
  if (list)
    councilnet__budget_projects__free_unpacked(list, NULL);
  councilnet__budget_round__free_unpacked(r, NULL);
  return err;
}

/* Building the union of approval sets: local ballots as sets of this
 * assembly, plus every child's mandate as it came. */
typedef struct profile_t {
  cn_budget_t *b;
  const uint8_t *self;
  uint8_t (*assemblies)[CN_PK_BYTES];
  size_t n_assemblies, cap;
  int failed;
} profile_t;

static int profile_group(profile_t *p, const uint8_t key[CN_PK_BYTES], uint32_t *g)
{
  for (size_t i = 0; i < p->n_assemblies; i++)
    if (memcmp(p->assemblies[i], key, CN_PK_BYTES) == 0) {
      *g = (uint32_t)i;
      return 0;
    }
  if (p->n_assemblies == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    void *arr = realloc(p->assemblies, cap * CN_PK_BYTES);
    if (!arr)
      return -1;
    p->assemblies = arr;
    p->cap = cap;
  }
  memcpy(p->assemblies[p->n_assemblies], key, CN_PK_BYTES);
  *g = (uint32_t)p->n_assemblies++;
  return 0;
}

static int profile_ballot(void *ctx, const char *projects, uint64_t count)
{
  profile_t *p = ctx;
  uint32_t ids[BUDGET_PROJECTS_MAX], g = 0;
  size_t n = 0;
  const char *c = projects;

  while (*c && n < BUDGET_PROJECTS_MAX) {
    char *end = NULL;
    ids[n++] = (uint32_t)strtoul(c, &end, 10);
    c = *end == ',' ? end + 1 : end;
    if (end == c && *c) {
      p->failed = 1;
      return 1;
    }
  }
  if (profile_group(p, p->self, &g) != 0 || cn_budget_add_set(p->b, ids, n, count, g) != 0) {
    p->failed = 1;
    return 1;
  }
  return 0;
}

/* An approval set without an assembly key is the child council's own
 * voters: a leaf's mandate, most of whose sets are its own, needs not
 * spend 34 bytes a set on its key (a record holds 64 KiB). */
static int profile_mandate(void *ctx, const uint8_t child[CN_PK_BYTES], const uint8_t *body,
                           size_t len)
{
  profile_t *p = ctx;
  Councilnet__BudgetMandate *m = councilnet__budget_mandate__unpack(NULL, len, body);

  if (!m) {
    p->failed = 1;
    return 1;
  }
  for (size_t i = 0; i < m->n_sets; i++) {
    uint32_t g = 0;
    const uint8_t *label = m->sets[i]->assembly.len ? m->sets[i]->assembly.data : child;
    if (profile_group(p, label, &g) != 0 ||
        cn_budget_add_set(p->b, m->sets[i]->projects, m->sets[i]->n_projects, m->sets[i]->count,
                          g) != 0) {
      p->failed = 1;
      break;
    }
  }
  councilnet__budget_mandate__free_unpacked(m, NULL);
  return p->failed;
}

/* Build the round ID's budget (projects, total, union of approval sets,
 * need weights) into B; *ASSEMBLIES gets each group's key (caller frees).
 * Return 0 or -1. */
static int round_budget(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], const cn_store_round_t *row,
                        const Councilnet__BudgetRound *r, cn_budget_t *b,
                        uint8_t (**assemblies)[CN_PK_BYTES], size_t *n_assemblies)
{
  Councilnet__BudgetProjects *list = NULL;
  Councilnet__BudgetProject **projects;
  size_t n_projects = 0;
  profile_t p;
  char hex[2 * CN_PK_BYTES + 1];

  memset(b, 0, sizeof *b);
  memset(&p, 0, sizeof p);
  p.b = b;
  p.self = n->pk;
  projects = round_projects(row, r, &n_projects, &list);
  b->total = r->total;
  b->description = strdup(r->title);
  /* Pabulib's names for the rules, so an export says how it was allocated */
  b->rule = strdup(r->rule == COUNCILNET__BUDGET_RULE__EQUAL_SHARES ? "equalshares" : "greedy");
  b->projects = calloc(n_projects ? n_projects : 1, sizeof *b->projects);
  if (!b->description || !b->rule || !b->projects)
    goto fail;
  b->n_projects = n_projects;
  for (size_t i = 0; i < n_projects; i++) {
    snprintf(b->projects[i].id, sizeof b->projects[i].id, "%s", projects[i]->id);
    b->projects[i].name = strdup(projects[i]->title);
    b->projects[i].cost = projects[i]->cost;
    if (projects[i]->proposer.len == CN_PK_BYTES) {
      cn_hex_encode(hex, projects[i]->proposer.data, CN_PK_BYTES);
      b->projects[i].proposer = strdup(hex);
    }
    if (!b->projects[i].name)
      goto fail;
  }
  if (list)
    councilnet__budget_projects__free_unpacked(list, NULL);
  list = NULL;
  if (cn_store_budget_ballot_scan(n->store, id, profile_ballot, &p) != 0 || p.failed)
    goto fail;
  if (cn_store_profile_scan(n->store, id, profile_mandate, &p) != 0 || p.failed)
    goto fail;
  b->n_groups = p.n_assemblies;    /* one group per leaf assembly */
  if (r->n_needs && p.n_assemblies) {
    b->group_weight = calloc(p.n_assemblies, sizeof *b->group_weight);
    if (!b->group_weight)
      goto fail;
    for (size_t g = 0; g < p.n_assemblies; g++) {
      b->group_weight[g] = 1.0;
      for (size_t i = 0; i < r->n_needs; i++)
        if (memcmp(r->needs[i]->assembly.data, p.assemblies[g], CN_PK_BYTES) == 0)
          b->group_weight[g] = r->needs[i]->permille / 1000.0;
    }
  }
  *assemblies = p.assemblies;
  *n_assemblies = p.n_assemblies;
  return 0;
fail:
  if (list)
    councilnet__budget_projects__free_unpacked(list, NULL);
  free(p.assemblies);
  cn_budget_free(b);
  memset(b, 0, sizeof *b);
  return -1;
}

typedef struct round_due_t {
  uint8_t (*ids)[CN_HASH_BYTES];
  size_t n, cap;
  uint64_t now;
  cn_node_t *node;
  int failed;
} round_due_t;

static int round_due_collect(void *ctx, const cn_store_round_t *r)
{
  round_due_t *d = ctx;
  uint64_t children = 0, received = 0, partial = 0;

  if (r->allocated || (r->mandated && !r->owned) || d->now < r->closes)
    return 0;
  if (!r->owned && !d->node->has_parent)
    return 0;
  /* Wait for every child council's mandate, or the grace period; one with
   * parts missing is not there yet (and does not count if the grace ends:
   * the child's whole mandate before it, if any, does). */
  if (cn_store_profile_counts(d->node->store, r->id, &children, &received, &partial) != 0) {
    d->failed = 1;
    return 1;
  }
  if ((received < children || partial > 0) && d->now < r->closes + budget_grace(r))
    return 0;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 4;
    void *ids = realloc(d->ids, cap * CN_HASH_BYTES);
    if (!ids) {
      d->failed = 1;
      return 1;
    }
    d->ids = ids;
    d->cap = cap;
  }
  memcpy(d->ids[d->n++], r->id, CN_HASH_BYTES);
  return 0;
}

/* Close one round here: send our mandate up, or (owner) allocate. */
/* Keep B, the profile a round closed with, as Pabulib text: an export
 * asked later shows what was allocated (or sent up), not what the roll has
 * become since (members removed, a child council gone). A profile of more
 * than ROUND_EXPORT_MAX voters (a child's claim, one line each) is not
 * kept: its export stays live. Return 0, or -1 on a database error. */
#define ROUND_EXPORT_MAX 1000000
static int round_keep_export(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], const cn_budget_t *b)
{
  uint64_t voters = 0;
  char *text = NULL;
  int rc = 0;

  for (size_t i = 0; i < b->n_sets && voters <= ROUND_EXPORT_MAX; i++)
    voters += b->sets[i].count;
  if (voters <= ROUND_EXPORT_MAX && cn_pabulib_write(b, &text) == 0)
    rc = cn_store_round_set_export(n->store, id, text, strlen(text));
  free(text);
  return rc;
}

static size_t varint_size(uint64_t v)
{
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Bytes of a KIND envelope around a body of BODY_LEN bytes, less the body. */
static size_t envelope_overhead(const char *kind, size_t body_len)
{
  static uint8_t none[CN_SIG_BYTES];
  Councilnet__Envelope e = COUNCILNET__ENVELOPE__INIT;

  e.version = CN_ENVELOPE_VERSION;
  e.kind = (char *)kind;
  e.body.data = none;              /* sizes only: nothing is read */
  e.body.len = body_len;
  e.signer.data = none;
  e.signer.len = CN_PK_BYTES;
  e.signature.data = none;
  e.signature.len = CN_SIG_BYTES;
  return protobuf_c_message_get_packed_size(&e.base) - body_len;
}

/* BudgetMandate.digest of the N_SETS SETS (see the proto). Return 0 or -1. */
static int mandate_digest(Councilnet__ApprovalSet *const *sets, size_t n_sets,
                          uint8_t out[CN_HASH_BYTES])
{
  size_t total = 0, at = 0;
  uint8_t *buf;

  for (size_t i = 0; i < n_sets; i++)
    total += 8 + protobuf_c_message_get_packed_size(&sets[i]->base);
  buf = malloc(total + 1);
  if (!buf)
    return -1;
  for (size_t i = 0; i < n_sets; i++) {
    uint64_t len = protobuf_c_message_pack(&sets[i]->base, buf + at + 8);
    for (int k = 0; k < 8; k++)
      buf[at + (size_t)k] = (uint8_t)(len >> (8 * k));
    at += 8 + len;
  }
  cn_crypto_hash(out, buf, at);
  free(buf);
  return 0;
}

/* Send B's approval sets up as this node's budget mandate for round ID:
 * log it and queue it in the outbox, inside the close's transaction. A
 * mandate too large for one record (CN_RECORD_MAX) goes as parts 0 ..
 * N - 1 of N, in order, each a record within the bound and all carrying the
 * digest of the whole; one that fits is sent whole, as 0 of 0, byte for
 * byte what older nodes send, so a parent not upgraded yet still takes it.
 * Return 0 or -1. */
static int budget_mandate_send(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], const cn_budget_t *b,
                               const uint8_t (*assemblies)[CN_PK_BYTES], uint64_t now)
{
  Councilnet__BudgetMandate m = COUNCILNET__BUDGET_MANDATE__INIT;
  Councilnet__ApprovalSet *sets = calloc(b->n_sets + 1, sizeof *sets);
  Councilnet__ApprovalSet **ptrs = calloc(b->n_sets + 1, sizeof *ptrs);
  size_t *ends = calloc(b->n_sets + 1, sizeof *ends);     /* where each part ends */
  uint8_t *env = NULL, digest[CN_HASH_BYTES];
  size_t len = 0, head, max, parts = 0, first;
  int rc = -1;

  if (!sets || !ptrs || !ends)
    goto out;
  for (size_t i = 0; i < b->n_sets; i++) {
    councilnet__approval_set__init(&sets[i]);
    sets[i].projects = b->sets[i].projects;
    sets[i].n_projects = b->sets[i].n_projects;
    sets[i].count = b->sets[i].count;
    /* our own voters' sets go unlabelled (profile_mandate) */
    if (memcmp(assemblies[b->sets[i].group], n->pk, CN_PK_BYTES) != 0) {
      sets[i].assembly.data = (uint8_t *)assemblies[b->sets[i].group];
      sets[i].assembly.len = CN_PK_BYTES;
    }
    ptrs[i] = &sets[i];
    m.voters += b->sets[i].count;
  }
  m.node.data = n->pk;
  m.node.len = CN_PK_BYTES;
  m.created = now;
  m.round.data = (uint8_t *)id;
  m.round.len = CN_HASH_BYTES;
  max = CN_RECORD_MAX - envelope_overhead("budget_mandate", CN_RECORD_MAX);
  m.sets = ptrs;
  m.n_sets = b->n_sets;
  if (protobuf_c_message_get_packed_size(&m.base) <= max) {
    ends[parts++] = b->n_sets;  /* whole, as 0 of 0 */
  } else {
    if (mandate_digest(ptrs, b->n_sets, digest) != 0)
      goto out;
    m.digest.data = digest;
    m.digest.len = CN_HASH_BYTES;
    /* the fields but the sets, with part numbers as long as they can be */
    m.part = BUDGET_PARTS_MAX - 1;
    m.parts = BUDGET_PARTS_MAX;
    m.n_sets = 0;
    head = protobuf_c_message_get_packed_size(&m.base);
    parts = part_ends((ProtobufCMessage *const *)ptrs, b->n_sets, head, max, ends);
  }
  if (parts > BUDGET_PARTS_MAX) {
    node_warn(n, "a budget mandate of %zu approval sets would take %zu records, more than a "
              "parent takes (%d); not made", b->n_sets, parts, BUDGET_PARTS_MAX);
    goto out;
  }
  first = 0;
  for (size_t k = 0; k < parts; k++) {
    m.part = parts > 1 ? (uint32_t)k : 0;
    m.parts = parts > 1 ? (uint32_t)parts : 0;
    m.sets = ptrs + first;
    m.n_sets = ends[k] - first;
    first = ends[k];
    if (node_append_own(n, "budget_mandate", &m.base, now, NULL, NULL, &env, &len) != 0 ||
        outbox_add(n, "budget_mandate", env, len) != 0)
      goto out;
    free(env);
    env = NULL;
  }
  rc = 0;
out:
  free(env);
  free(sets);
  free(ptrs);
  free(ends);
  return rc;
}

static int budget_close_one(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], uint64_t now)
{
  cn_store_round_t row;
  Councilnet__BudgetRound *r = NULL;
  cn_budget_t b;
  cn_budget_result_t res;
  uint8_t (*assemblies)[CN_PK_BYTES] = NULL;
  size_t n_assemblies = 0;
  int rc = -1, in_act = 0;

  memset(&b, 0, sizeof b);
  memset(&res, 0, sizeof res);
  if (node_begin(n) != 0)
    return -1;
  in_act = 1;
  if (cn_store_round_get(n->store, id, &row) != 0)
    goto out;
  r = councilnet__budget_round__unpack(NULL, row.body_len, row.body);
  if (!r || round_budget(n, id, &row, r, &b, &assemblies, &n_assemblies) != 0)
    goto out;
  if (!row.owned) {
    if (budget_mandate_send(n, id, &b, (const uint8_t (*)[CN_PK_BYTES])assemblies, now) != 0 ||
        cn_store_round_set_done(n->store, id, 1, 0) != 0)
      goto out;
  } else {
    Councilnet__BudgetAllocation al = COUNCILNET__BUDGET_ALLOCATION__INIT;
    Councilnet__ProjectResult *pr = calloc(b.n_projects + 1, sizeof *pr);
    Councilnet__ProjectResult **ptrs = calloc(b.n_projects + 1, sizeof *ptrs);
    int ok = pr && ptrs &&
             cn_budget_allocate(&b, r->rule == COUNCILNET__BUDGET_RULE__EQUAL_SHARES ? CN_BUDGET_MES
                                : CN_BUDGET_GREEDY, &res) == 0;
    for (size_t i = 0; ok && i < b.n_projects; i++) {
      councilnet__project_result__init(&pr[i]);
      pr[i].id = b.projects[i].id;
      pr[i].cost = b.projects[i].cost;
      pr[i].votes = res.votes[i];
      pr[i].selected = res.selected[i];
      pr[i].price = res.price ? res.price[i] : 0;
      pr[i].completion = res.by_completion ? res.by_completion[i] : 0;
      ptrs[i] = &pr[i];
    }
    for (size_t i = 0; ok && i < b.n_sets; i++)
      al.voters += b.sets[i].count;
    al.node.data = n->pk;
    al.node.len = CN_PK_BYTES;
    al.created = now;
    al.round.data = (uint8_t *)id;
    al.round.len = CN_HASH_BYTES;
    al.rule = r->rule;
    al.projects = ptrs;
    al.n_projects = b.n_projects;
    al.spent = res.spent;
    ok = ok && node_append_own(n, "budget_allocation", &al.base, now, NULL, NULL, NULL, NULL) == 0 &&
         cn_store_round_set_done(n->store, id, 1, 1) == 0;
    free(pr);
    free(ptrs);
    if (!ok)
      goto out;
  }
  if (round_keep_export(n, id, &b) != 0)
    goto out;
  in_act = 0;                 /* committed, or rolled back by node_commit */
  if (node_commit(n) != 0)
    goto out;
  rc = 0;
out:
  if (in_act)                 /* as in node_close_one() */
    node_rollback(n);
  if (r)
    councilnet__budget_round__free_unpacked(r, NULL);
  free(assemblies);
  cn_budget_free(&b);
  cn_budget_result_free(&res);
  return rc;
}

static int budget_list_due(cn_node_t *n, uint64_t now);

static int budget_close_due(cn_node_t *n, uint64_t now)
{
  round_due_t d;
  int done = 0, failed = 0;

  if (budget_list_due(n, now) < 0)
    failed = 1;

  memset(&d, 0, sizeof d);
  d.now = now;
  d.node = n;
  if (cn_store_round_scan(n->store, round_due_collect, &d) != 0 || d.failed) {
    free(d.ids);
    return -1;
  }
  /* One round that cannot close must not keep the others from closing. */
  for (size_t i = 0; i < d.n; i++) {
    if (budget_close_one(n, d.ids[i], now) != 0)
      failed = 1;
    else
      done++;
  }
  free(d.ids);
  return failed ? -1 : done;
}

/* ---- budget queries ---- */

typedef struct rounds_ctx_t {
  list_ctx_t l;
} rounds_ctx_t;

static int allocation_find(cn_node_t *n, cn_arena_t *ar, const uint8_t id[CN_HASH_BYTES],
                           Councilnet__BudgetAllocation **out);

static int ballots_count(void *ctx, const char *projects, uint64_t count)
{
  (void)projects;
  *(uint64_t *)ctx += count;
  return 0;
}

static int round_collect(void *ctx, const cn_store_round_t *r)
{
  list_ctx_t *l = ctx;
  ProtobufCAllocator alloc = { arena_pb_alloc, arena_pb_free, l->arena };
  Councilnet__RoundView *v = cn_arena_alloc(l->arena, sizeof *v);
  uint64_t children = 0, received = 0;

  if (!v)
    return list_push(l, NULL) ? 1 : 1;
  councilnet__round_view__init(v);
  v->id.data = cn_arena_memdup(l->arena, r->id, CN_HASH_BYTES);
  v->id.len = CN_HASH_BYTES;
  v->round = councilnet__budget_round__unpack(&alloc, r->body_len, r->body);
  if (r->envelope) {
    v->envelope.data = cn_arena_memdup(l->arena, r->envelope, r->envelope_len);
    v->envelope.len = v->envelope.data ? r->envelope_len : 0;
  }
  if (r->projects_envelope) {
    v->projects_envelope.data = cn_arena_memdup(l->arena, r->projects_envelope,
                                                r->projects_envelope_len);
    v->projects_envelope.len = v->projects_envelope.data ? r->projects_envelope_len : 0;
  }
  v->owned = r->owned;
  v->mandated = r->mandated;
  v->depth = r->depth;
  v->grace = budget_grace(r);
  if (v->round && r->listed && r->projects) {
    /* show the final list once it is published */
    Councilnet__BudgetProjects *bp = councilnet__budget_projects__unpack(&alloc, r->projects_len,
                                                                        r->projects);
    if (bp) {
      v->round->projects = bp->projects;
      v->round->n_projects = bp->n_projects;
    }
  }
  if (cn_store_profile_counts(l->node->store, r->id, &children, &received, &v->partial) != 0 ||
      cn_store_budget_ballot_scan(l->node->store, r->id, ballots_count, &v->ballots) != 0)
    return list_push(l, NULL) ? 1 : 1;
  v->profiles = received;
  if (r->allocated && allocation_find(l->node, l->arena, r->id, &v->allocation) != 0)
    return list_push(l, NULL) ? 1 : 1;
  return list_push(l, v->round && v->id.data ? v : NULL) ? 1 : 0;
}

typedef struct alloc_find_t {
  cn_arena_t *arena;
  const uint8_t *round;
  Councilnet__BudgetAllocation *found;
} alloc_find_t;

static int alloc_scan(void *ctx, const cn_store_entry_t *e)
{
  alloc_find_t *f = ctx;
  ProtobufCAllocator alloc = { arena_pb_alloc, arena_pb_free, f->arena };
  Councilnet__Envelope *env;
  Councilnet__BudgetAllocation *a;

  if (strcmp(e->kind, "budget_allocation") != 0)
    return 0;
  env = councilnet__envelope__unpack(&alloc, e->envelope_len, e->envelope);
  a = env ? councilnet__budget_allocation__unpack(&alloc, env->body.len, env->body.data) : NULL;
  if (a && a->round.len == CN_HASH_BYTES && memcmp(a->round.data, f->round, CN_HASH_BYTES) == 0)
    f->found = a;
  return 0;
}

/* The allocation record of round ID, read back from the log. */
static int allocation_find(cn_node_t *n, cn_arena_t *ar, const uint8_t id[CN_HASH_BYTES],
                           Councilnet__BudgetAllocation **out)
{
  alloc_find_t f = { ar, id, NULL };
  cn_store_round_t row;

  if (cn_store_round_get(n->store, id, &row) != 0)
    return -1;
  if (cn_store_log_scan(n->store, row.seq, UINT64_MAX >> 1, alloc_scan, &f) != 0)
    return -1;
  *out = f.found;
  return f.found ? 0 : -1;
}

cn_err cn_node_query_rounds(cn_node_t *n, cn_answer_t *out)
{
  Councilnet__RoundList list = COUNCILNET__ROUND_LIST__INIT;
  list_ctx_t l;
  cn_err err = CN_ERR_INTERNAL;

  memset(&l, 0, sizeof l);
  l.node = n;
  l.arena = cn_arena_new();
  if (!l.arena || cn_store_round_scan(n->store, round_collect, &l) != 0 || l.failed)
    goto out;
  list.n_rounds = l.n;
  list.rounds = (Councilnet__RoundView **)l.items;
  err = answer_pack(&list.base, out);
out:
  cn_arena_free(l.arena);
  return err;
}

cn_err cn_node_query_round_pb(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], char **text)
{
  cn_store_round_t row;
  Councilnet__BudgetRound *r = NULL;
  cn_budget_t b;
  uint8_t (*assemblies)[CN_PK_BYTES] = NULL;
  size_t n_assemblies = 0;
  cn_err err = CN_ERR_INTERNAL;
  int rc;

  *text = NULL;
  memset(&b, 0, sizeof b);
  rc = cn_store_round_get(n->store, id, &row);
  if (rc == 1)
    return CN_ERR_NOT_FOUND;
  if (rc != 0)
    return CN_ERR_INTERNAL;
  if (row.export_pb) {          /* closed: the profile as it was then */
    *text = malloc(row.export_pb_len + 1);
    if (!*text)
      return CN_ERR_INTERNAL;
    memcpy(*text, row.export_pb, row.export_pb_len);
    (*text)[row.export_pb_len] = 0;
    return CN_OK;
  }
  r = councilnet__budget_round__unpack(NULL, row.body_len, row.body);
  if (r && round_budget(n, id, &row, r, &b, &assemblies, &n_assemblies) == 0 &&
      cn_pabulib_write(&b, text) == 0)
    err = CN_OK;
  if (r)
    councilnet__budget_round__free_unpacked(r, NULL);
  free(assemblies);
  cn_budget_free(&b);
  return err;
}

/* ---- projects proposed through mandates ---- */

static int count_blob(void *ctx, const uint8_t *body, size_t len)
{
  (void)body;
  (void)len;
  (*(uint64_t *)ctx)++;
  return 0;
}

static int sum_blob(void *ctx, const uint8_t *body, size_t len)
{
  (void)body;
  *(uint64_t *)ctx += len + 4;    /* a project in the list: its bytes, tag and length */
  return 0;
}

/* Bytes the final list of round R would take with the proposals stored and
 * one more of NEW_LEN bytes, counted generously: the list must be a record
 * a child can still wrap to pass down (CN_RECORD_MAX less RELAY_SLACK), or
 * the round would have to close without it. Return 0 or -1. */
static int list_bytes(cn_node_t *n, const uint8_t round[CN_HASH_BYTES],
                      const Councilnet__BudgetRound *r, size_t new_len, uint64_t *bytes)
{
  *bytes = 256 + new_len + 4;     /* node, created, round; the envelope around them */
  for (size_t i = 0; i < r->n_projects; i++)
    *bytes += protobuf_c_message_get_packed_size(&r->projects[i]->base) + 4;
  return cn_store_round_proposal_scan(n->store, round, sum_blob, bytes);
}

/* A child council's mandate proposes project IN->project for our round
 * IN->round: check and keep it (until the round's proposals close). */
static cn_err budget_propose(apply_t *a, const Councilnet__Instruction *in)
{
  Councilnet__BudgetRound *r = NULL;
  Councilnet__BudgetProject p = COUNCILNET__BUDGET_PROJECT__INIT;
  cn_store_round_t row;
  uint8_t *body = NULL;
  size_t len = 0;
  cn_err err = round_load(a, &in->round, &row, &r);
  int rc;

  if (err != CN_OK)
    return err;
  if (!row.owned || !r->proposals_close) {
    err = refuse(a, CN_ERR_INVALID, "this round takes no project proposals here");
    goto out;
  }
  if (row.listed || a->now >= r->proposals_close) {
    err = refuse(a, CN_ERR_WINDOW_CLOSED, "project proposals for this round have closed");
    goto out;
  }
  p.id = in->project->id;
  p.title = in->project->title;
  p.cost = in->project->cost;
  p.proposer.data = a->origin;     /* the proposing assembly is the council that sent it */
  p.proposer.len = CN_PK_BYTES;
  if (!p.id[0] || strlen(p.id) >= 64 || strpbrk(p.id, ";,\n \"") || p.cost == 0 ||
      p.cost > CN_BUDGET_MAX_AMOUNT || has_control(p.id) || has_control(p.title) ||
      strcmp(in->budget_project, p.id) != 0) {
    err = refuse(a, CN_ERR_INVALID, "a proposed project has an id (no ; or ,), a cost up to 2^53,"
                 " and the instruction's budget_project is that id");
    goto out;
  }
  for (size_t i = 0; i < r->n_projects; i++)
    if (strcmp(r->projects[i]->id, p.id) == 0) {
      err = refuse(a, CN_ERR_DUPLICATE, "the round has a project '%s' already", p.id);
      goto out;
    }
  {
    uint64_t proposed = 0;
    if (cn_store_round_proposal_scan(a->n->store, row.id, count_blob, &proposed) != 0) {
      err = refuse(a, CN_ERR_INTERNAL, "database error");
      goto out;
    }
    if (r->n_projects + proposed >= BUDGET_PROJECTS_MAX) {
      err = refuse(a, CN_ERR_INVALID, "the round has room for no more projects");
      goto out;
    }
  }
  if (cn_pb_pack(&p.base, &body, &len) != 0) {
    err = refuse(a, CN_ERR_INTERNAL, "out of memory");
    goto out;
  }
  {
    uint64_t bytes = 0;
    if (list_bytes(a->n, row.id, r, len, &bytes) != 0) {
      err = refuse(a, CN_ERR_INTERNAL, "database error");
      goto out;
    }
    if (bytes > CN_RECORD_MAX - RELAY_SLACK) {
      err = refuse(a, CN_ERR_TOO_LARGE, "the round's final list would be %llu bytes with this "
                   "project; it must fit a record (%d)", (unsigned long long)bytes,
                   CN_RECORD_MAX - RELAY_SLACK);
      goto out;
    }
  }
  rc = cn_store_round_proposal_put(a->n->store, row.id, p.id, a->origin, a->seq, body, len);
  if (rc < 0)
    err = refuse(a, CN_ERR_INTERNAL, "database error");
  else if (rc == 0)
    err = refuse(a, CN_ERR_DUPLICATE, "a project '%s' was proposed already", p.id);
out:
  free(body);
  councilnet__budget_round__free_unpacked(r, NULL);
  return err;
}

typedef struct plist_t {
  Councilnet__BudgetProject **items;
  size_t n, cap;
  int failed;
} plist_t;

static int plist_collect(void *ctx, const uint8_t *body, size_t len)
{
  plist_t *l = ctx;
  Councilnet__BudgetProject *p = councilnet__budget_project__unpack(NULL, len, body);

  if (!p)
    goto fail;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    void *arr = realloc(l->items, cap * sizeof *l->items);
    if (!arr) {
      councilnet__budget_project__free_unpacked(p, NULL);
      goto fail;
    }
    l->items = arr;
    l->cap = cap;
  }
  l->items[l->n++] = p;
  return 0;
fail:
  l->failed = 1;
  return 1;
}

typedef struct list_due_t {
  uint8_t (*ids)[CN_HASH_BYTES];
  size_t n, cap;
  uint64_t now;
  int failed;
} list_due_t;

static int list_due_collect(void *ctx, const cn_store_round_t *row)
{
  list_due_t *d = ctx;
  Councilnet__BudgetRound *r;
  int due;

  if (!row->owned || row->listed)
    return 0;
  r = councilnet__budget_round__unpack(NULL, row->body_len, row->body);
  due = r && r->proposals_close && d->now >= r->proposals_close;
  if (r)
    councilnet__budget_round__free_unpacked(r, NULL);
  if (!due)
    return 0;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 4;
    void *ids = realloc(d->ids, cap * CN_HASH_BYTES);
    if (!ids) {
      d->failed = 1;
      return 1;
    }
    d->ids = ids;
    d->cap = cap;
  }
  memcpy(d->ids[d->n++], row->id, CN_HASH_BYTES);
  return 0;
}

/* Proposals closed: publish the round's final list (its own projects, then
 * the proposed ones in the order they came), which flows down like the
 * round did. */
static int budget_list_one(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], uint64_t now)
{
  Councilnet__BudgetProjects bp = COUNCILNET__BUDGET_PROJECTS__INIT;
  Councilnet__BudgetRound *r = NULL;
  Councilnet__BudgetProject **all = NULL;
  cn_store_round_t row;
  plist_t l;
  uint8_t *body = NULL, *env = NULL;
  size_t len = 0, env_len = 0;
  int rc = -1, in_act = 0;

  memset(&l, 0, sizeof l);
  if (node_begin(n) != 0)
    return -1;
  in_act = 1;
  if (cn_store_round_get(n->store, id, &row) != 0)
    goto out;
  r = councilnet__budget_round__unpack(NULL, row.body_len, row.body);
  if (!r || cn_store_round_proposal_scan(n->store, id, plist_collect, &l) != 0 || l.failed)
    goto out;
  all = calloc(r->n_projects + l.n + 1, sizeof *all);
  if (!all || r->n_projects + l.n > BUDGET_PROJECTS_MAX)
    goto out;
  memcpy(all, r->projects, r->n_projects * sizeof *all);
  if (l.n)
    memcpy(all + r->n_projects, l.items, l.n * sizeof *all);
  bp.node.data = n->pk;
  bp.node.len = CN_PK_BYTES;
  bp.created = now;
  bp.round.data = (uint8_t *)id;
  bp.round.len = CN_HASH_BYTES;
  bp.projects = all;
  bp.n_projects = r->n_projects + l.n;
  if (cn_pb_pack(&bp.base, &body, &len) != 0 ||
      node_append_own(n, "budget_projects", &bp.base, now, NULL, NULL, &env, &env_len) != 0 ||
      cn_store_round_set_projects(n->store, id, body, len, env, env_len) != 0)
    goto out;
  in_act = 0;                 /* committed, or rolled back by node_commit */
  if (node_commit(n) != 0)
    goto out;
  rc = 0;
out:
  if (in_act)                 /* as in node_close_one() */
    node_rollback(n);
  for (size_t i = 0; i < l.n; i++)
    councilnet__budget_project__free_unpacked(l.items[i], NULL);
  free(l.items);
  free(all);
  free(body);
  free(env);
  if (r)
    councilnet__budget_round__free_unpacked(r, NULL);
  return rc;
}

static int budget_list_due(cn_node_t *n, uint64_t now)
{
  list_due_t d;
  int done = 0, failed = 0;

  memset(&d, 0, sizeof d);
  d.now = now;
  if (cn_store_round_scan(n->store, list_due_collect, &d) != 0 || d.failed) {
    free(d.ids);
    return -1;
  }
  /* One list that cannot be made (too large a record, say) must not keep
   * the others, nor the closing of rounds, from going on. */
  for (size_t i = 0; i < d.n; i++) {
    if (budget_list_one(n, d.ids[i], now) != 0)
      failed = 1;
    else
      done++;
  }
  free(d.ids);
  return failed ? -1 : done;
}

/* Take in a round's final list (ENV: a budget_projects envelope, signed by
 * the round's owner node) and pass it down. Not a list: ignored. */
static int budget_projects_adopt(cn_node_t *n, const uint8_t *env, size_t len)
{
  Councilnet__BudgetProjects *bp = NULL;
  Councilnet__BudgetRound *r = NULL;
  cn_store_round_t row;
  cn_record_t rec;
  int rc = 0;

  if (cn_record_open(env, len, &rec) != CN_OK || strcmp(rec.kind, "budget_projects") != 0) {
    cn_record_close(&rec);
    return 0;
  }
  bp = councilnet__budget_projects__unpack(NULL, rec.body_len, rec.body);
  if (!bp || bp->round.len != CN_HASH_BYTES || cn_store_round_get(n->store, bp->round.data, &row) != 0 ||
      row.listed)
    goto out;
  r = councilnet__budget_round__unpack(NULL, row.body_len, row.body);
  /* only the round's owner node may publish its list */
  if (!r || r->node.len != CN_PK_BYTES || memcmp(r->node.data, rec.signer, CN_PK_BYTES) != 0 ||
      bp->node.len != CN_PK_BYTES || memcmp(bp->node.data, rec.signer, CN_PK_BYTES) != 0)
    goto out;
  rc = -1;
  if (cn_store_round_set_projects(n->store, bp->round.data, rec.body, rec.body_len, env, len) != 0)
    goto out;
  /* the list goes down with the depth the round came with */
  if (budget_relay_append(n, env, len, row.depth) != 0)
    goto out;
  rc = 0;
out:
  if (r)
    councilnet__budget_round__free_unpacked(r, NULL);
  if (bp)
    councilnet__budget_projects__free_unpacked(bp, NULL);
  cn_record_close(&rec);
  return rc;
}
