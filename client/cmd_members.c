/* cmd_members.c: `council member add|remove|list` and `council role set`. */
#include "commands.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

#include "args.h"

static const char member_add_usage[] =
  "Usage: council member add PUBKEY [--name NAME] [--group G]... [--council] --key CONVENER_KEY\n"
  "\n"
  "Admit PUBKEY (64 hex digits) to the node's roll. Signed by a convener.\n"
  "\n"
  "  --name NAME       the member's name on this node\n"
  "  --group G         a group label (repeatable, or a comma list: --group a,b)\n"
  "  --council         PUBKEY is a child council's node key, not a person: its\n"
  "                    forwarded records (roll, credentials, mandates, recall\n"
  "                    votes of its members) are accepted here\n"
  "  --key FILE        the convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char member_remove_usage[] =
  "Usage: council member remove PUBKEY --key CONVENER_KEY\n"
  "\n"
  "Remove PUBKEY from the node's roll. Signed by a convener.\n"
  "\n"
  "  --key FILE        the convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char member_list_usage[] =
  "Usage: council member list\n"
  "\n"
  "List the keys the node knows: members, clerks and conveners.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char role_set_usage[] =
  "Usage: council role set PUBKEY [--clerk] [--convener] --key CONVENER_KEY\n"
  "\n"
  "Set the roles of PUBKEY: the roles named are granted, the others withdrawn\n"
  "(no flag withdraws both). A clerk enters paper ballots, a convener admits\n"
  "members. Signed by a convener.\n"
  "\n"
  "  --clerk           grant the clerk role\n"
  "  --convener        grant the convener role\n"
  "  --key FILE        the convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

/* Check that exactly one positional PUBKEY remains and decode it. */
static int take_pubkey(cn_cli_t *cli, int argc, char **argv, uint8_t pk[CN_PK_BYTES])
{
  if (optind >= argc)
    return cn_cli_usage_error(cli, "PUBKEY is required");
  if (optind + 1 < argc)
    return cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + 1]);
  if (cn_args_parse_hex32(argv[optind], pk) < 0)
    return cn_cli_usage_error(cli, "PUBKEY must be %d hex digits", 2 * CN_PK_BYTES);
  return CN_EXIT_OK;
}

int cn_cmd_member_add(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_NAME = CN_OPT_FIRST_LOCAL, OPT_GROUP, OPT_COUNCIL };
  static const struct option opts[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"group", required_argument, NULL, OPT_GROUP},
    {"council", no_argument, NULL, OPT_COUNCIL},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__MemberAdd body = COUNCILNET__MEMBER_ADD__INIT;
  cn_args_list_t groups = {NULL, 0};
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  const char *name = NULL;
  int c, rc = CN_EXIT_LOCAL;

  cli->usage = member_add_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_NAME) {
      name = optarg;
    } else if (c == OPT_COUNCIL) {
      body.council = 1;
    } else if (c == OPT_GROUP) {
      if (cn_args_list_add(&groups, optarg) < 0) {
        rc = cn_cli_usage_error(cli, "--group: group names must be non-empty");
        goto out;
      }
    } else if (cn_cli_common_option(cli, c, optarg) <= 0) {
      goto out;
    }
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  rc = take_pubkey(cli, argc, argv, pk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.member.data = pk;
  body.member.len = CN_PK_BYTES;
  if (name)
    body.name = (char *)name;
  body.groups = groups.items;
  body.n_groups = groups.n;
  rc = cn_cli_submit(cli, "member_add", &body.base, sk);
out:
  sodium_memzero(sk, sizeof sk);
  cn_args_list_clear(&groups);
  return rc;
}

int cn_cmd_member_remove(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__MemberRemove body = COUNCILNET__MEMBER_REMOVE__INIT;
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  int rc = CN_EXIT_LOCAL;

  cli->usage = member_remove_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  rc = take_pubkey(cli, argc, argv, pk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.member.data = pk;
  body.member.len = CN_PK_BYTES;
  rc = cn_cli_submit(cli, "member_remove", &body.base, sk);
out:
  sodium_memzero(sk, sizeof sk);
  return rc;
}

int cn_cmd_role_set(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_CLERK = CN_OPT_FIRST_LOCAL, OPT_CONVENER };
  static const struct option opts[] = {
    {"clerk", no_argument, NULL, OPT_CLERK},
    {"convener", no_argument, NULL, OPT_CONVENER},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__RoleSet body = COUNCILNET__ROLE_SET__INIT;
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  int c, clerk = 0, convener = 0, rc = CN_EXIT_LOCAL;

  cli->usage = role_set_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_CLERK)
      clerk = 1;
    else if (c == OPT_CONVENER)
      convener = 1;
    else if (cn_cli_common_option(cli, c, optarg) <= 0)
      goto out;
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  rc = take_pubkey(cli, argc, argv, pk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.key.data = pk;
  body.key.len = CN_PK_BYTES;
  body.clerk = clerk;
  body.convener = convener;
  rc = cn_cli_submit(cli, "role_set", &body.base, sk);
out:
  sodium_memzero(sk, sizeof sk);
  return rc;
}

static void print_member(const Councilnet__Member *m)
{
  char hex[2 * CN_PK_BYTES + 1], roles[32];
  size_t i;

  cn_cli_hex(hex, sizeof hex, &m->key, CN_PK_BYTES);
  snprintf(roles, sizeof roles, "%s%s%s%s%s", m->member ? (m->council ? "council" : "member") : "",
           m->member && (m->clerk || m->convener) ? "," : "", m->clerk ? "clerk" : "",
           m->clerk && m->convener ? "," : "", m->convener ? "convener" : "");
  printf("%s  %-21s %6llu  %s", hex, roles[0] ? roles : "-", (unsigned long long)m->since,
         m->name && *m->name ? m->name : "-");
  for (i = 0; i < m->n_groups; i++)
    printf("%s%s", i == 0 ? "  [" : ",", m->groups[i]);
  printf("%s\n", m->n_groups ? "]" : "");
}

int cn_cmd_member_list(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__MemberList *list = NULL;
  size_t i;
  int rc = CN_EXIT_LOCAL;

  cli->usage = member_list_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  rc = cn_cli_get(cli, "/v1/members", &councilnet__member_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&list->base);
    goto out;
  }
  if (list->n_members == 0) {
    printf("no members\n");
    goto out;
  }
  printf("%-64s  %-21s %6s  %s\n", "KEY", "ROLES", "SINCE", "NAME [GROUPS]");
  for (i = 0; i < list->n_members; i++)
    print_member(list->members[i]);
out:
  if (list)
    councilnet__member_list__free_unpacked(list, NULL);
  return rc;
}
