import CustodyModel

/// A projection failed: a record that should exist does not, or stored bytes do not parse. Either means the
/// projection file is damaged or was built by other code; deleting it and rebuilding from the log fixes it.
public struct ProjectionError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}

/// The record kinds the fold writes (`ProjectionStore` keys). Single-valued kinds are replaced with `put`;
/// list kinds grow with `append`.
enum Kind {
    /// Parcel state, by parcel id (single).
    static let parcel = "parcel"
    /// Every event that touched a parcel, by parcel id (list).
    static let events = "events"
    /// Lineage: a parcel's parents, by child id (list).
    static let parents = "parents"
    /// Lineage the other way: a parcel's children, by parent id (list).
    static let children = "children"
    /// Origin composition, by parcel id (single, written once at creation).
    static let origin = "origin"
    /// Sites, by site id (single; corrections replace it).
    static let site = "site"
    /// KP certificates, by number (single).
    static let certificate = "certificate"
    /// Pending and accepted transfers, by log index (single).
    static let transfer = "transfer"
    /// Incidents, by log index (single; corrections replace it).
    static let incident = "incident"
    /// Incidents naming a site, by site id (list of incident indexes).
    static let incidentsAtSite = "incidents.site"
    /// Incidents naming a region, by "CC/region" (list of incident indexes).
    static let incidentsInRegion = "incidents.region"
    /// Attestations, by log index (single; corrections replace it).
    static let attestation = "attestation"
    /// Attestations about a subject, by "parcel:ID" or "site:ID" (list of attestation indexes).
    static let attestationsAbout = "attestations.subject"
    /// Grading reports, by log index (single; corrections replace it).
    static let grade = "grade"
    /// Reference data the registrar published, by dataset name (single).
    static let policyData = "policy"
    /// Extracted volume of a site in a year, by "site/YYYY" (single).
    static let siteVolume = "site.volume"
    /// KP certificates a parcel crossed (or entered) under, by parcel id (list of `{certificate}`): what the
    /// certificate rules walk instead of every event of every ancestor.
    static let crossings = "crossings"
    /// Which record a descriptive event wrote, by its log index (single): what a correction rewrites.
    static let target = "target"
}

/// Reading and writing record bodies: JSON objects in RFC 8785 form, so a record's bytes depend only on its
/// content and a rebuild is byte-identical.
extension JSONObject {
    func encoded() -> [UInt8] { CanonicalJSON.encode(.object(self)) }

    static func decode(_ bytes: [UInt8]) throws -> JSONObject {
        guard case .object(let o)? = try? JSONParser.parse(bytes) else {
            throw ProjectionError("a projection record does not parse as a JSON object")
        }
        return o
    }

    func string(_ key: String) throws -> String {
        guard let s = self[key]?.stringValue else { throw ProjectionError("projection record lacks string \(key)") }
        return s
    }

    func optionalString(_ key: String) -> String? { self[key]?.stringValue }

    func int(_ key: String) throws -> Int64 {
        guard let n = self[key]?.int64Value else { throw ProjectionError("projection record lacks integer \(key)") }
        return n
    }

    func optionalInt(_ key: String) -> Int64? { self[key]?.int64Value }

    func index(_ key: String) throws -> UInt64 { UInt64(try int(key)) }

    func optionalIndex(_ key: String) -> UInt64? { optionalInt(key).map { UInt64($0) } }

    func bool(_ key: String) -> Bool { self[key]?.boolValue ?? false }

    func strings(_ key: String) -> [String] { self[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// Sets `key` unless `value` is nil (absent members are omitted, never `null`).
    mutating func set(_ key: String, _ value: String?) { if let value { set(key, .string(value)) } }
    mutating func set(_ key: String, _ value: Int64?) { if let value { set(key, .integer(value)) } }
    mutating func set(_ key: String, index value: UInt64?) { if let value { set(key, .integer(Int64(value))) } }
    mutating func set(_ key: String, _ value: Bool) { set(key, .bool(value)) }
}

/// A list-record body that points at another record by log index.
func pointer(_ index: UInt64) -> JSONObject { JSONObject([("index", .integer(Int64(index)))]) }
