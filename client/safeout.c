/* safeout.c: filtered stdout and stderr for the client. See safeout.h. */
#define _GNU_SOURCE 1   /* fopencookie */
#include "safeout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

size_t cn_safeout_filter(const char *in, size_t n, char *out, int *pending)
{
  size_t k = 0;

  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (*pending) {
      *pending = 0;
      if (c >= 0x80 && c <= 0x9f) {       /* U+0080..U+009F: a C1 control */
        out[k++] = '?';
        continue;
      }
      out[k++] = (char)0xc2;
    }
    if (c == 0xc2) {
      *pending = 1;
      continue;
    }
    out[k++] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : (char)c;
  }
  return k;
}

size_t cn_safeout_end(char *out, int *pending)
{
  if (!*pending)
    return 0;
  *pending = 0;
  out[0] = (char)0xc2;
  return 1;
}

typedef struct safeout_t {
  int fd;
  int pending;
} safeout_t;

static int safeout_put(int fd, const char *buf, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

static ssize_t safeout_write(void *cookie, const char *buf, size_t n)
{
  safeout_t *s = cookie;
  char out[4096];
  size_t done = 0;

  while (done < n) {
    size_t chunk = n - done < sizeof out - 1 ? n - done : sizeof out - 1;
    size_t k = cn_safeout_filter(buf + done, chunk, out, &s->pending);
    if (safeout_put(s->fd, out, k) != 0)
      return done ? (ssize_t)done : -1;
    done += chunk;
  }
  return (ssize_t)n;
}

static int safeout_close(void *cookie)
{
  safeout_t *s = cookie;
  char out[1];
  size_t k = cn_safeout_end(out, &s->pending);
  int rc = k ? safeout_put(s->fd, out, k) : 0;
  free(s);
  return rc;
}

static FILE *safeout_open(int fd)
{
  cookie_io_functions_t io = { NULL, safeout_write, NULL, safeout_close };
  safeout_t *s = calloc(1, sizeof *s);
  FILE *f;

  if (!s)
    return NULL;
  s->fd = fd;
  f = fopencookie(s, "w", io);
  if (!f)
    free(s);
  return f;
}

int cn_safeout_install(void)
{
  FILE *out = safeout_open(STDOUT_FILENO), *err = safeout_open(STDERR_FILENO);

  if (!out || !err) {
    if (out)
      fclose(out);
    if (err)
      fclose(err);
    return -1;
  }
  fflush(stdout);
  fflush(stderr);
  if (isatty(STDOUT_FILENO))
    setvbuf(out, NULL, _IOLBF, 0);
  setvbuf(err, NULL, _IONBF, 0);
  stdout = out;
  stderr = err;
  return 0;
}
