/* test_fed_outage.c: the outbox across outages, with real councild
 * processes on 127.0.0.1.
 *  A. The parent is stopped while the child keeps working; after its restart
 *     every queued record arrives, none twice, and the child's outbox is
 *     empty.
 *  B. The same with the child killed (kill -9) in the middle of draining.
 *  C. A captured child: it stops forwarding (killed); its members send
 *     their recall votes straight to the parent, which counts them against
 *     the child's roll and recalls the delegate itself. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define MAX_ROLL 400

static tnode_t parent, child, small, big, huge, narrow, wide;
static uint8_t sk[MAX_ROLL][CN_SK_BYTES], pk[MAX_ROLL][CN_PK_BYTES];

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

typedef struct ids_ctx_t {
  const char *kind;
  uint8_t (*ids)[CN_HASH_BYTES];
  size_t got, cap;
} ids_ctx_t;

static int ids_collect(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  ids_ctx_t *c = ctx;
  if (e && strcmp(e->kind, c->kind) == 0 && c->got < c->cap)
    memcpy(c->ids[c->got++], le->record_id.data, CN_HASH_BYTES);
  return 0;
}

/* Record ids of N's log entries of KIND. */
static size_t log_ids(tnode_t *n, const char *kind, uint8_t (*ids)[CN_HASH_BYTES], size_t cap)
{
  ids_ctx_t c = { kind, ids, 0, cap };
  util_log_each(n, ids_collect, &c);
  return c.got;
}

/* Every roll record of the child's log is in the parent's log exactly once. */
static void check_delivered_once(const char *what)
{
  static uint8_t ids[2 * MAX_ROLL][CN_HASH_BYTES];
  size_t n = log_ids(&child, "roll", ids, 2 * MAX_ROLL), once = 0;

  for (size_t i = 0; i < n; i++)
    once += util_log_count(&parent, ids[i]) == 1;
  fprintf(stderr, "%s: %zu roll records at the child, %zu exactly once at the parent\n", what, n, once);
  CHECK(n > 0);
  CHECK_EQ_INT(once, n);
}

static int add_members(tnode_t *n, int from, int to)
{
  for (int i = from; i < to; i++)
    if (util_admit(n, pk[i], "member") != CN_OK)
      return -1;
  return 0;
}

typedef struct keys_ctx_t {
  size_t keys, records;
} keys_ctx_t;

static int keys_collect(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  keys_ctx_t *c = ctx;
  Councilnet__RollUpdate *u = e && strcmp(e->kind, "roll") == 0
    ? councilnet__roll_update__unpack(NULL, e->body.len, e->body.data) : NULL;
  (void)le;
  if (u) {
    c->keys += u->n_added;
    c->records++;
    councilnet__roll_update__free_unpacked(u, NULL);
  }
  return 0;
}

/* Keys added by N's roll records in its log, and how many such records. */
static size_t roll_keys(tnode_t *n, size_t *records)
{
  keys_ctx_t c = { 0, 0 };
  util_log_each(n, keys_collect, &c);
  *records = c.records;
  return c.keys;
}

/* D. A council of 2,100 members names its parent: the whole roll goes up
 * in records of 1,000 keys. As one record (71 KiB) it was larger than any
 * node accepts: the council's own log failed `council verify`, and the
 * parent set it aside. */
enum { BIG = 2100, LOT_MAX = 1500 };
static uint8_t big_pk[BIG][CN_PK_BYTES], big_sk[BIG][CN_SK_BYTES];

static void test_big_roll(void)
{
  uint8_t ids[8][CN_HASH_BYTES];
  char cmd[1024], hex[2 * CN_PK_BYTES + 1], *out = NULL;
  size_t records = 0, n, once = 0;

  REQUIRE(tnode_start(&big, "Big assembly", T0) == 0);
  REQUIRE(util_admit_council(&parent, big.pk, "Big assembly") == CN_OK);
  for (int i = 0; i < BIG; i++) {
    cn_crypto_keypair(big_pk[i], big_sk[i]);
    REQUIRE(util_admit(&big, big_pk[i], "member") == CN_OK);
  }
  REQUIRE(util_parent_set(&big, &parent) == CN_OK);
  CHECK(util_wait(outbox_empty, &big, 20000) == 0);
  CHECK_EQ_INT(roll_keys(&big, &records), BIG);
  CHECK_EQ_INT(records, 3);
  n = log_ids(&big, "roll", ids, 8);
  for (size_t i = 0; i < n; i++)
    once += util_log_count(&parent, ids[i]) == 1;
  CHECK_EQ_INT(once, 3);
  if (getenv("CN_COUNCIL")) {
    cn_hex_encode(hex, big.pk, CN_PK_BYTES);
    snprintf(cmd, sizeof cmd, "'%s' verify --node %s --node-key %s 2>&1", getenv("CN_COUNCIL"),
             big.url, hex);
    CHECK_EQ_INT(util_sh(cmd, &out), 0);
    free(out);
  }
done:
  return;
}

/* F. A parent whose max_body is below the largest record answers a large
 * one with libevent's own 413, no Error of ours: the child set it aside
 * at once, with the reason, and what follows it goes up. It used to
 * retry it for ever, holding everything behind it. */
static int dead_letters(tnode_t *n, int64_t *dead, char *why, size_t cap)
{
  Councilnet__FederationStatus *f = (Councilnet__FederationStatus *)util_get(
    n, "/v1/federation", &councilnet__federation_status__descriptor);
  if (!f)
    return -1;
  *dead = (int64_t)f->dead;
  snprintf(why, cap, "%s", f->n_dead_letters && f->dead_letters[0]->error
                             ? f->dead_letters[0]->error : "");
  councilnet__federation_status__free_unpacked(f, NULL);
  return 0;
}

static void test_parent_max_body(void)
{
  static const char *const set[1] = { "max_body=2048" };
  uint8_t extra_pk[CN_PK_BYTES], extra_sk[CN_SK_BYTES];
  int64_t dead = -1;
  char why[256] = "";

  REQUIRE(tnode_start_set(&narrow, "Narrow parent", T0, set, 1) == 0);
  REQUIRE(tnode_start(&wide, "Wide assembly", T0) == 0);
  REQUIRE(util_admit_council(&narrow, wide.pk, "Wide assembly") == CN_OK);
  for (int i = 0; i < 80; i++)      /* its whole roll: some 2.8 KB */
    REQUIRE(util_admit(&wide, pk[i], "member") == CN_OK);
  REQUIRE(util_parent_set(&wide, &narrow) == CN_OK);
  /* and a member after it, whose small roll update must still go up */
  cn_crypto_keypair(extra_pk, extra_sk);
  REQUIRE(util_admit(&wide, extra_pk, "late member") == CN_OK);
  CHECK(util_wait(outbox_empty, &wide, 10000) == 0);
  REQUIRE(dead_letters(&wide, &dead, why, sizeof why) == 0);
  CHECK_EQ_INT(dead, 1);
  CHECK(strstr(why, "HTTP 413") != NULL);
  if (test_failures_)
    fprintf(stderr, "dead letters %lld, reason: %s\n", (long long)dead, why);
done:
  return;
}

/* E. The same council draws one delegate by lot: the decision lists the
 * volunteers in one record, so a lot takes 1,500 who could be drawn; the
 * next is refused and changes nothing, and the lot closes. With 2,000 the decision
 * was too large a record, and the lot never closed. */
static void test_big_lot(void)
{
  Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
  Councilnet__Decision *d = NULL;
  uint8_t lot[CN_HASH_BYTES];
  int64_t head;

  REQUIRE(util_propose_lot(&big, "A delegate by lot", 1, parent.pk, 100, lot) == CN_OK);
  v.node.data = big.pk;
  v.node.len = CN_PK_BYTES;
  v.created = big.now;
  v.proposal.data = lot;
  v.proposal.len = CN_HASH_BYTES;
  for (int i = 0; i < LOT_MAX; i++)
    REQUIRE(util_act(&big, "volunteer", &v, big_sk[i], NULL) == CN_OK);
  head = util_head_seq(&big);
  CHECK_EQ_INT(util_act(&big, "volunteer", &v, big_sk[LOT_MAX], NULL), CN_ERR_INVALID);
  CHECK_EQ_INT(util_head_seq(&big), head);
  /* Only those who could be drawn take a place: one removed from the roll
   * frees it (as a recalled child delegate does; else a child could fill
   * the lot with delegates it recalls). */
  {
    Councilnet__MemberRemove rm = COUNCILNET__MEMBER_REMOVE__INIT;
    rm.node.data = big.pk;
    rm.node.len = CN_PK_BYTES;
    rm.created = big.now;
    rm.member.data = big_pk[0];
    rm.member.len = CN_PK_BYTES;
    REQUIRE(util_act(&big, "member_remove", &rm, big.convener_sk, NULL) == CN_OK);
  }
  CHECK_EQ_INT(util_act(&big, "volunteer", &v, big_sk[LOT_MAX], NULL), CN_OK);
  REQUIRE(tnode_set_clock(&big, big.now + 101) == 0);
  d = util_wait_decision(&big, lot, 10000);
  CHECK(d && d->n_volunteers == LOT_MAX && d->n_selected == 1);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
done:
  return;
}

typedef struct round_wait_t {
  tnode_t *n;
  uint8_t id[CN_HASH_BYTES];
  int allocated;
  uint64_t voters;
} round_wait_t;

/* Does N know the round (allocated, if asked)? */
static int round_known(void *ctx)
{
  round_wait_t *w = ctx;
  Councilnet__RoundList *rl =
    (Councilnet__RoundList *)util_get(w->n, "/v1/budget", &councilnet__round_list__descriptor);
  int ok = 0;
  for (size_t i = 0; rl && i < rl->n_rounds; i++) {
    if (rl->rounds[i]->id.len != CN_HASH_BYTES ||
        memcmp(rl->rounds[i]->id.data, w->id, CN_HASH_BYTES) != 0)
      continue;
    ok = !w->allocated || rl->rounds[i]->allocation != NULL;
    if (rl->rounds[i]->allocation)
      w->voters = rl->rounds[i]->allocation->voters;
  }
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  return ok;
}

/* The parent's convener opens a greedy round TITLE of N_PROJ projects
 * (PREFIX0, PREFIX1, ... at 100 each, 500 in all) from T for 1000 s; W
 * gets its id and waits until AT knows it. 0 or -1. */
static int round_open(const char *title, const char *prefix, int n_proj, uint64_t t,
                      tnode_t *at, round_wait_t *w)
{
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject *proj = calloc((size_t)n_proj, sizeof *proj);
  Councilnet__BudgetProject **projs = calloc((size_t)n_proj, sizeof *projs);
  char (*ids)[16] = calloc((size_t)n_proj, sizeof *ids);
  int rc = -1;

  if (!proj || !projs || !ids)
    goto out;
  for (int i = 0; i < n_proj; i++) {
    councilnet__budget_project__init(&proj[i]);
    snprintf(ids[i], sizeof ids[i], "%s%d", prefix, i);
    proj[i].id = ids[i];
    proj[i].title = ids[i];
    proj[i].cost = 100;
    projs[i] = &proj[i];
  }
  br.node.data = parent.pk;
  br.node.len = CN_PK_BYTES;
  br.created = t;
  br.title = (char *)title;
  br.total = 500;
  br.projects = projs;
  br.n_projects = (size_t)n_proj;
  br.opens = t;
  br.closes = t + 1000;
  br.rule = COUNCILNET__BUDGET_RULE__GREEDY;
  memset(w, 0, sizeof *w);
  if (util_act_id(&parent, "budget_round", &br, parent.convener_sk, NULL, w->id) != CN_OK)
    goto out;
  w->n = at;
  rc = util_wait(round_known, w, 15000);
out:
  free(proj);
  free(projs);
  free(ids);
  return rc;
}

/* A member's (SK's) ballot at AT for round ROUND: the projects in SET. */
static int budget_vote(tnode_t *at, const uint8_t voter_sk[CN_SK_BYTES],
                       const uint8_t round[CN_HASH_BYTES], uint64_t t, uint32_t *set, size_t n)
{
  Councilnet__BudgetBallot b = COUNCILNET__BUDGET_BALLOT__INIT;
  b.node.data = at->pk;
  b.node.len = CN_PK_BYTES;
  b.created = t;
  b.round.data = (uint8_t *)round;
  b.round.len = CN_HASH_BYTES;
  b.projects = set;
  b.n_projects = n;
  return util_act(at, "budget_ballot", &b, voter_sk, NULL);
}

/* F. A budget round across the parent, Riverside and the big council,
 * whose 1,600 voters each approve a different set of 11 projects. Its
 * mandate carries 1,600 approval sets: labelled with its own key each, it
 * was some 75 KB, too large a record to make, and its voters were left
 * out of the allocation. Its own voters' sets now go unlabelled. */
static void test_big_budget(void)
{
  enum { NPROJ = 11, VOTERS = 1600 };
  round_wait_t w;
  uint64_t t = big.now;

  REQUIRE(tnode_set_clock(&parent, t) == 0);
  REQUIRE(tnode_set_clock(&child, t) == 0);
  REQUIRE(round_open("Many voters", "p", NPROJ, t, &big, &w) == 0);
  for (int v = 0; v < VOTERS; v++) {
    uint32_t set[NPROJ];
    size_t n = 0;
    for (int j = 0; j < NPROJ; j++)        /* set v + 1, as bits: all different */
      if ((v + 1) >> j & 1)
        set[n++] = (uint32_t)j;
    REQUIRE(budget_vote(&big, big_sk[BIG - 1 - v], w.id, t, set, n) == CN_OK);
  }
  REQUIRE(tnode_set_clock(&big, t + 1001) == 0);
  REQUIRE(tnode_set_clock(&child, t + 1001) == 0);
  REQUIRE(tnode_set_clock(&parent, t + 1001) == 0);
  w.n = &parent;
  w.allocated = 1;
  CHECK(util_wait(round_known, &w, 20000) == 0);
  CHECK_EQ_INT(w.voters, VOTERS);
done:
  return;
}

/* G. A neighbourhood of 5,000 voters on 30 projects, each voter approving
 * a different set (of 17 to 29 projects): some 150 KB of approval sets,
 * where one record holds 64 KiB. Its mandate went nowhere (too large to
 * make, the close failing at every tick) and the parent allocated without
 * its voters. Now it goes up in parts, each a record within the bound,
 * and the parent counts every voter. */
enum { HUGE = 5000, HUGE_PROJ = 30 };
static uint8_t huge_pk[HUGE][CN_PK_BYTES], huge_sk[HUGE][CN_SK_BYTES];

typedef struct parts_ctx_t {
  size_t records, sets, too_large;
  uint32_t parts, seen;           /* parts said, and a bit per part number seen (< 32) */
  uint64_t voters;
  int same;                       /* every part says the same created, voters, parts */
  uint64_t created;
  uint8_t ids[8][CN_HASH_BYTES];
} parts_ctx_t;

static int parts_collect(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  parts_ctx_t *c = ctx;
  Councilnet__BudgetMandate *m = e && strcmp(e->kind, "budget_mandate") == 0
    ? councilnet__budget_mandate__unpack(NULL, e->body.len, e->body.data) : NULL;

  if (!m)
    return 0;
  if (m->n_sets > 0) {            /* the earlier round's mandate had no voters here */
    if (c->records < 8)
      memcpy(c->ids[c->records], le->record_id.data, CN_HASH_BYTES);
    if (c->records == 0) {
      c->same = 1;
      c->created = m->created;
      c->voters = m->voters;
      c->parts = m->parts;
    }
    c->same &= m->created == c->created && m->voters == c->voters && m->parts == c->parts;
    c->records++;
    c->sets += m->n_sets;
    c->too_large += le->envelope.len > CN_RECORD_MAX;
    if (m->part < 32)
      c->seen |= 1u << m->part;
  }
  councilnet__budget_mandate__free_unpacked(m, NULL);
  return 0;
}

static void test_huge_budget(void)
{
  round_wait_t w;
  parts_ctx_t pc;
  size_t once = 0;
  uint64_t t = parent.now;

  REQUIRE(tnode_start(&huge, "Large neighbourhood", t) == 0);
  REQUIRE(util_admit_council(&parent, huge.pk, "Large neighbourhood") == CN_OK);
  for (int i = 0; i < HUGE; i++) {
    cn_crypto_keypair(huge_pk[i], huge_sk[i]);
    REQUIRE(util_admit(&huge, huge_pk[i], "member") == CN_OK);
  }
  REQUIRE(util_parent_set(&huge, &parent) == CN_OK);
  REQUIRE(util_wait(outbox_empty, &huge, 20000) == 0);      /* the parent has its roll */

  REQUIRE(round_open("A large neighbourhood", "q", HUGE_PROJ, t, &huge, &w) == 0);
  for (int v = 0; v < HUGE; v++) {
    uint32_t set[HUGE_PROJ];
    size_t n = 0;
    for (int j = 0; j < HUGE_PROJ; j++)   /* v + 1 in the low 13 bits: all different */
      if (j >= 13 || ((v + 1) >> j & 1))
        set[n++] = (uint32_t)j;
    REQUIRE(budget_vote(&huge, huge_sk[v], w.id, t, set, n) == CN_OK);
  }
  REQUIRE(tnode_set_clock(&huge, t + 1001) == 0);
  REQUIRE(tnode_set_clock(&big, t + 1001) == 0);
  REQUIRE(tnode_set_clock(&child, t + 1001) == 0);
  REQUIRE(tnode_set_clock(&parent, t + 1001) == 0);
  w.n = &parent;
  w.allocated = 1;
  CHECK(util_wait(round_known, &w, 30000) == 0);
  CHECK_EQ_INT(w.voters, HUGE);

  /* In parts: each a record within the bound, all with the same created,
   * voters and number of parts, numbered 0 .. parts - 1, each once at
   * the parent. */
  memset(&pc, 0, sizeof pc);
  util_log_each(&huge, parts_collect, &pc);
  fprintf(stderr, "a mandate of %zu approval sets went up in %zu records\n", pc.sets, pc.records);
  CHECK_EQ_INT(pc.sets, HUGE);
  CHECK(pc.records >= 3 && pc.records <= 8);
  CHECK_EQ_INT(pc.parts, pc.records);
  CHECK(pc.same);
  CHECK_EQ_INT(pc.voters, HUGE);
  CHECK_EQ_INT(pc.too_large, 0);
  CHECK(pc.records < 32 && pc.seen == (1u << pc.records) - 1);
  for (size_t i = 0; i < pc.records && i < 8; i++)
    once += util_log_count(&parent, pc.ids[i]) == 1;
  CHECK_EQ_INT(once, pc.records);
done:
  return;
}

int main(void)
{
  int started = 0;

  cn_crypto_init();
  for (int i = 0; i < MAX_ROLL; i++)
    cn_crypto_keypair(pk[i], sk[i]);
  REQUIRE(tnode_start(&parent, "Regional council", T0) == 0);
  started = 1;
  REQUIRE(tnode_start_child(&child, "Riverside", T0, &parent) == 0);
  REQUIRE(util_admit_council(&parent, child.pk, "Riverside") == CN_OK);

  /* A. Parent down while the child works. */
  CHECK(tnode_kill(&parent, SIGTERM) == 0);
  REQUIRE(add_members(&child, 0, 30) == 0);
  CHECK(util_outbox(&child) >= 30);
  util_sleep_ms(1200);           /* several tries, backing off to the cap */
  {
    Councilnet__FederationStatus *f = (Councilnet__FederationStatus *)util_get(
      &child, "/v1/federation", &councilnet__federation_status__descriptor);
    REQUIRE(f);
    CHECK(strstr(f->last_error, "unreachable") != NULL);
    CHECK(f->outbox >= 30);
    councilnet__federation_status__free_unpacked(f, NULL);
  }
  REQUIRE(tnode_restart(&parent) == 0);
  CHECK(util_wait(outbox_empty, &child, 15000) == 0);
  check_delivered_once("parent restarted");

  /* B. The child killed with kill -9 while it drains. */
  CHECK(tnode_kill(&parent, SIGTERM) == 0);
  REQUIRE(add_members(&child, 30, 330) == 0);
  REQUIRE(tnode_restart(&parent) == 0);
  {
    /* Kill it once the drain is under way, not before and not after. */
    int64_t q = util_outbox(&child);
    for (int i = 0; i < 5000 && q >= 290; i++) {
      util_sleep_ms(1);
      q = util_outbox(&child);
    }
    CHECK(q > 0 && q < 290);
  }
  tnode_kill(&child, SIGKILL);
  {
    int64_t left;
    REQUIRE(tnode_restart(&child) == 0);
    left = util_outbox(&child);
    fprintf(stderr, "child killed while draining: %lld records still queued at restart\n",
            (long long)left);
    CHECK(left > 0);
  }
  CHECK(util_wait(outbox_empty, &child, 20000) == 0);
  check_delivered_once("child killed mid-drain");

  test_big_roll();
  test_big_lot();
  test_parent_max_body();
  test_big_budget();
  test_huge_budget();

  /* C. A captured child. */
  REQUIRE(tnode_start_child(&small, "Hillside", T0, &parent) == 0);
  REQUIRE(util_settings_open(&small) == CN_OK);
  REQUIRE(util_admit_council(&parent, small.pk, "Hillside") == CN_OK);
  REQUIRE(add_members(&small, 0, 5) == 0);
  {
    Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
    Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;
    Councilnet__RecallVote rv = COUNCILNET__RECALL_VOTE__INIT;
    ProtobufCBinaryData cands[2] = { { CN_PK_BYTES, pk[0] }, { CN_PK_BYTES, pk[1] } };
    char *names[2] = { "A", "B" };
    uint8_t sid[CN_HASH_BYTES], cred[CN_HASH_BYTES], stranger_sk[CN_SK_BYTES], stranger_pk[CN_PK_BYTES];
    Councilnet__Decision *d;
    int recalled = 1;

    p.title = "Delegate to the region";
    p.option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
    p.options = names;
    p.n_options = 2;
    p.opens = T0;
    p.closes = T0 + 10;
    p.selection = &sel;
    sel.method = COUNCILNET__SELECTION_METHOD__BY_VOTE;
    sel.seats = 1;
    sel.candidates = cands;
    sel.n_candidates = 2;
    sel.parent.data = parent.pk;
    sel.parent.len = CN_PK_BYTES;
    sel.term_start = T0 + 10;
    sel.term_end = T0 + 100000;
    REQUIRE(util_propose(&small, sk[0], &p, sid) == CN_OK);
    for (int i = 0; i < 5; i++)
      CHECK_EQ_INT(util_vote(&small, sk[i], sid, 0), CN_OK);
    tnode_set_clock(&small, T0 + 10);
    d = util_wait_decision(&small, sid, 10000);
    REQUIRE(d && d->n_selected == 1);
    councilnet__decision__free_unpacked(d, NULL);
    REQUIRE(util_credential_of(&small, pk[0], cred, NULL) == 0);
    CHECK(util_wait(outbox_empty, &small, 10000) == 0);
    REQUIRE(util_credential_of(&parent, pk[0], cred, &recalled) == 0);
    CHECK(!recalled);

    /* The child is captured: it stops forwarding. */
    tnode_kill(&small, SIGKILL);
    rv.node.data = small.pk;          /* addressed to the member's own council */
    rv.node.len = CN_PK_BYTES;
    rv.created = parent.now;
    rv.credential.data = cred;
    rv.credential.len = CN_HASH_BYTES;
    cn_crypto_keypair(stranger_pk, stranger_sk);
    CHECK_EQ_INT(util_act(&parent, "recall_vote", &rv, stranger_sk, NULL), CN_ERR_NOT_MEMBER);
    CHECK_EQ_INT(util_act(&parent, "recall_vote", &rv, sk[1], NULL), CN_OK);
    CHECK_EQ_INT(util_act(&parent, "recall_vote", &rv, sk[2], NULL), CN_OK);
    CHECK_EQ_INT(util_act(&parent, "recall_vote", &rv, sk[2], NULL), CN_OK);   /* a repeat: same receipt */
    REQUIRE(util_credential_of(&parent, pk[0], cred, &recalled) == 0);
    CHECK(!recalled);                 /* 2 of 5 */
    CHECK_EQ_INT(util_act(&parent, "recall_vote", &rv, sk[3], NULL), CN_OK);
    REQUIRE(util_credential_of(&parent, pk[0], cred, &recalled) == 0);
    CHECK(recalled);                  /* 3 of 5: more than half of the child's roll */
    rv.created = parent.now + 1;
    CHECK_EQ_INT(util_act(&parent, "recall_vote", &rv, sk[4], NULL), CN_ERR_CREDENTIAL_REVOKED);
    {
      Councilnet__RecallList *rl = (Councilnet__RecallList *)util_get(
        &parent, "/v1/recalls", &councilnet__recall_list__descriptor);
      REQUIRE(rl && rl->n_recalls == 1);
      CHECK(memcmp(rl->recalls[0]->node.data, parent.pk, CN_PK_BYTES) == 0);  /* the parent's own act */
      CHECK_EQ_INT(rl->recalls[0]->votes, 3);
      CHECK_EQ_INT(rl->recalls[0]->roll, 5);
      councilnet__recall_list__free_unpacked(rl, NULL);
    }
  }
done:
  if (started) {
    if (narrow.dir[0])
      CHECK(tnode_destroy(&narrow) == 0);
    if (wide.dir[0])
      CHECK(tnode_destroy(&wide) == 0);
    if (small.dir[0])
      CHECK(tnode_destroy(&small) == 0);
    if (big.dir[0])
      CHECK(tnode_destroy(&big) == 0);
    if (huge.dir[0])
      CHECK(tnode_destroy(&huge) == 0);
    CHECK(tnode_destroy(&child) == 0);
    CHECK(tnode_destroy(&parent) == 0);
  }
  return test_finish("test_fed_outage");
}
