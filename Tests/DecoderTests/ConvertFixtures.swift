import Foundation
import TestSupport
import Testing

/// `convert`'s words for the decoder tests' sources.
enum ConvertFixture {
    /// A 640x480 plasma, seeded, so every run makes the same pixels.
    static let plasma = "convert -seed 3 -size 640x480 plasma:"
    /// A horizontal alpha ramp, transparent on the left.
    static let ramp = "-alpha set -channel A -fx 'i/w' +channel"
    /// A wide-gamut ICC profile, converted to sRGB on the way out.
    static let profile = "-profile /usr/share/color/icc/ghostscript/a98.icc"
}

/// The decoder tests' golden check: a thumbnail `rendered` by a decoder of
/// ours and the `whole` one from ImageMagick's full decode have the same size
/// and channels and are within 40 dB PSNR, their alpha too when they have
/// one (which `alphaExpected` requires).
func expectAlike(
    rendered: [UInt8], whole: [UInt8], in scratch: ScratchDirectory, _ label: String, alphaExpected: Bool = false
) throws {
    try Data(rendered).write(to: URL(fileURLWithPath: scratch.file("rendered.png")))
    try Data(whole).write(to: URL(fileURLWithPath: scratch.file("whole-resized.png")))
    let format = "'%wx%h %[channels]\\n'"
    let described = try sh("identify -format \(format) rendered.png whole-resized.png", directory: scratch.path)
        .split(separator: "\n")
    #expect(described.count == 2 && described[0] == described[1], "\(label): \(described)")
    let difference = try psnr("rendered.png", "whole-resized.png", in: scratch.path)
    #expect(difference >= 40, "\(label): \(difference) dB")
    let hasAlpha = described.first?.hasSuffix("a") == true
    if alphaExpected { #expect(hasAlpha, "\(label): no alpha") }
    if hasAlpha {
        try sh("convert rendered.png -alpha extract rendered-alpha.png", directory: scratch.path)
        try sh("convert whole-resized.png -alpha extract whole-alpha.png", directory: scratch.path)
        let alpha = try psnr("rendered-alpha.png", "whole-alpha.png", in: scratch.path)
        #expect(alpha >= 40, "\(label): alpha \(alpha) dB")
    }
}
