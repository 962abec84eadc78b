import CustodyModel
/// Why the custody rules refuse an event: the rule, the field and the log entry it conflicts with.
public struct RuleViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// How the refusal maps onto HTTP: a malformed event, a key or role problem, or a conflict with the log.
    public enum Category: Sendable, Equatable {
        /// The event's own fields are malformed (400).
        case invalid
        /// The signer may not make this event (403).
        case forbidden
        /// The event conflicts with the log's state (409).
        case conflict
    }

    /// Stable name of the rule, e.g. `parcel.custodian`, `mass-balance.split`.
    public let rule: String
    /// How to answer it.
    public let category: Category
    /// One sentence naming what is wrong.
    public let detail: String
    /// JSON pointer of the offending field, relative to the envelope (`/body/...`).
    public let pointer: String?
    /// The log entry the refusal rests on, when there is one.
    public let logIndex: UInt64?

    /// A violation of `rule`.
    public init(_ rule: String, _ category: Category, _ detail: String, pointer: String? = nil, logIndex: UInt64? = nil) {
        self.rule = rule
        self.category = category
        self.detail = detail
        self.pointer = pointer
        self.logIndex = logIndex
    }

    /// `rule: detail`.
    public var description: String { "\(rule): \(detail)" }
}
