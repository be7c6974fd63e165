/* record.h: signed Envelopes: seal, open (decode + verify), record ids. */
#ifndef COUNCILNET_RECORD_H
#define COUNCILNET_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "councilnet/crypto.h"
#include "councilnet/err.h"

#define CN_ENVELOPE_VERSION 1
#define CN_RECORD_MAX (64 * 1024)   /* largest envelope a node accepts */

/* An opened record. BODY points into the decoded envelope; valid until
 * cn_record_close(). */
typedef struct cn_record_t {
  char kind[CN_KIND_MAX + 1];
  const uint8_t *body;
  size_t body_len;
  uint8_t signer[CN_PK_BYTES];
  uint8_t id[CN_HASH_BYTES];        /* BLAKE2b-256 of the envelope bytes */
  void *envelope_;                  /* Councilnet__Envelope *, owned */
} cn_record_t;

/* Decode the Envelope in BUF, refuse unknown fields or wrong sizes
 * (CN_ERR_BAD_ENCODING), check the signature over the exact body bytes
 * received (CN_ERR_BAD_SIGNATURE), and fill OUT. On error OUT holds nothing
 * to free. */
cn_err cn_record_open(const uint8_t *buf, size_t len, cn_record_t *out);

/* Free what cn_record_open() allocated. Accepts a zeroed or closed record. */
void cn_record_close(cn_record_t *rec);

/* Serialize BODY, sign it as KIND with SK, and build the Envelope bytes.
 * OUT: *OUT is malloc'd, caller frees. Return 0 or -1. */
int cn_record_seal(const char *kind, const ProtobufCMessage *body,
                   const uint8_t sk[CN_SK_BYTES], uint8_t **out, size_t *out_len);

/* Same, for body bytes already serialized. */
int cn_record_seal_bytes(const char *kind, const uint8_t *body, size_t body_len,
                         const uint8_t sk[CN_SK_BYTES], uint8_t **out, size_t *out_len);

/* Return 1 if M or any message inside it carries unknown fields, else 0. */
int cn_pb_has_unknown(const ProtobufCMessage *m);

/* Unpack BODY as DESC, refusing unknown fields. Return the message (free with
 * protobuf_c_message_free_unpacked) or NULL. */
ProtobufCMessage *cn_pb_unpack_strict(const ProtobufCMessageDescriptor *desc,
                                      const uint8_t *body, size_t len);

/* Serialize M. OUT: malloc'd, caller frees. Return 0 or -1. */
int cn_pb_pack(const ProtobufCMessage *m, uint8_t **out, size_t *out_len);

#endif
