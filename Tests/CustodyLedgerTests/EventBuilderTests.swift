import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Testing

/// A chain of custody built only with the typed builders, every catalogue type at least once, signed by each
/// party with its own key and dated a day ago, one second apart.
struct BuiltChain {
    let log: TestLog
    var drafts: [(signer: String, draft: EventDraft)] = []
    var keys: [String: SigningKey] = [:]
    private var clock = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000
    let today = String(RFC3339.format(millis: Int64(Date().timeIntervalSince1970 * 1000)).prefix(10))

    init(log: TestLog) {
        self.log = log
        keys["registrar"] = log.registrar
    }

    /// Signs and submits `draft` as `signer`; the ledger's verdict.
    mutating func submit(_ signer: String, _ draft: EventDraft, key: SigningKey? = nil) async throws -> Result<Receipt, LedgerError> {
        clock += 1000
        let envelope = try draft.signed(as: signer, with: key ?? keys[signer]!, occurredAt: RFC3339.format(millis: clock))
        drafts.append((signer, draft))
        return await log.ledger.submit(envelope)
    }

    /// Submits and expects acceptance; returns the index.
    @discardableResult
    mutating func accepted(_ signer: String, _ draft: EventDraft, key: SigningKey? = nil,
                           sourceLocation: SourceLocation = #_sourceLocation) async throws -> UInt64 {
        let result = try await submit(signer, draft, key: key)
        #expect(result.error == nil, "\(draft.type) by \(signer): \(String(describing: result.error))", sourceLocation: sourceLocation)
        return try result.get().index
    }

    mutating func register(_ id: String, _ country: String, _ roles: [Role]) async throws {
        let key = SigningKey.generate()
        keys[id] = key
        try await accepted("registrar", try .participantRegister(participant: id, legalName: "\(id) Ltd", country: country, roles: roles,
                                                                 publicKeys: [key.publicKey]))
    }

    func parcel(_ id: String) throws -> Parcel? { try log.ledger.store.read { try $0.domain.parcel(id) } }

    /// Mine to market, plus oversight, corrections, policy data and key rotation.
    static func run() async throws -> BuiltChain {
        var c = BuiltChain(log: try await TestLog.open())
        try await c.register("miner", "BW", [.miner, .exporter])
        try await c.register("bw-kp", "BW", [.kpAuthority])
        try await c.register("trader", "BE", [.importer, .trader, .exporter])
        try await c.register("be-kp", "BE", [.kpAuthority])
        try await c.register("cutter", "BE", [.manufacturer])
        try await c.register("lab", "BE", [.laboratory])
        try await c.register("retail", "US", [.retailer])
        try await c.register("monitor", "BW", [.monitor])
        let evidence = EventDraft.Evidence(uri: "https://audits.example.org/2026/jwaneng.pdf", contents: Array("audit report".utf8))

        let site = try await c.accepted("miner", try .siteRegister(site: "BW-JW", name: "Jwaneng", country: "BW", region: "Southern District",
                                                                 latE6: try ExactDecimal.microDegrees("-24.601"),
                                                                 lonE6: try ExactDecimal.microDegrees("24.728"), kind: .industrial,
                                                                 operator: "miner"))
        try await c.accepted("miner", try .parcelExtract(parcel: "P", site: "BW-JW", carats: try ExactDecimal.points(carats: "1250.00"),
                                                         stones: 4_200, extractedOn: c.today))
        try await c.accepted("miner", try .kpExport(certificate: "BW-2026-0001", exportingCountry: "BW", importingCountry: "BE",
                                                    importer: "trader", parcels: ["P"], carats: 125_000, valueCents: 14_250_000_00,
                                                    issuedOn: c.today, expiresOn: "2099-12-31"))
        try await c.accepted("bw-kp", try .kpValidate(certificate: "BW-2026-0001"))
        try await c.accepted("be-kp", try .kpImport(certificate: "BW-2026-0001", parcels: ["P"], carats: 125_000, receivedOn: c.today))
        // Rough whose certificate expired in transit comes back to the miner.
        try await c.accepted("miner", try .parcelExtract(parcel: "R", site: "BW-JW", carats: 500, stones: 3, extractedOn: c.today))
        try await c.accepted("miner", try .kpExport(certificate: "BW-2020-0009", exportingCountry: "BW", importingCountry: "BE",
                                                    importer: "trader", parcels: ["R"], carats: 500, valueCents: 100_000,
                                                    issuedOn: "2020-01-01", expiresOn: "2020-03-01"))
        try await c.accepted("bw-kp", try .kpReturn(certificate: "BW-2020-0009", returnedOn: "2020-03-02", reason: "held at customs past expiry"))
        try await c.accepted("trader", try .parcelSplit(parcel: "P", outputs: [.init(parcel: "A", carats: 75_000, stones: 2_500),
                                                                               .init(parcel: "B", carats: 50_000, stones: 1_700)]))
        try await c.accepted("trader", try .parcelSplit(parcel: "B", outputs: [.init(parcel: "B1", carats: 25_000, stones: 850),
                                                                               .init(parcel: "B2", carats: 25_000, stones: 850)]))
        try await c.accepted("trader", try .parcelMix(inputs: ["B1", "B2"], output: .init(parcel: "B3", carats: 50_000, stones: 1_700)))
        try await c.accepted("trader", try .parcelSplit(parcel: "A", outputs: [.init(parcel: "A1", carats: 300, stones: 2),
                                                                               .init(parcel: "A2", carats: 74_700, stones: 2_498)]))
        try await c.accepted("trader", try .parcelAssort(parcel: "A1", stones: [.init(stone: "S1", carats: 160), .init(stone: "S2", carats: 140)]))
        let withdrawn = try await c.accepted("trader", try .custodyTransfer(parcels: ["S2"], to: "cutter"))
        try await c.accepted("trader", try .custodyCancel(transfer: withdrawn, reason: "wrong stone"))
        let refused = try await c.accepted("trader", try .custodyTransfer(parcels: ["S2"], to: "cutter"))
        try await c.accepted("cutter", try .custodyReject(transfer: refused, reason: "not ordered"))
        let toCutter = try await c.accepted("trader", try .custodyTransfer(parcels: ["S1"], to: "cutter"))
        try await c.accepted("cutter", try .custodyAccept(transfer: toCutter))
        try await c.accepted("cutter", try .parcelManufacture(parcel: "S1", polished: [.init(stone: "S1-P", carats: 90)]))
        let grade = try await c.accepted("lab", try .stoneGrade(stone: "S1-P", reportNumber: "LAB-000451", carats: 90, color: "F",
                                                                clarity: "VS1", cut: "Excellent"))
        let toRetail = try await c.accepted("cutter", try .custodyTransfer(parcels: ["S1-P"], to: "retail",
                                                                           terms: ["incoterm": "FOB Antwerp", "paymentDays": 30]))
        try await c.accepted("retail", try .custodyAccept(transfer: toRetail))
        try await c.accepted("retail", try .parcelSale(parcel: "S1-P", buyer: "consumer", priceCents: try ExactDecimal.cents(dollars: "6900.00")))
        let attestation = try await c.accepted("trader", try .attestation(subject: .parcel("B3"), claim: "OECD due diligence step 2 done",
                                                                         evidence: evidence))
        try await c.accepted("trader", try .attestation(subject: .site("BW-JW"), claim: "site visited", evidence: evidence))
        try await c.accepted("monitor", try .incident(scope: .site("BW-JW"), category: .other, from: "2026-01-01", to: "2026-01-31",
                                                      summary: "road blockade", evidence: evidence))
        try await c.accepted("monitor", try .incident(scope: .region(country: "BW", region: "Central"), category: .violence,
                                                      from: "2026-02-01", summary: "clashes near the pits", evidence: evidence))
        try await c.accepted("lab", try .correction(target: grade, .amend(.init(color: "G", clarity: "VS2")), reason: "re-graded after cleaning"))
        try await c.accepted("miner", try .correction(target: site, .amend(.init(name: "Jwaneng Mine", latE6: -24_601_500)), reason: "survey"))
        try await c.accepted("trader", try .correction(target: attestation, .retract, reason: "report withdrawn"))
        try await c.accepted("registrar", try .policyPublish(policy: "high-risk-areas", version: 1,
                                                             data: ["areas": [["country": "CF", "region": "Haute-Kotto"]]]))
        try await c.accepted("be-kp", try .kpImportExternal(certificate: "AE-2026-004411", exportingCountry: "AE", importingCountry: "BE",
                                                            exporterName: "Gulf Rough Trading DMCC", importer: "trader", origin: "mixed",
                                                            parcels: [.init(parcel: "AE-1", carats: 52_000, stones: 1_480)], carats: 52_000,
                                                            valueCents: 2_100_000_00, issuedOn: c.today, expiresOn: "2099-12-31",
                                                            receivedOn: c.today))
        // Key rotation: the miner adds a key and retires the old one; the registrar revokes a second key of the trader.
        let minerNew = SigningKey.generate(), minerOld = c.keys["miner"]!
        try await c.accepted("miner", try .participantKeyAdd(participant: "miner", publicKey: minerNew.publicKey))
        try await c.accepted("miner", try .participantKeyRetire(participant: "miner", keyID: minerOld.publicKey.keyID))
        c.keys["miner"] = minerNew
        try await c.accepted("miner", try .parcelExtract(parcel: "Q", site: "BW-JW", carats: 100, stones: 1, extractedOn: c.today))
        let traderSpare = SigningKey.generate()
        try await c.accepted("registrar", try .participantKeyAdd(participant: "trader", publicKey: traderSpare.publicKey))
        try await c.accepted("registrar", try .participantKeyRevoke(participant: "trader", keyID: traderSpare.publicKey.keyID,
                                                                    reason: "laptop stolen"))
        return c
    }
}

@Suite("Event builders")
struct EventBuilderTests {
    @Test("a chain built only with the builders, every catalogue type, is accepted by the rules, and an audit replays it")
    func chain() async throws {
        let c = try await BuiltChain.run()
        let built = Set(c.drafts.map(\.draft.type))
        #expect(built == Set(Catalogue.fields.keys).subtracting(["log.genesis"]), "types without a builder in the chain")
        let stone = try c.parcel("S1-P")
        #expect(stone?.status == .sold && stone?.form == .polished && stone?.custodian == "retail" && stone?.carats == 90)
        #expect(try c.parcel("B3")?.carats == 50_000 && c.parcel("B3")?.stones == 1_700)
        #expect(try c.parcel("S2")?.custodian == "trader" && c.parcel("S2")?.stones == 1)
        #expect(try c.parcel("AE-1")?.custodian == "trader")
        #expect(try c.parcel("Q")?.custodian == "miner")
        #expect(try c.parcel("R")?.custodian == "miner" && c.parcel("R")?.status == .active)
        await c.log.ledger.close()
        let report = try await LogAuditor(source: DatabaseAuditSource(path: c.log.directory.databasePath),
                                          options: AuditOptions(logKey: c.log.ledger.signer.verifier)).run()
        #expect(report.treeSize == UInt64(c.drafts.count) + 1)
    }

    @Test("every builder writes only the fields its catalogue type defines, and commitments open to their disclosures")
    func fieldsAndCommitments() throws {
        for (_, draft) in try Self.oneOfEach() {
            let own = try #require(Catalogue.fields[draft.type], "\(draft.type) is not in the catalogue")
            #expect(Set(draft.fields.keys).isSubset(of: own), "\(draft.type): \(draft.fields.keys)")
            for opening in draft.disclosures {
                #expect(draft.fields[opening.field] == .string(opening.hex))
                #expect(Commitment.opens(opening.disclosure, opening.hex))
                #expect(Base64.decode(opening.disclosure["salt"]?.stringValue ?? "")?.count == 16)
            }
        }
        let sale = try EventDraft.parcelSale(parcel: "S", buyer: "consumer", priceCents: 690_000)
        #expect(sale.disclosures.map(\.field) == ["priceCommitment"] && sale.disclosures[0].value == .integer(690_000))
        #expect(try EventDraft.parcelSale(parcel: "S", buyer: "consumer").disclosures.isEmpty)
        #expect(try EventDraft.custodyTransfer(parcels: ["S"], to: "x").fields["termsCommitment"] == nil)
        // Two commitments to the same value differ: the salt is fresh each time.
        #expect(try EventDraft.parcelSale(parcel: "S", buyer: "consumer", priceCents: 1).disclosures[0].hex != sale.disclosures[0].hex)
    }

    @Test("the bodies the builders make validate against Schemas/<type>.schema.json, and their envelopes against event-envelope",
          .enabled(if: SchemaValidator.available, "needs python3 with jsonschema (pip install jsonschema)"))
    func schemas() throws {
        let key = SigningKey.generate()
        var documents: [(String, String, [UInt8])] = []
        for (signer, draft) in try Self.oneOfEach() {
            let envelope = try draft.signed(as: signer, with: key, occurredAt: "2026-11-29T10:00:00Z")
            let schema = draft.type.replacingOccurrences(of: ".", with: "-")
            documents.append(("\(draft.type) body", schema, CanonicalJSON.encode(.object(envelope.body))))
            documents.append(("\(draft.type) envelope", "event-envelope", envelope.leafInput))
        }
        let failures = try SchemaValidator.validate(documents)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test("the builders leave log-dependent rules to the log: an unbalanced split is built, then refused")
    func rulesStayWithTheLog() async throws {
        var c = BuiltChain(log: try await TestLog.open())
        try await c.register("miner", "BW", [.miner, .trader])
        try await c.accepted("miner", try .siteRegister(site: "S", name: "Pit", country: "BW", region: "North", latE6: 0, lonE6: 0,
                                                        kind: .alluvial, operator: "miner"))
        try await c.accepted("miner", try .parcelExtract(parcel: "P", site: "S", carats: 1_000, stones: 10, extractedOn: c.today))
        let size = c.log.ledger.treeSize
        let result = try await c.submit("miner", try .parcelSplit(parcel: "P", outputs: [.init(parcel: "X", carats: 600, stones: 5),
                                                                                      .init(parcel: "Y", carats: 401, stones: 5)]))
        #expect(result.error?.rule == "mass-balance.split" && result.error?.pointer == "/body/outputs")
        #expect(c.log.ledger.treeSize == size)
    }

    @Test("malformed values are refused by the builder, naming the field")
    func shapeErrors() {
        func pointer(_ make: () throws -> EventDraft) -> String? {
            do { _ = try make(); return nil } catch let error as EventBuilderError { return error.pointer } catch { return "\(error)" }
        }
        #expect(pointer { try .parcelExtract(parcel: "P", site: "S", carats: 0, stones: 1, extractedOn: "2026-01-01") } == "/body/carats")
        #expect(pointer { try .parcelExtract(parcel: "P Q", site: "S", carats: 1, stones: 1, extractedOn: "2026-01-01") } == "/body/parcel")
        #expect(pointer { try .parcelExtract(parcel: "P", site: "S", carats: 1, stones: 1, extractedOn: "2026-02-30") } == "/body/extractedOn")
        #expect(pointer { try .siteRegister(site: "S", name: " ", country: "BW", region: "R", latE6: 0, lonE6: 0, kind: .alluvial,
                                            operator: "m") } == "/body/name")
        #expect(pointer { try .siteRegister(site: "S", name: "N", country: "bw", region: "R", latE6: 0, lonE6: 0, kind: .alluvial,
                                            operator: "m") } == "/body/country")
        #expect(pointer { try .siteRegister(site: "S", name: "N", country: "BW", region: "R", latE6: 90_000_001, lonE6: 0, kind: .alluvial,
                                            operator: "m") } == "/body/latE6")
        #expect(pointer { try .kpValidate(certificate: "bw-2026-1") } == "/body/certificate")
        #expect(pointer { try .custodyTransfer(parcels: ["A", "A"], to: "x") } == "/body/parcels/1")
        #expect(pointer { try .custodyTransfer(parcels: [], to: "x") } == "/body/parcels")
        #expect(pointer { try .custodyTransfer(parcels: ["A"], to: "a/b") } == "/body/to")
        #expect(pointer { try .custodyAccept(transfer: 0) } == "/body/transfer")
        #expect(pointer { try .custodyCancel(transfer: 0, reason: "r") } == "/body/transfer")
        #expect(pointer { try .custodyReject(transfer: 5, reason: " ") } == "/body/reason")
        #expect(pointer { try .kpReturn(certificate: "BW-1", returnedOn: "2026-02-30", reason: "r") } == "/body/returnedOn")
        #expect(pointer { try .kpReturn(certificate: "bw-1", returnedOn: "2026-02-28", reason: "r") } == "/body/certificate")
        #expect(pointer { try .parcelSplit(parcel: "P", outputs: [.init(parcel: "X", carats: 1, stones: 1)]) } == "/body/outputs")
        #expect(pointer { try .parcelSplit(parcel: "P", outputs: [.init(parcel: "X", carats: 1, stones: 1),
                                                                 .init(parcel: "Y", carats: 1, stones: 0)]) } == "/body/outputs/1/stones")
        #expect(pointer { try .parcelMix(inputs: ["A"], output: .init(parcel: "X", carats: 1, stones: 1)) } == "/body/inputs")
        #expect(pointer { try .parcelSale(parcel: "P", buyer: "consumer", priceCents: -1) } == "/body/priceCommitment")
        #expect(pointer { try .participantKeyRetire(participant: "p", keyID: "ABC") } == "/body/keyId")
        #expect(pointer { try .attestation(subject: .parcel("P"), claim: "c", evidence: .init(uri: "no scheme", sha256: String(repeating: "0", count: 64))) }
                == "/body/evidence/uri")
        #expect(pointer { try .attestation(subject: .parcel("P"), claim: "c", evidence: .init(uri: "https://x.org/a", sha256: "00")) }
                == "/body/evidence/sha256")
        #expect(pointer { try .correction(target: 5, .amend(.init()), reason: "r") } == "/body/amend")
        #expect(pointer { try .policyPublish(policy: "p", version: 0, data: [:]) } == "/body/version")
        let message = { () -> String in
            do { _ = try EventDraft.parcelExtract(parcel: "P", site: "S", carats: 0, stones: 1, extractedOn: "2026-01-01"); return "" } catch let error as EventBuilderError {
                return error.message
            } catch { return "\(error)" }
        }()
        #expect(message == "carats must be between 1 and 9007199254740991 points (1 ct = 100 points), got 0")
        #expect(throws: EventBuilderError.self) { try EventDraft.kpValidate(certificate: "BW-1").body(signer: "a/b", occurredAt: "x", nonce: "12345678") }
    }

    @Test("decimal carats, degrees and dollars convert exactly, never through floating point")
    func exactDecimals() throws {
        #expect(try ExactDecimal.points(carats: "1520.50") == 152_050)
        #expect(try ExactDecimal.points(carats: "1520.5") == 152_050)
        #expect(try ExactDecimal.points(carats: "3") == 300)
        #expect(try ExactDecimal.points(carats: "0.01") == 1)
        #expect(try ExactDecimal.points(carats: "90071992547409.91") == 9_007_199_254_740_991)
        #expect(try ExactDecimal.microDegrees("-24.601") == -24_601_000)
        #expect(try ExactDecimal.microDegrees("25.123456") == 25_123_456)
        #expect(try ExactDecimal.cents(dollars: "6900.00") == 690_000)
        // 0.29 * 100 is 28.999999999999996 in binary floating point.
        #expect(try ExactDecimal.points(carats: "0.29") == 29)
        func failure(_ parse: () throws -> Int64) -> String? {
            do { _ = try parse(); return nil } catch let error as ExactDecimal.ParseError { return error.message } catch { return "\(error)" }
        }
        #expect(failure { try ExactDecimal.points(carats: "12.345") } == "at most 2 decimals (1 ct = 100 points)")
        #expect(failure { try ExactDecimal.microDegrees("1.1234567") } == "at most 6 decimals (coordinates are kept in micro-degrees)")
        #expect(failure { try ExactDecimal.points(carats: "-1") } == "must not be negative")
        for bad in ["", ".5", "5.", "1e3", "1,5", "1 5", "0x10", "١٢"] {
            #expect(failure { try ExactDecimal.points(carats: bad) } == "not a decimal number like 1520.50", "\(bad)")
        }
        #expect(failure { try ExactDecimal.points(carats: "90071992547409.92") } == "too large")
        #expect(failure { try ExactDecimal.points(carats: "99999999999999999999999") } == "too large")
        #expect(ExactDecimal.carats(points: 152_050) == "1520.50" && ExactDecimal.carats(points: 5) == "0.05")
    }

    /// One draft of every catalogue type (with its signer), for shape checks.
    static func oneOfEach() throws -> [(String, EventDraft)] {
        let key = SigningKey.generate().publicKey
        let evidence = EventDraft.Evidence(uri: "https://example.org/report.pdf", contents: [1, 2, 3])
        return [
            ("registrar", try .participantRegister(participant: "debswana", legalName: "Debswana", country: "BW", roles: [.miner, .exporter],
                                                   publicKeys: [key])),
            ("debswana", try .participantKeyAdd(participant: "debswana", publicKey: key)),
            ("debswana", try .participantKeyRetire(participant: "debswana", keyID: key.keyID, effectiveFrom: 61)),
            ("registrar", try .participantKeyRevoke(participant: "debswana", keyID: key.keyID, reason: "stolen")),
            ("debswana", try .siteRegister(site: "BW-JW", name: "Jwaneng", country: "BW", region: "Southern", latE6: -24_601_000,
                                           lonE6: 24_728_000, kind: .industrial, operator: "debswana")),
            ("debswana", try .parcelExtract(parcel: "P", site: "BW-JW", carats: 125_000, stones: 4_200, extractedOn: "2026-11-28")),
            ("debswana", try .kpExport(certificate: "BW-2026-1", exportingCountry: "BW", importingCountry: "BE", importer: "antwerp",
                                       parcels: ["P", "Q"], carats: 125_000, valueCents: 1, issuedOn: "2026-11-28", expiresOn: "2027-01-28")),
            ("bw-kp", try .kpValidate(certificate: "BW-2026-1")),
            ("be-kp", try .kpImport(certificate: "BW-2026-1", parcels: ["P"], carats: 125_000, receivedOn: "2026-11-29")),
            ("be-kp", try .kpImportExternal(certificate: "AE-2026-1", exportingCountry: "AE", importingCountry: "BE", exporterName: "Gulf DMCC",
                                            importer: "antwerp", origin: "AE", parcels: [.init(parcel: "AE-1", carats: 10, stones: 1)],
                                            carats: 10, valueCents: 0, issuedOn: "2026-01-01", expiresOn: "2026-03-01", receivedOn: "2026-01-05")),
            ("antwerp", try .custodyTransfer(parcels: ["P"], to: "surat", terms: "FOB Antwerp, net 30")),
            ("surat", try .custodyAccept(transfer: 17)),
            ("antwerp", try .custodyCancel(transfer: 17, reason: "wrong consignee")),
            ("surat", try .custodyReject(transfer: 17, reason: "seal broken on arrival")),
            ("bw-kp", try .kpReturn(certificate: "BW-2026-1", returnedOn: "2027-02-01", reason: "held at customs past expiry")),
            ("antwerp", try .parcelSplit(parcel: "P", outputs: [.init(parcel: "A", carats: 1, stones: 1), .init(parcel: "B", carats: 1, stones: 1)])),
            ("antwerp", try .parcelMix(inputs: ["A", "B"], output: .init(parcel: "C", carats: 2, stones: 2))),
            ("antwerp", try .parcelAssort(parcel: "C", stones: [.init(stone: "C-1", carats: 1), .init(stone: "C-2", carats: 1)])),
            ("surat", try .parcelManufacture(parcel: "C-1", polished: [.init(stone: "C-1-P", carats: 1)])),
            ("lab", try .stoneGrade(stone: "C-1-P", reportNumber: "R-1", carats: 1, color: "F", clarity: "VS1", cut: "Excellent")),
            ("retail", try .parcelSale(parcel: "C-1-P", buyer: "consumer", priceCents: 690_000)),
            ("antwerp", try .attestation(subject: .site("BW-JW"), claim: "visited", evidence: evidence)),
            ("monitor", try .incident(scope: .region(country: "CF", region: "Haute-Kotto"), category: .armedGroup, from: "2026-01-01",
                                      to: "2026-02-01", summary: "armed group at the pits", evidence: evidence)),
            ("lab", try .correction(target: 20, .amend(.init(latE6: 1, evidence: evidence, clarity: "VS2")), reason: "re-graded")),
            ("lab", try .correction(target: 20, .retract, reason: "withdrawn")),
            ("registrar", try .policyPublish(policy: "sanctioned-origins", version: 3, data: ["countries": ["RU"]])),
        ]
    }
}

/// Validates documents against the repository's JSON Schemas with Python's `jsonschema` (as Schemas/check.py does).
enum SchemaValidator {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas")

    static let available: Bool = (try? run(["-c", "import jsonschema, referencing"]).status == 0) ?? false

    /// Whether `format: uri` is checked too, as the daemon checks it (jsonschema needs rfc3986-validator for it).
    static let checksURIs: Bool = available && (try? run(["-c", """
        import sys
        from jsonschema import Draft202012Validator
        sys.exit(Draft202012Validator.FORMAT_CHECKER.conforms("not a uri", "uri"))
        """]).status == 0) ?? false

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// `(label, schema name, JSON)` triples; one line per failure (an empty list when all validate).
    static func validate(_ documents: [(String, String, [UInt8])]) throws -> [String] {
        let dir = TestLog.temporaryPath("schemas")
        var manifest: [JSONValue] = []
        for (i, (label, schema, bytes)) in documents.enumerated() {
            let path = "\(dir)/\(i).json"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            manifest.append(.object(JSONObject([("label", .string(label)), ("schema", .string(schema)), ("path", .string(path))])))
        }
        try Data(CanonicalJSON.encode(.array(manifest))).write(to: URL(fileURLWithPath: "\(dir)/manifest.json"))
        let script = """
            import json, pathlib, sys
            from jsonschema import Draft202012Validator
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012
            here = pathlib.Path(sys.argv[1])
            resources = {}
            for f in here.glob("*.schema.json"):
                s = json.loads(f.read_text())
                resources[s["$id"]] = Resource(contents=s, specification=DRAFT202012)
            registry = Registry().with_resources(resources.items())
            for item in json.loads(pathlib.Path(sys.argv[2]).read_text()):
                urn = "urn:custody:schema:" + item["schema"]
                if urn not in resources:
                    print(f"{item['label']}: no schema {item['schema']}.schema.json")
                    continue
                v = Draft202012Validator(resources[urn].contents, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
                for e in v.iter_errors(json.loads(pathlib.Path(item["path"]).read_text())):
                    print(f"{item['label']}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
            """
        let (status, output) = try run(["-c", script, schemas.path, "\(dir)/manifest.json"])
        let lines = output.split(separator: "\n").map(String.init)
        return status == 0 ? lines : ["python exited with \(status)"] + lines
    }
}
