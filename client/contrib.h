/* contrib.h: the child councils' ballots a decision records (its
 * contributions): listed in the decision itself, or, for a decision of
 * some 800 councils and more, in "contributions" records of their own that
 * the decision names (Decision.contribution_records), fetched here and
 * checked one by one. */
#ifndef CN_CLIENT_CONTRIB_H
#define CN_CLIENT_CONTRIB_H

#include <stddef.h>

#include "cli.h"

typedef struct cn_contrib_t {
  const Councilnet__Contribution *const *items;  /* every contribution, in order */
  size_t n;
  size_t records;           /* the decision's contribution records (0: inline) */
  int complete;             /* all of them are here and checked */
  char error[320];          /* if not complete: which part, and why */
  /* private */
  Councilnet__DecisionContributions **parts_;
  size_t n_parts_;
  const Councilnet__Contribution **all_;
} cn_contrib_t;

/* Gather decision D's contributions into OUT. A decision that names
 * contribution records: fetch each from CLI's node (GET /v1/records/ID,
 * its hash checked) and check it is a "contributions" record signed by
 * the node key (cli->node_pk, fetched if not known) that names D's node,
 * proposal and creation time and is part K of N, K its place in D's list
 * and N the list's length. The first part that cannot be fetched or does
 * not check stops the gathering: OUT->error says which and why (the
 * reason from the node printed on stderr too), OUT keeps the parts before
 * it. Return 0 when complete, -1 otherwise (an error on the way also
 * leaves OUT valid). Clear OUT with cn_contrib_clear(). */
int cn_contrib_gather(cn_cli_t *cli, const Councilnet__Decision *d, cn_contrib_t *out);

/* Free what cn_contrib_gather() kept. Accepts NULL and a zeroed OUT. */
void cn_contrib_clear(cn_contrib_t *c);

#endif
