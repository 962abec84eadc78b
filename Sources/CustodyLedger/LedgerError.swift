/// Why an event or request was refused: a stable slug (RFC 9457 problem type), an HTTP status, and a
/// sentence naming what is wrong, with the field and log index where they apply.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problem kinds, each with a stable slug used in `urn:custody:problem:<slug>`.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case invalidJSON = "invalid-json"
        case numberOutOfRange = "number-out-of-range"
        case invalidEnvelope = "invalid-envelope"
        case invalidEvent = "invalid-event"
        case badSignature = "bad-signature"
        case unknownKey = "unknown-key"
        case notFound = "not-found"
        case invalidParameter = "invalid-parameter"
        case payloadTooLarge = "payload-too-large"
        case methodNotAllowed = "method-not-allowed"
        case forbidden = "forbidden"
        case ruleViolation = "rule-violation"
        case shuttingDown = "shutting-down"
        case storageFailure = "storage-failure"

        /// The HTTP status this kind maps to.
        public var status: Int {
            switch self {
            case .invalidJSON, .numberOutOfRange, .invalidEnvelope, .invalidEvent, .badSignature, .invalidParameter: 400
            case .unknownKey, .forbidden: 403
            case .ruleViolation: 409
            case .notFound: 404
            case .methodNotAllowed: 405
            case .payloadTooLarge: 413
            case .shuttingDown, .storageFailure: 503
            }
        }

        /// A short title for the problem document.
        public var title: String {
            switch self {
            case .invalidJSON: "Invalid JSON"
            case .numberOutOfRange: "Number out of range"
            case .invalidEnvelope: "Invalid envelope"
            case .invalidEvent: "Invalid event"
            case .badSignature: "Signature does not verify"
            case .unknownKey: "Unknown key"
            case .forbidden: "Not allowed"
            case .ruleViolation: "Rule violation"
            case .notFound: "Not found"
            case .invalidParameter: "Invalid parameter"
            case .payloadTooLarge: "Payload too large"
            case .methodNotAllowed: "Method not allowed"
            case .shuttingDown: "Shutting down"
            case .storageFailure: "Storage failure"
            }
        }
    }

    /// What kind of problem.
    public let kind: Kind
    /// One sentence naming what is wrong.
    public let detail: String
    /// RFC 6901 JSON pointer of the offending member of the request body, when one is to blame.
    public var pointer: String?
    /// Name of the offending query or path parameter, when one is to blame (the request's URL, not its body).
    public var parameter: String?
    /// A log index the problem concerns (a conflicting or referenced entry).
    public var logIndex: UInt64?
    /// The custody rule broken, when a rule refused the event (e.g. `mass-balance.split`).
    public var rule: String?

    /// A problem of `kind` with a detail sentence.
    public init(_ kind: Kind, _ detail: String, pointer: String? = nil, parameter: String? = nil, logIndex: UInt64? = nil) {
        self.kind = kind
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.logIndex = logIndex
    }

    /// `<slug>: <detail>` plus the field, for logs and the CLI.
    public var description: String {
        var s = "\(kind.rawValue)\(rule.map { " (\($0))" } ?? ""): \(detail)"
        if let pointer { s += " (at \(pointer))" }
        if let parameter { s += " (parameter \(parameter))" }
        return s
    }
}
