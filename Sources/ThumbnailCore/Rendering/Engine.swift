/// A rendered thumbnail, with what an HTTP reply says about it.
public struct Thumbnail: Sendable {
    public var bytes: [UInt8]
    public var format: OutputFormat
    /// The source's modification time, seconds since the epoch; nil for standard input.
    public var sourceModified: Int?
    /// The source's size in bytes.
    public var sourceBytes: Int
}

/// The one path from a request to bytes, shared by the command line, the
/// HTTP mode and the batch mode so all three give the same output. It reads
/// sources from its storage and knows nothing else of where they are.
public struct Engine: Sendable {
    public let storage: any Storage
    public let limits: Limits
    let magick: ImageMagick

    public init(storage: any Storage, limits: Limits, magick: ImageMagick) {
        self.storage = storage
        self.limits = limits
        self.magick = magick
    }

    /// Reads `source`, within the size limit, refused on its first bytes unless it is an image.
    public func load(_ source: SourcePath) throws(ThumbnailError) -> SourceFile {
        try storage.read(source, limit: limits.maxBytes, sniff: .imageMagic)
    }

    /// Renders `request` from `source`.
    public func render(_ request: ThumbnailRequest, from source: SourceFile) throws(ThumbnailError) -> Thumbnail {
        magick.startRender()
        let image = try Renderer.render(request, source: source.content, limits: limits, threads: magick.threads)
        return Thumbnail(
            bytes: image.bytes, format: image.format, sourceModified: source.modified, sourceBytes: source.content.count)
    }

    /// Loads and renders; an error about the source's bytes names its path.
    public func thumbnail(for request: ThumbnailRequest) throws(ThumbnailError) -> Thumbnail {
        do {
            return try render(request, from: try load(request.source))
        } catch {
            throw error.namingSource(String(describing: request.source))
        }
    }
}
