/* bench_propagation.c: how fast a recall climbs a four-level federation.
 *
 * neighborhood -> district -> region -> city, one councild each, every
 * level a child of the next (tnode_start_child). The neighborhood (three
 * members) elects its delegate by vote (its convener proposes); the
 * district draws its delegate to the region by lot among volunteers, and
 * the delegate volunteers with the
 * neighborhood's credential; the region does the same towards the city. So
 * the city credential derives from the region's, which derives from the
 * district's (delegates of delegates, as in tests/test_federation.c).
 *
 * Timed: one member's recall vote is in (below the threshold, forwarded);
 * the clock starts when the second vote, the one that crosses the
 * threshold, is sent to the neighborhood, and stops when GET /v1/delegates
 * at the city shows its credential recalled. The recall travels through
 * three outboxes (neighborhood -> district -> region -> city). Five fresh
 * federations; min/median/max printed. Ceiling: the median round trip of
 * a bare evhttp request on 127.0.0.1 (keep-alive, like the federation's
 * connections), times three hops. The ratio printed is ceiling/measured
 * (1 would mean nothing but the network). CN_BENCH_SCALE does not apply;
 * CN_BENCH_REPEAT sets the number of federations (default 5). */
#include "bench_common.c"

#define LEVELS 4
#define HOOD 0
#define CITY 3
#define MEMBERS 3
#define TERM_END (BENCH_T0 + 1000000)

static const char *const level_name[LEVELS] = { "neighborhood", "district", "region", "city" };

typedef struct fed_t {
  tnode_t n[LEVELS];
  uint8_t pk[MEMBERS][CN_PK_BYTES], sk[MEMBERS][CN_SK_BYTES];
  int started[LEVELS];
} fed_t;

typedef struct has_cred_t {
  tnode_t *n;
  const uint8_t *key;
} has_cred_t;

static int has_live_credential(void *ctx)
{
  has_cred_t *h = ctx;
  uint8_t id[CN_HASH_BYTES];
  int recalled = 1;
  return util_credential_of(h->n, h->key, id, &recalled) == 0 && !recalled;
}

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

static void fed_clock(fed_t *f, uint64_t t)
{
  for (int i = 0; i < LEVELS; i++)
    if (f->started[i])
      tnode_set_clock(&f->n[i], t);
}

static void fed_destroy(fed_t *f)
{
  for (int i = 0; i < LEVELS; i++)
    if (f->started[i]) {
      tnode_destroy(&f->n[i]);
      f->started[i] = 0;
    }
}

/* Level L (>= 1) draws its delegate to level L+1 by lot among volunteers;
 * the neighborhood's delegate volunteers. Window closes at CLOSES. */
static int draw_by_lot(fed_t *f, int l, uint64_t closes)
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;
  Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
  tnode_t *n = &f->n[l];
  uint8_t sid[CN_HASH_BYTES];
  has_cred_t h = { &f->n[l + 1], f->pk[0] };

  p.title = "Delegate to the next level, by lot";
  p.opens = n->now;
  p.closes = closes;
  p.selection = &sel;
  sel.method = COUNCILNET__SELECTION_METHOD__BY_LOT;
  sel.seats = 1;
  sel.parent.data = f->n[l + 1].pk;
  sel.parent.len = CN_PK_BYTES;
  sel.term_start = closes;
  sel.term_end = TERM_END;
  if (util_propose(n, n->convener_sk, &p, sid) != CN_OK)
    return -1;
  v.node.data = n->pk;
  v.node.len = CN_PK_BYTES;
  v.created = n->now;
  v.proposal.data = sid;
  v.proposal.len = CN_HASH_BYTES;
  if (util_act(n, "volunteer", &v, f->sk[0], NULL) != CN_OK)
    return -1;
  fed_clock(f, closes);
  return util_wait(has_live_credential, &h, 10000);
}

/* Start a federation whose city holds a credential of the neighborhood's
 * delegate derived down the chain. Return 0 or -1. */
static int fed_start(fed_t *f)
{
  memset(f, 0, sizeof *f);
  if (tnode_start(&f->n[CITY], "City council", BENCH_T0) != 0)
    return -1;
  f->started[CITY] = 1;
  for (int l = CITY - 1; l >= HOOD; l--) {
    if (tnode_start_child(&f->n[l], level_name[l], BENCH_T0, &f->n[l + 1]) != 0)
      return -1;
    f->started[l] = 1;
    if (util_admit_council(&f->n[l + 1], f->n[l].pk, level_name[l]) != CN_OK)
      return -1;
  }
  for (int m = 0; m < MEMBERS; m++) {
    cn_crypto_keypair(f->pk[m], f->sk[m]);
    if (util_admit(&f->n[HOOD], f->pk[m], "member") != CN_OK)
      return -1;
  }
  {
    /* The neighborhood elects member 0 by vote. */
    Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
    Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;
    ProtobufCBinaryData cands[2] = { { CN_PK_BYTES, f->pk[0] }, { CN_PK_BYTES, f->pk[1] } };
    char *names[2] = { "First", "Second" };
    uint8_t sid[CN_HASH_BYTES];
    has_cred_t h = { &f->n[HOOD + 1], f->pk[0] };
    tnode_t *n = &f->n[HOOD];

    p.title = "Delegate to the district";
    p.option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
    p.options = names;
    p.n_options = 2;
    p.opens = BENCH_T0;
    p.closes = BENCH_T0 + 10;
    p.selection = &sel;
    sel.method = COUNCILNET__SELECTION_METHOD__BY_VOTE;
    sel.seats = 1;
    sel.candidates = cands;
    sel.n_candidates = 2;
    sel.parent.data = f->n[HOOD + 1].pk;
    sel.parent.len = CN_PK_BYTES;
    sel.term_start = BENCH_T0 + 10;
    sel.term_end = TERM_END;
    /* the convener proposes: a member's selection must stay open a day */
    if (util_propose(n, n->convener_sk, &p, sid) != CN_OK)
      return -1;
    for (int m = 0; m < MEMBERS; m++)
      if (util_vote(n, f->sk[m], sid, 0) != CN_OK)
        return -1;
    fed_clock(f, BENCH_T0 + 10);
    if (util_wait(has_live_credential, &h, 10000) != 0)
      return -1;
  }
  for (int l = HOOD + 1; l < CITY; l++)
    if (draw_by_lot(f, l, BENCH_T0 + 10 + 10 * (uint64_t)l) != 0)
      return -1;
  for (int l = HOOD; l < CITY; l++)
    if (util_wait(outbox_empty, &f->n[l], 10000) != 0)
      return -1;
  return 0;
}

/* Is the delegate's latest credential at N recalled? Over keep-alive C.
 * Return 1, 0, or -1 on a failed request. */
static int recalled_at(cn_http_conn_t *c, const uint8_t key[CN_PK_BYTES])
{
  cn_http_resp_t r;
  char err[256];
  Councilnet__DelegateList *dl;
  int rc = 0;

  if (cn_http_conn_request(c, "GET", "/v1/delegates", NULL, NULL, NULL, 0, &r, err, sizeof err) != 0)
    return -1;
  dl = r.status == 200 ? councilnet__delegate_list__unpack(NULL, r.len, r.body) : NULL;
  cn_http_resp_clear(&r);
  if (!dl)
    return -1;
  for (size_t i = 0; i < dl->n_delegates; i++) {
    Councilnet__DelegateView *v = dl->delegates[i];
    if (v->credential && v->credential->delegate.len == CN_PK_BYTES &&
        memcmp(v->credential->delegate.data, key, CN_PK_BYTES) == 0)
      rc = v->recalled;     /* the latest one wins */
  }
  councilnet__delegate_list__free_unpacked(dl, NULL);
  return rc;
}

/* Median ms of N member_add POSTs to N over one keep-alive connection:
 * one durable write at one councild, answered. */
static double write_ms(tnode_t *n, int count)
{
  cn_http_conn_t *c;
  char err[256];
  double *t = calloc((size_t)count, sizeof *t), med = -1;
  int got = 0;

  c = cn_http_conn_open(n->url, 10000, err, sizeof err);
  for (int i = 0; c && t && i < count; i++) {
    uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], *env = NULL;
    size_t len = 0;
    cn_http_resp_t r;
    double t0;
    int ok;
    cn_crypto_keypair(pk, sk);
    if (bench_seal_member_add(n->pk, n->now, pk, n->convener_sk, &env, &len) != 0)
      break;
    t0 = bench_now();
    ok = cn_http_conn_request(c, "POST", "/v1/records", NULL, "application/x-protobuf", env, len,
                              &r, err, sizeof err) == 0;
    free(env);
    if (!ok)
      break;
    if (r.status == 200)
      t[got++] = (bench_now() - t0) * 1e3;
    cn_http_resp_clear(&r);
    util_sleep_ms(2);
  }
  if (got)
    med = bench_median(t, got);
  cn_http_conn_free(c);
  free(t);
  return med;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One timed recall. *MS gets the time until the city shows the credential
 * recalled, *HOOD_MS the time until the neighborhood answered the vote
 * (its receipt). Return 0 or -1. */
static int fed_recall(fed_t *f, double *ms, double *hood_ms)
{
  Councilnet__RecallVote rv = COUNCILNET__RECALL_VOTE__INIT;
  cn_http_conn_t *c = NULL;
  uint8_t cred[CN_HASH_BYTES];
  char err[256];
  double t0;
  int rc = -1, r;

  if (util_credential_of(&f->n[HOOD], f->pk[0], cred, NULL) != 0)
    return -1;
  rv.node.data = f->n[HOOD].pk;
  rv.node.len = CN_PK_BYTES;
  rv.created = f->n[HOOD].now;
  rv.credential.data = cred;
  rv.credential.len = CN_HASH_BYTES;
  /* 1 of 3: below the threshold; it goes up and is counted there too */
  if (util_act(&f->n[HOOD], "recall_vote", &rv, f->sk[1], NULL) != CN_OK ||
      util_wait(outbox_empty, &f->n[HOOD], 10000) != 0)
    return -1;
  c = cn_http_conn_open(f->n[CITY].url, 10000, err, sizeof err);
  if (!c || recalled_at(c, f->pk[0]) != 0)
    goto out;
  util_sleep_ms(100);           /* let the federation go quiet */
  t0 = bench_now();
  /* 2 of 3: more than half of the roll */
  if (util_act(&f->n[HOOD], "recall_vote", &rv, f->sk[2], NULL) != CN_OK)
    goto out;
  *hood_ms = (bench_now() - t0) * 1e3;
  for (;;) {
    r = recalled_at(c, f->pk[0]);
    if (r < 0)
      goto out;
    if (r == 1)
      break;
    if (bench_now() - t0 > 30) {
      fprintf(stderr, "bench_propagation: not recalled at the city after 30 s\n");
      goto out;
    }
  }
  *ms = (bench_now() - t0) * 1e3;
  rc = 0;
out:
  cn_http_conn_free(c);
  return rc;
}

int main(void)
{
  const char *rep = getenv("CN_BENCH_REPEAT");
  int repeat = rep && atoi(rep) > 0 ? atoi(rep) : 5, done = 0, rc = 1, port = 0;
  double *ms = calloc((size_t)repeat, sizeof *ms), rtt = -1, ceiling, commit;
  pid_t bare;
  fed_t f;

  if (!ms || bench_init("bench_propagation") != 0)
    return 1;
  bare = bench_bare_start(&port);
  if (bare > 0) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    rtt = bench_rtt_ms(url, "/", 2000);
    bench_bare_stop(bare);
  }
  if (rtt <= 0) {
    fprintf(stderr, "bench_propagation: cannot measure the bare round trip\n");
    goto out;
  }
  ceiling = 3 * rtt;
  commit = bench_commit_ms(200);
  printf("propagation ceiling: %.3f ms bare evhttp round trip on 127.0.0.1 (keep-alive, median),"
         " x3 hops = %.3f ms\n", rtt, ceiling);
  printf("propagation ceiling: %.3f ms one durable SQLite commit (WAL, synchronous=FULL, median);"
         " 4 commits + 3 round trips = %.3f ms\n", commit, 4 * commit + ceiling);
  for (int i = 0; i < repeat; i++) {
    double hood_ms = 0;
    if (fed_start(&f) != 0) {
      fprintf(stderr, "bench_propagation: cannot set up federation %d\n", i + 1);
      fed_destroy(&f);
      goto out;
    }
    if (fed_recall(&f, &ms[done], &hood_ms) != 0) {
      fed_destroy(&f);
      goto out;
    }
    printf("propagation run %d: %.2f ms to void at the city (the neighborhood's receipt for the"
           " vote came at %.2f ms)\n", i + 1, ms[done], hood_ms);
    done++;
    if (i == repeat - 1) {
      double w = write_ms(&f.n[CITY], 100);
      printf("propagation: one durable write answered by a councild (POST member_add, keep-alive,"
             " median of 100) %.3f ms; 4 levels x that = %.3f ms\n", w, 4 * w);
    }
    fed_destroy(&f);
  }
  qsort(ms, (size_t)done, sizeof *ms, cmp_double);
  printf("propagation: min %.2f ms, median %.2f ms, max %.2f ms over %d federations\n", ms[0],
         ms[done / 2], ms[done - 1], done);
  {
    char ceil[96];
    snprintf(ceil, sizeof ceil, "ceiling 3 x %.3f ms = %.3f ms; ceiling/measured", rtt, ceiling);
    bench_line("propagation", ms[done / 2], "ms median", ceiling / ms[done / 2], ceil);
    snprintf(ceil, sizeof ceil, "durable ceiling 4 commits + 3 round trips = %.3f ms",
             4 * commit + ceiling);
    bench_line("propagation", ms[done / 2], "ms median", (4 * commit + ceiling) / ms[done / 2], ceil);
  }
  rc = 0;
out:
  free(ms);
  return rc;
}
