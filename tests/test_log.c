/* test_log.c: the entry hash and the streaming log verifier. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/crypto.h"
#include "councilnet/log.h"
#include "councilnet/record.h"
#include "test.h"

/* BLAKE2b-256(be64(seq) || prev || id || be64(received)), written out here. */
static void ref_entry_hash(uint8_t out[32], uint64_t seq, const uint8_t prev[32],
                           const uint8_t id[32], uint64_t received)
{
  uint8_t buf[80];
  for (int i = 0; i < 8; i++) {
    buf[i] = (uint8_t)(seq >> (56 - 8 * i));
    buf[72 + i] = (uint8_t)(received >> (56 - 8 * i));
  }
  memcpy(buf + 8, prev, 32);
  memcpy(buf + 40, id, 32);
  crypto_generichash(out, 32, buf, sizeof buf, NULL, 0);
}

static void test_entry_hash(void)
{
  uint8_t prev[32], id[32], h[32], ref[32];
  char hex[65];

  /* Fixed vector (computed with Python's hashlib.blake2b(digest_size=32)):
   * seq 1, prev zero, id 0x11 * 32, received 1700000000. */
  memset(prev, 0, sizeof prev);
  memset(id, 0x11, sizeof id);
  cn_log_entry_hash(h, 1, prev, id, 1700000000);
  cn_hex_encode(hex, h, 32);
  CHECK_STR(hex, "79e14692a084ad4fbbd58601b93d78f8047fd86aababa408bada217f777cff72");

  /* Byte order of seq and received: distinct bytes in every position. */
  for (int i = 0; i < 32; i++) {
    prev[i] = (uint8_t)(0xa0 + i);
    id[i] = (uint8_t)(0x30 + 2 * i);
  }
  cn_log_entry_hash(h, 0x0102030405060708ULL, prev, id, 0x1112131415161718ULL);
  ref_entry_hash(ref, 0x0102030405060708ULL, prev, id, 0x1112131415161718ULL);
  CHECK(memcmp(h, ref, 32) == 0);
  /* Little-endian seq would differ. */
  ref_entry_hash(ref, 0x0807060504030201ULL, prev, id, 0x1112131415161718ULL);
  CHECK(memcmp(h, ref, 32) != 0);
  /* Each input matters. */
  cn_log_entry_hash(ref, 0x0102030405060709ULL, prev, id, 0x1112131415161718ULL);
  CHECK(memcmp(h, ref, 32) != 0);
  cn_log_entry_hash(ref, 0x0102030405060708ULL, prev, id, 0x1112131415161719ULL);
  CHECK(memcmp(h, ref, 32) != 0);
  prev[31] ^= 1;
  cn_log_entry_hash(ref, 0x0102030405060708ULL, prev, id, 0x1112131415161718ULL);
  CHECK(memcmp(h, ref, 32) != 0);
  prev[31] ^= 1;
  id[0] ^= 1;
  cn_log_entry_hash(ref, 0x0102030405060708ULL, prev, id, 0x1112131415161718ULL);
  CHECK(memcmp(h, ref, 32) != 0);
  /* prev and id are not interchangeable. */
  cn_log_entry_hash(h, 5, prev, id, 6);
  cn_log_entry_hash(ref, 5, id, prev, 6);
  CHECK(memcmp(h, ref, 32) != 0);
}

#define N_ENTRIES 3

typedef struct entry_t {
  uint64_t seq;
  uint8_t prev[32];
  uint8_t id[32];
  uint64_t received;
  uint8_t hash[32];
  uint8_t *env;
  size_t env_len;
} entry_t;

typedef struct chain_t {
  uint8_t node_pk[32], node_sk[64];
  uint8_t member_pk[32], member_sk[64];
  entry_t e[N_ENTRIES];
} chain_t;

/* Fill entry I after entry I-1 (or the zero hash) with envelope ENV. */
static void entry_link(chain_t *c, int i, uint8_t *env, size_t env_len, uint64_t received)
{
  entry_t *e = &c->e[i];
  e->seq = (uint64_t)i + 1;
  if (i == 0)
    memset(e->prev, 0, 32);
  else
    memcpy(e->prev, c->e[i - 1].hash, 32);
  e->env = env;
  e->env_len = env_len;
  cn_crypto_hash(e->id, env, env_len);
  e->received = received;
  ref_entry_hash(e->hash, e->seq, e->prev, e->id, e->received);
}

static int seal_bytes(const char *kind, const char *text, const uint8_t sk[64],
                      uint8_t **env, size_t *len)
{
  return cn_record_seal_bytes(kind, (const uint8_t *)text, strlen(text), sk, env, len);
}

/* proposal by a member, decision by the node, ballot by the member. */
static int chain_build(chain_t *c)
{
  uint8_t *env;
  size_t len;

  memset(c, 0, sizeof *c);
  cn_crypto_keypair(c->node_pk, c->node_sk);
  cn_crypto_keypair(c->member_pk, c->member_sk);
  if (seal_bytes("proposal", "p-body", c->member_sk, &env, &len) != 0)
    return -1;
  entry_link(c, 0, env, len, 1700000000);
  {
    /* A node-signed body names its node; "d-body" is found again below. */
    Councilnet__Decision d = COUNCILNET__DECISION__INIT;
    d.node.data = c->node_pk;
    d.node.len = 32;
    d.proposal.data = (uint8_t *)"d-body";
    d.proposal.len = 6;
    if (cn_record_seal("decision", &d.base, c->node_sk, &env, &len) != 0)
      return -1;
  }
  entry_link(c, 1, env, len, 1700000005);
  if (seal_bytes("ballot", "b-body", c->member_sk, &env, &len) != 0)
    return -1;
  entry_link(c, 2, env, len, 1700000009);
  return 0;
}

static void chain_free(chain_t *c)
{
  for (int i = 0; i < N_ENTRIES; i++)
    free(c->e[i].env);
}

static uint8_t *find(uint8_t *hay, size_t n, const char *needle, size_t m)
{
  for (size_t i = 0; i + m <= n; i++)
    if (memcmp(hay + i, needle, m) == 0)
      return hay + i;
  return NULL;
}

static int step(cn_log_verifier_t *v, const entry_t *e)
{
  return cn_log_verifier_step(v, e->seq, e->prev, 32, e->id, 32, e->received, e->hash, 32,
                              e->env, e->env_len);
}

/* A verifier that has accepted the first N entries of C. */
static int verifier_at(cn_log_verifier_t *v, const chain_t *c, int n)
{
  cn_log_verifier_init(v, c->node_pk);
  for (int i = 0; i < n; i++)
    if (step(v, &c->e[i]) != 0)
      return -1;
  return 0;
}

static int head_env(const uint8_t node[32], uint64_t seq, const uint8_t *hash, size_t hash_len,
                    const char *kind, const uint8_t sk[64], uint8_t **env, size_t *len)
{
  Councilnet__Head h = COUNCILNET__HEAD__INIT;
  h.node.data = (uint8_t *)node;
  h.node.len = 32;
  h.created = 1700000010;
  h.seq = seq;
  h.hash.data = (uint8_t *)hash;
  h.hash.len = hash_len;
  return cn_record_seal(kind, &h.base, sk, env, len);
}

static void test_chain_ok(void)
{
  chain_t c;
  cn_log_verifier_t v;
  uint8_t zero[32] = { 0 };

  REQUIRE(chain_build(&c) == 0);
  cn_log_verifier_init(&v, c.node_pk);
  CHECK_EQ_INT(v.seq, 0);
  CHECK(memcmp(v.hash, zero, 32) == 0);
  CHECK(memcmp(v.node_pk, c.node_pk, 32) == 0);
  for (int i = 0; i < N_ENTRIES; i++) {
    int rc = step(&v, &c.e[i]);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0)
      fprintf(stderr, "entry %d: %s\n", i + 1, v.error);
    CHECK_EQ_INT(v.seq, i + 1);
    CHECK(memcmp(v.hash, c.e[i].hash, 32) == 0);
  }
  /* The library's own entry hash agrees with the hand-built chain. */
  {
    uint8_t h[32];
    cn_log_entry_hash(h, 2, c.e[1].prev, c.e[1].id, c.e[1].received);
    CHECK(memcmp(h, c.e[1].hash, 32) == 0);
  }
done:
  chain_free(&c);
}

static void test_chain_bad(void)
{
  chain_t c;
  cn_log_verifier_t v;
  entry_t bad;

  REQUIRE(chain_build(&c) == 0);

  /* Gap: start at 2, skip 2, repeat 1. */
  cn_log_verifier_init(&v, c.node_pk);
  CHECK_EQ_INT(step(&v, &c.e[1]), -1);
  CHECK(strstr(v.error, "sequence gap") != NULL);
  CHECK_EQ_INT(v.seq, 0);
  REQUIRE(verifier_at(&v, &c, 1) == 0);
  CHECK_EQ_INT(step(&v, &c.e[2]), -1);
  CHECK(strstr(v.error, "expected 2") != NULL);
  CHECK_EQ_INT(step(&v, &c.e[0]), -1);
  CHECK_EQ_INT(v.seq, 1);
  CHECK(memcmp(v.hash, c.e[0].hash, 32) == 0);
  /* After the refusals the right entry still goes through. */
  CHECK_EQ_INT(step(&v, &c.e[1]), 0);
  CHECK_EQ_INT(step(&v, &c.e[2]), 0);

  /* Seq 0 at the start. */
  cn_log_verifier_init(&v, c.node_pk);
  bad = c.e[0];
  bad.seq = 0;
  CHECK_EQ_INT(step(&v, &bad), -1);

  /* Broken prev: entry 2 links to something else (hash recomputed so only
   * the link is wrong). */
  REQUIRE(verifier_at(&v, &c, 1) == 0);
  bad = c.e[1];
  bad.prev[5] ^= 0x20;
  ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
  v.error[0] = 0;
  CHECK_EQ_INT(step(&v, &bad), -1);
  CHECK(strstr(v.error, "broken link") != NULL);
  CHECK_EQ_INT(v.seq, 1);
  /* First entry with a non-zero prev. */
  cn_log_verifier_init(&v, c.node_pk);
  bad = c.e[0];
  bad.prev[0] = 1;
  ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
  CHECK_EQ_INT(step(&v, &bad), -1);
  CHECK(strstr(v.error, "broken link") != NULL);

  /* Wrong record id (hash recomputed over the wrong id). */
  REQUIRE(verifier_at(&v, &c, 1) == 0);
  bad = c.e[1];
  bad.id[31] ^= 1;
  ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
  CHECK_EQ_INT(step(&v, &bad), -1);
  CHECK(strstr(v.error, "record id") != NULL);
  /* The id of another entry's envelope. */
  bad = c.e[1];
  memcpy(bad.id, c.e[2].id, 32);
  ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
  CHECK_EQ_INT(step(&v, &bad), -1);
  CHECK(strstr(v.error, "record id") != NULL);

  /* Wrong entry hash; received time changed after hashing. */
  bad = c.e[1];
  bad.hash[0] ^= 0x80;
  CHECK_EQ_INT(step(&v, &bad), -1);
  CHECK(strstr(v.error, "entry hash") != NULL);
  bad = c.e[1];
  bad.received++;
  CHECK_EQ_INT(step(&v, &bad), -1);
  CHECK(strstr(v.error, "entry hash") != NULL);
  CHECK_EQ_INT(v.seq, 1);

  /* Malformed lengths. */
  bad = c.e[1];
  CHECK_EQ_INT(cn_log_verifier_step(&v, 2, bad.prev, 31, bad.id, 32, bad.received, bad.hash, 32,
                                    bad.env, bad.env_len), -1);
  CHECK(strstr(v.error, "malformed") != NULL);
  CHECK_EQ_INT(cn_log_verifier_step(&v, 2, bad.prev, 32, bad.id, 33, bad.received, bad.hash, 32,
                                    bad.env, bad.env_len), -1);
  CHECK_EQ_INT(cn_log_verifier_step(&v, 2, bad.prev, 32, bad.id, 32, bad.received, bad.hash, 0,
                                    bad.env, bad.env_len), -1);

  /* Tampered envelope whose id and entry hash are recomputed to match: only
   * the signature catches it. */
  {
    uint8_t *t = malloc(c.e[1].env_len);
    REQUIRE(t);
    memcpy(t, c.e[1].env, c.e[1].env_len);
    /* The body "d-body" follows kind "decision"; change its last byte. */
    {
      uint8_t *p = find(t, c.e[1].env_len, "d-body", 6);
      CHECK(p != NULL);
      if (p)
        p[5] = 'X';
    }
    bad = c.e[1];
    bad.env = t;
    cn_crypto_hash(bad.id, t, bad.env_len);
    ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
    CHECK_EQ_INT(step(&v, &bad), -1);
    CHECK(strstr(v.error, "record refused") != NULL);
    CHECK(strstr(v.error, "BAD_SIGNATURE") != NULL);
    /* Garbage envelope. */
    memset(t, 0xff, bad.env_len);
    cn_crypto_hash(bad.id, t, bad.env_len);
    ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
    CHECK_EQ_INT(step(&v, &bad), -1);
    CHECK(strstr(v.error, "BAD_ENCODING") != NULL);
    free(t);
  }
  CHECK_EQ_INT(v.seq, 1);

  /* Node-only kinds signed by a member key, correctly chained. */
  {
    static const char *const node_kinds[] = { "decision", "head", "receipt", "credential",
                                              "recall", "mandate", "contributions" };
    for (size_t k = 0; k < sizeof node_kinds / sizeof node_kinds[0]; k++) {
      uint8_t *env = NULL;
      size_t len = 0;
      REQUIRE(seal_bytes(node_kinds[k], "x", c.member_sk, &env, &len) == 0);
      bad = c.e[1];
      bad.env = env;
      bad.env_len = len;
      cn_crypto_hash(bad.id, env, len);
      ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
      v.error[0] = 0;
      CHECK_EQ_INT(step(&v, &bad), -1);
      CHECK(strstr(v.error, "not signed by the node") != NULL);
      CHECK(strstr(v.error, node_kinds[k]) != NULL);
      free(env);
    }
    /* A member-signed kind signed by the node is fine (the node may act). */
    {
      uint8_t *env = NULL;
      size_t len = 0;
      REQUIRE(seal_bytes("proposal", "x", c.node_sk, &env, &len) == 0);
      bad = c.e[1];
      bad.env = env;
      bad.env_len = len;
      cn_crypto_hash(bad.id, env, len);
      ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
      CHECK_EQ_INT(step(&v, &bad), 0);
      free(env);
    }
  }

  /* A parent's log holds its child councils' own records: a decision
   * signed by the node its body names verifies in another node's log... */
  {
    uint8_t other_pk[32], other_sk[64];
    cn_crypto_keypair(other_pk, other_sk);
    cn_log_verifier_init(&v, other_pk);
    CHECK_EQ_INT(step(&v, &c.e[0]), 0);
    CHECK_EQ_INT(step(&v, &c.e[1]), 0);
  }
  /* ...but a decision naming one node and signed by another does not. */
  {
    Councilnet__Decision d = COUNCILNET__DECISION__INIT;
    uint8_t *env = NULL, other_pk[32], other_sk[64];
    size_t len = 0;
    cn_crypto_keypair(other_pk, other_sk);
    d.node.data = c.node_pk;
    d.node.len = 32;
    REQUIRE(cn_record_seal("decision", &d.base, other_sk, &env, &len) == 0);
    cn_log_verifier_init(&v, c.node_pk);
    CHECK_EQ_INT(step(&v, &c.e[0]), 0);
    bad = c.e[1];
    bad.env = env;
    bad.env_len = len;
    cn_crypto_hash(bad.id, env, len);
    ref_entry_hash(bad.hash, bad.seq, bad.prev, bad.id, bad.received);
    CHECK_EQ_INT(step(&v, &bad), -1);
    CHECK(strstr(v.error, "decision not signed by the node it names") != NULL);
    free(env);
  }
done:
  chain_free(&c);
}

static void test_head(void)
{
  chain_t c;
  cn_log_verifier_t v;
  uint8_t *env = NULL;
  size_t len = 0;
  uint8_t zero[32] = { 0 };

  REQUIRE(chain_build(&c) == 0);
  REQUIRE(verifier_at(&v, &c, N_ENTRIES) == 0);

  /* The matching node-signed head. */
  REQUIRE(head_env(c.node_pk, 3, c.e[2].hash, 32, "head", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), 0);
  /* Tampered head envelope. */
  env[len - 1] ^= 1;
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  CHECK(strstr(v.error, "bad envelope or signature") != NULL);
  free(env);
  env = NULL;

  /* Seq mismatch (behind and ahead), hash mismatch. */
  REQUIRE(head_env(c.node_pk, 2, c.e[2].hash, 32, "head", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  CHECK(strstr(v.error, "does not match") != NULL);
  free(env);
  env = NULL;
  REQUIRE(head_env(c.node_pk, 4, c.e[2].hash, 32, "head", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  free(env);
  env = NULL;
  REQUIRE(head_env(c.node_pk, 3, c.e[1].hash, 32, "head", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  CHECK(strstr(v.error, "does not match") != NULL);
  free(env);
  env = NULL;
  /* Hash of the wrong size. */
  REQUIRE(head_env(c.node_pk, 3, c.e[2].hash, 31, "head", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  CHECK(strstr(v.error, "malformed") != NULL);
  free(env);
  env = NULL;

  /* Signed by another key (a member), even with the right content. */
  REQUIRE(head_env(c.node_pk, 3, c.e[2].hash, 32, "head", c.member_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  CHECK(strstr(v.error, "not a head signed by the node") != NULL);
  free(env);
  env = NULL;
  /* Signed by the node, but as another kind. */
  REQUIRE(head_env(c.node_pk, 3, c.e[2].hash, 32, "receipt", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  CHECK(strstr(v.error, "not a head") != NULL);
  free(env);
  env = NULL;

  /* A head body with an unknown field is refused. */
  {
    Councilnet__Head h = COUNCILNET__HEAD__INIT;
    uint8_t *body = NULL, *x = NULL;
    size_t blen = 0;
    h.node.data = c.node_pk;
    h.node.len = 32;
    h.created = 1;
    h.seq = 3;
    h.hash.data = c.e[2].hash;
    h.hash.len = 32;
    REQUIRE(cn_pb_pack(&h.base, &body, &blen) == 0);
    x = malloc(blen + 2);
    REQUIRE(x);
    memcpy(x, body, blen);
    x[blen] = 0x78;
    x[blen + 1] = 0x01;
    REQUIRE(cn_record_seal_bytes("head", x, blen + 2, c.node_sk, &env, &len) == 0);
    CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
    CHECK(strstr(v.error, "malformed") != NULL);
    free(env);
    env = NULL;
    /* The same body without the extra field passes. */
    REQUIRE(cn_record_seal_bytes("head", body, blen, c.node_sk, &env, &len) == 0);
    CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), 0);
    free(env);
    env = NULL;
    free(body);
    free(x);
  }

  /* Garbage. */
  {
    static const uint8_t junk[] = { 1, 2, 3 };
    CHECK_EQ_INT(cn_log_verifier_check_head(&v, junk, sizeof junk), -1);
    CHECK_EQ_INT(cn_log_verifier_check_head(&v, junk, 0), -1);
  }

  /* check_head does not change the verifier. */
  CHECK_EQ_INT(v.seq, 3);
  CHECK(memcmp(v.hash, c.e[2].hash, 32) == 0);

  /* The empty log: seq 0 and the zero hash. */
  cn_log_verifier_init(&v, c.node_pk);
  REQUIRE(head_env(c.node_pk, 0, zero, 32, "head", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), 0);
  free(env);
  env = NULL;
  /* A head for 3 entries against a verifier that has seen 2. */
  REQUIRE(verifier_at(&v, &c, 2) == 0);
  REQUIRE(head_env(c.node_pk, 3, c.e[2].hash, 32, "head", c.node_sk, &env, &len) == 0);
  CHECK_EQ_INT(cn_log_verifier_check_head(&v, env, len), -1);
  CHECK(strstr(v.error, "seq 3") != NULL);
  CHECK(strstr(v.error, "seq 2") != NULL);
done:
  free(env);
  chain_free(&c);
}

int main(void)
{
  if (cn_crypto_init() != 0) {
    fprintf(stderr, "cn_crypto_init failed\n");
    return 1;
  }
  test_entry_hash();
  test_chain_ok();
  test_chain_bad();
  test_head();
  return test_finish("test_log");
}
