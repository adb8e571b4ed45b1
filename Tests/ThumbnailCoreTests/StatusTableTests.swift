import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The one table of kinds, exit statuses and HTTP statuses (the man page's
/// and the README's tables are written from it: GeneratedDocumentationTests).
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
}
