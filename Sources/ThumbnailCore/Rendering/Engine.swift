/// A rendered thumbnail, with what an HTTP reply says about it.
public struct Thumbnail: Sendable {
    public var bytes: [UInt8]
    public var format: OutputFormat
    /// The source's modification time, seconds since the epoch; nil for standard input.
    public var sourceModified: Int?
    /// The source's size in bytes.
    public var sourceBytes: Int
    public var phases = RenderPhases()
}

/// The wall-clock milliseconds of a thumbnail's phases.
public struct RenderPhases: Sendable {
    public var fetch = 0.0
    /// The source's header read and its pixels decoded.
    public var decode = 0.0
    /// Turned upright, scaled, converted to sRGB, cropped or padded.
    public var resize = 0.0
    public var encode = 0.0
}

/// Laps of the monotonic clock, in milliseconds.
struct PhaseClock {
    private var last = monotonicNanoseconds()

    /// The milliseconds since the last lap, or since the clock was made.
    mutating func lap() -> Double {
        let now = monotonicNanoseconds()
        defer { last = now }
        return Double(now - last) / 1e6
    }
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
            bytes: image.bytes, format: image.format, sourceModified: source.modified, sourceBytes: source.content.count,
            phases: image.phases)
    }

    /// Loads and renders; an error about the source's bytes names its path.
    public func thumbnail(for request: ThumbnailRequest) throws(ThumbnailError) -> Thumbnail {
        do {
            var clock = PhaseClock()
            let source = try load(request.source)
            let fetch = clock.lap()
            var thumbnail = try render(request, from: source)
            thumbnail.phases.fetch = fetch
            return thumbnail
        } catch {
            throw error.namingSource(String(describing: request.source))
        }
    }
}
