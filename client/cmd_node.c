/* cmd_node.c: `council node info` and `council log`. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include "args.h"

#define LOG_PAGE 1000            /* entries asked per request */
#define SHORT_HEX 8              /* bytes shown of keys and ids in the log listing */

static const char node_info_usage[] =
  "Usage: council node info\n"
  "\n"
  "Show the node: name, public key, conveners, log head, clock, roll size.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char log_usage[] =
  "Usage: council log [--after N] [--limit M]\n"
  "\n"
  "List log entries with seq > N (default 0), at most M (default all):\n"
  "seq, kind, signer and record id (shortened), time received.\n"
  "--json prints one LogPage with all the entries and the node's signed head.\n"
  "\n"
  "  --after N         start after seq N\n"
  "  --limit M         print at most M entries\n"
  CN_CLI_COMMON_USAGE;

int cn_cmd_node_info(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__NodeInfo *info = NULL;
  char hex[2 * CN_HASH_BYTES + 1], t[64];
  size_t i;
  int rc = CN_EXIT_LOCAL;

  cli->usage = node_info_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  rc = cn_cli_get(cli, "/v1/node", &councilnet__node_info__descriptor,
                  (ProtobufCMessage **)&info);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->have_node_pk
      && (info->key.len != CN_PK_BYTES || memcmp(info->key.data, cli->node_pk, CN_PK_BYTES) != 0)) {
    cn_cli_errorf("the node's key differs from --node-key");
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  if (cli->json) {
    rc = cn_cli_print_json(&info->base);
    goto out;
  }
  printf("Name:       %s\n", info->name && *info->name ? info->name : "-");
  cn_cli_hex(hex, sizeof hex, &info->key, CN_PK_BYTES);
  printf("Key:        %s\n", hex);
  printf("Version:    %s\n", info->version && *info->version ? info->version : "-");
  for (i = 0; i < info->n_conveners; i++) {
    cn_cli_hex(hex, sizeof hex, &info->conveners[i], CN_PK_BYTES);
    printf("%s%s\n", i == 0 ? "Conveners:  " : "            ", hex);
  }
  printf("Roll:       %llu members\n", (unsigned long long)info->roll);
  printf("Log seq:    %llu\n", (unsigned long long)info->seq);
  cn_cli_hex(hex, sizeof hex, &info->head, CN_HASH_BYTES);
  printf("Log head:   %s\n", hex);
  cn_cli_format_time(t, sizeof t, info->time);
  printf("Node time:  %s (%llu)\n", t, (unsigned long long)info->time);
out:
  if (info)
    councilnet__node_info__free_unpacked(info, NULL);
  return rc;
}

static void print_entry(const Councilnet__LogEntry *e)
{
  Councilnet__Envelope *env;
  char signer[2 * SHORT_HEX + 1], id[2 * SHORT_HEX + 1], t[64];
  const char *kind = "?";

  env = councilnet__envelope__unpack(NULL, e->envelope.len, e->envelope.data);
  if (env && env->kind && *env->kind)
    kind = env->kind;
  if (env)
    cn_cli_hex(signer, sizeof signer, &env->signer, SHORT_HEX);
  else
    snprintf(signer, sizeof signer, "?");
  cn_cli_hex(id, sizeof id, &e->record_id, SHORT_HEX);
  cn_cli_format_time(t, sizeof t, e->received);
  printf("%8llu  %-14s  %-16s  %-16s  %s\n", (unsigned long long)e->seq, kind, signer, id, t);
  if (env)
    councilnet__envelope__free_unpacked(env, NULL);
}

/* Print the pages as one LogPage: the first USED[i] entries of each page
 * PAGES[i], and the head of the last page. */
static int print_pages_json(Councilnet__LogPage **pages, const size_t *used, size_t n_pages)
{
  Councilnet__LogPage all = COUNCILNET__LOG_PAGE__INIT;
  Councilnet__LogEntry **entries = NULL;
  size_t i, total = 0;
  int rc;

  for (i = 0; i < n_pages; i++)
    total += used[i];
  if (total > 0) {
    entries = malloc(total * sizeof *entries);
    if (!entries) {
      cn_cli_errorf("out of memory");
      return CN_EXIT_LOCAL;
    }
  }
  for (i = 0; i < n_pages; i++) {
    if (used[i] > 0 && entries)
      memcpy(entries + all.n_entries, pages[i]->entries, used[i] * sizeof *entries);
    all.n_entries += used[i];
  }
  all.entries = entries;
  all.head = n_pages > 0 ? pages[n_pages - 1]->head : NULL;
  rc = cn_cli_print_json(&all.base);
  free(entries);
  return rc;
}

/* Append PAGE (of which USED entries count) to *PAGES / *USEDS. Return 0 or -1. */
static int keep_page(Councilnet__LogPage ***pages, size_t **useds, size_t *n_pages,
                     Councilnet__LogPage *page, size_t used)
{
  Councilnet__LogPage **p;
  size_t *u;

  p = realloc(*pages, (*n_pages + 1) * sizeof *p);
  if (!p)
    return -1;
  *pages = p;
  u = realloc(*useds, (*n_pages + 1) * sizeof *u);
  if (!u)
    return -1;
  *useds = u;
  p[*n_pages] = page;
  u[*n_pages] = used;
  (*n_pages)++;
  return 0;
}

int cn_cmd_log(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_AFTER = CN_OPT_FIRST_LOCAL, OPT_LIMIT };
  static const struct option opts[] = {
    {"after", required_argument, NULL, OPT_AFTER},
    {"limit", required_argument, NULL, OPT_LIMIT},
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__LogPage **pages = NULL, *page = NULL;
  size_t *used = NULL, n_pages = 0, n, i;
  uint64_t after = 0, left = UINT64_MAX, ask, printed = 0;
  char path[96];
  int c, rc = CN_EXIT_LOCAL;

  cli->usage = log_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_AFTER) {
      if (cn_args_parse_u64(optarg, &after) < 0) {
        rc = cn_cli_usage_error(cli, "--after: expected a seq number");
        goto out;
      }
    } else if (c == OPT_LIMIT) {
      if (cn_args_parse_u64(optarg, &left) < 0) {
        rc = cn_cli_usage_error(cli, "--limit: expected a number of entries");
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
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  if (!cli->json)
    printf("%8s  %-14s  %-16s  %-16s  %s\n", "SEQ", "KIND", "SIGNER", "RECORD", "RECEIVED");
  for (;;) {
    ask = left - printed < LOG_PAGE ? left - printed : LOG_PAGE;
    if (ask == 0)
      break;
    snprintf(path, sizeof path, "/v1/log?after=%llu&limit=%llu", (unsigned long long)after,
             (unsigned long long)ask);
    rc = cn_cli_get(cli, path, &councilnet__log_page__descriptor, (ProtobufCMessage **)&page);
    if (rc != CN_EXIT_OK)
      goto out;
    n = page->n_entries < ask ? page->n_entries : (size_t)ask;
    for (i = 0; i < n; i++) {
      if (page->entries[i]->seq <= after) {
        cn_cli_errorf("the node's log page is out of order at seq %llu",
                      (unsigned long long)page->entries[i]->seq);
        rc = CN_EXIT_REFUSED;
        goto out;
      }
      after = page->entries[i]->seq;
      if (!cli->json)
        print_entry(page->entries[i]);
    }
    printed += n;
    if (cli->json) {
      if (keep_page(&pages, &used, &n_pages, page, n) < 0) {
        cn_cli_errorf("out of memory");
        rc = CN_EXIT_LOCAL;
        goto out;
      }
      page = NULL;
    } else {
      councilnet__log_page__free_unpacked(page, NULL);
      page = NULL;
    }
    if (n == 0)
      break;
  }
  rc = cli->json ? print_pages_json(pages, used, n_pages) : CN_EXIT_OK;
out:
  if (page)
    councilnet__log_page__free_unpacked(page, NULL);
  for (i = 0; i < n_pages; i++)
    councilnet__log_page__free_unpacked(pages[i], NULL);
  free(pages);
  free(used);
  return rc;
}
