// `--placeholder`: what the `<img>` shows in the box its width and height
// reserve, until the thumbnail loads: drawn from the source's own pixels,
// decoded once and only as large as a few pixels need.

/// What the `<img>` shows while the thumbnail loads: nothing, the source's
/// average colour, or a tiny image of it that the browser's scaling blurs.
package enum Placeholder: String, CaseIterable, Sendable {
    case none, colour, blur

    /// The long side of the image the colour is averaged over and the blur
    /// shows: enough for the blur's shapes, a few hundred bytes in base64.
    package static let side = 16
    /// The blur's WebP quality: the detail it would keep is lost to the scaling anyway.
    static let quality = 30

    /// The `<img>`'s style attribute that shows it, from the source at `path`; nil for none.
    func style(of source: SourceFile, path: SourcePath, engine: Engine) throws(ThumbnailError) -> String? {
        if self == .none { return nil }
        engine.magick.startRender()
        var miniature = try Renderer.miniature(
            of: source, path: path, side: Self.side, limits: engine.limits, threads: engine.magick.threads)
        switch self {
        case .none: return nil
        case .colour: return "background-color:#\(averageColour(try miniature.exportPixels()))"
        case .blur:
            let webp = try Renderer.encode(&miniature, as: .webp, quality: Self.quality)
            return "background-image:url(data:image/webp;base64,\(base64(webp)));background-size:cover;background-position:center"
        }
    }
}

/// Each of red, green and blue averaged over the pixels, rounded half up; alpha ignored.
func averageColour(_ pixels: Pixels) -> RGB {
    let count = pixels.width * pixels.height
    var sums = [0, 0, 0]
    for start in stride(from: 0, to: pixels.samples.count, by: pixels.channels.count) {
        for channel in 0..<3 { sums[channel] += Int(pixels.samples[start + channel]) }
    }
    let means = sums.map { UInt8((2 * $0 + count) / (2 * count)) }
    return RGB(red: means[0], green: means[1], blue: means[2])
}
