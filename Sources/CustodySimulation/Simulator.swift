import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel

/// A kind of problem case the simulator plants in a share of its production flows.
public enum ProblemKind: String, Sendable, CaseIterable, Codable {
    /// Extraction at a site where a monitor then records an incident (violence, forced or child labour, …)
    /// covering the extraction date: non-compliant under `kp-expanded`.
    case siteIncident = "site-incident"
    /// Russian rough extracted after the G7 direct-import ban, exported to Dubai and mixed there with
    /// other rough: non-compliant (rough) or at-risk/non-compliant (polished) under `g7-russia`.
    case russianRoughMixed = "russian-rough-mixed"
    /// Rough entering the log by `kp.import.external`, with no extraction history (origin declared, often
    /// "mixed"): unverified under `kp-core` and `g7-russia`.
    case externalImport = "external-import"
    /// Manufacture keeping 85-95 % of the rough's weight: at-risk under `oecd-red-flags`.
    case implausibleYield = "implausible-yield"
    /// Extraction at an artisanal site without a due-diligence attestation: at-risk under `oecd-red-flags`.
    case artisanalWithoutDueDiligence = "artisanal-without-due-diligence"
}

/// What to simulate.
public struct SimulationConfiguration: Sendable {
    /// Seed of the generator: the same seed, registrar key and start index give byte-identical envelopes.
    public var seed: UInt64
    /// Envelopes to emit in all, set-up (participants, sites, attestations) included.
    public var events: Int
    /// Share of production flows (extractions or external imports) that carry a problem, 0...1.
    public var problemShare: Double
    /// Pairs of woven deep-lineage chains to build (each gives parcels with at least `deepGenerations`
    /// levels of lineage); 0 for none.
    public var deepChains: Int
    /// Split/mix generations of each deep chain (at least 2).
    public var deepGenerations: Int
    /// Log index the first envelope will get (1 on a fresh log holding only its genesis entry).
    /// `custody.accept` names its transfer by index, so the simulator must know where it starts.
    public var startIndex: UInt64
    /// The registrar's key, which registers the simulated participants.
    public var registrar: SigningKey
    /// The registrar's participant id (as in the genesis entry).
    public var registrarID: String

    /// A configuration; see the properties for the meaning of each value.
    public init(seed: UInt64 = 1, events: Int, problemShare: Double = 0, deepChains: Int = 0, deepGenerations: Int = 20,
                startIndex: UInt64 = 1, registrar: SigningKey, registrarID: String = "registrar") {
        self.seed = seed
        self.events = events
        self.problemShare = problemShare
        self.deepChains = deepChains
        self.deepGenerations = deepGenerations
        self.startIndex = startIndex
        self.registrar = registrar
        self.registrarID = registrarID
    }
}

/// A simulation's configuration cannot work.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// What the emitted envelopes hold, counted as they are handed out.
public struct SimulationStatistics: Sendable {
    /// Envelopes by event type.
    public var eventsByType: [String: Int] = [:]
    /// Production flows started: extractions and external imports, each followed to a sale or to the end.
    public var flows = 0
    /// Flows carrying each problem kind.
    public var problemFlows: [ProblemKind: Int] = [:]
    /// Extracted weight (points) by country.
    public var extractedPoints: [String: Int64] = [:]
    /// Weight (points) crossing borders under KP certificates: `kp.export` and `kp.import.external`.
    public var certifiedPoints: Int64 = 0
    /// Rough weight (points) manufactured, by cutting country.
    public var manufacturedRoughPoints: [String: Int64] = [:]
    /// Polished weight (points) that rough yielded, by cutting country.
    public var polishedPoints: [String: Int64] = [:]

    /// Envelopes counted.
    public var events: Int { eventsByType.values.reduce(0, +) }
    /// Total extracted weight, points.
    public var totalExtracted: Int64 { extractedPoints.values.reduce(0, +) }
    /// Border crossings of rough as a multiple of production (by weight).
    public var crossingsPerProduction: Double { Double(certifiedPoints) / Double(max(1, totalExtracted)) }
    /// Polished weight over the rough weight manufactured.
    public var polishingYield: Double {
        Double(polishedPoints.values.reduce(0, +)) / Double(max(1, manufacturedRoughPoints.values.reduce(0, +)))
    }
    /// Share of the manufactured rough weight cut in `country`.
    public func cuttingShare(_ country: String) -> Double {
        Double(manufacturedRoughPoints[country] ?? 0) / Double(max(1, manufacturedRoughPoints.values.reduce(0, +)))
    }
}

/// Generates a realistic, signed custody workload that a ledger with its rules on accepts in full, event by
/// event, in the order given. Deterministic: the same configuration gives the same bytes.
///
/// The simulated trade, in 2023 (the year of the Kimberley Process statistics it is shaped by):
/// - set-up: participants (miners, KP authorities, hub traders, manufacturers, laboratories, retailers, a
///   monitor and an auditor), each with a key derived from the seed and registered by the registrar; sites in
///   the eight largest producing countries; due-diligence attestations on the artisanal sites;
/// - production flows, started at a steady pace, each in a country drawn in proportion to its 2023 production
///   (Russia 37.3, Botswana 25.1, Canada 16.0, Angola 9.8, DRC 8.3, South Africa 5.9, Zimbabwe 4.9, Namibia 2.4
///   Mct): extraction, `kp.export`/`kp.validate`/`kp.import` to a hub (Antwerp, Dubai, Mumbai), splits there,
///   mixes with other lots, re-exports between hubs, export (or a domestic `custody.transfer`/`custody.accept`)
///   to a manufacturer (mostly in India), manufacture keeping about half the weight, grading, transfer to a
///   retailer abroad, and sales to consumers;
/// - problem cases in a configurable share of flows (``ProblemKind``);
/// - optionally, woven deep-lineage chains: two lots split and re-mixed crosswise generation after generation
///   in a hub, then cut (``deepLineageParcels``).
///
/// Flows interleave: steps are scheduled in simulated time and emitted in time order, so `occurredAt` never
/// decreases along the log, except that Russian post-ban flows carry dates a year later (2024) than their
/// place in the log. Every date is in the past.
public final class Simulator {
    /// The configuration.
    public let configuration: SimulationConfiguration
    /// What has been handed out so far.
    public private(set) var statistics = SimulationStatistics()
    /// Envelopes handed out so far.
    public private(set) var emitted = 0
    /// Number of set-up envelopes (participants, sites, attestations) at the start of the workload.
    public private(set) var setupEventCount = 0
    /// Final parcels of the deep-lineage chains (rough) and the stones cut from them, once created: each has at
    /// least ``SimulationConfiguration/deepGenerations`` levels of lineage.
    public private(set) var deepLineageParcels: [String] = []

    /// True when every envelope has been handed out.
    public var isFinished: Bool { emitted >= configuration.events }
    /// The log index the next envelope handed out will get.
    public var nextIndex: UInt64 { configuration.startIndex + UInt64(emitted) }

    /// The problem a parcel's flow carries (nil for clean flows and unknown parcels).
    public func problem(ofParcel id: String) -> ProblemKind? { problemOf[id] }

    /// The simulated participants: id, country and roles.
    public var participants: [(id: String, country: String, roles: [String])] {
        actors.map { ($0.id, $0.country, $0.roles.map(\.rawValue)) }
    }

    // MARK: State

    struct Actor {
        let id: String
        let key: SigningKey
        let country: String
        let roles: [Role]
        let legalName: String
    }

    struct Lot {
        var id: String
        var points: Int64
        var stones: Int64
        var holder: Int
        var polished = false
        var problem: ProblemKind?
        /// Seconds added to simulated time on this lot's events (Russian post-ban flows).
        var shift: Int64 = 0
        var hops = 0
        var mixes = 0
        var deep = false
        var inPool = false
        var busy = false
    }

    /// An event built and waiting to be signed.
    struct Unsigned: Sendable {
        let body: JSONObject
        let key: SigningKey
        let type: String
        let metric: Metric
    }

    enum Metric: Sendable {
        case none
        case extract(country: String, points: Int64, problem: ProblemKind?)
        case certified(points: Int64)
        case external(points: Int64, problem: ProblemKind?)
        case manufacture(country: String, rough: Int64, polished: Int64)
    }

    enum Arrival {
        case hub(split: Bool)
        case manufacturer
        case retailer
    }

    enum Step {
        case startFlow
        case export(lot: String, to: Int, then: Arrival)
        case validate(certificate: String, authority: Int, lots: [String])
        case kpImport(certificate: String, lots: [String], points: Int64)
        case transfer(lots: [String], to: Int, then: Arrival)
        case accept(transfer: UInt64, receiver: Int, lots: [String], then: Arrival)
        case hubRoute(String)
        case poolTimeout(String)
        case weave(x: String, y: String, round: Int)
        case manufacture(String)
        case grade([String])
        case distribute([String])
        case sell(String)
        case incident(site: String, from: String, to: String)
    }

    private var rng: SimulationRandom
    private let tag: String
    private var actors: [Actor] = []
    private var kpAuthority: [String: Int] = [:]
    private var miners: [String: [Int]] = [:]
    private var traders: [String: [Int]] = [:]
    private var manufacturers: [String: [Int]] = [:]
    private var labs: [Int] = []
    private var retailers: [String: [Int]] = [:]
    private var monitor = 0
    private var auditor = 0
    /// Regular sites by producer index: (site id, operator actor index, kind).
    private var sites: [[(id: String, operator: Int)]] = []
    private var siteCountry: [String: String] = [:]
    private var incidentSite = ("", 0)
    private var unattestedSite = ("", 0)

    private var lots: [String: Lot] = [:]
    private var pools: [Int: [String]] = [:]
    private var problemOf: [String: ProblemKind] = [:]
    private var buffer: [Unsigned] = []
    private var bufferStart = 0
    private var generated = 0
    private var counter = 0
    private var certificates = 0
    private var reports = 0
    private var deepStarted = 0

    private var queue = StepQueue()
    private var now: Int64 = 0
    private let flowInterval: Int64

    /// 2022-12-01T00:00:00Z: set-up.
    static let setupTime: Int64 = 1_669_852_800
    /// 2023-01-02T00:00:00Z: the first production flow.
    static let firstFlow: Int64 = 1_672_617_600
    static let day: Int64 = 86_400
    /// Events a production flow gives on average (measured; sets the pace so flows spread over 2023).
    static let eventsPerFlow = 40.0

    /// A simulator for `configuration`. Fails if `events` cannot hold the set-up.
    public init(_ configuration: SimulationConfiguration) throws {
        self.configuration = configuration
        rng = SimulationRandom(seed: configuration.seed)
        tag = "S\(configuration.seed)"
        guard (0...1).contains(configuration.problemShare) else { throw SimulationError("the problem share must be between 0 and 1") }
        guard configuration.deepGenerations >= 2 else { throw SimulationError("deep chains need at least 2 generations") }
        guard configuration.startIndex >= 1 else { throw SimulationError("the start index must be at least 1 (index 0 is the genesis entry)") }
        let flows = max(1.0, Double(configuration.events) / Self.eventsPerFlow)
        flowInterval = max(60, Int64(360.0 * Double(Self.day) / flows))
        try setUp()
        setupEventCount = buffer.count
        guard configuration.events >= setupEventCount + 1 else {
            throw SimulationError("--events must be more than the \(setupEventCount) set-up events")
        }
        queue.push(Self.firstFlow, .startFlow)
    }

    // MARK: Handing out

    /// The next envelope, signed on this thread; nil when all have been handed out.
    public func next() throws -> EventEnvelope? {
        guard let u = try nextUnsigned() else { return nil }
        return try EventEnvelope.sign(body: u.body, with: u.key)
    }

    /// Up to `max` next envelopes, signed on all cores; empty when all have been handed out.
    public func nextBatch(max: Int) async throws -> [EventEnvelope] {
        var items: [Unsigned] = []
        items.reserveCapacity(max)
        while items.count < max, let u = try nextUnsigned() { items.append(u) }
        let signed = await ParallelVerifier.mapAsync(items) { u -> Result<EventEnvelope, LedgerError> in
            do throws(LedgerError) { return .success(try EventEnvelope.sign(body: u.body, with: u.key)) } catch { return .failure(error) }
        }
        return try signed.map { try $0.get() }
    }

    private func nextUnsigned() throws -> Unsigned? {
        guard emitted < configuration.events else { return nil }
        while bufferStart >= buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
            guard let (time, step) = queue.pop() else { throw SimulationError("the simulation ran out of work") }
            now = time
            try run(step)
        }
        let u = buffer[bufferStart]
        bufferStart += 1
        emitted += 1
        record(u)
        return u
    }

    private func record(_ u: Unsigned) {
        statistics.eventsByType[u.type, default: 0] += 1
        switch u.metric {
        case .none: break
        case .extract(let country, let points, let problem):
            statistics.flows += 1
            if let problem { statistics.problemFlows[problem, default: 0] += 1 }
            statistics.extractedPoints[country, default: 0] += points
        case .certified(let points): statistics.certifiedPoints += points
        case .external(let points, let problem):
            statistics.flows += 1
            if let problem { statistics.problemFlows[problem, default: 0] += 1 }
            statistics.certifiedPoints += points
        case .manufacture(let country, let rough, let polished):
            statistics.manufacturedRoughPoints[country, default: 0] += rough
            statistics.polishedPoints[country, default: 0] += polished
        }
    }

    /// Builds the body of `draft` signed by actor `signer` at simulated time `at` (seconds) and queues it.
    /// Returns the log index it will have.
    @discardableResult
    private func emit(_ draft: EventDraft, by signer: Int, at: Int64, _ metric: Metric = .none) throws -> UInt64 {
        let index = configuration.startIndex + UInt64(generated)
        generated += 1
        let nonce = Hex.encode(SHA256.hash(Array("custody-simulation \(configuration.seed) \(generated)".utf8)).prefix(16))
        let actor = signer < 0 ? nil : actors[signer]
        let body = try draft.body(signer: actor?.id ?? configuration.registrarID, occurredAt: Self.stamp(at), nonce: nonce)
        buffer.append(Unsigned(body: body, key: actor?.key ?? configuration.registrar, type: draft.type, metric: metric))
        return index
    }

    /// Replaces the random-salted commitment `field` of `draft` by one with a salt from the seed, so output is
    /// reproducible. (The disclosure is not kept: the simulator's values are not secrets.)
    private func recommit(_ draft: EventDraft, _ field: String, _ value: JSONValue) -> EventDraft {
        let disclosure = JSONObject([("salt", .string(Base64.encode(rng.bytes16()))), ("value", value)])
        var fields = draft.fields
        fields.set(field, .string(Commitment.commitment(of: disclosure)))
        return EventDraft(type: draft.type, fields: fields)
    }

    static func stamp(_ seconds: Int64) -> String { RFC3339.format(millis: seconds * 1000) }
    static func date(_ seconds: Int64) -> String { String(stamp(seconds).prefix(10)) }

    private func newID(_ prefix: String) -> String {
        counter += 1
        return "\(tag)-\(prefix)\(counter)"
    }

    private func schedule(after range: ClosedRange<Int64>, _ step: Step) {
        queue.push(now + rng.int(range), step)
    }

    // MARK: Set-up

    private func setUp() throws {
        let t = tag.lowercased()
        func actor(_ name: String, _ country: String, _ roles: [Role], _ legal: String) -> Int {
            let id = "\(t)-\(name)"
            let key = try! SigningKey(seed: SHA256.hash(Array("custody-simulation \(configuration.seed) key \(id)".utf8)))
            actors.append(Actor(id: id, key: key, country: country, roles: roles, legalName: legal))
            return actors.count - 1
        }
        for p in World.producers {
            kpAuthority[p.country] = actor("kp-\(p.country.lowercased())", p.country, [.kpAuthority], "KP Authority of \(p.country) (simulated)")
            miners[p.country] = (1...p.miners).map {
                actor("miner-\(p.country.lowercased())-\($0)", p.country, [.miner, .exporter], "Simulated Mining \(p.country) \($0)")
            }
        }
        for h in World.hubs {
            if kpAuthority[h.country] == nil {
                kpAuthority[h.country] = actor("kp-\(h.country.lowercased())", h.country, [.kpAuthority], "KP Authority of \(h.country) (simulated)")
            }
            traders[h.country] = (1...h.traders).map {
                actor("trader-\(h.country.lowercased())-\($0)", h.country, [.importer, .exporter, .trader], "Simulated \(h.city) Rough Trading \($0)")
            }
        }
        for c in World.cutting {
            manufacturers[c.country] = (1...c.manufacturers).map {
                actor("cutter-\(c.country.lowercased())-\($0)", c.country, [.importer, .manufacturer], "Simulated Polishing Works \(c.country) \($0)")
            }
        }
        labs = World.labs.map { actor("lab-\($0.lowercased())", $0, [.laboratory], "Simulated Gem Laboratory \($0)") }
        for r in World.retail {
            retailers[r.country] = [actor("retail-\(r.country.lowercased())", r.country, [.retailer], "Simulated Jewellers \(r.country)")]
        }
        retailers["US"]!.append(actor("retail-us-2", "US", [.retailer], "Simulated Jewellers US 2"))
        monitor = actor("monitor", "GB", [.monitor], "Simulated Rights Monitor")
        auditor = actor("auditor", "CH", [.auditor], "Simulated Due-Diligence Auditors")

        var time = Self.setupTime
        for a in actors {
            try emit(try EventDraft.participantRegister(participant: a.id, legalName: a.legalName, country: a.country, roles: a.roles,
                                                        publicKeys: [a.key.publicKey]), by: -1, at: time)
            time += 60
        }
        var attest: [String] = []
        func site(_ id: String, _ p: World.Producer, _ s: (region: String, kind: SiteKind, latE6: Int64, lonE6: Int64), _ op: Int) throws {
            try emit(try EventDraft.siteRegister(site: id, name: "Simulated \(s.kind.rawValue) site \(id)", country: p.country, region: s.region,
                                                 latE6: s.latE6, lonE6: s.lonE6, kind: s.kind, operator: actors[op].id), by: op, at: time)
            siteCountry[id] = p.country
            time += 60
        }
        for p in World.producers {
            var list: [(id: String, operator: Int)] = []
            for (j, s) in p.sites.enumerated() {
                let id = "\(tag)-\(p.country)-M\(j + 1)"
                let op = miners[p.country]![j % p.miners]
                try site(id, p, s, op)
                list.append((id, op))
                if s.kind == .artisanal { attest.append(id) }
            }
            sites.append(list)
        }
        // Problem sites, used only by problem flows so the problem share stays what was asked.
        let zw = World.producers.first { $0.country == "ZW" }!, cd = World.producers.first { $0.country == "CD" }!
        incidentSite = ("\(tag)-ZW-M9", miners["ZW"]![0])
        try site(incidentSite.0, zw, ("Manicaland", .alluvial, -19_700_000, 32_300_000), incidentSite.1)
        unattestedSite = ("\(tag)-CD-M9", miners["CD"]![0])
        try site(unattestedSite.0, cd, ("Kasai", .artisanal, -5_800_000, 21_000_000), unattestedSite.1)
        for id in attest {
            let uri = "https://audits.example.org/\(tag.lowercased())/\(id).pdf"
            try emit(try EventDraft.attestation(subject: .site(id), claim: "due-diligence",
                                                evidence: .init(uri: uri, contents: Array("audit report \(id)".utf8))), by: auditor, at: time)
            time += 60
        }
    }

    // MARK: Steps

    private func run(_ step: Step) throws {
        switch step {
        case .startFlow: try startFlow()
        case .export(let lot, let to, let then): try export(lot, to: to, then: then)
        case .validate(let certificate, let authority, let ids):
            try emit(try EventDraft.kpValidate(certificate: certificate), by: authority, at: now + shift(ids))
            schedule(after: 2 * Self.day...8 * Self.day, .kpImport(certificate: certificate, lots: ids, points: ids.reduce(0) { $0 + lots[$1]!.points }))
        case .kpImport(let certificate, let ids, let points):
            let then = pendingArrival.removeValue(forKey: certificate)!
            let importer = pendingImporter.removeValue(forKey: certificate)!
            let authority = kpAuthority[actors[importer].country]!
            let at = now + shift(ids)
            try emit(try EventDraft.kpImport(certificate: certificate, parcels: ids, carats: points, receivedOn: Self.date(at)), by: authority, at: at)
            for id in ids {
                lots[id]!.holder = importer
                lots[id]!.busy = false
                arrive(id, then)
            }
        case .transfer(let ids, let to, let then):
            let live = ids.filter { lots[$0] != nil }
            guard let first = live.first else { return }
            let from = lots[first]!.holder
            var draft = try EventDraft.custodyTransfer(parcels: live, to: actors[to].id)
            if rng.chance(0.5) {
                let total = live.reduce(0) { $0 + lots[$1]!.points } * rng.int(2_000...6_000)
                draft = recommit(try EventDraft.custodyTransfer(parcels: live, to: actors[to].id, terms: .string("x")), "termsCommitment",
                                 .object(JSONObject([("priceCents", .integer(total)), ("paymentDays", .integer(rng.pick([30, 60, 90])))])))
            }
            let index = try emit(draft, by: from, at: now + shift(live))
            for id in live { lots[id]!.busy = true }
            schedule(after: Self.day...5 * Self.day, .accept(transfer: index, receiver: to, lots: live, then: then))
        case .accept(let transfer, let receiver, let ids, let then):
            try emit(try EventDraft.custodyAccept(transfer: transfer), by: receiver, at: now + shift(ids))
            for id in ids {
                lots[id]!.holder = receiver
                lots[id]!.busy = false
                arrive(id, then)
            }
        case .hubRoute(let id): try hubRoute(id)
        case .poolTimeout(let id):
            guard let lot = lots[id], lot.inPool else { return }
            pools[lot.holder]?.removeAll { $0 == id }
            lots[id]!.inPool = false
            forward(id)
        case .weave(let x, let y, let round): try weave(x, y, round: round)
        case .manufacture(let id): try manufacture(id)
        case .grade(let stones):
            for id in stones {
                guard let stone = lots[id] else { continue }
                reports += 1
                let lab = rng.pick(labs)
                try emit(try EventDraft.stoneGrade(stone: id, reportNumber: "\(tag)-\(actors[lab].country)-R\(reports)", carats: stone.points,
                                                   color: rng.pick(World.colours), clarity: rng.pick(World.clarities), cut: rng.pick(World.cuts)),
                         by: lab, at: now + stone.shift)
            }
        case .distribute(let stones):
            let market = World.retail[rng.weighted(World.retail.map(\.share))].country
            let to = rng.pick(retailers[market]!)
            try run(.transfer(lots: stones, to: to, then: .retailer))
        case .sell(let id):
            guard let stone = lots[id] else { return }
            let draft = try EventDraft.parcelSale(parcel: id, buyer: "consumer")
            try emit(recommit(draft, "priceCommitment", .integer(stone.points * rng.int(3_000...9_000))), by: stone.holder, at: now + stone.shift)
            lots[id] = nil
        case .incident(let site, let from, let to):
            let category = rng.pick([IncidentCategory.violence, .forcedLabour, .childLabour, .humanRightsAbuse, .armedGroup])
            try emit(try EventDraft.incident(scope: .site(site), category: category, from: from, to: to,
                                             summary: "Simulated \(category.rawValue) report at \(site)",
                                             evidence: .init(uri: "https://monitor.example.org/\(tag.lowercased())/\(site)/\(from).pdf",
                                                             contents: Array("incident \(site) \(from)".utf8))),
                     by: monitor, at: now)
        }
    }

    /// What happens to a certificate's parcels once imported, and who imports them, until the import.
    private var pendingArrival: [String: Arrival] = [:]
    private var pendingImporter: [String: Int] = [:]

    private func shift(_ ids: [String]) -> Int64 { ids.compactMap { lots[$0]?.shift }.max() ?? 0 }

    private func startFlow() throws {
        let jitter = flowInterval / 2
        queue.push(now + flowInterval - jitter + rng.int(0...(2 * jitter)), .startFlow)
        let problem: ProblemKind? = rng.chance(configuration.problemShare) ? rng.pick(ProblemKind.allCases) : nil
        if problem == .externalImport { return try externalImport() }
        let producerIndex: Int
        let site: (id: String, operator: Int)
        switch problem {
        case .siteIncident:
            producerIndex = World.producers.firstIndex { $0.country == "ZW" }!
            site = incidentSite
        case .artisanalWithoutDueDiligence:
            producerIndex = World.producers.firstIndex { $0.country == "CD" }!
            site = unattestedSite
        case .russianRoughMixed:
            producerIndex = World.producers.firstIndex { $0.country == "RU" }!
            site = rng.pick(sites[producerIndex])
        default:
            producerIndex = rng.weighted(World.producers.map(\.productionMct))
            site = rng.pick(sites[producerIndex])
        }
        let producer = World.producers[producerIndex]
        let points = rng.int(Int64(500)...4_000)
        let stones = max(4, points / producer.stonePoints + rng.int(Int64(-2)...2))
        let id = "\(tag)-\(producer.country)-P\(nextCounter())"
        // Russian rough extracted after the G7 ban: the flow's dates run a year on, in 2024.
        let shift: Int64 = problem == .russianRoughMixed ? 365 * Self.day : 0
        let at = now + shift
        try emit(try EventDraft.parcelExtract(parcel: id, site: site.id, carats: points, stones: stones, extractedOn: Self.date(at)),
                 by: site.operator, at: at, .extract(country: producer.country, points: points, problem: problem))
        lots[id] = Lot(id: id, points: points, stones: stones, holder: site.operator, problem: problem, shift: shift)
        if let problem { problemOf[id] = problem }
        if problem == .siteIncident {
            schedule(after: 7 * Self.day...20 * Self.day, .incident(site: site.id, from: Self.date(now - 3 * Self.day), to: Self.date(now + 3 * Self.day)))
        }
        let hub = problem == .russianRoughMixed ? World.hubs.firstIndex { $0.country == "AE" }! : rng.weighted(World.hubs.map(\.share))
        let trader = rng.pick(traders[World.hubs[hub].country]!)
        schedule(after: 2 * Self.day...20 * Self.day, .export(lot: id, to: trader, then: .hub(split: true)))
    }

    private func nextCounter() -> Int {
        counter += 1
        return counter
    }

    private func externalImport() throws {
        let hub = World.hubs[rng.weighted(World.hubs.map(\.share))]
        let importer = rng.pick(traders[hub.country]!)
        let exporting = rng.pick(World.externalExporters)
        certificates += 1
        let certificate = "\(exporting)-\(Self.date(now).prefix(4))-\(tag)-X\(certificates)"
        let count = rng.int(1...2)
        var parcels: [EventDraft.Lot] = []
        for _ in 0..<count {
            let points = rng.int(Int64(500)...4_000)
            parcels.append(.init(parcel: newID("X"), carats: points, stones: max(4, points / 50)))
        }
        let total = parcels.reduce(0) { $0 + $1.carats }
        let draft = try EventDraft.kpImportExternal(
            certificate: certificate, exportingCountry: exporting, importingCountry: hub.country,
            exporterName: "Simulated Exporter of \(exporting)", importer: actors[importer].id, origin: rng.chance(0.5) ? "mixed" : exporting,
            parcels: parcels, carats: total, valueCents: total * 114, issuedOn: Self.date(now - 10 * Self.day),
            expiresOn: Self.date(now + 80 * Self.day), receivedOn: Self.date(now))
        try emit(recommit(draft, "valueCommitment", .integer(total * rng.int(90...130))), by: kpAuthority[hub.country]!, at: now,
                 .external(points: total, problem: .externalImport))
        for p in parcels {
            lots[p.parcel] = Lot(id: p.parcel, points: p.carats, stones: p.stones, holder: importer, problem: .externalImport)
            problemOf[p.parcel] = .externalImport
            arrive(p.parcel, .hub(split: true))
        }
    }

    private func export(_ id: String, to importer: Int, then: Arrival) throws {
        guard var lot = lots[id] else { return }
        let exporter = actors[lot.holder]
        certificates += 1
        let at = now + lot.shift
        let certificate = "\(exporter.country)-\(Self.date(at).prefix(4))-\(tag)-\(certificates)"
        let perCarat = World.producers.first { $0.country == exporter.country }?.dollarsPerCarat ?? 114
        let draft = try EventDraft.kpExport(certificate: certificate, exportingCountry: exporter.country, importingCountry: actors[importer].country,
                                            importer: actors[importer].id, parcels: [id], carats: lot.points, valueCents: 1,
                                            issuedOn: Self.date(at), expiresOn: Self.date(at + 90 * Self.day))
        try emit(recommit(draft, "valueCommitment", .integer(lot.points * perCarat * rng.int(80...125) / 100)), by: lot.holder, at: at,
                 .certified(points: lot.points))
        lot.busy = true
        lots[id] = lot
        pendingArrival[certificate] = then
        pendingImporter[certificate] = importer
        schedule(after: Self.day / 2...2 * Self.day, .validate(certificate: certificate, authority: kpAuthority[exporter.country]!, lots: [id]))
    }

    private func arrive(_ id: String, _ then: Arrival) {
        switch then {
        case .hub(let split):
            if split, let lot = lots[id], lot.stones >= 6, lot.points >= 6 {
                // Split on arrival: the hub's trader sorts the import into lots (done as the route's first step).
                splitOnArrival.insert(id)
            }
            schedule(after: Self.day...5 * Self.day, .hubRoute(id))
        case .manufacturer:
            schedule(after: 3 * Self.day...20 * Self.day, .manufacture(id))
        case .retailer:
            for id in [id] where rng.chance(0.85) { schedule(after: 5 * Self.day...120 * Self.day, .sell(id)) }
        }
    }

    private var splitOnArrival: Set<String> = []

    private func split(_ id: String, into k: Int) throws -> [String] {
        let lot = lots[id]!
        let points = apportion(lot.points, into: k, &rng)
        let stones = apportion(lot.stones, into: k, &rng)
        let outputs = (0..<k).map { EventDraft.Lot(parcel: newID("L"), carats: points[$0], stones: stones[$0]) }
        try emit(try EventDraft.parcelSplit(parcel: id, outputs: outputs), by: lot.holder, at: now + lot.shift)
        lots[id] = nil
        for o in outputs {
            var child = lot
            child.id = o.parcel
            child.points = o.carats
            child.stones = o.stones
            lots[o.parcel] = child
            if let p = lot.problem { problemOf[o.parcel] = p }
        }
        return outputs.map(\.parcel)
    }

    private func mix(_ ids: [String]) throws -> String {
        let inputs = ids.map { lots[$0]! }
        let out = newID("L")
        let points = inputs.reduce(0) { $0 + $1.points }, stones = inputs.reduce(0) { $0 + $1.stones }
        let shift = inputs.map(\.shift).max()!
        try emit(try EventDraft.parcelMix(inputs: ids, output: .init(parcel: out, carats: points, stones: stones)), by: inputs[0].holder, at: now + shift)
        for id in ids { lots[id] = nil }
        let problem = inputs.compactMap(\.problem).first
        lots[out] = Lot(id: out, points: points, stones: stones, holder: inputs[0].holder, problem: problem, shift: shift,
                        hops: inputs.map(\.hops).max()!, mixes: inputs.map(\.mixes).max()! + 1, deep: inputs.contains { $0.deep })
        if let problem { problemOf[out] = problem }
        return out
    }

    private func hubRoute(_ id: String) throws {
        guard let lot = lots[id] else { return }
        if splitOnArrival.remove(id) != nil {
            for child in try split(id, into: rng.int(2...3)) { schedule(after: Self.day...4 * Self.day, .hubRoute(child)) }
            return
        }
        let trader = lot.holder
        if lot.problem == nil, !lot.deep, deepDue(), lot.stones >= 8, lot.points >= 16 {
            deepStarted += 1
            let pair = try split(id, into: 2)
            for p in pair { lots[p]!.deep = true }
            schedule(after: Self.day...2 * Self.day, .weave(x: pair[0], y: pair[1], round: 0))
            return
        }
        var pool = pools[trader] ?? []
        pool.removeAll { lots[$0] == nil }
        if lot.problem == .russianRoughMixed, lot.mixes == 0, let partner = pool.first {
            // Post-ban Russian rough laundered into a clean lot in Dubai.
            pool.removeFirst()
            pools[trader] = pool
            lots[partner]!.inPool = false
            forward(try mix([id, partner]))
            return
        }
        if lot.problem == nil, lot.mixes == 0, !lot.deep {
            if !pool.isEmpty, rng.chance(0.4) {
                let partners = Array(pool.prefix(rng.int(1...2)))
                pool.removeFirst(partners.count)
                pools[trader] = pool
                for p in partners { lots[p]!.inPool = false }
                forward(try mix([id] + partners))
                return
            }
            if rng.chance(0.3) {
                pool.append(id)
                pools[trader] = pool
                lots[id]!.inPool = true
                schedule(after: 10 * Self.day...30 * Self.day, .poolTimeout(id))
                return
            }
        }
        pools[trader] = pool
        forward(id)
    }

    private func deepDue() -> Bool {
        guard deepStarted < configuration.deepChains else { return false }
        let span = Double(configuration.events - setupEventCount) * 0.8
        return Double(generated - setupEventCount) >= (Double(deepStarted) + 0.5) * span / Double(configuration.deepChains)
    }

    /// Sends a lot on from its hub: to another hub (at most twice), or to a manufacturer.
    private func forward(_ id: String) {
        guard let lot = lots[id] else { return }
        let here = actors[lot.holder].country
        if lot.hops < 2, !lot.deep, rng.chance(0.8) {
            let others = World.hubs.filter { $0.country != here }
            let hub = others[rng.weighted(others.map(\.share))]
            lots[id]!.hops += 1
            schedule(after: Self.day...10 * Self.day, .export(lot: id, to: rng.pick(traders[hub.country]!), then: .hub(split: rng.chance(0.5))))
            return
        }
        let cutting = World.cutting[rng.weighted(World.cutting.map(\.share))]
        let cutter = rng.pick(manufacturers[cutting.country]!)
        if cutting.country == here {
            schedule(after: Self.day...5 * Self.day, .transfer(lots: [id], to: cutter, then: .manufacturer))
        } else {
            schedule(after: 2 * Self.day...10 * Self.day, .export(lot: id, to: cutter, then: .manufacturer))
        }
    }

    private func weave(_ x: String, _ y: String, round: Int) throws {
        // Split both lots, then mix each half with the other's: two generations of lineage per round.
        let xs = try split(x, into: 2), ys = try split(y, into: 2)
        let x2 = try mix([xs[0], ys[1]]), y2 = try mix([ys[0], xs[1]])
        let rounds = (configuration.deepGenerations + 1) / 2
        if round + 1 < rounds {
            schedule(after: Self.day...2 * Self.day, .weave(x: x2, y: y2, round: round + 1))
        } else {
            deepLineageParcels += [x2, y2]
            forward(x2)
            forward(y2)
        }
    }

    private func manufacture(_ id: String) throws {
        guard let lot = lots[id] else { return }
        let permille = lot.problem == .implausibleYield ? rng.int(Int64(850)...950) : rng.int(Int64(420)...580)
        let polished = max(1, lot.points * permille / 1000)
        let n = Int(min(Int64(rng.int(2...8)), lot.stones, polished))
        let weights = apportion(polished, into: n, &rng)
        let stones = weights.map { EventDraft.Stone(stone: newID("D"), carats: $0) }
        let cutter = actors[lot.holder]
        try emit(try EventDraft.parcelManufacture(parcel: id, polished: stones), by: lot.holder, at: now + lot.shift,
                 .manufacture(country: cutter.country, rough: lot.points, polished: polished))
        lots[id] = nil
        for s in stones {
            lots[s.stone] = Lot(id: s.stone, points: s.carats, stones: 1, holder: lot.holder, polished: true, problem: lot.problem,
                                shift: lot.shift, hops: lot.hops, deep: lot.deep)
            if let p = lot.problem { problemOf[s.stone] = p }
            if lot.deep { deepLineageParcels.append(s.stone) }
        }
        let graded = stones.filter { $0.carats >= 30 && rng.chance(0.6) }.map(\.stone)
        if !graded.isEmpty { schedule(after: 3 * Self.day...10 * Self.day, .grade(graded)) }
        schedule(after: 12 * Self.day...40 * Self.day, .distribute(stones.map(\.stone)))
    }
}

/// Steps ordered by simulated time, then by insertion: a binary min-heap.
struct StepQueue {
    private var heap: [(time: Int64, seq: Int, step: Simulator.Step)] = []
    private var seq = 0

    mutating func push(_ time: Int64, _ step: Simulator.Step) {
        seq += 1
        heap.append((time, seq, step))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (Int64, Simulator.Step)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, less(l, m) { m = l }
            if r < heap.count, less(r, m) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return (top.time, top.step)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].time != heap[b].time ? heap[a].time < heap[b].time : heap[a].seq < heap[b].seq
    }
}
