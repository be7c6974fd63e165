/* test_safeout.c: the client's output filter (client/safeout.c): what
 * members and nodes wrote reaches the terminal as text only. Tab, newline
 * and valid UTF-8 pass; other C0 controls, DEL, the C1 controls and every
 * byte that is not valid UTF-8 become '?', also when a write splits a
 * sequence. */
#include <string.h>

#include "safeout.h"
#include "test.h"

/* Filter IN in pieces of STEP bytes (0: at once), then end the output. */
static void filt_step(const char *in, size_t n, size_t step, const char *want, size_t want_n)
{
  char out[512];
  cn_safeout_state_t st;
  size_t k = 0;

  memset(&st, 0, sizeof st);
  if (step == 0)
    step = n ? n : 1;
  for (size_t i = 0; i < n; i += step)
    k += cn_safeout_filter(in + i, n - i < step ? n - i : step, out + k, &st);
  k += cn_safeout_end(out + k, &st);
  if (k != want_n || memcmp(out, want, k) != 0) {
    fprintf(stderr, "  step %zu: got %zu bytes \"%.*s\"\n", step, k, (int)k, out);
    CHECK(0);
  } else {
    CHECK(1);
  }
}

/* The same text at once and byte by byte. */
static void filt(const char *in, size_t n, const char *want, size_t want_n)
{
  filt_step(in, n, 0, want, want_n);
  filt_step(in, n, 1, want, want_n);
  filt_step(in, n, 2, want, want_n);
}

int main(void)
{
  filt("plain text\n\ttab", 15, "plain text\n\ttab", 15);
  filt("\x1b]0;owned\x07", 10, "?]0;owned?", 10);
  filt("a\rb\x7f" "c\x00" "d", 7, "a?b?c?d", 7);
  /* valid UTF-8 passes: e-acute, no-break space, euro (its 0x82 is no C1), an emoji */
  filt("caf\xc3\xa9 \xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80", 15,
       "caf\xc3\xa9 \xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80", 15);
  /* C1 controls as UTF-8, and raw (a CSI to a Latin-1 terminal) */
  filt("\xc2\x9b" "31m", 5, "?31m", 4);
  filt("\xc2\x80\xc2\x9f", 4, "??", 2);
  filt("raw\x9b" "31m", 7, "raw?31m", 7);
  /* not UTF-8: lone continuation, overlong, surrogate, past U+10FFFF,
   * bytes no sequence starts with, a sequence cut short */
  filt("\x80", 1, "?", 1);
  filt("\xc0\x80", 2, "??", 2);
  filt("\xe0\x80\x80", 3, "???", 3);
  filt("\xed\xa0\x80", 3, "???", 3);
  filt("\xf4\x90\x80\x80", 4, "????", 4);
  filt("\xf5\xff", 2, "??", 2);
  filt("\xe2\x82" "x", 3, "?x", 2);
  filt("\xc2\xc2\xa9", 3, "?\xc2\xa9", 3);
  /* ended inside a sequence: one '?' */
  filt("end\xe2\x82", 5, "end?", 4);
  filt("end\xc2", 4, "end?", 4);
  return test_finish("test_safeout");
}
