import CustodyCrypto
import CustodyModel

/// Participants and their keys (catalogue: Participants and keys).
extension EventDraft {
    /// `participant.register`: the registrar admits a participant with its roles and keys.
    ///
    /// - Parameters:
    ///   - participant: the new participant's id.
    ///   - legalName: its legal name.
    ///   - country: ISO 3166-1 alpha-2 country where it is based (a `kp-authority` acts for it).
    ///   - roles: at least one role, none twice.
    ///   - publicKeys: at least one Ed25519 public key, none twice.
    public static func participantRegister(participant: String, legalName: String, country: String, roles: [Role],
                                           publicKeys: [PublicKey]) throws(EventBuilderError) -> EventDraft {
        guard !roles.isEmpty else { throw Check.fail("roles", "roles needs at least one role") }
        guard Set(roles).count == roles.count else { throw Check.fail("roles", "roles lists a role twice") }
        guard !publicKeys.isEmpty else { throw Check.fail("publicKeys", "publicKeys needs at least one key") }
        guard Set(publicKeys).count == publicKeys.count else { throw Check.fail("publicKeys", "publicKeys lists a key twice") }
        return EventDraft(type: "participant.register", fields: JSONObject([
            ("participant", try Check.participantID(participant, "participant")),
            ("legalName", try Check.text(legalName, "legalName")),
            ("country", try Check.country(country, "country")),
            ("roles", .array(roles.map { .string($0.rawValue) })),
            ("publicKeys", .array(publicKeys.map { .string($0.base64) })),
        ]))
    }

    /// `participant.key.add`: a new signing key for `participant` (signed by the participant or the registrar).
    public static func participantKeyAdd(participant: String, publicKey: PublicKey) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "participant.key.add", fields: JSONObject([
            ("participant", try Check.participantID(participant, "participant")),
            ("publicKey", .string(publicKey.base64)),
        ]))
    }

    /// `participant.key.retire`: the key `keyID` of `participant` stops signing from log index `effectiveFrom`
    /// (by default, right after this event).
    public static func participantKeyRetire(participant: String, keyID: String,
                                            effectiveFrom: UInt64? = nil) throws(EventBuilderError) -> EventDraft {
        var fields = JSONObject([
            ("participant", try Check.participantID(participant, "participant")),
            ("keyId", try Check.hex(keyID, "keyId", count: 32, what: "a key id")),
        ])
        if let effectiveFrom { fields.set("effectiveFrom", try Check.logIndex(effectiveFrom, "effectiveFrom")) }
        return EventDraft(type: "participant.key.retire", fields: fields)
    }

    /// `participant.key.revoke`: the key `keyID` of `participant` signs nothing after this event.
    public static func participantKeyRevoke(participant: String, keyID: String, reason: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "participant.key.revoke", fields: JSONObject([
            ("participant", try Check.participantID(participant, "participant")),
            ("keyId", try Check.hex(keyID, "keyId", count: 32, what: "a key id")),
            ("reason", try Check.text(reason, "reason")),
        ]))
    }
}
