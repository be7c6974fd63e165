/* log.h: the hash chain. entry hash = BLAKE2b-256(seq BE64 || prev ||
 * record_id || received BE64). The first entry has seq 1 and prev all zero. */
#ifndef COUNCILNET_LOG_H
#define COUNCILNET_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet/crypto.h"

void cn_log_entry_hash(uint8_t out[CN_HASH_BYTES], uint64_t seq,
                       const uint8_t prev[CN_HASH_BYTES],
                       const uint8_t record_id[CN_HASH_BYTES], uint64_t received);

/* Streaming verifier of a node's log, entry by entry. */
typedef struct cn_log_verifier_t {
  uint8_t node_pk[CN_PK_BYTES];
  uint64_t seq;                     /* last verified seq, 0 at start */
  uint8_t hash[CN_HASH_BYTES];      /* hash of that entry, zero at start */
  char error[256];                  /* why the last call failed */
} cn_log_verifier_t;

void cn_log_verifier_init(cn_log_verifier_t *v, const uint8_t node_pk[CN_PK_BYTES]);

/* Check one entry: seq follows, prev links, record id is the hash of the
 * envelope, entry hash recomputes, and the envelope's signature verifies
 * (node-signed kinds must be signed by the node). Return 0, or -1 with
 * v->error set. ENVELOPE is the exact bytes stored in the log. */
int cn_log_verifier_step(cn_log_verifier_t *v, uint64_t seq,
                         const uint8_t *prev, size_t prev_len,
                         const uint8_t *record_id, size_t record_id_len,
                         uint64_t received, const uint8_t *hash, size_t hash_len,
                         const uint8_t *envelope, size_t envelope_len);

/* Check a signed head (Envelope of kind "head") against the verified chain:
 * it must be signed by the node and name exactly the last verified entry
 * (seq == v->seq, hash == v->hash). Return 0, or -1 with v->error set. */
int cn_log_verifier_check_head(cn_log_verifier_t *v, const uint8_t *head_env, size_t len);

#endif
