/* record.c: signed Envelopes. Decode strictly, verify the exact bytes. */
#include <stdlib.h>
#include <string.h>

#include "councilnet.pb-c.h"
#include "councilnet/record.h"

int cn_pb_has_unknown(const ProtobufCMessage *m)
{
  const ProtobufCMessageDescriptor *d;

  if (!m)
    return 0;
  if (m->n_unknown_fields)
    return 1;
  d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    const char *base = (const char *)m;
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
      continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)(base + f->quantifier_offset);
      ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
      for (size_t j = 0; j < n; j++)
        if (cn_pb_has_unknown(arr[j]))
          return 1;
    } else if (cn_pb_has_unknown(*(ProtobufCMessage *const *)(base + f->offset))) {
      return 1;
    }
  }
  return 0;
}

ProtobufCMessage *cn_pb_unpack_strict(const ProtobufCMessageDescriptor *desc,
                                      const uint8_t *body, size_t len)
{
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, body);

  if (m && cn_pb_has_unknown(m)) {
    protobuf_c_message_free_unpacked(m, NULL);
    return NULL;
  }
  return m;
}

int cn_pb_pack(const ProtobufCMessage *m, uint8_t **out, size_t *out_len)
{
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = malloc(n ? n : 1);

  if (!buf)
    return -1;
  protobuf_c_message_pack(m, buf);
  *out = buf;
  *out_len = n;
  return 0;
}

cn_err cn_record_open(const uint8_t *buf, size_t len, cn_record_t *out)
{
  Councilnet__Envelope *env = NULL;
  size_t klen;
  cn_err err = CN_ERR_BAD_ENCODING;

  memset(out, 0, sizeof *out);
  if (!buf || len == 0)
    goto out;
  if (len > CN_RECORD_MAX) {
    err = CN_ERR_TOO_LARGE;
    goto out;
  }
  env = (Councilnet__Envelope *)cn_pb_unpack_strict(&councilnet__envelope__descriptor, buf, len);
  if (!env)
    goto out;
  klen = strlen(env->kind);
  if (env->version != CN_ENVELOPE_VERSION || klen == 0 || klen > CN_KIND_MAX ||
      env->signer.len != CN_PK_BYTES || env->signature.len != CN_SIG_BYTES)
    goto out;
  if (cn_crypto_verify(env->signature.data, env->kind, env->body.data, env->body.len,
                       env->signer.data) != 0) {
    err = CN_ERR_BAD_SIGNATURE;
    goto out;
  }
  /* One record, one encoding: protobuf admits many byte strings for the same
   * envelope (repeated fields, long varints, reordered fields), and each
   * would get its own record id and slip past the duplicate check. Accept
   * only the canonical encoding, i.e. exactly what re-packing gives back. */
  if (protobuf_c_message_get_packed_size(&env->base) != len)
    goto out;
  {
    uint8_t *re = NULL;
    size_t re_len = 0;
    int same;
    if (cn_pb_pack(&env->base, &re, &re_len) != 0) {
      err = CN_ERR_INTERNAL;
      goto out;
    }
    same = re_len == len && memcmp(re, buf, len) == 0;
    free(re);
    if (!same)
      goto out;
  }
  memcpy(out->kind, env->kind, klen + 1);
  out->body = env->body.data;
  out->body_len = env->body.len;
  memcpy(out->signer, env->signer.data, CN_PK_BYTES);
  cn_crypto_hash(out->id, buf, len);
  out->envelope_ = env;
  env = NULL;
  err = CN_OK;
out:
  if (env)
    councilnet__envelope__free_unpacked(env, NULL);
  return err;
}

void cn_record_close(cn_record_t *rec)
{
  if (!rec)
    return;
  if (rec->envelope_)
    councilnet__envelope__free_unpacked(rec->envelope_, NULL);
  memset(rec, 0, sizeof *rec);
}

int cn_record_seal_bytes(const char *kind, const uint8_t *body, size_t body_len,
                         const uint8_t sk[CN_SK_BYTES], uint8_t **out, size_t *out_len)
{
  Councilnet__Envelope env = COUNCILNET__ENVELOPE__INIT;
  uint8_t sig[CN_SIG_BYTES], pk[CN_PK_BYTES];

  if (cn_crypto_sign(sig, kind, body, body_len, sk) != 0)
    return -1;
  cn_crypto_sk_to_pk(pk, sk);
  env.version = CN_ENVELOPE_VERSION;
  env.kind = (char *)kind;
  env.body.data = (uint8_t *)body;
  env.body.len = body_len;
  env.signer.data = pk;
  env.signer.len = CN_PK_BYTES;
  env.signature.data = sig;
  env.signature.len = CN_SIG_BYTES;
  return cn_pb_pack(&env.base, out, out_len);
}

int cn_record_seal(const char *kind, const ProtobufCMessage *body,
                   const uint8_t sk[CN_SK_BYTES], uint8_t **out, size_t *out_len)
{
  uint8_t *bytes = NULL;
  size_t n = 0;
  int rc;

  if (cn_pb_pack(body, &bytes, &n) != 0)
    return -1;
  rc = cn_record_seal_bytes(kind, bytes, n, sk, out, out_len);
  free(bytes);
  return rc;
}
