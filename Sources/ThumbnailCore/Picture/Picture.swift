// `--picture`: the `<picture>` element a page puts where one thumbnail goes,
// with a `srcset` per format and density, every URL canonical and signed as
// the origin serves it, and the `<img>`'s width and height those the renderer
// will really produce.

/// What `--picture` adds to a request: densities, formats, where URLs point, the alt text.
package struct PictureOptions: Sendable, Equatable {
    /// Ascending, 1 first; nil: `defaultDensities`.
    package var densities: [Int]? = nil
    /// In preference order, the last one the `<img>`'s; nil: the source decides (`defaultFormats`).
    package var formats: [OutputFormat]? = nil
    package var alt: String? = nil
    /// Put before each path: the CDN's `https://host`; empty for paths alone.
    package var base = ""

    package static let defaultDensities = [1, 2]
    package static let maxDensity = 8

    /// AVIF and WebP for the browsers that take them; the fallback is JPEG,
    /// or PNG when the source may be transparent, since JPEG would flatten it.
    package static func defaultFormats(transparent: Bool) -> [OutputFormat] {
        [.avif, .webp, transparent ? .png : .jpeg]
    }

    var isDefault: Bool { densities == nil && formats == nil && alt == nil }
}

/// `--picture`: one source or thumbnail path, and what the markup needs.
package struct PictureInvocation: Sendable {
    package var operand: String
    /// The request the flags describe; nil when the operand is a thumbnail path.
    package var flags: RequestFlags?
    package var picture: PictureOptions
    package var access: AccessOptions
    package var sources: SourceOptions
}

/// Makes the markup for requests, reading each source's header from storage.
struct PictureMaker: Sendable {
    let access: Access
    let engine: Engine
    let options: PictureOptions

    /// The request a thumbnail path (or URL) names. A signature it carries is
    /// dropped, as `--sign` drops it, since every URL is signed anew; its
    /// format, if any, gives way to the formats of the markup.
    func request(path: String) throws(ThumbnailError) -> ThumbnailRequest {
        let (signature, signed) = try access.grammar.splitSignature(path)
        if let signature, !access.requiresSignature { throw PathGrammar.unexpectedSignature(signature) }
        var request = try access.grammar.parse(signed: signed)
        request.format = nil
        return request
    }

    /// The `<picture>` element for `request`'s box, at 1x, over several
    /// lines. Its URLs carry the source's version as the storage has it now,
    /// whatever version a path named, so that a replaced source gets new URLs.
    func markup(for request: ThumbnailRequest) throws(ThumbnailError) -> String {
        _ = try access.checkSize(request.size)
        let file = try engine.load(request.source)
        let source = try file.bytes
        var request = request
        request.version = file.version ?? request.version
        let plan = try Renderer.plan(request, source: source, limits: engine.limits)
        let formats: [OutputFormat]
        if let chosen = options.formats {
            formats = chosen
        } else {
            let transparent = try mayBeTransparent(source, plan.sourceFormat, limits: engine.limits)
            formats = PictureOptions.defaultFormats(transparent: transparent)
        }
        let boxes = (options.densities ?? PictureOptions.defaultDensities).compactMap { density in
            box(request.size, at: density, plan: plan, mode: request.mode).map { (density, $0) }
        }
        func urls(_ format: OutputFormat) throws(ThumbnailError) -> [(url: String, density: Int)] {
            var urls: [(url: String, density: Int)] = []
            for (density, box) in boxes {
                var scaled = request
                scaled.size = box
                scaled.format = format
                let url = options.base + (try access.canonicalPath(scaled))
                // srcset strips a URL's trailing commas: it would name another path.
                if url.hasSuffix(",") {
                    throw ThumbnailError(.badPath, String(describing: request.source), "a name ending in ',' cannot stand in a srcset")
                }
                urls.append((url, density))
            }
            return urls
        }
        func srcset(_ urls: [(url: String, density: Int)]) -> String {
            urls.map { "\($0.url) \($0.density)x" }.joined(separator: ", ")
        }
        var lines = ["<picture>"]
        for format in formats.dropLast() {
            lines.append("  <source type=\"\(format.mediaType)\" srcset=\"\(htmlEscaped(srcset(try urls(format))))\">")
        }
        let fallback = try urls(formats.last!)
        let attributes = [
            ("src", fallback[0].url), ("srcset", srcset(fallback)), ("width", String(plan.layout.canvasWidth)),
            ("height", String(plan.layout.canvasHeight)), ("alt", options.alt ?? ""), ("loading", "lazy"),
            ("decoding", "async"),
        ]
        lines.append("  <img " + attributes.map { "\($0)=\"\(htmlEscaped($1))\"" }.joined(separator: " ") + ">")
        lines.append("</picture>")
        return lines.map { $0 + "\n" }.joined()
    }

    /// The box at `density`, or nil when it is left out: 1x always stays; a
    /// higher density only when the path grammar and `--sizes` allow its box
    /// and the source has the pixels for it, so that nothing is scaled up.
    func box(_ size: BoxSize, at density: Int, plan: RenderPlan, mode: FitMode) -> BoxSize? {
        if density == 1 { return size }
        let box = BoxSize(width: size.width.map { $0 * density }, height: size.height.map { $0 * density })
        guard max(box.width ?? 0, box.height ?? 0) <= access.grammar.maxSide,
            (try? access.checkSize(box)) != nil
        else { return nil }
        // Fit and pad are bound by one side: the source must reach it. Crop covers both.
        let reachesWidth = box.width.map { $0 <= plan.sourceWidth }
        let reachesHeight = box.height.map { $0 <= plan.sourceHeight }
        let covered =
            mode == .crop
            ? (reachesWidth ?? true) && (reachesHeight ?? true) : (reachesWidth ?? false) || (reachesHeight ?? false)
        return covered ? box : nil
    }
}

/// `text` safe in a double-quoted attribute value and in element content.
func htmlEscaped(_ text: String) -> String {
    var escaped = ""
    for character in text {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.append(character)
        }
    }
    return escaped
}

/// Whether the source's header says it may hold transparency: a PNG with an
/// alpha channel or a tRNS chunk, a WebP with its alpha flag, a GIF with a
/// transparent colour, a HEIC or AVIF with an alpha plane (libheif, already
/// loaded by the plan, reads the container). JPEG has none; TIFF counts as
/// opaque (its header is ImageMagick's to read): `--formats` says otherwise.
func mayBeTransparent(_ bytes: [UInt8], _ format: SourceFormat, limits: Limits) throws(ThumbnailError) -> Bool {
    switch format {
    case .png:
        // IHDR's colour type: 4 grey with alpha, 6 RGBA; else a tRNS chunk before the pixels.
        guard bytes.count > 25 else { return false }
        if bytes[25] == 4 || bytes[25] == 6 { return true }
        var index = 8
        while index + 8 <= bytes.count {
            let length = bytes[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
            let name = String(decoding: bytes[index + 4..<index + 8], as: UTF8.self)
            if name == "tRNS" { return true }
            if name == "IDAT" { return false }
            index += 12 + length
        }
        return false
    case .webp:
        for (name, body) in webpChunks(bytes) {
            // VP8X's flags hold the alpha bit; a lone VP8L says so in its header.
            if name == "VP8X", let flags = body.first { return flags & 0x10 != 0 }
            if name == "VP8L", body.count >= 5 { return body[body.startIndex + 4] & 0x10 != 0 }
        }
        return false
    case .gif: return gifHasTransparentColour(bytes)
    case .avif, .heic: return try HEIFDecoder.hasAlpha(bytes, limits: limits)
    case .jpeg, .tiff: return false
    }
}

/// Whether a graphic control extension before the first image names a transparent colour.
private func gifHasTransparentColour(_ bytes: [UInt8]) -> Bool {
    guard bytes.count >= 13 else { return false }
    // Header and logical screen descriptor, then the global colour table if its flag is set.
    var index = 13 + (bytes[10] & 0x80 != 0 ? 3 << (Int(bytes[10] & 0x07) + 1) : 0)
    while index + 1 < bytes.count, bytes[index] == 0x21 {
        let label = bytes[index + 1]
        index += 2
        if label == 0xf9, index + 1 < bytes.count, bytes[index] == 4 { return bytes[index + 1] & 0x01 != 0 }
        // Skip the extension's sub-blocks, up to the empty one.
        while index < bytes.count, bytes[index] != 0 { index += Int(bytes[index]) + 1 }
        index += 1
    }
    return false
}

/// `--picture`: the element for one source or path, on standard output.
func runPicture(_ invocation: PictureInvocation, state: ProcessState, io: ProcessIO) throws(ThumbnailError) -> Int32 {
    let maker = PictureMaker(
        access: try Access(invocation.access), engine: try state.engine(invocation.sources, io: io),
        options: invocation.picture)
    let request: ThumbnailRequest
    if let flags = invocation.flags {
        request = flags.request(source: try SourcePath(filePath: invocation.operand))
    } else {
        request = try maker.request(path: invocation.operand)
    }
    do {
        try io.writeOutput(Array(try maker.markup(for: request).utf8))
    } catch {
        throw error.namingSource(invocation.operand)
    }
    return 0
}

/// `--batch --picture`: one element per path of the list, in list order; a
/// path that fails gets its line on stderr instead, and the batch's exit status.
func runPictureBatch(
    _ paths: [String], options: PictureOptions, batch: BatchInvocation, listName: String, state: ProcessState,
    io: ProcessIO
) throws(ThumbnailError) -> Int32 {
    let maker = PictureMaker(
        access: try Access(batch.access), engine: try state.engine(batch.sources, io: io),
        options: options)
    var firstFailure: ThumbnailError? = nil
    var failed = 0
    try parallelMapInOrder(
        count: paths.count, threads: state.renders,
        makeWorker: {
            { index in
                Result { () throws(ThumbnailError) in try maker.markup(for: try maker.request(path: paths[index])) }
            }
        },
        progress: { _ in },
        deliver: { index, result throws(ThumbnailError) in
            switch result {
            case .success(let markup): try io.writeOutput(Array(markup.utf8))
            case .failure(let error):
                failed += 1
                firstFailure = firstFailure ?? error
                io.writeError("thumbnail: \(error.line(about: displayed(paths[index])))\n")
            }
        })
    guard let firstFailure else { return 0 }
    io.writeError("thumbnail: \(listName): \(failed) of \(paths.count) paths failed\n")
    return firstFailure.exitStatus
}

extension Settings {
    /// The markup options, with `--base` as the URLs' start.
    var pictureOptions: PictureOptions {
        var options = picture
        options.base = String((base ?? "").reversed().drop { $0 == "/" }.reversed())
        return options
    }
}
