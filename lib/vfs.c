/* vfs.c: the default SQLite VFS, with a WAL's appended frames gathered
 * until their commit frame is whole. See vfs.h for the rules. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "vfs.h"

#define VFS_NAME "councilnet"
#define WAL_HDR_BYTES 32          /* the WAL file's header */
#define WAL_FRAME_HDR_BYTES 24    /* each frame's header, before its page */
#define WAL_WRITE_LOCK 0          /* wal-index lock slot of the writer (walformat) */
#define GATHER_MAX (4u << 20)     /* written out when this much is gathered */
#define KEEP_MAX (1u << 20)       /* a larger buffer is freed after its transaction */
/* The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length
 * with 0x1ffff: SQLite itself never asks for more than a 64 KiB page), so a
 * longer run goes in pieces of this size. */
#define WRITE_MAX (120u << 10)

enum { F_OTHER, F_MAIN, F_WAL };

typedef struct vfs_file {
  sqlite3_file base;          /* first: SQLite sees this */
  sqlite3_file *real;         /* the default VFS's file, after this struct */
  int kind;
  const char *db;             /* main: SQLite's name buffer; WAL: its database's
                               * name in that same buffer (sqlite3_filename_database) */
  struct vfs_file *peer;      /* a main database and its connection's WAL */
  struct vfs_file *next;      /* main databases: the open ones */
  /* WAL only. A connection is used by one thread at a time, and only that
   * connection's own calls (its WAL's and its database file's) touch
   * these: no lock. */
  unsigned char *buf;         /* gathered bytes, for file offset AT on */
  size_t len, cap;
  sqlite3_int64 at;
  sqlite3_int64 next_off;     /* end of the last write: where an append goes */
  sqlite3_int64 commit_page;  /* where the commit frame's page goes, or -1 */
  int failed;                 /* latched error (vfs.h), or 0 */
  int committed;              /* the commit frame is written: the rest of the
                               * transaction (padding, checksums) goes straight
                               * to the file, until the write lock is released */
} vfs_file;

/* sqlite3_file structs must stay 8-byte aligned */
#define REAL_OFFSET ((sizeof(vfs_file) + 7) & ~(size_t)7)

static sqlite3_vfs vfs;
static sqlite3_vfs *base_vfs;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static const char *vfs_registered;
static pthread_mutex_t mains_mu = PTHREAD_MUTEX_INITIALIZER;
static vfs_file *mains;       /* open main databases, to pair each WAL */
static const sqlite3_io_methods vf_methods;

static uint32_t get_be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wal_drop(vfs_file *p)
{
  p->len = 0;
  p->commit_page = -1;
}

/* Hand what is gathered to the file, in order, and empty the buffer.
 * On failure the bytes stay (reads are still served from them); the
 * caller decides whether SQLite hears of it or the WAL latches. */
static int wal_flush(vfs_file *p)
{
  int rc = SQLITE_OK;
  size_t done = 0;

  while (done < p->len && rc == SQLITE_OK) {
    size_t n = p->len - done < WRITE_MAX ? p->len - done : WRITE_MAX;
    rc = p->real->pMethods->xWrite(p->real, p->buf + done, (int)n, p->at + (sqlite3_int64)done);
    done += n;
  }
  if (rc == SQLITE_OK)
    p->len = 0;
  return rc;
}

/* A write out SQLite cannot be told about failed: no more writes to this
 * WAL, and cn_vfs_failed() answers 1. */
static int wal_latch(vfs_file *p)
{
  p->failed = SQLITE_IOERR_WRITE;
  return p->failed;
}

/* Room for N more bytes; 0 or -1. */
static int wal_reserve(vfs_file *p, size_t n)
{
  size_t cap = p->cap ? p->cap : 64 * 1024;
  unsigned char *b;

  if (p->len + n <= p->cap)
    return 0;
  while (cap < p->len + n)
    cap *= 2;
  if (cap > GATHER_MAX || !(b = realloc(p->buf, cap)))
    return -1;
  p->buf = b;
  p->cap = cap;
  return 0;
}

/* ---- sqlite3_io_methods ---- */

static int vf_close(sqlite3_file *f)
{
  vfs_file *p = (vfs_file *)f;

  pthread_mutex_lock(&mains_mu);
  if (p->peer)
    p->peer->peer = NULL;
  if (p->kind == F_MAIN)
    for (vfs_file **at = &mains; *at; at = &(*at)->next)
      if (*at == p) {
        *at = p->next;
        break;
      }
  pthread_mutex_unlock(&mains_mu);
  /* Anything still gathered is of a transaction that did not commit (a
   * commit is written out at its commit frame, or at the barrier). */
  free(p->buf);
  return p->real->pMethods->xClose(p->real);
}

static int vf_read(sqlite3_file *f, void *out, int n, sqlite3_int64 off)
{
  vfs_file *p = (vfs_file *)f;

  if (p->len && off < p->at + (sqlite3_int64)p->len && off + n > p->at) {
    if (off >= p->at && off + n <= p->at + (sqlite3_int64)p->len) {
      memcpy(out, p->buf + (off - p->at), (size_t)n);
      return SQLITE_OK;
    }
    /* Partly gathered (SQLite reads whole frames or pages, so this does
     * not happen): write out first. A failure here would reach SQLite as a
     * read error, which does not end its transaction: latch. */
    if (wal_flush(p) != SQLITE_OK) {
      wal_latch(p);
      return SQLITE_IOERR_READ;
    }
  }
  return p->real->pMethods->xRead(p->real, out, n, off);
}

static int vf_write(sqlite3_file *f, const void *data, int n, sqlite3_int64 off)
{
  vfs_file *p = (vfs_file *)f;
  int rc, completes, append;

  if (p->kind != F_WAL)
    return p->real->pMethods->xWrite(p->real, data, n, off);
  if (p->failed)
    return p->failed;
  if (!p->peer) {
    /* No database file of its connection to hold the barrier guard: no
     * gathering (SQLite's own calls, one by one). */
    rc = p->real->pMethods->xWrite(p->real, data, n, off);
    p->next_off = rc == SQLITE_OK ? off + n : -1;
    return rc;
  }
  if (p->committed) {
    rc = p->real->pMethods->xWrite(p->real, data, n, off);
    p->next_off = rc == SQLITE_OK ? off + n : -1;
    return rc;
  }
  completes = off == p->commit_page;
  p->commit_page = -1;
  append = p->len ? off == p->at + (sqlite3_int64)p->len : off == p->next_off || off == 0;
  /* Every write out below happens inside an xWrite: SQLite hears of a
   * failure and gives the transaction up (nothing of it is published), so
   * what was gathered is dropped and rewritten by a later transaction. */
  if (p->len && (!append || p->len + (size_t)n > GATHER_MAX || wal_reserve(p, (size_t)n) != 0) &&
      (rc = wal_flush(p)) != SQLITE_OK) {
    wal_drop(p);
    return rc;
  }
  if (append && wal_reserve(p, (size_t)n) == 0) {
    if (p->len == 0)
      p->at = off;
    memcpy(p->buf + p->len, data, (size_t)n);
    p->len += (size_t)n;
    /* the commit frame is whole: to the file, before SQLite publishes it */
    if (completes && (rc = wal_flush(p)) != SQLITE_OK) {
      wal_drop(p);
      return rc;
    }
  } else {
    /* not an append (SQLite rewriting a frame or a checksum of this
     * transaction), or no memory: straight to the file, after what was
     * gathered before it */
    if ((rc = p->real->pMethods->xWrite(p->real, data, n, off)) != SQLITE_OK)
      return rc;
  }
  p->next_off = off + n;
  if (completes)
    p->committed = 1;
  /* A frame header whose "database size after commit" is set: the page
   * written next completes a commit. */
  if (n == WAL_FRAME_HDR_BYTES && off >= WAL_HDR_BYTES &&
      get_be32((const unsigned char *)data + 4) != 0)
    p->commit_page = off + WAL_FRAME_HDR_BYTES;
  return SQLITE_OK;
}

static int vf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
  vfs_file *p = (vfs_file *)f;

  if (p->len) {
    /* SQLite truncates the WAL with nothing gathered (after a checkpoint);
     * should bytes below SIZE be waiting, they go first (latch on failure:
     * SQLite ignores some truncate errors). */
    if (size <= p->at)
      wal_drop(p);
    else if (size < p->at + (sqlite3_int64)p->len)
      p->len = (size_t)(size - p->at);
    if (p->len && wal_flush(p) != SQLITE_OK)
      return wal_latch(p);
  }
  if (p->next_off > size)
    p->next_off = size;
  return p->real->pMethods->xTruncate(p->real, size);
}

static int vf_sync(sqlite3_file *f, int flags)
{
  vfs_file *p = (vfs_file *)f;
  int rc;

  if (p->failed)
    return p->failed;
  /* SQLite hears of a failure here (the WAL header's sync, a commit's
   * sync, a checkpoint's): it gives the transaction up, no latch */
  if (p->len && (rc = wal_flush(p)) != SQLITE_OK)
    return rc;
  return p->real->pMethods->xSync(p->real, flags);
}

static int vf_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
  vfs_file *p = (vfs_file *)f;
  int rc = p->real->pMethods->xFileSize(p->real, size);

  /* the file as SQLite has written it, gathered bytes included */
  if (rc == SQLITE_OK && p->len && *size < p->at + (sqlite3_int64)p->len)
    *size = p->at + (sqlite3_int64)p->len;
  return rc;
}
static int vf_lock(sqlite3_file *f, int level)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xLock(p->real, level);
}

static int vf_unlock(sqlite3_file *f, int level)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xUnlock(p->real, level);
}

static int vf_check_reserved(sqlite3_file *f, int *out)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int vf_file_control(sqlite3_file *f, int op, void *arg)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int vf_sector_size(sqlite3_file *f)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xSectorSize(p->real);
}

static int vf_device_characteristics(sqlite3_file *f)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xDeviceCharacteristics(p->real);
}

static int vf_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp)
{
  vfs_file *p = (vfs_file *)f;
  if (p->real->pMethods->iVersion < 2)
    return SQLITE_IOERR_SHMMAP;
  return p->real->pMethods->xShmMap(p->real, region, size, extend, pp);
}

/* Giving up the WAL's write lock ends the connection's write transaction:
 * a commit has been written out by now (at its commit frame, or at the
 * barrier before it was published), so what is still gathered is of a
 * transaction rolled back. Drop it: written later, it could land on frames
 * another writer has committed at the same place meanwhile. */
static int vf_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
  vfs_file *p = (vfs_file *)f;

  if (p->kind == F_MAIN && p->peer && offset == WAL_WRITE_LOCK && n == 1 &&
      flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE)) {
    p->peer->committed = 0;
    if (p->peer->len) {
      p->peer->next_off = p->peer->at;
      wal_drop(p->peer);
    }
    /* a large transaction's buffer is not kept for the small ones after it */
    if (p->peer->cap > KEEP_MAX) {
      free(p->peer->buf);
      p->peer->buf = NULL;
      p->peer->cap = 0;
    }
  }
  return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

/* SQLite calls the barrier on the database file between writing the two
 * copies of the wal-index header, which is what publishes a commit to other
 * connections. The connection's own WAL is written out first, so nothing
 * published can be missing from the file. This is the second guard (a
 * commit is written out at its commit frame): a failure here cannot be
 * reported, so it latches the WAL. */
static void vf_shm_barrier(sqlite3_file *f)
{
  vfs_file *p = (vfs_file *)f;

  if (p->kind == F_MAIN && p->peer && p->peer->len && !p->peer->failed &&
      wal_flush(p->peer) != SQLITE_OK)
    wal_latch(p->peer);
  p->real->pMethods->xShmBarrier(p->real);
}

static int vf_shm_unmap(sqlite3_file *f, int del)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xShmUnmap(p->real, del);
}

static int vf_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
  vfs_file *p = (vfs_file *)f;
  *pp = NULL;               /* NULL: SQLite reads instead */
  if (p->kind == F_WAL || p->real->pMethods->iVersion < 3)
    return SQLITE_OK;
  return p->real->pMethods->xFetch(p->real, off, n, pp);
}

static int vf_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
  vfs_file *p = (vfs_file *)f;
  if (p->kind == F_WAL || p->real->pMethods->iVersion < 3)
    return SQLITE_OK;
  return p->real->pMethods->xUnfetch(p->real, off, page);
}

static const sqlite3_io_methods vf_methods = {
  3, vf_close, vf_read, vf_write, vf_truncate, vf_sync, vf_file_size, vf_lock, vf_unlock,
  vf_check_reserved, vf_file_control, vf_sector_size, vf_device_characteristics, vf_shm_map,
  vf_shm_lock, vf_shm_barrier, vf_shm_unmap, vf_fetch, vf_unfetch,
};

/* ---- sqlite3_vfs: open wraps, the rest is the default VFS's ---- */

static int v_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
  vfs_file *p = (vfs_file *)f;
  int rc;

  (void)v;
  memset(p, 0, sizeof *p);
  p->real = (sqlite3_file *)((char *)p + REAL_OFFSET);
  rc = base_vfs->xOpen(base_vfs, name, p->real, flags, out);
  if (rc != SQLITE_OK) {
    if (p->real->pMethods)
      p->real->pMethods->xClose(p->real);
    p->base.pMethods = NULL;
    return rc;
  }
  p->commit_page = -1;
  p->next_off = -1;
  if (name && (flags & SQLITE_OPEN_MAIN_DB)) {
    p->kind = F_MAIN;
    p->db = name;
    pthread_mutex_lock(&mains_mu);
    p->next = mains;
    mains = p;
    pthread_mutex_unlock(&mains_mu);
  } else if (name && (flags & SQLITE_OPEN_WAL)) {
    /* Its connection's database file: SQLite names both from one buffer,
     * so the pointers are equal (another connection to the same file has
     * a buffer of its own). Without one, nothing is gathered. */
    p->kind = F_WAL;
    p->db = sqlite3_filename_database(name);
    pthread_mutex_lock(&mains_mu);
    for (vfs_file *m = mains; m; m = m->next)
      if (m->db == p->db && !m->peer) {
        m->peer = p;
        p->peer = m;
        break;
      }
    pthread_mutex_unlock(&mains_mu);
  }
  p->base.pMethods = &vf_methods;
  return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
  (void)v;
  return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
  (void)v;
  return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
  (void)v;
  return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *v, const char *name)
{
  (void)v;
  return base_vfs->xDlOpen(base_vfs, name);
}

static void v_dlerror(sqlite3_vfs *v, int n, char *out)
{
  (void)v;
  base_vfs->xDlError(base_vfs, n, out);
}

static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
  (void)v;
  return base_vfs->xDlSym(base_vfs, h, sym);
}

static void v_dlclose(sqlite3_vfs *v, void *h)
{
  (void)v;
  base_vfs->xDlClose(base_vfs, h);
}

static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
  (void)v;
  return base_vfs->xRandomness(base_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
  (void)v;
  return base_vfs->xSleep(base_vfs, us);
}

static int v_current_time(sqlite3_vfs *v, double *out)
{
  (void)v;
  return base_vfs->xCurrentTime(base_vfs, out);
}

static int v_last_error(sqlite3_vfs *v, int n, char *out)
{
  (void)v;
  return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, out) : 0;
}

static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
  (void)v;
  return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static void vfs_init(void)
{
  base_vfs = sqlite3_vfs_find(NULL);
  /* version 2 at least (xCurrentTimeInt64); the unix VFS is version 3,
   * whose system-call hooks are for SQLite's tests and not forwarded */
  if (!base_vfs || base_vfs->iVersion < 2)
    return;
  vfs.iVersion = 2;
  vfs.szOsFile = (int)(REAL_OFFSET + (size_t)base_vfs->szOsFile);
  vfs.mxPathname = base_vfs->mxPathname;
  vfs.zName = VFS_NAME;
  vfs.xOpen = v_open;
  vfs.xDelete = v_delete;
  vfs.xAccess = v_access;
  vfs.xFullPathname = v_full_pathname;
  vfs.xDlOpen = v_dlopen;
  vfs.xDlError = v_dlerror;
  vfs.xDlSym = v_dlsym;
  vfs.xDlClose = v_dlclose;
  vfs.xRandomness = v_randomness;
  vfs.xSleep = v_sleep;
  vfs.xCurrentTime = v_current_time;
  vfs.xGetLastError = v_last_error;
  vfs.xCurrentTimeInt64 = v_current_time64;
  if (sqlite3_vfs_register(&vfs, 0) == SQLITE_OK)
    vfs_registered = VFS_NAME;
}

const char *cn_vfs_name(void)
{
  pthread_once(&vfs_once, vfs_init);
  return vfs_registered;
}

int cn_vfs_failed(sqlite3 *db)
{
  sqlite3_file *f = NULL;
  vfs_file *p;

  if (!db || sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f ||
      f->pMethods != &vf_methods)
    return 0;
  p = (vfs_file *)f;
  return p->peer && p->peer->failed != 0;
}
