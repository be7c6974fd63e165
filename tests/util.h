/* util.h: helpers for tests that run real councild processes on 127.0.0.1. */
#ifndef CN_TEST_UTIL_H
#define CN_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "councilnet.pb-c.h"
#include "councilnet/crypto.h"
#include "councilnet/err.h"

typedef struct tnode_t {
  pid_t pid;
  char dir[256];            /* data folder */
  char url[64];             /* http://127.0.0.1:PORT */
  char clock_file[300];
  int port;
  uint64_t now;             /* time the node sees (clock file) */
  uint8_t convener_sk[CN_SK_BYTES], convener_pk[CN_PK_BYTES];
  uint8_t pk[CN_PK_BYTES];  /* node key */
} tnode_t;

/* A fresh temporary folder under $TMPDIR (or /tmp); OUT gets its path. */
int util_tmpdir(char *out, size_t cap, const char *tag);
/* Remove a folder tree made by util_tmpdir. */
void util_rmtree(const char *dir);

/* Init a node in a new temp folder with a new convener key, set its clock
 * to NOW, start it on a free port and wait until it answers. Return 0 or -1. */
int tnode_start(tnode_t *n, const char *name, uint64_t now);
/* Start the node again (same folder, same port if possible). */
int tnode_restart(tnode_t *n);
/* Send SIG and wait for the process. */
void tnode_kill(tnode_t *n, int sig);
/* Stop (SIGTERM), and remove the folder. */
void tnode_destroy(tnode_t *n);
/* Move the node's clock. */
int tnode_set_clock(tnode_t *n, uint64_t now);

/* Seal BODY as KIND with SK. OUT: malloc'd. */
int util_seal(const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
              uint8_t **out, size_t *len);
/* POST an envelope; return the API code (CN_OK with a verified receipt, or
 * the Error's code), or -1 if no answer. *SEQ gets the receipt seq if non-NULL. */
int util_post(tnode_t *n, const uint8_t *env, size_t len, uint64_t *seq);
/* Seal and post. */
int util_act(tnode_t *n, const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
             uint64_t *seq);
/* The node's head seq (GET /v1/head, signature checked), or -1. */
int64_t util_head_seq(tnode_t *n);

/* Run a command line through /bin/sh, capture stdout (malloc'd) and return
 * the exit status, or -1. */
int util_sh(const char *cmd, char **out);

#endif
