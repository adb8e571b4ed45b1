// OpenSSL's libcrypto (Debian libssl-dev): HMAC-SHA256 for URL signatures,
// SHA-256 for the origin token, CRYPTO_memcmp for comparing them.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
