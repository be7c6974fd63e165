/* budget.h: participatory budgeting: approval profiles, allocation rules
 * (greedy by approvals; the Method of Equal Shares with completion) and the
 * Pabulib .pb format. Pure functions, no I/O. The exact rules, tie-breaks
 * and tolerances are spelled out at the top of lib/budget.c, the accepted
 * .pb dialect at the top of lib/pabulib.c. */
#ifndef COUNCILNET_BUDGET_H
#define COUNCILNET_BUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct cn_budget_project_t {
  char id[64];              /* Pabulib project_id */
  char *name;               /* malloc'd, may be NULL */
  uint64_t cost;
  char *proposer;           /* malloc'd, may be NULL: proposing assembly */
} cn_budget_project_t;

/* A group of voters with the same approval set: COUNT voters approving the
 * projects PROJECTS[0..N_PROJECTS) (indices into the round's projects).
 * GROUP names the assembly they vote in (index into groups, below
 * n_groups when group_weight is set), used for need weights: each voter's
 * MES share is scaled by group_weight[GROUP] (see cn_budget_allocate). An
 * empty set (N_PROJECTS 0) is a voter who approves nothing: still a voter. */
typedef struct cn_budget_set_t {
  uint32_t *projects;       /* malloc'd, sorted ascending, no repeats */
  size_t n_projects;
  uint64_t count;
  uint32_t group;
} cn_budget_set_t;

typedef struct cn_budget_t {
  char *description;        /* malloc'd, may be NULL */
  char *rule;               /* malloc'd Pabulib META rule as written there
                             * ("greedy", "equalshares", ...); NULL: unknown
                             * (the file says unknown, or nothing) */
  uint64_t total;           /* budget; costs and total at most 2^53 */
  cn_budget_project_t *projects;
  size_t n_projects;
  cn_budget_set_t *sets;
  size_t n_sets;
  double *group_weight;     /* malloc'd need weight per group (finite, >= 0);
                             * NULL: all 1 */
  size_t n_groups;          /* groups (assemblies); 0 when none are named */
} cn_budget_t;

/* Largest cost or total the allocation takes (exact in a double). */
#define CN_BUDGET_MAX_AMOUNT (UINT64_C(1) << 53)

typedef enum cn_budget_rule {
  CN_BUDGET_GREEDY = 0,
  CN_BUDGET_MES = 1
} cn_budget_rule;

typedef struct cn_budget_result_t {
  int *selected;            /* per project: 1 selected, 0 not */
  uint64_t *votes;          /* per project: approvals */
  double *price;            /* MES: per project, the payment of each
                             * supporter who could pay in full (rho) in the
                             * MES run whose outcome was kept -- with the
                             * raised budget of the completion when it
                             * raised it; 0 if that run did not select it
                             * (picked by the final greedy fill, or not
                             * selected). Greedy: all 0. */
  int *by_completion;       /* MES: 1 if selected but not by plain MES at
                             * the real budget (added by the budget increase
                             * or the greedy fill). Greedy: all 0. */
  uint64_t spent;           /* sum of the selected costs, <= total */
  size_t n_projects;
} cn_budget_result_t;

void cn_budget_free(cn_budget_t *b);                 /* frees contents; accepts NULL */
void cn_budget_result_free(cn_budget_result_t *r);   /* frees contents; accepts NULL */

/* Add COUNT voters approving PROJECTS (any order, repeats ignored; each
 * below b->n_projects, so set the projects first) in GROUP; merges with an
 * existing set of the same projects and group. COUNT 0 adds nothing.
 * Return 0 or -1 (bad index, count overflow, no memory). The search for
 * an identical set is linear in b->n_sets: fine for mandate profiles, but
 * build very large profiles in bulk (as the Pabulib parser does). */
int cn_budget_add_set(cn_budget_t *b, const uint32_t *projects, size_t n, uint64_t count,
                      uint32_t group);

/* Allocate B with RULE into OUT (zeroed first; free with
 * cn_budget_result_free). Return 0 or -1 (bad input, no memory). A project
 * nobody approves is never selected, by either rule.
 *
 * Greedy: projects in decreasing order of approvals (ties: lower cost
 * first, then lower index); take each that still fits in the budget, skip
 * one that does not (a later, cheaper one may still fit).
 * Method of Equal Shares (approval ballots, cost utilities; Peters,
 * Pierczynski, Skowron 2021): voter i gets share_i = T * w_g(i) / sum over
 * all voters j of w_g(j) (w = group_weight, 1 if NULL; voters with empty
 * sets count too), T the budget of the run. A project is affordable when
 * its supporters' money covers its cost; its payment rho is the least
 * amount with sum over supporters of min(money_i, rho) = cost. Repeatedly
 * fund the affordable project with the smallest rho / cost (i.e. the
 * largest effective vote count cost / rho of equalshares.net -- not the
 * smallest rho, which would be MES with approval utilities); ties as
 * greedy (more approvals, lower cost, lower index); supporters pay
 * min(money_i, rho). Completion: runs with T_k = total * (100 + k) / 100,
 * k = 0, 1, ... (k = 0: plain MES); stop at the first k whose outcome
 * costs more than total and keep the outcome of k - 1, or keep the
 * outcome of k at once if it is exhaustive (no unselected approved
 * project fits in what is left), or stop when T_k > total * (n_voters + 1);
 * then fill what is left of total greedily. Money is a double compared
 * with a relative tolerance of 1e-9; spending is exact. */
int cn_budget_allocate(const cn_budget_t *b, cn_budget_rule rule, cn_budget_result_t *out);

/* Pabulib .pb: sections META, PROJECTS, VOTES, semicolon separated. Parse
 * TEXT (LEN bytes) into OUT (zeroed first; free with cn_budget_free).
 * Approval votes only; budget and vote_type required; optional VOTES column
 * assembly (groups by first appearance) and PROJECTS column proposer;
 * Councilnet's optional META key assemblies names the groups in order with
 * need weights ("north:1,south:1.5"). Identical votes are merged into sets.
 * Return 0, or -1 with "line N: ..." in ERR (ERR may be NULL). */
int cn_pabulib_parse(const char *text, size_t len, cn_budget_t *out, char *err, size_t errlen);
/* Write B as .pb text (one line per voter, voter ids v1, v2, ...; META
 * rule b->rule, or "unknown" when NULL; groups named "0", "1", ... in META assemblies with their
 * weights, and in a VOTES column assembly, when n_groups > 0).
 * OUT: malloc'd NUL-terminated text. Return 0, or -1 if B cannot be
 * written so that cn_pabulib_parse reads it back the same (bad or
 * duplicate project id, newline in a text or the rule, bad index or group) or no
 * memory. */
int cn_pabulib_write(const cn_budget_t *b, char **out);

#endif
