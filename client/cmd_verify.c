/* cmd_verify.c: `council verify`: fetch a node's whole log and check it
 * from the first entry to the signed head.
 *
 * The checks run on every core. The main thread fetches pages (one
 * keep-alive connection) and checks what ties an entry to the one before
 * it: seq order, field sizes and the prev link. Worker threads run the
 * library's whole check of each entry (cn_log_verifier_step: record id,
 * entry hash, envelope and signature, node-signed kinds) on a verifier
 * placed just before that entry, in parallel. While the workers check one
 * page the main thread fetches and links the next. Results are taken in
 * log order, so the report and the callbacks are those of a sequential
 * walk: the first bad entry is the lowest failing seq, with the library's
 * own reason. Then, in log order, what ties entries together beyond the
 * chain: a decision in parts names the node's parts logged just before it
 * (parts_entry). */
#include "commands.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "councilnet/log.h"
#include "councilnet/record.h"

#define VERIFY_PAGE 10000        /* entries asked per request (the server's maximum) */
#define VERIFY_PROGRESS 100000   /* progress line on stderr every so many entries */
#define VERIFY_HEAD_TRIES 5      /* re-reads when the log grows while we check the head */
#define VERIFY_CHUNK 64          /* entries a worker takes at a time */
#define VERIFY_THREADS_MAX 64
#define VERIFY_PARTS_MAX 65536   /* contributions parts of one decision we follow */

static const char verify_usage[] =
  "Usage: council verify [--node-key HEX]\n"
  "\n"
  "Fetch the node's whole log page by page and check every entry: seq\n"
  "order, hash chain, record ids, entry hashes and record signatures, then\n"
  "the node-signed head. The node key comes from GET /v1/node unless\n"
  "--node-key pins it. Prints \"verified N entries, head HEX\" (exit 0) or the\n"
  "first bad entry as \"entry SEQ: reason\" (exit 1): a decision naming\n"
  "\"contributions\" parts other than those the node logged just before it\n"
  "is one.\n"
  "--json prints {\"ok\":true,\"entries\":N,\"head\":HEX} or\n"
  "{\"ok\":false,\"seq\":S,\"error\":REASON}.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

/* Report a failed check at SEQ. Return CN_EXIT_REFUSED. */
static int report_bad(const cn_cli_t *cli, uint64_t seq, const char *what, const char *reason)
{
  if (cli->json) {
    printf("{\"ok\":false,\"seq\":%llu,\"error\":", (unsigned long long)seq);
    cn_cli_json_string(stdout, reason);
    printf("}\n");
  } else {
    fprintf(stderr, "%s %llu: %s\n", what, (unsigned long long)seq, reason);
  }
  return CN_EXIT_REFUSED;
}

/* Check the page's signed head against V. Return 0, or -1 with V->error set. */
static int check_head(cn_log_verifier_t *v, const Councilnet__LogPage *page)
{
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc;

  if (!page->head) {
    snprintf(v->error, sizeof v->error, "head: the log page carries no signed head");
    return -1;
  }
  if (cn_pb_pack(&page->head->base, &buf, &len) != 0) {
    snprintf(v->error, sizeof v->error, "head: out of memory");
    return -1;
  }
  rc = cn_log_verifier_check_head(v, buf, len);
  free(buf);
  return rc;
}

/* One fetched page and what is known about it. */
typedef struct vpage_t {
  Councilnet__LogPage *page;
  size_t linked;            /* entries that passed the link checks (all, or
                             * up to the first that failed them) */
  size_t bad;               /* lowest entry index that failed, n_entries if none */
  char error[256];          /* its reason */
  size_t checked;           /* entries the workers have finished */
} vpage_t;

/* The workers and the page they share. All fields under MU. */
typedef struct vpool_t {
  pthread_mutex_t mu;
  pthread_cond_t work;      /* a page to check, or stop */
  pthread_cond_t done;      /* the page is checked */
  vpage_t *job;             /* NULL when idle */
  size_t next;              /* next entry index to hand out */
  int stop;
  uint8_t node_pk[CN_PK_BYTES];
  pthread_t threads[VERIFY_THREADS_MAX];
  size_t n_threads;
} vpool_t;

/* The library's whole check of entry E alone: a verifier placed at the
 * entry before it (whose link the main thread has checked). Return 0, or
 * -1 with the reason in ERR. */
static int entry_check(const uint8_t node_pk[CN_PK_BYTES], const Councilnet__LogEntry *e,
                       char *err, size_t errlen)
{
  cn_log_verifier_t v;

  cn_log_verifier_init(&v, node_pk);
  v.seq = e->seq - 1;
  memcpy(v.hash, e->prev.data, CN_HASH_BYTES);
  if (cn_log_verifier_step(&v, e->seq, e->prev.data, e->prev.len, e->record_id.data,
                           e->record_id.len, e->received, e->hash.data, e->hash.len,
                           e->envelope.data, e->envelope.len) == 0)
    return 0;
  snprintf(err, errlen, "%s", v.error);
  return -1;
}

/* Check entries [FROM, TO) of P; keep the lowest failure. Call without MU. */
static void vpool_check(vpool_t *pool, vpage_t *p, size_t from, size_t to)
{
  char err[sizeof p->error];

  for (size_t i = from; i < to; i++) {
    if (entry_check(pool->node_pk, p->page->entries[i], err, sizeof err) != 0) {
      pthread_mutex_lock(&pool->mu);
      if (i < p->bad) {
        p->bad = i;
        memcpy(p->error, err, sizeof err);
      }
      pthread_mutex_unlock(&pool->mu);
      break;          /* the rest of this chunk cannot be the lowest */
    }
  }
}

/* Take a chunk of the current job, or NULL if none is left. Call with MU
 * held. Entries past a failure already found need no check. */
static vpage_t *vpool_take(vpool_t *pool, size_t *from, size_t *to)
{
  vpage_t *p = pool->job;
  size_t end;

  if (!p || pool->next >= p->linked)
    return NULL;
  end = p->linked < p->bad ? p->linked : p->bad;
  *from = pool->next;
  *to = *from + VERIFY_CHUNK < p->linked ? *from + VERIFY_CHUNK : p->linked;
  pool->next = *to;
  if (*from >= end)
    *to = *from;      /* nothing to check, only to count */
  return p;
}

static void vpool_finish(vpool_t *pool, vpage_t *p, size_t from, size_t to)
{
  p->checked += to - from;
  if (p->checked == p->linked) {
    pool->job = NULL;
    pthread_cond_signal(&pool->done);
  }
}

static void *vpool_worker(void *arg)
{
  vpool_t *pool = arg;
  size_t from = 0, to = 0, claimed_to = 0;
  vpage_t *p;

  pthread_mutex_lock(&pool->mu);
  for (;;) {
    p = NULL;
    while (!pool->stop) {
      p = vpool_take(pool, &from, &to);
      if (p)
        break;
      pthread_cond_wait(&pool->work, &pool->mu);
    }
    if (!p)
      break;
    claimed_to = pool->next;
    pthread_mutex_unlock(&pool->mu);
    vpool_check(pool, p, from, to);
    pthread_mutex_lock(&pool->mu);
    vpool_finish(pool, p, from, claimed_to);
  }
  pthread_mutex_unlock(&pool->mu);
  return NULL;
}

/* Start one worker per online core. With none (pthread failure) the main
 * thread checks the pages itself. */
static void vpool_start(vpool_t *pool, const uint8_t node_pk[CN_PK_BYTES])
{
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  size_t want = cores < 1 ? 1 : cores > VERIFY_THREADS_MAX ? VERIFY_THREADS_MAX : (size_t)cores;

  memset(pool, 0, sizeof *pool);
  memcpy(pool->node_pk, node_pk, CN_PK_BYTES);
  pthread_mutex_init(&pool->mu, NULL);
  pthread_cond_init(&pool->work, NULL);
  pthread_cond_init(&pool->done, NULL);
  for (size_t i = 0; i < want; i++) {
    if (pthread_create(&pool->threads[pool->n_threads], NULL, vpool_worker, pool) != 0)
      break;
    pool->n_threads++;
  }
}

static void vpool_stop(vpool_t *pool)
{
  pthread_mutex_lock(&pool->mu);
  pool->stop = 1;
  pthread_cond_broadcast(&pool->work);
  pthread_mutex_unlock(&pool->mu);
  for (size_t i = 0; i < pool->n_threads; i++)
    pthread_join(pool->threads[i], NULL);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->work);
  pthread_mutex_destroy(&pool->mu);
}

/* Hand P's linked entries to the workers (or, without workers, check them now). */
static void vpool_submit(vpool_t *pool, vpage_t *p)
{
  p->checked = 0;
  if (p->linked == 0)
    return;
  if (pool->n_threads == 0) {
    vpool_check(pool, p, 0, p->linked);
    p->checked = p->linked;
    return;
  }
  pthread_mutex_lock(&pool->mu);
  pool->job = p;
  pool->next = 0;
  pthread_cond_broadcast(&pool->work);
  pthread_mutex_unlock(&pool->mu);
}

/* Wait until every linked entry of P is checked. */
static void vpool_wait(vpool_t *pool, vpage_t *p)
{
  pthread_mutex_lock(&pool->mu);
  while (p->checked < p->linked)
    pthread_cond_wait(&pool->done, &pool->mu);
  pthread_mutex_unlock(&pool->mu);
}

/* Link P's entries to the chain so far (*SEQ, HASH: the last linked entry,
 * updated): seq order, field sizes, prev. Entries from the first that fails
 * are left out (P->linked) and that one is P's failure, with the reason the
 * library gives. */
static void vpage_link(vpage_t *p, const uint8_t node_pk[CN_PK_BYTES], uint64_t *seq,
                       uint8_t hash[CN_HASH_BYTES])
{
  size_t n = p->page->n_entries;

  p->bad = n;
  p->error[0] = 0;
  for (p->linked = 0; p->linked < n; p->linked++) {
    const Councilnet__LogEntry *e = p->page->entries[p->linked];
    if (e->seq != *seq + 1 || e->prev.len != CN_HASH_BYTES || e->record_id.len != CN_HASH_BYTES ||
        e->hash.len != CN_HASH_BYTES || memcmp(e->prev.data, hash, CN_HASH_BYTES) != 0) {
      /* the library's step stops at these checks, before any crypto:
       * let it word the reason */
      cn_log_verifier_t v;
      cn_log_verifier_init(&v, node_pk);
      v.seq = *seq;
      memcpy(v.hash, hash, CN_HASH_BYTES);
      if (cn_log_verifier_step(&v, e->seq, e->prev.data, e->prev.len, e->record_id.data,
                               e->record_id.len, e->received, e->hash.data, e->hash.len,
                               e->envelope.data, e->envelope.len) != 0)
        snprintf(p->error, sizeof p->error, "%s", v.error);
      p->bad = p->linked;
      break;
    }
    *seq = e->seq;
    memcpy(hash, e->hash.data, CN_HASH_BYTES);
  }
}

/* Take a checked page in log order: move V along it, call FN, report
 * progress. Return CN_EXIT_OK, CN_EXIT_REFUSED with BAD filled at the first
 * bad entry, or FN's status. */
static int vpage_take(vpage_t *p, cn_log_verifier_t *v, cn_verify_entry_fn fn, void *ctx,
                      cn_verify_failure_t *bad, uint64_t *next_progress)
{
  int rc;

  for (size_t i = 0; i < p->page->n_entries; i++) {
    const Councilnet__LogEntry *e = p->page->entries[i];
    if (i == p->bad) {
      snprintf(v->error, sizeof v->error, "%s", p->error);
      bad->failed = 1;
      bad->seq = e->seq;
      bad->what = "entry";
      return CN_EXIT_REFUSED;
    }
    v->seq = e->seq;
    memcpy(v->hash, e->hash.data, CN_HASH_BYTES);
    if (fn && (rc = fn(ctx, e)) != CN_EXIT_OK)
      return rc;
    if (v->seq >= *next_progress) {
      fprintf(stderr, "council: verified %llu entries...\n", (unsigned long long)v->seq);
      *next_progress = v->seq - v->seq % VERIFY_PROGRESS + VERIFY_PROGRESS;
    }
  }
  return CN_EXIT_OK;
}

static void vpage_clear(vpage_t *p)
{
  if (p->page)
    councilnet__log_page__free_unpacked(p->page, NULL);
  memset(p, 0, sizeof *p);
}

int cn_verify_log_walk(cn_cli_t *cli, cn_log_verifier_t *v, cn_verify_entry_fn fn, void *ctx,
                       cn_verify_failure_t *bad)
{
  vpage_t pages[2], *cur = NULL, *nxt;
  vpool_t pool;
  char path[96];
  uint64_t next_progress = VERIFY_PROGRESS, link_seq = v->seq;
  uint8_t link_hash[CN_HASH_BYTES];
  int tries = 0, rc, fetch_rc;

  memset(bad, 0, sizeof *bad);
  memset(pages, 0, sizeof pages);
  memcpy(link_hash, v->hash, CN_HASH_BYTES);
  vpool_start(&pool, v->node_pk);
  for (;;) {
    /* Fetch and link the next page while the workers check CUR; none
     * after a page whose links broke, where the walk ends anyway. */
    nxt = cur == &pages[0] ? &pages[1] : &pages[0];
    fetch_rc = CN_EXIT_OK;
    if (!cur || cur->linked == cur->page->n_entries) {
      snprintf(path, sizeof path, "/v1/log?after=%llu&limit=%d", (unsigned long long)link_seq,
               VERIFY_PAGE);
      fetch_rc = cn_cli_get(cli, path, &councilnet__log_page__descriptor,
                            (ProtobufCMessage **)&nxt->page);
      if (fetch_rc == CN_EXIT_OK)
        vpage_link(nxt, v->node_pk, &link_seq, link_hash);
    }
    if (cur) {
      vpool_wait(&pool, cur);
      rc = vpage_take(cur, v, fn, ctx, bad, &next_progress);
      vpage_clear(cur);
      cur = NULL;
      if (rc != CN_EXIT_OK)
        goto out;
    }
    if (fetch_rc != CN_EXIT_OK) {
      rc = fetch_rc;
      goto out;
    }
    if (!nxt->page) {          /* cannot happen: a broken page ends the walk */
      rc = CN_EXIT_REFUSED;
      goto out;
    }
    if (nxt->page->n_entries == 0) {
      /* V has taken every entry so far: the head must name the last one */
      if (check_head(v, nxt->page) == 0)
        break;
      if (++tries >= VERIFY_HEAD_TRIES) {
        bad->failed = 1;
        bad->seq = v->seq;
        bad->what = "after entry";
        rc = CN_EXIT_REFUSED;
        goto out;
      }
      vpage_clear(nxt);
      continue;
    }
    cur = nxt;
    vpool_submit(&pool, cur);
  }
  rc = CN_EXIT_OK;
out:
  if (cur)
    vpool_wait(&pool, cur);
  vpool_stop(&pool);
  vpage_clear(&pages[0]);
  vpage_clear(&pages[1]);
  return rc;
}

/* A decision whose child councils' ballots do not fit in it names the
 * "contributions" parts the node logged just before it, in the same
 * transaction (lib/node.c, decision_append): parts 0 .. N-1 of the
 * decision's proposal and time, then the decision naming their record
 * ids in order. Each record was checked alone already; this checks the
 * tie, so that a decision naming parts the node never logged (or another
 * decision's, or in another order) is caught by verify, not only by the
 * client that shows it. */
typedef struct parts_check_t {
  const cn_cli_t *cli;
  const uint8_t *node_pk;
  uint8_t (*ids)[CN_HASH_BYTES];  /* the run of the node's parts just before */
  size_t n, cap;
  uint64_t created, parts;
  uint8_t proposal[CN_HASH_BYTES];
} parts_check_t;

/* Add part P (record id ID) to C's run, or start a run at part 0; any
 * other part ends the run. -1 if out of memory. */
static int parts_add(parts_check_t *c, const Councilnet__DecisionContributions *p,
                     const ProtobufCBinaryData *id)
{
  if (p->proposal.len != CN_HASH_BYTES || id->len != CN_HASH_BYTES) {
    c->n = 0;
    return 0;
  }
  if (p->part == 0) {
    c->n = 0;
    c->created = p->created;
    c->parts = p->parts;
    memcpy(c->proposal, p->proposal.data, CN_HASH_BYTES);
  } else if (p->part != c->n || p->created != c->created || p->parts != c->parts ||
             memcmp(p->proposal.data, c->proposal, CN_HASH_BYTES) != 0) {
    c->n = 0;
    return 0;
  }
  if (c->n >= VERIFY_PARTS_MAX) {
    c->n = 0;
    return 0;
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    void *ids = realloc(c->ids, cap * sizeof *c->ids);
    if (!ids)
      return -1;
    c->ids = ids;
    c->cap = cap;
  }
  memcpy(c->ids[c->n++], id->data, CN_HASH_BYTES);
  return 0;
}

/* Why decision D does not name the run of parts in C, or NULL if it does
 * (or names none). */
static const char *parts_mismatch(const parts_check_t *c, const Councilnet__Decision *d)
{
  if (d->n_contribution_records == 0)
    return NULL;
  if (d->n_contributions)
    return "a decision in parts lists contributions inline as well";
  if (c->n == 0)
    return "the decision names contributions parts the node did not log just before it";
  if (c->n != d->n_contribution_records || c->parts != c->n)
    return "the decision names another number of contributions parts than the node logged "
           "just before it";
  if (d->proposal.len != CN_HASH_BYTES || memcmp(d->proposal.data, c->proposal, CN_HASH_BYTES) ||
      d->created != c->created)
    return "the contributions parts logged before the decision are of another proposal or time";
  for (size_t i = 0; i < c->n; i++)
    if (d->contribution_records[i].len != CN_HASH_BYTES ||
        memcmp(d->contribution_records[i].data, c->ids[i], CN_HASH_BYTES) != 0)
      return "the decision names other contributions parts than the node logged just before it";
  return NULL;
}

/* cn_verify_entry_fn */
static int parts_entry(void *ctx, const Councilnet__LogEntry *e)
{
  parts_check_t *c = ctx;
  Councilnet__Envelope *env = councilnet__envelope__unpack(NULL, e->envelope.len, e->envelope.data);
  int own, rc = CN_EXIT_OK;

  if (!env)
    return CN_EXIT_OK;          /* cannot happen: the verifier opened it */
  own = env->signer.len == CN_PK_BYTES && memcmp(env->signer.data, c->node_pk, CN_PK_BYTES) == 0;
  if (own && env->kind && strcmp(env->kind, "contributions") == 0) {
    Councilnet__DecisionContributions *p =
      councilnet__decision_contributions__unpack(NULL, env->body.len, env->body.data);
    if (!p)
      c->n = 0;
    else if (parts_add(c, p, &e->record_id) != 0) {
      cn_cli_errorf("out of memory");        /* ours, not the log's */
      rc = CN_EXIT_LOCAL;
    }
    if (p)
      councilnet__decision_contributions__free_unpacked(p, NULL);
  } else {
    if (own && env->kind && strcmp(env->kind, "decision") == 0) {
      Councilnet__Decision *d = councilnet__decision__unpack(NULL, env->body.len, env->body.data);
      const char *why = d ? parts_mismatch(c, d) : NULL;
      if (why)
        rc = report_bad(c->cli, e->seq, "entry", why);
      if (d)
        councilnet__decision__free_unpacked(d, NULL);
    }
    c->n = 0;                   /* parts are followed at once by their decision */
  }
  councilnet__envelope__free_unpacked(env, NULL);
  return rc;
}

int cn_cmd_verify(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  cn_verify_failure_t bad;
  cn_log_verifier_t v;
  parts_check_t parts;
  char head[2 * CN_HASH_BYTES + 1];
  int rc = CN_EXIT_LOCAL;

  memset(&parts, 0, sizeof parts);

  cli->usage = verify_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_log_verifier_init(&v, cli->node_pk);
  parts.cli = cli;
  parts.node_pk = cli->node_pk;
  rc = cn_verify_log_walk(cli, &v, parts_entry, &parts, &bad);
  if (bad.failed) {
    rc = report_bad(cli, bad.seq, bad.what, v.error);
    goto out;
  }
  if (rc != CN_EXIT_OK)
    goto out;
  cn_hex_encode(head, v.hash, CN_HASH_BYTES);
  if (cli->json)
    printf("{\"ok\":true,\"entries\":%llu,\"head\":\"%s\"}\n", (unsigned long long)v.seq, head);
  else
    printf("verified %llu entries, head %s\n", (unsigned long long)v.seq, head);
  rc = CN_EXIT_OK;
out:
  free(parts.ids);
  return rc;
}
