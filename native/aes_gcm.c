/*
 * AES-256-GCM into caller-provided memory, for src/crypto/object-cipher.ts.
 *
 * Why this exists: node's Cipher/Decipher API returns every update in a newly allocated,
 * zero-filled buffer that is then shrunk by a second allocation and a copy; on 1 MiB object
 * reads that bookkeeping costs as much CPU as the cipher itself (perf: ~41% of the time in
 * OpenSSL's AES-GCM, the rest in memset/memmove/page faults). seal and open run the same
 * OpenSSL AES-GCM that node's crypto module uses (this file is compiled against node's own
 * headers and links to the OpenSSL symbols node exports, no other library) but write the output
 * where the caller says, in place if asked.
 *
 * seal and open only know "encrypt these bytes under this key, nonce and AAD" and its inverse;
 * readOpen (reading and opening whole chunks of a file in one thread-pool job) also knows
 * object-cipher.ts's chunk format, described there and pinned by the unit tests. Every argument
 * is checked here as well as in JS: a wrong call throws, it never reads or writes out of bounds.
 */
/* pread, under -std=c11. */
#define _XOPEN_SOURCE 700
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * One GCM seal (enc) or open of b = key, nonce, aad, in, out, tag: 1 done, 0 the tag did not
 * authenticate, -1 OpenSSL failed.
 */
static int run(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, int enc, const bytes_t b[6]) {
  const bytes_t *key = &b[0], *nonce = &b[1], *aad = &b[2], *in = &b[3], *out = &b[4], *tag = &b[5];
  int len = 0;
  /* The default GCM IV length is 12 bytes, the nonce length here. */
  if (EVP_CipherInit_ex(ctx, cipher, NULL, key->p, nonce->p, enc) != 1) return -1;
  if (aad->n > 0 && EVP_CipherUpdate(ctx, NULL, &len, aad->p, (int)aad->n) != 1) return -1;
  if (in->n > 0 && EVP_CipherUpdate(ctx, out->p, &len, in->p, (int)in->n) != 1) return -1;
  if (!enc) {
    /* A copy: OpenSSL keeps its own, and the tag's memory is the caller's. */
    uint8_t expected[TAG_BYTES];
    memcpy(expected, tag->p, TAG_BYTES);
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, expected) != 1) return -1;
  }
  uint8_t rest[16];
  /* GCM is a stream mode: final emits no bytes; it computes (seal) or checks (open) the tag. */
  if (EVP_CipherFinal_ex(ctx, rest, &len) != 1) return enc ? -1 : 0;
  if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag->p) != 1) return -1;
  return 1;
}

/* seal(key, nonce, aad, plaintext, ciphertextOut, tagOut): undefined */
static napi_value seal(napi_env env, napi_callback_info info) {
  state_t *st;
  bytes_t b[6];
  if (!get_args(env, info, &st, b)) return NULL;
  if (run(st->ctx, st->cipher, 1, b) != 1) {
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
  int r = run(st->ctx, st->cipher, 0, b);
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

/*
 * readOpen(fd, position, length, buf, key, first, finalIndex, callback): reads `length` bytes
 * of sealed chunks at `position` of the file into `buf` and opens them there, in one job of
 * libuv's thread pool; callback(error, plainLength) with the plaintext at the start of `buf`.
 *
 * Why one job: an encrypted 1 MiB GET used to read on the thread pool, send the buffer to a
 * cipher thread and back, and only then write it. Opening the chunks on the thread that read
 * them, while they are still in its core's cache, saves the two thread hand-offs and a pass
 * over memory from another core.
 *
 * The chunk format is object-cipher.ts's: chunk i's nonce is 4 zero bytes then i as uint64 BE,
 * its AAD i as uint64 BE then 1 if it is the stream's last chunk (index finalIndex) else 0;
 * every chunk but the last holds CHUNK_PLAIN bytes, each followed by its 16-byte tag. A run
 * that does not end on a chunk boundary, or a file that ends early, is an error, and so is a
 * chunk that does not authenticate: then the whole buffer is wiped, so no unauthenticated
 * plaintext is ever left in it.
 */
#define CHUNK_PLAIN 65536
#define CHUNK_SEALED (CHUNK_PLAIN + TAG_BYTES)

typedef struct {
  napi_async_work work;
  napi_ref buf_ref;
  napi_ref callback_ref;
  EVP_CIPHER *cipher;
  int fd;
  int64_t position;
  uint8_t *buf;
  size_t length;
  uint64_t first;
  uint64_t final_index;
  uint8_t key[KEY_BYTES];
  /* Results, written by the pool thread and read by the completion on the JS thread. */
  size_t plain_length;
  int err;              /* errno of a failed read, or EIO when OpenSSL refused */
  int integrity;        /* a chunk did not authenticate, or the run was malformed */
  char message[160];    /* what failed, for the JS error */
} read_open_t;

static void put_u64_be(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)(v & 0xff);
    v >>= 8;
  }
}

/* Opens chunk `index` in place (its tag follows it): run's result. */
static int open_chunk(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const uint8_t *key, uint64_t index, int final, uint8_t *body,
                      size_t n) {
  uint8_t nonce[NONCE_BYTES] = {0};
  uint8_t aad[9];
  put_u64_be(nonce + 4, index);
  put_u64_be(aad, index);
  aad[8] = final ? 1 : 0;
  const bytes_t b[6] = {
      {(uint8_t *)key, KEY_BYTES}, {nonce, NONCE_BYTES}, {aad, sizeof aad}, {body, n}, {body, n}, {body + n, TAG_BYTES},
  };
  return run(ctx, cipher, 0, b);
}

static void read_open_execute(napi_env env, void *data) {
  (void)env;
  read_open_t *job = (read_open_t *)data;
  size_t got = 0;
  while (got < job->length) {
    ssize_t r = pread(job->fd, job->buf + got, job->length - got, (off_t)(job->position + (int64_t)got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      job->err = errno;
      snprintf(job->message, sizeof job->message, "read failed: %s", strerror(errno));
      return;
    }
    if (r == 0) {
      job->err = EIO;
      snprintf(job->message, sizeof job->message, "file ends at %lld, before %lld", (long long)(job->position + (int64_t)got),
               (long long)(job->position + (int64_t)job->length));
      return;
    }
    got += (size_t)r;
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) {
    job->err = ENOMEM;
    snprintf(job->message, sizeof job->message, "aes_gcm: no cipher context");
    return;
  }
  size_t r = 0, w = 0;
  uint64_t i = job->first;
  for (; r < job->length; i++) {
    if (i > job->final_index) {
      job->integrity = 1;
      snprintf(job->message, sizeof job->message, "more ciphertext than the stream has chunks");
      break;
    }
    size_t n = i < job->final_index ? CHUNK_SEALED : job->length - r;
    if (n > job->length - r || n < TAG_BYTES || n > CHUNK_SEALED) {
      job->integrity = 1;
      snprintf(job->message, sizeof job->message, "chunk %llu is incomplete", (unsigned long long)i);
      break;
    }
    uint8_t *body = job->buf + r;
    int ok = open_chunk(ctx, job->cipher, job->key, i, i == job->final_index, body, n - TAG_BYTES);
    if (ok != 1) {
      job->integrity = ok == 0;
      job->err = ok < 0 ? EIO : 0;
      snprintf(job->message, sizeof job->message,
               ok == 0 ? "object data failed authentication at chunk %llu" : "aes_gcm: OpenSSL refused to decrypt chunk %llu",
               (unsigned long long)i);
      break;
    }
    /* The plaintext moves to at or before its own ciphertext: later chunks are not touched. */
    if (w != r) memmove(job->buf + w, body, n - TAG_BYTES);
    w += n - TAG_BYTES;
    r += n;
  }
  EVP_CIPHER_CTX_free(ctx);
  /* The thread pool's OpenSSL error queue is shared with node's own users of it. */
  ERR_clear_error();
  if (job->integrity || job->err) {
    OPENSSL_cleanse(job->buf, job->length);
    return;
  }
  job->plain_length = w;
}

static void read_open_complete(napi_env env, napi_status status, void *data) {
  read_open_t *job = (read_open_t *)data;
  napi_value callback, global, argv[2];
  napi_get_reference_value(env, job->callback_ref, &callback);
  napi_get_global(env, &global);
  if (status != napi_ok && !job->err && !job->integrity) {
    job->err = ECANCELED;
    snprintf(job->message, sizeof job->message, "read cancelled");
  }
  if (job->err || job->integrity) {
    napi_value code, message;
    napi_create_string_utf8(env, job->integrity ? "ERR_XREGION_CIPHER_INTEGRITY" : "ERR_XREGION_READ", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, job->message, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &argv[0]);
    if (job->err) {
      napi_value errno_value;
      napi_create_int32(env, job->err, &errno_value);
      napi_set_named_property(env, argv[0], "errno", errno_value);
    }
    napi_get_undefined(env, &argv[1]);
  } else {
    napi_get_null(env, &argv[0]);
    napi_create_double(env, (double)job->plain_length, &argv[1]);
  }
  napi_delete_reference(env, job->buf_ref);
  napi_delete_reference(env, job->callback_ref);
  napi_delete_async_work(env, job->work);
  EVP_CIPHER_free(job->cipher);
  OPENSSL_cleanse(job->key, sizeof job->key);
  free(job);
  /* Last: the callback may throw, and everything of the job is released by then. */
  napi_call_function(env, global, callback, 2, argv, NULL);
}

static int get_index(napi_env env, napi_value v, double max, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) return 0;
  return *out >= 0 && *out <= max && *out == (double)(int64_t)*out;
}

static napi_value read_open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (napi_get_instance_data(env, &data) != napi_ok || data == NULL) return fail(env, "ERR_XREGION_AES_GCM", "aes_gcm: module not initialised");
  state_t *st = (state_t *)data;
  if (argc != 8) return fail(env, "ERR_INVALID_ARG_VALUE", "readOpen: expected (fd, position, length, buf, key, first, finalIndex, callback)");
  int32_t fd;
  double position, length, first, final_index;
  bytes_t buf, key;
  napi_valuetype t;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return fail(env, "ERR_INVALID_ARG_VALUE", "readOpen: bad fd");
  /* 2^53: JS's safe integers; chunk indexes of any real file stay far below. */
  const double safe = 9007199254740991.0;
  if (!get_index(env, argv[1], safe, &position) || !get_index(env, argv[2], MAX_DATA, &length) ||
      !get_index(env, argv[5], safe, &first) || !get_index(env, argv[6], safe, &final_index) || first > final_index) {
    return fail(env, "ERR_INVALID_ARG_VALUE", "readOpen: position, length, first and finalIndex must be non-negative integers, first <= finalIndex");
  }
  if (!get_bytes(env, argv[3], &buf) || !get_bytes(env, argv[4], &key)) return fail(env, "ERR_INVALID_ARG_TYPE", "readOpen: buf and key must be Uint8Arrays");
  if (key.n != KEY_BYTES) return fail(env, "ERR_INVALID_ARG_VALUE", "readOpen: key must be 32 bytes");
  if (length < TAG_BYTES || (size_t)length > buf.n) return fail(env, "ERR_INVALID_ARG_VALUE", "readOpen: length must be at least one tag and fit in buf");
  if (napi_typeof(env, argv[7], &t) != napi_ok || t != napi_function) return fail(env, "ERR_INVALID_ARG_TYPE", "readOpen: callback must be a function");
  read_open_t *job = calloc(1, sizeof(read_open_t));
  if (job == NULL) return fail(env, "ERR_XREGION_AES_GCM", "readOpen: out of memory");
  job->fd = fd;
  job->position = (int64_t)position;
  job->length = (size_t)length;
  job->buf = buf.p;
  job->first = (uint64_t)first;
  job->final_index = (uint64_t)final_index;
  memcpy(job->key, key.p, KEY_BYTES);
  EVP_CIPHER_up_ref(st->cipher);
  job->cipher = st->cipher;
  napi_value name;
  napi_create_string_utf8(env, "xregion.readOpen", NAPI_AUTO_LENGTH, &name);
  /* The buffer's memory must outlive the job: the reference keeps its ArrayBuffer alive. */
  if (napi_create_reference(env, argv[3], 1, &job->buf_ref) != napi_ok || napi_create_reference(env, argv[7], 1, &job->callback_ref) != napi_ok ||
      napi_create_async_work(env, NULL, name, read_open_execute, read_open_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    /* Not reached in practice; what was created is small and left for the process. */
    return fail(env, "ERR_XREGION_AES_GCM", "readOpen: could not queue the read");
  }
  return NULL;
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
      {"readOpen", NULL, read_open, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}
