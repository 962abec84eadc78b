import CustodyLog
import Foundation

/// Reads shared by read and write transactions.
public class LogQueries: MerkleNodeReader {
    let connection: SQLiteConnection

    init(connection: SQLiteConnection) { self.connection = connection }

    /// Tree size of the latest signed checkpoint (the committed size of the log), 0 when empty.
    public func treeSize() throws -> UInt64 {
        UInt64(try connection.scalarInt("SELECT MAX(tree_size) FROM checkpoints") ?? 0)
    }

    /// Number of entry rows, which equals `treeSize()` in an intact log.
    public func entryCount() throws -> UInt64 {
        UInt64(try connection.scalarInt("SELECT COUNT(*) FROM entries") ?? 0)
    }

    /// The lowest and highest entry index, nil when there is no entry: two index lookups, where `entryCount()`
    /// reads every row. Given that every index below the tree size was read, as an audit's replay does, the
    /// log holds no other row exactly when these are 0 and size − 1.
    public func entryIndexRange() throws -> ClosedRange<Int64>? {
        guard let first = try connection.scalarInt("SELECT idx FROM entries ORDER BY idx LIMIT 1"),
              let last = try connection.scalarInt("SELECT idx FROM entries ORDER BY idx DESC LIMIT 1") else { return nil }
        return first...last
    }

    /// The latest signed checkpoint note, if any.
    public func latestCheckpoint() throws -> (size: UInt64, note: String)? {
        let s = try connection.statement(literal: "SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1")
        guard try s.step() else { return nil }
        return (UInt64(s.int64(0)), s.text(1))
    }


    /// Every signed checkpoint in increasing size, streamed to `body`.
    public func forEachCheckpoint(_ body: (UInt64, String) throws -> Void) throws {
        let s = try connection.statement(literal: "SELECT tree_size, note FROM checkpoints ORDER BY tree_size")
        while try s.step() { try body(UInt64(s.int64(0)), s.text(1)) }
    }

    /// The entry at `index`, or nil.
    public func entry(at index: UInt64) throws -> LogEntry? {
        // Exactly this index: the next row after a gap is another entry.
        try entries(start: index, limit: 1).first.flatMap { $0.index == index ? $0 : nil }
    }

    /// Up to `limit` entries from `start`, in index order.
    public func entries(start: UInt64, limit: Int) throws -> [LogEntry] {
        try readEntries(start: start, limit: limit, auditing: false).entries
    }

    /// Up to `limit` entries from `start`, in index order, with what else an audit checks of their rows: each
    /// row's event-id column, and the storage class of every column (see `StoredColumns`). One pass over the rows.
    public func entriesWithStoredColumns(start: UInt64, limit: Int) throws -> (entries: [LogEntry], columns: StoredColumns) {
        try readEntries(start: start, limit: limit, auditing: true)
    }

    /// The rows of `entries(start:limit:)`, and with `auditing` their `StoredColumns` (otherwise empty).
    private func readEntries(start: UInt64, limit: Int, auditing: Bool) throws -> (entries: [LogEntry], columns: StoredColumns) {
        let s = try connection.statement(
            "SELECT idx, leaf_input, leaf_hash, chain_hash, logged_at, event_id FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?")
        s.bind(1, Int64(start))
        s.bind(2, Int64(limit))
        var entries: [LogEntry] = [], columns = StoredColumns()
        entries.reserveCapacity(min(limit, 4096))
        if auditing { columns.reserveCapacity(min(limit, 4096)) }
        while try s.step() {
            // The storage classes first: SQLite's answer is undefined once a value has been read as another type.
            let typed = !auditing || (s.isBlob(1) && s.isBlob(2) && s.isBlob(3) && s.isInteger(4) && s.isBlob(5))
            let problem = typed ? nil : [(Int32(1), "leaf_input"), (2, "leaf_hash"), (3, "chain_hash"), (5, "event_id")]
                .first { !s.isBlob($0.0) }
                .map { "stored \($0.1) is not a blob, as custodyd writes it: its storage class was changed" }
                ?? "stored logged_at is not an integer, as custodyd writes it: its storage class was changed"
            let idIsBlob = typed || s.isBlob(5)
            entries.append(LogEntry(index: UInt64(s.int64(0)), leafInput: s.blob(1), leafHash: s.blob(2),
                                    chainHash: s.blob(3), loggedAtMillis: s.int64(4)))
            guard auditing else { continue }
            s.withBlob(5) { columns.appendEventID($0, isBlob: idIsBlob) }
            if let problem { columns.markLast(problem) }
        }
        return (entries, columns)
    }

    /// The log index of the event with this id (SHA-256 of its canonical body) and `occurredAt` (milliseconds,
    /// from the same body), if logged.
    public func index(ofEvent eventID: [UInt8], occurredAt: Int64) throws -> UInt64? {
        let s = try connection.statement(literal: "SELECT idx FROM event_keys WHERE occurred_ms = ? AND event_id = ?")
        s.bind(1, occurredAt)
        s.bind(2, eventID)
        return try s.step() ? UInt64(s.int64(0)) : nil
    }

    /// Whether the file has the event-key index (schema version 3 and later).
    public var hasEventKeys: Bool {
        get throws { try connection.scalarInt("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'event_keys'") == 1 }
    }

    /// Checkpoint rows keyed below size 1, which no replay reaches: the daemon signs none for an empty tree.
    public func checkpointRowsBelowSizeOne() throws -> Int {
        Int(try connection.scalarInt("SELECT COUNT(*) FROM checkpoints WHERE tree_size < 1") ?? 0)
    }

    /// The file's schema version (`PRAGMA user_version`).
    public func schemaVersion() throws -> Int {
        Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
    }

    /// What in the file's tables contradicts the schema version it states, if anything: the tables that version
    /// has and the later ones dropped (`LogStore.migrate`). A file whose version was set back passes nothing
    /// off as older, and the daemon would then fail to migrate it.
    public func schemaVersionMismatch() throws -> String? {
        let version = try schemaVersion()
        // Table, and the versions that have it.
        let tables: [(String, ClosedRange<Int>)] = [("event_keys", 3...LogStore.schemaVersion), ("parcel_events", 1...2), ("event_summaries", 1...3)]
        let exists = try connection.statement(literal: "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?")
        defer { exists.reset() }
        for (table, versions) in tables {
            exists.reset()
            exists.bind(1, table)
            guard try exists.step() else { continue }
            let has = exists.int64(0) == 1
            if has != versions.contains(version) {
                return "the database states schema version \(version) but \(has ? "has" : "lacks") the \(table) table"
            }
        }
        return nil
    }

    /// The triggers and views in the file, by type and name. custodyd creates none, and either can change what
    /// reads return or what writes do.
    public func triggersAndViews() throws -> [String] {
        let s = try connection.statement(literal: "SELECT type || ' ' || name FROM sqlite_schema WHERE type IN ('trigger', 'view') ORDER BY name")
        defer { s.reset() }
        var found: [String] = []
        while try s.step() { found.append(s.text(0)) }
        return found
    }

    /// Whether the event-key index is defined as custodyd defines it: its primary key is what finds a repeated
    /// event, so without it the daemon would log an event twice. Nil when the file has no such table.
    public func eventKeysDefinitionIntact() throws -> Bool? {
        guard try hasEventKeys else { return nil }
        // Its structure, not its SQL text: the primary key (occurred_ms, event_id), in a WITHOUT ROWID table.
        let key = try connection.statement(literal: "SELECT name FROM pragma_table_info('event_keys') WHERE pk > 0 ORDER BY pk")
        defer { key.reset() }
        var columns: [String] = []
        while try key.step() { columns.append(key.text(0)) }
        // A rowid table with that primary key has a 'pk' index too, but its index holds the rowid (column -1) as
        // well; a WITHOUT ROWID table's is the table. (`pragma_table_list` would say so directly, from SQLite 3.37.)
        let pk = try connection.scalarInt("SELECT COUNT(*) FROM pragma_index_list('event_keys') WHERE origin = 'pk'")
        let rowidColumns = try connection.scalarInt("""
            SELECT COUNT(*) FROM pragma_index_list('event_keys') AS l, pragma_index_xinfo(l.name) AS x
            WHERE l.origin = 'pk' AND x.cid = -1
            """)
        let withoutRowID = pk == 1 && rowidColumns == 0
        return columns == ["occurred_ms", "event_id"] && withoutRowID
    }

    /// Rows of the event-key index, which equals the entry count once it is filled.
    public func eventKeyCount() throws -> UInt64 {
        UInt64(try connection.scalarInt("SELECT COUNT(*) FROM event_keys") ?? 0)
    }


    /// Number of stored perfect-subtree rows of level ≥ 1.
    public func nodeCount() throws -> UInt64 {
        UInt64(try connection.scalarInt("SELECT COUNT(*) FROM nodes") ?? 0)
    }

    /// The stored hash of a perfect subtree, or nil when absent.
    public func storedNode(level: Int, index: UInt64) throws -> [UInt8]? {
        if level == 0 {
            let s = try connection.statement(literal: "SELECT leaf_hash FROM entries WHERE idx = ?")
            s.bind(1, Int64(index))
            return try s.step() ? s.blob(0) : nil
        }
        let s = try connection.statement(literal: "SELECT hash FROM nodes WHERE id = ?")
        s.bind(1, LogStore.nodeID(level: level, index: index))
        return try s.step() ? s.blob(0) : nil
    }

    /// `MerkleNodeReader`: a missing node is an integrity error, never silently zero.
    public func node(level: Int, index: UInt64) throws -> [UInt8] {
        guard let hash = try storedNode(level: level, index: index) else {
            throw StoreError("tree node level \(level) index \(index) is missing")
        }
        return hash
    }

    /// The custody state tables, read (and in a write transaction, written) in this transaction.
    public var domain: DomainTables { DomainTables(connection: connection, summaries: .logEntries) }
}

/// Reads inside one snapshot.
public final class LogReadTransaction: LogQueries {}

/// Writes inside one transaction; see `LogStore.write`.
public final class LogWriteTransaction: LogQueries {
    /// Inserts an entry row. The caller supplies every hash; the store checks only its own constraints.
    public func insert(entry: LogEntry, eventID: [UInt8]) throws {
        let s = try connection.statement(
            "INSERT INTO entries (idx, event_id, leaf_input, leaf_hash, chain_hash, logged_at) VALUES (?, ?, ?, ?, ?, ?)")
        s.bind(1, Int64(entry.index))
        s.bind(2, eventID)
        s.bind(3, entry.leafInput)
        s.bind(4, entry.leafHash)
        s.bind(5, entry.chainHash)
        s.bind(6, entry.loggedAtMillis)
        try s.run()
    }

    /// Records the key of the event to be logged at `index`; false (and nothing written) if an event with this
    /// key is already logged. The sequencer records each event's key as it sequences it and writes the entry
    /// rows of the whole batch afterwards (`insert(entries:)`).
    public func insertEventKey(_ eventID: [UInt8], occurredAt: Int64, index: UInt64) throws -> Bool {
        let s = try connection.statement(literal: "INSERT INTO event_keys (occurred_ms, event_id, idx) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        s.bind(1, occurredAt)
        s.bind(2, eventID)
        s.bind(3, Int64(index))
        try s.run()
        return connection.changes == 1
    }

    /// Inserts entry rows, in multi-row statements.
    public func insert(entries: [(entry: LogEntry, eventID: [UInt8])]) throws {
        try connection.insertRows("INSERT OR FAIL INTO entries (idx, event_id, leaf_input, leaf_hash, chain_hash, logged_at)",
                                  columns: 6, count: entries.count) { s, row, p in
            let (entry, eventID) = entries[row]
            s.bind(p, Int64(entry.index))
            s.bind(p + 1, eventID)
            s.bind(p + 2, entry.leafInput)
            s.bind(p + 3, entry.leafHash)
            s.bind(p + 4, entry.chainHash)
            s.bind(p + 5, entry.loggedAtMillis)
        }
    }

    /// Inserts perfect subtrees completed by appends, in multi-row statements.
    public func insert(nodes: [MerkleFrontier.Node]) throws {
        try connection.insertRows("INSERT OR FAIL INTO nodes (id, hash)", columns: 2, count: nodes.count) { s, row, p in
            s.bind(p, LogStore.nodeID(level: nodes[row].level, index: nodes[row].index))
            s.bind(p + 1, nodes[row].hash)
        }
    }

    /// Stores a signed checkpoint.
    public func insert(checkpointNote note: String, size: UInt64) throws {
        let s = try connection.statement(literal: "INSERT INTO checkpoints (tree_size, note) VALUES (?, ?)")
        s.bind(1, Int64(size))
        s.bind(2, note)
        try s.run()
    }

}

extension LogQueries {
    /// Signed checkpoints with `from < tree_size <= to`, in increasing size; the first `limit` of them, if given.
    public func checkpoints(after from: UInt64, through to: UInt64, limit: Int = -1) throws -> [(size: UInt64, note: String)] {
        // LIMIT -1 is no limit in SQLite.
        let s = try connection.statement(literal:
            "SELECT tree_size, note FROM checkpoints WHERE tree_size > ? AND tree_size <= ? ORDER BY tree_size LIMIT ?")
        defer { s.reset() }
        s.bind(1, Int64(clamping: from))
        s.bind(2, Int64(clamping: to))
        s.bind(3, Int64(limit))
        var out: [(UInt64, String)] = []
        while try s.step() { out.append((UInt64(s.int64(0)), s.text(1))) }
        return out
    }

    /// The sizes in `from + 1 ... to` whose checkpoint row's note is not text, as custodyd writes it (a blob with
    /// the same bytes reads the same, so only its type shows the change); empty in an intact log.
    public func checkpointSizesNotText(after from: UInt64, through to: UInt64) throws -> Set<UInt64> {
        let s = try connection.statement(literal:
            "SELECT tree_size FROM checkpoints WHERE tree_size > ? AND tree_size <= ? AND typeof(note) <> 'text'")
        defer { s.reset() }
        s.bind(1, Int64(clamping: from))
        s.bind(2, Int64(clamping: to))
        var out: Set<UInt64> = []
        while try s.step() { out.insert(UInt64(bitPattern: s.int64(0))) }
        return out
    }

    /// Stored perfect subtrees of one level ≥ 1 with index in `from...through`: element `i` is the one of index
    /// `from + i`, nil where there is none.
    public func storedNodes(level: Int, from: UInt64, through: UInt64) throws -> [[UInt8]?] {
        let s = try connection.statement(literal: "SELECT id, hash FROM nodes WHERE id BETWEEN ? AND ?")
        s.bind(1, LogStore.nodeID(level: level, index: from))
        s.bind(2, LogStore.nodeID(level: level, index: through))
        var out = [[UInt8]?](repeating: nil, count: Int(through - from + 1))
        while try s.step() {
            // Only rows of this level and range: in a file whose `nodes.id` is not an integer column, BETWEEN
            // compares as text and lets other ids through (the audit's count of node rows then fails it).
            let id = s.int64(0)
            guard id >= LogStore.nodeID(level: level, index: from), id <= LogStore.nodeID(level: level, index: through) else { continue }
            // A hash of another storage class (text with the same bytes) is wrong: an empty hash matches none.
            out[Int(UInt64(id & ((1 << 48) - 1)) - from)] = s.isBlob(1) ? s.blob(1) : []
        }
        return out
    }

}
