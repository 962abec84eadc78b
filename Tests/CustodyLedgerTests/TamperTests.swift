import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging
import Testing

/// A closed 41-entry log built in several batches, and the checkpoint it ended with.
struct TamperFixture {
    let directory: DataDirectory
    let verifier: NoteVerifier
    let finalCheckpoint: String

    static func make() async throws -> TamperFixture {
        let log = try await TestLog.open()
        let key = try await log.register("trader")
        for start in stride(from: 0, to: 39, by: 13) {
            let batch = try (start..<start + 13).map { try TestLog.event("trader", key: key, $0) }
            for r in await log.ledger.submit(batch) { _ = try r.get() }
        }
        let note = log.ledger.latestCheckpoint.note
        await log.ledger.close()
        return TamperFixture(directory: log.directory, verifier: log.ledger.signer.verifier, finalCheckpoint: note)
    }

    /// Audits a tampered copy of the database; returns the failure, or nil if the audit passed.
    func audit(since: String? = nil, _ tamper: (RawDatabase) -> Void) async throws -> AuditFailure? {
        let copy = copyDatabase(directory)
        let db = RawDatabase(path: copy)
        tamper(db)
        db.close()
        do {
            _ = try await LogAuditor(source: DatabaseAuditSource(path: copy),
                                     options: AuditOptions(logKey: verifier, since: since, chunkSize: 7)).run()
            return nil
        } catch let failure as AuditFailure {
            return failure
        }
    }
}

@Suite("Auditing catches tampering")
struct TamperTests {
    @Test("an untouched log verifies, including every stored checkpoint")
    func intact() async throws {
        let f = try await TamperFixture.make()
        #expect(try await f.audit { _ in } == nil)
        let report = try await LogAuditor(source: DatabaseAuditSource(path: f.directory.databasePath),
                                          options: AuditOptions(logKey: f.verifier, since: f.finalCheckpoint)).run()
        #expect(report.treeSize == 41)
        #expect(report.checkpointsChecked == 5)  // genesis, the registration and three batches of 13
    }

    @Test("a flipped byte anywhere in an entry's bytes or hashes is caught at that index",
          arguments: ["leaf_input", "leaf_hash", "chain_hash", "event_id"])
    func flippedEntry(column: String) async throws {
        let f = try await TamperFixture.make()
        for byte in [0, 9, 31] {
            let failure = try await f.audit { $0.flip("entries", column, where: "idx = 17", byte: byte) }
            #expect(failure?.index == 17, "\(column) byte \(byte): \(String(describing: failure))")
        }
        let late = try await f.audit { $0.flip("entries", column, where: "idx = 40", byte: 20) }
        #expect(late?.index == 40)
    }

    @Test("a stored envelope, hash or event id cut short, lengthened, emptied, or turned into text with the same bytes is caught at that index",
          arguments: ["leaf_input", "leaf_hash", "chain_hash", "event_id"])
    func reshapedColumn(column: String) async throws {
        let f = try await TamperFixture.make()
        // (`||` makes text: cast back, for a longer blob.)
        for value in ["substr(\(column), 1, 31)", "CAST(\(column) || x'00' AS BLOB)", "x''", "hex(\(column))", "CAST(\(column) AS TEXT)"] {
            let failure = try await f.audit { $0.exec("UPDATE entries SET \(column) = \(value) WHERE idx = 23") }
            #expect(failure?.index == 23, "\(column) = \(value): \(String(describing: failure))")
        }
    }

    /// SQLite keeps a value's storage class with it, and a blob cast to text keeps its bytes: what the audit
    /// reads is unchanged, only the type tag in the file. custodyd writes one class for each column.
    @Test("a time, tree node or checkpoint stored with another storage class is caught, the tree node and checkpoint with the same bytes")
    func changedStorageClass() async throws {
        let f = try await TamperFixture.make()
        // The column's integer affinity turns a numeric text back into an integer: a text that is not a number.
        let time = try await f.audit { $0.exec("UPDATE entries SET logged_at = 'soon' WHERE idx = 19") }
        #expect(time?.index == 19 && time?.reason.contains("logged_at is not an integer") == true, "\(String(describing: time))")
        // Level 2, index 3 covers leaves 12...15 and is completed by entry 15.
        let node = try await f.audit { $0.exec("UPDATE nodes SET hash = CAST(hash AS TEXT) WHERE id = \(2 << 48 | 3)") }
        #expect(node?.index == 15 && node?.reason.contains("tree node level 2 index 3 is wrong") == true, "\(String(describing: node))")
        // The checkpoint of the second batch of 13 (2 + 26 entries).
        let note = try await f.audit { $0.exec("UPDATE checkpoints SET note = CAST(note AS BLOB) WHERE tree_size = 28") }
        #expect(note?.index == 27 && note?.reason.contains("checkpoint for size 28 is not text") == true, "\(String(describing: note))")
        // With the batch's times changed too, the first changed entry is still the one named: its time differs
        // from the one the checkpoint signs.
        let timesToo = try await f.audit {
            $0.exec("UPDATE entries SET logged_at = logged_at + 1 WHERE idx BETWEEN 15 AND 27")
            $0.exec("UPDATE checkpoints SET note = CAST(note AS BLOB) WHERE tree_size = 28")
        }
        #expect(timesToo?.index == 15, "\(String(describing: timesToo))")
    }

    @Test("a flipped byte in a stored tree node is caught")
    func flippedNode() async throws {
        let f = try await TamperFixture.make()
        // Level 2, index 3 covers leaves 12...15 and is completed by entry 15.
        let failure = try await f.audit { $0.flip("nodes", "hash", where: "id = \(2 << 48 | 3)", byte: 5) }
        #expect(failure?.index == 15)
        #expect(failure?.reason.contains("tree node") == true)
    }

    @Test("a node table with text ids, holding a row whose id compares between the audit's bounds as text, fails the audit instead of crashing it")
    func textNodeIDs() async throws {
        let f = try await TamperFixture.make()
        let failure = try await f.audit { db in
            db.exec("CREATE TABLE n2 (id TEXT PRIMARY KEY, hash BLOB NOT NULL)")
            db.exec("INSERT INTO n2 SELECT CAST(id AS TEXT), hash FROM nodes")
            db.exec("DROP TABLE nodes")
            db.exec("ALTER TABLE n2 RENAME TO nodes")
            // The id of level 2, index 3 with a digit appended: between that level's bounds as text.
            db.exec("INSERT INTO nodes VALUES ('\(2 << 48 | 3)5', X'00')")
        }
        #expect(failure != nil)
    }

    @Test("a deleted row is caught at its index")
    func deleted() async throws {
        let f = try await TamperFixture.make()
        let failure = try await f.audit { $0.exec("DELETE FROM entries WHERE idx = 17") }
        #expect(failure?.index == 17)
        // Two rows of the last chunk (35...40, in chunks of 7): the first gap is named,
        // not the end of the log that asking on for the missing rows reaches.
        let two = try await f.audit { $0.exec("DELETE FROM entries WHERE idx IN (37, 40)") }
        #expect(two?.index == 37, "\(String(describing: two))")
    }

    @Test("reordered rows are caught at the first moved index")
    func reordered() async throws {
        let f = try await TamperFixture.make()
        let failure = try await f.audit {
            $0.exec("UPDATE entries SET idx = -1 WHERE idx = 10")
            $0.exec("UPDATE entries SET idx = 10 WHERE idx = 11")
            $0.exec("UPDATE entries SET idx = 11 WHERE idx = -1")
        }
        #expect(failure?.index == 10)
    }

    @Test("a row appended by hand, even with correct hashes and a valid signature, is caught")
    func appendedByHand() async throws {
        let f = try await TamperFixture.make()
        let failure = try await f.audit { db in
            // Replay entry 5's signed bytes as entry 41 with correctly chained hashes.
            let input = db.blob("SELECT leaf_input FROM entries WHERE idx = 5")
            let previous = db.blob("SELECT chain_hash FROM entries WHERE idx = 40")
            let leaf = Merkle.leafHash(input)
            let chain = HashChain.next(previous: previous, leafHash: leaf)
            db.exec("INSERT INTO entries VALUES (41, X'\(Hex.encode(SHA256.hash([41])))', X'\(Hex.encode(input))', X'\(Hex.encode(leaf))', X'\(Hex.encode(chain))', 0)")
        }
        #expect(failure?.index == 41)
    }

    @Test("a changed loggedAt is caught against the time its batch's signed checkpoint carries")
    func loggedAtChanged() async throws {
        let f = try await TamperFixture.make()
        // The last entry a day later: still in order, so only the checkpoint's signed time catches it.
        let one = try await f.audit { $0.exec("UPDATE entries SET logged_at = logged_at + 86400000 WHERE idx = 40") }
        #expect(one?.index == 40 && one?.reason.contains("loggedAt differs") == true, "\(String(describing: one))")
        // The whole last batch (entries 28...40) an hour later, all alike: caught at the batch's first entry.
        let batch = try await f.audit { $0.exec("UPDATE entries SET logged_at = logged_at + 3600000 WHERE idx >= 28") }
        #expect(batch?.index == 28 && batch?.reason.contains("loggedAt differs") == true, "\(String(describing: batch))")
        // A checkpoint row deleted, which merges two batches under one time: the next checkpoint names the one
        // signed before it.
        let deleted = try await f.audit { $0.exec("DELETE FROM checkpoints WHERE tree_size = 15") }
        #expect(deleted?.index == 27 && deleted?.reason.contains("checkpoint rows deleted") == true, "\(String(describing: deleted))")
    }

    @Test("checkpoint rows a replay never reaches are checked: one below size 1, and the newest holding another size's note")
    func strayCheckpointRows() async throws {
        let f = try await TamperFixture.make()
        let garbage = try await f.audit { $0.exec("INSERT INTO checkpoints VALUES (0, 'garbage')") }
        #expect(garbage?.reason.contains("below 1") == true, "\(String(describing: garbage))")
        // The note for 40 entries under the key of 41, and entry 40 left to no checkpoint.
        let moved = try await f.audit { db in
            db.exec("UPDATE checkpoints SET note = (SELECT note FROM checkpoints WHERE tree_size = 28) WHERE tree_size = 41")
        }
        #expect(moved != nil, "the audit passed")
        // Inside the log, the row is named for what it holds.
        let inside = try await f.audit { db in
            db.exec("UPDATE checkpoints SET note = (SELECT note FROM checkpoints WHERE tree_size = 15) WHERE tree_size = 28")
        }
        #expect(inside?.index == 27 && inside?.reason.contains("the checkpoint row for size 28 holds the checkpoint for size 15") == true,
                "\(String(describing: inside))")
    }

    @Test("a row added by hand below index 0 is caught and named")
    func rowBelowZero() async throws {
        let f = try await TamperFixture.make()
        let failure = try await f.audit { db in
            db.exec("INSERT INTO entries SELECT -1, event_id, leaf_input, leaf_hash, chain_hash, logged_at FROM entries WHERE idx = 5")
        }
        #expect(failure?.index == nil && failure?.reason.contains("index -1") == true, "\(String(describing: failure))")
    }

    @Test("a trigger, and an event-key table without its primary key, in a rowid table, or dropped, are caught: the daemon would log repeats twice")
    func schemaDamage() async throws {
        let f = try await TamperFixture.make()
        let trigger = try await f.audit { $0.exec("CREATE TRIGGER t AFTER INSERT ON entries BEGIN SELECT 1; END") }
        #expect(trigger?.reason.contains("trigger t") == true, "\(String(describing: trigger))")
        let unkeyed = try await f.audit { db in
            db.exec("CREATE TABLE k2 (occurred_ms INTEGER NOT NULL, event_id BLOB NOT NULL, idx INTEGER NOT NULL)")
            db.exec("INSERT INTO k2 SELECT * FROM event_keys")
            db.exec("DROP TABLE event_keys")
            db.exec("ALTER TABLE k2 RENAME TO event_keys")
        }
        #expect(unkeyed?.reason.contains("primary key") == true, "\(String(describing: unkeyed))")
        // The same primary key in a rowid table: it finds repeats too, but is not the table custodyd defines.
        let rowid = try await f.audit { db in
            db.exec("CREATE TABLE k2 (occurred_ms INTEGER NOT NULL, event_id BLOB NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (occurred_ms, event_id))")
            db.exec("INSERT INTO k2 SELECT * FROM event_keys")
            db.exec("DROP TABLE event_keys")
            db.exec("ALTER TABLE k2 RENAME TO event_keys")
        }
        #expect(rowid?.reason.contains("WITHOUT ROWID") == true, "\(String(describing: rowid))")
        let dropped = try await f.audit { $0.exec("DROP TABLE event_keys") }
        #expect(dropped?.reason.contains("lacks the event_keys table") == true, "\(String(describing: dropped))")
        // A version set back, so that the file would pass as one from before the event-key index.
        let older = try await f.audit { $0.exec("PRAGMA user_version = 2") }
        #expect(older?.reason.contains("states schema version 2 but has the event_keys table") == true, "\(String(describing: older))")
    }

    @Test("a derived table altered in its columns, or dropped, is caught, not passed on the columns it still has")
    func derivedTableSchema() async throws {
        let f = try await TamperFixture.make()
        let dropped = try await f.audit { $0.exec("ALTER TABLE keys DROP COLUMN revoked_at") }
        #expect(dropped?.reason.contains("keys table") == true, "\(String(describing: dropped))")
        let gone = try await f.audit { $0.exec("DROP TABLE transfers") }
        #expect(gone?.reason.contains("transfers table") == true, "\(String(describing: gone))")
    }

    /// The audit checks chunks of entries ahead of its fold with the keys known when each chunk started; an
    /// entry signed under a key registered after that is verified by the fold. Chunks of 3, and the key is
    /// registered at entry 6 (chunk 2): the forged entry falls in that chunk (distance 1), in the next two, which
    /// were started before chunk 2 was folded (3 and 6), or in one checked with the key known (9).
    @Test("an entry whose signature fails under a key registered just before it is caught at its index",
          arguments: [1, 3, 6, 9])
    func badSignatureUnderNewKey(distance: Int) async throws {
        let log = try await TestLog.open()
        for i in 0..<5 { _ = try await log.register("early\(i)") }
        let key = try await log.register("late")
        for n in 0..<(distance - 1) { _ = try await log.ledger.submit(try TestLog.event("late", key: key, n)).get() }
        // An envelope of the registered key with the signature of another of its events: canonical, and wrong.
        let forged = try TestLog.event("late", key: key, 1_000)
        let other = try TestLog.event("late", key: key, 1_001)
        let input = Array(String(decoding: forged.leafInput, as: UTF8.self)
            .replacingOccurrences(of: Base64.encode(forged.signature), with: Base64.encode(other.signature)).utf8)
        #expect(input != forged.leafInput)
        let signer = log.ledger.signer
        await log.ledger.close()
        let index = try appendWithLogKey(input, eventID: forged.eventID, occurredAt: forged.occurredAt,
                                         to: log.directory.databasePath, signer: signer)
        #expect(index == UInt64(6 + distance))
        let failure = await auditFile(log.directory.databasePath, logKey: signer.verifier)
        #expect(failure?.index == index)
        #expect(failure?.reason.contains("signature") == true)
    }

    @Test("an event logged twice, by an operator holding the log's key, is caught at its second index", arguments: [3, 2048])
    func repeatedEvent(chunkSize: Int) async throws {
        let log = try await TestLog.open()
        let key = try await log.register("trader")
        for r in await log.ledger.submit(try (0..<13).map { try TestLog.event("trader", key: key, $0) }) { _ = try r.get() }
        let signer = log.ledger.signer
        await log.ledger.close()
        let path = copyDatabase(log.directory)
        // Entry 5's bytes logged again at the end, with chained hashes, tree nodes and a checkpoint signed by the
        // log's own key: everything but the event-key index (whose key is taken) is consistent.
        let old = try #require(try LogStore(readOnlyPath: path).read { try $0.entry(at: 5) })
        let envelope = try EventEnvelope.parse(old.leafInput)
        let size = try appendWithLogKey(old.leafInput, eventID: envelope.eventID, occurredAt: envelope.occurredAt, to: path, signer: signer)
        let failure = await #expect(throws: AuditFailure.self) {
            _ = try await LogAuditor(source: DatabaseAuditSource(path: path),
                                     options: AuditOptions(logKey: signer.verifier, chunkSize: chunkSize)).run()
        }
        #expect(failure?.index == size)
        #expect(failure?.reason.contains("already logged at index 5") == true, "\(String(describing: failure))")
    }

    @Test("the log-only audit passes an event only the custody rules refuse, and still refuses a key the log never registered")
    func logOnlyAudit() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("trader")
        let signer = log.ledger.signer
        await log.ledger.close()
        // The daemon's rules-off mode logs an event of a type the catalogue does not have (index 2).
        let lax = try Ledger(store: try LogStore(path: log.directory.databasePath), signer: signer, logger: Logger(label: "test"),
                             enforcesRules: false)
        _ = try await lax.submit(try EventEnvelope.sign(body: TestLog.body("parcel.teleport", signer: "trader"), with: key)).get()
        _ = try await lax.submit(try TestLog.event("trader", key: key)).get()
        await lax.close()
        func audit(_ path: String, custodyRules: Bool) async -> AuditFailure? {
            await auditFile(path, logKey: signer.verifier, custodyRules: custodyRules)
        }
        let full = await audit(log.directory.databasePath, custodyRules: true)
        #expect(full?.index == 2)
        #expect(full?.reason.contains("rules refuse") == true, "\(String(describing: full))")
        #expect(await audit(log.directory.databasePath, custodyRules: false) == nil)

        // An operator holding the log key appends an event signed by a key the registrar never registered, with
        // consistent hashes, tree and checkpoint: the log-only audit refuses it at its index.
        let path = copyDatabase(log.directory)
        let stranger = SigningKey.generate()
        let forged = try TestLog.event("trader", key: stranger, 1)
        let size = try appendWithLogKey(forged.leafInput, eventID: forged.eventID, occurredAt: forged.occurredAt, to: path, signer: signer)
        let failure = await audit(path, custodyRules: false)
        #expect(failure?.index == size)
        #expect(failure?.reason.contains("not registered") == true, "\(String(describing: failure))")
    }

    @Test("an entry stored in a non-canonical spelling is refused at its index, even with a valid signature, hashes, tree and checkpoint")
    func nonCanonicalEntry() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("trader")
        let signer = log.ledger.signer
        await log.ledger.close()
        // Both readers of stored envelopes: the positional one (plain ASCII) and the full parse (accented text).
        let plain = try TestLog.event("trader", key: key, 1)
        let accented = try EventEnvelope.sign(body: TestLog.body("site.register", signer: "trader", extra: [
            ("site", .string("S-trader-9")), ("name", .string("Mine de Société")), ("country", .string("BW")),
            ("region", .string("Southern")), ("latE6", .integer(-24_521_000)), ("lonE6", .integer(24_697_000)),
            ("kind", .string("industrial")), ("operator", .string("trader")),
        ]), with: key)
        for envelope in [plain, accented] {
            // The same signed body, stored with a space after `"body":`; an operator holding the log key appends it.
            let respaced = Array(#"{"body": "#.utf8) + envelope.leafInput.dropFirst(8)
            #expect(try EventEnvelope.parse(respaced).canonicalBody == envelope.canonicalBody)
            let path = copyDatabase(log.directory)
            let size = try appendWithLogKey(respaced, eventID: envelope.eventID, occurredAt: envelope.occurredAt, to: path, signer: signer)
            for rules in [true, false] {
                let failure = await auditFile(path, logKey: signer.verifier, custodyRules: rules)
                #expect(failure?.index == size)
                #expect(failure?.reason == "stored bytes are not in canonical form", "\(String(describing: failure))")
            }
        }
    }

    @Test("a truncated log is caught: by its checkpoint, or when the checkpoints are cut too, by an earlier one")
    func truncated() async throws {
        let f = try await TamperFixture.make()
        let cut = try await f.audit { $0.exec("DELETE FROM entries WHERE idx >= 30") }
        #expect(cut?.index == 30)
        // Cut back to the signed checkpoint of size 28 (entries, checkpoints and tree nodes): the shorter log
        // is self-consistent; only the derived state and the event-key index left behind, or an earlier
        // checkpoint, show the cut.
        let clean: (RawDatabase) -> Void = {
            $0.exec("DELETE FROM entries WHERE idx >= 28")
            $0.exec("DELETE FROM checkpoints WHERE tree_size > 28")
            $0.exec("DELETE FROM nodes WHERE ((id & 281474976710655) + 1) << (id >> 48) > 28")
        }
        let leftovers = try await f.audit(clean)
        #expect(leftovers?.reason.contains("event-key index has 41 rows for 28 entries") == true)
        let keysCutToo = try await f.audit {
            clean($0)
            $0.exec("DELETE FROM event_keys WHERE idx >= 28")
        }
        #expect(keysCutToo?.reason.contains("differs from the state the log's events derive") == true)
        let failure = try await f.audit(since: f.finalCheckpoint, clean)
        #expect(failure?.reason.contains("truncated") == true)
    }

    @Test("a changed, deleted or added row of the derived custody state or of the event-key index is caught, naming it")
    func derivedState() async throws {
        let f = try await TamperFixture.make()
        let changed = try await f.audit { $0.exec("UPDATE participants SET legal_name = legal_name || ' Ltd' WHERE id = (SELECT MAX(id) FROM participants)") }
        #expect(changed?.reason.contains("participants table differs") == true)
        let deleted = try await f.audit { $0.exec("DELETE FROM sites WHERE id = (SELECT MIN(id) FROM sites)") }
        #expect(deleted?.reason.contains("sites table differs") == true)
        let added = try await f.audit { $0.exec("INSERT INTO meta (key, value) VALUES ('zz', 'planted')") }
        #expect(added?.reason.contains("meta table differs") == true)
        // The index that finds repeats: a flipped byte of an id, a moved time.
        let flipped = try await f.audit { $0.flip("event_keys", "event_id", where: "idx = 9", byte: 4) }
        #expect(flipped?.reason.contains("event-key index differs") == true)
        let moved = try await f.audit { $0.exec("UPDATE event_keys SET occurred_ms = occurred_ms + 1 WHERE idx = 12") }
        #expect(moved?.reason.contains("event-key index differs") == true)
    }

    /// The audit compares the event-key index in two parts of the key range, cut at a sampled middle key,
    /// side by side: a change is caught in either part, and a key moved from one part into the other.
    @Test("the event-key index is compared whole across the two parts it is cut into: its first, middle and last keys, and a key moved across the cut")
    func eventKeysInParts() async throws {
        let f = try await TamperFixture.make()
        let order = "ORDER BY occurred_ms, event_id"
        for (label, pick) in [("first", "\(order) LIMIT 1"), ("middle", "\(order) LIMIT 1 OFFSET 20"),
                              ("last", "\(order) DESC LIMIT 1")] {
            let chosen = "idx = (SELECT idx FROM event_keys \(pick))"
            let flipped = try await f.audit { $0.flip("event_keys", "event_id", where: chosen, byte: 0) }
            #expect(flipped?.reason.contains("event-key index differs") == true, "\(label): \(String(describing: flipped))")
        }
        // The first key moved past the last: given a later time than any, and its own id (so no key collides).
        let moved = try await f.audit {
            $0.exec("""
                UPDATE event_keys SET occurred_ms = (SELECT MAX(occurred_ms) FROM event_keys) + 1
                WHERE idx = (SELECT idx FROM event_keys \(order) LIMIT 1)
                """)
        }
        #expect(moved?.reason.contains("event-key index differs") == true, "\(String(describing: moved))")
    }

    @Test("a flipped byte in a stored checkpoint is caught")
    func flippedCheckpoint() async throws {
        let f = try await TamperFixture.make()
        let latest = try await f.audit { db in
            db.exec("UPDATE checkpoints SET note = replace(note, '\n41\n', '\n40\n') WHERE tree_size = 41")
        }
        #expect(latest != nil)
        let older = try await f.audit { db in
            let note = String(decoding: db.blob("SELECT CAST(note AS BLOB) FROM checkpoints WHERE tree_size = 15"), as: UTF8.self)
            var lines = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[2] = Base64.encode(SHA256.hash(Array("forged".utf8)))
            db.exec("UPDATE checkpoints SET note = '\(lines.joined(separator: "\n"))' WHERE tree_size = 15")
        }
        #expect(older?.index == 14)
    }
}

/// Audits the database file at `path` with `logKey` pinned; the failure, or nil if the audit passed.
func auditFile(_ path: String, logKey: NoteVerifier, custodyRules: Bool = true) async -> AuditFailure? {
    var options = AuditOptions(logKey: logKey, chunkSize: 3)
    options.custodyRules = custodyRules
    do {
        _ = try await LogAuditor(source: DatabaseAuditSource(path: path), options: options).run()
        return nil
    } catch {
        return error as? AuditFailure
    }
}

/// What an operator holding the log key can do: appends `leafInput` as the next entry of the database at `path`,
/// with its event key (unless that key is taken), a chained hash, the tree's new nodes and a checkpoint signed by
/// `signer`. Returns its index.
func appendWithLogKey(_ leafInput: [UInt8], eventID: [UInt8], occurredAt: String, to path: String, signer: NoteSigner) throws -> UInt64 {
    try LogStore(path: path).write { txn in
        let size = try txn.treeSize()
        var frontier = try MerkleFrontier(size: size, reader: txn)
        let last = try #require(try txn.entry(at: size - 1))
        let leafHash = Merkle.leafHash(leafInput)
        try txn.insert(entry: LogEntry(index: size, leafInput: leafInput, leafHash: leafHash,
                                       chainHash: HashChain.next(previous: last.chainHash, leafHash: leafHash),
                                       loggedAtMillis: last.loggedAtMillis), eventID: eventID)
        _ = try txn.insertEventKey(eventID, occurredAt: RFC3339.millis(occurredAt)!, index: size)
        try txn.insert(nodes: frontier.append(leafHash: leafHash))
        try txn.insert(checkpointNote: try Checkpoint(origin: signer.name, size: size + 1, root: frontier.root).signed(by: signer),
                       size: size + 1)
        return size
    }
}
