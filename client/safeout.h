/* safeout.h: the client's stdout and stderr never carry control bytes.
 *
 * Names, titles, texts and error messages come from members and nodes; a
 * control byte among them (ESC, BEL, a C1 control) would drive the
 * reader's terminal. Once installed, every byte written to stdout or
 * stderr passes a filter: tab and newline pass, other C0 controls, DEL and
 * UTF-8-encoded C1 controls (U+0080 to U+009F) become '?'. JSON output is
 * unaffected (its encoder escapes every control character). */
#ifndef CN_CLIENT_SAFEOUT_H
#define CN_CLIENT_SAFEOUT_H

#include <stddef.h>

/* Filter IN (N bytes) into OUT (room for N bytes), carrying *PENDING (a
 * lead byte 0xC2 held back from the previous call) across calls. Return
 * the bytes written. A final held byte is flushed with cn_safeout_end(). */
size_t cn_safeout_filter(const char *in, size_t n, char *out, int *pending);
size_t cn_safeout_end(char *out, int *pending);

/* Replace stdout and stderr by filtered streams onto the same
 * descriptors. Return 0, or -1 (the streams are left as they were). */
int cn_safeout_install(void);

#endif
