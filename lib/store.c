/* store.c: SQLite behind one module. See store.h for the contract. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "vfs.h"

/* Schema, one entry per version: applying entry i moves user_version from i
 * to i + 1. Never edit a released entry; append a new one. */
static const char *const schema_steps[CN_STORE_SCHEMA_VERSION] = {
  "CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
  "CREATE TABLE log(seq INTEGER PRIMARY KEY, prev BLOB NOT NULL, record_id BLOB NOT NULL UNIQUE,"
  " received INTEGER NOT NULL, hash BLOB NOT NULL, kind TEXT NOT NULL, signer BLOB NOT NULL,"
  " envelope BLOB NOT NULL);"
  "CREATE TABLE keys(key BLOB PRIMARY KEY, name TEXT NOT NULL DEFAULT '',"
  " groups TEXT NOT NULL DEFAULT '', member INTEGER NOT NULL DEFAULT 0,"
  " clerk INTEGER NOT NULL DEFAULT 0, convener INTEGER NOT NULL DEFAULT 0,"
  " since INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX keys_member ON keys(member);"
  "CREATE TABLE proposals(id BLOB PRIMARY KEY, seq INTEGER NOT NULL, author BLOB NOT NULL,"
  " opens INTEGER NOT NULL, closes INTEGER NOT NULL, closed INTEGER NOT NULL DEFAULT 0,"
  " body BLOB NOT NULL, decision BLOB);"
  "CREATE INDEX proposals_due ON proposals(closed, closes);"
  "CREATE TABLE ballots(proposal BLOB NOT NULL, member BLOB NOT NULL, seq INTEGER NOT NULL,"
  " choices TEXT NOT NULL, paper INTEGER NOT NULL, PRIMARY KEY(proposal, member));",
  /* 2: delegates, mandates, recall */
  "CREATE TABLE volunteers(proposal BLOB NOT NULL, member BLOB NOT NULL, seq INTEGER NOT NULL,"
  " PRIMARY KEY(proposal, member));"
  "CREATE TABLE credentials(id BLOB PRIMARY KEY, seq INTEGER NOT NULL, delegate BLOB NOT NULL,"
  " parent BLOB NOT NULL, term_start INTEGER NOT NULL, term_end INTEGER NOT NULL,"
  " selection BLOB NOT NULL, term INTEGER NOT NULL, recall BLOB);"
  "CREATE INDEX credentials_delegate ON credentials(delegate, parent, term_end);"
  "CREATE TABLE recall_votes(credential BLOB NOT NULL, member BLOB NOT NULL, seq INTEGER NOT NULL,"
  " PRIMARY KEY(credential, member));"
  "CREATE TABLE mandates(id BLOB PRIMARY KEY, seq INTEGER NOT NULL, credential BLOB NOT NULL,"
  " delivered INTEGER NOT NULL DEFAULT 0, envelope BLOB NOT NULL);",
  /* 3: federation */
  "CREATE TABLE outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, record_id BLOB NOT NULL,"
  " kind TEXT NOT NULL, envelope BLOB NOT NULL);"
  "CREATE TABLE outbox_dead(id INTEGER PRIMARY KEY, record_id BLOB NOT NULL, kind TEXT NOT NULL,"
  " envelope BLOB NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL);"
  "CREATE TABLE child_roll(child BLOB NOT NULL, member BLOB NOT NULL, PRIMARY KEY(child, member));"
  "CREATE TABLE child_weights(child BLOB PRIMARY KEY, roll INTEGER NOT NULL);"
  "CREATE TABLE foreign_decisions(child BLOB NOT NULL, proposal BLOB NOT NULL,"
  " passed INTEGER NOT NULL, PRIMARY KEY(child, proposal));"
  "CREATE TABLE parent_proposals(id BLOB PRIMARY KEY, seq INTEGER NOT NULL, body BLOB NOT NULL,"
  " decision BLOB);"
  "ALTER TABLE credentials ADD COLUMN issuer BLOB;"
  "ALTER TABLE credentials ADD COLUMN derived_from BLOB;"
  "CREATE INDEX credentials_derived ON credentials(derived_from);"
  "ALTER TABLE ballots ADD COLUMN weight INTEGER NOT NULL DEFAULT 1;"
  "ALTER TABLE ballots ADD COLUMN via BLOB;",
  /* 4: participatory budgeting */
  "CREATE TABLE rounds(id BLOB PRIMARY KEY, seq INTEGER NOT NULL, owned INTEGER NOT NULL,"
  " opens INTEGER NOT NULL, closes INTEGER NOT NULL, body BLOB NOT NULL,"
  " mandated INTEGER NOT NULL DEFAULT 0, allocated INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE budget_ballots(round BLOB NOT NULL, member BLOB NOT NULL, seq INTEGER NOT NULL,"
  " projects TEXT NOT NULL, PRIMARY KEY(round, member));"
  "CREATE TABLE budget_profiles(round BLOB NOT NULL, child BLOB NOT NULL, body BLOB NOT NULL,"
  " PRIMARY KEY(round, child));",
  /* 5: projects proposed through mandates */
  "ALTER TABLE rounds ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE rounds ADD COLUMN projects BLOB;"
  "CREATE TABLE round_proposals(round BLOB NOT NULL, id TEXT NOT NULL, child BLOB NOT NULL,"
  " seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY(round, id));",
  /* 6: child councils are admitted as such */
  "ALTER TABLE keys ADD COLUMN council INTEGER NOT NULL DEFAULT 0;",
  /* 7: a running count of recall votes, so a petition is not quadratic */
  "ALTER TABLE credentials ADD COLUMN votes INTEGER NOT NULL DEFAULT 0;"
  "UPDATE credentials SET votes = (SELECT count(*) FROM recall_votes r WHERE r.credential = credentials.id);",
  /* 8: a round's envelopes as signed, for members to check what they vote on;
   * its Pabulib text as it stood when the round closed here */
  "ALTER TABLE rounds ADD COLUMN envelope BLOB;"
  "ALTER TABLE rounds ADD COLUMN projects_envelope BLOB;"
  "ALTER TABLE rounds ADD COLUMN export BLOB;"
  "CREATE INDEX child_roll_member ON child_roll(member);",
  /* 9: a child's budget mandate may come in parts, one record each; rows
   * kept from before are whole mandates (part 0 of 1) of unknown time (0),
   * which any later mandate of the child replaces, as it did before */
  "CREATE TABLE budget_profile_parts(round BLOB NOT NULL, child BLOB NOT NULL,"
  " part INTEGER NOT NULL, parts INTEGER NOT NULL, created INTEGER NOT NULL,"
  " voters INTEGER NOT NULL, counted INTEGER NOT NULL, body BLOB NOT NULL,"
  " PRIMARY KEY(round, child, part));"
  "INSERT INTO budget_profile_parts(round, child, part, parts, created, voters, counted, body)"
  " SELECT round, child, 0, 1, 0, 0, 0, body FROM budget_profiles;"
  "DROP TABLE budget_profiles;",
  /* 10: the digest that ties the parts of one mandate together */
  "ALTER TABLE budget_profile_parts ADD COLUMN digest BLOB NOT NULL DEFAULT x'';",
  /* 11: a child's newest whole mandate stays while a newer one comes in
   * parts, so two mandates of a child may hold the same part number */
  "CREATE TABLE budget_profile_parts_11(round BLOB NOT NULL, child BLOB NOT NULL,"
  " part INTEGER NOT NULL, parts INTEGER NOT NULL, created INTEGER NOT NULL,"
  " voters INTEGER NOT NULL, counted INTEGER NOT NULL, body BLOB NOT NULL,"
  " digest BLOB NOT NULL DEFAULT x'', PRIMARY KEY(round, child, created, part));"
  "INSERT INTO budget_profile_parts_11(round, child, part, parts, created, voters, counted, body,"
  " digest) SELECT round, child, part, parts, created, voters, counted, body, digest"
  " FROM budget_profile_parts;"
  "DROP TABLE budget_profile_parts;"
  "ALTER TABLE budget_profile_parts_11 RENAME TO budget_profile_parts;",
  /* 12: a followed round's depth below its owner, which sets how long the
   * node waits for its child councils' mandates. Rows kept from before
   * are 0: unknown (budget_grace takes a followed one as depth 2) */
  "ALTER TABLE rounds ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;",
};

enum stmt_id {
  ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
  ST_META_GET, ST_META_SET,
  ST_LOG_HEAD, ST_LOG_APPEND, ST_LOG_FIND, ST_LOG_SCAN, ST_LOG_KIND,
  ST_KEY_GET, ST_KEY_PUT, ST_KEY_SCAN, ST_ROLL_COUNT, ST_CONVENER_COUNT,
  ST_PROP_PUT, ST_PROP_GET, ST_PROP_SCAN, ST_PROP_DUE, ST_PROP_DECIDE, ST_PROP_GET_LIGHT,
  ST_BALLOT_GET, ST_BALLOT_PUT, ST_BALLOT_ADD, ST_BALLOT_SCAN,
  ST_VOL_PUT, ST_VOL_SCAN, ST_VOL_COUNCIL,
  ST_CRED_PUT, ST_CRED_GET, ST_CRED_LATEST, ST_CRED_RECALL, ST_CRED_SCAN,
  ST_RVOTE_PUT, ST_RVOTE_BUMP, ST_RVOTE_MEMBERS,
  ST_MAND_PUT, ST_MAND_GET, ST_MAND_DELIVER, ST_MAND_SCAN,
  ST_CRED_DERIVED, ST_RVOTE_CHILD, ST_CRED_OF,
  ST_OUT_PUT, ST_OUT_FIRST, ST_OUT_DELETE, ST_OUT_BURY, ST_OUT_COUNT, ST_OUT_DEAD_SCAN,
  ST_VOL_COUNT, ST_OUT_RESEND, ST_OUT_LAST, ST_OUT_ROTATE, ST_OUT_ROTATE_DELETE, ST_OUT_DEAD_DELETE,
  ST_CROLL_ADD, ST_CROLL_DEL, ST_CROLL_HAS, ST_CROLL_ELSEWHERE, ST_CROLL_COUNT, ST_CROLL_TOTAL,
  ST_CWEIGHT_PUT, ST_CWEIGHT_GET, ST_REPRESENTED,
  ST_ROUND_PUT, ST_ROUND_GET, ST_ROUND_SCAN, ST_ROUND_DONE, ST_ROUND_DEPTH,
  ST_BBALLOT_PUT, ST_BBALLOT_SCAN, ST_PROFILE_PUT, ST_PROFILE_SCAN, ST_PROFILE_COUNTS,
  ST_PROFILE_GET, ST_PROFILE_HAS, ST_PROFILE_PRUNE,
  ST_ROUND_LIST, ST_ROUND_EXPORT, ST_RPROP_PUT, ST_RPROP_SCAN,
  ST_FDEC_PUT, ST_FDEC_GET,
  ST_PPROP_PUT, ST_PPROP_DECIDE, ST_PPROP_SCAN, ST_PPROP_FIND,
  ST_COUNT
};

#define PROP_COLS "p.id, p.seq, p.author, p.opens, p.closes, p.closed, p.body, p.decision," \
  " (SELECT count(*) FROM ballots b WHERE b.proposal = p.id)"

#define CRED_COLS "c.id, c.seq, c.delegate, c.parent, c.term_start, c.term_end, c.selection," \
  " c.term, c.recall, c.votes, c.issuer, c.derived_from"

/* For each child with parts of a budget mandate in budget_profile_parts
 * WHERE: the time (created) of its newest mandate, and of its newest whole
 * one (every part there; NULL if none). */
#define PROFILE_TIMES(where) "SELECT child, max(created) AS newest," \
  " max(CASE WHEN n = parts THEN created END) AS whole FROM (SELECT child, created," \
  " count(*) AS n, max(parts) AS parts FROM budget_profile_parts WHERE " where \
  " GROUP BY child, created) GROUP BY child"
#define PROFILE_OF_CHILD "round = :round AND child = :child"

/* Credential C comes from a child council and may still be used at :now:
 * not recalled, term not over (as cn_store_credential_of()). */
#define CHILD_LIVE(c) " " c ".issuer IS NOT NULL AND " c ".recall IS NULL AND " c ".term_end > :now"

#define ROUND_COLS "id, seq, owned, opens, closes, body, mandated, allocated, listed, projects," \
                   " envelope, projects_envelope, export, depth"

static const char *const stmt_sql[ST_COUNT] = {
  [ST_BEGIN] = "BEGIN IMMEDIATE",
  [ST_COMMIT] = "COMMIT",
  [ST_ROLLBACK] = "ROLLBACK",
  [ST_SAVEPOINT] = "SAVEPOINT rec",
  [ST_RELEASE] = "RELEASE rec",
  [ST_ROLLBACK_TO] = "ROLLBACK TO rec",
  [ST_META_GET] = "SELECT v FROM meta WHERE k = :k",
  [ST_META_SET] = "INSERT OR REPLACE INTO meta(k, v) VALUES(:k, :v)",
  [ST_LOG_HEAD] = "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1",
  /* a taken record id writes nothing; any other conflict is an error */
  [ST_LOG_APPEND] = "INSERT INTO log(seq, prev, record_id, received, hash, kind, signer, envelope)"
                    " VALUES(:seq, :prev, :id, :received, :hash, :kind, :signer, :env)"
                    " ON CONFLICT(record_id) DO NOTHING",
  [ST_LOG_FIND] = "SELECT seq, prev, record_id, received, hash, kind, envelope FROM log"
                  " WHERE record_id = :id",
  [ST_LOG_KIND] = "SELECT seq, prev, record_id, received, hash, kind, envelope FROM log"
                  " WHERE kind = :kind ORDER BY seq",
  [ST_LOG_SCAN] = "SELECT seq, prev, record_id, received, hash, kind, envelope FROM log"
                  " WHERE seq > :after ORDER BY seq LIMIT :limit",
  [ST_KEY_GET] = "SELECT key, name, groups, member, clerk, convener, since, council FROM keys"
                 " WHERE key = :key",
  [ST_KEY_PUT] = "INSERT OR REPLACE INTO keys(key, name, groups, member, clerk, convener, since, council)"
                 " VALUES(:key, :name, :groups, :member, :clerk, :convener, :since, :council)",
  [ST_KEY_SCAN] = "SELECT key, name, groups, member, clerk, convener, since, council FROM keys"
                  " ORDER BY since, key",
  [ST_ROLL_COUNT] = "SELECT count(*) FROM keys WHERE member = 1",
  [ST_CONVENER_COUNT] = "SELECT count(*) FROM keys WHERE convener = 1",
  [ST_PROP_PUT] = "INSERT INTO proposals(id, seq, author, opens, closes, body)"
                  " VALUES(:id, :seq, :author, :opens, :closes, :body)",
  [ST_PROP_GET] = "SELECT " PROP_COLS " FROM proposals p WHERE p.id = :id",
  [ST_PROP_GET_LIGHT] = "SELECT p.id, p.seq, p.author, p.opens, p.closes, p.closed, p.body, p.decision, 0"
                        " FROM proposals p WHERE p.id = :id",
  [ST_PROP_SCAN] = "SELECT " PROP_COLS " FROM proposals p ORDER BY p.seq",
  [ST_PROP_DUE] = "SELECT " PROP_COLS " FROM proposals p WHERE p.closed = 0 AND p.closes <= :now"
                  " ORDER BY p.closes, p.seq",
  [ST_PROP_DECIDE] = "UPDATE proposals SET closed = 1, decision = :decision WHERE id = :id",
  [ST_BALLOT_GET] = "SELECT b.member, b.seq, b.choices, b.paper, k.groups, b.weight, b.via FROM ballots b"
                    " JOIN keys k ON k.key = b.member WHERE b.proposal = :proposal AND b.member = :member",
  [ST_BALLOT_PUT] = "INSERT OR REPLACE INTO ballots(proposal, member, seq, choices, paper, weight, via)"
                    " VALUES(:proposal, :member, :seq, :choices, :paper, :weight, :via)",
  [ST_BALLOT_ADD] = "INSERT INTO ballots(proposal, member, seq, choices, paper, weight, via)"
                    " VALUES(:proposal, :member, :seq, :choices, :paper, :weight, :via)"
                    " ON CONFLICT(proposal, member) DO NOTHING",
  [ST_BALLOT_SCAN] = "SELECT b.member, b.seq, b.choices, b.paper, k.groups, b.weight, b.via FROM ballots b"
                     " JOIN keys k ON k.key = b.member WHERE b.proposal = :proposal AND k.member = 1"
                     " ORDER BY b.seq",
  [ST_VOL_PUT] = "INSERT OR IGNORE INTO volunteers(proposal, member, seq) VALUES(:proposal, :member, :seq)",
  /* A child council's delegate counts unless each council they hold a live
   * credential from is held by an earlier volunteer off the roll too: a
   * child may issue a credential to anyone, and one given to another
   * council's delegate must not push them out. ST_VOL_COUNCIL asks the same
   * of the latest volunteer when they volunteer: who is refused then is
   * who would be passed over at the close, had nothing changed. */
  [ST_VOL_SCAN] = "SELECT v.member, v.seq, COALESCE(k.groups, '') FROM volunteers v"
                  " LEFT JOIN keys k ON k.key = v.member WHERE v.proposal = :proposal"
                  " AND (k.member = 1 OR EXISTS (SELECT 1 FROM credentials cv WHERE"
                  " cv.delegate = v.member AND" CHILD_LIVE("cv")
                  " AND NOT EXISTS (SELECT 1 FROM volunteers w"
                  " JOIN credentials cw ON cw.delegate = w.member AND cw.issuer = cv.issuer AND"
                  CHILD_LIVE("cw") " LEFT JOIN keys kw ON kw.key = w.member"
                  " WHERE w.proposal = v.proposal AND w.seq < v.seq"
                  " AND COALESCE(kw.member, 0) = 0)))"
                  " ORDER BY v.member",
  /* those who could be drawn now: members, and holders of a live child
   * credential (a recalled delegate's row does not take a place) */
  [ST_VOL_COUNT] = "SELECT count(*) FROM volunteers v LEFT JOIN keys k ON k.key = v.member"
                   " WHERE v.proposal = :proposal AND (k.member = 1 OR EXISTS (SELECT 1 FROM"
                   " credentials c WHERE c.delegate = v.member AND" CHILD_LIVE("c") "))",
  [ST_VOL_COUNCIL] = "SELECT cv.issuer FROM credentials cv WHERE cv.delegate = :member AND"
                     CHILD_LIVE("cv") " AND NOT EXISTS (SELECT 1 FROM credentials cx"
                     " WHERE cx.delegate = :member AND" CHILD_LIVE("cx")
                     " AND NOT EXISTS (SELECT 1 FROM volunteers w"
                     " JOIN credentials cw ON cw.delegate = w.member AND cw.issuer = cx.issuer AND"
                     CHILD_LIVE("cw") " LEFT JOIN keys kw ON kw.key = w.member"
                     " WHERE w.proposal = :proposal AND w.member != :member"
                     " AND COALESCE(kw.member, 0) = 0)) LIMIT 1",
  [ST_CRED_PUT] = "INSERT INTO credentials(id, seq, delegate, parent, term_start, term_end, selection,"
                  " term, issuer, derived_from) VALUES(:id, :seq, :delegate, :parent, :term_start,"
                  " :term_end, :selection, :term, :issuer, :derived_from)",
  [ST_CRED_DERIVED] = "SELECT " CRED_COLS " FROM credentials c WHERE c.derived_from = :from"
                      " AND c.recall IS NULL ORDER BY c.seq",
  [ST_RVOTE_CHILD] = "SELECT count(*) FROM recall_votes r JOIN child_roll c ON c.member = r.member"
                     " AND c.child = :child WHERE r.credential = :credential",
  [ST_CRED_OF] = "SELECT " CRED_COLS " FROM credentials c WHERE c.delegate = :delegate"
                 " AND c.recall IS NULL AND c.issuer IS NOT NULL AND c.term_end > :now"
                 " ORDER BY c.term_end DESC LIMIT 1",
  [ST_OUT_PUT] = "INSERT INTO outbox(record_id, kind, envelope) VALUES(:id, :kind, :env)",
  [ST_OUT_FIRST] = "SELECT id, envelope FROM outbox ORDER BY id LIMIT 1",
  [ST_OUT_DELETE] = "DELETE FROM outbox WHERE id = :id",
  [ST_OUT_BURY] = "INSERT INTO outbox_dead(id, record_id, kind, envelope, error, at)"
                  " SELECT id, record_id, kind, envelope, :why, :at FROM outbox WHERE id = :id",
  [ST_OUT_COUNT] = "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM outbox_dead)",
  [ST_OUT_RESEND] = "INSERT INTO outbox(record_id, kind, envelope)"
                    " SELECT record_id, kind, envelope FROM outbox_dead WHERE id = :id",
  [ST_OUT_LAST] = "SELECT COALESCE(max(id), 0) FROM outbox",
  [ST_OUT_ROTATE] = "INSERT INTO outbox(record_id, kind, envelope)"
                    " SELECT record_id, kind, envelope FROM outbox WHERE id <= :last ORDER BY id",
  [ST_OUT_ROTATE_DELETE] = "DELETE FROM outbox WHERE id <= :last",
  [ST_OUT_DEAD_DELETE] = "DELETE FROM outbox_dead WHERE id = :id",
  [ST_OUT_DEAD_SCAN] = "SELECT id, record_id, kind, error, at FROM outbox_dead"
                       " ORDER BY id DESC LIMIT :limit",
  [ST_CROLL_ADD] = "INSERT OR IGNORE INTO child_roll(child, member) VALUES(:child, :member)",
  [ST_CROLL_DEL] = "DELETE FROM child_roll WHERE child = :child AND member = :member",
  [ST_CROLL_HAS] = "SELECT 1 FROM child_roll WHERE child = :child AND member = :member",
  /* a removed child council's rows stay: only current member councils count */
  [ST_CROLL_ELSEWHERE] = "SELECT 1 FROM child_roll c JOIN keys k ON k.key = c.child"
                         " AND k.member = 1 AND k.council = 1"
                         " WHERE c.member = :member AND c.child != :child LIMIT 1",
  [ST_CROLL_COUNT] = "SELECT count(*) FROM child_roll WHERE child = :child",
  [ST_CROLL_TOTAL] = "SELECT count(*) FROM child_roll c JOIN keys k ON k.key = c.child AND k.member = 1",
  [ST_CWEIGHT_PUT] = "INSERT OR REPLACE INTO child_weights(child, roll) VALUES(:child, :roll)",
  [ST_CWEIGHT_GET] = "SELECT roll FROM child_weights WHERE child = :child",
  [ST_ROUND_PUT] = "INSERT OR IGNORE INTO rounds(id, seq, owned, opens, closes, body, envelope,"
                   " depth) VALUES(:id, :seq, :owned, :opens, :closes, :body, :env, :depth)",
  [ST_ROUND_GET] = "SELECT " ROUND_COLS " FROM rounds WHERE id = :id",
  [ST_ROUND_SCAN] = "SELECT " ROUND_COLS " FROM rounds ORDER BY seq",
  [ST_ROUND_DONE] = "UPDATE rounds SET mandated = max(mandated, :mandated),"
                    " allocated = max(allocated, :allocated) WHERE id = :id",
  [ST_ROUND_EXPORT] = "UPDATE rounds SET export = :export WHERE id = :id",
  [ST_ROUND_DEPTH] = "UPDATE rounds SET depth = :depth WHERE id = :id AND owned = 0 AND depth < :depth",
  [ST_ROUND_LIST] = "UPDATE rounds SET listed = 1, projects = :projects,"
                    " projects_envelope = :penv WHERE id = :id",
  [ST_RPROP_PUT] = "INSERT OR IGNORE INTO round_proposals(round, id, child, seq, body)"
                   " VALUES(:round, :pid, :child, :seq, :body)",
  [ST_RPROP_SCAN] = "SELECT body FROM round_proposals WHERE round = :round ORDER BY seq, id",
  [ST_BBALLOT_PUT] = "INSERT OR IGNORE INTO budget_ballots(round, member, seq, projects)"
                     " VALUES(:round, :member, :seq, :projects)",
  [ST_BBALLOT_SCAN] = "SELECT b.projects, count(*) FROM budget_ballots b JOIN keys k ON k.key = b.member"
                      " AND k.member = 1 WHERE b.round = :round GROUP BY b.projects ORDER BY b.projects",
  [ST_PROFILE_PUT] = "INSERT OR IGNORE INTO budget_profile_parts(round, child, part, parts, created,"
                     " voters, counted, body, digest) VALUES(:round, :child, :part, :parts, :created,"
                     " :voters, :counted, :body, :digest)",
  /* Of a child's mandates, only its newest whole one counts: a newer one
   * with parts missing does not yet, older ones no longer (and are gone
   * once ST_PROFILE_PRUNE has run, but a child counts once either way). */
  [ST_PROFILE_SCAN] = "SELECT p.body, p.child FROM budget_profile_parts p JOIN keys k ON k.key = p.child"
                      " AND k.member = 1 JOIN (" PROFILE_TIMES("round = :round") ") w"
                      " ON w.child = p.child AND w.whole = p.created WHERE p.round = :round"
                      " ORDER BY p.child, p.part",
  [ST_PROFILE_COUNTS] = "SELECT (SELECT count(*) FROM keys k JOIN child_weights w ON w.child = k.key"
                        " WHERE k.member = 1), (SELECT count(*) FROM (" PROFILE_TIMES("round = :round")
                        ") w JOIN keys k ON k.key = w.child AND k.member = 1 WHERE w.whole IS NOT NULL),"
                        " (SELECT count(*) FROM (" PROFILE_TIMES("round = :round") ") w JOIN keys k"
                        " ON k.key = w.child AND k.member = 1 WHERE w.whole IS NOT w.newest)",
  [ST_PROFILE_GET] = "SELECT created, max(parts), max(voters), count(*), sum(counted), min(digest)"
                     " FROM budget_profile_parts WHERE round = :round AND child = :child"
                     " GROUP BY created ORDER BY created DESC LIMIT 1",
  [ST_PROFILE_HAS] = "SELECT 1 FROM budget_profile_parts WHERE round = :round AND child = :child"
                     " AND created = :created AND part = :part",
  /* Keep of the child's mandates its newest whole one and its newest one. */
  [ST_PROFILE_PRUNE] = "DELETE FROM budget_profile_parts WHERE round = :round AND child = :child"
                       " AND created NOT IN (SELECT newest FROM (" PROFILE_TIMES(PROFILE_OF_CHILD) ")"
                       " UNION ALL SELECT whole FROM (" PROFILE_TIMES(PROFILE_OF_CHILD) ")"
                       " WHERE whole IS NOT NULL)",
  [ST_REPRESENTED] = "SELECT COALESCE(sum(COALESCE(w.roll, 1)), 0) FROM keys k"
                     " LEFT JOIN child_weights w ON w.child = k.key WHERE k.member = 1",
  [ST_FDEC_PUT] = "INSERT OR REPLACE INTO foreign_decisions(child, proposal, passed)"
                  " VALUES(:child, :proposal, :passed)",
  [ST_FDEC_GET] = "SELECT passed FROM foreign_decisions WHERE child = :child AND proposal = :proposal",
  [ST_PPROP_PUT] = "INSERT OR IGNORE INTO parent_proposals(id, seq, body) VALUES(:id, :seq, :body)",
  [ST_PPROP_DECIDE] = "UPDATE parent_proposals SET decision = :decision WHERE id = :id",
  [ST_PPROP_SCAN] = "SELECT id, seq, body, decision FROM parent_proposals ORDER BY seq",
  [ST_PPROP_FIND] = "SELECT id, seq, body, decision FROM parent_proposals WHERE id = :id",
  [ST_CRED_GET] = "SELECT " CRED_COLS " FROM credentials c WHERE c.id = :id",
  [ST_CRED_LATEST] = "SELECT " CRED_COLS " FROM credentials c WHERE c.delegate = :delegate"
                     " AND c.parent = :parent ORDER BY c.term_end DESC, c.seq DESC LIMIT 1",
  [ST_CRED_RECALL] = "UPDATE credentials SET recall = :recall WHERE id = :id",
  [ST_CRED_SCAN] = "SELECT " CRED_COLS " FROM credentials c ORDER BY c.seq",
  [ST_RVOTE_PUT] = "INSERT OR IGNORE INTO recall_votes(credential, member, seq) VALUES(:credential, :member, :seq)",
  [ST_RVOTE_BUMP] = "UPDATE credentials SET votes = votes + 1 WHERE id = :credential",
  [ST_RVOTE_MEMBERS] = "SELECT count(*) FROM recall_votes r JOIN keys k ON k.key = r.member"
                       " WHERE r.credential = :credential AND k.member = 1",
  [ST_MAND_PUT] = "INSERT INTO mandates(id, seq, credential, envelope) VALUES(:id, :seq, :credential, :env)",
  [ST_MAND_GET] = "SELECT id, seq, credential, delivered, envelope FROM mandates WHERE id = :id",
  [ST_MAND_DELIVER] = "UPDATE mandates SET delivered = 1 WHERE id = :id",
  [ST_MAND_SCAN] = "SELECT id, seq, credential, delivered, envelope FROM mandates ORDER BY seq",
};

struct cn_store_t {
  sqlite3 *db;
  sqlite3_stmt *stmt[ST_COUNT];
  int in_tx;
  int tx_lost;              /* SQLite ended the transaction on its own: see
                             * store_tx_lost() */
  int wal_fd;               /* our own descriptor of the WAL, or -1 (FULL) */
  sqlite3 *ckpt_db;         /* second connection for checkpoints (serialized
                             * mode: cn_store_checkpoint() runs on any thread) */
  int wal_frames;           /* frames in the WAL after the last commit */
  int sync_failed;          /* an fdatasync failed: nothing is durable any more */
  pthread_mutex_t sync_mu;  /* one fdatasync of wal_fd at a time (cn_store_sync) */
  /* Copies behind the pointers that single-row getters hand out, so their
   * statements can be reset (and read locks dropped) before returning. */
  char *copy[8];
};

/* Replace copy slot I with a copy of N bytes at P; return it or NULL. */
static void *store_keep(cn_store_t *s, int i, const void *p, size_t n)
{
  char *c = malloc(n + 1);
  if (!c)
    return NULL;
  if (n)
    memcpy(c, p, n);
  c[n] = 0;
  free(s->copy[i]);
  s->copy[i] = c;
  return c;
}

static void store_log_error(cn_store_t *s, const char *what)
{
  fprintf(stderr, "councilnet: store: %s: %s\n", what, sqlite3_errmsg(s->db));
}

const char *cn_store_errmsg(cn_store_t *s)
{
  return s && s->db ? sqlite3_errmsg(s->db) : "no database";
}

/* 1 if the transaction the store opened is gone. On an I/O error,
 * SQLITE_FULL, NOMEM or an interrupt SQLite may roll back the whole
 * transaction, not just the failed statement, and go back to autocommit
 * mode while the caller still holds a batch open. From then on each write
 * or SAVEPOINT would run as a transaction of its own, committed at once and
 * unsynced, on top of a batch that is lost: log entries chained to seqs the
 * database never kept. So the store refuses them until the caller ends the
 * transaction (commit fails, rollback succeeds). The flag is sticky so the
 * refusal does not rest on SQLite staying in autocommit mode: any statement
 * that began a transaction again would hide the loss. */
static int store_tx_lost(cn_store_t *s)
{
  if (s->in_tx && !s->tx_lost && sqlite3_get_autocommit(s->db)) {
    fprintf(stderr, "councilnet: store: SQLite rolled the whole transaction back; "
            "refusing writes until it is ended\n");
    s->tx_lost = 1;
  }
  return s->tx_lost;
}

/* 1 if statement ID may change the database or the transaction state:
 * what a lost transaction must not run. Transaction control counts as
 * read-only for sqlite3_stmt_readonly(), so it is named here; ROLLBACK is
 * what ends a lost transaction, and cn_store_rollback() skips it when SQLite
 * has no transaction left. */
static int store_stmt_writes(cn_store_t *s, enum stmt_id id)
{
  switch (id) {
  case ST_ROLLBACK:
    return 0;
  case ST_BEGIN: case ST_COMMIT: case ST_SAVEPOINT: case ST_RELEASE: case ST_ROLLBACK_TO:
    return 1;
  default:
    return !sqlite3_stmt_readonly(s->stmt[id]);
  }
}

/* Return the cached statement ID, prepared on first use and reset; NULL on
 * error, or for a writing statement while the transaction is lost. Every
 * statement is taken from here right before it is stepped, so this is the
 * one place that keeps a lost transaction from writing in autocommit mode;
 * reads go on (they see what is committed, which is all there is). */
static sqlite3_stmt *store_stmt(cn_store_t *s, enum stmt_id id)
{
  if (!s->stmt[id]) {
    if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &s->stmt[id], NULL) != SQLITE_OK) {
      store_log_error(s, stmt_sql[id]);
      return NULL;
    }
  }
  if (store_tx_lost(s) && store_stmt_writes(s, id)) {
    fprintf(stderr, "councilnet: store: %s: refused, the transaction was rolled back\n",
            stmt_sql[id]);
    return NULL;
  }
  sqlite3_reset(s->stmt[id]);
  sqlite3_clear_bindings(s->stmt[id]);
  return s->stmt[id];
}

static int bind_index(sqlite3_stmt *st, const char *name)
{
  int i = sqlite3_bind_parameter_index(st, name);
  if (i == 0)
    fprintf(stderr, "councilnet: store: no parameter %s\n", name);
  return i;
}

static int bind_blob(sqlite3_stmt *st, const char *name, const void *v, size_t len)
{
  int i = bind_index(st, name);
  return i && sqlite3_bind_blob(st, i, v, (int)len, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

static int bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
  int i = bind_index(st, name);
  return i && sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

static int bind_int(sqlite3_stmt *st, const char *name, uint64_t v)
{
  int i;
  if (v > (uint64_t)INT64_MAX)
    return -1;   /* SQLite integers are signed: refuse rather than wrap */
  i = bind_index(st, name);
  return i && sqlite3_bind_int64(st, i, (sqlite3_int64)v) == SQLITE_OK ? 0 : -1;
}

/* Step a statement that returns no rows. */
static int store_exec(cn_store_t *s, sqlite3_stmt *st, const char *what)
{
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    store_log_error(s, what);
    store_tx_lost(s);       /* say so now, next to the error that caused it */
    return -1;
  }
  return 0;
}

/* Copy a fixed-size blob column; return -1 if it has another size. */
static int column_fixed(sqlite3_stmt *st, int col, uint8_t *out, size_t n)
{
  const void *p = sqlite3_column_blob(st, col);
  if ((size_t)sqlite3_column_bytes(st, col) != n || !p)
    return -1;
  memcpy(out, p, n);
  return 0;
}

static const char *column_text(sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  return t ? (const char *)t : "";
}

/* Read user_version with the prepared ST (a PRAGMA user_version). */
static int store_user_version(sqlite3_stmt *st, int *version)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *version = sqlite3_column_int(st, 0);
  sqlite3_reset(st);            /* a pending read would lock tables a step drops */
  return rc == SQLITE_ROW ? 0 : -1;
}

static int store_migrate(cn_store_t *s, char *err, size_t errlen)
{
  sqlite3_stmt *st = NULL;
  int version = 0, in_tx = 0, rc = -1;

  /* The read outside a transaction spares an up-to-date database the write
   * lock; it decides nothing. Each step reads the version again inside its
   * BEGIN IMMEDIATE: another process opening the same new database at the
   * same moment may have applied the step in between, and applying it
   * twice fails ("table meta already exists"). */
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
      store_user_version(st, &version) != 0)
    goto out;
  while (version != CN_STORE_SCHEMA_VERSION) {
    char pragma[64];
    if (version < 0 || version > CN_STORE_SCHEMA_VERSION) {
      snprintf(err, errlen, "database schema %d is %s this councild (%d)", version,
               version < 0 ? "not one of" : "newer than", CN_STORE_SCHEMA_VERSION);
      goto out;
    }
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      goto out;
    in_tx = 1;
    if (store_user_version(st, &version) != 0)
      goto out;
    if (version >= 0 && version < CN_STORE_SCHEMA_VERSION) {
      snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
      if (sqlite3_exec(s->db, schema_steps[version], NULL, NULL, NULL) != SQLITE_OK ||
          sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "schema step %d: %s", version + 1, sqlite3_errmsg(s->db));
        goto out;
      }
      version++;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      goto out;
    in_tx = 0;
  }
  rc = 0;
out:
  if (rc != 0 && !err[0])
    snprintf(err, errlen, "schema: %s", sqlite3_errmsg(s->db));
  if (in_tx)
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_finalize(st);
  return rc;
}

/* After each commit on the main connection: how big the WAL is now. This
 * replaces SQLite's auto-checkpoint, which would copy pages into the
 * database on the committing thread; cn_store_checkpoint() does instead. */
static int store_wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
  cn_store_t *s = ctx;
  (void)db;
  (void)name;
  __atomic_store_n(&s->wal_frames, frames, __ATOMIC_RELEASE);
  return SQLITE_OK;
}

/* Take over the WAL's fsync (see store.h). The -wal file exists once the
 * connection has read the database in WAL mode (the migration did), and
 * SQLite keeps that same file, reset in place, until the last connection
 * closes: fdatasync() on our descriptor flushes the frames any descriptor
 * wrote. If anything is off, stay on synchronous=FULL. */
static void store_open_wal(cn_store_t *s)
{
  /* The WAL SQLite writes, by SQLite's own name for it: when the database
   * path is a symlink, SQLite opens the WAL beside the link's target, and a
   * PATH-wal beside the link would be some other file (a stale one, left
   * where the database used to be): syncing that would make no commit
   * durable. The checkpoint connection opens the same resolved name. */
  const char *path = sqlite3_db_filename(s->db, "main");
  const char *wal = path && path[0] ? sqlite3_filename_wal(path) : NULL;
  struct stat a, b;
  int fd = -1;

  if (!wal || !wal[0])
    return;
  fd = open(wal, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &a) != 0 || stat(wal, &b) != 0 || a.st_ino != b.st_ino ||
      a.st_dev != b.st_dev ||
      sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
    if (fd >= 0)
      close(fd);
    fd = -1;
  }
  s->wal_fd = fd;
  /* Checkpoints move to cn_store_checkpoint(), on a connection of their own. */
  if (fd >= 0 &&
      sqlite3_open_v2(path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                      cn_vfs_name()) == SQLITE_OK &&
      /* a connection sees WAL mode once it has read the database */
      sqlite3_exec(s->ckpt_db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK) {
    sqlite3_busy_timeout(s->ckpt_db, 5000);
    sqlite3_wal_hook(s->db, store_wal_hook, s);
  } else {
    sqlite3_close(s->ckpt_db);
    s->ckpt_db = NULL;
  }
}

/* Put the database in WAL mode. On a database not yet in WAL mode this
 * takes an exclusive lock without calling the busy handler, so a second
 * process opening the same new database at the same moment (holding a read
 * lock) makes it fail at once with SQLITE_BUSY. Wait as the busy timeout
 * would (5 s) and try again; once the mode is WAL the pragma takes no lock. */
static int store_set_wal(cn_store_t *s)
{
  int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
  for (int waited = 0; rc == SQLITE_BUSY && waited < 5000; waited += 10) {
    sqlite3_sleep(10);
    rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
  }
  return rc == SQLITE_OK ? 0 : -1;
}

int cn_store_open(const char *path, cn_store_t **out, char *err, size_t errlen)
{
  cn_store_t *s = calloc(1, sizeof *s);
  int rc = -1;

  err[0] = 0;
  *out = NULL;
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->wal_fd = -1;
  if (pthread_mutex_init(&s->sync_mu, NULL) != 0) {
    snprintf(err, errlen, "cannot make a mutex");
    free(s);
    return -1;
  }
  /* cn_vfs_name(): the default VFS, with each commit's WAL frames written
   * in one call (vfs.h); NULL (the default VFS itself) if it is missing */
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                      SQLITE_OPEN_NOMUTEX, cn_vfs_name()) != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
    goto out;
  }
  sqlite3_busy_timeout(s->db, 5000);
  if (store_set_wal(s) != 0 ||
      sqlite3_exec(s->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL,
                   NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
    goto out;
  }
  if (store_migrate(s, err, errlen) != 0)
    goto out;
  store_open_wal(s);
  *out = s;
  s = NULL;
  rc = 0;
out:
  cn_store_free(s);
  return rc;
}

void cn_store_free(cn_store_t *s)
{
  if (!s)
    return;
  if (s->in_tx)
    cn_store_rollback(s);
  for (int i = 0; i < ST_COUNT; i++)
    sqlite3_finalize(s->stmt[i]);
  for (size_t i = 0; i < sizeof s->copy / sizeof s->copy[0]; i++)
    free(s->copy[i]);
  /* The last connection to close checkpoints: not after a failed sync, for
   * the reason in cn_store_checkpoint(). The WAL stays for recovery. */
  if (cn_store_sync_failed(s) && s->db) {
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    if (s->ckpt_db)
      sqlite3_db_config(s->ckpt_db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
  }
  sqlite3_close(s->ckpt_db);    /* first: the main connection, last to close, */
  sqlite3_close(s->db);         /* checkpoints and removes the WAL */
  if (s->wal_fd >= 0)
    close(s->wal_fd);
  pthread_mutex_destroy(&s->sync_mu);
  free(s);
}

int cn_store_begin(cn_store_t *s)
{
  sqlite3_stmt *st = store_stmt(s, ST_BEGIN);
  if (s->in_tx) {
    fprintf(stderr, "councilnet: store: BUG: nested transaction\n");
    return -1;
  }
  if (!st || store_exec(s, st, "begin") != 0)
    return -1;
  s->in_tx = 1;
  return 0;
}

int cn_store_commit_nosync(cn_store_t *s)
{
  /* A lost transaction has nothing to commit: store_stmt() refuses COMMIT
   * (in autocommit mode it would only fail less clearly), and the rollback
   * below ends the transaction, so the store is usable again. */
  sqlite3_stmt *st = store_stmt(s, ST_COMMIT);
  if (!st || store_exec(s, st, "commit") != 0) {
    cn_store_rollback(s);
    return -1;
  }
  s->in_tx = 0;
  /* A WAL write that failed where SQLite could not hear of it (vfs.h):
   * this commit may be missing from the file. As after a failed sync,
   * nothing is acknowledged and nothing checkpointed until a restart. */
  if (cn_vfs_failed(s->db)) {
    if (!cn_store_sync_failed(s))
      fprintf(stderr, "councilnet: store: a write to the WAL failed; "
              "no write will be acknowledged until restart\n");
    __atomic_store_n(&s->sync_failed, 1, __ATOMIC_RELEASE);
    return -1;
  }
  return 0;
}

int cn_store_sync(cn_store_t *s)
{
  int rc;

  if (!s || s->wal_fd < 0)
    return 0;
  /* Linux reports a lost writeback once per descriptor: after one failure
   * a later fdatasync may succeed although earlier pages never reached the
   * disk. So a failure stays: the node acknowledges nothing until it is
   * restarted (SQLite then recovers from what the disk holds). And two
   * calls at once (the sync thread, and the loop making reads durable)
   * would split one failure between them: the one told nothing would
   * acknowledge what the disk never got. So one at a time, and each looks
   * at the flag after the one before it has set it. */
  pthread_mutex_lock(&s->sync_mu);
  if (__atomic_load_n(&s->sync_failed, __ATOMIC_ACQUIRE)) {
    pthread_mutex_unlock(&s->sync_mu);
    return -1;
  }
  do
    rc = fdatasync(s->wal_fd);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    fprintf(stderr, "councilnet: store: fdatasync of the WAL failed: %s; "
            "no write will be acknowledged until restart\n", strerror(errno));
    __atomic_store_n(&s->sync_failed, 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&s->sync_mu);
  return rc != 0 ? -1 : 0;
}

int cn_store_checkpoint_due(cn_store_t *s)
{
  /* Never due once a sync failed (see cn_store_checkpoint()), so that no
   * caller keeps scheduling checkpoints that will not run. */
  return s && s->ckpt_db && !cn_store_sync_failed(s) &&
         __atomic_load_n(&s->wal_frames, __ATOMIC_ACQUIRE) >= CN_STORE_CHECKPOINT_FRAMES;
}

int cn_store_checkpoint(cn_store_t *s)
{
  int log = 0, done = 0;

  /* No checkpoint after a failed fdatasync. The kernel has dropped the
   * failed writeback and marked those WAL pages clean: the frames a
   * checkpoint reads may be what never reached the disk, or, once the pages
   * are evicted, stale data read back from it. Copied into the database
   * file and synced there, they would outlive the restart that is meant to
   * recover from what the disk really holds (the WAL's checksums reject
   * torn frames; the database file has none). A checkpoint already running
   * when the sync fails is not stopped: this only keeps new ones out. */
  if (cn_store_sync_failed(s))
    return -1;
  /* As SQLite's auto-checkpoint would, past a number of frames; PASSIVE never
   * waits for the writer, which goes on meanwhile. */
  if (!cn_store_checkpoint_due(s))
    return 0;
  __atomic_store_n(&s->wal_frames, 0, __ATOMIC_RELEASE);
  if (sqlite3_wal_checkpoint_v2(s->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done) !=
      SQLITE_OK && sqlite3_errcode(s->ckpt_db) != SQLITE_BUSY) {
    fprintf(stderr, "councilnet: store: checkpoint: %s\n", sqlite3_errmsg(s->ckpt_db));
    return -1;
  }
  return 0;
}

int cn_store_sync_failed(cn_store_t *s)
{
  return s && __atomic_load_n(&s->sync_failed, __ATOMIC_ACQUIRE);
}

/* Commit and wait for the disk. A failed sync is a failed commit to the
 * caller: it may not acknowledge anything (the rows stay, since SQLite has
 * committed them, and a retry finds them). */
int cn_store_flush(cn_store_t *s)
{
  if (cn_store_sync(s) != 0)
    return -1;
  cn_store_checkpoint(s);   /* a failed copy only leaves the WAL longer */
  return 0;
}

int cn_store_commit(cn_store_t *s)
{
  if (cn_store_commit_nosync(s) != 0)
    return -1;
  return cn_store_flush(s);
}

void cn_store_rollback(cn_store_t *s)
{
  sqlite3_stmt *st;
  if (!s || !s->in_tx)
    return;
  s->in_tx = 0;
  s->tx_lost = 0;
  st = store_stmt(s, ST_ROLLBACK);
  if (st && sqlite3_get_autocommit(s->db) == 0)
    store_exec(s, st, "rollback");
}

int cn_store_in_transaction(cn_store_t *s)
{
  return s->in_tx;
}

int cn_store_savepoint(cn_store_t *s)
{
  sqlite3_stmt *st = store_stmt(s, ST_SAVEPOINT);
  return st && s->in_tx ? store_exec(s, st, "savepoint") : -1;
}

int cn_store_release(cn_store_t *s)
{
  /* Outside a transaction RELEASE would commit whatever SAVEPOINT began. */
  sqlite3_stmt *st = store_stmt(s, ST_RELEASE);
  return st && s->in_tx ? store_exec(s, st, "release") : -1;
}

int cn_store_rollback_to(cn_store_t *s)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROLLBACK_TO);
  if (!st || !s->in_tx || store_exec(s, st, "rollback to") != 0)
    return -1;
  return cn_store_release(s);
}

int cn_store_meta_get(cn_store_t *s, const char *k, uint8_t **v, size_t *len)
{
  sqlite3_stmt *st = store_stmt(s, ST_META_GET);
  int rc;

  if (!st || bind_text(st, ":k", k) != 0)
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(st);
    return 1;
  }
  if (rc != SQLITE_ROW) {
    store_log_error(s, "meta get");
    sqlite3_reset(st);
    return -1;
  }
  *len = (size_t)sqlite3_column_bytes(st, 0);
  *v = malloc(*len + 1);
  if (!*v) {
    sqlite3_reset(st);
    return -1;
  }
  if (*len)
    memcpy(*v, sqlite3_column_blob(st, 0), *len);
  (*v)[*len] = 0;
  sqlite3_reset(st);
  return 0;
}

int cn_store_meta_set(cn_store_t *s, const char *k, const void *v, size_t len)
{
  sqlite3_stmt *st = store_stmt(s, ST_META_SET);
  if (!st || bind_text(st, ":k", k) != 0 || bind_blob(st, ":v", len ? v : "", len) != 0)
    return -1;
  return store_exec(s, st, "meta set");
}

int cn_store_log_head(cn_store_t *s, uint64_t *seq, uint8_t hash[CN_HASH_BYTES])
{
  sqlite3_stmt *st = store_stmt(s, ST_LOG_HEAD);
  int rc;

  if (!st)
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    *seq = 0;
    memset(hash, 0, CN_HASH_BYTES);
    rc = 0;
  } else if (rc == SQLITE_ROW) {
    *seq = (uint64_t)sqlite3_column_int64(st, 0);
    rc = column_fixed(st, 1, hash, CN_HASH_BYTES);
  } else {
    store_log_error(s, "log head");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_log_append(cn_store_t *s, const cn_store_entry_t *e, const uint8_t signer[CN_PK_BYTES])
{
  sqlite3_stmt *st = store_stmt(s, ST_LOG_APPEND);
  if (!st || bind_int(st, ":seq", e->seq) || bind_blob(st, ":prev", e->prev, CN_HASH_BYTES) ||
      bind_blob(st, ":id", e->record_id, CN_HASH_BYTES) || bind_int(st, ":received", e->received) ||
      bind_blob(st, ":hash", e->hash, CN_HASH_BYTES) || bind_text(st, ":kind", e->kind) ||
      bind_blob(st, ":signer", signer, CN_PK_BYTES) ||
      bind_blob(st, ":env", e->envelope, e->envelope_len) || store_exec(s, st, "log append") != 0)
    return -1;
  return sqlite3_changes(s->db) > 0 ? 0 : 1;    /* 1: the record id is taken */
}

/* Read the log row at the cursor into E. */
static int log_row(sqlite3_stmt *st, cn_store_entry_t *e)
{
  e->seq = (uint64_t)sqlite3_column_int64(st, 0);
  if (column_fixed(st, 1, e->prev, CN_HASH_BYTES) || column_fixed(st, 2, e->record_id, CN_HASH_BYTES))
    return -1;
  e->received = (uint64_t)sqlite3_column_int64(st, 3);
  if (column_fixed(st, 4, e->hash, CN_HASH_BYTES))
    return -1;
  e->kind = column_text(st, 5);
  e->envelope = sqlite3_column_blob(st, 6);
  e->envelope_len = (size_t)sqlite3_column_bytes(st, 6);
  return 0;
}

/* Run the prepared query ST and call FN per row through ROW_FN. Return 0,
 * -1 on error; stops early (returning 0) when FN returns non-zero. */
#define SCAN_ROWS(s, st, what, rowtype, row_fn, fn, ctx, found)         \
  do {                                                                  \
    int step_;                                                          \
    while ((step_ = sqlite3_step(st)) == SQLITE_ROW) {                  \
      rowtype row_;                                                     \
      memset(&row_, 0, sizeof row_);                                    \
      (found) = 1;                                                      \
      if (row_fn(st, &row_) != 0) { rc = -1; goto out; }                \
      if ((fn)((ctx), &row_) != 0) break;                               \
    }                                                                   \
    if (step_ != SQLITE_ROW && step_ != SQLITE_DONE) {                  \
      store_log_error((s), (what)); rc = -1; goto out;                  \
    }                                                                   \
  } while (0)

int cn_store_log_find(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                      int (*fn)(void *ctx, const cn_store_entry_t *e), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_LOG_FIND);
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES))
    return -1;
  SCAN_ROWS(s, st, "log find", cn_store_entry_t, log_row, fn, ctx, found);
  rc = found ? 0 : 1;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_log_scan(cn_store_t *s, uint64_t after, uint64_t limit,
                      int (*fn)(void *ctx, const cn_store_entry_t *e), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_LOG_SCAN);
  int rc = 0, found = 0;

  if (!st || bind_int(st, ":after", after) || bind_int(st, ":limit", limit))
    return -1;
  SCAN_ROWS(s, st, "log scan", cn_store_entry_t, log_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_log_kind_scan(cn_store_t *s, const char *kind,
                           int (*fn)(void *ctx, const cn_store_entry_t *e), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_LOG_KIND);
  int rc = 0, found = 0;

  if (!st || bind_text(st, ":kind", kind))
    return -1;
  SCAN_ROWS(s, st, "log kind scan", cn_store_entry_t, log_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

static int key_row(sqlite3_stmt *st, cn_store_key_t *k)
{
  if (column_fixed(st, 0, k->key, CN_PK_BYTES))
    return -1;
  k->name = column_text(st, 1);
  k->groups = column_text(st, 2);
  k->member = sqlite3_column_int(st, 3);
  k->clerk = sqlite3_column_int(st, 4);
  k->convener = sqlite3_column_int(st, 5);
  k->since = (uint64_t)sqlite3_column_int64(st, 6);
  k->council = sqlite3_column_int(st, 7);
  return 0;
}

int cn_store_key_get(cn_store_t *s, const uint8_t key[CN_PK_BYTES], cn_store_key_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_KEY_GET);
  int rc;

  if (!st || bind_blob(st, ":key", key, CN_PK_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rc = key_row(st, out);
    if (rc == 0) {
      out->name = store_keep(s, 0, out->name, strlen(out->name));
      out->groups = store_keep(s, 1, out->groups, strlen(out->groups));
      if (!out->name || !out->groups)
        rc = -1;
    }
    sqlite3_reset(st);
    return rc;
  }
  sqlite3_reset(st);
  if (rc == SQLITE_DONE)
    return 1;
  store_log_error(s, "key get");
  return -1;
}

int cn_store_key_put(cn_store_t *s, const cn_store_key_t *k)
{
  sqlite3_stmt *st = store_stmt(s, ST_KEY_PUT);
  if (!st || bind_blob(st, ":key", k->key, CN_PK_BYTES) || bind_text(st, ":name", k->name) ||
      bind_text(st, ":groups", k->groups) || bind_int(st, ":member", (uint64_t)!!k->member) ||
      bind_int(st, ":clerk", (uint64_t)!!k->clerk) ||
      bind_int(st, ":convener", (uint64_t)!!k->convener) || bind_int(st, ":since", k->since) ||
      bind_int(st, ":council", (uint64_t)!!k->council))
    return -1;
  return store_exec(s, st, "key put");
}

int cn_store_key_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_key_t *k), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_KEY_SCAN);
  int rc = 0, found = 0;

  if (!st)
    return -1;
  SCAN_ROWS(s, st, "key scan", cn_store_key_t, key_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

static int store_count(cn_store_t *s, enum stmt_id id, uint64_t *n)
{
  sqlite3_stmt *st = store_stmt(s, id);
  int rc = -1;

  if (!st)
    return -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *n = (uint64_t)sqlite3_column_int64(st, 0);
    rc = 0;
  } else {
    store_log_error(s, "count");
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_roll_count(cn_store_t *s, uint64_t *n)
{
  return store_count(s, ST_ROLL_COUNT, n);
}

int cn_store_convener_count(cn_store_t *s, uint64_t *n)
{
  return store_count(s, ST_CONVENER_COUNT, n);
}

int cn_store_proposal_put(cn_store_t *s, const cn_store_proposal_t *p)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROP_PUT);
  if (!st || bind_blob(st, ":id", p->id, CN_HASH_BYTES) || bind_int(st, ":seq", p->seq) ||
      bind_blob(st, ":author", p->author, CN_PK_BYTES) || bind_int(st, ":opens", p->opens) ||
      bind_int(st, ":closes", p->closes) || bind_blob(st, ":body", p->body, p->body_len))
    return -1;
  return store_exec(s, st, "proposal put");
}

static int proposal_row(sqlite3_stmt *st, cn_store_proposal_t *p)
{
  if (column_fixed(st, 0, p->id, CN_HASH_BYTES) || column_fixed(st, 2, p->author, CN_PK_BYTES))
    return -1;
  p->seq = (uint64_t)sqlite3_column_int64(st, 1);
  p->opens = (uint64_t)sqlite3_column_int64(st, 3);
  p->closes = (uint64_t)sqlite3_column_int64(st, 4);
  p->closed = sqlite3_column_int(st, 5);
  p->body = sqlite3_column_blob(st, 6);
  p->body_len = (size_t)sqlite3_column_bytes(st, 6);
  p->has_decision = sqlite3_column_type(st, 7) == SQLITE_BLOB &&
                    column_fixed(st, 7, p->decision, CN_HASH_BYTES) == 0;
  p->ballots = (uint64_t)sqlite3_column_int64(st, 8);
  return 0;
}

static int proposal_get(cn_store_t *s, enum stmt_id which, const uint8_t id[CN_HASH_BYTES],
                        cn_store_proposal_t *out);

int cn_store_proposal_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_proposal_t *out)
{
  return proposal_get(s, ST_PROP_GET, id, out);
}

int cn_store_proposal_get_light(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_proposal_t *out)
{
  return proposal_get(s, ST_PROP_GET_LIGHT, id, out);
}

static int proposal_get(cn_store_t *s, enum stmt_id which, const uint8_t id[CN_HASH_BYTES],
                        cn_store_proposal_t *out)
{
  sqlite3_stmt *st = store_stmt(s, which);
  int rc;

  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    memset(out, 0, sizeof *out);
    rc = proposal_row(st, out);
    if (rc == 0) {
      out->body = store_keep(s, 2, out->body, out->body_len);
      if (!out->body)
        rc = -1;
    }
    sqlite3_reset(st);
    return rc;
  }
  sqlite3_reset(st);
  if (rc == SQLITE_DONE)
    return 1;
  store_log_error(s, "proposal get");
  return -1;
}

int cn_store_proposal_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_proposal_t *p), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROP_SCAN);
  int rc = 0, found = 0;

  if (!st)
    return -1;
  SCAN_ROWS(s, st, "proposal scan", cn_store_proposal_t, proposal_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_proposal_scan_due(cn_store_t *s, uint64_t now,
                               int (*fn)(void *ctx, const cn_store_proposal_t *p), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROP_DUE);
  int rc = 0, found = 0;

  if (!st || bind_int(st, ":now", now))
    return -1;
  SCAN_ROWS(s, st, "proposal due", cn_store_proposal_t, proposal_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_proposal_set_decision(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                   const uint8_t decision[CN_HASH_BYTES])
{
  sqlite3_stmt *st = store_stmt(s, ST_PROP_DECIDE);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) ||
      bind_blob(st, ":decision", decision, CN_HASH_BYTES))
    return -1;
  return store_exec(s, st, "proposal decide");
}

static int ballot_row(sqlite3_stmt *st, cn_store_ballot_t *b)
{
  if (column_fixed(st, 0, b->member, CN_PK_BYTES))
    return -1;
  b->seq = (uint64_t)sqlite3_column_int64(st, 1);
  b->choices = column_text(st, 2);
  b->paper = sqlite3_column_int(st, 3);
  b->groups = column_text(st, 4);
  b->weight = (uint64_t)sqlite3_column_int64(st, 5);
  b->has_via = sqlite3_column_type(st, 6) == SQLITE_BLOB &&
               column_fixed(st, 6, b->via, CN_HASH_BYTES) == 0;
  return 0;
}

int cn_store_ballot_get(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                        const uint8_t member[CN_PK_BYTES], cn_store_ballot_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_BALLOT_GET);
  int rc;

  if (!st || bind_blob(st, ":proposal", proposal, CN_HASH_BYTES) ||
      bind_blob(st, ":member", member, CN_PK_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rc = ballot_row(st, out);
    out->choices = out->groups = "";   /* not needed by callers; see header */
    sqlite3_reset(st);
    return rc;
  }
  sqlite3_reset(st);
  if (rc == SQLITE_DONE)
    return 1;
  store_log_error(s, "ballot get");
  return -1;
}

static int ballot_write(cn_store_t *s, enum stmt_id id, const uint8_t proposal[CN_HASH_BYTES],
                        const cn_store_ballot_t *b)
{
  sqlite3_stmt *st = store_stmt(s, id);
  if (!st || bind_blob(st, ":proposal", proposal, CN_HASH_BYTES) ||
      bind_blob(st, ":member", b->member, CN_PK_BYTES) || bind_int(st, ":seq", b->seq) ||
      bind_text(st, ":choices", b->choices) || bind_int(st, ":paper", (uint64_t)!!b->paper) ||
      bind_int(st, ":weight", b->weight ? b->weight : 1) ||
      (b->has_via && bind_blob(st, ":via", b->via, CN_HASH_BYTES)) ||
      store_exec(s, st, "ballot put") != 0)
    return -1;
  return sqlite3_changes(s->db) > 0 ? 0 : 1;
}

int cn_store_ballot_put(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], const cn_store_ballot_t *b)
{
  return ballot_write(s, ST_BALLOT_PUT, proposal, b) < 0 ? -1 : 0;
}

int cn_store_ballot_add(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], const cn_store_ballot_t *b)
{
  return ballot_write(s, ST_BALLOT_ADD, proposal, b);
}

int cn_store_ballot_scan(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                         int (*fn)(void *ctx, const cn_store_ballot_t *b), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_BALLOT_SCAN);
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":proposal", proposal, CN_HASH_BYTES))
    return -1;
  SCAN_ROWS(s, st, "ballot scan", cn_store_ballot_t, ballot_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

/* Step an INSERT OR IGNORE: 1 if a row was inserted, 0 if ignored, -1 on error. */
static int store_insert_new(cn_store_t *s, sqlite3_stmt *st, const char *what)
{
  if (store_exec(s, st, what) != 0)
    return -1;
  return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int cn_store_volunteer_put(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                           const uint8_t member[CN_PK_BYTES], uint64_t seq)
{
  sqlite3_stmt *st = store_stmt(s, ST_VOL_PUT);
  if (!st || bind_blob(st, ":proposal", proposal, CN_HASH_BYTES) ||
      bind_blob(st, ":member", member, CN_PK_BYTES) || bind_int(st, ":seq", seq))
    return -1;
  return store_insert_new(s, st, "volunteer put");
}

static int volunteer_row(sqlite3_stmt *st, cn_store_volunteer_t *v)
{
  if (column_fixed(st, 0, v->member, CN_PK_BYTES))
    return -1;
  v->seq = (uint64_t)sqlite3_column_int64(st, 1);
  v->groups = column_text(st, 2);
  return 0;
}

int cn_store_volunteer_scan(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], uint64_t now,
                            int (*fn)(void *ctx, const cn_store_volunteer_t *v), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_VOL_SCAN);
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":proposal", proposal, CN_HASH_BYTES) || bind_int(st, ":now", now))
    return -1;
  SCAN_ROWS(s, st, "volunteer scan", cn_store_volunteer_t, volunteer_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_volunteer_count(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], uint64_t now,
                             uint64_t *count)
{
  sqlite3_stmt *st = store_stmt(s, ST_VOL_COUNT);
  int rc;

  if (!st || bind_blob(st, ":proposal", proposal, CN_HASH_BYTES) || bind_int(st, ":now", now))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *count = (uint64_t)sqlite3_column_int64(st, 0);
    rc = 0;
  } else {
    store_log_error(s, "volunteer count");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_volunteer_same_council(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES],
                                    const uint8_t member[CN_PK_BYTES], uint64_t now,
                                    uint8_t council[CN_PK_BYTES])
{
  sqlite3_stmt *st = store_stmt(s, ST_VOL_COUNCIL);
  int rc;

  if (!st || bind_blob(st, ":proposal", proposal, CN_HASH_BYTES) ||
      bind_blob(st, ":member", member, CN_PK_BYTES) || bind_int(st, ":now", now))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rc = column_fixed(st, 0, council, CN_PK_BYTES) == 0 ? 0 : -1;
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "volunteer same council");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_credential_put(cn_store_t *s, const cn_store_credential_t *c)
{
  sqlite3_stmt *st = store_stmt(s, ST_CRED_PUT);
  if (!st || bind_blob(st, ":id", c->id, CN_HASH_BYTES) || bind_int(st, ":seq", c->seq) ||
      bind_blob(st, ":delegate", c->delegate, CN_PK_BYTES) ||
      bind_blob(st, ":parent", c->parent, CN_PK_BYTES) ||
      bind_int(st, ":term_start", c->term_start) || bind_int(st, ":term_end", c->term_end) ||
      bind_blob(st, ":selection", c->selection, CN_HASH_BYTES) || bind_int(st, ":term", c->term) ||
      (c->has_issuer && bind_blob(st, ":issuer", c->issuer, CN_PK_BYTES)) ||
      (c->has_derived && bind_blob(st, ":derived_from", c->derived_from, CN_HASH_BYTES)))
    return -1;
  return store_exec(s, st, "credential put");
}

static int credential_row(sqlite3_stmt *st, cn_store_credential_t *c)
{
  if (column_fixed(st, 0, c->id, CN_HASH_BYTES) || column_fixed(st, 2, c->delegate, CN_PK_BYTES) ||
      column_fixed(st, 3, c->parent, CN_PK_BYTES) || column_fixed(st, 6, c->selection, CN_HASH_BYTES))
    return -1;
  c->seq = (uint64_t)sqlite3_column_int64(st, 1);
  c->term_start = (uint64_t)sqlite3_column_int64(st, 4);
  c->term_end = (uint64_t)sqlite3_column_int64(st, 5);
  c->term = (uint32_t)sqlite3_column_int64(st, 7);
  c->recalled = sqlite3_column_type(st, 8) == SQLITE_BLOB &&
                column_fixed(st, 8, c->recall, CN_HASH_BYTES) == 0;
  c->recall_votes = (uint64_t)sqlite3_column_int64(st, 9);
  c->has_issuer = sqlite3_column_type(st, 10) == SQLITE_BLOB &&
                  column_fixed(st, 10, c->issuer, CN_PK_BYTES) == 0;
  c->has_derived = sqlite3_column_type(st, 11) == SQLITE_BLOB &&
                   column_fixed(st, 11, c->derived_from, CN_HASH_BYTES) == 0;
  return 0;
}

/* Run a single-row credential query already bound. */
static int credential_one(cn_store_t *s, sqlite3_stmt *st, cn_store_credential_t *out)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    memset(out, 0, sizeof *out);
    rc = credential_row(st, out);
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "credential get");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_credential_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_credential_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_CRED_GET);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES))
    return -1;
  return credential_one(s, st, out);
}

int cn_store_credential_latest(cn_store_t *s, const uint8_t delegate[CN_PK_BYTES],
                               const uint8_t parent[CN_PK_BYTES], cn_store_credential_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_CRED_LATEST);
  if (!st || bind_blob(st, ":delegate", delegate, CN_PK_BYTES) ||
      bind_blob(st, ":parent", parent, CN_PK_BYTES))
    return -1;
  return credential_one(s, st, out);
}

int cn_store_credential_set_recalled(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                     const uint8_t recall[CN_HASH_BYTES])
{
  sqlite3_stmt *st = store_stmt(s, ST_CRED_RECALL);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) || bind_blob(st, ":recall", recall, CN_HASH_BYTES))
    return -1;
  return store_exec(s, st, "credential recall");
}

int cn_store_credential_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_credential_t *c),
                             void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_CRED_SCAN);
  int rc = 0, found = 0;

  if (!st)
    return -1;
  SCAN_ROWS(s, st, "credential scan", cn_store_credential_t, credential_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_recall_vote_put(cn_store_t *s, const uint8_t credential[CN_HASH_BYTES],
                             const uint8_t member[CN_PK_BYTES], uint64_t seq)
{
  sqlite3_stmt *st = store_stmt(s, ST_RVOTE_PUT);
  int rc;

  if (!st || bind_blob(st, ":credential", credential, CN_HASH_BYTES) ||
      bind_blob(st, ":member", member, CN_PK_BYTES) || bind_int(st, ":seq", seq))
    return -1;
  rc = store_insert_new(s, st, "recall vote put");
  if (rc == 1) {
    st = store_stmt(s, ST_RVOTE_BUMP);
    if (!st || bind_blob(st, ":credential", credential, CN_HASH_BYTES) ||
        store_exec(s, st, "recall vote count") != 0)
      return -1;
  }
  return rc;
}

int cn_store_mandate_put(cn_store_t *s, const cn_store_mandate_t *m)
{
  sqlite3_stmt *st = store_stmt(s, ST_MAND_PUT);
  if (!st || bind_blob(st, ":id", m->id, CN_HASH_BYTES) || bind_int(st, ":seq", m->seq) ||
      bind_blob(st, ":credential", m->credential, CN_HASH_BYTES) ||
      bind_blob(st, ":env", m->envelope, m->envelope_len))
    return -1;
  return store_exec(s, st, "mandate put");
}

static int mandate_row(sqlite3_stmt *st, cn_store_mandate_t *m)
{
  if (column_fixed(st, 0, m->id, CN_HASH_BYTES) || column_fixed(st, 2, m->credential, CN_HASH_BYTES))
    return -1;
  m->seq = (uint64_t)sqlite3_column_int64(st, 1);
  m->delivered = sqlite3_column_int(st, 3);
  m->envelope = sqlite3_column_blob(st, 4);
  m->envelope_len = (size_t)sqlite3_column_bytes(st, 4);
  return 0;
}

int cn_store_mandate_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_mandate_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_MAND_GET);
  int rc;

  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    memset(out, 0, sizeof *out);
    rc = mandate_row(st, out);
    out->envelope = NULL;     /* not kept past the reset; use the log */
    out->envelope_len = 0;
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "mandate get");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_mandate_set_delivered(cn_store_t *s, const uint8_t id[CN_HASH_BYTES])
{
  sqlite3_stmt *st = store_stmt(s, ST_MAND_DELIVER);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES))
    return -1;
  return store_exec(s, st, "mandate delivered");
}

int cn_store_mandate_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_mandate_t *m), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_MAND_SCAN);
  int rc = 0, found = 0;

  if (!st)
    return -1;
  SCAN_ROWS(s, st, "mandate scan", cn_store_mandate_t, mandate_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_credential_scan_derived(cn_store_t *s, const uint8_t from[CN_HASH_BYTES],
                                     int (*fn)(void *ctx, const cn_store_credential_t *c), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_CRED_DERIVED);
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":from", from, CN_HASH_BYTES))
    return -1;
  SCAN_ROWS(s, st, "credential derived", cn_store_credential_t, credential_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

/* Run a bound single-column count query. */
static int store_count_bound(cn_store_t *s, sqlite3_stmt *st, uint64_t *n)
{
  int rc = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *n = (uint64_t)sqlite3_column_int64(st, 0);
    rc = 0;
  } else {
    store_log_error(s, "count");
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_recall_vote_count_child(cn_store_t *s, const uint8_t credential[CN_HASH_BYTES],
                                     const uint8_t child[CN_PK_BYTES], uint64_t *n)
{
  sqlite3_stmt *st = store_stmt(s, ST_RVOTE_CHILD);
  if (!st || bind_blob(st, ":credential", credential, CN_HASH_BYTES) ||
      bind_blob(st, ":child", child, CN_PK_BYTES))
    return -1;
  return store_count_bound(s, st, n);
}

int cn_store_credential_of(cn_store_t *s, const uint8_t delegate[CN_PK_BYTES], uint64_t now,
                           cn_store_credential_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_CRED_OF);
  if (!st || bind_blob(st, ":delegate", delegate, CN_PK_BYTES) || bind_int(st, ":now", now))
    return -1;
  return credential_one(s, st, out);
}

int cn_store_outbox_put(cn_store_t *s, const uint8_t record_id[CN_HASH_BYTES], const char *kind,
                        const uint8_t *env, size_t len)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_PUT);
  if (!st || bind_blob(st, ":id", record_id, CN_HASH_BYTES) || bind_text(st, ":kind", kind) ||
      bind_blob(st, ":env", env, len))
    return -1;
  return store_exec(s, st, "outbox put");
}

int cn_store_outbox_first(cn_store_t *s, uint64_t *id, uint8_t **env, size_t *len)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_FIRST);
  int rc;

  if (!st)
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *id = (uint64_t)sqlite3_column_int64(st, 0);
    *len = (size_t)sqlite3_column_bytes(st, 1);
    *env = malloc(*len ? *len : 1);
    if (*env && *len)
      memcpy(*env, sqlite3_column_blob(st, 1), *len);
    rc = *env ? 0 : -1;
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "outbox first");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_outbox_delete(cn_store_t *s, uint64_t id)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_DELETE);
  if (!st || bind_int(st, ":id", id))
    return -1;
  return store_exec(s, st, "outbox delete");
}

int cn_store_outbox_bury(cn_store_t *s, uint64_t id, const char *why, uint64_t now)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_BURY);
  if (!st || bind_int(st, ":id", id) || bind_text(st, ":why", why) || bind_int(st, ":at", now))
    return -1;
  if (store_exec(s, st, "outbox bury") != 0)
    return -1;
  return cn_store_outbox_delete(s, id);
}

int cn_store_outbox_resend(cn_store_t *s, uint64_t id)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_RESEND);
  int rc;

  if (!st || bind_int(st, ":id", id))
    return -1;
  rc = store_insert_new(s, st, "outbox resend");
  if (rc != 1)
    return rc < 0 ? -1 : 1;
  st = store_stmt(s, ST_OUT_DEAD_DELETE);
  if (!st || bind_int(st, ":id", id) || store_exec(s, st, "dead letter delete") != 0)
    return -1;
  return 0;
}

int cn_store_outbox_last(cn_store_t *s, uint64_t *last)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_LAST);
  int rc;

  if (!st)
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *last = (uint64_t)sqlite3_column_int64(st, 0);
    rc = 0;
  } else {
    store_log_error(s, "outbox last");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_outbox_rotate(cn_store_t *s, uint64_t last)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_ROTATE);

  if (!st || bind_int(st, ":last", last) || store_exec(s, st, "outbox rotate") != 0)
    return -1;
  st = store_stmt(s, ST_OUT_ROTATE_DELETE);
  if (!st || bind_int(st, ":last", last))
    return -1;
  return store_exec(s, st, "outbox rotate delete");
}

int cn_store_outbox_count(cn_store_t *s, uint64_t *waiting, uint64_t *dead)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_COUNT);
  int rc = -1;

  if (!st)
    return -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *waiting = (uint64_t)sqlite3_column_int64(st, 0);
    *dead = (uint64_t)sqlite3_column_int64(st, 1);
    rc = 0;
  } else {
    store_log_error(s, "outbox count");
  }
  sqlite3_reset(st);
  return rc;
}

static int dead_row(sqlite3_stmt *st, cn_store_dead_t *d)
{
  const void *id = sqlite3_column_blob(st, 1);
  const char *kind = (const char *)sqlite3_column_text(st, 2);
  const char *error = (const char *)sqlite3_column_text(st, 3);

  if (!id || sqlite3_column_bytes(st, 1) != CN_HASH_BYTES || !kind || !error)
    return -1;
  d->id = (uint64_t)sqlite3_column_int64(st, 0);
  memcpy(d->record_id, id, CN_HASH_BYTES);
  d->kind = kind;
  d->error = error;
  d->at = (uint64_t)sqlite3_column_int64(st, 4);
  return 0;
}

int cn_store_outbox_dead_scan(cn_store_t *s, uint64_t limit,
                              int (*fn)(void *ctx, const cn_store_dead_t *d), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_OUT_DEAD_SCAN);
  int rc = 0, found = 0;

  if (!st || bind_int(st, ":limit", limit))
    return -1;
  SCAN_ROWS(s, st, "dead letters", cn_store_dead_t, dead_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_child_roll_set(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                            const uint8_t member[CN_PK_BYTES], int present)
{
  sqlite3_stmt *st = store_stmt(s, present ? ST_CROLL_ADD : ST_CROLL_DEL);
  if (!st || bind_blob(st, ":child", child, CN_PK_BYTES) || bind_blob(st, ":member", member, CN_PK_BYTES))
    return -1;
  return store_exec(s, st, "child roll");
}

/* Does statement ID, bound to CHILD and MEMBER, find a row? 1, 0 or -1. */
static int store_roll_query(cn_store_t *s, enum stmt_id id, const uint8_t child[CN_PK_BYTES],
                            const uint8_t member[CN_PK_BYTES], const char *what)
{
  sqlite3_stmt *st = store_stmt(s, id);
  int rc;

  if (!st || bind_blob(st, ":child", child, CN_PK_BYTES) || bind_blob(st, ":member", member, CN_PK_BYTES))
    return -1;
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  store_log_error(s, what);
  return -1;
}

int cn_store_child_roll_has(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                            const uint8_t member[CN_PK_BYTES])
{
  return store_roll_query(s, ST_CROLL_HAS, child, member, "child roll has");
}

int cn_store_child_roll_elsewhere(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                                  const uint8_t member[CN_PK_BYTES])
{
  return store_roll_query(s, ST_CROLL_ELSEWHERE, child, member, "child roll elsewhere");
}

int cn_store_child_roll_count(cn_store_t *s, const uint8_t child[CN_PK_BYTES], uint64_t *n)
{
  sqlite3_stmt *st = store_stmt(s, ST_CROLL_COUNT);
  if (!st || bind_blob(st, ":child", child, CN_PK_BYTES))
    return -1;
  return store_count_bound(s, st, n);
}

int cn_store_foreign_decision_put(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                                  const uint8_t proposal[CN_HASH_BYTES], int passed)
{
  sqlite3_stmt *st = store_stmt(s, ST_FDEC_PUT);
  if (!st || bind_blob(st, ":child", child, CN_PK_BYTES) ||
      bind_blob(st, ":proposal", proposal, CN_HASH_BYTES) || bind_int(st, ":passed", (uint64_t)!!passed))
    return -1;
  return store_exec(s, st, "foreign decision put");
}

int cn_store_foreign_decision_get(cn_store_t *s, const uint8_t child[CN_PK_BYTES],
                                  const uint8_t proposal[CN_HASH_BYTES], int *passed)
{
  sqlite3_stmt *st = store_stmt(s, ST_FDEC_GET);
  int rc;

  if (!st || bind_blob(st, ":child", child, CN_PK_BYTES) ||
      bind_blob(st, ":proposal", proposal, CN_HASH_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *passed = sqlite3_column_int(st, 0);
    rc = 0;
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "foreign decision get");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_parent_proposal_put(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], uint64_t seq,
                                 const uint8_t *body, size_t len)
{
  sqlite3_stmt *st = store_stmt(s, ST_PPROP_PUT);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) || bind_int(st, ":seq", seq) ||
      bind_blob(st, ":body", len ? body : (const uint8_t *)"", len))
    return -1;
  return store_exec(s, st, "parent proposal put");
}

int cn_store_parent_proposal_decide(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                    const uint8_t *decision, size_t len)
{
  sqlite3_stmt *st = store_stmt(s, ST_PPROP_DECIDE);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) ||
      bind_blob(st, ":decision", len ? decision : (const uint8_t *)"", len))
    return -1;
  return store_exec(s, st, "parent proposal decide");
}

static int parent_proposal_row(sqlite3_stmt *st, cn_store_parent_proposal_t *p)
{
  if (column_fixed(st, 0, p->id, CN_HASH_BYTES))
    return -1;
  p->seq = (uint64_t)sqlite3_column_int64(st, 1);
  p->body = sqlite3_column_blob(st, 2);
  p->body_len = (size_t)sqlite3_column_bytes(st, 2);
  if (sqlite3_column_type(st, 3) == SQLITE_BLOB) {
    p->decision = sqlite3_column_blob(st, 3);
    p->decision_len = (size_t)sqlite3_column_bytes(st, 3);
  }
  return 0;
}

int cn_store_parent_proposal_scan(cn_store_t *s,
                                  int (*fn)(void *ctx, const cn_store_parent_proposal_t *p), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_PPROP_SCAN);
  int rc = 0, found = 0;

  if (!st)
    return -1;
  SCAN_ROWS(s, st, "parent proposal scan", cn_store_parent_proposal_t, parent_proposal_row, fn, ctx,
            found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_parent_proposal_find(cn_store_t *s, const uint8_t id[CN_HASH_BYTES],
                                  int (*fn)(void *ctx, const cn_store_parent_proposal_t *p),
                                  void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_PPROP_FIND);
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES))
    return -1;
  SCAN_ROWS(s, st, "parent proposal find", cn_store_parent_proposal_t, parent_proposal_row, fn, ctx,
            found);
  rc = found ? 0 : 1;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_child_roll_total(cn_store_t *s, uint64_t *n)
{
  return store_count(s, ST_CROLL_TOTAL, n);
}

int cn_store_child_weight_put(cn_store_t *s, const uint8_t child[CN_PK_BYTES], uint64_t roll)
{
  sqlite3_stmt *st = store_stmt(s, ST_CWEIGHT_PUT);
  if (!st || bind_blob(st, ":child", child, CN_PK_BYTES) || bind_int(st, ":roll", roll))
    return -1;
  return store_exec(s, st, "child weight put");
}

int cn_store_child_weight_get(cn_store_t *s, const uint8_t child[CN_PK_BYTES], uint64_t *roll)
{
  sqlite3_stmt *st = store_stmt(s, ST_CWEIGHT_GET);
  int rc;

  if (!st || bind_blob(st, ":child", child, CN_PK_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *roll = (uint64_t)sqlite3_column_int64(st, 0);
    rc = 0;
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "child weight get");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_represented(cn_store_t *s, uint64_t *n)
{
  return store_count(s, ST_REPRESENTED, n);
}

int cn_store_round_deepen(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], uint32_t depth)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROUND_DEPTH);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) || bind_int(st, ":depth", depth))
    return -1;
  return store_exec(s, st, "round deepen");
}

int cn_store_round_put(cn_store_t *s, const cn_store_round_t *r)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROUND_PUT);
  if (!st || bind_blob(st, ":id", r->id, CN_HASH_BYTES) || bind_int(st, ":seq", r->seq) ||
      bind_int(st, ":owned", (uint64_t)!!r->owned) || bind_int(st, ":opens", r->opens) ||
      bind_int(st, ":closes", r->closes) || bind_blob(st, ":body", r->body, r->body_len) ||
      bind_blob(st, ":env", r->envelope, r->envelope_len) ||
      bind_int(st, ":depth", r->depth))
    return -1;
  return store_exec(s, st, "round put");
}

static int round_row(sqlite3_stmt *st, cn_store_round_t *r)
{
  if (column_fixed(st, 0, r->id, CN_HASH_BYTES))
    return -1;
  r->seq = (uint64_t)sqlite3_column_int64(st, 1);
  r->owned = sqlite3_column_int(st, 2);
  r->opens = (uint64_t)sqlite3_column_int64(st, 3);
  r->closes = (uint64_t)sqlite3_column_int64(st, 4);
  r->body = sqlite3_column_blob(st, 5);
  r->body_len = (size_t)sqlite3_column_bytes(st, 5);
  r->mandated = sqlite3_column_int(st, 6);
  r->allocated = sqlite3_column_int(st, 7);
  r->listed = sqlite3_column_int(st, 8);
  if (sqlite3_column_type(st, 9) == SQLITE_BLOB) {
    r->projects = sqlite3_column_blob(st, 9);
    r->projects_len = (size_t)sqlite3_column_bytes(st, 9);
  }
  if (sqlite3_column_type(st, 10) == SQLITE_BLOB) {
    r->envelope = sqlite3_column_blob(st, 10);
    r->envelope_len = (size_t)sqlite3_column_bytes(st, 10);
  }
  if (sqlite3_column_type(st, 11) == SQLITE_BLOB) {
    r->projects_envelope = sqlite3_column_blob(st, 11);
    r->projects_envelope_len = (size_t)sqlite3_column_bytes(st, 11);
  }
  if (sqlite3_column_type(st, 12) == SQLITE_BLOB) {
    r->export_pb = sqlite3_column_blob(st, 12);
    r->export_pb_len = (size_t)sqlite3_column_bytes(st, 12);
  }
  r->depth = (uint32_t)sqlite3_column_int64(st, 13);
  return 0;
}

int cn_store_round_get(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], cn_store_round_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROUND_GET);
  int rc;

  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    memset(out, 0, sizeof *out);
    rc = round_row(st, out);
    if (rc == 0) {
      out->body = store_keep(s, 3, out->body, out->body_len);
      if (!out->body)
        rc = -1;
      if (out->projects) {
        out->projects = store_keep(s, 4, out->projects, out->projects_len);
        if (!out->projects)
          rc = -1;
      }
      if (out->envelope) {
        out->envelope = store_keep(s, 5, out->envelope, out->envelope_len);
        if (!out->envelope)
          rc = -1;
      }
      if (out->projects_envelope) {
        out->projects_envelope = store_keep(s, 6, out->projects_envelope,
                                            out->projects_envelope_len);
        if (!out->projects_envelope)
          rc = -1;
      }
      if (out->export_pb) {
        out->export_pb = store_keep(s, 7, out->export_pb, out->export_pb_len);
        if (!out->export_pb)
          rc = -1;
      }
    }
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "round get");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_round_scan(cn_store_t *s, int (*fn)(void *ctx, const cn_store_round_t *r), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROUND_SCAN);
  int rc = 0, found = 0;

  if (!st)
    return -1;
  SCAN_ROWS(s, st, "round scan", cn_store_round_t, round_row, fn, ctx, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_round_set_done(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], int mandated, int allocated)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROUND_DONE);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) || bind_int(st, ":mandated", (uint64_t)!!mandated) ||
      bind_int(st, ":allocated", (uint64_t)!!allocated))
    return -1;
  return store_exec(s, st, "round done");
}

int cn_store_budget_ballot_put(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                               const uint8_t member[CN_PK_BYTES], uint64_t seq, const char *projects)
{
  sqlite3_stmt *st = store_stmt(s, ST_BBALLOT_PUT);
  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES) || bind_blob(st, ":member", member, CN_PK_BYTES) ||
      bind_int(st, ":seq", seq) || bind_text(st, ":projects", projects))
    return -1;
  return store_insert_new(s, st, "budget ballot put");
}

typedef struct text_row_t {
  const char *text;
  uint64_t count;
} text_row_t;

static int text_row(sqlite3_stmt *st, text_row_t *r)
{
  r->text = column_text(st, 0);
  r->count = (uint64_t)sqlite3_column_int64(st, 1);
  return 0;
}

typedef struct text_fn_t {
  int (*fn)(void *ctx, const char *projects, uint64_t count);
  void *ctx;
} text_fn_t;

static int text_call(void *ctx, const text_row_t *r)
{
  text_fn_t *t = ctx;
  return t->fn(t->ctx, r->text, r->count);
}

int cn_store_budget_ballot_scan(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                                int (*fn)(void *ctx, const char *projects, uint64_t count), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_BBALLOT_SCAN);
  text_fn_t t = { fn, ctx };
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES))
    return -1;
  SCAN_ROWS(s, st, "budget ballot scan", text_row_t, text_row, text_call, &t, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_profile_put(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                         const uint8_t child[CN_PK_BYTES], const cn_store_profile_part_t *p)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROFILE_PUT);
  int rc;

  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES) || bind_blob(st, ":child", child, CN_PK_BYTES) ||
      bind_int(st, ":part", p->part) || bind_int(st, ":parts", p->parts) ||
      bind_int(st, ":created", p->created) || bind_int(st, ":voters", p->voters) ||
      bind_int(st, ":counted", p->counted) ||
      bind_blob(st, ":body", p->body_len ? p->body : (const uint8_t *)"", p->body_len) ||
      bind_blob(st, ":digest", p->digest_len ? p->digest : (const uint8_t *)"", p->digest_len))
    return -1;
  rc = store_insert_new(s, st, "profile put");
  if (rc != 1)
    return rc;
  st = store_stmt(s, ST_PROFILE_PRUNE);
  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES) || bind_blob(st, ":child", child, CN_PK_BYTES) ||
      store_exec(s, st, "profile prune") != 0)
    return -1;
  return 1;
}

int cn_store_profile_get(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                         const uint8_t child[CN_PK_BYTES], cn_store_profile_t *out)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROFILE_GET);
  int rc;

  memset(out, 0, sizeof *out);
  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES) || bind_blob(st, ":child", child, CN_PK_BYTES))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    out->created = (uint64_t)sqlite3_column_int64(st, 0);
    out->parts = (uint64_t)sqlite3_column_int64(st, 1);
    out->voters = (uint64_t)sqlite3_column_int64(st, 2);
    out->stored = (uint64_t)sqlite3_column_int64(st, 3);
    out->counted = (uint64_t)sqlite3_column_int64(st, 4);
    if (sqlite3_column_bytes(st, 5) == CN_HASH_BYTES) {
      memcpy(out->digest, sqlite3_column_blob(st, 5), CN_HASH_BYTES);
      out->has_digest = 1;
    }
    rc = 0;
  } else if (rc == SQLITE_DONE) {
    rc = 1;
  } else {
    store_log_error(s, "profile get");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_profile_has(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                         const uint8_t child[CN_PK_BYTES], uint64_t created, uint64_t part)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROFILE_HAS);
  int rc;

  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES) || bind_blob(st, ":child", child, CN_PK_BYTES) ||
      bind_int(st, ":created", created) || bind_int(st, ":part", part))
    return -1;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rc = 1;
  } else if (rc == SQLITE_DONE) {
    rc = 0;
  } else {
    store_log_error(s, "profile has");
    rc = -1;
  }
  sqlite3_reset(st);
  return rc;
}

typedef struct blob_row_t {
  const uint8_t *body;
  size_t len;
} blob_row_t;

static int blob_row(sqlite3_stmt *st, blob_row_t *r)
{
  r->body = sqlite3_column_blob(st, 0);
  r->len = (size_t)sqlite3_column_bytes(st, 0);
  return 0;
}

typedef struct blob_fn_t {
  int (*fn)(void *ctx, const uint8_t *body, size_t len);
  void *ctx;
} blob_fn_t;

static int blob_call(void *ctx, const blob_row_t *r)
{
  blob_fn_t *b = ctx;
  return b->fn(b->ctx, r->body, r->len);
}

typedef struct profile_row_t {
  const uint8_t *body;
  size_t len;
  uint8_t child[CN_PK_BYTES];
} profile_row_t;

static int profile_row(sqlite3_stmt *st, profile_row_t *r)
{
  r->body = sqlite3_column_blob(st, 0);
  r->len = (size_t)sqlite3_column_bytes(st, 0);
  return column_fixed(st, 1, r->child, CN_PK_BYTES);
}

typedef struct profile_fn_t {
  int (*fn)(void *ctx, const uint8_t child[CN_PK_BYTES], const uint8_t *body, size_t len);
  void *ctx;
} profile_fn_t;

static int profile_call(void *ctx, const profile_row_t *r)
{
  profile_fn_t *p = ctx;
  return p->fn(p->ctx, r->child, r->body, r->len);
}

int cn_store_profile_scan(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                          int (*fn)(void *ctx, const uint8_t child[CN_PK_BYTES],
                                    const uint8_t *body, size_t len),
                          void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROFILE_SCAN);
  profile_fn_t b = { fn, ctx };
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES))
    return -1;
  SCAN_ROWS(s, st, "profile scan", profile_row_t, profile_row, profile_call, &b, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_profile_counts(cn_store_t *s, const uint8_t round[CN_HASH_BYTES], uint64_t *children,
                            uint64_t *received, uint64_t *partial)
{
  sqlite3_stmt *st = store_stmt(s, ST_PROFILE_COUNTS);
  int rc = -1;

  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES))
    return -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *children = (uint64_t)sqlite3_column_int64(st, 0);
    *received = (uint64_t)sqlite3_column_int64(st, 1);
    if (partial)
      *partial = (uint64_t)sqlite3_column_int64(st, 2);
    rc = 0;
  } else {
    store_log_error(s, "profile counts");
  }
  sqlite3_reset(st);
  return rc;
}

int cn_store_round_set_projects(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], const uint8_t *body,
                                size_t len, const uint8_t *env, size_t env_len)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROUND_LIST);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) ||
      bind_blob(st, ":projects", len ? body : (const uint8_t *)"", len) ||
      bind_blob(st, ":penv", env, env_len))
    return -1;
  return store_exec(s, st, "round list");
}

int cn_store_round_set_export(cn_store_t *s, const uint8_t id[CN_HASH_BYTES], const char *text,
                              size_t len)
{
  sqlite3_stmt *st = store_stmt(s, ST_ROUND_EXPORT);
  if (!st || bind_blob(st, ":id", id, CN_HASH_BYTES) ||
      bind_blob(st, ":export", len ? text : "", len))
    return -1;
  return store_exec(s, st, "round export");
}

int cn_store_round_proposal_put(cn_store_t *s, const uint8_t round[CN_HASH_BYTES], const char *id,
                                const uint8_t child[CN_PK_BYTES], uint64_t seq, const uint8_t *body,
                                size_t len)
{
  sqlite3_stmt *st = store_stmt(s, ST_RPROP_PUT);
  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES) || bind_text(st, ":pid", id) ||
      bind_blob(st, ":child", child, CN_PK_BYTES) || bind_int(st, ":seq", seq) ||
      bind_blob(st, ":body", len ? body : (const uint8_t *)"", len))
    return -1;
  return store_insert_new(s, st, "round proposal put");
}

int cn_store_round_proposal_scan(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                                 int (*fn)(void *ctx, const uint8_t *body, size_t len), void *ctx)
{
  sqlite3_stmt *st = store_stmt(s, ST_RPROP_SCAN);
  blob_fn_t b = { fn, ctx };
  int rc = 0, found = 0;

  if (!st || bind_blob(st, ":round", round, CN_HASH_BYTES))
    return -1;
  SCAN_ROWS(s, st, "round proposal scan", blob_row_t, blob_row, blob_call, &b, found);
  (void)found;
out:
  sqlite3_reset(st);
  return rc;
}

int cn_store_recall_vote_count_members(cn_store_t *s, const uint8_t credential[CN_HASH_BYTES],
                                       uint64_t *n)
{
  sqlite3_stmt *st = store_stmt(s, ST_RVOTE_MEMBERS);
  if (!st || bind_blob(st, ":credential", credential, CN_HASH_BYTES))
    return -1;
  return store_count_bound(s, st, n);
}
