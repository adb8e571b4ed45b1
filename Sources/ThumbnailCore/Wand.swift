import CMagickWand

// The only file that imports MagickWand: everything else sees `Wand`, which
// owns one MagickWand pointer and turns every failure into a ThumbnailError
// carrying ImageMagick's own message.

/// Process-wide set-up, run once before the first wand exists.
private let magickGenesis: Void = {
    MagickWandGenesis()
    // No pixel cache on disk: an image that does not fit in memory is refused.
    _ = MagickSetResourceLimit(DiskResource, 0)
    _ = MagickSetResourceLimit(MemoryResource, 1 << 30)
    _ = MagickSetResourceLimit(MapResource, 1 << 30)
    _ = MagickSetResourceLimit(WidthResource, 65_535)
    _ = MagickSetResourceLimit(HeightResource, 65_535)
    _ = MagickSetResourceLimit(TimeResource, 60)
}()

struct Wand: ~Copyable {
    private let wand: OpaquePointer

    init() {
        _ = magickGenesis
        wand = NewMagickWand()
    }

    deinit {
        DestroyMagickWand(wand)
    }

    /// Caps the threads ImageMagick uses inside one image operation, so that
    /// `count` of them times the batch's jobs stays within the cores.
    static func limitThreads(_ count: Int) {
        _ = magickGenesis
        _ = MagickSetResourceLimit(ThreadResource, MagickSizeType(count))
    }

    /// The ImageMagick version line, for `--version`.
    static var version: String {
        _ = magickGenesis
        var number = 0
        let delegates = MagickQueryConfigureOption("DELEGATES").map { String(cString: $0) } ?? "none"
        return String(cString: MagickGetVersion(&number)) + "\ndelegates: " + delegates
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
        try check(status, "source", .undecodable)
        let severity = MagickGetExceptionType(wand)
        if severity == CorruptImageWarning || severity.rawValue >= ErrorException.rawValue {
            throw failure("source", .undecodable)
        }
        guard MagickGetNumberImages(wand) >= 1, width > 0, height > 0 else {
            throw ThumbnailError(.undecodable, "source", "no image in the file")
        }
    }

    var width: Int { Int(MagickGetImageWidth(wand)) }
    var height: Int { Int(MagickGetImageHeight(wand)) }

    /// EXIF orientation 1...8, 1 when absent.
    var orientation: Int {
        let raw = Int(MagickGetImageOrientation(wand).rawValue)
        return (1...8).contains(raw) ? raw : 1
    }

    /// Turns the pixels upright and resets the orientation tag.
    mutating func autoOrient() throws(ThumbnailError) {
        try check(MagickAutoOrientImage(wand), "orient", .internalFailure)
    }

    mutating func resize(width: Int, height: Int) throws(ThumbnailError) {
        try check(MagickResizeImage(wand, width, height, LanczosFilter, 1.0), "resize", .internalFailure)
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
    mutating func encode(coder: String, quality: Int?) throws(ThumbnailError) -> [UInt8] {
        try check(MagickStripImage(wand), "strip", .internalFailure)
        try check(MagickSetImageDepth(wand, 8), "encode", .internalFailure)
        // The read pinned the source's coder in the wand's file name; pin the output's instead.
        try check(MagickSetFilename(wand, "\(coder):"), "encode", .internalFailure)
        try check(MagickSetImageFormat(wand, coder), "encode", .encoderMissing)
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

    private mutating func setBackground(_ colour: String) throws(ThumbnailError) {
        let pixel = NewPixelWand()
        defer { DestroyPixelWand(pixel) }
        guard PixelSetColor(pixel, colour) == MagickTrue else {
            throw ThumbnailError(.internalFailure, colour, "not a colour ImageMagick knows")
        }
        try check(MagickSetImageBackgroundColor(wand, pixel), "background", .internalFailure)
    }

    private func check(
        _ status: MagickBooleanType, _ subject: String, _ kind: ThumbnailError.Kind
    ) throws(ThumbnailError) {
        if status == MagickFalse { throw failure(subject, kind) }
    }

    /// The wand's pending exception as an error; resource limits become
    /// `tooLarge`, a missing delegate `encoderMissing`.
    private func failure(_ subject: String, _ kind: ThumbnailError.Kind) -> ThumbnailError {
        var severity = UndefinedException
        let message = MagickGetException(wand, &severity)
        defer { MagickRelinquishMemory(message) }
        _ = MagickClearException(wand)
        let text = message.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "ImageMagick failed"
        switch severity {
        case ResourceLimitError, ResourceLimitFatalError: return ThumbnailError(.tooLarge, subject, text)
        case MissingDelegateError: return ThumbnailError(.encoderMissing, subject, text)
        default: return ThumbnailError(kind, subject, text)
        }
    }
}
