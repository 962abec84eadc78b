import CSQLite
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation
import Logging

/// A ledger in a fresh temporary data directory, with helpers to register participants and sign events.
struct TestLog {
    let directory: DataDirectory
    let ledger: Ledger
    let registrar: SigningKey

    static func temporaryPath(_ name: String = "log") -> String {
        let path = NSTemporaryDirectory() + "custody-test-\(name)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func open(path: String = temporaryPath(), origin: String = "test.example/log",
                     clock: @escaping @Sendable () -> Int64 = Ledger.systemClock) async throws -> TestLog {
        let directory = DataDirectory(path: path)
        let (ledger, _) = try await directory.openLedger(origin: origin, logger: Logger(label: "test"), enforcesRules: true, clock: clock)
        let registrar = try KeyFile.read(from: directory.registrarKeyPath).signingKey()
        return TestLog(directory: directory, ledger: ledger, registrar: registrar)
    }

    /// Registers a new participant with a fresh key; returns the key.
    func register(_ participant: String, roles: [String] = ["miner"], country: String = "BW") async throws -> SigningKey {
        let key = SigningKey.generate()
        let body = Self.registration(participant, key: key, roles: roles, country: country)
        _ = try await ledger.submit(try EventEnvelope.sign(body: body, with: registrar)).get()
        return key
    }

    static func registration(_ participant: String, key: SigningKey, roles: [String] = ["miner"], country: String = "BW") -> JSONObject {
        body("participant.register", signer: "registrar", extra: [
            ("participant", .string(participant)), ("legalName", .string("\(participant) Ltd")), ("country", .string(country)),
            ("roles", .array(roles.map { .string($0) })), ("publicKeys", .array([.string(key.publicKey.base64)])),
        ])
    }

    static func body(_ type: String, signer: String, nonce: String = UUID().uuidString,
                     extra: [(String, JSONValue)] = []) -> JSONObject {
        JSONObject([
            ("type", .string(type)), ("schemaVersion", .integer(1)), ("signer", .string(signer)),
            ("occurredAt", .string("2026-11-01T10:00:00Z")), ("nonce", .string(nonce)),
        ] + extra)
    }

    /// A valid event with no prerequisites: the miner `signer` registers a site it operates.
    static func event(_ signer: String, key: SigningKey, _ n: Int = 0) throws -> EventEnvelope {
        try EventEnvelope.sign(body: body("site.register", signer: signer, extra: [
            ("site", .string("S-\(signer)-\(n)")), ("name", .string("Pit \(n)")), ("country", .string("BW")),
            ("region", .string("Southern")), ("latE6", .integer(-24_521_000)), ("lonE6", .integer(24_697_000)),
            ("kind", .string("industrial")), ("operator", .string(signer)),
        ]), with: key)
    }
}

/// Raw SQL on a copy of a log database, for tampering tests.
struct RawDatabase {
    let handle: OpaquePointer

    init(path: String) {
        var h: OpaquePointer?
        precondition(sqlite3_open(path, &h) == SQLITE_OK)
        handle = h!
        // Wait out a lock another connection holds for a moment (a checkpoint needs every reader gone).
        sqlite3_busy_timeout(handle, 10_000)
    }

    func exec(_ sql: String) {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        precondition(rc == SQLITE_OK, "\(sql): \(err.map { String(cString: $0) } ?? "")")
    }

    func close() { sqlite3_close(handle) }

    /// The blob in the first column of the first row of `sql`.
    func blob(_ sql: String) -> [UInt8] {
        var stmt: OpaquePointer?
        precondition(sqlite3_prepare_v2(handle, sql, -1, &stmt, nil) == SQLITE_OK)
        defer { sqlite3_finalize(stmt) }
        precondition(sqlite3_step(stmt) == SQLITE_ROW, "no row for \(sql)")
        let n = Int(sqlite3_column_bytes(stmt, 0))
        return [UInt8](UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, 0), count: n))
    }

    /// Runs `sql` with one blob parameter.
    func exec(_ sql: String, blob: [UInt8]) {
        var stmt: OpaquePointer?
        precondition(sqlite3_prepare_v2(handle, sql, -1, &stmt, nil) == SQLITE_OK)
        defer { sqlite3_finalize(stmt) }
        _ = blob.withUnsafeBytes { sqlite3_bind_blob(stmt, 1, $0.baseAddress, Int32($0.count), nil) }
        precondition(sqlite3_step(stmt) == SQLITE_DONE)
    }

    /// Flips one bit of the blob in `column` of the row `whereClause` selects.
    func flip(_ table: String, _ column: String, where whereClause: String, byte: Int) {
        var value = blob("SELECT \(column) FROM \(table) WHERE \(whereClause)")
        value[byte] ^= 0x01
        exec("UPDATE \(table) SET \(column) = ? WHERE \(whereClause)", blob: value)
    }
}

/// Copies the database of a closed ledger (checkpointing the WAL first) to a new file.
func copyDatabase(_ directory: DataDirectory) -> String {
    let db = RawDatabase(path: directory.databasePath)
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    let copy = TestLog.temporaryPath("copy") + "/custody.sqlite"
    try! FileManager.default.copyItem(atPath: directory.databasePath, toPath: copy)
    return copy
}

/// Turns the parcel histories of a schema version 3 file back into version 2's form (rows of `parcel_events`,
/// no `history` column), for the migration tests.
let parcelHistoryToVersion2 = """
    CREATE TABLE parcel_events (parcel TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (parcel, idx)) WITHOUT ROWID;
    WITH RECURSIVE split(parcel, rest, idx) AS (
        SELECT id, history || ',', NULL FROM parcels WHERE history != ''
        UNION ALL
        SELECT parcel, substr(rest, instr(rest, ',') + 1), CAST(substr(rest, 1, instr(rest, ',') - 1) AS INTEGER)
        FROM split WHERE rest != '')
    INSERT INTO parcel_events SELECT parcel, idx FROM split WHERE idx IS NOT NULL;
    ALTER TABLE parcels DROP COLUMN history;
    """

/// Replaces, inserts or removes one byte at a random place, from bytes that matter to JSON and to the envelope's
/// fields (quotes, brackets, digits, base64, a NUL, DEL and a lone UTF-8 lead byte).
func randomEdit(_ bytes: inout [UInt8], using rng: inout some RandomNumberGenerator,
                alphabet: [UInt8] = Array(#"{}[]",:0123456789-.eE "\aAzZ+/="#.utf8) + [0x00, 0x7f, 0xc3]) {
    let at = Int.random(in: 0..<bytes.count, using: &rng)
    switch Int.random(in: 0..<3, using: &rng) {
    case 0: bytes[at] = alphabet.randomElement(using: &rng)!
    case 1: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
    default: bytes.remove(at: at)
    }
}
