/* council.h: the `council` command-line client as a library call, so that
 * tests can run it in-process. */
#ifndef CN_CLIENT_COUNCIL_H
#define CN_CLIENT_COUNCIL_H

/* Run `council` with ARGV (argv[0] is the program name). Prints to stdout
 * and stderr. Return the exit status: 0 ok, 1 refused by the node (or its
 * answer failed verification), 2 usage or local error. ARGV itself is not
 * changed. */
int cn_council_main(int argc, char **argv);

#endif
