/* bench_common.c: what the benchmarks share. Not a benchmark itself: each
 * bench_*.c that needs it does #include "bench_common.c" (one translation
 * unit per benchmark, no header), so every function here is static and
 * marked unused.
 *
 *  - clock, scale (CN_BENCH_SCALE), the councild/council paths, VmHWM,
 *    a perf profile of a councild on demand (CN_BENCH_PERF=FILE), a
 *    councild start timed to the port file (bench_spawn);
 *  - ceilings measured in the same run: raw Ed25519 verify on one core, a
 *    bare evhttp server in a child process, HTTP round trip, one durable
 *    SQLite commit;
 *  - a poll-driven HTTP/1.1 keep-alive load driver over N connections;
 *  - building a node's database fast, through the library (cn_node_submit
 *    in batches, fake clock), with a signing thread feeding the submitter,
 *    optionally kept between benchmarks (CN_BENCH_CACHE=DIR).
 *
 * Benchmarks are not tests: nothing here asserts on a time. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sodium.h>
#include <sqlite3.h>

#include "councilnet.pb-c.h"
#include "councilnet/crypto.h"
#include "councilnet/node.h"
#include "councilnet/record.h"
#include "http.h"
#include "util.h"

#define BENCH_FN static __attribute__((unused))
#define BENCH_T0 1900000000ULL     /* the fake time every bench node starts at */

/* ---- clock, scale, binaries ---- */

BENCH_FN double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CN_BENCH_SCALE (default 1): multiplies every workload size. */
BENCH_FN double bench_scale(void)
{
  const char *s = getenv("CN_BENCH_SCALE");
  double x = s && *s ? atof(s) : 1.0;
  if (!(x > 0.0))
    x = 1.0;
  if (x > 10.0)
    x = 10.0;
  return x;
}

/* BASE scaled, at least MIN. */
BENCH_FN size_t bench_n(size_t base, size_t min)
{
  double x = (double)base * bench_scale();
  return x < (double)min ? min : (size_t)x;
}

/* Point CN_COUNCILD / CN_COUNCIL at the binaries of this build unless the
 * environment names others, and initialise libsodium. Return 0 or -1. */
BENCH_FN int bench_init(const char *name)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (cn_crypto_init() != 0)
    return -1;
#ifdef CN_BENCH_COUNCILD
  setenv("CN_COUNCILD", CN_BENCH_COUNCILD, 0);
#endif
#ifdef CN_BENCH_COUNCIL
  setenv("CN_COUNCIL", CN_BENCH_COUNCIL, 0);
#endif
  if (!getenv("CN_COUNCILD")) {
    fprintf(stderr, "%s: set CN_COUNCILD to the councild binary\n", name);
    return -1;
  }
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/* A printable ratio line tail. */
BENCH_FN void bench_line(const char *name, double value, const char *unit, double ratio,
                         const char *ceiling)
{
  printf("%s: %.1f %s (ratio %.2f of %s)\n", name, value, unit, ratio, ceiling);
}

/* VmHWM / VmRSS of PID in KiB (FIELD "VmHWM:" or "VmRSS:"), or -1. */
BENCH_FN long bench_proc_kib(pid_t pid, const char *field)
{
  char path[64], line[256];
  long kib = -1;
  FILE *f;

  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, strlen(field)) == 0) {
      kib = atol(line + strlen(field));
      break;
    }
  fclose(f);
  return kib;
}

/* CPU seconds (user + system) PID has used, all its threads, or -1. */
BENCH_FN double bench_proc_cpu(pid_t pid)
{
  char path[64], buf[1024], *p;
  unsigned long long ut = 0, st = 0;
  FILE *f;
  size_t n;

  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (!f)
    return -1;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  p = strrchr(buf, ')');    /* the command name may hold spaces */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Call FN(file, CTX) with /proc/PID/task/N/LEAF open, for each thread N of
 * PID (one that ends meanwhile is passed over). -1 if /proc cannot be read. */
BENCH_FN int bench_each_task(pid_t pid, const char *leaf, void (*fn)(FILE *f, void *ctx),
                             void *ctx)
{
  char path[96];
  struct dirent *d;
  DIR *dir;

  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  dir = opendir(path);
  if (!dir)
    return -1;
  while ((d = readdir(dir)) != NULL) {
    FILE *f;
    if (d->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "/proc/%d/task/%.20s/%s", (int)pid, d->d_name, leaf);
    f = fopen(path, "r");
    if (!f)
      continue;             /* the thread ended */
    fn(f, ctx);
    fclose(f);
  }
  closedir(dir);
  return 0;
}

typedef struct {
  const char *name;
  unsigned long long ticks;
} bench_thread_cpu_t;

static void bench_add_thread_cpu(FILE *f, void *ctx)
{
  bench_thread_cpu_t *c = ctx;
  char buf[1024], *p, *q;
  unsigned long long ut, st;
  size_t n = fread(buf, 1, sizeof buf - 1, f);

  buf[n] = 0;
  p = strchr(buf, '(');
  q = strrchr(buf, ')');
  if (!p || !q || q < p || (size_t)(q - p - 1) != strlen(c->name) ||
      strncmp(p + 1, c->name, strlen(c->name)) != 0)
    return;
  if (sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
    c->ticks += ut + st;
}

/* CPU seconds of PID's threads named NAME (exactly), from /proc/PID/task:
 * councild names its threads councild (the loop), councild-work,
 * councild-sync and councild-ckpt. -1 if /proc cannot be read. */
BENCH_FN double bench_thread_cpu(pid_t pid, const char *name)
{
  bench_thread_cpu_t c = { name, 0 };
  if (bench_each_task(pid, "stat", bench_add_thread_cpu, &c) != 0)
    return -1;
  return (double)c.ticks / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds this process has used, all threads. */
BENCH_FN double bench_self_cpu(void);

/* The write pipeline's counters in a councild's /metrics, taken before and
 * after a timed part: commits, records per commit, and the time records
 * spent in each stage. */
static const char *const bench_stage_names[4] = { "verify", "wait_apply", "apply_commit",
                                                  "flush_sign" };
typedef struct bench_pipe_t {
  double records, batches, batched, stage[4];
} bench_pipe_t;

BENCH_FN void bench_pipe_take(tnode_t *node, bench_pipe_t *p)
{
  for (int k = 0; k < 4; k++) {
    char name[96];
    snprintf(name, sizeof name, "councilnet_pipeline_seconds_total{stage=\"%s\"}",
             bench_stage_names[k]);
    p->stage[k] = util_metric(node, name);
  }
  p->records = util_metric(node, "councilnet_pipeline_records_total");
  p->batches = util_metric(node, "councilnet_commit_batches_total");
  p->batched = util_metric(node, "councilnet_commit_batched_records_total");
}

BENCH_FN void bench_pipe_print(const char *tag, const char *unit, tnode_t *node,
                               const bench_pipe_t *before)
{
  bench_pipe_t now;
  double n, batches;

  bench_pipe_take(node, &now);
  n = now.records - before->records;
  batches = now.batches - before->batches;
  printf("%s: %.0f commits (%.1f records each on average)\n", tag, batches,
         batches > 0 ? (now.batched - before->batched) / batches : 0.0);
  if (n <= 0)
    return;
  printf("%s: time in the node per %s:", tag, unit);
  for (int k = 0; k < 4; k++)
    printf(" %s %.0f us%s", bench_stage_names[k], (now.stage[k] - before->stage[k]) * 1e6 / n,
           k < 3 ? "," : "\n");
}

/* CPU used by a councild (in all, and by each of its threads) and by this
 * load driver, taken before and after a timed part. */
#define BENCH_THREADS 4
static const char *const bench_thread_names[BENCH_THREADS] = {
  "councild", "councild-work", "councild-sync", "councild-ckpt"
};
typedef struct bench_cpu_t {
  double node, self, thread[BENCH_THREADS];
  double wchar, syscw;      /* councild's bytes written, and write calls */
  double switches;          /* councild's context switches, all threads */
} bench_cpu_t;

static void bench_add_switches(FILE *f, void *ctx)
{
  char line[128];
  unsigned long long v;

  while (fgets(line, sizeof line, f))
    if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
        sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
      *(double *)ctx += (double)v;
}

/* Context switches of all PID's threads (voluntary: it waited; others: it
 * was preempted), from /proc/PID/task/N/status; -1 if unreadable. */
BENCH_FN double bench_proc_switches(pid_t pid)
{
  double sum = 0;
  return bench_each_task(pid, "status", bench_add_switches, &sum) == 0 ? sum : -1;
}

/* What PID has written (/proc/PID/io, files and sockets alike): bytes
 * into WCHAR and write calls into SYSCW, each -1 if it cannot be read. */
BENCH_FN void bench_proc_writes(pid_t pid, double *wchar, double *syscw)
{
  char path[64], line[128];
  unsigned long long v;
  FILE *f;

  *wchar = *syscw = -1;
  snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
  f = fopen(path, "r");
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "wchar: %llu", &v) == 1)
      *wchar = (double)v;
    else if (sscanf(line, "syscw: %llu", &v) == 1)
      *syscw = (double)v;
  }
  fclose(f);
}

BENCH_FN void bench_cpu_take(pid_t pid, bench_cpu_t *c)
{
  for (int k = 0; k < BENCH_THREADS; k++)
    c->thread[k] = bench_thread_cpu(pid, bench_thread_names[k]);
  c->node = bench_proc_cpu(pid);
  c->self = bench_self_cpu();
  bench_proc_writes(pid, &c->wchar, &c->syscw);
  c->switches = bench_proc_switches(pid);
}

static double bench_cpu_diff(double acc, double before, double after)
{
  return acc < 0 || before < 0 || after < 0 ? -1 : acc + after - before;
}

/* Add AFTER - BEFORE, field by field, to ACC (a field once unreadable, -1,
 * stays so): the CPU of several timed parts, leaving out what lies
 * between them. */
BENCH_FN void bench_cpu_add(bench_cpu_t *acc, const bench_cpu_t *before, const bench_cpu_t *after)
{
  acc->node = bench_cpu_diff(acc->node, before->node, after->node);
  acc->self = bench_cpu_diff(acc->self, before->self, after->self);
  for (int k = 0; k < BENCH_THREADS; k++)
    acc->thread[k] = bench_cpu_diff(acc->thread[k], before->thread[k], after->thread[k]);
  acc->wchar = bench_cpu_diff(acc->wchar, before->wchar, after->wchar);
  acc->syscw = bench_cpu_diff(acc->syscw, before->syscw, after->syscw);
  acc->switches = bench_cpu_diff(acc->switches, before->switches, after->switches);
}

/* Print the CPU in D (a sum of bench_cpu_add) per UNIT, N of them in
 * SECONDS: councild and the load driver, then each of councild's threads.
 * The loop thread is the one part that cannot spread over cores: its share
 * of one core is how close it is to its own ceiling. */
BENCH_FN void bench_cpu_print_sum(const char *tag, const char *unit, const bench_cpu_t *d,
                                  size_t n, double seconds)
{
  if (n == 0 || seconds <= 0)
    return;
  printf("%s: CPU per %s: councild %.1f us (%.2f cores), load driver %.1f us (%.2f cores)\n", tag,
         unit, d->node * 1e6 / (double)n, d->node / seconds, d->self * 1e6 / (double)n,
         d->self / seconds);
  printf("%s: CPU per %s by thread:", tag, unit);
  for (int k = 0; k < BENCH_THREADS; k++)
    printf(" %s %.1f us (%.0f%% of a core)%s", bench_thread_names[k],
           d->thread[k] * 1e6 / (double)n, 100.0 * d->thread[k] / seconds,
           k < BENCH_THREADS - 1 ? "," : "\n");
  /* the WAL's frames (one call a commit: lib/vfs.c), checkpoints, replies
   * and the wake-ups of the loop through the pool's pipe */
  if (d->wchar >= 0 && d->syscw >= 0)
    printf("%s: written by councild per %s: %.0f bytes in %.1f write calls\n", tag, unit,
           d->wchar / (double)n, d->syscw / (double)n);
  /* every hand-off between threads that finds the other asleep is one */
  if (d->switches >= 0)
    printf("%s: context switches in councild per %s: %.1f\n", tag, unit,
           d->switches / (double)n);
}

/* The same for one timed part: from BEFORE to now. */
BENCH_FN void bench_cpu_print(const char *tag, const char *unit, pid_t pid,
                              const bench_cpu_t *before, size_t n, double seconds)
{
  bench_cpu_t now, d;

  memset(&d, 0, sizeof d);
  bench_cpu_take(pid, &now);
  bench_cpu_add(&d, before, &now);
  bench_cpu_print_sum(tag, unit, &d, n, seconds);
}

/* CPU seconds this process has used, all threads. */
BENCH_FN double bench_self_cpu(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* perf record (call graphs) on PID into the file CN_BENCH_PERF names, if
 * set: the perf pid, or 0. Stop with bench_perf_stop(). */
BENCH_FN pid_t bench_perf_start(pid_t pid)
{
  const char *out = getenv("CN_BENCH_PERF");
  char spid[32];
  pid_t p;

  if (!out || !*out)
    return 0;
  snprintf(spid, sizeof spid, "%d", (int)pid);
  p = fork();
  if (p == 0) {
    execlp("perf", "perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-o", out,
           "-p", spid, (char *)NULL);
    _exit(127);
  }
  util_sleep_ms(300);           /* let perf attach */
  return p < 0 ? 0 : p;
}

BENCH_FN void bench_perf_stop(pid_t p)
{
  if (p <= 0)
    return;
  kill(p, SIGINT);
  waitpid(p, NULL, 0);
  fprintf(stderr, "perf profile of councild written to %s\n", getenv("CN_BENCH_PERF"));
}

/* Start councild on T's data folder (stopped before) the way tests/util.c
 * does, watching for the port file every 0.2 ms instead of every 10 ms.
 * Fills T's pid, port and url; *MS (may be NULL) gets the time from fork
 * until the port file names the port. Return 0 or -1. */
BENCH_FN int bench_spawn(tnode_t *t, double *ms)
{
  char port_file[300], log_file[300];
  double t0 = bench_now();

  snprintf(port_file, sizeof port_file, "%s/port", t->dir);
  snprintf(log_file, sizeof log_file, "%s/councild.log", t->dir);
  unlink(port_file);
  t->pid = fork();
  if (t->pid < 0)
    return -1;
  if (t->pid == 0) {
    int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execl(getenv("CN_COUNCILD"), "councild", "run", "--data", t->dir, "--listen", "127.0.0.1:0",
          "--port-file", port_file, "--clock-file", t->clock_file, (char *)NULL);
    _exit(127);
  }
  while (bench_now() - t0 < 60) {
    FILE *f = fopen(port_file, "r");
    int status;
    if (f) {
      int ok = fscanf(f, "%d", &t->port) == 1 && t->port > 0;
      fclose(f);
      if (ok) {
        if (ms)
          *ms = (bench_now() - t0) * 1e3;
        snprintf(t->url, sizeof t->url, "http://127.0.0.1:%d", t->port);
        return 0;
      }
    }
    if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
      fprintf(stderr, "bench: councild exited early; see %s\n", log_file);
      t->pid = 0;
      return -1;
    }
    usleep(200);
  }
  return -1;
}

/* ---- ceiling: raw Ed25519 verification on one core ---- */

/* Size of the message a ballot's signature covers: "councilnet/1/ballot\0"
 * plus a serialized Ballot (node, created, proposal, one choice). */
BENCH_FN size_t bench_ballot_msg_len(void)
{
  Councilnet__Ballot b = COUNCILNET__BALLOT__INIT;
  uint8_t key[32] = { 1 };
  uint32_t choice = 1;

  b.node.data = key;
  b.node.len = 32;
  b.created = BENCH_T0;
  b.proposal.data = key;
  b.proposal.len = 32;
  b.choices = &choice;
  b.n_choices = 1;
  return sizeof "councilnet/1/ballot" + protobuf_c_message_get_packed_size(&b.base);
}

/* crypto_sign_verify_detached() calls per second on this thread over
 * ballot-sized messages from 64 keys, for about SECONDS. */
BENCH_FN double bench_verify_ceiling(double seconds)
{
  enum { KEYS = 64, MSGS = 256 };
  static uint8_t pk[KEYS][32], sk[KEYS][64], msg[MSGS][256], sig[MSGS][64];
  size_t len = bench_ballot_msg_len(), done = 0;
  double t0, t;

  if (len > sizeof msg[0])
    len = sizeof msg[0];
  for (int i = 0; i < KEYS; i++)
    crypto_sign_keypair(pk[i], sk[i]);
  for (int i = 0; i < MSGS; i++) {
    randombytes_buf(msg[i], len);
    crypto_sign_detached(sig[i], NULL, msg[i], len, sk[i % KEYS]);
  }
  t0 = bench_now();
  do {
    for (int i = 0; i < MSGS; i++)
      if (crypto_sign_verify_detached(sig[i], msg[i], len, pk[i % KEYS]) != 0)
        return -1;
    done += MSGS;
    t = bench_now();
  } while (t - t0 < seconds);
  return (double)done / (t - t0);
}

/* ---- ceiling: a bare evhttp server answering 200 "ok" ---- */

BENCH_FN void bare_on_request(struct evhttp_request *req, void *arg)
{
  struct evbuffer *out = evbuffer_new();
  (void)arg;
  evbuffer_add(out, "ok\n", 3);
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
  evhttp_send_reply(req, 200, "OK", out);
  evbuffer_free(out);
}

/* Fork a child running a bare libevent evhttp server on 127.0.0.1 (a free
 * port, written to *PORT). Return its pid, or -1. Stop it with
 * bench_bare_stop(). */
BENCH_FN pid_t bench_bare_start(int *port)
{
  int fds[2];
  pid_t pid;

  if (pipe(fds) != 0)
    return -1;
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    struct evhttp_bound_socket *s;
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    int p = -1;

    close(fds[0]);
    if (http) {
      evhttp_set_gencb(http, bare_on_request, NULL);
      s = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
      if (s && getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &sl) == 0)
        p = ntohs(sin.sin_port);
    }
    if (write(fds[1], &p, sizeof p) != (ssize_t)sizeof p || p < 0)
      _exit(1);
    close(fds[1]);
    event_base_dispatch(base);
    _exit(0);
  }
  close(fds[1]);
  if (read(fds[0], port, sizeof *port) != (ssize_t)sizeof *port || *port <= 0) {
    close(fds[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  close(fds[0]);
  return pid;
}

BENCH_FN void bench_bare_stop(pid_t pid)
{
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
}

/* The median of T[0..N) (sorted in place; N is small), or -1 if N is 0. */
BENCH_FN double bench_median(double *t, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  return n ? t[n / 2] : -1;
}

/* Median time in ms of N keep-alive GET round trips to URL. */
BENCH_FN double bench_rtt_ms(const char *url, const char *path, int n)
{
  char err[256];
  cn_http_conn_t *c = cn_http_conn_open(url, 10000, err, sizeof err);
  double *t = calloc((size_t)n, sizeof *t), med = -1;
  int got = 0;

  if (!c || !t)
    goto out;
  for (int i = 0; i < n + 50; i++) {
    cn_http_resp_t r;
    double t0 = bench_now();
    if (cn_http_conn_request(c, "GET", path, NULL, NULL, NULL, 0, &r, err, sizeof err) != 0)
      goto out;
    cn_http_resp_clear(&r);
    if (i >= 50)             /* warm-up first */
      t[got++] = (bench_now() - t0) * 1e3;
  }
  med = bench_median(t, got);
out:
  cn_http_conn_free(c);
  free(t);
  return med;
}

/* Median ms of one single-row SQLite transaction (WAL, synchronous=FULL)
 * in a fresh database under $TMPDIR: a durable commit, as each node makes
 * before it answers. N commits. */
BENCH_FN double bench_commit_ms(int n)
{
  char dir[256], path[300];
  sqlite3 *db = NULL;
  double *t = calloc((size_t)n, sizeof *t), med = -1;
  int got = 0;

  if (!t || util_tmpdir(dir, sizeof dir, "commit") != 0) {
    free(t);
    return -1;
  }
  snprintf(path, sizeof path, "%s/commit.db", dir);
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB);", NULL, NULL, NULL) != SQLITE_OK)
    goto out;
  for (int i = 0; i < n; i++) {
    double t0 = bench_now();
    if (sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO t(v) VALUES(randomblob(300)); COMMIT;",
                     NULL, NULL, NULL) != SQLITE_OK)
      goto out;
    t[got++] = (bench_now() - t0) * 1e3;
  }
  med = bench_median(t, got);
out:
  sqlite3_close(db);
  util_rmtree(dir);
  free(t);
  return med;
}

/* ---- a poll-driven keep-alive HTTP load driver ---- */

/* One prepared request: the exact bytes sent. */
typedef struct bench_req_t {
  uint8_t *buf;
  size_t len;
} bench_req_t;

/* Render "POST PATH" with BODY into R (malloc'd). Return 0 or -1. */
BENCH_FN int bench_req_post(bench_req_t *r, const char *path, const uint8_t *body, size_t len)
{
  char head[256];
  int n = snprintf(head, sizeof head,
                   "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                   path, len);
  r->buf = malloc((size_t)n + len);
  if (!r->buf)
    return -1;
  memcpy(r->buf, head, (size_t)n);
  memcpy(r->buf + n, body, len);
  r->len = (size_t)n + len;
  return 0;
}

BENCH_FN void bench_reqs_free(bench_req_t *r, size_t n)
{
  for (size_t i = 0; r && i < n; i++)
    free(r[i].buf);
  free(r);
}

typedef struct blast_conn_t {
  int fd;
  long cur;                 /* request in flight, -1 if idle */
  size_t woff;
  uint8_t *rbuf;
  size_t rlen, rcap, need;  /* need: header + body bytes once the header is parsed */
  int status;
  int retries;
} blast_conn_t;

typedef struct bench_blast_t {
  int port;
  int conns;
  const bench_req_t *reqs;
  size_t n;
  int *status;              /* OUT: per request HTTP status, -1 if none */
  /* optional: called with each answer (body valid during the call) */
  void (*on_reply)(void *ctx, size_t i, int status, const uint8_t *body, size_t len);
  void *ctx;
  /* OUT */
  size_t ok;                /* answers with status 200 */
  double seconds;           /* first send to last answer */
} bench_blast_t;

/* B set to send the N requests REQS to 127.0.0.1:PORT over CONNS
 * keep-alive connections, each answer's status into STATUS; no callback. */
BENCH_FN void bench_blast_init(bench_blast_t *b, int port, int conns, const bench_req_t *reqs,
                               size_t n, int *status)
{
  memset(b, 0, sizeof *b);
  b->port = port;
  b->conns = conns;
  b->reqs = reqs;
  b->n = n;
  b->status = status;
}

BENCH_FN int blast_connect(int port)
{
  struct sockaddr_in sin;
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

  if (fd < 0)
    return -1;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* Parse the header in C's buffer if complete: set status and need. */
BENCH_FN void blast_parse_head(blast_conn_t *c)
{
  uint8_t *end = NULL;
  size_t hlen, clen = 0;
  char *line;

  for (size_t i = 3; i < c->rlen; i++)
    if (c->rbuf[i] == '\n' && c->rbuf[i - 1] == '\r' && c->rbuf[i - 2] == '\n' &&
        c->rbuf[i - 3] == '\r') {
      end = c->rbuf + i + 1;
      break;
    }
  if (!end)
    return;
  hlen = (size_t)(end - c->rbuf);
  c->status = (c->rlen > 12 && memcmp(c->rbuf, "HTTP/1.", 7) == 0) ? atoi((char *)c->rbuf + 9) : 0;
  for (line = (char *)c->rbuf; line < (char *)end; ) {
    char *nl = memchr(line, '\n', (size_t)((char *)end - line));
    if (strncasecmp(line, "Content-Length:", 15) == 0)
      clen = (size_t)strtoull(line + 15, NULL, 10);
    if (!nl)
      break;
    line = nl + 1;
  }
  c->need = hlen + clen;
  if (c->need == 0)
    c->need = hlen;
}

/* Make request I the one in flight on C and write what the socket takes
 * now (the rest when poll says it is writable). 0, or -1 if the connection
 * failed (C->cur is I then, to be sent again). */
BENCH_FN int blast_send(blast_conn_t *c, const bench_req_t *reqs, long i)
{
  ssize_t k;

  c->cur = i;
  c->woff = 0;
  c->rlen = 0;
  c->need = 0;
  c->retries = 0;
  k = write(c->fd, reqs[i].buf, reqs[i].len);
  if (k > 0)
    c->woff = (size_t)k;
  return k < 0 && errno != EAGAIN ? -1 : 0;
}

/* Send B->n requests over B->conns keep-alive connections to 127.0.0.1:
 * B->port, each connection one request at a time, as fast as answers come
 * back. A request whose connection drops before its answer is sent again
 * (up to 3 times; POST /v1/records is idempotent). Return 0, or -1 if the
 * server could not be reached at all. */
BENCH_FN int bench_blast(bench_blast_t *b)
{
  blast_conn_t *cs = calloc((size_t)b->conns, sizeof *cs);
  struct pollfd *pf = calloc((size_t)b->conns, sizeof *pf);
  size_t next = 0, done = 0;
  double t0;
  int rc = -1;

  b->ok = 0;
  if (!cs || !pf)
    goto out;
  for (size_t i = 0; i < b->n; i++)
    b->status[i] = -1;
  for (int i = 0; i < b->conns; i++) {
    cs[i].fd = blast_connect(b->port);
    cs[i].cur = -1;
    if (cs[i].fd < 0)
      goto out;
  }
  t0 = bench_now();
  while (done < b->n) {
    for (int i = 0; i < b->conns; i++) {
      blast_conn_t *c = &cs[i];
      if (c->cur < 0 && next < b->n)
        blast_send(c, b->reqs, (long)next++);
      pf[i].fd = c->cur < 0 ? -1 : c->fd;
      pf[i].events = c->cur < 0 ? 0 : c->woff < b->reqs[c->cur].len ? POLLOUT : POLLIN;
      pf[i].revents = 0;
    }
    if (poll(pf, (nfds_t)b->conns, 10000) <= 0)
      goto out;     /* nothing for 10 s: give up */
    for (int i = 0; i < b->conns; i++) {
      blast_conn_t *c = &cs[i];
      const bench_req_t *r;
      ssize_t k;
      if (c->cur < 0 || !pf[i].revents)
        continue;
      r = &b->reqs[c->cur];
      if (c->woff < r->len) {
        k = write(c->fd, r->buf + c->woff, r->len - c->woff);
        if (k > 0)
          c->woff += (size_t)k;
        else if (k < 0 && errno != EAGAIN)
          goto reconnect;
        continue;
      }
      if (c->rcap - c->rlen < 4096) {
        size_t cap = c->rcap ? c->rcap * 2 : 16384;
        uint8_t *nb = realloc(c->rbuf, cap);
        if (!nb)
          goto out;
        c->rbuf = nb;
        c->rcap = cap;
      }
      k = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
      if (k < 0 && errno == EAGAIN)
        continue;
      if (k <= 0)
        goto reconnect;
      c->rlen += (size_t)k;
      if (!c->need)
        blast_parse_head(c);
      if (c->need && c->rlen >= c->need) {
        size_t hlen = c->need;
        /* the body is the tail of the answer; find where the header ended */
        for (size_t j = 3; j < c->rlen; j++)
          if (c->rbuf[j] == '\n' && c->rbuf[j - 3] == '\r' && c->rbuf[j - 2] == '\n') {
            hlen = j + 1;
            break;
          }
        b->status[c->cur] = c->status;
        if (c->status == 200)
          b->ok++;
        if (b->on_reply)
          b->on_reply(b->ctx, (size_t)c->cur, c->status, c->rbuf + hlen, c->need - hlen);
        done++;
        c->cur = -1;
        /* the next request goes at once, as a client with more to send
         * would: no poll round for a socket that is writable anyway */
        if (next < b->n && blast_send(c, b->reqs, (long)next++) != 0)
          goto reconnect;
      }
      continue;
reconnect:
      close(c->fd);
      c->fd = blast_connect(b->port);
      c->woff = 0;
      c->rlen = 0;
      c->need = 0;
      if (c->fd < 0 || ++c->retries > 3) {
        if (c->fd < 0)
          goto out;
        done++;          /* status stays -1 */
        c->cur = -1;
      }
    }
  }
  b->seconds = bench_now() - t0;
  rc = 0;
out:
  for (int i = 0; cs && i < b->conns; i++) {
    if (cs[i].fd >= 0)
      close(cs[i].fd);
    free(cs[i].rbuf);
  }
  free(cs);
  free(pf);
  return rc;
}

/* When each answer came: pass bench_stamp as on_reply, a bench_stamps_t
 * with room for every request as ctx. */
typedef struct bench_stamps_t {
  double *t;
  size_t n;
} bench_stamps_t;

BENCH_FN void bench_stamp(void *ctx, size_t i, int status, const uint8_t *body, size_t len)
{
  bench_stamps_t *s = ctx;
  (void)i;
  (void)status;
  (void)body;
  (void)len;
  s->t[s->n++] = bench_now();
}

/* Print the rate of the first and of the last tenth of the answers of a
 * run that took SECONDS (first send to last answer). */
BENCH_FN void bench_stamps_print(const char *name, const char *what, const bench_stamps_t *s,
                                 double seconds)
{
  size_t k = s->n / 10;
  double start;

  if (k == 0 || s->n <= 2 * k)
    return;
  start = s->t[s->n - 1] - seconds;
  printf("%s: first 10%% of %s at %.0f/s, last 10%% at %.0f/s\n", name, what,
         (double)k / (s->t[k - 1] - start), (double)k / (s->t[s->n - 1] - s->t[s->n - 1 - k]));
}

/* POST every envelope in ENVS to N's /v1/records over CONNS connections.
 * Return the number answered 200; *SECONDS (may be NULL) the time taken. */
BENCH_FN size_t bench_post_all(tnode_t *n, uint8_t **envs, const size_t *lens, size_t count,
                               int conns, double *seconds)
{
  bench_req_t *reqs = calloc(count ? count : 1, sizeof *reqs);
  int *status = calloc(count ? count : 1, sizeof *status);
  bench_blast_t b;
  size_t ok = 0;

  memset(&b, 0, sizeof b);
  if (!reqs || !status)
    goto out;
  for (size_t i = 0; i < count; i++)
    if (bench_req_post(&reqs[i], "/v1/records", envs[i], lens[i]) != 0)
      goto out;
  bench_blast_init(&b, n->port, conns, reqs, count, status);
  if (bench_blast(&b) == 0)
    ok = b.ok;
  if (seconds)
    *seconds = b.seconds;
out:
  bench_reqs_free(reqs, count);
  free(status);
  return ok;
}

/* ---- records ---- */

/* Deterministic member key I (so a run can be repeated). */
BENCH_FN void bench_member_key(size_t i, uint8_t pk[CN_PK_BYTES], uint8_t sk[CN_SK_BYTES])
{
  uint8_t seed[crypto_sign_SEEDBYTES];
  uint64_t x = (uint64_t)i;
  crypto_generichash(seed, sizeof seed, (const uint8_t *)&x, sizeof x,
                     (const uint8_t *)"councilnet-bench", 16);
  crypto_sign_seed_keypair(pk, sk, seed);
}

BENCH_FN int bench_seal_member_add(const uint8_t node[CN_PK_BYTES], uint64_t now,
                                   const uint8_t member[CN_PK_BYTES],
                                   const uint8_t convener_sk[CN_SK_BYTES], uint8_t **env, size_t *len)
{
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  m.node.data = (uint8_t *)node;
  m.node.len = CN_PK_BYTES;
  m.created = now;
  m.member.data = (uint8_t *)member;
  m.member.len = CN_PK_BYTES;
  m.name = "member";
  return cn_record_seal("member_add", &m.base, convener_sk, env, len);
}

BENCH_FN int bench_seal_ballot(const uint8_t node[CN_PK_BYTES], uint64_t now,
                               const uint8_t pid[CN_HASH_BYTES], uint32_t choice,
                               const uint8_t sk[CN_SK_BYTES], uint8_t **env, size_t *len)
{
  Councilnet__Ballot b = COUNCILNET__BALLOT__INIT;
  b.node.data = (uint8_t *)node;
  b.node.len = CN_PK_BYTES;
  b.created = now;
  b.proposal.data = (uint8_t *)pid;
  b.proposal.len = CN_HASH_BYTES;
  b.choices = &choice;
  b.n_choices = 1;
  return cn_record_seal("ballot", &b.base, sk, env, len);
}

/* A yes/no/abstain question open from NOW for ten years, one ballot per
 * member (rule.replace = 0). */
BENCH_FN int bench_seal_question(const uint8_t node[CN_PK_BYTES], uint64_t now, const char *title,
                                 const uint8_t sk[CN_SK_BYTES], uint8_t **env, size_t *len)
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule r = COUNCILNET__RULE__INIT;
  p.node.data = (uint8_t *)node;
  p.node.len = CN_PK_BYTES;
  p.created = now;
  p.title = (char *)title;
  p.option_kind = COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN;
  p.opens = now;
  p.closes = now + 10ULL * 365 * 86400;
  p.rule = &r;
  r.threshold = COUNCILNET__THRESHOLD__MAJORITY;
  r.replace = 0;
  return cn_record_seal("proposal", &p.base, sk, env, len);
}

/* ---- building a node's database through the library ---- */

BENCH_FN uint64_t bench_fake_clock(void *ctx)
{
  return *(const uint64_t *)ctx;
}

/* Makes record I of a stream into *ENV. Called in order, from one thread
 * at a time (the signing thread). Return 0 or -1. */
typedef int (*bench_gen_fn)(void *ctx, size_t i, uint8_t **env, size_t *len);

typedef struct gen_job_t {
  bench_gen_fn gen;
  void *ctx;
  size_t from, to;
  uint8_t **envs;
  size_t *lens;
  int rc;
} gen_job_t;

BENCH_FN void *gen_run(void *arg)
{
  gen_job_t *j = arg;
  j->rc = 0;
  for (size_t i = j->from; i < j->to && j->rc == 0; i++)
    j->rc = j->gen(j->ctx, i, &j->envs[i - j->from], &j->lens[i - j->from]);
  return NULL;
}

/* Submit records 0..COUNT-1 made by GEN to the open node N, CHUNK records
 * per transaction (cn_node_batch_begin/end). A second thread signs chunk
 * k+1 while this one submits chunk k. Every record must be accepted.
 * Progress on stderr with TAG. Return 0, or -1 (message printed). */
BENCH_FN int bench_submit_stream(cn_node_t *n, bench_gen_fn gen, void *ctx, size_t count,
                                 size_t chunk, const char *tag)
{
  uint8_t **envs[2] = { NULL, NULL };
  size_t *lens[2] = { NULL, NULL };
  gen_job_t job[2];
  pthread_t th;
  size_t k = 0, next_report = count / 10;
  double t0 = bench_now();
  int rc = -1, running = 0;

  for (int i = 0; i < 2; i++) {
    envs[i] = calloc(chunk, sizeof *envs[i]);
    lens[i] = calloc(chunk, sizeof *lens[i]);
    if (!envs[i] || !lens[i])
      goto out;
  }
  if (count == 0) {
    rc = 0;
    goto out;
  }
  job[0] = (gen_job_t){ gen, ctx, 0, chunk < count ? chunk : count, envs[0], lens[0], 0 };
  gen_run(&job[0]);
  if (job[0].rc != 0)
    goto out;
  for (size_t from = 0; from < count; from += chunk, k ^= 1) {
    gen_job_t *cur = &job[k], *nxt = &job[k ^ 1];
    size_t nfrom = from + chunk;
    if (nfrom < count) {
      *nxt = (gen_job_t){ gen, ctx, nfrom, nfrom + chunk < count ? nfrom + chunk : count,
                          envs[k ^ 1], lens[k ^ 1], 0 };
      if (pthread_create(&th, NULL, gen_run, nxt) != 0)
        goto out;
      running = 1;
    }
    if (cn_node_batch_begin(n) != 0) {
      fprintf(stderr, "%s: batch_begin failed\n", tag);
      goto out;
    }
    for (size_t i = 0; i < cur->to - cur->from; i++) {
      uint8_t *receipt = NULL;
      size_t rlen = 0;
      char msg[256];
      cn_err e = cn_node_submit(n, cur->envs[i], cur->lens[i], &receipt, &rlen, msg, sizeof msg);
      free(receipt);
      free(cur->envs[i]);
      cur->envs[i] = NULL;
      if (e != CN_OK) {
        fprintf(stderr, "%s: record %zu refused: %s (%s)\n", tag, cur->from + i, cn_err_name(e), msg);
        cn_node_batch_end(n);
        goto out;
      }
    }
    if (cn_node_batch_end(n) != 0) {
      fprintf(stderr, "%s: commit failed\n", tag);
      goto out;
    }
    if (running) {
      pthread_join(th, NULL);
      running = 0;
      if (nxt->rc != 0)
        goto out;
    }
    if (cur->to >= next_report && count >= 100000) {
      fprintf(stderr, "%s: %zu / %zu records (%.0f s)\n", tag, cur->to, count, bench_now() - t0);
      next_report += count / 10;
    }
  }
  rc = 0;
out:
  if (running)
    pthread_join(th, NULL);
  for (int i = 0; i < 2; i++) {
    for (size_t j = 0; envs[i] && j < chunk; j++)
      free(envs[i][j]);
    free(envs[i]);
    free(lens[i]);
  }
  return rc;
}

/* The log a verify or memory benchmark runs against: MEMBERS member_add
 * records, then questions of up to 1000 records each (the question and 999
 * ballots from distinct members), up to ENTRIES records in all. */
typedef struct bench_log_t {
  tnode_t *t;
  size_t members, entries;
  uint8_t (*pk)[CN_PK_BYTES];
  uint8_t (*sk)[CN_SK_BYTES];
  size_t block;                   /* records per question */
  uint8_t pid[CN_HASH_BYTES];     /* the current question */
} bench_log_t;

BENCH_FN int log_gen(void *ctx, size_t i, uint8_t **env, size_t *len)
{
  bench_log_t *l = ctx;
  size_t j, b, t;

  if (i < l->members)
    return bench_seal_member_add(l->t->pk, BENCH_T0, l->pk[i], l->t->convener_sk, env, len);
  j = i - l->members;
  b = j / l->block;
  t = j % l->block;
  if (t == 0) {
    char title[64];
    snprintf(title, sizeof title, "Question %zu", b + 1);
    if (bench_seal_question(l->t->pk, BENCH_T0, title, l->t->convener_sk, env, len) != 0)
      return -1;
    cn_crypto_hash(l->pid, *env, *len);
    return 0;
  }
  return bench_seal_ballot(l->t->pk, BENCH_T0, l->pid, (uint32_t)(t % 3),
                           l->sk[(b * (l->block - 1) + t - 1) % l->members], env, len);
}

/* Run a shell command line; return 0 if it exited 0. */
BENCH_FN int bench_system(const char *cmd)
{
  int st = system(cmd);
  return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Set T up on a copy of the stopped node folder FROM, convener key in
 * KEYFILE. Return 0 or -1. */
BENCH_FN int log_from_cache(tnode_t *t, const char *from, const char *keyfile)
{
  char tmp[256], cmd[1024], err[256], path[320];
  uint8_t sk[CN_SK_BYTES];

  memset(t, 0, sizeof *t);
  if (util_tmpdir(tmp, sizeof tmp, "node") != 0)
    return -1;
  snprintf(t->dir, sizeof t->dir, "%.200s/data", tmp);
  snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", from, t->dir);
  snprintf(t->clock_file, sizeof t->clock_file, "%s/clock", t->dir);
  snprintf(path, sizeof path, "%s/node.key", t->dir);
  if (bench_system(cmd) != 0 ||
      cn_keyfile_read(keyfile, t->convener_sk, NULL, NULL, err, sizeof err) != 0 ||
      cn_keyfile_read(path, sk, NULL, NULL, err, sizeof err) != 0)
    return -1;
  cn_crypto_sk_to_pk(t->convener_pk, t->convener_sk);
  cn_crypto_sk_to_pk(t->pk, sk);
  sodium_memzero(sk, sizeof sk);
  return tnode_set_clock(t, BENCH_T0);
}

/* Keep a copy of T's stopped node folder and its convener key in CDIR. */
BENCH_FN void log_to_cache(const tnode_t *t, const char *cdir)
{
  char cmd[1024], path[600], err[256];

  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp -a '%s' '%s/data'", cdir, cdir,
           t->dir, cdir);
  snprintf(path, sizeof path, "%s/convener.key", cdir);
  if (bench_system(cmd) != 0 || cn_keyfile_write(path, t->convener_sk, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "bench: cannot keep the log in %s\n", cdir);
    return;
  }
  snprintf(cmd, sizeof cmd, "touch '%s/ok'", cdir);
  if (bench_system(cmd) != 0)
    fprintf(stderr, "bench: cannot keep the log in %s\n", cdir);
}

/* Start a node (councild init + run, then stopped), fill its database
 * through the library with MEMBERS members and about ENTRIES log entries
 * in all (see bench_log_t). With START, start councild on it again
 * (tnode_restart), else leave it stopped. L->pk/sk get the member keys
 * (free with bench_log_free).
 *
 * If CN_BENCH_CACHE names a folder, a log once built is kept there
 * (log-MEMBERS-ENTRIES/: the stopped node folder and its convener key) and
 * later runs start from a copy of it instead of building it again.
 * Return 0 or -1. */
BENCH_FN int bench_log_node(tnode_t *t, bench_log_t *l, size_t members, size_t entries, int start)
{
  const char *cache = getenv("CN_BENCH_CACHE");
  char cdir[400] = "", path[500], key[500];
  cn_node_t *n = NULL;
  cn_node_stats_t st;
  uint64_t now = BENCH_T0;
  char err[256];
  size_t count;
  double t0 = bench_now();
  int rc = -1;

  memset(l, 0, sizeof *l);
  l->t = t;
  l->members = members;
  l->entries = entries;
  l->block = members + 1 < 1000 ? members + 1 : 1000;
  l->pk = calloc(members, sizeof *l->pk);
  l->sk = calloc(members, sizeof *l->sk);
  if (!l->pk || !l->sk)
    return -1;
  for (size_t i = 0; i < members; i++)
    bench_member_key(i, l->pk[i], l->sk[i]);
  if (cache && *cache) {
    snprintf(cdir, sizeof cdir, "%.300s/log-%zu-%zu", cache, members, entries);
    snprintf(path, sizeof path, "%s/ok", cdir);
    if (access(path, F_OK) == 0) {
      snprintf(path, sizeof path, "%s/data", cdir);
      snprintf(key, sizeof key, "%s/convener.key", cdir);
      if (log_from_cache(t, path, key) != 0) {
        fprintf(stderr, "bench: cannot copy the log kept in %s\n", cdir);
        return -1;
      }
      fprintf(stderr, "bench: log of %zu entries copied from %s in %.1f s\n", entries, cdir,
              bench_now() - t0);
      return start ? tnode_restart(t) : 0;
    }
  }
  if (tnode_start(t, "Bench assembly", BENCH_T0) != 0 || tnode_kill(t, SIGTERM) != 0)
    return -1;
  if (cn_node_open(t->dir, &n, err, sizeof err) != 0) {
    fprintf(stderr, "bench: open %s: %s\n", t->dir, err);
    return -1;
  }
  cn_node_set_clock(n, bench_fake_clock, &now);
  cn_node_stats(n, &st);
  count = entries > st.seq ? entries - (size_t)st.seq : 0;
  if (count < members)
    count = members;
  if (bench_submit_stream(n, log_gen, l, count, 10000, "building the log") != 0)
    goto out;
  cn_node_stats(n, &st);
  fprintf(stderr, "built a log of %llu entries, %zu members in %.1f s\n",
          (unsigned long long)st.seq, members, bench_now() - t0);
  cn_node_free(n);
  n = NULL;
  if (cdir[0])
    log_to_cache(t, cdir);
  rc = start ? tnode_restart(t) : 0;
out:
  cn_node_free(n);
  return rc;
}

BENCH_FN void bench_log_free(bench_log_t *l)
{
  free(l->pk);
  free(l->sk);
  l->pk = NULL;
  l->sk = NULL;
}
