import CustodyModel
import CustodyProjections
import CustodyStore
import Foundation
import Testing

/// The cases buyers, polishers and auditors come with, played on a real ledger with the rules on.
@Suite struct ScenarioTests {
    /// The cast of a Botswana → Antwerp → Surat → New York chain.
    struct Cast {
        let miner, bwKP, antwerp, beKP, surat, inKP, lab, retailer, monitor: Scenario.Actor

        init(_ s: Scenario) async throws {
            miner = try await s.participant("debswana", "BW", ["miner", "exporter"])
            bwKP = try await s.participant("bw-kp", "BW", ["kp-authority"])
            antwerp = try await s.participant("antwerp-trading", "BE", ["importer", "trader", "exporter"])
            beKP = try await s.participant("be-kp", "BE", ["kp-authority"])
            surat = try await s.participant("surat-polishing", "IN", ["importer", "manufacturer"])
            inKP = try await s.participant("in-kp", "IN", ["kp-authority"])
            lab = try await s.participant("gem-lab", "IN", ["laboratory"])
            retailer = try await s.participant("ny-jeweller", "US", ["retailer"])
            monitor = try await s.participant("rights-watch", "BE", ["monitor"])
            try await s.site(miner, "BW-JWANENG", country: "BW", region: "Southern")
        }
    }

    /// Mine in Botswana, KP export to Antwerp, split, KP export to Surat, cut; returns the stone ids.
    static func cleanChain(_ s: Scenario, _ c: Cast, parcel: String = "BW-1", yieldPoints: Int64 = 300) async throws -> [String] {
        try await s.extract(c.miner, parcel, site: "BW-JWANENG", points: 1_000, stones: 10, on: "2026-01-10")
        try await s.ship([parcel], points: 1_000, certificate: "BW-2026-\(parcel)", from: c.miner, c.bwKP, to: c.antwerp, c.beKP,
                         exporting: "BW", importing: "BE", on: "2026-02-01")
        try await s.split(c.antwerp, parcel, into: [("\(parcel)-A", 600, 6), ("\(parcel)-B", 400, 4)], on: "2026-02-10")
        try await s.ship(["\(parcel)-A"], points: 600, certificate: "BE-2026-\(parcel)", from: c.antwerp, c.beKP, to: c.surat, c.inKP,
                         exporting: "BE", importing: "IN", on: "2026-03-01")
        try await s.manufacture(c.surat, "\(parcel)-A", into: [("\(parcel)-S1", yieldPoints - 100), ("\(parcel)-S2", 100)], on: "2026-04-01")
        return ["\(parcel)-S1", "\(parcel)-S2"]
    }

    @Test func cleanBotswanaAntwerpSuratChainIsCompliantUnderEveryPolicy() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        let stones = try await Self.cleanChain(s, c)
        try await s.sell(c.surat, stones[0], on: "2026-05-01")

        let p = try s.provenance(stones[0])
        #expect(p.form == "polished" && p.carats == 200 && p.status == "sold" && p.custodian == "consumer")
        #expect(p.origin.count == 1)
        #expect(p.origin[0].site == "BW-JWANENG" && p.origin[0].country == "BW" && p.origin[0].share == .one)
        #expect(p.lineage.map(\.parcel) == ["BW-1-A", "BW-1"])
        #expect(p.lineage.map(\.via) == ["parcel.manufacture", "parcel.split"])
        // The parent's custody chain: miner, in transit under the certificate, Antwerp, then consumed by the split.
        let parent = try s.provenance("BW-1")
        #expect(parent.custody.map(\.custodian) == ["debswana", "antwerp-trading"])
        #expect(parent.status == "consumed")
        for policy in ["kp-core", "kp-expanded", "g7-russia", "oecd-red-flags"] {
            let r = try s.status(stones[0], policy)
            #expect(r.status == .compliant, "\(policy): \(r.reasons.map(\.message))")
        }
        await s.close()
    }

    @Test func incidentAtTheSiteMakesItNonCompliantUnderTheExpandedDefinitionFromItsIndex() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        let stones = try await Self.cleanChain(s, c)
        let before = s.size
        let incident = try await s.incident(c.monitor, site: "BW-JWANENG", category: "violence", from: "2025-06-01", on: "2026-06-01")

        // kp-core does not look at violence; kp-expanded does, from the incident's index on.
        #expect(try s.status(stones[0], "kp-core").status == .compliant)
        let now = try s.status(stones[0], "kp-expanded")
        #expect(now.status == .nonCompliant)
        #expect(now.reasons.first?.rule == "origin-incident")
        #expect(now.reasons.first?.indexes.contains(incident) == true)
        #expect(now.reasons.first?.share == .one)
        // As of the log before the incident: compliant, as it was then.
        #expect(try s.status(stones[0], "kp-expanded", asOf: before).status == .compliant)
        #expect(try s.status(stones[0], "kp-expanded", asOf: incident).status == .compliant)
        #expect(try s.status(stones[0], "kp-expanded", asOf: incident + 1).status == .nonCompliant)

        // An incident whose period ends before the extraction does not touch it.
        let other = try await s.participant("other-miner", "BW", ["miner"])
        try await s.site(other, "BW-ORAPA", country: "BW", region: "Central")
        try await s.incident(c.monitor, site: "BW-ORAPA", category: "violence", from: "2020-01-01", to: "2021-01-01", on: "2026-06-02")
        try await s.extract(other, "OR-1", site: "BW-ORAPA", points: 500, stones: 5, on: "2026-06-03")
        #expect(try s.status("OR-1", "kp-expanded").status == .compliant)

        // The monitor retracts its incident: compliant again from the correction's index; history keeps both.
        let retraction = try await s.submit(c.monitor, "correction", at: "2026-07-01T00:00:00Z", [
            "target": .integer(Int64(incident)), "retract": .bool(true), "reason": .string("wrong site: the events were at a neighbouring concession"),
        ])
        #expect(try s.status(stones[0], "kp-expanded").status == .compliant)
        #expect(try s.status(stones[0], "kp-expanded", asOf: retraction).status == .nonCompliant)
        await s.close()
    }

    @Test func russianRoughMixedInAntwerpFollowsEveryChildAndIsJudgedBySizeAndDate() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        let alrosa = try await s.participant("ru-miner", "RU", ["miner", "exporter"])
        let ruKP = try await s.participant("ru-kp", "RU", ["kp-authority"])
        try await s.site(alrosa, "RU-MIR", country: "RU", region: "Sakha")
        // 3 parts Botswana, 1 part Russia (extracted after the ban's cut-off), mixed in Antwerp.
        try await s.extract(c.miner, "BW-2", site: "BW-JWANENG", points: 3_000, stones: 30, on: "2024-01-05")
        try await s.extract(alrosa, "RU-1", site: "RU-MIR", points: 1_000, stones: 10, on: "2024-01-06")
        try await s.ship(["BW-2"], points: 3_000, certificate: "BW-2024-1", from: c.miner, c.bwKP, to: c.antwerp, c.beKP,
                         exporting: "BW", importing: "BE", on: "2024-01-20")
        try await s.ship(["RU-1"], points: 1_000, certificate: "RU-2024-1", from: alrosa, ruKP, to: c.antwerp, c.beKP,
                         exporting: "RU", importing: "BE", on: "2024-01-21")
        try await s.mix(c.antwerp, ["BW-2", "RU-1"], into: "MIX-1", points: 4_000, stones: 40, on: "2024-01-25")
        try await s.split(c.antwerp, "MIX-1", into: [("MIX-1-A", 800, 8), ("MIX-1-B", 3_200, 32)], on: "2024-01-26")

        // The rough child carries exactly a quarter Russian origin, and rough with a Russian share is banned.
        let child = try s.provenance("MIX-1-B")
        let ru = child.byCountry.first { $0.country == "RU" }
        #expect(ru?.share == Share(1, 4))
        #expect(child.totalShare == .one)
        #expect(try s.status("MIX-1-B", "g7-russia").status == .nonCompliant)

        try await s.ship(["MIX-1-A"], points: 800, certificate: "BE-2024-7", from: c.antwerp, c.beKP, to: c.surat, c.inKP,
                         exporting: "BE", importing: "IN", on: "2024-02-10")
        // One large and one small stone; cut and traded in May 2024, when the threshold was 1.0 ct.
        try await s.manufacture(c.surat, "MIX-1-A", into: [("ST-LARGE", 120), ("ST-SMALL", 70)], on: "2024-05-02")
        let large = try s.status("ST-LARGE", "g7-russia")
        #expect(large.status == .nonCompliant)
        #expect(large.reasons.contains { $0.rule == "sanctioned-origin" && $0.share == Share(1, 4) })
        #expect(try s.status("ST-SMALL", "g7-russia").status == .atRisk)
        #expect(try s.provenance("ST-SMALL").byCountry.first { $0.country == "RU" }?.share == Share(1, 4))
        // From September 2024 the threshold is 0.5 ct: the small stone is caught too.
        #expect(try s.status("ST-SMALL", "g7-russia", date: "2024-09-01").status == .nonCompliant)
        try await s.sell(c.surat, "ST-SMALL", on: "2024-10-01")
        #expect(try s.status("ST-SMALL", "g7-russia").status == .nonCompliant)
        // The Botswana-only policy view is unaffected: kp-core stays compliant (Russia is a KP participant).
        #expect(try s.status("ST-SMALL", "kp-core").status == .compliant)
        await s.close()
    }

    @Test func preBanRussianStockIsExempt() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        let alrosa = try await s.participant("ru-miner", "RU", ["miner", "exporter"])
        try await s.site(alrosa, "RU-MIR", country: "RU", region: "Sakha")
        try await s.extract(alrosa, "RU-OLD", site: "RU-MIR", points: 800, stones: 4, on: "2023-06-01")
        _ = c
        #expect(try s.status("RU-OLD", "g7-russia").status == .compliant)
        await s.close()
    }

    @Test func parcelImportedWithNoExtractionHistoryIsUnverified() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        try await s.submit(c.beKP, "kp.import.external", at: "2026-03-02T09:30:00Z", [
            "certificate": .string("AE-2026-4411"), "exportingCountry": .string("AE"), "importingCountry": .string("BE"),
            "exporterName": .string("Gulf Rough Trading DMCC"), "importer": .string(c.antwerp.id), "origin": .string("mixed"),
            "parcels": .array([.object(JSONObject([("parcel", .string("AE-1")), ("carats", .integer(5_200)), ("stones", .integer(140))]))]),
            "carats": .integer(5_200), "valueCommitment": Scenario.commitment, "issuedOn": .string("2026-02-25"),
            "expiresOn": .string("2026-04-26"), "receivedOn": .string("2026-03-02"),
        ])
        let p = try s.provenance("AE-1")
        #expect(p.custodian == c.antwerp.id && p.createdBy == "kp.import.external")
        #expect(p.origin.count == 1 && p.origin[0].declared && p.origin[0].country == nil)
        let core = try s.status("AE-1", "kp-core")
        #expect(core.status == .unverified)
        #expect(core.reasons.contains { $0.rule == "custody-continuity" })
        #expect(try s.status("AE-1", "g7-russia").status == .unverified)
        await s.close()
    }

    @Test func yieldTooGoodToBeTrueIsARedFlag() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        // 950 of 600 rough points? No: 570 of 600, a 95% yield, which the rules allow but no cutter achieves.
        let stones = try await Self.cleanChain(s, c, yieldPoints: 570)
        let r = try s.status(stones[0], "oecd-red-flags")
        #expect(r.status == .atRisk)
        #expect(r.reasons.contains { $0.rule == "yield-plausibility" && $0.message.contains("95%") })
        #expect(try s.status(stones[0], "kp-core").status == .compliant)
        await s.close()
    }

    @Test func aSiteVolumePastTheLargestWeightIsHeldThereAndRedFlaggedInsteadOfStoppingTheProjections() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        let max = JSONValue.maxSafeInteger
        // Each extraction is legal; their sum for the site and year is not a JSON integer.
        try await s.extract(c.miner, "HUGE-1", site: "BW-JWANENG", points: max, stones: max, on: "2026-01-10")
        try await s.extract(c.miner, "HUGE-2", site: "BW-JWANENG", points: max, stones: max, on: "2026-01-11")
        try s.project()
        let volume = try s.projections.read { try ProjectionQueries($0, asOf: s.size).siteVolume(site: "BW-JWANENG", year: "2026") }
        #expect(volume == max)
        let r = try s.status("HUGE-2", "oecd-red-flags")
        #expect(r.reasons.contains { $0.rule == "site-volume" })
        await s.close()
    }

    @Test func artisanalOriginNeedsADueDiligenceAttestation() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        let digger = try await s.participant("coop-kono", "SL", ["miner"])
        try await s.site(digger, "SL-KONO-7", country: "SL", region: "Kono", kind: "artisanal")
        try await s.extract(digger, "SL-1", site: "SL-KONO-7", points: 300, stones: 12, on: "2026-02-01")
        _ = c
        let flagged = try s.status("SL-1", "oecd-red-flags")
        #expect(flagged.status == .atRisk && flagged.reasons.contains { $0.rule == "artisanal-due-diligence" })
        try await s.submit(digger, "attestation", at: "2026-02-02T00:00:00Z", [
            "subject": .object(JSONObject([("site", .string("SL-KONO-7"))])), "claim": .string("due-diligence"),
            "evidence": Scenario.evidence,
        ])
        #expect(try s.status("SL-1", "oecd-red-flags").status == .compliant)
        await s.close()
    }

    @Test func publishedReferenceDataSupersedesTheShippedFileFromItsIndex() async throws {
        let s = try await Scenario()
        let c = try await Cast(s)
        let stones = try await Self.cleanChain(s, c)
        let before = s.size
        let registrar = Scenario.Actor(id: "registrar", key: s.registrar)
        // The registrar publishes a high-risk area covering the mine's region.
        let published = try await s.submit(registrar, "policy.publish", at: "2026-06-01T00:00:00Z", [
            "policy": .string("high-risk-areas"), "version": .integer(2),
            "data": .object(JSONObject([("areas", .array([.object(JSONObject([("country", .string("BW")), ("region", .string("Southern"))]))]))])),
        ])
        let r = try s.status(stones[0], "oecd-red-flags")
        #expect(r.status == .atRisk && r.reasons.contains { $0.rule == "high-risk-origin" })
        #expect(r.sources["high-risk-areas"]?.contains("index \(published)") == true)
        #expect(try s.status(stones[0], "oecd-red-flags", asOf: before).status == .compliant)
        await s.close()
    }
}
