/* cmd_delegates.c: `council settings set`, `council volunteer`,
 * `council delegate list`, `council recall` and `council recall list`. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "args.h"

#define DEFAULT_RECALL_PERMILLE 500u
#define DEFAULT_RESELECT_WINDOW (7u * 24u * 3600u)
/* The node's own defaults for a member's selection (lib/node.c); sent
 * explicitly, since 0 on the wire means "no minimum". */
#define DEFAULT_SELECTION_MIN_WINDOW 86400u
#define DEFAULT_SELECTION_MIN_TURNOUT 100u
#define SHORT_HEX 8              /* bytes shown of parent keys in listings */

static const char settings_set_usage[] =
  "Usage: council settings set [--max-terms N] [--term-gap SECONDS]\n"
  "                            [--recall-threshold PERCENT]\n"
  "                            [--reselect] [--reselect-window SECONDS]\n"
  "                            [--selection-min-window SECONDS]\n"
  "                            [--selection-min-turnout PERCENT] --key CONVENER_KEY\n"
  "\n"
  "Set the node's delegate settings. Signed by a convener. The node keeps one\n"
  "set of settings and each `settings set` replaces all of it: a setting not\n"
  "given returns to its default.\n"
  "\n"
  "  --max-terms N              consecutive terms a delegate may serve at the same\n"
  "                             parent, 0 to 1000 (default 0: no limit)\n"
  "  --term-gap SECONDS         a term starting less than SECONDS after the last one\n"
  "                             ended is consecutive (default 0: the longer of the\n"
  "                             last and the new term, so a delegate sits out one\n"
  "                             whole term)\n"
  "  --recall-threshold PERCENT recall a delegate when more than PERCENT of the roll\n"
  "                             signed recall votes (default 50)\n"
  "  --reselect                 open a new selection when a delegate is recalled\n"
  "  --reselect-window SECONDS  how long that selection stays open (default 604800)\n"
  "  --selection-min-window SECONDS\n"
  "                             a selection a member (not a convener) proposes\n"
  "                             stays open at least SECONDS (default 86400; 0: no\n"
  "                             minimum)\n"
  "  --selection-min-turnout PERCENT\n"
  "                             and, by vote, has a turnout quorum of at least\n"
  "                             PERCENT of the roll (default 10; 0: no minimum);\n"
  "                             by lot it has no group quotas unless both are 0\n"
  "  --key FILE                 the convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char volunteer_usage[] =
  "Usage: council volunteer ID --key KEY\n"
  "\n"
  "Volunteer for the selection by lot ID (64 hex digits) while its window is\n"
  "open. When the window closes the node draws the delegates among the\n"
  "volunteers (see council sortition verify). Prints the receipt.\n"
  "At a parent council, a child council's delegate is refused (DUPLICATE)\n"
  "while another delegate of that council stands in the lot with a live\n"
  "credential: one volunteer per child council.\n"
  "\n"
  "  --key FILE        the member's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char delegate_list_usage[] =
  "Usage: council delegate list\n"
  "\n"
  "List the credentials the node issued: credential id, delegate key, parent\n"
  "node (shortened), term number and dates, whether recalled, recall votes so\n"
  "far; at a parent also the child councils' delegates, with their issuer.\n"
  "--json prints the DelegateList.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char recall_usage[] =
  "Usage: council recall CREDENTIAL_ID|DELEGATE_KEY --key KEY\n"
  "       council recall CREDENTIAL_ID|DELEGATE_KEY --via PARENT_URL --key KEY\n"
  "\n"
  "Sign a recall vote against a delegate of this node. The argument (64 hex\n"
  "digits) is a credential id, or a delegate's key, which stands for that\n"
  "delegate's live, unrecalled credential (from GET /v1/delegates). When the\n"
  "recall threshold is met the node recalls the delegate. Prints the receipt\n"
  "and the delegate's recall votes (--json: the Receipt).\n"
  "\n"
  "With --via the vote, still addressed to this node (--node), is sent\n"
  "straight to the parent council at PARENT_URL, for when this node does not\n"
  "forward it. The parent counts it against the roll this node sent up and\n"
  "recalls the delegate there when the threshold is met; the receipt must be\n"
  "signed by the parent. The credential is looked up at the parent, so this\n"
  "node need not answer: give its key with --node-key.\n"
  "\n"
  "  --key FILE        the member's key file (env COUNCIL_KEY)\n"
  "  --via URL         send the vote to the parent council at URL\n"
  "  --via-key HEX     with --via: the parent node's key; the vote is sent only\n"
  "                    if the node at URL answers with it (default: the key\n"
  "                    GET /v1/node answers, which the receipt must carry)\n"
  CN_CLI_COMMON_USAGE;

static const char recall_list_usage[] =
  "Usage: council recall list\n"
  "\n"
  "List the node's recalls: credential, delegate, votes and roll, time.\n"
  "--json prints the RecallList.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

/* Parse the options of a command that takes only the common ones (and
 * --key when WITH_KEY), and exactly NPOS positional arguments named WHAT.
 * Return CN_EXIT_OK to go on; *DONE is set when --help was answered. */
static int parse_plain(cn_cli_t *cli, int argc, char **argv, int with_key, int npos,
                       const char *what, int *done)
{
  static const struct option opts[] = {
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  int c;

  *done = 0;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", with_key ? opts : opts + 1, NULL);
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
    return cn_cli_usage_error(cli, "%s is required", what);
  if (argc - optind > npos)
    return cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + npos]);
  return CN_EXIT_OK;
}

static void print_permille(uint32_t pm)
{
  printf("%u.%u%%", pm / 10, pm % 10);
}

int cn_cmd_settings_set(cn_cli_t *cli, int argc, char **argv)
{
  enum {
    OPT_MAX_TERMS = CN_OPT_FIRST_LOCAL, OPT_RECALL_THRESHOLD, OPT_RESELECT, OPT_RESELECT_WINDOW,
    OPT_TERM_GAP, OPT_SEL_WINDOW, OPT_SEL_TURNOUT
  };
  static const struct option opts[] = {
    {"max-terms", required_argument, NULL, OPT_MAX_TERMS},
    {"recall-threshold", required_argument, NULL, OPT_RECALL_THRESHOLD},
    {"reselect", no_argument, NULL, OPT_RESELECT},
    {"reselect-window", required_argument, NULL, OPT_RESELECT_WINDOW},
    {"term-gap", required_argument, NULL, OPT_TERM_GAP},
    {"selection-min-window", required_argument, NULL, OPT_SEL_WINDOW},
    {"selection-min-turnout", required_argument, NULL, OPT_SEL_TURNOUT},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__Settings body = COUNCILNET__SETTINGS__INIT;
  Councilnet__Receipt *receipt = NULL;
  uint8_t sk[CN_SK_BYTES];
  uint64_t v = 0;
  int c, rc = CN_EXIT_LOCAL;

  body.selection_min_window = DEFAULT_SELECTION_MIN_WINDOW;
  body.selection_min_turnout_permille = DEFAULT_SELECTION_MIN_TURNOUT;
  cli->usage = settings_set_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case OPT_MAX_TERMS:
      if (cn_args_parse_u64(optarg, &v) < 0 || v > 1000) {
        rc = cn_cli_usage_error(cli, "--max-terms: expected a number from 0 to 1000");
        goto out;
      }
      body.max_terms = (uint32_t)v;
      break;
    case OPT_RECALL_THRESHOLD:
      if (cn_args_parse_percent(optarg, &body.recall_threshold_permille) < 0
          || body.recall_threshold_permille == 0) {
        rc = cn_cli_usage_error(cli, "--recall-threshold: expected a percentage above 0, "
                                "up to 100 (e.g. 50 or 33.3)");
        goto out;
      }
      break;
    case OPT_RESELECT:
      body.reselect_on_recall = 1;
      break;
    case OPT_RESELECT_WINDOW:
      if (cn_args_parse_u64(optarg, &body.reselect_window) < 0 || body.reselect_window == 0) {
        rc = cn_cli_usage_error(cli, "--reselect-window: expected a positive number of seconds");
        goto out;
      }
      break;
    case OPT_TERM_GAP:
      if (cn_args_parse_u64(optarg, &body.term_gap) < 0) {
        rc = cn_cli_usage_error(cli, "--term-gap: expected a number of seconds");
        goto out;
      }
      break;
    case OPT_SEL_WINDOW:
      if (cn_args_parse_u64(optarg, &body.selection_min_window) < 0) {
        rc = cn_cli_usage_error(cli, "--selection-min-window: expected a number of seconds");
        goto out;
      }
      break;
    case OPT_SEL_TURNOUT:
      if (cn_args_parse_percent(optarg, &body.selection_min_turnout_permille) < 0) {
        rc = cn_cli_usage_error(cli, "--selection-min-turnout: expected a percentage from 0 to "
                                "100 (e.g. 10 or 12.5)");
        goto out;
      }
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
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  rc = cn_cli_post_record(cli, "settings", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (!cli->json) {
    if (body.max_terms)
      printf("Max terms:  %u consecutive\n", body.max_terms);
    else
      printf("Max terms:  no limit\n");
    if (body.max_terms && body.term_gap)
      printf("Term gap:   a term starting within %llu seconds of the last is consecutive\n",
             (unsigned long long)body.term_gap);
    else if (body.max_terms)
      printf("Term gap:   a delegate sits out one whole term before the count starts again\n");
    printf("Recall:     when more than ");
    print_permille(body.recall_threshold_permille ? body.recall_threshold_permille
                                                  : DEFAULT_RECALL_PERMILLE);
    printf(" of the roll vote to recall\n");
    if (body.reselect_on_recall)
      printf("Reselect:   a new selection opens on recall, for %llu seconds\n",
             (unsigned long long)(body.reselect_window ? body.reselect_window
                                                       : DEFAULT_RESELECT_WINDOW));
    else
      printf("Reselect:   no\n");
    printf("Selections a member proposes: open at least %llu seconds; by vote, a turnout "
           "quorum of at least ", (unsigned long long)body.selection_min_window);
    print_permille(body.selection_min_turnout_permille);
    printf("\n");
  }
  rc = cn_cli_print_receipt(cli, receipt);
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

int cn_cmd_volunteer(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__Volunteer body = COUNCILNET__VOLUNTEER__INIT;
  uint8_t id[CN_HASH_BYTES], sk[CN_SK_BYTES];
  int done, rc;

  cli->usage = volunteer_usage;
  rc = parse_plain(cli, argc, argv, 1, 1, "ID", &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "ID must be %d hex digits", 2 * CN_HASH_BYTES);
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
  body.proposal.data = id;
  body.proposal.len = CN_HASH_BYTES;
  rc = cn_cli_submit(cli, "volunteer", &body.base, sk);
out:
  sodium_memzero(sk, sizeof sk);
  return rc;
}

/* GET /v1/delegates. Return a CN_EXIT_ status. */
static int get_delegates(cn_cli_t *cli, Councilnet__DelegateList **out)
{
  return cn_cli_get(cli, "/v1/delegates", &councilnet__delegate_list__descriptor,
                    (ProtobufCMessage **)out);
}

static void format_day(char *buf, size_t cap, uint64_t t)
{
  char full[64];

  cn_cli_format_time(full, sizeof full, t);
  snprintf(buf, cap, "%.16s", full);      /* "YYYY-MM-DD HH:MM" */
}

int cn_cmd_delegate_list(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__DelegateList *list = NULL;
  char id[2 * CN_HASH_BYTES + 1], key[2 * CN_PK_BYTES + 1], parent[2 * SHORT_HEX + 1];
  char from[32], to[32];
  size_t i;
  int done, rc;

  cli->usage = delegate_list_usage;
  rc = parse_plain(cli, argc, argv, 0, 0, "", &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  rc = get_delegates(cli, &list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&list->base);
    goto out;
  }
  if (list->n_delegates == 0) {
    printf("no delegates\n");
    goto out;
  }
  printf("%-64s  %-64s  %-16s  %4s  %-16s  %-16s  %-8s %5s\n", "CREDENTIAL", "DELEGATE",
         "PARENT", "TERM", "FROM (UTC)", "TO (UTC)", "RECALLED", "VOTES");
  for (i = 0; i < list->n_delegates; i++) {
    const Councilnet__DelegateView *v = list->delegates[i];
    const Councilnet__Credential *c = v->credential;
    cn_cli_hex(id, sizeof id, &v->credential_id, CN_HASH_BYTES);
    if (!c) {
      printf("%-64s  (no credential body)\n", id);
      continue;
    }
    cn_cli_hex(key, sizeof key, &c->delegate, CN_PK_BYTES);
    cn_cli_hex(parent, sizeof parent, &c->parent, SHORT_HEX);
    format_day(from, sizeof from, c->term_start);
    format_day(to, sizeof to, c->term_end);
    printf("%-64s  %-64s  %-16s  %4u  %-16s  %-16s  %-8s %5llu", id, key, parent, c->term,
           from, to, v->recalled ? "yes" : "no", (unsigned long long)v->recall_votes);
    if (v->issuer.len) {
      cn_cli_hex(parent, sizeof parent, &v->issuer, SHORT_HEX);
      printf("  issued by child %s", parent);
    }
    printf("\n");
  }
out:
  if (list)
    councilnet__delegate_list__free_unpacked(list, NULL);
  return rc;
}

/* Get the node's clock (and its key, if not known yet) from GET /v1/node. */
static int node_time(cn_cli_t *cli, uint64_t *now)
{
  Councilnet__NodeInfo *info = NULL;
  int rc;

  rc = cn_cli_get(cli, "/v1/node", &councilnet__node_info__descriptor,
                  (ProtobufCMessage **)&info);
  if (rc != CN_EXIT_OK)
    return rc;
  *now = info->time;
  if (!cli->have_node_pk && info->key.len == CN_PK_BYTES) {
    memcpy(cli->node_pk, info->key.data, CN_PK_BYTES);
    cli->have_node_pk = 1;
  }
  councilnet__node_info__free_unpacked(info, NULL);
  return CN_EXIT_OK;
}

static int bytes_eq(const ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
  return b->len == n && memcmp(b->data, p, n) == 0;
}

/* Return 1 if V, as listed by the node of CLI, is a credential ISSUER
 * issued (an empty issuer is the listing node itself). */
static int issued_by(const cn_cli_t *cli, const Councilnet__DelegateView *v,
                     const uint8_t issuer[CN_PK_BYTES])
{
  if (v->issuer.len == 0)
    return memcmp(cli->node_pk, issuer, CN_PK_BYTES) == 0;
  return bytes_eq(&v->issuer, issuer, CN_PK_BYTES);
}

/* Resolve ARG (32 bytes) to the credential id to vote against, into OUT,
 * from the delegates the node of CLI lists (this node, or with --via the
 * parent). A credential id listed is taken as is; a delegate key stands
 * for the delegate's live, unrecalled credential issued by ISSUER (one
 * whose term has started preferred), or if none is live for its latest
 * one (the node then says why it cannot be recalled), and is signed only
 * once that credential's signed record names the delegate and ISSUER;
 * anything else is sent as given, for the node to judge. Return a
 * CN_EXIT_ status. */
static int resolve_credential(cn_cli_t *cli, const uint8_t issuer[CN_PK_BYTES],
                              const uint8_t arg[CN_HASH_BYTES], uint8_t out[CN_HASH_BYTES])
{
  Councilnet__DelegateList *list = NULL;
  const Councilnet__DelegateView *live = NULL, *latest = NULL;
  char hex[2 * CN_HASH_BYTES + 1];
  uint64_t now = 0;
  size_t i, n_live = 0;
  int rc, started = 0;

  memcpy(out, arg, CN_HASH_BYTES);
  rc = get_delegates(cli, &list);
  if (rc != CN_EXIT_OK)
    return rc;
  for (i = 0; i < list->n_delegates; i++)
    if (bytes_eq(&list->delegates[i]->credential_id, arg, CN_HASH_BYTES))
      goto out;                 /* a credential id: signed as the member gave it */
  for (i = 0; i < list->n_delegates; i++) {
    const Councilnet__DelegateView *v = list->delegates[i];
    if (v->credential && issued_by(cli, v, issuer)
        && bytes_eq(&v->credential->delegate, arg, CN_PK_BYTES))
      break;
  }
  if (i == list->n_delegates)
    goto out;                   /* neither: the node will say */
  rc = node_time(cli, &now);
  if (rc != CN_EXIT_OK)
    goto out;
  for (i = 0; i < list->n_delegates; i++) {
    const Councilnet__DelegateView *v = list->delegates[i];
    const Councilnet__Credential *c = v->credential;
    int has_started;
    if (!c || !issued_by(cli, v, issuer) || !bytes_eq(&c->delegate, arg, CN_PK_BYTES)
        || v->credential_id.len != CN_HASH_BYTES)
      continue;
    if (!latest || c->term_end >= latest->credential->term_end)
      latest = v;
    if (v->recalled || now >= c->term_end)
      continue;
    has_started = c->term_start <= now;
    if (!live || has_started > started) {
      live = v;
      started = has_started;
      n_live = 1;
    } else if (has_started == started) {
      n_live++;
    }
  }
  if (n_live > 1) {
    cn_cli_hex(hex, sizeof hex, &live->credential->delegate, CN_PK_BYTES);
    cn_cli_errorf("delegate %s holds %zu live credentials; name one by its id "
                  "(see council delegate list)", hex, n_live);
    rc = CN_EXIT_LOCAL;
    goto out;
  }
  if (live)
    memcpy(out, live->credential_id.data, CN_HASH_BYTES);
  else if (latest)
    memcpy(out, latest->credential_id.data, CN_HASH_BYTES);
  if (live || latest) {
    /* The list is the node's unsigned word: the member signs a recall of
     * OUT only once the signed credential says it is this delegate's, and
     * issued by ISSUER, the council the member recalls at. The same person
     * may be a delegate of several councils; a vote on another council's
     * credential is refused wherever it is sent, but the member would have
     * signed it. */
    Councilnet__Credential *c = NULL;
    uint8_t signer[CN_PK_BYTES];
    rc = cn_cli_get_signed_record(cli, out, "credential", &councilnet__credential__descriptor,
                                  (ProtobufCMessage **)&c, signer);
    if (rc == CN_EXIT_OK && !bytes_eq(&c->delegate, arg, CN_PK_BYTES)) {
      cn_cli_errorf("the node lists a credential of another delegate for this key; "
                    "nothing was signed");
      rc = CN_EXIT_REFUSED;
    } else if (rc == CN_EXIT_OK && !bytes_eq(&c->node, issuer, CN_PK_BYTES)) {
      cn_cli_errorf("the node lists a credential issued by another council for this key; "
                    "nothing was signed");
      rc = CN_EXIT_REFUSED;
    } else if (rc == CN_EXIT_OK && sodium_memcmp(signer, issuer, CN_PK_BYTES) != 0) {
      /* anyone can sign a body that names this council: only the
       * council's own signature makes it its credential */
      cn_cli_errorf("the credential the node lists for this key is not signed by this "
                    "council; nothing was signed");
      rc = CN_EXIT_REFUSED;
    }
    if (c)
      councilnet__credential__free_unpacked(c, NULL);
  }
out:
  councilnet__delegate_list__free_unpacked(list, NULL);
  return rc;
}

/* The node of CLI must answer GET /v1/node with the key pinned in CLI
 * (--via-key): a vote is not sent to a node that is not the one named.
 * Return a CN_EXIT_ status (printed). */
static int check_pinned_key(cn_cli_t *cli)
{
  Councilnet__NodeInfo *info = NULL;
  char hex[2 * CN_PK_BYTES + 1];
  int rc;

  rc = cn_cli_get(cli, "/v1/node", &councilnet__node_info__descriptor,
                  (ProtobufCMessage **)&info);
  if (rc != CN_EXIT_OK)
    return rc;
  if (!bytes_eq(&info->key, cli->node_pk, CN_PK_BYTES)) {
    cn_cli_hex(hex, sizeof hex, &info->key, CN_PK_BYTES);
    cn_cli_errorf("the node at %s has key %s, not the --via-key given; nothing sent",
                  cli->node_url, hex);
    rc = CN_EXIT_REFUSED;
  }
  councilnet__node_info__free_unpacked(info, NULL);
  return rc;
}

int cn_cmd_recall(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_VIA = CN_OPT_FIRST_LOCAL, OPT_VIA_KEY };
  static const struct option opts[] = {
    {"via", required_argument, NULL, OPT_VIA},
    {"via-key", required_argument, NULL, OPT_VIA_KEY},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__RecallVote body = COUNCILNET__RECALL_VOTE__INIT;
  Councilnet__Receipt *receipt = NULL;
  Councilnet__DelegateList *list = NULL;
  cn_cli_t via, *to = cli;      /* TO: the node the vote is sent to */
  uint8_t arg[CN_HASH_BYTES], cred[CN_HASH_BYTES], sk[CN_SK_BYTES];
  char hex[2 * CN_HASH_BYTES + 1];
  const char *via_url = NULL, *via_key = NULL;
  size_t i;
  int c, rc = CN_EXIT_LOCAL;

  cn_cli_init(&via);
  cli->usage = recall_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_VIA)
      via_url = optarg;
    else if (c == OPT_VIA_KEY)
      via_key = optarg;
    else if (cn_cli_common_option(cli, c, optarg) <= 0)
      goto out;
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (optind >= argc) {
    rc = cn_cli_usage_error(cli, "CREDENTIAL_ID or DELEGATE_KEY is required");
    goto out;
  }
  if (optind + 1 < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + 1]);
    goto out;
  }
  if (cn_args_parse_hex32(argv[optind], arg) < 0) {
    rc = cn_cli_usage_error(cli, "expected a credential id or a delegate key (%d hex digits)",
                            2 * CN_HASH_BYTES);
    goto out;
  }
  if (via_key && !via_url) {
    rc = cn_cli_usage_error(cli, "--via-key goes with --via URL");
    goto out;
  }
  if (via_url) {
    /* A second connection, to the parent: the vote goes there, its
     * receipt must carry the parent's signature. */
    via.node_url = via_url;
    via.timeout_ms = cli->timeout_ms;
    via.json = cli->json;
    via.command = cli->command;
    via.usage = cli->usage;
    if (via_key && cn_cli_common_option(&via, CN_OPT_NODE_KEY, via_key) <= 0)
      goto out;
    to = &via;
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  if (to != cli) {
    rc = via_key ? check_pinned_key(to) : cn_cli_node_key(to);
    if (rc != CN_EXIT_OK)
      goto out;
  }
  rc = resolve_credential(to, cli->node_pk, arg, cred);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);      /* addressed to the member's own node */
  body.created = (uint64_t)time(NULL);
  body.credential.data = cred;
  body.credential.len = CN_HASH_BYTES;
  rc = cn_cli_post_record(to, "recall_vote", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&receipt->base);
    goto out;
  }
  cn_hex_encode(hex, cred, CN_HASH_BYTES);
  printf("Credential: %s\n", hex);
  if (to != cli) {
    cn_hex_encode(hex, to->node_pk, CN_PK_BYTES);
    printf("Sent to:    %s, parent node %s\n", to->node_url, hex);
    cn_hex_encode(hex, cli->node_pk, CN_PK_BYTES);
    printf("Addressed:  council %s\n", hex);
  }
  rc = cn_cli_print_receipt(to, receipt);
  /* Best effort: tell where the recall stands now, where the vote went. */
  if (get_delegates(to, &list) == CN_EXIT_OK) {
    for (i = 0; i < list->n_delegates; i++) {
      const Councilnet__DelegateView *v = list->delegates[i];
      if (bytes_eq(&v->credential_id, cred, CN_HASH_BYTES))
        printf("%s%s (%llu recall vote%s)\n", v->recalled ? "the delegate is recalled"
                                                          : "the delegate stays in office",
               to != cli ? " at the parent" : "", (unsigned long long)v->recall_votes,
               v->recall_votes == 1 ? "" : "s");
    }
  }
out:
  if (list)
    councilnet__delegate_list__free_unpacked(list, NULL);
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  sodium_memzero(sk, sizeof sk);
  cn_cli_clear(&via);
  return rc;
}

int cn_cmd_recall_list(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__RecallList *list = NULL;
  char id[2 * CN_HASH_BYTES + 1], key[2 * CN_PK_BYTES + 1], t[64];
  size_t i;
  int done, rc;

  cli->usage = recall_list_usage;
  rc = parse_plain(cli, argc, argv, 0, 0, "", &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  rc = cn_cli_get(cli, "/v1/recalls", &councilnet__recall_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&list->base);
    goto out;
  }
  if (list->n_recalls == 0) {
    printf("no recalls\n");
    goto out;
  }
  printf("%-64s  %-64s  %11s  %s\n", "CREDENTIAL", "DELEGATE", "VOTES/ROLL", "RECALLED");
  for (i = 0; i < list->n_recalls; i++) {
    const Councilnet__Recall *r = list->recalls[i];
    char votes[32];
    cn_cli_hex(id, sizeof id, &r->credential, CN_HASH_BYTES);
    cn_cli_hex(key, sizeof key, &r->delegate, CN_PK_BYTES);
    cn_cli_format_time(t, sizeof t, r->created);
    snprintf(votes, sizeof votes, "%llu/%llu", (unsigned long long)r->votes,
             (unsigned long long)r->roll);
    printf("%-64s  %-64s  %11s  %s\n", id, key, votes, t);
  }
out:
  if (list)
    councilnet__recall_list__free_unpacked(list, NULL);
  return rc;
}
