/* rules.c: checking proposals and ballots, and tallying a proposal under its
 * rule. Pure functions, no I/O; see rules.h for the tally semantics.
 *
 * Robustness choices the header leaves open:
 *  - a proposal without a rule is tallied under the proto3 defaults
 *    (MAJORITY, no turnout quorum, no group quorums);
 *  - a ballot whose choices fail cn_rules_check_choices() still counts as a
 *    ballot (turnout, group quorums, `cast` for ONE_OF_N and APPROVAL) but
 *    adds to no option;
 *  - an unknown option kind or threshold never holds;
 *  - all products are computed in 128 bits, so no input can overflow them. */
#include "councilnet/rules.h"

#include <stdlib.h>
#include <string.h>

#define RULES_MAX_OPTIONS 64

/* Set *HI:*LO to the full 128-bit product A * B. */
static void rules_mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
  uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
  uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
  uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);

  *lo = (mid << 32) | (ll & 0xffffffffu);
  *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Return -1, 0 or 1 as A * X is less than, equal to or greater than B * Y. */
static int rules_cmp_products(uint64_t a, uint64_t x, uint64_t b, uint64_t y)
{
  uint64_t ahi, alo, bhi, blo;

  rules_mul128(a, x, &ahi, &alo);
  rules_mul128(b, y, &bhi, &blo);
  if (ahi != bhi)
    return ahi < bhi ? -1 : 1;
  if (alo != blo)
    return alo < blo ? -1 : 1;
  return 0;
}

size_t cn_rules_option_count(const Councilnet__Proposal *p)
{
  if (!p)
    return 0;
  if (p->option_kind == COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN)
    return 3;
  return p->n_options;
}

int cn_rules_check_choices(const Councilnet__Proposal *p, const uint32_t *choices, size_t n)
{
  size_t count, i, j;

  if (!p)
    return -1;
  count = cn_rules_option_count(p);
  switch (p->option_kind) {
  case COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN:
  case COUNCILNET__OPTION_KIND__ONE_OF_N:
    if (n != 1 || !choices)
      return -1;
    return choices[0] < count ? 0 : -1;
  case COUNCILNET__OPTION_KIND__APPROVAL:
    /* More choices than options must repeat one; this also bounds the loop. */
    if (n > count || (n > 0 && !choices))
      return -1;
    for (i = 0; i < n; i++) {
      if (choices[i] >= count)
        return -1;
      for (j = 0; j < i; j++)
        if (choices[j] == choices[i])
          return -1;
    }
    return 0;
  default:
    return -1;
  }
}

int cn_rules_check_proposal(const Councilnet__Proposal *p, const char **why)
{
  const Councilnet__Rule *r;
  const Councilnet__GroupQuorum *g;
  const char *reason = NULL;
  int rc = -1;
  size_t i;

  if (!p) {
    reason = "no proposal";
    goto out;
  }
  if (!p->title || p->title[0] == '\0') {
    reason = "title missing";
    goto out;
  }
  switch (p->option_kind) {
  case COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN:
    if (p->n_options != 0) {
      reason = "YES_NO_ABSTAIN takes no options";
      goto out;
    }
    break;
  case COUNCILNET__OPTION_KIND__ONE_OF_N:
  case COUNCILNET__OPTION_KIND__APPROVAL:
    if (p->n_options < 2 || p->n_options > RULES_MAX_OPTIONS) {
      reason = "ONE_OF_N and APPROVAL need 2 to 64 options";
      goto out;
    }
    if (!p->options) {
      reason = "options missing";
      goto out;
    }
    break;
  default:
    reason = "unknown option kind";
    goto out;
  }
  if (p->opens >= p->closes) {
    reason = "opens must be before closes";
    goto out;
  }
  if (p->closes > (uint64_t)INT64_MAX) {
    reason = "closes is out of range";
    goto out;
  }
  r = p->rule;
  if (r) {
    switch (r->threshold) {
    case COUNCILNET__THRESHOLD__MAJORITY:
    case COUNCILNET__THRESHOLD__TWO_THIRDS:
    case COUNCILNET__THRESHOLD__UNANIMITY:
    case COUNCILNET__THRESHOLD__PLURALITY:
      break;
    default:
      reason = "unknown threshold";
      goto out;
    }
    if (r->turnout_permille > 1000) {
      reason = "turnout_permille above 1000";
      goto out;
    }
    if (r->n_group_quorums > 0 && !r->group_quorums) {
      reason = "group quorums missing";
      goto out;
    }
    for (i = 0; i < r->n_group_quorums; i++) {
      g = r->group_quorums[i];
      if (!g || !g->group || g->group[0] == '\0') {
        reason = "group quorum without a group name";
        goto out;
      }
      if (g->share_permille > 1000) {
        reason = "share_permille above 1000";
        goto out;
      }
    }
  }
  rc = 0;
out:
  if (why)
    *why = reason;
  return rc;
}

/* Return 1 if ballot B carries the group label NAME, 0 if not. */
static int rules_ballot_in_group(const cn_tally_ballot_t *b, const char *name)
{
  size_t i;

  if (!b->groups)
    return 0;
  for (i = 0; i < b->n_groups; i++)
    if (b->groups[i] && strcmp(b->groups[i], name) == 0)
      return 1;
  return 0;
}

/* Return 1 if the count TOP out of CAST meets threshold T, 0 if not. The
 * caller has already required a unique top and cast > 0 where needed. */
static int rules_threshold_met(Councilnet__Threshold t, uint64_t top, uint64_t cast)
{
  switch (t) {
  case COUNCILNET__THRESHOLD__MAJORITY:
    return rules_cmp_products(top, 2, cast, 1) > 0;
  case COUNCILNET__THRESHOLD__TWO_THIRDS:
    return rules_cmp_products(top, 3, cast, 2) >= 0;
  case COUNCILNET__THRESHOLD__UNANIMITY:
    return top == cast;
  case COUNCILNET__THRESHOLD__PLURALITY:
    return 1;
  default:
    return 0;
  }
}

/* Free the result array GQ of N entries (entries may be NULL). */
static void rules_free_group_results(Councilnet__GroupQuorumResult **gq, size_t n)
{
  size_t i;

  if (!gq)
    return;
  for (i = 0; i < n; i++) {
    if (!gq[i])
      continue;
    if (gq[i]->group != protobuf_c_empty_string)
      free(gq[i]->group);
    free(gq[i]);
  }
  free(gq);
}

/* A ballot's weight: 1 unless the caller set one. */
static uint64_t rules_weight(const cn_tally_ballot_t *b)
{
  return b->weight ? b->weight : 1;
}

int cn_rules_tally(const Councilnet__Proposal *p, const cn_tally_ballot_t *ballots,
                   size_t n_ballots, uint64_t roll, Councilnet__Decision *out)
{
  static const Councilnet__Rule default_rule = COUNCILNET__RULE__INIT;
  const Councilnet__Rule *rule;
  const Councilnet__GroupQuorum *g;
  const cn_tally_ballot_t *b;
  Councilnet__GroupQuorumResult **gq = NULL;
  Councilnet__GroupQuorumResult *res;
  uint64_t *counts = NULL;
  uint64_t cast = 0, paper = 0, top_votes = 0, yes, no, total = 0;
  size_t n_counts, n_gq = 0, gq_len = 0, top_idx = 0, i, j;
  int rc = -1, tie = 0, threshold_held = 0, turnout_held, groups_held = 1, passed;
  int32_t top = -1, winner = -1;

  if (!p || !out || (n_ballots > 0 && !ballots))
    goto out;
  rule = p->rule ? p->rule : &default_rule;
  n_counts = cn_rules_option_count(p);

  /* Per-option counts; an invalid ballot adds to no option. */
  if (n_counts > 0) {
    counts = calloc(n_counts, sizeof *counts);
    if (!counts)
      goto out;
  }
  for (i = 0; i < n_ballots; i++) {
    b = &ballots[i];
    total += rules_weight(b);
    if (b->paper)
      paper++;
    if (cn_rules_check_choices(p, b->choices, b->n_choices) < 0)
      continue;
    for (j = 0; j < b->n_choices; j++)
      counts[b->choices[j]] += rules_weight(b);
  }

  /* Threshold. */
  switch (p->option_kind) {
  case COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN:
    yes = counts ? counts[0] : 0;      /* counts always has 3 entries here */
    no = counts ? counts[1] : 0;
    cast = yes + no;
    if (rule->threshold == COUNCILNET__THRESHOLD__PLURALITY)
      threshold_held = yes > no;
    else
      threshold_held = cast > 0 && rules_threshold_met(rule->threshold, yes, cast);
    break;
  case COUNCILNET__OPTION_KIND__ONE_OF_N:
  case COUNCILNET__OPTION_KIND__APPROVAL:
    cast = total;
    /* The unique most-voted option, if any. A checked proposal has at most
     * RULES_MAX_OPTIONS options; an index must in any case fit the winner. */
    for (i = 0; i < n_counts; i++) {
      if (i == 0 || counts[i] > top_votes) {
        top_idx = i;
        top_votes = counts[i];
        tie = 0;
      } else if (counts[i] == top_votes) {
        tie = 1;
      }
    }
    if (n_counts > 0 && !tie && top_idx <= INT32_MAX)
      top = (int32_t)top_idx;
    threshold_held = cast > 0 && top >= 0 &&
                     rules_threshold_met(rule->threshold, top_votes, cast);
    break;
  default:
    threshold_held = 0;
    break;
  }

  /* Turnout: ballots * 1000 >= turnout_permille * roll. */
  turnout_held = rules_cmp_products(total, 1000, rule->turnout_permille, roll) >= 0;

  /* Group quorums. */
  if (rule->n_group_quorums > 0 && rule->group_quorums) {
    gq = calloc(rule->n_group_quorums, sizeof *gq);
    if (!gq)
      goto out;
    gq_len = rule->n_group_quorums;
    for (n_gq = 0; n_gq < rule->n_group_quorums; n_gq++) {
      g = rule->group_quorums[n_gq];
      res = malloc(sizeof *res);
      if (!res)
        goto out;
      councilnet__group_quorum_result__init(res);
      gq[n_gq] = res;
      res->group = strdup(g && g->group ? g->group : "");
      if (!res->group) {
        res->group = (char *)protobuf_c_empty_string;
        goto out;
      }
      res->share_permille = g ? g->share_permille : 0;
      for (i = 0; i < n_ballots; i++)
        if (rules_ballot_in_group(&ballots[i], res->group))
          res->votes += rules_weight(&ballots[i]);
      res->held = total > 0 &&
                  rules_cmp_products(res->votes, 1000, res->share_permille, total) >= 0;
      if (!res->held)
        groups_held = 0;
    }
  }

  passed = threshold_held && turnout_held && groups_held;
  if (p->option_kind == COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN)
    winner = passed ? 0 : (!threshold_held ? 1 : -1);
  else if (passed)
    winner = top;

  out->n_counts = n_counts;
  out->counts = counts;
  counts = NULL;
  out->ballots = n_ballots;
  out->paper = paper;
  out->roll = roll;
  out->cast = cast;
  out->turnout_held = turnout_held;
  out->n_group_quorums = n_gq;
  out->group_quorums = gq;
  gq = NULL;
  out->threshold_held = threshold_held;
  out->passed = passed;
  out->winner = winner;
  rc = 0;
out:
  free(counts);
  rules_free_group_results(gq, gq_len);
  return rc;
}

void cn_rules_decision_clear(Councilnet__Decision *d)
{
  if (!d)
    return;
  free(d->counts);
  d->counts = NULL;
  d->n_counts = 0;
  rules_free_group_results(d->group_quorums, d->n_group_quorums);
  d->group_quorums = NULL;
  d->n_group_quorums = 0;
}
