/* net.c: see net.h. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include <time.h>

#include "councilnet/url.h"
#include "net.h"

#define TIMERS_MAX 8
/* Largest answer taken from a peer (the parent): a log page's envelopes
 * are capped at CN_LOG_PAGE_BYTES (4 MiB); the rest is room for its
 * entries' fields and the signed head. */
#define CN_PEER_MAX_BODY (16u << 20)
#define CN_PEER_MAX_HEADERS (64u << 10)

typedef struct timer_t_ {
  struct event *ev;
  cn_timer_fn fn;
  void *ctx;
} loop_timer_t;

struct cn_loop_t {
  struct event_base *base;
  struct event *sigint, *sigterm;
  loop_timer_t timers[TIMERS_MAX];
  int n_timers;
};

/* libevent 2.1's evhttp has neither a connection cap nor a deadline that a
 * client sending one byte every few seconds cannot stretch. So every
 * connection's bufferevent is made here (evhttp_set_bevcb) and tracked:
 * an extra reference keeps it valid after evhttp frees it, which we see as
 * its callbacks cleared; then we drop our reference. A connection over the
 * cap, or past its deadline, has its socket shut down, so evhttp sees EOF
 * and frees it from its own callback: we never free a connection. */
typedef struct http_conn_t {
  struct bufferevent *bev;
  uint64_t since_ms;        /* accept, or the last complete request */
  int over_cap;
  int shut;
} http_conn_t;

struct cn_http_t {
  cn_loop_t *loop;
  struct evhttp *http;
  cn_req_fn fn;
  void *ctx;
  cn_http_limits_t limits;
  http_conn_t *conns;
  size_t n_conns, cap_conns;
  struct event *reaper;
  struct evconnlistener *listener;   /* the last one cn_http_listen() made */
  cn_http_stats_t stats;
};

struct cn_req_t {
  struct evhttp_request *req;
  char *path;
  struct evkeyvalq query;
  int has_query;
  uint8_t *body;
  size_t body_len;
  int kept;                 /* heap copy made by cn_req_keep() */
};

struct cn_task_t {
  struct event *ev;
  cn_timer_fn fn;
  void *ctx;
};

static void loop_on_signal(evutil_socket_t sig, short what, void *arg)
{
  cn_loop_t *l = arg;
  (void)what;
  fprintf(stderr, "councild: signal %d, stopping\n", (int)sig);
  event_base_loopexit(l->base, NULL);
}

cn_loop_t *cn_loop_new(void)
{
  cn_loop_t *l = calloc(1, sizeof *l);
  struct event_config *cfg;

  if (!l)
    return NULL;
  signal(SIGPIPE, SIG_IGN);
  /* A file-size limit (ulimit -f) makes a write fail with EFBIG, which the
   * store answers as a failed commit, instead of killing the node. */
  signal(SIGXFSZ, SIG_IGN);
  /* With epoll, gather the changes evhttp makes to a connection's events
   * during one loop pass (read off, write on, write off, read on for each
   * request) into one epoll_ctl() at the end: about 3 us of the loop's
   * time per ballot. Safe because councild never dup()s a descriptor. */
  cfg = event_config_new();
  if (!cfg)
    goto fail;
  event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  l->base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (!l->base)
    goto fail;
  l->sigint = evsignal_new(l->base, SIGINT, loop_on_signal, l);
  l->sigterm = evsignal_new(l->base, SIGTERM, loop_on_signal, l);
  if (!l->sigint || !l->sigterm || evsignal_add(l->sigint, NULL) != 0 ||
      evsignal_add(l->sigterm, NULL) != 0)
    goto fail;
  return l;
fail:
  cn_loop_free(l);
  return NULL;
}

void cn_loop_free(cn_loop_t *l)
{
  if (!l)
    return;
  for (int i = 0; i < l->n_timers; i++)
    if (l->timers[i].ev)
      event_free(l->timers[i].ev);
  if (l->sigint)
    event_free(l->sigint);
  if (l->sigterm)
    event_free(l->sigterm);
  if (l->base)
    event_base_free(l->base);
  free(l);
}

static void loop_on_timer(evutil_socket_t fd, short what, void *arg)
{
  loop_timer_t *t = arg;
  (void)fd;
  (void)what;
  t->fn(t->ctx);
}

int cn_loop_every(cn_loop_t *l, unsigned period_ms, cn_timer_fn fn, void *ctx)
{
  struct timeval tv = { (time_t)(period_ms / 1000), (suseconds_t)(period_ms % 1000) * 1000 };
  loop_timer_t *t;

  if (l->n_timers == TIMERS_MAX)
    return -1;
  t = &l->timers[l->n_timers];
  t->fn = fn;
  t->ctx = ctx;
  t->ev = event_new(l->base, -1, EV_PERSIST, loop_on_timer, t);
  if (!t->ev || event_add(t->ev, &tv) != 0)
    return -1;
  l->n_timers++;
  return 0;
}

int cn_loop_run(cn_loop_t *l)
{
  return event_base_dispatch(l->base) < 0 ? -1 : 0;
}

void cn_loop_poll(cn_loop_t *l, int passes)
{
  for (int i = 0; i < passes; i++)
    if (event_base_loop(l->base, EVLOOP_NONBLOCK) != 0)
      break;
}

void cn_loop_stop(cn_loop_t *l)
{
  event_base_loopexit(l->base, NULL);
}

/* ---- HTTP ---- */

uint64_t cn_loop_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void http_conn_touch(cn_http_t *h, struct evhttp_request *req);

static void http_on_request(struct evhttp_request *req, void *arg)
{
  cn_http_t *h = arg;
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
  struct evbuffer *in = evhttp_request_get_input_buffer(req);
  cn_req_t r;

  http_conn_touch(h, req);
  memset(&r, 0, sizeof r);
  r.req = req;
  r.query.tqh_first = NULL;
  r.query.tqh_last = &r.query.tqh_first;
  if (!uri || !evhttp_uri_get_path(uri)) {
    evhttp_send_error(req, HTTP_BADREQUEST, "bad request line");
    return;
  }
  r.path = evhttp_uridecode(evhttp_uri_get_path(uri), 0, NULL);
  if (evhttp_uri_get_query(uri)) {
    if (evhttp_parse_query_str(evhttp_uri_get_query(uri), &r.query) != 0) {
      evhttp_send_error(req, HTTP_BADREQUEST, "bad query");
      goto out;
    }
    r.has_query = 1;
  }
  r.body_len = evbuffer_get_length(in);
  if (r.body_len) {
    r.body = malloc(r.body_len);
    if (!r.body || evbuffer_remove(in, r.body, r.body_len) != (int)r.body_len) {
      evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
      goto out;
    }
  }
  if (!r.path) {
    evhttp_send_error(req, HTTP_BADREQUEST, "bad path");
    goto out;
  }
  h->fn(&r, h->ctx);
  if (r.req) {   /* handler forgot to answer: never leave a client hanging */
    evhttp_send_error(req, HTTP_INTERNAL, "no answer");
  }
out:
  evhttp_clear_headers(&r.query);
  free(r.path);
  free(r.body);
}

uint64_t cn_loop_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void http_conn_touch(cn_http_t *h, struct evhttp_request *req)
{
  struct evhttp_connection *evcon = evhttp_request_get_connection(req);
  struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

  for (size_t i = 0; bev && i < h->n_conns; i++)
    if (h->conns[i].bev == bev) {
      h->conns[i].since_ms = cn_loop_now_ms();
      return;
    }
}

/* Has evhttp freed this connection? It clears the callbacks when it lets
 * go of the bufferevent, which our reference keeps alive. */
static int http_conn_freed(const http_conn_t *c)
{
  bufferevent_data_cb rcb = NULL, wcb = NULL;
  bufferevent_event_cb ecb = NULL;
  void *cbarg = NULL;

  bufferevent_getcb(c->bev, &rcb, &wcb, &ecb, &cbarg);
  return !rcb && !wcb && !ecb;
}

/* Drop our reference to every connection evhttp has freed, which closes
 * its socket. */
static void http_forget_freed(cn_http_t *h)
{
  size_t i = 0;

  while (i < h->n_conns) {
    if (http_conn_freed(&h->conns[i])) {
      bufferevent_decref(h->conns[i].bev);
      h->conns[i] = h->conns[--h->n_conns];
    } else {
      i++;
    }
  }
  h->stats.open = h->n_conns;
}

static void http_reap(evutil_socket_t fd, short what, void *arg)
{
  static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                             "Content-Length: 0\r\n\r\n";
  cn_http_t *h = arg;
  uint64_t now = cn_loop_now_ms(), deadline = (uint64_t)h->limits.timeout_s * 1000u;
  size_t i;

  (void)fd;
  (void)what;
  /* after an accept error paused it (http_on_accept_error); a no-op for a
   * listener that is enabled */
  if (h->listener)
    evconnlistener_enable(h->listener);
  http_forget_freed(h);
  for (i = 0; i < h->n_conns; i++) {
    http_conn_t *c = &h->conns[i];

    /* an answer still being written is not late: evhttp's write timeout
     * covers a reader that stopped reading */
    if (!c->over_cap && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
      c->since_ms = now;
    if (!c->shut && (c->over_cap || now - c->since_ms > deadline)) {
      evutil_socket_t s = bufferevent_getfd(c->bev);
      if (s >= 0) {
        if (c->over_cap && write(s, busy, sizeof busy - 1) < 0)
          c->over_cap = 1;   /* the client is gone already; nothing to tell it */
        shutdown(s, SHUT_RDWR);
        c->shut = 1;
        if (c->over_cap)
          h->stats.refused++;
        else
          h->stats.expired++;
      }
    }
  }
  h->stats.open = h->n_conns;
}

static struct bufferevent *http_on_conn(struct event_base *base, void *arg)
{
  cn_http_t *h = arg;
  struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  http_conn_t *c;

  if (!bev)
    return NULL;
  /* At the cap, first forget connections evhttp closed since the last
   * reaper tick: they no longer count against it. */
  if (h->n_conns >= h->limits.max_conns)
    http_forget_freed(h);
  if (h->n_conns == h->cap_conns) {
    size_t cap = h->cap_conns ? h->cap_conns * 2 : 64;
    http_conn_t *arr = realloc(h->conns, cap * sizeof *arr);
    if (!arr)
      return bev;        /* untracked: evhttp's own timeout still applies */
    h->conns = arr;
    h->cap_conns = cap;
  }
  bufferevent_incref(bev);
  c = &h->conns[h->n_conns++];
  c->bev = bev;
  c->since_ms = cn_loop_now_ms();
  c->shut = 0;
  c->over_cap = h->n_conns > h->limits.max_conns;
  h->stats.accepted++;
  h->stats.open = h->n_conns;
  if (c->over_cap)
    event_active(h->reaper, EV_TIMEOUT, 0);   /* answer 503 as soon as the fd is set */
  return bev;
}

void cn_http_stats(const cn_http_t *h, cn_http_stats_t *out)
{
  *out = h->stats;
}

cn_http_t *cn_http_new(cn_loop_t *l, const cn_http_limits_t *limits, cn_req_fn fn, void *ctx)
{
  cn_http_t *h = calloc(1, sizeof *h);
  struct timeval tick = { 0, 100 * 1000 };

  if (!h)
    return NULL;
  h->loop = l;
  h->fn = fn;
  h->ctx = ctx;
  h->limits = *limits;
  if (h->limits.max_conns == 0)
    h->limits.max_conns = 1024;
  h->http = evhttp_new(l->base);
  h->reaper = event_new(l->base, -1, EV_PERSIST, http_reap, h);
  if (!h->http || !h->reaper || event_add(h->reaper, &tick) != 0) {
    cn_http_free(h);
    return NULL;
  }
  evhttp_set_max_body_size(h->http, (ev_ssize_t)limits->max_body);
  evhttp_set_max_headers_size(h->http, (ev_ssize_t)limits->max_headers);
  evhttp_set_timeout(h->http, limits->timeout_s);
  evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
  evhttp_set_gencb(h->http, http_on_request, h);
  evhttp_set_bevcb(h->http, http_on_conn, h);
  return h;
}

void cn_http_free(cn_http_t *h)
{
  if (!h)
    return;
  if (h->http)
    evhttp_free(h->http);       /* frees its connections and their bufferevents */
  for (size_t i = 0; i < h->n_conns; i++)
    bufferevent_decref(h->conns[i].bev);
  free(h->conns);
  if (h->reaper)
    event_free(h->reaper);
  free(h);
}

/* accept() failed. Out of descriptors (EMFILE, ENFILE) or memory, the
 * listener would stay readable and libevent would retry at once, forever,
 * warning each time: a spinning loop and a log filling the disk. Stop
 * accepting until the reaper's next tick (at most 100 ms: it frees
 * descriptors meanwhile and enables the listener again; waiting clients
 * sit in the backlog) and say so at most every 10 s. The callback gets
 * evhttp's pointer, not ours, hence the function's own static report
 * state (loop thread only). */
static void http_on_accept_error(struct evconnlistener *lev, void *arg)
{
  static uint64_t failures, reported_ms;
  int e = EVUTIL_SOCKET_ERROR();
  uint64_t now = cn_loop_now_ms();

  (void)arg;
  failures++;
  if (reported_ms == 0 || now - reported_ms >= 10000) {
    fprintf(stderr, "councild: cannot accept connections: %s (%llu time%s); pausing up to 100 ms; "
            "raise the file limit (ulimit -n) or lower max_connections\n",
            evutil_socket_error_to_string(e), (unsigned long long)failures,
            failures == 1 ? "" : "s");
    reported_ms = now;
    failures = 0;
  }
  evconnlistener_disable(lev);
}

int cn_http_listen(cn_http_t *h, const char *addr, int *port_out, char *err, size_t errlen)
{
  char host[256];
  const char *colon = strrchr(addr, ':');
  struct evhttp_bound_socket *sock;
  char *end = NULL;
  long port;

  if (!colon || (size_t)(colon - addr) >= sizeof host || colon == addr) {
    snprintf(err, errlen, "listen address must be host:port, got '%s'", addr);
    return -1;
  }
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = 0;
  if (host[0] == '[') {         /* "[::]:8080": an IPv6 literal */
    size_t n = strlen(host);
    if (n < 3 || host[n - 1] != ']') {
      snprintf(err, errlen, "listen address must be host:port or [v6]:port, got '%s'", addr);
      return -1;
    }
    memmove(host, host + 1, n - 2);
    host[n - 2] = 0;
  }
  port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535 || end == colon + 1) {
    snprintf(err, errlen, "bad port in '%s'", addr);
    return -1;
  }
  /* Our own listening socket: evhttp's default backlog is small, and a
   * burst of connections then waits on SYN retries instead of being let in
   * (or answered 503 past the cap). */
  {
    struct addrinfo hints, *ai = NULL;
    char portstr[16];
    evutil_socket_t fd;
    int one = 1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%ld", port);
    if (getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai) {
      snprintf(err, errlen, "cannot resolve %s", addr);
      return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0 ||
        evutil_make_socket_nonblocking(fd) != 0 || evutil_make_socket_closeonexec(fd) != 0) {
      snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
      if (fd >= 0)
        close(fd);
      freeaddrinfo(ai);
      return -1;
    }
    freeaddrinfo(ai);
    sock = evhttp_accept_socket_with_handle(h->http, fd);
    if (!sock) {
      close(fd);
      snprintf(err, errlen, "cannot listen on %s", addr);
      return -1;
    }
    h->listener = evhttp_bound_socket_get_listener(sock);
    evconnlistener_set_error_cb(h->listener, http_on_accept_error);
  }
  if (port_out) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);
    *port_out = (int)port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
      if (ss.ss_family == AF_INET)
        *port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
      else if (ss.ss_family == AF_INET6)
        *port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
  }
  return 0;
}

const char *cn_req_method(cn_req_t *r)
{
  switch (evhttp_request_get_command(r->req)) {
  case EVHTTP_REQ_GET: return "GET";
  case EVHTTP_REQ_POST: return "POST";
  case EVHTTP_REQ_HEAD: return "HEAD";
  default: return "OTHER";
  }
}

const char *cn_req_path(cn_req_t *r)
{
  return r->path;
}

int cn_req_query_u64(cn_req_t *r, const char *name, uint64_t *out)
{
  const char *v = r->has_query ? evhttp_find_header(&r->query, name) : NULL;
  char *end = NULL;
  unsigned long long x;

  if (!v)
    return 1;
  if (*v < '0' || *v > '9')
    return -1;
  errno = 0;
  x = strtoull(v, &end, 10);
  /* out of range is bad input, not a number the store then cannot take */
  if (*end || errno == ERANGE || x > INT64_MAX)
    return -1;
  *out = (uint64_t)x;
  return 0;
}

const uint8_t *cn_req_body(cn_req_t *r, size_t *len)
{
  *len = r->body_len;
  return r->body;
}

int cn_req_wants_json(cn_req_t *r)
{
  const char *accept = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Accept");
  return accept && strstr(accept, "application/json") != NULL;
}

void cn_req_reply(cn_req_t *r, int status, const char *content_type, const void *data, size_t len)
{
  struct evbuffer *out;
  struct evkeyvalq *headers;

  if (!r->req)
    return;
  out = evbuffer_new();
  headers = evhttp_request_get_output_headers(r->req);
  if (!out) {
    evhttp_send_error(r->req, HTTP_INTERNAL, "out of memory");
    r->req = NULL;
    return;
  }
  if (evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD) {
    /* The length of what GET would send, and no body: evhttp would send
     * one after HEAD's headers, and the next answer on the connection
     * would be read from the middle of it. */
    char n[32];
    snprintf(n, sizeof n, "%zu", len);
    evhttp_add_header(headers, "Content-Length", n);
  } else if (len) {
    evbuffer_add(out, data, len);
  }
  evhttp_add_header(headers, "Content-Type", content_type);
  evhttp_send_reply(r->req, status, status == 200 ? "OK" : "Refused", out);
  evbuffer_free(out);
  r->req = NULL;
}

/* ---- outgoing HTTP ---- */

typedef struct peer_call_t {
  cn_fetch_fn fn;
  void *ctx;
  struct cn_peer_t *peer;
  struct peer_call_t *prev, *next;   /* calls in flight, freed with the peer */
} peer_call_t;

struct cn_peer_t {
  struct evhttp_connection *conn;
  char host[256];
  char host_header[300];
  int port;
  peer_call_t *calls;
};

static void peer_call_unlink(peer_call_t *c)
{
  if (c->prev)
    c->prev->next = c->next;
  else
    c->peer->calls = c->next;
  if (c->next)
    c->next->prev = c->prev;
}


cn_peer_t *cn_peer_new(cn_loop_t *l, const char *base_url, int timeout_s)
{
  cn_peer_t *p = calloc(1, sizeof *p);

  if (!p)
    return NULL;
  if (cn_url_parse(base_url, p->host, sizeof p->host, &p->port) != 0)
    goto fail;
  if (strchr(p->host, ':'))
    snprintf(p->host_header, sizeof p->host_header, "[%s]:%d", p->host, p->port);
  else
    snprintf(p->host_header, sizeof p->host_header, "%s:%d", p->host, p->port);
  p->conn = evhttp_connection_base_new(l->base, NULL, p->host, (uint16_t)p->port);
  if (!p->conn)
    goto fail;
  evhttp_connection_set_timeout(p->conn, timeout_s);
  /* What a peer may answer: a log page is at most CN_LOG_PAGE_BYTES of
   * envelopes plus its entries' own fields. More is refused, not buffered:
   * a broken or hostile parent cannot make us hold gigabytes. */
  evhttp_connection_set_max_headers_size(p->conn, CN_PEER_MAX_HEADERS);
  evhttp_connection_set_max_body_size(p->conn, CN_PEER_MAX_BODY);
  return p;
fail:
  cn_peer_free(p);
  return NULL;
}

void cn_peer_free(cn_peer_t *p)
{
  if (!p)
    return;
  /* libevent drops pending requests without calling back: free their calls. */
  if (p->conn)
    evhttp_connection_free(p->conn);
  while (p->calls) {
    peer_call_t *c = p->calls;
    p->calls = c->next;
    free(c);
  }
  free(p);
}

static void peer_on_done(struct evhttp_request *req, void *arg)
{
  peer_call_t *call = arg;
  int status = 0;
  uint8_t *body = NULL;
  size_t len = 0;

  if (req && evhttp_request_get_response_code(req) > 0) {
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    status = evhttp_request_get_response_code(req);
    len = evbuffer_get_length(in);
    body = malloc(len ? len : 1);
    if (!body) {
      status = 0;
      len = 0;
    } else if (len) {
      evbuffer_copyout(in, body, len);
    }
  }
  peer_call_unlink(call);
  call->fn(call->ctx, status, body, len);
  free(body);
  free(call);
}

int cn_peer_request(cn_peer_t *p, const char *method, const char *path,
                    const uint8_t *body, size_t len, cn_fetch_fn fn, void *ctx)
{
  peer_call_t *call = calloc(1, sizeof *call);
  struct evhttp_request *req;
  enum evhttp_cmd_type cmd = strcmp(method, "POST") == 0 ? EVHTTP_REQ_POST : EVHTTP_REQ_GET;

  if (!call)
    return -1;
  call->fn = fn;
  call->ctx = ctx;
  call->peer = p;
  req = evhttp_request_new(peer_on_done, call);
  if (!req) {
    free(call);
    return -1;
  }
  evhttp_add_header(evhttp_request_get_output_headers(req), "Host", p->host_header);
  if (cmd == EVHTTP_REQ_POST) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/x-protobuf");
    if (len)
      evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
  }
  if (evhttp_make_request(p->conn, req, cmd, path) != 0) {
    /* libevent frees REQ on failure */
    free(call);
    return -1;
  }
  call->next = p->calls;
  if (p->calls)
    p->calls->prev = call;
  p->calls = call;
  return 0;
}

cn_req_t *cn_req_keep(cn_req_t *r)
{
  cn_req_t *k = calloc(1, sizeof *k);

  if (!k)
    return NULL;
  *k = *r;
  k->kept = 1;
  /* the kept copy owns what the stack copy owned; the query list head
   * moves with it */
  k->query.tqh_first = r->query.tqh_first;
  if (k->query.tqh_first)
    k->query.tqh_first->next.tqe_prev = &k->query.tqh_first;
  else
    k->query.tqh_last = &k->query.tqh_first;
  r->req = NULL;
  r->path = NULL;
  r->body = NULL;
  r->query.tqh_first = NULL;
  r->query.tqh_last = &r->query.tqh_first;
  return k;
}

void cn_req_free(cn_req_t *r)
{
  if (!r || !r->kept)
    return;
  if (r->req)
    evhttp_send_error(r->req, HTTP_INTERNAL, "no answer");
  evhttp_clear_headers(&r->query);
  free(r->path);
  free(r->body);
  free(r);
}

static void task_run(evutil_socket_t fd, short what, void *arg)
{
  cn_task_t *t = arg;
  (void)fd;
  (void)what;
  t->fn(t->ctx);
}

cn_task_t *cn_task_new(cn_loop_t *l, cn_timer_fn fn, void *ctx)
{
  cn_task_t *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->fn = fn;
  t->ctx = ctx;
  t->ev = event_new(l->base, -1, 0, task_run, t);
  if (!t->ev) {
    free(t);
    return NULL;
  }
  return t;
}

void cn_task_schedule(cn_task_t *t)
{
  if (!event_pending(t->ev, EV_TIMEOUT, NULL))
    event_active(t->ev, EV_TIMEOUT, 0);
}

void cn_task_free(cn_task_t *t)
{
  if (!t)
    return;
  if (t->ev)
    event_free(t->ev);
  free(t);
}

/* ---- file descriptor watches ---- */

/* A watch is a task the loop runs each time FD is readable. */
cn_watch_t *cn_watch_new(cn_loop_t *l, int fd, cn_timer_fn fn, void *ctx)
{
  cn_task_t *w = calloc(1, sizeof *w);

  if (!w)
    return NULL;
  w->fn = fn;
  w->ctx = ctx;
  w->ev = event_new(l->base, fd, EV_READ | EV_PERSIST, task_run, w);
  if (!w->ev || event_add(w->ev, NULL) != 0) {
    cn_task_free(w);
    return NULL;
  }
  return w;
}

void cn_watch_free(cn_watch_t *w)
{
  cn_task_free(w);
}
