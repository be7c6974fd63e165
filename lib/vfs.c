/* vfs.c: the default SQLite VFS, with a WAL's writes gathered. See vfs.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "vfs.h"

#define VFS_NAME "councilnet"
#define WAL_HDR_BYTES 32          /* the WAL file's header */
#define WAL_FRAME_HDR_BYTES 24    /* each frame's header, before its page */
#define GATHER_MAX (4u << 20)     /* written out when this much is gathered */
/* The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length
 * with 0x1ffff: SQLite itself never asks for more than a 64 KiB page), so a
 * larger run goes in pieces of this size. */
#define WRITE_MAX (120u << 10)

typedef struct vfs_file {
  sqlite3_file base;          /* first: SQLite sees this */
  sqlite3_file *real;         /* the default VFS's file, after this struct */
  const char *db;             /* database name (of the database a WAL is for) */
  int wal;                    /* a WAL: appends are gathered */
  pthread_mutex_t mu;         /* guards what follows (the barrier may flush
                               * from another connection's thread) */
  unsigned char *buf;         /* bytes gathered, for file offset AT on */
  size_t len, cap;
  sqlite3_int64 at;
  sqlite3_int64 commit_page;  /* where the commit frame's page goes, or -1 */
  struct vfs_file *next;      /* in the list of open WALs */
} vfs_file;

/* sqlite3_file structs must stay 8-byte aligned */
#define REAL_OFFSET ((sizeof(vfs_file) + 7) & ~(size_t)7)

static sqlite3_vfs vfs;
static sqlite3_vfs *base_vfs;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static const char *vfs_registered;
static pthread_mutex_t wals_mu = PTHREAD_MUTEX_INITIALIZER;
static vfs_file *wals;        /* open WALs, for the barrier */
static uint64_t lost_writes, gathered_calls, written_calls;
static int fail_writes;

static uint32_t get_be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Hand what is gathered to the file; the buffer is emptied either way (a
 * failed write leaves SQLite to roll back; its frames are rewritten). Call
 * with P->mu held. */
static int wal_flush(vfs_file *p)
{
  int rc;

  if (p->len == 0)
    return SQLITE_OK;
  if (__atomic_load_n(&fail_writes, __ATOMIC_ACQUIRE) > 0 &&
      __atomic_sub_fetch(&fail_writes, 1, __ATOMIC_ACQ_REL) >= 0) {
    __atomic_add_fetch(&written_calls, 1, __ATOMIC_RELAXED);
    rc = SQLITE_IOERR_WRITE;
  } else {
    rc = SQLITE_OK;
    for (size_t done = 0; done < p->len && rc == SQLITE_OK;) {
      size_t n = p->len - done < WRITE_MAX ? p->len - done : WRITE_MAX;
      __atomic_add_fetch(&written_calls, 1, __ATOMIC_RELAXED);
      rc = p->real->pMethods->xWrite(p->real, p->buf + done, (int)n,
                                     p->at + (sqlite3_int64)done);
      done += n;
    }
  }
  p->len = 0;
  p->commit_page = -1;
  return rc;
}

static int wal_flush_locked(vfs_file *p)
{
  int rc;
  pthread_mutex_lock(&p->mu);
  rc = wal_flush(p);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* ---- sqlite3_io_methods ---- */

static int vf_close(sqlite3_file *f)
{
  vfs_file *p = (vfs_file *)f;
  int rc = SQLITE_OK, rc2;

  if (p->wal) {
    pthread_mutex_lock(&wals_mu);
    for (vfs_file **at = &wals; *at; at = &(*at)->next)
      if (*at == p) {
        *at = p->next;
        break;
      }
    pthread_mutex_unlock(&wals_mu);
    rc = wal_flush_locked(p);
    free(p->buf);
    pthread_mutex_destroy(&p->mu);
  }
  rc2 = p->real->pMethods->xClose(p->real);
  return rc != SQLITE_OK ? rc : rc2;
}

static int vf_read(sqlite3_file *f, void *out, int n, sqlite3_int64 off)
{
  vfs_file *p = (vfs_file *)f;
  int rc = p->wal ? wal_flush_locked(p) : SQLITE_OK;
  return rc != SQLITE_OK ? rc : p->real->pMethods->xRead(p->real, out, n, off);
}

static int vf_write(sqlite3_file *f, const void *data, int n, sqlite3_int64 off)
{
  vfs_file *p = (vfs_file *)f;
  int rc = SQLITE_OK;

  if (!p->wal)
    return p->real->pMethods->xWrite(p->real, data, n, off);
  pthread_mutex_lock(&p->mu);
  __atomic_add_fetch(&gathered_calls, 1, __ATOMIC_RELAXED);
  /* only appends are gathered: anything else writes out what came first */
  if (p->len && (off != p->at + (sqlite3_int64)p->len || p->len + (size_t)n > GATHER_MAX) &&
      (rc = wal_flush(p)) != SQLITE_OK)
    goto out;
  if (p->len + (size_t)n > p->cap) {
    size_t cap = p->cap ? p->cap : 64 * 1024;
    unsigned char *b;
    while (cap < p->len + (size_t)n)
      cap *= 2;
    b = cap <= GATHER_MAX ? realloc(p->buf, cap) : NULL;
    if (!b) {
      /* no room: write it as SQLite asked */
      if ((rc = wal_flush(p)) == SQLITE_OK) {
        __atomic_add_fetch(&written_calls, 1, __ATOMIC_RELAXED);
        rc = p->real->pMethods->xWrite(p->real, data, n, off);
      }
      goto out;
    }
    p->buf = b;
    p->cap = cap;
  }
  if (p->len == 0)
    p->at = off;
  memcpy(p->buf + p->len, data, (size_t)n);
  p->len += (size_t)n;
  if (off == p->commit_page) {
    /* the commit frame is whole: to the file, before SQLite publishes it */
    rc = wal_flush(p);
  } else if (n == WAL_FRAME_HDR_BYTES && off >= WAL_HDR_BYTES &&
             get_be32((const unsigned char *)data + 4) != 0) {
    /* a frame header whose "database size after commit" is set: the page
     * written next completes a commit */
    p->commit_page = off + WAL_FRAME_HDR_BYTES;
  } else {
    p->commit_page = -1;
  }
out:
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int vf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
  vfs_file *p = (vfs_file *)f;
  int rc = p->wal ? wal_flush_locked(p) : SQLITE_OK;
  return rc != SQLITE_OK ? rc : p->real->pMethods->xTruncate(p->real, size);
}

static int vf_sync(sqlite3_file *f, int flags)
{
  vfs_file *p = (vfs_file *)f;
  int rc = p->wal ? wal_flush_locked(p) : SQLITE_OK;
  return rc != SQLITE_OK ? rc : p->real->pMethods->xSync(p->real, flags);
}

static int vf_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
  vfs_file *p = (vfs_file *)f;
  int rc = p->wal ? wal_flush_locked(p) : SQLITE_OK;
  return rc != SQLITE_OK ? rc : p->real->pMethods->xFileSize(p->real, size);
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
  int rc = p->wal ? wal_flush_locked(p) : SQLITE_OK;
  return rc != SQLITE_OK ? rc : p->real->pMethods->xFileControl(p->real, op, arg);
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

static int vf_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
  vfs_file *p = (vfs_file *)f;
  return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

/* SQLite calls the barrier on a database file between writing the two
 * copies of the wal-index header, which is what makes a commit visible to
 * other connections. Every WAL of this database is written out first, so
 * no connection can see frames that are not yet in the file. A failure
 * cannot be reported here: it is counted (cn_vfs_lost_writes). */
static void vf_shm_barrier(sqlite3_file *f)
{
  vfs_file *p = (vfs_file *)f;

  if (p->db) {
    pthread_mutex_lock(&wals_mu);
    for (vfs_file *w = wals; w; w = w->next) {
      if (strcmp(w->db, p->db) != 0)
        continue;
      pthread_mutex_lock(&w->mu);
      if (w->len && wal_flush(w) != SQLITE_OK)
        __atomic_add_fetch(&lost_writes, 1, __ATOMIC_RELEASE);
      pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_unlock(&wals_mu);
  }
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
  if (p->wal || p->real->pMethods->iVersion < 3)
    return SQLITE_OK;
  return p->real->pMethods->xFetch(p->real, off, n, pp);
}

static int vf_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
  vfs_file *p = (vfs_file *)f;
  if (p->wal || p->real->pMethods->iVersion < 3)
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
  /* The unix VFS's file methods are version 3; ours forward only what the
   * file has, so a lower version would still be served correctly. */
  p->commit_page = -1;
  if (name && (flags & SQLITE_OPEN_WAL)) {
    p->wal = 1;
    p->db = sqlite3_filename_database(name);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_lock(&wals_mu);
    p->next = wals;
    wals = p;
    pthread_mutex_unlock(&wals_mu);
  } else if (name && (flags & SQLITE_OPEN_MAIN_DB)) {
    p->db = name;
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

uint64_t cn_vfs_lost_writes(void)
{
  return __atomic_load_n(&lost_writes, __ATOMIC_ACQUIRE);
}

void cn_vfs_counts(uint64_t *gathered, uint64_t *written)
{
  *gathered = __atomic_load_n(&gathered_calls, __ATOMIC_RELAXED);
  *written = __atomic_load_n(&written_calls, __ATOMIC_RELAXED);
}

void cn_vfs_fail_writes(int n)
{
  __atomic_store_n(&fail_writes, n, __ATOMIC_RELEASE);
}
