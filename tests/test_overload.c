/* test_overload.c: one councild on 127.0.0.1 under 1,000 slow connections
 * (one byte every second, never finishing a request) and 200 oversized
 * uploads, while a normal client keeps getting answers. Every slow
 * connection must be closed by the node's own deadline (2 s here), the
 * node's memory must stay bounded, and past the connection cap new
 * connections are answered 503 and closed. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "http.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define SLOW 1000
#define BIG 200

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(int port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  if (fd < 0)
    return -1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* 1 if the peer has closed FD (EOF or reset), 0 if still open. */
static int peer_closed(int fd)
{
  char buf[512];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n == 0)
    return 1;
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
  return 0;   /* some bytes (an answer); closure comes next */
}

static long rss_kib(pid_t pid)
{
  char path[64], line[256];
  long kib = -1;
  FILE *f;

  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

static int normal_request_ok(tnode_t *n, double *ms)
{
  cn_http_resp_t resp;
  char err[256];
  double t0 = now_s();
  int ok;

  if (cn_http_request(n->url, "GET", "/v1/node", NULL, NULL, NULL, 0, 5000, &resp, err, sizeof err) != 0)
    return 0;
  ok = resp.status == 200;
  cn_http_resp_clear(&resp);
  *ms = (now_s() - t0) * 1000.0;
  return ok;
}

int main(void)
{
  static int slow[SLOW], big[BIG];
  const char *set[] = { "timeout=2", "max_connections=1300" };
  struct rlimit rl;
  tnode_t node;
  int started = 0, n_slow = 0, closed = 0, answered = 0, big_413 = 0;
  long rss0, rss_peak = 0;
  double t_start, worst_ms = 0, ms = 0, closed_by = 0;

  memset(&node, 0, sizeof node);
  memset(slow, -1, sizeof slow);
  memset(big, -1, sizeof big);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  cn_crypto_init();
  REQUIRE(tnode_start_set(&node, "overload", T0, set, 2) == 0);
  started = 1;
  util_sleep_ms(200);
  rss0 = rss_kib(node.pid);

  /* 1,000 slow connections: a request line, then a byte a second. */
  t_start = now_s();
  for (int i = 0; i < SLOW; i++) {
    slow[i] = dial(node.port);
    if (slow[i] < 0)
      break;
    n_slow++;
    if (send(slow[i], "POST /v1/records HTTP/1.1\r\n", 27, MSG_NOSIGNAL) != 27)
      break;
  }
  CHECK_EQ_INT(n_slow, SLOW);
  /* 200 oversized uploads: a body far over max_body. */
  for (int i = 0; i < BIG; i++) {
    char head[200];
    int len = snprintf(head, sizeof head, "POST /v1/records HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/x-protobuf\r\nContent-Length: %d\r\n\r\n", 50 << 20);
    big[i] = dial(node.port);
    if (big[i] >= 0 && send(big[i], head, (size_t)len, MSG_NOSIGNAL) < 0) {
      close(big[i]);
      big[i] = -1;
    }
  }
  /* Trickle for up to 6 s; the node's deadline is 2 s. */
  while (now_s() - t_start < 6.0 && closed < n_slow) {
    closed = 0;
    for (int i = 0; i < n_slow; i++) {
      if (slow[i] < 0) {
        closed++;
        continue;
      }
      if (peer_closed(slow[i])) {
        close(slow[i]);
        slow[i] = -1;
        closed++;
        continue;
      }
      if (send(slow[i], "X", 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
        close(slow[i]);
        slow[i] = -1;
        closed++;
      }
    }
    for (int i = 0; i < BIG; i++) {
      char buf[256];
      ssize_t r;
      if (big[i] < 0)
        continue;
      r = recv(big[i], buf, sizeof buf - 1, 0);
      if (r > 0) {
        buf[r] = 0;
        if (strstr(buf, " 413 "))
          big_413++;
        close(big[i]);
        big[i] = -1;
      } else if (r == 0) {
        close(big[i]);
        big[i] = -1;
      }
    }
    if (normal_request_ok(&node, &ms)) {
      answered++;
      if (ms > worst_ms)
        worst_ms = ms;
    }
    {
      long r = rss_kib(node.pid);
      if (r > rss_peak)
        rss_peak = r;
    }
    if (closed == n_slow && closed_by == 0)
      closed_by = now_s() - t_start;
    util_sleep_ms(1000 / 4);
  }
  if (closed_by == 0 && closed == n_slow)
    closed_by = now_s() - t_start;
  printf("overload: %d slow connections, %d closed by the node after %.1f s (deadline 2 s);"
         " %d oversized uploads answered 413; normal client answered %d times, worst %.1f ms;"
         " RSS %ld KiB before, %ld KiB peak\n",
         n_slow, closed, closed_by, big_413, answered, worst_ms, rss0, rss_peak);
  CHECK_EQ_INT(closed, n_slow);
  CHECK(closed_by > 1.5 && closed_by < 5.0);
  CHECK(answered >= 8);
  CHECK(worst_ms < 1000.0);
  CHECK(big_413 >= BIG * 9 / 10);
  CHECK(rss0 > 0 && rss_peak - rss0 < 64 * 1024);

  /* The cap: with 1,300 allowed, 1,400 open connections leave 100 refused. */
  {
    static int fds[1400];
    int refused = 0;
    for (int i = 0; i < 1400; i++)
      fds[i] = dial(node.port);
    util_sleep_ms(500);
    for (int i = 0; i < 1400; i++) {
      char buf[128];
      ssize_t r;
      if (fds[i] < 0)
        continue;
      r = recv(fds[i], buf, sizeof buf - 1, 0);
      if (r > 0) {
        buf[r] = 0;
        refused += strstr(buf, " 503 ") != NULL;
      }
    }
    printf("connection cap 1300: %d of 1400 connections answered 503\n", refused);
    CHECK(refused >= 95 && refused <= 100);
    CHECK(normal_request_ok(&node, &ms) || refused > 0);
    for (int i = 0; i < 1400; i++)
      if (fds[i] >= 0)
        close(fds[i]);
    {
      /* Once the flood is gone, service resumes at once. */
      int ok = 0;
      for (int i = 0; i < 20 && !ok; i++) {
        util_sleep_ms(100);
        ok = normal_request_ok(&node, &ms);
      }
      CHECK(ok);
    }
  }
done:
  for (int i = 0; i < SLOW; i++)
    if (slow[i] >= 0)
      close(slow[i]);
  for (int i = 0; i < BIG; i++)
    if (big[i] >= 0)
      close(big[i]);
  if (started)
    CHECK(tnode_destroy(&node) == 0);
  return test_finish("test_overload");
}
