/// A rendered thumbnail, with what an HTTP reply says about it.
package struct Thumbnail: Sendable {
    package var bytes: [UInt8]
    package var format: OutputFormat
    /// The source's modification time, seconds since the epoch; nil for standard input.
    package var sourceModified: Int?
    /// The source's size in bytes.
    package var sourceBytes: Int
    package var phases = RenderPhases()
}

/// The wall-clock milliseconds of a thumbnail's phases.
package struct RenderPhases: Sendable {
    package var fetch = 0.0
    /// The source's header read and its pixels decoded.
    package var decode = 0.0
    /// Turned upright, scaled, converted to sRGB, cropped or padded.
    package var resize = 0.0
    package var encode = 0.0
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
package struct Engine: Sendable {
    package let storage: any Storage
    package let limits: Limits
    let magick: ImageMagick

    package init(storage: any Storage, limits: Limits, magick: ImageMagick) {
        self.storage = storage
        self.limits = limits
        self.magick = magick
    }

    /// Reads `source`, within the size limit, refused on its first bytes unless it is an image.
    package func load(_ source: SourcePath) throws(ThumbnailError) -> SourceFile {
        try storage.read(source, limit: limits.maxBytes, sniff: .imageMagic)
    }

    /// Renders `request` from `source`.
    package func render(_ request: ThumbnailRequest, from source: SourceFile) throws(ThumbnailError) -> Thumbnail {
        magick.startRender()
        let image = try Renderer.render(request, source: source.content, limits: limits, threads: magick.threads)
        return Thumbnail(
            bytes: image.bytes, format: image.format, sourceModified: source.modified, sourceBytes: source.content.count,
            phases: image.phases)
    }

    /// Loads and renders; an error about the source's bytes names its path.
    package func thumbnail(for request: ThumbnailRequest) throws(ThumbnailError) -> Thumbnail {
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
