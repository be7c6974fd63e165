/* view.h: human-readable printing of proposals and decisions. */
#ifndef CN_CLIENT_VIEW_H
#define CN_CLIENT_VIEW_H

#include <stddef.h>
#include <stdio.h>

#include "councilnet.pb-c.h"
#include "contrib.h"

/* Return the name of option I of P ("yes", "no", "abstain" for
 * YES_NO_ABSTAIN), or NULL if I is out of range. */
const char *cn_view_option_name(const Councilnet__Proposal *p, size_t i);

/* Return "open", "closed" or "upcoming". */
const char *cn_view_state_name(Councilnet__ProposalState s);

/* Print the proposal V in full to F; its decision's contributions as
 * cn_view_print_decision() takes them. */
void cn_view_print_proposal(FILE *f, const Councilnet__ProposalView *v,
                            const cn_contrib_t *contrib);

/* Print decision D on proposal P (P may be NULL: options shown by index) to
 * F, with the child councils' ballots CONTRIB as cn_contrib_gather() got
 * them (NULL: D's own list; a list D keeps in records of its own then
 * shows as not fetched). An incomplete list is said to be so. */
void cn_view_print_decision(FILE *f, const Councilnet__Proposal *p,
                            const Councilnet__Decision *d, const cn_contrib_t *contrib);

/* As cn_view_print_decision(), naming the child councils that contributed
 * from the node's roll MEMBERS (may be NULL: councils shown by key). */
void cn_view_print_decision_named(FILE *f, const Councilnet__Proposal *p,
                                  const Councilnet__Decision *d, const cn_contrib_t *contrib,
                                  const Councilnet__MemberList *members);

#endif
