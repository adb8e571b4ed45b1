/// Rows of RGB, or RGBA when `hasAlpha`, 8 bits a sample, top row first:
/// what libwebp decodes into a wand and what the AVIF encoder takes out of one.
struct Pixels {
    var width: Int, height: Int
    var hasAlpha: Bool
    var samples: [UInt8]
}
