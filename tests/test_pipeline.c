/* test_pipeline.c: councild's write pipeline (workers verify envelopes, the
 * loop applies and commits, the sync thread flushes the WAL, workers sign
 * the receipts), driven by many clients at once:
 *  - 32 clients post ballots, forged ballots and duplicates together:
 *    each good ballot gets a receipt for exactly its record, each forged
 *    one BAD_SIGNATURE, each duplicate a receipt for its first entry
 *    (same seq);
 *    the log holds every good ballot once, and no forged one;
 *  - clients that send a ballot and hang up before the answer: the node
 *    stays up, and each ballot is applied (a retry gets its receipt);
 *  - SIGTERM in the middle of a burst: councild drains the pipeline and
 *    exits cleanly; after a restart every receipted ballot is in the log. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define THREADS 32
#define MEMBERS 320
#define HANGUPS 24

static tnode_t node;
static uint8_t sk[MEMBERS][CN_SK_BYTES], pk[MEMBERS][CN_PK_BYTES];
static uint8_t *env[MEMBERS];
static size_t len[MEMBERS];
static int code[MEMBERS], dup_code[MEMBERS];
static uint64_t seq[MEMBERS], dup_seq[MEMBERS];
static int stop_posting;

static int seal_ballot(int i, const uint8_t pid[CN_HASH_BYTES], uint32_t *choice)
{
  free(env[i]);
  env[i] = NULL;
  return util_seal_ballot(&node, sk[i], pid, *choice, T0 + 1, &env[i], &len[i]);
}

static int propose(const char *title, uint8_t id[CN_HASH_BYTES])
{
  return util_propose_question(&node, sk[0], title, T0, T0 + 1000, id);
}

/* Members T, T + THREADS, ...: every 5th forged (a signature bit flipped),
 * every 3rd posted twice. */
static void *poster(void *arg)
{
  int t = (int)(intptr_t)arg;
  for (int i = t; i < MEMBERS && !__atomic_load_n(&stop_posting, __ATOMIC_ACQUIRE); i += THREADS) {
    if (i % 5 == 4)
      env[i][len[i] - 1] ^= 0x20;
    code[i] = util_post(&node, env[i], len[i], &seq[i]);
    if (code[i] < 0)
      break;                /* the node is gone (the SIGTERM case) */
    if (i % 3 == 0)
      dup_code[i] = util_post(&node, env[i], len[i], &dup_seq[i]);
  }
  return NULL;
}

static void run_posters(void)
{
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++)
    pthread_create(&th[t], NULL, poster, (void *)(intptr_t)t);
  for (int t = 0; t < THREADS; t++)
    pthread_join(th[t], NULL);
}

/* Send ENV and close the socket without reading the answer. */
static int post_and_hang_up(const uint8_t *e, size_t n)
{
  struct sockaddr_in sa;
  char head[256];
  int fd = socket(AF_INET, SOCK_STREAM, 0), k, ok;

  if (fd < 0)
    return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)node.port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  k = snprintf(head, sizeof head, "POST /v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n", n);
  ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
       write(fd, head, (size_t)k) == k && write(fd, e, n) == (ssize_t)n;
  close(fd);
  return ok ? 0 : -1;
}

typedef struct all_in_t {
  int from, to;
} all_in_t;

static int all_in_log(void *ctx)
{
  all_in_t *a = ctx;
  for (int i = a->from; i < a->to; i++) {
    uint8_t id[CN_HASH_BYTES];
    cn_crypto_hash(id, env[i], len[i]);
    if (util_log_count(&node, id) != 1)
      return 0;
  }
  return 1;
}

int main(void)
{
  uint8_t pid[CN_HASH_BYTES], pid2[CN_HASH_BYTES], pid3[CN_HASH_BYTES];
  uint32_t yes = 0;
  int started = 0, good = 0, forged_in_log = 0, missing = 0, receipted = 0;
  double signatures;
  all_in_t hung = { 0, HANGUPS };

  cn_crypto_init();
  REQUIRE(tnode_start(&node, "Pipeline assembly", T0) == 0);
  started = 1;
  for (int i = 0; i < MEMBERS; i++) {
    cn_crypto_keypair(pk[i], sk[i]);
    REQUIRE(util_admit(&node, pk[i], "member") == CN_OK);
  }
  REQUIRE(propose("Open the garden on Sundays", pid) == CN_OK);

  /* 1: a mixed burst from 32 clients at once. */
  for (int i = 0; i < MEMBERS; i++)
    REQUIRE(seal_ballot(i, pid, &yes) == 0);
  run_posters();
  for (int i = 0; i < MEMBERS; i++) {
    uint8_t id[CN_HASH_BYTES];
    int in_log;
    cn_crypto_hash(id, env[i], len[i]);
    in_log = util_log_count(&node, id);
    if (i % 5 == 4) {
      CHECK_EQ_INT(code[i], CN_ERR_BAD_SIGNATURE);
      if (i % 3 == 0)
        CHECK_EQ_INT(dup_code[i], CN_ERR_BAD_SIGNATURE);
      forged_in_log += in_log != 0;
      continue;
    }
    CHECK_EQ_INT(code[i], CN_OK);
    CHECK_EQ_INT(in_log, 1);
    good += code[i] == CN_OK && in_log == 1;
    if (i % 3 == 0) {
      CHECK_EQ_INT(dup_code[i], CN_OK);
      CHECK_EQ_INT(dup_seq[i], seq[i]);
    }
  }
  CHECK_EQ_INT(good, MEMBERS - MEMBERS / 5);
  CHECK_EQ_INT(forged_in_log, 0);
  /* /metrics counts every receipt the pipeline sent (good ones, their
   * duplicates, and the acts before) and the time spent in each stage */
  CHECK(util_metric(&node, "councilnet_pipeline_records_total") >= good);
  CHECK(util_metric(&node, "councilnet_pipeline_seconds_total{stage=\"verify\"}") > 0);
  CHECK(util_metric(&node, "councilnet_pipeline_seconds_total{stage=\"flush_sign\"}") > 0);
  /* receipts are signed a batch at a time (each one above was checked
   * alone, by its own path to a signed root): fewer signatures than
   * receipts */
  signatures = util_metric(&node, "councilnet_receipt_signatures_total");
  CHECK(signatures > 0);
  CHECK(signatures < util_metric(&node, "councilnet_pipeline_records_total"));
  printf("test_pipeline: %d ballots receipted from %d clients at once, %d forged refused, "
         "%.0f receipt signatures for %.0f receipts\n", good, THREADS, MEMBERS / 5, signatures,
         util_metric(&node, "councilnet_pipeline_records_total"));

  /* 2: clients that hang up before the answer. */
  REQUIRE(propose("Paint the fence", pid2) == CN_OK);
  for (int i = 0; i < HANGUPS; i++) {
    REQUIRE(seal_ballot(i, pid2, &yes) == 0);
    CHECK_EQ_INT(post_and_hang_up(env[i], len[i]), 0);
  }
  if (util_wait(all_in_log, &hung, 10000) != 0) {
    int in = 0;
    for (int i = 0; i < HANGUPS; i++) {
      uint8_t id[CN_HASH_BYTES];
      cn_crypto_hash(id, env[i], len[i]);
      in += util_log_count(&node, id) == 1;
    }
    fprintf(stderr, "test_pipeline: %d of %d hung-up ballots in the log\n", in, HANGUPS);
    CHECK(!"every hung-up ballot applied");
  }
  for (int i = 0; i < HANGUPS; i++) {
    uint64_t s = 0;
    CHECK_EQ_INT(util_post(&node, env[i], len[i], &s), CN_OK);
  }
  CHECK(util_head_seq(&node) > 0);

  /* 3: SIGTERM during a burst. */
  REQUIRE(propose("Buy a bench", pid3) == CN_OK);
  for (int i = 0; i < MEMBERS; i++) {
    REQUIRE(seal_ballot(i, pid3, &yes) == 0);
    code[i] = dup_code[i] = -1;
    if (i % 5 == 4)
      env[i][len[i] - 1] ^= 0x20;   /* the poster flips it back: all good */
  }
  {
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
      pthread_create(&th[t], NULL, poster, (void *)(intptr_t)t);
    util_sleep_ms(3);
    CHECK_EQ_INT(tnode_kill(&node, SIGTERM), 0);    /* exits cleanly */
    __atomic_store_n(&stop_posting, 1, __ATOMIC_RELEASE);
    for (int t = 0; t < THREADS; t++)
      pthread_join(th[t], NULL);
  }
  REQUIRE(tnode_restart(&node) == 0);
  for (int i = 0; i < MEMBERS; i++) {
    uint8_t id[CN_HASH_BYTES];
    if (code[i] != CN_OK)
      continue;
    receipted++;
    cn_crypto_hash(id, env[i], len[i]);
    if (util_log_count(&node, id) != 1)
      missing++;
  }
  CHECK_EQ_INT(missing, 0);
  printf("test_pipeline: SIGTERM mid-burst: %d ballots receipted, %d missing after restart\n",
         receipted, missing);
done:
  if (started && tnode_destroy(&node) != 0)
    CHECK(!"councild did not stop cleanly");
  for (int i = 0; i < MEMBERS; i++)
    free(env[i]);
  return test_finish("test_pipeline");
}
