import CustodyCrypto
import CustodyModel

/// Categories of an `incident` (catalogue: Oversight and corrections).
public enum IncidentCategory: String, Sendable, CaseIterable, Codable {
    /// Violence.
    case violence
    /// Forced labour.
    case forcedLabour = "forced-labour"
    /// Child labour.
    case childLabour = "child-labour"
    /// Other abuse of human rights.
    case humanRightsAbuse = "human-rights-abuse"
    /// Direct or indirect support to a non-state armed group.
    case armedGroup = "armed-group"
    /// Anything else (the summary says what).
    case other
}

/// Attestations, incidents, corrections and published policy data.
extension EventDraft {
    /// A reference to evidence held off the log: where it is and the SHA-256 of its bytes, so a reader can
    /// check that what they fetch is what was signed.
    public struct Evidence: Sendable, Equatable {
        /// Where the evidence is, e.g. `https://audits.example.org/2026/jwaneng.pdf`.
        public var uri: String
        /// Lowercase hex SHA-256 of the evidence's bytes.
        public var sha256: String

        /// Evidence at `uri` whose SHA-256 is `sha256` (64 lowercase hex characters).
        public init(uri: String, sha256: String) {
            self.uri = uri
            self.sha256 = sha256
        }

        /// Evidence at `uri` with the given contents (hashed here).
        public init(uri: String, contents: [UInt8]) {
            self.init(uri: uri, sha256: Hex.encode(SHA256.hash(contents)))
        }

        func json(_ field: String) throws(EventBuilderError) -> JSONValue {
            .object(JSONObject([
                ("uri", try Check.uri(uri, "\(field)/uri")),
                ("sha256", try Check.hex(sha256, "\(field)/sha256", count: 64, what: "a SHA-256 hash")),
            ]))
        }
    }

    /// What an attestation is about.
    public enum Subject: Sendable, Equatable {
        /// A parcel or stone.
        case parcel(String)
        /// A registered site.
        case site(String)
    }

    /// Where an incident happened.
    public enum Scope: Sendable, Equatable {
        /// At a registered site.
        case site(String)
        /// In a region of a country (ISO 3166-1 alpha-2).
        case region(country: String, region: String)
    }

    /// The descriptive fields a correction may amend (any not nil), as the correction schema lists them.
    public struct Amendment: Sendable, Equatable {
        /// A site's name.
        public var name: String?
        /// A site's region.
        public var region: String?
        /// A site's latitude in micro-degrees.
        public var latE6: Int64?
        /// A site's longitude in micro-degrees.
        public var lonE6: Int64?
        /// An incident's summary.
        public var summary: String?
        /// An attestation's or incident's evidence.
        public var evidence: Evidence?
        /// An attestation's claim.
        public var claim: String?
        /// A grading's colour.
        public var color: String?
        /// A grading's clarity.
        public var clarity: String?
        /// A grading's cut.
        public var cut: String?

        /// An amendment of the fields given.
        public init(name: String? = nil, region: String? = nil, latE6: Int64? = nil, lonE6: Int64? = nil, summary: String? = nil,
                    evidence: Evidence? = nil, claim: String? = nil, color: String? = nil, clarity: String? = nil, cut: String? = nil) {
            self.name = name
            self.region = region
            self.latE6 = latE6
            self.lonE6 = lonE6
            self.summary = summary
            self.evidence = evidence
            self.claim = claim
            self.color = color
            self.clarity = clarity
            self.cut = cut
        }

        /// The names of the fields this amendment sets.
        public var fieldNames: [String] {
            [("name", name != nil), ("region", region != nil), ("latE6", latE6 != nil), ("lonE6", lonE6 != nil),
             ("summary", summary != nil), ("evidence", evidence != nil), ("claim", claim != nil), ("color", color != nil),
             ("clarity", clarity != nil), ("cut", cut != nil)].filter(\.1).map(\.0)
        }

        func json() throws(EventBuilderError) -> JSONValue {
            var o = JSONObject()
            for (key, value) in [("name", name), ("region", region), ("summary", summary), ("claim", claim), ("color", color),
                                 ("clarity", clarity), ("cut", cut)] {
                if let value { o.set(key, try Check.text(value, "amend/\(key)")) }
            }
            if let latE6 { o.set("latE6", try Check.integer(latE6, "amend/latE6", in: -90_000_000...90_000_000, unit: "micro-degrees")) }
            if let lonE6 { o.set("lonE6", try Check.integer(lonE6, "amend/lonE6", in: -180_000_000...180_000_000, unit: "micro-degrees")) }
            if let evidence { o.set("evidence", try evidence.json("amend/evidence")) }
            guard !o.isEmpty else { throw Check.fail("amend", "an amendment must set at least one field") }
            return .object(o)
        }
    }

    /// What a correction does to its target.
    public enum Change: Sendable, Equatable {
        /// Replaces descriptive fields.
        case amend(Amendment)
        /// Withdraws a descriptive event (`site.register`, `attestation`, `incident`, `stone.grade`).
        case retract
    }

    /// `attestation`: any participant's signed `claim` about a parcel or a site, with its evidence.
    public static func attestation(subject: Subject, claim: String, evidence: Evidence) throws(EventBuilderError) -> EventDraft {
        let subjectValue: JSONObject = switch subject {
        case .parcel(let id): JSONObject([("parcel", try Check.id(id, "subject/parcel"))])
        case .site(let id): JSONObject([("site", try Check.id(id, "subject/site"))])
        }
        return EventDraft(type: "attestation", fields: JSONObject([
            ("subject", .object(subjectValue)),
            ("claim", try Check.text(claim, "claim")),
            ("evidence", try evidence.json("evidence")),
        ]))
    }

    /// `incident`: an auditor or monitor records an abuse at a site or in a region, from `from` (and until `to`,
    /// when it ended; dates `YYYY-MM-DD`), with its evidence.
    public static func incident(scope: Scope, category: IncidentCategory, from: String, to: String? = nil, summary: String,
                                evidence: Evidence) throws(EventBuilderError) -> EventDraft {
        let scopeValue: JSONObject = switch scope {
        case .site(let id): JSONObject([("site", try Check.id(id, "scope/site"))])
        case .region(let country, let region):
            JSONObject([("country", try Check.country(country, "scope/country")), ("region", try Check.text(region, "scope/region"))])
        }
        var fields = JSONObject([
            ("scope", .object(scopeValue)),
            ("category", .string(category.rawValue)),
            ("from", try Check.date(from, "from")),
        ])
        if let to { fields.set("to", try Check.date(to, "to")) }
        fields.set("summary", try Check.text(summary, "summary"))
        fields.set("evidence", try evidence.json("evidence"))
        return EventDraft(type: "incident", fields: fields)
    }

    /// `correction`: amends or retracts the descriptive content of the event at log index `target`, for `reason`.
    /// Both events stay in the log; custody moves are never corrected, only followed by new custody events.
    public static func correction(target: UInt64, _ change: Change, reason: String) throws(EventBuilderError) -> EventDraft {
        var fields = JSONObject([("target", try Check.logIndex(target, "target"))])
        switch change {
        case .amend(let amendment): fields.set("amend", try amendment.json())
        case .retract: fields.set("retract", .bool(true))
        }
        fields.set("reason", try Check.text(reason, "reason"))
        return EventDraft(type: "correction", fields: fields)
    }

    /// `policy.publish`: the registrar publishes version `version` of the policy data `policy` (e.g. sanctioned
    /// origins, high-risk areas); it supersedes shipped reference data from this index on.
    public static func policyPublish(policy: String, version: Int64, data: JSONObject) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "policy.publish", fields: JSONObject([
            ("policy", try Check.id(policy, "policy")),
            ("version", try Check.count(version, "version")),
            ("data", .object(data)),
        ]))
    }
}
