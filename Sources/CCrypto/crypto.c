#include "CCrypto.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

// The functions of libcrypto that thumbnail calls, as the library has them.
#define THUMBNAIL_CRYPTO_FUNCTIONS(X) \
    X(HMAC) X(EVP_sha256) X(EVP_Digest) X(CRYPTO_memcmp) X(ERR_get_error) X(ERR_error_string_n)

#define THUMBNAIL_CRYPTO_POINTER(name) static __typeof__(name) *real_##name;
THUMBNAIL_CRYPTO_FUNCTIONS(THUMBNAIL_CRYPTO_POINTER)

static const char *failure = "libcrypto.so.3 not loaded";

static void load(void) {
    void *library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        failure = strdup(dlerror());
        return;
    }
#define THUMBNAIL_CRYPTO_FIND(name) \
    if ((*(void **)&real_##name = dlsym(library, #name)) == NULL) { \
        failure = strdup(dlerror()); \
        return; \
    }
    THUMBNAIL_CRYPTO_FUNCTIONS(THUMBNAIL_CRYPTO_FIND)
    failure = NULL;
}

const char *thumbnail_crypto_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return failure;
}

// Hidden: libcurl's OpenSSL, loaded for URL roots, must never find these
// in place of the library's.
#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN unsigned char *HMAC(
    const EVP_MD *digest, const void *key, int keyLength, const unsigned char *data, size_t dataLength,
    unsigned char *mac, unsigned int *macLength) {
    return real_HMAC(digest, key, keyLength, data, dataLength, mac, macLength);
}
HIDDEN const EVP_MD *EVP_sha256(void) { return real_EVP_sha256(); }
HIDDEN int EVP_Digest(
    const void *data, size_t count, unsigned char *digest, unsigned int *length, const EVP_MD *type, ENGINE *engine) {
    return real_EVP_Digest(data, count, digest, length, type, engine);
}
HIDDEN int CRYPTO_memcmp(const void *a, const void *b, size_t length) { return real_CRYPTO_memcmp(a, b, length); }
HIDDEN unsigned long ERR_get_error(void) { return real_ERR_get_error(); }
HIDDEN void ERR_error_string_n(unsigned long code, char *buffer, size_t length) {
    real_ERR_error_string_n(code, buffer, length);
}
