/* tty.c: reading a secret from the controlling terminal (see tty.h). */
#include "tty.h"

#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int cn_tty_read_secret(const char *prompt, char *buf, size_t cap)
{
  struct termios old, quiet;
  int fd, restore = 0, rc = -1;
  size_t n = 0;
  ssize_t r;
  char ch;

  if (!buf || cap == 0)
    return -1;
  buf[0] = '\0';
  fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -1;
  if (tcgetattr(fd, &old) == 0) {
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
      restore = 1;
  }
  if (prompt && write(fd, prompt, strlen(prompt)) < 0)
    goto out;
  for (;;) {
    r = read(fd, &ch, 1);
    if (r <= 0)
      goto out;
    if (ch == '\n' || ch == '\r')
      break;
    if (n + 1 >= cap)
      goto out;
    buf[n++] = ch;
  }
  buf[n] = '\0';
  rc = 0;
out:
  if (restore)
    (void)tcsetattr(fd, TCSAFLUSH, &old);
  (void)!write(fd, "\n", 1);
  close(fd);
  if (rc < 0) {
    volatile char *v = buf;
    while (n > 0)
      v[--n] = '\0';
  }
  return rc;
}
