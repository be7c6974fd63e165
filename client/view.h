/* view.h: human-readable printing of proposals and decisions. */
#ifndef CN_CLIENT_VIEW_H
#define CN_CLIENT_VIEW_H

#include <stddef.h>
#include <stdio.h>

#include "councilnet.pb-c.h"

/* Return the name of option I of P ("yes", "no", "abstain" for
 * YES_NO_ABSTAIN), or NULL if I is out of range. */
const char *cn_view_option_name(const Councilnet__Proposal *p, size_t i);

/* Return "open", "closed" or "upcoming". */
const char *cn_view_state_name(Councilnet__ProposalState s);

/* Print the proposal V in full to F. */
void cn_view_print_proposal(FILE *f, const Councilnet__ProposalView *v);

/* Print decision D on proposal P (P may be NULL: options shown by index) to F. */
void cn_view_print_decision(FILE *f, const Councilnet__Proposal *p,
                            const Councilnet__Decision *d);

/* As cn_view_print_decision(), naming the child councils that contributed
 * from the node's roll MEMBERS (may be NULL: councils shown by key). */
void cn_view_print_decision_named(FILE *f, const Councilnet__Proposal *p,
                                  const Councilnet__Decision *d,
                                  const Councilnet__MemberList *members);

#endif
