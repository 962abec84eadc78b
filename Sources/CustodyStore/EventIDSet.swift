import CustodyCrypto
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
        // Any key cuts the set correctly (both tables are cut by the same predicate); the median cuts it evenly.
        let sorted = sample.sorted { a, b in
            a.occurredAt != b.occurredAt ? a.occurredAt < b.occurredAt
                : a.id.withUnsafeBytes { x in b.id.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, SHA256.byteCount) < 0 } }
        }
        return Snapshot(path: path, middle: sorted.isEmpty ? nil : sorted[sorted.count / 2])
    }

    /// The set as committed to its file (`committed()`).
    public struct Snapshot: Sendable {
        let path: String
        /// A key near the middle of the set, from the sample: the comparison is cut there into two parts that
        /// run side by side, as it comes after the replay's last chunk, when a core would otherwise idle.
        let middle: Key?

        /// How many parts `matchesEventKeys(of:below:part:)` compares: together they hold every key of this set,
        /// and every row of the index (whose primary key, in a WITHOUT ROWID table, cannot hold a NULL).
        public var parts: Int { middle == nil ? 1 : 2 }

        /// Whether a log database's event-key index (schema version 3), up to index `size`, holds exactly this
        /// set, in part `part` of the key range (`parts`): the same (occurredAt, id, index) rows, compared in
        /// key order in one pass. (A running daemon may have added keys past `size` since this set was built.)
        public func matchesEventKeys(of store: LogStore, below size: UInt64, part: Int = 0) throws -> Bool {
            precondition(part < parts, "part \(part) of \(parts)")
            // Row values compared with the primary key's: each part is a range scan of both tables.
            func cut(_ id: String) -> String? {
                middle == nil ? nil : "(occurred_ms, \(id)) \(part == 0 ? "<" : ">=") (?, ?)"
            }
            func bindMiddle(_ s: SQLiteStatement, from p: Int32) {
                guard let middle else { return }
                s.bind(p, middle.occurredAt)
                middle.id.withUnsafeBytes { s.bind(p + 1, $0) }
            }
            return try store.withAttached(path) { reader in
                let mine = try reader.statement("SELECT occurred_ms, event_id, idx FROM main.event_keys WHERE idx < ?"
                    + (cut("event_id").map { " AND " + $0 } ?? "") + " ORDER BY occurred_ms, event_id")
                mine.bind(1, Int64(size))
                bindMiddle(mine, from: 2)
                let theirs = try reader.statement("SELECT occurred_ms, id, idx FROM replay.ids"
                    + (cut("id").map { " WHERE " + $0 } ?? "") + " ORDER BY occurred_ms, id")
                bindMiddle(theirs, from: 1)
                return try mine.sameRows(as: theirs)
            }
        }
    }

    /// An event's key in the set: its `occurredAt` in milliseconds and its id.
    struct Key: Sendable {
        let occurredAt: Int64
        let id: SHA256.Digest
    }

    /// Keys sampled evenly through the order of insertion, every `sampleStride`-th, the stride doubling (and
    /// every other key dropped) whenever the sample is full: bounded, as the set's memory is. Its median cuts
    /// the comparison in parts of about equal size, unless the keys' order repeats with the stride's period.
    private var sample: [Key] = []
    private var sampleStride: UInt64 = 1
    private var inserted: UInt64 = 0
    private static let sampleSize = 256

    private func addToSample(_ key: Key) {
        defer { inserted += 1 }
        guard inserted % sampleStride == 0 else { return }
        if sample.count == Self.sampleSize {
            // Those kept sit at the multiples of the doubled stride, as does this key (the 256th multiple).
            sample = Swift.stride(from: 0, to: sample.count, by: 2).map { sample[$0] }
            sampleStride *= 2
        }
        sample.append(key)
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
    public func insert(_ keys: [(id: SHA256.Digest, occurredAt: Int64, index: UInt64)?]) throws -> (index: UInt64, earlier: UInt64)? {
        let rows = keys.compactMap { $0 }
        for row in rows { addToSample(Key(occurredAt: row.occurredAt, id: row.id)) }
        var repeated: (index: UInt64, earlier: UInt64)?
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + SQLiteConnection.rowsPerInsert, rows.count)]
            try connection.insertRows("INSERT OR IGNORE INTO ids (occurred_ms, id, idx)", columns: 3, count: chunk.count) { s, row, p in
                let key = chunk[chunk.startIndex + row]
                s.bind(p, key.occurredAt)
                key.id.withUnsafeBytes { s.bind(p + 1, $0) }
                s.bind(p + 2, Int64(key.index))
            }
            // Fewer rows than keys: some key was already there. Which one, by looking each up (only in a bad log).
            if repeated == nil && Int(connection.changes) < chunk.count {
                let lookup = try connection.statement(literal: "SELECT idx FROM ids WHERE occurred_ms = ? AND id = ?")
                for key in chunk {
                    lookup.reset()
                    lookup.bind(1, key.occurredAt)
                    key.id.withUnsafeBytes { lookup.bind(2, $0) }
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
