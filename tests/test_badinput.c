/* test_badinput.c: every bad input of DESIGN against a real councild on
 * 127.0.0.1: each is refused with its code and leaves the log unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "councilnet/record.h"
#include "http.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL

static tnode_t node;
static uint8_t member_sk[3][CN_SK_BYTES], member_pk[3][CN_PK_BYTES];
static uint8_t stranger_sk[CN_SK_BYTES], stranger_pk[CN_PK_BYTES];
static uint8_t clerk_sk[CN_SK_BYTES], clerk_pk[CN_PK_BYTES];

/* Post ENV and check it is refused with WANT and nothing was appended. */
static void expect_refused(const uint8_t *env, size_t len, int want, const char *what)
{
  int64_t before = util_head_seq(&node);
  int code = util_post(&node, env, len, NULL);
  int64_t after = util_head_seq(&node);

  test_checks_++;
  if (code != want || before != after || before < 0) {
    test_failures_++;
    fprintf(stderr, "%s: code %d (want %d), head %lld -> %lld\n", what, code, want,
            (long long)before, (long long)after);
  }
}

static void add_member(int i, const char *group)
{
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  char *groups[1] = { (char *)group };
  m.node.data = node.pk;
  m.node.len = CN_PK_BYTES;
  m.created = T0;
  m.member.data = member_pk[i];
  m.member.len = CN_PK_BYTES;
  m.name = "member";
  m.groups = groups;
  m.n_groups = group ? 1 : 0;
  CHECK_EQ_INT(util_act(&node, "member_add", &m, node.convener_sk, NULL), CN_OK);
}

static void ballot_init(Councilnet__Ballot *b, const uint8_t *proposal, uint32_t *choice)
{
  councilnet__ballot__init(b);
  b->node.data = node.pk;
  b->node.len = CN_PK_BYTES;
  b->created = T0 + 1;
  b->proposal.data = (uint8_t *)proposal;
  b->proposal.len = CN_HASH_BYTES;
  b->choices = choice;
  b->n_choices = 1;
}

int main(void)
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule rule = COUNCILNET__RULE__INIT;
  Councilnet__Ballot b;
  uint8_t *env = NULL, *env2 = NULL, other_node[CN_PK_BYTES], other_sk[CN_SK_BYTES];
  uint8_t proposal_id[CN_HASH_BYTES];
  uint32_t yes = 0, no = 1, bad_choice = 7;
  size_t len = 0, len2 = 0;
  uint64_t seq = 0, seq2 = 0;
  int started = 0;

  cn_crypto_init();
  {
    /* one act a second refills the bucket: the rate check below does not
     * depend on how fast the node runs (valgrind, a loaded machine) */
    static const char *const set[] = { "rate_per_signer=1" };
    REQUIRE(tnode_start_set(&node, "badinput", T0, set, 1) == 0);
  }
  started = 1;
  for (int i = 0; i < 3; i++)
    cn_crypto_keypair(member_pk[i], member_sk[i]);
  cn_crypto_keypair(stranger_pk, stranger_sk);
  cn_crypto_keypair(clerk_pk, clerk_sk);
  cn_crypto_keypair(other_node, other_sk);
  add_member(0, "renters");
  add_member(1, NULL);
  add_member(2, NULL);

  /* A proposal open from T0 to T0 + 100. */
  p.node.data = node.pk;
  p.node.len = CN_PK_BYTES;
  p.created = T0;
  p.title = "Paint the hall";
  p.opens = T0;
  p.closes = T0 + 100;
  p.rule = &rule;
  REQUIRE(util_seal("proposal", &p, member_sk[0], &env, &len) == 0);
  REQUIRE(util_post(&node, env, len, &seq) == CN_OK);
  cn_crypto_hash(proposal_id, env, len);
  /* Idempotent: the same record again gets a receipt for its first entry. */
  CHECK_EQ_INT(util_post(&node, env, len, &seq2), CN_OK);
  CHECK_EQ_INT(seq2, seq);
  free(env);
  env = NULL;

  /* A valid ballot, kept to be tampered with. */
  ballot_init(&b, proposal_id, &yes);
  REQUIRE(util_seal("ballot", &b, member_sk[1], &env, &len) == 0);

  /* Forged signature: every byte of the signature (the last 64 bytes of the
   * envelope) flipped, one at a time. */
  for (size_t i = len - CN_SIG_BYTES; i < len; i++) {
    env[i] ^= 0x01;
    expect_refused(env, len, CN_ERR_BAD_SIGNATURE, "flipped signature byte");
    env[i] ^= 0x01;
  }
  /* Every other byte flipped: refused as bad encoding or bad signature (or,
   * when the flip lands in the signer key, unknown signer / bad signature). */
  for (size_t i = 0; i < len - CN_SIG_BYTES; i++) {
    int64_t before = util_head_seq(&node);
    int code;
    env[i] ^= 0x80;
    code = util_post(&node, env, len, NULL);
    env[i] ^= 0x80;
    CHECK(code == CN_ERR_BAD_ENCODING || code == CN_ERR_BAD_SIGNATURE);
    CHECK_EQ_INT(util_head_seq(&node), before);
  }

  /* Truncated protobuf: every prefix of the envelope. */
  for (size_t cut = 1; cut < len; cut += 7) {
    int64_t before = util_head_seq(&node);
    int code = util_post(&node, env, cut, NULL);
    CHECK(code == CN_ERR_BAD_ENCODING || code == CN_ERR_BAD_SIGNATURE);
    CHECK_EQ_INT(util_head_seq(&node), before);
  }
  expect_refused(env, 0, CN_ERR_BAD_ENCODING, "empty body");

  /* Unknown field in the envelope (field 15, varint 1). */
  {
    uint8_t *ext = malloc(len + 2);
    REQUIRE(ext);
    memcpy(ext, env, len);
    ext[len] = 0x78;
    ext[len + 1] = 0x01;
    expect_refused(ext, len + 2, CN_ERR_BAD_ENCODING, "unknown envelope field");
    free(ext);
  }
  /* Unknown field in a correctly signed body. */
  {
    uint8_t *body = NULL, *ext, *sealed = NULL;
    size_t blen = 0, slen = 0;
    REQUIRE(cn_pb_pack(&b.base, &body, &blen) == 0);
    ext = malloc(blen + 2);
    REQUIRE(ext);
    memcpy(ext, body, blen);
    ext[blen] = 0x78;
    ext[blen + 1] = 0x01;
    REQUIRE(cn_record_seal_bytes("ballot", ext, blen + 2, member_sk[1], &sealed, &slen) == 0);
    expect_refused(sealed, slen, CN_ERR_BAD_ENCODING, "unknown body field");
    free(sealed);
    free(ext);
    free(body);
  }

  /* Wrong kind: the ballot's body and signature replayed as a proposal. */
  {
    Councilnet__Envelope *e = councilnet__envelope__unpack(NULL, len, env);
    uint8_t *re = NULL;
    size_t rlen = 0;
    char *kind;
    REQUIRE(e);
    kind = e->kind;
    e->kind = "proposal";
    REQUIRE(cn_pb_pack(&e->base, &re, &rlen) == 0);
    expect_refused(re, rlen, CN_ERR_BAD_SIGNATURE, "ballot replayed as proposal");
    free(re);
    e->kind = "paper_ballot";
    REQUIRE(cn_pb_pack(&e->base, &re, &rlen) == 0);
    expect_refused(re, rlen, CN_ERR_BAD_SIGNATURE, "ballot replayed as paper ballot");
    free(re);
    e->kind = kind;
    councilnet__envelope__free_unpacked(e, NULL);
  }

  /* Unknown kind, correctly signed. */
  REQUIRE(util_seal("sermon", &b, member_sk[1], &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_UNKNOWN_KIND, "unknown kind");
  free(env2);
  env2 = NULL;

  /* Wrong node: the same ballot addressed to another node. */
  b.node.data = other_node;
  REQUIRE(util_seal("ballot", &b, member_sk[1], &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_WRONG_NODE, "wrong node");
  free(env2);
  env2 = NULL;
  b.node.data = node.pk;

  /* Non-member: a key the node never saw, and a removed member. */
  REQUIRE(util_seal("ballot", &b, stranger_sk, &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_UNKNOWN_SIGNER, "stranger's ballot");
  free(env2);
  env2 = NULL;
  {
    Councilnet__MemberRemove rm = COUNCILNET__MEMBER_REMOVE__INIT;
    rm.node.data = node.pk;
    rm.node.len = CN_PK_BYTES;
    rm.created = T0;
    rm.member.data = member_pk[2];
    rm.member.len = CN_PK_BYTES;
    CHECK_EQ_INT(util_act(&node, "member_remove", &rm, node.convener_sk, NULL), CN_OK);
    /* A member cannot remove members: only conveners. */
    rm.member.data = member_pk[0];
    REQUIRE(util_seal("member_remove", &rm, member_sk[1], &env2, &len2) == 0);
    expect_refused(env2, len2, CN_ERR_FORBIDDEN, "member removing a member");
    free(env2);
    env2 = NULL;
  }
  REQUIRE(util_seal("ballot", &b, member_sk[2], &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_NOT_MEMBER, "removed member's ballot");
  free(env2);
  env2 = NULL;

  /* A person member cannot pass their own records off as a child
   * council's: a roll "from" themselves is addressed to a non-council. */
  {
    Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
    ProtobufCBinaryData k = { CN_PK_BYTES, member_pk[2] };
    u.node.data = member_pk[1];
    u.node.len = CN_PK_BYTES;
    u.created = T0;
    u.added = &k;
    u.n_added = 1;
    u.roll = 1000000;
    REQUIRE(util_seal("roll", &u, member_sk[1], &env2, &len2) == 0);
    expect_refused(env2, len2, CN_ERR_NOT_ADMITTED, "member posing as a child council");
    free(env2);
    env2 = NULL;
  }

  /* Choice out of range. */
  b.choices = &bad_choice;
  REQUIRE(util_seal("ballot", &b, member_sk[1], &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_INVALID, "choice out of range");
  free(env2);
  env2 = NULL;
  b.choices = &yes;

  /* The valid ballot is accepted once; a second, different ballot from the
   * same member is a double vote; a clerk's paper ballot for the same
   * member is a double vote too (mixing channels). */
  CHECK_EQ_INT(util_post(&node, env, len, NULL), CN_OK);
  b.choices = &no;
  b.created = T0 + 2;
  REQUIRE(util_seal("ballot", &b, member_sk[1], &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_ALREADY_VOTED, "double vote");
  free(env2);
  env2 = NULL;
  {
    Councilnet__RoleSet rs = COUNCILNET__ROLE_SET__INIT;
    rs.node.data = node.pk;
    rs.node.len = CN_PK_BYTES;
    rs.created = T0;
    rs.key.data = clerk_pk;
    rs.key.len = CN_PK_BYTES;
    rs.clerk = 1;
    CHECK_EQ_INT(util_act(&node, "role_set", &rs, node.convener_sk, NULL), CN_OK);
  }
  b.member.data = member_pk[1];
  b.member.len = CN_PK_BYTES;
  REQUIRE(util_seal("paper_ballot", &b, clerk_sk, &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_ALREADY_VOTED, "paper ballot after online ballot");
  free(env2);
  env2 = NULL;
  /* A paper ballot signed by a non-clerk member. */
  b.member.data = member_pk[0];
  REQUIRE(util_seal("paper_ballot", &b, member_sk[1], &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_FORBIDDEN, "paper ballot by a non-clerk");
  free(env2);
  env2 = NULL;
  /* The clerk's paper ballot for member 0 counts; then member 0's own online
   * ballot is a double vote. */
  REQUIRE(util_seal("paper_ballot", &b, clerk_sk, &env2, &len2) == 0);
  CHECK_EQ_INT(util_post(&node, env2, len2, NULL), CN_OK);
  free(env2);
  env2 = NULL;
  b.member.data = NULL;
  b.member.len = 0;
  REQUIRE(util_seal("ballot", &b, member_sk[0], &env2, &len2) == 0);
  expect_refused(env2, len2, CN_ERR_ALREADY_VOTED, "online ballot after paper ballot");
  free(env2);
  env2 = NULL;

  /* Per-signer rate: one member firing 400 ballots at once gets the burst
   * (200 by default) and a trickle more (one a second here); the rest are
   * RATE_LIMITED and change nothing. */
  {
    Councilnet__Proposal q = COUNCILNET__PROPOSAL__INIT;
    Councilnet__Rule qr = COUNCILNET__RULE__INIT;
    uint8_t qid[CN_HASH_BYTES];
    int64_t before = util_head_seq(&node);
    int ok = 0, limited = 0, other = 0;
    uint8_t *first = NULL;
    size_t first_len = 0;
    uint64_t first_seq = 0, again_seq = 0;
    q.node.data = node.pk;
    q.node.len = CN_PK_BYTES;
    q.created = T0;
    q.title = "Many ballots";
    q.opens = T0;
    q.closes = T0 + 100;
    qr.replace = 1;
    q.rule = &qr;
    REQUIRE(util_propose(&node, node.convener_sk, &q, qid) == CN_OK);
    before++;
    for (int i = 0; i < 400; i++) {
      Councilnet__Ballot rb;
      uint32_t c = (uint32_t)(i % 2);
      ballot_init(&rb, qid, &c);
      rb.created = T0 - 1000 + (uint64_t)i;
      if (i == 0) {                   /* kept, to send again below */
        REQUIRE(util_seal("ballot", &rb, member_sk[1], &first, &first_len) == 0);
        CHECK_EQ_INT(util_post(&node, first, first_len, &first_seq), CN_OK);
        ok++;
        continue;
      }
      switch (util_act(&node, "ballot", &rb, member_sk[1], NULL)) {
      case CN_OK: ok++; break;
      case CN_ERR_RATE_LIMITED: limited++; break;
      default: other++; break;
      }
    }
    printf("rate limit: %d accepted, %d RATE_LIMITED of 400 from one key\n", ok, limited);
    CHECK(ok >= 150 && ok < 400);   /* the burst, less what the key spent before */
    CHECK(limited > 0);
    CHECK_EQ_INT(other, 0);
    CHECK_EQ_INT(util_head_seq(&node), before + ok);
    /* Over its rate, a ballot sent again still gets the receipt of its
     * first entry (a client retrying after a lost answer), and adds nothing. */
    CHECK_EQ_INT(util_post(&node, first, first_len, &again_seq), CN_OK);
    CHECK_EQ_INT(again_seq, first_seq);
    CHECK_EQ_INT(util_head_seq(&node), before + ok);
    free(first);
    first = NULL;

    /* Sending one ballot again and again spends none of the key's rate:
     * 300 resends (more than the burst) and a new ballot still goes in. */
    {
      Councilnet__Ballot rb;
      uint32_t c = 1;
      int resent = 0;
      ballot_init(&rb, qid, &c);
      rb.created = T0 - 1;
      REQUIRE(util_seal("ballot", &rb, member_sk[0], &first, &first_len) == 0);
      for (int i = 0; i < 300; i++)
        resent += util_post(&node, first, first_len, NULL) == CN_OK;
      CHECK_EQ_INT(resent, 300);
      rb.created = T0;
      CHECK_EQ_INT(util_act(&node, "ballot", &rb, member_sk[0], NULL), CN_OK);
      free(first);
    }
  }

  /* Oversized body: over the record limit (our Error) and over the HTTP
   * body limit (refused by the server before it is read). */
  {
    size_t big = CN_RECORD_MAX + 100;
    uint8_t *junk = calloc(1, 1 << 20);
    REQUIRE(junk);
    expect_refused(junk, big, CN_ERR_TOO_LARGE, "record over the limit");
    expect_refused(junk, 1 << 20, CN_ERR_TOO_LARGE, "body over the HTTP limit");
    free(junk);
  }

  /* After the window closes: the ballot is refused and the node appends the
   * decision on its own clock. */
  {
    /* Read the head before moving the clock: the close timer may append
     * the decision at once. */
    int64_t before = util_head_seq(&node), now_seq = before;
    REQUIRE(tnode_set_clock(&node, T0 + 100) == 0);
    for (int i = 0; i < 200 && now_seq < before + 2; i++) {
      struct timespec ts = { 0, 20 * 1000000L };
      nanosleep(&ts, NULL);
      now_seq = util_head_seq(&node);
    }
    CHECK_EQ_INT(now_seq, before + 2);   /* the two decisions */
  }
  b.created = T0 + 3;
  REQUIRE(util_seal("ballot", &b, member_sk[0], &env2, &len2) == 0);
  /* member 0 has voted already by paper: the window check comes first */
  expect_refused(env2, len2, CN_ERR_WINDOW_CLOSED, "ballot after close");
  free(env2);
  env2 = NULL;

done:
  free(env);
  free(env2);
  if (started)
    CHECK(tnode_destroy(&node) == 0);
  return test_finish("test_badinput");
}
