/* test_receipt.c: receipts signed a batch at a time (lib/receipt.c).
 *
 * The Merkle tree: every leaf of every batch size from 1 to 70 proves
 * itself with its path; the root is the RFC 9162 tree hash, computed here
 * independently by its recursive definition; a changed path, index or
 * leaf count does not prove. Sealed batches: each SignedReceipt opens
 * alone with the node's key and gives back its own Receipt; another key,
 * a changed byte anywhere, a receipt moved to another's place, unknown
 * fields, an oversized path, an empty batch and absurd leaf counts are
 * each refused with the error they deserve. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/crypto.h"
#include "councilnet/receipt.h"
#include "councilnet/record.h"
#include "test.h"

#define MAXN 70

static void leaf_of(uint8_t out[CN_HASH_BYTES], size_t i)
{
  uint8_t b[8];
  for (int k = 0; k < 8; k++)
    b[k] = (uint8_t)(i >> (8 * k));
  cn_merkle_leaf(out, b, sizeof b);
}

/* RFC 9162 MTH over leaf hashes: split at the largest power of two below N. */
static void mth(uint8_t out[CN_HASH_BYTES], const uint8_t (*l)[CN_HASH_BYTES], size_t n)
{
  uint8_t in[1 + 2 * CN_HASH_BYTES];
  size_t k = 1;

  if (n == 1) {
    memcpy(out, l[0], CN_HASH_BYTES);
    return;
  }
  while (k * 2 < n)
    k *= 2;
  in[0] = 0x01;
  mth(in + 1, l, k);
  mth(in + 1 + CN_HASH_BYTES, l + k, n - k);
  crypto_generichash(out, CN_HASH_BYTES, in, sizeof in, NULL, 0);
}

static void test_merkle(void)
{
  static uint8_t leaves[MAXN][CN_HASH_BYTES];
  uint8_t path[CN_RECEIPT_PATH_MAX][CN_HASH_BYTES], root[CN_HASH_BYTES];
  int proved = 0, bad_proved = 0;

  for (size_t i = 0; i < MAXN; i++)
    leaf_of(leaves[i], i);
  CHECK(cn_merkle_build((const uint8_t (*)[CN_HASH_BYTES])leaves, 0) == NULL);
  for (size_t n = 1; n <= MAXN; n++) {
    cn_merkle_t *t = cn_merkle_build((const uint8_t (*)[CN_HASH_BYTES])leaves, n);
    REQUIRE(t);
    mth(root, (const uint8_t (*)[CN_HASH_BYTES])leaves, n);
    CHECK(memcmp(root, cn_merkle_root(t), CN_HASH_BYTES) == 0);
    for (size_t i = 0; i < n; i++) {
      size_t np = cn_merkle_path(t, i, path);
      const uint8_t (*p)[CN_HASH_BYTES] = (const uint8_t (*)[CN_HASH_BYTES])path;
      proved += cn_merkle_check(leaves[i], i, n, p, np, root);
      /* what must not prove */
      bad_proved += cn_merkle_check(leaves[(i + 1) % MAXN], i, n, p, np, root);
      if (n > 1)
        bad_proved += cn_merkle_check(leaves[i], (i + 1) % n, n, p, np, root);
      bad_proved += cn_merkle_check(leaves[i], i, i, p, np, root);      /* index past the end */
      bad_proved += cn_merkle_check(leaves[i], i, 2 * n, p, np, root);  /* another tree size */
      if (np > 0) {
        bad_proved += cn_merkle_check(leaves[i], i, n, p, np - 1, root);  /* path cut short */
        path[np - 1][0] ^= 1;
        bad_proved += cn_merkle_check(leaves[i], i, n, p, np, root);
      }
      if (np < CN_RECEIPT_PATH_MAX) {
        memcpy(path[np], root, CN_HASH_BYTES);                         /* one hash too many */
        bad_proved += cn_merkle_check(leaves[i], i, n, p, np + 1, root);
      }
    }
    cn_merkle_free(t);
  }
  CHECK_EQ_INT(proved, MAXN * (MAXN + 1) / 2);
  CHECK_EQ_INT(bad_proved, 0);
  cn_merkle_free(NULL);
done:
  return;
}

typedef struct batch_t {
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  size_t n;
  uint8_t ids[MAXN][CN_HASH_BYTES];
  uint8_t *leaves[MAXN];
  size_t leaf_lens[MAXN];
  uint8_t *out[MAXN];
  size_t out_lens[MAXN];
} batch_t;

static int batch_make(batch_t *b, size_t n, const uint8_t node[CN_PK_BYTES])
{
  memset(b->leaves, 0, sizeof b->leaves);
  memset(b->out, 0, sizeof b->out);
  b->n = n;
  for (size_t i = 0; i < n; i++) {
    Councilnet__Receipt r = COUNCILNET__RECEIPT__INIT;
    uint8_t eh[CN_HASH_BYTES];
    randombytes_buf(b->ids[i], CN_HASH_BYTES);
    randombytes_buf(eh, sizeof eh);
    r.node.data = (uint8_t *)node;
    r.node.len = CN_PK_BYTES;
    r.created = 1900000000 + i;
    r.record_id.data = b->ids[i];
    r.record_id.len = CN_HASH_BYTES;
    r.seq = 100 + i;
    r.entry_hash.data = eh;
    r.entry_hash.len = CN_HASH_BYTES;
    if (cn_pb_pack(&r.base, &b->leaves[i], &b->leaf_lens[i]) != 0)
      return -1;
  }
  return cn_receipt_seal(b->sk, 1900000000 + n, (const uint8_t *const *)b->leaves, b->leaf_lens,
                         n, b->out, b->out_lens);
}

static void batch_clear(batch_t *b)
{
  for (size_t i = 0; i < MAXN; i++) {
    free(b->leaves[i]);
    free(b->out[i]);
    b->leaves[i] = b->out[i] = NULL;
  }
}

static cn_err open_err(const uint8_t *buf, size_t len, const uint8_t pk[CN_PK_BYTES])
{
  Councilnet__Receipt *r = NULL;
  char msg[160];
  cn_err e = cn_receipt_open(buf, len, pk, &r, msg, sizeof msg);
  if (e == CN_OK) {
    councilnet__receipt__free_unpacked(r, NULL);
  } else {
    CHECK(r == NULL);
    CHECK(msg[0] != 0);
  }
  return e;
}

/* A SignedReceipt rebuilt from parts, to forge with. */
static size_t signed_pack(uint8_t *out, size_t cap, const ProtobufCBinaryData *receipt,
                          uint64_t index, ProtobufCBinaryData *path, size_t np,
                          const ProtobufCBinaryData *batch)
{
  Councilnet__SignedReceipt s = COUNCILNET__SIGNED_RECEIPT__INIT;
  size_t len;
  s.receipt = *receipt;
  s.index = index;
  s.path = path;
  s.n_path = np;
  s.batch = *batch;
  len = protobuf_c_message_get_packed_size(&s.base);
  if (len > cap)
    return 0;
  return protobuf_c_message_pack(&s.base, out);
}

static void test_batches(void)
{
  static const size_t sizes[] = { 1, 2, 7, 33 };
  static batch_t b, again;
  uint8_t other_pk[CN_PK_BYTES], other_sk[CN_SK_BYTES];
  int opened = 0, named = 0;

  cn_crypto_keypair(b.pk, b.sk);
  cn_crypto_keypair(other_pk, other_sk);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s];
    REQUIRE(batch_make(&b, n, b.pk) == 0);
    for (size_t i = 0; i < n; i++) {
      Councilnet__Receipt *r = NULL;
      char msg[160];
      if (cn_receipt_open(b.out[i], b.out_lens[i], b.pk, &r, msg, sizeof msg) == CN_OK) {
        opened++;
        named += r->record_id.len == CN_HASH_BYTES &&
                 memcmp(r->record_id.data, b.ids[i], CN_HASH_BYTES) == 0 && r->seq == 100 + i;
        councilnet__receipt__free_unpacked(r, NULL);
      } else {
        fprintf(stderr, "  batch of %zu, receipt %zu: %s\n", n, i, msg);
      }
      CHECK_EQ_INT(open_err(b.out[i], b.out_lens[i], other_pk), CN_ERR_BAD_SIGNATURE);
      /* one byte changed anywhere: never opens, whatever the error */
      for (size_t k = 0; k < b.out_lens[i]; k += 7) {
        b.out[i][k] ^= 0x20;
        CHECK(open_err(b.out[i], b.out_lens[i], b.pk) != CN_OK);
        b.out[i][k] ^= 0x20;
      }
      CHECK_EQ_INT(open_err(b.out[i], b.out_lens[i] - 1, b.pk), CN_ERR_BAD_ENCODING);
    }
    batch_clear(&b);
  }
  CHECK_EQ_INT(opened, 1 + 2 + 7 + 33);
  CHECK_EQ_INT(named, opened);

  /* the same receipts sealed twice: the same bytes */
  cn_crypto_keypair(b.pk, b.sk);
  memcpy(again.pk, b.pk, CN_PK_BYTES);
  memcpy(again.sk, b.sk, CN_SK_BYTES);
  REQUIRE(batch_make(&b, 5, b.pk) == 0);
  REQUIRE(cn_receipt_seal(b.sk, 1900000005, (const uint8_t *const *)b.leaves, b.leaf_lens, 5,
                          again.out, again.out_lens) == 0);
  for (size_t i = 0; i < 5; i++)
    CHECK(again.out_lens[i] == b.out_lens[i] && memcmp(again.out[i], b.out[i], b.out_lens[i]) == 0);
  CHECK(cn_receipt_seal(b.sk, 1, (const uint8_t *const *)b.leaves, b.leaf_lens, 0, again.out,
                        again.out_lens) == -1);

  /* forgeries built from the parts of a real batch of 5 */
  {
    Councilnet__SignedReceipt *s0 = councilnet__signed_receipt__unpack(NULL, b.out_lens[0], b.out[0]);
    Councilnet__SignedReceipt *s1 = councilnet__signed_receipt__unpack(NULL, b.out_lens[1], b.out[1]);
    uint8_t buf[4096], big[CN_RECEIPT_PATH_MAX + 1][CN_HASH_BYTES];
    ProtobufCBinaryData bigp[CN_RECEIPT_PATH_MAX + 1];
    size_t len;
    REQUIRE(s0 && s1);
    /* receipt 0 in receipt 1's place */
    len = signed_pack(buf, sizeof buf, &s0->receipt, s1->index, s1->path, s1->n_path, &s1->batch);
    CHECK_EQ_INT(open_err(buf, len, b.pk), CN_ERR_BAD_SIGNATURE);
    /* receipt 0 with its path but claiming index 1 */
    len = signed_pack(buf, sizeof buf, &s0->receipt, 1, s0->path, s0->n_path, &s0->batch);
    CHECK_EQ_INT(open_err(buf, len, b.pk), CN_ERR_BAD_SIGNATURE);
    /* a path longer than any batch */
    memset(big, 7, sizeof big);
    for (size_t k = 0; k <= CN_RECEIPT_PATH_MAX; k++) {
      bigp[k].data = big[k];
      bigp[k].len = CN_HASH_BYTES;
    }
    len = signed_pack(buf, sizeof buf, &s0->receipt, 0, bigp, CN_RECEIPT_PATH_MAX + 1, &s0->batch);
    CHECK_EQ_INT(open_err(buf, len, b.pk), CN_ERR_BAD_ENCODING);
    /* a path hash of the wrong size */
    bigp[0].len = 31;
    len = signed_pack(buf, sizeof buf, &s0->receipt, 0, bigp, 3, &s0->batch);
    CHECK_EQ_INT(open_err(buf, len, b.pk), CN_ERR_BAD_ENCODING);
    /* an unknown field after a valid receipt */
    memcpy(buf, b.out[0], b.out_lens[0]);
    buf[b.out_lens[0]] = (15 << 3) | 0;
    buf[b.out_lens[0] + 1] = 1;
    CHECK_EQ_INT(open_err(buf, b.out_lens[0] + 2, b.pk), CN_ERR_BAD_ENCODING);
    /* an attacker's own batch, naming the node, over receipt 0 alone */
    {
      Councilnet__ReceiptBatch rb = COUNCILNET__RECEIPT_BATCH__INIT;
      uint8_t leaf[CN_HASH_BYTES], *env = NULL;
      size_t env_len = 0;
      ProtobufCBinaryData batch;
      cn_merkle_leaf(leaf, s0->receipt.data, s0->receipt.len);
      rb.node.data = b.pk;
      rb.node.len = CN_PK_BYTES;
      rb.root.data = leaf;
      rb.root.len = CN_HASH_BYTES;
      rb.leaves = 1;
      REQUIRE(cn_record_seal("receipt_batch", &rb.base, other_sk, &env, &env_len) == 0);
      batch.data = env;
      batch.len = env_len;
      len = signed_pack(buf, sizeof buf, &s0->receipt, 0, NULL, 0, &batch);
      CHECK_EQ_INT(open_err(buf, len, b.pk), CN_ERR_BAD_SIGNATURE);
      CHECK_EQ_INT(open_err(buf, len, other_pk), CN_ERR_BAD_SIGNATURE);   /* names b.pk */
      free(env);
      /* the node's key, but an empty batch, or one past any real size
       * (2^64 - 1 leaves once made a one-level tree of leaf 2^64 - 2) */
      {
        static const uint64_t bad_leaves[] = { 0, ((uint64_t)1 << CN_RECEIPT_PATH_MAX) + 1,
                                               UINT64_MAX };
        for (size_t k = 0; k < 3; k++) {
          rb.leaves = bad_leaves[k];
          REQUIRE(cn_record_seal("receipt_batch", &rb.base, b.sk, &env, &env_len) == 0);
          batch.data = env;
          batch.len = env_len;
          len = signed_pack(buf, sizeof buf, &s0->receipt, k ? bad_leaves[k] - 1 : 0, NULL, 0,
                            &batch);
          CHECK_EQ_INT(open_err(buf, len, b.pk), CN_ERR_BAD_ENCODING);
          free(env);
          CHECK(!cn_merkle_check(leaf, k ? bad_leaves[k] - 1 : 0, bad_leaves[k], NULL, 0, leaf));
        }
      }
      /* the node's key over the same root, but as another kind */
      rb.leaves = 1;
      REQUIRE(cn_record_seal("receipt", &rb.base, b.sk, &env, &env_len) == 0);
      batch.data = env;
      batch.len = env_len;
      len = signed_pack(buf, sizeof buf, &s0->receipt, 0, NULL, 0, &batch);
      CHECK_EQ_INT(open_err(buf, len, b.pk), CN_ERR_BAD_ENCODING);
      free(env);
    }
    councilnet__signed_receipt__free_unpacked(s0, NULL);
    councilnet__signed_receipt__free_unpacked(s1, NULL);
  }
  batch_clear(&b);

  /* the node signs a batch whose receipt names another node */
  REQUIRE(batch_make(&b, 3, other_pk) == 0);
  CHECK_EQ_INT(open_err(b.out[1], b.out_lens[1], b.pk), CN_ERR_BAD_SIGNATURE);
  CHECK_EQ_INT(open_err((const uint8_t *)"not a receipt", 13, b.pk), CN_ERR_BAD_ENCODING);
done:
  batch_clear(&b);
  batch_clear(&again);
}

int main(void)
{
  if (cn_crypto_init() != 0)
    return 1;
  test_merkle();
  test_batches();
  return test_finish("test_receipt");
}
