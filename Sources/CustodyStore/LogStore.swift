import CustodyCrypto
import CustodyLog
import CustodyModel
import Foundation
import Synchronization

/// The SQLite file that holds the log: entries, perfect Merkle subtrees, signed checkpoints, and the custody
/// state derived from them (`DomainTables`). One writer connection (used by one thread at a time) and a pool of readers; WAL lets readers
/// run beside the writer.
public final class LogStore: Sendable {
    /// Schema version this code writes; older files are migrated forward on open for writing, and read as they
    /// are when opened read-only. 2: transfers and certificates record their closing (`custody.cancel`,
    /// `custody.reject`, `kp.return`). 3: repeats are found through `event_keys`, clustered by time (see
    /// `LogStore.eventKeysSchema`), and a parcel's history is a column of its row (`parcel_events` is gone).
    /// 4: an event's type and signer are read from its entry (`event_summaries` is gone).
    static let schemaVersion = 4

    /// Finds a repeated event. Keyed by the event's own `occurredAt` (milliseconds) before its id, so that
    /// new keys land at the end of the index, where a batch's inserts share a few pages, instead of at
    /// random places: a UNIQUE index on the id alone dirtied about one 4 KiB page per append once the log
    /// outgrew a batch, which made the commit the sequencer's largest cost. The occurredAt is part of the
    /// signed body, so a repeat of an event always has the same key.
    static let eventKeysSchema = """
        CREATE TABLE event_keys (occurred_ms INTEGER NOT NULL, event_id BLOB NOT NULL, idx INTEGER NOT NULL,
            PRIMARY KEY (occurred_ms, event_id)) WITHOUT ROWID;
        """

    /// Path of the database file.
    public let path: String
    private let writer: SQLiteConnectionBox
    private let writerLock = NSLock()
    private let readers: ReaderPool
    /// Copies committed WAL frames into the database file on its own thread (nil when read-only).
    private let checkpointer: WALCheckpointer?

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
        // Statement journals in memory: a statement that may fail part-way keeps the original of each page it
        // changes, so that it alone can be undone; past 64 KiB SQLite spilled them to a temporary file, which
        // on the append path cost more write calls than the WAL itself. (The appends' own writes need none,
        // see `SQLiteConnection.insertRows`.) Set after the migrations, whose table-wide UPDATEs may journal
        // a whole table and are better off spilling it to disk.
        try connection.execute("PRAGMA temp_store=MEMORY")
        // Checkpoints run on their own thread (`WALCheckpointer`), not inside the writer's commits.
        try connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.trackWALFrames()
        writer = SQLiteConnectionBox(connection)
        readers = try ReaderPool(path: path, count: readerCount, readOnly: false)
        checkpointer = try WALCheckpointer(path: path)
    }

    deinit { checkpointer?.stop() }

    /// Opens an existing log database read-only, for auditing. Never writes to it.
    public init(readOnlyPath path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError("no database at \(path)") }
        self.path = path
        let connection = try SQLiteConnection(path: path, readOnly: true)
        writer = SQLiteConnectionBox(connection)
        readers = try ReaderPool(path: path, count: 1, readOnly: true)
        checkpointer = nil
        let version = try readers.with { try $0.scalarInt("PRAGMA user_version") } ?? 0
        // A version 1 file holds no event that closes a transfer or certificate (those types came with
        // version 2), and an audit compares only the columns the file has; so it is audited as it is.
        guard (1...Int64(Self.schemaVersion)).contains(version) else {
            throw StoreError("\(path) has schema version \(version), this tool reads 1 to \(Self.schemaVersion)")
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
                    event_id BLOB NOT NULL,
                    leaf_input BLOB NOT NULL,
                    leaf_hash BLOB NOT NULL,
                    chain_hash BLOB NOT NULL,
                    logged_at INTEGER NOT NULL
                );
                -- Perfect subtrees of level >= 1, keyed by level << 48 | index; level 0 is entries.leaf_hash.
                CREATE TABLE nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
                CREATE TABLE checkpoints (tree_size INTEGER PRIMARY KEY, note TEXT NOT NULL);
                \(eventKeysSchema)
                \(DomainTables.schema)
                PRAGMA user_version = \(schemaVersion);
                COMMIT;
                """)
            return
        }
        if version < 2 {
            try db.execute("""
                BEGIN;
                \(DomainTables.migrationToVersion2)
                PRAGMA user_version = 2;
                COMMIT;
                """)
        }
        if version < 3 {
            // Files from before keep their UNIQUE index on entries.event_id (dropping it means rebuilding the
            // table). The new index is filled from the entries in the same transaction: one pass over the log.
            try db.execute("BEGIN; \(eventKeysSchema) \(DomainTables.migrationToVersion3)")
            do {
                try fillEventKeys(db)
                try db.execute("PRAGMA user_version = 3; COMMIT;")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
        if version < 4 {
            try db.execute("BEGIN; \(DomainTables.migrationToVersion4) PRAGMA user_version = 4; COMMIT;")
        }
    }

    /// Keys every entry by its body's `occurredAt` and event id (SHA-256 of the canonical body). Stored entries
    /// are canonical envelopes, which an audit checks; a row that is not is keyed at time 0 by the hash of its
    /// bytes, so it can never be mistaken for a real event.
    private static func fillEventKeys(_ db: SQLiteConnection) throws(StoreError) {
        let read = try db.statement("SELECT idx, leaf_input FROM entries ORDER BY idx")
        let insert = try db.statement("INSERT INTO event_keys (occurred_ms, event_id, idx) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        while try read.step() {
            let input = read.blob(1)
            var occurredAt: Int64 = 0
            var id = SHA256.hash(input)
            if let envelope = try? JSONParser.parse(input), case .object(let body)? = envelope["body"] {
                id = SHA256.hash(CanonicalJSON.encode(.object(body)))
                occurredAt = body["occurredAt"]?.stringValue.flatMap(RFC3339.millis) ?? 0
            }
            insert.reset()
            insert.bind(1, occurredAt)
            insert.bind(2, id)
            insert.bind(3, read.int64(0))
            try insert.run()
        }
    }

    /// Node id of a perfect subtree of level ≥ 1.
    static func nodeID(level: Int, index: UInt64) -> Int64 { Int64(level) << 48 | Int64(index) }

    // MARK: Writing

    /// Runs `body` in one write transaction (BEGIN IMMEDIATE … COMMIT). The commit is durable
    /// (`synchronous=FULL`) when this returns; on a throw nothing of it is stored.
    public func write<T>(_ body: (LogWriteTransaction) throws -> T) throws -> T {
        let result = try writerLock.withLock {
            let result = try writer.connection.transaction { try body(LogWriteTransaction(connection: writer.connection)) }
            // Under steady appends the background checkpoints never find the WAL fully copied at the moment a
            // transaction begins, which is when SQLite restarts it from its start, so it grew without end
            // (400 MB in 16 s measured): every commit then extended the file. Past the limit the writer
            // finishes the copy itself between two transactions (the background thread has done most of it),
            // and the next transaction writes from the start of the WAL again.
            if checkpointer != nil, writer.connection.walFrames > Self.walRestartFrames {
                try? writer.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            }
            return (result, writer.connection.walFrames)
        }
        checkpointer?.committed(walFrames: result.1)
        return result.0
    }

    /// WAL frames (pages) beyond which the writer completes a checkpoint itself: 32 MiB of 4 KiB pages.
    static let walRestartFrames: Int32 = 8192

    /// Ends background checkpointing after a last checkpoint, once no more appends are coming (the ledger
    /// closed): nothing then touches the file behind the caller's back, and later writes, if any, checkpoint
    /// as SQLite does by default.
    public func finishBackgroundCheckpoints() throws {
        guard let checkpointer else { return }
        checkpointer.stop(wait: true)
        try writerLock.withLock { try writer.connection.execute("PRAGMA wal_autocheckpoint=1000") }
    }

    // MARK: Reading

    /// Runs `body` on a reader connection with the SQLite file at `path` (an auditor's scratch database)
    /// attached as `replay`, to compare the two in SQL.
    func withAttached<T>(_ path: String, _ body: (SQLiteConnection) throws -> T) throws -> T {
        try readers.with { connection in
            // Bound, not spliced into the SQL: the temporary directory's name may hold a quote.
            let attach = try connection.statement(literal: "ATTACH DATABASE ? AS replay")
            attach.bind(1, path)
            _ = try attach.step()
            attach.reset()
            defer {
                connection.resetAll()
                try? connection.execute("DETACH DATABASE replay")
            }
            return try body(connection)
        }
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


/// Moves committed frames from the WAL into the database file (`PRAGMA wal_checkpoint(PASSIVE)`) on a thread
/// of its own, with its own connection, after commits, instead of SQLite's automatic checkpoint, which runs
/// inside the committing transaction and so on the sequencer's critical path. A passive checkpoint never
/// blocks the writer or readers; it copies what no reader still needs, and the writer restarts the WAL from
/// its start once everything was copied. Durability is unchanged: a commit is durable once its WAL frames are
/// synced, which the writer's `synchronous=FULL` does before COMMIT returns; the checkpoint syncs the database
/// file before the WAL may be reused.
final class WALCheckpointer: @unchecked Sendable {
    // `walFrames`, `checkpointed` and `stopping` are guarded by `condition`.
    private let condition = NSCondition()
    /// Frames in the WAL after the latest commit.
    private var walFrames: Int32 = 0
    /// `walFrames` when the last checkpoint started.
    private var checkpointed: Int32 = 0
    private var stopping = false
    private var stopped = false
    /// New WAL frames between checkpoints (4 MiB of pages). By frames, not by commits: a page that several
    /// commits rewrite (the tail of the entries, of the tree nodes, of the event keys) is copied once per
    /// checkpoint, which made small commits pay for a checkpoint each few of them (single-event requests
    /// commit ~16 events at a time). Well below `LogStore.walRestartFrames`.
    static let framesPerCheckpoint: Int32 = 1024

    init(path: String) throws(StoreError) {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA synchronous=FULL")
        let box = SQLiteConnectionBox(connection)
        let thread = Thread { [self] in run(box) }
        thread.name = "custody-wal-checkpoint"
        thread.start()
    }

    /// A write transaction committed, leaving `walFrames` frames in the WAL.
    func committed(walFrames frames: Int32) {
        condition.lock()
        // Fewer frames than at the last checkpoint: the writer restarted the WAL from its start.
        if frames < checkpointed { checkpointed = 0 }
        walFrames = frames
        if frames - checkpointed >= Self.framesPerCheckpoint { condition.signal() }
        condition.unlock()
    }

    /// Ends the thread after a last checkpoint; with `wait`, returns only once it has ended.
    func stop(wait: Bool = false) {
        condition.lock()
        stopping = true
        condition.broadcast()
        while wait && !stopped { condition.wait() }
        condition.unlock()
    }

    private func run(_ box: SQLiteConnectionBox) {
        Thread.nameForKernel("custody-wal")
        while true {
            condition.lock()
            while walFrames - checkpointed < Self.framesPerCheckpoint && !stopping { condition.wait() }
            let stop = stopping
            checkpointed = walFrames
            condition.unlock()
            // A failed passive checkpoint (busy) only leaves frames for the next one.
            try? box.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            if stop {
                condition.lock()
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
