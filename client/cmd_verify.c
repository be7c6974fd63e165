/* cmd_verify.c: `council verify`: fetch a node's whole log and check it
 * from the first entry to the signed head. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include "councilnet/log.h"
#include "councilnet/record.h"

#define VERIFY_PAGE 10000        /* entries asked per request (the server's maximum) */
#define VERIFY_PROGRESS 100000   /* progress line on stderr every so many entries */
#define VERIFY_HEAD_TRIES 5      /* re-reads when the log grows while we check the head */

static const char verify_usage[] =
  "Usage: council verify [--node-key HEX]\n"
  "\n"
  "Fetch the node's whole log page by page and check every entry: seq\n"
  "order, hash chain, record ids, entry hashes and record signatures, then\n"
  "the node-signed head. The node key comes from GET /v1/node unless\n"
  "--node-key pins it. Prints \"verified N entries, head HEX\" (exit 0) or the\n"
  "first bad entry as \"entry SEQ: reason\" (exit 1).\n"
  "--json prints {\"ok\":true,\"entries\":N,\"head\":HEX} or\n"
  "{\"ok\":false,\"seq\":S,\"error\":REASON}.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

/* Report a failed check at SEQ. Return CN_EXIT_REFUSED. */
static int report_bad(const cn_cli_t *cli, uint64_t seq, const char *what, const char *reason)
{
  if (cli->json) {
    printf("{\"ok\":false,\"seq\":%llu,\"error\":", (unsigned long long)seq);
    cn_cli_json_string(stdout, reason);
    printf("}\n");
  } else {
    fprintf(stderr, "%s %llu: %s\n", what, (unsigned long long)seq, reason);
  }
  return CN_EXIT_REFUSED;
}

/* Check the page's signed head against V. Return 0, or -1 with V->error set. */
static int check_head(cn_log_verifier_t *v, const Councilnet__LogPage *page)
{
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc;

  if (!page->head) {
    snprintf(v->error, sizeof v->error, "head: the log page carries no signed head");
    return -1;
  }
  if (cn_pb_pack(&page->head->base, &buf, &len) != 0) {
    snprintf(v->error, sizeof v->error, "head: out of memory");
    return -1;
  }
  rc = cn_log_verifier_check_head(v, buf, len);
  free(buf);
  return rc;
}

int cn_verify_log_walk(cn_cli_t *cli, cn_log_verifier_t *v, cn_verify_entry_fn fn, void *ctx,
                       cn_verify_failure_t *bad)
{
  Councilnet__LogPage *page = NULL;
  char path[96];
  uint64_t next_progress = VERIFY_PROGRESS;
  size_t i;
  int tries = 0, rc;

  memset(bad, 0, sizeof *bad);
  for (;;) {
    snprintf(path, sizeof path, "/v1/log?after=%llu&limit=%d", (unsigned long long)v->seq,
             VERIFY_PAGE);
    rc = cn_cli_get(cli, path, &councilnet__log_page__descriptor, (ProtobufCMessage **)&page);
    if (rc != CN_EXIT_OK)
      goto out;
    for (i = 0; i < page->n_entries; i++) {
      const Councilnet__LogEntry *e = page->entries[i];
      if (cn_log_verifier_step(v, e->seq, e->prev.data, e->prev.len, e->record_id.data,
                               e->record_id.len, e->received, e->hash.data, e->hash.len,
                               e->envelope.data, e->envelope.len) != 0) {
        bad->failed = 1;
        bad->seq = e->seq;
        bad->what = "entry";
        rc = CN_EXIT_REFUSED;
        goto out;
      }
      if (fn && (rc = fn(ctx, e)) != CN_EXIT_OK)
        goto out;
      if (v->seq >= next_progress) {
        fprintf(stderr, "council: verified %llu entries...\n", (unsigned long long)v->seq);
        next_progress = v->seq - v->seq % VERIFY_PROGRESS + VERIFY_PROGRESS;
      }
    }
    if (page->n_entries == 0) {
      if (check_head(v, page) == 0)
        break;
      if (++tries >= VERIFY_HEAD_TRIES) {
        bad->failed = 1;
        bad->seq = v->seq;
        bad->what = "after entry";
        rc = CN_EXIT_REFUSED;
        goto out;
      }
    }
    councilnet__log_page__free_unpacked(page, NULL);
    page = NULL;
  }
  rc = CN_EXIT_OK;
out:
  if (page)
    councilnet__log_page__free_unpacked(page, NULL);
  return rc;
}

int cn_cmd_verify(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  cn_verify_failure_t bad;
  cn_log_verifier_t v;
  char head[2 * CN_HASH_BYTES + 1];
  int c, rc = CN_EXIT_LOCAL;

  cli->usage = verify_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (cn_cli_common_option(cli, c, optarg) <= 0)
      goto out;
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_log_verifier_init(&v, cli->node_pk);
  rc = cn_verify_log_walk(cli, &v, NULL, NULL, &bad);
  if (bad.failed) {
    rc = report_bad(cli, bad.seq, bad.what, v.error);
    goto out;
  }
  if (rc != CN_EXIT_OK)
    goto out;
  cn_hex_encode(head, v.hash, CN_HASH_BYTES);
  if (cli->json)
    printf("{\"ok\":true,\"entries\":%llu,\"head\":\"%s\"}\n", (unsigned long long)v.seq, head);
  else
    printf("verified %llu entries, head %s\n", (unsigned long long)v.seq, head);
  rc = CN_EXIT_OK;
out:
  return rc;
}
