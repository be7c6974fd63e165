/* http.h: a small blocking HTTP/1.1 client over POSIX sockets.
 *
 * Enough HTTP for talking to councild (and for tests and benchmarks): one
 * request at a time, plain http:// only, Content-Length request bodies,
 * responses framed by Content-Length, chunked transfer-encoding or the end
 * of the connection. No globals: every call carries its own state. */
#ifndef CN_CLIENT_HTTP_H
#define CN_CLIENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define CN_HTTP_LINE_MAX (8 * 1024)       /* longest status or header line */
#define CN_HTTP_HEADER_MAX (64 * 1024)    /* all header lines of one response */
#define CN_HTTP_BODY_MAX ((size_t)1 << 30) /* largest response body accepted */

typedef struct cn_http_resp_t {
  int status;               /* HTTP status code, e.g. 200 */
  uint8_t *body;            /* OUT: malloc'd, LEN bytes plus a NUL; never NULL after success */
  size_t len;
  char content_type[64];    /* Content-Type value, truncated; "" if absent */
} cn_http_resp_t;

/* One request on a fresh connection, closed afterwards.
 * BASE is like "http://127.0.0.1:8080" (http://host[:port], optional
 * trailing slash; IPv6 hosts in brackets). PATH starts with '/'. ACCEPT and
 * CONTENT_TYPE may be NULL (header left out). BODY may be NULL when LEN is 0.
 * TIMEOUT_MS bounds the whole exchange (connect, send, receive); <= 0 waits
 * forever. Return 0 when an HTTP answer arrived (any status; OUT filled,
 * free it with cn_http_resp_clear()), or -1 on a connection or parse error
 * with a message in ERR (OUT then holds nothing to free). */
int cn_http_request(const char *base, const char *method, const char *path,
                    const char *accept, const char *content_type,
                    const uint8_t *body, size_t len, int timeout_ms,
                    cn_http_resp_t *out, char *err, size_t errlen);

/* Free OUT's body and reset it. Accepts NULL. */
void cn_http_resp_clear(cn_http_resp_t *r);

/* A keep-alive connection to one server. */
typedef struct cn_http_conn_t cn_http_conn_t;

/* Parse BASE (as for cn_http_request) and connect. TIMEOUT_MS bounds the
 * connect and later each request. Return the connection (free with
 * cn_http_conn_free()) or NULL with a message in ERR. */
cn_http_conn_t *cn_http_conn_open(const char *base, int timeout_ms, char *err, size_t errlen);

/* Send one request on C and read its answer, as cn_http_request() does.
 * If the server closed an idle connection the request is sent again once
 * on a new connection (no answer byte had arrived, so nothing was lost;
 * POST /v1/records is idempotent anyway). Return 0 or -1. */
int cn_http_conn_request(cn_http_conn_t *c, const char *method, const char *path,
                         const char *accept, const char *content_type,
                         const uint8_t *body, size_t len, cn_http_resp_t *out,
                         char *err, size_t errlen);

/* Close and free C. Accepts NULL. */
void cn_http_conn_free(cn_http_conn_t *c);

#endif
