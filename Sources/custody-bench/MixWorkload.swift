import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging

/// A realistic mix of custody events, mine to market, for measuring what the custody rules cost (issue 3).
///
/// Set-up (not timed) registers `crews` copies of the demo's cast: a Botswana miner and exporter with its
/// mine, the KP authorities of Botswana, Belgium and India, an Antwerp trader, a Surat polisher, a Mumbai
/// laboratory and a New York retailer. Each journey then takes one parcel from the mine to a sale in 16
/// events: extraction, a due-diligence attestation, export under a KP certificate (export, validation,
/// import), a split in Antwerp, a second KP export to Surat, a split there and a mix of two of the lots
/// (re-assortment), manufacture into two polished stones, grading, a transfer to the retailer and its
/// acceptance, and the sale. One journey in eight starts with the registration of a new miner and its site,
/// and that miner extracts the journey's parcel. So of every 130 events: 16 registrations, 8 extractions,
/// 8 attestations, 48 KP events, 24 splits and mixes, 8 manufactures, 8 gradings, 16 transfers and
/// acceptances, 8 sales (participant keys new to the log are checked on the sequencer, as in real use).
///
/// Every event is signed before the clock starts, except `custody.accept`, which names the log index of
/// its transfer and so is signed when the transfer's receipt arrives (1 event in 16, inside the timed run).
struct MixWorkload: Sendable {
    /// Parallel copies of the cast; journeys rotate across them.
    static let crews = 8

    struct Crew: Sendable {
        var miner: (id: String, key: SigningKey)
        var site: String
        var bwKP: (id: String, key: SigningKey)
        var trader: (id: String, key: SigningKey)
        var beKP: (id: String, key: SigningKey)
        var polisher: (id: String, key: SigningKey)
        var inKP: (id: String, key: SigningKey)
        var lab: (id: String, key: SigningKey)
        var retailer: (id: String, key: SigningKey)
    }

    let crews: [Crew]
    let tag: String

    init(tag: String) {
        self.tag = tag
        func key(_ name: String) -> (String, SigningKey) {
            (name, try! SigningKey(seed: SHA256.hash(Array("custody-bench mix \(tag) \(name)".utf8))))
        }
        crews = (0..<Self.crews).map { c in
            let s = "\(tag)-\(c)"
            return Crew(miner: key("mix-miner-\(s)"), site: "BW-MIX-SITE-\(s)", bwKP: key("mix-bw-kp-\(s)"),
                        trader: key("mix-trader-\(s)"), beKP: key("mix-be-kp-\(s)"), polisher: key("mix-polisher-\(s)"),
                        inKP: key("mix-in-kp-\(s)"), lab: key("mix-lab-\(s)"), retailer: key("mix-retail-\(s)"))
        }
    }

    static let epochMillis: Int64 = EventFactory.epochMillis

    private static func body(_ type: String, signer: String, nonce: String, millis: Int64,
                             _ fields: [(String, JSONValue)]) -> JSONObject {
        JSONObject([
            ("type", .string(type)), ("schemaVersion", .integer(1)), ("signer", .string(signer)),
            ("occurredAt", .string(RFC3339.format(millis: epochMillis + millis))), ("nonce", .string(nonce)),
        ] + fields)
    }

    private static func sign(_ body: JSONObject, _ key: SigningKey) -> EventEnvelope {
        try! EventEnvelope.sign(body: body, with: key)
    }

    private static func register(_ party: (id: String, key: SigningKey), name: String, country: String, roles: [String],
                                 registrar: SigningKey, registrarID: String, nonce: String) -> EventEnvelope {
        sign(body("participant.register", signer: registrarID, nonce: nonce, millis: 0, [
            ("participant", .string(party.id)), ("legalName", .string(name)), ("country", .string(country)),
            ("roles", .array(roles.map { .string($0) })), ("publicKeys", .array([.string(party.key.publicKey.base64)])),
        ]), registrar)
    }

    private static func siteBody(_ site: String, operatorID: String, nonce: String, millis: Int64) -> JSONObject {
        body("site.register", signer: operatorID, nonce: nonce, millis: millis, [
            ("site", .string(site)), ("name", .string("Mix Pit")), ("country", .string("BW")),
            ("region", .string("Central District")), ("latE6", .integer(-21_400_000)), ("lonE6", .integer(25_500_000)),
            ("kind", .string("industrial")), ("operator", .string(operatorID)),
        ])
    }

    /// The cast's registrations and the miners' sites, in two rounds (sites need their miners' keys).
    func setup(registrar: SigningKey, registrarID: String) -> [[EventEnvelope]] {
        var people: [EventEnvelope] = [], sites: [EventEnvelope] = []
        for (c, crew) in crews.enumerated() {
            let r = { (p: (id: String, key: SigningKey), name: String, country: String, roles: [String]) in
                Self.register(p, name: name, country: country, roles: roles, registrar: registrar, registrarID: registrarID,
                              nonce: "mix-setup-\(tag)-\(c)-\(p.id)")
            }
            people += [
                r(crew.miner, "Mix Mining \(c) (Pty) Ltd", "BW", ["miner", "exporter"]),
                r(crew.bwKP, "Botswana KP Office \(c)", "BW", ["kp-authority"]),
                r(crew.trader, "Mix Rough Trading \(c) BV", "BE", ["importer", "trader", "exporter"]),
                r(crew.beKP, "Belgian KP Office \(c)", "BE", ["kp-authority"]),
                r(crew.polisher, "Mix Polishing Works \(c)", "IN", ["importer", "manufacturer"]),
                r(crew.inKP, "Indian KP Office \(c)", "IN", ["kp-authority"]),
                r(crew.lab, "Mix Gem Laboratory \(c)", "IN", ["laboratory"]),
                r(crew.retailer, "Mix Jewellers \(c) Inc", "US", ["retailer"]),
            ]
            sites.append(Self.sign(Self.siteBody(crew.site, operatorID: crew.miner.id, nonce: "mix-site-\(tag)-\(c)", millis: 1),
                                   crew.miner.key))
        }
        return [people, sites]
    }

    /// One parcel's journey: its steps in order, each step's events submitted together; the acceptance is
    /// signed later (`accept`), once the transfer's index is known.
    struct Journey: Sendable {
        /// Steps before the transfer, pre-signed; the transfer is the last event of the last step.
        var steps: [[EventEnvelope]]
        /// The sale, after the acceptance.
        var sale: EventEnvelope
        var retailer: (id: String, key: SigningKey)
        var acceptNonce: String
        var acceptMillis: Int64
    }

    /// The acceptance of the transfer logged at `transferIndex`.
    static func accept(_ journey: Journey, transferIndex: UInt64) -> EventEnvelope {
        sign(body("custody.accept", signer: journey.retailer.id, nonce: journey.acceptNonce, millis: journey.acceptMillis, [
            ("transfer", .integer(Int64(transferIndex))),
        ]), journey.retailer.key)
    }

    /// Journey number `j`, with its events signed.
    func journey(_ j: Int, registrar: SigningKey, registrarID: String) -> Journey {
        let crew = crews[j % crews.count]
        let id = "\(tag)-\(EventFactory.pad(j, 7))"
        var t: Int64 = 10_000 + Int64(j)  // ms after the epoch; each event a day later than the previous
        func at() -> Int64 {
            t += 86_400_000
            return t
        }
        func day(_ ms: Int64) -> JSONValue { .string(String(RFC3339.format(millis: Self.epochMillis + ms).prefix(10))) }
        func ids(_ list: String...) -> JSONValue { .array(list.map { .string($0) }) }
        func n(_ s: String) -> String { "mix-\(id)-\(s)" }
        func commitment(_ v: Int64) -> JSONValue {
            .string(Hex.encode(SHA256.hash(Array("custody-bench commitment \(id) \(v)".utf8))))
        }
        func sign(_ type: String, _ p: (id: String, key: SigningKey), _ fields: [(String, JSONValue)]) -> EventEnvelope {
            Self.sign(Self.body(type, signer: p.id, nonce: n(type), millis: at(), fields), p.key)
        }
        var steps: [[EventEnvelope]] = []
        var miner = crew.miner, site = crew.site
        if j % 8 == 0 {
            // A new miner joins and registers its mine; it extracts this journey's parcel.
            miner = ("mix-newminer-\(id)", try! SigningKey(seed: SHA256.hash(Array("custody-bench mix miner \(id)".utf8))))
            site = "BW-MIX-NEW-\(id)"
            steps.append([Self.register(miner, name: "New Mining \(id) (Pty) Ltd", country: "BW", roles: ["miner", "exporter"],
                                        registrar: registrar, registrarID: registrarID, nonce: n("register"))])
            steps.append([Self.sign(Self.siteBody(site, operatorID: miner.id, nonce: n("site"), millis: at()), miner.key)])
        }
        let rough = "BW-MIX-\(id)", lotA = "\(rough)-A", lotB = "\(rough)-B"
        let small = "\(lotA)-1", b = "\(lotA)-2", c = "\(lotA)-3", mixed = "\(lotA)-M"
        let stone1 = "\(small)-S1", stone2 = "\(small)-S2"
        let issued = at()
        steps += [
            [sign("parcel.extract", miner, [("parcel", .string(rough)), ("site", .string(site)), ("carats", .integer(125_000)),
                                            ("stones", .integer(4_200)), ("extractedOn", day(issued))])],
            [sign("attestation", miner, [
                ("subject", .object(JSONObject([("parcel", .string(rough))]))), ("claim", .string("OECD due diligence step 3 done")),
                ("evidence", .object(JSONObject([("uri", .string("https://evidence.example/\(id)")),
                                                 ("sha256", .string(Hex.encode(SHA256.hash(Array(id.utf8)))))]))),
            ])],
            [sign("kp.export", miner, [
                ("certificate", .string("BW-\(id)")), ("exportingCountry", .string("BW")), ("importingCountry", .string("BE")),
                ("importer", .string(crew.trader.id)), ("parcels", ids(rough)), ("carats", .integer(125_000)),
                ("valueCommitment", commitment(1)), ("issuedOn", day(issued)), ("expiresOn", day(issued + 90 * 86_400_000)),
            ])],
            [sign("kp.validate", crew.bwKP, [("certificate", .string("BW-\(id)"))])],
            [sign("kp.import", crew.beKP, [("certificate", .string("BW-\(id)")), ("carats", .integer(125_000)),
                                           ("parcels", ids(rough)), ("receivedOn", day(issued + 86_400_000))])],
            [sign("parcel.split", crew.trader, [("parcel", .string(rough)), ("outputs", .array([
                .object(JSONObject([("parcel", .string(lotA)), ("carats", .integer(75_000)), ("stones", .integer(2_500))])),
                .object(JSONObject([("parcel", .string(lotB)), ("carats", .integer(50_000)), ("stones", .integer(1_700))])),
            ]))])],
            [sign("kp.export", crew.trader, [
                ("certificate", .string("BE-\(id)")), ("exportingCountry", .string("BE")), ("importingCountry", .string("IN")),
                ("importer", .string(crew.polisher.id)), ("parcels", ids(lotA)), ("carats", .integer(75_000)),
                ("valueCommitment", commitment(2)), ("issuedOn", day(issued + 2 * 86_400_000)),
                ("expiresOn", day(issued + 90 * 86_400_000)),
            ])],
            [sign("kp.validate", crew.beKP, [("certificate", .string("BE-\(id)"))])],
            [sign("kp.import", crew.inKP, [("certificate", .string("BE-\(id)")), ("carats", .integer(75_000)),
                                           ("parcels", ids(lotA)), ("receivedOn", day(issued + 3 * 86_400_000))])],
            [sign("parcel.split", crew.polisher, [("parcel", .string(lotA)), ("outputs", .array([
                .object(JSONObject([("parcel", .string(small)), ("carats", .integer(300)), ("stones", .integer(2))])),
                .object(JSONObject([("parcel", .string(b)), ("carats", .integer(40_000)), ("stones", .integer(1_300))])),
                .object(JSONObject([("parcel", .string(c)), ("carats", .integer(34_700)), ("stones", .integer(1_198))])),
            ]))])],
            [sign("parcel.mix", crew.polisher, [("inputs", ids(b, c)), ("output", .object(JSONObject([
                ("parcel", .string(mixed)), ("carats", .integer(74_700)), ("stones", .integer(2_498)),
            ])))])],
            [sign("parcel.manufacture", crew.polisher, [("parcel", .string(small)), ("polished", .array([
                .object(JSONObject([("stone", .string(stone1)), ("carats", .integer(90))])),
                .object(JSONObject([("stone", .string(stone2)), ("carats", .integer(62))])),
            ]))])],
            [sign("stone.grade", crew.lab, [("stone", .string(stone1)), ("reportNumber", .string("MIX-\(id)")),
                                            ("carats", .integer(90)), ("color", .string("F")), ("clarity", .string("VS1")),
                                            ("cut", .string("Excellent"))])],
            [sign("custody.transfer", crew.polisher, [("parcels", ids(stone1)), ("to", .string(crew.retailer.id)),
                                                      ("termsCommitment", commitment(3))])],
        ]
        let acceptMillis = at()
        let sale = sign("parcel.sale", crew.retailer, [("parcel", .string(stone1)), ("buyer", .string("consumer")),
                                                        ("priceCommitment", commitment(4))])
        return Journey(steps: steps, sale: sale, retailer: crew.retailer, acceptNonce: n("accept"), acceptMillis: acceptMillis)
    }

    /// Journeys `range`, signed on all cores (set-up, not timed).
    func journeys(_ range: Range<Int>, registrar: SigningKey, registrarID: String) async -> [Journey] {
        await ParallelVerifier.mapAsync(Array(range)) { self.journey($0, registrar: registrar, registrarID: registrarID) }
    }

    /// Runs `journeys` through `ledger` from `tasks` concurrent tasks, each driving its share of the journeys
    /// a step at a time (one `submit` per step of all its journeys). Every event must be a new entry.
    static func run(_ journeys: [Journey], on ledger: Ledger, tasks: Int) async -> AppendOutcome {
        let events = journeys.reduce(0) { $0 + $1.steps.reduce(0) { $0 + $1.count } + 2 }
        let (counts, seconds) = await timedAsync {
            await withTaskGroup(of: (Int, String?).self) { group in
                for t in 0..<tasks {
                    let mine = stride(from: t, to: journeys.count, by: tasks).map { journeys[$0] }
                    group.addTask { await drive(mine, ledger) }
                }
                var total = (0, nil as String?)
                for await (accepted, failure) in group {
                    total.0 += accepted
                    total.1 = total.1 ?? failure
                }
                return total
            }
        }
        return AppendOutcome(submitted: events, accepted: counts.0, seconds: seconds, firstFailure: counts.1)
    }

    private static func drive(_ journeys: [Journey], _ ledger: Ledger) async -> (Int, String?) {
        var accepted = 0
        func submit(_ batch: [EventEnvelope]) async -> ([UInt64], String?) {
            var indexes: [UInt64] = []
            for (envelope, result) in zip(batch, await ledger.submit(batch)) {
                switch result {
                case .success(let receipt) where !receipt.duplicate:
                    accepted += 1
                    indexes.append(receipt.index)
                case .success: return ([], "\(envelope.type) reported as a duplicate")
                case .failure(let error): return ([], "\(envelope.type): \(error)")
                }
            }
            return (indexes, nil)
        }
        let longest = journeys.map(\.steps.count).max() ?? 0
        // Align the journeys on their last step (the transfer), so that the registration steps come first.
        var transfers: [UInt64] = Array(repeating: 0, count: journeys.count)
        for s in 0..<longest {
            var batch: [EventEnvelope] = [], owners: [Int] = []
            for (j, journey) in journeys.enumerated() {
                let offset = longest - journey.steps.count
                guard s >= offset else { continue }
                batch += journey.steps[s - offset]
                owners.append(j)
            }
            let (indexes, failure) = await submit(batch)
            if let failure { return (accepted, failure) }
            if s == longest - 1 { for (k, j) in owners.enumerated() { transfers[j] = indexes[k] } }
        }
        let accepts = journeys.indices.map { MixWorkload.accept(journeys[$0], transferIndex: transfers[$0]) }
        if let failure = await submit(accepts).1 { return (accepted, failure) }
        if let failure = await submit(journeys.map(\.sale)).1 { return (accepted, failure) }
        return (accepted, nil)
    }

    /// A fresh log in `directory` with the mix's cast registered, opened with or without the custody rules.
    static func freshLedger(_ directory: DataDirectory, workload: MixWorkload, rules: Bool, logger: Logger) async throws
        -> (Ledger, registrar: SigningKey, registrarID: String) {
        let (created, _) = try await directory.openLedger(origin: Benchmark.origin, logger: logger)
        let ledger = try await directory.reopen(created, rules: rules, logger: logger)
        let registrarFile = try KeyFile.read(from: directory.registrarKeyPath)
        let registrar = try registrarFile.signingKey()
        for round in workload.setup(registrar: registrar, registrarID: registrarFile.participant) {
            for result in await ledger.submit(round) {
                if case .failure(let error) = result { throw BenchError("mix set-up: \(error)") }
            }
        }
        return (ledger, registrar, registrarFile.participant)
    }
}

extension DataDirectory {
    /// Closes `ledger`, opened over this directory, and opens its log again with the custody rules or without
    /// them (`Ledger(…, enforcesRules:)`: signatures and keys are still checked), to measure what they cost.
    func reopen(_ ledger: Ledger, rules: Bool, logger: Logger) async throws -> Ledger {
        await ledger.close()
        let signer = try NoteSigner(encoded: String(contentsOfFile: logKeyPath, encoding: .utf8))
        return try Ledger(store: try LogStore(path: databasePath), signer: signer, logger: logger, enforcesRules: rules)
    }
}
