/// Every failure in `thumbnail` is one of these. `ThumbnailError.table` is
/// the only place that decides exit statuses (sysexits(3)), HTTP statuses
/// and whether a CDN may keep the error.
package struct ThumbnailError: Error, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable, CaseIterable {
        case usage
        case badPath
        case unsupportedMedia
        case undecodable
        case tooLarge
        case notFound
        case encoderMissing
        case internalFailure
        case cannotCreate
        case ioFailure
        case forbidden
        /// The origin's own configuration is wrong: an option, a key or token
        /// file, a storage root that is missing or unreadable.
        case misconfigured
        /// The store behind an s3:// or https:// root failed or refused:
        /// denied, a bad signature, a 5xx, a redirect, a time-out, a cut-off body.
        case storeFailure
    }

    /// What one kind of failure answers.
    package struct Statuses: Equatable, Sendable {
        package let exit: Int32
        package let http: Int
        /// The origin's failure, not the request's: answered `no-store`, so
        /// a CDN asks again instead of keeping it.
        package let originFailure: Bool
        /// What the man page's EXIT STATUS table says of it.
        package let meaning: String
    }

    /// Kind → statuses. `make docs` writes the man page's and the README's tables from it.
    package static let table: [(kind: Kind, statuses: Statuses)] = [
        (.usage, Statuses(exit: 64, http: 400, originFailure: false, meaning: "Bad option or argument")),
        (.badPath, Statuses(exit: 65, http: 400, originFailure: false, meaning: "Path breaks the grammar")),
        (.unsupportedMedia, Statuses(exit: 65, http: 415, originFailure: false, meaning: "Not an image type that is read")),
        (.undecodable, Statuses(exit: 65, http: 422, originFailure: false, meaning: "Undecodable source")),
        (.tooLarge, Statuses(exit: 65, http: 422, originFailure: false, meaning: "Source over a limit")),
        (.notFound, Statuses(exit: 66, http: 404, originFailure: false, meaning: "Missing source")),
        (.encoderMissing, Statuses(exit: 69, http: 503, originFailure: true, meaning: "Missing encoder or optional library")),
        (.internalFailure, Statuses(exit: 70, http: 500, originFailure: true, meaning: "Internal error")),
        (.cannotCreate, Statuses(exit: 73, http: 500, originFailure: true, meaning: "Cannot create the output file")),
        (.ioFailure, Statuses(exit: 74, http: 500, originFailure: true, meaning: "Read or write error")),
        (.forbidden, Statuses(exit: 77, http: 403, originFailure: false, meaning: "Not permitted")),
        (.misconfigured, Statuses(exit: 78, http: 503, originFailure: true, meaning: "Configuration error")),
        (.storeFailure, Statuses(exit: 69, http: 502, originFailure: true, meaning: "Source store failed or refused")),
    ]

    /// `--batch --base`: the exit status a server's HTTP status gives. Any
    /// other status, or no answer, is an I/O error (`otherServerStatusExit`).
    package static let serverStatusExits: [(http: Int, exit: Int32)] = [
        (400, 65), (403, 77), (404, 66), (415, 65), (422, 65), (500, 70), (502, 69), (503, 69),
    ]

    package static var otherServerStatusExit: Int32 { statuses(.ioFailure).exit }

    package let kind: Kind
    /// What failed: a path, an option, a file. Decoders, which do not know
    /// where the bytes they read came from, say `source`; the mode that knows
    /// names it (`namingSource`).
    package let subject: String
    /// Why, in a few words.
    package let reason: String

    package init(_ kind: Kind, _ subject: String, _ reason: String) {
        self.kind = kind
        self.subject = subject
        self.reason = reason
    }

    package var description: String { "\(subject): \(reason)" }

    /// This error with the source it spoke of as `source` named `name`.
    package func namingSource(_ name: String) -> ThumbnailError {
        subject == "source" ? ThumbnailError(kind, name, reason) : self
    }

    /// The error as a line about `name`, a source or path the user gave,
    /// which it names once: `name: subject: reason`, or `name: reason`.
    package func line(about name: String) -> String {
        let named = namingSource(name)
        return named.subject == name ? named.description : "\(name): \(named)"
    }

    package var statuses: Statuses { Self.statuses(kind) }
    package var exitStatus: Int32 { statuses.exit }
    package var httpStatus: Int { statuses.http }

    package static func statuses(_ kind: Kind) -> Statuses {
        // Every kind has its row; a test checks the table row by row.
        table.first { $0.kind == kind }!.statuses
    }

    /// The exit status for a server's answer `status` (not 2xx).
    package static func exitStatus(forServerStatus status: Int) -> Int32 {
        serverStatusExits.first { $0.http == status }?.exit ?? otherServerStatusExit
    }
}
