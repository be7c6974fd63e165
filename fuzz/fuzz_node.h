/* fuzz_node.h: a council node with fixed keys in a scratch folder, shared
 * by the harnesses that drive a node (fuzz_apply, fuzz_http).
 *
 * Every key is derived from a fixed seed, the node key included: the node
 * is created with cn_node_create(), then its freshly generated node.key is
 * replaced by the fixed one before cn_node_open() (the database does not
 * hold the node key, and the log is still empty). So seed inputs can carry
 * records addressed to the node and signed by keys it knows, byte for byte
 * the same on every run.
 *
 * The folder lives in /dev/shm when it is writable: the store flushes the
 * WAL to disk after every commit, and fsync on a real disk would slow
 * fuzzing to a crawl. Include this header in one .c file only. */
#ifndef CN_FUZZ_NODE_H
#define CN_FUZZ_NODE_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "councilnet.pb-c.h"
#include "councilnet/crypto.h"
#include "councilnet/node.h"
#include "councilnet/record.h"

#define FZ_T0 1900000000ULL      /* the clock at the start of every input */

/* The fixed keys. The first eight are what a harness's signer byte picks. */
enum {
  FZ_CONVENER = 0,   /* named at init */
  FZ_MEMBER_A = 1,   /* member, group "renters" */
  FZ_CLERK = 2,      /* clerk, not a member */
  FZ_STRANGER = 3,   /* unknown to the node */
  FZ_CHILD = 4,      /* member: a child council's node key */
  FZ_MEMBER_B = 5,   /* member */
  FZ_NODE = 6,       /* the node's own key */
  FZ_MEMBER_C = 7,   /* member, group "elders" */
  FZ_PARENT = 8,     /* a parent node's key (not known until a parent_set) */
  FZ_NKEYS = 9
};

static uint8_t fz_sk[FZ_NKEYS][CN_SK_BYTES];
static uint8_t fz_pk[FZ_NKEYS][CN_PK_BYTES];
static uint64_t fz_now = FZ_T0;
static char fz_base[256];         /* scratch folder, made once */
static char fz_dir[300];          /* the node's data folder inside it */
static cn_node_t *fz_node;

static uint64_t fz_clock(void *ctx)
{
  (void)ctx;
  return fz_now;
}

static void fz_keys_init(void)
{
  for (int i = 0; i < FZ_NKEYS; i++) {
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, 0, sizeof seed);
    snprintf((char *)seed, sizeof seed, "councilnet fuzz key %d", i);
    crypto_sign_seed_keypair(fz_pk[i], fz_sk[i], seed);
  }
}

/* Remove DIR and what it holds, one level of folders deep (node.db,
 * its WAL files, node.key; the base holds the node folder). */
static void fz_rmtree(const char *dir)
{
  DIR *d;
  struct dirent *e;

  if (!dir[0] || strstr(dir, "/cnfuzz-") == NULL || !(d = opendir(dir)))
    return;
  while ((e = readdir(d)) != NULL) {
    char path[600];
    struct stat st;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
      fz_rmtree(path);
    else
      unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static void fz_cleanup(void)
{
  cn_node_free(fz_node);
  fz_node = NULL;
  fz_rmtree(fz_base);
}

/* Seal BODY as KIND with key K and submit it. Return the node's answer. */
static cn_err fz_act(int k, const char *kind, const ProtobufCMessage *body)
{
  uint8_t *env = NULL, *receipt = NULL;
  size_t len = 0, rlen = 0;
  char msg[256];
  cn_err err = CN_ERR_INTERNAL;

  if (cn_record_seal(kind, body, fz_sk[k], &env, &len) == 0)
    err = cn_node_submit(fz_node, env, len, &receipt, &rlen, msg, sizeof msg);
  free(env);
  free(receipt);
  return err;
}

static int fz_admit(int k, const char *name, char *group)
{
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  m.node.data = fz_pk[FZ_NODE];
  m.node.len = CN_PK_BYTES;
  m.created = FZ_T0;
  m.member.data = fz_pk[k];
  m.member.len = CN_PK_BYTES;
  m.name = (char *)name;
  m.groups = group ? &group : NULL;
  m.n_groups = group ? 1 : 0;
  m.council = k == FZ_CHILD;
  return fz_act(FZ_CONVENER, "member_add", &m.base) == CN_OK ? 0 : -1;
}

/* (Re)create the node: fresh folder, fixed keys, members A, B, C and the
 * child council admitted, the clerk's role set, clock at FZ_T0. Exit on
 * failure: a harness without its node would only report false findings. */
static void fz_node_reset(void)
{
  Councilnet__RoleSet r = COUNCILNET__ROLE_SET__INIT;
  char err[512], key_path[400];

  if (!fz_base[0]) {
    const char *tmp = getenv("TMPDIR");
    fz_keys_init();
    snprintf(fz_base, sizeof fz_base, "/dev/shm/cnfuzz-XXXXXX");
    if (access("/dev/shm", W_OK) != 0 || !mkdtemp(fz_base)) {
      snprintf(fz_base, sizeof fz_base, "%s/cnfuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
      if (!mkdtemp(fz_base)) {
        perror("fuzz: mkdtemp");
        exit(1);
      }
    }
    atexit(fz_cleanup);
  }
  cn_node_free(fz_node);
  fz_node = NULL;
  snprintf(fz_dir, sizeof fz_dir, "%s/node", fz_base);
  fz_rmtree(fz_dir);
  if (cn_node_create(fz_dir, "fuzz", fz_pk[FZ_CONVENER], err, sizeof err) != 0)
    goto fail;
  snprintf(key_path, sizeof key_path, "%s/node.key", fz_dir);
  if (unlink(key_path) != 0 ||
      cn_keyfile_write(key_path, fz_sk[FZ_NODE], NULL, err, sizeof err) != 0 ||
      cn_node_open(fz_dir, &fz_node, err, sizeof err) != 0)
    goto fail;
  if (memcmp(cn_node_key(fz_node), fz_pk[FZ_NODE], CN_PK_BYTES) != 0) {
    snprintf(err, sizeof err, "node key not replaced");
    goto fail;
  }
  fz_now = FZ_T0;
  cn_node_set_clock(fz_node, fz_clock, NULL);
  r.node.data = fz_pk[FZ_NODE];
  r.node.len = CN_PK_BYTES;
  r.created = FZ_T0;
  r.key.data = fz_pk[FZ_CLERK];
  r.key.len = CN_PK_BYTES;
  r.clerk = 1;
  if (fz_admit(FZ_MEMBER_A, "Ana", "renters") != 0 || fz_admit(FZ_MEMBER_B, "Ben", NULL) != 0 ||
      fz_admit(FZ_MEMBER_C, "Cai", "elders") != 0 || fz_admit(FZ_CHILD, "Child council", NULL) != 0 ||
      fz_act(FZ_CONVENER, "role_set", &r.base) != CN_OK) {
    snprintf(err, sizeof err, "setup records refused");
    goto fail;
  }
  return;
fail:
  fprintf(stderr, "fuzz: cannot make the node in %s: %s\n", fz_dir, err);
  exit(1);
}

#endif
