/// Who may have which thumbnail : allowed sizes, URL
/// signatures and the origin token, each off unless configured. Every front
/// end asks this before it touches the source, so a refused request costs no
/// file access and no decoding.
package struct Access: Sendable {
    package let grammar: PathGrammar
    /// nil: every size is allowed.
    package let allowedSizes: [BoxSize]?
    /// Newest first: any one verifies, the first signs. Empty: paths carry no signature.
    let keys: [[UInt8]]
    /// nil: no token needed.
    let originToken: [UInt8]?
    /// The header the CDN puts the origin token in.
    package let originTokenHeader: String

    /// Bytes of the signature's MAC: the first 16 of HMAC-SHA256, 22 base64url characters.
    package static let signatureBytes = 16
    /// A secret shorter than this is refused: it could be guessed.
    package static let minimumSecretBytes = 16

    package init(
        grammar: PathGrammar = PathGrammar(), allowedSizes: [BoxSize]? = nil, keys: [[UInt8]] = [],
        originToken: [UInt8]? = nil, originTokenHeader: String = Access.defaultOriginTokenHeader
    ) {
        self.grammar = grammar
        self.allowedSizes = allowedSizes
        self.keys = keys
        self.originToken = originToken
        self.originTokenHeader = originTokenHeader
    }

    package static let defaultOriginTokenHeader = "X-Origin-Token"

    /// The rules `options` name, with the key and token files read and checked.
    package init(_ options: AccessOptions) throws(ThumbnailError) {
        try options.checkSizes()
        let keys = try options.keyFile.map { path throws(ThumbnailError) in try readKeys(path) } ?? []
        let token = try options.originTokenFile.map { path throws(ThumbnailError) in try readOriginToken(path) }
        self.init(
            grammar: options.grammar, allowedSizes: options.allowedSizes, keys: keys, originToken: token,
            originTokenHeader: options.originTokenHeader)
    }

    package var requiresSignature: Bool { !keys.isEmpty }


    /// Every check on a thumbnail path or URL, in order: the signature
    /// (over the raw text it covers), the grammar, the size list.
    package func check(path target: String) -> AccessReport {
        var report = AccessReport()
        do throws(ThumbnailError) {
            let (signature, signed) = try grammar.splitSignature(target)
            report.record("signature") { () throws(ThumbnailError) in try checkSignature(signature, covering: signed) }
            let request = try grammar.parse(signed: signed)
            report.request = request
            report.spelledCanonically = signed == request.canonicalPath(prefix: "")
            report.record("size") { () throws(ThumbnailError) in try checkSize(request.size) }
        } catch {
            report.refuse(error)
        }
        return report
    }

    /// The same checks on a request made from flags, which has no path and so no signature.
    package func check(flags request: ThumbnailRequest) -> AccessReport {
        var report = AccessReport()
        report.request = request
        report.record("signature") { () throws(ThumbnailError) in try checkSignature(nil, covering: nil) }
        report.record("size") { () throws(ThumbnailError) in try checkSize(request.size) }
        return report
    }

    /// With keys: `signature` must be the MAC of `signed` under one of them.
    /// `signed` nil: the request came from flags, not from a path.
    func checkSignature(_ signature: Substring?, covering signed: Substring?) throws(ThumbnailError) -> String {
        guard requiresSignature else {
            if let signature { throw PathGrammar.unexpectedSignature(signature) }
            return "not required (no --key-file)"
        }
        guard let signed else {
            throw ThumbnailError(
                .forbidden, "flags", "with --key-file only signed thumbnail paths are served (see --sign)")
        }
        guard let signature else {
            throw ThumbnailError(.forbidden, String(signed), "no signature segment; --key-file requires one")
        }
        let given = Array(signature.utf8)
        // Every key is tried, so the time taken does not tell which one matched.
        var matched: Int? = nil
        for (index, key) in keys.enumerated() where try constantTimeEqual(Array(try sign(signed, with: key).utf8), given) {
            matched = matched ?? index
        }
        guard let matched else {
            throw ThumbnailError(.forbidden, String(signature), "wrong signature for \(signed)")
        }
        return "ok (key \(matched + 1) of \(keys.count))"
    }

    /// Without a size list every size passes.
    func checkSize(_ size: BoxSize) throws(ThumbnailError) -> String {
        guard let allowedSizes else { return "any (no --sizes)" }
        guard allowedSizes.contains(size) else {
            let list = allowedSizes.map(\.description).joined(separator: ",")
            throw ThumbnailError(.forbidden, size.description, "size not allowed (--sizes \(list))")
        }
        return "ok (in --sizes)"
    }

    /// The HTTP mode's check of the origin token: `values` are those of
    /// every header field named `originTokenHeader`, of which there must be one.
    package func checkOriginToken(_ values: [String]) throws(ThumbnailError) {
        guard let originToken else { return }
        guard let value = values.first else {
            throw ThumbnailError(.forbidden, originTokenHeader, "missing origin token header")
        }
        guard values.count == 1 else { throw ThumbnailError(.forbidden, originTokenHeader, "repeated origin token header") }
        // Digests first, so the time taken does not depend on the token's length either.
        guard try constantTimeEqual(try sha256(Array(value.utf8)), try sha256(originToken)) else {
            throw ThumbnailError(.forbidden, originTokenHeader, "wrong origin token")
        }
    }

    /// The one spelling of `request`, signed with the first key when there are keys.
    package func canonicalPath(_ request: ThumbnailRequest) throws(ThumbnailError) -> String {
        guard let key = keys.first else { return request.canonicalPath(prefix: grammar.prefix) }
        let signed = request.canonicalPath(prefix: "")
        return grammar.prefix + "/" + (try sign(Substring(signed), with: key)) + signed
    }

    /// `--sign`: the canonical form of `target`, signed with the first key.
    /// A signature `target` already has is dropped, not checked: whoever
    /// holds the keys may re-sign old paths with a new key.
    package func signedPath(_ target: String) throws(ThumbnailError) -> String {
        guard requiresSignature else { throw ThumbnailError(.usage, "--sign", "needs --key-file") }
        let request = try grammar.parse(signed: try grammar.splitSignature(target).signed)
        _ = try checkSize(request.size)
        return try canonicalPath(request)
    }

    /// The signature segment for `signed`: base64url of the first 16 bytes of HMAC-SHA256.
    func sign(_ signed: Substring, with key: [UInt8]) throws(ThumbnailError) -> String {
        base64URL(Array(try hmacSHA256(key: key, message: signed.utf8).prefix(Self.signatureBytes)))
    }
}

/// What the checks said about one request: `--explain` prints the notes,
/// the front ends act on the first refusal.
package struct AccessReport: Sendable {
    /// `check: outcome`, one per check made, in order.
    package private(set) var notes: [String] = []
    /// The first check that failed.
    package private(set) var refusal: ThumbnailError? = nil
    /// The request, once the path parsed.
    package fileprivate(set) var request: ThumbnailRequest? = nil
    /// Whether the path, past its signature, is the canonical spelling: a
    /// path signed with any key is served as it is, not redirected.
    package fileprivate(set) var spelledCanonically = false

    fileprivate mutating func record(_ name: String, _ check: () throws(ThumbnailError) -> String) {
        do throws(ThumbnailError) {
            notes.append(name + ": " + (try check()))
        } catch {
            notes.append(name + ": refused: " + error.reason)
            refuse(error)
        }
    }

    fileprivate mutating func refuse(_ error: ThumbnailError) {
        refusal = refusal ?? error
    }

    /// The request when every check passed; else the first refusal.
    package func checkedRequest() throws(ThumbnailError) -> ThumbnailRequest {
        if let refusal { throw refusal }
        guard let request else { throw ThumbnailError(.internalFailure, "access", "no request and no refusal") }
        return request
    }
}

private let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

/// RFC 4648 §5 base64url, without padding.
func base64URL(_ bytes: [UInt8]) -> String {
    var text: [UInt8] = []
    var index = 0
    while index < bytes.count {
        let chunk = bytes[index..<min(index + 3, bytes.count)]
        let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * $1.offset) }
        for position in 0...chunk.count {
            text.append(base64URLAlphabet[Int(value >> (18 - 6 * position) & 0x3f)])
        }
        index += 3
    }
    return String(decoding: text, as: UTF8.self)
}

/// True when `segment` has the shape of a signature: 22 base64url characters.
/// No size segment can look like one (a size has at most 19 characters, and
/// options bring a comma), so the grammar stays unambiguous.
func isSignatureShaped(_ segment: Substring) -> Bool {
    segment.utf8.count == 22 && segment.utf8.allSatisfy { base64URLAlphabet.contains($0) }
}

/// A key file: one key a line, the line's bytes exactly; empty lines are skipped.
func readKeys(_ path: String) throws(ThumbnailError) -> [[UInt8]] {
    let lines = try readSecretFile(path).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    var keys: [[UInt8]] = []
    for (number, line) in lines.enumerated() where !line.isEmpty {
        guard line.count >= Access.minimumSecretBytes else {
            throw ThumbnailError(
                .usage, "\(path):\(number + 1)", "a key needs at least \(Access.minimumSecretBytes) bytes")
        }
        keys.append(Array(line))
    }
    guard !keys.isEmpty else { throw ThumbnailError(.usage, path, "holds no key") }
    return keys
}

/// An origin token file: one line; a final newline is not part of the token.
func readOriginToken(_ path: String) throws(ThumbnailError) -> [UInt8] {
    var token = try readSecretFile(path)
    while token.last == UInt8(ascii: "\n") { token.removeLast() }
    guard !token.isEmpty else { throw ThumbnailError(.usage, path, "holds no token") }
    guard !token.contains(UInt8(ascii: "\n")) else { throw ThumbnailError(.usage, path, "holds more than one line") }
    guard token.count >= Access.minimumSecretBytes else {
        throw ThumbnailError(.usage, path, "a token needs at least \(Access.minimumSecretBytes) bytes")
    }
    return token
}

extension AccessOptions {
    /// Every size of `--sizes` within `--max-side`.
    func checkSizes() throws(ThumbnailError) {
        for size in allowedSizes ?? [] where max(size.width ?? 0, size.height ?? 0) > grammar.maxSide {
            throw ThumbnailError(.usage, "--sizes", "'\(size)': a side exceeds --max-side \(grammar.maxSide)")
        }
    }
}
