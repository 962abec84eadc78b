import CustodyCrypto
import CustodyModel

/// A custody event built from typed values: its type and its own fields, before the common fields
/// (`schemaVersion`, `signer`, `occurredAt`, `nonce`) and the signature are added.
///
/// There is one constructor per type of the event catalogue (`docs/catalogue.md`), named after the type:
/// `EventDraft.siteRegister(…)` builds `site.register`, `EventDraft.kpExport(…)` builds `kp.export`, and so
/// on. Each checks what the type's JSON Schema checks (ids, countries, dates, weights, hashes, non-empty
/// text) and throws an ``EventBuilderError`` naming the field when a value is wrong, so a draft always has the
/// shape the daemon expects. The rules that depend on the log (who holds the parcel, whether an id is new,
/// whether weights balance against the log) are left to the daemon and the auditor, which is also what lets
/// tests build events the rules must refuse.
///
/// Confidential values (an export's value, transfer terms, a sale price) go into the body only as salted
/// commitments; their openings are in ``disclosures``, for the caller to keep. They are never logged.
///
/// ```swift
/// let draft = try EventDraft.parcelSale(parcel: "BW-JW-2026-0001-S1", buyer: "consumer", priceCents: 690_000)
/// let body = try draft.body(signer: "retail-ny", occurredAt: "2026-11-29T10:00:00Z", nonce: EventDraft.randomNonce())
/// // draft.disclosures[0].disclosure is {"salt": …, "value": 690000}: keep it to open priceCommitment later.
/// ```
public struct EventDraft: Sendable, Equatable {
    /// The catalogue type, e.g. `parcel.extract`.
    public let type: String
    /// The type's own fields, exactly as they go into the body.
    public let fields: JSONObject
    /// The openings of the commitments among ``fields`` (at most one per type today).
    public let disclosures: [Disclosure]

    /// The opening of one commitment field of a draft.
    public struct Disclosure: Sendable, Equatable {
        /// The body field holding the commitment: `valueCommitment`, `termsCommitment` or `priceCommitment`.
        public let field: String
        /// The commitment and its disclosure `{"salt", "value"}` (`Schemas/disclosure.schema.json`).
        public let commitment: Commitment

        /// An opening of `field`.
        public init(field: String, commitment: Commitment) {
            self.field = field
            self.commitment = commitment
        }

        /// The 64-hex commitment as it appears in the body.
        public var hex: String { commitment.hex }
        /// The disclosure object `{"salt", "value"}`; anyone given it can check it against ``hex``.
        public var disclosure: JSONObject { commitment.disclosure }
        /// The clear value committed to.
        public var value: JSONValue { commitment.disclosure["value"] ?? .null }
    }

    /// A draft of `type` with `fields` (checked by the caller) and the openings of its commitments.
    ///
    /// Prefer the typed constructors; this one exists for types added after them.
    public init(type: String, fields: JSONObject, disclosures: [Disclosure] = []) {
        self.type = type
        self.fields = fields
        self.disclosures = disclosures
    }

    /// The complete body: the common fields, then the type's own.
    ///
    /// - Parameters:
    ///   - signer: participant id of the party that makes the event.
    ///   - occurredAt: RFC 3339 UTC time, e.g. `2026-11-29T10:00:00Z` (the ledger module's
    ///     `EventDraft.signed(as:with:occurredAt:nonce:)` formats one from a clock).
    ///   - nonce: 8 to 128 characters, different for every event (see ``randomNonce()``).
    public func body(signer: String, occurredAt: String, nonce: String) throws(EventBuilderError) -> JSONObject {
        let signer = try Check.participantID(signer, "signer")
        guard (8...128).contains(nonce.unicodeScalars.count) else {
            throw EventBuilderError("/body/nonce", "nonce must be 8 to 128 characters, got \(nonce.unicodeScalars.count)")
        }
        return JSONObject([
            ("type", .string(type)), ("schemaVersion", .integer(Catalogue.schemaVersion)), ("signer", signer),
            ("occurredAt", .string(occurredAt)), ("nonce", .string(nonce)),
        ] + fields.map { ($0.key, $0.value) })
    }

    /// A fresh nonce: 32 lowercase hex characters from 16 random bytes.
    public static func randomNonce() -> String { Hex.encode(secureRandomBytes(16)) }
}

/// A value given to an ``EventDraft`` constructor does not have the shape its field needs.
public struct EventBuilderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer of the field in the body, e.g. `/body/outputs/1/carats`.
    public let pointer: String
    /// What is wrong, naming the field and the value.
    public let message: String

    /// An error at `pointer`.
    public init(_ pointer: String, _ message: String) {
        self.pointer = pointer
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
