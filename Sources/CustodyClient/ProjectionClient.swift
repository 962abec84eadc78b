import CustodyLedger
import CustodyModel
import CustodyProjections
import CustodyStore
import Foundation

extension LedgerClient {
    /// `GET /v1/parcels/{id}/provenance`, as JSON (`Schemas/provenance.schema.json`).
    public func provenance(_ parcel: String, asOf: UInt64? = nil) async throws -> JSONObject {
        try await object(["v1", "parcels", parcel, "provenance"], query: asOf.map { ["asOf": String($0)] } ?? [:])
    }

    /// `GET /v1/parcels/{id}/status`, as JSON (`Schemas/status-report.schema.json`).
    public func status(_ parcel: String, policy: String, asOf: UInt64? = nil, date: String? = nil) async throws -> JSONObject {
        var query = ["policy": policy]
        if let asOf { query["asOf"] = String(asOf) }
        if let date { query["date"] = date }
        return try await object(["v1", "parcels", parcel, "status"], query: query)
    }

    /// `GET /v1/status`: a page of parcels by status under a policy.
    public func statusPage(policy: String, status: String?, after: String?, limit: Int, asOf: UInt64?) async throws -> JSONObject {
        var query = ["policy": policy, "limit": String(limit)]
        if let status { query["status"] = status }
        if let after { query["after"] = after }
        if let asOf { query["asOf"] = String(asOf) }
        return try await object(["v1", "status"], query: query)
    }

    /// `GET /v1/projections/digest?asOf=N`.
    public func projectionDigest(asOf: UInt64) async throws -> JSONObject {
        try await object(["v1", "projections", "digest"], query: ["asOf": String(asOf)])
    }

    func object(_ path: [String], query: [String: String]) async throws -> JSONObject {
        let data = try await send("GET", path, query: query)
        guard case .object(let o)? = try? JSONParser.parse([UInt8](data)) else {
            throw ClientError("the server's answer to /\(path.joined(separator: "/")) is not a JSON object")
        }
        return o
    }
}

/// Rebuilds the projections of a replayed log and compares them with what a daemon serves: the auditor's
/// check that provenance and status are derived from the log and nothing else.
public struct ProjectionAudit: Sendable {
    /// What the comparison found.
    public struct Result: Sendable {
        /// Tree size compared.
        public let treeSize: UInt64
        /// Records in the auditor's rebuild.
        public let records: Int
        /// SHA-256 of the rebuild (`ProjectionDigest`), hex.
        public let digest: String
        /// The daemon's digest, when compared with one.
        public let served: String?
        /// The first parcel whose served provenance differs from the rebuild's, when the digests differ.
        public let firstDifference: String?
    }

    /// Folds entries `0..<treeSize` from `source` into a fresh projection file at `scratchPath` (deleted
    /// afterwards), then compares with `client`'s digest and, if it differs, parcel by parcel.
    public static func run(source: any AuditSource, treeSize: UInt64, scratchPath: String, client: LedgerClient?,
                           progress: (UInt64) -> Void = { _ in }) async throws -> Result {
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratchPath + suffix) }
        }
        let store = try ProjectionStore(path: scratchPath)
        let projector = Projector(store: store)
        var next: UInt64 = 0
        while next < treeSize {
            let page = try await source.entries(start: next, limit: Int(min(1_000, treeSize - next)))
            guard !page.isEmpty else { throw ClientError("the log source returned no entry at index \(next)") }
            try projector.apply(Array(page.prefix(Int(treeSize - next))))
            next += UInt64(min(page.count, Int(treeSize - next)))
            progress(next)
        }
        let (digest, records) = try ProjectionDigest.compute(store, asOf: treeSize)
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        guard let client else { return Result(treeSize: treeSize, records: records, digest: hex, served: nil, firstDifference: nil) }
        let served = try await client.projectionDigest(asOf: treeSize)["sha256"]?.stringValue
        var difference: String?
        if served != hex {
            // Name the first parcel whose provenance differs: the digest only says that something does.
            var after: String?
            search: while true {
                let ids = try store.read { try ProjectionQueries($0, asOf: treeSize).parcelIDs(after: after, limit: 500) }
                if ids.isEmpty { break }
                for id in ids {
                    let mine = try store.read { try ProjectionQueries($0, asOf: treeSize).provenance(id) }
                    let theirs = try? await client.provenance(id, asOf: treeSize)
                    if theirs.map({ CanonicalJSON.encode(.object($0)) }) != mine.map({ CanonicalJSON.encode($0.json) }) {
                        difference = id
                        break search
                    }
                }
                after = ids.last
            }
        }
        return Result(treeSize: treeSize, records: records, digest: hex, served: served, firstDifference: difference)
    }
}
