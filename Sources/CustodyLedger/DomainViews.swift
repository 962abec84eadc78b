import CustodyCrypto
import CustodyDomain
import CustodyStore

/// A participant as the API shows it: public registry data and its keys' lives.
public struct ParticipantDTO: Codable, Sendable, Equatable {
    /// One key.
    public struct Key: Codable, Sendable, Equatable {
        /// Key id.
        public var keyId: String
        /// Base64 public key.
        public var publicKey: String
        /// Log index that added it.
        public var addedAt: UInt64
        /// First index at which it no longer signs.
        public var retiredFrom: UInt64?
        /// Index from which it is revoked.
        public var revokedAt: UInt64?
    }

    /// Participant id.
    public var id: String
    /// Legal name.
    public var legalName: String
    /// Country.
    public var country: String
    /// Roles.
    public var roles: [String]
    /// Log index of its registration.
    public var registeredAt: UInt64
    /// Its keys.
    public var keys: [Key]
}

/// A parcel or stone as the API shows it: state, custodian and the log entries that concern it.
public struct ParcelDTO: Codable, Sendable, Equatable {
    /// One event in its history.
    public struct Event: Codable, Sendable, Equatable {
        /// Log index.
        public var index: UInt64
        /// Event type.
        public var type: String
        /// Who signed it.
        public var signer: String
    }

    /// Parcel or stone id.
    public var id: String
    /// `rough` or `polished`.
    public var form: String
    /// Weight in points (1 ct = 100).
    public var carats: Int64
    /// Number of stones.
    public var stones: Int64
    /// Current custodian (the sender while in transit).
    public var custodian: String
    /// `active`, `in-transit`, `consumed` or `sold`.
    public var status: String
    /// Log index of the transfer or export holding it in transit.
    public var pendingAt: UInt64?
    /// Log index that created it.
    public var createdAt: UInt64
    /// Every event that concerns it, in log order.
    public var history: [Event]
}

/// Lists of participants, for `GET /v1/participants`.
public struct ParticipantsPage: Codable, Sendable {
    /// Participants by id.
    public var participants: [ParticipantDTO]

    /// A page of participants.
    public init(participants: [ParticipantDTO]) { self.participants = participants }
}

extension Ledger {
    /// Every registered participant with its keys.
    public func participants() throws -> [ParticipantDTO] {
        try store.read { txn in
            let domain = txn.domain
            return try domain.participants().map { p in
                ParticipantDTO(id: p.id, legalName: p.legalName, country: p.country, roles: p.roles.map(\.rawValue),
                               registeredAt: p.registeredAt, keys: try domain.keys(of: p.id).map {
                                   .init(keyId: $0.keyID, publicKey: Base64.encode($0.publicKey), addedAt: $0.addedAt,
                                         retiredFrom: $0.retiredFrom, revokedAt: $0.revokedAt)
                               })
            }
        }
    }

    /// A parcel's state and history.
    public func parcel(_ id: String) throws -> ParcelDTO {
        let found = try store.read { txn -> ParcelDTO? in
            guard let p = try txn.domain.parcel(id) else { return nil }
            return ParcelDTO(id: p.id, form: p.form.rawValue, carats: p.carats, stones: p.stones, custodian: p.custodian,
                             status: p.status.rawValue, pendingAt: p.pending, createdAt: p.createdAt,
                             history: try txn.domain.history(ofParcel: id).map { .init(index: $0.index, type: $0.summary.type, signer: $0.summary.signer) })
        }
        guard let found else { throw LedgerError(.notFound, "no parcel \(id) in the log") }
        return found
    }
}
