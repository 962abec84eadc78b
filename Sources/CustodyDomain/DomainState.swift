import CustodyModel
/// Read access to the custody state the rules need, folded from the log up to (not including) the event
/// being judged. Implemented over indexed SQLite tables, so every lookup is a point read, never a scan.
public protocol DomainState {
    /// A participant by id.
    func participant(_ id: String) throws -> Participant?
    /// A key by key id.
    func key(_ keyID: String) throws -> ParticipantKey?
    /// All keys of a participant.
    func keys(of participant: String) throws -> [ParticipantKey]
    /// A site by id.
    func site(_ id: String) throws -> Site?
    /// A parcel or stone by id.
    func parcel(_ id: String) throws -> Parcel?
    /// A KP certificate by number.
    func certificate(_ number: String) throws -> Certificate?
    /// The custody transfer logged at `index`.
    func transfer(at index: UInt64) throws -> Transfer?
    /// The log index of a grading report, by report number.
    func gradingReport(_ number: String) throws -> UInt64?
    /// Type, signer and whether an event at `index` exists (for corrections).
    func eventSummary(at index: UInt64) throws -> EventSummary?
    /// A value of the log's metadata (origin, registrar, log key).
    func meta(_ key: String) throws -> String?
}

/// What a correction needs to know about its target.
public struct EventSummary: Sendable, Equatable {
    /// Event type.
    public let type: String
    /// Its signer.
    public let signer: String

    /// A summary.
    public init(type: String, signer: String) {
        self.type = type
        self.signer = signer
    }
}

/// A change the rules make to the state; applied only when the whole event passes.
public enum StateChange: Sendable, Equatable {
    case participant(Participant)
    case key(ParticipantKey)
    case site(Site)
    case parcel(Parcel)
    case certificate(Certificate)
    case transfer(Transfer)
    case gradingReport(number: String, stone: String, index: UInt64)
    /// An event that concerns a parcel, for its history.
    case parcelEvent(parcel: String, index: UInt64)
    /// Type and signer of every event, for corrections and summaries.
    case eventSummary(index: UInt64, EventSummary)
    case meta(key: String, value: String)
}

/// Settings the rules take from the log's configuration (fixed per log so that replays agree).
public struct RuleSettings: Sendable, Equatable {
    /// How far `occurredAt` may be ahead of `loggedAt`, in milliseconds.
    public var clockSkewMillis: Int64 = 5 * 60 * 1000
    /// Least polished weight as a share of the rough, in percent (a yield below it is implausible).
    public var polishFloorPercent: Int64 = 20

    /// Defaults: 5 minutes of skew, a 20% polishing floor.
    public init() {}

    /// The registrar changes a setting for the rest of the log with `policy.publish` of policy
    /// `rule-settings`, data `{"clockSkewMillis": …, "polishFloorPercent": …}`; the value is kept in the log's
    /// state under these keys, so a replay applies each event under the settings in force at its index.
    public static let clockSkewKey = "setting/clockSkewMillis"
    /// State key of the polishing floor in force.
    public static let polishFloorKey = "setting/polishFloorPercent"
}

/// The event as the rules see it: its common fields, its body and where it would land.
public struct EventFacts: Sendable {
    /// Log index it would get.
    public let index: UInt64
    /// `loggedAt` it would get (ms).
    public let loggedAt: Int64
    /// `type`.
    public let type: String
    /// `signer`.
    public let signer: String
    /// Envelope key id.
    public let keyID: String
    /// `occurredAt` (ms).
    public let occurredAt: Int64
    /// The body.
    public let body: BodyReader

    /// Facts from their parts.
    public init(index: UInt64, loggedAt: Int64, type: String, signer: String, keyID: String, occurredAt: Int64, body: BodyReader) {
        self.index = index
        self.loggedAt = loggedAt
        self.type = type
        self.signer = signer
        self.keyID = keyID
        self.occurredAt = occurredAt
        self.body = body
    }
}
