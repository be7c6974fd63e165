/* council.c: the `council` command dispatcher (see council.h). */
#include "council.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct council_command_t {
  const char *name;             /* first word */
  const char *sub;              /* second word, NULL for one-word commands */
  cn_cmd_fn run;
} council_command_t;

static const council_command_t council_commands[] = {
  {"keygen", NULL, cn_cmd_keygen},
  {"pubkey", NULL, cn_cmd_pubkey},
  {"node", "info", cn_cmd_node_info},
  {"member", "add", cn_cmd_member_add},
  {"member", "remove", cn_cmd_member_remove},
  {"member", "list", cn_cmd_member_list},
  {"role", "set", cn_cmd_role_set},
  {"proposal", "new", cn_cmd_proposal_new},
  {"proposal", "list", cn_cmd_proposal_list},
  {"proposal", "show", cn_cmd_proposal_show},
  {"vote", NULL, cn_cmd_vote},
  {"decision", "show", cn_cmd_decision_show},
  {"settings", "set", cn_cmd_settings_set},
  {"volunteer", NULL, cn_cmd_volunteer},
  {"delegate", "list", cn_cmd_delegate_list},
  {"delegate", "vote", cn_cmd_delegate_vote},
  {"mandate", "new", cn_cmd_mandate_new},
  {"mandate", "accept", cn_cmd_mandate_accept},
  {"mandate", "list", cn_cmd_mandate_list},
  {"recall", "list", cn_cmd_recall_list},   /* before "recall ID": two words win */
  {"recall", NULL, cn_cmd_recall},
  {"sortition", "verify", cn_cmd_sortition_verify},
  {"budget", "check", cn_cmd_budget_check},
  {"budget", "allocate", cn_cmd_budget_allocate},
  {"budget", "import", cn_cmd_budget_import},
  {"budget", "rounds", cn_cmd_budget_rounds},
  {"budget", "show", cn_cmd_budget_show},
  {"budget", "vote", cn_cmd_budget_vote},
  {"budget", "export", cn_cmd_budget_export},
  {"parent", "set", cn_cmd_parent_set},
  {"parent", "proposals", cn_cmd_parent_proposals},
  {"federation", "resend", cn_cmd_federation_resend},
  {"federation", NULL, cn_cmd_federation},
  {"log", NULL, cn_cmd_log},
  {"verify", NULL, cn_cmd_verify},
  {"receipt", "check", cn_cmd_receipt_check},
};

#define N_COMMANDS (sizeof council_commands / sizeof council_commands[0])

static const char council_usage[] =
  "Usage: council COMMAND [ARGS] [--node URL] [--json]\n"
  "\n"
  "The command-line client of a Councilnet node.\n"
  "\n"
  "Keys:\n"
  "  keygen --out FILE [--passphrase]      make a new key file\n"
  "  pubkey --key FILE                     print a key file's public key\n"
  "The node:\n"
  "  node info                             name, key, conveners, log head\n"
  "  log [--after N] [--limit M]           list log entries\n"
  "  verify                                check the whole log and the signed head\n"
  "  receipt check FILE... [--offline]     kept receipts: signed, and in the node's log\n"
  "Members (signed by a convener):\n"
  "  member add PUBKEY [--name N] [--group G]... --key KEY\n"
  "  member remove PUBKEY --key KEY\n"
  "  member list\n"
  "  role set PUBKEY [--clerk] [--convener] --key KEY\n"
  "Proposals and votes:\n"
  "  proposal new --title T [--options SPEC] [--weight-by-roll] [...] --key KEY\n"
  "  proposal list\n"
  "  proposal show ID\n"
  "  vote ID CHOICE... --key KEY           (clerks: --paper --member PUBKEY)\n"
  "  decision show ID                      counts and outcome, signature checked\n"
  "Delegates:\n"
  "  settings set [--max-terms N] [--recall-threshold PERCENT] [--reselect]\n"
  "               [--reselect-window SECONDS] --key KEY\n"
  "  proposal new --title T --select vote|lot --seats N --parent KEY\n"
  "               [--candidate KEY[:NAME]]... [--quota GROUP:N]...\n"
  "               [--term-start TIME|now] (--term-end TIME | --term-days D) --key KEY\n"
  "  volunteer ID --key KEY                volunteer for a selection by lot\n"
  "  sortition verify ID                   recompute a draw by lot from the log\n"
  "  delegate list                         credentials, terms, recall votes\n"
  "  mandate new --credential ID --instruction SPEC... --key KEY\n"
  "  mandate accept ID --key DELEGATE_KEY  countersign a mandate (delivery)\n"
  "  mandate list\n"
  "  recall CREDENTIAL_ID|DELEGATE_KEY [--via PARENT_URL] --key KEY\n"
  "  recall list\n"
  "Federation (a node and its parent council):\n"
  "  parent set URL KEY --key KEY          make the node a child of the node at URL\n"
  "  parent proposals                      the parent's proposals, followed from its log\n"
  "  federation                            parent, outbox, dead letters, last error\n"
  "  federation resend ID... --key KEY     send dead letters to the parent again\n"
  "  delegate vote PARENT_PROPOSAL_ID CHOICE... [--credential ID] --key DELEGATE_KEY\n"
  "               --node PARENT_URL        a delegate's ballot at the parent\n"
  "Participatory budgeting:\n"
  "  budget import FILE.pb --title T (--closes TIME | --duration SECONDS)\n"
  "               [--opens TIME|now] [--rule greedy|mes] --key KEY\n"
  "                                        open a round from a .pb (its votes ignored)\n"
  "  budget rounds                         rounds owned or followed; allocations\n"
  "  budget show ROUND_ID                  one round: projects by index, allocation\n"
  "  budget vote ROUND_ID PROJECT... --key KEY   approve projects (id or index)\n"
  "  budget export ROUND_ID [--out FILE]   the round's approval sets as a .pb\n"
  "Participatory budgeting offline, on Pabulib .pb files:\n"
  "  budget check FILE.pb                  parse a round and summarise it\n"
  "  budget allocate FILE.pb --rule greedy|mes   allocate its budget by a rule\n"
  "\n"
  "Run 'council help COMMAND' or 'council COMMAND --help' for the options.\n"
  "\n"
  "Environment: COUNCIL_NODE (node URL, default " CN_CLI_DEFAULT_NODE "),\n"
  "COUNCIL_KEY (key file), COUNCIL_PASSPHRASE (for sealed key files),\n"
  "COUNCIL_RECEIPTS (a folder: keep each receipt there as <record id>.receipt).\n"
  "Exit status: 0 ok, 1 refused by the node (or its answer failed\n"
  "verification), 2 usage or local error.\n";

static int council_no_command(const char *word)
{
  fprintf(stderr, "council: no command \"%s\"\n\n%s", word, council_usage);
  return CN_EXIT_LOCAL;
}

/* Find the command named by WORDS (one or two of them). *USED gets the
 * number of words the name takes. Return NULL if none. */
static const council_command_t *council_find(int n_words, char **words, int *used)
{
  size_t i;

  for (i = 0; i < N_COMMANDS; i++) {
    const council_command_t *c = &council_commands[i];
    if (strcmp(c->name, words[0]) != 0)
      continue;
    if (!c->sub) {
      *used = 1;
      return c;
    }
    if (n_words >= 2 && strcmp(c->sub, words[1]) == 0) {
      *used = 2;
      return c;
    }
  }
  return NULL;
}

/* Return 1 if WORD names a command group ("member"). */
static int council_is_group(const char *word)
{
  size_t i;

  for (i = 0; i < N_COMMANDS; i++)
    if (council_commands[i].sub && strcmp(council_commands[i].name, word) == 0)
      return 1;
  return 0;
}

static void council_print_group(FILE *f, const char *group)
{
  size_t i;

  fprintf(f, "Usage: council %s SUBCOMMAND ...\nSubcommands:", group);
  for (i = 0; i < N_COMMANDS; i++)
    if (council_commands[i].sub && strcmp(council_commands[i].name, group) == 0)
      fprintf(f, " %s", council_commands[i].sub);
  fprintf(f, "\nRun 'council %s SUBCOMMAND --help' for the options.\n", group);
}

/* Return how many words of ARGV (ARGC of them) are options given before
 * the command name ("--node URL --json member list" -> 3). */
static int council_leading_options(int argc, char **argv)
{
  static const char *const with_value[] = {"--node", "--node-key", "--timeout", "--key"};
  int i = 0;
  size_t j;

  while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0
         && strcmp(argv[i], "-h") != 0 && strcmp(argv[i], "--help") != 0
         && strcmp(argv[i], "--version") != 0) {
    for (j = 0; j < sizeof with_value / sizeof with_value[0]; j++)
      if (strcmp(argv[i], with_value[j]) == 0)
        break;
    i += j < sizeof with_value / sizeof with_value[0] ? 2 : 1;
  }
  return i > argc ? argc : i;
}

/* Run command CMD with the ARGC arguments in ARGV that follow its name,
 * after the N_PRE options PRE given before it; WITH_HELP appends --help. */
static int council_run(const council_command_t *cmd, int n_pre, char **pre, int argc, char **argv,
                       int with_help)
{
  char label[64];
  char **sub_argv;
  cn_cli_t cli;
  int sub_argc = 0, i, rc;

  sub_argv = calloc((size_t)n_pre + (size_t)argc + 3, sizeof *sub_argv);
  if (!sub_argv) {
    cn_cli_errorf("out of memory");
    return CN_EXIT_LOCAL;
  }
  snprintf(label, sizeof label, "council %s%s%s", cmd->name, cmd->sub ? " " : "",
           cmd->sub ? cmd->sub : "");
  sub_argv[sub_argc++] = label;
  for (i = 0; i < n_pre; i++)
    sub_argv[sub_argc++] = pre[i];
  for (i = 0; i < argc; i++)
    sub_argv[sub_argc++] = argv[i];
  if (with_help)
    sub_argv[sub_argc++] = (char *)"--help";
  sub_argv[sub_argc] = NULL;
  cn_cli_init(&cli);
  cli.command = label;
  rc = cmd->run(&cli, sub_argc, sub_argv);
  cn_cli_clear(&cli);
  free(sub_argv);
  return rc;
}

/* `council help [COMMAND...]`. */
static int council_help(int argc, char **argv)
{
  const council_command_t *cmd;
  int used = 0;

  if (argc == 0) {
    fputs(council_usage, stdout);
    return CN_EXIT_OK;
  }
  cmd = council_find(argc, argv, &used);
  if (cmd)
    return council_run(cmd, 0, NULL, 0, NULL, 1);
  if (council_is_group(argv[0])) {
    council_print_group(stdout, argv[0]);
    return CN_EXIT_OK;
  }
  return council_no_command(argv[0]);
}

int cn_council_main(int argc, char **argv)
{
  const council_command_t *cmd;
  char **pre;
  int used = 0, n_pre, rc;

  if (cn_crypto_init() != 0) {
    cn_cli_errorf("libsodium cannot be initialised");
    return CN_EXIT_LOCAL;
  }
  pre = argv + 1;
  n_pre = argc > 1 ? council_leading_options(argc - 1, argv + 1) : 0;
  argc -= n_pre;
  argv += n_pre;                /* argv[0] is now the last option word: never read */
  if (argc < 2) {
    fputs(council_usage, stderr);
    return CN_EXIT_LOCAL;
  }
  if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0
      || strcmp(argv[1], "-h") == 0)
    return council_help(argc - 2, argv + 2);
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("council 1 (Councilnet wire format 1)\n");
    return CN_EXIT_OK;
  }
  cmd = council_find(argc - 1, argv + 1, &used);
  if (!cmd) {
    if (council_is_group(argv[1])) {
      if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        council_print_group(stdout, argv[1]);
        return CN_EXIT_OK;
      }
      fprintf(stderr, "council: %s %s: no such subcommand\n", argv[1],
              argc > 2 ? argv[2] : "(missing)");
      council_print_group(stderr, argv[1]);
      return CN_EXIT_LOCAL;
    }
    return council_no_command(argv[1]);
  }
  rc = council_run(cmd, n_pre, pre, argc - 1 - used, argv + 1 + used, 0);
  if (fflush(stdout) != 0 && rc == CN_EXIT_OK) {
    cn_cli_errorf("cannot write the output");
    rc = CN_EXIT_LOCAL;
  }
  return rc;
}
