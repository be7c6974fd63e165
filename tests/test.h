/* test.h: the few macros the unit tests need. Each test file has one main()
 * that runs its cases; CHECK records a failure and goes on, REQUIRE jumps to
 * the enclosing function's done: label. */
#ifndef CN_TEST_H
#define CN_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures_;
static int test_checks_;

#define CHECK(cond) do { test_checks_++; if (!(cond)) { test_failures_++; \
  fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define REQUIRE(cond) do { test_checks_++; if (!(cond)) { test_failures_++; \
  fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); goto done; } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); test_checks_++; \
  if (a_ != b_) { test_failures_++; fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
  __FILE__, __LINE__, #a, a_, #b, b_); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); test_checks_++; \
  if (!a_ || !b_ || strcmp(a_, b_) != 0) { test_failures_++; fprintf(stderr, \
  "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)

/* Print the closing line and return the exit status for main(). */
static inline int test_finish(const char *name)
{
  printf("%s: %d passed, %d failed\n", name, test_checks_ - test_failures_, test_failures_);
  return test_failures_ ? 1 : 0;
}

#endif
