import CustodyModel

/// Why a parcel has the status it has under a policy: one broken rule or red flag, with what it concerns and
/// the log indexes behind it.
public struct StatusReason: Sendable, Equatable {
    /// Engine rule name.
    public let rule: String
    /// The status this reason gives.
    public let outcome: SourcingStatus
    /// Human-readable explanation.
    public let message: String
    /// The origin root concerned, if any.
    public let root: String?
    /// Its exact share of the parcel's weight.
    public let share: Share?
    /// Log indexes of the events behind the finding.
    public let indexes: [UInt64]
}

/// A parcel's status under one policy as of a tree size.
public struct StatusReport: Sendable {
    /// Parcel id.
    public let parcel: String
    /// Policy name and version.
    public let policy: String
    /// Version of the policy document used.
    public let policyVersion: String
    /// Tree size the status is for.
    public let asOf: UInt64
    /// The date rules that depend on time were judged on (the parcel's latest event, or the date asked for).
    public let date: String
    /// The verdict: the worst outcome among the reasons, `compliant` when there are none.
    public let status: SourcingStatus
    /// Every finding, worst first.
    public let reasons: [StatusReason]
    /// Where each reference dataset used came from.
    public let sources: [String: String]
}

/// Evaluates policies over projections. Every rule is a function of the records as of one tree size, so the
/// daemon and an auditor replaying the same log reach the same verdict, and an as-of query reproduces a
/// verdict given in the past.
public struct PolicyEngine: Sendable {
    /// Rules the engine implements.
    public static let ruleNames: Set<String> = [
        "kp-certificates", "kp-origin-standing", "custody-continuity", "origin-incident", "sanctioned-origin",
        "high-risk-origin", "artisanal-due-diligence", "yield-plausibility", "value-per-carat", "site-volume",
    ]

    /// Policies and reference data.
    public let library: PolicyLibrary
    /// Clear export values (US cents) by the log index of the `kp.export`, when the evaluator may see
    /// disclosures; nil leaves the value-per-carat rule unevaluated for that export.
    public let exportValue: @Sendable (UInt64) -> Int64?

    /// An engine over `library`.
    public init(library: PolicyLibrary, exportValue: @escaping @Sendable (UInt64) -> Int64? = { _ in nil }) {
        self.library = library
        self.exportValue = exportValue
    }

    /// The status of `parcel` under `policyName` as of the view `q`; nil if the parcel did not exist then.
    /// `date` overrides the date time-dependent rules use (default: the parcel's latest event).
    public func status(of parcel: String, policy policyName: String, in q: ProjectionQueries, date: String? = nil) throws -> StatusReport? {
        guard let provenance = try q.provenance(parcel) else { return nil }
        let policy = try library.policy(policyName, in: q)
        var context = RuleContext(q: q, library: library, provenance: provenance,
                                  date: date ?? String((provenance.events.last?.occurredAt ?? "").prefix(10)), exportValue: exportValue)
        var reasons: [StatusReason] = []
        for spec in policy.rules {
            reasons += try context.evaluate(spec)
        }
        reasons.sort { $0.outcome != $1.outcome ? $0.outcome > $1.outcome : ($0.rule, $0.root ?? "") < ($1.rule, $1.root ?? "") }
        let status = reasons.map(\.outcome).max() ?? .compliant
        return StatusReport(parcel: parcel, policy: policy.name, policyVersion: policy.version, asOf: q.asOf, date: context.date,
                            status: status, reasons: reasons, sources: context.sources)
    }
}

/// State for evaluating one parcel: its provenance, plus caches of what several rules read.
struct RuleContext {
    let q: ProjectionQueries
    let library: PolicyLibrary
    let provenance: Provenance
    let date: String
    let exportValue: @Sendable (UInt64) -> Int64?
    var sources: [String: String] = [:]

    init(q: ProjectionQueries, library: PolicyLibrary, provenance: Provenance, date: String, exportValue: @escaping @Sendable (UInt64) -> Int64?) {
        self.q = q
        self.library = library
        self.provenance = provenance
        self.date = date
        self.exportValue = exportValue
    }

    /// The parcel and all its ancestors.
    var lineageParcels: [String] { [provenance.parcel] + provenance.lineage.map(\.parcel) }

    mutating func dataset(_ name: String) throws -> JSONObject {
        let d = try library.dataset(name, in: q)
        sources[name] = d.source
        return d.data
    }

    mutating func evaluate(_ spec: Policy.RuleSpec) throws -> [StatusReason] {
        let p = spec.parameters
        func reason(_ defaultOutcome: SourcingStatus, _ message: String, root: String? = nil, share: Share? = nil,
                    _ indexes: [UInt64]) -> StatusReason {
            StatusReason(rule: spec.rule, outcome: spec.outcome ?? defaultOutcome, message: message, root: root, share: share,
                         indexes: indexes.sorted())
        }
        var out: [StatusReason] = []
        switch spec.rule {
        case "kp-certificates":
            // Every border crossing of rough in the lineage: certificate validated by the exporting authority
            // and receipt confirmed by the importing one. A crossing still open leaves the chain unfinished.
            var seen: Set<String> = []
            for parcel in lineageParcels {
                for (index, number) in try q.crossings(parcel) {
                    guard seen.insert(number).inserted, let cert = try q.certificate(number) else { continue }
                    if cert.bool("external") { continue }
                    // A returned certificate (kp.return) is closed: its rough never crossed the border.
                    if cert.optionalIndex("returnedAt") != nil { continue }
                    if cert.optionalIndex("validatedAt") == nil {
                        out.append(reason(.unverified, "KP certificate \(number) is not validated by \(cert.optionalString("exportingCountry") ?? "the exporting country")'s authority",
                                          [index]))
                    } else if cert.optionalIndex("importedAt") == nil {
                        out.append(reason(.unverified, "KP certificate \(number): receipt not yet confirmed by \(cert.optionalString("importingCountry") ?? "the importing country")",
                                          [cert.optionalIndex("exportedAt") ?? index]))
                    }
                }
            }

        case "kp-origin-standing":
            let standing = try dataset(p["dataset"]?.stringValue ?? "kp-participants")
            for share in provenance.origin {
                guard let country = share.country else {
                    out.append(reason(.unverified, "origin declared only as mixed on a KP certificate: the countries cannot be checked",
                                      root: share.root, share: share.share, [share.recordedAt]))
                    continue
                }
                let on = try share.extractedOn ?? certificateDate(of: share) ?? date
                if let problem = KPStanding.problem(country: country, on: on, data: standing) {
                    out.append(reason(.nonCompliant, "origin \(country) (\(share.share.decimal()) of the weight): \(problem)",
                                      root: share.root, share: share.share, [share.recordedAt]))
                }
            }

        case "custody-continuity":
            for share in provenance.origin where share.declared {
                out.append(reason(.unverified,
                                  "\(share.root) entered the log by import under a KP certificate, with no extraction history: its custody before that is not in the log",
                                  root: share.root, share: share.share, [share.recordedAt]))
            }

        case "origin-incident":
            let categories = Set((p["categories"]?.arrayValue ?? []).compactMap(\.stringValue))
            for share in provenance.origin {
                guard let siteID = share.site, let extracted = share.extractedOn, let site = try q.site(siteID) else { continue }
                for (index, incident) in try q.incidents(site: siteID, country: site.optionalString("country"), region: site.optionalString("region")) {
                    guard incident.optionalIndex("retractedAt") == nil else { continue }
                    let category = incident.optionalString("category") ?? ""
                    guard categories.isEmpty || categories.contains(category),
                          let from = incident.optionalString("from"), from <= extracted,
                          incident.optionalString("to").map({ extracted <= $0 }) ?? true
                    else { continue }
                    let scope = incident.optionalString("site").map { "site \($0)" }
                        ?? "\(incident.optionalString("region") ?? "?"), \(incident.optionalString("country") ?? "?")"
                    out.append(reason(.nonCompliant,
                                      "\(share.share.decimal()) of the weight was extracted at \(siteID) on \(extracted), within a recorded \(category) incident at \(scope) (\(from)–\(incident.optionalString("to") ?? "ongoing"))",
                                      root: share.root, share: share.share, [share.recordedAt, index]))
                }
            }

        case "sanctioned-origin":
            let data = try dataset(p["dataset"]?.stringValue ?? "g7-russia")
            out += try sanctioned(data, reason)

        case "high-risk-origin":
            let data = try dataset(p["dataset"]?.stringValue ?? "high-risk-areas")
            for share in provenance.origin {
                guard let country = share.country else { continue }
                let region = try share.site.flatMap { try q.site($0)?.optionalString("region") }
                let on = share.extractedOn ?? date
                for area in data["areas"]?.arrayValue?.compactMap(\.objectValue) ?? [] where area.optionalString("country") == country {
                    if let r = area.optionalString("region"), r != region { continue }
                    if let from = area.optionalString("from"), on < from { continue }
                    if let to = area.optionalString("to"), on > to { continue }
                    let label = area.optionalString("region").map { "\($0), \(country)" } ?? country
                    out.append(reason(.atRisk, "\(share.share.decimal()) of the weight comes from \(label), listed as a high-risk area",
                                      root: share.root, share: share.share, [share.recordedAt]))
                }
            }

        case "artisanal-due-diligence":
            let claim = p["claim"]?.stringValue ?? "due-diligence"
            let subjects = lineageParcels.map { "parcel:\($0)" }
            for share in provenance.origin {
                guard let siteID = share.site, let site = try q.site(siteID), site.optionalString("kind") == "artisanal" else { continue }
                var attested = false
                for subject in subjects + ["site:\(siteID)"] where !attested {
                    attested = try q.attestations(about: subject).contains { $0.body.optionalString("claim") == claim && $0.body.optionalIndex("retractedAt") == nil }
                }
                if !attested {
                    out.append(reason(.atRisk, "\(share.share.decimal()) of the weight comes from artisanal site \(siteID) with no \"\(claim)\" attestation on the site or the parcel's lineage",
                                      root: share.root, share: share.share, [share.recordedAt]))
                }
            }

        case "yield-plausibility":
            let maxPercent = p["maxPercent"]?.int64Value ?? 70
            var seen: Set<UInt64> = []
            for a in provenance.lineage where a.via == "parcel.manufacture" && seen.insert(a.index).inserted {
                // In 128 bits: the weights are up to 2^53−1 points and the percentage is the policy's to set.
                if Int128(a.outputCarats) * 100 > Int128(a.parentCarats) * Int128(maxPercent) {
                    out.append(reason(.atRisk, "manufacture at index \(a.index) kept \(a.outputCarats * 100 / a.parentCarats)% of \(a.parcel)'s weight (\(a.outputCarats) of \(a.parentCarats) points); above \(maxPercent)% is implausible",
                                      [a.index]))
                }
            }

        case "value-per-carat":
            let stats = try dataset(p["dataset"]?.stringValue ?? "kp-statistics")
            let factor = p["factor"]?.int64Value ?? 4
            var seen: Set<String> = []
            for parcel in lineageParcels {
                for (index, number) in try q.crossings(parcel) {
                    guard seen.insert(number).inserted, let cert = try q.certificate(number), !cert.bool("external"),
                          let carats = cert.optionalInt("carats"), carats > 0,
                          let exportedAt = cert.optionalIndex("exportedAt"), let cents = exportValue(exportedAt) else { continue }
                    // Compare with the dominant origin country's average, else the world's.
                    let country = provenance.byCountry.first?.country
                    let byCountry = stats["valuePerCaratUSD"]?.objectValue
                    guard let average = (country.flatMap { byCountry?[$0]?.int64Value }) ?? byCountry?["world"]?.int64Value, average > 0 else { continue }
                    // cents per carat = cents * 100 / points
                    // In 128 bits: values, weights, averages and the factor are each up to 2^53−1.
                    let centsPerCarat = Int128(cents) * 100 / Int128(carats)
                    let averageCents = Int128(average) * 100
                    if centsPerCarat * Int128(factor) < averageCents || centsPerCarat > averageCents * Int128(factor) {
                        // The message names the band, never the disclosed value: status answers are public.
                        out.append(reason(.atRisk, "the value disclosed for certificate \(number) is more than \(factor)× away from the average for \(country ?? "world") rough (US$\(average)/ct)",
                                          [index]))
                    }
                }
            }

        case "site-volume":
            let stats = try dataset(p["dataset"]?.stringValue ?? "kp-statistics")
            let capacities = try dataset(p["capacityDataset"]?.stringValue ?? "site-production")
            var seen: Set<String> = []
            for share in provenance.origin {
                guard let siteID = share.site, let extracted = share.extractedOn, let country = share.country else { continue }
                let year = String(extracted.prefix(4))
                guard seen.insert("\(siteID)/\(year)").inserted, let volume = try q.siteVolume(site: siteID, year: year) else { continue }
                if let capacity = capacities["sites"]?.objectValue?[siteID]?.int64Value, volume > capacity {
                    out.append(reason(.atRisk, "site \(siteID) recorded \(volume) points extracted in \(year), beyond its recorded production of \(capacity)",
                                      root: share.root, share: share.share, [share.recordedAt]))
                } else if let mct = stats["productionMct"]?.objectValue?[country]?.doubleValue, Double(volume) > mct * 1e8 {
                    out.append(reason(.atRisk, "site \(siteID) recorded \(volume / 100) ct extracted in \(year), more than all of \(country)'s reported production (\(mct) Mct)",
                                      root: share.root, share: share.share, [share.recordedAt]))
                }
            }

        default:
            throw PolicyError("unknown rule \(spec.rule)")
        }
        return out
    }

    private func certificateDate(of share: OriginShare) throws -> String? {
        for (_, number) in try q.crossings(share.root) {
            if let cert = try q.certificate(number) { return cert.optionalString("issuedOn") }
        }
        return nil
    }

    /// Sanctions by origin, G7-style: rough of the sanctioned origin is banned from `directBan`; polished
    /// stones from `thresholds` (size in points per stone, from a date); origin extracted (or certified)
    /// before `preBanCutoff` is exempt.
    private func sanctioned(_ data: JSONObject, _ reason: (SourcingStatus, String, String?, Share?, [UInt64]) -> StatusReason) throws -> [StatusReason] {
        guard let country = data["country"]?.stringValue else { return [] }
        let cutoff = data["preBanCutoff"]?.stringValue ?? ""
        let directBan = data["directBan"]?.stringValue ?? "9999-12-31"
        var threshold: Int64?
        for t in data["thresholds"]?.arrayValue?.compactMap(\.objectValue) ?? [] {
            if let from = t.optionalString("from"), from <= date, let min = t.optionalInt("minPoints") { threshold = min }
        }
        var out: [StatusReason] = []
        let stones = max(provenance.stones, 1)
        for share in provenance.origin {
            let mixed = share.country == nil
            guard share.country == country || mixed else { continue }
            let originDate = try share.extractedOn ?? certificateDate(of: share) ?? ""
            if !mixed && !originDate.isEmpty && originDate < cutoff {
                continue // pre-ban stock
            }
            if mixed {
                out.append(reason(.unverified, "\(share.share.decimal()) of the weight has a declared mixed origin: a \(country) share cannot be excluded",
                                  share.root, share.share, [share.recordedAt]))
                continue
            }
            if provenance.form == "rough" {
                if date >= directBan {
                    out.append(reason(.nonCompliant, "\(share.share.decimal()) of this rough is of \(country) origin (extracted \(originDate)); banned from \(directBan)",
                                      share.root, share.share, [share.recordedAt]))
                } else {
                    out.append(reason(.atRisk, "\(share.share.decimal()) of this rough is of \(country) origin; not yet banned on \(date)",
                                      share.root, share.share, [share.recordedAt]))
                }
            } else if let threshold, Int128(provenance.carats) >= Int128(threshold) * Int128(stones) {
                out.append(reason(.nonCompliant,
                                  "\(share.share.decimal()) of the weight is of \(country) origin and the stones average \(provenance.carats / stones) points, at or above the \(threshold)-point threshold in force on \(date)",
                                  share.root, share.share, [share.recordedAt]))
            } else {
                out.append(reason(.atRisk,
                                  "\(share.share.decimal()) of the weight is of \(country) origin; below the size threshold in force on \(date)",
                                  share.root, share.share, [share.recordedAt]))
            }
        }
        return out
    }
}

/// KP participation and standing by date.
enum KPStanding {
    /// Why `country` was not a participant in good standing on `date`, or nil if it was.
    static func problem(country: String, on date: String, data: JSONObject) -> String? {
        guard let entry = data["participants"]?.objectValue?[country]?.objectValue else {
            return "not a Kimberley Process participant"
        }
        if let since = entry.optionalString("since"), date < since { return "not yet a KP participant on \(date) (joined \(since))" }
        for period in entry["standing"]?.arrayValue?.compactMap(\.objectValue) ?? [] {
            guard let from = period.optionalString("from"), from <= date else { continue }
            if let to = period.optionalString("to"), date > to { continue }
            return "\(period.optionalString("status") ?? "suspended") from the KP on \(date) (\(from)–\(period.optionalString("to") ?? "")): \(period.optionalString("note") ?? "")"
        }
        return nil
    }
}
