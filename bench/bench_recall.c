/* bench_recall.c: 10,000 signed recall votes arriving at a parent council.
 *
 * A parent and a child councild (tnode_start_child); the parent admits the
 * child. The child's roll of 19,999 members, a delegate selection by vote
 * and its close (the credential for the parent) are made through the
 * library on the child's database (batches, fake clock); what the child's
 * outbox then holds (one roll update per member, the credential) is
 * applied to the parent's database the same way, as its outbox would have
 * delivered it. The child stays stopped: a captured child, as in
 * tests/test_fed_outage.c part C.
 *
 * Timed: 10,000 recall votes, signed beforehand by distinct child members
 * and addressed to the child, posted straight to the parent over 32
 * keep-alive connections. The parent counts them against the child's roll
 * it holds; more than half of 19,999 is needed, so the 10,000th vote
 * crosses the threshold. The time runs from the first vote sent until GET
 * /v1/delegates at the parent shows the credential recalled. Printed:
 * votes/s and the ratio to the one-core verify ceiling of the same run.
 * CN_BENCH_SCALE scales the votes (the roll is always 2 * votes - 1). */
#include "bench_common.c"

#define CONNS 32
#define T_CLOSE (BENCH_T0 + 10)

typedef struct setup_t {
  tnode_t *child, *parent;
  size_t roll;
  uint8_t (*pk)[CN_PK_BYTES];
  uint8_t (*sk)[CN_SK_BYTES];
  uint8_t sid[CN_HASH_BYTES];     /* the selection */
} setup_t;

/* The child's records: ROLL member_add, the selection, one ballot. */
static int child_gen(void *ctx, size_t i, uint8_t **env, size_t *len)
{
  setup_t *s = ctx;

  if (i < s->roll)
    return bench_seal_member_add(s->child->pk, BENCH_T0, s->pk[i], s->child->convener_sk, env, len);
  if (i == s->roll) {
    Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
    Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;
    ProtobufCBinaryData cands[2] = { { CN_PK_BYTES, s->pk[0] }, { CN_PK_BYTES, s->pk[1] } };
    char *names[2] = { "A", "B" };
    p.node.data = s->child->pk;
    p.node.len = CN_PK_BYTES;
    p.created = BENCH_T0;
    p.title = "Delegate to the region";
    p.option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
    p.options = names;
    p.n_options = 2;
    p.opens = BENCH_T0;
    p.closes = T_CLOSE;
    p.selection = &sel;
    sel.method = COUNCILNET__SELECTION_METHOD__BY_VOTE;
    sel.seats = 1;
    sel.candidates = cands;
    sel.n_candidates = 2;
    sel.parent.data = s->parent->pk;
    sel.parent.len = CN_PK_BYTES;
    sel.term_start = T_CLOSE;
    sel.term_end = BENCH_T0 + 1000000;
    if (cn_record_seal("proposal", &p.base, s->child->convener_sk, env, len) != 0)
      return -1;
    cn_crypto_hash(s->sid, *env, *len);
    return 0;
  }
  return bench_seal_ballot(s->child->pk, BENCH_T0, s->sid, 0, s->sk[0], env, len);
}

/* Records taken from the child's outbox, applied in order at the parent. */
typedef struct outbox_t {
  uint8_t **envs;
  size_t *lens;
  size_t n, cap;
} outbox_t;

static int outbox_gen(void *ctx, size_t i, uint8_t **env, size_t *len)
{
  outbox_t *o = ctx;
  *env = o->envs[i];        /* handed over: the submitter frees it */
  *len = o->lens[i];
  o->envs[i] = NULL;
  return 0;
}

/* Build the child's roll and credential, move its outbox to the parent.
 * CRED gets the credential id. Return 0 or -1. */
static int setup(setup_t *s, uint8_t cred[CN_HASH_BYTES])
{
  cn_node_t *n = NULL;
  outbox_t o = { NULL, NULL, 0, 0 };
  uint64_t now = BENCH_T0, row;
  char err[256];
  int rc = -1, found = 0;

  if (tnode_kill(s->child, SIGTERM) != 0 || cn_node_open(s->child->dir, &n, err, sizeof err) != 0)
    goto out;
  cn_node_set_clock(n, bench_fake_clock, &now);
  if (bench_submit_stream(n, child_gen, s, s->roll + 2, 10000, "child roll") != 0)
    goto out;
  now = T_CLOSE;
  if (cn_node_close_due(n) < 1) {
    fprintf(stderr, "bench_recall: the selection did not close\n");
    goto out;
  }
  /* Take the outbox, as the parent's receipts would. */
  if (cn_node_batch_begin(n) != 0)
    goto out;
  for (;;) {
    uint8_t *env = NULL;
    size_t len = 0;
    cn_record_t rec;
    int r = cn_node_outbox_first(n, &row, &env, &len);
    if (r != 0)
      break;
    if (o.n == o.cap) {
      size_t cap = o.cap ? o.cap * 2 : 1024;
      uint8_t **e = realloc(o.envs, cap * sizeof *e);
      size_t *l = e ? realloc(o.lens, cap * sizeof *l) : NULL;
      if (e)
        o.envs = e;
      if (!l) {
        free(env);
        cn_node_batch_end(n);
        goto out;
      }
      o.lens = l;
      o.cap = cap;
    }
    if (cn_record_open(env, len, &rec) == CN_OK) {
      if (strcmp(rec.kind, "credential") == 0) {
        memcpy(cred, rec.id, CN_HASH_BYTES);
        found = 1;
      }
      cn_record_close(&rec);
    }
    o.envs[o.n] = env;
    o.lens[o.n++] = len;
    if (cn_node_outbox_done(n, row) != 0) {
      cn_node_batch_end(n);
      goto out;
    }
  }
  if (cn_node_batch_end(n) != 0 || !found) {
    fprintf(stderr, "bench_recall: no credential in the child's outbox\n");
    goto out;
  }
  cn_node_free(n);
  n = NULL;
  /* The parent takes in what the outbox held. */
  if (tnode_kill(s->parent, SIGTERM) != 0 || cn_node_open(s->parent->dir, &n, err, sizeof err) != 0)
    goto out;
  cn_node_set_clock(n, bench_fake_clock, &now);
  if (bench_submit_stream(n, outbox_gen, &o, o.n, 10000, "parent takes the roll") != 0)
    goto out;
  cn_node_free(n);
  n = NULL;
  if (tnode_set_clock(s->parent, T_CLOSE) != 0 || tnode_set_clock(s->child, T_CLOSE) != 0 ||
      tnode_restart(s->parent) != 0)
    goto out;
  fprintf(stderr, "bench_recall: parent holds the child's roll of %zu and the credential\n", s->roll);
  rc = 0;
out:
  if (n)
    cn_node_free(n);
  for (size_t i = 0; i < o.n; i++)
    free(o.envs[i]);
  free(o.envs);
  free(o.lens);
  return rc;
}

int main(void)
{
  size_t votes = bench_n(10000, 20), roll = 2 * votes - 1;
  tnode_t parent, child;
  setup_t s;
  uint8_t cred[CN_HASH_BYTES], id[CN_HASH_BYTES];
  uint8_t **envs = NULL;
  size_t *lens = NULL;
  bench_req_t *reqs = NULL;
  int *status = NULL, started = 0, rc = 1, recalled = 1, polls = 0;
  bench_stamps_t stamps = { NULL, 0 };
  bench_blast_t b;
  bench_cpu_t cpu0;
  bench_pipe_t pipe0;
  pid_t perf;
  double verify_rate, t_end, t_start, t_void;

  memset(&parent, 0, sizeof parent);
  memset(&child, 0, sizeof child);
  memset(&s, 0, sizeof s);
  if (bench_init("bench_recall") != 0)
    return 1;
  verify_rate = bench_verify_ceiling(2.0);
  printf("recall ceiling: %.0f verifies/s on one core (crypto_sign_verify_detached)\n", verify_rate);
  s.roll = roll;
  s.pk = calloc(roll, sizeof *s.pk);
  s.sk = calloc(roll, sizeof *s.sk);
  envs = calloc(votes, sizeof *envs);
  lens = calloc(votes, sizeof *lens);
  reqs = calloc(votes, sizeof *reqs);
  status = calloc(votes, sizeof *status);
  stamps.t = calloc(votes, sizeof *stamps.t);
  if (!s.pk || !s.sk || !envs || !lens || !reqs || !status || !stamps.t)
    goto out;
  for (size_t i = 0; i < roll; i++)
    bench_member_key(i, s.pk[i], s.sk[i]);
  if (tnode_start(&parent, "Regional council", BENCH_T0) != 0)
    goto out;
  started = 1;
  if (tnode_start_child(&child, "Riverside", BENCH_T0, &parent) != 0 ||
      util_admit_council(&parent, child.pk, "Riverside") != CN_OK)
    goto out;
  s.parent = &parent;
  s.child = &child;
  if (setup(&s, cred) != 0) {
    fprintf(stderr, "bench_recall: setup failed\n");
    goto out;
  }
  if (util_credential_of(&parent, s.pk[0], id, &recalled) != 0 || recalled ||
      memcmp(id, cred, CN_HASH_BYTES) != 0) {
    fprintf(stderr, "bench_recall: the parent does not hold the live credential\n");
    goto out;
  }

  /* Every vote signed before the clock starts: members 1..votes. */
  for (size_t i = 0; i < votes; i++) {
    Councilnet__RecallVote rv = COUNCILNET__RECALL_VOTE__INIT;
    rv.node.data = child.pk;          /* addressed to the members' own council */
    rv.node.len = CN_PK_BYTES;
    rv.created = T_CLOSE;
    rv.credential.data = cred;
    rv.credential.len = CN_HASH_BYTES;
    if (cn_record_seal("recall_vote", &rv.base, s.sk[i + 1], &envs[i], &lens[i]) != 0 ||
        bench_req_post(&reqs[i], "/v1/records", envs[i], lens[i]) != 0)
      goto out;
  }

  bench_blast_init(&b, parent.port, CONNS, reqs, votes, status);
  b.on_reply = bench_stamp;
  b.ctx = &stamps;
  perf = bench_perf_start(parent.pid);
  bench_cpu_take(parent.pid, &cpu0);
  bench_pipe_take(&parent, &pipe0);
  if (bench_blast(&b) != 0) {
    bench_perf_stop(perf);
    fprintf(stderr, "bench_recall: the load driver failed\n");
    goto out;
  }
  t_end = bench_now();
  t_start = t_end - b.seconds;
  for (;;) {
    polls++;
    if (util_credential_of(&parent, s.pk[0], id, &recalled) == 0 && recalled)
      break;
    if (bench_now() - t_end > 30) {
      bench_perf_stop(perf);
      fprintf(stderr, "bench_recall: the credential is still live 30 s after the last vote\n");
      goto out;
    }
    util_sleep_ms(1);
  }
  t_void = bench_now();
  bench_perf_stop(perf);
  if (b.ok != votes) {
    size_t first = 0;
    while (first < votes && status[first] == 200)
      first++;
    fprintf(stderr, "bench_recall: %zu of %zu votes answered 200 (first other: HTTP %d)\n", b.ok,
            votes, first < votes ? status[first] : 0);
  }
  printf("recall: %zu votes against a roll of %zu, credential void at the parent %.2f s after the"
         " first vote (%.1f ms after the last answer, %d polls)\n",
         b.ok, roll, t_void - t_start, (t_void - t_end) * 1e3, polls);
  bench_stamps_print("recall", "votes", &stamps, b.seconds);
  bench_cpu_print("recall", "vote", parent.pid, &cpu0, b.ok, t_void - t_start);
  bench_pipe_print("recall", "vote", &parent, &pipe0);
  {
    char ceil[96];
    double rate = (double)votes / (t_void - t_start);
    snprintf(ceil, sizeof ceil, "verify ceiling %.0f/s", verify_rate);
    bench_line("recall", rate, "votes/s", rate / verify_rate, ceil);
  }
  rc = b.ok == votes ? 0 : 1;
out:
  if (started) {
    if (child.dir[0] && tnode_destroy(&child) != 0)
      rc = 1;
    if (tnode_destroy(&parent) != 0)
      rc = 1;
  }
  for (size_t i = 0; envs && i < votes; i++)
    free(envs[i]);
  free(envs);
  free(lens);
  bench_reqs_free(reqs, votes);
  free(status);
  free(stamps.t);
  free(s.pk);
  free(s.sk);
  return rc;
}
