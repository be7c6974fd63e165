/* test_vfs_shadow.c: the gathering VFS (lib/vfs.h) against a plain file.
 *
 * A "shadow" VFS laid over the councilnet one keeps, for the writer's WAL,
 * the bytes SQLite believes it has written (what a plain file would hold)
 * and checks every read and every size SQLite gets against them; after
 * each COMMIT the file on disk must equal the shadow, and no commit may
 * need the barrier guard to reach the file. 100 random transactions
 * (argv[1] rounds, argv[2] seed): inserts, updates, deletes, a statement
 * that fails at its end, savepoints rolled back or kept, caches small
 * enough to spill, synchronous OFF/NORMAL/FULL, journal_size_limit, and
 * PASSIVE (second connection), TRUNCATE, RESTART and FULL checkpoints.
 * CN_VFS_URI adds URI parameters (say "?psow=0"). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "test.h"
#include "util.h"
#include "vfs.h"

typedef struct {
  sqlite3_file base;
  sqlite3_file *real;
  int wal;
  char path[512];
  unsigned char *sh;
  size_t shlen, shcap;
} sh_file;

static sqlite3_vfs sh_vfs, *cn;
static sqlite3_io_methods sh_methods;
static int mismatches, nreads, nwrites, ntrunc;
static sh_file *the_wal;   /* the writer's WAL */
static int in_commit, guard_needed;
static int sh_compare_disk(sh_file *p, const char *when);

static void sh_grow(sh_file *p, size_t n)
{
  if (n > p->shcap) {
    size_t c = p->shcap ? p->shcap : 65536;
    while (c < n)
      c *= 2;
    p->sh = realloc(p->sh, c);
    memset(p->sh + p->shcap, 0, c - p->shcap);
    p->shcap = c;
  }
}

static void sh_load(sh_file *p)
{
  int fd = open(p->path, O_RDONLY);
  struct stat st;
  p->shlen = 0;
  if (fd < 0)
    return;
  if (fstat(fd, &st) == 0) {
    sh_grow(p, (size_t)st.st_size + 1);
    memset(p->sh, 0, p->shcap);
    p->shlen = (size_t)pread(fd, p->sh, (size_t)st.st_size, 0);
  }
  close(fd);
}

/* 0 if the file on disk equals the shadow */
static int sh_compare_disk(sh_file *p, const char *when)
{
  int fd = open(p->path, O_RDONLY);
  struct stat st;
  unsigned char *b;
  int bad = 0;
  if (fd < 0)
    return p->shlen == 0 ? 0 : -1;
  fstat(fd, &st);
  if ((size_t)st.st_size != p->shlen) {
    fprintf(stderr, "%s: disk size %lld, shadow %zu\n", when, (long long)st.st_size, p->shlen);
    bad = 1;
  }
  b = malloc((size_t)st.st_size + 1);
  if (pread(fd, b, (size_t)st.st_size, 0) != st.st_size)
    bad = 1;
  for (size_t i = 0; i < (size_t)st.st_size && i < p->shlen; i++)
    if (b[i] != p->sh[i]) {
      fprintf(stderr, "%s: disk differs from shadow at %zu\n", when, i);
      bad = 1;
      break;
    }
  free(b);
  close(fd);
  return bad ? -1 : 0;
}

static int sh_write(sqlite3_file *f, const void *d, int n, sqlite3_int64 off)
{
  sh_file *p = (sh_file *)f;
  int rc = p->real->pMethods->xWrite(p->real, d, n, off);
  if (p->wal) nwrites++;
  if (p->wal && rc == SQLITE_OK) {
    sh_grow(p, (size_t)off + (size_t)n);
    memcpy(p->sh + off, d, (size_t)n);
    if ((size_t)off + (size_t)n > p->shlen)
      p->shlen = (size_t)off + (size_t)n;
  }
  return rc;
}

static int sh_read(sqlite3_file *f, void *o, int n, sqlite3_int64 off)
{
  sh_file *p = (sh_file *)f;
  int rc = p->real->pMethods->xRead(p->real, o, n, off);
  if (p->wal && p == the_wal && (rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ)) {
    unsigned char *want = calloc(1, (size_t)n);
    nreads++;
    if ((size_t)off < p->shlen)
      memcpy(want, p->sh + off, (size_t)off + n <= p->shlen ? (size_t)n : p->shlen - (size_t)off);
    if (memcmp(want, o, (size_t)n) != 0 ||
        (rc == SQLITE_OK) != ((size_t)off + (size_t)n <= p->shlen)) {
      fprintf(stderr, "read %d at %lld: differs from shadow (rc %d, shadow len %zu)\n", n,
              (long long)off, rc, p->shlen);
      mismatches++;
    }
    free(want);
  }
  return rc;
}

static int sh_truncate(sqlite3_file *f, sqlite3_int64 s)
{
  sh_file *p = (sh_file *)f;
  int rc = p->real->pMethods->xTruncate(p->real, s);
  if (p->wal) ntrunc++;
  if (p->wal && rc == SQLITE_OK && (size_t)s < p->shlen) {
    memset(p->sh + s, 0, p->shlen - (size_t)s);
    p->shlen = (size_t)s;
  }
  return rc;
}

static int sh_size(sqlite3_file *f, sqlite3_int64 *s)
{
  sh_file *p = (sh_file *)f;
  int rc = p->real->pMethods->xFileSize(p->real, s);
  if (p->wal && p == the_wal && rc == SQLITE_OK && (size_t)*s != p->shlen) {
    fprintf(stderr, "size %lld, shadow %zu\n", (long long)*s, p->shlen);
    mismatches++;
  }
  return rc;
}

#define FWD(name, args, call) \
  static int name args { sh_file *p = (sh_file *)f; return p->real->pMethods->call; }
FWD(sh_sync, (sqlite3_file *f, int fl), xSync(p->real, fl))
FWD(sh_lock, (sqlite3_file *f, int l), xLock(p->real, l))
FWD(sh_unlock, (sqlite3_file *f, int l), xUnlock(p->real, l))
FWD(sh_reserved, (sqlite3_file *f, int *o), xCheckReservedLock(p->real, o))
FWD(sh_fcntl, (sqlite3_file *f, int op, void *a), xFileControl(p->real, op, a))
FWD(sh_sector, (sqlite3_file *f), xSectorSize(p->real))
FWD(sh_device, (sqlite3_file *f), xDeviceCharacteristics(p->real))
FWD(sh_shm_map, (sqlite3_file *f, int r, int s, int e, void volatile **pp), xShmMap(p->real, r, s, e, pp))
FWD(sh_shm_lock, (sqlite3_file *f, int o, int n, int fl), xShmLock(p->real, o, n, fl))
FWD(sh_shm_unmap, (sqlite3_file *f, int d), xShmUnmap(p->real, d))
FWD(sh_fetch, (sqlite3_file *f, sqlite3_int64 o, int n, void **pp), xFetch(p->real, o, n, pp))
FWD(sh_unfetch, (sqlite3_file *f, sqlite3_int64 o, void *pg), xUnfetch(p->real, o, pg))
static void sh_barrier(sqlite3_file *f)
{
  sh_file *p = (sh_file *)f;
  if (in_commit && the_wal && sh_compare_disk(the_wal, "at the barrier in COMMIT") != 0)
    guard_needed++;
  p->real->pMethods->xShmBarrier(p->real);
}
static int sh_close(sqlite3_file *f)
{
  sh_file *p = (sh_file *)f;
  if (p == the_wal)
    the_wal = NULL;
  free(p->sh);
  return p->real->pMethods->xClose(p->real);
}

static int sh_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
  sh_file *p = (sh_file *)f;
  int rc;
  (void)v;
  memset(p, 0, sizeof *p);
  p->real = (sqlite3_file *)((char *)p + ((sizeof(sh_file) + 7) & ~(size_t)7));
  memset(p->real, 0, (size_t)cn->szOsFile);
  rc = cn->xOpen(cn, name, p->real, flags, out);   /* the same name pointer: pairing holds */
  if (rc != SQLITE_OK) {
    p->base.pMethods = NULL;
    return rc;
  }
  p->wal = (flags & SQLITE_OPEN_WAL) != 0;
  if (p->wal && name) {
    snprintf(p->path, sizeof p->path, "%s", name);
    sh_load(p);
  }
  p->base.pMethods = &sh_methods;
  return SQLITE_OK;
}

static void sh_install(void)
{
  static const sqlite3_io_methods m = {
    3, sh_close, sh_read, sh_write, sh_truncate, sh_sync, sh_size, sh_lock, sh_unlock,
    sh_reserved, sh_fcntl, sh_sector, sh_device, sh_shm_map, sh_shm_lock, sh_barrier,
    sh_shm_unmap, sh_fetch, sh_unfetch,
  };
  cn = sqlite3_vfs_find(cn_vfs_name());
  sh_methods = m;
  sh_vfs = *cn;
  sh_vfs.zName = "shadow";
  sh_vfs.szOsFile = (int)((sizeof(sh_file) + 7) & ~(size_t)7) + cn->szOsFile;
  sh_vfs.xOpen = sh_open;
  sqlite3_vfs_register(&sh_vfs, 0);
}

static sh_file *find_wal(sqlite3 *db)
{
  sqlite3_file *f = NULL;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK || !f ||
      f->pMethods != &sh_methods)
    return NULL;
  return (sh_file *)f;
}

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n)
{
  rnd_state = rnd_state * 1103515245u + 12345u;
  return (rnd_state >> 8) % n;
}

static long long q(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void ex(sqlite3 *db, const char *sql)
{
  sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
  char dir[256], path[300];
  sqlite3 *db = NULL, *ck = NULL;
  int rounds = argc > 1 ? atoi(argv[1]) : 100;
  const char *sig = "SELECT total(length(v)) + count(*) * 7 + total(k) FROM t";

  if (argc > 2)
    rnd_state = (unsigned)atoi(argv[2]);
  if (util_tmpdir(dir, sizeof dir, "vfs-shadow") != 0 || !cn_vfs_name())
    return 1;
  sh_install();
  snprintf(path, sizeof path, "%s/f.db", dir);
  {
    char uri[400];
    snprintf(uri, sizeof uri, "file:%s%s", path, getenv("CN_VFS_URI") ? getenv("CN_VFS_URI") : "");
    REQUIRE(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                            "shadow") == SQLITE_OK);
  }
  ex(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;"
         "CREATE TABLE t(k INTEGER PRIMARY KEY, c INTEGER UNIQUE, v BLOB);");
  REQUIRE(sqlite3_open_v2(path, &ck, SQLITE_OPEN_READWRITE, "shadow") == SQLITE_OK);
  ex(ck, "PRAGMA journal_mode=WAL");
  sqlite3_busy_timeout(ck, 2000);
  for (int r = 0; r < rounds; r++) {
    char sql[400];
    int rc, commit;
    long long before;
    the_wal = find_wal(db);
    REQUIRE(the_wal != NULL);
    switch (rnd(6)) {
    case 0: ex(db, "PRAGMA synchronous=OFF"); break;
    case 1: ex(db, "PRAGMA synchronous=FULL"); break;
    default: ex(db, "PRAGMA synchronous=NORMAL"); break;
    }
    snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%d", rnd(3) == 0 ? (int)rnd(200000) : -1);
    ex(db, sql);
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%d", rnd(2) ? 5 + (int)rnd(20) : 2000);
    ex(db, sql);
    before = q(db, sig);
    ex(db, "BEGIN");
    for (int s = 0, ns = 1 + (int)rnd(6); s < ns; s++) {
      int kind = (int)rnd(7);
      int sp = rnd(3) == 0;
      if (sp)
        ex(db, "SAVEPOINT a");
      if (kind == 0 || kind == 1)
        snprintf(sql, sizeof sql, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r "
                 "WHERE i < %d) INSERT INTO t(c, v) SELECT abs(random()), randomblob(%d) FROM r",
                 1 + (int)rnd(300), 10 + (int)rnd(3000));
      else if (kind == 2)
        snprintf(sql, sizeof sql, "UPDATE t SET v = randomblob(%d) WHERE k %% %d = %d",
                 10 + (int)rnd(2000), 2 + (int)rnd(5), (int)rnd(2));
      else if (kind == 3)
        snprintf(sql, sizeof sql, "DELETE FROM t WHERE k %% %d = 0", 3 + (int)rnd(10));
      else if (kind == 4)   /* fails at its end: a statement rollback */
        snprintf(sql, sizeof sql, "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r "
                 "WHERE i < %d) INSERT INTO t(c, v) SELECT CASE WHEN i = %d THEN "
                 "(SELECT min(c) FROM t) ELSE abs(random()) END, randomblob(900) FROM r",
                 50 + (int)rnd(200), 49);
      else if (kind == 5)
        snprintf(sql, sizeof sql, "UPDATE t SET c = -c WHERE k %% 2 = %d", (int)rnd(2));
      else
        snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE length(v) > %d", (int)rnd(2000));
      ex(db, sql);
      if (sp)
        ex(db, rnd(2) ? "ROLLBACK TO a; RELEASE a" : "RELEASE a");
    }
    commit = rnd(4) != 0;
    in_commit = commit;
    rc = sqlite3_exec(db, commit ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    in_commit = 0;
    if (rc != SQLITE_OK) {
      fprintf(stderr, "round %d: %s: %s\n", r, commit ? "COMMIT" : "ROLLBACK", sqlite3_errmsg(db));
      CHECK(0);
      ex(db, "ROLLBACK");
    }
    the_wal = find_wal(db);
    if (the_wal) {
      if (commit) {
        char when[64];
        snprintf(when, sizeof when, "round %d after COMMIT", r);
        CHECK(sh_compare_disk(the_wal, when) == 0);
      } else {
        sh_load(the_wal);   /* rolled back: what was gathered may be dropped */
        CHECK_EQ_INT(q(db, sig), before);
      }
    }
    CHECK_EQ_INT(cn_vfs_failed(db), 0);
    switch (rnd(8)) {
    case 0: ex(ck, "PRAGMA wal_checkpoint(PASSIVE)"); break;
    case 1: ex(db, "PRAGMA wal_checkpoint(TRUNCATE)"); break;
    case 2: ex(db, "PRAGMA wal_checkpoint(RESTART)"); break;
    case 3: ex(db, "PRAGMA wal_checkpoint(FULL)"); break;
    default: break;
    }
    if (mismatches) {
      fprintf(stderr, "round %d: %d mismatches\n", r, mismatches);
      break;
    }
  }
  fprintf(stderr, "wal reads %d writes %d truncates %d\n", nreads, nwrites, ntrunc);
  CHECK_EQ_INT(mismatches, 0);
  CHECK_EQ_INT(guard_needed, 0);
  {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
  }
done:
  sqlite3_close(ck);
  sqlite3_close(db);
  util_rmtree(dir);
  return test_finish("test_vfs_shadow");
}
