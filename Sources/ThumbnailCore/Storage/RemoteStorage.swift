// Sources behind a URL: an S3 bucket (or an S3-compatible store) and a plain
// HTTP base. The host and the prefix come from the configuration only; a
// request's path is a `SourcePath`, already checked as for a directory, and
// becomes the last segments of the key or URL, each percent-encoded. No
// redirect is followed: nothing outside the prefix can be named.

/// What `--root` names.
package enum StorageRoot: Sendable, Equatable {
    case directory(String)
    /// `s3://BUCKET[/PREFIX]`.
    case s3(bucket: String, prefix: [String])
    /// `https://HOST[:PORT][/PREFIX]` or `http://`: `origin` is the scheme, host and port.
    case web(origin: String, prefix: [String])

    package init(parsing text: String) throws(ThumbnailError) {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst(5)
            let bucket = String(rest.prefix { $0 != "/" })
            guard (3...63).contains(bucket.count),
                bucket.utf8.allSatisfy({ isLowercaseAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
                isLowercaseAlphanumeric(bucket.utf8.first!), isLowercaseAlphanumeric(bucket.utf8.last!)
            else {
                throw ThumbnailError(.usage, "--root", "'\(text)': not an S3 bucket name (3-63 of a-z 0-9 . -)")
            }
            self = .s3(bucket: bucket, prefix: try prefixSegments(rest.dropFirst(bucket.count), root: text))
        } else if text.hasPrefix("http://") || text.hasPrefix("https://") {
            let (origin, path) = try splitBaseURL(text, option: "--root")
            self = .web(origin: origin, prefix: try prefixSegments(path, root: text))
        } else {
            self = .directory(text)
        }
    }
}

/// The options of the s3:// and https:// roots.
package struct RemoteOptions: Sendable {
    /// The region when neither the option nor the environment names one.
    package static let defaultRegion = "us-east-1"
    package static let defaultTimeout = 30
    /// The longest `--source-timeout`.
    package static let maxTimeout = 3600

    /// nil: the environment's or the AWS config file's (`awsRegion`), else `defaultRegion`.
    package var region: String? = nil
    /// An S3-compatible store's `scheme://host[:port]`, addressed path-style.
    package var endpoint: String? = nil
    package var caFile: String? = nil
    /// Seconds for the connection and the whole transfer of one source.
    package var timeout = defaultTimeout

    package init() {}

    /// `--s3-endpoint URL`, checked.
    static func endpoint(_ text: String) throws(ThumbnailError) -> String {
        let (origin, path) = try splitBaseURL(text, option: "--s3-endpoint")
        guard path.isEmpty || path == "/" else {
            throw ThumbnailError(.usage, "--s3-endpoint", "'\(text)': give scheme, host and port only, no path")
        }
        return origin
    }
}

private func isLowercaseAlphanumeric(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

/// `scheme://host[:port]` and the rest of `text`: no user, query or fragment;
/// a host of letters, digits, `.` and `-`, or a bracketed IPv6 address.
private func splitBaseURL(_ text: String, option: String) throws(ThumbnailError) -> (origin: String, path: Substring) {
    let scheme = text.hasPrefix("https://") ? "https://" : "http://"
    guard text.hasPrefix(scheme) else {
        throw ThumbnailError(.usage, option, "'\(text)' is not an http:// or https:// URL")
    }
    let rest = text.dropFirst(scheme.count)
    let authority = rest.prefix { $0 != "/" }
    let path = rest.dropFirst(authority.count)
    var host = authority[...]
    var port: Substring = ""
    if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
        host = authority[...close]
        port = authority[close...].dropFirst()
    } else if let colon = authority.lastIndex(of: ":") {
        host = authority[..<colon]
        port = authority[colon...]
    }
    let hostIsPlain =
        host.hasPrefix("[")
        ? host.hasSuffix("]") && host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        : host.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" }
    let portIsPlain = port.isEmpty || (port.hasPrefix(":") && UInt16(port.dropFirst()).map { $0 > 0 } == true)
    guard !host.isEmpty, host.count > 2 || !host.hasPrefix("["), hostIsPlain, portIsPlain,
        !path.contains("?"), !path.contains("#")
    else {
        throw ThumbnailError(.usage, option, "'\(text)': expected \(scheme)HOST[:PORT][/PREFIX], no user, query or fragment")
    }
    return (scheme + authority.lowercased(), path)
}

/// The prefix after the bucket or host: segments checked as a source path's
/// are; one trailing `/` is allowed.
private func prefixSegments(_ path: Substring, root: String) throws(ThumbnailError) -> [String] {
    var path = path
    if path.hasSuffix("/") { path = path.dropLast() }
    guard !path.isEmpty else { return [] }
    guard path.hasPrefix("/") else { throw ThumbnailError(.usage, "--root", "'\(root)': expected '/' before the prefix") }
    do throws(ThumbnailError) {
        return try SourcePath(filePath: String(path.dropFirst())).segments
    } catch {
        throw ThumbnailError(.usage, "--root", "'\(root)': prefix: \(error.reason)")
    }
}

/// S3's URI encoding: every byte but `A-Z a-z 0-9 - _ . ~`, as `%XX` in uppercase hex.
func s3Encoded(_ segment: String) -> String {
    percentEncode(segment) { byte in
        isLowercaseAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || "-_.~".utf8.contains(byte)
    }
}

/// The URL path of `segments`, each encoded the S3 way, after a `/` each.
private func encodedPath(_ segments: [String]) -> String {
    segments.map { "/" + s3Encoded($0) }.joined()
}

/// The facts `--explain` shows of a store's answer.
private let explainedHeaders = ["content-type", "content-length", "last-modified", "etag"]

/// A source from a store's successful answer.
private func sourceFile(_ answer: StoreAnswer, url: String) -> SourceFile {
    var file = SourceFile(bytes: answer.body, modified: answer.header("last-modified").flatMap(parseHTTPDate))
    file.location = url
    file.entityTag = answer.header("etag")
    file.facts = ["object-status: \(answer.status)"]
        + explainedHeaders.compactMap { name in answer.header(name).map { "object-header: \(name): \($0)" } }
    return file
}

/// An S3 bucket, or a prefix in it. Requests are signed by libcurl (SigV4)
/// with credentials found as the AWS SDKs find them (CredentialChain).
package struct S3Storage: Storage {
    package let bucket: String
    package let prefix: [String]
    package let region: String
    /// Which setting named the region.
    let regionSource: String
    /// `scheme://host[:port]` of an S3-compatible store; nil: AWS itself.
    package let endpoint: String?
    let caFile: String?
    let timeout: Int
    let credentials: CredentialChain

    /// `now`: the clock that tells when fetched credentials expire.
    init(
        bucket: String, prefix: [String], options: RemoteOptions, environment: [String: String],
        now: @escaping @Sendable () -> Int
    ) throws(ThumbnailError) {
        self.bucket = bucket
        self.prefix = prefix
        (region, regionSource) = try awsRegion(option: options.region, environment: environment)
        endpoint = options.endpoint
        caFile = options.caFile
        timeout = options.timeout
        credentials = CredentialChain(environment: environment, region: region, caFile: options.caFile, now: now)
    }

    package var description: String {
        "S3 bucket \(bucket)" + (prefix.isEmpty ? "" : " prefix \(prefix.joined(separator: "/"))")
            + " in \(region) (\(regionSource)) at \(endpoint ?? "AWS")"
    }

    /// The object's URL: path-style at an endpoint (and for bucket names with
    /// dots, which no wildcard certificate covers), virtual-hosted at AWS.
    package func url(_ path: SourcePath) -> String { bucketURL(encodedPath(prefix + path.segments)) }

    /// `path` (encoded, from its first `/`) in the bucket.
    private func bucketURL(_ path: String) -> String {
        if let endpoint { return endpoint + "/" + bucket + path }
        if bucket.contains(".") { return "https://s3.\(region).amazonaws.com/\(bucket)\(path)" }
        return "https://\(bucket).s3.\(region).amazonaws.com\(path)"
    }

    /// Credentials found; the store itself is not asked (that would cost
    /// every inetd process a round trip before its first request).
    package func checkAvailable() throws(ThumbnailError) {
        _ = try credentials.current()
    }

    /// Lists at most one key under the prefix (ListObjectsV2), which needs
    /// `s3:ListBucket` on the bucket for the prefix: what also makes S3
    /// answer a missing key 404 rather than 403.
    package func checkReachable() throws(ThumbnailError) -> String {
        let keyPrefix = prefix.isEmpty ? "" : prefix.joined(separator: "/") + "/"
        // The query sorted and encoded as SigV4's canonical form has it.
        let url = bucketURL("/") + "?list-type=2&max-keys=1&prefix=" + s3Encoded(keyPrefix)
        let (answer, credential) = try signedGet(url, limit: 1 << 16, sniff: nil)
        guard answer.status == 200 else {
            let failure = s3Failure(answer, url: url)
            guard answer.status == 403, xmlElement("Code", in: answer.body) == "AccessDenied" else { throw failure }
            throw ThumbnailError(
                .storeFailure, url,
                "S3 answered 403 AccessDenied to a listing of '\(keyPrefix)': the credentials from the "
                    + "\(credential.source) lack s3:ListBucket on arn:aws:s3:::\(bucket) for that prefix; "
                    + "examples/s3-read-policy.json allows it")
        }
        return description + ", prefix listed with credentials from the " + credential.source
    }

    package func read(_ path: SourcePath, limit: Int, sniff: Sniff) throws(ThumbnailError) -> SourceFile {
        let url = url(path)
        let (answer, credential) = try signedGet(url, limit: limit, sniff: sniff)
        guard answer.status == 200 else { throw s3Failure(answer, url: url) }
        var file = sourceFile(answer, url: url)
        file.facts.append("credentials: from the " + credential.source)
        return file
    }

    /// GETs `url` signed with the current credentials.
    private func signedGet(_ url: String, limit: Int, sniff: Sniff?) throws(ThumbnailError) -> (StoreAnswer, AWSCredentials) {
        let credential = try credentials.current()
        var headers = ["x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        if let token = credential.sessionToken { headers.append("x-amz-security-token: " + token) }
        let answer = try HTTPClient.ofThisThread().fetch(
            StoreRequest(
                url: url, headers: headers,
                signature: ("aws:amz:\(region):s3", credential.accessKeyID, credential.secretAccessKey),
                caFile: caFile, timeout: timeout, limit: limit, sniff: sniff))
        return (answer, credential)
    }

    /// An answer but 200 as an error naming S3's code and message.
    private func s3Failure(_ answer: StoreAnswer, url: String) -> ThumbnailError {
        let code = xmlElement("Code", in: answer.body) ?? "-"
        let message = xmlElement("Message", in: answer.body).map { ": " + $0 } ?? ""
        // NoSuchBucket is a wrong configuration, not a missing source.
        let kind: ThumbnailError.Kind = answer.status == 404 && code != "NoSuchBucket" ? .notFound : .storeFailure
        return ThumbnailError(kind, url, "S3 answered \(answer.status) \(code)\(message)")
    }
}

/// A plain HTTP base: a source is the base URL, `/` and its path.
package struct WebStorage: Storage {
    package let origin: String
    package let prefix: [String]
    let caFile: String?
    let timeout: Int

    init(origin: String, prefix: [String], options: RemoteOptions) {
        self.origin = origin
        self.prefix = prefix
        caFile = options.caFile
        timeout = options.timeout
    }

    package var description: String { "HTTP base " + origin + encodedPath(prefix) }

    package func url(_ path: SourcePath) -> String { origin + encodedPath(prefix + path.segments) }

    /// Nothing to check without a request, which this does not make.
    package func checkAvailable() throws(ThumbnailError) {}

    /// A HEAD of the root URL: any answer but a 5xx or a 403 says that the
    /// store is there and lets this host in.
    package func checkReachable() throws(ThumbnailError) -> String {
        let url = origin + encodedPath(prefix) + "/"
        let answer = try HTTPClient.ofThisThread().fetch(
            StoreRequest(url: url, method: "HEAD", caFile: caFile, timeout: timeout, limit: 0))
        guard answer.status < 500, answer.status != 403 else {
            throw ThumbnailError(.storeFailure, url, "the store answered \(answer.status) to HEAD")
        }
        return "\(description), which answered \(answer.status) to HEAD \(url)"
    }

    package func read(_ path: SourcePath, limit: Int, sniff: Sniff) throws(ThumbnailError) -> SourceFile {
        let url = url(path)
        let answer = try HTTPClient.ofThisThread().fetch(
            StoreRequest(url: url, caFile: caFile, timeout: timeout, limit: limit, sniff: sniff))
        guard answer.status == 200 else {
            let kind: ThumbnailError.Kind = answer.status == 404 || answer.status == 410 ? .notFound : .storeFailure
            throw ThumbnailError(kind, url, "the store answered \(answer.status)")
        }
        return sourceFile(answer, url: url)
    }
}

/// The text of the first `<name>` element of an AWS answer, if plain and
/// at most `longest` characters: an error code, or a key.
func xmlElement(_ name: String, in body: [UInt8], longest: Int = 200) -> String? {
    let text = String(decoding: body, as: UTF8.self)
    guard let open = text.firstRange(of: "<\(name)>"),
        let close = text[open.upperBound...].firstRange(of: "</\(name)>")
    else { return nil }
    let value = text[open.upperBound..<close.lowerBound]
    guard value.count <= longest, !value.contains("<") else { return nil }
    return String(value)
}
