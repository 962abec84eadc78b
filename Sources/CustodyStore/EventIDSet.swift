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
            CREATE TABLE ids (id BLOB PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;
            BEGIN;
            """)
    }

    deinit {
        try? connection.execute("COMMIT")
        unlink(path)
        unlink(path + "-journal")
    }

    /// Inserts `id` seen at `index`; returns the earlier index if the id was already present.
    public func insert(_ id: [UInt8], index: UInt64) throws -> UInt64? {
        // One statement in the common case: the insert is ignored only for a repeat, which is then looked up.
        let insert = try connection.statement("INSERT OR IGNORE INTO ids (id, idx) VALUES (?, ?)")
        insert.bind(1, id)
        insert.bind(2, Int64(index))
        try insert.run()
        if connection.changes == 0 {
            let lookup = try connection.statement("SELECT idx FROM ids WHERE id = ?")
            lookup.bind(1, id)
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
