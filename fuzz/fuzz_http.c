/* fuzz_http.c: libFuzzer entry point for councild's HTTP side: libevent's
 * request parser behind server/net.c (limits, connection tracking), the
 * routes of server/api.c (cn_api_handle) and the node behind them, all in
 * this process.
 *
 * The server listens on 127.0.0.1 (port picked by the kernel). Each input
 * is written as is to a new TCP connection, the client then half-closes
 * (so an incomplete request ends instead of waiting for the deadline), and
 * the event loop runs until the server has closed the connection, reading
 * and discarding the answers, or 2 s have passed. The loop is driven with
 * the public cn_loop_* API only: a 1 ms timer does the client's side and
 * calls cn_loop_stop() when done. (libevent does not re-arm a persistent
 * timer of period 0, so 1 ms is the shortest tick, and an input takes
 * about that long.)
 *
 * As in councild: group commit is on (records of one loop pass share one
 * transaction and are answered after its commit; cn_api_init), and each
 * key may send 50 acts a second, 200 at once. The node has the fixed keys
 * of fuzz_node.h, so seed requests can POST records the node accepts. It
 * starts over every 20000 inputs. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "api.h"
#include "fuzz_node.h"

#define HTTP_DEADLINE_MS 2000
#define HTTP_RESET_EVERY 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cn_loop_t *loop;
static cn_http_t *http;
static cn_api_t api;
static int port;
static unsigned inputs, slow;

/* The client side of the current input. */
static struct {
  int fd;
  const uint8_t *data;
  size_t len, sent;
  int shut, done;
  uint64_t deadline;
} cl = { -1, NULL, 0, 0, 0, 0, 0 };

/* Send what the socket takes, half-close once all is sent, read and drop
 * what came back. Return 1 once the server has closed, else 0. */
static int client_io(void)
{
  uint8_t buf[16384];

  while (cl.sent < cl.len) {
    ssize_t n = send(cl.fd, cl.data + cl.sent, cl.len - cl.sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        cl.sent = cl.len;     /* the server closed on us: stop sending */
      break;
    }
    cl.sent += (size_t)n;
  }
  if (cl.sent == cl.len && !cl.shut) {
    shutdown(cl.fd, SHUT_WR);
    cl.shut = 1;
  }
  for (;;) {
    ssize_t n = recv(cl.fd, buf, sizeof buf, 0);
    if (n > 0)
      continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      cl.done = 1;
    break;
  }
  return cl.done;
}

static void on_tick(void *ctx)
{
  (void)ctx;
  if (cl.fd < 0 || client_io() || cn_loop_now_ms() > cl.deadline)
    cn_loop_stop(loop);
}

static void server_start(void)
{
  cn_http_limits_t limits;
  struct sigaction old_int, old_term;
  char err[256];

  cn_crypto_init();
  fz_node_reset();
  /* libevent's default clock is CLOCK_MONOTONIC_COARSE (4 ms steps on many
   * kernels), which makes the 1 ms tick a 4 ms one: ask for the precise
   * clock, for this process only. */
  setenv("EVENT_PRECISE_TIMER", "1", 1);
  /* cn_loop_new() takes SIGINT and SIGTERM for a clean councild stop; give
   * them back to libFuzzer, which stops the run on them. */
  sigaction(SIGINT, NULL, &old_int);
  sigaction(SIGTERM, NULL, &old_term);
  loop = cn_loop_new();
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  memset(&limits, 0, sizeof limits);
  limits.max_body = 256 * 1024;
  limits.max_headers = 8 * 1024;
  limits.timeout_s = 10;
  limits.max_conns = 1024;
  memset(&api, 0, sizeof api);
  api.node = fz_node;
  cn_node_set_rate(fz_node, 50, 200);
  http = loop ? cn_http_new(loop, &limits, cn_api_handle, &api) : NULL;
  api.http = http;
  if (!http || cn_api_init(&api, loop, 2) != 0 || cn_http_listen(http, "127.0.0.1:0", &port, err, sizeof err) != 0 ||
      cn_loop_every(loop, 1, on_tick, NULL) != 0) {
    fprintf(stderr, "fuzz_http: cannot start the server: %s\n", http ? err : "event loop");
    exit(1);
  }
}

static int client_connect(void)
{
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* Blocking connect: on loopback the kernel completes the handshake
   * before the server's loop accepts. A signal (libFuzzer's timer) may cut
   * the wait short; the handshake goes on, so wait for it to finish. */
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    struct pollfd p = { fd, POLLOUT, 0 };
    int e = 0, r;
    socklen_t el = sizeof e;
    if (errno != EINTR)
      goto fail;
    do
      r = poll(&p, 1, HTTP_DEADLINE_MS);
    while (r < 0 && errno == EINTR);
    if (r != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0)
      goto fail;
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
    goto fail;
  return fd;
fail:
  close(fd);
  return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!loop)
    server_start();
  else if (++inputs % HTTP_RESET_EVERY == 0) {
    if (cn_api_drain(&api) != 0)   /* no worker may still hold the old node */
      abort();
    fz_node_reset();
    api.node = fz_node;
    cn_node_set_rate(fz_node, 50, 200);
  }
  cl.fd = client_connect();
  if (cl.fd < 0) {
    perror("fuzz_http: connect");
    abort();
  }
  cl.data = data;
  cl.len = size;
  cl.sent = 0;
  cl.shut = 0;
  cl.done = 0;
  cl.deadline = cn_loop_now_ms() + HTTP_DEADLINE_MS;
  client_io();        /* send what the socket takes now, before the loop runs */
  cn_loop_run(loop);
  if (!cl.done && ++slow <= 10)
    fprintf(stderr, "fuzz_http: the server kept a half-closed connection open for %d ms\n",
            HTTP_DEADLINE_MS);
  close(cl.fd);
  cl.fd = -1;
  return 0;
}
