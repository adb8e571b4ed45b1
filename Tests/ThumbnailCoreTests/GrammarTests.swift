import TestSupport
import Testing

@testable import ThumbnailCore

struct GrammarTests {
    let grammar = PathGrammar()

    @Test(arguments: [
        ("/thumbnail/100x100/photos/cat.jpg", "/thumbnail/100x100/photos/cat.jpg"),
        ("/thumbnail/100x100/webp/photos/cat.jpg", "/thumbnail/100x100/webp/photos/cat.jpg"),
        ("/thumbnail/300x200,crop,q70/jpeg/a/b.png", "/thumbnail/300x200,crop,q70/jpeg/a/b.png"),
        ("/thumbnail/x64/avif/logo.png", "/thumbnail/x64/avif/logo.png"),
        ("/thumbnail/100x/jpg/a.png", "/thumbnail/100x/jpeg/a.png"),
        ("/thumbnail/100x100,q70,crop/a.png", "/thumbnail/100x100,crop,q70/a.png"),
        ("/thumbnail/100x100,q80,bgFFFFFF/a.png", "/thumbnail/100x100,q80/a.png"),
        ("/thumbnail/100x100,q80/jpeg/a.png", "/thumbnail/100x100/jpeg/a.png"),
        ("/thumbnail/100x100,q\(OutputFormat.webp.defaultQuality!)/webp/a.png", "/thumbnail/100x100/webp/a.png"),
        ("/thumbnail/100x100,q\(OutputFormat.avif.defaultQuality!)/avif/a.png", "/thumbnail/100x100/avif/a.png"),
        ("/thumbnail/100x100,q80/avif/a.png", "/thumbnail/100x100,q80/avif/a.png"),
        ("/thumbnail/100x100,q70/png/a.jpg", "/thumbnail/100x100/png/a.jpg"),
        ("/thumbnail/100x100,pad,q5/gif/a.jpg", "/thumbnail/100x100,pad/gif/a.jpg"),
        ("/thumbnail/100x100,bgFF0000,pad/a.png", "/thumbnail/100x100,pad,bgff0000/a.png"),
        ("https://cdn.example.com/thumbnail/100x100/a.png?v=3", "/thumbnail/100x100/a.png"),
        ("http://cdn.example.com/thumbnail/4096x1/a.png#top", "/thumbnail/4096x1/a.png"),
        ("/thumbnail/100x100/c%61t%20x.jpg", "/thumbnail/100x100/cat%20x.jpg"),
        ("/thumbnail/100x100/WEBP/a.jpg", "/thumbnail/100x100/WEBP/a.jpg"),
        ("/thumbnail/100x100/%252e%252e/a.jpg", "/thumbnail/100x100/%252e%252e/a.jpg"),
        ("/thumbnail/1x1/gif/%E2%82%AC.png", "/thumbnail/1x1/gif/%E2%82%AC.png"),
        // The default placement, spelled either way, is left out; the placement goes last.
        ("/thumbnail/100x100,crop,c/a.png", "/thumbnail/100x100,crop/a.png"),
        ("/thumbnail/100x100,c,pad/a.png", "/thumbnail/100x100,pad/a.png"),
        ("/thumbnail/100x100,crop,fp50.50/a.png", "/thumbnail/100x100,crop/a.png"),
        ("/thumbnail/100x100,ne,crop/a.png", "/thumbnail/100x100,crop,ne/a.png"),
        ("/thumbnail/100x100,sw,bg000000,pad/a.png", "/thumbnail/100x100,pad,bg000000,sw/a.png"),
        ("/thumbnail/100x100,smart,q70,crop/a.png", "/thumbnail/100x100,crop,q70,smart/a.png"),
        ("/thumbnail/100x100,fp0.100,crop/a.png", "/thumbnail/100x100,crop,fp0.100/a.png"),
        ("/thumbnail/100x100,crop,fp50.51/a.png", "/thumbnail/100x100,crop,fp50.51/a.png"),
        // A version goes last, as given.
        ("/thumbnail/100x100,v65f1a2b0-4e2f/a.png", "/thumbnail/100x100,v65f1a2b0-4e2f/a.png"),
        ("/thumbnail/100x100,vAb_9,crop,q70,n/webp/a.png", "/thumbnail/100x100,crop,q70,n,vAb_9/webp/a.png"),
    ])
    func canonicalForm(path: String, canonical: String) throws {
        let request = try grammar.parse(path)
        #expect(request.canonicalPath(prefix: "/thumbnail") == canonical)
        #expect(try grammar.parse(canonical) == request)
    }

    @Test func parsedFields() throws {
        let request = try grammar.parse("/thumbnail/300x200,pad,q70,bg102030/webp/a/b%20c.png")
        #expect(request.size == BoxSize(width: 300, height: 200))
        #expect(request.mode == .pad)
        #expect(request.quality == 70)
        #expect(request.background == RGB(red: 0x10, green: 0x20, blue: 0x30))
        #expect(request.format == .webp)
        #expect(request.source.segments == ["a", "b c.png"])
        let heightOnly = try grammar.parse("/thumbnail/x64/logo.png")
        #expect(heightOnly.size == BoxSize(width: nil, height: 64))
        #expect(heightOnly.format == nil)
        #expect(heightOnly.mode == .fit)
    }

    @Test func placements() throws {
        for gravity in Gravity.allCases where gravity != .centre {
            let request = try grammar.parse("/thumbnail/10x10,crop,\(gravity.rawValue)/a.png")
            #expect(request.placement == .gravity(gravity))
            #expect(try grammar.parse("/thumbnail/10x10,pad,\(gravity.rawValue)/a.png").placement == .gravity(gravity))
        }
        #expect(try grammar.parse("/thumbnail/10x10,crop,fp7.93/a.png").placement == .focalPoint(FocalPoint(x: 7, y: 93)))
        #expect(try grammar.parse("/thumbnail/10x10,crop,smart/a.png").placement == .smart)
        #expect(try grammar.parse("/thumbnail/10x10,crop/a.png").placement == .gravity(.centre))
    }

    @Test func customPrefix() throws {
        let bare = PathGrammar(prefix: "")
        #expect(try bare.parse("/10x10/a.png").canonicalPath(prefix: "") == "/10x10/a.png")
        let images = PathGrammar(prefix: "/img")
        #expect(try images.parse("/img/10x10/a.png").canonicalPath(prefix: "/img") == "/img/10x10/a.png")
        #expect(throws: ThumbnailError(.notFound, "/thumbnail/10x10/a.png", "not a thumbnail path: it does not start with '/img/'")) {
            try images.parse("/thumbnail/10x10/a.png")
        }
        for outside in ["/thumb/100x100/a.png", "thumbnail/100x100/a.png"] {
            #expect(thrown { _ = try grammar.parse(outside) }?.kind == .notFound, "\(outside)")
        }
    }

    @Test(arguments: [
        "/thumbnail/0x0/a.png", "/thumbnail/-1x5/a.png", "/thumbnail/0100x100/a.png", "/thumbnail/1e3x10/a.png",
        "/thumbnail/99999999999999999999x1/a.png", "/thumbnail/100x100x100/a.png", "/thumbnail/x/a.png",
        "/thumbnail/4097x1/a.png", "/thumbnail/+5x5/a.png", "/thumbnail/5 x5/a.png", "/thumbnail/100X100/a.png",
        "/thumbnail//a.png", "/thumbnail/100x100,zoom/a.png", "/thumbnail/100x100,crop,crop/a.png",
        "/thumbnail/100x100,crop,pad/a.png", "/thumbnail/100x100,q0/a.png", "/thumbnail/100x100,q101/a.png",
        "/thumbnail/100x100,q070/a.png", "/thumbnail/100x100,q/a.png", "/thumbnail/100x100,q70,q80/a.png",
        "/thumbnail/100x100,bg12345/a.png", "/thumbnail/100x100,bgzzzzzz/a.png", "/thumbnail/100x,crop/a.png",
        "/thumbnail/x100,pad/a.png", "/thumbnail/100x100,/a.png", "/thumbnail/100x100", "/thumbnail/100x100/",
        "/thumbnail/100x100/webp", "/thumbnail/100x100/webp/",
        // A placement needs crop (or pad, for a gravity), and there is one at most.
        "/thumbnail/100x100,n/a.png", "/thumbnail/100x100,c/a.png", "/thumbnail/100x100,fp10.10/a.png",
        "/thumbnail/100x100,smart/a.png", "/thumbnail/100x100,pad,smart/a.png", "/thumbnail/100x100,pad,fp10.10/a.png",
        "/thumbnail/100x100,pad,fp50.50/a.png", "/thumbnail/100x100,crop,n,n/a.png", "/thumbnail/100x100,crop,n,s/a.png",
        "/thumbnail/100x100,crop,c,c/a.png", "/thumbnail/100x100,crop,smart,n/a.png",
        "/thumbnail/100x100,crop,fp10.10,smart/a.png", "/thumbnail/100x100,crop,smart,smart/a.png",
        "/thumbnail/100x100,crop,fp1.1,fp1.1/a.png", "/thumbnail/100x,crop,n/a.png",
        // Spellings: lower-case compass points only; a focal point is two whole per-cents.
        "/thumbnail/100x100,crop,N/a.png", "/thumbnail/100x100,crop,north/a.png", "/thumbnail/100x100,crop,ce/a.png",
        "/thumbnail/100x100,crop,en/a.png", "/thumbnail/100x100,crop,Smart/a.png", "/thumbnail/100x100,crop,fp/a.png",
        "/thumbnail/100x100,crop,fp101.5/a.png", "/thumbnail/100x100,crop,fp05.5/a.png", "/thumbnail/100x100,crop,fp5/a.png",
        "/thumbnail/100x100,crop,fp5.5.5/a.png", "/thumbnail/100x100,crop,fp-1.5/a.png", "/thumbnail/100x100,crop,fp5./a.png",
        "/thumbnail/100x100,crop,fp.5/a.png", "/thumbnail/100x100,crop,fp5,5/a.png", "/thumbnail/100x100,crop,fp0.5x0.3/a.png",
        // A version: 1 to 64 of A-Z a-z 0-9 _ -, once.
        "/thumbnail/100x100,v/a.png", "/thumbnail/100x100,v1,v2/a.png", "/thumbnail/100x100,v1.2/a.png",
        "/thumbnail/100x100,v%41/a.png", "/thumbnail/100x100,v\(String(repeating: "7", count: 65))/a.png",
    ])
    func invalidPaths(path: String) {
        let error = thrown { _ = try grammar.parse(path) }
        #expect(error?.kind == .badPath, "\(path): \(String(describing: error))")
    }

    @Test(arguments: [
        ("/thumbnail/10x10/../etc/passwd", ThumbnailError.Kind.forbidden),
        ("/thumbnail/10x10/a/../../etc/passwd", .forbidden),
        ("/thumbnail/10x10/%2e%2e/etc/passwd", .forbidden),
        ("/thumbnail/10x10/%2E%2E/etc/passwd", .forbidden),
        ("/thumbnail/10x10/..%2fetc/passwd", .badPath),
        ("/thumbnail/10x10/%2e%2e%2fetc/passwd", .badPath),
        ("/thumbnail/10x10/a%00.jpg", .badPath),
        ("/thumbnail/10x10/a\\b.jpg", .badPath),
        ("/thumbnail/10x10/..%5cetc%5cpasswd", .badPath),
        ("/thumbnail/10x10//etc/passwd", .badPath),
        ("/thumbnail/10x10/a/./b.jpg", .badPath),
        ("/thumbnail/10x10/a%0a.jpg", .badPath),
        ("/thumbnail/10x10/a%7f.jpg", .badPath),
        ("/thumbnail/10x10/%zz.jpg", .badPath),
        ("/thumbnail/10x10/a%2.jpg", .badPath),
        ("/thumbnail/10x10/%ff.jpg", .badPath),
    ])
    func traversalRefused(path: String, kind: ThumbnailError.Kind) {
        let error = thrown { _ = try grammar.parse(path) }
        #expect(error?.kind == kind, "\(path): \(String(describing: error))")
    }

    @Test(arguments: [
        ("/etc/passwd", ThumbnailError.Kind.forbidden), ("../a.jpg", .forbidden), ("a/../../b.jpg", .forbidden),
        ("a//b.jpg", .badPath), ("./a.jpg", .badPath), ("a\\b.jpg", .badPath), ("a\u{1}.jpg", .badPath),
        ("", .badPath),
    ])
    func flagsFormPathsRefused(path: String, kind: ThumbnailError.Kind) {
        let error = thrown { _ = try SourcePath(filePath: path) }
        #expect(error?.kind == kind, "\(path): \(String(describing: error))")
    }

    @Test func flagsPathIsLiteral() throws {
        let path = try SourcePath(filePath: "photos/100% cat.jpg")
        #expect(path.segments == ["photos", "100% cat.jpg"])
        #expect(path.percentEncoded == "photos/100%25%20cat.jpg")
    }
}
