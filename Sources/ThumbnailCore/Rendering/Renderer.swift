/// Where the pixels go: the size to resize to, the canvas, and the offset of
/// the crop window (crop) or of the image on the canvas (pad).
public struct Layout: Equatable, Sendable {
    public var resizeWidth: Int, resizeHeight: Int
    public var canvasWidth: Int, canvasHeight: Int
    public var x: Int = 0, y: Int = 0

    /// Fit (Pillow's `thumbnail()`: inside the box, aspect kept, never
    /// upscaled, each side rounded, at least 1), crop (cover the box, upscaling
    /// if need be, centre window) or pad (fit, centred on the box).
    public static func plan(width: Int, height: Int, box: BoxSize, mode: FitMode) -> Layout {
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
            return Layout(
                resizeWidth: w, resizeHeight: h, canvasWidth: boxWidth, canvasHeight: boxHeight,
                x: (boxWidth - w) / 2, y: (boxHeight - h) / 2)
        case .crop:
            let boxWidth = box.width ?? width, boxHeight = box.height ?? height
            let (w, h) = scaled(max(scaleX ?? 0, scaleY ?? 0))
            let coverWidth = max(w, boxWidth), coverHeight = max(h, boxHeight)
            return Layout(
                resizeWidth: coverWidth, resizeHeight: coverHeight, canvasWidth: boxWidth, canvasHeight: boxHeight,
                x: (coverWidth - boxWidth) / 2, y: (coverHeight - boxHeight) / 2)
        }
    }
}

/// What `--explain` reports and `render` acts on: the source as pinged and the plan.
public struct RenderPlan: Sendable {
    public var sourceFormat: SourceFormat
    /// Upright dimensions (after EXIF orientation).
    public var sourceWidth: Int, sourceHeight: Int
    public var orientation: Int
    public var output: OutputFormat
    public var layout: Layout

    /// The source's size as stored, before the orientation turns it.
    var storedSource: (width: Int, height: Int) {
        orientation >= 5 ? (sourceHeight, sourceWidth) : (sourceWidth, sourceHeight)
    }

    /// The resize target in the source's stored orientation: what a decoder may scale to.
    var storedResize: (width: Int, height: Int) {
        orientation >= 5 ? (layout.resizeHeight, layout.resizeWidth) : (layout.resizeWidth, layout.resizeHeight)
    }
}

/// What a source may be before anything decodes it.
public struct Limits: Sendable {
    public var maxBytes = 50 << 20
    public var maxPixels = 50_000_000
    public var maxFrames = 1000

    public init() {}
}

public enum Renderer {
    /// Identifies the source by its bytes, checks its header against `limits`, and plans the output.
    public static func plan(
        _ request: ThumbnailRequest, source bytes: [UInt8], limits: Limits
    ) throws(ThumbnailError) -> RenderPlan {
        guard bytes.count <= limits.maxBytes else {
            throw ThumbnailError(.tooLarge, "source", "\(bytes.count) bytes exceeds the limit of \(limits.maxBytes)")
        }
        let format = try SourceFormat(sniffing: bytes)
        let frames = frameCount(bytes, format: format)
        guard frames <= limits.maxFrames else {
            throw ThumbnailError(.tooLarge, "source", "\(frames) frames exceeds the limit of \(limits.maxFrames)")
        }
        let header: ImageHeader
        if let read = try ImageHeader(bytes, format: format) {
            header = read
        } else {
            header = try pinged(bytes, coder: format.coder)
        }
        guard header.width * header.height <= limits.maxPixels else {
            throw ThumbnailError(
                .tooLarge, "source", "\(header.width)x\(header.height) exceeds the limit of \(limits.maxPixels) pixels")
        }
        let orientation = header.orientation
        let turned = orientation >= 5
        let width = turned ? header.height : header.width
        let height = turned ? header.width : header.height
        return RenderPlan(
            sourceFormat: format, sourceWidth: width, sourceHeight: height, orientation: orientation,
            output: request.format ?? format.defaultOutput,
            layout: Layout.plan(width: width, height: height, box: request.size, mode: request.mode))
    }

    /// What ImageMagick reads from the header of the formats `ImageHeader` does not know.
    private static func pinged(_ bytes: [UInt8], coder: String) throws(ThumbnailError) -> ImageHeader {
        var wand = try Wand()
        try wand.read(bytes, coder: coder, pingOnly: true)
        return ImageHeader(width: wand.width, height: wand.height, orientation: wand.orientation)
    }

    /// The source in a wand, decoded as small as its decoder allows without
    /// going below the resize target: libjpeg scales by 1/2, 1/4 or 1/8;
    /// libwebp, and libspng's and libtiff's rows through `BoxReducer`, average a source
    /// down to twice the target (Lanczos does the rest) from four times the
    /// target on, as `Wand.resize` would with its box filter.
    private static func decode(_ bytes: [UInt8], plan: RenderPlan) throws(ThumbnailError) -> Wand {
        let source = plan.storedSource, target = plan.storedResize
        let shrinks = source.width >= 4 * target.width && source.height >= 4 * target.height
        let halfway = shrinks ? (2 * target.width, 2 * target.height) : nil
        var wand = try Wand()
        switch plan.sourceFormat {
        case .jpeg:
            // ImageMagick asks libjpeg for 1/floor(min(width/w, height/h)), which is 1/8 from 8 on.
            let eighth = source.width >= 8 * target.width && source.height >= 8 * target.height
            let hints = [
                ("jpeg:size", "\(target.width)x\(target.height)"),
                // EXIF, XMP and IPTC would be parsed only to be stripped: the header gave the
                // orientation. The ICC profile (APP2) is still read, for the conversion to sRGB.
                ("profile:skip", "APP,IPTC"),
                // Smoothing only ever invents coefficients that scans left out.
                ("jpeg:block-smoothing", "false"),
            ]
            let scans = eighth ? ProgressiveJPEG.withoutFullResolutionAC(bytes) : nil
            try wand.read(scans ?? bytes, coder: plan.sourceFormat.coder, options: hints)
        case .webp:
            if let pixels = try WebPDecoder.decodeStill(bytes, scaledTo: halfway) {
                try wand.constitute(pixels, iccProfile: webpChunks(bytes).first { $0.name == "ICCP" }?.body)
            } else {
                try wand.read(bytes, coder: plan.sourceFormat.coder)
            }
        case .png:
            if let (pixels, iccProfile) = try PNGDecoder.decode(bytes, scaledTo: halfway) {
                try wand.constitute(pixels, iccProfile: iccProfile?[...])
            } else {
                try wand.read(bytes, coder: plan.sourceFormat.coder)
            }
        case .tiff:
            if let (pixels, iccProfile) = try TIFFDecoder.decode(bytes, scaledTo: halfway) {
                try wand.constitute(pixels, iccProfile: iccProfile?[...])
            } else {
                try wand.read(bytes, coder: plan.sourceFormat.coder)
            }
        default:
            try wand.read(bytes, coder: plan.sourceFormat.coder)
        }
        // Never more pixels than the header promised and the limits allowed.
        guard wand.width <= source.width, wand.height <= source.height else {
            throw ThumbnailError(.undecodable, "source", "decoded \(wand.width)x\(wand.height), larger than its header says")
        }
        return wand
    }

    /// Renders the thumbnail in memory: the same request and bytes always give the same output bytes.
    public static func render(
        _ request: ThumbnailRequest, source bytes: [UInt8], limits: Limits
    ) throws(ThumbnailError) -> (bytes: [UInt8], format: OutputFormat) {
        let plan = try plan(request, source: bytes, limits: limits)
        let layout = plan.layout
        var wand = try decode(bytes, plan: plan)
        try wand.setOrientation(plan.orientation)
        try wand.autoOrient()
        if wand.width != layout.resizeWidth || wand.height != layout.resizeHeight {
            try wand.resize(width: layout.resizeWidth, height: layout.resizeHeight)
        }
        // After the resize, as vipsthumbnail does: a colour transform costs per pixel.
        try wand.convertToSRGB()
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
        let quality = plan.output.isLossy ? request.quality : nil
        return (try wand.encode(coder: plan.output.rawValue.uppercased(), quality: quality), plan.output)
    }
}
