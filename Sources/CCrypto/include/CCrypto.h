// OpenSSL's libcrypto declarations (Debian libssl-dev): HMAC-SHA256 for URL
// signatures, SHA-256 for the origin token, CRYPTO_memcmp for comparing
// them. Its code is NOT linked: libcrypto.so.3's 4,000 bound symbols cost
// every run 1.6 MB of memory and its relocation time, and only runs with
// signing keys or an origin token use it, so they alone load it, with dlopen
// (crypto.c). The functions below that thumbnail calls are defined in
// crypto.c under their own names and call into the loaded library;
// `thumbnail_crypto_load` must have succeeded before any of them is called.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/// Loads libcrypto.so.3 and the functions thumbnail calls, once; NULL, or why not.
const char *thumbnail_crypto_load(void);
