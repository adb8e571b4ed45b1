internal import CWebP

// The only file that imports libwebp. ImageMagick 6.9.11's WebP coder calls
// WebPDecode without scaling and then holds every pixel at 16 bits a sample;
// libwebp can scale while it decodes (area averaging), as vipsthumbnail has
// it do. Still images decode here; animations stay with ImageMagick's coder,
// whose demuxer finds the first frame.

enum WebPDecoder {
    /// Decodes a still WebP, scaled to `size` when given; nil for an animation.
    static func decodeStill(_ webp: [UInt8], scaledTo size: (width: Int, height: Int)?) throws(ThumbnailError)
        -> Pixels?
    {
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else {
            throw ThumbnailError(.internalFailure, "libwebp", "decoder version mismatch")
        }
        try check(webp.withUnsafeBufferPointer { WebPGetFeatures($0.baseAddress, $0.count, &config.input) })
        guard config.input.has_animation == 0 else { return nil }
        let hasAlpha = config.input.has_alpha != 0
        var width = Int(config.input.width), height = Int(config.input.height)
        if let size {
            config.options.use_scaling = 1
            config.options.scaled_width = Int32(size.width)
            config.options.scaled_height = Int32(size.height)
            (width, height) = size
        }
        let channels = hasAlpha ? 4 : 3
        // libwebp writes every row straight into `samples` (external memory, not zeroed first).
        config.output.colorspace = hasAlpha ? MODE_RGBA : MODE_RGB
        config.output.is_external_memory = 1
        var status = VP8_STATUS_OK
        let samples = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
            config.output.u.RGBA.rgba = buffer.baseAddress
            config.output.u.RGBA.stride = Int32(width * channels)
            config.output.u.RGBA.size = buffer.count
            status = webp.withUnsafeBufferPointer { WebPDecode($0.baseAddress, $0.count, &config) }
            count = status == VP8_STATUS_OK ? buffer.count : 0
        }
        WebPFreeDecBuffer(&config.output)
        try check(status)
        return Pixels(
            width: width, height: height, channels: hasAlpha ? "RGBA" : "RGB", bitsPerSample: 8, samples: samples)
    }

    private static func check(_ status: VP8StatusCode) throws(ThumbnailError) {
        let reason: String
        switch status {
        case VP8_STATUS_OK: return
        case VP8_STATUS_OUT_OF_MEMORY: throw ThumbnailError(.tooLarge, "source", "WebP: out of memory")
        case VP8_STATUS_INVALID_PARAM: reason = "invalid parameter"
        case VP8_STATUS_BITSTREAM_ERROR: reason = "corrupt bitstream"
        case VP8_STATUS_UNSUPPORTED_FEATURE: reason = "unsupported feature"
        case VP8_STATUS_NOT_ENOUGH_DATA: reason = "truncated file"
        default: reason = "decoding failed (status \(status.rawValue))"
        }
        throw ThumbnailError(.undecodable, "source", "WebP: \(reason)")
    }
}
