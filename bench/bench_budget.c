/* bench_budget.c: allocation of a large participatory budgeting round.
 *
 * A deterministic random round (fixed seed): 100,000 voters, 100 projects
 * with costs spread log-uniformly from 10,000 to 1,000,000 (rounded to
 * 1,000), a budget of 30% of the total cost. Voters are in two camps (60%
 * and 40%); each approves 5 to 15 projects, 80% of them from its camp's
 * half of the projects, weighted towards popular ones. Greedy then favours
 * the majority's projects and MES does not, so the outcomes differ; almost
 * every approval set is distinct.
 *
 * Prints voters, projects, distinct sets, the time of greedy and of MES
 * with completion (best of several runs), their ratio, what each selects,
 * and the time to parse the same round written as a Pabulib file in /tmp.
 * Exit status 1 if something fails (including the parsed round not
 * allocating the same as the round built directly). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "councilnet/budget.h"

#define N_VOTERS 100000
#define N_PROJECTS 100
#define RUNS 3

static uint64_t rng = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t next(void)
{
  /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * UINT64_C(2685821657736338717);
}

static double unif(void)
{
  return (double)(next() >> 11) / 9007199254740992.0;
}

static double now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct voter_t {
  uint32_t p[16];
  uint32_t n;
} voter_t;

static int voter_cmp(const void *a, const void *b)
{
  const voter_t *x = a, *y = b;

  if (x->n != y->n)
    return x->n < y->n ? -1 : 1;
  return memcmp(x->p, y->p, x->n * sizeof x->p[0]);
}

static int u32_cmp(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return x < y ? -1 : x > y;
}

/* Pick a project from the half [base, base + 50) by popularity weight
 * 1 / (1 + i / 8) of its rank i in the half. */
static uint32_t pick(uint32_t base, const double *cum)
{
  double u = unif() * cum[N_PROJECTS / 2 - 1];
  uint32_t i = 0;

  while (i < N_PROJECTS / 2 - 1 && cum[i] < u)
    i++;
  return base + i;
}

/* Build the round into B. Return 0 or -1. */
static int make_round(cn_budget_t *b)
{
  double cum[N_PROJECTS / 2], acc = 0;
  uint64_t sum = 0;
  voter_t *v;
  size_t i, j, n_sets = 0;

  memset(b, 0, sizeof *b);
  for (i = 0; i < N_PROJECTS / 2; i++) {
    acc += 1.0 / (1.0 + (double)i / 8);
    cum[i] = acc;
  }
  b->description = strdup("bench: 100000 voters, 100 projects, two camps");
  b->projects = calloc(N_PROJECTS, sizeof *b->projects);
  v = calloc(N_VOTERS, sizeof *v);
  if (!b->description || !b->projects || !v) {
    free(v);
    return -1;
  }
  b->n_projects = N_PROJECTS;
  for (i = 0; i < N_PROJECTS; i++) {
    double c = 1e4 * pow(100.0, unif());
    char name[64];
    snprintf(b->projects[i].id, sizeof b->projects[i].id, "%zu", i + 1);
    b->projects[i].cost = (uint64_t)(c / 1000 + 0.5) * 1000;
    sum += b->projects[i].cost;
    snprintf(name, sizeof name, "Project %zu; %s", i + 1,
             i < N_PROJECTS / 2 ? "camp A area" : "camp B area");
    b->projects[i].name = strdup(name);
    if (!b->projects[i].name) {
      free(v);
      return -1;
    }
  }
  b->total = sum * 3 / 10;
  for (i = 0; i < N_VOTERS; i++) {
    uint32_t camp = unif() < 0.6 ? 0 : 1, k = 5 + (uint32_t)(next() % 11);
    voter_t *x = &v[i];
    while (x->n < k) {
      uint32_t half = unif() < 0.8 ? camp : 1 - camp;
      uint32_t p = pick(half * (N_PROJECTS / 2), cum);
      for (j = 0; j < x->n && x->p[j] != p; j++)
        ;
      if (j == x->n)
        x->p[x->n++] = p;
    }
    qsort(x->p, x->n, sizeof x->p[0], u32_cmp);
  }
  qsort(v, N_VOTERS, sizeof *v, voter_cmp);
  b->sets = calloc(N_VOTERS, sizeof *b->sets);
  if (!b->sets) {
    free(v);
    return -1;
  }
  for (i = 0; i < N_VOTERS; i++) {
    cn_budget_set_t *s;
    if (n_sets > 0 && voter_cmp(&v[i], &v[i - 1]) == 0) {
      b->sets[n_sets - 1].count++;
      continue;
    }
    s = &b->sets[n_sets++];
    s->projects = malloc(v[i].n * sizeof *s->projects);
    if (!s->projects) {
      free(v);
      b->n_sets = n_sets - 1;
      return -1;
    }
    memcpy(s->projects, v[i].p, v[i].n * sizeof *s->projects);
    s->n_projects = v[i].n;
    s->count = 1;
  }
  b->n_sets = n_sets;
  free(v);
  return 0;
}

/* Time RUNS allocations of B with RULE; keep the last result in R. Return
 * the best time in ms, or -1. */
static double time_rule(const cn_budget_t *b, cn_budget_rule rule, cn_budget_result_t *r)
{
  double best = -1;
  int i;

  for (i = 0; i < RUNS; i++) {
    double t0, t;
    cn_budget_result_free(r);
    t0 = now_ms();
    if (cn_budget_allocate(b, rule, r) != 0)
      return -1;
    t = now_ms() - t0;
    if (best < 0 || t < best)
      best = t;
  }
  return best;
}

static void summary(const char *name, const cn_budget_t *b, const cn_budget_result_t *r)
{
  size_t i, n = 0, nc = 0;

  for (i = 0; i < r->n_projects; i++) {
    n += r->selected[i] != 0;
    nc += r->by_completion[i] != 0;
  }
  printf("  %-6s selects %zu projects (%zu in completion), spends %llu of %llu\n", name, n, nc,
         (unsigned long long)r->spent, (unsigned long long)b->total);
}

static int same_result(const cn_budget_result_t *x, const cn_budget_result_t *y)
{
  size_t i;

  if (x->n_projects != y->n_projects || x->spent != y->spent)
    return 0;
  for (i = 0; i < x->n_projects; i++)
    if (x->selected[i] != y->selected[i] || x->votes[i] != y->votes[i]
        || x->by_completion[i] != y->by_completion[i])
      return 0;
  return 1;
}

int main(void)
{
  cn_budget_t b, parsed;
  cn_budget_result_t g, m, m2;
  char path[64], err[256], *text = NULL, *back = NULL;
  double tg, tm, tw, tp, t0;
  size_t i, len, differ = 0;
  FILE *f;
  int rc = 1;

  memset(&g, 0, sizeof g);
  memset(&m, 0, sizeof m);
  memset(&m2, 0, sizeof m2);
  memset(&parsed, 0, sizeof parsed);
  if (make_round(&b) != 0) {
    fprintf(stderr, "bench_budget: out of memory\n");
    goto out;
  }
  tg = time_rule(&b, CN_BUDGET_GREEDY, &g);
  tm = time_rule(&b, CN_BUDGET_MES, &m);
  if (tg < 0 || tm < 0) {
    fprintf(stderr, "bench_budget: allocation failed\n");
    goto out;
  }
  for (i = 0; i < b.n_projects; i++)
    differ += g.selected[i] != m.selected[i];
  printf("bench_budget: participatory budgeting allocation\n");
  printf("  voters %d, projects %d, distinct sets %zu, budget %llu\n", N_VOTERS, N_PROJECTS,
         b.n_sets, (unsigned long long)b.total);
  printf("  greedy            %10.2f ms (best of %d)\n", tg, RUNS);
  printf("  MES + completion  %10.2f ms (best of %d)\n", tm, RUNS);
  printf("  ratio MES/greedy  %10.1f\n", tg > 0 ? tm / tg : 0);
  summary("greedy", &b, &g);
  summary("MES", &b, &m);
  printf("  projects on which the rules differ: %zu\n", differ);

  t0 = now_ms();
  if (cn_pabulib_write(&b, &text) != 0) {
    fprintf(stderr, "bench_budget: cn_pabulib_write failed\n");
    goto out;
  }
  tw = now_ms() - t0;
  len = strlen(text);
  snprintf(path, sizeof path, "/tmp/cn-bench-budget-%ld.pb", (long)getpid());
  f = fopen(path, "wb");
  if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "bench_budget: cannot write %s\n", path);
    goto out;
  }
  back = malloc(len + 1);
  f = fopen(path, "rb");
  if (!back || !f || fread(back, 1, len, f) != len) {
    fprintf(stderr, "bench_budget: cannot read %s\n", path);
    if (f)
      fclose(f);
    unlink(path);
    goto out;
  }
  fclose(f);
  unlink(path);
  t0 = now_ms();
  if (cn_pabulib_parse(back, len, &parsed, err, sizeof err) != 0) {
    fprintf(stderr, "bench_budget: parse: %s\n", err);
    goto out;
  }
  tp = now_ms() - t0;
  printf("  Pabulib write     %10.2f ms (%.1f MB)\n", tw, (double)len / 1e6);
  printf("  Pabulib parse     %10.2f ms (%zu sets after merging)\n", tp, parsed.n_sets);
  if (cn_budget_allocate(&parsed, CN_BUDGET_MES, &m2) != 0 || !same_result(&m, &m2)
      || parsed.n_sets != b.n_sets) {
    fprintf(stderr, "bench_budget: the parsed round allocates differently\n");
    goto out;
  }
  rc = 0;
out:
  free(text);
  free(back);
  cn_budget_result_free(&g);
  cn_budget_result_free(&m);
  cn_budget_result_free(&m2);
  cn_budget_free(&parsed);
  cn_budget_free(&b);
  return rc;
}
