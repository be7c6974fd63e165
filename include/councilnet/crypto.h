/* crypto.h: Ed25519 signatures with domain separation, BLAKE2b-256, key files.
 *
 * Signatures always cover "councilnet/1/" || kind || "\0" || bytes, so a
 * signature made for one kind never verifies as another. */
#ifndef COUNCILNET_CRYPTO_H
#define COUNCILNET_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CN_PK_BYTES 32
#define CN_SK_BYTES 64
#define CN_SIG_BYTES 64
#define CN_HASH_BYTES 32
#define CN_KIND_MAX 32          /* longest kind name, without the NUL */

/* Initialise libsodium. Return 0, or -1 if it cannot be used. */
int cn_crypto_init(void);

/* OUT = BLAKE2b-256(IN). */
void cn_crypto_hash(uint8_t out[CN_HASH_BYTES], const uint8_t *in, size_t len);

/* Make a new key pair. */
void cn_crypto_keypair(uint8_t pk[CN_PK_BYTES], uint8_t sk[CN_SK_BYTES]);

/* Public half of SK. */
void cn_crypto_sk_to_pk(uint8_t pk[CN_PK_BYTES], const uint8_t sk[CN_SK_BYTES]);

/* Sign the domain-separated message for KIND. Return 0, or -1 if KIND is
 * empty or longer than CN_KIND_MAX. */
int cn_crypto_sign(uint8_t sig[CN_SIG_BYTES], const char *kind,
                   const uint8_t *msg, size_t len, const uint8_t sk[CN_SK_BYTES]);

/* Verify. Return 0 if SIG is a valid signature by PK over the
 * domain-separated message for KIND, -1 otherwise (including small-order
 * keys and non-canonical signatures, which libsodium refuses). */
int cn_crypto_verify(const uint8_t sig[CN_SIG_BYTES], const char *kind,
                     const uint8_t *msg, size_t len, const uint8_t pk[CN_PK_BYTES]);

/* Lower-case hex of IN into OUT (2*N+1 bytes, NUL-terminated). */
void cn_hex_encode(char *out, const uint8_t *in, size_t n);

/* Decode exactly N bytes of hex. Return 0, or -1 if HEX is not 2*N hex digits. */
int cn_hex_decode(uint8_t *out, size_t n, const char *hex);

/* Write SK to PATH with mode 0600 (refuses to overwrite an existing file).
 * With a non-NULL, non-empty PASSPHRASE the key is sealed with a key derived
 * by Argon2id (libsodium crypto_pwhash, interactive limits) and
 * crypto_secretbox. Return 0 or -1 (errno-style message in ERRBUF). */
int cn_keyfile_write(const char *path, const uint8_t sk[CN_SK_BYTES],
                     const char *passphrase, char *errbuf, size_t errlen);

/* Read a key file. If it is sealed and PASSPHRASE is NULL, set *SEALED = 1
 * and return -1, so the caller can ask for one. Return 0 or -1. */
int cn_keyfile_read(const char *path, uint8_t sk[CN_SK_BYTES], const char *passphrase,
                    int *sealed, char *errbuf, size_t errlen);

#endif
