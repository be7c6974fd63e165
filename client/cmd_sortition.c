/* cmd_sortition.c: `council sortition verify`: recompute a selection by lot
 * from the node's verified log and compare it with the node's decision. */
#include "commands.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "councilnet/record.h"
#include "councilnet/sortition.h"

#define ERR_MAX 4096             /* room for the reasons a check failed */

static const char sortition_verify_usage[] =
  "Usage: council sortition verify ID [--node-key HEX]\n"
  "\n"
  "Check the draw of selection by lot ID (64 hex digits) from the node's log\n"
  "alone. Fetches and verifies the whole log (as council verify does),\n"
  "replays the roll (member_add, member_remove) to know each member's groups,\n"
  "finds the proposal, the volunteer records for it (signers still members\n"
  "at the decision, or, at a parent council, delegates holding a child\n"
  "council's credential then, unrecalled and its term not over; one per\n"
  "council: passed over if one who volunteered earlier holds such a\n"
  "credential from the same council) and the node's decision. Checks the\n"
  "decision's lot signature: the node's Ed25519 signature of kind \"lot\" over\n"
  "ID || HEAD, HEAD being the hash of the entry before the decision, with the\n"
  "node key (--node-key, or GET /v1/node). Then recomputes\n"
  "  seed = BLAKE2b-256(\"councilnet/sortition\" || ID || HEAD || lot signature)\n"
  "and the draw with the proposal's seats and group quotas. Prints the\n"
  "volunteers, the seed and the draw, and \"sortition verified\" (exit 0), or\n"
  "what differs, or that the lot signature does not verify (exit 1).\n"
  "A decision made before nodes signed the lot has no lot signature: its\n"
  "seed is recomputed without one, and the report says it was predictable:\n"
  "whoever posted the last record before the close could have steered it.\n"
  "One without a lot signature after a lot the node did sign is refused.\n"
  "--json prints {\"ok\":BOOL,\"seed\":HEX,\"seed_predictable\":BOOL|null,\n"
  "\"selected\":[HEX...],\"volunteers\":[HEX...],\"error\":null|REASON};\n"
  "selected are the keys the decision names; seed_predictable is true for a\n"
  "decision without a lot signature, null if no decision was checked.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

/* One key of the replayed roll. */
typedef struct roll_key_t {
  uint8_t key[CN_PK_BYTES];
  int used;
  int member;
  int council;                  /* admitted as a child council (MemberAdd.council) */
  int convener;                 /* granted by role_set, or seen acting as one */
  char **groups;                /* malloc'd labels */
  size_t n_groups;
} roll_key_t;

/* A child council's credential held at this node (a parent). */
typedef struct child_cred_t {
  uint8_t id[CN_HASH_BYTES];
  uint8_t delegate[CN_PK_BYTES];
  uint8_t issuer[CN_PK_BYTES];  /* the child council that signed it */
  uint64_t term_end;
  int recalled;
} child_cred_t;

/* A volunteer record's signer. */
typedef struct lot_vol_t {
  uint8_t key[CN_PK_BYTES];
  size_t pos;                   /* its place among the volunteer records, in log order */
  int counted;                  /* drawn among, as the node counts at the close */
} lot_vol_t;

typedef struct seen_id_t {
  uint8_t id[CN_HASH_BYTES];
  int used;
} seen_id_t;

typedef struct lot_ctx_t {
  uint8_t id[CN_HASH_BYTES];
  uint8_t node_pk[CN_PK_BYTES];
  roll_key_t *roll;             /* open addressing, CAP a power of two */
  size_t cap, n;
  int frozen;                   /* the decision is seen: the roll stays as it was then */
  int minimums_off;             /* the node's selection minimums, as last set before it */
  uint8_t author[CN_PK_BYTES];  /* the proposal's signer */
  int anchored;                 /* the first convener is known (see lot_entry) */
  uint64_t stranger_seq;        /* the first replayed record no honest node logs */
  char stranger_kind[32];
  const char *stranger_why;
  seen_id_t *seen;              /* ids of the replayed records, to catch one logged twice: */
  size_t n_seen, cap_seen;      /* open addressing, CAP_SEEN a power of two */
  uint64_t signed_lot_seq;      /* an earlier decision of the node with a lot signature */
  Councilnet__Proposal *proposal;
  uint64_t proposal_seq;
  lot_vol_t *vols;              /* volunteer signers, log order */
  size_t n_vols, cap_vols;
  Councilnet__Decision *decision;
  uint8_t prev[CN_HASH_BYTES];  /* the decision entry's prev: the head it was drawn at */
  uint64_t decision_seq;
  child_cred_t *creds;          /* child councils' credentials, until the decision */
  size_t n_creds, cap_creds;
} lot_ctx_t;

static uint64_t key_hash(const uint8_t key[CN_PK_BYTES])
{
  uint64_t h;

  memcpy(&h, key, sizeof h);
  return h;
}

/* Return the slot for KEY in the roll (CREATE: make it if absent), or NULL
 * (absent, or out of memory when creating). */
static roll_key_t *roll_slot(lot_ctx_t *l, const uint8_t key[CN_PK_BYTES], int create)
{
  size_t i;

  if (create && (l->n + 1) * 2 > l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64, j;
    roll_key_t *tab = calloc(cap, sizeof *tab);
    if (!tab)
      return NULL;
    for (j = 0; j < l->cap; j++) {
      if (!l->roll[j].used)
        continue;
      for (i = key_hash(l->roll[j].key) & (cap - 1); tab[i].used; i = (i + 1) & (cap - 1))
        ;
      tab[i] = l->roll[j];
    }
    free(l->roll);
    l->roll = tab;
    l->cap = cap;
  }
  if (l->cap == 0)
    return NULL;
  for (i = key_hash(key) & (l->cap - 1); l->roll[i].used; i = (i + 1) & (l->cap - 1))
    if (memcmp(l->roll[i].key, key, CN_PK_BYTES) == 0)
      return &l->roll[i];
  if (!create)
    return NULL;
  l->roll[i].used = 1;
  memcpy(l->roll[i].key, key, CN_PK_BYTES);
  l->n++;
  return &l->roll[i];
}

static void free_groups(roll_key_t *k)
{
  size_t i;

  for (i = 0; i < k->n_groups; i++)
    free(k->groups[i]);
  free(k->groups);
  k->groups = NULL;
  k->n_groups = 0;
}

static void lot_clear(lot_ctx_t *l)
{
  size_t i;

  for (i = 0; i < l->cap; i++)
    if (l->roll[i].used)
      free_groups(&l->roll[i]);
  free(l->roll);
  free(l->vols);
  free(l->creds);
  free(l->seen);
  if (l->proposal)
    councilnet__proposal__free_unpacked(l->proposal, NULL);
  if (l->decision)
    councilnet__decision__free_unpacked(l->decision, NULL);
}

static int member_add(lot_ctx_t *l, const Councilnet__MemberAdd *m)
{
  roll_key_t *k;
  size_t i;

  if (m->member.len != CN_PK_BYTES)
    return CN_EXIT_OK;
  k = roll_slot(l, m->member.data, 1);
  if (!k)
    goto oom;
  free_groups(k);
  k->member = 1;
  k->council = m->council;
  if (m->n_groups) {
    k->groups = calloc(m->n_groups, sizeof *k->groups);
    if (!k->groups)
      goto oom;
    for (i = 0; i < m->n_groups; i++) {
      k->groups[i] = strdup(m->groups[i]);
      if (!k->groups[i])
        goto oom;
      k->n_groups++;
    }
  }
  return CN_EXIT_OK;
oom:
  cn_cli_errorf("out of memory");
  return CN_EXIT_LOCAL;
}

static int add_volunteer(lot_ctx_t *l, const ProtobufCBinaryData *signer)
{
  if (signer->len != CN_PK_BYTES)
    return CN_EXIT_OK;
  if (l->n_vols == l->cap_vols) {
    size_t cap = l->cap_vols ? l->cap_vols * 2 : 32;
    void *v = realloc(l->vols, cap * sizeof *l->vols);
    if (!v) {
      cn_cli_errorf("out of memory");
      return CN_EXIT_LOCAL;
    }
    l->vols = v;
    l->cap_vols = cap;
  }
  memcpy(l->vols[l->n_vols].key, signer->data, CN_PK_BYTES);
  l->vols[l->n_vols].pos = l->n_vols;
  l->vols[l->n_vols++].counted = 0;
  return CN_EXIT_OK;
}

static int bytes_eq(const ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
  return b->len == n && memcmp(b->data, p, n) == 0;
}

/* Keep the child council's credential ENV (exact bytes, from a forwarded
 * credential or inside a delegate's delivery) if it is one: signed by
 * another node than this one, for this node as parent. */
static int child_credential(lot_ctx_t *l, const uint8_t *env, size_t len)
{
  Councilnet__Credential *c = NULL;
  cn_record_t rec;
  size_t i;
  int rc = CN_EXIT_OK;

  if (cn_record_open(env, len, &rec) != CN_OK)
    return CN_EXIT_OK;
  if (strcmp(rec.kind, "credential") != 0 || memcmp(rec.signer, l->node_pk, CN_PK_BYTES) == 0)
    goto out;
  /* as the node adopts one: from a child council admitted here, a member
   * with MemberAdd.council (else a node could make up delegates) */
  {
    roll_key_t *k = roll_slot(l, rec.signer, 0);
    if (!k || !k->member || !k->council)
      goto out;
  }
  c = councilnet__credential__unpack(NULL, rec.body_len, rec.body);
  if (!c || !bytes_eq(&c->parent, l->node_pk, CN_PK_BYTES) || c->delegate.len != CN_PK_BYTES)
    goto out;
  for (i = 0; i < l->n_creds; i++)
    if (memcmp(l->creds[i].id, rec.id, CN_HASH_BYTES) == 0)
      goto out;
  if (l->n_creds == l->cap_creds) {
    size_t cap = l->cap_creds ? l->cap_creds * 2 : 16;
    void *p = realloc(l->creds, cap * sizeof *l->creds);
    if (!p) {
      cn_cli_errorf("out of memory");
      rc = CN_EXIT_LOCAL;
      goto out;
    }
    l->creds = p;
    l->cap_creds = cap;
  }
  memcpy(l->creds[l->n_creds].id, rec.id, CN_HASH_BYTES);
  memcpy(l->creds[l->n_creds].delegate, c->delegate.data, CN_PK_BYTES);
  memcpy(l->creds[l->n_creds].issuer, rec.signer, CN_PK_BYTES);
  l->creds[l->n_creds].term_end = c->term_end;
  l->creds[l->n_creds++].recalled = 0;
out:
  if (c)
    councilnet__credential__free_unpacked(c, NULL);
  cn_record_close(&rec);
  return rc;
}

/* Return 1 if credential C of KEY is live at AT (the decision's time, the
 * node's clock at the close): unrecalled when the log was replayed up to
 * the decision, term not over; as the node's credential_of. */
static int child_live(const child_cred_t *c, const uint8_t key[CN_PK_BYTES], uint64_t at)
{
  return !c->recalled && c->term_end > at && memcmp(c->delegate, key, CN_PK_BYTES) == 0;
}

/* Return 1 if KEY held a child council's live credential at AT. */
static int holds_child_credential(const lot_ctx_t *l, const uint8_t key[CN_PK_BYTES], uint64_t at)
{
  size_t i;

  for (i = 0; i < l->n_creds; i++)
    if (child_live(&l->creds[i], key, at))
      return 1;
  return 0;
}

static int vol_pos_cmp(const void *a, const void *b)
{
  const lot_vol_t *x = *(const lot_vol_t *const *)a, *y = *(const lot_vol_t *const *)b;

  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Mark which of the N delegates D (volunteers off the roll, each holding a
 * child council's live credential at AT) count, as the node's volunteer
 * scan does: in the order they volunteered, one is passed over if each
 * council they hold a live credential from is held by an earlier one too
 * (whether or not that earlier one counts). Any council's place would be
 * at another's mercy otherwise: a child may issue a credential to anyone,
 * and one to another council's delegate would push them out. Sorts D.
 * Return CN_EXIT_OK or CN_EXIT_LOCAL. */
static int count_delegates(const lot_ctx_t *l, lot_vol_t **d, size_t n, uint64_t at)
{
  const uint8_t **held = calloc(l->n_creds + 1, sizeof *held);   /* by earlier delegates */
  size_t i, j, k, mine, n_held = 0;

  if (!held) {
    cn_cli_errorf("out of memory");
    return CN_EXIT_LOCAL;
  }
  if (n)
    qsort(d, n, sizeof *d, vol_pos_cmp);
  for (i = 0; i < n; i++) {
    mine = n_held;
    d[i]->counted = 0;
    for (j = 0; j < l->n_creds; j++) {
      if (!child_live(&l->creds[j], d[i]->key, at))
        continue;
      for (k = 0; k < n_held && memcmp(held[k], l->creds[j].issuer, CN_PK_BYTES) != 0; k++)
        ;
      if (k >= mine)            /* no earlier delegate holds this council */
        d[i]->counted = 1;
      if (k == n_held)
        held[n_held++] = l->creds[j].issuer;
    }
  }
  free(held);
  return CN_EXIT_OK;
}

/* Note record ID as replayed: 1 if it was already, 0 if not, -1 out of
 * memory. */
static int seen_add(lot_ctx_t *l, const uint8_t id[CN_HASH_BYTES])
{
  size_t i;

  if ((l->n_seen + 1) * 2 > l->cap_seen) {
    size_t cap = l->cap_seen ? l->cap_seen * 2 : 256;
    seen_id_t *tab = calloc(cap, sizeof *tab);
    if (!tab)
      return -1;
    for (size_t j = 0; j < l->cap_seen; j++) {
      if (!l->seen[j].used)
        continue;
      for (i = key_hash(l->seen[j].id) & (cap - 1); tab[i].used; i = (i + 1) & (cap - 1))
        ;
      tab[i] = l->seen[j];
    }
    free(l->seen);
    l->seen = tab;
    l->cap_seen = cap;
  }
  for (i = key_hash(id) & (l->cap_seen - 1); l->seen[i].used; i = (i + 1) & (l->cap_seen - 1))
    if (memcmp(l->seen[i].id, id, CN_HASH_BYTES) == 0)
      return 1;
  memcpy(l->seen[i].id, id, CN_HASH_BYTES);
  l->seen[i].used = 1;
  l->n_seen++;
  return 0;
}

/* Is BODY, a record of KIND (member_add, member_remove, role_set or
 * settings), addressed to the node NODE? */
static int addressed_here(const char *kind, const ProtobufCBinaryData *body,
                          const uint8_t node[CN_PK_BYTES])
{
  const ProtobufCMessageDescriptor *d =
    strcmp(kind, "member_add") == 0 ? &councilnet__member_add__descriptor
    : strcmp(kind, "member_remove") == 0 ? &councilnet__member_remove__descriptor
    : strcmp(kind, "role_set") == 0 ? &councilnet__role_set__descriptor
    : &councilnet__settings__descriptor;
  ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, body->len, body->data);
  const ProtobufCBinaryData *to = NULL;
  int here;

  if (m && d == &councilnet__member_add__descriptor)
    to = &((Councilnet__MemberAdd *)m)->node;
  else if (m && d == &councilnet__member_remove__descriptor)
    to = &((Councilnet__MemberRemove *)m)->node;
  else if (m && d == &councilnet__role_set__descriptor)
    to = &((Councilnet__RoleSet *)m)->node;
  else if (m)
    to = &((Councilnet__Settings *)m)->node;
  here = to && bytes_eq(to, node, CN_PK_BYTES);
  if (m)
    protobuf_c_message_free_unpacked(m, NULL);
  return here;
}

/* Replay one verified log entry (cn_verify_entry_fn). */
static int lot_entry(void *ctx, const Councilnet__LogEntry *e)
{
  lot_ctx_t *l = ctx;
  Councilnet__Envelope *env = councilnet__envelope__unpack(NULL, e->envelope.len,
                                                           e->envelope.data);
  const char *kind;
  int rc = CN_EXIT_OK;

  if (!env)
    return CN_EXIT_OK;          /* cannot happen: the verifier opened it */
  kind = env->kind ? env->kind : "";
  /* Only a convener may sign these, and only a convener's count: the roll,
   * the roles and the settings the draw depends on are replayed from
   * records conveners signed for this node. The convener made at `councild
   * init` is in no record of their own; on an honest node the first of
   * these records is theirs (any later convener needs a role_set first),
   * so it anchors the replay. A record no honest node logs here is caught:
   * one signed by a key that is no convener, one addressed to another
   * node, one logged twice (an old settings record again, say). */
  if (!l->frozen && (strcmp(kind, "member_add") == 0 || strcmp(kind, "member_remove") == 0 ||
                     strcmp(kind, "role_set") == 0 || strcmp(kind, "settings") == 0 ||
                     strcmp(kind, "credential") == 0 || strcmp(kind, "volunteer") == 0)) {
    const char *why = NULL;
    int again = e->record_id.len == CN_HASH_BYTES ? seen_add(l, e->record_id.data) : 0;
    if (again < 0)
      goto oom;
    if (again)
      why = "logs a record a second time";
    if (!why && strcmp(kind, "credential") != 0 && strcmp(kind, "volunteer") != 0) {
      int here = addressed_here(kind, &env->body, l->node_pk);
      roll_key_t *k = env->signer.len == CN_PK_BYTES ? roll_slot(l, env->signer.data, 1) : NULL;
      if (env->signer.len == CN_PK_BYTES && !k)
        goto oom;
      if (!here) {
        why = "is addressed to another node";
      } else if (k && !l->anchored) {
        l->anchored = 1;
        k->convener = 1;
      }
      if (!why && (!k || !k->convener))
        why = "is signed by a key that was no convener there";
    }
    if (why) {
      if (!l->stranger_seq) {
        l->stranger_seq = e->seq;
        l->stranger_why = why;
        snprintf(l->stranger_kind, sizeof l->stranger_kind, "%s", kind);
      }
      councilnet__envelope__free_unpacked(env, NULL);
      return CN_EXIT_OK;
    }
  }
  if (!l->frozen && strcmp(kind, "role_set") == 0) {
    Councilnet__RoleSet *m = councilnet__role_set__unpack(NULL, env->body.len, env->body.data);
    roll_key_t *k = m && m->key.len == CN_PK_BYTES ? roll_slot(l, m->key.data, 1) : NULL;
    if (k)
      k->convener = m->convener;
    if (m)
      councilnet__role_set__free_unpacked(m, NULL);
  }
  if (!l->frozen && strcmp(kind, "credential") == 0) {
    rc = child_credential(l, e->envelope.data, e->envelope.len);
  } else if (!l->frozen && strcmp(kind, "delivery") == 0) {
    Councilnet__Delivery *m = councilnet__delivery__unpack(NULL, env->body.len, env->body.data);
    if (m && !bytes_eq(&m->node, l->node_pk, CN_PK_BYTES))   /* a child's, presented here */
      rc = child_credential(l, m->credential.data, m->credential.len);
    if (m)
      councilnet__delivery__free_unpacked(m, NULL);
  } else if (!l->frozen && strcmp(kind, "recall") == 0) {
    Councilnet__Recall *m = councilnet__recall__unpack(NULL, env->body.len, env->body.data);
    for (size_t i = 0; m && i < l->n_creds; i++)
      if (bytes_eq(&m->credential, l->creds[i].id, CN_HASH_BYTES))
        l->creds[i].recalled = 1;
    if (m)
      councilnet__recall__free_unpacked(m, NULL);
  } else if (!l->frozen && strcmp(kind, "member_add") == 0) {
    Councilnet__MemberAdd *m = councilnet__member_add__unpack(NULL, env->body.len, env->body.data);
    if (m) {
      rc = member_add(l, m);
      councilnet__member_add__free_unpacked(m, NULL);
    }
  } else if (!l->frozen && strcmp(kind, "member_remove") == 0) {
    Councilnet__MemberRemove *m = councilnet__member_remove__unpack(NULL, env->body.len,
                                                                    env->body.data);
    if (m) {
      roll_key_t *k = m->member.len == CN_PK_BYTES ? roll_slot(l, m->member.data, 0) : NULL;
      if (k)
        k->member = 0;
      councilnet__member_remove__free_unpacked(m, NULL);
    }
  } else if (!l->frozen && strcmp(kind, "settings") == 0) {
    /* a convener's (above); with no such record the minimums are on, as
     * they are by default */
    Councilnet__Settings *m = councilnet__settings__unpack(NULL, env->body.len, env->body.data);
    if (m) {
      l->minimums_off = !m->selection_min_window && !m->selection_min_turnout_permille;
      councilnet__settings__free_unpacked(m, NULL);
    }
  } else if (!l->proposal && strcmp(kind, "proposal") == 0
             && bytes_eq(&e->record_id, l->id, CN_HASH_BYTES)) {
    l->proposal = councilnet__proposal__unpack(NULL, env->body.len, env->body.data);
    l->proposal_seq = e->seq;
    if (env->signer.len == CN_PK_BYTES)
      memcpy(l->author, env->signer.data, CN_PK_BYTES);
  } else if (l->proposal && !l->decision && strcmp(kind, "volunteer") == 0) {
    Councilnet__Volunteer *m = councilnet__volunteer__unpack(NULL, env->body.len, env->body.data);
    if (m) {
      if (bytes_eq(&m->proposal, l->id, CN_HASH_BYTES))
        rc = add_volunteer(l, &env->signer);
      councilnet__volunteer__free_unpacked(m, NULL);
    }
  } else if (!l->decision && strcmp(kind, "decision") == 0
             && bytes_eq(&env->signer, l->node_pk, CN_PK_BYTES)) {
    Councilnet__Decision *d = councilnet__decision__unpack(NULL, env->body.len, env->body.data);
    /* A node that signed a lot before signs every later one. */
    if (d && !bytes_eq(&d->proposal, l->id, CN_HASH_BYTES) && d->lot_signature.len &&
        !l->signed_lot_seq)
      l->signed_lot_seq = e->seq;
    if (d && l->proposal && bytes_eq(&d->proposal, l->id, CN_HASH_BYTES) &&
        e->prev.len == CN_HASH_BYTES) {
      l->decision = d;
      d = NULL;
      memcpy(l->prev, e->prev.data, CN_HASH_BYTES);
      l->decision_seq = e->seq;
      l->frozen = 1;
    }
    if (d)
      councilnet__decision__free_unpacked(d, NULL);
  }
  councilnet__envelope__free_unpacked(env, NULL);
  return rc;
oom:
  councilnet__envelope__free_unpacked(env, NULL);
  cn_cli_errorf("out of memory");
  return CN_EXIT_LOCAL;
}

/* By key, then the first volunteer record of a key first. */
static int vol_key_cmp(const void *a, const void *b)
{
  const lot_vol_t *x = a, *y = b;
  int c = memcmp(x->key, y->key, CN_PK_BYTES);

  return c ? c : x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Append a formatted reason to ERR (CAP bytes), "; "-separated. */
static void add_error(char *err, size_t cap, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void add_error(char *err, size_t cap, const char *fmt, ...)
{
  size_t used = strlen(err);
  va_list ap;

  if (used && used + 2 < cap) {
    memcpy(err + used, "; ", 3);
    used += 2;
  }
  if (used + 1 >= cap)
    return;
  va_start(ap, fmt);
  vsnprintf(err + used, cap - used, fmt, ap);
  va_end(ap);
}

static void print_key_groups(const uint8_t key[CN_PK_BYTES], const cn_volunteer_t *v)
{
  char hex[2 * CN_PK_BYTES + 1];
  size_t i;

  cn_hex_encode(hex, key, CN_PK_BYTES);
  printf("%s", hex);
  for (i = 0; v && i < v->n_groups; i++)
    printf("%s%s", i == 0 ? "  [" : ",", v->groups[i]);
  printf("%s\n", v && v->n_groups ? "]" : "");
}

/* Return the volunteer with KEY in V (N of them), or NULL. */
static const cn_volunteer_t *find_volunteer(const cn_volunteer_t *v, size_t n,
                                            const uint8_t *key)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (memcmp(v[i].key, key, CN_PK_BYTES) == 0)
      return &v[i];
  return NULL;
}

static void json_keys(const char *name, const uint8_t (*keys)[CN_PK_BYTES], size_t n)
{
  char hex[2 * CN_PK_BYTES + 1];
  size_t i;

  printf(",\"%s\":[", name);
  for (i = 0; i < n; i++) {
    cn_hex_encode(hex, keys[i], CN_PK_BYTES);
    printf("%s\"%s\"", i ? "," : "", hex);
  }
  printf("]");
}

int cn_cmd_sortition_verify(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  cn_verify_failure_t bad;
  cn_log_verifier_t v;
  lot_ctx_t l;
  const Councilnet__Selection *sel = NULL;
  const Councilnet__Decision *d;
  cn_volunteer_t *vols = NULL;
  cn_quota_t *quotas = NULL;
  uint8_t seed[CN_HASH_BYTES], (*claimed)[CN_PK_BYTES] = NULL, (*draw)[CN_PK_BYTES] = NULL;
  uint8_t (*sorted)[CN_PK_BYTES] = NULL;
  lot_vol_t **dele = NULL;      /* child councils' delegates among the volunteers */
  char hex[2 * CN_HASH_BYTES + 1], head[2 * CN_HASH_BYTES + 1], err[ERR_MAX];
  size_t i, n = 0, n_claimed = 0, n_draw = 0, n_dele = 0;
  int have_seed = 0, predictable = -1, vr, rc = CN_EXIT_LOCAL;

  memset(&l, 0, sizeof l);
  err[0] = '\0';
  head[0] = '\0';
  cli->usage = sortition_verify_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind >= argc) {
    rc = cn_cli_usage_error(cli, "ID is required");
    goto out;
  }
  if (optind + 1 < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + 1]);
    goto out;
  }
  if (cn_args_parse_hex32(argv[optind], l.id) < 0) {
    rc = cn_cli_usage_error(cli, "ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  memcpy(l.node_pk, cli->node_pk, CN_PK_BYTES);
  cn_log_verifier_init(&v, cli->node_pk);
  rc = cn_verify_log_walk(cli, &v, lot_entry, &l, &bad);
  if (bad.failed) {
    add_error(err, sizeof err, "the log does not verify: %s %llu: %s", bad.what,
              (unsigned long long)bad.seq, v.error);
    goto report;
  }
  if (rc != CN_EXIT_OK)
    goto out;
  cn_hex_encode(head, v.hash, CN_HASH_BYTES);
  if (!l.proposal) {
    add_error(err, sizeof err, "proposal %s is not in the node's log", argv[optind]);
    goto report;
  }
  sel = l.proposal->selection;
  if (!sel || sel->method != COUNCILNET__SELECTION_METHOD__BY_LOT) {
    add_error(err, sizeof err, "proposal %s is not a selection by lot", argv[optind]);
    goto report;
  }
  if (!l.decision) {
    add_error(err, sizeof err, "the log holds no decision on proposal %s yet", argv[optind]);
    goto report;
  }
  d = l.decision;

  /* The volunteers: sorted, once each, members at the decision, or
   * delegates of child councils with a live credential then, one per
   * council (count_delegates). The decision's time is the node's clock
   * when it closed the lot. */
  if (l.n_vols)
    qsort(l.vols, l.n_vols, sizeof *l.vols, vol_key_cmp);
  vols = calloc(l.n_vols + 1, sizeof *vols);
  sorted = calloc(l.n_vols + 1, sizeof *sorted);
  dele = calloc(l.n_vols + 1, sizeof *dele);
  quotas = calloc(sel->n_quotas + 1, sizeof *quotas);
  claimed = calloc(d->n_selected + 1, sizeof *claimed);
  draw = calloc((size_t)sel->seats + 1, sizeof *draw);
  if (!vols || !sorted || !dele || !quotas || !claimed || !draw) {
    cn_cli_errorf("out of memory");
    rc = CN_EXIT_LOCAL;
    goto out;
  }
  for (i = 0; i < l.n_vols; i++) {
    const roll_key_t *k;
    if (i > 0 && memcmp(l.vols[i].key, l.vols[i - 1].key, CN_PK_BYTES) == 0)
      continue;                 /* a key's first volunteer record is the one kept */
    k = roll_slot(&l, l.vols[i].key, 0);
    if (k && k->member)
      l.vols[i].counted = 1;
    else if (holds_child_credential(&l, l.vols[i].key, d->created))
      dele[n_dele++] = &l.vols[i];
  }
  rc = count_delegates(&l, dele, n_dele, d->created);
  if (rc != CN_EXIT_OK)
    goto out;
  for (i = 0; i < l.n_vols; i++) {
    const roll_key_t *k;
    if (!l.vols[i].counted)
      continue;
    k = roll_slot(&l, l.vols[i].key, 0);
    memcpy(vols[n].key, l.vols[i].key, CN_PK_BYTES);
    vols[n].groups = k ? k->groups : NULL;    /* as the node draws: the key's groups, if any */
    vols[n].n_groups = k ? k->n_groups : 0;
    memcpy(sorted[n], l.vols[i].key, CN_PK_BYTES);
    n++;
  }
  for (i = 0; i < sel->n_quotas; i++) {
    quotas[i].group = sel->quotas[i]->group;
    quotas[i].min_seats = sel->quotas[i]->min_seats;
  }
  for (i = 0; i < d->n_selected; i++) {
    if (d->selected[i].len != CN_PK_BYTES) {
      add_error(err, sizeof err, "selected key %zu is not %d bytes", i, CN_PK_BYTES);
      goto report;
    }
    memcpy(claimed[i], d->selected[i].data, CN_PK_BYTES);
  }
  n_claimed = d->n_selected;

  /* 1. The lot signature and the seed. Without a signature the decision
   * predates it: the old seed, which the last record before the close
   * could steer, is still checked, and said to be predictable. */
  predictable = d->lot_signature.len == 0;
  if (predictable && l.signed_lot_seq) {
    add_error(err, sizeof err, "the decision (seq %llu) carries no lot signature, though the "
              "node signed an earlier lot (seq %llu): its seed could have been steered",
              (unsigned long long)l.decision_seq, (unsigned long long)l.signed_lot_seq);
  } else if (predictable) {
    cn_sortition_seed(seed, l.id, l.prev, NULL);
    have_seed = 1;
  } else if (d->lot_signature.len != CN_SIG_BYTES) {
    add_error(err, sizeof err, "the lot signature of the decision (seq %llu) is %zu bytes, not %d",
              (unsigned long long)l.decision_seq, d->lot_signature.len, CN_SIG_BYTES);
  } else if (cn_sortition_check_lot(d->lot_signature.data, l.id, l.prev, l.node_pk) != 0) {
    add_error(err, sizeof err, "the lot signature of the decision (seq %llu) does not verify "
              "with the node key over the proposal id and the head before the decision",
              (unsigned long long)l.decision_seq);
  } else {
    cn_sortition_seed(seed, l.id, l.prev, d->lot_signature.data);
    have_seed = 1;
  }
  if (have_seed && !bytes_eq(&d->seed, seed, CN_HASH_BYTES)) {
    char said[2 * CN_HASH_BYTES + 1];
    cn_cli_hex(said, sizeof said, &d->seed, CN_HASH_BYTES);
    cn_hex_encode(hex, seed, CN_HASH_BYTES);
    add_error(err, sizeof err, "seed differs: the decision (seq %llu) says %s, recomputed %s",
              (unsigned long long)l.decision_seq, said, hex);
  }
  /* 2. The volunteers. */
  for (i = 0; i < d->n_volunteers || i < n; i++) {
    if (i >= d->n_volunteers || i >= n || !bytes_eq(&d->volunteers[i], sorted[i], CN_PK_BYTES)) {
      add_error(err, sizeof err, "volunteers differ: the decision lists %zu, the log has %zu "
                "(first difference at position %zu)", d->n_volunteers, n, i + 1);
      break;
    }
  }
  /* 3. The draw, from a seed we could check. While the node's selection
   * minimums are on, a lot a convener did not propose draws nobody from no
   * more volunteers than seats (Decision.too_few_volunteers), and only
   * then: the node may neither skip a draw it did not like nor seat a lone
   * volunteer. Decisions without a lot signature predate the rule. */
  if (l.stranger_seq)
    add_error(err, sizeof err, "entry %llu (%s) %s: no honest node logs it",
              (unsigned long long)l.stranger_seq, l.stranger_kind, l.stranger_why);
  {
    /* with no convener's record before the decision, nobody was on the
     * roll: only the first convener could have proposed the lot */
    roll_key_t *a = roll_slot(&l, l.author, 0);
    int by_convener = !l.anchored || (a && a->convener);
    int due = n <= sel->seats && !l.minimums_off && !by_convener &&
              (d->lot_signature.len || d->too_few_volunteers);
    if (d->too_few_volunteers != due) {
      if (!d->too_few_volunteers)
        add_error(err, sizeof err, "the decision draws from %zu volunteer%s for %u seat%s on a "
                  "lot no convener proposed, while the node's selection minimums were on: it had "
                  "to draw nobody", n, n == 1 ? "" : "s", sel->seats, sel->seats == 1 ? "" : "s");
      else if (n > sel->seats)
        add_error(err, sizeof err, "the decision drew nobody for too few volunteers, but the log "
                  "has %zu for %u seat%s", n, sel->seats, sel->seats == 1 ? "" : "s");
      else if (l.minimums_off)
        add_error(err, sizeof err, "the decision drew nobody for too few volunteers, but the "
                  "node's selection minimums were off at the close");
      else
        add_error(err, sizeof err, "the decision drew nobody for too few volunteers, but a "
                  "convener proposed the lot (no minimum)");
    }
  }
  if (d->too_few_volunteers) {
    if (n_claimed)
      add_error(err, sizeof err, "the decision drew nobody for too few volunteers, yet selects "
                "%zu key%s", n_claimed, n_claimed == 1 ? "" : "s");
  } else if (!have_seed) {
    add_error(err, sizeof err, "the draw is not recomputed without a verified lot signature");
  } else if (cn_sortition_draw(seed, vols, n, sel->seats, quotas, sel->n_quotas, draw,
                               &n_draw) != 0) {
    add_error(err, sizeof err, "the draw cannot be recomputed (bad volunteers or quotas)");
  } else {
    vr = cn_sortition_verify(seed, vols, n, sel->seats, quotas, sel->n_quotas,
                             (const uint8_t (*)[CN_PK_BYTES])claimed, n_claimed);
    if (vr != 0) {
      add_error(err, sizeof err, "draw differs: the decision selected %zu key%s, the draw "
                "gives %zu", n_claimed, n_claimed == 1 ? "" : "s", n_draw);
      for (i = 0; i < n_claimed || i < n_draw; i++) {
        char a[2 * CN_PK_BYTES + 1] = "-", b[2 * CN_PK_BYTES + 1] = "-";
        if (i < n_claimed)
          cn_hex_encode(a, claimed[i], CN_PK_BYTES);
        if (i < n_draw)
          cn_hex_encode(b, draw[i], CN_PK_BYTES);
        if (strcmp(a, b) != 0)
          add_error(err, sizeof err, "seat %zu: decision %s, draw %s", i + 1, a, b);
      }
    }
  }

report:
  rc = err[0] ? CN_EXIT_REFUSED : CN_EXIT_OK;
  if (cli->json) {
    printf("{\"ok\":%s", rc == CN_EXIT_OK ? "true" : "false");
    if (have_seed)
      cn_hex_encode(hex, seed, CN_HASH_BYTES);
    printf(",\"seed\":\"%s\"", have_seed ? hex : "");
    printf(",\"seed_predictable\":%s", predictable < 0 ? "null" : predictable ? "true" : "false");
    json_keys("selected", (const uint8_t (*)[CN_PK_BYTES])claimed, n_claimed);
    json_keys("volunteers", (const uint8_t (*)[CN_PK_BYTES])sorted, n);
    printf(",\"error\":");
    if (err[0])
      cn_cli_json_string(stdout, err);
    else
      printf("null");
    printf("}\n");
    goto out;
  }
  if (l.proposal && sel && l.decision) {
    printf("Proposal:   %s (seq %llu)\n", argv[optind], (unsigned long long)l.proposal_seq);
    printf("Title:      %s\n", l.proposal->title ? l.proposal->title : "");
    printf("Seats:      %u", sel->seats);
    for (i = 0; i < sel->n_quotas; i++)
      printf("%s%s at least %u", i ? ", " : "; quotas: ", sel->quotas[i]->group,
             sel->quotas[i]->min_seats);
    printf("\nVolunteers: %zu, members (or one delegate per child council) at the decision "
           "(seq %llu), sorted:\n", n,
           (unsigned long long)l.decision_seq);
    for (i = 0; i < n; i++) {
      printf("  ");
      print_key_groups(vols[i].key, &vols[i]);
    }
    cn_hex_encode(hex, l.prev, CN_HASH_BYTES);
    printf("Head:       %s (seq %llu, before the decision)\n", hex,
           (unsigned long long)(l.decision_seq - 1));
    if (predictable == 1) {
      printf("Lot sig:    none (a decision made before nodes signed the lot)\n");
    } else if (predictable == 0) {
      char sig[2 * CN_SIG_BYTES + 1];
      cn_cli_hex(sig, sizeof sig, &l.decision->lot_signature, CN_SIG_BYTES);
      printf("Lot sig:    %s (%s)\n", sig, have_seed ? "the node's, verified" : "NOT the node's");
    }
    if (have_seed) {
      cn_hex_encode(hex, seed, CN_HASH_BYTES);
      printf("Seed:       %s%s\n", hex, predictable == 1 ? " (old formula, without a lot signature)" : "");
    }
    printf("Draw:%s\n", l.decision->too_few_volunteers
           ? "       none: a lot draws from more volunteers than seats" : "");
    for (i = 0; i < n_draw; i++) {
      printf("  %zu. ", i + 1);
      print_key_groups(draw[i], find_volunteer(vols, n, draw[i]));
    }
    printf("Log:        %llu entries verified, head %s\n", (unsigned long long)v.seq, head);
  }
  if (rc == CN_EXIT_OK && predictable == 1)
    printf("sortition verified, but its seed was predictable: the decision carries no lot\n"
           "signature, so whoever posted the last record before the close could have tried\n"
           "records until the draw favoured them\n");
  else if (rc == CN_EXIT_OK)
    printf("sortition verified\n");
  else
    fprintf(stderr, "sortition NOT verified: %s\n", err);
out:
  free(vols);
  free(sorted);
  free(dele);
  free(quotas);
  free(claimed);
  free(draw);
  lot_clear(&l);
  return rc;
}
