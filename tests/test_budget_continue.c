/* test_budget_continue.c: one budget round whose act fails does not stop
 * the others due at the same time (lib/node.c: budget_list_due, and
 * budget_close_due, which lists, then closes each round due).
 *
 * A district (real) owns two rounds, C and D, that take proposals until
 * T0+50 and close at T0+100; a neighborhood (real) below it takes them in.
 * - The final lists: C's cannot be made. The door bounds a list since
 *   today (budget_propose, list_bytes), so the district here is one that
 *   took C's proposals in before that: its store gets two long-titled
 *   proposals for C, as an older version stored them, while it is stopped.
 *   D's list (with a proposed project) is still published and reaches the
 *   neighborhood; at the close the district allocates both rounds, C with
 *   its own projects.
 * - The mandates: at the neighborhood C's budget mandate cannot be made:
 *   the mandate of a child council of the neighborhood (a key admitted as
 *   one, speaking for 3,000 people) for C does not decode in its store (a
 *   damaged row; the mandates a council can be sent all fit now, in parts
 *   if need be). D's mandate, with the neighborhood member's vote for the
 *   proposed project, still goes up and counts in D's allocation.
 * Both logs pass `council verify`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/record.h"
#include "store.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define C_PROJECTS 11
#define K_PEOPLE 3000

static tnode_t dist, hood;

static int wait_round(tnode_t *n, const uint8_t *id, int listed, int mandated, int allocated)
{
  return util_wait_round(n, id, listed, mandated, allocated, 30000);
}

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

/* Store a proposal for ROUND in N's store (N stopped), as a node of
 * before the list bound at the door took it in. */
static int proposal_store(tnode_t *n, const uint8_t round[CN_HASH_BYTES], const char *id,
                          const char *title, uint64_t seq)
{
  Councilnet__BudgetProject p = COUNCILNET__BUDGET_PROJECT__INIT;
  cn_store_t *s = NULL;
  char path[300], err[256];
  uint8_t *body = NULL;
  size_t len = 0;
  int rc = -1;

  p.id = (char *)id;
  p.title = (char *)title;
  p.cost = 100;
  p.proposer.data = hood.pk;
  p.proposer.len = CN_PK_BYTES;
  snprintf(path, sizeof path, "%s/node.db", n->dir);
  if (cn_pb_pack(&p.base, &body, &len) != 0 || cn_store_open(path, &s, err, sizeof err) != 0)
    goto out;
  if (cn_store_begin(s) != 0)
    goto out;
  if (cn_store_round_proposal_put(s, round, id, hood.pk, seq, body, len) != 1) {
    cn_store_rollback(s);
    goto out;
  }
  rc = cn_store_commit(s);
out:
  cn_store_free(s);
  free(body);
  return rc;
}

/* Store in N's store (N stopped) a mandate of the child council CHILD for
 * ROUND that does not decode: whatever the cause (a bug, a disk), N's
 * close of that round fails at every tick from then on. */
static int profile_store_broken(tnode_t *n, const uint8_t round[CN_HASH_BYTES],
                                const uint8_t child[CN_PK_BYTES])
{
  static const uint8_t junk[] = { 0xff, 0xff, 0xff };
  cn_store_profile_part_t part;
  cn_store_t *s = NULL;
  char path[300], err[256];
  int rc = -1;

  memset(&part, 0, sizeof part);
  part.parts = 1;
  part.created = T0;
  part.voters = part.counted = 1;
  part.body = junk;
  part.body_len = sizeof junk;
  snprintf(path, sizeof path, "%s/node.db", n->dir);
  if (cn_store_open(path, &s, err, sizeof err) != 0 || cn_store_begin(s) != 0)
    goto out;
  if (cn_store_profile_put(s, round, child, &part) != 1) {
    cn_store_rollback(s);
    goto out;
  }
  rc = cn_store_commit(s);
out:
  cn_store_free(s);
  return rc;
}

/* Post a round by DIST's convener: proposals until T0+50, votes until T0+100. */
static int round_post(const char *title, Councilnet__BudgetProject **projects, size_t n,
                      uint8_t id[CN_HASH_BYTES])
{
  Councilnet__BudgetRound r = COUNCILNET__BUDGET_ROUND__INIT;

  r.node.data = dist.pk;
  r.node.len = CN_PK_BYTES;
  r.created = T0;
  r.title = (char *)title;
  r.total = 1000;
  r.projects = projects;
  r.n_projects = n;
  r.proposals_close = T0 + 50;
  r.opens = T0 + 50;
  r.closes = T0 + 100;
  r.rule = COUNCILNET__BUDGET_RULE__GREEDY;
  return util_act_id(&dist, "budget_round", &r, dist.convener_sk, NULL, id);
}

int main(void)
{
  Councilnet__BudgetProject cp[C_PROJECTS], *cps[C_PROJECTS];
  Councilnet__BudgetProject lights = COUNCILNET__BUDGET_PROJECT__INIT;
  Councilnet__BudgetProject *dps[1] = { &lights };
  Councilnet__RoundList *rl = NULL;
  uint8_t c_id[CN_HASH_BYTES], d_id[CN_HASH_BYTES];
  uint8_t msk[CN_SK_BYTES], mpk[CN_PK_BYTES], ksk[CN_SK_BYTES], kpk[CN_PK_BYTES];
  char ids[C_PROJECTS][8], *long_title = NULL;
  int started = 0;

  cn_crypto_init();
  for (int i = 0; i < C_PROJECTS; i++) {
    councilnet__budget_project__init(&cp[i]);
    snprintf(ids[i], sizeof ids[i], "c%d", i);
    cp[i].id = ids[i];
    cp[i].title = ids[i];
    cp[i].cost = 100;
    cps[i] = &cp[i];
  }
  lights.id = "lights";
  lights.title = "Street lights";
  lights.cost = 300;
  REQUIRE(tnode_start(&dist, "District", T0) == 0);
  started = 1;
  REQUIRE(tnode_start_child(&hood, "Riverside", T0, &dist) == 0);
  started = 2;
  REQUIRE(util_admit_council(&dist, hood.pk, "Riverside") == CN_OK);
  cn_crypto_keypair(mpk, msk);
  REQUIRE(util_admit(&hood, mpk, "member") == CN_OK);
  cn_crypto_keypair(kpk, ksk);
  REQUIRE(util_admit_council(&hood, kpk, "Kay") == CN_OK);

  /* C first: the district and the neighborhood both meet it first. */
  REQUIRE(round_post("Round C", cps, C_PROJECTS, c_id) == CN_OK);
  REQUIRE(round_post("Round D", dps, 1, d_id) == CN_OK);
  REQUIRE(wait_round(&hood, c_id, 0, 0, 0) == 0);
  REQUIRE(wait_round(&hood, d_id, 0, 0, 0) == 0);

  /* Proposals an older district took in: C's two make a list larger than
   * a record; D's one fits. */
  REQUIRE(tnode_kill(&dist, SIGTERM) == 0);
  long_title = malloc(40001);
  REQUIRE(long_title);
  memset(long_title, 'x', 40000);
  long_title[40000] = 0;
  REQUIRE(proposal_store(&dist, c_id, "long1", long_title, 10) == 0);
  REQUIRE(proposal_store(&dist, c_id, "long2", long_title, 11) == 0);
  REQUIRE(proposal_store(&dist, d_id, "mural", "Mural", 12) == 0);
  REQUIRE(tnode_restart(&dist) == 0);

  /* The child council K speaks for 3,000 people; its mandate for C, as
   * the neighborhood holds it, does not decode. */
  {
    Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
    u.node.data = kpk;
    u.node.len = CN_PK_BYTES;
    u.created = T0;
    u.roll = K_PEOPLE;
    u.serial = 1;
    REQUIRE(util_act(&hood, "roll", &u, ksk, NULL) == CN_OK);
  }
  REQUIRE(tnode_kill(&hood, SIGTERM) == 0);
  REQUIRE(profile_store_broken(&hood, c_id, kpk) == 0);
  REQUIRE(tnode_restart(&hood) == 0);

  /* Proposals close: D's list is published and reaches the neighborhood. */
  REQUIRE(tnode_set_clock(&dist, T0 + 50) == 0);
  REQUIRE(tnode_set_clock(&hood, T0 + 50) == 0);
  CHECK(wait_round(&hood, d_id, 1, 0, 0) == 0);
  {
    Councilnet__BudgetBallot b = COUNCILNET__BUDGET_BALLOT__INIT;
    uint32_t mural = 1;               /* the proposed project, from the list */
    b.node.data = hood.pk;
    b.node.len = CN_PK_BYTES;
    b.created = T0 + 50;
    b.round.data = d_id;
    b.round.len = CN_HASH_BYTES;
    b.projects = &mural;
    b.n_projects = 1;
    CHECK_EQ_INT(util_act(&hood, "budget_ballot", &b, msk, NULL), CN_OK);
  }

  /* The neighborhood closes (past the wait for child mandates): D's
   * mandate goes up, C's cannot be made. The district, closing too, waits
   * for them (its clock within what it takes from the neighborhood). */
  REQUIRE(tnode_set_clock(&hood, T0 + 100 + 601) == 0);
  CHECK(wait_round(&hood, d_id, 1, 1, 0) == 0);
  REQUIRE(tnode_set_clock(&dist, T0 + 200) == 0);
  CHECK(util_wait(outbox_empty, &hood, 30000) == 0);
  rl = (Councilnet__RoundList *)util_get(&hood, "/v1/budget", &councilnet__round_list__descriptor);
  REQUIRE(rl);
  {
    Councilnet__RoundView *c = util_round_view(rl, c_id);
    CHECK(c && !c->mandated && c->profiles == 1);
  }
  councilnet__round_list__free_unpacked(rl, NULL);
  rl = NULL;

  /* The district closes D with the neighborhood's voter for the mural,
   * and C, its mandate never coming, after the wait, with its own
   * projects. */
  CHECK(wait_round(&dist, d_id, 1, 0, 1) == 0);
  REQUIRE(tnode_set_clock(&dist, T0 + 100 + 601) == 0);
  CHECK(wait_round(&dist, c_id, 0, 0, 1) == 0);
  rl = (Councilnet__RoundList *)util_get(&dist, "/v1/budget", &councilnet__round_list__descriptor);
  REQUIRE(rl);
  {
    Councilnet__RoundView *c = util_round_view(rl, c_id), *d = util_round_view(rl, d_id);
    CHECK(c && c->projects_envelope.len == 0 && c->allocation &&
          c->allocation->n_projects == C_PROJECTS);
    CHECK(d && d->projects_envelope.len > 0 && d->allocation && d->allocation->n_projects == 2 &&
          d->allocation->voters == 1 && d->allocation->projects[1]->votes == 1 &&
          d->allocation->projects[1]->selected);
  }
  councilnet__round_list__free_unpacked(rl, NULL);
  rl = NULL;
  CHECK_EQ_INT(util_council_verify(&dist), 0);
  CHECK_EQ_INT(util_council_verify(&hood), 0);
done:
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  free(long_title);
  if (started > 1)
    CHECK(tnode_destroy(&hood) == 0);
  if (started > 0)
    CHECK(tnode_destroy(&dist) == 0);
  return test_finish("test_budget_continue");
}
