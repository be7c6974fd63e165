/* receipt.c: Merkle batches of receipts, one signature each. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/receipt.h"
#include "councilnet/record.h"

struct cn_merkle_t {
  size_t levels;                    /* level 0: the leaves; the last: the root */
  size_t size[CN_RECEIPT_PATH_MAX + 1];
  uint8_t (*level[CN_RECEIPT_PATH_MAX + 1])[CN_HASH_BYTES];
  uint8_t (*nodes)[CN_HASH_BYTES];  /* every level, one allocation */
};

void cn_merkle_leaf(uint8_t out[CN_HASH_BYTES], const uint8_t *data, size_t len)
{
  crypto_generichash_state st;
  static const uint8_t tag = 0x00;

  crypto_generichash_init(&st, NULL, 0, CN_HASH_BYTES);
  crypto_generichash_update(&st, &tag, 1);
  crypto_generichash_update(&st, data, len);
  crypto_generichash_final(&st, out, CN_HASH_BYTES);
}

static void merkle_inner(uint8_t out[CN_HASH_BYTES], const uint8_t left[CN_HASH_BYTES],
                         const uint8_t right[CN_HASH_BYTES])
{
  uint8_t in[1 + 2 * CN_HASH_BYTES];

  in[0] = 0x01;
  memcpy(in + 1, left, CN_HASH_BYTES);
  memcpy(in + 1 + CN_HASH_BYTES, right, CN_HASH_BYTES);
  crypto_generichash(out, CN_HASH_BYTES, in, sizeof in, NULL, 0);
}

cn_merkle_t *cn_merkle_build(const uint8_t (*leaves)[CN_HASH_BYTES], size_t n)
{
  cn_merkle_t *t;
  size_t total = 0, m = n;

  if (n == 0 || (uint64_t)n > ((uint64_t)1 << CN_RECEIPT_PATH_MAX))
    return NULL;
  t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  for (;;) {
    t->size[t->levels++] = m;
    total += m;
    if (m == 1)
      break;
    m = (m + 1) / 2;
  }
  t->nodes = malloc(total * sizeof *t->nodes);
  if (!t->nodes) {
    free(t);
    return NULL;
  }
  t->level[0] = t->nodes;
  memcpy(t->level[0], leaves, n * sizeof *leaves);
  for (size_t l = 1; l < t->levels; l++) {
    const uint8_t (*below)[CN_HASH_BYTES] = (const uint8_t (*)[CN_HASH_BYTES])t->level[l - 1];
    size_t nb = t->size[l - 1];
    t->level[l] = t->level[l - 1] + nb;
    for (size_t i = 0; i < t->size[l]; i++) {
      if (2 * i + 1 < nb)
        merkle_inner(t->level[l][i], below[2 * i], below[2 * i + 1]);
      else
        memcpy(t->level[l][i], below[2 * i], CN_HASH_BYTES);   /* moves up */
    }
  }
  return t;
}

const uint8_t *cn_merkle_root(const cn_merkle_t *t)
{
  return t->level[t->levels - 1][0];
}

size_t cn_merkle_path(const cn_merkle_t *t, size_t index,
                      uint8_t path[CN_RECEIPT_PATH_MAX][CN_HASH_BYTES])
{
  size_t n = 0;

  for (size_t l = 0; l + 1 < t->levels; l++, index /= 2)
    if ((index ^ 1) < t->size[l])
      memcpy(path[n++], t->level[l][index ^ 1], CN_HASH_BYTES);
  return n;
}

void cn_merkle_free(cn_merkle_t *t)
{
  if (!t)
    return;
  free(t->nodes);
  free(t);
}

int cn_merkle_check(const uint8_t leaf[CN_HASH_BYTES], uint64_t index, uint64_t leaves,
                    const uint8_t (*path)[CN_HASH_BYTES], size_t n,
                    const uint8_t root[CN_HASH_BYTES])
{
  uint8_t r[CN_HASH_BYTES];
  size_t k = 0;

  if (leaves == 0 || leaves > ((uint64_t)1 << CN_RECEIPT_PATH_MAX) || index >= leaves)
    return 0;
  memcpy(r, leaf, CN_HASH_BYTES);
  for (uint64_t size = leaves; size > 1; size = size / 2 + (size & 1), index /= 2) {
    if ((index ^ 1) >= size)
      continue;                       /* no sibling: moves up unchanged */
    if (k == n)
      return 0;
    if (index & 1)
      merkle_inner(r, path[k], r);
    else
      merkle_inner(r, r, path[k]);
    k++;
  }
  return k == n && sodium_memcmp(r, root, CN_HASH_BYTES) == 0;
}

int cn_receipt_seal(const uint8_t sk[CN_SK_BYTES], uint64_t created,
                    const uint8_t *const *receipts, const size_t *lens, size_t n,
                    uint8_t **out, size_t *out_lens)
{
  Councilnet__ReceiptBatch b = COUNCILNET__RECEIPT_BATCH__INIT;
  uint8_t (*leaves)[CN_HASH_BYTES] = NULL, pk[CN_PK_BYTES];
  uint8_t path[CN_RECEIPT_PATH_MAX][CN_HASH_BYTES];
  ProtobufCBinaryData pathv[CN_RECEIPT_PATH_MAX];
  uint8_t *batch = NULL;
  size_t batch_len = 0, made = 0;
  cn_merkle_t *t = NULL;
  int rc = -1;

  /* the cap also keeps the tree's 2n hashes within size_t */
  if (n == 0 || (uint64_t)n > ((uint64_t)1 << CN_RECEIPT_PATH_MAX) ||
      n > SIZE_MAX / (2 * CN_HASH_BYTES))
    return -1;
  leaves = malloc(n * sizeof *leaves);
  if (!leaves)
    goto out;
  for (size_t i = 0; i < n; i++)
    cn_merkle_leaf(leaves[i], receipts[i], lens[i]);
  t = cn_merkle_build((const uint8_t (*)[CN_HASH_BYTES])leaves, n);
  if (!t)
    goto out;
  cn_crypto_sk_to_pk(pk, sk);
  b.node.data = pk;
  b.node.len = CN_PK_BYTES;
  b.created = created;
  b.root.data = (uint8_t *)cn_merkle_root(t);
  b.root.len = CN_HASH_BYTES;
  b.leaves = n;
  if (cn_record_seal("receipt_batch", &b.base, sk, &batch, &batch_len) != 0)
    goto out;
  for (size_t i = 0; i < n; i++, made++) {
    Councilnet__SignedReceipt s = COUNCILNET__SIGNED_RECEIPT__INIT;
    size_t np = cn_merkle_path(t, i, path);
    for (size_t k = 0; k < np; k++) {
      pathv[k].data = path[k];
      pathv[k].len = CN_HASH_BYTES;
    }
    s.receipt.data = (uint8_t *)receipts[i];
    s.receipt.len = lens[i];
    s.index = i;
    s.n_path = np;
    s.path = pathv;
    s.batch.data = batch;
    s.batch.len = batch_len;
    if (cn_pb_pack(&s.base, &out[i], &out_lens[i]) != 0)
      goto out;
  }
  rc = 0;
out:
  if (rc != 0)
    while (made-- > 0) {        /* only what this call made */
      free(out[made]);
      out[made] = NULL;
    }
  free(batch);
  cn_merkle_free(t);
  free(leaves);
  return rc;
}

static cn_err receipt_refuse(cn_err err, char *msg, size_t msglen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, msglen, fmt, ap);
  va_end(ap);
  return err;
}

cn_err cn_receipt_open(const uint8_t *buf, size_t len, const uint8_t node[CN_PK_BYTES],
                       Councilnet__Receipt **out, char *msg, size_t msglen)
{
  Councilnet__SignedReceipt *s = NULL;
  Councilnet__ReceiptBatch *b = NULL;
  Councilnet__Receipt *r = NULL;
  uint8_t leaf[CN_HASH_BYTES], path[CN_RECEIPT_PATH_MAX][CN_HASH_BYTES];
  cn_record_t rec;
  cn_err err;

  *out = NULL;
  msg[0] = 0;
  memset(&rec, 0, sizeof rec);
  s = (Councilnet__SignedReceipt *)cn_pb_unpack_strict(&councilnet__signed_receipt__descriptor,
                                                       buf, len);
  if (!s) {
    err = receipt_refuse(CN_ERR_BAD_ENCODING, msg, msglen, "the receipt is not a SignedReceipt");
    goto out;
  }
  err = cn_record_open(s->batch.data, s->batch.len, &rec);
  if (err != CN_OK) {
    receipt_refuse(err, msg, msglen, "the receipt's batch does not open (%s)", cn_err_name(err));
    goto out;
  }
  /* The signer first: nothing an impostor wrote reaches MSG. */
  if (sodium_memcmp(rec.signer, node, CN_PK_BYTES) != 0) {
    err = receipt_refuse(CN_ERR_BAD_SIGNATURE, msg, msglen,
                         "the receipt is not signed by the node key");
    goto out;
  }
  if (strcmp(rec.kind, "receipt_batch") != 0) {
    err = receipt_refuse(CN_ERR_BAD_ENCODING, msg, msglen,
                         "the receipt's batch is a record of another kind");
    goto out;
  }
  b = (Councilnet__ReceiptBatch *)cn_pb_unpack_strict(&councilnet__receipt_batch__descriptor,
                                                      rec.body, rec.body_len);
  if (!b || b->root.len != CN_HASH_BYTES || b->node.len != CN_PK_BYTES ||
      s->n_path > CN_RECEIPT_PATH_MAX || b->leaves == 0 ||
      b->leaves > ((uint64_t)1 << CN_RECEIPT_PATH_MAX)) {
    err = receipt_refuse(CN_ERR_BAD_ENCODING, msg, msglen, "the receipt's batch is malformed");
    goto out;
  }
  if (memcmp(b->node.data, node, CN_PK_BYTES) != 0) {
    err = receipt_refuse(CN_ERR_BAD_SIGNATURE, msg, msglen, "the receipt's batch names another node");
    goto out;
  }
  for (size_t k = 0; k < s->n_path; k++) {
    if (s->path[k].len != CN_HASH_BYTES) {
      err = receipt_refuse(CN_ERR_BAD_ENCODING, msg, msglen, "the receipt's path is malformed");
      goto out;
    }
    memcpy(path[k], s->path[k].data, CN_HASH_BYTES);
  }
  cn_merkle_leaf(leaf, s->receipt.data, s->receipt.len);
  if (!cn_merkle_check(leaf, s->index, b->leaves, (const uint8_t (*)[CN_HASH_BYTES])path,
                       s->n_path, b->root.data)) {
    err = receipt_refuse(CN_ERR_BAD_SIGNATURE, msg, msglen,
                         "the receipt is not in the batch the node signed");
    goto out;
  }
  r = (Councilnet__Receipt *)cn_pb_unpack_strict(&councilnet__receipt__descriptor,
                                                 s->receipt.data, s->receipt.len);
  if (!r || r->record_id.len != CN_HASH_BYTES || r->entry_hash.len != CN_HASH_BYTES) {
    err = receipt_refuse(CN_ERR_BAD_ENCODING, msg, msglen, "the receipt is malformed");
    goto out;
  }
  if (r->node.len != CN_PK_BYTES || memcmp(r->node.data, node, CN_PK_BYTES) != 0) {
    err = receipt_refuse(CN_ERR_BAD_SIGNATURE, msg, msglen, "the receipt names another node");
    goto out;
  }
  *out = r;
  r = NULL;
  err = CN_OK;
out:
  if (r)
    councilnet__receipt__free_unpacked(r, NULL);
  if (b)
    councilnet__receipt_batch__free_unpacked(b, NULL);
  if (s)
    councilnet__signed_receipt__free_unpacked(s, NULL);
  cn_record_close(&rec);
  return err;
}
