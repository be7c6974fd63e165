/* vfs.h: an SQLite VFS over the default one that gathers a transaction's
 * WAL writes into one write(2).
 *
 * SQLite writes each WAL frame as two calls (its 24-byte header, then the
 * page), so a commit of 30 pages costs 60 system calls, each taking the
 * file's locks in the kernel. This VFS keeps the WAL's appended bytes in
 * memory and hands them to the file in one call when the commit frame is
 * complete, which is still inside SQLite's COMMIT, before the commit is
 * published to other connections: a failed write fails the COMMIT as it
 * would have without this layer. It also writes them out before anything
 * could need them in the file: a read, a sync, a truncate, a size query, a
 * close, a write elsewhere in the file, and the wal-index barrier that
 * comes before a commit is published (a second guard, should a commit frame
 * ever not be recognised). Every other file (the database, the wal-index,
 * journals) is passed straight through.
 *
 * The bytes and their order on disk are exactly SQLite's: only the number
 * of calls changes. Durability does not change either: nothing here
 * syncs, and SQLite (or cn_store_sync) syncs as before. */
#ifndef CN_VFS_H
#define CN_VFS_H

#include <stdint.h>

/* Register the VFS (once per process; thread-safe) and return its name for
 * sqlite3_open_v2(), or NULL if it could not be registered (then open with
 * the default VFS: slower, otherwise the same). */
const char *cn_vfs_name(void);

/* Writes that failed where SQLite could not be told (the barrier guard):
 * a count for the whole process, never reset. While it is not zero a
 * commit may be missing from the WAL, so nothing may be acknowledged. */
uint64_t cn_vfs_lost_writes(void);

/* For tests: calls to the underlying xWrite on WAL files so far, and WAL
 * xWrite calls SQLite made (whole process). */
void cn_vfs_counts(uint64_t *gathered, uint64_t *written);

/* For tests: make the next N gathered WAL writes fail with SQLITE_IOERR_WRITE
 * without touching the file (0 stops). */
void cn_vfs_fail_writes(int n);

#endif
