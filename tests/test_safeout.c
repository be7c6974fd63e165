/* test_safeout.c: the client's output filter (client/safeout.c): what
 * members and nodes wrote reaches the terminal as text only. C0 controls
 * but tab and newline, DEL and UTF-8-encoded C1 controls become '?', also
 * when a write splits a C1 control's two bytes; other UTF-8 passes. */
#include <string.h>

#include "safeout.h"
#include "test.h"

static void filt(const char *in, size_t n, const char *want, size_t want_n)
{
  char out[256];
  int pending = 0;
  size_t k = cn_safeout_filter(in, n, out, &pending);
  k += cn_safeout_end(out + k, &pending);
  CHECK_EQ_INT(k, want_n);
  CHECK(k == want_n && memcmp(out, want, k) == 0);
}

int main(void)
{
  char out[16];
  int pending = 0;
  size_t k;

  filt("plain text\n\ttab", 15, "plain text\n\ttab", 15);
  filt("\x1b]0;owned\x07", 10, "?]0;owned?", 10);
  filt("a\rb\x7f" "c\x00" "d", 7, "a?b?c?d", 7);
  filt("caf\xc3\xa9 \xc2\xa0!", 9, "caf\xc3\xa9 \xc2\xa0!", 9);     /* e-acute, no-break space */
  filt("\xc2\x9b" "31m", 5, "?31m", 4);                               /* U+009B, a CSI */
  filt("\xc2\x80\xc2\x9f", 4, "??", 2);
  filt("end\xc2", 4, "end\xc2", 4);                                   /* held, then flushed */

  /* a C1 control split across two writes */
  k = cn_safeout_filter("x\xc2", 2, out, &pending);
  CHECK_EQ_INT(k, 1);
  CHECK_EQ_INT(pending, 1);
  k = cn_safeout_filter("\x9bz", 2, out, &pending);
  CHECK(k == 2 && memcmp(out, "?z", 2) == 0);
  /* a lead byte held back, then an ordinary continuation */
  k = cn_safeout_filter("\xc2", 1, out, &pending);
  CHECK_EQ_INT(k, 0);
  k = cn_safeout_filter("\xa9", 1, out, &pending);
  CHECK(k == 2 && memcmp(out, "\xc2\xa9", 2) == 0);
  CHECK_EQ_INT(cn_safeout_end(out, &pending), 0);
  return test_finish("test_safeout");
}
