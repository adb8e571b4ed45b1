import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The one table of kinds, exit statuses and HTTP statuses, and the two
/// documents that restate it.
struct StatusTableTests {
    /// Written out in full: changing any one kind's exit status, HTTP status
    /// or cacheability fails here.
    @Test func everyKindHasItsStatuses() {
        let expected: [(ThumbnailError.Kind, Int32, Int, Bool)] = [
            (.usage, 64, 400, false), (.badPath, 65, 400, false), (.unsupportedMedia, 65, 415, false),
            (.undecodable, 65, 422, false), (.tooLarge, 65, 422, false), (.notFound, 66, 404, false),
            (.encoderMissing, 69, 503, true), (.internalFailure, 70, 500, true), (.cannotCreate, 73, 500, true),
            (.ioFailure, 74, 500, true), (.forbidden, 77, 403, false), (.misconfigured, 78, 503, true),
            (.storeFailure, 69, 502, true),
        ]
        #expect(ThumbnailError.Kind.allCases.count == expected.count)
        for (kind, exit, http, originFailure) in expected {
            let error = ThumbnailError(kind, "x", "y")
            #expect(error.exitStatus == exit, "\(kind)")
            #expect(error.httpStatus == http, "\(kind)")
            #expect(error.statuses.originFailure == originFailure, "\(kind)")
        }
    }

    @Test func serverStatusesGiveExitStatuses() {
        let expected: [(Int, Int32)] = [
            (400, 65), (403, 77), (404, 66), (415, 65), (422, 65), (500, 70), (502, 69), (503, 69), (301, 74),
            (401, 74), (504, 74), (0, 74),
        ]
        for (http, exit) in expected { #expect(ThumbnailError.exitStatus(forServerStatus: http) == exit, "\(http)") }
    }

    /// The rows both documents must show, in the table's order, after `0 200 Done`.
    var rows: [(exit: String, http: String, meaning: String)] {
        [("0", "200", "Done")]
            + ThumbnailError.table.map { (String($0.statuses.exit), String($0.statuses.http), $0.statuses.meaning) }
    }

    @Test func manPageExitStatusIsTheTable() throws {
        let man = try String(contentsOfFile: packageDirectory + "/man/thumbnail.1", encoding: .utf8)
        let section = man.components(separatedBy: ".Sh EXIT STATUS")[1].components(separatedBy: ".Sh ")[0]
        let found = section.split(separator: "\n").filter { $0.hasPrefix(".It ") && !$0.hasPrefix(".It Sy") }.map {
            line in
            let cells = line.dropFirst(4).components(separatedBy: " Ta ")
            return (exit: cells[0], http: cells[2], meaning: cells[4])
        }
        #expect(found.map(\.exit) == rows.map(\.exit))
        #expect(found.map(\.http) == rows.map(\.http))
        #expect(found.map(\.meaning) == rows.map(\.meaning))
        // Kept: the origin's failures are not.
        let kept = section.split(separator: "\n").filter { $0.hasPrefix(".It ") && !$0.hasPrefix(".It Sy") }.dropFirst()
            .map { $0.components(separatedBy: " Ta ")[3] }
        #expect(kept == ThumbnailError.table.map { $0.statuses.originFailure ? "no" : "60 s" })
    }

    @Test func readmeExitStatusesAreTheTable() throws {
        let readme = try String(contentsOfFile: packageDirectory + "/README.md", encoding: .utf8)
        let section = readme.components(separatedBy: "## Exit statuses")[1].components(separatedBy: "\n## ")[0]
        let found = section.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.first != "-" }.dropFirst().map {
            line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return (exit: cells[0], http: cells[1], meaning: cells[2])
        }
        #expect(found.map(\.exit) == rows.map(\.exit))
        #expect(found.map(\.http) == rows.map(\.http))
        #expect(found.map(\.meaning) == rows.map(\.meaning))
    }
}
