/* test_budget.c: greedy and the Method of Equal Shares on small instances
 * computed by hand, then the optimised MES against a plain reference
 * implementation on random instances.
 *
 * Conventions of the hand computations: projects are named A, B, C, ...
 * (index 0, 1, 2, ...); "key" is payment / cost (smaller is better, the
 * inverse of equalshares.net's effective vote count); s = T / n is each
 * voter's share when all weights are 1; T_k = total * (100 + k) / 100. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/budget.h"
#include "test.h"

/* Make B with budget TOTAL and one project per character of COSTS' length:
 * project i is named "A" + i and costs COSTS[i]. */
static void mk(cn_budget_t *b, uint64_t total, size_t n, const uint64_t *costs)
{
  size_t i;

  memset(b, 0, sizeof *b);
  b->total = total;
  b->projects = calloc(n, sizeof *b->projects);
  b->n_projects = n;
  for (i = 0; i < n; i++) {
    snprintf(b->projects[i].id, sizeof b->projects[i].id, "%c", (char)('A' + i));
    b->projects[i].cost = costs[i];
  }
}

/* Add COUNT voters in GROUP approving the projects named by the letters of
 * WHICH ("" approves nothing). */
static int add(cn_budget_t *b, uint64_t count, uint32_t group, const char *which)
{
  uint32_t p[26];
  size_t n = 0;

  for (; *which; which++)
    p[n++] = (uint32_t)(*which - 'A');
  return cn_budget_add_set(b, p, n, count, group);
}

/* The selected projects as letters ("BC"), with a '+' after each one
 * selected in the completion phase ("BCD+"). */
static const char *sel(const cn_budget_result_t *r)
{
  static char buf[128];
  size_t i, o = 0;

  for (i = 0; i < r->n_projects && o + 3 < sizeof buf; i++) {
    if (!r->selected[i])
      continue;
    buf[o++] = (char)('A' + i);
    if (r->by_completion && r->by_completion[i])
      buf[o++] = '+';
  }
  buf[o] = '\0';
  return buf;
}

static int near(double x, double y)
{
  return fabs(x - y) <= 1e-9 * (fabs(y) > 1 ? fabs(y) : 1);
}

/* The example of the brief, computed exactly. Budget 10; A costs 6 and B
 * costs 4, both approved by the same 6 voters; C costs 4, approved by the
 * other 4.
 * Greedy: A and B both have 6 votes; the tie goes to the cheaper B (4),
 * then A (6) still fits (10); C (4) does not. -> A,B, spent 10.
 * MES: each voter has 1. A: payment 1, key 1/6. B: payment 4/6, key
 * (4/6)/4 = 1/6. C: payment 1, key 1/4. A and B tie at 1/6, same votes, so
 * the cheaper B is funded first (price 2/3). Its 6 supporters keep 1/3
 * each = 2 < 6: A is out. C: 4 voters with 1 each pay 1 (price 1). Spent
 * 8, left 2: nothing approved costs <= 2, the outcome is exhaustive and
 * completion stops at once. -> B,C, spent 8.
 * (Funding A first, as the brief's sketch did, would need A to beat B; it
 * does not: B is as good per unit of cost and cheaper. With approval
 * utilities, smallest payment, B also comes first, 2/3 < 1.) */
static void test_brief_example(void)
{
  static const uint64_t costs[] = {6, 4, 4};
  cn_budget_t b;
  cn_budget_result_t g, m;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  mk(&b, 10, 3, costs);
  REQUIRE(add(&b, 6, 0, "AB") == 0);
  REQUIRE(add(&b, 4, 0, "C") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "AB");
  CHECK_EQ_INT(g.spent, 10);
  CHECK_EQ_INT(g.votes[0], 6);
  CHECK_EQ_INT(g.votes[1], 6);
  CHECK_EQ_INT(g.votes[2], 4);
  CHECK_EQ_INT(g.n_projects, 3);
  CHECK(g.price[0] == 0 && g.price[1] == 0 && g.by_completion[0] == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "BC");
  CHECK_EQ_INT(m.spent, 8);
  CHECK(near(m.price[1], 2.0 / 3));
  CHECK(near(m.price[2], 1));
  CHECK(m.price[0] == 0);
done:
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* Same, plus D (cost 2) approved by one of the A/B voters: 5 voters
 * approve AB, 1 approves ABD, 4 approve C.
 * Greedy: B (6 votes, 4), A (6 votes, 6): 10; C, D do not fit. -> A,B.
 * MES k = 0: as above B then C (D: 1 voter with 1 < 2); spent 8, left 2 and
 * D (2) would fit: not exhaustive, so completion runs. With share s:
 * B is funded first (key 1/6; A ties only when s >= 1 and loses on cost),
 * leaving its supporters s - 2/3. A becomes affordable when
 * 6 (s - 2/3) >= 6, s >= 5/3; it then beats C (key 1/6 < 1/4) and the
 * outcome B,A,C costs 14 > 10. D needs s - 2/3 >= 2, s >= 8/3, later still.
 * So k = 1..66 (s <= 1.66) give B,C and k = 67 (s = 1.67) is the first
 * infeasible run: keep B,C (prices in run 66: B 2/3, C 1), then fill
 * greedily with the 2 left: A (6) no, D (2) yes. -> B,C,D+ spent 10. */
static void test_completion_greedy_fill(void)
{
  static const uint64_t costs[] = {6, 4, 4, 2};
  cn_budget_t b;
  cn_budget_result_t g, m;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  mk(&b, 10, 4, costs);
  REQUIRE(add(&b, 5, 0, "AB") == 0);
  REQUIRE(add(&b, 1, 0, "DBA") == 0);   /* any order */
  REQUIRE(add(&b, 4, 0, "C") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "AB");
  CHECK_EQ_INT(g.spent, 10);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "BCD+");
  CHECK_EQ_INT(m.spent, 10);
  CHECK(near(m.price[1], 2.0 / 3));
  CHECK(near(m.price[2], 1));
  CHECK(m.price[3] == 0);              /* greedy fill: no MES price */
  CHECK_EQ_INT(m.votes[3], 1);
done:
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* Greedy skips a project that does not fit and takes a later cheaper
 * one; MES differs, and completion by budget increase adds a project.
 * Budget 10; A costs 7, B 5, C 3. Voters: 3 approve AC, 2 approve A,
 * 4 approve B, 1 approves nothing (10 voters). Votes A 5, B 4, C 3.
 * Greedy: A (7) -> 3 left; B (5) does not fit, skipped; C (3) fits.
 * -> A,C, spent 10.
 * MES k = 0, s = 1: A: 5 voters have 5 < 7; B: 4 < 5; C: 3 voters pay 1
 * each (key 1/3). After C, A has 2 < 7. -> C, spent 3, left 7 >= cost of
 * A: not exhaustive.
 * Completion: B is affordable when 4 s >= 5, s >= 1.25 (k = 25), key
 * 1.25/5 = 1/4 < 1/3 so B goes first, then C; A needs 3 (s - 1) + 2 s >= 7,
 * s >= 2. So k = 1..24 give C and k = 25 gives B,C (8 <= 10), which is
 * exhaustive (2 left < 7): stop there. -> B+,C, prices B 1.25, C 1. */
static void test_greedy_skip_and_completion(void)
{
  static const uint64_t costs[] = {7, 5, 3};
  cn_budget_t b;
  cn_budget_result_t g, m;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  mk(&b, 10, 3, costs);
  REQUIRE(add(&b, 3, 0, "AC") == 0);
  REQUIRE(add(&b, 2, 0, "A") == 0);
  REQUIRE(add(&b, 4, 0, "B") == 0);
  REQUIRE(add(&b, 1, 0, "") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "AC");
  CHECK_EQ_INT(g.spent, 10);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "B+C");
  CHECK_EQ_INT(m.spent, 8);
  CHECK(near(m.price[1], 1.25));
  CHECK(near(m.price[2], 1));
done:
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* Cost utilities, not smallest payment. Budget 10, 10 voters (1 each);
 * A costs 9 and is approved by 9 voters, 3 of whom also approve B (cost
 * 2); the 10th voter approves nothing.
 * A: payment 1, key 1/9. B: payment 2/3, key 1/3. MES with cost utilities
 * funds A (largest effective vote count, 9 vs 3); its supporters are then
 * empty and B cannot be paid. Left 1 < 2: exhaustive. -> A, price 1.
 * (Smallest payment first -- MES with approval utilities -- would fund B
 * and then A would be short: 3 * 1/3 + 6 = 7 < 9.) */
static void test_cost_utilities(void)
{
  static const uint64_t costs[] = {9, 2};
  cn_budget_t b;
  cn_budget_result_t m;

  memset(&m, 0, sizeof m);
  mk(&b, 10, 2, costs);
  REQUIRE(add(&b, 3, 0, "AB") == 0);
  REQUIRE(add(&b, 6, 0, "A") == 0);
  REQUIRE(add(&b, 1, 0, "") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "A");
  CHECK_EQ_INT(m.spent, 9);
  CHECK(near(m.price[0], 1));
done:
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* Ties. Budget 6, 6 voters approving both A and B.
 * 1) A and B cost 6: keys 1/6 and 1/6, votes 6 and 6, costs equal: the
 *    lower index A wins, in both rules; then nothing is left. -> A.
 * 2) B costs 5: B's key (5/6)/5 = 1/6 ties A's, same votes; B is cheaper.
 *    After B each voter keeps 1/6, 1 in all < 6. Greedy also prefers the
 *    cheaper B and A (6) no longer fits. -> B in both. */
static void test_ties_cost_index(void)
{
  static const uint64_t same[] = {6, 6}, cheaper_b[] = {6, 5};
  cn_budget_t b;
  cn_budget_result_t g, m;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  mk(&b, 6, 2, same);
  REQUIRE(add(&b, 6, 0, "AB") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "A");
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "A");
  CHECK(near(m.price[0], 1));
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);

  mk(&b, 6, 2, cheaper_b);
  REQUIRE(add(&b, 6, 0, "AB") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "B");
  CHECK_EQ_INT(g.spent, 5);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "B");
  CHECK(near(m.price[1], 5.0 / 6));
done:
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* Tie on the key broken by votes, which beat the index. Budget 4; A and B
 * cost 4. Group 0 (weight 1): 4 voters approving AB. Group 1 (weight 0):
 * 1 voter approving B, who therefore has no money. Shares: 4 * 1 / 4 = 1
 * each in group 0, 0 in group 1.
 * A: 4 voters pay 1, key 1/4. B: the same 4 pay 1 (the fifth has nothing),
 * key 1/4. Tie; B has 5 votes to A's 4, so B is funded although A has
 * the lower index; A then has no money left. -> B. */
static void test_tie_votes(void)
{
  static const uint64_t costs[] = {4, 4};
  static double w[] = {1, 0};
  cn_budget_t b;
  cn_budget_result_t m;

  memset(&m, 0, sizeof m);
  mk(&b, 4, 2, costs);
  REQUIRE(add(&b, 4, 0, "AB") == 0);
  REQUIRE(add(&b, 1, 1, "B") == 0);
  b.group_weight = malloc(sizeof w);
  REQUIRE(b.group_weight);
  memcpy(b.group_weight, w, sizeof w);
  b.n_groups = 2;
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "B");
  CHECK(near(m.price[1], 1));
  CHECK_EQ_INT(m.votes[0], 4);
  CHECK_EQ_INT(m.votes[1], 5);
done:
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* Need weights change the outcome. Budget 10; A (north) and B (south)
 * cost 6; 5 voters of group 0 approve A, 5 of group 1 approve B.
 * Equal weights: everyone has 1; each side has 5 < 6, nothing at k = 0.
 * At s = 1.2 (k = 20) both are affordable with the same key 1/5, votes
 * and cost: A (lower index) then B, 12 > 10: infeasible, keep the empty
 * outcome of k = 19 and fill greedily: A (tie -> index). -> A+.
 * Weights north 1, south 1.5: the sum of weights is 5 + 7.5 = 12.5, a
 * north voter has 10 / 12.5 = 0.8 and a south voter 1.2. B: 5 * 1.2 = 6,
 * each pays 1.2; A: 4 < 6. Left 4 < 6: exhaustive. -> B, price 1.2. */
static void test_need_weights(void)
{
  static const uint64_t costs[] = {6, 6};
  cn_budget_t b;
  cn_budget_result_t m;

  memset(&m, 0, sizeof m);
  mk(&b, 10, 2, costs);
  REQUIRE(add(&b, 5, 0, "A") == 0);
  REQUIRE(add(&b, 5, 1, "B") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "A+");
  CHECK(m.price[0] == 0);
  cn_budget_result_free(&m);

  b.group_weight = calloc(2, sizeof *b.group_weight);
  REQUIRE(b.group_weight);
  b.group_weight[0] = 1;
  b.group_weight[1] = 1.5;
  b.n_groups = 2;
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "B");
  CHECK(near(m.price[1], 1.2));
  CHECK_EQ_INT(m.spent, 6);
done:
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* Voters with empty votes still get a share. Budget 10; A costs 6 and is
 * approved by 5 voters; 5 others approve nothing. Each has 1: A's side has
 * 5 < 6, nothing at k = 0. A becomes affordable at s = 1.2, T = 12, k = 20
 * (k = 19: 5.95 < 6); 6 <= 10 is feasible and exhaustive (4 left, nothing
 * else). -> A+, price 1.2. Without the empty votes each of the 5 would
 * have 2 and plain MES would fund A (not by completion). Greedy takes A.
 * A budget where nobody approves anything selects nothing. */
static void test_empty_votes(void)
{
  static const uint64_t costs[] = {6};
  cn_budget_t b;
  cn_budget_result_t g, m;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  mk(&b, 10, 1, costs);
  REQUIRE(add(&b, 5, 0, "A") == 0);
  REQUIRE(add(&b, 5, 0, "") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "A+");
  CHECK(near(m.price[0], 1.2));
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "A");
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);

  mk(&b, 10, 1, costs);
  REQUIRE(add(&b, 5, 0, "A") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "A");
  CHECK(near(m.price[0], 1.2));
  cn_budget_result_free(&m);
  cn_budget_free(&b);

  mk(&b, 10, 1, costs);
  REQUIRE(add(&b, 7, 0, "") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "");
  CHECK_EQ_INT(g.votes[0], 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "");
  CHECK_EQ_INT(m.spent, 0);
done:
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* A project costing more than the budget is never selected. Budget 10;
 * A costs 11, approved by all 10 voters; B costs 3, approved by 3 of them;
 * C costs 2 and nobody approves it.
 * Greedy: A does not fit, B does; C has no votes (never funded). -> B.
 * MES, s = 1: A needs 11 > 10 of its voters' money. B: 3 voters pay 1
 * (key 1/3). Left 7: A (11) does not fit and C has no votes, so the
 * outcome is exhaustive. -> B, price 1.
 * With only 2 voters approving B: B needs s >= 1.5 (k = 50) but A is
 * affordable from s = 1.1 (k = 10), and any outcome with A costs > 10:
 * k = 10 is infeasible, k = 9 selects nothing, and B comes from the greedy
 * fill. -> B+, price 0. */
static void test_too_expensive(void)
{
  static const uint64_t costs[] = {11, 3, 2};
  cn_budget_t b;
  cn_budget_result_t g, m;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  mk(&b, 10, 3, costs);
  REQUIRE(add(&b, 3, 0, "AB") == 0);
  REQUIRE(add(&b, 7, 0, "A") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "B");
  CHECK_EQ_INT(g.spent, 3);
  CHECK_EQ_INT(g.votes[2], 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "B");
  CHECK(near(m.price[1], 1));
  cn_budget_result_free(&m);
  cn_budget_free(&b);

  mk(&b, 10, 3, costs);
  REQUIRE(add(&b, 2, 0, "AB") == 0);
  REQUIRE(add(&b, 8, 0, "A") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "B+");
  CHECK(m.price[1] == 0);
  CHECK_EQ_INT(m.spent, 3);
done:
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

/* A cost-0 project with support is always funded (payment 0); sets with
 * large counts behave as that many voters. Budget 1000; A costs 0
 * (3 voters, who also approve B), B costs 600 (600 of the 1000 voters), C
 * costs 500 (the other 400). MES, s = 1: A first (key 0, price 0), then B
 * (600 voters pay 1, key 1/600); C: 400 < 500. Left 400 < 500: exhaustive,
 * no completion. -> A,B. Greedy: B (600 votes), C (400 votes, 500 > 400
 * left) skipped, A (3 votes, cost 0) fits. -> A,B. */
static void test_counts_and_free_project(void)
{
  static const uint64_t costs[] = {0, 600, 500};
  cn_budget_t b;
  cn_budget_result_t g, m;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  mk(&b, 1000, 3, costs);
  REQUIRE(add(&b, 3, 0, "AB") == 0);
  REQUIRE(add(&b, 597, 0, "B") == 0);
  REQUIRE(add(&b, 400, 0, "C") == 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &m) == 0);
  CHECK_STR(sel(&m), "AB");
  CHECK(m.price[0] == 0);
  CHECK(near(m.price[1], 1));
  CHECK_EQ_INT(m.spent, 600);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &g) == 0);
  CHECK_STR(sel(&g), "AB");
  CHECK_EQ_INT(g.votes[1], 600);
done:
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_free(&b);
}

static void test_add_set(void)
{
  static const uint64_t costs[] = {1, 2, 3};
  static const uint32_t p1[] = {2, 0, 2}, p2[] = {0, 2}, bad[] = {3};
  cn_budget_t b;

  mk(&b, 10, 3, costs);
  CHECK(cn_budget_add_set(&b, p1, 3, 2, 0) == 0);
  CHECK(cn_budget_add_set(&b, p2, 2, 5, 0) == 0);   /* merges */
  REQUIRE(b.n_sets == 1);
  CHECK_EQ_INT(b.sets[0].count, 7);
  CHECK_EQ_INT(b.sets[0].n_projects, 2);
  CHECK_EQ_INT(b.sets[0].projects[0], 0);
  CHECK_EQ_INT(b.sets[0].projects[1], 2);
  CHECK(cn_budget_add_set(&b, p2, 2, 1, 1) == 0);   /* other group: new set */
  CHECK_EQ_INT(b.n_sets, 2);
  CHECK(cn_budget_add_set(&b, p2, 2, 0, 0) == 0);   /* no voters: nothing */
  CHECK_EQ_INT(b.sets[0].count, 7);
  CHECK(cn_budget_add_set(&b, NULL, 0, 3, 0) == 0); /* empty vote */
  CHECK_EQ_INT(b.n_sets, 3);
  CHECK(cn_budget_add_set(&b, bad, 1, 1, 0) == -1); /* unknown project */
  CHECK(cn_budget_add_set(&b, NULL, 1, 1, 0) == -1);
  CHECK(cn_budget_add_set(&b, p2, 2, UINT64_MAX, 0) == -1);   /* count overflow */
  CHECK_EQ_INT(b.n_sets, 3);
done:
  cn_budget_free(&b);
  cn_budget_free(NULL);
  cn_budget_result_free(NULL);
}

static void test_bad_input(void)
{
  static const uint64_t costs[] = {1, 2};
  cn_budget_t b;
  cn_budget_result_t r;
  uint32_t *p;

  mk(&b, 10, 2, costs);
  REQUIRE(add(&b, 1, 0, "AB") == 0);
  CHECK(cn_budget_allocate(&b, (cn_budget_rule)7, &r) == -1);
  CHECK(r.selected == NULL);
  CHECK(cn_budget_allocate(NULL, CN_BUDGET_MES, &r) == -1);
  CHECK(cn_budget_allocate(&b, CN_BUDGET_MES, NULL) == -1);
  p = b.sets[0].projects;
  p[0] = 1, p[1] = 0;                            /* not sorted */
  CHECK(cn_budget_allocate(&b, CN_BUDGET_MES, &r) == -1);
  p[0] = 0, p[1] = 1;
  b.projects[1].cost = (UINT64_C(1) << 53) + 1;  /* too large for exact money */
  CHECK(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &r) == -1);
  b.projects[1].cost = 2;
  b.group_weight = calloc(1, sizeof *b.group_weight);
  REQUIRE(b.group_weight);
  b.n_groups = 1;
  b.group_weight[0] = -1;                        /* negative weight */
  CHECK(cn_budget_allocate(&b, CN_BUDGET_MES, &r) == -1);
  b.group_weight[0] = 1;
  b.sets[0].group = 1;                           /* no such group */
  CHECK(cn_budget_allocate(&b, CN_BUDGET_MES, &r) == -1);
  b.sets[0].group = 0;
  CHECK(cn_budget_allocate(&b, CN_BUDGET_MES, &r) == 0);
  CHECK_STR(sel(&r), "AB");
  cn_budget_result_free(&r);
done:
  cn_budget_free(&b);
}

/* ---- Reference implementation: one voter at a time, every project
 * evaluated every round by sorting its supporters, no shortcuts. It
 * follows the rules of budget.c's header comment with the same tolerance. */

#define EPS 1e-9

typedef struct ref_t {
  size_t np, nv;
  const uint64_t *cost;
  uint64_t total;
  uint64_t votes[16];
  int app[64][16];              /* voter approves project */
  double w[64];                 /* voter weight */
} ref_t;

static int ref_greedy_before(const ref_t *r, size_t p, size_t q)
{
  if (r->votes[p] != r->votes[q])
    return r->votes[p] > r->votes[q];
  if (r->cost[p] != r->cost[q])
    return r->cost[p] < r->cost[q];
  return p < q;
}

static int dbl_cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

/* One MES run with budget T; return the outcome's cost (stops early once
 * above ABORT). K0: integer cap on the real total. */
static uint64_t ref_run(const ref_t *r, double t, int k0, uint64_t abort_above, int *sel,
                        double *price)
{
  double money[64], wsum = 0;
  int out[16] = {0};
  uint64_t spent = 0;
  size_t i, p;

  for (i = 0; i < r->nv; i++)
    wsum += r->w[i];
  for (i = 0; i < r->nv; i++)
    money[i] = wsum > 0 ? t * (r->w[i] / wsum) : 0;
  for (p = 0; p < r->np; p++)
    sel[p] = 0, price[p] = 0;
  for (;;) {
    size_t best = SIZE_MAX;
    double best_key = 0, best_rho = 0;

    for (p = 0; p < r->np; p++) {
      double m[64], sum = 0, rho = 0, key, c = (double)r->cost[p], paid = 0;
      size_t n = 0, left;
      if (sel[p] || r->votes[p] == 0)
        continue;
      if (out[p])
        continue;
      if (k0 && r->cost[p] > r->total - spent) {
        out[p] = 1;
        continue;
      }
      for (i = 0; i < r->nv; i++)
        if (r->app[i][p] && money[i] > 0)
          m[n++] = money[i], sum += money[i];
      if (c > 0 && (n == 0 || sum < c * (1 - EPS))) {
        out[p] = 1;
        continue;
      }
      if (c > 0) {
        qsort(m, n, sizeof *m, dbl_cmp);
        rho = m[n - 1];
        for (i = 0, left = n; i < n; i++, left--) {
          double eq = (c - paid) / (double)left;
          if (m[i] >= eq) {
            rho = eq;
            break;
          }
          paid += m[i];
        }
      }
      key = c > 0 ? rho / c : 0;
      if (best == SIZE_MAX || (fabs(key - best_key) <= EPS * fmax(key, best_key)
                                   ? ref_greedy_before(r, p, best) : key < best_key)) {
        best = p;
        best_key = key;
        best_rho = rho;
      }
    }
    if (best == SIZE_MAX)
      break;
    for (i = 0; i < r->nv; i++)
      if (r->app[i][best])
        money[i] = money[i] <= best_rho * (1 + EPS) ? 0 : money[i] - best_rho;
    sel[best] = 1;
    price[best] = best_rho;
    spent += r->cost[best];
    if (spent > abort_above)
      break;
  }
  return spent;
}

static int ref_exhaustive(const ref_t *r, const int *sel, uint64_t spent)
{
  size_t p;

  for (p = 0; p < r->np; p++)
    if (!sel[p] && r->votes[p] > 0 && r->cost[p] <= r->total - spent)
      return 0;
  return 1;
}

static uint64_t ref_mes(const ref_t *r, int *sel, int *compl, double *price)
{
  int cur[16], plain[16];
  double pr[16];
  uint64_t spent, s, k;
  size_t p, q;
  size_t order[16];

  spent = ref_run(r, (double)r->total, 1, UINT64_MAX, sel, price);
  memcpy(plain, sel, sizeof plain);
  for (k = 1; r->total > 0 && !ref_exhaustive(r, sel, spent); k++) {
    double t = (double)r->total * (double)(100 + k) / 100.0;
    if (t > (double)r->total * ((double)r->nv + 1))
      break;
    s = ref_run(r, t, 0, r->total, cur, pr);
    if (s > r->total)
      break;
    memcpy(sel, cur, sizeof cur);
    memcpy(price, pr, sizeof pr);
    spent = s;
  }
  for (p = 0; p < r->np; p++)
    order[p] = p;
  for (p = 0; p < r->np; p++)
    for (q = p + 1; q < r->np; q++)
      if (ref_greedy_before(r, order[q], order[p])) {
        size_t t = order[p];
        order[p] = order[q];
        order[q] = t;
      }
  for (p = 0; p < r->np; p++) {
    size_t x = order[p];
    if (!sel[x] && r->votes[x] > 0 && r->cost[x] <= r->total - spent) {
      sel[x] = 1;
      spent += r->cost[x];
    }
  }
  for (p = 0; p < r->np; p++)
    compl[p] = sel[p] && !plain[p];
  return spent;
}

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(uint64_t n)
{
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state % n;
}

/* Random small instances, with many ties (small costs, identical voters):
 * the optimised allocation must equal the reference exactly. */
static void test_against_reference(void)
{
  int iter, mismatches = 0;

  for (iter = 0; iter < 3000; iter++) {
    uint64_t costs[16];
    cn_budget_t b;
    cn_budget_result_t m;
    ref_t r;
    int sel[16], compl[16];
    double price[16], gw[3] = {1, 1, 1};
    size_t i, p;
    uint64_t spent;
    int weighted = rnd(3) == 0, ok = 1;

    memset(&r, 0, sizeof r);
    memset(&m, 0, sizeof m);
    r.np = 1 + (size_t)rnd(8);
    r.nv = 1 + (size_t)rnd(40);
    for (p = 0; p < r.np; p++)
      costs[p] = rnd(10) == 0 ? 0 : 1 + rnd(iter % 2 ? 12 : 40);
    r.cost = costs;
    r.total = rnd(60);
    mk(&b, r.total, r.np, costs);
    if (weighted) {
      b.group_weight = calloc(3, sizeof *b.group_weight);
      for (i = 0; i < 3; i++)
        b.group_weight[i] = gw[i] = (double)rnd(4) / 2;   /* 0, 0.5, 1, 1.5 */
      b.n_groups = 3;
    }
    for (i = 0; i < r.nv; i++) {
      uint32_t ps[16];
      size_t n = 0;
      uint32_t g = (uint32_t)rnd(3);
      for (p = 0; p < r.np; p++)
        if (rnd(3) == 0) {
          r.app[i][p] = 1;
          r.votes[p]++;
          ps[n++] = (uint32_t)p;
        }
      r.w[i] = weighted ? gw[g] : 1;
      if (cn_budget_add_set(&b, ps, n, 1, weighted ? g : 0) != 0)
        ok = 0;
    }
    spent = ref_mes(&r, sel, compl, price);
    if (!ok || cn_budget_allocate(&b, CN_BUDGET_MES, &m) != 0) {
      mismatches++;
      cn_budget_free(&b);
      continue;
    }
    if (m.spent != spent)
      ok = 0;
    for (p = 0; p < r.np; p++)
      if (m.selected[p] != sel[p] || m.by_completion[p] != compl[p]
          || !near(m.price[p], price[p]) || m.votes[p] != r.votes[p])
        ok = 0;
    if (m.spent > r.total)
      ok = 0;
    if (!ok) {
      if (mismatches < 5) {
        fprintf(stderr, "instance %d: total %llu, %zu voters:", iter,
                (unsigned long long)r.total, r.nv);
        for (p = 0; p < r.np; p++)
          fprintf(stderr, " %c=%llu(%llu votes) got %d%s %.6g want %d%s %.6g;", (char)('A' + p),
                  (unsigned long long)costs[p], (unsigned long long)r.votes[p], m.selected[p],
                  m.by_completion[p] ? "+" : "", m.price[p], sel[p], compl[p] ? "+" : "",
                  price[p]);
        fprintf(stderr, "\n");
      }
      mismatches++;
    }
    cn_budget_result_free(&m);
    cn_budget_free(&b);
  }
  CHECK_EQ_INT(mismatches, 0);
}

int main(void)
{
  test_brief_example();
  test_completion_greedy_fill();
  test_greedy_skip_and_completion();
  test_cost_utilities();
  test_ties_cost_index();
  test_tie_votes();
  test_need_weights();
  test_empty_votes();
  test_too_expensive();
  test_counts_and_free_project();
  test_add_set();
  test_bad_input();
  test_against_reference();
  return test_finish("test_budget");
}
