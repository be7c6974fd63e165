/* test_crash.c: kill -9 councild during a stream of ballots, several times.
 * Every ballot that got a receipt must be in the log after restart, the log
 * must verify (`council verify`), and SQLite's integrity check must pass. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "councilnet/log.h"
#include "councilnet/record.h"
#include "http.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define MEMBERS 50
#define MAX_BALLOTS 200000
#define ROUNDS 5

typedef struct receipted_t {
  uint8_t id[CN_HASH_BYTES];
  uint64_t seq;
} receipted_t;

static tnode_t node;
static uint8_t sk[MEMBERS][CN_SK_BYTES], pk[MEMBERS][CN_PK_BYTES];
static receipted_t got[MAX_BALLOTS];
static size_t n_got;

/* Fetch the whole log, verify the chain, and count how many receipted
 * records it holds at the receipted seq. */
static int log_check(size_t *found, uint64_t *entries)
{
  cn_log_verifier_t v;
  uint64_t after = 0;
  int rc = -1;

  *found = 0;
  *entries = 0;
  cn_log_verifier_init(&v, node.pk);
  for (;;) {
    char path[64], err[256];
    cn_http_resp_t resp;
    Councilnet__LogPage *page;
    size_t n;

    snprintf(path, sizeof path, "/v1/log?after=%llu&limit=500", (unsigned long long)after);
    if (cn_http_request(node.url, "GET", path, NULL, NULL, NULL, 0, 10000, &resp, err, sizeof err) != 0)
      return -1;
    page = resp.status == 200 ? councilnet__log_page__unpack(NULL, resp.len, resp.body) : NULL;
    cn_http_resp_clear(&resp);
    if (!page)
      return -1;
    n = page->n_entries;
    for (size_t i = 0; i < n; i++) {
      Councilnet__LogEntry *e = page->entries[i];
      if (cn_log_verifier_step(&v, e->seq, e->prev.data, e->prev.len, e->record_id.data,
                               e->record_id.len, e->received, e->hash.data, e->hash.len,
                               e->envelope.data, e->envelope.len) != 0) {
        fprintf(stderr, "log entry %llu: %s\n", (unsigned long long)e->seq, v.error);
        councilnet__log_page__free_unpacked(page, NULL);
        return -1;
      }
      for (size_t j = 0; j < n_got; j++)
        if (got[j].seq == e->seq && e->record_id.len == CN_HASH_BYTES &&
            memcmp(got[j].id, e->record_id.data, CN_HASH_BYTES) == 0)
          (*found)++;
      after = e->seq;
      (*entries)++;
    }
    councilnet__log_page__free_unpacked(page, NULL);
    if (n == 0)
      break;
  }
  rc = 0;
  return rc;
}

int main(void)
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule rule = COUNCILNET__RULE__INIT;
  uint64_t counter = 0;
  uint8_t proposal_id[CN_HASH_BYTES];
  uint8_t *env = NULL;
  size_t len = 0;
  int started = 0;
  unsigned seed = (unsigned)time(NULL);

  cn_crypto_init();
  srand(seed);
  fprintf(stderr, "seed %u\n", seed);
  REQUIRE(tnode_start(&node, "crash", T0) == 0);
  started = 1;
  for (int i = 0; i < MEMBERS; i++) {
    Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
    cn_crypto_keypair(pk[i], sk[i]);
    m.node.data = node.pk;
    m.node.len = CN_PK_BYTES;
    m.created = T0;
    m.member.data = pk[i];
    m.member.len = CN_PK_BYTES;
    REQUIRE(util_act(&node, "member_add", &m, node.convener_sk, NULL) == CN_OK);
  }
  p.node.data = node.pk;
  p.node.len = CN_PK_BYTES;
  p.created = T0;
  p.title = "Crash-proof question";
  p.opens = T0;
  p.closes = T0 + 1000;
  rule.replace = 1;   /* members vote again and again: each ballot replaces */
  p.rule = &rule;
  REQUIRE(util_seal("proposal", &p, sk[0], &env, &len) == 0);
  REQUIRE(util_post(&node, env, len, NULL) == CN_OK);
  cn_crypto_hash(proposal_id, env, len);
  free(env);
  env = NULL;

  for (int round = 0; round < ROUNDS; round++) {
    pid_t killer = fork();
    size_t found = 0;
    uint64_t entries = 0;
    char cmd[512], *out = NULL;

    REQUIRE(killer >= 0);
    if (killer == 0) {
      struct timespec ts = { 0, (long)(20 + rand() % 150) * 1000000L };
      nanosleep(&ts, NULL);
      kill(node.pid, SIGKILL);
      _exit(0);
    }
    /* Stream ballots until the node dies under us. */
    while (n_got < MAX_BALLOTS) {
      Councilnet__Ballot b = COUNCILNET__BALLOT__INIT;
      uint32_t choice = (uint32_t)(counter % 3);
      uint64_t seq = 0;
      int code;
      b.node.data = node.pk;
      b.node.len = CN_PK_BYTES;
      b.created = T0 - 100000 + counter / MEMBERS;   /* (voter, created) never repeats */
      b.proposal.data = proposal_id;
      b.proposal.len = CN_HASH_BYTES;
      b.choices = &choice;
      b.n_choices = 1;
      REQUIRE(util_seal("ballot", &b, sk[counter++ % MEMBERS], &env, &len) == 0);
      code = util_post(&node, env, len, &seq);
      if (code == CN_OK) {
        cn_crypto_hash(got[n_got].id, env, len);
        got[n_got++].seq = seq;
      }
      free(env);
      env = NULL;
      if (code != CN_OK)
        break;
    }
    waitpid(killer, NULL, 0);
    tnode_kill(&node, SIGKILL);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s/node.db' 'PRAGMA integrity_check' 2>&1", node.dir);
    if (system("command -v sqlite3 >/dev/null 2>&1") == 0) {
      CHECK_EQ_INT(util_sh(cmd, &out), 0);
      CHECK(out && strncmp(out, "ok", 2) == 0);
      free(out);
      out = NULL;
    }
    REQUIRE(tnode_restart(&node) == 0);
    REQUIRE(log_check(&found, &entries) == 0);
    CHECK_EQ_INT(found, n_got);
    fprintf(stderr, "round %d: %zu receipted ballots, all %zu in the log (%llu entries)\n",
            round, n_got, found, (unsigned long long)entries);
    if (getenv("CN_COUNCIL")) {
      snprintf(cmd, sizeof cmd, "'%s' verify --node %s 2>&1", getenv("CN_COUNCIL"), node.url);
      CHECK_EQ_INT(util_sh(cmd, &out), 0);
      free(out);
      out = NULL;
    }
  }
  CHECK(n_got > 0);
done:
  free(env);
  if (started)
    CHECK(tnode_destroy(&node) == 0);
  return test_finish("test_crash");
}
