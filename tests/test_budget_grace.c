/* test_budget_grace.c: each level of a federation waits for its child
 * councils' budget mandates a grace period that halves with its depth
 * below the round's owner (lib/node.c, budget_grace), so that its own
 * mandate is due before its parent stops waiting (SECURITY.md).
 *
 * City (owner) -> district -> neighbourhoods A and B, on 127.0.0.1. The
 * city opens a round; it reaches A and B through the district's relay.
 * A, B and the district's own members vote; B goes offline before the
 * close. Every level used to wait the same 600 s from the same close: the
 * district, missing B, sent its mandate at 600 s, when the city had
 * allocated without it, leaving out the district's and A's voters too.
 * Now the district (depth 1) waits 300 s and its mandate reaches the city
 * well within the city's 600 s. Checked: each level's depth and grace as
 * it shows them, the hops each relay carries, and the city's allocation
 * counting A's and the district's voters. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define CLOSES (T0 + 100)
#define NP 3
#define ROLL_A 5
#define ROLL_B 4
#define ROLL_D 2        /* the district's own members (people) */

static tnode_t city, dist, hood[2], mover;

/* N's view of round ID (free with councilnet__round_list__free_unpacked on
 * *RL), or NULL. */
static Councilnet__RoundView *view_of(tnode_t *n, const uint8_t id[CN_HASH_BYTES],
                                      Councilnet__RoundList **rl)
{
  *rl = (Councilnet__RoundList *)util_get(n, "/v1/budget", &councilnet__round_list__descriptor);
  return *rl ? util_round_view(*rl, id) : NULL;
}

typedef struct depth_want_t {
  tnode_t *n;
  const uint8_t *id;
  uint32_t depth;
} depth_want_t;

/* For util_wait(): does N show round ID at DEPTH? */
static int depth_is(void *ctx)
{
  depth_want_t *w = ctx;
  Councilnet__RoundList *rl = NULL;
  Councilnet__RoundView *v = view_of(w->n, w->id, &rl);
  int ok = v && v->depth == w->depth;
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  return ok;
}

/* Check N's depth and grace for round ID as it shows them. */
static void check_depth(tnode_t *n, const char *who, const uint8_t id[CN_HASH_BYTES],
                        uint32_t depth, uint64_t grace)
{
  Councilnet__RoundList *rl = NULL;
  Councilnet__RoundView *v = view_of(n, id, &rl);

  CHECK(v != NULL);
  if (v && (v->depth != depth || v->grace != grace)) {
    fprintf(stderr, "%s: depth %u grace %llu, not depth %u grace %llu\n", who, v->depth,
            (unsigned long long)v->grace, depth, (unsigned long long)grace);
    CHECK(0);
  }
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
}

typedef struct relay_ctx_t {
  const uint8_t *round;     /* the round's record id */
  int seen[2];              /* budget_relay records of the round, of its list */
  uint32_t hops[2];         /* the last one's of each */
} relay_ctx_t;

/* A budget_relay in a log: of the round, or of its final list? Keep its
 * hops. */
static int relay_hops(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  relay_ctx_t *r = ctx;
  Councilnet__BudgetRelay *rl;
  Councilnet__BudgetProjects *bp = NULL;
  cn_record_t rec;
  int which = -1;

  (void)le;
  if (!e || !e->kind || strcmp(e->kind, "budget_relay") != 0)
    return 0;
  rl = councilnet__budget_relay__unpack(NULL, e->body.len, e->body.data);
  if (!rl)
    return 0;
  if (cn_record_open(rl->round.data, rl->round.len, &rec) == CN_OK) {
    if (strcmp(rec.kind, "budget_round") == 0 && memcmp(rec.id, r->round, CN_HASH_BYTES) == 0)
      which = 0;
    else if (strcmp(rec.kind, "budget_projects") == 0 &&
             (bp = councilnet__budget_projects__unpack(NULL, rec.body_len, rec.body)) &&
             bp->round.len == CN_HASH_BYTES && memcmp(bp->round.data, r->round, CN_HASH_BYTES) == 0)
      which = 1;
    cn_record_close(&rec);
  }
  if (which >= 0) {
    r->seen[which]++;
    r->hops[which] = rl->hops;
  }
  if (bp)
    councilnet__budget_projects__free_unpacked(bp, NULL);
  councilnet__budget_relay__free_unpacked(rl, NULL);
  return 0;
}

/* Check that N relayed round ID once, and its final list once, each with
 * HOPS. */
static void check_relay(tnode_t *n, const char *who, const uint8_t id[CN_HASH_BYTES],
                        uint32_t hops)
{
  relay_ctx_t r = { id, { 0, 0 }, { 0, 0 } };

  CHECK(util_log_each(n, relay_hops, &r) == 0);
  for (int i = 0; i < 2; i++)
    if (r.seen[i] != 1 || r.hops[i] != hops) {
      fprintf(stderr, "%s: %d relays of the round's %s, hops %u; want 1, hops %u\n", who,
              r.seen[i], i ? "list" : "envelope", r.hops[i], hops);
      CHECK(0);
    }
}

/* COUNT new members of N each approve project P; 0 or -1. */
static int vote(tnode_t *n, const uint8_t round[CN_HASH_BYTES], int count, uint32_t p)
{
  for (int m = 0; m < count; m++) {
    Councilnet__BudgetBallot b = COUNCILNET__BUDGET_BALLOT__INIT;
    uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
    cn_crypto_keypair(pk, sk);
    if (util_admit(n, pk, "member") != CN_OK)
      return -1;
    b.node.data = n->pk;
    b.node.len = CN_PK_BYTES;
    b.created = T0 + 1;
    b.round.data = (uint8_t *)round;
    b.round.len = CN_HASH_BYTES;
    b.projects = &p;
    b.n_projects = 1;
    if (util_act(n, "budget_ballot", &b, sk, NULL) != CN_OK)
      return -1;
  }
  return 0;
}

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

int main(void)
{
  static char *ids[NP] = { "park", "library", "pool" };
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject proj[NP], *pp[NP];
  Councilnet__RoundList *rl = NULL;
  Councilnet__RoundView *v;
  util_round_t rc = { NULL, { 0 }, 0 };
  int started = 0;

  cn_crypto_init();
  REQUIRE(tnode_start(&city, "City", T0) == 0);
  started = 1;
  REQUIRE(tnode_start_child(&dist, "District", T0, &city) == 0);
  REQUIRE(util_admit_council(&city, dist.pk, "District") == CN_OK);
  for (int h = 0; h < 2; h++) {
    REQUIRE(tnode_start_child(&hood[h], h ? "Hood B" : "Hood A", T0, &dist) == 0);
    REQUIRE(util_admit_council(&dist, hood[h].pk, "Neighbourhood") == CN_OK);
  }

  util_budget_projects(proj, pp, ids, NP, 100);
  br.node.data = city.pk;
  br.node.len = CN_PK_BYTES;
  br.created = T0;
  br.title = "City budget";
  br.total = 200;
  br.projects = pp;
  br.n_projects = NP;
  br.opens = T0;
  br.closes = CLOSES;
  br.proposals_close = T0;  /* none: its final list is published at once */
  br.rule = COUNCILNET__BUDGET_RULE__GREEDY;
  REQUIRE(util_act(&city, "budget_round", &br, city.convener_sk, NULL) == CN_OK);
  for (int h = 0; h < 2; h++) {
    rc.n = &hood[h];
    REQUIRE(util_wait(util_round_seen, &rc, 10000) == 0);
    REQUIRE(util_wait_round(&hood[h], rc.id, 1, 0, 0, 10000) == 0);
  }

  /* Depth below the owner and grace, at each level; the hops each relay
   * carries down, of the round and of its final list alike (the city
   * relays neither: both are in its own log). */
  check_depth(&city, "city", rc.id, 0, 600);
  check_depth(&dist, "district", rc.id, 1, 300);
  check_depth(&hood[0], "hood A", rc.id, 2, 150);
  check_depth(&hood[1], "hood B", rc.id, 2, 150);
  check_relay(&dist, "district", rc.id, 1);
  check_relay(&hood[0], "hood A", rc.id, 2);

  /* Votes: A for the park, B for the library, the district's own members
   * for the pool. */
  REQUIRE(vote(&hood[0], rc.id, ROLL_A, 0) == 0);
  REQUIRE(vote(&hood[1], rc.id, ROLL_B, 1) == 0);
  REQUIRE(vote(&dist, rc.id, ROLL_D, 2) == 0);
  /* the rolls have reached the parents before B goes */
  REQUIRE(util_wait(outbox_empty, &hood[1], 10000) == 0);
  REQUIRE(util_wait(outbox_empty, &hood[0], 10000) == 0);
  REQUIRE(util_wait(outbox_empty, &dist, 10000) == 0);

  /* B goes offline before the close. */
  CHECK(tnode_kill(&hood[1], SIGTERM) == 0);

  /* The close: A sends its mandate at once; the district waits for B. */
  tnode_set_clock(&city, CLOSES);
  tnode_set_clock(&dist, CLOSES);
  tnode_set_clock(&hood[0], CLOSES);
  CHECK(util_wait_round(&hood[0], rc.id, 0, 1, 0, 10000) == 0);
  util_sleep_ms(1500);                  /* a few ticks of the close */
  v = view_of(&dist, rc.id, &rl);
  REQUIRE(v != NULL);
  CHECK(!v->mandated);
  CHECK_EQ_INT(v->profiles, 1);         /* A's */
  councilnet__round_list__free_unpacked(rl, NULL);
  rl = NULL;

  /* 300 s past the close: the district's grace is over, the city's not.
   * The district sends its mandate; the city, with every child council's
   * mandate in, allocates at once. */
  tnode_set_clock(&city, CLOSES + 300);
  tnode_set_clock(&dist, CLOSES + 300);
  tnode_set_clock(&hood[0], CLOSES + 300);
  CHECK(util_wait_round(&dist, rc.id, 0, 1, 0, 10000) == 0);
  CHECK(util_wait_round(&city, rc.id, 0, 0, 1, 10000) == 0);

  /* The city's grace ends with the district's clock just short of the
   * full 600 s, where every level used to wait: whatever the district
   * has not sent by now misses the allocation. */
  tnode_set_clock(&dist, CLOSES + 599);
  tnode_set_clock(&city, CLOSES + 600);
  REQUIRE(util_wait_round(&city, rc.id, 0, 0, 1, 10000) == 0);
  v = view_of(&city, rc.id, &rl);
  REQUIRE(v != NULL && v->allocation);
  /* A's and the district's own voters are counted; B's are not (offline) */
  if (v->allocation->voters != ROLL_A + ROLL_D)
    fprintf(stderr, "the city allocated %llu voters, not %d (A's and the district's)\n",
            (unsigned long long)v->allocation->voters, ROLL_A + ROLL_D);
  CHECK_EQ_INT(v->allocation->voters, ROLL_A + ROLL_D);
  CHECK_EQ_INT(v->profiles, 1);
  REQUIRE(v->allocation->n_projects == NP);
  CHECK_EQ_INT(v->allocation->projects[0]->votes, ROLL_A);
  CHECK_EQ_INT(v->allocation->projects[1]->votes, 0);
  CHECK_EQ_INT(v->allocation->projects[2]->votes, ROLL_D);
  CHECK(util_council_verify(&dist) == 0);
  CHECK(util_council_verify(&hood[0]) == 0);

  /* A council under the city (depth 1) moves under the district: it reads
   * the district's log from the start, takes the round in again one level
   * deeper, and passes the new depth down. Kept at depth 1 it would wait
   * as long as its new parent, 300 s. (Last, once the city has allocated:
   * a council more under the city would hold its close.) */
  {
    depth_want_t w = { &mover, rc.id, 2 };
    util_round_t mr = { &mover, { 0 }, 0 };
    REQUIRE(tnode_start_child(&mover, "Mover", T0, &city) == 0);
    REQUIRE(util_admit_council(&city, mover.pk, "Mover") == CN_OK);
    REQUIRE(util_wait(util_round_seen, &mr, 10000) == 0);
    check_depth(&mover, "mover under the city", rc.id, 1, 300);
    REQUIRE(util_admit_council(&dist, mover.pk, "Mover") == CN_OK);
    REQUIRE(util_parent_set(&mover, &dist) == CN_OK);
    CHECK(util_wait(depth_is, &w, 10000) == 0);
    check_depth(&mover, "mover under the district", rc.id, 2, 150);
    {
      relay_ctx_t r = { rc.id, { 0, 0 }, { 0, 0 } };
      CHECK(util_log_each(&mover, relay_hops, &r) == 0);
      CHECK_EQ_INT(r.seen[0], 2);         /* the round, passed down again */
      CHECK_EQ_INT(r.hops[0], 2);
    }
  }
done:
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  if (started) {
    if (mover.dir[0])
      CHECK(tnode_destroy(&mover) == 0);
    for (int h = 0; h < 2; h++)
      CHECK(tnode_destroy(&hood[h]) == 0);
    CHECK(tnode_destroy(&dist) == 0);
    CHECK(tnode_destroy(&city) == 0);
  }
  return test_finish("test_budget_grace");
}
