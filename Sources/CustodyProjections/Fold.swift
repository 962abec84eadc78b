import BigInt
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore

/// One logged event as the fold sees it.
public struct FoldInput: Sendable {
    /// Log index.
    public let index: UInt64
    /// Event type.
    public let type: String
    /// Signer participant id.
    public let signer: String
    /// `occurredAt` as logged.
    public let occurredAt: String
    /// The body.
    public let body: JSONObject

    /// The event in a stored entry. Entries in the log passed the rules when appended, so a shape error here
    /// means the entry is not what the log accepted.
    public init(entry: LogEntry) throws {
        guard case .object(let envelope) = try EventEnvelope.parseJSON(entry.leafInput),
              case .object(let body)? = envelope["body"],
              let type = body["type"]?.stringValue, let signer = body["signer"]?.stringValue,
              let occurredAt = body["occurredAt"]?.stringValue
        else { throw ProjectionError("entry \(entry.index) is not an event envelope") }
        self.init(index: entry.index, type: type, signer: signer, occurredAt: occurredAt, body: body)
    }

    /// An event from its parts (tests, simulation).
    public init(index: UInt64, type: String, signer: String, occurredAt: String, body: JSONObject) {
        self.index = index
        self.type = type
        self.signer = signer
        self.occurredAt = occurredAt
        self.body = body
    }
}

/// The fold from events to projection records. Pure in the sense that matters: the records it writes depend
/// only on the events before, read back from the records it wrote, so every rebuild writes the same bytes.
/// It trusts the rules: events in the log were checked on append, so it does not re-judge them.
struct Fold {
    /// Bumped whenever the records the fold writes change meaning or shape; stores written by another
    /// version are rebuilt from the log.
    static let version: Int64 = 2

    let w: ProjectionWriter

    func apply(_ e: FoldInput) throws {
        let b = e.body
        switch e.type {
        case "site.register":
            var site = JSONObject()
            for key in ["site", "name", "country", "region", "kind", "operator"] { site.set(key, b[key]?.stringValue) }
            site.set("latE6", b["latE6"]?.int64Value)
            site.set("lonE6", b["lonE6"]?.int64Value)
            site.set("registeredAt", index: e.index)
            let id = try b.string("site")
            try w.put(Kind.site, id, at: e.index, body: site.encoded())
            try target(e.index, kind: Kind.site, key: id)

        case "parcel.extract":
            let id = try b.string("parcel")
            let siteID = try b.string("site")
            guard let siteRecord = try w.current(Kind.site, siteID) else { throw ProjectionError("site \(siteID) has no record") }
            let site = try JSONObject.decode(siteRecord.body)
            let carats = try b.int("carats"), stones = try b.int("stones")
            try createParcel(id, form: "rough", carats: carats, stones: stones, custodian: e.signer, e)
            let extractedOn = try b.string("extractedOn")
            try writeOrigin(id, [OriginShare(root: id, site: siteID, country: try site.string("country"), extractedOn: extractedOn,
                                             declared: false, recordedAt: e.index, share: .one)], at: e.index)
            let volumeKey = "\(siteID)/\(extractedOn.prefix(4))"
            var volume = try w.current(Kind.siteVolume, volumeKey).map { try JSONObject.decode($0.body) } ?? JSONObject()
            // Held at 2^53−1, the largest exact JSON integer, rather than trapping: each extraction may weigh
            // that much, and a log whose site volume passed it would stop every projection at this entry, for
            // good. A volume that large is past any site's capacity, which is what the `site-volume` rule asks.
            volume.set("carats", saturatingSum(volume.optionalInt("carats") ?? 0, carats))
            volume.set("stones", saturatingSum(volume.optionalInt("stones") ?? 0, stones))
            volume.set("extractions", saturatingSum(volume.optionalInt("extractions") ?? 0, 1))
            try w.put(Kind.siteVolume, volumeKey, at: e.index, body: volume.encoded())

        case "kp.export":
            let number = try b.string("certificate")
            var cert = JSONObject()
            for key in ["certificate", "exportingCountry", "importingCountry", "importer", "issuedOn", "expiresOn"] {
                cert.set(key, b[key]?.stringValue)
            }
            cert.set("exporter", e.signer)
            cert.set("parcels", b["parcels"] ?? .array([]))
            cert.set("carats", b["carats"]?.int64Value)
            cert.set("exportedAt", index: e.index)
            try w.put(Kind.certificate, number, at: e.index, body: cert.encoded())
            let crossing = JSONObject([("certificate", .string(number))]).encoded()
            for id in b.strings("parcels") {
                try w.append(Kind.crossings, id, at: e.index, body: crossing)
                try updateParcel(id, e, event: ["certificate": .string(number), "to": .string(try b.string("importer"))]) {
                    $0.set("status", "in-transit")
                    $0.set("pending", index: e.index)
                }
            }

        case "kp.validate":
            let number = try b.string("certificate")
            var cert = try record(Kind.certificate, number)
            cert.set("validatedAt", index: e.index)
            cert.set("validatedBy", e.signer)
            try w.put(Kind.certificate, number, at: e.index, body: cert.encoded())
            for id in cert.strings("parcels") { try touchParcel(id, e, event: ["certificate": .string(number)]) }

        case "kp.import":
            try closeCertificate(e, stamp: "imported", date: "receivedOn", custodianField: "importer")

        case "kp.return":
            // The certificate expired in transit: closed, and its rough active again with the exporter.
            try closeCertificate(e, stamp: "returned", date: "returnedOn", custodianField: "exporter")

        case "kp.import.external":
            let number = try b.string("certificate")
            var cert = JSONObject()
            for key in ["certificate", "exportingCountry", "importingCountry", "importer", "issuedOn", "expiresOn", "receivedOn",
                        "exporterName", "origin"] {
                cert.set(key, b[key]?.stringValue)
            }
            cert.set("external", true)
            cert.set("carats", b["carats"]?.int64Value)
            cert.set("exportedAt", index: e.index)
            cert.set("importedAt", index: e.index)
            cert.set("importedBy", e.signer)
            var ids: [JSONValue] = []
            let importer = try b.string("importer")
            let origin = try b.string("origin")
            for item in b["parcels"]?.arrayValue ?? [] {
                guard let p = item.objectValue else { continue }
                let id = try p.string("parcel")
                ids.append(.string(id))
                try w.append(Kind.crossings, id, at: e.index, body: JSONObject([("certificate", .string(number))]).encoded())
                try createParcel(id, form: "rough", carats: try p.int("carats"), stones: try p.int("stones"), custodian: importer, e,
                                 event: ["certificate": .string(number)])
                try writeOrigin(id, [OriginShare(root: id, site: nil, country: origin == "mixed" ? nil : origin,
                                                 extractedOn: nil, declared: true, recordedAt: e.index, share: .one)], at: e.index)
            }
            cert.set("parcels", .array(ids))
            try w.put(Kind.certificate, number, at: e.index, body: cert.encoded())

        case "custody.transfer":
            let to = try b.string("to")
            var transfer = JSONObject()
            transfer.set("sender", e.signer)
            transfer.set("receiver", to)
            transfer.set("parcels", b["parcels"] ?? .array([]))
            try w.put(Kind.transfer, String(e.index), at: e.index, body: transfer.encoded())
            for id in b.strings("parcels") {
                try updateParcel(id, e, event: ["to": .string(to)]) {
                    $0.set("status", "in-transit")
                    $0.set("pending", index: e.index)
                }
            }

        case "custody.accept":
            let t = try b.int("transfer")
            var transfer = try record(Kind.transfer, String(t))
            transfer.set("acceptedAt", index: e.index)
            try w.put(Kind.transfer, String(t), at: e.index, body: transfer.encoded())
            for id in transfer.strings("parcels") {
                try updateParcel(id, e, event: ["transfer": .integer(t)]) {
                    $0.set("custodian", e.signer)
                    $0.set("status", "active")
                    $0.remove("pending")
                }
            }

        case "custody.cancel", "custody.reject":
            // The transfer closes without a change of custody: its parcels are active again with the sender.
            let t = try b.int("transfer")
            var transfer = try record(Kind.transfer, String(t))
            transfer.set(e.type == "custody.cancel" ? "cancelledAt" : "rejectedAt", index: e.index)
            try w.put(Kind.transfer, String(t), at: e.index, body: transfer.encoded())
            let sender = try transfer.string("sender")
            for id in transfer.strings("parcels") {
                try updateParcel(id, e, event: ["transfer": .integer(t)]) {
                    $0.set("custodian", sender)
                    $0.set("status", "active")
                    $0.remove("pending")
                }
            }

        case "parcel.split":
            try transform(inputs: [try b.string("parcel")], outputs: try outputs(b["outputs"], idKey: "parcel", stones: true), e)
        case "parcel.assort":
            try transform(inputs: [try b.string("parcel")], outputs: try outputs(b["stones"], idKey: "stone", stones: false), e)
        case "parcel.manufacture":
            try transform(inputs: [try b.string("parcel")], outputs: try outputs(b["polished"], idKey: "stone", stones: false), e,
                          form: "polished")
        case "parcel.mix":
            guard let out = b["output"]?.objectValue else { throw ProjectionError("mix at \(e.index) has no output") }
            try transform(inputs: b.strings("inputs"),
                          outputs: [(try out.string("parcel"), try out.int("carats"), try out.int("stones"))], e)

        case "stone.grade":
            let stone = try b.string("stone")
            var grade = JSONObject()
            for key in ["stone", "reportNumber", "color", "clarity", "cut"] { grade.set(key, b[key]?.stringValue) }
            grade.set("carats", b["carats"]?.int64Value)
            grade.set("laboratory", e.signer)
            try w.put(Kind.grade, String(e.index), at: e.index, body: grade.encoded())
            try target(e.index, kind: Kind.grade, key: String(e.index))
            try touchParcel(stone, e, event: ["report": .string(try b.string("reportNumber"))])

        case "parcel.sale":
            let id = try b.string("parcel")
            let buyer = try b.string("buyer")
            try updateParcel(id, e, event: ["buyer": .string(buyer)]) {
                $0.set("status", "sold")
                $0.set("custodian", buyer)
            }

        case "attestation":
            guard let subject = b["subject"]?.objectValue else { throw ProjectionError("attestation at \(e.index) has no subject") }
            let subjectKey = try subject["parcel"]?.stringValue.map { "parcel:\($0)" } ?? "site:\(subject.string("site"))"
            var a = JSONObject()
            a.set("signer", e.signer)
            a.set("subject", subjectKey)
            a.set("claim", b["claim"]?.stringValue)
            a.set("evidence", b["evidence"] ?? .null)
            a.set("occurredAt", e.occurredAt)
            try w.put(Kind.attestation, String(e.index), at: e.index, body: a.encoded())
            try w.append(Kind.attestationsAbout, subjectKey, at: e.index, body: pointer(e.index).encoded())
            try target(e.index, kind: Kind.attestation, key: String(e.index))
            if let parcel = subject["parcel"]?.stringValue { try touchParcel(parcel, e, event: [:]) }

        case "incident":
            guard let scope = b["scope"]?.objectValue else { throw ProjectionError("incident at \(e.index) has no scope") }
            var i = JSONObject()
            i.set("signer", e.signer)
            i.set("category", b["category"]?.stringValue)
            i.set("from", b["from"]?.stringValue)
            i.set("to", b["to"]?.stringValue)
            i.set("summary", b["summary"]?.stringValue)
            i.set("evidence", b["evidence"] ?? .null)
            if let site = scope["site"]?.stringValue {
                i.set("site", site)
                try w.append(Kind.incidentsAtSite, site, at: e.index, body: pointer(e.index).encoded())
            } else {
                let country = try scope.string("country"), region = try scope.string("region")
                i.set("country", country)
                i.set("region", region)
                try w.append(Kind.incidentsInRegion, "\(country)/\(region)", at: e.index, body: pointer(e.index).encoded())
            }
            try w.put(Kind.incident, String(e.index), at: e.index, body: i.encoded())
            try target(e.index, kind: Kind.incident, key: String(e.index))

        case "correction":
            // Only descriptive records change; custody is never rewritten (the rules refuse it).
            let targetIndex = try b.int("target")
            guard let t = try w.current(Kind.target, String(targetIndex)) else { return }
            let pointer = try JSONObject.decode(t.body)
            let kind = try pointer.string("kind"), key = try pointer.string("key")
            var target = try record(kind, key)
            if b["retract"]?.boolValue == true {
                target.set("retractedAt", index: e.index)
            } else if let amend = b["amend"]?.objectValue {
                for (field, value) in amend {
                    // A site's region is stored as registered; incidents by region match the corrected one.
                    target.set(field, value)
                }
            }
            var corrections = target["corrections"]?.arrayValue ?? []
            corrections.append(.integer(Int64(e.index)))
            target.set("corrections", .array(corrections))
            try w.put(kind, key, at: e.index, body: target.encoded())

        case "policy.publish":
            var p = JSONObject()
            p.set("version", b["version"]?.int64Value)
            p.set("data", b["data"] ?? .object(JSONObject()))
            p.set("publishedAt", index: e.index)
            try w.put(Kind.policyData, try b.string("policy"), at: e.index, body: p.encoded())

        default:
            // Genesis, participants and keys: not part of any parcel's projection.
            break
        }
    }

    // MARK: Parcels

    private func record(_ kind: String, _ key: String) throws -> JSONObject {
        guard let r = try w.current(kind, key) else { throw ProjectionError("no \(kind) record for \(key)") }
        return try JSONObject.decode(r.body)
    }

    /// Ends a KP crossing (import or return): stamps `<stamp>At`, `<stamp>By` and the body's `date` on the
    /// certificate, and makes its parcels active again with the participant in the certificate's
    /// `custodianField` (the importer, or the exporter on a return).
    private func closeCertificate(_ e: FoldInput, stamp: String, date: String, custodianField: String) throws {
        let number = try e.body.string("certificate")
        var cert = try record(Kind.certificate, number)
        cert.set("\(stamp)At", index: e.index)
        cert.set("\(stamp)By", e.signer)
        cert.set(date, e.body[date]?.stringValue)
        try w.put(Kind.certificate, number, at: e.index, body: cert.encoded())
        let custodian = try cert.string(custodianField)
        for id in cert.strings("parcels") {
            try updateParcel(id, e, event: ["certificate": .string(number)]) {
                $0.set("custodian", custodian)
                $0.set("status", "active")
                $0.remove("pending")
            }
        }
    }

    private func target(_ index: UInt64, kind: String, key: String) throws {
        try w.put(Kind.target, String(index), at: index, body: JSONObject([("kind", .string(kind)), ("key", .string(key))]).encoded())
    }

    private func createParcel(_ id: String, form: String, carats: Int64, stones: Int64, custodian: String, _ e: FoldInput,
                              event extra: [String: JSONValue] = [:]) throws {
        var p = JSONObject()
        p.set("parcel", id)
        p.set("form", form)
        p.set("carats", carats)
        p.set("stones", stones)
        p.set("custodian", custodian)
        p.set("status", "active")
        p.set("createdAt", index: e.index)
        p.set("createdBy", e.type)
        p.set("lastIndex", index: e.index)
        try w.put(Kind.parcel, id, at: e.index, body: p.encoded())
        try appendEvent(id, e, custodian: custodian, status: "active", extra)
    }

    private func updateParcel(_ id: String, _ e: FoldInput, event extra: [String: JSONValue], _ change: (inout JSONObject) -> Void) throws {
        var p = try record(Kind.parcel, id)
        change(&p)
        p.set("lastIndex", index: e.index)
        try w.put(Kind.parcel, id, at: e.index, body: p.encoded())
        try appendEvent(id, e, custodian: try p.string("custodian"), status: try p.string("status"), extra)
    }

    private func touchParcel(_ id: String, _ e: FoldInput, event extra: [String: JSONValue]) throws {
        let p = try record(Kind.parcel, id)
        try appendEvent(id, e, custodian: try p.string("custodian"), status: try p.string("status"), extra)
    }

    private func appendEvent(_ id: String, _ e: FoldInput, custodian: String, status: String, _ extra: [String: JSONValue]) throws {
        var ev = JSONObject()
        ev.set("type", e.type)
        ev.set("signer", e.signer)
        ev.set("occurredAt", e.occurredAt)
        ev.set("custodian", custodian)
        ev.set("status", status)
        for key in extra.keys.sorted() { ev.set(key, extra[key]!) }
        try w.append(Kind.events, id, at: e.index, body: ev.encoded())
    }

    private func outputs(_ value: JSONValue?, idKey: String, stones: Bool) throws -> [(String, Int64, Int64)] {
        try (value?.arrayValue ?? []).map { item in
            guard let o = item.objectValue else { throw ProjectionError("an output is not an object") }
            return (try o.string(idKey), try o.int("carats"), stones ? try o.int("stones") : 1)
        }
    }

    /// Split, mix, assort, manufacture: inputs consumed, outputs created in the signer's custody, lineage edges
    /// both ways, and each output's origin: the inputs' shares weighted by their weights (for one input, the
    /// input's shares unchanged: a split carries its parent's composition to every child).
    private func transform(inputs: [String], outputs: [(String, Int64, Int64)], _ e: FoldInput, form: String? = nil) throws {
        var inputForm = "rough"
        var composition: [String: OriginShare] = [:]
        var order: [String] = []
        var weights: [(String, Int64)] = []
        for id in inputs {
            let p = try record(Kind.parcel, id)
            inputForm = try p.string("form")
            weights.append((id, try p.int("carats")))
        }
        let total = weights.reduce(Int64(0)) { $0 + $1.1 }
        let outputCarats = outputs.reduce(Int64(0)) { $0 + $1.1 }
        for (id, carats) in weights {
            let weight = Share(BigUInt(carats), BigUInt(total))
            for share in try originShares(id) {
                let scaled = share.scaled(by: weight)
                if let existing = composition[share.root] {
                    composition[share.root] = existing.adding(scaled.share)
                } else {
                    composition[share.root] = scaled
                    order.append(share.root)
                }
            }
            try updateParcel(id, e, event: ["outputs": .array(outputs.map { .string($0.0) })]) { $0.set("status", "consumed") }
        }
        let shares = order.sorted().map { composition[$0]! }
        // One lineage record per output (all its parents) and one per input (all its children), at this index.
        let parents = JSONValue.array(weights.map { .object(JSONObject([("parcel", .string($0.0)), ("carats", .integer($0.1))])) })
        for (id, carats, stones) in outputs {
            try createParcel(id, form: form ?? inputForm, carats: carats, stones: stones, custodian: e.signer, e,
                             event: ["inputs": .array(inputs.map { .string($0) })])
            try writeOrigin(id, shares, at: e.index)
            var edge = JSONObject()
            edge.set("type", e.type)
            edge.set("parents", parents)
            edge.set("outputCarats", outputCarats)
            try w.append(Kind.parents, id, at: e.index, body: edge.encoded())
        }
        let children = JSONObject([("type", .string(e.type)), ("children", .array(outputs.map { .string($0.0) }))])
        for input in inputs {
            try w.append(Kind.children, input, at: e.index, body: children.encoded())
        }
    }

    private func originShares(_ id: String) throws -> [OriginShare] {
        try OriginShare.decodeList(try record(Kind.origin, id))
    }

    private func writeOrigin(_ id: String, _ shares: [OriginShare], at index: UInt64) throws {
        try w.put(Kind.origin, id, at: index, body: OriginShare.encodeList(shares).encoded())
    }
}

/// One root of a parcel's origin: an extraction (or an import with no history) and the exact share of the
/// parcel's weight that comes from it.
public struct OriginShare: Sendable, Equatable {
    /// The parcel that entered the log: an extraction, or a parcel imported from outside it.
    public let root: String
    /// The mine site, for an extraction.
    public let site: String?
    /// Country of origin: the site's, or the certificate's declaration (nil for "mixed").
    public let country: String?
    /// The extraction date, for an extraction.
    public let extractedOn: String?
    /// True when the origin is only declared on a KP certificate (no extraction in the log).
    public let declared: Bool
    /// Log index where the root entered the log.
    public let recordedAt: UInt64
    /// Exact share of the parcel's weight.
    public let share: Share

    func scaled(by factor: Share) -> OriginShare {
        OriginShare(root: root, site: site, country: country, extractedOn: extractedOn, declared: declared, recordedAt: recordedAt,
                    share: share * factor)
    }

    func adding(_ more: Share) -> OriginShare {
        OriginShare(root: root, site: site, country: country, extractedOn: extractedOn, declared: declared, recordedAt: recordedAt,
                    share: share + more)
    }

    static func encodeList(_ shares: [OriginShare]) -> JSONObject {
        JSONObject([("shares", .array(shares.map { s in
            var o = JSONObject()
            o.set("root", s.root)
            o.set("site", s.site)
            o.set("country", s.country)
            o.set("extractedOn", s.extractedOn)
            if s.declared { o.set("declared", true) }
            o.set("recordedAt", index: s.recordedAt)
            o.set("share", s.share.description)
            return .object(o)
        }))])
    }

    static func decodeList(_ o: JSONObject) throws -> [OriginShare] {
        try (o["shares"]?.arrayValue ?? []).map { v in
            guard let s = v.objectValue, let share = Share(try s.string("share")) else { throw ProjectionError("bad origin share") }
            return OriginShare(root: try s.string("root"), site: s.optionalString("site"), country: s.optionalString("country"),
                               extractedOn: s.optionalString("extractedOn"), declared: s.bool("declared"),
                               recordedAt: try s.index("recordedAt"), share: share)
        }
    }
}

/// `a + b` for two counts in `0...2^53−1`, held at 2^53−1.
func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 { min(a + b, JSONValue.maxSafeInteger) }
