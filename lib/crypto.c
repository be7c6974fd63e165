/* crypto.c: libsodium behind the few calls Councilnet needs. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "councilnet/crypto.h"

#define SIGN_PREFIX "councilnet/1/"
#define DOMAIN_MAX (sizeof(SIGN_PREFIX) - 1 + CN_KIND_MAX + 1)

/* Key file layout: magic (8) | format (1) | then either the 64-byte secret
 * key (format 0), or salt (16) | nonce (24) | secretbox(sk) (16 + 64)
 * (format 1, key from Argon2id). */
static const uint8_t keyfile_magic[8] = { 'C', 'N', 'K', 'E', 'Y', '0', '0', '1' };
#define KEYFILE_PLAIN 0
#define KEYFILE_SEALED 1
#define KEYFILE_PLAIN_LEN (8 + 1 + CN_SK_BYTES)
#define KEYFILE_SEALED_LEN (8 + 1 + crypto_pwhash_SALTBYTES + crypto_secretbox_NONCEBYTES + \
                            crypto_secretbox_MACBYTES + CN_SK_BYTES)

int cn_crypto_init(void)
{
  return sodium_init() < 0 ? -1 : 0;
}

void cn_crypto_hash(uint8_t out[CN_HASH_BYTES], const uint8_t *in, size_t len)
{
  crypto_generichash(out, CN_HASH_BYTES, in, len, NULL, 0);
}

void cn_crypto_keypair(uint8_t pk[CN_PK_BYTES], uint8_t sk[CN_SK_BYTES])
{
  crypto_sign_keypair(pk, sk);
}

void cn_crypto_sk_to_pk(uint8_t pk[CN_PK_BYTES], const uint8_t sk[CN_SK_BYTES])
{
  crypto_sign_ed25519_sk_to_pk(pk, sk);
}

/* Write the domain prefix for KIND into BUF; return its length or 0. */
static size_t crypto_domain(uint8_t buf[DOMAIN_MAX], const char *kind)
{
  size_t klen = kind ? strlen(kind) : 0;
  size_t plen = sizeof(SIGN_PREFIX) - 1;

  if (klen == 0 || klen > CN_KIND_MAX)
    return 0;
  memcpy(buf, SIGN_PREFIX, plen);
  memcpy(buf + plen, kind, klen);
  buf[plen + klen] = 0;
  return plen + klen + 1;
}

/* Build domain || msg in STACK when it fits, else on the heap: the
 * signature is plain Ed25519 over exactly the bytes DESIGN names, so any
 * Ed25519 implementation can check it. Return the buffer or NULL. */
#define CONCAT_STACK 2048
static uint8_t *crypto_concat(uint8_t stack[CONCAT_STACK], const char *kind,
                              const uint8_t *msg, size_t len, size_t *out_len)
{
  uint8_t dom[DOMAIN_MAX];
  size_t dlen = crypto_domain(dom, kind);
  uint8_t *buf;

  if (dlen == 0 || len > SIZE_MAX - dlen - 1)
    return NULL;
  buf = dlen + len <= CONCAT_STACK ? stack : malloc(dlen + len);
  if (!buf)
    return NULL;
  memcpy(buf, dom, dlen);
  if (len)
    memcpy(buf + dlen, msg, len);
  *out_len = dlen + len;
  return buf;
}

int cn_crypto_sign(uint8_t sig[CN_SIG_BYTES], const char *kind,
                   const uint8_t *msg, size_t len, const uint8_t sk[CN_SK_BYTES])
{
  uint8_t stack[CONCAT_STACK];
  size_t n = 0;
  uint8_t *buf = crypto_concat(stack, kind, msg, len, &n);
  int rc = -1;

  if (!buf)
    return -1;
  if (crypto_sign_detached(sig, NULL, buf, n, sk) == 0)
    rc = 0;
  if (buf != stack)
    free(buf);
  return rc;
}

int cn_crypto_verify(const uint8_t sig[CN_SIG_BYTES], const char *kind,
                     const uint8_t *msg, size_t len, const uint8_t pk[CN_PK_BYTES])
{
  uint8_t stack[CONCAT_STACK];
  size_t n = 0;
  uint8_t *buf = crypto_concat(stack, kind, msg, len, &n);
  int rc = -1;

  if (!buf)
    return -1;
  if (crypto_sign_verify_detached(sig, buf, n, pk) == 0)
    rc = 0;
  if (buf != stack)
    free(buf);
  return rc;
}

void cn_hex_encode(char *out, const uint8_t *in, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = 0;
}

static int hex_digit(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int cn_hex_decode(uint8_t *out, size_t n, const char *hex)
{
  if (!hex || strlen(hex) != 2 * n)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

static int keyfile_derive(uint8_t key[crypto_secretbox_KEYBYTES], const char *passphrase,
                          const uint8_t salt[crypto_pwhash_SALTBYTES])
{
  return crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase), salt,
                       crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                       crypto_pwhash_ALG_ARGON2ID13);
}

int cn_keyfile_write(const char *path, const uint8_t sk[CN_SK_BYTES],
                     const char *passphrase, char *errbuf, size_t errlen)
{
  uint8_t buf[KEYFILE_SEALED_LEN];
  uint8_t key[crypto_secretbox_KEYBYTES];
  size_t len;
  int fd = -1, rc = -1;

  memcpy(buf, keyfile_magic, 8);
  if (passphrase && *passphrase) {
    uint8_t *salt = buf + 9, *nonce = salt + crypto_pwhash_SALTBYTES;
    buf[8] = KEYFILE_SEALED;
    randombytes_buf(salt, crypto_pwhash_SALTBYTES);
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    if (keyfile_derive(key, passphrase, salt) != 0) {
      snprintf(errbuf, errlen, "Argon2id: out of memory");
      goto out;
    }
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, sk, CN_SK_BYTES, nonce, key);
    len = KEYFILE_SEALED_LEN;
  } else {
    buf[8] = KEYFILE_PLAIN;
    memcpy(buf + 9, sk, CN_SK_BYTES);
    len = KEYFILE_PLAIN_LEN;
  }
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
    goto out;
  }
  if (write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0) {
    snprintf(errbuf, errlen, "%s: write: %s", path, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0 && close(fd) != 0 && rc == 0) {
    snprintf(errbuf, errlen, "%s: close: %s", path, strerror(errno));
    rc = -1;
  }
  if (rc != 0 && fd >= 0)
    unlink(path);
  sodium_memzero(buf, sizeof buf);
  sodium_memzero(key, sizeof key);
  return rc;
}

int cn_keyfile_read(const char *path, uint8_t sk[CN_SK_BYTES], const char *passphrase,
                    int *sealed, char *errbuf, size_t errlen)
{
  uint8_t buf[KEYFILE_SEALED_LEN + 1];
  uint8_t key[crypto_secretbox_KEYBYTES];
  ssize_t n;
  int fd, rc = -1;

  if (sealed)
    *sealed = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 9 || memcmp(buf, keyfile_magic, 8) != 0) {
    snprintf(errbuf, errlen, "%s: not a Councilnet key file", path);
    goto out;
  }
  if (buf[8] == KEYFILE_PLAIN && n == KEYFILE_PLAIN_LEN) {
    /* No MAC on a plain file: rebuild the pair from the seed and refuse a
     * public half that does not match (signing with one leaks the key). */
    uint8_t pk[CN_PK_BYTES], check[CN_SK_BYTES];
    crypto_sign_seed_keypair(pk, check, buf + 9);
    if (sodium_memcmp(check, buf + 9, CN_SK_BYTES) != 0) {
      snprintf(errbuf, errlen, "%s: damaged key file", path);
      sodium_memzero(check, sizeof check);
      goto out;
    }
    sodium_memzero(check, sizeof check);
    memcpy(sk, buf + 9, CN_SK_BYTES);
    rc = 0;
  } else if (buf[8] == KEYFILE_SEALED && n == KEYFILE_SEALED_LEN) {
    uint8_t *salt = buf + 9, *nonce = salt + crypto_pwhash_SALTBYTES;
    if (sealed)
      *sealed = 1;
    if (!passphrase) {
      snprintf(errbuf, errlen, "%s: sealed with a passphrase", path);
      goto out;
    }
    if (keyfile_derive(key, passphrase, salt) != 0) {
      snprintf(errbuf, errlen, "Argon2id: out of memory");
      goto out;
    }
    if (crypto_secretbox_open_easy(sk, nonce + crypto_secretbox_NONCEBYTES,
                                   crypto_secretbox_MACBYTES + CN_SK_BYTES, nonce, key) != 0) {
      snprintf(errbuf, errlen, "%s: wrong passphrase", path);
      goto out;
    }
    rc = 0;
  } else {
    snprintf(errbuf, errlen, "%s: damaged key file", path);
  }
out:
  sodium_memzero(buf, sizeof buf);
  sodium_memzero(key, sizeof key);
  return rc;
}
