/* test_crypto.c: domain-separated Ed25519, BLAKE2b-256, hex and key files,
 * checked against libsodium called directly and against fixed vectors. */
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
#include "test.h"

/* The group order L, little-endian (RFC 8032). */
static const uint8_t ed25519_l[32] = {
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* Plain Ed25519 over "councilnet/1/" || kind || "\0" || msg, built here
 * independently of crypto.c. */
static int reference_sign(uint8_t sig[CN_SIG_BYTES], const char *kind, const uint8_t *msg,
                          size_t len, const uint8_t sk[CN_SK_BYTES])
{
  size_t klen = strlen(kind), plen = strlen("councilnet/1/");
  uint8_t *buf = malloc(plen + klen + 1 + len + 1);
  int rc;

  if (!buf)
    return -1;
  memcpy(buf, "councilnet/1/", plen);
  memcpy(buf + plen, kind, klen);
  buf[plen + klen] = 0;
  if (len)
    memcpy(buf + plen + klen + 1, msg, len);
  rc = crypto_sign_detached(sig, NULL, buf, plen + klen + 1 + len, sk);
  free(buf);
  return rc;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)(seed >> 16);
  }
}

static void test_keys(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], pk2[CN_PK_BYTES], pk3[CN_PK_BYTES], sk3[CN_SK_BYTES];

  cn_crypto_keypair(pk, sk);
  cn_crypto_sk_to_pk(pk2, sk);
  CHECK(memcmp(pk, pk2, CN_PK_BYTES) == 0);
  /* libsodium's secret key is seed || pk. */
  CHECK(memcmp(sk + 32, pk, CN_PK_BYTES) == 0);
  cn_crypto_keypair(pk3, sk3);
  CHECK(memcmp(pk, pk3, CN_PK_BYTES) != 0);
}

static void test_sign_verify(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], pk2[CN_PK_BYTES], sk2[CN_SK_BYTES];
  uint8_t sig[CN_SIG_BYTES], ref[CN_SIG_BYTES], bad[CN_SIG_BYTES];
  const uint8_t msg[] = "a proposal body";
  size_t len = sizeof msg - 1;
  char kind32[CN_KIND_MAX + 1], kind33[CN_KIND_MAX + 2];

  cn_crypto_keypair(pk, sk);
  cn_crypto_keypair(pk2, sk2);

  REQUIRE(cn_crypto_sign(sig, "ballot", msg, len, sk) == 0);
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, len, pk), 0);

  /* Exactly Ed25519 over the domain-separated bytes. */
  REQUIRE(reference_sign(ref, "ballot", msg, len, sk) == 0);
  CHECK(memcmp(sig, ref, CN_SIG_BYTES) == 0);
  CHECK_EQ_INT(crypto_sign_verify_detached(sig, (const uint8_t *)"councilnet/1/ballot\0a proposal body",
                                           strlen("councilnet/1/ballot") + 1 + len, pk), 0);
  /* Not a signature over the bare message. */
  CHECK(crypto_sign_verify_detached(sig, msg, len, pk) != 0);

  /* Domain separation: the same bytes under another kind do not verify, nor
   * under a kind that is a prefix or an extension of it. */
  CHECK_EQ_INT(cn_crypto_verify(sig, "proposal", msg, len, pk), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballo", msg, len, pk), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballots", msg, len, pk), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, "paper_ballot", msg, len, pk), -1);
  /* The NUL separator: kind "ballot" with message M is not kind "ballotX"
   * with M minus its first byte, nor kind "ballot" with a shifted message. */
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg + 1, len - 1, pk), -1);
  {
    uint8_t ref2[CN_SIG_BYTES];
    REQUIRE(reference_sign(ref2, "ballota", msg + 1, len - 1, sk) == 0);
    CHECK(memcmp(ref2, sig, CN_SIG_BYTES) != 0);
  }

  /* Wrong key, wrong message. */
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, len, pk2), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, len - 1, pk), -1);
  {
    uint8_t m2[sizeof msg];
    memcpy(m2, msg, sizeof msg);
    m2[3] ^= 1;
    CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", m2, len, pk), -1);
  }

  /* Every bit of the signature matters. */
  {
    int accepted = 0;
    for (int i = 0; i < CN_SIG_BYTES; i++) {
      for (int bit = 0; bit < 8; bit++) {
        memcpy(bad, sig, CN_SIG_BYTES);
        bad[i] ^= (uint8_t)(1u << bit);
        if (cn_crypto_verify(bad, "ballot", msg, len, pk) == 0)
          accepted++;
      }
      memcpy(bad, sig, CN_SIG_BYTES);
      bad[i] ^= 0xff;
      if (cn_crypto_verify(bad, "ballot", msg, len, pk) == 0)
        accepted++;
    }
    CHECK_EQ_INT(accepted, 0);
  }
  /* Every bit of the public key matters. */
  {
    int accepted = 0;
    uint8_t badpk[CN_PK_BYTES];
    for (int i = 0; i < CN_PK_BYTES; i++) {
      memcpy(badpk, pk, CN_PK_BYTES);
      badpk[i] ^= 0x01;
      if (cn_crypto_verify(sig, "ballot", msg, len, badpk) == 0)
        accepted++;
    }
    CHECK_EQ_INT(accepted, 0);
  }

  /* Kind limits: empty, NULL, 32 accepted, 33 refused. */
  CHECK_EQ_INT(cn_crypto_sign(bad, "", msg, len, sk), -1);
  CHECK_EQ_INT(cn_crypto_sign(bad, NULL, msg, len, sk), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, "", msg, len, pk), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, NULL, msg, len, pk), -1);
  memset(kind32, 'k', CN_KIND_MAX);
  kind32[CN_KIND_MAX] = 0;
  memset(kind33, 'k', CN_KIND_MAX + 1);
  kind33[CN_KIND_MAX + 1] = 0;
  REQUIRE(cn_crypto_sign(bad, kind32, msg, len, sk) == 0);
  CHECK_EQ_INT(cn_crypto_verify(bad, kind32, msg, len, pk), 0);
  REQUIRE(reference_sign(ref, kind32, msg, len, sk) == 0);
  CHECK(memcmp(bad, ref, CN_SIG_BYTES) == 0);
  CHECK_EQ_INT(cn_crypto_sign(bad, kind33, msg, len, sk), -1);
  /* A valid signature over the 33-char domain is still refused. */
  REQUIRE(reference_sign(ref, kind33, msg, len, sk) == 0);
  CHECK_EQ_INT(cn_crypto_verify(ref, kind33, msg, len, pk), -1);

  /* Empty message, NULL pointer allowed with length 0. */
  REQUIRE(cn_crypto_sign(sig, "head", NULL, 0, sk) == 0);
  REQUIRE(reference_sign(ref, "head", NULL, 0, sk) == 0);
  CHECK(memcmp(sig, ref, CN_SIG_BYTES) == 0);
  CHECK_EQ_INT(cn_crypto_verify(sig, "head", NULL, 0, pk), 0);
  CHECK_EQ_INT(cn_crypto_verify(sig, "head", (const uint8_t *)"", 0, pk), 0);
  CHECK_EQ_INT(cn_crypto_verify(sig, "head", (const uint8_t *)"x", 1, pk), -1);
done:
  return;
}

/* Messages around the 2048-byte stack buffer and well beyond it. */
static void test_large(void)
{
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], sig[CN_SIG_BYTES], ref[CN_SIG_BYTES];
  /* domain for "ballot": 13 + 6 + 1 = 20 bytes; 2028 fills the stack buffer. */
  static const size_t sizes[] = { 2027, 2028, 2029, 2048, 4096, 100000, 1u << 20 };
  uint8_t *msg = malloc(1u << 20);

  REQUIRE(msg);
  fill(msg, 1u << 20, 7);
  cn_crypto_keypair(pk, sk);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    REQUIRE(cn_crypto_sign(sig, "ballot", msg, n, sk) == 0);
    REQUIRE(reference_sign(ref, "ballot", msg, n, sk) == 0);
    CHECK(memcmp(sig, ref, CN_SIG_BYTES) == 0);
    CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, n, pk), 0);
    CHECK_EQ_INT(cn_crypto_verify(sig, "proposal", msg, n, pk), -1);
    CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, n - 1, pk), -1);
    msg[n - 1] ^= 0x40;
    CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, n, pk), -1);
    msg[n - 1] ^= 0x40;
  }
done:
  free(msg);
}

/* Small-order public keys and non-canonical S are refused, although a lax
 * verifier would accept them. */
static void test_weak(void)
{
  static const uint8_t basepoint[32] = {
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
  };
  uint8_t one[32] = { 1 }, b[32];
  uint8_t identity[CN_PK_BYTES] = { 1 }, zero[CN_PK_BYTES] = { 0 };
  uint8_t sig[CN_SIG_BYTES], pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  const uint8_t msg[] = "anything";

  /* Sanity of the constants: [1]B is the base point. */
  REQUIRE(crypto_scalarmult_ed25519_base_noclamp(b, one) == 0);
  CHECK(memcmp(b, basepoint, 32) == 0);

  /* With A = identity, (R = B, S = 1) satisfies [S]B = R + [k]A for every
   * message: the classic forgery against a verifier without the small-order
   * check. */
  memcpy(sig, basepoint, 32);
  memcpy(sig + 32, one, 32);
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, sizeof msg - 1, identity), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, "decision", msg, sizeof msg - 1, identity), -1);
  CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, sizeof msg - 1, zero), -1);
  /* All-zero signature with the identity key ([0]B = identity = R + [k]O). */
  {
    uint8_t zsig[CN_SIG_BYTES] = { 1 };   /* R = identity encoding, S = 0 */
    CHECK_EQ_INT(cn_crypto_verify(zsig, "ballot", msg, sizeof msg - 1, identity), -1);
    memset(zsig, 0, sizeof zsig);
    CHECK_EQ_INT(cn_crypto_verify(zsig, "ballot", msg, sizeof msg - 1, zero), -1);
  }
  /* Other small-order encodings (order 2: y = -1; order 4 with x sign set). */
  {
    uint8_t minus_one[CN_PK_BYTES];
    memset(minus_one, 0xff, sizeof minus_one);
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, sizeof msg - 1, minus_one), -1);
    zero[31] = 0x80;
    CHECK_EQ_INT(cn_crypto_verify(sig, "ballot", msg, sizeof msg - 1, zero), -1);
  }

  /* Non-canonical S: S + L gives the same [S]B but must be refused. */
  cn_crypto_keypair(pk, sk);
  REQUIRE(cn_crypto_sign(sig, "ballot", msg, sizeof msg - 1, sk) == 0);
  REQUIRE(cn_crypto_verify(sig, "ballot", msg, sizeof msg - 1, pk) == 0);
  {
    uint8_t mal[CN_SIG_BYTES];
    unsigned carry = 0;
    memcpy(mal, sig, CN_SIG_BYTES);
    for (int i = 0; i < 32; i++) {
      unsigned t = (unsigned)mal[32 + i] + ed25519_l[i] + carry;
      mal[32 + i] = (uint8_t)t;
      carry = t >> 8;
    }
    CHECK_EQ_INT(carry, 0);   /* S < L < 2^253, so S + L fits in 256 bits */
    CHECK(memcmp(mal, sig, CN_SIG_BYTES) != 0);
    CHECK_EQ_INT(cn_crypto_verify(mal, "ballot", msg, sizeof msg - 1, pk), -1);
    /* S with the top bits set is refused too. */
    memcpy(mal, sig, CN_SIG_BYTES);
    mal[63] |= 0xe0;
    CHECK_EQ_INT(cn_crypto_verify(mal, "ballot", msg, sizeof msg - 1, pk), -1);
  }
done:
  return;
}

static void test_hash(void)
{
  uint8_t h[CN_HASH_BYTES], ref[CN_HASH_BYTES], *big = NULL;
  char hex[2 * CN_HASH_BYTES + 1];

  cn_crypto_hash(h, (const uint8_t *)"", 0);
  cn_hex_encode(hex, h, CN_HASH_BYTES);
  CHECK_STR(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  cn_crypto_hash(h, NULL, 0);
  cn_hex_encode(hex, h, CN_HASH_BYTES);
  CHECK_STR(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  cn_crypto_hash(h, (const uint8_t *)"abc", 3);
  cn_hex_encode(hex, h, CN_HASH_BYTES);
  CHECK_STR(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");

  big = malloc(70000);
  REQUIRE(big);
  fill(big, 70000, 99);
  cn_crypto_hash(h, big, 70000);
  crypto_generichash(ref, sizeof ref, big, 70000, NULL, 0);
  CHECK(memcmp(h, ref, CN_HASH_BYTES) == 0);
  /* Not BLAKE2b-512 truncated. */
  {
    uint8_t full[64];
    crypto_generichash(full, sizeof full, big, 70000, NULL, 0);
    CHECK(memcmp(h, full, CN_HASH_BYTES) != 0);
  }
  big[69999] ^= 1;
  cn_crypto_hash(ref, big, 70000);
  CHECK(memcmp(h, ref, CN_HASH_BYTES) != 0);
done:
  free(big);
}

static void test_hex(void)
{
  const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff };
  uint8_t out[8], four[4];
  char hex[2 * sizeof in + 1];

  memset(hex, 'x', sizeof hex);
  cn_hex_encode(hex, in, sizeof in);
  CHECK_STR(hex, "00017f80abcdefff");
  CHECK_EQ_INT(strlen(hex), 16);
  cn_hex_encode(hex, in, 0);
  CHECK_STR(hex, "");

  memset(out, 0x55, sizeof out);
  CHECK_EQ_INT(cn_hex_decode(out, sizeof out, "00017f80abcdefff"), 0);
  CHECK(memcmp(out, in, sizeof in) == 0);
  memset(out, 0x55, sizeof out);
  CHECK_EQ_INT(cn_hex_decode(out, sizeof out, "00017F80ABCDEFFF"), 0);
  CHECK(memcmp(out, in, sizeof in) == 0);
  CHECK_EQ_INT(cn_hex_decode(out, sizeof out, "00017F80abCDefFf"), 0);
  CHECK(memcmp(out, in, sizeof in) == 0);
  CHECK_EQ_INT(cn_hex_decode(out, 0, ""), 0);

  /* Wrong length, odd length, non-hex digits, NULL. */
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0001020"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "000102030"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0001020304"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, ""), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, NULL), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0001020g"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "g0010203"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0x010203"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, " 0010203"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "000102-3"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0001020:"), -1);   /* ':' follows '9' */
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0001020@"), -1);   /* '@' precedes 'A' */
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0001020G"), -1);
  CHECK_EQ_INT(cn_hex_decode(four, 4, "0001020`"), -1);   /* '`' precedes 'a' */
  {
    char s[9] = "00010203";
    s[7] = (char)0xb3;   /* high-bit byte */
    CHECK_EQ_INT(cn_hex_decode(four, 4, s), -1);
  }

  /* Round trip of every byte value. */
  {
    uint8_t all[256], back[256];
    char h[513];
    for (int i = 0; i < 256; i++)
      all[i] = (uint8_t)i;
    cn_hex_encode(h, all, 256);
    CHECK_EQ_INT(strlen(h), 512);
    CHECK_EQ_INT(cn_hex_decode(back, 256, h), 0);
    CHECK(memcmp(all, back, 256) == 0);
  }
}

static long file_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int file_read(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  *len = fread(buf, 1, cap, f);
  fclose(f);
  return 0;
}

static int file_write(const char *path, const uint8_t *buf, size_t len)
{
  FILE *f;
  unlink(path);
  f = fopen(path, "wb");
  if (!f)
    return -1;
  if (len && fwrite(buf, 1, len, f) != len) {
    fclose(f);
    return -1;
  }
  return fclose(f) == 0 ? 0 : -1;
}

static void test_keyfile(void)
{
  char dir[] = "/tmp/cn-crypto-XXXXXX";
  char plain[64] = "", sealed[64] = "", emptypw[64] = "", damaged[64] = "", missing[64] = "";
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], got[CN_SK_BYTES];
  uint8_t raw[256], raw2[256];
  size_t rawlen = 0, raw2len = 0;
  char err[512];
  int is_sealed;
  struct stat st;

  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(plain, sizeof plain, "%s/plain.key", dir);
  snprintf(sealed, sizeof sealed, "%s/sealed.key", dir);
  snprintf(emptypw, sizeof emptypw, "%s/emptypw.key", dir);
  snprintf(damaged, sizeof damaged, "%s/damaged.key", dir);
  snprintf(missing, sizeof missing, "%s/missing.key", dir);
  cn_crypto_keypair(pk, sk);

  /* Plain. */
  err[0] = 0;
  REQUIRE(cn_keyfile_write(plain, sk, NULL, err, sizeof err) == 0);
  CHECK_EQ_INT(file_size(plain), 8 + 1 + CN_SK_BYTES);
  REQUIRE(stat(plain, &st) == 0);
  CHECK_EQ_INT(st.st_mode & 0777, 0600);
  REQUIRE(file_read(plain, raw, sizeof raw, &rawlen) == 0);
  CHECK(memcmp(raw, "CNKEY001", 8) == 0);
  CHECK_EQ_INT(raw[8], 0);
  CHECK(memcmp(raw + 9, sk, CN_SK_BYTES) == 0);
  memset(got, 0, sizeof got);
  is_sealed = -1;
  CHECK_EQ_INT(cn_keyfile_read(plain, got, NULL, &is_sealed, err, sizeof err), 0);
  CHECK_EQ_INT(is_sealed, 0);
  CHECK(memcmp(got, sk, CN_SK_BYTES) == 0);
  /* A passphrase is ignored for a plain file; SEALED may be NULL. */
  memset(got, 0, sizeof got);
  CHECK_EQ_INT(cn_keyfile_read(plain, got, "whatever", NULL, err, sizeof err), 0);
  CHECK(memcmp(got, sk, CN_SK_BYTES) == 0);

  /* Refuses to overwrite, and leaves the existing file intact. */
  {
    uint8_t pk2[CN_PK_BYTES], sk2[CN_SK_BYTES];
    cn_crypto_keypair(pk2, sk2);
    err[0] = 0;
    CHECK_EQ_INT(cn_keyfile_write(plain, sk2, NULL, err, sizeof err), -1);
    CHECK(strstr(err, plain) != NULL);
    CHECK(strstr(err, strerror(EEXIST)) != NULL);
    CHECK_EQ_INT(cn_keyfile_write(plain, sk2, "pw", err, sizeof err), -1);
    memset(got, 0, sizeof got);
    CHECK_EQ_INT(cn_keyfile_read(plain, got, NULL, NULL, err, sizeof err), 0);
    CHECK(memcmp(got, sk, CN_SK_BYTES) == 0);
  }

  /* An empty passphrase writes a plain file. */
  REQUIRE(cn_keyfile_write(emptypw, sk, "", err, sizeof err) == 0);
  CHECK_EQ_INT(file_size(emptypw), 8 + 1 + CN_SK_BYTES);

  /* Sealed with Argon2id + secretbox. */
  REQUIRE(cn_keyfile_write(sealed, sk, "correct horse", err, sizeof err) == 0);
  CHECK_EQ_INT(file_size(sealed), 8 + 1 + 16 + 24 + 16 + CN_SK_BYTES);
  REQUIRE(stat(sealed, &st) == 0);
  CHECK_EQ_INT(st.st_mode & 0777, 0600);
  REQUIRE(file_read(sealed, raw, sizeof raw, &rawlen) == 0);
  REQUIRE(rawlen == 129);
  CHECK(memcmp(raw, "CNKEY001", 8) == 0);
  CHECK_EQ_INT(raw[8], 1);
  /* The secret key does not appear in clear anywhere in the file. */
  {
    int found = 0;
    for (size_t i = 0; i + 32 <= rawlen; i++)
      if (memcmp(raw + i, sk, 32) == 0 || memcmp(raw + i, sk + 32, 32) == 0)
        found = 1;
    CHECK_EQ_INT(found, 0);
  }
  /* Independent decryption: Argon2id(interactive) over the salt, then secretbox. */
  {
    uint8_t key[crypto_secretbox_KEYBYTES], dec[CN_SK_BYTES];
    REQUIRE(crypto_pwhash(key, sizeof key, "correct horse", strlen("correct horse"), raw + 9,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                          crypto_pwhash_ALG_ARGON2ID13) == 0);
    CHECK_EQ_INT(crypto_secretbox_open_easy(dec, raw + 9 + 16 + 24, 16 + CN_SK_BYTES,
                                            raw + 9 + 16, key), 0);
    CHECK(memcmp(dec, sk, CN_SK_BYTES) == 0);
  }
  memset(got, 0, sizeof got);
  is_sealed = -1;
  CHECK_EQ_INT(cn_keyfile_read(sealed, got, "correct horse", &is_sealed, err, sizeof err), 0);
  CHECK(memcmp(got, sk, CN_SK_BYTES) == 0);
  CHECK_EQ_INT(is_sealed, 1);

  /* No passphrase: *sealed = 1, -1, key untouched. */
  memset(got, 0xaa, sizeof got);
  is_sealed = 0;
  err[0] = 0;
  CHECK_EQ_INT(cn_keyfile_read(sealed, got, NULL, &is_sealed, err, sizeof err), -1);
  CHECK_EQ_INT(is_sealed, 1);
  CHECK(strstr(err, "sealed") != NULL);
  {
    uint8_t aa[CN_SK_BYTES];
    memset(aa, 0xaa, sizeof aa);
    CHECK(memcmp(got, aa, CN_SK_BYTES) == 0);
  }

  /* Wrong passphrase. */
  err[0] = 0;
  CHECK_EQ_INT(cn_keyfile_read(sealed, got, "correct horsf", &is_sealed, err, sizeof err), -1);
  CHECK(strstr(err, "wrong passphrase") != NULL);
  CHECK_EQ_INT(cn_keyfile_read(sealed, got, "", &is_sealed, err, sizeof err), -1);

  /* Two sealings of the same key differ (fresh salt and nonce). */
  {
    char again[80];
    snprintf(again, sizeof again, "%s/again.key", dir);
    REQUIRE(cn_keyfile_write(again, sk, "correct horse", err, sizeof err) == 0);
    REQUIRE(file_read(again, raw2, sizeof raw2, &raw2len) == 0);
    CHECK_EQ_INT(raw2len, rawlen);
    CHECK(memcmp(raw + 9, raw2 + 9, 16) != 0);        /* salt */
    CHECK(memcmp(raw + 25, raw2 + 25, 24) != 0);      /* nonce */
    unlink(again);
  }

  /* Damaged sealed file: flip one ciphertext byte. */
  memcpy(raw2, raw, rawlen);
  raw2[rawlen - 1] ^= 0x01;
  REQUIRE(file_write(damaged, raw2, rawlen) == 0);
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, "correct horse", &is_sealed, err, sizeof err), -1);
  /* The unaltered bytes, written the same way, read fine (the control). */
  REQUIRE(file_write(damaged, raw, rawlen) == 0);
  memset(got, 0, sizeof got);
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, "correct horse", &is_sealed, err, sizeof err), 0);
  CHECK(memcmp(got, sk, CN_SK_BYTES) == 0);
  /* One flipped bit anywhere in the MAC or ciphertext (bytes 49..128), or
   * in the nonce, fails with the right passphrase. */
  {
    static const size_t at[] = { 9 + 16 + 24, 9 + 16 + 24 + 15, 9 + 16 + 24 + 16,
                                 9 + 16 + 24 + 16 + 31, 9 + 16 + 24 + 16 + 32, 9 + 16 + 3 };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
      memcpy(raw2, raw, rawlen);
      raw2[at[i]] ^= (uint8_t)(1u << (i % 8));
      REQUIRE(file_write(damaged, raw2, rawlen) == 0);
      err[0] = 0;
      is_sealed = 0;
      CHECK_EQ_INT(cn_keyfile_read(damaged, got, "correct horse", &is_sealed, err, sizeof err), -1);
      CHECK_EQ_INT(is_sealed, 1);
      CHECK(err[0] != 0);
    }
  }
  /* Damaged salt: the derived key differs, the MAC fails. */
  memcpy(raw2, raw, rawlen);
  raw2[9] ^= 0x80;
  REQUIRE(file_write(damaged, raw2, rawlen) == 0);
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, "correct horse", &is_sealed, err, sizeof err), -1);

  /* Truncated sealed file (any length short of the full size). */
  {
    static const size_t cuts[] = { 0, 1, 8, 9, 40, 73, 128 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
      REQUIRE(file_write(damaged, raw, cuts[i]) == 0);
      memset(got, 0, sizeof got);
      err[0] = 0;
      CHECK_EQ_INT(cn_keyfile_read(damaged, got, "correct horse", &is_sealed, err, sizeof err), -1);
      CHECK(err[0] != 0);
    }
  }
  /* Sealed file with a trailing byte. */
  memcpy(raw2, raw, rawlen);
  raw2[rawlen] = 0;
  REQUIRE(file_write(damaged, raw2, rawlen + 1) == 0);
  err[0] = 0;
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, "correct horse", &is_sealed, err, sizeof err), -1);
  CHECK(strstr(err, "damaged") != NULL);

  /* Plain file: truncated, extended, bad magic, unknown format. */
  REQUIRE(file_read(plain, raw, sizeof raw, &rawlen) == 0);
  REQUIRE(rawlen == 73);
  REQUIRE(file_write(damaged, raw, 72) == 0);
  err[0] = 0;
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), -1);
  CHECK(strstr(err, "damaged") != NULL);
  CHECK_EQ_INT(is_sealed, 0);
  memcpy(raw2, raw, 73);
  raw2[73] = '\n';
  REQUIRE(file_write(damaged, raw2, 74) == 0);
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), -1);
  memcpy(raw2, raw, 73);
  raw2[7] = '2';
  REQUIRE(file_write(damaged, raw2, 73) == 0);
  err[0] = 0;
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), -1);
  CHECK(strstr(err, "not a Councilnet key file") != NULL);
  memcpy(raw2, raw, 73);
  raw2[8] = 2;
  REQUIRE(file_write(damaged, raw2, 73) == 0);
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), -1);
  /* A plain-length file that claims to be sealed. */
  memcpy(raw2, raw, 73);
  raw2[8] = 1;
  REQUIRE(file_write(damaged, raw2, 73) == 0);
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, "pw", &is_sealed, err, sizeof err), -1);
  /* Hex text instead of a binary key file. */
  {
    char hex[2 * CN_SK_BYTES + 1];
    cn_hex_encode(hex, sk, CN_SK_BYTES);
    REQUIRE(file_write(damaged, (const uint8_t *)hex, strlen(hex)) == 0);
    CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), -1);
  }

  /* Plain file whose stored public half (bytes 41..72) does not match the
   * one derived from the seed: refused, whichever bit is flipped, while the
   * unaltered file reads fine. */
  REQUIRE(file_read(plain, raw, sizeof raw, &rawlen) == 0);
  REQUIRE(rawlen == 73);
  CHECK(memcmp(raw + 9 + 32, pk, CN_PK_BYTES) == 0);
  REQUIRE(file_write(damaged, raw, rawlen) == 0);
  memset(got, 0, sizeof got);
  is_sealed = -1;
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), 0);
  CHECK_EQ_INT(is_sealed, 0);
  CHECK(memcmp(got, sk, CN_SK_BYTES) == 0);
  {
    int accepted = 0, no_reason = 0;
    for (int i = 9 + 32; i < 9 + 64; i++) {
      for (int bit = 0; bit < 8; bit++) {
        memcpy(raw2, raw, rawlen);
        raw2[i] ^= (uint8_t)(1u << bit);
        REQUIRE(file_write(damaged, raw2, rawlen) == 0);
        err[0] = 0;
        if (cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err) != -1)
          accepted++;
        else if (!strstr(err, "damaged"))
          no_reason++;
      }
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(no_reason, 0);
  }
  /* Flipped bits in the seed half leave a stale public half: refused too. */
  {
    static const int at[] = { 9, 9 + 7, 9 + 31 };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
      memcpy(raw2, raw, rawlen);
      raw2[at[i]] ^= 0x10;
      REQUIRE(file_write(damaged, raw2, rawlen) == 0);
      CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), -1);
    }
  }
  /* Another key's valid public half after this seed: refused. */
  {
    uint8_t pk2[CN_PK_BYTES], sk2[CN_SK_BYTES];
    cn_crypto_keypair(pk2, sk2);
    memcpy(raw2, raw, rawlen);
    memcpy(raw2 + 9 + 32, pk2, CN_PK_BYTES);
    REQUIRE(file_write(damaged, raw2, rawlen) == 0);
    CHECK_EQ_INT(cn_keyfile_read(damaged, got, NULL, &is_sealed, err, sizeof err), -1);
  }
  /* Passing a passphrase does not get a plain file with a bad half accepted. */
  memcpy(raw2, raw, rawlen);
  raw2[rawlen - 1] ^= 0x01;
  REQUIRE(file_write(damaged, raw2, rawlen) == 0);
  CHECK_EQ_INT(cn_keyfile_read(damaged, got, "pw", &is_sealed, err, sizeof err), -1);

  /* Missing file. */
  err[0] = 0;
  CHECK_EQ_INT(cn_keyfile_read(missing, got, NULL, &is_sealed, err, sizeof err), -1);
  CHECK(strstr(err, strerror(ENOENT)) != NULL);
  /* Unwritable location. */
  {
    char nodir[96];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir.key", dir);
    CHECK_EQ_INT(cn_keyfile_write(nodir, sk, NULL, err, sizeof err), -1);
  }
done:
  if (plain[0]) {
    unlink(plain);
    unlink(sealed);
    unlink(emptypw);
    unlink(damaged);
    rmdir(dir);
  }
}

int main(void)
{
  if (cn_crypto_init() != 0) {
    fprintf(stderr, "cn_crypto_init failed\n");
    return 1;
  }
  test_keys();
  test_sign_verify();
  test_large();
  test_weak();
  test_hash();
  test_hex();
  test_keyfile();
  return test_finish("test_crypto");
}
