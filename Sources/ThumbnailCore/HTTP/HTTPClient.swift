import CCurl

// The only file that imports libcurl: `--batch --base` GETs paths from a
// CDN, which in real life means https, redirects not followed, keep-alive.
// libcurl is loaded at run time, by `--base` alone (see CCurl/shim.h).

/// What one GET answered; the body is counted, not kept.
struct HTTPAnswer: Sendable {
    var status: Int
    var bytes: Int
    /// The `X-Cache` and `Age` headers, as the cache sent them.
    var cache: String?
    var age: String?
}

/// One connection's worth of libcurl, used by one thread at a time; it
/// keeps the connection open between requests to the same host.
final class HTTPClient {
    private let curl: UnsafePointer<thumbnail_curl>
    private let handle: UnsafeMutableRawPointer
    private let reception = Reception()
    private let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    /// libcurl, loaded on first use; the main thread touches this before
    /// any client exists, since curl_global_init is not thread-safe.
    nonisolated(unsafe) static let library: Result<UnsafePointer<thumbnail_curl>, ThumbnailError> = {
        let curl = UnsafeMutablePointer<thumbnail_curl>.allocate(capacity: 1)
        curl.initialize(to: thumbnail_curl())
        if let failure = thumbnail_curl_load(curl) {
            // Like a missing encoder: this build of the host lacks what the feature needs.
            return .failure(ThumbnailError(.encoderMissing, "libcurl.so.4", String(cString: failure)))
        }
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
        let context = Unmanaged.passUnretained(reception).toOpaque()
        let settings: [CURLcode] = [
            thumbnail_curl_set_long(curl, handle, CURLOPT_NOSIGNAL, 1),
            thumbnail_curl_set_long(curl, handle, CURLOPT_TIMEOUT_MS, seconds * 1000),
            thumbnail_curl_set_long(curl, handle, CURLOPT_FOLLOWLOCATION, 0),
            // The path goes out as the list spells it: `..` is the cache key too.
            thumbnail_curl_set_long(curl, handle, CURLOPT_PATH_AS_IS, 1),
            thumbnail_curl_set_string(curl, handle, CURLOPT_USERAGENT, "thumbnail/\(toolVersion)"),
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_ERRORBUFFER, errorText),
            thumbnail_curl_set_receiver(curl, handle, CURLOPT_WRITEFUNCTION, countBody),
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_WRITEDATA, context),
            thumbnail_curl_set_receiver(curl, handle, CURLOPT_HEADERFUNCTION, readHeader),
            thumbnail_curl_set_pointer(curl, handle, CURLOPT_HEADERDATA, context),
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
        guard thumbnail_curl_set_string(curl, handle, CURLOPT_URL, url) == CURLE_OK else {
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
        return HTTPAnswer(status: status, bytes: reception.bytes, cache: reception.cache, age: reception.age)
    }

    private func describe(_ code: CURLcode) -> String {
        curl.pointee.easy_strerror(code).map { String(cString: $0) } ?? "libcurl error \(code.rawValue)"
    }
}

/// What the callbacks collect during one transfer.
private final class Reception {
    var bytes = 0
    var cache: String?
    var age: String?

    func reset() {
        bytes = 0
        cache = nil
        age = nil
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
    } else if let colon = line.firstIndex(of: ":") {
        let value = String(line[line.index(after: colon)...].trimmingSpaces)
        switch line[..<colon].lowercased() {
        case "x-cache": reception.cache = value
        case "age": reception.age = value
        default: break
        }
    }
    return size * count
}
