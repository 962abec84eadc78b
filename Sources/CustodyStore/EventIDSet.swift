import Foundation

/// A set of event ids kept in a temporary SQLite file, so that an auditor can detect a repeated event in
/// a log of any size with bounded memory (SQLite's page cache, not the log size, bounds it).
public final class EventIDSet {
    private let connection: SQLiteConnection
    private let path: String
    private var pending = 0

    /// A new, empty set in the temporary directory; the file is removed on deinit.
    public init() throws {
        path = NSTemporaryDirectory() + "/custody-audit-\(getpid())-\(UUID().uuidString).sqlite"
        connection = try SQLiteConnection(path: path, create: true)
        // Scratch data: no journal, no fsync; 16 MiB of page cache at most.
        try connection.execute("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;
            CREATE TABLE ids (occurred_ms INTEGER NOT NULL, id BLOB NOT NULL, idx INTEGER NOT NULL,
                PRIMARY KEY (occurred_ms, id)) WITHOUT ROWID;
            BEGIN;
            """)
    }

    /// Commits the set to its file, for a comparison that may run on another thread while this set stays
    /// alive (its file is removed on deinit) and unchanged.
    public func committed() throws -> Snapshot {
        connection.resetAll()
        try connection.execute("COMMIT; BEGIN")
        pending = 0
        return Snapshot(path: path)
    }

    /// The set as committed to its file (`committed()`).
    public struct Snapshot: Sendable {
        let path: String

        /// Whether a log database's event-key index (schema version 3), up to index `size`, holds exactly this
        /// set: the same (occurredAt, id, index) rows, compared in key order in one pass. (A running daemon
        /// may have added keys past `size` since this set was built.)
        public func matchesEventKeys(of store: LogStore, below size: UInt64) throws -> Bool {
            try store.withAttached(path) { reader in
                let mine = try reader.statement("SELECT occurred_ms, event_id, idx FROM main.event_keys WHERE idx < ? ORDER BY occurred_ms, event_id")
                mine.bind(1, Int64(size))
                let theirs = try reader.statement("SELECT occurred_ms, id, idx FROM replay.ids ORDER BY occurred_ms, id")
                return try mine.sameRows(as: theirs)
            }
        }
    }

    deinit {
        try? connection.execute("COMMIT")
        unlink(path)
        unlink(path + "-journal")
    }

    /// Inserts the keys of consecutive entries in multi-row statements, and returns the first of them that
    /// repeats an earlier event (of an earlier call or of this one) with that event's index. `keys[i]` is nil
    /// for an entry without a readable key (it is skipped). Ids after a repeat are inserted all the same; the
    /// caller stops at the repeat.
    public func insert(_ keys: [(id: [UInt8], occurredAt: Int64, index: UInt64)?]) throws -> (index: UInt64, earlier: UInt64)? {
        let rows = keys.compactMap { $0 }
        var repeated: (index: UInt64, earlier: UInt64)?
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + SQLiteConnection.rowsPerInsert, rows.count)]
            try connection.insertRows("INSERT OR IGNORE INTO ids (occurred_ms, id, idx)", columns: 3, count: chunk.count) { s, row, p in
                let key = chunk[chunk.startIndex + row]
                s.bind(p, key.occurredAt)
                s.bind(p + 1, key.id)
                s.bind(p + 2, Int64(key.index))
            }
            // Fewer rows than keys: some key was already there. Which one, by looking each up (only in a bad log).
            if repeated == nil && Int(connection.changes) < chunk.count {
                let lookup = try connection.statement(literal: "SELECT idx FROM ids WHERE occurred_ms = ? AND id = ?")
                for key in chunk {
                    lookup.reset()
                    lookup.bind(1, key.occurredAt)
                    lookup.bind(2, key.id)
                    if try lookup.step(), UInt64(lookup.int64(0)) != key.index {
                        repeated = (key.index, UInt64(lookup.int64(0)))
                        break
                    }
                }
                lookup.reset()
            }
            start += chunk.count
        }
        pending += rows.count
        if pending >= 50_000 {
            try connection.execute("COMMIT; BEGIN")
            pending = 0
        }
        return repeated
    }
}
