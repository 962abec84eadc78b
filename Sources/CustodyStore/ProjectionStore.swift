import CustodyLog
import Foundation

/// A versioned record of a projection: the body a fold wrote for `(kind, key)` at log index `from`, valid
/// until the event at `to` superseded it (nil while current).
public struct ProjectionRecord: Sendable, Equatable {
    /// What the record is (e.g. "parcel", "lineage").
    public let kind: String
    /// Which one (e.g. the parcel id).
    public let key: String
    /// Index of the event that wrote it.
    public let from: UInt64
    /// Index of the event that superseded it, if any (as seen by the reader).
    public let to: UInt64?
    /// The body: canonical JSON written by the fold.
    public let body: [UInt8]
}

/// The projections' own SQLite file, beside the log: derived data only, rebuilt from the log whenever it is
/// deleted or out of date.
///
/// Storage is generic on purpose: every projection is a set of records `(kind, key, from, to, body)`, where
/// `from` is the log index that wrote the record and `to` the one that replaced it. That one shape gives every
/// projection as-of queries for free ("as of tree size N" sees the rows with `from < N` and not replaced
/// before N), and a rebuild can be compared with the incremental build byte for byte. The fold that decides
/// what the records mean lives in `CustodyProjections`.
public final class ProjectionStore: @unchecked Sendable {
    /// Version of the record layout; a file with another version is rebuilt.
    public static let formatVersion: Int64 = 1

    /// Path of the database file.
    public let path: String
    private let writer: SQLiteConnection
    private let writerLock = NSLock()
    private let reader: SQLiteConnection
    private let readerLock = NSLock()

    /// Opens (creating if needed) the projection file at `path`. A file written by another format version is
    /// emptied, since its records can always be rebuilt from the log.
    public init(path: String) throws(StoreError) {
        self.path = path
        writer = try SQLiteConnection(path: path, create: true)
        try writer.execute("PRAGMA journal_mode=WAL")
        // Derived data: a crash may lose the last batches, which the next catch-up re-derives from the log.
        try writer.execute("PRAGMA synchronous=NORMAL")
        try writer.execute("PRAGMA cache_size=-32768")
        let version = try writer.scalarInt("PRAGMA user_version") ?? 0
        if version != Self.formatVersion {
            try writer.execute("""
                BEGIN;
                DROP TABLE IF EXISTS records;
                DROP TABLE IF EXISTS meta;
                CREATE TABLE records (
                    kind TEXT NOT NULL,
                    key TEXT NOT NULL,
                    from_idx INTEGER NOT NULL,
                    to_idx INTEGER,
                    body BLOB NOT NULL,
                    PRIMARY KEY (kind, key, from_idx)
                ) WITHOUT ROWID;
                CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
                INSERT INTO meta VALUES ('applied_size', 0);
                INSERT INTO meta VALUES ('last_leaf_hash', x'');
                PRAGMA user_version = \(Self.formatVersion);
                COMMIT;
                """)
        }
        reader = try SQLiteConnection(path: path)
    }

    /// How many log entries the records reflect (entries `0..<appliedSize`).
    public func appliedSize() throws -> UInt64 {
        try read { try $0.appliedSize }
    }

    /// Runs `body` in one write transaction. Folds call it once per batch of log entries.
    public func write<T>(_ body: (ProjectionWriter) throws -> T) throws -> T {
        writerLock.lock()
        defer { writerLock.unlock() }
        return try writer.transaction { try body(ProjectionWriter(db: writer)) }
    }

    /// Runs `body` on one consistent snapshot of the records.
    public func read<T>(_ body: (ProjectionReader) throws -> T) throws -> T {
        readerLock.lock()
        defer { readerLock.unlock() }
        return try reader.readTransaction { try body(ProjectionReader(db: reader)) }
    }

    /// The version of the fold that wrote the records (0 if none recorded). A fold whose meaning changed
    /// bumps its version, and its owner rebuilds records written by another.
    public func foldVersion() throws -> Int64 {
        try read { r in try r.db.scalarInt("SELECT value FROM meta WHERE name = 'fold_version'") ?? 0 }
    }

    /// Empties the store and records that `version` of the fold writes it from now on.
    public func reset(foldVersion version: Int64) throws {
        try write { w in
            try w.db.execute("DELETE FROM records; UPDATE meta SET value = 0 WHERE name = 'applied_size'; UPDATE meta SET value = x'' WHERE name = 'last_leaf_hash'")
            let s = try w.db.statement("INSERT OR REPLACE INTO meta (name, value) VALUES ('fold_version', ?1)")
            s.bind(1, version)
            try s.run()
        }
    }

    /// Deletes every record, so the next catch-up rebuilds from index 0.
    public func reset() throws {
        try write { w in
            try w.db.execute("DELETE FROM records; UPDATE meta SET value = 0 WHERE name = 'applied_size'; UPDATE meta SET value = x'' WHERE name = 'last_leaf_hash'")
        }
    }
}

/// Reads records as of a tree size.
public struct ProjectionReader {
    let db: SQLiteConnection

    /// Entries the records reflect.
    public var appliedSize: UInt64 {
        get throws { UInt64(try db.scalarInt("SELECT value FROM meta WHERE name = 'applied_size'") ?? 0) }
    }

    /// Leaf hash of the last entry the records reflect: lets the owner notice the projections were built
    /// from another log (or a log that was cut back) and rebuild.
    public var lastLeafHash: [UInt8] {
        get throws {
            let s = try db.statement("SELECT value FROM meta WHERE name = 'last_leaf_hash'")
            defer { s.reset() }
            guard try s.step() else { return [] }
            return s.blob(0)
        }
    }

    /// The record of `(kind, key)` in force at tree size `size`: written before `size`, not replaced before it.
    public func get(_ kind: String, _ key: String, asOf size: UInt64) throws -> ProjectionRecord? {
        let s = try db.statement("""
            SELECT from_idx, to_idx, body FROM records
            WHERE kind = ?1 AND key = ?2 AND from_idx < ?3 AND (to_idx IS NULL OR to_idx >= ?3)
            ORDER BY from_idx DESC LIMIT 1
            """)
        defer { s.reset() }
        s.bind(1, kind)
        s.bind(2, key)
        s.bind(3, Int64(size))
        guard try s.step() else { return nil }
        return Self.record(s, kind: kind, key: key, size: size)
    }

    /// Every record of `(kind, key)` in force at `size`, oldest first (list-shaped projections append several).
    public func list(_ kind: String, _ key: String, asOf size: UInt64) throws -> [ProjectionRecord] {
        let s = try db.statement("""
            SELECT from_idx, to_idx, body FROM records
            WHERE kind = ?1 AND key = ?2 AND from_idx < ?3 AND (to_idx IS NULL OR to_idx >= ?3)
            ORDER BY from_idx
            """)
        defer { s.reset() }
        s.bind(1, kind)
        s.bind(2, key)
        s.bind(3, Int64(size))
        var out: [ProjectionRecord] = []
        while try s.step() { out.append(Self.record(s, kind: kind, key: key, size: size)) }
        return out
    }

    /// Keys of `kind` with a record in force at `size`, in key order after `after`, at most `limit`.
    public func keys(_ kind: String, after: String?, limit: Int, asOf size: UInt64) throws -> [String] {
        let s = try db.statement("""
            SELECT DISTINCT key FROM records
            WHERE kind = ?1 AND key > ?2 AND from_idx < ?3 AND (to_idx IS NULL OR to_idx >= ?3)
            ORDER BY key LIMIT ?4
            """)
        defer { s.reset() }
        s.bind(1, kind)
        s.bind(2, after ?? "")
        s.bind(3, Int64(size))
        s.bind(4, Int64(limit))
        var out: [String] = []
        while try s.step() { out.append(s.text(0)) }
        return out
    }

    /// Every record in force at `size`, in (kind, key, from) order, with `to` cut at `size` (a replacement at
    /// or after `size` is not visible then). Two stores that derived the same log agree on this sequence
    /// byte for byte, whatever batches they were built in; `body` is called once per record, streaming.
    public func forEachRecord(asOf size: UInt64, _ body: (ProjectionRecord) throws -> Void) throws {
        let s = try db.statement("""
            SELECT kind, key, from_idx, to_idx, body FROM records
            WHERE from_idx < ?1 AND (to_idx IS NULL OR to_idx >= ?1)
            ORDER BY kind, key, from_idx
            """)
        defer { s.reset() }
        s.bind(1, Int64(size))
        while try s.step() {
            try body(ProjectionRecord(kind: s.text(0), key: s.text(1), from: UInt64(s.int64(2)), to: nil, body: s.blob(4)))
        }
    }

    private static func record(_ s: SQLiteStatement, kind: String, key: String, size: UInt64) -> ProjectionRecord {
        let to = s.isNull(1) ? nil : UInt64(s.int64(1))
        return ProjectionRecord(kind: kind, key: key, from: UInt64(s.int64(0)), to: to.flatMap { $0 < size ? $0 : nil },
                                body: s.blob(2))
    }
}

/// Writes records inside one transaction of `ProjectionStore.write`.
public struct ProjectionWriter {
    let db: SQLiteConnection

    /// The current (not replaced) record of `(kind, key)`: what a fold reads back to update it.
    public func current(_ kind: String, _ key: String) throws -> ProjectionRecord? {
        let s = try db.statement("""
            SELECT from_idx, body FROM records WHERE kind = ?1 AND key = ?2 AND to_idx IS NULL
            ORDER BY from_idx DESC LIMIT 1
            """)
        defer { s.reset() }
        s.bind(1, kind)
        s.bind(2, key)
        guard try s.step() else { return nil }
        return ProjectionRecord(kind: kind, key: key, from: UInt64(s.int64(0)), to: nil, body: s.blob(1))
    }

    /// Every current record of `(kind, key)`, oldest first.
    public func currentList(_ kind: String, _ key: String) throws -> [ProjectionRecord] {
        let s = try db.statement("""
            SELECT from_idx, body FROM records WHERE kind = ?1 AND key = ?2 AND to_idx IS NULL ORDER BY from_idx
            """)
        defer { s.reset() }
        s.bind(1, kind)
        s.bind(2, key)
        var out: [ProjectionRecord] = []
        while try s.step() { out.append(ProjectionRecord(kind: kind, key: key, from: UInt64(s.int64(0)), to: nil, body: s.blob(1))) }
        return out
    }

    /// Writes the new version of a single-valued record: the current one (if any) ends at `index`.
    public func put(_ kind: String, _ key: String, at index: UInt64, body: [UInt8]) throws {
        let close = try db.statement("UPDATE records SET to_idx = ?3 WHERE kind = ?1 AND key = ?2 AND to_idx IS NULL AND from_idx < ?3")
        close.bind(1, kind)
        close.bind(2, key)
        close.bind(3, Int64(index))
        try close.run()
        try insert(kind, key, at: index, body: body)
    }

    /// Adds one more record to a list-shaped `(kind, key)`; earlier ones stay in force.
    public func append(_ kind: String, _ key: String, at index: UInt64, body: [UInt8]) throws {
        try insert(kind, key, at: index, body: body)
    }

    /// Records that the projections now reflect entries `0..<size`, the last of which has `lastLeafHash`.
    public func setApplied(size: UInt64, lastLeafHash: [UInt8]) throws {
        let s = try db.statement("UPDATE meta SET value = ?1 WHERE name = 'applied_size'")
        s.bind(1, Int64(size))
        try s.run()
        let h = try db.statement("UPDATE meta SET value = ?1 WHERE name = 'last_leaf_hash'")
        h.bind(1, lastLeafHash)
        try h.run()
    }

    /// Entries the records reflect.
    public var appliedSize: UInt64 {
        get throws { UInt64(try db.scalarInt("SELECT value FROM meta WHERE name = 'applied_size'") ?? 0) }
    }

    private func insert(_ kind: String, _ key: String, at index: UInt64, body: [UInt8]) throws {
        let s = try db.statement("INSERT INTO records (kind, key, from_idx, to_idx, body) VALUES (?1, ?2, ?3, NULL, ?4)")
        s.bind(1, kind)
        s.bind(2, key)
        s.bind(3, Int64(index))
        s.bind(4, body)
        do { try s.run() } catch {
            throw StoreError("projection record \(kind)/\(key) written twice at index \(index): \(error)")
        }
    }
}
