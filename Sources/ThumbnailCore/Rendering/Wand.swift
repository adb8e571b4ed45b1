internal import CMagickWand

// The only file that imports MagickWand: everything else sees `Wand`, which
// owns one MagickWand pointer and turns every failure into a ThumbnailError
// carrying ImageMagick's own message.

/// The only coders ImageMagick may use, for reading and writing alike
/// (libheif reads HEIC and AVIF sources and writes AVIF itself).
let allowedCoders = ["JPEG", "PNG", "GIF", "WEBP", "TIFF"]

/// Everything else is denied in-process, whatever /etc/ImageMagick-6/policy.xml
/// says (ImageTragick: MVG, MSL, SVG, PS, TXT, URL, `@file`...). The last
/// matching policy wins, so the denials come first.
private let securityPolicy = """
    <policymap>
      <policy domain="coder" rights="none" pattern="*" />
      <policy domain="coder" rights="read|write" pattern="{\(allowedCoders.joined(separator: ","))}" />
      <policy domain="delegate" rights="none" pattern="*" />
      <policy domain="filter" rights="none" pattern="*" />
      <policy domain="path" rights="none" pattern="@*" />
      <policy domain="module" rights="none" pattern="{MSL,MVG,SVG,PS,EPS,PDF,TXT,URL,HTTP,HTTPS,FTP,LABEL,TEXT}" />
    </policymap>
    """

/// ImageMagick's process-wide set-up: genesis and the security policy, once
/// per process; nil when the policy did not take effect (then nothing may be
/// decoded).
private let magickGenesis: String? = {
    MagickWandGenesis()
    let exception = AcquireExceptionInfo()
    defer { DestroyExceptionInfo(exception) }
    _ = SetMagickSecurityPolicy(securityPolicy, exception)
    let dangerous: [String] = ["SVG", "MVG", "MSL", "PS", "TXT", "URL"]
    func mayRead(_ coder: String) -> Bool { IsRightsAuthorized(CoderPolicyDomain, ReadPolicyRights, coder) == MagickTrue }
    guard !dangerous.contains(where: mayRead), allowedCoders.allSatisfy(mayRead) else {
        return "ImageMagick's security policy did not take effect"
    }
    return nil
}()

/// ImageMagick's process-wide state: its resource limits, its time limit and
/// its thread count. `run` makes one for the invocation and hands it to the
/// engine; nothing else changes that state, and making one sets every limit,
/// so what a render does never depends on what ran before it.
package struct ImageMagick: Sendable {
    /// ImageMagick's time limit runs from the process's first pixel cache
    /// and, when it expires, ends the process; setting it again restarts it.
    package enum TimeLimit: Sendable, Equatable {
        /// `secondsPerRender`, restarted before each render: one render at a time.
        case perRender
        /// None: renders in several threads cannot each have one, since a
        /// restart in one thread, read halfway by another, ends the process.
        case lifted
    }

    /// The limits asked for; /etc/ImageMagick-6/policy.xml may lower them.
    package static let secondsPerRender = 60
    package static let memoryBytes = 1 << 30
    package static let areaPixels = 256_000_000
    package static let sidePixels = 65_535

    package let timeLimit: TimeLimit
    /// How many threads one image's decode and operations may use, so that
    /// they times the renders at once stay within the cores.
    package let threads: Int

    package init(timeLimit: TimeLimit, threads: Int) throws(ThumbnailError) {
        if let failure = magickGenesis { throw ThumbnailError(.internalFailure, "ImageMagick", failure) }
        self.timeLimit = timeLimit
        self.threads = max(1, threads)
        // No pixel cache on disk: an image that does not fit in memory is refused.
        _ = MagickSetResourceLimit(DiskResource, 0)
        _ = MagickSetResourceLimit(MemoryResource, MagickSizeType(Self.memoryBytes))
        _ = MagickSetResourceLimit(MapResource, MagickSizeType(Self.memoryBytes))
        _ = MagickSetResourceLimit(AreaResource, MagickSizeType(Self.areaPixels))
        _ = MagickSetResourceLimit(WidthResource, MagickSizeType(Self.sidePixels))
        _ = MagickSetResourceLimit(HeightResource, MagickSizeType(Self.sidePixels))
        _ = MagickSetResourceLimit(ThreadResource, MagickSizeType(self.threads))
        switch timeLimit {
        case .perRender: _ = MagickSetResourceLimit(TimeResource, MagickSizeType(Self.secondsPerRender))
        case .lifted: _ = MagickSetResourceLimit(TimeResource, MagickSizeType(Int64.max))  // MagickResourceInfinity
        }
    }

    /// What the security policy left of a limit that was asked for: ImageMagick
    /// never raises one above what /etc/ImageMagick-6/policy.xml says.
    package struct EffectiveLimits: Sendable {
        package let area: Int, memory: Int, map: Int, width: Int, height: Int

        /// As the process's last `ImageMagick` set them.
        static var current: EffectiveLimits {
            func limit(_ type: ResourceType) -> Int { Int(clamping: MagickGetResourceLimit(type)) }
            return EffectiveLimits(
                area: limit(AreaResource), memory: limit(MemoryResource), map: limit(MapResource),
                width: limit(WidthResource), height: limit(HeightResource))
        }
    }

    package var effectiveLimits: EffectiveLimits { .current }

    /// What a first render would read, read now, without an image: the
    /// coders' modules and libraries (coder.xml), the delegates' list and the
    /// time zone. Processes forked afterwards find them ready, instead of
    /// each reading them again.
    func preload() {
        let exception = AcquireExceptionInfo()
        defer { DestroyExceptionInfo(exception) }
        for coder in allowedCoders { _ = GetMagickInfo(coder, exception) }
        _ = GetDelegateInfo(nil, nil, exception)
        tzset()
    }

    /// Called before each render.
    func startRender() {
        if timeLimit == .perRender { _ = MagickSetResourceLimit(TimeResource, MagickSizeType(Self.secondsPerRender)) }
    }

    /// The ImageMagick version line and its delegates, for `--version`.
    package static var version: String {
        _ = magickGenesis
        var number = 0
        let delegates = MagickQueryConfigureOption("DELEGATES").map { String(cString: $0) } ?? "none"
        return String(cString: MagickGetVersion(&number)) + "\ndelegates: " + delegates
    }
}

struct Wand: ~Copyable {
    private let wand: OpaquePointer

    /// A wand, once ImageMagick is set up and locked down.
    init() throws(ThumbnailError) {
        if let failure = magickGenesis { throw ThumbnailError(.internalFailure, "ImageMagick", failure) }
        wand = NewMagickWand()
    }

    /// Whether ImageMagick's policy lets `coder` read, for the tests.
    static func mayRead(_ coder: String) -> Bool {
        magickGenesis == nil && IsRightsAuthorized(CoderPolicyDomain, ReadPolicyRights, coder) == MagickTrue
    }

    deinit {
        DestroyMagickWand(wand)
    }

    /// Reads the first frame of `bytes` with `coder` and no other; with
    /// `pingOnly`, the header alone. `options` are coder hints such as
    /// `jpeg:size`. A read that reports corruption or leaves no pixels fails,
    /// even when ImageMagick calls it a success.
    mutating func read(
        _ bytes: [UInt8], coder: String, pingOnly: Bool = false, options: [(String, String)] = []
    ) throws(ThumbnailError) {
        // "CODER:" pins the coder (no sniffing); "[0]" asks for the first frame only.
        try check(MagickSetFilename(wand, "\(coder):source[0]"), "source", .undecodable)
        for (key, value) in options {
            try check(MagickSetOption(wand, key, value), "source", .internalFailure)
        }
        let status = bytes.withUnsafeBytes { buffer in
            pingOnly
                ? MagickPingImageBlob(wand, buffer.baseAddress, buffer.count)
                : MagickReadImageBlob(wand, buffer.baseAddress, buffer.count)
        }
        if status == MagickFalse {
            throw failure("source", .undecodable, otherwise: "unreadable: corrupt, or beyond ImageMagick's size limits")
        }
        if let (severity, message) = imageException(),
            severity == CorruptImageWarning || severity.rawValue >= ErrorException.rawValue
        {
            // Out of pixel cache ("cache resources exhausted") is refused for size, as in `failure`.
            throw ThumbnailError(
                severity == ResourceLimitError || severity == CacheError ? .tooLarge : .undecodable, "source", message)
        }
        guard MagickGetNumberImages(wand) >= 1, width > 0, height > 0 else {
            throw ThumbnailError(.undecodable, "source", "no image in the file")
        }
        // ImageMagick 6.9.11's animated WebP coder, when the first frame does not decode, leaves an
        // image of the canvas's size whose pixels cannot be read, and reports nothing.
        guard pingOnly || hasPixels else { throw ThumbnailError(.undecodable, "source", "corrupt image: no pixels decoded") }
    }

    /// Whether the image's pixels can be read (its first pixel, from the pixel cache).
    private var hasPixels: Bool {
        let pixel = NewPixelWand()
        defer { DestroyPixelWand(pixel) }
        return MagickGetImagePixelColor(wand, 0, 0, pixel) == MagickTrue
    }

    /// Makes the wand's image from pixels decoded outside ImageMagick, with
    /// their ICC profile, if any, for `convertToSRGB`.
    mutating func constitute(_ pixels: Pixels, iccProfile: ArraySlice<UInt8>?) throws(ThumbnailError) {
        // ImageMagick 6.9.11's ConstituteImage aborts the process (an assertion fails) when the pixel
        // cache refuses the size, as its limits (Debian's policy: 16000 pixels a side) make it: a tall
        // source fitted to its own width decodes to more rows than that.
        let limits = ImageMagick.EffectiveLimits.current
        guard pixels.width <= limits.width, pixels.height <= limits.height, pixels.width * pixels.height <= limits.area else {
            throw ThumbnailError(
                .tooLarge, "source",
                "\(pixels.width)x\(pixels.height) exceeds ImageMagick's limits of \(limits.width)x\(limits.height) and \(limits.area) pixels")
        }
        let status = pixels.samples.withUnsafeBytes {
            MagickConstituteImage(
                wand, pixels.width, pixels.height, pixels.channels, pixels.bitsPerSample == 16 ? ShortPixel : CharPixel,
                $0.baseAddress)
        }
        try check(status, "source", .tooLarge)
        if let iccProfile {
            let status = iccProfile.withUnsafeBytes { MagickSetImageProfile(wand, "icc", $0.baseAddress, $0.count) }
            try check(status, "colour profile", .undecodable)
        }
    }

    /// The pixels as RGB, or RGBA when some pixel is not opaque: an encoder
    /// outside ImageMagick takes them from here.
    func exportPixels() throws(ThumbnailError) -> Pixels {
        let width = self.width, height = self.height
        func export(_ map: String) throws(ThumbnailError) -> [UInt8] {
            var status = MagickFalse
            let samples = [UInt8](unsafeUninitializedCapacity: width * height * map.count) { buffer, count in
                status = MagickExportImagePixels(wand, 0, 0, width, height, map, CharPixel, buffer.baseAddress)
                count = status == MagickTrue ? buffer.count : 0
            }
            try check(status, "export", .internalFailure)
            return samples
        }
        if MagickGetImageAlphaChannel(wand) == MagickTrue {
            let samples = try export("RGBA")
            if stride(from: 3, to: samples.count, by: 4).contains(where: { samples[$0] != 255 }) {
                return Pixels(width: width, height: height, channels: "RGBA", bitsPerSample: 8, samples: samples)
            }
        }
        return Pixels(width: width, height: height, channels: "RGB", bitsPerSample: 8, samples: try export("RGB"))
    }

    var width: Int { Int(MagickGetImageWidth(wand)) }
    var height: Int { Int(MagickGetImageHeight(wand)) }

    /// EXIF orientation 1...8, 1 when absent.
    var orientation: Int {
        let raw = Int(MagickGetImageOrientation(wand).rawValue)
        return (1...8).contains(raw) ? raw : 1
    }

    /// Converts the pixels to sRGB: through the embedded ICC profile when there
    /// is one and it is not sRGB already, by formula from CMYK when there is
    /// none. Gray stays gray.
    mutating func convertToSRGB() throws(ThumbnailError) {
        var length = 0
        if let embedded = MagickGetImageProfile(wand, "icc", &length) {
            let profile = Array(UnsafeBufferPointer(start: embedded, count: length))
            MagickRelinquishMemory(embedded)
            if isSRGB(profile) { return }
            let status = sRGBProfile.withUnsafeBytes { MagickProfileImage(wand, "icc", $0.baseAddress, $0.count) }
            try check(status, "colour profile", .undecodable)
        } else if MagickGetImageColorspace(wand) == CMYKColorspace {
            try check(MagickTransformImageColorspace(wand, sRGBColorspace), "colour", .internalFailure)
        }
    }

    /// Sets the EXIF orientation (1...8) that `autoOrient` applies.
    mutating func setOrientation(_ orientation: Int) throws(ThumbnailError) {
        try check(MagickSetImageOrientation(wand, OrientationType(UInt32(orientation))), "orient", .internalFailure)
    }

    /// Turns the pixels upright and resets the orientation tag.
    mutating func autoOrient() throws(ThumbnailError) {
        try check(MagickAutoOrientImage(wand), "orient", .internalFailure)
    }

    /// Lanczos, 3 lobes, as vipsthumbnail's lanczos3.
    mutating func resize(width: Int, height: Int) throws(ThumbnailError) {
        try check(MagickResizeImage(wand, width, height, LanczosFilter, 1.0), "resize", .internalFailure)
    }

    /// Each pixel the mean of the area it covers, fractions of a pixel at its
    /// edges (ImageMagick's scale), as `BoxReducer` averages: a quick shrink.
    mutating func average(width: Int, height: Int) throws(ThumbnailError) {
        try check(MagickScaleImage(wand, width, height), "resize", .internalFailure)
    }

    /// `count` rows of pixels from row `y`, 8-bit RGBA (alpha 255 where the image has none), for `SmartCrop`.
    func rgbaRows(from y: Int, count: Int) throws(ThumbnailError) -> [UInt8] {
        var rows = [UInt8](repeating: 0, count: width * count * 4)
        let status = rows.withUnsafeMutableBytes {
            MagickExportImagePixels(wand, 0, y, width, count, "RGBA", CharPixel, $0.baseAddress)
        }
        try check(status, "smart crop", .internalFailure)
        return rows
    }

    /// Keeps a `width`x`height` window at (`x`, `y`) and forgets the old canvas.
    mutating func crop(width: Int, height: Int, x: Int, y: Int) throws(ThumbnailError) {
        try check(MagickCropImage(wand, width, height, x, y), "crop", .internalFailure)
        try check(MagickSetImagePage(wand, width, height, 0, 0), "crop", .internalFailure)
    }

    /// Places the image at (`x`, `y`) on a `width`x`height` canvas of `background`.
    mutating func pad(width: Int, height: Int, x: Int, y: Int, background: String) throws(ThumbnailError) {
        try setBackground(background)
        try check(MagickExtentImage(wand, width, height, -x, -y), "pad", .internalFailure)
    }

    /// Composites any transparency onto `background`.
    mutating func removeAlpha(background: String) throws(ThumbnailError) {
        guard MagickGetImageAlphaChannel(wand) == MagickTrue else { return }
        try setBackground(background)
        try check(MagickSetImageAlphaChannel(wand, RemoveAlphaChannel), "flatten", .internalFailure)
        try check(MagickSetImageAlphaChannel(wand, DeactivateAlphaChannel), "flatten", .internalFailure)
    }

    /// Encodes with every profile, comment and property left out; `quality`
    /// nil leaves the coder's own default (PNG reads quality as zlib settings).
    /// `options` are coder settings such as `jpeg:optimize-coding`.
    mutating func encode(
        coder: String, quality: Int?, options: [(String, String)] = []
    ) throws(ThumbnailError) -> [UInt8] {
        try check(MagickStripImage(wand), "strip", .internalFailure)
        // No density either: JPEG's JFIF header then says 1:1 without units, and PNG has no pHYs.
        try check(MagickSetImageResolution(wand, 0, 0), "strip", .internalFailure)
        try check(MagickSetImageUnits(wand, UndefinedResolution), "strip", .internalFailure)
        try check(MagickSetImageDepth(wand, 8), "encode", .internalFailure)
        // The read pinned the source's coder in the wand's file name; pin the output's instead.
        try check(MagickSetFilename(wand, "\(coder):"), "encode", .internalFailure)
        try check(MagickSetImageFormat(wand, coder), "encode", .encoderMissing)
        for (key, value) in options {
            try check(MagickSetOption(wand, key, value), "encode", .internalFailure)
        }
        if let quality {
            try check(MagickSetImageCompressionQuality(wand, quality), "encode", .internalFailure)
        }
        var length = 0
        guard let blob = MagickGetImageBlob(wand, &length), length > 0 else {
            throw failure("encode \(coder)", .encoderMissing)
        }
        defer { MagickRelinquishMemory(blob) }
        return Array(UnsafeBufferPointer(start: blob, count: length))
    }

    /// At most `colours` colours, each pixel the nearest of them. ImageMagick's
    /// dithering needs a 128 MiB table for every image, however small.
    mutating func quantizeWithoutDithering(colours: Int) throws(ThumbnailError) {
        try check(MagickQuantizeImage(wand, colours, sRGBColorspace, 0, MagickFalse, MagickFalse), "quantize", .internalFailure)
    }

    private mutating func setBackground(_ colour: String) throws(ThumbnailError) {
        let pixel = NewPixelWand()
        defer { DestroyPixelWand(pixel) }
        guard PixelSetColor(pixel, colour) == MagickTrue else {
            throw ThumbnailError(.internalFailure, colour, "not a colour ImageMagick knows")
        }
        try check(MagickSetImageBackgroundColor(wand, pixel), "background", .internalFailure)
    }

    /// The worst exception the coder left on the image: in ImageMagick 6 a
    /// coder reports a truncated or corrupt file there, not to the wand, and
    /// the read still "succeeds".
    private func imageException() -> (ExceptionType, String)? {
        guard let image = GetImageFromMagickWand(wand) else { return nil }
        let info = AcquireExceptionInfo()!
        defer { DestroyExceptionInfo(info) }
        GetImageException(image, info)
        let severity = info.pointee.severity
        guard severity != UndefinedException else { return nil }
        let reason = info.pointee.reason.map { String(cString: $0) } ?? "corrupt image"
        return (severity, plainReason(reason))
    }

    private func check(
        _ status: MagickBooleanType, _ subject: String, _ kind: ThumbnailError.Kind
    ) throws(ThumbnailError) {
        if status == MagickFalse { throw failure(subject, kind) }
    }

    /// The wand's pending exception as an error; resource limits become
    /// `tooLarge`, a missing delegate `encoderMissing`.
    private func failure(
        _ subject: String, _ kind: ThumbnailError.Kind, otherwise fallback: String = "ImageMagick failed without a message"
    ) -> ThumbnailError {
        var severity = UndefinedException
        let message = MagickGetException(wand, &severity)
        defer { MagickRelinquishMemory(message) }
        _ = MagickClearException(wand)
        let text = message.map { plainReason(String(cString: $0)) }.flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        switch severity {
        case ResourceLimitError, ResourceLimitFatalError, CacheError: return ThumbnailError(.tooLarge, subject, text)
        case MissingDelegateError: return ThumbnailError(.encoderMissing, subject, text)
        default: return ThumbnailError(kind, subject, text)
        }
    }
}

/// ImageMagick's reason without what only its own developers read: the file
/// name it was given (`source', the wand's, not the user's; `' for an image
/// it made itself) and the place in its code (" @ warning/jpeg.c/JPEGWarningHandler/389").
func plainReason(_ message: String) -> String {
    var text = message
    if let at = text.ranges(of: " @ ").last, text[at.upperBound...].contains("/") {
        text = String(text[..<at.lowerBound])
    }
    for quoted in [" `source'", " `source[0]'", " `'"] { text = text.replacing(quoted, with: "") }
    return text
}
