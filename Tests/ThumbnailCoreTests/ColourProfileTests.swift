import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// sRGB sources skip the colour transform; every other profile still gets it.
struct ColourProfileTests {
    static let profiles = "/usr/share/color/icc/ghostscript"

    func profile(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(Self.profiles)/\(name)")))
    }

    @Test func sRGBIsRecognisedByItsColorantsAndCurves() throws {
        // srgb.icc and default_rgb.icc: sampled curves; ours, from lcms: a parametric curve.
        #expect(isSRGB(try profile("srgb.icc")))
        #expect(isSRGB(try profile("default_rgb.icc")))
        #expect(isSRGB(sRGBProfile))
        // Other primaries (Adobe RGB, ROMM), sRGB primaries with other curves (e-sRGB, linear scRGB).
        for name in ["a98.icc", "rommrgb.icc", "esrgb.icc", "scrgb.icc", "sgray.icc", "default_cmyk.icc"] {
            #expect(!isSRGB(try profile(name)), "\(name)")
        }
        let srgb = try profile("srgb.icc")
        for broken in [[], Array(srgb.prefix(300)), Array(srgb.prefix(srgb.count - 100))] {
            #expect(!isSRGB(broken))
        }
    }

    /// `jpeg` with `icc` inserted as an APP2 segment after SOI, the pixels untouched.
    func tagged(_ jpeg: [UInt8], _ icc: [UInt8]) -> [UInt8] {
        let payload = Array("ICC_PROFILE\0".utf8) + [1, 1] + icc
        let length = payload.count + 2
        return Array(jpeg.prefix(2)) + [0xff, 0xe2, UInt8(length >> 8), UInt8(length & 0xff)] + payload + jpeg.dropFirst(2)
    }

    @Test func anSRGBTagChangesNoPixelWhileAnotherProfileDoes() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try makeFixtures(in: scratch)
        let plain = Array(try Data(contentsOf: URL(fileURLWithPath: scratch.file("landscape.jpg"))))
        try Data(tagged(plain, try profile("srgb.icc"))).write(to: URL(fileURLWithPath: scratch.file("srgb.jpg")))
        try Data(tagged(plain, try profile("a98.icc"))).write(to: URL(fileURLWithPath: scratch.file("a98.jpg")))
        let root = ["-r", scratch.path]
        let untagged = try thumbnail(root + ["/thumbnail/100x100/png/landscape.jpg"])
        #expect(untagged.status == 0, "\(untagged.error)")
        #expect(try thumbnail(root + ["/thumbnail/100x100/png/srgb.jpg"]).output == untagged.output)
        #expect(try thumbnail(root + ["/thumbnail/100x100/png/a98.jpg"]).output != untagged.output)
    }
}
