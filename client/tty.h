/* tty.h: reading a secret from the controlling terminal without echo. */
#ifndef CN_CLIENT_TTY_H
#define CN_CLIENT_TTY_H

#include <stddef.h>

/* Print PROMPT on /dev/tty and read one line into BUF (CAP bytes, NUL
 * terminated, newline removed) with echo turned off. Return 0, or -1 if
 * there is no terminal, on end of input, or if the line does not fit. */
int cn_tty_read_secret(const char *prompt, char *buf, size_t cap);

#endif
