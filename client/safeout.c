/* safeout.c: filtered stdout and stderr for the client. See safeout.h. */
#define _GNU_SOURCE 1   /* fopencookie */
#include "safeout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The range the second byte of a sequence led by LEAD must fall in
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF);
 * the number of continuation bytes, or 0 if LEAD starts no sequence. */
static int safeout_lead(unsigned char lead, unsigned char *lo, unsigned char *hi)
{
  *lo = 0x80;
  *hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf)
    return 1;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (lead == 0xe0)
      *lo = 0xa0;
    else if (lead == 0xed)
      *hi = 0x9f;
    return 2;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (lead == 0xf0)
      *lo = 0x90;
    else if (lead == 0xf4)
      *hi = 0x8f;
    return 3;
  }
  return 0;
}

size_t cn_safeout_filter(const char *in, size_t n, char *out, cn_safeout_state_t *st)
{
  size_t k = 0;

  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i], lo, hi;
    if (st->need > 0) {
      if (st->n == 1)
        safeout_lead(st->held[0], &lo, &hi);
      else
        lo = 0x80, hi = 0xbf;
      if (c >= lo && c <= hi) {
        st->held[st->n++] = c;
        if (--st->need > 0)
          continue;
        if (st->n == 2 && st->held[0] == 0xc2 && st->held[1] <= 0x9f) {
          out[k++] = '?';                 /* U+0080..U+009F: a C1 control */
        } else {
          memcpy(out + k, st->held, (size_t)st->n);
          k += (size_t)st->n;
        }
        st->n = 0;
        continue;
      }
      out[k++] = '?';                     /* a sequence cut short */
      st->n = st->need = 0;               /* and C starts afresh */
    }
    if (c < 0x80) {
      out[k++] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : (char)c;
    } else if ((st->need = safeout_lead(c, &lo, &hi)) > 0) {
      st->held[0] = c;
      st->n = 1;
    } else {
      out[k++] = '?';                     /* a byte no valid UTF-8 starts with */
    }
  }
  return k;
}

size_t cn_safeout_end(char *out, cn_safeout_state_t *st)
{
  if (st->need == 0)
    return 0;
  st->n = st->need = 0;
  out[0] = '?';
  return 1;
}

typedef struct safeout_t {
  int fd;
  cn_safeout_state_t st;
} safeout_t;

static safeout_t *safeout_streams[2];

/* Returns the input bytes taken: whole chunks only, so after a failed
 * write stdio resends at most the chunk that failed. */
static ssize_t safeout_write(void *cookie, const char *buf, size_t n)
{
  safeout_t *s = cookie;
  char out[4096 + 3];
  size_t done = 0;

  while (done < n) {
    size_t chunk = n - done < 4096 ? n - done : 4096;
    size_t k = cn_safeout_filter(buf + done, chunk, out, &s->st);
    if (cn_cli_write_all(s->fd, out, k) != 0)
      return done ? (ssize_t)done : -1;
    done += chunk;
  }
  return (ssize_t)n;
}

static FILE *safeout_open(int fd, safeout_t **state)
{
  cookie_io_functions_t io = { NULL, safeout_write, NULL, NULL };
  safeout_t *s = calloc(1, sizeof *s);
  FILE *f;

  *state = NULL;
  if (!s)
    return NULL;
  s->fd = fd;
  f = fopencookie(s, "w", io);
  if (!f)
    free(s);
  else
    *state = s;
  return f;
}

/* At exit, before stdio's own flush: flush both streams, then end any
 * sequence a last write left incomplete. */
static void safeout_at_exit(void)
{
  char out[1];

  fflush(stdout);
  fflush(stderr);
  for (int i = 0; i < 2; i++)
    if (safeout_streams[i] && cn_safeout_end(out, &safeout_streams[i]->st))
      cn_cli_write_all(safeout_streams[i]->fd, out, 1);
}

int cn_safeout_install(void)
{
  safeout_t *so = NULL, *se = NULL;
  FILE *out = safeout_open(STDOUT_FILENO, &so), *err = safeout_open(STDERR_FILENO, &se);

  if (!out || !err || atexit(safeout_at_exit) != 0) {
    /* the cookies are freed with their streams' memory: closing them
     * would write nothing, and the descriptors stay open */
    if (out)
      fclose(out);
    if (err)
      fclose(err);
    free(so);
    free(se);
    return -1;
  }
  fflush(stdout);
  fflush(stderr);
  if (isatty(STDOUT_FILENO))
    setvbuf(out, NULL, _IOLBF, 0);
  setvbuf(err, NULL, _IONBF, 0);
  safeout_streams[0] = so;
  safeout_streams[1] = se;
  stdout = out;
  stderr = err;
  return 0;
}
