import CustodyCrypto
import CustodyLedger
import CustodyModel
import CustodyProjections
import CustodyStore
import Foundation
import Testing

@Suite struct ShareTests {
    @Test func sharesAreExactAndCanonical() {
        #expect(Share(2, 8) == Share(1, 4))
        #expect(Share(2, 8).description == "1/4")
        #expect(Share(1, 3) + Share(1, 6) == Share(1, 2))
        #expect(Share("6/8") == Share(3, 4))
        #expect(Share("1/0") == nil && Share("x/2") == nil && Share("") == nil && Share("1/2/3") == nil)
        #expect(Share(1, 3).decimal(digits: 4) == "0.3333")
        // Thirds summed three times are exactly one: no floating-point drift.
        #expect(Share(1, 3) + Share(1, 3) + Share(1, 3) == .one)
    }
}

/// A generated log with many extractions, mixes and splits in one trading hub.
struct GeneratedHub {
    let scenario: Scenario
    var parcels: [String: Int64] = [:]  // active parcels and their weights

    static func build(extractions: Int, rounds: Int, seed: UInt64) async throws -> GeneratedHub {
        let s = try await Scenario()
        var hub = GeneratedHub(scenario: s)
        var rng = SplitMix(seed: seed)
        let miner = try await s.participant("hub-miner", "BE", ["miner", "trader"])
        for site in 0..<5 {
            try await s.site(miner, "SITE-\(site)", country: "BE", region: "Region \(site % 2)")
        }
        var batch: [EventEnvelope] = []
        var n = 0
        func body(_ type: String, _ fields: [(String, JSONValue)]) throws -> EventEnvelope {
            n += 1
            return try EventEnvelope.sign(body: JSONObject([
                ("type", .string(type)), ("schemaVersion", .integer(1)), ("signer", .string(miner.id)),
                ("occurredAt", .string("2026-01-01T00:00:00Z")), ("nonce", .string("generated-\(seed)-\(n)")),
            ] + fields), with: miner.key)
        }
        for i in 0..<extractions {
            let weight = Int64(rng.next() % 997 + 3)
            hub.parcels["X\(i)"] = weight
            batch.append(try body("parcel.extract", [("parcel", .string("X\(i)")), ("site", .string("SITE-\(i % 5)")),
                                                     ("carats", .integer(weight)), ("stones", .integer(weight)), ("extractedOn", .string("2026-01-01"))]))
        }
        try await hub.submit(batch)
        for round in 0..<rounds {
            batch = []
            var ids = hub.parcels.keys.sorted()
            // Mix three parcels with awkward weights, then split the result unevenly.
            for m in 0..<(ids.count / 6) {
                let inputs = [ids.removeLast(), ids.removeLast(), ids.removeLast()]
                let total = inputs.reduce(Int64(0)) { $0 + hub.parcels[$1]! }
                let mixID = "M\(round)-\(m)"
                batch.append(try body("parcel.mix", [("inputs", .array(inputs.map { .string($0) })),
                                                     ("output", .object(JSONObject([("parcel", .string(mixID)), ("carats", .integer(total)), ("stones", .integer(total))])))]))
                for i in inputs { hub.parcels[i] = nil }
                let first = Int64(rng.next() % UInt64(total - 1)) + 1
                batch.append(try body("parcel.split", [("parcel", .string(mixID)), ("outputs", .array([
                    .object(JSONObject([("parcel", .string("\(mixID)a")), ("carats", .integer(first)), ("stones", .integer(first))])),
                    .object(JSONObject([("parcel", .string("\(mixID)b")), ("carats", .integer(total - first)), ("stones", .integer(total - first))])),
                ]))]))
                hub.parcels["\(mixID)a"] = first
                hub.parcels["\(mixID)b"] = total - first
            }
            try await hub.submit(batch)
            try s.project()  // incremental: the projector follows the log batch by batch
        }
        return hub
    }

    func submit(_ batch: [EventEnvelope]) async throws {
        for result in await scenario.ledger.submit(batch) { _ = try result.get() }
    }
}

/// Deterministic pseudo-random numbers for generated logs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ProjectionTests {
    @Test func rebuildFromTheLogIsByteIdenticalToTheIncrementalBuild() async throws {
        let hub = try await GeneratedHub.build(extractions: 240, rounds: 6, seed: 7)
        let s = hub.scenario
        try s.project()
        let size = s.size
        #expect(size > 500)
        let incremental = try ProjectionDigest.compute(s.projections, asOf: size)

        // A fresh store, rebuilt in one pass with other batch boundaries.
        let rebuilt = try ProjectionStore(path: s.path + "/rebuilt.sqlite")
        try Projector(store: rebuilt, batchSize: 1_000).catchUp(to: size) { try s.ledger.entries(start: $0, limit: $1) }
        let again = try ProjectionDigest.compute(rebuilt, asOf: size)
        #expect(again.records == incremental.records)
        #expect(again.digest == incremental.digest)

        // As of an earlier size the two agree too (as-of views are part of what must be identical).
        #expect(try ProjectionDigest.compute(rebuilt, asOf: size / 2).digest == ProjectionDigest.compute(s.projections, asOf: size / 2).digest)

        // Records stamped by another version of the fold are rebuilt by this one.
        try s.projections.reset(foldVersion: 1)
        #expect(try s.projections.foldVersion() == 1)
        try s.project()
        #expect(try s.projections.foldVersion() != 1)
        #expect(try ProjectionDigest.compute(s.projections, asOf: size).digest == incremental.digest)

        // Deleting the records and catching up again loses nothing.
        try s.projections.reset()
        try s.project()
        #expect(try ProjectionDigest.compute(s.projections, asOf: size).digest == incremental.digest)
        await s.close()
    }

    @Test func originSharesSumToExactlyOneThroughRepeatedMixesAndSplits() async throws {
        let hub = try await GeneratedHub.build(extractions: 120, rounds: 8, seed: 42)
        let s = hub.scenario
        try s.project()
        var deepest = 0
        for id in hub.parcels.keys.sorted() {
            let p = try s.provenance(id)
            #expect(p.totalShare == .one, "\(id): \(p.origin.map(\.share))")
            #expect(p.carats == hub.parcels[id])
            deepest = max(deepest, p.lineage.map(\.depth).max() ?? 0)
        }
        #expect(deepest >= 8)
        await s.close()
    }

    @Test func asOfShowsAParcelAsItWasAtAnEarlierTreeSize() async throws {
        let s = try await Scenario()
        let miner = try await s.participant("m", "BW", ["miner", "trader"])
        try await s.site(miner, "S", country: "BW", region: "R")
        try await s.extract(miner, "P", site: "S", points: 900, stones: 9, on: "2026-01-01")
        let beforeSplit = s.size
        try await s.split(miner, "P", into: [("P1", 300, 3), ("P2", 600, 6)], on: "2026-01-02")
        #expect(try s.provenance("P").status == "consumed")
        #expect(try s.provenance("P", asOf: beforeSplit).status == "active")
        #expect(throws: ScenarioError.self) { try s.provenance("P1", asOf: beforeSplit) }
        await s.close()
    }

    @Test func projectionsBuiltFromAnotherLogAreDroppedAndRebuilt() async throws {
        let a = try await Scenario()
        let miner = try await a.participant("m", "BW", ["miner"])
        try await a.site(miner, "S", country: "BW", region: "R")
        try a.project()
        let b = try await Scenario()
        _ = try await b.participant("other", "BW", ["miner"])
        let other = try await b.participant("other2", "BW", ["miner"])
        try await b.site(other, "T", country: "BW", region: "R")
        // Point b's projector at a's projection file: its last leaf is not b's, so it rebuilds.
        let projector = Projector(store: a.projections)
        try projector.catchUp(to: b.size) { try b.ledger.entries(start: $0, limit: $1) }
        let sites = try a.projections.read { r in try ProjectionQueries(r, asOf: b.size).site("T") }
        #expect(sites != nil)
        #expect(try a.projections.read { r in try ProjectionQueries(r, asOf: b.size).site("S") } == nil)
        await a.close()
        await b.close()
    }
}
