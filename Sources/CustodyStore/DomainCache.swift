import CustodyDomain

/// The hot part of the custody state in memory, in front of `DomainTables`: participants, keys and sites
/// (few, and read by almost every event), and a bounded set of recently used parcels, certificates and
/// transfers. Reads hit memory first and fall through to the tables; writes go to the tables (write-through)
/// and to an overlay of the open transaction, which `commit()` merges and `rollback()` drops, so the cache
/// never holds a value that is not in the committed database (or in the open transaction's own writes).
///
/// Only correct while every write to the tables goes through it: one cache per writer connection, used by
/// the one thread that writes (the sequencer, or an auditor's replay).
public final class DomainCache: DomainState {
    private var tables: DomainTables?
    private var committed = Layer()
    private var pending = Layer()
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

        var isEmpty: Bool {
            participants.isEmpty && keys.isEmpty && sites.isEmpty && parcels.isEmpty && certificates.isEmpty && transfers.isEmpty
        }
    }

    /// An empty cache keeping up to `capacity` parcels (and as many certificates and transfers).
    public init(capacity: Int = 65_536) {
        self.capacity = capacity
        committed.parcels.reserveCapacity(capacity)
    }

    /// Starts a transaction on `tables`: reads fall through to them, writes go to them.
    public func begin(_ tables: DomainTables) {
        precondition(pending.isEmpty, "DomainCache.begin inside an open transaction")
        self.tables = tables
    }

    /// The transaction committed: its writes become the cache's.
    public func commit() {
        for (k, v) in pending.participants { committed.participants[k] = v }
        for (k, v) in pending.keys { committed.keys[k] = v }
        for (k, v) in pending.sites { committed.sites[k] = v }
        if committed.parcels.count + pending.parcels.count > capacity { committed.parcels.removeAll(keepingCapacity: true) }
        for (k, v) in pending.parcels { committed.parcels[k] = v }
        if committed.certificates.count + pending.certificates.count > capacity { committed.certificates.removeAll(keepingCapacity: true) }
        for (k, v) in pending.certificates { committed.certificates[k] = v }
        if committed.transfers.count + pending.transfers.count > capacity { committed.transfers.removeAll(keepingCapacity: true) }
        for (k, v) in pending.transfers { committed.transfers[k] = v }
        pending = Layer()
        tables = nil
    }

    /// The transaction rolled back: its writes are forgotten.
    public func rollback() {
        pending = Layer()
        tables = nil
    }

    /// Forgets everything (after the tables were changed other than through this cache).
    public func invalidate() {
        committed = Layer()
        pending = Layer()
        filter = nil
    }

    /// False only when the tables certainly hold no row with this id.
    private func mayExist(_ kind: KeyFilter.Kind, _ id: String) throws -> Bool {
        if filter == nil {
            var loaded = KeyFilter()
            try store.forEachUniqueID { loaded.insert($0, $1) }
            filter = loaded
        }
        return filter!.mayContain(kind, id)
    }

    private var store: DomainTables {
        guard let tables else { preconditionFailure("DomainCache used outside a transaction") }
        return tables
    }

    // MARK: DomainState

    public func participant(_ id: String) throws -> Participant? {
        if let p = pending.participants[id] ?? committed.participants[id] { return p }
        let p = try store.participant(id)
        if let p { committed.participants[id] = p }
        return p
    }

    public func key(_ keyID: String) throws -> ParticipantKey? {
        if let k = pending.keys[keyID] ?? committed.keys[keyID] { return k }
        let k = try store.key(keyID)
        if let k { committed.keys[keyID] = k }
        return k
    }

    public func keys(of participant: String) throws -> [ParticipantKey] { try store.keys(of: participant) }

    public func site(_ id: String) throws -> Site? {
        if let s = pending.sites[id] ?? committed.sites[id] { return s }
        let s = try store.site(id)
        if let s { committed.sites[id] = s }
        return s
    }

    public func parcel(_ id: String) throws -> Parcel? {
        if let p = pending.parcels[id] ?? committed.parcels[id] { return p }
        guard try mayExist(.parcel, id) else { return nil }
        let p = try store.parcel(id)
        if let p, committed.parcels.count < capacity { committed.parcels[id] = p }
        return p
    }

    public func certificate(_ number: String) throws -> Certificate? {
        if let c = pending.certificates[number] ?? committed.certificates[number] { return c }
        guard try mayExist(.certificate, number) else { return nil }
        let c = try store.certificate(number)
        if let c, committed.certificates.count < capacity { committed.certificates[number] = c }
        return c
    }

    public func transfer(at index: UInt64) throws -> Transfer? {
        if let t = pending.transfers[index] ?? committed.transfers[index] { return t }
        let t = try store.transfer(at: index)
        if let t, committed.transfers.count < capacity { committed.transfers[index] = t }
        return t
    }

    public func gradingReport(_ number: String) throws -> UInt64? {
        guard try mayExist(.gradingReport, number) else { return nil }
        return try store.gradingReport(number)
    }

    public func eventSummary(at index: UInt64) throws -> EventSummary? { try store.eventSummary(at: index) }

    public func meta(_ key: String) throws -> String? { try store.meta(key) }

    // MARK: Writing

    /// Writes the changes of one accepted event to the tables and to the open transaction's overlay.
    public func apply(_ changes: [StateChange]) throws {
        try store.apply(changes)
        for change in changes {
            switch change {
            case .participant(let p): pending.participants[p.id] = p
            case .key(let k): pending.keys[k.keyID] = k
            case .site(let s): pending.sites[s.id] = s
            case .parcel(let p):
                pending.parcels[p.id] = p
                filter?.insert(.parcel, p.id)
            case .certificate(let c):
                pending.certificates[c.number] = c
                filter?.insert(.certificate, c.number)
            case .transfer(let t): pending.transfers[t.index] = t
            case .gradingReport(let number, _, _): filter?.insert(.gradingReport, number)
            case .parcelEvent, .eventSummary, .meta: break
            }
        }
    }
}
