internal import CCrypto

// The only file that imports OpenSSL's libcrypto: the MAC of URL
// signatures, the digest of the origin token, and the comparison of both.
// libcrypto is loaded on first use (see CCrypto.h). A libcrypto failure (it
// has none for these inputs short of running out of memory) becomes an
// internal error with OpenSSL's own message.

/// Loads libcrypto once; a host without it cannot check signatures.
private func loadCrypto() throws(ThumbnailError) {
    if let failure = thumbnail_crypto_load() { throw OptionalLibrary.crypto.missing(String(cString: failure)) }
}

/// HMAC-SHA256 of `message` under `key`: 32 bytes.
func hmacSHA256(key: [UInt8], message: some Collection<UInt8>) throws(ThumbnailError) -> [UInt8] {
    try loadCrypto()
    var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let message = Array(message)
    let result = key.withUnsafeBytes { keyBytes in
        message.withUnsafeBytes { messageBytes in
            HMAC(
                EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count, &mac, &length)
        }
    }
    guard result != nil else { throw cryptoFailure("HMAC-SHA256") }
    return Array(mac.prefix(Int(length)))
}

/// SHA-256 of `bytes`: 32 bytes.
func sha256(_ bytes: [UInt8]) throws(ThumbnailError) -> [UInt8] {
    try loadCrypto()
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let status = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }
    guard status == 1 else { throw cryptoFailure("SHA-256") }
    return Array(digest.prefix(Int(length)))
}

/// Equal contents, in a time that depends on the lengths only.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) throws(ThumbnailError) -> Bool {
    guard a.count == b.count else { return false }
    try loadCrypto()
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) } }
        == 0
}

/// The oldest error on OpenSSL's queue, as the library words it.
private func cryptoFailure(_ what: String) -> ThumbnailError {
    let code = ERR_get_error()
    var text = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &text, text.count)
    let message = code == 0 ? "failed without a message" : String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return ThumbnailError(.internalFailure, what, message)
}
