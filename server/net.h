/* net.h: libevent behind one module: the event loop, timers, signals and the
 * HTTP server. Nothing else in councild calls event_* or evhttp_*. */
#ifndef CN_NET_H
#define CN_NET_H

#include <stddef.h>
#include <stdint.h>

typedef struct cn_loop_t cn_loop_t;
typedef struct cn_http_t cn_http_t;
typedef struct cn_req_t cn_req_t;

typedef void (*cn_timer_fn)(void *ctx);
typedef void (*cn_req_fn)(cn_req_t *req, void *ctx);

/* A loop that stops cleanly on SIGINT and SIGTERM. */
cn_loop_t *cn_loop_new(void);
void cn_loop_free(cn_loop_t *l);                       /* accepts NULL */
/* Call FN every PERIOD_MS milliseconds until the loop ends. Return 0 or -1. */
int cn_loop_every(cn_loop_t *l, unsigned period_ms, cn_timer_fn fn, void *ctx);
/* Run until cn_loop_stop() or a signal. Return 0 or -1. */
int cn_loop_run(cn_loop_t *l);
void cn_loop_stop(cn_loop_t *l);
/* Run up to PASSES passes of the loop without waiting (e.g. to send the
 * answers finished while stopping). */
void cn_loop_poll(cn_loop_t *l, int passes);

typedef struct cn_http_limits_t {
  size_t max_body;          /* bytes; larger bodies are refused with 413 */
  size_t max_headers;       /* bytes of request line plus headers */
  int timeout_s;            /* deadline for each request to arrive whole,
                             * counted from accept or the previous request;
                             * a connection that misses it is closed */
  unsigned max_conns;       /* open connections; more are answered 503 and closed */
} cn_http_limits_t;

typedef struct cn_http_stats_t {
  uint64_t open;            /* connections open now */
  uint64_t accepted;
  uint64_t refused;         /* over the connection cap */
  uint64_t expired;         /* closed by the deadline */
} cn_http_stats_t;

void cn_http_stats(const cn_http_t *h, cn_http_stats_t *out);

/* An HTTP server on LOOP calling FN for every request. */
cn_http_t *cn_http_new(cn_loop_t *l, const cn_http_limits_t *limits, cn_req_fn fn, void *ctx);
void cn_http_free(cn_http_t *h);                       /* accepts NULL */
/* Listen on ADDR ("host:port"; port 0 picks one). *PORT_OUT gets the port. */
int cn_http_listen(cn_http_t *h, const char *addr, int *port_out, char *err, size_t errlen);

/* Request accessors; strings stay valid until the reply. */
const char *cn_req_method(cn_req_t *r);               /* "GET", "POST", ... */
const char *cn_req_path(cn_req_t *r);                 /* decoded path, no query */
/* Integer query parameter NAME; return 1 if absent, -1 if not a number
 * from 0 to INT64_MAX (the range of a seq). */
int cn_req_query_u64(cn_req_t *r, const char *name, uint64_t *out);
/* Request body. */
const uint8_t *cn_req_body(cn_req_t *r, size_t *len);
/* 1 if the client asked for JSON (Accept: application/json). */
int cn_req_wants_json(cn_req_t *r);
/* Send the answer; the request is finished afterwards. */
void cn_req_reply(cn_req_t *r, int status, const char *content_type, const void *data, size_t len);
/* Keep the request to answer later (the handler returns without a reply).
 * Return the kept request (path, query and body stay valid), or NULL on
 * allocation failure (then answer now). Free with cn_req_free() after
 * cn_req_reply(). */
cn_req_t *cn_req_keep(cn_req_t *r);
void cn_req_free(cn_req_t *r);                          /* accepts NULL */

/* A task the loop runs once soon after cn_task_schedule(): after the
 * events that are ready now, in the same loop pass. */
typedef struct cn_task_t cn_task_t;
cn_task_t *cn_task_new(cn_loop_t *l, cn_timer_fn fn, void *ctx);
void cn_task_schedule(cn_task_t *t);
void cn_task_free(cn_task_t *t);                        /* accepts NULL */

/* Call FN on the loop whenever FD is readable (level-triggered), until
 * freed. For a pipe another thread writes to wake the loop. */
typedef struct cn_task_t cn_watch_t;
cn_watch_t *cn_watch_new(cn_loop_t *l, int fd, cn_timer_fn fn, void *ctx);
void cn_watch_free(cn_watch_t *w);                      /* accepts NULL */

/* ---- outgoing HTTP (federation) ---- */

/* STATUS is the HTTP status, or 0 if no answer came (connection refused,
 * timeout). BODY is valid during the call only. */
typedef void (*cn_fetch_fn)(void *ctx, int status, const uint8_t *body, size_t len);

/* A persistent client connection to one peer, "http://host:port". */
typedef struct cn_peer_t cn_peer_t;

cn_peer_t *cn_peer_new(cn_loop_t *l, const char *base_url, int timeout_s);
void cn_peer_free(cn_peer_t *p);                       /* accepts NULL */
/* Send one request; FN is called once with the answer. BODY is copied.
 * Return 0, or -1 if the request could not be started (FN not called). */
int cn_peer_request(cn_peer_t *p, const char *method, const char *path,
                    const uint8_t *body, size_t len, cn_fetch_fn fn, void *ctx);

/* Milliseconds, microseconds from a monotonic clock. */
uint64_t cn_loop_now_ms(void);
uint64_t cn_loop_now_us(void);

#endif
