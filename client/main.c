/* main.c: the `council` command-line client. Everything but main() lives
 * in the cn_client library (council.c and the cmd_*.c modules). */
#include "council.h"
#include "safeout.h"

int main(int argc, char **argv)
{
  /* what members and nodes wrote reaches the terminal as text only */
  cn_safeout_install();
  return cn_council_main(argc, argv);
}
