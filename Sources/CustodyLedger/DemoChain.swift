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
        func log(_ description: String, _ party: Party?, _ type: String, _ fields: [(String, JSONValue)]) async throws -> Receipt {
            day += 1
            let signer = party?.id ?? registrar.participant
            let key = try party?.key ?? registrar.signingKey()
            let body = JSONObject([
                ("type", .string(type)), ("schemaVersion", .integer(1)), ("signer", .string(signer)),
                ("occurredAt", .string(RFC3339.format(millis: start + day * 86_400_000))),
                ("nonce", .string(Hex.encode(secureRandomBytes(16)))),
            ] + fields)
            let receipt = try await submit(try EventEnvelope.sign(body: body, with: key))
            steps.append(Step(description: description, type: type, receipt: receipt))
            return receipt
        }
        func date(_ d: Int64) -> JSONValue { .string(String(RFC3339.format(millis: start + d * 86_400_000).prefix(10))) }
        func ids(_ list: String...) -> JSONValue { .array(list.map { .string($0) }) }
        let p = parties
        for short in ["debswana", "bw-kp", "antwerp", "be-kp", "surat", "in-kp", "lab", "retail"] {
            let party = p[short]!
            _ = try await log("registrar admits \(party.legalName) (\(party.country))", nil, "participant.register", [
                ("participant", .string(party.id)), ("legalName", .string(party.legalName)), ("country", .string(party.country)),
                ("roles", .array(party.roles.map { .string($0.rawValue) })), ("publicKeys", .array([.string(party.key.publicKey.base64)])),
            ])
        }
        let site = "BW-JWANENG-\(tag)", rough = "BW-JW-\(tag)-0001"
        _ = try await log("Debswana registers the Jwaneng mine", p["debswana"], "site.register", [
            ("site", .string(site)), ("name", .string("Jwaneng")), ("country", .string("BW")), ("region", .string("Southern District")),
            ("latE6", .integer(-24_601_000)), ("lonE6", .integer(24_728_000)), ("kind", .string("industrial")),
            ("operator", .string(p["debswana"]!.id)),
        ])
        _ = try await log("Debswana extracts 1,250 ct of rough (4,200 stones)", p["debswana"], "parcel.extract", [
            ("parcel", .string(rough)), ("site", .string(site)), ("carats", .integer(125_000)), ("stones", .integer(4_200)),
            ("extractedOn", date(day + 1)),
        ])
        let certBW = "BW-2026-\(tag)01"
        _ = try await log("Debswana exports it to Antwerp under KP certificate \(certBW)", p["debswana"], "kp.export", [
            ("certificate", .string(certBW)), ("exportingCountry", .string("BW")), ("importingCountry", .string("BE")),
            ("importer", .string(p["antwerp"]!.id)), ("parcels", ids(rough)), ("carats", .integer(125_000)),
            ("valueCommitment", .string(Commitment(value: .integer(14_250_000_00)).hex)),
            ("issuedOn", date(day + 1)), ("expiresOn", date(day + 60)),
        ])
        _ = try await log("Botswana's KP authority validates the certificate", p["bw-kp"], "kp.validate", [("certificate", .string(certBW))])
        _ = try await log("Belgium's KP authority confirms the import", p["be-kp"], "kp.import", [
            ("certificate", .string(certBW)), ("carats", .integer(125_000)), ("parcels", ids(rough)), ("receivedOn", date(day + 1)),
        ])
        let lotA = "\(rough)-A", lotB = "\(rough)-B"
        _ = try await log("the Antwerp trader splits the parcel into two lots", p["antwerp"], "parcel.split", [
            ("parcel", .string(rough)), ("outputs", .array([
                .object(JSONObject([("parcel", .string(lotA)), ("carats", .integer(75_000)), ("stones", .integer(2_500))])),
                .object(JSONObject([("parcel", .string(lotB)), ("carats", .integer(50_000)), ("stones", .integer(1_700))])),
            ])),
        ])
        let certBE = "BE-2026-\(tag)02"
        _ = try await log("Antwerp exports lot A to Surat under KP certificate \(certBE)", p["antwerp"], "kp.export", [
            ("certificate", .string(certBE)), ("exportingCountry", .string("BE")), ("importingCountry", .string("IN")),
            ("importer", .string(p["surat"]!.id)), ("parcels", ids(lotA)), ("carats", .integer(75_000)),
            ("valueCommitment", .string(Commitment(value: .integer(9_600_000_00)).hex)),
            ("issuedOn", date(day + 1)), ("expiresOn", date(day + 60)),
        ])
        _ = try await log("Belgium's KP authority validates it", p["be-kp"], "kp.validate", [("certificate", .string(certBE))])
        _ = try await log("India's KP authority confirms the import", p["in-kp"], "kp.import", [
            ("certificate", .string(certBE)), ("carats", .integer(75_000)), ("parcels", ids(lotA)), ("receivedOn", date(day + 1)),
        ])
        let small = "\(lotA)-1", rest = "\(lotA)-2"
        _ = try await log("the Surat polisher sets aside a 3 ct lot of two stones", p["surat"], "parcel.split", [
            ("parcel", .string(lotA)), ("outputs", .array([
                .object(JSONObject([("parcel", .string(small)), ("carats", .integer(300)), ("stones", .integer(2))])),
                .object(JSONObject([("parcel", .string(rest)), ("carats", .integer(74_700)), ("stones", .integer(2_498))])),
            ])),
        ])
        let stone1 = "\(small)-S1", stone2 = "\(small)-S2"
        _ = try await log("and cuts it into two polished stones (1.52 ct from 3.00 ct)", p["surat"], "parcel.manufacture", [
            ("parcel", .string(small)), ("polished", .array([
                .object(JSONObject([("stone", .string(stone1)), ("carats", .integer(90))])),
                .object(JSONObject([("stone", .string(stone2)), ("carats", .integer(62))])),
            ])),
        ])
        _ = try await log("the Mumbai laboratory grades the 0.90 ct stone", p["lab"], "stone.grade", [
            ("stone", .string(stone1)), ("reportNumber", .string("MGL-\(tag)-000451")), ("carats", .integer(90)),
            ("color", .string("F")), ("clarity", .string("VS1")), ("cut", .string("Excellent")),
        ])
        let transfer = try await log("Surat ships the stone to the New York retailer", p["surat"], "custody.transfer", [
            ("parcels", ids(stone1)), ("to", .string(p["retail"]!.id)),
            ("termsCommitment", .string(Commitment(value: .string("FOB Mumbai, net 30")).hex)),
        ])
        _ = try await log("the retailer accepts custody", p["retail"], "custody.accept", [("transfer", .integer(Int64(transfer.index)))])
        _ = try await log("and sells the stone to a consumer", p["retail"], "parcel.sale", [
            ("parcel", .string(stone1)), ("buyer", .string("consumer")),
            ("priceCommitment", .string(Commitment(value: .integer(6_900_00)).hex)),
        ])
        return steps
    }
}
