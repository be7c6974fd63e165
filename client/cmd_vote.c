/* cmd_vote.c: `council vote`: a member's ballot, or a clerk's paper ballot. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "args.h"
#include "councilnet/rules.h"
#include "view.h"

static const char vote_usage[] =
  "Usage: council vote ID CHOICE... --key KEY\n"
  "       council vote ID CHOICE... --paper --member PUBKEY --key CLERK_KEY\n"
  "\n"
  "Vote on proposal ID (64 hex digits). CHOICE is an option name or its\n"
  "index: yes, no or abstain for a yes/no proposal, one option for one-of,\n"
  "any number of options for approval. Prints the receipt (seq, record id).\n"
  "\n"
  "  --key FILE        the voter's key file (env COUNCIL_KEY)\n"
  "  --paper           enter a paper ballot as a clerk (kind paper_ballot)\n"
  "  --member PUBKEY   with --paper: the member who voted on paper\n"
  CN_CLI_COMMON_USAGE;

/* Resolve the CHOICE arguments against proposal P into CHOICES (N of them). */
static int resolve_choices(cn_cli_t *cli, const Councilnet__Proposal *p, char **args, size_t n,
                           uint32_t *choices)
{
  const char *names[64];
  size_t count = cn_rules_option_count(p), i;

  if (count > sizeof names / sizeof names[0])
    count = sizeof names / sizeof names[0];
  for (i = 0; i < count; i++)
    names[i] = cn_view_option_name(p, i);
  for (i = 0; i < n; i++) {
    if (cn_args_parse_choice(args[i], names, count, &choices[i]) < 0)
      return cn_cli_usage_error(cli, "\"%s\" is not an option of this proposal "
                                "(see council proposal show)", args[i]);
  }
  if (cn_rules_check_choices(p, choices, n) < 0) {
    if (p->option_kind == COUNCILNET__OPTION_KIND__APPROVAL)
      return cn_cli_usage_error(cli, "approval choices must not repeat");
    return cn_cli_usage_error(cli, "this proposal takes exactly one choice");
  }
  return CN_EXIT_OK;
}

int cn_cmd_vote(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_PAPER = CN_OPT_FIRST_LOCAL, OPT_MEMBER };
  static const struct option opts[] = {
    {"paper", no_argument, NULL, OPT_PAPER},
    {"member", required_argument, NULL, OPT_MEMBER},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__Ballot body = COUNCILNET__BALLOT__INIT;
  Councilnet__ProposalView *view = NULL;
  uint8_t id[CN_HASH_BYTES], member[CN_PK_BYTES], sk[CN_SK_BYTES];
  uint32_t *choices = NULL;
  const char *member_hex = NULL;
  char path[128];
  size_t n_choices;
  int c, paper = 0, rc = CN_EXIT_LOCAL;

  cli->usage = vote_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_PAPER)
      paper = 1;
    else if (c == OPT_MEMBER)
      member_hex = optarg;
    else if (cn_cli_common_option(cli, c, optarg) <= 0)
      goto out;
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (argc - optind < 2) {
    rc = cn_cli_usage_error(cli, "ID and at least one CHOICE are required");
    goto out;
  }
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  if (paper != (member_hex != NULL)) {
    rc = cn_cli_usage_error(cli, "--paper and --member PUBKEY go together");
    goto out;
  }
  if (member_hex && cn_args_parse_hex32(member_hex, member) < 0) {
    rc = cn_cli_usage_error(cli, "--member: expected %d hex digits", 2 * CN_PK_BYTES);
    goto out;
  }
  n_choices = (size_t)(argc - optind - 1);
  choices = calloc(n_choices, sizeof *choices);
  if (!choices) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  snprintf(path, sizeof path, "/v1/proposals/%s", argv[optind]);
  rc = cn_cli_get(cli, path, &councilnet__proposal_view__descriptor, (ProtobufCMessage **)&view);
  if (rc != CN_EXIT_OK)
    goto out;
  if (!view->proposal) {
    cn_cli_errorf("the node's view of the proposal has no proposal body");
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  rc = resolve_choices(cli, view->proposal, argv + optind + 1, n_choices, choices);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.proposal.data = id;
  body.proposal.len = CN_HASH_BYTES;
  body.choices = choices;
  body.n_choices = n_choices;
  if (paper) {
    body.member.data = member;
    body.member.len = CN_PK_BYTES;
  }
  rc = cn_cli_submit(cli, paper ? "paper_ballot" : "ballot", &body.base, sk);
out:
  sodium_memzero(sk, sizeof sk);
  if (view)
    councilnet__proposal_view__free_unpacked(view, NULL);
  free(choices);
  return rc;
}
