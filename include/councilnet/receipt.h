/* receipt.h: receipts signed a batch at a time.
 *
 * A node answers every accepted record with a Receipt (record id, seq,
 * entry hash). Signing each one costs an Ed25519 signature per record, as
 * much CPU as verifying a third of a ballot; so the node signs once per
 * batch of receipts made durable together: a Merkle tree over the
 * serialized Receipts, one signed ReceiptBatch over its root, and for each
 * record a SignedReceipt carrying its own leaf and audit path. Anyone with
 * the node's key checks a SignedReceipt alone (cn_receipt_open), so a
 * receipt still proves inclusion, or that the node dropped the record.
 *
 * Hashes: leaf = BLAKE2b-256(0x00 || Receipt bytes), inner node =
 * BLAKE2b-256(0x01 || left || right); a last node with no right sibling
 * moves up unchanged (the tree shape of RFC 9162). */
#ifndef COUNCILNET_RECEIPT_H
#define COUNCILNET_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet/crypto.h"
#include "councilnet/err.h"

#define CN_RECEIPT_PATH_MAX 40      /* levels: batches of up to 2^40 leaves */

struct Councilnet__Receipt;

/* Merkle tree over N leaf hashes, built once; paths are then read off. */
typedef struct cn_merkle_t cn_merkle_t;

/* Leaf hash of DATA. */
void cn_merkle_leaf(uint8_t out[CN_HASH_BYTES], const uint8_t *data, size_t len);

/* Build the tree over LEAVES[0..N) (N >= 1). NULL if out of memory. */
cn_merkle_t *cn_merkle_build(const uint8_t (*leaves)[CN_HASH_BYTES], size_t n);
const uint8_t *cn_merkle_root(const cn_merkle_t *t);
/* The audit path of leaf INDEX into PATH; return its length. */
size_t cn_merkle_path(const cn_merkle_t *t, size_t index,
                      uint8_t path[CN_RECEIPT_PATH_MAX][CN_HASH_BYTES]);
void cn_merkle_free(cn_merkle_t *t);

/* Is LEAF at INDEX of a LEAVES-leaf tree with ROOT, by PATH (N hashes)? */
int cn_merkle_check(const uint8_t leaf[CN_HASH_BYTES], uint64_t index, uint64_t leaves,
                    const uint8_t (*path)[CN_HASH_BYTES], size_t n,
                    const uint8_t root[CN_HASH_BYTES]);

/* Sign N serialized Receipts (RECEIPTS[i], LENS[i]) as one batch with the
 * node key SK, dated CREATED. OUT[i] / OUT_LENS[i]: each receipt's
 * SignedReceipt, malloc'd. Return 0, or -1 with nothing allocated. */
int cn_receipt_seal(const uint8_t sk[CN_SK_BYTES], uint64_t created,
                    const uint8_t *const *receipts, const size_t *lens, size_t n,
                    uint8_t **out, size_t *out_lens);

/* Check a SignedReceipt: strict decoding, the batch signed by NODE (kind
 * receipt_batch) and naming it, the leaf on the path to the signed root,
 * and the Receipt naming NODE. On CN_OK *OUT is the Receipt (free with
 * councilnet__receipt__free_unpacked). Otherwise MSG says what is wrong:
 * CN_ERR_BAD_ENCODING for a malformed answer, CN_ERR_BAD_SIGNATURE for a
 * signature, signer or path that does not hold. */
cn_err cn_receipt_open(const uint8_t *buf, size_t len, const uint8_t node[CN_PK_BYTES],
                       struct Councilnet__Receipt **out, char *msg, size_t msglen);

#endif
