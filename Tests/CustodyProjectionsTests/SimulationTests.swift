import CustodyCrypto
import CustodyLedger
import CustodyModel
import CustodyProjections
import CustodySimulation
import CustodyStore
import Foundation
import Testing

/// The simulated workload (`custody simulate`) on a real ledger with its rules on, projected and judged by
/// the policy engine.
@Suite struct SimulationTests {
    static let policies = ["kp-core", "kp-expanded", "g7-russia", "oecd-red-flags"]

    /// Runs `configuration` into the scenario's ledger in batches; fails on the first refusal.
    static func run(_ s: Scenario, _ configuration: SimulationConfiguration) async throws -> Simulator {
        let sim = try Simulator(configuration)
        while !sim.isFinished {
            let first = sim.nextIndex
            let batch = try await sim.nextBatch(max: 500)
            for (offset, result) in await s.ledger.submit(batch).enumerated() {
                switch result {
                case .success(let receipt):
                    #expect(receipt.index == first + UInt64(offset) && !receipt.duplicate)
                case .failure(let error):
                    let envelope = batch[offset]
                    throw ScenarioError("simulated event \(first + UInt64(offset)) (\(envelope.type) by \(envelope.signer)) refused: \(error)")
                }
            }
        }
        return sim
    }

    static func configuration(_ s: Scenario, events: Int, problems: Double, seed: UInt64 = 7, deep: Int = 0) -> SimulationConfiguration {
        SimulationConfiguration(seed: seed, events: events, problemShare: problems, deepChains: deep, startIndex: s.size, registrar: s.registrar)
    }

    /// Every parcel of the log as of now, with its provenance.
    static func parcels(_ s: Scenario) throws -> [Provenance] {
        try s.project()
        return try s.projections.read { r in
            let q = ProjectionQueries(r, asOf: s.size)
            var out: [Provenance] = []
            var after: String?
            while true {
                let page = try q.parcelIDs(after: after, limit: 500)
                guard let last = page.last else { break }
                out += try page.map { try q.provenance($0)! }
                after = last
            }
            return out
        }
    }

    @Test func aSimulatedWorkloadIsAcceptedInFullWithTheRulesOn() async throws {
        let s = try await Scenario()
        let sim = try await Self.run(s, Self.configuration(s, events: 3_000, problems: 0.1, deep: 1))
        #expect(s.size == 1 + 3_000)
        #expect(sim.statistics.events == 3_000)
        // The trade's whole vocabulary is there.
        for type in ["participant.register", "site.register", "attestation", "parcel.extract", "kp.export", "kp.validate", "kp.import",
                     "parcel.split", "parcel.mix", "custody.transfer", "custody.accept", "parcel.manufacture", "stone.grade", "parcel.sale"] {
            #expect((sim.statistics.eventsByType[type] ?? 0) > 0, "no \(type)")
        }
        // Shaped like the trade: crossings a multiple of production, about half the weight kept, most cut in India.
        let stats = sim.statistics
        #expect(stats.crossingsPerProduction > 1.8 && stats.crossingsPerProduction < 4)
        #expect(stats.polishingYield > 0.4 && stats.polishingYield < 0.65)
        #expect(stats.cuttingShare("IN") > 0.6)
        // The woven chain gives parcels with at least 20 levels of lineage.
        #expect(!sim.deepLineageParcels.isEmpty)
        for id in sim.deepLineageParcels {
            let p = try s.provenance(id)
            #expect((p.lineage.map(\.depth).max() ?? 0) >= 20, "\(id): \(p.lineage.map(\.depth).max() ?? 0) levels")
        }
        await s.close()
    }

    @Test func theSameSeedGivesByteIdenticalOutput() async throws {
        let registrar = try SigningKey(seed: SHA256.hash(Array("simulation test registrar".utf8)))
        func configuration(_ seed: UInt64) -> SimulationConfiguration {
            SimulationConfiguration(seed: seed, events: 1_500, problemShare: 0.2, deepChains: 1, registrar: registrar)
        }
        func bytes(_ seed: UInt64) throws -> [[UInt8]] {
            let sim = try Simulator(configuration(seed))
            var out: [[UInt8]] = []
            while let e = try sim.next() { out.append(e.leafInput) }
            return out
        }
        let a = try bytes(11), b = try bytes(11), c = try bytes(12)
        #expect(a.count == 1_500)
        #expect(a == b)
        #expect(a != c)
        // Batches signed on all cores give the same bytes as one at a time.
        let sim = try Simulator(configuration(11))
        var batched: [[UInt8]] = []
        while !sim.isFinished { batched += try await sim.nextBatch(max: 333).map(\.leafInput) }
        #expect(batched == a)
    }

    @Test func withoutProblemsEveryCompletedParcelIsCompliantUnderEveryPolicy() async throws {
        let s = try await Scenario()
        let sim = try await Self.run(s, Self.configuration(s, events: 2_500, problems: 0))
        #expect(sim.statistics.problemFlows.isEmpty)
        var judged = 0
        for p in try Self.parcels(s) where p.status != "in-transit" {
            #expect(p.totalShare == .one)
            for policy in Self.policies {
                let r = try s.status(p.parcel, policy)
                #expect(r.status == .compliant, "\(p.parcel) under \(policy): \(r.reasons.map(\.message))")
            }
            judged += 1
        }
        #expect(judged > 300)
        await s.close()
    }

    @Test func theProblemShareGivesTheExpectedKindsOfProblemCases() async throws {
        let s = try await Scenario()
        let sim = try await Self.run(s, Self.configuration(s, events: 4_000, problems: 0.3, seed: 3))
        for kind in ProblemKind.allCases { #expect((sim.statistics.problemFlows[kind] ?? 0) > 0, "no \(kind.rawValue) flow") }
        let flows = Double(sim.statistics.flows)
        let problems = Double(sim.statistics.problemFlows.values.reduce(0, +))
        #expect(abs(problems / flows - 0.3) < 0.12, "\(problems) of \(flows) flows")

        var counts: [String: [SourcingStatus: Int]] = [:]
        var byKind: [ProblemKind: Set<String>] = [:]
        for p in try Self.parcels(s) where p.status != "in-transit" {
            #expect(p.totalShare == .one, "\(p.parcel): origin shares sum to \(p.totalShare)")
            var statuses: [String: SourcingStatus] = [:]
            for policy in Self.policies {
                let status = try s.status(p.parcel, policy).status
                statuses[policy] = status
                counts[policy, default: [:]][status, default: 0] += 1
            }
            let kind = sim.problem(ofParcel: p.parcel)
            // A clean flow's parcels are compliant everywhere; a problem flow's are flagged where expected.
            switch kind {
            case nil:
                #expect(statuses.values.allSatisfy { $0 == .compliant }, "\(p.parcel): \(statuses)")
            case .siteIncident?:
                #expect(statuses["kp-expanded"] == .nonCompliant && statuses["kp-core"] == .compliant, "\(p.parcel): \(statuses)")
            case .russianRoughMixed?:
                #expect(statuses["g7-russia"] != .compliant && statuses["kp-core"] == .compliant, "\(p.parcel): \(statuses)")
                if p.form == "rough" { #expect(statuses["g7-russia"] == .nonCompliant) }
            case .externalImport?:
                #expect(statuses["kp-core"] == .unverified && statuses["g7-russia"] == .unverified, "\(p.parcel): \(statuses)")
            case .implausibleYield?:
                if p.form == "polished" { #expect(statuses["oecd-red-flags"] == .atRisk, "\(p.parcel): \(statuses)") }
                #expect(statuses["kp-core"] == .compliant)
            case .artisanalWithoutDueDiligence?:
                #expect(statuses["oecd-red-flags"] == .atRisk && statuses["kp-core"] == .compliant, "\(p.parcel): \(statuses)")
            }
            if let kind { byKind[kind, default: []].insert(p.parcel) }
        }
        for kind in ProblemKind.allCases { #expect(!(byKind[kind] ?? []).isEmpty, "no parcel of a \(kind.rawValue) flow") }
        #expect((counts["kp-expanded"]?[.nonCompliant] ?? 0) > 0)
        #expect((counts["g7-russia"]?[.nonCompliant] ?? 0) > 0)
        #expect((counts["kp-core"]?[.unverified] ?? 0) > 0)
        #expect((counts["oecd-red-flags"]?[.atRisk] ?? 0) > 0)
        #expect((counts["kp-core"]?[.compliant] ?? 0) > (counts["kp-core"]?[.unverified] ?? 0))
        await s.close()
    }
}
