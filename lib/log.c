/* log.c: the hash chain and its streaming verifier. */
#include <stdio.h>
#include <string.h>

#include "councilnet.pb-c.h"
#include "councilnet/log.h"
#include "councilnet/record.h"

static void put_be64(uint8_t *p, uint64_t v)
{
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

void cn_log_entry_hash(uint8_t out[CN_HASH_BYTES], uint64_t seq,
                       const uint8_t prev[CN_HASH_BYTES],
                       const uint8_t record_id[CN_HASH_BYTES], uint64_t received)
{
  uint8_t buf[8 + CN_HASH_BYTES + CN_HASH_BYTES + 8];

  put_be64(buf, seq);
  memcpy(buf + 8, prev, CN_HASH_BYTES);
  memcpy(buf + 8 + CN_HASH_BYTES, record_id, CN_HASH_BYTES);
  put_be64(buf + 8 + 2 * CN_HASH_BYTES, received);
  cn_crypto_hash(out, buf, sizeof buf);
}

void cn_log_verifier_init(cn_log_verifier_t *v, const uint8_t node_pk[CN_PK_BYTES])
{
  memset(v, 0, sizeof *v);
  memcpy(v->node_pk, node_pk, CN_PK_BYTES);
}

/* Kinds only a node may sign, with their bodies. A log holds the node's
 * own (body.node is the node) and, at a parent, its child councils' own
 * records (body.node is the child): either way the signer must be the node
 * the body names. */
static const ProtobufCMessageDescriptor *node_signed_desc(const char *kind)
{
  static const struct {
    const char *kind;
    const ProtobufCMessageDescriptor *desc;
  } kinds[] = {
    { "decision", &councilnet__decision__descriptor },
    { "contributions", &councilnet__decision_contributions__descriptor },
    { "head", &councilnet__head__descriptor },
    { "receipt", &councilnet__receipt__descriptor },
    { "receipt_batch", &councilnet__receipt_batch__descriptor },
    { "credential", &councilnet__credential__descriptor },
    { "recall", &councilnet__recall__descriptor },
    { "mandate", &councilnet__mandate__descriptor },
    { "roll", &councilnet__roll_update__descriptor },
    { "budget_relay", &councilnet__budget_relay__descriptor },
    { "budget_mandate", &councilnet__budget_mandate__descriptor },
    { "budget_allocation", &councilnet__budget_allocation__descriptor },
    { "budget_projects", &councilnet__budget_projects__descriptor },
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kind, kinds[i].kind) == 0)
      return kinds[i].desc;
  return NULL;
}

/* 0 if REC is not a node-signed kind, or is signed by the node its body
 * names; -1 otherwise. */
static int check_node_signed(const cn_record_t *rec)
{
  const ProtobufCMessageDescriptor *d = node_signed_desc(rec->kind);
  const ProtobufCFieldDescriptor *f;
  ProtobufCMessage *m;
  const ProtobufCBinaryData *node;
  int rc = -1;

  if (!d)
    return 0;
  f = protobuf_c_message_descriptor_get_field_by_name(d, "node");
  m = protobuf_c_message_unpack(d, NULL, rec->body_len, rec->body);
  if (!m || !f)
    goto out;
  node = (const ProtobufCBinaryData *)((const char *)m + f->offset);
  if (node->len == CN_PK_BYTES && memcmp(node->data, rec->signer, CN_PK_BYTES) == 0)
    rc = 0;
out:
  if (m)
    protobuf_c_message_free_unpacked(m, NULL);
  return rc;
}

int cn_log_verifier_step(cn_log_verifier_t *v, uint64_t seq,
                         const uint8_t *prev, size_t prev_len,
                         const uint8_t *record_id, size_t record_id_len,
                         uint64_t received, const uint8_t *hash, size_t hash_len,
                         const uint8_t *envelope, size_t envelope_len)
{
  uint8_t id[CN_HASH_BYTES], h[CN_HASH_BYTES];
  cn_record_t rec;
  cn_err err;

  if (seq != v->seq + 1) {
    snprintf(v->error, sizeof v->error, "sequence gap: expected %llu",
             (unsigned long long)(v->seq + 1));
    return -1;
  }
  if (prev_len != CN_HASH_BYTES || record_id_len != CN_HASH_BYTES || hash_len != CN_HASH_BYTES) {
    snprintf(v->error, sizeof v->error, "malformed entry");
    return -1;
  }
  if (memcmp(prev, v->hash, CN_HASH_BYTES) != 0) {
    snprintf(v->error, sizeof v->error, "broken link: prev does not match the previous entry");
    return -1;
  }
  cn_crypto_hash(id, envelope, envelope_len);
  if (memcmp(id, record_id, CN_HASH_BYTES) != 0) {
    snprintf(v->error, sizeof v->error, "record id does not match the envelope");
    return -1;
  }
  cn_log_entry_hash(h, seq, prev, record_id, received);
  if (memcmp(h, hash, CN_HASH_BYTES) != 0) {
    snprintf(v->error, sizeof v->error, "entry hash does not recompute");
    return -1;
  }
  err = cn_record_open(envelope, envelope_len, &rec);
  if (err != CN_OK) {
    snprintf(v->error, sizeof v->error, "record refused: %s", cn_err_name(err));
    return -1;
  }
  if (check_node_signed(&rec) != 0) {
    snprintf(v->error, sizeof v->error, "%s not signed by the node it names", rec.kind);
    cn_record_close(&rec);
    return -1;
  }
  cn_record_close(&rec);
  v->seq = seq;
  memcpy(v->hash, hash, CN_HASH_BYTES);
  return 0;
}

int cn_log_verifier_check_head(cn_log_verifier_t *v, const uint8_t *head_env, size_t len)
{
  Councilnet__Head *head = NULL;
  cn_record_t rec;
  int rc = -1;

  if (cn_record_open(head_env, len, &rec) != CN_OK) {
    snprintf(v->error, sizeof v->error, "head: bad envelope or signature");
    return -1;
  }
  if (strcmp(rec.kind, "head") != 0 || memcmp(rec.signer, v->node_pk, CN_PK_BYTES) != 0) {
    snprintf(v->error, sizeof v->error, "head: not a head signed by the node");
    goto out;
  }
  head = (Councilnet__Head *)cn_pb_unpack_strict(&councilnet__head__descriptor, rec.body, rec.body_len);
  if (!head || head->hash.len != CN_HASH_BYTES || head->node.len != CN_PK_BYTES ||
      memcmp(head->node.data, v->node_pk, CN_PK_BYTES) != 0) {
    snprintf(v->error, sizeof v->error, "head: malformed");
    goto out;
  }
  if (head->seq != v->seq || memcmp(head->hash.data, v->hash, CN_HASH_BYTES) != 0) {
    snprintf(v->error, sizeof v->error, "head: signed head (seq %llu) does not match the log (seq %llu)",
             (unsigned long long)head->seq, (unsigned long long)v->seq);
    goto out;
  }
  rc = 0;
out:
  if (head)
    councilnet__head__free_unpacked(head, NULL);
  cn_record_close(&rec);
  return rc;
}
