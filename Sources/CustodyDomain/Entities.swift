import CustodyModel
/// Roles a participant can hold (catalogue: Roles).
public enum Role: String, Sendable, CaseIterable, Codable {
    case registrar, miner, exporter, importer, trader, manufacturer, laboratory, retailer, auditor, monitor
    case kpAuthority = "kp-authority"
}

/// A registered party.
public struct Participant: Sendable, Equatable, Codable {
    /// Participant id.
    public var id: String
    /// Legal name.
    public var legalName: String
    /// ISO 3166-1 alpha-2 country.
    public var country: String
    /// Roles held.
    public var roles: [Role]
    /// Log index of its registration.
    public var registeredAt: UInt64

    /// A participant from its fields.
    public init(id: String, legalName: String, country: String, roles: [Role], registeredAt: UInt64) {
        self.id = id
        self.legalName = legalName
        self.country = country
        self.roles = roles
        self.registeredAt = registeredAt
    }

    /// Whether it holds `role`.
    public func has(_ role: Role) -> Bool { roles.contains(role) }
}

/// A participant's signing key and its life in the log.
public struct ParticipantKey: Sendable, Equatable, Codable {
    /// Key id (32 hex).
    public var keyID: String
    /// Owner.
    public var participant: String
    /// Raw 32-byte Ed25519 public key.
    public var publicKey: [UInt8]
    /// Log index that added it.
    public var addedAt: UInt64
    /// First log index at which it no longer signs, when retired.
    public var retiredFrom: UInt64?
    /// Log index of its revocation, when revoked.
    public var revokedAt: UInt64?

    /// A key from its fields.
    public init(keyID: String, participant: String, publicKey: [UInt8], addedAt: UInt64,
                retiredFrom: UInt64? = nil, revokedAt: UInt64? = nil) {
        self.keyID = keyID
        self.participant = participant
        self.publicKey = publicKey
        self.addedAt = addedAt
        self.retiredFrom = retiredFrom
        self.revokedAt = revokedAt
    }

    /// Whether it may sign an event appended at `index`.
    public func isUsable(at index: UInt64) -> Bool {
        if let r = retiredFrom, index >= r { return false }
        if let r = revokedAt, index >= r { return false }
        return true
    }

    /// The last index a log can hold: its size is at most 2^53−1 (JSON's exact integers), so its indices at
    /// most 2^53−2.
    public static let lastLogIndex = UInt64(JSONValue.maxSafeInteger) - 1

    /// Whether it may sign at every index a log can still reach: neither retired nor revoked, or retired only from
    /// 2^53−1, past the last index. (Keys only lose their use, so usable at the last index is usable until then.)
    public var staysUsable: Bool { isUsable(at: Self.lastLogIndex) }
}

/// Kinds of mine site.
public enum SiteKind: String, Sendable, CaseIterable, Codable {
    case industrial, artisanal, alluvial
}

/// A registered mine or alluvial area.
public struct Site: Sendable, Equatable, Codable {
    /// Latitudes in micro-degrees, pole to pole.
    public static let latE6Range: ClosedRange<Int64> = -90_000_000...90_000_000
    /// Longitudes in micro-degrees, around the globe.
    public static let lonE6Range: ClosedRange<Int64> = -180_000_000...180_000_000

    /// Site id.
    public var id: String
    /// Name.
    public var name: String
    /// ISO country.
    public var country: String
    /// Region within the country.
    public var region: String
    /// Latitude in micro-degrees.
    public var latE6: Int64
    /// Longitude in micro-degrees.
    public var lonE6: Int64
    /// Industrial, artisanal or alluvial.
    public var kind: SiteKind
    /// Operating miner.
    public var operatorID: String
    /// Log index of its registration.
    public var registeredAt: UInt64

    /// A site from its fields.
    public init(id: String, name: String, country: String, region: String, latE6: Int64, lonE6: Int64,
                kind: SiteKind, operatorID: String, registeredAt: UInt64) {
        self.id = id
        self.name = name
        self.country = country
        self.region = region
        self.latE6 = latE6
        self.lonE6 = lonE6
        self.kind = kind
        self.operatorID = operatorID
        self.registeredAt = registeredAt
    }
}

/// Where a parcel stands.
public enum ParcelStatus: String, Sendable, Codable {
    /// In a custodian's hands and usable.
    case active
    /// Sent (transfer or export) and not yet received: neither side can use it.
    case inTransit = "in-transit"
    /// Used up by a split, mix, assortment or manufacture.
    case consumed
    /// Sold: the end of its chain.
    case sold
}

/// Rough or polished.
public enum ParcelForm: String, Sendable, Codable {
    case rough, polished
}

/// A parcel of rough or a stone, as the rules track it.
public struct Parcel: Sendable, Equatable, Codable {
    /// Parcel or stone id.
    public var id: String
    /// Rough or polished.
    public var form: ParcelForm
    /// Weight in points.
    public var carats: Int64
    /// Number of stones.
    public var stones: Int64
    /// Participant holding custody (the sender while in transit).
    public var custodian: String
    /// Active, in transit, consumed or sold.
    public var status: ParcelStatus
    /// Log index of the transfer or export that holds it in transit.
    public var pending: UInt64?
    /// Log index that created it.
    public var createdAt: UInt64
    /// Log index of the last event that touched it.
    public var lastIndex: UInt64
    /// `occurredAt` (ms) of the last event that touched it; later events may not be earlier.
    public var lastOccurredAt: Int64

    /// A parcel from its fields.
    public init(id: String, form: ParcelForm, carats: Int64, stones: Int64, custodian: String, status: ParcelStatus,
                pending: UInt64? = nil, createdAt: UInt64, lastIndex: UInt64, lastOccurredAt: Int64) {
        self.id = id
        self.form = form
        self.carats = carats
        self.stones = stones
        self.custodian = custodian
        self.status = status
        self.pending = pending
        self.createdAt = createdAt
        self.lastIndex = lastIndex
        self.lastOccurredAt = lastOccurredAt
    }
}

/// A Kimberley Process certificate as the log knows it.
public struct Certificate: Sendable, Equatable, Codable {
    /// Certificate number (`CC-...`).
    public var number: String
    /// Exporting country.
    public var exportingCountry: String
    /// Importing country.
    public var importingCountry: String
    /// Exporter participant.
    public var exporter: String
    /// Importer participant.
    public var importer: String
    /// Parcels under it.
    public var parcels: [String]
    /// Total weight in points.
    public var carats: Int64
    /// Issue date.
    public var issuedOn: String
    /// Expiry date.
    public var expiresOn: String
    /// Log index of the export.
    public var exportedAt: UInt64
    /// Log index of the exporting authority's validation.
    public var validatedAt: UInt64?
    /// Log index of the import confirmation.
    public var importedAt: UInt64?
    /// Log index of the `kp.return` that sent the rough back to the exporter after the certificate expired in
    /// transit; a returned certificate is closed (no import can follow).
    public var returnedAt: UInt64?

    /// A certificate from its fields.
    public init(number: String, exportingCountry: String, importingCountry: String, exporter: String, importer: String,
                parcels: [String], carats: Int64, issuedOn: String, expiresOn: String, exportedAt: UInt64,
                validatedAt: UInt64? = nil, importedAt: UInt64? = nil, returnedAt: UInt64? = nil) {
        self.number = number
        self.exportingCountry = exportingCountry
        self.importingCountry = importingCountry
        self.exporter = exporter
        self.importer = importer
        self.parcels = parcels
        self.carats = carats
        self.issuedOn = issuedOn
        self.expiresOn = expiresOn
        self.exportedAt = exportedAt
        self.validatedAt = validatedAt
        self.importedAt = importedAt
        self.returnedAt = returnedAt
    }
}

/// A custody transfer awaiting (or past) acceptance. It is pending until exactly one of acceptance by the
/// receiver, cancellation by the sender or rejection by the receiver closes it.
public struct Transfer: Sendable, Equatable, Codable {
    /// Log index of the transfer.
    public var index: UInt64
    /// Sender.
    public var sender: String
    /// Receiver.
    public var receiver: String
    /// Parcels sent.
    public var parcels: [String]
    /// Log index of the acceptance.
    public var acceptedAt: UInt64?
    /// Log index of the sender's `custody.cancel`.
    public var cancelledAt: UInt64?
    /// Log index of the receiver's `custody.reject`.
    public var rejectedAt: UInt64?

    /// A transfer from its fields.
    public init(index: UInt64, sender: String, receiver: String, parcels: [String], acceptedAt: UInt64? = nil,
                cancelledAt: UInt64? = nil, rejectedAt: UInt64? = nil) {
        self.index = index
        self.sender = sender
        self.receiver = receiver
        self.parcels = parcels
        self.acceptedAt = acceptedAt
        self.cancelledAt = cancelledAt
        self.rejectedAt = rejectedAt
    }

    /// Whether it still awaits the receiver: not accepted, cancelled or rejected.
    public var isPending: Bool { acceptedAt == nil && cancelledAt == nil && rejectedAt == nil }
}
