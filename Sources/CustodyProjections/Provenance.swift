import CustodyModel
import CustodyStore

/// Where a parcel or stone came from, as the log said at tree size `asOf`: its state, its custody chain, its
/// lineage through splits, mixes and manufacture, and the exact composition of its origin.
public struct Provenance: Sendable {
    /// The tree size the answer is for.
    public let asOf: UInt64
    /// Parcel id.
    public let parcel: String
    /// `rough` or `polished`.
    public let form: String
    /// Weight in points.
    public let carats: Int64
    /// Stone count.
    public let stones: Int64
    /// Current custodian (for a sold parcel, the buyer).
    public let custodian: String
    /// `active`, `in-transit`, `consumed` or `sold`.
    public let status: String
    /// Index of the transfer or export it is in transit under.
    public let pending: UInt64?
    /// Index of the event that created it, and that event's type.
    public let createdAt: UInt64
    /// Type of the creating event (`parcel.extract`, `parcel.split`, …).
    public let createdBy: String
    /// Every event that touched it, oldest first.
    public let events: [Event]
    /// Custodians in order, each with the indexes of the events while it held the parcel.
    public let custody: [CustodyLink]
    /// Every ancestor, nearest first (breadth-first), with how it was derived.
    public let lineage: [Ancestor]
    /// Origin composition: one share per root (extraction or history-less import), summing to exactly one.
    public let origin: [OriginShare]

    /// An event in a parcel's history.
    public struct Event: Sendable, Equatable {
        /// Log index.
        public let index: UInt64
        /// Event type.
        public let type: String
        /// Who signed it.
        public let signer: String
        /// When it happened.
        public let occurredAt: String
        /// Custodian after it.
        public let custodian: String
        /// Status after it.
        public let status: String
    }

    /// One custodian's holding.
    public struct CustodyLink: Sendable, Equatable {
        /// Participant id (or `consumer`).
        public let custodian: String
        /// Index of the event that gave it custody.
        public let from: UInt64
        /// Indexes of the events during its custody, including the one that ended it.
        public let indexes: [UInt64]
    }

    /// One ancestor in the lineage.
    public struct Ancestor: Sendable, Equatable {
        /// Ancestor parcel id.
        public let parcel: String
        /// Generations back (1 = parent).
        public let depth: Int
        /// The child it was found through.
        public let child: String
        /// Transformation that made the child (`parcel.split`, `parcel.mix`, `parcel.assort`, `parcel.manufacture`).
        public let via: String
        /// Log index of that transformation.
        public let index: UInt64
        /// The ancestor's weight going in, and the transformation's total output weight (for yields).
        public let parentCarats: Int64
        /// Total weight of the transformation's outputs.
        public let outputCarats: Int64
    }

    /// Shares summed by country of origin (nil = undeclared / mixed), largest first, ties by country.
    public var byCountry: [(country: String?, share: Share)] {
        var sums: [String: Share] = [:]
        for s in origin { sums[s.country ?? "", default: .zero] = sums[s.country ?? "", default: .zero] + s.share }
        return sums.map { (country: $0.key.isEmpty ? nil : $0.key, share: $0.value) }
            .sorted { $0.share != $1.share ? $0.share > $1.share : ($0.country ?? "") < ($1.country ?? "") }
    }

    /// Sum of all origin shares: exactly one for every parcel.
    public var totalShare: Share { origin.reduce(Share.zero) { $0 + $1.share } }
}

/// Reads projections as of a tree size. Every read is a point lookup or a short range on the records'
/// primary key; the lineage walk visits each ancestor once.
public struct ProjectionQueries {
    let r: ProjectionReader
    /// The tree size answers are for.
    public let asOf: UInt64
    /// Decoded records of this view: one snapshot never changes, and a status reads the same certificates,
    /// sites and lists for several rules.
    private let memo = Memo()

    final class Memo {
        var objects: [String: JSONObject?] = [:]
        var lists: [String: [(index: UInt64, body: JSONObject)]] = [:]
    }

    /// Queries over one read snapshot of the projections, as of `asOf`.
    public init(_ reader: ProjectionReader, asOf: UInt64) {
        r = reader
        self.asOf = asOf
    }

    func object(_ kind: String, _ key: String) throws -> JSONObject? {
        let id = kind + "\u{0}" + key
        if let hit = memo.objects[id] { return hit }
        let value = try r.get(kind, key, asOf: asOf).map { try JSONObject.decode($0.body) }
        memo.objects[id] = value
        return value
    }

    func objects(_ kind: String, _ key: String) throws -> [(index: UInt64, body: JSONObject)] {
        let id = kind + "\u{0}" + key
        if let hit = memo.lists[id] { return hit }
        let value = try r.list(kind, key, asOf: asOf).map { ($0.from, try JSONObject.decode($0.body)) }
        memo.lists[id] = value
        return value
    }

    /// The provenance of `parcel`, or nil if it did not exist at `asOf`.
    public func provenance(_ parcel: String) throws -> Provenance? {
        guard let p = try object(Kind.parcel, parcel) else { return nil }
        let events = try objects(Kind.events, parcel).map { (index, o) in
            Provenance.Event(index: index, type: try o.string("type"), signer: try o.string("signer"), occurredAt: try o.string("occurredAt"),
                             custodian: try o.string("custodian"), status: try o.string("status"))
        }
        var custody: [Provenance.CustodyLink] = []
        for e in events {
            if let last = custody.last, last.custodian == e.custodian {
                custody[custody.count - 1] = Provenance.CustodyLink(custodian: last.custodian, from: last.from, indexes: last.indexes + [e.index])
            } else {
                if let last = custody.last {
                    // The event that handed custody on belongs to both holders' records.
                    custody[custody.count - 1] = Provenance.CustodyLink(custodian: last.custodian, from: last.from,
                                                                        indexes: last.indexes.last == e.index ? last.indexes : last.indexes + [e.index])
                }
                custody.append(Provenance.CustodyLink(custodian: e.custodian, from: e.index, indexes: [e.index]))
            }
        }
        return Provenance(
            asOf: asOf, parcel: parcel, form: try p.string("form"), carats: try p.int("carats"), stones: try p.int("stones"),
            custodian: try p.string("custodian"), status: try p.string("status"), pending: p.optionalIndex("pending"),
            createdAt: try p.index("createdAt"), createdBy: try p.string("createdBy"), events: events, custody: custody,
            lineage: try lineage(parcel), origin: try origin(parcel))
    }

    /// Every ancestor of `parcel`, breadth-first, each once.
    public func lineage(_ parcel: String) throws -> [Provenance.Ancestor] {
        var out: [Provenance.Ancestor] = []
        var seen: Set<String> = [parcel]
        var frontier = [parcel]
        var depth = 0
        while !frontier.isEmpty {
            depth += 1
            var next: [String] = []
            for child in frontier {
                for (index, edge) in try objects(Kind.parents, child) {
                    for case .object(let p)? in (edge["parents"]?.arrayValue ?? []).map(Optional.some) {
                        let parent = try p.string("parcel")
                        guard seen.insert(parent).inserted else { continue }
                        out.append(Provenance.Ancestor(parcel: parent, depth: depth, child: child, via: try edge.string("type"), index: index,
                                                       parentCarats: try p.int("carats"), outputCarats: try edge.int("outputCarats")))
                        next.append(parent)
                    }
                }
            }
            frontier = next
        }
        return out
    }

    /// The origin composition of `parcel`.
    public func origin(_ parcel: String) throws -> [OriginShare] {
        guard let o = try object(Kind.origin, parcel) else { return [] }
        return try OriginShare.decodeList(o)
    }

    /// Parcel ids that existed at `asOf`, in id order, after `after`.
    public func parcelIDs(after: String?, limit: Int) throws -> [String] {
        try r.keys(Kind.parcel, after: after, limit: limit, asOf: asOf)
    }

    /// A site's record (with corrections applied as of `asOf`).
    public func site(_ id: String) throws -> JSONObject? { try object(Kind.site, id) }

    /// A KP certificate's record.
    public func certificate(_ number: String) throws -> JSONObject? { try object(Kind.certificate, number) }

    /// Incidents recorded for a site or for a region, with their indexes, retracted ones included (check
    /// `retractedAt`).
    public func incidents(site: String?, country: String?, region: String?) throws -> [(index: UInt64, body: JSONObject)] {
        var pointers: [(UInt64, JSONObject)] = []
        if let site { pointers += try objects(Kind.incidentsAtSite, site) }
        if let country, let region { pointers += try objects(Kind.incidentsInRegion, "\(country)/\(region)") }
        return try pointers.compactMap { (index, _) in try object(Kind.incident, String(index)).map { (index, $0) } }
    }

    /// Attestations about a parcel or a site (`subject` = "parcel:ID" or "site:ID").
    public func attestations(about subject: String) throws -> [(index: UInt64, body: JSONObject)] {
        try objects(Kind.attestationsAbout, subject).compactMap { (index, _) in
            try object(Kind.attestation, String(index)).map { (index, $0) }
        }
    }

    /// Reference data the registrar published under `name`, if any, with its index.
    public func publishedData(_ name: String) throws -> (index: UInt64, version: Int64, data: JSONObject)? {
        guard let rec = try r.get(Kind.policyData, name, asOf: asOf) else { return nil }
        let o = try JSONObject.decode(rec.body)
        return (rec.from, try o.int("version"), o["data"]?.objectValue ?? JSONObject())
    }

    /// Carats a site extracted in a year (points), if any.
    public func siteVolume(site: String, year: String) throws -> Int64? {
        try object(Kind.siteVolume, "\(site)/\(year)")?.optionalInt("carats")
    }

    /// Custody events (`events` list) of a parcel: raw, for policy rules.
    func eventRecords(_ parcel: String) throws -> [(index: UInt64, body: JSONObject)] { try objects(Kind.events, parcel) }

    /// The KP certificates a parcel crossed or entered under, with the index of each export (or external import).
    func crossings(_ parcel: String) throws -> [(index: UInt64, certificate: String)] {
        try objects(Kind.crossings, parcel).compactMap { item in item.body.optionalString("certificate").map { (item.index, $0) } }
    }
}
