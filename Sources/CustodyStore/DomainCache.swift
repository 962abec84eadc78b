import CustodyDomain

/// The hot part of the custody state in memory, in front of `DomainTables`: participants, keys and sites
/// (few, and read by almost every event), and a bounded set of recently used parcels, certificates and
/// transfers. Reads hit memory first and fall through to the tables; writes go to memory, remembering what
/// they replaced, which `rollback()` puts back, and to the tables: at once, or for parcels and event summaries
/// together at the end of the transaction (`flush()`); so the cache never holds a value that is not in the
/// committed database or in the open transaction's own writes. One dictionary per kind, not a transaction
/// overlay in front of it: a read hashes its key once, and a commit copies nothing.
///
/// Only correct while every write to the tables goes through it: one cache per writer connection, used by
/// the one thread that writes (the sequencer, or an auditor's replay).
public final class DomainCache: DomainState {
    private var tables: DomainTables?
    private var values = Layer()
    /// What the open transaction's writes replaced, oldest first.
    private var undo: [Replaced] = []
    /// The open transaction's parcel rows and event summaries, written together by `flush()` (see
    /// `PendingWrites`); its parcels are read from `values` meanwhile.
    private var pending = PendingWrites()
    /// The parcel, certificate and grading report ids in the tables (and perhaps a few more), loaded on
    /// first use: a definite "no" skips the table read for the new ids that most events create.
    private var filter: KeyFilter?
    /// Most parcels, certificates and transfers kept; participants, keys and sites are always kept.
    public let capacity: Int

    private struct Layer {
        var participants: [String: Participant] = [:]
        var keys: [String: ParticipantKey] = [:]
        var sites: [String: Site] = [:]
        var parcels: [String: Parcel] = [:]
        var certificates: [String: Certificate] = [:]
        var transfers: [UInt64: Transfer] = [:]
    }

    private enum Replaced {
        case participant(String, Participant?)
        case key(String, ParticipantKey?)
        case site(String, Site?)
        case parcel(String, Parcel?)
        case certificate(String, Certificate?)
        case transfer(UInt64, Transfer?)
    }

    /// An empty cache keeping up to `capacity` parcels (and as many certificates and transfers).
    public init(capacity: Int = 65_536) {
        self.capacity = capacity
        values.parcels.reserveCapacity(capacity)
    }

    /// Starts a transaction on `tables`: reads fall through to them, writes go to them.
    public func begin(_ tables: DomainTables) {
        precondition(undo.isEmpty, "DomainCache.begin inside an open transaction")
        self.tables = tables
    }

    /// Writes what `apply` deferred to the tables. Call it inside the transaction, before it commits.
    public func flush() throws {
        try pending.write(to: store)
    }

    /// The transaction committed: its writes stay. Past its capacity a kind is emptied (the tables hold it all).
    public func commit() {
        precondition(pending.isEmpty, "DomainCache.commit without flush: parcels and event summaries were not written")
        undo.removeAll(keepingCapacity: true)
        if values.parcels.count > capacity { values.parcels.removeAll(keepingCapacity: true) }
        if values.certificates.count > capacity { values.certificates.removeAll(keepingCapacity: true) }
        if values.transfers.count > capacity { values.transfers.removeAll(keepingCapacity: true) }
        tables = nil
    }

    /// The transaction rolled back: its writes are forgotten.
    public func rollback() {
        pending.discard()
        for replaced in undo.reversed() {
            switch replaced {
            case .participant(let k, let v): values.participants[k] = v
            case .key(let k, let v): values.keys[k] = v
            case .site(let k, let v): values.sites[k] = v
            case .parcel(let k, let v): values.parcels[k] = v
            case .certificate(let k, let v): values.certificates[k] = v
            case .transfer(let k, let v): values.transfers[k] = v
            }
        }
        undo.removeAll(keepingCapacity: true)
        tables = nil
    }

    /// Forgets everything (after the tables were changed other than through this cache).
    public func invalidate() {
        values = Layer()
        undo.removeAll()
        pending.discard()
        filter = nil
    }

    /// Loads the filter of stored ids from `tables` now, instead of at the first lookup of an id, which is the
    /// first append after opening: on a log of a million parcels the scan takes most of a second, and that
    /// belongs to opening the ledger, not to someone's request. Call it before the first transaction.
    /// Returns the number of ids loaded.
    @discardableResult
    public func preloadFilter(from tables: DomainTables) throws -> Int {
        precondition(self.tables == nil && undo.isEmpty, "DomainCache.preloadFilter inside a transaction")
        return try loadFilter(from: tables)
    }

    /// Fills `filter` with the ids in `tables` and the parcels in memory; the number of ids read from the tables.
    private func loadFilter(from tables: DomainTables) throws -> Int {
        var loaded = KeyFilter()
        var count = 0
        try tables.forEachUniqueID { kind, id in
            loaded.insert(kind, id)
            count += 1
        }
        // The open transaction's new parcels are not in the table until `flush()`, but all are in memory.
        for id in values.parcels.keys { loaded.insert(.parcel, id) }
        filter = loaded
        return count
    }

    /// False only when the tables certainly hold no row with this id.
    private func mayExist(_ kind: KeyFilter.Kind, _ id: String) throws -> Bool {
        if filter == nil { _ = try loadFilter(from: store) }
        return filter!.mayContain(kind, id)
    }

    private var store: DomainTables {
        guard let tables else { preconditionFailure("DomainCache used outside a transaction") }
        return tables
    }

    // MARK: DomainState

    public func participant(_ id: String) throws -> Participant? {
        if let p = values.participants[id] { return p }
        let p = try store.participant(id)
        if let p { values.participants[id] = p }
        return p
    }

    public func key(_ keyID: String) throws -> ParticipantKey? {
        if let k = values.keys[keyID] { return k }
        let k = try store.key(keyID)
        if let k { values.keys[keyID] = k }
        return k
    }

    public func keys(of participant: String) throws -> [ParticipantKey] { try store.keys(of: participant) }

    public func site(_ id: String) throws -> Site? {
        if let s = values.sites[id] { return s }
        let s = try store.site(id)
        if let s { values.sites[id] = s }
        return s
    }

    public func parcel(_ id: String) throws -> Parcel? {
        if let p = values.parcels[id] { return p }
        guard try mayExist(.parcel, id) else { return nil }
        let p = try store.parcel(id)
        if let p, values.parcels.count < capacity { values.parcels[id] = p }
        return p
    }

    public func certificate(_ number: String) throws -> Certificate? {
        if let c = values.certificates[number] { return c }
        guard try mayExist(.certificate, number) else { return nil }
        let c = try store.certificate(number)
        if let c, values.certificates.count < capacity { values.certificates[number] = c }
        return c
    }

    public func transfer(at index: UInt64) throws -> Transfer? {
        if let t = values.transfers[index] { return t }
        let t = try store.transfer(at: index)
        if let t, values.transfers.count < capacity { values.transfers[index] = t }
        return t
    }

    public func gradingReport(_ number: String) throws -> UInt64? {
        guard try mayExist(.gradingReport, number) else { return nil }
        return try store.gradingReport(number)
    }

    public func eventSummary(at index: UInt64) throws -> EventSummary? {
        if let summary = pending.summary(at: index) { return summary }
        return try store.eventSummary(at: index)
    }

    public func meta(_ key: String) throws -> String? { try store.meta(key) }

    // MARK: Writing

    /// Writes the changes of one accepted event to memory, remembering what it replaced, and to the tables (its
    /// parcels and summary at `flush()`).
    public func apply(_ changes: [StateChange]) throws {
        try store.apply(changes, deferring: &pending)
        for change in changes {
            switch change {
            case .participant(let p): undo.append(.participant(p.id, values.participants.updateValue(p, forKey: p.id)))
            case .key(let k): undo.append(.key(k.keyID, values.keys.updateValue(k, forKey: k.keyID)))
            case .site(let s): undo.append(.site(s.id, values.sites.updateValue(s, forKey: s.id)))
            case .parcel(let p):
                undo.append(.parcel(p.id, values.parcels.updateValue(p, forKey: p.id)))
                filter?.insert(.parcel, p.id)
            case .certificate(let c):
                undo.append(.certificate(c.number, values.certificates.updateValue(c, forKey: c.number)))
                filter?.insert(.certificate, c.number)
            case .transfer(let t): undo.append(.transfer(t.index, values.transfers.updateValue(t, forKey: t.index)))
            case .gradingReport(let number, _, _): filter?.insert(.gradingReport, number)
            case .parcelEvent, .eventSummary, .meta: break
            }
        }
    }
}
