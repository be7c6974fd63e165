/* rules.h: tallying a proposal. Pure functions, no I/O. */
#ifndef COUNCILNET_RULES_H
#define COUNCILNET_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet.pb-c.h"

/* One counted ballot. GROUPS are the voter's group labels at close. */
typedef struct cn_tally_ballot_t {
  const uint32_t *choices;
  size_t n_choices;
  char *const *groups;
  size_t n_groups;
  int paper;                    /* 1 if clerk-entered */
  uint64_t weight;              /* 0 or 1: one vote; a child council may weigh more */
} cn_tally_ballot_t;

/* Return the number of options of P (3 for YES_NO_ABSTAIN). */
size_t cn_rules_option_count(const Councilnet__Proposal *p);

/* Check a ballot's choices against P: exactly one in-range choice for
 * YES_NO_ABSTAIN and ONE_OF_N; for APPROVAL a set (no repeats) of in-range
 * choices, possibly empty. Return 0 if valid, -1 if not. */
int cn_rules_check_choices(const Councilnet__Proposal *p, const uint32_t *choices, size_t n);

/* Check a proposal is well-formed: title present, ONE_OF_N and APPROVAL have
 * 2..64 options, YES_NO_ABSTAIN has none, opens < closes, permille <= 1000,
 * group names non-empty. Return 0 or -1 and a reason in WHY. */
int cn_rules_check_proposal(const Councilnet__Proposal *p, const char **why);

/* Tally BALLOTS (one per member) for P with ROLL members on the roll, and
 * fill OUT's counts, ballots, paper, roll, cast, turnout_held,
 * group_quorums, threshold_held, passed and winner. OUT's node, created and
 * proposal are left to the caller. OUT must be initialised
 * (COUNCILNET__DECISION__INIT); free its arrays with cn_rules_decision_clear().
 * Return 0, or -1 on allocation failure.
 *
 * Semantics:
 *  - YES_NO_ABSTAIN: cast = yes + no; abstentions count for turnout only.
 *    MAJORITY yes*2 > cast; TWO_THIRDS yes*3 >= cast*2 and cast > 0;
 *    UNANIMITY yes == cast and cast > 0; PLURALITY yes > no.
 *    winner = 0 (yes) if passed, 1 (no) if the threshold failed, else -1.
 *  - ONE_OF_N: cast = ballots. top = the most-voted option (ties: none).
 *    MAJORITY top*2 > cast; TWO_THIRDS top*3 >= cast*2; UNANIMITY top == cast;
 *    PLURALITY top strictly above every other; all need cast > 0 and a unique top.
 *  - APPROVAL: cast = ballots; top = option with most approvals, unique;
 *    thresholds as ONE_OF_N applied to the top option's approvals.
 *  - turnout held: ballots*1000 >= turnout_permille*roll.
 *  - group quorum held: votes_from_group*1000 >= share_permille*ballots and ballots > 0.
 *  - weights: every "ballots" and "votes" above counts a ballot's weight
 *    (1 unless set), except OUT->ballots, which counts ballots; ROLL must
 *    then be in the same unit (the sum of the voters' possible weights).
 *  - passed = threshold_held && turnout_held && every group quorum held;
 *    winner = -1 unless passed (except YES_NO_ABSTAIN as above). */
int cn_rules_tally(const Councilnet__Proposal *p, const cn_tally_ballot_t *ballots,
                   size_t n_ballots, uint64_t roll, Councilnet__Decision *out);

/* Free the arrays cn_rules_tally() allocated in D and reset them. */
void cn_rules_decision_clear(Councilnet__Decision *d);

#endif
