import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// An error from SQLite or from the store's own integrity checks.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// SQLite result code, or nil for a store-level error.
    public let code: Int32?
    /// What went wrong.
    public let message: String

    init(_ message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }

    /// One line naming the problem and, where there is one, the SQLite code.
    public var description: String { code.map { "\(message) (sqlite \($0))" } ?? message }
}

/// `SQLITE_TRANSIENT` is a C macro Swift cannot import: tells SQLite to copy bound bytes.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
/// A NUL-terminated empty text, to bind `''`.
private let emptyText: StaticString = ""

/// One SQLite connection. Not thread-safe: each is owned by one thread or guarded by a lock.
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    private var statements: [String: SQLiteStatement] = [:]
    /// The same statements, for SQL given as a literal, by the literal's address.
    private var literalStatements: [UInt: SQLiteStatement] = [:]
    /// Multi-row inserts (`insertRows`), by the literal's address and the number of rows.
    private var multiRowStatements: [MultiRowKey: SQLiteStatement] = [:]

    private struct MultiRowKey: Hashable {
        let head: UInt
        let rows: Int
    }

    /// Rows per statement of `insertRows`.
    static let rowsPerInsert = 32
    /// Frames in the WAL after this connection's last commit, once `trackWALFrames()` was called.
    private let walFrameCount = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    /// Opens `path`; `readOnly` opens with SQLITE_OPEN_READONLY so an auditor can never write.
    init(path: String, readOnly: Bool = false, create: Bool = false) throws(StoreError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        flags |= readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(handle)
            handle = nil
            throw StoreError("cannot open database \(path): \(message)", code: rc)
        }
        sqlite3_busy_timeout(handle, 5_000)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        literalStatements.removeAll()
        multiRowStatements.removeAll()
        statements.removeAll()
        sqlite3_close_v2(handle)
        walFrameCount.deallocate()
    }

    /// Records the WAL's length after each commit (`sqlite3_wal_hook`), which also turns off SQLite's
    /// automatic checkpoint on this connection (the hook it uses is replaced).
    func trackWALFrames() {
        walFrameCount.pointee = 0
        sqlite3_wal_hook(handle, { context, _, _, frames in
            context?.assumingMemoryBound(to: Int32.self).pointee = frames
            return SQLITE_OK
        }, walFrameCount)
    }

    /// Frames in the WAL after the last commit (0 until one, or without `trackWALFrames()`).
    var walFrames: Int32 { walFrameCount.pointee }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int32 { sqlite3_changes(handle) }

    /// Runs one or more statements without results.
    func execute(_ sql: String) throws(StoreError) {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? lastError
            sqlite3_free(err)
            throw StoreError(message, code: rc)
        }
    }

    /// A prepared statement, cached by its SQL text and reset for reuse.
    func statement(_ sql: String) throws(StoreError) -> SQLiteStatement {
        if let s = statements[sql] {
            s.reset()
            return s
        }
        let s = try SQLiteStatement(connection: self, sql: sql)
        statements[sql] = s
        return s
    }

    /// The statement for SQL written as a literal: cached by the literal's address, so finding it hashes one
    /// integer instead of the whole SQL text (which was about 1 % of the sequencer's time).
    func statement(literal sql: StaticString) throws(StoreError) -> SQLiteStatement {
        let key = UInt(bitPattern: sql.utf8Start)
        if let s = literalStatements[key] {
            s.reset()
            return s
        }
        let s = try statement(sql.description)
        literalStatements[key] = s
        return s
    }

    /// Inserts `count` rows with `head` (`INSERT INTO t (a, b)`) followed by up to `rowsPerInsert` value tuples
    /// of `columns` parameters each: one statement runs per chunk of rows instead of one per row.
    /// `bind(statement, row, firstParameter)` binds row `row`'s values from parameter `firstParameter` on.
    ///
    /// Write heads as `INSERT OR FAIL`: with the default ABORT, SQLite must be able to undo the statement alone
    /// and copies every page it touches to a statement journal first (a temporary file past 64 KiB); a
    /// statement that fails here fails its whole transaction, which rolls back, so that copy is never used.
    func insertRows(_ head: StaticString, columns: Int, count: Int,
                    bind: (SQLiteStatement, Int, Int32) -> Void) throws(StoreError) {
        var row = 0
        while row < count {
            let n = min(Self.rowsPerInsert, count - row)
            let key = MultiRowKey(head: UInt(bitPattern: head.utf8Start), rows: n)
            let s: SQLiteStatement
            if let cached = multiRowStatements[key] {
                s = cached
            } else {
                let tuple = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
                s = try SQLiteStatement(connection: self,
                                        sql: "\(head) VALUES " + Array(repeating: tuple, count: n).joined(separator: ", "))
                multiRowStatements[key] = s
            }
            // Reset at once, not by `resetAll()` at the end of the transaction: clearing hundreds of bindings
            // of every cached multi-row statement on each commit cost small commits dearly.
            defer { s.reset() }
            for r in 0..<n { bind(s, row + r, Int32(r * columns + 1)) }
            try s.run()
            row += n
        }
    }

    /// Resets every cached statement, so none holds a read cursor open: an open cursor would keep the
    /// connection's snapshot (and make COMMIT fail) after the transaction should have ended.
    func resetAll() {
        for s in statements.values { s.reset() }
    }

    /// Runs `body` in a transaction; commits if it returns, rolls back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            resetAll()
            try execute("COMMIT")
            return result
        } catch {
            resetAll()
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a read transaction: one consistent snapshot, released at the end.
    func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        defer {
            resetAll()
            try? execute("COMMIT")
        }
        return try body()
    }

    /// A single integer from a query, or nil when it returns no row.
    func scalarInt(_ sql: String) throws(StoreError) -> Int64? {
        let s = try statement(sql)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return s.isNull(0) ? nil : s.int64(0)
    }
}

/// A prepared statement with typed binds and column reads.
final class SQLiteStatement {
    private var stmt: OpaquePointer?
    private unowned let connection: SQLiteConnection
    let sql: String

    init(connection: SQLiteConnection, sql: String) throws(StoreError) {
        self.connection = connection
        self.sql = sql
        let rc = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK else { throw StoreError("cannot prepare \(sql): \(connection.lastError)", code: rc) }
    }

    deinit { sqlite3_finalize(stmt) }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(stmt, index, value)
    }

    func bind(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { bind(index, $0) }
    }

    /// Binds a copy of the bytes in `raw`, as a blob.
    func bind(_ index: Int32, _ raw: UnsafeRawBufferPointer) {
        _ = sqlite3_bind_blob(stmt, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient)
    }

    func bind(_ index: Int32, _ text: String) {
        // The string's own UTF-8 and its length: passing a `String` as a C string copies a short one to the heap
        // first, and the rules' rows bind several short strings per event.
        var text = text
        text.withUTF8 { utf8 in
            // An empty buffer may have no address, and a NULL pointer would bind SQL NULL rather than ''.
            let start = utf8.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(emptyText.utf8Start)
            _ = sqlite3_bind_text(stmt, index, start.assumingMemoryBound(to: CChar.self), Int32(utf8.count), transient)
        }
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(stmt, index, value) } else { sqlite3_bind_null(stmt, index) }
    }

    /// Steps once; true when a row is available, false when done.
    @discardableResult
    func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw StoreError("\(connection.lastError) in \(sql)", code: rc)
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws(StoreError) {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_NULL }

    func isBlob(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_BLOB }

    func isInteger(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_INTEGER }

    /// Runs `body` on the bytes of column `column` where SQLite holds them, valid until the next step or reset.
    func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        let base = sqlite3_column_blob(stmt, column)
        return body(UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : Int(sqlite3_column_bytes(stmt, column))))
    }

    func blob(_ column: Int32) -> [UInt8] {
        // The pointer first, then its length (SQLite's documented order); one copy, without the generic
        // sequence initializer, which an audit calls five times per entry.
        guard let base = sqlite3_column_blob(stmt, column) else { return [] }
        let count = Int(sqlite3_column_bytes(stmt, column))
        return [UInt8](unsafeUninitializedCapacity: count) { out, written in
            if count > 0 { out.baseAddress!.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: count) }
            written = count
        }
    }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, column))), as: UTF8.self)
    }

    /// Columns in a result row.
    var columnCount: Int32 { sqlite3_column_count(stmt) }

    /// Steps this statement and `other` together to their ends; whether they gave the same rows, column by
    /// column (`sameValue`). Both should order their rows the same way (the same ORDER BY).
    func sameRows(as other: SQLiteStatement) throws(StoreError) -> Bool {
        while true {
            let row = try step()
            guard row == (try other.step()) else { return false }
            guard row else { return true }
            for column in 0..<columnCount where !sameValue(column, as: other) { return false }
        }
    }

    /// Whether column `column` of this statement's row and of `other`'s hold the same value: the same storage
    /// class and the same integer, real, or bytes.
    func sameValue(_ column: Int32, as other: SQLiteStatement) -> Bool {
        let type = sqlite3_column_type(stmt, column)
        guard type == sqlite3_column_type(other.stmt, column) else { return false }
        switch type {
        case SQLITE_NULL: return true
        case SQLITE_INTEGER: return sqlite3_column_int64(stmt, column) == sqlite3_column_int64(other.stmt, column)
        case SQLITE_FLOAT: return sqlite3_column_double(stmt, column) == sqlite3_column_double(other.stmt, column)
        default:
            let a = sqlite3_column_blob(stmt, column), b = sqlite3_column_blob(other.stmt, column)
            let n = sqlite3_column_bytes(stmt, column)
            guard n == sqlite3_column_bytes(other.stmt, column) else { return false }
            guard n > 0, let a, let b else { return n == 0 }
            return memcmp(a, b, Int(n)) == 0
        }
    }
}

/// SQLite result codes the store reacts to.
enum SQLiteCode {
    static let constraint = SQLITE_CONSTRAINT
    static func isConstraint(_ code: Int32?) -> Bool { code.map { $0 & 0xff == SQLITE_CONSTRAINT } ?? false }
}
