/* sortition.h: verifiable selection by lot. Pure functions, no I/O.
 *
 * seed = BLAKE2b-256("councilnet/sortition" || proposal id || head hash
 *                    || lot signature),
 * where head hash is the hash of the last log entry before the decision
 * (the decision entry's `prev`) and lot signature the node's Ed25519
 * signature of kind "lot" over proposal id || head hash (Decision
 * .lot_signature). Whoever posts the last record before the close helps
 * decide the head, but cannot know the signature before the decision, so
 * cannot try records offline until the draw favours them. Decisions made
 * before nodes signed the lot carry no signature; their seed is the hash
 * without it, which that last record could steer.
 *
 * The draw is a Fisher-Yates shuffle of the volunteer keys sorted in
 * ascending byte order, driven by the stream
 * r_i = first 8 bytes (big-endian) of BLAKE2b-256(seed || be64(i)), i = 0, 1, ...
 * with rejection sampling so each index is uniform. Seats are then filled:
 * first, quota by quota in the order given, the earliest volunteers in
 * shuffled order who belong to the quota's group until min_seats of that
 * group are selected (counting those already selected) or none remain; then
 * the remaining seats in shuffled order. */
#ifndef COUNCILNET_SORTITION_H
#define COUNCILNET_SORTITION_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet/crypto.h"

typedef struct cn_volunteer_t {
  uint8_t key[CN_PK_BYTES];
  char *const *groups;        /* the volunteer's group labels */
  size_t n_groups;
} cn_volunteer_t;

typedef struct cn_quota_t {
  const char *group;
  uint32_t min_seats;
} cn_quota_t;

/* The signature kind of the lot (crypto.h domain separation). No record
 * kind is called "lot", and the domain ends with the kind's NUL, so the lot
 * signature never verifies as a record's, nor a record's as a lot's. */
#define CN_SORTITION_LOT_KIND "lot"

/* Sign the lot of selection PROPOSAL_ID drawn at HEAD_HASH with the node's
 * SK: Ed25519 of kind "lot" over proposal id || head hash (64 bytes).
 * Return 0 or -1. */
int cn_sortition_sign_lot(uint8_t sig[CN_SIG_BYTES], const uint8_t proposal_id[CN_HASH_BYTES],
                          const uint8_t head_hash[CN_HASH_BYTES], const uint8_t sk[CN_SK_BYTES]);

/* Check a lot signature against the node key NODE_PK. Return 0 if it
 * verifies, -1 otherwise. */
int cn_sortition_check_lot(const uint8_t sig[CN_SIG_BYTES], const uint8_t proposal_id[CN_HASH_BYTES],
                           const uint8_t head_hash[CN_HASH_BYTES], const uint8_t node_pk[CN_PK_BYTES]);

/* The seed of selection PROPOSAL_ID drawn at HEAD_HASH with the node's
 * LOT_SIG; LOT_SIG NULL gives the seed of a decision made before nodes
 * signed the lot (the old formula, without it). */
void cn_sortition_seed(uint8_t seed[CN_HASH_BYTES], const uint8_t proposal_id[CN_HASH_BYTES],
                       const uint8_t head_hash[CN_HASH_BYTES], const uint8_t *lot_sig);

/* Sort V (N entries) in place by key, ascending. */
void cn_sortition_sort(cn_volunteer_t *v, size_t n);

/* Draw SEATS from the N volunteers V (any order: a sorted copy is used),
 * honouring QUOTAS. Write the selected keys to OUT (room for SEATS keys) in
 * selection order and their count to *N_OUT (min(SEATS, N)). Duplicate keys
 * in V are refused. Return 0, or -1 on bad input or allocation failure. */
int cn_sortition_draw(const uint8_t seed[CN_HASH_BYTES], const cn_volunteer_t *v, size_t n,
                      uint32_t seats, const cn_quota_t *quotas, size_t n_quotas,
                      uint8_t (*out)[CN_PK_BYTES], size_t *n_out);

/* Recompute the draw and compare with SELECTED (N_SELECTED keys, in order).
 * Return 0 if they match exactly, 1 if they differ, -1 on bad input. */
int cn_sortition_verify(const uint8_t seed[CN_HASH_BYTES], const cn_volunteer_t *v, size_t n,
                        uint32_t seats, const cn_quota_t *quotas, size_t n_quotas,
                        const uint8_t (*selected)[CN_PK_BYTES], size_t n_selected);

#endif
