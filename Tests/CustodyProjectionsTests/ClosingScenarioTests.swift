import CustodyLedger
import CustodyModel
import CustodyProjections
import CustodyStore
import Foundation
import Testing

/// Shipments that close without a change of custody: a cancelled and a rejected transfer, and rough whose KP
/// certificate expired in transit, returned to the exporter.
@Suite struct ClosingScenarioTests {
    @Test func aCancelledAndARejectedTransferLeaveCustodyWithTheSender() async throws {
        let s = try await Scenario()
        let c = try await ScenarioTests.Cast(s)
        let cutter = try await s.participant("antwerp-cutter", "BE", ["manufacturer"])
        // After the clean chain, BW-1-B (400 points, split from BW-1 in Antwerp) stays with antwerp-trading.
        _ = try await ScenarioTests.cleanChain(s, c)
        func send(_ day: String) async throws -> Int64 {
            Int64(try await s.submit(c.antwerp, "custody.transfer", at: "\(day)T09:00:00Z", [
                "parcels": .array([.string("BW-1-B")]), "to": .string(cutter.id),
            ]))
        }
        let first = try await send("2026-05-01")
        #expect(try s.provenance("BW-1-B").status == "in-transit")
        let cancel = try await s.submit(c.antwerp, "custody.cancel", at: "2026-05-02T09:00:00Z", [
            "transfer": .integer(first), "reason": .string("wrong lot"),
        ])
        var p = try s.provenance("BW-1-B")
        #expect(p.status == "active" && p.custodian == c.antwerp.id && p.pending == nil)
        #expect(p.events.last?.type == "custody.cancel" && p.events.last?.custodian == c.antwerp.id && p.events.last?.status == "active")
        #expect(try s.provenance("BW-1-B", asOf: cancel).status == "in-transit")

        let second = try await send("2026-05-03")
        try await s.submit(cutter, "custody.reject", at: "2026-05-04T09:00:00Z", [
            "transfer": .integer(second), "reason": .string("not the lot ordered"),
        ])
        p = try s.provenance("BW-1-B")
        #expect(p.status == "active" && p.custodian == c.antwerp.id && p.pending == nil)
        #expect(p.events.last?.type == "custody.reject" && p.events.last?.signer == cutter.id && p.events.last?.custodian == c.antwerp.id)
        // Neither closed transfer put the cutter in the custody chain.
        #expect(p.custody.map(\.custodian) == ["antwerp-trading"])

        let third = try await send("2026-05-05")
        try await s.submit(cutter, "custody.accept", at: "2026-05-06T09:00:00Z", ["transfer": .integer(third)])
        p = try s.provenance("BW-1-B")
        #expect(p.custodian == cutter.id && p.status == "active")
        #expect(p.custody.map(\.custodian) == ["antwerp-trading", "antwerp-cutter"])
        #expect(p.events.suffix(6).map(\.type) == ["custody.transfer", "custody.cancel", "custody.transfer", "custody.reject",
                                                    "custody.transfer", "custody.accept"])
        #expect(try s.status("BW-1-B", "kp-core").status == .compliant)

        // A rebuild from the log writes the same records.
        let size = s.size
        let rebuilt = try ProjectionStore(path: s.path + "/rebuilt.sqlite")
        try Projector(store: rebuilt, batchSize: 3).catchUp(to: size) { try s.ledger.entries(start: $0, limit: $1) }
        #expect(try ProjectionDigest.compute(rebuilt, asOf: size).digest == ProjectionDigest.compute(s.projections, asOf: size).digest)
        await s.close()
    }

    @Test func roughReturnedUnderAnExpiredCertificateIsTheExportersAgainAndNotAnOpenCrossing() async throws {
        let s = try await Scenario()
        let c = try await ScenarioTests.Cast(s)
        try await s.extract(c.miner, "BW-9", site: "BW-JWANENG", points: 1_000, stones: 10, on: "2026-01-10")
        try await s.submit(c.miner, "kp.export", at: "2026-02-01T09:00:00Z", [
            "certificate": .string("BW-2026-R9"), "exportingCountry": .string("BW"), "importingCountry": .string("BE"),
            "importer": .string(c.antwerp.id), "parcels": .array([.string("BW-9")]), "carats": .integer(1_000),
            "valueCommitment": Scenario.commitment, "issuedOn": .string("2026-02-01"), "expiresOn": .string("2026-03-01"),
        ])
        try await s.submit(c.bwKP, "kp.validate", at: "2026-02-01T10:00:00Z", ["certificate": .string("BW-2026-R9")])
        // In transit, the crossing is open.
        let open = try s.status("BW-9", "kp-core")
        #expect(open.status == .unverified && open.reasons.contains { $0.rule == "kp-certificates" })

        let returned = try await s.submit(c.bwKP, "kp.return", at: "2026-03-05T00:00:00Z", [
            "certificate": .string("BW-2026-R9"), "returnedOn": .string("2026-03-04"), "reason": .string("held at customs past expiry"),
        ])
        let p = try s.provenance("BW-9")
        #expect(p.status == "active" && p.custodian == c.miner.id && p.pending == nil)
        #expect(p.custody.map(\.custodian) == [c.miner.id])
        #expect(p.events.map(\.type) == ["parcel.extract", "kp.export", "kp.validate", "kp.return"])
        let cert = try s.projections.read { r in try ProjectionQueries(r, asOf: s.size).certificate("BW-2026-R9") }
        #expect(cert?["returnedAt"] == .integer(Int64(returned)) && cert?["returnedOn"] == .string("2026-03-04") && cert?["importedAt"] == nil)
        // Closed, not "receipt not yet confirmed": the rough never crossed.
        let closed = try s.status("BW-9", "kp-core")
        #expect(closed.status == .compliant, "\(closed.reasons.map(\.message))")

        // Shipped again under a valid certificate: custody passes, and both certificates are in its history.
        try await s.ship(["BW-9"], points: 1_000, certificate: "BW-2026-R10", from: c.miner, c.bwKP, to: c.antwerp, c.beKP,
                         exporting: "BW", importing: "BE", on: "2026-03-10")
        #expect(try s.provenance("BW-9").custody.map(\.custodian) == [c.miner.id, c.antwerp.id])
        #expect(try s.status("BW-9", "kp-core").status == .compliant)
        await s.close()
    }
}
