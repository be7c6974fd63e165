/* fuzz_pabulib.c: libFuzzer entry point for the Pabulib .pb parser
 * (cn_pabulib_parse), the writer and both allocation rules
 * (include/councilnet/budget.h).
 *
 * Checked, beyond "no crash, no leak, no UB":
 *  - a refusal says "line N: ...";
 *  - round trip: what parses, cn_pabulib_write() writes, and the text reads
 *    back as the same budget (total, description, projects, approval sets
 *    in order, groups and need weights; "" and none are the same text), as
 *    pabulib.c promises, and allocates to the same outcome;
 *  - each allocation spends at most the total, exactly the cost of what it
 *    selects, selects only approved projects, and counts the approvals. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/budget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_pabulib: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

static int text_eq(const char *a, const char *b)
{
  return strcmp(a ? a : "", b ? b : "") == 0;
}

static double weight(const cn_budget_t *b, size_t g)
{
  return b->group_weight && g < b->n_groups ? b->group_weight[g] : 1.0;
}

static void same_budget(const cn_budget_t *a, const cn_budget_t *b)
{
  if (a->total != b->total || !text_eq(a->description, b->description))
    fail("round trip changed the total or the description", NULL);
  if (a->n_projects != b->n_projects)
    fail("round trip changed the number of projects", NULL);
  for (size_t i = 0; i < a->n_projects; i++) {
    const cn_budget_project_t *p = &a->projects[i], *q = &b->projects[i];
    if (strcmp(p->id, q->id) != 0 || p->cost != q->cost || !text_eq(p->name, q->name) ||
        !text_eq(p->proposer, q->proposer))
      fail("round trip changed a project", p->id);
  }
  if (a->n_sets != b->n_sets)
    fail("round trip changed the number of approval sets", NULL);
  for (size_t i = 0; i < a->n_sets; i++) {
    const cn_budget_set_t *s = &a->sets[i], *t = &b->sets[i];
    if (s->count != t->count || s->group != t->group || s->n_projects != t->n_projects ||
        (s->n_projects && memcmp(s->projects, t->projects, s->n_projects * sizeof *s->projects)))
      fail("round trip changed an approval set", NULL);
  }
  if (a->n_groups != b->n_groups)
    fail("round trip changed the number of groups", NULL);
  for (size_t g = 0; g < a->n_groups; g++)
    if (weight(a, g) != weight(b, g))
      fail("round trip changed a need weight", NULL);
}

static void check_result(const cn_budget_t *b, const cn_budget_result_t *r, const char *rule)
{
  uint64_t spent = 0;

  if (r->n_projects != b->n_projects)
    fail("result size differs from the number of projects", rule);
  for (size_t p = 0; p < b->n_projects; p++) {
    uint64_t votes = 0;
    for (size_t i = 0; i < b->n_sets; i++)
      for (size_t j = 0; j < b->sets[i].n_projects; j++)
        if (b->sets[i].projects[j] == p)
          votes += b->sets[i].count;
    if (votes != r->votes[p])
      fail("approval count is wrong", rule);
    if (r->selected[p]) {
      if (votes == 0)
        fail("a project nobody approves was selected", rule);
      spent += b->projects[p].cost;
    }
  }
  if (spent != r->spent || r->spent > b->total)
    fail("spending does not add up, or exceeds the total", rule);
}

static void allocate_both(const cn_budget_t *b, cn_budget_result_t out[2])
{
  static const cn_budget_rule rules[2] = { CN_BUDGET_GREEDY, CN_BUDGET_MES };
  for (int i = 0; i < 2; i++) {
    if (cn_budget_allocate(b, rules[i], &out[i]) != 0)
      fail("a parsed budget does not allocate", i ? "mes" : "greedy");
    check_result(b, &out[i], i ? "mes" : "greedy");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cn_budget_t b, back;
  cn_budget_result_t r1[2], r2[2];
  char err[256], *text = NULL;

  memset(&b, 0, sizeof b);
  memset(&back, 0, sizeof back);
  err[0] = 0;
  if (cn_pabulib_parse((const char *)data, size, &b, err, sizeof err) != 0) {
    if (strncmp(err, "line ", 5) != 0)
      fail("a refusal without its line number", err);
    return 0;
  }
  allocate_both(&b, r1);
  if (cn_pabulib_write(&b, &text) != 0)
    fail("a parsed budget cannot be written", NULL);
  if (cn_pabulib_parse(text, strlen(text), &back, err, sizeof err) != 0)
    fail("the written text does not parse", err);
  same_budget(&b, &back);
  allocate_both(&back, r2);
  for (int i = 0; i < 2; i++) {
    if (r1[i].spent != r2[i].spent ||
        (b.n_projects && memcmp(r1[i].selected, r2[i].selected, b.n_projects * sizeof *r1[i].selected) != 0))
      fail("written and read back, the budget allocates differently", i ? "mes" : "greedy");
    cn_budget_result_free(&r1[i]);
    cn_budget_result_free(&r2[i]);
  }
  free(text);
  cn_budget_free(&b);
  cn_budget_free(&back);
  return 0;
}
