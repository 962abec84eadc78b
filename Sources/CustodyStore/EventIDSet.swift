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

    /// Whether a log database's event-key index (schema version 3) holds exactly this set: the same
    /// (occurredAt, id, index) rows, compared in key order in one pass.
    public func matchesEventKeys(of store: LogStore) throws -> Bool {
        connection.resetAll()
        try connection.execute("COMMIT; BEGIN")
        pending = 0
        return try store.withReader { reader in
            try reader.execute("ATTACH DATABASE '\(path)' AS replay")
            defer {
                reader.resetAll()
                try? reader.execute("DETACH DATABASE replay")
            }
            let mine = try reader.statement("SELECT occurred_ms, event_id, idx FROM main.event_keys ORDER BY occurred_ms, event_id")
            let theirs = try reader.statement("SELECT occurred_ms, id, idx FROM replay.ids ORDER BY occurred_ms, id")
            while true {
                let row = try mine.step()
                guard row == (try theirs.step()) else { return false }
                guard row else { return true }
                for column in 0..<mine.columnCount where !mine.sameValue(column, as: theirs) { return false }
            }
        }
    }

    deinit {
        try? connection.execute("COMMIT")
        unlink(path)
        unlink(path + "-journal")
    }

    /// Inserts `id`, of an event that occurred at `occurredAt` (milliseconds; the same for every repeat, as it is
    /// part of the body the id hashes), seen at `index`; returns the earlier index if the id was already present.
    /// Keyed by time first, like the log's own `event_keys`, so inserts cluster instead of landing at random.
    public func insert(_ id: [UInt8], occurredAt: Int64, index: UInt64) throws -> UInt64? {
        // One statement in the common case: the insert is ignored only for a repeat, which is then looked up.
        let insert = try connection.statement(literal: "INSERT OR IGNORE INTO ids (occurred_ms, id, idx) VALUES (?, ?, ?)")
        insert.bind(1, occurredAt)
        insert.bind(2, id)
        insert.bind(3, Int64(index))
        try insert.run()
        if connection.changes == 0 {
            let lookup = try connection.statement(literal: "SELECT idx FROM ids WHERE occurred_ms = ? AND id = ?")
            lookup.bind(1, occurredAt)
            lookup.bind(2, id)
            defer { lookup.reset() }
            return try lookup.step() ? UInt64(lookup.int64(0)) : nil
        }
        pending += 1
        if pending >= 50_000 {
            try connection.execute("COMMIT; BEGIN")
            pending = 0
        }
        return nil
    }
}
