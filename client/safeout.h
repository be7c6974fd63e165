/* safeout.h: the client's stdout and stderr never carry control bytes.
 *
 * Names, titles, texts and error messages come from members and nodes; a
 * control byte among them (ESC, BEL, a C1 control) would drive the
 * reader's terminal. Once installed, every byte written to stdout or
 * stderr passes a filter: tab, newline and valid UTF-8 pass; other C0
 * controls, DEL, the C1 controls U+0080 to U+009F and every byte that is
 * not part of valid UTF-8 (a lone 0x9B is a CSI to a Latin-1 terminal)
 * become '?'. JSON output is unaffected: its encoder escapes all of these.
 * Data meant for files (`budget export` to a pipe or file) bypasses it. */
#ifndef CN_CLIENT_SAFEOUT_H
#define CN_CLIENT_SAFEOUT_H

#include <stddef.h>

/* A UTF-8 sequence begun in one write and not yet complete. */
typedef struct cn_safeout_state_t {
  unsigned char held[4];
  int n;                        /* bytes held */
  int need;                     /* continuation bytes still to come */
} cn_safeout_state_t;

/* Filter IN (N bytes) into OUT, which has room for N + 3 bytes, carrying
 * ST across calls. Return the bytes written. */
size_t cn_safeout_filter(const char *in, size_t n, char *out, cn_safeout_state_t *st);

/* At the end of output: '?' for a sequence left incomplete. Return the
 * bytes written to OUT (0 or 1). */
size_t cn_safeout_end(char *out, cn_safeout_state_t *st);

/* Replace stdout and stderr by filtered streams onto the same
 * descriptors. Return 0, or -1 (the streams are left as they were). */
int cn_safeout_install(void);

#endif
