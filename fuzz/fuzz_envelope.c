/* fuzz_envelope.c: libFuzzer entry point for envelope decode and verify
 * (cn_record_open) and strict body decoding (cn_pb_unpack_strict) with every
 * message type, each decoded message also mapped to JSON (cn_pbjson_encode).
 *
 * A mutated envelope almost never carries a valid signature, which would
 * stop the fuzzer at the first check. So an input refused as BAD_SIGNATURE
 * is also tried re-signed: the signer and signature fields are overwritten
 * in place (same offsets, same lengths) with a fixed key's signature over
 * the body and kind that protobuf-c will decode, which takes the input past
 * verification to the canonical-encoding check and what follows.
 *
 * Checked, beyond "no crash, no leak, no UB":
 *  - an opened record's id is BLAKE2b-256 of the exact input bytes;
 *  - an envelope that opens is byte for byte what cn_record_seal_bytes()
 *    makes of its kind and body (one record, one encoding);
 *  - the input read as a SignedReceipt (cn_receipt_open) gives a Receipt or
 *    a reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/pbjson.h"
#include "councilnet/receipt.h"
#include "councilnet/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const descs[] = {
  &councilnet__envelope__descriptor, &councilnet__member_add__descriptor,
  &councilnet__member_remove__descriptor, &councilnet__role_set__descriptor,
  &councilnet__proposal__descriptor, &councilnet__ballot__descriptor,
  &councilnet__decision__descriptor, &councilnet__settings__descriptor,
  &councilnet__volunteer__descriptor, &councilnet__credential__descriptor,
  &councilnet__mandate__descriptor, &councilnet__delivery__descriptor,
  &councilnet__recall_vote__descriptor, &councilnet__recall__descriptor,
  &councilnet__parent_set__descriptor, &councilnet__roll_update__descriptor,
  &councilnet__delegate_ballot__descriptor, &councilnet__budget_round__descriptor,
  &councilnet__budget_relay__descriptor, &councilnet__budget_ballot__descriptor,
  &councilnet__budget_mandate__descriptor, &councilnet__budget_allocation__descriptor,
  &councilnet__head__descriptor, &councilnet__receipt__descriptor,
  &councilnet__error__descriptor, &councilnet__log_entry__descriptor,
  &councilnet__log_page__descriptor, &councilnet__node_info__descriptor,
  &councilnet__member_list__descriptor, &councilnet__proposal_list__descriptor,
  &councilnet__delegate_list__descriptor, &councilnet__mandate_list__descriptor,
  &councilnet__recall_list__descriptor, &councilnet__round_list__descriptor,
  &councilnet__federation_status__descriptor, &councilnet__outbox_resend__descriptor,
  &councilnet__dead_letter__descriptor, &councilnet__receipt_batch__descriptor,
  &councilnet__signed_receipt__descriptor, &councilnet__decision_contributions__descriptor,
};
#define NDESCS (sizeof descs / sizeof descs[0])

static uint8_t fixed_sk[CN_SK_BYTES], fixed_pk[CN_PK_BYTES];

/* Unpack BODY strictly as every message type; map each to JSON. */
static void unpack_all(const uint8_t *body, size_t len)
{
  for (size_t i = 0; i < NDESCS; i++) {
    ProtobufCMessage *m = cn_pb_unpack_strict(descs[i], body, len);
    if (!m)
      continue;
    free(cn_pbjson_encode(m, i & 1));
    protobuf_c_message_free_unpacked(m, NULL);
  }
}

/* Read a varint at *POS; return 0 or -1. */
static int varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
    uint8_t b = p[(*pos)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return -1;
}

/* Overwrite, in a copy of BUF, the last signer and signature fields with
 * FIXED's key and its signature over the last kind and body fields. Return
 * the copy (malloc'd) or NULL when the input has no such fields. */
static uint8_t *resign(const uint8_t *buf, size_t len)
{
  size_t pos = 0, off[6] = { 0 }, flen[6] = { 0 };
  int seen[6] = { 0 };
  char kind[CN_KIND_MAX + 1];
  uint8_t *copy;

  while (pos < len) {
    uint64_t tag, v;
    if (varint(buf, len, &pos, &tag) != 0)
      return NULL;
    switch (tag & 7) {
    case 0:
      if (varint(buf, len, &pos, &v) != 0)
        return NULL;
      break;
    case 1:
      pos += 8;
      break;
    case 5:
      pos += 4;
      break;
    case 2:
      if (varint(buf, len, &pos, &v) != 0 || v > len - pos)
        return NULL;
      if ((tag >> 3) >= 2 && (tag >> 3) <= 5) {
        off[tag >> 3] = pos;
        flen[tag >> 3] = (size_t)v;
        seen[tag >> 3] = 1;
      }
      pos += (size_t)v;
      break;
    default:
      return NULL;
    }
  }
  if (!seen[2] || !seen[4] || !seen[5] || flen[4] != CN_PK_BYTES || flen[5] != CN_SIG_BYTES ||
      flen[2] == 0)
    return NULL;
  /* protobuf-c gives the kind as a C string: it ends at the first NUL. */
  memset(kind, 0, sizeof kind);
  memcpy(kind, buf + off[2], flen[2] < CN_KIND_MAX ? flen[2] : CN_KIND_MAX);
  copy = malloc(len);
  if (!copy)
    return NULL;
  memcpy(copy, buf, len);
  memcpy(copy + off[4], fixed_pk, CN_PK_BYTES);
  if (cn_crypto_sign(copy + off[5], kind, seen[3] ? buf + off[3] : NULL,
                     seen[3] ? flen[3] : 0, fixed_sk) != 0) {
    free(copy);
    return NULL;
  }
  return copy;
}

/* Open BUF; on success check the invariants and decode its body. */
static cn_err open_and_check(const uint8_t *buf, size_t len)
{
  cn_record_t rec;
  cn_err err = cn_record_open(buf, len, &rec);
  uint8_t id[CN_HASH_BYTES];

  if (err != CN_OK)
    return err;
  cn_crypto_hash(id, buf, len);
  if (memcmp(id, rec.id, CN_HASH_BYTES) != 0 || strlen(rec.kind) == 0 ||
      strlen(rec.kind) > CN_KIND_MAX) {
    fprintf(stderr, "fuzz_envelope: opened record with a wrong id or kind\n");
    abort();
  }
  if (memcmp(rec.signer, fixed_pk, CN_PK_BYTES) == 0) {
    uint8_t *again = NULL;
    size_t again_len = 0;
    if (cn_record_seal_bytes(rec.kind, rec.body, rec.body_len, fixed_sk, &again, &again_len) != 0 ||
        again_len != len || memcmp(again, buf, len) != 0) {
      fprintf(stderr, "fuzz_envelope: an accepted envelope is not the canonical encoding\n");
      abort();
    }
    free(again);
  }
  unpack_all(rec.body, rec.body_len);
  cn_record_close(&rec);
  return CN_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int ready;
  cn_err err;

  if (!ready) {
    uint8_t seed[crypto_sign_SEEDBYTES];
    cn_crypto_init();
    memset(seed, 0, sizeof seed);
    snprintf((char *)seed, sizeof seed, "councilnet fuzz key %d", 1);
    crypto_sign_seed_keypair(fixed_pk, fixed_sk, seed);
    ready = 1;
  }
  err = open_and_check(data, size);
  if (err == CN_ERR_BAD_SIGNATURE) {
    uint8_t *copy = resign(data, size);
    if (copy)
      open_and_check(copy, size);
    free(copy);
  }
  /* The raw bytes as any message, as a node reads bodies and log pages. */
  unpack_all(data, size);
  /* ... and as a receipt, as the client and a child's outbox read answers */
  {
    Councilnet__Receipt *r = NULL;
    char msg[160];
    if (cn_receipt_open(data, size, fixed_pk, &r, msg, sizeof msg) == CN_OK) {
      if (!r) {
        fprintf(stderr, "fuzz_envelope: a receipt opened without its Receipt\n");
        abort();
      }
      councilnet__receipt__free_unpacked(r, NULL);
    } else if (r || !msg[0]) {
      fprintf(stderr, "fuzz_envelope: a refused receipt without a reason\n");
      abort();
    }
  }
  return 0;
}
