import Foundation
import TestSupport
import Testing

@testable import Documentation
@testable import ThumbnailCore

/// The committed man page, README and completions hold what `make docs`
/// writes from the tables now.
struct GeneratedDocumentationTests {
    @Test func committedFilesAreUpToDate() throws {
        for region in try generatedRegions() {
            let contents = try String(contentsOfFile: packageDirectory + "/" + region.file, encoding: .utf8)
            #expect(
                try region.apply(to: contents) == contents,
                "\(region.file): '\(region.name)' is not what the tables give: run make docs, and commit the result")
        }
    }

    /// An option added to the table without its text fails here, by name, until it has one.
    @Test func everyOptionHasItsManualText() {
        #expect(throws: Never.self) { try generatedRegions() }
    }

    @Test func regionIsWrittenBetweenItsMarkers() throws {
        let region = GeneratedRegion(file: "f", name: "list", text: "new\n", style: .shell)
        let file = ["before", region.beginMarker, "old", "", "old", region.endMarker, "after"].joined(separator: "\n")
        #expect(try region.apply(to: file) == ["before", region.beginMarker, "new", region.endMarker, "after"].joined(separator: "\n"))
        #expect(throws: DocumentationError.missingMarkers(file: "f", region: "list", begin: region.beginMarker)) {
            try region.apply(to: "no markers here\n")
        }
    }

    /// A default is the option's `defaultValue`, which --help, the man page
    /// and the completions show: a help line that gave it too would repeat it.
    @Test func helpLinesLeaveTheDefaultToTheTable() {
        for spec in optionTable {
            #expect(!spec.help.contains("default"), "--\(spec.long): its help line names a default; give it as `default:`")
        }
    }
}
