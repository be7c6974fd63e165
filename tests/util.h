/* util.h: helpers for tests that run real councild processes on 127.0.0.1. */
#ifndef CN_TEST_UTIL_H
#define CN_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "councilnet.pb-c.h"
#include "councilnet/crypto.h"
#include "councilnet/err.h"

typedef struct tnode_t {
  pid_t pid;
  char dir[256];            /* data folder */
  char url[64];             /* http://127.0.0.1:PORT */
  char clock_file[300];
  int port;
  uint64_t now;             /* time the node sees (clock file) */
  uint8_t convener_sk[CN_SK_BYTES], convener_pk[CN_PK_BYTES];
  uint8_t pk[CN_PK_BYTES];  /* node key */
  const char *set[4];       /* extra "key=value" settings for councild run */
} tnode_t;

/* A fresh temporary folder under $TMPDIR (or /tmp); OUT gets its path. */
int util_tmpdir(char *out, size_t cap, const char *tag);
/* Remove a folder tree made by util_tmpdir. */
void util_rmtree(const char *dir);
/* Remove an SQLite database and its -wal, -shm and -journal files. */
void util_remove_db(const char *path);
/* Run SQL on the SQLite database at PATH (a connection of its own, e.g. to
 * make a database look like an older schema): SQLite's result code. */
int util_sql_exec(const char *path, const char *sql);

/* Init a node in a new temp folder with a new convener key, set its clock
 * to NOW, start it on a free port and wait until it answers. Return 0 or -1. */
int tnode_start(tnode_t *n, const char *name, uint64_t now);
/* Like tnode_start, with up to four extra councild.conf settings. */
int tnode_start_set(tnode_t *n, const char *name, uint64_t now, const char *const *set, size_t n_set);
/* The same, as a child of PARENT (already running). */
int tnode_start_child(tnode_t *n, const char *name, uint64_t now, const tnode_t *parent);
/* Start the node again (same folder, same port if possible). */
int tnode_restart(tnode_t *n);
/* N's own secret key (its node.key), to act as that node: 0 or -1. */
int tnode_secret_key(const tnode_t *n, uint8_t sk[CN_SK_BYTES]);
/* Send SIG and wait for the process. Return 0, or -1 if it was asked to
 * stop (SIGTERM) and did not exit cleanly (a sanitizer report, a leak). */
int tnode_kill(tnode_t *n, int sig);
/* Stop (SIGTERM), and remove the folder. Return as tnode_kill(). */
int tnode_destroy(tnode_t *n);
/* Move the node's clock. */
int tnode_set_clock(tnode_t *n, uint64_t now);

/* Seal BODY as KIND with SK. OUT: malloc'd. */
int util_seal(const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
              uint8_t **out, size_t *len);
/* POST an envelope; return the API code (CN_OK with a verified receipt, or
 * the Error's code), or -1 if no answer. *SEQ gets the receipt seq if non-NULL. */
int util_post(tnode_t *n, const uint8_t *env, size_t len, uint64_t *seq);
/* Post settings, signed by the convener, that let members propose
 * selections with any window and no turnout quorum (a node asks a day and a
 * tenth of the roll by default; most tests run windows of seconds). */
int util_settings_open(tnode_t *n);
/* Propose, as N's convener, TITLE: a selection by lot of SEATS seats for
 * PARENT, open from N's clock for WINDOW seconds, its term from the close
 * to 100,000 s after the opening. ID gets its record id. As util_post(). */
int util_propose_lot(tnode_t *n, const char *title, uint32_t seats,
                     const uint8_t parent[CN_PK_BYTES], uint64_t window,
                     uint8_t id[CN_HASH_BYTES]);
/* The same, proposed by the key SK (a member's lot). */
int util_propose_lot_by(tnode_t *n, const uint8_t sk[CN_SK_BYTES], const char *title,
                        uint32_t seats, const uint8_t parent[CN_PK_BYTES], uint64_t window,
                        uint8_t id[CN_HASH_BYTES]);
/* Seal and post. */
int util_act(tnode_t *n, const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
             uint64_t *seq);
/* The same; ID (if not NULL) gets the record id. */
int util_act_id(tnode_t *n, const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
                uint64_t *seq, uint8_t id[CN_HASH_BYTES]);
/* CHILD's convener sets PARENT (its URL and key) as CHILD's parent. As util_act(). */
int util_parent_set(tnode_t *child, const tnode_t *parent);
/* N budget projects PROJ, PP pointing at them, each named and titled by
 * IDS, costing COST. */
void util_budget_projects(Councilnet__BudgetProject *proj, Councilnet__BudgetProject **pp,
                          char *const *ids, size_t n, uint64_t cost);
/* The value of NAME (with its labels, e.g. x{stage="verify"}) in N's
 * /metrics, or -1. */
double util_metric(tnode_t *n, const char *name);
/* The node's head seq (GET /v1/head, signature checked), or -1. */
int64_t util_head_seq(tnode_t *n);

/* Run a command line through /bin/sh, capture stdout (malloc'd) and return
 * the exit status, or -1. */
int util_sh(const char *cmd, char **out);

/* ---- acts and queries used by the multi-node tests ---- */

/* Wait up to MS milliseconds for PRED(CTX) to return non-zero. */
int util_wait(int (*pred)(void *ctx), void *ctx, int ms);
void util_sleep_ms(int ms);
/* GET PATH from N and unpack as DESC (NULL on failure). */
ProtobufCMessage *util_get(tnode_t *n, const char *path, const ProtobufCMessageDescriptor *desc);
/* GET /v1/records/ID: the exact envelope. OUT malloc'd. */
int util_get_record(tnode_t *n, const uint8_t id[CN_HASH_BYTES], uint8_t **out, size_t *len);
/* Convener of N admits KEY as a member: a person, or (util_admit_council)
 * a child council's node key. */
int util_admit(tnode_t *n, const uint8_t key[CN_PK_BYTES], const char *name);
int util_admit_council(tnode_t *n, const uint8_t key[CN_PK_BYTES], const char *name);
/* A proposal by SK on N; *ID gets its record id. */
int util_propose(tnode_t *n, const uint8_t sk[CN_SK_BYTES], Councilnet__Proposal *p, uint8_t id[CN_HASH_BYTES]);
/* A question by SK on N (the default options and rule: one ballot each,
 * by majority), created and open at OPENS until CLOSES. As util_propose(). */
int util_propose_question(tnode_t *n, const uint8_t sk[CN_SK_BYTES], const char *title,
                          uint64_t opens, uint64_t closes, uint8_t id[CN_HASH_BYTES]);
/* SK's online ballot for CHOICE on N's proposal PID, created at CREATED,
 * sealed but not posted: OUT malloc'd. 0 or -1. */
int util_seal_ballot(const tnode_t *n, const uint8_t sk[CN_SK_BYTES],
                     const uint8_t pid[CN_HASH_BYTES], uint32_t choice, uint64_t created,
                     uint8_t **out, size_t *len);
/* An online ballot. */
int util_vote(tnode_t *n, const uint8_t sk[CN_SK_BYTES], const uint8_t pid[CN_HASH_BYTES], uint32_t choice);
/* The node-signed decision on PID, or NULL if none yet. */
Councilnet__Decision *util_decision(tnode_t *n, const uint8_t pid[CN_HASH_BYTES]);
/* Wait for the decision on PID (up to MS). */
Councilnet__Decision *util_wait_decision(tnode_t *n, const uint8_t pid[CN_HASH_BYTES], int ms);
/* The live credential of DELEGATE at N (issued by N or by a child): 0 and
 * ID, or -1. */
int util_credential_of(tnode_t *n, const uint8_t delegate[CN_PK_BYTES], uint8_t id[CN_HASH_BYTES],
                       int *recalled);
/* Number of log entries of N whose record id is ID (0 or 1 expected). */
int util_log_count(tnode_t *n, const uint8_t id[CN_HASH_BYTES]);
/* Call FN with each entry of N's log, in order, and its envelope (NULL if
 * it does not decode); FN returns non-zero to stop. Return 0, or -1 if the
 * log could not be read. */
typedef int (*util_entry_fn)(void *ctx, const Councilnet__LogEntry *le,
                             const Councilnet__Envelope *e);
int util_log_each(tnode_t *n, util_entry_fn fn, void *ctx);
/* The log entry of N's decision on proposal ID: its seq and (PREV, may be
 * NULL) the head before it. Return 0, or -1 if there is none. */
int util_decision_entry(tnode_t *n, const uint8_t id[CN_HASH_BYTES], uint64_t *seq,
                        uint8_t prev[CN_HASH_BYTES]);
/* Records waiting in N's outbox, or -1. */
int64_t util_outbox(tnode_t *n);

/* Round ID in a /v1/budget answer, or NULL. */
Councilnet__RoundView *util_round_view(Councilnet__RoundList *rl, const uint8_t id[CN_HASH_BYTES]);
/* Wait up to MS for N to know round ID, with its final list (LISTED), its
 * mandate sent (MANDATED), its allocation (ALLOCATED) as asked. 0 or -1. */
int util_wait_round(tnode_t *n, const uint8_t id[CN_HASH_BYTES], int listed, int mandated,
                    int allocated, int ms);
/* For util_wait(): does N know exactly one budget round (its id goes in
 * ID), allocated if ALLOCATED is set? CTX is a util_round_t. */
typedef struct util_round_t {
  tnode_t *n;
  uint8_t id[CN_HASH_BYTES];
  int allocated;
} util_round_t;
int util_round_seen(void *ctx);
/* Does N count exactly WANT ballots on proposal PID (any channel)? */
int util_ballots_are(tnode_t *n, const uint8_t pid[CN_HASH_BYTES], uint64_t want);
/* The same, for util_wait(): CTX is a util_ballots_t. */
typedef struct util_ballots_t {
  tnode_t *n;
  const uint8_t *pid;
  uint64_t want;
} util_ballots_t;
int util_ballots_ready(void *ctx);

/* `council verify` of N's log (0 if it verifies, or without CN_COUNCIL);
 * says on stderr what it printed otherwise. */
int util_council_verify(tnode_t *n);

/* Play a dishonest node: stop N, chain its log again from entry FROM on,
 * and start it. FN is called for each entry from FROM on, with its seq and
 * the hash of the entry before it as it now is; it returns 1 and sets *ENV
 * and *LEN (malloc'd; freed here) to put other envelope bytes there, 0 to
 * keep the entry's, -1 to give up. A proposal's decision follows a
 * replaced record id. REPEATS: drop the log's unique record id, so that
 * the forged log may repeat one (the node then takes no more acts). The
 * log and its signed head verify; only what reads the records can tell.
 * Return 0 or -1. */
typedef int (*util_forge_fn)(void *ctx, uint64_t seq, const uint8_t prev[CN_HASH_BYTES],
                             uint8_t **env, size_t *len);
int util_log_forge(tnode_t *n, uint64_t from, int repeats, util_forge_fn fn, void *ctx);

#endif
