/* test_vfs.c: the VFS that gathers a commit's WAL writes (lib/vfs.h).
 *
 * What must hold: a commit is in the WAL file when COMMIT returns, so any
 * other connection (here on the plain unix VFS, which cannot see our
 * buffers) reads exactly what was committed, also while a writer and a
 * checkpointer run on other threads; a failed write fails the COMMIT and
 * leaves nothing; and the writes are really gathered. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "test.h"
#include "util.h"
#include "vfs.h"

static char tmpdir[256];

static sqlite3 *open_db(const char *path, const char *vfs)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK) {
    fprintf(stderr, "open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static long long query_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static int integrity_ok(const char *path)
{
  sqlite3 *db = open_db(path, "unix");
  sqlite3_stmt *st = NULL;
  int ok = 0;
  if (db && sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return ok;
}

/* Insert N rows with random keys and VLEN-byte values (one page each or
 * so, spread over the key index). Return the sqlite3_step() result. */
static int insert_rows(sqlite3 *db, int n, int vlen)
{
  sqlite3_stmt *st = NULL;
  uint8_t key[32], *val = malloc((size_t)vlen);
  int rc = SQLITE_NOMEM;

  if (!val || sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES(?1, ?2)", -1, &st, NULL) !=
      SQLITE_OK)
    goto out;
  for (int i = 0; i < n; i++) {
    randombytes_buf(key, sizeof key);
    randombytes_buf(val, (size_t)vlen);
    sqlite3_bind_blob(st, 1, key, sizeof key, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, val, vlen, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
      goto out;
  }
out:
  sqlite3_finalize(st);
  free(val);
  return rc;
}

static sqlite3 *make_db(const char *path)
{
  sqlite3 *db = open_db(path, cn_vfs_name());
  if (db && sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         "PRAGMA wal_autocheckpoint=0;"
                         "CREATE TABLE IF NOT EXISTS t(k BLOB PRIMARY KEY, v BLOB NOT NULL);"
                         "CREATE TABLE IF NOT EXISTS c(n INTEGER NOT NULL);"
                         "INSERT INTO c SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM c);",
                         NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "make_db: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    db = NULL;
  }
  return db;
}

/* One commit of some 60 pages: SQLite makes two write calls a frame, the
 * file gets a few; and the moment COMMIT returns, a connection on the plain
 * unix VFS sees every row. */
static void test_gathers(void)
{
  char path[300];
  sqlite3 *db = NULL, *other = NULL;
  uint64_t g0, w0, g1, w1;

  snprintf(path, sizeof path, "%s/gather.db", tmpdir);
  REQUIRE(cn_vfs_name() != NULL);
  REQUIRE((db = make_db(path)) != NULL);
  REQUIRE((other = open_db(path, "unix")) != NULL);
  CHECK_EQ_INT(query_int(other, "SELECT count(*) FROM t"), 0);
  cn_vfs_counts(&g0, &w0);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 60, 3000), SQLITE_DONE);
  REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  cn_vfs_counts(&g1, &w1);
  CHECK_EQ_INT(query_int(other, "SELECT count(*) FROM t"), 60);
  fprintf(stderr, "test_vfs: one commit: %llu WAL writes from SQLite, %llu to the file\n",
          (unsigned long long)(g1 - g0), (unsigned long long)(w1 - w0));
  CHECK(g1 - g0 >= 120);          /* header + page for each of 60+ frames */
  CHECK(w1 - w0 >= 1 && w1 - w0 <= 4);   /* ~250 KB in 120 KiB calls */
  /* A second commit appends after the first and is as visible. */
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 5, 100), SQLITE_DONE);
  REQUIRE(sqlite3_exec(db, "UPDATE c SET n = n + 1; COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(query_int(other, "SELECT count(*) + (SELECT n FROM c) FROM t"), 66);
  CHECK_EQ_INT(cn_vfs_lost_writes(), 0);
done:
  sqlite3_close(other);
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

/* A writer commits while, on other threads, a reader on the unix VFS
 * checks that every snapshot it sees is whole (rows == counter) and a
 * checkpointer copies the WAL into the database. Frames that were not in
 * the file when a commit was published would show as a torn snapshot, a
 * "malformed" error, or a failed integrity check. */
typedef struct {
  const char *path;
  int stop;
  int bad;
  long long snapshots;
} race_t;

static void *race_reader(void *arg)
{
  race_t *r = arg;
  sqlite3 *db = open_db(r->path, "unix");
  sqlite3_stmt *st = NULL;

  if (!db || sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM t), (SELECT n FROM c)", -1,
                                &st, NULL) != SQLITE_OK) {
    __atomic_store_n(&r->bad, 1, __ATOMIC_RELEASE);
    goto out;
  }
  while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_BUSY) {
      sqlite3_reset(st);
      continue;
    }
    if (rc != SQLITE_ROW || sqlite3_column_int64(st, 0) != sqlite3_column_int64(st, 1)) {
      fprintf(stderr, "test_vfs: reader: rc %d, rows %lld, counter %lld (%s)\n", rc,
              (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
              sqlite3_errmsg(db));
      __atomic_store_n(&r->bad, 1, __ATOMIC_RELEASE);
      break;
    }
    sqlite3_reset(st);
    r->snapshots++;
  }
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  return NULL;
}

static void *race_checkpointer(void *arg)
{
  race_t *r = arg;
  sqlite3 *db = open_db(r->path, cn_vfs_name());

  while (db && !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
    int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      fprintf(stderr, "test_vfs: checkpoint: %s\n", sqlite3_errmsg(db));
      __atomic_store_n(&r->bad, 1, __ATOMIC_RELEASE);
      break;
    }
    sqlite3_sleep(1);
  }
  sqlite3_close(db);
  return NULL;
}

static void test_race(void)
{
  char path[300];
  sqlite3 *db = NULL;
  race_t r = { 0 };
  pthread_t reader, ckpt;
  int started = 0, commits = 0;

  snprintf(path, sizeof path, "%s/race.db", tmpdir);
  r.path = path;
  REQUIRE((db = make_db(path)) != NULL);
  REQUIRE(pthread_create(&reader, NULL, race_reader, &r) == 0);
  if (pthread_create(&ckpt, NULL, race_checkpointer, &r) != 0) {
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(reader, NULL);
    REQUIRE(0);
  }
  started = 1;
  for (int i = 0; i < 1500 && !__atomic_load_n(&r.bad, __ATOMIC_ACQUIRE); i++) {
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    REQUIRE(insert_rows(db, 1 + i % 7, 400) == SQLITE_DONE);
    REQUIRE(sqlite3_exec(db, "UPDATE c SET n = (SELECT count(*) FROM t); COMMIT", NULL, NULL,
                         NULL) == SQLITE_OK);
    commits++;
  }
done:
  if (started) {
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(reader, NULL);
    pthread_join(ckpt, NULL);
    fprintf(stderr, "test_vfs: %d commits, %lld snapshots read meanwhile\n", commits,
            r.snapshots);
    CHECK_EQ_INT(r.bad, 0);
    CHECK_EQ_INT(commits, 1500);
    CHECK(r.snapshots > 0);
  }
  if (db)
    CHECK_EQ_INT(query_int(db, "SELECT count(*) - (SELECT n FROM c) FROM t"), 0);
  sqlite3_close(db);
  CHECK(integrity_ok(path));
  CHECK_EQ_INT(cn_vfs_lost_writes(), 0);
}

/* A write the file refuses fails the COMMIT, and nothing of it is seen;
 * the next transaction works. */
static void test_write_fails(void)
{
  char path[300];
  sqlite3 *db = NULL, *other = NULL;
  int rc;

  snprintf(path, sizeof path, "%s/fail.db", tmpdir);
  REQUIRE((db = make_db(path)) != NULL);
  REQUIRE((other = open_db(path, "unix")) != NULL);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 3, 100), SQLITE_DONE);
  REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  cn_vfs_fail_writes(1);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 4, 100), SQLITE_DONE);
  rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  cn_vfs_fail_writes(0);
  CHECK_EQ_INT(rc & 0xff, SQLITE_IOERR);
  if (!sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  CHECK_EQ_INT(query_int(other, "SELECT count(*) FROM t"), 3);
  CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t"), 3);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 2, 100), SQLITE_DONE);
  CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(query_int(other, "SELECT count(*) FROM t"), 5);
  CHECK_EQ_INT(cn_vfs_lost_writes(), 0);
done:
  cn_vfs_fail_writes(0);
  sqlite3_close(other);
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

int main(void)
{
  if (sodium_init() < 0 || util_tmpdir(tmpdir, sizeof tmpdir, "vfs") != 0)
    return 1;
  test_gathers();
  test_race();
  test_write_fails();
  util_rmtree(tmpdir);
  return test_finish("test_vfs");
}
