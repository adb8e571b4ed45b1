/// Every failure in `thumbnail` is one of these. The table below is the only
/// place that decides exit statuses (sysexits(3)) and HTTP statuses.
public struct ThumbnailError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, CaseIterable {
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
    }

    public let kind: Kind
    /// What failed: a path, an option, a file.
    public let subject: String
    /// Why, in a few words.
    public let reason: String

    public init(_ kind: Kind, _ subject: String, _ reason: String) {
        self.kind = kind
        self.subject = subject
        self.reason = reason
    }

    public var description: String { "\(subject): \(reason)" }

    public var exitStatus: Int32 { Self.statuses(kind).exit }
    /// The HTTP status; kinds that only the command line can meet answer 500.
    public var httpStatus: Int { Self.statuses(kind).http }

    static func statuses(_ kind: Kind) -> (exit: Int32, http: Int) {
        switch kind {
        case .usage: (64, 400)
        case .badPath: (65, 400)
        case .unsupportedMedia: (65, 415)
        case .undecodable: (65, 422)
        case .tooLarge: (65, 422)
        case .notFound: (66, 404)
        case .encoderMissing: (69, 503)
        case .internalFailure: (70, 500)
        case .cannotCreate: (73, 500)
        case .ioFailure: (74, 500)
        case .forbidden: (77, 403)
        }
    }
}
