internal import CCurl
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The only file that imports libcurl: `--batch --base` GETs paths from a
// CDN, and the s3:// and https:// roots read sources from a store; both
// mean https, redirects not followed, keep-alive. libcurl is loaded at run
// time, by those alone (see CCurl/shim.h).

/// What one GET answered; the body is counted, not kept.
struct HTTPAnswer: Sendable {
    var status: Int
    var bytes: Int
    /// The `X-Cache` and `Age` headers, as the cache sent them.
    var cache: String?
    var age: String?
    /// A redirect's `Location`, which is not followed.
    var location: String?
}

/// One connection's worth of libcurl, used by one thread at a time; it
/// keeps the connection open between requests to the same host.
final class HTTPClient {
    private let curl: UnsafePointer<thumbnail_curl>
    private let handle: UnsafeMutableRawPointer
    private let reception = Reception()
    private let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    /// The system's CAs as libcurl was built to find them: a hashed directory
    /// and a bundle of the same certificates. Restored after a request that
    /// named its own CA file.
    private let systemCAPath: String?
    private let systemCAFile: String?

    /// libcurl, loaded on first use. curl_global_init is not thread-safe, but
    /// a static is made once: threads that reach it together wait for the one.
    nonisolated(unsafe) static let library: Result<UnsafePointer<thumbnail_curl>, ThumbnailError> = {
        let curl = UnsafeMutablePointer<thumbnail_curl>.allocate(capacity: 1)
        curl.initialize(to: thumbnail_curl())
        if let failure = thumbnail_curl_load(curl) { return .failure(OptionalLibrary.curl.missing(String(cString: failure))) }
        return .success(UnsafePointer(curl))
    }()

    /// A client whose requests each give up after `seconds`.
    init(timeout seconds: Int) throws(ThumbnailError) {
        curl = try Self.library.get()
        guard let handle = curl.pointee.easy_init() else {
            throw ThumbnailError(.internalFailure, "libcurl", "cannot create a handle")
        }
        self.handle = handle
        errorText[0] = 0
        var directory: UnsafePointer<CChar>? = nil, bundle: UnsafePointer<CChar>? = nil
        _ = thumbnail_curl_get_string(curl, handle, CURLINFO_CAPATH, &directory)
        _ = thumbnail_curl_get_string(curl, handle, CURLINFO_CAINFO, &bundle)
        systemCAPath = directory.map { String(cString: $0) }
        systemCAFile = bundle.map { String(cString: $0) }
        let settings: [CURLcode] = [
            thumbnail_curl_set_long(curl, handle, CURLOPT_NOSIGNAL, 1),
            thumbnail_curl_set_long(curl, handle, CURLOPT_TIMEOUT_MS, seconds * 1000),
            thumbnail_curl_set_long(curl, handle, CURLOPT_FOLLOWLOCATION, 0),
            // The path goes out as the list spells it: `..` is the cache key too.
            thumbnail_curl_set_long(curl, handle, CURLOPT_PATH_AS_IS, 1),
            thumbnail_curl_set_string(curl, handle, CURLOPT_USERAGENT, "thumbnail/\(toolVersion)"),
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_ERRORBUFFER, errorText),
        ]
        if let failed = settings.first(where: { $0 != CURLE_OK }) {
            curl.pointee.easy_cleanup(handle)
            errorText.deallocate()
            throw ThumbnailError(.internalFailure, "libcurl", describe(failed))
        }
    }

    deinit {
        curl.pointee.easy_cleanup(handle)
        errorText.deallocate()
    }

    /// GETs `url`; a transfer that gets no complete answer (refused, timed
    /// out, TLS failure) throws `ioFailure`.
    func get(_ url: String) throws(ThumbnailError) -> HTTPAnswer {
        reception.reset()
        errorText[0] = 0
        let context = Unmanaged.passUnretained(reception).toOpaque()
        guard thumbnail_curl_set_receiver(curl, handle, CURLOPT_WRITEFUNCTION, countBody) == CURLE_OK,
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_WRITEDATA, context) == CURLE_OK,
            thumbnail_curl_set_receiver(curl, handle, CURLOPT_HEADERFUNCTION, readHeader) == CURLE_OK,
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_HEADERDATA, context) == CURLE_OK,
            thumbnail_curl_set_string(curl, handle, CURLOPT_URL, url) == CURLE_OK
        else {
            throw ThumbnailError(.badPath, url, "not a URL libcurl accepts")
        }
        let result = curl.pointee.easy_perform(handle)
        guard result == CURLE_OK else {
            let detail = String(cString: errorText)
            throw ThumbnailError(
                .ioFailure, url, detail.isEmpty ? describe(result) : detail)
        }
        var status = 0
        _ = thumbnail_curl_get_long(curl, handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPAnswer(
            status: status, bytes: reception.bytes, cache: reception.cache, age: reception.age, location: reception.location)
    }

    /// Makes `request` to a store, within its limits, the connection kept
    /// for the next one. A transfer that fails (refused, timed out, cut off,
    /// TLS) throws `storeFailure`; a body over the limit, or refused by the
    /// sniff, stops the transfer and throws that error.
    func fetch(_ request: StoreRequest) throws(ThumbnailError) -> StoreAnswer {
        let reception = StoreReception(
            limit: request.limit, sniff: request.sniff, subject: request.url, bodyless: request.method == "HEAD")
        errorText[0] = 0
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for line in request.headers {
            guard let longer = curl.pointee.slist_append(headers, line) else {
                curl.pointee.slist_free_all(headers)
                throw ThumbnailError(.internalFailure, "libcurl", "cannot add a header")
            }
            headers = longer
        }
        defer { curl.pointee.slist_free_all(headers) }
        let context = Unmanaged.passUnretained(reception).toOpaque()
        var settings: [CURLcode] = [
            thumbnail_curl_set_string(curl, handle, CURLOPT_URL, request.url),
            // Only these: a store's address never becomes file:// or anything else.
            thumbnail_curl_set_string(curl, handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            thumbnail_curl_set_long(curl, handle, CURLOPT_TIMEOUT_MS, request.timeout * 1000),
            thumbnail_curl_set_long(curl, handle, CURLOPT_CONNECTTIMEOUT_MS, request.timeout * 1000),
            // A GET, unless a body makes it a POST; another method is named as such.
            thumbnail_curl_set_long(curl, handle, CURLOPT_HTTPGET, 1),
        ]
        // A HEAD's answer has no body, whatever its Content-Length says: libcurl must not wait for one.
        if request.method == "HEAD" { settings.append(thumbnail_curl_set_long(curl, handle, CURLOPT_NOBODY, 1)) }
        if var body = request.body {
            settings.append(thumbnail_curl_set_long(curl, handle, CURLOPT_POSTFIELDSIZE, body.count))
            settings.append(
                body.withUnsafeMutableBytes { thumbnail_curl_set_pointer(curl, handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) })
        }
        let method = request.body != nil ? "POST" : request.method == "HEAD" ? "HEAD" : "GET"
        settings += [
            setOptionalString(CURLOPT_CUSTOMREQUEST, request.method == method ? nil : request.method),
            thumbnail_curl_set_list(curl, handle, CURLOPT_HTTPHEADER, headers),
            // The system's CAs through the hashed directory when there is one:
            // OpenSSL 3 then reads the one certificate it needs, where the
            // bundle's 140 cost every process some 50 ms of CPU to parse.
            setOptionalString(CURLOPT_CAINFO, request.caFile ?? (systemCAPath == nil ? systemCAFile : nil)),
            setOptionalString(CURLOPT_CAPATH, request.caFile == nil ? systemCAPath : nil),
            setOptionalString(CURLOPT_AWS_SIGV4, request.signature?.scheme),
            setOptionalString(CURLOPT_USERPWD, request.signature.map { $0.keyID + ":" + $0.secret }),
            thumbnail_curl_set_receiver(curl, handle, CURLOPT_WRITEFUNCTION, keepBody),
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_WRITEDATA, context),
            thumbnail_curl_set_receiver(curl, handle, CURLOPT_HEADERFUNCTION, readStoreHeader),
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_HEADERDATA, context),
        ]
        if let failed = settings.first(where: { $0 != CURLE_OK }) {
            throw ThumbnailError(.internalFailure, "libcurl", describe(failed))
        }
        let result = curl.pointee.easy_perform(handle)
        // Nothing of this request is left in the handle for the next: not the
        // secret, not the method, not the header list freed below.
        _ = setOptionalString(CURLOPT_USERPWD, nil)
        _ = setOptionalString(CURLOPT_CUSTOMREQUEST, nil)
        _ = thumbnail_curl_set_long(curl, handle, CURLOPT_NOBODY, 0)
        _ = thumbnail_curl_set_list(curl, handle, CURLOPT_HTTPHEADER, nil)
        var connects = 0
        _ = thumbnail_curl_get_long(curl, handle, CURLINFO_NUM_CONNECTS, &connects)
        HTTPClient.count(connections: connects)
        if let failure = reception.failure { throw failure }
        guard result == CURLE_OK else {
            let detail = String(cString: errorText)
            throw ThumbnailError(.storeFailure, request.url, detail.isEmpty ? describe(result) : detail)
        }
        var status = 0
        _ = thumbnail_curl_get_long(curl, handle, CURLINFO_RESPONSE_CODE, &status)
        return StoreAnswer(status: status, headers: reception.headers, body: reception.body)
    }

    private func setOptionalString(_ option: CURLoption, _ value: String?) -> CURLcode {
        if let value { return thumbnail_curl_set_string(curl, handle, option, value) }
        return thumbnail_curl_set_pointer(curl, handle, option, nil)
    }

    /// This thread's client for stores: made on first use, kept (with its
    /// open connection) until the thread ends, so a keep-alive connection or
    /// a batch job makes one connection to the store, not one per source.
    static func ofThisThread() throws(ThumbnailError) -> HTTPClient {
        if let raw = pthread_getspecific(threadClientKey) {
            return Unmanaged<HTTPClient>.fromOpaque(raw).takeUnretainedValue()
        }
        let client = try HTTPClient(timeout: 30)
        pthread_setspecific(threadClientKey, Unmanaged.passRetained(client).toOpaque())
        return client
    }

    private static let connectionsOpened = Atomic<Int>(0)

    private static func count(connections: Int) {
        connectionsOpened.add(connections, ordering: .relaxed)
    }

    /// Connections opened to stores so far, by every thread.
    static var storeConnections: Int { connectionsOpened.load(ordering: .relaxed) }

    private func describe(_ code: CURLcode) -> String {
        curl.pointee.easy_strerror(code).map { String(cString: $0) } ?? "libcurl error \(code.rawValue)"
    }
}

/// Each thread's store client, released when the thread ends.
private let threadClientKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { raw in
        if let raw { Unmanaged<HTTPClient>.fromOpaque(raw).release() }
    }
    return key
}()

/// One request to a store.
struct StoreRequest {
    var url: String
    /// GET; POST with a body; or another, such as PUT.
    var method = "GET"
    /// Whole header lines, `Name: value`.
    var headers: [String] = []
    /// What a POST sends.
    var body: [UInt8]? = nil
    /// AWS Signature Version 4, made by libcurl: `aws:amz:REGION:SERVICE`.
    var signature: (scheme: String, keyID: String, secret: String)? = nil
    /// A CA bundle to trust instead of the system's.
    var caFile: String? = nil
    /// Seconds for the connection and the whole transfer.
    var timeout: Int
    /// Most bytes a successful body may have.
    var limit: Int
    /// Checks a successful body's first bytes as soon as they arrive.
    var sniff: Sniff? = nil
}

/// A store's answer: its status, header fields (names lowercased) and body.
struct StoreAnswer {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.last { $0.name == name }?.value }
}

/// An error body is kept only this far: enough for a store's error code.
private let errorBodyLimit = 1 << 16

/// What the store callbacks collect during one transfer, and why they stopped it.
private final class StoreReception {
    let limit: Int
    let sniff: Sniff?
    let subject: String
    /// The answer to a HEAD: its length fields describe a body that is not sent.
    let bodyless: Bool
    var status = 0
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var sniffed = false
    var failure: ThumbnailError? = nil

    init(limit: Int, sniff: Sniff?, subject: String, bodyless: Bool) {
        self.limit = limit
        self.sniff = sniff
        self.subject = subject
        self.bodyless = bodyless
    }

    var succeeded: Bool { (200...299).contains(status) }

    /// At the end of the header block: a declared length over the limit, or
    /// a body that only the connection's end would delimit (so a cut-off one
    /// could not be told from a whole one), is refused before any body.
    func headersEnded() -> Bool {
        guard succeeded, !bodyless else { return true }
        let length = headers.last { $0.name == "content-length" }.flatMap { Int($0.value) }
        let chunked = headers.contains { $0.name == "transfer-encoding" && $0.value.lowercased().contains("chunked") }
        if let length, length > limit {
            failure = ThumbnailError(.tooLarge, subject, "\(length) bytes exceeds the limit of \(limit)")
            return false
        }
        if length == nil && !chunked {
            failure = ThumbnailError(.storeFailure, subject, "no Content-Length: a cut-off body could not be detected")
            return false
        }
        // Room for the whole body at once, not a copy each time it outgrows its buffer.
        if let length { body.reserveCapacity(length) }
        return true
    }

    /// Takes a piece of body; false stops the transfer.
    func take(_ piece: UnsafeRawBufferPointer) -> Bool {
        guard body.count + piece.count <= (succeeded ? limit : errorBodyLimit) else {
            failure =
                succeeded
                ? ThumbnailError(.tooLarge, subject, "more than \(limit) bytes")
                : ThumbnailError(.storeFailure, subject, "answered \(status) with an error body over \(errorBodyLimit) bytes")
            return false
        }
        body += piece
        if succeeded, !sniffed, let sniff, body.count >= sniff.count {
            sniffed = true
            do throws(ThumbnailError) {
                try sniff.check(body[...])
            } catch {
                failure = error
                return false
            }
        }
        return true
    }
}

private func keepBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let reception = Unmanaged<StoreReception>.fromOpaque(context!).takeUnretainedValue()
    // Anything but the whole piece stops the transfer.
    return reception.take(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
}

private func readStoreHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let reception = Unmanaged<StoreReception>.fromOpaque(context!).takeUnretainedValue()
    var bytes = UnsafeRawBufferPointer(start: data, count: size * count)[...]
    while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
    let line = String(decoding: bytes, as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new block (after `100 Continue`) replaces the last.
        reception.status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        reception.headers = []
    } else if line.isEmpty {
        if !(100...199).contains(reception.status), !reception.headersEnded() { return 0 }
    } else if let colon = line.firstIndex(of: ":") {
        reception.headers.append(
            (line[..<colon].lowercased(), String(line[line.index(after: colon)...].trimmingSpaces)))
    }
    return size * count
}

/// What the callbacks collect during one transfer.
private final class Reception {
    var bytes = 0
    var cache: String?
    var age: String?
    var location: String?

    func reset() {
        bytes = 0
        cache = nil
        age = nil
        location = nil
    }
}

private func countBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    Unmanaged<Reception>.fromOpaque(context!).takeUnretainedValue().bytes += size * count
    return size * count
}

/// Called once per header line, status lines included; a new status line
/// (after a `100 Continue`, say) starts a new header block.
private func readHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let reception = Unmanaged<Reception>.fromOpaque(context!).takeUnretainedValue()
    var bytes = UnsafeRawBufferPointer(start: data, count: size * count)[...]
    while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
    let line = String(decoding: bytes, as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        reception.cache = nil
        reception.age = nil
        reception.location = nil
    } else if let colon = line.firstIndex(of: ":") {
        let value = String(line[line.index(after: colon)...].trimmingSpaces)
        switch line[..<colon].lowercased() {
        case "x-cache": reception.cache = value
        case "age": reception.age = value
        case "location": reception.location = value
        default: break
        }
    }
    return size * count
}
