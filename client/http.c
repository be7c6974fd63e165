/* http.c: a small blocking HTTP/1.1 client (see http.h).
 *
 * Sockets are non-blocking; every wait goes through poll() against one
 * deadline per request, so a stalled server cannot hang the caller. The
 * response is read through a small buffer owned by the connection. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "councilnet/url.h"

#define RBUF_SIZE (64 * 1024)

struct cn_http_conn_t {
  char host[256];           /* without brackets, for getaddrinfo */
  char port[8];
  char host_header[272];    /* host:port as sent in Host: */
  int timeout_ms;
  int fd;                   /* -1 when not connected */
  uint8_t *rbuf;            /* received bytes not yet consumed: [rpos, rend) */
  size_t rpos;
  size_t rend;
};

/* How the body of one response is framed. */
typedef struct http_frame_t {
  int chunked;
  int has_length;
  uint64_t length;
  int keep_alive;           /* the connection may carry another request */
} http_frame_t;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  if (!err || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int64_t now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_after(int timeout_ms)
{
  return timeout_ms > 0 ? now_ms() + timeout_ms : -1;
}

/* Wait until FD is ready for EVENTS. Return 1 ready, 0 deadline passed, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
  struct pollfd p;
  int wait, r;

  for (;;) {
    wait = -1;
    if (deadline >= 0) {
      int64_t left = deadline - now_ms();
      if (left <= 0)
        return 0;
      wait = left > INT_MAX ? INT_MAX : (int)left;
    }
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, wait);
    if (r > 0)
      return 1;
    if (r == 0)
      return 0;
    if (errno != EINTR)
      return -1;
  }
}

/* Split BASE into host and port. Return 0 or -1. */
static int parse_base(cn_http_conn_t *c, const char *base, char *err, size_t errlen)
{
  int port;

  if (cn_url_parse(base, c->host, sizeof c->host, &port) != 0) {
    set_err(err, errlen, "bad node URL \"%s\": expected http://host:port", base ? base : "");
    return -1;
  }
  snprintf(c->port, sizeof c->port, "%d", port);
  if (strchr(c->host, ':'))
    snprintf(c->host_header, sizeof c->host_header, "[%s]:%s", c->host, c->port);
  else
    snprintf(c->host_header, sizeof c->host_header, "%s:%s", c->host, c->port);
  return 0;
}

static void conn_close(cn_http_conn_t *c)
{
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->rpos = c->rend = 0;
}

/* Connect to one address before DEADLINE. Return the socket or -1 (errno set). */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
  int fd, r, soerr = 0, one = 1;
  socklen_t slen = sizeof soerr;

  fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0)
    return -1;
  r = connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (r < 0 && errno == EINPROGRESS) {
    r = wait_fd(fd, POLLOUT, deadline);
    if (r == 0) {
      errno = ETIMEDOUT;
      r = -1;
    } else if (r > 0) {
      r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen);
      if (r == 0 && soerr != 0) {
        errno = soerr;
        r = -1;
      }
    }
  }
  if (r < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int conn_connect(cn_http_conn_t *c, int64_t deadline, char *err, size_t errlen)
{
  struct addrinfo hints, *res = NULL, *ai;
  int r, saved = ECONNREFUSED;

  conn_close(c);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  r = getaddrinfo(c->host, c->port, &hints, &res);
  if (r != 0) {
    set_err(err, errlen, "cannot resolve %s: %s", c->host, gai_strerror(r));
    return -1;
  }
  for (ai = res; ai; ai = ai->ai_next) {
    c->fd = connect_one(ai, deadline);
    if (c->fd >= 0)
      break;
    saved = errno;
  }
  freeaddrinfo(res);
  if (c->fd < 0) {
    set_err(err, errlen, "cannot connect to %s: %s", c->host_header, strerror(saved));
    return -1;
  }
  return 0;
}

static int send_all(cn_http_conn_t *c, const uint8_t *buf, size_t len, int64_t deadline,
                    char *err, size_t errlen)
{
  ssize_t n;
  int r;

  while (len > 0) {
    n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n > 0) {
      buf += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      r = wait_fd(c->fd, POLLOUT, deadline);
      if (r == 0) {
        set_err(err, errlen, "timed out sending to %s", c->host_header);
        return -1;
      }
      if (r > 0)
        continue;
    }
    set_err(err, errlen, "cannot send to %s: %s", c->host_header, strerror(errno));
    return -1;
  }
  return 0;
}

/* Receive into DST (up to CAP bytes). Return bytes read, 0 at end of
 * stream, -1 on error or timeout (message in ERR). */
static ssize_t recv_some(cn_http_conn_t *c, uint8_t *dst, size_t cap, int64_t deadline,
                         char *err, size_t errlen)
{
  ssize_t n;
  int r;

  for (;;) {
    n = recv(c->fd, dst, cap, 0);
    if (n >= 0)
      return n;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      break;
    r = wait_fd(c->fd, POLLIN, deadline);
    if (r == 0) {
      set_err(err, errlen, "timed out waiting for %s", c->host_header);
      return -1;
    }
    if (r < 0)
      break;
  }
  set_err(err, errlen, "cannot read from %s: %s", c->host_header, strerror(errno));
  return -1;
}

/* Read more bytes into the connection buffer. Return >0, 0 at end of stream, -1. */
static ssize_t conn_fill(cn_http_conn_t *c, int64_t deadline, char *err, size_t errlen)
{
  ssize_t n;

  if (c->rpos == c->rend) {
    c->rpos = c->rend = 0;
  } else if (c->rend == RBUF_SIZE) {
    memmove(c->rbuf, c->rbuf + c->rpos, c->rend - c->rpos);
    c->rend -= c->rpos;
    c->rpos = 0;
  }
  if (c->rend == RBUF_SIZE) {
    set_err(err, errlen, "response line too long");
    return -1;
  }
  n = recv_some(c, c->rbuf + c->rend, RBUF_SIZE - c->rend, deadline, err, errlen);
  if (n > 0)
    c->rend += (size_t)n;
  return n;
}

/* Read one line (without CR LF) into LINE. *GOT_ANY is set once a byte
 * has arrived. Return 0, or -1 (message in ERR). */
static int read_line(cn_http_conn_t *c, char *line, size_t cap, int64_t deadline,
                     int *got_any, char *err, size_t errlen)
{
  uint8_t *nl;
  size_t n;
  ssize_t r;

  for (;;) {
    nl = memchr(c->rbuf + c->rpos, '\n', c->rend - c->rpos);
    if (nl)
      break;
    if (c->rend - c->rpos >= cap) {
      set_err(err, errlen, "response line too long");
      return -1;
    }
    r = conn_fill(c, deadline, err, errlen);
    if (r == 0)
      set_err(err, errlen, "connection closed by %s", c->host_header);
    if (r <= 0)
      return -1;
    *got_any = 1;
  }
  n = (size_t)(nl - (c->rbuf + c->rpos));
  if (n >= cap) {
    set_err(err, errlen, "response line too long");
    return -1;
  }
  memcpy(line, c->rbuf + c->rpos, n);
  c->rpos += n + 1;
  if (n > 0 && line[n - 1] == '\r')
    n--;
  line[n] = '\0';
  return 0;
}

/* Read exactly N bytes into DST. Return 0 or -1. */
static int read_exact(cn_http_conn_t *c, uint8_t *dst, size_t n, int64_t deadline,
                      char *err, size_t errlen)
{
  size_t have = c->rend - c->rpos;
  ssize_t r;

  if (have > n)
    have = n;
  memcpy(dst, c->rbuf + c->rpos, have);
  c->rpos += have;
  dst += have;
  n -= have;
  while (n > 0) {
    r = recv_some(c, dst, n, deadline, err, errlen);
    if (r == 0)
      set_err(err, errlen, "connection closed by %s in the middle of a body", c->host_header);
    if (r <= 0)
      return -1;
    dst += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Read N body bytes onto the end of OUT->body, growing it as they come (a
 * step of at most 1 MiB at a time): a length a node announces costs memory
 * only once its bytes have arrived. */
static int body_reserve(uint8_t **buf, size_t *cap, size_t len, size_t need,
                        char *err, size_t errlen);
static int read_body(cn_http_conn_t *c, cn_http_resp_t *out, size_t *cap, size_t n,
                     int64_t deadline, char *err, size_t errlen)
{
  while (n > 0) {
    size_t step = n < ((size_t)1 << 20) ? n : ((size_t)1 << 20);
    if (body_reserve(&out->body, cap, out->len, step, err, errlen) < 0 ||
        read_exact(c, out->body + out->len, step, deadline, err, errlen) < 0)
      return -1;
    out->len += step;
    n -= step;
  }
  return 0;
}

/* Make room for NEED more bytes in *BUF (length LEN, capacity *CAP), plus a NUL. */
static int body_reserve(uint8_t **buf, size_t *cap, size_t len, size_t need,
                        char *err, size_t errlen)
{
  size_t want;
  uint8_t *p;

  if (need > CN_HTTP_BODY_MAX || len > CN_HTTP_BODY_MAX - need) {
    set_err(err, errlen, "response body too large");
    return -1;
  }
  want = len + need + 1;
  if (want <= *cap)
    return 0;
  if (want < *cap * 2)
    want = *cap * 2;
  if (want < 4096)
    want = 4096;
  p = realloc(*buf, want);
  if (!p) {
    set_err(err, errlen, "out of memory");
    return -1;
  }
  *buf = p;
  *cap = want;
  return 0;
}

static const char *skip_ws(const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

/* Return 1 if the comma-separated header value V lists TOKEN. */
static int has_token(const char *v, const char *token)
{
  size_t tlen = strlen(token), n;

  for (;;) {
    v = skip_ws(v);
    n = strcspn(v, ",");
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
      n--;
    if (n == tlen && strncasecmp(v, token, n) == 0)
      return 1;
    v = strchr(v, ',');
    if (!v)
      return 0;
    v++;
  }
}

static int parse_u64(const char *s, int base, uint64_t *out)
{
  uint64_t v = 0;
  unsigned d;
  int any = 0;

  for (;; s++) {
    if (*s >= '0' && *s <= '9')
      d = (unsigned)(*s - '0');
    else if (base == 16 && *s >= 'a' && *s <= 'f')
      d = (unsigned)(*s - 'a' + 10);
    else if (base == 16 && *s >= 'A' && *s <= 'F')
      d = (unsigned)(*s - 'A' + 10);
    else
      break;
    if (v > (UINT64_MAX - d) / (uint64_t)base)
      return -1;
    v = v * (uint64_t)base + d;
    any = 1;
  }
  if (!any)
    return -1;
  *out = v;
  return *skip_ws(s) == '\0' || (base == 16 && *skip_ws(s) == ';') ? 0 : -1;
}

/* Read the status line and headers. Skips interim 1xx answers. */
static int read_head(cn_http_conn_t *c, int64_t deadline, cn_http_resp_t *out,
                     http_frame_t *f, int *got_any, char *err, size_t errlen)
{
  char line[CN_HTTP_LINE_MAX];
  const char *v;
  size_t total;
  int minor;
  uint64_t clen;

  for (;;) {
    memset(f, 0, sizeof *f);
    out->content_type[0] = '\0';
    if (read_line(c, line, sizeof line, deadline, got_any, err, errlen) < 0)
      return -1;
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' || line[8] != ' '
        || line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9'
        || line[11] < '0' || line[11] > '9' || (line[12] != ' ' && line[12] != '\0')) {
      set_err(err, errlen, "bad HTTP status line from %s", c->host_header);
      return -1;
    }
    minor = line[7] - '0';
    out->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    f->keep_alive = minor >= 1;
    total = 0;
    for (;;) {
      if (read_line(c, line, sizeof line, deadline, got_any, err, errlen) < 0)
        return -1;
      if (line[0] == '\0')
        break;
      total += strlen(line) + 2;
      if (total > CN_HTTP_HEADER_MAX) {
        set_err(err, errlen, "response headers too large");
        return -1;
      }
      v = strchr(line, ':');
      if (!v) {
        set_err(err, errlen, "bad HTTP header line from %s", c->host_header);
        return -1;
      }
      v = skip_ws(v + 1);
      if (strncasecmp(line, "Content-Length:", 15) == 0) {
        if (parse_u64(v, 10, &clen) < 0 || (f->has_length && clen != f->length)) {
          set_err(err, errlen, "bad Content-Length from %s", c->host_header);
          return -1;
        }
        f->has_length = 1;
        f->length = clen;
      } else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
        if (has_token(v, "chunked"))
          f->chunked = 1;
      } else if (strncasecmp(line, "Connection:", 11) == 0) {
        if (has_token(v, "close"))
          f->keep_alive = 0;
        else if (has_token(v, "keep-alive"))
          f->keep_alive = 1;
      } else if (strncasecmp(line, "Content-Type:", 13) == 0) {
        snprintf(out->content_type, sizeof out->content_type, "%s", v);
      }
    }
    if (out->status >= 200 || out->status == 101)
      return 0;
  }
}

static int read_chunked(cn_http_conn_t *c, int64_t deadline, cn_http_resp_t *out,
                        size_t *cap, int *got_any, char *err, size_t errlen)
{
  char line[CN_HTTP_LINE_MAX];
  uint64_t size;

  for (;;) {
    if (read_line(c, line, sizeof line, deadline, got_any, err, errlen) < 0)
      return -1;
    if (parse_u64(line, 16, &size) < 0) {
      set_err(err, errlen, "bad chunk size from %s", c->host_header);
      return -1;
    }
    if (size == 0)
      break;
    if (size > CN_HTTP_BODY_MAX) {
      set_err(err, errlen, "response body too large");
      return -1;
    }
    if (read_body(c, out, cap, (size_t)size, deadline, err, errlen) < 0)
      return -1;
    if (read_line(c, line, sizeof line, deadline, got_any, err, errlen) < 0)
      return -1;
    if (line[0] != '\0') {
      set_err(err, errlen, "bad chunk end from %s", c->host_header);
      return -1;
    }
  }
  for (;;) {                    /* trailers, up to the empty line */
    if (read_line(c, line, sizeof line, deadline, got_any, err, errlen) < 0)
      return -1;
    if (line[0] == '\0')
      return 0;
  }
}

static int read_to_close(cn_http_conn_t *c, int64_t deadline, cn_http_resp_t *out,
                         size_t *cap, char *err, size_t errlen)
{
  size_t have;
  ssize_t r;

  for (;;) {
    have = c->rend - c->rpos;
    if (have > 0) {
      if (body_reserve(&out->body, cap, out->len, have, err, errlen) < 0)
        return -1;
      memcpy(out->body + out->len, c->rbuf + c->rpos, have);
      out->len += have;
      c->rpos = c->rend = 0;
    }
    r = conn_fill(c, deadline, err, errlen);
    if (r == 0)
      return 0;
    if (r < 0)
      return -1;
  }
}

/* Read one whole response. *KEEP is set if the connection can be reused. */
static int read_response(cn_http_conn_t *c, const char *method, int64_t deadline,
                         cn_http_resp_t *out, int *got_any, int *keep,
                         char *err, size_t errlen)
{
  http_frame_t f;
  size_t cap = 0;
  int rc = -1;

  *keep = 0;
  if (read_head(c, deadline, out, &f, got_any, err, errlen) < 0)
    goto out;
  if (strcmp(method, "HEAD") == 0 || out->status == 204 || out->status == 304
      || out->status < 200) {
    if (body_reserve(&out->body, &cap, 0, 0, err, errlen) < 0)
      goto out;
  } else if (f.chunked) {
    if (body_reserve(&out->body, &cap, 0, 0, err, errlen) < 0
        || read_chunked(c, deadline, out, &cap, got_any, err, errlen) < 0)
      goto out;
  } else if (f.has_length) {
    if (f.length > CN_HTTP_BODY_MAX) {
      set_err(err, errlen, "response body too large (%llu bytes)", (unsigned long long)f.length);
      goto out;
    }
    if (body_reserve(&out->body, &cap, 0, 0, err, errlen) < 0
        || read_body(c, out, &cap, (size_t)f.length, deadline, err, errlen) < 0)
      goto out;
  } else {
    f.keep_alive = 0;
    if (body_reserve(&out->body, &cap, 0, 0, err, errlen) < 0
        || read_to_close(c, deadline, out, &cap, err, errlen) < 0)
      goto out;
  }
  out->body[out->len] = '\0';
  *keep = f.keep_alive && out->status != 101;
  rc = 0;
out:
  if (rc < 0) {
    free(out->body);
    out->body = NULL;
    out->len = 0;
  }
  return rc;
}

/* Build the request head and body into one buffer. OUT: *BUF malloc'd. */
static int build_request(const cn_http_conn_t *c, const char *method, const char *path,
                         const char *accept, const char *content_type,
                         const uint8_t *body, size_t len, int keep_alive,
                         uint8_t **buf, size_t *buf_len, char *err, size_t errlen)
{
  char head[2048];
  int n, with_length;
  uint8_t *p;

  if (!method || !path || path[0] != '/' || strpbrk(path, " \r\n")
      || strpbrk(method, " \r\n") || (accept && strpbrk(accept, "\r\n"))
      || (content_type && strpbrk(content_type, "\r\n")) || (!body && len > 0)) {
    set_err(err, errlen, "bad HTTP request arguments");
    return -1;
  }
  with_length = body != NULL || len > 0
    || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0);
  n = snprintf(head, sizeof head,
               "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: council/1\r\n%s%s%s%s%s%s",
               method, path, c->host_header,
               accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "",
               content_type ? "Content-Type: " : "", content_type ? content_type : "",
               content_type ? "\r\n" : "");
  if (n < 0 || (size_t)n >= sizeof head)
    goto too_long;
  if (with_length) {
    int m = snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", len);
    if (m < 0 || (size_t)m >= sizeof head - (size_t)n)
      goto too_long;
    n += m;
  }
  if (!keep_alive) {
    int m = snprintf(head + n, sizeof head - (size_t)n, "Connection: close\r\n");
    if (m < 0 || (size_t)m >= sizeof head - (size_t)n)
      goto too_long;
    n += m;
  }
  if ((size_t)n + 2 >= sizeof head)
    goto too_long;
  memcpy(head + n, "\r\n", 2);
  n += 2;
  p = malloc((size_t)n + len + 1);
  if (!p) {
    set_err(err, errlen, "out of memory");
    return -1;
  }
  memcpy(p, head, (size_t)n);
  if (len > 0)
    memcpy(p + n, body, len);
  *buf = p;
  *buf_len = (size_t)n + len;
  return 0;
too_long:
  set_err(err, errlen, "HTTP request head too long");
  return -1;
}

static int conn_exchange(cn_http_conn_t *c, const char *method, const char *path,
                         const char *accept, const char *content_type,
                         const uint8_t *body, size_t len, int keep_alive,
                         cn_http_resp_t *out, char *err, size_t errlen)
{
  uint8_t *req = NULL;
  size_t req_len = 0;
  int64_t deadline = deadline_after(c->timeout_ms);
  int attempt, fresh, got_any, keep, rc = -1;

  memset(out, 0, sizeof *out);
  if (build_request(c, method, path, accept, content_type, body, len, keep_alive,
                    &req, &req_len, err, errlen) < 0)
    goto out;
  for (attempt = 0; attempt < 2; attempt++) {
    fresh = c->fd < 0;
    if (fresh && conn_connect(c, deadline, err, errlen) < 0)
      goto out;
    got_any = 0;
    if (send_all(c, req, req_len, deadline, err, errlen) < 0) {
      /* A server may answer and close before reading the whole request
       * (413 for an oversized body): read what it said, if anything. */
      char rerr[64];
      if (read_response(c, method, deadline, out, &got_any, &keep, rerr, sizeof rerr) == 0) {
        conn_close(c);
        rc = 0;
        goto out;
      }
      cn_http_resp_clear(out);
      conn_close(c);
      if (!fresh && !got_any)
        continue;
      goto out;
    }
    if (read_response(c, method, deadline, out, &got_any, &keep, err, errlen) < 0) {
      conn_close(c);
      if (!fresh && !got_any)
        continue;               /* the server closed an idle connection: retry once */
      goto out;
    }
    if (!keep_alive || !keep)
      conn_close(c);
    rc = 0;
    goto out;
  }
out:
  free(req);
  return rc;
}

static cn_http_conn_t *conn_new(const char *base, int timeout_ms, char *err, size_t errlen)
{
  cn_http_conn_t *c = calloc(1, sizeof *c);

  if (!c) {
    set_err(err, errlen, "out of memory");
    return NULL;
  }
  c->fd = -1;
  c->timeout_ms = timeout_ms;
  c->rbuf = malloc(RBUF_SIZE);
  if (!c->rbuf) {
    set_err(err, errlen, "out of memory");
    free(c);
    return NULL;
  }
  if (parse_base(c, base, err, errlen) < 0) {
    cn_http_conn_free(c);
    return NULL;
  }
  return c;
}

cn_http_conn_t *cn_http_conn_open(const char *base, int timeout_ms, char *err, size_t errlen)
{
  cn_http_conn_t *c = conn_new(base, timeout_ms, err, errlen);

  if (c && conn_connect(c, deadline_after(timeout_ms), err, errlen) < 0) {
    cn_http_conn_free(c);
    return NULL;
  }
  return c;
}

int cn_http_conn_request(cn_http_conn_t *c, const char *method, const char *path,
                         const char *accept, const char *content_type,
                         const uint8_t *body, size_t len, cn_http_resp_t *out,
                         char *err, size_t errlen)
{
  if (!c || !out) {
    set_err(err, errlen, "bad HTTP request arguments");
    return -1;
  }
  return conn_exchange(c, method, path, accept, content_type, body, len, 1, out, err, errlen);
}

void cn_http_conn_free(cn_http_conn_t *c)
{
  if (!c)
    return;
  conn_close(c);
  free(c->rbuf);
  free(c);
}

int cn_http_request(const char *base, const char *method, const char *path,
                    const char *accept, const char *content_type,
                    const uint8_t *body, size_t len, int timeout_ms,
                    cn_http_resp_t *out, char *err, size_t errlen)
{
  cn_http_conn_t *c;
  int rc;

  if (!out) {
    set_err(err, errlen, "bad HTTP request arguments");
    return -1;
  }
  memset(out, 0, sizeof *out);
  c = conn_new(base, timeout_ms, err, errlen);
  if (!c)
    return -1;
  rc = conn_exchange(c, method, path, accept, content_type, body, len, 0, out, err, errlen);
  cn_http_conn_free(c);
  return rc;
}

void cn_http_resp_clear(cn_http_resp_t *r)
{
  if (!r)
    return;
  free(r->body);
  memset(r, 0, sizeof *r);
}
