/// Rows of pixels, top row first, `channels` a pixel, each sample 8 or 16
/// bits (16-bit samples in the host's byte order): what the decoders outside
/// ImageMagick hand to `Wand.constitute`, and what an encoder outside it
/// takes from `Wand.exportPixels`.
struct Pixels {
    var width: Int, height: Int
    /// ImageMagick's names of a pixel's samples, in order: "RGB", "RGBA", "I" (gray) or "IA".
    var channels: String
    var bitsPerSample: Int
    var samples: [UInt8]

    var hasAlpha: Bool { channels.hasSuffix("A") }
}
