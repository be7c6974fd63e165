/* view.c: human-readable printing of proposals and decisions (see view.h). */
#include "view.h"

#include <stdint.h>
#include <string.h>

#include "args.h"
#include "cli.h"

static const char *const yes_no_abstain[] = {"yes", "no", "abstain"};

const char *cn_view_option_name(const Councilnet__Proposal *p, size_t i)
{
  if (!p)
    return NULL;
  if (p->option_kind == COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN)
    return i < 3 ? yes_no_abstain[i] : NULL;
  return i < p->n_options ? p->options[i] : NULL;
}

const char *cn_view_state_name(Councilnet__ProposalState s)
{
  switch (s) {
  case COUNCILNET__PROPOSAL_STATE__UPCOMING:
    return "upcoming";
  case COUNCILNET__PROPOSAL_STATE__OPEN:
    return "open";
  case COUNCILNET__PROPOSAL_STATE__CLOSED:
    return "closed";
  default:
    return "?";
  }
}

static const char *option_kind_name(Councilnet__OptionKind k)
{
  switch (k) {
  case COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN:
    return "yes / no / abstain";
  case COUNCILNET__OPTION_KIND__ONE_OF_N:
    return "one of";
  case COUNCILNET__OPTION_KIND__APPROVAL:
    return "approval (any set of)";
  default:
    return "?";
  }
}

static void print_permille(FILE *f, uint32_t pm)
{
  fprintf(f, "%u.%u%%", pm / 10, pm % 10);
}

static void print_rule(FILE *f, const Councilnet__Rule *r)
{
  size_t i;

  if (!r) {
    fprintf(f, "Rule:       majority (defaults)\n");
    return;
  }
  fprintf(f, "Rule:       %s of the votes cast", cn_args_threshold_name(r->threshold));
  if (r->turnout_permille > 0) {
    fprintf(f, "; turnout ");
    print_permille(f, r->turnout_permille);
    fprintf(f, " of the roll");
  }
  fprintf(f, "; %s\n", r->replace ? "a later ballot replaces an earlier one"
                                  : "one ballot per member");
  if (r->weight_by_roll)
    fprintf(f, "Weight:     a council's ballot weighs the people it speaks for (its roll)\n");
  for (i = 0; i < r->n_group_quorums; i++) {
    const Councilnet__GroupQuorum *g = r->group_quorums[i];
    fprintf(f, "Quorum:     group %s: ", g->group);
    print_permille(f, g->share_permille);
    fprintf(f, " of the ballots\n");
  }
}

static void print_selection(FILE *f, const Councilnet__Proposal *p)
{
  const Councilnet__Selection *sel = p->selection;
  char hex[2 * 32 + 1], t[64];
  size_t i;

  fprintf(f, "Selection:  %u seat%s, %s\n", sel->seats, sel->seats == 1 ? "" : "s",
          sel->method == COUNCILNET__SELECTION_METHOD__BY_LOT ? "by lot among volunteers"
                                                              : "by vote among candidates");
  cn_cli_hex(hex, sizeof hex, &sel->parent, 32);
  fprintf(f, "Parent:     %s\n", hex);
  cn_cli_format_time(t, sizeof t, sel->term_start);
  fprintf(f, "Term:       from %s (%llu)\n", t, (unsigned long long)sel->term_start);
  cn_cli_format_time(t, sizeof t, sel->term_end);
  fprintf(f, "            to   %s (%llu)\n", t, (unsigned long long)sel->term_end);
  for (i = 0; i < sel->n_candidates; i++) {
    const char *name = cn_view_option_name(p, i);
    cn_cli_hex(hex, sizeof hex, &sel->candidates[i], 32);
    fprintf(f, "%s%s  %s\n", i == 0 ? "Candidates: " : "            ", hex, name ? name : "?");
  }
  for (i = 0; i < sel->n_quotas; i++)
    fprintf(f, "Quota:      at least %u seat%s for group %s\n", sel->quotas[i]->min_seats,
            sel->quotas[i]->min_seats == 1 ? "" : "s", sel->quotas[i]->group);
}

void cn_view_print_proposal(FILE *f, const Councilnet__ProposalView *v,
                            const cn_contrib_t *contrib)
{
  const Councilnet__Proposal *p = v->proposal;
  char hex[2 * 32 + 1], t[64];
  size_t i, n;

  cn_cli_hex(hex, sizeof hex, &v->id, 32);
  fprintf(f, "Proposal:   %s\n", hex);
  if (!p) {
    fprintf(f, "(no proposal body)\n");
    return;
  }
  fprintf(f, "Title:      %s\n", p->title);
  if (p->text && *p->text)
    fprintf(f, "Text:       %s\n", p->text);
  cn_cli_hex(hex, sizeof hex, &v->author, 32);
  fprintf(f, "Author:     %s\n", hex);
  fprintf(f, "Seq:        %llu\n", (unsigned long long)v->seq);
  fprintf(f, "State:      %s\n", cn_view_state_name(v->state));
  if (p->selection)
    print_selection(f, p);
  if (!p->selection || p->selection->method != COUNCILNET__SELECTION_METHOD__BY_LOT) {
    fprintf(f, "Options:    %s\n", option_kind_name(p->option_kind));
    n = p->option_kind == COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN ? 3 : p->n_options;
    for (i = 0; i < n; i++)
      fprintf(f, "  %zu  %s\n", i, cn_view_option_name(p, i));
  }
  cn_cli_format_time(t, sizeof t, p->opens);
  fprintf(f, "Opens:      %s (%llu)\n", t, (unsigned long long)p->opens);
  cn_cli_format_time(t, sizeof t, p->closes);
  fprintf(f, "Closes:     %s (%llu)\n", t, (unsigned long long)p->closes);
  print_rule(f, p->rule);
  fprintf(f, "Ballots:    %llu\n", (unsigned long long)v->ballots);
  if (v->decision) {
    fprintf(f, "\n");
    cn_view_print_decision(f, p, v->decision, contrib);
  }
}

static void print_count_line(FILE *f, const Councilnet__Proposal *p, size_t i, uint64_t count,
                             int width)
{
  const char *name = cn_view_option_name(p, i);

  if (name)
    fprintf(f, "  %-*s %8llu\n", width, name, (unsigned long long)count);
  else
    fprintf(f, "  #%-*zu %8llu\n", width - 1, i, (unsigned long long)count);
}

/* The name MEMBERS give KEY, or NULL. */
static const char *member_name(const Councilnet__MemberList *members,
                               const ProtobufCBinaryData *key)
{
  size_t i;

  for (i = 0; members && i < members->n_members; i++) {
    const Councilnet__Member *m = members->members[i];
    if (m->key.len == key->len && key->len && memcmp(m->key.data, key->data, key->len) == 0)
      return m->name && *m->name ? m->name : NULL;
  }
  return NULL;
}

/* Each child council's ballot in C (a decision's contributions): council,
 * choices, weight, and the mandate or delegate ballot it came by. */
static void print_contributions(FILE *f, const Councilnet__Proposal *p, const cn_contrib_t *cs,
                                const Councilnet__MemberList *members)
{
  char key[2 * 8 + 1], via[2 * 8 + 1];
  size_t i, j;

  fprintf(f, "Councils:   %zu council ballot%s%s%s\n", cs->n, cs->n == 1 ? "" : "s",
          cs->complete ? "" : " shown",
          p && p->rule && p->rule->weight_by_roll ? ", each weighing the people it speaks for"
                                                  : "");
  if (cs->records && cs->complete)
    fprintf(f, "            (listed in %zu records of their own, each signed by the node and "
            "checked)\n", cs->records);
  else if (cs->records)
    fprintf(f, "            INCOMPLETE: %s\n", cs->error);
  for (i = 0; i < cs->n; i++) {
    const Councilnet__Contribution *c = cs->items[i];
    const char *name = member_name(members, &c->member);
    cn_cli_hex(key, sizeof key, &c->member, 8);
    cn_cli_hex(via, sizeof via, &c->via, 8);
    fprintf(f, "  %-24.24s ", name ? name : key);
    for (j = 0; j < c->n_choices; j++) {
      const char *opt = cn_view_option_name(p, c->choices[j]);
      if (opt)
        fprintf(f, "%s%s", j ? ", " : "", opt);
      else
        fprintf(f, "%s#%u", j ? ", " : "", c->choices[j]);
    }
    if (c->n_choices == 0)
      fprintf(f, "(no choice)");
    fprintf(f, "  weight %llu  via %s", (unsigned long long)c->weight, via);
    if (name)
      fprintf(f, "  (council %s)", key);
    fprintf(f, "\n");
  }
}

void cn_view_print_decision(FILE *f, const Councilnet__Proposal *p,
                            const Councilnet__Decision *d, const cn_contrib_t *contrib)
{
  cn_view_print_decision_named(f, p, d, contrib, NULL);
}

void cn_view_print_decision_named(FILE *f, const Councilnet__Proposal *p,
                                  const Councilnet__Decision *d, const cn_contrib_t *contrib,
                                  const Councilnet__MemberList *members)
{
  const Councilnet__Rule *rule = p ? p->rule : NULL;
  const char *winner = NULL;
  char hex[2 * 32 + 1], t[64];
  size_t i, len;
  int width = 8;
  cn_contrib_t own;

  /* not given: the decision's own list; parts not fetched count as missing */
  if (!contrib) {
    memset(&own, 0, sizeof own);
    own.items = (const Councilnet__Contribution *const *)d->contributions;
    own.n = d->n_contributions;
    own.records = d->n_contribution_records;
    own.complete = own.records == 0;
    snprintf(own.error, sizeof own.error, "listed in %zu records of their own, not fetched here"
             " (council decision show fetches them)", own.records);
    contrib = &own;
  }

  cn_cli_hex(hex, sizeof hex, &d->proposal, 32);
  fprintf(f, "Decision on %s\n", hex);
  if (p)
    fprintf(f, "Title:      %s\n", p->title);
  if (p && p->selection) {
    fprintf(f, "Result:     %s, %zu of %u seat%s filled %s\n", d->passed ? "PASSED" : "FAILED",
            d->n_selected, p->selection->seats, p->selection->seats == 1 ? "" : "s",
            p->selection->method == COUNCILNET__SELECTION_METHOD__BY_LOT ? "by lot" : "by vote");
    for (i = 0; i < d->n_selected; i++) {
      cn_cli_hex(hex, sizeof hex, &d->selected[i], 32);
      fprintf(f, "%s%zu. %s\n", i == 0 ? "Selected:   " : "            ", i + 1, hex);
    }
    if (p->selection->method == COUNCILNET__SELECTION_METHOD__BY_LOT) {
      fprintf(f, "Volunteers: %zu%s\n", d->n_volunteers, d->too_few_volunteers
              ? " (too few: a lot draws from more volunteers than seats)" : "");
      cn_cli_hex(hex, sizeof hex, &d->seed, 32);
      fprintf(f, "Seed:       %s (council sortition verify rechecks the draw)\n", hex);
      if (d->lot_signature.len) {
        char sig[2 * 64 + 1];
        cn_cli_hex(sig, sizeof sig, &d->lot_signature, 64);
        fprintf(f, "Lot sig:    %s\n", sig);
      } else {
        /* made before nodes signed the lot: say what that means */
        fprintf(f, "Lot sig:    none (the last record before the close could steer this seed)\n");
      }
      if (d->created) {
        cn_cli_format_time(t, sizeof t, d->created);
        fprintf(f, "Decided:    %s\n", t);
      }
      return;
    }
  } else if (d->winner >= 0) {
    winner = cn_view_option_name(p, (size_t)d->winner);
    if (winner)
      fprintf(f, "Result:     %s, winner: %s\n", d->passed ? "PASSED" : "FAILED", winner);
    else
      fprintf(f, "Result:     %s, winner: option %d\n", d->passed ? "PASSED" : "FAILED",
              (int)d->winner);
  } else {
    fprintf(f, "Result:     %s, no winner\n", d->passed ? "PASSED" : "FAILED");
  }
  for (i = 0; i < d->n_counts; i++) {
    const char *name = cn_view_option_name(p, i);
    len = name ? strlen(name) : 4;
    if (len > (size_t)width && len < 40)
      width = (int)len;
  }
  fprintf(f, "Counts:\n");
  for (i = 0; i < d->n_counts; i++)
    print_count_line(f, p, i, d->counts[i], width);
  fprintf(f, "Ballots:    %llu (%llu on paper)\n", (unsigned long long)d->ballots,
          (unsigned long long)d->paper);
  if (rule && rule->weight_by_roll)
    fprintf(f, "Roll:       %llu people, through the member councils\n",
            (unsigned long long)d->roll);
  else
    fprintf(f, "Roll:       %llu members\n", (unsigned long long)d->roll);
  fprintf(f, "Cast:       %llu votes count toward the threshold\n",
          (unsigned long long)d->cast);
  if (rule && rule->weight_by_roll && !contrib->complete) {
    /* the people the missing council ballots speak for are not known */
    fprintf(f, "Turnout:    %s (%llu ballots, the people they speak for not known (council "
            "ballots incomplete), of %llu people", d->turnout_held ? "held" : "NOT held",
            (unsigned long long)d->ballots, (unsigned long long)d->roll);
  } else if (rule && rule->weight_by_roll) {
    /* Weighted: a council's ballot counts the people it speaks for. */
    uint64_t weight = d->ballots > contrib->n ? d->ballots - contrib->n : 0;
    for (i = 0; i < contrib->n; i++)
      weight += contrib->items[i]->weight;
    fprintf(f, "Turnout:    %s (%llu ballots speaking for %llu of %llu people",
            d->turnout_held ? "held" : "NOT held", (unsigned long long)d->ballots,
            (unsigned long long)weight, (unsigned long long)d->roll);
  } else {
    fprintf(f, "Turnout:    %s (%llu ballots from a roll of %llu",
            d->turnout_held ? "held" : "NOT held", (unsigned long long)d->ballots,
            (unsigned long long)d->roll);
  }
  if (rule && rule->turnout_permille > 0) {
    fprintf(f, "; ");
    print_permille(f, rule->turnout_permille);
    fprintf(f, " required");
  }
  fprintf(f, ")\n");
  fprintf(f, "Threshold:  %s", d->threshold_held ? "held" : "NOT held");
  if (p)
    fprintf(f, " (%s)", cn_args_threshold_name(rule ? rule->threshold
                                                    : COUNCILNET__THRESHOLD__MAJORITY));
  fprintf(f, "\n");
  for (i = 0; i < d->n_group_quorums; i++) {
    const Councilnet__GroupQuorumResult *g = d->group_quorums[i];
    fprintf(f, "Quorum:     group %s: %s (%llu of %llu ballots; ", g->group,
            g->held ? "held" : "NOT held", (unsigned long long)g->votes,
            (unsigned long long)d->ballots);
    print_permille(f, g->share_permille);
    fprintf(f, " required)\n");
  }
  if (contrib->n || contrib->records)
    print_contributions(f, p, contrib, members);
  if (d->created) {
    cn_cli_format_time(t, sizeof t, d->created);
    fprintf(f, "Decided:    %s\n", t);
  }
}
