/* bench_memory.c: start-up time and peak memory of a node with a long past.
 *
 * A node holding 100,000 members and 1,000,000 log entries (built through
 * the library as in bench_verify). councild is started on it and timed
 * until the port file names its port and until /healthz answers. Then it
 * serves GET /v1/node, /v1/head, one page of /v1/log (10,000 entries, the
 * largest page, what `council verify` asks) and 1,000 ballots on a new
 * question over 32 keep-alive connections; its peak resident set (VmHWM
 * in /proc/PID/status) is read after each step. The goal is under 32 MiB.
 * CN_BENCH_SCALE scales the log and the roll; CN_BENCH_CACHE as in
 * bench_common.c. */
#include "bench_common.c"

#define CONNS 32
#define GOAL_KIB (32 * 1024)

static int get_ok(tnode_t *t, const char *path, size_t *bytes)
{
  cn_http_resp_t r;
  char err[256];
  int ok;

  if (cn_http_request(t->url, "GET", path, NULL, NULL, NULL, 0, 30000, &r, err, sizeof err) != 0)
    return 0;
  ok = r.status == 200;
  if (bytes)
    *bytes = r.len;
  cn_http_resp_clear(&r);
  return ok;
}

static void rss_line(tnode_t *t, const char *after)
{
  printf("memory: after %s: VmHWM %.1f MiB, VmRSS %.1f MiB\n", after,
         (double)bench_proc_kib(t->pid, "VmHWM:") / 1024.0,
         (double)bench_proc_kib(t->pid, "VmRSS:") / 1024.0);
}

int main(void)
{
  size_t entries = bench_n(1000000, 5000), members = bench_n(100000, 1000);
  size_t ballots = members < 1000 ? members : 1000, page = 0, ok;
  uint8_t **envs = NULL, *penv = NULL, pid[CN_HASH_BYTES];
  size_t *lens = NULL, plen = 0;
  double port_ms = 0, t0, health_ms, secs = 0;
  long hwm;
  bench_log_t l;
  tnode_t node;
  int rc = 1;

  memset(&node, 0, sizeof node);
  memset(&l, 0, sizeof l);
  if (bench_init("bench_memory") != 0)
    return 1;
  if (bench_log_node(&node, &l, members, entries, 0) != 0) {
    fprintf(stderr, "bench_memory: cannot build the log\n");
    goto out;
  }
  /* a warm start: the database was just written, so it is in the page cache */
  t0 = bench_now();
  if (bench_spawn(&node, &port_ms) != 0)
    goto out;
  while (!get_ok(&node, "/healthz", NULL)) {
    if (bench_now() - t0 > 60)
      goto out;
    usleep(200);
  }
  health_ms = (bench_now() - t0) * 1e3;
  printf("memory-startup: %.1f ms to the port file, %.1f ms to /healthz answering"
         " (%zu members, %zu entries)\n", port_ms, health_ms, members, entries);
  rss_line(&node, "start-up");
  if (!get_ok(&node, "/v1/node", NULL) || !get_ok(&node, "/v1/head", NULL) ||
      !get_ok(&node, "/v1/log?after=0&limit=10000", &page)) {
    fprintf(stderr, "bench_memory: a GET failed\n");
    goto out;
  }
  printf("memory: /v1/log page of 10000 entries: %.1f MiB\n", (double)page / (1024.0 * 1024.0));
  rss_line(&node, "GET /v1/node, /v1/head, /v1/log");

  envs = calloc(ballots, sizeof *envs);
  lens = calloc(ballots, sizeof *lens);
  if (!envs || !lens)
    goto out;
  if (bench_seal_question(node.pk, BENCH_T0, "Memory question", node.convener_sk, &penv, &plen) != 0 ||
      util_post(&node, penv, plen, NULL) != CN_OK)
    goto out;
  cn_crypto_hash(pid, penv, plen);
  for (size_t i = 0; i < ballots; i++)
    if (bench_seal_ballot(node.pk, BENCH_T0, pid, 0, l.sk[i], &envs[i], &lens[i]) != 0)
      goto out;
  ok = bench_post_all(&node, envs, lens, ballots, CONNS, &secs);
  printf("memory: %zu of %zu ballots accepted in %.2f s\n", ok, ballots, secs);
  if (ok != ballots)
    goto out;
  rss_line(&node, "1000 ballots");
  hwm = bench_proc_kib(node.pid, "VmHWM:");
  {
    char ceil[64];
    snprintf(ceil, sizeof ceil, "goal %d MiB", GOAL_KIB / 1024);
    bench_line("memory", (double)hwm / 1024.0, "MiB peak RSS", (double)hwm / GOAL_KIB, ceil);
  }
  rc = 0;
out:
  if (node.dir[0] && tnode_destroy(&node) != 0)
    rc = 1;
  for (size_t i = 0; envs && i < ballots; i++)
    free(envs[i]);
  free(envs);
  free(lens);
  free(penv);
  bench_log_free(&l);
  return rc;
}
