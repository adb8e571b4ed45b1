internal import CHeif

// The only file that imports libheif, which reads HEIC and AVIF sources and
// writes AVIF output. It is loaded on the first of them (see CHeif/heif.c),
// so no other run pays for loading it and the codecs it brings.
//
// Sources: ImageMagick 6.9.11's HEIC coder holds the whole image at 16 bits
// a sample and drops an AVIF's alpha plane. libheif decodes the primary
// image here (or a thumbnail item of it that is large enough), from the
// bytes in memory, with its `irot`, `imir` and `clap` applied, and
// `BoxReducer` averages it down as its rows are read; the wand gets only
// pixels, 8 bits a sample or, from a deeper source, 16.
// An EXIF orientation is never applied on top: in HEIF the container's
// transformations are the orientation, and a writer that also kept the
// camera's EXIF tag would be turned twice.

enum HEIFDecoder {
    /// libheif's own bound on a side of every item it reads (tiles, alpha
    /// planes, thumbnails included); the pixel limit lowers it.
    static let largestSide = 32768

    /// The primary image's size, as displayed (its transformations applied).
    static func header(_ bytes: [UInt8], limits: Limits) throws(ThumbnailError) -> ImageHeader {
        try withPrimaryImage(bytes, limits: limits, threads: 1) { primary throws(ThumbnailError) in
            let (width, height) = size(primary)
            // libheif calls an image without its `ispe` property (its size) 0x0.
            guard width > 0, height > 0 else {
                throw ThumbnailError(.undecodable, "source", "HEIF image without a width and height")
            }
            return ImageHeader(width: width, height: height)
        }
    }

    /// Whether the primary image has an alpha plane.
    static func hasAlpha(_ bytes: [UInt8], limits: Limits) throws(ThumbnailError) -> Bool {
        try withPrimaryImage(bytes, limits: limits, threads: 1) { primary throws(ThumbnailError) in hasAlpha(primary) }
    }

    /// Decodes the primary image or, when one is at least `target` in both
    /// sides, its smallest thumbnail item, averaged down as the renderer
    /// pre-shrinks every source; with the ICC profile of the item, else of the
    /// primary image (an nclx colour description alone counts as sRGB). A
    /// grid's tiles, as phones write HEIC, decode on `threads`.
    static func decode(_ bytes: [UInt8], for target: (width: Int, height: Int), limits: Limits, threads: Int)
        throws(ThumbnailError) -> (pixels: Pixels, iccProfile: [UInt8]?)
    {
        try withPrimaryImage(bytes, limits: limits, threads: threads) { primary throws(ThumbnailError) in
            let thumbnail = try thumbnail(of: primary, covering: target)
            defer { if let thumbnail { heif_image_handle_release(thumbnail) } }
            let item = thumbnail ?? primary
            let pixels = try decodeItem(item, for: target)
            if let profile = try iccProfile(item) { return (pixels, profile) }
            return (pixels, try iccProfile(primary))
        }
    }

    /// Runs `body` on the primary image of `bytes`, read in place.
    private static func withPrimaryImage<Result>(
        _ bytes: [UInt8], limits: Limits, threads: Int, _ body: (OpaquePointer) throws(ThumbnailError) -> Result
    ) throws(ThumbnailError) -> Result {
        if let failure = thumbnail_heif_load() { throw OptionalLibrary.heif.missing(String(cString: failure)) }
        guard let context = heif_context_alloc() else {
            throw ThumbnailError(.internalFailure, "source", "libheif: out of memory")
        }
        defer { heif_context_free(context) }
        heif_context_set_maximum_image_size_limit(context, Int32(min(largestSide, limits.maxPixels)))
        // libheif's default is 4, whatever the cores and the batch's jobs.
        heif_context_set_max_decoding_threads(context, Int32(threads))
        return try bytes.withUnsafeBytes { buffer in
            Swift.Result { () throws(ThumbnailError) in
                try check(
                    heif_context_read_from_memory_without_copy(context, buffer.baseAddress, buffer.count, nil),
                    "source", .undecodable)
                var primary: OpaquePointer?
                try check(heif_context_get_primary_image_handle(context, &primary), "source", .undecodable)
                guard let primary else { throw ThumbnailError(.undecodable, "source", "libheif: no primary image") }
                defer { heif_image_handle_release(primary) }
                return try body(primary)
            }
        }.get()
    }

    private static func size(_ handle: OpaquePointer) -> (width: Int, height: Int) {
        (Int(heif_image_handle_get_width(handle)), Int(heif_image_handle_get_height(handle)))
    }

    private static func hasAlpha(_ handle: OpaquePointer) -> Bool { heif_image_handle_has_alpha_channel(handle) != 0 }

    /// The smallest thumbnail item of `primary` that covers `target` without
    /// upscaling (as vipsthumbnail chooses), has the primary image's shape to
    /// a pixel's rounding, no more pixels and its alpha, if any; nil if none.
    private static func thumbnail(of primary: OpaquePointer, covering target: (width: Int, height: Int))
        throws(ThumbnailError) -> OpaquePointer?
    {
        let count = Int(heif_image_handle_get_number_of_thumbnails(primary))
        guard count > 0 else { return nil }
        var ids = [heif_item_id](repeating: 0, count: count)
        let listed = Int(heif_image_handle_get_list_of_thumbnail_IDs(primary, &ids, Int32(count)))
        let full = size(primary)
        var best: (id: heif_item_id, pixels: Int)?
        for id in ids.prefix(listed) {
            let handle = try thumbnail(primary, id)
            defer { heif_image_handle_release(handle) }
            let (width, height) = size(handle)
            guard width >= target.width, height >= target.height, width <= full.width, height <= full.height,
                abs(width * full.height - height * full.width) <= max(full.width, full.height),
                hasAlpha(handle) || !hasAlpha(primary),
                width * height < best?.pixels ?? .max
            else { continue }
            best = (id, width * height)
        }
        guard let best else { return nil }
        return try thumbnail(primary, best.id)
    }

    private static func thumbnail(_ primary: OpaquePointer, _ id: heif_item_id) throws(ThumbnailError) -> OpaquePointer {
        var handle: OpaquePointer?
        try check(heif_image_handle_get_thumbnail(primary, id, &handle), "source", .undecodable)
        guard let handle else { throw ThumbnailError(.undecodable, "source", "libheif: no thumbnail \(id)") }
        return handle
    }

    /// Decodes one item, strictly, and averages it down as the renderer
    /// pre-shrinks. libheif 1.15 converts every image to planes of R, G and
    /// B (or gray), and alpha, at the coded depth; the rows are interleaved
    /// here one at a time as `BoxReducer` takes them, since asking libheif to
    /// interleave would cost another pass and copy of the whole image. Depths
    /// over 8 bits are scaled to 16.
    private static func decodeItem(_ item: OpaquePointer, for target: (width: Int, height: Int))
        throws(ThumbnailError) -> Pixels
    {
        guard let options = heif_decoding_options_alloc() else {
            throw ThumbnailError(.internalFailure, "source", "libheif: out of memory")
        }
        defer { heif_decoding_options_free(options) }
        options.pointee.strict_decoding = 1
        var decoded: OpaquePointer?
        try check(
            heif_decode_image(item, &decoded, heif_colorspace_undefined, heif_chroma_undefined, options), "source",
            .undecodable)
        guard let decoded else { throw ThumbnailError(.undecodable, "source", "libheif: no image decoded") }
        defer { heif_image_release(decoded) }

        var channels: [heif_channel], names: String
        switch (heif_image_get_colorspace(decoded), heif_image_get_chroma_format(decoded)) {
        case (heif_colorspace_RGB, heif_chroma_444): (channels, names) = ([heif_channel_R, heif_channel_G, heif_channel_B], "RGB")
        case (heif_colorspace_monochrome, heif_chroma_monochrome): (channels, names) = ([heif_channel_Y], "I")
        default: throw ThumbnailError(.undecodable, "source", "libheif decoded neither RGB nor gray planes")
        }
        if heif_image_has_channel(decoded, heif_channel_Alpha) != 0 {
            channels.append(heif_channel_Alpha)
            names += "A"
        }
        let stored = size(item)
        var planes: [Plane] = []
        for channel in channels {
            guard let plane = Plane(decoded, channel), plane.width <= stored.width, plane.height <= stored.height,
                plane.width == planes.first?.width ?? plane.width, plane.height == planes.first?.height ?? plane.height
            else {
                throw ThumbnailError(
                    .undecodable, "source", "libheif decoded planes that do not make the \(stored.width)x\(stored.height) image")
            }
            planes.append(plane)
        }
        let (width, height) = (planes[0].width, planes[0].height)
        let wide = planes.contains { $0.bits > 8 }
        var reducer = BoxReducer(
            sourceWidth: width, sourceHeight: height,
            to: Renderer.preShrinkSize(from: (width, height), to: target) ?? (width, height), channels: names,
            bitsPerSample: wide ? 16 : 8, rowsAtOnce: 1)
        // Colours multiplied by alpha (the `prem` reference) are divided back: `BoxReducer` weights them itself.
        let premultiplied = names.hasSuffix("A") && heif_image_is_premultiplied_alpha(decoded) != 0
        if wide {
            interleave(planes, into: &reducer, as: UInt16.self, premultiplied: premultiplied)
        } else {
            interleave(planes, into: &reducer, as: UInt8.self, premultiplied: premultiplied)
        }
        return reducer.finish()
    }

    /// One plane of a decoded image: 8 bits a sample in one byte, 9 to 16 in two.
    private struct Plane {
        let width: Int, height: Int, bits: Int
        let start: UnsafePointer<UInt8>, stride: Int

        /// nil when the image has no such plane, or one of another depth.
        init?(_ image: OpaquePointer, _ channel: heif_channel) {
            width = Int(heif_image_get_width(image, channel))
            height = Int(heif_image_get_height(image, channel))
            bits = Int(heif_image_get_bits_per_pixel_range(image, channel))
            var stride: Int32 = 0
            guard width > 0, height > 0, (8...16).contains(bits),
                let start = heif_image_get_plane_readonly(image, channel, &stride), Int(stride) >= width * (bits > 8 ? 2 : 1)
            else { return nil }
            self.start = start
            self.stride = Int(stride)
        }

        /// Sample `x` of row `y` as 8 bits (of an 8-bit plane) or 16 (of any plane), scaled to their range.
        @inline(__always) func sample<Sample: FixedWidthInteger & UnsignedInteger>(_ x: Int, _ y: Int) -> Sample {
            let row = UnsafeRawPointer(start + y * stride)
            if bits == 8 {
                let value = row.load(fromByteOffset: x, as: UInt8.self)
                return Sample.bitWidth == 8 ? Sample(value) : Sample(truncatingIfNeeded: Int(value) * 257)
            }
            let value = Int(row.load(fromByteOffset: 2 * x, as: UInt16.self))
            return Sample(truncatingIfNeeded: bits == 16 ? value : min(value * 65535 / (1 << bits - 1), 65535))
        }
    }

    /// Hands the planes to `reducer` a row at a time, their samples
    /// interleaved, the colours of a premultiplied image divided by alpha.
    private static func interleave<Sample: FixedWidthInteger & UnsignedInteger>(
        _ planes: [Plane], into reducer: inout BoxReducer, as: Sample.Type, premultiplied: Bool
    ) {
        let (width, height, count) = (planes[0].width, planes[0].height, planes.count)
        let top = Int(Sample.max)
        var row = [Sample](repeating: 0, count: width * count)
        for y in 0..<height {
            row.withUnsafeMutableBufferPointer { row in
                for (c, plane) in planes.enumerated() {
                    for x in 0..<width { row[x * count + c] = plane.sample(x, y) }
                }
                if premultiplied {
                    for x in 0..<width {
                        let alpha = Int(row[x * count + count - 1])
                        guard alpha > 0 else { continue }
                        for c in 0..<(count - 1) {
                            row[x * count + c] = Sample(min(top, (Int(row[x * count + c]) * top + alpha / 2) / alpha))
                        }
                    }
                }
                reducer.add(row: y, first: 0, step: 1, count: width, pixels: UnsafePointer(row.baseAddress!))
            }
            reducer.flush(completeRows: y + 1)
        }
    }

    /// An ICC profile (`prof` or `rICC`), if the item has one.
    private static func iccProfile(_ handle: OpaquePointer) throws(ThumbnailError) -> [UInt8]? {
        let type = heif_image_handle_get_color_profile_type(handle)
        guard type == heif_color_profile_type_prof || type == heif_color_profile_type_rICC else { return nil }
        var profile = [UInt8](repeating: 0, count: heif_image_handle_get_raw_color_profile_size(handle))
        guard !profile.isEmpty else { return nil }
        try check(heif_image_handle_get_raw_color_profile(handle, &profile), "colour profile", .undecodable)
        return profile
    }
}

enum AVIFEncoder {
    /// 4:4:4: at thumbnail sizes 4:2:0 needs about a quarter more bytes for
    /// the same mean SSIM (the man page has the figures).
    static let chroma = "444"
    /// libaom's speed, 0 (slowest) to 9: libheif's default, the knee; 4 takes
    /// four times as long for 0.006 of SSIM, 7 loses 0.004 for half the time.
    static let speed = 6
    /// What its failures name.
    private static let subject = "encode avif"

    /// An AVIF of `pixels` at lossy `quality` (1...100), the alpha plane, if
    /// any, at the same quality: an `ftyp` of brand `avif`, the image items
    /// and the AV1 data, nothing else. One thread, so that the bytes never
    /// depend on scheduling and a batch's jobs keep the cores.
    static func encode(_ pixels: Pixels, quality: Int) throws(ThumbnailError) -> [UInt8] {
        if let failure = thumbnail_heif_load() { throw OptionalLibrary.heif.missing(String(cString: failure)) }
        guard let context = heif_context_alloc() else {
            throw ThumbnailError(.internalFailure, subject, "libheif: out of memory")
        }
        defer { heif_context_free(context) }
        var encoder: OpaquePointer?
        try check(heif_context_get_encoder_for_format(context, heif_compression_AV1, &encoder), subject, .encoderMissing)
        defer { heif_encoder_release(encoder) }
        try check(heif_encoder_set_lossy_quality(encoder, Int32(quality)), subject, .internalFailure)
        try check(heif_encoder_set_parameter_integer(encoder, "alpha-quality", Int32(quality)), subject, .internalFailure)
        try check(heif_encoder_set_parameter_string(encoder, "chroma", chroma), subject, .internalFailure)
        try check(heif_encoder_set_parameter_integer(encoder, "speed", Int32(speed)), subject, .internalFailure)
        try check(heif_encoder_set_parameter_integer(encoder, "threads", 1), subject, .internalFailure)

        let image = try heifImage(pixels)
        defer { heif_image_release(image) }
        guard let options = heif_encoding_options_alloc() else {
            throw ThumbnailError(.internalFailure, subject, "libheif: out of memory")
        }
        defer { heif_encoding_options_free(options) }
        options.pointee.save_alpha_channel = 1
        try check(heif_context_encode_image(context, image, encoder, options, nil), subject, .internalFailure)

        var output: [UInt8] = []
        var writer = heif_writer(writer_api_version: 1) { _, data, size, userdata in
            let output = userdata!.assumingMemoryBound(to: [UInt8].self)
            output.pointee.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size))
            // A static message: libheif may read it.
            let success = UnsafeRawPointer(("Success" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
            return heif_error(code: heif_error_Ok, subcode: heif_suberror_Unspecified, message: success)
        }
        // The pointer to the array itself (`&output` alone would point at its elements).
        try check(
            withUnsafeMutablePointer(to: &output) { heif_context_write(context, &writer, $0) }, subject, .internalFailure)
        return output
    }

    /// A libheif image holding a copy of `pixels`, interleaved.
    private static func heifImage(_ pixels: Pixels) throws(ThumbnailError) -> OpaquePointer {
        let layout = pixels.hasAlpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB
        var image: OpaquePointer?
        try check(
            heif_image_create(Int32(pixels.width), Int32(pixels.height), heif_colorspace_RGB, layout, &image),
            subject, .internalFailure)
        guard let image else { throw ThumbnailError(.internalFailure, subject, "libheif: no image") }
        do throws(ThumbnailError) {
            try check(
                heif_image_add_plane(image, heif_channel_interleaved, Int32(pixels.width), Int32(pixels.height), 8),
                subject, .internalFailure)
        } catch {
            heif_image_release(image)
            throw error
        }
        var stride: Int32 = 0
        let plane = heif_image_get_plane(image, heif_channel_interleaved, &stride)!
        let rowBytes = pixels.width * (pixels.hasAlpha ? 4 : 3)
        pixels.samples.withUnsafeBytes { samples in
            for row in 0..<pixels.height {
                let source = samples.baseAddress! + row * rowBytes
                (plane + row * Int(stride)).update(from: source.assumingMemoryBound(to: UInt8.self), count: rowBytes)
            }
        }
        return image
    }
}

/// libheif's failure, with its own message: too large when it ran out of
/// memory or hit a limit, a missing encoder when it has no codec for the
/// format, else `kind`.
private func check(_ error: heif_error, _ subject: String, _ kind: ThumbnailError.Kind) throws(ThumbnailError) {
    guard error.code != heif_error_Ok else { return }
    let message = error.message.map { String(cString: $0) } ?? "failed without a message"
    let refused: ThumbnailError.Kind =
        error.code == heif_error_Memory_allocation_error
        ? .tooLarge : error.subcode == heif_suberror_Unsupported_codec ? .encoderMissing : kind
    throw ThumbnailError(refused, subject, "libheif: \(message)")
}
