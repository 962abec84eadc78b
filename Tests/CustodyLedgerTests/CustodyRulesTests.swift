import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Testing

/// The demo chain run in process, and a way to sign more events as its parties.
struct Story {
    let log: TestLog
    let chain: DemoChain
    let steps: [DemoChain.Step]

    static func run() async throws -> Story {
        let log = try await TestLog.open()
        let chain = DemoChain(registrar: try KeyFile.read(from: log.directory.registrarKeyPath), tag: "t1")
        let steps = try await chain.run { try await log.ledger.submit($0).get() }
        return Story(log: log, chain: chain, steps: steps)
    }

    func id(_ short: String) -> String { chain.parties[short]!.id }

    /// Submits an event by `party` (short name); returns the ledger's verdict.
    func submit(_ party: String, _ type: String, _ fields: [(String, JSONValue)],
                occurredAt: String = "2026-11-28T10:00:00Z") async throws -> Result<Receipt, LedgerError> {
        let p = chain.parties[party]!
        let body = JSONObject([
            ("type", .string(type)), ("schemaVersion", .integer(1)), ("signer", .string(p.id)),
            ("occurredAt", .string(occurredAt)), ("nonce", .string(UUID().uuidString)),
        ] + fields)
        return await log.ledger.submit(try EventEnvelope.sign(body: body, with: p.key))
    }

    /// Expects a refusal by `rule` that stores nothing.
    func refused(_ rule: String, _ party: String, _ type: String, _ fields: [(String, JSONValue)],
                 occurredAt: String = "2026-11-28T10:00:00Z", sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let size = log.ledger.treeSize
        let result = try await submit(party, type, fields, occurredAt: occurredAt)
        #expect(result.error?.rule == rule, "\(type): \(String(describing: result.error))", sourceLocation: sourceLocation)
        #expect(log.ledger.treeSize == size, sourceLocation: sourceLocation)
    }

    func parcel(_ id: String) throws -> Parcel? { try log.ledger.store.read { try $0.domain.parcel(id) } }
}

func ids(_ list: String...) -> JSONValue { .array(list.map { .string($0) }) }
func lot(_ id: String, _ carats: Int64, _ stones: Int64) -> JSONValue {
    .object(JSONObject([("parcel", .string(id)), ("carats", .integer(carats)), ("stones", .integer(stones))]))
}
let commitment = JSONValue.string(String(repeating: "ab", count: 32))

@Suite("Custody rules")
struct CustodyRulesTests {
    @Test("the demo chain, mine to market, is accepted, and a replay of it reaches the same state")
    func chain() async throws {
        let story = try await Story.run()
        #expect(story.steps.count == 23)  // 8 registrations, 15 custody events
        let stone = try story.parcel("BW-JW-t1-0001-A-1-S1")
        #expect(stone?.status == .sold && stone?.form == .polished && stone?.custodian == story.id("retail"))
        #expect(try story.parcel("BW-JW-t1-0001")?.status == .consumed)
        #expect(try story.parcel("BW-JW-t1-0001-B")?.custodian == story.id("antwerp"))
        #expect(try story.parcel("BW-JW-t1-0001-A-2")?.custodian == story.id("surat"))
        let history = try story.log.ledger.store.read { try $0.domain.history(ofParcel: "BW-JW-t1-0001-A") }
        #expect(history.map(\.summary.type) == ["parcel.split", "kp.export", "kp.validate", "kp.import", "parcel.split"])
        await story.log.ledger.close()
        let report = try await LogAuditor(source: DatabaseAuditSource(path: story.log.directory.databasePath),
                                          options: AuditOptions(logKey: story.log.ledger.signer.verifier)).run()
        #expect(report.treeSize == 24)
    }

    @Test("who may say what: roles, operators, custodians, KP authorities")
    func permissions() async throws {
        let s = try await Story.run()
        try await s.refused("role", "antwerp", "parcel.extract", [
            ("parcel", .string("X1")), ("site", .string("BW-JWANENG-t1")), ("carats", .integer(100)), ("stones", .integer(1)),
            ("extractedOn", .string("2026-11-01")),
        ])
        try await s.refused("parcel.custodian", "antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-A-2")), ("outputs", .array([lot("X2", 100, 1), lot("X3", 74_600, 2_497)])),
        ])
        try await s.refused("kp.authority-country", "in-kp", "kp.validate", [("certificate", .string("BW-2026-t101"))])
        try await s.refused("participant.unknown", "surat", "custody.transfer", [
            ("parcels", ids("BW-JW-t1-0001-A-2")), ("to", .string("nobody")),
        ])
    }

    @Test("no double spend: consumed, sold and in-transit parcels cannot be used")
    func doubleSpend() async throws {
        let s = try await Story.run()
        try await s.refused("parcel.consumed", "antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001")), ("outputs", .array([lot("X1", 100_000, 4_000), lot("X2", 25_000, 200)])),
        ])
        try await s.refused("parcel.sold", "retail", "parcel.sale", [("parcel", .string("BW-JW-t1-0001-A-1-S1")), ("buyer", .string("consumer"))])
        let sent = try await s.submit("antwerp", "custody.transfer", [("parcels", ids("BW-JW-t1-0001-B")), ("to", .string(s.id("antwerp")))])
        #expect(sent.error?.rule == "custody.self")
        // A domestic transfer puts the parcel in transit: neither side can use it until it is accepted.
        let transfer = try await s.submit("surat", "custody.transfer", [("parcels", ids("BW-JW-t1-0001-A-2")), ("to", .string(s.id("lab")))]).get()
        try await s.refused("parcel.in-transit", "surat", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-A-2")), ("outputs", .array([lot("X1", 100, 1), lot("X2", 74_600, 2_497)])),
        ])
        try await s.refused("custody.receiver", "retail", "custody.accept", [("transfer", .integer(Int64(transfer.index)))])
        _ = try await s.submit("lab", "custody.accept", [("transfer", .integer(Int64(transfer.index)))]).get()
        #expect(try s.parcel("BW-JW-t1-0001-A-2")?.custodian == s.id("lab"))
        try await s.refused("custody.accepted", "lab", "custody.accept", [("transfer", .integer(Int64(transfer.index)))])
    }

    @Test("mass balance is exact in integer points")
    func massBalance() async throws {
        let s = try await Story.run()
        try await s.refused("mass-balance.split", "antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("X1", 25_000, 850), lot("X2", 25_001, 850)])),
        ])
        try await s.refused("mass-balance.split-stones", "antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("X1", 25_000, 850), lot("X2", 25_000, 849)])),
        ])
        _ = try await s.submit("antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("B1", 25_000, 850), lot("B2", 25_000, 850)])),
        ]).get()
        try await s.refused("mass-balance.mix", "antwerp", "parcel.mix", [("inputs", ids("B1", "B2")), ("output", lot("B3", 49_999, 1_700))])
        _ = try await s.submit("antwerp", "parcel.mix", [("inputs", ids("B1", "B2")), ("output", lot("B3", 50_000, 1_700))]).get()
        try await s.refused("parcel.exists", "antwerp", "parcel.split", [
            ("parcel", .string("B3")), ("outputs", .array([lot("B1", 25_000, 850), lot("B9", 25_000, 850)])),
        ])
        try await s.refused("mass-balance.polish", "surat", "parcel.manufacture", [
            ("parcel", .string("BW-JW-t1-0001-A-2")), ("polished", .array([.object(JSONObject([("stone", .string("P1")), ("carats", .integer(74_701))]))])),
        ])
        try await s.refused("mass-balance.polish-floor", "surat", "parcel.manufacture", [
            ("parcel", .string("BW-JW-t1-0001-A-2")), ("polished", .array([.object(JSONObject([("stone", .string("P1")), ("carats", .integer(14_939))]))])),
        ])
    }

    @Test("weights and counts that add up past 2^53−1 are refused for their mass balance, and never overflow the sequencer's arithmetic")
    func totalsPastTheLargestWeight() async throws {
        let s = try await Story.run()
        let max = JSONValue.maxSafeInteger
        // 1,025 outputs of the largest weight: their sum in Int64 would overflow (2^53 × 1,025 > 2^63).
        func many(_ prefix: String, carats: Int64, stones: Int64) -> JSONValue {
            .array((0..<1_025).map { lot("\(prefix)\($0)", carats, stones) })
        }
        try await s.refused("mass-balance.split", "antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", many("OVF-C", carats: max, stones: 1)),
        ])
        try await s.refused("mass-balance.split-stones", "antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("OVF-S0", 25_000, max), lot("OVF-S1", 25_000, max)])),
        ])
        let polished = JSONValue.array((0..<1_025).map {
            .object(JSONObject([("stone", .string("OVF-P\($0)")), ("carats", .integer(max))]))
        })
        try await s.refused("mass-balance.polish", "surat", "parcel.manufacture", [
            ("parcel", .string("BW-JW-t1-0001-A-2")), ("polished", polished),
        ])
        try await s.refused("kp.carats", "be-kp", "kp.import.external", [
            ("certificate", .string("AE-2026-OVF1")), ("exportingCountry", .string("AE")), ("importingCountry", .string("BE")),
            ("exporterName", .string("Gulf Rough Trading DMCC")), ("importer", .string(s.id("antwerp"))), ("origin", .string("mixed")),
            ("parcels", many("OVF-K", carats: max, stones: 1)), ("carats", .integer(max)), ("valueCommitment", commitment),
            ("issuedOn", .string("2026-11-20")), ("expiresOn", .string("2027-01-20")), ("receivedOn", .string("2026-11-25")),
        ])
        // The ledger still takes events.
        _ = try await s.submit("antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("B1", 25_000, 850), lot("B2", 25_000, 850)])),
        ]).get()
    }

    @Test("ids logged before a restart stay taken after it: the filter of stored ids is loaded when the ledger opens")
    func idsSurviveRestart() async throws {
        let before = try await Story.run()
        await before.log.ledger.close()
        let s = Story(log: try await TestLog.open(path: before.log.directory.path), chain: before.chain, steps: before.steps)
        try await s.refused("parcel.exists", "antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("BW-JW-t1-0001", 25_000, 850), lot("Y2", 25_000, 850)])),
        ])
        try await s.refused("kp.certificate-unique", "antwerp", "kp.export", [
            ("certificate", .string("BE-2026-t102")), ("exportingCountry", .string("BE")), ("importingCountry", .string("IN")),
            ("importer", .string(s.id("surat"))), ("parcels", ids("BW-JW-t1-0001-B")), ("carats", .integer(50_000)),
            ("valueCommitment", commitment), ("issuedOn", .string("2026-11-20")), ("expiresOn", .string("2027-01-20")),
        ])
        // A new id is still accepted.
        _ = try await s.submit("antwerp", "parcel.split", [
            ("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("Y1", 25_000, 850), lot("Y2", 25_000, 850)])),
        ]).get()
        await s.log.ledger.close()
    }

    @Test("KP certificates: unique, carats equal their parcels, export and import agree, validation first, no rough across borders without one")
    func kimberley() async throws {
        let s = try await Story.run()
        func export(_ number: String, carats: Int64) -> [(String, JSONValue)] {
            [("certificate", .string(number)), ("exportingCountry", .string("BE")), ("importingCountry", .string("IN")),
             ("importer", .string(s.id("surat"))), ("parcels", ids("BW-JW-t1-0001-B")), ("carats", .integer(carats)),
             ("valueCommitment", commitment), ("issuedOn", .string("2026-11-20")), ("expiresOn", .string("2027-01-20"))]
        }
        try await s.refused("kp.certificate-unique", "antwerp", "kp.export", export("BE-2026-t102", carats: 50_000))
        try await s.refused("kp.carats", "antwerp", "kp.export", export("BE-2026-X1", carats: 49_000))
        try await s.refused("kp.certificate-number", "antwerp", "kp.export", export("IN-2026-X1", carats: 50_000))
        try await s.refused("kp.border", "antwerp", "custody.transfer", [("parcels", ids("BW-JW-t1-0001-B")), ("to", .string(s.id("surat")))])
        _ = try await s.submit("antwerp", "kp.export", export("BE-2026-X2", carats: 50_000)).get()
        let importFields: [(String, JSONValue)] = [("certificate", .string("BE-2026-X2")), ("carats", .integer(50_000)),
                                                   ("parcels", ids("BW-JW-t1-0001-B")), ("receivedOn", .string("2026-11-25"))]
        try await s.refused("kp.not-validated", "in-kp", "kp.import", importFields)
        _ = try await s.submit("be-kp", "kp.validate", [("certificate", .string("BE-2026-X2"))]).get()
        try await s.refused("kp.carats", "in-kp", "kp.import", [("certificate", .string("BE-2026-X2")), ("carats", .integer(5_000)),
                                                              ("parcels", ids("BW-JW-t1-0001-B")), ("receivedOn", .string("2026-11-25"))])
        try await s.refused("kp.authority-country", "be-kp", "kp.import", importFields)
        _ = try await s.submit("in-kp", "kp.import", importFields).get()
        #expect(try s.parcel("BW-JW-t1-0001-B")?.custodian == s.id("surat"))
        try await s.refused("kp.imported", "in-kp", "kp.import", importFields)
    }

    @Test("times: not in the future, never before the parcel's previous event")
    func times() async throws {
        let s = try await Story.run()
        let split: [(String, JSONValue)] = [("parcel", .string("BW-JW-t1-0001-B")), ("outputs", .array([lot("X1", 25_000, 850), lot("X2", 25_000, 850)]))]
        try await s.refused("time.future", "antwerp", "parcel.split", split, occurredAt: "2030-01-01T00:00:00Z")
        try await s.refused("time.order", "antwerp", "parcel.split", split, occurredAt: "2020-01-01T00:00:00Z")
    }

    @Test("keys rotate and are revoked; a retired or revoked key cannot sign from its index on")
    func keys() async throws {
        let s = try await Story.run()
        let old = s.chain.parties["antwerp"]!.key
        let new = SigningKey.generate()
        _ = try await s.submit("antwerp", "participant.key.add", [("participant", .string(s.id("antwerp"))), ("publicKey", .string(new.publicKey.base64))]).get()
        let retire = try await s.submit("antwerp", "participant.key.retire", [("participant", .string(s.id("antwerp"))), ("keyId", .string(old.publicKey.keyID))]).get()
        let byOld = await s.log.ledger.submit(try TestLog.event(s.id("antwerp"), key: old))
        #expect(byOld.error?.kind == .unknownKey && byOld.error?.logIndex == retire.index + 1)
        // The new key signs for antwerp; a registrar revocation stops it too.
        let body = JSONObject([("type", .string("attestation")), ("schemaVersion", .integer(1)), ("signer", .string(s.id("antwerp"))),
                               ("occurredAt", .string("2026-11-28T10:00:00Z")), ("nonce", .string(UUID().uuidString)),
                               ("subject", .object(JSONObject([("parcel", .string("BW-JW-t1-0001-B"))]))),
                               ("claim", .string("oecd-due-diligence-step-2")),
                               ("evidence", .object(JSONObject([("uri", .string("https://example.org/report.pdf")), ("sha256", commitment)])))])
        _ = try await s.log.ledger.submit(try EventEnvelope.sign(body: body, with: new)).get()
        var revoke = TestLog.body("participant.key.revoke", signer: "registrar", extra: [
            ("participant", .string(s.id("antwerp"))), ("keyId", .string(new.publicKey.keyID)), ("reason", .string("laptop stolen")),
        ])
        revoke.set("occurredAt", .string("2026-11-28T10:00:00Z"))
        _ = try await s.log.ledger.submit(try EventEnvelope.sign(body: revoke, with: s.log.registrar)).get()
        var again = body
        again.set("nonce", .string(UUID().uuidString))
        #expect(await s.log.ledger.submit(try EventEnvelope.sign(body: again, with: new)).error?.rule == "key.revoked")
        try await s.refused("key.owner", "surat", "participant.key.add", [("participant", .string(s.id("antwerp"))), ("publicKey", .string(SigningKey.generate().publicKey.base64))])
    }

    @Test("corrections amend descriptive data only; bodies are closed; unknown types are refused")
    func corrections() async throws {
        let s = try await Story.run()
        let extract = s.steps.first { $0.type == "parcel.extract" }!.receipt.index
        let site = s.steps.first { $0.type == "site.register" }!.receipt.index
        try await s.refused("correction.custody", "debswana", "correction", [
            ("target", .integer(Int64(extract))), ("amend", .object(JSONObject([("carats", .integer(1))]))), ("reason", .string("typo")),
        ])
        try await s.refused("correction.custody", "debswana", "correction", [
            ("target", .integer(Int64(extract))), ("retract", .bool(true)), ("reason", .string("oops")),
        ])
        try await s.refused("correction.signer", "antwerp", "correction", [
            ("target", .integer(Int64(site))), ("amend", .object(JSONObject([("region", .string("Central"))]))), ("reason", .string("x")),
        ])
        _ = try await s.submit("debswana", "correction", [
            ("target", .integer(Int64(site))), ("amend", .object(JSONObject([("region", .string("Southern District, Jwaneng"))]))),
            ("reason", .string("more precise region")),
        ]).get()
        try await s.refused("schema.unknown-field", "antwerp", "parcel.sale", [("parcel", .string("BW-JW-t1-0001-B")), ("buyer", .string("consumer")), ("price", .integer(5))])
        try await s.refused("type.unknown", "antwerp", "parcel.teleport", [("parcel", .string("BW-JW-t1-0001-B"))])
    }

    @Test("an event both signed by an unknown key and outside the catalogue is refused for its key, alone, in a batch and as a request body: the catalogue's verdict, computed beside the signature check, keeps its place in the rules' order")
    func keyBeforeCatalogue() async throws {
        let s = try await Story.run()
        let stranger = SigningKey.generate()
        let body = TestLog.body("parcel.teleport", signer: s.id("antwerp"))
        let envelope = try EventEnvelope.sign(body: body, with: stranger)
        #expect(await s.log.ledger.submit(envelope).error?.rule == "key.unknown")
        let batch = await s.log.ledger.submit([envelope, try EventEnvelope.sign(body: body, with: s.chain.parties["antwerp"]!.key)])
        #expect(batch.map { $0.error?.rule } == ["key.unknown", "type.unknown"])
        guard case .single(let single) = try await s.log.ledger.submit(body: envelope.leafInput) else {
            Issue.record("a single envelope was taken for a batch")
            return
        }
        #expect(single.error?.rule == "key.unknown")
    }

    @Test("a correction of an event in the same batch sees that event, whose entry the batch writes only at its end")
    func correctionInSameBatch() async throws {
        let s = try await Story.run()
        let debswana = s.chain.parties["debswana"]!, antwerp = s.chain.parties["antwerp"]!
        let first = s.log.ledger.treeSize
        let site = try EventDraft.siteRegister(site: "BW-ORAPA-t1", name: "Orapa", country: "BW", region: "Central",
                                               latE6: -21_307_000, lonE6: 25_375_000, kind: .industrial, operator: debswana.id)
            .signed(as: debswana.id, with: debswana.key, occurredAt: "2026-11-28T10:00:00Z")
        func correction(by party: DemoChain.Party) throws -> EventEnvelope {
            try EventDraft.correction(target: first, .amend(.init(name: "Orapa Mine")), reason: "full name")
                .signed(as: party.id, with: party.key, occurredAt: "2026-11-28T10:00:01Z")
        }
        let results = await s.log.ledger.submit([site, try correction(by: debswana), try correction(by: antwerp)])
        #expect(results.count == 3)
        #expect(try results[0].get().index == first)
        #expect(try results[1].get().index == first + 1)
        #expect(results[2].error?.rule == "correction.signer")
        #expect(s.log.ledger.treeSize == first + 2)
        // The summaries reached the tables with the batch: a later batch's correction still finds its target.
        _ = try await s.log.ledger.submit(try EventDraft.correction(target: first, .retract, reason: "duplicate site")
            .signed(as: debswana.id, with: debswana.key, occurredAt: "2026-11-28T10:00:02Z")).get()
        let audit = try await LogAuditor(source: try DatabaseAuditSource(path: s.log.directory.databasePath)).run()
        #expect(audit.treeSize == first + 3)
    }
}
