/* main.c: the `council` command-line client. Everything but main() lives
 * in the cn_client library (council.c and the cmd_*.c modules). */
#include "council.h"

int main(int argc, char **argv)
{
  return cn_council_main(argc, argv);
}
