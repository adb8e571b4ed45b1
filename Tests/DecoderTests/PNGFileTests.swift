import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// A PNG from a local file is read into memory only as far as its header;
/// its decoder reads the rest from the open file as it goes, within the
/// same limit, and renders what the whole file in memory renders.
final class PNGFileTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
        // 640x480, about 600 KB: past what is read before the decoder starts.
        try sh("\(ConvertFixture.plasma) \(ConvertFixture.ramp) PNG32:plasma.png", directory: scratch.path)
    }

    deinit { scratch.remove() }

    var storage: DirectoryStorage { DirectoryStorage(root: scratch.path) }
    let request = ThumbnailRequest(size: BoxSize(width: 60, height: 60), source: try! SourcePath(filePath: "plasma.png"))

    func load(_ name: String, limit: Int = Limits().maxBytes) throws -> SourceFile {
        try storage.read(try SourcePath(filePath: name), limit: limit)
    }

    @Test func rendersFromTheFileAsFromMemory() throws {
        let source = try load("plasma.png")
        let whole = try scratch.bytes("plasma.png")
        #expect(source.content.loaded.count == pngFirstBytes && source.content.count == whole.count)
        #expect(try source.bytes == whole)
        let fromFile = try imageMagickAlone { try Renderer.render(request, source: source, limits: Limits(), threads: 1) }
        let fromMemory = try imageMagickAlone { try Renderer.render(request, source: try SourceFile(identifying: whole), limits: Limits(), threads: 1) }
        #expect(fromFile.bytes == fromMemory.bytes)
    }

    @Test func otherFormatsAreReadWhole() throws {
        try sh("convert -seed 3 -size 640x480 plasma: plasma.jpg", directory: scratch.path)
        let source = try load("plasma.jpg")
        #expect(source.content.loaded == (try scratch.bytes("plasma.jpg")))
    }

    @Test func smallPNGIsWhollyInMemory() throws {
        try sh("convert -size 16x16 xc:red small.png", directory: scratch.path)
        let source = try load("small.png")
        #expect(source.content.loaded == (try scratch.bytes("small.png")))
        var small = request
        small.source = try SourcePath(filePath: "small.png")
        let rendered = try imageMagickAlone { try Renderer.render(small, source: source, limits: Limits(), threads: 1) }
        #expect(rendered.format == .png && !rendered.bytes.isEmpty)
    }

    /// The file replaced in place after it was opened by one over the limit
    /// (the same pixels stored without compression): refused as too large
    /// once the decoder has read past the limit, not decoded to its end.
    @Test func fileGrownPastTheLimitWhileDecodingIsTooLarge() throws {
        let limit = try scratch.bytes("plasma.png").count + 1000
        let source = try load("plasma.png", limit: limit)
        try sh("convert plasma.png -define png:compression-level=0 PNG32:stored.png && cat stored.png > plasma.png", directory: scratch.path)
        #expect(try scratch.bytes("plasma.png").count > limit)
        #expect {
            try imageMagickAlone { try Renderer.render(request, source: source, limits: Limits(), threads: 1) }
        } throws: { ($0 as? ThumbnailError)?.kind == .tooLarge }
    }

    /// Cut short after it was opened: the decoder finds it truncated, and
    /// ImageMagick, given what is left, refuses it.
    @Test func fileCutShortWhileDecodingIsRefused() throws {
        let source = try load("plasma.png")
        #expect(truncate(scratch.file("plasma.png"), off_t(pngFirstBytes + 1000)) == 0)
        #expect {
            try imageMagickAlone { try Renderer.render(request, source: source, limits: Limits(), threads: 1) }
        } throws: { $0 is ThumbnailError }
    }
}
