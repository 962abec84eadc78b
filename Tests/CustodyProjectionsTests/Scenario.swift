import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import CustodyProjections
import CustodyStore
import Foundation
import Logging
import Testing

/// A real ledger (rules on, SQLite in a temporary directory) with named participants, and a projector over
/// it: scenario tests read like the trade.
final class Scenario {
    struct Actor {
        let id: String
        let key: SigningKey
    }

    let directory: DataDirectory
    let ledger: Ledger
    let registrar: SigningKey
    let projections: ProjectionStore
    let projector: Projector
    let engine: PolicyEngine
    let path: String
    private var nonce = 0

    init() async throws {
        path = NSTemporaryDirectory() + "custody-projections-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        directory = DataDirectory(path: path)
        (ledger, _) = try await directory.openLedger(origin: "scenario.example/log", logger: Logger(label: "test"))
        registrar = try KeyFile.read(from: directory.registrarKeyPath).signingKey()
        projections = try ProjectionStore(path: path + "/projections.sqlite")
        projector = Projector(store: projections, batchSize: 7)
        engine = PolicyEngine(library: try PolicyLibrary())
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func close() async { await ledger.close() }

    /// Registers a participant with one fresh key.
    func participant(_ id: String, _ country: String, _ roles: [String]) async throws -> Actor {
        let key = SigningKey.generate()
        _ = try await submit(Actor(id: "registrar", key: registrar), "participant.register", at: "2023-01-01T00:00:00Z", [
            "participant": .string(id), "legalName": .string("\(id) Ltd"), "country": .string(country),
            "roles": .array(roles.map { .string($0) }), "publicKeys": .array([.string(key.publicKey.base64)]),
        ])
        return Actor(id: id, key: key)
    }

    /// Signs and appends an event; fails the test (throws) if the ledger refuses it. Returns its index.
    @discardableResult
    func submit(_ actor: Actor, _ type: String, at occurredAt: String, _ fields: [String: JSONValue]) async throws -> UInt64 {
        nonce += 1
        var body = JSONObject([
            ("type", .string(type)), ("schemaVersion", .integer(1)), ("signer", .string(actor.id)),
            ("occurredAt", .string(occurredAt)), ("nonce", .string("scenario-nonce-\(nonce)")),
        ])
        for key in fields.keys.sorted() { body.set(key, fields[key]!) }
        switch await ledger.submit(try EventEnvelope.sign(body: body, with: actor.key)) {
        case .success(let receipt): return receipt.index
        case .failure(let error): throw ScenarioError("\(type) by \(actor.id) refused: \(error)")
        }
    }

    /// Brings the projections up to the log's size.
    func project() throws {
        let size = ledger.treeSize
        try projector.catchUp(to: size) { start, limit in try ledger.entries(start: start, limit: limit) }
    }

    var size: UInt64 { ledger.treeSize }

    /// Provenance of `parcel` as of `asOf` (default: now).
    func provenance(_ parcel: String, asOf: UInt64? = nil) throws -> Provenance {
        try project()
        let size = asOf ?? self.size
        return try projections.read { r in
            guard let p = try ProjectionQueries(r, asOf: size).provenance(parcel) else { throw ScenarioError("no parcel \(parcel) as of \(size)") }
            return p
        }
    }

    /// Status of `parcel` under `policy` as of `asOf` (default: now).
    func status(_ parcel: String, _ policy: String, asOf: UInt64? = nil, date: String? = nil) throws -> StatusReport {
        try project()
        let size = asOf ?? self.size
        return try projections.read { r in
            guard let s = try engine.status(of: parcel, policy: policy, in: ProjectionQueries(r, asOf: size), date: date) else {
                throw ScenarioError("no parcel \(parcel) as of \(size)")
            }
            return s
        }
    }

    // MARK: The trade, in steps

    static let commitment: JSONValue = .string(String(repeating: "ab", count: 32))
    static let evidence: JSONValue = .object(JSONObject([("uri", .string("https://example.org/report.pdf")), ("sha256", .string(String(repeating: "0", count: 64)))]))

    func site(_ miner: Actor, _ id: String, country: String, region: String, kind: String = "industrial") async throws {
        try await submit(miner, "site.register", at: "2023-01-02T00:00:00Z", [
            "site": .string(id), "name": .string("\(id) mine"), "country": .string(country), "region": .string(region),
            "latE6": .integer(-24_000_000), "lonE6": .integer(25_000_000), "kind": .string(kind), "operator": .string(miner.id),
        ])
    }

    func extract(_ miner: Actor, _ parcel: String, site: String, points: Int64, stones: Int64, on date: String) async throws {
        try await submit(miner, "parcel.extract", at: "\(date)T08:00:00Z", [
            "parcel": .string(parcel), "site": .string(site), "carats": .integer(points), "stones": .integer(stones),
            "extractedOn": .string(date),
        ])
    }

    /// Export, validation and import of `parcels` under one certificate.
    func ship(_ parcels: [String], points: Int64, certificate: String, from exporter: Actor, _ exportAuthority: Actor,
              to importer: Actor, _ importAuthority: Actor, exporting: String, importing: String, on date: String) async throws {
        try await submit(exporter, "kp.export", at: "\(date)T09:00:00Z", [
            "certificate": .string(certificate), "exportingCountry": .string(exporting), "importingCountry": .string(importing),
            "importer": .string(importer.id), "parcels": .array(parcels.map { .string($0) }), "carats": .integer(points),
            "valueCommitment": Self.commitment, "issuedOn": .string(date), "expiresOn": .string("2030-01-01"),
        ])
        try await submit(exportAuthority, "kp.validate", at: "\(date)T10:00:00Z", ["certificate": .string(certificate)])
        try await submit(importAuthority, "kp.import", at: "\(date)T18:00:00Z", [
            "certificate": .string(certificate), "parcels": .array(parcels.map { .string($0) }), "carats": .integer(points),
            "receivedOn": .string(date),
        ])
    }

    func split(_ trader: Actor, _ parcel: String, into outputs: [(String, Int64, Int64)], on date: String) async throws {
        try await submit(trader, "parcel.split", at: "\(date)T12:00:00Z", [
            "parcel": .string(parcel),
            "outputs": .array(outputs.map { .object(JSONObject([("parcel", .string($0.0)), ("carats", .integer($0.1)), ("stones", .integer($0.2))])) }),
        ])
    }

    func mix(_ trader: Actor, _ inputs: [String], into output: String, points: Int64, stones: Int64, on date: String) async throws {
        try await submit(trader, "parcel.mix", at: "\(date)T12:00:00Z", [
            "inputs": .array(inputs.map { .string($0) }),
            "output": .object(JSONObject([("parcel", .string(output)), ("carats", .integer(points)), ("stones", .integer(stones))])),
        ])
    }

    func manufacture(_ polisher: Actor, _ parcel: String, into stones: [(String, Int64)], on date: String) async throws {
        try await submit(polisher, "parcel.manufacture", at: "\(date)T12:00:00Z", [
            "parcel": .string(parcel),
            "polished": .array(stones.map { .object(JSONObject([("stone", .string($0.0)), ("carats", .integer($0.1))])) }),
        ])
    }

    func sell(_ seller: Actor, _ parcel: String, to buyer: String = "consumer", on date: String) async throws {
        try await submit(seller, "parcel.sale", at: "\(date)T15:00:00Z", ["parcel": .string(parcel), "buyer": .string(buyer)])
    }

    @discardableResult
    func incident(_ monitor: Actor, site: String, category: String, from: String, to: String? = nil, on date: String) async throws -> UInt64 {
        var fields: [String: JSONValue] = [
            "scope": .object(JSONObject([("site", .string(site))])), "category": .string(category), "from": .string(from),
            "summary": .string("systematic violence against artisanal diggers by security forces"), "evidence": Self.evidence,
        ]
        if let to { fields["to"] = .string(to) }
        return try await submit(monitor, "incident", at: "\(date)T00:00:00Z", fields)
    }
}

struct ScenarioError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
