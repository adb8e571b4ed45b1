/// A rendered thumbnail, with what an HTTP reply says about it.
public struct Thumbnail: Sendable {
    public var bytes: [UInt8]
    public var format: OutputFormat
    /// The source's modification time, seconds since the epoch; nil for standard input.
    public var sourceModified: Int?
}

/// The one path from a request to bytes, shared by the command line, the
/// HTTP mode and the batch mode so all three give the same output.
public struct Engine: Sendable {
    public var settings: Settings

    public init(settings: Settings) { self.settings = settings }

    /// Resolves `source` under the storage root and reads it, within the size limit.
    public func load(_ source: SourcePath) throws(ThumbnailError) -> SourceFile {
        let real = try StorageRoot(settings.root).resolve(source)
        return try readSource(real, limit: settings.limits.maxBytes)
    }

    /// Renders `request` from `source`.
    public func render(_ request: ThumbnailRequest, from source: SourceFile) throws(ThumbnailError) -> Thumbnail {
        // Per render, not per process: a batch or a kept-alive connection outlives 60 s.
        Wand.restartTimeLimit()
        let image = try Renderer.render(request, source: source.bytes, limits: settings.limits)
        return Thumbnail(bytes: image.bytes, format: image.format, sourceModified: source.modified)
    }

    /// Loads and renders.
    public func thumbnail(for request: ThumbnailRequest) throws(ThumbnailError) -> Thumbnail {
        try render(request, from: try load(request.source))
    }
}
