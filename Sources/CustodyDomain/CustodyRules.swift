import CustodyModel
import CustodyCrypto
import CustodyLog

/// The custody rules: which key may sign an event, and what appending it changes. Pure functions of the
/// state folded from the log, so the daemon at append time and an auditor replaying offline agree.
/// Rule failures throw `RuleViolation`; anything else thrown is a storage failure of the state.
public struct CustodyRules: Sendable {
    /// Settings fixed for the log.
    public let settings: RuleSettings

    /// Rules with `settings`.
    public init(settings: RuleSettings = RuleSettings()) { self.settings = settings }

    /// The key that must have signed the event: for the genesis event the registrar key it names, otherwise a
    /// key registered to the signer and neither retired nor revoked at this index.
    public func signingKey(for facts: EventFacts, state: some DomainState) throws -> PublicKey {
        if facts.index == 0 {
            guard facts.type == Genesis.type else {
                throw RuleViolation("log.genesis-first", .invalid, "the first entry of a log must be log.genesis", pointer: "/body/type")
            }
            let genesis = try Genesis(facts)
            guard facts.keyID == genesis.registrarKey.keyID else {
                throw RuleViolation("key.genesis", .forbidden, "the genesis event must be signed by the registrar key it names", pointer: "/keyId")
            }
            return genesis.registrarKey
        }
        guard let key = try state.key(facts.keyID) else {
            throw RuleViolation("key.unknown", .forbidden, "key \(facts.keyID) is not registered in this log", pointer: "/keyId")
        }
        guard key.participant == facts.signer else {
            throw RuleViolation("key.signer", .forbidden, "key \(facts.keyID) is registered to \(key.participant), not to signer \(facts.signer)",
                                pointer: "/body/signer", logIndex: key.addedAt)
        }
        if let revoked = key.revokedAt, facts.index >= revoked {
            throw RuleViolation("key.revoked", .forbidden, "key \(facts.keyID) was revoked", pointer: "/keyId", logIndex: revoked)
        }
        if let retired = key.retiredFrom, facts.index >= retired {
            throw RuleViolation("key.retired", .forbidden, "key \(facts.keyID) is retired from index \(retired)", pointer: "/keyId", logIndex: retired)
        }
        return try PublicKey(bytes: key.publicKey)
    }

    /// Whether the event is evaluated even where the custody rules are off (the benchmark's comparison, an
    /// audit of the log alone): the genesis and participant events, which register the keys every signature is
    /// checked against.
    public static func registersKeys(_ facts: EventFacts) -> Bool {
        registersKeys(index: facts.index, type: facts.type)
    }

    /// ``registersKeys(_:)`` from the two facts it depends on, before the rest are read.
    public static func registersKeys(index: UInt64, type: String) -> Bool {
        index == 0 || type.hasPrefix("participant.")
    }

    /// The rules' first step, which depends on the event alone: its type is catalogued, at the catalogue's
    /// schema version, with no member its type does not define. Computed beside the signature check, it takes
    /// this work off the sequencer and the audit's fold; ``evaluate(_:state:catalogued:)`` reports its verdict in
    /// the same order as if it had computed it itself.
    public static func catalogue(type: String, body: BodyReader) -> CatalogueVerdict {
        CatalogueVerdict(result: Result { () throws(RuleViolation) in try Catalogue.check(type: type, body: body) })
    }

    /// Applies every rule of appending the event; returns what it changes. Nothing is changed on a throw.
    /// `catalogued` is ``catalogue(type:body:)`` of the same event when the caller computed it beforehand.
    public func evaluate(_ facts: EventFacts, state: some DomainState, catalogued: CatalogueVerdict? = nil) throws -> [StateChange] {
        let kind = try catalogued?.result.get() ?? Catalogue.check(type: facts.type, body: facts.body)
        var context = RuleContext(facts: facts, state: state, settings: settings)
        if facts.index > 0 && kind == .genesis {
            throw RuleViolation("log.genesis-first", .conflict, "log.genesis is allowed only as the first entry", pointer: "/body/type", logIndex: 0)
        }
        // The skew in force is read only when an event claims a time ahead of the log's clock, so ordinary
        // events pay no lookup for it.
        if facts.occurredAt > facts.loggedAt {
            let skew = try context.setting(RuleSettings.clockSkewKey, default: settings.clockSkewMillis)
            guard facts.occurredAt <= facts.loggedAt + skew else {
                throw RuleViolation("time.future", .invalid, "occurredAt is later than the log's clock plus \(skew / 1000) s of skew",
                                    pointer: "/body/occurredAt")
            }
        }
        switch kind {
        case .genesis: try context.genesis()
        case .registerParticipant: try context.registerParticipant()
        case .addKey: try context.addKey()
        case .retireKey: try context.retireKey()
        case .revokeKey: try context.revokeKey()
        case .registerSite: try context.registerSite()
        case .extract: try context.extract()
        case .kpExport: try context.kpExport()
        case .kpValidate: try context.kpValidate()
        case .kpImport: try context.kpImport()
        case .kpImportExternal: try context.kpImportExternal()
        case .kpReturn: try context.kpReturn()
        case .transfer: try context.transfer()
        case .accept: try context.accept()
        case .cancel: try context.cancel()
        case .reject: try context.reject()
        case .split: try context.split()
        case .mix: try context.mix()
        case .assort: try context.assort()
        case .manufacture: try context.manufacture()
        case .grade: try context.grade()
        case .sale: try context.sale()
        case .attest: try context.attest()
        case .incident: try context.incident()
        case .correction: try context.correction()
        case .publishPolicy: try context.publishPolicy()
        }
        context.changes.append(.eventSummary(index: facts.index, EventSummary(type: facts.type, signer: facts.signer)))
        return context.changes
    }
}

/// The working state of one evaluation: reads through to the state, with this event's own changes on top.
struct RuleContext<State: DomainState> {
    let facts: EventFacts
    let state: State
    let settings: RuleSettings
    var changes: [StateChange] = []
    var body: BodyReader { facts.body }
    var index: UInt64 { facts.index }

    init(facts: EventFacts, state: State, settings: RuleSettings) {
        self.facts = facts
        self.state = state
        self.settings = settings
    }

    // MARK: Shared checks

    /// The signer's participant record, which must hold one of `roles` (any role when empty).
    /// A rule setting in force at this index: the registrar's latest `rule-settings`, else `fallback`.
    func setting(_ key: String, default fallback: Int64) throws -> Int64 {
        try state.meta(key).flatMap { Int64($0) } ?? fallback
    }

    func signer(_ roles: Role...) throws -> Participant {
        guard let p = try state.participant(facts.signer) else {
            throw RuleViolation("participant.unknown", .forbidden, "signer \(facts.signer) is not a registered participant", pointer: "/body/signer")
        }
        guard roles.isEmpty || roles.contains(where: p.has) else {
            throw RuleViolation("role", .forbidden,
                                "\(facts.type) needs the role \(roles.map(\.rawValue).joined(separator: " or ")); \(p.id) holds \(p.roles.map(\.rawValue).joined(separator: ", "))",
                                pointer: "/body/signer", logIndex: p.registeredAt)
        }
        return p
    }

    func participant(_ id: String, pointer: String) throws -> Participant {
        guard let p = try state.participant(id) else {
            throw RuleViolation("participant.unknown", .conflict, "participant \(id) is not registered", pointer: pointer)
        }
        return p
    }

    /// A parcel this event may use: it exists, is active, is in the signer's custody, and this event is not
    /// earlier than the parcel's previous one.
    func usableParcel(_ id: String, pointer: String) throws -> Parcel {
        guard let p = try state.parcel(id) else {
            throw RuleViolation("parcel.unknown", .conflict, "parcel \(id) is not in the log", pointer: pointer)
        }
        switch p.status {
        case .consumed:
            throw RuleViolation("parcel.consumed", .conflict, "parcel \(id) was consumed and can never be used again", pointer: pointer, logIndex: p.lastIndex)
        case .sold:
            throw RuleViolation("parcel.sold", .conflict, "parcel \(id) was sold", pointer: pointer, logIndex: p.lastIndex)
        case .inTransit:
            throw RuleViolation("parcel.in-transit", .conflict, "parcel \(id) is in transit until it is received", pointer: pointer, logIndex: p.pending)
        case .active:
            break
        }
        guard p.custodian == facts.signer else {
            throw RuleViolation("parcel.custodian", .forbidden, "parcel \(id) is in the custody of \(p.custodian), not \(facts.signer)",
                                pointer: pointer, logIndex: p.lastIndex)
        }
        try checkOrder(p, pointer: pointer)
        return p
    }

    func checkOrder(_ p: Parcel, pointer: String) throws {
        guard facts.occurredAt >= p.lastOccurredAt else {
            throw RuleViolation("time.order", .conflict, "occurredAt is earlier than parcel \(p.id)'s previous event",
                                pointer: "/body/occurredAt", logIndex: p.lastIndex)
        }
    }

    /// Fails if an id is already a parcel (ids are never reused).
    func requireNewParcel(_ id: String, pointer: String) throws {
        if let existing = try state.parcel(id) {
            throw RuleViolation("parcel.exists", .conflict, "parcel id \(id) is already in the log", pointer: pointer, logIndex: existing.createdAt)
        }
    }

    mutating func touch(_ p: Parcel) {
        var p = p
        p.lastIndex = index
        p.lastOccurredAt = max(p.lastOccurredAt, facts.occurredAt)
        changes.append(.parcel(p))
        changes.append(.parcelEvent(parcel: p.id, index: index))
    }

    mutating func create(_ id: String, form: ParcelForm, carats: Int64, stones: Int64, custodian: String) {
        changes.append(.parcel(Parcel(id: id, form: form, carats: carats, stones: stones, custodian: custodian, status: .active,
                                      createdAt: index, lastIndex: index, lastOccurredAt: facts.occurredAt)))
        changes.append(.parcelEvent(parcel: id, index: index))
    }

    /// Outputs of a split, mix or transformation: `{<idKey>, carats, stones?}` with new, distinct ids.
    func outputs(_ readers: [BodyReader], idKey: String, stonesKey: String?) throws -> [(id: String, carats: Int64, stones: Int64)] {
        var out: [(String, Int64, Int64)] = []
        // A set, not a search of `out`: a batch may list thousands of outputs, and this runs on the sequencer.
        var ids = Set<String>()
        let members = stonesKey.map { [idKey, "carats", $0] } ?? [idKey, "carats"]
        for r in readers {
            try r.closed(to: members)
            let id = try r.id(idKey)
            guard ids.insert(id).inserted else {
                throw RuleViolation("parcel.exists", .invalid, "output id \(id) is listed twice", pointer: r.pointer(idKey))
            }
            try requireNewParcel(id, pointer: r.pointer(idKey))
            let carats = try r.integer("carats", in: 1...JSONValue.maxSafeInteger)
            let stones = try stonesKey.map { k throws(RuleViolation) in try r.integer(k, in: 1...JSONValue.maxSafeInteger) } ?? 1
            out.append((id, carats, stones))
        }
        return out
    }

    /// The total of weights in points or of stone counts, each at most 2^53−1, or nil past 2^53−1: no parcel
    /// weighs or holds that much, and summing on could overflow `Int64`, which traps (an event listing a
    /// thousand outputs of the largest weight would stop the sequencer).
    func total(_ values: some Sequence<Int64>) -> Int64? {
        var sum: Int64 = 0
        for value in values {
            sum += value
            guard sum <= JSONValue.maxSafeInteger else { return nil }
        }
        return sum
    }
}

/// A total from `RuleContext.total` for a message: its value, or that it is past the largest weight.
func describe(total: Int64?) -> String {
    total.map(String.init) ?? "more than \(JSONValue.maxSafeInteger)"
}
