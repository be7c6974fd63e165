/* test_record.c: sealing and opening Envelopes, strict decoding of bodies,
 * and the one-encoding rule (a re-encoded envelope never opens). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/crypto.h"
#include "councilnet/err.h"
#include "councilnet/record.h"
#include "test.h"


/* A growable byte buffer for hand-made protobuf. */
typedef struct buf_t {
  uint8_t d[4096];
  size_t n;
} buf_t;

static void put(buf_t *b, const void *p, size_t n)
{
  if (b->n + n <= sizeof b->d) {
    memcpy(b->d + b->n, p, n);
    b->n += n;
  }
}

static void put_byte(buf_t *b, uint8_t c)
{
  put(b, &c, 1);
}

static void put_varint(buf_t *b, uint64_t v)
{
  while (v >= 0x80) {
    put_byte(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  put_byte(b, (uint8_t)v);
}

/* Field FIELD, wire type 2, with N bytes at P. */
static void put_ld(buf_t *b, unsigned field, const void *p, size_t n)
{
  put_varint(b, (uint64_t)field << 3 | 2);
  put_varint(b, n);
  put(b, p, n);
}

static void put_uint(buf_t *b, unsigned field, uint64_t v)
{
  put_varint(b, (uint64_t)field << 3);
  put_varint(b, v);
}

static const uint8_t node_pk_fixture[CN_PK_BYTES] = { 0x4e, 0x4f, 0x44, 0x45 };

/* A Proposal with a rule and two group quorums. */
static Councilnet__GroupQuorum gq0 = COUNCILNET__GROUP_QUORUM__INIT;
static Councilnet__GroupQuorum gq1 = COUNCILNET__GROUP_QUORUM__INIT;
static Councilnet__GroupQuorum *gqs[2] = { &gq0, &gq1 };
static Councilnet__Rule rule = COUNCILNET__RULE__INIT;
static Councilnet__Proposal proposal = COUNCILNET__PROPOSAL__INIT;
static char *options[] = { "park", "library", "clinic" };

static void fixture_init(void)
{
  gq0.group = "renters";
  gq0.share_permille = 250;
  gq1.group = "youth";
  gq1.share_permille = 100;
  rule.threshold = COUNCILNET__THRESHOLD__TWO_THIRDS;
  rule.turnout_permille = 300;
  rule.n_group_quorums = 2;
  rule.group_quorums = gqs;
  rule.replace = 1;
  proposal.node.data = (uint8_t *)node_pk_fixture;
  proposal.node.len = CN_PK_BYTES;
  proposal.created = 1700000000;
  proposal.title = "Budget 2025";
  proposal.text = "Which project first?";
  proposal.option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
  proposal.n_options = 3;
  proposal.options = options;
  proposal.opens = 1700000100;
  proposal.closes = 1700600000;
  proposal.rule = &rule;
}

static void test_seal_open(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], id[CN_HASH_BYTES];
  uint8_t *env = NULL, *env2 = NULL, *body = NULL;
  size_t env_len = 0, env2_len = 0, body_len = 0;
  cn_record_t rec;
  Councilnet__Proposal *back = NULL;

  memset(&rec, 0, sizeof rec);
  cn_crypto_keypair(pk, sk);
  REQUIRE(cn_pb_pack(&proposal.base, &body, &body_len) == 0);
  REQUIRE(body_len > 0);
  REQUIRE(cn_record_seal("proposal", &proposal.base, sk, &env, &env_len) == 0);

  CHECK_EQ_INT(cn_record_open(env, env_len, &rec), CN_OK);
  CHECK_STR(rec.kind, "proposal");
  CHECK(memcmp(rec.signer, pk, CN_PK_BYTES) == 0);
  REQUIRE(rec.body_len == body_len);
  CHECK(memcmp(rec.body, body, body_len) == 0);
  cn_crypto_hash(id, env, env_len);
  CHECK(memcmp(rec.id, id, CN_HASH_BYTES) == 0);
  {
    uint8_t ref[CN_HASH_BYTES];
    crypto_generichash(ref, sizeof ref, env, env_len, NULL, 0);
    CHECK(memcmp(rec.id, ref, CN_HASH_BYTES) == 0);
  }
  CHECK(rec.envelope_ != NULL);
  /* The body decodes strictly back to the same proposal. */
  back = (Councilnet__Proposal *)cn_pb_unpack_strict(&councilnet__proposal__descriptor,
                                                     rec.body, rec.body_len);
  REQUIRE(back != NULL);
  CHECK_STR(back->title, "Budget 2025");
  CHECK_EQ_INT(back->n_options, 3);
  CHECK_STR(back->options[2], "clinic");
  CHECK_EQ_INT(back->closes, 1700600000);
  REQUIRE(back->rule != NULL);
  CHECK_EQ_INT(back->rule->threshold, COUNCILNET__THRESHOLD__TWO_THIRDS);
  REQUIRE(back->rule->n_group_quorums == 2);
  CHECK_STR(back->rule->group_quorums[1]->group, "youth");
  CHECK_EQ_INT(back->rule->group_quorums[1]->share_permille, 100);
  CHECK_EQ_INT(back->rule->replace, 1);
  CHECK_EQ_INT(cn_pb_has_unknown(&back->base), 0);
  protobuf_c_message_free_unpacked(&back->base, NULL);

  cn_record_close(&rec);
  CHECK(rec.envelope_ == NULL);
  CHECK(rec.body == NULL);
  CHECK_EQ_INT(rec.kind[0], 0);
  cn_record_close(&rec);        /* closing twice is fine */
  cn_record_close(NULL);

  /* The exact wire layout: fields 1..5 in order, signature over the body. */
  {
    static const uint8_t head[] = { 0x08, 0x01, 0x12, 0x08, 'p', 'r', 'o', 'p', 'o', 's', 'a', 'l', 0x1a };
    buf_t want;
    uint8_t sig[CN_SIG_BYTES];
    memset(&want, 0, sizeof want);
    REQUIRE(cn_crypto_sign(sig, "proposal", body, body_len, sk) == 0);
    put_uint(&want, 1, 1);
    put_ld(&want, 2, "proposal", 8);
    put_ld(&want, 3, body, body_len);
    put_ld(&want, 4, pk, CN_PK_BYTES);
    put_ld(&want, 5, sig, CN_SIG_BYTES);
    CHECK(memcmp(env, head, sizeof head) == 0);
    CHECK_EQ_INT(env_len, want.n);
    CHECK(env_len == want.n && memcmp(env, want.d, want.n) == 0);
  }

  /* seal() is seal_bytes() of the packed body; Ed25519 is deterministic. */
  REQUIRE(cn_record_seal_bytes("proposal", body, body_len, sk, &env2, &env2_len) == 0);
  CHECK_EQ_INT(env2_len, env_len);
  CHECK(env2_len == env_len && memcmp(env, env2, env_len) == 0);
  free(env2);
  env2 = NULL;

  /* Bad kinds are refused at sealing time. */
  CHECK_EQ_INT(cn_record_seal("", &proposal.base, sk, &env2, &env2_len), -1);
  CHECK_EQ_INT(cn_record_seal_bytes("abcdefghijklmnopqrstuvwxyz0123456", body, body_len, sk,
                                    &env2, &env2_len), -1);
  /* 32 characters is the limit and opens with the full kind. */
  REQUIRE(cn_record_seal_bytes("abcdefghijklmnopqrstuvwxyz012345", body, body_len, sk,
                               &env2, &env2_len) == 0);
  CHECK_EQ_INT(cn_record_open(env2, env2_len, &rec), CN_OK);
  CHECK_STR(rec.kind, "abcdefghijklmnopqrstuvwxyz012345");
  cn_record_close(&rec);
  free(env2);
  env2 = NULL;

  /* Empty body. */
  REQUIRE(cn_record_seal_bytes("head", NULL, 0, sk, &env2, &env2_len) == 0);
  CHECK_EQ_INT(cn_record_open(env2, env2_len, &rec), CN_OK);
  CHECK_EQ_INT(rec.body_len, 0);
  CHECK_STR(rec.kind, "head");
  cn_record_close(&rec);
done:
  cn_record_close(&rec);
  free(env);
  free(env2);
  free(body);
}

/* Every single-bit flip and every whole-byte inversion is refused, and every
 * proper prefix is BAD_ENCODING. */
static void test_tamper(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  uint8_t *env = NULL, *bad = NULL;
  size_t env_len = 0;
  cn_record_t rec;
  int opened = 0, other = 0, sigfail = 0, encfail = 0, not_encoding = 0;

  memset(&rec, 0, sizeof rec);
  cn_crypto_keypair(pk, sk);
  REQUIRE(cn_record_seal("proposal", &proposal.base, sk, &env, &env_len) == 0);
  bad = malloc(env_len);
  REQUIRE(bad);
  for (size_t i = 0; i < env_len; i++) {
    for (int m = 0; m < 9; m++) {
      cn_err e;
      memcpy(bad, env, env_len);
      bad[i] ^= m < 8 ? (uint8_t)(1u << m) : 0xff;
      e = cn_record_open(bad, env_len, &rec);
      if (e == CN_OK) {
        opened++;
        fprintf(stderr, "flip at %zu mask %d opened\n", i, m);
      } else if (e == CN_ERR_BAD_SIGNATURE) {
        sigfail++;
      } else if (e == CN_ERR_BAD_ENCODING) {
        encfail++;
      } else {
        other++;
      }
      /* On error OUT holds nothing. */
      if (e != CN_OK && (rec.envelope_ != NULL || rec.kind[0] != 0 || rec.body != NULL))
        other++;
      cn_record_close(&rec);
    }
  }
  CHECK_EQ_INT(opened, 0);
  CHECK_EQ_INT(other, 0);
  CHECK(sigfail > 0);
  CHECK(encfail > 0);
  CHECK_EQ_INT(sigfail + encfail, (long long)env_len * 9);

  /* Truncations. */
  for (size_t n = 0; n < env_len; n++)
    if (cn_record_open(env, n, &rec) != CN_ERR_BAD_ENCODING)
      not_encoding++;
  cn_record_close(&rec);
  CHECK_EQ_INT(not_encoding, 0);
  CHECK_EQ_INT(cn_record_open(NULL, 10, &rec), CN_ERR_BAD_ENCODING);
  CHECK_EQ_INT(cn_record_open(env, 0, &rec), CN_ERR_BAD_ENCODING);
  /* Still fine untouched. */
  CHECK_EQ_INT(cn_record_open(env, env_len, &rec), CN_OK);
  cn_record_close(&rec);
done:
  free(env);
  free(bad);
}

/* Build an envelope field by field. */
static void build_env(buf_t *b, uint32_t version, const char *kind, size_t kind_len,
                      const uint8_t *body, size_t body_len, const uint8_t *signer, size_t signer_len,
                      const uint8_t *sig, size_t sig_len)
{
  memset(b, 0, sizeof *b);
  if (version)
    put_uint(b, 1, version);
  if (kind_len)
    put_ld(b, 2, kind, kind_len);
  if (body_len)
    put_ld(b, 3, body, body_len);
  if (signer_len)
    put_ld(b, 4, signer, signer_len);
  if (sig_len)
    put_ld(b, 5, sig, sig_len);
}

static void test_fields(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], pk2[CN_PK_BYTES], sk2[CN_SK_BYTES];
  uint8_t sig[CN_SIG_BYTES], sig2[CN_SIG_BYTES], signer33[33];
  const uint8_t body[] = { 0x08, 0x2a, 0x12, 0x03, 'a', 'b', 'c' };
  buf_t b;
  cn_record_t rec;
  uint8_t *env = NULL;
  size_t env_len = 0;

  memset(&rec, 0, sizeof rec);
  cn_crypto_keypair(pk, sk);
  cn_crypto_keypair(pk2, sk2);
  REQUIRE(cn_crypto_sign(sig, "ballot", body, sizeof body, sk) == 0);

  /* The hand-built reference opens. */
  build_env(&b, 1, "ballot", 6, body, sizeof body, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_OK);
  CHECK_STR(rec.kind, "ballot");
  cn_record_close(&rec);
  /* And equals what seal_bytes makes. */
  REQUIRE(cn_record_seal_bytes("ballot", body, sizeof body, sk, &env, &env_len) == 0);
  CHECK(env_len == b.n && memcmp(env, b.d, b.n) == 0);

  /* Versions other than 1 (0 means the field is absent). */
  build_env(&b, 0, "ballot", 6, body, sizeof body, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
  build_env(&b, 2, "ballot", 6, body, sizeof body, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
  build_env(&b, 257, "ballot", 6, body, sizeof body, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);

  /* Signer of 31, 33, 0 bytes. */
  memcpy(signer33, pk, 32);
  signer33[32] = 0;
  build_env(&b, 1, "ballot", 6, body, sizeof body, pk, 31, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
  build_env(&b, 1, "ballot", 6, body, sizeof body, signer33, 33, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
  build_env(&b, 1, "ballot", 6, body, sizeof body, pk, 0, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);

  /* Signature of 63, 65, 0 bytes. */
  {
    uint8_t sig65[65];
    memcpy(sig65, sig, 64);
    sig65[64] = 0;
    build_env(&b, 1, "ballot", 6, body, sizeof body, pk, 32, sig, 63);
    CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
    build_env(&b, 1, "ballot", 6, body, sizeof body, pk, 32, sig65, 65);
    CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
    build_env(&b, 1, "ballot", 6, body, sizeof body, pk, 32, sig, 0);
    CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
  }

  /* Kind empty or too long. */
  build_env(&b, 1, "", 0, body, sizeof body, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
  {
    const char *k33 = "abcdefghijklmnopqrstuvwxyz0123456";
    build_env(&b, 1, k33, 33, body, sizeof body, pk, 32, sig, 64);
    CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_ENCODING);
  }

  /* Kind changed on a valid envelope: same body, signer, signature. */
  build_env(&b, 1, "proposal", 8, body, sizeof body, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_SIGNATURE);
  build_env(&b, 1, "paper_ballot", 12, body, sizeof body, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_SIGNATURE);
  /* Re-encoding through protobuf-c with another kind gives the same result. */
  {
    Councilnet__Envelope *e = councilnet__envelope__unpack(NULL, env_len, env);
    uint8_t *re = NULL;
    size_t re_len = 0;
    char *orig;
    REQUIRE(e != NULL);
    orig = e->kind;
    e->kind = "proposal";
    if (cn_pb_pack(&e->base, &re, &re_len) == 0) {
      CHECK_EQ_INT(cn_record_open(re, re_len, &rec), CN_ERR_BAD_SIGNATURE);
      free(re);
    }
    e->kind = orig;       /* free what protobuf-c allocated, not the literal */
    councilnet__envelope__free_unpacked(e, NULL);
  }
  /* Another signer claimed for the same signature. */
  build_env(&b, 1, "ballot", 6, body, sizeof body, pk2, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_SIGNATURE);
  /* The other key's own signature under the first key's name. */
  REQUIRE(cn_crypto_sign(sig2, "ballot", body, sizeof body, sk2) == 0);
  build_env(&b, 1, "ballot", 6, body, sizeof body, pk, 32, sig2, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_SIGNATURE);
  /* Body dropped. */
  build_env(&b, 1, "ballot", 6, body, 0, pk, 32, sig, 64);
  CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_SIGNATURE);
  /* Small-order signer with the trivial forgery (R = B, S = 1). */
  {
    uint8_t ident[32] = { 1 }, one[32] = { 1 }, forged[64];
    REQUIRE(crypto_scalarmult_ed25519_base_noclamp(forged, one) == 0);
    memcpy(forged + 32, one, 32);
    build_env(&b, 1, "ballot", 6, body, sizeof body, ident, 32, forged, 64);
    CHECK_EQ_INT(cn_record_open(b.d, b.n, &rec), CN_ERR_BAD_SIGNATURE);
  }

  /* Unknown fields appended to a valid envelope. */
  {
    static const uint8_t extras[][4] = {
      { 2, 0x78, 0x01 },          /* field 15, varint 1 */
      { 2, 0x7a, 0x00 },          /* field 15, empty bytes */
      { 3, 0x32, 0x01, 0x00 },    /* field 6, bytes */
      { 2, 0x30, 0x00 },          /* field 6, varint 0 */
      { 3, 0x80, 0x01, 0x00 },    /* field 16, varint 0 */
    };
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
      buf_t x;
      memset(&x, 0, sizeof x);
      put(&x, env, env_len);
      put(&x, extras[i] + 1, extras[i][0]);
      CHECK_EQ_INT(cn_record_open(x.d, x.n, &rec), CN_ERR_BAD_ENCODING);
      /* Also in front. */
      memset(&x, 0, sizeof x);
      put(&x, extras[i] + 1, extras[i][0]);
      put(&x, env, env_len);
      CHECK_EQ_INT(cn_record_open(x.d, x.n, &rec), CN_ERR_BAD_ENCODING);
    }
  }
  /* Wrong wire types for known fields. */
  {
    buf_t x;
    memset(&x, 0, sizeof x);
    put_ld(&x, 1, "\x01", 1);            /* version as bytes */
    put(&x, env + 2, env_len - 2);
    CHECK_EQ_INT(cn_record_open(x.d, x.n, &rec), CN_ERR_BAD_ENCODING);
    memset(&x, 0, sizeof x);
    put_uint(&x, 1, 1);
    put_uint(&x, 2, 6);                   /* kind as varint */
    CHECK_EQ_INT(cn_record_open(x.d, x.n, &rec), CN_ERR_BAD_ENCODING);
  }
  /* Garbage. */
  {
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    CHECK_EQ_INT(cn_record_open(junk, sizeof junk, &rec), CN_ERR_BAD_ENCODING);
  }
done:
  cn_record_close(&rec);
  free(env);
}

/* The same signed record must have exactly one encoding (one record id);
 * otherwise anyone can re-encode an old record and submit it again under a
 * new id, past the node's duplicate check. */
static void test_canonical(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], sig[CN_SIG_BYTES];
  const uint8_t body[] = { 0x08, 0x2a };
  uint8_t *env = NULL;
  size_t env_len = 0;
  buf_t x;
  cn_record_t rec;
  cn_err e;

  memset(&rec, 0, sizeof rec);
  cn_crypto_keypair(pk, sk);
  REQUIRE(cn_crypto_sign(sig, "ballot", body, sizeof body, sk) == 0);
  REQUIRE(cn_record_seal_bytes("ballot", body, sizeof body, sk, &env, &env_len) == 0);

  /* A repeated scalar field (protobuf: the last one wins). */
  memset(&x, 0, sizeof x);
  put(&x, env, env_len);
  put_uint(&x, 1, 1);
  e = cn_record_open(x.d, x.n, &rec);
  cn_record_close(&rec);
  CHECK(e != CN_OK);

  /* A non-minimal varint for the version: 0x81 0x00 == 1. */
  memset(&x, 0, sizeof x);
  put_byte(&x, 0x08);
  put_byte(&x, 0x81);
  put_byte(&x, 0x00);
  put(&x, env + 2, env_len - 2);
  e = cn_record_open(x.d, x.n, &rec);
  cn_record_close(&rec);
  CHECK(e != CN_OK);

  /* Fields out of order. */
  memset(&x, 0, sizeof x);
  put_ld(&x, 5, sig, 64);
  put_ld(&x, 4, pk, 32);
  put_ld(&x, 3, body, sizeof body);
  put_ld(&x, 2, "ballot", 6);
  put_uint(&x, 1, 1);
  e = cn_record_open(x.d, x.n, &rec);
  cn_record_close(&rec);
  CHECK(e != CN_OK);

  /* A kind with an embedded NUL: "ballot\0x" is read as "ballot". */
  memset(&x, 0, sizeof x);
  put_uint(&x, 1, 1);
  put_ld(&x, 2, "ballot\0x", 8);
  put_ld(&x, 3, body, sizeof body);
  put_ld(&x, 4, pk, 32);
  put_ld(&x, 5, sig, 64);
  e = cn_record_open(x.d, x.n, &rec);
  if (e == CN_OK)
    CHECK_STR(rec.kind, "ballot");     /* at least never a kind that was not signed */
  cn_record_close(&rec);
  CHECK(e != CN_OK);

  /* The body field given twice: the signed one last. */
  memset(&x, 0, sizeof x);
  put_uint(&x, 1, 1);
  put_ld(&x, 2, "ballot", 6);
  put_ld(&x, 3, "junk", 4);
  put_ld(&x, 3, body, sizeof body);
  put_ld(&x, 4, pk, 32);
  put_ld(&x, 5, sig, 64);
  e = cn_record_open(x.d, x.n, &rec);
  if (e == CN_OK)
    CHECK(rec.body_len == sizeof body && memcmp(rec.body, body, sizeof body) == 0);
  cn_record_close(&rec);
  CHECK(e != CN_OK);
done:
  free(env);
}

static void test_size(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  uint8_t *body = NULL, *env = NULL, *junk = NULL;
  size_t body_len, env_len = 0;
  cn_record_t rec;

  memset(&rec, 0, sizeof rec);
  cn_crypto_keypair(pk, sk);
  body = calloc(1, CN_RECORD_MAX);
  REQUIRE(body);
  /* Find the body length that makes the envelope exactly CN_RECORD_MAX. */
  body_len = CN_RECORD_MAX - 200;
  REQUIRE(cn_record_seal_bytes("blob", body, body_len, sk, &env, &env_len) == 0);
  body_len += CN_RECORD_MAX - env_len;
  free(env);
  env = NULL;
  REQUIRE(cn_record_seal_bytes("blob", body, body_len, sk, &env, &env_len) == 0);
  REQUIRE(env_len == CN_RECORD_MAX);
  CHECK_EQ_INT(cn_record_open(env, env_len, &rec), CN_OK);
  CHECK_EQ_INT(rec.body_len, body_len);
  cn_record_close(&rec);
  free(env);
  env = NULL;
  /* One byte more: refused as too large even though the signature is good. */
  body_len++;
  REQUIRE(cn_record_seal_bytes("blob", body, body_len, sk, &env, &env_len) == 0);
  REQUIRE(env_len == CN_RECORD_MAX + 1);
  CHECK_EQ_INT(cn_record_open(env, env_len, &rec), CN_ERR_TOO_LARGE);
  CHECK(rec.envelope_ == NULL);
  /* Any oversize input is TOO_LARGE before decoding. */
  junk = malloc(CN_RECORD_MAX * 2);
  REQUIRE(junk);
  memset(junk, 0xff, CN_RECORD_MAX * 2);
  CHECK_EQ_INT(cn_record_open(junk, CN_RECORD_MAX * 2, &rec), CN_ERR_TOO_LARGE);
  CHECK_EQ_INT(cn_record_open(junk, CN_RECORD_MAX + 1, &rec), CN_ERR_TOO_LARGE);
  CHECK_EQ_INT(cn_record_open(junk, CN_RECORD_MAX, &rec), CN_ERR_BAD_ENCODING);
done:
  cn_record_close(&rec);
  free(body);
  free(env);
  free(junk);
}

/* Unknown fields inside a body, at every depth. */
static void test_unknown_in_body(void)
{
  uint8_t *p_plain = NULL, *r_plain = NULL, *g_plain = NULL;
  size_t p_len = 0, r_len = 0, g_len = 0;
  Councilnet__Proposal bare;
  Councilnet__Rule bare_rule;
  ProtobufCMessage *m = NULL;
  buf_t rule_x, body;

  /* The proposal without its rule, the rule without its quorums, one quorum. */
  bare = proposal;
  bare.rule = NULL;
  bare_rule = rule;
  bare_rule.n_group_quorums = 0;
  bare_rule.group_quorums = NULL;
  REQUIRE(cn_pb_pack(&bare.base, &p_plain, &p_len) == 0);
  REQUIRE(cn_pb_pack(&bare_rule.base, &r_plain, &r_len) == 0);
  REQUIRE(cn_pb_pack(&gq0.base, &g_plain, &g_len) == 0);

  /* Clean control: proposal || rule{ rule fields, quorum }. */
  memset(&rule_x, 0, sizeof rule_x);
  put(&rule_x, r_plain, r_len);
  put_ld(&rule_x, 3, g_plain, g_len);
  memset(&body, 0, sizeof body);
  put(&body, p_plain, p_len);
  put_ld(&body, 9, rule_x.d, rule_x.n);
  m = cn_pb_unpack_strict(&councilnet__proposal__descriptor, body.d, body.n);
  CHECK(m != NULL);
  if (m) {
    Councilnet__Proposal *p = (Councilnet__Proposal *)m;
    CHECK(p->rule && p->rule->n_group_quorums == 1);
    CHECK_EQ_INT(cn_pb_has_unknown(m), 0);
    protobuf_c_message_free_unpacked(m, NULL);
    m = NULL;
  }

  /* Unknown field at the top level. */
  memset(&body, 0, sizeof body);
  put(&body, p_plain, p_len);
  put_uint(&body, 15, 1);
  m = protobuf_c_message_unpack(&councilnet__proposal__descriptor, NULL, body.n, body.d);
  REQUIRE(m != NULL);
  CHECK_EQ_INT(cn_pb_has_unknown(m), 1);
  protobuf_c_message_free_unpacked(m, NULL);
  m = NULL;
  CHECK(cn_pb_unpack_strict(&councilnet__proposal__descriptor, body.d, body.n) == NULL);

  /* Unknown field inside Proposal.rule (a nested message). */
  memset(&rule_x, 0, sizeof rule_x);
  put(&rule_x, r_plain, r_len);
  put_byte(&rule_x, 0x78);
  put_byte(&rule_x, 0x01);
  memset(&body, 0, sizeof body);
  put(&body, p_plain, p_len);
  put_ld(&body, 9, rule_x.d, rule_x.n);
  m = protobuf_c_message_unpack(&councilnet__proposal__descriptor, NULL, body.n, body.d);
  REQUIRE(m != NULL);
  CHECK_EQ_INT(m->n_unknown_fields, 0);
  REQUIRE(((Councilnet__Proposal *)m)->rule != NULL);
  CHECK_EQ_INT(((Councilnet__Proposal *)m)->rule->base.n_unknown_fields, 1);
  CHECK_EQ_INT(cn_pb_has_unknown(m), 1);
  protobuf_c_message_free_unpacked(m, NULL);
  m = NULL;
  CHECK(cn_pb_unpack_strict(&councilnet__proposal__descriptor, body.d, body.n) == NULL);

  /* Unknown field in the second element of Rule.group_quorums (repeated,
   * two levels down). */
  memset(&rule_x, 0, sizeof rule_x);
  put(&rule_x, r_plain, r_len);
  put_ld(&rule_x, 3, g_plain, g_len);
  {
    buf_t g;
    memset(&g, 0, sizeof g);
    put(&g, g_plain, g_len);
    put_ld(&g, 7, "?", 1);
    put_ld(&rule_x, 3, g.d, g.n);
  }
  memset(&body, 0, sizeof body);
  put(&body, p_plain, p_len);
  put_ld(&body, 9, rule_x.d, rule_x.n);
  m = protobuf_c_message_unpack(&councilnet__proposal__descriptor, NULL, body.n, body.d);
  REQUIRE(m != NULL);
  {
    Councilnet__Proposal *p = (Councilnet__Proposal *)m;
    REQUIRE(p->rule && p->rule->n_group_quorums == 2);
    CHECK_EQ_INT(p->rule->base.n_unknown_fields, 0);
    CHECK_EQ_INT(p->rule->group_quorums[0]->base.n_unknown_fields, 0);
    CHECK_EQ_INT(p->rule->group_quorums[1]->base.n_unknown_fields, 1);
  }
  CHECK_EQ_INT(cn_pb_has_unknown(m), 1);
  protobuf_c_message_free_unpacked(m, NULL);
  m = NULL;
  CHECK(cn_pb_unpack_strict(&councilnet__proposal__descriptor, body.d, body.n) == NULL);

  /* Malformed body bytes. */
  {
    static const uint8_t trunc[] = { 0x1a, 0x05, 'a', 'b' };
    CHECK(cn_pb_unpack_strict(&councilnet__proposal__descriptor, trunc, sizeof trunc) == NULL);
  }
  /* NULL is no unknown field. */
  CHECK_EQ_INT(cn_pb_has_unknown(NULL), 0);

  /* cn_pb_pack of an all-default message: zero bytes, non-NULL buffer. */
  {
    Councilnet__Head h = COUNCILNET__HEAD__INIT;
    uint8_t *out = NULL;
    size_t len = 99;
    CHECK_EQ_INT(cn_pb_pack(&h.base, &out, &len), 0);
    CHECK_EQ_INT(len, 0);
    CHECK(out != NULL);
    free(out);
  }

  /* The record layer does not look into the body: an envelope whose body has
   * unknown fields still opens; the node refuses it when it decodes the body. */
  {
    uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], *env = NULL;
    size_t env_len = 0;
    cn_record_t rec;
    memset(&rec, 0, sizeof rec);
    cn_crypto_keypair(pk, sk);
    REQUIRE(cn_record_seal_bytes("proposal", body.d, body.n, sk, &env, &env_len) == 0);
    CHECK_EQ_INT(cn_record_open(env, env_len, &rec), CN_OK);
    CHECK(cn_pb_unpack_strict(&councilnet__proposal__descriptor, rec.body, rec.body_len) == NULL);
    cn_record_close(&rec);
    free(env);
  }
done:
  free(p_plain);
  free(r_plain);
  free(g_plain);
}

int main(void)
{
  if (cn_crypto_init() != 0) {
    fprintf(stderr, "cn_crypto_init failed\n");
    return 1;
  }
  fixture_init();
  test_seal_open();
  test_tamper();
  test_fields();
  test_canonical();
  test_size();
  test_unknown_in_body();
  return test_finish("test_record");
}
