import CustodyLog
import Foundation
import Synchronization

/// The SQLite file that holds the log: entries, perfect Merkle subtrees, signed checkpoints, and the custody
/// state derived from them (`DomainTables`). One writer connection (used by one thread at a time) and a pool of readers; WAL lets readers
/// run beside the writer.
public final class LogStore: Sendable {
    /// Schema version this code writes; older files are migrated forward on open.
    static let schemaVersion = 1

    /// Path of the database file.
    public let path: String
    private let writer: SQLiteConnectionBox
    private let writerLock = NSLock()
    private let readers: ReaderPool

    /// Opens (creating if needed) the log database at `path` for writing.
    public init(path: String, readerCount: Int = 4) throws(StoreError) {
        self.path = path
        let connection = try SQLiteConnection(path: path, create: true)
        // WAL for concurrent readers; synchronous=FULL so a COMMIT is on disk before we acknowledge.
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=FULL")
        try connection.execute("PRAGMA foreign_keys=ON")
        // 64 MiB of page cache for the writer: the random-key indexes (event ids, parcel ids) otherwise read
        // pages back from disk on every batch once the log outgrows SQLite's 2 MB default.
        try connection.execute("PRAGMA cache_size=-65536")
        try Self.migrate(connection)
        writer = SQLiteConnectionBox(connection)
        readers = try ReaderPool(path: path, count: readerCount, readOnly: false)
    }

    /// Opens an existing log database read-only, for auditing. Never writes to it.
    public init(readOnlyPath path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError("no database at \(path)") }
        self.path = path
        let connection = try SQLiteConnection(path: path, readOnly: true)
        writer = SQLiteConnectionBox(connection)
        readers = try ReaderPool(path: path, count: 1, readOnly: true)
        let version = try readers.with { try $0.scalarInt("PRAGMA user_version") } ?? 0
        guard version == Self.schemaVersion else {
            throw StoreError("\(path) has schema version \(version), this tool reads \(Self.schemaVersion)")
        }
    }

    private static func migrate(_ db: SQLiteConnection) throws(StoreError) {
        let version = try db.scalarInt("PRAGMA user_version") ?? 0
        if version > schemaVersion {
            throw StoreError("database schema version \(version) is newer than this build (\(schemaVersion))")
        }
        if version < 1 {
            try db.execute("""
                BEGIN;
                CREATE TABLE entries (
                    idx INTEGER PRIMARY KEY,
                    event_id BLOB NOT NULL UNIQUE,
                    leaf_input BLOB NOT NULL,
                    leaf_hash BLOB NOT NULL,
                    chain_hash BLOB NOT NULL,
                    logged_at INTEGER NOT NULL
                );
                -- Perfect subtrees of level >= 1, keyed by level << 48 | index; level 0 is entries.leaf_hash.
                CREATE TABLE nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
                CREATE TABLE checkpoints (tree_size INTEGER PRIMARY KEY, note TEXT NOT NULL);
                \(DomainTables.schema)
                PRAGMA user_version = 1;
                COMMIT;
                """)
        }
    }

    /// Node id of a perfect subtree of level ≥ 1.
    static func nodeID(level: Int, index: UInt64) -> Int64 { Int64(level) << 48 | Int64(index) }

    // MARK: Writing

    /// Runs `body` in one write transaction (BEGIN IMMEDIATE … COMMIT). The commit is durable
    /// (`synchronous=FULL`) when this returns; on a throw nothing of it is stored.
    public func write<T>(_ body: (LogWriteTransaction) throws -> T) throws -> T {
        try writerLock.withLock {
            try writer.connection.transaction { try body(LogWriteTransaction(connection: writer.connection)) }
        }
    }

    // MARK: Reading

    /// Runs `body` on a reader connection outside any transaction (for ATTACH).
    func withReader<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try readers.with(body)
    }

    /// Runs `body` with a reader connection; reads inside see one consistent snapshot.
    public func read<T>(_ body: (LogReadTransaction) throws -> T) throws -> T {
        try readers.with { connection in
            try connection.readTransaction { try body(LogReadTransaction(connection: connection)) }
        }
    }
}

/// A small pool of reader connections, each used by one thread at a time.
final class ReaderPool: Sendable {
    private let free: Mutex<[SQLiteConnectionBox]>
    private let path: String
    private let readOnly: Bool

    init(path: String, count: Int, readOnly: Bool) throws(StoreError) {
        self.path = path
        self.readOnly = readOnly
        var connections: [SQLiteConnectionBox] = []
        for _ in 0..<max(1, count) {
            let c = try SQLiteConnection(path: path, readOnly: readOnly)
            if !readOnly { try c.execute("PRAGMA query_only=1") }
            connections.append(SQLiteConnectionBox(c))
        }
        free = Mutex(connections)
    }

    func with<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let box = try free.withLock { list -> SQLiteConnectionBox in
            if let b = list.popLast() { return b }
            // All busy: open another rather than wait; it joins the pool when returned.
            let c = try SQLiteConnection(path: path, readOnly: readOnly)
            if !readOnly { try c.execute("PRAGMA query_only=1") }
            return SQLiteConnectionBox(c)
        }
        defer { free.withLock { $0.append(box) } }
        return try body(box.connection)
    }
}

/// A connection moved between threads under the pool's lock; only one thread holds it at a time,
/// which is what SQLite's NOMUTEX mode requires.
final class SQLiteConnectionBox: @unchecked Sendable {
    let connection: SQLiteConnection
    init(_ connection: SQLiteConnection) { self.connection = connection }
}

