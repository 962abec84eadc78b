import CustodyModel
/// Attestations, incidents, corrections and published policy data.
extension RuleContext {
    mutating func attest() throws {
        _ = try signer()
        let subject = try body.object("subject")
        if try subject.alternative(["parcel", "site"]) == "parcel" {
            let id = try subject.closed(to: ["parcel"]).id("parcel")
            guard try state.parcel(id) != nil else {
                throw RuleViolation("parcel.unknown", .conflict, "parcel \(id) is not in the log", pointer: subject.pointer("parcel"))
            }
            changes.append(.parcelEvent(parcel: id, index: index))
        } else {
            let id = try subject.closed(to: ["site"]).id("site")
            guard try state.site(id) != nil else {
                throw RuleViolation("site.unknown", .conflict, "site \(id) is not registered", pointer: subject.pointer("site"))
            }
        }
        _ = try body.text("claim")
        try Self.evidence(in: body)
    }

    /// `evidence` of `owner` (a body, or a correction's `amend`): `{uri, sha256}`, nothing else.
    static func evidence(in owner: BodyReader) throws {
        let e = try owner.object("evidence").closed(to: ["uri", "sha256"])
        _ = try e.uri("uri")
        _ = try e.sha256("sha256")
    }

    mutating func incident() throws {
        _ = try signer(.auditor, .monitor)
        let scope = try body.object("scope")
        if try scope.alternative(["site", "country"]) == "site" {
            let id = try scope.closed(to: ["site"]).id("site")
            guard try state.site(id) != nil else {
                throw RuleViolation("site.unknown", .conflict, "site \(id) is not registered", pointer: scope.pointer("site"))
            }
        } else {
            _ = try scope.closed(to: ["country", "region"]).country("country")
            _ = try scope.text("region")
        }
        _ = try body.oneOf("category", IncidentCategory.self)
        let from = try body.date("from")
        if let to = try body.optionalDate("to"), to < from {
            throw RuleViolation("incident.period", .invalid, "to is before from", pointer: "/body/to")
        }
        _ = try body.text("summary")
        try Self.evidence(in: body)
    }

    /// Types whose content is descriptive (never custody) and so may be amended or retracted.
    static var descriptiveTypes: Set<String> { ["site.register", "attestation", "incident", "stone.grade"] }
    /// Fields that are descriptive in any type: the members `amend` may have (correction.schema.json).
    static var descriptiveFields: [String] { ["name", "region", "latE6", "lonE6", "summary", "evidence", "claim", "color", "clarity", "cut"] }

    mutating func correction() throws {
        let signer = try signer()
        let target = try body.logIndex("target")
        guard target < index, let summary = try state.eventSummary(at: target) else {
            throw RuleViolation("correction.target", .conflict, "there is no event at index \(target) to correct", pointer: "/body/target")
        }
        guard summary.signer == signer.id || signer.has(.registrar) else {
            throw RuleViolation("correction.signer", .forbidden, "only \(summary.signer) or the registrar may correct the event at \(target)",
                                pointer: "/body/signer", logIndex: target)
        }
        _ = try body.text("reason")
        let retract = body.value("retract")
        if retract != nil {
            guard retract == .bool(true), !body.has("amend") else {
                throw RuleViolation("schema", .invalid, "a correction either amends fields or has retract: true", pointer: "/body/retract")
            }
            guard Self.descriptiveTypes.contains(summary.type) else {
                throw RuleViolation("correction.custody", .conflict,
                                    "\(summary.type) moves custody or weight and cannot be retracted; record a new custody event instead",
                                    pointer: "/body/target", logIndex: target)
            }
        } else {
            let amend = try body.object("amend")
            let fields = Self.descriptiveFields
            guard amend.firstKey(where: { _ in true }) != nil else {
                throw RuleViolation("schema", .invalid, "amend must name at least one field", pointer: "/body/amend")
            }
            if let key = amend.firstKey(where: { !fields.contains($0) }) {
                throw RuleViolation("correction.custody", .conflict,
                                    "\(key) is not a descriptive field; custody and weights are never rewritten",
                                    pointer: amend.pointer(key), logIndex: target)
            }
            // The new values obey the schema of the fields they replace, as the projections store them as given.
            for key in fields where amend.has(key) {
                switch key {
                case "latE6": _ = try amend.integer(key, in: Site.latE6Range)
                case "lonE6": _ = try amend.integer(key, in: Site.lonE6Range)
                case "evidence": try Self.evidence(in: amend)
                default: _ = try amend.text(key)
                }
            }
        }
    }

    mutating func publishPolicy() throws {
        _ = try signer(.registrar)
        let name = try body.id("policy")
        let version = try body.integer("version", in: 1...JSONValue.maxSafeInteger)
        let data = try body.object("data")
        if name == "rule-settings" {
            // Settings the append rules read: validated here so a typo cannot silently switch a rule off.
            for key in data.object.keys where !["clockSkewMillis", "polishFloorPercent"].contains(key) {
                throw RuleViolation("schema.unknown-field", .invalid, "rule-settings has no setting \(key) (clockSkewMillis, polishFloorPercent)",
                                    pointer: data.pointer(key))
            }
            if data.has("clockSkewMillis") {
                let skew = try data.integer("clockSkewMillis", in: 0...86_400_000)
                changes.append(.meta(key: RuleSettings.clockSkewKey, value: String(skew)))
            }
            if data.has("polishFloorPercent") {
                let floor = try data.integer("polishFloorPercent", in: 1...100)
                changes.append(.meta(key: RuleSettings.polishFloorKey, value: String(floor)))
            }
        }
        changes.append(.meta(key: "policy/\(name)", value: "\(version)@\(index)"))
    }
}
