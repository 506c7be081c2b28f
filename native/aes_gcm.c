/*
 * AES-256-GCM into caller-provided memory, for src/crypto/object-cipher.ts.
 *
 * Why this exists: node's Cipher/Decipher API returns every update in a newly allocated,
 * zero-filled buffer that is then shrunk by a second allocation and a copy; on 1 MiB object
 * reads that bookkeeping costs as much CPU as the cipher itself (perf: ~41% of the time in
 * OpenSSL's AES-GCM, the rest in memset/memmove/page faults). These two functions run the same
 * OpenSSL AES-GCM that node's crypto module uses (this file is compiled against node's own
 * headers and links to the OpenSSL symbols node exports, no other library) but write the output
 * where the caller says, in place if asked.
 *
 * The chunk format (nonces, AAD, tags) stays in object-cipher.ts; this file only knows
 * "encrypt these bytes under this key, nonce and AAD" and its inverse. Every argument is
 * checked here as well as in JS: a wrong call throws, it never reads or writes out of bounds.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16
/* EVP takes int lengths; object chunks are 64 KiB, so a far lower bound costs nothing. */
#define MAX_DATA (1u << 30)
#define MAX_AAD 1024

typedef struct {
  EVP_CIPHER *cipher; /* fetched once: an implicit fetch per call costs a lock and a lookup */
  EVP_CIPHER_CTX *ctx; /* one per JS thread; calls are synchronous, so never shared */
} state_t;

typedef struct {
  uint8_t *p;
  size_t n;
} bytes_t;

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_range_error(env, code, message);
  return NULL;
}

static int get_bytes(napi_env env, napi_value v, bytes_t *out) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  static uint8_t empty[1];
  out->p = length == 0 || data == NULL ? empty : (uint8_t *)data;
  out->n = data == NULL ? 0 : length;
  return 1;
}

static int overlaps(const bytes_t *a, const bytes_t *b) {
  if (a->n == 0 || b->n == 0) return 0;
  uintptr_t a0 = (uintptr_t)a->p, b0 = (uintptr_t)b->p;
  return a0 < b0 + b->n && b0 < a0 + a->n;
}

/*
 * Common argument checks of seal(key, nonce, aad, input, output, tag) and
 * open(key, nonce, aad, input, output, tag). Returns 0 after throwing.
 */
static int get_args(napi_env env, napi_callback_info info, state_t **st, bytes_t b[6]) {
  size_t argc = 6;
  napi_value argv[6];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (napi_get_instance_data(env, &data) != napi_ok || data == NULL) {
    fail(env, "ERR_XREGION_AES_GCM", "aes_gcm: module not initialised");
    return 0;
  }
  *st = (state_t *)data;
  if (argc != 6) {
    fail(env, "ERR_INVALID_ARG_VALUE", "aes_gcm: expected (key, nonce, aad, input, output, tag)");
    return 0;
  }
  for (int i = 0; i < 6; i++) {
    if (!get_bytes(env, argv[i], &b[i])) {
      fail(env, "ERR_INVALID_ARG_TYPE", "aes_gcm: every argument must be a Uint8Array");
      return 0;
    }
  }
  const bytes_t *key = &b[0], *nonce = &b[1], *aad = &b[2], *in = &b[3], *out = &b[4], *tag = &b[5];
  if (key->n != KEY_BYTES || nonce->n != NONCE_BYTES || tag->n != TAG_BYTES) {
    fail(env, "ERR_INVALID_ARG_VALUE", "aes_gcm: key must be 32 bytes, nonce 12, tag 16");
    return 0;
  }
  if (aad->n > MAX_AAD || in->n > MAX_DATA || out->n != in->n) {
    fail(env, "ERR_INVALID_ARG_VALUE", "aes_gcm: output must be as long as input (at most 1 GiB), aad at most 1 KiB");
    return 0;
  }
  /* In place (the same bytes) is allowed; a partial overlap would read what was just written. */
  if ((in->p != out->p && overlaps(in, out)) || overlaps(tag, out) || overlaps(tag, in)) {
    fail(env, "ERR_INVALID_ARG_VALUE", "aes_gcm: input and output must be the same bytes or apart, the tag apart from both");
    return 0;
  }
  return 1;
}

static int run(state_t *st, int enc, bytes_t b[6]) {
  const bytes_t *key = &b[0], *nonce = &b[1], *aad = &b[2], *in = &b[3], *out = &b[4], *tag = &b[5];
  int len = 0;
  /* The default GCM IV length is 12 bytes, the nonce length here. */
  if (EVP_CipherInit_ex(st->ctx, st->cipher, NULL, key->p, nonce->p, enc) != 1) return -1;
  if (aad->n > 0 && EVP_CipherUpdate(st->ctx, NULL, &len, aad->p, (int)aad->n) != 1) return -1;
  if (in->n > 0 && EVP_CipherUpdate(st->ctx, out->p, &len, in->p, (int)in->n) != 1) return -1;
  if (!enc) {
    /* A copy: OpenSSL keeps its own, and the tag's memory is the caller's. */
    uint8_t expected[TAG_BYTES];
    memcpy(expected, tag->p, TAG_BYTES);
    if (EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, expected) != 1) return -1;
  }
  uint8_t rest[16];
  /* GCM is a stream mode: final emits no bytes; it computes (seal) or checks (open) the tag. */
  if (EVP_CipherFinal_ex(st->ctx, rest, &len) != 1) return enc ? -1 : 0;
  if (enc && EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag->p) != 1) return -1;
  return 1;
}

/* seal(key, nonce, aad, plaintext, ciphertextOut, tagOut): undefined */
static napi_value seal(napi_env env, napi_callback_info info) {
  state_t *st;
  bytes_t b[6];
  if (!get_args(env, info, &st, b)) return NULL;
  if (run(st, 1, b) != 1) {
    OPENSSL_cleanse(b[4].p, b[4].n);
    ERR_clear_error();
    return fail(env, "ERR_XREGION_AES_GCM", "aes_gcm: OpenSSL refused to encrypt");
  }
  return NULL;
}

/*
 * open(key, nonce, aad, ciphertext, plaintextOut, tag): boolean. false when the tag does not
 * authenticate; the output is then wiped, so unauthenticated plaintext is never left behind,
 * not even in place.
 */
static napi_value open_(napi_env env, napi_callback_info info) {
  state_t *st;
  bytes_t b[6];
  if (!get_args(env, info, &st, b)) return NULL;
  int r = run(st, 0, b);
  if (r != 1) {
    OPENSSL_cleanse(b[4].p, b[4].n);
    /* This thread's OpenSSL error queue is shared with node's crypto: leave nothing in it. */
    ERR_clear_error();
  }
  if (r < 0) return fail(env, "ERR_XREGION_AES_GCM", "aes_gcm: OpenSSL refused to decrypt");
  napi_value result;
  napi_get_boolean(env, r == 1, &result);
  return result;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *st = (state_t *)data;
  EVP_CIPHER_CTX_free(st->ctx);
  EVP_CIPHER_free(st->cipher);
  free(st);
}

NAPI_MODULE_INIT() {
  state_t *st = calloc(1, sizeof(state_t));
  if (st == NULL) return NULL;
  st->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  st->ctx = EVP_CIPHER_CTX_new();
  if (st->cipher == NULL || st->ctx == NULL || napi_set_instance_data(env, st, finalize, NULL) != napi_ok) {
    EVP_CIPHER_CTX_free(st->ctx);
    EVP_CIPHER_free(st->cipher);
    free(st);
    napi_throw_error(env, "ERR_XREGION_AES_GCM", "aes_gcm: OpenSSL has no AES-256-GCM");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"seal", NULL, seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, open_, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 2, props) != napi_ok) return NULL;
  return exports;
}
