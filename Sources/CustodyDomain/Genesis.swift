import CustodyModel
import CustodyCrypto
import CustodyLog

/// `log.genesis`: names the origin, the registrar and its key, and the log's checkpoint key.
public struct Genesis: Sendable {
    /// The event type.
    public static let type = "log.genesis"
    /// Checkpoint origin.
    public let origin: String
    /// Registrar participant id.
    public let registrar: String
    /// Registrar's legal name (defaults to its id).
    public let registrarName: String
    /// Registrar's country (defaults to `ZZ`, unknown).
    public let registrarCountry: String
    /// Registrar public key.
    public let registrarKey: PublicKey
    /// C2SP verifier key of the log.
    public let logKey: String

    /// Reads the genesis fields of an event body.
    public init(_ facts: EventFacts) throws(RuleViolation) {
        try self.init(body: facts.body, signer: facts.signer)
    }

    /// Reads the genesis fields of a body signed by `signer`.
    public init(body: BodyReader, signer: String) throws(RuleViolation) {
        origin = try body.string("origin")
        guard !origin.isEmpty, !origin.unicodeScalars.contains(where: { $0 == "+" || Identifiers.isECMAScriptSpace($0) }) else {
            throw RuleViolation("schema", .invalid, "origin must be non-empty, without spaces or '+'", pointer: "/body/origin")
        }
        logKey = try body.string("logKey")
        // Spelt as the schema's pattern has it: lowercase key id, no trailing newline.
        guard let verifier = try? NoteVerifier(encoded: logKey), verifier.name == origin, verifier.encoded == logKey else {
            throw RuleViolation("schema", .invalid, "logKey must be a C2SP Ed25519 verifier key named after the origin", pointer: "/body/logKey")
        }
        let r = try body.object("registrar").closed(to: ["participant", "publicKey", "legalName", "country"])
        registrar = try r.participantID("participant")
        registrarName = try r.has("legalName") ? r.text("legalName") : registrar
        registrarCountry = try r.has("country") ? r.country("country") : "ZZ"
        guard registrar == signer else {
            throw RuleViolation("schema", .invalid, "the genesis signer must be the registrar", pointer: "/body/signer")
        }
        guard let key = try? PublicKey(base64: r.string("publicKey")) else {
            throw RuleViolation("schema", .invalid, "registrar publicKey is not a base64 Ed25519 key", pointer: "/body/registrar/publicKey")
        }
        registrarKey = key
    }
}

extension RuleContext {
    mutating func genesis() throws {
        let g = try Genesis(facts)
        changes.append(.participant(Participant(id: g.registrar, legalName: g.registrarName, country: g.registrarCountry,
                                                roles: [.registrar], registeredAt: index)))
        changes.append(.key(ParticipantKey(keyID: g.registrarKey.keyID, participant: g.registrar,
                                           publicKey: g.registrarKey.bytes, addedAt: index)))
        changes.append(.meta(key: "origin", value: g.origin))
        changes.append(.meta(key: "logKey", value: g.logKey))
        changes.append(.meta(key: "registrar", value: g.registrar))
    }

    // MARK: Participants and keys

    func newKey(_ text: String, pointer: String) throws -> PublicKey {
        guard let key = try? PublicKey(base64: text) else {
            throw RuleViolation("schema", .invalid, "not a base64 Ed25519 public key", pointer: pointer)
        }
        if let existing = try state.key(key.keyID) {
            throw RuleViolation("key.exists", .conflict, "key \(key.keyID) is already registered to \(existing.participant)",
                                pointer: pointer, logIndex: existing.addedAt)
        }
        return key
    }

    mutating func registerParticipant() throws {
        _ = try signer(.registrar)
        let id = try body.participantID("participant")
        if let existing = try state.participant(id) {
            throw RuleViolation("participant.exists", .conflict, "participant \(id) is already registered; add keys with participant.key.add",
                                pointer: "/body/participant", logIndex: existing.registeredAt)
        }
        let legalName = try body.text("legalName")
        let country = try body.country("country")
        guard case .array(let roleValues)? = body.value("roles"), !roleValues.isEmpty else {
            throw RuleViolation("schema", .invalid, "roles must be a non-empty array", pointer: "/body/roles")
        }
        var roles: [Role] = []
        for (i, v) in roleValues.enumerated() {
            guard case .string(let s) = v, let role = Role(rawValue: s), !roles.contains(role) else {
                throw RuleViolation("schema", .invalid, "roles[\(i)] is not a role (or is repeated): one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))",
                                    pointer: "/body/roles/\(i)")
            }
            roles.append(role)
        }
        guard case .array(let keyValues)? = body.value("publicKeys"), !keyValues.isEmpty else {
            throw RuleViolation("schema", .invalid, "publicKeys must be a non-empty array", pointer: "/body/publicKeys")
        }
        var keys: [PublicKey] = []
        for (i, v) in keyValues.enumerated() {
            guard case .string(let text) = v else {
                throw RuleViolation("schema", .invalid, "publicKeys[\(i)] must be a string", pointer: "/body/publicKeys/\(i)")
            }
            let key = try newKey(text, pointer: "/body/publicKeys/\(i)")
            guard !keys.contains(key) else {
                throw RuleViolation("key.exists", .invalid, "publicKeys lists key \(key.keyID) twice", pointer: "/body/publicKeys/\(i)")
            }
            keys.append(key)
        }
        changes.append(.participant(Participant(id: id, legalName: legalName, country: country, roles: roles, registeredAt: index)))
        for key in keys {
            changes.append(.key(ParticipantKey(keyID: key.keyID, participant: id, publicKey: key.bytes, addedAt: index)))
        }
    }

    /// The participant a key event is about: the signer itself, or anyone when the registrar signs.
    func keyOwner() throws -> Participant {
        let signerRecord = try signer()
        let id = try body.participantID("participant")
        guard id == signerRecord.id || signerRecord.has(.registrar) else {
            throw RuleViolation("key.owner", .forbidden, "only \(id) itself or the registrar may change its keys", pointer: "/body/participant")
        }
        return try participant(id, pointer: "/body/participant")
    }

    func ownedKey(_ owner: Participant) throws -> ParticipantKey {
        let keyID = try body.keyID("keyId")
        guard let key = try state.key(keyID), key.participant == owner.id else {
            throw RuleViolation("key.unknown", .conflict, "key \(keyID) is not a key of \(owner.id)", pointer: "/body/keyId")
        }
        return key
    }

    mutating func addKey() throws {
        let owner = try keyOwner()
        let key = try newKey(try body.string("publicKey"), pointer: "/body/publicKey")
        changes.append(.key(ParticipantKey(keyID: key.keyID, participant: owner.id, publicKey: key.bytes, addedAt: index)))
    }

    mutating func retireKey() throws {
        let owner = try keyOwner()
        var key = try ownedKey(owner)
        guard key.retiredFrom == nil, key.revokedAt == nil else {
            throw RuleViolation("key.retired", .conflict, "key \(key.keyID) is already retired or revoked", pointer: "/body/keyId", logIndex: key.retiredFrom ?? key.revokedAt)
        }
        let from = try body.has("effectiveFrom") ? body.logIndex("effectiveFrom") : index + 1
        guard from >= index else {
            throw RuleViolation("key.retire-past", .invalid, "effectiveFrom \(from) is before this event's index \(index): history is not rewritten",
                                pointer: "/body/effectiveFrom")
        }
        key.retiredFrom = from
        // A key usable now but retired or revoked later would leave the participant without one from then on,
        // so what counts is a key that stays usable at every index a log can hold.
        guard try key.staysUsable || state.keys(of: owner.id).contains(where: { $0.keyID != key.keyID && $0.staysUsable }) else {
            throw RuleViolation("key.last", .conflict, "\(owner.id) would have no usable key left; add one first", pointer: "/body/keyId")
        }
        changes.append(.key(key))
    }

    mutating func revokeKey() throws {
        let owner = try keyOwner()
        var key = try ownedKey(owner)
        _ = try body.text("reason")
        guard key.revokedAt == nil else {
            throw RuleViolation("key.revoked", .conflict, "key \(key.keyID) is already revoked", pointer: "/body/keyId", logIndex: key.revokedAt)
        }
        key.revokedAt = index + 1
        changes.append(.key(key))
    }
}
