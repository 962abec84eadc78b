import CustodyModel

/// The event catalogue: every type the log accepts and the body members each may carry (the common fields
/// plus its own), mirroring `Schemas/<type>.schema.json`. Bodies are closed: an unknown member is refused, so
/// a misspelt field never slips into the log unread.
public enum Catalogue {
    /// The common members of every body.
    public static let commonFields: Set<String> = ["type", "schemaVersion", "signer", "occurredAt", "nonce"]

    /// Each type's own members.
    public static let fields: [String: Set<String>] = [
        "log.genesis": ["origin", "registrar", "logKey"],
        "participant.register": ["participant", "legalName", "country", "roles", "publicKeys"],
        "participant.key.add": ["participant", "publicKey"],
        "participant.key.retire": ["participant", "keyId", "effectiveFrom"],
        "participant.key.revoke": ["participant", "keyId", "reason"],
        "site.register": ["site", "name", "country", "region", "latE6", "lonE6", "kind", "operator"],
        "parcel.extract": ["parcel", "site", "carats", "stones", "extractedOn"],
        "kp.export": ["certificate", "exportingCountry", "importingCountry", "importer", "parcels", "carats",
                      "valueCommitment", "issuedOn", "expiresOn"],
        "kp.validate": ["certificate"],
        "kp.import": ["certificate", "carats", "parcels", "receivedOn"],
        "kp.import.external": ["certificate", "exportingCountry", "importingCountry", "exporterName", "importer", "origin",
                               "parcels", "carats", "valueCommitment", "issuedOn", "expiresOn", "receivedOn"],
        "kp.return": ["certificate", "returnedOn", "reason"],
        "custody.transfer": ["parcels", "to", "termsCommitment"],
        "custody.accept": ["transfer"],
        "custody.cancel": ["transfer", "reason"],
        "custody.reject": ["transfer", "reason"],
        "parcel.split": ["parcel", "outputs"],
        "parcel.mix": ["inputs", "output"],
        "parcel.assort": ["parcel", "stones"],
        "parcel.manufacture": ["parcel", "polished"],
        "stone.grade": ["stone", "reportNumber", "carats", "color", "clarity", "cut"],
        "parcel.sale": ["parcel", "buyer", "priceCommitment"],
        "attestation": ["subject", "claim", "evidence"],
        "incident": ["scope", "category", "from", "to", "summary", "evidence"],
        "correction": ["target", "amend", "retract", "reason"],
        "policy.publish": ["policy", "version", "data"],
    ]

    /// The schema version every type is at.
    public static let schemaVersion: Int64 = 1

    /// Refuses an unknown type, another schema version, or a member the type does not define.
    static func check(_ facts: EventFacts) throws(RuleViolation) {
        guard let own = fields[facts.type] else {
            throw RuleViolation("type.unknown", .invalid, "unknown event type \(facts.type); see the event catalogue", pointer: "/body/type")
        }
        guard facts.body.object["schemaVersion"]?.int64Value == schemaVersion else {
            throw RuleViolation("schema.version", .invalid, "\(facts.type) is at schemaVersion \(schemaVersion)", pointer: "/body/schemaVersion")
        }
        for key in facts.body.object.keys where !commonFields.contains(key) && !own.contains(key) {
            throw RuleViolation("schema.unknown-field", .invalid, "\(facts.type) has no field \(key)", pointer: "/body/\(key)")
        }
    }
}
