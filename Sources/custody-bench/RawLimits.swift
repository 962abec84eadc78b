import CSQLite
import CSodium
import CustodyLedger
import Foundation

/// The ceilings of this machine, measured in the same run and with the same libraries as the ledger
/// figures they are compared against. The ledger cannot append faster than it can check signatures on all
/// cores, nor commit faster than SQLite can, so each ledger figure is reported as a fraction of one of these.
struct RawLimits: Sendable {
    /// libsodium `crypto_sign_verify_detached` of a ~400-byte message, per second, on one thread.
    var verifyOneCore: Double
    /// The same on all cores (`ParallelVerifier.map`, the path the ledger itself uses).
    var verifyAllCores: Double
    /// libsodium SHA-256 of a ~400-byte message, per second, on one thread.
    var sha256OneCore: Double
    /// Rows per second inserted into a plain table in 1,000-row transactions (WAL, synchronous=FULL).
    var sqliteBatchedRows: Double
    /// One-row transactions committed per second (WAL, synchronous=FULL): bound by fsync.
    var sqliteSingleCommits: Double
}

/// The all-cores verify rate measured again at one point of the run, after the phase `after`.
struct VerifyProbe: Sendable {
    var after: String
    /// Seconds since the run started.
    var at: Double
    var rate: Double
}

/// Measures `RawLimits`. Each figure is the median of three passes after a warm-up.
struct RawLimitBenchmark {
    /// Directory for the scratch SQLite file: the same filesystem as the ledger's, since fsync cost is a
    /// property of the filesystem and device.
    let scratchDirectory: String
    let quick: Bool

    private static let passes = 3
    private static let messageSize = 400

    func run(progress: (String) -> Void) throws -> RawLimits {
        precondition(sodium_init() >= 0, "libsodium failed to initialise")
        let samples = SignedSamples(count: 256, messageSize: Self.messageSize)
        progress("raw: Ed25519 verify, one core")
        let oneCore = median((0..<Self.passes).map { _ in verifyOneCore(samples, count: quick ? 8_000 : 40_000) })
        progress("raw: Ed25519 verify, all cores")
        let allCores = median((0..<Self.passes).map { _ in verifyAllCores(samples, count: quick ? 16_000 : 80_000) })
        progress("raw: SHA-256")
        let sha = median((0..<Self.passes).map { _ in sha256(count: quick ? 200_000 : 1_000_000) })
        progress("raw: SQLite batched inserts")
        let batched = try median((0..<Self.passes).map { _ in try sqliteBatched(rows: quick ? 50_000 : 300_000) })
        progress("raw: SQLite single-row commits")
        let single = try median((0..<Self.passes).map { _ in try sqliteSingleCommits(count: quick ? 1_000 : 4_000) })
        return RawLimits(verifyOneCore: oneCore, verifyAllCores: allCores, sha256OneCore: sha,
                         sqliteBatchedRows: batched, sqliteSingleCommits: single)
    }

    /// The all-cores verify rate again, in a shorter measurement (median of three passes of a second or so),
    /// between the ledger's phases: this VM's speed drifts over a run, by a fifth and more, so a ratio to the
    /// one rate measured at the start carries that drift too (see `VerifyProbe`).
    func probeVerifyAllCores() -> Double {
        let samples = SignedSamples(count: 256, messageSize: Self.messageSize)
        return median((0..<Self.passes).map { _ in verifyAllCores(samples, count: probeCount) })
    }

    /// Verifications in each pass of `probeVerifyAllCores`.
    var probeCount: Int { quick ? 8_000 : 24_000 }

    // MARK: libsodium

    /// Distinct messages signed by a few keys, so the loop does not verify one cached input.
    struct SignedSamples: Sendable {
        let messages: [[UInt8]]
        let signatures: [[UInt8]]
        let publicKeys: [[UInt8]]

        init(count: Int, messageSize: Int) {
            var messages: [[UInt8]] = [], signatures: [[UInt8]] = [], keys: [[UInt8]] = []
            var rng = SplitMix64(seed: 7)
            for i in 0..<count {
                var pk = [UInt8](repeating: 0, count: 32), sk = [UInt8](repeating: 0, count: 64)
                let seed = (0..<32).map { UInt8(truncatingIfNeeded: $0 * 31 + i % 16) }
                crypto_sign_seed_keypair(&pk, &sk, seed)
                let message = (0..<messageSize).map { _ in UInt8.random(in: 0x20...0x7e, using: &rng) }
                var signature = [UInt8](repeating: 0, count: 64)
                crypto_sign_detached(&signature, nil, message, UInt64(message.count), sk)
                messages.append(message)
                signatures.append(signature)
                keys.append(pk)
            }
            self.messages = messages
            self.signatures = signatures
            self.publicKeys = keys
        }

        /// Verifies sample `i` (modulo the sample count); true when valid.
        @inline(__always)
        func verify(_ i: Int) -> Bool {
            let k = i % messages.count
            return crypto_sign_verify_detached(signatures[k], messages[k], UInt64(messages[k].count), publicKeys[k]) == 0
        }
    }

    private func verifyOneCore(_ samples: SignedSamples, count: Int) -> Double {
        let (valid, seconds) = timed { (0..<count).reduce(0) { $0 + (samples.verify($1) ? 1 : 0) } }
        precondition(valid == count, "a sample signature did not verify")
        return Double(count) / seconds
    }

    private func verifyAllCores(_ samples: SignedSamples, count: Int) -> Double {
        let indexes = Array(0..<count)
        let (results, seconds) = timed { ParallelVerifier.map(indexes) { samples.verify($0) } }
        precondition(results.allSatisfy { $0 }, "a sample signature did not verify")
        return Double(count) / seconds
    }

    private func sha256(count: Int) -> Double {
        let message = [UInt8](repeating: 0x61, count: Self.messageSize)
        var digest = [UInt8](repeating: 0, count: 32)
        var fold: UInt8 = 0
        let (_, seconds) = timed {
            for _ in 0..<count {
                crypto_hash_sha256(&digest, message, UInt64(message.count))
                fold ^= digest[0]  // keeps the loop observable
            }
        }
        _ = fold
        return Double(count) / seconds
    }

    // MARK: SQLite

    /// A scratch database with the ledger's durability settings and a plain two-column table.
    private func openScratch() throws -> (OpaquePointer, String) {
        let path = scratchDirectory + "/raw-sqlite-\(UUID().uuidString).sqlite"
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let db else {
            throw BenchError("cannot create \(path)")
        }
        try exec(db, """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
            CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
            """)
        return (db, path)
    }

    private func closeScratch(_ db: OpaquePointer, _ path: String) {
        sqlite3_close_v2(db)
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    }

    private func exec(_ db: OpaquePointer, _ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw BenchError("sqlite: \(String(cString: sqlite3_errmsg(db))) in \(sql)")
        }
    }

    /// Inserts `count` rows of 500 bytes into `db`, `perTransaction` rows per commit.
    private func insert(_ db: OpaquePointer, count: Int, perTransaction: Int) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO rows (id, payload) VALUES (?, ?)", -1, &statement, nil) == SQLITE_OK else {
            throw BenchError("sqlite prepare: \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(statement) }
        var rng = SplitMix64(seed: 11)
        let payloads = (0..<64).map { _ in (0..<500).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var id = 0
        while id < count {
            try exec(db, "BEGIN IMMEDIATE")
            for _ in 0..<min(perTransaction, count - id) {
                sqlite3_bind_int64(statement, 1, Int64(id))
                let payload = payloads[id % payloads.count]
                sqlite3_bind_blob(statement, 2, payload, Int32(payload.count), transient)
                guard sqlite3_step(statement) == SQLITE_DONE else {
                    throw BenchError("sqlite insert: \(String(cString: sqlite3_errmsg(db)))")
                }
                sqlite3_reset(statement)
                id += 1
            }
            try exec(db, "COMMIT")
        }
    }

    private func sqliteBatched(rows: Int) throws -> Double {
        let (db, path) = try openScratch()
        defer { closeScratch(db, path) }
        let (_, seconds) = try timed { try insert(db, count: rows, perTransaction: 1_000) }
        return Double(rows) / seconds
    }

    private func sqliteSingleCommits(count: Int) throws -> Double {
        let (db, path) = try openScratch()
        defer { closeScratch(db, path) }
        let (_, seconds) = try timed { try insert(db, count: count, perTransaction: 1) }
        return Double(count) / seconds
    }
}

/// A benchmark step could not run as set up; the message says which and why.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
