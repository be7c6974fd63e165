/* budget.c: participatory budgeting allocation; see budget.h.
 *
 * The exact rules, so that anyone can reimplement them:
 *
 * Voters and approvals. A set of COUNT voters stands for COUNT identical
 * voters. votes[p] = sum of the counts of the sets approving p. A project
 * nobody approves (votes 0) is never selected, by either rule.
 *
 * Greedy. Projects are taken in "greedy order": votes descending, then cost
 * ascending, then index ascending. Each approved project whose cost fits in
 * what is left of the total is selected; one that does not fit is skipped
 * and the walk goes on (a later, cheaper project may still fit).
 *
 * Method of Equal Shares (MES), approval ballots with cost utilities
 * (Peters, Pierczynski, Skowron, "Proportional participatory budgeting with
 * additive utilities", NeurIPS 2021; equalshares.net):
 *
 *  - Every voter i starts with share_i = T * w_g(i) / sum_j w_g(j), where T
 *    is the budget the run is given (the real total, or a raised one during
 *    completion), w_g the need weight of the voter's group (1 when
 *    b->group_weight is NULL), and the sum runs over all voters, those with
 *    empty approval sets included (their share is never spent). If all
 *    weights are 0 every voter has 0.
 *  - A round: for each project p not yet selected, with S_p the voters
 *    approving p and m_i their money, p is affordable if sum_{S_p} m_i >=
 *    cost(p). Its payment rho_p is the least amount with
 *    sum_{i in S_p} min(m_i, rho_p) = cost(p): supporters with less than
 *    rho_p pay all they have, the others pay rho_p (a cost-0 project has
 *    rho_p = 0).
 *  - With cost utilities (u_i(p) = cost(p) for approvers) the paper's rho
 *    is per unit of utility, i.e. rho_p / cost(p); the project selected is
 *    the affordable one with the smallest rho_p / cost(p) -- equivalently the
 *    largest "effective vote count" cost(p) / rho_p of equalshares.net, which
 *    is the number of supporters when all of them can pay an equal part.
 *    NOTE: this is not the smallest rho_p itself (that would be MES with
 *    approval utilities, which favours cheap projects).
 *  - Ties (keys equal within the tolerance below) are broken in greedy
 *    order: more votes, then lower cost, then lower index.
 *  - The selected project's supporters pay min(m_i, rho_p); price[p] =
 *    rho_p. Rounds repeat until no project is affordable.
 *
 * Completion ("add1", Pabulib practice, as pabutools'
 * exhaustion_by_budget_increase with its default step): run k = 0, 1, 2, ...
 * with the virtual budget T_k = total * (100 + k) / 100 (k = 0 is plain
 * MES). The run for k is "feasible" when the total cost of its outcome is at
 * most the real total. Stop at the first infeasible k and keep the outcome
 * of k - 1; stop earlier, keeping the outcome of k, when that outcome is
 * exhaustive (no unselected approved project costs at most what is left of
 * the real total); and stop, keeping the last feasible outcome, once T_k
 * would exceed total * (n_voters + 1) (pabutools' default bound: from there
 * on every voter alone could pay the whole budget). Then what is left of
 * the real total is filled greedily (greedy order, approved projects that
 * fit). by_completion[p] = 1 for a selected p that plain MES (k = 0) did not
 * select; price[p] is p's payment in the run whose outcome was kept (in that
 * run's virtual money), 0 for projects added by the greedy fill.
 *
 * Arithmetic. Costs and the total are integers up to 2^53 (larger: -1), and
 * the outcome's spending is always checked in exact integer arithmetic. The
 * money of voters is a double. Every comparison of money is made with the
 * relative tolerance CN_BUDGET_EPS = 1e-9:
 *   - p is affordable when sum of supporters' money >= cost * (1 - EPS);
 *   - two keys a, b are equal when |a - b| <= EPS * max(a, b) (then the
 *     tie-break decides), so that exact ties such as (2/3)/4 = 1/6 are ties;
 *   - a supporter whose money is at most rho_p * (1 + EPS) pays all of it and
 *     is left with exactly 0.
 * At k = 0 a project is also never selected if its cost exceeds what is left
 * of the real total in integers, so plain MES never overspends.
 *
 * Speed. Voters of a set always hold the same money, so the work is per
 * set: supporters are kept per project (CSR arrays of set indices; a per-run
 * working copy drops sets found with no money). A project's key can only
 * grow as voters spend, so the key last computed is a lower bound: each
 * round evaluates projects in increasing order of that bound and stops as
 * soon as the bound exceeds the best key found (the "effective vote count"
 * trick of equalshares.net); an evaluated project whose equal split
 * cost / (supporters with money) already makes it worse than the best is
 * not solved further. rho is found by a fixed-point iteration from below
 * (a few linear passes), falling back to a quickselect-like partition
 * (expected linear). A completion run is abandoned as soon as its outcome
 * costs more than the real total. Worst case the completion makes up to
 * 100 * (n_voters + 1) runs; in practice it ends after some tens. */
#include "councilnet/budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CN_BUDGET_EPS 1e-9

void cn_budget_free(cn_budget_t *b)
{
  size_t i;

  if (!b)
    return;
  free(b->description);
  free(b->rule);
  for (i = 0; i < b->n_projects && b->projects; i++) {
    free(b->projects[i].name);
    free(b->projects[i].proposer);
  }
  free(b->projects);
  for (i = 0; i < b->n_sets && b->sets; i++)
    free(b->sets[i].projects);
  free(b->sets);
  free(b->group_weight);
  memset(b, 0, sizeof *b);
}

void cn_budget_result_free(cn_budget_result_t *r)
{
  if (!r)
    return;
  free(r->selected);
  free(r->votes);
  free(r->price);
  free(r->by_completion);
  memset(r, 0, sizeof *r);
}

static int u32_cmp(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return x < y ? -1 : x > y;
}

int cn_budget_add_set(cn_budget_t *b, const uint32_t *projects, size_t n, uint64_t count,
                      uint32_t group)
{
  cn_budget_set_t *sets;
  uint32_t *p = NULL;
  size_t i, m = 0;

  if (!b || (n > 0 && !projects))
    return -1;
  if (n > 0) {
    p = malloc(n * sizeof *p);
    if (!p)
      return -1;
    memcpy(p, projects, n * sizeof *p);
    qsort(p, n, sizeof *p, u32_cmp);
    for (i = 0; i < n; i++) {
      if (p[i] >= b->n_projects) {
        free(p);
        return -1;
      }
      if (m == 0 || p[m - 1] != p[i])
        p[m++] = p[i];
    }
  }
  if (count == 0) {
    free(p);
    return 0;
  }
  for (i = 0; i < b->n_sets; i++) {
    cn_budget_set_t *s = &b->sets[i];
    if (s->group != group || s->n_projects != m
        || (m > 0 && memcmp(s->projects, p, m * sizeof *p) != 0))
      continue;
    free(p);
    if (s->count > UINT64_MAX - count)
      return -1;
    s->count += count;
    return 0;
  }
  if (b->n_sets >= SIZE_MAX / sizeof *sets - 1)
    goto bad;
  sets = realloc(b->sets, (b->n_sets + 1) * sizeof *sets);
  if (!sets)
    goto bad;
  b->sets = sets;
  sets[b->n_sets].projects = p;
  sets[b->n_sets].n_projects = m;
  sets[b->n_sets].count = count;
  sets[b->n_sets].group = group;
  b->n_sets++;
  return 0;
bad:
  free(p);
  return -1;
}

/* ---- Allocation ---- */

/* The money of each voter of a set, and the set's count, side by side:
 * one cache line read per supporter. */
typedef struct purse_t {
  double money;
  double cnt;
} purse_t;

typedef struct alloc_t {
  const cn_budget_t *b;
  size_t np, ns;
  uint64_t *votes;              /* per project */
  size_t *start;                /* CSR: supporters of p are sup[start[p] .. start[p+1]) */
  uint32_t *sup;
  uint32_t *wsup;               /* per run: copy of sup, sets with no money dropped */
  size_t *end;                  /* per run: supporters of p left: wsup[start[p] .. end[p]) */
  purse_t *purse;               /* per set */
  double *frac;                 /* per set: w_g / sum of weights (a voter's share of T) */
  double n_voters;
  double *tm, *tc;              /* scratch: supporters' money and counts */
  double *lb;                   /* per project: lower bound of the key */
  uint32_t *rem;                /* MES: projects still in the race */
  uint32_t *order;              /* greedy order */
  int *sel;                     /* run outcome */
  double *price;
} alloc_t;

/* Greedy order: votes descending, cost ascending, index ascending. Return
 * <0 if P comes before Q. */
static int greedy_cmp(const alloc_t *a, uint32_t p, uint32_t q)
{
  uint64_t cp = a->b->projects[p].cost, cq = a->b->projects[q].cost;

  if (a->votes[p] != a->votes[q])
    return a->votes[p] > a->votes[q] ? -1 : 1;
  if (cp != cq)
    return cp < cq ? -1 : 1;
  return p < q ? -1 : p > q;
}

static void greedy_sort(const alloc_t *a, uint32_t *v, size_t n)
{
  size_t i, j;

  /* Insertion sort (qsort has no context argument); run once per call. */
  for (i = 1; i < n; i++) {
    uint32_t x = v[i];
    for (j = i; j > 0 && greedy_cmp(a, x, v[j - 1]) < 0; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

/* Keys equal within the tolerance? */
static int key_eq(double x, double y)
{
  double m = x > y ? x : y;

  return fabs(x - y) <= CN_BUDGET_EPS * m;
}

/* Return 1 if project P with key KP beats Q with key KQ. */
static int key_better(const alloc_t *a, uint32_t p, double kp, uint32_t q, double kq)
{
  if (!key_eq(kp, kq))
    return kp < kq;
  return greedy_cmp(a, p, q) < 0;
}

/* Solve sum_i c_i * min(m_i, rho) = COST for rho over the N entries of
 * a->tm, a->tc (all m_i > 0, total count NV, sum c_i m_i > COST).
 *
 * First a fixed-point iteration from below: r_0 = COST / NV and
 * r_{j+1} = (COST - sum_{m_i < r_j} c_i m_i) / sum_{m_i >= r_j} c_i.
 * r_j never exceeds rho and only grows, so an entry below r_j is poor for
 * good and is dropped; when no entry drops, r_j = rho. Few rounds are
 * needed unless the poor come in many waves; after SOLVE_ROUNDS the
 * remaining entries go to a quickselect-like partition (expected linear):
 * pick v; f(v) = sum c_i min(m_i, v); if f(v) >= COST then rho <= v and the
 * entries with m_i >= v pay rho (rich), else rho > v and those with
 * m_i <= v pay all they have (poor). */
#define SOLVE_ROUNDS 6

static double solve_rho(alloc_t *a, size_t n, double nv, double cost)
{
  double *m = a->tm, *c = a->tc;
  double poor = 0, rich = nv, maxm = 0, r = cost / nv;
  size_t lo = 0, hi, i, round;

  for (round = 0; round < SOLVE_ROUNDS; round++) {
    size_t w = 0;
    for (i = 0; i < n; i++) {
      if (m[i] < r) {
        poor += c[i] * m[i];
        rich -= c[i];
      } else {
        m[w] = m[i];
        c[w] = c[i];
        w++;
      }
    }
    if (w == n || w == 0)
      break;
    n = w;
    r = (cost - poor) / rich;
  }
  if (n == 0 || rich <= 0) {
    for (i = 0; i < n; i++)
      if (m[i] > maxm)
        maxm = m[i];
    return maxm;                /* rounding: everyone left pays all */
  }
  if (round < SOLVE_ROUNDS)
    return r;
  /* Partition what is left: POOR and the entries dropped so far stay;
   * RICH counts only the entries known to be rich. */
  rich = 0;
  for (i = 0; i < n; i++)
    if (m[i] > maxm)
      maxm = m[i];
  hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2, lt = lo, gt = hi, k = lo;
    double x = m[lo], y = m[mid], z = m[hi - 1], v, sum_lt = 0, cnt_ge = 0, cnt_eq = 0;

    /* Median of three. */
    v = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    /* Three-way partition: [lo,lt) < v, [lt,gt) == v, [gt,hi) > v. */
    while (k < gt) {
      double tm, tc;
      if (m[k] < v) {
        sum_lt += c[k] * m[k];
        tm = m[k], tc = c[k];
        m[k] = m[lt], c[k] = c[lt];
        m[lt] = tm, c[lt] = tc;
        lt++, k++;
      } else if (m[k] > v) {
        gt--;
        cnt_ge += c[k];
        tm = m[k], tc = c[k];
        m[k] = m[gt], c[k] = c[gt];
        m[gt] = tm, c[gt] = tc;
      } else {
        cnt_eq += c[k];
        k++;
      }
    }
    cnt_ge += cnt_eq;
    if (poor + sum_lt + (rich + cnt_ge) * v >= cost) {
      rich += cnt_ge;
      hi = lt;
    } else {
      poor += sum_lt + cnt_eq * v;
      lo = gt;
    }
  }
  if (rich <= 0)
    return maxm;
  return (cost - poor) / rich;
}

/* Evaluate project P on the current money: return 0 if it is not
 * affordable; else 1 with its payment in *RHO, or 2 if its key is sure to
 * exceed BOUND (when HAVE_BOUND) by more than the tolerance, with only a
 * lower bound of the payment in *RHO. Supporters found with no money are
 * dropped from P's working list for the rest of the run. */
static int eval_project(alloc_t *a, uint32_t p, int have_bound, double bound, double *rho)
{
  double cost = (double)a->b->projects[p].cost, sum = 0, nv = 0, minm = INFINITY;
  size_t i, n = 0, w = a->start[p];

  if (cost == 0) {
    *rho = 0;
    return 1;
  }
  for (i = a->start[p]; i < a->end[p]; i++) {
    uint32_t s = a->wsup[i];
    double m = a->purse[s].money, c = a->purse[s].cnt;
    if (m <= 0)
      continue;
    a->wsup[w++] = s;
    a->tm[n] = m;
    a->tc[n] = c;
    sum += m * c;
    nv += c;
    if (m < minm)
      minm = m;
    n++;
  }
  a->end[p] = w;
  if (n == 0 || sum < cost * (1 - CN_BUDGET_EPS))
    return 0;
  if (minm * nv >= cost)
    *rho = cost / nv;           /* every supporter can pay an equal part */
  else if (have_bound && 1 / nv - bound > CN_BUDGET_EPS * (1 / nv)) {
    *rho = cost / nv;           /* rho > cost / nv: key > 1 / nv > bound */
    return 2;
  } else if (sum <= cost) {
    double maxm = 0;            /* within the tolerance: everyone pays all */
    for (i = 0; i < n; i++)
      if (a->tm[i] > maxm)
        maxm = a->tm[i];
    *rho = maxm;
  } else
    *rho = solve_rho(a, n, nv, cost);
  return 1;
}

/* The supporters of P pay min(money, RHO). */
static void charge(alloc_t *a, uint32_t p, double rho)
{
  size_t i;

  for (i = a->start[p]; i < a->end[p]; i++) {
    purse_t *u = &a->purse[a->wsup[i]];
    if (u->money <= rho * (1 + CN_BUDGET_EPS))
      u->money = 0;
    else
      u->money -= rho;
  }
}

/* One MES run with virtual budget T into a->sel, a->price. EXACT_CAP: do
 * not select a project whose cost exceeds what is left of the real total
 * (the k = 0 run). ABORT_ABOVE: give up once the outcome costs more than
 * this. *SPENT: the outcome's cost. Return 0, or 1 if abandoned. */
static int mes_run(alloc_t *a, double t, int exact_cap, uint64_t abort_above, uint64_t *spent)
{
  const cn_budget_project_t *pr = a->b->projects;
  size_t i, n_rem = 0;
  uint64_t sp = 0;

  for (i = 0; i < a->ns; i++)
    a->purse[i].money = t * a->frac[i];
  memcpy(a->wsup, a->sup, a->start[a->np] * sizeof *a->wsup);
  for (i = 0; i < a->np; i++) {
    a->end[i] = a->start[i + 1];
    a->sel[i] = 0;
    a->price[i] = 0;
    if (a->votes[i] == 0)
      continue;
    a->lb[i] = pr[i].cost == 0 ? 0 : 1.0 / (double)a->votes[i];
    a->rem[n_rem++] = (uint32_t)i;
  }
  for (;;) {
    uint32_t best = 0;
    double best_key = 0, best_rho = 0;
    int have = 0;
    size_t j, w;

    /* Increasing lower bound; ties in greedy order (insertion sort: the
     * order barely changes between rounds). */
    for (i = 1; i < n_rem; i++) {
      uint32_t x = a->rem[i];
      for (j = i; j > 0; j--) {
        uint32_t y = a->rem[j - 1];
        if (a->lb[y] < a->lb[x] || (a->lb[y] == a->lb[x] && greedy_cmp(a, y, x) < 0))
          break;
        a->rem[j] = y;
      }
      a->rem[j] = x;
    }
    for (i = 0, w = 0; i < n_rem; i++) {
      uint32_t p = a->rem[i];
      double rho, key;
      int e;

      if (have && a->lb[p] - best_key > CN_BUDGET_EPS * a->lb[p]) {
        /* No later project can beat or tie the best: keep them all. */
        memmove(&a->rem[w], &a->rem[i], (n_rem - i) * sizeof *a->rem);
        w += n_rem - i;
        break;
      }
      if (exact_cap && pr[p].cost > a->b->total - sp)
        continue;               /* never fits again: drop */
      e = eval_project(a, p, have, best_key, &rho);
      if (e == 0)
        continue;               /* money only decreases: drop */
      key = pr[p].cost == 0 ? 0 : rho / (double)pr[p].cost;
      if (key > a->lb[p])
        a->lb[p] = key;
      if (e == 1 && (!have || key_better(a, p, key, best, best_key))) {
        have = 1;
        best = p;
        best_key = key;
        best_rho = rho;
      }
      a->rem[w++] = p;
    }
    n_rem = w;
    if (!have)
      break;
    charge(a, best, best_rho);
    a->sel[best] = 1;
    a->price[best] = best_rho;
    sp += pr[best].cost;
    if (sp > abort_above) {
      *spent = sp;
      return 1;
    }
    for (i = 0; i < n_rem; i++)
      if (a->rem[i] == best)
        break;
    memmove(&a->rem[i], &a->rem[i + 1], (n_rem - i - 1) * sizeof *a->rem);
    n_rem--;
  }
  *spent = sp;
  return 0;
}

/* Is SEL (costing SPENT) exhaustive: no unselected approved project fits
 * in what is left of the real total? */
static int exhaustive(const alloc_t *a, const int *sel, uint64_t spent)
{
  size_t i;

  for (i = 0; i < a->np; i++)
    if (!sel[i] && a->votes[i] > 0 && a->b->projects[i].cost <= a->b->total - spent)
      return 0;
  return 1;
}

/* Add approved projects to SEL in greedy order while they fit. Return the
 * new spending. */
static uint64_t greedy_fill(const alloc_t *a, int *sel, uint64_t spent)
{
  size_t i;

  for (i = 0; i < a->np; i++) {
    uint32_t p = a->order[i];
    uint64_t c = a->b->projects[p].cost;
    if (sel[p] || a->votes[p] == 0 || c > a->b->total - spent)
      continue;
    sel[p] = 1;
    spent += c;
  }
  return spent;
}

static void alloc_free(alloc_t *a)
{
  free(a->votes);
  free(a->start);
  free(a->sup);
  free(a->wsup);
  free(a->end);
  free(a->purse);
  free(a->frac);
  free(a->tm);
  free(a->tc);
  free(a->lb);
  free(a->rem);
  free(a->order);
  free(a->sel);
  free(a->price);
}

/* Check B and build the per-project supporter lists. Return 0 or -1. */
static int alloc_init(alloc_t *a, const cn_budget_t *b)
{
  size_t i, j, n_inc = 0, max_sup = 0;
  double wsum = 0;

  memset(a, 0, sizeof *a);
  a->b = b;
  a->np = b->n_projects;
  a->ns = b->n_sets;
  if (b->total > CN_BUDGET_MAX_AMOUNT || a->np > UINT32_MAX - 1 || a->ns > UINT32_MAX
      || (a->np > 0 && !b->projects) || (a->ns > 0 && !b->sets)
      || (b->group_weight && b->n_groups == 0))
    return -1;
  for (i = 0; i < a->np; i++)
    if (b->projects[i].cost > CN_BUDGET_MAX_AMOUNT)
      return -1;
  for (i = 0; i < b->n_groups && b->group_weight; i++)
    if (!(b->group_weight[i] >= 0) || isinf(b->group_weight[i]))
      return -1;
  for (i = 0; i < a->ns; i++) {
    const cn_budget_set_t *s = &b->sets[i];
    if (s->n_projects > 0 && !s->projects)
      return -1;
    if (b->group_weight && s->group >= b->n_groups)
      return -1;
    for (j = 0; j < s->n_projects; j++)
      if (s->projects[j] >= a->np || (j > 0 && s->projects[j] <= s->projects[j - 1]))
        return -1;
    n_inc += s->n_projects;
  }
  a->votes = calloc(a->np + 1, sizeof *a->votes);
  a->start = calloc(a->np + 2, sizeof *a->start);
  a->sup = malloc((n_inc + 1) * sizeof *a->sup);
  a->wsup = malloc((n_inc + 1) * sizeof *a->wsup);
  a->end = calloc(a->np + 1, sizeof *a->end);
  a->purse = malloc((a->ns + 1) * sizeof *a->purse);
  a->frac = malloc((a->ns + 1) * sizeof *a->frac);
  a->lb = malloc((a->np + 1) * sizeof *a->lb);
  a->rem = malloc((a->np + 1) * sizeof *a->rem);
  a->order = malloc((a->np + 1) * sizeof *a->order);
  a->sel = calloc(a->np + 1, sizeof *a->sel);
  a->price = calloc(a->np + 1, sizeof *a->price);
  if (!a->votes || !a->start || !a->sup || !a->wsup || !a->end || !a->purse || !a->frac || !a->lb
      || !a->rem || !a->order || !a->sel || !a->price)
    return -1;
  /* Counts per project, then prefix sums, then fill. */
  for (i = 0; i < a->ns; i++) {
    const cn_budget_set_t *s = &b->sets[i];
    double w = b->group_weight ? b->group_weight[s->group] : 1.0;
    a->purse[i].cnt = (double)s->count;
    a->n_voters += (double)s->count;
    wsum += w * (double)s->count;
    for (j = 0; j < s->n_projects; j++) {
      uint32_t p = s->projects[j];
      if (a->votes[p] > UINT64_MAX - s->count)
        return -1;
      a->votes[p] += s->count;
      a->start[p + 1]++;
    }
  }
  for (i = 0; i < a->np; i++) {
    if (a->start[i + 1] > max_sup)
      max_sup = a->start[i + 1];
    a->start[i + 1] += a->start[i];
  }
  for (i = 0; i < a->ns; i++) {
    const cn_budget_set_t *s = &b->sets[i];
    double w = b->group_weight ? b->group_weight[s->group] : 1.0;
    a->frac[i] = wsum > 0 ? w / wsum : 0;
    for (j = 0; j < s->n_projects; j++)
      a->sup[a->start[s->projects[j]]++] = (uint32_t)i;
  }
  /* The fill above advanced start[p] to the end of p: shift back. */
  for (i = a->np; i > 0; i--)
    a->start[i] = a->start[i - 1];
  a->start[0] = 0;
  a->tm = malloc((max_sup + 1) * sizeof *a->tm);
  a->tc = malloc((max_sup + 1) * sizeof *a->tc);
  if (!a->tm || !a->tc)
    return -1;
  for (i = 0; i < a->np; i++)
    a->order[i] = (uint32_t)i;
  greedy_sort(a, a->order, a->np);
  return 0;
}

static int alloc_result(cn_budget_result_t *out, size_t np)
{
  out->selected = calloc(np + 1, sizeof *out->selected);
  out->votes = calloc(np + 1, sizeof *out->votes);
  out->price = calloc(np + 1, sizeof *out->price);
  out->by_completion = calloc(np + 1, sizeof *out->by_completion);
  out->n_projects = np;
  if (!out->selected || !out->votes || !out->price || !out->by_completion)
    return -1;
  return 0;
}

/* MES with completion into OUT. */
static int allocate_mes(alloc_t *a, cn_budget_result_t *out)
{
  const cn_budget_t *b = a->b;
  double bound = (double)b->total * (a->n_voters + 1);
  uint64_t spent = 0, k;
  size_t i;

  mes_run(a, (double)b->total, 1, UINT64_MAX, &spent);
  for (i = 0; i < a->np; i++) {
    out->selected[i] = a->sel[i];
    out->price[i] = a->price[i];
  }
  out->spent = spent;
  /* out holds the last feasible outcome; plain MES is out->selected now and
   * by_completion is derived from it at the end. */
  memcpy(out->by_completion, out->selected, a->np * sizeof *out->selected);
  for (k = 1; b->total > 0 && !exhaustive(a, out->selected, out->spent); k++) {
    double t = (double)b->total * (double)(100 + k) / 100.0;
    if (t > bound)
      break;
    if (mes_run(a, t, 0, b->total, &spent) != 0)
      break;
    for (i = 0; i < a->np; i++) {
      out->selected[i] = a->sel[i];
      out->price[i] = a->price[i];
    }
    out->spent = spent;
  }
  out->spent = greedy_fill(a, out->selected, out->spent);
  for (i = 0; i < a->np; i++)
    out->by_completion[i] = out->selected[i] && !out->by_completion[i];
  return 0;
}

int cn_budget_allocate(const cn_budget_t *b, cn_budget_rule rule, cn_budget_result_t *out)
{
  alloc_t a;
  int rc = -1;

  if (!out)
    return -1;
  memset(out, 0, sizeof *out);
  if (!b || (rule != CN_BUDGET_GREEDY && rule != CN_BUDGET_MES))
    return -1;
  if (alloc_init(&a, b) != 0 || alloc_result(out, a.np) != 0)
    goto out;
  memcpy(out->votes, a.votes, a.np * sizeof *a.votes);
  if (rule == CN_BUDGET_GREEDY)
    out->spent = greedy_fill(&a, out->selected, 0);
  else if (allocate_mes(&a, out) != 0)
    goto out;
  rc = 0;
out:
  alloc_free(&a);
  if (rc != 0)
    cn_budget_result_free(out);
  return rc;
}
