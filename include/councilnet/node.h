/* node.h: one council node: its key, its database and the rules that decide
 * what it accepts. Single-threaded: call from the event loop only.
 *
 * The data path of a write: decode -> verify -> authorize against current
 * state -> apply (one transaction: state and log entry) -> commit -> receipt.
 * Nothing is written before verification; a refused record changes nothing. */
#ifndef COUNCILNET_NODE_H
#define COUNCILNET_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet/crypto.h"
#include "councilnet/err.h"

typedef struct cn_node_t cn_node_t;

/* Returns the current time in seconds since the epoch. */
typedef uint64_t (*cn_clock_fn)(void *ctx);

/* Create a node in DIR (made if missing; must not hold a node already):
 * DIR/node.db (schema, name, convener) and DIR/node.key (0600).
 * Return 0, or -1 with a message in ERR. */
int cn_node_create(const char *dir, const char *name, const uint8_t convener[CN_PK_BYTES],
                   char *err, size_t errlen);

int cn_node_open(const char *dir, cn_node_t **out, char *err, size_t errlen);
void cn_node_free(cn_node_t *n);            /* accepts NULL */

/* Limit each member key to PER_SECOND acts (ballots, proposals, recall
 * votes, ...) with bursts of BURST; past it, RATE_LIMITED. 0 turns it off. */
void cn_node_set_rate(cn_node_t *n, double per_second, double burst);

/* Replace the clock (tests). FN NULL restores the system clock. */
void cn_node_set_clock(cn_node_t *n, cn_clock_fn fn, void *ctx);
uint64_t cn_node_now(cn_node_t *n);
const uint8_t *cn_node_key(const cn_node_t *n);
const char *cn_node_name(const cn_node_t *n);

/* Accept one Envelope. On CN_OK *RECEIPT is the node-signed receipt (a
 * SignedReceipt, batch of one; malloc'd, caller frees), sent only after the
 * commit; a record seen before gets a receipt for its original entry. On
 * error, MSG says why and nothing changed. */
cn_err cn_node_submit(cn_node_t *n, const uint8_t *buf, size_t len,
                      uint8_t **receipt, size_t *receipt_len, char *msg, size_t msglen);

/* What a receipt states: the record's log entry. */
typedef struct cn_node_receipt_t {
  uint8_t record_id[CN_HASH_BYTES];
  uint64_t seq;
  uint64_t received;
  uint8_t entry_hash[CN_HASH_BYTES];
} cn_node_receipt_t;

struct cn_record_t;

/* cn_node_submit() in steps, for callers that verify and sign elsewhere:
 * REC is BUF opened by cn_record_open() (on any thread); apply() checks it
 * against the node's state and appends it, filling *OUT (a record seen
 * before gets its original entry). refuse_open() counts and explains a
 * record cn_record_open() refused. receipts_seal() signs the receipts of
 * COUNT entries as one batch (a SignedReceipt each, see receipt.h);
 * receipt_seal() is a batch of one. Both read only the node's keys, so any
 * thread may call them while N lives. */
cn_err cn_node_apply(cn_node_t *n, const struct cn_record_t *rec, const uint8_t *buf, size_t len,
                     cn_node_receipt_t *out, char *msg, size_t msglen);
cn_err cn_node_refuse_open(cn_node_t *n, cn_err err, char *msg, size_t msglen);
int cn_node_receipt_seal(const cn_node_t *n, const cn_node_receipt_t *r,
                         uint8_t **out, size_t *out_len);
int cn_node_receipts_seal(const cn_node_t *n, const cn_node_receipt_t *const *e, size_t count,
                          uint8_t **out, size_t *out_lens);

/* Group commit: between batch_begin and batch_end every cn_node_submit()
 * (or cn_node_apply()) runs in one SQLite transaction (each act in its own
 * savepoint, so a refused act still changes nothing). The receipts handed
 * out in a batch are valid only once batch_end() has returned 0: send none
 * before. If the commit fails nothing of the batch is kept; if only the
 * disk sync after it fails, the batch is kept but not known to be durable,
 * and batch_end() returns -1 all the same. Return 0 or -1.
 *
 * batch_commit() is batch_end() without waiting for the disk: the batch is
 * visible and survives a crash of the process, but not of the machine,
 * until cn_node_sync() returns 0. cn_node_sync() touches only the database
 * file's descriptor, never the node's state: it is the one node call that
 * may run on another thread, concurrently with the loop using the node. */
int cn_node_batch_begin(cn_node_t *n);
int cn_node_batch_end(cn_node_t *n);
int cn_node_batch_commit(cn_node_t *n);
int cn_node_sync(cn_node_t *n);
/* The WAL is long enough to copy into the database; the copy (a SQLite
 * checkpoint on a connection of its own) may run on any thread, and the
 * loop goes on writing meanwhile. Commits that sync inline checkpoint by
 * themselves. */
int cn_node_checkpoint_due(cn_node_t *n);
int cn_node_checkpoint(cn_node_t *n);
/* 1 once a disk sync has failed: the node acknowledges nothing more until
 * it is restarted. */
int cn_node_sync_failed(cn_node_t *n);

/* Close every proposal whose window has ended, appending its decision.
 * Return the number closed, or -1 on a database error. */
int cn_node_close_due(cn_node_t *n);

/* Queries. Each fills *OUT with a serialized message (malloc'd, caller
 * frees) and *DESC with its descriptor (for the JSON mapping). */
struct ProtobufCMessageDescriptor;
typedef struct cn_answer_t {
  uint8_t *data;
  size_t len;
  const struct ProtobufCMessageDescriptor *desc;
} cn_answer_t;

cn_err cn_node_query_info(cn_node_t *n, cn_answer_t *out);
cn_err cn_node_query_head(cn_node_t *n, cn_answer_t *out);          /* Envelope "head" */
cn_err cn_node_query_log(cn_node_t *n, uint64_t after, uint64_t limit, cn_answer_t *out);
cn_err cn_node_query_members(cn_node_t *n, cn_answer_t *out);
cn_err cn_node_query_proposals(cn_node_t *n, cn_answer_t *out);
cn_err cn_node_query_proposal(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], cn_answer_t *out);
cn_err cn_node_query_decision(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], cn_answer_t *out);
cn_err cn_node_query_delegates(cn_node_t *n, cn_answer_t *out);     /* DelegateList */
cn_err cn_node_query_mandates(cn_node_t *n, cn_answer_t *out);      /* MandateList */
cn_err cn_node_query_recalls(cn_node_t *n, cn_answer_t *out);       /* RecallList */
/* The logged record ID as an Envelope (exact bytes), e.g. a credential. */
cn_err cn_node_query_record(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], cn_answer_t *out);

/* ---- federation ---- */

/* The parent this node reports to: 0 and URL/KEY filled, or 1 if none. */
int cn_node_parent(cn_node_t *n, char *url, size_t cap, uint8_t key[CN_PK_BYTES]);
/* Set the parent directly (councild init --parent). Return 0 or -1. */
int cn_node_set_parent(cn_node_t *n, const char *url, const uint8_t key[CN_PK_BYTES],
                       char *err, size_t errlen);

/* The outbox: records waiting to go up, oldest first. first() returns 1 if
 * empty; OUT: *ENV malloc'd. done() deletes a row the parent receipted;
 * bury() moves a row the parent refused for good to the dead letters. */
int cn_node_outbox_first(cn_node_t *n, uint64_t *id, uint8_t **env, size_t *len);
int cn_node_outbox_done(cn_node_t *n, uint64_t id);
int cn_node_outbox_bury(cn_node_t *n, uint64_t id, const char *why);
/* The parent refused row ID NOT_MEMBER: it does not know a member of ours
 * (our roll update was set aside, or lost there). If ID is the outbox's
 * first row and a recall vote, queue the whole roll ahead of every row
 * waiting (ID first behind it), in one transaction, unless a whole roll
 * went this way lately: after one the next waits 10 minutes by the node's
 * clock, doubling up to a day (kept in the store, across restarts; reset
 * by a parent_set). Return 0 if done, 1 if ID is not the first row or not
 * a recall vote, 2 if it is but within the wait (nothing changed in
 * either), or -1. */
int cn_node_outbox_refresh_roll(cn_node_t *n, uint64_t id);

/* Following the parent's log: the last seq taken in, and taking in one
 * LogPage (each entry verified against the parent's key and the chain so
 * far; proposals and decisions stored). Return 0, or -1 with ERR set (the
 * entries before the bad one are kept). */
uint64_t cn_node_follow_after(cn_node_t *n);
int cn_node_follow_apply(cn_node_t *n, const uint8_t *page, size_t len, size_t *applied,
                         char *err, size_t errlen);

cn_err cn_node_query_parent_proposals(cn_node_t *n, cn_answer_t *out);   /* ProposalList */
cn_err cn_node_query_federation(cn_node_t *n, const char *last_error, cn_answer_t *out);

/* ---- participatory budgeting ---- */

cn_err cn_node_query_rounds(cn_node_t *n, cn_answer_t *out);             /* RoundList */
/* The round's approval sets as Pabulib .pb text (OUT: malloc'd). */
cn_err cn_node_query_round_pb(cn_node_t *n, const uint8_t id[CN_HASH_BYTES], char **text);

/* Counters for /metrics. */
typedef struct cn_node_stats_t {
  uint64_t accepted, refused, duplicates, decisions, seq, roll;
} cn_node_stats_t;
void cn_node_stats(cn_node_t *n, cn_node_stats_t *out);

#define CN_LOG_PAGE_MAX 10000
/* A log page also ends once its envelopes pass this many bytes (always at
 * least one entry): 10,000 envelopes of up to 64 KiB would be 640 MiB in
 * memory for one anonymous GET. Readers page on until an empty page. */
#define CN_LOG_PAGE_BYTES (4u << 20)

#endif
