import CHeif

// The only file that imports libheif. ImageMagick 6.9.11's HEIC coder,
// asked for AVIF, passes no quality to libheif and drops the alpha plane;
// this encodes the wand's pixels through libheif (libaom on Debian) itself.
// libheif is loaded on the first AVIF (see CHeif/heif.c), so no other run
// pays for loading it and the AV1 codecs it brings.

enum AVIFEncoder {
    /// 4:4:4: at thumbnail sizes 4:2:0 needs about a quarter more bytes for
    /// the same mean SSIM (the man page has the figures).
    static let chroma = "444"
    /// libaom's speed, 0 (slowest) to 9: libheif's default, the knee; 4 takes
    /// four times as long for 0.006 of SSIM, 7 loses 0.004 for half the time.
    static let speed = 6

    /// An AVIF of `pixels` at lossy `quality` (1...100), the alpha plane, if
    /// any, at the same quality: an `ftyp` of brand `avif`, the image items
    /// and the AV1 data, nothing else. One thread, so that the bytes never
    /// depend on scheduling and a batch's jobs keep the cores.
    static func encode(_ pixels: Pixels, quality: Int) throws(ThumbnailError) -> [UInt8] {
        if let failure = thumbnail_heif_load() {
            // Like a missing coder: this host lacks what the format needs.
            throw ThumbnailError(.encoderMissing, "encode avif", String(cString: failure))
        }
        guard let context = heif_context_alloc() else {
            throw ThumbnailError(.internalFailure, "encode avif", "libheif: out of memory")
        }
        defer { heif_context_free(context) }
        var encoder: OpaquePointer?
        try check(heif_context_get_encoder_for_format(context, heif_compression_AV1, &encoder), .encoderMissing)
        defer { heif_encoder_release(encoder) }
        try check(heif_encoder_set_lossy_quality(encoder, Int32(quality)))
        try check(heif_encoder_set_parameter_integer(encoder, "alpha-quality", Int32(quality)))
        try check(heif_encoder_set_parameter_string(encoder, "chroma", chroma))
        try check(heif_encoder_set_parameter_integer(encoder, "speed", Int32(speed)))
        try check(heif_encoder_set_parameter_integer(encoder, "threads", 1))

        let image = try heifImage(pixels)
        defer { heif_image_release(image) }
        guard let options = heif_encoding_options_alloc() else {
            throw ThumbnailError(.internalFailure, "encode avif", "libheif: out of memory")
        }
        defer { heif_encoding_options_free(options) }
        options.pointee.save_alpha_channel = 1
        try check(heif_context_encode_image(context, image, encoder, options, nil))

        var output: [UInt8] = []
        var writer = heif_writer(writer_api_version: 1) { _, data, size, userdata in
            let output = userdata!.assumingMemoryBound(to: [UInt8].self)
            output.pointee.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size))
            // A static message: libheif may read it.
            let success = UnsafeRawPointer(("Success" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
            return heif_error(code: heif_error_Ok, subcode: heif_suberror_Unspecified, message: success)
        }
        // The pointer to the array itself (`&output` alone would point at its elements).
        try check(withUnsafeMutablePointer(to: &output) { heif_context_write(context, &writer, $0) })
        return output
    }

    /// A libheif image holding a copy of `pixels`, interleaved.
    private static func heifImage(_ pixels: Pixels) throws(ThumbnailError) -> OpaquePointer {
        let layout = pixels.hasAlpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB
        var image: OpaquePointer?
        try check(heif_image_create(Int32(pixels.width), Int32(pixels.height), heif_colorspace_RGB, layout, &image))
        guard let image else { throw ThumbnailError(.internalFailure, "encode avif", "libheif: no image") }
        do throws(ThumbnailError) {
            try check(heif_image_add_plane(image, heif_channel_interleaved, Int32(pixels.width), Int32(pixels.height), 8))
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

    private static func check(_ error: heif_error, _ kind: ThumbnailError.Kind = .internalFailure) throws(ThumbnailError) {
        guard error.code != heif_error_Ok else { return }
        let message = error.message.map { String(cString: $0) } ?? "failed without a message"
        throw ThumbnailError(error.code == heif_error_Memory_allocation_error ? .tooLarge : kind, "encode avif", "libheif: \(message)")
    }
}
