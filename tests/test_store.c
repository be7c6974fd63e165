/* test_store.c: the SQLite store on a temporary file: schema, meta, log,
 * keys, proposals and ballots; a transaction SQLite rolls back on its own,
 * one volunteer per child council in a lot, budget mandates in parts (and
 * schema 8's whole ones), the WAL behind a symlink, no
 * checkpoint after a failed sync, and two processes creating the same
 * database.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "councilnet/crypto.h"
#include "store.h"
#include "test.h"
#include "util.h"

static char tmpdir[] = "/tmp/cn-store-XXXXXX";

/* Schema step 1 exactly as released (store.c must never edit it). */
static const char schema_v1[] =
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
  " choices TEXT NOT NULL, paper INTEGER NOT NULL, PRIMARY KEY(proposal, member));";
static char dbpath[128];

/* Run a one-value query on a separate connection; return its text (static). */
static const char *side_query(const char *path, const char *sql)
{
  static char out[256];
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;

  snprintf(out, sizeof out, "(error)");
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    goto done;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    goto done;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, sizeof out, "%s", t ? (const char *)t : "(null)");
  } else {
    snprintf(out, sizeof out, "(no row)");
  }
done:
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

static void key_of(uint8_t k[CN_PK_BYTES], int n)
{
  memset(k, 0, CN_PK_BYTES);
  k[0] = 0xc0;
  k[31] = (uint8_t)n;
}

static void id_of(uint8_t id[CN_HASH_BYTES], int n)
{
  memset(id, 0, CN_HASH_BYTES);
  id[0] = 0x1d;
  id[31] = (uint8_t)n;
}

static void test_open(void)
{
  cn_store_t *s = NULL;
  char err[256];
  uint8_t *v = NULL;
  size_t len = 0;

  err[0] = 'x';
  REQUIRE(cn_store_open(dbpath, &s, err, sizeof err) == 0);
  REQUIRE(s != NULL);
  CHECK_STR(err, "");
  CHECK_EQ_INT(cn_store_in_transaction(s), 0);
  CHECK_EQ_INT(atoi(side_query(dbpath, "PRAGMA user_version")), CN_STORE_SCHEMA_VERSION);
  CHECK_STR(side_query(dbpath, "PRAGMA journal_mode"), "wal");
  CHECK_STR(side_query(dbpath, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
                               " WHERE type = 'table' AND name IN ('ballots', 'keys', 'log',"
                               " 'meta', 'proposals') ORDER BY name)"),
            "ballots,keys,log,meta,proposals");
  CHECK_STR(side_query(dbpath, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                               " AND name IN ('keys_member', 'proposals_due')"), "2");
  CHECK_EQ_INT(cn_store_meta_set(s, "node_name", "assembly-7", 10), 0);
  cn_store_free(s);
  s = NULL;

  /* Reopen: data kept, schema not re-applied. */
  REQUIRE(cn_store_open(dbpath, &s, err, sizeof err) == 0);
  CHECK_EQ_INT(cn_store_meta_get(s, "node_name", &v, &len), 0);
  CHECK_EQ_INT(len, 10);
  CHECK(v && memcmp(v, "assembly-7", 10) == 0);
  CHECK_EQ_INT(atoi(side_query(dbpath, "PRAGMA user_version")), CN_STORE_SCHEMA_VERSION);
  free(v);
  v = NULL;
  cn_store_free(s);
  s = NULL;
  cn_store_free(NULL);

  /* A newer schema is refused, and the file is not touched. */
  {
    char newer[160];
    char sql[96], want[32];
    snprintf(newer, sizeof newer, "%s/newer.db", tmpdir);
    snprintf(sql, sizeof sql, "CREATE TABLE t(x); PRAGMA user_version = %d;",
             CN_STORE_SCHEMA_VERSION + 1);
    snprintf(want, sizeof want, "%d", CN_STORE_SCHEMA_VERSION + 1);
    REQUIRE(util_sql_exec(newer, sql) == SQLITE_OK);
    s = (cn_store_t *)1;
    err[0] = 0;
    CHECK_EQ_INT(cn_store_open(newer, &s, err, sizeof err), -1);
    CHECK(s == NULL);
    CHECK(strstr(err, "newer") != NULL);
    CHECK(strstr(err, want) != NULL);
    s = NULL;
    CHECK_STR(side_query(newer, "PRAGMA user_version"), want);
    CHECK_STR(side_query(newer, "SELECT count(*) FROM sqlite_master WHERE name = 'log'"), "0");
    util_remove_db(newer);
    /* A negative version is no schema of ours either (not a step index). */
    REQUIRE(util_sql_exec(newer, "CREATE TABLE t(x); PRAGMA user_version = -3;") == SQLITE_OK);
    err[0] = 0;
    CHECK_EQ_INT(cn_store_open(newer, &s, err, sizeof err), -1);
    CHECK(s == NULL);
    CHECK(strstr(err, "schema -3 is not one of") != NULL);
    s = NULL;
    util_remove_db(newer);
  }

  /* A version-1 database (schema step 1 as released) is migrated forward and
   * keeps its rows. */
  if (CN_STORE_SCHEMA_VERSION > 1) {
    char v1[160];
    uint64_t seq = 0, n = 0;
    uint8_t h[CN_HASH_BYTES];
    snprintf(v1, sizeof v1, "%s/v1.db", tmpdir);
    REQUIRE(util_sql_exec(v1, schema_v1) == SQLITE_OK);
    REQUIRE(util_sql_exec(v1,
      "INSERT INTO log VALUES(1, zeroblob(32), randomblob(32), 5, zeroblob(32), 'x', zeroblob(32), x'00');"
      "INSERT INTO keys(key, member) VALUES(randomblob(32), 1);"
      "PRAGMA user_version = 1;") == SQLITE_OK);
    err[0] = 0;
    CHECK_EQ_INT(cn_store_open(v1, &s, err, sizeof err), 0);
    if (s) {
      CHECK_EQ_INT(atoi(side_query(v1, "PRAGMA user_version")), CN_STORE_SCHEMA_VERSION);
      CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
      CHECK_EQ_INT(seq, 1);
      CHECK_EQ_INT(cn_store_roll_count(s, &n), 0);
      CHECK_EQ_INT(n, 1);
      cn_store_free(s);
      s = NULL;
    } else {
      fprintf(stderr, "v1 migration: %s\n", err);
    }
    util_remove_db(v1);
  }

  /* A file that is not a database. */
  {
    char junk[160];
    FILE *f;
    snprintf(junk, sizeof junk, "%s/junk.db", tmpdir);
    f = fopen(junk, "wb");
    REQUIRE(f);
    fputs("this is not an SQLite database, not at all, no header here......", f);
    fclose(f);
    err[0] = 0;
    CHECK_EQ_INT(cn_store_open(junk, &s, err, sizeof err), -1);
    CHECK(s == NULL);
    CHECK(err[0] != 0);
    util_remove_db(junk);
  }

  /* A folder that does not exist. */
  {
    char nowhere[160];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/db", tmpdir);
    err[0] = 0;
    CHECK_EQ_INT(cn_store_open(nowhere, &s, err, sizeof err), -1);
    CHECK(s == NULL);
    CHECK(err[0] != 0);
  }
done:
  free(v);
  cn_store_free(s);
}

static void test_meta(cn_store_t *s)
{
  uint8_t *v = NULL;
  size_t len = 99;
  static const uint8_t bin[] = { 0, 1, 2, 0, 0xff };

  CHECK_EQ_INT(cn_store_meta_get(s, "absent", &v, &len), 1);
  CHECK(v == NULL);
  CHECK_EQ_INT(cn_store_meta_set(s, "bin", bin, sizeof bin), 0);
  CHECK_EQ_INT(cn_store_meta_get(s, "bin", &v, &len), 0);
  CHECK_EQ_INT(len, 5);
  CHECK(v && memcmp(v, bin, 5) == 0 && v[5] == 0);
  free(v);
  v = NULL;
  /* Replace. */
  CHECK_EQ_INT(cn_store_meta_set(s, "bin", "xy", 2), 0);
  CHECK_EQ_INT(cn_store_meta_get(s, "bin", &v, &len), 0);
  CHECK_EQ_INT(len, 2);
  CHECK(v && memcmp(v, "xy", 3) == 0);
  free(v);
  v = NULL;
  /* Empty value is a value, not an absence. */
  CHECK_EQ_INT(cn_store_meta_set(s, "empty", NULL, 0), 0);
  len = 99;
  CHECK_EQ_INT(cn_store_meta_get(s, "empty", &v, &len), 0);
  CHECK_EQ_INT(len, 0);
  CHECK(v && v[0] == 0);
  free(v);
  v = NULL;
  /* Keys are exact. */
  CHECK_EQ_INT(cn_store_meta_get(s, "Bin", &v, &len), 1);
  CHECK_EQ_INT(cn_store_meta_get(s, "bi", &v, &len), 1);
}

/* Log fixtures. */
typedef struct log_row_t {
  cn_store_entry_t e;
  char kind[16];
  uint8_t env[64];
} log_row_t;

static void make_entry(log_row_t *r, uint64_t seq, const uint8_t prev[CN_HASH_BYTES])
{
  memset(r, 0, sizeof *r);
  r->e.seq = seq;
  memcpy(r->e.prev, prev, CN_HASH_BYTES);
  id_of(r->e.record_id, (int)seq);
  r->e.received = 1700000000 + seq;
  memset(r->e.hash, (int)(0x40 + seq), CN_HASH_BYTES);
  snprintf(r->kind, sizeof r->kind, "kind%llu", (unsigned long long)seq);
  r->e.kind = r->kind;
  for (size_t i = 0; i < sizeof r->env; i++)
    r->env[i] = (uint8_t)(seq * 7 + i);
  r->env[3] = 0;                       /* a NUL inside: stored as a blob */
  r->e.envelope = r->env;
  r->e.envelope_len = 10 + (size_t)seq;
}

typedef struct collect_t {
  int calls;
  int stop_after;                      /* 0: never stop */
  uint64_t seqs[16];
  int bad;                             /* row did not match its fixture */
  const log_row_t *rows;               /* fixtures by seq - 1 */
} collect_t;

static int collect_entry(void *ctx, const cn_store_entry_t *e)
{
  collect_t *c = ctx;
  const log_row_t *r;

  if (c->calls < 16)
    c->seqs[c->calls] = e->seq;
  c->calls++;
  if (c->rows && e->seq >= 1) {
    r = &c->rows[e->seq - 1];
    if (memcmp(e->prev, r->e.prev, 32) || memcmp(e->record_id, r->e.record_id, 32) ||
        e->received != r->e.received || memcmp(e->hash, r->e.hash, 32) ||
        strcmp(e->kind, r->kind) != 0 || e->envelope_len != r->e.envelope_len ||
        memcmp(e->envelope, r->env, e->envelope_len) != 0)
      c->bad++;
  }
  return c->stop_after && c->calls >= c->stop_after;
}

static void test_log(cn_store_t *s)
{
  log_row_t rows[4];
  uint8_t zero[CN_HASH_BYTES] = { 0 }, signer[CN_PK_BYTES], h[CN_HASH_BYTES], id[CN_HASH_BYTES];
  uint64_t seq = 99;
  collect_t c;

  key_of(signer, 1);
  /* Empty log. */
  memset(h, 0xee, sizeof h);
  CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
  CHECK_EQ_INT(seq, 0);
  CHECK(memcmp(h, zero, 32) == 0);

  make_entry(&rows[0], 1, zero);
  make_entry(&rows[1], 2, rows[0].e.hash);
  make_entry(&rows[2], 3, rows[1].e.hash);
  make_entry(&rows[3], 4, rows[2].e.hash);

  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_in_transaction(s), 1);
  /* Nested begin is refused and does not end the transaction. */
  CHECK_EQ_INT(cn_store_begin(s), -1);
  CHECK_EQ_INT(cn_store_in_transaction(s), 1);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(cn_store_log_append(s, &rows[i].e, signer), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_EQ_INT(cn_store_in_transaction(s), 0);

  CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
  CHECK_EQ_INT(seq, 3);
  CHECK(memcmp(h, rows[2].e.hash, 32) == 0);
  CHECK_STR(side_query(dbpath, "SELECT count(*) FROM log"), "3");
  CHECK_STR(side_query(dbpath, "SELECT hex(signer) FROM log WHERE seq = 2"),
            "C000000000000000000000000000000000000000000000000000000000000001");

  /* find */
  memset(&c, 0, sizeof c);
  c.rows = rows;
  CHECK_EQ_INT(cn_store_log_find(s, rows[1].e.record_id, collect_entry, &c), 0);
  CHECK_EQ_INT(c.calls, 1);
  CHECK_EQ_INT(c.seqs[0], 2);
  CHECK_EQ_INT(c.bad, 0);
  id_of(id, 77);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(cn_store_log_find(s, id, collect_entry, &c), 1);
  CHECK_EQ_INT(c.calls, 0);

  /* scan with after/limit */
  memset(&c, 0, sizeof c);
  c.rows = rows;
  CHECK_EQ_INT(cn_store_log_scan(s, 0, 100, collect_entry, &c), 0);
  CHECK_EQ_INT(c.calls, 3);
  CHECK(c.seqs[0] == 1 && c.seqs[1] == 2 && c.seqs[2] == 3);
  CHECK_EQ_INT(c.bad, 0);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(cn_store_log_scan(s, 1, 1, collect_entry, &c), 0);
  CHECK_EQ_INT(c.calls, 1);
  CHECK_EQ_INT(c.seqs[0], 2);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(cn_store_log_scan(s, 1, 100, collect_entry, &c), 0);
  CHECK_EQ_INT(c.calls, 2);
  CHECK(c.seqs[0] == 2 && c.seqs[1] == 3);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(cn_store_log_scan(s, 3, 100, collect_entry, &c), 0);
  CHECK_EQ_INT(c.calls, 0);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(cn_store_log_scan(s, 0, 0, collect_entry, &c), 0);
  CHECK_EQ_INT(c.calls, 0);
  /* The callback stops the scan. */
  memset(&c, 0, sizeof c);
  c.stop_after = 2;
  CHECK_EQ_INT(cn_store_log_scan(s, 0, 100, collect_entry, &c), 0);
  CHECK_EQ_INT(c.calls, 2);

  /* A taken record id writes nothing and says so (1): the node finds a
   * record sent again this way. A taken seq is an error (a wrong head). */
  REQUIRE(cn_store_begin(s) == 0);
  {
    log_row_t dup = rows[3];
    uint64_t head = 0;
    uint8_t head_hash[32];
    dup.e.kind = dup.kind;
    dup.e.envelope = dup.env;
    memcpy(dup.e.record_id, rows[0].e.record_id, 32);
    CHECK_EQ_INT(cn_store_log_append(s, &dup.e, signer), 1);
    CHECK_EQ_INT(cn_store_log_head(s, &head, head_hash), 0);
    CHECK_EQ_INT((int)head, 3);
    dup.e.seq = 3;
    memcpy(dup.e.record_id, rows[3].e.record_id, 32);
    CHECK_EQ_INT(cn_store_log_append(s, &dup.e, signer), -1);
  }
  cn_store_rollback(s);

  /* Rollback leaves nothing. */
  rows[3].e.kind = rows[3].kind;
  rows[3].e.envelope = rows[3].env;
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_log_append(s, &rows[3].e, signer), 0);
  CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
  CHECK_EQ_INT(seq, 4);                 /* visible inside the transaction */
  cn_store_rollback(s);
  CHECK_EQ_INT(cn_store_in_transaction(s), 0);
  CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
  CHECK_EQ_INT(seq, 3);
  CHECK(memcmp(h, rows[2].e.hash, 32) == 0);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(cn_store_log_find(s, rows[3].e.record_id, collect_entry, &c), 1);
  CHECK_STR(side_query(dbpath, "SELECT count(*) FROM log"), "3");
  cn_store_rollback(s);                 /* outside a transaction: no-op */
  CHECK_EQ_INT(cn_store_in_transaction(s), 0);

  /* An uncommitted transaction is rolled back by cn_store_free(). */
  {
    cn_store_t *s2 = NULL;
    char err[256];
    REQUIRE(cn_store_open(dbpath, &s2, err, sizeof err) == 0);
    /* Meanwhile the first connection can still read. */
    REQUIRE(cn_store_begin(s2) == 0);
    CHECK_EQ_INT(cn_store_log_append(s2, &rows[3].e, signer), 0);
    /* A second writer cannot start while s2 holds the write lock; it waits
     * for the busy timeout, so this is not tried here. */
    CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
    CHECK_EQ_INT(seq, 3);                /* not committed, not visible */
    cn_store_free(s2);
    CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
    CHECK_EQ_INT(seq, 3);
  }

  /* Commit of the fourth entry, seen by a fresh connection. */
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_log_append(s, &rows[3].e, signer), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_STR(side_query(dbpath, "SELECT count(*) FROM log"), "4");
  CHECK_STR(side_query(dbpath, "SELECT kind FROM log WHERE seq = 4"), "kind4");
  CHECK_STR(side_query(dbpath, "SELECT length(envelope) FROM log WHERE seq = 4"), "14");
  /* Commit outside a transaction fails. */
  CHECK_EQ_INT(cn_store_commit(s), -1);
  CHECK_EQ_INT(cn_store_in_transaction(s), 0);
done:
  if (cn_store_in_transaction(s))
    cn_store_rollback(s);
}

typedef struct keys_seen_t {
  int n;
  uint8_t last[16];                    /* key[31] of each row, in order */
  char names[256];
} keys_seen_t;

static int collect_key(void *ctx, const cn_store_key_t *k)
{
  keys_seen_t *ks = ctx;
  if (ks->n < 16)
    ks->last[ks->n] = k->key[31];
  ks->n++;
  strncat(ks->names, k->name, sizeof ks->names - strlen(ks->names) - 2);
  strcat(ks->names, ";");
  return 0;
}

static void test_keys(cn_store_t *s)
{
  cn_store_key_t k, got;
  uint8_t key[CN_PK_BYTES];
  uint64_t n = 99;
  keys_seen_t ks;
  const char *name_ptr;

  CHECK_EQ_INT(cn_store_roll_count(s, &n), 0);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(cn_store_convener_count(s, &n), 0);
  CHECK_EQ_INT(n, 0);

  REQUIRE(cn_store_begin(s) == 0);
  /* 3: convener and member, since 1 */
  memset(&k, 0, sizeof k);
  key_of(k.key, 3);
  k.name = "Ana";
  k.groups = "youth\nrenters";
  k.member = 1;
  k.convener = 1;
  k.since = 1;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  /* 2: member, since 2, non-0/1 flags are stored as 1 */
  memset(&k, 0, sizeof k);
  key_of(k.key, 2);
  k.name = "Bo";
  k.groups = "";
  k.member = 7;
  k.since = 2;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  /* 1: clerk only, since 2 (ties are ordered by key) */
  memset(&k, 0, sizeof k);
  key_of(k.key, 1);
  k.name = NULL;                        /* NULL strings are stored as '' */
  k.groups = NULL;
  k.clerk = 1;
  k.since = 2;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  REQUIRE(cn_store_commit(s) == 0);

  memset(&got, 0, sizeof got);
  key_of(key, 3);
  CHECK_EQ_INT(cn_store_key_get(s, key, &got), 0);
  CHECK(memcmp(got.key, key, 32) == 0);
  CHECK_STR(got.name, "Ana");
  CHECK_STR(got.groups, "youth\nrenters");
  CHECK_EQ_INT(got.member, 1);
  CHECK_EQ_INT(got.clerk, 0);
  CHECK_EQ_INT(got.convener, 1);
  CHECK_EQ_INT(got.since, 1);
  name_ptr = got.name;
  /* The strings survive other queries until the next key_get. */
  CHECK_EQ_INT(cn_store_roll_count(s, &n), 0);
  CHECK_EQ_INT(n, 2);
  memset(&ks, 0, sizeof ks);
  CHECK_EQ_INT(cn_store_key_scan(s, collect_key, &ks), 0);
  CHECK_STR(name_ptr, "Ana");
  CHECK_EQ_INT(ks.n, 3);
  CHECK(ks.last[0] == 3 && ks.last[1] == 1 && ks.last[2] == 2);
  CHECK_STR(ks.names, "Ana;;Bo;");

  key_of(key, 2);
  CHECK_EQ_INT(cn_store_key_get(s, key, &got), 0);
  CHECK_STR(got.name, "Bo");
  CHECK_STR(got.groups, "");
  CHECK_EQ_INT(got.member, 1);
  key_of(key, 1);
  CHECK_EQ_INT(cn_store_key_get(s, key, &got), 0);
  CHECK_STR(got.name, "");
  CHECK_EQ_INT(got.member, 0);
  CHECK_EQ_INT(got.clerk, 1);
  key_of(key, 9);
  CHECK_EQ_INT(cn_store_key_get(s, key, &got), 1);

  CHECK_EQ_INT(cn_store_convener_count(s, &n), 0);
  CHECK_EQ_INT(n, 1);

  /* Replace: Bo leaves the roll. */
  REQUIRE(cn_store_begin(s) == 0);
  memset(&k, 0, sizeof k);
  key_of(k.key, 2);
  k.name = "Bo";
  k.groups = "";
  k.member = 0;
  k.since = 2;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_EQ_INT(cn_store_roll_count(s, &n), 0);
  CHECK_EQ_INT(n, 1);
  CHECK_STR(side_query(dbpath, "SELECT count(*) FROM keys"), "3");
  key_of(key, 2);
  CHECK_EQ_INT(cn_store_key_get(s, key, &got), 0);
  CHECK_EQ_INT(got.member, 0);
done:
  return;
}

typedef struct props_seen_t {
  int n;
  uint8_t ids[16];                     /* id[31] per row */
  uint64_t ballots[16];
  int closed[16];
} props_seen_t;

static int collect_prop(void *ctx, const cn_store_proposal_t *p)
{
  props_seen_t *ps = ctx;
  if (ps->n < 16) {
    ps->ids[ps->n] = p->id[31];
    ps->ballots[ps->n] = p->ballots;
    ps->closed[ps->n] = p->closed;
  }
  ps->n++;
  return 0;
}

static void put_proposal(cn_store_t *s, int n, uint64_t seq, uint64_t opens, uint64_t closes)
{
  cn_store_proposal_t p;
  char body[32];

  memset(&p, 0, sizeof p);
  id_of(p.id, n);
  p.seq = seq;
  key_of(p.author, 3);
  p.opens = opens;
  p.closes = closes;
  snprintf(body, sizeof body, "body-%d", n);
  p.body = (const uint8_t *)body;
  p.body_len = strlen(body);
  CHECK_EQ_INT(cn_store_proposal_put(s, &p), 0);
}

static void test_proposals(cn_store_t *s)
{
  cn_store_proposal_t got;
  uint8_t id[CN_HASH_BYTES], dec[CN_HASH_BYTES], author[CN_PK_BYTES];
  props_seen_t ps;

  REQUIRE(cn_store_begin(s) == 0);
  put_proposal(s, 1, 10, 1000, 5000);
  put_proposal(s, 2, 11, 1000, 3000);
  put_proposal(s, 3, 12, 1000, 3000);
  put_proposal(s, 4, 13, 1000, 9000);
  REQUIRE(cn_store_commit(s) == 0);

  memset(&got, 0xab, sizeof got);
  id_of(id, 1);
  CHECK_EQ_INT(cn_store_proposal_get(s, id, &got), 0);
  CHECK(memcmp(got.id, id, 32) == 0);
  CHECK_EQ_INT(got.seq, 10);
  key_of(author, 3);
  CHECK(memcmp(got.author, author, 32) == 0);
  CHECK_EQ_INT(got.opens, 1000);
  CHECK_EQ_INT(got.closes, 5000);
  CHECK_EQ_INT(got.closed, 0);
  CHECK_EQ_INT(got.has_decision, 0);
  CHECK_EQ_INT(got.ballots, 0);
  CHECK_EQ_INT(got.body_len, 6);
  CHECK(got.body && memcmp(got.body, "body-1", 6) == 0);
  id_of(id, 99);
  CHECK_EQ_INT(cn_store_proposal_get(s, id, &got), 1);

  /* A proposal id is stored once. */
  REQUIRE(cn_store_begin(s) == 0);
  {
    cn_store_proposal_t p;
    memset(&p, 0, sizeof p);
    id_of(p.id, 1);
    p.seq = 50;
    p.body = (const uint8_t *)"x";
    p.body_len = 1;
    CHECK_EQ_INT(cn_store_proposal_put(s, &p), -1);
  }
  cn_store_rollback(s);

  /* scan: by seq */
  memset(&ps, 0, sizeof ps);
  CHECK_EQ_INT(cn_store_proposal_scan(s, collect_prop, &ps), 0);
  CHECK_EQ_INT(ps.n, 4);
  CHECK(ps.ids[0] == 1 && ps.ids[1] == 2 && ps.ids[2] == 3 && ps.ids[3] == 4);

  /* due: closes <= now, by closes then seq. */
  memset(&ps, 0, sizeof ps);
  CHECK_EQ_INT(cn_store_proposal_scan_due(s, 2999, collect_prop, &ps), 0);
  CHECK_EQ_INT(ps.n, 0);
  memset(&ps, 0, sizeof ps);
  CHECK_EQ_INT(cn_store_proposal_scan_due(s, 3000, collect_prop, &ps), 0);
  CHECK_EQ_INT(ps.n, 2);
  CHECK(ps.ids[0] == 2 && ps.ids[1] == 3);
  memset(&ps, 0, sizeof ps);
  CHECK_EQ_INT(cn_store_proposal_scan_due(s, 6000, collect_prop, &ps), 0);
  CHECK_EQ_INT(ps.n, 3);
  CHECK(ps.ids[0] == 2 && ps.ids[1] == 3 && ps.ids[2] == 1);

  /* set_decision closes it. */
  id_of(id, 2);
  memset(dec, 0xde, sizeof dec);
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_proposal_set_decision(s, id, dec), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_EQ_INT(cn_store_proposal_get(s, id, &got), 0);
  CHECK_EQ_INT(got.closed, 1);
  CHECK_EQ_INT(got.has_decision, 1);
  CHECK(memcmp(got.decision, dec, 32) == 0);
  CHECK(got.body && memcmp(got.body, "body-2", 6) == 0);
  memset(&ps, 0, sizeof ps);
  CHECK_EQ_INT(cn_store_proposal_scan_due(s, 6000, collect_prop, &ps), 0);
  CHECK_EQ_INT(ps.n, 2);
  CHECK(ps.ids[0] == 3 && ps.ids[1] == 1);
  memset(&ps, 0, sizeof ps);
  CHECK_EQ_INT(cn_store_proposal_scan(s, collect_prop, &ps), 0);
  CHECK(ps.n == 4 && ps.closed[1] == 1 && ps.closed[0] == 0);

  /* Times above INT64_MAX (SQLite integers are signed 64-bit): the store
   * may refuse them, but what it stores must keep its meaning; a proposal
   * that closes "never" must not be due now. */
  {
    cn_store_proposal_t p;
    int rc5, rc6;
    memset(&p, 0, sizeof p);
    key_of(p.author, 3);
    p.body = (const uint8_t *)"big";
    p.body_len = 3;
    REQUIRE(cn_store_begin(s) == 0);
    id_of(p.id, 5);
    p.seq = 14;
    p.opens = 1000;
    p.closes = UINT64_MAX;
    rc5 = cn_store_proposal_put(s, &p);
    id_of(p.id, 6);
    p.seq = 15;
    p.opens = (uint64_t)INT64_MAX + 10;
    p.closes = (uint64_t)INT64_MAX + 20;
    rc6 = cn_store_proposal_put(s, &p);
    REQUIRE(cn_store_commit(s) == 0);
    CHECK(rc5 == 0 || rc5 == -1);
    CHECK(rc6 == 0 || rc6 == -1);
    id_of(id, 5);
    CHECK_EQ_INT(cn_store_proposal_get(s, id, &got), rc5 == 0 ? 0 : 1);
    if (rc5 == 0)
      CHECK(got.closes == UINT64_MAX);              /* the value round-trips */
    id_of(id, 6);
    CHECK_EQ_INT(cn_store_proposal_get(s, id, &got), rc6 == 0 ? 0 : 1);
    if (rc6 == 0)
      CHECK(got.opens == (uint64_t)INT64_MAX + 10);
    memset(&ps, 0, sizeof ps);
    CHECK_EQ_INT(cn_store_proposal_scan_due(s, 6000, collect_prop, &ps), 0);
    CHECK(ps.n == 2);
    /* Close them again so the later checks see proposals 1 and 3 only. */
    REQUIRE(cn_store_begin(s) == 0);
    id_of(id, 5);
    CHECK_EQ_INT(cn_store_proposal_set_decision(s, id, dec), 0);
    id_of(id, 6);
    CHECK_EQ_INT(cn_store_proposal_set_decision(s, id, dec), 0);
    REQUIRE(cn_store_commit(s) == 0);
  }
done:
  if (cn_store_in_transaction(s))
    cn_store_rollback(s);
}

typedef struct ballots_seen_t {
  int n;
  uint8_t members[16];
  uint64_t seqs[16];
  char text[512];                      /* "member:choices:paper:groups|" */
} ballots_seen_t;

static int collect_ballot(void *ctx, const cn_store_ballot_t *b)
{
  ballots_seen_t *bs = ctx;
  char one[128];
  if (bs->n < 16) {
    bs->members[bs->n] = b->member[31];
    bs->seqs[bs->n] = b->seq;
  }
  bs->n++;
  snprintf(one, sizeof one, "%d:%s:%d:%s|", b->member[31], b->choices, b->paper, b->groups);
  strncat(bs->text, one, sizeof bs->text - strlen(bs->text) - 1);
  return 0;
}

static int put_ballot(cn_store_t *s, int prop, int member, uint64_t seq, const char *choices, int paper)
{
  uint8_t pid[CN_HASH_BYTES];
  cn_store_ballot_t b;
  memset(&b, 0, sizeof b);
  id_of(pid, prop);
  key_of(b.member, member);
  b.seq = seq;
  b.choices = choices;
  b.paper = paper;
  return cn_store_ballot_put(s, pid, &b);
}

/* Runs after test_keys: keys 3 (member, groups youth/renters), 2 (removed),
 * 1 (clerk, not a member); 8 is not in the keys table at all. */
static void test_ballots(cn_store_t *s)
{
  cn_store_ballot_t got;
  cn_store_key_t k;
  uint8_t pid[CN_HASH_BYTES], member[CN_PK_BYTES];
  ballots_seen_t bs;
  cn_store_proposal_t p;

  /* 4: a member without groups. */
  REQUIRE(cn_store_begin(s) == 0);
  memset(&k, 0, sizeof k);
  key_of(k.key, 4);
  k.name = "Cy";
  k.member = 1;
  k.since = 5;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  CHECK_EQ_INT(put_ballot(s, 1, 3, 20, "0", 0), 0);
  CHECK_EQ_INT(put_ballot(s, 1, 4, 21, "1", 1), 0);
  CHECK_EQ_INT(put_ballot(s, 1, 2, 22, "2", 0), 0);   /* removed member */
  CHECK_EQ_INT(put_ballot(s, 1, 1, 23, "0", 0), 0);   /* clerk, not member */
  CHECK_EQ_INT(put_ballot(s, 1, 8, 24, "0", 0), 0);   /* unknown key */
  CHECK_EQ_INT(put_ballot(s, 3, 3, 25, "0,2,3", 0), 0);
  REQUIRE(cn_store_commit(s) == 0);

  /* scan: members only, by seq, groups from keys. */
  memset(&bs, 0, sizeof bs);
  id_of(pid, 1);
  CHECK_EQ_INT(cn_store_ballot_scan(s, pid, collect_ballot, &bs), 0);
  CHECK_EQ_INT(bs.n, 2);
  CHECK_STR(bs.text, "3:0:0:youth\nrenters|4:1:1:|");
  memset(&bs, 0, sizeof bs);
  id_of(pid, 3);
  CHECK_EQ_INT(cn_store_ballot_scan(s, pid, collect_ballot, &bs), 0);
  CHECK_STR(bs.text, "3:0,2,3:0:youth\nrenters|");
  memset(&bs, 0, sizeof bs);
  id_of(pid, 4);
  CHECK_EQ_INT(cn_store_ballot_scan(s, pid, collect_ballot, &bs), 0);
  CHECK_EQ_INT(bs.n, 0);

  /* get */
  memset(&got, 0, sizeof got);
  id_of(pid, 1);
  key_of(member, 4);
  CHECK_EQ_INT(cn_store_ballot_get(s, pid, member, &got), 0);
  CHECK(memcmp(got.member, member, 32) == 0);
  CHECK_EQ_INT(got.seq, 21);
  CHECK_EQ_INT(got.paper, 1);
  CHECK_STR(got.choices, "");
  CHECK_STR(got.groups, "");
  key_of(member, 3);
  id_of(pid, 4);
  CHECK_EQ_INT(cn_store_ballot_get(s, pid, member, &got), 1);
  id_of(pid, 1);
  key_of(member, 9);
  CHECK_EQ_INT(cn_store_ballot_get(s, pid, member, &got), 1);
  /* A removed member's ballot is still found by get (the row exists). */
  key_of(member, 2);
  CHECK_EQ_INT(cn_store_ballot_get(s, pid, member, &got), 0);
  CHECK_EQ_INT(got.seq, 22);

  /* Replace: one row per (proposal, member), the later one wins. */
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(put_ballot(s, 1, 3, 30, "1", 1), 0);
  REQUIRE(cn_store_commit(s) == 0);
  memset(&bs, 0, sizeof bs);
  id_of(pid, 1);
  CHECK_EQ_INT(cn_store_ballot_scan(s, pid, collect_ballot, &bs), 0);
  CHECK_EQ_INT(bs.n, 2);
  CHECK_STR(bs.text, "4:1:1:|3:1:1:youth\nrenters|");   /* now ordered after 4 */
  key_of(member, 3);
  CHECK_EQ_INT(cn_store_ballot_get(s, pid, member, &got), 0);
  CHECK_EQ_INT(got.seq, 30);
  CHECK_EQ_INT(got.paper, 1);
  {
    char sql[160], hex[2 * CN_HASH_BYTES + 1];
    id_of(pid, 1);
    cn_hex_encode(hex, pid, CN_HASH_BYTES);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM ballots WHERE proposal = x'%s'", hex);
    CHECK_STR(side_query(dbpath, sql), "5");
  }

  /* The proposal's ballot count counts stored rows. */
  id_of(pid, 1);
  CHECK_EQ_INT(cn_store_proposal_get(s, pid, &p), 0);
  CHECK_EQ_INT(p.ballots, 5);
  id_of(pid, 3);
  CHECK_EQ_INT(cn_store_proposal_get(s, pid, &p), 0);
  CHECK_EQ_INT(p.ballots, 1);

  /* A member who leaves the roll drops out of the scan. */
  REQUIRE(cn_store_begin(s) == 0);
  memset(&k, 0, sizeof k);
  key_of(k.key, 4);
  k.name = "Cy";
  k.member = 0;
  k.since = 5;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  REQUIRE(cn_store_commit(s) == 0);
  memset(&bs, 0, sizeof bs);
  id_of(pid, 1);
  CHECK_EQ_INT(cn_store_ballot_scan(s, pid, collect_ballot, &bs), 0);
  CHECK_STR(bs.text, "3:1:1:youth\nrenters|");

  /* Rolled-back ballots leave nothing. */
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(put_ballot(s, 4, 3, 40, "0", 0), 0);
  cn_store_rollback(s);
  id_of(pid, 4);
  key_of(member, 3);
  CHECK_EQ_INT(cn_store_ballot_get(s, pid, member, &got), 1);
done:
  if (cn_store_in_transaction(s))
    cn_store_rollback(s);
}

/* The store does the WAL's fsync itself (synchronous=NORMAL + its own
 * fdatasync): a commit without the sync is visible to another connection
 * at once, the sync succeeds, and SQLite's own setting is NORMAL, not
 * FULL, only because the store holds the -wal descriptor. */
static void test_sync(cn_store_t *s)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char wal[300];
  uint8_t *v = NULL;
  size_t len = 0;

  snprintf(wal, sizeof wal, "%s-wal", dbpath);
  CHECK_EQ_INT(access(wal, F_OK), 0);
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_meta_set(s, "nosync", "1", 1), 0);
  REQUIRE(cn_store_commit_nosync(s) == 0);
  CHECK_EQ_INT(cn_store_in_transaction(s), 0);
  /* another connection sees it before any sync */
  REQUIRE(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k = 'nosync'", -1, &st, NULL) == SQLITE_OK);
  CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
  sqlite3_finalize(st);
  st = NULL;
  CHECK_EQ_INT(cn_store_sync(s), 0);
  CHECK_EQ_INT(cn_store_sync(NULL), 0);
  CHECK_EQ_INT(cn_store_meta_get(s, "nosync", &v, &len), 0);
  CHECK(v && len == 1 && v[0] == '1');
  /* Checkpoints run in cn_store_sync() (SQLite's automatic one is off):
   * three checkpoints' worth of one-page commits leave the WAL restarted,
   * not three times as long. */
  {
    static char big[3000];
    struct stat wst;
    int commits = 3 * CN_STORE_CHECKPOINT_FRAMES;
    memset(big, 'x', sizeof big);
    for (int i = 0; i < commits; i++) {
      char k[32];
      snprintf(k, sizeof k, "wal-%d", i % 50);
      big[0] = (char)('a' + i % 26);
      REQUIRE(cn_store_begin(s) == 0);
      REQUIRE(cn_store_meta_set(s, k, big, sizeof big) == 0);
      REQUIRE(cn_store_commit(s) == 0);
    }
    REQUIRE(stat(wal, &wst) == 0);
    CHECK(wst.st_size < (off_t)CN_STORE_CHECKPOINT_FRAMES * 4120 * 3 / 2);
    printf("test_store: WAL after %d one-page commits: %lld bytes\n", commits,
           (long long)wst.st_size);
  }
done:
  free(v);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* How many of this process's descriptors are open on FILE (same device and
 * inode); with ONLY_RDONLY, read-only ones only: the store's own WAL
 * descriptor, since SQLite opens the WAL read-write. *FD (may be NULL) gets
 * the last one found. */
static int fds_on(const char *file, int only_rdonly, int *fd)
{
  struct stat want, got;
  int n = 0;

  if (stat(file, &want) != 0)
    return -1;
  for (int f = 0; f < 1024; f++) {
    if (fstat(f, &got) != 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino)
      continue;
    if (only_rdonly && (fcntl(f, F_GETFL) & O_ACCMODE) != O_RDONLY)
      continue;
    n++;
    if (fd)
      *fd = f;
  }
  return n;
}

/* A write error in the middle of a transaction (here: the file size limit
 * hit while SQLite spills a big row's pages into the WAL, as a full disk
 * would) makes SQLite roll back the whole transaction. The store must not
 * go on in autocommit mode: savepoints, writes and releases fail, the
 * commit fails, nothing of the transaction is in the database, and a new
 * transaction works afterwards. */
static void test_lost_transaction(void)
{
  char path[160], wal[170];
  cn_store_t *s = NULL;
  char err[256];
  size_t big = 8u << 20;
  uint8_t *blob = calloc(1, big), *v = NULL;
  size_t len = 0;
  struct rlimit old = { 0, 0 }, lim;
  struct stat wst;
  void (*old_xfsz)(int) = SIG_DFL;
  int limited = 0;

  snprintf(path, sizeof path, "%s/lost.db", tmpdir);
  snprintf(wal, sizeof wal, "%s-wal", path);
  REQUIRE(blob != NULL);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  REQUIRE(cn_store_begin(s) == 0);
  REQUIRE(cn_store_savepoint(s) == 0);
  CHECK_EQ_INT(cn_store_meta_set(s, "a", "x", 1), 0);
  CHECK_EQ_INT(cn_store_release(s), 0);
  REQUIRE(cn_store_savepoint(s) == 0);
  /* A "full disk" for the WAL: a soft limit just past its size, with
   * SIGXFSZ ignored so write() fails with EFBIG; the 8 MiB row overflows
   * SQLite's page cache, which spills pages into the WAL mid-transaction. */
  REQUIRE(stat(wal, &wst) == 0 && getrlimit(RLIMIT_FSIZE, &old) == 0);
  lim = old;
  lim.rlim_cur = (rlim_t)wst.st_size + 65536;
  old_xfsz = signal(SIGXFSZ, SIG_IGN);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  limited = 1;
  CHECK_EQ_INT(cn_store_meta_set(s, "big", blob, big), -1);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
  limited = 0;
  signal(SIGXFSZ, old_xfsz);
  /* SQLite has left the transaction; the caller still holds it open. */
  CHECK_EQ_INT(cn_store_in_transaction(s), 1);
  CHECK_EQ_INT(cn_store_rollback_to(s), -1);
  CHECK_EQ_INT(cn_store_savepoint(s), -1);
  CHECK_EQ_INT(cn_store_meta_set(s, "c", "y", 1), -1);
  CHECK_EQ_INT(cn_store_release(s), -1);
  CHECK_EQ_INT(cn_store_meta_get(s, "a", &v, &len), 1);   /* reads go on */
  CHECK_STR(side_query(path, "SELECT count(*) FROM meta WHERE k IN ('a', 'big', 'c')"), "0");
  CHECK_EQ_INT(cn_store_commit(s), -1);
  CHECK_EQ_INT(cn_store_in_transaction(s), 0);
  CHECK_STR(side_query(path, "SELECT count(*) FROM meta WHERE k IN ('a', 'big', 'c')"), "0");
  /* The store is usable again. */
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_savepoint(s), 0);
  CHECK_EQ_INT(cn_store_meta_set(s, "d", "z", 1), 0);
  CHECK_EQ_INT(cn_store_release(s), 0);
  CHECK_EQ_INT(cn_store_commit(s), 0);
  CHECK_STR(side_query(path, "SELECT v FROM meta WHERE k = 'd'"), "z");
done:
  if (limited) {
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_xfsz);
  }
  if (s && cn_store_in_transaction(s))
    cn_store_rollback(s);
  cn_store_free(s);
  free(blob);
  free(v);
  util_remove_db(path);
}

/* A database reached through a symlink from another folder: SQLite writes
 * the WAL beside the target, so that is the file the store must fdatasync,
 * not a stale node.db-wal left beside the link. */
static void test_symlink_wal(void)
{
  char real_dir[160], link_dir[160], real_db[192], link_db[192], real_wal[200], stale_wal[200];
  cn_store_t *s = NULL;
  char err[256];
  FILE *f;

  snprintf(real_dir, sizeof real_dir, "%s/real", tmpdir);
  snprintf(link_dir, sizeof link_dir, "%s/link", tmpdir);
  snprintf(real_db, sizeof real_db, "%s/node.db", real_dir);
  snprintf(link_db, sizeof link_db, "%s/node.db", link_dir);
  snprintf(real_wal, sizeof real_wal, "%s-wal", real_db);
  snprintf(stale_wal, sizeof stale_wal, "%s-wal", link_db);
  REQUIRE(mkdir(real_dir, 0700) == 0 && mkdir(link_dir, 0700) == 0);
  REQUIRE(cn_store_open(real_db, &s, err, sizeof err) == 0);
  cn_store_free(s);
  s = NULL;
  REQUIRE(symlink(real_db, link_db) == 0);
  f = fopen(stale_wal, "wb");
  REQUIRE(f != NULL);
  fclose(f);
  REQUIRE(cn_store_open(link_db, &s, err, sizeof err) == 0);
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_meta_set(s, "k", "v", 1), 0);
  CHECK_EQ_INT(cn_store_commit(s), 0);
  CHECK_EQ_INT(fds_on(stale_wal, 0, NULL), 0);
  CHECK_EQ_INT(fds_on(real_wal, 1, NULL), 1);
  CHECK_STR(side_query(real_db, "SELECT v FROM meta WHERE k = 'k'"), "v");
done:
  cn_store_free(s);
  unlink(stale_wal);
  unlink(link_db);
  util_remove_db(real_db);
  rmdir(link_dir);
  rmdir(real_dir);
}

/* After a failed fdatasync no checkpoint copies the WAL into the database
 * file, neither cn_store_checkpoint() nor the one SQLite runs on close. The
 * failure is real: the store's WAL descriptor is replaced by a pipe, which
 * fdatasync() refuses (EINVAL). */
static void test_no_checkpoint_after_sync_failure(void)
{
  char path[160], wal[170];
  cn_store_t *s = NULL;
  char err[256];
  static uint8_t blob[1u << 20];
  struct stat before, after;
  int fd = -1, p[2] = { -1, -1 };

  snprintf(path, sizeof path, "%s/ckpt.db", tmpdir);
  snprintf(wal, sizeof wal, "%s-wal", path);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  REQUIRE(fds_on(wal, 1, &fd) == 1);
  REQUIRE(pipe(p) == 0);
  REQUIRE(dup2(p[0], fd) == fd);
  CHECK_EQ_INT(cn_store_sync(s), -1);
  CHECK_EQ_INT(cn_store_sync_failed(s), 1);
  REQUIRE(stat(path, &before) == 0);
  /* Enough pages in one commit for a checkpoint to be due. */
  REQUIRE(cn_store_begin(s) == 0);
  for (int i = 0; i < 40; i++) {
    char k[16];
    snprintf(k, sizeof k, "blob-%d", i);
    blob[0] = (uint8_t)i;
    REQUIRE(cn_store_meta_set(s, k, blob, sizeof blob) == 0);
  }
  REQUIRE(cn_store_commit_nosync(s) == 0);
  CHECK_EQ_INT(cn_store_checkpoint_due(s), 0);
  CHECK_EQ_INT(cn_store_checkpoint(s), -1);
  REQUIRE(stat(path, &after) == 0);
  CHECK_EQ_INT(after.st_size, before.st_size);
  cn_store_free(s);
  s = NULL;
  REQUIRE(stat(path, &after) == 0);
  CHECK_EQ_INT(after.st_size, before.st_size);
  CHECK_EQ_INT(access(wal, F_OK), 0);
done:
  cn_store_free(s);
  if (p[0] >= 0)
    close(p[0]);
  if (p[1] >= 0)
    close(p[1]);
  util_remove_db(path);
}

/* Whose forwarded roll holds a key: another child council's counts only
 * while that council is still a member here (a removed one's rows stay). */
static void test_roll_elsewhere(cn_store_t *s)
{
  cn_store_key_t k;
  uint8_t a[CN_PK_BYTES], b[CN_PK_BYTES], x[CN_PK_BYTES];

  memset(a, 0xa1, sizeof a);
  memset(b, 0xb2, sizeof b);
  memset(x, 0xc3, sizeof x);
  REQUIRE(cn_store_begin(s) == 0);
  memset(&k, 0, sizeof k);
  memcpy(k.key, b, CN_PK_BYTES);
  k.name = "B";
  k.member = 1;
  k.council = 1;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  CHECK_EQ_INT(cn_store_child_roll_set(s, b, x, 1), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_EQ_INT(cn_store_child_roll_elsewhere(s, a, x), 1);
  CHECK_EQ_INT(cn_store_child_roll_elsewhere(s, b, x), 0);
  REQUIRE(cn_store_begin(s) == 0);
  k.member = 0;                   /* B is removed; its rows stay */
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_EQ_INT(cn_store_child_roll_has(s, b, x), 1);
  CHECK_EQ_INT(cn_store_child_roll_elsewhere(s, a, x), 0);
done:
  if (cn_store_in_transaction(s))
    cn_store_rollback(s);
}

typedef struct parts_seen_t {
  char order[64];                 /* "child:part," per body, as scanned */
  size_t n;
} parts_seen_t;

static int parts_collect(void *ctx, const uint8_t child[CN_PK_BYTES], const uint8_t *body,
                         size_t len)
{
  parts_seen_t *p = ctx;
  size_t at = strlen(p->order);
  snprintf(p->order + at, sizeof p->order - at, "%d:%.*s,", child[31], (int)len,
           (const char *)body);
  p->n++;
  return 0;
}

static int put_part(cn_store_t *s, const uint8_t round[CN_HASH_BYTES], const uint8_t child[CN_PK_BYTES],
                    uint64_t part, uint64_t parts, uint64_t created, uint64_t counted,
                    const char *body)
{
  cn_store_profile_part_t p;
  memset(&p, 0, sizeof p);
  p.part = part;
  p.parts = parts;
  p.created = created;
  p.voters = 10;
  p.counted = counted;
  p.body = (const uint8_t *)body;
  p.body_len = strlen(body);
  return cn_store_profile_put(s, round, child, &p);
}

/* put_part() in a transaction of its own: its result, or -1 if the
 * transaction fails. */
static int put_part_alone(cn_store_t *s, const uint8_t round[CN_HASH_BYTES],
                          const uint8_t child[CN_PK_BYTES], uint64_t part, uint64_t parts,
                          uint64_t created, uint64_t counted, const char *body)
{
  int rc;
  if (cn_store_begin(s) != 0)
    return -1;
  rc = put_part(s, round, child, part, parts, created, counted, body);
  return cn_store_commit(s) == 0 ? rc : -1;
}

/* Check what S counts of ROUND: the parts the scan gives, in ORDER, and
 * the children, whole and partial mandates (each -1: not checked). */
static void profiles_are(cn_store_t *s, const uint8_t round[CN_HASH_BYTES], const char *order,
                         int64_t children, int64_t received, int64_t partial)
{
  parts_seen_t seen;
  uint64_t c = 0, r = 0, pa = 0;

  memset(&seen, 0, sizeof seen);
  CHECK_EQ_INT(cn_store_profile_scan(s, round, parts_collect, &seen), 0);
  CHECK_STR(seen.order, order);
  if (children < 0 && received < 0 && partial < 0)
    return;
  CHECK_EQ_INT(cn_store_profile_counts(s, round, &c, &r, &pa), 0);
  if (children >= 0)
    CHECK_EQ_INT(c, (uint64_t)children);
  if (received >= 0)
    CHECK_EQ_INT(r, (uint64_t)received);
  if (partial >= 0)
    CHECK_EQ_INT(pa, (uint64_t)partial);
}

/* In a transaction left open on S: child councils A and B, members of
 * 10 people each. 0, or -1 if the transaction would not begin. */
static int two_councils(cn_store_t *s, const uint8_t a[CN_PK_BYTES], const uint8_t b[CN_PK_BYTES])
{
  cn_store_key_t k;

  if (cn_store_begin(s) != 0)
    return -1;
  memset(&k, 0, sizeof k);
  k.name = "child";
  k.member = 1;
  k.council = 1;
  memcpy(k.key, a, CN_PK_BYTES);
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  memcpy(k.key, b, CN_PK_BYTES);
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  CHECK_EQ_INT(cn_store_child_weight_put(s, a, 10), 0);
  CHECK_EQ_INT(cn_store_child_weight_put(s, b, 10), 0);
  return 0;
}

/* A child's budget mandate in parts: it counts (scan, counts) once every
 * part of its time is here; a newer one replaces it once whole, and until
 * then the whole one counts; a newer one still replaces an older one with
 * parts missing; a database of schema 8 keeps its mandates as whole ones. */
static void test_profile_parts(void)
{
  char path[160], err[256];
  cn_store_t *s = NULL;
  cn_store_profile_t have;
  uint8_t round[CN_HASH_BYTES], a[CN_PK_BYTES], b[CN_PK_BYTES];
  uint64_t children = 0, received = 0, partial = 0;

  snprintf(path, sizeof path, "%s/parts.db", tmpdir);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  id_of(round, 7);
  key_of(a, 1);
  key_of(b, 2);
  REQUIRE(two_councils(s, a, b) == 0);
  CHECK_EQ_INT(cn_store_profile_get(s, round, a, &have), 1);
  /* A: parts 2 and 0 of 3; B: whole */
  CHECK_EQ_INT(put_part(s, round, a, 2, 3, 50, 3, "a2"), 1);
  CHECK_EQ_INT(put_part(s, round, a, 0, 3, 50, 4, "a0"), 1);
  CHECK_EQ_INT(put_part(s, round, a, 0, 3, 50, 4, "a0"), 0);     /* there already */
  CHECK_EQ_INT(put_part(s, round, b, 0, 1, 40, 10, "b"), 1);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_EQ_INT(cn_store_profile_get(s, round, a, &have), 0);
  CHECK_EQ_INT(have.created, 50);
  CHECK_EQ_INT(have.parts, 3);
  CHECK_EQ_INT(have.voters, 10);
  CHECK_EQ_INT(have.stored, 2);
  CHECK_EQ_INT(have.counted, 7);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 50, 2), 1);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 50, 1), 0);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 49, 2), 0);
  profiles_are(s, round, "2:b,", 2, 1, 1);                                /* A has a part missing */
  /* the last part: A counts, its parts in order */
  CHECK_EQ_INT(put_part_alone(s, round, a, 1, 3, 50, 3, "a1"), 1);
  profiles_are(s, round, "1:a0,1:a1,1:a2,2:b,", -1, 2, 0);
  /* part 1 of 2 of a newer mandate of A: the whole one still counts */
  CHECK_EQ_INT(put_part_alone(s, round, a, 1, 2, 60, 5, "n1"), 1);
  profiles_are(s, round, "1:a0,1:a1,1:a2,2:b,", -1, 2, 1);
  CHECK_EQ_INT(cn_store_profile_get(s, round, a, &have), 0);    /* the newest, not whole */
  CHECK_EQ_INT(have.created, 60);
  CHECK_EQ_INT(have.stored, 1);
  /* part 1 of an even newer one: the one of 60 goes (its part number is
   * taken again), the whole one stays */
  CHECK_EQ_INT(put_part_alone(s, round, a, 1, 2, 70, 5, "m1"), 1);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 60, 1), 0);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 70, 1), 1);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 50, 1), 1);
  profiles_are(s, round, "1:a0,1:a1,1:a2,2:b,", -1, 2, 1);
  /* its last part: it counts, the whole one before it is gone */
  CHECK_EQ_INT(put_part_alone(s, round, a, 0, 2, 70, 5, "m0"), 1);
  profiles_are(s, round, "1:m0,1:m1,2:b,", -1, 2, 0);
  CHECK_STR(side_query(path, "SELECT count(*) FROM budget_profile_parts WHERE hex(child) LIKE '%01'"),
            "2");
  /* Were an older whole mandate still there, it would not count beside it. */
  CHECK_STR(side_query(path, "INSERT INTO budget_profile_parts(round, child, part, parts, created,"
                             " voters, counted, body) SELECT round, child, 0, 1, 45, 10, 10,"
                             " CAST('old' AS BLOB) FROM budget_profile_parts WHERE part = 0 AND"
                             " created = 70"), "(no row)");
  CHECK_STR(side_query(path, "SELECT count(*) FROM budget_profile_parts WHERE created = 45"), "1");
  profiles_are(s, round, "1:m0,1:m1,2:b,", -1, 2, 0);
  cn_store_free(s);
  s = NULL;

  /* Back to schema 8 as released: budget_profiles(round, child, body) with
   * B's whole mandate. Migrated, it is part 0 of 1, of time 0, and counts. */
  {
    char sql[512];
    snprintf(sql, sizeof sql,
             "DROP TABLE budget_profile_parts;"
             "CREATE TABLE budget_profiles(round BLOB NOT NULL, child BLOB NOT NULL, body BLOB NOT NULL,"
             " PRIMARY KEY(round, child));"
             "INSERT INTO budget_profiles VALUES(x'1d%060x07', x'c0%060x02', CAST('old' AS BLOB));"
             "ALTER TABLE rounds DROP COLUMN depth;"
             "PRAGMA user_version = 8;", 0, 0);
    CHECK_EQ_INT(util_sql_exec(path, sql), SQLITE_OK);
  }
  err[0] = 0;
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  CHECK_EQ_INT(atoi(side_query(path, "PRAGMA user_version")), CN_STORE_SCHEMA_VERSION);
  CHECK_STR(side_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'budget_profiles'"), "0");
  profiles_are(s, round, "2:old,", -1, -1, -1);
  CHECK_EQ_INT(cn_store_profile_get(s, round, b, &have), 0);
  CHECK_EQ_INT(have.created, 0);
  CHECK_EQ_INT(have.parts, 1);
  CHECK_EQ_INT(have.stored, 1);
  CHECK_EQ_INT(cn_store_profile_counts(s, round, &children, &received, &partial), 0);
  CHECK_EQ_INT(received, 1);
  CHECK_EQ_INT(partial, 0);
done:
  cn_store_free(s);
  util_remove_db(path);
}

/* Schema step 11 (two mandates of a child, each with its own part numbers):
 * a version-10 database with parts, budget_profile_parts keyed by (round,
 * child, part), is migrated; its mandates count as before, and a newer
 * mandate's part 0 can be stored beside a whole one's. */
static void test_schema_step11(void)
{
  char path[160], err[256], sql[1536];
  cn_store_t *s = NULL;
  cn_store_profile_t have;
  uint8_t round[CN_HASH_BYTES], a[CN_PK_BYTES], b[CN_PK_BYTES];

  snprintf(path, sizeof path, "%s/step11.db", tmpdir);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  id_of(round, 7);
  key_of(a, 1);
  key_of(b, 2);
  REQUIRE(two_councils(s, a, b) == 0);
  REQUIRE(cn_store_commit(s) == 0);
  cn_store_free(s);
  s = NULL;

  /* The table as steps 9 and 10 made it: A's mandate of 2 parts whole, B's
   * with part 1 missing. */
  snprintf(sql, sizeof sql,
           "DROP TABLE budget_profile_parts;"
           "CREATE TABLE budget_profile_parts(round BLOB NOT NULL, child BLOB NOT NULL,"
           " part INTEGER NOT NULL, parts INTEGER NOT NULL, created INTEGER NOT NULL,"
           " voters INTEGER NOT NULL, counted INTEGER NOT NULL, body BLOB NOT NULL,"
           " PRIMARY KEY(round, child, part));"
           "ALTER TABLE budget_profile_parts ADD COLUMN digest BLOB NOT NULL DEFAULT x'';"
           "INSERT INTO budget_profile_parts VALUES(x'1d%060x07', x'c0%060x01', 0, 2, 50, 10, 6,"
           " CAST('a0' AS BLOB), zeroblob(32));"
           "INSERT INTO budget_profile_parts VALUES(x'1d%060x07', x'c0%060x01', 1, 2, 50, 10, 4,"
           " CAST('a1' AS BLOB), zeroblob(32));"
           "INSERT INTO budget_profile_parts VALUES(x'1d%060x07', x'c0%060x02', 0, 2, 60, 10, 5,"
           " CAST('b0' AS BLOB), zeroblob(32));"
           "ALTER TABLE rounds DROP COLUMN depth;"
           "PRAGMA user_version = 10;", 0, 0, 0, 0, 0, 0);
  CHECK_EQ_INT(util_sql_exec(path, sql), SQLITE_OK);

  err[0] = 0;
  if (cn_store_open(path, &s, err, sizeof err) != 0)
    fprintf(stderr, "step 11 migration: %s\n", err);
  REQUIRE(s);
  CHECK_EQ_INT(atoi(side_query(path, "PRAGMA user_version")), CN_STORE_SCHEMA_VERSION);
  CHECK_STR(side_query(path, "SELECT instr(sql, 'PRIMARY KEY(round, child, created, part)') > 0"
                             " FROM sqlite_master WHERE name = 'budget_profile_parts'"), "1");
  CHECK_STR(side_query(path, "SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'"
                             " AND name LIKE 'budget_profile%'"), "budget_profile_parts");
  profiles_are(s, round, "1:a0,1:a1,", 2, 1, 1);
  CHECK_EQ_INT(cn_store_profile_get(s, round, b, &have), 0);
  CHECK_EQ_INT(have.created, 60);
  CHECK_EQ_INT(have.stored, 1);
  CHECK_EQ_INT(have.counted, 5);
  CHECK_EQ_INT(have.has_digest, 1);
  /* part 0 of a newer mandate of A, beside the whole one's part 0 */
  CHECK_EQ_INT(put_part_alone(s, round, a, 0, 2, 70, 3, "n0"), 1);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 50, 0), 1);
  CHECK_EQ_INT(cn_store_profile_has(s, round, a, 70, 0), 1);
  profiles_are(s, round, "1:a0,1:a1,", -1, -1, -1);
done:
  cn_store_free(s);
  util_remove_db(path);
}

/* Schema step 12: a round kept from before has depth 0, and waits the
 * owner's full grace as it did; a round put since keeps its depth. */
static void test_schema_step12(void)
{
  char path[160], err[256];
  cn_store_t *s = NULL;
  cn_store_round_t r, got;
  static const uint8_t body[] = { 0x08, 0x01 };

  snprintf(path, sizeof path, "%s/step12.db", tmpdir);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  cn_store_free(s);
  s = NULL;
  /* a version 11 database with a followed round */
  CHECK_EQ_INT(util_sql_exec(path, "ALTER TABLE rounds DROP COLUMN depth;"
                                     "INSERT INTO rounds(id, seq, owned, opens, closes, body)"
                                     " VALUES(zeroblob(32), 4, 0, 10, 20, x'0801');"
                                     "PRAGMA user_version = 11;"), SQLITE_OK);
  err[0] = 0;
  if (cn_store_open(path, &s, err, sizeof err) != 0)
    fprintf(stderr, "step 12 migration: %s\n", err);
  REQUIRE(s);
  CHECK_EQ_INT(atoi(side_query(path, "PRAGMA user_version")), CN_STORE_SCHEMA_VERSION);
  memset(&r, 0, sizeof r);
  CHECK_EQ_INT(cn_store_round_get(s, r.id, &got), 0);
  CHECK_EQ_INT(got.owned, 0);
  CHECK_EQ_INT(got.depth, 0);
  /* a round taken in since: its depth kept */
  memset(r.id, 9, sizeof r.id);
  r.seq = 5;
  r.opens = 10;
  r.closes = 20;
  r.body = body;
  r.body_len = sizeof body;
  r.depth = 3;
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_round_put(s, &r), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK_EQ_INT(cn_store_round_get(s, r.id, &got), 0);
  CHECK_EQ_INT(got.depth, 3);
done:
  cn_store_free(s);
  util_remove_db(path);
}

typedef struct vol_keys_t {
  uint8_t keys[8][CN_PK_BYTES];
  size_t n;
} vol_keys_t;

static int vol_keep(void *ctx, const cn_store_volunteer_t *v)
{
  vol_keys_t *k = ctx;
  if (k->n < 8)
    memcpy(k->keys[k->n], v->member, CN_PK_BYTES);
  k->n++;
  return 0;
}

/* Scan the lot PROPOSAL at NOW; 1 if it gives exactly the keys numbered
 * WANT (N of them, ascending, as key_of). */
static int lot_is(cn_store_t *s, const uint8_t proposal[CN_HASH_BYTES], uint64_t now,
                  const int *want, size_t n)
{
  vol_keys_t got;
  uint8_t k[CN_PK_BYTES];

  memset(&got, 0, sizeof got);
  if (cn_store_volunteer_scan(s, proposal, now, vol_keep, &got) != 0 || got.n != n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    key_of(k, want[i]);
    if (memcmp(got.keys[i], k, CN_PK_BYTES) != 0)
      return 0;
  }
  return 1;
}

/* A child credential for delegate key DELEGATE from council key ISSUER. */
static int child_cred(cn_store_t *s, int id, int delegate, int issuer, uint64_t term_end)
{
  cn_store_credential_t c;

  memset(&c, 0, sizeof c);
  id_of(c.id, id);
  c.seq = (uint64_t)id;
  key_of(c.delegate, delegate);
  memset(c.parent, 0x9a, CN_PK_BYTES);
  c.term_start = 0;
  c.term_end = term_end;
  c.term = 1;
  c.has_issuer = 1;
  key_of(c.issuer, issuer);
  return cn_store_credential_put(s, &c);
}

/* One volunteer per child council in a lot, on a database of its own (the
 * shared one's roll count is checked after a reopen). Keys: 1 a member
 * holding council 20's credential; 2, 3 (and 4, with council 21's too)
 * council 20's delegates; 5 council 21's. */
static void test_lot_councils(void)
{
  char path[160], err[256];
  cn_store_t *s = NULL;
  cn_store_key_t k;
  uint8_t lot[CN_HASH_BYTES], council[CN_PK_BYTES], want_council[CN_PK_BYTES], d[CN_PK_BYTES];
  uint8_t cred[CN_HASH_BYTES], recall[CN_HASH_BYTES];
  static const int first[] = { 1, 2, 4 }, later[] = { 1, 3, 4 };

  snprintf(path, sizeof path, "%s/lot.db", tmpdir);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  id_of(lot, 99);
  REQUIRE(cn_store_begin(s) == 0);
  memset(&k, 0, sizeof k);
  key_of(k.key, 1);
  k.name = "member";
  k.member = 1;
  CHECK_EQ_INT(cn_store_key_put(s, &k), 0);
  CHECK_EQ_INT(child_cred(s, 1, 1, 20, 5000), 0);
  CHECK_EQ_INT(child_cred(s, 2, 2, 20, 2000), 0);      /* ends at 2000 */
  CHECK_EQ_INT(child_cred(s, 3, 3, 20, 5000), 0);
  CHECK_EQ_INT(child_cred(s, 4, 4, 20, 5000), 0);
  CHECK_EQ_INT(child_cred(s, 5, 4, 21, 5000), 0);
  CHECK_EQ_INT(child_cred(s, 6, 5, 21, 5000), 0);
  key_of(d, 1);
  CHECK_EQ_INT(cn_store_volunteer_put(s, lot, d, 10), 1);
  key_of(d, 2);
  CHECK_EQ_INT(cn_store_volunteer_put(s, lot, d, 11), 1);
  REQUIRE(cn_store_commit(s) == 0);

  /* Council 20's place is taken by 2 (not by 1, a member); 21's is free. */
  key_of(want_council, 20);
  key_of(d, 3);
  CHECK_EQ_INT(cn_store_volunteer_same_council(s, lot, d, 1000, council), 0);
  CHECK(memcmp(council, want_council, CN_PK_BYTES) == 0);
  key_of(d, 5);
  CHECK_EQ_INT(cn_store_volunteer_same_council(s, lot, d, 1000, council), 1);
  /* ... and free for 3 once 2's term is over. */
  key_of(d, 3);
  CHECK_EQ_INT(cn_store_volunteer_same_council(s, lot, d, 2000, council), 1);

  /* Had 3, 4 and 5 volunteered anyway (the checks above are the node's),
   * the close counts one per council: the first to volunteer. 4 holds a
   * credential of council 21 too, whose place no earlier volunteer holds,
   * so 4 counts (a council cannot push another's delegate out by giving
   * them a credential), and holds 21's place: 5 is passed over. */
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_volunteer_put(s, lot, d, 12), 1);
  key_of(d, 4);
  CHECK_EQ_INT(cn_store_volunteer_put(s, lot, d, 13), 1);
  key_of(d, 5);
  CHECK_EQ_INT(cn_store_volunteer_put(s, lot, d, 14), 1);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK(lot_is(s, lot, 1000, first, 3));
  key_of(want_council, 21);
  CHECK_EQ_INT(cn_store_volunteer_same_council(s, lot, d, 1000, council), 0);
  CHECK(memcmp(council, want_council, CN_PK_BYTES) == 0);
  /* 2's term over, or 2 recalled: 3 is the first of council 20. */
  CHECK(lot_is(s, lot, 2000, later, 3));
  id_of(recall, 77);
  id_of(cred, 2);
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_credential_set_recalled(s, cred, recall), 0);
  REQUIRE(cn_store_commit(s) == 0);
  CHECK(lot_is(s, lot, 1000, later, 3));
done:
  if (s) {
    if (cn_store_in_transaction(s))
      cn_store_rollback(s);
    cn_store_free(s);
  }
  util_remove_db(path);
}

/* Two processes opening the same new database at once both succeed: each
 * schema step is decided inside its own write lock, and the switch to WAL
 * mode waits for the other opener. */
static void test_open_race(void)
{
  char path[160];
  int failed = 0, rounds = 40;

  snprintf(path, sizeof path, "%s/race.db", tmpdir);
  for (int r = 0; r < rounds; r++) {
    int gate[2];
    pid_t kid[2] = { -1, -1 };
    util_remove_db(path);
    REQUIRE(pipe(gate) == 0);
    for (int k = 0; k < 2; k++) {
      kid[k] = fork();
      if (kid[k] == 0) {
        cn_store_t *s = NULL;
        char err[256], c;
        close(gate[1]);
        if (read(gate[0], &c, 1) != 0)   /* start together: at EOF */
          _exit(2);
        if (cn_store_open(path, &s, err, sizeof err) != 0) {
          fprintf(stderr, "test_open_race: opener %d: %s\n", k, err);
          _exit(1);
        }
        cn_store_free(s);
        _exit(0);
      }
    }
    close(gate[0]);
    close(gate[1]);
    for (int k = 0; k < 2; k++) {
      int st = 0;
      if (kid[k] < 0 || waitpid(kid[k], &st, 0) != kid[k] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        failed++;
    }
  }
  CHECK_EQ_INT(failed, 0);
  CHECK_EQ_INT(atoi(side_query(path, "PRAGMA user_version")), CN_STORE_SCHEMA_VERSION);
done:
  util_remove_db(path);
}

int main(void)
{
  cn_store_t *s = NULL;
  char err[256];

  if (cn_crypto_init() != 0) {
    fprintf(stderr, "cn_crypto_init failed\n");
    return 1;
  }
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(dbpath, sizeof dbpath, "%s/node.db", tmpdir);

  test_open();
  test_profile_parts();
  test_schema_step11();
  test_schema_step12();
  if (cn_store_open(dbpath, &s, err, sizeof err) != 0) {
    fprintf(stderr, "open: %s\n", err);
    test_failures_++;
  } else {
    test_meta(s);
    test_log(s);
    test_keys(s);
    test_proposals(s);
    test_ballots(s);
    test_roll_elsewhere(s);
    test_sync(s);
    cn_store_free(s);
    /* Everything committed survives a reopen. */
    if (cn_store_open(dbpath, &s, err, sizeof err) == 0) {
      uint64_t seq = 0, n = 0;
      uint8_t h[CN_HASH_BYTES];
      CHECK_EQ_INT(cn_store_log_head(s, &seq, h), 0);
      CHECK_EQ_INT(seq, 4);
      CHECK_EQ_INT(cn_store_roll_count(s, &n), 0);
      CHECK_EQ_INT(n, 1);
      cn_store_free(s);
    } else {
      CHECK(0);
    }
  }
  test_lost_transaction();
  test_lot_councils();
  test_symlink_wal();
  test_no_checkpoint_after_sync_failure();
  test_open_race();
  util_remove_db(dbpath);
  if (rmdir(tmpdir) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_finish("test_store");
}
