/* cmd_receipt.c: `council receipt check`: a member's kept receipts against
 * the node's signature and the node's log.
 *
 * A receipt (receipt.h) is the node's signed word that a record is entry
 * SEQ of its log, with that entry hash. Checked offline it shows the
 * signature holds. Checked against the node, the entry at SEQ is chained,
 * entry by entry, to the head the node signs now: if that signed log holds
 * another record at SEQ, or its signed head is before SEQ, the node has
 * dropped or rewritten the record, and the receipt with that log is the
 * proof.
 *
 * Only a head signed after the entry was appended can show it missing, and
 * times are whole seconds: a head signed in the receipt's own second may be
 * from just before the append. The node signs a fresh head with its
 * current time on every request, so the client waits (a bounded time, once
 * for all the receipts of a run) for the node's clock to pass the receipt,
 * and asks again. */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "councilnet/receipt.h"
#include "councilnet/record.h"

#define RECEIPT_FILE_MAX (64 * 1024)   /* far above any receipt a node makes */
#define RECEIPT_WAIT_MS 3000           /* the longest one run waits for the node's clock */
#define RECEIPT_POLL_MS 200            /* how often the node's time is asked meanwhile */

static const char receipt_check_usage[] =
  "Usage: council receipt check FILE... [--offline] [--node-key HEX]\n"
  "\n"
  "Check receipts kept by setting COUNCIL_RECEIPTS=DIR while acting (each\n"
  "receipt is then saved as DIR/<record id>.receipt). For each FILE: the\n"
  "node's signature over the receipt's batch and the receipt's path to it;\n"
  "then the node's log: the entry at the receipt's seq and every entry after\n"
  "it, checked as `council verify` checks them, up to the head the node\n"
  "signs now. The node key comes from GET /v1/node unless --node-key pins\n"
  "it; pin it to check a node you do not trust.\n"
  "Prints one line per receipt. Exit 0 when every receipt holds; 1 when a\n"
  "receipt does not verify, the node's log does not verify or is not shown,\n"
  "or the node's signed log contradicts the receipt (keep that receipt: with\n"
  "the node's log it proves the node dropped or rewrote the record); 2 when\n"
  "a file cannot be read or the node cannot be reached (1 wins over 2).\n"
  "--json prints {\"receipts\":[{\"file\",\"ok\",\"seq\",\"record_id\",\n"
  "\"entry_hash\",\"in_log\",\"error\"}]}: in_log is true, false (contradicted)\n"
  "or null (offline, or not shown); the node's own errors go to stderr.\n"
  "A signed head that ends before the receipt's seq proves a loss only when\n"
  "signed after the receipt's second: when the node's head is no newer, the\n"
  "command waits (at most 3 s in all, once per run) for the node's clock to\n"
  "pass the receipt and asks again; a node whose clock is behind the receipt\n"
  "is reported as such (ask again later).\n"
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

/* Waiting for the node's clock to pass a receipt: one budget for all the
 * receipts of a run, so a node whose clock is behind delays the command
 * once, not once per receipt. */
typedef struct receipt_wait_t {
  int64_t deadline_ms;      /* CLOCK_MONOTONIC; 0 until the first wait */
  uint64_t node_time;       /* the node's time (GET /v1/node) when last asked */
} receipt_wait_t;

static int64_t receipt_now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void receipt_sleep_ms(int64_t ms)
{
  struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Ask the node's time (GET /v1/node) until it is past T, sleeping between
 * asks while the run's budget lasts; once the budget is spent, ask once.
 * WAIT->node_time gets the last answer. The time is the node's unsigned
 * word, used only to know when to ask for a signed head again. Return a
 * CN_EXIT_ status of the requests. */
static int receipt_wait_past(cn_cli_t *cli, receipt_wait_t *wait, uint64_t t)
{
  Councilnet__NodeInfo *info = NULL;
  int64_t left;
  int rc;

  for (;;) {
    rc = cn_cli_get(cli, "/v1/node", &councilnet__node_info__descriptor,
                    (ProtobufCMessage **)&info);
    if (rc != CN_EXIT_OK)
      return rc;
    wait->node_time = info->time;
    councilnet__node_info__free_unpacked(info, NULL);
    info = NULL;
    if (wait->node_time > t)
      return CN_EXIT_OK;
    if (wait->deadline_ms == 0) {
      wait->deadline_ms = receipt_now_ms() + RECEIPT_WAIT_MS;
      fprintf(stderr, "council: the node's clock has not passed a receipt's time; waiting up "
              "to %d s for it...\n", RECEIPT_WAIT_MS / 1000);
    }
    left = wait->deadline_ms - receipt_now_ms();
    if (left <= 0)
      return CN_EXIT_OK;
    receipt_sleep_ms(left < RECEIPT_POLL_MS ? left : RECEIPT_POLL_MS);
  }
}

/* Read FILE, a regular file, whole into *BUF. Return 0, or -1 with
 * RES->error set. */
static int receipt_read(const char *file, uint8_t **buf, size_t *len, receipt_result_t *res)
{
  FILE *f = fopen(file, "rb");
  uint8_t *b = NULL;
  struct stat st;
  size_t n = 0;

  *buf = NULL;
  if (!f) {
    snprintf(res->error, sizeof res->error, "cannot read: %s", strerror(errno));
    return -1;
  }
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(res->error, sizeof res->error, "cannot read: not a file");
    goto fail;
  }
  if (st.st_size > RECEIPT_FILE_MAX) {
    snprintf(res->error, sizeof res->error, "larger than any receipt");
    goto fail;
  }
  b = malloc(RECEIPT_FILE_MAX + 1);
  if (!b) {
    snprintf(res->error, sizeof res->error, "cannot read: out of memory");
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
  fclose(f);
  free(b);
  return -1;
}

/* The entry the walk saw at the receipt's seq. */
typedef struct receipt_walk_t {
  uint64_t seq;
  int seen;
  uint8_t record_id[CN_HASH_BYTES], hash[CN_HASH_BYTES];
} receipt_walk_t;

static int receipt_walk_entry(void *ctx, const Councilnet__LogEntry *e)
{
  receipt_walk_t *w = ctx;
  if (!w->seen && e->seq == w->seq) {
    memcpy(w->record_id, e->record_id.data, CN_HASH_BYTES);
    memcpy(w->hash, e->hash.data, CN_HASH_BYTES);
    w->seen = 1;
  }
  return CN_EXIT_OK;
}

/* The seq of PAGE's head if the node signed it, else -1; *CREATED gets
 * when the node signed it. */
static int64_t receipt_signed_head(cn_cli_t *cli, const Councilnet__LogPage *page,
                                   uint64_t *created)
{
  Councilnet__Head *h = NULL;
  uint8_t *buf = NULL;
  size_t len = 0;
  int64_t seq = -1;

  /* the head arrives inside the page: its canonical encoding is the only
   * one an envelope opens with, so packing it again gives the bytes */
  if (!page->head || cn_pb_pack(&page->head->base, &buf, &len) != 0)
    return -1;
  if (cn_cli_open_node_signed(cli, buf, len, "head", &councilnet__head__descriptor,
                              (ProtobufCMessage **)&h) == CN_EXIT_OK && h->seq <= INT64_MAX) {
    seq = (int64_t)h->seq;
    *created = h->created;
  }
  if (h)
    councilnet__head__free_unpacked(h, NULL);
  free(buf);
  return seq;
}

/* Does the node's signed log hold R's entry? The entry at R's seq must be
 * chained, entry by entry, to the head the node signs now (every entry
 * after it checked as `council verify` checks it): then what the log holds
 * there is the node's signed word, set against its signed receipt. A head
 * no newer than the receipt is asked again once the node's clock has
 * passed the receipt (see WAIT). Fill RES (in_log 1, 0 contradicted, -1
 * not shown); return a CN_EXIT_ status of the requests. */
static int receipt_against_log(cn_cli_t *cli, receipt_wait_t *wait, const Councilnet__Receipt *r,
                               receipt_result_t *res)
{
  Councilnet__LogPage *page = NULL;
  const Councilnet__LogEntry *e;
  receipt_walk_t w;
  cn_verify_failure_t bad;
  cn_log_verifier_t v;
  char path[96], rid[2 * CN_HASH_BYTES + 1];
  int64_t head = -1;
  uint64_t head_created = 0;
  int rc, waited = 0;

  snprintf(path, sizeof path, "/v1/log?after=%llu&limit=1", (unsigned long long)(r->seq - 1));
  for (;;) {
    rc = cn_cli_get(cli, path, &councilnet__log_page__descriptor, (ProtobufCMessage **)&page);
    if (rc != CN_EXIT_OK)
      goto out;
    e = page->n_entries ? page->entries[0] : NULL;
    if (e && e->seq == r->seq)
      break;
    head = receipt_signed_head(cli, page, &head_created);
    if (head < 0 || (uint64_t)head >= r->seq || head_created > r->created || waited)
      break;
    /* The head may be from before the append (the same second) and proves
     * nothing yet; one the node signs once its clock has passed the
     * receipt must hold the entry. */
    waited = 1;
    rc = receipt_wait_past(cli, wait, r->created);
    if (rc != CN_EXIT_OK)
      goto out;
    if (wait->node_time <= r->created)
      break;
    councilnet__log_page__free_unpacked(page, NULL);
    page = NULL;
  }
  if (!e || e->seq != r->seq) {
    if (head < 0) {
      snprintf(res->error, sizeof res->error,
               "the node shows no entry %llu and no valid signed head",
               (unsigned long long)r->seq);
    } else if ((uint64_t)head < r->seq && head_created <= r->created &&
               wait->node_time <= r->created) {
      /* Every head such a clock signs is dated no later than the receipt:
       * none can show the entry missing. */
      snprintf(res->error, sizeof res->error,
               "the node's clock is behind this receipt (node time %llu, receipt time %llu): "
               "its signed head (seq %lld) proves nothing yet; ask again later",
               (unsigned long long)wait->node_time, (unsigned long long)r->created,
               (long long)head);
    } else if ((uint64_t)head < r->seq && head_created <= r->created) {
      /* The node's clock has passed the receipt, yet it shows a head dated
       * no later: an old head shown again, which proves nothing. */
      snprintf(res->error, sizeof res->error,
               "the node shows a signed head (seq %lld) no newer than this receipt, though "
               "its clock has passed it; ask again later", (long long)head);
    } else if ((uint64_t)head < r->seq) {
      res->in_log = 0;
      snprintf(res->error, sizeof res->error,
               "the node's log contradicts this receipt: its signed head is at seq %lld, "
               "before entry %llu", (long long)head, (unsigned long long)r->seq);
    } else {
      snprintf(res->error, sizeof res->error,
               "the node signs a head at seq %lld but shows no entry %llu", (long long)head,
               (unsigned long long)r->seq);
    }
    goto out;
  }
  if (e->prev.len != CN_HASH_BYTES) {
    snprintf(res->error, sizeof res->error, "the node's entry %llu is malformed",
             (unsigned long long)r->seq);
    goto out;
  }
  /* Start the walk just before the entry. Its prev comes from the node,
   * but the receipt's entry hash covers it: a false prev cannot give the
   * entry hash the receipt names. */
  cn_log_verifier_init(&v, cli->node_pk);
  v.seq = r->seq - 1;
  memcpy(v.hash, e->prev.data, CN_HASH_BYTES);
  memset(&w, 0, sizeof w);
  w.seq = r->seq;
  rc = cn_verify_log_walk(cli, &v, receipt_walk_entry, &w, &bad);
  if (rc != CN_EXIT_OK) {
    if (bad.failed) {
      snprintf(res->error, sizeof res->error, "the node's log does not verify from entry %llu: "
               "%s %llu: %s", (unsigned long long)r->seq, bad.what, (unsigned long long)bad.seq,
               v.error);
      rc = CN_EXIT_OK;
    }
    goto out;
  }
  if (!w.seen) {
    snprintf(res->error, sizeof res->error, "the node's log walk never showed entry %llu",
             (unsigned long long)r->seq);
  } else if (memcmp(w.record_id, r->record_id.data, CN_HASH_BYTES) != 0 ||
             memcmp(w.hash, r->entry_hash.data, CN_HASH_BYTES) != 0) {
    res->in_log = 0;
    cn_hex_encode(rid, w.record_id, CN_HASH_BYTES);
    snprintf(res->error, sizeof res->error,
             "the node's log contradicts this receipt: its signed log holds record %s "
             "as entry %llu", rid, (unsigned long long)r->seq);
  } else {
    res->in_log = 1;
  }
out:
  if (page)
    councilnet__log_page__free_unpacked(page, NULL);
  return rc;
}

/* Check one FILE into RES. Return a CN_EXIT_ status: LOCAL when the file
 * cannot be read or the node not asked, REFUSED when the receipt fails. */
static int receipt_check_one(cn_cli_t *cli, receipt_wait_t *wait, const char *file, int offline,
                             receipt_result_t *res)
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
  if (r->seq == 0 || r->seq > INT64_MAX) {
    snprintf(res->error, sizeof res->error, "the receipt names seq %llu, which no log has",
             (unsigned long long)r->seq);
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  if (!offline) {
    /* the node's own error answers go to stderr as text: with --json,
     * stdout carries the one document this command prints */
    int json = cli->json;
    cli->json = 0;
    rc = receipt_against_log(cli, wait, r, res);
    cli->json = json;
    if (rc != CN_EXIT_OK) {
      snprintf(res->error, sizeof res->error, "%s (see above)", rc == CN_EXIT_LOCAL ?
               "the node could not be asked" : "the node did not show its log");
      goto out;
    }
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
  receipt_wait_t wait;
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
  memset(&wait, 0, sizeof wait);
  if (cli->json)
    printf("{\"receipts\":[");
  for (int i = optind; i < argc; i++) {
    rc = receipt_check_one(cli, &wait, argv[i], offline, &res);
    receipt_print(cli, &res, i == optind);
    /* a receipt that fails outranks a file that cannot be read */
    if (rc == CN_EXIT_REFUSED || (rc == CN_EXIT_LOCAL && worst == CN_EXIT_OK))
      worst = rc;
  }
  if (cli->json)
    printf("]}\n");
  return worst;
}
