/* test_vfs.c: the VFS that gathers a commit's WAL frames (lib/vfs.h).
 *
 * What must hold: a commit is in the WAL file when COMMIT returns OK and
 * before any other connection can see it, without help from the barrier
 * guard (a crash copy taken at once recovers it); a failed write fails the
 * COMMIT and leaves nothing; a read never writes; frames of a transaction
 * rolled back are never written over another writer's; and the writes are
 * really gathered.
 *
 * Under the councilnet VFS lies a "fault" VFS of this test's own (made the
 * default before cn_vfs_name() first runs, so that is what it wraps): it
 * counts the WAL writes that reach the file and can fail one. Other
 * connections use the plain unix VFS, which cannot see what is gathered. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "test.h"
#include "util.h"
#include "vfs.h"

static char tmpdir[256];

/* ---- the fault VFS under ours ---- */

typedef struct {
  sqlite3_file base;
  sqlite3_file *real;
  int wal;
} fault_file;

static sqlite3_vfs fault_vfs, *unix_vfs;
static sqlite3_io_methods fault_methods;
static int wal_writes;          /* WAL writes that reached the file */
static int fail_at = -1;        /* fail the WAL write with this number */
static int fail_rc = SQLITE_IOERR_WRITE;   /* with this (SQLITE_FULL: a full disk) */
static int in_barrier;          /* inside the councilnet barrier (spied) */
static int barrier_writes;      /* WAL writes made from inside it */

static int fault_write(sqlite3_file *f, const void *d, int n, sqlite3_int64 off)
{
  fault_file *p = (fault_file *)f;
  if (p->wal) {
    int k = __atomic_fetch_add(&wal_writes, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&in_barrier, __ATOMIC_RELAXED))
      __atomic_add_fetch(&barrier_writes, 1, __ATOMIC_RELAXED);
    if (k == __atomic_load_n(&fail_at, __ATOMIC_RELAXED))
      return fail_rc;
  }
  return p->real->pMethods->xWrite(p->real, d, n, off);
}

#define FAULT_FWD(name, args, call) \
  static int name args { fault_file *p = (fault_file *)f; return p->real->pMethods->call; }
FAULT_FWD(fault_read, (sqlite3_file *f, void *o, int n, sqlite3_int64 off), xRead(p->real, o, n, off))
FAULT_FWD(fault_truncate, (sqlite3_file *f, sqlite3_int64 s), xTruncate(p->real, s))
FAULT_FWD(fault_sync, (sqlite3_file *f, int fl), xSync(p->real, fl))
FAULT_FWD(fault_size, (sqlite3_file *f, sqlite3_int64 *s), xFileSize(p->real, s))
FAULT_FWD(fault_lock, (sqlite3_file *f, int l), xLock(p->real, l))
FAULT_FWD(fault_unlock, (sqlite3_file *f, int l), xUnlock(p->real, l))
FAULT_FWD(fault_reserved, (sqlite3_file *f, int *o), xCheckReservedLock(p->real, o))
FAULT_FWD(fault_fcntl, (sqlite3_file *f, int op, void *a), xFileControl(p->real, op, a))
FAULT_FWD(fault_sector, (sqlite3_file *f), xSectorSize(p->real))
FAULT_FWD(fault_device, (sqlite3_file *f), xDeviceCharacteristics(p->real))
FAULT_FWD(fault_shm_map, (sqlite3_file *f, int r, int s, int e, void volatile **pp),
          xShmMap(p->real, r, s, e, pp))
FAULT_FWD(fault_shm_lock, (sqlite3_file *f, int o, int n, int fl), xShmLock(p->real, o, n, fl))
FAULT_FWD(fault_shm_unmap, (sqlite3_file *f, int d), xShmUnmap(p->real, d))
FAULT_FWD(fault_fetch, (sqlite3_file *f, sqlite3_int64 o, int n, void **pp), xFetch(p->real, o, n, pp))
FAULT_FWD(fault_unfetch, (sqlite3_file *f, sqlite3_int64 o, void *pg), xUnfetch(p->real, o, pg))

static int fault_close(sqlite3_file *f)
{
  fault_file *p = (fault_file *)f;
  return p->real->pMethods->xClose(p->real);
}

static void fault_barrier(sqlite3_file *f)
{
  fault_file *p = (fault_file *)f;
  p->real->pMethods->xShmBarrier(p->real);
}

static int fault_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
  fault_file *p = (fault_file *)f;
  int rc;

  (void)v;
  p->real = (sqlite3_file *)(p + 1);
  rc = unix_vfs->xOpen(unix_vfs, name, p->real, flags, out);
  if (rc != SQLITE_OK) {
    p->base.pMethods = NULL;
    return rc;
  }
  p->wal = (flags & SQLITE_OPEN_WAL) != 0;
  p->base.pMethods = &fault_methods;
  return SQLITE_OK;
}

static int fault_install(void)
{
  static const sqlite3_io_methods m = {
    3, fault_close, fault_read, fault_write, fault_truncate, fault_sync, fault_size, fault_lock,
    fault_unlock, fault_reserved, fault_fcntl, fault_sector, fault_device, fault_shm_map,
    fault_shm_lock, fault_barrier, fault_shm_unmap, fault_fetch, fault_unfetch,
  };
  unix_vfs = sqlite3_vfs_find("unix");
  if (!unix_vfs)
    return -1;
  fault_methods = m;
  fault_vfs = *unix_vfs;          /* everything but open is unix's own */
  fault_vfs.zName = "fault";
  fault_vfs.szOsFile = (int)((sizeof(fault_file) + 7) & ~(size_t)7) + unix_vfs->szOsFile;
  fault_vfs.xOpen = fault_open;
  return sqlite3_vfs_register(&fault_vfs, 1) == SQLITE_OK ? 0 : -1;
}

/* Spy on a connection's database file: note the WAL writes made inside
 * the councilnet barrier (the guard), which a commit must not need. */
static const sqlite3_io_methods *spied;
static sqlite3_io_methods spy_methods;

static void spy_barrier(sqlite3_file *f)
{
  __atomic_store_n(&in_barrier, 1, __ATOMIC_RELAXED);
  spied->xShmBarrier(f);
  __atomic_store_n(&in_barrier, 0, __ATOMIC_RELAXED);
}

static int spy_on(sqlite3 *db)
{
  sqlite3_file *f = NULL;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f)
    return -1;
  spied = f->pMethods;
  spy_methods = *spied;
  spy_methods.xShmBarrier = spy_barrier;
  f->pMethods = &spy_methods;
  return 0;
}

static void spy_off(sqlite3 *db)
{
  sqlite3_file *f = NULL;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) == SQLITE_OK && f &&
      f->pMethods == &spy_methods)
    f->pMethods = spied;
}

/* ---- helpers ---- */

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
  if (db && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* Open PATH on the unix VFS, run SQL, close. */
static long long query_path(const char *path, const char *sql)
{
  sqlite3 *db = open_db(path, "unix");
  long long v = query_int(db, sql);
  sqlite3_close(db);
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

static int copy_file(const char *from, const char *to)
{
  char buf[65536];
  int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc = -1;
  ssize_t n;
  if (in < 0 || out < 0)
    goto out;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n)
      goto out;
  rc = n == 0 ? 0 : -1;
out:
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  return rc;
}

/* A crash now: what SQLite recovers from the database and WAL files as
 * they are (the wal-index, which lives in memory, is not copied). */
static long long after_crash(const char *path, const char *sql)
{
  char copy[320], wal[320], copy_wal[340];
  long long v = -1;

  snprintf(copy, sizeof copy, "%s.crash", path);
  snprintf(wal, sizeof wal, "%s-wal", path);
  snprintf(copy_wal, sizeof copy_wal, "%s-wal", copy);
  util_remove_db(copy);
  if (copy_file(path, copy) == 0 && copy_file(wal, copy_wal) == 0)
    v = query_path(copy, sql);
  util_remove_db(copy);
  return v;
}

/* Insert N rows with random keys and VLEN-byte values. Return the last
 * sqlite3_step() result. */
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

/* A new database at PATH on the councilnet VFS, as the store sets it up,
 * with table t(k, v) and a counter c(n). */
#define SCHEMA_T "CREATE TABLE t(k BLOB PRIMARY KEY, v BLOB NOT NULL);" \
  "CREATE TABLE c(n INTEGER NOT NULL); INSERT INTO c VALUES(0);"
/* The first review's table: 400 rows of 1000 bytes, integer keys, a
 * unique column c (so an update touches two B-trees), all checkpointed. */
#define SCHEMA_T400 "CREATE TABLE t(k INTEGER PRIMARY KEY, c INTEGER UNIQUE, v BLOB);" \
  "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 400)" \
  " INSERT INTO t SELECT i, i, randomblob(1000) FROM r; PRAGMA wal_checkpoint(TRUNCATE);"

static sqlite3 *make_db(const char *path, const char *schema)
{
  sqlite3 *db;
  util_remove_db(path);
  db = open_db(path, cn_vfs_name());
  if (db && (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                          "PRAGMA wal_autocheckpoint=0;", NULL, NULL, NULL) != SQLITE_OK ||
             sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)) {
    fprintf(stderr, "make_db: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    db = NULL;
  }
  return db;
}

/* ---- cases ---- */

/* One commit of some 60 pages: SQLite makes two write calls a frame, the
 * file gets a few, all inside COMMIT; a connection on the unix VFS sees
 * every row the moment COMMIT returns. */
static void test_gathers(void)
{
  char path[300];
  sqlite3 *db = NULL;
  int before;

  snprintf(path, sizeof path, "%s/gather.db", tmpdir);
  REQUIRE(cn_vfs_name() != NULL);
  REQUIRE((db = make_db(path, SCHEMA_T)) != NULL);
  REQUIRE(spy_on(db) == 0);
  barrier_writes = 0;
  before = wal_writes;
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 60, 3000), SQLITE_DONE);
  REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  fprintf(stderr, "test_vfs: a commit of 60 rows of 3 KB: %d WAL writes reached the file\n",
          wal_writes - before);
  CHECK(wal_writes - before >= 1 && wal_writes - before <= 4);   /* ~280 KB, 120 KiB a call */
  CHECK_EQ_INT(barrier_writes, 0);
  CHECK_EQ_INT(query_path(path, "SELECT count(*) FROM t"), 60);
  /* the next commit appends after it */
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 5, 100), SQLITE_DONE);
  REQUIRE(sqlite3_exec(db, "UPDATE c SET n = n + 1; COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(query_path(path, "SELECT count(*) + (SELECT n FROM c) FROM t"), 66);
  CHECK_EQ_INT(after_crash(path, "SELECT count(*) + (SELECT n FROM c) FROM t"), 66);
  CHECK_EQ_INT(barrier_writes, 0);
  spy_off(db);                    /* cn_vfs_failed() knows only its own methods */
  CHECK_EQ_INT(cn_vfs_failed(db), 0);
done:
  if (db)
    spy_off(db);
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

/* A commit whose frames pass the 4 MiB that are gathered at most: the
 * commit frame is still written by COMMIT itself, wherever it falls
 * (before, the write out at the limit forgot the pending commit frame,
 * and only the barrier guard wrote it: with a failure nobody heard of). */
static void test_gather_limit(void)
{
  char path[300];
  sqlite3 *db = NULL;

  snprintf(path, sizeof path, "%s/limit.db", tmpdir);
  for (int n = 1010; n <= 1026; n++) {
    char sql[200];
    REQUIRE((db = make_db(path, SCHEMA_T)) != NULL);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE b(x BLOB)", NULL, NULL, NULL) == SQLITE_OK);
    REQUIRE(spy_on(db) == 0);
    barrier_writes = 0;
    /* a page a row, no index: the commit frame is frame N + 1 or so */
    snprintf(sql, sizeof sql, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r"
             " WHERE i < %d) INSERT INTO b SELECT randomblob(3000) FROM r", n);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    if (barrier_writes)
      fprintf(stderr, "test_vfs: %d rows: the barrier wrote %d times\n", n, barrier_writes);
    CHECK_EQ_INT(barrier_writes, 0);
    CHECK_EQ_INT(after_crash(path, "SELECT count(*) FROM b"), n);
    /* the large buffer is let go after its transaction; the next small
     * commit gathers in a new one */
    CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO b VALUES(randomblob(100))", NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(barrier_writes, 0);
    CHECK_EQ_INT(after_crash(path, "SELECT count(*) FROM b"), n + 1);
    spy_off(db);
    sqlite3_close(db);
    db = NULL;
  }
done:
  if (db)
    spy_off(db);
  sqlite3_close(db);
}

/* A transaction whose pages spill from a small cache and are changed again
 * makes SQLite rewrite frames and their checksums in place at COMMIT (the
 * commit frame's header last). Those are written at once: a crash copy
 * taken when COMMIT returns has the commit, with no help from the guard. */
static void test_rewritten_checksums(void)
{
  char path[300];
  sqlite3 *db = NULL;

  snprintf(path, sizeof path, "%s/recksum.db", tmpdir);
  REQUIRE((db = make_db(path, SCHEMA_T400)) != NULL);
  REQUIRE(spy_on(db) == 0);
  barrier_writes = 0;
  REQUIRE(sqlite3_exec(db, "PRAGMA cache_size=10; BEGIN;"
                       "UPDATE t SET v = zeroblob(1000) WHERE k <= 300;"
                       "UPDATE t SET c = -c WHERE k <= 300; COMMIT",
                       NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(barrier_writes, 0);
  CHECK_EQ_INT(after_crash(path, "SELECT count(*) FROM t WHERE c < 0 AND v = zeroblob(1000)"),
               300);
  CHECK_EQ_INT(query_path(path, "SELECT count(*) FROM t WHERE c < 0"), 300);
done:
  if (db)
    spy_off(db);
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

/* A write the file refuses fails the COMMIT, and nothing of it is seen;
 * SQLite heard of it, so nothing latches and the next transaction works. */
static void test_commit_write_fails(void)
{
  char path[300];
  sqlite3 *db = NULL;
  int rc;

  snprintf(path, sizeof path, "%s/fail.db", tmpdir);
  REQUIRE((db = make_db(path, SCHEMA_T)) != NULL);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 3, 100), SQLITE_DONE);
  REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 4, 100), SQLITE_DONE);
  fail_at = wal_writes;           /* the next one: the commit's */
  rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  fail_at = -1;
  CHECK_EQ_INT(rc & 0xff, SQLITE_IOERR);
  if (!sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  CHECK_EQ_INT(query_path(path, "SELECT count(*) FROM t"), 3);
  CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM t"), 3);
  CHECK_EQ_INT(cn_vfs_failed(db), 0);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 2, 100), SQLITE_DONE);
  CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(query_path(path, "SELECT count(*) FROM t"), 5);
  CHECK_EQ_INT(after_crash(path, "SELECT count(*) FROM t"), 5);
done:
  fail_at = -1;
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

/* The store's shape of a batch: pages spill, then an act in a savepoint
 * reads spilled pages back, and the file refuses the next write. A read
 * never writes, so the failure reaches SQLite through a write, and the
 * COMMIT either fails whole or holds everything (before, the read wrote
 * the spilled frames, its failure became a statement error, the batch
 * committed OK, and the database was malformed). */
static void test_spill_read_back(void)
{
  char path[300];
  sqlite3 *db = NULL;
  int rc;
  long long zeroed;

  snprintf(path, sizeof path, "%s/spill.db", tmpdir);
  REQUIRE((db = make_db(path, SCHEMA_T400)) != NULL);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE u(k INTEGER PRIMARY KEY, c INTEGER UNIQUE);"
                       "INSERT INTO u SELECT k, k FROM t; PRAGMA wal_checkpoint(TRUNCATE);"
                       "PRAGMA cache_size=10;", NULL, NULL, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN; UPDATE t SET v = zeroblob(1000) WHERE k <= 300;"
                       "SAVEPOINT act;", NULL, NULL, NULL) == SQLITE_OK);
  fail_rc = SQLITE_FULL;          /* a statement error to SQLite, if a read reported it */
  fail_at = wal_writes;
  sqlite3_exec(db, "UPDATE u SET c = c + 100000 + (SELECT length(v) FROM t WHERE t.k = u.k)"
               " WHERE k <= 5", NULL, NULL, NULL);
  sqlite3_exec(db, "ROLLBACK TO act; RELEASE act", NULL, NULL, NULL);
  rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  fail_at = -1;
  fail_rc = SQLITE_IOERR_WRITE;
  if (!sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  zeroed = query_path(path, "SELECT count(*) FROM t WHERE v = zeroblob(1000)");
  fprintf(stderr, "test_vfs: spill, read back, failed write: COMMIT %d, %lld rows changed\n", rc,
          zeroed);
  CHECK_EQ_INT(zeroed, rc == SQLITE_OK ? 300 : 0);
  CHECK_EQ_INT(after_crash(path, "SELECT count(*) FROM t WHERE v = zeroblob(1000)"),
               rc == SQLITE_OK ? 300 : 0);
  CHECK(rc != SQLITE_OK);         /* the armed failure is the commit's own write */
  CHECK_EQ_INT(query_path(path, "SELECT count(*) FROM u WHERE c > 100000"), 0);
  CHECK_EQ_INT(cn_vfs_failed(db), 0);
done:
  fail_at = -1;
  fail_rc = SQLITE_IOERR_WRITE;
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

/* Frames of a transaction rolled back are never written later: here
 * another connection commits at the same place in the WAL, then the first
 * one reads (its barrier) and closes. The other's commit stays whole. */
static void test_rollback_then_other_writer(void)
{
  char path[300];
  sqlite3 *a = NULL, *c = NULL;

  snprintf(path, sizeof path, "%s/stale.db", tmpdir);
  REQUIRE((a = make_db(path, SCHEMA_T400)) != NULL);
  REQUIRE(sqlite3_exec(a, "PRAGMA cache_size=10; BEGIN;"
                       "UPDATE t SET v = zeroblob(1000) WHERE k <= 300; ROLLBACK;",
                       NULL, NULL, NULL) == SQLITE_OK);
  REQUIRE((c = open_db(path, "unix")) != NULL);
  REQUIRE(sqlite3_exec(c, "UPDATE t SET v = randomblob(999) WHERE k <= 300", NULL, NULL, NULL) ==
          SQLITE_OK);
  CHECK_EQ_INT(query_int(a, "SELECT count(*) FROM t"), 400);
  CHECK_EQ_INT(query_path(path, "SELECT count(*) FROM t WHERE length(v) = 999"), 300);
  CHECK_EQ_INT(after_crash(path, "SELECT count(*) FROM t WHERE length(v) = 999"), 300);
  sqlite3_close(a);
  a = NULL;
  CHECK_EQ_INT(query_int(c, "SELECT count(*) FROM t WHERE length(v) = 999"), 300);
done:
  sqlite3_close(a);
  sqlite3_close(c);
  CHECK(integrity_ok(path));
}

/* A failed write SQLite is told of (here the WAL header, written after a
 * checkpoint emptied the WAL and synced at once) fails that COMMIT only,
 * as on the plain VFS: the next COMMIT works and nothing latches (it did,
 * in the sync, and every later commit failed until a restart). */
static void test_header_write_fails(void)
{
  char path[300];
  sqlite3 *db = NULL;
  int rc;

  snprintf(path, sizeof path, "%s/hdrfail.db", tmpdir);
  REQUIRE((db = make_db(path, SCHEMA_T)) != NULL);
  REQUIRE(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 3, 100), SQLITE_DONE);
  fail_rc = SQLITE_FULL;
  fail_at = wal_writes;           /* the next one: the WAL header, at its sync */
  rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  fail_at = -1;
  fail_rc = SQLITE_IOERR_WRITE;
  CHECK(rc != SQLITE_OK);
  if (!sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  CHECK_EQ_INT(cn_vfs_failed(db), 0);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK_EQ_INT(insert_rows(db, 2, 100), SQLITE_DONE);
  rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    fprintf(stderr, "test_vfs: the COMMIT after a failed WAL header write: %s\n",
            sqlite3_errmsg(db));
  CHECK_EQ_INT(rc, SQLITE_OK);
  if (!sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  CHECK_EQ_INT(after_crash(path, "SELECT count(*) FROM t"), 2);
done:
  fail_at = -1;
  fail_rc = SQLITE_IOERR_WRITE;
  sqlite3_close(db);
}

/* What a row set adds up to, to compare two states of t. */
static long long t_digest(sqlite3 *db)
{
  return query_int(db, "SELECT total(length(v)) + count(*) * 7 + total(k) + total(c) FROM t");
}

/* 80 transactions (seeded; CN_VFS_ROUNDS and CN_VFS_SEED change them) of
 * updates in a small or a large cache, in and out of savepoints, with one
 * of the next 40 WAL writes failing (a full disk or an I/O error): a
 * COMMIT that fails leaves the table as it was, a crash copy always equals
 * what the connection sees, and nothing latches. */
static void test_random_write_failures(void)
{
  char path[300], sql[400];
  sqlite3 *db = NULL;
  const char *e_seed = getenv("CN_VFS_SEED"), *e_rounds = getenv("CN_VFS_ROUNDS");
  unsigned seed = e_seed ? (unsigned)atoi(e_seed) : 1;
  int rounds = e_rounds ? atoi(e_rounds) : 80, commits_failed = 0;

  snprintf(path, sizeof path, "%s/random.db", tmpdir);
  REQUIRE((db = make_db(path, SCHEMA_T400)) != NULL);
  for (int r = 0; r < rounds; r++) {
    long long before = t_digest(db), live;
    int rc;
    seed = seed * 1103515245u + 12345u;
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%d",
             (seed >> 8) % 2 ? 5 + (int)((seed >> 12) % 20) : 2000);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    if ((seed >> 16) % 5 == 0)
      sqlite3_exec(db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
    fail_rc = (seed >> 20) % 2 ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    fail_at = wal_writes + (int)((seed >> 10) % 40);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    snprintf(sql, sizeof sql, "UPDATE t SET v = randomblob(%d) WHERE k %% %d = %d",
             100 + (int)((seed >> 5) % 1500), 2 + (int)((seed >> 3) % 4), (int)((seed >> 7) % 2));
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_exec(db, "SAVEPOINT a; UPDATE t SET c = c + 1000000 WHERE k % 3 = 0;", NULL, NULL,
                 NULL);
    sqlite3_exec(db, (seed >> 9) % 2 ? "ROLLBACK TO a; RELEASE a" : "RELEASE a", NULL, NULL,
                 NULL);
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    fail_at = -1;
    if (!sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    live = t_digest(db);
    if (rc != SQLITE_OK) {
      commits_failed++;
      CHECK_EQ_INT(live, before);
    }
    CHECK_EQ_INT(after_crash(path, "SELECT total(length(v)) + count(*) * 7 + total(k) + total(c)"
                             " FROM t"), live);
    CHECK_EQ_INT(cn_vfs_failed(db), 0);
  }
  fprintf(stderr, "test_vfs: %d transactions with a write failing, %d COMMITs failed\n", rounds,
          commits_failed);
  CHECK(commits_failed > 0);
done:
  fail_at = -1;
  fail_rc = SQLITE_IOERR_WRITE;
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

/* Each WAL finds its connection's database file (SQLite names both from
 * one buffer) also for a URI with parameters and for an ATTACHed
 * database: their commits are gathered too. */
static void test_pairing(void)
{
  char path[300], p2[300], uri[400], sql[500];
  sqlite3 *db = NULL;
  int before;

  snprintf(path, sizeof path, "%s/pair.db", tmpdir);
  snprintf(p2, sizeof p2, "%s/pair2.db", tmpdir);
  util_remove_db(path);
  util_remove_db(p2);
  snprintf(uri, sizeof uri, "file:%s?psow=1&a=&b=x", path);
  REQUIRE(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                          cn_vfs_name()) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
                       "CREATE TABLE t(k BLOB PRIMARY KEY, v BLOB NOT NULL)",
                       NULL, NULL, NULL) == SQLITE_OK);
  snprintf(sql, sizeof sql, "ATTACH 'file:%s?x=1' AS aux; PRAGMA aux.journal_mode=WAL;"
           "CREATE TABLE aux.u(x)", p2);
  REQUIRE(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  before = wal_writes;
  REQUIRE(sqlite3_exec(db, "INSERT INTO t SELECT randomblob(32), randomblob(3000) FROM"
                       " (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r"
                       " WHERE i < 30) SELECT i FROM r)", NULL, NULL, NULL) == SQLITE_OK);
  CHECK(wal_writes - before >= 1 && wal_writes - before <= 4);
  before = wal_writes;
  REQUIRE(sqlite3_exec(db, "INSERT INTO aux.u SELECT randomblob(3000) FROM"
                       " (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r"
                       " WHERE i < 30) SELECT i FROM r)", NULL, NULL, NULL) == SQLITE_OK);
  CHECK(wal_writes - before >= 1 && wal_writes - before <= 4);
  CHECK_EQ_INT(query_path(p2, "SELECT count(*) FROM u"), 30);
done:
  sqlite3_close(db);
}

/* With psow=0 and synchronous=FULL, SQLite pads a commit to the sector
 * with copies of the commit frame and splits the one that crosses the
 * sector at its sync: the rest must be written by COMMIT too, not left to
 * the barrier guard (where a failure can only latch). */
static void test_padding_split(void)
{
  char path[300], uri[400];
  sqlite3 *db = NULL;
  int guarded = 0;

  snprintf(path, sizeof path, "%s/pad.db", tmpdir);
  util_remove_db(path);
  snprintf(uri, sizeof uri, "file:%s?psow=0", path);
  REQUIRE(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                          cn_vfs_name()) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                       "CREATE TABLE t(k BLOB PRIMARY KEY, v BLOB NOT NULL)",
                       NULL, NULL, NULL) == SQLITE_OK);
  REQUIRE(spy_on(db) == 0);
  for (int i = 1; i <= 8; i++) {
    barrier_writes = 0;
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_INT(insert_rows(db, i, 700), SQLITE_DONE);
    REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    guarded += barrier_writes;
  }
  CHECK_EQ_INT(guarded, 0);
done:
  if (db)
    spy_off(db);
  sqlite3_close(db);
}

/* A writer commits while, on other threads, a reader on the unix VFS
 * checks that every snapshot it sees is whole (rows == counter) and a
 * checkpointer copies the WAL into the database. */
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
  REQUIRE((db = make_db(path, SCHEMA_T)) != NULL);
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
  CHECK_EQ_INT(cn_vfs_failed(db), 0);
  sqlite3_close(db);
  CHECK(integrity_ok(path));
}

int main(void)
{
  if (sodium_init() < 0 || util_tmpdir(tmpdir, sizeof tmpdir, "vfs") != 0)
    return 1;
  /* before the first cn_vfs_name(): the fault VFS is what it wraps */
  if (fault_install() != 0) {
    fprintf(stderr, "test_vfs: cannot register the fault VFS\n");
    return 1;
  }
  test_gathers();
  test_gather_limit();
  test_rewritten_checksums();
  test_commit_write_fails();
  test_spill_read_back();
  test_rollback_then_other_writer();
  test_header_write_fails();
  test_random_write_failures();
  test_pairing();
  test_padding_split();
  test_race();
  util_rmtree(tmpdir);
  return test_finish("test_vfs");
}
