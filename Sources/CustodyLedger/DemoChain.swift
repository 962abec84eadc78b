import CustodyCrypto
import CustodyDomain
import CustodyModel
import Foundation

/// A realistic small chain of custody, mine to market: a Jwaneng extraction in Botswana, export under a KP
/// certificate to Antwerp, a trader's split there, export of a lot to Surat, cutting, grading by a laboratory
/// in Mumbai, and a retail sale in New York. `custody demo` runs it against a daemon; tests run it in process.
/// Every id carries `tag`, so the demo can run again on the same log.
public struct DemoChain: Sendable {
    /// A party of the story with its fresh key.
    public struct Party: Sendable {
        /// Participant id.
        public let id: String
        /// Legal name.
        public let legalName: String
        /// Country.
        public let country: String
        /// Roles.
        public let roles: [Role]
        /// Its signing key.
        public let key: SigningKey
    }

    /// One logged step: what it was and where it landed.
    public struct Step: Sendable {
        /// A line for people.
        public let description: String
        /// The event type.
        public let type: String
        /// Its receipt.
        public let receipt: Receipt
        /// The openings of its commitments (prices, values, terms), which are never logged.
        public let disclosures: [EventDraft.Disclosure]
    }

    /// Suffix of every id of this run.
    public let tag: String
    /// The registrar's key file.
    public let registrar: KeyFile
    /// The parties, by short name.
    public let parties: [String: Party]
    /// When the story happened (events are dated in the past so the log accepts them).
    let start: Int64

    /// A chain for `registrar`, with a random tag unless one is given.
    public init(registrar: KeyFile, tag: String = Hex.encode(secureRandomBytes(2))) {
        self.tag = tag
        self.registrar = registrar
        start = Int64(Date().timeIntervalSince1970 * 1000) - 30 * 86_400_000
        func party(_ short: String, _ name: String, _ country: String, _ roles: [Role]) -> (String, Party) {
            (short, Party(id: "\(short)-\(tag)", legalName: name, country: country, roles: roles, key: SigningKey.generate()))
        }
        parties = Dictionary(uniqueKeysWithValues: [
            party("debswana", "Debswana Diamond Company (Pty) Ltd", "BW", [.miner, .exporter]),
            party("bw-kp", "Botswana Government Diamond Office (KP authority)", "BW", [.kpAuthority]),
            party("antwerp", "Schelde Rough Trading BV", "BE", [.importer, .trader, .exporter]),
            party("be-kp", "FPS Economy Diamond Office (KP authority)", "BE", [.kpAuthority]),
            party("surat", "Tapi Polishing Works Pvt Ltd", "IN", [.importer, .manufacturer]),
            party("in-kp", "Gem & Jewellery EPC (KP authority)", "IN", [.kpAuthority]),
            party("lab", "Mumbai Gem Laboratory", "IN", [.laboratory]),
            party("retail", "Fifth Avenue Jewellers Inc", "US", [.retailer]),
        ])
    }

    /// Runs the story, submitting each event with `submit` and waiting for its receipt.
    public func run(submit: (EventEnvelope) async throws -> Receipt) async throws -> [Step] {
        var steps: [Step] = []
        var day: Int64 = 0
        func log(_ description: String, _ party: Party?, _ draft: EventDraft) async throws -> Receipt {
            day += 1
            let signer = party?.id ?? registrar.participant
            let key = try party?.key ?? registrar.signingKey()
            let envelope = try draft.signed(as: signer, with: key, occurredAt: RFC3339.format(millis: start + day * 86_400_000))
            let receipt = try await submit(envelope)
            steps.append(Step(description: description, type: draft.type, receipt: receipt, disclosures: draft.disclosures))
            return receipt
        }
        func date(_ d: Int64) -> String { String(RFC3339.format(millis: start + d * 86_400_000).prefix(10)) }
        let p = parties
        for short in ["debswana", "bw-kp", "antwerp", "be-kp", "surat", "in-kp", "lab", "retail"] {
            let party = p[short]!
            _ = try await log("registrar admits \(party.legalName) (\(party.country))", nil, .participantRegister(
                participant: party.id, legalName: party.legalName, country: party.country, roles: party.roles,
                publicKeys: [party.key.publicKey]))
        }
        let debswana = p["debswana"]!, antwerp = p["antwerp"]!, surat = p["surat"]!, retail = p["retail"]!
        let site = "BW-JWANENG-\(tag)", rough = "BW-JW-\(tag)-0001"
        _ = try await log("Debswana registers the Jwaneng mine", debswana, .siteRegister(
            site: site, name: "Jwaneng", country: "BW", region: "Southern District", latE6: -24_601_000, lonE6: 24_728_000,
            kind: .industrial, operator: debswana.id))
        _ = try await log("Debswana extracts 1,250 ct of rough (4,200 stones)", debswana, .parcelExtract(
            parcel: rough, site: site, carats: 125_000, stones: 4_200, extractedOn: date(day + 1)))
        let certBW = "BW-2026-\(tag)01"
        _ = try await log("Debswana exports it to Antwerp under KP certificate \(certBW)", debswana, .kpExport(
            certificate: certBW, exportingCountry: "BW", importingCountry: "BE", importer: antwerp.id, parcels: [rough],
            carats: 125_000, valueCents: 14_250_000_00, issuedOn: date(day + 1), expiresOn: date(day + 60)))
        _ = try await log("Botswana's KP authority validates the certificate", p["bw-kp"], .kpValidate(certificate: certBW))
        _ = try await log("Belgium's KP authority confirms the import", p["be-kp"], .kpImport(
            certificate: certBW, parcels: [rough], carats: 125_000, receivedOn: date(day + 1)))
        let lotA = "\(rough)-A", lotB = "\(rough)-B"
        _ = try await log("the Antwerp trader splits the parcel into two lots", antwerp, .parcelSplit(parcel: rough, outputs: [
            .init(parcel: lotA, carats: 75_000, stones: 2_500), .init(parcel: lotB, carats: 50_000, stones: 1_700),
        ]))
        let certBE = "BE-2026-\(tag)02"
        _ = try await log("Antwerp exports lot A to Surat under KP certificate \(certBE)", antwerp, .kpExport(
            certificate: certBE, exportingCountry: "BE", importingCountry: "IN", importer: surat.id, parcels: [lotA],
            carats: 75_000, valueCents: 9_600_000_00, issuedOn: date(day + 1), expiresOn: date(day + 60)))
        _ = try await log("Belgium's KP authority validates it", p["be-kp"], .kpValidate(certificate: certBE))
        _ = try await log("India's KP authority confirms the import", p["in-kp"], .kpImport(
            certificate: certBE, parcels: [lotA], carats: 75_000, receivedOn: date(day + 1)))
        let small = "\(lotA)-1", rest = "\(lotA)-2"
        _ = try await log("the Surat polisher sets aside a 3 ct lot of two stones", surat, .parcelSplit(parcel: lotA, outputs: [
            .init(parcel: small, carats: 300, stones: 2), .init(parcel: rest, carats: 74_700, stones: 2_498),
        ]))
        let stone1 = "\(small)-S1", stone2 = "\(small)-S2"
        _ = try await log("and cuts it into two polished stones (1.52 ct from 3.00 ct)", surat, .parcelManufacture(parcel: small, polished: [
            .init(stone: stone1, carats: 90), .init(stone: stone2, carats: 62),
        ]))
        _ = try await log("the Mumbai laboratory grades the 0.90 ct stone", p["lab"], .stoneGrade(
            stone: stone1, reportNumber: "MGL-\(tag)-000451", carats: 90, color: "F", clarity: "VS1", cut: "Excellent"))
        let transfer = try await log("Surat ships the stone to the New York retailer", surat, .custodyTransfer(
            parcels: [stone1], to: retail.id, terms: .string("FOB Mumbai, net 30")))
        _ = try await log("the retailer accepts custody", retail, .custodyAccept(transfer: transfer.index))
        _ = try await log("and sells the stone to a consumer", retail, .parcelSale(parcel: stone1, buyer: "consumer", priceCents: 6_900_00))
        return steps
    }
}
