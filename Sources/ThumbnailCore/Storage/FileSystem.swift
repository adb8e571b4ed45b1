#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Plain POSIX calls: Foundation would cost more start-up time than a small
// thumbnail takes to render.

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// `realpath(3)`, or nil with errno set.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// The directory sources resolve against.
public struct StorageRoot: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    /// The real path of `source`: symlinks followed, still inside the root's real path.
    public func resolve(_ source: SourcePath) throws(ThumbnailError) -> String {
        guard let rootReal = realPath(path) else {
            throw ThumbnailError(.notFound, path, "storage root: \(errnoText())")
        }
        let candidate = (rootReal == "/" ? "" : rootReal) + "/" + source.description
        guard let real = realPath(candidate) else {
            let code = errno
            throw ThumbnailError(code == ENOENT || code == ENOTDIR ? .notFound : .ioFailure, source.description, errnoText(code))
        }
        guard rootReal == "/" || real.hasPrefix(rootReal + "/") else {
            throw ThumbnailError(.forbidden, source.description, "resolves outside the storage root")
        }
        return real
    }
}

/// A source image read whole.
public struct SourceFile: Sendable {
    public var bytes: [UInt8]
    /// Its real path; nil for standard input.
    public var path: String?
    /// Modification time, seconds since the epoch; nil for standard input.
    public var modified: Int?

    public init(bytes: [UInt8], path: String? = nil, modified: Int? = nil) {
        self.bytes = bytes
        self.path = path
        self.modified = modified
    }
}

/// A key or token file: refused when group or others may read or change it, as ssh does with its keys.
func readSecretFile(_ path: String) throws(ThumbnailError) -> [UInt8] {
    try readSource(path, limit: 1 << 16, refusing: (0o077, "group or others may read or change it; chmod go-rwx")).bytes
}

/// A config file names the key files, so only its owner may change it.
func readConfigFile(_ path: String) throws(ThumbnailError) -> [UInt8] {
    try readSource(path, limit: 1 << 20, refusing: (0o022, "group or others may change it; chmod go-w")).bytes
}

/// Reads a regular file whole with its modification time; refused first if
/// larger than `limit` or if its mode has any of the `refusing` bits.
func readSource(_ path: String, limit: Int, refusing: (bits: mode_t, reason: String) = (0, ""))
    throws(ThumbnailError) -> SourceFile
{
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else {
        throw ThumbnailError(errno == ENOENT ? .notFound : .ioFailure, path, errnoText())
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw ThumbnailError(.ioFailure, path, errnoText()) }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw ThumbnailError(.notFound, path, "not a regular file") }
    guard info.st_mode & refusing.bits == 0 else {
        throw ThumbnailError(.usage, path, "mode 0\(String(info.st_mode & 0o777, radix: 8)): " + refusing.reason)
    }
    guard Int(info.st_size) <= limit else {
        throw ThumbnailError(.tooLarge, path, "\(info.st_size) bytes exceeds the limit of \(limit)")
    }
    let bytes = try readAll(fd, limit: limit, name: path, expected: Int(info.st_size))
    return SourceFile(bytes: bytes, path: path, modified: Int(info.st_mtim.tv_sec))
}

/// Reads `fd` to its end, at most `limit` bytes; `expected` bytes are
/// allocated at once, so a file is not copied from buffer to ever larger buffer.
func readAll(_ fd: Int32, limit: Int, name: String, expected: Int = 0) throws(ThumbnailError) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(expected)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count == 0 { return bytes }
        if count < 0 {
            if errno == EINTR { continue }
            throw ThumbnailError(.ioFailure, name, errnoText())
        }
        bytes += chunk[..<count]
        if bytes.count > limit { throw ThumbnailError(.tooLarge, name, "more than \(limit) bytes") }
    }
}

/// Writes all of `bytes` to `fd`.
func writeAll(_ fd: Int32, _ bytes: [UInt8], name: String) throws(ThumbnailError) {
    var offset = 0
    while offset < bytes.count {
        let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw ThumbnailError(.ioFailure, name, errnoText())
        }
        offset += count
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old file or the whole new one, never a part, and
/// a failure leaves nothing behind.
func writeAtomically(_ bytes: [UInt8], to path: String) throws(ThumbnailError) {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[..<$0]) } ?? "."
    var template = Array(((directory.isEmpty ? "" : directory) + "/.thumbnail-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw ThumbnailError(.cannotCreate, path, errnoText()) }
    let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    do throws(ThumbnailError) {
        defer { close(fd) }
        let mask = umask(0)
        umask(mask)
        guard fchmod(fd, 0o666 & ~mask) == 0 else { throw ThumbnailError(.cannotCreate, path, errnoText()) }
        try writeAll(fd, bytes, name: path)
        guard fsync(fd) == 0 else { throw ThumbnailError(.ioFailure, path, errnoText()) }
        guard rename(temporary, path) == 0 else { throw ThumbnailError(.cannotCreate, path, errnoText()) }
    } catch {
        unlink(temporary)
        throw error
    }
}

/// `mkdir -p`: creates `path` and any missing parent; one that exists
/// already, or that another thread makes meanwhile, is fine.
func makeDirectories(_ path: String) throws(ThumbnailError) {
    if path.isEmpty || mkdir(path, 0o777) == 0 || errno == EEXIST { return }
    guard errno == ENOENT, let slash = path.lastIndex(of: "/") else {
        throw ThumbnailError(.cannotCreate, path, errnoText())
    }
    try makeDirectories(String(path[..<slash]))
    guard mkdir(path, 0o777) == 0 || errno == EEXIST else { throw ThumbnailError(.cannotCreate, path, errnoText()) }
}
