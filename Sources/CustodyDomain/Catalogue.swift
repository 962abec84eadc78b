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

    /// The rules of each type and the members its bodies may carry (common and own), found with one hash of
    /// the type instead of a chain of string comparisons.
    private static let entries: [String: (kind: EventKind, allowed: Set<String>)] = {
        let kinds: [String: EventKind] = [
            "log.genesis": .genesis, "participant.register": .registerParticipant, "participant.key.add": .addKey,
            "participant.key.retire": .retireKey, "participant.key.revoke": .revokeKey, "site.register": .registerSite,
            "parcel.extract": .extract, "kp.export": .kpExport, "kp.validate": .kpValidate, "kp.import": .kpImport,
            "kp.import.external": .kpImportExternal, "kp.return": .kpReturn, "custody.transfer": .transfer,
            "custody.accept": .accept, "custody.cancel": .cancel, "custody.reject": .reject, "parcel.split": .split,
            "parcel.mix": .mix, "parcel.assort": .assort, "parcel.manufacture": .manufacture, "stone.grade": .grade,
            "parcel.sale": .sale, "attestation": .attest, "incident": .incident, "correction": .correction,
            "policy.publish": .publishPolicy,
        ]
        precondition(Set(kinds.keys) == Set(fields.keys), "every catalogued type has rules")
        return kinds.reduce(into: [:]) { out, pair in out[pair.key] = (pair.value, fields[pair.key]!.union(commonFields)) }
    }()

    /// Refuses an unknown type, another schema version, or a member the type does not define; returns the
    /// rules the type is judged by.
    static func check(type: String, body: BodyReader) throws(RuleViolation) -> EventKind {
        guard let entry = entries[type] else {
            throw RuleViolation("type.unknown", .invalid, "unknown event type \(type); see the event catalogue", pointer: "/body/type")
        }
        guard body.value("schemaVersion")?.int64Value == schemaVersion else {
            throw RuleViolation("schema.version", .invalid, "\(type) is at schemaVersion \(schemaVersion)", pointer: "/body/schemaVersion")
        }
        if let key = body.firstKey(where: { !entry.allowed.contains($0) }) {
            throw RuleViolation("schema.unknown-field", .invalid, "\(type) has no field \(key)", pointer: body.pointer(key))
        }
        return entry.kind
    }
}

/// The catalogue's verdict on one event (see ``CustodyRules/catalogue(type:body:)``): the first, stateless step of
/// the rules, which may run before the event's turn and on another core.
public struct CatalogueVerdict: Sendable {
    let result: Result<EventKind, RuleViolation>
}

/// Which rules judge an event: one case per catalogued type.
enum EventKind {
    case genesis, registerParticipant, addKey, retireKey, revokeKey, registerSite, extract
    case kpExport, kpValidate, kpImport, kpImportExternal, kpReturn
    case transfer, accept, cancel, reject
    case split, mix, assort, manufacture, grade, sale
    case attest, incident, correction, publishPolicy
}
