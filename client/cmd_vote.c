/* cmd_vote.c: `council vote`: a member's ballot, or a clerk's paper ballot;
 * `council delegate vote`: a delegate's ballot at the parent council. */
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

static const char delegate_vote_usage[] =
  "Usage: council delegate vote PARENT_PROPOSAL_ID CHOICE... [--credential CRED_ID]\n"
  "                             --key DELEGATE_KEY --node PARENT_URL\n"
  "\n"
  "Cast a delegate's ballot (kind delegate_ballot) on a proposal of the parent\n"
  "council, for the child council that issued the credential. --node is the\n"
  "parent node: the ballot is addressed and sent to it. CHOICE is an option\n"
  "name or index, as for council vote. The parent accepts it only as the\n"
  "assembly decided: a mandate delivered under the credential must name the\n"
  "proposal, and a binding instruction fixes the choice (a ballot against it\n"
  "is refused with MANDATE_VIOLATION). Prints the receipt (--json: the Receipt).\n"
  "\n"
  "  --credential ID   the delegate's credential, as the parent lists it (council\n"
  "                    delegate list --node PARENT_URL); default: the one live\n"
  "                    credential a child council issued to the key given\n"
  "  --key FILE        the delegate's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

/* Proposal ID as its author signed it: the record itself, checked to be ID
 * (GET /v1/records/ID), not the node's unsigned view, which could list the
 * options in another order and make the member sign another choice. */
static int fetch_proposal(cn_cli_t *cli, const uint8_t id[CN_HASH_BYTES], Councilnet__Proposal **out)
{
  return cn_cli_get_signed_record(cli, id, "proposal", &councilnet__proposal__descriptor,
                                  (ProtobufCMessage **)out, NULL);
}

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
  Councilnet__Proposal *prop = NULL;
  uint8_t id[CN_HASH_BYTES], member[CN_PK_BYTES], sk[CN_SK_BYTES];
  uint32_t *choices = NULL;
  const char *member_hex = NULL;
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
  rc = fetch_proposal(cli, id, &prop);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = resolve_choices(cli, prop, argv + optind + 1, n_choices, choices);
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
  if (prop)
    councilnet__proposal__free_unpacked(prop, NULL);
  free(choices);
  return rc;
}

/* Find credential ID in LIST, or NULL. */
static const Councilnet__DelegateView *find_credential(const Councilnet__DelegateList *list,
                                                       const uint8_t id[CN_HASH_BYTES])
{
  size_t i;

  for (i = 0; i < list->n_delegates; i++) {
    const Councilnet__DelegateView *v = list->delegates[i];
    if (v->credential_id.len == CN_HASH_BYTES
        && memcmp(v->credential_id.data, id, CN_HASH_BYTES) == 0)
      return v;
  }
  return NULL;
}

/* Pick the credential for a delegate ballot by PK at the node (a parent):
 * with HAVE_ID, check that ID, if listed, is a child council's credential
 * for PK; without, take the one live child credential PK holds there. The
 * id goes to ID, the issuing council to ISSUER (zeroed if unknown). Return a
 * CN_EXIT_ status (errors printed). */
static int pick_credential(cn_cli_t *cli, const uint8_t pk[CN_PK_BYTES], int have_id,
                           uint8_t id[CN_HASH_BYTES], uint8_t issuer[CN_PK_BYTES])
{
  Councilnet__DelegateList *list = NULL;
  Councilnet__NodeInfo *info = NULL;
  const Councilnet__DelegateView *v = NULL;
  char hex[2 * CN_PK_BYTES + 1];
  size_t i, n_live = 0, n_recalled = 0;
  int rc;

  memset(issuer, 0, CN_PK_BYTES);
  rc = cn_cli_get(cli, "/v1/delegates", &councilnet__delegate_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (have_id) {
    v = find_credential(list, id);
    if (!v || !v->credential)
      goto out;                 /* not listed: the node will say */
    if (v->credential->delegate.len != CN_PK_BYTES
        || memcmp(v->credential->delegate.data, pk, CN_PK_BYTES) != 0) {
      cn_cli_hex(hex, sizeof hex, &v->credential->delegate, CN_PK_BYTES);
      cn_cli_errorf("this credential is for delegate %s, not for the key given", hex);
      rc = CN_EXIT_LOCAL;
      goto out;
    }
    if (v->issuer.len != CN_PK_BYTES) {
      cn_cli_errorf("this credential was issued by the node itself: a delegate ballot is cast "
                    "at the parent, under a credential from a child council (--node PARENT_URL)");
      rc = CN_EXIT_LOCAL;
      goto out;
    }
    memcpy(issuer, v->issuer.data, CN_PK_BYTES);
    goto out;
  }
  rc = cn_cli_get(cli, "/v1/node", &councilnet__node_info__descriptor, (ProtobufCMessage **)&info);
  if (rc != CN_EXIT_OK)
    goto out;
  for (i = 0; i < list->n_delegates; i++) {
    const Councilnet__DelegateView *d = list->delegates[i];
    const Councilnet__Credential *c = d->credential;
    if (!c || d->issuer.len != CN_PK_BYTES || d->credential_id.len != CN_HASH_BYTES
        || c->delegate.len != CN_PK_BYTES || memcmp(c->delegate.data, pk, CN_PK_BYTES) != 0)
      continue;
    if (d->recalled)
      n_recalled++;
    if (d->recalled || info->time >= c->term_end)
      continue;
    v = d;
    n_live++;
  }
  cn_hex_encode(hex, pk, CN_PK_BYTES);
  if (n_live != 1) {
    if (n_live == 0)
      cn_cli_errorf("delegate %s holds no live credential from a child council at this node%s "
                    "(see council delegate list)", hex, n_recalled ? "; it was recalled" : "");
    else
      cn_cli_errorf("delegate %s holds %zu live credentials here; name one with --credential "
                    "(see council delegate list)", hex, n_live);
    rc = CN_EXIT_LOCAL;
    goto out;
  }
  memcpy(id, v->credential_id.data, CN_HASH_BYTES);
  memcpy(issuer, v->issuer.data, CN_PK_BYTES);
out:
  if (info)
    councilnet__node_info__free_unpacked(info, NULL);
  if (list)
    councilnet__delegate_list__free_unpacked(list, NULL);
  return rc;
}

int cn_cmd_delegate_vote(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_CREDENTIAL = CN_OPT_FIRST_LOCAL };
  static const struct option opts[] = {
    {"credential", required_argument, NULL, OPT_CREDENTIAL},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  static const uint8_t zero[CN_PK_BYTES];
  Councilnet__DelegateBallot body = COUNCILNET__DELEGATE_BALLOT__INIT;
  Councilnet__Proposal *prop = NULL;
  Councilnet__Receipt *receipt = NULL;
  uint8_t id[CN_HASH_BYTES], cred[CN_HASH_BYTES], issuer[CN_PK_BYTES];
  uint8_t sk[CN_SK_BYTES], pk[CN_PK_BYTES];
  uint32_t *choices = NULL;
  char hex[2 * CN_HASH_BYTES + 1];
  size_t n_choices, i;
  int c, have_cred = 0, rc = CN_EXIT_LOCAL;

  cli->usage = delegate_vote_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_CREDENTIAL) {
      if (cn_args_parse_hex32(optarg, cred) < 0) {
        rc = cn_cli_usage_error(cli, "--credential: expected %d hex digits", 2 * CN_HASH_BYTES);
        goto out;
      }
      have_cred = 1;
    } else if (cn_cli_common_option(cli, c, optarg) <= 0) {
      goto out;
    }
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (argc - optind < 2) {
    rc = cn_cli_usage_error(cli, "PARENT_PROPOSAL_ID and at least one CHOICE are required");
    goto out;
  }
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "PARENT_PROPOSAL_ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  n_choices = (size_t)(argc - optind - 1);
  choices = calloc(n_choices, sizeof *choices);
  if (!choices) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  cn_hex_encode(hex, id, CN_HASH_BYTES);
  rc = fetch_proposal(cli, id, &prop);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = resolve_choices(cli, prop, argv + optind + 1, n_choices, choices);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_crypto_sk_to_pk(pk, sk);
  rc = pick_credential(cli, pk, have_cred, cred, issuer);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.proposal.data = id;
  body.proposal.len = CN_HASH_BYTES;
  body.choices = choices;
  body.n_choices = n_choices;
  body.credential.data = cred;
  body.credential.len = CN_HASH_BYTES;
  rc = cn_cli_post_record(cli, "delegate_ballot", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (!cli->json) {
    printf("Proposal:   %s\n", hex);
    printf("Choice:     ");
    for (i = 0; i < n_choices; i++) {
      const char *name = cn_view_option_name(prop, choices[i]);
      printf("%s%s", i ? ", " : "", name ? name : "?");
    }
    printf("\n");
    cn_hex_encode(hex, cred, CN_HASH_BYTES);
    printf("Credential: %s\n", hex);
    if (memcmp(issuer, zero, CN_PK_BYTES) != 0) {
      cn_hex_encode(hex, issuer, CN_PK_BYTES);
      printf("For:        council %s\n", hex);
    }
  }
  rc = cn_cli_print_receipt(cli, receipt);
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  if (prop)
    councilnet__proposal__free_unpacked(prop, NULL);
  sodium_memzero(sk, sizeof sk);
  free(choices);
  return rc;
}
