/* test_held_refusals.c: a refusal that rests on the node's state is
 * answered only once that state is durable.
 *
 * Each member sends two different ballots on one yes/no question at the
 * same moment, on two connections, so that both often land in one group
 * commit: one is applied, the other refused ALREADY_VOTED because of it.
 *  - With the disk working, every pair gets one receipt and one
 *    ALREADY_VOTED, and the log holds one ballot each.
 *  - With every write failing (the node's file-size limit lowered to 4 KiB
 *    with prlimit(2), so the WAL cannot take a frame: EFBIG, as a full disk
 *    would), no commit happens. Then no member may be told ALREADY_VOTED
 *    (the ballot it rests on is not there: the member would never send
 *    again, and the vote would be lost), and none gets a receipt: all are
 *    told to send again (INTERNAL). Before, the refusal was answered at
 *    once, before its batch's commit failed.
 *  - With the limit back, the node takes the ballots again (it did not die
 *    of SIGXFSZ, and its store recovered), once each. */
#define _GNU_SOURCE 1   /* prlimit */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define MEMBERS 64

static tnode_t node;
static uint8_t sk[MEMBERS][CN_SK_BYTES], pk[MEMBERS][CN_PK_BYTES];
static uint8_t *env[MEMBERS][2];
static size_t len[MEMBERS][2];
static int code[MEMBERS][2];
static pthread_barrier_t go;

static int propose(const char *title, uint8_t id[CN_HASH_BYTES])
{
  return util_propose_question(&node, sk[0], title, T0, T0 + 100000, id);
}

/* Member I's ballot K (0: yes, 1: no) on PID. */
static int seal_ballot(int i, int k, const uint8_t pid[CN_HASH_BYTES])
{
  free(env[i][k]);
  env[i][k] = NULL;
  return util_seal_ballot(&node, sk[i], pid, (uint32_t)k, T0 + 1, &env[i][k], &len[i][k]);
}

/* One thread per ballot of 16 members, all let go at once. */
#define WAVE 16
static int wave_from;

static void *poster(void *arg)
{
  int t = (int)(intptr_t)arg, i = wave_from + t / 2, k = t % 2;
  pthread_barrier_wait(&go);
  code[i][k] = util_post(&node, env[i][k], len[i][k], NULL);
  return NULL;
}

static int post_pairs(const uint8_t pid[CN_HASH_BYTES])
{
  for (int i = 0; i < MEMBERS; i++)
    for (int k = 0; k < 2; k++) {
      code[i][k] = -2;
      if (seal_ballot(i, k, pid) != 0)
        return -1;
    }
  for (wave_from = 0; wave_from < MEMBERS; wave_from += WAVE) {
    pthread_t th[2 * WAVE];
    if (pthread_barrier_init(&go, NULL, 2 * WAVE) != 0)
      return -1;
    for (int t = 0; t < 2 * WAVE; t++)
      if (pthread_create(&th[t], NULL, poster, (void *)(intptr_t)t) != 0)
        abort();            /* the barrier would wait for ever */
    for (int t = 0; t < 2 * WAVE; t++)
      pthread_join(th[t], NULL);
    pthread_barrier_destroy(&go);
  }
  return 0;
}

/* The node's soft file-size limit (its hard limit stays, so it can be
 * raised again). */
static int set_fsize(rlim_t limit)
{
  struct rlimit r;
  if (prlimit(node.pid, RLIMIT_FSIZE, NULL, &r) != 0)
    return -1;
  r.rlim_cur = limit;
  return prlimit(node.pid, RLIMIT_FSIZE, &r, NULL);
}

int main(void)
{
  uint8_t pid[CN_HASH_BYTES], pid2[CN_HASH_BYTES];
  int started = 0, limited = 0, pairs_ok = 0, refused = 0, told_again = 0, other = 0;

  cn_crypto_init();
  REQUIRE(tnode_start(&node, "Held refusals", T0) == 0);
  started = 1;
  for (int i = 0; i < MEMBERS; i++) {
    cn_crypto_keypair(pk[i], sk[i]);
    REQUIRE(util_admit(&node, pk[i], "member") == CN_OK);
  }
  REQUIRE(propose("Open the garden on Sundays", pid) == CN_OK);
  REQUIRE(propose("Paint the fence", pid2) == CN_OK);

  /* 1: the disk works: one receipt and one ALREADY_VOTED a member. */
  REQUIRE(post_pairs(pid) == 0);
  for (int i = 0; i < MEMBERS; i++) {
    int ok = (code[i][0] == CN_OK) + (code[i][1] == CN_OK);
    int dup = (code[i][0] == CN_ERR_ALREADY_VOTED) + (code[i][1] == CN_ERR_ALREADY_VOTED);
    pairs_ok += ok == 1 && dup == 1;
    if (ok != 1 || dup != 1)
      fprintf(stderr, "test_held_refusals: member %d: answers %d and %d\n", i, code[i][0],
              code[i][1]);
  }
  CHECK_EQ_INT(pairs_ok, MEMBERS);
  CHECK(util_ballots_are(&node, pid, MEMBERS));

  /* 2: no write reaches the disk. */
  REQUIRE(set_fsize(4096) == 0);
  limited = 1;
  REQUIRE(post_pairs(pid2) == 0);
  for (int i = 0; i < MEMBERS; i++)
    for (int k = 0; k < 2; k++) {
      refused += code[i][k] == CN_ERR_ALREADY_VOTED;
      told_again += code[i][k] == CN_ERR_INTERNAL;
      other += code[i][k] != CN_ERR_ALREADY_VOTED && code[i][k] != CN_ERR_INTERNAL;
      if (code[i][k] != CN_ERR_INTERNAL)
        fprintf(stderr, "test_held_refusals: no disk: member %d ballot %d answered %d\n", i, k,
                code[i][k]);
    }
  printf("test_held_refusals: no disk: %d told to send again, %d ALREADY_VOTED, %d other\n",
         told_again, refused, other);
  CHECK_EQ_INT(refused, 0);
  CHECK_EQ_INT(other, 0);
  CHECK_EQ_INT(told_again, 2 * MEMBERS);
  REQUIRE(set_fsize(RLIM_INFINITY) == 0);
  limited = 0;

  /* 3: the disk is back: the same ballots go in, once a member. */
  REQUIRE(post_pairs(pid2) == 0);
  pairs_ok = 0;
  for (int i = 0; i < MEMBERS; i++)
    pairs_ok += ((code[i][0] == CN_OK) + (code[i][1] == CN_OK)) == 1 &&
                ((code[i][0] == CN_ERR_ALREADY_VOTED) + (code[i][1] == CN_ERR_ALREADY_VOTED)) == 1;
  CHECK_EQ_INT(pairs_ok, MEMBERS);
  CHECK(util_ballots_are(&node, pid2, MEMBERS));
  CHECK(util_ballots_are(&node, pid, MEMBERS));
done:
  if (limited)
    set_fsize(RLIM_INFINITY);
  if (started)
    CHECK_EQ_INT(tnode_destroy(&node), 0);
  for (int i = 0; i < MEMBERS; i++)
    for (int k = 0; k < 2; k++)
      free(env[i][k]);
  return test_finish("test_held_refusals");
}
