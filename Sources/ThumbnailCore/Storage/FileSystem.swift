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

/// A key or token file: refused when group or others may read or change it,
/// as ssh does with its keys; but root's file may be its group's to read, as
/// PostgreSQL allows its key, since that is how an orchestrator hands a
/// secret to a process that is not root (a Kubernetes Secret with fsGroup).
func readSecretFile(_ path: String) throws(ThumbnailError) -> [UInt8] {
    try readSource(
        path, limit: 1 << 16, refusing: (0o077, "group or others may read or change it; chmod go-rwx"),
        groupMayReadRootsFile: true
    ).bytes
}

/// A config file names the key files, so only its owner may change it.
func readConfigFile(_ path: String) throws(ThumbnailError) -> [UInt8] {
    try readSource(path, limit: 1 << 20, refusing: (0o022, "group or others may change it; chmod go-w")).bytes
}

/// Reads a regular file with its modification time; refused first if
/// larger than `limit` or if its mode has any of the `refusing` bits (but
/// group read, when `groupMayReadRootsFile` and root owns it), and
/// by `sniff` before more than its first bytes are read. An image source
/// that is a PNG is read only as far as its first `pngFirstBytes`: the
/// file stays open, and its decoder reads the rest as it goes.
func readSource(
    _ path: String, limit: Int, refusing: (bits: mode_t, reason: String) = (0, ""), groupMayReadRootsFile: Bool = false,
    sniff: Sniff? = nil, followingLinks: Bool = false
) throws(ThumbnailError) -> SourceFile {
    let fd = open(path, O_RDONLY | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW))
    guard fd >= 0 else {
        throw ThumbnailError(errno == ENOENT ? .notFound : .ioFailure, path, errnoText())
    }
    let file = OpenFile(fd: fd, name: path, limit: limit)
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw ThumbnailError(.ioFailure, path, errnoText()) }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw ThumbnailError(.notFound, path, "not a regular file") }
    let refused = groupMayReadRootsFile && info.st_uid == 0 ? refusing.bits & ~mode_t(0o040) : refusing.bits
    guard info.st_mode & refused == 0 else {
        throw ThumbnailError(.usage, path, "mode 0\(String(info.st_mode & 0o777, radix: 8)): " + refusing.reason)
    }
    guard Int(info.st_size) <= limit else {
        throw ThumbnailError(.tooLarge, path, "\(info.st_size) bytes exceeds the limit of \(limit)")
    }
    let modified = Int(info.st_mtim.tv_sec)
    if let sniff {
        // Read as a decoder reads it: within the limit however the file grows.
        var reader = SourceBytes(first: [], count: Int(info.st_size), file: file).reader()
        let magic = try reader.read(upTo: sniff.count)
        try sniff.check(magic[...])
        if magic.starts(with: pngSignature) {
            let first = magic + (try reader.read(upTo: pngFirstBytes - magic.count))
            return SourceFile(
                content: SourceBytes(first: first, count: Int(info.st_size), file: file), localPath: path,
                modified: modified)
        }
    }
    return SourceFile(bytes: try readAll(fd, limit: limit, name: path), localPath: path, modified: modified)
}

let pngSignature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
/// What a local PNG source has read into memory before it decodes: the
/// signature and IHDR that plan the render (and, for most thumbnails' sources, the whole file).
let pngFirstBytes = 1 << 16

/// An open source file, closed with the last `SourceBytes` that reads it.
final class OpenFile: Sendable {
    let fd: Int32
    let name: String
    /// No more than this many bytes are ever read from it, however it grows.
    let limit: Int

    init(fd: Int32, name: String, limit: Int) {
        self.fd = fd
        self.name = name
        self.limit = limit
    }

    deinit { close(fd) }

    /// Fills at most `buffer` from `offset` on (less at the end of the file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(ThumbnailError) -> Int {
        while true {
            let got = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if got >= 0 { return got }
            if errno != EINTR { throw ThumbnailError(.ioFailure, name, errnoText()) }
        }
    }

    /// The whole file, from its start, within the limit (for one reader at a time: it moves the file's offset).
    func readWhole() throws(ThumbnailError) -> [UInt8] {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw ThumbnailError(.ioFailure, name, errnoText()) }
        return try readAll(fd, limit: limit, name: name)
    }
}

/// A source's bytes in order, from memory, then from its file; refused once
/// more than the file's limit would have been read.
struct SourceReader {
    private let source: SourceBytes
    private var offset = 0

    init(_ source: SourceBytes) { self.source = source }

    /// Fills `buffer` as far as the source goes; 0 at its end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ThumbnailError) -> Int {
        guard buffer.count > 0 else { return 0 }
        if offset < source.loaded.count {
            let count = min(buffer.count, source.loaded.count - offset)
            source.loaded.withUnsafeBytes { loaded in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: loaded[offset..<offset + count]))
            }
            offset += count
            return count
        }
        guard let file = source.file else { return 0 }
        // One byte past the limit is enough to refuse it.
        let allowed = min(buffer.count, file.limit + 1 - offset)
        let got = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<allowed]), at: offset)
        offset += got
        if offset > file.limit { throw ThumbnailError(.tooLarge, file.name, "more than \(file.limit) bytes") }
        return got
    }

    /// Up to `count` bytes, fewer only at the end.
    mutating func read(upTo count: Int) throws(ThumbnailError) -> [UInt8] {
        var failure: ThumbnailError? = nil
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            do throws(ThumbnailError) {
                while initialized < count {
                    let got = try read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[initialized...])))
                    if got == 0 { break }
                    initialized += got
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return bytes
    }
}

/// Reads `fd` to its end, refused once it holds more than `limit` bytes:
/// at most `limit` + 1 bytes are ever read. The buffer is reserved whole,
/// but only the pages read into become memory, and nothing is copied from
/// buffer to ever larger buffer. `sniff`, if given, sees the first bytes
/// as soon as they are in, and may refuse them before the rest is read.
func readAll(_ fd: Int32, limit: Int, name: String, sniff: Sniff? = nil) throws(ThumbnailError) -> [UInt8] {
    var failure: ThumbnailError? = nil
    var checked = sniff == nil
    let bytes = [UInt8](unsafeUninitializedCapacity: limit + 1) { buffer, count in
        count = 0
        while count <= limit {
            let got = read(fd, buffer.baseAddress! + count, limit + 1 - count)
            if got < 0 && errno == EINTR { continue }
            if got < 0 {
                failure = ThumbnailError(.ioFailure, name, errnoText())
                return
            }
            if got == 0 { break }
            count += got
            if !checked, let sniff, count >= sniff.count {
                checked = true
                do throws(ThumbnailError) {
                    // Only the bytes it asks for: the first read may have brought the whole file.
                    try sniff.check(Array(UnsafeBufferPointer(rebasing: buffer[..<sniff.count]))[...])
                } catch {
                    failure = error
                    return
                }
            }
        }
    }
    if let failure { throw failure }
    if bytes.count > limit { throw ThumbnailError(.tooLarge, name, "more than \(limit) bytes") }
    if !checked, let sniff { try sniff.check(bytes[...]) }
    return bytes
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
/// a failure leaves nothing behind. The file is created 0666 and the kernel
/// applies the caller's umask, as `cp` has it; the umask itself is never
/// changed, since it is the whole process's and renders write on many threads.
func writeAtomically(_ bytes: [UInt8], to path: String) throws(ThumbnailError) {
    let directory = directoryOf(path)
    var temporary = ""
    var fd: Int32 = -1
    // A name another writer holds is tried again under a new one, a bounded number of times.
    for _ in 0..<100 where fd < 0 {
        temporary = directory + "/.thumbnail-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666)
        if fd < 0 && errno != EEXIST { break }
    }
    guard fd >= 0 else { throw ThumbnailError(.cannotCreate, path, errnoText()) }
    do throws(ThumbnailError) {
        defer { close(fd) }
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

/// The directory that holds the file `path`: `.` for a bare name.
func directoryOf(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// `-o` creates no directory: one that is missing is refused before anything is rendered.
func checkOutputDirectory(of file: String) throws(ThumbnailError) {
    let directory = directoryOf(file)
    var info = stat()
    guard stat(directory, &info) == 0 else {
        throw ThumbnailError(.cannotCreate, directory, errnoText() + "; -o creates no directory")
    }
    guard info.st_mode & S_IFMT == S_IFDIR else { throw ThumbnailError(.cannotCreate, directory, "not a directory") }
}
