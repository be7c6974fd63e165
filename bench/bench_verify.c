/* bench_verify.c: `council verify` over a log of 1,000,000 entries.
 *
 * The log is built quickly through the library (cn_node_submit in batches
 * of 10,000 under a fake clock: 100,000 member_add records, then questions
 * of 999 ballots each), then councild serves it and `council verify` (the
 * CN_COUNCIL binary, default: this build's) fetches and checks all of it.
 * Ceilings measured in the same run:
 *  - raw crypto_sign_verify_detached() per second on one core;
 *  - the library's whole per-entry check (cn_log_verifier_step: hashes,
 *    envelope decode, signature, node-signed kinds) on one core, over the
 *    first page of the same log: what one core can do at best.
 * The goal is at least 1.6 times the raw one-core rate, using every core.
 * CN_BENCH_SCALE scales the log and the roll. */
#include "councilnet/log.h"

#include "bench_common.c"

/* cn_log_verifier_step() per second on one core over the first page. */
static double step_rate(tnode_t *t, double seconds)
{
  Councilnet__LogPage *page = (Councilnet__LogPage *)util_get(
    t, "/v1/log?after=0&limit=10000", &councilnet__log_page__descriptor);
  cn_log_verifier_t v;
  size_t done = 0;
  double t0, now = 0, rate = -1;

  if (!page || page->n_entries == 0)
    goto out;
  t0 = bench_now();
  do {
    cn_log_verifier_init(&v, t->pk);
    for (size_t i = 0; i < page->n_entries; i++) {
      const Councilnet__LogEntry *e = page->entries[i];
      if (cn_log_verifier_step(&v, e->seq, e->prev.data, e->prev.len, e->record_id.data,
                               e->record_id.len, e->received, e->hash.data, e->hash.len,
                               e->envelope.data, e->envelope.len) != 0) {
        fprintf(stderr, "bench_verify: entry %llu: %s\n", (unsigned long long)e->seq, v.error);
        goto out;
      }
    }
    done += page->n_entries;
    now = bench_now();
  } while (now - t0 < seconds);
  rate = (double)done / (now - t0);
out:
  if (page)
    councilnet__log_page__free_unpacked(page, NULL);
  return rate;
}

int main(void)
{
  size_t entries = bench_n(1000000, 5000), members = bench_n(100000, 500);
  unsigned long long verified = 0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  double verify_rate, one_core, t0, secs, rate;
  char cmd[1024], *out = NULL;
  bench_log_t l;
  tnode_t node;
  int rc = 1, status;

  memset(&node, 0, sizeof node);
  memset(&l, 0, sizeof l);
  if (bench_init("bench_verify") != 0)
    return 1;
  if (!getenv("CN_COUNCIL")) {
    fprintf(stderr, "bench_verify: set CN_COUNCIL to the council binary\n");
    return 1;
  }
  verify_rate = bench_verify_ceiling(2.0);
  printf("verify ceiling: %.0f verifies/s on one core (crypto_sign_verify_detached)\n", verify_rate);
  if (bench_log_node(&node, &l, members, entries, 1) != 0) {
    fprintf(stderr, "bench_verify: cannot build the log\n");
    goto out;
  }
  one_core = step_rate(&node, 2.0);
  printf("verify ceiling: %.0f entries/s on one core (cn_log_verifier_step, whole check)\n", one_core);
  snprintf(cmd, sizeof cmd, "'%s' verify --node %s 2>/dev/null", getenv("CN_COUNCIL"), node.url);
  t0 = bench_now();
  status = util_sh(cmd, &out);
  secs = bench_now() - t0;
  if (status != 0 || !out || sscanf(out, "verified %llu entries", &verified) != 1) {
    fprintf(stderr, "bench_verify: council verify failed (status %d): %s\n", status, out ? out : "");
    goto out;
  }
  rate = (double)verified / secs;
  printf("verify: %llu entries in %.2f s with %ld cores online\n", verified, secs, cores);
  {
    char ceil[96];
    snprintf(ceil, sizeof ceil, "one-core verify ceiling %.0f/s; goal 1.60", verify_rate);
    bench_line("verify", rate, "entries/s", rate / verify_rate, ceil);
    snprintf(ceil, sizeof ceil, "one-core whole-check ceiling %.0f/s", one_core);
    bench_line("verify", rate, "entries/s", one_core > 0 ? rate / one_core : 0, ceil);
  }
  rc = 0;
out:
  free(out);
  if (node.dir[0] && tnode_destroy(&node) != 0)
    rc = 1;
  bench_log_free(&l);
  return rc;
}
