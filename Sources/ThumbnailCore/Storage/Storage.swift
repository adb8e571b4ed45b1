#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where sources come from. The engine asks a storage for a source's bytes
/// and knows nothing else about where they came from.
package protocol Storage: Sendable {
    /// The source at `path`, refused once it is over `limit` bytes, and
    /// refused by `sniff` (which sees its first bytes) before the rest is read.
    func read(_ path: SourcePath, limit: Int, sniff: Sniff) throws(ThumbnailError) -> SourceFile
    /// Whether it can serve at all; `misconfigured` when not, so the HTTP
    /// mode answers 503 to every request rather than a 404 a CDN would keep.
    /// Cheap, since every `--inetd` process makes it: it never asks the store.
    func checkAvailable() throws(ThumbnailError)
    /// `--check-config`'s check: `checkAvailable`, then the store itself asked
    /// what it would answer, changing nothing (a HEAD, a listing); says what it found.
    func checkReachable() throws(ThumbnailError) -> String
    /// How `--explain` names it.
    var description: String { get }
}

/// A check of a source's first `count` bytes, made before the rest is read.
package struct Sniff: Sendable {
    package let count: Int
    package let check: @Sendable (ArraySlice<UInt8>) throws(ThumbnailError) -> Void

    /// The magic bytes of the formats that are read.
    package static let imageMagic = Sniff(count: SourceFormat.magicLength) { bytes throws(ThumbnailError) in
        _ = try SourceFormat(sniffing: bytes)
    }
}

/// A source: its bytes, and what is known of where they came from.
package struct SourceFile: Sendable {
    package var content: SourceBytes
    /// Every byte, read in from the file if need be.
    package var bytes: [UInt8] { get throws(ThumbnailError) { try content.whole() } }
    /// Its real path when it is a local file: `-o` and `--output-dir` refuse
    /// to write there. nil for standard input and remote stores.
    package var localPath: String?
    /// Modification time, seconds since the epoch; nil when unknown (standard input).
    package var modified: Int?
    /// A store's URL for it, and `--explain`'s lines on the store's answer.
    package var location: String? = nil
    package var facts: [String] = []
    /// The store's `ETag` for it, if it sent one.
    package var entityTag: String? = nil

    /// Its version, for `--picture`'s URLs, from what the storage says of it
    /// without reading it again: the first 16 letters and digits of its ETag
    /// (an S3 multipart suffix `-N` dropped), else its modification time and
    /// its size in hex; nil when neither is known (standard input).
    package var version: String? {
        let tag = (entityTag ?? "").drop { $0 == "W" || $0 == "/" || $0 == "\"" }.prefix { $0 != "-" }
        let letters = String(decoding: tag.utf8.filter(isASCIIAlphanumeric).prefix(16), as: UTF8.self)
        if !letters.isEmpty { return letters }
        return modified.map { String($0, radix: 16) + "-" + String(content.count, radix: 16) }
    }

    package init(bytes: [UInt8], localPath: String? = nil, modified: Int? = nil) {
        self.init(content: SourceBytes(bytes), localPath: localPath, modified: modified)
    }

    init(content: SourceBytes, localPath: String?, modified: Int?) {
        self.content = content
        self.localPath = localPath
        self.modified = modified
    }
}

/// A source's bytes: all in memory, or, for a PNG from a local file, only
/// its first bytes, the rest left in the open file for the decoder to read as
/// it goes, so that memory does not grow with the file.
package struct SourceBytes: Sendable {
    /// Every byte, or the first ones when the rest is in `file`: the magic
    /// bytes and a PNG's header at least, when the source has them.
    package let loaded: [UInt8]
    /// The size in bytes.
    package let count: Int
    /// Where the bytes after `loaded` are read from.
    let file: OpenFile?

    package init(_ bytes: [UInt8]) {
        loaded = bytes
        count = bytes.count
        file = nil
    }

    init(first: [UInt8], count: Int, file: OpenFile) {
        loaded = first
        self.count = count
        self.file = file
    }

    /// Every byte in order, for a decoder that reads as it goes.
    func reader() -> SourceReader { SourceReader(self) }

    /// Every byte in memory.
    package func whole() throws(ThumbnailError) -> [UInt8] {
        try file?.readWhole() ?? loaded
    }
}

/// A local directory: a source is the file at the root's real path plus
/// its path, symlinks followed, and must stay inside the root's real path.
package struct DirectoryStorage: Storage {
    package let root: String

    package init(root: String) { self.root = root }

    package var description: String { "directory \(root)" }

    package func checkAvailable() throws(ThumbnailError) {
        _ = try rootRealPath()
    }

    package func checkReachable() throws(ThumbnailError) -> String {
        try checkAvailable()
        return description
    }

    package func read(_ path: SourcePath, limit: Int, sniff: Sniff) throws(ThumbnailError) -> SourceFile {
        try readSource(try resolve(path), limit: limit, sniff: sniff)
    }

    /// The real path of `source`: symlinks followed, still inside the root's real path.
    package func resolve(_ source: SourcePath) throws(ThumbnailError) -> String {
        let rootReal = try rootRealPath()
        let candidate = (rootReal == "/" ? "" : rootReal) + "/" + source.description
        guard let real = realPath(candidate) else {
            let code = errno
            throw ThumbnailError(
                code == ENOENT || code == ENOTDIR ? .notFound : .ioFailure, source.description, errnoText(code))
        }
        // Byte by byte: as Characters, a name starting with a combining mark would not extend the root's "/".
        guard rootReal == "/" || real.utf8.starts(with: (rootReal + "/").utf8) else {
            throw ThumbnailError(.forbidden, source.description, "resolves outside the storage root")
        }
        return real
    }

    private func rootRealPath() throws(ThumbnailError) -> String {
        guard let real = realPath(root) else {
            throw ThumbnailError(.misconfigured, root, "storage root: \(errnoText())")
        }
        var info = stat()
        guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ThumbnailError(.misconfigured, root, "storage root: not a directory")
        }
        guard access(real, R_OK | X_OK) == 0 else {
            throw ThumbnailError(.misconfigured, root, "storage root: \(errnoText())")
        }
        return real
    }
}

/// A file named on the command line when no storage root is configured:
/// the user's own path (absolute, relative, `..`, a symlink), read as any
/// shell tool reads it, with the same magic-byte check and limits.
func readPlainFile(_ path: String, limit: Int) throws(ThumbnailError) -> SourceFile {
    var source = try readSource(path, limit: limit, sniff: .imageMagic, followingLinks: true)
    source.localPath = realPath(path)
    return source
}
