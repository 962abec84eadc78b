import Foundation

/// One deposited disclosure: the clear value behind a commitment in a logged event.
public struct StoredDisclosure: Sendable, Equatable {
    /// Log index of the event that carries the commitment.
    public var index: UInt64
    /// JSON pointer of the commitment in the event body, e.g. `/valueCommitment`.
    public var field: String
    /// The commitment it opens (64 lowercase hex), as found in the event.
    public var commitment: String
    /// The salt (standard base64).
    public var salt: String
    /// The clear value in RFC 8785 canonical JSON.
    public var value: [UInt8]
    /// Participant id of the party that deposited it.
    public var depositedBy: String
    /// Key id that signed the deposit request.
    public var keyID: String
    /// When it was stored (Unix milliseconds).
    public var depositedAt: Int64

    /// A disclosure from its fields.
    public init(index: UInt64, field: String, commitment: String, salt: String, value: [UInt8], depositedBy: String,
                keyID: String, depositedAt: Int64) {
        self.index = index
        self.field = field
        self.commitment = commitment
        self.salt = salt
        self.value = value
        self.depositedBy = depositedBy
        self.keyID = keyID
        self.depositedAt = depositedAt
    }
}

/// The disclosures kept beside the log, in their own SQLite file (`DATA_DIR/disclosures.sqlite`, WAL,
/// `synchronous=FULL`). Never part of the log: the log holds only commitments, this file the clear values,
/// so it can be withheld, backed up or purged on its own without touching what auditors verify.
///
/// One disclosure per (log index, field): a commitment has exactly one opening (short of a SHA-256
/// collision), so a second deposit of the same field is the same disclosure and is answered with the first.
/// The store trusts its caller to have checked the opening against the log.
public final class DisclosureStore: Sendable {
    /// Schema version this code writes.
    static let schemaVersion = 1

    /// Path of the database file.
    public let path: String
    private let connection: SQLiteConnectionBox
    private let lock = NSLock()

    /// Opens (creating if needed) the disclosure database at `path`.
    public init(path: String) throws(StoreError) {
        self.path = path
        let db = try SQLiteConnection(path: path, create: true)
        try db.execute("PRAGMA journal_mode=WAL")
        // A deposit is acknowledged only after its COMMIT is on disk.
        try db.execute("PRAGMA synchronous=FULL")
        let version = try db.scalarInt("PRAGMA user_version") ?? 0
        if version > Self.schemaVersion {
            throw StoreError("disclosure database schema version \(version) is newer than this build (\(Self.schemaVersion))")
        }
        if version < 1 {
            try db.execute("""
                BEGIN;
                CREATE TABLE disclosures (
                    idx INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    commitment TEXT NOT NULL,
                    salt TEXT NOT NULL,
                    value BLOB NOT NULL,
                    deposited_by TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    deposited_at INTEGER NOT NULL,
                    PRIMARY KEY (idx, field)
                ) WITHOUT ROWID;
                PRAGMA user_version = 1;
                COMMIT;
                """)
        }
        connection = SQLiteConnectionBox(db)
    }

    /// Stores `disclosure` durably unless one for its (index, field) is already stored. Returns the stored
    /// disclosure (the earlier one when there was one) and whether this call created it.
    public func deposit(_ disclosure: StoredDisclosure) throws -> (disclosure: StoredDisclosure, created: Bool) {
        try lock.withLock {
            let db = connection.connection
            return try db.transaction {
                if let existing = try Self.find(db, index: disclosure.index, field: disclosure.field) {
                    return (existing, false)
                }
                let s = try db.statement("""
                    INSERT INTO disclosures (idx, field, commitment, salt, value, deposited_by, key_id, deposited_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                s.bind(1, Int64(disclosure.index)); s.bind(2, disclosure.field); s.bind(3, disclosure.commitment)
                s.bind(4, disclosure.salt); s.bind(5, disclosure.value); s.bind(6, disclosure.depositedBy)
                s.bind(7, disclosure.keyID); s.bind(8, disclosure.depositedAt)
                try s.run()
                return (disclosure, true)
            }
        }
    }

    /// The disclosures of the event at `index`, by field.
    public func disclosures(at index: UInt64) throws -> [StoredDisclosure] {
        try lock.withLock {
            let db = connection.connection
            let s = try db.statement(Self.select + " WHERE idx = ? ORDER BY field")
            defer { s.reset() }
            s.bind(1, Int64(index))
            var out: [StoredDisclosure] = []
            while try s.step() { out.append(Self.row(s)) }
            return out
        }
    }

    /// Number of stored disclosures.
    public func count() throws -> Int {
        try lock.withLock { Int(try connection.connection.scalarInt("SELECT COUNT(*) FROM disclosures") ?? 0) }
    }

    static let select = "SELECT idx, field, commitment, salt, value, deposited_by, key_id, deposited_at FROM disclosures"

    static func find(_ db: SQLiteConnection, index: UInt64, field: String) throws(StoreError) -> StoredDisclosure? {
        let s = try db.statement(select + " WHERE idx = ? AND field = ?")
        defer { s.reset() }
        s.bind(1, Int64(index))
        s.bind(2, field)
        return try s.step() ? row(s) : nil
    }

    static func row(_ s: SQLiteStatement) -> StoredDisclosure {
        StoredDisclosure(index: UInt64(s.int64(0)), field: s.text(1), commitment: s.text(2), salt: s.text(3), value: s.blob(4),
                         depositedBy: s.text(5), keyID: s.text(6), depositedAt: s.int64(7))
    }
}
