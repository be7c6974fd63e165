/* cmd_receipt.c: `council receipt check`: a member's kept receipts against
 * the node's signature and the node's log.
 *
 * A receipt (receipt.h) is the node's signed word that a record is entry
 * SEQ of its log, with that entry hash. Checked offline it shows the
 * signature holds; checked against the node it shows the log still holds
 * the entry. If the log holds another entry at SEQ, or has none, the node
 * has dropped or rewritten the record, and the receipt is the proof. */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/receipt.h"

#define RECEIPT_FILE_MAX (64 * 1024)   /* far above any receipt a node makes */

static const char receipt_check_usage[] =
  "Usage: council receipt check FILE... [--offline] [--node-key HEX]\n"
  "\n"
  "Check receipts kept by setting COUNCIL_RECEIPTS=DIR while acting (each\n"
  "receipt is then saved as DIR/<record id>.receipt). For each FILE: the\n"
  "node's signature over the receipt's batch and the receipt's path to it,\n"
  "then that the node's log holds the entry the receipt names (the same\n"
  "seq, record id and entry hash). The node key comes from GET /v1/node\n"
  "unless --node-key pins it; pin it to check a node you do not trust.\n"
  "Prints one line per receipt; exit 0 when every receipt holds, 1 when one\n"
  "does not verify or the node's log contradicts it (then keep the receipt:\n"
  "with the node's signed log it proves the node dropped or rewrote the\n"
  "record), 2 when a file cannot be read.\n"
  "--json prints {\"receipts\":[{\"file\",\"ok\",\"seq\",\"record_id\",\n"
  "\"entry_hash\",\"in_log\",\"error\"}]} (in_log is null offline).\n"
  "\n"
  "  --offline         check the signatures only, without asking the node\n"
  "                    (needs --node-key)\n"
  CN_CLI_COMMON_USAGE;

/* What one receipt check found. */
typedef struct receipt_result_t {
  const char *file;
  int ok;
  int in_log;               /* 1 yes, 0 contradicted, -1 not asked */
  uint64_t seq;
  char record_id[2 * CN_HASH_BYTES + 1];
  char entry_hash[2 * CN_HASH_BYTES + 1];
  char error[384];
} receipt_result_t;

/* Read FILE whole into *BUF. Return 0, or -1 with RES->error set. */
static int receipt_read(const char *file, uint8_t **buf, size_t *len, receipt_result_t *res)
{
  FILE *f = fopen(file, "rb");
  uint8_t *b = malloc(RECEIPT_FILE_MAX + 1);
  size_t n = 0;

  *buf = NULL;
  if (!f || !b) {
    snprintf(res->error, sizeof res->error, "cannot read: %s", f ? "out of memory" : strerror(errno));
    goto fail;
  }
  n = fread(b, 1, RECEIPT_FILE_MAX + 1, f);
  if (ferror(f) || n > RECEIPT_FILE_MAX) {
    snprintf(res->error, sizeof res->error, "%s", ferror(f) ? "cannot read" : "larger than any receipt");
    goto fail;
  }
  fclose(f);
  *buf = b;
  *len = n;
  return 0;
fail:
  if (f)
    fclose(f);
  free(b);
  return -1;
}

/* Does the node's log hold R's entry? Fill RES. Return a CN_EXIT_ status
 * of the request (the answer itself goes into RES). */
static int receipt_against_log(cn_cli_t *cli, const Councilnet__Receipt *r, receipt_result_t *res)
{
  Councilnet__LogPage *page = NULL;
  const Councilnet__LogEntry *e;
  uint8_t h[CN_HASH_BYTES];
  char path[96], rid[2 * CN_HASH_BYTES + 1];
  int rc;

  snprintf(path, sizeof path, "/v1/log?after=%llu&limit=1", (unsigned long long)(r->seq - 1));
  rc = cn_cli_get(cli, path, &councilnet__log_page__descriptor, (ProtobufCMessage **)&page);
  if (rc != CN_EXIT_OK)
    return rc;
  res->in_log = 0;
  e = page->n_entries ? page->entries[0] : NULL;
  if (!e || e->seq != r->seq) {
    snprintf(res->error, sizeof res->error,
             "the node's log contradicts this receipt: it has no entry %llu",
             (unsigned long long)r->seq);
  } else if (e->record_id.len != CN_HASH_BYTES || e->hash.len != CN_HASH_BYTES ||
             e->prev.len != CN_HASH_BYTES) {
    snprintf(res->error, sizeof res->error, "the node's entry %llu is malformed",
             (unsigned long long)r->seq);
  } else if (memcmp(e->record_id.data, r->record_id.data, CN_HASH_BYTES) != 0 ||
             memcmp(e->hash.data, r->entry_hash.data, CN_HASH_BYTES) != 0) {
    cn_hex_encode(rid, e->record_id.data, CN_HASH_BYTES);
    snprintf(res->error, sizeof res->error,
             "the node's log contradicts this receipt: its entry %llu is record %s",
             (unsigned long long)r->seq, rid);
  } else {
    cn_log_entry_hash(h, e->seq, e->prev.data, e->record_id.data, e->received);
    if (memcmp(h, e->hash.data, CN_HASH_BYTES) != 0)
      snprintf(res->error, sizeof res->error,
               "the node's entry %llu does not hash to its own entry hash",
               (unsigned long long)r->seq);
    else
      res->in_log = 1;
  }
  councilnet__log_page__free_unpacked(page, NULL);
  return CN_EXIT_OK;
}

/* Check one FILE into RES. Return a CN_EXIT_ status: LOCAL when the file
 * cannot be read or the node not asked, REFUSED when the receipt fails. */
static int receipt_check_one(cn_cli_t *cli, const char *file, int offline, receipt_result_t *res)
{
  Councilnet__Receipt *r = NULL;
  uint8_t *buf = NULL;
  size_t len = 0;
  char msg[160];
  int rc;

  memset(res, 0, sizeof *res);
  res->file = file;
  res->in_log = -1;
  if (receipt_read(file, &buf, &len, res) != 0)
    return CN_EXIT_LOCAL;
  if (cn_receipt_open(buf, len, cli->node_pk, &r, msg, sizeof msg) != CN_OK) {
    snprintf(res->error, sizeof res->error, "not a valid receipt of this node: %s", msg);
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  res->seq = r->seq;
  cn_hex_encode(res->record_id, r->record_id.data, CN_HASH_BYTES);
  cn_hex_encode(res->entry_hash, r->entry_hash.data, CN_HASH_BYTES);
  if (r->seq == 0) {
    snprintf(res->error, sizeof res->error, "the receipt names seq 0, which no log has");
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  if (!offline) {
    rc = receipt_against_log(cli, r, res);
    if (rc != CN_EXIT_OK)
      goto out;
    if (res->in_log != 1) {
      rc = CN_EXIT_REFUSED;
      goto out;
    }
  }
  res->ok = 1;
  rc = CN_EXIT_OK;
out:
  if (r)
    councilnet__receipt__free_unpacked(r, NULL);
  free(buf);
  return rc;
}

static void receipt_print(const cn_cli_t *cli, const receipt_result_t *res, int first)
{
  if (cli->json) {
    printf("%s{\"file\":", first ? "" : ",");
    cn_cli_json_string(stdout, res->file);
    printf(",\"ok\":%s,\"seq\":%llu,\"record_id\":\"%s\",\"entry_hash\":\"%s\",\"in_log\":%s,"
           "\"error\":", res->ok ? "true" : "false", (unsigned long long)res->seq,
           res->record_id, res->entry_hash,
           res->in_log < 0 ? "null" : res->in_log ? "true" : "false");
    cn_cli_json_string(stdout, res->error);
    printf("}");
    return;
  }
  if (res->ok)
    printf("%s: seq %llu, record %s: signed by the node%s\n", res->file,
           (unsigned long long)res->seq, res->record_id,
           res->in_log == 1 ? ", and in its log" : " (the log not asked)");
  else if (res->seq)
    printf("%s: seq %llu, record %s: %s\n", res->file, (unsigned long long)res->seq,
           res->record_id, res->error);
  else
    printf("%s: %s\n", res->file, res->error);
}

int cn_cmd_receipt_check(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_OFFLINE = CN_OPT_FIRST_LOCAL };
  static const struct option opts[] = {
    {"offline", no_argument, NULL, OPT_OFFLINE},
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  receipt_result_t res;
  int c, offline = 0, rc = CN_EXIT_LOCAL, worst = CN_EXIT_OK;

  cli->usage = receipt_check_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_OFFLINE)
      offline = 1;
    else if (cn_cli_common_option(cli, c, optarg) <= 0)
      return CN_EXIT_LOCAL;
  }
  if (cli->help)
    return cn_cli_print_usage(cli);
  if (optind >= argc)
    return cn_cli_usage_error(cli, "name at least one receipt FILE");
  if (offline && !cli->have_node_pk)
    return cn_cli_usage_error(cli, "--offline needs the node's key (--node-key HEX)");
  if (!offline && (rc = cn_cli_node_key(cli)) != CN_EXIT_OK)
    return rc;
  if (cli->json)
    printf("{\"receipts\":[");
  for (int i = optind; i < argc; i++) {
    rc = receipt_check_one(cli, argv[i], offline, &res);
    if (rc == CN_EXIT_LOCAL && !res.error[0])
      snprintf(res.error, sizeof res.error, "the node could not be asked");
    receipt_print(cli, &res, i == optind);
    /* a receipt that fails outranks a file that cannot be read */
    if (rc == CN_EXIT_REFUSED || (rc == CN_EXIT_LOCAL && worst == CN_EXIT_OK))
      worst = rc;
  }
  if (cli->json)
    printf("]}\n");
  return worst;
}
