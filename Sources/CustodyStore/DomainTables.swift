import CustodyDomain
import CustodyModel
import Foundation

/// The custody state as indexed SQLite tables: what the rules read and what their changes write. The same
/// tables live in the log database (kept by the daemon in each append transaction) and in an auditor's
/// scratch database (rebuilt by replay), so both judge events with the same code and every lookup is a
/// point read.
public final class DomainTables: DomainState {
    let connection: SQLiteConnection
    /// Where an event's type and signer come from (see `EventSummaries`).
    let summaries: EventSummaries

    /// Where `eventSummary(at:)` reads an event's type and signer.
    enum EventSummaries {
        /// From the stored envelope in `entries`: a log database holds the log itself, so a table of what its
        /// entries say would be a second copy, written on every append.
        case logEntries
        /// From `event_summaries`, written as events are applied: an auditor's scratch database, which holds the
        /// derived state but not the log.
        case table
    }

    init(connection: SQLiteConnection, summaries: EventSummaries) {
        self.connection = connection
        self.summaries = summaries
    }

    /// The tables, created in a new log database or scratch database. Columns added after schema version 1
    /// (`LogStore.migrate`) come last in their table, as `ALTER TABLE … ADD COLUMN` puts them in a migrated file,
    /// so a replay's tables compare column for column with a migrated log's.
    static let schema = """
        CREATE TABLE participants (id TEXT PRIMARY KEY, legal_name TEXT NOT NULL, country TEXT NOT NULL,
            roles TEXT NOT NULL, registered_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE keys (key_id TEXT PRIMARY KEY, participant TEXT NOT NULL, public_key BLOB NOT NULL,
            added_at INTEGER NOT NULL, retired_from INTEGER, revoked_at INTEGER) WITHOUT ROWID;
        CREATE INDEX keys_participant ON keys (participant);
        CREATE TABLE sites (id TEXT PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL, region TEXT NOT NULL,
            lat_e6 INTEGER NOT NULL, lon_e6 INTEGER NOT NULL, kind TEXT NOT NULL, operator TEXT NOT NULL,
            registered_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE parcels (id TEXT PRIMARY KEY, form TEXT NOT NULL, carats INTEGER NOT NULL, stones INTEGER NOT NULL,
            custodian TEXT NOT NULL, status TEXT NOT NULL, pending INTEGER, created_at INTEGER NOT NULL,
            last_index INTEGER NOT NULL, last_occurred_at INTEGER NOT NULL, history TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
        CREATE TABLE certificates (number TEXT PRIMARY KEY, exporting TEXT NOT NULL, importing TEXT NOT NULL,
            exporter TEXT NOT NULL, importer TEXT NOT NULL, parcels TEXT NOT NULL, carats INTEGER NOT NULL,
            issued_on TEXT NOT NULL, expires_on TEXT NOT NULL, exported_at INTEGER NOT NULL, validated_at INTEGER,
            imported_at INTEGER, returned_at INTEGER) WITHOUT ROWID;
        CREATE TABLE transfers (idx INTEGER PRIMARY KEY, sender TEXT NOT NULL, receiver TEXT NOT NULL,
            parcels TEXT NOT NULL, accepted_at INTEGER, cancelled_at INTEGER, rejected_at INTEGER);
        CREATE TABLE grading_reports (number TEXT PRIMARY KEY, stone TEXT NOT NULL, idx INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """

    /// The scratch database's extra table: the type and signer of each event, which a log database reads from
    /// its entries instead.
    static let scratchSchema = schema + """
        CREATE TABLE event_summaries (idx INTEGER PRIMARY KEY, type TEXT NOT NULL, signer TEXT NOT NULL);
        """

    /// Moves a schema version 3 file to version 4: event summaries are read from the entries.
    static let migrationToVersion4 = "DROP TABLE IF EXISTS event_summaries;"

    /// Moves the domain tables of a schema version 1 file to version 2: the closing of transfers by
    /// `custody.cancel` / `custody.reject` and of certificates by `kp.return` (nullable columns, NULL in every
    /// existing row, which is what a replay of a version 1 log derives).
    static let migrationToVersion2 = """
        ALTER TABLE certificates ADD COLUMN returned_at INTEGER;
        ALTER TABLE transfers ADD COLUMN cancelled_at INTEGER;
        ALTER TABLE transfers ADD COLUMN rejected_at INTEGER;
        """

    /// Moves the domain tables of a schema version 2 file to version 3: a parcel's history (the log indexes of
    /// the events that concern it) becomes a column of its row, written with the row, instead of a row per event
    /// in `parcel_events`: one write less per parcel an event touches.
    static let migrationToVersion3 = """
        ALTER TABLE parcels ADD COLUMN history TEXT NOT NULL DEFAULT '';
        UPDATE parcels SET history = coalesce((SELECT group_concat(idx, ',')
            FROM (SELECT idx FROM parcel_events WHERE parcel = parcels.id ORDER BY idx)), '');
        DROP TABLE parcel_events;
        """

    /// Tables derived from the log, each with its primary key, for an auditor's comparison.
    static let derivedTables = [("participants", "id"), ("keys", "key_id"), ("sites", "id"), ("parcels", "id"),
                                ("certificates", "number"), ("transfers", "idx"), ("grading_reports", "number"),
                                ("meta", "key")]

    // MARK: DomainState

    public func participant(_ id: String) throws -> Participant? {
        let s = try connection.statement(literal: "SELECT id, legal_name, country, roles, registered_at FROM participants WHERE id = ?")
        s.bind(1, id)
        guard try s.step() else { return nil }
        return participantRow(s)
    }

    func participantRow(_ s: SQLiteStatement) -> Participant {
        Participant(id: s.text(0), legalName: s.text(1), country: s.text(2),
                    roles: s.text(3).split(separator: ",").compactMap { Role(rawValue: String($0)) },
                    registeredAt: UInt64(s.int64(4)))
    }

    public func key(_ keyID: String) throws -> ParticipantKey? {
        let s = try connection.statement(literal:
            "SELECT key_id, participant, public_key, added_at, retired_from, revoked_at FROM keys WHERE key_id = ?")
        s.bind(1, keyID)
        guard try s.step() else { return nil }
        return keyRow(s)
    }

    func keyRow(_ s: SQLiteStatement) -> ParticipantKey {
        ParticipantKey(keyID: s.text(0), participant: s.text(1), publicKey: s.blob(2), addedAt: UInt64(s.int64(3)),
                       retiredFrom: s.isNull(4) ? nil : UInt64(s.int64(4)), revokedAt: s.isNull(5) ? nil : UInt64(s.int64(5)))
    }

    public func keys(of participant: String) throws -> [ParticipantKey] {
        let s = try connection.statement(literal:
            "SELECT key_id, participant, public_key, added_at, retired_from, revoked_at FROM keys WHERE participant = ? ORDER BY added_at, key_id")
        s.bind(1, participant)
        var out: [ParticipantKey] = []
        while try s.step() { out.append(keyRow(s)) }
        return out
    }

    public func site(_ id: String) throws -> Site? {
        let s = try connection.statement(literal:
            "SELECT id, name, country, region, lat_e6, lon_e6, kind, operator, registered_at FROM sites WHERE id = ?")
        s.bind(1, id)
        guard try s.step() else { return nil }
        return Site(id: s.text(0), name: s.text(1), country: s.text(2), region: s.text(3), latE6: s.int64(4), lonE6: s.int64(5),
                    kind: SiteKind(rawValue: s.text(6)) ?? .industrial, operatorID: s.text(7), registeredAt: UInt64(s.int64(8)))
    }

    public func parcel(_ id: String) throws -> Parcel? {
        let s = try connection.statement(literal: """
            SELECT id, form, carats, stones, custodian, status, pending, created_at, last_index, last_occurred_at
            FROM parcels WHERE id = ?
            """)
        s.bind(1, id)
        guard try s.step() else { return nil }
        return Parcel(id: s.text(0), form: ParcelForm(rawValue: s.text(1)) ?? .rough, carats: s.int64(2), stones: s.int64(3),
                      custodian: s.text(4), status: ParcelStatus(rawValue: s.text(5)) ?? .active,
                      pending: s.isNull(6) ? nil : UInt64(s.int64(6)), createdAt: UInt64(s.int64(7)),
                      lastIndex: UInt64(s.int64(8)), lastOccurredAt: s.int64(9))
    }

    public func certificate(_ number: String) throws -> Certificate? {
        let s = try connection.statement(literal: """
            SELECT number, exporting, importing, exporter, importer, parcels, carats, issued_on, expires_on,
                   exported_at, validated_at, imported_at, returned_at FROM certificates WHERE number = ?
            """)
        s.bind(1, number)
        guard try s.step() else { return nil }
        return Certificate(number: s.text(0), exportingCountry: s.text(1), importingCountry: s.text(2), exporter: s.text(3),
                           importer: s.text(4), parcels: s.text(5).split(separator: ",").map(String.init), carats: s.int64(6),
                           issuedOn: s.text(7), expiresOn: s.text(8), exportedAt: UInt64(s.int64(9)),
                           validatedAt: s.isNull(10) ? nil : UInt64(s.int64(10)), importedAt: s.isNull(11) ? nil : UInt64(s.int64(11)),
                           returnedAt: s.isNull(12) ? nil : UInt64(s.int64(12)))
    }

    public func transfer(at index: UInt64) throws -> Transfer? {
        let s = try connection.statement(literal:
            "SELECT idx, sender, receiver, parcels, accepted_at, cancelled_at, rejected_at FROM transfers WHERE idx = ?")
        s.bind(1, Int64(index))
        guard try s.step() else { return nil }
        return Transfer(index: UInt64(s.int64(0)), sender: s.text(1), receiver: s.text(2),
                        parcels: s.text(3).split(separator: ",").map(String.init), acceptedAt: s.isNull(4) ? nil : UInt64(s.int64(4)),
                        cancelledAt: s.isNull(5) ? nil : UInt64(s.int64(5)), rejectedAt: s.isNull(6) ? nil : UInt64(s.int64(6)))
    }

    public func gradingReport(_ number: String) throws -> UInt64? {
        let s = try connection.statement(literal: "SELECT idx FROM grading_reports WHERE number = ?")
        s.bind(1, number)
        return try s.step() ? UInt64(s.int64(0)) : nil
    }

    public func eventSummary(at index: UInt64) throws -> EventSummary? {
        switch summaries {
        case .table:
            let s = try connection.statement(literal: "SELECT type, signer FROM event_summaries WHERE idx = ?")
            s.bind(1, Int64(index))
            return try s.step() ? EventSummary(type: s.text(0), signer: s.text(1)) : nil
        case .logEntries:
            let s = try connection.statement(literal: "SELECT leaf_input FROM entries WHERE idx = ?")
            s.bind(1, Int64(index))
            guard try s.step() else { return nil }
            let envelope = s.blob(0)
            s.reset()
            guard let summary = Self.summary(ofEnvelope: envelope) else {
                throw StoreError("entry \(index) is not an envelope with a type and a signer")
            }
            return summary
        }
    }

    /// The type and signer in a stored envelope's body: read in place when the envelope is plain canonical (as
    /// almost every one is), parsed otherwise.
    static func summary(ofEnvelope bytes: [UInt8]) -> EventSummary? {
        if let body = CanonicalObjectView(bytes)?["body"]?.object {
            guard let type = body["type"]?.string, let signer = body["signer"]?.string else { return nil }
            return EventSummary(type: type, signer: signer)
        }
        guard case .object(let envelope)? = try? JSONParser.parse(bytes), case .object(let body)? = envelope["body"],
              case .string(let type)? = body["type"], case .string(let signer)? = body["signer"]
        else { return nil }
        return EventSummary(type: type, signer: signer)
    }

    public func meta(_ key: String) throws -> String? {
        let s = try connection.statement(literal: "SELECT value FROM meta WHERE key = ?")
        s.bind(1, key)
        return try s.step() ? s.text(0) : nil
    }

    // MARK: Listing

    /// Every participant, by id.
    public func participants() throws -> [Participant] {
        let s = try connection.statement(literal: "SELECT id, legal_name, country, roles, registered_at FROM participants ORDER BY id")
        var out: [Participant] = []
        while try s.step() { out.append(participantRow(s)) }
        return out
    }

    /// Every key, for the signature pre-check cache.
    public func allKeys() throws -> [ParticipantKey] {
        let s = try connection.statement(literal: "SELECT key_id, participant, public_key, added_at, retired_from, revoked_at FROM keys")
        var out: [ParticipantKey] = []
        while try s.step() { out.append(keyRow(s)) }
        return out
    }

    /// Every parcel id, KP certificate number and grading report number, for the cache's `KeyFilter`.
    func forEachUniqueID(_ body: (KeyFilter.Kind, String) -> Void) throws {
        for (kind, sql) in [(KeyFilter.Kind.parcel, "SELECT id FROM parcels"), (.certificate, "SELECT number FROM certificates"),
                            (.gradingReport, "SELECT number FROM grading_reports")] {
            let s = try connection.statement(sql)
            while try s.step() { body(kind, s.text(0)) }
        }
    }

    /// Log indexes of the events that concern a parcel, in order.
    public func historyIndexes(ofParcel id: String) throws -> [UInt64] {
        let s = try connection.statement(literal: "SELECT history FROM parcels WHERE id = ?")
        s.bind(1, id)
        guard try s.step() else { return [] }
        let indexes = s.text(0).split(separator: ",").compactMap { UInt64($0) }
        s.reset()
        return indexes
    }

    /// Log indexes of the events that concern a parcel, in order, with their type and signer.
    public func history(ofParcel id: String) throws -> [(index: UInt64, summary: EventSummary)] {
        try historyIndexes(ofParcel: id).map { index in
            guard let summary = try eventSummary(at: index) else {
                throw StoreError("parcel \(id) names event \(index), which has no summary")
            }
            return (index, summary)
        }
    }

    // MARK: Writing

    /// Writes the changes of one accepted event.
    public func apply(_ changes: [StateChange]) throws {
        var pending = PendingWrites()
        try apply(changes, deferring: &pending)
        try pending.write(to: self)
    }

    /// Writes the changes of one accepted event, except its parcels and its summary, which `pending` collects
    /// for `PendingWrites.write(to:)` before the transaction ends.
    func apply(_ changes: [StateChange], deferring pending: inout PendingWrites) throws {
        for change in changes {
            if pending.defer(change) { continue }
            switch change {
            case .participant(let p):
                let s = try connection.statement(literal:
                    "INSERT OR REPLACE INTO participants (id, legal_name, country, roles, registered_at) VALUES (?, ?, ?, ?, ?)")
                s.bind(1, p.id); s.bind(2, p.legalName); s.bind(3, p.country)
                s.bind(4, p.roles.map(\.rawValue).joined(separator: ",")); s.bind(5, Int64(p.registeredAt))
                try s.run()
            case .key(let k):
                let s = try connection.statement(literal: """
                    INSERT OR REPLACE INTO keys (key_id, participant, public_key, added_at, retired_from, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
                s.bind(1, k.keyID); s.bind(2, k.participant); s.bind(3, k.publicKey); s.bind(4, Int64(k.addedAt))
                s.bind(5, k.retiredFrom.map(Int64.init)); s.bind(6, k.revokedAt.map(Int64.init))
                try s.run()
            case .site(let site):
                let s = try connection.statement(literal: """
                    INSERT OR REPLACE INTO sites (id, name, country, region, lat_e6, lon_e6, kind, operator, registered_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                s.bind(1, site.id); s.bind(2, site.name); s.bind(3, site.country); s.bind(4, site.region)
                s.bind(5, site.latE6); s.bind(6, site.lonE6); s.bind(7, site.kind.rawValue); s.bind(8, site.operatorID)
                s.bind(9, Int64(site.registeredAt))
                try s.run()
            case .certificate(let c):
                let s = try connection.statement(literal: """
                    INSERT OR REPLACE INTO certificates (number, exporting, importing, exporter, importer, parcels, carats,
                        issued_on, expires_on, exported_at, validated_at, imported_at, returned_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                s.bind(1, c.number); s.bind(2, c.exportingCountry); s.bind(3, c.importingCountry); s.bind(4, c.exporter)
                s.bind(5, c.importer); s.bind(6, c.parcels.joined(separator: ",")); s.bind(7, c.carats); s.bind(8, c.issuedOn)
                s.bind(9, c.expiresOn); s.bind(10, Int64(c.exportedAt)); s.bind(11, c.validatedAt.map(Int64.init))
                s.bind(12, c.importedAt.map(Int64.init)); s.bind(13, c.returnedAt.map(Int64.init))
                try s.run()
            case .transfer(let t):
                let s = try connection.statement(literal:
                    "INSERT OR REPLACE INTO transfers (idx, sender, receiver, parcels, accepted_at, cancelled_at, rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                s.bind(1, Int64(t.index)); s.bind(2, t.sender); s.bind(3, t.receiver); s.bind(4, t.parcels.joined(separator: ","))
                s.bind(5, t.acceptedAt.map(Int64.init)); s.bind(6, t.cancelledAt.map(Int64.init)); s.bind(7, t.rejectedAt.map(Int64.init))
                try s.run()
            case .gradingReport(let number, let stone, let index):
                let s = try connection.statement(literal: "INSERT INTO grading_reports (number, stone, idx) VALUES (?, ?, ?)")
                s.bind(1, number); s.bind(2, stone); s.bind(3, Int64(index))
                try s.run()
            case .parcel, .parcelEvent, .eventSummary:
                preconditionFailure("deferred by PendingWrites")
            case .meta(let key, let value):
                let s = try connection.statement(literal: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                s.bind(1, key); s.bind(2, value)
                try s.run()
            }
        }
    }
}

/// Writes of one transaction held back until its end, so that each is made once and together with others:
/// a parcel touched by several events of a batch is written once with all of their history indexes; new
/// parcels and (in a scratch database) event summaries go in multi-row inserts; and existing parcels are
/// updated in id order, so that neighbouring rows share pages. Reads of the open transaction's parcels are
/// answered from memory by the cache that holds this (`DomainCache`), never from the tables, until
/// `write(to:)`. Its summaries answer for events whose entries the transaction has not written yet.
struct PendingWrites {
    /// Summaries, in index order.
    private var summaries: [(index: UInt64, summary: EventSummary)] = []
    private var parcels: [String: ParcelWrite] = [:]

    private struct ParcelWrite {
        /// The row to write; nil when the transaction only added events to the history of a stored row.
        var row: Parcel?
        /// Whether the row is new: created by an event of this transaction.
        var isNew: Bool
        /// History indexes to add (for a new row, its whole history).
        var history: [UInt64]

        var hasRow: Bool { row != nil }

        mutating func add(_ index: UInt64) {
            if history.last != index { history.append(index) }
        }
    }

    var isEmpty: Bool { summaries.isEmpty && parcels.isEmpty }

    /// Takes `change` if it is one that waits for the end of the transaction.
    mutating func `defer`(_ change: StateChange) -> Bool {
        switch change {
        case .eventSummary(let index, let summary):
            summaries.append((index, summary))
        case .parcel(let p):
            // A parcel is new in the event that creates it (its `createdAt` is that event's index, as is its
            // `lastIndex`); every event that writes it is its `lastIndex` then, and joins its history once.
            if let i = parcels.index(forKey: p.id) {
                // Changed in place: a copy out and back would copy its history too.
                // Only its history was touched so far, by this very event if the event creates it.
                if !parcels.values[i].hasRow && p.createdAt == p.lastIndex { parcels.values[i].isNew = true }
                parcels.values[i].row = p
                parcels.values[i].add(p.lastIndex)
            } else {
                parcels[p.id] = ParcelWrite(row: p, isNew: p.createdAt == p.lastIndex, history: [p.lastIndex])
            }
        case .parcelEvent(let parcel, let index):
            // An event that concerns a parcel without changing it (a KP validation, an attestation).
            parcels[parcel, default: ParcelWrite(row: nil, isNew: false, history: [])].add(index)
        default:
            return false
        }
        return true
    }

    /// The summary of the event at `index`, if it is pending.
    func summary(at index: UInt64) -> EventSummary? {
        // In index order: a binary search (a replay holds thousands between its commits).
        var lo = 0, hi = summaries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if summaries[mid].index < index { lo = mid + 1 } else { hi = mid }
        }
        return lo < summaries.count && summaries[lo].index == index ? summaries[lo].summary : nil
    }

    /// Writes everything held and empties it.
    mutating func write(to tables: DomainTables) throws {
        let connection = tables.connection
        // Positions in the dictionary, sorted by id: sorting the (id, write) pairs themselves moved them around.
        // In the table's own order (BINARY: bytes), which is also cheaper to compare than `String`'s `<`.
        let ordered = parcels.keys.indices.sorted { binaryPrecedes(parcels.keys[$0], parcels.keys[$1]) }
        let new = ordered.filter { parcels.values[$0].isNew }
        try connection.insertRows("""
            INSERT OR FAIL INTO parcels (id, form, carats, stones, custodian, status, pending, created_at, last_index,
                last_occurred_at, history)
            """, columns: 11, count: new.count) { s, row, n in
            let write = parcels.values[new[row]]
            tables.bind(write.row!, to: s, from: n)
            // Most new rows have the one index of the event that made them.
            s.bind(n + 10, write.history.count == 1 ? String(write.history[0]) : write.history.map(String.init).joined(separator: ","))
        }
        // OR FAIL, like the inserts (see `insertRows`): no statement journal for a statement that, if it fails,
        // fails the transaction.
        for i in ordered where !parcels.values[i].isNew {
            let id = parcels.keys[i], write = parcels.values[i]
            let added = write.history.map { ",\($0)" }.joined()
            if let p = write.row {
                let s = try connection.statement(literal: """
                    UPDATE OR FAIL parcels SET form = ?2, carats = ?3, stones = ?4, custodian = ?5, status = ?6, pending = ?7,
                        created_at = ?8, last_index = ?9, last_occurred_at = ?10, history = history || ?11
                    WHERE id = ?1
                    """)
                tables.bind(p, to: s, from: 1)
                s.bind(11, added)
                try s.run()
            } else {
                let s = try connection.statement(literal: "UPDATE OR FAIL parcels SET history = history || ?1 WHERE id = ?2")
                s.bind(1, added)
                s.bind(2, id)
                try s.run()
            }
            guard connection.changes == 1 else { throw StoreError("parcel \(id) was to be updated but has no row") }
        }
        if case .table = tables.summaries { try tables.insert(summaries: summaries) }
        parcels.removeAll(keepingCapacity: true)
        summaries.removeAll(keepingCapacity: true)
    }

    /// Forgets everything held (the transaction rolled back).
    mutating func discard() {
        parcels.removeAll(keepingCapacity: true)
        summaries.removeAll(keepingCapacity: true)
    }
}

extension DomainTables {
    /// Inserts event summaries, in multi-row statements.
    func insert(summaries: [(index: UInt64, summary: EventSummary)]) throws {
        try connection.insertRows("INSERT OR FAIL INTO event_summaries (idx, type, signer)", columns: 3, count: summaries.count) { s, row, p in
            s.bind(p, Int64(summaries[row].index))
            s.bind(p + 1, summaries[row].summary.type)
            s.bind(p + 2, summaries[row].summary.signer)
        }
    }

    /// Binds a parcel's ten columns (id … last_occurred_at, in table order) from parameter `first` on.
    func bind(_ p: Parcel, to s: SQLiteStatement, from first: Int32) {
        s.bind(first, p.id); s.bind(first + 1, p.form.rawValue); s.bind(first + 2, p.carats); s.bind(first + 3, p.stones)
        s.bind(first + 4, p.custodian); s.bind(first + 5, p.status.rawValue); s.bind(first + 6, p.pending.map(Int64.init))
        s.bind(first + 7, Int64(p.createdAt)); s.bind(first + 8, Int64(p.lastIndex)); s.bind(first + 9, p.lastOccurredAt)
    }
}

/// An auditor's scratch database holding the domain tables rebuilt by replay: bounded memory whatever the
/// log size. Removed on deinit.
public final class ScratchDomain {
    /// The tables.
    public let tables: DomainTables
    private let path: String

    /// A new, empty scratch database in the temporary directory.
    public init() throws {
        path = NSTemporaryDirectory() + "/custody-state-\(getpid())-\(UUID().uuidString).sqlite"
        let connection = try SQLiteConnection(path: path, create: true)
        try connection.execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;")
        try connection.execute(DomainTables.scratchSchema)
        try connection.execute("BEGIN")
        tables = DomainTables(connection: connection, summaries: .table)
    }

    /// Commits what was written so far (bounds the scratch transaction).
    public func checkpoint() throws {
        tables.connection.resetAll()
        try tables.connection.execute("COMMIT; BEGIN")
    }

    /// Commits the replayed tables to their file, for a comparison that may run on another thread while this
    /// database stays alive (its file is removed on deinit) and unchanged.
    public func committed() throws -> Snapshot {
        try checkpoint()
        return Snapshot(path: path)
    }

    /// The replayed tables as committed to their file (`committed()`).
    public struct Snapshot: Sendable {
        let path: String

        /// Compares the log database's derived tables with these, as of the log's size `size`: each table in
        /// primary-key order, row by row, column by column (one linear pass, where a set difference each way,
        /// `EXCEPT`, sorted both copies first). In one read transaction that first checks the log is still
        /// at `size`: a running daemon's tables hold the state of what it appended since.
        public func compare(with store: LogStore, atSize size: UInt64) throws -> Comparison {
            try store.withAttached(path) { connection in
                try connection.readTransaction {
                    let latest = UInt64(try connection.scalarInt("SELECT MAX(tree_size) FROM main.checkpoints") ?? 0)
                    if latest != size { return .logGrew(to: latest) }
                    return try firstDifference(connection).map(Comparison.differs) ?? .same
                }
            }
        }

        /// The first derived table that differs, if any.
        private func firstDifference(_ connection: SQLiteConnection) throws -> String? {
            // A file at an older schema version (audited read-only, so never migrated) lacks the columns added
            // since, which its events leave NULL in the replay: it is compared on the columns it has. A file at
            // this version has every column, or was altered.
            let current = try connection.scalarInt("PRAGMA main.user_version") == Int64(LogStore.schemaVersion)
            func columns(_ table: String, in schema: String) throws -> [String] {
                let info = try connection.statement(literal: "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid")
                defer { info.reset() }
                info.bind(1, table)
                info.bind(2, schema)
                var names: [String] = []
                while try info.step() { names.append(info.text(0)) }
                return names
            }
            for (table, key) in DomainTables.derivedTables {
                let names = try columns(table, in: "main")
                if current, names != (try columns(table, in: "replay")) { return table }
                let list = names.isEmpty ? "*" : names.joined(separator: ", ")
                let mine = try connection.statement("SELECT \(list) FROM main.\(table) ORDER BY \(key)")
                let theirs = try connection.statement("SELECT \(list) FROM replay.\(table) ORDER BY \(key)")
                defer {
                    mine.reset()
                    theirs.reset()
                }
                guard try mine.sameRows(as: theirs) else { return table }
            }
            // A file from before schema version 3 keeps parcel histories as rows of `parcel_events`: compared with
            // the replayed history columns, both in (parcel, index) order.
            guard try connection.scalarInt("SELECT COUNT(*) FROM main.sqlite_schema WHERE name = 'parcel_events'") == 1 else {
                return nil
            }
            let rows = try connection.statement(literal: "SELECT parcel, idx FROM main.parcel_events ORDER BY parcel, idx")
            let histories = try connection.statement(literal: "SELECT id, history FROM replay.parcels WHERE history != '' ORDER BY id")
            defer {
                rows.reset()
                histories.reset()
            }
            while try histories.step() {
                let id = histories.text(0)
                for index in histories.text(1).split(separator: ",") {
                    guard try rows.step(), rows.text(0) == id, String(rows.int64(1)) == index else { return "parcel_events" }
                }
            }
            return try rows.step() ? "parcel_events" : nil
        }
    }

    /// What comparing a log database's derived tables with a replay's found.
    public enum Comparison: Sendable, Equatable {
        /// Every table holds the same rows.
        case same
        /// This table (or index) differs.
        case differs(String)
        /// The log had grown to this size, so its tables were not compared.
        case logGrew(to: UInt64)
    }

    deinit {
        tables.connection.resetAll()
        try? tables.connection.execute("COMMIT")
        unlink(path)
    }
}

/// Whether `a` sorts before `b` in SQLite's BINARY collation: their UTF-8 bytes compared with `memcmp`.
func binaryPrecedes(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let common = min(x.count, y.count)
            if common > 0, case let order = memcmp(x.baseAddress!, y.baseAddress!, common), order != 0 { return order < 0 }
            return x.count < y.count
        }
    }
}
