import CustodyCrypto
import CustodyDomain
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging

extension DataDirectory {
    /// The disclosure database, beside the log's (`disclosures.sqlite`).
    public var disclosuresPath: String { path + "/disclosures.sqlite" }
}

/// A refused request of the access-controlled API (disclosures): an RFC 9457 problem with its status.
public struct AccessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problem document to answer with.
    public var problem: Problem

    /// A problem with slug `slug` (`urn:custody:problem:<slug>`) that only the access-controlled API has; a
    /// type the ledger has too is made from its ``LedgerError``, so that each type has one title.
    public init(_ slug: String, _ title: String, status: Int, _ detail: String, pointer: String? = nil, logIndex: UInt64? = nil) {
        problem = Problem(type: "urn:custody:problem:\(slug)", title: title, status: status, detail: detail)
        problem.pointer = pointer
        problem.logIndex = logIndex
    }

    /// The problem of a ledger error.
    public init(_ error: LedgerError) { problem = Problem(error) }

    /// `<slug>: <detail>`.
    public var description: String { "\(problem.slug): \(problem.detail)" }

    /// 401: the request carries no signature.
    public static func signatureRequired(_ detail: String) -> AccessError {
        AccessError("signature-required", "Signature required", status: 401, detail)
    }
    /// 401: `Signature-Input` or `Signature` is malformed, or does not cover what it must. (Header problems
    /// carry no `pointer`, which is a JSON pointer into the body; the detail names the header field.)
    public static func invalidSignatureInput(_ detail: String) -> AccessError {
        AccessError("invalid-signature-input", "Invalid signature input", status: 401, detail)
    }
    /// 401: `created` is outside the allowed window, or `expires` has passed.
    public static func staleSignature(_ detail: String) -> AccessError {
        AccessError("stale-signature", "Stale signature", status: 401, detail)
    }
    /// 401: `Content-Digest` is missing or does not match the body.
    public static func contentDigestMismatch(_ detail: String) -> AccessError {
        AccessError("content-digest-mismatch", "Content digest mismatch", status: 401, detail)
    }
    /// 401: the signature does not verify over the request.
    public static func signatureMismatch(_ detail: String) -> AccessError {
        AccessError("signature-mismatch", "Signature does not verify", status: 401, detail)
    }
    /// 403: the key is not registered, or is retired or revoked (the ledger's `unknown-key`).
    public static func unknownKey(_ detail: String, logIndex: UInt64? = nil) -> AccessError {
        AccessError(LedgerError(.unknownKey, detail, logIndex: logIndex))
    }
    /// 403: the caller may not do this (the ledger's `forbidden`).
    public static func forbidden(_ detail: String, logIndex: UInt64? = nil) -> AccessError {
        AccessError(LedgerError(.forbidden, detail, logIndex: logIndex))
    }
    /// 400: the disclosure is malformed or names no commitment.
    public static func invalidDisclosure(_ detail: String, pointer: String, logIndex: UInt64? = nil) -> AccessError {
        AccessError("invalid-disclosure", "Invalid disclosure", status: 400, detail, pointer: pointer, logIndex: logIndex)
    }
    /// 409: the salt and value do not open the commitment in the log.
    public static func commitmentMismatch(_ detail: String, logIndex: UInt64) -> AccessError {
        AccessError("commitment-mismatch", "Disclosure does not match the commitment", status: 409, detail,
                    pointer: "/value", logIndex: logIndex)
    }
}

/// A caller that proved, by signing its request, that it holds a key registered to `participant` and usable
/// at the current tree size.
public struct Caller: Sendable, Equatable {
    /// The participant the key is registered to, as registered.
    public var participant: Participant
    /// The key id that signed the request.
    public var keyID: String
}

extension Ledger {
    /// The registered participant whose key `keyID` is, if that key may sign at the current tree size.
    /// Throws `unknown-key` (403) for a key that is not registered, retired, or revoked.
    public func caller(keyID: String) throws(AccessError) -> (caller: Caller, publicKey: PublicKey) {
        let found: (UInt64, ParticipantKey?, Participant?)
        do {
            found = try store.read { txn in
                let domain = txn.domain
                let key = try domain.key(keyID)
                return (try txn.treeSize(), key, try key.flatMap { try domain.participant($0.participant) })
            }
        } catch {
            logger.error("key lookup failed", metadata: ["error": "\(error)", "key.id": "\(keyID)"])
            throw AccessError(LedgerError(.storageFailure, "the key could not be looked up"))
        }
        let (size, key, participant) = found
        guard let key, let participant, let publicKey = try? PublicKey(bytes: key.publicKey) else {
            throw .unknownKey("key \(keyID) is not registered in the log")
        }
        guard key.isUsable(at: size) else {
            if let revoked = key.revokedAt, size >= revoked {
                throw .unknownKey("key \(keyID) of \(key.participant) was revoked at index \(revoked)", logIndex: revoked)
            }
            let retired = key.retiredFrom ?? 0
            throw .unknownKey("key \(keyID) of \(key.participant) is retired from index \(retired)", logIndex: retired)
        }
        return (Caller(participant: participant, keyID: keyID), publicKey)
    }
}

/// What a party deposits, and the file format `custody disclose` reads (`Schemas/disclosure.schema.json`,
/// with `index` and `field`): `{"index", "field", "salt", "value"}`.
public struct DisclosureDeposit: Sendable, Equatable {
    /// Log index of the event carrying the commitment.
    public var index: UInt64
    /// JSON pointer of the commitment in the event body, e.g. `/valueCommitment`.
    public var field: String
    /// The salt (standard base64 of at least 16 bytes).
    public var salt: String
    /// The clear value.
    public var value: JSONValue

    /// A deposit from its parts.
    public init(index: UInt64, field: String, salt: String, value: JSONValue) {
        self.index = index
        self.field = field
        self.salt = salt
        self.value = value
    }

    /// The disclosure proper, `{"salt", "value"}`, whose JCS form the commitment hashes.
    public var opening: JSONObject { JSONObject([("salt", .string(salt)), ("value", value)]) }

    /// The request body: canonical JSON.
    public var json: [UInt8] {
        CanonicalJSON.encode(.object(JSONObject([("index", .integer(Int64(index))), ("field", .string(field)),
                                                 ("salt", .string(salt)), ("value", value)])))
    }

    /// Parses a deposit (strict JSON, closed object). `index` and `field` may be supplied by the caller
    /// when the document lacks them (a bare `{"salt", "value"}` disclosure file).
    public static func parse(_ bytes: [UInt8], index: UInt64? = nil, field: String? = nil) throws(AccessError) -> DisclosureDeposit {
        let value: JSONValue
        do { value = try EventEnvelope.parseJSON(bytes) } catch { throw AccessError(error) }
        guard case .object(let object) = value else {
            throw .invalidDisclosure("a disclosure is a JSON object with index, field, salt and value", pointer: "")
        }
        for key in object.keys where !["index", "field", "salt", "value"].contains(key) {
            throw .invalidDisclosure("unexpected member \"\(key)\" in a disclosure", pointer: JSONPointer.appending(key, to: ""))
        }
        var resolvedIndex = index
        if let member = object["index"] {
            guard let n = member.int64Value, n >= 0 else {
                throw .invalidDisclosure("index must be a non-negative integer (a log index)", pointer: "/index")
            }
            resolvedIndex = UInt64(n)
        }
        guard let resolvedIndex else { throw .invalidDisclosure("index (the log index of the event) is required", pointer: "/index") }
        var resolvedField = field
        if let member = object["field"] {
            guard case .string(let f) = member else {
                throw .invalidDisclosure("field must be a JSON pointer string such as /valueCommitment", pointer: "/field")
            }
            resolvedField = f
        }
        guard let resolvedField else {
            throw .invalidDisclosure("field (the JSON pointer of the commitment, e.g. /valueCommitment) is required", pointer: "/field")
        }
        guard resolvedField.hasPrefix("/"), resolvedField.count > 1 else {
            throw .invalidDisclosure("field must be a JSON pointer into the event body, e.g. /valueCommitment, got \"\(resolvedField)\"",
                                     pointer: "/field")
        }
        guard case .string(let salt)? = object["salt"] else {
            throw .invalidDisclosure("salt (standard base64 of at least 16 random bytes) is required", pointer: "/salt")
        }
        guard let clear = object["value"] else { throw .invalidDisclosure("value (the clear value) is required", pointer: "/value") }
        return DisclosureDeposit(index: resolvedIndex, field: resolvedField, salt: salt, value: clear)
    }
}

/// A stored disclosure as the API serves it.
public struct DisclosureRecord: Sendable, Equatable {
    /// Log index of the event.
    public var index: UInt64
    /// JSON pointer of the commitment in the event body.
    public var field: String
    /// The commitment it opens (64 lowercase hex).
    public var commitment: String
    /// The salt.
    public var salt: String
    /// The clear value.
    public var value: JSONValue
    /// Participant id of the party that deposited it.
    public var depositedBy: String
    /// Key id that signed the deposit.
    public var keyId: String
    /// When the daemon stored it (RFC 3339, milliseconds).
    public var depositedAt: String

    /// The wire form of a stored disclosure.
    public init(_ stored: StoredDisclosure) throws(AccessError) {
        index = stored.index
        field = stored.field
        commitment = stored.commitment
        salt = stored.salt
        do { value = try JSONParser.parse(stored.value) } catch {
            throw AccessError(LedgerError(.storageFailure, "the stored disclosure at index \(stored.index) \(stored.field) is not JSON"))
        }
        depositedBy = stored.depositedBy
        keyId = stored.keyID
        depositedAt = RFC3339.format(millis: stored.depositedAt)
    }

    /// The disclosure proper, `{"salt", "value"}`.
    public var opening: JSONObject { JSONObject([("salt", .string(salt)), ("value", value)]) }

    /// Its JSON object (`Schemas/disclosure-record.schema.json`).
    public var jsonObject: JSONObject {
        JSONObject([
            ("index", .integer(Int64(index))), ("field", .string(field)), ("commitment", .string(commitment)),
            ("salt", .string(salt)), ("value", value), ("depositedBy", .string(depositedBy)), ("keyId", .string(keyId)),
            ("depositedAt", .string(depositedAt)),
        ])
    }

    /// Reads a record from its JSON object; nil when a member is missing or mistyped.
    public init?(_ object: JSONObject) {
        guard let index = object["index"]?.int64Value, index >= 0, case .string(let field)? = object["field"],
              case .string(let commitment)? = object["commitment"], case .string(let salt)? = object["salt"],
              let value = object["value"], case .string(let by)? = object["depositedBy"], case .string(let keyId)? = object["keyId"],
              case .string(let at)? = object["depositedAt"]
        else { return nil }
        self.index = UInt64(index)
        self.field = field
        self.commitment = commitment
        self.salt = salt
        self.value = value
        depositedBy = by
        self.keyId = keyId
        depositedAt = at
    }

    /// The `GET /v1/disclosures` answer: `{"index", "disclosures": [...]}`, canonical JSON.
    public static func page(index: UInt64, _ records: [DisclosureRecord]) -> [UInt8] {
        CanonicalJSON.encode(.object(JSONObject([
            ("index", .integer(Int64(index))), ("disclosures", .array(records.map { .object($0.jsonObject) })),
        ])))
    }
}

/// The value a JSON pointer with one reference token (`/name`) names in `body`, if any.
func member(_ pointer: String, of body: JSONObject) -> JSONValue? {
    guard pointer.hasPrefix("/") else { return nil }
    let token = pointer.dropFirst()
    return token.contains("/") ? nil : body[JSONPointer.unescape(token)]
}

/// The disclosures kept beside the log: checks each deposit against the commitment in the logged event and
/// the depositor's standing, stores it durably, and serves an event's disclosures to its parties and to
/// auditors (`DisclosurePolicy`).
public final class DisclosureDesk: Sendable {
    /// The log the commitments are in.
    public let ledger: Ledger
    /// Where the clear values are kept.
    public let store: DisclosureStore
    let logger: Logger

    /// A desk over `ledger` and `store`.
    public init(ledger: Ledger, store: DisclosureStore, logger: Logger) {
        self.ledger = ledger
        self.store = store
        self.logger = logger
    }

    /// A desk over `ledger` keeping its disclosures in `directory` (`disclosures.sqlite`, created if needed).
    public convenience init(ledger: Ledger, directory: DataDirectory, logger: Logger) throws {
        self.init(ledger: ledger, store: try DisclosureStore(path: directory.disclosuresPath), logger: logger)
    }

    /// The logged event at `index`: its envelope, or `not-found` with `blame` naming where the request gave `index`.
    func event(at index: UInt64, blame: (inout Problem) -> Void) throws(AccessError) -> EventEnvelope {
        let entry: LogEntry
        do { entry = try ledger.entry(at: index) } catch let error as LedgerError {
            var e = AccessError(error)
            blame(&e.problem)
            throw e
        } catch {
            throw AccessError(LedgerError(.storageFailure, "entry \(index) could not be read"))
        }
        do { return try EventEnvelope.parse(entry.leafInput) } catch {
            throw AccessError(LedgerError(.storageFailure, "entry \(index) is not a valid envelope"))
        }
    }

    /// Checks and stores a deposit by `caller`. Returns the stored record (the earlier one if this field of
    /// this event was already disclosed) and whether this call stored it.
    public func deposit(_ deposit: DisclosureDeposit, by caller: Caller) throws(AccessError) -> (record: DisclosureRecord, created: Bool) {
        let index = deposit.index
        let event = try event(at: index) { $0.pointer = "/index" }
        let body = event.body
        let fields = DisclosurePolicy.commitmentFields[event.type] ?? []
        guard !fields.isEmpty else {
            throw .invalidDisclosure("entry \(index) is a \(event.type) event, which carries no commitment", pointer: "/index", logIndex: index)
        }
        guard fields.contains(deposit.field) else {
            throw .invalidDisclosure("a \(event.type) event carries its commitment at \(fields.joined(separator: ", ")), not \(deposit.field)",
                                     pointer: "/field", logIndex: index)
        }
        guard DisclosurePolicy.isParty(caller.participant, type: event.type, signer: event.signer, body: body) else {
            throw .forbidden("\(caller.participant.id) is not a party to entry \(index) (\(event.type)); its parties are "
                             + DisclosurePolicy.partiesDescription(type: event.type, body: body), logIndex: index)
        }
        guard case .string(let commitment)? = member(deposit.field, of: body) else {
            throw .invalidDisclosure("entry \(index) (\(event.type)) has no commitment at \(deposit.field)", pointer: "/field", logIndex: index)
        }
        guard let salt = Base64.decode(deposit.salt), salt.count >= 16 else {
            throw .invalidDisclosure("salt must be standard base64 of at least 16 bytes", pointer: "/salt", logIndex: index)
        }
        guard Commitment.opens(deposit.opening, commitment) else {
            throw .commitmentMismatch("the salt and value do not open \(deposit.field) of entry \(index) (\(event.type)): "
                                      + "SHA-256 of their JCS form is \(Commitment.commitment(of: deposit.opening)), the entry commits to \(commitment)",
                                      logIndex: index)
        }
        let stored = StoredDisclosure(index: index, field: deposit.field, commitment: commitment, salt: deposit.salt,
                                      value: CanonicalJSON.encode(deposit.value), depositedBy: caller.participant.id,
                                      keyID: caller.keyID, depositedAt: Int64(Date().timeIntervalSince1970 * 1000))
        let result: (disclosure: StoredDisclosure, created: Bool)
        do { result = try store.deposit(stored) } catch {
            logger.error("disclosure not stored", metadata: ["error": "\(error)", "log.index": "\(index)", "field": "\(deposit.field)"])
            throw AccessError(LedgerError(.storageFailure, "the disclosure could not be stored; nothing was stored"))
        }
        logger.info(result.created ? "disclosure deposited" : "disclosure already deposited", metadata: [
            "log.index": "\(index)", "event.type": "\(event.type)", "field": "\(deposit.field)",
            "participant": "\(caller.participant.id)", "key.id": "\(caller.keyID)",
        ])
        return (try DisclosureRecord(result.disclosure), result.created)
    }

    /// The disclosures of the event at `index`, for a caller who is one of its parties or an auditor.
    public func disclosures(at index: UInt64, for caller: Caller) throws(AccessError) -> [DisclosureRecord] {
        let event = try event(at: index) { $0.parameter = "index" }
        let body = event.body
        guard DisclosurePolicy.mayRead(caller.participant, type: event.type, signer: event.signer, body: body) else {
            throw .forbidden("\(caller.participant.id) may not read the disclosures of entry \(index) (\(event.type)): only "
                             + DisclosurePolicy.partiesDescription(type: event.type, body: body) + ", and auditors, may",
                             logIndex: index)
        }
        let stored: [StoredDisclosure]
        do { stored = try store.disclosures(at: index) } catch {
            logger.error("disclosures not read", metadata: ["error": "\(error)", "log.index": "\(index)"])
            throw AccessError(LedgerError(.storageFailure, "the disclosures could not be read"))
        }
        logger.info("disclosures read", metadata: [
            "log.index": "\(index)", "participant": "\(caller.participant.id)", "key.id": "\(caller.keyID)",
            "auditor": "\(caller.participant.has(.auditor))", "count": "\(stored.count)",
        ])
        var records: [DisclosureRecord] = []
        for s in stored { records.append(try DisclosureRecord(s)) }
        return records
    }
}
