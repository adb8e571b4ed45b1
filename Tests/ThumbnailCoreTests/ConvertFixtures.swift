/// `convert`'s words for the decoder tests' sources.
enum ConvertFixture {
    /// A 640x480 plasma, seeded, so every run makes the same pixels.
    static let plasma = "convert -seed 3 -size 640x480 plasma:"
    /// A horizontal alpha ramp, transparent on the left.
    static let ramp = "-alpha set -channel A -fx 'i/w' +channel"
    /// A wide-gamut ICC profile, converted to sRGB on the way out.
    static let profile = "-profile /usr/share/color/icc/ghostscript/a98.icc"
}
