/* store.h: the node's SQLite database. The only module that speaks SQL.
 *
 * Statements are prepared once and cached; only named parameters are bound;
 * writes happen inside cn_store_begin()/cn_store_commit(), which use
 * BEGIN IMMEDIATE. Functions return 0 on success, 1 for "not found" where
 * noted, and -1 on a database error (logged with its SQLite message). */
#ifndef CN_STORE_H
#define CN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet/crypto.h"

#define CN_STORE_SCHEMA_VERSION 12

typedef struct cn_store_t cn_store_t;

/* Open (creating if needed) the database at PATH, set WAL and a busy
 * timeout, and migrate the schema to CN_STORE_SCHEMA_VERSION.
 * Return 0 with *OUT set, or -1 with a message in ERR.
 *
 * Durability: the store keeps its own descriptor of the WAL file and runs
 * SQLite with synchronous=NORMAL; cn_store_commit() then fdatasync()s the
 * WAL itself, which is what synchronous=FULL would do inside COMMIT. Owning
 * that step lets a caller commit now and make the commit durable later, on
 * another thread (cn_store_commit_nosync() + cn_store_sync()), so a loop
 * thread need not wait for the disk. If the WAL cannot be opened the store
 * stays on synchronous=FULL and cn_store_sync() has nothing to do. */
int cn_store_open(const char *path, cn_store_t **out, char *err, size_t errlen);
void cn_store_free(cn_store_t *s);        /* accepts NULL */

/* Last SQLite error text. */
const char *cn_store_errmsg(cn_store_t *s);

int cn_store_begin(cn_store_t *s);
int cn_store_commit(cn_store_t *s);
/* Commit without waiting for the disk: visible at once and kept if the
 * process dies, but an OS crash or power loss may take it back until the
 * next cn_store_sync() returns 0. Nothing that depends on it may be
 * acknowledged before then. */
int cn_store_commit_nosync(cn_store_t *s);
/* Make every commit so far durable (fdatasync of the WAL). Touches only the
 * store's WAL descriptor, never the connection: safe to call from another
 * thread while the owner goes on using the store. Return 0 or -1. */
int cn_store_sync(cn_store_t *s);
/* cn_store_sync(), then cn_store_checkpoint() if due: what
 * cn_store_commit() does after its COMMIT. Return as cn_store_sync(). */
int cn_store_flush(cn_store_t *s);
/* WAL frames (pages) between checkpoints: 8000 pages, a 32 MiB WAL at
 * most. SQLite's default is 1000; a longer WAL copies each hot page (the
 * random-keyed index leaves every ballot touches) into the database fewer
 * times: under a burst of ballots the checkpoint thread then spends about
 * a third of the CPU it did, for about 10% more ballots a second. */
#define CN_STORE_CHECKPOINT_FRAMES 8000
/* SQLite's automatic checkpoint is off (it would copy pages into the
 * database on the committing thread): cn_store_commit() checkpoints when
 * the WAL passes CN_STORE_CHECKPOINT_FRAMES frames, and a caller that commits with
 * cn_store_commit_nosync() calls cn_store_checkpoint() when _due() says so,
 * from any thread (it uses a connection of its own). Return 0 or -1. */
int cn_store_checkpoint_due(cn_store_t *s);
int cn_store_checkpoint(cn_store_t *s);
/* 1 once a sync has failed: every later cn_store_sync() fails too. */
int cn_store_sync_failed(cn_store_t *s);
void cn_store_rollback(cn_store_t *s);    /* no-op outside a transaction */
int cn_store_in_transaction(cn_store_t *s);
/* Nested scope inside an open transaction: a savepoint, released (kept)
 * or rolled back on its own. Return 0 or -1.
 *
 * A failed statement may make SQLite roll back the whole transaction (an
 * I/O error, a full disk), not only itself: every savepoint in it is gone.
 * The store then refuses every later write, savepoint, release and
 * rollback-to (-1) while the transaction stays open to the caller (reads go
 * on), and cn_store_commit() fails: nothing of the transaction is kept.
 * After that commit, or cn_store_rollback(), cn_store_begin() works again.
 * cn_store_rollback_to() returns -1 when the scope could not be rolled
 * back, as when the whole transaction is lost: the caller must then end the
 * transaction, whose commit will fail. */
int cn_store_savepoint(cn_store_t *s);
int cn_store_release(cn_store_t *s);
int cn_store_rollback_to(cn_store_t *s);

/* meta: small key/value settings. get returns 1 if K is absent. OUT: *V is
 * malloc'd (NUL-terminated for convenience), caller frees. */
int cn_store_meta_get(cn_store_t *s, const char *k, uint8_t **v, size_t *len);
int cn_store_meta_set(cn_store_t *s, const char *k, const void *v, size_t len);

/* log */
typedef struct cn_store_entry_t {
  uint64_t seq;
  uint8_t prev[CN_HASH_BYTES];
  uint8_t record_id[CN_HASH_BYTES];
  uint64_t received;
  uint8_t hash[CN_HASH_BYTES];
  const char *kind;               /* valid during the callback only */
  const uint8_t *envelope;        /* valid during the callback only */
  size_t envelope_len;
} cn_store_entry_t;

/* SEQ 0 and an all-zero hash for an empty log. */
int cn_store_log_head(cn_store_t *s, uint64_t *seq, uint8_t hash[CN_HASH_BYTES]);
/* Return 0, 1 if the log has the record id already (nothing written; one
 * seek of the unique index instead of a find and then an insert), or -1
 * (a taken seq among them). Unlike the INSERT OR IGNORE helpers (1:
 * inserted), 1 here means nothing was. */
int cn_store_log_append(cn_store_t *s, const cn_store_entry_t *e, const uint8_t signer[CN_PK_BYTES]);
/* Find an entry by record id and call FN once. Return 1 if absent. */
int cn_store_log_find(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                      int (*fn)(void *ctx, const cn_store_entry_t *e), void *ctx);
/* Call FN for each entry with seq > AFTER, at most LIMIT. FN returns 0 to go on. */
int cn_store_log_scan(cn_store_t *s, uint64_t after, uint64_t limit,
                      int (*fn)(void *ctx, const cn_store_entry_t *e), void *ctx);
/* Every entry of KIND, in log order (the whole log is read: for rare acts). */
int cn_store_log_kind_scan(cn_store_t *s, const char *kind,
                           int (*fn)(void *ctx, const cn_store_entry_t *e), void *ctx);

/* keys: members, clerks and conveners. */
typedef struct cn_store_key_t {
  uint8_t key[CN_PK_BYTES];
  const char *name;               /* valid during the callback / until next call */
  const char *groups;             /* newline-separated labels */
  int member, clerk, convener;
  int council;                    /* a child council's node key */
  uint64_t since;
} cn_store_key_t;

/* Return 1 if KEY is unknown. OUT's strings stay valid until the next cn_store_key_get(). */
int cn_store_key_get(cn_store_t *s, const uint8_t key[CN_PK_BYTES], cn_store_key_t *out);
int cn_store_key_put(cn_store_t *s, const cn_store_key_t *k);
int cn_store_key_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_key_t *k), void *ctx);
int cn_store_roll_count(cn_store_t *s, uint64_t *n);
int cn_store_convener_count(cn_store_t *s, uint64_t *n);

/* proposals */
typedef struct cn_store_proposal_t {
  uint8_t id[CN_HASH_BYTES];
  uint64_t seq;
  uint8_t author[CN_PK_BYTES];
  uint64_t opens, closes;
  int closed;
  const uint8_t *body;            /* serialized Proposal */
  size_t body_len;
  int has_decision;
  uint8_t decision[CN_HASH_BYTES]; /* record id of the decision */
  uint64_t ballots;               /* ballots stored so far */
} cn_store_proposal_t;

int cn_store_proposal_put(cn_store_t *s, const cn_store_proposal_t *p);
/* Return 1 if absent. OUT's body stays valid until the next cn_store_proposal_get(). */
int cn_store_proposal_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_proposal_t *out);
/* The same without counting the ballots (OUT->ballots is 0): for the
 * apply path, where counting would make every ballot cost more. */
int cn_store_proposal_get_light(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_proposal_t *out);
int cn_store_proposal_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_proposal_t *p), void *ctx);
/* Proposals not yet closed whose window ended at or before NOW, oldest first. */
int cn_store_proposal_scan_due(cn_store_t *s, uint64_t now,
                               int (*fn)(void *ctx, const cn_store_proposal_t *p), void *ctx);
int cn_store_proposal_set_decision(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                   const uint8_t decision[CN_HASH_BYTES]);

/* ballots: one row per (proposal, member). */
typedef struct cn_store_ballot_t {
  uint8_t member[CN_PK_BYTES];
  uint64_t seq;
  const char *choices;            /* "0,2,3" */
  int paper;
  const char *groups;             /* voter's labels at scan time (from keys) */
  uint64_t weight;                /* 1, or a child council's roll size */
  int has_via;
  uint8_t via[CN_HASH_BYTES];     /* mandate or delegate ballot it came through */
} cn_store_ballot_t;

/* Return 1 if MEMBER has no ballot on PROPOSAL. Fills OUT's member, seq and
 * paper; its strings are left empty. */
int cn_store_ballot_get(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                        const uint8_t member[CN_PK_BYTES], cn_store_ballot_t *out);
/* Insert or replace. */
int cn_store_ballot_put(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], const cn_store_ballot_t *b);
/* Insert unless MEMBER has a ballot on PROPOSAL: 0, 1 if it has (nothing
 * written), or -1. */
int cn_store_ballot_add(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], const cn_store_ballot_t *b);
int cn_store_ballot_scan(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                         int (*fn)(void *ctx, const cn_store_ballot_t *b), void *ctx);

/* volunteers for a selection by lot */
typedef struct cn_store_volunteer_t {
  uint8_t member[CN_PK_BYTES];
  uint64_t seq;
  const char *groups;             /* current labels, valid during the callback */
} cn_store_volunteer_t;

/* Return 1 if inserted, 0 if MEMBER had volunteered already, -1 on error. */
int cn_store_volunteer_put(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                           const uint8_t member[CN_PK_BYTES], uint64_t seq);
/* The volunteers a lot draws among at NOW, in key order: members, and
 * delegates holding a child council's live credential here (unrecalled,
 * term not over at NOW), one per council: such a delegate is passed over if
 * a volunteer off the roll who came earlier holds a live credential from
 * the same council. */
int cn_store_volunteer_scan(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], uint64_t now,
                            int (*fn)(void *ctx, const cn_store_volunteer_t *v), void *ctx);
/* How many volunteers of PROPOSAL could be drawn at NOW: members, and
 * holders of a live child council's credential. */
int cn_store_volunteer_count(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], uint64_t now,
                             uint64_t *count);
/* Whether MEMBER finds no place in PROPOSAL's lot at NOW: each council
 * MEMBER holds a live credential from is held by another volunteer off the
 * roll too. 0 and COUNCIL (one of them), 1 if MEMBER has a place (or holds
 * no child credential), -1 on error. */
int cn_store_volunteer_same_council(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                                    const uint8_t member[CN_PK_BYTES], uint64_t now,
                                    uint8_t council[CN_PK_BYTES]);

/* credentials */
typedef struct cn_store_credential_t {
  uint8_t id[CN_HASH_BYTES];      /* record id of the credential */
  uint64_t seq;
  uint8_t delegate[CN_PK_BYTES];
  uint8_t parent[CN_PK_BYTES];
  uint64_t term_start, term_end;
  uint8_t selection[CN_HASH_BYTES];
  uint32_t term;
  int recalled;
  uint8_t recall[CN_HASH_BYTES];  /* record id of the recall, if recalled */
  uint64_t recall_votes;          /* recall votes received (a running count) */
  int has_issuer;                 /* issued by a child council, not this node */
  uint8_t issuer[CN_PK_BYTES];
  int has_derived;                /* a delegate of delegates: derived from */
  uint8_t derived_from[CN_HASH_BYTES];
} cn_store_credential_t;

int cn_store_credential_put(cn_store_t *s, const cn_store_credential_t *c);
/* Return 1 if absent. */
int cn_store_credential_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_credential_t *out);
/* The DELEGATE's credential at PARENT with the latest term end; 1 if none. */
int cn_store_credential_latest(cn_store_t *s, const uint8_t delegate[CN_PK_BYTES],
                               const uint8_t parent[CN_PK_BYTES], cn_store_credential_t *out);
int cn_store_credential_set_recalled(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                     const uint8_t recall[CN_HASH_BYTES]);
int cn_store_credential_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_credential_t *c),
                             void *ctx);

/* recall votes: 1 if inserted (and the credential's running count raised),
 * 0 if the member had voted already. */
int cn_store_recall_vote_put(cn_store_t *s, const uint8_t credential[CN_HASH_BYTES],
                             const uint8_t member[CN_PK_BYTES], uint64_t seq);

/* mandates */
typedef struct cn_store_mandate_t {
  uint8_t id[CN_HASH_BYTES];      /* record id of the node-signed mandate */
  uint64_t seq;
  uint8_t credential[CN_HASH_BYTES];
  int delivered;
  const uint8_t *envelope;        /* the mandate Envelope */
  size_t envelope_len;
} cn_store_mandate_t;

int cn_store_mandate_put(cn_store_t *s, const cn_store_mandate_t *m);
/* Return 1 if absent. OUT's envelope is left NULL (read it from the log). */
int cn_store_mandate_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_mandate_t *out);
int cn_store_mandate_set_delivered(cn_store_t *s, const uint8_t id[CN_HASH_BYTES]);
int cn_store_mandate_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_mandate_t *m), void *ctx);

/* Own credentials derived from credential FROM (delegates of delegates). */
int cn_store_credential_scan_derived(cn_store_t *s, const uint8_t from[CN_HASH_BYTES],
                                     int (*fn)(void *ctx, const cn_store_credential_t *c), void *ctx);
/* Recall votes on CREDENTIAL from current members (exact, O(votes)). */
int cn_store_recall_vote_count_members(cn_store_t *s, const uint8_t credential[CN_HASH_BYTES],
                                       uint64_t *n);
/* Recall votes on CREDENTIAL from members of CHILD's forwarded roll. */
int cn_store_recall_vote_count_child(cn_store_t *s, const uint8_t credential[CN_HASH_BYTES],
                                     const uint8_t child[CN_PK_BYTES], uint64_t *n);
/* The live credential DELEGATE holds here from a child council (unrecalled,
 * term not ended at NOW, latest term end); 1 if none. For candidacy upward:
 * delegates of delegates. */
int cn_store_credential_of(cn_store_t *s, const uint8_t delegate[CN_PK_BYTES], uint64_t now,
                           cn_store_credential_t *out);

/* outbox: records waiting to go to the parent, oldest first. */
int cn_store_outbox_put(cn_store_t *s, const uint8_t record_id[CN_HASH_BYTES], const char *kind,
                        const uint8_t *env, size_t len);
/* The oldest row: 1 if empty. OUT: *ENV malloc'd, caller frees. */
int cn_store_outbox_first(cn_store_t *s, uint64_t *id, uint8_t **env, size_t *len);
int cn_store_outbox_delete(cn_store_t *s, uint64_t id);
/* Move row ID to the dead letters with WHY. */
int cn_store_outbox_bury(cn_store_t *s, uint64_t id, const char *why, uint64_t now);
int cn_store_outbox_count(cn_store_t *s, uint64_t *waiting, uint64_t *dead);
/* Put dead letter ID back at the end of the outbox: 0, 1 if there is no
 * such dead letter, -1 on error. */
int cn_store_outbox_resend(cn_store_t *s, uint64_t id);
/* The highest row number in the outbox, 0 if empty. */
int cn_store_outbox_last(cn_store_t *s, uint64_t *last);
/* Move the rows up to LAST, in order, behind every row after them. */
int cn_store_outbox_rotate(cn_store_t *s, uint64_t last);
/* Dead letters, newest first, at most LIMIT. Strings valid during FN. */
typedef struct cn_store_dead_t {
  uint64_t id;
  uint8_t record_id[CN_HASH_BYTES];
  const char *kind;
  const char *error;        /* the parent's refusal */
  uint64_t at;              /* node time it was buried */
} cn_store_dead_t;
int cn_store_outbox_dead_scan(cn_store_t *s, uint64_t limit,
                              int (*fn)(void *ctx, const cn_store_dead_t *d), void *ctx);

/* a child council's forwarded roll (member keys only) */
int cn_store_child_roll_set(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                            const uint8_t member[CN_PK_BYTES], int present);
int cn_store_child_roll_has(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                            const uint8_t member[CN_PK_BYTES]);   /* 1 yes, 0 no, -1 */
/* 1 if MEMBER is on the forwarded roll of a child council other than CHILD
 * that is still a member council here. */
int cn_store_child_roll_elsewhere(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                                  const uint8_t member[CN_PK_BYTES]);   /* 1, 0, -1 */
int cn_store_child_roll_count(cn_store_t *s, const uint8_t child[CN_PK_BYTES], uint64_t *n);
/* Sum of the forwarded rolls of all current member councils. */
int cn_store_child_roll_total(cn_store_t *s, uint64_t *n);
/* The number of people a child council reports it speaks for. */
int cn_store_child_weight_put(cn_store_t *s, const uint8_t child[CN_PK_BYTES], uint64_t roll);
int cn_store_child_weight_get(cn_store_t *s, const uint8_t child[CN_PK_BYTES], uint64_t *roll);
/* People this node speaks for: each member counts 1, a child council the
 * number it reported. */
int cn_store_represented(cn_store_t *s, uint64_t *n);

/* decisions of child councils, forwarded because a mandate cites them */
int cn_store_foreign_decision_put(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                                  const uint8_t proposal[CN_HASH_BYTES], int passed);
/* 1 if absent; else 0 and *PASSED. */
int cn_store_foreign_decision_get(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                                  const uint8_t proposal[CN_HASH_BYTES], int *passed);

/* the parent's proposals, followed from its log */
int cn_store_parent_proposal_put(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], uint64_t seq,
                                 const uint8_t *body, size_t len);
int cn_store_parent_proposal_decide(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                    const uint8_t *decision, size_t len);
typedef struct cn_store_parent_proposal_t {
  uint8_t id[CN_HASH_BYTES];
  uint64_t seq;
  const uint8_t *body;            /* Proposal */
  size_t body_len;
  const uint8_t *decision;        /* Decision body, or NULL */
  size_t decision_len;
} cn_store_parent_proposal_t;
int cn_store_parent_proposal_scan(cn_store_t *s,
                                  int (*fn)(void *ctx, const cn_store_parent_proposal_t *p), void *ctx);
/* FN with the parent's proposal ID (valid during the call): 0, 1 if this
 * node has not followed it, -1. */
int cn_store_parent_proposal_find(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                  int (*fn)(void *ctx, const cn_store_parent_proposal_t *p),
                                  void *ctx);

/* budget rounds: owned (made here) or followed from the parent */
typedef struct cn_store_round_t {
  uint8_t id[CN_HASH_BYTES];
  uint64_t seq;
  int owned;
  uint64_t opens, closes;
  const uint8_t *body;            /* BudgetRound */
  size_t body_len;
  int mandated;                   /* this node's budget mandate is sent */
  int allocated;
  int listed;                     /* the final project list is known */
  const uint8_t *projects;        /* BudgetProjects body once listed, else NULL */
  size_t projects_len;
  const uint8_t *envelope;        /* the round's Envelope as signed (NULL: taken in
                                   * before schema 8) */
  size_t envelope_len;
  const uint8_t *projects_envelope;  /* the list's Envelope once listed, else NULL */
  size_t projects_envelope_len;
  const char *export_pb;          /* Pabulib text kept at the close, else NULL (not
                                   * NUL-terminated) */
  size_t export_pb_len;
  uint32_t depth;                 /* levels below the round's owner: 0 owned here (or
                                   * taken in before schema 12), 1 taken from the
                                   * owner's log, else the parent's relay hops + 1 */
} cn_store_round_t;

int cn_store_round_put(cn_store_t *s, const cn_store_round_t *r);
/* A followed round ID is DEPTH below its owner, if deeper than stored (the
 * node moved under another parent). 0 or -1. */
int cn_store_round_deepen(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], uint32_t depth);
/* 1 if absent. OUT's body stays valid until the next cn_store_round_get(). */
int cn_store_round_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_round_t *out);
int cn_store_round_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_round_t *r), void *ctx);
int cn_store_round_set_done(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], int mandated, int allocated);
/* Keep the round's Pabulib text as it stood at the close (LEN bytes). */
int cn_store_round_set_export(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], const char *text,
                              size_t len);
/* Record the round's final project list (a BudgetProjects body) and ENV,
 * the envelope it came in, as its owner signed it. */
int cn_store_round_set_projects(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], const uint8_t *body,
                                size_t len, const uint8_t *env, size_t env_len);
/* A project proposed for a round by child council CHILD: 1 if stored, 0 if
 * a project with that id was proposed already. */
int cn_store_round_proposal_put(cn_store_t *s, const uint8_t round[CN_HASH_BYTES], const char *id,
                                const uint8_t child[CN_PK_BYTES], uint64_t seq, const uint8_t *body,
                                size_t len);
/* The proposals in the order they came (BudgetProject bodies). */
int cn_store_round_proposal_scan(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                                 int (*fn)(void *ctx, const uint8_t *body, size_t len), void *ctx);

/* 1 if inserted, 0 if the member had voted already. PROJECTS is "0,3,7". */
int cn_store_budget_ballot_put(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                               const uint8_t member[CN_PK_BYTES], uint64_t seq, const char *projects);
/* Each distinct approval set of the round's ballots (members only), with
 * the number of ballots that chose it. */
int cn_store_budget_ballot_scan(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                                int (*fn)(void *ctx, const char *projects, uint64_t count), void *ctx);
/* One part of a child's budget mandate (BudgetMandate body BODY, as the
 * record carried it): part PART of PARTS (a whole mandate is part 0 of 1),
 * made at CREATED for VOTERS voters in all, COUNTED of them in this part's
 * approval sets. */
typedef struct cn_store_profile_part_t {
  uint64_t part, parts, created, voters, counted;
  const uint8_t *body;
  size_t body_len;
  const uint8_t *digest;            /* BudgetMandate.digest; may be empty */
  size_t digest_len;
} cn_store_profile_part_t;
/* 1 if stored, 0 if part PART of the child's mandate of that time for
 * this round is there already. Storing drops what the part makes
 * obsolete, so that at most two of the child's mandates for the round are
 * kept, each with its own part numbers: its newest whole one (every part
 * there), which counts, and its newest one if newer, with parts missing. */
int cn_store_profile_put(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                         const uint8_t child[CN_PK_BYTES], const cn_store_profile_part_t *p);
/* The parts stored of the child's newest mandate for ROUND (of its latest
 * time), whole or not. */
typedef struct cn_store_profile_t {
  uint64_t created, parts, voters;
  uint64_t stored;                  /* parts stored */
  uint64_t counted;                 /* voters in their sets, summed */
  int has_digest;                   /* the parts' BudgetMandate.digest */
  uint8_t digest[CN_HASH_BYTES];
} cn_store_profile_t;
/* 0 and *OUT, 1 if the child sent no part for ROUND, -1. */
int cn_store_profile_get(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                         const uint8_t child[CN_PK_BYTES], cn_store_profile_t *out);
/* 1 if part PART of the child's mandate for ROUND made at CREATED is
 * stored, 0 if not, -1. */
int cn_store_profile_has(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                         const uint8_t child[CN_PK_BYTES], uint64_t created, uint64_t part);
/* The mandate for ROUND that counts of each member child: its newest whole
 * one. The child council's key and the body of each part, in order (a
 * child's parts one after another). A newer mandate with parts missing is
 * left out, and never more than one mandate of a child is given. */
int cn_store_profile_scan(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                          int (*fn)(void *ctx, const uint8_t child[CN_PK_BYTES],
                                    const uint8_t *body, size_t len),
                          void *ctx);
/* Children that reported a roll (child councils); member children with a
 * whole mandate (one that counts: cn_store_profile_scan); member children
 * whose newest mandate has parts missing (PARTIAL may be NULL). A child
 * with a whole mandate and a newer one with parts missing is in both. */
int cn_store_profile_counts(cn_store_t *s, const uint8_t round[CN_HASH_BYTES], uint64_t *children,
                            uint64_t *received, uint64_t *partial);

#endif
