/* fuzz_apply.c: libFuzzer entry point for a node's write path: decode,
 * verify, authorize, apply, commit, for every record kind, plus closing
 * proposals and rounds on the node's clock and following a parent's log.
 *
 * An input is a sequence of chunks separated by FZ_SEP. Each chunk is
 *   byte 0  what to do: kind index (see kinds[] below, the kinds table of
 *           lib/node.c), or RAW (submit the rest as an Envelope, unsigned
 *           by the harness), or FOLLOW (the rest is a LogPage from the
 *           parent, for cn_node_follow_apply)
 *   byte 1  low 4 bits: who signs (fuzz_node.h key index, mod FZ_NKEYS);
 *           bit 7: the act runs in a group-commit batch
 *           (cn_node_batch_begin/end) with the batched acts around it
 *   byte 2  clock step before the act: 0 none, 1..127 seconds, 128..255
 *           (b - 127) hours; a step also closes what fell due
 *   rest    the body bytes, sealed as that kind with that key
 * So a mutated body is always correctly signed and reaches the kind's
 * apply code. Seeds are whole scenarios (proposal, ballots, close; a
 * selection, its credential, a mandate, the delivery; a child council's
 * forwarded records; budget rounds) addressed to the fixed node key.
 *
 * The node starts over every CN_FUZZ_RESET_EVERY inputs (default 32), so
 * state found by one input can help the next, but stays small; set it to 1
 * to make every input reproducible on its own. The clock restarts at
 * FZ_T0 at every input. After the chunks, every query runs and its answer
 * is mapped to JSON, and the outbox is drained, over whatever state the
 * input left.
 *
 * Checked, beyond "no crash, no leak, no UB": every accepted act has a
 * receipt; every query answer decodes as its own type; a round's .pb export
 * parses; and after each input the log entries it added verify, as
 * `council verify` checks them (seq, chain, record ids, entry hashes,
 * signatures), up to a signed head that names the last one; and every lot
 * the node draws carries a lot signature that verifies against the head
 * before it, with the seed it gives (as `council sortition verify`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/budget.h"
#include "councilnet/log.h"
#include "councilnet/pbjson.h"
#include "councilnet/sortition.h"
#include "fuzz_node.h"

#define FZ_SEP "\n#cn#\n"
#define FZ_SEP_LEN 6
#define FZ_MAX_IDS 64

static const char *const kinds[] = {
  "member_add", "member_remove", "role_set", "proposal", "ballot", "paper_ballot",
  "settings", "volunteer", "mandate_draft", "delivery", "recall_vote", "parent_set",
  "delegate_ballot", "roll", "credential", "decision", "recall", "budget_round",
  "budget_ballot", "budget_mandate", "outbox_resend",
};
#define NKINDS (sizeof kinds / sizeof kinds[0])
#define MODE_RAW NKINDS
#define MODE_FOLLOW (NKINDS + 1)
#define NMODES (NKINDS + 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned reset_every = 32, inputs;
static int verbose;                  /* CN_FUZZ_VERBOSE: print each chunk's answer */
static uint8_t ids[FZ_MAX_IDS][CN_HASH_BYTES];   /* records accepted by this input */
static size_t n_ids;
static int in_batch;
static cn_log_verifier_t verifier;                /* the log verified so far */

static void batch_end(void)
{
  if (in_batch) {
    cn_node_batch_end(fz_node);
    in_batch = 0;
  }
}

static void node_reset(void)
{
  in_batch = 0;
  fz_node_reset();
  cn_log_verifier_init(&verifier, fz_pk[FZ_NODE]);
}

/* KNOWN BUG (lib/node.c + lib/budget.c, reported; SECURITY.md "Known
 * gaps" 2): a child's budget mandate may carry any count per approval set,
 * and closing an Equal Shares round then takes time (and the .pb export
 * memory) proportional to the count. Until counts are bounded, mandates
 * with a set of more than FZ_MAX_SET_COUNT voters are not submitted, so
 * the fuzzer reports other things than this one timeout. */
#define FZ_MAX_SET_COUNT 10000

static int budget_mandate_too_big(const uint8_t *body, size_t len)
{
  Councilnet__BudgetMandate *m = councilnet__budget_mandate__unpack(NULL, len, body);
  int big = 0;
  for (size_t i = 0; m && i < m->n_sets; i++)
    big |= m->sets[i]->count > FZ_MAX_SET_COUNT;
  if (m)
    councilnet__budget_mandate__free_unpacked(m, NULL);
  return big;
}

/* Run one chunk. ID_OUT (may be NULL) gets the record id when accepted.
 * Return the node's answer (CN_OK for a FOLLOW page that applied). */
static cn_err apply_chunk(const uint8_t *c, size_t n, uint8_t id_out[CN_HASH_BYTES])
{
  unsigned mode, key;
  uint64_t step;
  uint8_t *env = NULL, *receipt = NULL;
  size_t len = 0, rlen = 0;
  char msg[256];
  cn_err err = CN_ERR_INVALID;

  if (n < 3)
    return CN_ERR_INVALID;
  mode = c[0] % NMODES;
  key = (c[1] & 15) % FZ_NKEYS;
  step = c[2] < 128 ? c[2] : (uint64_t)(c[2] - 127) * 3600;
  if (step || !(c[1] & 0x80))
    batch_end();     /* as in councild: the close timer runs between batches */
  if (step) {
    fz_now += step;
    cn_node_close_due(fz_node);
  }
  if ((c[1] & 0x80) && !in_batch && mode != MODE_FOLLOW)
    in_batch = cn_node_batch_begin(fz_node) == 0;
  c += 3;
  n -= 3;
  msg[0] = 0;
  if (mode == MODE_FOLLOW) {
    size_t applied = 0;
    batch_end();
    err = cn_node_follow_apply(fz_node, c, n, &applied, msg, sizeof msg) == 0 ? CN_OK
          : CN_ERR_INVALID;
    if (verbose)
      fprintf(stderr, "fuzz_apply: follow: %zu applied %s\n", applied, msg);
    return err;
  }
  if (mode < NKINDS && strcmp(kinds[mode], "budget_mandate") == 0 && budget_mandate_too_big(c, n))
    return CN_ERR_INVALID;
  if (mode == MODE_RAW) {
    err = cn_node_submit(fz_node, c, n, &receipt, &rlen, msg, sizeof msg);
    if (err == CN_OK && id_out)
      cn_crypto_hash(id_out, c, n);
  } else if (cn_record_seal_bytes(kinds[mode], c, n, fz_sk[key], &env, &len) == 0) {
    err = cn_node_submit(fz_node, env, len, &receipt, &rlen, msg, sizeof msg);
    if (err == CN_OK && id_out)
      cn_crypto_hash(id_out, env, len);
  }
  if (verbose)
    fprintf(stderr, "fuzz_apply: %s by key %u at +%llu: %s %s\n",
            mode == MODE_RAW ? "raw" : kinds[mode], key, (unsigned long long)(fz_now - FZ_T0),
            cn_err_name(err), msg);
  if (err == CN_OK && (!receipt || rlen == 0)) {
    fprintf(stderr, "fuzz_apply: accepted without a receipt\n");
    abort();
  }
  free(env);
  free(receipt);
  return err;
}

/* Map an answer to JSON (the API's Accept: application/json path) and free it. */
static void answer_done(cn_err err, cn_answer_t *a)
{
  if (err == CN_OK && a->desc) {
    ProtobufCMessage *m = protobuf_c_message_unpack(a->desc, NULL, a->len, a->data);
    if (!m) {
      fprintf(stderr, "fuzz_apply: a query answer does not decode as its own type\n");
      abort();
    }
    free(cn_pbjson_encode(m, 1));
    protobuf_c_message_free_unpacked(m, NULL);
  }
  free(a->data);
  memset(a, 0, sizeof *a);
}

/* If E is a lot the node drew (a decision of its own with a seed), its lot
 * signature must verify against the head before it and give its seed: a
 * lot drawn without one could be steered by the last record before it. */
static void check_lot(const Councilnet__LogEntry *e)
{
  Councilnet__Envelope *env = councilnet__envelope__unpack(NULL, e->envelope.len, e->envelope.data);
  Councilnet__Decision *d = NULL;
  uint8_t seed[CN_HASH_BYTES];

  if (env && strcmp(env->kind, "decision") == 0 && env->signer.len == CN_PK_BYTES &&
      memcmp(env->signer.data, fz_pk[FZ_NODE], CN_PK_BYTES) == 0)
    d = councilnet__decision__unpack(NULL, env->body.len, env->body.data);
  if (d && d->seed.len) {
    if (d->seed.len != CN_HASH_BYTES || d->lot_signature.len != CN_SIG_BYTES ||
        d->proposal.len != CN_HASH_BYTES || e->prev.len != CN_HASH_BYTES ||
        cn_sortition_check_lot(d->lot_signature.data, d->proposal.data, e->prev.data,
                               fz_pk[FZ_NODE]) != 0) {
      fprintf(stderr, "fuzz_apply: the lot at entry %llu has no valid lot signature\n",
              (unsigned long long)e->seq);
      abort();
    }
    cn_sortition_seed(seed, d->proposal.data, e->prev.data, d->lot_signature.data);
    if (memcmp(seed, d->seed.data, CN_HASH_BYTES) != 0) {
      fprintf(stderr, "fuzz_apply: the lot at entry %llu has another seed than its signature's\n",
              (unsigned long long)e->seq);
      abort();
    }
  }
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (env)
    councilnet__envelope__free_unpacked(env, NULL);
}

/* Verify the log entries added since the last call, then the signed head. */
static void verify_log(void)
{
  for (;;) {
    cn_answer_t a = { NULL, 0, NULL };
    Councilnet__LogPage *page;
    size_t got;
    if (cn_node_query_log(fz_node, verifier.seq, 1000, &a) != CN_OK)
      return;      /* a database error is not a finding here */
    page = councilnet__log_page__unpack(NULL, a.len, a.data);
    free(a.data);
    if (!page)
      abort();
    got = page->n_entries;
    for (size_t i = 0; i < got; i++) {
      const Councilnet__LogEntry *e = page->entries[i];
      if (cn_log_verifier_step(&verifier, e->seq, e->prev.data, e->prev.len, e->record_id.data,
                               e->record_id.len, e->received, e->hash.data, e->hash.len,
                               e->envelope.data, e->envelope.len) != 0) {
        fprintf(stderr, "fuzz_apply: the log does not verify at entry %llu: %s\n",
                (unsigned long long)e->seq, verifier.error);
        abort();
      }
      check_lot(e);
    }
    councilnet__log_page__free_unpacked(page, NULL);
    if (got == 0)
      break;
  }
  {
    cn_answer_t a = { NULL, 0, NULL };
    if (cn_node_query_head(fz_node, &a) == CN_OK &&
        cn_log_verifier_check_head(&verifier, a.data, a.len) != 0) {
      fprintf(stderr, "fuzz_apply: the signed head does not match the log: %s\n", verifier.error);
      abort();
    }
    free(a.data);
  }
}

static void run_queries(void)
{
  cn_answer_t a = { NULL, 0, NULL };
  cn_node_stats_t st;
  char *text = NULL;

  answer_done(cn_node_query_info(fz_node, &a), &a);
  answer_done(cn_node_query_head(fz_node, &a), &a);
  answer_done(cn_node_query_log(fz_node, 0, 64, &a), &a);
  answer_done(cn_node_query_members(fz_node, &a), &a);
  answer_done(cn_node_query_proposals(fz_node, &a), &a);
  answer_done(cn_node_query_delegates(fz_node, &a), &a);
  answer_done(cn_node_query_mandates(fz_node, &a), &a);
  answer_done(cn_node_query_recalls(fz_node, &a), &a);
  answer_done(cn_node_query_parent_proposals(fz_node, &a), &a);
  answer_done(cn_node_query_rounds(fz_node, &a), &a);
  answer_done(cn_node_query_federation(fz_node, "", &a), &a);
  for (size_t i = 0; i < n_ids; i++) {
    answer_done(cn_node_query_proposal(fz_node, ids[i], &a), &a);
    answer_done(cn_node_query_decision(fz_node, ids[i], &a), &a);
    answer_done(cn_node_query_record(fz_node, ids[i], &a), &a);
    if (cn_node_query_round_pb(fz_node, ids[i], &text) == CN_OK && text) {
      /* The export must read back as Pabulib. */
      cn_budget_t b;
      char err[256];
      memset(&b, 0, sizeof b);
      if (cn_pabulib_parse(text, strlen(text), &b, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_apply: the round's own .pb export does not parse: %s\n", err);
        abort();
      }
      cn_budget_free(&b);
    }
    free(text);
    text = NULL;
  }
  cn_node_stats(fz_node, &st);
  /* Drain the outbox as the federation timer would: done or buried. */
  for (int i = 0; i < 8; i++) {
    uint64_t row = 0;
    uint8_t *env = NULL;
    size_t len = 0;
    if (cn_node_outbox_first(fz_node, &row, &env, &len) != 0)
      break;
    free(env);
    if ((i & 1 ? cn_node_outbox_bury(fz_node, row, "fuzz") : cn_node_outbox_done(fz_node, row)) != 0)
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *p = data, *end = data + size;

  if (!fz_node) {
    const char *every = getenv("CN_FUZZ_RESET_EVERY");
    if (every && atoi(every) > 0)
      reset_every = (unsigned)atoi(every);
    verbose = getenv("CN_FUZZ_VERBOSE") != NULL;
    cn_crypto_init();
    node_reset();
  } else if (++inputs % reset_every == 0) {
    node_reset();
  }
  fz_now = FZ_T0;
  n_ids = 0;
  while (p < end) {
    const uint8_t *sep = NULL;
    for (const uint8_t *q = p; q + FZ_SEP_LEN <= end; q++)
      if (memcmp(q, FZ_SEP, FZ_SEP_LEN) == 0) {
        sep = q;
        break;
      }
    if (!sep)
      sep = end;
    if (apply_chunk(p, (size_t)(sep - p), n_ids < FZ_MAX_IDS ? ids[n_ids] : NULL) == CN_OK &&
        n_ids < FZ_MAX_IDS && sep - p >= 3 && p[0] % NMODES != MODE_FOLLOW)
      n_ids++;
    p = sep == end ? end : sep + FZ_SEP_LEN;
  }
  batch_end();
  verify_log();
  run_queries();
  return 0;
}
