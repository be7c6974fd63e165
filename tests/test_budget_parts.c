/* test_budget_parts.c: a child council's whole budget mandate stays
 * counted at its parent while a newer mandate of the child comes in parts.
 * The parent used to drop every stored part of the child at the newer
 * mandate's first part: had it closed the round before the rest came, the
 * child's voters were in no allocation at all (SECURITY.md, "Open").
 *
 * One region, one neighbourhood of 10 people (its roll reported), four
 * rounds; mandates are made with the neighbourhood's key and posted
 * straight to the region (the neighbourhood's own clock never reaches a
 * close, so it sends none of its own). In each round M1 is a whole
 * mandate: 3 voters for project 0.
 *  A. The first of two parts of a newer M2 (4 voters for project 1)
 *     arrives; the region closes the round: M1's 3 voters are allocated.
 *  B. All of M2's parts arrive before the close: M2 counts, M1 not (no
 *     voter twice). A part of a mandate older than M2, newer than M1, is
 *     refused, before M2 is whole and after.
 *  C. M2's first part is replaced by the first part of a newer M3 (M2's
 *     rest is refused then); M1 stays counted and is allocated.
 *  D. M3's parts all arrive after M2's first: M3 counts, neither M1 nor M2.
 * Every refused part leaves the region's log as it was. The region waits
 * the grace period for a newer mandate's parts, as it did when it
 * dropped the older mandate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define CLOSES (T0 + 100)
#define GRACE 600               /* BUDGET_GRACE in lib/node.c */
#define ROLL 10
#define NPROJ 3

static tnode_t region, hood;

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

/* The region's convener opens round TITLE: NPROJ projects at 100 each, 500
 * in all, greedy, votes until CLOSES. ID gets its record id. 0 or -1. */
static int round_open(const char *title, uint8_t id[CN_HASH_BYTES])
{
  static char *names[NPROJ] = { "p0", "p1", "p2" };
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject proj[NPROJ], *pp[NPROJ];

  util_budget_projects(proj, pp, names, NPROJ, 100);
  br.node.data = region.pk;
  br.node.len = CN_PK_BYTES;
  br.created = T0;
  br.title = (char *)title;
  br.total = 500;
  br.projects = pp;
  br.n_projects = NPROJ;
  br.opens = T0;
  br.closes = CLOSES;
  br.rule = COUNCILNET__BUDGET_RULE__GREEDY;
  return util_act_id(&region, "budget_round", &br, region.convener_sk, NULL, id) == CN_OK ? 0 : -1;
}

/* Post to the region, as the neighbourhood, part PART of PARTS (0 of 0: a
 * whole mandate) of its mandate for ROUND made at CREATED for VOTERS
 * voters, with one set: COUNT voters approving PROJECT. The parts of one
 * mandate carry its digest, made of CREATED. Return the API code; a
 * refused part must leave the region's log as it was. */
static int part_post(const uint8_t round[CN_HASH_BYTES], uint64_t created, uint32_t part,
                     uint32_t parts, uint64_t voters, uint64_t count, uint32_t project)
{
  Councilnet__BudgetMandate m = COUNCILNET__BUDGET_MANDATE__INIT;
  Councilnet__ApprovalSet set = COUNCILNET__APPROVAL_SET__INIT, *sets[1] = { &set };
  uint8_t sk[CN_SK_BYTES], digest[CN_HASH_BYTES];
  int64_t head = util_head_seq(&region);
  int code;

  if (tnode_secret_key(&hood, sk) != 0)
    return -1;
  memset(digest, (int)(created - T0), sizeof digest);
  if (parts) {
    m.digest.data = digest;
    m.digest.len = CN_HASH_BYTES;
  }
  set.projects = &project;
  set.n_projects = 1;
  set.count = count;
  m.node.data = hood.pk;
  m.node.len = CN_PK_BYTES;
  m.created = created;
  m.round.data = (uint8_t *)round;
  m.round.len = CN_HASH_BYTES;
  m.sets = sets;
  m.n_sets = 1;
  m.voters = voters;
  m.part = part;
  m.parts = parts;
  code = util_act(&region, "budget_mandate", &m, sk, NULL);
  if (code != CN_OK && util_head_seq(&region) != head) {
    fprintf(stderr, "a refused part (made at T0+%llu, %u of %u) changed the log\n",
            (unsigned long long)(created - T0), part, parts);
    return -2;
  }
  return code;
}

/* The region's view of ROUND: child mandates counted, with parts missing,
 * whether allocated. -1 if the round is not there. */
static int round_counts(const uint8_t round[CN_HASH_BYTES], uint64_t *profiles,
                        uint64_t *partial)
{
  Councilnet__RoundList *rl =
    (Councilnet__RoundList *)util_get(&region, "/v1/budget", &councilnet__round_list__descriptor);
  Councilnet__RoundView *v = util_round_view(rl, round);
  int rc = -1;

  *profiles = *partial = 99;
  if (v) {
    *profiles = v->profiles;
    *partial = v->partial;
    rc = v->allocation != NULL;
  }
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  return rc;
}

/* ROUND's allocation at the region: its voters and each project's votes.
 * 0, or -1 if not allocated. */
static int allocation_of(const uint8_t round[CN_HASH_BYTES], uint64_t *voters,
                         uint64_t votes[NPROJ])
{
  Councilnet__RoundList *rl =
    (Councilnet__RoundList *)util_get(&region, "/v1/budget", &councilnet__round_list__descriptor);
  Councilnet__RoundView *v = util_round_view(rl, round);
  int rc = -1;

  *voters = 99;
  memset(votes, 0, NPROJ * sizeof *votes);
  if (v && v->allocation && v->allocation->n_projects == NPROJ) {
    *voters = v->allocation->voters;
    for (int p = 0; p < NPROJ; p++)
      votes[p] = v->allocation->projects[p]->votes;
    rc = 0;
  }
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  return rc;
}

/* ROUND was allocated with VOTERS voters, VOTES[p] for each project. */
static void check_allocation(const char *what, const uint8_t round[CN_HASH_BYTES],
                             uint64_t voters, const uint64_t votes[NPROJ])
{
  uint64_t got = 0, got_votes[NPROJ];

  CHECK_EQ_INT(allocation_of(round, &got, got_votes), 0);
  if (got != voters)
    fprintf(stderr, "%s: %llu voters allocated, not %llu\n", what, (unsigned long long)got,
            (unsigned long long)voters);
  CHECK_EQ_INT(got, voters);
  for (int p = 0; p < NPROJ; p++)
    CHECK_EQ_INT(got_votes[p], votes[p]);
}

int main(void)
{
  uint8_t ra[CN_HASH_BYTES], rb[CN_HASH_BYTES], rc[CN_HASH_BYTES], rd[CN_HASH_BYTES];
  uint64_t profiles = 0, partial = 0;
  int started = 0;

  cn_crypto_init();
  REQUIRE(tnode_start(&region, "Region", T0) == 0);
  started = 1;
  REQUIRE(tnode_start_child(&hood, "Neighbourhood", T0, &region) == 0);
  REQUIRE(util_admit_council(&region, hood.pk, "Neighbourhood") == CN_OK);
  for (int i = 0; i < ROLL; i++) {
    uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
    cn_crypto_keypair(pk, sk);
    REQUIRE(util_admit(&hood, pk, "member") == CN_OK);
  }
  REQUIRE(util_wait(outbox_empty, &hood, 10000) == 0);     /* the region has its roll */
  REQUIRE(round_open("A", ra) == 0);
  REQUIRE(round_open("B", rb) == 0);
  REQUIRE(round_open("C", rc) == 0);
  REQUIRE(round_open("D", rd) == 0);

  /* A. M1 whole; M2's first part only. */
  CHECK_EQ_INT(part_post(ra, T0 + 10, 0, 0, 3, 3, 0), CN_OK);
  CHECK_EQ_INT(part_post(ra, T0 + 20, 0, 2, 4, 2, 1), CN_OK);
  CHECK_EQ_INT(round_counts(ra, &profiles, &partial), 0);
  CHECK_EQ_INT(profiles, 1);                          /* M1 */
  CHECK_EQ_INT(partial, 1);                           /* M2 */

  /* B. M1 whole; M2 in two parts, a part of an older mandate between. */
  CHECK_EQ_INT(part_post(rb, T0 + 10, 0, 0, 3, 3, 0), CN_OK);
  CHECK_EQ_INT(part_post(rb, T0 + 20, 0, 2, 4, 2, 1), CN_OK);
  CHECK_EQ_INT(part_post(rb, T0 + 15, 0, 2, 4, 2, 2), CN_ERR_DUPLICATE);
  CHECK_EQ_INT(part_post(rb, T0 + 15, 1, 2, 4, 2, 2), CN_ERR_DUPLICATE);
  CHECK_EQ_INT(part_post(rb, T0 + 20, 1, 2, 4, 2, 1), CN_OK);
  CHECK_EQ_INT(round_counts(rb, &profiles, &partial), 0);
  CHECK_EQ_INT(profiles, 1);                          /* M2 only */
  CHECK_EQ_INT(partial, 0);
  CHECK_EQ_INT(part_post(rb, T0 + 15, 0, 2, 4, 2, 2), CN_ERR_DUPLICATE);
  /* (the same bytes again would be a resend, answered with their receipt) */
  CHECK_EQ_INT(part_post(rb, T0 + 10, 0, 0, 2, 2, 0), CN_ERR_DUPLICATE);  /* another M1 */
  CHECK_EQ_INT(part_post(rb, T0 + 20, 1, 2, 4, 2, 2), CN_ERR_DUPLICATE);  /* M2's part 1 */

  /* C. M1 whole; M2's first part, then M3's. */
  CHECK_EQ_INT(part_post(rc, T0 + 10, 0, 0, 3, 3, 0), CN_OK);
  CHECK_EQ_INT(part_post(rc, T0 + 20, 0, 2, 4, 2, 1), CN_OK);
  CHECK_EQ_INT(part_post(rc, T0 + 30, 0, 3, 5, 1, 2), CN_OK);
  CHECK_EQ_INT(part_post(rc, T0 + 20, 1, 2, 4, 2, 1), CN_ERR_DUPLICATE);  /* M2 is gone */
  CHECK_EQ_INT(round_counts(rc, &profiles, &partial), 0);
  CHECK_EQ_INT(profiles, 1);                          /* M1 */
  CHECK_EQ_INT(partial, 1);                           /* M3 */

  /* D. M1 whole; M2's first part; M3 in three parts. */
  CHECK_EQ_INT(part_post(rd, T0 + 10, 0, 0, 3, 3, 0), CN_OK);
  CHECK_EQ_INT(part_post(rd, T0 + 20, 0, 2, 4, 2, 1), CN_OK);
  CHECK_EQ_INT(part_post(rd, T0 + 30, 2, 3, 5, 1, 2), CN_OK);
  CHECK_EQ_INT(part_post(rd, T0 + 30, 0, 3, 5, 2, 2), CN_OK);
  CHECK_EQ_INT(round_counts(rd, &profiles, &partial), 0);
  CHECK_EQ_INT(profiles, 1);                          /* M1 */
  CHECK_EQ_INT(partial, 1);                           /* M3 */
  CHECK_EQ_INT(part_post(rd, T0 + 30, 1, 3, 5, 2, 2), CN_OK);
  CHECK_EQ_INT(round_counts(rd, &profiles, &partial), 0);
  CHECK_EQ_INT(profiles, 1);                          /* M3 */
  CHECK_EQ_INT(partial, 0);

  /* The close: B and D, every newest mandate whole, are allocated at once;
   * A and C wait the grace period for their newer mandate's parts. */
  REQUIRE(tnode_set_clock(&region, CLOSES) == 0);
  CHECK(util_wait_round(&region, rb, 0, 0, 1, 10000) == 0);
  CHECK(util_wait_round(&region, rd, 0, 0, 1, 10000) == 0);
  util_sleep_ms(1500);                                /* a few ticks of the close */
  CHECK_EQ_INT(round_counts(ra, &profiles, &partial), 0);
  CHECK_EQ_INT(round_counts(rc, &profiles, &partial), 0);
  REQUIRE(tnode_set_clock(&region, CLOSES + GRACE) == 0);
  CHECK(util_wait_round(&region, ra, 0, 0, 1, 10000) == 0);
  CHECK(util_wait_round(&region, rc, 0, 0, 1, 10000) == 0);
  {
    static const uint64_t m1[NPROJ] = { 3, 0, 0 }, m2[NPROJ] = { 0, 4, 0 },
                          m3[NPROJ] = { 0, 0, 5 };
    check_allocation("A: M1 whole, M2 not", ra, 3, m1);
    check_allocation("B: M2 whole after M1", rb, 4, m2);
    check_allocation("C: M1 whole, M3 not", rc, 3, m1);
    check_allocation("D: M3 whole after M1 and M2's first part", rd, 5, m3);
  }
  /* parts after the close are refused, and change nothing */
  CHECK_EQ_INT(part_post(ra, T0 + 20, 1, 2, 4, 2, 1), CN_ERR_WINDOW_CLOSED);
done:
  if (started) {
    if (hood.pid)
      CHECK(tnode_destroy(&hood) == 0);
    CHECK(tnode_destroy(&region) == 0);
  }
  return test_finish("test_budget_parts");
}
