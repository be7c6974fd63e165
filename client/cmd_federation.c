/* cmd_federation.c: `council parent set`, `council parent proposals` and
 * `council federation`: a node's link to its parent council. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "args.h"
#include "view.h"

#define CT_PROTOBUF "application/x-protobuf"
#define PARENT_CHECK_TIMEOUT_MS 5000  /* asking the parent for its key, best effort */
#define MAX_URL 511                   /* the longest parent URL a node keeps */

static const char parent_set_usage[] =
  "Usage: council parent set URL KEY --key CONVENER_KEY\n"
  "\n"
  "Make the node a child council of the node at URL (http://HOST:PORT, as the\n"
  "node itself reaches it) whose public key is KEY (64 hex digits). Signed by\n"
  "a convener (kind parent_set). The node then sends its roll (member keys\n"
  "only), its delegates' credentials, their mandates and recall votes up, and\n"
  "follows the parent's log; see council federation. The parent's convener\n"
  "admits this node's key as a member (council member add NODE_KEY --council), until\n"
  "then the node keeps retrying. Records still queued for a parent with another\n"
  "key are set aside as dead letters (listed by council federation).\n"
  "When the parent answers at URL, its key is checked against KEY first.\n"
  "Prints the receipt (--json: the Receipt).\n"
  "\n"
  "  --key FILE        the convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char parent_proposals_usage[] =
  "Usage: council parent proposals\n"
  "\n"
  "List the parent council's proposals as this node follows them from the\n"
  "parent's log (each entry checked against the parent's key): id, state,\n"
  "closing time, title, and the parent's decision once it is in, with its\n"
  "counts. Use the ids in mandates: --instruction ...,parent-proposal=ID.\n"
  "A decision that keeps its child councils' ballots in records of its own\n"
  "(a parent of some 800 councils and more): they are fetched from the\n"
  "parent, at the URL this node reaches it by, and checked against its key\n"
  "(as council decision show does); when they cannot be, that is said.\n"
  "--json prints the ProposalList.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char federation_usage[] =
  "Usage: council federation\n"
  "\n"
  "Show the node's link to its parent council: the parent's URL and key,\n"
  "records waiting in the outbox to go up, records the parent refused for\n"
  "good (dead letters: the newest 50 are listed with when, kind, record id\n"
  "and the parent's answer), how far the parent's log is followed, and the\n"
  "last error on the link. --json prints the FederationStatus.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char federation_resend_usage[] =
  "Usage: council federation resend ID... --key CONVENER_KEY\n"
  "\n"
  "Put dead letters back at the end of the outbox, so the node sends them\n"
  "to its parent again (e.g. once the parent has been set right to accept\n"
  "them). IDs are the dead letters' numbers as council federation lists\n"
  "them (the first column after the time; --json: dead_letters[].id).\n"
  "Signed by a convener (kind outbox_resend). A letter the parent refuses\n"
  "again becomes a dead letter again, with a new number.\n"
  "\n"
  "  --key FILE        the convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

/* Parse the options of a command that takes the common ones (and --key
 * when WITH_KEY) and exactly NPOS positional arguments named WHAT.
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
    return cn_cli_usage_error(cli, "%s %s required", what, npos > 1 ? "are" : "is");
  if (argc - optind > npos)
    return cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + npos]);
  return CN_EXIT_OK;
}

/* Ask the node at URL for its key and compare it with KEY. Return
 * CN_EXIT_OK if it matches, or if the node cannot be asked (a note is
 * printed: the parent may not be running yet, or not be reachable from
 * here); CN_EXIT_REFUSED (printed) if it answers with another key. *CHECKED
 * is set when the key was confirmed. */
static int check_parent_key(const char *url, const uint8_t key[CN_PK_BYTES], int timeout_ms,
                            int *checked)
{
  Councilnet__NodeInfo *info = NULL;
  cn_http_resp_t resp;
  char err[256], hex[2 * CN_PK_BYTES + 1];
  int rc = CN_EXIT_OK;

  *checked = 0;
  memset(&resp, 0, sizeof resp);
  if (timeout_ms > PARENT_CHECK_TIMEOUT_MS)
    timeout_ms = PARENT_CHECK_TIMEOUT_MS;
  if (cn_http_request(url, "GET", "/v1/node", CT_PROTOBUF, NULL, NULL, 0, timeout_ms, &resp,
                      err, sizeof err) < 0) {
    fprintf(stderr, "council: note: the parent's key is not checked (%s)\n", err);
    return CN_EXIT_OK;
  }
  if (resp.status == 200)
    info = councilnet__node_info__unpack(NULL, resp.len, resp.body);
  if (!info || info->key.len != CN_PK_BYTES) {
    fprintf(stderr, "council: note: the parent's key is not checked (%s answered HTTP %d "
            "without a node key)\n", url, resp.status);
    goto out;
  }
  if (memcmp(info->key.data, key, CN_PK_BYTES) != 0) {
    cn_hex_encode(hex, info->key.data, CN_PK_BYTES);
    cn_cli_errorf("the node at %s has key %s, not the KEY given", url, hex);
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  *checked = 1;
out:
  if (info)
    councilnet__node_info__free_unpacked(info, NULL);
  cn_http_resp_clear(&resp);
  return rc;
}

int cn_cmd_parent_set(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__ParentSet body = COUNCILNET__PARENT_SET__INIT;
  Councilnet__Receipt *receipt = NULL;
  uint8_t key[CN_PK_BYTES], sk[CN_SK_BYTES];
  char hex[2 * CN_PK_BYTES + 1];
  const char *url;
  int done, checked = 0, rc;

  cli->usage = parent_set_usage;
  rc = parse_plain(cli, argc, argv, 1, 2, "URL and KEY", &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  url = argv[optind];
  if (strncmp(url, "http://", 7) != 0 || !url[7] || strlen(url) > MAX_URL) {
    rc = cn_cli_usage_error(cli, "URL must be http://HOST:PORT (at most %d characters)", MAX_URL);
    goto out;
  }
  if (cn_args_parse_hex32(argv[optind + 1], key) < 0) {
    rc = cn_cli_usage_error(cli, "KEY must be the parent node's key (%d hex digits)",
                            2 * CN_PK_BYTES);
    goto out;
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  if (memcmp(key, cli->node_pk, CN_PK_BYTES) == 0) {
    rc = cn_cli_usage_error(cli, "KEY is this node's own key: a node cannot be its own parent");
    goto out;
  }
  rc = check_parent_key(url, key, cli->timeout_ms, &checked);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.url = (char *)url;
  body.key.data = key;
  body.key.len = CN_PK_BYTES;
  rc = cn_cli_post_record(cli, "parent_set", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (!cli->json) {
    printf("Parent:     %s\n", url);
    cn_hex_encode(hex, key, CN_PK_BYTES);
    printf("Parent key: %s%s\n", hex, checked ? " (the parent answers with this key)" : "");
    cn_hex_encode(hex, cli->node_pk, CN_PK_BYTES);
    printf("This node:  %s (the parent's convener admits this key: council member add KEY --council)\n", hex);
  }
  rc = cn_cli_print_receipt(cli, receipt);
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

/* Point PCLI at the parent of the node CLI talks to: its URL as that node
 * reaches it (copied into URL, CAP bytes) and the key it follows the
 * parent's log with. Return a CN_EXIT_ status (errors printed). */
static int parent_cli(cn_cli_t *cli, cn_cli_t *pcli, char *url, size_t cap)
{
  Councilnet__FederationStatus *f = NULL;
  int rc;

  rc = cn_cli_get(cli, "/v1/federation", &councilnet__federation_status__descriptor,
                  (ProtobufCMessage **)&f);
  if (rc != CN_EXIT_OK)
    return rc;
  if (!f->parent_url || !*f->parent_url || f->parent_key.len != CN_PK_BYTES) {
    cn_cli_errorf("the node names no parent");
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  cn_cli_init(pcli);
  snprintf(url, cap, "%s", f->parent_url);
  pcli->node_url = url;
  pcli->timeout_ms = cli->timeout_ms;
  memcpy(pcli->node_pk, f->parent_key.data, CN_PK_BYTES);
  pcli->have_node_pk = 1;
out:
  councilnet__federation_status__free_unpacked(f, NULL);
  return rc;
}

/* Print decision D on P in two short lines: result and counts; CONTRIB:
 * the child councils' ballots as cn_contrib_gather() got them. */
static void print_short_decision(const Councilnet__Proposal *p, const Councilnet__Decision *d,
                                 const cn_contrib_t *contrib)
{
  const char *winner = d->winner >= 0 ? cn_view_option_name(p, (size_t)d->winner) : NULL;
  char hex[2 * 8 + 1];
  size_t i;

  if (p && p->selection) {
    printf("    decided: %s, %zu of %u seat%s filled %s", d->passed ? "PASSED" : "FAILED",
           d->n_selected, p->selection->seats, p->selection->seats == 1 ? "" : "s",
           p->selection->method == COUNCILNET__SELECTION_METHOD__BY_LOT ? "by lot" : "by vote");
    for (i = 0; i < d->n_selected; i++) {
      cn_cli_hex(hex, sizeof hex, &d->selected[i], 8);
      printf("%s%s", i ? ", " : ": ", hex);
    }
    printf("\n");
    return;
  }
  printf("    decided: %s", d->passed ? "PASSED" : "FAILED");
  if (winner)
    printf(", winner: %s", winner);
  else if (d->winner >= 0)
    printf(", winner: option %d", (int)d->winner);
  printf(" (%llu ballot%s", (unsigned long long)d->ballots, d->ballots == 1 ? "" : "s");
  if (contrib->complete && contrib->n)
    printf(", %zu from councils", contrib->n);
  printf(")\n    counts: ");
  for (i = 0; i < d->n_counts; i++) {
    const char *name = cn_view_option_name(p, i);
    if (name)
      printf("%s%s %llu", i ? ", " : "", name, (unsigned long long)d->counts[i]);
    else
      printf("%s#%zu %llu", i ? ", " : "", i, (unsigned long long)d->counts[i]);
  }
  printf("\n");
  if (!contrib->complete)
    printf("    council ballots: INCOMPLETE: %s\n", contrib->error);
}

int cn_cmd_parent_proposals(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__ProposalList *list = NULL;
  cn_cli_t parent;
  char id[2 * CN_HASH_BYTES + 1], t[64], url[512];
  size_t i;
  int done, rc, have_parent = 0;

  cli->usage = parent_proposals_usage;
  rc = parse_plain(cli, argc, argv, 0, 0, "", &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  rc = cn_cli_get(cli, "/v1/parent/proposals", &councilnet__proposal_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&list->base);
    goto out;
  }
  if (list->n_proposals == 0) {
    printf("no parent proposals (no parent, or none followed yet; see council federation)\n");
    goto out;
  }
  printf("%-64s  %-8s  %-23s  %s\n", "ID", "STATE", "CLOSES", "TITLE");
  for (i = 0; i < list->n_proposals; i++) {
    const Councilnet__ProposalView *v = list->proposals[i];
    const Councilnet__Proposal *p = v->proposal;
    cn_cli_hex(id, sizeof id, &v->id, CN_HASH_BYTES);
    if (p)
      cn_cli_format_time(t, sizeof t, p->closes);
    else
      snprintf(t, sizeof t, "-");
    printf("%-64s  %-8s  %-23s  %s\n", id, cn_view_state_name(v->state), t,
           p && p->title ? p->title : "");
    if (p && p->selection)
      printf("    a delegate selection at the parent\n");
    if (p && p->rule && p->rule->weight_by_roll)
      printf("    weighted: each council's ballot weighs the people it speaks for\n");
    if (v->decision) {
      const Councilnet__Decision *d = v->decision;
      cn_contrib_t contrib;
      memset(&contrib, 0, sizeof contrib);
      /* ballots in records of their own: those are at the parent */
      if (d->n_contribution_records && !have_parent)
        have_parent = parent_cli(cli, &parent, url, sizeof url) == CN_EXIT_OK ? 1 : -1;
      if (d->n_contribution_records && have_parent < 0) {
        contrib.records = d->n_contribution_records;
        snprintf(contrib.error, sizeof contrib.error, "listed in %zu records at the parent, "
                 "which cannot be asked", contrib.records);
        rc = CN_EXIT_REFUSED;
      } else if (cn_contrib_gather(d->n_contribution_records ? &parent : cli, d, &contrib) != 0) {
        rc = CN_EXIT_REFUSED;
      }
      print_short_decision(p, d, &contrib);
      cn_contrib_clear(&contrib);
    }
  }
out:
  if (have_parent > 0)
    cn_cli_clear(&parent);
  if (list)
    councilnet__proposal_list__free_unpacked(list, NULL);
  return rc;
}

int cn_cmd_federation(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__FederationStatus *f = NULL;
  char hex[2 * CN_PK_BYTES + 1];
  size_t i;
  int done, rc;

  cli->usage = federation_usage;
  rc = parse_plain(cli, argc, argv, 0, 0, "", &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  rc = cn_cli_get(cli, "/v1/federation", &councilnet__federation_status__descriptor,
                  (ProtobufCMessage **)&f);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&f->base);
    goto out;
  }
  if (f->parent_url && *f->parent_url) {
    printf("Parent:     %s\n", f->parent_url);
    cn_cli_hex(hex, sizeof hex, &f->parent_key, CN_PK_BYTES);
    printf("Parent key: %s\n", hex);
  } else {
    printf("Parent:     none (set one with council parent set)\n");
  }
  printf("Outbox:     %llu record%s waiting to go up\n", (unsigned long long)f->outbox,
         f->outbox == 1 ? "" : "s");
  printf("Dead:       %llu record%s the parent refused for good\n", (unsigned long long)f->dead,
         f->dead == 1 ? "" : "s");
  printf("Parent log: followed up to seq %llu\n", (unsigned long long)f->parent_seq);
  printf("Last error: %s\n", f->last_error && *f->last_error ? f->last_error : "none");
  for (i = 0; i < f->n_children; i++) {
    const Councilnet__Member *m = f->children[i];
    cn_cli_hex(hex, sizeof hex, &m->key, CN_PK_BYTES);
    printf("%s%s  %s\n", i == 0 ? "Children:   " : "            ", hex,
           m->name && *m->name ? m->name : "");
  }
  /* the newest dead letters, each with the parent's reason */
  for (i = 0; i < f->n_dead_letters; i++) {
    const Councilnet__DeadLetter *d = f->dead_letters[i];
    char when[32];
    time_t t = (time_t)d->at;
    struct tm tm;
    cn_cli_hex(hex, sizeof hex, &d->record_id, CN_HASH_BYTES);
    if (gmtime_r(&t, &tm))
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    else
      snprintf(when, sizeof when, "%llu", (unsigned long long)d->at);
    printf("%s%s  #%llu  %s  %s\n            %s\n", i == 0 ? "Refused:    " : "            ",
           when, (unsigned long long)d->id, d->kind, hex, d->error);
  }
  if (f->dead > f->n_dead_letters)
    printf("            (the newest %zu of %llu shown)\n", f->n_dead_letters,
           (unsigned long long)f->dead);
out:
  if (f)
    councilnet__federation_status__free_unpacked(f, NULL);
  return rc;
}

int cn_cmd_federation_resend(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__OutboxResend body = COUNCILNET__OUTBOX_RESEND__INIT;
  Councilnet__Receipt *receipt = NULL;
  uint64_t *ids = NULL;
  uint8_t sk[CN_SK_BYTES];
  int rc = CN_EXIT_LOCAL;
  size_t n;

  cli->usage = federation_resend_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind >= argc) {
    rc = cn_cli_usage_error(cli, "name at least one dead letter (see council federation)");
    goto out;
  }
  n = (size_t)(argc - optind);
  ids = calloc(n, sizeof *ids);
  if (!ids) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    const char *a = argv[optind + (int)i];
    if (*a == '#')
      a++;
    if (cn_args_parse_u64(a, &ids[i]) < 0 || ids[i] == 0) {
      rc = cn_cli_usage_error(cli, "\"%s\" is not a dead letter number", argv[optind + (int)i]);
      goto out;
    }
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.ids = ids;
  body.n_ids = n;
  rc = cn_cli_post_record(cli, "outbox_resend", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (!cli->json)
    printf("%zu dead letter%s back in the outbox\n", n, n == 1 ? "" : "s");
  rc = cn_cli_print_receipt(cli, receipt);
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  sodium_memzero(sk, sizeof sk);
  free(ids);
  return rc;
}
