/* vfs.h: an SQLite VFS over the default one that gathers a commit's WAL
 * frames into one write(2).
 *
 * SQLite writes each WAL frame as two calls (its 24-byte header, then the
 * page), so a commit of 30 pages costs 60 system calls, each taking the
 * file's locks in the kernel. This VFS keeps the frames a connection
 * appends to its WAL in memory and hands them to the file in one call
 * (pieces of 120 KiB) as soon as the commit frame is whole: still inside
 * SQLite's COMMIT, before the commit is published to other connections,
 * so a failed write fails the COMMIT exactly as it would without this
 * layer. The bytes and their order on disk are SQLite's own; nothing here
 * syncs, and SQLite (or cn_store_sync) syncs as before.
 *
 * The rules, each for a reason (see vfs.c):
 *  - only appends are gathered; any other write (SQLite rewriting a frame
 *    of the same transaction, or its checksums) first writes out what is
 *    gathered, then goes straight to the file, as does everything after
 *    the commit frame until the write lock is released (padding to a
 *    sector, split around a sync);
 *  - reads of gathered bytes are served from memory, so a read never
 *    writes (a read error would not make SQLite give up the transaction);
 *  - the connection's barrier before it publishes a commit writes out
 *    anything still gathered (a second guard: a commit is written out at
 *    its commit frame);
 *  - when the connection gives up the WAL's write lock, what is still
 *    gathered belongs to a transaction that did not commit: it is dropped,
 *    never written later over another writer's frames;
 *  - a write that fails where SQLite cannot be told (the guard, a
 *    truncate) latches the WAL: every later write and sync of it fails and
 *    cn_vfs_failed() says so, so nothing more is acknowledged until the
 *    node restarts (SQLite then recovers from what the file holds).
 * Not for locking_mode=EXCLUSIVE (SQLite then calls no barrier and takes
 * no shared-memory locks): the store never sets it. */
#ifndef CN_VFS_H
#define CN_VFS_H

#include <sqlite3.h>

/* Register the VFS over the process's default one (once; thread-safe) and
 * return its name for sqlite3_open_v2(), or NULL if it could not be
 * registered (then open with the default VFS: slower, otherwise the same). */
const char *cn_vfs_name(void);

/* 1 if DB (opened with this VFS) has a latched WAL write failure: a commit
 * may be missing from the WAL file. Call on the connection's own thread. */
int cn_vfs_failed(sqlite3 *db);

#endif
