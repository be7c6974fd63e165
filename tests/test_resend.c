/* test_resend.c: a record the node has logged gets its original receipt
 * when sent again (DESIGN: applying a record is idempotent), whatever the
 * checks before the log would say of it now. The node finds a resend at
 * the log insert (no lookup for every new record), so each refusal looks
 * the record up before it answers (a review found these answered with the
 * refusal):
 *  1. the node's own decision, sent back to it (FORBIDDEN otherwise);
 *  2. a child council's record, sent again after the council left the roll
 *     (a child outbox retrying after a lost receipt; NOT_ADMITTED otherwise,
 *     which the child's outbox would retry for ever).
 * test_badinput covers a resend over the key's rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util.h"

#define T0 1900000000ULL

static tnode_t node;

static void resend(const uint8_t *env, size_t len, uint64_t first_seq, const char *what)
{
  int64_t before = util_head_seq(&node);
  uint64_t seq = 0;
  int code = util_post(&node, env, len, &seq);

  test_checks_++;
  if (code != CN_OK || (first_seq && seq != first_seq) || util_head_seq(&node) != before) {
    test_failures_++;
    fprintf(stderr, "%s: resend answered code %d seq %llu (want %d, its first entry %llu)\n",
            what, code, (unsigned long long)seq, CN_OK, (unsigned long long)first_seq);
  }
}

int main(void)
{
  uint8_t msk[CN_SK_BYTES], mpk[CN_PK_BYTES], csk[CN_SK_BYTES], cpk[CN_PK_BYTES];
  uint8_t pid[CN_HASH_BYTES], did[CN_HASH_BYTES], fake[CN_HASH_BYTES];
  uint8_t *env = NULL;
  size_t len = 0;
  uint64_t seq = 0;
  int started = 0;

  cn_crypto_init();
  REQUIRE(tnode_start(&node, "resend", T0) == 0);
  started = 1;
  REQUIRE(util_settings_open(&node) == CN_OK);
  cn_crypto_keypair(mpk, msk);
  REQUIRE(util_admit(&node, mpk, "member") == CN_OK);

  /* 1. The node's own decision, sent back to it. */
  {
    Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
    Councilnet__Decision *d;
    Councilnet__Envelope *e;
    char path[128], hex[2 * CN_HASH_BYTES + 1];
    p.title = "Question";
    p.opens = T0;
    p.closes = T0 + 50;
    REQUIRE(util_propose(&node, node.convener_sk, &p, pid) == CN_OK);
    REQUIRE(util_vote(&node, msk, pid, 0) == CN_OK);
    REQUIRE(tnode_set_clock(&node, T0 + 51) == 0);
    d = util_wait_decision(&node, pid, 10000);
    REQUIRE(d);
    councilnet__decision__free_unpacked(d, NULL);
    cn_hex_encode(hex, pid, CN_HASH_BYTES);
    snprintf(path, sizeof path, "/v1/decisions/%s", hex);
    e = (Councilnet__Envelope *)util_get(&node, path, &councilnet__envelope__descriptor);
    REQUIRE(e);
    len = protobuf_c_message_get_packed_size(&e->base);
    env = malloc(len);
    REQUIRE(env);
    protobuf_c_message_pack(&e->base, env);
    councilnet__envelope__free_unpacked(e, NULL);
    cn_crypto_hash(did, env, len);
    free(env);
    env = NULL;
    REQUIRE(util_get_record(&node, did, &env, &len) == 0);
    REQUIRE(util_log_count(&node, did) == 1);
    resend(env, len, 0, "the node's own decision");
    free(env);
    env = NULL;
  }

  /* 2. A child council's record, again after the council left the roll. */
  {
    Councilnet__Decision cd = COUNCILNET__DECISION__INIT;
    Councilnet__MemberRemove mr = COUNCILNET__MEMBER_REMOVE__INIT;
    cn_crypto_keypair(cpk, csk);
    REQUIRE(util_admit_council(&node, cpk, "child") == CN_OK);
    memset(fake, 0x11, sizeof fake);
    cd.node.data = cpk;
    cd.node.len = CN_PK_BYTES;
    cd.created = node.now;
    cd.proposal.data = fake;
    cd.proposal.len = CN_HASH_BYTES;
    cd.passed = 1;
    REQUIRE(util_seal("decision", &cd, csk, &env, &len) == 0);
    REQUIRE(util_post(&node, env, len, &seq) == CN_OK);
    resend(env, len, seq, "a child council's decision, the council still admitted");
    mr.node.data = node.pk;
    mr.node.len = CN_PK_BYTES;
    mr.created = node.now;
    mr.member.data = cpk;
    mr.member.len = CN_PK_BYTES;
    REQUIRE(util_act(&node, "member_remove", &mr, node.convener_sk, NULL) == CN_OK);
    resend(env, len, seq, "a child council's decision, sent again after it left the roll");
    free(env);
    env = NULL;
  }

done:
  free(env);
  if (started)
    CHECK_EQ_INT(tnode_destroy(&node), 0);
  return test_finish("test_resend");
}
