/// Where the pixels go: the size to resize to, the canvas, and the offset of
/// the crop window (crop) or of the image on the canvas (pad).
package struct Layout: Equatable, Sendable {
    package var resizeWidth: Int, resizeHeight: Int
    package var canvasWidth: Int, canvasHeight: Int
    package var x: Int = 0, y: Int = 0

    /// Fit (Pillow's `thumbnail()`: inside the box, aspect kept, never
    /// upscaled, each side rounded, at least 1), crop (cover the box, upscaling
    /// if need be, the window placed) or pad (fit, placed on the box). Smart
    /// plans the centred window: the renderer moves it once it has the pixels.
    package static func plan(
        width: Int, height: Int, box: BoxSize, mode: FitMode, placement: Placement = .gravity(.centre)
    ) -> Layout {
        let scaleX = box.width.map { Double($0) / Double(width) }
        let scaleY = box.height.map { Double($0) / Double(height) }
        func scaled(_ scale: Double) -> (Int, Int) {
            (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
        }
        switch mode {
        case .fit, .pad:
            let scale = min(scaleX ?? .infinity, scaleY ?? .infinity, 1)
            let (w, h) = scaled(scale)
            guard mode == .pad, let boxWidth = box.width, let boxHeight = box.height else {
                return Layout(resizeWidth: w, resizeHeight: h, canvasWidth: w, canvasHeight: h)
            }
            let (x, y) = offsets(placement, outer: (boxWidth, boxHeight), inner: (w, h))
            return Layout(
                resizeWidth: w, resizeHeight: h, canvasWidth: boxWidth, canvasHeight: boxHeight, x: x, y: y)
        case .crop:
            let boxWidth = box.width ?? width, boxHeight = box.height ?? height
            let (w, h) = scaled(max(scaleX ?? 0, scaleY ?? 0))
            let coverWidth = max(w, boxWidth), coverHeight = max(h, boxHeight)
            let (x, y) = offsets(placement, outer: (coverWidth, coverHeight), inner: (boxWidth, boxHeight))
            return Layout(
                resizeWidth: coverWidth, resizeHeight: coverHeight, canvasWidth: boxWidth, canvasHeight: boxHeight,
                x: x, y: y)
        }
    }

    /// Where `inner` goes in `outer`: the crop window in the scaled image, or
    /// the scaled image on the pad canvas (whose offset `Wand.pad` negates).
    private static func offsets(
        _ placement: Placement, outer: (width: Int, height: Int), inner: (width: Int, height: Int)
    ) -> (Int, Int) {
        let free = (outer.width - inner.width, outer.height - inner.height)
        switch placement {
        case .gravity(let gravity):
            return (
                gravity.offset(free: free.0, along: gravity.horizontal),
                gravity.offset(free: free.1, along: gravity.vertical)
            )
        case .focalPoint(let point):
            return (
                FocalPoint.offset(percent: point.x, image: outer.width, window: inner.width),
                FocalPoint.offset(percent: point.y, image: outer.height, window: inner.height)
            )
        case .smart: return (free.0 / 2, free.1 / 2)
        }
    }

    /// How much the resize scales an upright source of `width` x `height`:
    /// the scale of the side that bound it, the one a crop window spans (the
    /// other was rounded).
    func scale(fromWidth width: Int, height: Int) -> Double {
        resizeWidth == canvasWidth ? Double(resizeWidth) / Double(width) : Double(resizeHeight) / Double(height)
    }

    /// The crop window in the coordinates of the upright source, `width` x
    /// `height`, at `scale`.
    package func sourceWindow(width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let scale = scale(fromWidth: width, height: height)
        func source(_ value: Int) -> Int { Int((Double(value) / scale).rounded()) }
        // The rounded side may overshoot the source by a pixel or two: the window stays inside it.
        let w = min(source(canvasWidth), width), h = min(source(canvasHeight), height)
        return (min(source(x), width - w), min(source(y), height - h), w, h)
    }
}

/// What `--explain` reports and `render` acts on: the source as pinged and the plan.
package struct RenderPlan: Sendable {
    package var sourceFormat: SourceFormat
    /// The source's size as stored, before its EXIF orientation turns it.
    var stored: (width: Int, height: Int)
    package var orientation: Int
    package var output: OutputFormat
    /// The request's quality, else the output format's default; nil for a lossless format.
    package var quality: Int?
    /// In upright coordinates.
    package var layout: Layout

    /// The upright source, as a viewer shows it.
    package var sourceWidth: Int { Self.turned(stored, by: orientation).width }
    package var sourceHeight: Int { Self.turned(stored, by: orientation).height }

    /// The resize target in the source's stored orientation: what a decoder may scale to.
    var storedResize: (width: Int, height: Int) {
        Self.turned((layout.resizeWidth, layout.resizeHeight), by: orientation)
    }

    /// Orientations 5 to 8 swap the sides. Swapping twice is none, so this
    /// turns a stored size upright and an upright one back.
    static func turned(_ size: (width: Int, height: Int), by orientation: Int) -> (width: Int, height: Int) {
        orientation >= 5 ? (size.height, size.width) : size
    }
}

/// What a source may be before anything decodes it.
package struct Limits: Sendable {
    package static let defaultMaxBytes = 50 << 20
    package static let defaultMaxPixels = 50_000_000
    package static let defaultMaxFrames = 1000

    package var maxBytes = defaultMaxBytes
    package var maxPixels = defaultMaxPixels
    package var maxFrames = defaultMaxFrames

    package init() {}
}

package enum Renderer {
    /// Checks the source's header against `limits` (its size and format were
    /// checked as it was read), and plans the output. A PNG's first bytes
    /// alone may be in memory: its header is enough.
    package static func plan(
        _ request: ThumbnailRequest, source file: SourceFile, limits: Limits
    ) throws(ThumbnailError) -> RenderPlan {
        let source = file.content, bytes = source.loaded, format = file.format
        let frames = frameCount(bytes, format: format)
        guard frames <= limits.maxFrames else {
            throw ThumbnailError(.tooLarge, "source", "\(frames) frames exceeds the limit of \(limits.maxFrames)")
        }
        let header: ImageHeader
        if let read = try ImageHeader(bytes, format: format) {
            header = read
        } else if format == .heic || format == .avif {
            header = try HEIFDecoder.header(try source.whole(), limits: limits)
        } else {
            header = try pinged(try source.whole(), coder: format.coder)
        }
        // A PNG's or a TIFF's sides are 32 bits each: their product may pass Int's range.
        let (pixels, overflowed) = header.width.multipliedReportingOverflow(by: header.height)
        guard !overflowed, pixels <= limits.maxPixels else {
            throw ThumbnailError(
                .tooLarge, "source", "\(header.width)x\(header.height) exceeds the limit of \(limits.maxPixels) pixels")
        }
        let output = request.format ?? format.defaultOutput
        let upright = RenderPlan.turned((header.width, header.height), by: header.orientation)
        return RenderPlan(
            sourceFormat: format, stored: (header.width, header.height), orientation: header.orientation,
            output: output, quality: output.defaultQuality.map { request.quality ?? $0 },
            layout: Layout.plan(
                width: upright.width, height: upright.height, box: request.size, mode: request.mode,
                placement: request.placement))
    }

    /// What ImageMagick reads from the header of the formats `ImageHeader` does not know.
    private static func pinged(_ bytes: [UInt8], coder: String) throws(ThumbnailError) -> ImageHeader {
        var wand = try Wand()
        try wand.read(bytes, coder: coder, pingOnly: true)
        return ImageHeader(width: wand.width, height: wand.height, orientation: wand.orientation)
    }

    /// What a decoder averages a source down to, by area, before Lanczos
    /// does the rest: 5/4 of the target, once the source is larger than that
    /// (and no smaller on either side), so that Lanczos reduces by 1.25 at
    /// most; nil otherwise. ImageMagick's Lanczos costs as the square of its
    /// reduction (taps per pixel, and rows in its first pass): from 5/4 of
    /// the target instead of twice, less than half. The SSIM against Lanczos
    /// alone stays within 0.004 of libvips' (bench/warm.py); from 9/8, 0.006.
    static func preShrinkSize(from source: (width: Int, height: Int), to target: (width: Int, height: Int))
        -> (width: Int, height: Int)?
    {
        let preShrunk = (width: (5 * target.width + 2) / 4, height: (5 * target.height + 2) / 4)
        let shrinks =
            source.width >= preShrunk.width && source.height >= preShrunk.height
            && (source.width > preShrunk.width || source.height > preShrunk.height)
        return shrinks ? preShrunk : nil
    }

    /// Lanczos to `target`, after averaging down to `preShrinkSize` what the
    /// decoder did not, by area as the decoders do, as vipsthumbnail shrinks
    /// before it reduces: Lanczos over every source pixel costs many times as
    /// much.
    static func resize(_ wand: inout Wand, to target: (width: Int, height: Int)) throws(ThumbnailError) {
        if let preShrunk = preShrinkSize(from: (wand.width, wand.height), to: target) {
            try wand.average(width: preShrunk.width, height: preShrunk.height)
        }
        try wand.resize(width: target.width, height: target.height)
    }

    /// The source in a wand, decoded as small as its decoder allows without
    /// going below the resize target: libjpeg scales by eighths as it decodes;
    /// libwebp averages a still WebP down to the target itself, by area, as
    /// vipsthumbnail has it do (its SSIM against Lanczos alone then is
    /// libvips', bench/warm.py); libjpeg's, libpng's, giflib's, libtiff's and
    /// libheif's rows go through `BoxReducer`, down to `preShrinkSize`.
    /// `threads`: how many the decode may use, as the run's ProcessState allows.
    private static func decode(_ content: SourceBytes, plan: RenderPlan, limits: Limits, threads: Int) throws(ThumbnailError) -> Wand {
        let source = plan.stored, target = plan.storedResize
        let preShrunk = preShrinkSize(from: source, to: target)
        var wand = try Wand()
        // A PNG from a local file is still there past its first bytes, for its decoder to read.
        let bytes = plan.sourceFormat == .png ? [] : try content.whole()
        switch plan.sourceFormat {
        case .jpeg:
            let eighth = JPEGDecoder.scale(from: source, to: target) == 1
            let scans = (eighth ? ProgressiveJPEG.withoutFullResolutionAC(bytes) : nil) ?? bytes
            if let (pixels, iccProfile) = try JPEGDecoder.decode(scans, to: target) {
                try wand.constitute(pixels, iccProfile: iccProfile?[...])
            } else {
                // ImageMagick asks libjpeg for 1/floor(min(width/w, height/h)), which is 1/8 from 8 on.
                // Only to shrink: for a crop that scales the source up, libjpeg would scale it up too.
                let shrinks = target.width < source.width && target.height < source.height
                let hints = (shrinks ? [("jpeg:size", "\(target.width)x\(target.height)")] : []) + [
                    // EXIF, XMP and IPTC would be parsed only to be stripped: the header gave the
                    // orientation. The ICC profile (APP2) is still read, for the conversion to sRGB.
                    ("profile:skip", "APP,IPTC"),
                    // Smoothing only ever invents coefficients that scans left out.
                    ("jpeg:block-smoothing", "false"),
                ]
                try wand.read(scans, coder: plan.sourceFormat.coder, options: hints)
            }
        case .webp:
            let shrinks = source.width >= target.width && source.height >= target.height && source != target
            if let pixels = try WebPDecoder.decodeStill(bytes, scaledTo: shrinks ? target : nil) {
                try wand.constitute(pixels, iccProfile: webpChunks(bytes).first { $0.name == "ICCP" }?.body)
            } else {
                try wand.read(bytes, coder: plan.sourceFormat.coder)
            }
        case .png:
            // On two cores when a second is free (not in a batch of as many jobs as cores) and
            // the data is large: below 4 MiB inflating is quick, and the thread costs CPU.
            let inflateAside = content.count >= 4 << 20 && threads > 1
            if let (pixels, iccProfile) = try PNGDecoder.decode(content, scaledTo: preShrunk, inflateAside: inflateAside) {
                try wand.constitute(pixels, iccProfile: iccProfile?[...])
            } else {
                try wand.read(try content.whole(), coder: plan.sourceFormat.coder)
            }
        case .tiff:
            if let (pixels, iccProfile) = try TIFFDecoder.decode(bytes, scaledTo: preShrunk) {
                try wand.constitute(pixels, iccProfile: iccProfile?[...])
            } else {
                try wand.read(bytes, coder: plan.sourceFormat.coder)
            }
        case .gif:
            if let (pixels, iccProfile) = GIFDecoder.decode(bytes, frameSize: source, scaledTo: preShrunk) {
                try wand.constitute(pixels, iccProfile: iccProfile?[...])
            } else {
                try wand.read(bytes, coder: plan.sourceFormat.coder)
            }
        case .heic, .avif:
            let (pixels, iccProfile) = try HEIFDecoder.decode(bytes, for: target, limits: limits, threads: threads)
            try wand.constitute(pixels, iccProfile: iccProfile?[...])
        default:
            try wand.read(bytes, coder: plan.sourceFormat.coder)
        }
        // Never more pixels than the header promised and the limits allowed.
        guard wand.width <= source.width, wand.height <= source.height else {
            throw ThumbnailError(.undecodable, "source", "decoded \(wand.width)x\(wand.height), larger than its header says")
        }
        return wand
    }

    /// The decoded source made upright, scaled as planned and in sRGB: what
    /// each mode then crops or pads. A smart crop's window is chosen, put in
    /// `plan`, and returned. The layout returned places the crop window in
    /// what the wand holds: a crop that scales the source up scales only the
    /// part its window keeps.
    private static func orientAndScale(
        _ wand: inout Wand, plan: inout RenderPlan, request: ThumbnailRequest
    ) throws(ThumbnailError) -> (layout: Layout, choice: SmartChoice?) {
        try wand.setOrientation(plan.orientation)
        try wand.autoOrient()
        let smart = request.placement == .smart
        var layout = plan.layout, choice: SmartChoice? = nil
        let scale = layout.scale(fromWidth: wand.width, height: wand.height)
        if request.mode == .crop, scale > 1 {
            // Scaled up, the source shows nothing more: the window is chosen in it, then scaled.
            if smart {
                func side(_ window: Int, _ image: Int) -> Int { min(image, max(1, Int((Double(window) / scale).rounded()))) }
                let window = (side(layout.canvasWidth, wand.width), side(layout.canvasHeight, wand.height))
                let found = try SmartCrop.choose(in: wand, window: window, background: request.background)
                func scaled(_ offset: Int, _ free: Int) -> Int { min(free, Int((Double(offset) * scale).rounded())) }
                plan.layout.x = scaled(found.x, layout.resizeWidth - layout.canvasWidth)
                plan.layout.y = scaled(found.y, layout.resizeHeight - layout.canvasHeight)
                choice = SmartChoice(x: plan.layout.x, y: plan.layout.y, share: found.share, centreShare: found.centreShare)
            }
            layout = try cropBeforeUpscaling(&wand, layout: plan.layout, scale: scale)
        }
        if wand.width != layout.resizeWidth || wand.height != layout.resizeHeight {
            try resize(&wand, to: (layout.resizeWidth, layout.resizeHeight))
        }
        // After the resize, as vipsthumbnail does: a colour transform costs per pixel.
        try wand.convertToSRGB()
        if smart, choice == nil {
            // Scaled down, the window is chosen in the scaled image, never in the source.
            let found = try SmartCrop.choose(
                in: wand, window: (layout.canvasWidth, layout.canvasHeight), background: request.background)
            (plan.layout.x, plan.layout.y) = (found.x, found.y)
            (layout, choice) = (plan.layout, found)
        }
        return (layout, choice)
    }

    /// Crops the upright source to the window, with a margin of the filter's
    /// reach, and returns the layout that scales that part by `scale` and
    /// places the window in it, within half a pixel of where it was. The
    /// whole source scaled up to cover a tall or wide box (a 400x240
    /// photograph covering 1429x4096 is 6827x4096) would need more memory
    /// than ImageMagick's limits allow, for pixels the crop throws away.
    private static func cropBeforeUpscaling(
        _ wand: inout Wand, layout: Layout, scale: Double
    ) throws(ThumbnailError) -> Layout {
        let margin = 4.0
        func part(_ offset: Int, _ window: Int, _ side: Int) -> (start: Int, length: Int, scaled: Int, offset: Int) {
            let start = max(0, Int((Double(offset) / scale - margin).rounded(.down)))
            let end = min(side, Int((Double(offset + window) / scale + margin).rounded(.up)))
            let scaled = max(window, Int((Double(end - start) * scale).rounded()))
            let placed = Int((Double(offset) - Double(start) * scale).rounded())
            return (start, end - start, scaled, min(max(0, placed), scaled - window))
        }
        let across = part(layout.x, layout.canvasWidth, wand.width)
        let down = part(layout.y, layout.canvasHeight, wand.height)
        try wand.crop(width: across.length, height: down.length, x: across.start, y: down.start)
        return Layout(
            resizeWidth: across.scaled, resizeHeight: down.scaled, canvasWidth: layout.canvasWidth,
            canvasHeight: layout.canvasHeight, x: across.offset, y: down.offset)
    }

    /// The plan of a `smart` request with its window moved where `render`
    /// puts it, and the choice: it decodes and scales the source to find it.
    package static func smartPlan(
        _ request: ThumbnailRequest, source: SourceFile, limits: Limits, threads: Int
    ) throws(ThumbnailError) -> (plan: RenderPlan, choice: SmartChoice?) {
        var plan = try plan(request, source: source, limits: limits)
        var wand = try decode(source.content, plan: plan, limits: limits, threads: threads)
        let choice = try orientAndScale(&wand, plan: &plan, request: request).choice
        return (plan, choice)
    }

    /// The upright source fitted in a `side`-pixel square and in sRGB,
    /// decoded as small as its decoder allows: what a placeholder is drawn from.
    static func miniature(
        of source: SourceFile, path: SourcePath, side: Int, limits: Limits, threads: Int
    ) throws(ThumbnailError) -> Wand {
        let request = ThumbnailRequest(size: BoxSize(width: side, height: side), source: path)
        var plan = try plan(request, source: source, limits: limits)
        var wand = try decode(source.content, plan: plan, limits: limits, threads: threads)
        _ = try orientAndScale(&wand, plan: &plan, request: request)
        return wand
    }

    /// Renders the thumbnail in memory, with the time each phase took: the
    /// same request and bytes always give the same output bytes, whatever the
    /// `threads` its decode may use.
    package static func render(
        _ request: ThumbnailRequest, source: SourceFile, limits: Limits, threads: Int
    ) throws(ThumbnailError) -> (bytes: [UInt8], format: OutputFormat, phases: RenderPhases) {
        var clock = PhaseClock()
        var plan = try plan(request, source: source, limits: limits)
        var wand = try decode(source.content, plan: plan, limits: limits, threads: threads)
        var phases = RenderPhases(decode: clock.lap())
        let layout = try orientAndScale(&wand, plan: &plan, request: request).layout
        let background = "#\(request.background)"
        switch request.mode {
        case .fit: break
        case .crop: try wand.crop(width: layout.canvasWidth, height: layout.canvasHeight, x: layout.x, y: layout.y)
        case .pad:
            try wand.pad(
                width: layout.canvasWidth, height: layout.canvasHeight, x: layout.x, y: layout.y,
                background: background)
        }
        if plan.output == .jpeg { try wand.removeAlpha(background: background) }
        phases.resize = clock.lap()
        let bytes = try encode(&wand, as: plan.output, quality: plan.quality)
        phases.encode = clock.lap()
        return (bytes, plan.output, phases)
    }

    /// The output bytes (`quality` nil for the lossless formats): AVIF through
    /// libheif, the other formats through ImageMagick's coders with the
    /// settings that pay at thumbnail sizes (measured by bench/quality.py; the
    /// man page has the figures).
    static func encode(_ wand: inout Wand, as format: OutputFormat, quality: Int?) throws(ThumbnailError) -> [UInt8] {
        let coder = format.rawValue.uppercased()
        switch (format, quality) {
        case (.avif, let quality?):
            return try AVIFEncoder.encode(try wand.exportPixels(), quality: quality)
        case (.jpeg, let quality?):
            // Huffman tables fitted to the image, always: ImageMagick fits them only
            // when its memory limit allows. Baseline: progressive scans came out no
            // smaller at these sizes. Chroma: ImageMagick's 4:2:0 below q90, 4:4:4 from
            // it, named, since ImageMagick would otherwise keep a JPEG source's own.
            let chroma = quality < 90 ? "2x2" : "1x1"
            return try wand.encode(
                coder: coder, quality: quality, options: [("jpeg:optimize-coding", "true"), ("jpeg:sampling-factor", chroma)])
        case (.gif, _):
            // GIF's 256 colours chosen here: the coder would dither, at 128 MiB a render.
            try wand.quantizeWithoutDithering(colours: 256)
            return try wand.encode(coder: coder, quality: quality)
        default:
            // WebP at libwebp's default method 4: method 6, its slowest, saved 1.5%
            // of the bytes at equal SSIM for 20% more encoding time.
            return try wand.encode(coder: coder, quality: quality)
        }
    }

    /// Whether `format` can be written here: a 2x2 image through the same
    /// encoder as every thumbnail.
    package static func checkEncoder(_ format: OutputFormat) throws(ThumbnailError) {
        var wand = try Wand()
        try wand.constitute(
            Pixels(width: 2, height: 2, channels: "RGB", bitsPerSample: 8, samples: [UInt8](repeating: 128, count: 12)), iccProfile: nil)
        _ = try encode(&wand, as: format, quality: format.defaultQuality)
    }
}
