/* bench_ingest.c: signed ballots per second into one councild.
 *
 * Ceilings, measured in the same run:
 *  (a) crypto_sign_verify_detached() per second on one core, over messages
 *      the size of what a ballot's signature covers;
 *  (b) a bare libevent evhttp server (child process) answering 200 "ok",
 *      driven by exactly the same requests and client as the real run;
 *  (c) SQLite inserts of log-sized rows, WAL, synchronous=FULL, one
 *      transaction per CONNS rows (the most one group commit can hold).
 * The real thing: councild (group commit on, its defaults) with 20,000
 * members enrolled over keep-alive connections, then rounds of: one yes/no
 * question (rule.replace = 0), 32 keep-alive connections posting one signed
 * ballot per member, all signed before the clock starts. A ballot counts
 * when its answer is HTTP 200 (the receipt; its signature is not checked
 * here). The figure is the median of the rounds (CN_BENCH_ROUNDS, default
 * 3: on a shared VM one run varies by 10%); CPU, writes and the pipeline's
 * stages are over all rounds. CN_BENCH_SCALE scales the roll;
 * CN_BENCH_PERF=FILE records a perf profile (perf record -g) of councild
 * during the timed rounds. */
#include <sqlite3.h>

#include "bench_common.c"

#define CONNS 32

/* (c): log-like rows per second, synchronous=FULL, PER rows a transaction. */
static double sqlite_ceiling(size_t per, double seconds)
{
  char dir[256], path[300];
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  uint8_t blob[4][32], env[200];
  size_t rows = 0;
  double t0, t = 0, rate = -1;

  if (util_tmpdir(dir, sizeof dir, "sqlite") != 0)
    return -1;
  snprintf(path, sizeof path, "%s/bench.db", dir);
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE log(seq INTEGER PRIMARY KEY, prev BLOB NOT NULL,"
                   " record_id BLOB NOT NULL UNIQUE, received INTEGER NOT NULL, hash BLOB NOT NULL,"
                   " kind TEXT NOT NULL, signer BLOB NOT NULL, envelope BLOB NOT NULL);",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO log VALUES(?, ?, ?, ?, ?, 'ballot', ?, ?)", -1, &st,
                         NULL) != SQLITE_OK)
    goto out;
  randombytes_buf(blob, sizeof blob);
  randombytes_buf(env, sizeof env);
  t0 = bench_now();
  do {
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (size_t i = 0; i < per; i++, rows++) {
      memcpy(blob[1], &rows, sizeof rows);     /* a unique record id */
      sqlite3_bind_int64(st, 1, (sqlite3_int64)rows + 1);
      sqlite3_bind_blob(st, 2, blob[0], 32, SQLITE_STATIC);
      sqlite3_bind_blob(st, 3, blob[1], 32, SQLITE_STATIC);
      sqlite3_bind_int64(st, 4, 1900000000);
      sqlite3_bind_blob(st, 5, blob[2], 32, SQLITE_STATIC);
      sqlite3_bind_blob(st, 6, blob[3], 32, SQLITE_STATIC);
      sqlite3_bind_blob(st, 7, env, sizeof env, SQLITE_STATIC);
      if (sqlite3_step(st) != SQLITE_DONE)
        goto out;
      sqlite3_reset(st);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      goto out;
    t = bench_now();
  } while (t - t0 < seconds);
  rate = (double)rows / (t - t0);
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  util_rmtree(dir);
  return rate;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Seal question NAME, post it, and sign every member's ballot on it as a
 * ready request (REQS, replacing what is there). 0 or -1. */
static int ingest_prepare(tnode_t *node, const char *name, size_t members, uint8_t (*sk)[CN_SK_BYTES],
                          uint8_t **envs, size_t *lens, bench_req_t *reqs)
{
  uint8_t pid[CN_HASH_BYTES], *penv = NULL;
  size_t plen = 0;
  int rc = -1;

  if (bench_seal_question(node->pk, BENCH_T0, name, node->convener_sk, &penv, &plen) != 0 ||
      util_post(node, penv, plen, NULL) != CN_OK)
    goto out;
  cn_crypto_hash(pid, penv, plen);
  for (size_t i = 0; i < members; i++) {
    free(envs[i]);
    envs[i] = NULL;
    free(reqs[i].buf);
    memset(&reqs[i], 0, sizeof reqs[i]);
    if (bench_seal_ballot(node->pk, BENCH_T0, pid, (uint32_t)(i % 3), sk[i], &envs[i], &lens[i]) != 0 ||
        bench_req_post(&reqs[i], "/v1/records", envs[i], lens[i]) != 0)
      goto out;
  }
  rc = 0;
out:
  free(penv);
  return rc;
}

int main(void)
{
  size_t members = bench_n(20000, 100), ok, total_ok = 0;
  const char *e_rounds = getenv("CN_BENCH_ROUNDS");
  int rounds = e_rounds && atoi(e_rounds) > 0 ? atoi(e_rounds) : 3;
  double rates[16], total_secs = 0;
  tnode_t node;
  int started = 0, rc = 1;
  uint8_t **envs = NULL, (*pk)[CN_PK_BYTES] = NULL, (*sk)[CN_SK_BYTES] = NULL;
  size_t *lens = NULL;
  bench_req_t *reqs = NULL;
  int *status = NULL;
  double verify_rate, bare_rate = -1, sql_rate, secs = 0, real_rate;
  bench_cpu_t cpu0, cpu1, cpu_sum;
  bench_pipe_t pipe0;
  bench_blast_t b;
  bench_stamps_t stamps = { NULL, 0 };
  pid_t bare = -1, perf = 0;
  int bare_port = 0;

  if (bench_init("bench_ingest") != 0)
    return 1;
  if (rounds > (int)(sizeof rates / sizeof rates[0]))
    rounds = (int)(sizeof rates / sizeof rates[0]);
  /* (a) */
  verify_rate = bench_verify_ceiling(2.0);
  printf("ingest ceiling (a) verify: %.0f verifies/s on one core (%zu-byte messages)\n",
         verify_rate, bench_ballot_msg_len());
  /* (c) */
  sql_rate = sqlite_ceiling(CONNS, 2.0);
  printf("ingest ceiling (c) sqlite: %.0f rows/s (WAL, synchronous=FULL, %d rows a transaction)\n",
         sql_rate, CONNS);

  /* The node and its roll. */
  envs = calloc(members, sizeof *envs);
  lens = calloc(members, sizeof *lens);
  pk = calloc(members, sizeof *pk);
  sk = calloc(members, sizeof *sk);
  reqs = calloc(members, sizeof *reqs);
  status = calloc(members, sizeof *status);
  if (!envs || !lens || !pk || !sk || !reqs || !status)
    goto out;
  {
    /* CN_BENCH_WORKERS=N: councild's workers setting (default: one per CPU) */
    static char workers[32];
    const char *set[1] = { workers };
    const char *w = getenv("CN_BENCH_WORKERS");
    snprintf(workers, sizeof workers, "workers=%s", w && *w ? w : "0");
    if (tnode_start_set(&node, "Ingest assembly", BENCH_T0, set, 1) != 0) {
      fprintf(stderr, "bench_ingest: cannot start councild\n");
      goto out;
    }
  }
  started = 1;
  for (size_t i = 0; i < members; i++) {
    bench_member_key(i, pk[i], sk[i]);
    if (bench_seal_member_add(node.pk, BENCH_T0, pk[i], node.convener_sk, &envs[i], &lens[i]) != 0)
      goto out;
  }
  ok = bench_post_all(&node, envs, lens, members, CONNS, &secs);
  printf("ingest enroll: %zu members in %.2f s (%.0f member_add/s)\n", ok, secs, (double)ok / secs);
  if (ok != members) {
    fprintf(stderr, "bench_ingest: only %zu of %zu members admitted\n", ok, members);
    goto out;
  }
  /* Every ballot signed and rendered before the clock starts. */
  if (ingest_prepare(&node, "Bench question 1", members, sk, envs, lens, reqs) != 0)
    goto out;

  /* (b): the same requests, the same client, a bare evhttp server. */
  bare = bench_bare_start(&bare_port);
  if (bare > 0) {
    bench_blast_init(&b, bare_port, CONNS, reqs, members, status);
    if (bench_blast(&b) == 0 && b.ok == members)
      bare_rate = (double)b.ok / b.seconds;
    bench_bare_stop(bare);
  }
  printf("ingest ceiling (b) bare evhttp: %.0f requests/s (%d keep-alive connections, same requests)\n",
         bare_rate, CONNS);

  /* The real thing, ROUNDS times (a new question each: one ballot per
   * member and question). Signing the next round is outside the clock and
   * the CPU figures. */
  stamps.t = calloc(members, sizeof *stamps.t);
  if (!stamps.t)
    goto out;
  memset(&cpu_sum, 0, sizeof cpu_sum);
  bench_pipe_take(&node, &pipe0);
  perf = bench_perf_start(node.pid);
  for (int round = 0; round < rounds; round++) {
    if (round > 0) {
      char name[64];
      snprintf(name, sizeof name, "Bench question %d", round + 1);
      if (ingest_prepare(&node, name, members, sk, envs, lens, reqs) != 0) {
        bench_perf_stop(perf);
        goto out;
      }
    }
    bench_blast_init(&b, node.port, CONNS, reqs, members, status);
    if (round == 0) {       /* how the rate moves within a run: the first */
      b.on_reply = bench_stamp;
      b.ctx = &stamps;
      stamps.n = 0;
    }
    bench_cpu_take(node.pid, &cpu0);
    if (bench_blast(&b) != 0) {
      bench_perf_stop(perf);
      fprintf(stderr, "bench_ingest: the load driver failed\n");
      goto out;
    }
    bench_cpu_take(node.pid, &cpu1);
    bench_cpu_add(&cpu_sum, &cpu0, &cpu1);
    if (b.ok != members) {
      size_t first = 0;
      while (first < members && status[first] == 200)
        first++;
      fprintf(stderr, "bench_ingest: %zu of %zu ballots answered 200 (first other: HTTP %d)\n",
              b.ok, members, first < members ? status[first] : 0);
      bench_perf_stop(perf);
      goto out;
    }
    rates[round] = (double)b.ok / b.seconds;
    total_ok += b.ok;
    total_secs += b.seconds;
    printf("ingest round %d: %zu ballots in %.2f s (%.0f ballots/s)\n", round + 1, b.ok,
           b.seconds, rates[round]);
    if (round == 0)
      bench_stamps_print("ingest", "ballots", &stamps, b.seconds);
  }
  /* CPU over the rounds' timed parts only (not the signing between) */
  bench_cpu_print_sum("ingest", "ballot", &cpu_sum, total_ok, total_secs);
  bench_perf_stop(perf);
  bench_pipe_print("ingest", "ballot", &node, &pipe0);
  {
    double sorted[16];
    memcpy(sorted, rates, (size_t)rounds * sizeof *rates);
    qsort(sorted, (size_t)rounds, sizeof *sorted, cmp_double);
    real_rate = sorted[rounds / 2];
    printf("ingest: median of %d rounds %.0f ballots/s (lowest %.0f, highest %.0f)\n", rounds,
           real_rate, sorted[0], sorted[rounds - 1]);
  }
  {
    char ceil_a[96], ceil_b[96];
    snprintf(ceil_a, sizeof ceil_a, "verify ceiling %.0f/s", verify_rate);
    snprintf(ceil_b, sizeof ceil_b, "bare evhttp ceiling %.0f/s", bare_rate);
    bench_line("ingest", real_rate, "ballots/s", real_rate / verify_rate, ceil_a);
    bench_line("ingest", real_rate, "ballots/s", bare_rate > 0 ? real_rate / bare_rate : 0, ceil_b);
    if (sql_rate > 0)
      bench_line("ingest", real_rate, "ballots/s", real_rate / sql_rate, "sqlite ceiling");
  }
  rc = 0;
out:
  if (started && tnode_destroy(&node) != 0)
    rc = 1;
  for (size_t i = 0; envs && i < members; i++)
    free(envs[i]);
  free(envs);
  free(lens);
  free(pk);
  free(sk);
  free(stamps.t);
  bench_reqs_free(reqs, members);
  free(status);
  return rc;
}
