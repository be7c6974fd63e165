/* test_crash.c: kill -9 councild at random points, 100 times (CN_CRASH_KILLS
 * to change), during a stream of ballots and of member admissions whose
 * roll updates are being delivered to a parent node. After each restart
 * every record that got a receipt must be in the log; at the end SQLite's
 * integrity check passes, `council verify` passes, the outbox drains, and
 * every roll update reached the parent exactly once. */
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
#define MAX_RECORDS 400000

typedef struct receipted_t {
  uint8_t id[CN_HASH_BYTES];
} receipted_t;

static tnode_t parent, node;
static uint8_t sk[MEMBERS][CN_SK_BYTES], pk[MEMBERS][CN_PK_BYTES];
static receipted_t got[MAX_RECORDS];
static size_t n_got;

/* Is record ID in N's log? (GET /v1/records/ID) */
static int has_record(tnode_t *n, const uint8_t id[CN_HASH_BYTES])
{
  uint8_t *env = NULL;
  size_t len = 0;
  int ok = util_get_record(n, id, &env, &len) == 0;
  free(env);
  return ok;
}

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

int main(void)
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule rule = COUNCILNET__RULE__INIT;
  uint8_t proposal_id[CN_HASH_BYTES];
  uint8_t *env = NULL;
  size_t len = 0, checked = 0, lost = 0;
  uint64_t counter = 0, admitted = 0;
  int started = 0, kills = getenv("CN_CRASH_KILLS") ? atoi(getenv("CN_CRASH_KILLS")) : 100;
  unsigned seed = (unsigned)time(NULL);

  cn_crypto_init();
  srand(seed);
  fprintf(stderr, "seed %u, %d kills\n", seed, kills);
  REQUIRE(tnode_start(&parent, "parent", T0) == 0);
  started = 1;
  REQUIRE(tnode_start_child(&node, "crash", T0, &parent) == 0);
  REQUIRE(util_admit_council(&parent, node.pk, "crash") == CN_OK);
  for (int i = 0; i < MEMBERS; i++) {
    cn_crypto_keypair(pk[i], sk[i]);
    REQUIRE(util_admit(&node, pk[i], "member") == CN_OK);
  }
  p.title = "Crash-proof question";
  p.opens = T0;
  p.closes = T0 + 1000000;
  rule.replace = 1;   /* members vote again and again: each ballot replaces */
  p.rule = &rule;
  REQUIRE(util_propose(&node, sk[0], &p, proposal_id) == CN_OK);

  for (int round = 0; round < kills; round++) {
    pid_t killer = fork();
    size_t round_start = n_got;

    REQUIRE(killer >= 0);
    if (killer == 0) {
      struct timespec ts = { 0, (long)(5 + rand() % 120) * 1000000L };
      nanosleep(&ts, NULL);
      kill(node.pid, SIGKILL);
      _exit(0);
    }
    /* Stream acts until the node dies under us: mostly ballots, and every
     * fifth a new member, whose roll update goes to the parent. */
    while (n_got < MAX_RECORDS) {
      int code;
      if (counter % 5 == 4) {
        Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
        uint8_t mpk[CN_PK_BYTES], msk[CN_SK_BYTES];
        cn_crypto_keypair(mpk, msk);
        m.node.data = node.pk;
        m.node.len = CN_PK_BYTES;
        m.created = T0;
        m.member.data = mpk;
        m.member.len = CN_PK_BYTES;
        REQUIRE(util_seal("member_add", &m, node.convener_sk, &env, &len) == 0);
      } else {
        Councilnet__Ballot b = COUNCILNET__BALLOT__INIT;
        uint32_t choice = (uint32_t)(counter % 3);
        b.node.data = node.pk;
        b.node.len = CN_PK_BYTES;
        b.created = T0 - 100000 + counter / MEMBERS;   /* (voter, created) never repeats */
        b.proposal.data = proposal_id;
        b.proposal.len = CN_HASH_BYTES;
        b.choices = &choice;
        b.n_choices = 1;
        REQUIRE(util_seal("ballot", &b, sk[counter % MEMBERS], &env, &len) == 0);
      }
      counter++;
      code = util_post(&node, env, len, NULL);
      if (code == CN_OK) {
        cn_crypto_hash(got[n_got++].id, env, len);
        admitted += counter % 5 == 0;
      }
      free(env);
      env = NULL;
      if (code != CN_OK)
        break;
    }
    waitpid(killer, NULL, 0);
    tnode_kill(&node, SIGKILL);
    REQUIRE(tnode_restart(&node) == 0);
    /* every record receipted in this round survived */
    for (size_t i = round_start; i < n_got; i++) {
      checked++;
      if (!has_record(&node, got[i].id))
        lost++;
    }
  }
  printf("crash: %d kills survived, %zu receipted records, %zu lost\n", kills, n_got, lost);
  CHECK_EQ_INT(lost, 0);
  CHECK(n_got > 0);
  /* all of them, once more, at the end */
  for (size_t i = 0; i < n_got; i++)
    if (!has_record(&node, got[i].id))
      lost++;
  CHECK_EQ_INT(lost, 0);
  if (system("command -v sqlite3 >/dev/null 2>&1") == 0) {
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd, "sqlite3 '%s/node.db' 'PRAGMA integrity_check' 2>&1", node.dir);
    CHECK_EQ_INT(util_sh(cmd, &out), 0);
    CHECK(out && strncmp(out, "ok", 2) == 0);
    free(out);
  }
  if (getenv("CN_COUNCIL")) {
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' verify --node %s 2>&1", getenv("CN_COUNCIL"), node.url);
    CHECK_EQ_INT(util_sh(cmd, &out), 0);
    free(out);
  }
  /* the deliveries: every roll update reached the parent, once */
  CHECK(util_wait(outbox_empty, &node, 30000) == 0);
  {
    uint64_t after = 0;
    size_t rolls = 0, once = 0;
    for (;;) {
      char path[96];
      Councilnet__LogPage *page;
      size_t k;
      snprintf(path, sizeof path, "/v1/log?after=%llu&limit=5000", (unsigned long long)after);
      page = (Councilnet__LogPage *)util_get(&node, path, &councilnet__log_page__descriptor);
      REQUIRE(page);
      k = page->n_entries;
      for (size_t i = 0; i < k; i++) {
        Councilnet__Envelope *e = councilnet__envelope__unpack(NULL, page->entries[i]->envelope.len,
                                                               page->entries[i]->envelope.data);
        if (e && strcmp(e->kind, "roll") == 0) {
          rolls++;
          once += util_log_count(&parent, page->entries[i]->record_id.data) == 1;
        }
        if (e)
          councilnet__envelope__free_unpacked(e, NULL);
        after = page->entries[i]->seq;
      }
      councilnet__log_page__free_unpacked(page, NULL);
      if (k == 0)
        break;
    }
    printf("deliveries: %zu roll updates at the child (%llu receipted admissions), %zu exactly once at"
           " the parent\n", rolls, (unsigned long long)admitted, once);
    CHECK(rolls >= MEMBERS);
    CHECK_EQ_INT(once, rolls);
  }
done:
  free(env);
  if (started) {
    CHECK(tnode_destroy(&node) == 0);
    CHECK(tnode_destroy(&parent) == 0);
  }
  return test_finish("test_crash");
}
