/* cmd_proposals.c: `council proposal new|list|show` and `council decision show`. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "args.h"
#include "councilnet/rules.h"
#include "view.h"

#define DEFAULT_DURATION (7u * 24u * 3600u)
#define MAX_SEATS 64             /* the node's limit per selection */
#define SHORT_NAME_BYTES 8       /* a candidate's default name: this many key bytes, in hex */

static const char proposal_new_usage[] =
  "Usage: council proposal new --title T [options] --key KEY\n"
  "\n"
  "Put a proposal to the assembly. Prints the proposal id and the receipt's\n"
  "seq (--json: the Receipt; its record_id is the proposal id).\n"
  "\n"
  "  --title T                  the question (required)\n"
  "  --text X                   longer explanation\n"
  "  --options SPEC             yes-no (default), one-of:A,B,C or approval:A,B,C\n"
  "  --opens TIME|now           start of the voting window (default now)\n"
  "  --closes TIME              end of the window (seconds since the epoch)\n"
  "  --duration SECONDS         or: window length (default 604800, 7 days)\n"
  "  --threshold RULE           majority (default), two-thirds, unanimity, plurality\n"
  "  --turnout PERCENT          share of the roll that must vote (e.g. 50 or 33.3)\n"
  "  --group-quorum G:PERCENT   share of ballots that must come from group G\n"
  "                             (repeatable)\n"
  "  --replace                  a later ballot replaces an earlier one\n"
  "  --weight-by-roll           at a parent council: a child council's ballot\n"
  "                             (from its delegate's mandate) weighs the people\n"
  "                             it speaks for, not one vote per council\n"
  "  --key FILE                 the author's key file (env COUNCIL_KEY)\n"
  "\n"
  "A delegate selection (the node issues a credential to each delegate chosen):\n"
  "  --select vote|lot          by vote among candidates, or by lot among the\n"
  "                             members who volunteer during the window\n"
  "  --seats N                  delegates to choose, 1 to 64 (default 1)\n"
  "  --parent KEY               the parent node's key the credentials are for\n"
  "                             (required)\n"
  "  --candidate KEY[:NAME]     vote: a candidate member and the option's name\n"
  "                             (default: the key's first 16 hex digits);\n"
  "                             repeatable, at least 2. The options become\n"
  "                             one-of:NAMES unless --options approval[:NAMES]\n"
  "  --quota GROUP:N            lot: at least N seats go to members of GROUP\n"
  "                             (repeatable)\n"
  "  --term-start TIME|now      start of the term (default: when the window closes)\n"
  "  --term-end TIME            end of the term (seconds since the epoch), or\n"
  "  --term-days D              the term's length in days\n"
  CN_CLI_COMMON_USAGE;

static const char proposal_list_usage[] =
  "Usage: council proposal list\n"
  "\n"
  "List the node's proposals: id, state, ballots so far, closing time, title.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char proposal_show_usage[] =
  "Usage: council proposal show ID\n"
  "\n"
  "Show proposal ID (64 hex digits): text, options, window, rule, ballots so\n"
  "far, and the decision once closed. A decision that keeps its child\n"
  "councils' ballots in records of its own: as council decision show.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char decision_show_usage[] =
  "Usage: council decision show ID\n"
  "\n"
  "Fetch the decision on proposal ID, check the node's signature on it, and\n"
  "print the counts per option, turnout, threshold, group quorums and the\n"
  "outcome; at a parent council also each child council's contribution\n"
  "(its choice, its weight, and the mandate or delegate ballot it came by).\n"
  "With some 800 councils and more, the decision lists their ballots in\n"
  "records of their own (contributions, parts 1 to N): each is fetched and\n"
  "checked (signed by the node, this decision's part K of N); a part that\n"
  "cannot be fetched or does not check is named, and the exit status is 1.\n"
  "--json prints the Decision as the node signed it (contribution_records:\n"
  "the record ids of the parts, GET /v1/records/ID).\n"
  "\n"
  CN_CLI_COMMON_USAGE;

/* The group quorums given on the command line. */
typedef struct quorum_args_t {
  cn_args_list_t groups;
  uint32_t *permille;
  Councilnet__GroupQuorum *msgs;
  Councilnet__GroupQuorum **ptrs;
} quorum_args_t;

static void quorum_args_clear(quorum_args_t *q)
{
  cn_args_list_clear(&q->groups);
  free(q->permille);
  free(q->msgs);
  free(q->ptrs);
  memset(q, 0, sizeof *q);
}

static int quorum_args_add(quorum_args_t *q, const char *arg, const char **why)
{
  char *group = NULL;
  uint32_t pm = 0, *p;
  char **items;

  if (cn_args_parse_group_quorum(arg, &group, &pm, why) < 0)
    return -1;
  *why = "out of memory";
  p = realloc(q->permille, (q->groups.n + 1) * sizeof *p);
  if (!p)
    goto fail;
  q->permille = p;
  items = realloc(q->groups.items, (q->groups.n + 1) * sizeof *items);
  if (!items)
    goto fail;
  q->groups.items = items;
  q->permille[q->groups.n] = pm;
  q->groups.items[q->groups.n++] = group;
  *why = NULL;
  return 0;
fail:
  free(group);
  return -1;
}

/* Build the GroupQuorum messages into RULE. Return 0 or -1. */
static int quorum_args_build(quorum_args_t *q, Councilnet__Rule *rule)
{
  size_t i, n = q->groups.n;

  if (n == 0)
    return 0;
  q->msgs = calloc(n, sizeof *q->msgs);
  q->ptrs = calloc(n, sizeof *q->ptrs);
  if (!q->msgs || !q->ptrs)
    return -1;
  for (i = 0; i < n; i++) {
    Councilnet__GroupQuorum init = COUNCILNET__GROUP_QUORUM__INIT;
    q->msgs[i] = init;
    q->msgs[i].group = q->groups.items[i];
    q->msgs[i].share_permille = q->permille[i];
    q->ptrs[i] = &q->msgs[i];
  }
  rule->group_quorums = q->ptrs;
  rule->n_group_quorums = n;
  return 0;
}

/* The selection's candidates (--candidate) and quotas (--quota). */
typedef struct selection_args_t {
  uint8_t (*keys)[CN_PK_BYTES];
  cn_args_list_t names;         /* one per candidate; NULL where none was given */
  ProtobufCBinaryData *key_bins;
  cn_args_list_t option_names;  /* the proposal's options, built from the candidates */
  cn_args_list_t quota_groups;
  uint32_t *quota_seats;
  Councilnet__GroupQuota *quota_msgs;
  Councilnet__GroupQuota **quota_ptrs;
} selection_args_t;

static void selection_args_clear(selection_args_t *s)
{
  free(s->keys);
  cn_args_list_clear(&s->names);
  free(s->key_bins);
  cn_args_list_clear(&s->option_names);
  cn_args_list_clear(&s->quota_groups);
  free(s->quota_seats);
  free(s->quota_msgs);
  free(s->quota_ptrs);
  memset(s, 0, sizeof *s);
}

static int selection_add_candidate(selection_args_t *s, const char *arg, const char **why)
{
  uint8_t key[CN_PK_BYTES], (*keys)[CN_PK_BYTES];
  char *name = NULL, **names;
  size_t i;

  if (cn_args_parse_candidate(arg, key, &name, why) < 0)
    return -1;
  for (i = 0; i < s->names.n; i++) {
    if (memcmp(s->keys[i], key, CN_PK_BYTES) == 0) {
      *why = "the same candidate is named twice";
      goto fail;
    }
  }
  *why = "out of memory";
  keys = realloc(s->keys, (s->names.n + 1) * sizeof *keys);
  if (!keys)
    goto fail;
  s->keys = keys;
  names = realloc(s->names.items, (s->names.n + 1) * sizeof *names);
  if (!names)
    goto fail;
  s->names.items = names;
  memcpy(s->keys[s->names.n], key, CN_PK_BYTES);
  s->names.items[s->names.n++] = name;
  *why = NULL;
  return 0;
fail:
  free(name);
  return -1;
}

static int selection_add_quota(selection_args_t *s, const char *arg, const char **why)
{
  char *group = NULL, **groups;
  uint32_t seats = 0, *p;
  size_t i;

  if (cn_args_parse_quota(arg, MAX_SEATS, &group, &seats, why) < 0)
    return -1;
  for (i = 0; i < s->quota_groups.n; i++) {
    if (strcmp(s->quota_groups.items[i], group) == 0) {
      *why = "the same group has two quotas";
      goto fail;
    }
  }
  *why = "out of memory";
  p = realloc(s->quota_seats, (s->quota_groups.n + 1) * sizeof *p);
  if (!p)
    goto fail;
  s->quota_seats = p;
  groups = realloc(s->quota_groups.items, (s->quota_groups.n + 1) * sizeof *groups);
  if (!groups)
    goto fail;
  s->quota_groups.items = groups;
  s->quota_seats[s->quota_groups.n] = seats;
  s->quota_groups.items[s->quota_groups.n++] = group;
  *why = NULL;
  return 0;
fail:
  free(group);
  return -1;
}

/* Make the candidates' option names (given or short keys) into S->option_names.
 * Return 0, or -1 with a reason in *WHY. */
static int selection_option_names(selection_args_t *s, const char **why)
{
  char hex[2 * SHORT_NAME_BYTES + 1];
  size_t i, j;

  *why = "out of memory";
  s->option_names.items = calloc(s->names.n + 1, sizeof *s->option_names.items);
  if (!s->option_names.items)
    return -1;
  for (i = 0; i < s->names.n; i++) {
    cn_hex_encode(hex, s->keys[i], SHORT_NAME_BYTES);
    s->option_names.items[i] = strdup(s->names.items[i] ? s->names.items[i] : hex);
    if (!s->option_names.items[i])
      return -1;
    s->option_names.n++;
  }
  for (i = 0; i < s->option_names.n; i++) {
    for (j = 0; j < i; j++) {
      if (strcmp(s->option_names.items[i], s->option_names.items[j]) == 0) {
        *why = "two candidates have the same name";
        return -1;
      }
    }
  }
  *why = NULL;
  return 0;
}

/* Point SEL's candidates and quotas at S's. Return 0 or -1. */
static int selection_build(selection_args_t *s, Councilnet__Selection *sel)
{
  size_t i, n = s->quota_groups.n;

  if (s->names.n) {
    s->key_bins = calloc(s->names.n, sizeof *s->key_bins);
    if (!s->key_bins)
      return -1;
    for (i = 0; i < s->names.n; i++) {
      s->key_bins[i].data = s->keys[i];
      s->key_bins[i].len = CN_PK_BYTES;
    }
    sel->candidates = s->key_bins;
    sel->n_candidates = s->names.n;
  }
  if (n) {
    s->quota_msgs = calloc(n, sizeof *s->quota_msgs);
    s->quota_ptrs = calloc(n, sizeof *s->quota_ptrs);
    if (!s->quota_msgs || !s->quota_ptrs)
      return -1;
    for (i = 0; i < n; i++) {
      Councilnet__GroupQuota init = COUNCILNET__GROUP_QUOTA__INIT;
      s->quota_msgs[i] = init;
      s->quota_msgs[i].group = s->quota_groups.items[i];
      s->quota_msgs[i].min_seats = s->quota_seats[i];
      s->quota_ptrs[i] = &s->quota_msgs[i];
    }
    sel->quotas = s->quota_ptrs;
    sel->n_quotas = n;
  }
  return 0;
}

/* A selection by vote: check the candidates against SEATS and set BODY's
 * option kind and the option names (OPTIONS) from OPTIONS_SPEC (NULL,
 * "one-of", "approval", or either with names) or the candidates' names.
 * Return a CN_EXIT_ status (usage errors printed). */
static int vote_options(cn_cli_t *cli, selection_args_t *sa, uint64_t seats,
                        const char *options_spec, Councilnet__Proposal *body,
                        cn_args_list_t *options)
{
  const char *why = NULL;
  size_t i;
  int named = 0;

  for (i = 0; i < sa->names.n; i++)
    named |= sa->names.items[i] != NULL;
  if (sa->quota_groups.n)
    return cn_cli_usage_error(cli, "--quota goes with --select lot");
  if (sa->names.n < 2)
    return cn_cli_usage_error(cli, "--select vote needs at least 2 candidates "
                              "(--candidate KEY[:NAME], repeatable)");
  if (seats > sa->names.n)
    return cn_cli_usage_error(cli, "--seats: more seats than candidates");
  body->option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
  if (options_spec && strcmp(options_spec, "approval") == 0) {
    body->option_kind = COUNCILNET__OPTION_KIND__APPROVAL;
  } else if (options_spec && strcmp(options_spec, "one-of") != 0) {
    if (cn_args_parse_options(options_spec, &body->option_kind, options, &why) < 0)
      return cn_cli_usage_error(cli, "--options: %s", why);
    if (body->option_kind == COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN)
      return cn_cli_usage_error(cli, "--options: a selection by vote takes one-of or approval");
    if (options->n != sa->names.n)
      return cn_cli_usage_error(cli, "--options: give one name per candidate (%zu)",
                                sa->names.n);
    if (named)
      return cn_cli_usage_error(cli, "name the candidates in --candidate KEY:NAME or in "
                                "--options, not both");
  }
  if (!options->n) {
    if (selection_option_names(sa, &why) < 0)
      return cn_cli_usage_error(cli, "--candidate: %s", why);
    *options = sa->option_names;
    sa->option_names.items = NULL;
    sa->option_names.n = 0;
  }
  return CN_EXIT_OK;
}

/* A selection by lot: no candidates, no options, quotas within SEATS.
 * Return a CN_EXIT_ status (usage errors printed). */
static int lot_options(cn_cli_t *cli, const selection_args_t *sa, uint64_t seats,
                       const char *options_spec, Councilnet__Proposal *body)
{
  size_t i;

  if (sa->names.n)
    return cn_cli_usage_error(cli, "--candidate goes with --select vote; "
                              "for a lot members volunteer");
  if (options_spec && strcmp(options_spec, "yes-no") != 0
      && strcmp(options_spec, "yes-no-abstain") != 0)
    return cn_cli_usage_error(cli, "--options: a selection by lot takes no options");
  for (i = 0; i < sa->quota_groups.n; i++)
    if (sa->quota_seats[i] > seats)
      return cn_cli_usage_error(cli, "--quota %s: more seats than the selection has",
                                sa->quota_groups.items[i]);
  body->option_kind = COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN;
  return CN_EXIT_OK;
}

int cn_cmd_proposal_new(cn_cli_t *cli, int argc, char **argv)
{
  enum {
    OPT_TITLE = CN_OPT_FIRST_LOCAL, OPT_TEXT, OPT_OPTIONS, OPT_OPENS, OPT_CLOSES,
    OPT_DURATION, OPT_THRESHOLD, OPT_TURNOUT, OPT_GROUP_QUORUM, OPT_REPLACE,
    OPT_WEIGHT_BY_ROLL, OPT_SELECT, OPT_SEATS, OPT_PARENT, OPT_CANDIDATE, OPT_QUOTA, OPT_TERM_START,
    OPT_TERM_END, OPT_TERM_DAYS
  };
  static const struct option opts[] = {
    {"title", required_argument, NULL, OPT_TITLE},
    {"text", required_argument, NULL, OPT_TEXT},
    {"options", required_argument, NULL, OPT_OPTIONS},
    {"opens", required_argument, NULL, OPT_OPENS},
    {"closes", required_argument, NULL, OPT_CLOSES},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"turnout", required_argument, NULL, OPT_TURNOUT},
    {"group-quorum", required_argument, NULL, OPT_GROUP_QUORUM},
    {"replace", no_argument, NULL, OPT_REPLACE},
    {"weight-by-roll", no_argument, NULL, OPT_WEIGHT_BY_ROLL},
    {"select", required_argument, NULL, OPT_SELECT},
    {"seats", required_argument, NULL, OPT_SEATS},
    {"parent", required_argument, NULL, OPT_PARENT},
    {"candidate", required_argument, NULL, OPT_CANDIDATE},
    {"quota", required_argument, NULL, OPT_QUOTA},
    {"term-start", required_argument, NULL, OPT_TERM_START},
    {"term-end", required_argument, NULL, OPT_TERM_END},
    {"term-days", required_argument, NULL, OPT_TERM_DAYS},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__Proposal body = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule rule = COUNCILNET__RULE__INIT;
  Councilnet__Selection selection = COUNCILNET__SELECTION__INIT;
  Councilnet__Receipt *receipt = NULL;
  cn_args_list_t options = {NULL, 0};
  quorum_args_t quorums;
  selection_args_t sa;
  uint8_t sk[CN_SK_BYTES], parent[CN_PK_BYTES];
  char id[2 * CN_HASH_BYTES + 1];
  const char *title = NULL, *text = NULL, *why = NULL, *options_spec = NULL, *select = NULL;
  const char *term_start_arg = NULL;
  uint64_t now = (uint64_t)time(NULL), opens = now, closes = 0, duration = DEFAULT_DURATION;
  uint64_t seats = 1, term_start = 0, term_end = 0, term_days = 0;
  int c, have_closes = 0, have_duration = 0, rc = CN_EXIT_LOCAL;
  int have_seats = 0, have_parent = 0, have_term_end = 0, have_term_days = 0;

  memset(&quorums, 0, sizeof quorums);
  memset(&sa, 0, sizeof sa);
  body.option_kind = COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN;
  cli->usage = proposal_new_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case OPT_TITLE:
      title = optarg;
      break;
    case OPT_TEXT:
      text = optarg;
      break;
    case OPT_OPTIONS:
      options_spec = optarg;
      break;
    case OPT_OPENS:
      if (cn_args_parse_time(optarg, now, &opens) < 0) {
        rc = cn_cli_usage_error(cli, "--opens: expected seconds since the epoch or \"now\"");
        goto out;
      }
      break;
    case OPT_CLOSES:
      if (cn_args_parse_time(optarg, now, &closes) < 0) {
        rc = cn_cli_usage_error(cli, "--closes: expected seconds since the epoch");
        goto out;
      }
      have_closes = 1;
      break;
    case OPT_DURATION:
      if (cn_args_parse_u64(optarg, &duration) < 0 || duration == 0) {
        rc = cn_cli_usage_error(cli, "--duration: expected a positive number of seconds");
        goto out;
      }
      have_duration = 1;
      break;
    case OPT_THRESHOLD:
      if (cn_args_parse_threshold(optarg, &rule.threshold) < 0) {
        rc = cn_cli_usage_error(cli, "--threshold: expected majority, two-thirds, "
                                "unanimity or plurality");
        goto out;
      }
      break;
    case OPT_TURNOUT:
      if (cn_args_parse_percent(optarg, &rule.turnout_permille) < 0) {
        rc = cn_cli_usage_error(cli, "--turnout: expected a percentage from 0 to 100");
        goto out;
      }
      break;
    case OPT_GROUP_QUORUM:
      if (quorum_args_add(&quorums, optarg, &why) < 0) {
        rc = cn_cli_usage_error(cli, "--group-quorum: %s", why);
        goto out;
      }
      break;
    case OPT_REPLACE:
      rule.replace = 1;
      break;
    case OPT_WEIGHT_BY_ROLL:
      rule.weight_by_roll = 1;
      break;
    case OPT_SELECT:
      if (strcmp(optarg, "vote") != 0 && strcmp(optarg, "lot") != 0) {
        rc = cn_cli_usage_error(cli, "--select: expected vote or lot");
        goto out;
      }
      select = optarg;
      break;
    case OPT_SEATS:
      if (cn_args_parse_u64(optarg, &seats) < 0 || seats == 0 || seats > MAX_SEATS) {
        rc = cn_cli_usage_error(cli, "--seats: expected a number from 1 to %d", MAX_SEATS);
        goto out;
      }
      have_seats = 1;
      break;
    case OPT_PARENT:
      if (cn_args_parse_hex32(optarg, parent) < 0) {
        rc = cn_cli_usage_error(cli, "--parent: expected the parent node's key "
                                "(%d hex digits)", 2 * CN_PK_BYTES);
        goto out;
      }
      have_parent = 1;
      break;
    case OPT_CANDIDATE:
      if (selection_add_candidate(&sa, optarg, &why) < 0) {
        rc = cn_cli_usage_error(cli, "--candidate: %s", why);
        goto out;
      }
      break;
    case OPT_QUOTA:
      if (selection_add_quota(&sa, optarg, &why) < 0) {
        rc = cn_cli_usage_error(cli, "--quota: %s", why);
        goto out;
      }
      break;
    case OPT_TERM_START:
      if (cn_args_parse_time(optarg, now, &term_start) < 0) {
        rc = cn_cli_usage_error(cli, "--term-start: expected seconds since the epoch or \"now\"");
        goto out;
      }
      term_start_arg = optarg;
      break;
    case OPT_TERM_END:
      if (cn_args_parse_time(optarg, now, &term_end) < 0) {
        rc = cn_cli_usage_error(cli, "--term-end: expected seconds since the epoch");
        goto out;
      }
      have_term_end = 1;
      break;
    case OPT_TERM_DAYS:
      if (cn_args_parse_u64(optarg, &term_days) < 0 || term_days == 0
          || term_days > 100u * 366u) {
        rc = cn_cli_usage_error(cli, "--term-days: expected a positive number of days");
        goto out;
      }
      have_term_days = 1;
      break;
    default:
      if (cn_cli_common_option(cli, c, optarg) <= 0)
        goto out;
    }
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  if (!title || !*title) {
    rc = cn_cli_usage_error(cli, "--title is required");
    goto out;
  }
  if (have_closes && have_duration) {
    rc = cn_cli_usage_error(cli, "give --closes or --duration, not both");
    goto out;
  }
  if (!have_closes) {
    if (opens > UINT64_MAX - duration) {
      rc = cn_cli_usage_error(cli, "--duration: too long");
      goto out;
    }
    closes = opens + duration;
  }
  if (!select && (have_seats || have_parent || sa.names.n || sa.quota_groups.n || term_start_arg
                  || have_term_end || have_term_days)) {
    rc = cn_cli_usage_error(cli, "--seats, --parent, --candidate, --quota and --term-* "
                            "go with --select vote|lot");
    goto out;
  }
  if (select) {
    rc = CN_EXIT_LOCAL;
    if (!have_parent) {
      rc = cn_cli_usage_error(cli, "--select needs --parent KEY");
      goto out;
    }
    if (have_term_end == have_term_days) {
      rc = cn_cli_usage_error(cli, "--select needs --term-end TIME or --term-days D (one of them)");
      goto out;
    }
    if (!term_start_arg)
      term_start = closes;
    if (have_term_days) {
      if (term_start > UINT64_MAX - term_days * 86400u) {
        rc = cn_cli_usage_error(cli, "--term-days: too long");
        goto out;
      }
      term_end = term_start + term_days * 86400u;
    }
    if (term_start >= term_end) {
      rc = cn_cli_usage_error(cli, "the term must start before it ends");
      goto out;
    }
    if (strcmp(select, "vote") == 0) {
      rc = vote_options(cli, &sa, seats, options_spec, &body, &options);
      selection.method = COUNCILNET__SELECTION_METHOD__BY_VOTE;
    } else {
      rc = lot_options(cli, &sa, seats, options_spec, &body);
      selection.method = COUNCILNET__SELECTION_METHOD__BY_LOT;
    }
    if (rc != CN_EXIT_OK)
      goto out;
    rc = CN_EXIT_LOCAL;
    selection.seats = (uint32_t)seats;
    selection.parent.data = parent;
    selection.parent.len = CN_PK_BYTES;
    selection.term_start = term_start;
    selection.term_end = term_end;
    if (selection_build(&sa, &selection) < 0) {
      cn_cli_errorf("out of memory");
      goto out;
    }
    body.selection = &selection;
  } else if (options_spec
             && cn_args_parse_options(options_spec, &body.option_kind, &options, &why) < 0) {
    rc = cn_cli_usage_error(cli, "--options: %s", why);
    goto out;
  }
  if (quorum_args_build(&quorums, &rule) < 0) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  body.title = (char *)title;
  if (text)
    body.text = (char *)text;
  body.options = options.items;
  body.n_options = options.n;
  body.opens = opens;
  body.closes = closes;
  body.rule = &rule;
  if (cn_rules_check_proposal(&body, &why) < 0) {
    rc = cn_cli_usage_error(cli, "%s", why ? why : "invalid proposal");
    goto out;
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  rc = cn_cli_post_record(cli, "proposal", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&receipt->base);
    goto out;
  }
  cn_cli_hex(id, sizeof id, &receipt->record_id, CN_HASH_BYTES);
  printf("%s\naccepted: seq %llu\n", id, (unsigned long long)receipt->seq);
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  sodium_memzero(sk, sizeof sk);
  cn_args_list_clear(&options);
  quorum_args_clear(&quorums);
  selection_args_clear(&sa);
  return rc;
}

/* Parse the options of a command that takes only the common ones, and
 * NPOS positional arguments. Return CN_EXIT_OK to go on; *DONE is set
 * when --help was answered. */
static int parse_plain(cn_cli_t *cli, int argc, char **argv, int npos, int *done)
{
  static const struct option opts[] = {
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  int c;

  *done = 0;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (cn_cli_common_option(cli, c, optarg) <= 0)
      return CN_EXIT_LOCAL;
  }
  if (cli->help) {
    *done = 1;
    return cn_cli_print_usage(cli);
  }
  if (argc - optind < npos)
    return cn_cli_usage_error(cli, "ID is required");
  if (argc - optind > npos)
    return cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + npos]);
  return CN_EXIT_OK;
}

int cn_cmd_proposal_list(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__ProposalList *list = NULL;
  char id[2 * CN_HASH_BYTES + 1], t[64];
  size_t i;
  int done, rc;

  cli->usage = proposal_list_usage;
  rc = parse_plain(cli, argc, argv, 0, &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  rc = cn_cli_get(cli, "/v1/proposals", &councilnet__proposal_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&list->base);
    goto out;
  }
  if (list->n_proposals == 0) {
    printf("no proposals\n");
    goto out;
  }
  printf("%-64s  %-8s %7s  %-23s  %s\n", "ID", "STATE", "BALLOTS", "CLOSES", "TITLE");
  for (i = 0; i < list->n_proposals; i++) {
    const Councilnet__ProposalView *v = list->proposals[i];
    cn_cli_hex(id, sizeof id, &v->id, CN_HASH_BYTES);
    if (v->proposal)
      cn_cli_format_time(t, sizeof t, v->proposal->closes);
    else
      snprintf(t, sizeof t, "-");
    printf("%-64s  %-8s %7llu  %-23s  %s\n", id, cn_view_state_name(v->state),
           (unsigned long long)v->ballots, t, v->proposal ? v->proposal->title : "");
  }
out:
  if (list)
    councilnet__proposal_list__free_unpacked(list, NULL);
  return rc;
}

/* GET /v1/proposals/ID. Return a CN_EXIT_ status. */
static int get_proposal(cn_cli_t *cli, const char *id_hex, Councilnet__ProposalView **out)
{
  char path[128];

  snprintf(path, sizeof path, "/v1/proposals/%s", id_hex);
  return cn_cli_get(cli, path, &councilnet__proposal_view__descriptor, (ProtobufCMessage **)out);
}

int cn_cmd_proposal_show(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__ProposalView *view = NULL;
  cn_contrib_t contrib;
  uint8_t id[CN_HASH_BYTES];
  int done, rc;

  memset(&contrib, 0, sizeof contrib);

  cli->usage = proposal_show_usage;
  rc = parse_plain(cli, argc, argv, 1, &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  rc = get_proposal(cli, argv[optind], &view);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&view->base);
    goto out;
  }
  if (view->decision && cn_contrib_gather(cli, view->decision, &contrib) != 0)
    rc = CN_EXIT_REFUSED;
  cn_view_print_proposal(stdout, view, &contrib);
  if (rc != CN_EXIT_OK)
    cn_cli_errorf("the decision's council ballots are incomplete: %s", contrib.error);
out:
  cn_contrib_clear(&contrib);
  if (view)
    councilnet__proposal_view__free_unpacked(view, NULL);
  return rc;
}

int cn_cmd_decision_show(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__ProposalView *view = NULL;
  Councilnet__Decision *d = NULL;
  Councilnet__MemberList *members = NULL;
  cn_http_resp_t resp;
  cn_contrib_t contrib;
  uint8_t id[CN_HASH_BYTES];
  char path[128], node_hex[2 * CN_PK_BYTES + 1];
  int done, rc, whole;

  memset(&resp, 0, sizeof resp);
  memset(&contrib, 0, sizeof contrib);
  cli->usage = decision_show_usage;
  rc = parse_plain(cli, argc, argv, 1, &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  snprintf(path, sizeof path, "/v1/decisions/%s", argv[optind]);
  rc = cn_cli_get_raw(cli, path, &resp);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_open_node_signed(cli, resp.body, resp.len, "decision",
                               &councilnet__decision__descriptor, (ProtobufCMessage **)&d);
  if (rc != CN_EXIT_OK)
    goto out;
  if (d->proposal.len != CN_HASH_BYTES || memcmp(d->proposal.data, id, CN_HASH_BYTES) != 0) {
    cn_cli_errorf("the node answered a decision on another proposal");
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  if (cli->json) {
    rc = cn_cli_print_json(&d->base);
    goto out;
  }
  rc = get_proposal(cli, argv[optind], &view);
  if (rc != CN_EXIT_OK)
    goto out;
  /* In records of their own for a large federation: each fetched and checked. */
  whole = cn_contrib_gather(cli, d, &contrib) == 0;
  /* Name the child councils that contributed; best effort, the keys do without. */
  if (contrib.n
      && cn_cli_get(cli, "/v1/members", &councilnet__member_list__descriptor,
                    (ProtobufCMessage **)&members) != CN_EXIT_OK)
    members = NULL;
  cn_view_print_decision_named(stdout, view->proposal, d, &contrib, members);
  cn_hex_encode(node_hex, cli->node_pk, CN_PK_BYTES);
  printf("Signature:  valid, by node %s\n", node_hex);
  if (!whole) {
    cn_cli_errorf("the decision's council ballots are incomplete: %s", contrib.error);
    rc = CN_EXIT_REFUSED;
  }
out:
  cn_contrib_clear(&contrib);
  if (members)
    councilnet__member_list__free_unpacked(members, NULL);
  if (view)
    councilnet__proposal_view__free_unpacked(view, NULL);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  cn_http_resp_clear(&resp);
  return rc;
}
