import TestSupport
import Testing

@testable import ThumbnailCore

/// What the option loop and the settings make of `arguments`, as `run` sees them.
func parseSettings(_ arguments: [String], environment: [String: String] = [:]) throws -> (Settings, [String]) {
    let parsed = ParsedArguments(arguments)
    if let error = parsed.error { throw error }
    var settings = Settings()
    let failures = settings.apply(parsed.options, environment: environment)
    if let error = (failures.configuration + failures.commandLine).first { throw error }
    return (settings, parsed.operands)
}

struct OptionTests {
    func settings(_ arguments: [String]) throws -> (Settings, [String]) { try parseSettings(arguments) }

    @Test func spellings() throws {
        for arguments in [
            ["-s", "100x50", "-f", "webp", "a.jpg"], ["-s100x50", "-fwebp", "a.jpg"],
            ["--size=100x50", "--format", "webp", "a.jpg"], ["a.jpg", "--format=webp", "--size", "100x50"],
        ] {
            let (parsed, operands) = try settings(arguments)
            #expect(parsed.size == "100x50", "\(arguments)")
            #expect(parsed.format == .webp, "\(arguments)")
            #expect(operands == ["a.jpg"], "\(arguments)")
        }
    }

    @Test func bundledFlagsThenValue() throws {
        let (parsed, operands) = try settings(["-hs", "10x10", "-"])
        #expect(parsed.modes == [.help])
        #expect(parsed.size == "10x10")
        #expect(operands == ["-"])
    }

    @Test func doubleDashEndsOptions() throws {
        let (parsed, operands) = try settings(["-s", "9x", "--", "-odd.jpg", "--crop"])
        #expect(!parsed.crop)
        #expect(operands == ["-odd.jpg", "--crop"])
    }

    @Test(arguments: [
        (["--for", "webp"], "--for: unknown option; did you mean --format?"),
        (["--sise", "1x1"], "--sise: unknown option; did you mean --size?"),
        (["--frobnicate"], "--frobnicate: unknown option; see --help"),
        (["-z"], "-z: unknown option; see --help"),
        (["-s"], "--size: needs a value (WxH)"),
        (["--crop=yes"], "--crop: takes no value"),
        (["-f", "svg"], "--format: 'svg' is not one of jpeg, jpg, png, webp, gif, avif"),
        (["-f", "pdf"], "--format: 'pdf' is not one of jpeg, jpg, png, webp, gif, avif"),
        (["-f", "WEBP"], "--format: 'WEBP' is not one of jpeg, jpg, png, webp, gif, avif"),
        (["-q", "0"], "--quality: '0' is not a whole number from 1 to 100"),
        (["--max-side", "0"], "--max-side: '0' is not a whole number from 1"),
        (["--background", "fff"], "--background: 'fff' is not six hex digits"),
        (["--prefix", "img"], "--prefix: 'img' must be empty or start, not end, with '/'"),
        (["--cache-control", "a\r\nb"], "--cache-control: must be printable ASCII, not empty"),
        (["--gravity", "north"], "--gravity: 'north' is not one of n, ne, e, se, s, sw, w, nw, c"),
        (["--focal", "50.30"], "--focal: '50.30' is not X,Y, each a whole number from 0 to 100"),
        (["--focal", "50,101"], "--focal: '50,101' is not X,Y, each a whole number from 0 to 100"),
        (["--smart=yes"], "--smart: takes no value"),
    ])
    func usageErrors(arguments: [String], message: String) {
        let error = thrown { _ = try settings(arguments) }
        #expect(error?.kind == .usage)
        #expect(error?.description == message)
    }

    @Test func flagsRequestChecksCombinations() throws {
        let (both, _) = try settings(["-s", "10x10", "--crop", "--pad"])
        #expect(throws: ThumbnailError(.usage, "--crop", "cannot be combined with --pad")) { try both.requestFlags() }
        // What the path grammar refuses as a bad path, the flags refuse with the same status.
        let (oneSide, _) = try settings(["-s", "10x", "--pad"])
        #expect(throws: ThumbnailError(.badPath, "--pad", "pad needs both width and height")) {
            try oneSide.requestFlags()
        }
        let (zero, _) = try settings(["-s", "0x0"])
        #expect(throws: ThumbnailError(.badPath, "--size", "each side is a whole number from 1, without sign or leading zero")) {
            try zero.requestFlags()
        }
        let (tooLarge, _) = try settings(["-s", "5000x10"])
        #expect(throws: ThumbnailError(.badPath, "--size", "a side exceeds the maximum of 4096")) {
            try tooLarge.requestFlags()
        }
        let (large, _) = try settings(["-s", "5000x10", "--max-side", "8000"])
        #expect(try large.requestFlags().size == BoxSize(width: 5000, height: 10))
        let (none, _) = try settings(["a.jpg"])
        #expect(throws: ThumbnailError(.usage, "-s", "a size is required: -s WxH, Wx or xH, or -s N for NxN")) { try none.requestFlags() }
    }

    @Test(arguments: [
        (["--crop", "--gravity", "n", "--smart"], ThumbnailError(.usage, "--smart", "cannot be combined with --gravity")),
        (["--crop", "--focal", "1,2", "--smart"], ThumbnailError(.usage, "--smart", "cannot be combined with --focal")),
        (["--gravity", "n"], ThumbnailError(.usage, "--gravity", "a gravity needs crop or pad")),
        (["--gravity", "c"], ThumbnailError(.usage, "--gravity", "a gravity needs crop or pad")),
        (["--smart"], ThumbnailError(.usage, "--smart", "a focal point or smart needs crop")),
        (["--pad", "--focal", "1,2"], ThumbnailError(.usage, "--focal", "a focal point or smart needs crop")),
        (["--pad", "--smart"], ThumbnailError(.usage, "--smart", "a focal point or smart needs crop")),
    ])
    func placementFlagsNeedTheirMode(arguments: [String], expected: ThumbnailError) throws {
        let (parsed, _) = try settings(["-s", "10x10"] + arguments)
        #expect(throws: expected) { try parsed.requestFlags() }
    }

    @Test(arguments: [
        (["--crop", "--gravity", "se"], "/thumbnail/300x200,crop,se/a.png"),
        (["--pad", "--gravity", "w", "--background", "000000"], "/thumbnail/300x200,pad,bg000000,w/a.png"),
        (["--crop", "--gravity", "c"], "/thumbnail/300x200,crop/a.png"),
        (["--crop", "--focal", "10,90"], "/thumbnail/300x200,crop,fp10.90/a.png"),
        (["--crop", "--focal", "50,50"], "/thumbnail/300x200,crop/a.png"),
        (["--crop", "--smart"], "/thumbnail/300x200,crop,smart/a.png"),
    ])
    func placementFlagsMapToThePath(arguments: [String], path: String) throws {
        let (flags, _) = try settings(["-s", "300x200"] + arguments)
        let request = try flags.requestFlags().request(source: SourcePath(filePath: "a.png"))
        #expect(request.canonicalPath(prefix: "/thumbnail") == path)
        #expect(request == (try PathGrammar().parse(path)))
    }

    @Test func flagsMapToTheSameRequestAsThePath() throws {
        let (flags, _) = try settings(["-s", "300x200", "--crop", "-q", "70", "-f", "jpg", "a/b.png"])
        let fromFlags = try flags.requestFlags().request(source: SourcePath(filePath: "a/b.png"))
        #expect(fromFlags == (try PathGrammar().parse("/thumbnail/300x200,crop,q70/jpeg/a/b.png")))
    }

    @Test func helpFitsEightyColumnsAndListsEveryOption() {
        let help = helpText()
        for line in help.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        for spec in optionTable { #expect(help.contains("--" + spec.long + " ") || help.contains("--" + spec.long + "\n")) }
    }

    @Test func editDistanceIsLevenshtein() {
        #expect(editDistance("for", "format") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(editDistance("kitten", "sitting") == 3)
    }
}
