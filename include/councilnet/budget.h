/* budget.h: participatory budgeting: approval profiles, allocation rules
 * (greedy by approvals; the Method of Equal Shares with completion) and the
 * Pabulib .pb format. Pure functions, no I/O except the file helpers. */
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
 * GROUP names the assembly they vote in (index into groups), used for need
 * weights; WEIGHT is each voter's share multiplier (see cn_budget_mes). */
typedef struct cn_budget_set_t {
  uint32_t *projects;       /* malloc'd, sorted ascending, no repeats */
  size_t n_projects;
  uint64_t count;
  uint32_t group;
} cn_budget_set_t;

typedef struct cn_budget_t {
  char *description;        /* malloc'd, may be NULL */
  uint64_t total;           /* budget */
  cn_budget_project_t *projects;
  size_t n_projects;
  cn_budget_set_t *sets;
  size_t n_sets;
  double *group_weight;     /* need weight per group; NULL: all 1 */
  size_t n_groups;
} cn_budget_t;

typedef enum cn_budget_rule {
  CN_BUDGET_GREEDY = 0,
  CN_BUDGET_MES = 1
} cn_budget_rule;

typedef struct cn_budget_result_t {
  int *selected;            /* per project: 1 selected, 0 not */
  uint64_t *votes;          /* per project: approvals */
  double *price;            /* MES: per project, the price paid per voter
                             * who funded it (0 if not selected by MES
                             * proper, e.g. picked in completion) */
  int *by_completion;       /* MES: 1 if selected in the completion phase */
  uint64_t spent;
  size_t n_projects;
} cn_budget_result_t;

void cn_budget_free(cn_budget_t *b);                 /* frees contents; accepts NULL */
void cn_budget_result_free(cn_budget_result_t *r);   /* frees contents; accepts NULL */

/* Add COUNT voters approving PROJECTS (any order, repeats ignored) in
 * GROUP; merges with an existing identical set. Return 0 or -1. */
int cn_budget_add_set(cn_budget_t *b, const uint32_t *projects, size_t n, uint64_t count,
                      uint32_t group);

/* Allocate B with RULE into OUT. Return 0 or -1 (bad input, no memory).
 *
 * Greedy: projects in decreasing order of approvals (ties: lower cost
 * first, then lower index); take each that still fits in the budget.
 * Method of Equal Shares (approval ballots, cost utilities): each voter
 * gets total / n_voters, scaled by their group's need weight w (shares are
 * w_g * total / sum over voters of w); repeatedly fund the affordable
 * project with the smallest rho (the per-voter payment, voters with less
 * money paying all they have), ties as greedy; then completion: the budget
 * is raised step by step (by 1% of the total each step, Pabulib practice)
 * and MES rerun while the outcome's cost stays within the real budget; the
 * last such outcome is kept and remaining money filled greedily. */
int cn_budget_allocate(const cn_budget_t *b, cn_budget_rule rule, cn_budget_result_t *out);

/* Pabulib .pb: sections META, PROJECTS, VOTES, semicolon separated. Parse
 * TEXT (LEN bytes). Return 0, or -1 with "line N: ..." in ERR. */
int cn_pabulib_parse(const char *text, size_t len, cn_budget_t *out, char *err, size_t errlen);
/* Write B as .pb text (one line per voter, voter ids v1, v2, ...).
 * OUT: malloc'd NUL-terminated text. Return 0 or -1. */
int cn_pabulib_write(const cn_budget_t *b, char **out);

#endif
