import CustodyModel

/// Who may see the clear values behind an event's commitments, and where those commitments are.
///
/// The parties to an event are:
/// - `kp.export`: the signer (the exporter), the `importer`, and the KP authorities (participants holding
///   `kp-authority`) of the `exportingCountry` and of the `importingCountry`;
/// - `custody.transfer`: the signer (the sender) and `to` (the receiver);
/// - `parcel.sale`: the signer (the seller) and the `buyer` when it is a participant (not `consumer`).
///
/// Parties may deposit and read an event's disclosures; participants holding `auditor` may read every
/// disclosure but deposit none (they are not parties). Nobody else may do either.
public enum DisclosurePolicy {
    /// The JSON pointers of the commitments each event type carries.
    public static let commitmentFields: [String: [String]] = [
        "kp.export": ["/valueCommitment"],
        "custody.transfer": ["/termsCommitment"],
        "parcel.sale": ["/priceCommitment"],
    ]

    /// Whether `participant` is a party to the event of `type` signed by `signer` with `body`.
    public static func isParty(_ participant: Participant, type: String, signer: String, body: JSONObject) -> Bool {
        if participant.id == signer { return commitmentFields[type] != nil }
        switch type {
        case "kp.export":
            if body["importer"]?.stringValue == participant.id { return true }
            guard participant.has(.kpAuthority) else { return false }
            return [body["exportingCountry"]?.stringValue, body["importingCountry"]?.stringValue].contains(participant.country)
        case "custody.transfer":
            return body["to"]?.stringValue == participant.id
        case "parcel.sale":
            return body["buyer"]?.stringValue == participant.id && participant.id != "consumer"
        default:
            return false
        }
    }

    /// Whether `participant` may read the disclosures of that event: a party, or an auditor.
    public static func mayRead(_ participant: Participant, type: String, signer: String, body: JSONObject) -> Bool {
        participant.has(.auditor) || isParty(participant, type: type, signer: signer, body: body)
    }

    /// The parties of an event type, in words, for refusals.
    public static func partiesDescription(type: String, body: JSONObject) -> String {
        switch type {
        case "kp.export":
            let from = body["exportingCountry"]?.stringValue ?? "?", to = body["importingCountry"]?.stringValue ?? "?"
            return "the exporter, the importer and the KP authorities of \(from) and \(to)"
        case "custody.transfer":
            return "the sender and the receiver"
        case "parcel.sale":
            return "the seller and the buyer"
        default:
            return "nobody (a \(type) event carries no commitment)"
        }
    }
}
